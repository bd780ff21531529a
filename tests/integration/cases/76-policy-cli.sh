# needs: gateway
# timeout: 60
#
# `ddbgate policy eval` and `ddbgate policy lint`.
# Client:   the ddbgate binary; for --request, rawclient.py build writes signed
#           PutItem requests to files, and the same files are also sent to a
#           case-local gateway 127.0.0.76 that uses the same configuration.
# Config:   books.json (T = arn:aws:dynamodb:us-east-1:111122223333:table):
#             #0 Allow ReadBooks GetItem, Query on T/Books if
#                ForAllValues:StringEquals dynamodb:Attributes [Id, Title];
#             #1 Deny AnySecretIsDenied GetItem on * if
#                ForAnyValue:StringEquals dynamodb:Attributes [SSN];
#             #2 Deny NoDeleteTable DeleteTable on *;
#             #3 Allow AliceOnly PutItem on T/Books for Principal
#                {AWS: arn:aws:iam::111122223333:user/alice}.
#           broken-dup.json: Statement[0].Condition has StringEquals twice;
#           broken-effect.json: Statement[1].Effect "Permit".
#           eval.yaml (policy_lib.sh head): principals [{access_key_id:
#             AKIDDDBGATETEST00001, arn: arn:aws:iam::111122223333:user/writer}];
#             endpoints writer-ok (record.ddbgate.test, policy put-orders.json:
#             Allow PutOrders PutItem on T/Orders) and writer-ro (other.ddbgate.test,
#             policy get-orders.json: Allow GetOrders GetItem on T/Orders), both
#             -> recorder "record".
#           lint-unknown.json: Allow dynamodb:GetItems (no such action);
#           lint-clean.json: Allow GetItem, Query on T/Books; Deny DeleteTable on T/Books.
# Upstream: recorder.py "record" (for the --request comparison only).
# Expect:   eval --action/--resource/--context:
#             GetItem T/Books Attributes={Id,Title}  -> exit 0, "decision: allow", statement ReadBooks
#             GetItem T/Books Attributes={Id,Price}  -> exit 1, "decision: implicit deny"
#             GetItem T/Books Attributes= (empty set) -> exit 0 (ForAllValues of an empty set is true,
#                                                        ForAnyValue false), ReadBooks
#             GetItem T/Books, no Attributes key     -> exit 0 (key absent: ForAllValues true)
#             GetItem T/Books Attributes={Id,SSN}    -> exit 1, "decision: explicit deny", AnySecretIsDenied
#             DeleteTable T/Books                    -> exit 1, "decision: explicit deny", NoDeleteTable
#             PutItem T/Books --principal alice / bob / none -> exit 0 AliceOnly / 1 / 1
#           eval on broken-dup.json -> exit 2, message with Statement[0].Condition and
#             "duplicate"; broken-effect.json -> exit 2, message with Statement[1] and Effect;
#             missing arguments -> exit 2.
#           eval --request (a signed PutItem of table Orders) -c eval.yaml:
#             Host record.ddbgate.test with put-orders.json -> exit 0, names PutItem,
#             dynamodb:PutItem, T/Orders, the principal, "allow"; the gateway forwards
#             the same file (200).  Host other.ddbgate.test with get-orders.json ->
#             exit 1, "implicit deny"; the gateway answers the same file with
#             AccessDeniedException naming dynamodb:PutItem and T/Orders.
#             --now one hour after the request's X-Amz-Date -> exit 1, refused
#             (InvalidSignatureException); --endpoint no-such -> exit 2.
#           lint lint-unknown.json -> exit 1 naming dynamodb:GetItems;
#           lint lint-clean.json -> exit 0.
. "$IT_DIR/policy_lib.sh"

T="arn:aws:dynamodb:us-east-1:$POL_ACCOUNT:table"
ALICE=arn:aws:iam::111122223333:user/alice
WRITER=arn:aws:iam::111122223333:user/writer
D=$CASE_TMP

cat >"$D/books.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "ReadBooks", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "$T/Books",
      "Condition": { "ForAllValues:StringEquals": { "dynamodb:Attributes": ["Id", "Title"] } } },
    { "Sid": "AnySecretIsDenied", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:GetItem", "Resource": "*",
      "Condition": { "ForAnyValue:StringEquals": { "dynamodb:Attributes": ["SSN"] } } },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteTable", "Resource": "*" },
    { "Sid": "AliceOnly", "Effect": "Allow", "Principal": { "AWS": "$ALICE" },
      "Action": "dynamodb:PutItem", "Resource": "$T/Books" }
  ]
}
JSON
cat >"$D/broken-dup.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "Twice", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
      "Condition": { "StringEquals": { "aws:SourceVpce": "vpce-0abc1234def567890" },
                     "StringEquals": { "aws:PrincipalAccount": "111122223333" } } }
  ]
}
JSON
cat >"$D/broken-effect.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "Fine", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*" },
    { "Sid": "Bad", "Effect": "Permit", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": "*" }
  ]
}
JSON
cat >"$D/put-orders.json" <<JSON
{ "Version": "2012-10-17", "Statement": [
  { "Sid": "PutOrders", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": "$T/Orders" } ] }
JSON
cat >"$D/get-orders.json" <<JSON
{ "Version": "2012-10-17", "Statement": [
  { "Sid": "GetOrders", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "$T/Orders" } ] }
JSON
cat >"$D/lint-unknown.json" <<JSON
{ "Version": "2012-10-17", "Statement": [
  { "Sid": "Typo", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItems", "Resource": "$T/Books" } ] }
JSON
cat >"$D/lint-clean.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "ReadBooks", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "$T/Books" },
    { "Sid": "KeepBooks", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteTable", "Resource": "$T/Books" }
  ]
}
JSON

# run_cli EXPECTED-RC ARGS... — ddbgate ARGS; output in $OUT (stdout+stderr).
run_cli() {
	local want=$1 rc
	shift
	OUT=$(timeout 10 "$DDBGATE" "$@" 2>&1)
	rc=$?
	echo "\$ ddbgate $* -> exit $rc"
	printf '%s\n' "$OUT" | sed 's/^/    /'
	[ "$rc" = "$want" ] || fail "ddbgate $* exited $rc, expected $want"
}
has() { # ERE WHAT
	printf '%s\n' "$OUT" | grep -Eq -- "$1" || fail "$2: no /$1/ in the output of the last ddbgate policy command"
}

step "eval --action/--resource/--context"
E=(policy eval -p "$D/books.json")
run_cli 0 "${E[@]}" --action dynamodb:GetItem --resource "$T/Books" --context dynamodb:Attributes=Id --context dynamodb:Attributes=Title
has '^ *decision: allow$' "Attributes {Id,Title}"
has '^ *statement: .*ReadBooks' "Attributes {Id,Title}: deciding statement"
run_cli 1 "${E[@]}" --action dynamodb:GetItem --resource "$T/Books" --context dynamodb:Attributes=Id --context dynamodb:Attributes=Price
has '^ *decision: implicit deny$' "Attributes {Id,Price}"
run_cli 0 "${E[@]}" --action dynamodb:GetItem --resource "$T/Books" --context dynamodb:Attributes=
has '^ *decision: allow$' "Attributes = empty set (ForAllValues true, ForAnyValue false)"
has '^ *statement: .*ReadBooks' "Attributes = empty set: deciding statement"
run_cli 0 "${E[@]}" --action dynamodb:GetItem --resource "$T/Books"
has '^ *decision: allow$' "no Attributes key (ForAllValues on a missing key is true)"
run_cli 1 "${E[@]}" --action dynamodb:GetItem --resource "$T/Books" --context dynamodb:Attributes=Id --context dynamodb:Attributes=SSN
has '^ *decision: explicit deny$' "Attributes {Id,SSN}"
has '^ *statement: .*AnySecretIsDenied' "Attributes {Id,SSN}: deciding statement"
run_cli 1 "${E[@]}" --action dynamodb:DeleteTable --resource "$T/Books"
has '^ *decision: explicit deny$' "DeleteTable"
has '^ *statement: .*NoDeleteTable' "DeleteTable: deciding statement"
run_cli 0 "${E[@]}" --action dynamodb:PutItem --resource "$T/Books" --principal "$ALICE"
has '^ *decision: allow$' "PutItem as alice"
has '^ *statement: .*AliceOnly' "PutItem as alice: deciding statement"
run_cli 1 "${E[@]}" --action dynamodb:PutItem --resource "$T/Books" --principal arn:aws:iam::111122223333:user/bob
has '^ *decision: implicit deny$' "PutItem as bob"
run_cli 1 "${E[@]}" --action dynamodb:PutItem --resource "$T/Books"
has '^ *decision: implicit deny$' "PutItem with no principal"

step "broken policies and bad arguments"
run_cli 2 policy eval -p "$D/broken-dup.json" --action dynamodb:GetItem --resource "$T/Books"
has 'broken-dup\.json' "the duplicate-key error names the file"
has 'Statement\[0\]\.Condition' "the duplicate-key error names the JSON path"
has '[Dd]uplicate' "the duplicate-key error says duplicate"
run_cli 2 policy eval -p "$D/broken-effect.json" --action dynamodb:GetItem --resource "$T/Books"
has 'Statement\[1\]' "the bad-Effect error names the statement"
has 'Effect' "the bad-Effect error names the element"
run_cli 2 policy eval -p "$D/books.json" --action dynamodb:GetItem
run_cli 2 policy eval -p "$D/no-such-policy.json" --action dynamodb:GetItem --resource "$T/Books"

step "eval --request, compared with the gateway"
{
	pgw_config_head 127.0.0.76
	cat <<YAML
principals:
  - access_key_id: $AKID
    arn: $WRITER
endpoints:
YAML
	pgw_endpoint writer-ok record.ddbgate.test record
	echo "    policy: $D/put-orders.json"
	pgw_endpoint writer-ro other.ddbgate.test record
	echo "    policy: $D/get-orders.json"
} >"$PGW_CFG"
cp "$PGW_CFG" "$D/eval.yaml"
BODY='{"TableName":"Orders","Item":{"pk":{"S":"o-cli"},"v":{"S":"SECRET-ITEM-VALUE-policy-cli"}}}'
build_request record.ddbgate.test DynamoDB_20120810.PutItem "$BODY" >"$D/put-ok.http"
build_request other.ddbgate.test DynamoDB_20120810.PutItem "$BODY" >"$D/put-ro.http"

run_cli 0 policy eval -p "$D/put-orders.json" --request "$D/put-ok.http" -c "$D/eval.yaml"
has 'PutItem' "--request: the operation"
has 'dynamodb:PutItem' "--request: the action"
has "$T/Orders" "--request: the resource"
has "$WRITER" "--request: the principal from -c"
has 'decision: allow' "--request: allow"
run_cli 1 policy eval -p "$D/get-orders.json" --request "$D/put-ro.http" -c "$D/eval.yaml"
has 'dynamodb:PutItem' "--request (denied): the action"
has "$T/Orders" "--request (denied): the resource"
has 'decision: implicit deny' "--request (denied): implicit deny"
run_cli 1 policy eval -p "$D/get-orders.json" --request "$D/put-ok.http" -c "$D/eval.yaml" --endpoint writer-ro
has 'implicit deny' "--request --endpoint writer-ro"
t=$(grep -a '^X-Amz-Date:' "$D/put-ok.http" | tr -d '\r' | sed 's/^X-Amz-Date: //')
later=$(($(date -u -d "$(echo "$t" | sed -E 's/^(....)(..)(..)T(..)(..)(..)Z$/\1-\2-\3 \4:\5:\6 UTC/')" +%s) + 3600))
run_cli 1 policy eval -p "$D/put-orders.json" --request "$D/put-ok.http" -c "$D/eval.yaml" --now "$later"
has 'InvalidSignatureException' "--request --now (an hour later): the expired signature"
run_cli 2 policy eval -p "$D/put-orders.json" --request "$D/put-ok.http" -c "$D/eval.yaml" --endpoint no-such

pgw_start
raw_send record.ddbgate.test "$D/put-ok.http" 1
raw_use 1
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the gateway did not forward what eval allowed"
raw_send other.ddbgate.test "$D/put-ro.http" 1
raw_use 1
expect_access_denied dynamodb:PutItem "$T/Orders" implicit "$WRITER"

step "lint"
run_cli 1 policy lint -p "$D/lint-unknown.json"
has 'dynamodb:GetItems' "lint: the unknown action"
run_cli 0 policy lint -p "$D/lint-clean.json"
run_cli 2 policy lint -p "$D/broken-dup.json"
