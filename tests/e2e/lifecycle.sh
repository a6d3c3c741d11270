# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# xredir's production-lifecycle tests: xredird started, signalled, killed,
# restarted and doubled on the server veth of a topology of its own
# (scripts/topology.sh, XR_TOPO=$XR_LIFE_TOPO, default xrlife), with real
# clients in the client namespace and on the node itself.
#
#   01a-drain-graceful        SIGTERM: idle keep-alive gets a FIN, new
#                             connections an RST, a slow request its answer
#                             with Connection: close; exit 0 within grace+1 s;
#                             program detached, the kernel refuses the port
#   01b-drain-grace-expiry    a request that never completes: exit 0 at the
#                             grace time, not before, not much after
#   01c-drain-second-signal   a second signal (SIGINT) during a drain stops
#                             at once
#   01d-drain-local-clients   the same drain for clients of the kernel-socket
#                             listener (127.0.0.1 on the node)
#   01e-drain-no-blackhole    connects back to back through SIGTERM and the
#                             exit: each is answered or refused at once, none
#                             dropped (a dropped SYN costs the client 1 s)
#   01f-xdp-synack            --xdp-synack auto on a veth is off (its peer
#                             drops XDP_TX frames); on, with an XDP program
#                             on the client's veth: IPv4 and IPv6 requests
#                             answered, status says so; the cookie's time
#                             counter, set one period back, put right by the
#                             daemon within 3 s; then 01e's storm
#                             through SIGTERM: the SYNs were answered in XDP
#                             (xdp_synack), the draining workers refused the
#                             later ones
#   02-kill9-restart          kill -9: the program stays, the kernel refuses
#                             (RST, TTL 99); a restart serves again in < 1 s
#                             with the rules added before the kill, and one
#                             program attached
#   03a-second-daemon-refused another xredird on the interface (same bpffs)
#                             exits non-zero at once, naming the lock; the
#                             first serves on, same program
#   03b-second-daemon-other-bpffs  the same with the second daemon on another
#                             bpffs mount (no shared lock)
#   03c-lock-not-squattable   an unprivileged user cannot take the
#                             interface lock (neither the old abstract socket
#                             nor the lock file under /run/xredir counts):
#                             xredird starts anyway; the lock file is root's (0600)
#                             and holds its pid; one owned by another user
#                             is refused with a message naming it, and so
#                             is a pin directory another user made
#   04a-other-xdp-program     an XDP program loaded by xdp-loader: xredird
#                             cannot attach (no dispatcher on this kernel) and
#                             leaves it working; xdp-loader cannot attach over
#                             xredird either; after xredird exits it can
#   04b-other-xdp-program-message  xredird's error says what is in the way
#                             (an XDP program is already attached), and no
#                             line claims native XDP is unavailable
#   05-local-clients          127.0.0.1, ::1 and the node's own addresses from
#                             inside the server namespace, same rules
#   06-skb-fallback           --xdp-mode auto on a macvlan (no native XDP):
#                             xdp_native_unavailable ... fallback=skb, status
#                             says skb, traffic served over AF_XDP
#   07a-metrics-promtool      `promtool check metrics` on a scrape; values
#                             agree with xredirctl stats
#   07b-prometheus-scrape     a real Prometheus scraping every 1 s sees 200
#                             more requests after a burst of 200
#   07c-readyz                /readyz from the first moment the port accepts
#                             (never 200 before serving), 503 with a rejected
#                             config then 200 once fixed, 503 while draining;
#                             /healthz 200 throughout
#   07d-metrics-target-slot-reuse  a target defined in a slot another left
#                             starts at zero; deleted targets leave no series
#   07e-request-duration-pipelined  a head split 0.3 s, then 9 more heads
#                             behind its rest in one segment: the histogram
#                             has the split one at >= 0.3 s and the 9 at 0
#                             (not 10 charged the 0.3 s); bounds are le
#   07f-metrics-kernel-drops  the kernel's AF_XDP counters: 0 on a quiet
#                             daemon; with xredird stopped (SIGSTOP), the
#                             frames beyond its rings (--ring-size 512, as
#                             status says) are counted as dropped
#   07g-lazy-acks             keep-alive requests 60 ms apart, then 1.5 s
#                             of silence: the client's bare ACKs reach the
#                             worker through the ACK ring (xdp_lazy_ack
#                             counts them), every request is answered and
#                             nothing is retransmitted (the ring is read
#                             before timers); --lazy-acks off: none
#                             through the ring
#   07h-lazy-ack-ring-full    bare ACKs to a stopped daemon: its ACK rings
#                             take what they hold, the sockets the rest,
#                             and after SIGCONT every one is judged
#   07i-lazy-fins             Connection: close: the client's FIN, which
#                             answers ours, goes through the ACK ring; a
#                             client that shuts down first does not (it
#                             waits for our FIN); nothing retransmitted
#   08a-logs-no-client-ip     after many clients, errors and a drain, the log
#                             holds no client address, by default and with
#                             the debug access log; --log-clients adds them
#   08b-logs-json             --log-format json: every line is a JSON object
#                             (info, and debug with the libraries' lines)
#   10a-metrics-flood-one-source   300 idle connections to --metrics-listen
#                             from one client: /healthz from the node and
#                             from that client still 200 within 1 s; that
#                             source keeps only its cap, the rest are reset
#                             and counted (per_source)
#   10b-metrics-flood-many-sources the same spread over 40 client addresses
#                             (the pool full): probes and a scrape still
#                             answered, the longest waiting evicted, counted
#   10c-service-per-source    idle connections to the service port from
#                             127.0.0.1 beyond the per-source cap are reset
#                             at once (counted); other local sources answered
#   10d-slow-head-deadline    a head sent one byte a second is closed at the
#                             header deadline (absolute: reads do not extend
#                             it), on the service port and the metrics port
#   11-sd-notify              with $NOTIFY_SOCKET (a datagram socket the
#                             test binds): READY=1 once serving, RELOADING=1
#                             then READY=1 around a SIGHUP, STOPPING=1 at
#                             SIGTERM, in that order
#
# Topology XR_LIFE_TOPO (default xrlife). Run by tests/e2e/run.sh lifecycle.
SUITE_TOPO=${XR_LIFE_TOPO:-xrlife}
SUITE_TOOLS=(curl "$PYTHON")
MPORT=9100
LCPY=$E2E_ROOT/tests/e2e/lifecycle_client.py
DEFAULT=https://k8s.gcr.io
REWRITE=https://registry-1.docker.io
XDP_OTHER_OBJ=${XDP_OTHER_OBJ:-/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/bpf/xdpfilt_alw_all.o}

# ---- helpers ----

ms_now() { date +%s%3N; }
secs() { awk "BEGIN { printf \"%.2f\", $1 }"; }

ctl() { "$XREDIRCTL" --bpffs "$XR_BPFFS" --iface "${CTL_IF:-$XR_SRV_IF}" "$@"; }

# xstat NAME: one counter of `xredirctl stats`.
xstat() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }

# lc NS CHECK [ARGS]: lifecycle_client.py in a namespace.
lc() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 30 "$PYTHON" "$LCPY" "$@"
}

# lcc NS CHECK [ARGS]: the same, its output to the test's log; on failure
# its reason is the test's (`why`).
lcc() {
	local out rc
	out=$(lc "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" >&2
	[ "$rc" = 0 ] && return 0
	why "$(grep '^FAIL: ' <<<"$out" | tail -n 1 | sed 's/^FAIL: //')"
	return 1
}

# xdp_progs NS IFACE: one line "MODE ID NAME" per XDP program attached.
xdp_progs() {
	ip -n "$1" link show "$2" | awk '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^xdp/) mode = $i }
		/prog\/xdp/ {
			for (i = 1; i < NF; i++) {
				if ($i == "id") id = $(i + 1)
				if ($i == "name") nm = $(i + 1)
			}
			print mode, id, nm
		}'
}

# answer NS SRC URL: "STATUS LOCATION" of a GET (SRC '-': any source).
answer() {
	local ns=$1 src=$2 url=$3
	[ "$src" = - ] && src=
	ip netns exec "$ns" curl -sSg -m 3 -o /dev/null \
		-w '%{http_code} %header{location}' ${src:+--interface "$src"} "$url" 2>&1
}

# expect NS SRC URL WANT
expect() {
	local got
	got=$(answer "$1" "$2" "$3")
	echo "from $2 in $1: $3 -> $got" >&2
	[ "$got" = "$4" ] && return 0
	why "from $2 ($1) $3: got '$got', want '$4'"
	return 1
}

# detached_and_refused: no program on the server veth, and the kernel
# refuses the port.
detached_and_refused() {
	local p
	p=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	[ -z "$p" ] || { why "XDP program still attached after the exit: $p"; return 1; }
	lcc "$XR_CLI_NS" refused --host "$XR_SRV_IP4" --src "$XR_CLI_IP4" ||
		{ why "after the exit: $(tail -n 1 "$E2E_WORK/.reason" 2>/dev/null)"; return 1; }
}

# ---- 01: drain ----

test_01a_drain_graceful() {
	need curl "$PYTHON" || return 1
	local out=$E2E_WORK/t01a.out job rc t_sig dt summary refused
	d_start --grace 3 --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	cli timeout 30 "$PYTHON" "$LCPY" drain --pid "$D_PID" \
		--host "$XR_SRV_IP4" --src "$XR_CLI_IP4" \
		--metrics "$XR_SRV_IP4:$MPORT" --complete-after 1.0 >"$out" 2>&1 &
	job=$!
	wait_line "$out" '^sigterm at ' 10 || { cat "$out" >&2; return 1; }
	t_sig=$(sed -n 's/^sigterm at //p' "$out")
	if ! wait_exit 6 "$D_PID"; then
		why "xredird still running 6 s after SIGTERM (grace 3)"
		wait "$job"
		cat "$out" >&2
		return 1
	fi
	dt=$(secs "$(now) - $t_sig")
	wait "$D_JOB"
	D_RC=$?
	D_PID=
	wait "$job"
	rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] || { why "$(grep '^FAIL' "$out" | tail -n 1)"; return 1; }
	summary=$(grep -v '^sigterm at' "$out" | tail -n 1)
	[ "$D_RC" = 0 ] || { why "xredird exited with status $D_RC"; return 1; }
	awk "BEGIN { exit !($dt <= 4.0) }" ||
		{ why "exit ${dt}s after SIGTERM, grace 3 s (+1 allowed)"; return 1; }
	grep -q 'msg=signal sig=TERM action=drain grace_ms=3000' "$D_LOG" ||
		{ why "no drain log line"; return 1; }
	grep -q 'msg=stopped' "$D_LOG" || { why "no msg=stopped"; return 1; }
	refused=$(xstat drain_refused)
	[ "${refused:-0}" -ge 1 ] ||
		{ why "drain_refused counter is ${refused:-?}: the RSTs were not xredird's"; return 1; }
	detached_and_refused || return 1
	echo "$summary; exit 0 ${dt}s after SIGTERM (drain_refused=$refused); detached, kernel refuses"
}

test_01b_drain_grace_expiry() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t01b.out job
	d_start --grace 2 || return 1
	cli timeout 30 "$PYTHON" "$LCPY" hold --seconds 3.5 --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" >"$out" 2>&1 &
	job=$!
	wait_line "$out" '^holding' 10 || return 1
	d_stop 4 || { wait "$job"; return 1; }
	wait "$job" || { cat "$out" >&2; why "$(tail -n 1 "$out")"; return 1; }
	cat "$out" >&2
	awk "BEGIN { exit !($D_STOP_S >= 1.8 && $D_STOP_S <= 3.0) }" ||
		{ why "exit ${D_STOP_S}s after SIGTERM with a request open, grace 2 s"; return 1; }
	detached_and_refused || return 1
	echo "exit 0 ${D_STOP_S}s after SIGTERM (grace 2 s) with a request open; the client: $(tail -n 1 "$out" | sed 's/^held [0-9.]*s: //')"
}

test_01c_drain_second_signal() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t01c.out job t0 dt
	d_start --grace 30 || return 1
	cli timeout 30 "$PYTHON" "$LCPY" hold --seconds 2 --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" >"$out" 2>&1 &
	job=$!
	wait_line "$out" '^holding' 10 || return 1
	kill -TERM "$D_PID"
	sleep 0.5
	d_alive || { wait "$job"; why "xredird exited before the second signal, with a request open and grace 30 s"; return 1; }
	t0=$(now)
	d_stop 2 INT || { wait "$job"; return 1; }
	dt=$(secs "$(now) - $t0")
	wait "$job"
	cat "$out" >&2
	grep -q 'msg=signal sig=INT action=stop' "$D_LOG" ||
		{ why "no 'msg=signal sig=INT action=stop' line"; return 1; }
	awk "BEGIN { exit !($dt <= 1.0) }" ||
		{ why "exit ${dt}s after the second signal"; return 1; }
	detached_and_refused || return 1
	echo "draining with a request open (grace 30 s), SIGINT: exit 0 after ${dt}s; detached"
}

test_01d_drain_local_clients() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t01d.hold job r1 r2 fails=''
	# (1) An AF_XDP connection keeps the daemon draining meanwhile.
	d_start --grace 3 || return 1
	cli timeout 30 "$PYTHON" "$LCPY" hold --seconds 2.5 --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" >"$out" 2>&1 &
	job=$!
	wait_line "$out" '^holding' 10 || return 1
	if r1=$(lc "$XR_SRV_NS" local-drain --host 127.0.0.1 --pid "$D_PID" \
		--complete-after 1.0 2>&1); then
		r1="ok: $r1"
	else
		fails="with an AF_XDP connection open: ${r1##*FAIL: }"
	fi
	echo "with an AF_XDP connection open: $r1" >&2
	wait "$job"
	d_wait 4 || fails="${fails:+$fails | }$(cat "$E2E_WORK/.reason")"
	# (2) No AF_XDP connection: the drain has only the local ones.
	d_start --grace 3 || return 1
	if r2=$(lc "$XR_SRV_NS" local-drain --host 127.0.0.1 --pid "$D_PID" \
		--complete-after 1.0 2>&1); then
		r2="ok: $r2"
	else
		fails="${fails:+$fails | }local clients only: ${r2##*FAIL: }"
	fi
	echo "local clients only: $r2" >&2
	d_wait 4 || fails="${fails:+$fails | }$(cat "$E2E_WORK/.reason")"
	detached_and_refused || fails="${fails:+$fails | }$(cat "$E2E_WORK/.reason")"
	[ -z "$fails" ] || { why "$fails"; return 1; }
	echo "kernel-socket clients drained like AF_XDP ones ($r2)"
}

test_01e_drain_no_blackhole() {
	need "$PYTHON" || return 1
	local r
	d_start || return 1
	r=$(lc "$XR_CLI_NS" storm --pid "$D_PID" --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" --threads 4 --seconds 2.5 --sigterm-after 0.5 2>&1)
	local rc=$?
	echo "$r" >&2
	d_wait 5 || return 1
	[ "$rc" = 0 ] || { why "${r##*FAIL: }"; return 1; }
	echo "$r"
}

# synack_clock_kept PID: sets the cookie's time counter that daemon PID
# gives its XDP program (xr_synack: not pinned, found among its fds) one
# period back, and waits up to 3 s for the daemon to put it right. Prints
# how long that took.
synack_clock_kept() {
	"$PYTHON" - "$1" "$E2E_ROOT/bpf/syncookie.h" <<'EOF'
import os, re, struct, sys, time
from bpfmap import KEY0, bpftool, lookup, raw, update

pid = int(sys.argv[1])
with open(sys.argv[2]) as f:
    shift = int(re.search(r"#define COOKIE_PERIOD_SHIFT (\d+)", f.read()).group(1))
OFF = 16  # struct xr_synack_conf: the secret, then the counter (checked below)

held = set()
for fd in os.listdir("/proc/%d/fdinfo" % pid):
    try:
        with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
            held.update(int(l.split()[1]) for l in f if l.startswith("map_id:"))
    except FileNotFoundError:  # closed since the listing
        pass
ids = [m["id"] for m in bpftool("map", "show") if m.get("name") == "xr_synack" and m["id"] in held]
if len(ids) != 1:
    sys.exit("daemon %d holds %d maps named xr_synack" % (pid, len(ids)))
m = ("id", str(ids[0]))


def counter():
    e = lookup(m)
    c = struct.unpack_from("<I", raw(e), OFF)[0]
    if "formatted" in e and e["formatted"]["value"]["counter"] != c:
        sys.exit("the counter is not at byte %d of xr_synack_conf" % OFF)
    return c


conf = raw(lookup(m))
back = counter() - 1
update(m, KEY0, conf[:OFF] + struct.pack("<I", back) + conf[OFF + 4:])
t0 = time.monotonic()
while time.monotonic() - t0 < 3:
    now = counter()
    if now != back:
        clock = int(time.time()) >> shift  # (or one less, had it just moved on)
        if now not in (clock, clock - 1):
            sys.exit("the counter went from %u to %u, the clock's is %u" % (back, now, clock))
        print("%.1f" % (time.monotonic() - t0))
        sys.exit(0)
    time.sleep(0.05)
sys.exit("the counter set one period back (%u) was not put right in 3 s" % back)
EOF
}

test_01f_xdp_synack() {
	need "$PYTHON" curl xdp-loader bpftool || return 1
	local r rc wrc s0 s1 f0 f1 line st kept
	d_start || return 1
	line=$(grep -o 'msg=xdp_synack.*' "$D_LOG")
	st=$(ctl status | grep '^xdp:')
	d_stop || return 1
	[[ "$st" == *"SYNs answered by the workers" ]] ||
		{ why "status with auto on a veth: '$st'"; return 1; }
	[ "$line" = "msg=xdp_synack state=off why=veth_native driver=veth" ] ||
		{ why "--xdp-synack auto on a veth in native mode: '$line'"; return 1; }
	peer_xdp load || return 1
	d_start --xdp-synack on || { peer_xdp unload; return 1; }
	s0=$(xstat xdp_synack) f0=$(xstat drain_refused)
	st=$(ctl status | grep '^xdp:')
	[[ "$st" == *"SYNs answered in XDP" ]] ||
		{ why "status with --xdp-synack on: '$st'"; d_stop; peer_xdp unload; return 1; }
	kept=$(synack_clock_kept "$D_PID" 2>&1) ||
		{ why "cookie clock: ${kept##*$'\n'}"; d_stop; peer_xdp unload; return 1; }
	if ! expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/s" "302 $DEFAULT/s" ||
		! expect "$XR_CLI_NS" "$XR_CLI_IP6" "http://[$XR_SRV_IP6]:$PORT/s6" "302 $DEFAULT/s6"; then
		peer_xdp unload
		return 1
	fi
	r=$(lc "$XR_CLI_NS" storm --pid "$D_PID" --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" --threads 4 --seconds 2.5 --sigterm-after 0.5 2>&1)
	rc=$?
	echo "$r" >&2
	d_wait 5
	wrc=$?
	peer_xdp unload
	[ "$wrc" = 0 ] || return 1
	st=$(ctl status | grep '^xdp:')
	[[ "$st" == *"SYNs answered by the workers" ]] ||
		{ why "status after the exit: '$st'"; return 1; }
	[ "$rc" = 0 ] || { why "${r##*FAIL: }"; return 1; }
	s1=$(xstat xdp_synack) f1=$(xstat drain_refused)
	grep -q 'msg=xdp_synack state=on why=flag driver=veth' "$D_LOG" ||
		{ why "no 'xdp_synack state=on' line: $(grep -o 'msg=xdp_synack.*' "$D_LOG")"; return 1; }
	[ $((s1 - s0)) -ge 50 ] ||
		{ why "$((s1 - s0)) SYNs answered in XDP, want >= 50"; return 1; }
	[ $((f1 - f0)) -ge 1 ] ||
		{ why "no SYN refused by the draining workers"; return 1; }
	echo "auto on a veth: off; on: a cookie clock set back put right after ${kept}s; $r;" \
		"$((s1 - s0)) SYNs answered in XDP, $((f1 - f0)) refused while draining"
}

# ---- 02: kill -9 and restart ----

test_02_kill9_restart() {
	need curl tcpdump "$PYTHON" || return 1
	local pold pnew no0 no1 out=$E2E_WORK/t02.wait job t_start t_first ms n
	local conf=$E2E_WORK/t02.conf
	printf '%s\n' "target T http://kill9.test" "rule $XR_CLI_IP4/32 T" >"$conf"
	d_start --config "$conf" || return 1
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/k" "302 http://kill9.test/k" || return 1
	pold=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	kill -KILL "$D_PID"
	wait "$D_JOB" 2>/dev/null
	D_PID=
	pnew=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	echo "before: $pold; after kill -9: $pnew" >&2
	[ -n "$pnew" ] && [ "$pnew" = "$pold" ] ||
		{ why "after kill -9 the program is '$pnew', was '$pold'"; return 1; }
	no0=$(xstat xdp_no_socket)
	cap_start "$XR_CLI_IF" "$E2E_WORK/t02.pcap" "tcp src port $PORT" || return 1
	lcc "$XR_CLI_NS" refused --host "$XR_SRV_IP4" --src "$XR_CLI_IP4" ||
		{ cap_stop; why "after kill -9: $(cat "$E2E_WORK/.reason")"; return 1; }
	lcc "$XR_CLI_NS" refused --host "$XR_SRV_IP6" --src "$XR_CLI_IP6" ||
		{ cap_stop; why "after kill -9 (IPv6): $(cat "$E2E_WORK/.reason")"; return 1; }
	sleep 0.2
	cap_stop || return 1
	no1=$(xstat xdp_no_socket)
	tcpdump -r "$E2E_WORK/t02.pcap" -nn -v 2>/dev/null >&2
	# RSTs with the kernel's TTL / hop limit (xredird uses 64).
	n=$(tcpdump -r "$E2E_WORK/t02.pcap" -nn \
		"(ip and ip[8] = $XR_KERNEL_TTL and tcp[13] & 4 != 0) or (ip6 and ip6[7] = $XR_KERNEL_TTL and ip6[6] = 6 and ip6[53] & 4 != 0)" \
		2>/dev/null | grep -c .)
	[ "$n" -ge 2 ] ||
		{ why "want 2 RSTs with the kernel's TTL $XR_KERNEL_TTL, got $n"; return 1; }
	[ $((no1 - no0)) -ge 2 ] ||
		{ why "xdp_no_socket rose by $((no1 - no0)), want >= 2 (the program passing)"; return 1; }
	# Restart, polled from the client every 5 ms from before the start.
	cli timeout 20 "$PYTHON" "$LCPY" wait-serving --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" --timeout 10 >"$out" 2>&1 &
	job=$!
	sleep 0.3
	t_start=$(now)
	d_start -k -u - --config "$conf" || { wait "$job"; return 1; }
	wait "$job" || { why "restart: $(tail -n 1 "$out")"; return 1; }
	t_first=$(sed -n 's/^first 302 at \([0-9.]*\) .*/\1/p' "$out")
	ms=$(awk "BEGIN { printf \"%d\", ($t_first - $t_start) * 1000 }")
	echo "restart to first answer: $ms ms ($(cat "$out"))" >&2
	[ "$ms" -lt 1000 ] || { why "first answer ${ms} ms after the restart"; return 1; }
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/k" "302 http://kill9.test/k" ||
		{ why "the config's rule is not in force after the restart: $(cat "$E2E_WORK/.reason")"; return 1; }
	expect "$XR_CLI_NS" "$XR_CLI_IP6" "http://[$XR_SRV_IP6]:$PORT/k" "302 $DEFAULT/k" || return 1
	pnew=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	echo "after the restart: $pnew" >&2
	[ "$(printf '%s\n' "$pnew" | grep -c .)" = 1 ] && [[ "$pnew" == *" xredir_xdp" ]] ||
		{ why "after the restart the interface has: '$pnew'"; return 1; }
	[ "$pnew" != "$pold" ] || { why "the stale program was not replaced ($pnew)"; return 1; }
	grep -q 'msg=stale_program_removed' "$D_LOG" ||
		{ why "no stale_program_removed log line"; return 1; }
	d_stop || return 1
	echo "kill -9: program stays (${pold% *}), kernel RSTs (ttl $XR_KERNEL_TTL, xdp_no_socket +$((no1 - no0))); restart serves after $ms ms with the rule; one program (${pnew% *})"
}

# ---- 03: a second daemon ----

test_03a_second_daemon_refused() {
	local p0 p1 t0 ms rc out=$E2E_WORK/t03a.second
	d_start || return 1
	p0=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	t0=$(ms_now)
	srv timeout 10 "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" >"$out" 2>&1
	rc=$?
	ms=$(($(ms_now) - t0))
	cat "$out" >&2
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || { why "the second xredird: exit $rc after $ms ms"; return 1; }
	[ "$ms" -lt 2000 ] || { why "the second xredird took $ms ms to give up"; return 1; }
	grep -q 'another xredird (pid [0-9]*) is already serving' "$out" && grep -q 'lock' "$out" ||
		{ why "the message does not name the other daemon and the lock: $(tail -n 1 "$out")"; return 1; }
	d_alive || { why "the first xredird died"; return 1; }
	p1=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	[ "$p1" = "$p0" ] || { why "program changed: '$p0' -> '$p1'"; return 1; }
	ctl --json status | grep -q "\"pid\":$D_PID," ||
		{ why "status no longer names the first daemon: $(ctl --json status)"; return 1; }
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/s" "302 $DEFAULT/s" || return 1
	d_stop || return 1
	echo "second: exit $rc after $ms ms: \"$(head -n 1 "$out" | cut -c1-90)...\"; first serves on, program ${p0% *}"
}

# The interface lock file of the server veth (its netns inode in the name).
iface_lock_file() {
	echo "/run/xredir/iface-$(srv stat -L -c %i /proc/self/ns/net)-$XR_SRV_IF.lock"
}

# refused_start OUT: a second xredird on the server veth, its output in
# OUT (and the log); returns its exit status.
refused_start() {
	local rc
	srv timeout 10 "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" >"$1" 2>&1
	rc=$?
	cat "$1" >&2
	return "$rc"
}

test_03c_lock_not_squattable() {
	local lock out=$E2E_WORK/t03c.out sq=$E2E_WORK/t03c.squat job rc mode
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups) py
	need setpriv flock || return 1
	# The system's interpreter: $PYTHON may live where user 65534 cannot go.
	py=$(PATH=/usr/bin:/bin command -v python3) || { why "no python3 in /usr/bin or /bin"; return 1; }
	lock=$(iface_lock_file)
	rm -f "$lock"
	# The old lock, an abstract socket any user could bind first, squatted.
	srv "${nobody[@]}" "$py" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0xredird/" + sys.argv[1]); s.listen(1)
print("bound", flush=True); time.sleep(60)' "$XR_SRV_IF" >"$sq" 2>&1 &
	job=$!
	wait_line "$sq" '^bound' || { kill "$job"; return 1; }
	# The new one cannot be made or taken by that user.
	if srv "${nobody[@]}" flock -n "$lock" true 2>"$out"; then
		kill "$job"
		why "user 65534 took $lock"
		return 1
	fi
	echo "user 65534 on $lock: $(cat "$out")" >&2
	d_start || { kill "$job"; return 1; }
	kill "$job"
	wait "$job" 2>/dev/null
	mode=$(stat -c '%U %a' "$lock")
	[ "$mode" = "root 600" ] || { why "$lock: owner and mode '$mode'"; return 1; }
	[ "$(cat "$lock")" = "$D_PID" ] || { why "$lock holds '$(cat "$lock")', not $D_PID"; return 1; }
	[ "$(stat -c '%U %a' /run/xredir)" = "root 755" ] ||
		{ why "/run/xredir: $(stat -c '%U %a' /run/xredir)"; return 1; }
	if srv "${nobody[@]}" flock -n "$lock" true 2>"$out"; then
		why "user 65534 took the held $lock"
		return 1
	fi
	refused_start "$out"
	rc=$?
	[ "$rc" = 1 ] && grep -qF "another xredird (pid $D_PID) is already serving $XR_SRV_IF" "$out" &&
		grep -qF "lock $lock" "$out" ||
		{ why "second daemon: exit $rc: $(tail -n 1 "$out")"; return 1; }
	d_stop || return 1
	# A lock file someone else owns is not trusted.
	chown 65534 "$lock"
	refused_start "$out"
	rc=$?
	rm -f "$lock"
	[ "$rc" = 1 ] && grep -qF "$lock is owned by uid 65534, not root" "$out" ||
		{ why "lock file owned by 65534: exit $rc: $(tail -n 1 "$out")"; return 1; }
	# Nor a pin directory someone else made (a fresh bpffs is 1777).
	mkdir -p "$XR_BPFFS/xredir/$XR_SRV_IF"
	chown 65534 "$XR_BPFFS/xredir/$XR_SRV_IF"
	refused_start "$out"
	rc=$?
	rm -rf "${XR_BPFFS:?}/xredir/$XR_SRV_IF"
	[ "$rc" = 1 ] && grep -q "msg=pin_dir_untrusted .*owned by uid 65534" "$out" ||
		{ why "pin directory owned by 65534: exit $rc: $(tail -n 1 "$out")"; return 1; }
	echo "abstract socket squatted by uid 65534: xredird serves; $lock root 600 with its pid; uid 65534 cannot take it; a second daemon names pid and file; a file or pin directory owned by 65534 refused"
}

BPFFS2=/run/xredir-$SUITE_TOPO-bpffs2

test_03b_second_daemon_other_bpffs() {
	local p0 p1 rc out=$E2E_WORK/t03b.second r0 r1 issues='' rz
	mkdir -p "$BPFFS2"
	mountpoint -q "$BPFFS2" || mount -t bpf bpf "$BPFFS2" || { why "cannot mount a bpffs at $BPFFS2"; return 1; }
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	p0=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	srv env LIBXDP_BPFFS="$BPFFS2" timeout 10 "$XREDIRD" --iface "$XR_SRV_IF" \
		--bpffs "$BPFFS2" >"$out" 2>&1
	rc=$?
	cat "$out" >&2
	p1=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	echo "program before: '$p0', after the second daemon: '$p1'" >&2
	sleep 0.25 # counters are published every 100 ms
	r0=$(xstat responses_302)
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/s" "302 $DEFAULT/s" ||
		issues="requests no longer answered"
	sleep 0.25
	r1=$(xstat responses_302)
	rz=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/readyz")
	echo "AF_XDP 302s $r0 -> $r1, /readyz $rz" >&2
	[ "$rc" != 0 ] || issues="${issues:+$issues; }the second daemon exited 0"
	d_alive || issues="${issues:+$issues; }the first daemon died"
	if [ "$p1" != "$p0" ]; then
		issues="${issues:+$issues; }the second daemon (exit $rc, log: $(grep -o 'msg=[a-z_]*' "$out" | sed 's/msg=//' | tr '\n' ' ' | sed 's/ $//')) changed the first's program '$p0' to '${p1:-none}'"
		[ "$r1" = "$r0" ] && issues="$issues; the first now answers remote clients through its kernel socket only (AF_XDP 302s stay $r0) while /readyz says $rz"
	elif [ "$r1" = "$r0" ]; then
		issues="${issues:+$issues; }the first no longer answers over AF_XDP"
	fi
	d_end
	rm -rf "${BPFFS2:?}/xredir"
	umount "$BPFFS2" && rmdir "$BPFFS2"
	[ -z "$issues" ] || { why "$issues"; return 1; }
	echo "second daemon on another bpffs: exit $rc; the first keeps its program ${p0% *} and serves"
}

# ---- 04: another XDP program ----

test_04a_other_xdp_program() {
	need xdp-loader "$PYTHON" || return 1
	[ -f "$XDP_OTHER_OBJ" ] || { why "no $XDP_OTHER_OBJ (xdp-tools)"; return 1; }
	local other p rc t0 ms out=$E2E_WORK/t04.xredird lout=$E2E_WORK/t04.loader msg
	srv xdp-loader load -m native "$XR_SRV_IF" "$XDP_OTHER_OBJ" >"$lout" 2>&1 ||
		{ why "xdp-loader load failed: $(tail -n 1 "$lout")"; return 1; }
	other=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	echo "loaded by xdp-loader: $other" >&2
	# (a) xredird on top of it.
	rm -rf "${XR_BPFFS:?}/xredir/$XR_SRV_IF"
	t0=$(ms_now)
	srv timeout 10 "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" \
		--xdp-mode auto >"$out" 2>&1
	rc=$?
	ms=$(($(ms_now) - t0))
	cat "$out" >&2
	p=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		why "xredird with another program attached: exit $rc (coexisting?): now '$p'"
		srv xdp-loader unload -a "$XR_SRV_IF" >/dev/null 2>&1
		return 1
	fi
	msg=$(grep 'level=error' "$out" | tail -n 1)
	[ -n "$msg" ] && [[ "$msg" == *"$XR_SRV_IF"* ]] ||
		{ why "no error line naming $XR_SRV_IF: $(tail -n 1 "$out")"; srv xdp-loader unload -a "$XR_SRV_IF"; return 1; }
	[ "$ms" -lt 3000 ] || { why "xredird took $ms ms to fail"; srv xdp-loader unload -a "$XR_SRV_IF"; return 1; }
	# (b) the other program is still there and traffic flows through it.
	[ "$p" = "$other" ] ||
		{ why "the other program changed: '$other' -> '$p'"; srv xdp-loader unload -a "$XR_SRV_IF"; return 1; }
	cli ping -c 1 -W 2 -q "$XR_SRV_IP4" >&2 &&
		lcc "$XR_CLI_NS" refused --host "$XR_SRV_IP4" --src "$XR_CLI_IP4" ||
		{ why "traffic through the other program failed after xredird gave up"; srv xdp-loader unload -a "$XR_SRV_IF"; return 1; }
	srv xdp-loader unload -a "$XR_SRV_IF" >&2 2>&1 ||
		{ why "xdp-loader unload failed"; return 1; }
	# (c) the other way round: xdp-loader over a running xredird.
	d_start || return 1
	p=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")
	if srv xdp-loader load -m native "$XR_SRV_IF" "$XDP_OTHER_OBJ" >"$lout.2" 2>&1; then
		cat "$lout.2" >&2
		why "xdp-loader attached over xredird: now '$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")'"
		return 1
	fi
	cat "$lout.2" >&2
	[ "$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF")" = "$p" ] ||
		{ why "xdp-loader's attempt changed xredird's program"; return 1; }
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/o" "302 $DEFAULT/o" || return 1
	d_stop || return 1
	# After xredird's exit the interface is free for the other program.
	srv xdp-loader load -m native "$XR_SRV_IF" "$XDP_OTHER_OBJ" >"$lout.3" 2>&1 ||
		{ why "after xredird's exit xdp-loader still cannot attach: $(tail -n 1 "$lout.3")"; return 1; }
	cli ping -c 1 -W 2 -q "$XR_SRV_IP4" >&2 || { why "no ping through the other program"; srv xdp-loader unload -a "$XR_SRV_IF"; return 1; }
	srv xdp-loader unload -a "$XR_SRV_IF" >&2 2>&1
	echo "no dispatcher here: xredird over ${other##* } fails in $ms ms (exit $rc, '$(echo "$msg" | sed 's/^ts=[^ ]* //')'), ${other##* } keeps working; xdp-loader over xredird: '$(grep -v '^ *libxdp: No bpffs\|dispatcher without' "$lout.2" | tail -n 1)'; loads after xredird exits"
}

test_04b_other_xdp_program_message() {
	need xdp-loader || return 1
	[ -f "$XDP_OTHER_OBJ" ] || { why "no $XDP_OTHER_OBJ (xdp-tools)"; return 1; }
	local out=$E2E_WORK/t04b.xredird name issues=''
	srv xdp-loader load -m native "$XR_SRV_IF" "$XDP_OTHER_OBJ" >/dev/null 2>&1 ||
		{ why "xdp-loader load failed"; return 1; }
	name=$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF" | awk '{ print $3 }')
	rm -rf "${XR_BPFFS:?}/xredir/$XR_SRV_IF"
	srv timeout 10 "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" \
		--xdp-mode auto >"$out" 2>&1
	srv xdp-loader unload -a "$XR_SRV_IF" >/dev/null 2>&1
	cat "$out" >&2
	grep 'level=error' "$out" | grep -Eiq "$name|(another|existing|already|other)[^\"]*(program|xdp)" ||
		issues="the error does not say that an XDP program ($name) is already attached: '$(grep 'level=error' "$out" | sed 's/^ts=[^ ]* //' | tr '\n' ' ')'"
	if grep -q 'msg=xdp_native_unavailable' "$out"; then
		issues="${issues:+$issues; }it logs '$(grep -o 'msg=xdp_native_unavailable.*' "$out")' though native XDP is available (the interface is taken)"
	fi
	[ -z "$issues" ] || { why "$issues"; return 1; }
	echo "error: $(grep 'level=error' "$out" | sed 's/^ts=[^ ]* //')"
}

# ---- 05: clients on the node ----

test_05_local_clients() {
	need curl || return 1
	local r0 r1 x1
	d_start --match-ip 127.0.0.1 || return 1
	ctl target set own http://own.test >&2 && ctl rule add "$XR_SRV_IP4/32" own >&2 ||
		{ why "xredirctl failed"; return 1; }
	sleep 0.3 # the listener refreshes its target cache
	r0=$(xstat responses_302)
	expect "$XR_SRV_NS" - "http://127.0.0.1:$PORT/x" "302 $REWRITE/x" || return 1
	expect "$XR_SRV_NS" - "http://[::1]:$PORT/x" "302 $DEFAULT/x" || return 1
	expect "$XR_SRV_NS" - "http://$XR_SRV_IP4:$PORT/x" "302 http://own.test/x" || return 1
	expect "$XR_SRV_NS" - "http://[$XR_SRV_IP6]:$PORT/x" "302 $DEFAULT/x" || return 1
	sleep 0.2
	r1=$(xstat responses_302)
	[ "$r1" = "$r0" ] ||
		{ why "AF_XDP 302s went from $r0 to $r1 for local clients (want the kernel socket)"; return 1; }
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/x" "302 $DEFAULT/x" || return 1
	sleep 0.2
	x1=$(xstat responses_302)
	[ "$x1" = $((r1 + 1)) ] || { why "the remote request was not counted by AF_XDP ($r1 -> $x1)"; return 1; }
	d_stop || return 1
	echo "127.0.0.1 -> $REWRITE (--match-ip), ::1 -> default, $XR_SRV_IP4 -> own.test (xredirctl rule), $XR_SRV_IP6 -> default; all by the kernel socket"
}

# ---- 06: SKB fallback ----

MV_NS=$SUITE_TOPO-mv
MV_IF=$SUITE_TOPO-m0
MV_IP4=10.77.0.9

mv_down() {
	ip netns del "$MV_NS" 2>/dev/null
	rm -rf "${XR_BPFFS:?}/xredir/$MV_IF"
}

test_06_skb_fallback() {
	need curl || return 1
	local out=$E2E_WORK/t06.native rc p s0 s1 dummy
	# No dummy driver in some kernels: say which device lacks native XDP.
	if ip -n "$XR_SRV_NS" link add "$SUITE_TOPO-d0" type dummy 2>"$E2E_WORK/t06.dummy"; then
		ip -n "$XR_SRV_NS" link del "$SUITE_TOPO-d0"
		dummy="dummy available"
	else
		dummy="no dummy driver ($(tr -d '\n' <"$E2E_WORK/t06.dummy"))"
	fi
	mv_down
	ip netns add "$MV_NS" &&
		ip -n "$XR_SRV_NS" link add "$MV_IF" link "$XR_SRV_IF" type macvlan mode bridge &&
		ip -n "$XR_SRV_NS" link set "$MV_IF" netns "$MV_NS" &&
		ip -n "$MV_NS" addr add "$MV_IP4/24" dev "$MV_IF" &&
		ip -n "$MV_NS" link set lo up && ip -n "$MV_NS" link set "$MV_IF" up ||
		{ why "cannot make a macvlan"; return 1; }
	cli ping -c 1 -W 2 -q "$MV_IP4" >/dev/null || { why "no ping to the macvlan"; return 1; }
	# Native XDP is refused there.
	ip netns exec "$MV_NS" timeout 10 "$XREDIRD" --iface "$MV_IF" --bpffs "$XR_BPFFS" \
		--xdp-mode native >"$out" 2>&1
	rc=$?
	cat "$out" >&2
	[ "$rc" != 0 ] && grep -q 'xdp_attach_failed' "$out" ||
		{ why "--xdp-mode native on a macvlan: exit $rc: $(tail -n 1 "$out")"; return 1; }
	d_start -n "$MV_NS" -i "$MV_IF" -u "http://$MV_IP4:$PORT/ready" --xdp-mode auto || return 1
	grep -E 'msg=xdp_native_unavailable .*fallback=skb' "$D_LOG" >&2 ||
		{ why "no 'msg=xdp_native_unavailable ... fallback=skb' line"; return 1; }
	grep -q "msg=serving .*xdp_mode=skb" "$D_LOG" || { why "msg=serving does not say xdp_mode=skb"; return 1; }
	CTL_IF=$MV_IF ctl status >&2
	CTL_IF=$MV_IF ctl status | grep -Eq '^xdp: +skb mode' ||
		{ why "xredirctl status: $(CTL_IF=$MV_IF ctl status | grep '^xdp')"; return 1; }
	p=$(xdp_progs "$MV_NS" "$MV_IF")
	[[ "$p" == "xdpgeneric "*" xredir_xdp" ]] || { why "ip link shows '$p'"; return 1; }
	s0=$(CTL_IF=$MV_IF xstat responses_302)
	expect "$XR_CLI_NS" "$XR_CLI_IP4" "http://$MV_IP4:$PORT/skb" "302 $DEFAULT/skb" || return 1
	sleep 0.2
	s1=$(CTL_IF=$MV_IF xstat responses_302)
	[ "$s1" -gt "$s0" ] || { why "not answered over AF_XDP (302s $s0 -> $s1)"; return 1; }
	d_stop || return 1
	[ -z "$(xdp_progs "$MV_NS" "$MV_IF")" ] || { why "program still on the macvlan"; return 1; }
	mv_down
	echo "macvlan: native refused; auto -> '$(grep -o 'msg=xdp_native_unavailable.*' "$D_LOG")', status skb, xdpgeneric, served over AF_XDP; $dummy"
}

# ---- 07: metrics, Prometheus, readiness ----

scrape() { srv curl -sS -m 3 "http://$XR_SRV_IP4:$MPORT$1"; }

# metric FILE NAME{LABELS}: its value in a scrape.
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

test_07a_metrics_promtool() {
	need promtool curl "$PYTHON" || return 1
	local m=$E2E_WORK/t07a.metrics v s b c ver
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	cli curl -s -o /dev/null "http://$XR_SRV_IP4:$PORT/a/[1-20]" || return 1
	lcc "$XR_CLI_NS" bad --host "$XR_SRV_IP4" || { why "bad requests: $(tail -n 1 "$E2E_WORK/.reason")"; return 1; }
	srv curl -s -o /dev/null "http://127.0.0.1:$PORT/l/[1-5]" || return 1
	sleep 0.3
	scrape /metrics >"$m" || { why "scrape failed"; return 1; }
	promtool check metrics <"$m" >"$m.check" 2>&1 ||
		{ cat "$m.check" >&2; why "promtool: $(head -n 1 "$m.check")"; return 1; }
	v=$(metric "$m" 'xredir_requests_total{status="302",via="xdp"}')
	s=$(xstat responses_302)
	[ "$v" = "$s" ] && [ "$v" -ge 21 ] || { why "302 xdp: metrics $v, xredirctl stats $s"; return 1; }
	v=$(metric "$m" 'xredir_requests_total{status="400",via="xdp"}')
	[ "$v" = 3 ] || { why "400 xdp: $v, want 3"; return 1; }
	v=$(metric "$m" 'xredir_requests_total{status="302",via="kernel"}')
	[ "$v" = 5 ] || { why "302 kernel: $v, want 5"; return 1; }
	[ "$(metric "$m" xredir_ready)" = 1 ] || { why "xredir_ready is not 1"; return 1; }
	# The build, as xredird --version says it: version and commit labels.
	ver=$("$XREDIRD" --version) && ver=${ver#xredird }
	b=$(grep '^xredir_build_info{' "$m")
	c=${b#*commit=\"}
	c=${c%%\"*}
	[ "$b" = "xredir_build_info{version=\"$ver\",commit=\"$c\"} 1" ] &&
		[[ $c =~ ^([0-9a-f]{7,}|unknown)$ ]] ||
		{ why "build_info: '$b', want version '$ver' and a commit"; return 1; }
	# The families issue 6 names, each declared.
	for v in flows_open cookies_sent_total retransmits_total rst_sent_total \
		frames_dropped_total connections_refused_total connections_reset_total \
		input_deferred_total queue_rx_packets_total queue_tx_packets_total \
		xdp_packets_total rules targets config_reloads_total build_info; do
		grep -q "^# TYPE xredir_$v " "$m" || { why "no xredir_$v family"; return 1; }
	done
	srv curl -sS -D "$m.hdr" -o /dev/null "http://$XR_SRV_IP4:$MPORT/metrics" &&
		grep -qi '^content-type: text/plain; version=0.0.4' "$m.hdr" ||
		{ why "Content-Type: $(grep -i content-type "$m.hdr")"; return 1; }
	echo "promtool clean ($(grep -c '^# TYPE' "$m") families, $(grep -vc '^#' "$m") samples); 302 xdp=$s kernel=5, 400 xdp=3 agree with xredirctl"
}

# promq QUERY: the value of a one-element instant vector, or nothing.
promq() {
	srv curl -sS -m 2 -G "http://127.0.0.1:9090/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null |
		"$PYTHON" -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(int(float(r[0]["value"][1])) if r else "")' 2>/dev/null
}

test_07b_prometheus_scrape() {
	need prometheus curl "$PYTHON" || return 1
	local w=$E2E_WORK/t07b i v0='' v1='' codes t0 ms
	d_alive || { d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1; }
	mkdir -p "$w/data"
	cat >"$w/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xredir
    static_configs:
      - targets: ['$XR_SRV_IP4:$MPORT']
EOF
	e2e_bg prometheus srv prometheus --config.file="$w/prometheus.yml" \
		--storage.tsdb.path="$w/data" --web.listen-address=127.0.0.1:9090
	# Prometheus hands static targets to its scrapers after ~5 s.
	for ((i = 0; i < 150; i++)); do
		v0=$(promq 'sum(xredir_requests_total)')
		[ -n "$v0" ] && break
		sleep 0.1
	done
	[ -n "$v0" ] || { tail -n 5 "$E2E_WORK/prometheus.out" >&2; e2e_bg_stop prometheus; why "Prometheus has no sample after 15 s"; return 1; }
	codes=$(cli curl -s -o /dev/null -w '%{http_code}\n' "http://$XR_SRV_IP4:$PORT/burst/[1-200]" | sort | uniq -c | sed 's/^ *//')
	t0=$(ms_now)
	[ "$codes" = "200 302" ] || { e2e_bg_stop prometheus; why "the burst: $codes"; return 1; }
	for ((i = 0; i < 100; i++)); do
		v1=$(promq 'sum(xredir_requests_total)')
		[ -n "$v1" ] && [ "$v1" -ge $((v0 + 200)) ] && break
		sleep 0.1
	done
	ms=$(($(ms_now) - t0))
	srv curl -s "http://127.0.0.1:9090/api/v1/targets" >"$w/targets.json"
	e2e_bg_stop prometheus
	[ -n "$v1" ] && [ "$v1" -ge $((v0 + 200)) ] ||
		{ why "sum(xredir_requests_total) in Prometheus: $v0 -> ${v1:-none} after 10 s"; return 1; }
	grep -q '"health":"up"' "$w/targets.json" || { why "target not up: $(head -c 300 "$w/targets.json")"; return 1; }
	echo "Prometheus 2 (scrape 1 s): sum(xredir_requests_total) $v0 -> $v1 ${ms} ms after 200 curl requests"
}

test_07c_readyz() {
	need curl "$PYTHON" || return 1
	local out=$E2E_WORK/t07c.poll job c=$E2E_WORK/t07c.conf seq h r st i held=$E2E_WORK/t07c.hold
	d_end
	# (a) from the very start: polled every 2 ms before xredird exists.
	ip netns exec "$XR_SRV_NS" timeout 20 "$PYTHON" "$LCPY" readyz \
		--url "http://$XR_SRV_IP4:$MPORT/readyz" --timeout 10 >"$out" 2>&1 &
	job=$!
	sleep 0.3
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || { wait "$job"; return 1; }
	wait "$job" || { why "readyz poll: $(tail -n 1 "$out")"; return 1; }
	seq=$(tail -n 1 "$out")
	echo "/readyz from the start: $seq" >&2
	[[ "$seq" =~ ^(refused( x[0-9]+)?,\ )?(503( x[0-9]+)?,\ )?200$ ]] ||
		{ why "/readyz sequence: $seq"; return 1; }
	[ "$(xdp_progs "$XR_SRV_NS" "$XR_SRV_IF" | grep -c xredir_xdp)" = 1 ] ||
		{ why "ready but no program attached"; return 1; }
	h=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/healthz")
	[ "$h" = 200 ] || { why "/healthz $h"; return 1; }
	d_stop || return 1
	# (b) a config file that cannot be applied: serving, but not ready.
	printf 'default http://d.test\nrule 10.77.0.2/16 default\n' >"$c"
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" --config "$c" || return 1
	sleep 1.2 # a heartbeat
	r=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/readyz")
	h=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/healthz")
	echo "rejected config: /readyz $r /healthz $h" >&2
	[ "$r" = 503 ] && [ "$h" = 200 ] ||
		{ why "with a rejected config: /readyz $r, /healthz $h (want 503, 200)"; return 1; }
	printf 'default http://d.test\nrule 10.77.0.0/16 default\n' >"$c"
	for ((i = 0; i < 60; i++)); do
		r=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/readyz")
		[ "$r" = 200 ] && break
		sleep 0.05
	done
	[ "$r" = 200 ] || { why "/readyz $r 3 s after the config was fixed"; return 1; }
	st="fixed config: 200 after $((i * 50)) ms"
	# (c) draining: a request held open keeps it draining.
	cli timeout 30 "$PYTHON" "$LCPY" hold --seconds 2 --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4" >"$held" 2>&1 &
	job=$!
	wait_line "$held" '^holding' 10 || return 1
	kill -TERM "$D_PID"
	sleep 0.3
	r=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/readyz")
	h=$(srv curl -s -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$MPORT/healthz")
	v=$(scrape /metrics | awk '$1 == "xredir_ready" { print $2 }')
	wait "$job"
	d_wait 5 || return 1
	echo "draining: /readyz $r /healthz $h xredir_ready $v" >&2
	[ "$r" = 503 ] && [ "$h" = 200 ] && [ "$v" = 0 ] ||
		{ why "while draining: /readyz $r, /healthz $h, xredir_ready $v (want 503, 200, 0)"; return 1; }
	echo "from start: $seq; rejected config: 503 ($st); draining: 503; /healthz 200"
}

# metric_is FILE_PREFIX KEY WANT: scrapes until KEY reads WANT (the workers
# export every 100 ms), for up to 5 s; the scrape is left in FILE_PREFIX.
metric_is() {
	local i v
	for ((i = 0; i < 50; i++)); do
		scrape /metrics >"$1" && v=$(metric "$1" "$2")
		[ "$v" = "$3" ] && return 0
		sleep 0.1
	done
	why "$2 is ${v:-absent}, want $3"
	return 1
}

# A target deleted and another defined in the slot it left: the new
# target's series starts at zero, the deleted ones' go away (no
# "(removed)" series, let alone two).
test_07d_metrics_target_slot_reuse() {
	need curl || return 1
	local m=$E2E_WORK/t07d.metrics cidr=$XR_CLI_IP4/32 n
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	ctl target set A http://a.test && ctl target set C http://c.test &&
		ctl rule add "$cidr" A || { why "setup failed"; return 1; }
	cli curl -s -o /dev/null "http://$XR_SRV_IP4:$PORT/a/[1-10]" || return 1
	metric_is "$m" 'xredir_target_requests_total{target="A"}' 10 || return 1
	ctl rule del "$cidr" && ctl target del A && ctl target del C &&
		ctl target set B http://b.test && ctl rule add "$cidr" B ||
		{ why "re-targeting failed"; return 1; }
	cli curl -s -o /dev/null "http://$XR_SRV_IP4:$PORT/b/[1-3]" || return 1
	metric_is "$m" 'xredir_target_requests_total{target="B"}' 3 || return 1
	n=$(grep -c '^xredir_target_requests_total{target="\(A\|C\|(removed)\)"}' "$m")
	[ "$n" = 0 ] || { why "deleted targets still shown: $(grep '^xredir_target_requests_total' "$m" | tr '\n' ' ')"; return 1; }
	echo "A: 10; A and C deleted, B in A's slot: 3 (not 13); no series for A, C or (removed)"
}

# The request-duration histogram charges each pipelined head its own
# wait: only the split head waited, the nine behind its rest none. (The
# start's readiness probe may be in it too, as a 0.)
test_07e_request_duration_pipelined() {
	need curl "$PYTHON" || return 1
	local m=$E2E_WORK/t07e.metrics h=xredir_request_duration_seconds i n z mid sum
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	lcc "$XR_CLI_NS" pipeline-split --host "$XR_SRV_IP4" --count 10 --seconds 0.3 || return 1
	# The ten are answered in one pass, so one export has all or none.
	for ((i = 0; i < 50; i++)); do
		scrape /metrics >"$m" && n=$(metric "$m" "${h}_count")
		[ "${n:-0}" -ge 10 ] && break
		sleep 0.1
	done
	[ "${n:-0}" -ge 10 ] || { why "${h}_count is ${n:-absent}, want >= 10"; return 1; }
	z=$(metric "$m" "${h}_bucket{le=\"1.024e-06\"}")
	mid=$(metric "$m" "${h}_bucket{le=\"0.268435456\"}")
	sum=$(metric "$m" "${h}_sum")
	[ $((n - z)) = 1 ] && [ "$mid" = "$z" ] ||
		{ why "of $n requests $z took 0 and $mid up to 0.268 s: want all but the split one ($((n - 1)))"; return 1; }
	# The worker times a head from the start of the pass that read its
	# first byte to that of the pass that answered it: two wake-ups, whose
	# delays differ by tens of microseconds (0.29996 s seen in a run).
	awk -v s="$sum" 'BEGIN { exit !(s >= 0.29 && s < 0.6) }' ||
		{ why "${h}_sum is $sum: want the split head's 0.3 s (0.29-0.6 s), not 10 x 0.3 s"; return 1; }
	echo "10 pipelined heads, the first split 0.3 s: $z of $n requests in le=1.024e-06, 1 above 0.268 s, sum ${sum} s"
}

# The kernel's own counters of the AF_XDP sockets (XDP_STATISTICS): a
# worker that does not read its rings (stopped) has room for one ring of
# frames per queue (--ring-size DROP_RING); every frame beyond that is
# dropped by the kernel and must show, or a flood's losses would be
# invisible (and the count shows that --ring-size took effect).
DROP_RING=512 DROP_EXTRA=1000

# qsum FILE NAME: xredir_queue_NAME_total summed over the queues.
qsum() { awk -v k="xredir_queue_$2_total{" 'index($1, k) == 1 { s += $2 } END { print s + 0 }' "$1"; }

test_07f_metrics_kernel_drops() {
	need curl "$PYTHON" || return 1
	local m=$E2E_WORK/t07f.metrics q f n dropped ring=$DROP_RING i
	d_start --metrics-listen "$XR_SRV_IP4:$MPORT" --ring-size "$ring" || return 1
	ctl status | grep -Eq "^xdp: .*, rings of $ring," &&
		[ "$(ctl --json status | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["ring_size"])')" = "$ring" ] ||
		{ why "status does not show rings of $ring: $(ctl status | grep '^xdp:')"; return 1; }
	scrape /metrics >"$m.0" || { why "scrape failed"; return 1; }
	for f in rx_dropped rx_ring_full fill_empty tx_invalid; do
		grep -q "^# TYPE xredir_queue_${f}_total counter" "$m.0" ||
			{ why "no xredir_queue_${f}_total family"; return 1; }
	done
	q=$(grep -c '^xredir_queue_rx_dropped_total{' "$m.0")
	dropped=$(($(qsum "$m.0" rx_dropped) + $(qsum "$m.0" rx_ring_full) + $(qsum "$m.0" tx_invalid)))
	[ "$q" -ge 1 ] && [ "$dropped" = 0 ] ||
		{ why "a quiet daemon: $q queues, $dropped frames dropped (want 0)"; return 1; }
	n=$((q * ring + DROP_EXTRA))
	kill -STOP "$D_PID"
	cli timeout 30 "$PYTHON" "$E2E_ROOT/tests/e2e/attack.py" spoof --host "$XR_SRV_IP4" \
		--port "$PORT" --prefix 198.18.0.0/16 --count "$n" --rate 20000 >"$m.spoof" 2>&1
	i=$?
	kill -CONT "$D_PID"
	[ "$i" = 0 ] || { why "spoofer: $(tail -n 1 "$m.spoof")"; return 1; }
	# The workers export every 100 ms.
	for ((i = 0; i < 50; i++)); do
		scrape /metrics >"$m" &&
			dropped=$(($(qsum "$m" rx_dropped) + $(qsum "$m" rx_ring_full)))
		[ "${dropped:-0}" -ge "$DROP_EXTRA" ] && break
		sleep 0.1
	done
	grep '^xredir_queue_' "$m" >&2
	[ "${dropped:-0}" -ge "$DROP_EXTRA" ] && [ "$dropped" -le "$n" ] ||
		{ why "$n frames sent to a stopped daemon with $q queue(s) of $ring: $dropped counted dropped, want $DROP_EXTRA-$n"; return 1; }
	[ "$(qsum "$m" tx_invalid)" = 0 ] ||
		{ why "TX descriptors refused: $(grep '^xredir_queue_tx_invalid_total' "$m" | tr '\n' ' ')"; return 1; }
	d_alive && [ "$(cli curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$PORT/after")" = 302 ] ||
		{ why "not answering after the stop"; return 1; }
	echo "quiet: 0 dropped; $n frames to a stopped daemon ($q queue(s), rings of $ring): $dropped dropped by the kernel, $(qsum "$m" fill_empty) empty-fill-ring events; answering after SIGCONT"
}

# Bare ACKs through the ACK ring: the handshake's ACK and the client's
# delayed ACK of each response (40 ms on Linux, so 60 ms apart it comes
# alone). They must still stop the retransmission of the response: the
# last one's ACK is followed by 1.5 s of silence, so only the ring, read
# when the retransmission timer wakes the worker (before the timers run),
# tells the engine it arrived.
test_07g_lazy_acks() {
	need "$PYTHON" || return 1
	local mode l0 l1 r0 r1 out=()
	for mode in on off; do
		d_start --lazy-acks "$mode" || return 1
		l0=$(xstat xdp_lazy_ack) r0=$(xstat retransmits)
		lcc "$XR_CLI_NS" paced --host "$XR_SRV_IP4" --count 10 --interval 0.06 \
			--seconds 1.5 || return 1
		sleep 0.2 # the workers export their counters every 100 ms
		l1=$(xstat xdp_lazy_ack) r1=$(xstat retransmits)
		d_stop || return 1
		[ "$r1" = "$r0" ] || { why "--lazy-acks $mode: $((r1 - r0)) retransmissions"; return 1; }
		if [ "$mode" = on ]; then
			[ $((l1 - l0)) -ge 10 ] || { why "--lazy-acks on: $((l1 - l0)) ACKs through the ring, want >= 10"; return 1; }
		else
			[ "$l1" = "$l0" ] || { why "--lazy-acks off: $((l1 - l0)) ACKs through the ring"; return 1; }
		fi
		out+=("$mode: $((l1 - l0)) ACKs through the ring")
	done
	echo "10 requests 60 ms apart, all answered, none retransmitted; ${out[*]}"
}

# Bare ACKs beyond the ACK ring. With the daemon stopped, each queue's
# ring holds ACK_RING_RECORDS of them (XR_ACK_RING_BYTES of 152-byte
# records: an xr_ack_rec and the ring's 8-byte header); the rest must take
# the socket path, and after SIGCONT every one is judged from wherever it
# waited: a bare ACK of no flow fails the cookie check, counted and not
# answered. Fewer than a ring of 4096 frames per queue beyond the ACK rings
# are sent, so the kernel drops none.
ACK_RING_RECORDS=1724 ACK_OVER=2000
test_07h_lazy_ack_ring_full() {
	need "$PYTHON" || return 1
	local f=$E2E_WORK/t07h q n i l0 l1 s0 s1 b0 b1 v
	d_start || return 1
	q=$(ctl --json status | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["queues"])')
	n=$((q * ACK_RING_RECORDS + ACK_OVER))
	l0=$(xstat xdp_lazy_ack) s0=$(xstat xdp_steered) b0=$(xstat cookies_bad)
	kill -STOP "$D_PID"
	cli timeout 30 "$PYTHON" "$E2E_ROOT/tests/e2e/attack.py" spoof --bare \
		--host "$XR_SRV_IP4" --port "$PORT" --prefix 198.18.0.0/16 \
		--count "$n" --rate 20000 >"$f.spoof" 2>&1
	i=$?
	kill -CONT "$D_PID"
	[ "$i" = 0 ] || { why "spoofer: $(tail -n 1 "$f.spoof")"; return 1; }
	# Drained at the worker's pace; exported every 100 ms.
	for ((i = 0; i < 50; i++)); do
		b1=$(xstat cookies_bad)
		[ $((b1 - b0)) -ge "$n" ] && break
		sleep 0.1
	done
	l1=$(xstat xdp_lazy_ack) s1=$(xstat xdp_steered)
	v="$n bare ACKs to a stopped daemon ($q queue(s)): $((l1 - l0)) through the ACK rings, $((s1 - s0)) through the sockets, $((b1 - b0)) judged"
	echo "$v" >&2
	[ $((l1 - l0)) -ge "$ACK_RING_RECORDS" ] && [ $((l1 - l0)) -le $((q * ACK_RING_RECORDS)) ] ||
		{ why "$v: want $ACK_RING_RECORDS-$((q * ACK_RING_RECORDS)) through the rings"; return 1; }
	[ $((l1 - l0 + s1 - s0)) = "$n" ] || { why "$v: rings and sockets should take all $n"; return 1; }
	[ $((b1 - b0)) = "$n" ] || { why "$v: all $n should be judged"; return 1; }
	d_alive && [ "$(cli curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$XR_SRV_IP4:$PORT/after")" = 302 ] ||
		{ why "not answering after the stop"; return 1; }
	echo "$v; answering after SIGCONT"
}

# Bare FINs through the ACK ring. A client FIN that answers ours
# (Connection: close: the server closes first) waits in the ring: nobody
# waits for what we send back. One that comes first (a client that sends
# its request and at once shuts down, then waits for our FIN) must wake
# the worker, or the client would wait for our FIN until the next pass.
# The XDP program tells them apart by the closing table (bpf/closing.h),
# and counts the first kind as lazy_fin. Nothing is retransmitted, every
# response comes whole, then the server's FIN.
CLOSE_N=40
test_07i_lazy_fins() {
	need "$PYTHON" || return 1
	local run kind host out f0 f1 r v=()
	d_start || return 1
	for run in "server-close $XR_SRV_IP4" "half-close $XR_SRV_IP4" "server-close $XR_SRV_IP6"; do
		read -r kind host <<<"$run"
		f0=$(xstat xdp_lazy_fin)
		out=$(lc "$XR_CLI_NS" "$kind" --host "$host" --count "$CLOSE_N" \
			--timeout 2 2>&1) || { why "$kind to $host: $(tail -n 1 <<<"$out")"; return 1; }
		sleep 0.2 # the workers export their counters every 100 ms
		f1=$(xstat xdp_lazy_fin)
		r=$("$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1].splitlines()[-1])["retransmitted"])' "$out")
		v+=("$kind to $host: $((f1 - f0)) client FINs through the ring, $r segments retransmitted;")
		[ "$r" = 0 ] || { why "${v[*]}"; return 1; }
		if [ "$kind" = server-close ]; then
			[ $((f1 - f0)) = "$CLOSE_N" ] || { why "${v[*]}: want $CLOSE_N"; return 1; }
		else
			[ "$f1" = "$f0" ] || { why "${v[*]}: want 0"; return 1; }
		fi
	done
	echo "$CLOSE_N connections each; ${v[*]}"
}

# ---- 08: logs ----

# log_activity NAME [quick]: many clients (v4, v6, local), malformed
# requests; unless quick, a head that never completes and a drain.
log_activity() {
	local src
	for src in "$XR_CLI_IP4" "$XR_MATCH_IP4"; do
		cli curl -s -o /dev/null --interface "$src" "http://$XR_SRV_IP4:$PORT/l/[1-3]" || return 1
		lcc "$XR_CLI_NS" bad --host "$XR_SRV_IP4" --src "$src" || return 1
	done
	for src in "$XR_CLI_IP6" "$XR_MATCH_IP6"; do
		cli curl -sg -o /dev/null -o /dev/null -o /dev/null --interface "$src" \
			"http://[$XR_SRV_IP6]:$PORT/l/1" "http://[$XR_SRV_IP6]:$PORT/l/2" \
			"http://[$XR_SRV_IP6]:$PORT/l/3" || return 1
		lcc "$XR_CLI_NS" bad --host "$XR_SRV_IP6" --src "$src" || return 1
	done
	srv curl -s -o /dev/null "http://127.0.0.1:$PORT/l" &&
		srv curl -sg -o /dev/null "http://[::1]:$PORT/l" || return 1
	if [ "${2:-}" = quick ]; then
		d_stop || return 1
		return 0
	fi
	# A head that never completes (the header timeout, 2 s, ends it), a
	# drain meanwhile, and a connection refused by the drain.
	cli timeout 30 "$PYTHON" "$LCPY" hold --seconds 3 --host "$XR_SRV_IP4" \
		--src "$XR_MATCH_IP4" >"$E2E_WORK/$1.hold" 2>&1 &
	local job=$!
	wait_line "$E2E_WORK/$1.hold" '^holding' 10 || return 1
	sleep 1
	kill -TERM "$D_PID"
	sleep 0.3
	lc "$XR_CLI_NS" refused --host "$XR_SRV_IP4" --src "$XR_CLI_IP4" >&2 || true
	wait "$job"
	d_wait 5
}

CLIENT_ADDRS=(10.77.0.2 10.77.0.3 fd77::2 fd77::3 127.0.0.1 ::1)

test_08a_logs_no_client_ip() {
	need curl "$PYTHON" || return 1
	local a args=() r1 r2 n found
	for a in "${CLIENT_ADDRS[@]}"; do args+=(--addr "$a"); done
	# (1) the defaults
	d_start --header-timeout 2 || return 1
	log_activity t08a || { why "client activity failed: $(cat "$E2E_WORK/.reason" 2>/dev/null)"; return 1; }
	cat "$D_LOG" >&2
	! grep -q 'msg=request ' "$D_LOG" || { why "access lines at the default level (info)"; return 1; }
	grep -q 'msg=stopped' "$D_LOG" || { why "no msg=stopped"; return 1; }
	r1=$("$PYTHON" "$LCPY" ip-scan --file "$D_LOG" "${args[@]}" 2>&1) ||
		{ why "defaults: ${r1##*FAIL: }"; return 1; }
	# (2) the debug access log, without --log-clients
	d_start --header-timeout 2 --log-level debug || return 1
	log_activity t08a2 || { why "client activity failed: $(cat "$E2E_WORK/.reason" 2>/dev/null)"; return 1; }
	grep -v 'msg=lib' "$D_LOG" >&2
	n=$(grep -c '/l/' "$D_LOG")
	r2=$("$PYTHON" "$LCPY" ip-scan --file "$D_LOG" "${args[@]}" 2>&1) ||
		{ why "--log-level debug: ${r2##*FAIL: }"; return 1; }
	# (3) --log-clients: the addresses do appear (the scan can see them).
	d_start --log-level debug --log-clients || return 1
	log_activity t08a3 quick || { why "client activity failed: $(cat "$E2E_WORK/.reason" 2>/dev/null)"; return 1; }
	found=0
	for a in "${CLIENT_ADDRS[@]}"; do grep -qF -- "$a" "$D_LOG" && found=$((found + 1)); done
	[ "$found" -ge 4 ] || { why "with --log-clients only $found of ${#CLIENT_ADDRS[@]} client addresses are logged"; return 1; }
	echo "defaults: $r1; debug ($n access lines): no client address; --log-clients: $found of ${#CLIENT_ADDRS[@]} addresses logged"
}

test_08b_logs_json() {
	need curl "$PYTHON" || return 1
	local r1 r2
	d_start --header-timeout 2 --log-format json || return 1
	log_activity t08b || { why "client activity failed"; return 1; }
	r1=$("$PYTHON" "$LCPY" json-lines --file "$D_LOG") || { why "$r1"; return 1; }
	grep -q '"msg":"stopped"' "$D_LOG" || { why "no stopped line"; return 1; }
	# At debug level the access log and the libraries' lines (quotes,
	# colons, backslashes) are JSON too.
	d_start --log-format json --log-level debug --log-clients || return 1
	log_activity t08b2 quick || { why "client activity failed"; return 1; }
	r2=$("$PYTHON" "$LCPY" json-lines --file "$D_LOG" 2>&1) || { why "debug: $r2"; return 1; }
	echo "info: $r1; debug with --log-clients: $r2"
}

# ---- 09: --busy-poll ----

# ticks_over SECS: CPU ticks (user + system, all threads) xredird spends in
# the next SECS seconds.
ticks_over() {
	local a b
	a=$(awk '{ print $14 + $15 }' "/proc/$D_PID/stat")
	sleep "$1"
	b=$(awk '{ print $14 + $15 }' "/proc/$D_PID/stat")
	echo $((b - a))
}

# After a request the worker keeps polling its rings for the --busy-poll
# time (CPU spent), then sleeps again (none); without the flag it would nap
# (--coalesce-us, 20 us by default) only under dense traffic, which one
# request is not, so it sleeps.
# Out-of-range values are refused at start.
test_09_busy_poll_coalesce() {
	need curl || return 1
	local hz idle spin after plain out rc v
	hz=$(getconf CLK_TCK)
	d_start || return 1
	grep -q 'busy_poll_us=0 coalesce_us=20' "$D_LOG" || { why "defaults not in the serving line: $(grep serving "$D_LOG")"; return 1; }
	sleep 0.3
	answer "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/p" >/dev/null
	plain=$(ticks_over 0.4)
	d_stop || return 1
	d_start --busy-poll 600000 || return 1
	grep -q 'busy_poll_us=600000' "$D_LOG" || { why "no busy_poll_us=600000 in the serving line"; return 1; }
	sleep 1
	idle=$(ticks_over 0.4)
	answer "$XR_CLI_NS" "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT/p" >/dev/null
	spin=$(ticks_over 0.4)
	sleep 0.5
	after=$(ticks_over 0.4)
	d_stop || return 1
	echo "CPU ticks over 0.4 s ($hz/s): without the flag after a request $plain;" \
		"--busy-poll 600000: idle $idle, after a request $spin, 0.9 s later $after" >&2
	# 0.4 s of spinning is 0.4 * hz ticks; allow for a loaded machine.
	[ "$spin" -ge $((hz / 10)) ] || { why "--busy-poll 600000: $spin ticks in the 0.4 s after a request, want >= $((hz / 10))"; return 1; }
	for v in "$plain" "$idle" "$after"; do
		[ "$v" -le $((hz / 20)) ] || { why "ticks while it should sleep: without $plain, idle $idle, after the window $after (want <= $((hz / 20)))"; return 1; }
	done
	for v in 1000001 -1 10ms; do
		out=$(srv "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" --busy-poll "$v" 2>&1)
		rc=$?
		[ "$rc" = 2 ] && [[ "$out" == *"invalid value '$v' for --busy-poll: 0..1000000 microseconds"* ]] ||
			{ why "--busy-poll $v: exit $rc: $out"; return 1; }
	done
	for v in 1001 -1 x; do
		out=$(srv "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" --coalesce-us "$v" 2>&1)
		rc=$?
		[ "$rc" = 2 ] && [[ "$out" == *"invalid value '$v' for --coalesce-us: 0..1000 microseconds"* ]] ||
			{ why "--coalesce-us $v: exit $rc: $out"; return 1; }
	done
	echo "CPU ticks in 0.4 s: $spin right after a request with --busy-poll 600000, $after once the window passed, $idle idle, $plain with the defaults (--coalesce-us 20); bad values of both flags refused (exit 2)"
}

# ---- 10: the listener under abuse ----

# limit NAME: a number from xredird's listener_limits line.
limit() { sed -n "s/.*msg=listener_limits.* $1=\([0-9]*\).*/\1/p" "$D_LOG"; }

# refused POOL REASON [FILE]: xredir_listener_refused_total{pool,reason}
# now, or in a scrape saved in FILE.
refused() {
	local k="xredir_listener_refused_total{pool=\"$1\",reason=\"$2\"}"
	if [ -n "${3:-}" ]; then metric "$3" "$k"; else scrape /metrics | awk -v k="$k" '$1 == k { print $2 }'; fi
}

# wait_refused POOL REASON N: until the counter is at least N (the
# listener has taken every connection of a flood).
wait_refused() {
	local i v
	for ((i = 0; i < 100; i++)); do
		v=$(refused "$1" "$2")
		[ "${v:-0}" -ge "$3" ] && return 0
		sleep 0.1
	done
	why "refused{$1,$2} $v after 10 s, want $3"
	return 1
}

# flood_start NS NAME ARGS...: lifecycle_client.py idle-flood in NS in the
# background, until $E2E_WORK/NAME.done exists; waits until it holds them.
flood_start() {
	local ns=$1 name=$2
	shift 2
	rm -f "$E2E_WORK/$name.done"
	ip netns exec "$ns" timeout 60 "$PYTHON" "$LCPY" idle-flood \
		--until-file "$E2E_WORK/$name.done" --timeout 40 "$@" \
		>"$E2E_WORK/$name.out" 2>&1 &
	FLOOD_JOB=$!
	wait_line "$E2E_WORK/$name.out" '^holding' 20 ||
		{ wait "$FLOOD_JOB"; cat "$E2E_WORK/$name.out" >&2; return 1; }
}

# flood_end NAME: releases the flood; FLOOD holds its "closed=N data=N
# open=N reset=N" line.
flood_end() {
	touch "$E2E_WORK/$1.done"
	wait "$FLOOD_JOB" || { why "flood: $(tail -n 1 "$E2E_WORK/$1.out")"; return 1; }
	FLOOD=$(tail -n 1 "$E2E_WORK/$1.out")
	echo "flood: $FLOOD" >&2
}

# probe NS SRC URL: the status of a GET answered within 1 s (a kubelet
# probe's default timeout), else what curl saw.
probe() {
	local src=$2
	[ "$src" = - ] && src=
	ip netns exec "$1" curl -sS -m 1 -o /dev/null -w '%{http_code}' \
		${src:+--interface "$src"} "$3" 2>&1
}

# expect_probe NS SRC URL: 200 within 1 s.
expect_probe() {
	local got
	got=$(probe "$@")
	echo "probe from ${2/-/the node} ($1): $3 -> $got" >&2
	[ "$got" = 200 ] || { why "$3 from ${2/-/the node}: '$got', want 200 within 1 s"; return 1; }
}

test_10a_metrics_flood_one_source() {
	need curl "$PYTHON" || return 1
	local cap n=300 r hz="http://$XR_SRV_IP4:$MPORT/healthz"
	d_start --header-timeout 30 --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	cap=$(limit metrics_per_source)
	[ -n "$cap" ] && [ "$cap" -lt "$n" ] || { why "metrics_per_source '$cap' in the log"; return 1; }
	flood_start "$XR_CLI_NS" t10a --host "$XR_SRV_IP4" --port "$MPORT" \
		--count "$n" --addr "$XR_CLI_IP4" || return 1
	wait_refused metrics per_source $((n - cap)) || { flood_end t10a; return 1; }
	expect_probe "$XR_SRV_NS" - "$hz" &&
		expect_probe "$XR_CLI_NS" "$XR_CLI_IP4" "$hz" &&
		expect_probe "$XR_SRV_NS" - "http://$XR_SRV_IP4:$MPORT/readyz" ||
		{ flood_end t10a; return 1; }
	r=$(refused metrics per_source)
	flood_end t10a || return 1
	# The probe from the flooding source displaced one of its own.
	[ "$FLOOD" = "closed=0 data=0 open=$((cap - 1)) reset=$((n - cap + 1))" ] ||
		{ why "the flood's connections: $FLOOD, want open=$((cap - 1)) reset=$((n - cap + 1))"; return 1; }
	[ "$r" = $((n - cap + 1)) ] ||
		{ why "refused{metrics,per_source} $r, want $((n - cap + 1))"; return 1; }
	d_stop || return 1
	echo "$n idle connections from $XR_CLI_IP4: $FLOOD (cap $cap); /healthz from the node and from $XR_CLI_IP4, /readyz: 200 within 1 s; refused{metrics,per_source} $r"
}

test_10b_metrics_flood_many_sources() {
	need curl "$PYTHON" || return 1
	local n=300 i addrs=() args=() slots r ev pf hz="http://$XR_SRV_IP4:$MPORT/healthz" open reset
	for i in $(seq 10 49); do addrs+=("10.77.0.$i"); args+=(--addr "10.77.0.$i"); done
	for i in "${addrs[@]}"; do ip -n "$XR_CLI_NS" addr add "$i/24" dev "$XR_CLI_IF" || return 1; done
	d_start --header-timeout 30 --metrics-listen "$XR_SRV_IP4:$MPORT" || { flood_addrs_del "${addrs[@]}"; return 1; }
	slots=$(limit metrics_slots)
	if flood_start "$XR_CLI_NS" t10b --host "$XR_SRV_IP4" --port "$MPORT" \
		--count "$n" "${args[@]}"; then
		wait_refused metrics evicted $((n - slots)) &&
		expect_probe "$XR_SRV_NS" - "$hz" &&
			expect_probe "$XR_CLI_NS" "$XR_MATCH_IP4" "$hz" &&
			expect_probe "$XR_CLI_NS" "$XR_MATCH_IP4" "http://$XR_SRV_IP4:$MPORT/metrics"
		r=$?
		scrape /metrics >"$E2E_WORK/t10b.metrics"
		ev=$(refused metrics evicted "$E2E_WORK/t10b.metrics")
		pf=$(refused metrics per_source "$E2E_WORK/t10b.metrics")
		flood_end t10b || r=1
	else
		r=1
	fi
	flood_addrs_del "${addrs[@]}"
	[ "$r" = 0 ] || return 1
	# Each eviction reset one of the flood's connections, and only those:
	# the last scrape (from the node, counting itself) saw them all.
	[[ "$FLOOD" =~ ^closed=0\ data=0\ open=([0-9]+)\ reset=([0-9]+)$ ]] &&
		open=${BASH_REMATCH[1]} && reset=${BASH_REMATCH[2]} &&
		[ "$open" -ge 1 ] && [ "$open" -le "$slots" ] && [ "$reset" = "$ev" ] ||
		{ why "the flood's connections: $FLOOD; refused{metrics,evicted} $ev"; return 1; }
	[ "$pf" = 0 ] || { why "refused{metrics,per_source} $pf, want 0 (no source over its cap)"; return 1; }
	d_stop || return 1
	echo "$n idle connections from ${#addrs[@]} addresses into $slots slots: $FLOOD; /healthz from the node and a new client, /metrics: 200 within 1 s; refused{metrics,evicted} $ev"
}

flood_addrs_del() {
	local a
	for a in "$@"; do ip -n "$XR_CLI_NS" addr del "$a/24" dev "$XR_CLI_IF" 2>/dev/null; done
}

test_10c_service_per_source() {
	need curl "$PYTHON" || return 1
	local cap extra=8 r a b c url="http://127.0.0.1:$PORT/c"
	d_start --header-timeout 30 --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	cap=$(limit service_per_source)
	[ -n "$cap" ] && [ "$cap" -gt 0 ] || { why "service_per_source '$cap' in the log"; return 1; }
	flood_start "$XR_SRV_NS" t10c --host 127.0.0.1 --port "$PORT" \
		--count $((cap + extra)) --addr 127.0.0.1 || return 1
	wait_refused service per_source "$extra" || { flood_end t10c; return 1; }
	# Other local sources: the node's address, another loopback address.
	a=$(answer "$XR_SRV_NS" - "http://$XR_SRV_IP4:$PORT/c")
	b=$(answer "$XR_SRV_NS" 127.0.0.2 "$url")
	# The capped source itself: reset at once.
	c=$(ip netns exec "$XR_SRV_NS" curl -sS -m 2 -o /dev/null -w '%{http_code}' "$url" 2>&1 | tr '\n' ' ')
	r=$(refused service per_source)
	flood_end t10c || return 1
	echo "from $XR_SRV_IP4: $a; from 127.0.0.2: $b; from 127.0.0.1: $c" >&2
	[ "$FLOOD" = "closed=0 data=0 open=$cap reset=$extra" ] ||
		{ why "the flood's $((cap + extra)) connections: $FLOOD, want open=$cap reset=$extra"; return 1; }
	[ "$a" = "302 $DEFAULT/c" ] && [ "$b" = "302 $DEFAULT/c" ] ||
		{ why "other local sources during the flood: $XR_SRV_IP4 '$a', 127.0.0.2 '$b' (want 302)"; return 1; }
	# (reset before or after curl saw the connect complete)
	[[ "$c" == *"curl: ("[0-9]*") "*000 ]] || { why "a new connection from 127.0.0.1 at its cap: '$c', want a reset"; return 1; }
	[ "$r" = $((extra + 1)) ] || { why "refused{service,per_source} $r, want $((extra + 1))"; return 1; }
	d_stop || return 1
	echo "$((cap + extra)) idle connections from 127.0.0.1 (cap $cap): $FLOOD; one more reset; $XR_SRV_IP4 and 127.0.0.2 answered 302; refused{service,per_source} $r"
}

test_10d_slow_head_deadline() {
	need "$PYTHON" || return 1
	local ht=2 s m rs rm t
	d_start --header-timeout "$ht" --metrics-listen "$XR_SRV_IP4:$MPORT" || return 1
	s=$(lc "$XR_SRV_NS" drip --host 127.0.0.1 --port "$PORT" --interval 1 --timeout 10 2>&1) ||
		{ why "service port: ${s##*FAIL: }"; return 1; }
	m=$(lc "$XR_CLI_NS" drip --host "$XR_SRV_IP4" --port "$MPORT" --src "$XR_CLI_IP4" \
		--interval 1 --timeout 10 2>&1) || { why "metrics port: ${m##*FAIL: }"; return 1; }
	echo "service: $s; metrics: $m" >&2
	# The sweep runs once a second: closed between the deadline and 1 s
	# (plus scheduling) after it; never before it.
	for t in "$s" "$m"; do
		[[ "$t" =~ ^reset\ ([0-9.]+)\ s ]] &&
			awk "BEGIN { exit !(${BASH_REMATCH[1]} >= $ht - 0.3 && ${BASH_REMATCH[1]} <= $ht + 2) }" ||
			{ why "slow head: '$t', want a reset $ht-$((ht + 2)) s after its first byte"; return 1; }
	done
	rs=$(refused service header_timeout)
	rm=$(refused metrics header_timeout)
	[ "$rs" = 1 ] && [ "$rm" = 1 ] || { why "refused{header_timeout}: service $rs, metrics $rm (want 1, 1)"; return 1; }
	d_stop || return 1
	echo "--header-timeout $ht, one byte a second: service port $s; metrics port $m; counted"
}

# sd_notify's datagrams, one line each (its newlines as '|'), until killed.
# Run in the background: exec makes $! the listener itself, and it keeps
# none of the suite's descriptors (a pipe left open would hold the runner).
notify_listen() {
	exec "$PYTHON" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(4096).decode(errors="replace").strip().replace("\n", "|")
    print(m, flush=True)
' "$1" 7>&- 8>&-
}

# wait_notify FILE N PATTERN: the N-th datagram matches PATTERN within 5 s.
wait_notify() {
	local i
	for ((i = 0; i < 100; i++)); do
		sed -n "$2p" "$1" | grep -qE "$3" && return 0
		sleep 0.05
	done
	why "datagram $2 is '$(sed -n "$2p" "$1")', want /$3/ (all: $(tr '\n' ';' <"$1"))"
	return 1
}

test_11_sd_notify() {
	need "$PYTHON" || return 1
	local sock=$E2E_WORK/t11.notify out=$E2E_WORK/t11.out c=$E2E_WORK/t11.conf job i rc=1
	printf 'default %s\n' "$DEFAULT" >"$c"
	rm -f "$sock" "$out"
	notify_listen "$sock" >"$out" 2>&1 &
	job=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && break
		sleep 0.05
	done
	if NOTIFY_SOCKET=$sock d_start --config "$c"; then
		wait_notify "$out" 1 '^READY=1\|STATUS=serving ' &&
			kill -HUP "$D_PID" &&
			wait_notify "$out" 2 '^RELOADING=1\|STATUS=reloading\|MONOTONIC_USEC=[0-9]+$' &&
			wait_notify "$out" 3 '^READY=1' &&
			grep -q 'msg=signal sig=HUP action=reload' "$D_LOG" &&
			d_stop &&
			wait_notify "$out" 4 '^STOPPING=1' &&
			rc=0
	fi
	kill "$job" 2>/dev/null
	wait "$job" 2>/dev/null
	[ "$rc" = 0 ] || return 1
	[ "$(wc -l <"$out")" = 4 ] || { why "datagrams: $(tr '\n' ';' <"$out")"; return 1; }
	echo "$(tr '\n' ';' <"$out")"
}

# A test that failed half-way may leave its daemon: stop it.
suite_after_test() { d_end; }

suite_cleanup() {
	ip netns exec "$XR_SRV_NS" xdp-loader unload -a "$XR_SRV_IF" >/dev/null 2>&1
	mv_down
	if mountpoint -q "$BPFFS2" 2>/dev/null; then
		rm -rf "${BPFFS2:?}/xredir"
		umount "$BPFFS2" && rmdir "$BPFFS2"
	fi
	rm -rf "${XR_BPFFS:?}/xredir/$XR_SRV_IF"
}
