# needs: gateway
# timeout: 90
#
# Requests crafted to make the gateway read something other than what
# DynamoDB would read.  Each is denied, or evaluated exactly as DynamoDB
# would read it; a denied one never reaches the upstream.
# Client:   rawclient.py build (valid SigV4, key AKIDDDBGATETEST00001, not
#           mapped to a principal) + raw_send, one TLS connection per request
#           to the case-local gateway 127.0.0.73, SNI/Host record.ddbgate.test;
#           curl for the chunked and oversized bodies.  Every request that must
#           be refused carries a unique X-Ddbgate-Test-Marker header.
# Config:   case-local ddbgate (policy_lib.sh): account "111122223333",
#           limits.max_body_bytes 65536;
#             endpoints: [{name: bypass, hosts: [record.ddbgate.test],
#               upstream: vpce-record-1234...:8443, policy: policy.json}]
#           policy.json (T = arn:aws:dynamodb:us-east-1:111122223333:table):
#             Allow (Sid AllowedTable) PutItem, GetItem, BatchWriteItem on T/Allowed;
#             Allow (Sid SelectOrders) PartiQLSelect on T/Orders.
# Upstream: recorder.py "record" (answers 200 to anything it gets).
# Expect (status, __type com.amazon.coral.service#..., Content-Type
#         application/x-amz-json-1.0; "nothing forwarded" = the marker is in no
#         recorder file and the audit line has no upstreamAddress):
#   {"TableName":"Allowed","TableName":"Denied"} (and the reverse, and a
#     duplicate inside Item)                   -> 400 AccessDeniedException, nothing forwarded
#   {"TableName":"\u004frders"}                 -> 400 AccessDeniedException naming
#     T/Orders (read as DynamoDB reads it), nothing forwarded; "\u0041llowed" -> 200,
#     forwarded byte for byte (escape included)
#   X-Amz-Target dynamodb_20120810.putitem / DynamoDB_20120810.putItem /
#     DynamoDB_20120810.NoSuchOperation        -> 400 UnknownOperationException, nothing forwarded
#   two X-Amz-Target headers (GetItem, DeleteTable) -> 400 AccessDenied- or
#     UnknownOperationException, nothing forwarded
#   TableName arn:aws:dynamodb:us-east-1:999999999999:table/Allowed -> 400
#     AccessDeniedException naming that ARN; the own account's ARN -> 200, forwarded
#   BatchWriteItem over Allowed and Orders      -> 400 AccessDeniedException
#     (dynamodb:BatchWriteItem on T/Orders); over Allowed alone -> 200, forwarded
#   ExecuteStatement DELETE FROM "Orders" ...    -> 400 AccessDeniedException
#     (dynamodb:PartiQLDelete on T/Orders); SELECT * FROM "Orders" ... -> 200, forwarded
#   no Authorization header                      -> 400 MissingAuthenticationTokenException
#   Transfer-Encoding: chunked (curl)            -> 411 ddbgate#LengthRequired, nothing forwarded
#   a 70000-byte body (curl)                     -> 413 ddbgate#..., nothing forwarded
#   (for these two the audit line has decision error (or deny), status 411/413,
#   no upstreamAddress, and a non-empty reason)
. "$IT_DIR/policy_lib.sh"

H=record.ddbgate.test
P=DynamoDB_20120810
T="arn:aws:dynamodb:us-east-1:$POL_ACCOUNT:table"

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowedTable", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchWriteItem"],
      "Resource": "$T/Allowed" },
    { "Sid": "SelectOrders", "Effect": "Allow", "Principal": "*",
      "Action": "dynamodb:PartiQLSelect", "Resource": "$T/Orders" }
  ]
}
JSON
{
	pgw_config_head 127.0.0.73
	echo "endpoints:"
	pgw_endpoint bypass $H record
	echo "    policy: $CASE_TMP/policy.json"
} >"$PGW_CFG"
pgw_start

N=0
# send TARGET BODY [build args...] — build a signed request (with a fresh
# marker header, $MK) and send it; its response becomes the last response.
send() {
	local target=$1 body=$2
	shift 2
	N=$((N + 1))
	MK="marker-bypass-$N-$(unique)"
	REQ="$CASE_TMP/req.$N"
	build_request $H "$target" "$body" --header "X-Ddbgate-Test-Marker: $MK" "$@" >"$REQ"
	AMARK=$(audit_mark)
	echo "request $N: $(head -c 600 "$REQ" | tr '\r\n' '  ')"
	raw_send $H "$REQ" 1 >/dev/null
	raw_use 1
	echo "  -> $RESP_STATUS $(head -c 400 "$CASE_TMP/resp.body")"
}
# not_forwarded — the last request's marker reached no upstream, and its audit
# line says it was denied without an upstream.
not_forwarded() {
	sleep 0.2
	rec_expect_marker_absent "$MK"
	audit_expect "$AMARK" "d.get('decision') == 'deny'" "request $N: no audit line with decision deny"
	audit_check "not d.get('upstreamAddress') and d.get('status') == 400" "request $N: the audit line says it went upstream"
}
# forwarded — the last request went upstream byte for byte and got the recorder's answer.
forwarded() {
	expect_status 200
	expect_json "d == {'TableNames': ['recorded']}" "request $N: the answer is not the recorder's"
	rec_expect_bytes record "$REQ"
	audit_expect "$AMARK" "d.get('decision') == 'allow'" "request $N: no audit line with decision allow"
}

step "duplicate JSON keys"
send $P.PutItem '{"TableName":"Allowed","TableName":"Denied","Item":{"pk":{"S":"dup1"}}}'
expect_aws_error AccessDeniedException
not_forwarded
send $P.PutItem '{"TableName":"Denied","TableName":"Allowed","Item":{"pk":{"S":"dup2"}}}'
expect_aws_error AccessDeniedException
not_forwarded
send $P.PutItem '{"TableName":"Allowed","Item":{"pk":{"S":"dup3"},"pk":{"S":"dup4"}}}'
expect_aws_error AccessDeniedException
not_forwarded

step "\\u escapes in the table name are read as DynamoDB reads them"
send $P.PutItem '{"TableName":"\u004frders","Item":{"pk":{"S":"esc1"}}}'
expect_access_denied dynamodb:PutItem "$T/Orders" implicit
not_forwarded
send $P.PutItem '{"TableName":"\u0041llowed","Item":{"pk":{"S":"esc2"}}}'
forwarded
audit_check "d.get('resources') == [{'action': 'dynamodb:PutItem', 'ARN': '$T/Allowed'}]" "the escaped name was not read as Allowed"

step "X-Amz-Target spelled differently"
for tgt in dynamodb_20120810.putitem DynamoDB_20120810.putItem DynamoDB_20120810.NoSuchOperation; do
	send "$tgt" '{"TableName":"Allowed","Item":{"pk":{"S":"case"}}}'
	expect_aws_error UnknownOperationException
	not_forwarded
done

step "two X-Amz-Target headers"
send $P.GetItem '{"TableName":"Allowed","Key":{"pk":{"S":"two"}}}' --header "X-Amz-Target: $P.DeleteTable"
grep -c '^X-Amz-Target:' "$REQ" | grep -qx 2 || fail "test bug: the request does not carry two X-Amz-Target headers"
expect_aws_error 'AccessDeniedException|UnknownOperationException'
not_forwarded

step "a table ARN of another account"
send $P.PutItem '{"TableName":"arn:aws:dynamodb:us-east-1:999999999999:table/Allowed","Item":{"pk":{"S":"xacct"}}}'
expect_access_denied dynamodb:PutItem "arn:aws:dynamodb:us-east-1:999999999999:table/Allowed" implicit
not_forwarded
send $P.PutItem "{\"TableName\":\"$T/Allowed\",\"Item\":{\"pk\":{\"S\":\"ownacct\"}}}"
forwarded

step "BatchWriteItem over an allowed and a denied table"
send $P.BatchWriteItem '{"RequestItems":{"Allowed":[{"PutRequest":{"Item":{"pk":{"S":"b1"}}}}],"Orders":[{"PutRequest":{"Item":{"pk":{"S":"b2"}}}}]}}'
expect_access_denied dynamodb:BatchWriteItem "$T/Orders" implicit
not_forwarded
send $P.BatchWriteItem '{"RequestItems":{"Allowed":[{"PutRequest":{"Item":{"pk":{"S":"b1"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"b3"}}}}]}}'
forwarded

step "PartiQL: DELETE where only SELECT is allowed"
send $P.ExecuteStatement "{\"Statement\":\"DELETE FROM \\\"Orders\\\" WHERE pk = 'o1'\"}"
expect_access_denied dynamodb:PartiQLDelete "$T/Orders" implicit
not_forwarded
send $P.ExecuteStatement "{\"Statement\":\"SELECT * FROM \\\"Orders\\\" WHERE pk = 'o1'\"}"
forwarded

step "no Authorization header"
N=$((N + 1))
MK="marker-bypass-$N-$(unique)"
REQ="$CASE_TMP/req.$N"
build_request $H $P.GetItem '{"TableName":"Allowed","Key":{"pk":{"S":"unsigned"}}}' --header "X-Ddbgate-Test-Marker: $MK" |
	grep -av '^Authorization: ' >"$REQ"
grep -qa '^Authorization' "$REQ" && fail "test bug: the request still carries Authorization"
AMARK=$(audit_mark)
raw_send $H "$REQ" 1 >/dev/null
raw_use 1
expect_aws_error MissingAuthenticationTokenException
not_forwarded

step "chunked body"
MK="marker-bypass-te-$(unique)"
AMARK=$(audit_mark)
gw_request $H $P.PutItem '{"TableName":"Allowed","Item":{"pk":{"S":"te"}}}' \
	-H "Transfer-Encoding: chunked" -H "X-Ddbgate-Test-Marker: $MK"
expect_proxy_error 411 LengthRequired -
sleep 0.2
rec_expect_marker_absent "$MK"
audit_expect "$AMARK" "d.get('status') == 411" "no audit line for the chunked request"
audit_check "d.get('decision') in ('error', 'deny') and not d.get('upstreamAddress')" "the chunked request's audit line"
audit_check "isinstance(d.get('reason'), str) and d['reason'] != ''" "the chunked request's audit line gives no reason"

step "oversized body"
MK="marker-bypass-big-$(unique)"
/usr/bin/python3 -c 'import json, sys
doc = {"TableName": "Allowed", "Item": {"pk": {"S": sys.argv[1]}, "pad": {"S": ""}}}
doc["Item"]["pad"]["S"] = "x" * (70000 - len(json.dumps(doc, separators=(",", ":"))))
sys.stdout.write(json.dumps(doc, separators=(",", ":")))' "$MK" >"$CASE_TMP/big.json"
[ "$(stat -c %s "$CASE_TMP/big.json")" = 70000 ] || fail "test bug: body is not 70000 bytes"
AMARK=$(audit_mark)
gw_request $H $P.PutItem "@$CASE_TMP/big.json"
expect_proxy_error 413 '*' -
sleep 0.2
rec_expect_marker_absent "$MK"
audit_expect "$AMARK" "d.get('status') == 413" "no audit line for the oversized request"
audit_check "d.get('decision') in ('error', 'deny') and not d.get('upstreamAddress')" "the oversized request's audit line"
audit_check "isinstance(d.get('reason'), str) and d['reason'] != ''" "the oversized request's audit line gives no reason"
