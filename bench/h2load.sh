#!/bin/bash
# h2load.sh — HTTP/2 and HTTP/1.1 throughput and latency of ddbgate on one
# machine, against nginx as a fake DynamoDB, with nginx alone as the baseline.
# Not part of the tests: numbers to compare within one run.
#
# usage: bench/h2load.sh [--rounds N] [--duration S] [--warmup S]
#                        [--scenarios "gw-h2 gw-h1 ..."] [--out DIR]
#                        [--client-cpu N] [--server-cpu N] [--pool-size N]
#                        [--keep-logs] [--no-netns]
#
#   --rounds N      interleaved rounds of every scenario (default 3, at least 1)
#   --duration S    h2load -D: measured seconds per run (default 10)
#   --warmup S      h2load --warm-up-time, not measured (default 2)
#   --scenarios L   which runs, in this order each round (default
#                   "gw-h2 gw-h1 gw-h2m8 up-h2 up-h1"):
#                     gw-h2    ddbgate, HTTP/2, -c 8 -m 32 (256 requests in flight)
#                     gw-h1    ddbgate, HTTP/1.1, --h1 -c 64 (64 in flight)
#                     gw-h2m8  ddbgate, HTTP/2, -c 8 -m 8 (64 in flight, as gw-h1)
#                     up-h2, up-h1, up-h2m8   the same, straight to nginx
#   --out DIR       keep every file here (default: a new /tmp/ddbgate-h2load.XXXXXX)
#   --client-cpu N  core for h2load (default 0)
#   --server-cpu N  core for nginx and ddbgate together (default 1)
#   --pool-size N   ddbgate's limits.upstream_pool_size (default: ddbgate's
#                   own, 64 idle upstream connections)
#   --keep-logs     keep h2load's per-request logs (runs/*.log, ~25 bytes a
#                   request); by default they are deleted once read
#   --no-netns      run on the host's loopback instead of a network namespace
#                   of its own (ports 127.0.0.1:8443 and 127.0.0.2:8443 must
#                   be free)
#
# Environment: DDBGATE=path of the binary (default build/ddbgate, built with
# scripts/bootstrap.sh --no-tests when missing).
#
# Run as root on Debian 12. It installs what is missing with apt-get: the
# packages `nginx` (the upstream), `nghttp2-client` (h2load), `openssl`,
# `curl`, `python3`, `iproute2` (ip netns) and `util-linux` (taskset);
# while it installs, a temporary /usr/sbin/policy-rc.d (only if there is
# none) keeps Debian from starting the nginx service.
#
# What one run does, everything on 127.0.0.0/8 inside a network namespace
# it creates (`ip netns add ddbgate-bench-PID`, lo up; deleted at the end):
#   1. a throwaway PKI with the openssl CLI: a CA, an upstream leaf and a
#      gateway leaf, both for dynamodb.us-east-1.amazonaws.com;
#   2. nginx on 127.0.0.2:8443 (TLS, h2 and http/1.1, one worker, keepalive,
#      no access log) answering every POST / with a fixed 200 GetItem
#      response (application/x-amz-json-1.0, ~200 bytes);
#   3. ddbgate (workers: 1) with an sni listener on 127.0.0.1:8443, the
#      gateway leaf as its static certificate, one endpoint whose upstream
#      is 127.0.0.2:8443, verified against the bench CA, a 20-statement
#      endpoint policy that allows the benchmark's GetItem, audit to
#      /dev/null, access log and metrics off;
#   4. a ~330-byte GetItem body with SigV4 headers as an SDK sends them
#      (signed once per round with a dummy secret: ddbgate checks the
#      form, the 15-minute window and the policy, never the signature,
#      and nginx ignores it); one curl request over h2 and one over
#      HTTP/1.1 through ddbgate must answer 200 with nginx's body;
#   5. h2load pinned to --client-cpu, nginx and ddbgate to --server-cpu
#      (taskset), interleaved rounds of the scenarios, each h2load -D with
#      a warm-up and --log-file (for the percentiles);
#   6. a markdown table: medians over the rounds, then every run. Columns:
#      req/s; mean (h2load) and p50/p99 (from the log file) latency; non-2xx
#      and failed requests; ddbgate's CPU time per request (utime+stime
#      from /proc/PID/stat over the measured window, divided by the
#      requests in it) and its peak RSS during the run (VmHWM, reset through
#      /proc/PID/clear_refs before each run); nginx's CPU per request; how
#      busy the client and server cores were (/proc/stat).
# Every process it starts is stopped by PID on exit (trap); ddbgate's and
# nginx's logs stay in the output directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/common.sh"
rounds=3 duration=10 warmup=2 out="" client_cpu=0 server_cpu=1 use_netns=1
pool_size="" keep_logs=0
scenarios="gw-h2 gw-h1 gw-h2m8 up-h2 up-h1"
HOSTNAME_DDB=dynamodb.us-east-1.amazonaws.com
GW_ADDR=127.0.0.1 UP_ADDR=127.0.0.2 PORT=8443
AKID=AKIAIOSFODNN7BENCH01
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHKEY00

die() { echo "h2load.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--duration) duration=${2:?}; shift 2 ;;
	--warmup) warmup=${2:?}; shift 2 ;;
	--scenarios) scenarios=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--client-cpu) client_cpu=${2:?}; shift 2 ;;
	--server-cpu) server_cpu=${2:?}; shift 2 ;;
	--pool-size) pool_size=${2:?}; shift 2 ;;
	--keep-logs) keep_logs=1; shift ;;
	--no-netns) use_netns=0; shift ;;
	-h | --help) usage 0 ;;
	*) echo "unknown argument: $1" >&2; usage 2 ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: a positive integer"
{ [[ $duration =~ ^[1-9][0-9]*$ ]] && [ "$duration" -ge 2 ]; } || die "--duration: whole seconds, at least 2"
[[ $warmup =~ ^[0-9]+$ ]] || die "--warmup: whole seconds"
[[ $pool_size =~ ^[0-9]*$ ]] || die "--pool-size: a number of connections"
for s in $scenarios; do
	case $s in gw-h2 | gw-h1 | gw-h2m8 | up-h2 | up-h1 | up-h2m8) ;; *) die "unknown scenario $s" ;; esac
done
[ "$(id -u)" = 0 ] || die "run as root (apt-get, ip netns, clear_refs)"
ncpu=$(nproc)
[ "$client_cpu" != "$server_cpu" ] || die "--client-cpu and --server-cpu must differ"
{ [ "$client_cpu" -lt "$ncpu" ] && [ "$server_cpu" -lt "$ncpu" ]; } ||
	die "this machine has $ncpu cores (0..$((ncpu - 1)))"

# --- packages ----------------------------------------------------------------
need=()
for pair in nginx:nginx h2load:nghttp2-client openssl:openssl curl:curl \
	python3:python3 ip:iproute2 taskset:util-linux; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	rc=0
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } || rc=$?
	[ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || die "apt-get install ${need[*]} failed"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

DDBGATE=${DDBGATE:-$top/build/ddbgate}
if [ ! -x "$DDBGATE" ]; then
	[ "$DDBGATE" = "$top/build/ddbgate" ] || die "DDBGATE=$DDBGATE is not executable"
	"$top/scripts/bootstrap.sh" --no-tests
fi

# --- work directory, cleanup ---------------------------------------------------
if [ -z "$out" ]; then out=$(mktemp -d /tmp/ddbgate-h2load.XXXXXX); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
W=$out
mkdir -p "$W/pki" "$W/nginx/tmp" "$W/state" "$W/runs"

NS="" NSX=() PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $use_netns = 1 ]; then
	NS=ddbgate-bench-$$
	ip netns add "$NS" || die "ip netns add failed (no CAP_SYS_ADMIN? try --no-netns)"
	ip netns exec "$NS" ip link set lo up
	NSX=(ip netns exec "$NS")
fi
# in the namespace (or not). `ip netns exec` and taskset exec the command,
# so "${NSX[@]}" taskset ... & leaves the server's own PID in $! (a shell
# function would leave a subshell's).
inns() { "${NSX[@]}" "$@"; }

# --- 1. PKI --------------------------------------------------------------------
(
	cd "$W/pki"
	key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
	key ca.key
	openssl req -new -x509 -key ca.key -days 2 -subj "/O=ddbgate bench/CN=ddbgate bench CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out ca.pem 2>/dev/null
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:$HOSTNAME_DDB" >leaf.ext
	for leaf in upstream gateway; do
		key "$leaf.key"
		openssl req -new -key "$leaf.key" -subj "/O=ddbgate bench $leaf/CN=$HOSTNAME_DDB" -out "$leaf.csr" 2>/dev/null
		openssl x509 -req -in "$leaf.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile leaf.ext -out "$leaf.pem" 2>/dev/null
		openssl verify -CAfile ca.pem "$leaf.pem" >/dev/null
	done
)

# --- 2. nginx, the upstream ------------------------------------------------------
# A GetItem response as DynamoDB sends it (x-amz-crc32 is the CRC32 of the body).
RESP_BODY='{"Item":{"pk":{"S":"user#00000042"},"sk":{"S":"profile#2024-01-01"},"v":{"S":"ddbgate-bench-value-0123456789abcdefghijklmnopqrstuvwxyz"},"updatedAt":{"N":"1700000000"}},"ConsumedCapacity":{"TableName":"BenchItems","CapacityUnits":1.0}}'
RESP_CRC=$(printf '%s' "$RESP_BODY" | python3 -c 'import sys,zlib; print(zlib.crc32(sys.stdin.buffer.read()))')
cat >"$W/nginx/nginx.conf" <<EOF
# the fake DynamoDB: every POST / answers a fixed GetItem result
daemon off;
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    server_tokens off;
    server {
        listen $UP_ADDR:$PORT ssl http2;
        server_name $HOSTNAME_DDB;
        ssl_certificate $W/pki/upstream.pem;
        ssl_certificate_key $W/pki/upstream.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = / {
            if (\$request_method != POST) { return 405; }
            default_type application/x-amz-json-1.0;
            add_header x-amzn-RequestId BENCH0000000000000000000000000000000000000000000000000 always;
            add_header x-amz-crc32 $RESP_CRC always;
            return 200 '$RESP_BODY';
        }
    }
}
EOF
inns "$NGINX" -t -q -p "$W/nginx" -e "$W/nginx/error.log" -c "$W/nginx/nginx.conf" ||
	die "nginx -t failed"
"${NSX[@]}" taskset -c "$server_cpu" "$NGINX" -p "$W/nginx" -e "$W/nginx/error.log" -c "$W/nginx/nginx.conf" \
	>"$W/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

# --- 3. ddbgate ------------------------------------------------------------------
write_ddbgate_config "$W/ddbgate.yaml" h2load
if [ -n "$pool_size" ]; then
	printf 'limits:\n  upstream_pool_size: %s\n' "$pool_size" >>"$W/ddbgate.yaml"
fi
"$DDBGATE" check -c "$W/ddbgate.yaml" >"$W/ddbgate.check" || die "ddbgate check failed: $(tail -3 "$W/ddbgate.check")"
"$DDBGATE" policy lint -p "$W/policy.json" >"$W/policy.lint" 2>&1 || { cat "$W/policy.lint"; die "policy lint failed"; }
"${NSX[@]}" taskset -c "$server_cpu" "$DDBGATE" run -c "$W/ddbgate.yaml" >"$W/ddbgate.out" 2>"$W/ddbgate.err" &
GW_PID=$!
PIDS+=("$GW_PID")

wait_port() { # ADDR PID
	for _ in $(seq 1 100); do
		inns timeout 1 bash -c "exec 3<>/dev/tcp/$1/$PORT" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
wait_port "$UP_ADDR" "$NGINX_PID" || { cat "$W/nginx/error.log" "$W/nginx/stdout.log"; die "nginx did not listen on $UP_ADDR:$PORT"; }
wait_port "$GW_ADDR" "$GW_PID" || { tail -20 "$W/ddbgate.err"; die "ddbgate did not listen on $GW_ADDR:$PORT"; }
NGINX_WORKER=$(awk '{print $1}' "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null)
[ -n "$NGINX_WORKER" ] || die "no nginx worker process"

# --- 4. the request ------------------------------------------------------------------
# GetItem as the AWS SDK for Java v2 sends it (~330 bytes).
REQ_BODY='{"TableName":"BenchItems","Key":{"pk":{"S":"tenant#acme-corp#user#0000004217"},"sk":{"S":"profile#v2#2024-01-01T00:00:00Z"}},"ProjectionExpression":"#pk, #sk, #v, #st, #ua, #ex","ExpressionAttributeNames":{"#pk":"pk","#sk":"sk","#v":"v","#st":"status","#ua":"updatedAt","#ex":"expiresAt"},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}'
printf '%s' "$REQ_BODY" >"$W/body.json"

# sign — (re)writes $W/headers: one "name: value" line per h2load -H / curl -H.
# The signature is computed with a dummy secret over exactly these headers.
sign() {
	python3 - "$W/body.json" "$HOSTNAME_DDB:$PORT" "$AKID" "$SECRET" >"$W/headers" <<'PY'
import datetime, hashlib, hmac, sys, uuid
body = open(sys.argv[1], "rb").read()
host, akid, secret = sys.argv[2], sys.argv[3], sys.argv[4]
now = datetime.datetime.now(datetime.timezone.utc)
amz_date = now.strftime("%Y%m%dT%H%M%SZ")
day = amz_date[:8]
hdrs = [
    ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ("content-type", "application/x-amz-json-1.0"),
    ("x-amz-date", amz_date),
    ("user-agent", "aws-sdk-java/2.25.60 Linux/6.1 OpenJDK_64-Bit_Server_VM/17.0.11+9 Java/17.0.11 vendor/Debian io/sync http/Apache cfg/retry-mode/legacy"),
    ("amz-sdk-invocation-id", str(uuid.UUID(int=0x0123456789abcdef0123456789abcdef))),
    ("amz-sdk-request", "attempt=1; max=4"),
    ("accept-encoding", "identity"),
]
signed = dict(hdrs)
signed["host"] = host
signed["content-length"] = str(len(body))
del signed["user-agent"]            # as the SDKs do
names = sorted(signed)
canon = "".join("%s:%s\n" % (n, " ".join(signed[n].split())) for n in names)
creq = "\n".join(["POST", "/", "", canon, ";".join(names), hashlib.sha256(body).hexdigest()])
scope = "%s/us-east-1/dynamodb/aws4_request" % day
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
k = ("AWS4" + secret).encode()
for part in (day, "us-east-1", "dynamodb", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
hdrs.append(("authorization", "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
             % (akid, scope, ";".join(names), sig)))
for n, v in hdrs:
    print("%s: %s" % (n, v))
PY
	HDR_ARGS=()
	while IFS= read -r line; do HDR_ARGS+=(-H "$line"); done <"$W/headers"
}
sign
# The endpoint policy must allow this very request, by the statement meant.
{
	printf 'POST / HTTP/1.1\r\nHost: %s:%s\r\n' "$HOSTNAME_DDB" "$PORT"
	sed 's/$/\r/' "$W/headers"
	printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$W/body.json")"
	cat "$W/body.json"
} >"$W/request.http"
"$DDBGATE" policy eval -p "$W/policy.json" --request "$W/request.http" -c "$W/ddbgate.yaml" \
	>"$W/policy.eval" 2>&1 || { cat "$W/policy.eval"; die "the endpoint policy does not allow the benchmark request"; }
grep -q BenchAppReads "$W/policy.eval" || { cat "$W/policy.eval"; die "allowed, but not by BenchAppReads"; }

# One request over each protocol must come back 200 with nginx's body.
for proto in --http2 --http1.1; do
	code=$(inns curl -sS --max-time 10 "$proto" --resolve "$HOSTNAME_DDB:$PORT:$GW_ADDR" \
		--cacert "$W/pki/ca.pem" "${HDR_ARGS[@]}" --data-binary "@$W/body.json" \
		-D "$W/check$proto.headers" -o "$W/check$proto.body" -w '%{http_code} %{http_version}' \
		"https://$HOSTNAME_DDB:$PORT/" 2>"$W/check$proto.err") || true
	if [ "${code%% *}" != 200 ] || [ "$(cat "$W/check$proto.body")" != "$RESP_BODY" ]; then
		echo "curl $proto through ddbgate: '$code' $(cat "$W/check$proto.err")" >&2
		sed 's/^/  /' "$W/check$proto.headers" "$W/check$proto.body" >&2; echo >&2
		echo "ddbgate stderr:" >&2; tail -20 "$W/ddbgate.err" >&2
		die "the check request through ddbgate did not answer 200 with the upstream's body"
	fi
	echo "check: curl $proto through ddbgate -> HTTP/${code#* } ${code%% *}, $(wc -c <"$W/check$proto.body") bytes"
done
code=$(inns curl -sS --max-time 10 --http2 --resolve "$HOSTNAME_DDB:$PORT:$UP_ADDR" --cacert "$W/pki/ca.pem" \
	"${HDR_ARGS[@]}" --data-binary "@$W/body.json" -o /dev/null -w '%{http_code}' "https://$HOSTNAME_DDB:$PORT/") || true
[ "$code" = 200 ] || die "the check request to nginx answered '$code'"

# --- 5. runs ---------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # PID... -> utime+stime of those processes, in ticks
	local p t=0 f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat") || return 1
		f=${f##*) }             # fields from 3 (state) on
		read -r -a a <<<"$f"
		t=$((t + a[11] + a[12])) # utime, stime are fields 14, 15
	done
	echo "$t"
}
core_busy() { # CPU -> "busy total" jiffies of that core
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# TCP connections opened (connect) so far in ddbgate's network namespace:
# h2load's and ddbgate's upstream ones (host-wide with --no-netns)
tcp_opens() {
	awk '$1 == "Tcp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "ActiveOpens") n = i; next } print $n }' \
		"/proc/$GW_PID/net/snmp"
}

echo "h2load.sh: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "ddbgate $("$DDBGATE" version 2>/dev/null | head -1) ($DDBGATE), $("$NGINX" -v 2>&1), $(h2load --version | head -1)"
echo "upstream_pool_size ${pool_size:-64 (default)}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds $rounds, ${warmup}s warm-up + ${duration}s per run; h2load on core $client_cpu, nginx+ddbgate on core $server_cpu; output in $W"
printf 'round\tscenario\treqs\trps\tmean_ms\tp50_ms\tp99_ms\tmax_ms\tnon2xx\tfailed\tgw_us_req\tgw_hwm_kb\tup_us_req\tclient_busy\tserver_busy\tconns_per_req\tclient_other\tserver_other\n' >"$W/results.tsv"
GW_RSS_START=$(kb "$GW_PID" VmRSS)

run_one() { # ROUND SCENARIO
	local r=$1 s=$2 target args base t0 t1 g0 g1 n0 n1 h0 h1 c0 c1 ct0 ct1 s0 s1 st0 st1 o0 o1 hwm
	case $s in gw-*) target=$GW_ADDR ;; up-*) target=$UP_ADDR ;; esac
	case $s in
	*-h2) args=(-c 8 -m 32) ;;
	*-h2m8) args=(-c 8 -m 8) ;;
	*-h1) args=(--h1 -c 64) ;;
	esac
	base=$W/runs/r$r-$s
	echo 5 >"/proc/$GW_PID/clear_refs" 2>/dev/null || true
	"${NSX[@]}" taskset -c "$client_cpu" h2load "${args[@]}" -t 1 -D "$duration" --warm-up-time "$warmup" \
		-d "$W/body.json" "${HDR_ARGS[@]}" --connect-to "$target:$PORT" --log-file "$base.log" \
		"https://$HOSTNAME_DDB:$PORT/" >"$base.out" 2>&1 &
	local hpid=$!
	PIDS+=("$hpid")
	# the CPU window: inside the measured period, half a second from each end
	sleep "$(awk -v w="$warmup" 'BEGIN { print w + 0.5 }')"
	t0=$EPOCHREALTIME g0=$(cpu_ticks "$GW_PID") n0=$(cpu_ticks "$NGINX_PID" "$NGINX_WORKER") o0=$(tcp_opens) h0=$(cpu_ticks "$hpid")
	read -r c0 ct0 < <(core_busy "$client_cpu"); read -r s0 st0 < <(core_busy "$server_cpu")
	sleep "$((duration - 1))"
	t1=$EPOCHREALTIME g1=$(cpu_ticks "$GW_PID") n1=$(cpu_ticks "$NGINX_PID" "$NGINX_WORKER") o1=$(tcp_opens) h1=$(cpu_ticks "$hpid")
	read -r c1 ct1 < <(core_busy "$client_cpu"); read -r s1 st1 < <(core_busy "$server_cpu")
	wait "$hpid" || { cat "$base.out"; die "h2load failed ($s, round $r)"; }
	hwm=$(kb "$GW_PID" VmHWM)
	kill -0 "$GW_PID" 2>/dev/null || die "ddbgate exited during $s, round $r: $(tail -5 "$W/ddbgate.err")"
	python3 - "$base.out" "$base.log" "$r" "$s" "$t0" "$t1" "$((g1 - g0))" "$((n1 - n0))" "$CLK_TCK" \
		"$((c1 - c0))" "$((ct1 - ct0))" "$((s1 - s0))" "$((st1 - st0))" "$hwm" "$((o1 - o0))" "$((h1 - h0))" >>"$W/results.tsv" <<'PY'
import re, sys
out, log, rnd, scen = sys.argv[1:5]
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
gw_ticks, up_ticks, hz = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
cb, ct, sb, st = (int(x) for x in sys.argv[10:14])
hwm = sys.argv[14]
opens = int(sys.argv[15])
h2load_ticks = int(sys.argv[16])
text = open(out).read()
rps = float(re.search(r"finished in [0-9.]+\w*, ([0-9.]+) req/s", text).group(1))
m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
total, done, ok, failed, errored, tmo = (int(m.group(i)) for i in (1, 3, 4, 5, 6, 7))
sc = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
non2xx = sum(int(sc.group(i)) for i in (2, 3, 4))
mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", text).group(1)
def ms(v):
    n = float(re.match(r"[0-9.]+", v).group(0))
    return n / 1000 if v.endswith("us") else n * 1000 if v.endswith("s") and not v.endswith("ms") else n
lat = []
for line in open(log):
    f = line.split("\t")
    if len(f) >= 3:
        lat.append(int(f[2]))
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] / 1000 if lat else float("nan")
wall = t1 - t0
gw_us = gw_ticks / hz / wall / rps * 1e6 if scen.startswith("gw") else float("nan")
up_us = up_ticks / hz / wall / rps * 1e6
print("\t".join(str(x) for x in (
    rnd, scen, done, "%.0f" % rps, "%.2f" % ms(mean), "%.2f" % pct(50), "%.2f" % pct(99),
    "%.2f" % (lat[-1] / 1000 if lat else float("nan")), non2xx, failed + errored + tmo,
    "%.1f" % gw_us, hwm if scen.startswith("gw") else "", "%.1f" % up_us,
    "%.0f%%" % (100 * cb / ct if ct else 0), "%.0f%%" % (100 * sb / st if st else 0),
    "%.2f" % (opens / (rps * wall)),
    # busy time on each core that h2load (client) or nginx and ddbgate
    # (server) did not account for: other processes, or the kernel
    "%.0f%%" % max(0, 100 * (cb / ct - h2load_ticks / hz / wall)) if ct else "0%",
    "%.0f%%" % max(0, 100 * (sb / st - (gw_ticks + up_ticks) / hz / wall)) if st else "0%")))
PY
	[ $keep_logs = 1 ] || rm -f "$base.log"
	tail -n 1 "$W/results.tsv" | awk -F'\t' '{ printf "  round %s %-8s %8s req/s  mean %s ms  p99 %s ms  non-2xx %s  failed %s  ddbgate %s us/req  nginx %s us/req  cores %s/%s  new TCP conns/req %s  other load %s/%s\n", $1, $2, $4, $5, $7, $9, $10, $11, $13, $14, $15, $16, $17, $18 }'
	sleep 1
}

for r in $(seq 1 "$rounds"); do
	sign # a fresh X-Amz-Date each round: the 15-minute window
	echo "round $r"
	for s in $scenarios; do run_one "$r" "$s"; done
done

# --- 6. report -----------------------------------------------------------------------------
GW_HWM_ALL=$(kb "$GW_PID" VmHWM)
python3 - "$W/results.tsv" "$scenarios" >"$W/summary.md" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
head, rows = rows[0], rows[1:]
order = sys.argv[2].split()
DISTURBED = 10  # % of a core busy with something else than h2load, nginx, ddbgate
desc = {"gw-h2": "ddbgate, h2 -c 8 -m 32", "gw-h1": "ddbgate, HTTP/1.1 -c 64",
        "gw-h2m8": "ddbgate, h2 -c 8 -m 8", "up-h2": "nginx direct, h2 -c 8 -m 32",
        "up-h1": "nginx direct, HTTP/1.1 -c 64", "up-h2m8": "nginx direct, h2 -c 8 -m 8"}
def col(rs, name):
    i = head.index(name)
    return [r[i] for r in rs]
def num(x):
    return float(x.rstrip("%"))
def med(vals, fmt):
    v = [num(x) for x in vals if x not in ("", "nan")]
    return fmt % statistics.median(v) if v else "—"
def spread(vals):
    v = [num(x) for x in vals]
    m = statistics.median(v)
    return "±%.0f%%" % (100 * (max(v) - min(v)) / 2 / m) if m else ""
print("| scenario | req/s | spread | mean ms | p50 ms | p99 ms | non-2xx / failed | ddbgate CPU µs/req | ddbgate peak RSS | nginx CPU µs/req | client / server core busy | new TCP conns/req | other load, client / server core (max) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s in order:
    rs = [r for r in rows if r[1] == s]
    if not rs:
        continue
    gw = s.startswith("gw")
    print("| %s | %s | %s | %s | %s | %s | %d / %d | %s | %s | %s | %s / %s | %s | %s |" % (
        desc[s], med(col(rs, "rps"), "%.0f"), spread(col(rs, "rps")), med(col(rs, "mean_ms"), "%.2f"),
        med(col(rs, "p50_ms"), "%.2f"), med(col(rs, "p99_ms"), "%.2f"),
        sum(int(x) for x in col(rs, "non2xx")), sum(int(x) for x in col(rs, "failed")),
        med(col(rs, "gw_us_req"), "%.1f") if gw else "—",
        ("%.1f MiB" % (max(int(x) for x in col(rs, "gw_hwm_kb")) / 1024)) if gw else "—",
        med(col(rs, "up_us_req"), "%.1f"), med(col(rs, "client_busy"), "%.0f%%"),
        med(col(rs, "server_busy"), "%.0f%%"), med(col(rs, "conns_per_req"), "%.2f"),
        "%.0f%% / %.0f%%" % (max(num(x) for x in col(rs, "client_other")),
                             max(num(x) for x in col(rs, "server_other")))))
print()
print("Medians over %d round(s); spread = half the range of req/s over the median." % len(set(col(rows, "round"))))
print()
print("Every run:")
print()
print("| round | scenario | req/s | mean ms | p50 ms | p99 ms | max ms | non-2xx | failed | ddbgate µs/req | ddbgate VmHWM KiB | nginx µs/req | client / server busy | new conns/req | other load client / server |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
bad = 0
for r in rows:
    d = dict(zip(head, r))
    flag = max(num(d["client_other"]), num(d["server_other"])) > DISTURBED
    bad += flag
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s%s |" % (
        d["round"], d["scenario"], d["rps"], d["mean_ms"], d["p50_ms"], d["p99_ms"], d["max_ms"],
        d["non2xx"], d["failed"], d["gw_us_req"] if d["gw_us_req"] != "nan" else "—",
        d["gw_hwm_kb"] or "—", d["up_us_req"], d["client_busy"], d["server_busy"],
        d["conns_per_req"], d["client_other"] + " / " + d["server_other"], " !" if flag else ""))
if bad:
    print()
    print("! %d run(s) found more than %d%% of a core busy with other processes: those "
          "figures are disturbed; rerun on a quiet machine." % (bad, DISTURBED))
PY
{
	echo
	echo "ddbgate RSS: ${GW_RSS_START} KiB after start, peak ${GW_HWM_ALL} KiB (VmHWM since the last reset)."
} >>"$W/summary.md"
echo
cat "$W/summary.md"

# ddbgate's own log: anything at warning level or worse is worth a look.
# (running as root without `user:` is a known warning here: the bench
# directory is root's)
grep -Eiv '\b(info|debug)\b|running as root: set user' "$W/ddbgate.err" >"$W/ddbgate.problems" || true
if [ -s "$W/ddbgate.problems" ]; then
	echo
	echo "ddbgate logged $(wc -l <"$W/ddbgate.problems") line(s) other than info/debug (first 10; all in $W/ddbgate.problems):"
	head -10 "$W/ddbgate.problems"
fi
if [ -s "$W/nginx/error.log" ]; then
	echo
	echo "nginx error.log: $(wc -l <"$W/nginx/error.log") line(s) (first 5):"
	head -5 "$W/nginx/error.log"
fi
echo
echo "files: $W (results.tsv, summary.md, runs/, ddbgate.err, nginx/)"
