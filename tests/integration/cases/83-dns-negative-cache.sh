# needs: gateway
# timeout: 40
#
# Negative caching: an NXDOMAIN answer is kept for resolver.negative_ttl_s,
# so a burst of requests for a missing name costs one query, and a name
# that appears is used once the negative answer expired.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.83: (1) name missing; (2) right after the
#           name was added to DNS; (3) after negative_ttl_s.
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.2.83:5353"], timeout_ms: 500, negative_ttl_s: 2}
#             endpoints: [{name: negative, hosts: [record.ddbgate.test],
#               upstream: vpce-neg83-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}
# Upstream: case-local dnsmasq 127.0.2.83:5353 (local=/vpce.amazonaws.com/):
#           NXDOMAIN for vpce-neg83-1234... until the name is written to its
#           --addn-hosts file (-> 127.0.0.22, recorder "record") and SIGHUP.
# Expect:   (1) 502 ddbgate#DnsError, Proxy-Status error=dns_error, the
#           message names the name; dnsmasq logged 1 query[A].  (2) less than
#           2 s after (1), dnsmasq now answering 127.0.0.22: 502 DnsError again
#           from the cache, no new query, no upstream connection.  (3) more
#           than 2 s after (1): 200 from "record", exactly one new query[A].
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-neg83-1234.$VPCE_SUFFIX"
NAME_RE=${NAME//./\\.}
DNS83=127.0.2.83:5353
HOSTS="$CASE_TMP/hosts"
: >"$HOSTS"
dnsmasq_start "$DNS83" "$CASE_TMP/dnsmasq" --addn-hosts="$HOSTS" --local-ttl=60
DNSMASQ_PID=$BG_PID
DLOG="$CASE_TMP/dnsmasq.log"

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.83
	cat <<YAML
resolver:
  servers: ["$DNS83"]
  timeout_ms: 500
  negative_ttl_s: 2
endpoints:
YAML
	lgw_endpoint negative record.ddbgate.test "$NAME:$UP_PORT"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 5
YAML
} >"$cfg"
lgw_start 127.0.1.83 "$cfg"
rm0=$(rec_mark record)

step "(1) the name does not exist"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t1=$(now_ms)
expect_proxy_error 502 DnsError dns_error "$NAME_RE"
[ "$(dns_count "$DLOG" "$NAME")" = 1 ] || fail "expected 1 query[A] for $NAME, dnsmasq logged $(dns_count "$DLOG" "$NAME")"
grep -F "$NAME" "$DLOG" | sed 's/^/  dnsmasq: /'

step "the name appears in DNS (-> 127.0.0.22)"
m=$(log_mark "$DLOG")
echo "127.0.0.22 $NAME" >"$HOSTS"
kill -HUP "$DNSMASQ_PID"
wait_log "$DLOG" "$m" "read $HOSTS - 1 " 50 || fail "dnsmasq did not re-read $HOSTS after SIGHUP"
got=$(/usr/bin/python3 "$IT_DIR/dnstool.py" query "$DNS83" "$NAME")
echo "dnsmasq now answers: $got"
[ "$got" = "NOERROR 127.0.0.22" ] || fail "dnsmasq answers '$got', expected NOERROR 127.0.0.22"

step "(2) within negative_ttl_s: still the cached NXDOMAIN, no query"
q2=$(dns_count "$DLOG" "$NAME")
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t2=$(now_ms)
echo "request 2 answered $((t2 - t1)) ms after request 1"
[ $((t2 - t1)) -lt 1800 ] || fail "request 2 came $((t2 - t1)) ms after request 1: too late to test negative_ttl_s 2 (slow machine?)"
expect_proxy_error 502 DnsError dns_error "$NAME_RE"
[ "$(dns_count "$DLOG" "$NAME")" = "$q2" ] || fail "ddbgate asked dnsmasq again within negative_ttl_s"
rec_expect_no_connection record "$rm0"

step "(3) after negative_ttl_s: asked again, found"
sleep "$(awk -v d=$((t1 + 2300 - $(now_ms))) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1000 }')"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_from record
[ "$(dns_count "$DLOG" "$NAME")" = $((q2 + 1)) ] ||
	fail "expected exactly one new query[A] after negative_ttl_s, dnsmasq logged $(($(dns_count "$DLOG" "$NAME") - q2))"

step "the case-local gateway stops cleanly"
lgw_stop
