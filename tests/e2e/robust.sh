# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# TCP-lite under loss, floods and hostile peers: xredird on a topology of
# its own (XR_TOPO=$XR_ROBUST_TOPO, default xrrob) with
#
#   - seeded loss, duplication and reordering (tests/robust/impair.sh: tc
#     BPF on the client veth and a delay line; there is no sch_netem here),
#   - a spoofed SYN flood at the highest rate AF_PACKET reaches
#     (tests/robust/rawclient.c),
#   - scripted raw connections (tests/robust/rawclient.py): RFC 5961, zero
#     window, tiny MSS, odd options, data on SYN, a 1-byte-segment head,
#     closing, a handshake the next daemon finishes (--cookie-secret-file),
#   - kernel-socket clients (tests/e2e/robust.py): keep-alive load,
#     slowloris, idle keep-alive, table full, a client that stops reading,
#   - HTTPS through the same impairment (19-22): keep-alive requests and
#     full handshakes, certificates verified against a test CA,
#
# each checked with the capture checker (pcapcheck) where it applies.
#
# Has make build its tools into $BUILD/robust. Topology XR_ROBUST_TOPO
# (default xrrob). Run by tests/e2e/run.sh robust.
SUITE_TOPO=${XR_ROBUST_TOPO:-xrrob}
SUITE_TOOLS=(tc clang cc)
CAP_SNAPLEN=2048 CAP_BUFFER_KB=131072
DEFAULT=https://k8s.gcr.io
ROBUST_PY=$E2E_ROOT/tests/e2e/robust.py
RAW_PY=$E2E_ROOT/tests/robust/rawclient.py
IMPAIR=$E2E_ROOT/tests/robust/impair.sh
case "$BUILD" in /*) RAWC=$BUILD/robust/rawclient ;; *) RAWC=$E2E_ROOT/$BUILD/robust/rawclient ;; esac
# The daemon of tests 00-16: short timeouts so that the timeout tests and
# the drain after the loss tests take seconds.
IDLE_TIMEOUT=5
HEADER_TIMEOUT=2
XR_ARGS=(--idle-timeout "$IDLE_TIMEOUT" --header-timeout "$HEADER_TIMEOUT")
# Loss test parameters.
LOSS=10 DUP=5 REORDER=5 DELAY_MS=20 SEED=42
KA_REQUESTS=2000 KA_CONNS=20 CURLS=500 CURL_PAR=20
# HTTPS under the same impairment, on its own port.
TLS_PORT=10443 TLS_KA_REQUESTS=1000 TLS_KA_CONNS=4 TLS_CONNS=200 TLS_PAR=10
FLOOD_SECONDS=10 FLOOD_CURLS=20
RAW_SRC=10.77.0.50 # raw clients: an address the client kernel does not own
RAW_FILTER="host $RAW_SRC"
# Fixed client source ports, so that each capture holds one test's traffic;
# below the ephemeral range (32768-60999), where the other clients'
# TIME-WAIT sockets would make bind() fail.
ZW_PORT=24678 # the stop-reading client
SPORT_SLOW=24001 SPORT_IDLE=24002 SPORT_FULL=24010 SPORT_CLOSE=24100

# ---- helpers ----

# jget FILE KEY[.KEY...]: a value from a JSON file.
jget() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[k]
print(d)' "$1" "$2"
}

# The last JSON object line of a file (the tools print one).
last_json() { grep '^{' "$1" | tail -n 1; }

# stats FILE: xredird's counters (JSON) into FILE.
stats() {
	"$XREDIRCTL" --bpffs "$XR_BPFFS" --iface "$XR_SRV_IF" stats --json >"$1" 2>&1
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$D_PID/status"; }

srv_mac() { srv cat "/sys/class/net/$XR_SRV_IF/address"; }

impair() { "$IMPAIR" "$@" --netns "$XR_CLI_NS" --iface "$XR_CLI_IF"; }

# raw SCENARIO...: rawclient.py in the client namespace; its lines are
# kept; fails with the first FAIL line.
raw() {
	local out=$E2E_WORK/raw.$$.$RANDOM rc=0
	cli timeout 120 "$PYTHON" "$RAW_PY" --iface "$XR_CLI_IF" \
		--dst-mac "$(srv_mac)" --src-ip "$RAW_SRC" --dst-ip "$XR_SRV_IP4" \
		--port "$PORT" --target "$DEFAULT" "$@" >"$out" 2>&1 || rc=$?
	cat "$out" >&2
	RAW_OUT=$out
	if [ "$rc" != 0 ]; then
		why "$(grep -m1 '^FAIL' "$out" || tail -n 1 "$out")"
		return 1
	fi
}

# raw_summary: the ok lines of the last raw() run, "name: detail; ...".
raw_summary() {
	sed -n 's/^ok  *\([^ ]*\)  *[0-9.]*s  */\1: /p' "$RAW_OUT" | paste -sd ';' | sed 's/;/; /g'
}

# pcap_clean FILE [PCAPCHECK-ARGS]: pcapcheck must find no violation and
# no segment it could not check. PCAP_SUMMARY holds its summary line.
pcap_clean() {
	local file=$1 out=$1.check rc=0 k n
	shift
	[ -x "$PCAPCHECK" ] || { why "no $PCAPCHECK (make $BUILD/tests/pcapcheck)"; return 1; }
	"$PCAPCHECK" --kernel-ttl "$XR_KERNEL_TTL" "$@" "$file" >"$out" 2>&1 || rc=$?
	cat "$out" >&2
	PCAP_SUMMARY=$(sed -n 's/^summary: //p' "$out")
	[ "$rc" = 0 ] || {
		why "pcapcheck: $(pcap_fired "$out"): $(grep -m1 '^VIOLATION' "$out" | sed 's/^VIOLATION //' || tail -n 1 "$out")"
		return 1
	}
	for k in truncated unchecked untracked; do
		n=$(summary_value "$k" "$out")
		[ "$n" = 0 ] || { why "pcapcheck $k=$n: the capture is incomplete"; return 1; }
	done
}

# pcap_fired FILE: the checks with violations in a pcapcheck output, "k=n ...".
pcap_fired() {
	local k n out=
	for k in csum kernel seq retrans-content retrans ack after-fin rst synack; do
		n=$(summary_value "$k" "$1")
		[ "${n:-0}" = 0 ] || out="$out $k=$n"
	done
	echo "${out# }"
}

summary_value() {
	sed -n 's/^summary: //p' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# captured NAME FILTER FUNC [ARGS]: runs FUNC with a capture of the
# service port, narrowed by FILTER to the test's own connections (stray
# retransmissions of connections from earlier tests must not count), into
# $E2E_WORK/NAME.pcap; the capture must drop nothing. CAP is the file.
captured() {
	local name=$1 filter=$2 rc=0
	shift 2
	need tcpdump || return 1
	CAP=$E2E_WORK/$name.pcap
	cap_start "$XR_CLI_IF" "$CAP" "tcp port $PORT and ($filter)" || return 1
	"$@" || rc=$?
	sleep 0.3 # the last ACKs and FINs
	if ! cap_stop; then
		[ "$rc" = 0 ] && rc=1
	fi
	return "$rc"
}

# delta FILE0 FILE1 KEY: a counter's growth between two stats files.
delta() { echo $(($(jget "$2" "$3") - $(jget "$1" "$3"))); }

# wait_drained SECS: flows_open, send_rings_used, head_buffers_used and
# tls_sessions all 0 (besides EXCEPT flows), within SECS. DRAIN_S is how
# long it took.
wait_drained() {
	local secs=$1 except=${2:-0} t0 f=$E2E_WORK/.drain fo sr hb ts
	t0=$(now)
	while :; do
		stats "$f" || { why "xredirctl stats failed: $(tail -n 1 "$f")"; return 1; }
		fo=$(jget "$f" flows_open)
		sr=$(jget "$f" send_rings_used)
		hb=$(jget "$f" head_buffers_used)
		ts=$(jget "$f" tls_sessions)
		if [ "$fo" -le "$except" ] && { [ "$except" != 0 ] ||
			[ "$sr$hb$ts" = 000 ]; }; then
			DRAIN_S=$(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")
			return 0
		fi
		if awk "BEGIN { exit !($(now) - $t0 > $secs) }"; then
			why "not drained after ${secs}s: flows_open=$fo send_rings_used=$sr head_buffers_used=$hb tls_sessions=$ts"
			return 1
		fi
		sleep 0.5
	done
}

# kill_client_sockets [PORT]: the client's leftover sockets to the
# service (orphans still resending to flows xredird has long freed,
# TIME-WAIT): gone, so that they do not wander into later tests.
kill_client_sockets() {
	cli ss -K -tn dst "$XR_SRV_IP4" dport = ":${1:-$PORT}" >/dev/null 2>&1 || true
}

suite_setup() {
	make -s -C "$E2E_ROOT" BUILD="$BUILD" "$RAWC" "${RAWC%/*}/impaird" \
		"${RAWC%/*}/impair.bpf.o" ||
		{ why "building tests/robust failed"; return 1; }
	TLS_DIR=$E2E_WORK/tls
	tls_test_ca "$TLS_DIR" || return 1
	XR_ARGS+=(--tls-port "$TLS_PORT" --tls-cert "$TLS_DIR/server.pem"
		--tls-key "$TLS_DIR/server.key")
	d_start -m "${XR_ARGS[@]}"
}

suite_cleanup() {
	"$IMPAIR" off --netns "$XR_CLI_NS" --iface "$XR_CLI_IF" >/dev/null 2>&1
	rm -rf "/run/xredir-impair/$XR_CLI_NS-$XR_CLI_IF"
}

# State that groups of tests share: 01-03 run under one impairment and one
# capture of the service port, which 04 checks, 19-21 under another of the
# TLS port, which 22 checks; the stop-reading client runs while 06-15 do
# (its give-up, which 16 checks, takes ~100 s).
LOSS_NAME=
LOSS_PHASE=off
suite_before_test() {
	case "$1" in
	0[123]-*) loss_on plain "$PORT" || return 1 ;;
	19-* | 2[01]-*) loss_on tls "$TLS_PORT" || return 1 ;;
	*) [ "$LOSS_PHASE" != on ] || loss_off ;;
	esac
	case "$1" in
	0[6-9]-* | 1[0-6]-*) [ -n "$ZW_PID" ] || { kill_client_sockets; zw_start; } ;;
	esac
	return 0
}

# loss_on NAME PORT: the impairment phase NAME on PORT, with its capture
# ($LOSS_CAP) and the counters at its start ($LOSS_STATS0).
loss_on() {
	if [ "$LOSS_NAME" = "$1" ]; then
		case "$LOSS_PHASE" in
		on) return 0 ;;
		failed) why "$LOSS_CAP_ERR"; return 1 ;;
		esac
	elif [ "$LOSS_PHASE" = on ]; then
		loss_off
	fi
	LOSS_NAME=$1
	LOSS_PORT=$2
	LOSS_CAP=$E2E_WORK/loss.$1.pcap
	LOSS_STATS0=$E2E_WORK/loss.$1.s0
	LOSS_CAP_ERR=
	stats "$LOSS_STATS0"
	if ! impair on --port "$LOSS_PORT" --dir both --loss "$LOSS" --dup "$DUP" \
		--reorder "$REORDER" --delay-ms "$DELAY_MS" --seed "$SEED" \
		>"$E2E_WORK/impair-on.log" 2>&1; then
		LOSS_CAP_ERR="impair.sh on failed: $(tail -n 1 "$E2E_WORK/impair-on.log")"
	elif ! cap_start "$XR_CLI_IF" "$LOSS_CAP" "tcp port $LOSS_PORT"; then
		LOSS_CAP_ERR="capture: $(cat "$E2E_WORK/.reason")"
	fi
	LOSS_PHASE=on
	[ -z "$LOSS_CAP_ERR" ] && return 0
	loss_off
	LOSS_PHASE=failed
	why "$LOSS_CAP_ERR"
	return 1
}

loss_off() {
	if [ -n "$CAP_PID" ]; then
		cap_stop || LOSS_CAP_ERR=$(cat "$E2E_WORK/.reason")
	fi
	impair off >/dev/null 2>&1
	kill_client_sockets "$LOSS_PORT"
	LOSS_PHASE="done"
}

# loss_capture NAME TESTS: the capture of phase NAME is there to check.
loss_capture() {
	[ "$LOSS_NAME" = "$1" ] || { why "no capture: tests $2 did not run"; return 1; }
	[ -z "$LOSS_CAP_ERR" ] || { why "$LOSS_CAP_ERR"; return 1; }
}

# ---- 00: the impairment tool itself ----

# ping_run NAME IMPAIR-ARGS...: 400 pings 2 ms apart under an impairment,
# with a capture of ICMP; files $E2E_WORK/t00.NAME.{ping,pcap,json,icmp}.
ping_run() {
	local name=$1 f=$E2E_WORK/t00.$1 pid
	shift
	impair on --proto icmp "$@" >&2 || { why "impair.sh on $* failed"; return 1; }
	# Not through cli(): $! must be tcpdump's own pid.
	ip netns exec "$XR_CLI_NS" tcpdump -i "$XR_CLI_IF" -nn -U --immediate-mode \
		-w "$f.pcap" icmp >"$f.tcpdump" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -qs 'listening on' "$f.tcpdump" && break
		sleep 0.02
	done
	cli ping -n -c 400 -i 0.002 -W 1 "$XR_SRV_IP4" >"$f.ping" 2>&1
	sleep 0.1
	kill -INT "$pid"
	wait "$pid"
	impair stats >"$f.json" 2>&1 || { why "impair.sh stats failed"; return 1; }
	impair off >&2
	"$PYTHON" "$ROBUST_PY" pcap-icmp "$f.pcap" >"$f.icmp" ||
		{ why "cannot read $f.pcap"; return 1; }
	tail -n 2 "$f.ping" >&2
	cat "$f.json" "$f.icmp" >&2
}

replies() { sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$E2E_WORK/t00.$1.ping" | sort -n | uniq; }
nreplies() { replies "$1" | wc -l; }
ndup() { grep -c 'DUP!' "$E2E_WORK/t00.$1.ping"; }
nslow() { awk -F'time=' '/time=/ { split($2, a, " "); if (a[1] >= '"$2"') n++ } END { print n + 0 }' "$E2E_WORK/t00.$1.ping"; }

# in_range WHAT VALUE LO HI
in_range() {
	awk "BEGIN { exit !($2 >= $3 && $2 <= $4) }" && return 0
	why "$1 = $2, expected $3..$4"
	return 1
}

test_00_impair_tool() {
	need ping tcpdump "$PYTHON" || return 1
	local a b lost lost2 dups reo slow
	# Loss client -> server, twice with the same seed: the same pings lost.
	ping_run c2s-a --dir c2s --loss 20 --seed 42 || return 1
	ping_run c2s-b --dir c2s --loss 20 --seed 42 || return 1
	lost=$((400 - $(nreplies c2s-a)))
	lost2=$((400 - $(nreplies c2s-b)))
	in_range "c2s 20% loss: lost pings" "$lost" 50 110 || return 1
	[ "$(replies c2s-a)" = "$(replies c2s-b)" ] ||
		{ why "seed 42 twice lost different pings ($lost vs $lost2)"; return 1; }
	[ "$(jget "$E2E_WORK/t00.c2s-a.json" c2s.dropped)" = "$lost" ] ||
		{ why "impair counted $(jget "$E2E_WORK/t00.c2s-a.json" c2s.dropped) drops, ping lost $lost"; return 1; }
	# Loss server -> client.
	ping_run s2c --dir s2c --loss 20 --seed 7 || return 1
	a=$((400 - $(nreplies s2c)))
	in_range "s2c 20% loss: lost replies" "$a" 50 110 || return 1
	local s2c_lost=$a
	[ "$(jget "$E2E_WORK/t00.s2c.json" c2s.dropped)" = 0 ] ||
		{ why "s2c loss dropped client frames"; return 1; }
	# Duplication both ways: ping sees DUP!s; the capture shows the client's
	# copies (the server's copies are made past the capture point).
	ping_run dup --dir both --dup 10 --seed 9 || return 1
	dups=$(ndup dup)
	b=$(jget "$E2E_WORK/t00.dup.icmp" requests.duplicates)
	in_range "10% dup each way: DUP! replies" "$dups" 40 120 || return 1
	in_range "10% dup c2s: duplicated requests in the capture" "$b" 20 70 || return 1
	[ "$(nreplies dup)" = 400 ] || { why "dup run lost pings"; return 1; }
	# Reordering client -> server: 10% held 20 ms, overtaken by later pings
	# in the capture; and server -> client: replies 20 ms late.
	ping_run reo-c2s --dir c2s --reorder 10 --delay-ms 20 --seed 11 || return 1
	reo=$(jget "$E2E_WORK/t00.reo-c2s.icmp" requests.reordered)
	slow=$(nslow reo-c2s 20)
	in_range "10% reorder c2s: requests overtaken in the capture" "$reo" 20 70 || return 1
	in_range "10% reorder c2s: RTTs >= 20 ms" "$slow" 20 70 || return 1
	[ "$(nreplies reo-c2s)" = 400 ] || { why "reorder run lost pings"; return 1; }
	ping_run reo-s2c --dir s2c --reorder 10 --delay-ms 20 --seed 13 || return 1
	a=$(nslow reo-s2c 20)
	in_range "10% reorder s2c: RTTs >= 20 ms" "$a" 20 70 || return 1
	[ "$(nreplies reo-s2c)" = 400 ] || { why "s2c reorder run lost pings"; return 1; }
	echo "400 pings each: c2s 20% loss: $lost lost (the same $lost2 again with seed 42); s2c 20% loss: $s2c_lost;" \
		"dup 10% each way: $dups DUP!s, $b duplicated requests captured; c2s reorder 10%/20ms: $reo overtaken," \
		"$slow RTTs >= 20 ms; s2c reorder 10%/20ms: $a RTTs >= 20 ms"
}

# ---- 01-04: loss, duplication and reordering ----

# keepalive_under_loss WHAT OUT ARGS...: robust.py keepalive, its JSON in
# OUT. A failure's reason is WHAT and that JSON; a read timeout's report
# names the connection's client port, and that connection's last segments
# in the capture go to the log with it.
keepalive_under_loss() {
	local what=$1 out=$2 port
	shift 2
	cli timeout 300 "$PYTHON" "$ROBUST_PY" keepalive --idle-timeout "$IDLE_TIMEOUT" \
		"$@" >"$out" && return 0
	port=$(grep -o 'client port [0-9]*' "$out" | head -n 1)
	[ -n "$port" ] && tcpdump -nn -r "$LOSS_CAP" "tcp port ${port##* }" 2>/dev/null | tail -n 8 >&2
	why "$what: $(cat "$out")"
	return 1
}

test_01_loss_keepalive() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t01.json n s r
	keepalive_under_loss keep-alive "$out" --host "$XR_SRV_IP4" \
		--port "$PORT" --target "$DEFAULT" --count "$KA_REQUESTS" \
		--conns "$KA_CONNS" --prefix /v2/ka || return 1
	n=$(jget "$out" ok)
	s=$(jget "$out" seconds)
	r=$(jget "$out" idle_close_retries)
	# The retry is for a rare race, not a way through: at most 1%.
	[ "$r" -le $((KA_REQUESTS / 100)) ] ||
		{ why "$r requests needed a retry after an idle close (at most $((KA_REQUESTS / 100)))"; return 1; }
	echo "$n/$KA_REQUESTS keep-alive requests on $KA_CONNS connections in ${s}s through ${LOSS}% loss," \
		"${DUP}% dup, ${REORDER}% reorder each way ($r retried after an idle close" \
		"$(jget "$out" retry_gaps)s after the previous request)"
}

# One curl of test 02: "ID CODE LOCATION TIME EXIT".
curl_one() {
	cli curl -sS -m 60 -o /dev/null \
		-w "$1|%{http_code}|%{redirect_url}|%{time_total}|%{exitcode}\n" \
		"http://$XR_SRV_IP4:$PORT/v2/curl/$1?x=$1" 2>>"$E2E_WORK/t02.err"
}

# timeout_close EXIT SECONDS [tls]: whether a curl that failed with EXIT
# after SECONDS may be retried. The one retry allowed is RFC 9112's (9.3.1)
# for an idempotent request on a connection the server closed without a
# byte of response (curl 52, "Empty reply"): the header timeout (which
# covers the TLS handshake) or the idle timeout racing a head that loss
# held back for seconds. Over HTTPS the header timeout can end the
# handshake itself, which curl reports as a connect error (35, OpenSSL's
# SSL_ERROR_SYSCALL at the FIN). It counts only if the attempt lasted at
# least the header timeout; an earlier close, or a reset, is a failure.
timeout_close() {
	case "$1:${3:-}" in
	52:* | 35:tls) awk "BEGIN { exit !($2 >= $HEADER_TIMEOUT) }" ;;
	*) return 1 ;;
	esac
}

# retry_timeout_closes FILE CURL_FN [tls]: FILE holds a line per curl,
# "ID|CODE|LOCATION|SECONDS|EXIT"; each that timeout_close allows is run
# again once, CURL_FN ID writing its line to FILE.retry. RETRIED: how many.
retry_timeout_closes() {
	local id code loc tt ex
	RETRIED=0
	while IFS='|' read -r id code loc tt ex; do
		timeout_close "$ex" "$tt" "${3:-}" || continue
		echo "curl $id: closed after ${tt}s with no answer (exit $ex, timeout close), retried" >&2
		RETRIED=$((RETRIED + 1))
		"$2" "$id" >>"$1.retry"
	done <"$1"
}

# Each curl once, with timeout_close's retry.
test_02_loss_curl() {
	need curl xargs || return 1
	local out=$E2E_WORK/t02.out t0 dt ok bad retried n
	t0=$(now)
	: >"$E2E_WORK/t02.err"
	seq "$CURLS" | cli xargs -P "$CURL_PAR" -I{} curl -sS -m 60 \
		-o /dev/null -w '{}|%{http_code}|%{redirect_url}|%{time_total}|%{exitcode}\n' \
		"http://$XR_SRV_IP4:$PORT/v2/curl/{}?x={}" >"$out" 2>"$E2E_WORK/t02.err"
	retry_timeout_closes "$out" curl_one
	retried=$RETRIED
	dt=$(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")
	ok=$(cat "$out" "$out.retry" 2>/dev/null |
		awk -F'|' -v d="$DEFAULT" '$2 == 302 && $3 == d "/v2/curl/" $1 "?x=" $1 { print $1 }' | sort -un | wc -l)
	[ "$retried" -le $((CURLS / 100)) ] ||
		{ why "$retried curls needed a retry after a timeout close (at most $((CURLS / 100)))"; return 1; }
	if [ "$ok" != "$CURLS" ]; then
		bad=$(cat "$out" "$out.retry" 2>/dev/null | awk -F'|' -v d="$DEFAULT" '!($2 == 302 && $3 == d "/v2/curl/" $1 "?x=" $1)' |
			head -n 3 | tr '\n' ';')
		n=$(grep -c . "$E2E_WORK/t02.err")
		why "$ok/$CURLS curls got their redirect; failed: $bad ($n curl errors: $(head -n 2 "$E2E_WORK/t02.err" | tr '\n' ';'))"
		return 1
	fi
	echo "$ok/$CURLS curl connections in ${dt}s ($CURL_PAR at a time), every Location right" \
		"($retried retried after a timeout close)"
}

test_03_loss_drain() {
	local f=$E2E_WORK/t03.stats
	# The clients are gone; the impairment stays on while xredird closes
	# what is left (FIN retransmissions, linger, idle timeout).
	wait_drained 40 || return 1
	impair stats >"$E2E_WORK/t03.impair.json" 2>&1 ||
		{ why "impair.sh stats failed"; return 1; }
	impair off >&2
	stats "$f"
	cat "$f" "$E2E_WORK/t03.impair.json" >&2
	echo "drained in ${DRAIN_S}s: flows_open=0 send_rings_used=0 head_buffers_used=0;" \
		"retransmits=$(delta "$LOSS_STATS0" "$f" retransmits)" \
		"fast_retransmits=$(delta "$LOSS_STATS0" "$f" fast_retransmits)" \
		"giveups=$(delta "$LOSS_STATS0" "$f" giveups)" \
		"timeouts=$(delta "$LOSS_STATS0" "$f" timeouts)"
}

test_04_loss_capture() {
	loss_capture plain 01-03 || return 1
	local j=$E2E_WORK/t03.impair.json t=$E2E_WORK/t04.tcp
	[ -s "$j" ] || { why "no impairment counters: 03 did not get that far"; return 1; }
	"$PYTHON" "$ROBUST_PY" pcap-tcp --port "$PORT" "$LOSS_CAP" >"$t" ||
		{ why "cannot read $LOSS_CAP"; return 1; }
	cat "$t" >&2
	# Retransmissions per flow: 100 requests per keep-alive connection at
	# ~20% loss of a round trip. RSTs: answers to segments of flows already
	# freed (a duplicated or delayed last ACK), each checked for its
	# sequence number.
	# A SYN sent again across a step of the SYN cookies' 64 s time counter
	# gets a SYN-ACK with a new ISN; pcapcheck follows it (isn_changes).
	local server
	pcap_clean "$LOSS_CAP" -v --max-retrans 64 --allow-rst 1000 || return 1
	server=$(echo "$PCAP_SUMMARY" | tr ' ' '\n' | sed -n 's/^server=//p')
	# At least a SYN-ACK per connection and a response per request.
	local floor=$((KA_CONNS + KA_REQUESTS + 2 * CURLS))
	[ "${server:-0}" -ge "$floor" ] ||
		{ why "capture too small: server=$server, want >= $floor"; return 1; }
	echo "capture clean ($(echo "$PCAP_SUMMARY" | tr ' ' '\n' | grep -E '^(server|flows|retransmissions|isn_changes|rsts)=' | paste -sd' '));" \
		"impair c2s dropped $(jget "$j" c2s.dropped)/dup $(jget "$j" c2s.duplicated)/held $(jget "$j" c2s.delayed)," \
		"s2c dropped $(jget "$j" s2c.dropped)/dup $(jget "$j" s2c.duplicated)/held $(jget "$j" s2c.delayed);" \
		"the server saw $(jget "$t" duplicates) duplicate and $(jget "$t" reordered_or_resent) out-of-order client segments"
}

# ---- 05: SYN flood ----

# One curl of syn_flood TAG: "ID|CODE|LOCATION|SECONDS|EXIT".
FLOOD_TAG=05
flood_curl() {
	cli curl -sS -m 25 -o /dev/null \
		-w "$1|%{http_code}|%{redirect_url}|%{time_total}|%{exitcode}\n" \
		"http://$XR_SRV_IP4:$PORT/v2/flood/$1" 2>>"$E2E_WORK/t$FLOOD_TAG.curl.err"
}

# syn_flood TAG MAX_RETRIED: test 05's flood and curls; stats before and
# after in $E2E_WORK/tTAG.s0 and .s1.
syn_flood() {
	local tag=$1 max_retried=$2
	FLOOD_TAG=$tag
	need curl "$PYTHON" || return 1
	[ -x "$RAWC" ] || { why "no $RAWC"; return 1; }
	local s0=$E2E_WORK/t$tag.s0 s1=$E2E_WORK/t$tag.s1 fl=$E2E_WORK/t$tag.flood
	local cu=$E2E_WORK/t$tag.curl samp=$E2E_WORK/t$tag.samples rss0 rss1 ok
	local cpid spid maxfo pps drss
	stats "$s0" || { why "stats failed"; return 1; }
	rss0=$(rss_kb)
	: >"$cu"
	: >"$cu.err"
	: >"$samp"
	# 20 curls spread over the flood, each in the background.
	(
		sleep 0.3
		for i in $(seq "$FLOOD_CURLS"); do
			flood_curl "$i" >>"$cu" &
			sleep "$(awk "BEGIN { print $FLOOD_SECONDS / $FLOOD_CURLS }")"
		done
		wait
	) &
	cpid=$!
	E2E_BG_PIDS+=("$cpid")
	E2E_BG_NAMES+=(flood-curls)
	# flows_open twice a second.
	(
		while :; do
			stats "$E2E_WORK/.flood.stat" &&
				jget "$E2E_WORK/.flood.stat" flows_open >>"$samp"
			sleep 0.5
		done
	) &
	spid=$!
	E2E_BG_PIDS+=("$spid")
	E2E_BG_NAMES+=(flood-sampler)
	cli "$RAWC" flood --iface "$XR_CLI_IF" --dst-ip "$XR_SRV_IP4" \
		--dst-mac "$(srv_mac)" --port "$PORT" --seconds "$FLOOD_SECONDS" \
		--mode ring --batch 1024 >"$fl" 2>&1 ||
		{ why "flood failed: $(tail -n 1 "$fl")"; kill "$spid"; return 1; }
	cat "$fl" >&2
	# The curls still running get up to their own timeout.
	for _ in $(seq 300); do
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	sleep 1.2 # the counters are published about once a second
	stats "$s1"
	rss1=$(rss_kb)
	cat "$cu" "$cu.err" >&2
	# A request the full RX ring dropped until the idle timeout closed its
	# connection is retried once after the flood, for at most max_retried.
	retry_timeout_closes "$cu" flood_curl
	local retried=$RETRIED
	last_json "$fl" >"$fl.json"
	pps=$(jget "$fl.json" pps)
	maxfo=$(sort -n "$samp" | tail -n 1)
	drss=$((rss1 - rss0))
	echo "flood: $(cat "$fl.json"); xdp_steered +$(delta "$s0" "$s1" xdp_steered)" \
		"syn_rcvd +$(delta "$s0" "$s1" syn_rcvd) cookies_sent +$(delta "$s0" "$s1" cookies_sent)" \
		"xsk_tx_ring_full +$(delta "$s0" "$s1" xsk_tx_ring_full) flows_opened +$(delta "$s0" "$s1" flows_opened)" \
		"max flows_open $maxfo; RSS ${rss0} -> ${rss1} kB" >&2
	ok=$(cat "$cu" "$cu.retry" 2>/dev/null |
		awk -F'|' -v d="$DEFAULT" '$2 == 302 && $3 == d "/v2/flood/" $1 { print $1 }' | sort -un | wc -l)
	[ "$ok" = "$FLOOD_CURLS" ] ||
		{ why "$ok/$FLOOD_CURLS curls during the flood got their redirect ($(grep -v '|302|' "$cu" | head -n 2 | tr '\n' ';') $(head -n 2 "$cu.err" | tr '\n' ';'))"; return 1; }
	[ "$retried" -le "$max_retried" ] ||
		{ why "$retried curls closed by a timeout during the flood (at most $max_retried)"; return 1; }
	[ "$drss" -lt 2048 ] ||
		{ why "RSS grew by $drss kB during the flood (${rss0} -> ${rss1} kB)"; return 1; }
	# Only the curls' own connections may hold flows (at most one each).
	[ "${maxfo:-99}" -le "$FLOOD_CURLS" ] ||
		{ why "flows_open reached $maxfo during the flood"; return 1; }
	[ "$(delta "$s0" "$s1" flows_opened)" -le $((FLOOD_CURLS * 2)) ] ||
		{ why "spoofed SYNs opened flows: flows_opened +$(delta "$s0" "$s1" flows_opened)"; return 1; }
	echo "${pps} SYN/s for ${FLOOD_SECONDS}s ($(jget "$fl.json" sent) sent); xredird took" \
		"$(delta "$s0" "$s1" syn_rcvd) SYNs, queued $(delta "$s0" "$s1" cookies_sent) SYN-ACKs," \
		"$(delta "$s0" "$s1" xsk_tx) left (TX ring full $(delta "$s0" "$s1" xsk_tx_ring_full));" \
		"$ok/$FLOOD_CURLS curls ok (slowest $(sort -t'|' -k4 -n "$cu" | tail -n 1 | awk -F'|' '{ printf "%.1f", $4 }')s;" \
		"$retried retried after a timeout close);" \
		"max flows_open $maxfo; RSS ${rss0} -> ${rss1} kB"
}

test_05_syn_flood() {
	# The flood shares the workers' RX ring with the curls: one in 20 may
	# need a retry.
	syn_flood 05 $((FLOOD_CURLS / 20))
}

# The same flood with --xdp-synack on (and the XDP program the client's
# veth needs for XDP_TX): the XDP program answers it, so it never reaches
# the queue the curls' requests wait in: no curl needs a retry, and the
# workers see the curls' frames alone. A SYN on an established connection
# still gets the engine's challenge ACK (the live table).
test_05b_syn_flood_in_xdp() {
	local s0=$E2E_WORK/t05b.s0 s1=$E2E_WORK/t05b.s1 out steered synack rc=0
	d_stop 10 || return 1
	peer_xdp load || return 1
	d_start -m --xdp-synack on "${XR_ARGS[@]}" || { peer_xdp unload; return 1; }
	out=$(syn_flood 05b 0) || rc=$?
	if [ "$rc" = 0 ]; then
		steered=$(delta "$s0" "$s1" xdp_steered)
		synack=$(delta "$s0" "$s1" xdp_synack)
		[ "$steered" -le $((FLOOD_CURLS * 20)) ] ||
			{ why "xdp_steered +$steered: the flood reached the workers"; rc=1; }
		[ "$rc" != 0 ] || [ "$synack" -ge 100000 ] ||
			{ why "xdp_synack +$synack: the flood was not answered in XDP"; rc=1; }
	fi
	[ "$rc" != 0 ] || raw syn-established || rc=1
	d_stop 10
	peer_xdp unload
	d_start -m "${XR_ARGS[@]}" || return 1
	[ "$rc" = 0 ] || return 1
	echo "$out; answered in XDP: xdp_synack +$synack, xdp_steered +$steered; $(raw_summary)"
}

# ---- 06-15: hostile and odd peers ----

test_06_rfc5961() {
	local s0=$E2E_WORK/t06.s0 s1=$E2E_WORK/t06.s1 ch
	stats "$s0"
	captured t06 "$RAW_FILTER" raw rst-exact rst-in-window rst-out-of-window \
		syn-established keepalive-probe || return 1
	# One server RST: the answer to a request on the flow the exact RST
	# freed.
	pcap_clean "$CAP" --allow-rst 1 || return 1
	sleep 1.2
	stats "$s1"
	ch=$(delta "$s0" "$s1" challenge_acks)
	[ "$ch" -ge 5 ] || { why "challenge_acks +$ch, expected >= 5"; return 1; }
	[ "$(delta "$s0" "$s1" rst_rcvd)" -ge 1 ] || { why "rst_rcvd did not rise"; return 1; }
	echo "exact RST resets; in-window RST (3) and SYN (2) got challenge ACKs (+$ch), out-of-window RSTs ignored," \
		"keep-alive probes acked; flows survive; capture clean"
}

test_07_window_raw() {
	captured t07 "$RAW_FILTER" raw zero-window window-update || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

test_08_slowloris() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t08.json
	captured t08 "port $SPORT_SLOW" cli timeout 30 "$PYTHON" "$ROBUST_PY" slowloris \
		--host "$XR_SRV_IP4" --port "$PORT" --sport "$SPORT_SLOW" --interval 0.1 \
		--expect "$HEADER_TIMEOUT" --tolerance 0.6 >"$out"
	local rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] || { why "slowloris: $(last_json "$out")"; return 1; }
	pcap_clean "$CAP" || return 1
	echo "a head dribbled at 10 bytes/s was closed ($(jget "$out" closed_by)) after $(jget "$out" after_s)s" \
		"(--header-timeout $HEADER_TIMEOUT, $(jget "$out" bytes_sent) bytes sent); capture clean"
}

test_09_idle_keepalive() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t09.json
	captured t09 "port $SPORT_IDLE" cli timeout 30 "$PYTHON" "$ROBUST_PY" idle \
		--host "$XR_SRV_IP4" --port "$PORT" --sport "$SPORT_IDLE" --expect "$IDLE_TIMEOUT" \
		--tolerance 1.0 >"$out"
	local rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] || { why "idle: $(last_json "$out")"; return 1; }
	pcap_clean "$CAP" || return 1
	echo "an idle keep-alive connection got FIN $(jget "$out" after_s)s after its response" \
		"(--idle-timeout $IDLE_TIMEOUT); capture clean"
}

test_10_tiny_mss() {
	captured t10 "$RAW_FILTER" raw mss-536 mss-88 || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

test_11_mss_48() {
	captured t11 "$RAW_FILTER" raw mss-48 || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

test_12_odd_options_syn_data() {
	captured t12 "$RAW_FILTER" raw odd-options syn-data syn-retransmit || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

test_13_head_1byte_segments() {
	captured t13 "$RAW_FILTER" raw head-1byte || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

closing_clients() {
	local code
	raw --idle-timeout "$IDLE_TIMEOUT" close-then-fin client-fin-first fin-missed || return 1
	# And a kernel client asking for the close.
	code=$(cli curl -sS -m 5 -o /dev/null -H 'Connection: close' \
		--local-port "$SPORT_CLOSE-$((SPORT_CLOSE + 49))" \
		-w '%{http_code}' "http://$XR_SRV_IP4:$PORT/v2/close") || true
	[ "$code" = 302 ] || { why "curl with Connection: close: $code"; return 1; }
}

test_14_closing() {
	need curl || return 1
	local s0=$E2E_WORK/t14.s0 s1=$E2E_WORK/t14.s1 w
	stats "$s0"
	captured t14 "$RAW_FILTER or portrange $SPORT_CLOSE-$((SPORT_CLOSE + 49))" closing_clients || return 1
	# One server RST: data sent on the flow after both FINs.
	pcap_clean "$CAP" --allow-rst 1 || return 1
	sleep 1.2
	stats "$s1"
	w=$(delta "$s0" "$s1" timewait_acks)
	[ "$w" -ge 2 ] || { why "timewait_acks +$w, expected >= 2"; return 1; }
	echo "Connection: close then our FIN; request+FIN; retransmitted FINs after the flow was freed" \
		"acked exactly (timewait_acks +$w); an unacknowledged FIN past the linger" \
		"($(sed -n 's/^ok  *fin-missed .*FIN retransmitted at \(.*\) s after it.*/\1/p' "$RAW_OUT") s);" \
		"curl Connection: close; capture clean"
}

test_15_syn_cookie_edges() {
	captured t15 "$RAW_FILTER" raw lost-first-segments stale-handshake-ack || return 1
	pcap_clean "$CAP" || return 1
	echo "$(raw_summary); capture clean"
}

# ---- 16: a client that stops reading (started before 06, ends here) ----

ZW_PID=
ZW_CAP_PID=
zw_start() {
	ZW_OUT=$E2E_WORK/t16.out
	ZW_CAP=$E2E_WORK/t16.pcap
	ZW_RSS0=$(rss_kb)
	stats "$E2E_WORK/t16.s0"
	ip netns exec "$XR_CLI_NS" tcpdump -i "$XR_CLI_IF" -nn -s 2048 -U \
		--immediate-mode -B 8192 -w "$ZW_CAP" "tcp port $ZW_PORT" \
		>"$ZW_CAP.log" 2>&1 &
	ZW_CAP_PID=$!
	E2E_BG_PIDS+=("$ZW_CAP_PID")
	E2E_BG_NAMES+=(zw-capture)
	for _ in $(seq 100); do
		grep -qs 'listening on' "$ZW_CAP.log" && break
		sleep 0.02
	done
	ip netns exec "$XR_CLI_NS" timeout 200 "$PYTHON" "$ROBUST_PY" stop-reading \
		--host "$XR_SRV_IP4" \
		--port "$PORT" --sport "$ZW_PORT" --rcvbuf 4096 --stall 2 \
		--limit 170 >"$ZW_OUT" 2>"$ZW_OUT.err" &
	ZW_PID=$!
	E2E_BG_PIDS+=("$ZW_PID")
	E2E_BG_NAMES+=(zw-client)
	# Wait for the stall, then look at the server's side of it.
	for _ in $(seq 100); do
		grep -q stalled "$ZW_OUT" && break
		sleep 0.1
	done
	sleep 1.2
	stats "$E2E_WORK/t16.stalled"
	ZW_RSS_STALLED=$(rss_kb)
}

test_16_zero_window_giveup() {
	need tcpdump "$PYTHON" || return 1
	[ -n "$ZW_PID" ] || { why "the stop-reading client was not started"; return 1; }
	local st=$E2E_WORK/t16.stalled s1=$E2E_WORK/t16.s1 res probes gu rss1 rc=0
	grep -q stalled "$ZW_OUT" ||
		{ why "the client never stalled: $(cat "$ZW_OUT" "$ZW_OUT.err" | tail -n 2)"; return 1; }
	# While stalled: one flow holds a send ring and a backlog, no more.
	[ "$(jget "$st" send_rings_used)" -le 2 ] ||
		{ why "send_rings_used=$(jget "$st" send_rings_used) for one stalled flow"; return 1; }
	# Then: give-up at the send timeout, seen by the client as a reset.
	wait "$ZW_PID"
	rc=$?
	cat "$ZW_OUT" "$ZW_OUT.err" >&2
	sleep 0.5
	kill -INT "$ZW_CAP_PID" 2>/dev/null
	wait "$ZW_CAP_PID" 2>/dev/null
	sleep 1.2
	stats "$s1"
	rss1=$(rss_kb)
	res=$E2E_WORK/t16.res
	last_json "$ZW_OUT" >"$res"
	[ "$rc" = 0 ] || { why "the client saw no reset within 170 s: $(cat "$res")"; return 1; }
	# Given up by the send timeout (its peer acknowledges every probe) or
	# by the retransmission limit, whichever comes first.
	gu=$(($(delta "$E2E_WORK/t16.s0" "$s1" giveups) + $(delta "$E2E_WORK/t16.s0" "$s1" send_timeouts)))
	[ "$gu" -ge 1 ] || { why "giveups + send_timeouts +$gu: the server did not give up"; return 1; }
	[ "$((rss1 - ZW_RSS0))" -lt 2048 ] ||
		{ why "RSS grew ${ZW_RSS0} -> ${rss1} kB"; return 1; }
	probes=$(tcpdump -nn -r "$ZW_CAP" "src port $PORT" 2>/dev/null | grep -c 'length 1$')
	tcpdump -nn -r "$ZW_CAP" 2>/dev/null | tail -n 30 >&2
	[ "$probes" -ge 5 ] || { why "only $probes zero-window probes in the capture"; return 1; }
	tcpdump -nn -r "$ZW_CAP" "src port $PORT" 2>/dev/null | grep -q 'win 0,' ||
		{ why "the server never advertised a zero window (its queue is not capped?)"; return 1; }
	# The give-up RST must be one the client accepts when it arrives:
	# pcapcheck's rst check (its sequence number is the client's ACK).
	pcap_clean "$ZW_CAP" --allow-rst 2 || return 1
	echo "stalled after $(jget "$res" bytes_sent) bytes; server window 0, send_rings_used" \
		"$(jget "$st" send_rings_used), $probes probes, gave up (giveups + send_timeouts +$gu), client reset after" \
		"$(jget "$res" reset_after_s)s; RSS ${ZW_RSS0} -> ${ZW_RSS_STALLED} -> ${rss1} kB; capture clean"
}

# ---- 17: table full ----

test_17_table_full() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t17.json s0=$E2E_WORK/t17.s0 s1=$E2E_WORK/t17.s1 tf
	# SIGTERM drains for up to --grace (default 5 s) first. A queue the
	# last daemon's socket still holds is xredird's own to wait for.
	d_stop 10 || return 1
	d_start -m --max-flows 4 --idle-timeout 30 || return 1
	# d_start's readiness curl has come and gone: wait for its flow.
	wait_drained 10 || return 1
	stats "$s0"
	captured t17 "portrange $SPORT_FULL-$((SPORT_FULL + 4))" cli timeout 30 "$PYTHON" "$ROBUST_PY" \
		table-full --host "$XR_SRV_IP4" --port "$PORT" --target "$DEFAULT" --max 4 \
		--sport "$SPORT_FULL" >"$out"
	local rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] || { why "table-full: $(last_json "$out")"; return 1; }
	# RSTs: the refused connection's ACK and its request.
	pcap_clean "$CAP" --allow-rst 3 || return 1
	sleep 1.2
	stats "$s1"
	tf=$(delta "$s0" "$s1" table_full)
	[ "$tf" -ge 1 ] || { why "table_full +$tf"; return 1; }
	echo "4 flows held, the 5th connection reset cleanly ($(jget "$out" extra) after" \
		"$(jget "$out" extra_s)s, table_full +$tf), the 4 still answer; capture clean"
}

# --cookie-secret-file: a SYN answered by one daemon, the final ACK (with
# a request) to the next one, as after a restart or when ECMP moves a flow
# to another node of the fleet.
test_18_cookie_secret_file() {
	need "$PYTHON" || return 1
	local key=$E2E_WORK/t18.key bad=$E2E_WORK/t18.bad st=$E2E_WORK/t18.state
	"$PYTHON" -c 'import secrets; print(secrets.token_hex(16))' >"$key" || return 1
	d_stop 10 && d_start -m --cookie-secret-file "$key" || return 1
	raw --state "$st" handshake-begin || return 1
	d_stop 10 && d_start -m --cookie-secret-file "$key" || return 1
	raw --state "$st" handshake-finish || return 1
	local shared
	shared=$(raw_summary)
	# Without the file, each start has its own secret.
	raw --state "$st" handshake-begin || return 1
	d_stop 10 && d_start -m || return 1
	raw --state "$st" handshake-finish-refused || return 1
	local own
	own=$(raw_summary)
	# A file that is not a secret: no start, and the log says why.
	head -c 31 "$key" >"$bad"
	d_stop 10 || return 1
	d_start -m --cookie-secret-file "$bad" 2>/dev/null && { why "started with a 31-digit secret"; return 1; }
	grep -q "msg=cookie_secret_rejected file=$bad reason=\"want 32 hex digits (e.g. from: openssl rand -hex 16), found 31 characters\"" "$D_LOG" ||
		{ why "no cookie_secret_rejected line: $(tail -n 2 "$D_LOG")"; return 1; }
	d_start -m "${XR_ARGS[@]}" || return 1
	echo "shared secret across a restart: $shared; own secrets: $own; a 31-digit file refused with its reason"
}

# ---- 19-22: HTTPS through loss, duplication and reordering ----

test_19_tls_loss_keepalive() {
	need "$PYTHON" || return 1
	local out=$E2E_WORK/t19.json n s r
	keepalive_under_loss "HTTPS keep-alive" "$out" --host "$XR_SRV_IP4" \
		--port "$TLS_PORT" --cafile "$TLS_DIR/ca.pem" --target "$DEFAULT" \
		--count "$TLS_KA_REQUESTS" --conns "$TLS_KA_CONNS" --prefix /v2/tls-ka || return 1
	n=$(jget "$out" ok)
	s=$(jget "$out" seconds)
	r=$(jget "$out" idle_close_retries)
	[ "$r" -le $((TLS_KA_REQUESTS / 100)) ] ||
		{ why "$r requests needed a retry after an idle close (at most $((TLS_KA_REQUESTS / 100)))"; return 1; }
	echo "$n/$TLS_KA_REQUESTS HTTPS keep-alive requests on $(jget "$out" connections) connections in ${s}s" \
		"through ${LOSS}% loss, ${DUP}% dup, ${REORDER}% reorder each way, certificate verified" \
		"(TLS and ALPN: $(jget "$out" tls); $r retried after an idle close)"
}

# stats_until SECS FILE KEY MIN: waits for the counter KEY to reach MIN
# (the daemon publishes its counters about once a second); FILE holds the
# last read.
stats_until() {
	local t0
	t0=$(now)
	while :; do
		stats "$2" && [ "$(jget "$2" "$3")" -ge "$4" ] && return 0
		awk "BEGIN { exit !($(now) - $t0 > $1) }" &&
			{ why "$3 = $(jget "$2" "$3") after ${1}s, want >= $4"; return 1; }
		sleep 0.2
	done
}

# A new connection and a full handshake per curl (separate processes share
# no session), with timeout_close's retry for at most 3%: under this loss a
# handshake whose first flight goes out with the initial 1 s RTO (no RTT
# sample yet) can outlast the suite's 2 s header timeout; 0-1 in 200 seen.
# One curl of test 20 again: "ID|CODE|LOCATION|SECONDS|EXIT".
tls_curl_one() {
	cli curl -sS -m 60 --cacert "$TLS_DIR/ca.pem" -o /dev/null \
		-w "$1|%{http_code}|%{redirect_url}|%{time_total}|%{exitcode}\n" \
		"https://$XR_SRV_IP4:$TLS_PORT/v2/tls/$1?x=$1" 2>>"$E2E_WORK/t20.err"
}

test_20_tls_loss_handshakes() {
	need curl xargs || return 1
	local out=$E2E_WORK/t20.out s0=$E2E_WORK/t20.s0 s1=$E2E_WORK/t20.s1
	local t0 dt ok bad retried hs
	stats "$s0" || { why "stats failed"; return 1; }
	t0=$(now)
	seq "$TLS_CONNS" | cli xargs -P "$TLS_PAR" -I{} curl -sS -m 60 \
		--cacert "$TLS_DIR/ca.pem" -o /dev/null \
		-w '{}|%{http_code}|%{redirect_url}|%{time_total}|%{exitcode}\n' \
		"https://$XR_SRV_IP4:$TLS_PORT/v2/tls/{}?x={}" >"$out" 2>"$E2E_WORK/t20.err"
	retry_timeout_closes "$out" tls_curl_one tls
	retried=$RETRIED
	dt=$(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")
	ok=$(cat "$out" "$out.retry" 2>/dev/null |
		awk -F'|' -v d="$DEFAULT" '$2 == 302 && $3 == d "/v2/tls/" $1 "?x=" $1 { print $1 }' | sort -un | wc -l)
	[ "$retried" -le $((TLS_CONNS * 3 / 100)) ] ||
		{ why "$retried curls needed a retry after a timeout close (at most $((TLS_CONNS * 3 / 100)))"; return 1; }
	if [ "$ok" != "$TLS_CONNS" ]; then
		bad=$(cat "$out" "$out.retry" 2>/dev/null | awk -F'|' -v d="$DEFAULT" '!($2 == 302 && $3 == d "/v2/tls/" $1 "?x=" $1)' |
			head -n 3 | tr '\n' ';')
		why "$ok/$TLS_CONNS HTTPS curls got their redirect; failed: $bad (curl: $(head -n 2 "$E2E_WORK/t20.err" | tr '\n' ';'))"
		return 1
	fi
	# Each one a full handshake, none resumed.
	stats_until 5 "$s1" tls_handshakes $(($(jget "$s0" tls_handshakes) + TLS_CONNS)) || return 1
	hs=$(delta "$s0" "$s1" tls_handshakes)
	[ "$retried" -le "$(delta "$s0" "$s1" timeouts)" ] ||
		{ why "$retried retried but timeouts +$(delta "$s0" "$s1" timeouts): a close that no timeout made"; return 1; }
	[ "$(delta "$s0" "$s1" tls_resumed)" = 0 ] ||
		{ why "tls_resumed +$(delta "$s0" "$s1" tls_resumed): not all full handshakes"; return 1; }
	echo "$ok/$TLS_CONNS new HTTPS connections in ${dt}s ($TLS_PAR at a time), certificate verified," \
		"every Location right; tls_handshakes +$hs, tls_resumed +0, tls_failed +$(delta "$s0" "$s1" tls_failed)" \
		"($retried retried after a timeout close)"
}

test_21_tls_loss_drain() {
	local f=$E2E_WORK/t21.stats
	wait_drained 40 || return 1
	impair stats >"$E2E_WORK/t21.impair.json" 2>&1 ||
		{ why "impair.sh stats failed"; return 1; }
	impair off >&2
	stats "$f"
	cat "$f" "$E2E_WORK/t21.impair.json" >&2
	echo "drained in ${DRAIN_S}s: flows_open=0 send_rings_used=0 head_buffers_used=0 tls_sessions=0;" \
		"retransmits=$(delta "$LOSS_STATS0" "$f" retransmits)" \
		"fast_retransmits=$(delta "$LOSS_STATS0" "$f" fast_retransmits)" \
		"giveups=$(delta "$LOSS_STATS0" "$f" giveups)" \
		"timeouts=$(delta "$LOSS_STATS0" "$f" timeouts)"
}

test_22_tls_loss_capture() {
	loss_capture tls 19-21 || return 1
	local j=$E2E_WORK/t21.impair.json t=$E2E_WORK/t22.tcp server
	[ -s "$j" ] || { why "no impairment counters: 21 did not get that far"; return 1; }
	"$PYTHON" "$ROBUST_PY" pcap-tcp --port "$TLS_PORT" "$LOSS_CAP" >"$t" ||
		{ why "cannot read $LOSS_CAP"; return 1; }
	cat "$t" >&2
	# Retransmissions per flow: 04's 64 per 100 requests on a keep-alive
	# connection, for the 250 here.
	pcap_clean "$LOSS_CAP" -v --port "$TLS_PORT" \
		--max-retrans $((64 * TLS_KA_REQUESTS / TLS_KA_CONNS / 100)) --allow-rst 1000 || return 1
	server=$(echo "$PCAP_SUMMARY" | tr ' ' '\n' | sed -n 's/^server=//p')
	# A SYN-ACK per connection and a response per request at least.
	local floor=$((TLS_KA_CONNS + TLS_KA_REQUESTS + 2 * TLS_CONNS))
	[ "${server:-0}" -ge "$floor" ] ||
		{ why "capture too small: server=$server, want >= $floor"; return 1; }
	echo "capture clean ($(echo "$PCAP_SUMMARY" | tr ' ' '\n' | grep -E '^(server|flows|retransmissions|isn_changes|rsts)=' | paste -sd' '));" \
		"impair c2s dropped $(jget "$j" c2s.dropped)/dup $(jget "$j" c2s.duplicated)/held $(jget "$j" c2s.delayed)," \
		"s2c dropped $(jget "$j" s2c.dropped)/dup $(jget "$j" s2c.duplicated)/held $(jget "$j" s2c.delayed)"
}
