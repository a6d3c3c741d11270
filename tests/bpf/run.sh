#!/usr/bin/env bash
# Runs the XDP program tests (tests/bpf/test_xdp.c): BPF_PROG_TEST_RUN over
# crafted frames, in a network namespace the binary makes for itself (with a
# veth pair and an AF_XDP socket). Nothing is attached and nothing is pinned.
#
# Needs root. Without it, or when the namespace, the veth pair or the socket
# cannot be made, this fails: it never skips.
#
# usage: run.sh path/to/test_xdp [case-name-substring]
set -u
bin=${1:?usage: run.sh path/to/test_xdp [case-name-substring]}
shift

echo "== $bin"
if [ "$(id -u)" != 0 ]; then
	echo "FAILED: $bin: must run as root (network namespace, BPF, AF_XDP)" >&2
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "FAILED: $bin: not found or not executable" >&2
	exit 1
fi
"$bin" "$@"
rc=$?
if [ $rc -eq 0 ]; then
	echo "bpf: all passed"
else
	echo "FAILED: $bin (exit $rc)"
fi
exit $rc
