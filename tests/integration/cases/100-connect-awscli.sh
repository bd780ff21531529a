# needs: gateway
# timeout: 120
#
# Connect mode with Debian's AWS CLI v2: HTTPS_PROXY, the gateway CA in
# AWS_CA_BUNDLE, interception, an endpoint policy applied to each request.
# Client:   /usr/bin/aws dynamodb, NO --endpoint-url (so the CLI asks for
#           dynamodb.us-east-1.amazonaws.com:443), HTTPS_PROXY=http://127.0.1.100:3128,
#           AWS_CA_BUNDLE = the case's gateway CA (made by `ddbgate ca init`),
#           AWS_RETRY_MODE=standard, AWS_MAX_ATTEMPTS=3; a private /etc/hosts
#           maps dynamodb.us-east-1.amazonaws.com to 127.0.5.100, where
#           nothing listens, so a CLI that bypassed the proxy would fail.
#           create-table, wait table-exists, put-item, get-item (allowed);
#           delete-item (denied).
# Config:   case-local ddbgate:
#             account: "111122223333"
#             listeners: [{address: 127.0.1.100:3128, mode: connect}]
#             tls: {ca_cert: <case>/ca/ca.pem, ca_key: <case>/ca/ca.key}
#             audit: {path: <case>/lgw-audit.out}
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json}]
#           policy.json: Allow (Sid CliTable) CreateTable, DescribeTable,
#             PutItem, GetItem on table/CliC<unique>; Deny (Sid NoDeletes)
#             DeleteItem on *.
# Upstream: stunnel4 -> dynalite.
# Expect:   every allowed step succeeds with dynalite's data (the item read
#           back through the proxy and directly from dynalite); delete-item:
#           exit 254, stderr "An error occurred (AccessDeniedException) when
#           calling the DeleteItem operation: User: AKIDDDBGATETEST00001 is not
#           authorized to perform: dynamodb:DeleteItem on resource:
#           arn:aws:dynamodb:us-east-1:111122223333:table/CliC<unique> with an
#           explicit deny in a VPC endpoint policy", one request at the gateway
#           (no retry), audit decision deny, decidingStatement NoDeletes, no
#           upstreamAddress; the item is still in dynalite. Access-log lines
#           (endpoint ddb, host dynamodb.us-east-1.amazonaws.com, upstream
#           127.0.0.21:8443) for CreateTable, PutItem, GetItem (200) and
#           DeleteItem (400); every audit line of the CLI's requests comes from
#           the connect listener's client. No item data in any log.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
need_unshare
IP=127.0.1.100
H=dynamodb.us-east-1.amazonaws.com
TB="CliC$(unique)"
ARN="arn:aws:dynamodb:us-east-1:111122223333:table/$TB"
P=DynamoDB_20120810
VAL="SECRET-ITEM-VALUE-connect-awscli-$(unique)"

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "CliTable", "Effect": "Allow", "Principal": "*",
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

printf '127.0.0.1 localhost\n127.0.5.100 %s\n' "$H" >"$CASE_TMP/hosts"

# cli OUT ARGS... — one AWS CLI call through the proxy; stdout in OUT,
# stderr in OUT.err; sets CLI_RC.
cli() {
	local out=$1
	shift
	with_private_hosts "$CASE_TMP/hosts" env HTTPS_PROXY="$CGW_PROXY" AWS_CA_BUNDLE="$CGW_CA" \
		AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3 \
		/usr/bin/aws --region us-east-1 --output json --cli-read-timeout 15 --cli-connect-timeout 5 \
		dynamodb "$@" >"$out" 2>"$out.err"
	CLI_RC=$?
	echo "aws dynamodb $1 -> exit $CLI_RC: $(head -c 400 "$out") $(head -c 600 "$out.err")"
}
cli_ok() { # OUT ARGS...
	cli "$@"
	[ "$CLI_RC" = 0 ] || fail "aws dynamodb $2 failed (exit $CLI_RC): $(cat "$1.err")"
}
jq_out() { "$IT_DIR/jsonq.py" "$1" "$2" >/dev/null || fail "$3: $(head -c 1000 "$1")"; }

o="$CASE_TMP/cli"
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
step "allowed: create-table, wait, put-item, get-item"
cli_ok "$o" create-table --table-name "$TB" --attribute-definitions AttributeName=pk,AttributeType=S \
	--key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST
jq_out "$o" "d['TableDescription']['TableName'] == '$TB'" "create-table does not name $TB"
cli_ok "$o" wait table-exists --table-name "$TB"
cli_ok "$o" put-item --table-name "$TB" --item "{\"pk\":{\"S\":\"p1\"},\"v\":{\"S\":\"$VAL\"}}"
cli_ok "$o" get-item --table-name "$TB" --key '{"pk":{"S":"p1"}}' --consistent-read
jq_out "$o" "d['Item'] == {'pk': {'S': 'p1'}, 'v': {'S': '$VAL'}}" "get-item does not return the item put"
direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['v']['S'] == '$VAL'" "the item is not in dynalite"
for t in CreateTable PutItem GetItem; do
	lgw_alog_expect "$mark" "target=$P\\.$t " 'status=200' "endpoint=ddb host=$H " "upstream=127\\.0\\.0\\.21:$UP_PORT "
done

step "denied: delete-item (explicit deny), visible to the CLI"
dmark=$(log_mark "$LGW_OUT")
damark=$(cgw_audit_mark)
cli "$o" delete-item --table-name "$TB" --key '{"pk":{"S":"p1"}}'
[ "$CLI_RC" = 254 ] || fail "aws dynamodb delete-item: exit $CLI_RC, expected 254 (AccessDeniedException)"
want="An error occurred (AccessDeniedException) when calling the DeleteItem operation: User: $AKID is not authorized to perform: dynamodb:DeleteItem on resource: $ARN with an explicit deny in a VPC endpoint policy"
grep -qxF "$want" <(tr -d '\r' <"$o.err" | sed '/^$/d') || fail "the CLI's stderr is not '$want': $(cat "$o.err")"
lgw_alog_expect "$dmark" "target=$P\\.DeleteItem " 'status=400' 'upstream=- '
cgw_audit_expect "$damark" "d.get('eventName') == 'DeleteItem'" "no audit line for the DeleteItem"
cgw_audit_check "d['decision'] == 'deny' and d['decidingStatement'] == 'NoDeletes' and d['status'] == 400 and 'upstreamAddress' not in d" \
	"the DeleteItem audit line"
sleep 0.3
n=$(lgw_alog_count "$dmark" "target=$P\\.DeleteItem ")
[ "$n" = 1 ] || fail "$n DeleteItem requests reached the gateway, expected 1 (the CLI retried an AccessDeniedException?)"
direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item']['v']['S'] == '$VAL'" "the denied DeleteItem reached dynalite"

step "every request of the CLI came through the connect listener"
n=$(cgw_audit_count "$amark" "True")
nc=$(cgw_audit_count "$amark" "d['sourceIPAddress'].startswith('127.0.0.1:') and d.get('endpoint') == 'ddb'")
echo "$n audit lines since the first call, $nc from 127.0.0.1 for endpoint ddb"
[ "$n" -ge 5 ] && [ "$n" = "$nc" ] || fail "expected >= 5 audit lines, all from the CLI (127.0.0.1) for endpoint ddb: $n / $nc"

direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"
cgw_expect_no_item_data
step "the case-local gateway stops cleanly"
lgw_stop
