# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# The basic end-to-end suite (tests/e2e/run.sh basic): xredird on the server
# veth of its topology (XR_E2E_TOPO, default xre2e), real clients (curl,
# python3, wrk) in the client namespace, and a capture of tests 01-11 on
# the client veth checked by pcapcheck (test 14).

# Not $XR_TOPO: a developer's own topology must not be torn down by a test.
SUITE_TOPO=${XR_E2E_TOPO:-xre2e}
# wrk makes about a million packets in 5 s: whole frames (the client veth has
# TSO off and xredird sends single frames, so none exceeds MTU + 14; test 14
# fails if pcapcheck finds one cut) in a 256 MiB ring of ~2 KiB slots. With
# -s 0 and 32 MiB, tcpdump dropped ~2% of them here.
CAP_SNAPLEN=2048 CAP_BUFFER_KB=262144
DEFAULT=https://k8s.gcr.io
MATCH=https://registry-1.docker.io
E2E_PY=$E2E_ROOT/tests/e2e/e2e.py

# The python helper in the client namespace.
e2e_py() { cli timeout 60 "$PYTHON" "$E2E_PY" "$@"; }

suite_setup() { d_start -m; }

# Tests 01-11 run inside one capture, which test 14 checks.
CAP_ERR="no capture: tests 01-11 did not run"
CAP_ON=0
suite_before_test() {
	case "$1" in
	0[1-9]-* | 1[01]-*) [ "$CAP_ON" = 1 ] || capture_on ;;
	*) [ "$CAP_ON" = 0 ] || capture_off ;;
	esac
	return 0
}

capture_on() {
	CAP_ON=1
	CAP_ERR=
	cap_start "$XR_CLI_IF" "$E2E_WORK/capture.pcap" "tcp port $PORT" ||
		CAP_ERR="capture: $(cat "$E2E_WORK/.reason")"
}

capture_off() {
	CAP_ON=0
	[ -z "$CAP_ERR" ] || return 0
	# Let the last connections finish (FINs, ACKs) inside the capture.
	sleep 0.5
	cap_stop || CAP_ERR=$(cat "$E2E_WORK/.reason")
}

# ---- helpers for curl's output ----

# hdr FILE NAME: the value of a header in curl's -D dump (no CR).
hdr() {
	tr -d '\r' <"$1" | sed -n "s/^$2: *//Ip"
}

hdr_count() {
	tr -d '\r' <"$1" | grep -ci "^$2:"
}

html_escape() {
	printf '%s' "$1" | sed "s/&/\\&amp;/g; s/'/\\&#39;/g"
}

# curl_redirect OUT URL WANT-LOCATION [CURL-ARGS]: GET (or HEAD with -I)
# URL from the client namespace, check the whole redirect. Files OUT.hdr,
# OUT.body.
curl_redirect() {
	local out=$1 url=$2 loc=$3 w head=0 a
	shift 3
	for a in "$@"; do [ "$a" = -I ] && head=1; done
	w=$(cli curl -sS -g -m 5 -D "$out.hdr" -o "$out.body" \
		-w '%{http_code}' "$@" "$url" 2>&1) || {
		why "curl $url failed: $w"
		return 1
	}
	check_redirect "$out" "$loc" keep-alive "$head"
}

# check_redirect OUT LOCATION CONNECTION HEAD: curl's OUT.hdr and OUT.body.
check_redirect() {
	local out=$1 loc=$2 conn=$3 head=$4 h n date now body
	cat "$out.hdr" >&2
	n=$(head -n 1 "$out.hdr" | tr -d '\r')
	[ "$n" = "HTTP/1.1 302 Found" ] || { why "status line '$n'"; return 1; }
	for h in Location Content-Type Content-Length Date Connection; do
		n=$(hdr_count "$out.hdr" "$h")
		[ "$n" = 1 ] || { why "header $h appears $n times"; return 1; }
	done
	n=$(hdr "$out.hdr" Location)
	[ "$n" = "$loc" ] || { why "Location '$n', want '$loc'"; return 1; }
	n=$(hdr "$out.hdr" Content-Type)
	[ "$n" = "text/html; charset=utf-8" ] ||
		{ why "Content-Type '$n'"; return 1; }
	n=$(hdr "$out.hdr" Connection)
	[ "$n" = "$conn" ] || { why "Connection '$n', want '$conn'"; return 1; }
	date=$(hdr "$out.hdr" Date)
	[[ "$date" =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]] ||
		{ why "bad Date '$date'"; return 1; }
	now=$(date +%s)
	n=$(date -d "$date" +%s 2>/dev/null) || { why "bad Date '$date'"; return 1; }
	if [ $((now - n)) -gt 5 ] || [ $((n - now)) -gt 5 ]; then
		why "Date '$date' is $((n - now))s off the clock"
		return 1
	fi
	body=$(printf '<a href="%s">Found</a>.\n.' "$(html_escape "$loc")")
	body=${body%.}
	n=$(hdr "$out.hdr" Content-Length)
	[ "$n" = "${#body}" ] ||
		{ why "Content-Length $n, want ${#body}"; return 1; }
	# curl -I writes the head as its output: e2e.py head checks for a body.
	if [ "$head" = 0 ]; then
		n=$(stat -c %s "$out.body")
		[ "$n" = "${#body}" ] ||
			{ why "body of $n bytes, Content-Length ${#body}"; return 1; }
		printf '%s' "$body" | cmp -s - "$out.body" ||
			{ why "body '$(head -c 200 "$out.body")'"; return 1; }
	fi
}

# ---- the tests ----

test_01_get_http11() {
	need curl || return 1
	local path='/v2/x/manifests/1?y=z'
	curl_redirect "$E2E_WORK/t01" "http://$XR_SRV_IP4:$PORT$path" \
		"$DEFAULT$path" --interface "$XR_CLI_IP4" || return 1
	echo "302, all headers, ${path} kept, body exact"
}

test_02_http10_close() {
	need curl "$PYTHON" || return 1
	local out=$E2E_WORK/t02 path='/v1/_ping?old=1' w
	w=$(cli curl -sS -v --http1.0 -m 5 -D "$out.hdr" -o "$out.body" \
		--interface "$XR_CLI_IP4" "http://$XR_SRV_IP4:$PORT$path" \
		2>"$out.err") || { why "curl failed: $(tail -n 1 "$out.err")"; return 1; }
	check_redirect "$out" "$DEFAULT$path" close 0 || return 1
	# curl closes an HTTP/1.0 connection itself: prove the server's close
	# with a raw socket (recv() returns b'' after the response).
	e2e_py http10 --src "$XR_CLI_IP4" || return 1
	echo "302 with Connection: close, server closed"
}

test_03_head() {
	need curl "$PYTHON" || return 1
	local out=$E2E_WORK/t03 path='/v2/x/manifests/1?y=z' glen hlen
	curl_redirect "$out" "http://$XR_SRV_IP4:$PORT$path" "$DEFAULT$path" \
		-I --interface "$XR_CLI_IP4" || return 1
	curl_redirect "$out.get" "http://$XR_SRV_IP4:$PORT$path" \
		"$DEFAULT$path" --interface "$XR_CLI_IP4" || return 1
	hlen=$(hdr "$out.hdr" Content-Length)
	glen=$(stat -c %s "$out.get.body")
	[ "$hlen" = "$glen" ] ||
		{ why "HEAD Content-Length $hlen, GET body $glen bytes"; return 1; }
	# curl -I never reads a body: check on one connection that none comes.
	e2e_py head --src "$XR_CLI_IP4" || return 1
	echo "headers, Content-Length $hlen = GET body, no body"
}

test_04_ipv6() {
	need curl || return 1
	local path='/v2/library/busybox/blobs/sha256:0123?v=6'
	# The client namespace's default v6 source may be fd77::3 (a matching
	# address): pin it.
	curl_redirect "$E2E_WORK/t04" "http://[$XR_SRV_IP6]:$PORT$path" \
		"$DEFAULT$path" --interface "$XR_CLI_IP6" || return 1
	echo "302 over IPv6 from $XR_CLI_IP6"
}

test_05_match_client() {
	need curl || return 1
	local path="/v2/lib/a&b'c/manifests/x?d=1&e=2" src want url
	for src in "$XR_MATCH_IP4 $MATCH" "$XR_CLI_IP4 $DEFAULT" \
		"$XR_MATCH_IP6 $MATCH" "$XR_CLI_IP6 $DEFAULT"; do
		want=${src#* }
		src=${src%% *}
		case "$src" in
		*:*) url="http://[$XR_SRV_IP6]:$PORT$path" ;;
		*) url="http://$XR_SRV_IP4:$PORT$path" ;;
		esac
		curl_redirect "$E2E_WORK/t05" "$url" "$want$path" \
			--interface "$src" || { why "from $src: $(cat "$E2E_WORK/.reason")"; return 1; }
	done
	echo "matching clients to $MATCH, others to $DEFAULT (v4, v6; & and ' escaped)"
}

test_06_keepalive_1000() {
	need "$PYTHON" || return 1
	e2e_py keepalive --count 1000 --src "$XR_CLI_IP4"
}

test_07_pipeline_50() {
	need "$PYTHON" || return 1
	e2e_py pipeline --count 50 --src "$XR_CLI_IP4"
}

test_08_connection_close() {
	need "$PYTHON" || return 1
	e2e_py conn-close --src "$XR_CLI_IP4"
}

test_09_split_head() {
	need "$PYTHON" || return 1
	e2e_py split --src "$XR_CLI_IP4"
}

test_10_bad_request() {
	need "$PYTHON" || return 1
	e2e_py bad --src "$XR_CLI_IP4"
}

test_11_wrk() {
	need wrk || return 1
	local out=$E2E_WORK/t11.wrk n
	cli timeout 30 wrk -t1 -c50 -d5s "http://$XR_SRV_IP4:$PORT/v2/wrk?x=1" \
		>"$out" 2>&1 || { why "wrk failed: $(tail -n 1 "$out")"; cat "$out" >&2; return 1; }
	cat "$out" >&2
	if grep -q 'Socket errors' "$out"; then
		why "$(grep 'Socket errors' "$out" | sed 's/^ *//')"
		return 1
	fi
	if grep -q 'Non-2xx or 3xx' "$out"; then
		why "$(grep 'Non-2xx or 3xx' "$out" | sed 's/^ *//')"
		return 1
	fi
	n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
	[ "${n:-0}" -gt 0 ] || { why "no request counted"; return 1; }
	echo "$n requests, $(sed -n 's/^Requests\/sec: *//p' "$out") req/s, no errors"
}

test_12_other_traffic() {
	need ping "$PYTHON" || return 1
	cli ping -c 1 -W 2 -q "$XR_SRV_IP4" >&2 || { why "ping $XR_SRV_IP4 failed"; return 1; }
	cli ping -6 -c 1 -W 2 -q "$XR_SRV_IP6" >&2 || { why "ping $XR_SRV_IP6 failed"; return 1; }
	local port=8080 i ok=0
	e2e_bg echo8080 srv "$PYTHON" "$E2E_PY" echo-server --port $port
	for i in $(seq 100); do
		grep -q listening "$E2E_WORK/echo8080.out" && { ok=1; break; }
		sleep 0.05
	done
	if [ "$ok" != 1 ]; then
		why "echo server did not start: $(tail -n 1 "$E2E_WORK/echo8080.out")"
		e2e_bg_stop echo8080
		return 1
	fi
	ok=0
	e2e_py echo --host "$XR_SRV_IP4" --port $port &&
		e2e_py echo --host "$XR_SRV_IP6" --port $port && ok=1
	e2e_bg_stop echo8080
	[ "$ok" = 1 ] || return 1
	echo "ping v4+v6, TCP echo on port $port v4+v6"
}

test_13_stop_detach() {
	need "$PYTHON" || return 1
	d_alive || { why "xredird was not running (died earlier?)"; return 1; }
	local t0 dt link
	t0=$(now)
	d_stop 5 || return 1
	dt=$(awk "BEGIN { printf \"%.2f\", $(now) - $t0 }")
	grep -q 'msg=stopped' "$D_LOG" ||
		{ why "no msg=stopped in the log: $(tail -n 1 "$D_LOG")"; return 1; }
	link=$(ip -n "$XR_SRV_NS" link show "$XR_SRV_IF") ||
		{ why "no $XR_SRV_IF"; return 1; }
	echo "$link" >&2
	# "mtu 1500 xdp qdisc" (or xdpgeneric...) and a "prog/xdp id N" line.
	if echo "$link" | grep -Eq ' xdp(generic|drv|offload)? |prog/xdp'; then
		why "XDP program still attached: $(echo "$link" | grep -o 'prog/xdp.*')"
		return 1
	fi
	e2e_py refused --host "$XR_SRV_IP4" --port $PORT --src "$XR_CLI_IP4" &&
		e2e_py refused --host "$XR_SRV_IP6" --port $PORT --src "$XR_CLI_IP6" ||
		return 1
	echo "exit 0 in ${dt}s, msg=stopped, XDP detached, kernel refuses :$PORT (v4, v6)"
}

# summary_value KEY FILE: key=N from pcapcheck's summary line.
summary_value() {
	sed -n 's/^summary: //p' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# The capture was stopped before: $CAP_OK says whether it dropped nothing.
test_14_capture_clean() {
	[ -x "$PCAPCHECK" ] || { why "no $PCAPCHECK (make $BUILD/tests/pcapcheck)"; return 1; }
	[ -n "$CAP_ERR" ] && { why "$CAP_ERR"; return 1; }
	local out=$E2E_WORK/pcapcheck.out rc=0 server flows k n
	# No test in 01-11 makes the server reset a connection: --allow-rst 0.
	"$PCAPCHECK" --kernel-ttl "$XR_KERNEL_TTL" "$E2E_WORK/capture.pcap" \
		>"$out" 2>&1 || rc=$?
	cat "$out" >&2
	cat "$E2E_WORK/capture.pcap.log" >&2
	[ "$rc" = 0 ] || {
		why "pcapcheck exit $rc: $(grep -m1 '^VIOLATION' "$out" || tail -n 1 "$out")"
		return 1
	}
	server=$(summary_value server "$out")
	flows=$(summary_value flows "$out")
	for k in truncated unchecked untracked; do
		n=$(summary_value $k "$out")
		[ "$n" = 0 ] || {
			why "pcapcheck $k=$n: the capture is incomplete (snaplen $CAP_SNAPLEN?)"
			return 1
		}
	done
	# Tests 01-11 make well over 100 connections and thousands of packets.
	if [ "${server:-0}" -lt 1000 ] || [ "${flows:-0}" -lt 50 ]; then
		why "capture too small: server=$server flows=$flows"
		return 1
	fi
	echo "clean: $server server packets in $flows flows"
}
