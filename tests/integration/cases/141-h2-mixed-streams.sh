# needs: gateway
# timeout: 60
#
# One HTTP/2 connection, many streams at once, each with its own fate: each
# stream is one request through the same path as HTTP/1.1 (policy, upstream,
# errors, audit and access log), and what happens to one stream happens to
# that stream only.  Then a load of 200 requests over 4 connections.
# Client:   (a) h2client.py, one connection, these streams sent together
#           (signed, each with a unique x-h2test-marker): 1 ListTables;
#           3 DeleteTable (denied by the policy); 5 ListTables, upstream
#           closes without an answer; 7 ListTables, upstream never answers;
#           9 ListTables, upstream cuts its body; 11 ListTables, upstream
#           answers after 0.5 s; 13 DescribeTable, upstream answers 300000
#           bytes chunked; 15 ListTables, upstream answers its own 400; then,
#           once all are done, 17 ListTables on the same connection; a second
#           connection opened before (a) sends one ListTables after it.
#           (b) h2load -n 200 -c 4 -m 10, signed ListTables (--connect-to).
# Config:   case-local ddbgate 127.0.1.141:443 (sni), audit log in a file,
#             endpoints: [{name: mix141, hosts: [record.ddbgate.test],
#                          upstream: 127.0.4.141:8443, policy: Allow
#                          dynamodb:*, Deny (Sid NoDeleteTable)
#                          dynamodb:DeleteTable, enforcement: enforce}]
#             limits: {upstream_timeout_s: 1}
# Upstream: case-local `h2client.py upstream` "u141" on 127.0.4.141:8443.
# Expect:   (a) 1: 200, the upstream's body naming marker 1, done before 7
#           and 11 (no stream waits for another); 3: 400
#           com.amazon.coral.service#AccessDeniedException (the HTTP/1.1
#           body: Content-Type application/x-amz-json-1.0, a Message), its
#           marker never upstream; 5: 502 ddbgate#ConnectionTerminated
#           (Proxy-Status error=connection_terminated); 7: 504
#           ddbgate#ResponseTimeout (error=http_response_timeout); 9: its
#           200 head, part of the body, then RST_STREAM INTERNAL_ERROR, never
#           END_STREAM; 11: 200 after >= 0.5 s; 13: 200, exactly
#           big_body(300000), no transfer-encoding or connection field;
#           15: 400 with the upstream's own JSON and x-amzn-RequestId
#           (up-u141-...); no GOAWAY; 17 and the second connection: 200.
#           Access log: one line per stream with its h2_stream=N, status and
#           error= (http_request_denied, connection_terminated,
#           http_response_timeout, http_response_incomplete); audit: one
#           line per stream, DeleteTable decision deny / NoDeleteTable /
#           status 400, the others allow.
#           (b) "200 succeeded, 0 failed", "200 2xx"; 200 access-log lines
#           with status=200 and h2_stream= from 4 client connections; the
#           upstream connections are reused (fewer new ones than 60, at
#           least 100 lines with reused=1).
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
IP=127.0.1.141
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
h2up_start u141 127.0.4.141
cat >"$CASE_TMP/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*" },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*" }
  ]
}
JSON
{
	lgw_head $IP
	echo "audit:"
	echo "  path: $CGW_AUDIT"
	echo "endpoints:"
	lgw_endpoint mix141 $H "127.0.4.141:$UP_PORT"
	printf '    policy: %s\n    enforcement: enforce\n' "$CASE_TMP/policy.json"
	printf 'limits:\n  upstream_timeout_s: 1\n'
} >"$cfg"
FAIL_SHOW+=("$CGW_AUDIT")
lgw_start $IP "$cfg"

step "(a) one connection, eight streams at once"
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
u=$(unique)
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$u" "$CASE_TMP/markers" <<'PY' || fail "see above"
import json, os, sys, time, h2client
u, markers_out = sys.argv[1], sys.argv[2]
addr, sni, ca = os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"]
other = h2client.Conn(addr, sni, ca)   # opened before, used after
other.preface()
c = h2client.Conn(addr, sni, ca)
c.preface()
plan = [  # (stream, target, x-h2test)
    (1, "ListTables", ""), (3, "DeleteTable", ""), (5, "ListTables", "close"),
    (7, "ListTables", "hang"), (9, "ListTables", "cut"), (11, "ListTables", "delay 0.5"),
    (13, "DescribeTable", "big 300000 chunked"), (15, "ListTables", "status 400")]
marker = {}
t0 = time.time()
for sid, target, how in plan:
    marker[sid] = "marker-h2mix-%s-%02d-end" % (u, sid)
    body = json.dumps({"TableName": "t141-%d" % sid}).encode()
    extra = [("x-h2test-marker", marker[sid])] + ([("x-h2test", how)] if how else [])
    c.request(h2client.ddb_headers(sni, target, body, extra=extra), body, sid=sid)
ok = c.wait([p[0] for p in plan], 15, stop_on_goaway=False)
problems = []
def prob(sid, what):
    problems.append("stream %d: %s: %s" % (sid, what, c.streams[sid].summary()))
for sid, target, how in plan:
    s = c.streams[sid]
    print("stream %2d %-13s %-20s -> %s%s" % (sid, target, how or "-", s.summary(),
          "" if s.t_end is None else " after %.2f s" % (s.t_end - t0)))
if not ok:
    problems.append("not every stream ended within 15 s")
s = {sid: c.streams[sid] for sid, _, _ in plan}
def ddbgate_error(sid, status, typ, ps):
    st = s[sid]
    d = st.json() or {}
    if st.status != status or not st.ended:
        prob(sid, "expected a whole %d" % status)
    elif d.get("__type") != "ddbgate#" + typ or not d.get("message"):
        prob(sid, "expected ddbgate#%s with a message" % typ)
    elif not (st.header("content-type") or "").startswith("application/x-amz-json-1.0"):
        prob(sid, "Content-Type %r" % st.header("content-type"))
    elif "error=%s" % ps not in (st.header("proxy-status") or ""):
        prob(sid, "Proxy-Status %r lacks error=%s" % (st.header("proxy-status"), ps))
# 1: allowed, at once
if s[1].status != 200 or not s[1].ended or (s[1].json() or {}).get("TableNames") != [marker[1]]:
    prob(1, "expected the upstream's 200 naming its own marker")
elif s[1].t_end >= min(x.t_end or 1e18 for x in (s[7], s[11])):
    prob(1, "ended after the slow streams: it waited for another stream")
# 3: denied in DynamoDB's words
d = s[3].json() or {}
if s[3].status != 400 or d.get("__type") != "com.amazon.coral.service#AccessDeniedException":
    prob(3, "expected 400 AccessDeniedException")
elif not (d.get("Message") or d.get("message")) or "DeleteTable" not in json.dumps(d):
    prob(3, "the denial's message does not name dynamodb:DeleteTable")
elif not (s[3].header("content-type") or "").startswith("application/x-amz-json-1.0"):
    prob(3, "Content-Type %r" % s[3].header("content-type"))
ddbgate_error(5, 502, "ConnectionTerminated", "connection_terminated")
ddbgate_error(7, 504, "ResponseTimeout", "http_response_timeout")
# 9: a cut body must never look complete
if s[9].reset != "INTERNAL_ERROR" or s[9].ended:
    prob(9, "expected RST_STREAM INTERNAL_ERROR and no END_STREAM")
elif len(s[9].body) >= 1000:
    prob(9, "the whole announced body arrived")
# 11: later
if s[11].status != 200 or (s[11].json() or {}).get("TableNames") != [marker[11]] or s[11].t_end - t0 < 0.5:
    prob(11, "expected the delayed 200 after >= 0.5 s")
elif s[11].t_end < s[1].t_end:
    prob(11, "ended before stream 1")
# 13: de-chunked
want = h2client.big_body(300000)
if s[13].status != 200 or not s[13].ended or s[13].body != want:
    prob(13, "expected exactly big_body(300000) (got %d bytes)" % len(s[13].body))
for n in ("transfer-encoding", "connection", "keep-alive"):
    for sid in s:
        if s[sid].header(n) is not None:
            prob(sid, "a connection-specific field %s in the HTTP/2 response" % n)
if s[13].header("content-length") not in (None, "300000"):
    prob(13, "content-length %r" % s[13].header("content-length"))
# 15: the upstream's own error, relayed
d = s[15].json() or {}
if s[15].status != 400 or not d.get("__type", "").endswith("#ResourceNotFoundException") \
        or not (s[15].header("x-amzn-requestid") or "").startswith("up-u141-"):
    prob(15, "expected the upstream's own 400 ResourceNotFoundException")
if c.goaway is not None or c.eof:
    problems.append("the connection ended: %s %s" % (c.goaway, c.eof))
# the same connection, and the other one, still answer
for conn, what in ((c, "the same connection"), (other, "a second connection")):
    body = b"{}"
    sid = conn.request(h2client.ddb_headers(sni, "ListTables", body, extra=[("x-h2test-marker", "after-%s" % u)]), body)
    conn.wait([sid], 5)
    print("%s, stream %d: %s" % (what, sid, conn.streams[sid].summary()))
    if conn.streams[sid].status != 200:
        problems.append("%s: stream %d did not get 200" % (what, sid))
json.dump({str(k): v for k, v in marker.items()}, open(markers_out, "w"))
for p in problems:
    print("PROBLEM: " + p)
if problems:
    print(c.dump(60))
sys.exit(1 if problems else 0)
PY
h2up_expect_marker_absent u141 "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["3"])' "$CASE_TMP/markers")"
step "access log and audit: one line per stream"
for want in "1 200 -" "3 400 error=http_request_denied" "5 502 error=connection_terminated" \
	"7 504 error=http_response_timeout" "9 200 error=http_response_incomplete" "11 200 -" "13 200 -" "15 400 -" "17 200 -"; do
	set -- $want
	if [ "$3" = - ]; then
		lgw_alog_expect "$mark" "status=$2 " "h2_stream=$1\$"
	else
		lgw_alog_expect "$mark" "status=$2 " " $3 " "h2_stream=$1\$"
	fi
done
cgw_audit_expect "$amark" "d.get('eventName') == 'DeleteTable'" "no audit line for the denied DeleteTable"
cgw_audit_check "d['decision'] == 'deny' and d['decidingStatement'] == 'NoDeleteTable' and d['status'] == 400 and 'upstreamAddress' not in d" \
	"the DeleteTable audit line"
sleep 0.3
n=$(cgw_audit_count "$amark" "True")
na=$(cgw_audit_count "$amark" "d.get('decision') == 'allow'")
echo "audit lines: $n, $na allow"
[ "$n" = 10 ] && [ "$na" = 9 ] || fail "expected 10 audit lines (one per stream, both connections), 9 of them allow; got $n / $na"
h2_gw_alive

step "(b) h2load -n 200 -c 4 -m 10"
h2py >"$CASE_TMP/h2load.args" <<'PY'
import h2client
for n, v in h2client.ddb_headers("record.ddbgate.test", "ListTables", b"{}"):
    if not n.startswith(":") and n != "content-length":
        print("-H\n%s: %s" % (n, v))
PY
mapfile -t hargs <"$CASE_TMP/h2load.args"
printf '{}' >"$CASE_TMP/body.json"
mark=$(log_mark "$LGW_OUT")
ups0=$(h2up_conns u141)
timeout 30 h2load -n 200 -c 4 -m 10 -T 20 --connect-to="$IP:$GW_PORT" -d "$CASE_TMP/body.json" "${hargs[@]}" \
	"https://$H/" >"$CASE_TMP/h2load.out" 2>&1
echo "h2load exit $?"
grep -E '^(requests|status codes|traffic|Application protocol|TLS Protocol)' "$CASE_TMP/h2load.out" | sed 's/^/  /'
grep -q '^requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored, 0 timeout' "$CASE_TMP/h2load.out" ||
	{ tail -n 30 "$CASE_TMP/h2load.out"; fail "h2load: not 200 succeeded requests"; }
grep -q '^status codes: 200 2xx, 0 3xx, 0 4xx, 0 5xx' "$CASE_TMP/h2load.out" || fail "h2load: not 200 2xx answers"
grep -q '^Application protocol: h2' "$CASE_TMP/h2load.out" || fail "h2load did not speak h2"
sleep 0.5
n=$(lgw_alog_count "$mark" 'status=200 ' 'h2_stream=[0-9]+$')
nc=$(log_since "$LGW_OUT" "$mark" | grep -o 'client=[^ ]*' | sort -u | wc -l)
nr=$(lgw_alog_count "$mark" ' reused=1 ')
ups=$(($(h2up_conns u141) - ups0))
echo "access log: $n lines status=200 with h2_stream=, from $nc client connections, $nr with reused=1; $ups new upstream connections"
[ "$n" = 200 ] || fail "expected 200 access-log lines with status=200 and h2_stream=, got $n"
[ "$nc" = 4 ] || fail "expected the requests of 4 client connections, got $nc"
[ "$ups" -lt 60 ] && [ "$nr" -ge 100 ] || fail "the upstream connections were not reused ($ups new ones, $nr lines with reused=1)"
h2_gw_alive
step "the case-local gateway stops cleanly"
lgw_stop
