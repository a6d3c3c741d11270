#!/usr/bin/env bash
# make bench-engine: nanoseconds per keep-alive request (median of 5 runs)
# and instructions per request (callgrind, repeatable on a noisy machine),
# for the engine and HTTP path fed in-process with no I/O.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bench_engine
REQS=${REQS:-200000}

ns=$(for i in 1 2 3 4 5; do "$BIN" --requests "$REQS" --json; done |
	python3 -c 'import json,sys,statistics
print(statistics.median(json.loads(l)["ns_per_request"] for l in sys.stdin))')
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=replay \
	"$BIN" --requests 20000 >/dev/null 2>&1
ir=$(sed -n 's/^summary: *//p' "$out")
rm -f "$out"
python3 - "$ns" "$ir" <<'PY'
import sys
ns, ir = float(sys.argv[1]), int(sys.argv[2])
per = ir / 20000
print(f"engine, keep-alive request of wrk's size (in-process, no I/O):")
print(f"  {ns:.0f} ns per request (median of 5 runs of 200k; target <= 300)")
print(f"  {per:.0f} instructions per request (callgrind; target <= 1200)")
PY
