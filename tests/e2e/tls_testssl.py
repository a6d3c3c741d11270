#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Compares two testssl.sh --jsonfile results, xredird's and a reference's
(nginx with the same certificates, scanned for fewer checks: a check it
was not scanned for counts as neither its worst nor its WARN, so the
comparison is only stricter), for the TLS suite (tests/e2e/tls.sh).

usage: tls_testssl.py XREDIRD.json REFERENCE.json [RETRY.json]

Prints a table: the protocols, every finding rated LOW or worse (or a
WARN, a check testssl.sh could not complete) on either side, the worst of
each. Exits 1, the reason last on stderr, unless xredird offers exactly
TLS 1.2 and 1.3, has no finding rated HIGH or CRITICAL, none worse than
the reference's worst, and no WARN the reference does not have (a check
left undone on xredird alone could hide a finding). RETRY.json, a second
run against xredird alone, stands for the first run's findings wherever
those were WARNs (two testssl.sh at once on a loaded machine sometimes
cannot connect for a check).
"""

import json
import sys

RANK = {"OK": 0, "INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
PROTOCOLS = ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
WANT_OFFERED = {"TLS1_2", "TLS1_3"}
# Not a finding about the server: the local openssl's build.
IGNORE = {"engine_problem"}
# Checks whose WARN is inconclusive, not a hidden finding: they rate no
# worse than INFO, and a WARN there comes from testssl.sh's own client.
# The resumption check saves the session with `s_client -sess_out
# </dev/null`, which closes about 0.2 ms after its Finished; a TLS 1.3
# ticket (sent after that Finished) that comes later is never saved, and
# the second s_client, finding no session file, counts as a connect
# problem. tls.sh's test 08 asserts resumption itself.
INCONCLUSIVE = {"sessionresumption_ticket": "resumption: see tls 08"}


def load(path):
    with open(path) as f:
        rows = json.load(f)
    out = {}
    for r in rows:
        if r["id"] in IGNORE:
            continue
        # Ids repeat per certificate ("<cert#1>" in the finding): keep the
        # worst of each.
        key = r["id"]
        old = out.get(key)
        if old is None or RANK.get(r["severity"], -1) > \
                RANK.get(old["severity"], -1):
            out[key] = r
    return out


def worst(findings):
    best = ("OK", None)
    for k, r in findings.items():
        if RANK.get(r["severity"], -1) > RANK[best[0]]:
            best = (r["severity"], k)
    return best


def offered(findings, proto):
    r = findings.get(proto)
    if r is None:
        return None
    return r["finding"].startswith("offered")


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    x, ref = load(sys.argv[1]), load(sys.argv[2])
    if len(sys.argv) == 4:
        retry = load(sys.argv[3])
        for k in [k for k, r in x.items() if r["severity"] == "WARN"]:
            if k in retry:
                x[k] = retry[k]
    problems = []

    print("%-30s %-28s %s" % ("testssl.sh", "xredird", "nginx"))
    for p in PROTOCOLS:
        cells = []
        for f in (x, ref):
            o = offered(f, p)
            cells.append("-" if o is None else
                         ("offered" if o else "not offered"))
        print("%-30s %-28s %s" % (p, cells[0], cells[1]))
        want = p in WANT_OFFERED
        if offered(x, p) is not want:
            problems.append("%s %s on xredird, want %s" %
                            (p, cells[0], "offered" if want else
                             "not offered"))
    ids = sorted(k for k in set(x) | set(ref)
                 if k not in PROTOCOLS and any(
                     RANK.get(f[k]["severity"], 0) >= 1 or
                     f[k]["severity"] == "WARN"
                     for f in (x, ref) if k in f))
    for k in ids:
        cells = []
        for f in (x, ref):
            r = f.get(k)
            cells.append("-" if r is None else "%s %s" % (
                r["severity"], r["finding"][:60 if f is ref else 20]))
        print("%-30s %-28s %s" % (k[:30], cells[0][:28], cells[1]))
    wx, wr = worst(x), worst(ref)
    print("%-30s %-28s %s" % ("worst", "%s (%s)" % wx if wx[1] else "OK",
                              "%s (%s)" % wr if wr[1] else "OK"))

    for k, r in sorted(x.items()):
        if RANK.get(r["severity"], 0) >= RANK["HIGH"]:
            problems.append("xredird %s %s: %s" % (r["severity"], k,
                                                   r["finding"]))
    if RANK[wx[0]] > RANK[wr[0]]:
        problems.append("xredird's worst (%s %s) is worse than nginx's (%s)"
                        % (wx[0], wx[1], wr[0]))
    for k, r in sorted(x.items()):
        if r["severity"] == "WARN" and k in INCONCLUSIVE:
            print("%-30s inconclusive on xredird (%s): %s" %
                  (k, INCONCLUSIVE[k], r["finding"]))
            continue
        if r["severity"] == "WARN" and not (
                k in ref and ref[k]["severity"] == "WARN"):
            problems.append("testssl.sh could not complete %s on xredird "
                            "alone: %s" % (k, r["finding"]))
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print("%d problem(s), first: %s" % (len(problems), problems[0]),
              file=sys.stderr)
        return 1
    print("exactly TLS 1.2 and 1.3; worst: xredird %s, nginx %s" %
          (wx[0], wr[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
