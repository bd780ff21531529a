# needs: gateway
# timeout: 30
#
# The egress guard: a routing name that resolves to a public address.
# Client:   curl signed ListTables to https://public.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: public, hosts: [public.ddbgate.test],
#             upstream: vpce-public-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             allowed_cidrs: [127.0.0.0/8]}]
# Upstream: dnsmasq resolves it to 198.51.100.7 (TEST-NET-2).  ddbgate must refuse
#           before connecting.  Runs only inside the run's private network
#           namespace (loopback only), so even a faulty guard sends nothing out.
# Expect:   502 ddbgate#DestinationIpProhibited, Proxy-Status
#           error=destination_ip_prohibited, the message names 198.51.100.7.
[ "$IN_NETNS" = 1 ] || skip "not in a private network namespace: would risk a packet to $PUBLIC_IP if the guard failed"
gw_request public.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited '198\.51\.100\.7'
