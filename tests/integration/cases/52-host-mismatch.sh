# needs: gateway
# timeout: 30
#
# A Host header that differs from the SNI (domain fronting) is refused.
# Client:   curl signed ListTables with SNI record.ddbgate.test and
#           (a) Host: other.ddbgate.test — a name of ANOTHER endpoint;
#           (b) Host: nowhere.ddbgate.test — a name of no endpoint.
#           Each request carries a unique X-Ddbgate-Test-Marker header.
# Config:   endpoints recorder (record.ddbgate.test) and other (other.ddbgate.test),
#           both upstream vpce-record-1234... (recorder.py "record").
# Expect:   421 ddbgate#MisdirectedRequest with a Proxy-Status header, twice;
#           no upstream ever receives either marker.
for h in other.ddbgate.test nowhere.ddbgate.test; do
	mk="marker-host-$(unique)"
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' -H "Host: $h" -H "X-Ddbgate-Test-Marker: $mk"
	expect_proxy_error 421 MisdirectedRequest -
	sleep 0.2
	rec_expect_marker_absent "$mk"
done
