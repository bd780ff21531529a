# needs: gateway
# timeout: 40
#
# SIGHUP under load: a client sends signed requests back to back, on one
# kept-alive connection and on new connections, while a reload swaps in an
# endpoint policy and a rotated static certificate, and then a broken file
# is refused: not one request fails, the new policy decides from the reload
# on (also the kept-alive connection's next request), new connections get
# the new certificate, and the broken file changes nothing.
# Client:   one Python client (http over ssl, SigV4 from rawclient.py),
#           sequential, paced 5 ms: ListTables and DeleteTable alternately
#           (every body unique: ExclusiveStartTableName / TableName
#           t131-<i>); every 5th request on a new TLS connection (the served
#           certificate's serial noted), the others on one kept-alive
#           connection; stops when told (stop file), after 3000 requests or
#           25 s.
# Config:   case-local ddbgate 127.0.1.131:443 (sni), metrics off,
#             tls.certificates: [{cert: <case>/gw.pem, key: <case>/gw.key}]
#             gen 1: gw.pem = a leaf for record.ddbgate.test from the gateway
#               CA with serial 0x131A; endpoints: [{name: rec131, hosts:
#               [record.ddbgate.test], upstream: 127.0.3.131:8443}]
#             gen 2: gw.pem/gw.key replaced by a new key and leaf, serial
#               0x131B; the endpoint gets policy (Allow dynamodb:*, Deny
#               dynamodb:DeleteTable) and enforcement: enforce.
#             then: a YAML syntax error (reload refused).
# Upstream: case-local recorder "c131" on 127.0.3.131:8443 (up-good).
# Expect:   before the reload: serial 131A, every answer 200 (DeleteTable
#           forwarded); "reloaded: serving generation 2"; every request sent
#           after that line: ListTables 200, DeleteTable 400 __type
#           com.amazon.coral.service#AccessDeniedException, never forwarded; new
#           connections serial 131B; the kept-alive connection is the same
#           one throughout (never closed) and its first DeleteTable after the
#           reload is denied.  "reload failed, still serving generation 2:
#           FILE:L:C: ..."; afterwards the same answers and serial 131B.
#           Zero connection errors, zero other statuses, >= 300 requests in
#           all (>= 60 on new connections), >= 100 in each phase.
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.131
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
FILE_RE=${cfg//./\\.}
rec_start c131 127.0.3.131
svc_leaf "$CASE_TMP/gw-a" 131A $H
svc_leaf "$CASE_TMP/gw-b" 131B $H
cp "$CASE_TMP/gw-a.pem" "$CASE_TMP/gw.pem"
cp "$CASE_TMP/gw-a.key" "$CASE_TMP/gw.key"
cat >"$CASE_TMP/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*" },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*" }
  ]
}
JSON

# write_cfg [policy] [broken]
write_cfg() {
	local o=" $* "
	{
		svc_head "$IP" off "$CASE_TMP/gw.pem" "$CASE_TMP/gw.key"
		echo "endpoints:"
		lgw_endpoint rec131 $H "127.0.3.131:$UP_PORT"
		case $o in *" policy "*) printf '    policy: %s\n    enforcement: enforce\n' "$CASE_TMP/policy.json" ;; esac
		case $o in *" broken "*) echo '    hosts_extra: [a.example, b.example' ;; esac
		printf 'limits:\n  upstream_timeout_s: 5\n'
	} >"$cfg.new" && mv "$cfg.new" "$cfg"
}

cat >"$CASE_TMP/load.py" <<'PY'
import json, os, socket, ssl, sys, time
sys.path.insert(0, os.environ["IT_DIR"])
from rawclient import sign_request
import datetime

addr, sni, ca, out, stop = sys.argv[1:6]
host, port = addr.rsplit(":", 1)
akid, secret = os.environ["AKID"], os.environ["SECRET"]
ctx = ssl.create_default_context(cafile=ca)
log = open(out, "a", buffering=1)

def request(i, target, body):
    now = datetime.datetime.now(datetime.timezone.utc)
    headers = [("Host", sni), ("X-Amz-Date", now.strftime("%Y%m%dT%H%M%SZ")),
               ("X-Amz-Target", "DynamoDB_20120810." + target),
               ("Content-Type", "application/x-amz-json-1.0")]
    auth = sign_request("POST", sni, "/", headers, body, akid, secret, "us-east-1", "dynamodb", now)
    lines = ["POST / HTTP/1.1"] + ["%s: %s" % h for h in headers]
    lines += ["Authorization: " + auth, "Content-Length: %d" % len(body)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

def connect():
    raw = socket.create_connection((host, int(port)), timeout=10)
    c = ctx.wrap_socket(raw, server_hostname=sni)
    return c, c.getpeercert()["serialNumber"].lstrip("0").upper()

def exchange(c, data):
    c.sendall(data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            raise ConnectionError("closed before a response head (%d bytes)" % len(buf))
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for l in lines[1:]:
        n, _, v = l.partition(":")
        hdrs[n.strip().lower()] = v.strip()
    clen = int(hdrs.get("content-length", "-1"))
    if clen < 0:
        raise ConnectionError("response without Content-Length")
    while len(body) < clen:
        d = c.recv(65536)
        if not d:
            raise ConnectionError("closed in the body (%d of %d bytes)" % (len(body), clen))
        body += d
    if len(body) != clen:
        raise ConnectionError("%d bytes after the response" % (len(body) - clen))
    typ = ""
    try:
        typ = json.loads(body).get("__type", "")
    except ValueError:
        pass
    return status, typ, hdrs.get("connection", "")

keep, keep_serial, keep_id = None, None, 0
deadline = time.time() + 25
i = 0
while i < 3000 and time.time() < deadline and not os.path.exists(stop):
    i += 1
    action = "DeleteTable" if i % 2 == 0 else "ListTables"
    name = "t131-%d" % i
    body = (json.dumps({"TableName": name}) if action == "DeleteTable"
            else json.dumps({"ExclusiveStartTableName": name})).encode()
    kind = "new" if i % 5 == 0 else "keep"
    rec = {"i": i, "conn": kind, "action": action, "table": name, "t0": time.time()}
    try:
        if kind == "new":
            c, serial = connect()
            rec["serial"] = serial
            try:
                rec["status"], rec["type"], rec["connection"] = exchange(c, request(i, action, body))
            finally:
                c.close()
        else:
            if keep is None:
                keep, keep_serial = connect()
                keep_id += 1
            rec["keep_id"], rec["serial"] = keep_id, keep_serial
            rec["status"], rec["type"], rec["connection"] = exchange(keep, request(i, action, body))
            if rec["connection"].lower() == "close":
                keep.close()
                keep = None
    except (OSError, ssl.SSLError, ValueError, IndexError) as e:
        rec["error"] = "%s: %s" % (type(e).__name__, e)
        if kind == "keep" and keep is not None:
            keep.close()
            keep = None
    rec["t1"] = time.time()
    log.write(json.dumps(rec) + "\n")
    time.sleep(0.005)
PY

# lines_after T — result lines whose request started after wall-clock time T.
lines_after() {
	/usr/bin/python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["t0"] > float(sys.argv[2])))' "$CASE_TMP/load.jsonl" "$1"
}
# wait_lines_after T N — until N requests started after T (at most 15 s).
wait_lines_after() {
	for _ in $(seq 1 150); do
		[ "$(lines_after "$1")" -ge "$2" ] && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || fail "the load client stopped early: $(tail -n 3 "$CASE_TMP/load.err")"
		sleep 0.1
	done
	fail "fewer than $2 requests within 15 s after $1"
}

write_cfg
lgw_start $IP "$cfg"
s=$(tls_probe "$IP:$GW_PORT" $H)
[ "$s" = 131A ] || fail "the gateway served serial '$s', expected 131A"

step "load: 1 kept-alive connection + a new connection every 5th request"
: >"$CASE_TMP/load.jsonl"
FAIL_SHOW+=("$CASE_TMP/load.err")
start_bg "$CASE_TMP/load" env IT_DIR="$IT_DIR" /usr/bin/python3 "$CASE_TMP/load.py" "$IP:$GW_PORT" $H \
	"$PKI/gw-ca.pem" "$CASE_TMP/load.jsonl" "$CASE_TMP/load.stop"
LOAD_PID=$BG_PID
wait_lines_after 0 100

step "reload to generation 2: a policy and a rotated certificate"
write_cfg policy
cp "$CASE_TMP/gw-b.pem" "$CASE_TMP/gw.pem.new" && mv "$CASE_TMP/gw.pem.new" "$CASE_TMP/gw.pem"
cp "$CASE_TMP/gw-b.key" "$CASE_TMP/gw.key.new" && mv "$CASE_TMP/gw.key.new" "$CASE_TMP/gw.key"
T_HUP0=$(date +%s.%N)
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reloaded: serving generation 2 from $FILE_RE\$"
T_HUP1=$(date +%s.%N)
wait_lines_after "$T_HUP1" 100

step "a broken file, under load"
write_cfg policy broken
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reload failed, still serving generation 2: $FILE_RE:[0-9]+:[0-9]+: "
T_BAD=$(date +%s.%N)
wait_lines_after "$T_BAD" 100
touch "$CASE_TMP/load.stop"
wait_exit "$LOAD_PID" 100 || fail "the load client did not stop within 10 s"
[ "$EXIT_ST" = 0 ] || fail "the load client exited with status $EXIT_ST: $(tail -n 5 "$CASE_TMP/load.err")"

step "every answer"
/usr/bin/python3 - "$CASE_TMP/load.jsonl" "$T_HUP0" "$T_HUP1" "$T_BAD" "$REC/c131" <<'PY' || fail "see above"
import glob, json, sys
path, hup0, hup1, bad, recdir = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
recs = [json.loads(l) for l in open(path)]
forwarded = b"".join(open(f, "rb").read() for f in glob.glob(recdir + "/conn-*.in"))
problems = []
def prob(r, what):
    problems.append("request %d (%s, %s, t0 %.3f): %s: %s" % (r["i"], r["conn"], r["action"], r["t0"], what, json.dumps(r)))
def reached(r):
    return ('"%s"' % r["table"]).encode() in forwarded
phase = {"before": 0, "between": 0, "after": 0, "broken": 0}
keep_ids = set()
keep_del_before = keep_del_after = None
for r in recs:
    if "error" in r:
        prob(r, "failed")
        continue
    denied = r["status"] == 400 and r["type"] == "com.amazon.coral.service#AccessDeniedException"
    if not (r["status"] == 200 or denied):
        prob(r, "unexpected answer")
        continue
    if r["conn"] == "keep":
        keep_ids.add(r["keep_id"])
    if r["t0"] < hup0:
        phase["before"] += 1
        if r["status"] != 200: prob(r, "not 200 before the reload")
        if r["serial"] != "131A": prob(r, "serial is not 131A before the reload")
        if r["action"] == "DeleteTable" and not reached(r): prob(r, "an allowed DeleteTable did not reach the upstream")
        if r["conn"] == "keep" and r["action"] == "DeleteTable": keep_del_before = r
    elif r["t0"] < hup1:
        phase["between"] += 1
    else:
        phase["after" if r["t0"] < bad else "broken"] += 1
        want = 400 if r["action"] == "DeleteTable" else 200
        if r["status"] != want: prob(r, "expected %d under generation 2" % want)
        if r["action"] == "DeleteTable" and reached(r): prob(r, "a denied DeleteTable reached the upstream")
        if r["conn"] == "new" and r["serial"] != "131B": prob(r, "a new connection got serial %s, expected 131B" % r["serial"])
        if r["conn"] == "keep" and r["action"] == "DeleteTable" and keep_del_after is None: keep_del_after = r
nnew = sum(1 for r in recs if r["conn"] == "new")
print("requests: %d (%d on new connections); phases: %s; kept-alive connection ids: %s" % (len(recs), nnew, phase, sorted(keep_ids)))
print("statuses: %s" % sorted({(r.get("status"), r.get("type", "")) for r in recs if "error" not in r}))
print("kept-alive DeleteTable before the reload: %s" % json.dumps(keep_del_before))
print("first kept-alive DeleteTable after it:   %s" % json.dumps(keep_del_after))
if len(recs) < 300 or nnew < 60: problems.append("too few requests: %d, %d on new connections" % (len(recs), nnew))
if min(phase["before"], phase["after"], phase["broken"]) < 100: problems.append("a phase has fewer than 100 requests: %s" % phase)
if keep_ids != {1}: problems.append("the kept-alive connection was not one connection throughout: ids %s" % sorted(keep_ids))
if keep_del_before is None or keep_del_after is None: problems.append("no kept-alive DeleteTable before and after the reload")
elif keep_del_after["status"] != 400: problems.append("the kept-alive connection's next DeleteTable was not denied")
for p in problems[:20]:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
s=$(tls_probe "$IP:$GW_PORT" $H)
[ "$s" = 131B ] || fail "after the reloads the gateway served serial '$s', expected 131B"
grep -E 'warning|error' "$LGW_ERR" | grep -v 'reload failed, still serving generation 2' | head -n 5 | sed 's/^/gateway: /'

step "the case-local gateway stops cleanly"
lgw_stop
