#!/usr/bin/env bash
# peer_xdp.sh load|unload NETNS IFACE: an XDP program that passes every
# frame (xdp-tools' allow-all filter) on a veth peer of xredird's
# interface. A veth delivers the frames an XDP program sends back with
# XDP_TX (--xdp-synack) only to a peer that runs an XDP program of its own;
# without one the kernel drops them (PLATFORM.md). A real NIC needs none.
set -euo pipefail
OBJ=${XDP_PEER_OBJ:-/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/bpf/xdpfilt_alw_all.o}
[ $# = 3 ] || { echo "usage: peer_xdp.sh load|unload NETNS IFACE" >&2; exit 2; }
case "$1" in
load)
	[ -f "$OBJ" ] || { echo "peer_xdp: no $OBJ (xdp-tools)" >&2; exit 1; }
	ip netns exec "$2" xdp-loader load -m native "$3" "$OBJ"
	;;
unload) ip netns exec "$2" xdp-loader unload -a "$3" ;;
*) echo "peer_xdp: load or unload, not $1" >&2; exit 2 ;;
esac
