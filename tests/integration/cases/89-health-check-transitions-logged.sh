# needs: gateway
# timeout: 40
#
# docs/routing.md: a health check logs "each address's first result and
# every change".  With the default back-off (1 s, doubling) and a check
# every 3 s, an address's back-off has always ended before the next check:
# a second failure is no change (it must not be logged again), and the
# first success after the address came back is one (it must be logged "is
# up again").
# Client:   none.
# Config:   case-local ddbgate (default limits.upstream_backoff_ms 1000 and
#           upstream_backoff_max_ms 30000):
#             resolver: {servers: ["127.0.0.1:5354"]}   (never asked: IP literals)
#             endpoints: [{name: hc89, hosts: [record.ddbgate.test],
#               upstream: ["127.0.0.22:8443", "127.0.3.89:8443"],
#               health_check_interval_s: 3, health_check_timeout_ms: 1000}]
# Upstream: 127.0.0.22: recorder "record" (up); 127.0.3.89: nothing for the
#           first two rounds (refused), then a case-local recorder "c89" (leaf
#           up-good) started right after round 2.
# Expect:   rounds 1 and 2: exactly one "health check: endpoint hc89 address
#           127.0.3.89:8443 (record.ddbgate.test) is down: TCP connect:
#           Connection refused" (round 2 changes nothing); round 3 (c89 saw a
#           verified handshake): "health check: endpoint hc89 address
#           127.0.3.89:8443 (record.ddbgate.test) is up again (N ms)" within 1 s
#           of that handshake.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.89
	cat <<YAML
resolver:
  servers: ["$DNS_BLACKHOLE"]
endpoints:
YAML
	lgw_endpoint hc89 record.ddbgate.test "[\"127.0.0.22:$UP_PORT\", \"127.0.3.89:$UP_PORT\"]"
	echo "    health_check_interval_s: 3"
	echo "    health_check_timeout_ms: 1000"
} >"$cfg"
mr=$(rec_mark record)
lgw_start 127.0.1.89 "$cfg"
HC='health check: endpoint hc89 address 127\.0\.3\.89:8443 \(record\.ddbgate\.test\) is'

step "rounds 1 and 2: 127.0.3.89 refuses"
for _ in $(seq 1 60); do [ "$(rec_conns_since record "$mr" | wc -l)" -ge 2 ] && break; sleep 0.1; done
[ "$(rec_conns_since record "$mr" | wc -l)" -ge 2 ] || fail "no second health-check round within 6 s (record saw $(rec_conns_since record "$mr" | wc -l) connections)"
sleep 0.2 # round 2's probe of 127.0.3.89 is refused at once
grep 'health check' "$LGW_ERR" | sed 's/^/  /'
ndown=$(grep -cE "$HC down: TCP connect: Connection refused" "$LGW_ERR")

step "127.0.3.89 comes back before round 3"
rec_start c89 127.0.3.89
mc=$(rec_mark c89)
m=$(log_mark "$LGW_ERR")
for _ in $(seq 1 50); do
	c=$(rec_conns_since c89 "$mc" | head -n 1)
	[ -n "$c" ] && grep -q " conn=$((10#$(basename "$c" .in | sed 's/conn-//'))) handshake ok" "$REC/c89/events.log" && break
	sleep 0.1
done
[ -n "$c" ] || fail "round 3 did not check 127.0.3.89 within 5 s of it listening"
tail -n 3 "$REC/c89/events.log" | sed 's/^/  c89: /'
up=$(wait_log "$LGW_ERR" "$m" "$HC up again \\([0-9]+ ms\\)" 10)
grep 'health check' "$LGW_ERR" | sed 's/^/  /'

errs=""
[ "$ndown" = 1 ] || errs="$errs; logged 'is down' $ndown times for two identical failed checks (no change between them), expected once"
[ -n "$up" ] || errs="$errs; no 'is up again' for 127.0.3.89 after its check succeeded again (its last logged state is 'down')"
[ -z "$errs" ] || fail "health check log of 127.0.3.89${errs}"

step "the case-local gateway stops cleanly"
lgw_stop
