# needs: gateway
# timeout: 60
#
# Clients that send their first bytes in pieces: the transparent listener
# peeks at the ClientHello until it is whole (the bytes stay in the socket
# for the real handshake), within limits.client_idle_timeout_s; the connect
# listener reads a CONNECT head that arrives in pieces, over HTTP/1.0 too,
# and a ClientHello in pieces after its 200.
# Client:   tlssplit.py (TLS through memory BIOs, SNI record.ddbgate.test,
#           verified against the case's CA, a signed ListTables):
#           (a) transparent listener 127.0.1.112:8443, the ClientHello cut after
#               5 bytes (inside the record header), 300 ms, the rest;
#           (b) cut after 100 bytes (inside the hello), 300 ms, the rest;
#           (c) 3 bytes of the ClientHello, then nothing;
#           (d) "GET / HTTP/1.1" instead of a ClientHello (proxyclient.py);
#           (e) connect listener 127.0.1.112:3128: "CONNECT record.ddbgate.test:443
#               HTTP/1.1" cut after 10 bytes (300 ms), then the ClientHello cut
#               after 5 bytes (300 ms); (f) the same CONNECT as HTTP/1.0.
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.112:8443, mode: transparent},
#                         {address: 127.0.1.112:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: rec, hosts: [record.ddbgate.test],
#               upstream: vpce-record-1234...:8443}]
#             limits: {client_idle_timeout_s: 2}
# Upstream: recorder "record".
# Expect:   (a), (b), (e), (f): the handshake completes (certificate for
#           record.ddbgate.test) and the request is answered 200 by the recorder.
#           (c) the gateway closes the connection without a byte after 1.5 to
#               4 s, logging "transparent connection to (not redirected)
#               refused: no complete TLS ClientHello within
#               limits.client_idle_timeout_s".
#           (d) closed without a byte; log "transparent connection to (not
#               redirected) refused: ..." (the parser's reason).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.112
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
listeners:
  - address: $IP:$TRANSPARENT_PORT
    mode: transparent
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint rec record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
sed -i 's|^  upstream_timeout_s: 5$|&\n  client_idle_timeout_s: 2|' "$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg" $TRANSPARENT_PORT
wait_port $IP $CONNECT_PORT "$LGW_PID" || fail "the connect listener does not listen"
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"

# split TAG ARGS... — tlssplit.py with ARGS; the request must be answered
# 200 by the recorder over a certificate for record.ddbgate.test.
split() {
	local tag=$1
	shift
	/usr/bin/python3 "$IT_DIR/tlssplit.py" --sni record.ddbgate.test --cafile "$CGW_CA" --request "$CASE_TMP/req" "$@" \
		>"$CASE_TMP/split.$tag" 2>&1
	echo "($tag) tlssplit.py exit $?:"; sed 's/^/  /' "$CASE_TMP/split.$tag" | cut -c1-300
	"$IT_DIR/jsonq.py" <(grep '"phase": "tls"' "$CASE_TMP/split.$tag") "d['san'] == ['record.ddbgate.test']" >/dev/null ||
		fail "($tag) no TLS handshake with a certificate for record.ddbgate.test"
	"$IT_DIR/jsonq.py" <(grep '"phase": "request"' "$CASE_TMP/split.$tag") \
		"d['status'] == 200 and d['headers']['x-amzn-requestid'].startswith('rec-record-')" >/dev/null ||
		fail "($tag) the request was not answered 200 by the recorder"
}

step "(a), (b) transparent: a ClientHello in two pieces"
split a --connect "$IP:$TRANSPARENT_PORT" --split 5 --pause 0.3
split b --connect "$IP:$TRANSPARENT_PORT" --split 100 --pause 0.3

step "(c) transparent: 3 bytes of a ClientHello, then nothing"
emark=$(log_mark "$LGW_ERR")
/usr/bin/python3 "$IT_DIR/tlssplit.py" --connect "$IP:$TRANSPARENT_PORT" --sni record.ddbgate.test --cafile "$CGW_CA" \
	--split 3 --stall --timeout 8 >"$CASE_TMP/stall" 2>&1
cat "$CASE_TMP/stall"
"$IT_DIR/jsonq.py" "$CASE_TMP/stall" "d['end'] in ('eof', 'reset') and d['received'] == 0 and 1.5 <= d['seconds'] <= 4" >/dev/null ||
	fail "a stalled ClientHello was not closed, unanswered, 1.5 to 4 s later (client_idle_timeout_s: 2)"
wait_log "$LGW_ERR" "$emark" 'transparent connection to \(not redirected\) refused: no complete TLS ClientHello within limits\.client_idle_timeout_s$' 30 ||
	fail "no 'transparent connection to (not redirected) refused: no complete TLS ClientHello within limits.client_idle_timeout_s' log line"

step "(d) transparent: plain HTTP instead of a ClientHello"
emark=$(log_mark "$LGW_ERR")
printf 'GET / HTTP/1.1\r\nHost: record.ddbgate.test\r\n\r\n' >"$CASE_TMP/get.in"
/usr/bin/python3 "$IT_DIR/proxyclient.py" --connect "$IP:$TRANSPARENT_PORT" --in "$CASE_TMP/get.in" >"$CASE_TMP/get.out" 2>&1
cat "$CASE_TMP/get.out"
"$IT_DIR/jsonq.py" <(head -n 1 "$CASE_TMP/get.out") "d['status'] is None and d['extra_bytes'] == 0 and d['end'] in ('eof', 'reset')" >/dev/null ||
	fail "plain HTTP on the transparent listener was answered or not closed"
line=$(wait_log "$LGW_ERR" "$emark" 'transparent connection to \(not redirected\) refused: ' 30) ||
	fail "no 'transparent connection to (not redirected) refused' log line for plain HTTP"
echo "log: $line"

step "(e) connect: the CONNECT head and the ClientHello in pieces"
split e --connect "$IP:$CONNECT_PORT" --proxy-connect record.ddbgate.test:443 --connect-split 10 --split 5 --pause 0.3
step "(f) connect: CONNECT ... HTTP/1.0"
split f --connect "$IP:$CONNECT_PORT" --proxy-connect record.ddbgate.test:443 --proxy-version 1.0

step "the case-local gateway stops cleanly"
lgw_stop
