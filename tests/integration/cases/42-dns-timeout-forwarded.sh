# needs: gateway
# timeout: 40
#
# The configured resolver is up but cannot get an answer in time.
# Client:   curl signed ListTables to https://dnstimeout.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: dns-timeout, hosts: [dnstimeout.ddbgate.test],
#             upstream: vpce-1234.slow.vpce.amazonaws.com:8443}]
#           resolver: {servers: ["127.0.0.1:5353"], timeout_ms: 500}
# Upstream: none: dnsmasq forwards *.slow.vpce.amazonaws.com to the blackhole
#           resolver and so never answers within ddbgate's timeout.
# Expect:   504 ddbgate#DnsTimeout, Proxy-Status error=dns_timeout, within 15 s.
t0=$(date +%s)
CURL_MAX_TIME=15 gw_request dnstimeout.ddbgate.test DynamoDB_20120810.ListTables '{}'
echo "answered after $(($(date +%s) - t0)) s"
expect_proxy_error 504 DnsTimeout dns_timeout
