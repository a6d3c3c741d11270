# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Helpers for xredir's end-to-end suites, sourced by tests/e2e/run.sh (the
# runner) before a suite file. Bash; needs root.
#
#   cli CMD... / srv CMD...  run a command in the client / server namespace
#   e2e_bg NAME CMD...       start CMD in the background, tracked for cleanup
#   need TOOL...             fail the test (why) if a tool is missing
#   d_start [OPTS] [ARGS]    start xredird, wait until it serves (see below)
#   d_stop [SECS] [SIG]      signal it, wait for exit 0; D_RC its status
#   d_wait SECS              wait for a daemon already told to stop
#   d_alive / d_end          is it running / stop it without checks
#   cap_start IFACE FILE [FILTER]   tcpdump in the client namespace
#   cap_stop                 stop it, fail if it dropped packets
#   nginx_start              nginx (the benchmarks' config) on $NGINX_PORT
#   tls_test_ca DIR          a test CA and a server certificate in DIR
#   why TEXT                 the short reason a test prints when it fails
#
# A test function returns non-zero on failure; the last line it wrote to
# stderr (or a line given to `why`) is the short reason printed. Its full
# output is kept in $E2E_WORK/NAME.log and shown, indented, on failure.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Python fed to "$PYTHON -" imports the suites' helpers (bpfmap.py).
export PYTHONPATH=$E2E_ROOT/tests/e2e
BUILD=${BUILD:-build}
XREDIRD=${XREDIRD:-$E2E_ROOT/$BUILD/xredird}
PCAPCHECK=${PCAPCHECK:-$E2E_ROOT/$BUILD/tests/pcapcheck}
PYTHON=${PYTHON:-python3}
XREDIRCTL=${XREDIRCTL:-$E2E_ROOT/$BUILD/xredirctl}
READY_TIMEOUT=${READY_TIMEOUT:-5}
# The service port: xredird's default.
PORT=10000
# tcpdump's kernel buffer (-B, KiB) and snaplen (-s, 0: whole packets).
# In --immediate-mode libpcap uses a TPACKET_V2 ring of fixed slots sized
# from the snaplen, capped at MTU + 18, or 64 KiB + 18 when the interface
# has offloads (as a veth does): 32 MiB is then only ~500 slots. A capture
# of a load test needs a snaplen that fits the largest frame on the wire
# (pcapcheck counts anything cut as truncated/unchecked) and a bigger buffer.
CAP_BUFFER_KB=${CAP_BUFFER_KB:-32768}
CAP_SNAPLEN=${CAP_SNAPLEN:-0}

E2E_PASSED=0
E2E_FAILED=0
E2E_FAILED_NAMES=()
E2E_BG_PIDS=()
E2E_BG_NAMES=()
CAP_PID=
CAP_FILE=
E2E_CURRENT=

e2e_log() { printf '%s\n' "$*" >&8; }

# Ends the current test with a reason: `why "text"; return 1`.
why() { printf '%s\n' "$*" >"$E2E_WORK/.reason"; printf 'reason: %s\n' "$*" >&2; }

# e2e_init TOPO: the topology's variables, a work dir and the cleanup trap.
e2e_init() {
	export XR_TOPO=$1
	local env
	env=$("$E2E_ROOT/scripts/topology.sh" env) || return 1
	eval "$env"
	export XR_SRV_NS XR_CLI_NS XR_SRV_IF XR_CLI_IF XR_SRV_IP4 XR_CLI_IP4 \
		XR_MATCH_IP4 XR_SRV_IP6 XR_CLI_IP6 XR_MATCH_IP6 XR_BPFFS \
		XR_KERNEL_TTL LIBXDP_BPFFS
	E2E_WORK=${E2E_WORK:-$(mktemp -d /tmp/xredir-e2e.XXXXXX)}
	export E2E_WORK
	# The cleanup may run while a test's output goes to its log: it writes
	# to the suite's own stdout and stderr, kept here.
	exec 7>&1 8>&2
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

e2e_topo_up() {
	"$E2E_ROOT/scripts/topology.sh" up "$@"
}

cli() { ip netns exec "$XR_CLI_NS" "$@"; }
srv() { ip netns exec "$XR_SRV_NS" "$@"; }

# Waits up to $1 seconds for pid $2 to end; 0 if it did.
wait_exit() {
	local secs=$1 pid=$2 i n
	n=$(awk "BEGIN { print int($secs * 20) }")
	for ((i = 0; i < n; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$pid" 2>/dev/null
}

# wait_line FILE REGEX [SECS [PID]]: until a line of FILE matches the
# extended REGEX, for SECS (5) at most and, given PID, while PID runs.
wait_line() {
	local i n=$((${3:-5} * 50))
	for ((i = 0; i < n; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || break
		sleep 0.02
	done
	grep -Eq "$2" "$1" 2>/dev/null && return 0
	why "no '$2' in $(basename "$1") after ${3:-5}s: $(tail -n 1 "$1" 2>/dev/null)"
	return 1
}

# e2e_bg NAME CMD...: a background process stopped by e2e_cleanup (or by
# e2e_bg_stop NAME). `ip netns exec` execs the command, so the pid is its own.
# Output goes to $E2E_WORK/NAME.out; E2E_BG_PID holds the pid.
e2e_bg() {
	local name=$1
	shift
	case "$1" in
	cli) set -- ip netns exec "$XR_CLI_NS" "${@:2}" ;;
	srv) set -- ip netns exec "$XR_SRV_NS" "${@:2}" ;;
	esac
	# Not through a shell function: $! must be the command's own pid.
	"$@" >"$E2E_WORK/$name.out" 2>&1 &
	E2E_BG_PID=$!
	E2E_BG_PIDS+=("$E2E_BG_PID")
	E2E_BG_NAMES+=("$name")
}

e2e_bg_stop() {
	local name=$1 i
	for i in "${!E2E_BG_NAMES[@]}"; do
		[ "${E2E_BG_NAMES[$i]}" = "$name" ] || continue
		kill_wait "${E2E_BG_PIDS[$i]}"
		unset "E2E_BG_NAMES[$i]" "E2E_BG_PIDS[$i]"
	done
}

# TERM, then KILL after 2 s; reaps it.
kill_wait() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	wait_exit 2 "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

e2e_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [ -n "$E2E_CURRENT" ]; then
		printf 'FAIL %-26s %6s  %s\n' "$E2E_CURRENT" - \
			"interrupted (exit $rc)" >&7
		E2E_CURRENT=
	fi
	[ -n "$CAP_PID" ] && kill_wait "$CAP_PID"
	for pid in "${E2E_DAEMONS[@]}"; do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = xredird ] && kill_wait "$pid"
	done
	for pid in "${E2E_BG_PIDS[@]}"; do
		kill_wait "$pid"
	done
	# The suite's own leftovers (other namespaces, mounts, tc programs).
	declare -F suite_cleanup >/dev/null && suite_cleanup
	"$E2E_ROOT/scripts/topology.sh" down >/dev/null 2>&1 ||
		e2e_log "e2e: topology down failed"
	if [ -n "${E2E_KEEP:-}" ] || [ "$rc" != 0 ]; then
		e2e_log "e2e: work files kept in $E2E_WORK"
	else
		rm -rf "$E2E_WORK"
	fi
	exit "$rc"
}

# Missing tools fail the test that needs them: `need curl wrk || return 1`.
need() {
	local t missing=
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	why "missing tool:$missing"
	return 1
}

# nginx_start: nginx with the benchmarks' config (bench/nginx.conf.in: one
# worker, geo + return 302) in the server namespace, on $NGINX_PORT; waits
# until it answers. E2E_BG_PID is its pid.
nginx_start() {
	local dir=$E2E_WORK/nginx i code=
	mkdir -p "$dir"
	sed -e "s|@PREFIX@|$dir|g" -e "s|@MATCH_IP@|$XR_MATCH_IP4|" \
		-e "s|@LISTEN4@|$XR_SRV_IP4|" -e "s|@LISTEN6@|$XR_SRV_IP6|" \
		-e "s|:10000 |:$NGINX_PORT |" bench/nginx.conf.in >"$dir/nginx.conf"
	grep -q ":$NGINX_PORT " "$dir/nginx.conf" ||
		{ why "bench/nginx.conf.in has no ':10000 ' listen to move"; return 1; }
	e2e_bg nginx srv nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
	for i in $(seq 100); do
		code=$(cli curl -s -o /dev/null -m 1 -w '%{http_code}' \
			"http://$XR_SRV_IP4:$NGINX_PORT/ready" 2>/dev/null) || true
		[ "$code" = 302 ] && return 0
		kill -0 "$E2E_BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	why "nginx not ready (last curl: ${code:-none}): $(tail -n 1 "$E2E_WORK/nginx.out" "$dir/error.log" 2>/dev/null)"
	return 1
}

# ---- the daemon ----

# Daemons started here (pids), for the cleanup.
E2E_DAEMONS=()
D_N=0
D_PID=
D_JOB=
D_LOG=
D_RC=
D_T0=

d_alive() { [ -n "$D_PID" ] && kill -0 "$D_PID" 2>/dev/null; }

# peer_xdp load|unload: an XDP program on the client's veth
# (scripts/peer_xdp.sh), which --xdp-synack's XDP_TX frames need to be
# received there.
peer_xdp() {
	"$E2E_ROOT/scripts/peer_xdp.sh" "$1" "$XR_CLI_NS" "$XR_CLI_IF" \
		>"$E2E_WORK/peer_xdp.log" 2>&1 ||
		{ why "peer_xdp.sh $1: $(tail -n 1 "$E2E_WORK/peer_xdp.log")"; return 1; }
}

# d_start [-n NS] [-i IFACE] [-u URL|-] [-c CODES] [-k] [-m] ARGS...:
# xredird in NS on IFACE (default: the server veth) with fresh pins (-k:
# keep them), -m: with the topology's matching addresses (--match-ip).
# Ready once it logged that it serves and URL (default: /ready on the
# server's address, from the client namespace; '-': none) is answered with
# a status matching CODES (a case pattern, default 302). D_PID is xredird's
# own pid (`ip netns exec` and sh exec it), D_JOB the job to wait for,
# D_LOG its log.
d_start() {
	local ns=$XR_SRV_NS ifc=$XR_SRV_IF url="http://$XR_SRV_IP4:$PORT/ready"
	local keep=0 codes=302 i n=$((READY_TIMEOUT * 20)) code pidf match=()
	while :; do
		case "${1:-}" in
		-n) ns=$2; shift 2 ;;
		-i) ifc=$2; shift 2 ;;
		-u) url=$2; shift 2 ;;
		-c) codes=$2; shift 2 ;;
		-k) keep=1; shift ;;
		-m) match=(--match-ip "$XR_MATCH_IP4" --match-ip "$XR_MATCH_IP6"); shift ;;
		*) break ;;
		esac
	done
	[ -x "$XREDIRD" ] || { why "no $XREDIRD (make all)"; return 1; }
	[ "$keep" = 1 ] || rm -rf "${XR_BPFFS:?}/xredir/$ifc"
	D_N=$((D_N + 1))
	D_LOG=$E2E_WORK/xredird.$D_N.log
	pidf=$E2E_WORK/xredird.$D_N.pid
	echo "start: xredird --iface $ifc ${match[*]} $* (in $ns, log $D_LOG)" >&2
	LIBXDP_BPFFS=$XR_BPFFS ip netns exec "$ns" sh -c 'echo $$ >"$0"; exec "$@"' \
		"$pidf" "$XREDIRD" --iface "$ifc" --bpffs "$XR_BPFFS" "${match[@]}" \
		"$@" >"$D_LOG" 2>&1 &
	D_JOB=$!
	D_PID=
	D_RC=
	for ((i = 0; i < 200; i++)); do
		[ -s "$pidf" ] && break
		sleep 0.01
	done
	D_PID=$(cat "$pidf" 2>/dev/null)
	[ -n "$D_PID" ] || { why "xredird did not start"; return 1; }
	E2E_DAEMONS+=("$D_PID")
	# No traffic to the port before it says it serves: a connect then would
	# be refused by the kernel, and a capture would see the kernel's RST.
	for ((i = 0; i < n; i++)); do
		grep -Eq 'msg=serving|"msg":"serving"' "$D_LOG" && break
		d_alive || { d_died; return 1; }
		sleep 0.05
	done
	[ "$i" -lt "$n" ] || {
		why "xredird did not log serving in ${READY_TIMEOUT}s"
		tail -n 5 "$D_LOG" >&2
		return 1
	}
	[ "$url" = - ] && return 0
	for ((i = 0; i < n; i++)); do
		code=$(cli curl -sg -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null) || true
		# shellcheck disable=SC2254 # CODES is a pattern
		case "$code" in $codes) return 0 ;; esac
		d_alive || { d_died; return 1; }
		sleep 0.05
	done
	why "xredird not answering $url after ${READY_TIMEOUT}s (last: ${code:-none})"
	tail -n 20 "$D_LOG" >&2
	return 1
}

d_died() {
	wait "$D_JOB" 2>/dev/null
	D_RC=$?
	why "xredird exited with status $D_RC: $(tail -n 1 "$D_LOG")"
	tail -n 10 "$D_LOG" >&2
	D_PID=
}

# d_stop [SECS] [SIG]: signal (TERM), wait up to SECS (5) for the exit;
# D_RC is its status, D_STOP_S the seconds it took. Fails unless 0 in time.
d_stop() {
	local secs=${1:-5} sig=${2:-TERM}
	[ -n "$D_PID" ] || { why "xredird is not running"; return 1; }
	D_T0=$(now)
	kill -"$sig" "$D_PID" 2>/dev/null
	d_wait "$secs" "after SIG$sig"
}

# d_wait SECS [WHEN]: the daemon, already told to stop, exits 0 within
# SECS (else it is killed and the test fails). D_RC, D_STOP_S as d_stop.
d_wait() {
	local secs=$1 when=${2:-after SIGTERM}
	[ -n "$D_PID" ] || { why "xredird is not running"; return 1; }
	if ! wait_exit "$secs" "$D_PID"; then
		kill -KILL "$D_PID" 2>/dev/null
		wait "$D_JOB" 2>/dev/null
		D_PID=
		D_RC=timeout
		why "xredird still running ${secs}s $when (killed)"
		return 1
	fi
	# shellcheck disable=SC2034 # for the tests
	D_STOP_S=$(awk "BEGIN { printf \"%.2f\", $(now) - ${D_T0:-$(now)} }")
	D_T0=
	wait "$D_JOB" 2>/dev/null
	D_RC=$?
	D_PID=
	[ "$D_RC" = 0 ] || { why "xredird exited with status $D_RC $when"; return 1; }
}

# d_end: stops whatever daemon a test left running (no checks).
d_end() {
	[ -n "$D_PID" ] || return 0
	kill -TERM "$D_PID" 2>/dev/null
	wait_exit 3 "$D_PID" || kill -KILL "$D_PID" 2>/dev/null
	wait "$D_JOB" 2>/dev/null
	D_PID=
}

# ---- TLS ----

# tls_test_ca DIR: a throwaway CA (DIR/ca.pem) and an ECDSA P-256 server
# certificate it signed (DIR/server.pem, DIR/server.key) for the
# topology's server addresses and xredir.test, valid for two days. The
# one place the suites make certificates.
tls_test_ca() {
	local d=$1
	need openssl || return 1
	mkdir -p "$d" || return 1
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout ca.key -out ca.pem -days 2 -subj "/CN=xredir test CA" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout server.key -out server.csr -subj /CN=xredir.test &&
			printf '%s\n' "subjectAltName=DNS:xredir.test,IP:$XR_SRV_IP4,IP:$XR_SRV_IP6" \
				basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
				extendedKeyUsage=serverAuth >server.ext &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
				-CAcreateserial -days 2 -extfile server.ext -out server.pem
	) >"$d/openssl.log" 2>&1 || {
		why "making the test CA in $d failed: $(tail -n 1 "$d/openssl.log")"
		return 1
	}
}

# ---- packet capture ----

# cap_start IFACE FILE [FILTER]: tcpdump in the client namespace, written as
# the packets come, with CAP_BUFFER_KB and CAP_SNAPLEN. Returns once tcpdump
# listens.
cap_start() {
	local iface=$1 file=$2 filter=${3:-tcp port 10000} i
	CAP_FILE=$file
	ip netns exec "$XR_CLI_NS" tcpdump -i "$iface" -nn -s "$CAP_SNAPLEN" \
		--immediate-mode -U -B "$CAP_BUFFER_KB" \
		-w "$file" "$filter" >"$file.log" 2>&1 &
	CAP_PID=$!
	for i in $(seq 100); do
		grep -q 'listening on' "$file.log" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	why "tcpdump did not start: $(tail -n 1 "$file.log")"
	kill_wait "$CAP_PID"
	CAP_PID=
	return 1
}

# cap_stop: SIGINT to tcpdump; fails unless it reports 0 packets dropped by
# the kernel (a lost packet would look like a server bug, or hide one).
cap_stop() {
	local n
	[ -n "$CAP_PID" ] || { why "no capture running"; return 1; }
	kill -INT "$CAP_PID" 2>/dev/null
	wait_exit 5 "$CAP_PID" || kill -KILL "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	n=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' \
		"$CAP_FILE.log")
	if [ "$n" != 0 ]; then
		why "capture dropped ${n:-an unknown number of} packets: $(tr '\n' ' ' <"$CAP_FILE.log")"
		return 1
	fi
}

# ---- running tests ----

now() { date +%s.%N; }

# e2e_test NAME FUNC [ARGS]: runs FUNC (in this shell: it may start or stop
# the daemon), prints one line.
e2e_test() {
	local name=$1 fn=$2 t0 t1 rc reason
	shift 2
	t0=$(now)
	rm -f "$E2E_WORK/.reason"
	E2E_CURRENT=$name
	"$fn" "$@" >"$E2E_WORK/$name.log" 2>&1
	rc=$?
	E2E_CURRENT=
	t1=$(now)
	local dt
	dt=$(awk "BEGIN { printf \"%.2fs\", $t1 - $t0 }")
	if [ "$rc" = 0 ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		reason=$(tail -n 1 "$E2E_WORK/$name.log")
		printf 'ok   %-26s %6s  %s\n' "$name" "$dt" "$reason"
	else
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_FAILED_NAMES+=("$name")
		if [ -s "$E2E_WORK/.reason" ]; then
			reason=$(tail -n 1 "$E2E_WORK/.reason")
		else
			reason=$(grep -v '^$' "$E2E_WORK/$name.log" | tail -n 1)
		fi
		printf 'FAIL %-26s %6s  %s\n' "$name" "$dt" "${reason:-exit $rc}"
		grep -v '^reason: ' "$E2E_WORK/$name.log" | tail -n 15 |
			sed 's/^/    | /'
	fi
	return "$rc"
}

# e2e_fail NAME REASON: a test that cannot even run (setup failed).
e2e_fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	E2E_FAILED_NAMES+=("$1")
	printf 'FAIL %-26s %6s  %s\n' "$1" "-" "$2"
}

# e2e_summary SUITE: the counts; non-zero if any test failed.
e2e_summary() {
	echo "$1: $E2E_PASSED passed, $E2E_FAILED failed${E2E_FAILED_NAMES[*]:+ (${E2E_FAILED_NAMES[*]})}"
	[ "$E2E_FAILED" = 0 ]
}
