#!/usr/bin/env bash
# make bench: wrk against xredird and against nginx doing the same
# redirect (geo + return 302), on the same veth topology. The server is
# pinned to CPU 1 and wrk to CPU 0; repetitions alternate the servers
# (A B B A ...); the report gives medians, ratios and CPU per request.
#
# xredird runs four ways: as it starts by default (while traffic is dense
# its worker naps --coalesce-us 20 between passes, else it sleeps until
# woken), with --coalesce-us 0 (woken by the kernel for every packet),
# with --xdp-synack on (SYNs answered in XDP), and with --busy-poll USEC
# (it keeps polling for USEC after traffic, a core spent spinning);
# --busy-poll 0 leaves that one out.
#
# Then, at fixed rates (bench/rateload, an open loop: 1,000, 10,000 and
# 50,000 requests/s by default; the report gives what was achieved), the
# whole-machine CPU each needs per request (xredird with its defaults,
# with --coalesce-us 0, with --lazy-acks off: every bare ACK waking the
# worker, and with --xdp-synack on). --only rate runs that part alone.
# xredird with --xdp-synack on answers SYNs in XDP, which on a veth needs
# an XDP program on the client's side: attached for every server in these
# two parts.
#
# The HTTPS part (issue 11) sets xredird against nginx (one worker) and
# HAProxy (one thread) on a TLS port, all with the same ECDSA P-256
# certificate made here, TLS 1.3, TLS_AES_128_GCM_SHA256, X25519 and one
# stateless ticket per handshake: wrk keep-alive, bench/tls/tlsload
# keep-alive at a fixed rate all sustain (whole-machine CPU per request at
# equal load), then bench/tls/hsload with a new connection per request
# (full handshakes, then resumed ones), interleaved (--tls-scenarios picks
# some); then the RSS of each with --hold idle TLS connections (one
# request answered on each; --hold 0 leaves that out). It writes
# OUT/bench-https.{md,json}.
#
# usage: bench.sh [--only plain|rate|tls] [--reps N] [--duration SEC]
#                 [--connections N] [--rate RPS[,RPS...]] [--busy-poll USEC]
#                 [--tls-reps N] [--tls-duration SEC] [--tls-rate RPS]
#                 [--tls-scenarios keepalive,keepalive-rate,full,resume]
#                 [--hold N] [--out DIR]
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=5
DURATION=10
CONNS=50
RATES=1000,10000,50000
BUSY_POLL=50
OUT=bench-results
ONLY=
TLS_REPS=3
TLS_DURATION=6
TLS_RATE=5000
HOLD=10000
TLS_SCENARIOS=keepalive,keepalive-rate,full,resume
while [ $# -gt 0 ]; do
	case "$1" in
	--reps) REPS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--connections) CONNS=$2; shift 2 ;;
	--rate) RATES=$2; shift 2 ;;
	--busy-poll) BUSY_POLL=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--tls-reps) TLS_REPS=$2; shift 2 ;;
	--tls-duration) TLS_DURATION=$2; shift 2 ;;
	--tls-rate) TLS_RATE=$2; shift 2 ;;
	--hold) HOLD=$2; shift 2 ;;
	--tls-scenarios) TLS_SCENARIOS=$2; shift 2 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
done

case "$ONLY" in
'' | plain | rate | tls) ;;
*) echo "bench: --only plain, rate or tls, not $ONLY" >&2; exit 2 ;;
esac
for scenario in ${TLS_SCENARIOS//,/ }; do
	case "$scenario" in
	keepalive | keepalive-rate | full | resume) ;;
	*) echo "bench: --tls-scenarios takes keepalive, keepalive-rate, full or resume, not $scenario" >&2; exit 2 ;;
	esac
done
for rate in ${RATES//,/ }; do
	if ! [[ "$rate" =~ ^[0-9]+$ ]] || [ "$rate" -lt 50 ]; then
		echo "bench: --rate takes requests/s of 50 or more, not $rate" >&2
		exit 2
	fi
done

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bench_topology xrbench
SERVER_CPU=1
CLIENT_CPU=0
WORK=$(mktemp -d /tmp/xredir-bench.XXXXXX)
RATELOAD=build/bench/rateload
mkdir -p "$OUT" "$WORK/nginx"

bgpid=
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$bgpid" ] && kill -TERM "$bgpid" 2>/dev/null; then
		wait "$bgpid" 2>/dev/null || true
	fi
	stop_server
	./scripts/topology.sh down
	rm -rf "$WORK"
}
on_exit cleanup

# TLS (set by the HTTPS part): the servers also serve $TLS_PORT.
TLS=
TLS_PORT=10443
XREDIRD_TLS_EXTRA=()

start_server() {
	case "$1" in
	# Not through a shell function: $! must be the server itself
	# (ip netns exec and taskset exec it in place).
	xredird*)
		local extra=()
		case "$1" in
		xredird-busy-poll) extra=(--busy-poll "$BUSY_POLL") ;;
		xredird-wake) extra=(--coalesce-us 0) ;;
		xredird-eager) extra=(--lazy-acks off) ;;
		xredird-synack) extra=(--xdp-synack on) ;;
		esac
		[ -z "$TLS" ] || extra+=(--tls-cert "$WORK/tls/cert.pem"
			--tls-key "$WORK/tls/key.pem" --tls-port "$TLS_PORT"
			--idle-timeout 120 "${XREDIRD_TLS_EXTRA[@]}")
		ip netns exec "$XR_SRV_NS" taskset -c $SERVER_CPU \
			build/xredird --iface "$XR_SRV_IF" \
			--bpffs "$XR_BPFFS" --match-ip "$XR_MATCH_IP4" \
			--log-level warn "${extra[@]}" 2>>"$WORK/xredird.log" &
		;;
	nginx)
		ip netns exec "$XR_SRV_NS" taskset -c $SERVER_CPU \
			nginx -p "$WORK/nginx" \
			-c "$WORK/nginx/nginx${TLS:+-tls}.conf" 2>>"$WORK/nginx.log" &
		;;
	# OpenSSL's own configuration (NumTickets): HAProxy 2.6 has no
	# setting for the tickets per handshake.
	haproxy)
		OPENSSL_CONF=$WORK/tls/openssl.cnf ip netns exec "$XR_SRV_NS" \
			taskset -c $SERVER_CPU haproxy -db \
			-f "$WORK/haproxy/haproxy.cfg" 2>>"$WORK/haproxy.log" &
		;;
	esac
	pid=$!
	if ! wait_ready || { [ -n "$TLS" ] && ! wait_tls; }; then
		echo "bench: $1 did not come up" >&2
		exit 1
	fi
}

wait_tls() {
	for _ in $(seq 100); do
		clix curl -sk -o /dev/null --max-time 1 \
			"https://$XR_SRV_IP4:$TLS_PORT/" && return 0
		sleep 0.05
	done
	return 1
}

# CPU time is read where it is measured, not sampled: this kernel charges
# user, system and softirq time at its 250 Hz tick (TICK_CPU_ACCOUNTING),
# which misses most of the short wake-ups of a sparse load (at 1,000
# requests/s it saw a quarter of the busy time), while idle time (NO_HZ)
# and a task's runtime (the scheduler's clock) are measured.
# cpu_busy_us: the machine's busy microseconds over all CPUs (uptime times
# CPUs, less idle: /proc/uptime). proc_us: the server's runtime, its
# threads' summed (schedstat).
CPU_UNITS=1000000
cpu_busy_us() {
	awk -v n="$(getconf _NPROCESSORS_ONLN)" \
		'{ printf "%.0f\n", ($1 * n - $2) * 1e6 }' /proc/uptime
}

proc_us() {
	awk '{ ns += $1 } END { printf "%.0f\n", ns / 1000 }' \
		/proc/"$pid"/task/*/schedstat
}

# The server's wake-ups: its threads' voluntary context switches (each a
# sleep in poll, epoll_wait or a nap that ended).
proc_wakes() {
	awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n }' \
		/proc/"$pid"/task/*/status
}

# One wrk run; appends a JSON line to $WORK/runs.jsonl.
run_one() {
	local server=$1 scenario=$2 rep=$3 hdr=() out c0 c1 p0 p1
	[ "$scenario" = close ] && hdr=(-H "Connection: close")
	start_server "$server"
	c0=$(cpu_busy_us)
	p0=$(proc_us)
	out=$(clix taskset -c $CLIENT_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" \
		--latency "${hdr[@]}" "http://$XR_SRV_IP4:10000/v2/pause/manifests/3.9")
	c1=$(cpu_busy_us)
	p1=$(proc_us)
	stop_server
	python3 scripts/bench_report.py parse "$server" "$scenario" "$rep" \
		"$((c1 - c0))" "$CPU_UNITS" "$((p1 - p0))" <<<"$out" \
		>>"$WORK/runs.jsonl"
	tail -n1 "$WORK/runs.jsonl"
}

# One fixed-rate run (bench/rateload: $CONNS connections, an open loop).
run_rate() {
	local server=$1 scenario=$2 rep=$3 rate=$4 mode=() c0 c1 p0 p1 w0 w1
	[ "$scenario" = close ] && mode=(--close)
	start_server "$server"
	c0=$(cpu_busy_us)
	p0=$(proc_us)
	w0=$(proc_wakes)
	client "$RATELOAD" --dst "$XR_SRV_IP4" --port 10000 --rate "$rate" \
		--duration "$DURATION" --conns "$CONNS" "${mode[@]}"
	c1=$(cpu_busy_us)
	p1=$(proc_us)
	w1=$(proc_wakes)
	stop_server
	python3 scripts/bench_report.py parse-rate "$server" "$scenario" "$rep" \
		"$((c1 - c0))" "$CPU_UNITS" "$((p1 - p0))" "$client_s" \
		"$((w1 - w0))" <<<"$out" >>"$WORK/rate.jsonl"
	tail -n1 "$WORK/rate.jsonl"
}

# --- HTTPS (issue 11) ---
SNI=registry.local
TLSLOAD=build/bench/tlsload
HSLOAD=build/bench/hsload
URL_PATH=/v2/pause/manifests/3.9

# The certificate (ECDSA P-256, self-signed, for $SNI), HAProxy's bundle
# and OpenSSL configuration, the servers' TLS configurations.
tls_setup() {
	local t=$WORK/tls
	mkdir -p "$t" "$WORK/haproxy"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$t/key.pem" -out "$t/cert.pem" -days 2 -subj "/CN=$SNI" \
		-addext "subjectAltName=DNS:$SNI" 2>>"$WORK/openssl.log"
	cat "$t/cert.pem" "$t/key.pem" >"$t/bundle.pem"
	cat >"$t/openssl.cnf" <<EOF
openssl_conf = conf
[conf]
ssl_conf = ssl
[ssl]
system_default = tls
[tls]
NumTickets = 1
EOF
	sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@MATCH_IP@|$XR_MATCH_IP4|" \
		-e "s|@LISTEN4@|$XR_SRV_IP4|" -e "s|@CERT@|$t/cert.pem|" \
		-e "s|@KEY@|$t/key.pem|" -e "s|@TLS_PORT@|$TLS_PORT|" \
		bench/nginx-tls.conf.in >"$WORK/nginx/nginx-tls.conf"
	sed -e "s|@PREFIX@|$WORK/haproxy|g" -e "s|@MATCH_IP@|$XR_MATCH_IP4|" \
		-e "s|@LISTEN4@|$XR_SRV_IP4|" -e "s|@PEM@|$t/bundle.pem|" \
		-e "s|@TLS_PORT@|$TLS_PORT|" \
		bench/haproxy.cfg.in >"$WORK/haproxy/haproxy.cfg"
	TLS=1
}

# What the server picks for a client offering OpenSSL's defaults (wrk's).
negotiated() {
	clix openssl s_client -connect "$XR_SRV_IP4:$TLS_PORT" \
		-servername "$SNI" </dev/null 2>/dev/null |
		awk '/^New,/ { v = $2 " " $5 } /^Server Temp Key/ { k = $4 }
			END { print v, k }' | tr -d ,
}

# client CMD...: CMD in the client namespace on the client CPU; its output
# in $out, its CPU time (user + system, seconds) in $client_s.
client() {
	local t
	t=$({
		TIMEFORMAT='%3U %3S'
		time clix taskset -c $CLIENT_CPU "$@" >"$WORK/client.out" \
			2>>"$WORK/client.log"
	} 2>&1)
	out=$(cat "$WORK/client.out")
	client_s=$(awk '{ print $1 + $2 }' <<<"$t")
}

# One HTTPS run: keepalive (wrk), keepalive-rate (tlsload --rate: TLS_RATE
# requests/s over $CONNS connections), full or resume (hsload, a new
# connection per request, on one OS thread); appends a JSON line to
# $WORK/tls.jsonl.
run_tls() {
	local server=$1 scenario=$2 rep=$3 verb=parse-tls mode=(--"$2") c0 c1 p0 p1
	[ "$scenario" != keepalive-rate ] || mode=(--rate "$TLS_RATE")
	start_server "$server"
	[ "$rep$scenario" != 1keepalive ] ||
		echo "$server $(negotiated)" >>"$WORK/negotiated.txt"
	c0=$(cpu_busy_us)
	p0=$(proc_us)
	case "$scenario" in
	keepalive)
		verb=parse
		client wrk -t1 -c"$CONNS" -d"${TLS_DURATION}s" --latency \
			"https://$XR_SRV_IP4:$TLS_PORT$URL_PATH"
		;;
	keepalive-rate)
		client "$TLSLOAD" "${mode[@]}" --dst "$XR_SRV_IP4" \
			--port "$TLS_PORT" --sni "$SNI" --path "$URL_PATH" \
			--conns "$CONNS" --duration "$TLS_DURATION"
		;;
	*)
		client env GOMAXPROCS=1 "$HSLOAD" "${mode[@]}" \
			--dst "$XR_SRV_IP4" --port "$TLS_PORT" --sni "$SNI" \
			--path "$URL_PATH" --conns "$CONNS" \
			--duration "$TLS_DURATION"
		;;
	esac
	c1=$(cpu_busy_us)
	p1=$(proc_us)
	stop_server
	python3 scripts/bench_report.py "$verb" "$server" "$scenario" "$rep" \
		"$((c1 - c0))" "$CPU_UNITS" "$((p1 - p0))" "$client_s" \
		<<<"$out" >>"$WORK/tls.jsonl"
	tail -n1 "$WORK/tls.jsonl"
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

# RSS of each server started afresh, then with $HOLD idle TLS connections
# (handshake, one request answered), opened from 10.77.0.100 and up, at
# most 400 per address (within xredird's default per-source limits). Its
# TLS sessions are bounded by --max-tls-flows (4096 by default): raised to
# make room for them, as nginx's worker_connections is.
tls_memory() {
	local server rss0 rss1 i n_src=$(((HOLD + 399) / 400))
	[ "$n_src" -le 150 ] || { echo "bench: --hold $HOLD: too many" >&2; exit 2; }
	for i in $(seq 100 $((99 + n_src))); do
		ip -n "$XR_CLI_NS" addr add "10.77.0.$i/24" dev "$XR_CLI_IF"
	done
	XREDIRD_TLS_EXTRA=(--max-tls-flows $((2 * HOLD > 4096 ? 2 * HOLD : 4096)))
	for server in xredird nginx haproxy; do
		start_server "$server"
		sleep 1
		rss0=$(rss_kb)
		rm -f "$WORK/ready"
		# Not through clix: $! must be tlsload itself.
		ip netns exec "$XR_CLI_NS" taskset -c $CLIENT_CPU \
			"$TLSLOAD" --hold "$HOLD" --conns 200 \
			--src-ips "10.77.0.100+$n_src" --dst "$XR_SRV_IP4" \
			--port "$TLS_PORT" --sni "$SNI" --path "$URL_PATH" \
			--ready-file "$WORK/ready" >"$WORK/hold.json" \
			2>>"$WORK/client.log" &
		bgpid=$!
		for _ in $(seq 1800); do
			if [ -f "$WORK/ready" ] || ! kill -0 "$bgpid" 2>/dev/null; then
				break
			fi
			sleep 0.1
		done
		[ -f "$WORK/ready" ] || echo "bench: $server: not all $HOLD held" >&2
		sleep 2 # idle: buffers released
		rss1=$(rss_kb)
		kill -TERM "$bgpid"
		wait "$bgpid" || true
		bgpid=
		stop_server
		python3 scripts/bench_report.py parse-hold "$server" "$rss0" \
			"$rss1" <"$WORK/hold.json" >>"$WORK/memory.jsonl"
		tail -n1 "$WORK/memory.jsonl"
	done
	XREDIRD_TLS_EXTRA=()
}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, XDP)" >&2
	exit 1
fi
nginx_conf "$WORK/nginx"
./scripts/topology.sh up

# What --xdp-synack sends back with XDP_TX reaches the client's veth only
# through an XDP program there: one, for every server, in the HTTP parts.
[ "$ONLY" = tls ] ||
	scripts/peer_xdp.sh load "$XR_CLI_NS" "$XR_CLI_IF" >>"$WORK/peer_xdp.log" 2>&1

if [ "$ONLY" = '' ] || [ "$ONLY" = plain ]; then
	servers="xredird nginx xredird-wake xredird-synack"
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
fi

if [ "$ONLY" != tls ]; then
	for rep in $(seq $(((REPS + 1) / 2))); do
		for rate in ${RATES//,/ }; do
			for scenario in keepalive close; do
				order="xredird nginx xredird-wake xredird-eager xredird-synack"
				[ $((rep % 2)) = 1 ] || order="xredird-synack xredird-eager xredird-wake nginx xredird"
				for server in $order; do
					run_rate "$server" "$scenario" "$rep" "$rate"
				done
			done
		done
	done
	scripts/peer_xdp.sh unload "$XR_CLI_NS" "$XR_CLI_IF" >>"$WORK/peer_xdp.log" 2>&1

	python3 scripts/bench_report.py report "$WORK/runs.jsonl" "$OUT" \
		"reps=$REPS duration=${DURATION}s connections=$CONNS server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU busy_poll_us=$BUSY_POLL rates=$RATES" \
		"$WORK/rate.jsonl"
fi

if [ "$ONLY" = '' ] || [ "$ONLY" = tls ]; then
	start=$SECONDS
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	ulimit -n "$(ulimit -Hn)" # --hold descriptors, for every server
	tls_setup
	for rep in $(seq "$TLS_REPS"); do
		for scenario in ${TLS_SCENARIOS//,/ }; do
			order="xredird nginx haproxy"
			[ $((rep % 2)) = 1 ] || order="haproxy nginx xredird"
			for server in $order; do
				run_tls "$server" "$scenario" "$rep"
			done
		done
	done
	[ "$HOLD" = 0 ] || tls_memory
	python3 scripts/bench_report.py report-tls "$WORK/tls.jsonl" \
		"$WORK/memory.jsonl" "$OUT" \
		"reps=$TLS_REPS duration=${TLS_DURATION}s connections=$CONNS rate=$TLS_RATE hold=$HOLD server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU wall=$((SECONDS - start))s load_average_before=($load0) after=($(cut -d' ' -f1-3 /proc/loadavg))" \
		"$WORK/negotiated.txt"
fi
