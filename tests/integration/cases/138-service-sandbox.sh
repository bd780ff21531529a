# needs: gateway
# timeout: 60
#
# ddbgate confines itself once listening (sandbox: true, the default):
# Landlock limits file access to the directories of the files the
# configuration names (read) and to the state and log directories
# (write); a seccomp filter denies exec, ptrace, mounts and the like. A
# reload can read files replaced or added in those directories, not
# elsewhere; sandbox: false lifts both.
# Client:   curl signed ListTables to https://record.ddbgate.test/ via the
#           case-local gateway 127.0.1.138:443; TLS probes (serial of the
#           certificate served).
# Config:   case-local ddbgate 127.0.1.138:443 (sni), metrics off, its
#           files in CASE_TMP: etc/ddbgate.yaml, etc/tls/leaf.{pem,key}
#           (serial 138A), state/ (state_dir), logs/access.log
#           (access_log.path);
#             endpoints: [{name: sb138, hosts: [record.ddbgate.test],
#                          upstream: 127.0.0.22:8443}]
# Upstream: recorder "record".
# Expect:   log "sandbox: Landlock ABI N" (else the warning "file access is
#           not limited" and the Landlock steps skipped) and "sandbox:
#           seccomp filter: N system calls denied"; /proc/PID/status has
#           NoNewPrivs 1, Seccomp 2; 200 for the request.
#           (1) a new leaf (138B) written into etc/tls and named by the
#           configuration: SIGHUP → "reloaded", probes show 138B.
#           (2) the leaf (138C) in CASE_TMP/elsewhere: SIGHUP → "reload
#           failed, still serving generation 2: ... Permission denied (the
#           sandbox allows only the directories in use at start; ...)";
#           probes still show 138B; 200.
#           (3) access.log renamed, SIGUSR1: a new access.log is created in
#           logs/ and gets the next request's line.
#           (4) restarted with sandbox: false (config still naming
#           elsewhere/): warning "sandbox: false", Seccomp 0, and the
#           probe shows 138C. Last: exit 0 within 10 s of SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.138
etc="$CASE_TMP/etc" elsewhere="$CASE_TMP/elsewhere"
mkdir -p "$etc/tls" "$elsewhere" "$CASE_TMP/state" "$CASE_TMP/logs"
cfg="$etc/ddbgate.yaml"
svc_leaf "$etc/tls/leaf" 138A record.ddbgate.test

write_cfg() { # CERT KEY [SANDBOX]
	{
		[ -n "${3:-}" ] && echo "sandbox: $3"
		echo "state_dir: $CASE_TMP/state"
		svc_head $IP off "$1" "$2" | sed "s|^  path: \"-\"|  path: $CASE_TMP/logs/access.log|"
		echo "endpoints:"
		lgw_endpoint sb138 record.ddbgate.test "127.0.0.22:$UP_PORT"
	} >"$cfg"
}

# expect_serial WANT — the certificate served for record.ddbgate.test.
expect_serial() {
	local got
	got=$(tls_probe "$IP:$GW_PORT" record.ddbgate.test)
	echo "certificate served: $got"
	[ "$got" = "$1" ] || fail "expected the certificate with serial $1, got $got"
}

write_cfg "$etc/tls/leaf.pem" "$etc/tls/leaf.key"
grep -q "access.log" "$cfg" || fail "the access log path was not set in $cfg"
lgw_start $IP "$cfg"

step "the sandbox is on"
landlock=1
if line=$(grep -m1 'sandbox: Landlock ABI [0-9]' "$LGW_ERR"); then
	echo "$line"
else
	grep 'sandbox:' "$LGW_ERR"
	grep -q 'sandbox: .*: file access is not limited' "$LGW_ERR" ||
		fail "neither a Landlock line nor the warning that it is missing"
	landlock=0
fi
line=$(grep -m1 'sandbox: seccomp filter: [0-9]* system calls denied' "$LGW_ERR") ||
	fail "no seccomp log line"
echo "$line"
st=/proc/$LGW_PID/status
grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' "$st" | sed 's/^/  /'
grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$st" || fail "NoNewPrivs is not set"
grep -Eq '^Seccomp:[[:space:]]+2$' "$st" || fail "no seccomp filter on the main thread"
for t in /proc/$LGW_PID/task/*/status; do
	grep -Eq '^Seccomp:[[:space:]]+2$' "$t" || fail "a thread without the filter: $t"
done
echo "all $(find /proc/$LGW_PID/task -mindepth 1 -maxdepth 1 | wc -l) threads filtered"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200
expect_serial 138A

step "(1) a certificate rotated in its directory is read by a reload"
svc_leaf "$etc/tls/leaf-b" 138B record.ddbgate.test
write_cfg "$etc/tls/leaf-b.pem" "$etc/tls/leaf-b.key"
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" 'reloaded: serving generation 2|reload failed'
grep -q 'reloaded: serving generation 2' "$LGW_ERR" || fail "the reload of a file in etc/tls failed"
expect_serial 138B

step "(2) a file elsewhere is out of reach: the reload fails, generation 2 serves"
svc_leaf "$elsewhere/leaf" 138C record.ddbgate.test
write_cfg "$elsewhere/leaf.pem" "$elsewhere/leaf.key"
if [ "$landlock" = 1 ]; then
	signal_and_wait "$LGW_PID" HUP "$LGW_ERR" 'reloaded: serving generation 3|reload failed'
	grep -q "reload failed, still serving generation 2: .*$elsewhere/leaf.*Permission denied (the sandbox allows only the directories in use at start; restart ddbgate to read files elsewhere)" "$LGW_ERR" ||
		fail "no 'reload failed ... Permission denied (the sandbox ...)' line"
	expect_serial 138B
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_status 200
else
	echo "(skipped: no Landlock on this kernel)"
fi

step "(3) SIGUSR1 creates a new access log in the log directory"
mv "$CASE_TMP/logs/access.log" "$CASE_TMP/logs/access.log.1"
signal_and_wait "$LGW_PID" USR1 "$LGW_ERR" 'SIGUSR1: (log files reopened|cannot reopen)'
grep -q 'SIGUSR1: cannot reopen' "$LGW_ERR" && fail "the access log could not be reopened"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200
for _ in $(seq 1 30); do
	grep -q 'DynamoDB_20120810.ListTables' "$CASE_TMP/logs/access.log" 2>/dev/null && break
	sleep 0.1
done
[ -f "$CASE_TMP/logs/access.log" ] || fail "no new access.log after SIGUSR1"
grep -q 'DynamoDB_20120810.ListTables' "$CASE_TMP/logs/access.log" ||
	fail "the new access.log has no line for the request"
echo "new access.log: $(wc -l <"$CASE_TMP/logs/access.log") line(s)"
lgw_stop

step "(4) sandbox: false lifts both layers"
write_cfg "$elsewhere/leaf.pem" "$elsewhere/leaf.key" false
lgw_start $IP "$cfg"
grep -q 'sandbox: false: file access and system calls are not limited' "$LGW_ERR" ||
	fail "no warning that the sandbox is off"
grep -Eq '^Seccomp:[[:space:]]+0$' "/proc/$LGW_PID/status" || fail "a seccomp filter although sandbox: false"
expect_serial 138C
lgw_stop
