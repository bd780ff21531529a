# needs: ddbgate
# timeout: 60
#
# `ddbgate diag` on a DAX cluster, end to end: TCP and TLS to the seed
# (verified against the cluster name), then in the http slot the DAX
# preamble and an `endpoints` request on that session, and for every node
# the discovery answer lists a TCP connect and a TLS handshake verified
# against the cluster name, as the DAX clients do.
# Client:   ddbgate diag -c CFG --endpoint dax147 (human, then --json), three
#           times: a good cluster; node 3 with another cluster's
#           certificate; the good cluster through an endpoint whose
#           allowed_cidrs leave node 3 out (dax147guard).
# Config:   resolver 127.0.6.147:5353 (never asked: the upstream is an
#           address); one endpoint per file, service dax-cluster, hosts
#           [orders.abc123.dax-clusters.us-east-1.amazonaws.com], upstream
#           127.0.6.1:9111, ca_file the DAX test CA:
#             dax147:      allowed_cidrs [127.0.6.0/29]
#             dax147guard: allowed_cidrs [127.0.6.1/32, 127.0.6.2/32]
# Upstream: daxnode.py, nodes 1-3 on 127.0.6.1-3:9111 (1 the leader), TLS
#           with a leaf for the cluster name from dax_pki.sh's CA, valid 90
#           days and made here (dax_pki.sh's own leaves are valid 30 days,
#           which diag rightly warns about); then the same with
#           --node-cert 3=dax-wrongname (a leaf from the same CA for
#           other.abc123.dax-clusters.us-east-1.amazonaws.com).
# Expect:   good: exit 0, tls and http PASS, the http line lists the three
#           nodes with their roles; JSON (validates against
#           docs/diag.schema.json): discovery ok, nodes 1-3 with address,
#           port, role, host name; every node connected and verified (SNI
#           and name = the cluster name); the node saw the preamble with the
#           user agent ddbgate-diag/VERSION and one `endpoints` request, no
#           authorizeConnection. Wrong name: exit 7, http FAIL naming node
#           127.0.6.3:9111 and "TLS certificate verification failed:
#           hostname mismatch", a hint naming the certificate's name and the
#           cluster name; JSON: node 3 verify_failed (code 62), name_match
#           false, nodes 1-2 ok. Guard: exit 7, node 3 "outside
#           allowed_cidrs, not contacted", and node 3 saw no connection.
. "$IT_DIR/diag_lib.sh"

CLUSTER=orders.abc123.dax-clusters.us-east-1.amazonaws.com
OTHER=other.abc123.dax-clusters.us-east-1.amazonaws.com
DAXPKI="$CASE_TMP/daxpki"
NODELOG="$CASE_TMP/daxnode.jsonl"
CLUSTER_RE='orders\.abc123\.dax-clusters\.us-east-1\.amazonaws\.com'

DAX_CLUSTER_NAME=$CLUSTER DAX_OTHER_NAME=$OTHER "$IT_DIR/dax_pki.sh" "$DAXPKI" ||
	fail "dax_pki.sh failed"
# a 90-day leaf for the cluster name from the DAX test CA
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DAXPKI/good90.key" 2>/dev/null ||
	fail "openssl genpkey failed"
openssl req -new -key "$DAXPKI/good90.key" -subj "/O=ddbgate tests/CN=$CLUSTER" -out "$DAXPKI/good90.csr" ||
	fail "openssl req failed"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' \
	"$CLUSTER" >"$DAXPKI/good90.ext"
openssl x509 -req -in "$DAXPKI/good90.csr" -CA "$DAXPKI/dax-ca.pem" -CAkey "$DAXPKI/dax-ca.key" \
	-set_serial "$((RANDOM * 32768 + RANDOM))" -days 90 -extfile "$DAXPKI/good90.ext" \
	-out "$DAXPKI/good90.pem" 2>"$CASE_TMP/x509.err" || fail "openssl x509 -req failed: $(cat "$CASE_TMP/x509.err")"

# dax_start [DAXNODE-ARGS...] — the three-node cluster on 127.0.6.1-3:9111
DAX_PID=""
dax_start() {
	start_bg "$CASE_TMP/daxnode" /usr/bin/python3 "$IT_DIR/daxnode.py" \
		--node 1=127.0.6.1:9111 --node 2=127.0.6.2:9111 --node 3=127.0.6.3:9111 \
		--cert "$DAXPKI/good90.pem" --key "$DAXPKI/good90.key" --log "$NODELOG" "$@"
	DAX_PID=$BG_PID
	local a
	for a in 127.0.6.1 127.0.6.2 127.0.6.3; do
		wait_port "$a" 9111 "$DAX_PID" || fail "daxnode.py did not listen on $a:9111"
	done
}
FAIL_SHOW+=("$NODELOG" "$CASE_TMP/daxnode.err")

cfg="$CASE_TMP/diag.yaml"
dax_endpoint() {
	cat <<YAML
  - name: $1
    service: dax-cluster
    hosts: [$CLUSTER]
    upstream: 127.0.6.1:9111
    ca_file: $DAXPKI/dax-ca.pem
    allowed_cidrs: [$2]
YAML
}
dax_endpoint dax147 127.0.6.0/29 | dg_conf "$cfg" 127.0.6.147:5353
# (a host belongs to one endpoint: the guarded twin has a file of its own)
cfg_guard="$CASE_TMP/diag-guard.yaml"
dax_endpoint dax147guard "127.0.6.1/32, 127.0.6.2/32" | dg_conf "$cfg_guard" 127.0.6.147:5353

step "a good cluster: discovery and every node verified"
dax_start
sleep 0.5 # wait_port's probes are logged before the mark
mark=$(log_mark "$NODELOG")
diag_run pass -c "$cfg" --endpoint dax147
expect_exit 0
expect_line "^endpoint dax147: $CLUSTER_RE:9111 \(dax-cluster\)$" \
	'^  PASS  tcp +[0-9]+ ms  1/1 connected: 127\.0\.6\.1:9111 ' \
	"^  PASS  tls +[0-9]+ ms  1/1 verified for $CLUSTER_RE " \
	"^  PASS  http +[0-9]+ ms  DAX endpoints on 127\.0\.6\.1:9111 \(TLS\): 3 nodes; 3/3 reachable and verified for $CLUSTER_RE: 127\.0\.6\.1:9111 leader, 127\.0\.6\.2:9111 replica, 127\.0\.6\.3:9111 replica$" \
	'^result: pass \(exit 0\)$'
[ "$(count_lines 'hint:')" = 0 ] || fail "a passing run must show no hint"
sleep 0.3 # the node's log lines of the closing connections
log_since "$NODELOG" "$mark" >"$CASE_TMP/pass.jsonl"
grep -q '"event": "preamble".*"user_agent": "ddbgate-diag/' "$CASE_TMP/pass.jsonl" ||
	fail "the node saw no preamble with diag's user agent"
[ "$(grep -c '"method": "endpoints"' "$CASE_TMP/pass.jsonl")" = 1 ] || fail "expected exactly one endpoints request"
grep -q '"event": "auth"' "$CASE_TMP/pass.jsonl" && fail "diag must send no authorizeConnection"
for n in 1 2 3; do
	grep -q "\"event\": \"tls_established\", \"node\": $n," "$CASE_TMP/pass.jsonl" ||
		fail "node $n saw no TLS handshake from diag"
done
grep -q '"event": "protocol_error"' "$CASE_TMP/pass.jsonl" && fail "the node logged a protocol error"

diag_json pass -c "$cfg" --endpoint dax147
expect_exit 0
dq 'd["status"] == "pass" and t("dax147")["service"] == "dax-cluster" and t("dax147")["port"] == 9111' "document head"
dq '[(x["step"], x["status"]) for x in t("dax147")["steps"]] == [("config", "pass"), ("dns", "skip"), ("tcp", "pass"), ("tls", "pass"), ("http", "pass")]' \
	"steps and verdicts"
dq 'hs("dax147")["sni"] == "'"$CLUSTER"'" and hs("dax147")["name_match"] and hs("dax147")["alpn"] is None' \
	"the seed: SNI and name are the cluster name; no ALPN offered to a DAX node"
dq 'ev("dax147", "http")["dax"]["seed"] == "127.0.6.1:9111" and ev("dax147", "http")["dax"]["transport"] == "tls"' "seed"
dq 'ev("dax147", "http")["dax"]["user_agent"].startswith("ddbgate-diag/")' "user agent"
dq 'ev("dax147", "http")["dax"]["discovery"]["result"] == "ok" and ev("dax147", "http")["dax"]["nodes_listed"] == 3' "discovery"
dq '[(n["node_id"], n["address"], n["port"], n["role"], n["hostname"]) for n in ev("dax147", "http")["dax"]["nodes"]] == [(1, "127.0.6.1", 9111, "leader", "node1.test"), (2, "127.0.6.2", 9111, "replica", "node2.test"), (3, "127.0.6.3", 9111, "replica", "node3.test")]' \
	"the nodes of the answer"
dq '[(c["address"], c["tcp"], c["tls"], c["result"], c["reason"]) for c in ev("dax147", "http")["dax"]["checks"]] == [("127.0.6.%d:9111" % i, "connected", "ok", "ok", None) for i in (1, 2, 3)]' \
	"every node connected and verified"
dq 'all(c["handshake"]["sni"] == "'"$CLUSTER"'" and c["handshake"]["verify"]["ok"] and c["handshake"]["name_match"] for c in ev("dax147", "http")["dax"]["checks"])' \
	"every node verified against the cluster name"
stop_pid "$DAX_PID"

step "node 3 presents another cluster's certificate"
dax_start --node-cert "3=$DAXPKI/dax-wrongname.pem,$DAXPKI/dax-wrongname.key"
diag_run wrongname -c "$cfg" --endpoint dax147
expect_exit 7
expect_line "^  PASS  tls +[0-9]+ ms  1/1 verified for $CLUSTER_RE " \
	'^  FAIL  http +[0-9]+ ms  DAX endpoints on 127\.0\.6\.1:9111 \(TLS\): 3 nodes; 2/3 reachable and verified; node 127\.0\.6\.3:9111: TLS certificate verification failed: hostname mismatch$' \
	"^        hint: node 127\.0\.6\.3:9111 presents a certificate for other\.abc123\.dax-clusters\.us-east-1\.amazonaws\.com, not the cluster name $CLUSTER_RE: DAX clients verify every node against the cluster name" \
	'^result: FAIL, first failing layer: http \(exit 7\)$'
diag_json wrongname -c "$cfg" --endpoint dax147
expect_exit 7
dq 'd["status"] == "fail" and s("dax147", "http")["status"] == "fail" and s("dax147", "tls")["status"] == "pass"' "verdicts"
dq '[c["result"] for c in ev("dax147", "http")["dax"]["checks"]] == ["ok", "ok", "fail"]' "only node 3 fails"
dq 'ev("dax147", "http")["dax"]["checks"][2]["tls"] == "verify_failed" and ev("dax147", "http")["dax"]["checks"][2]["handshake"]["verify"]["code"] == 62' \
	"node 3: X509_V_ERR_HOSTNAME_MISMATCH"
dq 'not ev("dax147", "http")["dax"]["checks"][2]["handshake"]["name_match"] and ev("dax147", "http")["dax"]["checks"][2]["handshake"]["chain"][0]["sans"] == ["'"$OTHER"'"]' \
	"node 3's certificate is for the other cluster"
dq '"node 127.0.6.3:9111" in s("dax147", "http")["hint"]' "the hint names node 3"
stop_pid "$DAX_PID"

step "a node outside allowed_cidrs is not contacted"
dax_start
sleep 0.5 # wait_port's probes are logged before the mark
mark=$(log_mark "$NODELOG")
diag_json guard -c "$cfg_guard" --endpoint dax147guard
expect_exit 7
dq '[(c["address"], c["allowed"], c["tcp"], c["result"]) for c in ev("dax147guard", "http")["dax"]["checks"]][2] == ("127.0.6.3:9111", False, "not_contacted", "not_contacted")' \
	"node 3 not contacted"
dq 's("dax147guard", "http")["summary"].endswith("node 127.0.6.3:9111: outside allowed_cidrs, not contacted")' "summary"
dq '"outside allowed_cidrs [127.0.6.1/32, 127.0.6.2/32] of endpoint dax147guard" in s("dax147guard", "http")["hint"]' "hint"
sleep 0.3
log_since "$NODELOG" "$mark" | grep -q '"event": "connect", "node": 3,' && fail "node 3 was contacted"
stop_pid "$DAX_PID"
exit 0
