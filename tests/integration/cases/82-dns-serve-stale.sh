# needs: gateway
# timeout: 40
#
# Serve-stale: when every resolver fails (no answer, or REFUSED), an answer
# that expired less than resolver.serve_stale_s ago is used and logged.
# With serve_stale_s: 0 the same situations are clear DNS errors naming the
# name.  A reload that keeps the servers keeps the cache, and its new
# serve_stale_s applies to what is cached.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.82: (1) DNS up; (2) DNS server gone, the
#           answer expired; (3) a server that answers REFUSED; (4) after a
#           reload with serve_stale_s: 0, REFUSED; (5) then no server.
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.2.82:5353"], timeout_ms: 300,
#                        min_ttl_s: 1, serve_stale_s: 60}
#             endpoints: [{name: stale, hosts: [record.ddbgate.test],
#               upstream: vpce-stale82-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}
#           then the same file with serve_stale_s: 0, SIGHUP.
# Upstream: 127.0.2.82:5353: a case-local dnsmasq with host-record
#           vpce-stale82-1234... -> 127.0.0.22 (recorder "record"), TTL 1;
#           stopped (by PID) after (1): queries go unanswered (c-ares 1.18
#           reports the ICMP port-unreachable as a timeout); for (3) and (4)
#           a dnsmasq with no zone and no upstream (REFUSED to everything);
#           stopped again for (5).
# Expect:   (1) 200 from "record", one query[A].  (2) more than 1 s later: 200
#           from "record" within 2 s; ddbgate's stderr: "every resolver failed
#           for vpce-stale82-1234...; using its expired answer
#           (resolver.serve_stale_s: 60 s)".  (3) the refusing server logged
#           the query; 200 from "record"; the line again.  (4) "reloaded:
#           serving generation 2" without "DNS cache flushed"; 502
#           ddbgate#DnsError, Proxy-Status error=dns_error, message names the
#           name.  (5) 504 ddbgate#DnsTimeout, error=dns_timeout, names the
#           name.  After the reload: no stale line and no upstream connection.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-stale82-1234.$VPCE_SUFFIX"
DNS82=127.0.2.82:5353
NAME_RE=${NAME//./\\.}
dnsmasq_start "$DNS82" "$CASE_TMP/dnsmasq" --host-record="$NAME,127.0.0.22,1"
DNSMASQ_PID=$BG_PID
DLOG="$CASE_TMP/dnsmasq.log"

cfg="$CASE_TMP/ddbgate.yaml"
write_cfg() { # SERVE-STALE-S
	{
		lgw_head 127.0.1.82
		cat <<YAML
resolver:
  servers: ["$DNS82"]
  timeout_ms: 300
  min_ttl_s: 1
  serve_stale_s: $1
endpoints:
YAML
		lgw_endpoint stale record.ddbgate.test "$NAME:$UP_PORT"
		cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 5
YAML
	} >"$cfg.new" && mv "$cfg.new" "$cfg"
}
write_cfg 60
lgw_start 127.0.1.82 "$cfg"
STALE_RE="every resolver failed for $NAME_RE; using its expired answer \\(resolver\\.serve_stale_s: 60 s\\)"

# stale_request WHAT — a request that must be served from the expired answer.
stale_request() {
	local m t0 t1 line
	m=$(log_mark "$LGW_ERR")
	t0=$(now_ms)
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	t1=$(now_ms)
	echo "answered after $((t1 - t0)) ms"
	expect_from record
	[ $((t1 - t0)) -lt 2000 ] || fail "$1: the stale-served request took $((t1 - t0)) ms (expected < 2000)"
	line=$(wait_log "$LGW_ERR" "$m" "$STALE_RE" 30) || {
		log_since "$LGW_ERR" "$m"
		fail "$1: ddbgate did not log that it used the expired answer of $NAME"
	}
	echo "ddbgate: $line"
}

step "(1) DNS up"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t1=$(now_ms)
expect_from record
[ "$(dns_count "$DLOG" "$NAME")" = 1 ] || fail "expected 1 query[A] for $NAME, dnsmasq logged $(dns_count "$DLOG" "$NAME")"
grep -Eq "every resolver failed" "$LGW_ERR" && fail "a stale answer was used while the resolver was up"

step "stop the DNS server (pid $DNSMASQ_PID); let the 1 s TTL pass"
stop_pid "$DNSMASQ_PID"
sleep "$(awk -v d=$((t1 + 1500 - $(now_ms))) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1000 }')"

step "(2) the resolver does not answer: the expired answer is used"
stale_request "no answer"

step "(3) the resolver answers REFUSED: the expired answer is used"
dnsmasq_refusing_start "$DNS82" "$CASE_TMP/dnsmasq-refusing"
REFUSING_PID=$BG_PID
RLOG="$CASE_TMP/dnsmasq-refusing.log"
stale_request "REFUSED"
[ "$(dns_count "$RLOG" "$NAME")" -ge 1 ] || fail "the refusing server was never asked for $NAME"
grep -F "$NAME" "$RLOG" | sed 's/^/  refusing dnsmasq: /'

step "reload with serve_stale_s: 0 (servers unchanged: the cache is kept, the new window applies)"
write_cfg 0
m=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
line=$(wait_log "$LGW_ERR" "$m" 'reloaded: serving generation 2 from ' 50) || {
	log_since "$LGW_ERR" "$m"
	fail "no 'reloaded: serving generation 2' after SIGHUP"
}
echo "ddbgate: $line"
echo "$line" | grep -q 'DNS cache flushed' && fail "the resolvers did not change, yet the reload flushed the DNS cache: $line"
rm0=$(rec_mark record)
m=$(log_mark "$LGW_ERR")

step "(4) REFUSED without serve-stale"
q0=$(dns_count "$RLOG" "$NAME")
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 DnsError dns_error "$NAME_RE"
[ "$(dns_count "$RLOG" "$NAME")" -gt "$q0" ] || fail "(4) the refusing server was not asked"

step "(5) no answer without serve-stale"
stop_pid "$REFUSING_PID"
CURL_MAX_TIME=10 gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 504 DnsTimeout dns_timeout "$NAME_RE"

sleep 0.2
log_since "$LGW_ERR" "$m" | grep -E 'every resolver failed' && fail "an expired answer was used with serve_stale_s: 0"
rec_expect_no_connection record "$rm0"

step "the case-local gateway stops cleanly"
lgw_stop
