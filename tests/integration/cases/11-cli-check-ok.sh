# needs: ddbgate infra
# timeout: 15
#
# Client:   `ddbgate check -c ddbgate.yaml` on the very configuration the
#           gateway cases run with (run.sh write_gateway_conf: sni listener,
#           static certificate, dnsmasq resolver, 15 endpoints).
# Expect:   exit 0.
out=$(timeout 10 "$DDBGATE" check -c "$GW_CFG" 2>&1)
rc=$?
echo "exit $rc: $out"
[ "$rc" = 0 ] || { cat -n "$GW_CFG"; fail "ddbgate check on the test configuration exited $rc: $out"; }
