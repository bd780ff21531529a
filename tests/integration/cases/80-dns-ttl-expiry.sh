# needs: gateway
# timeout: 40
#
# The shared DNS cache honours the TTL of an answer: within it no query is
# sent and the cached address is used even after the DNS data changed;
# after it the name is asked again and the new address is used.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.80, three times: (1) at the start,
#           (2) right after the DNS data changed, (3) after the TTL (2 s).
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.2.80:5353"], timeout_ms: 500, min_ttl_s: 1}
#             endpoints: [{name: ttl, hosts: [record.ddbgate.test],
#               upstream: vpce-ttl80-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}   (every request resolves)
# Upstream: case-local dnsmasq 127.0.2.80:5353, --addn-hosts=FILE --local-ttl=2:
#           vpce-ttl80-1234... -> 127.0.0.22 (recorder "record"), then the file
#           says 127.0.3.80 (case-local recorder "c80", leaf up-good) and
#           dnsmasq re-reads it on SIGHUP.
# Expect:   (1) 200 from "record", dnsmasq logged 1 query[A] for the name;
#           (2) 200 from "record" again, less than 2 s after (1), and no new
#           query; (3) more than 2 s after (1): 200 from "c80" (access log
#           upstream=127.0.3.80:8443) and exactly one new query[A].
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-ttl80-1234.$VPCE_SUFFIX"
DNS80=127.0.2.80:5353
HOSTS="$CASE_TMP/hosts"

rec_start c80 127.0.3.80
echo "127.0.0.22 $NAME" >"$HOSTS"
dnsmasq_start "$DNS80" "$CASE_TMP/dnsmasq" --addn-hosts="$HOSTS" --local-ttl=2
DNSMASQ_PID=$BG_PID
DLOG="$CASE_TMP/dnsmasq.log"

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.80
	cat <<YAML
resolver:
  servers: ["$DNS80"]
  timeout_ms: 500
  min_ttl_s: 1
endpoints:
YAML
	lgw_endpoint ttl record.ddbgate.test "$NAME:$UP_PORT"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 5
YAML
} >"$cfg"
lgw_start 127.0.1.80 "$cfg"

step "(1) first request: one query, answered by 127.0.0.22"
q0=$(dns_count "$DLOG" "$NAME")
[ "$q0" = 0 ] || fail "dnsmasq saw $q0 queries for $NAME before any request"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t1=$(now_ms)
expect_from record
q1=$(dns_count "$DLOG" "$NAME")
[ "$q1" = 1 ] || fail "expected exactly 1 query[A] for $NAME after the first request, dnsmasq logged $q1"

step "change the DNS data to 127.0.3.80 (SIGHUP dnsmasq)"
m=$(log_mark "$DLOG")
echo "127.0.3.80 $NAME" >"$HOSTS"
kill -HUP "$DNSMASQ_PID"
wait_log "$DLOG" "$m" "read $HOSTS - 1 " 50 || fail "dnsmasq did not re-read $HOSTS after SIGHUP"
got=$(/usr/bin/python3 "$IT_DIR/dnstool.py" query "$DNS80" "$NAME")
echo "dnsmasq now answers: $got"
[ "$got" = "NOERROR 127.0.3.80" ] || fail "dnsmasq answers '$got' after the change, expected NOERROR 127.0.3.80"

step "(2) within the TTL: the cached address, no query"
q2=$(dns_count "$DLOG" "$NAME")
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
t2=$(now_ms)
echo "request 2 answered $((t2 - t1)) ms after request 1"
[ $((t2 - t1)) -lt 1800 ] || fail "request 2 came $((t2 - t1)) ms after request 1: too late to test the 2 s TTL (slow machine?)"
expect_from record
q=$(dns_count "$DLOG" "$NAME")
[ "$q" = "$q2" ] || fail "ddbgate asked dnsmasq again within the TTL ($((q - q2)) new query[A])"

step "(3) after the TTL: a new query, the new address"
sleep "$(awk -v d=$((t1 + 2300 - $(now_ms))) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1000 }')"
mark=$(log_mark "$LGW_OUT")
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
echo "request 3 answered $(($(now_ms) - t1)) ms after request 1"
expect_from c80
q=$(dns_count "$DLOG" "$NAME")
[ "$q" = $((q2 + 1)) ] || fail "expected exactly one new query[A] after the TTL, dnsmasq logged $((q - q2))"
line=$(wait_log "$LGW_OUT" "$mark" ' status=200 ' 30) || fail "no access-log line for request 3"
echo "access log: $line"
echo "$line" | grep -q ' upstream=127\.0\.3\.80:8443 ' || fail "request 3's access-log line does not name upstream 127.0.3.80:8443: $line"
grep -F "$NAME" "$DLOG" | sed 's/^/  dnsmasq: /'

step "the case-local gateway stops cleanly"
lgw_stop
