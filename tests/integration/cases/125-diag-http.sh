# needs: infra ddbgate
# timeout: 60
#
# diag's HTTP layer: an unsigned request that only the real service
# answers with its missing-authentication error. Anything else on the
# address fails with what answered; a server that takes the TLS
# handshake and then says nothing or hangs up fails too; exit 7. The
# request names the endpoint's own API (DynamoDB, Streams, DAX) and
# carries no credentials.
# Client:   ddbgate diag -c CFG --endpoint NAME [--timeout-ms 500] (human
#           and --json).
# Config:   endpoints (ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8],
#           fixed upstream):
#             ddb125 (dynamodb):     truncated.ddbgate.test -> 127.0.0.21:8443
#             rec125 (dynamodb):     record.ddbgate.test    -> 127.0.0.22:8443
#             streams125 (streams):  other.ddbgate.test     -> 127.0.0.22:8443
#             daxrec125 (dax):       guard.ddbgate.test     -> 127.0.0.22:8443
#             dax125 (dax):  dynamodb.us-east-1.amazonaws.com -> 127.0.0.21:8443
#             slow125 (dynamodb):    slow.ddbgate.test      -> 127.0.3.125:8443
#             closed125 (dynamodb):  closed.ddbgate.test    -> 127.0.4.125:8443
# Upstream: 127.0.0.21: stunnel -> dynalite; 127.0.0.22: recorder "record"
#           (answers 200 to everything); 127.0.3.125: stunnel (a 90-day leaf
#           for slow/closed.ddbgate.test) -> the test bed's blackhole TCP
#           port 127.0.0.1:5354 (holds connections, never answers);
#           127.0.4.125: stunnel with the same leaf -> 127.0.0.40:8443
#           (refused: stunnel hangs up after the handshake).
# Expect:   ddb125: http PASS "1/1 answered 400
#             MissingAuthenticationTokenException", answered_by upstream.
#           rec125: exit 7; "FAIL http ... 0/1 answered like DynamoDB;
#             127.0.0.22:8443: HTTP/1.1 200 OK"; hint "127.0.0.22:8443
#             answered "HTTP/1.1 200 OK" instead of DynamoDB's
#             MissingAuthenticationTokenException: something other than
#             DynamoDB is on this address"; the recorder got exactly: POST /,
#             Host record.ddbgate.test, X-Amz-Target
#             DynamoDB_20120810.ListTables, Content-Type
#             application/x-amz-json-1.0, Content-Length 2, body {}, and no
#             Authorization.
#           streams125: the recorded request says
#             DynamoDBStreams_20120810.ListStreams; daxrec125:
#             AmazonDAXV3.DescribeClusters with application/x-amz-json-1.1.
#           dax125: exit 7; dynalite's 404 named, hint "... instead of DAX's
#             MissingAuthenticationTokenException: something other than DAX".
#           slow125 (--timeout-ms 500): exit 7 in under 2.5 s; hint "no HTTP
#             answer from 127.0.3.125:8443 within 500 ms after the TLS
#             handshake".
#           closed125: exit 7; hint "127.0.4.125:8443 closed the connection
#             without an HTTP answer".
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
dg_leaf h125 90 slow.ddbgate.test slow.ddbgate.test closed.ddbgate.test
dg_front slow125 127.0.3.125 "$CASE_TMP/h125.pem" "$CASE_TMP/h125.key" "$DNS_BLACKHOLE"
dg_front closed125 127.0.4.125 "$CASE_TMP/h125.pem" "$CASE_TMP/h125.key" "127.0.0.40:$UP_PORT"
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint ddb125 truncated.ddbgate.test "127.0.0.21:$UP_PORT"
	dg_endpoint rec125 record.ddbgate.test "127.0.0.22:$UP_PORT"
	dg_endpoint streams125 other.ddbgate.test "127.0.0.22:$UP_PORT" "" streams
	dg_endpoint daxrec125 guard.ddbgate.test "127.0.0.22:$UP_PORT" "" dax
	dg_endpoint dax125 dynamodb.us-east-1.amazonaws.com "127.0.0.21:$UP_PORT" "" dax
	dg_endpoint slow125 slow.ddbgate.test "127.0.3.125:$UP_PORT"
	dg_endpoint closed125 closed.ddbgate.test "127.0.4.125:$UP_PORT"
} | dg_conf "$cfg" "$DNS"

# last_request — the bytes of the recorder's newest connection since $mark.
last_request() {
	local f
	f=$(rec_conns_since record "$mark" | tail -n 1)
	[ -n "$f" ] || fail "diag did not connect to the recorder"
	cat "$f"
}

step "DynamoDB answers"
diag_json ddb125 -c "$cfg" --endpoint ddb125
expect_exit 0
dq 'ev("ddb125", "http")["responses"][0]["error_type"] == "com.amazon.coral.service#MissingAuthenticationTokenException" and ev("ddb125", "http")["responses"][0]["answered_by"] == "upstream"' \
	"dynalite's own error"

step "something else answers 200"
mark=$(rec_mark record)
diag_run rec -c "$cfg" --endpoint rec125
expect_exit 7
expect_line '^  FAIL  http +[0-9]+ ms  0/1 answered like DynamoDB; 127\.0\.0\.22:8443: HTTP/1\.1 200 OK$' \
	"^        hint: 127\.0\.0\.22:8443 answered \"HTTP/1\.1 200 OK\" instead of DynamoDB's MissingAuthenticationTokenException: something other than DynamoDB is on this address" \
	'^result: FAIL, first failing layer: http \(exit 7\)$'
req=$(last_request | tr -d '\r')
echo "the recorder got:"
while IFS= read -r l; do echo "  > $l"; done <<<"$req"
echo "$req" | head -n 1 | grep -qx 'POST / HTTP/1.1' || fail "not a POST /"
for h in 'Host: record.ddbgate.test' 'X-Amz-Target: DynamoDB_20120810.ListTables' \
	'Content-Type: application/x-amz-json-1.0' 'Content-Length: 2'; do
	echo "$req" | grep -qx "$h" || fail "the request lacks '$h'"
done
echo "$req" | grep -qi '^authorization:' && fail "the request carries an Authorization header"
[ "$(last_request | tail -c 6 | od -An -c | tr -d ' ')" = '\r\n\r\n{}' ] || fail "the body is not {} after the head"
diag_json rec -c "$cfg" --endpoint rec125
dq 'ev("rec125", "http")["responses"][0]["result"] == "other" and ev("rec125", "http")["responses"][0]["status"] == 200' "other, 200"

step "Streams and DAX ask their own API"
mark=$(rec_mark record)
diag_run streams -c "$cfg" --endpoint streams125
expect_exit 7
last_request | tr -d '\r' | grep -qx 'X-Amz-Target: DynamoDBStreams_20120810.ListStreams' || fail "Streams: not ListStreams"
mark=$(rec_mark record)
diag_run daxrec -c "$cfg" --endpoint daxrec125
expect_exit 7
last_request | tr -d '\r' | grep -qx 'X-Amz-Target: AmazonDAXV3.DescribeClusters' || fail "DAX: not DescribeClusters"
last_request | tr -d '\r' | grep -qx 'Content-Type: application/x-amz-json-1.1' || fail "DAX: not JSON 1.1"

step "DynamoDB where DAX should be"
diag_run dax -c "$cfg" --endpoint dax125
expect_exit 7
expect_line '^  FAIL  http +[0-9]+ ms  0/1 answered like DAX; 127\.0\.0\.21:8443: HTTP/1\.1 404 ' \
	"^        hint: 127\.0\.0\.21:8443 answered \"HTTP/1\.1 404 [^\"]*\" instead of DAX's MissingAuthenticationTokenException: something other than DAX is on this address"

step "TLS, then silence"
diag_run slow -c "$cfg" --endpoint slow125 --timeout-ms 500
expect_exit 7
expect_faster 2500 "an unanswered request must end within its bound"
expect_line '^  PASS  tls ' '^  FAIL  http +[0-9]+ ms  0/1 answered like DynamoDB; 127\.0\.3\.125:8443: timeout$' \
	'^        hint: no HTTP answer from 127\.0\.3\.125:8443 within 500 ms after the TLS handshake: the server took the connection but not the request; is it DynamoDB\?$'
diag_json slow -c "$cfg" --endpoint slow125 --timeout-ms 500
dq 'ev("slow125", "http")["responses"][0]["result"] == "timeout" and ev("slow125", "http")["responses"][0]["answered_by"] == "none"' "timeout, nobody answered"

step "TLS, then a hang-up"
diag_run closed -c "$cfg" --endpoint closed125
expect_exit 7
expect_line '^        hint: 127\.0\.4\.125:8443 closed the connection without an HTTP answer: not an HTTP/1\.1 DynamoDB endpoint\?$'
diag_json closed -c "$cfg" --endpoint closed125
dq 'ev("closed125", "http")["responses"][0]["result"] == "closed"' "closed"
