#!/bin/bash
# Differential test of src/policy.c against @cloud-copilot/iam-simulate.
#
#   generate (fixed seed) -> oracle -> ddbgate (eval.c) -> compare
#
# Prints every disagreement that KNOWN_DIFFERENCES.md does not explain and
# ends with "N passed, N failed, N skipped"; exits non-zero on any failure.
# Runs offline once `npm ci` has been run in tests/.
#
# usage: tests/policy-diff/run.sh
# env:   POLICY_DIFF_N (cases, default 10000), POLICY_DIFF_SEED (default
#        20240917), POLICY_DIFF_KEEP=1 (keep the work directory even when
#        everything passed), CC (default gcc)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=${POLICY_DIFF_N:-10000}
seed=${POLICY_DIFF_SEED:-20240917}
cc=${CC:-gcc}

die() {
	echo "policy-diff: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

stage() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@" || return 1
	t1=$(date +%s.%N)
	printf 'policy-diff: %-8s %6.2fs\n' "$name" "$(echo "$t1 - $t0" | bc)" >&2
}

command -v node >/dev/null || die "node not found"
[ -d "$top/tests/node_modules/@cloud-copilot/iam-simulate" ] ||
	die "@cloud-copilot/iam-simulate missing: run 'npm ci' in tests/"
[ -f "$top/src/policy.c" ] || die "src/policy.c does not exist yet"

work=$(mktemp -d "${TMPDIR:-/tmp}/policy-diff.XXXXXX") || die "mktemp failed"

stage compile "$cc" -std=c11 -D_GNU_SOURCE -O2 -I"$top/src" \
	"$here/eval.c" "$top/src/policy.c" "$top/src/cidr.c" \
	"$top/src/xmalloc.c" "$top/src/log.c" -ljansson \
	-o "$work/policy-eval" || die "eval.c does not compile against src/policy.c (work dir $work)"
stage generate node "$here/gen.js" --seed "$seed" --n "$n" \
	--out "$work/gen.jsonl" || die "gen.js failed"
stage oracle node "$here/oracle.js" "$work/gen.jsonl" "$work/cases.jsonl" ||
	die "oracle.js failed"
stage ddbgate sh -c '"$1" "$2" > "$3"' sh "$work/policy-eval" \
	"$work/cases.jsonl" "$work/results.tsv" || die "policy-eval failed (work dir $work)"

node "$here/compare.js" "$work/cases.jsonl" "$work/results.tsv" "$work/policy-eval"
rc=$?
if [ "$rc" -ne 0 ] || [ "${POLICY_DIFF_KEEP:-0}" = 1 ]; then
	echo "policy-diff: cases and results kept in $work" >&2
else
	rm -rf "$work"
fi
exit "$rc"
