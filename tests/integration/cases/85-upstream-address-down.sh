# needs: gateway
# timeout: 40
#
# One name, several addresses: an address that refuses TCP or fails TLS
# verification is marked down (logged, with its back-off) and the request
# moves on to the next address; a down address is not tried again during
# its back-off; new connections are spread over the addresses that are up.
# Client:   10 sequential curl signed ListTables to https://record.ddbgate.test/
#           via the case-local gateway 127.0.1.85.
# Config:   case-local ddbgate:
#             resolver: {servers: ["127.0.2.85:5353"], timeout_ms: 500}
#             endpoints: [{name: down85, hosts: [record.ddbgate.test],
#               upstream: vpce-multi85-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0, upstream_backoff_ms: 5000}
# Upstream: case-local dnsmasq 127.0.2.85:5353 (--addn-hosts, 4 lines):
#           vpce-multi85-1234... -> 127.0.0.40 (nothing listens: refused),
#           127.0.0.34 (recorder "selfsigned": fails verification),
#           127.0.0.22 (recorder "record"), 127.0.3.85 (case-local recorder
#           "c85", leaf up-good).
# Expect:   10 x 200, each from "record" or "c85" (access log upstream=
#           127.0.0.22 or 127.0.3.85), each of them at least 3 times;
#           ddbgate's stderr: "upstream address 127.0.0.40:8443 of endpoint
#           down85 is down for 5000 ms: upstream TCP connect to
#           127.0.0.40:8443 (record.ddbgate.test) failed: Connection refused"
#           and "upstream address 127.0.0.34:8443 ... is down for 5000 ms:
#           upstream TLS certificate verification for record.ddbgate.test at
#           127.0.0.34:8443 failed: self-signed certificate", once each; one
#           connect attempt to 127.0.0.40 in all, one connection (a handshake,
#           zero application bytes) to "selfsigned"; one query[A].
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-multi85-1234.$VPCE_SUFFIX"
DNS85=127.0.2.85:5353
N=10
rec_start c85 127.0.3.85
printf '%s %s\n' 127.0.0.40 "$NAME" 127.0.0.34 "$NAME" 127.0.0.22 "$NAME" 127.0.3.85 "$NAME" >"$CASE_TMP/hosts"
dnsmasq_start "$DNS85" "$CASE_TMP/dnsmasq" --addn-hosts="$CASE_TMP/hosts" --local-ttl=300
DLOG="$CASE_TMP/dnsmasq.log"
got=$(/usr/bin/python3 "$IT_DIR/dnstool.py" query "$DNS85" "$NAME")
echo "dnsmasq answers: $got"
[ "$(echo "$got" | wc -w)" = 5 ] || fail "dnsmasq does not answer 4 addresses for $NAME: $got"
q0=$(dns_count "$DLOG" "$NAME")

cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.85
	cat <<YAML
resolver:
  servers: ["$DNS85"]
  timeout_ms: 500
endpoints:
YAML
	lgw_endpoint down85 record.ddbgate.test "$NAME:$UP_PORT"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_backoff_ms: 5000
  upstream_timeout_s: 5
YAML
} >"$cfg"
lgw_start 127.0.1.85 "$cfg"

ms0=$(rec_mark selfsigned) mr0=$(rec_mark record) mc0=$(rec_mark c85)
mark=$(log_mark "$LGW_OUT")
step "$N requests, one after the other"
t0=$(now_ms)
for i in $(seq 1 $N); do
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_status 200
	case "$(rid)" in rec-record-* | rec-c85-*) ;; *) show_response; fail "request $i: not answered by record or c85 ($(rid))" ;; esac
done
t1=$(now_ms)
echo "$N requests in $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 4500 ] || fail "the $N requests took $((t1 - t0)) ms, longer than the 5 s back-off this case counts on (slow machine?)"

step "where they went"
for _ in $(seq 1 30); do [ "$(log_since "$LGW_OUT" "$mark" | grep -c '^time=.* status=200 ')" -ge $N ] && break; sleep 0.1; done
log_since "$LGW_OUT" "$mark" | grep '^time=' | sed 's/.*\(status=[0-9]*\).*\(upstream=[^ ]*\).*/  \1 \2/'
n22=$(log_since "$LGW_OUT" "$mark" | grep -c '^time=.* status=200 .* upstream=127\.0\.0\.22:8443 ')
n85=$(log_since "$LGW_OUT" "$mark" | grep -c '^time=.* status=200 .* upstream=127\.0\.3\.85:8443 ')
echo "127.0.0.22: $n22, 127.0.3.85: $n85"
[ $((n22 + n85)) = $N ] || fail "expected $N access-log lines with status=200 and upstream 127.0.0.22 or 127.0.3.85, got $((n22 + n85))"
[ "$n22" -ge 3 ] && [ "$n85" -ge 3 ] || fail "connections were not spread over the two good addresses (127.0.0.22: $n22, 127.0.3.85: $n85)"
[ "$(rec_conns_since record "$mr0" | wc -l)" = "$n22" ] || fail "recorder record got $(rec_conns_since record "$mr0" | wc -l) connections, the access log says $n22"
[ "$(rec_conns_since c85 "$mc0" | wc -l)" = "$n85" ] || fail "recorder c85 got $(rec_conns_since c85 "$mc0" | wc -l) connections, the access log says $n85"

step "the bad addresses: marked down once, not tried again"
grep -E 'upstream address|127\.0\.0\.(40|34)' "$LGW_ERR" | sed 's/^/  /'
d40='upstream address 127\.0\.0\.40:8443 of endpoint down85 is down for 5000 ms: upstream TCP connect to 127\.0\.0\.40:8443 \(record\.ddbgate\.test\) failed: Connection refused'
d34='upstream address 127\.0\.0\.34:8443 of endpoint down85 is down for 5000 ms: upstream TLS certificate verification for record\.ddbgate\.test at 127\.0\.0\.34:8443 failed: self-signed certificate'
[ "$(grep -cE "$d40" "$LGW_ERR")" = 1 ] || fail "expected one 'is down for 5000 ms' line for 127.0.0.40, got $(grep -cE "$d40" "$LGW_ERR")"
[ "$(grep -cE "$d34" "$LGW_ERR")" = 1 ] || fail "expected one 'is down for 5000 ms' line for 127.0.0.34, got $(grep -cE "$d34" "$LGW_ERR")"
n=$(grep -c 'upstream TCP connect to 127\.0\.0\.40:8443 ' "$LGW_ERR")
[ "$n" = 1 ] || fail "ddbgate tried 127.0.0.40 $n times during its back-off (expected 1)"
n=$(rec_conns_since selfsigned "$ms0" | wc -l)
[ "$n" = 1 ] || fail "recorder selfsigned got $n connections during its back-off (expected 1)"
rec_expect_nothing_forwarded selfsigned "$ms0"
[ "$(dns_count "$DLOG" "$NAME")" = $((q0 + 1)) ] || fail "expected one query[A] for $NAME, dnsmasq logged $(($(dns_count "$DLOG" "$NAME") - q0))"

step "the case-local gateway stops cleanly"
lgw_stop
