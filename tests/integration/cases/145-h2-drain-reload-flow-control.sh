# needs: gateway
# timeout: 60
#
# An HTTP/2 connection across a reload and a drain, and flow control: the
# next stream after SIGHUP is decided by the new policy while a stream in
# flight finishes; a 2 MiB response reaches a client with a small window
# that acknowledges slowly, whole, without holding up another stream; a
# stalled stream can be cancelled; a reload that turns http2 off sends open
# h2 connections GOAWAY; SIGTERM sends GOAWAY NO_ERROR, lets the
# streams in flight finish, and the process exits 0.
# Client:   h2client.py, signed requests to record.ddbgate.test:
#           (a) one connection: DeleteTable answered after 1.5 s by the
#               upstream (in flight across the reload); SIGHUP with a policy
#               denying DeleteTable; then DeleteTable and ListTables on the
#               same connection.
#           (b) SETTINGS_INITIAL_WINDOW_SIZE 16384, no automatic WINDOW_UPDATE:
#               DescribeTable answered with a 2097152-byte body, and right
#               after it a ListTables; the DATA is acknowledged as it comes,
#               a few ms late; then another 2 MiB stream read up to its
#               window and cancelled (RST_STREAM CANCEL), then a ListTables.
#           (c) a connection with a ListTables answered after 1.5 s in flight;
#               SIGHUP turning http2 off on the listener (generation 3); then
#               `h2client.py alpn` offering h2,http/1.1; SIGHUP turning it on
#               again (generation 4), alpn again.
#           (d) a connection with a ListTables answered after 2 s in flight and
#               an idle connection; SIGTERM once the upstream has the request.
# Config:   case-local ddbgate 127.0.1.145:443 (sni), audit log in a file,
#             endpoints: [{name: dr145, hosts: [record.ddbgate.test],
#                          upstream: 127.0.4.145:8443}]
#           generation 2 adds to the endpoint: policy (Allow dynamodb:*, Deny
#           (Sid NoDeleteTable) dynamodb:DeleteTable), enforcement: enforce;
#           generation 3 also http2: false on the listener; generation 4 as 2.
# Upstream: case-local `h2client.py upstream` "u145" on 127.0.4.145:8443.
# Expect:   (a) "reloaded: serving generation 2"; the DeleteTable in flight:
#           200 from the upstream; the next DeleteTable on the same
#           connection: 400 com.amazon.coral.service#AccessDeniedException,
#           never upstream, audit deny / NoDeleteTable; ListTables 200; no
#           GOAWAY.
#           (b) the ListTables is answered while the big stream waits for
#           WINDOW_UPDATE; the server never sends more DATA than the windows
#           allow (16384 per stream, 65535 for the connection, unacknowledged);
#           the 2 MiB body arrives whole (exactly big_body(2097152)); the
#           cancelled stream does not hold up the ListTables after it (200).
#           (c) the open h2 connection gets GOAWAY NO_ERROR within 2 s of the
#           reload, logged "reload: http2 is now off on its listener: GOAWAY";
#           its stream in flight finishes (200), then it is closed; ALPN then
#           selects http/1.1; after generation 4, h2 again.
#           (d) GOAWAY NO_ERROR within 1 s of SIGTERM on both connections,
#           last_stream_id covering the stream in flight; the idle connection
#           closed within 1 s; the stream in flight: 200 after the GOAWAY,
#           then its connection closed within 1 s; "draining" logged;
#           ddbgate exits 0 within 5 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
IP=127.0.1.145
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u145 127.0.4.145
cat >"$CASE_TMP/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*" },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*" }
  ]
}
JSON
write_cfg() { # OUT [policy] [noh2]
	{
		if [ "${3:-}" = noh2 ]; then
			lgw_head $IP | sed 's/^    mode: sni$/&\n    http2: false/'
		else
			lgw_head $IP
		fi
		echo "audit:"
		echo "  path: $CGW_AUDIT"
		echo "endpoints:"
		lgw_endpoint dr145 $H "127.0.4.145:$UP_PORT"
		[ "${2:-}" = policy ] && printf '    policy: %s\n    enforcement: enforce\n' "$CASE_TMP/policy.json"
		printf 'limits:\n  upstream_timeout_s: 5\n'
	} >"$1"
}
write_cfg "$cfg"
write_cfg "$CASE_TMP/gen2.yaml" policy
write_cfg "$CASE_TMP/gen3.yaml" policy noh2
write_cfg "$CASE_TMP/gen4.yaml" policy
grep -q '^    http2: false$' "$CASE_TMP/gen3.yaml" || fail "gen3.yaml lacks http2: false"
FAIL_SHOW+=("$CGW_AUDIT")
lgw_start $IP "$cfg"

step "(a) a reload between two streams of one connection"
amark=$(cgw_audit_mark)
u=$(unique)
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$u" "$LGW_PID" "$cfg" "$CASE_TMP/gen2.yaml" "$LGW_ERR" "$CASE_TMP/up-u145" \
	<<'PY' || fail "see above"
import glob, json, os, signal, sys, h2client
u, pid, cfg, gen2, errlog, updir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems = []
c = h2client.Conn(addr, sni, ca)
c.preface()

def req(target, mk, how=None):
    body = json.dumps({"TableName": "t145-" + mk}).encode()
    extra = [("x-h2test-marker", mk)] + ([("x-h2test", how)] if how else [])
    return c.request(h2client.ddb_headers(sni, target, body, extra=extra), body)

def upstream_has(mk):
    return any(mk.encode() in open(f, "rb").read() for f in glob.glob(updir + "/conn-*.in"))

m1, m3, m5 = ("marker-h2reload-%s-%d-end" % (u, i) for i in (1, 3, 5))
s1 = req("DeleteTable", m1, "delay 1.5")
for _ in range(50):
    c.pump(None, 0.1)
    if upstream_has(m1):
        break
else:
    problems.append("the first DeleteTable did not reach the upstream")
mark = len(open(errlog, errors="replace").read().splitlines())
os.replace(gen2, cfg)
os.kill(pid, signal.SIGHUP)
reloaded = False
for _ in range(100):
    lines = open(errlog, errors="replace").read().splitlines()[mark:]
    if any("reloaded: serving generation 2" in l for l in lines):
        reloaded = True
        break
    c.pump(None, 0.1)
print("SIGHUP: %s" % ("reloaded: serving generation 2" if reloaded else "no 'reloaded' line within 10 s"))
if not reloaded:
    problems.append("the reload was not logged")
s3 = req("DeleteTable", m3)
s5 = req("ListTables", m5)
c.wait([s1, s3, s5], 8)
for sid, what in ((s1, "DeleteTable in flight across the reload"), (s3, "DeleteTable after the reload"),
                  (s5, "ListTables after the reload")):
    print("stream %d, %s: %s" % (sid, what, c.streams[sid].summary()))
if c.streams[s1].status != 200 or (c.streams[s1].json() or {}).get("TableNames") != [m1]:
    problems.append("the DeleteTable in flight was not answered by the upstream")
d = c.streams[s3].json() or {}
if c.streams[s3].status != 400 or d.get("__type") != "com.amazon.coral.service#AccessDeniedException":
    problems.append("the DeleteTable after the reload was not denied")
if upstream_has(m3):
    problems.append("the denied DeleteTable reached the upstream")
if c.streams[s5].status != 200:
    problems.append("the ListTables after the reload was not answered 200")
if c.goaway is not None or c.eof:
    problems.append("the connection ended: %s %s" % (c.goaway, c.eof))
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
cgw_audit_expect "$amark" "d.get('eventName') == 'DeleteTable' and d.get('decision') == 'deny'" "no audit line for the denied DeleteTable"
cgw_audit_check "d['decidingStatement'] == 'NoDeleteTable' and d['status'] == 400" "the denied DeleteTable's audit line"

step "(b) flow control: 2 MiB to a 16 KiB window, acknowledged slowly"
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py <<'PY' || fail "see above"
import os, sys, time, h2client
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems = []
WIN, CONN_WIN, BIG = 16384, 65535, 2097152
c = h2client.Conn(addr, sni, ca, auto_ack=False, poll=0.005)
c.preface(settings={4: WIN})   # SETTINGS_INITIAL_WINDOW_SIZE

def req(target, how=None):
    body = b'{"TableName":"t145"}' if target == "DescribeTable" else b"{}"
    return c.request(h2client.ddb_headers(sni, target, body, extra=[("x-h2test", how)] if how else []), body)

def unacked_total():
    return sum(s.received for s in c.streams.values())

big = req("DescribeTable", "big %d" % BIG)
small = req("ListTables")
worst_stream = worst_conn = 0
t0 = time.time()
small_done_at = None
deadline = t0 + 30
while time.time() < deadline and not (c.streams[big].done and c.streams[small].done) \
        and c.eof is None and c.goaway is None:
    c.pump(None, 0.002)
    for s in c.streams.values():
        worst_stream = max(worst_stream, s.received)
    worst_conn = max(worst_conn, unacked_total())
    if small_done_at is None and c.streams[small].done:
        small_done_at = time.time()
        got_big = len(c.streams[big].body)
    for sid in (small, big):
        s = c.streams[sid]
        if s.received > 0:
            c.ack(sid, min(s.received, WIN))
    time.sleep(0.002)
b, s = c.streams[big], c.streams[small]
print("big stream %d: status %s, %d bytes, ended %s, after %.2f s; small stream %d: %s"
      % (big, b.status, len(b.body), b.ended, time.time() - t0, small, s.summary()))
print("most unacknowledged DATA: %d on a stream (window %d), %d on the connection (window %d)"
      % (worst_stream, WIN, worst_conn, CONN_WIN))
if s.status != 200:
    problems.append("the small stream was not answered")
elif small_done_at is None or small_done_at > (b.t_end or time.time()):
    problems.append("the small stream waited for the big one")
else:
    print("the small stream was answered when %d of the big body had arrived" % got_big)
if b.status != 200 or not b.ended or b.body != h2client.big_body(BIG):
    problems.append("the 2 MiB body did not arrive whole and exact (%d bytes, ended %s)" % (len(b.body), b.ended))
if worst_stream > WIN or worst_conn > CONN_WIN:
    problems.append("the server sent more DATA than the flow-control windows allowed")
# a stalled stream, cancelled
st = req("DescribeTable", "big %d" % BIG)
c.pump(lambda: c.streams[st].received >= WIN or c.streams[st].done, 5)
print("stalled stream %d: %d bytes, its window full; RST_STREAM CANCEL" % (st, c.streams[st].received))
if c.streams[st].received > WIN:
    problems.append("the server overran the stalled stream's window")
c.rst(st, 8)
c.ack(st)  # give the connection window back
after = req("ListTables")
c.pump(lambda: c.streams[after].done, 5)
if c.streams[after].received:
    c.ack(after)
print("after the cancel, stream %d: %s" % (after, c.streams[after].summary()))
if c.streams[after].status != 200:
    problems.append("the stream after the cancelled one was not answered")
if c.goaway is not None or c.eof:
    problems.append("the connection ended: %s %s" % (c.goaway, c.eof))
for p in problems:
    print("PROBLEM: " + p)
if problems:
    print(c.dump(20))
sys.exit(1 if problems else 0)
PY
h2_gw_alive

step "(c) a reload turning http2 off on the listener, then on again"
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$LGW_PID" "$cfg" "$CASE_TMP/gen3.yaml" "$CASE_TMP/gen4.yaml" "$LGW_ERR" "$u" \
	<<'PY' || fail "see above"
import os, signal, subprocess, sys, time, h2client
pid, cfg, gen3, gen4, errlog, u = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems = []

def reload(new, gen, conn=None):
    mark = len(open(errlog, errors="replace").read().splitlines())
    os.replace(new, cfg)
    t = time.time()
    os.kill(pid, signal.SIGHUP)
    for _ in range(100):
        if any("reloaded: serving generation %d" % gen in l
               for l in open(errlog, errors="replace").read().splitlines()[mark:]):
            print("SIGHUP: reloaded: serving generation %d" % gen)
            return t
        if conn is not None:
            conn.pump(None, 0.1)
        else:
            time.sleep(0.1)
    problems.append("no 'reloaded: serving generation %d' within 10 s" % gen)
    return t

def alpn():
    out = subprocess.run(["/usr/bin/python3", "-B", os.path.join(os.environ["PYTHONPATH"], "h2client.py"), "alpn",
                          "--connect", addr, "--sni", sni, "--cafile", ca, "--offer", "h2,http/1.1"],
                         capture_output=True, text=True, timeout=10).stdout.strip()
    return out

c = h2client.Conn(addr, sni, ca)
c.preface()
mk = "marker-h2off-%s-end" % u
body = b"{}"
sid = c.request(h2client.ddb_headers(sni, "ListTables", body, extra=[("x-h2test-marker", mk), ("x-h2test", "delay 1.5")]), body)
c.pump(None, 0.3)
t = reload(gen3, 3, c)
c.wait_goaway(3)
c.wait([sid], 5, stop_on_goaway=False)
closed = c.wait_eof(2)
g, s = c.goaway, c.streams[sid]
print("open h2 connection: %s%s; stream in flight: %s; %s" % (g, "" if g is None else " %.2f s after SIGHUP" % (g.t - t),
      s.summary(), "then closed" if closed else "still open"))
if g is None or g.code != "NO_ERROR" or g.t - t > 2:
    problems.append("no GOAWAY NO_ERROR within 2 s of the reload that turned http2 off")
if s.status != 200 or not s.ended:
    problems.append("the stream in flight did not finish")
if not closed:
    problems.append("the connection was not closed after its last stream")
got = alpn()
print("a new connection, offering h2,http/1.1: %s" % got)
if got != "http/1.1":
    problems.append("with http2: false a new connection negotiated %s" % got)
reload(gen4, 4)
got = alpn()
print("after http2 is on again: %s" % got)
if got != "h2":
    problems.append("with http2 on again a new connection negotiated %s" % got)
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
grep -m1 'reload: http2 is now off on its listener: GOAWAY' "$LGW_ERR" || fail "no log line 'reload: http2 is now off on its listener: GOAWAY'"

step "(d) SIGTERM: GOAWAY, the stream in flight finishes, exit 0"
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$LGW_PID" "$CASE_TMP/up-u145" "$u" <<'PY' || fail "see above"
import glob, os, signal, sys, time, h2client
pid, updir, u = int(sys.argv[1]), sys.argv[2], sys.argv[3]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems = []
idle = h2client.Conn(addr, sni, ca)
idle.preface()
c = h2client.Conn(addr, sni, ca)
c.preface()
mk = "marker-h2drain-%s-end" % u
body = b"{}"
sid = c.request(h2client.ddb_headers(sni, "ListTables", body, extra=[("x-h2test-marker", mk), ("x-h2test", "delay 2")]), body)
for _ in range(50):
    c.pump(None, 0.1)
    if any(mk.encode() in open(f, "rb").read() for f in glob.glob(updir + "/conn-*.in")):
        break
else:
    problems.append("the request did not reach the upstream")
t_term = time.time()
os.kill(pid, signal.SIGTERM)
c.wait_goaway(3)
idle.wait_goaway(3)
idle_closed = idle.wait_eof(2)
c.wait([sid], 5, stop_on_goaway=False)
closed = c.wait_eof(2)
s = c.streams[sid]
for conn, what in ((c, "busy connection"), (idle, "idle connection")):
    g = conn.goaway
    print("%s: %s%s" % (what, g, "" if g is None else " %.2f s after SIGTERM" % (g.t - t_term)))
    if g is None or g.code != "NO_ERROR" or g.t - t_term > 1:
        problems.append("%s: no GOAWAY NO_ERROR within 1 s of SIGTERM" % what)
if c.goaway is not None and c.goaway.last < sid:
    problems.append("the GOAWAY's last_stream_id %d leaves out the stream in flight (%d)" % (c.goaway.last, sid))
print("idle connection: %s" % ("closed %.2f s after SIGTERM" % (idle.t_eof - t_term) if idle_closed else "still open"))
if not idle_closed or idle.t_eof - t_term > 1.5:
    problems.append("the idle connection was not closed within 1.5 s of SIGTERM")
print("stream in flight: %s, %.2f s after SIGTERM" % (s.summary(), (s.t_end or time.time()) - t_term))
if s.status != 200 or not s.ended or (s.json() or {}).get("TableNames") != [mk]:
    problems.append("the stream in flight did not get its whole answer")
elif c.goaway is not None and s.t_end < c.goaway.t:
    problems.append("the stream ended before the GOAWAY: nothing was in flight")
print("busy connection: %s" % ("closed %.2f s after its stream ended" % (c.t_eof - s.t_end) if closed and s.t_end else "still open"))
if not closed or (s.t_end and c.t_eof - s.t_end > 1):
    problems.append("the busy connection was not closed within 1 s of its last stream")
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
grep -q 'draining' "$LGW_ERR" || fail "no 'draining' log line"
for _ in $(seq 1 50); do kill -0 "$LGW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LGW_PID" 2>/dev/null && fail "ddbgate still runs 5 s after SIGTERM"
wait "$LGW_PID"
st=$?
[ "$st" = 0 ] || fail "ddbgate exited with status $st after SIGTERM"
echo "ddbgate: exit 0 after SIGTERM"
