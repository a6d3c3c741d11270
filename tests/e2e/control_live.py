#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Rule changes under load, for tests/e2e/control.sh (standard library only).

  control_live.py sets --dir DIR [--seed N] [--noise N]
      Writes DIR/A.rules and DIR/B.rules: two rule sets that give each
      verifier source (SOURCES) a different target (s0..s9), plus NOISE
      unrelated prefixes each.

  control_live.py drive --ctl "XREDIRCTL ARGS" --dir DIR --log FILE
                        [--ops 1000] [--loads 20] [--seed N]
      Starting from set A (already loaded by the caller), makes OPS
      `rule add`/`rule del` changes (a third of them to rules that decide a
      verifier source's target) and LOADS whole `rule load` swaps B, A, B...
      spread among them. Logs each change as a JSON line: start and end
      (CLOCK_MONOTONIC), exit status, and the target of every source in the
      rule set it leaves in force (from a model of the rules).

  control_live.py verify --out FILE --stop FILE [--port N]
      In the client namespace: one thread per source (and two for
      10.77.0.2), each sending requests over a keep-alive connection bound
      to that source and checking each response whole (302, one Location
      of a known target with the request's path, Content-Length, body).
      Records every request: sent, received, source, target or the failure.
      Runs until the stop file exists.

  control_live.py check --log FILE --results FILE [--eps SEC]
      Every response's target must be one that some rule set in force
      during [sent, received] gives its source: the set left by change k is
      in force from change k's start to change k+1's end (both widened by
      EPS). Fails on any failed or malformed response or inconsistency.
"""

import argparse
import bisect
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

from xrclient import Conn

# Verifier sources; the extra ones are added to the client veth by the
# caller (EXTRA_SOURCES).
SOURCES = ["10.77.0.2", "10.77.0.3", "10.77.1.10", "10.77.1.11", "10.77.1.12",
           "fd77::2", "fd77::3", "fd77:1::10"]
EXTRA_SOURCES = ["10.77.1.10", "10.77.1.11", "10.77.1.12", "fd77:1::10"]
TARGETS = ["s%d" % i for i in range(10)]

# The rules deciding the sources' targets, per set (and default: s-less).
SET_A = {
    "10.77.0.2/32": "s0", "10.77.0.3/32": "s1", "10.77.1.0/24": "s2",
    "10.77.1.11/32": "s3", "fd77::/64": "s4", "fd77::3/128": "s5",
    "fd77:1::/64": "s6",
}
SET_B = {
    "10.77.0.0/24": "s7", "10.77.0.3/32": "s8", "10.77.1.10/32": "s9",
    "10.77.1.0/25": "s5", "10.77.1.12/32": "s4", "fd77::2/128": "s3",
    "fd77::/64": "s2", "fd77:1::/48": "s1",
}
# Prefixes `drive` adds and deletes that change some source's target.
LIVE = ["10.77.1.10/32", "10.77.1.12/32", "10.77.0.2/32", "10.77.0.0/24",
        "10.77.1.0/25", "fd77::2/128", "fd77::3/128", "fd77:1::/64",
        "fd77:1::10/128", "10.77.0.0/16"]


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def lpm(rules, addr):
    """The target of addr under rules ({cidr: target}); 'default' if none."""
    a = ipaddress.ip_address(addr)
    best, best_len = "default", -1
    for cidr, t in rules.items():
        n = ipaddress.ip_network(cidr)
        if n.version == a.version and a in n and n.prefixlen > best_len:
            best, best_len = t, n.prefixlen
    return best


def noise(rng, n):
    out = {}
    while len(out) < n:
        if rng.random() < 0.7:
            c = "%d.%d.%d.0/24" % (rng.randint(20, 60), rng.randint(0, 255),
                                   rng.randint(0, 255))
        else:
            c = "2001:db8:%x:%x::/64" % (rng.getrandbits(16), rng.getrandbits(16))
        out[c] = rng.choice(TARGETS)
    return out


def sets(args):
    rng = random.Random(args.seed)
    for name, live in (("A", SET_A), ("B", SET_B)):
        rules = dict(noise(rng, args.noise))
        rules.update(live)
        with open(os.path.join(args.dir, name + ".rules"), "w") as f:
            for c, t in rules.items():
                f.write("rule %s %s\n" % (c, t))
    a = {s: lpm(SET_A, s) for s in SOURCES}
    b = {s: lpm(SET_B, s) for s in SOURCES}
    same = [s for s in SOURCES if a[s] == b[s]]
    if same:
        fail("sets A and B agree for %s" % same)
    print("A: %s" % " ".join("%s=%s" % kv for kv in a.items()))
    print("B: %s" % " ".join("%s=%s" % kv for kv in b.items()))


def read_set(path):
    rules = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "rule":
                rules[w[1]] = w[2]
    return rules


def drive(args):
    rng = random.Random(args.seed)
    ctl = args.ctl.split()
    sets_ = {n: read_set(os.path.join(args.dir, n + ".rules")) for n in "AB"}
    model = dict(sets_["A"])
    srcs = [ipaddress.ip_address(s) for s in SOURCES]
    rel_cache = {}

    def relevant(c):
        if c not in rel_cache:
            n = ipaddress.ip_network(c)
            rel_cache[c] = any(a.version == n.version and a in n for a in srcs)
        return rel_cache[c]

    def state():
        live = {c: t for c, t in model.items() if relevant(c)}
        return {s: lpm(live, s) for s in SOURCES}

    log = open(args.log, "w")
    log.write(json.dumps({"i": 0, "op": "initial A", "start": -1e18, "end": -1e18,
                          "rc": 0, "map": state()}) + "\n")
    every = max(1, args.ops // args.loads)
    nextset = "B"
    loads = adds = dels = errors = 0
    i = 0
    t_begin = time.monotonic()
    while adds + dels < args.ops or loads < args.loads:
        i += 1
        new = dict(model)
        if loads < args.loads and (adds + dels >= args.ops or
                                   adds + dels >= loads * every + every // 2):
            cmd = ["rule", "load", os.path.join(args.dir, nextset + ".rules")]
            new = dict(sets_[nextset])
            opname = "load " + nextset
            nextset = "A" if nextset == "B" else "B"
            loads += 1
        else:
            if rng.random() < 0.35:
                c = rng.choice(LIVE)
                delete = c in model and rng.random() < 0.6
            elif rng.random() < 0.5:
                c = rng.choice([k for k in model if not relevant(k)])
                delete = True
            else:
                c = "%d.%d.%d.0/24" % (rng.randint(61, 90), rng.randint(0, 255),
                                       rng.randint(0, 255))
                delete = False
            if delete:
                cmd = ["rule", "del", c]
                del new[c]
                opname = "del " + c
                dels += 1
            else:
                t = rng.choice(TARGETS)
                cmd = ["rule", "add", c, t]
                new[c] = t
                opname = "add %s %s" % (c, t)
                adds += 1
        t0 = time.monotonic()
        p = subprocess.run(ctl + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        t1 = time.monotonic()
        if p.returncode:
            errors += 1
            print("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()),
                  file=sys.stderr)
        else:
            model = new
        log.write(json.dumps({"i": i, "op": opname, "start": t0, "end": t1,
                              "rc": p.returncode, "map": state()}) + "\n")
    log.close()
    dt = time.monotonic() - t_begin
    if errors:
        fail("%d of %d changes failed" % (errors, i))
    print("%d changes in %.1f s: %d adds, %d dels, %d loads"
          % (i, dt, adds, dels, loads))


# ---- the verifying client ----

LOC_RE = re.compile(r"^http://(s\d|default)\.test(/.*)$")


def verifier(src, port, stop, out, lock, counter, pause):
    server = "fd77::1" if ":" in src else "10.77.0.1"
    c = None
    n = 0
    while not os.path.exists(stop):
        n += 1
        path = "/live/%s/%d" % (src.replace(":", "-"), n)
        rec = {"src": src, "path": path}
        try:
            if c is None:
                c = Conn(server, port, src)
            req = ("GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: verifier\r\n\r\n"
                   % path).encode()
            rec["sent"] = time.monotonic()
            c.send(req)
            r = c.read_response()
            rec["recv"] = time.monotonic()
            if r.status_line != "HTTP/1.1 302 Found":
                raise ValueError("status line %r" % r.status_line)
            locs = [v.decode("latin-1") for v in r.all("location")]
            if len(locs) != 1:
                raise ValueError("%d Location headers" % len(locs))
            m = LOC_RE.match(locs[0])
            if not m or m.group(2) != path:
                raise ValueError("Location %r for %s" % (locs[0], path))
            want = ('<a href="%s">Found</a>.\n' % locs[0]).encode()
            if r.body != want:
                raise ValueError("body %r" % r.body[:100])
            if r.text("connection") != "keep-alive":
                raise ValueError("not keep-alive: %r" % r)
            rec["target"] = m.group(1)
        except Exception as e:  # noqa: BLE001 (every failure is recorded)
            rec["recv"] = time.monotonic()
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            if c:
                c.close()
            c = None
        with lock:
            out.write(json.dumps(rec) + "\n")
            counter[0] += 1
        if pause:
            time.sleep(pause)
    if c:
        c.close()


def verify(args):
    lock = threading.Lock()
    counter = [0]
    out = open(args.out, "w")
    srcs = SOURCES + ["10.77.0.2"]
    threads = [threading.Thread(target=verifier,
                                args=(s, args.port, args.stop, out, lock, counter, args.pause))
               for s in srcs]
    deadline = time.monotonic() + args.max_seconds
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if time.monotonic() > deadline:
            open(args.stop, "w").close()
        time.sleep(0.05)
    out.close()
    print("%d requests from %d sources" % (counter[0], len(SOURCES)))


def check(args):
    ops = [json.loads(l) for l in open(args.log)]
    res = [json.loads(l) for l in open(args.results)]
    starts = [o["start"] for o in ops]
    # State k is in force from ops[k].start to ops[k+1].end.
    ends_next = [o["end"] for o in ops[1:]] + [1e18]
    failed = [r for r in res if "error" in r]
    bad = []
    seen = {}
    during = 0
    t_first = ops[1]["start"] if len(ops) > 1 else 0
    t_last = ops[-1]["end"]
    for r in res:
        if "error" in r:
            continue
        lo_t, hi_t = r["sent"] - args.eps, r["recv"] + args.eps
        k_lo = bisect.bisect_left(ends_next, lo_t)
        k_hi = bisect.bisect_right(starts, hi_t) - 1
        allowed = {ops[k]["map"][r["src"]] for k in range(k_lo, k_hi + 1)}
        seen.setdefault(r["src"], {}).setdefault(r["target"], 0)
        seen[r["src"]][r["target"]] += 1
        if t_first <= r["sent"] <= t_last:
            during += 1
        if r["target"] not in allowed:
            bad.append("%s %s at [%.6f, %.6f] got %s, allowed %s (states %d..%d: %s)"
                       % (r["src"], r["path"], r["sent"], r["recv"], r["target"],
                          sorted(allowed), k_lo, k_hi,
                          "; ".join(ops[k]["op"] for k in range(max(k_lo, 0), k_hi + 1))))
    for b in bad[:10]:
        print("inconsistent: " + b, file=sys.stderr)
    for f in failed[:10]:
        print("failed: %s %s: %s" % (f["src"], f["path"], f["error"]), file=sys.stderr)
    summary = ("%d responses (%d during the %d changes), %d failed or malformed, "
               "%d inconsistent with the rule sets in force"
               % (len(res), during, len(ops) - 1, len(failed), len(bad)))
    print(summary)
    for s in SOURCES:
        print("  %-12s %s" % (s, " ".join("%s:%d" % kv for kv in sorted(seen.get(s, {}).items()))))
    if failed or bad:
        fail(summary)
    if during < 500:
        fail("only %d responses during the changes: %s" % (during, summary))
    few = [s for s in SOURCES if len(seen.get(s, {})) < 2]
    if few:
        fail("sources that never saw a change: %s" % few)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sets")
    p.add_argument("--dir", required=True)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--noise", type=int, default=3000)
    p = sub.add_parser("drive")
    p.add_argument("--ctl", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ops", type=int, default=1000)
    p.add_argument("--loads", type=int, default=20)
    p.add_argument("--seed", type=int, default=12)
    p = sub.add_parser("verify")
    p.add_argument("--out", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--max-seconds", type=float, default=60)
    p.add_argument("--pause", type=float, default=0.001,
                   help="seconds between a thread's requests")
    p = sub.add_parser("check")
    p.add_argument("--log", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--eps", type=float, default=0.001)
    args = ap.parse_args()
    {"sets": sets, "drive": drive, "verify": verify, "check": check}[args.cmd](args)


if __name__ == "__main__":
    main()
