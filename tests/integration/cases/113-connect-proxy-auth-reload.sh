# needs: gateway
# timeout: 60
#
# Proxy authentication, continued: the users file is read again on reload
# (a user added can connect, a user removed cannot, even one whose
# credential the gateway remembers); the Basic scheme name is matched
# without regard to case (RFC 9110 section 11.1); an opaque tunnel's audit
# record names the proxy user.
# Client:   proxyclient.py and curl -x http://127.0.1.113:3128:
#           (a) alice (right password) signed ListTables; "Proxy-Authorization:
#               basic ..." (lower-case scheme) and "BASIC ..." for alice; a
#               tunnel (CONNECT pinned113.ddbgate.test:8000, one plain request
#               through it) as alice.
#           (b) after `ddbgate passwd carol` was appended and alice's line
#               removed, SIGHUP: carol, then alice again (her credential was
#               accepted seconds ago, within the 5-minute memory).
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.113:3128, mode: connect,
#                          proxy_auth_users: <case>/proxy-users}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#                          upstream: vpce-good-1234...:8443},
#                         {name: pinned, hosts: [pinned113.ddbgate.test],
#                          upstream: 127.0.0.20:8000, intercept: false}]
# Upstream: stunnel4 -> dynalite; dynalite's plain HTTP port for the tunnel.
# Expect:   (a) 200 each time (audit proxyUser alice); "basic"/"BASIC": 200
#               (CONNECT answered 200); the tunnel's audit record: eventName
#               CONNECT, decision tunnel, proxyUser alice, and the gateway's
#               "opaque tunnel to 127.0.0.20:8000 (CONNECT
#               pinned113.ddbgate.test:8000, user alice)" log line.
#           (b) "reloaded: serving generation 2"; carol: 200 (audit proxyUser
#               carol); alice: 407 with "proxy authentication refused: unknown
#               user or wrong password" in the log.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.113
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
USERS="$CASE_TMP/proxy-users"
printf 'alice-pw-113' | "$DDBGATE" passwd alice >"$USERS" || fail "ddbgate passwd alice"
printf 'bob-pw-113' | "$DDBGATE" passwd bob >>"$USERS" || fail "ddbgate passwd bob"
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
    proxy_auth_users: $USERS
endpoints:
YAML
	lgw_endpoint ddb $H "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
	lgw_endpoint pinned pinned113.ddbgate.test "127.0.0.20:8000"
	echo "    intercept: false"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
b64() { printf '%s' "$1" | base64 -w0; }
build_request $H $P.ListTables '{}' >"$CASE_TMP/req"

step "(a) alice; the scheme name in other cases; a tunnel as alice"
amark=$(cgw_audit_mark)
CURL_PROXY="http://alice:alice-pw-113@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
expect_status 200
cgw_audit_expect "$amark" "d.get('eventName') == 'ListTables'" "no audit line for alice's ListTables"
cgw_audit_check "d['proxyUser'] == 'alice'" "proxyUser"
for scheme in basic BASIC; do
	proxy_send "CONNECT $H:443 HTTP/1.1\r\nHost: $H:443\r\nProxy-Authorization: $scheme $(b64 alice:alice-pw-113)\r\n\r\n" \
		--tls --sni $H --cafile "$CGW_CA" --request "$CASE_TMP/req"
	"$IT_DIR/jsonq.py" <(head -n 1 "$CASE_TMP/proxy.jsonl") "d['status'] == 200" >/dev/null ||
		fail "'Proxy-Authorization: $scheme ...' was refused (auth-scheme names are case-insensitive, RFC 9110 11.1): $(head -c 300 "$CASE_TMP/proxy.jsonl")"
	expect_status 200
done
build_request pinned113.ddbgate.test $P.ListTables '{}' --header 'Connection: close' >"$CASE_TMP/plain.req"
amark=$(cgw_audit_mark)
emark=$(log_mark "$LGW_ERR")
proxy_send "CONNECT pinned113.ddbgate.test:8000 HTTP/1.1\r\nHost: pinned113.ddbgate.test:8000\r\nProxy-Authorization: Basic $(b64 alice:alice-pw-113)\r\n\r\n" \
	--tunnel-send "$CASE_TMP/plain.req" --tunnel-out "$CASE_TMP/plain.resp"
expect_status 200
cgw_audit_expect "$amark" "d.get('eventName') == 'CONNECT'" "no audit record for the tunnel"
cgw_audit_check "d['decision'] == 'tunnel' and d['proxyUser'] == 'alice' and d['tunnelHost'] == 'pinned113.ddbgate.test'" "the tunnel's audit record"
wait_log "$LGW_ERR" "$emark" 'opaque tunnel to 127\.0\.0\.20:8000 \(CONNECT pinned113\.ddbgate\.test:8000, user alice\): no per-request policy applies' 30 ||
	fail "no 'opaque tunnel to 127.0.0.20:8000 (CONNECT pinned113.ddbgate.test:8000, user alice)' log line"

step "(b) reload: carol added, alice removed"
grep -v '^alice:' "$USERS" >"$USERS.new"
printf 'carol-pw-113' | "$DDBGATE" passwd carol >>"$USERS.new" || fail "ddbgate passwd carol"
mv "$USERS.new" "$USERS"
cat "$USERS" | cut -c1-40
emark=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
line=$(wait_log "$LGW_ERR" "$emark" 'reloaded: serving generation 2 |reload (failed|refused)' 50) || fail "no reload result in the log after SIGHUP"
echo "log: $line"
[[ $line == *"reloaded: serving generation 2 "* ]] || fail "the reload did not apply: $line"
amark=$(cgw_audit_mark)
CURL_PROXY="http://carol:carol-pw-113@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
[ "$CONNECT_STATUS" = 200 ] || fail "carol (added to the users file before the reload): CONNECT answered $CONNECT_STATUS"
expect_status 200
cgw_audit_expect "$amark" "d.get('eventName') == 'ListTables'" "no audit line for carol's ListTables"
cgw_audit_check "d['proxyUser'] == 'carol'" "proxyUser"
emark=$(log_mark "$LGW_ERR")
CURL_PROXY="http://alice:alice-pw-113@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
[ "$CONNECT_STATUS" = 407 ] || fail "alice (removed from the users file before the reload): CONNECT answered $CONNECT_STATUS, expected 407"
wait_log "$LGW_ERR" "$emark" 'proxy authentication refused: unknown user or wrong password$' 30 >/dev/null ||
	fail "no 'proxy authentication refused' log line for alice"

step "the case-local gateway stops cleanly"
lgw_stop
