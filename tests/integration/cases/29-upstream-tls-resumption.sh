# needs: gateway
# timeout: 40
#
# Upstream TLS session resumption: a new upstream connection to a name and
# address ddbgate has verified before resumes the session the server gave it
# (TLS 1.3 ticket) instead of a full handshake; a reload starts afresh.
# Client:   rawclient.py, one signed ListTables per client connection.
# Config:   case-local ddbgate on 127.0.1.29, workers: 1,
#           limits.upstream_pool_size: 0 (no pooling: every request opens an
#           upstream connection), endpoint rec29 (record.ddbgate.test ->
#           127.0.0.22:8443), run with -d (debug log).
# Upstream: recorder.py "record" (Python ssl server: TLS 1.3, issues tickets,
#           logs resumed=0/1 per connection).
# Expect:   (a) four requests, each 200 from the recorder on a new upstream
#           connection: the first a full handshake (resumed=0), the next three
#           resumed (resumed=1), all with SNI record.ddbgate.test; ddbgate's
#           debug log says "session resumed" three times;
#           (b) after SIGHUP (generation 2: new TLS contexts, nothing kept),
#           the next connection is a full handshake again, then resumed.
#           Last: exit 0 after SIGTERM.
IP=127.0.1.29
H=record.ddbgate.test
cfg="$CASE_TMP/ddbgate.yaml"
{
	lgw_head $IP
	echo "workers: 1"
	echo "limits:"
	echo "  upstream_pool_size: 0"
	echo "endpoints:"
	lgw_endpoint rec29 $H "127.0.0.22:$UP_PORT"
} >"$cfg"
lgw_start $IP "$cfg" -d

# request — one signed ListTables on a new client connection; prints the
# recorder connection number it arrived on.
request() {
	build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
	raw_send $H "$CASE_TMP/req" 1 --timeout 8 >/dev/null
	raw_use 1
	expect_from record >/dev/null
	local r
	r=$(rid)       # rec-record-<conn>-<n>
	r=${r#rec-record-}
	echo "${r%-*}"
}

# resumed CONN — the recorder's resumed= for connection CONN.
resumed() {
	local line
	for _ in $(seq 1 20); do
		line=$(grep " conn=$1 handshake ok" "$REC/record/events.log")
		[ -n "$line" ] && break
		sleep 0.1
	done
	grep -q " conn=$1 sni=$H\$" "$REC/record/events.log" || fail "connection $1 did not carry SNI $H"
	case "$line" in
	*resumed=1*) echo 1 ;;
	*resumed=0*) echo 0 ;;
	*) fail "no handshake line for recorder connection $1: '$line'" ;;
	esac
}

step "(a) the first upstream connection is a full handshake, the next ones resume"
emark=$(log_mark "$LGW_ERR")
got=""
prev=0
for i in 1 2 3 4; do
	c=$(request)
	[ -n "$c" ] || fail "request $i: no recorder connection number"
	[ "$c" -gt "$prev" ] || fail "request $i reused recorder connection $c (pool size 0 must open a new one)"
	prev=$c
	got="$got$(resumed "$c")"
done
echo "resumed per connection: $got"
[ "$got" = 0111 ] || fail "expected a full handshake then three resumptions (0111), got $got"
n=$(log_since "$LGW_ERR" "$emark" | grep -c 'session resumed')
[ "$n" = 3 ] || fail "ddbgate logged $n resumed upstream handshakes, expected 3"

step "(b) a reload keeps no session"
emark=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
wait_log "$LGW_ERR" "$emark" 'reloaded: serving generation 2' 50 >/dev/null || fail "no generation 2 after SIGHUP"
got=""
for i in 1 2; do
	got="$got$(resumed "$(request)")"
done
echo "after the reload, resumed per connection: $got"
[ "$got" = 01 ] || fail "expected a full handshake after the reload, then a resumption (01), got $got"

lgw_stop
