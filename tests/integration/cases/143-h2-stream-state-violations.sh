# needs: gateway
# timeout: 60
#
# Connection errors of RFC 9113 (frames on the wrong stream, stream-state
# and stream-id violations, bad SETTINGS, PING and WINDOW_UPDATE frames,
# header-block and frame-size errors, a bad preface) end the connection
# with GOAWAY and the RFC's error code; new connections, and a connection
# open meanwhile, are served normally.
# Client:   h2client.py, raw frames (hyperframe) after a normal preface and
#           one answered ListTables (stream 1), each violation on a new
#           connection: DATA on stream 0; HEADERS on stream 2; DATA on a
#           half-closed (remote) stream (its request answered after 1 s);
#           DATA on a closed stream (answered, END_STREAM both ways); HEADERS
#           on stream 5, then on stream 3; WINDOW_UPDATE 0 on the connection;
#           WINDOW_UPDATE 0 on an open stream; WINDOW_UPDATE overflowing the
#           connection window; RST_STREAM / WINDOW_UPDATE on an idle stream;
#           SETTINGS ENABLE_PUSH 2, INITIAL_WINDOW_SIZE 2^31, MAX_FRAME_SIZE
#           100; SETTINGS of 5 bytes; SETTINGS ACK with a payload; SETTINGS
#           on stream 1; PING of 7 bytes; PING on stream 1; CONTINUATION
#           without HEADERS; HEADERS without END_HEADERS, then DATA; a header
#           block that is not HPACK; DATA of 20000 bytes (max frame size
#           16384); PUSH_PROMISE from the client; HEADERS on stream 1 again
#           after its END_STREAM; HEADERS depending on itself.  A preface that
#           is not HTTP/2's; an HTTP/1.1 request on the h2 connection.
#           Controls: an unknown frame type and a PRIORITY frame for an idle
#           stream (both to be ignored).
# Config:   case-local ddbgate 127.0.1.143:443 (sni),
#             endpoints: [{name: st143, hosts: [record.ddbgate.test],
#                          upstream: 127.0.4.143:8443}]
# Upstream: case-local `h2client.py upstream` "u143" on 127.0.4.143:8443.
# Expect:   each violation: GOAWAY with PROTOCOL_ERROR (stream 0, even or
#           lower stream ids, idle streams, bad SETTINGS values, CONTINUATION,
#           PING/SETTINGS on a stream, PUSH_PROMISE, WINDOW_UPDATE 0,
#           self-dependency), STREAM_CLOSED (DATA after END_STREAM, HEADERS on
#           a closed stream), FLOW_CONTROL_ERROR (window overflow, initial
#           window 2^31), FRAME_SIZE_ERROR (SETTINGS/PING lengths, oversized
#           DATA), COMPRESSION_ERROR (not HPACK); last_stream_id 1 (the stream
#           processed; or the id of the stream whose frames were being read,
#           3 or 5, where the violation is inside its frames); then the
#           connection is closed within 2 s.  Where RFC 9113 allows a stream
#           error instead (DATA after END_STREAM, WINDOW_UPDATE 0 on a stream,
#           a self-dependency), RST_STREAM with that code on the stream is
#           also accepted, the connection then still answering.  Bad preface
#           / HTTP/1.1: closed within 3 s without an answer (a GOAWAY
#           PROTOCOL_ERROR first is allowed: RFC 9113 3.4).  Controls:
#           ignored, the next stream answered 200.  After every violation a
#           new connection gets 200; the connection opened first still does
#           at the end; the gateway still runs.
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
IP=127.0.1.143
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u143 127.0.4.143
{
	lgw_head $IP
	echo "endpoints:"
	lgw_endpoint st143 $H "127.0.4.143:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py <<'PY' || fail "see above"
import os, struct, sys, h2client
from hyperframe.frame import DataFrame, RstStreamFrame, WindowUpdateFrame
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
problems = []

def raw_frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

def good(c, sid=None, how=None):
    body = b"{}"
    extra = [("x-h2test", how)] if how else []
    return c.request(h2client.ddb_headers(sni, "ListTables", body, extra=extra), body, sid=sid)

def opened():
    """A connection with stream 1 answered."""
    c = h2client.Conn(addr, sni, ca)
    c.preface()
    sid = good(c)
    if not c.wait([sid], 5) or c.streams[sid].status != 200:
        raise RuntimeError("stream 1 not answered: %s\n%s" % (c.streams[sid].summary(), c.dump()))
    return c

def check_new_connection(what):
    c = h2client.Conn(addr, sni, ca)
    c.preface()
    sid = good(c)
    c.wait([sid], 5)
    if c.streams[sid].status != 200:
        problems.append("%s: a new connection afterwards got %s" % (what, c.streams[sid].summary()))
    c.close()

def expect_goaway(c, what, codes, last=1, stream_error_ok=None):
    """GOAWAY with one of codes (or, if stream_error_ok=(sid, code), RST_STREAM code
    on sid with the connection still answering), then EOF within 2 s."""
    if stream_error_ok is not None:
        sid, code = stream_error_ok
        c.pump(lambda: c.goaway is not None or c.streams.get(sid) is not None and c.streams[sid].reset is not None, 3)
        st = c.streams.get(sid)
        if c.goaway is None and st is not None and st.reset == code:
            nsid = good(c)
            c.wait([nsid], 5)
            ok = c.streams[nsid].status == 200
            print("%-44s -> RST_STREAM %s on stream %d (a stream error), next stream %s" % (what, code, sid,
                  "200" if ok else c.streams[nsid].summary()))
            if not ok:
                problems.append("%s: the connection did not answer after the stream error" % what)
            return
    c.wait_goaway(3)
    closed = c.wait_eof(3)
    g = c.goaway
    print("%-44s -> %s, %s" % (what, g, ("closed after %.2f s (%s)" % (c.t_eof - g.t, c.eof)) if closed and g
                                 else ("closed (%s)" % c.eof if closed else "still open")))
    if g is None:
        problems.append("%s: no GOAWAY (%s); streams: %s" % (what, "connection closed" if closed else "connection still open",
                        ", ".join("%d %s" % (k, v.summary()) for k, v in sorted(c.streams.items()) if k > 1)))
        print(c.dump(12))
        return
    if g.code not in codes:
        problems.append("%s: GOAWAY %s, expected %s" % (what, g.code, " or ".join(codes)))
    lasts = last if isinstance(last, tuple) else (last,)
    if g.last not in lasts:
        problems.append("%s: GOAWAY last_stream_id %d, expected %s" % (what, g.last, " or ".join(map(str, lasts))))
    if not closed or c.t_eof - g.t > 2:
        problems.append("%s: the connection was not closed within 2 s of the GOAWAY" % what)

# --- a bystander connection, open throughout ---
bystander = opened()

# (what, codes, action(c) -> optional stream_error_ok)
def a_data0(c): c.send_raw(raw_frame(0, 0, 0, b"x"))
def a_even(c):
    body = b"{}"
    c.send_headers(2, h2client.ddb_headers(sni, "ListTables", body))
def a_half_closed(c):
    sid = good(c, how="delay 1")
    f = DataFrame(sid, b"more")
    c.send_frame(f)
    return (sid, "STREAM_CLOSED")
def a_closed(c):
    c.send_frame(DataFrame(1, b"late"))
    return (1, "STREAM_CLOSED")
def a_lower(c):
    body = b"{}"
    c.send_headers(5, h2client.ddb_headers(sni, "ListTables", body), end_stream=False)
    c.send_headers(3, h2client.ddb_headers(sni, "ListTables", body), end_stream=False)
def a_wu0_conn(c): c.send_raw(raw_frame(8, 0, 0, struct.pack(">I", 0)))
def a_wu0_stream(c):
    sid = good(c, how="delay 1")
    c.send_raw(raw_frame(8, 0, sid, struct.pack(">I", 0)))
    return (sid, "PROTOCOL_ERROR")
def a_wu_overflow(c):
    c.send_frame(WindowUpdateFrame(0, window_increment=2**31 - 1))
    c.send_frame(WindowUpdateFrame(0, window_increment=2**31 - 1))
def a_rst_idle(c): c.send_frame(RstStreamFrame(7, error_code=8))
def a_wu_idle(c): c.send_frame(WindowUpdateFrame(7, window_increment=100))
def a_push(c): c.send_raw(raw_frame(4, 0, 0, struct.pack(">HI", 2, 2)))
def a_iws(c): c.send_raw(raw_frame(4, 0, 0, struct.pack(">HI", 4, 2**31)))
def a_mfs(c): c.send_raw(raw_frame(4, 0, 0, struct.pack(">HI", 5, 100)))
def a_settings5(c): c.send_raw(raw_frame(4, 0, 0, b"\x00\x03\x00\x00\x00"))
def a_settings_ack(c): c.send_raw(raw_frame(4, 1, 0, struct.pack(">HI", 3, 10)))
def a_settings_s1(c): c.send_raw(raw_frame(4, 0, 1, b""))
def a_ping7(c): c.send_raw(raw_frame(6, 0, 0, b"1234567"))
def a_ping_s1(c): c.send_raw(raw_frame(6, 0, 1, b"12345678"))
def a_cont(c): c.send_raw(raw_frame(9, 4, 3, c.block([(":method", "POST")])))
def a_interleave(c):
    block = c.block(h2client.ddb_headers(sni, "ListTables", b"{}"))
    c.send_raw(raw_frame(1, 0, 3, block[:10]))          # HEADERS, no END_HEADERS
    c.send_raw(raw_frame(0, 1, 1, b"x"))                 # DATA on another stream
def a_hpack(c): c.send_raw(raw_frame(1, 5, 3, b"\xff\xff\xff\xff\xff\x7f"))  # END_STREAM|END_HEADERS, bad index
def a_bigframe(c):
    body = b"{}"
    c.send_headers(3, h2client.ddb_headers(sni, "ListTables", body), end_stream=False)
    c.send_raw(raw_frame(0, 1, 3, b"x" * 20000))
def a_push_promise(c): c.send_raw(raw_frame(5, 4, 1, struct.pack(">I", 2) + c.block([(":method", "GET")])))
def a_headers_again(c):
    body = b"{}"
    c.send_headers(1, h2client.ddb_headers(sni, "ListTables", body))
    return None
def a_self_dep(c):
    body = b"{}"
    block = c.block(h2client.ddb_headers(sni, "ListTables", body))
    c.send_raw(raw_frame(1, 0x25, 3, struct.pack(">IB", 3, 15) + block))  # PRIORITY|END_HEADERS|END_STREAM
    return (3, "PROTOCOL_ERROR")

violations = [
    ("DATA on stream 0", ["PROTOCOL_ERROR"], a_data0, 1),
    ("HEADERS on an even stream (2)", ["PROTOCOL_ERROR"], a_even, 1),
    ("DATA on a half-closed (remote) stream", ["STREAM_CLOSED"], a_half_closed, 3),
    ("DATA on a closed stream", ["STREAM_CLOSED"], a_closed, 1),
    ("HEADERS on stream 5, then on stream 3", ["PROTOCOL_ERROR"], a_lower, (1, 5)),
    ("HEADERS on stream 1 after its END_STREAM", ["STREAM_CLOSED", "PROTOCOL_ERROR"], a_headers_again, 1),
    ("WINDOW_UPDATE 0 on the connection", ["PROTOCOL_ERROR"], a_wu0_conn, 1),
    ("WINDOW_UPDATE 0 on an open stream", ["PROTOCOL_ERROR"], a_wu0_stream, 3),
    ("WINDOW_UPDATE overflowing the connection", ["FLOW_CONTROL_ERROR"], a_wu_overflow, 1),
    ("RST_STREAM on an idle stream", ["PROTOCOL_ERROR"], a_rst_idle, 1),
    ("WINDOW_UPDATE on an idle stream", ["PROTOCOL_ERROR"], a_wu_idle, 1),
    ("SETTINGS ENABLE_PUSH 2", ["PROTOCOL_ERROR"], a_push, 1),
    ("SETTINGS INITIAL_WINDOW_SIZE 2^31", ["FLOW_CONTROL_ERROR"], a_iws, 1),
    ("SETTINGS MAX_FRAME_SIZE 100", ["PROTOCOL_ERROR"], a_mfs, 1),
    ("SETTINGS of 5 bytes", ["FRAME_SIZE_ERROR"], a_settings5, 1),
    ("SETTINGS ACK with a payload", ["FRAME_SIZE_ERROR"], a_settings_ack, 1),
    ("SETTINGS on stream 1", ["PROTOCOL_ERROR"], a_settings_s1, 1),
    ("PING of 7 bytes", ["FRAME_SIZE_ERROR"], a_ping7, 1),
    ("PING on stream 1", ["PROTOCOL_ERROR"], a_ping_s1, 1),
    ("CONTINUATION without HEADERS", ["PROTOCOL_ERROR"], a_cont, 1),
    ("HEADERS without END_HEADERS, then DATA", ["PROTOCOL_ERROR"], a_interleave, (1, 3)),
    ("a header block that is not HPACK", ["COMPRESSION_ERROR"], a_hpack, (1, 3)),
    ("DATA of 20000 bytes (frame size 16384)", ["FRAME_SIZE_ERROR"], a_bigframe, (1, 3)),
    ("PUSH_PROMISE from the client", ["PROTOCOL_ERROR"], a_push_promise, 1),
    ("HEADERS depending on itself", ["PROTOCOL_ERROR"], a_self_dep, 1),
]
for what, codes, action, last in violations:
    if len(problems) >= 6:
        problems.append("(stopped after %d problems)" % len(problems))
        break
    try:
        c = opened()
    except (OSError, RuntimeError) as e:
        problems.append("%s: setting up: %s" % (what, e))
        continue
    sok = action(c)
    expect_goaway(c, what, codes, last=last, stream_error_ok=sok)
    c.close()
    check_new_connection(what)

# --- bad prefaces ---
for what, data in (("a preface that is not HTTP/2's", b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n" + b"\0" * 9),
                   ("an HTTP/1.1 request on an h2 connection",
                    b"POST / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nContent-Length: 2\r\n\r\n{}")):
    c = h2client.Conn(addr, sni, ca)
    c.send_raw(data)
    closed = c.wait_eof(3)
    print("%-44s -> %s, %s" % (what, c.goaway, "closed (%s)" % c.eof if closed else "still open"))
    if not closed:
        problems.append("%s: the connection is still open after 3 s" % what)
    if c.goaway is not None and c.goaway.code != "PROTOCOL_ERROR":
        problems.append("%s: GOAWAY %s" % (what, c.goaway.code))
    if any(s.status is not None for s in c.streams.values()) or b"HTTP/1.1" in c.buf:
        problems.append("%s: it was answered" % what)
    c.close()
    check_new_connection(what)

# --- controls: to be ignored ---
c = opened()
c.send_raw(raw_frame(0xfa, 0, 0, b"extension"))
c.send_raw(raw_frame(2, 0, 9, struct.pack(">IB", 0, 15)))   # PRIORITY for idle stream 9
sid = good(c)
c.wait([sid], 5)
print("%-44s -> stream %d: %s, %s" % ("unknown frame type, PRIORITY on an idle stream", sid,
                                        c.streams[sid].summary(), c.goaway))
if c.goaway is not None or c.streams[sid].status != 200:
    problems.append("an unknown frame type / PRIORITY frame was not ignored")
sid = good(bystander)
bystander.wait([sid], 5)
print("the connection opened first, stream %d: %s" % (sid, bystander.streams[sid].summary()))
if bystander.streams[sid].status != 200:
    problems.append("the connection opened first no longer answers")
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
h2_gw_alive
grep -c 'HTTP/2 protocol error\|\[h2\]: protocol error' "$LGW_ERR" | sed 's/^/gateway log lines about HTTP\/2 protocol errors: /'
step "the case-local gateway stops cleanly"
lgw_stop
