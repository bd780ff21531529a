# needs: gateway
# timeout: 40
#
# upstream as a list of fixed addresses: every entry is tried and none is
# resolved; a refusing one is marked down and skipped during its back-off;
# when every address is down they are still all tried, and one that answers
# again is logged "up again"; a fixed address outside allowed_cidrs is a
# load error that names the list position.
# Client:   (a) curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.86, 6 times; (b) to
#           https://other.ddbgate.test/ once, then again after 127.0.3.86
#           started listening.  (c) `ddbgate check -c` and `ddbgate run -c` on
#           two configurations with a literal outside allowed_cidrs.
# Config:   (a, b) case-local ddbgate:
#             resolver: {servers: ["127.0.0.1:5354"], timeout_ms: 200}  (the blackhole)
#             endpoints: [{name: fixed, hosts: [record.ddbgate.test],
#                          upstream: ["127.0.0.40:8443", "127.0.0.22:8443"]},
#                         {name: alldown, hosts: [other.ddbgate.test],
#                          upstream: ["127.0.0.40:8443", "127.0.3.86:8443"]}]
#                         (both allowed_cidrs: [127.0.0.0/8])
#             limits: {upstream_pool_size: 0, upstream_backoff_ms: 5000}
#           (c) upstream: ["127.0.0.22:8443", "10.1.2.3:8443"] on line 11 (flow
#           list); upstream: [block list "- 127.0.0.22:8443", "- 192.0.2.9"]
#           (line 15), allowed_cidrs [127.0.0.0/8], listener 127.0.5.86.
# Upstream: 127.0.0.40: nothing (refused); 127.0.0.22: recorder "record";
#           127.0.3.86: nothing, then a case-local recorder "c86" (leaf up-good).
# Expect:   (a) 6 x 200 from "record"; exactly one "upstream address
#           127.0.0.40:8443 of endpoint fixed is down for 5000 ms: upstream TCP
#           connect to 127.0.0.40:8443 (record.ddbgate.test) failed: Connection
#           refused" and one connect attempt to it in all; the blackhole got no
#           query.  (b) 502 ddbgate#ConnectionRefused, error=connection_refused;
#           after c86 started: 200 from "c86" and "upstream address
#           127.0.3.86:8443 of endpoint alldown is up again".  (c) check: exit 1
#           and "bad-flow.yaml:11:35: endpoints[0].upstream[1]: 10.1.2.3 is
#           outside allowed_cidrs" / "bad-block.yaml:15:9:
#           endpoints[0].upstream[1]: 192.0.2.9 is outside allowed_cidrs"; run:
#           exits 1 within 10 s with the same message.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
BH="$T/logs/dns-blackhole.log"
FAIL_SHOW+=("$BH")
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head 127.0.1.86
	cat <<YAML
resolver:
  servers: ["$DNS_BLACKHOLE"]
  timeout_ms: 200
endpoints:
YAML
	lgw_endpoint fixed record.ddbgate.test "[\"127.0.0.40:$UP_PORT\", \"127.0.0.22:$UP_PORT\"]"
	lgw_endpoint alldown other.ddbgate.test "[\"127.0.0.40:$UP_PORT\", \"127.0.3.86:$UP_PORT\"]"
	cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_backoff_ms: 5000
  upstream_timeout_s: 5
YAML
} >"$cfg"
lgw_start 127.0.1.86 "$cfg"

step "(a) fixed addresses: the refusing one is skipped"
bh0=$(log_mark "$BH")
t0=$(now_ms)
for _ in 1 2 3 4 5 6; do
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_from record
done
t1=$(now_ms)
[ $((t1 - t0)) -lt 4500 ] || fail "6 requests took $((t1 - t0)) ms, longer than the 5 s back-off this case counts on (slow machine?)"
grep 'upstream address\|127\.0\.0\.40' "$LGW_ERR" | sed 's/^/  /'
re='upstream address 127\.0\.0\.40:8443 of endpoint fixed is down for 5000 ms: upstream TCP connect to 127\.0\.0\.40:8443 \(record\.ddbgate\.test\) failed: Connection refused'
[ "$(grep -cE "$re" "$LGW_ERR")" = 1 ] || fail "expected one 'is down for 5000 ms' line for 127.0.0.40, got $(grep -cE "$re" "$LGW_ERR")"
n=$(grep -c 'upstream TCP connect to 127\.0\.0\.40:8443 ' "$LGW_ERR")
[ "$n" = 1 ] || fail "ddbgate tried 127.0.0.40 $n times during its back-off (expected 1)"
n=$(log_since "$BH" "$bh0" | grep -c ' udp query from ')
[ "$n" = 0 ] || fail "ddbgate sent $n DNS queries for an upstream list of IP literals"

step "(b) every address down: still tried; one comes back"
gw_request other.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 ConnectionRefused connection_refused '127\.0\.(0\.40|3\.86):8443'
grep -q 'upstream address 127\.0\.3\.86:8443 of endpoint alldown is down for 5000 ms' "$LGW_ERR" ||
	fail "127.0.3.86 was not marked down"
rec_start c86 127.0.3.86
# rec_start's port probe is a connection too: let the recorder file it first
for _ in $(seq 1 20); do [ "$(rec_mark c86)" -ge 1 ] && break; sleep 0.1; done
mc=$(rec_mark c86)
m=$(log_mark "$LGW_ERR")
gw_request other.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_from c86
line=$(wait_log "$LGW_ERR" "$m" 'upstream address 127\.0\.3\.86:8443 of endpoint alldown is up again' 20) || {
	log_since "$LGW_ERR" "$m"
	fail "no 'upstream address 127.0.3.86:8443 of endpoint alldown is up again' after a request succeeded there during its back-off"
}
echo "ddbgate: $line"
[ "$(rec_conns_since c86 "$mc" | wc -l)" = 1 ] || fail "c86 got $(rec_conns_since c86 "$mc" | wc -l) connections, expected 1"

step "(c) a literal outside allowed_cidrs is a load error"
bad_head() {
	cat <<YAML
region: us-east-1
listeners:
  - address: 127.0.5.86:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $PKI/gw-leaf.pem
      key: $PKI/gw-leaf.key
endpoints:
  - name: fixed
YAML
}
{
	bad_head
	echo '    upstream: ["127.0.0.22:8443", "10.1.2.3:8443"]'
	printf '    service: dynamodb\n    hosts: [record.ddbgate.test]\n    allowed_cidrs: [127.0.0.0/8]\n'
} >"$CASE_TMP/bad-flow.yaml"
{
	bad_head
	printf '    service: dynamodb\n    hosts: [record.ddbgate.test]\n    upstream:\n      - 127.0.0.22:8443\n      - 192.0.2.9\n'
	echo '    allowed_cidrs: [127.0.0.0/8]'
} >"$CASE_TMP/bad-block.yaml"
cat -n "$CASE_TMP/bad-flow.yaml" | sed -n 11p
cat -n "$CASE_TMP/bad-block.yaml" | sed -n 15p
check_bad() { # FILE REGEX
	local out rc
	out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/$1" 2>&1)
	rc=$?
	echo "check $1: exit $rc: $out"
	[ "$rc" = 1 ] || fail "ddbgate check on $1 exited $rc, expected 1"
	echo "$out" | grep -Eq -- "$2" || fail "ddbgate check on $1: no /$2/ in: $out"
	out=$(timeout 10 "$DDBGATE" run -c "$CASE_TMP/$1" 2>&1)
	rc=$?
	echo "run $1: exit $rc: $(echo "$out" | tail -n 2)"
	[ "$rc" = 1 ] || fail "ddbgate run on $1 exited $rc, expected 1 (124: it kept running)"
	echo "$out" | grep -Eq -- "$2" || fail "ddbgate run on $1: no /$2/ in: $out"
}
check_bad bad-flow.yaml 'bad-flow\.yaml:11:35: endpoints\[0\]\.upstream\[1\]: 10\.1\.2\.3 is outside allowed_cidrs'
check_bad bad-block.yaml 'bad-block\.yaml:15:9: endpoints\[0\]\.upstream\[1\]: 192\.0\.2\.9 is outside allowed_cidrs'

step "the case-local gateway stops cleanly"
lgw_stop
