# needs: gateway
# timeout: 60
#
# enforcement: report — evaluate and audit, but forward.
# Client:   curl --aws-sigv4 to dynamodb.us-east-1.amazonaws.com via the
#           case-local gateway 127.0.0.72: PutItem on Orders<unique> (denied by
#           the policy), GetItem on it (allowed), DescribeTable of a table the
#           policy does not cover (implicitly denied; it does not exist).
# Config:   case-local ddbgate (policy_lib.sh): account "111122223333";
#             principals: [{access_key_id: AKIDDDBGATETEST00001,
#                           arn: arn:aws:iam::111122223333:user/reporter}]
#             endpoints: [{name: orders-report, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json, enforcement: report}]
#           policy.json: Allow (Sid AllowOrders) dynamodb:* on table/Orders<unique>;
#             Deny (Sid NoPutItems) dynamodb:PutItem on table/Orders<unique>.
# Upstream: stunnel4 -> dynalite.
# Expect:   PutItem 200 from dynalite and the item is there (read from
#           dynalite directly, without ddbgate); its audit line: decision "would-deny", reason naming
#           dynamodb:PutItem, the table ARN and the explicit deny,
#           decidingStatement "NoPutItems", enforcement "report", status 200,
#           upstreamAddress 127.0.0.21:8443.  GetItem: decision "allow",
#           decidingStatement "AllowOrders".  DescribeTable of Nowhere<unique>:
#           forwarded, dynalite's own 400 ResourceNotFoundException relayed,
#           audit "would-deny" with "no VPC endpoint policy allows" in the reason.
. "$IT_DIR/policy_lib.sh"

TB="Orders$(unique)"
ARN=$(table_arn "$TB")
WHO=arn:aws:iam::111122223333:user/reporter
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowOrders", "Effect": "Allow", "Principal": "*",
      "Action": "dynamodb:*", "Resource": "$ARN" },
    { "Sid": "NoPutItems", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:PutItem", "Resource": "$ARN" }
  ]
}
JSON
{
	pgw_config_head 127.0.0.72
	cat <<YAML
principals:
  - access_key_id: $AKID
    arn: $WHO
endpoints:
YAML
	pgw_endpoint orders-report $H good
	cat <<YAML
    policy: $CASE_TMP/policy.json
    enforcement: report
YAML
} >"$PGW_CFG"
pgw_start
create_table_direct "$TB"

step "PutItem: denied by the policy, forwarded in report mode"
amark=$(audit_mark)
gw_request $H $P.PutItem "{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"r1\"},\"sk\":{\"S\":\"a\"},\"v\":{\"S\":\"SECRET-ITEM-VALUE-report\"}}}"
expect_status 200
expect_json "d == {}" "PutItem's answer is not dynalite's {}"
audit_expect "$amark" "d.get('eventName') == 'PutItem'" "no audit line for the PutItem"
audit_check "d.get('decision') == 'would-deny'" "decision is not would-deny"
audit_check "'dynamodb:PutItem' in d.get('reason', '') and '$ARN' in d.get('reason', '')" "the reason does not name dynamodb:PutItem and $ARN"
audit_check "'explicit deny' in d.get('reason', '')" "the reason does not say explicit deny"
audit_check "d.get('decidingStatement') == 'NoPutItems'" "decidingStatement is not the Deny statement's Sid NoPutItems"
audit_check "d.get('enforcement') == 'report'" "enforcement is not report"
audit_check "d.get('status') == 200" "status is not 200"
audit_check "d.get('upstreamAddress') == '127.0.0.21:$UP_PORT'" "upstreamAddress is not 127.0.0.21:$UP_PORT"
audit_check "d.get('principal') == '$WHO' and d.get('endpoint') == 'orders-report'" "principal or endpoint wrong"

step "the item reached dynalite (read directly from dynalite)"
direct_request $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"r1\"},\"sk\":{\"S\":\"a\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['v']['S'] == 'SECRET-ITEM-VALUE-report'" "the PutItem forwarded in report mode did not reach dynalite"

step "GetItem: allowed"
amark=$(audit_mark)
gw_request $H $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"r1\"},\"sk\":{\"S\":\"a\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['v']['S'] == 'SECRET-ITEM-VALUE-report'" "GetItem did not return the item"
audit_expect "$amark" "d.get('eventName') == 'GetItem'" "no audit line for the GetItem"
audit_check "d.get('decision') == 'allow' and d.get('decidingStatement') == 'AllowOrders'" "GetItem: not allow by AllowOrders"

step "DescribeTable of a table no statement covers: implicit deny, forwarded"
amark=$(audit_mark)
gw_request $H $P.DescribeTable "{\"TableName\":\"Nowhere$TB\"}"
expect_status 400
expect_json "d['__type'].endswith('#ResourceNotFoundException')" "dynalite's ResourceNotFoundException was not relayed (not forwarded?)"
audit_expect "$amark" "d.get('eventName') == 'DescribeTable'" "no audit line for the DescribeTable"
audit_check "d.get('decision') == 'would-deny' and 'no VPC endpoint policy allows' in d.get('reason', '')" "DescribeTable: not would-deny (implicit)"
audit_check "'$(table_arn "Nowhere$TB")' in d.get('reason', '') and d.get('upstreamAddress') == '127.0.0.21:$UP_PORT' and d.get('status') == 400" \
	"DescribeTable: reason without the ARN, or not forwarded, or status not 400"

direct_request $P.DeleteTable "{\"TableName\":\"$TB\"}"
