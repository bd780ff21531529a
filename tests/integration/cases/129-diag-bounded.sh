# needs: infra ddbgate
# timeout: 60
#
# diag never hangs: a resolver that never answers, an address that drops
# every packet, a port that takes the connection but never speaks TLS and
# a TLS server that never answers HTTP each end at --timeout-ms with
# their own verdict; the whole run stops at --total-timeout-ms, and what
# could not run then fails (it was not checked) with a hint saying so.
# Client:   ddbgate diag -c CFG --json --timeout-ms 300; then --timeout-ms
#           1000 --total-timeout-ms 1500.
# Config:   resolver: ["127.0.0.1:5354"] (never answers); endpoints
#           (ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8]):
#             dns129:  record.ddbgate.test -> vpce-slow129-1234...:8443
#             tcp129:  other.ddbgate.test  -> 127.0.5.129:8443 (dropped)
#             tls129:  guard.ddbgate.test  -> 127.0.0.1:5354 (TCP accepted,
#                      held, never a byte back)
#             http129: slow.ddbgate.test   -> 127.0.3.129:8443 (stunnel, a
#                      90-day leaf, -> 127.0.0.1:5354)
# Upstream: the test bed's blackhole (DNS and TCP on 127.0.0.1:5354);
#           iptables drops every packet to 127.0.5.129.
# Expect:   --timeout-ms 300: exit 4 in under 3 s; dns129 dns "timeout",
#             tcp129 tcp "timeout", tls129 tls "timeout" (hint: "something
#             accepted the TCP connection but does not speak TLS"), http129
#             http "timeout"; each of those steps took 250..1000 ms.
#           --timeout-ms 1000 --total-timeout-ms 1500: exit 4 in under 2.5 s;
#             dns129's dns took ~1000 ms; tcp129's tcp timed out within the
#             500 ms left; tls129's and http129's tcp FAIL "not started: the
#             run's time limit (--total-timeout-ms) is used up" with the hint
#             "the whole run's time limit (--total-timeout-ms 1500) ran out
#             before this check".
#           Both documents validate against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
dg_drop 127.0.5.129
dg_leaf h129 90 slow.ddbgate.test slow.ddbgate.test
dg_front slow129 127.0.3.129 "$CASE_TMP/h129.pem" "$CASE_TMP/h129.key" "$DNS_BLACKHOLE"
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint dns129 record.ddbgate.test "vpce-slow129-1234.$VPCE_SUFFIX:$UP_PORT"
	dg_endpoint tcp129 other.ddbgate.test "127.0.5.129:$UP_PORT"
	dg_endpoint tls129 guard.ddbgate.test "$DNS_BLACKHOLE"
	dg_endpoint http129 slow.ddbgate.test "127.0.3.129:$UP_PORT"
} | dg_conf "$cfg" "$DNS_BLACKHOLE"

step "every kind of silence, each bounded"
diag_json quiet -c "$cfg" --timeout-ms 300
expect_exit 4
expect_faster 3000 "four timeouts of 300 ms"
dq 'ev("dns129", "dns")["names"][0]["answers"][0]["status"] == "timeout"' "dns: timeout"
dq 'ev("tcp129", "tcp")["addresses"][0]["result"] == "timeout"' "tcp: timeout"
dq 'ev("tls129", "tls")["handshakes"][0]["result"] == "timeout" and "does not speak TLS" in s("tls129", "tls")["hint"]' "tls: timeout"
dq 'ev("http129", "http")["responses"][0]["result"] == "timeout"' "http: timeout"
dq 'all(250 <= s(n, l)["duration_ms"] < 1000 for n, l in (("dns129", "dns"), ("tcp129", "tcp"), ("tls129", "tls"), ("http129", "http")))' \
	"each wait took its bound, not more"

step "the whole run's ceiling"
diag_json ceiling -c "$cfg" --timeout-ms 1000 --total-timeout-ms 1500
expect_exit 4
expect_faster 2500 "the run must stop at its ceiling"
dq '900 <= s("dns129", "dns")["duration_ms"] < 1300' "dns took its own bound"
dq 'ev("tcp129", "tcp")["addresses"][0]["result"] == "timeout" and s("tcp129", "tcp")["duration_ms"] < 700' "tcp got what was left"
dq 'all(s(n, "tcp")["status"] == "fail" and s(n, "tcp")["summary"].startswith("not started: the run") for n in ("tls129", "http129"))' \
	"what could not run fails"
dq '"the whole run'"'"'s time limit (--total-timeout-ms 1500) ran out before this check" in s("http129", "tcp")["hint"]' "and says why"
