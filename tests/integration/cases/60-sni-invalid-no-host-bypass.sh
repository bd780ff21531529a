# needs: gateway
# timeout: 30
#
# Bug: a TLS server name that is not a host name (an underscore, "[x") left
# the session without a name, and the Host header alone then chose the
# endpoint: a client could get past SNI routing by sending a bad SNI.
# Client:   rawclient.py, one TLS connection each (certificate not checked:
#           the names are not in it), a signed ListTables with
#           Host: record.ddbgate.test (an endpoint's name) and a unique
#           X-Ddbgate-Test-Marker header, SNI (a) "bad_name.test",
#           (b) "[x"; then (c) the same request with SNI record.ddbgate.test.
# Config:   endpoint recorder (hosts [record.ddbgate.test],
#           upstream vpce-record-1234...:8443).
# Upstream: recorder.py "record".
# Expect:   (a), (b): 421 ddbgate#MisdirectedRequest with a Proxy-Status header;
#           access-log line status=421 endpoint=-; the recorder accepts no
#           connection and never receives the marker.  (c): 200 from the
#           recorder (the SNI, not the request, made the difference).
H=record.ddbgate.test
for sni in bad_name.test '[x'; do
	step "SNI '$sni', Host $H"
	mk="marker-badsni-$(unique)"
	build_request $H DynamoDB_20120810.ListTables '{}' --header "X-Ddbgate-Test-Marker: $mk" >"$CASE_TMP/req"
	rmark=$(rec_mark record)
	amark=$(alog_mark)
	raw_send "$sni" "$CASE_TMP/req" 1 --insecure --timeout 8
	raw_use 1
	expect_proxy_error 421 MisdirectedRequest -
	alog_expect "$amark" 'status=421' 'endpoint=- ' 'error=http_request_denied'
	sleep 0.2
	rec_expect_no_connection record "$rmark"
	rec_expect_marker_absent "$mk"
done

step "SNI $H, Host $H (control)"
build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
raw_send $H "$CASE_TMP/req" 1 --timeout 8
raw_use 1
expect_status 200
case "$(header x-amzn-RequestId)" in rec-record-*) ;; *) show_response; fail "the 200 is not the recorder's" ;; esac
