# needs: gateway
# timeout: 90
#
# Proxy authentication on a connect listener: a users file written by
# `ddbgate passwd` (password on standard input), Basic credentials checked
# before anything else, 407 with a Proxy-Authenticate challenge otherwise,
# the user named in the audit records.
# Client:   `printf PW | ddbgate passwd USER` for alice (password
#           "alice-pw-104") and bob (password "b:ob pw", with a colon and a
#           space); then proxyclient.py (exact bytes) and curl -x to
#           127.0.1.104:3128:
#           (a) CONNECT with no Proxy-Authorization; (b) malformed: "Bearer
#           x", "Basic !!!" (not base64), Basic of "alicepw" (no colon);
#           (c) wrong: alice with a wrong password, an unknown user; two
#           Proxy-Authorization headers (400); (d) right: curl -x
#           http://alice:alice-pw-104@... signed ListTables, curl -x
#           http://bob:b%3Aob%20pw@... (URL-encoded) PutItem; (e) alice's
#           right password once more, then the wrong one again (a remembered
#           credential must not let a wrong password in); curl -x with a
#           wrong password.
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.104:3128, mode: connect,
#                          proxy_auth_users: <case>/proxy-users}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443}]
# Upstream: stunnel4 -> dynalite.
# Expect:   passwd: exit 0, one line "USER:$scrypt$ln=15,r=8,p=1$SALT$KEY" each;
#           a user name with ":" is refused (exit 1) and prints nothing.
#           (a)-(c) 407 ddbgate#ProxyAuthenticationRequired,
#           Proxy-Status error=http_request_denied, the header
#           'Proxy-Authenticate: Basic realm="ddbgate", charset="UTF-8"',
#           Connection: close, connection closed; gateway log "proxy
#           authentication missing" / "... malformed" / "... refused: unknown
#           user or wrong password"; audit decision error, status 407, no
#           proxyUser. The duplicate header: 400 "Proxy-Authorization is
#           repeated". Nothing reached dynalite's front (no new stunnel
#           connection) during (a)-(c).
#           (d) 200 with dynalite's answers; the audit lines of the tunnelled
#           requests carry "proxyUser": "alice" / "bob".
#           (e) 200, then 407 refused; curl: exit 56, %{http_connect} 407.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.104
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
USERS="$CASE_TMP/proxy-users"

step "ddbgate passwd (password on standard input)"
printf 'alice-pw-104' | "$DDBGATE" passwd alice >"$USERS" 2>"$CASE_TMP/passwd.err" || fail "ddbgate passwd alice failed: $(cat "$CASE_TMP/passwd.err")"
printf 'b:ob pw\n' | "$DDBGATE" passwd bob >>"$USERS" 2>"$CASE_TMP/passwd.err" || fail "ddbgate passwd bob failed: $(cat "$CASE_TMP/passwd.err")"
cat "$USERS"
[ "$(wc -l <"$USERS")" = 2 ] || fail "the users file has $(wc -l <"$USERS") lines, expected 2"
grep -Eq '^alice:\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$' "$USERS" || fail "alice's line is not USER:\$scrypt\$ln=15,r=8,p=1\$SALT\$KEY"
grep -Eq '^bob:\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$' "$USERS" || fail "bob's line is not USER:\$scrypt\$ln=15,r=8,p=1\$SALT\$KEY"
out=$(printf 'x' | "$DDBGATE" passwd 'bad:user' 2>"$CASE_TMP/passwd.err")
rc=$?
echo "passwd bad:user: exit $rc, stdout '$out', stderr $(cat "$CASE_TMP/passwd.err")"
[ "$rc" = 1 ] && [ -z "$out" ] || fail "ddbgate passwd 'bad:user': exit $rc, stdout '$out'; expected exit 1 and nothing printed"

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
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg"
STUNNEL_LOG="$T/logs/stunnel.err"
st0=$(grep -c 'accepted connection' "$STUNNEL_LOG")

b64() { printf '%s' "$1" | base64 -w0; }
CONNECT_HEAD="CONNECT $H:443 HTTP/1.1\r\nHost: $H:443\r\n"

# denied407 WHY LOG-RE [HEADER-LINES] — a CONNECT with those header lines
# gets the 407, the challenge, a closed connection, the log line WHY.
denied407() {
	local why=$1 logre=$2 extra=${3:-} emark amark
	emark=$(log_mark "$LGW_ERR")
	amark=$(cgw_audit_mark)
	proxy_send "$CONNECT_HEAD$extra\r\n"
	expect_proxy_error 407 ProxyAuthenticationRequired http_request_denied
	[ "$(header Proxy-Authenticate)" = 'Basic realm="ddbgate", charset="UTF-8"' ] ||
		fail "Proxy-Authenticate is '$(header Proxy-Authenticate)', expected 'Basic realm=\"ddbgate\", charset=\"UTF-8\"'"
	[ "$(header Connection)" = close ] || fail "the 407 has no 'Connection: close'"
	expect_closed
	line=$(wait_log "$LGW_ERR" "$emark" "\\[reading CONNECT request\\]: $logre\$" 30) ||
		fail "$why: no '$logre' in the gateway's log"
	echo "log: $line"
	cgw_audit_expect "$amark" "d.get('status') == 407" "$why: no audit line"
	cgw_audit_check "d['decision'] == 'error' and 'proxyUser' not in d" "$why: the audit line"
}

step "(a) no credentials"
denied407 missing 'proxy authentication missing'
step "(b) malformed credentials"
denied407 bearer 'proxy authentication malformed' 'Proxy-Authorization: Bearer x\r\n'
denied407 not-base64 'proxy authentication malformed' 'Proxy-Authorization: Basic !!!\r\n'
denied407 no-colon 'proxy authentication malformed' "Proxy-Authorization: Basic $(b64 alicepw)\r\n"
step "(c) wrong credentials"
denied407 wrong-password 'proxy authentication refused: unknown user or wrong password' \
	"Proxy-Authorization: Basic $(b64 alice:wrong-pw)\r\n"
denied407 unknown-user 'proxy authentication refused: unknown user or wrong password' \
	"Proxy-Authorization: Basic $(b64 carol:alice-pw-104)\r\n"
proxy_send "${CONNECT_HEAD}Proxy-Authorization: Basic $(b64 alice:alice-pw-104)\r\nProxy-Authorization: Basic $(b64 alice:alice-pw-104)\r\n\r\n"
expect_proxy_error 400 BadRequest http_request_error '^Proxy-Authorization is repeated$'
expect_closed
sleep 0.2
st1=$(grep -c 'accepted connection' "$STUNNEL_LOG")
[ "$st1" = "$st0" ] || fail "dynalite's front accepted $((st1 - st0)) connection(s) during the refused CONNECTs"

step "(d) right credentials: alice, bob (password with ':' and ' ')"
amark=$(cgw_audit_mark)
CURL_PROXY="http://alice:alice-pw-104@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
expect_status 200
[ "$CONNECT_STATUS" = 200 ] || fail "CONNECT with alice's credentials answered $CONNECT_STATUS"
expect_json "isinstance(d['TableNames'], list)" "ListTables did not return dynalite's answer"
cgw_audit_expect "$amark" "d.get('eventName') == 'ListTables'" "no audit line for alice's ListTables"
cgw_audit_check "d['proxyUser'] == 'alice' and d['decision'] == 'allow' and d['status'] == 200" "alice's audit line"
TB="Auth$(unique)"
direct_ddb $P.CreateTable "{\"TableName\":\"$TB\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}"
expect_status 200
amark=$(cgw_audit_mark)
CURL_PROXY="http://bob:b%3Aob%20pw@$IP:$CONNECT_PORT" cgw_request $H $P.PutItem \
	"{\"TableName\":\"$TB\",\"Item\":{\"pk\":{\"S\":\"k\"},\"v\":{\"S\":\"SECRET-ITEM-VALUE-proxy-auth\"}}}"
expect_status 200
cgw_audit_expect "$amark" "d.get('eventName') == 'PutItem'" "no audit line for bob's PutItem"
cgw_audit_check "d['proxyUser'] == 'bob' and d['decision'] == 'allow' and d['status'] == 200" "bob's audit line"
direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"k\"}},\"ConsistentRead\":true}"
expect_json "d['Item']['v']['S'] == 'SECRET-ITEM-VALUE-proxy-auth'" "bob's PutItem did not reach dynalite"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"

step "(e) a remembered credential lets no wrong password in"
CURL_PROXY="http://alice:alice-pw-104@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
expect_status 200
denied407 wrong-after-right 'proxy authentication refused: unknown user or wrong password' \
	"Proxy-Authorization: Basic $(b64 alice:alice-pw-10)\r\n"
CURL_PROXY="http://alice:wrong@$IP:$CONNECT_PORT" cgw_request $H $P.ListTables '{}'
[ "$CONNECT_STATUS" = 407 ] || fail "curl with a wrong password: CONNECT answered $CONNECT_STATUS, expected 407"
grep -q 'CONNECT tunnel failed, response 407' "$CASE_TMP/curl.err" || fail "curl did not report the 407: $(cat "$CASE_TMP/curl.err")"

cgw_expect_no_item_data
step "the case-local gateway stops cleanly"
lgw_stop
