#!/usr/bin/env bash
# Installs what xredir needs on Debian 12. Idempotent: does nothing when
# all are present.
#
# usage: deps.sh [build|all]
#   build  only what compiles xredir (scripts/build.sh, the image's build
#          stage)
#   all    (default) build plus what the tests, demo and benchmark run
set -euo pipefail

BUILD=(
	make gcc clang llvm libclang-rt-14-dev libbpf-dev libxdp-dev bpftool linux-libc-dev
	libelf-dev zlib1g-dev pkg-config node-llhttp libsystemd-dev libssl-dev
)
REST=(
	# tests, demo, benchmark
	iproute2 ethtool xdp-tools libpcap-dev tcpdump curl wrk python3
	nginx-light haproxy procps psmisc util-linux iputils-ping yamllint prometheus
	# the Debian package and its test (tests/package)
	dpkg-dev debhelper fakeroot lintian man-db groff-base bash-completion
	# TLS libraries compared for the engine's TLS (make bench-tls)
	libwolfssl-dev openssl
	# registry clients for the end-to-end registry tests
	skopeo docker-registry containerd
	# the HTTPS suite (tests/e2e/tls.sh): its Go client, the TLS scanner
	golang-go testssl.sh
	# BGP speaker of the fabric suite (router and nodes) and the bgp
	# component's config check
	bird2
)
case "${1:-all}" in
build) PKGS=("${BUILD[@]}") ;;
all) PKGS=("${BUILD[@]}" "${REST[@]}") ;;
*)
	echo "usage: deps.sh [build|all]" >&2
	exit 2
	;;
esac

# One dpkg-query for all of them: `make test` runs this every time.
declare -A installed=()
while read -r name status; do
	[ "$status" = "install ok installed" ] && installed[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null || true)
missing=()
for p in "${PKGS[@]}"; do
	[ -n "${installed[$p]:-}" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
