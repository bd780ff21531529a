# needs: gateway
# timeout: 60
#
# The bounds of an HTTP/2 connection: concurrent streams, the header list,
# each body and the bodies held at once, the time a request may take, the
# time a connection may stay idle.  A stream over a bound is answered or
# refused alone; the connection goes on.
# Client:   h2client.py, signed ListTables, each step on a new connection:
#           (a) the server's SETTINGS and connection window;
#           (b) 3 streams (upstream answers after 1 s) sent with the preface,
#               before the client has acknowledged the server's SETTINGS, then
#               a 4th once two are done; (c) the same after the SETTINGS
#               exchange (ACK sent, a PING answered), the third stream 0.3 s
#               after the first two;
#           (d) a 20000-byte field value (HEADERS + CONTINUATION); 100 fields
#               of 10 bytes; then one stream within the limits;
#           (e) a 70000-byte body (Content-Length 70000); then exactly 65536;
#           (f) three streams sending 60000 body bytes (JSON) each without ending;
#               then the first two end;
#           (g) HEADERS without END_STREAM and no DATA;
#           (h) one stream, then nothing;
#           (i) 5000 x (HEADERS with END_STREAM + RST_STREAM CANCEL) as fast
#               as they can be written ("rapid reset", CVE-2023-44487);
#           (j) windows of 2^31-1, a 32 MiB response, then not reading for 6 s.
# Config:   case-local ddbgate 127.0.1.144:443 (sni),
#             endpoints: [{name: lim144, hosts: [record.ddbgate.test],
#                          upstream: 127.0.4.144:8443}]
#             limits: {max_header_bytes: 16384, max_body_bytes: 65536,
#                      request_timeout_s: 2, client_idle_timeout_s: 2}
#           and for (a)-(c) h2_max_concurrent_streams: 2 (then a restart
#           without it: (f) needs three streams at once).
# Upstream: case-local `h2client.py upstream` "u144" on 127.0.4.144:8443.
# Expect:   (a) MAX_CONCURRENT_STREAMS 2 (100 without the key), INITIAL_WINDOW_SIZE 262144,
#           MAX_HEADER_LIST_SIZE 16384, ENABLE_PUSH 0; connection window
#           1048576.  (b): streams 1 and 3 answered 200, stream 5
#           RST_STREAM REFUSED_STREAM (RFC 9113 5.1.2 allows PROTOCOL_ERROR
#           too) and never upstream, no GOAWAY; the 4th stream 200.  (c):
#           over the limit the client acknowledged: GOAWAY PROTOCOL_ERROR
#           (nghttp2; RFC 9113 5.4.1), stream 5 never upstream.
#           (d) each: 431 ddbgate#RequestHeaderFieldsTooLarge (docs/http2.md;
#           not a reset), never upstream; the next stream 200.  (e) 413
#           ddbgate#RequestEntityTooLarge, never upstream (then RST_STREAM
#           NO_ERROR if the client had not finished); 65536 bytes: 200 with
#           Content-Length 65536 upstream.  (f) stream 5 RST_STREAM
#           REFUSED_STREAM (held bodies over 2 x max_body_bytes); 1 and 3:
#           200.  (g) 408 ddbgate#RequestTimeout 1.5-4 s after the HEADERS;
#           the next stream 200.  (h) GOAWAY NO_ERROR 1.5-4 s after the
#           stream ended, then the connection closed.  (i) GOAWAY
#           (ENHANCE_YOUR_CALM, INTERNAL_ERROR or PROTOCOL_ERROR: nghttp2's
#           reset rate limit) before stream 9999; at most 100 of the
#           cancelled requests reach the upstream; a new connection: 200.
#           (j) the connection is cut (the body never ends) once the
#           gateway's writes stalled for client_idle_timeout_s.
#           The gateway still runs; last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
IP=127.0.1.144
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u144 127.0.4.144
write_cfg() { # [MAX-STREAMS]
	{
		lgw_head $IP
		echo "endpoints:"
		lgw_endpoint lim144 $H "127.0.4.144:$UP_PORT"
		cat <<YAML
limits:
  max_header_bytes: 16384
  max_body_bytes: 65536
  request_timeout_s: 2
  client_idle_timeout_s: 2
YAML
		[ -n "${1:-}" ] && echo "  h2_max_concurrent_streams: $1"
	} >"$cfg"
}
cat >"$CASE_TMP/limits.py" <<'PY'
import glob, os, struct, sys, time, h2client
from hyperframe.frame import PingFrame, WindowUpdateFrame
phase, u, markers_out, updir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems, refused = [], []
n = [0]

def req(extra=(), body=b"{}", how=None):
    n[0] += 1
    mk = "marker-h2lim-%s-%03d-end" % (u, n[0])
    ex = [("x-h2test-marker", mk)] + ([("x-h2test", how)] if how else []) + list(extra)
    return mk, h2client.ddb_headers(sni, "ListTables", body, extra=ex)

def raw_frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

def conn(wait=True):
    c = h2client.Conn(addr, sni, ca)
    c.preface(wait=wait)
    return c

def good_after(c, what):
    mk, h = req()
    sid = c.request(h, b"{}")
    c.wait([sid], 5)
    if c.streams[sid].status != 200:
        problems.append("%s: the next stream got %s" % (what, c.streams[sid].summary()))
    else:
        print("%s: the next stream, %d: 200" % (what, sid))

def expect_error(c, sid, status, typ, what):
    s = c.streams[sid]
    print("%s: stream %d -> %s" % (what, sid, s.summary()))
    d = s.json() or {}
    if s.status != status or d.get("__type") != typ or not d.get("message") or s.header("proxy-status") is None:
        problems.append("%s: expected %d %s with a message and Proxy-Status, got %s" % (what, status, typ, s.summary()))

def phase_streams():
    # (a) SETTINGS
    c = conn()
    print("(a) SETTINGS: %s; connection window %d" % (c.settings, c.conn_window))
    c.pump(lambda: c.conn_window >= 1048576, 2)
    want = {"MAX_CONCURRENT_STREAMS": 2, "INITIAL_WINDOW_SIZE": 262144, "MAX_HEADER_LIST_SIZE": 16384, "ENABLE_PUSH": 0}
    for k, v in want.items():
        if c.settings.get(k) != v:
            problems.append("(a) SETTINGS %s is %r, expected %d" % (k, c.settings.get(k), v))
    if c.conn_window != 1048576:
        problems.append("(a) the connection window is %d, expected 1048576" % c.conn_window)
    c.close()

    # (b), (c) a third concurrent stream
    for what, acked in (("(b) before the SETTINGS ACK", False), ("(c) after the SETTINGS exchange", True)):
        c = conn(wait=acked)
        if acked:
            p = PingFrame(0, opaque_data=b"h2limits")
            c.send_frame(p)
            c.pump(lambda: any("PING" in t and "ACK" in t for t in c.trace), 3)
        mks = []
        for sid in (1, 3, 5):
            mk, h = req(how="delay 1")
            mks.append(mk)
            if sid == 5 and acked:
                c.pump(None, 0.3)  # 1 and 3 are upstream by now
            c.request(h, b"{}", sid=sid)
        refused.append(mks[2])
        c.wait([1, 3, 5], 5, stop_on_goaway=False)
        print("%s: %s | %s | %s; %s" % (what, c.streams[1].summary(), c.streams[3].summary(), c.streams[5].summary(), c.goaway))
        if acked:
            # a client that exceeds the limit it acknowledged: nghttp2 ends
            # the connection (RFC 9113 5.4.1 allows a connection error)
            if c.goaway is None or "PROTOCOL_ERROR" not in str(c.goaway):
                problems.append("%s: no GOAWAY PROTOCOL_ERROR for a client over the limit it acknowledged: %s, eof %s"
                                % (what, c.goaway, c.eof))
            c.close()
            continue
        if c.goaway is not None or c.eof:
            problems.append("%s: the connection ended: %s, %s (RFC 9113 5.1.2: a stream error for the third stream)"
                            % (what, c.goaway, c.eof))
        if c.streams[5].reset not in ("REFUSED_STREAM", "PROTOCOL_ERROR") or c.streams[5].status is not None:
            problems.append("%s: stream 5 not refused: %s" % (what, c.streams[5].summary()))
        for sid in (1, 3):
            if c.streams[sid].status != 200:
                problems.append("%s: stream %d not answered 200: %s" % (what, sid, c.streams[sid].summary()))
        if c.goaway is None and not c.eof:
            good_after(c, what)
        c.close()

def phase_rest():
    # (d) header list
    c = conn()
    if c.settings.get("MAX_CONCURRENT_STREAMS") != 100:
        problems.append("MAX_CONCURRENT_STREAMS is %r by default, expected 100" % c.settings.get("MAX_CONCURRENT_STREAMS"))
    mk, h = req(extra=[("x-big", "b" * 20000)])
    refused.append(mk)
    sid = c.request(h, b"{}")
    c.wait([sid], 5)
    expect_error(c, sid, 431, "ddbgate#RequestHeaderFieldsTooLarge", "(d) a 20000-byte field")
    mk, h = req(extra=[("x-f-%03d" % i, "v") for i in range(100)])
    refused.append(mk)
    sid = c.request(h, b"{}")
    c.wait([sid], 5)
    expect_error(c, sid, 431, "ddbgate#RequestHeaderFieldsTooLarge", "(d) 100 fields")
    if c.goaway is None and not c.eof:
        good_after(c, "(d)")
    else:
        problems.append("(d) the connection ended: %s %s" % (c.goaway, c.eof))
    c.close()

    # (e) body
    c = conn()
    body = b'{"pad":"' + b"x" * (70000 - 10) + b'"}'
    mk, h = req(body=body)
    refused.append(mk)
    sid = c.request(h, body)
    c.wait([sid], 5)
    expect_error(c, sid, 413, "ddbgate#RequestEntityTooLarge", "(e) a 70000-byte body")
    if c.streams[sid].reset not in (None, "NO_ERROR"):
        problems.append("(e) the 413 stream was reset with %s" % c.streams[sid].reset)
    body = b'{"pad":"' + b"y" * (65536 - 10) + b'"}'
    mk, h = req(body=body)
    sid = c.request(h, body)
    c.wait([sid], 5)
    print("(e) a 65536-byte body: stream %d -> %s" % (sid, c.streams[sid].summary()))
    if c.streams[sid].status != 200:
        problems.append("(e) a body of exactly max_body_bytes was not answered 200")
    else:
        got = b"".join(open(f, "rb").read() for f in glob.glob(updir + "/conn-*.in"))
        i = got.find(mk.encode())
        if i < 0 or b"Content-Length: 65536\r\n\r\n" + body not in got:
            problems.append("(e) the 65536-byte request did not reach the upstream whole with Content-Length: 65536")
    c.close()

    # (f) bodies held at once
    c = conn()
    chunk = b'{"pad":"' + b"z" * (60000 - 10) + b'"}'
    sids = []
    for i in range(3):
        mk, h = req(body=chunk)
        h = [(k, v) for k, v in h if k != "content-length"]
        sid = c.next_id
        c.request(h, b"", end_stream=False)
        c.send_data(sid, chunk, end_stream=False)
        sids.append(sid)
        if i == 2:
            refused.append(mk)
    c.pump(lambda: c.streams[sids[2]].done or c.goaway is not None, 3)
    print("(f) third held body: stream %d -> %s" % (sids[2], c.streams[sids[2]].summary()))
    if c.streams[sids[2]].reset != "REFUSED_STREAM":
        problems.append("(f) the third held body was not refused with REFUSED_STREAM: %s" % c.streams[sids[2]].summary())
    for sid in sids[:2]:
        c.send_data(sid, b"", end_stream=True)
    c.wait(sids[:2], 5)
    for sid in sids[:2]:
        print("(f) stream %d -> %s" % (sid, c.streams[sid].summary()))
        if c.streams[sid].status != 200:
            problems.append("(f) stream %d (held body, then ended) not answered 200" % sid)
    c.close()

    # (g) a request that never ends
    c = conn()
    mk, h = req()
    refused.append(mk)
    t0 = time.time()
    sid = c.request(h, b"", end_stream=False)
    c.wait([sid], 6)
    dt = (c.streams[sid].t_head or time.time()) - t0
    expect_error(c, sid, 408, "ddbgate#RequestTimeout", "(g) HEADERS, no DATA (%.2f s)" % dt)
    if not 1.5 <= dt <= 4:
        problems.append("(g) the 408 came after %.2f s, expected 1.5-4 s" % dt)
    good_after(c, "(g)")
    c.close()

    # (h) idle
    c = conn()
    mk, h = req()
    sid = c.request(h, b"{}")
    c.wait([sid], 5)
    t_end = c.streams[sid].t_end or time.time()
    c.wait_goaway(6)
    closed = c.wait_eof(3)
    g = c.goaway
    print("(h) idle: %s %.2f s after the stream ended; %s" % (g, (g.t - t_end) if g else -1, "closed" if closed else "still open"))
    if g is None or g.code != "NO_ERROR" or not 1.5 <= g.t - t_end <= 4 or not closed:
        problems.append("(h) expected GOAWAY NO_ERROR 1.5-4 s after the last stream, then the close")

    # (i) rapid reset (CVE-2023-44487): HEADERS + RST_STREAM, again and again
    c = conn()
    mk, h = req()
    block = None
    sent, buf = 0, b""
    for i in range(5000):
        sid = 1 + 2 * i
        block = c.block(h)
        buf += raw_frame(1, 5, sid, block) + raw_frame(3, 0, sid, struct.pack(">I", 8))
        sent += 1
        if len(buf) > 65536:
            c.send_raw(buf)
            buf = b""
            c.pump(None, 0.001)
            if c.eof or c.goaway:
                break
    if not c.eof and not c.goaway:
        c.send_raw(buf)
    c.eof = None  # a failed write: what was sent back is still to be read
    c.wait_goaway(3)
    time.sleep(0.5)
    got = b"".join(open(f, "rb").read() for f in glob.glob(updir + "/conn-*.in"))
    fwd = got.count(mk.encode())
    print("(i) %d HEADERS + RST_STREAM pairs sent: %s; %d of them reached the upstream" % (sent, c.goaway, fwd))
    if c.goaway is None or c.goaway.code not in ("ENHANCE_YOUR_CALM", "INTERNAL_ERROR", "PROTOCOL_ERROR") \
            or c.goaway.last >= 9999:
        problems.append("(i) rapid reset: no GOAWAY before 5000 streams")
    if fwd > 100:
        problems.append("(i) rapid reset: %d cancelled requests reached the upstream" % fwd)
    c.close()
    c = conn()
    good_after(c, "(i)")
    c.close()

    # (j) a client that stops reading
    c = conn()
    c.send_frame(WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535))
    c.send_raw(raw_frame(4, 0, 0, struct.pack(">HI", 4, 2**31 - 1)))  # INITIAL_WINDOW_SIZE
    BIG = 32 * 1024 * 1024
    mk, h = req(body=b'{"TableName":"t144"}', how="big %d" % BIG)
    sid = c.request(h, b'{"TableName":"t144"}')
    t0 = time.time()
    time.sleep(6)  # not reading: the gateway's writes stall
    c.pump(lambda: c.eof is not None or c.streams[sid].done, 10)
    s = c.streams[sid]
    print("(j) not reading for 6 s: %d of %d body bytes, %s, connection %s after %.1f s" % (
        len(s.body), BIG, "ended" if s.ended else "not ended", c.eof, (c.t_eof or time.time()) - t0))
    if s.ended or c.eof is None:
        problems.append("(j) a client that stopped reading was not cut (limits.client_idle_timeout_s 2)")
    c.close()

(phase_streams if phase == "streams" else phase_rest)()
open(markers_out, "a").write("".join(m + "\n" for m in refused))
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY

step "(a)-(c) h2_max_concurrent_streams: 2"
write_cfg 2
lgw_start $IP "$cfg"
u=$(unique)
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py streams "$u-s" "$CASE_TMP/refused.markers" "$CASE_TMP/up-u144" <"$CASE_TMP/limits.py"
rc1=$?
h2_gw_alive
lgw_stop
step "(d)-(h) the other limits (h2_max_concurrent_streams: default, 100)"
write_cfg
lgw_start $IP "$cfg"
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py rest "$u-r" "$CASE_TMP/refused.markers" "$CASE_TMP/up-u144" <"$CASE_TMP/limits.py"
rc2=$?
mapfile -t refused <"$CASE_TMP/refused.markers"
h2up_expect_marker_absent u144 "${refused[@]}"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || fail "see the PROBLEM lines above"
h2_gw_alive
step "the case-local gateway stops cleanly"
lgw_stop
