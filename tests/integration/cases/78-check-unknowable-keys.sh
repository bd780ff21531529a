# needs: ddbgate infra
# timeout: 30
#
# Bug (bypass review, finding 3): a policy testing a key the gateway can
# never supply (aws:PrincipalOrgID, aws:ResourceTag/..., aws:SourceVpce
# without source_vpce) was evaluated on an absent key, which IfExists and
# negated operators read as "passes". Such a policy is refused at load.
# Client:   `ddbgate check -c FILE`.
# Config:   one endpoint orders with policy org.json (StringEqualsIfExists
#           aws:PrincipalOrgID), tag.json (aws:ResourceTag/env), vpce.json
#           (aws:SourceVpce, no source_vpce); then vpce.json with
#           source_vpce: vpce-0abc1234def567890.
# Expect:   exit 1 naming the key for the first three; exit 0 for the last.
. "$IT_DIR/policy_lib.sh"

pol() { # FILE OPERATOR KEY VALUE
	cat >"$CASE_TMP/$1" <<JSON
{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": "*",
  "Action": "dynamodb:*", "Resource": "*",
  "Condition": { "$2": { "$3": "$4" } } } ] }
JSON
}
pol org.json StringEqualsIfExists aws:PrincipalOrgID o-abc123def4
pol tag.json StringEquals aws:ResourceTag/env prod
pol vpce.json StringEquals aws:SourceVpce vpce-0abc1234def567890
conf() { # POLICY [extra endpoint line]
	pgw_config_head 127.0.0.78
	echo "endpoints:"
	pgw_endpoint orders dynamodb.us-east-1.amazonaws.com good
	echo "    policy: $1"
	[ -n "${2:-}" ] && echo "    $2"
}
for c in "org.json:aws:PrincipalOrgID" "tag.json:aws:ResourceTag/" "vpce.json:aws:SourceVpce"; do
	f=${c%%:*} key=${c#*:}
	conf "$CASE_TMP/$f" >"$CASE_TMP/$f.yaml"
	out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/$f.yaml" 2>&1)
	rc=$?
	echo "$f: exit $rc: $out"
	[ "$rc" = 1 ] || fail "ddbgate check accepted $f (exit $rc)"
	printf '%s\n' "$out" | grep -qF -- "$key" || fail "the refusal of $f does not name $key: $out"
done
conf "$CASE_TMP/vpce.json" "source_vpce: vpce-0abc1234def567890" >"$CASE_TMP/ok.yaml"
out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/ok.yaml" 2>&1) ||
	fail "ddbgate check refused aws:SourceVpce with source_vpce set: $out"
echo "vpce.json with source_vpce: accepted"
