# diag_lib.sh — helpers for the `ddbgate diag` cases (120-129), sourced
# after lib.sh (`. "$IT_DIR/diag_lib.sh"` at the top of the case).
#
# Case 1NN keeps to its own addresses: DNS servers on 127.0.2.1NN,
# 127.0.6.1NN and 127.0.7.1NN (port 5353), TLS fronts and other servers on
# 127.0.3.1NN and 127.0.4.1NN (port $UP_PORT), a gateway on 127.0.1.1NN,
# and an address that drops every packet on 127.0.5.1NN.
#
#   dg_conf FILE DNS... <<< ENDPOINTS   a diag configuration: region, the
#                               resolvers DNS... (timeout_ms 500), the
#                               endpoints from standard input
#   dg_endpoint NAME HOST UPSTREAM [ALLOWED] [SERVICE]  one endpoint (YAML):
#                               ca_file = the test upstream CA
#   dg_leaf NAME DAYS CN DNS... a leaf from the test upstream CA, valid DAYS
#                               days from now, subject CN, SANs DNS...;
#                               $CASE_TMP/NAME.{pem,key}
#   dg_front NAME ADDR CERT KEY [BACKEND]  stunnel4 TLS on ADDR:$UP_PORT in
#                               front of BACKEND (default dynalite)
#   dg_rcode_server ADDR:PORT RCODE  a DNS server (UDP) that answers every
#                               query with the response code RCODE (2 =
#                               SERVFAIL), no records
#   dg_gateway CFG ADDR:PORT    `ddbgate ca init` for CFG (CA in
#                               $CASE_TMP/ca/), then `ddbgate run -c CFG`
#                               until the case ends; waits for ADDR:PORT
#   dg_drop ADDR                iptables: drop every packet to ADDR (in the
#                               run's own network namespace; removed when
#                               the case ends); skips the case when it cannot
#   diag_run LABEL ARGS...      `ddbgate diag ARGS...` (human output);
#                               DIAG_RC, DIAG_MS, DIAG_OUT
#   diag_json LABEL ARGS...     the same with --json: validated against
#                               docs/diag.schema.json, exit_code == the exit
#                               status; DIAG_JSON is the file
#   expect_exit CODE            the last run exited CODE
#   expect_line ERE...          the last human output has a line matching
#                               each ERE
#   dq EXPR WHAT                a Python expression over the last JSON is
#                               true, else fail WHAT; t(KEY) is the target
#                               whose endpoint or name is KEY, s(KEY, STEP)
#                               its step, ev(KEY, STEP) the step's evidence,
#                               hs(KEY) / resp(KEY) its first TLS handshake /
#                               HTTP response
#   expect_faster MS WHAT       the last run took less than MS ms

DIAG_SCHEMA="$REPO/docs/diag.schema.json"
DG_DROPPED=()

dg_cleanup() {
	local a
	for a in "${DG_DROPPED[@]}"; do
		iptables -D INPUT -d "$a" -j DROP 2>/dev/null || echo "could not remove the DROP rule for $a"
	done
}
trap 'dg_cleanup; case_cleanup' EXIT

dg_conf() {
	local file=$1 s list=""
	shift
	for s in "$@"; do list="${list:+$list, }\"$s\""; done
	{
		cat <<YAML
# diag test configuration ($(basename "$CASE_TMP" .d))
region: us-east-1
listeners:
  - address: 127.0.0.1:1
    mode: connect
resolver:
  servers: [$list]
  timeout_ms: 500
endpoints:
YAML
		cat
	} >"$file"
	FAIL_SHOW+=("$file")
}

dg_endpoint() {
	cat <<YAML
  - name: $1
    service: ${5:-dynamodb}
    hosts: [$2]
    upstream: $3
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [${4:-127.0.0.0/8}]
YAML
}

dg_leaf() {
	local name=$1 days=$2 cn=$3 san="" n
	shift 3
	for n in "$@"; do san="${san:+$san,}DNS:$n"; done
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CASE_TMP/$name.key" 2>/dev/null ||
		fail "openssl genpkey failed"
	openssl req -new -key "$CASE_TMP/$name.key" -subj "/O=ddbgate tests/CN=$cn" -out "$CASE_TMP/$name.csr" ||
		fail "openssl req failed"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$san" >"$CASE_TMP/$name.ext"
	openssl x509 -req -in "$CASE_TMP/$name.csr" -CA "$PKI/upstream-ca.db/ca.pem" -CAkey "$PKI/upstream-ca.db/ca.key" \
		-set_serial "$((RANDOM * 32768 + RANDOM))" -days "$days" -extfile "$CASE_TMP/$name.ext" \
		-out "$CASE_TMP/$name.pem" 2>"$CASE_TMP/$name.x509.err" || fail "openssl x509 -req failed: $(cat "$CASE_TMP/$name.x509.err")"
}

dg_front() {
	local name=$1 addr=$2 cert=$3 key=$4 backend=${5:-$DYNALITE_IP:$DYNALITE_PORT}
	cat >"$CASE_TMP/stunnel-$name.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 4
[$name]
accept = $addr:$UP_PORT
connect = $backend
cert = $cert
key = $key
EOF
	start_bg "$CASE_TMP/stunnel-$name" stunnel4 "$CASE_TMP/stunnel-$name.conf"
	FAIL_SHOW+=("$CASE_TMP/stunnel-$name.err")
	wait_port "$addr" "$UP_PORT" "$BG_PID" || fail "stunnel $name did not listen on $addr:$UP_PORT"
}

dg_rcode_server() {
	# shellcheck disable=SC2016 # Python, not shell
	start_bg "$CASE_TMP/rcode-${1%:*}" /usr/bin/python3 -c '
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
rcode = int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, int(port)))
print("answering rcode %d on %s" % (rcode, sys.argv[1]), flush=True)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    # the query back as a response: QR, RD and RA set, the rcode, no answers
    r = q[:2] + bytes([0x80 | (q[2] & 0x01), 0x80 | rcode]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
    s.sendto(r, peer)
' "$1" "$2"
	dns_wait_ready "$1" "$BG_PID"
}

dg_gateway() {
	local cfg=$1 addr=${2%:*} port=${2##*:}
	"$DDBGATE" ca init --dir "$CASE_TMP/ca" -c "$cfg" >"$CASE_TMP/ca-init.out" 2>&1 ||
		fail "ddbgate ca init failed: $(cat "$CASE_TMP/ca-init.out")"
	FAIL_SHOW+=("$cfg" "$CASE_TMP/gateway.err")
	start_bg "$CASE_TMP/gateway" "$DDBGATE" run -c "$cfg"
	wait_port "$addr" "$port" "$BG_PID" || fail "the case's gateway did not listen on $addr:$port"
}

dg_drop() {
	[ "${IN_NETNS:-0}" = 1 ] || skip "needs the run's private network namespace (root) for an iptables DROP rule"
	command -v iptables >/dev/null 2>&1 || skip "needs iptables"
	iptables -I INPUT -d "$1" -j DROP 2>"$CASE_TMP/iptables.err" ||
		skip "iptables cannot add a rule here: $(cat "$CASE_TMP/iptables.err")"
	DG_DROPPED+=("$1")
	echo "iptables: every packet to $1 is dropped"
}

diag_run() {
	local label=$1 t0
	shift
	DIAG_OUT="$CASE_TMP/diag-$label.out"
	t0=$(now_ms)
	timeout -k 2 "${DIAG_LIMIT:-40}" "$DDBGATE" diag "$@" >"$DIAG_OUT" 2>"$CASE_TMP/diag-$label.err"
	DIAG_RC=$?
	DIAG_MS=$(($(now_ms) - t0))
	if [ -z "${DIAG_QUIET:-}" ]; then
		echo "--- [$label] ddbgate diag $* -> exit $DIAG_RC in $DIAG_MS ms"
		sed 's/^/  | /' "$DIAG_OUT" | head -n 200
	fi
	[ -s "$CASE_TMP/diag-$label.err" ] && sed 's/^/  ! /' "$CASE_TMP/diag-$label.err"
	case $DIAG_RC in
	124 | 137) fail "[$label] ddbgate diag did not finish within ${DIAG_LIMIT:-40} s" ;;
	esac
	return 0
}

diag_json() {
	local label=$1 rc
	shift
	DIAG_QUIET=1 diag_run "$label" --json "$@"
	DIAG_JSON=$DIAG_OUT
	echo "--- [$label] ddbgate diag --json $* -> exit $DIAG_RC in $DIAG_MS ms"
	/usr/bin/python3 - "$DIAG_JSON" <<'PY' || true
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print("  (not JSON: %s)" % e)
    sys.exit(0)
for t in d.get("targets", []):
    print("  target %s %s:%s" % (t.get("endpoint"), t.get("name"), t.get("port")))
    for s in t.get("steps", []):
        print("    %-4s %-6s %5s ms  %s" % (s["status"], s["step"], s["duration_ms"], s["summary"]))
        if s.get("hint"):
            print("           hint: %s" % s["hint"])
print("  exit_code %s, status %s" % (d.get("exit_code"), d.get("status")))
PY
	/usr/bin/python3 "$IT_DIR/schema_check.py" "$DIAG_SCHEMA" "$DIAG_JSON" >"$CASE_TMP/schema-$label.out" 2>&1
	rc=$?
	sed 's/^/  schema: /' "$CASE_TMP/schema-$label.out" | head -n 30
	[ "$rc" = 0 ] || fail "[$label] the --json output does not validate against docs/diag.schema.json"
	"$IT_DIR/jsonq.py" "$DIAG_JSON" "d['exit_code'] == $DIAG_RC" >/dev/null ||
		fail "[$label] exit_code in the JSON is not the exit status $DIAG_RC"
}

expect_exit() {
	[ "$DIAG_RC" = "$1" ] || fail "expected ddbgate diag to exit $1, it exited $DIAG_RC"
}

expect_line() {
	local re
	for re in "$@"; do
		grep -Eq -- "$re" "$DIAG_OUT" || fail "no line of the output matches /$re/"
	done
}

# The number of lines of the last human output that match ERE.
count_lines() { grep -Ec -- "$1" "$DIAG_OUT"; }

dq() {
	/usr/bin/python3 - "$DIAG_JSON" "$1" <<'PY' && return 0
import json, sys
d = json.load(open(sys.argv[1]))
def t(key):
    for x in d["targets"]:
        if key in (x["endpoint"], x["name"]):
            return x
    raise KeyError("no target %r" % key)
def s(key, step):
    for x in t(key)["steps"]:
        if x["step"] == step:
            return x
    raise KeyError("target %r has no step %r" % (key, step))
def ev(key, step):
    return s(key, step)["evidence"]
def hs(key, i=0):
    return ev(key, "tls")["handshakes"][i]
def resp(key, i=0):
    return ev(key, "http")["responses"][i]
try:
    ok = eval(sys.argv[2])
except Exception as e:  # noqa: BLE001 — reported to the test
    print("dq: %s raised %r" % (sys.argv[2], e))
    sys.exit(1)
sys.exit(0 if ok else 1)
PY
	fail "$2 (false: $1)"
}

expect_faster() {
	[ "$DIAG_MS" -lt "$1" ] || fail "$2: the run took $DIAG_MS ms (limit $1 ms)"
}
