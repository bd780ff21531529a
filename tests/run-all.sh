#!/bin/bash
# Builds ddbgate and runs every test: the cmocka unit tests (plain and
# under AddressSanitizer + UBSan), the libFuzzer targets for a short time
# each, `make distcheck`, and the integration tests with real clients and
# servers. Installs what it needs first (scripts/bootstrap.sh). Ends with
# one line: "N passed, N failed, N skipped".
#
# usage: tests/run-all.sh            (as root: integration tests need it)
# env:   FUZZ_SECONDS (default 20), SKIP_DISTCHECK=1, SKIP_FUZZ=1
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

passed=0 failed=0 skipped=0
failures=()

note_pass() { passed=$((passed + $1)); }
note_fail() { failed=$((failed + $1)); failures+=("$2"); }

"$top/scripts/bootstrap.sh" || { echo "bootstrap failed"; echo "0 passed, 1 failed"; exit 1; }

# Counts cmocka results from the .log files of a `make check` run.
count_unit() {
	local dir=$1 label=$2 log p f
	for log in "$dir"/tests/unit/test_*.log; do
		[ -f "$log" ] || continue
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		if [ -z "$p" ] && [ -z "$f" ]; then
			note_fail 1 "$label $(basename "$log" .log): crashed"
			sed -n '1,60p' "$log"
			continue
		fi
		note_pass "${p:-0}"
		if [ -n "$f" ] && [ "$f" != 0 ]; then
			note_fail "$f" "$label $(basename "$log" .log)"
			grep -E '^\[  (FAILED|ERROR)' "$log" | head -20
		fi
	done
}

echo "== unit tests"
make -C build check -j"$(nproc)" >/dev/null 2>&1
count_unit build unit

echo "== unit tests under AddressSanitizer + UBSan"
mkdir -p build-asan
(cd build-asan && { [ -f Makefile ] || ../configure --quiet --enable-sanitizers CC=clang; } &&
	make -j"$(nproc)" >/dev/null 2>&1 &&
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 make check -j"$(nproc)" >/dev/null 2>&1)
count_unit build-asan asan

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	echo "== fuzz targets (${FUZZ_SECONDS:-20} s each)"
	mkdir -p build-fuzz
	if (cd build-fuzz && { [ -f Makefile ] || ../configure --quiet --enable-fuzzing CC=clang; } &&
		make -j"$(nproc)" tests/fuzz/fuzz_http1_request tests/fuzz/fuzz_http1_response \
			tests/fuzz/fuzz_config tests/fuzz/fuzz_policy tests/fuzz/fuzz_classify \
			tests/fuzz/fuzz_clienthello tests/fuzz/fuzz_proxyauth tests/fuzz/fuzz_h2 \
			tests/fuzz/fuzz_json tests/fuzz/fuzz_dax \
			>/dev/null 2>&1); then
		for t in build-fuzz/tests/fuzz/fuzz_*; do
			[ -x "$t" ] || continue
			name=$(basename "$t"); corpus=${name#fuzz_}
			scratch=$(mktemp -d)
			seeds=tests/fuzz/corpus/$corpus
			dict=tests/fuzz/${corpus%%_*}.dict
			if "$t" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
				${dict:+$( [ -f "$dict" ] && echo -dict="$dict")} \
				-artifact_prefix="$scratch/" "$scratch" "$seeds" >"$scratch/log" 2>&1; then
				note_pass 1; echo "ok - fuzz $name"
			else
				note_fail 1 "fuzz $name"; tail -40 "$scratch/log"
			fi
			rm -rf "$scratch"
		done
	else
		note_fail 1 "fuzz build"
	fi
else
	skipped=$((skipped + 1))
fi

if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "== make distcheck"
	if make -C build distcheck >build/distcheck.log 2>&1; then
		note_pass 1; echo "ok - make distcheck"
	else
		note_fail 1 "make distcheck"; tail -40 build/distcheck.log
	fi
else
	skipped=$((skipped + 1))
fi

# Adds the counts of a sub-suite's closing "N passed, N failed[, N skipped]".
count_line() {
	local line=$1 label=$2 p f s
	if [ -z "$line" ]; then
		note_fail 1 "$label did not report"
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	note_pass "$p"
	[ "$f" != 0 ] && note_fail "$f" "$label"
	skipped=$((skipped + ${s:-0}))
}

echo "== policy engine against the IAM simulator (differential)"
dlog=$(mktemp)
bash tests/policy-diff/run.sh >"$dlog" 2>&1
tail -3 "$dlog"
count_line "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dlog" | tail -1)" "policy differential"
rm -f "$dlog"

echo "== integration tests"
ilog=$(mktemp)
bash tests/integration/run.sh "$top/build" 2>&1 | tee "$ilog"
count_line "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$ilog" | tail -1)" "integration"
rm -f "$ilog"

echo "== integration tests against the ASan + UBSan build"
alog=$(mktemp)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/run.sh "$top/build-asan" >"$alog" 2>&1
grep -E '^(not ok|[0-9]+ passed)' "$alog"
count_line "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$alog" | tail -1)" "integration (asan)"
rm -f "$alog"

if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
