# needs: gateway
# timeout: 30
#
# Client:   curl signed ListTables to record.ddbgate.test with an extra header
#           X-Pad of 20000 bytes and a unique X-Ddbgate-Test-Marker header.
# Config:   limits: {max_header_bytes: 16384}; endpoint recorder.
# Upstream: recorder.py "record".
# Expect:   431 with a ddbgate# __type and a Proxy-Status header; the upstream never
#           receives the marker.
mk="marker-hdr-$(unique)"
pad=$(head -c 20000 /dev/zero | tr '\0' a)
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' -H "X-Ddbgate-Test-Marker: $mk" -H "X-Pad: $pad"
expect_proxy_error 431 '*' -
sleep 0.2
rec_expect_marker_absent "$mk"
