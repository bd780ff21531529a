# needs: infra ddbgate
# timeout: 90
#
# diag --via: the checks a client makes through a running gateway
# (CONNECT, then TLS verified against the LOCAL trust bundle, then the
# unsigned request in the tunnel). A gateway CA the local bundle does
# not trust, a refused CONNECT (403), missing proxy credentials (407), a
# gateway that is not there and a listener that turns this host away
# each fail the via layer (exit 9) with their own hint; the direct layers
# are skipped unless --direct.
# Client:   ddbgate diag [-c CLIENT] --via URL [--ca-bundle FILE]
#           [--endpoint NAME | HOST] (human and --json); without -c the
#           built-in defaults (dynamodb, streams, dax of us-east-1).
# Config:   the case's gateway (ddbgate run), CA from `ddbgate ca init`:
#             listeners: 127.0.1.127:3128 connect;
#                        127.0.1.127:3129 connect, proxy_auth_users (user
#                          "diag", password "pw!127");
#                        127.0.1.127:3130 connect, allow_clients [10.0.0.0/8]
#             endpoints: ddb127: hosts [dynamodb.us-east-1.amazonaws.com],
#                          upstream 127.0.0.21:8443 (intercepted);
#                        tun127: hosts [record.ddbgate.test], upstream
#                          127.0.0.21:8443, intercept: false (opaque tunnel)
#           CLIENT: endpoint dynamodb, hosts [dynamodb.us-east-1.amazonaws.com],
#           upstream 127.0.0.21:8443, ca_file upstream-ca.pem.
# Upstream: 127.0.0.21: stunnel -> dynalite.
# Expect:   --ca-bundle = the gateway's CA, --endpoint dynamodb: exit 0;
#             config PASS, dns/tcp/tls/http SKIP "not run: --via checks the
#             path through the gateway", via PASS "CONNECT
#             dynamodb.us-east-1.amazonaws.com:443: 200; TLS verified against
#             <ca.pem>; answered 400 MissingAuthenticationTokenException (by
#             the gateway: it refuses unsigned requests itself)"; JSON:
#             connect.status 200, gateway_ca_trusted true, the minted leaf
#             issued by the gateway CA, http.answered_by "gateway".
#           No --ca-bundle (AWS_CA_BUNDLE = the test bed's other gateway CA):
#             exit 9, "self-signed certificate in certificate chain" (the
#             gateway sends its CA after the leaf), hint "the local trust bundle <gw-ca.pem> does not trust
#             the gateway's CA (...)"; gateway_ca_trusted false.
#           --endpoint streams (not served): exit 9, "CONNECT
#             streams.dynamodb.us-east-1.amazonaws.com:443: HTTP/1.1 403",
#             hint "the gateway refuses CONNECT ... the name is not in any
#             endpoint's hosts".
#           :3129 without credentials: exit 9, hint "wants proxy
#             credentials"; http://diag:pw%21127@...:3129: exit 0, and the
#             password appears nowhere in the output.
#           :3199 (nothing listens): exit 9, "cannot connect to the gateway
#             at 127.0.1.127:3199: refused"; :3130: exit 9, hint names
#             allow_clients.
#           record.ddbgate.test (opaque tunnel) with --ca-bundle
#             upstream-ca.pem: exit 0, answered by the upstream (dynalite).
#           -c CLIENT --direct: the direct layers run too (tcp, tls, http).
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
IP=127.0.1.127
GCFG="$CASE_TMP/gateway.yaml"
GWCA="$CASE_TMP/ca/ca.pem"
H=dynamodb.us-east-1.amazonaws.com
printf 'pw!127' | "$DDBGATE" passwd diag >"$CASE_TMP/users" 2>"$CASE_TMP/passwd.err" ||
	fail "ddbgate passwd failed: $(cat "$CASE_TMP/passwd.err")"
cat >"$GCFG" <<YAML
region: us-east-1
listeners:
  - address: $IP:3128
    mode: connect
  - address: $IP:3129
    mode: connect
    proxy_auth_users: $CASE_TMP/users
  - address: $IP:3130
    mode: connect
    allow_clients: [10.0.0.0/8]
tls:
  ca_cert: $CASE_TMP/ca/ca.pem
  ca_key: $CASE_TMP/ca/ca.key
resolver:
  servers: ["$DNS"]
  timeout_ms: 500
access_log:
  path: "-"
metrics:
  address: "off"
endpoints:
  - name: ddb127
    service: dynamodb
    hosts: [$H]
    upstream: 127.0.0.21:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
  - name: tun127
    service: dynamodb
    hosts: [record.ddbgate.test]
    upstream: 127.0.0.21:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
    intercept: false
YAML
dg_gateway "$GCFG" "$IP:3128"
dg_endpoint dynamodb "$H" "127.0.0.21:$UP_PORT" | dg_conf "$CASE_TMP/client.yaml" "$DNS"
VIA="http://$IP:3128"

step "through the gateway, its CA trusted"
diag_run pass --via "$VIA" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 0
expect_line '^ddbgate diag: \(built-in defaults\), timeout 2000 ms, via http://127\.0\.1\.127:3128$' \
	'^  PASS  config ' '^  SKIP  dns +[0-9]+ ms  not run: --via checks the path through the gateway' '^  SKIP  http ' \
	"^  PASS  via +[0-9]+ ms  CONNECT $H:443: 200; TLS verified against ${GWCA//./\\.}; answered 400 MissingAuthenticationTokenException \(by the gateway: it refuses unsigned requests itself\)$"
diag_json pass --via "$VIA" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 0
dq 'd["via"] == "http://127.0.1.127:3128" and s("dynamodb", "via")["status"] == "pass"' "via passes"
dq 'ev("dynamodb", "via")["connect"]["status"] == 200 and ev("dynamodb", "via")["gateway_ca_trusted"] is True' "CONNECT 200, CA trusted"
dq 'ev("dynamodb", "via")["tls"]["chain"][0]["sans"] == ["'"$H"'"] and ev("dynamodb", "via")["tls"]["name_match"]' "a leaf minted for the name"
dq 'ev("dynamodb", "via")["http"]["answered_by"] == "gateway" and ev("dynamodb", "via")["http"]["error_type"].endswith("MissingAuthenticationTokenException")' \
	"the gateway refused the unsigned request itself"
dq 'ev("dynamodb", "via")["proxy_address"] == "127.0.1.127:3128" and ev("dynamodb", "via")["target"] == "'"$H"':443"' "proxy and target"

step "the local bundle does not trust the gateway's CA"
diag_run untrusted --via "$VIA" --endpoint dynamodb
expect_exit 9
expect_line "^  FAIL  via +[0-9]+ ms  CONNECT $H:443: 200; TLS through the tunnel: (self-signed certificate in certificate chain|unable to get local issuer certificate)$" \
	"^        hint: the local trust bundle ${AWS_CA_BUNDLE//./\\.} does not trust the gateway's CA \(CN=.*\): clients on this host will refuse it too; trust it" \
	'^result: FAIL, first failing layer: via \(exit 9\)$'
diag_json untrusted --via "$VIA" --endpoint dynamodb
dq 'ev("dynamodb", "via")["gateway_ca_trusted"] is False and ev("dynamodb", "via")["ca_bundle"] == "'"$AWS_CA_BUNDLE"'"' "not trusted; AWS_CA_BUNDLE used"

step "a name the gateway does not serve"
diag_run forbidden --via "$VIA" --ca-bundle "$GWCA" --endpoint streams
expect_exit 9
expect_line '^  FAIL  via +[0-9]+ ms  CONNECT streams\.dynamodb\.us-east-1\.amazonaws\.com:443: HTTP/1\.1 403 ' \
	"^        hint: the gateway refuses CONNECT streams\.dynamodb\.us-east-1\.amazonaws\.com:443 \(403.*\): the name is not in any endpoint's hosts"
diag_json forbidden --via "$VIA" --ca-bundle "$GWCA" --endpoint streams
dq 'ev("streams", "via")["connect"]["status"] == 403 and ev("streams", "via")["connect"]["result"] == "refused" and ev("streams", "via")["tls"] is None' "403, no TLS"

step "proxy credentials"
diag_run noauth --via "http://$IP:3129" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 9
expect_line "^        hint: the gateway wants proxy credentials for CONNECT $H:443 \(407\): give them in the proxy URL"
diag_run auth --via "http://diag:pw%21127@$IP:3129" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 0
expect_line '^ddbgate diag: .*, via http://127\.0\.1\.127:3129$' '^  PASS  via '
grep -q 'pw' "$DIAG_OUT" && fail "the proxy password appears in the output"
diag_json auth --via "http://diag:pw%21127@$IP:3129" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 0
grep -q 'pw' "$DIAG_JSON" && fail "the proxy password appears in the JSON"

step "no gateway there; a listener that turns this host away"
diag_run down --via "http://$IP:3199" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 9
expect_line '^  FAIL  via +[0-9]+ ms  cannot connect to the gateway at 127\.0\.1\.127:3199: refused$' \
	'^        hint: no answer to CONNECT from the gateway at http://127\.0\.1\.127:3199 \(TCP connect to 127\.0\.1\.127:3199: Connection refused\): is ddbgate running with a connect listener there'
diag_run turned-away --via "http://$IP:3130" --ca-bundle "$GWCA" --endpoint dynamodb
expect_exit 9
expect_line "^        hint: no answer to CONNECT from the gateway at http://127\.0\.1\.127:3130 \(.*\): .*allow_clients\?$"
diag_json down --via "http://$IP:3199" --ca-bundle "$GWCA" --endpoint dynamodb
dq 'ev("dynamodb", "via")["connect"]["result"] == "tcp_failed"' "tcp_failed"

step "an opaque tunnel: the upstream's own certificate and answer"
diag_run tunnel --via "$VIA" --ca-bundle "$PKI/upstream-ca.pem" record.ddbgate.test
expect_exit 0
expect_line '^target record\.ddbgate\.test:443 \(dynamodb\)$' \
	'^  (PASS|WARN)  via +[0-9]+ ms  CONNECT record\.ddbgate\.test:443: 200; TLS verified .*; answered 400 MissingAuthenticationTokenException \(by the upstream\)$'
diag_json tunnel --via "$VIA" --ca-bundle "$PKI/upstream-ca.pem" record.ddbgate.test
dq 'd["targets"][0]["steps"][-1]["evidence"]["http"]["answered_by"] == "upstream"' "dynalite answered through the tunnel"

step "--direct as well"
diag_run direct -c "$CASE_TMP/client.yaml" --via "$VIA" --ca-bundle "$GWCA" --direct
expect_exit 0
expect_line '^  PASS  tcp ' '^  (PASS|WARN)  tls ' '^  PASS  http ' '^  PASS  via '
diag_json direct -c "$CASE_TMP/client.yaml" --via "$VIA" --ca-bundle "$GWCA" --direct
dq '[x["step"] for x in t("dynamodb")["steps"]] == ["config", "dns", "tcp", "tls", "http", "via"]' "every layer, via last"

step "usage"
diag_run badurl --via "https://$IP:3128"
expect_exit 2
diag_run direct-alone --direct
expect_exit 2
