# needs: infra ddbgate
# timeout: 60
#
# diag asks every configured resolver separately: a dead resolver, one
# that never answers and one that gives a public address each fail the
# dns layer (exit 4) with their own verdict and hint, even when another
# resolver answers; the layers after dns still run on what resolved.
# Client:   ddbgate diag -c CFG (human and --json), --timeout-ms 400 where
#           a timeout is expected.
# Config:   one endpoint dns121: hosts [record.ddbgate.test], upstream
#           vpce-dns121-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#           ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8];
#           resolver.servers, one configuration each:
#             good:        ["127.0.2.121:5353"]
#             good+dead:   ["127.0.2.121:5353", "127.0.6.121:5353"]
#             blackhole:   ["127.0.0.1:5354"]
#             good+public: ["127.0.2.121:5353", "127.0.7.121:5353"]
# Upstream: 127.0.2.121:5353 dnsmasq: the name -> 127.0.0.21 (stunnel ->
#           dynalite); 127.0.6.121:5353: nothing listens; 127.0.0.1:5354:
#           the test bed's resolver that reads queries and never answers;
#           127.0.7.121:5353 dnsmasq: the name -> 198.51.100.7 (public).
# Expect:   good: exit 0, dns PASS.
#           good+dead: exit 4; dns FAIL naming "127.0.6.121:5353
#             unreachable"; hint "nothing answers DNS at 127.0.6.121:5353
#             (port unreachable or connection refused)"; tcp and http PASS
#             on 127.0.0.21 from the good resolver.
#           blackhole: exit 4 within 2.5 s; dns FAIL "timeout", hint "no
#             answer from 127.0.0.1:5354 in 400 ms: check UDP/TCP 53 to the
#             resolver over the VPN, and that the Route 53 Resolver inbound
#             endpoint's security group allows this host"; the dns step
#             took >= 350 ms; tcp, tls, http SKIP; the blackhole logged
#             the queries (A and AAAA at least).
#           good+public: exit 4; dns FAIL, answer status "public" with
#             198.51.100.7 allowed=false; hint "resolves to a public
#             address (198.51.100.7 at 127.0.7.121:5353): traffic would
#             leave the private path; check that the name is an
#             endpoint-specific vpce name, or allow the prefix list
#             (docs/routing.md)"; agree false; tcp: 198.51.100.7:8443
#             not_contacted, 127.0.0.21:8443 connected.
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
NAME="vpce-dns121-1234.$VPCE_SUFFIX"
GOOD=127.0.2.121:5353 DEAD=127.0.6.121:5353 PUB=127.0.7.121:5353

dnsmasq_start "$GOOD" "$CASE_TMP/dnsmasq-good" --local-ttl=60 --host-record="$NAME,127.0.0.21"
dnsmasq_start "$PUB" "$CASE_TMP/dnsmasq-public" --local-ttl=60 --host-record="$NAME,$PUBLIC_IP"
conf() { # FILE SERVER...
	dg_endpoint dns121 record.ddbgate.test "$NAME:$UP_PORT" | dg_conf "$@"
}
conf "$CASE_TMP/good.yaml" "$GOOD"
conf "$CASE_TMP/dead.yaml" "$GOOD" "$DEAD"
conf "$CASE_TMP/blackhole.yaml" "$DNS_BLACKHOLE"
conf "$CASE_TMP/public.yaml" "$GOOD" "$PUB"

step "the answering resolver alone"
diag_run good -c "$CASE_TMP/good.yaml"
expect_exit 0
expect_line "^  PASS  dns +[0-9]+ ms  $NAME: $GOOD 127\.0\.0\.21 \(ttl 60\)"
diag_json good -c "$CASE_TMP/good.yaml"
expect_exit 0

step "a dead resolver next to the answering one"
diag_run dead -c "$CASE_TMP/dead.yaml"
expect_exit 4
expect_line "^  FAIL  dns +[0-9]+ ms  $NAME: $GOOD 127\.0\.0\.21 \(ttl 60\), $DEAD unreachable" \
	"^        hint: nothing answers DNS at 127\.0\.6\.121:5353 \(port unreachable or connection refused\)" \
	'^  PASS  tcp ' '^  PASS  http ' '^result: FAIL, first failing layer: dns \(exit 4\)$'
diag_json dead -c "$CASE_TMP/dead.yaml"
expect_exit 4
dq '[(a["resolver"], a["status"]) for a in ev("dns121", "dns")["names"][0]["answers"]] == [("127.0.2.121:5353", "ok"), ("127.0.6.121:5353", "unreachable")]' \
	"each resolver's own verdict"

step "a resolver that never answers"
mark=$(log_mark "$T/logs/dns-blackhole.log")
diag_run blackhole -c "$CASE_TMP/blackhole.yaml" --timeout-ms 400
expect_exit 4
expect_faster 2500 "a DNS timeout must end within its bound"
expect_line "^  FAIL  dns +[0-9]+ ms  $NAME: 127\.0\.0\.1:5354 timeout" \
	"^        hint: no answer from 127\.0\.0\.1:5354 in 400 ms: check UDP/TCP 53 to the resolver over the VPN, and that the Route 53 Resolver inbound endpoint's security group allows this host$" \
	'^  SKIP  tcp +[0-9]+ ms  no address to connect to' '^  SKIP  tls ' '^  SKIP  http '
n=$(log_since "$T/logs/dns-blackhole.log" "$mark" | grep -c 'udp query from 127\.0\.0\.1')
echo "the blackhole logged $n queries"
[ "$n" -ge 2 ] || fail "the blackhole resolver was not asked (A and AAAA)"
diag_json blackhole -c "$CASE_TMP/blackhole.yaml" --timeout-ms 400
expect_exit 4
dq 'ev("dns121", "dns")["names"][0]["answers"][0]["status"] == "timeout" and s("dns121", "dns")["duration_ms"] >= 350' \
	"the timeout took its bound, not less"
dq 'ev("dns121", "dns")["timeout_ms"] == 400 and s("dns121", "tcp")["status"] == "skip"' "bound recorded; tcp skipped"

step "a resolver that gives a public address"
diag_run public -c "$CASE_TMP/public.yaml"
expect_exit 4
expect_line "^  FAIL  dns +[0-9]+ ms  $NAME: $GOOD 127\.0\.0\.21 \(ttl 60\), $PUB public 198\.51\.100\.7 \(ttl 60\)" \
	'^        hint: vpce-dns121-1234\.dynamodb\.us-east-1\.vpce\.amazonaws\.com resolves to a public address \(198\.51\.100\.7 at 127\.0\.7\.121:5353\): traffic would leave the private path; check that the name is an endpoint-specific vpce name, or allow the prefix list \(docs/routing\.md\)$' \
	'^  PASS  tcp +[0-9]+ ms  1/1 connected: 127\.0\.0\.21:8443'
diag_json public -c "$CASE_TMP/public.yaml"
expect_exit 4
dq 'ev("dns121", "dns")["names"][0]["answers"][1]["status"] == "public" and ev("dns121", "dns")["names"][0]["answers"][1]["addresses"] == [{"address": "198.51.100.7", "ttl": 60, "allowed": False}]' \
	"the public answer, flagged"
dq 'ev("dns121", "dns")["names"][0]["agree"] is False' "the resolvers disagree"
dq 'sorted((a["address"], a["result"]) for a in ev("dns121", "tcp")["addresses"]) == [("127.0.0.21:8443", "connected"), ("198.51.100.7:8443", "not_contacted")]' \
	"no packet to the public address"
