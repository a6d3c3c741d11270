#!/usr/bin/env bash
# The one build: installs the build dependencies (deps.sh build: not the
# test tools) and builds everything.
# CI runs it (.ci/run) and so does the container image's build stage
# (deploy/Dockerfile), so the image build is exercised by every CI run.
#
# usage: build.sh [DESTDIR]   (with DESTDIR: also `make install` into it,
#                              PREFIX /usr/local: the programs in
#                              DESTDIR/usr/local/sbin)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh build
make -j"$(nproc)" all
if [ $# -ge 1 ]; then
	make install DESTDIR="$1" PREFIX=/usr/local
fi
