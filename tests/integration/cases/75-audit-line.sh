# needs: gateway
# timeout: 60
#
# The audit line, field by field, and no item data in it.
# Client:   curl --aws-sigv4 (key AKIDDDBGATETEST00001) to
#           dynamodb.us-east-1.amazonaws.com via the case-local gateway
#           127.0.0.75: PutItem on Audited<unique> whose key and attribute
#           values are distinctive (SECRET-ITEM-VALUE-audit-...); then a denied
#           DeleteItem.
# Config:   case-local ddbgate (policy_lib.sh): account "111122223333";
#             principals: [{access_key_id: AKIDDDBGATETEST00001,
#                           arn: arn:aws:iam::111122223333:user/auditor}]
#             audit: {path: <case dir>/ddbgate-pgw-audit.out}
#             endpoints: [{name: audited, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json}]
#           policy.json: Allow (Sid WriteAudited) PutItem, GetItem on
#             table/Audited<unique>; Deny (Sid NoDeletes) DeleteItem on *.
# Upstream: stunnel4 -> dynalite.
# Expect:   PutItem 200; its audit line is one JSON object with: eventTime
#           (ISO 8601 UTC, within a minute of now), sourceIPAddress 127.0.0.1
#           (optionally :port), accessKeyId, principal (the mapped ARN),
#           eventSource dynamodb.amazonaws.com, eventName PutItem, resources
#           [{action: dynamodb:PutItem, ARN: the table ARN}], decision allow,
#           no reason, decidingStatement WriteAudited, enforcement enforce,
#           endpoint audited, upstreamAddress 127.0.0.21:8443, status 200,
#           latencyMs a number >= 0, replay absent or false; and nothing else.
#           The denied DeleteItem's line: decision deny, the IAM message as
#           reason, decidingStatement NoDeletes, status 400, no upstreamAddress.
#           No value of the item (key or attribute) appears in the audit log,
#           the access log or the gateway's stderr.
. "$IT_DIR/policy_lib.sh"

TB="Audited$(unique)"
ARN=$(table_arn "$TB")
WHO=arn:aws:iam::111122223333:user/auditor
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
u=$(unique)
PKV="SECRET-ITEM-VALUE-audit-pk-$u"
AV="SECRET-ITEM-VALUE-audit-attr-$u"
NV="SECRET-ITEM-VALUE-audit-nested-$u"

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "WriteAudited", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": "$ARN" },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "*" }
  ]
}
JSON
{
	pgw_config_head 127.0.0.75
	cat <<YAML
principals:
  - access_key_id: $AKID
    arn: $WHO
endpoints:
YAML
	pgw_endpoint audited $H good
	echo "    policy: $CASE_TMP/policy.json"
} >"$PGW_CFG"
pgw_start
create_table_direct "$TB"

step "allowed PutItem"
amark=$(audit_mark)
mark=$(alog_mark)
gw_request $H $P.PutItem "{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"$PKV\"},\"sk\":{\"S\":\"s-$u\"},\"attr\":{\"S\":\"$AV\"},\"m\":{\"M\":{\"n\":{\"S\":\"$NV\"}}}},\"ConditionExpression\":\"attribute_not_exists(pk) OR attr <> :v\",\"ExpressionAttributeValues\":{\":v\":{\"S\":\"$AV\"}}}"
expect_status 200
alog_expect "$mark" "target=$P\\.PutItem( |\$)" 'status=200'
audit_expect "$amark" "d.get('eventName') == 'PutItem'" "no audit line for the PutItem"
[ "$(audit_count "$amark" "d.get('eventName') == 'PutItem'")" = 1 ] || fail "more than one audit line for one PutItem"
now=$(date +%s)
audit_check "sorted(d) == sorted(['eventTime', 'sourceIPAddress', 'accessKeyId', 'principal', 'eventSource', 'eventName', 'resources', 'decision', 'decidingStatement', 'enforcement', 'endpoint', 'upstreamAddress', 'status', 'latencyMs'] + [k for k in ('reason', 'replay') if k in d])" \
	"the audit line's fields are not exactly those listed"
audit_check "isinstance(d['eventTime'], str) and len(d['eventTime']) >= 20 and d['eventTime'][4] == '-' and d['eventTime'][10] == 'T' and d['eventTime'].endswith('Z')" "eventTime is not ISO 8601 UTC"
et=$("$IT_DIR/jsonq.py" "$CASE_TMP/audit.line" "d['eventTime']")
ets=$(date -u -d "$(echo "$et" | sed 's/T/ /; s/Z$//; s/\.[0-9]*$//')" +%s) || fail "eventTime '$et' does not parse"
{ [ $((now - ets)) -le 60 ] && [ $((ets - now)) -le 60 ]; } || fail "eventTime $et is not within a minute of now ($(date -u +%FT%TZ))"
audit_check "isinstance(d['sourceIPAddress'], str) and d['sourceIPAddress'].split(':')[0] == '127.0.0.1' and (d['sourceIPAddress'] == '127.0.0.1' or d['sourceIPAddress'].split(':')[1].isdigit())" "sourceIPAddress is not 127.0.0.1[:port]"
audit_check "d['accessKeyId'] == '$AKID'" "accessKeyId"
audit_check "d['principal'] == '$WHO'" "principal"
audit_check "d['eventSource'] == 'dynamodb.amazonaws.com'" "eventSource"
audit_check "d['eventName'] == 'PutItem'" "eventName"
audit_check "d['resources'] == [{'action': 'dynamodb:PutItem', 'ARN': '$ARN'}]" "resources"
audit_check "d['decision'] == 'allow'" "decision"
audit_check "not d.get('reason')" "an allowed request has a reason"
audit_check "d['decidingStatement'] == 'WriteAudited'" "decidingStatement"
audit_check "d['enforcement'] == 'enforce'" "enforcement"
audit_check "d['endpoint'] == 'audited'" "endpoint"
audit_check "d['upstreamAddress'] == '127.0.0.21:$UP_PORT'" "upstreamAddress"
audit_check "d['status'] == 200 and not isinstance(d['status'], bool)" "status"
audit_check "isinstance(d['latencyMs'], (int, float)) and not isinstance(d['latencyMs'], bool) and 0 <= d['latencyMs'] < 10000" "latencyMs"
audit_check "d.get('replay') in (None, False)" "a first request flagged as a replay"

step "denied DeleteItem"
amark=$(audit_mark)
gw_request $H $P.DeleteItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"$PKV\"},\"sk\":{\"S\":\"s-$u\"}}}"
expect_access_denied dynamodb:DeleteItem "$ARN" explicit "$WHO"
audit_expect "$amark" "d.get('eventName') == 'DeleteItem'" "no audit line for the DeleteItem"
audit_check "d['decision'] == 'deny' and d.get('decidingStatement') == 'NoDeletes' and d['status'] == 400" "DeleteItem: decision/statement/status"
audit_check "d.get('reason') == 'User: $WHO is not authorized to perform: dynamodb:DeleteItem on resource: $ARN with an explicit deny in a VPC endpoint policy'" "DeleteItem: reason"
audit_check "not d.get('upstreamAddress') and d['resources'] == [{'action': 'dynamodb:DeleteItem', 'ARN': '$ARN'}]" "DeleteItem: upstreamAddress/resources"

step "the item is intact and its values are in no ddbgate output"
direct_request $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"$PKV\"},\"sk\":{\"S\":\"s-$u\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['attr']['S'] == '$AV'" "the item is not there"
sleep 0.3
files=("$PGW_AUDIT" "$PGW_BASE.out" "$PGW_BASE.err")
echo "searched: ${files[*]} ($(cat "${files[@]}" | wc -l) lines)"
for v in "$PKV" "$AV" "$NV" "SECRET-ITEM-VALUE"; do
	if grep -n -F -- "$v" "${files[@]}"; then
		fail "item data ($v) appears in ddbgate's output"
	fi
done
direct_request $P.DeleteTable "{\"TableName\":\"$TB\"}"
