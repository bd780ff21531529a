# needs: gateway
# timeout: 40
#
# A reload adds and removes listeners without dropping other connections.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway: first 127.0.1.136, then also 127.0.2.136;
#           a kept-alive /usr/bin/python3 connection on 127.0.1.136 across
#           both reloads.
# Config:   gen 1: listeners [127.0.1.136:443 sni]; gen 2: + 127.0.2.136:443;
#           gen 3: only 127.0.2.136:443.  Endpoint rl136 → recorder "record".
# Expect:   gen 2: "reload: new listener 127.0.2.136:443 (sni mode)",
#           "reloaded: serving generation 2"; 200 via both addresses.
#           gen 3: "listener 127.0.1.136:443 closed by the reload"; a new
#           connection to 127.0.1.136 is refused; 200 via 127.0.2.136; the
#           kept-alive connection opened on 127.0.1.136 before both reloads
#           is still answered (400: its made-up signature is denied — the
#           answer shows the connection was never dropped).  Last: exit 0 on SIGTERM.
. "$IT_DIR/service_lib.sh"

A=127.0.1.136
B=127.0.2.136
cfg="$CASE_TMP/ddbgate.yaml"
write_cfg() { # addresses...
	{
		svc_head "$1" | sed '/^listeners:/,/^tls:/{/^tls:/!d}' | sed 's/^tls:/LISTENERS\ntls:/'
		echo "endpoints:"
		lgw_endpoint rl136 record.ddbgate.test "127.0.0.22:$UP_PORT"
	} >"$cfg.tmp"
	local ls="listeners:" ip
	for ip in "$@"; do ls="$ls\n  - address: $ip:$GW_PORT\n    mode: sni"; done
	sed "s|^LISTENERS\$|$ls|" "$cfg.tmp" >"$cfg"
}
write_cfg $A
grep -q "address: $A:$GW_PORT" "$cfg" || fail "could not write $cfg"
lgw_start $A "$cfg"

# A kept-alive client on A: one request now, one after each reload.
/usr/bin/python3 - "$A" "$GW_PORT" "$PKI/gw-ca.pem" "$CASE_TMP/ka" <<'PY' &
import http.client, os, ssl, sys, time
ip, port, ca, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.makedirs(d, exist_ok=True)
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection(ip, port, context=ctx, timeout=10)
c.sock = ctx.wrap_socket(__import__('socket').create_connection((ip, port), timeout=10), server_hostname="record.ddbgate.test")
hdr = {"Host": "record.ddbgate.test", "Content-Type": "application/x-amz-json-1.0",
       "X-Amz-Target": "DynamoDB_20120810.ListTables",
       "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
       "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}
for i in range(3):
    while i > 0 and not os.path.exists(f"{d}/go{i}"):
        time.sleep(0.05)
    c.request("POST", "/", body=b"{}", headers=hdr)
    r = c.getresponse(); r.read()
    open(f"{d}/r{i}", "w").write(str(r.status))
PY
KA=$!
wait_file() { for _ in $(seq 1 100); do [ -f "$1" ] && return 0; sleep 0.1; done; fail "no $1"; }
wait_file "$CASE_TMP/ka/r0"
[ "$(cat "$CASE_TMP/ka/r0")" = 400 ] || fail "kept-alive request 1 got $(cat "$CASE_TMP/ka/r0")"

step "generation 2 adds $B"
write_cfg $A $B
m=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
wait_log "$LGW_ERR" "$m" 'reloaded: serving generation 2' 30 || fail "no generation 2"
grep -q "reload: new listener $B:$GW_PORT (sni mode)" "$LGW_ERR" || fail "no 'new listener' line"
for ip in $A $B; do
	GW_IP=$ip gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_status 200
done
touch "$CASE_TMP/ka/go1"; wait_file "$CASE_TMP/ka/r1"
# its made-up signature is denied (400): the answer proves the connection lives
[ "$(cat "$CASE_TMP/ka/r1")" = 400 ] || fail "kept-alive request 2 got $(cat "$CASE_TMP/ka/r1")"

step "generation 3 removes $A"
write_cfg $B
m=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
wait_log "$LGW_ERR" "$m" 'reloaded: serving generation 3' 30 || fail "no generation 3"
wait_log "$LGW_ERR" "$m" "listener $A:$GW_PORT closed by the reload" 30 || fail "no 'closed by the reload' line"
if curl -s -o /dev/null --max-time 5 --resolve "record.ddbgate.test:$GW_PORT:$A" \
	--cacert "$PKI/gw-ca.pem" "https://record.ddbgate.test:$GW_PORT/"; then
	fail "a new connection to $A still succeeds"
fi
GW_IP=$B gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200
touch "$CASE_TMP/ka/go2"; wait_file "$CASE_TMP/ka/r2"
[ "$(cat "$CASE_TMP/ka/r2")" = 400 ] || fail "kept-alive request 3 got $(cat "$CASE_TMP/ka/r2")"
wait "$KA" || fail "the kept-alive client failed"
lgw_stop
