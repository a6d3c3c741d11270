#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Longest-prefix checks for tests/e2e/control.sh (standard library only).

  control_lpm.py gen --rules FILE --addrs FILE [--seed N] [--count N]
      A rules file of COUNT distinct prefixes (two thirds IPv4, one third
      IPv6), nested (/8 > /16 > /20, /24 > /28, /32; /32 > /48 > /56, /64 >
      /96, /128, plus random longer prefixes inside them), over targets
      t0..t9 and a few 'default' ones; and a file of addresses to look up
      (most inside a prefix, some on or just past an edge, some random).

  control_lpm.py check --rules FILE --addrs FILE --got FILE --sample FILE
      Compares `xredirctl rule lookup --batch` output (GOT) line by line
      with a reference longest-prefix match: a table per prefix length,
      itself cross-checked against a linear scan of every prefix for a few
      hundred addresses. Writes a sample of addresses for real requests
      (at least 24 IPv4, 12 IPv6, a few unmatched) as "ADDR TARGET" lines.

Exits 0 with a summary line, or 1 with the reason last on stderr.
"""

import argparse
import ipaddress
import random
import socket
import sys

TARGETS = ["t%d" % i for i in range(10)]


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


# ---- prefixes ----

def v4_first_octets(rng, n):
    # Unicast, away from 0/8, 10/8 (the test topology), 127/8, 169.254/16
    # and multicast/reserved (224/3): any of them may be bound on a veth.
    pool = [o for o in range(11, 224) if o not in (100, 127, 169, 172, 192, 198)]
    return rng.sample(pool, n)


def rand_sub(rng, net, newlen):
    """A random subnet of net with prefix length newlen."""
    bits = net.max_prefixlen
    host = rng.getrandbits(newlen - net.prefixlen) if newlen > net.prefixlen else 0
    addr = int(net.network_address) | (host << (bits - newlen))
    return type(net)((addr, newlen))


def gen_prefixes(rng, count):
    n4 = count * 2 // 3
    n6 = count - n4
    v4, v6 = set(), set()
    add = set.add
    for o in v4_first_octets(rng, 80):
        p8 = ipaddress.ip_network("%d.0.0.0/8" % o)
        if rng.random() < 0.7:  # some /16s have no /8 above them
            add(v4, p8)
        for _ in range(8):
            p16 = rand_sub(rng, p8, 16)
            add(v4, p16)
            add(v4, rand_sub(rng, p16, 20))
            for _ in range(4):
                p24 = rand_sub(rng, p16, 24)
                add(v4, p24)
                add(v4, rand_sub(rng, p24, 28))
                for _ in range(5):
                    add(v4, rand_sub(rng, p24, 32))
    base6 = ipaddress.ip_network("2000::/3")
    p32s = set()
    while len(p32s) < 30:
        p32s.add(rand_sub(rng, base6, 32))
    for p32 in sorted(p32s):
        add(v6, p32)
        for _ in range(6):
            p48 = rand_sub(rng, p32, 48)
            add(v6, p48)
            add(v6, rand_sub(rng, p48, 56))
            for _ in range(4):
                p64 = rand_sub(rng, p48, 64)
                add(v6, p64)
                add(v6, rand_sub(rng, p64, 96))
                for _ in range(5):
                    add(v6, rand_sub(rng, p64, 128))
    # Trim or fill to the exact counts with random longer prefixes inside
    # existing ones (deeper nesting, odd lengths).
    for s, n, maxlen in ((v4, n4, 32), (v6, n6, 128)):
        if len(s) > n:
            for p in rng.sample(sorted(s), len(s) - n):
                s.remove(p)
        base = sorted(s)
        while len(s) < n:
            parent = rng.choice(base)
            if parent.prefixlen >= maxlen:
                continue
            s.add(rand_sub(rng, parent, rng.randint(parent.prefixlen + 1, maxlen)))
    out = sorted(v4) + sorted(v6)
    rng.shuffle(out)
    return out


def gen(args):
    rng = random.Random(args.seed)
    prefixes = gen_prefixes(rng, args.count)
    with open(args.rules, "w") as f:
        f.write("# %d prefixes, seed %d\n" % (len(prefixes), args.seed))
        for p in prefixes:
            t = "default" if rng.random() < 0.02 else rng.choice(TARGETS)
            f.write("rule %s %s\n" % (p, t))
    # Addresses.
    addrs = []
    for _ in range(args.addrs_count):
        r = rng.random()
        if r < 0.70:
            p = rng.choice(prefixes)
            a = int(p.network_address) | rng.getrandbits(p.max_prefixlen - p.prefixlen)
        elif r < 0.80:
            p = rng.choice(prefixes)
            first = int(p.network_address)
            last = int(p.broadcast_address)
            top = (1 << p.max_prefixlen) - 1
            a = rng.choice([first, last, max(first - 1, 0), min(last + 1, top)])
        elif r < 0.90:
            a = rng.getrandbits(32)
            addrs.append(str(ipaddress.IPv4Address(a)))
            continue
        else:
            a = rng.getrandbits(128)
            if rng.random() < 0.5:
                a = (a & ((1 << 125) - 1)) | (1 << 125)  # 2000::/3
            addrs.append(str(ipaddress.IPv6Address(a)))
            continue
        addrs.append(str(ipaddress.IPv4Address(a) if p.version == 4
                         else ipaddress.IPv6Address(a)))
    with open(args.addrs, "w") as f:
        f.write("\n".join(addrs) + "\n")
    n4 = sum(1 for p in prefixes if p.version == 4)
    lens = len(set((p.version, p.prefixlen) for p in prefixes))
    print("%d prefixes (%d IPv4, %d IPv6, %d distinct lengths), %d addresses"
          % (len(prefixes), n4, len(prefixes) - n4, lens, len(addrs)))


# ---- the reference ----

def read_rules(path):
    rules = []
    with open(path) as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if not w:
                continue
            if w[0] != "rule" or len(w) != 3:
                fail("%s: bad line %r" % (path, line))
            rules.append((ipaddress.ip_network(w[1]), w[2]))
    return rules


class Reference:
    """A dict per (family, prefix length); lookups try lengths longest first."""

    def __init__(self, rules):
        self.tables = {}
        for net, t in rules:
            key = (net.version, net.prefixlen)
            self.tables.setdefault(key, {})[int(net.network_address)] = (t, net)
        self.lens = {}
        for v, bits in ((4, 32), (6, 128)):
            lens = sorted((l for (fv, l) in self.tables if fv == v), reverse=True)
            self.lens[v] = [(((1 << l) - 1) << (bits - l), self.tables[(v, l)])
                            for l in lens]

    def lookup(self, va):
        v, x = va
        for mask, table in self.lens[v]:
            hit = table.get(x & mask)
            if hit:
                return hit
        return None


def parse_addr(s):
    """(version, integer) of an address, by the C library's parser."""
    if ":" in s:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, s), "big")
    return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, s), "big")


def linear(flat, va):
    """A scan of every rule: flat[version] is [(network, mask, len, hit)]."""
    v, x = va
    hits = [(l, hit) for net, mask, l, hit in flat[v] if x & mask == net]
    return max(hits, key=lambda h: h[0])[1] if hits else None


def check(args):
    rules = read_rules(args.rules)
    ref = Reference(rules)
    with open(args.addrs) as f:
        addrs = [l.strip() for l in f if l.strip()]
    parsed = {a: parse_addr(a) for a in addrs}
    with open(args.got) as f:
        got = [l.rstrip("\n") for l in f]
    if len(got) != len(addrs):
        fail("xredirctl printed %d lines for %d addresses" % (len(got), len(addrs)))
    # The reference against a plain scan of every rule.
    rng = random.Random(args.seed)
    flat = {4: [], 6: []}
    for n, t in rules:
        flat[n.version].append((int(n.network_address), int(n.netmask), n.prefixlen,
                                (t, n)))
    for addr in rng.sample(addrs, args.linear):
        if ref.lookup(parsed[addr]) != linear(flat, parsed[addr]):
            fail("reference disagrees with the linear scan for %s" % addr)
    agree = matched = 0
    per_len = {}
    bad = []
    want_lines = []
    for addr, line in zip(addrs, got):
        hit = ref.lookup(parsed[addr])
        want = "%s %s %s" % (addr, hit[0], hit[1]) if hit else "%s default -" % addr
        want_lines.append((addr, hit))
        if line == want:
            agree += 1
            if hit:
                matched += 1
                per_len[(hit[1].version, hit[1].prefixlen)] = \
                    per_len.get((hit[1].version, hit[1].prefixlen), 0) + 1
        elif len(bad) < 10:
            bad.append("got %r, want %r" % (line, want))
    if bad:
        for b in bad:
            print(b, file=sys.stderr)
        fail("%d of %d lookups disagree with the reference, e.g. %s"
             % (len(addrs) - agree, len(addrs), bad[0]))
    if matched < len(addrs) // 2 or matched == len(addrs):
        fail("address mix is off: %d of %d matched a rule" % (matched, len(addrs)))
    # The sample for real requests: distinct targets first, both families,
    # deep and shallow matches, a few unmatched.
    sample = []
    seen = set()
    for fam, n, nomatch in ((4, args.sample4, 2), (6, args.sample6, 1)):
        cands = [(a, h) for a, h in want_lines if parsed[a][0] == fam and h]
        rng.shuffle(cands)
        cands.sort(key=lambda ah: (ah[1][0], ah[1][1].prefixlen) in seen)
        picked = []
        for a, h in cands:
            key = (h[0], h[1].prefixlen)
            if len(picked) >= n:
                break
            if a in seen or not usable(a):
                continue
            picked.append((a, h[0]))
            seen.add(a)
            seen.add(key)
        if len(picked) < n:
            fail("only %d IPv%d sample addresses" % (len(picked), fam))
        unmatched = [a for a, h in want_lines
                     if parsed[a][0] == fam and not h and usable(a)]
        picked += [(a, "default") for a in unmatched[:nomatch]]
        sample += picked
    with open(args.sample, "w") as f:
        for a, t in sample:
            f.write("%s %s\n" % (a, t))
    deep = sum(n for (v, l), n in per_len.items() if (v == 4 and l >= 24) or l >= 64)
    print("%d/%d lookups agree on target and rule (%d matched a rule, %d of them "
          "at /24+ or /64+, %d unmatched; reference checked by linear scan "
          "on %d); %d sampled for requests"
          % (agree, len(addrs), matched, deep, len(addrs) - matched, args.linear,
             len(sample)))


def usable(addr):
    """An address a client veth may bind and send from."""
    a = ipaddress.ip_address(addr)
    if a.version == 4:
        return a.is_global and int(a) & 0xff not in (0, 255)
    return a in ipaddress.ip_network("2000::/3") and int(a) & 0xffff != 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--rules", required=True)
    g.add_argument("--addrs", required=True)
    g.add_argument("--seed", type=int, default=20261126)
    g.add_argument("--count", type=int, default=30000)
    g.add_argument("--addrs-count", type=int, default=100000)
    c = sub.add_parser("check")
    c.add_argument("--rules", required=True)
    c.add_argument("--addrs", required=True)
    c.add_argument("--got", required=True)
    c.add_argument("--sample", required=True)
    c.add_argument("--sample4", type=int, default=24)
    c.add_argument("--sample6", type=int, default=12)
    c.add_argument("--linear", type=int, default=500)
    c.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    {"gen": gen, "check": check}[args.cmd](args)


if __name__ == "__main__":
    main()
