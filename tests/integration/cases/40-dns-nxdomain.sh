# needs: gateway
# timeout: 30
#
# Client:   curl signed ListTables to https://nxdomain.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: dns-nxdomain, hosts: [nxdomain.ddbgate.test],
#             upstream: vpce-missing-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#           resolver: {servers: ["127.0.0.1:5353"], timeout_ms: 500}
# Upstream: none: dnsmasq answers NXDOMAIN for vpce-missing-1234... (local=/vpce.amazonaws.com/).
# Expect:   502 ddbgate#DnsError, Proxy-Status error=dns_error, the message names
#           the name that did not resolve; an access-log line with 502.
mark=$(alog_mark)
gw_request nxdomain.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 DnsError dns_error 'vpce-missing-1234'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
