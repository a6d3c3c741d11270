#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Attack clients and the well-behaved victim for tests/e2e/attack.sh.

  flood     connections that pipeline requests and never read (small
            SO_RCVBUF set before connect: the kernel advertises a zero
            window and acknowledges every zero-window probe);
            --read-first reads one response first, then stops
  slowhead  connections that send a request head a few bytes at a time
  idle      connections that send nothing
  hello     connections that send a TLS ClientHello and never finish the
            handshake (the server's flight is left unread)
  victim    a well-behaved client on another address: sequential requests
            on new connections, then a keep-alive series; each timed
  heavy     many keep-alive connections from one address (a NAT), each
            making sequential requests
  squat     as an unprivileged user: binds the daemon's old abstract lock
            name and tries to create and lock files under a run directory
  spoof     raw ACK segments carrying a complete request head for flows
            that do not exist: random source addresses in a prefix,
            random ports, sequence and acknowledgment numbers (blind
            adoption attempts), or with --bare no data (bare ACKs);
            prints one JSON summary line

The attackers print {"event": "holding", ...} once their connections are
set up, keep them (reopening, with --reconnect, any the server closes, one
second later) until SIGTERM or --hold seconds, then close them all and
print one JSON summary line. victim and heavy print one JSON line and exit
0 when every request got its answer in time, 1 otherwise.
"""

import argparse
import fcntl
import json
import os
import resource
import select
import signal
import socket
import ssl
import struct
import sys
import termios
import time

from tls_client import hello_bytes
from xrclient import Conn, Fail, check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from inet import csum  # noqa: E402

STOP = False


def on_term(_sig, _frm):
    global STOP
    STOP = True


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def unread(s):
    """Bytes waiting in a socket's receive queue."""
    buf = fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def one_response(buf):
    """Whether buf holds a whole response (head and Content-Length body)."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    n = 0
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    return len(rest) >= n


# ---- the attackers ----


class Slot:
    __slots__ = ("src", "sock", "state", "out", "t_open", "retry_at", "got", "unread", "still",
                 "next_drip", "first")

    def __init__(self, src):
        self.src = src
        self.sock = None
        # new, connecting, sending, reading, held, wait (reopen at
        # retry_at), done
        self.state = "new"
        self.first = True  # its first connection not yet set up or failed
        self.out = b""
        self.t_open = 0.0
        self.retry_at = 0.0
        self.got = b""
        self.unread = -1
        self.still = 0
        self.next_drip = 0.0


class Attack:
    """N connection slots over the source addresses, driven by one epoll."""

    HOLD_EV = select.EPOLLRDHUP | select.EPOLLERR | select.EPOLLHUP

    def __init__(self, a, payload):
        self.a = a
        self.payload = payload  # first bytes each connection sends
        self.ep = select.epoll()
        self.slots = [Slot(a.src[i % len(a.src)]) for i in range(a.conns)]
        self.byfd = {}
        self.c = {
            "opened": 0,
            "established": 0,
            "refused": 0,
            "connect_timeouts": 0,
            "closed_by_server": 0,
            "established_peak": 0,
        }
        self.live = 0
        self.settled = 0
        self.t0 = time.monotonic()
        self.t_stalled = None
        self.close_times = []  # seconds after the stall, --read-first

    def open(self, sl):
        if self.c["opened"] >= self.a.conns * self.a.max_opens:
            sl.state = "done"
            self.first_done(sl)
            return
        s = socket.socket(socket.AF_INET6 if ":" in sl.src else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if self.a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.a.rcvbuf)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            s.bind((sl.src, 0))
        except OSError as e:
            s.close()
            raise SystemExit("bind %s: %s" % (sl.src, e))
        s.connect_ex((self.a.host, self.a.port))
        sl.sock, sl.state, sl.t_open = s, "connecting", time.monotonic()
        sl.out, sl.got, sl.unread, sl.still = self.payload, b"", -1, 0
        self.byfd[s.fileno()] = sl
        self.ep.register(s.fileno(), select.EPOLLOUT | self.HOLD_EV)
        self.c["opened"] += 1

    def drop(self, sl, now, counter):
        self.first_done(sl)
        if counter:
            self.c[counter] += 1
        if sl.state in ("sending", "reading", "held"):
            self.live -= 1
        if counter == "closed_by_server" and self.t_stalled is not None:
            self.close_times.append(round(now - self.t_stalled, 2))
        fd = sl.sock.fileno()
        self.ep.unregister(fd)
        del self.byfd[fd]
        sl.sock.close()
        sl.sock = None
        sl.state = "wait" if self.a.reconnect else "done"
        sl.retry_at = now + 1.0

    def send_out(self, sl, now):
        try:
            n = sl.sock.send(sl.out)
        except BlockingIOError:
            n = 0
        except OSError:
            self.drop(sl, now, "closed_by_server")
            return
        sl.out = sl.out[n:]
        if sl.out:
            return
        if self.a.read_first and sl.state == "sending":
            sl.state = "reading"
            self.ep.modify(sl.sock.fileno(), select.EPOLLIN | self.HOLD_EV)
        else:
            sl.state = "held"
            self.first_done(sl)
            self.ep.modify(sl.sock.fileno(), self.HOLD_EV)

    def event(self, fd, ev, now):
        sl = self.byfd.get(fd)
        if sl is None:
            return
        if sl.state == "connecting":
            err = sl.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.drop(sl, now, "refused")
                return
            self.c["established"] += 1
            self.live += 1
            self.c["established_peak"] = max(self.c["established_peak"], self.live)
            sl.state = "sending"
            self.send_out(sl, now)
            return
        if sl.state == "reading" and ev & select.EPOLLIN:
            try:
                d = sl.sock.recv(64)  # small reads: stop soon after one response
            except OSError:
                d = b""
            if d:
                sl.got += d
                if one_response(sl.got):
                    sl.state = "held"
                    self.first_done(sl)
                    self.ep.modify(fd, self.HOLD_EV)
                return
        broken = ev & (select.EPOLLERR | select.EPOLLHUP)
        if sl.state == "sending" and ev & select.EPOLLOUT and not broken:
            self.send_out(sl, now)
            return
        if ev & self.HOLD_EV:
            self.drop(sl, now, "closed_by_server")

    def tick(self, now, budget):
        """Connect timeouts, reopening (at most budget), dribbling, stall
        detection."""
        for sl in self.slots:
            if sl.state == "connecting" and now - sl.t_open > 3.0:
                self.drop(sl, now, "connect_timeouts")
            elif sl.state == "wait" and now >= sl.retry_at and budget > 0:
                self.open(sl)
                budget -= 1
            elif sl.state == "held" and self.a.drip and now >= sl.next_drip:
                try:
                    sl.sock.send(b"a" * self.a.drip)
                except OSError:
                    self.drop(sl, now, "closed_by_server")
                    continue
                sl.next_drip = now + self.a.interval
            if sl.state == "held" and self.a.requests:
                u = unread(sl.sock)
                sl.still = sl.still + 1 if u == sl.unread and u > 0 else 0
                sl.unread = u

    def stalled(self):
        """Connections whose receive queue holds data and stopped growing:
        the client's window is closed."""
        return sum(1 for sl in self.slots if sl.state == "held" and sl.still >= 2)

    def first_done(self, sl):
        if sl.first:
            sl.first = False
            self.settled += 1

    def run(self):
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        opening = 0
        t_hold = None
        most, t_most = 0, 0.0
        next_tick = 0.0
        while not STOP:
            now = time.monotonic()
            if now - self.t0 > self.a.hold:
                break
            if now >= next_tick:
                # At most --burst connections opened per tick: a steady
                # pressure, not a SYN flood (robust.sh has that).
                first = self.slots[opening : opening + self.a.burst]
                for sl in first:
                    self.open(sl)
                opening += len(first)
                self.tick(now, self.a.burst - len(first))
                next_tick = now + 0.25
                all_set = self.settled >= len(self.slots)
                if t_hold is None and (all_set or now - self.t0 > self.a.setup):
                    t_hold = now
                    emit(dict(self.c, event="holding", live=self.live, t=round(now - self.t0, 2)))
                if t_hold is not None and self.a.requests and self.t_stalled is None:
                    n = self.stalled()
                    if n > most:
                        most, t_most = n, now
                    # Stalled: no more connections closing their window for
                    # a second (or 5 s after holding, whatever the count).
                    if (most and now - t_most >= 1.0) or now - t_hold > 5:
                        self.t_stalled = now
                        emit(dict(self.c, event="stalled", stalled=n, live=self.live,
                                  t=round(now - self.t0, 2)))
            for fd, ev in self.ep.poll(0.05):
                self.event(fd, ev, time.monotonic())
        res = dict(self.c, live_at_end=self.live, stalled_at_end=self.stalled(),
                   seconds=round(time.monotonic() - self.t0, 2))
        if self.close_times:
            res["closed_after_stall_s"] = [min(self.close_times), max(self.close_times)]
        for sl in self.slots:
            if sl.sock is not None:
                sl.sock.close()  # SO_LINGER 0: a reset, the server frees at once
        emit(res)
        return 0


def c_flood(a):
    req = b"GET /x/flood/%07d HTTP/1.1\r\nHost: attack\r\n\r\n"
    return Attack(a, b"".join(req % i for i in range(a.requests))).run()


def c_slowhead(a):
    return Attack(a, b"GET /").run()


def c_idle(a):
    return Attack(a, b"").run()


def c_hello(a):
    # Every connection sends the same ClientHello, which a server cannot
    # tell from many clients' (no 0-RTT, so no replay check applies).
    return Attack(a, hello_bytes(ssl.create_default_context(), a.sni)).run()


# ---- the victim ----


class Victim:
    def __init__(self, a):
        self.a = a
        self.lat = []
        self.errors = []
        self.ok = 0
        self.late = 0
        self.n = 0
        self.t0 = time.monotonic()
        self.auth = ("Authorization: Bearer " + "v" * a.auth + "\r\n") if a.auth else ""

    def connect(self, deadline):
        c = Conn(self.a.host, self.a.port, src=self.a.src[0],
                 timeout=max(0.01, deadline - time.monotonic()))
        if self.a.cafile:
            # The handshake is timed with the request: it is what a
            # handshake flood would delay.
            ctx = ssl.create_default_context(cafile=self.a.cafile)
            c.sock = ctx.wrap_socket(c.sock, server_hostname=self.a.sni)
        return c

    def request(self, c, path, deadline):
        host = "[%s]" % self.a.host if ":" in self.a.host else self.a.host
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: xredir-victim\r\n"
               "Accept: */*\r\n%s\r\n" % (path, host, self.a.port, self.auth)).encode()
        if self.a.auth:
            # Two send()s with a pause (TCP_NODELAY): two segments.
            cut = len(req) // 2
            c.send(req[:cut])
            time.sleep(0.05)
            c.send(req[cut:])
        else:
            c.send(req)
        r = c.read_response(timeout=max(0.01, deadline - time.monotonic()))
        if self.a.health:
            want = {"/healthz": b"ok\n", "/readyz": b"ready\n"}[path]
            check(r.status == 200 and r.body == want,
                  "%d %r" % (r.status, r.body[:40]))
        else:
            check(r.status == 302 and r.text("location") == self.a.target + path,
                  "%d Location %r" % (r.status, r.text("location")))
        return r

    def record(self, what, t_start, err):
        dt = time.monotonic() - t_start
        self.n += 1
        self.lat.append(round(dt * 1000, 1))
        if err is None and dt <= self.a.deadline:
            self.ok += 1
            return
        self.late += err is None
        if len(self.errors) < 8:
            self.errors.append("%s: %s after %.0f ms" % (what, err or "answered late", dt * 1000))

    def path(self, kind, i):
        if self.a.health:
            return ("/healthz", "/readyz")[i % 2]
        return "/v2/victim/%s/%d?t=%d" % (kind, i, int(self.t0 * 1000) % 100000)

    def over_budget(self):
        return time.monotonic() - self.t0 > self.a.budget

    def run(self):
        total = self.a.new + self.a.keepalive
        for i in range(self.a.new):
            if self.over_budget():
                break
            path = self.path("new", i)
            t = time.monotonic()
            dl = t + self.a.timeout
            err = None
            try:
                c = self.connect(dl)
                try:
                    self.request(c, path, dl)
                finally:
                    c.close()
            except (OSError, Fail) as e:
                err = repr(e) if isinstance(e, OSError) else str(e)
            self.record(path, t, err)
            time.sleep(self.a.interval)
        s = None
        for i in range(self.a.keepalive):
            if self.over_budget():
                break
            path = self.path("ka", i)
            t = time.monotonic()
            dl = t + self.a.timeout
            err = None
            try:
                if s is None:
                    s = self.connect(dl)
                r = self.request(s, path, dl)
                if (r.text("connection") or "").lower() == "close":
                    s.close()
                    s = None
            except (OSError, Fail) as e:
                err = repr(e) if isinstance(e, OSError) else str(e)
                if s is not None:
                    s.close()
                s = None
            self.record("keep-alive " + path, t, err)
            time.sleep(self.a.interval)
        if s is not None:
            s.close()
        lat = sorted(self.lat)
        res = {
            "total": total,
            "ok": self.ok,
            "late": self.late,
            "attempted": self.n,
            "worst_ms": lat[-1] if lat else None,
            "median_ms": lat[len(lat) // 2] if lat else None,
            "deadline_ms": int(self.a.deadline * 1000),
            "errors": self.errors,
            "first_error": self.errors[0] if self.errors else None,
            "latencies_ms": self.lat,
        }
        emit(res)
        return 0 if self.ok == total else 1


def c_victim(a):
    return Victim(a).run()


# ---- a heavy legitimate client ----


def c_heavy(a):
    """--conns keep-alive connections, each --requests sequential requests,
    all in flight at once (epoll); every Location checked."""
    ep = select.epoll()
    conns = {}
    req = "GET /v2/heavy/%d/%d HTTP/1.1\r\nHost: heavy\r\n\r\n"
    ok = fail = 0
    errors = []
    worst = 0.0
    t0 = time.monotonic()

    def start(c):
        c["t"] = time.monotonic()
        c["buf"] = b""
        c["sock"].send((req % (c["id"], c["i"])).encode())

    for k in range(a.conns):
        s = socket.socket()
        s.bind((a.src[0], 0))
        s.setblocking(False)
        s.connect_ex((a.host, a.port))
        conns[s.fileno()] = {"sock": s, "id": k, "i": 0, "up": False}
        ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLIN)
    while conns and time.monotonic() - t0 < a.limit:
        for fd, ev in ep.poll(0.2):
            c = conns[fd]
            s = c["sock"]
            if not c["up"]:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or ev & select.EPOLLERR:
                    fail += a.requests
                    errors.append("conn %d: connect failed" % c["id"])
                    ep.unregister(fd)
                    s.close()
                    del conns[fd]
                    continue
                c["up"] = True
                ep.modify(fd, select.EPOLLIN)
                start(c)
                continue
            try:
                d = s.recv(65536)
            except OSError as e:
                d = b""
                errors.append("conn %d: %r" % (c["id"], e))
            if not d:
                fail += a.requests - c["i"]
                if len(errors) < 8:
                    errors.append("conn %d closed at request %d" % (c["id"], c["i"]))
                ep.unregister(fd)
                s.close()
                del conns[fd]
                continue
            c["buf"] += d
            if b"\r\n\r\n" not in c["buf"]:
                continue
            head, _, body = c["buf"].partition(b"\r\n\r\n")
            hd = head.decode("latin-1")
            n = 0
            for ln in hd.split("\r\n")[1:]:
                if ln.lower().startswith("content-length:"):
                    n = int(ln.split(":", 1)[1])
            if len(body) < n:
                continue
            worst = max(worst, time.monotonic() - c["t"])
            path = "/v2/heavy/%d/%d" % (c["id"], c["i"])
            want = "\r\nLocation: " + a.target + path + "\r\n"
            if hd.startswith("HTTP/1.1 302 ") and want in hd + "\r\n":
                ok += 1
            else:
                fail += 1
                if len(errors) < 8:
                    errors.append("%s: %r" % (path, hd[:120]))
            c["i"] += 1
            if c["i"] == a.requests:
                ep.unregister(fd)
                s.close()
                del conns[fd]
            else:
                start(c)
    for c in conns.values():
        fail += a.requests - c["i"]
        c["sock"].close()
    if conns:
        errors.append("%d connections unfinished after %ss" % (len(conns), a.limit))
    total = a.conns * a.requests
    emit({"total": total, "ok": ok, "failed": fail, "worst_ms": round(worst * 1000, 1),
          "seconds": round(time.monotonic() - t0, 2), "errors": errors[:8]})
    return 0 if ok == total else 1


# ---- the lock squatter ----


def c_squat(a):
    """What an unprivileged local user can take before the daemon starts.
    Runs as that user (setpriv) in the daemon's network namespace."""
    signal.signal(signal.SIGTERM, on_term)
    res = {"uid": os.getuid(), "abstract": None, "created": [], "locked": [], "denied": []}
    held = []
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0xredird/" + a.iface)
        s.listen(4)
        res["abstract"] = "@xredird/" + a.iface
        held.append(s)
    except OSError as e:
        res["denied"].append("@xredird/%s: %s" % (a.iface, e.strerror))
    ns = os.stat("/proc/self/ns/net").st_ino
    names = [
        "iface-%d-%s.lock" % (ns, a.iface),
        "%s.lock" % a.iface,
        "xredird-%s.lock" % a.iface,
        "xredird.lock",
        "lock",
    ]
    for name in names:
        p = os.path.join(a.run_dir, name)
        try:
            fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as e:
            res["denied"].append("create %s: %s" % (p, e.strerror))
            continue
        res["created"].append(p)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(fd)
    # Whatever lock files are there already (a previous daemon's): a read
    # descriptor is enough for flock().
    try:
        existing = sorted(os.listdir(a.run_dir))
    except OSError as e:
        existing = []
        res["denied"].append("list %s: %s" % (a.run_dir, e.strerror))
    for name in existing:
        p = os.path.join(a.run_dir, name)
        if not os.path.isfile(p) or p in res["created"]:
            continue
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError as e:
            res["denied"].append("open %s: %s" % (p, e.strerror))
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            res["locked"].append(p)
            held.append(fd)
        except OSError as e:
            res["denied"].append("flock %s: %s" % (p, e.strerror))
            os.close(fd)
    res["event"] = "holding"
    emit(res)
    t0 = time.monotonic()
    while not STOP and time.monotonic() - t0 < a.hold:
        time.sleep(0.1)
    return 0


def c_spoof(a):
    # IPPROTO_RAW: the IP header is ours (the kernel fills its checksum
    # and id), the TCP checksum too. Nothing comes back to these
    # addresses: they are not the namespace's.
    net = int.from_bytes(socket.inet_aton(a.prefix.split("/")[0]), "big")
    bits = 32 - int(a.prefix.split("/")[1])
    dst = socket.inet_aton(a.host)
    head = b"" if a.bare else (
        "GET /spoof HTTP/1.1\r\nHost: %s\r\nUser-Agent: spoof\r\n\r\n"
        % a.host).encode()
    plen = 20 + len(head)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rnd = os.urandom
    emit({"event": "sending", "segments": a.count})
    t0 = time.monotonic()
    srcs = set()
    sent = 0
    while sent < a.count and not STOP:
        # Paced by slots of 10 ms: a.rate segments a second.
        due = min(a.count, int((time.monotonic() - t0) * a.rate) + 1)
        while sent < due:
            r = rnd(14)
            src = struct.pack("!I", net | (int.from_bytes(r[0:4], "big") & ((1 << bits) - 1)))
            sport = 1024 + int.from_bytes(r[4:6], "big") % 64512
            tcp = struct.pack("!HH4s4sBBHHH", sport, a.port, r[6:10], r[10:14],
                              5 << 4, 0x10, 65535, 0, 0) + head
            c = csum(src + dst + struct.pack("!BBH", 0, 6, plen) + tcp)
            tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, 0, 0x4000, 64, 6,
                             0, src, dst)
            s.sendto(ip + tcp, (a.host, 0))
            srcs.add(src)
            sent += 1
        time.sleep(0.01)
    emit({"sent": sent, "sources": len(srcs),
          "seconds": round(time.monotonic() - t0, 2)})
    return 0 if sent == a.count else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def srcs(v):
        return [x for x in v.split(",") if x]

    def common(sp):
        sp.add_argument("--host", default="10.77.0.1")
        sp.add_argument("--port", type=int, default=10000)
        sp.add_argument("--src", type=srcs, required=True,
                        help="source address(es), comma-separated")

    def attacker(sp):
        common(sp)
        sp.add_argument("--conns", type=int, required=True)
        sp.add_argument("--hold", type=float, default=60,
                        help="stop by itself after this many seconds")
        sp.add_argument("--setup", type=float, default=15,
                        help="holding after this many seconds at most")
        sp.add_argument("--burst", type=int, default=250, help="connections opened per 0.25 s")
        sp.add_argument("--reconnect", action="store_true")
        sp.add_argument("--max-opens", type=int, default=20,
                        help="at most this many opens per slot")
        sp.add_argument("--rcvbuf", type=int, default=0)
        sp.set_defaults(requests=0, read_first=False, drip=0, interval=1.0)

    sp = sub.add_parser("flood")
    attacker(sp)
    sp.add_argument("--requests", type=int, default=400)
    sp.add_argument("--read-first", action="store_true")
    sp = sub.add_parser("slowhead")
    attacker(sp)
    sp.add_argument("--drip", type=int, default=3, help="bytes sent per --interval")
    sp.add_argument("--interval", type=float, default=1.0)
    sp = sub.add_parser("idle")
    attacker(sp)
    sp = sub.add_parser("hello")
    attacker(sp)
    sp.add_argument("--sni", required=True, help="the server name in the ClientHello")
    sp = sub.add_parser("victim")
    common(sp)
    sp.add_argument("--target", default="https://k8s.gcr.io")
    sp.add_argument("--new", type=int, default=20)
    sp.add_argument("--keepalive", type=int, default=20)
    sp.add_argument("--interval", type=float, default=0.2)
    sp.add_argument("--deadline", type=float, default=1.0,
                    help="each answer within this many seconds")
    sp.add_argument("--timeout", type=float, default=2.0, help="give up on a request after this")
    sp.add_argument("--budget", type=float, default=30, help="requests not started by then fail")
    sp.add_argument("--auth", type=int, default=0,
                    help="an Authorization header of this size; the head in two send()s")
    sp.add_argument("--health", action="store_true", help="/healthz and /readyz, 200 expected")
    sp.add_argument("--cafile", help="HTTPS: verify the server with this CA")
    sp.add_argument("--sni", help="HTTPS: the server name to send and verify")
    sp = sub.add_parser("heavy")
    common(sp)
    sp.add_argument("--target", default="https://k8s.gcr.io")
    sp.add_argument("--conns", type=int, default=200)
    sp.add_argument("--requests", type=int, default=20)
    sp.add_argument("--limit", type=float, default=60)
    sp = sub.add_parser("spoof")
    sp.add_argument("--host", required=True)
    sp.add_argument("--port", type=int, default=10000)
    sp.add_argument("--prefix", required=True, help="random sources in this IPv4 prefix")
    sp.add_argument("--count", type=int, required=True)
    sp.add_argument("--rate", type=float, default=10000, help="segments per second")
    sp.add_argument("--bare", action="store_true", help="bare ACKs: no request head")
    sp = sub.add_parser("squat")
    sp.add_argument("--iface", required=True)
    sp.add_argument("--run-dir", default="/run/xredir")
    sp.add_argument("--hold", type=float, default=60)
    a = p.parse_args()
    if a.cmd != "squat":
        raise_nofile()
    return globals()["c_" + a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
