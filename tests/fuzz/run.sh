#!/usr/bin/env bash
# Runs each libFuzzer target: first its committed regression inputs (every
# crash ever found), then SECONDS of fuzzing from the committed corpus.
# New corpus units go to build/fuzz/work-*, crashes to build/fuzz/artifacts.
# SECONDS 0 runs every committed corpus input once instead, and no fuzzing.
#
# usage: run.sh SECONDS FUZZER...
set -uo pipefail

seconds=$1
shift
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz/artifacts

# One fuzzer: its regressions, then its corpus or its fuzzing. Prints its
# report; returns non-zero on a failure.
fuzz_one() {
	local bin=$1 name target work regress corpus log rc execs rate
	name=$(basename "$bin")
	target=${name#fuzz_}
	work=build/fuzz/work-$target
	mkdir -p "$work"
	regress=(tests/fuzz/regressions/$target/*)
	if [ -e "${regress[0]}" ]; then
		if ! "$bin" "${regress[@]}" >build/fuzz/$target-regress.log 2>&1; then
			echo "fuzz $target: a committed regression input fails:"
			tail -20 build/fuzz/$target-regress.log
			return 1
		fi
		echo "fuzz $target: ${#regress[@]} regression inputs pass"
	fi
	if [ "$seconds" = 0 ]; then
		corpus=(tests/fuzz/corpus/$target/*)
		if ! "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 \
			"tests/fuzz/corpus/$target" >build/fuzz/$target-corpus.log 2>&1; then
			echo "fuzz $target: a committed corpus input fails:"
			tail -20 build/fuzz/$target-corpus.log
			return 1
		fi
		echo "fuzz $target: ${#corpus[@]} corpus inputs pass"
		return 0
	fi
	log=build/fuzz/$target.log
	"$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/$target- -timeout=10 \
		-rss_limit_mb=2048 "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ $rc -ne 0 ]; then
		echo "fuzz $target: FAILED after ${execs:-?} executions; input:"
		ls build/fuzz/artifacts/$target-* 2>/dev/null
		grep -m1 -E "ERROR|Assertion|runtime error" "$log"
		echo "  (copy it into tests/fuzz/regressions/$target/ once fixed)"
		return 1
	fi
	echo "fuzz $target: ${execs:-0} executions in ${seconds}s (${rate:-0}/s), no crash"
}

# As many fuzzers at once as there are CPUs (each is single-threaded), their
# reports in the order given.
slots=$(nproc)
pids=()
for bin in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$slots" ]; do
		wait -n
	done
	fuzz_one "$bin" >"build/fuzz/$(basename "$bin").report" 2>&1 &
	pids+=($!)
done
fail=0
i=0
for bin in "$@"; do
	wait "${pids[$i]}" || fail=1
	cat "build/fuzz/$(basename "$bin").report"
	i=$((i + 1))
done
exit $fail
