#!/bin/bash
# tests/integration/run.sh [BUILD_DIR] [CASE...]
#
# Runs ddbgate's integration cases against real programs: dnsmasq (DNS),
# dynalite behind stunnel (DynamoDB over TLS), recorder.py (TLS upstreams that
# record every byte), curl, the AWS CLI and boto3 from Debian.
#
#   BUILD_DIR   directory holding the ddbgate binary (default: <repo>/build)
#   CASE        case names or shell patterns (e.g. 'tls-*'); default: all,
#               in the order of cases/NN-name.sh
#
# Prints "ok - NAME", "not ok - NAME (reason)" or "skip - NAME (reason)" per
# case (with the logs of a failed case, as "#" lines), then exactly one line
# "N passed, N failed, N skipped".  Exit 1 if any case failed.
#
# Everything binds 127.0.0.0/8 only.  As root the whole run goes into a new
# network + mount namespace (unshare --net --mount) that has nothing but
# loopback, so not one packet can leave the machine, whatever ddbgate does;
# DDBGATE_IT_NETNS=0 turns that off.  Every process started has its PID in
# $T/pids and is killed by PID on exit; all files live in one mktemp -d
# directory, removed at the end unless DDBGATE_KEEP_TMP=1.
#
# Environment: DDBGATE_KEEP_TMP=1 keep the temp dir; DDBGATE_IT_NETNS=0 no
# private network namespace; DDBGATE_IT_VERBOSE=1 print every case's log.

set -u

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$IT_DIR/../.." && pwd)

# --- arguments ---------------------------------------------------------------
# The first argument is BUILD_DIR when it is a directory, contains a "/", or
# names no case; the rest select cases.
# Case files are cases/NN-name.sh or cases/NNN-name.sh (100 and up).
is_case() { compgen -G "$IT_DIR/cases/[0-9][0-9]-$1.sh" >/dev/null || compgen -G "$IT_DIR/cases/[0-9][0-9][0-9]-$1.sh" >/dev/null; }
BUILD_DIR="$REPO/build"
if [ -n "${DDBGATE_IT_BUILD_DIR:-}" ]; then
	BUILD_DIR=$DDBGATE_IT_BUILD_DIR # re-executed in the namespace
elif [ $# -gt 0 ] && { [ -d "$1" ] || [[ $1 == */* ]] || ! is_case "$1"; }; then
	BUILD_DIR=$1
	[[ $BUILD_DIR == /* ]] || BUILD_DIR="$PWD/$BUILD_DIR"
	shift
fi
SELECT=("$@")

# --- dynalite from npm (before the namespace: it has no network) -------------
NPM_ERR=""
if [ -z "${DDBGATE_IT_IN_NETNS:-}" ] && [ ! -f "$REPO/tests/node_modules/dynalite/cli.js" ] && command -v npm >/dev/null; then
	echo "# installing dynalite: (cd tests && npm ci)"
	NPM_ERR=$(cd "$REPO/tests" && npm ci --no-audit --no-fund 2>&1 >/dev/null | tail -n 3 | tr '\n' ' ')
fi
export NPM_ERR

# --- a private network namespace (root only) ---------------------------------
if [ "${DDBGATE_IT_NETNS:-1}" = 1 ] && [ -z "${DDBGATE_IT_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	command -v ip >/dev/null && unshare --net --mount true 2>/dev/null; then
	export DDBGATE_IT_IN_NETNS=1
	exec unshare --net --mount --propagation private -- /bin/bash "$0" "$BUILD_DIR" "$@"
fi
IN_NETNS=0
if [ -n "${DDBGATE_IT_IN_NETNS:-}" ]; then
	ip link set lo up || { echo "cannot bring up lo in the test namespace"; exit 1; }
	IN_NETNS=1
fi

# --- layout --------------------------------------------------------------------
export IT_DIR REPO IN_NETNS
export DDBGATE="$BUILD_DIR/ddbgate"
export GW_IP=127.0.0.80 GW_PORT=443
[ "$(id -u)" = 0 ] || GW_PORT=10443
export DNS=127.0.0.1:5353 DNS_BLACKHOLE=127.0.0.1:5354
export DYNALITE_IP=127.0.0.20 DYNALITE_PORT=8000
export UP_PORT=8443
export AKID=AKIDDDBGATETEST00001 SECRET=ddbgate-test-secret-key-not-real-000000
VPCE=dynamodb.us-east-1.vpce.amazonaws.com

T=$(mktemp -d "${TMPDIR:-/tmp}/ddbgate-it.XXXXXX")
export T PKI="$T/pki" REC="$T/rec"
mkdir -p "$T/logs" "$T/cases" "$REC" "$T/home" "$T/tmp"
export TMPDIR="$T/tmp" # whatever a tool creates goes under $T too
: >"$T/pids"
export GW_CFG="$T/ddbgate.yaml" GW_OUT="$T/logs/ddbgate.out" GW_ERR="$T/logs/ddbgate.err"

PASSED=0 FAILED=0 SKIPPED=0
START_TIME=$(date +%s)

cleanup() {
	local p i alive
	# Kill by recorded PID only: TERM, up to 3 s grace, then KILL.
	for p in $(tac "$T/pids" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 1 30); do
		alive=0
		while read -r p; do kill -0 "$p" 2>/dev/null && alive=1; done <"$T/pids"
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$T/pids"
	if [ "${DDBGATE_KEEP_TMP:-0}" = 1 ]; then
		echo "# temp dir kept: $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$@"; }
diag() { sed 's/^/#   /'; }

# --- clients' environment ----------------------------------------------------------
# Dummy credentials in files we write; no instance metadata; the gateway CA
# explicitly (the machine may export AWS_CA_BUNDLE); no proxy variables.
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
export HOME="$T/home"
# curl negotiates h2 by itself: the cases test HTTP/1.1 unless they ask
# for --http2 (cases 140-145)
printf -- "--http1.1\n" >"$HOME/.curlrc"
export AWS_SHARED_CREDENTIALS_FILE="$T/aws-credentials" AWS_CONFIG_FILE="$T/aws-config"
export AWS_EC2_METADATA_DISABLED=true AWS_CA_BUNDLE="$PKI/gw-ca.pem" AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AKID" "$SECRET" >"$AWS_SHARED_CREDENTIALS_FILE"
printf '[default]\nregion = us-east-1\noutput = json\n' >"$AWS_CONFIG_FILE"
export CLIENT_HOSTS="$T/client-hosts" CLIENT_RESOLV="$T/client-resolv.conf"
printf '127.0.0.1 localhost\n%s dynamodb.us-east-1.amazonaws.com\n' "$GW_IP" >"$CLIENT_HOSTS"
printf 'nameserver 127.0.0.153\noptions timeout:1 attempts:1\n' >"$CLIENT_RESOLV"
HAVE_UNSHARE=0
if [ "$(id -u)" = 0 ] && unshare --mount sh -c "mount --bind '$CLIENT_HOSTS' /etc/hosts" 2>/dev/null; then
	HAVE_UNSHARE=1
fi
export HAVE_UNSHARE

# --- services ----------------------------------------------------------------------
# bg NAME CMD... — start a service, record its PID; BG_PID.
bg() {
	local name=$1
	shift
	"$@" >"$T/logs/$name.out" 2>"$T/logs/$name.err" &
	BG_PID=$!
	echo "$BG_PID" >>"$T/pids"
}

# port_open ADDR PORT
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# wait_listen NAME PID ADDR PORT — 100 x 0.1 s.
wait_listen() {
	local i
	for i in $(seq 1 100); do
		port_open "$3" "$4" && return 0
		kill -0 "$2" 2>/dev/null || { SETUP_ERR="$1 exited: $(tail -n 5 "$T/logs/$1.err" | tr '\n' ' ')"; return 1; }
		sleep 0.1
	done
	SETUP_ERR="$1 did not listen on $3:$4 within 10 s"
	return 1
}

need_tool() {
	command -v "$1" >/dev/null 2>&1 || { SETUP_ERR="missing $1 (install: $2)"; return 1; }
}

# Upstream routing names (what ddbgate resolves) -> addresses.
#   recorder name  address      certificate it presents           recorder.py options
RECORDERS="
record         127.0.0.22   up-good.pem
chain          127.0.0.23   up-int-chain.pem:up-int-leaf.key
truncated      127.0.0.24   up-good.pem                       --truncate-body 100
idleclose      127.0.0.25   up-good.pem                       --close-after-ms 100
expired        127.0.0.31   up-expired.pem
notyet         127.0.0.32   up-notyet.pem
wrongname      127.0.0.33   up-wrongname.pem
selfsigned     127.0.0.34   up-selfsigned.pem
untrusted      127.0.0.35   up-untrusted.pem
nointermediate 127.0.0.36   up-int-leaf.pem
guard          127.0.0.37   up-good.pem
"
export CLOSED_IP=127.0.0.40 PUBLIC_IP=198.51.100.7

write_dnsmasq_conf() {
	{
		echo "port=${DNS##*:}"
		echo "listen-address=${DNS%:*}"
		echo "bind-interfaces"
		echo "no-resolv"
		echo "no-hosts"
		echo "no-negcache"
		echo "log-queries"
		echo "log-facility=-"
		echo "pid-file="
		echo "user=root"
		# Answer these zones locally only: an unknown name is NXDOMAIN.
		echo "local=/vpce.amazonaws.com/"
		echo "local=/ddbgate.test/"
		echo "host-record=vpce-good-1234.$VPCE,127.0.0.21"
		local name ip _
		while read -r name ip _; do
			[ -n "$name" ] && echo "host-record=vpce-$name-1234.$VPCE,$ip"
		done <<<"$RECORDERS"
		echo "host-record=vpce-closed-1234.$VPCE,$CLOSED_IP"
		echo "host-record=vpce-public-1234.$VPCE,$PUBLIC_IP"
		# Forwarded to a resolver that never answers: a DNS timeout.
		echo "server=/slow.vpce.amazonaws.com/${DNS_BLACKHOLE%:*}#${DNS_BLACKHOLE##*:}"
	} >"$T/dnsmasq.conf"
}

write_stunnel_conf() {
	cat >"$T/stunnel.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 5
[dynalite]
accept = 127.0.0.21:$UP_PORT
connect = $DYNALITE_IP:$DYNALITE_PORT
cert = $PKI/up-good.pem
key = $PKI/up-good.key
EOF
}

# The main gateway configuration.  Every case's header quotes the fragment it uses.
write_gateway_conf() {
	ep() { # NAME HOST UPSTREAM-LABEL [ALLOWED]
		cat <<EOF
  - name: $1
    service: dynamodb
    hosts: [$2]
    upstream: $3:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [${4:-127.0.0.0/8}]
EOF
	}
	{
		cat <<EOF
# ddbgate integration tests: main gateway (generated by run.sh)
region: us-east-1
listeners:
  - address: $GW_IP:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $PKI/gw-leaf.pem
      key: $PKI/gw-leaf.key
resolver:
  servers: ["$DNS"]
  timeout_ms: 500
endpoints:
EOF
		ep ddb-use1 dynamodb.us-east-1.amazonaws.com "vpce-good-1234.$VPCE"
		ep recorder record.ddbgate.test "vpce-record-1234.$VPCE"
		ep other other.ddbgate.test "vpce-record-1234.$VPCE"
		ep chain chain.ddbgate.test "vpce-chain-1234.$VPCE"
		ep tls-expired expired.ddbgate.test "vpce-expired-1234.$VPCE"
		ep tls-notyet notyet.ddbgate.test "vpce-notyet-1234.$VPCE"
		ep tls-wrongname wrongname.ddbgate.test "vpce-wrongname-1234.$VPCE"
		ep tls-selfsigned selfsigned.ddbgate.test "vpce-selfsigned-1234.$VPCE"
		ep tls-untrusted untrusted.ddbgate.test "vpce-untrusted-1234.$VPCE"
		ep tls-nointermediate nointermediate.ddbgate.test "vpce-nointermediate-1234.$VPCE"
		ep dns-nxdomain nxdomain.ddbgate.test "vpce-missing-1234.$VPCE"
		ep dns-timeout dnstimeout.ddbgate.test "vpce-1234.slow.vpce.amazonaws.com"
		ep refused refused.ddbgate.test "vpce-closed-1234.$VPCE"
		ep public public.ddbgate.test "vpce-public-1234.$VPCE"
		ep guard guard.ddbgate.test "vpce-guard-1234.$VPCE" 127.0.0.99/32
		ep truncated truncated.ddbgate.test "vpce-truncated-1234.$VPCE"
		ep idle-close idleclose.ddbgate.test "vpce-idleclose-1234.$VPCE"
		cat <<EOF
access_log:
  path: "-"
limits:
  max_header_bytes: 16384
  max_body_bytes: 65536
  upstream_timeout_s: 5
EOF
	} >"$GW_CFG"
}

GW_PID=""
start_gateway() {
	echo "# $(date -u +%FT%TZ) starting ddbgate run -c $GW_CFG" >>"$GW_ERR"
	"$DDBGATE" run -c "$GW_CFG" >>"$GW_OUT" 2>>"$GW_ERR" &
	GW_PID=$!
	echo "$GW_PID" >>"$T/pids"
	local i
	for i in $(seq 1 100); do
		port_open "$GW_IP" "$GW_PORT" && return 0
		kill -0 "$GW_PID" 2>/dev/null || { SETUP_ERR="ddbgate exited: $(tail -n 5 "$GW_ERR" | tr '\n' ' ')"; return 1; }
		sleep 0.1
	done
	SETUP_ERR="ddbgate did not listen on $GW_IP:$GW_PORT within 10 s"
	return 1
}

SETUP_ERR=""
setup_infra() {
	local name ip cert key opts
	need_tool openssl openssl && need_tool curl curl && need_tool /usr/sbin/dnsmasq dnsmasq-base &&
		need_tool stunnel4 stunnel4 && need_tool node nodejs && need_tool /usr/bin/python3 python3 &&
		need_tool timeout coreutils || return 1
	"$IT_DIR/pki.sh" "$PKI" >"$T/logs/pki.log" 2>&1 || { SETUP_ERR="pki.sh failed: $(tail -n 3 "$T/logs/pki.log")"; return 1; }

	write_dnsmasq_conf
	bg dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --conf-file="$T/dnsmasq.conf"
	local dns_pid=$BG_PID
	bg dns-blackhole /usr/bin/python3 "$IT_DIR/dnstool.py" blackhole "$DNS_BLACKHOLE" "$T/logs/dns-blackhole.log"
	local i
	for i in $(seq 1 100); do
		/usr/bin/python3 "$IT_DIR/dnstool.py" query "$DNS" "vpce-good-1234.$VPCE" 2>/dev/null | grep -q '^NOERROR 127.0.0.21$' && break
		kill -0 "$dns_pid" 2>/dev/null || { SETUP_ERR="dnsmasq exited: $(tail -n 3 "$T/logs/dnsmasq.err")"; return 1; }
		[ "$i" = 100 ] && { SETUP_ERR="dnsmasq does not answer on $DNS"; return 1; }
		sleep 0.1
	done

	[ -f "$REPO/tests/node_modules/dynalite/cli.js" ] ||
		{ SETUP_ERR="no tests/node_modules/dynalite (cd tests && npm ci): ${NPM_ERR:-}"; return 1; }
	bg dynalite node "$REPO/tests/node_modules/dynalite/cli.js" --host "$DYNALITE_IP" --port "$DYNALITE_PORT" \
		--createTableMs 0 --deleteTableMs 0 --updateTableMs 0
	wait_listen dynalite "$BG_PID" "$DYNALITE_IP" "$DYNALITE_PORT" || return 1

	write_stunnel_conf
	bg stunnel stunnel4 "$T/stunnel.conf"
	wait_listen stunnel "$BG_PID" 127.0.0.21 "$UP_PORT" || return 1

	while read -r name ip cert opts; do
		[ -n "$name" ] || continue
		key=${cert#*:}
		cert=${cert%%:*}
		[ "$key" = "$cert" ] && key=${cert%.pem}.key
		# shellcheck disable=SC2086 # opts: recorder.py options, split on purpose
		bg "recorder-$name" /usr/bin/python3 "$IT_DIR/recorder.py" --name "$name" --listen "$ip:$UP_PORT" \
			--cert "$PKI/$cert" --key "$PKI/$key" --dir "$REC/$name" $opts
		wait_listen "recorder-$name" "$BG_PID" "$ip" "$UP_PORT" || return 1
	done <<<"$RECORDERS"
	# A probe connection to each recorder would show in its log: start counting from here.
	return 0
}

# --- cases ---------------------------------------------------------------------------
case_name() { local b; b=$(basename "$1" .sh); b=${b#[0-9][0-9]-}; echo "${b#[0-9][0-9][0-9]-}"; }
case_field() { sed -n "s/^# $2:[[:space:]]*//p" "$1" | head -n 1; }

selected() {
	local n=$1 p
	[ ${#SELECT[@]} -eq 0 ] && return 0
	for p in "${SELECT[@]}"; do
		# shellcheck disable=SC2053
		[[ $n == $p ]] && return 0
	done
	return 1
}

report_ok() { PASSED=$((PASSED + 1)); say "ok - $1"; }
report_skip() { SKIPPED=$((SKIPPED + 1)); say "skip - $1 ($2)"; }
report_fail() { FAILED=$((FAILED + 1)); say "not ok - $1 ($2)"; }

INFRA_OK=0
GW_OK=0
BIN_OK=0

run_case() {
	local file=$1 name needs to log rc reason err0 out0 t0 t1
	name=$(case_name "$file")
	needs=$(case_field "$file" needs)
	to=$(case_field "$file" timeout)
	to=${to:-60}
	case " $needs " in *" infra "* | *" gateway "*)
		[ "$INFRA_OK" = 1 ] || { report_skip "$name" "test services did not start: $SETUP_ERR"; return; } ;;
	esac
	case " $needs " in *" ddbgate "* | *" gateway "*)
		[ "$BIN_OK" = 1 ] || { report_skip "$name" "no ddbgate binary at $DDBGATE"; return; } ;;
	esac
	case " $needs " in *" gateway "*)
		[ "$GW_OK" = 1 ] || { report_skip "$name" "the gateway instance is not running"; return; } ;;
	esac
	log="$T/cases/$name.log"
	export CASE_TMP="$T/cases/$name.d"
	mkdir -p "$CASE_TMP"
	err0=$(wc -l <"$GW_ERR")
	out0=$(wc -l <"$GW_OUT")
	t0=$(date +%s%N)
	# shellcheck disable=SC2016 # expanded by the case's shell
	timeout -k 5 "$to" /bin/bash -c '. "$IT_DIR/lib.sh"; . "$1"' "$name" "$file" >"$log" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s%N)
	echo "# case took $(((t1 - t0) / 1000000)) ms, exit $rc" >>"$log"
	case $rc in
	0) reason="" ;;
	77) reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1) ;;
	124 | 137) reason="timed out after ${to} s" ;;
	*) reason=$(sed -n 's/^FAIL: //p' "$log" | tail -n 1); reason=${reason:-"exit $rc"} ;;
	esac
	if [ -n "$GW_PID" ] && ! kill -0 "$GW_PID" 2>/dev/null; then
		wait "$GW_PID" 2>/dev/null
		local st=$?
		rc=1
		reason="ddbgate (pid $GW_PID) died during this case, exit status $st${reason:+; $reason}"
		echo "# ddbgate died; restarting it for the remaining cases" >>"$GW_ERR"
		start_gateway || GW_OK=0
	fi
	case $rc in
	0) report_ok "$name" ;;
	77) report_skip "$name" "$reason" ;;
	*)
		report_fail "$name" "$reason"
		{
			echo "--- case log ($log)"
			cat "$log"
			if [ -s "$GW_ERR" ]; then
				echo "--- ddbgate stderr during the case"
				tail -n +"$((err0 + 1))" "$GW_ERR" | head -n 60
			fi
			if [ -s "$GW_OUT" ]; then
				echo "--- ddbgate stdout (access log) during the case"
				tail -n +"$((out0 + 1))" "$GW_OUT" | head -n 30
			fi
		} | diag
		;;
	esac
	if [ "${DDBGATE_IT_VERBOSE:-0}" = 1 ] && [ "$rc" = 0 ]; then diag <"$log"; fi
}

# --- main ------------------------------------------------------------------------
: >"$GW_OUT"
: >"$GW_ERR"
say "# ddbgate integration tests: binary $DDBGATE, temp dir $T, private netns: $IN_NETNS, unshare: $HAVE_UNSHARE"
if setup_infra; then
	INFRA_OK=1
else
	report_fail setup "$SETUP_ERR"
	for f in "$T"/logs/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done | diag
fi

if [ -x "$DDBGATE" ]; then
	BIN_OK=1
	if [ "$INFRA_OK" = 1 ]; then
		write_gateway_conf
		if start_gateway; then
			GW_OK=1
		else
			report_fail gateway-start "$SETUP_ERR"
			{ echo "--- config $GW_CFG"; cat "$GW_CFG"; echo "--- ddbgate stderr"; tail -n 40 "$GW_ERR"; } | diag
		fi
	fi
else
	report_fail ddbgate-binary "not found or not executable: $DDBGATE"
fi

# two-digit cases first, then three-digit ones: numeric order
for f in "$IT_DIR"/cases/[0-9][0-9]-*.sh "$IT_DIR"/cases/[0-9][0-9][0-9]-*.sh; do
	[ -f "$f" ] || continue
	selected "$(case_name "$f")" || continue
	run_case "$f"
done

# Last: the gateway stops cleanly on SIGTERM (exit 0 within 10 s; under a
# sanitizer build this is also where leak reports would surface).
if [ "$GW_OK" = 1 ] && kill -0 "$GW_PID" 2>/dev/null; then
	err0=$(wc -l <"$GW_ERR")
	kill -TERM "$GW_PID"
	for _ in $(seq 1 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$GW_PID" 2>/dev/null; then
		report_fail gateway-shutdown "still running 10 s after SIGTERM"
	else
		wait "$GW_PID"
		st=$?
		if [ "$st" = 0 ]; then
			report_ok gateway-shutdown
		else
			report_fail gateway-shutdown "exit status $st after SIGTERM"
			tail -n +"$((err0 + 1))" "$GW_ERR" | head -n 60 | diag
		fi
	fi
fi

say "# total time $(($(date +%s) - START_TIME)) s"
say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
