#!/bin/bash
# compare.sh — ddbgate side by side with HAProxy and nginx as TLS-verifying
# reverse proxies for the same DynamoDB-shaped traffic, on one machine, in
# one run (issue 9, performance item 3). Numbers to compare within a run.
#
# usage: bench/compare.sh [--rounds N] [--duration S] [--warmup S]
#                         [--lat-duration S] [--hs-duration S]
#                         [--idle-conns N] [--no-idle] [--no-perf] [--no-micro]
#                         [--targets "direct haproxy nginx ddbgate"]
#                         [--scenarios "h1 h2 wrk lat1 hs"]
#                         [--client-cpu N] [--server-cpu N]
#                         [--out DIR] [--results FILE]
#
#   --rounds N        interleaved rounds (default 3): each round runs every
#                     scenario against every target, targets interleaved
#   --duration S      measured seconds of each saturation run (default 8)
#   --warmup S        warm-up seconds before it (default 1; h2load
#                     --warm-up-time, for wrk part of its -d)
#   --lat-duration S  seconds of the one-request-at-a-time run (default 4)
#   --hs-duration S   seconds of the handshake-heavy run (default 4)
#   --idle-conns N    idle keep-alive TLS connections held open per target
#                     for the memory figure (default 10000)
#   --no-idle         skip the idle-connection memory test
#   --no-perf         skip the perf profile of ddbgate (taken when `perf`
#                     works; Debian package linux-perf)
#   --no-micro        skip bench/run-micro.sh (policy decision, classification
#                     and HTTP/1 parse ns per operation, reported against
#                     the issue's targets with the rest)
#   --targets L       which of direct haproxy nginx ddbgate (default all)
#   --scenarios L     which of (default "h1 h2 wrk lat1 hs"):
#                       h1    h2load --h1 -c 64 (HTTP/1.1, 64 connections)
#                       h2    h2load -c 8 -m 8 (HTTP/2, 64 streams on 8 conns)
#                       wrk   wrk -t 1 -c 64 (HTTP/1.1, Lua script for the POST)
#                       lat1  h2load --h1 -c 1 -m 1: one request at a time,
#                             latency added by a proxy = its figure - direct
#                       hs    wrk -c 16 with Connection: close: a new client
#                             TCP+TLS connection for every request
#   --client-cpu N    core for the load generators (default 0)
#   --server-cpu N    core for the upstream and every proxy (default 1)
#   --out DIR         work directory (default a new /tmp/ddbgate-compare.XXXXXX)
#   --results FILE    the markdown report (default bench/RESULTS.md)
#
# Environment: DDBGATE=path of the binary (default build/ddbgate);
# PERF_CALLGRAPH=perf record's call-graph option (default -g; ddbgate and
# the libraries lack frame pointers, "--call-graph dwarf" gives callers).
#
# Run as root on Debian 12. It installs what is missing with apt-get:
# `haproxy`, `nginx`, `nghttp2-client` (h2load), `wrk`, `openssl`, `curl`,
# `python3`, `iproute2` (ip netns), `util-linux` (taskset, unshare); `perf`
# (package `linux-perf`) is used when present, never installed (it must
# match the kernel). A temporary /usr/sbin/policy-rc.d keeps Debian from
# starting the haproxy and nginx services while installing.
#
# Everything runs in a network namespace it creates (ip netns), loopback:
#   upstream  nginx on 127.0.0.2:8443, TLS, one worker, keep-alive, every
#             POST / answered with a fixed 200 GetItem result (as h2load.sh)
#   direct    the load generators straight to the upstream (the baseline)
#   haproxy   127.0.0.3:8443: nbthread 1, TLS terminated (h2 and
#             http/1.1), re-encrypted to the upstream with `verify required`,
#             ca-file = the bench CA, sni + verifyhost, http-reuse always,
#             an ACL on X-Amz-Target (a list of 11 DynamoDB targets allowed,
#             403 for any other)
#   nginx     127.0.0.4:8443: worker_processes 1, proxy_ssl_verify on,
#             proxy_ssl_trusted_certificate, proxy_ssl_name,
#             proxy_ssl_server_name on, upstream keepalive 64, a
#             `map $http_x_amz_target` (the same 11 targets; 403 otherwise)
#   ddbgate   127.0.0.1:8443: workers: 1, sni listener, the 20-statement
#             endpoint policy of h2load.sh, audit to /dev/null, access log
#             and metrics off
# All answer with the same certificate (the bench CA's leaf for
# dynamodb.us-east-1.amazonaws.com). The request is h2load.sh's 344-byte
# GetItem with SigV4 headers (X-Amz-Target, X-Amz-Date, Authorization,
# Content-Type), re-signed every round.
#
# Before measuring: every target must answer 200 with the upstream's body
# over HTTP/1.1 and h2 (curl), and deny a DeleteTable (haproxy and nginx:
# 403; ddbgate: 400 AccessDeniedException).
#
# Per run: req/s, mean/p50/p99 latency (h2load --log-file; wrk's own
# histogram via a done() hook), non-2xx and failed requests, the proxy's
# CPU µs per request (utime+stime deltas from /proc/PID/stat over the
# measured window), its peak RSS (VmHWM, reset with clear_refs before each
# run), the upstream's CPU µs per request, new TCP connections per request
# (TcpActiveOpens of the namespace), and how busy each core was with other
# processes (busy time from /proc/stat minus what the processes under test
# and the load generator account for; > 10% is flagged `!`).
# Idle memory: a small Python asyncio client opens --idle-conns TLS
# connections to a target (each completes the handshake and one GetItem,
# then idles); the proxy's RSS and PSS (smaps_rollup) delta / connections.
# Every process is stopped by PID on exit (trap). Default run: ~13 minutes.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/common.sh"
orig_args="$*"
rounds=3 duration=8 warmup=1 lat_duration=4 hs_duration=4 idle_conns=10000
do_idle=1 do_perf=1 do_micro=1 out="" results="" client_cpu=0 server_cpu=1
targets="direct haproxy nginx ddbgate"
scenarios="h1 h2 wrk lat1 hs"
HOSTNAME_DDB=dynamodb.us-east-1.amazonaws.com
GW_ADDR=127.0.0.1 UP_ADDR=127.0.0.2 HA_ADDR=127.0.0.3 NX_ADDR=127.0.0.4 PORT=8443
AKID=AKIAIOSFODNN7BENCH01
SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHKEY00
# what the HAProxy ACL and the nginx map let through
ALLOWED_TARGETS="GetItem BatchGetItem Query Scan PutItem UpdateItem DeleteItem BatchWriteItem TransactGetItems TransactWriteItems DescribeTable"

die() { echo "compare.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--duration) duration=${2:?}; shift 2 ;;
	--warmup) warmup=${2:?}; shift 2 ;;
	--lat-duration) lat_duration=${2:?}; shift 2 ;;
	--hs-duration) hs_duration=${2:?}; shift 2 ;;
	--idle-conns) idle_conns=${2:?}; shift 2 ;;
	--no-idle) do_idle=0; shift ;;
	--no-perf) do_perf=0; shift ;;
	--no-micro) do_micro=0; shift ;;
	--targets) targets=${2:?}; shift 2 ;;
	--scenarios) scenarios=${2:?}; shift 2 ;;
	--client-cpu) client_cpu=${2:?}; shift 2 ;;
	--server-cpu) server_cpu=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--results) results=${2:?}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "unknown argument: $1" >&2; usage 2 ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: a positive integer"
for v in duration lat_duration hs_duration; do
	{ [[ ${!v} =~ ^[1-9][0-9]*$ ]] && [ "${!v}" -ge 2 ]; } || die "--${v//_/-}: whole seconds, at least 2"
done
[[ $warmup =~ ^[0-9]+$ ]] || die "--warmup: whole seconds"
[[ $idle_conns =~ ^[1-9][0-9]*$ ]] || die "--idle-conns: a positive integer"
for t in $targets; do case $t in direct | haproxy | nginx | ddbgate) ;; *) die "unknown target $t" ;; esac; done
for s in $scenarios; do case $s in h1 | h2 | wrk | lat1 | hs) ;; *) die "unknown scenario $s" ;; esac; done
[ "$(id -u)" = 0 ] || die "run as root (apt-get, ip netns, clear_refs, ulimit)"
ncpu=$(nproc)
[ "$client_cpu" != "$server_cpu" ] || die "--client-cpu and --server-cpu must differ"
{ [ "$client_cpu" -lt "$ncpu" ] && [ "$server_cpu" -lt "$ncpu" ]; } ||
	die "this machine has $ncpu cores (0..$((ncpu - 1)))"
results=${results:-$top/bench/RESULTS.md}

# --- packages ----------------------------------------------------------------
need=()
for pair in haproxy:haproxy nginx:nginx h2load:nghttp2-client wrk:wrk openssl:openssl curl:curl \
	python3:python3 ip:iproute2 taskset:util-linux unshare:util-linux; do
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
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
PERF=""
if [ $do_perf = 1 ] && command -v perf >/dev/null 2>&1 && perf record -q -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
	PERF=$(command -v perf)
fi

DDBGATE=${DDBGATE:-$top/build/ddbgate}
[ -x "$DDBGATE" ] || die "no ddbgate binary at $DDBGATE (build it, or set DDBGATE=)"

# 10,000 idle client connections plus upstream ones: every process needs fds
# (raising the hard limit needs CAP_SYS_RESOURCE; without it, the hard limit)
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((idle_conns + 2000)) ] || [ $do_idle = 0 ] ||
	die "ulimit -n is $(ulimit -n): too low for --idle-conns $idle_conns"

# --- work directory, cleanup ---------------------------------------------------
if [ -z "$out" ]; then out=$(mktemp -d /tmp/ddbgate-compare.XXXXXX); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
W=$out
mkdir -p "$W/pki" "$W/nginx/tmp" "$W/nginx-proxy/tmp" "$W/haproxy" "$W/state" "$W/runs" "$W/hosts"

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

NS=ddbgate-compare-$$
ip netns add "$NS" || die "ip netns add failed (no CAP_SYS_ADMIN?)"
ip netns exec "$NS" ip link set lo up
NSX=(ip netns exec "$NS")
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
events { worker_connections $((idle_conns + 5000)); }
worker_rlimit_nofile $(ulimit -n);
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    keepalive_timeout 600s;
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
cat "$W/pki/gateway.pem" "$W/pki/gateway.key" >"$W/pki/gateway.combined.pem"
write_ddbgate_config "$W/ddbgate.yaml" compare.sh
cat >>"$W/ddbgate.yaml" <<EOF
limits:
  # room for the idle-connection test; idle clients must outlive it
  max_connections: $((idle_conns + 5000))
  client_idle_timeout_s: 600
EOF
"$DDBGATE" check -c "$W/ddbgate.yaml" >"$W/ddbgate.check" 2>&1 || die "ddbgate check failed: $(tail -3 "$W/ddbgate.check")"
"$DDBGATE" policy lint -p "$W/policy.json" >"$W/policy.lint" 2>&1 || { cat "$W/policy.lint"; die "policy lint failed"; }

ha_acl="" nx_map=""
for t in $ALLOWED_TARGETS; do
	ha_acl+=" DynamoDB_20120810.$t"
	nx_map+="        DynamoDB_20120810.$t 1;"$'\n'
done
cat >"$W/haproxy/haproxy.cfg" <<EOF
# HAProxy: TLS in, TLS out (verified), an X-Amz-Target allow-list
global
    nbthread 1
    maxconn $((idle_conns + 1000))
    # HAProxy wants 2 fds per maxconn; where the hard limit of open files
    # cannot be raised (containers), run with what there is: the idle test
    # needs one fd per client connection and a few upstream ones
    no strict-limits
    ssl-server-verify required
    tune.ssl.default-dh-param 2048
defaults
    mode http
    maxconn $((idle_conns + 1000))
    timeout connect 5s
    timeout client 600s
    timeout server 30s
    timeout http-request 120s
    timeout http-keep-alive 600s
    option http-keep-alive
    http-reuse always
frontend ddb
    bind $HA_ADDR:$PORT ssl crt $W/pki/gateway.combined.pem alpn h2,http/1.1 ssl-min-ver TLSv1.2
    acl ddb_target_ok req.hdr(x-amz-target) -m str$ha_acl
    http-request deny deny_status 403 unless ddb_target_ok
    default_backend dynamodb
backend dynamodb
    server up $UP_ADDR:$PORT ssl verify required ca-file $W/pki/ca.pem sni str($HOSTNAME_DDB) verifyhost $HOSTNAME_DDB alpn http/1.1
EOF
inns "$HAPROXY" -c -q -f "$W/haproxy/haproxy.cfg" >"$W/haproxy/check.log" 2>&1 || { cat "$W/haproxy/check.log"; die "haproxy -c failed"; }

cat >"$W/nginx-proxy/nginx.conf" <<EOF
# nginx as a verifying TLS reverse proxy with an X-Amz-Target allow-list
daemon off;
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $W/nginx-proxy/nginx.pid;
error_log $W/nginx-proxy/error.log warn;
events { worker_connections $((idle_conns + 5000)); }
http {
    access_log off;
    client_body_temp_path $W/nginx-proxy/tmp/body;
    proxy_temp_path $W/nginx-proxy/tmp/proxy;
    fastcgi_temp_path $W/nginx-proxy/tmp/fastcgi;
    uwsgi_temp_path $W/nginx-proxy/tmp/uwsgi;
    scgi_temp_path $W/nginx-proxy/tmp/scgi;
    keepalive_timeout 600s;
    keepalive_requests 100000000;
    server_tokens off;
    map \$http_x_amz_target \$ddb_target_ok {
        default 0;
$nx_map    }
    upstream dynamodb {
        server $UP_ADDR:$PORT;
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }
    server {
        listen $NX_ADDR:$PORT ssl http2;
        server_name $HOSTNAME_DDB;
        ssl_certificate $W/pki/gateway.pem;
        ssl_certificate_key $W/pki/gateway.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            if (\$ddb_target_ok = 0) { return 403; }
            proxy_pass https://dynamodb;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host:\$server_port;
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_trusted_certificate $W/pki/ca.pem;
            proxy_ssl_name $HOSTNAME_DDB;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;
        }
    }
}
EOF
inns "$NGINX" -t -q -p "$W/nginx-proxy" -e "$W/nginx-proxy/error.log" -c "$W/nginx-proxy/nginx.conf" ||
	die "nginx -t (proxy) failed"

"${NSX[@]}" taskset -c "$server_cpu" "$DDBGATE" run -c "$W/ddbgate.yaml" >"$W/ddbgate.out" 2>"$W/ddbgate.err" &
GW_PID=$!
PIDS+=("$GW_PID")
"${NSX[@]}" taskset -c "$server_cpu" "$HAPROXY" -db -f "$W/haproxy/haproxy.cfg" >"$W/haproxy/stdout.log" 2>&1 &
HA_PID=$!
PIDS+=("$HA_PID")
"${NSX[@]}" taskset -c "$server_cpu" "$NGINX" -p "$W/nginx-proxy" -e "$W/nginx-proxy/error.log" -c "$W/nginx-proxy/nginx.conf" \
	>"$W/nginx-proxy/stdout.log" 2>&1 &
NXP_PID=$!
PIDS+=("$NXP_PID")

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
wait_port "$HA_ADDR" "$HA_PID" || { cat "$W/haproxy/stdout.log"; die "haproxy did not listen on $HA_ADDR:$PORT"; }
wait_port "$NX_ADDR" "$NXP_PID" || { cat "$W/nginx-proxy/error.log"; die "nginx (proxy) did not listen on $NX_ADDR:$PORT"; }
worker_of() { awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null; }
NGINX_WORKER=$(worker_of "$NGINX_PID")
NXP_WORKER=$(worker_of "$NXP_PID")
{ [ -n "$NGINX_WORKER" ] && [ -n "$NXP_WORKER" ]; } || die "no nginx worker process"
[ -z "$(cat "/proc/$HA_PID/task/$HA_PID/children" 2>/dev/null)" ] || die "haproxy forked: expected one process"

# per target: address; the processes whose CPU is the proxy's; the one whose
# memory is measured
declare -A T_ADDR=([direct]=$UP_ADDR [haproxy]=$HA_ADDR [nginx]=$NX_ADDR [ddbgate]=$GW_ADDR)
declare -A T_CPU=([direct]="" [haproxy]="$HA_PID" [nginx]="$NXP_PID $NXP_WORKER" [ddbgate]="$GW_PID")
declare -A T_MEM=([direct]=$NGINX_WORKER [haproxy]=$HA_PID [nginx]=$NXP_WORKER [ddbgate]=$GW_PID)
SERVER_PIDS="$NGINX_PID $NGINX_WORKER $HA_PID $NXP_PID $NXP_WORKER $GW_PID"
for t in direct haproxy nginx ddbgate; do
	printf '%s %s\n' "${T_ADDR[$t]}" "$HOSTNAME_DDB" >"$W/hosts/$t"
done

# --- the request ------------------------------------------------------------------
# GetItem as the AWS SDK for Java v2 sends it (~330 bytes), as in h2load.sh.
REQ_BODY='{"TableName":"BenchItems","Key":{"pk":{"S":"tenant#acme-corp#user#0000004217"},"sk":{"S":"profile#v2#2024-01-01T00:00:00Z"}},"ProjectionExpression":"#pk, #sk, #v, #st, #ua, #ex","ExpressionAttributeNames":{"#pk":"pk","#sk":"sk","#v":"v","#st":"status","#ua":"updatedAt","#ex":"expiresAt"},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}'
printf '%s' "$REQ_BODY" >"$W/body.json"
printf '%s' '{"TableName":"BenchItems"}' >"$W/deny-body.json"

# sign_to TARGET BODY OUT — "name: value" lines, SigV4 over exactly these
# headers with a dummy secret (ddbgate checks the form, the 15-minute window
# and the policy, not the signature; the others ignore it)
sign_to() {
	python3 - "$2" "$HOSTNAME_DDB:$PORT" "$AKID" "$SECRET" "$1" >"$3" <<'PY'
import datetime, hashlib, hmac, sys, uuid
body = open(sys.argv[1], "rb").read()
host, akid, secret, target = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
now = datetime.datetime.now(datetime.timezone.utc)
amz_date = now.strftime("%Y%m%dT%H%M%SZ")
day = amz_date[:8]
hdrs = [
    ("x-amz-target", "DynamoDB_20120810." + target),
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
del signed["user-agent"]
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
}
# sign — the GetItem's headers ($W/headers, HDR_ARGS), its raw HTTP/1.1 form
# ($W/request.http) and the wrk scripts (keep-alive and Connection: close)
sign() {
	sign_to GetItem "$W/body.json" "$W/headers"
	HDR_ARGS=()
	while IFS= read -r line; do HDR_ARGS+=(-H "$line"); done <"$W/headers"
	{
		printf 'POST / HTTP/1.1\r\nHost: %s:%s\r\n' "$HOSTNAME_DDB" "$PORT"
		sed 's/$/\r/' "$W/headers"
		printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$W/body.json")"
		cat "$W/body.json"
	} >"$W/request.http"
	python3 - "$W/headers" "$W/body.json" "$W/wrk.lua" "$W/wrk-close.lua" <<'PY'
import json, sys
hdrs = [l.rstrip("\n").split(": ", 1) for l in open(sys.argv[1]) if l.strip()]
def lua(close):
    s = ['wrk.method = "POST"',
         'local f = assert(io.open(%s, "rb"))' % json.dumps(sys.argv[2]),
         'wrk.body = f:read("*a")', 'f:close()']
    for n, v in hdrs:
        s.append('wrk.headers[%s] = %s' % (json.dumps(n), json.dumps(v)))
    if close:
        s.append('wrk.headers["Connection"] = "close"')
    s.append('''function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT\\t%d\\t%d\\t%.2f\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\n",
    summary.requests, summary.duration, latency.mean, latency:percentile(50),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end''')
    return "\n".join(s) + "\n"
open(sys.argv[3], "w").write(lua(False))
open(sys.argv[4], "w").write(lua(True))
PY
}
sign
sign_to DeleteTable "$W/deny-body.json" "$W/deny-headers"
DENY_ARGS=()
while IFS= read -r line; do DENY_ARGS+=(-H "$line"); done <"$W/deny-headers"

"$DDBGATE" policy eval -p "$W/policy.json" --request "$W/request.http" -c "$W/ddbgate.yaml" \
	>"$W/policy.eval" 2>&1 || { cat "$W/policy.eval"; die "the endpoint policy does not allow the benchmark request"; }
grep -q BenchAppReads "$W/policy.eval" || { cat "$W/policy.eval"; die "allowed, but not by BenchAppReads"; }

# --- checks: every target answers 200 with the upstream's body; proxies deny --------
for t in $targets; do
	for proto in --http1.1 --http2; do
		f=$W/check-$t$proto
		code=$(inns curl -sS --max-time 10 "$proto" --resolve "$HOSTNAME_DDB:$PORT:${T_ADDR[$t]}" \
			--cacert "$W/pki/ca.pem" "${HDR_ARGS[@]}" --data-binary "@$W/body.json" \
			-D "$f.headers" -o "$f.body" -w '%{http_code} %{http_version}' \
			"https://$HOSTNAME_DDB:$PORT/" 2>"$f.err") || true
		if [ "${code%% *}" != 200 ] || [ "$(cat "$f.body")" != "$RESP_BODY" ]; then
			echo "curl $proto to $t: '$code' $(cat "$f.err")" >&2
			sed 's/^/  /' "$f.headers" "$f.body" >&2; echo >&2
			die "$t did not answer 200 with the upstream's body"
		fi
		echo "check: $t $proto -> HTTP/${code#* } ${code%% *}, $(wc -c <"$f.body") bytes, the upstream's body"
	done
	[ "$t" != direct ] || continue
	f=$W/deny-$t
	code=$(inns curl -sS --max-time 10 --http1.1 --resolve "$HOSTNAME_DDB:$PORT:${T_ADDR[$t]}" \
		--cacert "$W/pki/ca.pem" "${DENY_ARGS[@]}" --data-binary "@$W/deny-body.json" \
		-o "$f.body" -w '%{http_code}' "https://$HOSTNAME_DDB:$PORT/" 2>"$f.err") || true
	case $t in
	ddbgate) [ "$code" = 400 ] && grep -q AccessDeniedException "$f.body" ||
		die "ddbgate did not deny DeleteTable: '$code' $(head -c 300 "$f.body")" ;;
	*) [ "$code" = 403 ] || die "$t did not deny DeleteTable: '$code' $(head -c 300 "$f.body")" ;;
	esac
	echo "check: $t denies X-Amz-Target DynamoDB_20120810.DeleteTable -> $code$( [ $t = ddbgate ] && echo ' AccessDeniedException')"
done

# --- measuring ------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # PID... -> utime+stime of those processes, in ticks
	local p t=0 f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat") || return 1
		f=${f##*) }
		read -r -a a <<<"$f"
		t=$((t + a[11] + a[12]))
	done
	echo "$t"
}
core_busy() { # CPU -> "busy total" jiffies of that core
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
pss() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }
tcp_opens() { # TCP connects so far in the namespace (client's and proxies' upstream ones)
	awk '$1 == "Tcp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "ActiveOpens") n = i; next } print $n }' \
		"/proc/$GW_PID/net/snmp"
}
alive() {
	local p
	for p in $SERVER_PIDS; do kill -0 "$p" 2>/dev/null || return 1; done
}

commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$top" status --porcelain --untracked-files=no -- src 2>/dev/null | head -1)
{
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "kernel=$(uname -r)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "openssl=$(openssl version | cut -d' ' -f1-2)"
	echo "haproxy=$("$HAPROXY" -v | head -1 | cut -d' ' -f1-3)"
	echo "nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
	echo "h2load=$(h2load --version | head -1)"
	echo "wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
	echo "ddbgate=$("$DDBGATE" version 2>/dev/null | head -1) at $commit${dirty:+ (src modified)}"
	echo "python=$(python3 --version)"
	echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "rounds=$rounds duration=$duration warmup=$warmup lat_duration=$lat_duration hs_duration=$hs_duration idle_conns=$idle_conns"
	echo "client_cpu=$client_cpu server_cpu=$server_cpu"
	echo "targets=$targets"
	echo "scenarios=$scenarios"
	echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$W/machine.env"
sed 's/^/  /' "$W/machine.env"
echo "output in $W"
printf 'round\tscenario\ttarget\treqs\trps\tmean_ms\tp50_ms\tp99_ms\tmax_ms\tnon2xx\tfailed\tproxy_us_req\tproxy_hwm_kb\tup_us_req\tclient_busy\tserver_busy\tconns_per_req\tclient_other\tserver_other\n' >"$W/results.tsv"
for t in $targets; do echo "$t $(kb "${T_MEM[$t]}" VmRSS)" >>"$W/rss-start.txt"; done

run_one() { # ROUND SCENARIO TARGET
	local r=$1 s=$2 t=$3 base=$W/runs/r$1-$2-$3 gen len args=() hpid
	local t0 t1 p0 p1 u0 u1 a0 a1 h0 h1 o0 o1 c0 c1 ct0 ct1 s0 s1 st0 st1 hwm mem=${T_MEM[$3]}
	case $s in
	h1) gen=h2load len=$duration args=(--h1 -c 64) ;;
	h2) gen=h2load len=$duration args=(-c 8 -m 8) ;;
	lat1) gen=h2load len=$lat_duration args=(--h1 -c 1 -m 1) ;;
	wrk) gen=wrk len=$duration args=(-c 64 -s "$W/wrk.lua") ;;
	hs) gen=wrk len=$hs_duration args=(-c 16 -s "$W/wrk-close.lua") ;;
	esac
	echo 5 >"/proc/$mem/clear_refs" 2>/dev/null || true
	if [ $gen = h2load ]; then
		"${NSX[@]}" taskset -c "$client_cpu" h2load "${args[@]}" -t 1 -D "$len" --warm-up-time "$warmup" \
			-d "$W/body.json" "${HDR_ARGS[@]}" --connect-to "${T_ADDR[$t]}:$PORT" --log-file "$base.log" \
			"https://$HOSTNAME_DDB:$PORT/" >"$base.out" 2>&1 &
	else
		# wrk takes the host from the URL (SNI, Host): a mount namespace of
		# its own with an /etc/hosts naming the target's address
		"${NSX[@]}" unshare -m --propagation private sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
			"$W/hosts/$t" taskset -c "$client_cpu" wrk -t 1 "${args[@]}" -d "$((len + warmup))s" --timeout 10s \
			"https://$HOSTNAME_DDB:$PORT/" >"$base.out" 2>&1 &
	fi
	hpid=$!
	PIDS+=("$hpid")
	sleep "$(awk -v w="$warmup" 'BEGIN { print w + 0.5 }')"
	t0=$EPOCHREALTIME p0=$(cpu_ticks ${T_CPU[$t]}) u0=$(cpu_ticks "$NGINX_PID" "$NGINX_WORKER")
	a0=$(cpu_ticks $SERVER_PIDS) h0=$(cpu_ticks "$hpid") o0=$(tcp_opens)
	read -r c0 ct0 < <(core_busy "$client_cpu"); read -r s0 st0 < <(core_busy "$server_cpu")
	sleep "$((len - 1))"
	t1=$EPOCHREALTIME p1=$(cpu_ticks ${T_CPU[$t]}) u1=$(cpu_ticks "$NGINX_PID" "$NGINX_WORKER")
	a1=$(cpu_ticks $SERVER_PIDS) h1=$(cpu_ticks "$hpid") o1=$(tcp_opens)
	read -r c1 ct1 < <(core_busy "$client_cpu"); read -r s1 st1 < <(core_busy "$server_cpu")
	wait "$hpid" || { cat "$base.out"; die "$gen failed ($s, $t, round $r)"; }
	hwm=$(kb "$mem" VmHWM)
	alive || die "a server process exited during $s/$t, round $r (ddbgate: $(tail -3 "$W/ddbgate.err"))"
	python3 - "$base.out" "$base.log" "$r" "$s" "$t" "$gen" "$t0" "$t1" "$((p1 - p0))" "$((u1 - u0))" \
		"$((a1 - a0))" "$((h1 - h0))" "$CLK_TCK" "$((c1 - c0))" "$((ct1 - ct0))" "$((s1 - s0))" "$((st1 - st0))" \
		"$hwm" "$((o1 - o0))" >>"$W/results.tsv" <<'PY'
import re, sys
out, log, rnd, scen, tgt, gen = sys.argv[1:7]
t0, t1 = float(sys.argv[7]), float(sys.argv[8])
px, up, allsrv, client, hz = (int(x) for x in sys.argv[9:14])
cb, ct, sb, st = (int(x) for x in sys.argv[14:18])
hwm, opens = sys.argv[18], int(sys.argv[19])
text = open(out).read()
if gen == "h2load":
    rps = float(re.search(r"finished in [0-9.]+\w*, ([0-9.]+) req/s", text).group(1))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    done, failed = int(m.group(3)), int(m.group(5)) + int(m.group(6)) + int(m.group(7))
    sc = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    non2xx = sum(int(sc.group(i)) for i in (2, 3, 4))
    lat = sorted(int(l.split("\t")[2]) for l in open(log) if len(l.split("\t")) >= 3)
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] / 1000 if lat else float("nan")
    mean = sum(lat) / len(lat) / 1000 if lat else float("nan")
    p50, p99, mx = pct(50), pct(99), (lat[-1] / 1000 if lat else float("nan"))
else:
    f = re.search(r"^RESULT\t(.*)$", text, re.M).group(1).split("\t")
    reqs, dur_us = int(f[0]), int(f[1])
    mean, p50, p99, mx = float(f[2]) / 1000, int(f[3]) / 1000, int(f[4]) / 1000, int(f[5]) / 1000
    non2xx = int(f[6])
    failed = sum(int(x) for x in f[7:11])
    done = reqs
    rps = reqs / (dur_us / 1e6)
wall = t1 - t0
nreq = rps * wall
print("\t".join(str(x) for x in (
    rnd, scen, tgt, done, "%.0f" % rps, "%.3f" % mean, "%.3f" % p50, "%.3f" % p99, "%.3f" % mx,
    non2xx, failed,
    "%.1f" % (px / hz / nreq * 1e6) if tgt != "direct" else "",
    hwm if tgt != "direct" else "",
    "%.1f" % (up / hz / nreq * 1e6),
    "%.0f%%" % (100 * cb / ct if ct else 0), "%.0f%%" % (100 * sb / st if st else 0),
    "%.2f" % (opens / nreq),
    "%.0f%%" % max(0, 100 * (cb / ct - client / hz / wall)) if ct else "0%",
    "%.0f%%" % max(0, 100 * (sb / st - allsrv / hz / wall)) if st else "0%")))
PY
	[ -s "$base.log" ] && rm -f "$base.log"
	tail -n 1 "$W/results.tsv" | awk -F'\t' '{ printf "  r%s %-4s %-8s %7s req/s  mean %6.2f ms  p99 %6.2f ms  non-2xx %s  failed %s  proxy %5s us/req  upstream %s us/req  conns/req %s  other %s/%s\n", $1, $2, $3, $5, $6, $8, $10, $11, ($12 == "" ? "-" : $12), $14, $17, $18, $19 }'
	sleep 1
}

for r in $(seq 1 "$rounds"); do
	sign # a fresh X-Amz-Date every round: ddbgate's 15-minute window
	echo "round $r"
	for s in $scenarios; do
		for t in $targets; do run_one "$r" "$s" "$t"; done
	done
done

# --- idle keep-alive TLS connections: memory per connection -----------------------
cat >"$W/idle.py" <<'PY'
# open N TLS connections, one GetItem on each, then hold them idle until
# STOPFILE exists; READYFILE gets "ok FAILED FIRST_ERROR" when all are up
import asyncio, os, re, ssl, sys, time
ip, port, host, n, reqf, ca, readyf, stopf = sys.argv[1:9]
port, n = int(port), int(n)
req = open(reqf, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
conns, errors = [], []
async def one(sem):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(ip, port, ssl=ctx, server_hostname=host), 60)
            w.write(req)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 60)
            status = int(head.split(b" ", 2)[1])
            await asyncio.wait_for(r.readexactly(int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))), 60)
            conns.append((r, w))
            if status != 200:
                errors.append("status %d" % status)
        except Exception as e:
            errors.append(repr(e))
async def main():
    sem = asyncio.Semaphore(64)
    t = time.time()
    await asyncio.gather(*(one(sem) for _ in range(n)))
    with open(readyf + ".tmp", "w") as f:
        f.write("%d %d %.1f %s\n" % (len(conns), len(errors), time.time() - t, (errors[:1] or ["-"])[0].replace(" ", "_")))
    os.rename(readyf + ".tmp", readyf)
    while not os.path.exists(stopf):
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    print("still_open %d" % sum(1 for r, w in conns if not r.at_eof() and not w.is_closing()), flush=True)
    os._exit(0)
asyncio.run(main())
PY
printf 'target\tconns\tfailed\topen_s\testablished\tstill_open\trss_before_kb\trss_after_kb\tpss_before_kb\tpss_after_kb\n' >"$W/idle.tsv"
idle_one() { # TARGET
	local t=$1 pid=${T_MEM[$1]} rb ra pb pa cpid ok=0 st
	rm -f "$W/idle-$t.ready" "$W/idle-$t.stop"
	sleep 1
	rb=$(kb "$pid" VmRSS) pb=$(pss "$pid")
	"${NSX[@]}" taskset -c "$client_cpu" python3 "$W/idle.py" "${T_ADDR[$t]}" "$PORT" "$HOSTNAME_DDB" "$idle_conns" \
		"$W/request.http" "$W/pki/ca.pem" "$W/idle-$t.ready" "$W/idle-$t.stop" >"$W/idle-$t.out" 2>&1 &
	cpid=$!
	PIDS+=("$cpid")
	for _ in $(seq 1 1800); do
		[ -e "$W/idle-$t.ready" ] && { ok=1; break; }
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.2
	done
	[ $ok = 1 ] || { cat "$W/idle-$t.out"; die "idle client for $t did not finish opening"; }
	sleep 3
	ra=$(kb "$pid" VmRSS) pa=$(pss "$pid")
	st=$(inns ss -Htn state established src "${T_ADDR[$t]}:$PORT" | wc -l)
	touch "$W/idle-$t.stop"
	wait "$cpid" || true
	read -r c f secs err <"$W/idle-$t.ready"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$c" "$f" "$secs" "$st" \
		"$(awk '/still_open/ { print $2 }' "$W/idle-$t.out")" "$rb" "$ra" "$pb" "$pa" >>"$W/idle.tsv"
	tail -n 1 "$W/idle.tsv" | awk -F'\t' '{ printf "  idle %-8s %s conns (%s failed, %ss to open), %s established at the server, %s still open after; RSS +%.1f KiB/conn, PSS +%.1f KiB/conn\n", $1, $2, $3, $4, $5, $6, ($8 - $7) / ($2 ? $2 : 1), ($10 - $9) / ($2 ? $2 : 1) }'
	[ "$f" = 0 ] || echo "  first error: $err"
	alive || die "a server process exited during the idle test of $t (ddbgate: $(tail -3 "$W/ddbgate.err"))"
	sleep 3 # the proxy closes them
}
if [ $do_idle = 1 ]; then
	echo "idle connections: $idle_conns per target"
	for t in $targets; do idle_one "$t"; done
fi

# --- where the time goes: perf profile under the HTTP/1.1 load -----------------------
profile_one() { # TARGET PID...
	local t=$1 hpid
	shift
	"${NSX[@]}" taskset -c "$client_cpu" h2load --h1 -c 64 -t 1 -D "$((duration + 2))" \
		-d "$W/body.json" "${HDR_ARGS[@]}" --connect-to "${T_ADDR[$t]}:$PORT" \
		"https://$HOSTNAME_DDB:$PORT/" >"$W/perf-$t.h2load" 2>&1 &
	hpid=$!
	PIDS+=("$hpid")
	sleep 1
	# PERF_CALLGRAPH="--call-graph dwarf" for callers (ddbgate has no frame pointers)
	"$PERF" record -q -F 1999 -e cpu-clock ${PERF_CALLGRAPH:--g} -p "$(echo "$@" | tr ' ' ,)" -o "$W/perf-$t.data" -- sleep "$duration" \
		>"$W/perf-$t.record" 2>&1 || true
	wait "$hpid" || true
	"$PERF" report -i "$W/perf-$t.data" --no-children --sort symbol,dso --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -15 >"$W/perf-$t.top" || true
	"$PERF" report -i "$W/perf-$t.data" --no-children --sort dso --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -8 >"$W/perf-$t.dso" || true
	echo "  perf $t: top 3: $(head -3 "$W/perf-$t.top" | awk '{ printf "%s %s; ", $1, $3 }')"
}
# syscalls_one TARGET PID... — system calls of the proxy per request, by
# kind: perf stat counts the syscall tracepoints of PIDs (every thread)
# while h2load --h1 -c 64 sends exactly SYSCALL_REQUESTS requests.
SYSCALL_REQUESTS=100000
SYSCALL_KINDS="read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait epoll_ctl futex"
syscalls_one() {
	local t=$1 ev="raw_syscalls:sys_enter" k
	shift
	for k in $SYSCALL_KINDS; do ev+=",syscalls:sys_enter_$k"; done
	"$PERF" stat -x '	' -e "$ev" -p "$(echo "$@" | tr ' ' ,)" -o "$W/syscalls-$t.stat" -- \
		"${NSX[@]}" taskset -c "$client_cpu" h2load --h1 -c 64 -t 1 -n "$SYSCALL_REQUESTS" \
		-d "$W/body.json" "${HDR_ARGS[@]}" --connect-to "${T_ADDR[$t]}:$PORT" \
		"https://$HOSTNAME_DDB:$PORT/" >"$W/syscalls-$t.h2load" 2>&1 || true
	echo "  system calls per request, $t: $(awk -F'\t' -v n="$SYSCALL_REQUESTS" \
		'$3 == "raw_syscalls:sys_enter" { printf "%.2f", $1 / n }' "$W/syscalls-$t.stat")"
}
if [ -n "$PERF" ]; then
	sign
	echo "perf profiles (h2load --h1 -c 64, ${duration}s)"
	for t in ddbgate haproxy; do
		case " $targets " in *" $t "*) profile_one "$t" ${T_CPU[$t]} ;; esac
	done
	echo "system calls per request (perf stat, h2load --h1 -c 64 -n $SYSCALL_REQUESTS)"
	for t in ddbgate haproxy; do
		case " $targets " in *" $t "*) syscalls_one "$t" ${T_CPU[$t]} ;; esac
	done
elif [ $do_perf = 1 ]; then
	echo "perf: not available (Debian package linux-perf matching the kernel); no profile"
fi

# --- micro-benchmarks (same machine, after the load: nothing else runs) ---------------
if [ "$do_micro" = 1 ]; then
	echo "micro-benchmarks: bench/run-micro.sh on core $server_cpu"
	taskset -c "$server_cpu" "$top/bench/run-micro.sh" >"$W/micro.txt" 2>&1 ||
		{ cat "$W/micro.txt"; die "bench/run-micro.sh failed"; }
	sed 's/^/  /' "$W/micro.txt"
fi

# --- report ---------------------------------------------------------------------------
grep -Eiv '\b(info|debug)\b|running as root: set user' "$W/ddbgate.err" >"$W/ddbgate.problems" || true
echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$W/machine.env"
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$W/machine.env"
echo "syscall_kinds=$SYSCALL_KINDS" >>"$W/machine.env"
python3 - "$W" "$results" "$orig_args" <<'PY'
import os, statistics, sys
W, results = sys.argv[1], sys.argv[2]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(W, "machine.env")) if "=" in l)
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(W, "results.tsv"))]
head, rows = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
targets = env["targets"].split()
scens = env["scenarios"].split()
rounds = sorted({int(r["round"]) for r in rows})
DISTURBED = 10
SDESC = {"h1": "h2load --h1 -c 64 (HTTP/1.1, 64 connections)",
         "h2": "h2load -c 8 -m 8 (HTTP/2, 64 streams on 8 connections)",
         "wrk": "wrk -t 1 -c 64 (HTTP/1.1)",
         "lat1": "h2load --h1 -c 1 -m 1 (one request at a time)",
         "hs": "wrk -t 1 -c 16, Connection: close (a new TLS connection per request)"}
def num(x):
    try:
        return float(x.rstrip("%"))
    except (ValueError, AttributeError):
        return None
def get(s, t, r, k):
    for x in rows:
        if x["scenario"] == s and x["target"] == t and int(x["round"]) == r:
            return num(x[k])
    return None
def vals(s, t, k):
    return [v for v in (get(s, t, r, k) for r in rounds) if v is not None]
def med(s, t, k):
    v = vals(s, t, k)
    return statistics.median(v) if v else None
def f(v, fmt="%.0f"):
    return "—" if v is None else fmt % v
def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None
o = []
p = o.append
p("# ddbgate against HAProxy and nginx (bench/compare.sh)")
p("")
p("Generated by `bench/compare.sh %s` (%s to %s). Everything on one machine, in a network"
  % (sys.argv[3], env["started"], env.get("finished", "?")))
p("namespace, over loopback; numbers are for comparison within this run only.")
p("")
p("## Machine and versions")
p("")
p("| | |")
p("| --- | --- |")
for k, label in (("nproc", "cores (nproc)"), ("cpu", "CPU"), ("kernel", "kernel"), ("os", "OS"), ("openssl", "OpenSSL (system)"),
                 ("haproxy", "HAProxy"), ("nginx", "nginx"), ("h2load", "h2load"), ("wrk", "wrk"), ("ddbgate", "ddbgate"),
                 ("loadavg_before", "load average before / after")):
    v = env.get(k, "?")
    if k == "loadavg_before":
        v = "%s / %s" % (v, env.get("loadavg_after", "?"))
    p("| %s | %s |" % (label, v))
p("| run | %s rounds; saturation runs %s s warm-up + %s s; one-at-a-time %s s; handshake-heavy %s s; %s idle connections |"
  % (env["rounds"].split()[0] if False else len(rounds), env["rounds"].split("warmup=")[1].split()[0],
     env["rounds"].split("duration=")[1].split()[0], env["rounds"].split("lat_duration=")[1].split()[0],
     env["rounds"].split("hs_duration=")[1].split()[0], env["rounds"].split("idle_conns=")[1].split()[0]))
p("| pinning | load generator on core %s; upstream nginx and every proxy on core %s (taskset); one worker/thread each |"
  % (env["client_cpu"].split()[0], env["client_cpu"].split("server_cpu=")[1]))
p("")
p("Targets: **direct** = the upstream nginx alone (TLS, fixed GetItem answer); **haproxy** = HAProxy, nbthread 1, TLS "
  "terminated and re-encrypted with `verify required` (bench CA, sni + verifyhost), http-reuse always, an ACL allowing 11 "
  "X-Amz-Target values; **nginx** = nginx, worker_processes 1, proxy_ssl_verify on (trusted certificate, proxy_ssl_name, "
  "proxy_ssl_server_name on), upstream keepalive 64, a `map $http_x_amz_target` returning 403 for others; **ddbgate** = "
  "workers: 1, the 20-statement endpoint policy of h2load.sh, SigV4 form/window checks, classification, audit to /dev/null. "
  "Before measuring, each answered 200 with the upstream's body over HTTP/1.1 and h2, and each proxy denied a DeleteTable "
  "(HAProxy and nginx 403, ddbgate 400 AccessDeniedException).")
p("")
p("Proxy CPU = utime+stime of the proxy's processes (/proc/PID/stat) over the measured window / requests in it. "
  "Peak RSS = VmHWM (reset before each run), the largest over the rounds. "
  "\"other load\" = busy time of a core not accounted for by the load generator (client core) or the upstream and the "
  "proxies (server core); runs above %d%% are marked `!`." % DISTURBED)
# --- targets first
p("")
p("## Against the targets (issue 9)")
p("")
p("| target | measured (median of per-round figures; per round) | verdict |")
p("| --- | --- | --- |")
def per_round_ratio(s, a, b, k):
    return [ratio(get(s, a, r, k), get(s, b, r, k)) for r in rounds]
def rr(xs, fmt="%.2f"):
    return ", ".join(f(x, fmt) for x in xs)
def mr(xs):
    v = [x for x in xs if x is not None]
    return statistics.median(v) if v else None
verdicts = []
def verdict(ok):
    return "**met**" if ok else "**MISSED**"
if "ddbgate" in targets and "haproxy" in targets:
    for s, what in (("h1", "HTTP/1.1"), ("h2", "h2")):
        if s in scens:
            xs = per_round_ratio(s, "ddbgate", "haproxy", "rps")
            m = mr(xs)
            p("| ddbgate/HAProxy req/s at saturation, %s (%s) ≥ 1.2 | %s (%s) | %s |" % (what, SDESC[s], f(m, "%.2f"), rr(xs), verdict(m is not None and m >= 1.2)))
    for s, what in (("h1", "HTTP/1.1"), ("h2", "h2"), ("wrk", "wrk HTTP/1.1")):
        if s in scens:
            xs = per_round_ratio(s, "ddbgate", "haproxy", "proxy_us_req")
            m = mr(xs)
            p("| ddbgate/HAProxy proxy CPU µs per request, %s ≤ 0.8 | %s (%s): %s against %s µs | %s |" % (
                what, f(m, "%.2f"), rr(xs), f(med(s, "ddbgate", "proxy_us_req"), "%.1f"), f(med(s, "haproxy", "proxy_us_req"), "%.1f"),
                verdict(m is not None and m <= 0.8)))
    if "lat1" in scens and "direct" in targets:
        add = {t: [None if get("lat1", t, r, "p99_ms") is None else get("lat1", t, r, "p99_ms") - get("lat1", "direct", r, "p99_ms") for r in rounds] for t in ("ddbgate", "haproxy")}
        md, mh = mr(add["ddbgate"]), mr(add["haproxy"])
        p("| added p99 latency, one request at a time (proxy p99 − direct p99) ≤ HAProxy's | ddbgate +%s ms (%s), HAProxy +%s ms (%s) | %s |" % (
            f(md, "%.3f"), rr(add["ddbgate"], "%.3f"), f(mh, "%.3f"), rr(add["haproxy"], "%.3f"), verdict(md is not None and mh is not None and md <= mh)))
        addm = {t: [None if get("lat1", t, r, "mean_ms") is None else get("lat1", t, r, "mean_ms") - get("lat1", "direct", r, "mean_ms") for r in rounds] for t in ("ddbgate", "haproxy")}
        p("| (for reference) added mean latency, one at a time | ddbgate +%s ms (%s), HAProxy +%s ms (%s) | — |" % (
            f(mr(addm["ddbgate"]), "%.3f"), rr(addm["ddbgate"], "%.3f"), f(mr(addm["haproxy"]), "%.3f"), rr(addm["haproxy"], "%.3f")))
idle = []
ip = os.path.join(W, "idle.tsv")
if os.path.exists(ip):
    il = [l.rstrip("\n").split("\t") for l in open(ip)]
    idle = [dict(zip(il[0], x)) for x in il[1:]]
for d in idle:
    if d["target"] == "ddbgate":
        n = int(d["conns"]) or 1
        rss = (int(d["rss_after_kb"]) - int(d["rss_before_kb"])) / n
        pss = (int(d["pss_after_kb"]) - int(d["pss_before_kb"])) / n
        p("| memory per idle client TLS connection ≤ 32 KiB | %.1f KiB RSS (%.1f KiB PSS) over %s connections | %s |" % (
            rss, pss, d["conns"], verdict(rss <= 32 and int(d["failed"]) == 0)))
if "ddbgate" in targets:
    for s in ("h1", "h2", "wrk"):
        if s in scens:
            xs = [get(s, "ddbgate", r, "conns_per_req") for r in rounds]
            reuse = [None if x is None else 100.0 * (1.0 - x) for x in xs]
            m = mr(reuse)
            p("| upstream keep-alive reuse > 99%% under steady load, %s (1 − new upstream TCP connections per request) | %s%% (%s) | %s |" % (
                SDESC[s], f(m, "%.2f"), rr(reuse, "%.2f"), verdict(m is not None and m > 99)))
mp = os.path.join(W, "micro.txt")
if os.path.exists(mp):
    import re
    micro = open(mp).read()
    pol = [float(x) for x in re.findall(r"^\s*([0-9.]+) ns per decision", micro, re.M)]
    cls = re.findall(r"^BatchWriteItem\s+([0-9]+) bytes:\s+([0-9.]+) ns/classification", micro, re.M)
    h1p = re.findall(r"^HTTP/1 head, (.*?) \(([0-9]+) bytes.*?:\s+([0-9.]+) ns/parse", micro, re.M)
    if len(pol) >= 2:
        p("| policy decision, 10 statements ≤ 1 µs | %.3f µs | %s |" % (pol[0] / 1000, verdict(pol[0] <= 1000)))
        p("| policy decision, 1,000 statements ≤ 20 µs | %.3f µs | %s |" % (pol[1] / 1000, verdict(pol[1] <= 20000)))
    if cls:
        p("| classification, 1 KB body (BatchWriteItem, %s bytes) ≤ 5 µs | %.2f µs | %s |" % (
            cls[0][0], float(cls[0][1]) / 1000, verdict(float(cls[0][1]) <= 5000)))
    if len(cls) > 1:
        p("| (for reference) classification, 64 KB body (%s bytes) | %.0f µs | — |" % (cls[1][0], float(cls[1][1]) / 1000))
    for who, n, ns in h1p:
        p("| (for reference) HTTP/1 parse of the %s head (%s bytes) | %.2f µs | — |" % (who.strip(), n, float(ns) / 1000))
# --- medians
p("")
p("## Medians over %d rounds" % len(rounds))
for s in scens:
    p("")
    p("### %s" % SDESC[s])
    p("")
    p("| target | req/s | spread | mean ms | p50 ms | p99 ms | non-2xx / failed | proxy CPU µs/req | proxy peak RSS | upstream CPU µs/req | client / server core busy | new TCP conns/req | other load client / server (max) |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for t in targets:
        rs = [x for x in rows if x["scenario"] == s and x["target"] == t]
        if not rs:
            continue
        rv = vals(s, t, "rps")
        m = statistics.median(rv)
        hw = [int(x["proxy_hwm_kb"]) for x in rs if x["proxy_hwm_kb"]]
        p("| %s | %.0f | ±%.0f%% | %s | %s | %s | %d / %d | %s | %s | %s | %s / %s | %s | %.0f%% / %.0f%% |" % (
            t, m, 100 * (max(rv) - min(rv)) / 2 / m if m else 0, f(med(s, t, "mean_ms"), "%.2f"), f(med(s, t, "p50_ms"), "%.2f"),
            f(med(s, t, "p99_ms"), "%.2f"), sum(int(x["non2xx"]) for x in rs), sum(int(x["failed"]) for x in rs),
            f(med(s, t, "proxy_us_req"), "%.1f"), ("%.1f MiB" % (max(hw) / 1024)) if hw else "—",
            f(med(s, t, "up_us_req"), "%.1f"), f(med(s, t, "client_busy"), "%.0f%%"), f(med(s, t, "server_busy"), "%.0f%%"),
            f(med(s, t, "conns_per_req"), "%.2f"), max(num(x["client_other"]) for x in rs), max(num(x["server_other"]) for x in rs)))
# --- per-round ratios
p("")
p("## Per-round ratios")
p("")
p("req/s and proxy CPU per request, ddbgate over each other proxy, every round (a ratio of req/s above 1 and of CPU below 1 favour ddbgate).")
p("")
p("| scenario | figure | " + " | ".join("round %d" % r for r in rounds) + " | median |")
p("| --- | --- | " + " | ".join("---" for _ in rounds) + " | --- |")
for s in scens:
    if s == "lat1" or "ddbgate" not in targets:
        continue
    for other, name in (("haproxy", "HAProxy"), ("nginx", "nginx")):
        if other not in targets:
            continue
        for k, lab in (("rps", "req/s"), ("proxy_us_req", "CPU µs/req")):
            xs = per_round_ratio(s, "ddbgate", other, k)
            p("| %s | ddbgate/%s %s | %s | %s |" % (s, name, lab, " | ".join(f(x, "%.2f") for x in xs), f(mr(xs), "%.2f")))
if "lat1" in scens and "direct" in targets:
    p("")
    p("Latency added by each proxy, one request at a time (`h2load --h1 -c 1 -m 1`): proxy minus direct in the same round, ms.")
    p("")
    p("| proxy | figure | " + " | ".join("round %d" % r for r in rounds) + " | median |")
    p("| --- | --- | " + " | ".join("---" for _ in rounds) + " | --- |")
    for t in targets:
        if t == "direct":
            continue
        for k, lab in (("mean_ms", "added mean"), ("p50_ms", "added p50"), ("p99_ms", "added p99")):
            xs = [None if get("lat1", t, r, k) is None else get("lat1", t, r, k) - get("lat1", "direct", r, k) for r in rounds]
            p("| %s | %s | %s | %s |" % (t, lab, " | ".join(f(x, "%.3f") for x in xs), f(mr(xs), "%.3f")))
# --- idle
if idle:
    p("")
    p("## Memory per idle keep-alive TLS connection")
    p("")
    p("A Python asyncio client (client core) opens the connections 64 at a time; each completes the TLS handshake (TLS 1.3, "
      "P-256 certificate) and one GetItem (200), then idles. Measured 3 s after the last one: the RSS and PSS of the process "
      "holding them (ddbgate; the HAProxy process; the nginx worker; for direct, the upstream's nginx worker), minus before.")
    p("")
    p("| target | connections (failed) | seconds to open | established at the server | still open at the end | RSS before → after | RSS / conn | PSS / conn |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for d in idle:
        n = int(d["conns"]) or 1
        p("| %s | %s (%s) | %s | %s | %s | %.1f → %.1f MiB | %.1f KiB | %.1f KiB |" % (
            d["target"], d["conns"], d["failed"], d["open_s"], d["established"], d["still_open"],
            int(d["rss_before_kb"]) / 1024, int(d["rss_after_kb"]) / 1024,
            (int(d["rss_after_kb"]) - int(d["rss_before_kb"])) / n, (int(d["pss_after_kb"]) - int(d["pss_before_kb"])) / n))
# --- perf
tops = [(t, os.path.join(W, "perf-%s.top" % t)) for t in ("ddbgate", "haproxy")]
tops = [(t, fn) for t, fn in tops if os.path.exists(fn) and os.path.getsize(fn)]
def clean(text):  # perf pads lines with empty columns ("-")
    import re
    return "\n".join(re.sub(r"(\s+-)+\s*$", "", l.rstrip()) for l in text.splitlines())
if tops:
    p("")
    p("## Where the time goes (perf, `h2load --h1 -c 64`)")
    for t, fn in tops:
        p("")
        p("%s, top 15 symbols (`perf record -e cpu-clock -g -p PID`, `perf report --no-children --sort symbol,dso`):" % t)
        p("")
        p("```")
        p(clean(open(fn).read()))
        p("```")
        dso = fn[:-4] + ".dso"
        if os.path.exists(dso) and os.path.getsize(dso):
            p("")
            p("%s by shared object:" % t)
            p("")
            p("```")
            p(clean(open(dso).read()))
            p("```")
# --- system calls
stats = [(t, os.path.join(W, "syscalls-%s.stat" % t)) for t in ("ddbgate", "haproxy")]
stats = [(t, fn) for t, fn in stats if os.path.exists(fn)]
if stats:
    per = {}
    for t, fn in stats:
        c = {}
        for l in open(fn):
            f = l.rstrip("\n").split("\t")
            if len(f) >= 3 and f[0].replace(".", "").isdigit():
                c[f[2].split(":")[-1].replace("sys_enter_", "")] = float(f[0])
        h = os.path.join(W, "syscalls-%s.h2load" % t)
        done = 0
        for l in open(h) if os.path.exists(h) else []:
            if l.startswith("requests:"):
                done = int(l.split()[1])
        per[t] = (c, done)
    kinds = ["sys_enter"] + [k for k in env.get("syscall_kinds", "").split()]
    p("")
    p("## System calls per request (`perf stat` of the syscall tracepoints, every thread, `h2load --h1 -c 64 -n N`)")
    p("")
    p("| target | requests | all | " + " | ".join(kinds[1:]) + " |")
    p("| --- | --- | --- | " + " | ".join("---" for _ in kinds[1:]) + " |")
    for t, (c, done) in per.items():
        n = done or 1
        p("| %s | %d | %s |" % (t, done, " | ".join("%.2f" % (c.get(k, 0) / n) for k in kinds)))
# --- every run
p("")
p("## Every run")
p("")
p("| round | scenario | target | req/s | mean ms | p50 ms | p99 ms | max ms | non-2xx | failed | proxy µs/req | proxy VmHWM KiB | upstream µs/req | client / server busy | new conns/req | other load client / server |")
p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
bad = 0
for d in rows:
    flag = max(num(d["client_other"]), num(d["server_other"])) > DISTURBED
    bad += flag
    p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s%s |" % (
        d["round"], d["scenario"], d["target"], d["rps"], d["mean_ms"], d["p50_ms"], d["p99_ms"], d["max_ms"], d["non2xx"],
        d["failed"], d["proxy_us_req"] or "—", d["proxy_hwm_kb"] or "—", d["up_us_req"], d["client_busy"], d["server_busy"],
        d["conns_per_req"], d["client_other"], d["server_other"], " !" if flag else ""))
p("")
p("%d of %d runs had more than %d%% of a core busy with other processes (marked `!`)." % (bad, len(rows), DISTURBED))
pr = os.path.join(W, "ddbgate.problems")
lines = open(pr).read().splitlines() if os.path.exists(pr) else []
p("")
p("ddbgate logged %d line(s) above info level during the run%s" % (len(lines), ":" if lines else "."))
if lines:
    p("")
    p("```")
    for l in lines[:10]:
        p(l[:300])
    p("```")
open(results, "w").write("\n".join(o) + "\n")
PY
echo
echo "report: $results"
sed -n '/^## Against the targets/,/^## Medians/p' "$results" | sed '$d'
echo "files: $W (results.tsv, idle.tsv, runs/, perf-*.top, ddbgate.err, haproxy/, nginx/, nginx-proxy/)"
