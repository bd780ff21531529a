# needs: gateway
# timeout: 60
#
# HTTP/2 by ALPN on every kind of listener that terminates TLS, with real
# clients: h2 when the client offers it (listeners[].http2 defaults to
# true), http/1.1 when the client offers only that or nothing, http/1.1
# only where http2: false; each stream goes the HTTP/1.1 way upstream.
# Client:   (a) `h2client.py alpn` (Python ssl) offering h2,http/1.1 / h2 /
#           http/1.1 to each listener; openssl s_client -alpn h2,http/1.1
#           direct and through the connect listener (-proxy).
#           (b) curl -v, signed ListTables to https://record.ddbgate.test/:
#           --http2 to the sni, transparent and (-x) connect listeners and to
#           the http2: false one; --http1.1; --http1.1 --no-alpn.
#           (c) h2client.py: one HEADERS + DATA stream with a marker field.
#           (d) nghttp -m 4 (four concurrent streams, one connection), a
#           private /etc/hosts for the name.
#           (e) the AWS SDK for JavaScript v3 with NodeHttp2Handler
#           (h2_js_sdk.js: node's http2 offers only h2), no endpoint, the
#           case CA in NODE_EXTRA_CA_CERTS, a private /etc/hosts mapping
#           dynamodb.us-east-1.amazonaws.com to 127.0.1.140: CreateTable,
#           waitUntilTableExists, PutItem, GetItem, 4 GetItem at once,
#           DeleteItem (denied); then the same SDK at :9443 (http2: false).
# Config:   case-local ddbgate, account "111122223333", its CA (`ddbgate ca
#           init`), audit log in a file:
#             listeners: [{address: 127.0.1.140:443, mode: sni},
#                         {address: 127.0.1.140:8443, mode: transparent},
#                         {address: 127.0.1.140:3128, mode: connect},
#                         {address: 127.0.1.140:9443, mode: sni, http2: false}]
#             endpoints: [{name: rec140, hosts: [record.ddbgate.test],
#                          upstream: 127.0.3.140:8443},
#                         {name: ddb140, hosts: [dynamodb.us-east-1.amazonaws.com],
#                          upstream: vpce-good-1234...:8443, policy: Allow
#                          CreateTable/DescribeTable/PutItem/GetItem on the
#                          table, Deny (Sid NoDeletes) DeleteItem}]
# Upstream: case-local recorder "c140" (127.0.3.140:8443); stunnel4 -> dynalite.
# Expect:   (a) h2 / h2 / http/1.1 on the sni and transparent listeners and
#           through CONNECT ("ALPN protocol: h2"); http/1.1 / "alert"
#           (no_application_protocol) / http/1.1 on the http2: false one.
#           (b) 200 from the recorder every time; %{http_version} 2 and "ALPN:
#           server accepted h2" for --http2 (sni, transparent, connect), 1.1
#           and http/1.1 on the http2: false listener and for --http1.1, no
#           ALPN for --no-alpn; access-log lines: h2_stream=1 on the HTTP/2
#           ones only.
#           (c) the recorder received exactly "POST / HTTP/1.1", "Host:
#           record.ddbgate.test" (from :authority), the regular fields in
#           their order and case, "Content-Length: 2" (the DATA's length,
#           the client's content-length field dropped), then the body.
#           (d) four ":status: 200" on one connection, four access-log lines
#           with four different h2_stream= values (nghttp's ids), one client.
#           (e) dynalite's data; DeleteItem AccessDeniedException, HTTP 400,
#           attempts 1, the IAM explicit-deny message; audit deny/NoDeletes;
#           every access-log line of the walk with h2_stream=, some with
#           h2_stream >= 3 (a connection kept for several streams); the item
#           is still in dynalite.  At :9443 the SDK fails (no h2 there).
#           No item data in any log.  Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/h2_lib.sh"
need_unshare
IP=127.0.1.140
H=record.ddbgate.test
D=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
TB="H2Js$(unique)"
ARN="arn:aws:dynamodb:us-east-1:111122223333:table/$TB"
VAL="SECRET-ITEM-VALUE-h2-js-sdk-$(unique)"
rec_start c140 127.0.3.140

cat >"$CASE_TMP/policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "JsTable", "Effect": "Allow", "Principal": "*",
      "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem"],
      "Resource": "$ARN" },
    { "Sid": "NoDeletes", "Effect": "Deny", "Principal": "*",
      "Action": "dynamodb:DeleteItem", "Resource": "*" }
  ]
}
JSON
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
account: "111122223333"
listeners:
  - address: $IP:$GW_PORT
    mode: sni
  - address: $IP:$TRANSPARENT_PORT
    mode: transparent
  - address: $IP:$CONNECT_PORT
    mode: connect
  - address: $IP:9443
    mode: sni
    http2: false
endpoints:
YAML
	lgw_endpoint rec140 $H "127.0.3.140:$UP_PORT"
	lgw_endpoint ddb140 $D "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "    policy: $CASE_TMP/policy.json"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg" $GW_PORT
for p in $TRANSPARENT_PORT $CONNECT_PORT 9443; do
	wait_port $IP $p "$LGW_PID" || fail "the listener $IP:$p does not listen"
done
H2_CA=$CGW_CA

step "(a) ALPN"
alpn() { # PORT OFFER WANT
	local got
	got=$(/usr/bin/python3 -B "$IT_DIR/h2client.py" alpn --connect "$IP:$1" --sni $H --cafile "$CGW_CA" --offer "$2")
	echo "listener :$1, client offers $2: $got"
	# shellcheck disable=SC2254 # WANT is a pattern on purpose ("alert: *")
	case "$got" in
	$3) ;;
	*) fail "listener :$1, ALPN offer $2: got '$got', expected '$3'" ;;
	esac
}
for p in $GW_PORT $TRANSPARENT_PORT; do
	alpn $p h2,http/1.1 h2
	alpn $p h2 h2
	alpn $p http/1.1 http/1.1
done
alpn 9443 h2,http/1.1 http/1.1
alpn 9443 http/1.1 http/1.1
alpn 9443 h2 'alert: *'
sc() { # NAME ARGS...
	local name=$1
	shift
	timeout 10 openssl s_client -servername $H -CAfile "$CGW_CA" -alpn h2,http/1.1 "$@" </dev/null >"$CASE_TMP/sc.$name" 2>&1
	grep -E '^ALPN protocol:|^No ALPN|Verify return code' "$CASE_TMP/sc.$name" | sed "s/^/s_client $name: /"
}
sc sni -connect "$IP:$GW_PORT"
grep -q '^ALPN protocol: h2$' "$CASE_TMP/sc.sni" || fail "s_client -alpn h2,http/1.1 on the sni listener: no 'ALPN protocol: h2'"
sc connect -proxy "$IP:$CONNECT_PORT" -connect "$H:443"
grep -q '^ALPN protocol: h2$' "$CASE_TMP/sc.connect" || fail "s_client through CONNECT: no 'ALPN protocol: h2'"
sc noh2 -connect "$IP:9443"
grep -q '^ALPN protocol: http/1.1$' "$CASE_TMP/sc.noh2" || fail "s_client on the http2: false listener: no 'ALPN protocol: http/1.1'"

step "(b) curl"
# want STATUS VERSION ALPN — the last h2curl, answered by the recorder
want() {
	[ "$RESP_STATUS" = "$1" ] || { show_response; fail "expected $1, got $RESP_STATUS"; }
	[ "$HTTP_VERSION" = "$2" ] || { show_response; fail "expected HTTP/$2, got HTTP/$HTTP_VERSION"; }
	[ "$ALPN" = "$3" ] || { grep ALPN "$CASE_TMP/curl.err"; fail "expected ALPN '$3', got '$ALPN'"; }
	case "$(header x-amzn-RequestId)" in rec-c140-*) ;; *) show_response; fail "the answer is not the recorder's" ;; esac
}
mark=$(log_mark "$LGW_OUT")
h2curl $IP $GW_PORT $H --http2
want 200 2 h2
lgw_alog_expect "$mark" 'endpoint=rec140 ' 'status=200' "upstream=127\\.0\\.3\\.140:$UP_PORT " 'h2_stream=1$'
mark=$(log_mark "$LGW_OUT")
h2curl $IP $GW_PORT $H --http1.1
want 200 1.1 http/1.1
h2curl $IP $GW_PORT $H --http1.1 --no-alpn
want 200 1.1 -
sleep 0.3
n=$(lgw_alog_count "$mark" 'h2_stream=')
[ "$n" = 0 ] || fail "an HTTP/1.1 request's access-log line carries h2_stream="
h2curl $IP 9443 $H --http2
want 200 1.1 http/1.1
h2curl $IP $TRANSPARENT_PORT $H --http2
want 200 2 h2
h2curl $IP 443 $H --http2 -x "http://$IP:$CONNECT_PORT"
want 200 2 h2
grep -q '^< HTTP/1.1 200 Connection established' "$CASE_TMP/curl.err" || grep -q '^< HTTP/1.1 200' "$CASE_TMP/curl.err" ||
	fail "curl -x did not go through a CONNECT 200"

step "(c) the HTTP/1.1 request the upstream receives"
mk="marker-h2-bytes-$(unique)"
H2_ADDR=$IP:$GW_PORT H2_SNI=$H h2py "$mk" "$CASE_TMP/want.bytes" <<'PY' || fail "see above"
import os, sys, h2client
mk, out = sys.argv[1], sys.argv[2]
c = h2client.Conn(os.environ["H2_ADDR"], os.environ["H2_SNI"], os.environ["H2_CA"])
c.preface()
body = b"{}"
hdrs = h2client.ddb_headers(os.environ["H2_SNI"], "ListTables", body, extra=[("x-h2test-marker", mk)])
sid = c.request(hdrs, body)
ok = c.wait([sid], 10)
s = c.streams[sid]
print("stream %d: %s" % (sid, s.summary()))
if not ok or s.status != 200:
    print(c.dump())
    sys.exit(1)
# what the HTTP/1.1 side must be given: request line, Host from :authority,
# the regular fields in order (content-length dropped), Content-Length of the DATA
lines = ["POST / HTTP/1.1", "Host: " + os.environ["H2_SNI"]]
lines += ["%s: %s" % (n, v) for n, v in hdrs if not n.startswith(":") and n != "content-length"]
lines += ["Content-Length: %d" % len(body)]
open(out, "wb").write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
PY
rec_expect_bytes c140 "$CASE_TMP/want.bytes"

step "(d) nghttp: four streams at once"
printf '127.0.0.1 localhost\n%s %s\n' $IP $H >"$CASE_TMP/hosts"
h2py >"$CASE_TMP/nghttp.args" <<'PY'
import h2client
for n, v in h2client.ddb_headers("record.ddbgate.test", "ListTables", b"{}"):
    if not n.startswith(":") and n != "content-length":
        print("-H\n%s: %s" % (n, v))
PY
printf '{}' >"$CASE_TMP/body.json"
mapfile -t nargs <"$CASE_TMP/nghttp.args"
mark=$(log_mark "$LGW_OUT")
with_private_hosts "$CASE_TMP/hosts" env SSL_CERT_FILE="$CGW_CA" timeout 20 nghttp -v -n -t 10 -m 4 \
	-d "$CASE_TMP/body.json" "${nargs[@]}" "https://$H/" >"$CASE_TMP/nghttp.out" 2>&1
echo "nghttp exit $?"
grep -E 'recv \(stream_id=[0-9]+\) :status|recv GOAWAY|recv RST_STREAM|ALPN|h2' "$CASE_TMP/nghttp.out" | head -n 20 | sed 's/^/  /'
n=$(grep -cE 'recv \(stream_id=[0-9]+\) :status: 200' "$CASE_TMP/nghttp.out")
[ "$n" = 4 ] || { tail -n 40 "$CASE_TMP/nghttp.out"; fail "nghttp -m 4 got $n ':status: 200', expected 4"; }
sleep 0.3
log_since "$LGW_OUT" "$mark" | sed 's/^/  access log: /'
n=$(log_since "$LGW_OUT" "$mark" | grep 'endpoint=rec140 ' | grep 'status=200' | grep -oE 'h2_stream=[0-9]+$' | sort -u | wc -l)
[ "$n" = 4 ] || fail "expected four access-log lines with status=200 and four different h2_stream= values, got $n"
ports=$(log_since "$LGW_OUT" "$mark" | grep -o 'client=[^ ]*' | sort -u)
[ "$(echo "$ports" | wc -l)" = 1 ] || fail "nghttp's four streams came from several client connections: $ports"

step "(e) the AWS SDK for JavaScript v3 over HTTP/2"
printf '127.0.0.1 localhost\n%s %s\n' $IP $D >"$CASE_TMP/hosts.ddb"
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
with_private_hosts "$CASE_TMP/hosts.ddb" env NODE_EXTRA_CA_CERTS="$CGW_CA" node "$IT_DIR/h2_js_sdk.js" \
	--table "$TB" --value "$VAL" --denied-arn "$ARN" || fail "the JS SDK over HTTP/2: see above"
for t in CreateTable PutItem GetItem; do
	lgw_alog_expect "$mark" "target=$P\\.$t " 'status=200' "endpoint=ddb140 host=$D " "upstream=127\\.0\\.0\\.21:$UP_PORT " 'h2_stream=[0-9]+$'
done
lgw_alog_expect "$mark" "target=$P\\.DeleteItem " 'status=400' 'upstream=- ' 'h2_stream=[0-9]+$'
cgw_audit_expect "$amark" "d.get('eventName') == 'DeleteItem'" "no audit line for the DeleteItem"
cgw_audit_check "d['decision'] == 'deny' and d['decidingStatement'] == 'NoDeletes' and d['status'] == 400 and 'upstreamAddress' not in d" \
	"the DeleteItem audit line"
sleep 0.3
n=$(lgw_alog_count "$mark" "target=$P\\.DeleteItem ")
[ "$n" = 1 ] || fail "$n DeleteItem requests reached the gateway, expected 1 (the SDK retried a denial?)"
n=$(lgw_alog_count "$mark" "target=$P\\.GetItem " 'status=200')
[ "$n" = 5 ] || fail "$n GetItem lines with status 200, expected 5"
# (the handler leases a session per request from a small pool and opens
# another when none is free: several connections, each with streams 1, 3, ...)
n=$(log_since "$LGW_OUT" "$mark" | grep 'endpoint=ddb140 ' | grep -cvE 'h2_stream=[0-9]+$')
[ "$n" = 0 ] || fail "$n of the SDK's requests have no h2_stream= in their access-log line"
n=$(log_since "$LGW_OUT" "$mark" | grep 'endpoint=ddb140 ' | grep -cE 'h2_stream=([3-9]|[1-9][0-9]+)$')
[ "$n" -ge 1 ] || fail "no connection of the SDK carried a second stream"
direct_ddb $P.GetItem "{\"TableName\":\"$TB\",\"Key\":{\"pk\":{\"S\":\"p1\"}},\"ConsistentRead\":true}"
expect_status 200
expect_json "d['Item'] == {'pk': {'S': 'p1'}, 'v': {'S': '$VAL'}}" "the item is not (or no longer) in dynalite"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"
with_private_hosts "$CASE_TMP/hosts.ddb" env NODE_EXTRA_CA_CERTS="$CGW_CA" node "$IT_DIR/h2_js_sdk.js" \
	--table "$TB-x" --value "$VAL" --denied-arn "$ARN" --endpoint "https://$D:9443" --expect-fail 1 ||
	fail "the JS SDK's HTTP/2 handler got an answer from the http2: false listener"

cgw_expect_no_item_data
step "the case-local gateway stops cleanly"
lgw_stop
