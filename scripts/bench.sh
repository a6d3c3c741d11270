#!/usr/bin/env bash
# make bench: wrk against xredird and against nginx doing the same
# redirect (geo + return 302), on the same veth topology. The server is
# pinned to CPU 1 and wrk to CPU 0; repetitions alternate the servers
# (A B B A ...); the report gives medians, ratios and CPU per request.
#
# xredird runs three ways: as it starts by default (while traffic flows
# its worker naps --coalesce-us 20 between passes, else it sleeps until
# woken), with --coalesce-us 0 (woken by the kernel for every packet), and
# with --busy-poll USEC (it keeps polling for USEC after traffic, a core
# spent spinning); --busy-poll 0 leaves that one out.
#
# Then, at one fixed rate both servers sustain (hey, rate-limited), the
# whole-machine CPU each needs per request (xredird with its defaults and
# with --coalesce-us 0).
#
# usage: bench.sh [--reps N] [--duration SEC] [--connections N] [--rate RPS]
#                 [--busy-poll USEC] [--out DIR]
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=5
DURATION=10
CONNS=50
RATE=10000
BUSY_POLL=50
OUT=bench-results
while [ $# -gt 0 ]; do
	case "$1" in
	--reps) REPS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--connections) CONNS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--busy-poll) BUSY_POLL=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
done

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bench_topology xrbench
SERVER_CPU=1
CLIENT_CPU=0
WORK=$(mktemp -d /tmp/xredir-bench.XXXXXX)
mkdir -p "$OUT" "$WORK/nginx"

cleanup() {
	trap - EXIT INT TERM
	stop_server
	./scripts/topology.sh down
	rm -rf "$WORK"
}
on_exit cleanup

start_server() {
	case "$1" in
	# Not through a shell function: $! must be the server itself
	# (ip netns exec and taskset exec it in place).
	xredird*)
		local extra=()
		case "$1" in
		xredird-busy-poll) extra=(--busy-poll "$BUSY_POLL") ;;
		xredird-wake) extra=(--coalesce-us 0) ;;
		esac
		ip netns exec "$XR_SRV_NS" taskset -c $SERVER_CPU \
			build/xredird --iface "$XR_SRV_IF" \
			--bpffs "$XR_BPFFS" --match-ip "$XR_MATCH_IP4" \
			--log-level warn "${extra[@]}" 2>>"$WORK/xredird.log" &
		;;
	nginx)
		ip netns exec "$XR_SRV_NS" taskset -c $SERVER_CPU \
			nginx -p "$WORK/nginx" \
			-c "$WORK/nginx/nginx.conf" 2>>"$WORK/nginx.log" &
		;;
	esac
	pid=$!
	wait_ready || { echo "bench: $1 did not come up" >&2; exit 1; }
}

# user+nice+system+irq+softirq jiffies over all CPUs.
cpu_jiffies() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# The server process's own user+system ticks (its threads included).
proc_ticks() {
	awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

# One wrk run; appends a JSON line to $WORK/runs.jsonl.
run_one() {
	local server=$1 scenario=$2 rep=$3 hdr=() out c0 c1 p0 p1
	[ "$scenario" = close ] && hdr=(-H "Connection: close")
	start_server "$server"
	c0=$(cpu_jiffies)
	p0=$(proc_ticks)
	out=$(clix taskset -c $CLIENT_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" \
		--latency "${hdr[@]}" "http://$XR_SRV_IP4:10000/v2/pause/manifests/3.9")
	c1=$(cpu_jiffies)
	p1=$(proc_ticks)
	stop_server
	python3 scripts/bench_report.py parse "$server" "$scenario" "$rep" \
		"$((c1 - c0))" "$(getconf CLK_TCK)" "$((p1 - p0))" <<<"$out" \
		>>"$WORK/runs.jsonl"
	tail -n1 "$WORK/runs.jsonl"
}

# One fixed-rate run (hey: 50 workers, RATE/50 requests/s each).
run_rate() {
	local server=$1 scenario=$2 rep=$3 ka=() out c0 c1 p0 p1
	[ "$scenario" = close ] && ka=(-disable-keepalive)
	start_server "$server"
	c0=$(cpu_jiffies)
	p0=$(proc_ticks)
	out=$(clix taskset -c $CLIENT_CPU hey -disable-redirects -c 50 \
		-q $((RATE / 50)) -z "${DURATION}s" "${ka[@]}" \
		"http://$XR_SRV_IP4:10000/v2/pause/manifests/3.9")
	c1=$(cpu_jiffies)
	p1=$(proc_ticks)
	stop_server
	python3 scripts/bench_report.py parse-hey "$server" "$scenario" "$rep" \
		"$((c1 - c0))" "$(getconf CLK_TCK)" "$((p1 - p0))" "$RATE" \
		<<<"$out" >>"$WORK/rate.jsonl"
	tail -n1 "$WORK/rate.jsonl"
}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, XDP)" >&2
	exit 1
fi
nginx_conf "$WORK/nginx"
./scripts/topology.sh up

servers="xredird nginx xredird-wake"
[ "$BUSY_POLL" = 0 ] || servers="$servers xredird-busy-poll"
for rep in $(seq "$REPS"); do
	for scenario in keepalive close; do
		# Alternate the order, so drift hits every server.
		order=$servers
		[ $((rep % 2)) = 1 ] || order=$(echo "$servers" | tr ' ' '\n' | tac | paste -sd' ')
		for server in $order; do
			run_one "$server" "$scenario" "$rep"
		done
	done
done

for rep in $(seq $(((REPS + 1) / 2))); do
	for scenario in keepalive close; do
		if [ $((rep % 2)) = 1 ]; then order="xredird nginx xredird-wake"; else order="xredird-wake nginx xredird"; fi
		for server in $order; do
			run_rate "$server" "$scenario" "$rep"
		done
	done
done

python3 scripts/bench_report.py report "$WORK/runs.jsonl" "$OUT" \
	"reps=$REPS duration=${DURATION}s connections=$CONNS server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU busy_poll_us=$BUSY_POLL" \
	"$WORK/rate.jsonl"
