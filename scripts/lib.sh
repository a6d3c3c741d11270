# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# What the measuring scripts (bench.sh, ceiling.sh) share, sourced from the
# repository's root: the topology, the namespaces, the server under test
# ($pid) and nginx's configuration.
#
#   bench_topology NAME   XR_TOPO (default NAME) and its variables, exported
#   srvx / clix CMD...    run a command in the server / client namespace
#   wait_ready            the server ($pid) answers; 1 if it died or not in 5 s
#   stop_server           SIGTERM to $pid, reaped
#   nginx_conf DIR        DIR/nginx.conf: bench/nginx.conf.in for the topology
#   on_exit FUNC          FUNC at exit, also after SIGINT or SIGTERM

pid=

bench_topology() {
	export XR_TOPO=${XR_TOPO:-$1}
	eval "$(./scripts/topology.sh env | sed 's/^/export /')"
}

srvx() { ip netns exec "$XR_SRV_NS" "$@"; }
clix() { ip netns exec "$XR_CLI_NS" "$@"; }

# On any of the queues it serves: a curl may land on a queue it does not,
# so retry.
wait_ready() {
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		clix curl -s -o /dev/null --max-time 1 "http://$XR_SRV_IP4:10000/" &&
			return 0
		sleep 0.05
	done
	return 1
}

stop_server() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	pid=
}

nginx_conf() {
	sed -e "s|@PREFIX@|$1|g" -e "s|@MATCH_IP@|$XR_MATCH_IP4|" \
		-e "s|@LISTEN4@|$XR_SRV_IP4|" -e "s|@LISTEN6@|$XR_SRV_IP6|" \
		bench/nginx.conf.in >"$1/nginx.conf"
}

# A signal ends the script (a trap on INT or TERM alone would return to it
# after FUNC, with everything FUNC removed gone).
on_exit() {
	# shellcheck disable=SC2064 # FUNC now
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
