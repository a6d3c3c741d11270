#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Tests pcapcheck on the captures gen_pcaps.py writes: each clean one must
# pass, each bad one must fail with its own violation and no other. With
# --live (root), also checks a real capture of the kernel answering on the
# service port in a topology of its own: the kernel check must flag it.
#
# usage: tests/pcap/test_pcapcheck.sh [--live]
# Environment: BUILD (default build), XR_TOPO for --live (default xrpc).
set -euo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PCAPCHECK=$BUILD/tests/pcapcheck
LIVE=0
case "${1:-}" in
--live) LIVE=1 ;;
"") ;;
*) echo "usage: $0 [--live]" >&2; exit 2 ;;
esac

CHECKS="csum kernel seq retrans-content retrans ack after-fin rst synack"

make -s "$PCAPCHECK" BUILD="$BUILD"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 tests/pcap/gen_pcaps.py "$WORK"

passed=0
failed=0

pass() {
	passed=$((passed + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	failed=$((failed + 1))
	printf 'FAIL %s: %s\n' "$1" "$2"
	if [ -n "${3:-}" ]; then
		sed 's/^/    | /' "$3" | tail -n 30
	fi
}

# The value of key=N in the summary line of an output file.
summary_value() {
	sed -n 's/^summary: //p' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Compares the summary's violation counts with a spec: "-" for none, else
# space-separated CHECK (at least one) or CHECK=N; unnamed checks must be 0.
counts_match() {
	local out=$1 spec=$2 c n want
	for c in $CHECKS; do
		n=$(summary_value "$c" "$out")
		[ -n "$n" ] || return 1
		want=0
		case " $spec " in
		*" $c "*) want=+ ;;
		*" $c="*) want=$(echo " $spec " | sed -n "s/.* $c=\([0-9]*\) .*/\1/p") ;;
		esac
		if [ "$want" = + ]; then
			[ "$n" -gt 0 ] || return 1
		elif [ "$n" != "$want" ]; then
			return 1
		fi
	done
}

# expect NAME EXIT SPEC [ARGS...]: runs pcapcheck ARGS NAME.pcap.
expect() {
	local name=$1 want_rc=$2 spec=$3 rc=0 label
	shift 3
	label="$name${*:+ ($*)}"
	"$PCAPCHECK" "$@" "$WORK/$name.pcap" >"$WORK/out" 2>&1 || rc=$?
	if [ "$rc" != "$want_rc" ]; then
		fail "$label" "exit $rc, expected $want_rc" "$WORK/out"
	elif ! counts_match "$WORK/out" "$spec"; then
		fail "$label" "violations differ from '$spec'" "$WORK/out"
	else
		pass "$label"
	fi
}

# expect_rc LABEL EXIT ARGS...: usage and read errors.
expect_rc() {
	local label=$1 want_rc=$2 rc=0
	shift 2
	"$PCAPCHECK" "$@" >"$WORK/out" 2>&1 || rc=$?
	if [ "$rc" = "$want_rc" ]; then
		pass "$label"
	else
		fail "$label" "exit $rc, expected $want_rc" "$WORK/out"
	fi
}

# expect_grep LABEL PATTERN COUNT ARGS...: lines of output matching.
expect_grep() {
	local label=$1 pattern=$2 want=$3 n
	shift 3
	n=$("$PCAPCHECK" "$@" 2>&1 | grep -c -- "$pattern" || true)
	if [ "$n" = "$want" ]; then
		pass "$label"
	else
		fail "$label" "$n lines match '$pattern', expected $want"
	fi
}

# expect_value LABEL KEY WANT ARGS...: a summary value.
expect_value() {
	local label=$1 key=$2 want=$3 n
	shift 3
	"$PCAPCHECK" "$@" >"$WORK/out" 2>&1 || true
	n=$(summary_value "$key" "$WORK/out")
	if [ "$n" = "$want" ]; then
		pass "$label"
	else
		fail "$label" "$key=$n, expected $want" "$WORK/out"
	fi
}

# expect_json LABEL PYTHON-EXPR ARGS...: the JSON output, as d, satisfies it.
expect_json() {
	local label=$1 expr=$2
	shift 2
	"$PCAPCHECK" --json "$@" >"$WORK/out.json" 2>/dev/null || true
	if python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if ($expr) else 1)" "$WORK/out.json" 2>"$WORK/out"; then
		pass "$label"
	else
		fail "$label" "JSON does not satisfy: $expr" "$WORK/out.json"
	fi
}

offline_cases() {
	# Captures that must pass.
	expect clean 0 -
	expect clean-sll 0 -
	expect clean-sll2 0 -
	expect clean-vlan 0 -
	expect clean-interleaved 0 -
	expect truncated 0 -
	expect odd 0 -
	expect reuse 0 -
	expect rst-justified 0 - --allow-rst 1
	expect rst-midstream 0 - --allow-rst 1
	expect retrans-many 0 - --max-retrans 9
	expect kernel-ttl 0 - --kernel-ttl 98
	expect new-isn 0 - --max-retrans 0
	expect_value "a new ISN before data counted" isn_changes 1 \
		"$WORK/new-isn.pcap"
	# One violation each.
	expect bad-ip-csum 1 "csum=1"
	expect bad-tcp-csum 1 "csum=1"
	expect kernel-ttl 1 "kernel=1"
	expect kernel-hlim-sll2 1 "kernel=1"
	expect gap 1 "seq=1"
	expect gap-v6-sll 1 "seq=1"
	expect retrans-changed 1 "retrans-content=1"
	expect retrans-many 1 "retrans=1"
	expect ack-beyond 1 "ack"
	expect ack-backwards 1 "ack=1"
	expect after-fin 1 "after-fin=1"
	expect fin-moved 1 "after-fin=1"
	expect rst-unjustified 1 "rst=1" --allow-rst 1
	expect rst-unjustified 1 "rst=2"
	expect rst-justified 1 "rst=1"
	expect synack-bad 1 "synack=1"
	expect new-isn-after-data 1 "synack=1"
	expect many-csum 1 "csum=25"
	# A different port sees nothing.
	expect gap 0 - --port 8080
}

output_cases() {
	expect_grep "20 violations printed by default" '^VIOLATION csum' 20 \
		"$WORK/many-csum.pcap"
	expect_grep "the rest counted" '^\.\.\. 5 more violations' 1 \
		"$WORK/many-csum.pcap"
	expect_grep "-v prints all" '^VIOLATION csum' 25 -v \
		"$WORK/many-csum.pcap"
	expect_grep "violation names the packet" \
		'^VIOLATION seq packet 6 10.77.0.1:10000 > 10.77.0.2:40000: ' 1 \
		"$WORK/gap.pcap"
	expect_grep "flow cap reported" '^note: flow table full (65536' 1 \
		"$WORK/many-flows.pcap"
	expect many-flows 0 -
	expect evict 1 "seq=1" --max-flows 16
	expect_value "finished flows make room" evicted 185 --max-flows 16 \
		"$WORK/evict.pcap"
	expect_value "no flow left out" untracked 0 --max-flows 16 \
		"$WORK/evict.pcap"
	expect open-flows 0 - --max-flows 16
	expect_value "open flows are not evicted" untracked 16 --max-flows 16 \
		"$WORK/open-flows.pcap"
	expect_grep "--max-flows in the note" '^note: flow table full (16 open' 1 \
		--max-flows 16 "$WORK/open-flows.pcap"
	expect_json "json clean" \
		'd["violations"] == 0 and d["flows"] == 3 and d["details"] == []' \
		"$WORK/clean.pcap"
	expect_json "json violation" \
		'd["by_check"]["seq"] == 1 and d["details"][0]["check"] == "seq" and d["details"][0]["packet"] == 6' \
		"$WORK/gap.pcap"
	expect_json "json capped details" \
		'len(d["details"]) == 20 and d["details_omitted"] == 5' \
		"$WORK/many-csum.pcap"
	expect_json "json -v details" \
		'len(d["details"]) == 25 and d["details_omitted"] == 0' -v \
		"$WORK/many-csum.pcap"
	expect_json "json flow cap" \
		'd["flow_table_full"] and d["untracked"] == 64' \
		"$WORK/many-flows.pcap"
}

error_cases() {
	local clean=$WORK/clean.pcap
	head -c 2000 "$clean" >"$WORK/cut.pcap"
	printf 'not a capture at all\n' >"$WORK/junk.pcap"
	python3 -c 'import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 105))' \
		"$WORK/wifi.pcap"
	expect_rc "usage: no file" 2
	expect_rc "usage: two files" 2 "$clean" "$clean"
	expect_rc "usage: unknown option" 2 --bogus "$clean"
	expect_rc "usage: port 0" 2 --port 0 "$clean"
	expect_rc "usage: port 65536" 2 --port 65536 "$clean"
	expect_rc "usage: port abc" 2 --port abc "$clean"
	expect_rc "usage: ttl 256" 2 --kernel-ttl 256 "$clean"
	expect_rc "usage: negative retrans" 2 --max-retrans -1 "$clean"
	expect_rc "usage: missing value" 2 "$clean" --allow-rst
	expect_rc "usage: max-flows 0" 2 --max-flows 0 "$clean"
	expect_rc "usage: --help" 0 --help
	expect_rc "read: missing file" 2 "$WORK/none.pcap"
	expect_rc "read: not a capture" 2 "$WORK/junk.pcap"
	expect_rc "read: cut in a record" 2 "$WORK/cut.pcap"
	expect_rc "read: unsupported link type" 2 "$WORK/wifi.pcap"
}

# Every generated capture must be used by a case above.
coverage_case() {
	local f name missing=
	for f in "$WORK"/*.pcap; do
		name=$(basename "$f" .pcap)
		case "$name" in cut | junk | wifi) continue ;; esac
		grep -qF -e "	expect $name " -e "\$WORK/$name.pcap" "$0" ||
			missing="$missing $name"
	done
	if [ -z "$missing" ]; then
		pass "every generated capture is checked"
	else
		fail "every generated capture is checked" "unused:$missing"
	fi
}

# ---- --live: a real capture of the kernel answering on the port ----

LIVE_PIDS=()

live_cleanup() {
	local pid
	for pid in "${LIVE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${LIVE_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	LIVE_PIDS=()
	./scripts/topology.sh down
}

# Starts tcpdump in the client namespace; waits until it listens.
live_tcpdump() {
	local iface=$1 file=$2
	# 64 KiB GSO segments cross the veth: a big buffer keeps them all.
	ip netns exec "$CLI_NS" tcpdump -i "$iface" --immediate-mode -U \
		-B 32768 -w "$file" "tcp port 10000" >"$file.log" 2>&1 &
	LIVE_PIDS+=($!)
	for _ in $(seq 50); do
		grep -q listening "$file.log" && return 0
		sleep 0.1
	done
	echo "tcpdump did not start:" >&2
	cat "$file.log" >&2
	return 1
}

live_traffic() {
	local url ok=0
	# A kernel HTTP server on the service port, v4 and v6.
	mkdir -p "$WORK/www"
	head -c 300000 /dev/zero | tr '\0' x >"$WORK/www/big"
	ip netns exec "$SRV_NS" python3 -m http.server 10000 \
		--bind 10.77.0.1 --directory "$WORK/www" >/dev/null 2>&1 &
	LIVE_PIDS+=($!)
	ip netns exec "$SRV_NS" python3 -m http.server 10000 \
		--bind fd77::1 --directory "$WORK/www" >/dev/null 2>&1 &
	LIVE_PIDS+=($!)
	for _ in $(seq 100); do
		if ip netns exec "$CLI_NS" curl -sf -o /dev/null \
			http://10.77.0.1:10000/ &&
			ip netns exec "$CLI_NS" curl -sfg -o /dev/null \
				'http://[fd77::1]:10000/'; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ "$ok" = 1 ] || { echo "http.server did not start" >&2; return 1; }
	# Called in a condition, where set -e does not apply.
	live_tcpdump "$CLI_IF" "$WORK/live.pcap" || return 1
	live_tcpdump any "$WORK/live-any.pcap" || return 1
	for url in http://10.77.0.1:10000/ http://10.77.0.1:10000/big \
		'http://[fd77::1]:10000/' 'http://[fd77::1]:10000/big'; do
		ip netns exec "$CLI_NS" curl -sfg -m 10 -o /dev/null "$url" ||
			return 1
	done
	ip netns exec "$CLI_NS" curl -sf -m 10 -o /dev/null \
		--interface 10.77.0.3 http://10.77.0.1:10000/ || return 1
	ip netns exec "$CLI_NS" curl -sfg -m 10 -o /dev/null \
		--interface fd77::3 'http://[fd77::1]:10000/' || return 1
	sleep 0.3
	kill -INT "${LIVE_PIDS[@]:2}"
	wait "${LIVE_PIDS[@]:2}" 2>/dev/null || true
	LIVE_PIDS=("${LIVE_PIDS[@]:0:2}")
}

# Checks one real capture: every server packet is the kernel's; checksums
# agree with tcpdump's own verdicts; the TCP checks see nothing wrong.
live_check() {
	local label=$1 file=$2 rc=0 server kernel bad n c
	# A packet the capture lost looks like a gap in the server's bytes.
	n=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$file.log")
	if [ "$n" != 0 ]; then
		fail "$label" "tcpdump dropped ${n:-an unknown number of} packets" "$file.log"
		return
	fi
	"$PCAPCHECK" "$file" >"$WORK/out" 2>&1 || rc=$?
	server=$(summary_value server "$WORK/out")
	kernel=$(summary_value kernel "$WORK/out")
	bad=$(tcpdump -nn -v -r "$file" 2>/dev/null | grep -c incorrect || true)
	n=$(summary_value csum "$WORK/out")
	if [ "$rc" != 1 ] || [ "${server:-0}" -lt 10 ] ||
		[ "$kernel" != "$server" ]; then
		fail "$label: kernel flagged" "exit $rc, server=$server kernel=$kernel" "$WORK/out"
	else
		pass "$label: kernel flagged ($kernel of $server server packets)"
	fi
	if [ "$n" = "$bad" ]; then
		pass "$label: csum agrees with tcpdump ($n bad)"
	else
		fail "$label: csum agrees with tcpdump" "csum=$n, tcpdump says $bad" "$WORK/out"
	fi
	for c in seq retrans-content retrans ack after-fin rst synack; do
		n=$(summary_value "$c" "$WORK/out")
		[ "$n" = 0 ] || { fail "$label: no $c" "$c=$n" "$WORK/out"; return; }
	done
	pass "$label: no seq/retrans/ack/fin/rst/synack violation"
}

live_case() {
	local env
	if [ "$(id -u)" != 0 ]; then
		fail "live" "needs root"
		return
	fi
	export XR_TOPO=${XR_TOPO:-xrpc}
	env=$(./scripts/topology.sh env)
	CLI_NS=$(echo "$env" | sed -n 's/^XR_CLI_NS=//p')
	CLI_IF=$(echo "$env" | sed -n 's/^XR_CLI_IF=//p')
	SRV_NS=$(echo "$env" | sed -n 's/^XR_SRV_NS=//p')
	trap 'live_cleanup; rm -rf "$WORK"' EXIT
	./scripts/topology.sh up
	if ! live_traffic; then
		fail "live" "could not make traffic"
		return
	fi
	live_cleanup
	trap 'rm -rf "$WORK"' EXIT
	live_check "live $CLI_IF" "$WORK/live.pcap"
	live_check "live any" "$WORK/live-any.pcap"
	expect_json "live: --kernel-ttl 64 sees no kernel packet" \
		'd["by_check"]["kernel"] == 0 and d["server_packets"] > 0' \
		--kernel-ttl 64 "$WORK/live.pcap"
}

offline_cases
output_cases
error_cases
coverage_case
[ "$LIVE" = 0 ] || live_case

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
