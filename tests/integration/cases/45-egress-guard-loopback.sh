# needs: gateway
# timeout: 30
#
# The egress guard stops a connection before it is made.
# Client:   curl signed ListTables to https://guard.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: guard, hosts: [guard.ddbgate.test],
#             upstream: vpce-guard-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             allowed_cidrs: [127.0.0.99/32]}]
# Upstream: dnsmasq resolves it to 127.0.0.37, where recorder.py "guard" listens
#           with a certificate that would verify — outside allowed_cidrs.
# Expect:   502 ddbgate#DestinationIpProhibited, Proxy-Status
#           error=destination_ip_prohibited, the message names 127.0.0.37; the
#           recorder accepted NO connection.
m=$(rec_mark guard)
gw_request guard.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited '127\.0\.0\.37'
sleep 0.3
rec_expect_no_connection guard "$m"
