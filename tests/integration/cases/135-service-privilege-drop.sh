# needs: gateway
# timeout: 30
#
# Started as root with `user` and `group`, ddbgate binds its listener on
# port 443 and then runs as that user and group, for good.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.135:443.
# Config:   case-local ddbgate 127.0.1.135:443 (sni), metrics off,
#             user: nobody, group: nogroup
#             endpoints: [{name: priv135, hosts: [record.ddbgate.test],
#                          upstream: 127.0.0.22:8443}]
# Upstream: recorder "record".
# Expect:   the log says "running as user nobody (uid 65534), group 65534";
#           /proc/PID/status: Uid and Gid all 65534, Groups 65534 only;
#           CapEff 0; the request is served (200 from the recorder).
#           Without user: a warning "running as root: set user".
#           Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (to start as root and drop)"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	skip "no user nobody or group nogroup"
IP=127.0.1.135
cfg="$CASE_TMP/ddbgate.yaml"
{
	printf 'user: nobody\ngroup: nogroup\n'
	svc_head $IP
	echo "endpoints:"
	lgw_endpoint priv135 record.ddbgate.test "127.0.0.22:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"

step "the process runs as nobody:nogroup"
grep -q 'running as user nobody (uid 65534), group 65534$' "$LGW_ERR" ||
	fail "no 'running as user nobody' log line"
st=/proc/$LGW_PID/status
grep -E '^(Uid|Gid|Groups|CapEff):' "$st" | sed 's/^/  /'
grep -Eq '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' "$st" || fail "Uid is not 65534 everywhere"
grep -Eq '^Gid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' "$st" || fail "Gid is not 65534 everywhere"
grep -Eq '^Groups:[[:space:]]+65534[[:space:]]*$' "$st" || fail "supplementary groups are not just 65534"
grep -Eq '^CapEff:[[:space:]]+0+$' "$st" || fail "effective capabilities are not empty"

step "and serves on port $GW_PORT"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200
lgw_stop

step "without user, a warning"
{
	svc_head $IP
	echo "endpoints:"
	lgw_endpoint priv135 record.ddbgate.test "127.0.0.22:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg"
grep -q 'running as root: set user (and group) so ddbgate drops its privileges after binding' "$LGW_ERR" ||
	fail "no warning about running as root"
lgw_stop
