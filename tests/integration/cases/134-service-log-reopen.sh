# needs: gateway
# timeout: 40
#
# SIGUSR1 reopens the access log and the audit log under their configured
# names (logrotate: mv the files, kill -USR1): later lines go to new files,
# the moved files keep what was written before; without a move, SIGUSR1
# appends to the same file.
# Client:   curl signed requests to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.134: ListTables (1), DescribeLimits (2),
#           DescribeEndpoints (3), each once.
# Config:   case-local ddbgate 127.0.1.134:443 (sni), metrics off:
#             access_log: {path: <case>/access.log}
#             audit: {path: <case>/audit.log}
#             endpoints: [{name: rot134, hosts: [record.ddbgate.test],
#                          upstream: 127.0.0.22:8443}]
# Upstream: recorder "record".
# Expect:   request 1: one line each in access.log and audit.log; mv them to
#           access.log.1 and audit.log.1; SIGUSR1: "SIGUSR1: log files reopened
#           (access <case>/access.log, audit <case>/audit.log)"; new empty
#           access.log and audit.log; request 2: its lines (target
#           DynamoDB_20120810.DescribeLimits, eventName DescribeLimits) in the
#           new files only; the .1 files still hold exactly request 1's line.
#           SIGUSR1 without a move, request 3: the new files hold requests 2 and
#           3 (appended, not truncated).  Nothing on stdout.  Last: exit 0
#           within 10 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.134
R=record.ddbgate.test
P=DynamoDB_20120810
cfg="$CASE_TMP/ddbgate.yaml"
AL="$CASE_TMP/access.log"
AU="$CASE_TMP/audit.log"
FAIL_SHOW+=("$AL" "$AU" "$AL.1" "$AU.1")
{
	svc_head $IP | sed "s|^  path: \"-\"|  path: $AL|"
	printf 'audit:\n  path: %s\n' "$AU"
	echo "endpoints:"
	lgw_endpoint rot134 $R "127.0.0.22:$UP_PORT"
	printf 'limits:\n  upstream_timeout_s: 5\n'
} >"$cfg"
grep -q "^  path: $AL\$" "$cfg" || fail "could not set access_log.path in $cfg"
lgw_start $IP "$cfg"

# lines FILE — how many lines FILE has (0 when missing).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# wait_lines FILE N — FILE has N lines (3 s).
wait_lines() {
	for _ in $(seq 1 30); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	fail "$1 has $(lines "$1") line(s), expected $2"
}
# expect_file FILE WHAT EXPR... — FILE has exactly as many lines as EXPRs, line i matching ERE i.
expect_file() {
	local f=$1 what=$2 i=1 re
	shift 2
	sed 's/^/  /' "$f"
	[ "$(lines "$f")" = "$#" ] || fail "$what: $f has $(lines "$f") line(s), expected $#"
	for re in "$@"; do
		sed -n "${i}p" "$f" | grep -Eq -- "$re" || fail "$what: line $i of $f does not match /$re/"
		i=$((i + 1))
	done
	echo "$what: $f as expected"
}
A1="endpoint=rot134 host=$R target=$P.ListTables status=200 "
A2="endpoint=rot134 host=$R target=$P.DescribeLimits status=200 "
A3="endpoint=rot134 host=$R target=$P.DescribeEndpoints status=200 "

step "request 1"
gw_request $R $P.ListTables '{}'
expect_status 200
wait_lines "$AL" 1
wait_lines "$AU" 1
expect_file "$AL" "before the rotation" "$A1"
expect_file "$AU" "before the rotation" '"eventName":"ListTables"'

step "logrotate: mv, then SIGUSR1"
mv "$AL" "$AL.1"
mv "$AU" "$AU.1"
signal_and_wait "$LGW_PID" USR1 "$LGW_ERR" "SIGUSR1: log files reopened \\(access ${AL//./\\.}, audit ${AU//./\\.}\\)\$"
[ -f "$AL" ] || fail "no new $AL after SIGUSR1"
[ -f "$AU" ] || fail "no new $AU after SIGUSR1"
echo "new files: $(stat -c '%A %s %n' "$AL" "$AU" | tr '\n' ' ')"

step "request 2"
gw_request $R $P.DescribeLimits '{}'
expect_status 200
wait_lines "$AL" 1
wait_lines "$AU" 1
sleep 0.2
expect_file "$AL" "after the rotation" "$A2"
expect_file "$AU" "after the rotation" '"eventName":"DescribeLimits"'
expect_file "$AL.1" "the rotated access log" "$A1"
expect_file "$AU.1" "the rotated audit log" '"eventName":"ListTables"'

step "SIGUSR1 without a move appends"
signal_and_wait "$LGW_PID" USR1 "$LGW_ERR" 'SIGUSR1: log files reopened'
gw_request $R $P.DescribeEndpoints '{}'
expect_status 200
wait_lines "$AL" 2
wait_lines "$AU" 2
sleep 0.2
expect_file "$AL" "after a second SIGUSR1" "$A2" "$A3"
expect_file "$AU" "after a second SIGUSR1" '"eventName":"DescribeLimits"' '"eventName":"DescribeEndpoints"'
expect_file "$AL.1" "the rotated access log" "$A1"
[ ! -s "$LGW_OUT" ] || fail "ddbgate wrote to stdout although both logs go to files: $(head -c 300 "$LGW_OUT")"

step "the case-local gateway stops cleanly"
lgw_stop
