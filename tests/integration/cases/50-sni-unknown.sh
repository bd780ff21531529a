# needs: gateway
# timeout: 30
#
# Client:   curl -k (the gateway has no certificate for the name) signed
#           ListTables to https://unknown.example/ via 127.0.0.80: SNI and Host
#           unknown.example, a name no endpoint lists.
# Config:   no endpoint has hosts: [unknown.example].
# Upstream: none.
# Expect:   421 ddbgate#MisdirectedRequest with a Proxy-Status header.
gw_request unknown.example DynamoDB_20120810.ListTables '{}' -k
expect_proxy_error 421 MisdirectedRequest -
