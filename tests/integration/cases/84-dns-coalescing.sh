# needs: gateway
# timeout: 60
#
# Coalescing: concurrent first requests for one name, in any worker, share
# one DNS query.
# Client:   20 curl processes at once (one connection each), signed ListTables
#           to https://record.ddbgate.test/ via the case-local gateway 127.0.1.84.
# Config:   case-local ddbgate, run with -d (session log lines name the worker):
#             workers: 2
#             resolver: {servers: ["127.0.0.1:5354", "127.0.2.84:5353"], timeout_ms: 1000}
#             endpoints: [{name: coalesce, hosts: [record.ddbgate.test],
#               upstream: vpce-coalesce84-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}
# Upstream: the blackhole first: it holds every query for timeout_ms (1 s), so
#           the 20 requests really overlap the one query in flight; then a
#           case-local dnsmasq 127.0.2.84:5353: vpce-coalesce84-1234... -> 127.0.0.22
#           (recorder "record").
# Expect:   20 x 200 from "record" (20 upstream connections); ddbgate's debug
#           log shows all 20 sessions entering "upstream DNS resolution"
#           before the first of them left it, in both workers (sessions 0.N
#           and 1.N); and yet dnsmasq logged exactly 1 query[A] (and 1 AAAA)
#           for the name, and the blackhole exactly 2 queries (A + AAAA).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-coalesce84-1234.$VPCE_SUFFIX"
DNS84=127.0.2.84:5353
N=20
dnsmasq_start "$DNS84" "$CASE_TMP/dnsmasq" --host-record="$NAME,127.0.0.22,60"
DLOG="$CASE_TMP/dnsmasq.log"
BH="$T/logs/dns-blackhole.log"

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.84
	cat <<YAML
workers: 2
resolver:
  servers: ["$DNS_BLACKHOLE", "$DNS84"]
  timeout_ms: 1000
endpoints:
YAML
	lgw_endpoint coalesce record.ddbgate.test "$NAME:$UP_PORT"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 10
YAML
} >"$cfg"
lgw_start 127.0.1.84 "$cfg" -d
wait_log "$LGW_ERR" 0 ' serving [0-9]+ endpoint' 30 >/dev/null || fail "the case-local gateway did not say what it serves"
grep -q ' with 2 worker(s)' "$LGW_ERR" || fail "the case-local gateway does not run 2 workers: $(grep -m1 ' serving ' "$LGW_ERR")"

# one_client I — one signed request on its own connection; the HTTP code
# goes to $CASE_TMP/c.I.out, the response to c.I.headers / c.I.body.
one_client() {
	curl -sS --max-time 20 --resolve "record.ddbgate.test:$GW_PORT:$GW_IP" --cacert "$PKI/gw-ca.pem" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary '{}' -D "$CASE_TMP/c.$1.headers" -o "$CASE_TMP/c.$1.body" \
		-w '%{http_code}\n' "https://record.ddbgate.test:$GW_PORT/"
}

rm0=$(rec_mark record)
bh0=$(log_mark "$BH")
[ "$(dns_count "$DLOG" "$NAME")" = 0 ] || fail "dnsmasq saw a query for $NAME before the requests"
step "$N clients at once"
pids=()
for i in $(seq 1 $N); do
	start_bg "$CASE_TMP/c.$i" one_client "$i"
	pids+=("$BG_PID")
done
for p in "${pids[@]}"; do wait "$p"; done

for i in $(seq 1 $N); do
	read -r code <"$CASE_TMP/c.$i.out" || true
	[ "${code:-}" = 200 ] || fail "client $i: HTTP ${code:-none}: $(head -c 300 "$CASE_TMP/c.$i.body") $(cat "$CASE_TMP/c.$i.err")"
	grep -qi '^x-amzn-RequestId: rec-record-' "$CASE_TMP/c.$i.headers" || fail "client $i was not answered by recorder record"
done
echo "$N x 200 from recorder record"
n=$(rec_conns_since record "$rm0" | wc -l)
[ "$n" = "$N" ] || fail "recorder record got $n connections, expected $N"

step "one query for all of them"
grep -F "$NAME" "$DLOG" | sed 's/^/  dnsmasq: /'
[ "$(dns_count "$DLOG" "$NAME")" = 1 ] || fail "dnsmasq logged $(dns_count "$DLOG" "$NAME") query[A] for $NAME, expected exactly 1"
[ "$(dns_count "$DLOG" "$NAME" AAAA)" = 1 ] || fail "dnsmasq logged $(dns_count "$DLOG" "$NAME" AAAA) query[AAAA] for $NAME, expected exactly 1"
nbh=$(log_since "$BH" "$bh0" | grep -c ' udp query from ')
[ "$nbh" = 2 ] || fail "the blackhole got $nbh queries, expected 2 (one A + AAAA pair)"

step "all $N waited for the name at the same time, in both workers"
# ddbgate -d: "... session W.N ... [reading request body]: -> upstream DNS resolution"
# and "... session W.N ... [upstream DNS resolution]: -> upstream TCP connect".
grep -E ' session [0-9]+\.[0-9]+ .*(: -> upstream DNS resolution$|\[upstream DNS resolution\]: -> )' "$LGW_ERR" >"$CASE_TMP/resolving"
awk '
	/: -> upstream DNS resolution$/ { n_in++; if ($1 > last_in) last_in = $1; w[substr($5, 1, index($5, ".") - 1)]++ }
	/\[upstream DNS resolution\]: -> / { n_out++; if (first_out == "" || $1 < first_out) first_out = $1 }
	END { printf "%d %d %s %s %d %d\n", n_in, n_out, last_in, first_out, w["0"], w["1"] }
' "$CASE_TMP/resolving" >"$CASE_TMP/resolving.sum"
read -r n_in n_out last_in first_out w0 w1 <"$CASE_TMP/resolving.sum"
echo "sessions that started resolving: $n_in (worker 0: $w0, worker 1: $w1), that got an answer: $n_out"
echo "last one started resolving at $last_in, first answer at $first_out"
[ "$n_in" = "$N" ] && [ "$n_out" = "$N" ] || fail "expected $N sessions to resolve the name, the debug log shows $n_in starting and $n_out ending"
[[ $last_in < $first_out ]] ||
	fail "a session started resolving ($last_in) after the first one had its answer ($first_out): not all requests overlapped the query"
[ "$w0" -ge 1 ] && [ "$w1" -ge 1 ] || fail "the requests did not reach both workers (worker 0: $w0, worker 1: $w1)"

step "the case-local gateway stops cleanly"
lgw_stop
