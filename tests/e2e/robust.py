#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Kernel-socket clients for tests/e2e/robust.sh (run in the client namespace).

  keepalive    many HTTP/1.1 keep-alive requests (http.client) over several
               connections in parallel, over HTTPS with --cafile (the
               certificate verified); every Location checked
  slowloris    a request head dribbled one byte at a time: when does the
               server close?
  idle         one request, then silence: when does the server close?
  table-full   N keep-alive connections, then one more: it must be reset
               while the N still work
  stop-reading pipelines requests without ever reading: the server's window
               must close, and the server must give up at some point
  pcap-icmp    ICMP echo sequence numbers of a capture, in capture order
  pcap-tcp     per-flow counts of duplicate and reordered client segments

Each prints one JSON object on stdout (details on stderr) and exits 0 when
its own checks pass, 1 when they do not.
"""

import argparse
import errno
import http.client
import json
import select
import socket
import ssl
import struct
import sys
import threading
import time


def out(obj, ok):
    print(json.dumps(obj, sort_keys=True), flush=True)
    return 0 if ok else 1


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- keepalive ----


def late_answer(sock, t_sent, wait):
    """After a read timeout, for the failure's report: whether the answer
    still comes (a long retransmission tail) or never (a stuck flow), and
    the connection's port, to find it in the test's capture."""
    port = sock.getsockname()[1]
    sock.settimeout(wait)
    try:
        got = sock.recv(65536)
        what = "%d bytes %.1fs after the request" % (len(got), time.monotonic() - t_sent) if got else "EOF"
    except (OSError, ssl.SSLError) as e:
        what = "nothing %.1fs after the request (%r)" % (time.monotonic() - t_sent, e)
    return "[client port %d; then: %s]" % (port, what)


def c_keepalive(a):
    """Each request once; the only retry is the one RFC 9112 (9.3.1) allows
    for an idempotent request: the server closed a reused connection
    without a byte of response (its keep-alive idle timeout racing a
    request that loss held back for seconds). Such a retry counts only if
    the close came at least --idle-timeout - 0.5 s after the previous
    request was sent (a reset: --idle-timeout + --linger - 0.5 s, the flow
    being gone by then); an earlier close or reset is a failure."""
    results = {"ok": 0, "fail": 0, "idle_close_retries": 0, "errors": [], "retry_gaps": []}
    lock = threading.Lock()
    late_waited = [False]
    ctx = None
    if a.cafile:
        ctx = ssl.create_default_context(cafile=a.cafile)
        ctx.set_alpn_protocols(["http/1.1"])

    def connection():
        with lock:
            results["connections"] = results.get("connections", 0) + 1
        if ctx is None:
            return http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
        return http.client.HTTPSConnection(a.host, a.port, timeout=a.timeout, context=ctx)

    per = a.count // a.conns
    extra = a.count - per * a.conns

    def once(conn, path, want):
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        loc = r.getheader("Location")
        good = r.status == 302 and loc == want and want.encode() in body
        if ctx is not None and conn.sock is not None:
            seen = "%s %s" % (conn.sock.version(), conn.sock.selected_alpn_protocol())
            with lock:
                results.setdefault("tls", {})
                results["tls"][seen] = results["tls"].get(seen, 0) + 1
        return good, None if good else "%s: status %d Location %r" % (path, r.status, loc)

    def worker(w):
        n = per + (1 if w < extra else 0)
        conn = None
        last_sent = None  # when the previous request on conn was sent
        for i in range(n):
            path = "%s/%d/%d?q=%d" % (a.prefix, w, i, i * 7)
            want = a.target + path
            retried = False
            try:
                if conn is None:
                    conn = connection()
                    last_sent = None
                t_sent = time.monotonic()
                try:
                    good, err = once(conn, path, want)
                except (
                    http.client.RemoteDisconnected,
                    ConnectionResetError,
                    BrokenPipeError,
                    ssl.SSLEOFError,
                ) as e:
                    gap = time.monotonic() - last_sent if last_sent is not None else -1
                    conn.close()
                    least = a.idle_timeout - 0.5
                    if not isinstance(e, (http.client.RemoteDisconnected, ssl.SSLEOFError)):
                        least += a.linger
                    if gap < least:
                        raise RuntimeError("closed %.2fs after the previous request: %r" % (gap, e))
                    retried = True
                    conn = connection()
                    t_sent = time.monotonic()
                    good, err = once(conn, path, want)
                    with lock:
                        results["retry_gaps"].append(round(gap, 2))
                last_sent = t_sent
            except Exception as e:  # noqa: BLE001 - any other failure counts
                good, err = False, "%s: %r" % (path, e)
                if isinstance(e, TimeoutError) and conn is not None and conn.sock is not None:
                    with lock:
                        first, late_waited[0] = not late_waited[0], True
                    if first:  # one wait bounds the run
                        err += " " + late_answer(conn.sock, t_sent, a.late_wait)
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                if retried:
                    results["idle_close_retries"] += 1
                if good:
                    results["ok"] += 1
                else:
                    results["fail"] += 1
                    if len(results["errors"]) < 10:
                        results["errors"].append(err)
        if conn is not None:
            conn.close()

    t0 = time.monotonic()
    ths = [threading.Thread(target=worker, args=(w,)) for w in range(a.conns)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    results["seconds"] = round(time.monotonic() - t0, 2)
    results["requests"] = a.count
    for e in results["errors"]:
        log("error: %s" % e)
    return out(results, results["ok"] == a.count)


# ---- slowloris / idle ----


def wait_close(s, deadline):
    """Reads until EOF or reset; returns (how, time, bytes read)."""
    got = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0, min(0.05, deadline - time.monotonic())))
        if not r:
            continue
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return "rst", time.monotonic(), got
        if not d:
            return "fin", time.monotonic(), got
        got += d
    return None, time.monotonic(), got


def connect(a, sport):
    """A TCP connection from a fixed source port (0: any), so that a test's
    capture can hold just its own traffic."""
    return socket.create_connection((a.host, a.port), timeout=5, source_address=("", sport))


def c_slowloris(a):
    s = connect(a, a.sport)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = b"GET /v2/slowloris HTTP/1.1\r\nHost: slow.test\r\nX-Slow: " + b"s" * 100000
    t0 = time.monotonic()
    sent = 0
    how, t_close, got = None, None, b""
    deadline = t0 + a.limit
    nxt = t0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= nxt and how is None:
            try:
                s.send(head[sent : sent + 1])
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                how, t_close = "rst", now
                break
            nxt += a.interval
        r, _, _ = select.select([s], [], [], max(0, min(a.interval, nxt - time.monotonic())))
        if r:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                how, t_close = "rst", time.monotonic()
                break
            if not d:
                how, t_close = "fin", time.monotonic()
                break
            got += d
    # Keep dribbling a little after the close: must not revive anything.
    after = 0
    for _ in range(5):
        try:
            s.send(b"x")
            after += 1
        except OSError:
            break
        time.sleep(a.interval)
    s.close()
    res = {
        "closed_by": how,
        "after_s": round(t_close - t0, 3) if t_close else None,
        "bytes_sent": sent,
        "bytes_after_close": after,
        "response": got.decode("latin-1")[:80],
    }
    ok = how is not None and abs(t_close - t0 - a.expect) <= a.tolerance
    return out(res, ok)


def c_idle(a):
    s = connect(a, a.sport)
    s.sendall(b"GET /v2/idle HTTP/1.1\r\nHost: idle.test\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            clen = int(line.split(b":")[1])
    while len(body) < clen:
        d = s.recv(65536)
        if not d:
            break
        body += d
    t0 = time.monotonic()
    ok302 = buf.startswith(b"HTTP/1.1 302 ")
    how, t1, got = wait_close(s, t0 + a.limit)
    s.close()
    res = {"status_302": ok302, "closed_by": how, "after_s": round(t1 - t0, 3), "extra": got.decode("latin-1")[:80]}
    ok = ok302 and how == "fin" and abs(t1 - t0 - a.expect) <= a.tolerance and not got
    return out(res, ok)


# ---- table full ----


def get(conn, path, target):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.status == 302 and r.getheader("Location") == target + path


def c_table_full(a):
    def src(i):
        return ("", a.sport + i if a.sport else 0)

    conns = [http.client.HTTPConnection(a.host, a.port, timeout=5, source_address=src(i)) for i in range(a.max)]
    first = [get(c, "/v2/full/%d/a" % i, a.target) for i, c in enumerate(conns)]
    extra = socket.socket()
    extra.bind(src(a.max))
    extra.settimeout(5)
    t0 = time.monotonic()
    try:
        # The handshake completes (the SYN-ACK is a cookie); the RST for
        # our ACK may already be there when connect() returns.
        extra.connect((a.host, a.port))
        extra.sendall(b"GET /v2/full/extra HTTP/1.1\r\nHost: full.test\r\n\r\n")
        d = extra.recv(65536)
        extra_result = "fin" if not d else "data: %r" % d[:60]
    except (ConnectionResetError, BrokenPipeError):
        extra_result = "rst"
    except socket.timeout:
        extra_result = "timeout"
    except OSError as e:
        extra_result = "error %s" % errno.errorcode.get(e.errno, e.errno)
    dt = time.monotonic() - t0
    extra.close()
    second = [get(c, "/v2/full/%d/b" % i, a.target) for i, c in enumerate(conns)]
    for c in conns:
        c.close()
    res = {"first": first, "extra": extra_result, "extra_s": round(dt, 3), "second": second}
    return out(res, all(first) and all(second) and extra_result == "rst")


# ---- stop reading ----


def c_stop_reading(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, a.sndbuf)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.sport:
        s.bind(("", a.sport))
    s.connect((a.host, a.port))
    s.setblocking(False)
    req = b"GET /v2/stop-reading/%06d HTTP/1.1\r\nHost: stop.test\r\n\r\n"
    sent = 0
    nreq = 0
    pending = b""
    t0 = time.monotonic()
    last_progress = t0
    # Pipeline until nothing more goes out for stall_s: the server's
    # window (and our send buffer) are full.
    while time.monotonic() - last_progress < a.stall:
        if not pending:
            pending = req % nreq
            nreq += 1
        try:
            n = s.send(pending)
            sent += n
            pending = pending[n:]
            last_progress = time.monotonic()
        except BlockingIOError:
            select.select([], [s], [], 0.1)
        if time.monotonic() - t0 > a.limit:
            break
    t_stall = time.monotonic()
    log("stalled after %d bytes (%d requests started) in %.2fs" % (sent, nreq, t_stall - t0))
    print(json.dumps({"event": "stalled", "bytes_sent": sent, "t": round(t_stall - t0, 2)}), flush=True)
    # Now wait, still not reading, for the server to give up: a reset
    # shows as POLLERR/POLLHUP on a socket we never read.
    p = select.poll()
    p.register(s, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    how = None
    while time.monotonic() - t0 < a.limit:
        ev = p.poll(200)
        if ev:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            how = errno.errorcode.get(err, str(err)) if err else "hup"
            break
    t_end = time.monotonic()
    s.close()
    res = {
        "bytes_sent": sent,
        "requests_started": nreq,
        "stalled_after_s": round(t_stall - t0, 2),
        "reset_seen": how,
        "reset_after_s": round(t_end - t0, 2) if how else None,
    }
    return out(res, how is not None)


# ---- pcap helpers (no dependencies) ----


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    else:
        e = ">"
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        ts, tu, incl, orig = struct.unpack(e + "IIII", data[off : off + 16])
        off += 16
        pkt = data[off : off + incl]
        off += incl
        if linktype == 1:
            yield ts + tu / 1e6, pkt
        elif linktype == 113:  # Linux cooked
            yield ts + tu / 1e6, b"\0" * 12 + pkt[14:16] + pkt[16:]


def ipv4(pkt):
    if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
        return None
    ip = pkt[14:]
    ihl = (ip[0] & 15) * 4
    return ip, ihl


def c_pcap_icmp(a):
    """Echo request/reply sequence numbers in capture order."""
    req, rep = [], []
    for _, pkt in pcap_frames(a.file):
        r = ipv4(pkt)
        if not r or r[0][9] != 1:
            continue
        ip, ihl = r
        t, _, _, _, seq = struct.unpack("!BBHHH", ip[ihl : ihl + 8])
        if t == 8:
            req.append(seq)
        elif t == 0:
            rep.append(seq)

    def stats(seqs):
        seen, dups, inversions, mx = set(), 0, 0, -1
        for s in seqs:
            if s in seen:
                dups += 1
                continue
            seen.add(s)
            if s < mx:
                inversions += 1
            mx = max(mx, s)
        return {"frames": len(seqs), "unique": len(seen), "duplicates": dups, "reordered": inversions}

    return out({"requests": stats(req), "replies": stats(rep)}, True)


def c_pcap_tcp(a):
    """Client segments (to --port) seen twice, or after a higher sequence."""
    flows = {}
    dups = reordered = segs = 0
    for _, pkt in pcap_frames(a.file):
        r = ipv4(pkt)
        if not r or r[0][9] != 6:
            continue
        ip, ihl = r
        tcp = ip[ihl:]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        if dport != a.port:
            continue
        hl = (tcp[12] >> 4) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        plen = tot - ihl - hl
        flags = tcp[13]
        if not plen and not flags & 3:
            continue  # pure ACKs: no sequence space
        segs += 1
        key = (ip[12:16], sport)
        f = flows.setdefault(key, {"seen": set(), "max": None})
        ident = (seq, plen, flags & 3)
        if ident in f["seen"]:
            dups += 1
            continue
        f["seen"].add(ident)
        if f["max"] is not None and ((seq - f["max"]) & 0xFFFFFFFF) > 0x7FFFFFFF:
            reordered += 1
        if f["max"] is None or ((seq - f["max"]) & 0xFFFFFFFF) < 0x80000000:
            f["max"] = seq
    return out({"segments": segs, "flows": len(flows), "duplicates": dups, "reordered_or_resent": reordered}, True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--host", default="10.77.0.1")
        sp.add_argument("--port", type=int, default=10000)
        sp.add_argument("--target", default="https://k8s.gcr.io")

    sp = sub.add_parser("keepalive")
    common(sp)
    sp.add_argument("--count", type=int, default=2000)
    sp.add_argument("--conns", type=int, default=20)
    sp.add_argument("--prefix", default="/v2/ka")
    sp.add_argument("--timeout", type=float, default=30)
    sp.add_argument("--late-wait", type=float, default=60, help="after a read timeout, how long to wait for the late answer that the failure's report describes")
    sp.add_argument("--idle-timeout", type=float, default=5)
    sp.add_argument("--linger", type=float, default=5)
    sp.add_argument("--cafile", help="HTTPS, verified against this CA (PEM)")
    sp = sub.add_parser("slowloris")
    common(sp)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--interval", type=float, default=0.1)
    sp.add_argument("--expect", type=float, default=2.0)
    sp.add_argument("--tolerance", type=float, default=0.6)
    sp.add_argument("--limit", type=float, default=10)
    sp = sub.add_parser("idle")
    common(sp)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--expect", type=float, default=5.0)
    sp.add_argument("--tolerance", type=float, default=1.0)
    sp.add_argument("--limit", type=float, default=15)
    sp = sub.add_parser("table-full")
    common(sp)
    sp.add_argument("--sport", type=int, default=0, help="first source port (MAX+1 used)")
    sp.add_argument("--max", type=int, default=4)
    sp = sub.add_parser("stop-reading")
    common(sp)
    sp.add_argument("--rcvbuf", type=int, default=4096)
    sp.add_argument("--sndbuf", type=int, default=16384)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--stall", type=float, default=2.0)
    sp.add_argument("--limit", type=float, default=150)
    sp = sub.add_parser("pcap-icmp")
    sp.add_argument("file")
    sp = sub.add_parser("pcap-tcp")
    sp.add_argument("file")
    sp.add_argument("--port", type=int, default=10000)
    a = p.parse_args()
    return globals()["c_" + a.cmd.replace("-", "_")](a)


if __name__ == "__main__":
    sys.exit(main())
