# needs: gateway
# timeout: 30
#
# Bug: ddbgate ended a client connection with a bare TCP close, no TLS
# close_notify, so a client could not tell a complete response from one cut
# off by an attacker (or by a failure) on the way.
# Client:   rawclient.py --until-close (Python ssl, suppress_ragged_eofs=False: a
#           FIN without close_notify raises instead of reading as the end),
#           SNI record.ddbgate.test:
#           (a) signed ListTables, Host record.ddbgate.test, "Connection: close";
#           (b) the same with Host other.ddbgate.test: ddbgate's own 421, after
#               which it closes the connection itself.
# Config:   endpoints recorder (record.ddbgate.test) and other (other.ddbgate.test).
# Upstream: recorder.py "record".
# Expect:   (a) the recorder's 200, whole (Content-Length bytes), then a clean
#           TLS close: close_notify, no byte after the response;
#           (b) 421 ddbgate#MisdirectedRequest, whole, then close_notify too.
H=record.ddbgate.test

step "(a) Connection: close, 200 from the upstream"
build_request $H DynamoDB_20120810.ListTables '{}' --header "Connection: close" >"$CASE_TMP/req"
raw_send $H "$CASE_TMP/req" 1 --until-close --timeout 8
raw_use 1
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the recorder's body was not relayed whole"
case "$(header x-amzn-RequestId)" in rec-record-*) ;; *) show_response; fail "the 200 is not the recorder's" ;; esac
grep -q '"complete": true' "$CASE_TMP/raw.jsonl" || fail "the response is shorter than its Content-Length"
raw_end
"$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"] == "close_notify"' >/dev/null ||
	fail "after the response the connection did not end with a TLS close_notify: $(cat "$CASE_TMP/raw.end")"
"$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["extra_bytes"] == 0' >/dev/null ||
	fail "bytes after the response: $(cat "$CASE_TMP/raw.end")"

step "(b) ddbgate's own error, then its close"
build_request other.ddbgate.test DynamoDB_20120810.ListTables '{}' --header "Connection: close" >"$CASE_TMP/req"
raw_send $H "$CASE_TMP/req" 1 --until-close --timeout 8
raw_use 1
expect_proxy_error 421 MisdirectedRequest -
grep -q '"complete": true' "$CASE_TMP/raw.jsonl" || fail "the error response is shorter than its Content-Length"
raw_end
"$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"] == "close_notify"' >/dev/null ||
	fail "after the error response the connection did not end with a TLS close_notify: $(cat "$CASE_TMP/raw.end")"
