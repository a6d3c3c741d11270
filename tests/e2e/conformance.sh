#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xredir's HTTP conformance tests, end to end: every entry of the parser's
# corpus (tests/unit/http_corpus.h) sent to a running xredird over TCP from
# the client namespace and its answer checked (status, headers, body,
# connection kept or closed); the same entries sent to nginx (the bench's
# geo + return 302 config, on port $NGINX_PORT: the XDP program steers only
# $PORT) and every difference in status class or connection state checked
# against tests/e2e/nginx_differences.md; HTTP/2 and TLS openings and
# binary noise; header injection through the path; bodies at and above the
# 1 MiB limit. The checks are tests/e2e/conformance.py.
#
# Entries whose `limits` ask for --methods GET,HEAD or --registry-v2-ping
# run against a daemon started with that flag.
#
# Needs root and a build (`make all`); builds only the corpus exporter
# (tests/e2e/export_corpus.c). Own topology (XR_CONF_TOPO, default xrhttp),
# always torn down on exit. One ok/FAIL line per test; exits non-zero if any
# failed; nothing is skipped. E2E_KEEP=1 keeps the work dir (logs, records).
#
# usage: tests/e2e/conformance.sh
set -u
export LC_ALL=C

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh

TOPO=${XR_CONF_TOPO:-xrhttp}
PORT=10000
NGINX_PORT=10080
CONF_PY=$E2E_ROOT/tests/e2e/conformance.py
TABLE=$E2E_ROOT/tests/e2e/nginx_differences.md
EXPORTER=$E2E_ROOT/$BUILD/tests/export_corpus
JOBS=${CONF_JOBS:-48}

TESTS=(
	01-export-corpus
	02-corpus-default
	03-not-http
	04-path-injection
	05-large-body
	06-corpus-methods
	07-corpus-v2-ping
	08-nginx-differences
)

# The daemon now running: its flags' name ("default", "get_head", ...).
XR_MODE=

# conf_py CHECK ARGS...: the checker in the client namespace.
conf_py() {
	cli timeout 90 "$PYTHON" "$CONF_PY" "$@" --host "$XR_SRV_IP4" \
		--src "$XR_CLI_IP4"
}

# daemon MODE [ARGS]: xredird started with ARGS, unless it already runs
# with them; the previous one must stop cleanly first.
daemon() {
	local mode=$1
	shift
	if [ "$XR_MODE" = "$mode" ] && xr_alive; then
		return 0
	fi
	if [ -n "$XR_PID" ]; then
		xr_stop 5 || { why "xredird ($XR_MODE) did not stop cleanly: $(cat "$E2E_WORK/.reason")"; return 1; }
	fi
	XR_MODE=
	XR_LOG=$E2E_WORK/xredird-$mode.log
	xr_start --port "$PORT" "$@" || return 1
	XR_MODE=$mode
}

# nginx_start: the bench's config, listening on $NGINX_PORT.
nginx_start() {
	local dir=$E2E_WORK/nginx i code=
	mkdir -p "$dir"
	sed -e "s|@PREFIX@|$dir|g" -e "s|@MATCH_IP@|$XR_MATCH_IP4|" \
		-e "s|@LISTEN4@|$XR_SRV_IP4|" -e "s|@LISTEN6@|$XR_SRV_IP6|" \
		-e "s|:10000 |:$NGINX_PORT |" bench/nginx.conf.in >"$dir/nginx.conf"
	grep -q ":$NGINX_PORT " "$dir/nginx.conf" ||
		{ echo "bench/nginx.conf.in has no ':10000 ' listen to move"; return 1; }
	e2e_bg nginx srv nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
	for i in $(seq 100); do
		code=$(cli curl -s -o /dev/null -m 1 -w '%{http_code}' \
			"http://$XR_SRV_IP4:$NGINX_PORT/ready" 2>/dev/null) || true
		[ "$code" = 302 ] && return 0
		kill -0 "$E2E_BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "nginx not ready (last curl: ${code:-none}): $(tail -n 1 "$E2E_WORK/nginx.out" "$dir/error.log" 2>/dev/null)"
	return 1
}

# ---- the tests ----

t_export() {
	need cc || return 1
	mkdir -p "$E2E_ROOT/$BUILD/tests"
	cc -Wall -Wextra -Werror -std=gnu11 -Iuser -Ibpf -Itests/unit \
		tests/e2e/export_corpus.c -o "$EXPORTER" >&2 ||
		{ why "export_corpus.c does not build"; return 1; }
	"$EXPORTER" >"$E2E_WORK/corpus.json" ||
		{ why "export_corpus failed"; return 1; }
	"$PYTHON" - "$E2E_WORK/corpus.json" <<'EOF' || { why "bad corpus JSON"; return 1; }
import base64, collections, json, sys
d = json.load(open(sys.argv[1]))
e = d["entries"]
assert d["count"] == len(e) > 0
assert len({x["name"] for x in e}) == len(e), "duplicate names"
for x in e:
    assert len(base64.b64decode(x["raw_b64"])) == x["len"], x["name"]
c = collections.Counter(x["limits"] for x in e)
print("%d entries (%s) exported" % (len(e), ", ".join(
    "%d %s" % (v, k) for k, v in sorted(c.items()))))
EOF
}

# t_corpus MODE [XREDIRD-ARGS]: the entries whose limits are MODE.
t_corpus() {
	local mode=$1
	shift
	[ -s "$E2E_WORK/corpus.json" ] || { why "no corpus export (01 failed)"; return 1; }
	daemon "$mode" "$@" || return 1
	[ -n "$NGINX_ERR" ] && { why "nginx: $NGINX_ERR"; return 1; }
	conf_py corpus --corpus "$E2E_WORK/corpus.json" --limits "$mode" \
		--port "$PORT" --nginx-port "$NGINX_PORT" --jobs "$JOBS" \
		--record "$E2E_WORK/record-$mode.json"
}

t_not_http() {
	daemon default || return 1
	conf_py not-http --port "$PORT" --jobs "$JOBS"
}

t_inject() {
	daemon default || return 1
	conf_py inject --port "$PORT" --jobs "$JOBS"
}

t_large() {
	daemon default || return 1
	conf_py large --port "$PORT"
}

t_nginx_diff() {
	local m args=()
	[ -n "$NGINX_ERR" ] && { why "nginx: $NGINX_ERR"; return 1; }
	for m in default get_head v2_ping; do
		[ -s "$E2E_WORK/record-$m.json" ] ||
			{ why "no observations of the $m entries (its corpus test failed to run)"; return 1; }
		args+=(--record "$E2E_WORK/record-$m.json")
	done
	"$PYTHON" "$CONF_PY" nginx-diff --corpus "$E2E_WORK/corpus.json" \
		--table "$TABLE" "${args[@]}"
}

# ---- main ----

if [ "$(id -u)" != 0 ]; then
	for t in "${TESTS[@]}"; do e2e_fail "$t" "must run as root"; done
	echo "conformance: 0 passed, ${#TESTS[@]} failed (not root)"
	exit 1
fi

mkdir -p /run/lock
exec 9>"/run/lock/xredir-e2e-$TOPO.lock"
if ! flock -w 120 9; then
	echo "conformance: another run holds /run/lock/xredir-e2e-$TOPO.lock" >&2
	exit 1
fi

e2e_init "$TOPO" || { echo "conformance: cannot read the topology" >&2; exit 1; }
T_START=$(now)
SETUP_ERR=
NGINX_ERR=

for tool in ip ethtool curl nginx "$PYTHON"; do
	command -v "$tool" >/dev/null 2>&1 || SETUP_ERR="missing tool: $tool"
done
[ -x "$XREDIRD" ] || SETUP_ERR="no $XREDIRD: build first (make all)"
# shellcheck disable=SC2119 # no arguments: the defaults
if [ -z "$SETUP_ERR" ] &&
	! e2e_topo_up >"$E2E_WORK/topology.log" 2>&1; then
	SETUP_ERR="topology up failed: $(tail -n 1 "$E2E_WORK/topology.log")"
fi
if [ -n "$SETUP_ERR" ]; then
	for t in "${TESTS[@]}"; do e2e_fail "$t" "setup: $SETUP_ERR"; done
	e2e_summary
	exit 1
fi
# Not in a subshell: e2e_bg must record nginx's pid for the cleanup.
if ! nginx_start >"$E2E_WORK/nginx-start.log" 2>&1; then
	NGINX_ERR=$(tail -n 1 "$E2E_WORK/nginx-start.log")
	NGINX_ERR=${NGINX_ERR:-did not start}
fi

e2e_test 01-export-corpus t_export
e2e_test 02-corpus-default live t_corpus default
e2e_test 03-not-http live t_not_http
e2e_test 04-path-injection live t_inject
e2e_test 05-large-body live t_large
e2e_test 06-corpus-methods live t_corpus get_head --methods GET,HEAD
e2e_test 07-corpus-v2-ping live t_corpus v2_ping --registry-v2-ping
e2e_test 08-nginx-differences t_nginx_diff

echo "conformance: $(awk "BEGIN { printf \"%.1f\", $(now) - $T_START }")s"
e2e_summary
