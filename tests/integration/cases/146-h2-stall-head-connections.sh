# needs: gateway
# timeout: 90
#
# HTTP/2 resource bounds and small answers the review of the codec asked
# for (docs/http2.md "Time limits, drain and reload").
# Client:   h2client.py: (a) a connection with SETTINGS_INITIAL_WINDOW_SIZE 0
#           that never sends WINDOW_UPDATE, one ListTables (its 200 head can
#           go, its DATA cannot); (b) the same with 50 streams asking
#           for 60000-byte responses; (c) HEAD / and OPTIONS /; (d) one
#           connection with 10 streams that the upstream never answers,
#           then 4 new HTTP/1.1 TLS connections.
# Config:   case-local ddbgate 127.0.1.146:443 (sni), workers: 1,
#           limits: {client_idle_timeout_s: 2, request_timeout_s: 2,
#           max_connections: 5, upstream_timeout_s: 30}
# Upstream: case-local `h2client.py upstream` "u146" on 127.0.4.146:8443
#           (x-h2test: "big N" answers N bytes, "hang" never answers).
# Expect:   (a), (b): GOAWAY FLOW_CONTROL_ERROR within 2-5 s of the last
#           frame ddbgate could send, the log line "response(s) could not
#           be sent for 2 s (flow-control window shut): GOAWAY", and the
#           connection closed; the gateway's RSS back within 20 MB of where
#           it started (not under ASan: its quarantine keeps freed
#           memory). (c) HEAD: 405 with no DATA (END_STREAM on HEADERS);
#           OPTIONS: 405 with its JSON body. (d) all 4 handshakes complete
#           (stream sessions are not connections for max_connections).
. "$IT_DIR/h2_lib.sh"

IP=127.0.1.146
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u146 127.0.4.146
{
	lgw_head $IP
	echo "workers: 1"
	echo "endpoints:"
	lgw_endpoint h2r146 $H "127.0.4.146:$UP_PORT"
	cat <<YAML
limits:
  request_timeout_s: 2
  client_idle_timeout_s: 2
  max_connections: 5
  upstream_timeout_s: 30
YAML
} >"$cfg"
lgw_start $IP "$cfg"

GW_PID=$LGW_PID H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py <<'PY' || fail "see the PROBLEM lines above"
import os, time, h2client
addr, sni, ca, pid = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"], os.environ["GW_PID"]
problems = []

def rss_kb():
    return int([l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0])

def req(extra=(), method="POST", body=b"{}"):
    return h2client.ddb_headers(sni, "ListTables", body, extra=list(extra), method=method)

def stalled(c, what):
    t0 = time.time()
    c.pump(lambda: c.goaway is not None or c.eof, 8)
    took = time.time() - t0
    print("%s: GOAWAY %s, eof %s, after %.1f s" % (what, c.goaway, c.eof, took))
    if c.goaway is None or "FLOW_CONTROL_ERROR" not in str(c.goaway):
        problems.append("%s: no GOAWAY FLOW_CONTROL_ERROR (%s)" % (what, c.goaway))
    elif took > 5:
        problems.append("%s: GOAWAY only after %.1f s" % (what, took))

start = rss_kb()
# (a)
c = h2client.Conn(addr, sni, ca, auto_ack=False)
c.preface(settings={4: 0})
sid = c.request(req(), b"{}")
c.pump(lambda: c.streams[sid].status is not None, 5)
print("(a) stream %d: %s" % (sid, c.streams[sid].summary()[:100]))
if c.streams[sid].status != 200:
    problems.append("(a) no 200 head: %s" % c.streams[sid].summary())
stalled(c, "(a)")
c.close()
# (b)
c = h2client.Conn(addr, sni, ca, auto_ack=False)
c.preface(settings={4: 0})
sids = [c.request(req([("x-h2test", "big 60000")]), b"{}") for _ in range(50)]
c.pump(lambda: all(c.streams[s].status is not None for s in sids), 10)
print("(b) rss %d kB -> %d kB with 50 responses waiting" % (start, rss_kb()))
stalled(c, "(b)")
c.close()
time.sleep(1)
end = rss_kb()
print("(b) rss after: %d kB" % end)
if os.environ.get("ASAN_OPTIONS"):
    print("(b) RSS not checked: a sanitizer build keeps freed memory in quarantine")
elif end - start > 20000:
    problems.append("(b) RSS grew by %d kB and stayed" % (end - start))
# (c)
for m, body_expected in (("HEAD", False), ("OPTIONS", True)):
    c = h2client.Conn(addr, sni, ca)
    c.preface()
    h = [(n, v) for n, v in req(method=m, body=b"") if n != "content-length"]
    s = c.request(h, b"")
    c.wait([s], 5)
    st = c.streams[s]
    print("(c) %s: %s" % (m, st.summary()[:120]))
    if st.status != 405 or st.reset is not None:
        problems.append("(c) %s: not a 405 answer: %s" % (m, st.summary()))
    elif bool(st.body) != body_expected:
        problems.append("(c) %s: body %r" % (m, st.body[:80]))
    c.close()
# (d)
c = h2client.Conn(addr, sni, ca)
c.preface()
for _ in range(10):
    c.request(req([("x-h2test", "hang")]), b"{}")
c.pump(None, 1.0)
ok = 0
for i in range(4):
    try:
        h2client.Conn(addr, sni, ca, alpn=("http/1.1",), timeout=3)
        ok += 1
    except Exception as e:
        print("(d) HTTP/1.1 client %d: %r" % (i, e))
print("(d) %d of 4 new connections accepted next to 10 open streams (max_connections 5)" % ok)
if ok != 4:
    problems.append("(d) only %d of 4 new connections accepted" % ok)
c.close()
for p in problems:
    print("PROBLEM: " + p)
raise SystemExit(1 if problems else 0)
PY
grep -q 'response(s) could not be sent for 2 s (flow-control window shut): GOAWAY' "$LGW_ERR" ||
	fail "no log line for the stalled connection"
h2_gw_alive
lgw_stop
