# needs: infra
# timeout: 20
#
# Proves the test DNS before ddbgate uses it (no ddbgate involved).
# Client:   dnstool.py query -> dnsmasq at $DNS (UDP).
# Config:   dnsmasq with local=/vpce.amazonaws.com/ and /ddbgate.test/, one
#           host-record per upstream routing name, server=/slow.vpce.../ -> blackhole.
# Expect:   vpce-good-1234... -> 127.0.0.21 (stunnel front), vpce-record-1234... -> 127.0.0.22,
#           vpce-public-1234... -> 198.51.100.7 (only ever resolved, never contacted),
#           vpce-missing-1234... -> NXDOMAIN, a name under slow.vpce.amazonaws.com -> no answer
#           (TIMEOUT), and the blackhole resolver itself never answers.
q() { /usr/bin/python3 "$IT_DIR/dnstool.py" query "$@"; }
V=dynamodb.us-east-1.vpce.amazonaws.com
check() { # SERVER NAME WANT
	local got
	got=$(q "$1" "$2")
	echo "$2 @$1 -> $got"
	[ "$got" = "$3" ] || fail "$2 resolved to '$got', expected '$3'"
}
check "$DNS" "vpce-good-1234.$V" "NOERROR 127.0.0.21"
check "$DNS" "vpce-record-1234.$V" "NOERROR 127.0.0.22"
check "$DNS" "vpce-expired-1234.$V" "NOERROR 127.0.0.31"
check "$DNS" "vpce-closed-1234.$V" "NOERROR $CLOSED_IP"
check "$DNS" "vpce-public-1234.$V" "NOERROR $PUBLIC_IP"
check "$DNS" "vpce-missing-1234.$V" "NXDOMAIN"
check "$DNS" "vpce-1234.slow.vpce.amazonaws.com" "TIMEOUT"
check "$DNS_BLACKHOLE" "vpce-good-1234.$V" "TIMEOUT"
