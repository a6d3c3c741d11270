#!/usr/bin/env bash
# make demo: xredird on a veth pair between two network namespaces, one
# ordinary client redirected to the default target and one "matching"
# client (MATCH_IP) to the rewrite target, over HTTP and over HTTPS (a
# test CA made on the fly by scripts/testca.sh). Serves until Ctrl-C, then
# removes everything it made.
set -euo pipefail

cd "$(dirname "$0")/.."
export XR_TOPO=${XR_TOPO:-xrdemo}
eval "$(./scripts/topology.sh env | sed 's/^/export /')"

XREDIRD=${XREDIRD:-build/xredird}
LOG=$(mktemp /tmp/xredird-demo.XXXXXX.log)
CA=$(mktemp -d /tmp/xredir-demo-ca.XXXXXX)
NAME=registry.demo.test
pid=

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	./scripts/topology.sh down
	rm -rf "$CA"
	echo "demo: stopped, topology removed (log: $LOG)"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, XDP)" >&2
	exit 1
fi

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
cli() { ip netns exec "$XR_CLI_NS" "$@"; }

./scripts/topology.sh up
say "Topology: client namespace $XR_CLI_NS ($XR_CLI_IP4, matching client $XR_MATCH_IP4)"
say "          server namespace $XR_SRV_NS ($XR_SRV_IP4), xredird on $XR_SRV_IF"

./scripts/testca.sh "$CA" "$NAME" "$XR_SRV_IP4" "$XR_SRV_IP6" >/dev/null
ip netns exec "$XR_SRV_NS" "$XREDIRD" --iface "$XR_SRV_IF" \
	--bpffs "$XR_BPFFS" --match-ip "$XR_MATCH_IP4" \
	--match-ip "$XR_MATCH_IP6" \
	--tls-cert "$CA/server-ec.pem" --tls-key "$CA/server-ec.key" \
	--tls-cert "$CA/server-rsa.pem" --tls-key "$CA/server-rsa.key" \
	>"$LOG" 2>&1 &
pid=$!

for _ in $(seq 50); do
	if cli curl -s -o /dev/null --max-time 1 "http://$XR_SRV_IP4:10000/"; then
		break
	fi
	kill -0 "$pid" 2>/dev/null || { cat "$LOG"; exit 1; }
	sleep 0.1
done

say "\$ curl -si http://$XR_SRV_IP4:10000/v2/library/alpine/manifests/latest   (from $XR_CLI_IP4)"
cli curl -si "http://$XR_SRV_IP4:10000/v2/library/alpine/manifests/latest"
echo
say "\$ curl -si --interface $XR_MATCH_IP4 http://$XR_SRV_IP4:10000/v2/library/alpine/manifests/latest   (the matching client)"
cli curl -si --interface "$XR_MATCH_IP4" \
	"http://$XR_SRV_IP4:10000/v2/library/alpine/manifests/latest"
echo
say "\$ curl -sI 'http://[$XR_SRV_IP6]:10000/pause?tag=3.9'   (IPv6, HEAD)"
cli curl -sI "http://[$XR_SRV_IP6]:10000/pause?tag=3.9"

echo
say "\$ curl -si --cacert ca.pem https://$NAME/v2/library/alpine/manifests/latest   (HTTPS on 443, the test CA)"
cli curl -si --cacert "$CA/ca.pem" --resolve "$NAME:443:$XR_SRV_IP4" \
	"https://$NAME/v2/library/alpine/manifests/latest"

say "xredird is serving. Try it from another terminal, for example:"
echo "  ip netns exec $XR_CLI_NS curl -si http://$XR_SRV_IP4:10000/any/path"
echo "  ip netns exec $XR_CLI_NS wrk -c50 -d5s http://$XR_SRV_IP4:10000/"
echo "  ip netns exec $XR_CLI_NS curl -si --cacert $CA/ca.pem https://$XR_SRV_IP4/any/path"
echo "Daemon log: $LOG. Press Ctrl-C to stop."
wait "$pid"
