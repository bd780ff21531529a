# needs: gateway
# timeout: 40
#
# Bug: latency_ms came from arithmetic that went wrong two ways: the start
# time was only taken once a request head was accepted (a request refused
# while its head was read, e.g. 431, counted from time zero: the machine's
# uptime), and a negative nanosecond difference wrapped around as unsigned
# (about 18 million seconds, in half of all requests).
# Client:   (a) one curl, three signed ListTables on one connection (keep-alive);
#           (b) curl ListTables with a 20000-byte header, twice (431, refused
#               while reading the head);
#           (c) rawclient.py: a header line without a colon (400);
#           (d) rawclient.py: a head with Content-Length: 100000 (413);
#           (e) curl with Host other.ddbgate.test on SNI record.ddbgate.test (421).
# Config:   endpoints recorder and other; limits: {max_header_bytes: 16384,
#           max_body_bytes: 65536}.
# Upstream: recorder.py "record".
# Expect:   the expected statuses; at least 8 access-log lines written during the
#           case, every one with latency_ms=<decimal number>, below 60000 and not
#           longer than the case itself has been running.
H=record.ddbgate.test
t0=$(date +%s%N)
mark=$(alog_mark)

step "(a) three requests on one connection"
out=$(curl -sS --max-time 20 --resolve "$H:$GW_PORT:$GW_IP" --cacert "$PKI/gw-ca.pem" \
	--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
	-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
	--data-binary '{}' -w '%{http_code} ' -o /dev/null -o /dev/null -o /dev/null \
	"https://$H:$GW_PORT/" "https://$H:$GW_PORT/" "https://$H:$GW_PORT/" 2>"$CASE_TMP/curl.err")
echo "curl: $out $(cat "$CASE_TMP/curl.err")"
[ "$out" = "200 200 200 " ] || fail "expected three 200s, got: $out"

step "(b) 431 twice"
pad=$(head -c 20000 /dev/zero | tr '\0' a)
for _ in 1 2; do
	gw_request $H DynamoDB_20120810.ListTables '{}' -H "X-Pad: $pad"
	expect_proxy_error 431 '*' -
done

step "(c) 400"
printf 'POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nThis line has no colon\r\nContent-Length: 2\r\n\r\n{}' $H >"$CASE_TMP/bad"
raw_send $H "$CASE_TMP/bad" 1 --timeout 8
raw_use 1
expect_proxy_error 400 BadRequest -

step "(d) 413"
printf 'POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: 100000\r\n\r\n' $H >"$CASE_TMP/big"
raw_send $H "$CASE_TMP/big" 1 --timeout 8
raw_use 1
expect_proxy_error 413 '*' -

step "(e) 421"
gw_request $H DynamoDB_20120810.ListTables '{}' -H "Host: other.ddbgate.test"
expect_proxy_error 421 MisdirectedRequest -

alog_expect "$mark" 'status=421'
sleep 0.2
t1=$(date +%s%N)
step "latency_ms of every access-log line since the case began (case running $(((t1 - t0) / 1000000)) ms)"
tail -n +"$((mark + 1))" "$GW_OUT" | grep "^time=" >"$CASE_TMP/alog"   # access-log lines; audit JSON lines share stdout
sed 's/^/  /' "$CASE_TMP/alog"
/usr/bin/python3 - "$CASE_TMP/alog" "$(((t1 - t0) / 1000000))" <<'PY' || fail "an access-log line has an insane latency_ms (see above)"
import re, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
limit = min(60000.0, float(sys.argv[2]))
bad = 0
if len(lines) < 8:
    print("only %d access-log lines, expected at least 8" % len(lines))
    sys.exit(1)
for line in lines:
    m = re.search(r"(?:^| )latency_ms=(\S*)", line)
    status = re.search(r" status=(\d+)", line)
    status = status.group(1) if status else "?"
    if not m or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", m.group(1)):
        print("status %s: latency_ms missing or not a decimal number: %r" % (status, m and m.group(1)))
        bad += 1
    elif float(m.group(1)) > limit:
        print("status %s: latency_ms=%s exceeds %.0f ms (60000, or the case's own run time)" % (status, m.group(1), limit))
        bad += 1
sys.exit(1 if bad else 0)
PY
echo "all $(wc -l <"$CASE_TMP/alog") latency_ms values are sane"
