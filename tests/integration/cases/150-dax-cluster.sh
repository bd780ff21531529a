# needs: ddbgate
# timeout: 150
#
# DAX data plane: the real DAX SDK for JavaScript through a dax listener to a
# three-node DAX test cluster, every node behind TLS for the cluster name.
# Client:   node dax_client.js (@amazon-dax-sdk/client-dax 3.1.0), endpoint
#           daxs://$CL:9111 with the name resolved to the gateway
#           (127.0.1.150), NODE_EXTRA_CA_CERTS = the gateway CA (it mints the
#           cluster name's certificate: the client sends no SNI).
# Config:   case-local ddbgate, workers 2: listeners
#             {127.0.1.150:9111, mode dax, endpoint dax150, node_ports 9112-9117}
#             {127.0.1.150:8111, mode dax, tls false, endpoint dax150,
#              node_ports 8112-8117}   (dax:// clients, TLS to the nodes)
#           endpoint dax150: service dax-cluster, hosts [$CL], upstream
#             127.0.10.1:9111, ca_file = the DAX test CA, policy.json;
#           principals: AKIDDAX150READER0001 -> role/reader.
#           policy.json: Allow (Sid Reads) GetItem, Query; Allow (Sid
#           SimpleWrites) PutItem when ddbgate:TableName = simple; Deny (Sid
#           NoDeletes) DeleteItem.
# Upstream: daxnode.py: nodes 1-3 on 127.0.10.1-3:9111 (TLS, dax-node.pem),
#           tables orders (pk, sk) and simple (id); later node 3 with a
#           certificate for another cluster name.
# Expect:   (a) put simple, get, query allowed; put orders and delete denied
#               with err.code AccessDeniedException, the message naming the
#               action, the cluster ARN and the table; the connection stays
#               usable (the next call succeeds); the denied calls never reach
#               a node; audit lines: decision, statement, principal, cluster
#               ARN; no item data in any log.
#           (b) discovery rewritten: the client dialled only 127.0.1.150
#               (9111 and >= 3 node ports); the nodes served every data
#               request the gateway relayed to them (node-side counts per node
#               equal the gateway's audit counts per upstreamAddress) and
#               requests spread over all three nodes.
#           (c) dax:// on the plain listener works (TLS to the nodes).
#           (c2) the nodes' topology changes ([1,2], [1,2,3], [1,3], SIGHUP to
#               daxnode.py): fresh clients are sent to exactly the nodes of
#               the current answer.
#           (c3) SIGHUP to the gateway with a policy that no longer allows
#               PutItem on simple: a connection that had puts allowed gets
#               later puts denied (the relay takes the new snapshot between
#               frames).
#           (d) node 3 presents a wrong-name certificate: the gateway refuses
#               it (hostname mismatch logged), node 3 serves nothing, the
#               client still gets answers from nodes 1-2.
#           (e) a raw client sending an unknown method id, malformed CBOR,
#               or a defineKeySchema of a 300-byte table, is disconnected with a log line naming why; nothing of
#               it reaches a node.
#           (f) SIGTERM while a client is busy: the gateway exits 0 within
#               10 s, every request it accepted got its answer (no 499).
IP=127.0.1.150
CL=orders.abc123.dax-clusters.us-east-1.amazonaws.com
ARN=arn:aws:dax:us-east-1:111122223333:cache/orders
READER=arn:aws:iam::111122223333:role/reader
AK=AKIDDAX150READER0001
N1=127.0.10.1 N2=127.0.10.2 N3=127.0.10.3
NODES="$CASE_TMP/nodes.jsonl"
MARK="SECRET-ITEM-VALUE-dax-$(unique)"

[ -d "$REPO/tests/node_modules/@amazon-dax-sdk/client-dax" ] ||
	fail "tests/node_modules has no @amazon-dax-sdk/client-dax (npm ci in tests/)"
"$IT_DIR/dax_pki.sh" "$CASE_TMP/dax" >"$CASE_TMP/dax-pki.log" 2>&1 ||
	fail "dax_pki.sh: $(tail -n 5 "$CASE_TMP/dax-pki.log")"

# nodes_start [ARGS...] — the three-node test cluster (log $NODES).
nodes_start() {
	: >"$NODES"
	start_bg "$CASE_TMP/daxnode" /usr/bin/python3 "$IT_DIR/daxnode.py" --log "$NODES" \
		--node "1=$N1:9111" --node "2=$N2:9111" --node "3=$N3:9111" \
		--cert "$CASE_TMP/dax/dax-node.pem" --key "$CASE_TMP/dax/dax-node.key" \
		--table orders=pk:S,sk:S --table simple=id "$@"
	NODES_PID=$BG_PID
	FAIL_SHOW+=("$CASE_TMP/daxnode.err")
	wait_port $N3 9111 "$NODES_PID" || fail "daxnode.py did not listen: $(tail -n 5 "$CASE_TMP/daxnode.err")"
}

# dax_client URL OUT OP... — the SDK through the gateway; JSON lines in OUT.
dax_client() {
	local url=$1 out=$2
	shift 2
	NODE_EXTRA_CA_CERTS="$CGW_CA" timeout 90 node "$IT_DIR/dax_client.js" --endpoint "$url" \
		--resolve "$CL=$IP" --region us-east-1 --access-key-id $AK \
		--secret-access-key dax-test-secret --connect-timeout 2000 --request-timeout 4000 \
		"$@" >"$out" 2>"$out.err" || fail "dax_client.js exited $?: $(tail -n 5 "$out.err")"
	sed 's/^/  client: /' "$out" | cut -c1-300
}

# jq_check FILE EXPR WHAT — EXPR over the JSON lines of FILE (L).
jq_check() {
	/usr/bin/python3 - "$1" "$2" <<'PY' || fail "$3"
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ops = [d for d in L if "op" in d]
conns = [c for d in L if "connections" in d for c in d["connections"]]
nodes = lambda **kw: [d for d in L if all(d.get(k) == v for k, v in kw.items())]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

cat >"$CASE_TMP/policy.json" <<JSON
{ "Version": "2012-10-17",
  "Statement": [
    { "Sid": "Reads", "Effect": "Allow", "Principal": { "AWS": "$READER" },
      "Action": ["dax:GetItem", "dax:Query"], "Resource": "$ARN" },
    { "Sid": "SimpleWrites", "Effect": "Allow", "Principal": "*",
      "Action": "dax:PutItem", "Resource": "$ARN",
      "Condition": { "StringEquals": { "ddbgate:TableName": "simple" } } },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dax:DeleteItem", "Resource": "*" } ] }
JSON
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
account: "111122223333"
workers: 2
listeners:
  - address: $IP:9111
    mode: dax
    endpoint: dax150
    node_ports: 9112-9117
  - address: $IP:8111
    mode: dax
    tls: false
    endpoint: dax150
    node_ports: 8112-8117
principals:
  - access_key_id: $AK
    arn: $READER
endpoints:
  - name: dax150
    service: dax-cluster
    hosts: [$CL]
    upstream: $N1:9111
    ca_file: $CASE_TMP/dax/dax-ca.pem
    allowed_cidrs: [127.0.0.0/8]
    policy: $CASE_TMP/policy.json
YAML
} >"$cfg"
cgw_ca "$cfg"
nodes_start
cgw_start $IP "$cfg" 9111

step "(a) allowed and denied calls on one client"
amark=$(cgw_audit_mark)
K_A='{"pk":{"S":"h1"},"sk":{"S":"a"}}'
dax_client "daxs://$CL:9111" "$CASE_TMP/a.out" \
	put simple "{\"id\":{\"S\":\"k1\"},\"v\":{\"S\":\"$MARK\"}}" \
	put orders "{\"pk\":{\"S\":\"h1\"},\"sk\":{\"S\":\"a\"},\"v\":{\"S\":\"$MARK\"}}" \
	get simple '{"id":{"S":"k1"}}' \
	delete simple '{"id":{"S":"k1"}}' \
	query orders pk '{"S":"h1"}' \
	get orders "$K_A"
jq_check "$CASE_TMP/a.out" "[d['ok'] for d in ops] == [True, False, True, False, True, True]" \
	"allowed/denied pattern is not put ok, put denied, get ok, delete denied, query ok, get ok"
jq_check "$CASE_TMP/a.out" "ops[2]['item']['v']['S'].startswith('SECRET-ITEM-VALUE-dax')" \
	"the allowed GetItem did not return the item put through the gateway"
jq_check "$CASE_TMP/a.out" "ops[1]['code'] == 'AccessDeniedException' and ops[3]['code'] == 'AccessDeniedException'" \
	"a denial did not surface as err.code AccessDeniedException"
jq_check "$CASE_TMP/a.out" "'dax:PutItem on resource: $ARN (table orders)' in ops[1]['message'] and 'because no VPC endpoint policy allows' in ops[1]['message']" \
	"the PutItem denial does not name action, cluster ARN and table"
jq_check "$CASE_TMP/a.out" "'dax:DeleteItem' in ops[3]['message'] and 'explicit deny' in ops[3]['message']" \
	"the DeleteItem denial does not say explicit deny"
jq_check "$NODES" "not nodes(event='request', method='DeleteItem') and not nodes(event='request', method='PutItem', table='orders')" \
	"a denied request reached a node"
jq_check "$NODES" "len(nodes(event='request', method='PutItem', table='simple')) == 1" \
	"the allowed PutItem did not reach a node exactly once"
cgw_audit_expect "$amark" "d.get('eventName') == 'PutItem' and d.get('decision') == 'deny'" "no audit line for the denied PutItem"
cgw_audit_check "d['principal'] == '$READER' and d['accessKeyId'] == '$AK' and d['resources'] == [{'action': 'dax:PutItem', 'ARN': '$ARN'}] and d['eventSource'] == 'dax.amazonaws.com' and 'upstreamAddress' not in d and d['status'] == 400" \
	"the denied PutItem's audit line"
cgw_audit_expect "$amark" "d.get('eventName') == 'DeleteItem'" "no audit line for the denied DeleteItem"
cgw_audit_check "d['decision'] == 'deny' and d['decidingStatement'] == 'NoDeletes'" "the DeleteItem audit line"
cgw_audit_expect "$amark" "d.get('eventName') == 'Query' and d.get('decision') == 'allow'" "no audit line for the Query"
cgw_audit_check "d['decidingStatement'] == 'Reads' and d['status'] == 200 and d['upstreamAddress'].startswith('127.0.10.')" "the Query audit line"
grep -q 'target="DAX PutItem orders" status=400' "$LGW_OUT" || fail "no access-log line for the denied PutItem on orders"

step "(b) discovery rewritten: every connection through the gateway"
amark=$(cgw_audit_mark)
nmark=$(log_mark "$NODES")
dax_client "daxs://$CL:9111" "$CASE_TMP/b.out" --duration-ms 9000 --interval-ms 30 --quiet-ok \
	get simple '{"id":{"S":"k1"}}' get orders "$K_A"
jq_check "$CASE_TMP/b.out" "[d for d in L if 'summary' in d][0]['summary']['ok'] == [d for d in L if 'summary' in d][0]['summary']['ops'] > 50" \
	"not every GetItem succeeded"
jq_check "$CASE_TMP/b.out" "conns and all(c.startswith('$IP:') for c in conns)" \
	"the client dialled an address that is not the gateway: $(grep connections "$CASE_TMP/b.out")"
jq_check "$CASE_TMP/b.out" "len({c for c in conns if c != '$IP:9111'}) >= 3 and all(9112 <= int(c.split(':')[1]) <= 9117 for c in conns if c != '$IP:9111')" \
	"the client did not connect to three node ports of the gateway"
logs_settle
log_since "$NODES" "$nmark" >"$CASE_TMP/nodes-b.jsonl"
/usr/bin/python3 - "$CASE_TMP/nodes-b.jsonl" "$CGW_AUDIT" "$amark" <<'PY' || fail "node-side counts do not match the gateway's relayed requests"
import collections, json, sys
served = collections.Counter()
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("event") == "request" and d.get("method") == "GetItem":
        served["127.0.10.%d:9111" % d["node"]] += 1
relayed = collections.Counter()
for l in open(sys.argv[2]).read().splitlines()[int(sys.argv[3]):]:
    d = json.loads(l)
    if d.get("eventName") == "GetItem" and d.get("decision") == "allow":
        relayed[d["upstreamAddress"]] += 1
print("served by the nodes:", dict(served))
print("relayed by the gateway:", dict(relayed))
sys.exit(0 if served == relayed and len(served) == 3 else 1)
PY
jq_check "$CASE_TMP/nodes-b.jsonl" "len(nodes(event='request', method='endpoints')) >= 2" \
	"the nodes saw fewer than two discovery calls"

step "(c) dax:// to the plain listener, TLS to the nodes"
dax_client "dax://$CL:8111" "$CASE_TMP/c.out" get simple '{"id":{"S":"k1"}}' put orders "$K_A"
jq_check "$CASE_TMP/c.out" "ops[0]['ok'] and ops[0]['item']['id']['S'] == 'k1' and ops[1]['code'] == 'AccessDeniedException'" \
	"dax:// through the plain listener"
jq_check "$CASE_TMP/c.out" "conns and all(c.startswith('$IP:81') for c in conns)" "the dax:// client left the gateway"

step "(c2) discovery follows the cluster: nodes added and removed"
kill -TERM "$NODES_PID"
wait "$NODES_PID" 2>/dev/null
echo '[1, 2]' >"$CASE_TMP/topology.json"
nodes_start --topology "$CASE_TMP/topology.json"
served_by() { # FILE-MARK NODE: GetItems node NODE served since the mark
	log_since "$NODES" "$1" | grep '"event": "request"' | grep '"method": "GetItem"' | grep -c "\"node\": $2[,}]"
}
for phase in "1, 2:3" "1, 2, 3:" "1, 3:2"; do
	echo "[${phase%%:*}]" >"$CASE_TMP/topology.json"
	kill -HUP "$NODES_PID"
	sleep 0.3
	nmark=$(log_mark "$NODES")
	dax_client "daxs://$CL:9111" "$CASE_TMP/c2.out" --duration-ms 4000 --interval-ms 20 --quiet-ok \
		get simple '{"id":{"S":"k1"}}'
	jq_check "$CASE_TMP/c2.out" "[d for d in L if 'summary' in d][0]['summary']['ok'] > 20" \
		"topology [${phase%%:*}]: the client got no answers"
	logs_settle
	for n in 1 2 3; do
		c=$(served_by "$nmark" $n)
		echo "topology [${phase%%:*}]: node $n served $c GetItem(s)"
		case ",${phase#*:}," in
		*",$n,"*) [ "$c" = 0 ] || fail "node $n is out of the topology but served $c requests" ;;
		*) [ "$c" -gt 0 ] || fail "node $n is in the topology [${phase%%:*}] but served nothing" ;;
		esac
	done
done

step "(c3) a reload's new policy applies to open connections"
amark=$(cgw_audit_mark)
dax_client "daxs://$CL:9111" "$CASE_TMP/c3.out" --duration-ms 5000 --interval-ms 50 \
	put simple '{"id":{"S":"k2"}}' &
cpid=$!
sleep 2
sed -i 's/"ddbgate:TableName": "simple"/"ddbgate:TableName": "none"/' "$CASE_TMP/policy.json"
emark=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
wait_log "$LGW_ERR" "$emark" "reloaded: serving generation 2" 50 || fail "the gateway did not reload"
wait "$cpid" || fail "the client of the reload step failed"
jq_check "$CASE_TMP/c3.out" "ops[0]['ok'] and ops[-1].get('code') == 'AccessDeniedException'" \
	"puts were not allowed before the reload and denied after it"
logs_settle
/usr/bin/python3 - "$CGW_AUDIT" "$amark" <<'PY' || fail "no connection saw the policy change"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]]
puts = [d for d in lines if d.get("eventName") == "PutItem"]
before = {d["sourceIPAddress"] for d in puts if d["decision"] == "allow"}
after = {d["sourceIPAddress"] for d in puts if d["decision"] == "deny"}
print("connections allowed before:", sorted(before), "denied after:", sorted(after))
sys.exit(0 if before & after else 1)
PY

step "(d) a node with a certificate for another name is refused"
kill -TERM "$NODES_PID"
wait "$NODES_PID" 2>/dev/null
nodes_start --node-cert "3=$CASE_TMP/dax/dax-wrongname.pem,$CASE_TMP/dax/dax-wrongname.key"
emark=$(log_mark "$LGW_ERR")
dax_client "daxs://$CL:9111" "$CASE_TMP/d.out" --duration-ms 7000 --interval-ms 50 --quiet-ok \
	get simple '{"id":{"S":"k1"}}'
jq_check "$CASE_TMP/d.out" "[d for d in L if 'summary' in d][0]['summary']['ok'] > 20" \
	"the client got no answers with node 3 refused"
jq_check "$NODES" "not nodes(event='request', node=3)" "node 3 (wrong name) served a request"
log_since "$LGW_ERR" "$emark" | grep -q "upstream TLS certificate verification for $CL at $N3:9111 failed: .*hostname mismatch" ||
	fail "no log line naming node 3's hostname mismatch"

step "(e) frames that cannot be bounded close the connection"
nmark=$(log_mark "$NODES")
emark=$(log_mark "$LGW_ERR")
/usr/bin/python3 - "$IP" "$CGW_CA" "$CL" <<'PY' || fail "raw DAX client"
import socket, ssl, sys
ip, ca, name = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
def attempt(payload, what):
    with socket.create_connection((ip, 9111), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            s.sendall(payload)
            s.settimeout(5)
            try:
                data = s.recv(100)
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            print(what, "->", "closed" if not data else data.hex())
            return data == b""
pre = b"\x67J7yne5G\x00\xf6\xa1\x69UserAgent\x64test\x00"
ok = attempt(pre + b"\x01\x1a\x12\x34\x56\x78", "unknown method")
ok &= attempt(pre + b"\x01\x1a\x0f\xb0\xcc\x6a\x5c", "reserved additional information")
ok &= attempt(pre + b"\x01\x3a\x2c\x43\xe2\x7e\x59\x01\x2c" + b"t" * 300, "defineKeySchema of a 300-byte table")
sys.exit(0 if ok else 1)
PY
wait_log "$LGW_ERR" "$emark" "unknown method id 305419896" 30 || fail "no log line for the unknown method"
log_since "$LGW_ERR" "$emark" | grep -q "malformed CBOR in GetItem: reserved additional information" ||
	fail "no log line for the malformed frame"
log_since "$LGW_ERR" "$emark" | grep -q "DAX connection closed: defineKeySchema: a table name longer than 255 bytes" ||
	fail "no log line for the defineKeySchema that cannot be taken"
logs_settle
[ "$(log_since "$NODES" "$nmark" | grep -c '"event": "request"')" = 0 ] || fail "a refused frame reached a node"

cgw_expect_no_item_data

step "(f) SIGTERM drains busy DAX connections"
amark=$(cgw_audit_mark)
NODE_EXTRA_CA_CERTS="$CGW_CA" timeout 60 node "$IT_DIR/dax_client.js" --endpoint "daxs://$CL:9111" \
	--resolve "$CL=$IP" --region us-east-1 --access-key-id $AK --secret-access-key dax-test-secret \
	--connect-timeout 1000 --request-timeout 2000 --duration-ms 4000 --interval-ms 10 --quiet-ok \
	get simple '{"id":{"S":"k1"}}' >"$CASE_TMP/f.out" 2>&1 &
cpid=$!
sleep 1.5
lgw_stop
wait "$cpid"
logs_settle
n=$(_jsonl_scan "$CGW_AUDIT" count "$amark" "d.get('eventName') == 'GetItem' and d.get('status') == 200")
bad=$(_jsonl_scan "$CGW_AUDIT" count "$amark" "d.get('status') != 200")
echo "during the drain: $n GetItem(s) answered, $bad other audit line(s)"
[ "$n" -gt 10 ] || fail "too few GetItems before the drain ($n)"
[ "$bad" = 0 ] || fail "requests were cut by the drain: $(log_since "$CGW_AUDIT" "$amark" | grep -v '"status":200' | head -3)"
