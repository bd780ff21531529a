# needs: infra ddbgate
# timeout: 60
#
# diag connects to every address: a refused connection (RST) and one
# whose packets are dropped (no SYN-ACK: an unreachable Availability Zone
# or a missing route) are told apart, each with its hint; the connects of
# one endpoint run at once under one bound; exit 5 even when another
# address works, and the layers after tcp run on what connected.
# Client:   ddbgate diag -c CFG --endpoint NAME [--timeout-ms 500] (human
#           and --json).
# Config:   resolver: ["127.0.2.123:5353"]; endpoints (ca_file
#           upstream-ca.pem, allowed_cidrs [127.0.0.0/8]):
#             refused123: upstream 127.0.0.40:8443 (nothing listens)
#             drop123:    upstream 127.0.5.123:8443
#             mixed123:   upstream [127.0.0.21:8443, 127.0.0.40:8443]
#             az123:      upstream vpce-az123-1234...:8443
# Upstream: iptables in the run's network namespace drops every packet to
#           127.0.5.123 and 127.0.5.223 (rules removed when the case ends);
#           dnsmasq 127.0.2.123:5353: vpce-az123-1234... -> 127.0.5.123 and
#           127.0.5.223 (two "zones" that both drop); 127.0.0.21: stunnel ->
#           dynalite.
# Expect:   refused123: exit 5; "FAIL tcp ... 0/1 connected: 127.0.0.40:8443
#             refused"; hint "something answered 127.0.0.40:8443 with RST: a
#             host without a listener on 8443; is this the endpoint's network
#             interface (ENI)?"; tls and http SKIP.
#           drop123 (--timeout-ms 500): exit 5 in under 2.5 s; "timeout";
#             hint "no SYN-ACK from 127.0.5.123:8443 within 500 ms: check the
#             route to this Availability Zone over Direct Connect/VPN, and TCP
#             8443 in the endpoint's security group"; the tcp step took
#             >= 450 ms.
#           mixed123: exit 5; "1/2 connected"; tls and http still run on
#             127.0.0.21 (http PASS); "first failing layer: tcp (exit 5)".
#           az123 (--timeout-ms 500): both addresses time out, and the tcp
#             step takes less than 900 ms (the connects run at once).
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
DNS123=127.0.2.123:5353
AZ="vpce-az123-1234.$VPCE_SUFFIX"

dg_drop 127.0.5.123
dg_drop 127.0.5.223
printf '%s %s\n' 127.0.5.123 "$AZ" 127.0.5.223 "$AZ" >"$CASE_TMP/hosts"
dnsmasq_start "$DNS123" "$CASE_TMP/dnsmasq" --addn-hosts="$CASE_TMP/hosts" --local-ttl=30
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint refused123 record.ddbgate.test "127.0.0.40:$UP_PORT"
	dg_endpoint drop123 other.ddbgate.test "127.0.5.123:$UP_PORT"
	dg_endpoint mixed123 dynamodb.us-east-1.amazonaws.com "[127.0.0.21:$UP_PORT, 127.0.0.40:$UP_PORT]"
	dg_endpoint az123 guard.ddbgate.test "$AZ:$UP_PORT"
} | dg_conf "$cfg" "$DNS123"

step "connection refused"
diag_run refused -c "$cfg" --endpoint refused123
expect_exit 5
expect_line '^  SKIP  dns +[0-9]+ ms  upstream is fixed addresses: nothing to resolve$' \
	'^  FAIL  tcp +[0-9]+ ms  0/1 connected: 127\.0\.0\.40:8443 refused$' \
	"^        hint: something answered 127\.0\.0\.40:8443 with RST: a host without a listener on 8443; is this the endpoint's network interface \(ENI\)\?$" \
	'^  SKIP  tls ' '^  SKIP  http ' '^result: FAIL, first failing layer: tcp \(exit 5\)$'
diag_json refused -c "$CASE_TMP/diag.yaml" --endpoint refused123
dq '[(a["address"], a["name"], a["result"]) for a in ev("refused123", "tcp")["addresses"]] == [("127.0.0.40:8443", "literal", "refused")]' \
	"refused, with the address and where it came from"

step "packets dropped: no SYN-ACK"
diag_run drop -c "$cfg" --endpoint drop123 --timeout-ms 500
expect_exit 5
expect_faster 2500 "a dropped connect must end within its bound"
expect_line '^  FAIL  tcp +[0-9]+ ms  0/1 connected: 127\.0\.5\.123:8443 timeout$' \
	"^        hint: no SYN-ACK from 127\.0\.5\.123:8443 within 500 ms: check the route to this Availability Zone over Direct Connect/VPN, and TCP 8443 in the endpoint's security group$"
diag_json drop -c "$cfg" --endpoint drop123 --timeout-ms 500
dq 'ev("drop123", "tcp")["addresses"][0]["result"] == "timeout" and s("drop123", "tcp")["duration_ms"] >= 450' \
	"timed out after its bound"

step "one address refuses, the other works"
diag_run mixed -c "$cfg" --endpoint mixed123
expect_exit 5
expect_line '^  FAIL  tcp +[0-9]+ ms  1/2 connected: 127\.0\.0\.21:8443 [0-9]+ ms, 127\.0\.0\.40:8443 refused$' \
	'^  (PASS|WARN)  tls +[0-9]+ ms  1/1 verified' '^  PASS  http +[0-9]+ ms  1/1 answered 400 MissingAuthenticationTokenException' \
	'^result: FAIL, first failing layer: tcp \(exit 5\)$'
diag_json mixed -c "$cfg" --endpoint mixed123
dq 'sorted(a["result"] for a in ev("mixed123", "tcp")["addresses"]) == ["connected", "refused"]' "one of each"

step "two zones that drop, connected at once"
diag_json az -c "$cfg" --endpoint az123 --timeout-ms 500
expect_exit 5
dq 'sorted((a["address"], a["name"], a["result"]) for a in ev("az123", "tcp")["addresses"]) == [("127.0.5.123:8443", "'"$AZ"'", "timeout"), ("127.0.5.223:8443", "'"$AZ"'", "timeout")]' \
	"both addresses of the name timed out"
dq '450 <= s("az123", "tcp")["duration_ms"] < 900' "both connects under one bound, not one after the other"
