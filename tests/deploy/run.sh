#!/usr/bin/env bash
# Static tests of the deployment files: deploy/kubernetes (yamllint, schema
# validation, kustomize render, the DaemonSet's security fields, the
# ConfigMap's config), deploy/Dockerfile (build stage, runtime stage and
# its libraries) and deploy/systemd/xredird.service. No cluster and no
# container engine needed. Every validator is also fed a deliberately
# broken copy, which must fail, so a validator that accepts anything is
# caught too.
#
# usage: tests/deploy/run.sh      (as root on Debian 12; installs what it
#                                  lacks with apt-get and npm ci)
#
# Prints one "ok NAME" or "FAIL NAME" line per check (failures with their
# output indented), then "N passed, N failed"; exits 1 if anything failed.
# Nothing is skipped: a missing tool is installed or its checks fail.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

HERE=tests/deploy
K8S=deploy/kubernetes
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/checks.sh
. tests/checks.sh

# lines CMD...: CMD prints its own ok/FAIL lines (validate.mjs, the
# test_*.py files); they are passed through and counted. A non-zero exit
# without any FAIL line, or no line at all, counts as one failure.
lines() {
	local out rc n_ok n_fail
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(ok|FAIL) |^       '
	n_ok=$(grep -c '^ok ' <<<"$out")
	n_fail=$(grep -c '^FAIL ' <<<"$out")
	pass=$((pass + n_ok))
	fail=$((fail + n_fail))
	if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ] || [ $((n_ok + n_fail)) -eq 0 ]; then
		bad "$* (exit $rc)" "$out"
	fi
}

# negative NAME REGEX SRC DST SED-SCRIPT CMD...: writes DST, a broken copy
# of SRC (SED-SCRIPT applied), then check_fails NAME REGEX CMD... An edit
# that changes nothing (SRC was reworded) is a failure, never a skip.
negative() {
	local name=$1 re=$2 src=$3 dst=$4 script=$5
	shift 5
	mkdir -p "$(dirname "$dst")"
	if ! sed -e "$script" "$src" >"$dst" || cmp -s "$src" "$dst"; then
		bad "$name" "the edit '$script' changed nothing in $src: update this check"
		return
	fi
	check_fails "$name" "$re" "$@"
}

# ---------------------------------------------------------------- tools

apt_updated=
apt_install() {
	[ "$(id -u)" = 0 ] || {
		echo "not root: cannot apt-get install $*"
		return 1
	}
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$apt_updated" ]; then
		apt-get update -q >/dev/null || return 1
		apt_updated=1
	fi
	apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# need COMMAND PACKAGE: installs PACKAGE when COMMAND is missing.
need() {
	command -v "$1" >/dev/null && return 0
	check "install $2 (for $1)" apt_install "$2"
}
need yamllint yamllint
need bird bird2 # the bgp component's bird.conf, parsed by bird -p
need systemd-analyze systemd
need kubectl kubernetes-client # Debian's (older) kubectl, if none is here
need node nodejs
need npm npm
need cc gcc
need ldd libc-bin
PY=python3
if ! python3 -c 'import yaml' 2>/dev/null; then
	check "install python3-yaml (PyYAML)" apt_install python3-yaml
	python3 -c 'import yaml' 2>/dev/null || PY=/usr/bin/python3
fi

# --------------------------------------------------------- the binaries

# xredird --help is the reference for every flag the deploy files pass.
check "scripts/build.sh builds build/xredird and build/xredirctl" ./scripts/build.sh

# ------------------------------------------------------------ 1. yamllint

LINT=(yamllint --strict -f parsable -c "$HERE/yamllint.yaml")
check "yamllint $K8S (config $HERE/yamllint.yaml)" "${LINT[@]}" "$K8S" "$HERE/yamllint.yaml"
negative "yamllint rejects a manifest without ---" 'document-start' \
	"$K8S/namespace.yaml" "$TMP/nostart.yaml" '/^---$/d' "${LINT[@]}" "$TMP/nostart.yaml"
negative "yamllint rejects a duplicate key" 'key-duplicates' \
	"$K8S/namespace.yaml" "$TMP/dupkey.yaml" 's/^  name: xredir$/&\n  name: other/' "${LINT[@]}" "$TMP/dupkey.yaml"
negative "yamllint rejects a YAML 1.1 boolean (yes)" 'truthy' \
	"$K8S/daemonset.yaml" "$TMP/truthy.yaml" 's/value: auto$/value: yes/' "${LINT[@]}" "$TMP/truthy.yaml"

# ------------------------------------------------ 2. schema (kubernetes-models)

npm_ci() {
	local sum
	sum=$(sha256sum "$HERE/package-lock.json" "$HERE/package.json" | sha256sum | cut -d' ' -f1)
	# npm ci wipes and reinstalls node_modules: only when the lock changed.
	if [ "$(cat "$HERE/node_modules/.run-sh-lock" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || return 1
	echo "$sum" >"$HERE/node_modules/.run-sh-lock"
}
check "npm ci ($HERE: kubernetes-models, js-yaml, typescript)" npm_ci

VALIDATE=(node "$HERE/validate.mjs")
lines "${VALIDATE[@]}"

DS=$K8S/daemonset.yaml
negative "validate.mjs rejects a containerPort given as a string" 'containerPort must be integer' \
	"$DS" "$TMP/port.yaml" 's/containerPort: 9717$/containerPort: "9717"/' "${VALIDATE[@]}" "$TMP/port.yaml"
negative "validate.mjs rejects an unknown field (hostNetwrk)" "'\"hostNetwrk\"' does not exist in type 'IPodSpec'" \
	"$DS" "$TMP/field.yaml" 's/^\( *\)hostNetwork: true$/&\n\1hostNetwrk: true/' "${VALIDATE[@]}" "$TMP/field.yaml"
negative "validate.mjs rejects a bad enum value (hostPath type Dir)" 'hostPath/type must be equal to one of' \
	"$DS" "$TMP/enum.yaml" 's/type: Directory$/type: Dir/' "${VALIDATE[@]}" "$TMP/enum.yaml"
negative "validate.mjs rejects an apiVersion it has no schema for" 'no Kubernetes schema for apiVersion "apps/v1beta9"' \
	"$DS" "$TMP/api.yaml" 's#^apiVersion: apps/v1$#apiVersion: apps/v1beta9#' "${VALIDATE[@]}" "$TMP/api.yaml"
mkdir -p "$TMP/k8s" && cp "$K8S"/*.yaml "$TMP/k8s/"
negative "validate.mjs rejects an unknown field in the kustomize output" 'kubectl kustomize .*DaemonSet' \
	"$DS" "$TMP/k8s/daemonset.yaml" 's/^\( *\)- name: metrics$/&\n\1  containerPrt: 9717/' \
	"${VALIDATE[@]}" "$TMP/k8s/kustomization.yaml"

# ------------------------------------------------------ 3. kustomize render

lines "$PY" "$HERE/test_render.py"
cp -r deploy "$TMP/bgp1"
negative "test_render.py catches a VIP announced before xredird is ready" '^FAIL .*the bgp component' \
	deploy/kubernetes/bgp/bird.conf "$TMP/bgp1/kubernetes/bgp/bird.conf" 's/disabled yes;/disabled no;/' \
	env XREDIR_DEPLOY="$TMP/bgp1" "$PY" "$HERE/test_render.py"

# ------------------------------------------- 4. DaemonSet security, flags

lines "$PY" "$HERE/test_security.py"
# Each a copy of deploy/ with one mutation, which the test must catch.
SEC=("$PY" "$HERE/test_security.py")
for n in 1 2 3; do cp -r deploy "$TMP/sec$n"; done
negative "test_security.py catches privileged: true" '^FAIL .*privileged false' \
	"$DS" "$TMP/sec1/kubernetes/daemonset.yaml" 's/privileged: false/privileged: true/' \
	env XREDIR_DEPLOY="$TMP/sec1" "${SEC[@]}"
negative "test_security.py catches an extra capability (SYS_PTRACE)" '^FAIL .*capabilities.*SYS_PTRACE' \
	"$DS" "$TMP/sec2/kubernetes/daemonset.yaml" 's/\(add: \[.*\)\]/\1, SYS_PTRACE]/' \
	env XREDIR_DEPLOY="$TMP/sec2" "${SEC[@]}"
negative "test_security.py catches --grace above terminationGracePeriodSeconds" \
	'^FAIL .*terminationGracePeriodSeconds > --grace' \
	"$DS" "$TMP/sec3/kubernetes/daemonset.yaml" 's/--grace=5$/--grace=30/' \
	env XREDIR_DEPLOY="$TMP/sec3" "${SEC[@]}"
# The hardening points: each mutated copy must fail its own test.
# harden N NAME REGEX FILE SED-SCRIPT [TEST]: deploy/ copy N, FILE (under
# deploy/) edited, TEST (default test_security.py) must fail matching REGEX.
harden() {
	local n=$1 name=$2 re=$3 file=$4 script=$5 test=${6:-test_security.py}
	cp -r deploy "$TMP/hard$n"
	negative "$name" "$re" "deploy/$file" "$TMP/hard$n/$file" "$script" \
		env XREDIR_DEPLOY="$TMP/hard$n" "$PY" "$HERE/$test"
}
harden 1 "test_security.py catches a Namespace without the Pod Security enforce label" \
	'^FAIL .*Pod Security.*enforce' kubernetes/namespace.yaml '/security.kubernetes.io\/enforce: /d'
harden 2 "test_security.py catches an unpinned Pod Security version (latest)" \
	'^FAIL .*Pod Security.*audit-version is not a pinned' kubernetes/namespace.yaml \
	's/audit-version: v1\.[0-9]*$/audit-version: latest/'
harden 3 "test_security.py catches a mounted service account token" \
	'^FAIL .*no API token.*the pod mounts a token' kubernetes/daemonset.yaml \
	's/^\( *\)automountServiceAccountToken: false$/\1automountServiceAccountToken: true/'
harden 4 "test_security.py catches the default ServiceAccount" \
	"^FAIL .*own ServiceAccount.*serviceAccountName 'default'" kubernetes/daemonset.yaml \
	's/serviceAccountName: xredir$/serviceAccountName: default/'
harden 5 "test_security.py catches a missing priority class" \
	'^FAIL .*priorityClassName system-node-critical' kubernetes/daemonset.yaml '/priorityClassName:/d'
harden 6 "test_security.py catches seccomp Unconfined" \
	'^FAIL .*seccompProfile RuntimeDefault.*Unconfined' kubernetes/daemonset.yaml \
	's/type: RuntimeDefault$/type: Unconfined/'
harden 7 "test_security.py catches an AppArmor annotation naming no container" \
	'^FAIL .*AppArmor.*do not name container xredird' kubernetes/daemonset.yaml \
	's#kubernetes.io/xredird: unconfined#kubernetes.io/xredir: unconfined#'
harden 8 "test_security.py catches a DaemonSet without minReadySeconds" \
	'^FAIL .*minReadySeconds.*0 < 10' kubernetes/daemonset.yaml '/^  minReadySeconds:/d'
harden 9 "test_security.py catches a surge (two pods on one interface)" \
	'^FAIL .*maxSurge 0' kubernetes/daemonset.yaml 's/maxSurge: 0$/maxSurge: 1/'
harden 10 "test_render.py catches an image tagged latest" \
	'^FAIL .*image pinned.*not pinned \(latest\)' kubernetes/kustomization.yaml \
	's/newTag: .*/newTag: latest/' test_render.py
harden 11 "test_render.py catches a missing app.kubernetes.io/part-of label" \
	'^FAIL .*app.kubernetes.io labels.*lacks app.kubernetes.io/part-of' kubernetes/kustomization.yaml \
	'/app.kubernetes.io\/part-of:/d' test_render.py
harden 12 "test_render.py catches a version label that is not the release" \
	"^FAIL .*app.kubernetes.io labels.*version is not the Dockerfile's ARG VERSION" \
	kubernetes/kustomization.yaml 's#kubernetes.io/version: .*#kubernetes.io/version: 9.9.9#' test_render.py
harden 13 "test_render.py catches an edge component without its nodeSelector" \
	'^FAIL .*edge component.*edge nodeSelector' kubernetes/edge/kustomization.yaml \
	's/xredir.io\/edge: "true"/xredir.io\/edge: "yes"/' test_render.py
harden 16 "test_render.py catches a tls component whose certificate is not from its Secret" \
	'^FAIL .*tls component.*not from Secret xredir-tls' kubernetes/tls/kustomization.yaml \
	's/secretName: xredir-tls/secretName: xredir-other/' test_render.py
harden 14 "test_image.py catches a FROM without a digest" \
	'^FAIL .*every FROM is pinned by digest' Dockerfile 's/^\(FROM debian:12-slim\)@sha256:[0-9a-f]*/\1/' \
	test_image.py
harden 15 "test_image.py catches a missing OCI label (licenses)" \
	'^FAIL .*OCI labels' Dockerfile '/org.opencontainers.image.licenses=/d' test_image.py
negative "test_image.py catches a test tool in deps.sh's build group" \
	"^FAIL .*build group.*test-only packages in the build group: \['nginx-light'\]" \
	scripts/deps.sh "$TMP/deps-bad.sh" 's/^\tlibelf-dev zlib1g-dev/\tnginx-light &/' \
	env XREDIR_DEPS="$TMP/deps-bad.sh" "$PY" "$HERE/test_image.py"

negative "test_render.py catches a README kubectl -k path that is wrong after its cd" \
	"^FAIL .*README.*run in deploy/kubernetes: .* does not exist" \
	README.md "$TMP/README.md" '/^cd \.\.\/\.\.$/d' \
	env XREDIR_README="$TMP/README.md" "$PY" "$HERE/test_render.py"

# The edge component's render passes the schema check too.
cp -r "$K8S" "$TMP/edge"
sed -i 's/^# components:$/components:/; s/^#   - edge$/  - edge/' "$TMP/edge/kustomization.yaml"
check "validate.mjs: the render with the edge component" "${VALIDATE[@]}" "$TMP/edge/kustomization.yaml"
cp -r "$K8S" "$TMP/tls"
sed -i 's/^# components:$/components:/; s/^#   - tls$/  - tls/' "$TMP/tls/kustomization.yaml"
check "validate.mjs: the render with the tls component" "${VALIDATE[@]}" "$TMP/tls/kustomization.yaml"

# ------------------------------------------------ 5. the ConfigMap's config

# Checked with the operators' own command, `xredirctl config check` (the
# daemon's parser and staging), and `xredird --check-config`, run as nobody
# with an interface and bpffs that do not exist: neither may need root, a
# daemon, bpffs or an interface.
CTL=build/xredirctl
XD=build/xredird
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
check "build $CTL and $XD" make -s -j2 "$CTL" "$XD"
chmod 755 "$TMP"
# ctl FILE...: xredirctl config check's exit code and output, as nobody.
ctl() {
	local out rc
	out=$("${NOBODY[@]}" "$CTL" --bpffs "$TMP/no-bpffs" config check "$@" 2>&1)
	rc=$?
	printf 'exit %s\n%s\n' "$rc" "$out"
}
# xd FILE: the same from xredird --check-config.
xd() {
	local out rc
	out=$("${NOBODY[@]}" "$XD" --iface xr-no-such0 --bpffs "$TMP/no-bpffs" \
		--check-config --config "$1" 2>&1)
	rc=$?
	printf 'exit %s\n%s\n' "$rc" "$out"
}
# verdict NAME WANT_EXIT REGEX FILE: config check's exit and its line for
# FILE, and xredird --check-config's are the same.
verdict() {
	local name=$1 want=$2 re=$3 got alt
	got=$(ctl "$4")
	alt=$(xd "$4")
	if ! grep -qx "exit $want" <<<"$(head -n1 <<<"$got")"; then
		bad "$name" "config check exited otherwise than $want:
$got"
	elif [ "$(sed -n 2p <<<"$got")" = "" ] || [ "$(wc -l <<<"$got")" -ne 2 ] ||
		! sed -n 2p <<<"$got" | grep -Eq -- "$re"; then
		bad "$name" "config check's line does not match /$re/:
$got"
	elif [ "$got" != "$alt" ]; then
		bad "$name" "xredird --check-config differs from config check:
$alt
--- config check:
$got"
	else
		ok "$name"
	fi
}
# The config as deployed: from the rendered ConfigMap, mounted at /etc/xredir.
conf_from_render() {
	kubectl kustomize "$K8S" | "$PY" -c '
import sys, yaml
cms = [d for d in yaml.safe_load_all(sys.stdin) if d and d.get("kind") == "ConfigMap"]
assert len(cms) == 1, "expected one ConfigMap, got %d" % len(cms)
sys.stdout.write(cms[0]["data"]["xredir.conf"])' >"$TMP/xredir.conf"
}
check "extract xredir.conf from the rendered ConfigMap" conf_from_render
good=$TMP/xredir.conf
verdict "config check: the ConfigMap's xredir.conf is valid (exit 0, its ok line)" 0 \
	"^${good//./\\.}: ok \(default [^ ]+, [0-9]+ targets, [0-9]+ rules, [0-9]+ TLS pairs\)\$" "$good"
# Its commented-out examples must be valid once uncommented, too.
sed -E 's/^# *((rule|target) )/\1/' "$good" >"$TMP/examples.conf"
if cmp -s "$good" "$TMP/examples.conf"; then
	echo "note ConfigMap xredir.conf has no commented example lines to check"
else
	verdict "config check: xredir.conf with its example lines uncommented is valid" 0 \
		'examples\.conf: ok \(default [^ ]+, [0-9]+ targets, [0-9]+ rules, [0-9]+ TLS pairs\)$' "$TMP/examples.conf"
fi
cp "$good" "$TMP/bad-target.conf" && echo "rule 198.51.100.0/24 nosuchtarget" >>"$TMP/bad-target.conf"
n=$(wc -l <"$TMP/bad-target.conf")
verdict "config check rejects a rule for an unknown target, with its line ($n, exit 2)" 2 \
	"^$TMP/bad-target\.conf:$n: unknown target 'nosuchtarget'\$" "$TMP/bad-target.conf"
cp "$good" "$TMP/bad-url.conf" && echo "target mirror ftp://mirror.example" >>"$TMP/bad-url.conf"
n=$(wc -l <"$TMP/bad-url.conf")
verdict "config check rejects a non-HTTP target URL, with its line ($n, exit 2)" 2 \
	"^$TMP/bad-url\.conf:$n: target URL 'ftp://mirror.example' must start with http" "$TMP/bad-url.conf"
verdict "config check: a missing file cannot be read (exit 1)" 1 \
	"^$TMP/missing\.conf: cannot read: No such file or directory\$" "$TMP/missing.conf"
cp "$good" "$TMP/secret.conf" && chmod 600 "$TMP/secret.conf"
verdict "config check: a file nobody may read cannot be read (exit 1)" 1 \
	"^$TMP/secret\.conf: cannot read: Permission denied\$" "$TMP/secret.conf"
# Several files: one line each, in order, and the worst exit (2 over 1).
several() {
	local want=$1 got each f
	shift
	each="exit $want"
	for f in "$@"; do each+=$'\n'$(ctl "$f" | tail -n +2); done
	got=$(ctl "$@")
	[ "$got" = "$each" ] || {
		printf 'got:\n%s\nwant:\n%s\n' "$got" "$each"
		return 1
	}
}
check "config check of several files: each one's line, exit 2 if one is invalid" \
	several 2 "$good" "$TMP/missing.conf" "$TMP/bad-url.conf" "$TMP/examples.conf"
check "config check of several files: exit 1 if one is unreadable, none invalid" \
	several 1 "$good" "$TMP/missing.conf" "$TMP/examples.conf"
check "config check of several valid files: exit 0" several 0 "$good" "$TMP/examples.conf"
check_fails "config check with no file is a usage error" 'usage: config check FILE' "$CTL" config check
check_fails "xredird --check-config needs --config" 'check-config needs --config FILE' "$XD" --check-config

# ------------------------------------------ 6. Dockerfile and its libraries

lines "$PY" "$HERE/test_image.py"

# ---------------------------------------------------- 7. the systemd unit

lines "$PY" "$HERE/test_systemd.py"

echo
echo "deploy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
