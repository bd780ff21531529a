# needs: gateway
# timeout: 40
#
# Client:   rawclient.py, each on its own TLS connection (SNI record.ddbgate.test):
#           (a) a header line without a colon;
#           (b) a request line that is not HTTP ("GARBAGE");
#           (c) two Content-Length headers with different values.
#           Every request carries a unique marker.
# Config:   endpoint recorder.
# Upstream: recorder.py "record".
# Expect:   400 ddbgate#BadRequest with a Proxy-Status header for each; no upstream
#           ever receives a marker.
H=record.ddbgate.test
send_bad() { # LABEL BYTES(printf format)
	local mk
	mk="marker-bad-$1-$(unique)"
	# shellcheck disable=SC2059
	printf "$2" "$mk" >"$CASE_TMP/bad-$1"
	step "($1) $(head -c 120 "$CASE_TMP/bad-$1" | cat -A | tr '\n' ' ')"
	raw_send $H "$CASE_TMP/bad-$1" 1 --timeout 8
	raw_use 1
	expect_proxy_error 400 BadRequest -
	sleep 0.2
	rec_expect_marker_absent "$mk"
}
send_bad nocolon 'POST / HTTP/1.1\r\nHost: record.ddbgate.test\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nThis line has no colon %s\r\nContent-Length: 2\r\n\r\n{}'
send_bad garbage 'GARBAGE %s\r\nHost: record.ddbgate.test\r\n\r\n'
send_bad twocl 'POST / HTTP/1.1\r\nHost: record.ddbgate.test\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Ddbgate-Test-Marker: %s\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x'
