#!/usr/bin/env bash
# The test, demo and benchmark topology: two network namespaces joined by a
# veth pair.
#
#   ${XR_TOPO}-cli                              ${XR_TOPO}-srv
#   ${XR_TOPO}-c0  10.77.0.2, .3  <-- veth -->  ${XR_TOPO}-s0  10.77.0.1
#                  fd77::2, ::3                                fd77::1
#
# 10.77.0.3 / fd77::3 are the "matching client" addresses. The client veth has
# TX checksum offload off, so its segments arrive with complete checksums (an
# AF_XDP receiver sees the raw frame). The server namespace's kernel uses TTL
# and hop limit 99, so a capture can tell kernel-made packets from xredird's
# (which use 64).
#
# usage: topology.sh up [--queues N] | down | env
# Environment: XR_TOPO (name prefix, default "xr").
set -euo pipefail

TOPO=${XR_TOPO:-xr}
SRV_NS=$TOPO-srv
CLI_NS=$TOPO-cli
SRV_IF=$TOPO-s0
CLI_IF=$TOPO-c0
BPFFS=${XR_BPFFS:-/run/xredir/bpffs}

SRV_IP4=10.77.0.1
CLI_IP4=10.77.0.2
MATCH_IP4=10.77.0.3
SRV_IP6=fd77::1
CLI_IP6=fd77::2
MATCH_IP6=fd77::3
KERNEL_TTL=99

print_env() {
	cat <<EOF
XR_SRV_NS=$SRV_NS
XR_CLI_NS=$CLI_NS
XR_SRV_IF=$SRV_IF
XR_CLI_IF=$CLI_IF
XR_SRV_IP4=$SRV_IP4
XR_CLI_IP4=$CLI_IP4
XR_MATCH_IP4=$MATCH_IP4
XR_SRV_IP6=$SRV_IP6
XR_CLI_IP6=$CLI_IP6
XR_MATCH_IP6=$MATCH_IP6
XR_BPFFS=$BPFFS
XR_KERNEL_TTL=$KERNEL_TTL
LIBXDP_BPFFS=$BPFFS
EOF
}

# A bpffs in the root mount namespace outside /sys is shared by every
# `ip netns exec` (which remounts /sys), so daemon and CLI see the same pins.
mount_bpffs() {
	mkdir -p "$BPFFS"
	mountpoint -q "$BPFFS" || mount -t bpf bpf "$BPFFS"
}

down() {
	local ns pid
	for ns in "$SRV_NS" "$CLI_NS"; do
		ip netns list | grep -qw "^$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	sleep 0.2
	for ns in "$SRV_NS" "$CLI_NS"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "${BPFFS:?}/xredir/$SRV_IF" 2>/dev/null || true
}

up() {
	local queues=1
	while [ $# -gt 0 ]; do
		case "$1" in
		--queues) queues=$2; shift 2 ;;
		*) echo "topology: unknown option $1" >&2; exit 2 ;;
		esac
	done
	down
	mount_bpffs
	ip netns add "$SRV_NS"
	ip netns add "$CLI_NS"
	ip link add "$SRV_IF" numrxqueues "$queues" numtxqueues "$queues" \
		netns "$SRV_NS" type veth peer name "$CLI_IF" \
		numrxqueues "$queues" numtxqueues "$queues" netns "$CLI_NS"

	ip -n "$SRV_NS" link set lo up
	ip -n "$CLI_NS" link set lo up
	ip netns exec "$SRV_NS" sysctl -qw net.ipv4.ip_default_ttl=$KERNEL_TTL \
		net.ipv6.conf.all.hop_limit=$KERNEL_TTL \
		net.ipv6.conf.default.hop_limit=$KERNEL_TTL
	ip -n "$SRV_NS" addr add $SRV_IP4/24 dev "$SRV_IF"
	ip -n "$SRV_NS" addr add $SRV_IP6/64 dev "$SRV_IF" nodad
	ip -n "$CLI_NS" addr add $CLI_IP4/24 dev "$CLI_IF"
	ip -n "$CLI_NS" addr add $MATCH_IP4/24 dev "$CLI_IF"
	ip -n "$CLI_NS" addr add $CLI_IP6/64 dev "$CLI_IF" nodad
	# Deprecated, so never picked as a source unless a client binds it.
	ip -n "$CLI_NS" addr add $MATCH_IP6/64 dev "$CLI_IF" nodad preferred_lft 0
	ip -n "$SRV_NS" link set "$SRV_IF" up
	ip -n "$CLI_NS" link set "$CLI_IF" up
	ip netns exec "$CLI_NS" ethtool -K "$CLI_IF" tx off >/dev/null
	# The hop limit sysctl only applies to interfaces created after it.
	ip netns exec "$SRV_NS" sysctl -qw \
		"net.ipv6.conf.$SRV_IF.hop_limit=$KERNEL_TTL"

	# Wait for the link and neighbour discovery to work both ways.
	local i
	for i in $(seq 50); do
		if ip netns exec "$CLI_NS" ping -c1 -W1 -q $SRV_IP4 >/dev/null 2>&1 &&
			ip netns exec "$CLI_NS" ping -6 -c1 -W1 -q $SRV_IP6 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "topology: the veth link did not come up" >&2
	exit 1
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
env) print_env ;;
*) echo "usage: $0 up [--queues N] | down | env" >&2; exit 2 ;;
esac
