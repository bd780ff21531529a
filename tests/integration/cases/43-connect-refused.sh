# needs: gateway
# timeout: 30
#
# Client:   curl signed ListTables to https://refused.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: refused, hosts: [refused.ddbgate.test],
#             upstream: vpce-closed-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
# Upstream: dnsmasq resolves it to 127.0.0.40, where nothing listens on 8443.
# Expect:   502 ddbgate#ConnectionRefused, Proxy-Status error=connection_refused,
#           the message names 127.0.0.40; an access-log line with 502.
port_in_use() { timeout 1 bash -c "exec 3<>/dev/tcp/$CLOSED_IP/$UP_PORT" 2>/dev/null; }
! port_in_use || skip "something listens on $CLOSED_IP:$UP_PORT"
mark=$(alog_mark)
gw_request refused.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 ConnectionRefused connection_refused '127\.0\.0\.40'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
