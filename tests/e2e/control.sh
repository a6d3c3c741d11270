# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
# xredir's control-plane tests: xredird on the server veth of a topology of
# its own (scripts/topology.sh, XR_TOPO=$XR_CTL_TOPO, default xrctl), driven
# by xredirctl from the root namespace, with real clients in the client
# namespace.
#
#   01-lpm-30k          30,000 nested IPv4/IPv6 prefixes over 10 targets:
#                       `rule load` under 1 s, 100,000 `rule lookup --batch`
#                       answers equal to a reference longest-prefix match,
#                       a sample checked by real requests from those sources
#   02-live-changes     1,000 rule add/del and 20 rule load swaps while wrk
#                       runs and a verifying client checks every response
#                       against the rule sets in force around it
#   03-config-file      --config in a ConfigMap-like layout: file write,
#                       ..data swap, SIGHUP; an invalid file keeps the rules
#                       and is reported (status, --json, log); fixing it
#   04-trusted-proxy    --trust-proxy with X-Forwarded-For and X-Real-IP
#   05-cli-errors       every xredirctl error: message and exit status,
#                       map full, lock, concurrent writers, no permission;
#                       bad input reported as such with no instance; help
#                       of every command and group, --version (exit 0)
#   06-restart-state    the flags and config file define the state a
#                       daemon starts with (MATCH_IP A -> B keeps only B);
#                       rule list shows each rule's origin; live changes
#                       last until the next start
#   07-registry-ping    --registry-v2-ping: /v2/ gets 200, the rest 302
#   08-skopeo           skopeo inspect through xredird to a local registry
#                       (Debian's docker-registry, an image pushed from an
#                       OCI layout made here: nothing is downloaded)
#   08a-skopeo-tls      the same through xredird's HTTPS port, TLS
#                       verification on with a test CA (--cert-dir); none
#                       without the CA
#   08b-containerd-tls  containerd 1.6 in the client namespace pulls the
#                       image through the HTTPS redirect, the CA in its
#                       hosts.toml; none without it
#   09-status-restart   a daemon's status shows nothing of a previous one's
#                       config reload
#   10-torn-target-write  a target writer killed between the halves of its
#                       write (sequence left odd, written with bpftool):
#                       requests keep the previous targets, `target list`
#                       says so, the next change repairs it (a whole slot
#                       kept, a torn one cleared)
#   11-reload-all-or-nothing  a config file that fails part way (its 5th new
#                       target finds no free slot) changes no target and
#                       no rule (lists and answers as before), is reported;
#                       a file that fits then applies whole
#   12-service-addresses  a "pod" namespace routed through the server, with
#                       its own server on the port: its traffic reaches it
#                       while xredird runs (passed, counted pass_not_vip),
#                       the server's own address gets the 302; broadcast,
#                       multicast and foreign-MAC SYNs get no answer and
#                       are counted; vip add/del/list and status; an
#                       address added to the interface is followed;
#                       --vip any serves the pod's address as before
#   13-abi-and-partial-status  pins of another ABI version (written with
#                       bpftool) are refused by every command, naming both
#                       versions; `status` with the rules unreadable (a
#                       program pinned in the active trie's place) prints
#                       the rest, names the rules, exits 1
#
# Topology XR_CTL_TOPO (default xrctl). Run by tests/e2e/run.sh control.
SUITE_TOPO=${XR_CTL_TOPO:-xrctl}
PYDIR=$E2E_ROOT/tests/e2e
SRV4=10.77.0.1
SRV6=fd77::1

# ---- helpers ----

ctl() { "$XREDIRCTL" --bpffs "$XR_BPFFS" --iface "$XR_SRV_IF" "$@"; }

ms_now() { date +%s%3N; }

# xc_start [ARGS]: xredird with ARGS only (no --match-ip) on the pins in
# place; a target may answer with any redirect status.
xc_start() { d_start -k -c '[23]0?' -u "http://$SRV4:$PORT/ready" "$@"; }

# xc_fresh: no daemon, no pins: the next start creates empty maps.
xc_fresh() {
	if [ -n "$D_PID" ]; then
		d_stop 10 || return 1
	fi
	rm -rf "${XR_BPFFS:?}/xredir/$XR_SRV_IF"
}

# url SRC PATH: the URL of PATH on the server, in SRC's family.
url() {
	case "$1" in
	*:*) echo "http://[$SRV6]:$PORT$2" ;;
	*) echo "http://$SRV4:$PORT$2" ;;
	esac
}

# answer SRC PATH [CURL-ARGS]: "STATUS LOCATION" of a GET from SRC.
answer() {
	local src=$1 path=$2
	shift 2
	cli curl -sS -g -m 5 -o /dev/null -w '%{http_code} %header{location}' \
		--interface "$src" "$@" "$(url "$src" "$path")" 2>&1
}

# expect SRC PATH WANT [CURL-ARGS]: the answer must be WANT.
expect() {
	local src=$1 path=$2 want=$3 got
	shift 3
	got=$(answer "$src" "$path" "$@")
	echo "from $src $path $*: $got" >&2
	[ "$got" = "$want" ] && return 0
	why "from $src $path${*:+ ($*)}: got '$got', want '$want'"
	return 1
}

# wait_answer SECS SRC PATH WANT: polls until the answer is WANT; prints the
# time it took (ms).
wait_answer() {
	local secs=$1 src=$2 path=$3 want=$4 t0 got
	t0=$(ms_now)
	while :; do
		got=$(answer "$src" "$path")
		if [ "$got" = "$want" ]; then
			echo $(($(ms_now) - t0))
			return 0
		fi
		if [ $(($(ms_now) - t0)) -gt $((secs * 1000)) ]; then
			why "from $src after ${secs}s: got '$got', want '$want'"
			return 1
		fi
		sleep 0.05
	done
}

# CLI checks that go on after a failure: each failure is counted and shown.
CHK_FAIL=0
CHK_N=0
CHK_FIRST=
chk_fail() {
	CHK_FAIL=$((CHK_FAIL + 1))
	[ -n "$CHK_FIRST" ] || CHK_FIRST=$1
	echo "CHECK FAILED: $1" >&2
}

# cli_err RC PATTERN CMD...: CMD (xredirctl arguments after the instance
# options, or a full command line after "--") exits RC and its stderr has
# PATTERN (fixed string).
cli_err() {
	local rc=$1 pat=$2 out got
	shift 2
	CHK_N=$((CHK_N + 1))
	if [ "$1" = -- ]; then
		shift
		out=$("$@" 2>&1 >/dev/null)
	else
		out=$(ctl "$@" 2>&1 >/dev/null)
	fi
	got=$?
	printf '$ %s\n  -> exit %s: %s\n' "$*" "$got" "$out" >&2
	if [ "$got" != "$rc" ]; then
		chk_fail "'$*': exit $got, want $rc ($out)"
	elif [[ "$out" != *"$pat"* ]]; then
		chk_fail "'$*': message '$out' lacks '$pat'"
	fi
}

# cli_ok PATTERN CMD...: CMD (a full command line) exits 0, prints nothing
# on stderr, and its stdout has PATTERN (fixed string).
cli_ok() {
	local pat=$1 out err got
	shift
	CHK_N=$((CHK_N + 1))
	err=$("$@" 2>&1 >"$E2E_WORK/cli_ok.out")
	got=$?
	out=$(cat "$E2E_WORK/cli_ok.out")
	printf '$ %s\n  -> exit %s: %s\n' "$*" "$got" "$(head -n 1 <<<"$out")" >&2
	if [ "$got" != 0 ] || [ -n "$err" ]; then
		chk_fail "'$*': exit $got, want 0 ($err)"
	elif [[ "$out" != *"$pat"* ]]; then
		chk_fail "'$*': output '$out' lacks '$pat'"
	fi
}

chk() { # chk DESCRIPTION CONDITION-COMMAND...
	local d=$1
	shift
	CHK_N=$((CHK_N + 1))
	"$@" || chk_fail "$d"
}

chk_reset() {
	CHK_FAIL=0
	CHK_N=0
	CHK_FIRST=
}

chk_result() { # chk_result SUMMARY
	if [ "$CHK_FAIL" != 0 ]; then
		why "$CHK_FAIL of $CHK_N checks failed, first: $CHK_FIRST"
		return 1
	fi
	echo "$CHK_N checks: $1"
}

no_target() { ! ctl target list | grep -q "^$1 "; }
status_has() { ctl status | grep -q "$1"; }
rule_count() { [ "$(ctl rule list | wc -l)" = "$1" ]; }

# ---- 01: longest prefix at scale ----

test_01_lpm_30k() {
	need curl "$PYTHON" || return 1
	local w=$E2E_WORK/t01 i t0 t1 load_ms out n a t want got bad=0 checked=0
	mkdir -p "$w"
	xc_fresh && xc_start || return 1
	for i in $(seq 0 9); do
		ctl target set "t$i" "http://t$i.test" || { why "target set t$i failed"; return 1; }
	done
	ctl target set default http://dflt.test || return 1
	"$PYTHON" "$PYDIR/control_lpm.py" gen --rules "$w/rules" \
		--addrs "$w/addrs" >&2 || { why "gen failed"; return 1; }
	t0=$(ms_now)
	out=$(ctl rule load "$w/rules" 2>&1)
	n=$?
	t1=$(ms_now)
	load_ms=$((t1 - t0))
	echo "rule load: exit $n, ${load_ms} ms wall: $out" >&2
	[ "$n" = 0 ] || { why "rule load failed: $out"; return 1; }
	[[ "$out" =~ ^loaded\ 30000\ rules\ \(20000\ IPv4,\ 10000\ IPv6\)\ in\ [0-9]+\ ms$ ]] ||
		{ why "rule load printed '$out'"; return 1; }
	[ "$load_ms" -lt 1000 ] || { why "rule load of 30000 took ${load_ms} ms (limit 1000)"; return 1; }
	ctl status >"$w/status" || { why "status failed"; return 1; }
	grep -q '^rules: *20000 IPv4, 10000 IPv6 (0 config, 0 flag, 30000 xredirctl)$' "$w/status" ||
		{ why "status: $(grep rules: "$w/status")"; return 1; }
	# rule list holds exactly the file's rules.
	ctl rule list | awk '{ print $1, $2 }' | sort >"$w/list" || return 1
	awk '$1 == "rule" { print $2, $3 }' "$w/rules" | sort >"$w/want-list"
	cmp -s "$w/list" "$w/want-list" ||
		{ why "rule list differs from the file: $(diff "$w/list" "$w/want-list" | head -n 3 | tr '\n' ' ')"; return 1; }
	t0=$(ms_now)
	ctl rule lookup --batch - <"$w/addrs" >"$w/got" 2>"$w/lookup.err" ||
		{ why "rule lookup --batch failed: $(tail -n 1 "$w/lookup.err")"; return 1; }
	t1=$(ms_now)
	echo "rule lookup --batch of 100000: $((t1 - t0)) ms" >&2
	out=$("$PYTHON" "$PYDIR/control_lpm.py" check --rules "$w/rules" \
		--addrs "$w/addrs" --got "$w/got" --sample "$w/sample") || return 1
	echo "$out" >&2
	# Real requests from sampled sources.
	awk '{ print "addr add " $1 (index($1, ":") ? "/128 dev '"$XR_CLI_IF"' nodad" : "/32 dev '"$XR_CLI_IF"'") }' \
		"$w/sample" >"$w/ip-add"
	ip -n "$XR_CLI_NS" -batch "$w/ip-add" || { why "adding sample addresses failed"; return 1; }
	while read -r a t; do
		want="302 http://$t.test/lpm/$a"
		[ "$t" = default ] && want="302 http://dflt.test/lpm/$a"
		got=$(answer "$a" "/lpm/$a")
		checked=$((checked + 1))
		echo "from $a: $got (want $want)" >&2
		if [ "$got" != "$want" ]; then
			bad=$((bad + 1))
			[ "$bad" = 1 ] && why "from $a: got '$got', want '$want'"
		fi
	done <"$w/sample"
	sed 's/^addr add/addr del/; s/ nodad$//' "$w/ip-add" >"$w/ip-del"
	ip -n "$XR_CLI_NS" -batch "$w/ip-del" || true
	[ "$bad" = 0 ] || return 1
	local v4 v6
	v4=$(grep -vc : "$w/sample")
	v6=$(grep -c : "$w/sample")
	echo "30000 rules loaded in ${load_ms} ms; ${out%% (*}; $checked sampled sources ($v4 v4, $v6 v6) answered right"
}

# ---- 02: live changes under load ----

test_02_live_changes() {
	need wrk curl "$PYTHON" || return 1
	local w=$E2E_WORK/t02 i a vpid wpid out rc wrk_req t_wrk t_end in_wrk
	mkdir -p "$w"
	xc_fresh && xc_start || return 1
	for i in $(seq 0 9); do
		ctl target set "s$i" "http://s$i.test" || { why "target set s$i failed"; return 1; }
	done
	ctl target set default http://default.test || return 1
	for a in 10.77.1.10 10.77.1.11 10.77.1.12; do
		ip -n "$XR_CLI_NS" addr add "$a/32" dev "$XR_CLI_IF" || return 1
	done
	ip -n "$XR_CLI_NS" addr add fd77:1::10/128 dev "$XR_CLI_IF" nodad || return 1
	"$PYTHON" "$PYDIR/control_live.py" sets --dir "$w" >&2 || { why "sets failed"; return 1; }
	ctl rule load "$w/A.rules" >&2 || { why "rule load A failed"; return 1; }
	rm -f "$w/stop"
	cli "$PYTHON" "$PYDIR/control_live.py" verify --out "$w/results" \
		--stop "$w/stop" --max-seconds 40 >"$w/verify.out" 2>&1 &
	vpid=$!
	cli wrk -t1 -c20 -d10s "http://$SRV4:$PORT/wrk" >"$w/wrk.out" 2>&1 &
	wpid=$!
	t_wrk=$(ms_now)
	sleep 0.3
	"$PYTHON" "$PYDIR/control_live.py" drive --ctl "$XREDIRCTL --bpffs $XR_BPFFS --iface $XR_SRV_IF" \
		--dir "$w" --log "$w/ops" >"$w/drive.out" 2>&1
	rc=$?
	t_end=$(ms_now)
	touch "$w/stop"
	in_wrk="the changes ended $(((t_end - t_wrk) / 100))00 ms into wrk's 10 s"
	echo "$in_wrk" >&2
	wait "$vpid"
	wait "$wpid"
	cat "$w/drive.out" "$w/verify.out" "$w/wrk.out" >&2
	[ "$rc" = 0 ] || { why "changes: $(tail -n 1 "$w/drive.out")"; return 1; }
	grep -q 'requests in' "$w/wrk.out" || { why "wrk: $(tail -n 1 "$w/wrk.out")"; return 1; }
	if grep -q 'Socket errors' "$w/wrk.out"; then
		why "wrk: $(grep 'Socket errors' "$w/wrk.out")"
		return 1
	fi
	if grep -q 'Non-2xx or 3xx' "$w/wrk.out"; then
		why "wrk: $(grep 'Non-2xx or 3xx' "$w/wrk.out")"
		return 1
	fi
	wrk_req=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$w/wrk.out")
	out=$("$PYTHON" "$PYDIR/control_live.py" check --log "$w/ops" \
		--results "$w/results" 2>"$w/check.err")
	rc=$?
	echo "$out" >&2
	cat "$w/check.err" >&2
	[ "$rc" = 0 ] || { why "$(tail -n 1 "$w/check.err")"; return 1; }
	echo "$(head -n 1 "$w/drive.out") ($in_wrk); $(head -n 1 <<<"$out"); wrk: $wrk_req requests, no errors"
}

# ---- 03: the config file ----

# write_conf FILE TARGET-OF-10.77.0.2 [LINE-7]: written in place (same inode).
write_conf() {
	cat >"$1" <<EOF
# xredir test configuration
default http://default.test
target a http://a.test
target b http://b.test 307
target c http://c.test 301
rule fd77::2/128 a
${3:-# line 7}
rule 10.77.0.2/32 $2
EOF
}

test_03_config_file() {
	need curl "$PYTHON" || return 1
	local w=$E2E_WORK/t03 c ms_a ms_b ms_c json st n
	c=$w/cm
	mkdir -p "$c/v1"
	write_conf "$c/v1/xredir.conf" a
	ln -s v1 "$c/..data"
	ln -s ..data/xredir.conf "$c/xredir.conf"
	xc_fresh && xc_start --config "$c/xredir.conf" || return 1
	expect 10.77.0.2 /c "302 http://a.test/c" || return 1
	expect fd77::2 /c "302 http://a.test/c" || return 1
	expect 10.77.0.3 /c "302 http://default.test/c" || return 1
	ctl status | grep -q "^config: *$c/xredir.conf$" || { why "status: no config path"; return 1; }
	ctl status | grep -q '^last reload: ok$' || { why "status: $(ctl status | grep reload)"; return 1; }

	# (a) the file written in place (through the links)
	write_conf "$c/xredir.conf" b
	[ -L "$c/xredir.conf" ] || { why "the link was replaced"; return 1; }
	ms_a=$(wait_answer 2 10.77.0.2 /c "307 http://b.test/c") || return 1
	# (b) a new version swapped in as Kubernetes does: ..data replaced atomically
	mkdir "$c/v2"
	write_conf "$c/v2/xredir.conf" c
	ln -sfn v2 "$c/..data_tmp" && mv -T "$c/..data_tmp" "$c/..data" || return 1
	ms_b=$(wait_answer 2 10.77.0.2 /c "301 http://c.test/c") || return 1
	# (c) an edit no watch can see (through a hard link in another
	# directory), then SIGHUP
	ln "$c/v2/xredir.conf" "$w/hardlink.conf" || return 1
	write_conf "$w/hardlink.conf" a
	sleep 1
	expect 10.77.0.2 /c "301 http://c.test/c" ||
		{ why "the hard-link edit was applied without SIGHUP"; return 1; }
	kill -HUP "$D_PID" || return 1
	ms_c=$(wait_answer 2 10.77.0.2 /c "302 http://a.test/c") || return 1
	grep -q 'msg=signal sig=HUP action=reload' "$D_LOG" || { why "no SIGHUP log line"; return 1; }

	# An invalid file (host bits at line 7) keeps the rules in force.
	n=$(ctl --json status | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["reloads"])')
	write_conf "$c/xredir.conf" b "rule 10.77.0.3/16 b"
	for _ in $(seq 40); do
		json=$(ctl --json status)
		[ "$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["reloads"])' <<<"$json")" -gt "$n" ] && break
		sleep 0.05
	done
	echo "file: $(cat -n "$c/xredir.conf" | tr '\t' ' ')" >&2
	echo "status --json: $json" >&2
	st=$(ctl status | sed -n 's/^last reload: //p')
	echo "status: $st" >&2
	[ "$st" = "failed: line 7: '10.77.0.3/16' has host bits set below /16 (did you mean 10.77.0.0/16?)" ] ||
		{ why "status says '$st'"; return 1; }
	"$PYTHON" - "$json" <<'EOF' || { why "status --json: $json"; return 1; }
import json, sys
j = json.loads(sys.argv[1])
assert j["reload_line"] == 7, j
assert j["reload"].startswith("failed: line 7: '10.77.0.3/16' has host bits"), j
assert j["running"] is True, j
EOF
	grep -q "msg=config_rejected file=$c/xredir.conf line=7 reason=\"'10.77.0.3/16' has host bits set below /16 (did you mean 10.77.0.0/16?)\"" "$D_LOG" ||
		{ why "no config_rejected log line with line 7 and the reason"; return 1; }
	sleep 0.3
	expect 10.77.0.2 /c "302 http://a.test/c" || { why "rules changed by an invalid file"; return 1; }
	expect 10.77.0.3 /c "302 http://default.test/c" || return 1
	# Fixed: applied, status ok again.
	write_conf "$c/xredir.conf" b "rule 10.77.0.0/16 c"
	wait_answer 2 10.77.0.3 /c "301 http://c.test/c" >/dev/null || return 1
	expect 10.77.0.2 /c "307 http://b.test/c" || return 1
	ctl status | grep -q '^last reload: ok$' || { why "status after the fix: $(ctl status | grep reload)"; return 1; }
	ctl --json status | grep -q '"reload":"ok","reload_line":0' ||
		{ why "status --json after the fix: $(ctl --json status)"; return 1; }
	echo "write ${ms_a} ms, ..data swap ${ms_b} ms, SIGHUP ${ms_c} ms; bad line 7 kept the rules and was reported; fix applied"
}

# ---- 04: trusted proxy ----

test_04_trusted_proxy() {
	need curl || return 1
	local xff=X-Forwarded-For: xri=X-Real-IP:
	local conf=$E2E_WORK/t04.conf
	printf '%s\n' "default http://dflt.test" "target T http://t.test" \
		"target U http://u.test" "target V http://v.test" "target W http://w.test" \
		"rule 192.0.2.0/24 T" "rule 198.51.100.0/24 U" "rule 10.77.0.3/32 V" \
		"rule 2001:db8:77::/48 W" >"$conf"
	xc_fresh && xc_start --trust-proxy 10.77.0.2/32 --config "$conf" || return 1
	expect 10.77.0.2 /p "302 http://dflt.test/p" || return 1
	expect 10.77.0.2 /p "302 http://t.test/p" -H "$xff 192.0.2.7" || return 1
	expect 10.77.0.3 /p "302 http://v.test/p" -H "$xff 192.0.2.7" || return 1
	expect fd77::2 /p "302 http://dflt.test/p" -H "$xff 192.0.2.7" || return 1
	expect 10.77.0.2 /p "302 http://t.test/p" -H "$xff 192.0.2.7, 10.77.0.2" || return 1
	expect 10.77.0.2 /p "302 http://u.test/p" -H "$xff 192.0.2.7, 198.51.100.9" || return 1
	expect 10.77.0.2 /p "302 http://t.test/p" -H "$xff 192.0.2.7" -H "$xff 10.77.0.2" || return 1
	expect 10.77.0.2 /p "302 http://w.test/p" -H "$xff [2001:db8:77::5]" || return 1
	expect 10.77.0.2 /p "302 http://w.test/p" -H "$xff 2001:db8:77::5" || return 1
	expect 10.77.0.2 /p "302 http://dflt.test/p" -H "$xff 192.0.2.7, garbage" || return 1
	expect 10.77.0.2 /p "302 http://dflt.test/p" -H "$xri 192.0.2.7" || return 1
	# X-Real-IP mode
	d_stop 10 || return 1
	xc_start --trust-proxy 10.77.0.2/32 --client-ip-header X-Real-IP --config "$conf" || return 1
	expect 10.77.0.2 /p "302 http://t.test/p" -H "$xri 192.0.2.7" || return 1
	expect 10.77.0.2 /p "302 http://t.test/p" -H "$xri 192.0.2.7" -H "$xff 198.51.100.9" || return 1
	expect 10.77.0.2 /p "302 http://dflt.test/p" -H "$xff 198.51.100.9" || return 1
	expect 10.77.0.2 /p "302 http://dflt.test/p" -H "$xri 192.0.2.7" -H "$xri 198.51.100.9" || return 1
	expect 10.77.0.3 /p "302 http://v.test/p" -H "$xri 192.0.2.7" || return 1
	expect 10.77.0.2 /p "302 http://w.test/p" -H "$xri 2001:db8:77::9" || return 1
	# Bad flags are refused at start.
	local out rc
	out=$(srv "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" --trust-proxy 10.77.0.2/8 2>&1)
	rc=$?
	[ "$rc" = 2 ] && [[ "$out" == *"--trust-proxy: '10.77.0.2/8' has host bits set below /8 (did you mean 10.0.0.0/8?)"* ]] ||
		{ why "--trust-proxy 10.77.0.2/8: exit $rc: $out"; return 1; }
	out=$(srv "$XREDIRD" --iface "$XR_SRV_IF" --bpffs "$XR_BPFFS" --trust-proxy 10.77.0.2 --client-ip-header Forwarded 2>&1)
	rc=$?
	[ "$rc" = 2 ] && [[ "$out" == *"invalid value 'Forwarded' for --client-ip-header"* ]] ||
		{ why "--client-ip-header Forwarded: exit $rc: $out"; return 1; }
	echo "X-Forwarded-For from the trusted proxy decides (chains, right-most untrusted, IPv6), ignored from others; X-Real-IP mode"
}

# ---- 05: CLI errors ----

test_05_cli_errors() {
	need flock setpriv "$PYTHON" || return 1
	local w=$E2E_WORK/t05 i pids rc t0 t1 out unpriv bin ver nod
	mkdir -p "$w"
	chk_reset
	xc_fresh && xc_start || return 1
	ctl target set t1 http://t1.test && ctl target set t2 http://t2.test &&
		ctl rule add 10.0.0.0/8 t1 || { why "setup failed"; return 1; }

	# Malformed prefixes and addresses, host bits.
	cli_err 2 "'10.0.0.0/33': the prefix length must be 0..32" rule add 10.0.0.0/33 t1
	cli_err 2 "'fd00::/129': the prefix length must be 0..128" rule add fd00::/129 t1
	cli_err 2 "'foo' is not an IP address or CIDR" rule add foo t1
	cli_err 2 "'10.1.2.3/16' has host bits set below /16 (did you mean 10.1.0.0/16?)" rule add 10.1.2.3/16 t1
	cli_err 2 "'fd77::1/64' has host bits set below /64 (did you mean fd77::/64?)" rule add fd77::1/64 t1
	cli_err 2 "'10.1.2.3/16' has host bits set below /16 (did you mean 10.1.0.0/16?)" match set 10.1.2.3/16
	cli_err 2 "'10.0.0.0/8' is not an IP address" rule lookup 10.0.0.0/8
	cli_err 2 "'garbage' is not an IP address or CIDR" rule del garbage
	cli_err 2 "'10.1.2.3/16' has host bits set below /16 (did you mean 10.1.0.0/16?)" rule del 10.1.2.3/16
	# Unknown target: the message lists the targets.
	cli_err 2 "unknown target 'nosuch' (targets: default, rewrite, t1, t2; add one with: xredirctl target set NAME URL)" \
		rule add 11.0.0.0/8 nosuch
	cli_err 2 "unknown target 'nosuch' (targets: default, rewrite, t1, t2;" target del nosuch
	# Target URLs and names.
	cli_err 2 "URL 'ftp://a.test' must start with http:// or https://" target set x ftp://a.test
	cli_err 2 "contains byte 0x01 at offset 14, which may not appear in a Location header" \
		target set x $'http://a.test/\x01'
	cli_err 2 "URL 'http://a.test/a b' contains byte 0x20 at offset 15" target set x 'http://a.test/a b'
	cli_err 2 "URL 'http://a.test/?q=1' contains '?' at offset 14" target set x 'http://a.test/?q=1'
	cli_err 2 "contains '#' at offset 14" target set x 'http://a.test/#f'
	cli_err 2 "has no valid host[:port]" target set x 'http://user@a.test'
	cli_err 2 "has no valid host[:port]" target set x 'http://a.test:65536'
	cli_err 2 "target name 'bad/name': use 1-31 of A-Z a-z 0-9 _ . - starting with a letter or digit" \
		target set bad/name http://a.test
	cli_err 2 "--status 304: must be 301, 302, 303, 307 or 308" target set x http://a.test --status 304
	cli_err 2 "--status 200: must be 301, 302, 303, 307 or 308" target set x --status 200 http://a.test
	cli_err 2 "target set: --status needs a value" target set x http://a.test --status
	cli_err 2 "target set: unknown option '--bogus'" target set x http://a.test --bogus
	chk "no target x after the refusals" no_target x
	# Deleting targets.
	cli_err 1 "target 't1' is used by 1 rule (e.g. 10.0.0.0/8): delete or change them first" target del t1
	cli_err 2 "the default target cannot be deleted (change it with: target set default URL)" target del default
	# Rules that are not there.
	cli_err 1 "no rule for 11.0.0.0/8" rule del 11.0.0.0/8
	cli_err 1 "no rule for fd00::/8" rule del fd00::/8
	# Pins not found.
	cli_err 1 "no xredir pins at $XR_BPFFS/xredir/nosuch0 (start xredird there, or check --iface/--bpffs)" \
		-- "$XREDIRCTL" --bpffs "$XR_BPFFS" --iface nosuch0 status
	cli_err 1 "no xredir pins at $w/xredir/$XR_SRV_IF" -- "$XREDIRCTL" --bpffs "$w" --iface "$XR_SRV_IF" rule list
	cli_err 1 "no xredir instance under $w/none/xredir" -- "$XREDIRCTL" --bpffs "$w/none" status
	# Arguments are checked before the instance is looked for: with none,
	# bad input still says what is wrong (exit 2).
	nod=("$XREDIRCTL" --bpffs "$w/none")
	cli_err 2 "'10.0.0.1/8' has host bits set below /8 (did you mean 10.0.0.0/8?)" -- "${nod[@]}" rule add 10.0.0.1/8 eu
	cli_err 2 "target name 'bad/name': use 1-31" -- "${nod[@]}" rule add 10.0.0.0/8 bad/name
	cli_err 2 "'garbage' is not an IP address or CIDR" -- "${nod[@]}" rule del garbage
	cli_err 2 "'10.0.0.0/8' is not an IP address" -- "${nod[@]}" rule lookup 10.0.0.0/8
	cli_err 2 "'10.1.2.3/16' has host bits set below /16" -- "${nod[@]}" match set 10.1.2.3/16
	cli_err 2 "URL 'ftp://a.test' must start with http:// or https://" -- "${nod[@]}" target set x ftp://a.test
	cli_err 2 "target name 'bad/name': use 1-31" -- "${nod[@]}" target set bad/name http://a.test
	cli_err 2 "--status 304: must be 301, 302, 303, 307 or 308" -- "${nod[@]}" target set x http://a.test --status 304
	cli_err 2 "target name 'bad/name': use 1-31" -- "${nod[@]}" target del bad/name
	cli_err 2 "the default target cannot be deleted" -- "${nod[@]}" target del default
	cli_err 2 "unexpected argument 'x'" -- "${nod[@]}" status x
	cli_err 2 "unexpected argument 'x'" -- "${nod[@]}" rule list x
	cli_err 2 "cannot open $w/missing: No such file or directory" -- "${nod[@]}" rule load "$w/missing"
	cli_err 2 "usage: rule add CIDR TARGET" -- "${nod[@]}" rule add 10.0.0.0/8
	# Valid input goes on to look for the instance.
	cli_err 1 "no xredir instance under $w/none/xredir" -- "${nod[@]}" rule add 10.0.0.0/8 eu
	cli_err 1 "no xredir instance under $w/none/xredir" -- "${nod[@]}" match clear
	# Help and version need no instance either, and exit 0.
	cli_ok "usage: xredirctl rule COMMAND" "${nod[@]}" rule --help
	cli_ok "  rule add CIDR TARGET" "${nod[@]}" rule --help
	cli_ok "  match set ADDR[/LEN]" "${nod[@]}" match --help
	cli_ok "  target del NAME" "${nod[@]}" target -h
	cli_ok "usage: xredirctl rule add CIDR TARGET" "${nod[@]}" rule add --help
	cli_ok "usage: xredirctl status" "${nod[@]}" status --help
	cli_ok "usage: xredirctl [--iface IFACE" "${nod[@]}" --help
	cli_ok "--version" "${nod[@]}" --help
	ver=$("$XREDIRD" --version)
	# One line, "xredird " and one word: git describe, or "unknown".
	chk "xredird --version is 'xredird VERSION' ($ver)" grep -Eqx 'xredird [!-~]+' <<<"$ver"
	cli_ok "$ver" "$XREDIRD" --version
	cli_ok "xredirctl ${ver#xredird }" "${nod[@]}" --version
	cli_ok "xredirctl ${ver#xredird }" "${nod[@]}" version
	chk "xredirctl --version prints one line" test "$("$XREDIRCTL" --version)" = "xredirctl ${ver#xredird }"
	cli_err 2 "unexpected argument 'x'" -- "${nod[@]}" version x
	# Usage.
	cli_err 2 "unknown command 'bogus' (see xredirctl --help)" bogus
	cli_err 2 "unknown command 'rule frob'; rule commands:" rule frob
	cli_err 2 "usage: rule add CIDR TARGET" rule add
	cli_err 2 "usage: rule add CIDR TARGET" rule add 10.0.0.0/8
	cli_err 2 "usage: rule add CIDR TARGET" rule add 10.0.0.0/8 t1 extra
	cli_err 2 "usage: rule del CIDR" rule del
	cli_err 2 "usage: rule load FILE" rule load
	cli_err 2 "usage: rule lookup ADDR" rule lookup
	cli_err 2 "usage: target set NAME URL [--status N]" target set x
	cli_err 2 "usage: target del NAME" target del
	cli_err 2 "usage: match set ADDR[/LEN]" match set
	cli_err 2 "usage: xredirctl" -- "$XREDIRCTL"
	# rule load: the file and line of the first error; nothing changes.
	printf 'rule 12.0.0.0/8 t1\nrule 13.0.0.0/8 t2\nrule 14.0.0.1/8 t1\n' >"$w/bad1"
	cli_err 2 "$w/bad1:3: '14.0.0.1/8' has host bits set below /8 (did you mean 14.0.0.0/8?)" rule load "$w/bad1"
	printf '# c\nrule 12.0.0.0/8 nosuch\n' >"$w/bad2"
	cli_err 2 "$w/bad2:2: unknown target 'nosuch'" rule load "$w/bad2"
	printf 'target x http://x.test\n' >"$w/bad3"
	cli_err 2 "$w/bad3:1: 'target' line in a rules file" rule load "$w/bad3"
	printf 'rule 12.0.0.0/8 t1\nrule 12.0.0.0/8 t2\n' >"$w/bad4"
	cli_err 2 "$w/bad4:2: duplicate rule for 12.0.0.0/8 (first at line 1)" rule load "$w/bad4"
	cli_err 2 "cannot open $w/missing: No such file or directory" rule load "$w/missing"
	chk "rules unchanged by failed loads" test "$(ctl rule list | awk '{print $1 "=" $2}' | tr '\n' ' ')" = "10.0.0.0/8=t1 "
	# rule lookup --batch: bad lines reported with file:line, others answered.
	printf '10.1.2.3\nnot-an-address\n# comment\n\nfd00::1\n' >"$w/batch"
	cli_err 2 "$w/batch:2: 'not-an-address' is not an IP address" rule lookup --batch "$w/batch"
	chk "batch lookup answers the good lines" test "$(ctl rule lookup --batch "$w/batch" 2>/dev/null | tr '\n' ' ')" = "10.1.2.3 t1 10.0.0.0/8 fd00::1 default - "

	# Permission: an unprivileged user cannot open the maps.
	unpriv=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	bin=$(mktemp -d /tmp/xrctl-bin.XXXXXX)
	cp "$XREDIRCTL" "$bin/xredirctl" && chmod 755 "$bin" "$bin/xredirctl"
	cli_err 1 "permission denied opening the maps in $XR_BPFFS/xredir/$XR_SRV_IF: run as root" \
		-- "${unpriv[@]}" "$bin/xredirctl" --bpffs "$XR_BPFFS" --iface "$XR_SRV_IF" status
	cli_err 1 "permission denied" -- "${unpriv[@]}" "$bin/xredirctl" --bpffs "$XR_BPFFS" --iface "$XR_SRV_IF" rule add 12.0.0.0/8 t1
	cli_err 1 "permission denied" -- "${unpriv[@]}" "$bin/xredirctl" --bpffs "$XR_BPFFS" status
	rm -rf "$bin"

	# Map full: 65,536 IPv4 rules, then one more.
	"$PYTHON" -c '
for i in range(65535):
    print("rule 20.%d.%d.0/24 t2" % (i >> 8, i & 255))
print("rule 10.0.0.0/8 t1")' >"$w/full"
	t0=$(ms_now)
	out=$(ctl rule load "$w/full" 2>&1)
	rc=$?
	t1=$(ms_now)
	echo "load of 65536 rules: exit $rc, $((t1 - t0)) ms: $out" >&2
	chk "rule load of 65536 IPv4 rules succeeds ($out)" test "$rc" = 0
	cli_err 1 "rule table full: at most 65536 IPv4 rules" rule add 11.0.0.0/8 t1
	chk "replacing a rule in a full table works" ctl rule add 20.0.0.0/24 t1
	chk "IPv6 rules still fit" ctl rule add fd00::/8 t1
	chk "status counts 65536 IPv4 rules" status_has '^rules: *65536 IPv4, 1 IPv6 (0 config, 0 flag, 65537 xredirctl)$'
	echo "rule 11.0.0.0/8 t1" >>"$w/full"
	cli_err 2 "$w/full:65537: more than 65536 IPv4 rules" rule load "$w/full"
	chk "a refused load changes nothing" rule_count 65537
	ctl rule load /dev/null >/dev/null || chk_fail "rule load of an empty file"
	ctl rule add 10.0.0.0/8 t1 || chk_fail "rule add after emptying"

	# The target table: 256 slots, the default's included.
	for i in $(seq 1 300); do
		ctl target set "fill$i" "http://fill$i.test" 2>"$w/fill.err" || break
	done
	cli_err 1 "target table full (256 targets)" target set one-more http://x.test
	chk "256 targets after filling ($(ctl target list | tail -n +2 | wc -l))" test "$(ctl target list | tail -n +2 | wc -l)" = 256
	chk "changing a target in a full table works" ctl target set fill1 http://fill1b.test --status 308
	for i in $(seq 1 300); do
		ctl target del "fill$i" 2>/dev/null || true
	done
	# match needs the 'rewrite' target.
	ctl target del rewrite || chk_fail "target del rewrite"
	cli_err 1 "no 'rewrite' target (create it: xredirctl target set rewrite URL)" match set 10.77.0.3

	# Concurrent writers are serialised: 20 at once, all succeed.
	pids=()
	for i in $(seq 1 20); do
		ctl rule add "10.200.$i.0/24" "t$((i % 2 + 1))" 2>"$w/par$i.err" &
		pids+=($!)
	done
	rc=0
	for i in "${pids[@]}"; do wait "$i" || rc=$((rc + 1)); done
	chk "20 parallel rule adds succeed ($rc failed: $(cat "$w"/par*.err))" test "$rc" = 0
	chk "all 20 parallel rules exist" test "$(ctl rule list | grep -c '^10\.200\.')" = 20
	pids=()
	for i in $(seq 1 10); do
		ctl target set "p$i" "http://p$i.test" 2>"$w/tpar$i.err" &
		pids+=($!)
	done
	rc=0
	for i in "${pids[@]}"; do wait "$i" || rc=$((rc + 1)); done
	chk "10 parallel target sets succeed" test "$rc" = 0
	chk "10 distinct new targets" test "$(ctl target list | grep -c '^p[0-9]')" = 10
	# The lock: held by this shell (flock on the pin directory), the CLI
	# waits, then goes on when it is released...
	local lfd unlocker pindir=$XR_BPFFS/xredir/$XR_SRV_IF
	exec {lfd}<"$pindir"
	flock -x "$lfd"
	(sleep 1.5 && flock -u "$lfd") &
	unlocker=$!
	t0=$(ms_now)
	ctl rule add 10.201.0.0/16 t1 2>&1
	rc=$?
	t1=$(ms_now)
	wait "$unlocker"
	echo "rule add under a lock released after 1.5 s: exit $rc after $((t1 - t0)) ms" >&2
	chk "rule add waits for the lock ($((t1 - t0)) ms) and succeeds ($rc)" test "$rc" = 0 -a $((t1 - t0)) -ge 1400
	chk "the rule added after the wait exists" status_has '^rules: *22 IPv4'
	# ... or gives up after 10 s and says why; readers need no lock.
	flock -x "$lfd"
	t0=$(ms_now)
	ctl rule list >/dev/null && ctl status >/dev/null && ctl target list >/dev/null &&
		ctl rule lookup 10.1.2.3 >/dev/null || chk_fail "read-only commands under the lock"
	t1=$(ms_now)
	chk "read-only commands do not wait for the lock ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000
	t0=$(ms_now)
	cli_err 1 "$pindir is locked by another change (waited 10 s)" rule add 10.202.0.0/16 t1
	t1=$(ms_now)
	flock -u "$lfd"
	exec {lfd}<&-
	chk "gave up after about 10 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 9900 -a $((t1 - t0)) -le 14000
	chk "nothing was added" status_has '^rules: *22 IPv4'
	chk_result "messages and exit status of every error; map full at 65536; 20 parallel writers; lock wait and timeout"
}

# ---- 06: restart state ----

answers6() {
	local s
	for s in 10.77.0.2 10.77.0.3 fd77::2 fd77::3; do
		echo "$s $(answer "$s" /persist)"
	done
}

# rules6: `rule list` as "CIDR TARGET ORIGIN" lines, sorted.
rules6() { ctl rule list | awk '{ print $1, $2, $3 }' | sort; }

# want6 LINE...: rules6 must be exactly these lines.
want6() {
	local got
	got=$(rules6)
	[ "$got" = "$(printf '%s\n' "$@" | sort)" ] && return 0
	why "rule list: $(tr '\n' ';' <<<"$got") want $(printf '%s;' "$@")"
	return 1
}

# The flags and the config file define the state a daemon starts with;
# xredirctl changes last until the next start (or config load).
test_06_restart_state() {
	need curl || return 1
	local w=$E2E_WORK/t06 note d=https://k8s.gcr.io r=https://registry-1.docker.io
	mkdir -p "$w"
	xc_fresh && xc_start --match-ip 10.77.0.2 || return 1
	want6 "10.77.0.2/32 rewrite flag" || return 1
	# Live changes, as an operator would make them.
	ctl match set fd77::2 &&
		ctl target set p1 http://p1.test --status 301 &&
		ctl rule add 10.77.0.3/32 p1 || { why "live changes failed"; return 1; }
	want6 "fd77::2/128 rewrite xredirctl" "10.77.0.3/32 p1 xredirctl" || return 1
	answers6 >"$w/live"
	printf '%s\n' "10.77.0.2 302 $d/persist" "10.77.0.3 301 http://p1.test/persist" \
		"fd77::2 302 $r/persist" "fd77::3 302 $d/persist" | cmp -s - "$w/live" ||
		{ why "answers after the live changes: $(tr '\n' ' ' <"$w/live")"; return 1; }
	d_stop 10 || return 1
	# A change while no daemon runs is accepted, and says it will not last.
	note=$(ctl rule add fd77::3/128 p1 2>&1) || { why "change while stopped: $note"; return 1; }
	grep -q "note: xredird is not running; its next start replaces the rules, targets and service addresses with its flags and config file" <<<"$note" ||
		{ why "no note for a change while stopped: '$note'"; return 1; }
	# The operator rolls out MATCH_IP=10.77.0.3: only the flags' state.
	xc_start --match-ip 10.77.0.3 || return 1
	want6 "10.77.0.3/32 rewrite flag" || return 1
	ctl target list | grep -q '^p1 ' && { why "target p1 (xredirctl's) survived the start"; return 1; }
	answers6 >"$w/flags"
	printf '%s\n' "10.77.0.2 302 $d/persist" "10.77.0.3 302 $r/persist" \
		"fd77::2 302 $d/persist" "fd77::3 302 $d/persist" | cmp -s - "$w/flags" ||
		{ why "answers after the restart: $(tr '\n' ' ' <"$w/flags")"; return 1; }
	# A restart with no change in between: everything identical.
	ctl --json rule list >"$w/rules.json" && ctl --json target list >"$w/targets.json" || return 1
	grep -q '"origin":"flag"' "$w/rules.json" || { why "rule list --json: $(cat "$w/rules.json")"; return 1; }
	d_stop 10 && xc_start --match-ip 10.77.0.3 || return 1
	ctl --json rule list | cmp -s - "$w/rules.json" && ctl --json target list | cmp -s - "$w/targets.json" ||
		{ why "lists differ after a plain restart"; return 1; }
	# With a config file: its rules (by line) and the flags'; a live
	# rule lasts until the next start.
	write_conf "$w/xredir.conf" b
	d_stop 10 && xc_start --config "$w/xredir.conf" --match-ip 10.77.0.3 || return 1
	want6 "fd77::2/128 a config:6" "10.77.0.2/32 b config:8" "10.77.0.3/32 rewrite flag" || return 1
	ctl rule add fd77::3/128 c || return 1
	want6 "fd77::2/128 a config:6" "10.77.0.2/32 b config:8" "10.77.0.3/32 rewrite flag" \
		"fd77::3/128 c xredirctl" || return 1
	ctl status | grep -q '^rules: *2 IPv4, 2 IPv6 (2 config, 1 flag, 1 xredirctl)$' ||
		{ why "status: $(ctl status | grep '^rules:')"; return 1; }
	ctl --json status | grep -q '"rules_by_origin":{"config":2,"flag":1,"xredirctl":1}' ||
		{ why "status --json: $(ctl --json status)"; return 1; }
	d_stop 10 && xc_start --config "$w/xredir.conf" --match-ip 10.77.0.3 || return 1
	want6 "fd77::2/128 a config:6" "10.77.0.2/32 b config:8" "10.77.0.3/32 rewrite flag" || return 1
	answers6 >"$w/config"
	printf '%s\n' "10.77.0.2 307 http://b.test/persist" "10.77.0.3 302 $r/persist" \
		"fd77::2 302 http://a.test/persist" "fd77::3 302 http://default.test/persist" | cmp -s - "$w/config" ||
		{ why "answers with the config: $(tr '\n' ' ' <"$w/config")"; return 1; }
	# A file that does not load at start: the pins keep the last good state.
	echo "rule 10.77.0.3/16 b" >>"$w/xredir.conf"
	d_stop 10 && xc_start --config "$w/xredir.conf" --match-ip 10.77.0.2 || return 1
	want6 "fd77::2/128 a config:6" "10.77.0.2/32 b config:8" "10.77.0.3/32 rewrite flag" || return 1
	ctl status | grep -q '^last reload: failed: line 9: ' || { why "status: $(ctl status | grep reload)"; return 1; }
	echo "MATCH_IP 10.77.0.2 -> 10.77.0.3 over live changes: only 10.77.0.3 (flag); config rules by line; live changes gone at the next start, with a note when made while stopped; a bad file at start keeps the last good state"
}

# ---- 07: registry ping ----

test_07_registry_ping() {
	need curl "$PYTHON" || return 1
	local out
	xc_fresh && xc_start --registry-v2-ping || return 1
	ctl target set default http://reg.test || return 1
	out=$(cli "$PYTHON" "$PYDIR/control_registry.py" ping --host "$SRV4") || return 1
	cli "$PYTHON" "$PYDIR/control_registry.py" ping --host "$SRV6" >&2 || return 1
	# Without the flag, /v2/ is redirected like anything else.
	d_stop 10 && xc_start --default-target http://reg.test || return 1
	expect 10.77.0.2 /v2/ "302 http://reg.test/v2/" || return 1
	echo "$out"
}

# ---- 08: registry clients through xredird to a local registry ----

# registry_up DIR: Debian's docker-registry on $SRV4:5000 (plain HTTP),
# holding library/alpine:latest pushed from an OCI layout made here;
# REG_DIGEST is its manifest's digest. Stopped by `e2e_bg_stop registry`.
registry_up() {
	local w=$1 i
	need skopeo docker-registry "$PYTHON" || {
		why "$(cat "$E2E_WORK/.reason"): install the Debian packages skopeo docker-registry"
		return 1
	}
	mkdir -p "$w"
	"$PYTHON" "$PYDIR/control_registry.py" registry-config "$w/registry.yml" \
		--root "$w/storage" --addr "$SRV4:5000" || return 1
	e2e_bg registry srv docker-registry serve "$w/registry.yml"
	for i in $(seq 100); do
		cli curl -s -o /dev/null "http://$SRV4:5000/v2/" && break
		sleep 0.05
	done
	REG_DIGEST=$("$PYTHON" "$PYDIR/control_registry.py" oci-image "$w/oci") || return 1
	cli skopeo copy --insecure-policy --dest-tls-verify=false \
		"oci:$w/oci:latest" "docker://$SRV4:5000/library/alpine:latest" >&2 ||
		{ why "skopeo copy to the local registry failed"; return 1; }
}

# xc_tls_start DIR [ARGS]: xredird with --registry-v2-ping, HTTPS on
# $TLS_PORT with a test CA made in DIR (DIR/ca.pem), everything to the
# local registry.
TLS_PORT=10443
xc_tls_start() {
	local w=$1
	shift
	tls_test_ca "$w" || return 1
	xc_fresh && xc_start --registry-v2-ping --tls-port "$TLS_PORT" \
		--tls-cert "$w/server.pem" --tls-key "$w/server.key" "$@" || return 1
	ctl target set registry "http://$SRV4:5000" && ctl rule add 10.77.0.0/24 registry
}

test_08_skopeo() {
	local w=$E2E_WORK/t08 digest out
	xc_fresh && xc_start --registry-v2-ping || return 1
	registry_up "$w" || return 1
	digest=$REG_DIGEST
	ctl target set registry "http://$SRV4:5000" && ctl rule add 10.77.0.0/24 registry || return 1
	out=$(cli skopeo inspect --insecure-policy --tls-verify=false \
		"docker://$SRV4:$PORT/library/alpine:latest" 2>&1)
	echo "$out" >&2
	[[ "$out" == *"\"Digest\": \"$digest\""* ]] || { why "skopeo inspect: $(tail -n 1 <<<"$out")"; return 1; }
	[[ "$out" == *'"Name": "'"$SRV4:$PORT"'/library/alpine"'* ]] || { why "skopeo inspect: no Name"; return 1; }
	# The registry's own answer comes back through the redirect.
	out=$(cli skopeo inspect --insecure-policy --tls-verify=false \
		"docker://$SRV4:$PORT/library/nosuch:latest" 2>&1)
	[[ "$out" == *"manifest unknown"* ]] || { why "missing image: $out"; return 1; }
	# The requests reached the registry through redirects.
	grep -q '"GET /v2/library/alpine/manifests/latest HTTP/1.1" 200' "$E2E_WORK/registry.out" ||
		{ why "the registry saw no manifest request"; return 1; }
	e2e_bg_stop registry
	echo "skopeo inspect via xredird: digest $digest from the local registry; a missing image gets the registry's 'manifest unknown'"
}

test_08a_skopeo_tls() {
	local w=$E2E_WORK/t08a out ref
	registry_up "$w/reg" || return 1
	xc_tls_start "$w/tls" || return 1
	ref=docker://$SRV4:$TLS_PORT/library/alpine:latest
	# The CA as skopeo takes it for one registry: *.crt in --cert-dir.
	mkdir -p "$w/certs" "$w/nocerts"
	cp "$w/tls/ca.pem" "$w/certs/ca.crt"
	out=$(cli skopeo inspect --insecure-policy --tls-verify=true --cert-dir "$w/certs" "$ref" 2>&1)
	echo "$out" >&2
	[[ "$out" == *"\"Digest\": \"$REG_DIGEST\""* ]] || { why "skopeo inspect over HTTPS: $(tail -n 1 <<<"$out")"; return 1; }
	[[ "$out" == *'"Name": "'"$SRV4:$TLS_PORT"'/library/alpine"'* ]] || { why "skopeo inspect: no Name"; return 1; }
	grep -q '"GET /v2/library/alpine/manifests/latest HTTP/1.1" 200' "$E2E_WORK/registry.out" ||
		{ why "the registry saw no manifest request"; return 1; }
	# Verification is on: without the CA the certificate is refused.
	out=$(cli skopeo inspect --insecure-policy --tls-verify=true --cert-dir "$w/nocerts" "$ref" 2>&1) &&
		{ why "skopeo inspect succeeded without the CA"; return 1; }
	echo "$out" >&2
	[[ "$out" == *"certificate signed by unknown authority"* ]] ||
		{ why "without the CA: $(tail -n 1 <<<"$out")"; return 1; }
	e2e_bg_stop registry
	echo "skopeo inspect over HTTPS to xredird (verified with the test CA via --cert-dir) redirected to the" \
		"local registry: digest $REG_DIGEST; without the CA: unknown authority"
}

# ctr_hosts DIR CA: a hosts.toml for xredird's HTTPS port, trusting CA
# (none: the system's roots only).
ctr_hosts() {
	local d=$1/$SRV4:$TLS_PORT
	mkdir -p "$d"
	{
		echo "server = \"https://$SRV4:$TLS_PORT\""
		echo "[host.\"https://$SRV4:$TLS_PORT\"]"
		echo '  capabilities = ["pull", "resolve"]'
		[ -z "$2" ] || echo "  ca = \"$2\""
	} >"$d/hosts.toml"
}

test_08b_containerd_tls() {
	need containerd ctr || {
		why "$(cat "$E2E_WORK/.reason"): install the Debian package containerd"
		return 1
	}
	local w=$E2E_WORK/t08b sock out i ref
	registry_up "$w/reg" || return 1
	xc_tls_start "$w/tls" || return 1
	# A containerd of its own in the client namespace: own root, state and
	# socket, no CRI.
	sock=$w/containerd.sock
	cat >"$w/config.toml" <<-EOF
		version = 2
		root = "$w/root"
		state = "$w/state"
		[grpc]
		  address = "$sock"
		[plugins."io.containerd.grpc.v1.cri"]
		  disable = true
	EOF
	e2e_bg containerd cli containerd --config "$w/config.toml"
	for i in $(seq 200); do
		cli ctr -a "$sock" version >/dev/null 2>&1 && break
		kill -0 "$E2E_BG_PID" 2>/dev/null || { why "containerd exited: $(tail -n 1 "$E2E_WORK/containerd.out")"; return 1; }
		sleep 0.05
	done
	[ "$i" -lt 200 ] || { why "containerd not answering on $sock"; return 1; }
	ref=$SRV4:$TLS_PORT/library/alpine:latest
	ctr_hosts "$w/hosts" "$w/tls/ca.pem"
	out=$(cli ctr -a "$sock" -n xredir images pull --hosts-dir "$w/hosts" "$ref" 2>&1)
	local rc=$?
	echo "$out" >&2
	[ "$rc" = 0 ] || { why "ctr images pull over HTTPS: $(tail -n 1 <<<"$out")"; return 1; }
	out=$(cli ctr -a "$sock" -n xredir images ls 2>&1)
	echo "$out" >&2
	grep -q "^$ref .*$REG_DIGEST" <<<"$out" || { why "images ls: no $ref at $REG_DIGEST"; return 1; }
	# containerd knew only xredird's address: the registry saw it after
	# the redirects.
	grep -q "\"GET /v2/library/alpine/manifests/$REG_DIGEST HTTP/1.1\" 200 .*\"containerd/" \
		"$E2E_WORK/registry.out" || { why "the registry saw no manifest request from containerd"; return 1; }
	# The CA is what let it through: a hosts.toml without it fails.
	cli ctr -a "$sock" -n xredir images rm "$ref" >&2 || return 1
	ctr_hosts "$w/nohosts" ""
	out=$(cli ctr -a "$sock" -n xredir images pull --hosts-dir "$w/nohosts" "$ref" 2>&1) &&
		{ why "ctr images pull succeeded without the CA"; return 1; }
	echo "$out" >&2
	[[ "$out" == *"certificate signed by unknown authority"* ]] ||
		{ why "without the CA: $(tail -n 1 <<<"$out")"; return 1; }
	e2e_bg_stop containerd
	e2e_bg_stop registry
	echo "containerd $(containerd --version | awk '{ print $3 }') pulled $ref ($REG_DIGEST) through xredird's" \
		"HTTPS redirect, the test CA in hosts.toml; without it: unknown authority"
}

# ---- 09: status across restarts ----

test_09_status_restart() {
	need curl "$PYTHON" || return 1
	local w=$E2E_WORK/t09 json
	mkdir -p "$w"
	write_conf "$w/xredir.conf" a
	xc_fresh && xc_start --config "$w/xredir.conf" || return 1
	write_conf "$w/xredir.conf" b "rule 10.77.0.3/16 b"
	for _ in $(seq 40); do
		ctl status | grep -q '^last reload: failed: line 7:' && break
		sleep 0.05
	done
	ctl --json status | grep -q '"reload_line":7' || { why "no failed reload: $(ctl --json status)"; return 1; }
	# The next daemon has no config file: nothing of the last one's reload
	# result may show.
	d_stop 10 && xc_start || return 1
	json=$(ctl --json status)
	echo "$json" >&2
	"$PYTHON" - "$json" <<'EOF' || { why "status of a daemon without --config after one whose reload failed: $json"; return 1; }
import json, sys
j = json.loads(sys.argv[1])
assert j["running"] is True, j
assert j["config"] == "", j
assert j["reload"] == "none", j
assert j["reload_line"] == 0, j
EOF
	ctl status | grep -q '^last reload: none$' && ctl status | grep -q '^config: *-$' ||
		{ why "status: $(ctl status | tail -n 2 | tr '\n' ' ')"; return 1; }
	echo "a restarted daemon without --config shows no stale reload result"
}

# ---- 10: a target writer that died half-way ----

# die_mid_write NAME URL STATUS: what a writer killed between the halves of
# its write of target NAME leaves, made with bpftool on the pins: the
# sequence odd and NAME's slot holding NAME, URL and STATUS (0: torn, with
# no length or status yet).
die_mid_write() {
	"$PYTHON" - "$XR_BPFFS/xredir/$XR_SRV_IF" "$@" <<'EOF'
import struct, sys
from bpfmap import KEY0, as_key, bpftool, lookup, raw, update

pins, name, url, status = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), int(sys.argv[4])
ctl_map, targets = ("pinned", pins + "/xr_ctl"), ("pinned", pins + "/xr_targets")

ctl = raw(lookup(ctl_map))
idx = None
for e in bpftool("map", "dump", *targets):
    if raw(e)[:32].split(b"\0")[0] == name:
        idx = raw(e, "key")
assert idx is not None, "no target %s" % name
seq = struct.unpack_from("<I", ctl, 4)[0] | 1
update(ctl_map, KEY0, ctl[:4] + struct.pack("<I", seq) + ctl[8:])
slot = name.ljust(32, b"\0") + url.ljust(256, b"\0") + struct.pack(
    "<HHI", len(url) if status else 0, status, 0)
update(targets, as_key(idx), slot)
print("targets_seq %d, slot %d" % (seq, struct.unpack("<I", idx)[0]))
EOF
}

test_10_torn_target_write() {
	need curl bpftool "$PYTHON" || return 1
	local i out
	chk_reset
	xc_fresh && xc_start || return 1
	ctl target set one http://one.test && ctl rule add 10.77.0.2 one || { why "setup failed"; return 1; }
	wait_answer 2 10.77.0.2 /t "302 http://one.test/t" >/dev/null || return 1
	# Killed after its slot, before ending the sequence: readers keep the
	# copy they hold (and do not spin: every answer comes at once).
	out=$(die_mid_write one http://two.test 302) || { why "bpftool: $out"; return 1; }
	echo "left odd: $out" >&2
	for i in 1 2 3 4 5; do
		chk "answer $i while odd" expect 10.77.0.2 /t "302 http://one.test/t"
	done
	chk "xredird alive while odd" d_alive
	cli_err 1 "a change died half-way (any target or rule change repairs that)" target list
	# The next writer repairs: the whole slot is kept, the sequence even.
	out=$(ctl target set three http://three.test 2>&1)
	echo "target set three: $out" >&2
	chk "repair note: $out" grep -q 'died half-way; repaired (0 torn targets cleared)' <<<"$out"
	chk "completed write served" wait_answer 2 10.77.0.2 /t "302 http://two.test/t"
	chk "list after the repair" eval 'ctl target list | grep -q "^one .*http://two.test$"'
	chk "three listed" eval 'ctl target list | grep -q "^three .*http://three.test$"'
	# Killed inside the slot: the torn target is cleared by the next
	# writer, its rule then falls to the default.
	out=$(die_mid_write one http://four.test 0) || { why "bpftool: $out"; return 1; }
	chk "answer while torn" expect 10.77.0.2 /t "302 http://two.test/t"
	out=$(ctl rule add 10.77.0.3 three 2>&1)
	echo "rule add: $out" >&2
	chk "repair note: $out" grep -q 'died half-way; repaired (1 torn target cleared)' <<<"$out"
	chk "torn target gone" no_target one
	chk "default after the repair" wait_answer 2 10.77.0.2 /t "302 https://k8s.gcr.io/t"
	chk "rule added by the repairing writer" expect 10.77.0.3 /t "302 http://three.test/t"
	chk "no second repair" eval '[ -z "$(ctl target set one http://one.test 2>&1)" ]'
	chk "xredird alive" d_alive
	chk_result "odd sequence: 5 answers with the previous target, list refused; next writer repaired (whole slot kept, torn slot cleared)"
}

# ---- 11: a reload that fails part way ----

# reloads: how many reloads the daemon has made.
reloads() { ctl --json status | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["reloads"])'; }

test_11_reload_all_or_nothing() {
	need curl "$PYTHON" || return 1
	local w=$E2E_WORK/t11 i n st t0 r0 t1 r1
	mkdir -p "$w"
	chk_reset
	# 252 of the 256 slots in use: the default, a and 250 fillers.
	{
		echo "default http://default.test"
		echo "target a http://a.test"
		for i in $(seq 250); do echo "target f$i http://f$i.test"; done
		echo "rule 10.77.0.2 a"
		echo "rule fd77::2 a"
	} >"$w/xredir.conf"
	xc_fresh && xc_start --config "$w/xredir.conf" || return 1
	expect 10.77.0.2 /r "302 http://a.test/r" || return 1
	t0=$(ctl target list) && r0=$(ctl rule list) || { why "list failed"; return 1; }
	n=$(reloads)
	# Drops the fillers (removed only after its rules are in force), so
	# its 5th new target (line 7) finds no free slot: the default, a and
	# n1..n4 must not be written either.
	{
		echo "default http://default2.test"
		echo "target a http://a2.test"
		for i in $(seq 10); do echo "target n$i http://n$i.test"; done
		echo "rule 10.77.0.2 n1"
		echo "rule 10.77.0.3 a"
	} >"$w/xredir.conf"
	for _ in $(seq 100); do
		[ "$(reloads)" -gt "$n" ] && break
		sleep 0.05
	done
	st=$(ctl status | sed -n 's/^last reload: //p')
	echo "status: $st" >&2
	chk "status: $st" [ "$st" = "failed: line 7: no free target slot for 'n5' (targets the file drops are removed only after its rules are in force)" ]
	chk "config_rejected line 7 logged" grep -q "msg=config_rejected file=$w/xredir.conf line=7 reason=\"no free target slot for 'n5'" "$D_LOG"
	t1=$(ctl target list)
	r1=$(ctl rule list)
	chk "targets unchanged: $(diff <(echo "$t0") <(echo "$t1") | tr '\n' ' ')" [ "$t1" = "$t0" ]
	chk "rules unchanged: $(diff <(echo "$r0") <(echo "$r1") | tr '\n' ' ')" [ "$r1" = "$r0" ]
	chk "IPv4 a as before" expect 10.77.0.2 /r "302 http://a.test/r"
	chk "IPv6 a as before" expect fd77::2 /r "302 http://a.test/r"
	chk "default as before" expect 10.77.0.3 /r "302 http://default.test/r"
	# A file that fits is applied whole: the fillers go.
	{
		echo "default http://default2.test"
		echo "target a http://a2.test"
		echo "target n1 http://n1.test"
		echo "rule 10.77.0.2 n1"
		echo "rule 10.77.0.3 a"
	} >"$w/xredir.conf"
	chk "fixed file applied" wait_answer 2 10.77.0.2 /r "302 http://n1.test/r"
	chk "a changed" expect 10.77.0.3 /r "302 http://a2.test/r"
	chk "default changed" expect fd77::2 /r "302 http://default2.test/r"
	chk "three targets left" eval '[ "$(ctl target list | tail -n +2 | awk "{ print \$1 }" | sort | tr "\n" " ")" = "a default n1 " ]'
	chk "status ok" status_has '^last reload: ok$'
	chk_result "a file failing at line 7 (no free slot) left $(($(echo "$t0" | wc -l) - 1)) targets and $(echo "$r0" | wc -l) rules exactly as they were; the fixed file applied whole"
}

# ---- 12: only the service's addresses ----

POD_NS=$SUITE_TOPO-pod
POD_SIF=$SUITE_TOPO-p0 # the server's side
POD_IF=$SUITE_TOPO-p1
POD4=10.76.0.2
POD6=fd76::2
POD_PID=

# pod_up DIR: the pod namespace behind the server (which forwards), its
# server on the port answering /pod.txt with "pod", the client's routes to
# it via the server. Returns once the client gets the file in both
# families (neighbours resolved, before any daemon runs).
pod_up() {
	local w=$1 i
	pod_down
	ip netns add "$POD_NS" &&
		ip link add "$POD_SIF" netns "$XR_SRV_NS" type veth peer name "$POD_IF" netns "$POD_NS" &&
		srv ip addr add 10.76.0.1/24 dev "$POD_SIF" &&
		srv ip addr add fd76::1/64 dev "$POD_SIF" nodad &&
		srv ip link set "$POD_SIF" up &&
		ip -n "$POD_NS" link set lo up &&
		ip -n "$POD_NS" addr add "$POD4/24" dev "$POD_IF" &&
		ip -n "$POD_NS" addr add "$POD6/64" dev "$POD_IF" nodad &&
		ip -n "$POD_NS" link set "$POD_IF" up &&
		ip -n "$POD_NS" route add default via 10.76.0.1 &&
		ip -n "$POD_NS" -6 route add default via fd76::1 &&
		srv sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
		cli ip route add 10.76.0.0/24 via "$SRV4" &&
		cli ip -6 route add fd76::/64 via "$SRV6" || { why "pod topology failed"; return 1; }
	mkdir -p "$w/www" && echo pod >"$w/www/pod.txt"
	ip netns exec "$POD_NS" "$PYTHON" -m http.server "$PORT" --bind :: \
		--directory "$w/www" >"$w/pod.log" 2>&1 &
	POD_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(get "http://$POD4:$PORT/pod.txt" -m 1)" = "200 pod" ] &&
			[ "$(get "http://[$POD6]:$PORT/pod.txt" -m 1)" = "200 pod" ] &&
			return 0
		sleep 0.1
	done
	why "the pod's server does not answer the client: $(tail -n 2 "$w/pod.log")"
	return 1
}

pod_down() {
	if [ -n "$POD_PID" ]; then
		kill "$POD_PID" 2>/dev/null
		wait "$POD_PID" 2>/dev/null
		POD_PID=
	fi
	ip netns del "$POD_NS" 2>/dev/null
	cli ip route del 10.76.0.0/24 2>/dev/null
	cli ip -6 route del fd76::/64 2>/dev/null
	srv sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	return 0
}

# get URL [CURL-ARGS]: "STATUS BODY" of a GET from the client's own address
# (earlier tests leave addresses on the client that the server cannot route
# back to).
get() {
	local code src=$XR_CLI_IP4 url=$1
	shift
	[[ "$url" == *\[* ]] && src=$XR_CLI_IP6
	code=$(cli curl -sS -g -m 5 --interface "$src" "$@" -o "$E2E_WORK/get.body" \
		-w '%{http_code}' "$url" 2>&1)
	echo "$code $(cat "$E2E_WORK/get.body" 2>/dev/null)"
}

# get_is URL WANT: the answer must be WANT ("200 pod", or "302 " and more).
get_is() {
	local got
	got=$(get "$1")
	echo "GET $1: $got" >&2
	[[ "$got" == "$2"* ]]
}

xdp_count() { ctl stats | awk -v k="xdp_$1" '$1 == k { print $2 }'; }

# vip_listed ADDR ORIGIN: `vip list` has ADDR with ORIGIN (none: absent).
vip_listed() {
	local got
	got=$(ctl vip list | awk -v a="$1" '$1 == a { print $2 }')
	[ "$got" = "${2:-}" ]
}

# wait_vip ADDR ORIGIN: up to 5 s (the daemon looks every second).
wait_vip() {
	local i
	for ((i = 0; i < 100; i++)); do
		vip_listed "$@" && return 0
		sleep 0.05
	done
	return 1
}

t12_checks() {
	local w=$1 mac n0 n1 out json
	pod_up "$w" && xc_fresh && xc_start || return 1
	# The pod's traffic goes through the node to the pod, both families.
	n0=$(xdp_count pass_not_vip)
	chk "pod IPv4 reached" get_is "http://$POD4:$PORT/pod.txt" "200 pod"
	chk "pod IPv6 reached" get_is "http://[$POD6]:$PORT/pod.txt" "200 pod"
	chk "own IPv4 redirected" get_is "http://$SRV4:$PORT/x" "302 "
	chk "own IPv6 redirected" get_is "http://[$SRV6]:$PORT/x" "302 "
	n1=$(xdp_count pass_not_vip)
	echo "pass_not_vip $n0 -> $n1" >&2
	chk "pass_not_vip counted the pod's segments ($n0 -> $n1)" [ "$((n1 - n0))" -ge 6 ]
	# The default set: the interface's addresses, link-local included.
	ctl vip list >&2
	chk "IPv4 of the interface listed" vip_listed "$SRV4" iface
	chk "IPv6 of the interface listed" vip_listed "$SRV6" iface
	chk "link-local listed" eval 'ctl vip list | grep -q "^fe80::.* iface$"'
	chk "pod's gateway not listed" vip_listed 10.76.0.1
	chk "status lists them" eval 'ctl status | grep -q "^service: *3 addresses: $SRV4, $SRV6, fe80::"'
	json=$(ctl --json vip list)
	chk "vip list --json: $json" "$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["any"] is False
assert {"addr": sys.argv[2], "origin": "iface"} in j["addresses"]
assert len(j["addresses"]) == 3' "$json" "$SRV4"
	json=$(ctl --json status)
	chk "status --json: vips" "$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["vip_any"] is False and sys.argv[2] in j["vips"] and len(j["vips"]) == 3' "$json" "$SRV6"
	# Live: the pod's address made a service address, then not.
	cli_ok "" ctl vip add "$POD4"
	chk "vip add listed" vip_listed "$POD4" xredirctl
	chk "pod IPv4 now redirected" get_is "http://$POD4:$PORT/pod.txt" "302 "
	cli_ok "" ctl vip add "$POD4"
	cli_ok "" ctl vip del "$POD4"
	chk "vip del unlisted" vip_listed "$POD4"
	chk "pod IPv4 reached again" get_is "http://$POD4:$PORT/pod.txt" "200 pod"
	cli_err 1 "$POD4 is not a service address" vip del "$POD4"
	cli_err 2 "'10.76.0.0/24': a service address is one address, no prefix" -- \
		"$XREDIRCTL" --bpffs "$XR_BPFFS" --iface nosuch0 vip add 10.76.0.0/24
	cli_err 2 "'ff02::1' is not a unicast address" -- \
		"$XREDIRCTL" --bpffs "$XR_BPFFS" --iface nosuch0 vip del ff02::1
	cli_err 2 "usage: vip add ADDR|any" vip add
	# Broadcast, multicast and another host's MAC: no answer, counted.
	mac=$(srv cat "/sys/class/net/$XR_SRV_IF/address")
	n0=$(xdp_count pass_foreign_mac)
	out=$(cli "$PYTHON" "$PYDIR/control_l2.py" --iface "$XR_CLI_IF" \
		--src "$XR_CLI_IP4" --dst "$SRV4" --port "$PORT" --fence "$mac" \
		bcast=ff:ff:ff:ff:ff:ff mcast=01:00:5e:00:00:01 \
		foreign=02:00:00:00:00:99)
	echo "$out" >&2
	n1=$(xdp_count pass_foreign_mac)
	chk "fence answered: $out" grep -q "^fence answered$" <<<"$out"
	chk "broadcast silent" grep -q "^bcast silent$" <<<"$out"
	chk "multicast silent" grep -q "^mcast silent$" <<<"$out"
	chk "foreign MAC silent" grep -q "^foreign silent$" <<<"$out"
	chk "pass_foreign_mac +3 ($n0 -> $n1)" [ "$((n1 - n0))" = 3 ]
	# An address added to the interface later is followed.
	srv ip addr add 10.77.0.50/24 dev "$XR_SRV_IF"
	chk "added address followed" wait_vip 10.77.0.50 iface
	chk "added address redirected" get_is "http://10.77.0.50:$PORT/x" "302 "
	srv ip addr del 10.77.0.50/24 dev "$XR_SRV_IF"
	chk "removed address followed" wait_vip 10.77.0.50
	# --vip any: every address, as before (the pod's too); --vip ADDR.
	d_stop 10 && xc_start --vip any --vip 10.77.0.60 || return 1
	chk "any: pod IPv4 redirected" get_is "http://$POD4:$PORT/pod.txt" "302 "
	chk "any: status" eval 'ctl status | grep -q "^service: *any (4 addresses"'
	chk "--vip listed" vip_listed 10.77.0.60 flag
	cli_ok "" ctl vip del any
	chk "any off: pod reached" get_is "http://$POD4:$PORT/pod.txt" "200 pod"
	# The next start's flags define the set: no xredirctl leftovers.
	cli_ok "" ctl vip add 10.77.0.61
	d_stop 10 && xc_start || return 1
	chk "restart: xredirctl's address gone" vip_listed 10.77.0.61
	chk "restart: --vip's address gone" vip_listed 10.77.0.60
	chk "restart: pod reached" get_is "http://$POD4:$PORT/pod.txt" "200 pod"
}

test_12_service_addresses() {
	need curl "$PYTHON" || return 1
	local w=$E2E_WORK/t12 rc
	mkdir -p "$w"
	chk_reset
	t12_checks "$w"
	rc=$?
	pod_down
	[ "$rc" = 0 ] || return 1
	chk_result "pod traffic through the node reached the pod (IPv4, IPv6) while the node's addresses got 302; broadcast, multicast, foreign-MAC SYNs silent and counted; vip add/del/list, status, interface following, --vip any"
}

# ---- 13: pins of another ABI version; status with a part unreadable ----

# pinned_abi [VERSION]: the pinned control map's ABI version; with VERSION,
# writes it first (as a daemon of that build would have).
pinned_abi() {
	"$PYTHON" - "$XR_BPFFS/xredir/$XR_SRV_IF/xr_ctl" "$@" <<'EOF'
import struct, sys
from bpfmap import KEY0, lookup, raw, update

m = ("pinned", sys.argv[1])
ctl = raw(lookup(m))
if len(sys.argv) > 2:
    ctl = ctl[:12] + struct.pack("<I", int(sys.argv[2])) + ctl[16:]
    update(m, KEY0, ctl)
print(struct.unpack_from("<I", ctl, 12)[0])
EOF
}

t13_checks() {
	local pins=$XR_BPFFS/xredir/$XR_SRV_IF abi set trie map_id prog_id out rc cmd
	abi=$(pinned_abi) || { why "cannot read the pinned ABI version"; return 1; }
	chk "status with this build's pins" eval 'ctl status >/dev/null'
	pinned_abi $((abi - 1)) >/dev/null || { why "cannot write the ABI version"; return 1; }
	for cmd in status "rule list" "target list" "rule add 10.9.0.0/16 default" stats; do
		# shellcheck disable=SC2086 # the words of the command
		cli_err 1 "the maps pinned at $pins have ABI version $((abi - 1)), this xredirctl has ABI version $abi" $cmd
	done
	pinned_abi "$abi" >/dev/null || return 1
	chk "no rule added under another ABI" eval '! ctl rule list | grep -q 10.9.0.0/16'
	chk "status again once the version is this build's" eval 'ctl status >/dev/null'

	# The active IPv4 trie's pin replaced by the daemon's XDP program: the
	# rule dump fails (not a map), the rest of status is there.
	set=$(bpftool -j map lookup pinned "$pins/xr_ctl" key 0 0 0 0 |
		"$PYTHON" -c 'import json,sys; print(int(json.load(sys.stdin)["value"][0], 16))')
	trie=$pins/xr_rules4_$([ "$set" = 0 ] && echo a || echo b)
	map_id=$(bpftool -j map show pinned "$trie" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	prog_id=$(srv ip -j link show dev "$XR_SRV_IF" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
	[ -n "$map_id" ] && [ -n "$prog_id" ] || { why "no map or program id ($map_id, $prog_id)"; return 1; }
	rm "$trie" && bpftool prog pin id "$prog_id" "$trie" || { why "cannot pin the program at $trie"; return 1; }
	out=$(ctl status 2>"$E2E_WORK/t13.err")
	rc=$?
	printf '%s\n%s\n' "$out" "$(cat "$E2E_WORK/t13.err")" >&2
	chk "status exit 1 with the rules unreadable (got $rc)" test "$rc" = 1
	chk "status names the rules" grep -q "^xredirctl: status: reading the rules failed: " "$E2E_WORK/t13.err"
	chk "status still prints the rest" eval '[[ "$out" == *"daemon:      running"* && "$out" == *"targets:     2"* && "$out" == *"last reload: none"* ]]'
	chk "status: rules line says the origins are unreadable" eval '[[ "$out" == *"IPv6 (origins unreadable: "* ]]'
	out=$(ctl --json status 2>/dev/null)
	rc=$?
	chk "status --json exit 1 (got $rc)" test "$rc" = 1
	chk "status --json: valid, rules null, errors name the rules" "$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["running"] is True and j["rules_by_origin"] is None, j
assert "rules" in j["errors"] and "service_addresses" not in j["errors"], j
assert isinstance(j["vips"], list), j' "$out"
	rm "$trie" && bpftool map pin id "$map_id" "$trie" || { why "cannot pin the trie back"; return 1; }
	out=$(ctl --json status) || chk_fail "status after the trie is back: exit $?"
	chk "status --json: no errors once the trie is back" "$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["errors"] == {} and j["rules_by_origin"] is not None, j' "$out"
}

test_13_abi_and_partial_status() {
	need bpftool "$PYTHON" || return 1
	chk_reset
	xc_fresh && xc_start || return 1
	t13_checks || return 1
	chk_result "pins of another ABI version refused by every command with both versions named; status with the rules unreadable printed the rest, named them, exit 1 (text and --json)"
}
