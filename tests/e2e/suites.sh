#!/usr/bin/env bash
# Runs the end-to-end suites one after another (each builds and removes its
# own topology) and prints a summary; exits non-zero if any failed.
set -u
cd "$(dirname "$0")/../.."
failed=()
for suite in "$@"; do
	echo "=== $suite"
	start=$(date +%s)
	if "$suite"; then
		echo "=== $suite: passed in $(($(date +%s) - start)) s"
	else
		echo "=== $suite: FAILED"
		failed+=("$suite")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "e2e suites failed: ${failed[*]}"
	exit 1
fi
echo "e2e: all $# suites passed"
