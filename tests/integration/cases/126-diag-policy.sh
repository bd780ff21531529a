# needs: infra ddbgate
# timeout: 60
#
# diag --access-key-id ID --action A --resource R evaluates the
# endpoint's policy: the principal comes from `principals` by access key
# id, the context carries what the gateway would know (aws:SourceVpce of
# the endpoint, the principal's ARN and account); the deciding statement
# is named; a denial exits 8, a policy that does not load exits 3; the
# answer agrees with `ddbgate policy eval`.
# Client:   ddbgate diag -c CFG --endpoint pol126 --access-key-id ID
#           --action A --resource R (human and --json); ddbgate policy eval.
# Config:   principals: [{access_key_id: AKIDDIAGTEST12600001,
#             arn: arn:aws:iam::111122223333:user/reader}]
#           endpoints (ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8]):
#             pol126:   hosts [dynamodb.us-east-1.amazonaws.com], upstream
#                       127.0.0.21:8443, source_vpce vpce-0abc1234def567890,
#                       policy.json
#             nopol126: hosts [record.ddbgate.test], upstream 127.0.0.21:8443,
#                       no policy
#           policy.json: Allow (Sid ReadOrders) GetItem on table/Orders for the
#           reader; Deny (Sid NoDeletes) DeleteItem on table/Orders for "*";
#           Deny (Sid OnlyViaEndpoint) "*" when aws:SourceVpce is not
#           vpce-0abc1234def567890. A second configuration names a policy
#           file with a duplicate key.
# Upstream: 127.0.0.21: stunnel -> dynalite.
# Expect:   reader GetItem Orders: exit 0, "PASS policy allow ... statement
#             ReadOrders (#0)"; JSON decision allow, sid ReadOrders, context
#             with aws:SourceVpce vpce-0abc1234def567890, aws:PrincipalArn
#             and aws:PrincipalAccount 111122223333.
#           reader DeleteItem Orders: exit 8, "FAIL policy explicit deny ...:
#             statement NoDeletes (#1)", hint "statement NoDeletes (#1) of
#             <policy.json> denies dynamodb:DeleteItem on ...".
#           unmapped key GetItem Orders: exit 8, "implicit deny ... for an
#             unmapped key: no statement matched", hint "no statement of
#             <policy.json> allows ... (it matches only Principal "*")".
#           Each decision equals `ddbgate policy eval`'s for the same
#           principal, action, resource and aws:SourceVpce.
#           The whole configuration with an allowed question: nopol126
#             "no policy (allow all)", exit 0.
#           --action without --resource: exit 2, nothing on stdout.
#           Broken policy: exit 3, "FAIL config" naming the file and
#             Statement, hint "ddbgate policy lint -p <file>"; policy SKIP
#             "the policy did not load (see config)".
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
ORDERS=arn:aws:dynamodb:us-east-1:111122223333:table/Orders
READER=arn:aws:iam::111122223333:user/reader
VPCEID=vpce-0abc1234def567890
POLICY="$CASE_TMP/policy.json"
cat >"$POLICY" <<JSON
{ "Version": "2012-10-17",
  "Statement": [
    { "Sid": "ReadOrders", "Effect": "Allow", "Principal": { "AWS": "$READER" },
      "Action": "dynamodb:GetItem", "Resource": "$ORDERS" },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "$ORDERS" },
    { "Sid": "OnlyViaEndpoint", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
      "Condition": { "StringNotEquals": { "aws:SourceVpce": "$VPCEID" } } } ] }
JSON
cat >"$CASE_TMP/broken.json" <<'JSON'
{ "Version": "2012-10-17",
  "Statement": [ { "Effect": "Allow", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*" } ] }
JSON
principals() {
	cat <<YAML
principals:
  - access_key_id: AKIDDIAGTEST12600001
    arn: $READER
YAML
}
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint pol126 dynamodb.us-east-1.amazonaws.com "127.0.0.21:$UP_PORT"
	printf '    source_vpce: %s\n    policy: %s\n' "$VPCEID" "$POLICY"
	dg_endpoint nopol126 record.ddbgate.test "127.0.0.21:$UP_PORT"
	principals
} | dg_conf "$cfg" "$DNS"
{
	dg_endpoint pol126 dynamodb.us-east-1.amazonaws.com "127.0.0.21:$UP_PORT"
	printf '    policy: %s\n' "$CASE_TMP/broken.json"
	principals
} | dg_conf "$CASE_TMP/broken.yaml" "$DNS"

# eval_decision PRINCIPAL|- ACTION — what `ddbgate policy eval` decides.
eval_decision() {
	local p=()
	[ "$1" = - ] || p=(--principal "$1")
	"$DDBGATE" policy eval -p "$POLICY" --action "$2" --resource "$ORDERS" "${p[@]}" \
		--context "aws:SourceVpce=$VPCEID" | sed -n 's/^decision: //p'
}

step "allowed"
diag_run allow -c "$cfg" --endpoint pol126 --access-key-id AKIDDIAGTEST12600001 --action dynamodb:GetItem --resource "$ORDERS"
expect_exit 0
expect_line "^  PASS  policy +[0-9]+ ms  allow dynamodb:GetItem on ${ORDERS//./\\.} for arn:aws:iam::111122223333:user/reader: statement ReadOrders \(#0\)$"
diag_json allow -c "$cfg" --endpoint pol126 --access-key-id AKIDDIAGTEST12600001 --action dynamodb:GetItem --resource "$ORDERS"
dq 'ev("pol126", "policy")["decision"] == "allow" and ev("pol126", "policy")["sid"] == "ReadOrders" and ev("pol126", "policy")["statement"] == 0' "allow by ReadOrders"
dq 'ev("pol126", "policy")["context"]["aws:SourceVpce"] == "'"$VPCEID"'" and ev("pol126", "policy")["context"]["aws:PrincipalArn"] == "'"$READER"'"' \
	"the context: the endpoint's vpce and the principal"
dq 'ev("pol126", "policy")["context"]["aws:PrincipalAccount"] == "111122223333" and ev("pol126", "policy")["principal"] == "'"$READER"'"' "the account"
[ "$(eval_decision "$READER" dynamodb:GetItem)" = allow ] || fail "ddbgate policy eval disagrees"

step "explicitly denied"
diag_run deny -c "$cfg" --endpoint pol126 --access-key-id AKIDDIAGTEST12600001 --action dynamodb:DeleteItem --resource "$ORDERS"
expect_exit 8
expect_line "^  FAIL  policy +[0-9]+ ms  explicit deny dynamodb:DeleteItem on ${ORDERS//./\\.} for arn:aws:iam::111122223333:user/reader: statement NoDeletes \(#1\)$" \
	"^        hint: statement NoDeletes \(#1\) of ${POLICY//./\\.} denies dynamodb:DeleteItem on ${ORDERS//./\\.}: change that Deny" \
	'^result: FAIL, first failing layer: policy \(exit 8\)$'
diag_json deny -c "$cfg" --endpoint pol126 --access-key-id AKIDDIAGTEST12600001 --action dynamodb:DeleteItem --resource "$ORDERS"
dq 'ev("pol126", "policy")["decision"] == "explicit deny" and ev("pol126", "policy")["sid"] == "NoDeletes"' "explicit deny by NoDeletes"
[ "$(eval_decision "$READER" dynamodb:DeleteItem)" = "explicit deny" ] || fail "ddbgate policy eval disagrees"

step "an access key no principal maps"
diag_run implicit -c "$cfg" --endpoint pol126 --access-key-id AKIDUNMAPPEDKEY00001 --action dynamodb:GetItem --resource "$ORDERS"
expect_exit 8
expect_line "^  FAIL  policy +[0-9]+ ms  implicit deny dynamodb:GetItem on ${ORDERS//./\\.} for an unmapped key: no statement matched$" \
	"^        hint: no statement of ${POLICY//./\\.} allows dynamodb:GetItem on ${ORDERS//./\\.} for an unmapped key \(it matches only Principal \"\*\"\)"
diag_json implicit -c "$cfg" --endpoint pol126 --access-key-id AKIDUNMAPPEDKEY00001 --action dynamodb:GetItem --resource "$ORDERS"
dq 'ev("pol126", "policy")["decision"] == "implicit deny" and ev("pol126", "policy")["principal"] is None and ev("pol126", "policy")["statement"] is None' "implicit, unknown principal"
[ "$(eval_decision - dynamodb:GetItem)" = "implicit deny" ] || fail "ddbgate policy eval disagrees"

step "every endpoint; one without a policy"
diag_run all -c "$cfg" --access-key-id AKIDDIAGTEST12600001 --action dynamodb:GetItem --resource "$ORDERS"
expect_exit 0
expect_line "^  PASS  policy +[0-9]+ ms  allow dynamodb:GetItem on ${ORDERS//./\\.} for arn:aws:iam::111122223333:user/reader: no policy \(allow all\)$"
[ "$(count_lines '^  PASS  policy ')" = 2 ] || fail "both endpoints' policies are evaluated"

step "the three go together"
diag_run usage -c "$cfg" --action dynamodb:GetItem
expect_exit 2
[ -s "$DIAG_OUT" ] && fail "a usage error prints nothing on stdout"
grep -q -- '--access-key-id, --action and --resource go together' "$CASE_TMP/diag-usage.err" || fail "the usage error does not say why"

step "a policy that does not load"
diag_run broken -c "$CASE_TMP/broken.yaml" --access-key-id AKIDDIAGTEST12600001 --action dynamodb:GetItem --resource "$ORDERS"
expect_exit 3
expect_line "^  FAIL  config +[0-9]+ ms  ${CASE_TMP//./\\.}/broken\.json: .*Statement" \
	"^        hint: fix the endpoint policy \(ddbgate policy lint -p ${CASE_TMP//./\\.}/broken\.json\)$" \
	'^  SKIP  policy +[0-9]+ ms  the policy did not load \(see config\)$' \
	'^result: FAIL, first failing layer: config \(exit 3\)$'
diag_json broken -c "$CASE_TMP/broken.yaml" --access-key-id AKIDDIAGTEST12600001 --action dynamodb:GetItem --resource "$ORDERS"
dq 'len(ev("pol126", "config")["errors"]) == 1 and ev("pol126", "config")["policy_statements"] is None' "the error in the evidence"
