#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A small fabric: clients behind a router that spreads a service address over
# N xredir nodes with an ECMP route (L4 hash) learnt by BGP, every node
# running xredird with the same --config file (one file on the host
# filesystem) and the same --cookie-secret-file.
#
#   ${FAB}-cli            ${FAB}-rtr                        ${FAB}-n<i>  (i = 1..N)
#   ${FAB}-c0 <-- veth --> ${FAB}-rc                         xredird --config FILE
#   10.78.0.2..9           10.78.0.1         ${FAB}-r<i> <-- veth --> ${FAB}-n<i>
#   fd78::2..9             fd78::1           10.78.<i>.1              10.78.<i>.2
#                                            fd78:<i>::1              fd78:<i>::2
#   default via the router                                            VIP on lo
#
#   VIP 10.79.0.100 and fd79::100, port 10000: on each node the address on
#   lo, which xredird serves as --vip (its interface's own address too). It
#   answers from AF_XDP to the MAC the frame came from: the answers go back
#   through the router.
#
# BGP (BIRD 2): the router (AS 64500) peers with every node (AS 64512) over
# IPv4 for the /32 and over IPv6 for the /128, hold time 3 s, BFD 100 ms x3;
# its kernel protocol merges the nodes' equal routes into one multipath
# route (`merge paths`), hashed on L4 (net.ipv4.fib_multipath_hash_policy=1
# and the IPv6 one). On each node BIRD holds the VIP in two static
# protocols, xredir_vip4 and xredir_vip6, disabled at start and exported
# to the router only; deploy/bgp/xredir-announce enables them while the
# node's /readyz says ready and disables them otherwise (nodes run xredird
# with --withdraw-wait, so a SIGTERM withdraws the route before the drain).
# The node's BIRD installs nothing in its kernel.
#
# Every veth has one queue each way (AF_XDP binds queue 0). The client veth
# has TX checksum offload off (as scripts/topology.sh does), so the segments
# the router forwards to the nodes carry complete checksums. Nodes ignore ARP
# for the VIP (arp_ignore=1, arp_announce=2); the router answers with its own
# address only; neighbours are resolved (ping) before `up` returns. Node
# kernels use TTL / hop limit 99, so their packets can be told from xredird's.
# Each node's xredird runs in its own time namespace, its monotonic clock
# set days apart from the others' as on machines booted at different times
# (the wall clock, which time namespaces leave alone, is the one they share).
#
# usage: fabric.sh up [--no-daemons] [-- XREDIRD-ARGS...]
#        fabric.sh down
#        fabric.sh env
#        fabric.sh start-node I [-- XREDIRD-ARGS...] | stop-node I [SECS]
#        fabric.sh paths [4|6]       the router's next hops for the VIP
#        fabric.sh birdc rtr|I CMD...   birdc of the router or of node I
#        fabric.sh status
# Environment: XR_FAB (name prefix, default xrfab), XR_FAB_NODES (3),
# XR_FAB_SPARE (0: nodes N+1.. wired, with BIRD and the announcer, whose
# xredird `up` does not start: start-node I makes one join the fabric),
# XR_FAB_DIR (pid files and daemon logs, default /run/xredir/fabric-$XR_FAB),
# XR_FAB_CONFIG (the shared config, default $XR_FAB_DIR/xredir.conf; written
# with a default target if missing), XR_BPFFS (default /run/xredir/bpffs),
# XREDIRD (default build/xredird of this tree), XR_FAB_WITHDRAW (the nodes'
# --withdraw-wait, default 3), XR_FAB_GRACE (their --grace, default 2: a
# flow whose last ACK the router sent elsewhere once the route moved waits
# out the grace time).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FAB=${XR_FAB:-xrfab}
NODES=${XR_FAB_NODES:-3}
SPARE=${XR_FAB_SPARE:-0}
ALL_NODES=$((NODES + SPARE))
DIR=${XR_FAB_DIR:-/run/xredir/fabric-$FAB}
CONFIG=${XR_FAB_CONFIG:-$DIR/xredir.conf}
BPFFS=${XR_BPFFS:-/run/xredir/bpffs}
XREDIRD=${XREDIRD:-$ROOT/build/xredird}
WITHDRAW=${XR_FAB_WITHDRAW:-3}
GRACE=${XR_FAB_GRACE:-2}
ANNOUNCE=$ROOT/deploy/bgp/xredir-announce
SECRET=$DIR/cookie.secret
PORT=10000
MPORT=9100
RTR_AS=64500
NODE_AS=64512

CLI_NS=$FAB-cli
RTR_NS=$FAB-rtr
CLI_IF=$FAB-c0
RTR_CIF=$FAB-rc
VIP4=10.79.0.100
VIP6=fd79::100
CLI_IP4=10.78.0.2
CLI_IP6=fd78::2
CLI_EXTRA=8 # client addresses 10.78.0.2 .. 10.78.0.9 (fd78::2 .. ::9)
KERNEL_TTL=99

node_ns() { echo "$FAB-n$1"; }
node_if() { echo "$FAB-n$1"; } # unique across namespaces: pins are per name
rtr_if() { echo "$FAB-r$1"; }
node_ip4() { echo "10.78.$1.2"; }
node_ip6() { echo "fd78:$1::2"; }
rtr_ip4() { echo "10.78.$1.1"; }
rtr_ip6() { echo "fd78:$1::1"; }

all_ns() {
	local i
	echo "$CLI_NS" "$RTR_NS"
	for ((i = 1; i <= ALL_NODES; i++)); do node_ns "$i"; done
}

print_env() {
	local i nodes= spares=
	for ((i = 1; i <= NODES; i++)); do nodes="$nodes $i"; done
	for ((i = NODES + 1; i <= ALL_NODES; i++)); do spares="$spares $i"; done
	cat <<EOF
XR_FAB=$FAB
XR_FAB_NODES=$NODES
XR_FAB_SPARE=$SPARE
XR_FAB_DIR=$DIR
XR_FAB_CONFIG=$CONFIG
XR_BPFFS=$BPFFS
FAB_CLI_NS=$CLI_NS
FAB_RTR_NS=$RTR_NS
FAB_CLI_IF=$CLI_IF
FAB_CLI_IP4=$CLI_IP4
FAB_CLI_IP6=$CLI_IP6
FAB_CLI_ADDRS4="$(for ((i = 2; i < 2 + CLI_EXTRA; i++)); do printf '10.78.0.%d ' "$i"; done | sed 's/ $//')"
FAB_CLI_ADDRS6="$(for ((i = 2; i < 2 + CLI_EXTRA; i++)); do printf 'fd78::%d ' "$i"; done | sed 's/ $//')"
FAB_VIP4=$VIP4
FAB_VIP6=$VIP6
FAB_PORT=$PORT
FAB_MPORT=$MPORT
FAB_NODE_IDS="${nodes# }"
FAB_SPARE_IDS="${spares# }"
FAB_KERNEL_TTL=$KERNEL_TTL
FAB_WITHDRAW=$WITHDRAW
EOF
}

mount_bpffs() {
	mkdir -p "$BPFFS"
	mountpoint -q "$BPFFS" || mount -t bpf bpf "$BPFFS"
}

pidfile() { echo "$DIR/node$1.pid"; }

# running PID: the process exists and has not exited. The daemons are not
# our children: a zombie waits for its parent (unshare) to reap it.
running() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The pid in a node's pid file if that process is still a running xredird.
node_pid() {
	local f pid
	f=$(pidfile "$1")
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = xredird ] && running "$pid" || return 1
	echo "$pid"
}

stop_node() {
	local i=$1 secs=${2:-5} pid n
	pid=$(node_pid "$i") || { echo "fabric: node $i is not running" >&2; return 1; }
	kill -TERM "$pid"
	n=$(awk "BEGIN { print int($secs * 20) }")
	while [ "$n" -gt 0 ] && running "$pid"; do
		sleep 0.05
		n=$((n - 1))
	done
	if running "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "fabric: node $i still running ${secs}s after SIGTERM: killed" >&2
		return 1
	fi
	rm -f "$(pidfile "$i")"
}

# start_node I [XREDIRD-ARGS]: xredird on the node's veth, detached from
# this shell (pid file, log in $DIR); returns once the node answers.
start_node() {
	local i=$1 ns ifc log pidf n code
	shift
	[ -x "$XREDIRD" ] || { echo "fabric: no $XREDIRD (make all)" >&2; return 1; }
	if node_pid "$i" >/dev/null; then
		echo "fabric: node $i is already running" >&2
		return 1
	fi
	ns=$(node_ns "$i")
	ifc=$(node_if "$i")
	log=$DIR/node$i.log
	pidf=$(pidfile "$i")
	rm -f "$pidf"
	echo "--- $(date -u +%FT%TZ) xredird --iface $ifc --config $CONFIG $*" >>"$log"
	setsid ip netns exec "$ns" unshare --time --fork \
		--monotonic $((i * 1000003)) --boottime $((i * 1000003)) \
		sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
		"$XREDIRD" --iface "$ifc" --bpffs "$BPFFS" --config "$CONFIG" \
		--vip "$VIP4" --vip "$VIP6" --cookie-secret-file "$SECRET" \
		--withdraw-wait "$WITHDRAW" --grace "$GRACE" \
		--metrics-listen "$(node_ip4 "$i"):$MPORT" "$@" \
		>>"$log" 2>&1 </dev/null &
	for ((n = 0; n < 200; n++)); do
		if node_pid "$i" >/dev/null; then
			# Answered directly on the node's own address (the
			# interface's: a service address by default).
			code=$(ip netns exec "$CLI_NS" curl -s -o /dev/null -m 1 \
				-w '%{http_code}' "http://$(node_ip4 "$i"):$PORT/ready" \
				2>/dev/null) || true
			case "$code" in 30?) return 0 ;; esac
		elif [ -s "$pidf" ] && ! running "$(cat "$pidf")"; then
			break # started and died (not just between sh and exec)
		fi
		sleep 0.05
	done
	echo "fabric: node $i not serving: $(tail -n 3 "$log" | tr '\n' ' ')" >&2
	return 1
}

# ---- BGP (BIRD 2) ----

bird_sock() { echo "$DIR/bird-$1.ctl"; } # rtr or the node number
birdc_of() {
	local who=$1
	shift
	birdc -s "$(bird_sock "$who")" "$@"
}

# Both ends use short timers and BFD: a node whose BIRD dies is gone from
# the router within 0.3 s, one that closes its session at once.
BGP_TIMERS="hold time 3; keepalive time 1; connect retry time 1; bfd on;"
BFD_PROTO='protocol bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }'

router_conf() {
	local i
	cat <<EOF
# The fabric's router: learns the VIP from every node, installs one
# multipath route (ECMP) per family.
router id 10.78.0.1;
protocol device { }
$BFD_PROTO
protocol kernel kernel4 { ipv4 { import none; export all; }; merge paths on; }
protocol kernel kernel6 { ipv6 { import none; export all; }; merge paths on; }
template bgp xredir_node { local as $RTR_AS; $BGP_TIMERS }
EOF
	for ((i = 1; i <= ALL_NODES; i++)); do
		cat <<EOF
protocol bgp n${i}v4 from xredir_node {
	neighbor $(node_ip4 "$i") as $NODE_AS;
	ipv4 { import where net = $VIP4/32; export none; };
}
protocol bgp n${i}v6 from xredir_node {
	neighbor $(node_ip6 "$i") as $NODE_AS;
	ipv6 { import where net = $VIP6/128; export none; };
}
EOF
	done
}

# node_conf I: deploy/kubernetes/bgp/bird.conf's pattern, for node I.
node_conf() {
	local i=$1
	cat <<EOF
# Node $i: announces the VIP to the router while xredir-announce enables
# xredir_vip4/6 (xredird ready); installs nothing in the kernel.
router id $(node_ip4 "$i");
protocol device { }
$BFD_PROTO
protocol static xredir_vip4 { disabled yes; ipv4; route $VIP4/32 blackhole; }
protocol static xredir_vip6 { disabled yes; ipv6; route $VIP6/128 blackhole; }
protocol bgp rtr4 {
	local $(node_ip4 "$i") as $NODE_AS;
	neighbor $(rtr_ip4 "$i") as $RTR_AS;
	$BGP_TIMERS
	ipv4 { import none; export where proto = "xredir_vip4"; };
}
protocol bgp rtr6 {
	local $(node_ip6 "$i") as $NODE_AS;
	neighbor $(rtr_ip6 "$i") as $RTR_AS;
	$BGP_TIMERS
	ipv6 { import none; export where proto = "xredir_vip6"; };
}
EOF
}

# start_bird NS WHO: BIRD in NS with $DIR/bird-WHO.conf (it daemonizes).
start_bird() {
	local ns=$1 who=$2 conf=$DIR/bird-$2.conf
	ip netns exec "$ns" bird -c "$conf" -s "$(bird_sock "$who")" \
		-P "$DIR/bird-$who.pid" ||
		{ echo "fabric: bird in $ns did not start" >&2; return 1; }
}

# start_announce I: the node's announcer, for as long as the fabric is up
# (it outlives xredird restarts, as a sidecar does).
start_announce() {
	local i=$1
	BIRD_SOCKET=$(bird_sock "$i") setsid ip netns exec "$(node_ns "$i")" \
		"$ANNOUNCE" "http://$(node_ip4 "$i"):$MPORT/readyz" \
		>>"$DIR/announce$i.log" 2>&1 </dev/null &
}

# await_announced: until the router routes the VIP over every node, v4 and
# v6 (each announcer has seen its node ready), 10 s at most.
await_announced() {
	local n
	for ((n = 0; n < 200; n++)); do
		[ "$(paths 4 | grep -c ' bird$')" = "$NODES" ] &&
			[ "$(paths 6 | grep -c ' bird$')" = "$NODES" ] && return 0
		sleep 0.05
	done
	echo "fabric: the router does not route the VIP over all $NODES nodes: $(paths 4 | tr '\n' ' ')" >&2
	return 1
}

up_bgp() {
	local i n
	command -v bird >/dev/null && command -v birdc >/dev/null ||
		{ echo "fabric: no bird/birdc (Debian package bird2)" >&2; return 1; }
	router_conf >"$DIR/bird-rtr.conf"
	start_bird "$RTR_NS" rtr
	for ((i = 1; i <= ALL_NODES; i++)); do
		node_conf "$i" >"$DIR/bird-$i.conf"
		start_bird "$(node_ns "$i")" "$i"
		start_announce "$i"
	done
	# Every session established (nothing announced yet).
	for ((n = 0; n < 200; n++)); do
		[ "$(birdc_of rtr show protocols | grep -c 'BGP .* Established')" = $((2 * ALL_NODES)) ] &&
			return 0
		sleep 0.05
	done
	echo "fabric: BGP sessions not established: $(birdc_of rtr show protocols | tr '\n' ';')" >&2
	return 1
}

# paths [4|6]: the router's next hops for the VIP, sorted, one line each:
# "ADDR PROTO" (PROTO: who installed the route, "bird" for BGP).
paths() {
	local r
	if [ "${1:-4}" = 6 ]; then
		r=$(ip -n "$RTR_NS" -6 route show "$VIP6/128")
	else
		r=$(ip -n "$RTR_NS" route show "$VIP4/32")
	fi
	awk '{ for (i = 1; i < NF; i++) {
			if ($i == "via") via[++n] = $(i + 1)
			if ($i == "proto") p = $(i + 1)
		} }
		END { for (i = 1; i <= n; i++) print via[i], p }' <<<"$r" | sort
}

down() {
	local ns pid i
	for ((i = 1; i <= ALL_NODES; i++)); do
		if pid=$(node_pid "$i"); then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	for ((i = 1; i <= ALL_NODES; i++)); do
		if pid=$(node_pid "$i"); then
			for _ in $(seq 60); do
				running "$pid" || break
				sleep 0.05
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$(pidfile "$i")"
	done
	for ns in $(all_ns); do
		ip netns list | grep -qw "^$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	sleep 0.2
	for ns in $(all_ns); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	for ((i = 1; i <= ALL_NODES; i++)); do
		rm -rf "${BPFFS:?}/xredir/$(node_if "$i")" 2>/dev/null || true
	done
	rm -f "$DIR"/bird-*.ctl "$DIR"/bird-*.pid
}

# veth A-NS A-IF B-NS B-IF: one queue each way.
veth() {
	ip link add "$2" numrxqueues 1 numtxqueues 1 netns "$1" type veth \
		peer name "$4" numrxqueues 1 numtxqueues 1 netns "$3"
}

up_net() {
	local i ns ifc rif ok
	for ns in $(all_ns); do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	# client <-> router
	veth "$CLI_NS" "$CLI_IF" "$RTR_NS" "$RTR_CIF"
	for ((i = 2; i < 2 + CLI_EXTRA; i++)); do
		ip -n "$CLI_NS" addr add "10.78.0.$i/24" dev "$CLI_IF"
		ip -n "$CLI_NS" addr add "fd78::$i/64" dev "$CLI_IF" nodad \
			$([ "$i" = 2 ] || echo preferred_lft 0)
	done
	ip -n "$RTR_NS" addr add 10.78.0.1/24 dev "$RTR_CIF"
	ip -n "$RTR_NS" addr add fd78::1/64 dev "$RTR_CIF" nodad
	ip -n "$CLI_NS" link set "$CLI_IF" up
	ip -n "$RTR_NS" link set "$RTR_CIF" up
	ip netns exec "$CLI_NS" ethtool -K "$CLI_IF" tx off >/dev/null
	ip -n "$CLI_NS" route add default via 10.78.0.1
	ip -n "$CLI_NS" -6 route add default via fd78::1
	ip netns exec "$RTR_NS" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	# router <-> nodes
	for ((i = 1; i <= ALL_NODES; i++)); do
		ns=$(node_ns "$i")
		ifc=$(node_if "$i")
		rif=$(rtr_if "$i")
		veth "$RTR_NS" "$rif" "$ns" "$ifc"
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_default_ttl=$KERNEL_TTL \
			net.ipv6.conf.all.hop_limit=$KERNEL_TTL \
			net.ipv6.conf.default.hop_limit=$KERNEL_TTL \
			net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		ip -n "$RTR_NS" addr add "$(rtr_ip4 "$i")/24" dev "$rif"
		ip -n "$RTR_NS" addr add "$(rtr_ip6 "$i")/64" dev "$rif" nodad
		ip -n "$ns" addr add "$(node_ip4 "$i")/24" dev "$ifc"
		ip -n "$ns" addr add "$(node_ip6 "$i")/64" dev "$ifc" nodad
		ip -n "$ns" addr add "$VIP4/32" dev lo
		ip -n "$ns" addr add "$VIP6/128" dev lo nodad
		ip -n "$RTR_NS" link set "$rif" up
		ip -n "$ns" link set "$ifc" up
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.hop_limit=$KERNEL_TTL"
		ip -n "$ns" route add default via "$(rtr_ip4 "$i")"
		ip -n "$ns" -6 route add default via "$(rtr_ip6 "$i")"
	done
	# Links up and neighbours resolved both ways (ARP, NDP).
	for _ in $(seq 50); do
		ok=1
		ip netns exec "$CLI_NS" ping -c1 -W1 -q 10.78.0.1 >/dev/null 2>&1 &&
			ip netns exec "$CLI_NS" ping -6 -c1 -W1 -q fd78::1 >/dev/null 2>&1 || ok=0
		for ((i = 1; i <= ALL_NODES && ok; i++)); do
			ip netns exec "$CLI_NS" ping -c1 -W1 -q "$(node_ip4 "$i")" >/dev/null 2>&1 &&
				ip netns exec "$CLI_NS" ping -6 -c1 -W1 -q "$(node_ip6 "$i")" >/dev/null 2>&1 || ok=0
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	echo "fabric: the links did not come up" >&2
	return 1
}

up() {
	local daemons=1 i
	while [ $# -gt 0 ]; do
		case "$1" in
		--no-daemons) daemons=0; shift ;;
		--) shift; break ;;
		*) echo "fabric: unknown option $1" >&2; exit 2 ;;
		esac
	done
	down
	# Anything failing from here tears it all down again.
	trap 'rc=$?; [ $rc = 0 ] || { echo "fabric: up failed, tearing down" >&2; down; }; exit $rc' EXIT
	mkdir -p "$DIR"
	mount_bpffs
	if [ ! -s "$CONFIG" ]; then
		mkdir -p "$(dirname "$CONFIG")"
		echo "default https://k8s.gcr.io" >"$CONFIG"
	fi
	# The fleet's SYN-cookie secret: a handshake finishes on any node.
	[ -s "$SECRET" ] || (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$SECRET")
	up_net
	up_bgp
	if [ "$daemons" = 1 ]; then
		for ((i = 1; i <= NODES; i++)); do start_node "$i" "$@"; done
		await_announced
	fi
	trap - EXIT
}

status() {
	local i pid
	for ((i = 1; i <= ALL_NODES; i++)); do
		if pid=$(node_pid "$i"); then
			echo "node $i: running (pid $pid), $(node_if "$i") $(node_ip4 "$i")"
		else
			echo "node $i: stopped, $(node_if "$i") $(node_ip4 "$i")"
		fi
	done
	ip -n "$RTR_NS" route show "$VIP4/32" 2>/dev/null
	ip -n "$RTR_NS" -6 route show "$VIP6/128" 2>/dev/null
	birdc_of rtr show protocols 2>/dev/null | grep BGP
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
env) print_env ;;
start-node)
	i=${2:?node number}
	shift 2
	[ "${1:-}" = -- ] && shift
	start_node "$i" "$@"
	;;
stop-node) stop_node "${2:?node number}" "${3:-5}" ;;
paths) paths "${2:-4}" ;;
birdc)
	who=${2:?rtr or a node number}
	shift 2
	birdc_of "$who" "$@"
	;;
status) status ;;
*)
	echo "usage: $0 up [--no-daemons] [-- XREDIRD-ARGS] | down | env | start-node I [-- ARGS] | stop-node I [SECS] | paths [4|6] | birdc rtr|I CMD... | status" >&2
	exit 2
	;;
esac
