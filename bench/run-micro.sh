#!/bin/bash
# Micro-benchmarks of the request path (not part of the tests): ns per
# policy decision (10 and 1000 statements), per classification (1 KB and
# 64 KB BatchWriteItem bodies), per HTTP/1 parse of an SDK's request head
# and per audit and access log line. Builds with -O2 into a temp dir.
#
# usage: bench/run-micro.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/policy_bench.c src/cidr.c \
	src/xmalloc.c src/log.c -ljansson -o "$out/policy_bench"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/classify_bench.c src/classify.c \
	src/json.c src/arena.c src/sigv4.c src/http1.c src/config.c src/cidr.c \
	src/xmalloc.c src/log.c -lyaml -o "$out/classify_bench"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/http1_bench.c src/http1.c \
	-o "$out/http1_bench"
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/log_bench.c src/audit.c \
	src/access_log.c src/logline.c src/logwriter.c src/log.c src/xmalloc.c \
	-levent -pthread -o "$out/log_bench"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$out/policy_bench"
"$out/classify_bench"
"$out/http1_bench"
"$out/log_bench"
