#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs xredir's end-to-end suites, or some of their tests, and prints one
# ok/FAIL line per test, a summary per suite and a last line
# "N passed, M failed"; exits non-zero if any failed.
#
# usage: tests/e2e/run.sh [-l] ARG...
#   SUITE                 every test of tests/e2e/SUITE.sh   (run.sh robust)
#   SUITE:SEL[,SEL...]    some of its tests                   (run.sh robust:04)
#   SEL                   in the suites named alongside, or else in the
#                         basic suite                         (run.sh 07 12)
#   -l                    list the tests instead of running them
# SEL is a test number (07; 01 also takes 01a, 01b...) or a glob matched
# anywhere in the test's name (drain, 'corpus-*').
#
# Each suite runs in a bash of its own on a topology of its own, which the
# runner brings up and always tears down. Needs root and a build (`make all
# build/tests/pcapcheck`; `make e2e-test` does both). A missing tool fails
# the tests that need it; nothing is skipped. E2E_KEEP=1 keeps the work dir
# (logs, captures), which is also kept when something failed.
#
# A suite file, tests/e2e/NAME.sh, is sourced after lib.sh (the helpers,
# the daemon's d_start/d_stop/d_wait) from the repository's root and holds
# only settings, hooks and tests:
#
#   SUITE_TOPO=${XR_NAME_TOPO:-xrname}  its topology (scripts/topology.sh),
#                                       renamed by a run in parallel
#   SUITE_TOOLS=(curl "$PYTHON")        tools without which set-up fails
#   suite_setup() { d_start -m; }       optional, once the topology is up
#   suite_before_test() { ...; }        optional, $1 the test's name: state
#                                       that a group of tests shares
#   suite_after_test() { d_end; }       optional
#   suite_cleanup() { ...; }            optional, at exit (daemons stopped)
#   test_07_pipeline_50() {             shown as 07-pipeline-50; tests run
#           ...                         in name order; one fails by
#           why "reason"; return 1      returning non-zero; its last line
#           echo "what was checked"     of output is the ok line's summary
#   }
#
# A failing suite_setup fails every selected test, a failing
# suite_before_test that test. A daemon running when a test starts must
# still run when it ends, unless the test stopped it.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1

E2E_DIR=tests/e2e

# ---- one suite, in this process ----

# e2e_name FUNC: test_01a_drain_graceful -> 01a-drain-graceful
e2e_name() {
	local n=${1#test_}
	echo "${n//_/-}"
}

# selected NAME SEL...: whether a selector takes the test.
selected() {
	local name=$1 sel
	shift
	[ $# = 0 ] && return 0
	for sel in "$@"; do
		if [[ "$sel" =~ ^[0-9]+$ ]]; then
			[[ "$name" =~ ^${sel}[a-z]?- ]] && return 0
		else
			# shellcheck disable=SC2053 # SEL is a pattern
			[[ "$name" == *$sel* ]] && return 0
		fi
	done
	return 1
}

# e2e_run FUNC: the test; a daemon running at its start must not have died
# meanwhile (whatever the client saw) unless the test stopped it.
e2e_run() {
	local pid=$D_PID
	"$1" || return 1
	if [ -n "$pid" ] && [ "$D_PID" = "$pid" ] && ! d_alive; then
		why "xredird died during the test: $(tail -n 1 "$D_LOG")"
		return 1
	fi
}

run_suite() {
	local suite=$1 list=$2 fn name t0 err="" tool i
	local funcs=() names=()
	shift 2
	# shellcheck source=tests/e2e/lib.sh
	. "$E2E_DIR/lib.sh"
	SUITE_TOOLS=()
	SUITE_TOPO_UP=1
	# shellcheck disable=SC1090 # the suite named on the command line
	. "$E2E_DIR/$suite.sh" || exit 1
	for fn in $(declare -F | awk '$3 ~ /^test_/ { print $3 }'); do
		name=$(e2e_name "$fn")
		selected "$name" "$@" || continue
		funcs+=("$fn")
		names+=("$name")
	done
	if [ ${#funcs[@]} = 0 ]; then
		echo "$suite: no test matches: $*" >&2
		exit 2
	fi
	if [ "$list" = 1 ]; then
		for name in "${names[@]}"; do echo "$suite:$name"; done
		exit 0
	fi
	if [ "$(id -u)" != 0 ]; then
		for name in "${names[@]}"; do e2e_fail "$name" "must run as root"; done
		e2e_summary "$suite"
		exit 1
	fi
	# One run per topology name at a time.
	mkdir -p /run/lock
	exec 9>"/run/lock/${SUITE_LOCK:-xredir-e2e-$SUITE_TOPO}.lock"
	flock -w 300 9 || { echo "$suite: another run holds the lock of $SUITE_TOPO" >&2; exit 1; }
	e2e_init "$SUITE_TOPO" || { echo "$suite: cannot read the topology" >&2; exit 1; }
	t0=$(now)

	for tool in ip ethtool "${SUITE_TOOLS[@]}"; do
		command -v "$tool" >/dev/null 2>&1 || err="missing tool: $tool"
	done
	if [ -x "$XREDIRD" ] && [ -x "$XREDIRCTL" ]; then
		# Copies: a rebuild of the tree meanwhile does not pull the
		# binaries from under a running test.
		mkdir -p "$E2E_WORK/bin"
		cp "$XREDIRD" "$XREDIRCTL" "$E2E_WORK/bin/"
		XREDIRD=$E2E_WORK/bin/xredird
		XREDIRCTL=$E2E_WORK/bin/xredirctl
	else
		err="no $XREDIRD or $XREDIRCTL: build first (make all)"
	fi
	# shellcheck disable=SC2119 # no arguments: the defaults
	if [ -z "$err" ] && [ "$SUITE_TOPO_UP" = 1 ] &&
		! e2e_topo_up >"$E2E_WORK/topology.log" 2>&1; then
		err="topology up failed: $(tail -n 1 "$E2E_WORK/topology.log")"
	fi
	if [ -z "$err" ] && declare -F suite_setup >/dev/null &&
		! suite_setup >"$E2E_WORK/setup.log" 2>&1; then
		err=$(cat "$E2E_WORK/.reason" 2>/dev/null || tail -n 1 "$E2E_WORK/setup.log")
		[ -n "$err" ] || err="suite_setup failed"
	fi
	if [ -n "$err" ]; then
		for name in "${names[@]}"; do e2e_fail "$name" "setup: $err"; done
		[ -s "$E2E_WORK/setup.log" ] && tail -n 20 "$E2E_WORK/setup.log" | sed 's/^/    | /'
		e2e_summary "$suite"
		exit 1
	fi

	for i in "${!funcs[@]}"; do
		name=${names[$i]}
		rm -f "$E2E_WORK/.reason"
		if declare -F suite_before_test >/dev/null &&
			! suite_before_test "$name" >>"$E2E_WORK/before.log" 2>&1; then
			e2e_fail "$name" "setup: $(cat "$E2E_WORK/.reason" 2>/dev/null)"
			continue
		fi
		e2e_test "$name" e2e_run "${funcs[$i]}"
		if declare -F suite_after_test >/dev/null; then
			suite_after_test "$name" >>"$E2E_WORK/after.log" 2>&1
		fi
	done
	echo "$suite: $(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")s"
	e2e_summary "$suite"
}

if [ "${1:-}" = --suite ]; then
	shift
	run_suite "$@"
	exit
fi

# ---- the command line: which suites, which tests ----

list=0
if [ "${1:-}" = -l ]; then
	list=1
	shift
fi
[ $# -gt 0 ] || {
	sed -n '7,14{s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}
suites=()
declare -A sels=()
bare=()
for arg in "$@"; do
	s=${arg%%:*}
	if [ -f "$E2E_DIR/$s.sh" ] && [ "$s" != lib ] && [ "$s" != run ]; then
		[ -n "${sels[$s]+x}" ] || { suites+=("$s"); sels[$s]=; }
		[ "$s" = "$arg" ] || sels[$s]="${sels[$s]} ${arg#*:}"
	elif [[ "$arg" == *:* ]]; then
		echo "no suite $E2E_DIR/$s.sh" >&2
		exit 2
	else
		bare+=("$arg")
	fi
done
if [ ${#bare[@]} -gt 0 ]; then
	[ ${#suites[@]} -gt 0 ] || { suites=(basic); sels[basic]=; }
	for s in "${suites[@]}"; do sels[$s]="${sels[$s]} ${bare[*]}"; done
fi

passed=0
failed=0
bad=()
out=$(mktemp /tmp/xredir-e2e-out.XXXXXX)
trap 'rm -f "$out"' EXIT
for s in "${suites[@]}"; do
	# shellcheck disable=SC2086 # the selectors: one word each
	set -- ${sels[$s]//,/ }
	if [ "$list" = 1 ]; then
		bash "$0" --suite "$s" 1 "$@" || exit
		continue
	fi
	[ ${#suites[@]} = 1 ] || echo "=== $s"
	start=$(date +%s)
	bash "$0" --suite "$s" 0 "$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	read -r p f < <(sed -n 's/^.*: \([0-9]*\) passed, \([0-9]*\) failed.*$/\1 \2/p' "$out" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ]; then
		bad+=("$s")
		[ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
	fi
	[ ${#suites[@]} = 1 ] ||
		echo "=== $s: ${p:-0} passed, ${f:-0} failed in $(($(date +%s) - start)) s"
done
[ "$list" = 1 ] && exit 0
[ ${#suites[@]} = 1 ] || echo "e2e: ${#suites[@]} suites${bad[*]:+, failed: ${bad[*]}}"
echo "$passed passed, $failed failed"
[ ${#bad[@]} = 0 ] && [ "$failed" = 0 ]
