#!/bin/bash
# dax.sh — ddbgate's DAX relay (a `mode: dax` listener) side by side with
# HAProxy doing the same transport job, on one machine, in one run. Numbers
# to compare within a run.
#
# usage: bench/dax.sh [--rounds N] [--duration S] [--warmup S]
#                     [--lat-duration S] [--conns N] [--profile-duration S]
#                     [--no-perf] [--targets "direct haproxy ddbgate"]
#                     [--client-cpu N] [--server-cpu N]
#                     [--out DIR] [--results FILE]
#
#   --rounds N        interleaved rounds (default 3): each round runs both
#                     scenarios against every target, targets interleaved
#   --duration S      measured seconds of each throughput run (default 8)
#   --warmup S        seconds before the measured window (default 1)
#   --lat-duration S  measured seconds of the one-at-a-time run (default 4)
#   --conns N         connections of the throughput run (default 32)
#   --profile-duration S  seconds of the perf record and perf stat runs
#                     (default 5)
#   --no-perf         no perf profile and no system call counts
#   --targets L       which of direct haproxy ddbgate (default all three)
#   --client-cpu N    core of the load generator (default 0)
#   --server-cpu N    core of the node and both proxies (default 1)
#   --out DIR         work directory (default a new /tmp/ddbgate-dax.XXXXXX)
#   --results FILE    the markdown report (default bench/RESULTS-dax.md)
#
# Environment: DDBGATE=path of the binary (default build/ddbgate);
# DAX_BENCH_NET=the first three octets of the loopback addresses (default
# 127.0.13: ddbgate .1, the node .2, HAProxy .3, each on port 9111);
# PERF_CALLGRAPH=perf record's call-graph option for ddbgate (default
# "--call-graph dwarf,16384": ddbgate and its libraries lack frame
# pointers; the report sums each ddbgate function with what it calls).
#
# Needs haproxy (Debian package `haproxy`; installed with apt-get when
# missing and running as root), openssl, python3 and taskset. `perf`
# (package linux-perf) is used when present, never installed.
#
# Everything runs on loopback, TLS everywhere, one certificate for the
# cluster name (made by tests/integration/dax_pki.sh):
#   node     bench/dax_bench.py node: one Python process, an epoll loop;
#            checks that every connection starts with the benchmark's
#            preamble and authorizeConnection, then answers every GetItem
#            (143 bytes, compared whole) with one fixed 147-byte result
#   direct   the load generator straight to the node (the baseline)
#   haproxy  mode tcp, nbthread 1: TLS ended with the cluster name's
#            certificate, re-originated to the node with `ssl verify
#            required ca-file ... verifyhost <cluster> sni str(<cluster>)`:
#            the transport job of the relay, without framing or policy
#   ddbgate  a dax listener (workers: 1, tls: true, the same certificate),
#            a dax-cluster endpoint to the node (verified with the same CA),
#            bench/policy-dax-20.json as the endpoint policy (20 statements;
#            the GetItem is allowed by BenchAppReads on table BenchItems),
#            audit to /dev/null, access log and metrics off
# The load generator (bench/dax_bench.py load, one process, an epoll loop)
# opens N TLS connections, sends the preamble and authorizeConnection once on
# each, then one GetItem at a time per connection; every answer must equal
# the node's bytes. Scenarios, per round and target:
#   tput   --conns connections (default 32) for --duration seconds
#   lat1   one connection, one request at a time: latency added = the
#          target's figure minus direct's of the same round
# Per run: requests/s, latency mean/p50/p99/max, the proxy's and the node's
# CPU µs per request (utime+stime from /proc/PID/stat, read by the load
# generator at the edges of its measured window), and how busy each core
# was with other processes (> 10% of a core is flagged `!`).
# Before measuring: every target answers the GetItem with the node's bytes,
# and ddbgate answers a GetItem on table Payroll and a DeleteItem on table
# AuditLog with AccessDeniedException frames, then the GetItem again on the
# same connection. Every process is stopped by PID on exit. Default run:
# ~3 min.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/common.sh"
orig_args="$*"
rounds=3 duration=8 warmup=1 lat_duration=4 conns=32 prof_duration=5
do_perf=1 out="" results="" client_cpu=0 server_cpu=1
targets="direct haproxy ddbgate"
NET=${DAX_BENCH_NET:-127.0.13}
GW_ADDR=$NET.1 NODE_ADDR=$NET.2 HA_ADDR=$NET.3 PORT=9111
CL=bench.abc123.dax-clusters.us-east-1.amazonaws.com
ARN=arn:aws:dax:us-east-1:111122223333:cache/bench
AKID=AKIAIOSFODNN7BENCH01
BENCH_PY=$top/bench/dax_bench.py

die() { echo "dax.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--duration) duration=${2:?}; shift 2 ;;
	--warmup) warmup=${2:?}; shift 2 ;;
	--lat-duration) lat_duration=${2:?}; shift 2 ;;
	--conns) conns=${2:?}; shift 2 ;;
	--profile-duration) prof_duration=${2:?}; shift 2 ;;
	--no-perf) do_perf=0; shift ;;
	--targets) targets=${2:?}; shift 2 ;;
	--client-cpu) client_cpu=${2:?}; shift 2 ;;
	--server-cpu) server_cpu=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--results) results=${2:?}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "unknown argument: $1" >&2; usage 2 ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "--rounds: 1 to 99"
for v in duration lat_duration prof_duration; do
	{ [[ ${!v} =~ ^[1-9][0-9]*$ ]] && [ "${!v}" -ge 2 ] && [ "${!v}" -le 300 ]; } ||
		die "--${v//_/-}: whole seconds, 2 to 300"
done
{ [[ $warmup =~ ^[0-9]+$ ]] && [ "$warmup" -le 30 ]; } || die "--warmup: whole seconds, at most 30"
{ [[ $conns =~ ^[1-9][0-9]*$ ]] && [ "$conns" -le 1024 ]; } || die "--conns: 1 to 1024"
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "DAX_BENCH_NET: three octets of 127.0.0.0/8"
for t in $targets; do case $t in direct | haproxy | ddbgate) ;; *) die "unknown target $t" ;; esac; done
ncpu=$(nproc)
[ "$client_cpu" != "$server_cpu" ] || die "--client-cpu and --server-cpu must differ"
{ [ "$client_cpu" -lt "$ncpu" ] && [ "$server_cpu" -lt "$ncpu" ]; } ||
	die "this machine has $ncpu cores (0..$((ncpu - 1)))"
results=${results:-$top/bench/RESULTS-dax.md}

# --- packages ----------------------------------------------------------------
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
if [ ! -x "$HAPROXY" ]; then
	[ "$(id -u)" = 0 ] || die "haproxy is not installed (Debian package haproxy; run as root to install it)"
	echo "installing: haproxy"
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then # keep Debian from starting the service
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	rc=0
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null; } || rc=$?
	[ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || die "apt-get install haproxy failed"
	HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
fi
for c in openssl python3 taskset; do command -v $c >/dev/null || die "$c is missing"; done
PERF=""
if [ $do_perf = 1 ] && command -v perf >/dev/null 2>&1 &&
	perf record -q -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
	PERF=$(command -v perf)
fi
DDBGATE=${DDBGATE:-$top/build/ddbgate}
[ -x "$DDBGATE" ] || die "no ddbgate binary at $DDBGATE (build it, or set DDBGATE=)"

# --- work directory, cleanup ---------------------------------------------------
if [ -z "$out" ]; then out=$(mktemp -d /tmp/ddbgate-dax.XXXXXX); fi
mkdir -p "$out"
W=$(cd "$out" && pwd)
mkdir -p "$W/state" "$W/haproxy" "$W/runs"

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
for a in "$GW_ADDR:$PORT" "$GW_ADDR:9112" "$GW_ADDR:9113" "$NODE_ADDR:$PORT" "$HA_ADDR:$PORT"; do
	! port_open "${a%:*}" "${a##*:}" || die "$a is already in use (DAX_BENCH_NET= picks other addresses)"
done

# --- 1. PKI: the test CA and a leaf for the cluster name ----------------------------
DAX_CLUSTER_NAME=$CL "$top/tests/integration/dax_pki.sh" "$W/pki" >"$W/pki.log" 2>&1 ||
	die "dax_pki.sh: $(tail -3 "$W/pki.log")"
cat "$W/pki/dax-node.pem" "$W/pki/dax-node.key" >"$W/pki/combined.pem"
# the day in every authorizeConnection's string-to-sign: the same for the
# node and the clients for the whole run
export DAX_BENCH_DAY
DAX_BENCH_DAY=$(date -u +%Y%m%d)

# --- 2. configurations -------------------------------------------------------------
cp "$top/bench/policy-dax-20.json" "$W/policy.json"
cat >"$W/ddbgate.yaml" <<EOF
# ddbgate under dax.sh: one worker, a dax listener, one dax-cluster endpoint
region: us-east-1
account: "111122223333"
workers: 1
state_dir: $W/state
listeners:
  - address: $GW_ADDR:$PORT
    mode: dax
    endpoint: bench-dax
    node_ports: 9112-9113
    allow_clients: [127.0.0.0/8]
tls:
  certificates:
    - cert: $W/pki/dax-node.pem
      key: $W/pki/dax-node.key
endpoints:
  - name: bench-dax
    service: dax-cluster
    hosts: [$CL]
    upstream: $NODE_ADDR:$PORT
    ca_file: $W/pki/dax-ca.pem
    allowed_cidrs: [127.0.0.0/8]
    policy: $W/policy.json
limits:
  client_idle_timeout_s: 600
EOF
write_ddbgate_principals_and_logs >>"$W/ddbgate.yaml"
"$DDBGATE" check -c "$W/ddbgate.yaml" >"$W/ddbgate.check" 2>&1 || die "ddbgate check failed: $(tail -3 "$W/ddbgate.check")"
"$DDBGATE" policy lint -p "$W/policy.json" >"$W/policy.lint" 2>&1 || { cat "$W/policy.lint"; die "policy lint failed"; }
"$DDBGATE" policy eval -p "$W/policy.json" --action dax:GetItem --resource "$ARN" \
	--principal arn:aws:iam::111122223333:role/bench-app --context ddbgate:TableName=BenchItems \
	--context aws:SecureTransport=true --context aws:RequestedRegion=us-east-1 >"$W/policy.eval" 2>&1 ||
	{ cat "$W/policy.eval"; die "the endpoint policy does not allow the benchmark's GetItem"; }
grep -q 'statement: BenchAppReads' "$W/policy.eval" || { cat "$W/policy.eval"; die "allowed, but not by BenchAppReads"; }

cat >"$W/haproxy/haproxy.cfg" <<EOF
# HAProxy: TLS in with the cluster name's certificate, TLS out verified for it
global
    nbthread 1
    maxconn 4096
    no strict-limits
    ssl-server-verify required
defaults
    mode tcp
    maxconn 4096
    timeout connect 5s
    timeout client 600s
    timeout server 600s
frontend dax
    bind $HA_ADDR:$PORT ssl crt $W/pki/combined.pem ssl-min-ver TLSv1.2
    default_backend node
backend node
    server n1 $NODE_ADDR:$PORT ssl verify required ca-file $W/pki/dax-ca.pem verifyhost $CL sni str($CL)
EOF
"$HAPROXY" -c -q -f "$W/haproxy/haproxy.cfg" >"$W/haproxy/check.log" 2>&1 || { cat "$W/haproxy/check.log"; die "haproxy -c failed"; }

# --- 3. processes --------------------------------------------------------------------
taskset -c "$server_cpu" python3 "$BENCH_PY" node --listen "$NODE_ADDR:$PORT" \
	--cert "$W/pki/dax-node.pem" --key "$W/pki/dax-node.key" >"$W/node.out" 2>"$W/node.err" &
NODE_PID=$!
PIDS+=("$NODE_PID")
taskset -c "$server_cpu" "$DDBGATE" run -c "$W/ddbgate.yaml" >"$W/ddbgate.out" 2>"$W/ddbgate.err" &
GW_PID=$!
PIDS+=("$GW_PID")
taskset -c "$server_cpu" "$HAPROXY" -db -f "$W/haproxy/haproxy.cfg" >"$W/haproxy/stdout.log" 2>&1 &
HA_PID=$!
PIDS+=("$HA_PID")

wait_port() { # ADDR PID
	for _ in $(seq 1 100); do
		port_open "$1" "$PORT" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
wait_port "$NODE_ADDR" "$NODE_PID" || { cat "$W/node.err"; die "the node did not listen on $NODE_ADDR:$PORT"; }
wait_port "$GW_ADDR" "$GW_PID" || { tail -20 "$W/ddbgate.err"; die "ddbgate did not listen on $GW_ADDR:$PORT"; }
wait_port "$HA_ADDR" "$HA_PID" || { cat "$W/haproxy/stdout.log"; die "haproxy did not listen on $HA_ADDR:$PORT"; }
[ -z "$(cat "/proc/$HA_PID/task/$HA_PID/children" 2>/dev/null)" ] || die "haproxy forked: expected one process"

declare -A T_ADDR=([direct]=$NODE_ADDR [haproxy]=$HA_ADDR [ddbgate]=$GW_ADDR)
declare -A T_PID=([direct]="" [haproxy]=$HA_PID [ddbgate]=$GW_PID)
SERVER_PIDS="$NODE_PID,$HA_PID,$GW_PID"
alive() { kill -0 "$NODE_PID" 2>/dev/null && kill -0 "$HA_PID" 2>/dev/null && kill -0 "$GW_PID" 2>/dev/null; }
common=(--name "$CL" --ca "$W/pki/dax-ca.pem")

# --- 4. checks -------------------------------------------------------------------------
for t in $targets; do
	deny=()
	[ "$t" != ddbgate ] || deny=(--expect-deny)
	timeout 30 python3 "$BENCH_PY" check --connect "${T_ADDR[$t]}:$PORT" "${common[@]}" "${deny[@]}" \
		>"$W/check-$t.json" 2>&1 || { cat "$W/check-$t.json"; die "$t: the check failed"; }
	echo "check: $t ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tls"])' "$W/check-$t.json")) answers the GetItem with the node's bytes$([ "$t" = ddbgate ] &&
		echo '; denies GetItem on Payroll and DeleteItem on AuditLog (AccessDeniedException), then answers again')"
done

# --- 5. measuring ----------------------------------------------------------------------
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$top" status --porcelain --untracked-files=no -- src 2>/dev/null | head -1)
{
	echo "nproc=$ncpu"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "kernel=$(uname -r)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "openssl=$(openssl version | cut -d' ' -f1-2)"
	echo "haproxy=$("$HAPROXY" -v | head -1 | cut -d' ' -f1-3)"
	echo "ddbgate=$("$DDBGATE" version 2>/dev/null | head -1) at $commit${dirty:+ (src modified)}"
	echo "python=$(python3 --version) ($(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)'))"
	echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "rounds=$rounds"
	echo "duration=$duration"
	echo "warmup=$warmup"
	echo "lat_duration=$lat_duration"
	echo "conns=$conns"
	echo "prof_duration=$prof_duration"
	echo "client_cpu=$client_cpu"
	echo "server_cpu=$server_cpu"
	echo "targets=$targets"
	echo "request_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request_bytes"])' "$W/check-direct.json" 2>/dev/null || echo 143)"
	echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$W/machine.env"
sed 's/^/  /' "$W/machine.env"
echo "output in $W"
: >"$W/results.jsonl"

run_one() { # ROUND SCENARIO TARGET
	local r=$1 s=$2 t=$3 base=$W/runs/r$1-$2-$3 n len cpu=()
	case $s in
	tput) n=$conns len=$duration ;;
	lat1) n=1 len=$lat_duration ;;
	esac
	[ -z "${T_PID[$t]}" ] || cpu=(--cpu "proxy=${T_PID[$t]}")
	timeout $((len + warmup + 60)) taskset -c "$client_cpu" python3 "$BENCH_PY" load --connect "${T_ADDR[$t]}:$PORT" \
		"${common[@]}" --conns "$n" --warmup "$warmup" --duration "$len" "${cpu[@]}" --cpu "node=$NODE_PID" \
		--cpu "servers=$SERVER_PIDS" --cores "$client_cpu,$server_cpu" >"$base.json" 2>"$base.err" ||
		{ cat "$base.json" "$base.err"; die "the load generator failed ($s, $t, round $r)"; }
	alive || die "a server process exited during $s/$t, round $r (ddbgate: $(tail -3 "$W/ddbgate.err"))"
	python3 - "$base.json" "$r" "$s" "$t" "$client_cpu" "$server_cpu" >>"$W/results.jsonl" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d.update(round=int(sys.argv[2]), scenario=sys.argv[3], name=sys.argv[4])
cc, sc = sys.argv[5], sys.argv[6]
d["client_other"] = max(0.0, d["core_busy"][cc] - d["client_cpu_share"])
d["server_other"] = max(0.0, d["core_busy"][sc] - d["cpu_share"]["servers"])
print(json.dumps(d))
PY
	tail -n 1 "$W/results.jsonl" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
px = d["cpu_us_per_req"].get("proxy")
print("  r%d %-4s %-8s %8.0f req/s  mean %6.3f ms  p50 %6.3f  p99 %6.3f  proxy %s us/req  node %.1f us/req  other %.0f%%/%.0f%%" % (
    d["round"], d["scenario"], d["name"], d["rps"], d["mean_ms"], d["p50_ms"], d["p99_ms"],
    "%5.1f" % px if px is not None else "    -", d["cpu_us_per_req"]["node"], 100 * d["client_other"], 100 * d["server_other"]))'
	sleep 0.5
}

for r in $(seq 1 "$rounds"); do
	echo "round $r"
	for s in tput lat1; do
		for t in $targets; do run_one "$r" "$s" "$t"; done
	done
done

# --- 6. where the time goes: perf record, and system calls per request -------------------
SYSCALL_KINDS="read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait epoll_pwait epoll_ctl futex"
profile_one() { # TARGET
	local t=$1 pid=${T_PID[$1]} lpid ev="raw_syscalls:sys_enter" k
	for k in $SYSCALL_KINDS; do ev+=",syscalls:sys_enter_$k"; done
	# system calls: perf stat over the whole life of a load run (its 32
	# handshakes are a few hundred calls among hundreds of thousands)
	"$PERF" stat -x '	' -e "$ev" -p "$pid" -o "$W/syscalls-$t.stat" -- \
		taskset -c "$client_cpu" python3 "$BENCH_PY" load --connect "${T_ADDR[$t]}:$PORT" "${common[@]}" \
		--conns "$conns" --warmup 0 --duration "$prof_duration" >"$W/syscalls-$t.json" 2>&1 ||
		die "the load generator failed under perf stat ($t)"
	# profile: perf record of the proxy inside a load run
	taskset -c "$client_cpu" python3 "$BENCH_PY" load --connect "${T_ADDR[$t]}:$PORT" "${common[@]}" \
		--conns "$conns" --warmup 1 --duration "$((prof_duration + 1))" >"$W/perf-$t.json" 2>&1 &
	lpid=$!
	PIDS+=("$lpid")
	sleep 1.5
	# ddbgate: DWARF call graphs (it has no frame pointers) for the cost of
	# its own functions with what they call; HAProxy: the flat profile
	local cg=-g freq=1999
	[ "$t" != ddbgate ] || cg=${PERF_CALLGRAPH:---call-graph dwarf,16384} freq=999
	"$PERF" record -q -F "$freq" -e cpu-clock $cg -p "$pid" -o "$W/perf-$t.data" \
		-- sleep "$((prof_duration - 1))" >"$W/perf-$t.record" 2>&1 || true
	wait "$lpid" || die "the load generator failed under perf record ($t)"
	"$PERF" report -i "$W/perf-$t.data" --no-children --sort symbol,dso --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -25 >"$W/perf-$t.top" || true
	"$PERF" report -i "$W/perf-$t.data" --no-children --sort dso --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -8 >"$W/perf-$t.dso" || true
	if [ "$t" = ddbgate ]; then
		"$PERF" script -i "$W/perf-$t.data" -F ip,sym,dso 2>/dev/null >"$W/perf-$t.script" || true
		python3 - "$W/perf-$t.script" >"$W/perf-$t.own" <<'PY' || true
# ddbgate's own functions: the share of samples with the function on the
# stack (inclusive); and the library time (libc, libcrypto, libevent...)
# by the nearest ddbgate function above it
import collections, sys
samples, cur = [], []
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line:
        if cur:
            samples.append(cur)
        cur = []
        continue
    w = line.split(None, 1)
    if len(w) < 2 or not w[1].endswith(")"):
        continue
    sym, dso = w[1][:-1].rsplit(" (", 1)
    cur.append((sym.split("+0x")[0], dso.rsplit("/", 1)[-1]))
if cur:
    samples.append(cur)
n = len(samples) or 1
incl, lib = collections.Counter(), collections.Counter()
for s in samples:
    own = []
    for sym, dso in s:
        if dso == "ddbgate" and sym not in own:
            own.append(sym)
    for sym in own:
        incl[sym] += 1
    leaf_sym, leaf_dso = s[0]
    if leaf_dso not in ("ddbgate", "[kernel.kallsyms]", "[unknown]") and own:
        lib["%s (%s) <- %s" % (leaf_sym, leaf_dso, own[0])] += 1
print("samples\t%d" % len(samples))
for k, v in incl.most_common(40):
    if v / n < 0.95:
        print("incl\t%.2f\t%s" % (100.0 * v / n, k))
for k, v in lib.most_common(15):
    print("lib\t%.2f\t%s" % (100.0 * v / n, k))
PY
		rm -f "$W/perf-$t.script"
	fi
	echo "  $t: $(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n = d["answers"]
for l in open(sys.argv[2]):
    f = l.rstrip("\n").split("\t")
    if len(f) > 2 and f[2] == "raw_syscalls:sys_enter" and f[0].isdigit():
        print("%.2f system calls per request;" % (int(f[0]) / n), end=" ")' "$W/syscalls-$t.json" "$W/syscalls-$t.stat")top: $(head -3 "$W/perf-$t.top" | awk '{ printf "%s %s; ", $1, $3 }')"
}
if [ -n "$PERF" ]; then
	echo "perf: system calls (perf stat) and profiles (perf record), ${prof_duration}s runs of $conns connections"
	for t in ddbgate haproxy; do
		case " $targets " in *" $t "*) profile_one "$t" ;; esac
	done
elif [ $do_perf = 1 ]; then
	echo "perf: not available (Debian package linux-perf matching the kernel); no profile"
fi

# --- 7. report ---------------------------------------------------------------------------
grep -Eiv '\b(info|debug)\b|running as root: set user' "$W/ddbgate.err" >"$W/ddbgate.problems" || true
echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$W/machine.env"
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$W/machine.env"
echo "syscall_kinds=$SYSCALL_KINDS" >>"$W/machine.env"
kill -TERM "$NODE_PID" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
python3 - "$W" "$results" "$orig_args" <<'PY'
import json, os, statistics, sys
W, results, args = sys.argv[1], sys.argv[2], sys.argv[3]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(W, "machine.env")) if "=" in l)
rows = [json.loads(l) for l in open(os.path.join(W, "results.jsonl")) if l.strip()]
DISTURBED = 0.10
o = []
p = o.append
med = lambda xs: statistics.median(xs) if xs else None
fmt = lambda x, f="%.2f": (f % x) if x is not None else "—"
def get(r, s, t):
    for d in rows:
        if d["round"] == r and d["scenario"] == s and d["name"] == t:
            return d
rounds = sorted({d["round"] for d in rows})
names = [t for t in ("direct", "haproxy", "ddbgate") if any(d["name"] == t for d in rows)]

p("# DAX relay: ddbgate against HAProxy (bench/dax.sh)")
p("")
p("Written by `bench/dax.sh%s` on %s. Numbers compare within this run only." % (" " + args if args else "", env.get("started", "?")))
p("")
p("## Machine")
p("")
for k in ("cpu", "nproc", "kernel", "os", "openssl", "haproxy", "ddbgate", "python", "loadavg_before", "loadavg_after"):
    p("- %s: %s" % (k, env.get(k, "?")))
p("- load generator on core %s; the node, HAProxy and ddbgate on core %s" % (env.get("client_cpu"), env.get("server_cpu")))
p("- %s rounds; per round and target: `tput` %s s measured, `lat1` %s s measured, each after %s s of warm-up; targets interleaved" % (
    env.get("rounds"), env.get("duration"), env.get("lat_duration"), env.get("warmup")))
p("")
p("## What runs")
p("")
p("- node: `bench/dax_bench.py node`, one Python process (epoll, TLS, certificate for the cluster name); every GetItem (143 bytes) is compared whole and answered with one fixed 147-byte result")
p("- direct: the load generator straight to the node")
p("- haproxy: `mode tcp`, `nbthread 1`, `bind ... ssl crt <cluster name's cert>`, `server ... ssl verify required ca-file <CA> verifyhost <cluster> sni str(<cluster>)`: the same transport job, no framing, no policy")
p("- ddbgate: `mode: dax` listener (`workers: 1`, TLS with the same certificate), a `dax-cluster` endpoint to the node verified with the same CA, `bench/policy-dax-20.json` (20 statements; BenchAppReads allows the GetItem), audit to /dev/null, access log and metrics off")
p("- load: `bench/dax_bench.py load`, one Python process (epoll); the preamble and authorizeConnection once per connection, then one GetItem at a time per connection; `tput` = %s connections, `lat1` = 1 connection" % env.get("conns"))
p("- proxy and node CPU: utime+stime of the process (/proc/PID/stat) over the measured window, divided by the answers in it")
p("")

p("## Commands and configurations")
p("")
p("```sh")
p("bench/dax.sh%s    # as root (or with haproxy installed), from the top of the tree" % (" " + args if args else ""))
p("# each run of the load generator (tput; lat1 is --conns 1 --duration %s):" % env.get("lat_duration"))
p("taskset -c %s python3 bench/dax_bench.py load --connect <target>:9111 --name <cluster name> --ca <CA> \\" % env.get("client_cpu"))
p("    --conns %s --warmup %s --duration %s --cpu proxy=<PID> --cpu node=<PID> --cores %s,%s" % (
    env.get("conns"), env.get("warmup"), env.get("duration"), env.get("client_cpu"), env.get("server_cpu")))
p("```")
for title, f, lang in (("haproxy.cfg", "haproxy/haproxy.cfg", ""), ("ddbgate.yaml", "ddbgate.yaml", "yaml")):
    p("")
    p("%s:" % title)
    p("")
    p("```%s" % lang)
    for l in open(os.path.join(W, f)):
        p(l.rstrip("\n").replace(W, "$W"))
    p("```")
p("")
p("(`$W` is the run's work directory; the certificate and key are dax_pki.sh's leaf for the cluster name, the CA its DAX test CA; policy.json is bench/policy-dax-20.json.)")
tls = []
for t in ("direct", "haproxy", "ddbgate"):
    f = os.path.join(W, "check-%s.json" % t)
    if os.path.exists(f):
        tls.append("%s: %s" % (t, json.load(open(f)).get("tls", "?")))
if tls:
    p("")
    p("TLS as the load generator negotiated it: %s." % "; ".join(tls))
p("")

# ratios
p("## ddbgate against HAProxy (per-round ratios, medians)")
p("")
def ratio_rows():
    out = []
    for label, s, key, f in (
            ("requests/s, %s connections" % env.get("conns"), "tput", "rps", None),
            ("proxy CPU µs per request (throughput run)", "tput", "proxy_us", None),
            ("proxy CPU µs per request (one at a time)", "lat1", "proxy_us", None),
            ("latency p50, one at a time", "lat1", "p50_ms", None),
            ("latency p99, one at a time", "lat1", "p99_ms", None),
            ("latency added over direct, p50, one at a time", "lat1", "added_p50", None),
            ("latency added over direct, mean, one at a time", "lat1", "added_mean", None),
            ("latency mean, %s connections" % env.get("conns"), "tput", "mean_ms", None)):
        per = []
        vals = {"haproxy": [], "ddbgate": []}
        for r in rounds:
            v = {}
            for t in ("haproxy", "ddbgate"):
                d = get(r, s, t)
                if not d:
                    continue
                if key == "proxy_us":
                    v[t] = d["cpu_us_per_req"].get("proxy")
                elif key.startswith("added_"):
                    base = get(r, s, "direct")
                    k2 = key[6:] + "_ms"
                    v[t] = (d[k2] - base[k2]) if base else None
                else:
                    v[t] = d[key]
                if v[t] is not None:
                    vals[t].append(v[t])
            if v.get("haproxy") and v.get("ddbgate") is not None and v["haproxy"] > 0:
                per.append(v["ddbgate"] / v["haproxy"])
        out.append((label, per, med(vals["haproxy"]), med(vals["ddbgate"])))
    return out
p("| measure | haproxy (median) | ddbgate (median) | ddbgate / haproxy per round | median ratio |")
p("| --- | --- | --- | --- | --- |")
for label, per, h, g in ratio_rows():
    f = "%.0f" if label.startswith("requests") else ("%.3f" if "latency" in label else "%.1f")
    unit = "" if not "latency" in label else " ms"
    p("| %s | %s%s | %s%s | %s | **%s** |" % (label, fmt(h, f), unit if h is not None else "", fmt(g, f), unit if g is not None else "",
                                          ", ".join("%.2f" % x for x in per) or "—", fmt(med(per), "%.2fx")))
p("")

# medians per target
p("## Medians per target and scenario")
p("")
p("| scenario | target | req/s | mean ms | p50 ms | p99 ms | max ms | proxy µs/req | node µs/req | client µs/req | client / server core busy |")
p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s in ("tput", "lat1"):
    for t in names:
        ds = [d for d in rows if d["scenario"] == s and d["name"] == t]
        if not ds:
            continue
        m = lambda f: med([f(d) for d in ds if f(d) is not None])
        px = m(lambda d: d["cpu_us_per_req"].get("proxy"))
        cl = m(lambda d: d["client_cpu_share"] / d["rps"] * 1e6 if d["rps"] else None)
        cc, sc = env.get("client_cpu"), env.get("server_cpu")
        p("| %s | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %s | %.1f | %.1f | %.0f%% / %.0f%% |" % (
            s, t, m(lambda d: d["rps"]), m(lambda d: d["mean_ms"]), m(lambda d: d["p50_ms"]), m(lambda d: d["p99_ms"]),
            m(lambda d: d["max_ms"]), fmt(px, "%.1f"), m(lambda d: d["cpu_us_per_req"]["node"]), cl,
            100 * m(lambda d: d["core_busy"][cc]), 100 * m(lambda d: d["core_busy"][sc])))
p("")

# perf
tops = [(t, os.path.join(W, "perf-%s.top" % t)) for t in ("ddbgate", "haproxy")]
if any(os.path.exists(f) and os.path.getsize(f) for t, f in tops):
    p("## System calls per request (`perf stat` of the syscall tracepoints, a %s s run of the load generator)" % env.get("prof_duration"))
    p("")
    kinds = env.get("syscall_kinds", "").split()
    table = []
    for t in ("ddbgate", "haproxy"):
        sf, jf = os.path.join(W, "syscalls-%s.stat" % t), os.path.join(W, "syscalls-%s.json" % t)
        if not (os.path.exists(sf) and os.path.exists(jf)):
            continue
        n = json.loads(open(jf).read().strip().splitlines()[-1]).get("answers") or 1
        c = {}
        for l in open(sf):
            f = l.rstrip("\n").split("\t")
            if len(f) > 2 and f[0].isdigit():
                c[f[2].split(":")[-1].replace("sys_enter_", "")] = int(f[0])
        table.append((t, n, c))
    used = [k for k in kinds if any(c.get(k) for _, _, c in table)]
    p("| target | requests | all | " + " | ".join(used) + " |")
    p("| --- | --- | --- | " + " | ".join("---" for _ in used) + " |")
    for t, n, c in table:
        p("| %s | %d | %.2f | %s |" % (t, n, c.get("sys_enter", 0) / n, " | ".join("%.2f" % (c.get(k, 0) / n) for k in used)))
    p("")
    p("## Where the time goes (`perf record -e cpu-clock -p PID`, `perf report --no-children --sort symbol,dso`)")
    for t, f in tops:
        if not (os.path.exists(f) and os.path.getsize(f)):
            continue
        p("")
        p("%s, top symbols:" % t)
        p("")
        p("```")
        for l in open(f):
            p(" ".join(x for x in l.rstrip().split() if x != "-"))
        p("```")
        df = os.path.join(W, "perf-%s.dso" % t)
        if os.path.exists(df):
            p("")
            p("%s, by object: %s" % (t, "; ".join(" ".join(l.split()[:2]) for l in open(df))))
    own = os.path.join(W, "perf-ddbgate.own")
    tput_us = med([d["cpu_us_per_req"].get("proxy") for d in rows if d["scenario"] == "tput" and d["name"] == "ddbgate"])
    if os.path.exists(own) and os.path.getsize(own):
        recs = [l.rstrip("\n").split("\t") for l in open(own)]
        p("")
        p("ddbgate's own functions with everything they call (`--call-graph dwarf`, %s samples; share of the process's CPU, and µs per request at the median %s µs of the throughput runs):" % (
            next((r[1] for r in recs if r[0] == "samples"), "?"), fmt(tput_us, "%.1f")))
        p("")
        p("| function | share | µs/req |")
        p("| --- | --- | --- |")
        for r in recs:
            if r[0] == "incl" and float(r[1]) >= 0.5:
                p("| `%s` | %s%% | %s |" % (r[2], r[1], fmt(float(r[1]) / 100 * tput_us if tput_us else None)))
        p("")
        p("Library time by the nearest ddbgate function above it (leaf symbol <- caller):")
        p("")
        p("| leaf <- ddbgate function | share |")
        p("| --- | --- |")
        for r in recs:
            if r[0] == "lib":
                p("| `%s` | %s%% |" % (r[2], r[1]))
    p("")

# every run
p("## Every run")
p("")
p("| round | scenario | target | req/s | mean ms | p50 ms | p99 ms | max ms | proxy µs/req | node µs/req | other load client / server |")
p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
bad = 0
for d in rows:
    flag = max(d["client_other"], d["server_other"]) > DISTURBED
    bad += flag
    px = d["cpu_us_per_req"].get("proxy")
    p("| %d | %s | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %s | %.1f | %.0f%% / %.0f%%%s |" % (
        d["round"], d["scenario"], d["name"], d["rps"], d["mean_ms"], d["p50_ms"], d["p99_ms"], d["max_ms"],
        fmt(px, "%.1f"), d["cpu_us_per_req"]["node"], 100 * d["client_other"], 100 * d["server_other"], " !" if flag else ""))
p("")
p("%d of %d runs had more than %d%% of a core busy with other processes (marked `!`)." % (bad, len(rows), 100 * DISTURBED))
node_out = os.path.join(W, "node.out")
if os.path.exists(node_out) and open(node_out).read().strip():
    st = json.loads(open(node_out).read().strip().splitlines()[-1])
    p("The node served %d connections and %d GetItems (TLS: %s); it refused %d connection(s) for bytes that were not the client's." % (
        st["connections"], st["answered"], ", ".join(st.get("tls", [])) or "?", st["refused"]))
pr = os.path.join(W, "ddbgate.problems")
lines = open(pr).read().splitlines() if os.path.exists(pr) else []
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
sed -n '/^## ddbgate against HAProxy/,/^## Medians/p' "$results" | sed '$d'
echo "files: $W (results.jsonl, runs/, perf-*.top, syscalls-*.stat, ddbgate.err, haproxy/, node.*)"
