# needs: gateway
# timeout: 40
#
# A client's "Connection: close" ends the client's connection, not the pooled
# upstream one (RFC 9110 7.6.1: Connection is hop-by-hop). Before, ddbgate
# forwarded the field and the upstream closed after every such request: a
# client opening one connection per request cost an upstream TCP+TLS
# handshake each time.
# Client:   rawclient.py, one TLS connection per request, --until-close.
# Config:   case-local ddbgate on 127.0.1.28, workers: 1 (one upstream pool),
#           endpoint rec28 (record.ddbgate.test -> 127.0.0.22:8443).
# Upstream: recorder.py "record" (answers keep-alive unless asked to close).
# Expect:   (a) a request with an unsigned "Connection: close": the client's
#           200 with "Connection: close" added (RFC 9112 9.6: the upstream,
#           which kept its connection, did not say it), then close_notify; the recorder received the request minus that
#           one line, byte for byte; (b) the same again on a new client
#           connection: the recorder received it on the SAME upstream
#           connection as (a) (x-amzn-RequestId rec-record-<conn>-2); access
#           log reused=1; (c) "Connection: close" covered by the SigV4
#           signature: forwarded unchanged (dropping it would break the
#           signature); (d) "Connection: close, x-other" (more than the
#           plain case): forwarded unchanged. Last: exit 0 after SIGTERM.
IP=127.0.1.28
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head $IP
	echo "workers: 1"
	echo "endpoints:"
	lgw_endpoint rec28 $H "127.0.0.22:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

# one REQ — send REQ alone on a new client connection, read the answer and
# the connection's end; the response is then the "last response".
one() {
	raw_send $H "$1" 1 --until-close --timeout 8
	raw_use 1
	expect_status 200
	expect_from record
	[ "$(header Connection)" = close ] ||
		{ show_response; fail "the response to a Connection: close request does not say Connection: close"; }
	raw_end
	"$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" 'd["end"] == "close_notify"' >/dev/null ||
		fail "the client's connection did not end with close_notify after Connection: close"
}

step "(a) unsigned Connection: close is not forwarded"
u=$(unique)
build_request $H DynamoDB_20120810.ListTables "{\"ExclusiveStartTableName\":\"hop-$u-a\"}" \
	--unsigned-header "Connection: close" >"$CASE_TMP/req-a"
sed '/^Connection: close\r$/d' "$CASE_TMP/req-a" >"$CASE_TMP/want-a"
[ "$(($(stat -c %s "$CASE_TMP/req-a") - $(stat -c %s "$CASE_TMP/want-a")))" = 19 ] ||
	fail "test setup: expected to remove one 19-byte field line"
mark=$(log_mark "$LGW_OUT")
one "$CASE_TMP/req-a"
rid_a=$(rid)
rec_expect_bytes record "$CASE_TMP/want-a"
conn_a=$REC_CONN
if grep -a -q -i '^connection:' "$REC/record/$(printf 'conn-%04d.in' "$conn_a")" 2>/dev/null; then
	fail "a Connection field reached the upstream"
fi

step "(b) the next client connection's request reuses the upstream connection"
build_request $H DynamoDB_20120810.ListTables "{\"ExclusiveStartTableName\":\"hop-$u-b\"}" \
	--unsigned-header "Connection: close" >"$CASE_TMP/req-b"
sed '/^Connection: close\r$/d' "$CASE_TMP/req-b" >"$CASE_TMP/want-b"
one "$CASE_TMP/req-b"
rid_b=$(rid)
echo "request ids: $rid_a then $rid_b"
rec_expect_bytes record "$CASE_TMP/want-b"
[ "$REC_CONN" = "$conn_a" ] ||
	fail "the second request went over upstream connection $REC_CONN, not $conn_a: the upstream connection was not kept"
case "$rid_b" in "${rid_a%-*}-2") ;; *) fail "expected the second request on ${rid_a%-*} (…-2), got $rid_b" ;; esac
for _ in $(seq 1 30); do [ "$(log_since "$LGW_OUT" "$mark" | grep -c 'status=200')" -ge 2 ] && break; sleep 0.1; done
log_since "$LGW_OUT" "$mark" | grep 'status=200' | sed -n 2p | grep -q ' reused=1' ||
	fail "the access log does not say reused=1 for the second request: $(log_since "$LGW_OUT" "$mark")"

step "(c) a signed Connection: close goes as it is"
build_request $H DynamoDB_20120810.ListTables "{\"ExclusiveStartTableName\":\"hop-$u-c\"}" \
	--header "Connection: close" >"$CASE_TMP/req-c"
grep -q 'SignedHeaders=connection;' "$CASE_TMP/req-c" || fail "test setup: Connection is not signed"
one "$CASE_TMP/req-c"
rec_expect_bytes record "$CASE_TMP/req-c"

step "(d) Connection with more than close goes as it is"
build_request $H DynamoDB_20120810.ListTables "{\"ExclusiveStartTableName\":\"hop-$u-d\"}" \
	--unsigned-header "Connection: close, x-other" >"$CASE_TMP/req-d"
one "$CASE_TMP/req-d"
rec_expect_bytes record "$CASE_TMP/req-d"

lgw_stop
