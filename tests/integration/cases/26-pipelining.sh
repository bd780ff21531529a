# needs: gateway
# timeout: 30
#
# Client:   rawclient.py: one TLS connection (SNI dynamodb.us-east-1.amazonaws.com),
#           ONE write holding three signed requests: CreateTable T, DescribeTable T,
#           ListTables (HTTP/1.1 pipelining).
# Config:   endpoint ddb-use1.
# Upstream: stunnel4 -> dynalite.
# Expect:   three 200 responses on that connection, in request order: the first
#           has TableDescription (CREATE), the second Table (so it was sent after the
#           first completed), the third TableNames including T.
H=dynamodb.us-east-1.amazonaws.com
TB="pipe-$(unique)"
{
	build_request $H DynamoDB_20120810.CreateTable "{\"TableName\":\"$TB\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}"
	build_request $H DynamoDB_20120810.DescribeTable "{\"TableName\":\"$TB\"}"
	build_request $H DynamoDB_20120810.ListTables '{}'
} >"$CASE_TMP/req"
raw_send $H "$CASE_TMP/req" 3 --timeout 15
[ "$RAW_RC" = 0 ] || fail "did not get three responses on the pipelined connection"
raw_use 1
expect_status 200
expect_json "d['TableDescription']['TableName'] == '$TB' and 'Table' not in d" "response 1 is not CreateTable's"
raw_use 2
expect_status 200
expect_json "d['Table']['TableName'] == '$TB'" "response 2 is not DescribeTable's"
raw_use 3
expect_status 200
expect_json "'$TB' in d['TableNames']" "response 3 is not ListTables' (naming the new table)"
