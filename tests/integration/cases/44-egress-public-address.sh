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
#           error=destination_ip_prohibited, the message names the name, the
#           address and the rule: "upstream vpce-public-1234... resolved to
#           198.51.100.7, which is outside allowed_cidrs [127.0.0.0/8] of
#           endpoint public"; ddbgate's stderr: "egress guard: vpce-public-1234...
#           resolved to 198.51.100.7, outside allowed_cidrs [127.0.0.0/8] of
#           endpoint public; not connecting (refusal N since start)".
[ "$IN_NETNS" = 1 ] || skip "not in a private network namespace: would risk a packet to $PUBLIC_IP if the guard failed"
err0=$(wc -l <"$GW_ERR")
gw_request public.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited '198\.51\.100\.7' \
	'upstream vpce-public-1234\.dynamodb\.us-east-1\.vpce\.amazonaws\.com resolved to 198\.51\.100\.7' \
	'outside allowed_cidrs \[127\.0\.0\.0/8\] of endpoint public'
re='egress guard: vpce-public-1234\.dynamodb\.us-east-1\.vpce\.amazonaws\.com resolved to 198\.51\.100\.7, outside allowed_cidrs \[127\.0\.0\.0/8\] of endpoint public; not connecting \(refusal [0-9]+ since start\)'
for _ in $(seq 1 30); do tail -n +"$((err0 + 1))" "$GW_ERR" | grep -Eq -- "$re" && break; sleep 0.1; done
tail -n +"$((err0 + 1))" "$GW_ERR" | grep -E -- "$re" || fail "ddbgate's stderr has no egress-guard line naming the name, the address and the rule"
