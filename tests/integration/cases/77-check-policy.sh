# needs: ddbgate infra
# timeout: 30
#
# `ddbgate check` loads every endpoint's policy.
# Client:   `ddbgate check -c FILE`.
# Config:   bad.yaml and good.yaml (policy_lib.sh head, never started): one
#           endpoint orders (hosts [dynamodb.us-east-1.amazonaws.com],
#           upstream vpce-good-1234...:8443) with
#             bad.yaml:  policy: dup-key.json — Statement[1] repeats "Effect";
#             good.yaml: policy: good.json — 2 statements (Allow ReadOrders,
#                        Deny NoDeletes), enforcement: report.
# Expect:   bad.yaml -> exit 1; the message names dup-key.json, the JSON path
#           Statement[1] and says duplicate.  good.yaml -> exit 0; the summary
#           names good.json with its 2 statements (and enforcement report).
. "$IT_DIR/policy_lib.sh"

T="arn:aws:dynamodb:us-east-1:$POL_ACCOUNT:table"
cat >"$CASE_TMP/dup-key.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "ReadOrders", "Effect": "Allow", "Principal": "*",
      "Action": "dynamodb:GetItem", "Resource": "$T/Orders" },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "$T/Orders", "Effect": "Allow" }
  ]
}
JSON
cat >"$CASE_TMP/good.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "ReadOrders", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": ["$T/Orders", "$T/Orders/index/*"] },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "$T/Orders" }
  ]
}
JSON
conf() { # POLICY [extra endpoint lines]
	pgw_config_head 127.0.0.77
	echo "endpoints:"
	pgw_endpoint orders dynamodb.us-east-1.amazonaws.com good
	echo "    policy: $1"
	[ -n "${2:-}" ] && echo "    $2"
}
conf "$CASE_TMP/dup-key.json" >"$CASE_TMP/bad.yaml"
conf "$CASE_TMP/good.json" "enforcement: report" >"$CASE_TMP/good.yaml"

out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/bad.yaml" 2>&1)
rc=$?
echo "bad.yaml: exit $rc:"; printf '%s\n' "$out" | sed 's/^/    /'
[ "$rc" = 1 ] || fail "ddbgate check on a policy with a duplicate key exited $rc, expected 1"
for re in 'dup-key\.json' 'Statement\[1\]' '[Dd]uplicate'; do
	printf '%s\n' "$out" | grep -Eq -- "$re" || fail "ddbgate check on bad.yaml: no /$re/ in: $out"
done

out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/good.yaml" 2>&1)
rc=$?
echo "good.yaml: exit $rc:"; printf '%s\n' "$out" | sed 's/^/    /'
[ "$rc" = 0 ] || fail "ddbgate check on a good policy exited $rc, expected 0: $out"
line=$(printf '%s\n' "$out" | grep -F "$CASE_TMP/good.json")
[ -n "$line" ] || fail "the summary of ddbgate check does not name the policy good.json"
printf '%s\n' "$line" | grep -Eq '(^|[^0-9])2 statement' || fail "the summary line of the policy does not say 2 statements: $line"
printf '%s\n' "$out" | grep -Eq 'enforcement:? *report|report' || fail "the summary does not mention enforcement report"
