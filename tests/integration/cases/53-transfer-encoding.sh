# needs: gateway
# timeout: 30
#
# Client:   curl signed PutItem to record.ddbgate.test with
#           -H 'Transfer-Encoding: chunked' (curl then sends the body chunked,
#           with no Content-Length) and a unique X-Ddbgate-Test-Marker header.
# Config:   endpoint recorder.
# Upstream: recorder.py "record".
# Expect:   411 ddbgate#LengthRequired with a Proxy-Status header; the upstream
#           never receives the marker.
mk="marker-te-$(unique)"
gw_request record.ddbgate.test DynamoDB_20120810.PutItem '{"TableName":"recorded","Item":{"pk":{"S":"te"}}}' \
	-H "Transfer-Encoding: chunked" -H "X-Ddbgate-Test-Marker: $mk"
expect_proxy_error 411 LengthRequired -
sleep 0.2
rec_expect_marker_absent "$mk"
