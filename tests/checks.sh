# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# The check helpers of the suites that print one "ok NAME" or "FAIL NAME"
# line per check (tests/deploy/run.sh, tests/package/run.sh): sourced,
# they count into $pass and $fail; a failure's output follows indented.

pass=0
fail=0

ok() {
	printf 'ok   %s\n' "$1"
	pass=$((pass + 1))
}
bad() {
	printf 'FAIL %s\n' "$1"
	fail=$((fail + 1))
	if [ -n "${2:-}" ]; then printf '%s\n' "$2" | tail -n 40 | sed 's/^/       /'; fi
}

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}

# check_fails NAME REGEX CMD...: a negative check. Passes when CMD exits
# non-zero AND its output matches REGEX (it failed for the intended
# reason, not for some unrelated one). Indented detail lines are joined
# to the line above first, so REGEX can tie a FAIL line to its reason.
check_fails() {
	local name=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		bad "$name" "exit 0 (a broken input was accepted):
$out"
	elif ! awk '/^       /{sub(/^ +/, " "); printf "%s", $0; next}
			NR > 1 {print ""} {printf "%s", $0} END {print ""}' <<<"$out" |
		grep -Eq -- "$re"; then
		bad "$name" "failed, but without matching /$re/:
$out"
	else
		ok "$name"
	fi
}
