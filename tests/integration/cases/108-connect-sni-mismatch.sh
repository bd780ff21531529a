# needs: gateway
# timeout: 60
#
# Connect mode: the TLS server name must be the CONNECT host. A client that
# asks the proxy for one host and then names another in its ClientHello gets
# 421 on every request and reaches no upstream; without SNI the CONNECT host
# names the certificate and the endpoint.
# Client:   CONNECT record.ddbgate.test:443 on 127.0.1.108:3128, then TLS with:
#           (a) openssl s_client -proxy ... -servername other.ddbgate.test
#               (another endpoint's host; its minted certificate verifies
#               against the CA), a signed ListTables with Host other.ddbgate.test;
#           (b) proxyclient.py, SNI other.ddbgate.test, Host record.ddbgate.test;
#           (c) proxyclient.py, SNI nowhere.ddbgate.test (no endpoint's host);
#           (d) control: SNI record.ddbgate.test; no SNI at all.
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.108:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: rec, hosts: [record.ddbgate.test], upstream: vpce-record-1234...:8443},
#                         {name: oth, hosts: [other.ddbgate.test], upstream: vpce-record-1234...:8443}]
# Upstream: recorder "record".
# Expect:   (a)-(c): "HTTP/1.1 421 Misdirected Request", ddbgate#MisdirectedRequest,
#           Proxy-Status error=http_request_denied, Connection: close; the
#           recorder accepted no connection; the log says "TLS server name
#           other.ddbgate.test differs from the CONNECT host record.ddbgate.test"
#           (a, b) / "TLS server name nowhere.ddbgate.test differs ..." (c);
#           access log status=421 host=- upstream=-.
#           (d) 200 from the recorder both times; without SNI the served
#           certificate is record.ddbgate.test's (SAN exactly that name).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.108
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
	lgw_endpoint oth other.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
rm0=$(rec_mark record)
CONNECT_REC='CONNECT record.ddbgate.test:443 HTTP/1.1\r\nHost: record.ddbgate.test:443\r\n\r\n'

# expect_421 — the last response is ddbgate's 421.
expect_421() {
	[ "$(head -n 1 "$CASE_TMP/resp.headers" | tr -d '\r')" = "HTTP/1.1 421 Misdirected Request" ] ||
		{ show_response; fail "status line '$(head -n 1 "$CASE_TMP/resp.headers")', expected 'HTTP/1.1 421 Misdirected Request'"; }
	expect_proxy_error 421 MisdirectedRequest http_request_denied
	[ "$(header Connection)" = close ] || fail "the 421 has no 'Connection: close'"
}

step "(a) openssl s_client: CONNECT record.ddbgate.test, SNI other.ddbgate.test"
emark=$(log_mark "$LGW_ERR")
mark=$(log_mark "$LGW_OUT")
build_request other.ddbgate.test DynamoDB_20120810.ListTables '{}' --header 'Connection: close' >"$CASE_TMP/req.other"
timeout 15 openssl s_client -quiet -proxy "$IP:$CONNECT_PORT" -connect record.ddbgate.test:443 -servername other.ddbgate.test \
	-CAfile "$CGW_CA" -verify_return_error <"$CASE_TMP/req.other" >"$CASE_TMP/sc.out" 2>"$CASE_TMP/sc.err"
echo "s_client exit $?; stderr: $(head -c 600 "$CASE_TMP/sc.err" | tr '\n' ' ')"
grep -q 'verify return:1' "$CASE_TMP/sc.err" || fail "s_client did not verify other.ddbgate.test's minted certificate: $(cat "$CASE_TMP/sc.err")"
/usr/bin/python3 - "$CASE_TMP/sc.out" "$CASE_TMP" <<'PY' || fail "s_client read no complete HTTP response: $(head -c 500 "$CASE_TMP/sc.out")"
import sys
data = open(sys.argv[1], "rb").read()
head, sep, body = data.partition(b"\r\n\r\n")
if not sep:
    sys.exit(1)
open(sys.argv[2] + "/resp.headers", "wb").write(head + sep)
open(sys.argv[2] + "/resp.body", "wb").write(body)
PY
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
: >"$CASE_TMP/curl.err"
expect_421
line=$(wait_log "$LGW_ERR" "$emark" 'TLS server name other\.ddbgate\.test differs from the CONNECT host record\.ddbgate\.test$' 30) ||
	fail "no 'TLS server name other.ddbgate.test differs from the CONNECT host record.ddbgate.test' log line"
echo "log: $line"
lgw_alog_expect "$mark" 'status=421 ' 'host=- ' 'upstream=- '

step "(b) proxyclient: SNI other.ddbgate.test, Host record.ddbgate.test"
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req.rec"
emark=$(log_mark "$LGW_ERR")
proxy_send "$CONNECT_REC" --tls --sni other.ddbgate.test --cafile "$CGW_CA" --request "$CASE_TMP/req.rec"
"$IT_DIR/jsonq.py" <(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl") "d['san'] == ['other.ddbgate.test']" >/dev/null ||
	fail "the certificate served for SNI other.ddbgate.test: $(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl")"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_421
wait_log "$LGW_ERR" "$emark" 'TLS server name other\.ddbgate\.test differs from the CONNECT host record\.ddbgate\.test$' 30 >/dev/null ||
	fail "no mismatch log line for (b)"

step "(c) proxyclient: SNI nowhere.ddbgate.test"
emark=$(log_mark "$LGW_ERR")
proxy_send "$CONNECT_REC" --tls --sni nowhere.ddbgate.test --cafile "$CGW_CA" --request "$CASE_TMP/req.rec"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_421
wait_log "$LGW_ERR" "$emark" 'TLS server name nowhere\.ddbgate\.test differs from the CONNECT host record\.ddbgate\.test$' 30 >/dev/null ||
	fail "no mismatch log line for (c)"

step "no upstream was contacted"
rec_expect_no_connection record "$rm0"
echo "recorder record: no connection during (a)-(c)"

step "(d) control: SNI = the CONNECT host; no SNI"
proxy_send "$CONNECT_REC" --tls --sni record.ddbgate.test --cafile "$CGW_CA" --request "$CASE_TMP/req.rec"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_from record
proxy_send "$CONNECT_REC" --tls --no-sni --cafile "$CGW_CA" --request "$CASE_TMP/req.rec"
"$IT_DIR/jsonq.py" <(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl") "d['san'] == ['record.ddbgate.test']" >/dev/null ||
	fail "without SNI the certificate is not record.ddbgate.test's: $(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl")"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_from record

step "the case-local gateway stops cleanly"
lgw_stop
