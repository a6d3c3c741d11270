# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # settings: read by run.sh and lib.sh
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
# Builds only the corpus exporter (tests/e2e/export_corpus.c). Topology
# XR_CONF_TOPO (default xrhttp). Run by tests/e2e/run.sh conformance.

SUITE_TOPO=${XR_CONF_TOPO:-xrhttp}
SUITE_TOOLS=(curl nginx "$PYTHON")
NGINX_PORT=10080
CONF_PY=$E2E_ROOT/tests/e2e/conformance.py
TABLE=$E2E_ROOT/tests/e2e/nginx_differences.md
EXPORTER=$E2E_ROOT/$BUILD/tests/export_corpus
JOBS=${CONF_JOBS:-48}

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
	if [ "$XR_MODE" = "$mode" ] && d_alive; then
		return 0
	fi
	if [ -n "$D_PID" ]; then
		d_stop 5 || { why "xredird ($XR_MODE) did not stop cleanly: $(cat "$E2E_WORK/.reason")"; return 1; }
	fi
	XR_MODE=
	d_start -m --port "$PORT" "$@" || return 1
	XR_MODE=$mode
}


# ---- the tests ----

test_01_export_corpus() {
	need cc || return 1
	mkdir -p "$E2E_ROOT/$BUILD/tests"
	cc -Wall -Wextra -Werror -std=gnu11 -Iuser -Iuser/core -Iuser/control -Iuser/io -Ibpf -Itests/unit \
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

test_03_not_http() {
	daemon default || return 1
	conf_py not-http --port "$PORT" --jobs "$JOBS"
}

test_04_path_injection() {
	daemon default || return 1
	conf_py inject --port "$PORT" --jobs "$JOBS"
}

test_05_large_body() {
	daemon default || return 1
	conf_py large --port "$PORT"
}

test_08_nginx_differences() {
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

# nginx failing to start fails only the tests that compare with it.
NGINX_ERR=
suite_setup() {
	# Not in a subshell: e2e_bg must record nginx's pid for the cleanup.
	if ! nginx_start >"$E2E_WORK/nginx-start.log" 2>&1; then
		NGINX_ERR=$(tail -n 1 "$E2E_WORK/nginx-start.log")
		NGINX_ERR=${NGINX_ERR:-did not start}
	fi
}

test_02_corpus_default() { t_corpus default; }
test_06_corpus_methods() { t_corpus get_head --methods GET,HEAD; }
test_07_corpus_v2_ping() { t_corpus v2_ping --registry-v2-ping; }
