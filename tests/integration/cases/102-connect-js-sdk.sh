# needs: gateway
# timeout: 90
#
# Connect mode with the AWS SDK for JavaScript v3 (Node.js): the SDK ignores
# HTTPS_PROXY, so the proxy is an agent given to its HTTP handler, and the
# gateway CA that agent's `ca`.
# Client:   node connect_js_sdk.js: @aws-sdk/client-dynamodb 3.600.0, no
#           endpoint (dynamodb.us-east-1.amazonaws.com:443), requestHandler
#           NodeHttpHandler({httpsAgent: new HttpsProxyAgent({proxy:
#           "http://127.0.1.102:3128", ca: [gateway CA], keepAlive: true})})
#           (hpagent 1.2.0), explicit credentials without an account id,
#           maxAttempts 3; a private /etc/hosts maps
#           dynamodb.us-east-1.amazonaws.com to 127.0.5.102 (nothing listens).
#           CreateTable, waitUntilTableExists, PutItem, GetItem (allowed);
#           DeleteItem (denied).
# Config:   case-local ddbgate: account "111122223333";
#             listeners: [{address: 127.0.1.102:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json}]
#           policy.json: Allow (Sid JsTable) CreateTable, DescribeTable,
#             PutItem, GetItem on table/JsC<unique>; Deny (Sid NoDeletes)
#             DeleteItem on *.
# Upstream: stunnel4 -> dynalite.
# Expect:   the allowed calls return dynalite's data (GetItem = the item put,
#           also read directly from dynalite); DeleteItem rejects with
#           AccessDeniedException, $metadata.httpStatusCode 400, attempts 1,
#           message "User: AKIDDDBGATETEST00001 is not authorized to perform:
#           dynamodb:DeleteItem on resource: arn:...:table/JsC<unique> with an
#           explicit deny in a VPC endpoint policy"; one DeleteItem at the
#           gateway (audit: deny, NoDeletes, no upstreamAddress); the item is
#           still in dynalite. All of the SDK's requests (>= 5 audit lines,
#           all endpoint ddb) came over ONE client connection (the agent kept
#           its CONNECT tunnel alive). No item data in any log.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
need_unshare
IP=127.0.1.102
H=dynamodb.us-east-1.amazonaws.com
TB="JsC$(unique)"
ARN="arn:aws:dynamodb:us-east-1:111122223333:table/$TB"
P=DynamoDB_20120810
VAL="SECRET-ITEM-VALUE-connect-js-sdk-$(unique)"

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "JsTable", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem"],
      "Resource": "$ARN" },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "*" }
  ]
}
JSON
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
account: "111122223333"
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint ddb $H "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "    policy: $CASE_TMP/policy.json"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
printf '127.0.0.1 localhost\n127.0.5.102 %s\n' "$H" >"$CASE_TMP/hosts"

step "the JS SDK through the proxy"
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
with_private_hosts "$CASE_TMP/hosts" node "$IT_DIR/connect_js_sdk.js" --ca "$CGW_CA" --proxy "$CGW_PROXY" \
	--table "$TB" --value "$VAL" --denied-arn "$ARN" || fail "the JS SDK through the connect gateway: see above"

step "what the gateway saw"
for t in CreateTable PutItem GetItem; do
	lgw_alog_expect "$mark" "target=$P\\.$t " 'status=200' "endpoint=ddb host=$H " "upstream=127\\.0\\.0\\.21:$UP_PORT "
done
lgw_alog_expect "$mark" "target=$P\\.DeleteItem " 'status=400' 'upstream=- '
cgw_audit_expect "$amark" "d.get('eventName') == 'DeleteItem'" "no audit line for the DeleteItem"
cgw_audit_check "d['decision'] == 'deny' and d['decidingStatement'] == 'NoDeletes' and d['status'] == 400 and 'upstreamAddress' not in d" \
	"the DeleteItem audit line"
sleep 0.3
n=$(lgw_alog_count "$mark" "target=$P\\.DeleteItem ")
[ "$n" = 1 ] || fail "$n DeleteItem requests reached the gateway, expected 1 (the SDK retried an AccessDeniedException?)"
n=$(cgw_audit_count "$amark" "True")
nc=$(cgw_audit_count "$amark" "d.get('endpoint') == 'ddb'")
ports=$(log_since "$CGW_AUDIT" "$amark" | /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["sourceIPAddress"] for l in sys.stdin})))')
echo "$n audit lines, $nc for endpoint ddb, client connections: $ports"
[ "$n" -ge 5 ] && [ "$n" = "$nc" ] || fail "expected >= 5 audit lines, all for endpoint ddb: $n / $nc"
[ "$(echo "$ports" | wc -w)" = 1 ] || fail "the SDK's requests came over several client connections ($ports); expected one kept-alive CONNECT tunnel"
[[ $ports == 127.0.0.1:* ]] || fail "the client address is $ports, expected 127.0.0.1:PORT"

direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item'] == {'pk': {'S': 'p1'}, 'v': {'S': '$VAL'}}" "the item is not (or no longer) in dynalite"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"
cgw_expect_no_item_data
step "the case-local gateway stops cleanly"
lgw_stop
