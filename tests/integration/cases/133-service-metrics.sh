# needs: gateway
# timeout: 40
#
# The metrics listener: a known mix of requests gives exact counter values,
# histogram counts equal to the requests, DNS cache look-ups, egress
# refusals, reload outcomes and the configuration generation, the static
# certificate's expiry; /healthz, /readyz, 404 and 405.
# Client:   curl signed requests via the case-local gateway 127.0.1.133:
#           3 x ListTables and 2 x DeleteTable to record.ddbgate.test; 1 x
#           ListTables with SNI record.ddbgate.test but Host other.ddbgate.test
#           (421); 1 x ListTables to guard.ddbgate.test (egress guard, 502);
#           2 x ListTables to nxdomain.ddbgate.test (NXDOMAIN, 502).  curl to
#           http://127.0.1.133:9145: GET /metrics (before and after), HEAD
#           /metrics, GET /healthz, /readyz, /nope, POST /metrics.  SIGHUP with
#           the same file, with a syntax error, with another listener.
# Config:   case-local ddbgate:
#             listeners: [{address: 127.0.1.133:443, mode: sni}], gw-leaf,
#             metrics: {address: 127.0.1.133:9145},
#             resolver: {servers: ["127.0.0.1:5353"], min_ttl_s: 60}
#             endpoints: rec133 (record.ddbgate.test -> vpce-record-1234...:8443,
#               policy: Allow dynamodb:*, Deny dynamodb:DeleteTable, enforce);
#               guard133 (guard.ddbgate.test -> vpce-guard-1234...:8443,
#               allowed_cidrs [127.0.0.99/32]); nx133 (nxdomain.ddbgate.test ->
#               vpce-missing-1234...:8443)
#             limits: {upstream_pool_size: 0}  (every forwarded request resolves)
# Upstream: recorder "record"; 127.0.0.37 never contacted; NXDOMAIN.
# Expect:   every family of docs/metrics.md with its TYPE (before any request
#           too); Content-Type text/plain; version=0.0.4.  After the mix:
#           requests_total exactly {rec133,ListTables,allow,200} 3,
#           {rec133,DeleteTable,deny,400} 2, {rec133,-,error,421} 1, guard133
#           ListTables 502: 1, nx133 ListTables 502: 2 (any decision), and no
#           other series; request_duration_seconds_count rec133 6, guard133 1,
#           nx133 2, +Inf bucket = count, buckets non-decreasing;
#           upstream_duration_seconds_count rec133 3; egress_refusals_total
#           {guard133} 1; dns_cache_lookups_total miss 3 (was 0), hit 2,
#           negative_hit 1; connections_accepted_total{sni} 10 (9 curl + the
#           start-up probe); tls_handshake_failures_total{client} 1 in all (the
#           probe); connections_open back to 0; config_generation 1;
#           certificate_expiry_seconds{file=gw-leaf.pem} = openssl x509 -enddate
#           as Unix time, the only series; build_info{version=<ddbgate
#           version>} 1; reloads_total 0 each.  After the good reload: ok 1,
#           config_generation 2, requests_total unchanged; after the broken
#           one: failed 1, generation 2; after a listener that cannot be bound
#           (192.0.2.133): refused 1.
#           /healthz 200 "ok", /readyz 200 "ready", HEAD /metrics 200 with no
#           body, /nope 404, POST /metrics 405 with Allow: GET, HEAD.
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.133
MADDR=$IP:9145
cfg="$CASE_TMP/ddbgate.yaml"
FILE_RE=${cfg//./\\.}
R=record.ddbgate.test
P=DynamoDB_20120810
cat >"$CASE_TMP/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*" },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*" }
  ]
}
JSON
write_cfg() { # [broken] [listener2]
	local o=" $* " ip=$IP
	case $o in *" listener2 "*) ip=192.0.2.133 ;; esac
	{
		svc_head $ip "$MADDR"
		cat <<YAML
resolver:
  servers: ["$DNS"]
  timeout_ms: 500
  min_ttl_s: 60
endpoints:
YAML
		lgw_endpoint rec133 $R "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
		printf '    policy: %s\n    enforcement: enforce\n' "$CASE_TMP/policy.json"
		cat <<YAML
  - name: guard133
    service: dynamodb
    hosts: [guard.ddbgate.test]
    upstream: vpce-guard-1234.$VPCE_SUFFIX:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.99/32]
YAML
		lgw_endpoint nx133 nxdomain.ddbgate.test "vpce-missing-1234.$VPCE_SUFFIX:$UP_PORT"
		case $o in *" broken "*) echo '    hosts_extra: [a.example, b.example' ;; esac
		printf 'limits:\n  upstream_timeout_s: 5\n  upstream_pool_size: 0\n'
	} >"$cfg.new" && mv "$cfg.new" "$cfg"
}

# admin METHOD PATH OUT — one request to the metrics listener; prints the status;
# OUT.headers, OUT (body).
admin() {
	local how=(-X "$1")
	[ "$1" = HEAD ] && how=(-I)
	curl -sS --max-time 5 "${how[@]}" -D "$3.headers" -o "$3" -w '%{http_code}' "http://$MADDR$2" 2>"$3.err" ||
		echo " (curl: $(cat "$3.err"))"
}
# scrape NAME — GET /metrics into $CASE_TMP/NAME.prom (200 required).
scrape() {
	local st
	st=$(admin GET /metrics "$CASE_TMP/$1.prom")
	[ "$st" = 200 ] || fail "GET /metrics answered $st"
	SCRAPE="$CASE_TMP/$1.prom"
}
# mval SERIES — the value of SERIES (as written: name{labels}) in the last scrape; "absent".
mval() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$SCRAPE"; }
# expect_m SERIES VALUE
expect_m() {
	local v
	v=$(mval "$1")
	[ "$v" = "$2" ] || { grep -F "${1%%\{*}" "$SCRAPE" | grep -v '^#' | sed 's/^/  /'; fail "$1 is $v, expected $2"; }
	echo "$1 $v"
}
# msum NAME LABEL-ERE — the sum of the NAME series whose labels match LABEL-ERE.
msum() { grep -E "^$1\{[^}]*$2" "$SCRAPE" | awk '{ s += $2 } END { print s + 0 }'; }

write_cfg
lgw_start $IP "$cfg"

step "the families of docs/metrics.md, before any request"
scrape m0
ct=$(tr -d '\r' <"$SCRAPE.headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
echo "Content-Type: $ct"
[[ $ct == text/plain*version=0.0.4* ]] || fail "/metrics Content-Type is '$ct', expected text/plain; version=0.0.4"
for ft in requests_total:counter request_duration_seconds:histogram upstream_duration_seconds:histogram \
	connections_open:gauge connections_accepted_total:counter tls_handshake_failures_total:counter \
	egress_refusals_total:counter reloads_total:counter config_generation:gauge \
	certificate_expiry_seconds:gauge upstream_pool_idle:gauge dns_cache_lookups_total:counter \
	dns_query_failures_total:counter dns_stale_answers_total:counter dns_cache_entries:gauge \
	upstream_address_up:gauge metrics_dropped_series_total:counter build_info:gauge \
	log_lines_dropped_total:counter log_queued_bytes:gauge; do
	grep -qx "# TYPE ddbgate_${ft%%:*} ${ft#*:}" "$SCRAPE" || fail "no '# TYPE ddbgate_${ft%%:*} ${ft#*:}' line"
done
echo "all 20 documented families present with their types"
for l in access audit; do expect_m "ddbgate_log_lines_dropped_total{log=\"$l\"}" 0; done
for r in hit negative_hit miss coalesced; do expect_m "ddbgate_dns_cache_lookups_total{result=\"$r\"}" 0; done
for o in ok failed refused; do expect_m "ddbgate_reloads_total{outcome=\"$o\"}" 0; done
expect_m ddbgate_config_generation 1
ver=$("$DDBGATE" version | sed -n '1s/^ddbgate //p')
expect_m "ddbgate_build_info{version=\"$ver\"}" 1
end=$(openssl x509 -enddate -noout -in "$PKI/gw-leaf.pem" | cut -d= -f2)
expect_m "ddbgate_certificate_expiry_seconds{file=\"$PKI/gw-leaf.pem\"}" "$(date -u -d "$end" +%s)"
[ "$(grep -c '^ddbgate_certificate_expiry_seconds' "$SCRAPE")" = 1 ] || fail "certificate_expiry_seconds has other series: $(grep '^ddbgate_certificate_expiry_seconds' "$SCRAPE")"
[ "$(grep -c '^ddbgate_requests_total' "$SCRAPE")" = 0 ] || fail "requests_total series before any request"

step "the request mix"
for _ in 1 2 3; do gw_request $R $P.ListTables '{}'; expect_status 200; done
for i in 1 2; do gw_request $R $P.DeleteTable "{\"TableName\":\"t133-$i\"}"; expect_status 400; done
gw_request $R $P.ListTables '{}' -H "Host: other.ddbgate.test"
expect_status 421
gw_request guard.ddbgate.test $P.ListTables '{}'
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited
for _ in 1 2; do gw_request nxdomain.ddbgate.test $P.ListTables '{}'; expect_status 502; done

step "the counters"
for _ in $(seq 1 20); do
	scrape m1
	[ "$(mval ddbgate_connections_open)" = 0 ] && break
	sleep 0.1
done
grep -v -e '^#' -e '_bucket{' "$SCRAPE" | sed 's/^/  /'
expect_m 'ddbgate_requests_total{endpoint="rec133",action="ListTables",decision="allow",status="200"}' 3
expect_m 'ddbgate_requests_total{endpoint="rec133",action="DeleteTable",decision="deny",status="400"}' 2
expect_m 'ddbgate_requests_total{endpoint="rec133",action="-",decision="error",status="421"}' 1
expect_m 'ddbgate_requests_total{endpoint="guard133",action="ListTables",decision="error",status="502"}' 1
expect_m 'ddbgate_requests_total{endpoint="nx133",action="ListTables",decision="error",status="502"}' 2
[ "$(grep -c '^ddbgate_requests_total{' "$SCRAPE")" -le 5 ] || fail "requests_total has other series"
[ "$(msum ddbgate_requests_total '')" = 9 ] || fail "requests_total adds up to $(msum ddbgate_requests_total ''), expected 9"
for ec in rec133:6 guard133:1 nx133:2; do
	e=${ec%%:*} c=${ec#*:}
	expect_m "ddbgate_request_duration_seconds_count{endpoint=\"$e\"}" "$c"
	expect_m "ddbgate_request_duration_seconds_bucket{endpoint=\"$e\",le=\"+Inf\"}" "$c"
	grep "^ddbgate_request_duration_seconds_bucket{endpoint=\"$e\"," "$SCRAPE" |
		awk '$2 < prev { bad = 1 } { prev = $2 } END { exit bad }' || fail "the $e buckets are not cumulative"
done
expect_m 'ddbgate_upstream_duration_seconds_count{endpoint="rec133"}' 3
expect_m 'ddbgate_egress_refusals_total{endpoint="guard133"}' 1
expect_m 'ddbgate_dns_cache_lookups_total{result="miss"}' 3
expect_m 'ddbgate_dns_cache_lookups_total{result="hit"}' 2
expect_m 'ddbgate_dns_cache_lookups_total{result="negative_hit"}' 1
expect_m 'ddbgate_dns_cache_lookups_total{result="coalesced"}' 0
expect_m 'ddbgate_connections_accepted_total{mode="sni"}' 10
expect_m 'ddbgate_tls_handshake_failures_total{side="client",reason="closed"}' 1
expect_m ddbgate_connections_open 0
expect_m ddbgate_config_generation 1

step "the admin paths"
expect_http() { # METHOD PATH STATUS [BODY]
	local st
	st=$(admin "$1" "$2" "$CASE_TMP/admin.out")
	echo "$1 $2 -> $st $(head -c 40 "$CASE_TMP/admin.out")"
	[ "$st" = "$3" ] || fail "$1 $2 answered $st, expected $3"
	[ -z "${4:-}" ] || [ "$(cat "$CASE_TMP/admin.out")" = "$4" ] || fail "$1 $2 body is '$(cat "$CASE_TMP/admin.out")', expected '$4'"
}
expect_http GET /healthz 200 ok
expect_http GET /readyz 200 ready
head_out=$(/usr/bin/python3 - "$IP" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 9145), timeout=5)
s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
buf = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
except socket.timeout:
    print("timeout")
head, _, rest = buf.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), "| Content-Length" if b"\r\ncontent-length:" in head.lower() else "| no Content-Length", "| %d bytes after the head" % len(rest))
PY
)
echo "HEAD /metrics -> $head_out"
[ "$head_out" = "HTTP/1.1 200 OK | Content-Length | 0 bytes after the head" ] || fail "HEAD /metrics: $head_out (expected 200, a Content-Length and no body)"
expect_http GET /nope 404
expect_http POST /metrics 405
tr -d '\r' <"$CASE_TMP/admin.out.headers" | grep -qx 'Allow: GET, HEAD' || fail "the 405 has no 'Allow: GET, HEAD' header"

step "reloads"
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reloaded: serving generation 2 from $FILE_RE\$"
scrape m2
expect_m 'ddbgate_reloads_total{outcome="ok"}' 1
expect_m 'ddbgate_reloads_total{outcome="failed"}' 0
expect_m ddbgate_config_generation 2
expect_m 'ddbgate_requests_total{endpoint="rec133",action="ListTables",decision="allow",status="200"}' 3
expect_m 'ddbgate_request_duration_seconds_count{endpoint="rec133"}' 6
expect_m "ddbgate_certificate_expiry_seconds{file=\"$PKI/gw-leaf.pem\"}" "$(date -u -d "$end" +%s)"
write_cfg broken
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reload failed, still serving generation 2: $FILE_RE:[0-9]+:[0-9]+: "
write_cfg listener2
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" 'reload refused, still serving generation 2: listeners\[0\] 192\.0\.2\.133:[0-9]+: '
scrape m3
expect_m 'ddbgate_reloads_total{outcome="ok"}' 1
expect_m 'ddbgate_reloads_total{outcome="failed"}' 1
expect_m 'ddbgate_reloads_total{outcome="refused"}' 1
expect_m ddbgate_config_generation 2
expect_http GET /readyz 200 ready

step "the case-local gateway stops cleanly"
lgw_stop
