# needs: gateway
# timeout: 60
#
# Malformed HTTP/2 requests (RFC 9113 sections 8.1.1, 8.2, 8.3, and the
# stricter rules of docs/http2.md) reset their own stream with RST_STREAM
# PROTOCOL_ERROR; the connection and its other streams go on, other
# connections are unaffected, nothing of a refused request goes upstream.
# Client:   h2client.py (header blocks sent as given, no validation), one
#           connection, one signed ListTables per stream, one at a time, each
#           with a unique x-h2test-marker and one defect: an upper-case name;
#           CR, LF, NUL, 0x01 or DEL in a value; white space at either end of
#           a value; a name with a space / "@" / empty; connection,
#           keep-alive, proxy-connection, transfer-encoding, upgrade fields;
#           te: gzip; :path twice; :foo; :path after a regular field; no
#           :method / :scheme / :path / :authority (host kept) / neither;
#           host other than :authority; content-length 5, 1, "abc", twice
#           (DATA is 2 bytes); :scheme http / foo; :path "x", "*", "/a b";
#           :authority with userinfo; CONNECT.  Controls on the same
#           connection: te: trailers, host equal to :authority, :authority
#           nowhere.ddbgate.test (not the TLS name), :method PUT, request
#           trailers.  Then a good, a malformed and a good stream at once; a
#           good stream; a second connection (opened first) sends one.
# Config:   case-local ddbgate 127.0.1.142:443 (sni),
#             endpoints: [{name: bad142, hosts: [record.ddbgate.test],
#                          upstream: 127.0.4.142:8443}]
# Upstream: case-local `h2client.py upstream` "u142" on 127.0.4.142:8443.
# Expect:   each defect: RST_STREAM PROTOCOL_ERROR on its stream, no
#           response, no GOAWAY; te: trailers and an equal host: 200;
#           :authority not the TLS name: 421 ddbgate#MisdirectedRequest;
#           PUT: 405 ddbgate#MethodNotAllowed; trailers: 400 ddbgate#BadRequest
#           (each a whole response with END_STREAM).  The good streams around
#           a bad one: 200.  No marker of a refused stream reached the
#           upstream.  The gateway logs "RST_STREAM PROTOCOL_ERROR: Host
#           disagrees with :authority" for the stream it refused itself.
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
IP=127.0.1.142
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u142 127.0.4.142
{
	lgw_head $IP
	echo "endpoints:"
	lgw_endpoint bad142 $H "127.0.4.142:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

u=$(unique)
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$u" "$CASE_TMP/refused.markers" <<'PY' || fail "see above"
import os, sys, h2client
u, markers_out = sys.argv[1], sys.argv[2]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
other = h2client.Conn(addr, sni, ca)
other.preface()
c = h2client.Conn(addr, sni, ca)
c.preface()
BODY = b"{}"
n = [0]

def base(extra=()):
    n[0] += 1
    mk = "marker-h2bad-%s-%03d-end" % (u, n[0])
    return mk, h2client.ddb_headers(sni, "ListTables", BODY, extra=[("x-h2test-marker", mk)] + list(extra))

def replace(h, name, value):
    return [(k, value if k == name else v) for k, v in h]

def drop(h, name):
    return [(k, v) for k, v in h if k != name]

def add(h, name, value, at=None):
    h = list(h)
    h.insert(len(h) if at is None else at, (name, value))
    return h

def move_after_regular(h, name):
    item = [x for x in h if x[0] == name]
    rest = [x for x in h if x[0] != name]
    i = next(k for k, x in enumerate(rest) if not x[0].startswith(":"))
    return rest[:i + 1] + item + rest[i + 1:]

# (what, header-list transform, body, expectation): "rst" = RST_STREAM PROTOCOL_ERROR,
# or (status, __type or None)
cases = [
    ("upper-case name", lambda h: add(h, "X-Upper-Case", "v"), BODY, "rst"),
    ("CR in a value", lambda h: add(h, "x-bad", "a\rb"), BODY, "rst"),
    ("LF in a value", lambda h: add(h, "x-bad", "a\nx-injected: 1"), BODY, "rst"),
    ("NUL in a value", lambda h: add(h, "x-bad", "a\x00b"), BODY, "rst"),
    ("0x01 in a value", lambda h: add(h, "x-bad", "a\x01b"), BODY, "rst"),
    ("DEL in a value", lambda h: add(h, "x-bad", "a\x7fb"), BODY, "rst"),
    ("leading space in a value", lambda h: add(h, "x-bad", " v"), BODY, "rst"),
    ("trailing tab in a value", lambda h: add(h, "x-bad", "v\t"), BODY, "rst"),
    ("space in a name", lambda h: add(h, "x bad", "v"), BODY, "rst"),
    ("@ in a name", lambda h: add(h, "x@bad", "v"), BODY, "rst"),
    ("empty name", lambda h: add(h, "", "v"), BODY, "rst"),
    ("connection", lambda h: add(h, "connection", "keep-alive"), BODY, "rst"),
    ("keep-alive", lambda h: add(h, "keep-alive", "timeout=5"), BODY, "rst"),
    ("proxy-connection", lambda h: add(h, "proxy-connection", "keep-alive"), BODY, "rst"),
    ("transfer-encoding", lambda h: add(h, "transfer-encoding", "chunked"), BODY, "rst"),
    ("upgrade", lambda h: add(h, "upgrade", "h2c"), BODY, "rst"),
    ("te: gzip", lambda h: add(h, "te", "gzip"), BODY, "rst"),
    (":path twice", lambda h: add(h, ":path", "/", at=4), BODY, "rst"),
    ("unknown pseudo-header :foo", lambda h: add(h, ":foo", "bar", at=4), BODY, "rst"),
    (":path after a regular field", lambda h: move_after_regular(h, ":path"), BODY, "rst"),
    ("no :method", lambda h: drop(h, ":method"), BODY, "rst"),
    ("no :scheme", lambda h: drop(h, ":scheme"), BODY, "rst"),
    ("no :path", lambda h: drop(h, ":path"), BODY, "rst"),
    ("no :authority (host kept)", lambda h: add(drop(h, ":authority"), "host", sni), BODY, "rst"),
    ("neither :authority nor host", lambda h: drop(h, ":authority"), BODY, "rst"),
    ("host other than :authority", lambda h: add(h, "host", "other.ddbgate.test"), BODY, "rst"),
    ("content-length 5, DATA 2", lambda h: replace(h, "content-length", "5"), BODY, "rst"),
    ("content-length 1, DATA 2", lambda h: replace(h, "content-length", "1"), BODY, "rst"),
    ("content-length abc", lambda h: replace(h, "content-length", "abc"), BODY, "rst"),
    ("content-length twice", lambda h: add(h, "content-length", "2"), BODY, "rst"),
    (":scheme http", lambda h: replace(h, ":scheme", "http"), BODY, "rst"),
    (":scheme foo", lambda h: replace(h, ":scheme", "foo"), BODY, "rst"),
    (":path x", lambda h: replace(h, ":path", "x"), BODY, "rst"),
    (":path *", lambda h: replace(h, ":path", "*"), BODY, "rst"),
    (":path with a space", lambda h: replace(h, ":path", "/a b"), BODY, "rst"),
    (":authority with userinfo", lambda h: replace(h, ":authority", "user@" + sni), BODY, "rst"),
    ("CONNECT", lambda h: [(":method", "CONNECT"), (":authority", sni + ":443")] +
        [x for x in h if not x[0].startswith(":")], BODY, "rst"),
    # controls: valid, answered on the stream
    ("te: trailers", lambda h: add(h, "te", "trailers"), BODY, (200, None)),
    ("host equal to :authority", lambda h: add(h, "host", sni), BODY, (200, None)),
    (":authority not the TLS name", lambda h: replace(h, ":authority", "nowhere.ddbgate.test"), BODY,
        (421, "ddbgate#MisdirectedRequest")),
    (":method PUT", lambda h: replace(h, ":method", "PUT"), BODY, (405, "ddbgate#MethodNotAllowed")),
]
problems, refused = [], []
for what, fn, body, want in cases:
    mk, h = base()
    h = fn(h)
    sid = c.next_id
    c.request(h, body)
    c.wait([sid], 3)
    s = c.streams[sid]
    print("%-32s stream %3d -> %s" % (what, sid, s.summary()))
    if want == "rst":
        refused.append(mk)
        if s.reset != "PROTOCOL_ERROR" or s.status is not None:
            problems.append("%s: expected RST_STREAM PROTOCOL_ERROR, got %s" % (what, s.summary()))
    else:
        status, typ = want
        if status != 200:
            refused.append(mk)
        d = s.json() or {}
        if s.status != status or not s.ended or (typ and d.get("__type") != typ):
            problems.append("%s: expected a whole %d %s, got %s" % (what, status, typ or "", s.summary()))
    if c.goaway is not None or c.eof:
        problems.append("%s: the connection ended: %s %s" % (what, c.goaway, c.eof))
        break

if c.goaway is None and not c.eof:
    # request trailers: HEADERS, DATA, HEADERS (END_STREAM)
    mk, h = base()
    refused.append(mk)
    sid = c.next_id
    c.request(h, BODY, end_stream=False)
    c.send_headers(sid, [("x-trailer", "t")], end_stream=True)
    c.wait([sid], 3)
    s = c.streams[sid]
    print("%-32s stream %3d -> %s" % ("request trailers", sid, s.summary()))
    if s.status != 400 or (s.json() or {}).get("__type") != "ddbgate#BadRequest":
        problems.append("request trailers: expected 400 ddbgate#BadRequest, got %s" % s.summary())
    # a good, a bad and a good stream at once
    mk1, h1 = base()
    mkb, hb = base([("X-Bad", "v")])
    mk2, h2 = base()
    refused.append(mkb)
    sids = [c.next_id, c.next_id + 2, c.next_id + 4]
    c.request(h1, BODY, sid=sids[0])
    c.request(hb, BODY, sid=sids[1])
    c.request(h2, BODY, sid=sids[2])
    c.wait(sids, 5)
    got = [c.streams[x] for x in sids]
    print("good/bad/good at once: %s" % " | ".join(x.summary() for x in got))
    if got[0].status != 200 or got[1].reset != "PROTOCOL_ERROR" or got[2].status != 200:
        problems.append("good/bad/good at once: expected 200, RST_STREAM PROTOCOL_ERROR, 200")
    if (got[0].json() or {}).get("TableNames") != [mk1] or (got[2].json() or {}).get("TableNames") != [mk2]:
        problems.append("good/bad/good at once: the good streams did not get their own answers")
for conn, what in ((c, "the same connection"), (other, "a second connection")):
    mk, h = base()
    sid = conn.request(h, BODY)
    conn.wait([sid], 5)
    print("%s, stream %d: %s" % (what, sid, conn.streams[sid].summary()))
    if conn.streams[sid].status != 200:
        problems.append("%s: no 200 at the end" % what)
open(markers_out, "w").write("\n".join(refused) + "\n")
for p in problems:
    print("PROBLEM: " + p)
if problems:
    print(c.dump(30))
sys.exit(1 if problems else 0)
PY
mapfile -t refused <"$CASE_TMP/refused.markers"
h2up_expect_marker_absent u142 "${refused[@]}"
grep -q 'RST_STREAM PROTOCOL_ERROR: Host disagrees with :authority' "$LGW_ERR" ||
	fail "no log line 'RST_STREAM PROTOCOL_ERROR: Host disagrees with :authority'"
h2_gw_alive
step "the case-local gateway stops cleanly"
lgw_stop
