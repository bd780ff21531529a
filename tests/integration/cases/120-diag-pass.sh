# needs: infra ddbgate
# timeout: 60
#
# `ddbgate diag` on a healthy path: every layer passes with its evidence,
# exit 0; a certificate that expires within 30 days is a warning, still
# exit 0.
# Client:   ddbgate diag -c CFG --endpoint ddb120 --access-key-id
#           AKIDDIAGTEST12000001 --action dynamodb:GetItem --resource
#           <Orders ARN> (human, then --json); then the whole configuration.
# Config:   resolver: {servers: ["127.0.2.120:5353"], timeout_ms: 500}
#           principals: [{access_key_id: AKIDDIAGTEST12000001,
#             arn: arn:aws:iam::111122223333:user/reader}]
#           endpoints (ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8]):
#             ddb120:  hosts [dynamodb.us-east-1.amazonaws.com],
#                      upstream vpce-pass120-1234...:8443, policy: Allow
#                      (Sid ReadOnly) GetItem on table/Orders for the reader
#             soon120: hosts [record.ddbgate.test],
#                      upstream vpce-soon120-1234...:8443, no policy
# Upstream: case-local dnsmasq 127.0.2.120:5353, TTL 300:
#           vpce-pass120-1234... -> 127.0.3.120 (stunnel4 -> dynalite, a leaf
#           for dynamodb.us-east-1.amazonaws.com from the upstream CA, valid
#           90 days, made here); vpce-soon120-1234... -> 127.0.0.21 (the test
#           bed's stunnel -> dynalite, leaf up-good: valid 30 days from the
#           start of the run, so under 30 days now).
# Expect:   ddb120: exit 0; "PASS" lines for config, dns, tcp, tls, http and
#           policy; no hint line; "result: pass (exit 0)". JSON (validates
#           against docs/diag.schema.json): dns answer ok 127.0.3.120 ttl 300
#           from 127.0.2.120:5353, allowed; the asked-for name does not
#           resolve (private_dns null); tcp connected; tls TLSv1.2+, verify
#           ok, name_match, one certificate, days_to_expiry >= 80, SAN
#           dynamodb.us-east-1.amazonaws.com; http 400
#           MissingAuthenticationTokenException answered by the upstream
#           (dynalite); policy allow by statement ReadOnly (#0) for the
#           reader's ARN. Whole configuration: exit 0, "pass with
#           warnings": soon120's tls is WARN with "expires in N days"
#           (N < 30) and a hint to renew it; its http passes.
. "$IT_DIR/diag_lib.sh"
DNS120=127.0.2.120:5353
H=dynamodb.us-east-1.amazonaws.com
ORDERS=arn:aws:dynamodb:us-east-1:111122223333:table/Orders

dg_leaf pass120 90 "$H" "$H"
dg_front pass120 127.0.3.120 "$CASE_TMP/pass120.pem" "$CASE_TMP/pass120.key"
dnsmasq_start "$DNS120" "$CASE_TMP/dnsmasq" --local-ttl=300 \
	--host-record="vpce-pass120-1234.$VPCE_SUFFIX,127.0.3.120" \
	--host-record="vpce-soon120-1234.$VPCE_SUFFIX,127.0.0.21"
cat >"$CASE_TMP/policy.json" <<JSON
{ "Version": "2012-10-17",
  "Statement": [ { "Sid": "ReadOnly", "Effect": "Allow",
    "Principal": { "AWS": "arn:aws:iam::111122223333:user/reader" },
    "Action": "dynamodb:GetItem", "Resource": "$ORDERS" } ] }
JSON
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint ddb120 "$H" "vpce-pass120-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "    policy: $CASE_TMP/policy.json"
	dg_endpoint soon120 record.ddbgate.test "vpce-soon120-1234.$VPCE_SUFFIX:$UP_PORT"
	cat <<YAML
principals:
  - access_key_id: AKIDDIAGTEST12000001
    arn: arn:aws:iam::111122223333:user/reader
YAML
} | dg_conf "$cfg" "$DNS120"

POL=(--access-key-id AKIDDIAGTEST12000001 --action dynamodb:GetItem --resource "$ORDERS")

step "one endpoint, every layer, human output"
diag_run pass -c "$cfg" --endpoint ddb120 "${POL[@]}"
expect_exit 0
for l in config dns tcp tls http policy; do
	expect_line "^  PASS  $l +[0-9]+ ms  "
done
[ "$(count_lines '^  (PASS|WARN|FAIL|SKIP)  ')" = 6 ] || fail "expected exactly 6 step lines"
[ "$(count_lines 'hint:')" = 0 ] || fail "a passing run must show no hint"
expect_line '^endpoint ddb120: dynamodb\.us-east-1\.amazonaws\.com:443 \(dynamodb\)$' \
	"dns .*vpce-pass120-1234\.$VPCE_SUFFIX: 127\.0\.2\.120:5353 127\.0\.3\.120 \(ttl 300\)" \
	'tcp .*1/1 connected: 127\.0\.3\.120:8443' 'tls .*1/1 verified for dynamodb\.us-east-1\.amazonaws\.com' \
	'http .*1/1 answered 400 MissingAuthenticationTokenException: DynamoDB answered' \
	'policy .*allow dynamodb:GetItem on .*table/Orders for arn:aws:iam::111122223333:user/reader: statement ReadOnly \(#0\)' \
	'^result: pass \(exit 0\)$'

step "the same as JSON"
diag_json pass "${POL[@]}" -c "$cfg" --endpoint ddb120
expect_exit 0
dq 'd["status"] == "pass" and d["version"] == 1 and len(d["targets"]) == 1' "document head"
dq 'all(x["status"] == "pass" and x["hint"] is None for x in t("ddb120")["steps"])' "every step passes, no hint"
dq '[x["step"] for x in t("ddb120")["steps"]] == ["config", "dns", "tcp", "tls", "http", "policy"]' "steps in path order"
dq 'ev("ddb120", "config")["ca_certificates"] == 1 and ev("ddb120", "config")["policy_statements"] == 1' "config evidence"
dq 'ev("ddb120", "config")["resolvers"] == ["127.0.2.120:5353"] and ev("ddb120", "config")["resolver_source"] == "configuration"' "resolvers listed"
dq '[(a["resolver"], a["status"], [(x["address"], x["ttl"], x["allowed"]) for x in a["addresses"]]) for n in ev("ddb120", "dns")["names"] if n["routing"] for a in n["answers"]] == [("127.0.2.120:5353", "ok", [("127.0.3.120", 300, True)])]' \
	"dns: one answer, 127.0.3.120 with TTL 300, inside allowed_cidrs"
dq '[n["vpce"] for n in ev("ddb120", "dns")["names"] if n["routing"]] == [True]' "the routing name is an endpoint-specific vpce name"
dq 'any(n["asked"] and not n["routing"] for n in ev("ddb120", "dns")["names"]) and ev("ddb120", "dns")["private_dns"] is None' \
	"the asked-for name is asked for the record and does not resolve (no private DNS)"
dq '[(a["address"], a["result"]) for a in ev("ddb120", "tcp")["addresses"]] == [("127.0.3.120:8443", "connected")]' "tcp"
dq 'hs("ddb120")["result"] == "ok" and hs("ddb120")["verify"]["ok"] and hs("ddb120")["name_match"] and hs("ddb120")["sni"] == "'"$H"'"' \
	"tls verified, name matches, SNI"
dq 'hs("ddb120")["protocol"] in ("TLSv1.2", "TLSv1.3") and len(hs("ddb120")["chain"]) == 1' "protocol and chain"
dq 'hs("ddb120")["chain"][0]["days_to_expiry"] >= 80 and hs("ddb120")["chain"][0]["sans"] == ["'"$H"'"] and "ddbgate test upstream CA" in hs("ddb120")["chain"][0]["issuer"]' \
	"the leaf: 90-day validity, its SAN, its issuer"
dq 'resp("ddb120")["status"] == 400 and resp("ddb120")["error_type"].endswith("#MissingAuthenticationTokenException") and resp("ddb120")["answered_by"] == "upstream"' \
	"http: dynalite's missing-authentication answer"
dq 'ev("ddb120", "http")["request"]["x_amz_target"] == "DynamoDB_20120810.ListTables"' "the request names ListTables"
dq 'ev("ddb120", "policy")["decision"] == "allow" and ev("ddb120", "policy")["sid"] == "ReadOnly" and ev("ddb120", "policy")["statement"] == 0' "policy decision"
dq 'ev("ddb120", "policy")["principal"] == "arn:aws:iam::111122223333:user/reader"' "principal from principals"

step "the whole configuration: a certificate expiring within 30 days warns"
diag_run all -c "$cfg"
expect_exit 0
expect_line '^endpoint soon120: record\.ddbgate\.test:443 \(dynamodb\)$' \
	'^  WARN  tls +[0-9]+ ms  1/1 verified for record\.ddbgate\.test .*expires in [0-9]+ days' \
	'^        hint: a certificate presented by 127\.0\.0\.21:8443 .* expires in [0-9]+ days, on .*: make sure it is renewed' \
	'^result: pass with warnings \(exit 0\)$'
[ "$(count_lines '^  FAIL  ')" = 0 ] || fail "nothing may fail"
diag_json all -c "$cfg"
expect_exit 0
dq 'd["status"] == "warn" and t("soon120")["status"] == "warn" and t("ddb120")["status"] == "pass"' "verdicts"
dq 's("soon120", "tls")["status"] == "warn" and ev("soon120", "tls")["handshakes"][0]["result"] == "expiring"' "expiring"
dq '0 <= ev("soon120", "tls")["handshakes"][0]["chain"][0]["days_to_expiry"] < 30' "under 30 days"
dq 's("soon120", "http")["status"] == "pass"' "a warning does not stop the next layer"
