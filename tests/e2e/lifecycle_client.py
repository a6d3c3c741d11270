#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Client-side checks for tests/e2e/lifecycle.sh (standard library only).

Run in the namespace a check names (`ip netns exec NS python3 ...`). Each
check exits 0 with one summary line on stdout, or 1 with the reason as the
last line on stderr.

  drain        idle keep-alive + slow request, SIGTERM to --pid, then: FIN on
               the idle one, RST for new connections, the slow request's
               answer with Connection: close
  local-drain  the same drain for a client of the kernel-socket listener
  hold         a connection with half a request head, held --seconds, then
               completed: says what became of it
  refused      a connect is refused (RST)
  wait-serving requests until one is answered; prints when (epoch seconds)
  bad          malformed requests: each gets 400 and a close
  storm        connects back to back from --threads threads for --seconds,
               SIGTERM to --pid after --sigterm-after s: every connect must
               be answered or refused at once (none waits for a SYN
               retransmission)
  readyz       polls a URL from the first moment it accepts until it is 200
  idle-flood   --count connections that send nothing, from the --addr
               sources in turn, held until --until-file exists; then says
               how many are still open, were reset or closed
  drip         a request head sent one byte per --interval: when (after its
               first byte) and how the server closed it
  paced        --count requests on one connection, --interval apart (long
               enough for the client's delayed ACK of each response alone),
               then --seconds silent before the close
  half-close   --count connections, each a request and at once the
               client's FIN (shutdown): every response whole, then the
               server's FIN; the client's retransmitted segments (its
               namespace's TcpRetransSegs) counted over the run
  server-close the same with Connection: close and no shutdown: the
               server's FIN first, then the client's
  pipeline-split  a request head's first bytes, --seconds later the rest
               and --count - 1 more heads in one segment: every response
  json-lines   every line of a file is a JSON object
  ip-scan      the client addresses found in a file (none expected)
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time

from xrclient import TIMEOUT, Conn, Fail, check

def request(path, extra="", version="HTTP/1.1"):
    return ("GET %s %s\r\nHost: lifecycle.test\r\nUser-Agent: lifecycle\r\n"
            "%s\r\n" % (path, version, extra)).encode()


def try_connect(host, port, src=None, timeout=2.0):
    """'refused', 'timeout' or 'connected' (closed again at once)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    finally:
        s.close()


def http_get(url, timeout=1.0, src=None):
    """(status, body) of a GET on a fresh connection, or (None, error)."""
    m = re.match(r"^http://(\[[^]]+\]|[^/:]+):(\d+)(/.*)$", url)
    check(m, "bad url %r" % url)
    host = m.group(1).strip("[]")
    try:
        c = Conn(host, int(m.group(2)), src, timeout=timeout)
    except OSError as e:
        return None, type(e).__name__
    try:
        c.send(request(m.group(3), "Connection: close\r\n"))
        resp = c.read_response(timeout=timeout)
        return resp.status, resp.body
    except (Fail, OSError) as e:
        return None, str(e)
    finally:
        c.close()


# ---- checks ----


def c_drain(a):
    """SIGTERM with an idle keep-alive connection and a slow request open."""
    idle = Conn(a.host, a.port, a.src)
    idle.send(request("/idle"))
    h = idle.read_response()
    st = h.status
    check(st == 302 and h.text("connection") == "keep-alive",
          "idle: before the drain: %d %r" % (st, h))
    slow = Conn(a.host, a.port, a.src)
    head = request("/slow?x=1")
    slow.send(head[:-2])  # all but the final CRLF: the head is incomplete
    time.sleep(0.2)
    r, _, _ = select.select([slow.sock], [], [], 0)
    check(not r, "slow: the server answered or closed a partial head")

    readyz = []
    stop_poll = threading.Event()

    def poll_ready():
        while not stop_poll.is_set():
            readyz.append(http_get("http://%s/readyz" % a.metrics)[0])
            healthz.append(http_get("http://%s/healthz" % a.metrics)[0])
            stop_poll.wait(0.1)

    healthz = []
    poller = None
    t0 = time.monotonic()
    os.kill(a.pid, signal.SIGTERM)
    print("sigterm at %.3f" % time.time(), file=sys.stderr, flush=True)
    # The idle connection: the server's FIN, promptly.
    fin = idle.wait_eof(a.fin_within)
    check(not idle.reset, "idle: reset instead of a FIN")
    idle.close()
    # The drain has begun (the FIN says so): /readyz must say 503 now.
    if a.metrics:
        poller = threading.Thread(target=poll_ready)
        poller.start()
    # New connections: refused while the slow request is still open.
    results = []
    while time.monotonic() - t0 < a.complete_after:
        results.append(try_connect(a.host, a.port, a.src))
        time.sleep(0.1)
    check(results, "no connect attempted during the drain")
    bad = [x for x in results if x != "refused"]
    check(not bad, "new connections during the drain: %r" % results)
    # The slow request completes within the grace time.
    t1 = time.monotonic()
    slow.send(head[-2:])
    h = slow.read_response()
    st = h.status
    check(st == 302, "slow: status %d" % st)
    check(h.text("connection") == "close",
          "slow: Connection %r, want close" % h.text("connection"))
    check((h.text("location") or "").endswith("/slow?x=1"),
          "slow: Location %r" % h.text("location"))
    closed = slow.wait_eof(2.0)
    check(not slow.reset, "slow: reset instead of a FIN after the answer")
    slow.close()
    answered = time.monotonic() - t1
    stop_poll.set()
    if poller:
        poller.join()
        check(readyz and all(s == 503 for s in readyz),
              "/readyz during the drain: %r" % readyz)
        check(all(s == 200 for s in healthz),
              "/healthz during the drain: %r" % healthz)
    print("idle FIN %.0f ms after SIGTERM; %d new connects refused; slow "
          "request answered %.0f ms after its last byte with Connection: "
          "close, FIN %.0f ms later%s" %
          (fin * 1000, len(results), answered * 1000, closed * 1000,
           "; /readyz 503 x%d, /healthz 200 x%d while draining" %
           (len(readyz), len(healthz)) if poller else ""))


def c_hold(a):
    """Half a request head, held for --seconds (SIGTERM the daemon
    meanwhile); then the rest of the head is sent and what the connection
    does is reported: an answer, 'reset' or 'closed' (never a hang)."""
    c = Conn(a.host, a.port, a.src)
    head = request("/hold")
    c.send(head[:-2])
    print("holding", flush=True)
    time.sleep(a.seconds)
    r, _, _ = select.select([c.sock], [], [], 0)
    before = "quiet"
    if r:
        before = "closed" if not c.fill(0.1) else "data"
        before = "reset" if c.reset else before
    try:
        c.send(head[-2:])
        h = c.read_response(timeout=2.0)
        st = h.status
        after = "answered %d Connection: %s" % (st, h.text("connection"))
    except ConnectionResetError:
        after = "reset"
    except BrokenPipeError:
        after = "reset"
    except Fail as e:
        after = "reset" if c.reset else ("closed" if c.eof else str(e))
    print("held %.1fs: %s before the rest of the head, then %s" %
          (a.seconds, before, after), flush=True)
    check("timed out" not in after, "the connection hangs: %s" % after)


def c_local_drain(a):
    """SIGTERM while a client of the kernel-socket listener (run this in the
    server namespace) has an idle keep-alive connection and a request half
    sent: the same drain as over AF_XDP. Reports every deviation."""
    idle = Conn(a.host, a.port)
    idle.send(request("/idle"))
    h = idle.read_response()
    st = h.status
    check(st == 302 and h.text("connection") == "keep-alive",
          "idle: before the drain: %d %r" % (st, h))
    slow = Conn(a.host, a.port)
    head = request("/slow")
    slow.send(head[:-2])
    time.sleep(0.1)
    t0 = time.monotonic()
    os.kill(a.pid, signal.SIGTERM)
    issues, seen = [], []
    try:
        fin = idle.wait_eof(a.fin_within)
        seen.append("idle closed after %.0f ms" % (fin * 1000))
    except Fail as e:
        issues.append("idle keep-alive connection: %s after SIGTERM" % e)
    idle.close()
    time.sleep(0.1)
    new = try_connect(a.host, a.port)
    if new == "connected":
        c = Conn(a.host, a.port)
        c.send(request("/new"))
        try:
            h = c.read_response(timeout=1.0)
            st = h.status
            new = "answered %d Connection: %s" % (st, h.text("connection"))
        except Fail as e:
            new = "accepted, then %s" % e
        c.close()
    (seen if new == "refused" else issues).append(
        "new connection during the drain: %s" % new)
    while time.monotonic() - t0 < a.complete_after:
        time.sleep(0.05)
    try:
        slow.send(head[-2:])
        h = slow.read_response(timeout=2.0)
        st = h.status
        res = "%d Connection: %s" % (st, h.text("connection"))
        ok = st == 302 and h.text("connection") == "close"
    except (Fail, OSError) as e:
        res, ok = "no answer (%s)" % e, False
    (seen if ok else issues).append(
        "request completed %.1fs into the drain: %s" % (a.complete_after, res))
    slow.close()
    check(not issues, "; ".join(issues))
    print("; ".join(seen))


def c_bad(a):
    """Malformed request heads: 400, then the server closes."""
    for raw in (b"GET / HTTP/1.1\r\nHost: a\r\nBad header\r\n\r\n",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                b"GET /a b c HTTP/1.1\r\nHost: a\r\n\r\n"):
        c = Conn(a.host, a.port, a.src)
        c.send(raw)
        resp = c.read_response()
        st = resp.status
        check(st == 400, "status %d for %r" % (st, raw[:40]))
        c.wait_eof(2.0)
        c.close()
    print("3 malformed heads: 400 and a close")


def c_storm(a):
    """Connects (no request) back to back; each must be accepted or refused
    within --slow seconds. A SYN dropped unanswered is retransmitted by
    the client's kernel after 1 s: such connects show up as slow."""
    stop = time.monotonic() + a.seconds
    lock = threading.Lock()
    res = {"connected": 0, "refused": 0, "timeout": 0}
    slow = []
    t_sig = [None]

    def worker():
        while time.monotonic() < stop:
            t0 = time.monotonic()
            r = try_connect(a.host, a.port, a.src, timeout=3.0)
            dt = time.monotonic() - t0
            with lock:
                res[r] += 1
                if dt > a.slow:
                    slow.append((t0 - t_sig[0] if t_sig[0] else None, dt, r))

    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    time.sleep(a.sigterm_after)
    t_sig[0] = time.monotonic()
    os.kill(a.pid, signal.SIGTERM)
    for t in threads:
        t.join()
    summary = ", ".join("%s %d" % kv for kv in sorted(res.items()))
    if slow:
        check(False, "%d of %d connects took > %.1fs (a SYN dropped: the "
              "client waited for its retransmission), e.g. started %+.3fs "
              "after SIGTERM, %s after %.2fs; all: %s" %
              (len(slow), sum(res.values()), a.slow, slow[0][0] or 0.0,
               slow[0][2], slow[0][1], summary))
    print("%s; none slower than %.1fs" % (summary, a.slow))


def c_refused(a):
    res = try_connect(a.host, a.port, a.src, timeout=TIMEOUT)
    check(res == "refused", "connect to %s port %d: %s, want refused" %
          (a.host, a.port, res))
    print("connect to %s port %d refused" % (a.host, a.port))


def c_wait_serving(a):
    """Polls with requests (every 5 ms, each on a new connection) until one
    is answered 302; prints the time of that answer (epoch seconds)."""
    url_host = "[%s]" % a.host if ":" in a.host else a.host
    deadline = time.time() + a.timeout
    tries = 0
    last = None
    while time.time() < deadline:
        tries += 1
        st, info = http_get("http://%s:%d/ready" % (url_host, a.port), 0.5,
                            a.src)
        if st == 302:
            print("first 302 at %.3f after %d tries" % (time.time(), tries))
            return
        last = (st, info)
        time.sleep(0.005)
    raise Fail("not serving after %.1fs (%d tries, last %r)" %
               (a.timeout, tries, last))


def c_readyz(a):
    """GET the URL every few ms from the first moment; the statuses seen
    until the first 200, compressed: 'refused x12, 503 x3, 200'."""
    deadline = time.time() + a.timeout
    seen = []
    while time.time() < deadline:
        st, info = http_get(a.url, 0.5)
        seen.append(st if st is not None else info)
        if st == 200:
            break
        time.sleep(0.002)
    out = []
    for s in seen:
        s = "refused" if s == "ConnectionRefusedError" else str(s)
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    print(", ".join("%s x%d" % (s, n) if n > 1 else s for s, n in out))
    check(seen and seen[-1] == 200, "no 200 within %.1fs" % a.timeout)


def conn_state(sock):
    """'open' (nothing happened), 'reset', 'closed' (FIN) or 'data'."""
    r, _, _ = select.select([sock], [], [], 0)
    if not r:
        return "open"
    try:
        return "data" if sock.recv(1) else "closed"
    except ConnectionResetError:
        return "reset"


def c_idle_flood(a):
    srcs = a.addr or [None]
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    socks = []
    res = {"open": 0, "reset": 0, "closed": 0, "data": 0}
    for i in range(a.count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        if srcs[i % len(srcs)]:
            s.bind((srcs[i % len(srcs)], 0))
        try:
            s.connect((a.host, a.port))
        except (ConnectionResetError, ConnectionRefusedError):
            # Reset before the connect was seen to complete.
            res["reset"] += 1
            s.close()
            continue
        except OSError as e:
            raise Fail("connect %d of %d: %s" % (i + 1, a.count, e))
        socks.append(s)
    print("holding %d from %d sources" % (len(socks), len(srcs)), flush=True)
    deadline = time.monotonic() + a.timeout
    while not os.path.exists(a.until_file):
        check(time.monotonic() < deadline,
              "no %s within %.0fs" % (a.until_file, a.timeout))
        time.sleep(0.05)
    for s in socks:
        res[conn_state(s)] += 1
        s.close()
    print(" ".join("%s=%d" % kv for kv in sorted(res.items())))


def c_drip(a):
    """Never answered: the head is long enough that it would take far
    longer than any header timeout to complete."""
    c = Conn(a.host, a.port, a.src)
    head = request("/drip", "X-Pad: %s\r\n" % ("p" * 64))
    t0 = None
    sent = 0
    how = None
    for b in head:
        try:
            c.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            how = "reset"
            break
        sent += 1
        if t0 is None:
            t0 = time.monotonic()
        r, _, _ = select.select([c.sock], [], [], a.interval)
        if r:
            how = conn_state(c.sock)
            break
        check(time.monotonic() - t0 < a.timeout,
              "still open %.1fs after the first byte (%d of %d bytes "
              "sent)" % (a.timeout, sent, len(head)))
    check(how is not None, "the whole head was sent without a close")
    check(how in ("reset", "closed"), "the server sent data: %r" %
          c.sock.recv(200))
    print("%s %.2f s after the first byte, %d of %d bytes sent" %
          (how, time.monotonic() - t0, sent, len(head)))


def c_paced(a):
    c = Conn(a.host, a.port, a.src)
    for i in range(a.count):
        if i:
            time.sleep(a.interval)  # the pause is the test's subject
        c.send(request("/paced/%d" % i))
        r = c.read_response()
        check(r.status in (301, 302, 303, 307, 308),
              "response %d: status %d" % (i + 1, r.status))
    time.sleep(a.seconds)  # the last response's ACK alone, then nothing
    c.close()
    print("%d responses, %.2f s apart, then %.1f s silent" %
          (a.count, a.interval, a.seconds))


def retrans_segs():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Tcp:")]
    return int(rows[1][rows[0].index("RetransSegs")])


def c_half_close(a):
    closes(a, True)


def c_server_close(a):
    closes(a, False)


def closes(a, client_first):
    before = retrans_segs()
    for i in range(a.count):
        c = Conn(a.host, a.port, a.src)
        if client_first:
            c.send(request("/half/%d" % i))
            c.sock.shutdown(socket.SHUT_WR)
        else:
            c.send(request("/close/%d" % i, "Connection: close\r\n"))
        r = c.read_response()
        check(r.status in (301, 302, 303, 307, 308),
              "connection %d: status %d" % (i + 1, r.status))
        while c.fill(a.timeout):
            pass
        check(c.eof and not c.reset and not c.buf,
              "connection %d: %s after the response" %
              (i + 1, "a reset" if c.reset else
               "%d more bytes" % len(c.buf) if c.buf else "no FIN"))
        c.close()
    print(json.dumps({"connections": a.count,
                      "retransmitted": retrans_segs() - before}))


def c_pipeline_split(a):
    """The first head waits --seconds for its rest inside xredird; the
    others come whole behind that rest."""
    one = b"GET /p HTTP/1.1\r\nHost: l\r\n\r\n"
    c = Conn(a.host, a.port, a.src)
    c.send(one[:10])
    time.sleep(a.seconds)  # the wait being measured, not a poll
    c.send(one[10:] + one * (a.count - 1))
    for i in range(a.count):
        r = c.read_response()
        check(r.status in (301, 302, 303, 307, 308),
              "response %d: status %d" % (i + 1, r.status))
    c.close()
    print("%d responses, the first head split %.2f s" % (a.count, a.seconds))


# Log events and fields that are numbers (user/xredird.c, user/io/*.c).
NUMERIC = {
    "serving": ("port", "queues", "ring_size", "busy_poll_us", "coalesce_us"),
    "worker_started": ("queue",),
    "listener_limits": ("service_slots", "header_timeout_ms"),
    "request": ("status",),
}


def c_json_lines(a):
    n = typed = 0
    with open(a.file, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise Fail("line %d is not JSON (%s): %r" % (i, e, line[:200]))
            check(isinstance(obj, dict), "line %d is not an object" % i)
            check("msg" in obj and "level" in obj,
                  "line %d has no msg/level: %r" % (i, line[:200]))
            # Fields are typed: numbers are JSON numbers, not strings.
            for k in NUMERIC.get(obj["msg"], ()):
                check(k in obj and type(obj[k]) is int,
                      "line %d: %s is not a number: %r" % (i, k, line[:200]))
                typed += 1
            n += 1
    check(n > 0, "no lines")
    check(typed > 0, "no line with a numeric field")
    print("%d lines, all JSON objects with level and msg; %d numeric fields"
          % (n, typed))


def c_ip_scan(a):
    """Fails if any of the given addresses (or any IPv4/IPv6-looking token
    not in --allow) appears in the file."""
    text = open(a.file, encoding="utf-8", errors="replace").read()
    found = [ip for ip in a.addr if ip in text]
    v4 = set(re.findall(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])", text))
    v6 = set(m for m in re.findall(r"(?<![\w:])[0-9a-fA-F:]*::?[0-9a-fA-F:]+",
                                   text) if m.count(":") >= 2)
    other = sorted((v4 | v6) - set(a.allow))
    if found:
        line = next(l for l in text.splitlines() if any(f in l for f in found))
        raise Fail("client addresses in the log: %s (e.g. %r)" % (found, line))
    check(not other, "addresses in the log: %s" % other)
    print("no client address among %d lines (allowed: %s)" %
          (len(text.splitlines()), ", ".join(a.allow) or "none"))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("check")
    p.add_argument("--host", default="10.77.0.1")
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--src")
    p.add_argument("--pid", type=int)
    p.add_argument("--metrics", help="ADDR:PORT of /readyz during a drain")
    p.add_argument("--fin-within", type=float, default=0.5)
    p.add_argument("--complete-after", type=float, default=1.0)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--sigterm-after", type=float, default=0.5)
    # A dropped SYN costs the client its 1 s initial RTO; shorter delays
    # are scheduling noise on a busy machine, not a blackhole.
    p.add_argument("--slow", type=float, default=0.9)
    p.add_argument("--url")
    p.add_argument("--file")
    p.add_argument("--addr", action="append", default=[])
    p.add_argument("--allow", action="append", default=[])
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--until-file")
    p.add_argument("--interval", type=float, default=1.0)
    a = p.parse_args()
    fn = globals().get("c_" + a.check.replace("-", "_"))
    if not fn:
        p.error("unknown check %r" % a.check)
    try:
        fn(a)
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
