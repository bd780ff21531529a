# service_lib.sh — helpers for the service cases (130-139), sourced after lib.sh.
#
# Cases 130-139 each run their own ddbgate on 127.0.1.13N:$GW_PORT (sni
# mode), with case-local upstreams on 127.0.3.13N / 127.0.4.13N:8443, and
# exercise what a service manager and an operator do to a running gateway:
# sd_notify, SIGHUP reloads, SIGTERM drains, SIGUSR1 log reopening, the
# metrics listener.  Everything they start is stopped by PID (lib.sh
# start_bg) when the case ends.
#
#   svc_head IP [METRICS] [CERT KEY]  the common head of a case-local
#                               configuration: listener IP:$GW_PORT (sni), a
#                               static certificate (default gw-leaf), access
#                               log on stdout, metrics.address METRICS
#                               (default "off"); the case appends the rest
#   svc_leaf BASE SERIAL NAME...  a new key and leaf (BASE.key, BASE.pem)
#                               signed by the gateway CA with serial SERIAL
#                               (hex) for the NAMEs, valid from yesterday for
#                               30 days
#   notify_start SOCKET LOG     an AF_UNIX datagram receiver (NOTIFY_SOCKET)
#                               writing "MONOTONIC-SECONDS MESSAGE" per
#                               datagram to LOG, newlines of MESSAGE as \n
#   notify_msgs LOG [MARK]      the messages after MARK (no time stamps)
#   notify_wait LOG MARK TEXT [TENTHS]  wait for a message equal to TEXT
#                               (with \n for newlines)
#   wait_exit PID TENTHS        wait for PID to exit; EXIT_ST = its status
#   slow_start NAME ADDR DELAY  a TLS upstream (leaf up-good) that answers
#                               every request 200 after DELAY seconds;
#                               CASE_TMP/NAME.log has "request N" lines
#   signal_and_wait PID SIG FILE ERE  send SIG, then wait_log FILE for ERE
#   tls_probe ADDR SNI          one TLS handshake (gateway CA): prints the
#                               serial of the certificate served, or
#                               "refused" / "error: ..."

SVC_PY="$CASE_TMP/svc-py"
mkdir -p "$SVC_PY"

svc_head() {
	local ip=$1 metrics=${2:-off} cert=${3:-$PKI/gw-leaf.pem} key=${4:-$PKI/gw-leaf.key}
	cat <<YAML
# case-local gateway ($(basename "$CASE_TMP" .d))
region: us-east-1
listeners:
  - address: $ip:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $cert
      key: $key
access_log:
  path: "-"
metrics:
  address: "$metrics"
YAML
}

svc_leaf() {
	local base=$1 serial=$2 san="" n
	shift 2
	for n in "$@"; do san="${san:+$san,}DNS:$n"; done
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$base.key.new" 2>/dev/null ||
		fail "openssl genpkey failed"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$san" >"$base.ext"
	openssl req -new -key "$base.key.new" -subj "/O=ddbgate tests/CN=$1" -out "$base.csr" 2>/dev/null ||
		fail "openssl req failed"
	openssl x509 -req -in "$base.csr" -CA "$PKI/gw-ca.pem" -CAkey "$PKI/gw-ca.db/ca.key" \
		-set_serial "0x$serial" -days 30 -extfile "$base.ext" -out "$base.pem.new" 2>"$base.x509.err" ||
		fail "openssl x509 -req failed: $(cat "$base.x509.err")"
	mv "$base.key.new" "$base.key"
	mv "$base.pem.new" "$base.pem"
	rm -f "$base.csr" "$base.ext" "$base.x509.err"
}

# --- sd_notify ---------------------------------------------------------------
cat >"$SVC_PY/notify.py" <<'PY'
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
out = open(log, "a", buffering=1)
deadline = time.monotonic() + 120  # bounded: the case is far shorter
while time.monotonic() < deadline:
    s.settimeout(1.0)
    try:
        data = s.recv(4096)
    except socket.timeout:
        continue
    out.write("%.6f %s\n" % (time.monotonic(), data.decode("utf-8", "replace").replace("\\", "\\\\").replace("\n", "\\n")))
PY

notify_start() {
	start_bg "$CASE_TMP/notify" /usr/bin/python3 "$SVC_PY/notify.py" "$1" "$2"
	FAIL_SHOW+=("$2")
	for _ in $(seq 1 50); do
		[ -S "$1" ] && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "the sd_notify receiver did not bind $1: $(cat "$CASE_TMP/notify.err")"
}

notify_msgs() { log_since "$1" "${2:-0}" | cut -d' ' -f2-; }

notify_wait() {
	local log=$1 mark=$2 text=$3 n=${4:-50}
	for _ in $(seq 1 "$n"); do
		notify_msgs "$log" "$mark" | grep -Fxq -- "$text" && return 0
		sleep 0.1
	done
	echo "sd_notify messages since the mark:"
	notify_msgs "$log" "$mark" | sed 's/^/  /'
	return 1
}

# --- processes -----------------------------------------------------------------
wait_exit() {
	local pid=$1 n=$2
	EXIT_ST=""
	for _ in $(seq 1 "$n"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 1
	wait "$pid"
	# shellcheck disable=SC2034 # read by the cases
	EXIT_ST=$?
	return 0
}

signal_and_wait() {
	local pid=$1 sig=$2 file=$3 re=$4 m line
	m=$(log_mark "$file")
	kill "-$sig" "$pid"
	line=$(wait_log "$file" "$m" "$re" 50) || { log_since "$file" "$m"; fail "after SIG$sig, no line matching /$re/ in $file"; }
	echo "ddbgate: $line"
}

# --- a slow TLS upstream -----------------------------------------------------------
cat >"$SVC_PY/slow.py" <<'PY'
import socket, ssl, sys, threading, time
addr, cert, key, delay, log = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
host, port = addr.rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
out = open(log, "a", buffering=1)
lock = threading.Lock()
count = [0]

def note(text):
    with lock:
        out.write("%.3f %s\n" % (time.time(), text))

def serve(raw):
    raw.settimeout(30)
    try:
        c = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError) as e:
        note("handshake failed: %s" % e)
        return
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, _, buf = buf.partition(b"\r\n\r\n")
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                n, _, v = line.partition(b":")
                if n.strip().lower() == b"content-length":
                    clen = int(v.strip())
            while len(buf) < clen:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            buf = buf[clen:]
            with lock:
                count[0] += 1
                n = count[0]
            note("request %d" % n)
            time.sleep(delay)
            body = b'{"TableNames":["slow-%d"],"pad":"%s"}' % (n, b"s" * 2000)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                      b"x-amzn-RequestId: slow-%d\r\nContent-Length: %d\r\n\r\n" % (n, len(body)) + body)
            note("response %d" % n)
    except (OSError, ssl.SSLError) as e:
        note("connection ended: %s" % e)
    finally:
        try:
            c.close()
        except OSError:
            pass

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, int(port)))
ls.listen(64)
note("listening")
while True:
    r, _ = ls.accept()
    threading.Thread(target=serve, args=(r,), daemon=True).start()
PY

slow_start() {
	local name=$1 addr=$2 delay=$3
	start_bg "$CASE_TMP/$name" /usr/bin/python3 "$SVC_PY/slow.py" "$addr:$UP_PORT" "$PKI/up-good.pem" \
		"$PKI/up-good.key" "$delay" "$CASE_TMP/$name.log"
	FAIL_SHOW+=("$CASE_TMP/$name.log" "$CASE_TMP/$name.err")
	for _ in $(seq 1 50); do
		grep -q listening "$CASE_TMP/$name.log" 2>/dev/null && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "slow upstream $name did not listen on $addr:$UP_PORT: $(cat "$CASE_TMP/$name.err")"
}

# --- TLS probes -------------------------------------------------------------------
cat >"$SVC_PY/probe.py" <<'PY'
import socket, ssl, sys
addr, sni, ca = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = addr.rsplit(":", 1)
ctx = ssl.create_default_context(cafile=ca)
try:
    raw = socket.create_connection((host, int(port)), timeout=5)
except ConnectionRefusedError:
    print("refused")
    sys.exit(0)
except OSError as e:
    print("error: %s" % e)
    sys.exit(0)
try:
    with ctx.wrap_socket(raw, server_hostname=sni) as c:
        print(c.getpeercert()["serialNumber"].lstrip("0").upper() or "0")
except (OSError, ssl.SSLError) as e:
    print("error: %s" % e)
PY

tls_probe() { /usr/bin/python3 "$SVC_PY/probe.py" "$1" "$2" "$PKI/gw-ca.pem"; }
