#!/usr/bin/env bash
# Records the committed captures of real client sessions (tests/pcap/*.pcap)
# that `replay` feeds through the engine. Run by hand (as root) when the
# engine's wire behaviour changes on purpose; the captures are committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XR_TOPO=xrrec
eval "$(./scripts/topology.sh env | sed 's/^/export /')"
out=tests/pcap
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	./scripts/topology.sh down
}
trap cleanup EXIT
cli() { ip netns exec "$XR_CLI_NS" "$@"; }

./scripts/topology.sh up
ip netns exec "$XR_SRV_NS" build/xredird --iface "$XR_SRV_IF" \
	--bpffs "$XR_BPFFS" --log-level warn &
pid=$!
sleep 1

record() {
	local name=$1 tcp
	shift
	# Directly, not through cli(): $! must be tcpdump itself.
	ip netns exec "$XR_CLI_NS" tcpdump -i "$XR_CLI_IF" -s 2048 -U \
		-w "$out/$name.pcap" "tcp port 10000" 2>/dev/null &
	tcp=$!
	sleep 0.5
	"$@" >/dev/null
	sleep 0.5
	kill "$tcp"
	wait "$tcp" 2>/dev/null || true
	echo "recorded $out/$name.pcap"
}

record curl_get cli curl -s "http://$XR_SRV_IP4:10000/v2/pause/manifests/3.9?x=1"
record curl_http10 cli curl -s --http1.0 "http://$XR_SRV_IP4:10000/old"
record curl_head cli curl -sI "http://$XR_SRV_IP4:10000/head"
record curl_ipv6 cli curl -s "http://[$XR_SRV_IP6]:10000/v6"
record python_keepalive cli python3 -c "
import http.client
c = http.client.HTTPConnection('$XR_SRV_IP4', 10000)
for i in range(5):
    c.request('GET', '/k/%d' % i); c.getresponse().read()
c.close()"
record pipelined cli python3 -c "
import socket, time
s = socket.create_connection(('$XR_SRV_IP4', 10000))
s.sendall(b''.join(b'GET /p/%d HTTP/1.1\r\nHost: x\r\n\r\n' % i for i in range(10)))
time.sleep(0.3); s.recv(65536); s.close()"
record bad_request cli python3 -c "
import socket, time
s = socket.create_connection(('$XR_SRV_IP4', 10000))
s.sendall(b'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n')
time.sleep(0.3); s.recv(4096); s.close()"
