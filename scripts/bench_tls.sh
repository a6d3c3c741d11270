#!/usr/bin/env bash
# make bench-tls: OpenSSL 3.0 against wolfSSL 5.5 as xredir's TLS library
# (issue 11), server cost only, over memory pipes on one CPU. Interleaved:
# every scenario runs once per library, in alternating order, REPEATS
# times; the table shows medians, and the ratio is the median (and range)
# of the ratios of runs made back to back, which the drifting load of a
# shared machine affects less. See bench/tls/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bench
REPEATS=${REPEATS:-7}
SECONDS_EACH=${TLS_SECONDS:-0.4}
# Every run's JSON line, kept for a second look at the noise, and the
# table as Markdown, beside the other benchmarks' results.
OUT=${OUT:-bench-results}
RESULTS=$OUT/tls.json
CPU=${CPU:-$(($(nproc) - 1))}
SCENARIOS=(hs13-ecdsa hs13-rsa hs12-ecdsa resume13 ka-aes128gcm ka-chacha20 memory alpn-h2)
LIBS=(openssl wolfssl)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Self-signed leaves for one name, made here (nothing binary is committed):
# the client trusts the certificate itself.
cert() {
	openssl req -x509 -newkey "$2" -nodes -days 2 -subj /CN=bench.xredir.test \
		-addext subjectAltName=DNS:bench.xredir.test \
		-keyout "$tmp/$1.key" -out "$tmp/$1.crt" 2>/dev/null
}
openssl ecparam -name prime256v1 -out "$tmp/p256.pem"
cert ec "ec:$tmp/p256.pem"
cert rsa rsa:2048

mkdir -p "$OUT"
: >"$RESULTS"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
for ((r = 0; r < REPEATS; r++)); do
	for s in "${SCENARIOS[@]}"; do
		order=("${LIBS[@]}")
		((r % 2)) && order=("${LIBS[1]}" "${LIBS[0]}")
		for lib in "${order[@]}"; do
			"$BIN/tls_bench_$lib" --cpu "$CPU" --seconds "$SECONDS_EACH" \
				--ec-cert "$tmp/ec.crt" --ec-key "$tmp/ec.key" \
				--rsa-cert "$tmp/rsa.crt" --rsa-key "$tmp/rsa.key" \
				--only "$s" | sed "s/^{/{\"repeat\":$r,/" >>"$RESULTS"
		done
	done
	echo "bench-tls: repeat $((r + 1))/$REPEATS done" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

report=$(python3 - "$RESULTS" "$REPEATS" "$SECONDS_EACH" "$CPU" \
	"$load_before" "$load_after" "$(($(date +%s) - start))" <<'PY'
import json, statistics, sys
path, reps, secs, cpu, lb, la, wall = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
libs = sorted({r["lib"] for r in rows}, key=lambda n: not n.startswith("OpenSSL"))

def vals(lib, scen, key):
    return [r[key] for r in rows if r["lib"] == lib and r["scenario"] == scen]

def cell(lib, scen, key):
    v = vals(lib, scen, key)
    m = statistics.median(v)
    spread = (max(v) - min(v)) / m * 100 if m else 0
    return m, spread

timed = [
    ("hs13-ecdsa", "full handshakes/s, TLS 1.3 ECDSA P-256, X25519"),
    ("hs13-rsa", "full handshakes/s, TLS 1.3 RSA-2048, X25519"),
    ("hs12-ecdsa", "full handshakes/s, TLS 1.2 ECDHE-ECDSA-AES128-GCM"),
    ("resume13", "resumed handshakes/s, TLS 1.3 ticket (PSK+X25519)"),
    ("ka-aes128gcm", "keep-alive requests/s, TLS 1.3 AES-128-GCM"),
    ("ka-chacha20", "keep-alive requests/s, TLS 1.3 CHACHA20-POLY1305"),
]
memory = [
    ("handshake_bytes", "bytes per connection after the handshake"),
    ("idle_bytes", "bytes per connection idle after a request"),
    ("peak_bytes", "peak bytes during one handshake"),
    ("allocs_per_handshake", "allocations per handshake"),
]
w = 52
print(f"\nTLS server cost per CPU second, server calls only, CPU {cpu}; "
      f"median of {reps} interleaved runs of {secs} s server CPU each "
      f"(spread = (max-min)/median)")
print(f"{'':{w}} " + " ".join(f"{l:>24}" for l in libs)
      + f" {libs[1].split()[0] + '/' + libs[0].split()[0] + ' (paired)':>22}")
def ratio(scen, key):
    pairs = {}
    for r in rows:
        if r["scenario"] == scen:
            pairs.setdefault(r["repeat"], {})[r["lib"]] = r[key]
    v = [p[libs[1]] / p[libs[0]] for p in pairs.values()]
    return f"{statistics.median(v):.2f}x ({min(v):.2f}-{max(v):.2f})"

for scen, label in timed:
    cells = [cell(l, scen, "per_s") for l in libs]
    print(f"{label:{w}} " + " ".join(f"{m:>14,.0f} ({s:4.1f}%) " for m, s in cells)
          + f" {ratio(scen, 'per_s'):>22}")
for key, label in memory:
    cells = [cell(l, "memory", key) for l in libs]
    print(f"{label:{w}} " + " ".join(f"{m:>14,.0f}         " for m, s in cells)
          + f" {cells[1][0] / cells[0][0]:>21.2f}x")
neg = {(r["scenario"], r["lib"]): r["negotiated"] for r in rows if "negotiated" in r}
print("\nnegotiated, as each server saw it:")
for scen, _ in timed:
    print(f"  {scen:13} " + " | ".join(neg.get((scen, l), "?") for l in libs))
alpn = [r["lib"] for r in rows if r["scenario"] == "alpn-h2"]
print("ALPN, a client offering only h2 gets the fatal no_application_protocol "
      "alert from: " + ", ".join(sorted(set(alpn))))
print(f"load average before {lb}, after {la} (a busy 2-core machine: "
      f"compare columns, not absolute figures); {wall} s")
PY
)
echo "$report"
# shellcheck disable=SC2016 # Markdown's fence, not an expansion
printf '```\n%s\n```\n' "$report" >"$OUT/tls.md"
