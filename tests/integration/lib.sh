# lib.sh — helpers for the ddbgate integration cases (sourced, bash).
#
# run.sh sources this file in a fresh bash for every case, then the case file.
# A case ends with exit 0 (pass), `fail REASON` (exit 1) or `skip REASON`
# (exit 77); run.sh turns that into "ok / not ok / skip - NAME (REASON)".
#
# Environment from run.sh (all exported):
#   IT_DIR PKI T CASE_TMP       this directory, the PKI, the run's temp dir, the case's own dir
#   DDBGATE                     the binary under test
#   GW_IP GW_PORT GW_CFG        the main gateway instance: listener and config file
#   GW_OUT GW_ERR               its stdout (access log) and stderr (process log)
#   REC                         recorder directories: $REC/<name>/{conn-NNNN.in,.out,events.log}
#   DNS DNS_BLACKHOLE           dnsmasq (127.0.0.1:5353) and the never-answering resolver
#   AKID SECRET                 dummy credentials (also in AWS_SHARED_CREDENTIALS_FILE)
#   CLIENT_HOSTS CLIENT_RESOLV  /etc/hosts and /etc/resolv.conf for the SDK clients
#   HAVE_UNSHARE IN_NETNS       1 when those are available

set -u

CASE_PIDS=()
# Logs of case-local servers (helpers below add them): a failing case shows
# their last lines, since run.sh shows only the main gateway's.
FAIL_SHOW=()

# (a newline first: the line before may be a dump without one)
fail() {
	local f
	for f in "${FAIL_SHOW[@]}"; do
		echo "--- $f (last 40 lines)"
		tail -n 40 "$f" 2>/dev/null | sed 's/^/  /'
	done
	printf '\nFAIL: %s\n' "$*"
	exit 1
}
skip() { printf '\nSKIP: %s\n' "$*"; exit 77; }
step() { echo "--- $*"; }

# at_case_end CMD... — run CMD when the case ends, whatever happens (e.g. to
# remove the firewall rules it added), before its processes are stopped.
CASE_ATEXIT=()
at_case_end() { CASE_ATEXIT+=("$(printf '%q ' "$@")"); }

case_cleanup() {
	local p c
	for c in "${CASE_ATEXIT[@]}"; do eval "$c" || echo "cleanup failed: $c"; done
	for p in "${CASE_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${CASE_PIDS[@]}"; do
		for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
}
trap case_cleanup EXIT

# need_root — skip unless we can give one client its own /etc/hosts.
need_unshare() {
	[ "${HAVE_UNSHARE:-0}" = 1 ] || skip "needs root and unshare --mount to give the client a private /etc/hosts"
}

# wait_port ADDR PORT [PID] — wait until ADDR:PORT accepts (100 x 0.1 s);
# give up early when PID (the server) has exited.
wait_port() {
	local addr=$1 port=$2 pid=${3:-}
	for _ in $(seq 1 100); do
		if timeout 1 bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# start_bg LOGBASE CMD... — start CMD in the background, stdout to LOGBASE.out,
# stderr to LOGBASE.err; the PID goes to $T/pids (killed by run.sh's EXIT trap
# whatever happens) and to this case's list (killed when the case ends).
# Sets BG_PID.
start_bg() {
	local base=$1
	shift
	"$@" >"$base.out" 2>"$base.err" &
	BG_PID=$!
	echo "$BG_PID" >>"$T/pids"
	CASE_PIDS+=("$BG_PID")
}

# start_ddbgate CONFIG LOGBASE ADDR PORT [RUN-ARGS...] — run a case-local
# ddbgate (`ddbgate run -c CONFIG RUN-ARGS...`); sets BG_PID.
start_ddbgate() {
	local cfg=$1 base=$2 addr=$3 port=$4
	shift 4
	start_bg "$base" "$DDBGATE" run -c "$cfg" "$@"
	if ! wait_port "$addr" "$port" "$BG_PID"; then
		echo "ddbgate stderr:"; tail -n 40 "$base.err"
		fail "case-local ddbgate did not listen on $addr:$port"
	fi
}

# with_hosts CMD... — run CMD in a private mount namespace whose /etc/hosts is
# $CLIENT_HOSTS (dynamodb.us-east-1.amazonaws.com -> the gateway) and whose
# /etc/resolv.conf points at an address where nothing listens, so no name can
# ever leak to a real resolver.
with_hosts() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		with_hosts "$CLIENT_HOSTS" "$CLIENT_RESOLV" "$@"
}

# gw_request HOST TARGET BODY [CURL-ARGS...] — one SigV4-signed DynamoDB call
# with curl, to the gateway, asking for HOST (SNI and Host).  BODY is the JSON
# text, or @FILE.  Sets RESP_STATUS; leaves $CASE_TMP/resp.{headers,body}.
gw_request() {
	local host=$1 target=$2 body=$3 url
	shift 3
	url="https://$host/"
	[ "$GW_PORT" = 443 ] || url="https://$host:$GW_PORT/"
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	RESP_STATUS=$(curl -sS --max-time "${CURL_MAX_TIME:-20}" \
		--resolve "$host:$GW_PORT:$GW_IP" --cacert "$PKI/gw-ca.pem" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $target" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary "$body" -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
		-w '%{http_code}' "$@" "$url" 2>"$CASE_TMP/curl.err")
	echo "$target -> $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body")"
}

show_response() {
	echo "curl stderr: $(cat "$CASE_TMP/curl.err" 2>/dev/null)"
	echo "response headers:"; sed 's/^/  /' "$CASE_TMP/resp.headers"
	echo "response body: $(head -c 2000 "$CASE_TMP/resp.body")"
}

# expect_status CODE — the last gw_request answered CODE.
expect_status() {
	[ "$RESP_STATUS" = "$1" ] && return 0
	show_response
	if [ "$RESP_STATUS" = 000 ]; then
		fail "expected HTTP $1, got no response: $(tr '\n' ' ' <"$CASE_TMP/curl.err")"
	fi
	fail "expected HTTP $1, got $RESP_STATUS: $(head -c 300 "$CASE_TMP/resp.body")"
}

# expect_json PY-EXPR WHAT — the last response body satisfies PY-EXPR (d = the JSON).
expect_json() {
	"$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "$1" >/dev/null && return 0
	show_response
	fail "$2"
}

# header NAME — value of response header NAME (first one, case-insensitive).
header() {
	tr -d '\r' <"$CASE_TMP/resp.headers" | awk -v n="$1" '
		index(tolower($0), tolower(n) ":") == 1 { sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# expect_proxy_error STATUS TYPE PROXY-STATUS-ERROR [MESSAGE-REGEX...]
#   The last response is ddbgate's own error: HTTP STATUS, Content-Type
#   application/x-amz-json-1.0, body {"__type":"ddbgate#TYPE","message":...}
#   (TYPE "*" = any ddbgate# type), a Proxy-Status header (RFC 9209) whose
#   error= parameter is PROXY-STATUS-ERROR ("-" = only require the header),
#   and a message matching every MESSAGE-REGEX (ERE, case-insensitive).
expect_proxy_error() {
	local status=$1 type=$2 ps=$3 re ct pst msg
	shift 3
	expect_status "$status"
	ct=$(header Content-Type)
	case "$ct" in
	application/x-amz-json-1.0*) ;;
	*) show_response; fail "Content-Type is '$ct', expected application/x-amz-json-1.0" ;;
	esac
	if [ "$type" = "*" ]; then
		expect_json "d['__type'].startswith('ddbgate#')" "__type is not a ddbgate# type"
	else
		expect_json "d['__type'] == 'ddbgate#$type'" "__type is not ddbgate#$type"
	fi
	expect_json "isinstance(d['message'], str) and len(d['message']) > 0" "no message in the error body"
	pst=$(header Proxy-Status)
	[ -n "$pst" ] || { show_response; fail "no Proxy-Status header"; }
	if [ "$ps" != "-" ]; then
		echo "$pst" | grep -Eq "(^|;)[[:space:]]*error=\"?$ps\"?([;[:space:]]|$)" ||
			{ show_response; fail "Proxy-Status '$pst' lacks error=$ps"; }
	fi
	msg=$("$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d['message']")
	for re in "$@"; do
		echo "$msg" | grep -Eiq -- "$re" || { show_response; fail "message '$msg' does not match /$re/"; }
	done
	echo "proxy error ok: $status $(head -c 400 "$CASE_TMP/resp.body") | Proxy-Status: $pst"
}

# --- access log (the gateway's stdout) -------------------------------------
alog_mark() { wc -l <"$GW_OUT"; }

# alog_expect MARK ERE... — within 3 s, a line written after MARK matches every ERE.
alog_expect() {
	local mark=$1 line ok re
	shift
	for _ in $(seq 1 30); do
		while IFS= read -r line; do
			ok=1
			for re in "$@"; do
				echo "$line" | grep -Eq -- "$re" || { ok=0; break; }
			done
			if [ "$ok" = 1 ]; then
				echo "access log: $line"
				return 0
			fi
		done < <(tail -n +"$((mark + 1))" "$GW_OUT")
		sleep 0.1
	done
	echo "access log lines since the request:"
	tail -n +"$((mark + 1))" "$GW_OUT" | sed 's/^/  /'
	fail "no access-log line matching all of: $*"
}

# --- recorders ---------------------------------------------------------------
# rec_mark NAME — how many connections recorder NAME has accepted so far.
rec_mark() { find "$REC/$1" -name 'conn-*.in' | wc -l; }

# rec_conns_since NAME MARK — the .in files of connections after MARK, in order.
rec_conns_since() {
	find "$REC/$1" -name 'conn-*.in' | sort | tail -n +"$(($2 + 1))"
}

# rec_expect_nothing_forwarded NAME MARK — recorder NAME was contacted after
# MARK (so the test did reach the upstream step) but received zero
# application bytes on every such connection.
rec_expect_nothing_forwarded() {
	local name=$1 mark=$2 f n=0 bytes=0
	for f in $(rec_conns_since "$name" "$mark"); do
		n=$((n + 1))
		bytes=$((bytes + $(stat -c %s "$f")))
	done
	echo "recorder $name: $n connection(s) since the request, $bytes application byte(s) received"
	tail -n 8 "$REC/$name/events.log" | sed 's/^/  /'
	[ "$n" -ge 1 ] || fail "ddbgate never connected to upstream $name (expected a refused TLS handshake)"
	[ "$bytes" = 0 ] || fail "upstream $name received $bytes application bytes; a rejected upstream must receive none"
}

# rec_expect_no_connection NAME MARK — recorder NAME accepted no connection after MARK.
rec_expect_no_connection() {
	local n
	n=$(rec_conns_since "$1" "$2" | wc -l)
	[ "$n" = 0 ] || { tail -n 8 "$REC/$1/events.log"; fail "ddbgate connected to upstream $1 ($n connection(s)); it must not"; }
}

# rec_expect_marker_absent MARKER — no recorder ever received MARKER.
rec_expect_marker_absent() {
	if grep -rlF -- "$1" "$REC" --include='conn-*.in' >/dev/null 2>&1; then
		fail "a request carrying $1 reached an upstream: $(grep -rlF -- "$1" "$REC" --include='conn-*.in' | head -3)"
	fi
}

# unique — a short unique token for table names and markers.
unique() { printf '%s%04x' "$(date +%s%N | tail -c 7)" "$RANDOM"; }

# rec_expect_bytes NAME FILE — the exact bytes of FILE arrived, contiguous and
# unchanged, on one connection of recorder NAME.  Sets REC_CONN to that
# connection's number.  On failure shows the newest connection next to FILE.
rec_expect_bytes() {
	local name=$1 want=$2 found
	found=$(/usr/bin/python3 - "$want" "$REC/$name" <<'PY'
import glob, sys
want = open(sys.argv[1], "rb").read()
files = sorted(glob.glob(sys.argv[2] + "/conn-*.in"))
for f in files:
    if want in open(f, "rb").read():
        print("FOUND " + f)
        sys.exit(0)
if files:
    got = open(files[-1], "rb").read()
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    print("first difference from the newest connection %s at byte %d: expected %r, got %r"
          % (files[-1], i, want[max(0, i - 40):i + 40], got[max(0, i - 40):i + 40]))
PY
)
	case "$found" in
	FOUND\ *) found=${found#FOUND } ;;
	*)
		echo "expected bytes ($(stat -c %s "$want")):"; cat -A "$want" | head -c 3000 | sed 's/^/  > /'; echo
		echo "$found"
		fail "upstream $name did not receive the request byte-for-byte ($found)"
		;;
	esac
	REC_CONN=$(basename "$found" .in)
	REC_CONN=$((10#${REC_CONN#conn-}))
	echo "upstream $name received the $(stat -c %s "$want") request bytes unchanged (connection $REC_CONN)"
}

# rec_expect_sni NAME CONN SNI — recorder NAME saw SNI on connection CONN.
rec_expect_sni() {
	grep -q " conn=$2 sni=$3\$" "$REC/$1/events.log" ||
		{ grep " conn=$2 " "$REC/$1/events.log"; fail "upstream $1 connection $2 did not see SNI $3"; }
	echo "upstream $1 connection $2 saw SNI $3"
}

# raw_send SNI|- FILE N [ARGS...] — send FILE's bytes in one write to the
# gateway over one TLS connection (SNI "-" = none, certificate not checked),
# read N responses into $CASE_TMP/resp.<i>.{headers,body}.  Sets RAW_RC
# (0 = N responses read).  ARGS go to `rawclient.py send`: e.g. --insecure
# (send SNI but do not check the certificate: for names it does not cover),
# --in FILE2 --pause S (more requests, one at a time), --until-close or
# --trickle S (then see raw_end).
raw_send() {
	local sni=$1 file=$2 n=$3 tls
	shift 3
	if [ "$sni" = - ]; then tls=(--insecure); else tls=(--sni "$sni" --cafile "$PKI/gw-ca.pem"); fi
	rm -f "$CASE_TMP"/resp.[0-9]*.*
	/usr/bin/python3 "$IT_DIR/rawclient.py" send --connect "$GW_IP:$GW_PORT" "${tls[@]}" --in "$file" \
		--responses "$n" --save-dir "$CASE_TMP" --out "$CASE_TMP/raw.received" "$@" >"$CASE_TMP/raw.jsonl" 2>&1
	RAW_RC=$?
	echo "raw client: exit $RAW_RC"; head -c 3000 "$CASE_TMP/raw.jsonl"
}

# raw_end — how the connection of the last raw_send --until-close / --trickle
# ended: its {"end": ..., "seconds": ...} line into $CASE_TMP/raw.end (for
# jsonq.py), also printed.
raw_end() {
	grep '^{"end"' "$CASE_TMP/raw.jsonl" | tail -n 1 >"$CASE_TMP/raw.end"
	[ -s "$CASE_TMP/raw.end" ] || fail "the raw client did not say how the connection ended: $(head -c 500 "$CASE_TMP/raw.jsonl")"
	echo "connection end: $(cat "$CASE_TMP/raw.end")"
}

# raw_use I — make response I of the last raw_send the "last response" for
# expect_status / expect_json / expect_proxy_error / header.
raw_use() {
	[ -f "$CASE_TMP/resp.$1.headers" ] || fail "no response #$1 (raw client said: $(head -c 500 "$CASE_TMP/raw.jsonl"))"
	cp "$CASE_TMP/resp.$1.headers" "$CASE_TMP/resp.headers"
	cp "$CASE_TMP/resp.$1.body" "$CASE_TMP/resp.body"
	RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
	: >"$CASE_TMP/curl.err"
}

# build_request HOST TARGET BODY [rawclient build args...] > FILE
build_request() {
	local host=$1 target=$2 body=$3
	shift 3
	/usr/bin/python3 "$IT_DIR/rawclient.py" build --host "$host" --target "$target" --body "$body" \
		--akid "$AKID" --secret "$SECRET" "$@"
}

# wait_table_active HOST TABLE — poll DescribeTable through the gateway until
# the table is ACTIVE (50 x 0.1 s), as any DynamoDB client must after
# CreateTable: dynalite, like DynamoDB, refuses item writes while CREATING.
wait_table_active() {
	for _ in $(seq 1 50); do
		gw_request "$1" DynamoDB_20120810.DescribeTable "{\"TableName\":\"$2\"}" >/dev/null
		[ "$RESP_STATUS" = 200 ] && "$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d['Table']['TableStatus'] == 'ACTIVE'" >/dev/null && return 0
		sleep 0.1
	done
	show_response
	fail "table $2 did not become ACTIVE"
}

# --- cases 80-89: their own DNS server, upstreams and gateway ----------------
# Case NN runs its own ddbgate on 127.0.1.NN:$GW_PORT, its own DNS server on
# 127.0.2.NN:5353 and, when it needs more upstreams than run.sh's, its own
# recorders on 127.0.3.NN:8443 and 127.0.4.NN:8443, so every query, log line
# and connection counted belongs to that case alone.  All are stopped by PID
# when the case ends (start_bg).
export VPCE_SUFFIX=dynamodb.us-east-1.vpce.amazonaws.com

# stop_pid PID — stop one process this case started, now (TERM, up to 3 s, KILL), and reap it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# log_mark FILE — how many lines FILE has now (for wait_log / log_since).
log_mark() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# log_since FILE MARK — the lines of FILE after MARK.
log_since() { tail -n +"$(($2 + 1))" "$1" 2>/dev/null; }

# wait_log FILE MARK ERE [TENTHS] — within TENTHS x 0.1 s (default 100), a
# line written to FILE after MARK matches ERE; prints the first such line.
wait_log() {
	local f=$1 mark=$2 re=$3 n=${4:-100} line
	for _ in $(seq 1 "$n"); do
		line=$(log_since "$f" "$mark" | grep -E -m1 -- "$re")
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# dns_wait_ready ADDR:PORT PID — wait (100 x at most 0.3 s) until the DNS
# server there answers a query for probe.ready.vpce.amazonaws.com (any rcode);
# fail if PID exits.  (A connected UDP socket: "not yet bound" is an ICMP
# refusal seen at once, not a 2 s timeout as with dnstool.py.)
dns_wait_ready() {
	for _ in $(seq 1 100); do
		/usr/bin/python3 - "$1" <<'PY' && return 0
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
q = struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
q += b"\x05probe\x05ready\x04vpce\x09amazonaws\x03com\x00" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
try:
    s.connect((host, int(port)))
    s.send(q)
    sys.exit(0 if s.recv(512)[:2] == q[:2] else 1)
except OSError:
    sys.exit(1)
PY
		kill -0 "$2" 2>/dev/null || fail "the DNS server for $1 exited"
		sleep 0.1
	done
	fail "the DNS server on $1 did not answer within 100 tries"
}

# dnsmasq_start ADDR:PORT LOGBASE [DNSMASQ-ARGS...] — a case-local dnsmasq
# that answers vpce.amazonaws.com from what ARGS give it (--host-record=,
# --addn-hosts= with --local-ttl=, re-read on SIGHUP) and NXDOMAIN for any
# other name there; logs every query to LOGBASE.log.  Returns once it
# answers.  Sets BG_PID.
dnsmasq_start() {
	dnsmasq_run "$1" "$2" --local=/vpce.amazonaws.com/ "${@:3}"
}

# dnsmasq_refusing_start ADDR:PORT LOGBASE — a case-local dnsmasq with no
# zone and no upstream: it answers REFUSED to every query (logged in
# LOGBASE.log).  Sets BG_PID.
dnsmasq_refusing_start() { dnsmasq_run "$1" "$2"; }

dnsmasq_run() {
	local server=$1 base=$2 pid
	shift 2
	start_bg "$base" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address="${server%:*}" --port="${server##*:}" --log-queries --log-facility="$base.log" \
		--pid-file= --user=root "$@"
	pid=$BG_PID
	FAIL_SHOW+=("$base.log")
	dns_wait_ready "$server" "$pid"
	BG_PID=$pid
}

# dns_count LOG NAME [TYPE] — how many TYPE (default A) queries for NAME a dnsmasq logged in LOG.
dns_count() { grep -cF "query[${3:-A}] $2 from " "$1"; }

# unbound_start ADDR:PORT BASE LOCAL-DATA... — a case-local unbound in the
# foreground (config BASE.conf, log on stderr = BASE.err with every query),
# answering the local zone vpce.amazonaws.com with the given local-data
# records ("NAME. TTL IN A ADDR") and nothing else.  Returns once it
# answers.  Sets BG_PID.  The case skips when unbound is not installed.
unbound_start() {
	local server=$1 base=$2 rr pid
	shift 2
	[ -x /usr/sbin/unbound ] || skip "needs unbound (/usr/sbin/unbound; Debian package unbound)"
	mkdir -p "$base.d"
	{
		cat <<CONF
server:
  interface: ${server%:*}
  port: ${server##*:}
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$base.d"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  log-queries: yes
  do-ip6: no
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "vpce.amazonaws.com." static
CONF
		for rr in "$@"; do echo "  local-data: \"$rr\""; done
	} >"$base.conf"
	start_bg "$base" /usr/sbin/unbound -d -c "$base.conf"
	pid=$BG_PID
	FAIL_SHOW+=("$base.err")
	dns_wait_ready "$server" "$pid"
	BG_PID=$pid
}

# rec_start NAME ADDR [CERT [ARGS...]] — a case-local recorder.py on
# ADDR:$UP_PORT with certificate CERT from the PKI (default up-good.pem),
# recording into $REC/NAME (so rec_mark, rec_conns_since ... work); ARGS go
# to recorder.py (--delay-ms MS ...).  Returns once it listens (that probe
# is its connection 1).  Sets BG_PID.
rec_start() {
	local name=$1 addr=$2 cert=${3:-up-good.pem}
	start_bg "$CASE_TMP/recorder-$name" /usr/bin/python3 "$IT_DIR/recorder.py" --name "$name" \
		--listen "$addr:$UP_PORT" --cert "$PKI/$cert" --key "$PKI/${cert%.pem}.key" --dir "$REC/$name" \
		"${@:4}"
	wait_port "$addr" "$UP_PORT" "$BG_PID" ||
		fail "recorder $name did not listen on $addr:$UP_PORT: $(tail -n 3 "$CASE_TMP/recorder-$name.err")"
}

# lgw_head IP — the common head of a case-local gateway's configuration:
# listener IP:$GW_PORT (sni), the gateway certificate, access log to stdout,
# metrics off.  The case appends resolver:, endpoints:, limits:, workers:.
lgw_head() {
	cat <<YAML
# case-local gateway ($(basename "$CASE_TMP" .d))
region: us-east-1
listeners:
  - address: $1:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $PKI/gw-leaf.pem
      key: $PKI/gw-leaf.key
access_log:
  path: "-"
metrics:
  address: "off"
YAML
}

# lgw_endpoint NAME HOST UPSTREAM — one endpoint: service dynamodb, hosts
# [HOST], upstream UPSTREAM (YAML as written: "name:port" or a flow list),
# the upstream CA, allowed_cidrs [127.0.0.0/8].  The caller may append keys
# (4-space indent).
lgw_endpoint() {
	cat <<YAML
  - name: $1
    service: dynamodb
    hosts: [$2]
    upstream: $3
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
YAML
}

# lgw_start IP CFG [RUN-ARGS...] — run the case-local gateway (stdout
# $CASE_TMP/lgw.out = access log, stderr $CASE_TMP/lgw.err; RUN-ARGS e.g. -d);
# gw_request now goes to it (GW_IP).  Sets LGW_PID, LGW_ERR, LGW_OUT.
lgw_start() {
	LGW_ERR="$CASE_TMP/lgw.err" LGW_OUT="$CASE_TMP/lgw.out"
	FAIL_SHOW+=("$2" "$LGW_ERR" "$LGW_OUT")
	start_ddbgate "$2" "$CASE_TMP/lgw" "$1" "$GW_PORT" "${@:3}"
	LGW_PID=$BG_PID
	GW_IP=$1
}

# lgw_stop — SIGTERM the case-local gateway: it must exit with status 0
# within 10 s (under a sanitizer build, a leak report would fail this).
lgw_stop() {
	local st
	kill -TERM "$LGW_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$LGW_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$LGW_PID" 2>/dev/null && fail "the case-local gateway still runs 10 s after SIGTERM"
	wait "$LGW_PID"
	st=$?
	[ "$st" = 0 ] || fail "the case-local gateway exited with status $st after SIGTERM"
	echo "case-local gateway: exit 0 after SIGTERM"
}

# rid — the x-amzn-RequestId of the last response (recorders: rec-<name>-<conn>-<n>).
rid() { header x-amzn-RequestId; }

# expect_from RECORDER — the last response is recorder RECORDER's 200.
expect_from() {
	expect_status 200
	case "$(rid)" in
	"rec-$1-"*) echo "answered by recorder $1 ($(rid))" ;;
	*) show_response; fail "expected the answer of recorder $1, got x-amzn-RequestId '$(rid)'" ;;
	esac
}

# now_ms — wall-clock milliseconds (for timing bounds).
now_ms() { date +%s%3N; }

# --- cases 100-119: connect and transparent listeners ------------------------
# Case 1NN runs its own ddbgate (a "connect gateway") with its connect
# listener on 127.0.1.1NN:$CONNECT_PORT (and, when it needs one, a
# transparent listener on 127.0.1.1NN:$TRANSPARENT_PORT or an sni listener
# on 127.0.1.1NN:$GW_PORT), its own gateway CA made by `ddbgate ca init`
# (so every certificate it serves to clients is minted), its access log on
# stdout ($LGW_OUT) and its audit log in $CGW_AUDIT.  Stopped by lgw_stop
# (exit 0 within 10 s of SIGTERM) or, whatever happens, when the case ends.
export CONNECT_PORT=3128 TRANSPARENT_PORT=8443
CGW_AUDIT="$CASE_TMP/lgw-audit.out" # cgw_expect_no_item_data searches it
CGW_CA="$CASE_TMP/ca/ca.pem"

# cgw_head [DNS-SERVER] — the common part of a connect gateway's
# configuration (region, the CA files, resolver = DNS-SERVER or run.sh's
# dnsmasq, logs, metrics off, limits); the case appends listeners: and
# endpoints: (lgw_endpoint) and any other top-level key.
cgw_head() {
	cat <<YAML
# case-local connect gateway ($(basename "$CASE_TMP" .d))
region: us-east-1
tls:
  ca_cert: $CASE_TMP/ca/ca.pem
  ca_key: $CASE_TMP/ca/ca.key
resolver:
  servers: ["${1:-$DNS}"]
  timeout_ms: 500
access_log:
  path: "-"
audit:
  path: $CGW_AUDIT
metrics:
  address: "off"
limits:
  upstream_timeout_s: 5
YAML
}

# cgw_ca CFG — the case's gateway CA: `ddbgate ca init --dir $CASE_TMP/ca -c CFG`
# (name-constrained to the domains of CFG's endpoint hosts); its output in
# $CASE_TMP/ca-init.out.
cgw_ca() {
	"$DDBGATE" ca init --dir "$CASE_TMP/ca" -c "$1" >"$CASE_TMP/ca-init.out" 2>&1 ||
		fail "ddbgate ca init failed: $(cat "$CASE_TMP/ca-init.out")"
	[ -s "$CGW_CA" ] || fail "ddbgate ca init wrote no $CGW_CA"
}

# cgw_start IP CFG [PORT [RUN-ARGS...]] — check and run the connect gateway
# of CFG (the listener to wait for: IP:PORT, default $CONNECT_PORT; RUN-ARGS
# e.g. -d).  Sets LGW_PID, LGW_ERR, LGW_OUT (lgw_stop works), CGW_IP and
# CGW_PROXY (http://IP:3128).
cgw_start() {
	local ip=$1 cfg=$2 port=${3:-$CONNECT_PORT} out
	FAIL_SHOW+=("$cfg" "$CGW_AUDIT")
	out=$(timeout 10 "$DDBGATE" check -c "$cfg" 2>&1) ||
		{ echo "$out" | tail -n 20; fail "ddbgate check rejects the case's configuration"; }
	LGW_ERR="$CASE_TMP/lgw.err" LGW_OUT="$CASE_TMP/lgw.out"
	FAIL_SHOW+=("$LGW_ERR" "$LGW_OUT")
	start_ddbgate "$cfg" "$CASE_TMP/lgw" "$ip" "$port" "${@:4}"
	LGW_PID=$BG_PID
	CGW_IP=$ip
	CGW_PROXY="http://$ip:$CONNECT_PORT"
}

# cgw_request HOST[:PORT] TARGET BODY [CURL-ARGS...] — one SigV4-signed DynamoDB
# call with curl through the connect gateway (curl -x: CONNECT HOST:443,
# then TLS with SNI HOST, verified against the case's CA).  Like gw_request:
# sets RESP_STATUS (the tunnelled response's) and CONNECT_STATUS (the
# proxy's answer to CONNECT); $CASE_TMP/resp.{headers,body}.
cgw_request() {
	local host=$1 target=$2 body=$3 codes
	shift 3
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	codes=$(curl -sS --max-time "${CURL_MAX_TIME:-20}" --proxy "${CURL_PROXY:-$CGW_PROXY}" \
		--suppress-connect-headers --cacert "$CGW_CA" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $target" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary "$body" -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
		-w '%{http_code} %{http_connect}' "$@" "https://$host/" 2>"$CASE_TMP/curl.err")
	RESP_STATUS=${codes% *}
	CONNECT_STATUS=${codes#* }
	[[ $host == *:* ]] || host="$host:443"
	echo "CONNECT $host -> $CONNECT_STATUS; $target -> $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body")"
}

# proxy_send TEXT [proxyclient.py ARGS...] — send TEXT (printf %b escapes:
# write \r\n) in one write to the connect gateway, read its answer into
# $CASE_TMP/resp.{headers,body} (for expect_status, expect_proxy_error,
# header), then how the connection ended.  Sets RESP_STATUS ("none" when
# nothing came back) and PROXY_END (eof, reset or timeout).
proxy_send() {
	local text=$1
	shift
	printf '%b' "$text" >"$CASE_TMP/proxy.in"
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	: >"$CASE_TMP/curl.err"
	/usr/bin/python3 "$IT_DIR/proxyclient.py" --connect "$CGW_IP:$CONNECT_PORT" --in "$CASE_TMP/proxy.in" \
		--save-dir "$CASE_TMP" "$@" >"$CASE_TMP/proxy.jsonl" 2>&1
	echo "proxy client sent $(head -n 1 "$CASE_TMP/proxy.in" | tr -d '\r'), got:"
	sed 's/^/  /' "$CASE_TMP/proxy.jsonl"
	RESP_STATUS=$("$IT_DIR/jsonq.py" <(head -n 1 "$CASE_TMP/proxy.jsonl") "d['status'] if d['status'] is not None else 'none'" 2>/dev/null) ||
		fail "the proxy client failed: $(cat "$CASE_TMP/proxy.jsonl")"
	PROXY_END=$(grep -h '"end"' "$CASE_TMP/proxy.jsonl" | tail -n 1 | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["end"])' 2>/dev/null)
}

# expect_closed — the last proxy_send's connection was closed by the gateway
# right after its answer (FIN or reset; not still open after 5 s).
expect_closed() {
	case "$PROXY_END" in
	eof | reset) echo "the gateway closed the connection ($PROXY_END)" ;;
	*) fail "the gateway did not close the connection after its answer (end: ${PROXY_END:-unknown})" ;;
	esac
}

# cgw_audit_mark — lines in the audit log now.
cgw_audit_mark() { log_mark "$CGW_AUDIT"; }

# _jsonl_scan FILE first|count MARK EXPR — see cgw_audit_find / cgw_audit_count.
_jsonl_scan() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
path, mode, mark, expr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()[mark:]
except FileNotFoundError:
    lines = []
n = 0
for line in lines:
    try:
        d = json.loads(line)
    except ValueError:
        print("not a JSON line in the audit log: %r" % line[:300])
        sys.exit(3)
    try:
        ok = eval(expr, {"d": d})
    except Exception:
        ok = False
    if ok:
        n += 1
        if mode == "first":
            print(line)
            sys.exit(0)
if mode == "count":
    print(n)
    sys.exit(0)
sys.exit(1)
PY
}

# cgw_audit_expect MARK EXPR WHAT — within 3 s, an audit line after MARK
# with EXPR true (d = the line's JSON), else fail WHAT; the line is left in
# $CASE_TMP/audit.line (for cgw_audit_check) and printed.
cgw_audit_expect() {
	local out rc
	for _ in $(seq 1 30); do
		out=$(_jsonl_scan "$CGW_AUDIT" first "$1" "$2")
		rc=$?
		[ "$rc" = 3 ] && fail "$out"
		if [ "$rc" = 0 ]; then
			printf '%s\n' "$out" >"$CASE_TMP/audit.line"
			echo "audit: $out"
			return 0
		fi
		sleep 0.1
	done
	echo "audit lines since the mark:"
	log_since "$CGW_AUDIT" "$1" | sed 's/^/  /'
	fail "$3 (no audit line with $2)"
}

# logs_settle — a request's log lines reach the files within about 10 ms
# of its end (ddbgate hands a batch to its log writer 10 ms after the
# batch's first line): wait that out, with a margin, before counting lines.
logs_settle() { sleep 0.1; }

# cgw_audit_count MARK EXPR — how many audit lines after MARK have EXPR true.
cgw_audit_count() { logs_settle; _jsonl_scan "$CGW_AUDIT" count "$1" "$2"; }

# cgw_audit_check EXPR WHAT — the line cgw_audit_expect left satisfies EXPR.
cgw_audit_check() {
	/usr/bin/python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 2)' "$CASE_TMP/audit.line" "$1" ||
		fail "$2: audit line $(cat "$CASE_TMP/audit.line") does not satisfy $1"
}

# lgw_alog_expect MARK ERE... — within 3 s, a line of the case-local
# gateway's access log ($LGW_OUT) after MARK matches every ERE; printed.
lgw_alog_expect() {
	local mark=$1 line ok re
	shift
	for _ in $(seq 1 30); do
		while IFS= read -r line; do
			ok=1
			for re in "$@"; do
				echo "$line" | grep -Eq -- "$re" || { ok=0; break; }
			done
			if [ "$ok" = 1 ]; then
				echo "access log: $line"
				return 0
			fi
		done < <(log_since "$LGW_OUT" "$mark")
		sleep 0.1
	done
	echo "access log lines since the mark:"
	log_since "$LGW_OUT" "$mark" | sed 's/^/  /'
	fail "no access-log line matching all of: $*"
}

# lgw_alog_count MARK ERE... — access-log lines after MARK matching every ERE.
lgw_alog_count() {
	local mark=$1 line ok re n=0
	shift
	logs_settle
	while IFS= read -r line; do
		ok=1
		for re in "$@"; do
			echo "$line" | grep -Eq -- "$re" || { ok=0; break; }
		done
		[ "$ok" = 1 ] && n=$((n + 1))
	done < <(log_since "$LGW_OUT" "$mark")
	echo "$n"
}

# direct_ddb TARGET BODY — a signed call straight to dynalite's TLS front
# (stunnel 127.0.0.21:8443, no ddbgate), to set up tables and to read what
# really reached dynalite.  Sets RESP_STATUS; $CASE_TMP/resp.{headers,body}.
direct_ddb() {
	local h=dynamodb.us-east-1.amazonaws.com
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	RESP_STATUS=$(curl -sS --max-time 10 --resolve "$h:$UP_PORT:127.0.0.21" --cacert "$PKI/upstream-ca.pem" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $1" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary "$2" -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
		-w '%{http_code}' "https://$h:$UP_PORT/" 2>"$CASE_TMP/curl.err")
	echo "direct $1 -> $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body")"
}

# with_private_hosts HOSTS-FILE CMD... — like with_hosts, with the given
# /etc/hosts (e.g. the AWS names -> an address where nothing listens, so a
# client that bypassed its proxy would fail rather than reach a gateway).
with_private_hosts() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		with_hosts "$1" "$CLIENT_RESOLV" "${@:2}"
}

# cgw_expect_no_item_data — no SECRET-ITEM-VALUE (the prefix of every item
# value the cases write) in the case-local gateway's access log, process log
# or audit log.
cgw_expect_no_item_data() {
	local f
	sleep 0.3 # let the gateway's last lines land
	for f in "$LGW_OUT" "$LGW_ERR" "$CGW_AUDIT"; do
		[ -f "$f" ] || continue
		if grep -n -F 'SECRET-ITEM-VALUE' "$f"; then
			fail "item data (SECRET-ITEM-VALUE...) appears in $f"
		fi
	done
	echo "no item data in $LGW_OUT, $LGW_ERR, $CGW_AUDIT"
}
