# needs: gateway
# timeout: 30
#
# Client:   curl signed ListTables to chain.ddbgate.test via 127.0.0.80.
# Config:   endpoints: [{name: chain, hosts: [chain.ddbgate.test],
#             upstream: vpce-chain-1234...:8443, ca_file: upstream-ca.pem (root only)}]
# Upstream: recorder.py "chain" (127.0.0.23) sending leaf + intermediate.
# Expect:   200 from the recorder: ddbgate builds the chain leaf -> intermediate
#           (sent by the server) -> root (ca_file).
H=chain.ddbgate.test
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_status 200
case "$(header x-amzn-RequestId)" in rec-chain-*) ;; *) show_response; fail "the answer is not the chain recorder's" ;; esac
