#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Seeded loss, duplication and reordering on xredir's test topology, each
# direction separately (this machine type has no sch_netem).
#
# usage: impair.sh on  [--netns NS] [--iface IF] [--port N] [--proto PROTO]
#                      [--seed N] [--dir c2s|s2c|both] [--loss P] [--dup P]
#                      [--reorder P] [--delay-ms D] [--dir ...] ...
#        impair.sh off [--netns NS] [--iface IF]
#        impair.sh stats [--netns NS] [--iface IF]   counters, JSON
#        impair.sh build                              build only
#
# The namespace and veth default to the client side of the topology named
# by $XR_TOPO (scripts/topology.sh env). Options after a --dir apply to
# that direction (c2s: client to server, s2c: server to client; both is the
# default). P is a percentage (decimals allowed) of the eligible frames:
# every IPv4/IPv6 frame except neighbour discovery; with --proto (icmp,
# tcp, udp, icmp6, any or a number) only that IP protocol; with --port N
# only TCP segments from or to port N. One draw per frame decides: lost
# (P loss), sent twice (P dup), held back --delay-ms ms (default 20) so that
# later frames overtake it (P reorder), or passed. --seed (default 1) seeds
# the generator of each direction: the same seed and the same frames give
# the same decisions. `on` replaces any impairment already on the interface.
#
# How: tests/robust/impair.bpf.c on the client veth's tc clsact hooks
# (egress: c2s, ingress: s2c) and impaird (tests/robust/impaird.c), which
# loads it, seeds it and runs the delay line through a tap device. Built
# by make (build/robust/).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) OUT=$BUILD/robust ;; *) OUT=$ROOT/$BUILD/robust ;; esac
export BUILD
STATE_ROOT=${IMPAIR_STATE:-/run/xredir-impair}

die() { echo "impair: $*" >&2; exit 1; }

build() { make -s -C "$ROOT" BUILD="$BUILD" "$OUT/impair.bpf.o" "$OUT/impaird"; }

NS=
IFACE=
topo_defaults() {
	local env
	if [ -z "$NS" ] || [ -z "$IFACE" ]; then
		env=$(XR_TOPO=${XR_TOPO:-xr} "$ROOT/scripts/topology.sh" env) ||
			die "cannot read the topology"
		[ -n "$NS" ] || NS=$(sed -n 's/^XR_CLI_NS=//p' <<<"$env")
		[ -n "$IFACE" ] || IFACE=$(sed -n 's/^XR_CLI_IF=//p' <<<"$env")
	fi
	STATE=$STATE_ROOT/$NS-$IFACE
}

running_pid() {
	local pid
	[ -f "$STATE/pid" ] || return 1
	pid=$(cat "$STATE/pid")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# The pid must still be ours (impaird), not a reused number.
	grep -q impaird "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

stop() {
	local pid
	if pid=$(running_pid); then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			# Killed: its filters stay; the clsact qdisc goes.
			tc -n "$NS" qdisc del dev "$IFACE" clsact 2>/dev/null || true
		fi
	fi
	rm -f "$STATE/pid"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
	build
	exit 0
	;;
on | off | stats) ;;
*)
	sed -n '6,23p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac

PORT=0
PROTO=0
SEED=1
DIRS="c2s s2c"
declare -A V=([c2s_loss]=0 [c2s_dup]=0 [c2s_reorder]=0 [c2s_delay]=20
	[s2c_loss]=0 [s2c_dup]=0 [s2c_reorder]=0 [s2c_delay]=20)
setv() {
	local d
	for d in $DIRS; do V[${d}_$1]=$2; done
}
num() {
	[[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$1: not a number: $2"
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case "$1" in
	--netns) NS=$2 ;;
	--iface) IFACE=$2 ;;
	--port) PORT=$2 ;;
	--proto)
		case "$2" in
		icmp) PROTO=1 ;;
		tcp) PROTO=6 ;;
		udp) PROTO=17 ;;
		icmp6) PROTO=58 ;;
		any) PROTO=0 ;;
		*) [[ "$2" =~ ^[0-9]+$ ]] || die "--proto icmp|tcp|udp|icmp6|any|N"; PROTO=$2 ;;
		esac
		;;
	--seed) SEED=$2 ;;
	--dir)
		case "$2" in
		c2s | s2c) DIRS=$2 ;;
		both) DIRS="c2s s2c" ;;
		*) die "--dir c2s|s2c|both" ;;
		esac
		;;
	--loss) num "$1" "$2"; setv loss "$2" ;;
	--dup) num "$1" "$2"; setv dup "$2" ;;
	--reorder) num "$1" "$2"; setv reorder "$2" ;;
	--delay-ms) num "$1" "$2"; setv delay "$2" ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
topo_defaults
mkdir -p "$STATE"

case "$cmd" in
off)
	stop
	echo "impair: off on $NS/$IFACE"
	;;
stats)
	if pid=$(running_pid); then
		rm -f "$STATE/stats.json"
		kill -USR1 "$pid"
		for _ in $(seq 100); do
			[ -s "$STATE/stats.json" ] && break
			sleep 0.02
		done
	fi
	[ -s "$STATE/stats.json" ] || die "no counters (never on?)"
	cat "$STATE/stats.json"
	;;
on)
	build
	stop
	ip netns list | grep -qw "^$NS" || die "no namespace $NS"
	# One skb per wire frame, so a draw is made per segment.
	ip netns exec "$NS" ethtool -K "$IFACE" gso off gro off >/dev/null 2>&1 ||
		die "ethtool -K $IFACE gso off gro off failed"
	rm -f "$STATE/stats.json"
	setsid ip netns exec "$NS" "$OUT/impaird" --iface "$IFACE" \
		--obj "$OUT/impair.bpf.o" --port "$PORT" --proto "$PROTO" --seed "$SEED" \
		--c2s "${V[c2s_loss]},${V[c2s_dup]},${V[c2s_reorder]},${V[c2s_delay]%.*}" \
		--s2c "${V[s2c_loss]},${V[s2c_dup]},${V[s2c_reorder]},${V[s2c_delay]%.*}" \
		--stats "$STATE/stats.json" \
		</dev/null >"$STATE/log" 2>&1 &
	pid=$!
	echo "$pid" >"$STATE/pid"
	for _ in $(seq 100); do
		grep -qs '^impaird: ready' "$STATE/log" && break
		kill -0 "$pid" 2>/dev/null || { cat "$STATE/log" >&2; rm -f "$STATE/pid"; die "impaird exited"; }
		sleep 0.05
	done
	grep -q '^impaird: ready' "$STATE/log" || { cat "$STATE/log" >&2; stop; die "impaird not ready"; }
	sed -n 's/^impaird: ready /impair: on /p' "$STATE/log"
	;;
esac
