# needs: gateway
# timeout: 40
#
# Graceful drain on SIGTERM: the listener closes at once, idle connections
# are closed at once, every request in flight gets its whole response and
# then its connection is closed, and the process exits 0 as soon as no
# connection is left; past limits.drain_timeout_s what is left is cut, with
# a "drain deadline" log line, and the exit status is still 0.  While it
# drains, the admin listener still answers: /readyz says 503 (take the host
# out of DNS / keepalived), /healthz still 200 (the process is alive).
# Client:   a Python client (ssl, SigV4 from rawclient.py), one thread per
#           connection: (a) 10 connections with one signed ListTables each to
#           https://record.ddbgate.test/ (slow upstream), then reading until
#           the gateway closes; an idle kept-alive connection (one ListTables
#           to https://other.ddbgate.test/ answered at once, then nothing) and
#           one with a TLS handshake and no request; a new connection 0.3 s
#           after SIGTERM.  curl GET http://127.0.1.132:9145/readyz and
#           /healthz once the 10 requests are in flight (before SIGTERM) and
#           again 0.3 s after SIGTERM.  (b) 3 connections to the slow
#           upstream.
# Config:   case-local ddbgate 127.0.1.132:443 (sni),
#             metrics: {address: "127.0.1.132:9145"}
#             endpoints: [{name: slow132, hosts: [record.ddbgate.test],
#                          upstream: 127.0.3.132:8443},
#                         {name: fast132, hosts: [other.ddbgate.test],
#                          upstream: 127.0.4.132:8443}]
#             limits: {upstream_timeout_s: 10}; (a) drain_timeout_s default
#             (30); (b) limits.drain_timeout_s: 1.
# Upstream: 127.0.3.132: a Python TLS server (leaf up-good) that answers each
#           request 200 with a 2 kB body after 2 s (a), after 5 s (b);
#           127.0.4.132: case-local recorder "c132".
# Expect:   (a) before SIGTERM: /readyz 200 "ready", /healthz 200 "ok".
#           SIGTERM once all 10 requests reached the upstream: log
#           "Terminated: draining: no new connections, up to 30 s for
#           requests in flight"; both idle connections closed within 1 s;
#           the new connection refused (ECONNREFUSED) while ddbgate still
#           runs; meanwhile (ddbgate still running after both answers)
#           /readyz 503 "not ready" and /healthz 200 "ok"; every one of the
#           10 gets a complete 200 (Content-Length bytes, the upstream's
#           body) and then its connection closes within 1 s; ddbgate exits 0
#           within 5 s of SIGTERM, no "drain deadline".
#           (b) exit 0 between 0.8 and 3 s after SIGTERM; "worker N: drain
#           deadline (1 s): closing M connection(s) still open" with the Ms
#           adding up to 3; none of the 3 got a response; each connection
#           ended within 3 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.132
MADDR=$IP:9145 # the admin listener: /metrics, /healthz, /readyz
cfg="$CASE_TMP/ddbgate.yaml"
rec_start c132 127.0.4.132

write_cfg() { # [DRAIN_TIMEOUT_S]
	{
		svc_head $IP "$MADDR"
		echo "endpoints:"
		lgw_endpoint slow132 record.ddbgate.test "127.0.3.132:$UP_PORT"
		lgw_endpoint fast132 other.ddbgate.test "127.0.4.132:$UP_PORT"
		printf 'limits:\n  upstream_timeout_s: 10\n'
		[ -n "${1:-}" ] && printf '  drain_timeout_s: %s\n' "$1"
	} >"$cfg"
}

cat >"$CASE_TMP/drainclient.py" <<'PY'
# drainclient.py MODE ADDR CA OUT [N]
#   inflight: N threads, each one connection + one ListTables to record.ddbgate.test
#   idle-kept: one ListTables to other.ddbgate.test, then wait for the close
#   idle-new: a TLS handshake to record.ddbgate.test, no request, wait for the close
# One JSON line per connection in OUT ("ready" lines first for the idle ones).
import datetime, json, os, socket, ssl, sys, threading, time
sys.path.insert(0, os.environ["IT_DIR"])
from rawclient import sign_request

mode, addr, ca, out = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 1
host, port = addr.rsplit(":", 1)
ctx = ssl.create_default_context(cafile=ca)
lock = threading.Lock()
log = open(out, "a", buffering=1)

def emit(d):
    with lock:
        log.write(json.dumps(d) + "\n")

def request(sni):
    now = datetime.datetime.now(datetime.timezone.utc)
    body = b"{}"
    h = [("Host", sni), ("X-Amz-Date", now.strftime("%Y%m%dT%H%M%SZ")),
         ("X-Amz-Target", "DynamoDB_20120810.ListTables"), ("Content-Type", "application/x-amz-json-1.0")]
    auth = sign_request("POST", sni, "/", h, body, os.environ["AKID"], os.environ["SECRET"], "us-east-1", "dynamodb", now)
    return ("\r\n".join(["POST / HTTP/1.1"] + ["%s: %s" % x for x in h] +
                        ["Authorization: " + auth, "Content-Length: 2"]) + "\r\n\r\n").encode() + body

def read_response(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None, buf
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hd = {l.partition(":")[0].strip().lower(): l.partition(":")[2].strip() for l in lines[1:]}
    clen = int(hd.get("content-length", "0"))
    while len(rest) < clen:
        d = c.recv(65536)
        if not d:
            break
        rest += d
    return {"status": int(lines[0].split(" ")[1]), "content_length": clen, "body_bytes": len(rest),
            "complete": len(rest) == clen, "connection": hd.get("connection", ""),
            "body_start": rest[:30].decode("latin-1"), "t_resp": time.time()}, rest[clen:]

def wait_end(c, d):
    c.settimeout(20)
    extra = 0
    try:
        while True:
            x = c.recv(65536)
            if not x:
                d["end"] = "eof"
                break
            extra += len(x)
    except socket.timeout:
        d["end"] = "timeout"
    except (ssl.SSLError, OSError) as e:
        d["end"] = "reset" if isinstance(e, (ConnectionResetError, ssl.SSLEOFError)) else "error: %s" % e
    d["t_end"] = time.time()
    d["extra_bytes"] = extra

def one(i, sni, send, ready):
    d = {"conn": i, "mode": mode}
    try:
        raw = socket.create_connection((host, int(port)), timeout=20)
        c = ctx.wrap_socket(raw, server_hostname=sni)
        if send:
            c.sendall(request(sni))
            d["t_sent"] = time.time()
            resp, extra = read_response(c)
            d["response"] = resp
            if extra:
                d["extra_bytes_after_response"] = len(extra)
        if ready:
            emit({"ready": i, "response": d.get("response")})
        wait_end(c, d)
    except (OSError, ssl.SSLError, ValueError) as e:
        d["error"] = "%s: %s" % (type(e).__name__, e)
        d["t_end"] = time.time()
    emit(d)

if mode == "inflight":
    ts = [threading.Thread(target=one, args=(i, "record.ddbgate.test", True, False)) for i in range(1, n + 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
elif mode == "idle-kept":
    one(1, "other.ddbgate.test", True, True)
else:
    one(1, "record.ddbgate.test", False, True)
PY

# secs T0 T1 — T1 - T0 (seconds, 2 decimals).
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# client NAME MODE [N] — start drainclient.py in the background; sets BG_PID.
client() {
	: >"$CASE_TMP/$1.jsonl"
	FAIL_SHOW+=("$CASE_TMP/$1.jsonl" "$CASE_TMP/$1.err")
	start_bg "$CASE_TMP/$1" env IT_DIR="$IT_DIR" /usr/bin/python3 "$CASE_TMP/drainclient.py" "$2" \
		"$IP:$GW_PORT" "$PKI/gw-ca.pem" "$CASE_TMP/$1.jsonl" "${3:-1}"
}
# admin PATH CODE BODY — GET http://$MADDR PATH answers CODE with the body
# line BODY.
admin() {
	local got body
	got=$(curl -sS --max-time 5 -o "$CASE_TMP/admin.body" -w '%{http_code}' "http://$MADDR$1" 2>"$CASE_TMP/admin.err")
	body=$(head -c 200 "$CASE_TMP/admin.body" 2>/dev/null)
	echo "GET $1 -> $got $body"
	if [ "$got" != "$2" ] || [ "$body" != "$3" ]; then
		fail "GET http://$MADDR$1 answered '$got $body' ($(cat "$CASE_TMP/admin.err")), expected $2 $3"
	fi
}
# wait_requests LOG N — the slow upstream received N requests (5 s).
wait_requests() {
	for _ in $(seq 1 50); do
		[ "$(grep -c ' request ' "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "the slow upstream received $(grep -c ' request ' "$1") of $2 requests within 5 s"
}
# pycheck a|b T_TERM LOG... — the client logs of phase (a) (in-flight log, then
# the two idle ones) or (b) against the expectations of this case's header.
pycheck() {
	/usr/bin/python3 - "$@" <<'PY' || fail "see above"
import json, sys
mode, t_term = sys.argv[1], float(sys.argv[2])
problems = []
if mode == "a":
    inflight = [json.loads(l) for l in open(sys.argv[3])]
    idle = [json.loads(l) for f in sys.argv[4:] for l in open(f) if "ready" not in json.loads(l)]
    print("in flight: %d connections" % len(inflight))
    for d in inflight:
        r = d.get("response") or {}
        print("  conn %s: status %s, %s/%s body bytes, Connection: %r, body %r; response %+.2f s, closed (%s) %+.2f s after SIGTERM%s" % (
            d["conn"], r.get("status"), r.get("body_bytes"), r.get("content_length"), r.get("connection"),
            r.get("body_start"), (r.get("t_resp") or 0) - t_term, d.get("end"), d.get("t_end", 0) - t_term,
            "; ERROR " + d["error"] if "error" in d else ""))
        if "error" in d or r.get("status") != 200 or not r.get("complete") or not r.get("body_start", "").startswith('{"TableNames":["slow-'):
            problems.append("conn %s: no complete 200 from the upstream" % d["conn"])
        elif d.get("end") not in ("eof", "reset") or d["t_end"] - r["t_resp"] > 1.0:
            problems.append("conn %s: not closed within 1 s after its response (%s)" % (d["conn"], d.get("end")))
        elif r["t_resp"] < t_term:
            problems.append("conn %s: answered before SIGTERM: the request was not in flight" % d["conn"])
    if len(inflight) != 10: problems.append("%d in-flight connections reported, expected 10" % len(inflight))
    for d in idle:
        print("  idle %s: closed (%s) %+.2f s after SIGTERM%s" % (d["mode"], d.get("end"), d.get("t_end", 0) - t_term,
              "; ERROR " + d["error"] if "error" in d else ""))
        if "error" in d or d.get("end") not in ("eof", "reset") or not (0 <= d["t_end"] - t_term < 1.0):
            problems.append("idle connection %s was not closed within 1 s of SIGTERM" % d["mode"])
    if len(idle) != 2: problems.append("%d idle connections reported, expected 2" % len(idle))
else:
    inflight = [json.loads(l) for l in open(sys.argv[3])]
    for d in inflight:
        print("  conn %s: response %s, ended (%s) %+.2f s after SIGTERM%s" % (d["conn"], d.get("response"), d.get("end"),
              d.get("t_end", 0) - t_term, "; " + d["error"] if "error" in d else ""))
        if d.get("response") is not None: problems.append("conn %s got a response although the upstream needs 5 s" % d["conn"])
        if not (0 <= d.get("t_end", 0) - t_term < 3.0): problems.append("conn %s did not end within 3 s of SIGTERM" % d["conn"])
    if len(inflight) != 3: problems.append("%d connections reported, expected 3" % len(inflight))
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
}

step "(a) start; two idle connections, 10 requests in flight to a 2 s upstream"
slow_start slow1 127.0.3.132 2
SLOW_PID=$BG_PID
write_cfg
lgw_start $IP "$cfg"
client idle-kept idle-kept
client idle-new idle-new
wait_log "$CASE_TMP/idle-kept.jsonl" 0 '"ready"' 50 >/dev/null || fail "the kept-alive client got no answer"
wait_log "$CASE_TMP/idle-new.jsonl" 0 '"ready"' 50 >/dev/null || fail "the idle client did not connect"
grep -q '"status": 200' "$CASE_TMP/idle-kept.jsonl" || fail "the kept-alive client's request was not answered 200: $(cat "$CASE_TMP/idle-kept.jsonl")"
client inflight inflight 10
INFLIGHT_PID=$BG_PID
wait_requests "$CASE_TMP/slow1.log" 10
admin /readyz 200 ready
admin /healthz 200 ok

step "SIGTERM"
m=$(log_mark "$LGW_ERR")
T_TERM=$(date +%s.%N)
# shellcheck disable=SC2153 # LGW_PID: set by lgw_start
kill -TERM "$LGW_PID"
wait_log "$LGW_ERR" "$m" 'Terminated: draining: no new connections, up to 30 s for requests in flight$' 20 ||
	fail "no 'Terminated: draining: no new connections, up to 30 s for requests in flight' log line"
sleep 0.3
p=$(tls_probe "$IP:$GW_PORT" record.ddbgate.test)
alive=0
kill -0 "$LGW_PID" 2>/dev/null && alive=1
echo "a new connection 0.3 s after SIGTERM: $p (ddbgate still running: $alive)"
[ "$alive" = 1 ] || fail "ddbgate exited before its requests in flight were answered"
[ "$p" = refused ] || fail "a new connection after SIGTERM was not refused: $p"
admin /readyz 503 "not ready"
admin /healthz 200 ok
kill -0 "$LGW_PID" 2>/dev/null || fail "ddbgate exited before the admin answers could be taken as answers during the drain"
echo "ddbgate still draining after both answers"
wait_exit "$LGW_PID" 50 || fail "ddbgate still runs 5 s after SIGTERM (the upstream answers within 2 s)"
T_EXIT=$(date +%s.%N)
[ "$EXIT_ST" = 0 ] || fail "ddbgate exited with status $EXIT_ST after SIGTERM"
echo "exit 0, $(secs "$T_TERM" "$T_EXIT") s after SIGTERM"
wait_exit "$INFLIGHT_PID" 50 || fail "the in-flight client did not finish"
pycheck a "$T_TERM" "$CASE_TMP/inflight.jsonl" "$CASE_TMP/idle-kept.jsonl" "$CASE_TMP/idle-new.jsonl"
grep 'drain deadline' "$LGW_ERR" && fail "a drain deadline although everything finished within 2 s"
grep -c ' response ' "$CASE_TMP/slow1.log" | grep -qx 10 || fail "the slow upstream did not send 10 responses"

step "(b) limits.drain_timeout_s: 1 and a 5 s upstream"
stop_pid "$SLOW_PID"
slow_start slow2 127.0.3.132 5
write_cfg 1
lgw_start $IP "$cfg"
client inflight2 inflight 3
INFLIGHT_PID=$BG_PID
wait_requests "$CASE_TMP/slow2.log" 3
m=$(log_mark "$LGW_ERR")
T_TERM=$(date +%s.%N)
# shellcheck disable=SC2153 # set by lgw_start
kill -TERM "$LGW_PID"
wait_exit "$LGW_PID" 50 || fail "ddbgate still runs 5 s after SIGTERM with limits.drain_timeout_s: 1"
T_EXIT=$(date +%s.%N)
[ "$EXIT_ST" = 0 ] || fail "ddbgate exited with status $EXIT_ST after the drain deadline"
took=$(secs "$T_TERM" "$T_EXIT")
echo "exit 0, $took s after SIGTERM"
awk -v t="$took" 'BEGIN { exit !(t >= 0.8 && t < 3.0) }' || fail "exit $took s after SIGTERM, expected about 1 s (drain_timeout_s: 1)"
log_since "$LGW_ERR" "$m" | grep 'draining\|drain deadline\|stopped'
grep -q 'Terminated: draining: no new connections, up to 1 s for requests in flight$' "$LGW_ERR" ||
	fail "no 'Terminated: draining: no new connections, up to 1 s for requests in flight' log line"
n=$(sed -n 's/.*worker [0-9]*: drain deadline (1 s): closing \([0-9]*\) connection(s) still open$/\1/p' "$LGW_ERR" | awk '{ s += $1 } END { print s + 0 }')
[ "$n" = 3 ] || fail "the drain deadline lines count $n connection(s) still open, expected 3"
wait_exit "$INFLIGHT_PID" 50 || fail "the in-flight client did not finish"
pycheck b "$T_TERM" "$CASE_TMP/inflight2.jsonl"
