# needs: gateway
# timeout: 40
#
# ddbgate reads client and upstream TLS with OpenSSL's read-ahead (one
# read(2) per burst instead of two per record). Records that one read takes
# in beyond the first must still be served, though the socket has nothing
# more to say: after the handshake, within a burst, and after the read
# high-water mark stopped reading.
# Client:   rawclient.py burst: ONE send(2) carrying the handshake's last
#           flight (client Finished) and then the requests, each as TLS
#           records of its own; signed ListTables to record.ddbgate.test.
# Config:   case-local ddbgate on 127.0.1.69, workers: 1, endpoint rec69
#           (record.ddbgate.test -> 127.0.3.69:8443), limits.max_header_bytes
#           1024 and max_body_bytes 1024 (read high-water mark 2 KiB).
# Upstream: case-local recorder.py "c69" (--delay-ms 200).
# Expect:   (a) one request cut into two records (head | body), sent with the
#           Finished: 200;
#           (b) eight pipelined requests, a record each, with the Finished:
#           eight 200s in order (x-amzn-RequestId rec-c69-N-K ... K+7: one
#           upstream connection, in order): more than 2 KiB, so reading stops at the high-water
#           mark while the first is in flight and must resume by itself;
#           each answer within the 10 s client timeout (a stall would hang);
#           ddbgate uses less than 0.25 s of CPU over the 1.6 s of answers (a
#           read callback re-run on every loop turn while the input sits at
#           the mark would spin a core).
#           Last: exit 0 after SIGTERM.
IP=127.0.1.69
H=record.ddbgate.test
rec_start c69 127.0.3.69 up-good.pem --delay-ms 200
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head $IP
	echo "workers: 1"
	echo "limits:"
	echo "  max_header_bytes: 1024"
	echo "  max_body_bytes: 1024"
	echo "endpoints:"
	lgw_endpoint rec69 $H "127.0.3.69:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

# burst N FILE... — rawclient.py burst to the case-local gateway; N responses.
burst() {
	local n=$1 f args=()
	shift
	for f in "$@"; do args+=(--in "$f"); done
	rm -f "$CASE_TMP"/resp.[0-9]*.*
	/usr/bin/python3 "$IT_DIR/rawclient.py" burst --connect "$IP:$GW_PORT" --sni $H \
		--cafile "$PKI/gw-ca.pem" "${args[@]}" --responses "$n" --timeout 10 \
		--save-dir "$CASE_TMP" ${SPLIT:+--split "$SPLIT"} >"$CASE_TMP/raw.jsonl" 2>&1
	RAW_RC=$?
	echo "burst client: exit $RAW_RC"
	head -c 2000 "$CASE_TMP/raw.jsonl"
}

step "(a) the Finished, then one request in two records, in one send"
build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
SPLIT=100 burst 1 "$CASE_TMP/req"
[ "$RAW_RC" = 0 ] || fail "the request that came with the handshake's last flight was not answered"
raw_use 1
expect_status 200
expect_from c69

step "(b) the Finished, then eight pipelined requests past the read high-water mark, in one send"
files=()
for i in 1 2 3 4 5 6 7 8; do
	build_request $H DynamoDB_20120810.ListTables "{\"Limit\":$i}" >"$CASE_TMP/req$i"
	files+=("$CASE_TMP/req$i")
done
total=$(cat "${files[@]}" | wc -c)
echo "eight requests: $total bytes"
[ "$total" -gt 2048 ] || fail "test bug: the requests do not pass the 2 KiB read high-water mark"
ticks() { awk '{ print $14 + $15 }' "/proc/$LGW_PID/stat"; }
t0=$(ticks)
burst 8 "${files[@]}"
[ "$RAW_RC" = 0 ] || fail "not all eight pipelined requests were answered (reading did not resume)"
cpu_ms=$(( ($(ticks) - t0) * 1000 / $(getconf CLK_TCK) ))
echo "ddbgate CPU during the burst: $cpu_ms ms"
[ "$cpu_ms" -lt 250 ] || fail "ddbgate used $cpu_ms ms of CPU while eight requests waited 1.6 s for their answers: it spins"
base="" n0=0
for i in 1 2 3 4 5 6 7 8; do
	raw_use $i
	expect_status 200
	r=$(rid) # rec-c69-<conn>-<n>: the upstream connection may be (a)'s, pooled
	if [ -z "$base" ]; then base=${r%-*} n0=${r##*-}; fi
	[ "$r" = "$base-$((n0 + i - 1))" ] ||
		fail "response $i: request id $r, expected $base-$((n0 + i - 1)) (order or connection)"
done
lgw_stop
