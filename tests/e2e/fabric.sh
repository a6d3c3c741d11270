# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# xredir behind a router: scripts/fabric.sh (XR_FAB=$XR_FAB_TEST, default
# xrfabt) puts three xredir nodes behind an ECMP route (L4 hash) for a
# service address, all with the same --config file; clients sit behind the
# router.
#
#   01-fabric-up          routes, hash policy, single-queue veths, client
#                         checksum offload off, neighbours resolved; every
#                         node answers on its own address, the VIP on v4/v6
#   02-ecmp-3000          3,000 requests, a new connection each: all 302,
#                         every node served a share (xredirctl stats)
#   03-config-all-nodes   a rule for the clients' prefix written to the
#                         shared file reaches all three nodes (rule list,
#                         status, answers from each node)
#   04-node-down          node 3 stopped (SIGTERM, drain, exit 0); the
#                         router's health check (/readyz) withdraws it from
#                         the ECMP group; 1,000 more requests all answered
#                         by nodes 1 and 2
#   05-node-back          node 3 restarted with the same file: ready, back
#                         in the group, serving the current rules
#   06-rolling-restart    node 2 restarted under 1,000 requests/s: it drains
#                         (refusing new connections with RST), the health
#                         check takes it out and puts it back; every request
#                         is answered, clients retrying a refused, reset or
#                         empty connection (up to 5 times) as they do
#                         behind a load balancer; the retries are counted
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

# counts: "N1 N2 N3" now.
counts() {
	local i out=
	for i in $FAB_NODE_IDS; do out="$out $(served "$i")"; done
	echo "${out# }"
}

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

# healthy I: the router's health check of node I (its /readyz).
healthy() {
	[ "$(ip netns exec "$FAB_RTR_NS" curl -s -m 1 -o /dev/null -w '%{http_code}' \
		"http://$(node_ip4 "$1"):$FAB_MPORT/readyz" 2>/dev/null)" = 200 ]
}

# health_check: what a health-checking router does, once: the ECMP group
# becomes the nodes that are ready (the routes change only when the group
# does). Prints the group.
HC_GROUP="1 2 3"
health_check() {
	local i up=()
	for i in $FAB_NODE_IDS; do healthy "$i" && up+=("$i"); done
	if [ "${up[*]}" != "$HC_GROUP" ]; then
		fab ecmp "${up[@]}" >&2 || return 1
		HC_GROUP="${up[*]}"
	fi
	echo "$HC_GROUP"
}

# ---- tests ----

test_01_fabric_up() {
	local i r n q
	r=$(ip -n "$FAB_RTR_NS" route show "$FAB_VIP4/32")
	echo "$r" >&2
	n=$(grep -c nexthop <<<"$r")
	[ "$n" = 3 ] || { why "VIP route has $n nexthops"; return 1; }
	[ "$(ip -n "$FAB_RTR_NS" -6 route show "$FAB_VIP6/128" | grep -c nexthop)" = 3 ] ||
		{ why "IPv6 VIP route: $(ip -n "$FAB_RTR_NS" -6 route show "$FAB_VIP6/128")"; return 1; }
	[ "$(ip netns exec "$FAB_RTR_NS" sysctl -n net.ipv4.fib_multipath_hash_policy)" = 1 ] ||
		{ why "fib_multipath_hash_policy is not 1"; return 1; }
	fcli ethtool -k "$FAB_CLI_IF" | grep -q '^tx-checksumming: off' ||
		{ why "client veth TX checksum offload is on"; return 1; }
	for i in $FAB_NODE_IDS; do
		q=$(ip netns exec "$XR_FAB-n$i" ls "/sys/class/net/$XR_FAB-n$i/queues" | grep -c rx-)
		[ "$q" = 1 ] || { why "node $i veth has $q rx queues"; return 1; }
		# Answered by that node itself (XDP steers the port whatever the
		# destination address).
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
	echo "3 nodes ready, ECMP v4+v6 (L4 hash), single-queue veths, neighbours resolved; VIP answers on v4 and v6"
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
	local t0 group ms before d out rc n3 s
	t0=$(date +%s%3N)
	fab stop-node 3 5 || { why "node 3 did not stop (exit 0) within 5 s"; return 1; }
	s=$(($(date +%s%3N) - t0))
	grep -q 'msg=stopped' "$XR_FAB_DIR/node3.log" || { why "node 3 did not log stopped"; return 1; }
	health_check >/dev/null || { why "health check failed"; return 1; }
	group=$HC_GROUP
	ms=$(($(date +%s%3N) - t0))
	[ "$group" = "1 2" ] || { why "ECMP group after the health check: '$group'"; return 1; }
	ip -n "$FAB_RTR_NS" route show "$FAB_VIP4/32" >&2
	before=$(settled)
	n3=$(served 3)
	out=$(load 1000 "$CLIENTS" d) || { why "with node 3 down: $out"; return 1; }
	echo "$out" >&2
	d=$(wait_counts "$before" 1000) || { why "node counters rose by $d"; return 1; }
	set -- $d
	[ "$3" = 0 ] && [ "$(served 3)" = "$n3" ] || { why "node 3 counted $3 requests while down"; return 1; }
	[ "$1" -ge 200 ] && [ "$2" -ge 200 ] || { why "uneven: $d"; return 1; }
	echo "node 3 drained and stopped in ${s} ms (msg=stopped), withdrawn by the health check at ${ms} ms; 1000/1000 answered: $(shares $1 $2 1000)"
}

test_05_node_back() {
	need "$PYTHON" || return 1
	local group before d out
	fab start-node 3 || { why "node 3 did not start: $(tail -n 1 "$XR_FAB_DIR/node3.log")"; return 1; }
	health_check >/dev/null || { why "health check failed"; return 1; }
	group=$HC_GROUP
	[ "$group" = "1 2 3" ] || { why "ECMP group after the restart: '$group'"; return 1; }
	before=$(settled)
	out=$(load 900 "$CLIENTS" b) || { why "$out"; return 1; }
	d=$(wait_counts "$before" 900) || { why "node counters rose by $d"; return 1; }
	for n in $d; do
		[ "$n" -ge 90 ] || { why "a node served only $n of 900: $d"; return 1; }
	done
	echo "node 3 back with the shared file's rules; 900/900 -> $CLIENTS: $(shares $d 900)"
}

test_06_rolling_restart() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t06.load job sjob before d i t0 t_out='' t_in='' rc n2x n2b cb1 cb3 cb cb2 dr
	before=$(settled)
	cb1=$(nstat 1 cookies_bad) cb3=$(nstat 3 cookies_bad)
	fcli timeout 60 "$PYTHON" "$FCPY" --host "$FAB_VIP4" --port "$FAB_PORT" \
		--count 4000 --rate 1000 --concurrency 32 \
		--src "$(tr ' ' ',' <<<"$FAB_CLI_ADDRS4")" --want "$CLIENTS" --tag r \
		--retries 5 --backoff 0.05 >"$out" 2>&1 &
	job=$!
	sleep 1
	# Node 2 restarted under load: SIGTERM (it drains, refusing new
	# connections), the health check (every 100 ms) takes it out, it
	# starts again, the health check puts it back.
	t0=$(date +%s%3N)
	fab stop-node 2 5 >"$E2E_WORK/t06.stop" 2>&1 &
	sjob=$!
	for ((i = 0; i < 50; i++)); do
		health_check >/dev/null
		[ "$HC_GROUP" = "1 3" ] && { t_out=$(($(date +%s%3N) - t0)); break; }
		sleep 0.1
	done
	wait "$sjob" || { wait "$job"; why "node 2 did not stop: $(cat "$E2E_WORK/t06.stop")"; return 1; }
	n2x=$(served 2) # its last count (a restarted daemon counts from 0)
	dr=$(nstat 2 drain_refused)
	[ -n "$t_out" ] || { wait "$job"; why "the health check never withdrew node 2 (group $HC_GROUP)"; return 1; }
	fab start-node 2 >"$E2E_WORK/t06.start" 2>&1 ||
		{ wait "$job"; why "node 2 did not start again: $(cat "$E2E_WORK/t06.start")"; return 1; }
	for ((i = 0; i < 50; i++)); do
		health_check >/dev/null
		[ "$HC_GROUP" = "1 2 3" ] && { t_in=$(($(date +%s%3N) - t0)); break; }
		sleep 0.1
	done
	wait "$job"
	rc=$?
	cat "$out" >&2
	[ -n "$t_in" ] || { why "the health check never put node 2 back (group $HC_GROUP)"; return 1; }
	[ "$rc" = 0 ] || { why "under the rolling restart: $(tail -n 1 "$out")"; return 1; }
	sleep 0.25
	set -- $before
	n2b=$2
	set -- $(counts)
	d="$(($1 - ${before%% *})) $((n2x - n2b)) + $2 $(($3 - ${before##* }))"
	cb=$(($(nstat 1 cookies_bad) - cb1 + $(nstat 3 cookies_bad) - cb3))
	cb2=$(nstat 2 cookies_bad)
	[ "$((n2x - n2b))" -gt 0 ] && [ "$2" -gt 0 ] ||
		{ why "node 2 did not serve both before and after its restart: $d"; return 1; }
	echo "node 2 restarted under 1000 req/s: out of the group at ${t_out} ms, back at ${t_in} ms; $(sed 's/ answered 302 -> [^ ]* in .* from [0-9]* sources, [0-9]* distinct source address:port pairs//' "$out" | tail -n 1) (per node: $d, node 2 before + after its restart; node 2 refused $dr segments while draining; ACKs of connections another node had accepted (an ECMP rehash when the group changes): $cb on nodes 1+3, $cb2 on node 2 after its restart)"
}

suite_setup() {
	export XREDIRD
	export XR_FAB_DIR=$E2E_WORK/fabric
	export XR_FAB_CONFIG=$E2E_WORK/fabric/xredir.conf
	eval "$("$FABRIC" env)"
	mkdir -p "$XR_FAB_DIR"
	write_config
	"$FABRIC" up || { why "fabric up failed"; return 1; }
}

suite_cleanup() {
	[ -z "${XR_FAB_DIR:-}" ] || "$FABRIC" down >/dev/null 2>&1 ||
		e2e_log "fabric: down failed"
}
