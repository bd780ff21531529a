# needs: gateway
# timeout: 90
#
# Connect mode with boto3: the proxy given in botocore's Config, the gateway
# CA as verify=, keep-alive through one CONNECT tunnel, an endpoint policy.
# Client:   /usr/bin/python3 connect_boto3.py (Debian's boto3), no endpoint_url,
#           Config(proxies={"https": "http://127.0.1.101:3128"}, retries
#           standard x3), verify = the case's gateway CA, no *_PROXY variable;
#           a private /etc/hosts maps dynamodb.us-east-1.amazonaws.com to
#           127.0.5.101 (nothing listens: a bypass would fail).
#           create_table, table_exists waiter, put_item, get_item (allowed);
#           delete_item (denied).
# Config:   case-local ddbgate: account "111122223333";
#             listeners: [{address: 127.0.1.101:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json}]
#           policy.json: Allow (Sid BotoTable) CreateTable, DescribeTable,
#             PutItem, GetItem on table/BotoC<unique>; Deny (Sid NoDeletes)
#             DeleteItem on *.
# Upstream: stunnel4 -> dynalite.
# Expect:   the allowed calls return dynalite's data (get_item = the item put,
#           also read directly from dynalite); delete_item raises ClientError
#           AccessDeniedException, HTTP 400, RetryAttempts 0, message "User:
#           AKIDDDBGATETEST00001 is not authorized to perform:
#           dynamodb:DeleteItem on resource: arn:...:table/BotoC<unique> with an
#           explicit deny in a VPC endpoint policy"; one DeleteItem at the
#           gateway (audit: deny, NoDeletes, no upstreamAddress); the item is
#           still in dynalite. All of boto3's requests (>= 5 audit lines, all
#           endpoint ddb) came over ONE client connection (one source port:
#           the CONNECT tunnel was kept alive). No item data in any log.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
need_unshare
IP=127.0.1.101
H=dynamodb.us-east-1.amazonaws.com
TB="BotoC$(unique)"
ARN="arn:aws:dynamodb:us-east-1:111122223333:table/$TB"
P=DynamoDB_20120810
VAL="SECRET-ITEM-VALUE-connect-boto3-$(unique)"

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "BotoTable", "Effect": "Allow", "Principal": "*",
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
printf '127.0.0.1 localhost\n127.0.5.101 %s\n' "$H" >"$CASE_TMP/hosts"

step "boto3 through the proxy"
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
with_private_hosts "$CASE_TMP/hosts" /usr/bin/python3 "$IT_DIR/connect_boto3.py" --ca "$CGW_CA" --proxy "$CGW_PROXY" \
	--table "$TB" --value "$VAL" --denied-arn "$ARN" || fail "boto3 through the connect gateway: see above"

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
[ "$n" = 1 ] || fail "$n DeleteItem requests reached the gateway, expected 1 (boto3 retried an AccessDeniedException?)"
n=$(cgw_audit_count "$amark" "True")
nc=$(cgw_audit_count "$amark" "d.get('endpoint') == 'ddb'")
ports=$(log_since "$CGW_AUDIT" "$amark" | /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["sourceIPAddress"] for l in sys.stdin})))')
echo "$n audit lines, $nc for endpoint ddb, client connections: $ports"
[ "$n" -ge 5 ] && [ "$n" = "$nc" ] || fail "expected >= 5 audit lines, all for endpoint ddb: $n / $nc"
[ "$(echo "$ports" | wc -w)" = 1 ] || fail "boto3's requests came over several client connections ($ports); expected one kept-alive CONNECT tunnel"
[[ $ports == 127.0.0.1:* ]] || fail "the client address is $ports, expected 127.0.0.1:PORT"

direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item'] == {'pk': {'S': 'p1'}, 'v': {'S': '$VAL'}}" "the item is not (or no longer) in dynalite"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"
cgw_expect_no_item_data
step "the case-local gateway stops cleanly"
lgw_stop
