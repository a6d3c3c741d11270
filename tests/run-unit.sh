#!/usr/bin/env bash
# Runs the unit test binaries given as arguments; prints a summary line.
set -u
fail=0
cases=0
for t in "$@"; do
	echo "== $t"
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	n=$(echo "$out" | sed -n 's/^# \([0-9]*\) cases.*/\1/p')
	cases=$((cases + ${n:-0}))
	[ $rc -eq 0 ] || { echo "FAILED: $t (exit $rc)"; fail=1; }
done
echo "unit: $cases cases in $# binaries, $([ $fail = 0 ] && echo all passed || echo FAILURES)"
exit $fail
