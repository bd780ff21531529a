# needs: gateway
# timeout: 40
#
# Active health checks: without any client traffic, every allowed address of
# an endpoint's upstream gets a TCP connect + verified TLS handshake (SNI =
# the endpoint's first host) every interval; the results are logged, mark
# addresses down or up for request routing, and never send a request byte.
# Client:   none at first; then 4 curl signed ListTables to
#           https://record.ddbgate.test/ via the case-local gateway 127.0.1.87,
#           twice (before and after 127.0.3.87 starts listening).
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.2.87:5353"], timeout_ms: 500}
#             endpoints: [{name: hc87, hosts: [record.ddbgate.test],
#                          upstream: vpce-hc87-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#                          health_check_interval_s: 1, health_check_timeout_ms: 1000},
#                         {name: hc87-missing, hosts: [other.ddbgate.test],
#                          upstream: vpce-missing87-1234...:8443, health_check_interval_s: 1}]
#             limits: {upstream_pool_size: 0, upstream_backoff_ms: 5000}
# Upstream: case-local dnsmasq 127.0.2.87:5353: vpce-hc87-1234... -> 127.0.0.22
#           (recorder "record"), 127.0.0.34 (recorder "selfsigned"), 127.0.3.87
#           (nothing at first, later a case-local recorder "c87", leaf
#           up-good) and, in the private namespace only, 198.51.100.7 (outside
#           allowed_cidrs); vpce-missing87-1234...: NXDOMAIN.
# Expect:   within 3 s of the start: "health check: endpoint hc87 address
#           127.0.0.22:8443 (record.ddbgate.test) is up (N ms)", "... 127.0.0.34:8443
#           (record.ddbgate.test) is down: TLS handshake: self-signed
#           certificate", "... 127.0.3.87:8443 (record.ddbgate.test) is down: TCP
#           connect: Connection refused", "health check: endpoint hc87-missing:
#           DNS resolution of vpce-missing87-1234... failed: ..."; "record" saw
#           at least 2 handshakes with SNI record.ddbgate.test and zero
#           application bytes; nothing about 198.51.100.7 was checked.  Requests:
#           4 x 200 from "record", no request-time failure on 127.0.0.34 or
#           127.0.3.87 (the checks had marked them down).  After c87 starts:
#           within 3 s "... 127.0.3.87:8443 (record.ddbgate.test) is up again
#           (N ms)", then 4 requests are spread over "record" and "c87".
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-hc87-1234.$VPCE_SUFFIX"
MISSING="vpce-missing87-1234.$VPCE_SUFFIX"
DNS87=127.0.2.87:5353
{
	printf '%s %s\n' 127.0.0.22 "$NAME" 127.0.0.34 "$NAME" 127.0.3.87 "$NAME"
	[ "$IN_NETNS" = 1 ] && printf '%s %s\n' "$PUBLIC_IP" "$NAME"
} >"$CASE_TMP/hosts"
dnsmasq_start "$DNS87" "$CASE_TMP/dnsmasq" --addn-hosts="$CASE_TMP/hosts" --local-ttl=300

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.87
	cat <<YAML
resolver:
  servers: ["$DNS87"]
  timeout_ms: 500
endpoints:
YAML
	lgw_endpoint hc87 record.ddbgate.test "$NAME:$UP_PORT"
	echo "    health_check_interval_s: 1"
	echo "    health_check_timeout_ms: 1000"
	lgw_endpoint hc87-missing other.ddbgate.test "$MISSING:$UP_PORT"
	echo "    health_check_interval_s: 1"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_backoff_ms: 5000
  upstream_timeout_s: 5
YAML
} >"$cfg"
mr0=$(rec_mark record)
ms0=$(rec_mark selfsigned)
lgw_start 127.0.1.87 "$cfg"
t0=$(now_ms)

step "first results, without client traffic"
HC='health check: endpoint hc87 address'
expect_hc() { # ERE WHAT
	local line
	line=$(wait_log "$LGW_ERR" 0 "$1" 30) || fail "no health-check line for $2 within 3 s of the start: /$1/"
	echo "  $line"
}
expect_hc "health check: endpoint hc87: every 1 s, 1000 ms each, verifying record\\.ddbgate\\.test" "the endpoint"
expect_hc "$HC 127\\.0\\.0\\.22:8443 \\(record\\.ddbgate\\.test\\) is up \\([0-9]+ ms\\)" "the good address"
expect_hc "$HC 127\\.0\\.0\\.34:8443 \\(record\\.ddbgate\\.test\\) is down: TLS handshake: self-signed certificate" "the bad-TLS address"
expect_hc "$HC 127\\.0\\.3\\.87:8443 \\(record\\.ddbgate\\.test\\) is down: TCP connect: Connection refused" "the closed address"
expect_hc "health check: endpoint hc87-missing: DNS resolution of ${MISSING//./\\.} failed: " "the missing name"
echo "first results within $(($(now_ms) - t0)) ms"

step "the checks repeat, verify the endpoint's host name and send no request"
for _ in $(seq 1 30); do [ "$(rec_conns_since record "$mr0" | wc -l)" -ge 2 ] && break; sleep 0.1; done
sleep 0.3 # the handshake of the second one is logged just after its accept
n=$(rec_conns_since record "$mr0" | wc -l)
[ "$n" -ge 2 ] || fail "expected at least 2 health-check rounds to reach record within 3 s, saw $n connections"
for f in $(rec_conns_since record "$mr0" | head -n 2); do
	c=$(basename "$f" .in)
	c=$((10#${c#conn-}))
	grep -q " conn=$c sni=record\.ddbgate\.test\$" "$REC/record/events.log" || fail "record connection $c did not carry SNI record.ddbgate.test"
	grep -q " conn=$c handshake ok" "$REC/record/events.log" || fail "record connection $c: no completed handshake"
	[ "$(stat -c %s "$f")" = 0 ] || fail "a health check sent $(stat -c %s "$f") application bytes to record (connection $c)"
done
echo "record: $n health-check connections within $(($(now_ms) - t0)) ms; the first two: verified handshakes, SNI record.ddbgate.test, no byte"
rec_expect_nothing_forwarded selfsigned "$ms0"
grep -F "$PUBLIC_IP" "$LGW_ERR" && fail "the health check probed (or logged) $PUBLIC_IP, outside allowed_cidrs"

step "requests avoid the addresses the checks marked down"
m=$(log_mark "$LGW_ERR")
for _ in 1 2 3 4; do
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_from record
done
log_since "$LGW_ERR" "$m" | grep -E 'session .*(upstream address|upstream TCP connect|upstream TLS)' &&
	fail "a request tried an address the health check had marked down"

step "127.0.3.87 starts listening: the next check brings it up again"
rec_start c87 127.0.3.87
line=$(wait_log "$LGW_ERR" "$m" "$HC 127\\.0\\.3\\.87:8443 \\(record\\.ddbgate\\.test\\) is up again \\([0-9]+ ms\\)" 30) ||
	fail "no 'is up again' for 127.0.3.87 within 3 s of it listening"
echo "  $line"
mc=$(rec_mark c87)
for _ in 1 2 3 4; do
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_status 200
	case "$(rid)" in rec-record-* | rec-c87-*) ;; *) show_response; fail "answered by '$(rid)'" ;; esac
done
n=$(grep -c '^x' <(for f in $(rec_conns_since c87 "$mc"); do [ -s "$f" ] && echo x; done))
echo "c87 answered $n of 4 requests"
[ "$n" -ge 1 ] || fail "no request went to 127.0.3.87 after the health check found it up"

step "the case-local gateway stops cleanly"
lgw_stop
