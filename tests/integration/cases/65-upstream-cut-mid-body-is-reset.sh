# needs: gateway
# timeout: 40
#
# Bug: when the upstream closed in the middle of a response body, ddbgate
# closed the client connection the same way it ends a complete one, so what
# the client got could pass for the end of the response.  Now the cut is
# passed on as a cut: a TCP reset, never a TLS close_notify.
# Client:   (a) curl, signed ListTables to truncated.ddbgate.test (twice);
#           (b) rawclient.py --until-close, the same request (twice);
#           (c) rawclient.py --until-close, a complete response for comparison:
#               ListTables to record.ddbgate.test with "Connection: close".
# Config:   endpoints truncated (hosts [truncated.ddbgate.test],
#           upstream vpce-truncated-1234...:8443 -> 127.0.0.24) and recorder.
# Upstream: recorder.py "truncated" (--truncate-body 100): a 200 head with
#           Content-Length: 1000, the first 100 body bytes, then a TCP close
#           without close_notify; (c) recorder.py "record".
# Expect:   curl fails with (18) partial file or (56) receive failure, never
#           success; the raw client never reads a whole response and its
#           connection ends with a reset or a FIN without close_notify, never
#           with close_notify, and not the way the complete response's
#           connection (c) ends (a client can tell the two apart); the access
#           log says error=http_response_incomplete (endpoint truncated); the
#           recorder did cut its response.
H=truncated.ddbgate.test
mark=$(alog_mark)
for i in 1 2; do
	step "(a) curl #$i"
	rc=0
	curl -sS --max-time 20 --resolve "$H:$GW_PORT:$GW_IP" --cacert "$PKI/gw-ca.pem" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary '{}' -o "$CASE_TMP/body" "https://$H:$GW_PORT/" 2>"$CASE_TMP/curl.err" || rc=$?
	echo "curl exit $rc: $(cat "$CASE_TMP/curl.err"); $(stat -c %s "$CASE_TMP/body" 2>/dev/null || echo 0) body bytes"
	case $rc in
	18 | 56) ;;
	0) fail "curl took a response cut after 100 of 1000 body bytes for a complete one" ;;
	*) fail "curl exit $rc, expected 18 (partial file) or 56 (receive failure): $(cat "$CASE_TMP/curl.err")" ;;
	esac
done

cut_ends=""
for i in 1 2; do
	step "(b) raw client #$i"
	build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
	raw_send $H "$CASE_TMP/req" 1 --until-close --timeout 8
	if grep -q '"complete": true' "$CASE_TMP/raw.jsonl"; then
		fail "the client read a whole response although the upstream sent 100 of 1000 body bytes"
	fi
	raw_end
	case "$("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"]')" in
	reset | eof_without_close_notify) ;;
	*) fail "the cut response did not end with a reset or a FIN without close_notify: $(cat "$CASE_TMP/raw.end")" ;;
	esac
	cut_ends="$cut_ends $("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"]')"
done

step "(c) a complete response, for comparison"
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' --header "Connection: close" >"$CASE_TMP/req"
raw_send record.ddbgate.test "$CASE_TMP/req" 1 --until-close --timeout 8
raw_use 1
expect_status 200
raw_end
whole_end=$("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"]')
for e in $cut_ends; do
	[ "$e" != "$whole_end" ] ||
		fail "a cut response ends like a complete one (both: $e): the client cannot tell them apart"
done
echo "cut responses end with:$cut_ends; a complete one with: $whole_end"

alog_expect "$mark" 'endpoint=truncated ' 'error=http_response_incomplete'
grep -q 'response cut after 100 of 1000 body bytes' "$REC/truncated/events.log" ||
	{ tail -n 8 "$REC/truncated/events.log"; fail "the truncated recorder did not cut a response (test bed problem)"; }
