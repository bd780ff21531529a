# needs: gateway
# timeout: 30
#
# Bug: the lingering close after a refused request (ddbgate reads and drops
# what the client still sends, so the client can read the error, RFC 9112
# section 9.6) ended only after 2 s *without input*: a client sending one
# byte now and then held the connection, and its session, open forever.
# Client:   rawclient.py --trickle 0.5, SNI record.ddbgate.test: a request head
#           (PutItem, unique X-Ddbgate-Test-Marker) with Content-Length: 100000
#           and no body; it reads the answer, then sends one body byte every
#           0.5 s, without reading, until a write fails (at most 10 s).
# Config:   limits: {max_body_bytes: 65536}; endpoint recorder.
# Upstream: recorder.py "record" (never reached).
# Expect:   413 with a ddbgate# __type and a Proxy-Status header, read whole;
#           then ddbgate closes the connection within 5 s of that answer (its
#           lingering close lasts at most 2 s; a write notices the close within
#           two more bytes), although bytes keep coming; the marker never
#           reaches an upstream.  (That a client sending the whole body at once
#           still reads the 413 is body-too-large's job.)
H=record.ddbgate.test
mk="marker-linger-$(unique)"
printf 'POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\nX-Ddbgate-Test-Marker: %s\r\nContent-Length: 100000\r\n\r\n' \
	"$H" "$mk" >"$CASE_TMP/head"
raw_send $H "$CASE_TMP/head" 1 --trickle 0.5 --timeout 10
raw_use 1
expect_proxy_error 413 '*' -
raw_end
case "$("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"]')" in
closed:*) ;;
*) fail "ddbgate kept the connection open for 10 s while the client trickled bytes: $(cat "$CASE_TMP/raw.end")" ;;
esac
"$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["seconds"] < 5' >/dev/null ||
	fail "ddbgate closed the lingering connection only after more than 5 s: $(cat "$CASE_TMP/raw.end")"
echo "closed $("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["seconds"]') s after the 413, $("$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["trickled"]') byte(s) trickled"
rec_expect_marker_absent "$mk"
