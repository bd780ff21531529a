# needs: gateway
# timeout: 40
#
# While a request is in flight, ddbgate keeps reading its client (turning
# reads off and on again cost two epoll_ctl calls per request): what the
# client sends meanwhile waits for its turn, the client's idle timeout does
# not run against a slow upstream, and a client that shuts its sending side
# (a half-close) still gets its answer before the connection is closed.
# Client:   rawclient.py, signed ListTables to slow.ddbgate.test (SNI and Host).
# Config:   case-local ddbgate on 127.0.1.68, workers: 1, endpoint slow68
#           (record.ddbgate.test's certificate name -> 127.0.3.68:8443),
#           limits.client_idle_timeout_s: 1.
# Upstream: case-local recorder.py "c68" (--delay-ms 1500: every answer 1.5 s
#           after its request).
# Expect:   (a) two requests on one connection, the second written 0.5 s after
#           the first (so while the first is in flight): both 200, in order,
#           from one upstream connection (x-amzn-RequestId rec-c68-N-1, then
#           rec-c68-N-2): 1.5 s in flight is longer than the 1 s idle timeout;
#           (b) one request, then the client shuts down its TCP sending side
#           (FIN, no close_notify): the 200 arrives whole, then ddbgate closes
#           the connection; access log: status=200, no error=;
#           Last: exit 0 after SIGTERM.
IP=127.0.1.68
H=record.ddbgate.test
rec_start c68 127.0.3.68 up-good.pem --delay-ms 1500
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head $IP
	echo "workers: 1"
	echo "limits:"
	echo "  client_idle_timeout_s: 1"
	echo "  upstream_timeout_s: 10"
	echo "endpoints:"
	lgw_endpoint slow68 $H "127.0.3.68:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

step "(a) a second request written while the first is in flight, past the idle timeout"
build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req1"
build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req2"
mark=$(log_mark "$LGW_OUT")
raw_send $H "$CASE_TMP/req1" 2 --in "$CASE_TMP/req2" --stagger 0.5 --timeout 10
[ "$RAW_RC" = 0 ] || fail "two staggered requests: not both answered (raw client exit $RAW_RC)"
raw_use 1
expect_status 200
r1=$(rid)
raw_use 2
expect_status 200
r2=$(rid)
echo "request ids: $r1, $r2"
c=${r1#rec-c68-}
c=${c%-1}
[ "$r1" = "rec-c68-$c-1" ] && [ "$r2" = "rec-c68-$c-2" ] ||
	fail "expected the first and second request of one upstream connection, in order; got '$r1' then '$r2'"
[ "$(lgw_alog_count "$mark" 'endpoint=slow68 ' 'status=200')" = 2 ] ||
	fail "expected two access-log lines with status=200"
grep -E 'client (timed out|closed)' "$LGW_ERR" && fail "ddbgate ended the client connection while its request was in flight"

step "(b) the client half-closes right after its request: the answer still comes"
mark=$(log_mark "$LGW_OUT")
raw_send $H "$CASE_TMP/req1" 1 --half-close --until-close --timeout 10
[ "$RAW_RC" = 0 ] || fail "no answer after the client's half-close (raw client exit $RAW_RC)"
raw_use 1
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the recorder's body was not relayed whole"
grep -q '"complete": true' "$CASE_TMP/raw.jsonl" || fail "the response is shorter than its Content-Length"
raw_end
/usr/bin/python3 "$IT_DIR/jsonq.py" "$CASE_TMP/raw.end" "d['end'] in ('close_notify', 'eof_without_close_notify') and d['seconds'] < 3" ||
	fail "ddbgate did not close the half-closed connection after answering"
lgw_alog_expect "$mark" 'endpoint=slow68 ' 'status=200'
log_since "$LGW_OUT" "$mark" | grep 'endpoint=slow68 ' | grep -q ' error=' &&
	fail "the half-closed client's request was logged with an error"
lgw_stop
