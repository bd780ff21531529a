# needs: gateway
# timeout: 40
#
# A resolver that never answers.
# Client:   curl signed ListTables to https://dnstimeout.ddbgate.test/ via 127.0.0.81.
# Config:   a second, case-local ddbgate:
#             listeners: [{address: 127.0.0.81:443, mode: sni}]
#             resolver: {servers: ["127.0.0.1:5354"], timeout_ms: 200}
#             endpoints: [{name: dns-timeout, hosts: [dnstimeout.ddbgate.test],
#               upstream: vpce-good-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
# Upstream: none: 127.0.0.1:5354 is dnstool.py blackhole, which reads every query
#           and never answers (a port with nothing bound would answer with ICMP
#           port-unreachable, which is a refusal, not a timeout).
# Expect:   504 ddbgate#DnsTimeout, Proxy-Status error=dns_timeout, within 15 s;
#           the blackhole logged ddbgate's queries.
cfg="$CASE_TMP/ddbgate-dnstimeout.yaml"
cat >"$cfg" <<YAML
region: us-east-1
listeners:
  - address: 127.0.0.81:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $PKI/gw-leaf.pem
      key: $PKI/gw-leaf.key
resolver:
  servers: ["$DNS_BLACKHOLE"]
  timeout_ms: 200
endpoints:
  - name: dns-timeout
    service: dynamodb
    hosts: [dnstimeout.ddbgate.test]
    upstream: vpce-good-1234.dynamodb.us-east-1.vpce.amazonaws.com:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
access_log:
  path: "-"
metrics:
  address: "off"
limits:
  upstream_timeout_s: 5
YAML
start_ddbgate "$cfg" "$CASE_TMP/ddbgate2" 127.0.0.81 "$GW_PORT"
q0=$(wc -l <"$T/logs/dns-blackhole.log")
GW_IP=127.0.0.81
t0=$(date +%s)
CURL_MAX_TIME=15 gw_request dnstimeout.ddbgate.test DynamoDB_20120810.ListTables '{}'
echo "answered after $(($(date +%s) - t0)) s"
expect_proxy_error 504 DnsTimeout dns_timeout
q1=$(wc -l <"$T/logs/dns-blackhole.log")
[ "$q1" -gt "$q0" ] || fail "the blackhole resolver saw no query from ddbgate"
echo "blackhole saw $((q1 - q0)) queries"
echo "case-local ddbgate stderr:"; tail -n 20 "$CASE_TMP/ddbgate2.err"
