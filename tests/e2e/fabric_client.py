#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Load for tests/e2e/fabric.sh (standard library only): N requests, a new
TCP connection each (so a new source port each), from several source
addresses in turn, K at a time. Every answer must be 302 with
Location = --want + the request's path.

Run it in the client namespace. Prints one summary line and exits 0, or
exits 1 with the reason on stderr.

With --rate R the requests are paced (R per second in all), so that the
load spans a change made meanwhile; with --retries N a request whose
connection is refused, reset, or closed before any response is tried again
(a new connection, after --backoff seconds), as a client of a load-balanced
service does with an idempotent request (RFC 9110, 9.2.2): the summary
counts those retries by cause.

usage: fabric_client.py --host VIP [--port 10000] --count N
                        [--concurrency K] [--src A,B,...] --want URL
                        [--rate R] [--retries N] [--backoff S]
"""

import argparse
import re
import socket
import sys
import threading
import time

TIMEOUT = 5.0


class EmptyReply(Exception):
    """The server closed the connection before any response."""


def one(host, port, src, path):
    """(status, location, source port) or raises OSError/ValueError."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        sport = s.getsockname()[1]
        s.sendall(("GET %s HTTP/1.1\r\nHost: fabric.test\r\n"
                   "Connection: close\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                if not buf:
                    raise EmptyReply("closed with no response")
                raise ValueError("closed before a full head (%r)" % buf[:80])
            buf += d
        head = buf[:buf.index(b"\r\n\r\n")].decode("latin-1").split("\r\n")
        m = re.match(r"^HTTP/1\.1 (\d{3}) ", head[0])
        if not m:
            raise ValueError("bad status line %r" % head[0])
        loc = None
        for line in head[1:]:
            n, _, v = line.partition(":")
            if n.strip().lower() == "location":
                loc = v.strip()
        return int(m.group(1)), loc, sport
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--src", default="")
    p.add_argument("--want", required=True)
    p.add_argument("--tag", default="f")
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--backoff", type=float, default=0.05)
    a = p.parse_args()
    srcs = [x for x in a.src.split(",") if x] or [None]
    lock = threading.Lock()
    nxt = [0]
    fails = []
    ports = set()
    per_src = {}
    retried = {}
    slow = []  # requests that took over 0.5 s (e.g. a SYN retransmitted)
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= a.count:
                    return
                nxt[0] += 1
            if a.rate:
                wait = t0 + i / a.rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            src = srcs[i % len(srcs)]
            path = "/%s/%d?n=%d" % (a.tag, i, i)
            t_req = time.monotonic()
            for attempt in range(a.retries + 1):
                try:
                    st, loc, sport = one(a.host, a.port, src, path)
                    err = None
                    if st != 302 or loc != a.want + path:
                        err = "%d %s" % (st, loc)
                    break
                except (ConnectionRefusedError, ConnectionResetError,
                        EmptyReply) as e:
                    err, sport = "%s: %s" % (type(e).__name__, e), None
                    if attempt < a.retries:
                        with lock:
                            k = type(e).__name__
                            retried[k] = retried.get(k, 0) + 1
                        time.sleep(a.backoff)
                except (OSError, ValueError) as e:
                    err, sport = "%s: %s" % (type(e).__name__, e), None
                    break
            took = time.monotonic() - t_req
            with lock:
                if took > 0.5:
                    slow.append(took)
                if err:
                    fails.append("#%d from %s: %s" % (i, src, err))
                else:
                    ports.add((src, sport))
                    per_src[src] = per_src.get(src, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    ok = a.count - len(fails)
    if fails:
        print("%d of %d failed; first: %s" % (len(fails), a.count,
                                              "; ".join(fails[:3])),
              file=sys.stderr)
        return 1
    print("%d/%d answered 302 -> %s... in %.1fs (%.0f/s) from %d sources, "
          "%d distinct source address:port pairs" %
          (ok, a.count, a.want, dt, a.count / dt, len(per_src), len(ports)) +
          ("; retried: %s" % (", ".join("%d after %s" % (n, k) for k, n in
                                        sorted(retried.items())) or "none")
           if a.retries else "") +
          ("; %d took over 0.5 s (longest %.2f s)" % (len(slow), max(slow))
           if slow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
