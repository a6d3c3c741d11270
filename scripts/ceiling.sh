#!/usr/bin/env bash
# The ceiling of xredird (and of nginx) under the AF_XDP load generator
# (bench/loadgen): keep-alive ramp, repeated ceilings, the raw veth
# ceiling, multi-queue scaling and memory. Generator on CPU 0, server on
# CPU 1 unless a layout says otherwise. Writes OUT/ceiling.md and
# OUT/ceiling.json.
#
# usage: ceiling.sh [--reps N] [--duration SEC] [--quick] [--perf]
#                   [--skip LIST] [--out DIR]
#   --skip: comma-separated sections to leave out:
#           validate,ramp,repeat,raw,multiqueue,memory
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=3
DUR=4
WARM=1
OUT=bench-results
PERF=0
SKIP=
CONNS_GRID="16 64 256 1024"
DEPTH_GRID="1 4 16"
while [ $# -gt 0 ]; do
	case "$1" in
	--reps) REPS=$2; shift 2 ;;
	--duration) DUR=$2; shift 2 ;;
	--quick) REPS=1; DUR=2; CONNS_GRID="64 256"; DEPTH_GRID="1 4"; shift ;;
	--perf) PERF=1; shift ;;
	--skip) SKIP=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "ceiling: unknown option $1" >&2; exit 2 ;;
	esac
done
want() { [[ ",$SKIP," != *",$1,"* ]]; }

if [ "$(id -u)" != 0 ]; then
	echo "ceiling: needs root (network namespaces, XDP)" >&2
	exit 1
fi

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bench_topology xrceil
GEN_CPU=0
SERVER_CPU=1
WORK=$(mktemp -d /tmp/xredir-ceiling.XXXXXX)
BIN=$WORK/bin
RUNS=$WORK/runs.jsonl
mkdir -p "$OUT" "$BIN" "$WORK/nginx"
bgpid=
DONE=

log() { echo "ceiling: $*" >&2; }

cleanup() {
	trap - EXIT INT TERM
	# Keep what was measured, even when a later step failed.
	if [ -z "$DONE" ] && [ -s "$RUNS" ]; then
		cp "$RUNS" "$OUT/ceiling-runs.partial.jsonl"
		mkdir -p "$OUT/ceiling-debug"
		cp "$WORK"/*.log "$WORK"/*.env "$OUT/ceiling-debug/" 2>/dev/null || true
		log "incomplete: the runs so far are in $OUT/ceiling-runs.partial.jsonl," \
			"logs in $OUT/ceiling-debug"
	fi
	if [ -n "$bgpid" ] && kill -INT "$bgpid" 2>/dev/null; then
		wait "$bgpid" 2>/dev/null || true
	fi
	stop_server
	ip -n "$XR_SRV_NS" link set dev "$XR_SRV_IF" xdp off 2>/dev/null || true
	./scripts/topology.sh down
	rm -rf "$WORK"
}
on_exit cleanup

# Build: the project, then the generator; run private copies, so a
# rebuild of build/ by someone else cannot change binaries mid-run.
log "building"
make all build/loadgen/loadgen build/loadgen/loadgen.bpf.o >"$WORK/make.log" 2>&1 ||
	{ cat "$WORK/make.log" >&2; exit 1; }
cp build/xredird build/xredirctl build/loadgen/loadgen build/loadgen/loadgen.bpf.o "$BIN/"
cat >"$WORK/flowsize.c" <<'EOF'
#include <stdio.h>
#include "flow.h"
int main(void)
{
	printf("%zu\n", sizeof(struct flow));
	return 0;
}
EOF
# shellcheck disable=SC2046
gcc -std=gnu11 -D_GNU_SOURCE -Iuser -Iuser/core -Iuser/control -Iuser/io -Ibpf -Ibuild $(pkg-config --cflags libxdp libbpf) \
	"$WORK/flowsize.c" -o "$WORK/flowsize" 2>/dev/null || true
FLOW_SIZE=$("$WORK/flowsize" 2>/dev/null || echo 0)

# start_xredird CPULIST QUEUES. The sockets of the previous instance go
# away asynchronously (a bind can fail with EBUSY): try again.
start_xredird() {
	local try
	for try in 1 2 3; do
		ip netns exec "$XR_SRV_NS" taskset -c "$1" "$BIN/xredird" \
			--iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" --match-ip "$XR_MATCH_IP4" \
			--queues "$2" --log-level warn 2>>"$WORK/xredird.log" &
		pid=$!
		SERVER=xredird
		wait_ready && return 0
		log "xredird did not come up (try $try): $(tail -n2 "$WORK/xredird.log" | tr '\n' ' ')"
		stop_server
		sleep 2
	done
	exit 1
}

# start_nginx [CONF]
start_nginx() {
	ip netns exec "$XR_SRV_NS" taskset -c "$SERVER_CPU" nginx -p "$WORK/nginx" \
		-c "${1:-$WORK/nginx/nginx.conf}" 2>>"$WORK/nginx.log" &
	pid=$!
	SERVER=nginx
	wait_ready || { log "nginx did not come up: $(tail -n2 "$WORK/nginx.log")"; exit 1; }
}

srv_mac() {
	ip -n "$XR_SRV_NS" -j link show "$XR_SRV_IF" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'
}

# lg KEY=VALUE... -- LOADGEN-ARGS...: one measured generator run.
lg() {
	local labels=()
	while [ "$1" != -- ]; do labels+=("$1"); shift; done
	shift
	local stats=()
	[ "$SERVER" = xredird ] &&
		stats=("stats_cmd=$BIN/xredirctl --bpffs $XR_BPFFS --iface $XR_SRV_IF stats --json")
	python3 bench/loadgen/ceiling.py run "$RUNS" "${labels[@]}" \
		"server=$SERVER" "server_pid=$pid" "${stats[@]}" -- \
		ip netns exec "$XR_CLI_NS" "$BIN/loadgen" --iface "$XR_CLI_IF" \
		--dst "$XR_SRV_IP4" --mac "$MAC" --json "$@" || true
}

# best SERVER [DEPTH]: "conns depth" of the fastest error-free ramp run.
best() { python3 bench/loadgen/ceiling.py best "$RUNS" "$1" "${2:-}"; }

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$pid/status"; }
flows_open() {
	"$BIN/xredirctl" --bpffs "$XR_BPFFS" --iface "$XR_SRV_IF" stats --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["flows_open"])'
}

{
	echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "ncpu=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "mem=$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$WORK/machine.env"

nginx_conf "$WORK/nginx"
sed -e "s|access_log off;|access_log $WORK/nginx/access.log;|" \
	"$WORK/nginx/nginx.conf" >"$WORK/nginx/nginx-logged.conf"
grep -q "access_log $WORK" "$WORK/nginx/nginx-logged.conf" ||
	log "warning: could not turn nginx's access log on for validation"

log "topology (1 queue)"
./scripts/topology.sh up
MAC=$(srv_mac)
COMMON=(--cpus "$GEN_CPU" --duration "$DUR" --warmup "$WARM")

# Validation: requests counted by the generator and by the server.
if want validate; then
	log "validation"
	start_xredird "$SERVER_CPU" 1
	# Compared with the servers' own counts: never retried.
	RETRY_NOISY=0 lg phase=validate mode=keepalive conns=64 depth=2 -- \
		--conns 64 --depth 2 --cpus "$GEN_CPU" --duration 2 --warmup 0.5
	RETRY_NOISY=0 lg phase=validate mode=close conns=64 depth=1 -- \
		--close --conns 64 --cpus "$GEN_CPU" --duration 2 --warmup 0.5
	stop_server
	start_nginx "$WORK/nginx/nginx-logged.conf"
	: >"$WORK/nginx/access.log" # not wait_ready's request
	RETRY_NOISY=0 lg phase=validate mode=keepalive conns=64 depth=2 -- \
		--conns 64 --depth 2 --cpus "$GEN_CPU" --duration 2 --warmup 0.5
	stop_server
	lines=$(wc -l <"$WORK/nginx/access.log" 2>/dev/null || echo 0)
	python3 bench/loadgen/ceiling.py nginx-lines "$RUNS" "$lines"
fi

# The keep-alive ramp, each server on its own.
if want ramp; then
	for server in xredird nginx; do
		log "ramp: $server"
		if [ "$server" = xredird ]; then start_xredird "$SERVER_CPU" 1; else start_nginx; fi
		for d in $DEPTH_GRID; do
			for c in $CONNS_GRID; do
				lg phase=ramp mode=keepalive "conns=$c" "depth=$d" -- \
					--conns "$c" --depth "$d" "${COMMON[@]}"
			done
		done
		stop_server
	done
fi

# The best configurations again, interleaved (A B B A ...).
if want repeat; then
	read -r XC XD <<<"$(best xredird)"
	read -r X1C _ <<<"$(best xredird 1)"
	read -r NC ND <<<"$(best nginx)"
	read -r N1C _ <<<"$(best nginx 1)"
	log "repeats: xredird $XC/$XD and $X1C/1, nginx $NC/$ND and $N1C/1"
	for rep in $(seq "$REPS"); do
		if [ $((rep % 2)) = 1 ]; then order="xredird nginx"; else order="nginx xredird"; fi
		for server in $order; do
			if [ "$server" = xredird ]; then
				start_xredird "$SERVER_CPU" 1
				bc=$XC bd=$XD b1=$X1C
			else
				start_nginx
				bc=$NC bd=$ND b1=$N1C
			fi
			lg phase=repeat mode=keepalive config=best "conns=$bc" "depth=$bd" "rep=$rep" -- \
				--conns "$bc" --depth "$bd" "${COMMON[@]}"
			lg phase=repeat mode=keepalive config=depth1 "conns=$b1" depth=1 "rep=$rep" -- \
				--conns "$b1" --depth 1 "${COMMON[@]}"
			# Fresh ports per connection, two source addresses: the
			# server's TIME-WAIT (nginx) is not met again soon.
			lg phase=repeat mode=close config=best conns=256 depth=1 "rep=$rep" -- \
				--close --conns 256 --src-ips "$XR_CLI_IP4,$XR_MATCH_IP4" "${COMMON[@]}"
			stop_server
		done
	done
	if [ "$PERF" = 1 ]; then
		for prof in xredird xredird-depth1 nginx; do
			log "perf profile: $prof"
			case $prof in
			xredird) start_xredird "$SERVER_CPU" 1; c=$XC d=$XD ;;
			xredird-depth1) start_xredird "$SERVER_CPU" 1; c=$X1C d=1 ;;
			nginx) start_nginx; c=$NC d=$ND ;;
			esac
			server=$prof
			lg phase=profile mode=keepalive "conns=$c" "depth=$d" \
				"perf_out=$WORK/perf-$server.data" "perf_delay=$((WARM + 1))" -- \
				--conns "$c" --depth "$d" --cpus "$GEN_CPU" --duration 4 --warmup "$WARM"
			stop_server
			{
				echo "# samples by CPU, command and object"
				perf report -i "$WORK/perf-$server.data" --no-children \
					--sort cpu,comm,dso --stdio -g none 2>&1 |
					grep -v '^#' | grep '%' | head -14 || true
				for cpu in 0 1; do
					echo "# CPU $cpu: top symbols"
					perf report -i "$WORK/perf-$server.data" --no-children \
						--cpu "$cpu" --sort comm,sym --stdio -g none 2>&1 |
						grep -v '^#' | grep '%' | head -16 || true
				done
			} >"$WORK/perf-$server.txt" || true
		done
	fi
fi

# Raw veth ceiling: 64-byte frames into an XDP_DROP program.
if want raw; then
	log "raw veth ceiling"
	stop_server
	SERVER=none
	srvx "$BIN/loadgen" --attach-drop "$XR_SRV_IF"
	: >"$WORK/raw_drops.txt"
	for rep in $(seq "$REPS"); do
		d0=$(srvx "$BIN/loadgen" --drop-count "$XR_SRV_IF")
		# Paired with drop counts read around it: never retried.
		RETRY_NOISY=0 lg phase=raw mode=raw conns=0 depth=0 "rep=$rep" -- --raw "${COMMON[@]}"
		d1=$(srvx "$BIN/loadgen" --drop-count "$XR_SRV_IF")
		echo "$d0 $d1" >>"$WORK/raw_drops.txt"
	done
	ip -n "$XR_SRV_NS" link set dev "$XR_SRV_IF" xdp off
fi

# Memory: RSS idle, with 10,000 open connections, under a SYN flood.
if want memory; then
	log "memory"
	./scripts/topology.sh up
	MAC=$(srv_mac) # a new veth, a new address
	start_xredird "$SERVER_CPU" 1
	sleep 1
	echo "rss_idle_kb=$(rss_kb)" >"$WORK/memory.env"
	# hold MODE-ARGS...: background generator holding connections.
	hold() {
		rm -f "$WORK/ready"
		ip netns exec "$XR_CLI_NS" "$BIN/loadgen" --iface "$XR_CLI_IF" \
			--dst "$XR_SRV_IP4" --mac "$MAC" --cpus "$GEN_CPU" --json \
			--duration 120 --warmup 0 --ready-file "$WORK/ready" "$@" \
			>"$WORK/hold.json" 2>>"$WORK/hold.log" &
		bgpid=$!
		for _ in $(seq 300); do [ -f "$WORK/ready" ] && break; sleep 0.1; done
		[ -f "$WORK/ready" ] || log "warning: connections not all held"
	}
	unhold() {
		kill -INT "$bgpid"
		wait "$bgpid" || true
		bgpid=
		sleep 1
	}
	hold --hold --hold-requests 0 --conns 10000
	sleep 1
	{
		echo "rss_10k_handshake_kb=$(rss_kb)"
		echo "flows_open_10k_handshake=$(flows_open)"
	} >>"$WORK/memory.env"
	unhold
	echo "rss_after_close_kb=$(rss_kb)" >>"$WORK/memory.env"
	echo "flows_open_after_close=$(flows_open)" >>"$WORK/memory.env"
	hold --hold --hold-requests 1 --conns 10000
	sleep 1
	{
		echo "rss_10k_request_kb=$(rss_kb)"
		echo "flows_open_10k_request=$(flows_open)"
	} >>"$WORK/memory.env"
	unhold
	echo "hold_result=$(tr -d '\n' <"$WORK/hold.json")" >>"$WORK/memory.env"
	echo "flows_open_after_close2=$(flows_open)" >>"$WORK/memory.env"
	{
		echo "rss_after_close2_kb=$(rss_kb)"
		echo "synflood_rss_before_kb=$(rss_kb)"
	} >>"$WORK/memory.env"
	ip netns exec "$XR_CLI_NS" "$BIN/loadgen" --iface "$XR_CLI_IF" \
		--dst "$XR_SRV_IP4" --mac "$MAC" --cpus "$GEN_CPU" --json \
		--syn-flood --duration 5 --warmup 1 >"$WORK/synflood.json" 2>>"$WORK/hold.log" &
	bgpid=$!
	sleep 4
	echo "synflood_flows_open=$(flows_open)" >>"$WORK/memory.env"
	echo "synflood_rss_during_kb=$(rss_kb)" >>"$WORK/memory.env"
	wait "$bgpid" || true
	bgpid=
	sleep 0.5
	{
		echo "synflood_rss_after_kb=$(rss_kb)"
		echo "vmhwm_kb=$(hwm_kb)"
		echo "synflood_result=$(tr -d '\n' <"$WORK/synflood.json")"
	} >>"$WORK/memory.env"
	stop_server
fi

# Multi-queue: a 2-queue veth, one generator thread and socket per queue.
if want multiqueue; then
	log "multi-queue"
	./scripts/topology.sh up --queues 2
	MAC=$(srv_mac)
	# pin_workers: xredird's worker threads (created first, queue order)
	# to CPU 0 and CPU 1.
	pin_workers() {
		local tids
		mapfile -t tids < <(cd "/proc/$pid/task" && printf '%s\n' * | sort -n)
		taskset -a -pc 0,1 "$pid" >/dev/null
		taskset -pc 0 "${tids[1]}" >/dev/null
		taskset -pc 1 "${tids[2]}" >/dev/null
	}
	for rep in $(seq "$REPS"); do
		for depth in 1 4; do
			start_xredird "$SERVER_CPU" 1
			lg phase=multiqueue layout=1q-split queues=1 conns=256 "depth=$depth" "rep=$rep" -- \
				--queues 1 --conns 256 --depth "$depth" --cpus 0 --duration "$DUR" --warmup "$WARM"
			stop_server
			start_xredird "$SERVER_CPU" 2
			lg phase=multiqueue layout=2q-split queues=2 conns=512 "depth=$depth" "rep=$rep" -- \
				--queues 2 --conns 512 --depth "$depth" --cpus 0,0 --duration "$DUR" --warmup "$WARM"
			stop_server
			start_xredird 0 1
			lg phase=multiqueue layout=1q-core queues=1 conns=256 "depth=$depth" "rep=$rep" -- \
				--queues 1 --conns 256 --depth "$depth" --cpus 0 --idle yield \
				--duration "$DUR" --warmup "$WARM"
			stop_server
			start_xredird 0,1 2
			pin_workers
			lg phase=multiqueue layout=2q-cores queues=2 conns=512 "depth=$depth" "rep=$rep" -- \
				--queues 2 --conns 512 --depth "$depth" --cpus 0,1 --idle yield \
				--duration "$DUR" --warmup "$WARM"
			stop_server
		done
	done
fi

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/machine.env"

# The extra figures, then the report.
python3 bench/loadgen/ceiling.py extra "$WORK" "$RUNS" "$FLOW_SIZE" "$REPS" "$DUR" \
	"$WARM" >"$WORK/extra.json"
python3 bench/loadgen/ceiling.py report "$RUNS" "$WORK/extra.json" "$OUT" >/dev/null
cp "$RUNS" "$OUT/ceiling-runs.jsonl"
DONE=1
log "wrote $OUT/ceiling.md and $OUT/ceiling.json"
cat "$OUT/ceiling.md"
