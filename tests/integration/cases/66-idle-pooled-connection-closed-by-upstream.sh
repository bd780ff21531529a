# needs: gateway
# timeout: 45
#
# Bug: an upstream connection waiting in the pool could be taken for a new
# request after the server had closed it (close_notify or FIN not yet
# noticed): the request went into a dead connection and failed.  Now a pooled
# connection is checked before reuse, and one the server closed is dropped.
# Client:   rawclient.py, one TLS connection per part, two signed ListTables
#           0.5 s apart (the second sent after the first answer was read):
#           (a) control: to record.ddbgate.test (a keep-alive upstream);
#           (b) to idleclose.ddbgate.test.
# Config:   endpoints recorder (record.ddbgate.test -> 127.0.0.22) and idle-close
#           (hosts [idleclose.ddbgate.test], upstream vpce-idleclose-1234...:8443
#           -> 127.0.0.25).
# Upstream: (a) recorder.py "record"; (b) recorder.py "idleclose"
#           (--close-after-ms 100): keep-alive, but a connection idle for 100 ms
#           after a response is closed (close_notify, then TCP close).
# Expect:   (a) both 200, the second on the pooled upstream connection (access
#           log reused=1: the pool does serve this client connection after 0.5 s);
#           (b) both 200 from the recorder, on two different upstream
#           connections (x-amzn-RequestId rec-idleclose-<conn>-1); the recorder
#           closed the first one before the second request; the access log's
#           second line for endpoint idle-close says status=200 reused=0;
#           (c) a server that closes right after each response without saying
#           Connection: close (case-local recorder "c66", --close-after-response,
#           behind a case-local ddbgate on 127.0.1.66, endpoint closing66 for
#           record.ddbgate.test): two pipelined requests sent with the
#           handshake's last flight (rawclient.py burst), five times (the second is taken from the pool right after the first's
#           response, before the loop has delivered the server's close): both
#           200, on two upstream connections (a pooled connection is checked
#           however recently it was put back).
# second_line ENDPOINT MARK — the second access-log line for ENDPOINT since MARK.
second_line() {
	tail -n +"$(($2 + 1))" "$GW_OUT" | grep " endpoint=$1 " | sed -n 2p
}

two_requests() { # HOST
	build_request "$1" DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req1"
	build_request "$1" DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req2"
	raw_send "$1" "$CASE_TMP/req1" 2 --in "$CASE_TMP/req2" --pause 0.5 --timeout 10
	[ "$RAW_RC" = 0 ] || fail "two requests to $1, 0.5 s apart: not both answered (raw client exit $RAW_RC)"
	for i in 1 2; do
		raw_use $i
		expect_status 200
		expect_json "d == {'TableNames': ['recorded']}" "response $i is not the recorder's"
	done
}

step "(a) control: record.ddbgate.test keeps its connection"
mark=$(alog_mark)
two_requests record.ddbgate.test
alog_expect "$mark" 'endpoint=recorder ' 'status=200'
for _ in $(seq 1 30); do [ -n "$(second_line recorder "$mark")" ] && break; sleep 0.1; done
line=$(second_line recorder "$mark")
echo "second line: $line"
echo "$line" | grep -q ' reused=1' ||
	fail "control: the second request to a keep-alive upstream did not reuse the pooled connection (${line:-no line})"

step "(b) idleclose.ddbgate.test closes its idle connection after 100 ms"
mark=$(alog_mark)
rmark=$(rec_mark idleclose)
two_requests idleclose.ddbgate.test
raw_use 1
rid1=$(header x-amzn-RequestId)
raw_use 2
rid2=$(header x-amzn-RequestId)
echo "request ids: $rid1, $rid2"
case "$rid1 $rid2" in rec-idleclose-*-1\ rec-idleclose-*-1) ;; *) fail "expected two first requests of two idleclose connections, got '$rid1' and '$rid2'" ;; esac
[ "$rid1" != "$rid2" ] || fail "both answers came from the same upstream connection"
c1=${rid1#rec-idleclose-}
c1=${c1%-1}
sed 's/^/  /' "$REC/idleclose/events.log" | tail -n 12
grep -q " conn=$c1 idle for 100 ms after a response: closing" "$REC/idleclose/events.log" ||
	fail "the idleclose recorder did not close connection $c1 (test bed problem)"
[ "$(rec_conns_since idleclose "$rmark" | wc -l)" = 2 ] || fail "expected exactly two upstream connections to idleclose"
for _ in $(seq 1 30); do [ -n "$(second_line idle-close "$mark")" ] && break; sleep 0.1; done
line=$(second_line idle-close "$mark")
echo "second line: $line"
[ -n "$line" ] || fail "no second access-log line for endpoint idle-close"
echo "$line" | grep -q ' status=200 ' || fail "the second request did not succeed: $line"
echo "$line" | grep -q ' reused=0' || fail "the second request claims a reused upstream connection, but the server had closed it: $line"

step "(c) a server that closes right after its response, without Connection: close"
rec_start c66 127.0.3.66 up-good.pem --close-after-response
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.66
	echo "workers: 1"
	echo "endpoints:"
	lgw_endpoint closing66 record.ddbgate.test "127.0.3.66:$UP_PORT"
} >"$cfg"
lgw_start 127.0.1.66 "$cfg"
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req1"
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{"Limit":2}' >"$CASE_TMP/req2"
for round in 1 2 3 4 5; do
	rm -f "$CASE_TMP"/resp.[0-9]*.*
	/usr/bin/python3 "$IT_DIR/rawclient.py" burst --connect "127.0.1.66:$GW_PORT" --sni record.ddbgate.test \
		--cafile "$PKI/gw-ca.pem" --in "$CASE_TMP/req1" --in "$CASE_TMP/req2" --responses 2 --timeout 10 \
		--save-dir "$CASE_TMP" >"$CASE_TMP/raw.jsonl" 2>&1
	RAW_RC=$?
	[ "$RAW_RC" = 0 ] || fail "round $round: two pipelined requests to a server that closes after each response: not both answered (raw client exit $RAW_RC)"
	raw_use 1
	expect_from c66
	r1=$(rid)
	raw_use 2
	expect_from c66
	r2=$(rid)
	echo "round $round: request ids $r1, $r2"
	case "$r1 $r2" in rec-c66-*-1\ rec-c66-*-1) ;; *) fail "round $round: expected the first requests of two upstream connections, got '$r1' and '$r2'" ;; esac
	[ "$r1" != "$r2" ] || fail "round $round: both answers came from one upstream connection"
done
lgw_stop
