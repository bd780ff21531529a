# needs: gateway
# timeout: 60
#
# The core request path with curl: every call a SigV4-signed POST with
# X-Amz-Target and Content-Type application/x-amz-json-1.0.
# Client:   curl --aws-sigv4 aws:amz:us-east-1:dynamodb --resolve
#           dynamodb.us-east-1.amazonaws.com:443:127.0.0.80 --cacert gw-ca.pem:
#           CreateTable, (DescribeTable until ACTIVE), PutItem, GetItem, BatchWriteItem, Query, Scan, DeleteTable.
# Config:   listeners: [{address: 127.0.0.80:443, mode: sni}]
#           endpoints: [{name: ddb-use1, hosts: [dynamodb.us-east-1.amazonaws.com],
#             upstream: vpce-good-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
#           access_log: {path: "-"}
# Upstream: dnsmasq resolves vpce-good-1234... to 127.0.0.21: stunnel4 -> dynalite.
# Expect:   every answer is dynalite's (checked field by field); the access log
#           has a line per call with the client address 127.0.0.1, the endpoint
#           ddb-use1, the X-Amz-Target, the status 200, byte counts, the latency
#           and the upstream 127.0.0.21.
H=dynamodb.us-east-1.amazonaws.com
TB="curl-$(unique)"
P=DynamoDB_20120810
mark=$(alog_mark)

gw_request $H $P.CreateTable "{\"TableName\":\"$TB\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}"
expect_status 200
expect_json "d['TableDescription']['TableName'] == '$TB'" "CreateTable did not describe $TB"
alog_expect "$mark" "$P\.CreateTable" '(^|[^0-9])200([^0-9]|$)'
wait_table_active $H "$TB"

mark=$(alog_mark)
gw_request $H $P.PutItem "{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"p1\"},\"sk\":{\"S\":\"a\"},\"v\":{\"S\":\"SECRET-ITEM-VALUE-curl\"}}}"
expect_status 200
expect_json "d == {}" "PutItem answer is not {}"
alog_expect "$mark" "$P\.PutItem" '(^|[^0-9])200([^0-9]|$)' '127\.0\.0\.1([^0-9]|$)' 'ddb-use1' '127\.0\.0\.21' \
	'[Bb]ytes' '[Ll]atency'

gw_request $H $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"},\"sk\":{\"S\":\"a\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['v']['S'] == 'SECRET-ITEM-VALUE-curl'" "GetItem did not return the item put"

gw_request $H $P.BatchWriteItem "{\"RequestItems\":{\"$TB\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"p1\"},\"sk\":{\"S\":\"b\"}}}},{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"p2\"},\"sk\":{\"S\":\"a\"}}}}]}}"
expect_status 200
expect_json "not d.get('UnprocessedItems')" "BatchWriteItem left unprocessed items"

gw_request $H $P.Query "{\"TableName\":\"$TB\",\"KeyConditionExpression\":\"pk = :p\",\"ExpressionAttributeValues\":{\":p\":{\"S\":\"p1\"}}}"
expect_status 200
expect_json "d['Count'] == 2 and [i['sk']['S'] for i in d['Items']] == ['a', 'b']" "Query pk=p1 did not return sk a, b"

gw_request $H $P.Scan "{\"TableName\":\"$TB\"}"
expect_status 200
expect_json "d['Count'] == 3" "Scan did not return 3 items"

mark=$(alog_mark)
gw_request $H $P.DeleteTable "{\"TableName\":\"$TB\"}"
expect_status 200
expect_json "d['TableDescription']['TableName'] == '$TB'" "DeleteTable did not describe $TB"
alog_expect "$mark" "$P\.DeleteTable" '(^|[^0-9])200([^0-9]|$)'

# An error from DynamoDB itself is relayed as is (not turned into a ddbgate error).
gw_request $H $P.DescribeTable "{\"TableName\":\"no-such-table-$TB\"}"
expect_status 400
expect_json "d['__type'].endswith('ResourceNotFoundException')" "dynalite's ResourceNotFoundException was not relayed"
