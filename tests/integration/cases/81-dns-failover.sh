# needs: gateway
# timeout: 40
#
# resolver.servers are asked in order: a server that does not answer within
# timeout_ms hands the question to the next one.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.81, twice.
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.0.1:5354", "127.0.2.81:5353"], timeout_ms: 300}
#             endpoints: [{name: failover, hosts: [record.ddbgate.test],
#               upstream: vpce-failover81-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}
# Upstream: 127.0.0.1:5354 is the blackhole (reads queries, never answers);
#           127.0.2.81:5353 is a case-local unbound (local-zone
#           vpce.amazonaws.com static, local-data vpce-failover81-1234... 60 IN A
#           127.0.0.22 = recorder "record").  Skips without /usr/sbin/unbound.
# Expect:   (1) 200 from "record" in less than 2 s; the blackhole logged the
#           queries (A and AAAA: 2) after the request started and at least
#           250 ms before the answer (it was asked first and given its
#           300 ms); unbound logged exactly one A and one AAAA query for the
#           name.  (2) 200 from "record" at once (access log latency_ms
#           < 250), neither server asked again (the answer is cached).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-failover81-1234.$VPCE_SUFFIX"
UNB=127.0.2.81:5353
unbound_start "$UNB" "$CASE_TMP/unbound" "$NAME. 60 IN A 127.0.0.22"
ULOG="$CASE_TMP/unbound.err"
BH="$T/logs/dns-blackhole.log"
FAIL_SHOW+=("$BH")
ucount() { grep -cE "info: 127\.0\.0\.1 ${NAME//./\\.}\. $1 IN\$" "$ULOG"; }

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.81
	cat <<YAML
resolver:
  servers: ["$DNS_BLACKHOLE", "$UNB"]
  timeout_ms: 300
endpoints:
YAML
	lgw_endpoint failover record.ddbgate.test "$NAME:$UP_PORT"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 5
YAML
} >"$cfg"
lgw_start 127.0.1.81 "$cfg"

step "(1) first request: the blackhole first, then unbound"
bh0=$(log_mark "$BH")
ua0=$(ucount A) u6=$(ucount AAAA)
[ "$ua0" = 0 ] && [ "$u6" = 0 ] || fail "unbound saw queries for $NAME before any request"
t0=$(now_ms)
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t1=$(now_ms)
echo "answered after $((t1 - t0)) ms"
expect_from record
[ $((t1 - t0)) -lt 2000 ] || fail "the request took $((t1 - t0)) ms with the first resolver silent and timeout_ms 300 (expected < 2000)"
echo "blackhole log since the request:"; log_since "$BH" "$bh0" | sed 's/^/  /'
nbh=$(log_since "$BH" "$bh0" | grep -c ' udp query from ')
[ "$nbh" = 2 ] || fail "the blackhole (first server) got $nbh queries, expected 2 (A and AAAA)"
for ts in $(log_since "$BH" "$bh0" | awk '/ udp query from / { printf "%.0f\n", $1 * 1000 }'); do
	[ "$ts" -ge $((t0 - 50)) ] && [ "$ts" -le $((t1 - 250)) ] ||
		fail "a blackhole query at $ts ms is not between the request's start ($t0) and 250 ms before its answer ($t1): the first server was not asked first, or not given timeout_ms"
done
echo "unbound log:"; grep -F "$NAME" "$ULOG" | sed 's/^/  /'
[ "$(ucount A)" = 1 ] || fail "unbound logged $(ucount A) A queries for $NAME, expected 1"
[ "$(ucount AAAA)" = 1 ] || fail "unbound logged $(ucount AAAA) AAAA queries for $NAME, expected 1"

step "(2) second request: cached, no server asked"
bh1=$(log_mark "$BH")
mark=$(log_mark "$LGW_OUT")
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_from record
[ "$(log_since "$BH" "$bh1" | grep -c ' udp query from ')" = 0 ] || fail "the blackhole was asked again for a cached name"
[ "$(ucount A)" = 1 ] || fail "unbound was asked again for a cached name ($(ucount A) A queries)"
line=$(wait_log "$LGW_OUT" "$mark" '^time=.* status=200 ' 30) || fail "no access-log line for the second request"
echo "access log: $line"
lat=$(echo "$line" | sed -n 's/.* latency_ms=\([0-9]*\).*/\1/p')
[ -n "$lat" ] && [ "$lat" -lt 250 ] || fail "the cached request took latency_ms=${lat:-?} (>= 250: did it wait for a resolver?)"

step "the case-local gateway stops cleanly"
lgw_stop
