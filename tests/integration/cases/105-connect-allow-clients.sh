# needs: gateway
# timeout: 60
#
# allow_clients on a connect listener: a client outside it is closed at
# accept, before a byte is read or written, and logged; one inside is served.
# Client:   curl -x http://127.0.1.105:3128 signed ListTables to
#           https://record.ddbgate.test/, bound to source address 127.0.0.6
#           (--interface), then to 127.0.0.5; proxyclient.py --bind 127.0.0.6
#           with a CONNECT request.
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.105:3128, mode: connect,
#                          allow_clients: [127.0.0.5/32]}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: rec, hosts: [record.ddbgate.test],
#               upstream: vpce-record-1234...:8443}]
# Upstream: recorder "record".
# Expect:   from 127.0.0.6: curl fails before any CONNECT answer
#           (%{http_connect} 000, exit 52 or 56); the proxy client gets not
#           one byte, the connection ends (FIN or reset) at once; the gateway
#           logs "listener 127.0.1.105:3128: refused client 127.0.0.6:PORT:
#           not in allow_clients" once per connection; the recorder got no
#           connection.
#           From 127.0.0.5: 200 from the recorder; access log client=127.0.0.5:PORT.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.105
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
    allow_clients: [127.0.0.5/32]
endpoints:
YAML
	lgw_endpoint rec record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
rm0=$(rec_mark record)

step "from 127.0.0.6 (outside allow_clients): closed at accept"
emark=$(log_mark "$LGW_ERR")
cgw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' --interface 127.0.0.6
rc_err=$(cat "$CASE_TMP/curl.err")
[ "$CONNECT_STATUS" = 000 ] && [ "$RESP_STATUS" = 000 ] ||
	fail "curl from 127.0.0.6 got an answer: CONNECT $CONNECT_STATUS, request $RESP_STATUS"
echo "$rc_err" | grep -Eq '^curl: \((52|56)\) ' || fail "curl from 127.0.0.6: expected exit 52/56 (nothing / connection reset), got: $rc_err"
proxy_send 'CONNECT record.ddbgate.test:443 HTTP/1.1\r\nHost: record.ddbgate.test:443\r\n\r\n' --bind 127.0.0.6
[ "$RESP_STATUS" = none ] || fail "the proxy client from 127.0.0.6 got an answer ($RESP_STATUS)"
"$IT_DIR/jsonq.py" <(head -n 1 "$CASE_TMP/proxy.jsonl") "d['extra_bytes'] == 0 and d['end'] in ('eof', 'reset') and d['seconds'] < 2" >/dev/null ||
	fail "the connection from 127.0.0.6 was not closed at once without a byte: $(head -n 1 "$CASE_TMP/proxy.jsonl")"
for _ in $(seq 1 30); do
	n=$(log_since "$LGW_ERR" "$emark" | grep -cE "listener $IP:$CONNECT_PORT: refused client 127\\.0\\.0\\.6:[0-9]+: not in allow_clients\$")
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
log_since "$LGW_ERR" "$emark" | grep 'refused client' | sed 's/^/  log: /'
[ "$n" = 2 ] || fail "expected 2 'listener $IP:$CONNECT_PORT: refused client 127.0.0.6:PORT: not in allow_clients' lines (curl, proxy client), got $n"
# (docs/modes.md also says "the access and audit logs carry a line" for
# every refusal; for this one ddbgate writes none: not asserted either way.)
rec_expect_no_connection record "$rm0"

step "from 127.0.0.5 (inside allow_clients): served"
mark=$(log_mark "$LGW_OUT")
cgw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' --interface 127.0.0.5
expect_from record
[ "$CONNECT_STATUS" = 200 ] || fail "CONNECT from 127.0.0.5 answered $CONNECT_STATUS"
lgw_alog_expect "$mark" 'client=127\.0\.0\.5:[0-9]+ ' 'endpoint=rec ' 'status=200 '
log_since "$LGW_ERR" "$emark" | grep -q 'refused client 127\.0\.0\.5:' && fail "the gateway refused 127.0.0.5"

step "the case-local gateway stops cleanly"
lgw_stop
