# needs: gateway
# timeout: 30
#
# Runs last on purpose: by now every client case has put items whose values
# start with SECRET-ITEM-VALUE- (curl, AWS CLI direct, boto3, forwarding cases).
# Client:   curl signed PutItem + GetItem of "SECRET-ITEM-VALUE-123" to
#           dynamodb.us-east-1.amazonaws.com via 127.0.0.80.
# Config:   endpoint ddb-use1, access_log: {path: "-"}.
# Upstream: stunnel4 -> dynalite.
# Expect:   PutItem 200 and its access-log line exists (so logging is on), GetItem
#           returns the value; "SECRET-ITEM-VALUE" appears nowhere in any ddbgate's
#           stdout (access log) or stderr (process log) of this run.
H=dynamodb.us-east-1.amazonaws.com
TB="nodata-$(unique)"
gw_request $H DynamoDB_20120810.CreateTable "{\"TableName\":\"$TB\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}"
expect_status 200
wait_table_active $H "$TB"
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.PutItem "{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"k\"},\"secret\":{\"S\":\"SECRET-ITEM-VALUE-123\"}}}"
expect_status 200
alog_expect "$mark" 'DynamoDB_20120810\.PutItem' '(^|[^0-9])200([^0-9]|$)'
gw_request $H DynamoDB_20120810.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"k\"}}}"
expect_status 200
expect_json "d['Item']['secret']['S'] == 'SECRET-ITEM-VALUE-123'" "GetItem did not return the item"
gw_request $H DynamoDB_20120810.DeleteTable "{\"TableName\":\"$TB\"}"
sleep 0.3
logs=("$GW_OUT" "$GW_ERR")
while IFS= read -r f; do logs+=("$f"); done < <(find "$T/cases" -name 'ddbgate*.out' -o -name 'ddbgate*.err')
echo "searched: ${logs[*]}"
if grep -n 'SECRET-ITEM-VALUE' "${logs[@]}"; then
	fail "item data (SECRET-ITEM-VALUE...) appears in ddbgate's logs"
fi
