#!/usr/bin/env bash
# The Debian package, built, checked, installed and run: dpkg-buildpackage
# on a copy of the tree (it writes to the parent directory), lintian (no
# error, no warning), dpkg -i on this machine, the files where they belong,
# the versions, the default config, the man pages, the bash completion, the
# systemd unit (systemd-analyze verify: no systemd as PID 1 here), then the
# installed /usr/sbin/xredird started with the unit's own command line and
# the installed config in a namespace pair (scripts/topology.sh), a redirect
# fetched through it with curl and a SIGTERM that must end it with 0.
# Checkers are also fed broken inputs, which must fail.
#
# usage: tests/package/run.sh   (as root on Debian 12, after scripts/deps.sh;
#                                removes the package again at the end)
# Environment: XR_PKG_TOPO (namespace and veth prefix, default "pk").
#
# Prints one "ok NAME" or "FAIL NAME" line per check, then "N passed, N
# failed"; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

export XR_TOPO=${XR_PKG_TOPO:-pk}
PKG=xredir
TMP=$(mktemp -d)
D_PID=
t0=$(date +%s)

cleanup() {
	[ -z "$D_PID" ] || kill -KILL "$D_PID" 2>/dev/null
	"$ROOT/scripts/topology.sh" down >/dev/null 2>&1
	dpkg --purge "$PKG" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source=tests/checks.sh
. tests/checks.sh

# same NAME WANT GOT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want: $2
got:  $3"; fi
}

if [ "$(id -u)" != 0 ]; then
	echo "tests/package: run as root (it installs the package)" >&2
	exit 1
fi
# A package left by an interrupted run would hide a missing file.
dpkg --purge "$PKG" >/dev/null 2>&1

# ----------------------------------------------------------- 1. the build

# The working tree (committed or not), without build output or .git: the
# package must build from a plain tree; the commit is handed in.
SRC=$TMP/src/$PKG
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./build --exclude=./bench-results \
	--exclude=./.git --exclude=node_modules -cf - . | tar -C "$SRC" -xf -
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
check "dpkg-buildpackage -us -uc -b builds from a copy of the tree" \
	env -C "$SRC" XR_COMMIT="$COMMIT" dpkg-buildpackage -us -uc -b
VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
UPSTREAM=${VERSION%-*}
# One release number: the image's default VERSION (and through it the
# manifests' tag, tests/deploy) is the changelog's.
same_release() {
	local img
	img=$(sed -n 's/^ARG VERSION=//p' deploy/Dockerfile)
	[ "$img" = "$UPSTREAM" ] || {
		echo "deploy/Dockerfile ARG VERSION=$img, debian/changelog $UPSTREAM"
		return 1
	}
}
check "deploy/Dockerfile's VERSION is debian/changelog's ($UPSTREAM)" same_release
ARCH=$(dpkg --print-architecture)
DEB=$TMP/src/${PKG}_${VERSION}_$ARCH.deb
CHANGES=$TMP/src/${PKG}_${VERSION}_$ARCH.changes
check "the build wrote ${DEB##*/} and ${CHANGES##*/}" test -s "$DEB" -a -s "$CHANGES"
echo "note package ${DEB##*/}: $(stat -c %s "$DEB" 2>/dev/null) bytes," \
	"installed size $(dpkg-deb -f "$DEB" Installed-Size 2>/dev/null) KiB"

# ---------------------------------------------------------------- 2. lintian

# Errors and warnings fail (the level Debian accepts); the whole report
# (info, pedantic and experimental tags too) is printed for the record.
# lintian warns when run as root: not a finding.
LINTIAN=(lintian --fail-on "error,warning" --display-info --display-experimental --pedantic)
lint_out=$("${LINTIAN[@]}" "$CHANGES" 2>&1)
lint_rc=$?
lint_out=$(grep -v '^running with root privileges' <<<"$lint_out")
if [ "$lint_rc" -eq 0 ]; then ok "lintian: no error, no warning"; else
	bad "lintian: no error, no warning" "$lint_out"; fi
[ -z "$lint_out" ] || printf '%s\n' "$lint_out" | sed 's/^/note lintian: /'
# The same lintian on a copy of the package without its copyright file.
mkdir -p "$TMP/broken"
dpkg-deb -R "$DEB" "$TMP/broken/tree"
rm -f "$TMP/broken/tree/usr/share/doc/$PKG/copyright"
sed -i "\|/usr/share/doc/$PKG/copyright|d" "$TMP/broken/tree/DEBIAN/md5sums"
dpkg-deb -b "$TMP/broken/tree" "$TMP/broken/${DEB##*/}" >/dev/null
check_fails "lintian fails a package without its copyright file" \
	'no-copyright-file' "${LINTIAN[@]}" "$TMP/broken/${DEB##*/}"

# ----------------------------------------------------------- 3. installation

check "dpkg -i ${DEB##*/}" dpkg -i "$DEB"
want_files="/etc/xredir/xredir.conf
/lib/systemd/system/xredird.service
/usr/sbin/xredirctl
/usr/sbin/xredird
/usr/share/bash-completion/completions/xredirctl
/usr/share/bash-completion/completions/xredird
/usr/share/doc/xredir/changelog.gz
/usr/share/doc/xredir/copyright
/usr/share/man/man8/xredirctl.8.gz
/usr/share/man/man8/xredird.8.gz"
files=$(dpkg -L "$PKG" | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort)
same "dpkg -L: exactly the expected files" "$want_files" "$files"
same "/etc/xredir/xredir.conf is a conffile" /etc/xredir/xredir.conf \
	"$(dpkg-query -W -f='${Conffiles}\n' "$PKG" | awk 'NF { print $1 }')"
same "the default config is the ConfigMap's" "$(make -s -C "$ROOT" build/xredir.conf >/dev/null && cat "$ROOT/build/xredir.conf")" \
	"$(cat /etc/xredir/xredir.conf)"
for b in xredird xredirctl; do
	same "/usr/sbin/$b --version is the package's version ($UPSTREAM)" \
		"$b $UPSTREAM" "$(/usr/sbin/$b --version 2>&1)"
	check "/usr/sbin/$b needs only installed libraries" \
		sh -c "! ldd /usr/sbin/$b | grep -q 'not found'"
done

# -------------------------------------------------------- 4. default config

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
check "xredird --check-config --config /etc/xredir/xredir.conf (as nobody)" \
	"${NOBODY[@]}" /usr/sbin/xredird --check-config --config /etc/xredir/xredir.conf
check "xredirctl config check /etc/xredir/xredir.conf (as nobody)" \
	"${NOBODY[@]}" /usr/sbin/xredirctl config check /etc/xredir/xredir.conf
printf 'rule 10.0.0.1/8 docker\n' | cat /etc/xredir/xredir.conf - >"$TMP/bad.conf"
chmod 644 "$TMP/bad.conf"
chmod 755 "$TMP"
check_fails "xredird --check-config rejects a config with host bits set" \
	'bad.conf:[0-9]+:.*10\.0\.0\.0/8' /usr/sbin/xredird --check-config --config "$TMP/bad.conf"

# ----------------------------------------------- 5. man pages and completion

same "man -w xredird" /usr/share/man/man8/xredird.8.gz "$(man -w xredird 2>&1)"
same "man -w xredirctl" /usr/share/man/man8/xredirctl.8.gz "$(man -w xredirctl 2>&1)"
for p in xredird xredirctl; do
	check "man $p renders without warnings" sh -c \
		"out=\$(MANWIDTH=80 man --warnings -E UTF-8 -l /usr/share/man/man8/$p.8.gz 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
done
# Every flag of --help is in the man page's OPTIONS (they come from the
# same table).
check "man xredird lists every flag of xredird --help" sh -c '
	page=$(MANWIDTH=200 man -l /usr/share/man/man8/xredird.8.gz 2>/dev/null)
	for f in $(/usr/sbin/xredird --help | grep -Eo -- "--[a-z0-9-]+" | sort -u); do
		grep -q -- "$f" <<EOF || { echo "missing $f"; exit 1; }
$page
EOF
	done'
same "bash-completion looks in the completion directory the package uses" \
	/usr/share/bash-completion/completions \
	"$(pkg-config --variable=completionsdir bash-completion 2>&1)"
# complete PROG WORD...: the completions bash offers for the last WORD.
complete_words() {
	local prog=$1
	shift
	bash --norc -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		"_${1}"; printf "%s\n" "${COMPREPLY[@]}"' \
		"/usr/share/bash-completion/completions/$prog" "$prog" "$@"
}
same "completion: xredird --log-f<TAB>" --log-format "$(complete_words xredird --log-f)"
same "completion: xredird --xdp-mode <TAB>" "auto
native
skb" "$(complete_words xredird --xdp-mode '')"
same "completion: xredird --no-such<TAB> offers nothing" "" "$(complete_words xredird --no-such)"
same "completion: xredirctl ru<TAB>" rule "$(complete_words xredirctl ru)"
same "completion: xredirctl --iface eth0 rule lo<TAB>" "load
lookup" "$(complete_words xredirctl --iface eth0 rule lo | sort)"
same "completion: xredirctl target set eu URL --st<TAB>" --status \
	"$(complete_words xredirctl target set eu URL --st)"

# --------------------------------------------------------- 6. systemd unit

UNIT=/lib/systemd/system/xredird.service
check "systemd-analyze verify $UNIT" sh -c \
	"out=\$(systemd-analyze verify $UNIT 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
sed 's|^ExecStart=/usr/sbin/xredird|ExecStart=/usr/sbin/no-such-xredird|' "$UNIT" >"$TMP/xredird.service"
check_fails "systemd-analyze verify fails a unit whose ExecStart is missing" \
	'no-such-xredird.*not executable' systemd-analyze verify "$TMP/xredird.service"

# ------------------------------------------------------- 7. a real start

# The unit's ExecStart (its path, --config and --metrics-listen), with
# ${XREDIR_IFACE} the topology's server veth and the topology's bpffs.
eval "$(scripts/topology.sh env)"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
read -ra cmd <<<"${exec_start//\$\{XREDIR_IFACE\}/$XR_SRV_IF}"
same "the unit starts /usr/sbin/xredird with the installed config" \
	"/usr/sbin/xredird --config /etc/xredir/xredir.conf" \
	"${cmd[0]} $(grep -o -- '--config [^ ]*' <<<"$exec_start")"
check "topology up ($XR_SRV_NS, $XR_CLI_NS)" scripts/topology.sh up
LOG=$TMP/xredird.log
XREDIR_BPFFS=$XR_BPFFS LIBXDP_BPFFS=$XR_BPFFS \
	ip netns exec "$XR_SRV_NS" "${cmd[@]}" >"$LOG" 2>&1 &
D_PID=$!
# Serving once a request gets a redirect; give up after 10 s.
url=http://$XR_SRV_IP4:10000/v2/pause/manifests/3.9
got=
for _ in $(seq 100); do
	got=$(ip netns exec "$XR_CLI_NS" curl -s -m 1 -o /dev/null \
		-w '%{http_code} %{redirect_url}' "$url" 2>/dev/null) &&
		[ "${got%% *}" = 302 ] && break
	kill -0 "$D_PID" 2>/dev/null || break
	sleep 0.1
done
same "curl through the installed xredird: 302 to the config's default" \
	"302 https://k8s.gcr.io/v2/pause/manifests/3.9" "$got"
if kill -0 "$D_PID" 2>/dev/null; then
	kill -TERM "$D_PID"
	rc=timeout
	for _ in $(seq 100); do
		kill -0 "$D_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$D_PID" 2>/dev/null; then
		wait "$D_PID"
		rc=$?
		D_PID=
	fi
	same "SIGTERM: the installed xredird exits 0" 0 "$rc"
else
	wait "$D_PID"
	bad "SIGTERM: the installed xredird exits 0" "it had already exited ($?):
$(cat "$LOG")"
	D_PID=
fi
[ "$fail" -eq 0 ] || sed 's/^/note xredird: /' "$LOG"

echo "$pass passed, $fail failed ($(($(date +%s) - t0)) s)"
[ "$fail" -eq 0 ]
