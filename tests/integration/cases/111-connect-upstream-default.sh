# needs: gateway
# timeout: 60
#
# Connect mode, interception, an endpoint without `upstream`: the gateway
# connects to the CONNECT host on the CONNECT port (resolved, guarded,
# verified against that name); a static certificate from tls.certificates
# is chosen by name before anything is minted, also without SNI (the
# CONNECT host names it).
# Client:   curl -x http://127.0.1.111:3128 / openssl s_client -proxy / proxyclient.py:
#           (a) curl --cacert gw-ca.pem (the static certificate's CA) signed
#               ListTables to https://record.ddbgate.test:8443/
#           (b) s_client -connect minted111.ddbgate.test:443 (no static
#               certificate names it)
#           (c) proxyclient: CONNECT record.ddbgate.test:8443, TLS without SNI,
#               signed ListTables
#           (d0) after 1.5 s (the pooled connections have expired): curl to
#               https://record.ddbgate.test:9443/ (same host, another port)
#           (d) at once: https://record.ddbgate.test:8443/ again
# Config:   case-local ddbgate, workers: 1 (idle upstream connections are
#           pooled per worker: one worker makes the pool state certain) (resolver: case-local dnsmasq 127.0.2.111:5353):
#             listeners: [{address: 127.0.1.111:3128, mode: connect}]
#             tls: {certificates: [{cert: gw-leaf.pem, key: gw-leaf.key}],
#                   ca_cert, ca_key (`ddbgate ca init` of this configuration)}
#             endpoints: [{name: rec, hosts: [record.ddbgate.test] (no upstream)},
#                         {name: mint, hosts: [minted111.ddbgate.test] (no upstream)}]
#             limits: {upstream_idle_timeout_s: 1}
# Upstream: dnsmasq: record.ddbgate.test -> 127.0.0.22; on 127.0.0.22:8443
#           recorder "record"; on 127.0.0.22:9443 a case-local stunnel4 ->
#           dynalite (leaf up-good, which also names record.ddbgate.test).
# Expect:   (a) 200 from the recorder (upstream=127.0.0.22:8443 in the access
#               log); the served certificate is gw-leaf.pem (same SHA-256).
#           (b) the leaf is minted by the case's CA: issuer "ddbgate gateway CA
#               ...", SAN exactly DNS:minted111.ddbgate.test.
#           (c) without SNI: gw-leaf.pem again, 200 from the recorder.
#           (d0) 200 with dynalite's answer, upstream=127.0.0.22:9443 reused=0.
#           (d) 200 from the recorder, upstream=127.0.0.22:8443: the port
#               asked for is the port connected to, even with a pooled
#               connection to record.ddbgate.test:9443 at hand.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.111
DNS111=127.0.2.111:5353
dnsmasq_start "$DNS111" "$CASE_TMP/dnsmasq" --local=/ddbgate.test/ --host-record=record.ddbgate.test,127.0.0.22
cat >"$CASE_TMP/stunnel.conf" <<EOC
foreground = yes
pid =
syslog = no
debug = 5
[front111]
accept = 127.0.0.22:9443
connect = $DYNALITE_IP:$DYNALITE_PORT
cert = $PKI/up-good.pem
key = $PKI/up-good.key
EOC
start_bg "$CASE_TMP/stunnel" stunnel4 "$CASE_TMP/stunnel.conf"
wait_port 127.0.0.22 9443 "$BG_PID" || fail "stunnel did not listen on 127.0.0.22:9443"
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head "$DNS111"
	cat <<YAML
workers: 1
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
  - name: rec
    service: dynamodb
    hosts: [record.ddbgate.test]
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
  - name: mint
    service: dynamodb
    hosts: [minted111.ddbgate.test]
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
YAML
} >"$cfg"
# the static certificate, in the tls: mapping cgw_head wrote
sed -i "s|^tls:\$|tls:\\n  certificates:\\n    - cert: $PKI/gw-leaf.pem\\n      key: $PKI/gw-leaf.key|" "$cfg"
sed -i 's|^  upstream_timeout_s: 5$|&\n  upstream_idle_timeout_s: 1|' "$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
GWLEAF_FP=$(openssl x509 -in "$PKI/gw-leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)

step "(a) no upstream: the CONNECT host and port; the static certificate"
mark=$(log_mark "$LGW_OUT")
CGW_CA="$PKI/gw-ca.pem" cgw_request record.ddbgate.test:8443 DynamoDB_20120810.ListTables '{}'
expect_from record
lgw_alog_expect "$mark" 'endpoint=rec host=record\.ddbgate\.test ' 'status=200 ' 'upstream=127\.0\.0\.22:8443 '
build_request record.ddbgate.test DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
proxy_send 'CONNECT record.ddbgate.test:8443 HTTP/1.1\r\nHost: record.ddbgate.test:8443\r\n\r\n' \
	--tls --sni record.ddbgate.test --cafile "$PKI/gw-ca.pem" --request "$CASE_TMP/req"
"$IT_DIR/jsonq.py" <(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl") "d['sha256'] == '$GWLEAF_FP'" >/dev/null ||
	fail "the certificate served for record.ddbgate.test is not gw-leaf.pem ($GWLEAF_FP)"
echo "served: gw-leaf.pem ($GWLEAF_FP)"

step "(b) a name no static certificate covers: minted"
timeout 10 openssl s_client -proxy "$IP:$CONNECT_PORT" -connect minted111.ddbgate.test:443 -servername minted111.ddbgate.test \
	-CAfile "$CGW_CA" -verify_return_error </dev/null >"$CASE_TMP/sc.out" 2>&1 || fail "s_client minted111: $(tail -n 5 "$CASE_TMP/sc.out")"
grep -E '^ *[si]:' "$CASE_TMP/sc.out" | head -2 | sed 's/^/  /'
grep -q "^ *i:O = ddbgate, CN = ddbgate gateway CA $(hostname)\$" "$CASE_TMP/sc.out" || fail "minted111's certificate is not issued by the case's CA"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$CASE_TMP/sc.out" | openssl x509 -noout -ext subjectAltName |
	grep -qx ' *DNS:minted111.ddbgate.test' || fail "minted111's certificate does not name exactly DNS:minted111.ddbgate.test"

step "(c) no SNI: the CONNECT host picks the static certificate"
proxy_send 'CONNECT record.ddbgate.test:8443 HTTP/1.1\r\nHost: record.ddbgate.test:8443\r\n\r\n' \
	--tls --no-sni --cafile "$PKI/gw-ca.pem" --request "$CASE_TMP/req"
"$IT_DIR/jsonq.py" <(grep '"phase": "tls"' "$CASE_TMP/proxy.jsonl") "d['sha256'] == '$GWLEAF_FP'" >/dev/null ||
	fail "without SNI the certificate is not gw-leaf.pem"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_from record

step "(d0) pooled connections expired (upstream_idle_timeout_s: 1): the same host on port 9443"
sleep 1.5
mark=$(log_mark "$LGW_OUT")
CGW_CA="$PKI/gw-ca.pem" cgw_request record.ddbgate.test:9443 DynamoDB_20120810.ListTables '{}'
expect_status 200
expect_json "isinstance(d['TableNames'], list) and d != {'TableNames': ['recorded']}" "record.ddbgate.test:9443 did not answer with dynalite's ListTables"
lgw_alog_expect "$mark" 'endpoint=rec ' 'status=200 ' 'upstream=127\.0\.0\.22:9443 ' 'reused=0'

step "(d) port 8443 again at once, with a pooled connection to record.ddbgate.test:9443 at hand"
mark=$(log_mark "$LGW_OUT")
CGW_CA="$PKI/gw-ca.pem" cgw_request record.ddbgate.test:8443 DynamoDB_20120810.ListTables '{}'
lgw_alog_expect "$mark" 'endpoint=rec ' 'status=200 '
expect_json "d == {'TableNames': ['recorded']}" "CONNECT record.ddbgate.test:8443 was not answered by the recorder on :8443 but over $(tail -n 1 "$LGW_OUT" | grep -o 'upstream=[^ ]*') $(tail -n 1 "$LGW_OUT" | grep -o 'reused=[0-9]')"
expect_from record
lgw_alog_expect "$mark" 'upstream=127\.0\.0\.22:8443 '

step "the case-local gateway stops cleanly"
lgw_stop
