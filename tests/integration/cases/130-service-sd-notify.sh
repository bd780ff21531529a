# needs: gateway
# timeout: 40
#
# sd_notify: what ddbgate tells its service manager over NOTIFY_SOCKET, at
# start, on the watchdog's beat, on good / broken / refused reloads and on
# SIGTERM; WATCHDOG_PID naming another process turns the watchdog off.
# Client:   a Python AF_UNIX datagram receiver bound to $CASE_TMP/notify.sock
#           (one line per datagram: CLOCK_MONOTONIC seconds, the message with
#           newlines as \n); curl signed ListTables to https://record.ddbgate.test/
#           via the case-local gateway 127.0.1.130.
# Config:   run 1: NOTIFY_SOCKET=<case>/notify.sock WATCHDOG_USEC=400000
#           WATCHDOG_PID=<ddbgate's own pid> (sh -c 'WATCHDOG_PID=$$ exec ...');
#             listeners: [{address: 127.0.1.130:443, mode: sni}], gw-leaf,
#             resolver: ["127.0.0.1:5353"], metrics: {address: "off"},
#             endpoints: rec130 (record.ddbgate.test) and other130
#             (other.ddbgate.test), both -> vpce-record-1234...:8443.
#           gen 2: + endpoint third130 (nxdomain.ddbgate.test).  Broken: a YAML
#           syntax error.  Refused: listener 127.0.5.130.
#           run 2: WATCHDOG_USEC=400000 WATCHDOG_PID=1 (not ddbgate).
# Upstream: recorder "record".
# Expect:   run 1: the first message is exactly
#           "READY=1\nSTATUS=serving 2 endpoint(s), generation 1"; log
#           "watchdog: notifying every 200 ms"; >= 3 (and <= 10) "WATCHDOG=1"
#           within 1.5 s; ListTables 200.  Good SIGHUP: exactly
#           "RELOADING=1\nMONOTONIC_USEC=N\nSTATUS=reloading" (N within 1 s of
#           the receiver's CLOCK_MONOTONIC) then "READY=1\nSTATUS=serving
#           generation 2".  Broken: RELOADING..., then "READY=1\nSTATUS=reload
#           failed, serving generation 2: FILE:L:C: ..." (the same text as the
#           log's "reload failed, still serving generation 2: ...").  Refused:
#           RELOADING..., then "READY=1\nSTATUS=reload refused, serving
#           generation 2".  Watchdog still beating; ListTables 200.  SIGTERM:
#           "STOPPING=1\nSTATUS=draining", exit 0 within 10 s, nothing after
#           STOPPING.  run 2: READY as above, no "WATCHDOG=1" within 1.2 s and
#           no "watchdog:" log line; exit 0 on SIGTERM.
. "$IT_DIR/service_lib.sh"

IP=127.0.1.130
SOCK="$CASE_TMP/notify.sock"
NLOG="$CASE_TMP/notify.log"
cfg="$CASE_TMP/ddbgate.yaml"
[ ${#SOCK} -lt 100 ] || skip "the socket path $SOCK is too long for AF_UNIX"
FILE_RE=${cfg//./\\.}

# write_cfg [third] [broken] [listener2]
write_cfg() {
	local o=" $* " ip=$IP
	case $o in *" listener2 "*) ip=192.0.2.130 ;; esac
	{
		svc_head "$ip"
		cat <<YAML
resolver:
  servers: ["$DNS"]
  timeout_ms: 500
endpoints:
YAML
		lgw_endpoint rec130 record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
		lgw_endpoint other130 other.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
		case $o in *" third "*) lgw_endpoint third130 nxdomain.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT" ;; esac
		case $o in *" broken "*) echo '    hosts_extra: [a.example, b.example' ;; esac
		printf 'limits:\n  upstream_timeout_s: 5\n'
	} >"$cfg.new" && mv "$cfg.new" "$cfg"
}

# start_notified WATCHDOG_PID-VALUE|self BASE — like lgw_start (logs BASE.out,
# BASE.err), with the sd_notify environment.
start_notified() {
	local base=$2
	LGW_ERR="$base.err" LGW_OUT="$base.out"
	FAIL_SHOW+=("$cfg" "$LGW_ERR" "$LGW_OUT")
	if [ "$1" = self ]; then
		# shellcheck disable=SC2016 # $$ is the inner shell's pid, which exec keeps
		start_bg "$base" env NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=400000 \
			/bin/sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" run -c "$1"' "$DDBGATE" "$cfg"
	else
		start_bg "$base" env NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=400000 WATCHDOG_PID="$1" \
			"$DDBGATE" run -c "$cfg"
	fi
	LGW_PID=$BG_PID
	# shellcheck disable=SC2034 # gw_request (lib.sh) sends to GW_IP
	GW_IP=$IP
	wait_port "$IP" "$GW_PORT" "$LGW_PID" || { tail -n 20 "$LGW_ERR"; fail "the gateway did not listen on $IP:$GW_PORT"; }
}

# not_watchdog MARK — the messages after MARK other than WATCHDOG=1.
not_watchdog() { notify_msgs "$NLOG" "$1" | grep -vFx 'WATCHDOG=1'; }

# expect_msgs MARK TEXT... — the non-watchdog messages after MARK are exactly TEXT...
# (a TEXT of "RELOADING" stands for "RELOADING=1\nMONOTONIC_USEC=N\nSTATUS=reloading",
# N checked against the receiver's clock).
expect_msgs() {
	local mark=$1 got want i=0 line ts usec
	shift
	mapfile -t got < <(log_since "$NLOG" "$mark" | grep -v ' WATCHDOG=1$')
	echo "sd_notify messages (watchdog left out):"
	printf '  %s\n' "${got[@]}"
	[ "${#got[@]}" = "$#" ] || fail "expected $# sd_notify message(s) after the mark, got ${#got[@]}"
	for want in "$@"; do
		line=${got[$i]}
		ts=${line%% *}
		line=${line#* }
		if [ "$want" = RELOADING ]; then
			[[ $line =~ ^RELOADING=1\\nMONOTONIC_USEC=([0-9]+)\\nSTATUS=reloading$ ]] ||
				fail "message $((i + 1)) is '$line', expected RELOADING=1\\nMONOTONIC_USEC=N\\nSTATUS=reloading"
			usec=${BASH_REMATCH[1]}
			/usr/bin/python3 -c 'import sys; sys.exit(0 if abs(int(sys.argv[1]) / 1e6 - float(sys.argv[2])) < 1.0 else 1)' "$usec" "$ts" ||
				fail "MONOTONIC_USEC=$usec is not CLOCK_MONOTONIC now (the receiver read $ts s)"
		else
			[ "$line" = "$want" ] || fail "message $((i + 1)) is '$line', expected '$want'"
		fi
		i=$((i + 1))
	done
}

notify_start "$SOCK" "$NLOG"
write_cfg

step "run 1: start (WATCHDOG_PID = ddbgate's own pid)"
start_notified self "$CASE_TMP/lgw"
notify_wait "$NLOG" 0 'READY=1\nSTATUS=serving 2 endpoint(s), generation 1' ||
	fail "no READY=1\\nSTATUS=serving 2 endpoint(s), generation 1"
first=$(notify_msgs "$NLOG" 0 | head -n 1)
[ "$first" = 'READY=1\nSTATUS=serving 2 endpoint(s), generation 1' ] || fail "the first message is '$first', expected READY"
wait_log "$LGW_ERR" 0 'watchdog: notifying every 200 ms$' 30 || fail "no 'watchdog: notifying every 200 ms' log line"

step "the watchdog beats every WATCHDOG_USEC/2"
m=$(log_mark "$NLOG")
sleep 1.5
nwd=$(notify_msgs "$NLOG" "$m" | grep -cFx 'WATCHDOG=1')
echo "WATCHDOG=1 messages in 1.5 s: $nwd"
[ "$nwd" -ge 3 ] || fail "only $nwd WATCHDOG=1 in 1.5 s with WATCHDOG_USEC=400000 (expected about 7)"
[ "$nwd" -le 10 ] || fail "$nwd WATCHDOG=1 in 1.5 s with WATCHDOG_USEC=400000 (expected about 7)"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200

step "a good reload"
write_cfg third
m=$(log_mark "$NLOG")
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reloaded: serving generation 2 from $FILE_RE\$"
notify_wait "$NLOG" "$m" 'READY=1\nSTATUS=serving generation 2' || fail "no READY=1\\nSTATUS=serving generation 2 after the reload"
expect_msgs "$m" RELOADING 'READY=1\nSTATUS=serving generation 2'

step "a broken file"
write_cfg third broken
m=$(log_mark "$NLOG")
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" "reload failed, still serving generation 2: $FILE_RE:[0-9]+:[0-9]+: "
err=$(log_since "$LGW_ERR" 0 | sed -n 's/.*reload failed, still serving generation 2: //p' | tail -n 1)
notify_wait "$NLOG" "$m" "READY=1\\nSTATUS=reload failed, serving generation 2: ${err:0:200}" ||
	fail "no READY=1\\nSTATUS=reload failed, serving generation 2: $err"
expect_msgs "$m" RELOADING "READY=1\\nSTATUS=reload failed, serving generation 2: ${err:0:200}"

step "a listener that cannot be bound (192.0.2.130)"
write_cfg third listener2
m=$(log_mark "$NLOG")
signal_and_wait "$LGW_PID" HUP "$LGW_ERR" 'reload refused, still serving generation 2: listeners\[0\] 192\.0\.2\.130:[0-9]+: '
notify_wait "$NLOG" "$m" 'READY=1\nSTATUS=reload refused, serving generation 2' ||
	fail "no READY=1\\nSTATUS=reload refused, serving generation 2"
expect_msgs "$m" RELOADING 'READY=1\nSTATUS=reload refused, serving generation 2'
m=$(log_mark "$NLOG")
sleep 0.5
notify_msgs "$NLOG" "$m" | grep -qFx 'WATCHDOG=1' || fail "no WATCHDOG=1 within 0.5 s after the reloads"
gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
expect_status 200

step "SIGTERM"
m=$(log_mark "$NLOG")
kill -TERM "$LGW_PID"
wait_exit "$LGW_PID" 100 || fail "ddbgate still runs 10 s after SIGTERM"
[ "$EXIT_ST" = 0 ] || fail "ddbgate exited with status $EXIT_ST after SIGTERM"
sleep 0.3 # the receiver writes what it got
expect_msgs "$m" 'STOPPING=1\nSTATUS=draining'
after=$(notify_msgs "$NLOG" "$m" | sed -n '/^STOPPING=1/,$p' | tail -n +2)
[ -z "$after" ] || fail "messages after STOPPING=1: $after"
echo "exit 0 after SIGTERM"

step "run 2: WATCHDOG_PID names another process: no watchdog"
write_cfg
m=$(log_mark "$NLOG")
start_notified 1 "$CASE_TMP/lgw2"
notify_wait "$NLOG" "$m" 'READY=1\nSTATUS=serving 2 endpoint(s), generation 1' ||
	fail "run 2: no READY=1\\nSTATUS=serving 2 endpoint(s), generation 1"
sleep 1.2
notify_msgs "$NLOG" "$m" | grep -qFx 'WATCHDOG=1' && fail "WATCHDOG=1 sent although WATCHDOG_PID=1 is not ddbgate"
grep 'watchdog:' "$LGW_ERR" && fail "a watchdog started although WATCHDOG_PID=1 is not ddbgate"
echo "no watchdog with WATCHDOG_PID=1"
lgw_stop
