#!/bin/bash
# dax_selftest.sh — check the DAX test tooling itself (daxnode.py, dax_client.js,
# dax_pki.sh) with the real DAX SDK for JavaScript.  Not an integration case:
# run it by hand, as any user:
#
#   tests/integration/dax_selftest.sh          (DAX_SELFTEST_KEEP=1 keeps its directory)
#
# It uses 127.0.9.1-127.0.9.3 port 9111 (TLS) and 127.0.9.1 port 8111 (plain),
# runs `npm ci` in tests/ when the SDK is missing, and prints one line per check
# (`ok - ...` / `not ok - ...`) and a last line `N passed, N failed`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
CLUSTER=orders.abc123.dax-clusters.us-east-1.amazonaws.com
N1=127.0.9.1 N2=127.0.9.2 N3=127.0.9.3 PORT=9111
T=$(mktemp -d /tmp/dax-selftest.XXXXXX)
pass=0 fail=0 pid=
SECONDS=0

cleanup() {
	stop_nodes
	if [ "${DAX_SELFTEST_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() {
	fail=$((fail + 1)); echo "not ok - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/#   /' "$2" | tail -20
	return 0
}

# check DESC FILE EXPR — EXPR (Python) over the JSON lines of FILE as `L`
# (a list of objects); helpers: ev(name) = events of that name, reqs(**kw) =
# request events matching kw, out(op) = client result lines of that op.
check() {
	if "$PY" - "$2" "$3" <<'PYEOF'; then ok "$1"; else notok "$1" "$2"; fi
import json, sys
L = []
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line.startswith("{"):
            L.append(json.loads(line))
ev = lambda name: [r for r in L if r.get("event") == name]
reqs = lambda **kw: [r for r in L if r.get("event") == "request" and all(r.get(k) == v for k, v in kw.items())]
out = lambda op: [r for r in L if r.get("op") == op]
last = lambda key: [r[key] for r in L if key in r][-1]
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
}

# expect_rc OUTFILE STATUS DESC — the exit status client() recorded
expect_rc() {
	if [ "$(cat "$1.rc")" = "$2" ]; then ok "$3"; else notok "$3 (exit $(cat "$1.rc"))" "$1.err"; fi
}

# start_nodes LOG ARGS... — daxnode.py in the background; waits for its start line
start_nodes() {
	local log=$1
	shift
	: > "$log"
	"$PY" "$here/daxnode.py" --log "$log" --pidfile "$T/node.pid" --table orders=pk:S,sk:S \
		--table simple=id "$@" </dev/null >"$T/node.err" 2>&1 &
	pid=$!
	local _
	for _ in $(seq 50); do
		grep -q '"event": "start"' "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "# daxnode.py did not start:"; sed 's/^/#   /' "$T/node.err"
	return 1
}

stop_nodes() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	local _
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { echo "# daxnode.py ignored SIGTERM"; kill -KILL "$pid"; }
	wait "$pid" 2>/dev/null
	pid=
}

# client SEED_IP OUTFILE ARGS... — dax_client.js against daxs://CLUSTER:9111
client() {
	local seed=$1 outf=$2
	shift 2
	NODE_EXTRA_CA_CERTS=$T/pki/dax-ca.pem AWS_EC2_METADATA_DISABLED=true \
		timeout 90 node "$here/dax_client.js" --endpoint "daxs://$CLUSTER:$PORT" \
		--resolve "$CLUSTER=$seed" --region us-east-1 --access-key-id AKIDSELFTEST \
		--secret-access-key selftest-secret --connect-timeout 2000 --request-timeout 3000 \
		"$@" >"$outf" 2>"$outf.err"
	echo $? >"$outf.rc"
}

NODES=(--node "1=$N1:$PORT" --node "2=$N2:$PORT" --node "3=$N3:$PORT")
K_A='{"pk":{"S":"h1"},"sk":{"S":"a"}}'
K_B='{"pk":{"S":"h1"},"sk":{"S":"b"}}'

# ---------------------------------------------------------------- setup
if [ ! -d "$root/tests/node_modules/@amazon-dax-sdk/client-dax" ]; then
	(cd "$root/tests" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
		{ notok "npm ci" "$T/npm.log"; exit 1; }
fi
if "$here/dax_pki.sh" "$T/pki" >"$T/pki.log" 2>&1; then ok "dax_pki.sh"; else notok "dax_pki.sh" "$T/pki.log"; exit 1; fi

# ------------------------------------------- cluster A: three good nodes
echo '[1, 2, 3]' > "$T/topology.json"
start_nodes "$T/a.log" "${NODES[@]}" --cert "$T/pki/dax-node.pem" --key "$T/pki/dax-node.key" \
	--topology "$T/topology.json" || exit 1

client "$N1" "$T/crud.out" \
	put orders '{"pk":{"S":"h1"},"sk":{"S":"a"},"v":{"S":"SECRET-MARKER-1"},"n":{"N":"42"}}' \
	put orders '{"pk":{"S":"h1"},"sk":{"S":"b"},"v":{"S":"SECRET-MARKER-2"},"bin":{"B":"AAEC"}}' \
	put simple '{"id":{"S":"k1"}}' \
	get orders "$K_A" \
	get orders '{"pk":{"S":"h1"},"sk":{"S":"zz"}}' \
	get simple '{"id":{"S":"k1"}}' \
	query orders pk '{"S":"h1"}' \
	query orders pk '{"S":"nothing"}' \
	delete orders "$K_A" \
	get orders "$K_A" \
	get nosuchtable '{"pk":{"S":"x"}}'
expect_rc "$T/crud.out" 0 "client exit status 0"
check "put x3 ok" "$T/crud.out" 'len(out("put")) == 3 and all(r["ok"] for r in out("put"))'
check "get returns the item put (S, N, key attributes)" "$T/crud.out" \
	'out("get")[0]["item"] == {"n": {"N": "42"}, "pk": {"S": "h1"}, "sk": {"S": "a"}, "v": {"S": "SECRET-MARKER-1"}}'
check "get of a missing item: ok, no item" "$T/crud.out" 'out("get")[1] == {"op": "get", "ok": True, "item": None}'
check "get from a hash-only table" "$T/crud.out" 'out("get")[2]["item"] == {"id": {"S": "k1"}}'
check "query returns both items of the hash key, in range order (B as base64)" "$T/crud.out" \
	'out("query")[0]["count"] == 2 and [i["sk"]["S"] for i in out("query")[0]["items"]] == ["a", "b"] and out("query")[0]["items"][1]["bin"] == {"B": "AAEC"}'
check "query with no match: count 0" "$T/crud.out" 'out("query")[1]["count"] == 0 and out("query")[1]["items"] == []'
check "delete, then get: no item" "$T/crud.out" 'out("delete")[0]["ok"] and out("get")[3]["item"] is None'
check "unknown table: err.code ResourceNotFoundException" "$T/crud.out" \
	'out("get")[4]["ok"] is False and out("get")[4]["code"] == "ResourceNotFoundException"'
check "client only dialled node addresses" "$T/crud.out" \
	'set(last("connections")) <= {"'$N1:$PORT'", "'$N2:$PORT'", "'$N3:$PORT'"} and "'$N1:$PORT'" in last("connections")'
check "client resolved only the cluster name" "$T/crud.out" 'last("dns") == ["'$CLUSTER'"]'
check "node log: preamble, auth with the access key id, user agent" "$T/a.log" \
	'ev("preamble")[0]["user_agent"] == "DaxJSV3Client-3.1.0" and all(r["access_key_id"] == "AKIDSELFTEST" for r in ev("auth"))'
check "node log: every request carries the access key id" "$T/a.log" \
	'all(r["access_key_id"] == "AKIDSELFTEST" for r in ev("request"))'
# Writes go to the leader once the client's routes are up; the first one may
# go to any node (the router falls back to any node while no leader route is
# ready), so this only checks that the leader took writes.
check "node log: the leader (node 1) took writes" "$T/a.log" \
	'reqs(method="PutItem", node=1) or reqs(method="DeleteItem", node=1)'

: > "$T/a.log"
client "$N1" "$T/spread.out" --quiet-ok --duration-ms 3000 --interval-ms 10 get orders "$K_B"
check "3 s of GetItem: all ok" "$T/spread.out" 'last("summary")["ops"] > 50 and last("summary")["ops"] == last("summary")["ok"]'
check "GetItem spread over the three nodes" "$T/a.log" \
	'all(len(reqs(method="GetItem", node=n)) >= 5 for n in (1, 2, 3))'
check "client dialled exactly the three node addresses" "$T/spread.out" \
	'sorted(last("connections")) == ["'$N1:$PORT'", "'$N2:$PORT'", "'$N3:$PORT'"]'

# Topology: node 3 leaves the endpoints answer (SIGHUP) while a client runs.
: > "$T/a.log"
(sleep 2; echo '[1, 2]' > "$T/topology.json"; kill -HUP "$pid") &
hup=$!
client "$N1" "$T/topo.out" --quiet-ok --duration-ms 9000 --interval-ms 10 get orders "$K_B"
wait "$hup"
check "topology change: all GetItem ok" "$T/topo.out" 'last("summary")["ops"] == last("summary")["ok"]'
# The client refreshes the endpoints about every 4 s: node 3 must be out of
# its routes within 4.5 s of the SIGHUP while nodes 1 and 2 go on serving.
check "topology change: node 3 served before, nothing 4.5 s after the SIGHUP" "$T/a.log" \
	'reqs(method="GetItem", node=3) and ev("topology")[-1]["nodes"] == [1, 2] and max(r["ts"] for r in reqs(method="GetItem", node=3)) < ev("topology")[-1]["ts"] + 4.5 and max(r["ts"] for r in reqs(method="GetItem", node=1)) > ev("topology")[-1]["ts"] + 5.5'

# Strictness: an unknown method id closes the connection, logged.
"$PY" - "$T/pki/dax-ca.pem" "$CLUSTER" "$N2" "$PORT" >"$T/raw.out" 2>&1 <<'PYEOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection((sys.argv[3], int(sys.argv[4])), timeout=5), server_hostname=sys.argv[2])
# preamble: "J7yne5G", 0, null, {"UserAgent": "raw"}, 0 ; then service 1, method 12345
s.sendall(bytes.fromhex("674a37796e65354700f6a169557365724167656e7463726177 00".replace(" ", "")) + bytes.fromhex("01193039"))
print("eof" if s.recv(100) == b"" else "data")
PYEOF
if grep -qx eof "$T/raw.out"; then ok "unknown method: connection closed without an answer"
else notok "unknown method: connection closed without an answer" "$T/raw.out"; fi
check "unknown method: protocol_error logged" "$T/a.log" \
	'any(r["reason"] == "unknown method id 12345" and r["node"] == 2 for r in ev("protocol_error"))'

stop_nodes
if grep -q 'SECRET-MARKER\|U0VDUkVU' "$T/a.log" "$T/crud.out.err"; then
	notok "item values leaked into the node log"
else ok "no item value in the node log"; fi
check "clean shutdown on SIGTERM (stop event)" "$T/a.log" 'ev("stop")'

# --------------------------------- cluster B: node 3 has a wrong-name cert
start_nodes "$T/b.log" "${NODES[@]}" --cert "$T/pki/dax-node.pem" --key "$T/pki/dax-node.key" \
	--node-cert "3=$T/pki/dax-wrongname.pem,$T/pki/dax-wrongname.key" || exit 1
client "$N1" "$T/wrong.out" --quiet-ok --duration-ms 3000 --interval-ms 10 get orders "$K_B"
check "wrong-name node: requests still succeed (on nodes 1 and 2)" "$T/wrong.out" \
	'last("summary")["ops"] > 50 and last("summary")["ops"] == last("summary")["ok"]'
check "wrong-name node: client dialled node 3, TLS refused there, no request reached it" "$T/b.log" \
	'ev("tls_error") and {r["node"] for r in ev("tls_error")} == {3} and not [r for r in ev("request") if r["node"] == 3] and reqs(method="GetItem", node=1) and reqs(method="GetItem", node=2)'
check "wrong-name node: node 3 among the dialled addresses" "$T/wrong.out" '"'$N3:$PORT'" in last("connections")'
: > "$T/b.log"
client "$N3" "$T/wrongseed.out" get orders "$K_B"
expect_rc "$T/wrongseed.out" 0 "wrong-name seed: client exit status 0 (the failure is reported)"
check "wrong-name seed: the operation fails (NoRouteException)" "$T/wrongseed.out" \
	'out("get")[0]["ok"] is False and out("get")[0]["code"] == "NoRouteException"'
check "wrong-name seed: only the seed dialled, no request served" "$T/wrongseed.out" \
	'last("connections") == ["'$N3:$PORT'"]'
check "wrong-name seed: node log has no request" "$T/b.log" 'ev("tls_error") and not ev("request")'
stop_nodes

# ------------------------------------------ cluster C: plain dax://, one node
start_nodes "$T/c.log" --node "1=$N1:8111" --plain || exit 1
NODE_EXTRA_CA_CERTS=/dev/null timeout 60 node "$here/dax_client.js" --endpoint "dax://$CLUSTER:8111" \
	--resolve "$CLUSTER=$N1" --region us-east-1 --access-key-id AKIDPLAIN --secret-access-key s \
	--session-token TOKEN put simple '{"id":{"S":"p1"},"x":{"N":"1.5"}}' get simple '{"id":{"S":"p1"}}' \
	>"$T/plain.out" 2>"$T/plain.out.err"
echo $? >"$T/plain.out.rc"
expect_rc "$T/plain.out" 0 "plain dax://: client exit status 0"
check "plain dax://: put then get (number 1.5)" "$T/plain.out" \
	'out("get")[0]["item"] == {"id": {"S": "p1"}, "x": {"N": "1.5"}}'
check "plain dax://: session token seen, tls false" "$T/c.log" \
	'ev("auth")[0]["session_token"] is True and ev("connect")[0]["tls"] is False'
stop_nodes

echo "$pass passed, $fail failed (${SECONDS}s)"
[ "$fail" = 0 ]
