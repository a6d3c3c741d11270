#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Load for tests/e2e/fabric.sh (standard library only): N requests, a new
TCP connection each (so a new source port each), from several source
addresses in turn, K at a time. Every answer must be 302 with
Location = --want + the request's path.

Run it in the client namespace. Prints one summary line and exits 0, or
exits 1 with the reason on stderr.

With --rate R the requests are paced (R per second in all), so that the
load spans a change made meanwhile. No request is retried: a refused,
reset or empty connection is a failure.

With --keepalive K it opens K keep-alive connections instead and sends a
request on each every --interval seconds, for up to --duration seconds,
until the server closes them: each must end cleanly, by a FIN after a
response with "Connection: close" or while idle between requests, never
by a reset, a timeout or a request left unanswered. A request sent on a
reused connection just as the server closed it while idle (closed with no
byte of a response: the race of RFC 9112, 9.3.1) is retried once on a new
connection, as HTTP clients do, and counted. It writes "ready" on
stdout once every connection has had its first answer, then the summary;
with --need-close every connection must have been closed by the server
within --duration; with --reopen a connection closed cleanly is replaced by
a new one until --duration (counted).

usage: fabric_client.py --host VIP [--port 10000] --count N
                        [--concurrency K] [--src A,B,...] --want URL
                        [--rate R]
       fabric_client.py --host ADDR --keepalive K [--interval S]
                        [--duration S] [--need-close] [--reopen] --want URL
"""

import argparse
import re
import select
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


def read_response(s, buf):
    """(status, location, close, rest of buf) of one response, or raises."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise EmptyReply("closed with %d bytes of a response" % len(buf))
        buf += d
    i = buf.index(b"\r\n\r\n")
    head = buf[:i].decode("latin-1").split("\r\n")
    buf = buf[i + 4:]
    m = re.match(r"^HTTP/1\.1 (\d{3}) ", head[0])
    if not m:
        raise ValueError("bad status line %r" % head[0])
    hdr = {}
    for line in head[1:]:
        n, _, v = line.partition(":")
        hdr[n.strip().lower()] = v.strip()
    n = int(hdr.get("content-length", "0"))
    while len(buf) < n:
        d = s.recv(4096)
        if not d:
            raise EmptyReply("closed in the body")
        buf += d
    return (int(m.group(1)), hdr.get("location"),
            hdr.get("connection", "").lower() == "close", buf[n:])


def keepalive(a):
    """K keep-alive connections, a request each every interval."""
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    lock = threading.Lock()
    res = {"answered": 0, "closed_after_close": 0, "closed_idle": 0,
           "open": 0, "raced": 0, "reopened": 0, "fails": []}
    started = threading.Barrier(a.keepalive + 1)
    t_end = time.monotonic() + a.duration

    def conn(k):
        # With --reopen, a connection the server closed cleanly is
        # replaced by a new one until the end.
        first = [True]
        while conn_once(k, first) and a.reopen and time.monotonic() < t_end:
            with lock:
                res["reopened"] += 1

    def conn_once(k, first_answer):
        """One connection; True if the server closed it cleanly."""
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        buf, n, first = b"", 0, first_answer[0]
        try:
            s.connect((a.host, a.port))
            while time.monotonic() < t_end:
                # Closed while idle? (EOF readable before we send.)
                r, _, _ = select.select([s], [], [], 0)
                if r:
                    d = s.recv(4096)
                    if not d:
                        with lock:
                            res["closed_idle"] += 1
                        return True
                    raise ValueError("unexpected bytes %r" % d[:40])
                path = "/%s/k%d/%d" % (a.tag, k, n)
                s.sendall(("GET %s HTTP/1.1\r\nHost: fabric.test\r\n\r\n"
                           % path).encode())
                try:
                    st, loc, close, buf = read_response(s, buf)
                except EmptyReply:
                    if n == 0 or buf:
                        raise
                    # Closed idle as we sent: retry on a new connection.
                    st, loc, _ = one(a.host, a.port, None, path)
                    if st != 302 or loc != a.want + path:
                        raise ValueError("retried: %d %s" % (st, loc))
                    with lock:
                        res["answered"] += 1
                        res["raced"] += 1
                        res["closed_idle"] += 1
                    return True
                if st != 302 or loc != a.want + path:
                    raise ValueError("%d %s" % (st, loc))
                n += 1
                with lock:
                    res["answered"] += 1
                if first:
                    first = first_answer[0] = False
                    started.wait()
                if close:
                    if s.recv(4096):
                        raise ValueError("data after Connection: close")
                    with lock:
                        res["closed_after_close"] += 1
                    return True
                time.sleep(a.interval)
            with lock:
                res["open"] += 1
            return False
        except (OSError, ValueError, EmptyReply) as e:
            with lock:
                res["fails"].append("conn %d after %d requests: %s: %s" %
                                    (k, n, type(e).__name__, e))
            return False
        finally:
            s.close()
            if first:
                started.abort()

    threads = [threading.Thread(target=conn, args=(k,))
               for k in range(a.keepalive)]
    for t in threads:
        t.start()
    try:
        started.wait()
        print("ready", flush=True)
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join()
    summary = ("%d keep-alive connections, %d requests answered; closed by "
               "the server: %d after Connection: close, %d while idle (%d "
               "of them as a request was sent: retried); %d reopened; %d still "
               "open" %
               (a.keepalive, res["answered"], res["closed_after_close"],
                res["closed_idle"], res["raced"], res["reopened"], res["open"]))
    if res["fails"]:
        print("%s; %d failed: %s" % (summary, len(res["fails"]),
                                     "; ".join(res["fails"][:3])),
              file=sys.stderr)
        return 1
    if a.need_close and res["open"]:
        print("%s: not closed within %.1f s" % (summary, a.duration),
              file=sys.stderr)
        return 1
    print(summary)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--src", default="")
    p.add_argument("--want", required=True)
    p.add_argument("--tag", default="f")
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--keepalive", type=int, default=0)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--need-close", action="store_true")
    p.add_argument("--reopen", action="store_true")
    a = p.parse_args()
    if a.keepalive:
        return keepalive(a)
    if a.count <= 0:
        p.error("--count N or --keepalive K")
    srcs = [x for x in a.src.split(",") if x] or [None]
    lock = threading.Lock()
    nxt = [0]
    fails = []
    ports = set()
    per_src = {}
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
            try:
                st, loc, sport = one(a.host, a.port, src, path)
                err = None
                if st != 302 or loc != a.want + path:
                    err = "%d %s" % (st, loc)
            except (OSError, ValueError, EmptyReply) as e:
                err, sport = "%s: %s" % (type(e).__name__, e), None
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
          ("; %d took over 0.5 s (longest %.2f s)" % (len(slow), max(slow))
           if slow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
