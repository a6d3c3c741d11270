# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# xredir behind a router: scripts/fabric.sh (XR_FAB=$XR_FAB_TEST, default
# xrfabt) puts three xredir nodes behind a router that learns the service
# address from each by BGP (BIRD 2, eBGP, ECMP over the nodes, L4 hash);
# each node announces it only while its xredird is ready
# (deploy/bgp/xredir-announce); all share one --config file and one
# --cookie-secret-file; clients sit behind the router. No test edits a
# route: they await what BGP does, with a deadline.
#
#   01-fabric-up          BGP sessions up, the VIP's multipath route learnt
#                         by BGP with 3 next hops (v4, v6), hash policy,
#                         single-queue veths, client checksum offload off,
#                         neighbours resolved; every node answers on its own
#                         address, the VIP on v4/v6
#   02-ecmp-3000          3,000 requests, a new connection each: all 302,
#                         every node served a share (xredirctl stats)
#   03-config-all-nodes   a rule for the clients' prefix written to the
#                         shared file reaches all three nodes (rule list,
#                         status, answers from each node)
#   04-node-down          node 3's xredird stopped (SIGTERM) under load:
#                         its route is withdrawn (2 next hops), every
#                         request answered without a retry; 1,000 more all
#                         answered by nodes 1 and 2
#   05-node-back          node 3 restarted under load: announced again once
#                         ready (3 next hops), every request answered
#                         without a retry, node 3 serving the current rules
#   06-rolling-restart    nodes 1, 2 and 3 in turn stopped (SIGTERM:
#                         withdrawn, drained) and started again (announced
#                         once ready) under four loads through the VIP at
#                         once: new connections at 400/s (Python), 48
#                         keep-alive connections reopened when the server
#                         closes them (Python), wrk (16 keep-alive
#                         connections, errors and answers counted by
#                         tests/e2e/fabric_wrk.lua) and Go's net/http (16
#                         keep-alive connections, its silent retries
#                         counted through httptrace,
#                         tests/e2e/fabric_client.go): 0 failed, 0 reset,
#                         0 retried requests, 0 wrk errors, every answer
#                         the redirect (a clean close after "Connection:
#                         close", the drain's, is neither); each node
#                         serving 100 requests or more before its stop and
#                         after its start; the router's rehash moves open
#                         connections, which the node they land on adopts
#                         (the adoptions counted per node, over 0 in all);
#                         requests per client, withdraw and announce times
#                         reported
#   07-drain-order        SIGTERM to node 2 under new-connection load and
#                         with keep-alive clients: it is withdrawn first
#                         (measured at the router), still serving, and only
#                         then drains: 0 failed and 0 retried new
#                         connections, every keep-alive connection to node 2
#                         ended cleanly by the server; node 2 back after
#   08-crash-window       kill -9 of node 1's xredird under load: withdrawn
#                         once its /readyz stops answering; the requests
#                         that failed meanwhile and the window are reported
#                         (window asserted under 2 s); node 1 back after
#   09-vip-config         vip lines in the shared file: every node serves
#                         them (origin config; an address --vip also names
#                         keeps origin flag), a line removed is dropped on
#                         reload, "vip any" follows the file, a bad vip line
#                         is rejected with its line and changes nothing
#   10-node-join          node 4 (wired and peering, its xredird not
#                         started) joins under new-connection load:
#                         announced once ready, 0 failed, it serves a
#                         share through the VIP; withdrawn again on SIGTERM
#   11-xdp-synack         nodes 1, 2 and 3 in turn restarted with
#                         --xdp-synack on (the router's veths to them run an
#                         XDP program of their own, which a veth needs to
#                         deliver XDP_TX frames) under new connections at
#                         400/s through the VIP: 0 failed, 0 retried, at
#                         most 1% slower than 0.5 s (a SYN-ACK lost); each
#                         node then says it answers SYNs in XDP and did so
#                         for its share of 900 more (its workers for under
#                         5%: a port reused while its last connection is
#                         open there);
#                         the rehash moves handshakes between nodes, whose
#                         cookies, made in XDP, each node takes from the
#                         others (one secret file, one wall clock). The
#                         nodes stay so: this test runs last.
#
# Run by tests/e2e/run.sh fabric; the fabric's prefix is XR_FAB_TEST.
export XR_FAB=${XR_FAB_TEST:-xrfabt}
# lib.sh's topology is not used: a name of its own, so that its cleanup
# touches nothing else.
SUITE_TOPO=$XR_FAB-none
SUITE_TOPO_UP=0
SUITE_LOCK=xredir-fabric-$XR_FAB
SUITE_TOOLS=(curl "$PYTHON")
FABRIC=$E2E_ROOT/scripts/fabric.sh
FCPY=$E2E_ROOT/tests/e2e/fabric_client.py
DEFAULT=https://k8s.gcr.io
CLIENTS=http://clients.test

# ---- helpers ----

fab() { "$FABRIC" "$@"; }
fcli() { ip netns exec "$FAB_CLI_NS" "$@"; }
nctl() {
	local i=$1
	shift
	"$XREDIRCTL" --bpffs "$XR_BPFFS" --iface "$XR_FAB-n$i" "$@"
}
node_ip4() { echo "10.78.$1.2"; }

# nstat I NAME: a counter of node I (its pinned counters).
nstat() { nctl "$1" stats | awk -v k="$2" '$1 == k { print $2 }'; }

# served I: the requests node I has answered.
served() { nstat "$1" requests; }

# per_node NAME: "N1 N2 N3", that counter of each node now.
per_node() {
	local i
	for i in $FAB_NODE_IDS; do nstat "$i" "$1"; done | paste -sd' '
}

# others I: the nodes but I, as group prints them.
others() { tr ' ' '\n' <<<"$FAB_NODE_IDS" | grep -vx "$1" | paste -sd' '; }

# counts: "N1 N2 N3" now.
counts() { per_node requests; }

# settled: "N1 N2 N3" once the counters of earlier requests are published
# (every 100 ms).
settled() {
	sleep 0.25
	counts
}

# wait_counts BEFORE WANT: until the sum of the increases is WANT (the
# counters are published every 100 ms); prints the increases.
wait_counts() {
	local before=$1 want=$2 now d sum i
	for ((i = 0; i < 40; i++)); do
		now=$(counts)
		d=$(paste -d' ' <(tr ' ' '\n' <<<"$before") <(tr ' ' '\n' <<<"$now") |
			awk '{ printf "%s%d", (NR > 1 ? " " : ""), $2 - $1 }')
		sum=$(tr ' ' '\n' <<<"$d" | awk '{ s += $1 } END { print s }')
		[ "$sum" -ge "$want" ] && break
		sleep 0.05
	done
	echo "$d"
	[ "$sum" = "$want" ]
}

# load COUNT WANT-URL TAG [6]: COUNT requests through the VIP (IPv6 with
# a 4th argument), from all the client addresses in turn.
load() {
	local srcs=$FAB_CLI_ADDRS4 vip=$FAB_VIP4
	[ "${4:-}" = 6 ] && srcs=$FAB_CLI_ADDRS6 vip=$FAB_VIP6
	fcli timeout 120 "$PYTHON" "$FCPY" --host "$vip" --port "$FAB_PORT" \
		--count "$1" --concurrency 16 --src "$(tr ' ' ',' <<<"$srcs")" \
		--want "$2" --tag "$3"
}

# shares D1 D2 D3 TOTAL: "n1 1003 (33%), ..."
shares() {
	local i=1 d out='' total=${*: -1}
	for d in "${@:1:$#-1}"; do
		out="$out, n$i $d ($((d * 100 / total))%)"
		i=$((i + 1))
	done
	echo "${out#, }"
}

# write_config [EXTRA-LINES]: the shared file, replaced atomically (a new
# file renamed over it, as configuration management does).
write_config() {
	cat >"$XR_FAB_CONFIG.tmp" <<EOF
# xredir fabric test: one file for every node
default $DEFAULT
target mirror http://mirror.test
rule 192.0.2.0/24 mirror
${1:-}
EOF
	mv -f "$XR_FAB_CONFIG.tmp" "$XR_FAB_CONFIG"
}

# healthy I: node I's /readyz, from the router.
healthy() {
	[ "$(ip netns exec "$FAB_RTR_NS" curl -s -m 1 -o /dev/null -w '%{http_code}' \
		"http://$(node_ip4 "$1"):$FAB_MPORT/readyz" 2>/dev/null)" = 200 ]
}

# group: the nodes the router's VIP routes go to, "1 2 3" when the IPv4
# and IPv6 routes agree and were learnt by BGP (proto bird), else both
# as they are.
group() {
	local p4 p6 g4 g6
	p4=$(fab paths 4)
	p6=$(fab paths 6)
	g4=$(awk '$2 == "bird" { split($1, a, "."); printf "%s ", a[3] }' <<<"$p4")
	g6=$(awk '$2 == "bird" { split($1, a, ":"); printf "%s ", a[2] }' <<<"$p6")
	if [ "$g4" = "$g6" ] && [ "$(wc -l <<<"$p4")" = "$(wc -w <<<"$g4")" ]; then
		echo "${g4% }"
	else
		echo "v4: $(tr '\n' ' ' <<<"$p4")v6: $(tr '\n' ' ' <<<"$p6")"
	fi
}

# await_group WANT MS T0: until group is WANT, for MS ms at most; prints
# when it was reached, in ms after T0 (date +%s%3N).
await_group() {
	local want=$1 limit=$2 t0=$3 g
	while :; do
		g=$(group)
		[ "$g" = "$want" ] && { echo $(($(date +%s%3N) - t0)); return 0; }
		[ $(($(date +%s%3N) - t0)) -lt "$limit" ] || break
		sleep 0.02
	done
	echo "group '$g', not '$want', after $limit ms" >&2
	return 1
}

# syns: new connections the nodes have received so far, summed.
syns() {
	local i n=0
	for i in $FAB_NODE_IDS; do n=$((n + $(nstat "$i" syn_rcvd))); done
	echo "$n"
}

# await_load N: until the nodes have received N new connections from now
# on, 10 s at most: a load started in the background has begun (a Python
# client on a busy machine takes a while to).
await_load() {
	local want=$1 base i n
	base=$(syns)
	for ((i = 0; i < 200; i++)); do
		n=$(($(syns) - base))
		[ "$n" -ge "$want" ] && return 0
		sleep 0.05
	done
	echo "the load did not begin: $n new connections in 10 s" >&2
	return 1
}

# mon_start: the router's route changes from now on, timestamped.
mon_start() {
	ip -n "$FAB_RTR_NS" -ts monitor route >"$E2E_WORK/mon.out" 2>&1 &
	MON=$!
}

mon_stop() {
	kill "$MON" 2>/dev/null
	wait "$MON" 2>/dev/null
	return 0
}

# mon_at DST present|absent HOP...: when (epoch ms) DST's route first
# changed to have (not have) every HOP among its next hops (a deleted
# route has none), in what the monitor saw.
mon_at() {
	local dst=$1 want=$2 ts
	shift 2
	ts=$(awk -v dst="$dst" -v want="$want" -v hops_wanted="$*" '
		function flush(  n, h, i, ok) {
			if (cur == dst && !done) {
				n = split(hops_wanted, h, " ")
				ok = 1
				for (i = 1; i <= n; i++)
					if ((index(hops " ", " " h[i] " ") > 0) != (want == "present"))
						ok = 0
				if (ok) { print ts; done = 1 }
			}
			cur = ""; hops = ""
		}
		/^\[/ {
			flush()
			ts = substr($1, 2, length($1) - 2)
			del = ($2 == "Deleted")
			cur = del ? $3 : $2
		}
		!del { for (i = 1; i < NF; i++) if ($i == "via") hops = hops " " $(i + 1) }
		END { flush() }' "$E2E_WORK/mon.out")
	[ -n "$ts" ] || { echo "no change of $dst to $want $* in: $(tr '\n' ' ' <"$E2E_WORK/mon.out")" >&2; return 1; }
	date -d "$ts" +%s%3N
}

# log_at I MSG: when (epoch ms) node I last logged msg=MSG.
log_at() {
	local ts
	ts=$(node_log "$1" | sed -n "s/^ts=\([^ ]*\)Z level=[a-z]* msg=$2\( .*\)\{0,1\}\$/\1/p" | tail -n 1)
	[ -n "$ts" ] && date -u -d "$ts" +%s%3N
}

# bg_load OUT COUNT RATE TAG [CLIENT-ARGS]: paced new-connection load
# through the VIP in the background (its pid in BG).
bg_load() {
	local out=$1 count=$2 rate=$3 tag=$4
	shift 4
	fcli timeout 120 "$PYTHON" "$FCPY" --host "$FAB_VIP4" --port "$FAB_PORT" \
		--count "$count" --rate "$rate" --concurrency 32 \
		--src "$(tr ' ' ',' <<<"$FAB_CLI_ADDRS4")" --want "$CLIENTS" \
		--tag "$tag" "$@" >"$out" 2>&1 &
	BG=$!
}

# node_log I: node I's log since its last start.
node_log() { awk '/^--- /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$XR_FAB_DIR/node$1.log"; }

# ---- tests ----

test_01_fabric_up() {
	local i r n q
	r=$(group)
	[ "$r" = "1 2 3" ] || { why "the router's VIP routes: $r"; return 1; }
	ip -n "$FAB_RTR_NS" route show "$FAB_VIP4/32" >&2
	# v4 and v6 with every node, the spare one too.
	n=$(fab birdc rtr show protocols | grep -c 'BGP .* Established')
	[ "$n" = 8 ] || { why "$n of 8 BGP sessions established: $(fab birdc rtr show protocols | tr '\n' ';')"; return 1; }
	[ "$(ip netns exec "$FAB_RTR_NS" sysctl -n net.ipv4.fib_multipath_hash_policy)" = 1 ] ||
		{ why "fib_multipath_hash_policy is not 1"; return 1; }
	fcli ethtool -k "$FAB_CLI_IF" | grep -q '^tx-checksumming: off' ||
		{ why "client veth TX checksum offload is on"; return 1; }
	for i in $FAB_NODE_IDS; do
		fab birdc "$i" show protocols | grep -Eq '^xredir_vip6 +Static +master6 +up' ||
			{ why "node $i does not announce the VIP: $(fab birdc "$i" show protocols | tr '\n' ';')"; return 1; }
		q=$(ip netns exec "$XR_FAB-n$i" ls "/sys/class/net/$XR_FAB-n$i/queues" | grep -c rx-)
		[ "$q" = 1 ] || { why "node $i veth has $q rx queues"; return 1; }
		# Answered by that node itself, on its interface's address.
		r=$(fcli curl -s -m 2 -o /dev/null -w '%{http_code} %header{location}' \
			"http://$(node_ip4 "$i"):$FAB_PORT/n$i")
		[ "$r" = "302 $DEFAULT/n$i" ] || { why "node $i direct: '$r'"; return 1; }
		r=$(ip -n "$FAB_RTR_NS" neigh show "$(node_ip4 "$i")")
		echo "router neighbour: $r" >&2
		[[ "$r" =~ lladdr ]] || { why "router has no ARP entry for node $i: '$r'"; return 1; }
		r=$(ip -n "$FAB_RTR_NS" -6 neigh show "fd78:$i::2")
		[[ "$r" =~ lladdr ]] || { why "router has no NDP entry for node $i: '$r'"; return 1; }
		healthy "$i" || { why "node $i /readyz is not 200"; return 1; }
	done
	r=$(fcli curl -s -m 2 -o /dev/null -w '%{http_code} %header{location}' "http://$FAB_VIP4:$FAB_PORT/v4")
	[ "$r" = "302 $DEFAULT/v4" ] || { why "VIP v4: '$r'"; return 1; }
	r=$(fcli curl -sg -m 2 -o /dev/null -w '%{http_code} %header{location}' "http://[$FAB_VIP6]:$FAB_PORT/v6")
	[ "$r" = "302 $DEFAULT/v6" ] || { why "VIP v6: '$r'"; return 1; }
	echo "3 nodes ready and announcing (a 4th peering, not started); 8 BGP sessions; the router's VIP routes learnt by BGP, 3 next hops v4+v6 (L4 hash); single-queue veths, neighbours resolved; VIP answers on v4 and v6"
}

test_02_ecmp_3000() {
	need "$PYTHON" || return 1
	local before d out d6 out6
	before=$(settled)
	out=$(load 3000 "$DEFAULT" e) || { why "$out"; return 1; }
	echo "$out" >&2
	d=$(wait_counts "$before" 3000) || { why "node counters rose by $d (sum is not 3000)"; return 1; }
	for n in $d; do
		[ "$n" -ge 300 ] || { why "a node served only $n of 3000: $d"; return 1; }
	done
	before=$(settled)
	out6=$(load 600 "$DEFAULT" e6 6) || { why "IPv6: $out6"; return 1; }
	echo "$out6" >&2
	d6=$(wait_counts "$before" 600) || { why "IPv6: node counters rose by $d6"; return 1; }
	for n in $d6; do
		[ "$n" -ge 60 ] || { why "IPv6: a node served only $n of 600: $d6"; return 1; }
	done
	echo "$out; $(shares $d 3000); IPv6 600/600: $(shares $d6 600)"
}

test_03_config_all_nodes() {
	need "$PYTHON" || return 1
	local i t0 ms before d out r rule="10.78.0.0/24"
	write_config "target clients $CLIENTS
rule $rule clients"
	t0=$(date +%s%3N)
	for i in $FAB_NODE_IDS; do
		until nctl "$i" rule list | grep -Eq "^${rule//./\\.} +clients +config:[0-9]+$"; do
			[ $(($(date +%s%3N) - t0)) -lt 3000 ] ||
				{ why "node $i: no '$rule clients' 3 s after the write: $(nctl "$i" rule list | tr '\n' ';')"; return 1; }
			sleep 0.05
		done
	done
	ms=$(($(date +%s%3N) - t0))
	for i in $FAB_NODE_IDS; do
		nctl "$i" status | grep -q '^last reload: ok$' ||
			{ why "node $i status: $(nctl "$i" status | grep reload)"; return 1; }
		r=$(fcli curl -s -m 2 -o /dev/null -w '%{http_code} %header{location}' \
			"http://$(node_ip4 "$i"):$FAB_PORT/c$i")
		echo "node $i direct: $r" >&2
		[ "$r" = "302 $CLIENTS/c$i" ] || { why "node $i answers '$r'"; return 1; }
	done
	before=$(settled)
	out=$(load 600 "$CLIENTS" c) || { why "through the VIP: $out"; return 1; }
	d=$(wait_counts "$before" 600) || { why "node counters rose by $d"; return 1; }
	for n in $d; do
		[ "$n" -gt 0 ] || { why "a node served none of the 600: $d"; return 1; }
	done
	echo "rule $rule on all 3 nodes ${ms} ms after the file was replaced; each node answers $CLIENTS; 600 via the VIP: $(shares $d 600)"
}

test_04_node_down() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t04.load t0 ms s sjob before d out rc n3
	bg_load "$load" 1500 500 d4
	await_load 200 || { wait "$BG"; why "the load did not begin"; return 1; }
	mon_start
	t0=$(date +%s%3N)
	fab stop-node 3 5 >"$E2E_WORK/t04.stop" 2>&1 &
	sjob=$!
	ms=$(await_group "1 2" 10000 "$t0" 2>&1) || { mon_stop; wait "$sjob" "$BG"; why "node 3 not withdrawn: $ms"; return 1; }
	wait "$sjob" || { mon_stop; wait "$BG"; why "node 3 did not stop (exit 0) within 5 s: $(cat "$E2E_WORK/t04.stop")"; return 1; }
	s=$(($(date +%s%3N) - t0))
	mon_stop
	wait "$BG"
	rc=$?
	cat "$load" >&2
	[ "$rc" = 0 ] || { why "under load while node 3 stopped: $(tail -n 1 "$load")"; return 1; }
	ms=$(mon_at "$FAB_VIP4" absent "$(node_ip4 3)") || { why "no route change seen"; return 1; }
	ms=$((ms - t0))
	node_log 3 | grep -q 'msg=withdrawn by=quiet' || { why "node 3 did not log withdrawn by=quiet: $(node_log 3 | tail -n 3)"; return 1; }
	node_log 3 | grep -q 'msg=stopped' || { why "node 3 did not log stopped"; return 1; }
	ip -n "$FAB_RTR_NS" route show "$FAB_VIP4/32" >&2
	before=$(settled)
	n3=$(served 3)
	out=$(load 1000 "$CLIENTS" d) || { why "with node 3 down: $out"; return 1; }
	echo "$out" >&2
	d=$(wait_counts "$before" 1000) || { why "node counters rose by $d"; return 1; }
	set -- $d
	[ "$3" = 0 ] && [ "$(served 3)" = "$n3" ] || { why "node 3 counted $3 requests while down"; return 1; }
	[ "$1" -ge 200 ] && [ "$2" -ge 200 ] || { why "uneven: $d"; return 1; }
	echo "node 3 SIGTERM: withdrawn at the router at ${ms} ms, exited at ${s} ms; under load $(cut -d' ' -f1 "$load") without a retry; then 1000/1000 answered: $(shares $1 $2 1000)"
}

# start_under_load I GROUP OUT TAG: node I's xredird started under 1,500
# new connections at 500/s (output in OUT); succeeds once the router's
# group is GROUP and every connection was answered without a retry;
# prints when node I entered the route, in ms after the start command.
start_under_load() {
	local i=$1 group=$2 out=$3 tag=$4 t0 ms rc
	bg_load "$out" 1500 500 "$tag"
	await_load 200 || { wait "$BG"; why "the load did not begin"; return 1; }
	mon_start
	t0=$(date +%s%3N)
	fab start-node "$i" >"$out.start" 2>&1 ||
		{ mon_stop; wait "$BG"; why "node $i did not start: $(cat "$out.start")"; return 1; }
	ms=$(await_group "$group" 10000 "$t0" 2>&1) ||
		{ mon_stop; wait "$BG"; why "node $i not announced: $ms"; return 1; }
	mon_stop
	ms=$(mon_at "$FAB_VIP4" present "$(node_ip4 "$i")") || { wait "$BG"; why "no route change seen"; return 1; }
	wait "$BG"
	rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] || { why "under load while node $i started: $(tail -n 1 "$out")"; return 1; }
	echo $((ms - t0))
}

test_05_node_back() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t05.load ms before d out
	ms=$(start_under_load 3 "1 2 3" "$load" b5) || return 1
	before=$(settled)
	out=$(load 900 "$CLIENTS" b) || { why "$out"; return 1; }
	d=$(wait_counts "$before" 900) || { why "node counters rose by $d"; return 1; }
	for n in $d; do
		[ "$n" -ge 90 ] || { why "a node served only $n of 900: $d"; return 1; }
	done
	echo "node 3 restarted: in the router's route ${ms} ms after the start command (it answers before it is announced); under load $(cut -d' ' -f1 "$load") without a retry; then 900/900 -> $CLIENTS: $(shares $d 900)"
}

# clients_rule: the clients' rule of 03 on every node (a test run alone
# writes it).
clients_rule() {
	local i t0 rule="10.78.0.0/24"
	write_config "target clients $CLIENTS
rule $rule clients"
	t0=$(date +%s%3N)
	for i in $FAB_NODE_IDS; do
		until nctl "$i" rule list | grep -Eq "^${rule//./\\.} +clients "; do
			[ $(($(date +%s%3N) - t0)) -lt 3000 ] || { why "node $i: no rule $rule 3 s after the write"; return 1; }
			sleep 0.05
		done
	done
}

# Every node in turn, 1, 2 then 3, stopped (SIGTERM: withdrawn, then
# drained) and started again (announced once ready) under four loads
# through the VIP at once: new connections (Python), keep-alive
# connections (Python, reopened when the server closes them), wrk and
# Go's net/http (keep-alive, paced). The group changes six times; each
# time the router's rehash moves some open connections to another node,
# which adopts them.
ROLL_S=25 # the clients' duration: the restarts took 15-19 s here

# roll_outlasted MS: whether the load ran past restarts that took MS ms
# (by 1 s at least), so that every restart was made under it.
roll_outlasted() {
	[ $(($1 + 1000)) -lt $((ROLL_S * 1000)) ] ||
		{ why "the restarts took $1 ms: the load (${ROLL_S} s) ended too soon after"; return 1; }
}
test_06_rolling_restart() {
	need "$PYTHON" wrk go || return 1
	local w=$E2E_WORK/t06 gobin=$E2E_WORK/bin/fabric_client_go
	local nl=$E2E_WORK/t06.load kv=$E2E_WORK/t06.kv wk=$E2E_WORK/t06.wrk gc=$E2E_WORK/t06.go
	local i t0 tn t_out t_in ms kvjob wkjob gcjob rc raced fails a0 c0 ad='' bf='' times='' v
	GOCACHE=$E2E_WORK/go-cache GOPROXY=off GOFLAGS='' go build -o "$gobin" \
		"$E2E_ROOT/tests/e2e/fabric_client.go" >&2 || { why "go build failed"; return 1; }
	clients_rule || return 1
	a0=$(adoptions)
	c0=$(counts)
	fcli timeout 90 "$PYTHON" "$FCPY" --host "$FAB_VIP4" --port "$FAB_PORT" --keepalive 48 \
		--interval 0.1 --duration "$ROLL_S" --reopen --want "$CLIENTS" --tag ka >"$kv" 2>&1 &
	kvjob=$!
	fcli timeout 90 "$gobin" -addr "$FAB_VIP4:$FAB_PORT" -c 16 -interval 20ms \
		-duration "${ROLL_S}s" -want "$CLIENTS" -tag go >"$gc" 2>&1 &
	gcjob=$!
	fcli timeout 90 wrk -t 2 -c 16 -d "${ROLL_S}s" --timeout 5s -s "$E2E_ROOT/tests/e2e/fabric_wrk.lua" \
		"http://$FAB_VIP4:$FAB_PORT/wrk" -- "$CLIENTS" 20 >"$wk" 2>&1 &
	wkjob=$!
	bg_load "$nl" $((ROLL_S * 400)) 400 r
	wait_line "$kv" '^ready' 5 "$kvjob" && wait_line "$gc" '^ready' 5 "$gcjob" &&
		await_load 200 || { wait "$kvjob" "$gcjob" "$wkjob" "$BG"; return 1; }
	t0=$(date +%s%3N)
	for i in $FAB_NODE_IDS; do
		mon_start
		tn=$(date +%s%3N)
		fab stop-node "$i" 5 >"$w.stop$i" 2>&1 || { why "node $i did not stop: $(cat "$w.stop$i")"; break; }
		# Its last counts, then it counts from 0 again.
		ad="$ad $(($(nstat "$i" adoptions) - $(cut -d' ' -f"$i" <<<"$a0")))"
		v=$(($(served "$i") - $(cut -d' ' -f"$i" <<<"$c0")))
		bf="$bf $v"
		times="$times; n$i served $v,"
		ms=$(await_group "$(others "$i")" 10000 "$tn" 2>&1) || { why "node $i not withdrawn: $ms"; break; }
		fab start-node "$i" >"$w.start$i" 2>&1 || { why "node $i did not start: $(cat "$w.start$i")"; break; }
		ms=$(await_group "$FAB_NODE_IDS" 10000 "$tn" 2>&1) || { why "node $i not announced again: $ms"; break; }
		mon_stop
		t_out=$(($(mon_at "$FAB_VIP4" absent "$(node_ip4 "$i")") - tn))
		t_in=$(($(mon_at "$FAB_VIP4" present "$(node_ip4 "$i")") - tn))
		times="$times withdrawn ${t_out} ms and announced ${t_in} ms after its SIGTERM"
	done
	mon_stop
	ms=$(($(date +%s%3N) - t0))
	wait "$BG"
	rc=$?
	wait "$kvjob" || rc=$((rc + 10))
	wait "$gcjob" || rc=$((rc + 100))
	wait "$wkjob" || rc=$((rc + 1000))
	cat "$nl" "$kv" "$gc" "$wk" >&2
	[ -z "$(cat "$E2E_WORK/.reason" 2>/dev/null)" ] || return 1
	roll_outlasted "$ms" || return 1
	[ "$rc" = 0 ] || { why "failed (exits $rc): $(tail -qn 1 "$nl" "$kv" "$gc" "$wk" | tr '\n' ' ')"; return 1; }
	raced=$(sed -n 's/.* while idle (\([0-9]*\) of them as a request was sent.*/\1/p' "$kv")
	[ "$raced" = 0 ] || { why "$raced Python keep-alive requests retried: $(tail -n 1 "$kv")"; return 1; }
	grep -q '; 0 retried by the Transport$' "$gc" || { why "Go: $(tail -n 1 "$gc")"; return 1; }
	fails=$(sed -n 's/^wrk: \([0-9]*\) requests; errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\), status \([0-9]*\); not the redirect: \([0-9]*\).*/\1 \2\3\4\5\6\7/p' "$wk")
	[ -n "$fails" ] && [ "${fails#* }" = 000000 ] && [ "${fails% *}" -gt 0 ] ||
		{ why "wrk: $(tail -n 1 "$wk")"; return 1; }
	sleep 0.25 # counters published every 100 ms
	v=$(counts)
	times="$times; served since their restart: $v"
	# Each node took a share before its stop and after its start.
	for i in $bf $v; do
		[ "$i" -ge 100 ] || { why "a node served under 100 requests before or after its restart: $bf / $v"; return 1; }
	done
	set -- $ad
	set -- $(($1 + $(nstat 1 adoptions))) $(($2 + $(nstat 2 adoptions))) $(($3 + $(nstat 3 adoptions)))
	ad="n1 +$1, n2 +$2, n3 +$3"
	[ $(($1 + $2 + $3)) -gt 0 ] || { why "no connection moved and adopted ($ad)"; return 1; }
	echo "nodes 1, 2, 3 restarted in turn in ${ms} ms (${times#; }); new connections: $(cut -d' ' -f1 "$nl") at 400/s, none retried; Python: $(tail -n 1 "$kv"); $(tail -n 1 "$gc"); $(tail -n 1 "$wk"); adoptions $ad (each node's before and after its restart)"
}

test_07_drain_order() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t07.load kv=$E2E_WORK/t07.kv kd=$E2E_WORK/t07.kd
	local t0 r_ms r4 r6 w_ms s sjob kvjob kdjob rc n v
	# Keep-alive clients, a request every 100 ms each: 48 through the
	# VIP (some on node 2) and 8 on node 2's own address (they reach it
	# whatever the router does).
	fcli timeout 60 "$PYTHON" "$FCPY" --host "$FAB_VIP4" --port "$FAB_PORT" \
		--keepalive 48 --interval 0.1 --duration 6 --want "$CLIENTS" --tag kv >"$kv" 2>&1 &
	kvjob=$!
	fcli timeout 60 "$PYTHON" "$FCPY" --host "$(node_ip4 2)" --port "$FAB_PORT" \
		--keepalive 8 --interval 0.1 --duration 6 --need-close --want "$CLIENTS" --tag kd >"$kd" 2>&1 &
	kdjob=$!
	for ((n = 0; n < 100; n++)); do
		grep -q '^ready' "$kv" && grep -q '^ready' "$kd" && break
		sleep 0.05
	done
	grep -q '^ready' "$kv" && grep -q '^ready' "$kd" ||
		{ wait "$kvjob" "$kdjob"; why "keep-alive clients not ready: $(cat "$kv" "$kd" | tr '\n' ' ')"; return 1; }
	# New connections, no retry allowed: a refusal fails the test.
	bg_load "$load" 2400 600 n7
	await_load 200 || { wait "$BG"; why "the load did not begin"; return 1; }
	mon_start
	t0=$(date +%s%3N)
	fab stop-node 2 5 >"$E2E_WORK/t07.stop" 2>&1 &
	sjob=$!
	r_ms=$(await_group "1 3" 10000 "$t0" 2>&1) || { mon_stop; wait "$sjob" "$BG" "$kvjob" "$kdjob"; why "node 2 not withdrawn: $r_ms"; return 1; }
	wait "$sjob" || { mon_stop; wait "$BG" "$kvjob" "$kdjob"; why "node 2 did not stop: $(cat "$E2E_WORK/t07.stop")"; return 1; }
	s=$(($(date +%s%3N) - t0))
	mon_stop
	wait "$BG"
	rc=$?
	wait "$kvjob" || rc=$((rc + 10))
	wait "$kdjob" || rc=$((rc + 100))
	cat "$load" "$kv" "$kd" >&2
	[ "$rc" = 0 ] || { why "failed (exits $rc): $(tail -qn 1 "$load" "$kv" "$kd" | tr '\n' ' ')"; return 1; }
	node_log 2 | grep -q 'msg=withdrawn by=quiet' || { why "node 2 did not log withdrawn by=quiet: $(node_log 2 | tail -n 3 | tr '\n' ' ')"; return 1; }
	# When the router dropped node 2 (IPv4, IPv6) and when node 2 began
	# to drain: after both.
	r4=$(mon_at "$FAB_VIP4" absent "$(node_ip4 2)") || { why "no IPv4 route change seen"; return 1; }
	r6=$(mon_at "$FAB_VIP6" absent "fd78:2::2") || { why "no IPv6 route change seen"; return 1; }
	w_ms=$(log_at 2 withdrawn) || { why "no withdrawn in node 2's log"; return 1; }
	[ "$w_ms" -gt "$r4" ] && [ "$w_ms" -gt "$r6" ] ||
		{ why "node 2 drained at $((w_ms - t0)) ms, before the router dropped it ($((r4 - t0)) ms, IPv6 $((r6 - t0)) ms)"; return 1; }
	v=$(sed -n 's/.*closed by the server: \([0-9]*\) after Connection: close, \([0-9]*\) while idle.*/\1+\2/p' "$kv")
	[ "$((v))" -gt 0 ] || { why "no keep-alive connection through the VIP was on node 2: $(tail -n 1 "$kv")"; return 1; }
	fab start-node 2 >"$E2E_WORK/t07.start" 2>&1 || { why "node 2 did not start again: $(cat "$E2E_WORK/t07.start")"; return 1; }
	n=$(await_group "1 2 3" 10000 "$(date +%s%3N)" 2>&1) || { why "node 2 not announced again: $n"; return 1; }
	echo "node 2 SIGTERM: the router dropped it at $((r4 - t0)) ms (IPv6 $((r6 - t0)) ms), it began to drain at $((w_ms - t0)) ms (no new connection for 0.3 s), exited at ${s} ms; new connections: $(cut -d' ' -f1 "$load") answered, none retried; keep-alive on node 2's address: $(tail -n 1 "$kd"); through the VIP: $(tail -n 1 "$kv") (the open ones were on nodes 1 and 3)"
}

test_08_crash_window() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t08.load t0 ms pid rc failed
	bg_load "$load" 2000 500 x8
	await_load 200 || { wait "$BG"; why "the load did not begin"; return 1; }
	pid=$(cat "$XR_FAB_DIR/node1.pid")
	mon_start
	t0=$(date +%s%3N)
	kill -KILL "$pid"
	ms=$(await_group "2 3" 10000 "$t0" 2>&1) || { mon_stop; wait "$BG"; why "node 1 not withdrawn after kill -9: $ms"; return 1; }
	mon_stop
	ms=$(($(mon_at "$FAB_VIP4" absent "$(node_ip4 1)") - t0))
	wait "$BG"
	rc=$?
	cat "$load" >&2
	failed=$(sed -n 's/^\([0-9]*\) of [0-9]* failed.*/\1/p' "$load")
	[ "$rc" = 0 ] && failed=0
	[ -n "$failed" ] || { why "load: $(tail -n 1 "$load")"; return 1; }
	[ "$ms" -lt 2000 ] || { why "withdrawn only ${ms} ms after the crash"; return 1; }
	fab start-node 1 >"$E2E_WORK/t08.start" 2>&1 || { why "node 1 did not start again: $(cat "$E2E_WORK/t08.start")"; return 1; }
	rc=$(await_group "1 2 3" 10000 "$(date +%s%3N)" 2>&1) || { why "node 1 not announced again: $rc"; return 1; }
	echo "kill -9 of node 1's xredird at 500 req/s: withdrawn at the router ${ms} ms later (its /readyz stopped answering); ${failed} of 2000 requests failed meanwhile (reset by node 1's kernel: the program stays, with no socket); node 1 restarted and announced again"
}

# await_vips I WANT-RE [NOT-RE]: until node I's `vip list` matches the
# extended regex WANT-RE (and not NOT-RE), 3 s at most.
await_vips() {
	local i=$1 want=$2 not=${3:-} t0 l
	t0=$(date +%s%3N)
	while :; do
		l=$(nctl "$i" vip list)
		grep -Eq -- "$want" <<<"$l" && { [ -z "$not" ] || ! grep -Eq -- "$not" <<<"$l"; } && return 0
		[ $(($(date +%s%3N) - t0)) -lt 3000 ] || break
		sleep 0.05
	done
	echo "node $i: vip list not /$want/${not:+ without /$not/}: $(tr '\n' ';' <<<"$l")" >&2
	return 1
}

test_09_vip_config() {
	local i r base="target clients $CLIENTS
rule 10.78.0.0/24 clients"
	write_config "$base
vip 10.79.0.200
vip fd79::200
vip $FAB_VIP4"
	for i in $FAB_NODE_IDS; do
		r=$(await_vips "$i" '^10\.79\.0\.200 +config$' 2>&1) || { why "$r"; return 1; }
		r=$(await_vips "$i" '^fd79::200 +config$' 2>&1) || { why "$r"; return 1; }
		nctl "$i" vip list | grep -Eq "^${FAB_VIP4//./\\.} +flag\$" ||
			{ why "node $i: the --vip address changed origin: $(nctl "$i" vip list | tr '\n' ';')"; return 1; }
	done
	# A bad vip line: the file is rejected, the addresses stay.
	write_config "$base
vip 10.79.0.0/24"
	for i in $FAB_NODE_IDS; do
		r=$(await_status "$i" "last reload: failed: line 7: '10\.79\.0\.0/24': a service address is one address, no prefix" 2>&1) ||
			{ why "$r"; return 1; }
		nctl "$i" vip list | grep -Eq '^10\.79\.0\.200 +config$' ||
			{ why "node $i lost its vip after a rejected file"; return 1; }
	done
	# Removed from the file: dropped; the --vip address stays.
	write_config "$base
vip any"
	for i in $FAB_NODE_IDS; do
		r=$(await_vips "$i" '^any ' '^(10\.79\.0\.200|fd79::200) ' 2>&1) || { why "$r"; return 1; }
		nctl "$i" vip list | grep -Eq "^${FAB_VIP4//./\\.} +flag\$" ||
			{ why "node $i dropped the --vip address"; return 1; }
	done
	write_config "$base"
	for i in $FAB_NODE_IDS; do
		r=$(await_vips "$i" "^${FAB_VIP4//./\\.} " '^any ' 2>&1) || { why "$r"; return 1; }
	done
	r=$(fcli curl -s -m 2 -o /dev/null -w '%{http_code} %header{location}' "http://$FAB_VIP4:$FAB_PORT/v9")
	[ "$r" = "302 $CLIENTS/v9" ] || { why "VIP after the changes: '$r'"; return 1; }
	echo "vip lines reach all 3 nodes on reload (origin config; --vip's address keeps origin flag); a /24 vip line rejected with its line, nothing changed; lines removed are dropped, vip any follows the file"
}

# A node joining: node 4, wired and peering from the start, gets its
# xredird under new-connection load; announced once ready, it takes a share
# and nothing fails; it leaves again (SIGTERM: withdrawn, then drained).
test_10_node_join() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t10.load ms n4 out
	[ "$FAB_SPARE_IDS" = 4 ] || { why "no spare node 4 (XR_FAB_SPARE=1)"; return 1; }
	write_config "target clients $CLIENTS
rule 10.78.0.0/24 clients"
	ms=$(start_under_load 4 "1 2 3 4" "$load" j10) || return 1
	n4=$(served 4)
	out=$(load 900 "$CLIENTS" j) || { why "$out"; return 1; }
	sleep 0.25
	n4=$(($(served 4) - n4))
	[ "$n4" -ge 90 ] || { why "node 4 served $n4 of 900 through the VIP"; return 1; }
	fab stop-node 4 5 >"$E2E_WORK/t10.stop" 2>&1 || { why "node 4 did not stop: $(cat "$E2E_WORK/t10.stop")"; return 1; }
	out=$(await_group "1 2 3" 10000 "$(date +%s%3N)" 2>&1) || { why "node 4 not withdrawn: $out"; return 1; }
	echo "node 4 joined under load: in the router's route ${ms} ms after its start command; $(cut -d' ' -f1 "$load") new connections meanwhile without a retry; then $n4 of 900 through the VIP to node 4; withdrawn again on SIGTERM"
}

# Every node in turn restarted with SYNs answered in XDP, under load.
test_11_xdp_synack() {
	need "$PYTHON" || return 1
	local load=$E2E_WORK/t11.load w=$E2E_WORK/t11 i t0 tn ms rc slow before d x s x0 s0 out got=
	clients_rule || return 1
	for i in $FAB_NODE_IDS; do
		"$E2E_ROOT/scripts/peer_xdp.sh" load "$FAB_RTR_NS" "$XR_FAB-r$i" >"$w.peer$i" 2>&1 ||
			{ why "router veth $i: $(tail -n 1 "$w.peer$i")"; return 1; }
	done
	bg_load "$load" $((ROLL_S * 400)) 400 x11
	await_load 200 || { wait "$BG"; why "the load did not begin"; return 1; }
	t0=$(date +%s%3N)
	for i in $FAB_NODE_IDS; do
		tn=$(date +%s%3N)
		fab stop-node "$i" 5 >"$w.stop$i" 2>&1 || { why "node $i did not stop: $(cat "$w.stop$i")"; break; }
		ms=$(await_group "$(others "$i")" 10000 "$tn" 2>&1) ||
			{ why "node $i not withdrawn: $ms"; break; }
		fab start-node "$i" -- --xdp-synack on >"$w.start$i" 2>&1 ||
			{ why "node $i did not start: $(cat "$w.start$i")"; break; }
		ms=$(await_group "$FAB_NODE_IDS" 10000 "$tn" 2>&1) || { why "node $i not announced again: $ms"; break; }
	done
	ms=$(($(date +%s%3N) - t0))
	wait "$BG"
	rc=$?
	cat "$load" >&2
	[ -z "$(cat "$E2E_WORK/.reason" 2>/dev/null)" ] || return 1
	roll_outlasted "$ms" || return 1
	[ "$rc" = 0 ] || { why "under load while the nodes restarted: $(tail -n 1 "$load")"; return 1; }
	# A SYN-ACK lost on the way back costs its client a SYN sent again
	# (a request over 0.5 s): a few in a rehash, not a node's share.
	slow=$(sed -n 's/.*; \([0-9]*\) took over 0.5 s.*/\1/p' "$load")
	[ $((${slow:-0} * 100)) -le $((ROLL_S * 400)) ] ||
		{ why "$slow of $((ROLL_S * 400)) connections took over 0.5 s: $(tail -n 1 "$load")"; return 1; }
	for i in $FAB_NODE_IDS; do
		nctl "$i" status | grep -q '^xdp:.*SYNs answered in XDP$' ||
			{ why "node $i: $(nctl "$i" status | grep '^xdp:')"; return 1; }
	done
	before=$(settled)
	x0=$(per_node xdp_synack)
	s0=$(per_node cookies_sent)
	out=$(load 900 "$CLIENTS" x 2>&1) || { why "$out"; return 1; }
	d=$(wait_counts "$before" 900) || { why "node counters rose by $d"; return 1; }
	for i in $FAB_NODE_IDS; do
		x=$(($(nstat "$i" xdp_synack) - $(cut -d' ' -f"$i" <<<"$x0")))
		# SYN-ACKs counted as sent, less the program's: the workers'
		# (a SYN on a 4-tuple whose last connection is still open there,
		# as a client reusing its port makes: the engine answers it).
		s=$(($(nstat "$i" cookies_sent) - $(cut -d' ' -f"$i" <<<"$s0") - x))
		[ "$x" -ge 90 ] && [ $((s * 20)) -le "$x" ] ||
			{ why "node $i answered $x SYNs in XDP and $s in its workers (of its $(cut -d' ' -f"$i" <<<"$d") requests)"; return 1; }
		got="$got, n$i $x ($s in its workers)"
	done
	echo "nodes 1, 2, 3 restarted in turn with --xdp-synack on in ${ms} ms: new connections $(cut -d' ' -f1 "$load") at 400/s, none retried, ${slow:-0} over 0.5 s; then 900 through the VIP: $(shares $d 900); SYNs answered in XDP: ${got#, }"
}

# adoptions: "A1 A2 A3", the adoptions each node counted (a restarted
# node counts from 0).
adoptions() { per_node adoptions; }

# await_status I REGEX: until node I's `xredirctl status` matches, 3 s.
await_status() {
	local i=$1 re=$2 t0
	t0=$(date +%s%3N)
	until nctl "$i" status | grep -Eq -- "$re"; do
		[ $(($(date +%s%3N) - t0)) -lt 3000 ] ||
			{ echo "node $i status not /$re/: $(nctl "$i" status | grep reload)" >&2; return 1; }
		sleep 0.05
	done
}

# From 06 on, each test starts with every node running and announced
# (whatever an earlier failure left).
suite_before_test() {
	local i g
	case "$1" in 0[1-5]-* | 09-*) return 0 ;; esac
	for i in $FAB_NODE_IDS; do
		"$FABRIC" status | grep -q "^node $i: running" || "$FABRIC" start-node "$i" || return 1
	done
	g=$(await_group "1 2 3" 10000 "$(date +%s%3N)" 2>&1) || { why "before $1: $g"; return 1; }
}

suite_setup() {
	export XREDIRD
	export XR_FAB_DIR=$E2E_WORK/fabric
	export XR_FAB_CONFIG=$E2E_WORK/fabric/xredir.conf
	export XR_FAB_SPARE=1 # node 4, for 10-node-join
	eval "$("$FABRIC" env)"
	mkdir -p "$XR_FAB_DIR"
	write_config
	"$FABRIC" up || { why "fabric up failed"; return 1; }
}

suite_cleanup() {
	[ -z "${XR_FAB_DIR:-}" ] || "$FABRIC" down >/dev/null 2>&1 ||
		e2e_log "fabric: down failed"
}
