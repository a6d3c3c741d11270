#!/usr/bin/env bash
# Builds deploy/Dockerfile's image with podman where no registry is
# reachable and prints its size (and its build stage's). Not part of
# `make test`: it downloads Debian (deb.debian.org) and takes minutes.
#
# The Dockerfile's bases are pinned by digest on Docker Hub; here they are
# stood in for by a debootstrap --variant=minbase bookworm rootfs (what
# Docker's debian:12 is made from, with its apt cleanup config) and a
# copy of it slimmed as debian:12-slim is (no docs, man pages, locales;
# dpkg told to skip them).
# The figures are therefore those of this build, within a few MB of one
# on the real bases.
#
# usage: scripts/image.sh     (as root; installs debootstrap and podman)
# XREDIR_IMAGE_WORK: work directory (default /var/tmp/xredir-image; the
# rootfs is kept there and reused).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${XREDIR_IMAGE_WORK:-/var/tmp/xredir-image}
PODMAN=(podman --storage-driver vfs)
BASE=localhost/xredir-base
VERSION=$(sed -n 's/^ARG VERSION=//p' deploy/Dockerfile)
TAG=localhost/xredir:$VERSION

for t in debootstrap podman; do
	command -v "$t" >/dev/null || {
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends debootstrap podman >/dev/null
		break
	}
done
mkdir -p "$WORK"

if [ ! -e "$WORK/rootfs/etc/debian_version" ]; then
	rm -rf "$WORK/rootfs"
	debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
	rm -f "$WORK"/rootfs/var/cache/apt/archives/*.deb
	rm -rf "$WORK"/rootfs/var/lib/apt/lists/*
fi
# As Docker's debian images: apt keeps no .deb files and no binary caches.
cat >"$WORK/rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
rm -f "$WORK"/rootfs/var/cache/apt/*.bin

# import NAME:TAG ROOTFS (again each run: cheap, and follows the rootfs)
import() {
	tar -C "$2" -c . | "${PODMAN[@]}" import - "$1" >/dev/null 2>&1
}
import "$BASE:12" "$WORK/rootfs"
if [ ! -e "$WORK/slim/etc/dpkg/dpkg.cfg.d/docker-slim" ]; then
	rm -rf "$WORK/slim"
	cp -a "$WORK/rootfs" "$WORK/slim"
	cat >"$WORK/slim/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
CFG
	find "$WORK/slim/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	rm -rf "$WORK"/slim/usr/share/{info,linda,locale,man,groff}/* "$WORK"/slim/usr/share/lintian/overrides/*
fi
import "$BASE:12-slim" "$WORK/slim"

# The Dockerfile with its pinned bases replaced by the stand-ins.
sed -e "s#^FROM debian:12@sha256:[0-9a-f]*#FROM $BASE:12#" \
	-e "s#^FROM debian:12-slim@sha256:[0-9a-f]*#FROM $BASE:12-slim#" \
	deploy/Dockerfile >"$WORK/Dockerfile"
grep -q "^FROM $BASE:12-slim" "$WORK/Dockerfile" || {
	echo "image: could not replace the Dockerfile's FROM lines" >&2
	exit 1
}

ARGS=(--isolation chroot --network host --ignorefile deploy/Dockerfile.dockerignore -f "$WORK/Dockerfile"
	--build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
	--build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)")
"${PODMAN[@]}" build -q "${ARGS[@]}" --target build -t localhost/xredir-build:"$VERSION" . >/dev/null
"${PODMAN[@]}" build -q "${ARGS[@]}" -t "$TAG" . >/dev/null

size() { "${PODMAN[@]}" image inspect --format '{{.Size}}' "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "base $BASE:12-slim: $(mb "$(size "$BASE:12-slim")")"
echo "image $TAG: $(mb "$(size "$TAG")")"
echo "build stage localhost/xredir-build:$VERSION: $(mb "$(size "localhost/xredir-build:$VERSION")")"
# Its binaries run on its libraries (no container runtime needed).
mnt=$("${PODMAN[@]}" image mount "$TAG")
chroot "$mnt" /usr/local/bin/xredird --version
chroot "$mnt" /usr/local/bin/xredirctl --version
"${PODMAN[@]}" image unmount "$TAG" >/dev/null
