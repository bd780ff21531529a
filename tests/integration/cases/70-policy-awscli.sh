# needs: gateway
# timeout: 150
#
# An endpoint policy enforced on the AWS CLI's own requests.
# Client:   /usr/bin/aws dynamodb with NO --endpoint-url; a private /etc/hosts
#           (unshare --mount) maps dynamodb.us-east-1.amazonaws.com to the
#           case-local gateway 127.0.0.70; AWS_CA_BUNDLE = gw-ca.pem;
#           AWS_RETRY_MODE=standard, AWS_MAX_ATTEMPTS=5 (so a retry would show);
#           access key AKIDDDBGATEPOLICY070 (mapped to a principal), and once
#           the default test key (not mapped).
#           Allowed: describe-table, get-item, query (table and index ByCustomer),
#           scan, batch-get-item on table Orders<unique>.
#           Denied: put-item, update-item, batch-write-item (implicit deny),
#           delete-item (explicit deny), describe-table of another table.
# Config:   case-local ddbgate (policy_lib.sh pgw_config_head):
#             account: "111122223333"
#             principals: [{access_key_id: AKIDDDBGATEPOLICY070,
#                           arn: arn:aws:iam::111122223333:user/orders-reader}]
#             audit: {path: <case dir>/ddbgate-pgw-audit.out}
#             endpoints: [{name: orders-ro, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443, policy: policy.json, enforcement: enforce}]
#           policy.json: Allow (Sid ReadOrders) GetItem, Query, Scan, DescribeTable,
#             BatchGetItem on table/Orders<unique> and table/Orders<unique>/index/*;
#             Deny (Sid NoDeletes) DeleteItem on table/Orders<unique>.
#           The table and its items are set up directly in dynalite
#           (stunnel front, no ddbgate).
# Upstream: stunnel4 -> dynalite.
# Expect:   allowed calls return dynalite's data; each denied call fails at
#           once: exit 254 (or 255), stderr "An error occurred
#           (AccessDeniedException) when calling the <Op> operation: User:
#           arn:aws:iam::111122223333:user/orders-reader is not authorized to
#           perform: dynamodb:<Op> on resource: arn:aws:dynamodb:us-east-1:
#           111122223333:table/Orders<unique> because no VPC endpoint policy
#           allows the dynamodb:<Op> action" (DeleteItem: "with an explicit deny
#           in a VPC endpoint policy"; the unmapped key: "User: AKIDDDBGATETEST00001");
#           exactly one request per denied call reached the gateway (one
#           access-log line, one audit line with decision deny and no
#           upstreamAddress): the CLI did not retry; and dynalite never saw it
#           (the item state, read directly from dynalite, is unchanged).
. "$IT_DIR/policy_lib.sh"
need_unshare

TB="Orders$(unique)"
IDX=ByCustomer
ARN=$(table_arn "$TB")
KEY=AKIDDDBGATEPOLICY070
KEY_SECRET=ddbgate-policy-070-secret-not-real-0000
WHO=arn:aws:iam::111122223333:user/orders-reader
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
	pgw_config_head 127.0.0.70
	cat <<YAML
principals:
  - access_key_id: $KEY
    arn: $WHO
endpoints:
YAML
	pgw_endpoint orders-ro dynamodb.us-east-1.amazonaws.com good
	cat <<YAML
    policy: $CASE_TMP/policy.json
    enforcement: enforce
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

# cli OUT [--unmapped] ARGS... — one AWS CLI call through the policy gateway;
# stdout in OUT, stderr in OUT.err; sets CLI_RC.
cli() {
	local out=$1 key=$KEY sec=$KEY_SECRET
	shift
	if [ "$1" = --unmapped ]; then key=$AKID sec=$SECRET; shift; fi
	with_hosts_pgw env AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$sec" \
		AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=5 \
		/usr/bin/aws --region us-east-1 --output json --cli-read-timeout 15 --cli-connect-timeout 5 \
		dynamodb "$@" >"$out" 2>"$out.err"
	CLI_RC=$?
	echo "aws dynamodb $1 -> exit $CLI_RC: $(head -c 400 "$out") $(head -c 600 "$out.err")"
}
cli_ok() { # OUT ARGS... — the call succeeded
	cli "$@"
	[ "$CLI_RC" = 0 ] || fail "aws dynamodb $2 was refused (exit $CLI_RC): $(cat "$1.err")"
}
jq_out() { "$IT_DIR/jsonq.py" "$1" "$2" >/dev/null || fail "$3: $(head -c 1000 "$1")"; }

step "allowed calls"
o="$CASE_TMP/cli"
cli_ok "$o" describe-table --table-name "$TB"
jq_out "$o" "d['Table']['TableName'] == '$TB' and d['Table']['TableStatus'] == 'ACTIVE'" "describe-table"
cli_ok "$o" get-item --table-name "$TB" --key '{"pk":{"S":"o1"},"sk":{"S":"a"}}' --consistent-read
jq_out "$o" "d['Item']['v']['S'] == 'orig-o1-a'" "get-item o1/a"
cli_ok "$o" query --table-name "$TB" --key-condition-expression 'pk = :p' --expression-attribute-values '{":p":{"S":"o1"}}'
jq_out "$o" "[i['sk']['S'] for i in d['Items']] == ['a', 'b']" "query pk=o1"
cli_ok "$o" query --table-name "$TB" --index-name "$IDX" --key-condition-expression 'c = :c' --expression-attribute-values '{":c":{"S":"alice"}}'
jq_out "$o" "sorted(i['pk']['S'] + '/' + i['sk']['S'] for i in d['Items']) == ['o1/a', 'o2/a']" "query index $IDX c=alice"
cli_ok "$o" scan --table-name "$TB"
jq_out "$o" "d['Count'] == 3" "scan"
cli_ok "$o" batch-get-item --request-items "{\"$TB\":{\"Keys\":[{\"pk\":{\"S\":\"o1\"},\"sk\":{\"S\":\"b\"}},{\"pk\":{\"S\":\"o2\"},\"sk\":{\"S\":\"a\"}}]}}"
jq_out "$o" "sorted(i['v']['S'] for i in d['Responses']['$TB']) == ['orig-o1-b', 'orig-o2-a']" "batch-get-item"

# denied OP WHO KIND RESOURCE CLI-ARGS... — the CLI call fails at once with
# the exact AccessDeniedException; one request reached the gateway; none went upstream.
denied() {
	local op=$1 who=$2 kind=$3 res=$4 want mark amark n
	shift 4
	if [ "$kind" = explicit ]; then
		want="User: $who is not authorized to perform: dynamodb:$op on resource: $res with an explicit deny in a VPC endpoint policy"
	else
		want="User: $who is not authorized to perform: dynamodb:$op on resource: $res because no VPC endpoint policy allows the dynamodb:$op action"
	fi
	mark=$(alog_mark)
	amark=$(audit_mark)
	cli "$o" "$@"
	case "$CLI_RC" in 254 | 255) ;; *) fail "aws dynamodb $op: exit $CLI_RC, expected 254/255 (AccessDeniedException)" ;; esac
	grep -qF "An error occurred (AccessDeniedException) when calling the $op operation: $want" "$o.err" ||
		fail "aws dynamodb $op: stderr lacks 'An error occurred (AccessDeniedException) when calling the $op operation: $want': $(cat "$o.err")"
	audit_expect "$amark" "d.get('eventName') == '$op' and d.get('decision') == 'deny'" "no deny audit line for $op"
	audit_check "not d.get('upstreamAddress') and d.get('status') == 400" "the denied $op went upstream or was not a 400"
	audit_check "d.get('resources') and any(r.get('ARN') == '$res' and r.get('action') == 'dynamodb:$op' for r in d['resources'])" \
		"the audit line of $op does not list ($op, $res)"
	alog_expect "$mark" "target=$P\\.$op( |\$)" 'status=400'
	sleep 0.3 # the CLI has exited, so every attempt it made is over; let the gateway's lines land
	n=$(alog_count "$mark" "target=$P\\.$op( |\$)")
	[ "$n" = 1 ] || fail "aws dynamodb $op: $n requests reached the gateway, expected exactly 1 (the CLI retried an AccessDeniedException?)"
	n=$(audit_count "$amark" "d.get('eventName') == '$op'")
	[ "$n" = 1 ] || fail "aws dynamodb $op: $n audit lines, expected exactly 1"
	echo "$op denied on the first attempt, one request at the gateway"
}

step "denied calls"
denied PutItem "$WHO" implicit "$ARN" put-item --table-name "$TB" \
	--item '{"pk":{"S":"new"},"sk":{"S":"x"},"v":{"S":"SECRET-ITEM-VALUE-cli-put"}}'
denied UpdateItem "$WHO" implicit "$ARN" update-item --table-name "$TB" --key '{"pk":{"S":"o1"},"sk":{"S":"a"}}' \
	--update-expression 'SET v = :v' --expression-attribute-values '{":v":{"S":"SECRET-ITEM-VALUE-cli-upd"}}'
denied DeleteItem "$WHO" explicit "$ARN" delete-item --table-name "$TB" --key '{"pk":{"S":"o1"},"sk":{"S":"b"}}'
denied BatchWriteItem "$WHO" implicit "$ARN" batch-write-item --request-items \
	"{\"$TB\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"bw\"},\"sk\":{\"S\":\"1\"}}}},{\"DeleteRequest\":{\"Key\":{\"pk\":{\"S\":\"o2\"},\"sk\":{\"S\":\"a\"}}}}]}"
denied DescribeTable "$WHO" implicit "$(table_arn Customers)" describe-table --table-name Customers
denied PutItem "$AKID" implicit "$ARN" --unmapped put-item --table-name "$TB" \
	--item '{"pk":{"S":"new2"},"sk":{"S":"x"}}'

step "dynalite never saw the denied writes (read directly from dynalite)"
direct_request $P.Scan "{\"TableName\":\"$TB\",\"ConsistentRead\":true}"
expect_status 200
expect_json "sorted((i['pk']['S'], i['sk']['S'], i['v']['S']) for i in d['Items']) == [('o1', 'a', 'orig-o1-a'), ('o1', 'b', 'orig-o1-b'), ('o2', 'a', 'orig-o2-a')]" \
	"the table changed: a denied write reached dynalite"

direct_request $P.DeleteTable "{\"TableName\":\"$TB\"}"
