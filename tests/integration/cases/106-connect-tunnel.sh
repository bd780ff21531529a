# needs: gateway
# timeout: 60
#
# Opaque tunnels (intercept: false): the client talks TLS with the real
# upstream through the gateway, which relays bytes, applies no per-request
# policy, and writes one audit record and one access-log line per tunnel;
# the upstream is resolved, guarded and connected BEFORE the 200, so a
# failure is an error answer, never a 200 followed by a dead tunnel.
# Client:   curl -x http://127.0.1.106:3128 and proxyclient.py:
#           (a) curl --cacert upstream-ca.pem (the UPSTREAM's CA, not the
#               gateway's) signed ListTables to https://dynamodb.us-east-1.amazonaws.com/;
#               the same with --cacert = the gateway CA; openssl s_client
#               -proxy ... -showcerts
#           (b) proxyclient: CONNECT plain106.vpce.amazonaws.com:8000, then one
#               signed ListTables (plain HTTP, Connection: close) through the tunnel
#           (b2) proxyclient: CONNECT record.ddbgate.test:443, TLS with the
#               recorder through the tunnel (verified against the upstream CA),
#               one 2 MiB PutItem
#           (c) CONNECT guard.ddbgate.test:443, refused.ddbgate.test:443,
#               nxdomain.ddbgate.test:443
# Config:   case-local ddbgate (resolver: a case-local dnsmasq 127.0.2.106:5353):
#             listeners: [{address: 127.0.1.106:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints (all intercept: false, allowed_cidrs [127.0.0.0/8] unless said):
#               pinned:  hosts [dynamodb.us-east-1.amazonaws.com],
#                        upstream vpce-good-1234...:8443, policy: deny-all.json
#               plain:   hosts [plain106.vpce.amazonaws.com], no upstream (the
#                        CONNECT host and port)
#               rectun:  hosts [record.ddbgate.test], upstream vpce-record-1234...:8443
#               guarded: hosts [guard.ddbgate.test], upstream vpce-guard-1234...:8443,
#                        allowed_cidrs [127.0.0.99/32]
#               closed:  hosts [refused.ddbgate.test], upstream 127.0.0.40:8443
#               missing: hosts [nxdomain.ddbgate.test], upstream vpce-missing106-1234...:8443
#           deny-all.json: Deny * on * (would refuse every intercepted request).
# Upstream: dnsmasq: vpce-good-1234... -> 127.0.0.21 (stunnel -> dynalite),
#           plain106.vpce.amazonaws.com -> 127.0.0.20 (dynalite, plain HTTP :8000),
#           vpce-guard-1234... -> 127.0.0.37 (recorder "guard"),
#           vpce-record-1234... -> 127.0.0.22 (recorder "record"), nothing for
#           vpce-missing106 (NXDOMAIN); 127.0.0.40: nothing listens.
# Expect:   (a) 200 with dynalite's answer though deny-all.json denies it (no
#               per-request policy in a tunnel) and curl verified the upstream's
#               own certificate (issuer "ddbgate test upstream CA"); with only the
#               gateway CA trusted curl fails (exit 60): nothing was intercepted.
#               One audit record: eventName CONNECT, decision tunnel, reason
#               "opaque tunnel (intercept: false): no per-request policy applied",
#               endpoint pinned, upstreamAddress 127.0.0.21:8443, status 200,
#               tunnelHost dynamodb.us-east-1.amazonaws.com, bytesIn/bytesOut > 0,
#               no accessKeyId; one access-log line target="CONNECT
#               dynamodb.us-east-1.amazonaws.com:443" status=200 with
#               request_bytes = bytesIn, response_bytes = bytesOut; no
#               access-log line for ListTables.
#           (b) 200, then dynalite's answer through the tunnel; the audit
#               record's bytesIn = the bytes sent, bytesOut = the bytes
#               received, exactly; upstreamAddress 127.0.0.20:8000.
#           (b2) the recorder answers 200 and received the 2 MiB request byte
#               for byte on one connection; audit bytesIn > the request's size.
#           (c) 502 as the FIRST status line (no 200 before it), Connection:
#               close, connection closed: ddbgate#DestinationIpProhibited
#               (error=destination_ip_prohibited, names 127.0.0.37 and
#               allowed_cidrs) and recorder "guard" accepted no connection;
#               ddbgate#ConnectionRefused (error=connection_refused, names
#               127.0.0.40); ddbgate#DnsError (error=dns_error, names
#               vpce-missing106-1234...). Log "opaque tunnel to ... no
#               per-request policy applies" for the 5 tunnels of (a), (b), (b2) only.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.106
H=dynamodb.us-east-1.amazonaws.com
DNS106=127.0.2.106:5353
dnsmasq_start "$DNS106" "$CASE_TMP/dnsmasq" --host-record="vpce-good-1234.$VPCE_SUFFIX,127.0.0.21" \
	--host-record="plain106.vpce.amazonaws.com,127.0.0.20" --host-record="vpce-guard-1234.$VPCE_SUFFIX,127.0.0.37" \
	--host-record="vpce-record-1234.$VPCE_SUFFIX,127.0.0.22"
cat >"$CASE_TMP/deny-all.json" <<'JSON'
{ "Version": "2012-10-17",
  "Statement": [ { "Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*" } ] }
JSON
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head "$DNS106"
	cat <<YAML
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint pinned $H "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
	printf '    intercept: false\n    policy: %s\n' "$CASE_TMP/deny-all.json"
	cat <<YAML
  - name: plain
    service: dynamodb
    hosts: [plain106.vpce.amazonaws.com]
    allowed_cidrs: [127.0.0.0/8]
    intercept: false
YAML
	lgw_endpoint rectun record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "    intercept: false"
	lgw_endpoint guarded guard.ddbgate.test "vpce-guard-1234.$VPCE_SUFFIX:$UP_PORT" | sed 's|127.0.0.0/8|127.0.0.99/32|'
	echo "    intercept: false"
	lgw_endpoint closed refused.ddbgate.test "127.0.0.40:$UP_PORT"
	echo "    intercept: false"
	lgw_endpoint missing nxdomain.ddbgate.test "vpce-missing106-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "    intercept: false"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"

step "(a) a TLS tunnel to the real upstream, its certificate verified by the client"
mark=$(log_mark "$LGW_OUT")
emark=$(log_mark "$LGW_ERR")
amark=$(cgw_audit_mark)
CGW_CA_SAVED=$CGW_CA
CGW_CA="$PKI/upstream-ca.pem" cgw_request $H DynamoDB_20120810.ListTables '{}'
expect_status 200
[ "$CONNECT_STATUS" = 200 ] || fail "CONNECT answered $CONNECT_STATUS"
expect_json "isinstance(d['TableNames'], list)" "not dynalite's ListTables answer"
cgw_audit_expect "$amark" "d.get('eventName') == 'CONNECT'" "no audit record for the tunnel"
cgw_audit_check "d['decision'] == 'tunnel' and d['reason'] == 'opaque tunnel (intercept: false): no per-request policy applied'" "decision/reason"
cgw_audit_check "d['endpoint'] == 'pinned' and d['upstreamAddress'] == '127.0.0.21:$UP_PORT' and d['status'] == 200" "endpoint/upstreamAddress/status"
cgw_audit_check "d['tunnelHost'] == '$H' and isinstance(d['bytesIn'], int) and d['bytesIn'] > 0 and isinstance(d['bytesOut'], int) and d['bytesOut'] > 0" "tunnelHost/bytes"
cgw_audit_check "'accessKeyId' not in d and isinstance(d['latencyMs'], (int, float)) and d['sourceIPAddress'].startswith('127.0.0.1:')" "accessKeyId/latencyMs/source"
read -r bin bout < <("$IT_DIR/jsonq.py" "$CASE_TMP/audit.line" "'%d %d' % (d['bytesIn'], d['bytesOut'])")
lgw_alog_expect "$mark" "target=\"CONNECT $H:443\" " 'status=200 ' "request_bytes=$bin response_bytes=$bout " \
	"upstream=127\\.0\\.0\\.21:$UP_PORT " 'endpoint=pinned '
[ "$(lgw_alog_count "$mark" 'ListTables')" = 0 ] || fail "the tunnelled ListTables has an access-log line of its own: it was intercepted"
[ "$(cgw_audit_count "$amark" "True")" = 1 ] || fail "$(cgw_audit_count "$amark" "True") audit lines for one tunnel, expected 1"
wait_log "$LGW_ERR" "$emark" "opaque tunnel to 127\\.0\\.0\\.21:$UP_PORT \\(CONNECT $H:443\\): no per-request policy applies" 30 ||
	fail "no 'opaque tunnel to 127.0.0.21:$UP_PORT (CONNECT $H:443): no per-request policy applies' log line"
timeout 10 openssl s_client -proxy "$IP:$CONNECT_PORT" -connect "$H:443" -servername "$H" -CAfile "$PKI/upstream-ca.pem" \
	-verify_return_error </dev/null >"$CASE_TMP/s_client.out" 2>&1
grep -E '^ *i:|Verify return code' "$CASE_TMP/s_client.out" | sed 's/^/  s_client: /'
grep -q '^ *i:.*CN *= *ddbgate test upstream CA' "$CASE_TMP/s_client.out" || fail "the tunnelled certificate is not issued by the upstream CA"
grep -q 'Verify return code: 0 (ok)' "$CASE_TMP/s_client.out" || fail "openssl did not verify the upstream's certificate through the tunnel"
CGW_CA=$CGW_CA_SAVED cgw_request $H DynamoDB_20120810.ListTables '{}'
grep -q '^curl: (60) ' "$CASE_TMP/curl.err" || fail "trusting only the gateway CA, curl did not fail certificate verification (exit 60): $(cat "$CASE_TMP/curl.err")"

step "(b) a plain tunnel, no upstream configured: exact byte counts"
build_request plain106.vpce.amazonaws.com DynamoDB_20120810.ListTables '{}' --header 'Connection: close' >"$CASE_TMP/plain.req"
amark=$(cgw_audit_mark)
proxy_send 'CONNECT plain106.vpce.amazonaws.com:8000 HTTP/1.1\r\nHost: plain106.vpce.amazonaws.com:8000\r\n\r\n' \
	--tunnel-send "$CASE_TMP/plain.req" --tunnel-out "$CASE_TMP/plain.resp"
expect_status 200
head -n 1 "$CASE_TMP/plain.resp" | grep -q '^HTTP/1.1 200 ' || fail "no 200 from dynalite through the tunnel: $(head -c 300 "$CASE_TMP/plain.resp")"
grep -q '"TableNames"' "$CASE_TMP/plain.resp" || fail "not dynalite's ListTables answer: $(head -c 500 "$CASE_TMP/plain.resp")"
sent=$(stat -c %s "$CASE_TMP/plain.req")
got=$(stat -c %s "$CASE_TMP/plain.resp")
cgw_audit_expect "$amark" "d.get('eventName') == 'CONNECT' and d.get('endpoint') == 'plain'" "no audit record for the plain tunnel"
cgw_audit_check "d['bytesIn'] == $sent and d['bytesOut'] == $got" "bytesIn/bytesOut are not the $sent bytes sent / $got received"
cgw_audit_check "d['upstreamAddress'] == '127.0.0.20:8000' and d['tunnelHost'] == 'plain106.vpce.amazonaws.com'" "upstreamAddress/tunnelHost"
echo "bytesIn $sent, bytesOut $got: exact"

step "(b2) 2 MiB through a TLS tunnel (the relay's back-pressure)"
/usr/bin/python3 - "$CASE_TMP/big.req" <<'PY'
import sys
body = b'{"TableName":"big","Item":{"pk":{"S":"BIG-TUNNEL-BODY-' + b"x" * (2 * 1024 * 1024) + b'"}}}'
head = ("POST / HTTP/1.1\r\nHost: record.ddbgate.test\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"
        "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n" % len(body)).encode()
open(sys.argv[1], "wb").write(head + body)
PY
amark=$(cgw_audit_mark)
rr0=$(rec_mark record)
proxy_send 'CONNECT record.ddbgate.test:443 HTTP/1.1\r\nHost: record.ddbgate.test:443\r\n\r\n' \
	--tls --sni record.ddbgate.test --cafile "$PKI/upstream-ca.pem" --request "$CASE_TMP/big.req" --timeout 15
grep -q '"phase": "tls"' "$CASE_TMP/proxy.jsonl" || fail "no TLS with the recorder through the tunnel"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_from record
rec_expect_bytes record "$CASE_TMP/big.req"
big=$(stat -c %s "$CASE_TMP/big.req")
cgw_audit_expect "$amark" "d.get('eventName') == 'CONNECT' and d.get('endpoint') == 'rectun'" "no audit record for the big tunnel"
cgw_audit_check "d['bytesIn'] > $big and 0 < d['bytesOut'] < 65536" "bytesIn is not above the $big request bytes (TLS adds to them), or bytesOut is off"
[ "$(rec_conns_since record "$rr0" | wc -l)" = 1 ] || fail "the recorder got $(rec_conns_since record "$rr0" | wc -l) connections, expected 1"

step "(c) upstream failures are answered before any 200"
rg0=$(rec_mark guard)
# tunnel_fails TARGET TYPE PS-ERROR MESSAGE-REGEX...
tunnel_fails() {
	local target=$1
	shift
	proxy_send "CONNECT $target HTTP/1.1\r\nHost: $target\r\n\r\n"
	[ "$(head -n 1 "$CASE_TMP/resp.headers" | tr -d '\r')" = "HTTP/1.1 502 Bad Gateway" ] ||
		fail "CONNECT $target: the first line is '$(head -n 1 "$CASE_TMP/resp.headers")', expected 'HTTP/1.1 502 Bad Gateway'"
	expect_proxy_error 502 "$@"
	[ "$(header Connection)" = close ] || fail "the 502 has no 'Connection: close'"
	expect_closed
}
tunnel_fails guard.ddbgate.test:443 DestinationIpProhibited destination_ip_prohibited '127\.0\.0\.37' 'allowed_cidrs'
tunnel_fails refused.ddbgate.test:443 ConnectionRefused connection_refused '127\.0\.0\.40'
tunnel_fails nxdomain.ddbgate.test:443 DnsError dns_error "vpce-missing106-1234\\.$VPCE_SUFFIX"
rec_expect_no_connection guard "$rg0"
n=$(log_since "$LGW_ERR" "$emark" | grep -c 'opaque tunnel to ')
[ "$n" = 5 ] || fail "$n 'opaque tunnel to' log lines, expected 5 ((a) curl twice and s_client, (b), (b2)); a failed tunnel must not be logged as opened"

step "the case-local gateway stops cleanly"
lgw_stop
