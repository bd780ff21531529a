# needs: gateway
# timeout: 60
#
# A connect listener refuses what is not "CONNECT <endpoint host>:port":
# another host, a bare address, a plain proxy request, a CONNECT with a
# body or with bytes sent before the 200. Each refusal is one ddbgate JSON
# error, logged, and the connection is closed; nothing goes upstream.
# Client:   proxyclient.py (exact bytes, one write, then reads until the
#           connection ends) and curl -x http://127.0.1.103:3128:
#           (a) CONNECT nowhere.ddbgate.test:443; CONNECT 127.0.0.22:8443 (the
#               recorder's own address); CONNECT xrecord.ddbgate.test:443;
#               curl -x ... https://nowhere.ddbgate.test/
#           (b) GET / ; curl -x ... http://record.ddbgate.test/ (absolute-form
#               GET, plain HTTP proxying)
#           (c) CONNECT record.ddbgate.test:443 with Content-Length: 5 and a body
#           (d) CONNECT record.ddbgate.test:443 followed, in the same write, by
#               bytes (a would-be ClientHello) before the 200
#           (e) control: curl -x ... https://RECORD.ddbgate.test/ (upper case)
#               signed ListTables
#           (f) CONNECT record.ddbgate.test (an endpoint host, no port)
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.103:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: rec, hosts: [record.ddbgate.test],
#               upstream: vpce-record-1234...:8443}]
# Upstream: recorder "record".
# Expect:   (a) 403, __type ddbgate#Forbidden, Proxy-Status error=http_request_denied,
#               message "CONNECT <target> refused: ... not an endpoint ...",
#               Connection: close, then the gateway closes the connection; log
#               "refused CONNECT <target>: not a host of any endpoint"; access log
#               target="CONNECT <target>" status=403 error=http_request_denied;
#               audit decision error, status 403; curl: exit 56, %{http_connect} 403
#           (b) 405 ddbgate#MethodNotAllowed, error=http_request_error, message
#               "... serves CONNECT host:port only", closed; curl: 405
#           (c) 400 ddbgate#BadRequest, "a CONNECT request has no body", closed
#           (d) 400 ddbgate#BadRequest, "bytes arrived after the CONNECT request
#               before the tunnel was established", no 200 first, closed
#           The recorder accepted no connection during (a)-(d).
#           (e) 200 from the recorder (host names match without regard to case).
#           (f) 400 ddbgate#BadRequest "the CONNECT target must be host:port",
#               closed (docs/modes.md: a CONNECT target without a port).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.103
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint rec record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
rm0=$(rec_mark record)

# refused STATUS TYPE PS-ERROR TEXT MESSAGE-REGEX... — proxy_send TEXT: that
# error, Connection: close, and the connection closed after it.
refused() {
	local st=$1 ty=$2 ps=$3 text=$4
	shift 4
	proxy_send "$text"
	expect_proxy_error "$st" "$ty" "$ps" "$@"
	[ "$(header Connection)" = close ] || fail "the $st answer has no 'Connection: close'"
	[ "$(head -n 1 "$CASE_TMP/resp.headers" | tr -d '\r')" = "HTTP/1.1 $st $(case $st in 400) echo Bad Request ;; 403) echo Forbidden ;; 405) echo Method Not Allowed ;; esac)" ] ||
		fail "status line: $(head -n 1 "$CASE_TMP/resp.headers")"
	expect_closed
}

step "(a) CONNECT to a host that is no endpoint's: 403"
for target in nowhere.ddbgate.test:443 127.0.0.22:8443 xrecord.ddbgate.test:443; do
	mark=$(log_mark "$LGW_OUT")
	emark=$(log_mark "$LGW_ERR")
	amark=$(cgw_audit_mark)
	re_t=${target//./\\.}
	refused 403 Forbidden http_request_denied "CONNECT $target HTTP/1.1\r\nHost: $target\r\n\r\n" \
		"^CONNECT $re_t refused: " 'not an endpoint'
	line=$(wait_log "$LGW_ERR" "$emark" "refused CONNECT $re_t: not a host of any endpoint\$" 30) ||
		fail "no 'refused CONNECT $target: not a host of any endpoint' in the gateway's log"
	echo "log: $line"
	lgw_alog_expect "$mark" "target=\"CONNECT $re_t\" " 'status=403 ' 'error=http_request_denied$' 'endpoint=- '
	cgw_audit_expect "$amark" "d.get('status') == 403" "no audit line for the refused CONNECT $target"
	cgw_audit_check "d['decision'] == 'error' and d['reason'].startswith('CONNECT $target refused') and 'upstreamAddress' not in d" \
		"the audit line of the refused CONNECT $target"
done
code=$(curl -sS --max-time 10 -x "$CGW_PROXY" --cacert "$CGW_CA" -o /dev/null -w '%{http_connect}' \
	https://nowhere.ddbgate.test/ 2>"$CASE_TMP/curl.err")
rc=$?
echo "curl -x https://nowhere.ddbgate.test/: exit $rc, CONNECT answered $code: $(cat "$CASE_TMP/curl.err")"
[ "$rc" = 56 ] && [ "$code" = 403 ] || fail "curl through the proxy to nowhere.ddbgate.test: exit $rc, CONNECT $code; expected exit 56, 403"

step "(b) not CONNECT host:port: 405"
refused 405 MethodNotAllowed http_request_error 'GET / HTTP/1.1\r\nHost: record.ddbgate.test\r\n\r\n' \
	'serves CONNECT host:port only'
mark=$(log_mark "$LGW_OUT")
code=$(curl -sS --max-time 10 -x "$CGW_PROXY" -o "$CASE_TMP/resp.body" -D "$CASE_TMP/resp.headers" -w '%{http_code}' \
	http://record.ddbgate.test/ 2>"$CASE_TMP/curl.err")
echo "curl -x http://record.ddbgate.test/: $code $(cat "$CASE_TMP/resp.body")"
RESP_STATUS=$code
expect_proxy_error 405 MethodNotAllowed http_request_error 'serves CONNECT host:port only'
lgw_alog_expect "$mark" 'target="GET http://record\.ddbgate\.test/" ' 'status=405 '

step "(c) CONNECT with a body: 400"
refused 400 BadRequest http_request_error \
	'CONNECT record.ddbgate.test:443 HTTP/1.1\r\nHost: record.ddbgate.test:443\r\nContent-Length: 5\r\n\r\nhello' \
	'^a CONNECT request has no body$'

step "(d) bytes before the 200: 400"
refused 400 BadRequest http_request_error \
	'CONNECT record.ddbgate.test:443 HTTP/1.1\r\nHost: record.ddbgate.test:443\r\n\r\n\x16\x03\x01\x00\x05hello' \
	'^bytes arrived after the CONNECT request before the tunnel was established$'

step "nothing reached the upstream"
rec_expect_no_connection record "$rm0"
echo "recorder record: no connection during (a)-(d)"

step "(e) control: the endpoint's host, in upper case"
cgw_request RECORD.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_from record
[ "$CONNECT_STATUS" = 200 ] || fail "CONNECT answered $CONNECT_STATUS"

step "(f) CONNECT without a port: 400 (docs/modes.md)"
refused 400 BadRequest http_request_error 'CONNECT record.ddbgate.test HTTP/1.1\r\nHost: record.ddbgate.test\r\n\r\n' \
	'the CONNECT target must be host:port'

step "the case-local gateway stops cleanly"
lgw_stop
