# needs: gateway
# timeout: 40
#
# While a request is in flight, ddbgate keeps reading its client (turning
# reads off and on again cost two epoll_ctl calls per request): what the
# client sends meanwhile waits for its turn, the client's idle timeout does
# not run against a slow upstream, and a client that shuts its sending side
# (a half-close) still gets its answer before the connection is closed.
# Client:   rawclient.py, signed ListTables to slow.ddbgate.test (SNI and Host).
# Config:   case-local ddbgate on 127.0.1.68, workers: 1, endpoints slow68
#           (record.ddbgate.test -> 127.0.3.68:8443) and big68
#           (other.ddbgate.test -> 127.0.4.68:8443), limits.client_idle_timeout_s: 1.
# Upstream: case-local recorder.py "c68" (--delay-ms 1500: every answer 1.5 s
#           after its request) and "c68big" (--body-bytes 33554432: 32 MiB answers).
# Expect:   (a) two requests on one connection, the second written 0.5 s after
#           the first (so while the first is in flight): both 200, in order,
#           from one upstream connection (x-amzn-RequestId rec-c68-N-1, then
#           rec-c68-N-2): 1.5 s in flight is longer than the 1 s idle timeout;
#           (b) one request, then the client shuts down its TCP sending side
#           (FIN, no close_notify): the 200 arrives whole, then ddbgate closes
#           the connection; access log: status=200, no error=;
#           (c) big68: one request; the client reads nothing for 0.6 s (within
#           the 1 s idle timeout that also bounds a client that does not read)
#           and half-closes after 0.3 s, while the 32 MiB answer is relayed with
#           ddbgate's output to it full: all 32 MiB arrive, then the close;
#           ddbgate's peak RSS grows by less than 6 MiB (the upstream is read
#           no faster than the client takes the answer; not checked under
#           AddressSanitizer, whose quarantine keeps freed memory).
#           Last: exit 0 after SIGTERM.
IP=127.0.1.68
H=record.ddbgate.test
BIG=other.ddbgate.test
rec_start c68 127.0.3.68 up-good.pem --delay-ms 1500
rec_start c68big 127.0.4.68 up-good.pem --body-bytes 33554432
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head $IP
	echo "workers: 1"
	echo "limits:"
	echo "  client_idle_timeout_s: 1"
	echo "  upstream_timeout_s: 10"
	echo "endpoints:"
	lgw_endpoint slow68 $H "127.0.3.68:$UP_PORT"
	lgw_endpoint big68 $BIG "127.0.4.68:$UP_PORT"
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

kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

step "(c) a 32 MiB answer to a client that reads late and half-closes while it is relayed"
build_request $BIG DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/big"
echo 5 >"/proc/$LGW_PID/clear_refs" # VmHWM := VmRSS
rss0=$(kib "$LGW_PID" VmRSS)
/usr/bin/python3 - "$IP" "$GW_PORT" "$PKI/gw-ca.pem" "$BIG" "$CASE_TMP/big" <<'PY' || fail "the answer was not relayed whole after the client's half-close"
import json, socket, ssl, sys, time
ip, port, ca, host, req = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], open(sys.argv[5], "rb").read()
size = 32 << 20
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((ip, port), timeout=10), server_hostname=host)
s.sendall(req)
time.sleep(0.3)  # the answer is being relayed; ddbgate's output to us is full
socket.socket.shutdown(s, socket.SHUT_WR)  # FIN, no close_notify
time.sleep(0.3)  # ddbgate reads the end of our sending meanwhile
got = bytearray()
end = "close"
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
except (ssl.SSLError, OSError) as e:
    end = "%s: %s" % (type(e).__name__, e)
head, _, body = got.partition(b"\r\n\r\n")
print("status line %r, body %d of %d bytes, then %s" % (head.split(b"\r\n")[0], len(body), size, end))
ok = head.startswith(b"HTTP/1.1 200") and len(body) == size and json.loads(body)["TableNames"] == ["recorded"]
sys.exit(0 if ok else 1)
PY
hwm=$(kib "$LGW_PID" VmHWM)
echo "ddbgate RSS before ${rss0} KiB, peak during the answer ${hwm} KiB"
if grep -qa __asan_init "$DDBGATE"; then
	echo "an AddressSanitizer build: its quarantine keeps freed memory, the RSS bound is not checked"
else
	[ $((hwm - rss0)) -lt 6144 ] ||
		fail "ddbgate's peak RSS grew by $((hwm - rss0)) KiB relaying 32 MiB to a slow client: it read the upstream ahead of the client"
fi
lgw_stop
