# needs: gateway
# timeout: 90
#
# An endpoint policy enforced on boto3's own requests.
# Client:   /usr/bin/python3 policy_boto3.py (Debian's boto3), no endpoint_url:
#           a private /etc/hosts maps dynamodb.us-east-1.amazonaws.com to the
#           case-local gateway 127.0.0.71; AWS_CA_BUNDLE = gw-ca.pem; retries on
#           (standard mode, max_attempts 5); access key AKIDDDBGATEPOLICY071
#           (mapped to a principal), and once the default test key (not mapped).
#           Allowed: describe_table, get_item, query (table and index ByCustomer),
#           scan, batch_get_item on table Orders<unique>.
#           Denied, one call each: put_item, update_item, batch_write_item
#           (implicit deny), delete_item (explicit deny), describe_table of
#           table Customers; put_item with the unmapped key.
# Config:   case-local ddbgate (policy_lib.sh): account "111122223333";
#             principals: [{access_key_id: AKIDDDBGATEPOLICY071,
#                           arn: arn:aws:iam::111122223333:role/orders-app, userid: AROA...:orders-app}]
#             endpoints: [{name: orders-ro, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json}]
#           policy.json: as in policy-awscli (Allow ReadOrders; Deny NoDeletes).
#           Table and items set up directly in dynalite (stunnel front, no ddbgate).
# Upstream: stunnel4 -> dynalite.
# Expect:   allowed calls return dynalite's data; every denied call raises
#           ClientError with code AccessDeniedException, HTTP 400, the exact
#           IAM message (principal ARN, or the access key when unmapped) and
#           ResponseMetadata.RetryAttempts == 0; the gateway saw exactly one
#           request per denied call (access log and audit) and forwarded none
#           of them (audit: decision deny, no upstreamAddress; the table is
#           unchanged when read directly from dynalite).
. "$IT_DIR/policy_lib.sh"
need_unshare

TB="Orders$(unique)"
IDX=ByCustomer
ARN=$(table_arn "$TB")
KEY=AKIDDDBGATEPOLICY071
KEY_SECRET=ddbgate-policy-071-secret-not-real-0000
WHO=arn:aws:iam::111122223333:role/orders-app
P=DynamoDB_20120810

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadOrders",
      "Effect": "Allow",
      "Principal": "*",
      "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
                 "dynamodb:DescribeTable", "dynamodb:BatchGetItem"],
      "Resource": ["$ARN", "$ARN/index/*"]
    },
    {
      "Sid": "NoDeletes",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "dynamodb:DeleteItem",
      "Resource": "$ARN"
    }
  ]
}
JSON
{
	pgw_config_head 127.0.0.71
	cat <<YAML
principals:
  - access_key_id: $KEY
    arn: $WHO
    userid: "AROADDBGATETESTROLE01:orders-app"
endpoints:
YAML
	pgw_endpoint orders-ro dynamodb.us-east-1.amazonaws.com good
	cat <<YAML
    policy: $CASE_TMP/policy.json
YAML
} >"$PGW_CFG"
pgw_start

step "setup directly in dynalite: table $TB (index $IDX), items o1/a, o1/b, o2/a"
create_table_direct "$TB" "$IDX"
for it in o1:a:alice o1:b:bob o2:a:alice; do
	IFS=: read -r pk sk c <<<"$it"
	direct_request $P.PutItem \
		"{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"$pk\"},\"sk\":{\"S\":\"$sk\"},\"c\":{\"S\":\"$c\"},\"v\":{\"S\":\"orig-$pk-$sk\"}}}"
	expect_status 200
done

step "boto3 through the policy gateway"
mark=$(alog_mark)
amark=$(audit_mark)
with_hosts_pgw /usr/bin/python3 "$IT_DIR/policy_boto3.py" --table "$TB" --index "$IDX" --arn "$ARN" --who "$WHO" \
	--key "$KEY" --secret "$KEY_SECRET" --unmapped-key "$AKID" --unmapped-secret "$SECRET" ||
	fail "boto3 through the policy gateway: see the output above"
sleep 0.3

step "one request per denied call at the gateway, none forwarded"
for op_n in PutItem:2 UpdateItem:1 DeleteItem:1 BatchWriteItem:1; do
	op=${op_n%:*} want=${op_n#*:}
	n=$(alog_count "$mark" "target=$P\\.$op( |\$)")
	echo "$op: $n access-log line(s), expected $want"
	[ "$n" = "$want" ] || fail "$n requests for $op reached the gateway, expected $want (boto3 retried a denial?)"
	n=$(alog_count "$mark" "target=$P\\.$op( |\$)" 'status=400')
	[ "$n" = "$want" ] || fail "only $n of the $op requests were answered 400"
	n=$(audit_count "$amark" "d.get('eventName') == '$op' and d.get('decision') == 'deny' and not d.get('upstreamAddress') and d.get('status') == 400")
	[ "$n" = "$want" ] || fail "$n audit lines say $op was denied without going upstream, expected $want"
done
n=$(audit_count "$amark" "d.get('eventName') == 'DescribeTable' and d.get('decision') == 'deny'")
[ "$n" = 1 ] || fail "$n denied DescribeTable audit lines, expected 1"
audit_expect "$amark" "d.get('eventName') == 'PutItem' and d.get('accessKeyId') == '$KEY'" "no audit line for the mapped key's PutItem"
audit_check "d.get('principal') == '$WHO'" "the audit line does not name the principal"
audit_expect "$amark" "d.get('eventName') == 'PutItem' and d.get('accessKeyId') == '$AKID'" "no audit line for the unmapped key's PutItem"
audit_check "not d.get('principal')" "the unmapped key got a principal"

step "dynalite never saw the denied writes (read directly from dynalite)"
direct_request $P.Scan "{\"TableName\":\"$TB\",\"ConsistentRead\":true}"
expect_status 200
expect_json "sorted((i['pk']['S'], i['sk']['S'], i['v']['S']) for i in d['Items']) == [('o1', 'a', 'orig-o1-a'), ('o1', 'b', 'orig-o1-b'), ('o2', 'a', 'orig-o2-a')]" \
	"the table changed: a denied write reached dynalite"
direct_request $P.DeleteTable "{\"TableName\":\"$TB\"}"
