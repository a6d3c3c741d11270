#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Scripted raw TCP connections to xredird, for what kernel sockets cannot do.

Each scenario crafts Ethernet/IPv4/TCP frames on an AF_PACKET socket on the
client veth and checks every reply of xredird: IPv4 and TCP checksums, TTL
(64: xredird's; the server kernel's would be 99), flags, sequence and
acknowledgment numbers, segment sizes against the MSS, the window we
advertised, and the redirect itself. The client uses a source address that
is not configured in the client namespace (default 10.77.0.50), so the
client's kernel drops xredird's replies instead of resetting a connection
it never made; xredird answers to the frame's source MAC and needs no ARP.

usage: rawclient.py --iface IF --dst-mac MAC [--src-ip A] [--dst-ip A]
                    [--port N] [--target URL] [--list] SCENARIO...

Prints one line per scenario, "ok   NAME  detail" or "FAIL NAME  reason",
and exits 1 if any failed. SCENARIO "all" runs every one.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from inet import csum  # noqa: E402

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SERVER_TTL = 64
WINDOW_MAX = 65535


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def seq_lt(a, b):
    return ((a - b) & 0xFFFFFFFF) > 0x7FFFFFFF


def seq_le(a, b):
    return a == b or seq_lt(a, b)


def seq_add(a, n):
    return (a + n) & 0xFFFFFFFF


def flag_str(f):
    return "".join(c for c, b in (("S", SYN), ("A", ACK), ("F", FIN), ("R", RST), ("P", PSH)) if f & b) or "."


def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


OPT_NOP = b"\x01"
OPT_EOL = b"\x00"
OPT_WS = b"\x03\x03\x07"
OPT_SACKOK = b"\x04\x02"
OPT_TS = b"\x08\x0a" + struct.pack("!II", 12345, 0)


class Seg:
    """A TCP segment from the server, parsed and checked."""

    def __init__(self, frame, t):
        self.t = t
        self.frame = frame
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        self.ttl = ip[8]
        self.ip_csum_ok = csum(ip[:ihl]) == 0
        self.src = socket.inet_ntoa(ip[12:16])
        self.dst = socket.inet_ntoa(ip[16:20])
        tcp = ip[ihl:tot]
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
        self.tcp_csum_ok = csum(pseudo + tcp) == 0
        (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.win, _, _) = struct.unpack(
            "!HHIIBBHHH", tcp[:20]
        )
        hlen = (off >> 4) * 4
        self.opts = tcp[20:hlen]
        self.payload = tcp[hlen:]
        self.len = len(self.payload)

    def options(self):
        out, i, o = [], 0, self.opts
        while i < len(o):
            k = o[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(o) or o[i + 1] < 2:
                out.append((k, None))
                break
            out.append((k, o[i + 2 : i + o[i + 1]]))
            i += o[i + 1]
        return out

    def mss(self):
        for k, v in self.options():
            if k == 2 and v and len(v) == 2:
                return struct.unpack("!H", v)[0]
        return None

    def __repr__(self):
        return "<%s seq=%u ack=%u win=%u len=%u ttl=%u>" % (
            flag_str(self.flags),
            self.seq,
            self.ack,
            self.win,
            self.len,
            self.ttl,
        )


class Link:
    """The AF_PACKET socket, shared by the scenarios."""

    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.sock.bind((a.iface, ETH_P_IP))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.setblocking(False)
        with open("/sys/class/net/%s/address" % a.iface) as f:
            self.src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
        self.dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))
        self.src_ip = socket.inet_aton(a.src_ip)
        self.dst_ip = socket.inet_aton(a.dst_ip)
        self.ip_id = random.randrange(65536)
        self.sent = 0

    def send(self, sport, seq, ack, flags, win, opts=b"", payload=b"", dport=None):
        if len(opts) % 4:
            opts += b"\0" * (4 - len(opts) % 4)
        dport = self.a.port if dport is None else dport
        hlen = 20 + len(opts)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (hlen // 4) << 4, flags, win, 0, 0)
        tcp += opts + payload
        pseudo = self.src_ip + self.dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
        c = csum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ip_id, 0x4000, 64, 6, 0, self.src_ip, self.dst_ip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = self.dst_mac + self.src_mac + b"\x08\x00" + ip + tcp
        while True:
            try:
                self.sock.send(frame)
                break
            except BlockingIOError:
                time.sleep(0.0005)
        self.sent += 1

    def recv(self, sport, timeout):
        """The next server segment to our port, or None after timeout."""
        end = time.monotonic() + timeout
        while True:
            try:
                frame, addr = self.sock.recvfrom(65535)
            except BlockingIOError:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                select.select([self.sock], [], [], min(left, 0.05))
                continue
            if addr[2] == PACKET_OUTGOING or len(frame) < 54:
                continue
            if frame[23] != 6 or frame[26:30] != self.dst_ip or frame[30:34] != self.src_ip:
                continue
            ihl = (frame[14] & 15) * 4
            sp, dp = struct.unpack("!HH", frame[14 + ihl : 18 + ihl])
            if sp != self.a.port or dp != sport:
                continue
            return Seg(frame, time.monotonic())


class Conn:
    """One raw connection: our side of TCP, minimal, with checks on theirs."""

    def __init__(self, link, name):
        self.link = link
        self.name = name
        self.sport = random.randrange(20000, 60000)
        self.isn = random.randrange(1 << 32)
        self.snd_nxt = self.isn  # our next sequence number
        self.rcv_nxt = None  # next server byte we expect
        self.srv_isn = None
        self.srv_max = None  # highest server sequence seen + len
        self.win = WINDOW_MAX  # the window we advertise
        self.acked_edge = None  # right edge we last allowed (ack + win)
        self.mss = None  # what we announced
        self.stream = bytearray()  # server bytes, in order
        self.ooo = {}  # out-of-order server segments by seq
        self.fin_rcvd = False
        self.segs = []  # every server segment
        self.log = []

    # -- sending --

    def tx(self, flags, seq=None, ack=None, payload=b"", opts=b"", win=None):
        seq = self.snd_nxt if seq is None else seq
        if ack is None:
            ack = self.rcv_nxt if self.rcv_nxt is not None else 0
        w = self.win if win is None else win
        self.link.send(self.sport, seq, ack, flags, w, opts, payload)
        if flags & ACK and self.rcv_nxt is not None:
            edge = seq_add(ack, w)
            if self.acked_edge is None or seq_lt(self.acked_edge, edge) or w == 0:
                self.acked_edge = edge

    def send_ack(self, win=None):
        self.tx(ACK, win=win)

    # -- receiving --

    def check_seg(self, s):
        """What every server segment must satisfy."""
        check(s.ip_csum_ok, "bad IPv4 checksum from the server: %r" % s)
        check(s.tcp_csum_ok, "bad TCP checksum from the server: %r" % s)
        check(s.ttl == SERVER_TTL, "TTL %u: not xredird's (the server kernel answered?) %r" % (s.ttl, s))
        if s.flags & ACK:
            check(seq_le(s.ack, self.snd_nxt), "ACK %u past what we sent (next %u): %r" % (s.ack, self.snd_nxt, s))
        if s.len and self.mss:
            check(s.len <= self.mss, "segment of %u bytes, our MSS is %u: %r" % (s.len, self.mss, s))
        if s.len and self.acked_edge is not None and not s.flags & SYN:
            end = seq_add(s.seq, s.len)
            # A 1-byte zero-window probe may go one past the edge.
            slack = 1 if s.len == 1 else 0
            check(
                seq_le(end, seq_add(self.acked_edge, slack)),
                "data to %u past the window we gave (edge %u): %r" % (end, self.acked_edge, s),
            )

    def recv(self, timeout=1.0):
        s = self.link.recv(self.sport, timeout)
        if s is None:
            return None
        self.segs.append(s)
        self.check_seg(s)
        return s

    def absorb(self, s):
        """Takes a data/FIN segment into the stream (out-of-order ones wait
        for the gap to fill); True if rcv_nxt advanced."""
        fin = 1 if s.flags & FIN else 0
        if self.rcv_nxt is None or not (s.len or fin):
            return False
        base = seq_add(self.srv_isn, 1)
        off = (s.seq - base) & 0xFFFFFFFF
        if off < len(self.stream) and s.len:
            n = min(s.len, len(self.stream) - off)
            check(
                bytes(self.stream[off : off + n]) == s.payload[:n],
                "bytes sent again differ from the first copy: %r" % s,
            )
        if self.fin_rcvd:
            check(
                off + s.len <= len(self.stream),
                "data past the server's FIN: %r" % s,
            )
            return False
        self.ooo[s.seq] = s
        before = self.rcv_nxt
        progress = True
        while progress and not self.fin_rcvd:
            progress = False
            for k in list(self.ooo):
                o = self.ooo[k]
                o_off = (k - base) & 0xFFFFFFFF
                if o_off > len(self.stream):
                    continue  # still ahead of a gap
                del self.ooo[k]
                if o_off + o.len > len(self.stream):
                    self.stream += o.payload[len(self.stream) - o_off :]
                    progress = True
                if o.flags & FIN and o_off + o.len == len(self.stream):
                    self.fin_rcvd = True
                    progress = True
                    break
        self.rcv_nxt = seq_add(base, len(self.stream) + (1 if self.fin_rcvd else 0))
        return self.rcv_nxt != before

    # -- steps --

    def handshake(self, mss=1460, opts=None, payload=b"", win=None, expect_mss=True):
        """SYN, SYN-ACK (checked), ACK. Returns the SYN-ACK."""
        if opts is None:
            opts = opt_mss(mss)
        self.mss = mss
        syn_win = WINDOW_MAX if win is None else win
        self.snd_nxt = seq_add(self.isn, 1 + len(payload))
        self.link.send(self.sport, self.isn, 0, SYN, syn_win, opts, payload)
        sa = self.expect_synack(payload)
        # Data on the SYN was not acknowledged: it is sent again later.
        self.snd_nxt = seq_add(self.isn, 1)
        self.rcv_nxt = seq_add(sa.seq, 1)
        self.srv_isn = sa.seq
        if win is not None:
            self.win = win
        self.send_ack()
        return sa

    def expect_synack(self, payload=b"", timeout=1.0):
        sa = self.recv(timeout)
        check(sa is not None, "no SYN-ACK")
        check(sa.flags & (SYN | ACK | RST | FIN) == SYN | ACK, "not a SYN-ACK: %r" % sa)
        check(
            sa.ack == seq_add(self.isn, 1),
            "SYN-ACK acknowledges %u, expected ISN+1 = %u%s"
            % (sa.ack, seq_add(self.isn, 1), " (data on the SYN must not be acknowledged)" if payload else ""),
        )
        kinds = [k for k, _ in sa.options()]
        check(2 in kinds, "SYN-ACK without MSS option: %r" % sa.opts)
        check(
            not set(kinds) - {2},
            "SYN-ACK offers options other than MSS (%s): peers must not use them" % kinds,
        )
        check(sa.len == 0, "SYN-ACK carries data")
        return sa

    def request(self, path, extra="", method="GET"):
        return ("%s %s HTTP/1.1\r\nHost: raw.test\r\n%s\r\n" % (method, path, extra)).encode()

    def send_data(self, data, seg=None, flags=PSH | ACK):
        """Sends data in segments of at most seg bytes (no retransmission)."""
        seg = seg or 1400
        for i in range(0, len(data), seg):
            chunk = data[i : i + seg]
            f = flags if i + seg >= len(data) else ACK
            self.tx(f, payload=chunk)
            self.snd_nxt = seq_add(self.snd_nxt, len(chunk))

    def drain(self, until, timeout=3.0, ack_each=True, win=None, on_seg=None):
        """Reads server segments, ACKing in-order data, until until(self)
        is true or timeout. Returns whether until() became true."""
        end = time.monotonic() + timeout
        while not until(self):
            left = end - time.monotonic()
            if left <= 0:
                return False
            s = self.recv(min(left, 0.2))
            if s is None:
                continue
            check(not s.flags & RST, "unexpected RST from the server: %r" % s)
            if on_seg:
                on_seg(s)
            if s.flags & SYN:
                # Our ACK was lost? Say it again.
                self.send_ack(win)
                continue
            self.absorb(s)
            if ack_each and (s.len or s.flags & FIN):
                self.send_ack(win)
        return True

    def response(self, start=0):
        """Parses one HTTP response from self.stream[start:], or None."""
        buf = bytes(self.stream[start:])
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            return None
        head = buf[:i].decode("latin-1").split("\r\n")
        hdrs = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        if len(buf) < i + 4 + n:
            return None
        return {"status": head[0], "headers": hdrs, "body": buf[i + 4 : i + 4 + n], "end": start + i + 4 + n}

    def get(self, path, timeout=3.0, extra="", seg=None, win=None):
        """Sends a request and waits for its complete response."""
        start = len(self.stream)
        self.send_data(self.request(path, extra), seg=seg)
        ok = self.drain(lambda c: c.response(start) is not None, timeout, win=win)
        check(ok, "no complete response to %s within %.1fs (got %d bytes)" % (path, timeout, len(self.stream) - start))
        r = self.response(start)
        self.check_redirect(r, path)
        return r

    def check_redirect(self, r, path):
        check(r["status"] == "HTTP/1.1 302 Found", "status %r" % r["status"])
        want = self.link.a.target + path
        check(r["headers"].get("location") == want, "Location %r, expected %r" % (r["headers"].get("location"), want))

    def expect_quiet(self, wait=0.3, what="nothing"):
        s = self.recv(wait)
        check(s is None, "expected %s, got %r" % (what, s))

    def expect_challenge(self, what):
        """An RFC 5961 challenge ACK: pure ACK of exactly what we have."""
        s = self.recv(1.0)
        check(s is not None, "no challenge ACK after %s" % what)
        check(s.flags & (SYN | RST | FIN) == 0 and s.flags & ACK, "reply to %s is not a pure ACK: %r" % (what, s))
        check(s.ack == self.snd_nxt, "challenge ACK acks %u, expected %u: %r" % (s.ack, self.snd_nxt, s))
        check(s.seq == self.srv_snd_nxt(), "challenge ACK seq %u, expected %u: %r" % (s.seq, self.srv_snd_nxt(), s))
        check(s.len == 0, "challenge ACK carries data: %r" % s)
        return s

    def srv_snd_nxt(self):
        return self.rcv_nxt

    def expect_rst_for(self, what):
        """A RST answering a segment with ACK set: seq = that ACK, no ACK."""
        s = self.recv(1.0)
        check(s is not None, "no RST after %s" % what)
        check(s.flags & RST, "expected a RST after %s, got %r" % (what, s))
        check(s.seq == self.rcv_nxt, "RST seq %u, expected our ACK %u: %r" % (s.seq, self.rcv_nxt, s))
        return s

    def close_quietly(self):
        """Ends the connection with an exact RST (frees xredird's flow)."""
        if self.rcv_nxt is not None:
            self.tx(RST | ACK)


# ---- scenarios ----

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append((fn.__name__.replace("sc_", "").replace("_", "-"), fn))
    return fn


def long_path(tag, n):
    return "/v2/%s/" % tag + ("abcdefghij" * (n // 10 + 1))[:n]


def tiny_mss(link, mss):
    c = Conn(link, "mss%d" % mss)
    c.handshake(mss=mss)
    path = long_path("mss%d" % mss, 1500)
    c.get(path, timeout=5)
    sizes = [s.len for s in c.segs if s.len]
    c.close_quietly()
    return "%d data segments, largest %d bytes (MSS %d)" % (len(sizes), max(sizes), mss)


@scenario
def sc_mss_536(link):
    return tiny_mss(link, 536)


@scenario
def sc_mss_88(link):
    return tiny_mss(link, 88)


@scenario
def sc_mss_48(link):
    # The smallest MSS a SYN cookie encodes (48, Linux's tcp_min_snd_mss):
    # the peer's value bounds the segments exactly.
    return tiny_mss(link, 48)


@scenario
def sc_odd_options(link):
    cases = [
        ("unaligned MSS, then WS/SACK/TS", OPT_NOP + opt_mss(536) + OPT_NOP + OPT_NOP + OPT_WS + OPT_SACKOK + OPT_TS, 536),
        ("unknown kinds around MSS", b"\xfd\x06abcd" + OPT_TS + OPT_NOP + opt_mss(1000) + b"\x1e\x02", 1000),
        ("SACK/TS/WS before MSS", OPT_SACKOK + OPT_TS + OPT_WS + opt_mss(700), 700),
        ("MSS after EOL (ignored)", OPT_NOP + OPT_EOL + b"\0\0" + opt_mss(1460), 536),
        ("36 NOPs then MSS", OPT_NOP * 36 + opt_mss(600), 600),
        ("option length 1 (malformed)", b"\x22\x01" + opt_mss(1460), 536),
        ("option past the header end", b"\x99\x1e" + b"\0\0", 536),
        ("MSS with length 3", b"\x02\x03\x05" + OPT_NOP, 536),
    ]
    out = []
    for what, opts, mss in cases:
        c = Conn(link, "odd")
        try:
            c.handshake(mss=mss, opts=opts)
            c.get(long_path("odd", 1400), timeout=5)
        except Fail as e:
            raise Fail("%s: %s" % (what, e))
        big = max(s.len for s in c.segs)
        out.append(big)
        c.close_quietly()
    return "%d option layouts: SYN-ACK with MSS only, segments <= the effective MSS (largest %s)" % (len(cases), out)


@scenario
def sc_syn_data(link):
    c = Conn(link, "syn-data")
    req = c.request("/v2/syn-data")
    sa = c.handshake(payload=req)
    # The data on the SYN was not acknowledged: no response may come yet.
    c.expect_quiet(0.3, "no response to data on the SYN")
    c.get("/v2/syn-data")
    c.close_quietly()
    return "SYN-ACK acked ISN+1 only (seq %u), the resent request got its 302" % sa.seq


@scenario
def sc_head_1byte(link):
    c = Conn(link, "head-1byte")
    c.handshake()
    path = "/v2/onebyte"
    head = "GET %s HTTP/1.1\r\nHost: raw.test\r\n" % path
    n = 0
    while len(head) < 8192 - 200:
        head += "X-Pad-%02d: %s\r\n" % (n, "p" * 180)
        n += 1
    fill = 8192 - len(head) - len("X-Last: \r\n\r\n")
    head += "X-Last: %s\r\n\r\n" % ("q" * fill)
    data = head.encode()
    check(len(data) == 8192, "head is %d bytes" % len(data))
    t0 = time.monotonic()
    base = c.snd_nxt
    acked = base
    sent = 0
    resends = 0
    # 1-byte segments, paced by what the server acknowledges (the window
    # is 64 KiB: all of it may be in flight); go back to the last ACK if
    # the ACKs stall (a lost frame).
    last_progress = time.monotonic()
    while True:
        while sent < len(data) and ((seq_add(base, sent) - acked) & 0xFFFFFFFF) < 4096:
            c.tx(PSH | ACK, seq=seq_add(base, sent), payload=data[sent : sent + 1])
            sent += 1
            c.snd_nxt = seq_add(base, max(sent, (c.snd_nxt - base) & 0xFFFFFFFF))
        s = c.recv(0.05)
        if s is not None:
            check(not s.flags & RST, "RST during the 1-byte head: %r" % s)
            if s.flags & ACK and seq_lt(acked, s.ack):
                acked = s.ack
                last_progress = time.monotonic()
            if s.len or s.flags & FIN:
                c.absorb(s)
                c.send_ack()
            if c.response(0) is not None:
                break
        elif time.monotonic() - last_progress > 0.3:
            resends += 1
            check(resends < 50, "no progress: server acked %d of %d bytes" % ((acked - base) & 0xFFFFFFFF, len(data)))
            sent = (acked - base) & 0xFFFFFFFF
            last_progress = time.monotonic()
        check(time.monotonic() - t0 < 15, "no response 15 s into the 1-byte head")
    r = c.response(0)
    c.check_redirect(r, path)
    dt = time.monotonic() - t0
    acks = sum(1 for s in c.segs if not s.len)
    c.close_quietly()
    return "8192-byte head in 8192 1-byte segments (%d go-back rounds), 302 after %.2fs, %d pure ACKs" % (
        resends,
        dt,
        acks,
    )


@scenario
def sc_window_update(link):
    c = Conn(link, "window-update")
    c.handshake(win=200)
    path = long_path("window", 1500)
    start = len(c.stream)
    c.send_data(c.request(path))
    # Read about 1000 bytes 200 at a time, the window staying at 200.
    ok = c.drain(lambda c: len(c.stream) - start >= 1000, 5.0, win=200)
    check(ok, "only %d bytes came through a 200-byte window" % (len(c.stream) - start))
    sizes = [s.len for s in c.segs if s.len]
    check(max(sizes) <= 200, "a segment of %d bytes in a 200-byte window" % max(sizes))
    # Window update: the same ACK, a 64 KiB window. The rest must follow.
    c.win = WINDOW_MAX
    t0 = time.monotonic()
    c.send_ack()
    ok = c.drain(lambda c: c.response(start) is not None, 3.0)
    check(ok, "the rest of the response did not follow the window update")
    c.check_redirect(c.response(start), path)
    dt = time.monotonic() - t0
    c.close_quietly()
    return "%d segments <= 200 bytes in a 200-byte window, the rest %.0f ms after the window update" % (
        len(sizes),
        dt * 1000,
    )


@scenario
def sc_zero_window(link):
    c = Conn(link, "zero-window")
    c.handshake(win=0)
    path = long_path("zero", 1500)
    start = len(c.stream)
    c.send_data(c.request(path))
    t0 = time.monotonic()
    probes = []
    # Zero window: no data, except 1-byte probes, which we answer as a
    # full receiver does (drop the byte, ACK what we have, window 0).
    while len(probes) < 2:
        s = c.recv(4.0)
        check(s is not None, "no zero-window probe within 4 s (%d so far)" % len(probes))
        check(not s.flags & (RST | SYN | FIN), "unexpected %r under a zero window" % s)
        if s.len:
            check(s.len == 1, "%d bytes sent into a zero window: %r" % (s.len, s))
            check(s.seq == c.rcv_nxt, "probe at seq %u, expected %u" % (s.seq, c.rcv_nxt))
            probes.append(time.monotonic() - t0)
            c.send_ack(win=0)
    # Open the window: the response must come, probe byte included.
    c.win = WINDOW_MAX
    t1 = time.monotonic()
    c.send_ack()
    ok = c.drain(lambda c: c.response(start) is not None, 5.0)
    check(ok, "no response within 5 s of opening the window (%d bytes)" % (len(c.stream) - start))
    c.check_redirect(c.response(start), path)
    dt = time.monotonic() - t1
    c.close_quietly()
    return "probes at %s s, response complete %.0f ms after the window opened" % (
        ", ".join("%.2f" % p for p in probes),
        dt * 1000,
    )


def established(link, name):
    c = Conn(link, name)
    c.handshake()
    c.get("/v2/%s/first" % name)
    return c


@scenario
def sc_rst_exact(link):
    c = established(link, "rst-exact")
    c.tx(RST | ACK)  # seq = RCV.NXT exactly
    c.expect_quiet(0.3, "no reply to an exact RST")
    # The flow is gone: a request on it gets a RST (seq = its ACK).
    c.send_data(c.request("/v2/rst-exact/after"))
    r = c.expect_rst_for("a request on the reset flow")
    return "exact RST freed the flow; a later request got RST seq=%u (its ACK)" % r.seq


@scenario
def sc_rst_in_window(link):
    c = established(link, "rst-inwin")
    for off in (1, 1000, 65534):
        c.tx(RST | ACK, seq=seq_add(c.snd_nxt, off))
        c.expect_challenge("a RST at RCV.NXT+%d" % off)
    c.get("/v2/rst-inwin/after")
    c.close_quietly()
    return "RSTs at RCV.NXT+1, +1000, +65534 each got a challenge ACK; the flow still answers"


@scenario
def sc_rst_out_of_window(link):
    c = established(link, "rst-outwin")
    for off in (-1, -70000, 65535, 70000, 1 << 30):
        c.tx(RST | ACK, seq=seq_add(c.snd_nxt, off))
        c.expect_quiet(0.25, "no reply to a RST at RCV.NXT%+d" % off)
    c.get("/v2/rst-outwin/after")
    c.close_quietly()
    return "RSTs at RCV.NXT-1, -70000, +65535, +70000, +2^30 ignored; the flow still answers"


@scenario
def sc_syn_established(link):
    c = established(link, "syn-est")
    c.link.send(c.sport, c.isn, 0, SYN, WINDOW_MAX, opt_mss(1460))
    c.expect_challenge("a SYN (the original ISN) on the established flow")
    c.link.send(c.sport, seq_add(c.isn, 12345678), 0, SYN, WINDOW_MAX, opt_mss(1460))
    c.expect_challenge("a SYN (a new ISN) on the established flow")
    c.get("/v2/syn-est/after")
    c.close_quietly()
    return "SYNs (old and new ISN) on an established flow got challenge ACKs; the flow survives"


@scenario
def sc_keepalive_probe(link):
    c = established(link, "keepalive")
    for what, payload in (("0-byte", b""), ("1-byte", b"x")):
        c.tx(ACK, seq=seq_add(c.snd_nxt, -1), payload=payload)
        s = c.recv(1.0)
        check(s is not None, "no ACK to a %s keep-alive probe" % what)
        check(
            s.flags & (SYN | RST | FIN) == 0 and s.ack == c.snd_nxt and s.len == 0,
            "reply to a %s keep-alive probe: %r (expected ACK %u)" % (what, s, c.snd_nxt),
        )
    c.get("/v2/keepalive/after")
    c.close_quietly()
    return "0-byte and 1-byte probes at SEQ=RCV.NXT-1 acked with ACK=RCV.NXT; the flow survives"


@scenario
def sc_close_then_fin(link):
    c = Conn(link, "close-fin")
    c.handshake()
    path = "/v2/close-fin"
    start = len(c.stream)
    c.send_data(c.request(path, "Connection: close\r\n"))
    ok = c.drain(lambda c: c.fin_rcvd, 3.0)
    check(ok, "no FIN after a Connection: close response")
    r = c.response(start)
    check(r is not None, "FIN before a complete response")
    c.check_redirect(r, path)
    check(r["end"] == len(c.stream), "bytes after the response")
    # Our FIN now; xredird acknowledges it and frees the flow.
    fin_seq = c.snd_nxt
    c.tx(FIN | ACK)
    c.snd_nxt = seq_add(c.snd_nxt, 1)
    s = c.recv(1.0)
    check(s is not None, "no ACK of our FIN")
    check(s.flags & (SYN | RST | FIN) == 0 and s.ack == c.snd_nxt, "reply to our FIN: %r" % s)
    check(s.seq == c.rcv_nxt, "ACK of our FIN has seq %u, expected %u" % (s.seq, c.rcv_nxt))
    # A retransmitted FIN (as if that ACK was lost), after the flow is gone:
    # the ACK is computed from the segment itself.
    for i in range(2):
        c.tx(FIN | ACK, seq=fin_seq)
        s = c.recv(1.0)
        check(s is not None, "no ACK of the retransmitted FIN (%d)" % (i + 1))
        check(
            s.flags == ACK and s.ack == c.snd_nxt and s.seq == c.rcv_nxt,
            "retransmitted FIN answered with %r, expected ACK seq=%u ack=%u" % (s, c.rcv_nxt, c.snd_nxt),
        )
    return "response+FIN, our FIN acked (ack=%u), two retransmitted FINs after the flow was freed acked exactly" % c.snd_nxt


@scenario
def sc_client_fin_first(link):
    c = Conn(link, "client-fin")
    c.handshake()
    path = "/v2/client-fin"
    start = len(c.stream)
    req = c.request(path)
    # Request and FIN in one segment: a half-close after the request.
    c.tx(FIN | PSH | ACK, payload=req)
    c.snd_nxt = seq_add(c.snd_nxt, len(req) + 1)
    ok = c.drain(lambda c: c.fin_rcvd, 3.0)
    check(ok, "no response+FIN after request+FIN")
    r = c.response(start)
    check(r is not None, "FIN before a complete response")
    c.check_redirect(r, path)
    check(
        c.segs[-1].ack == c.snd_nxt,
        "the server did not acknowledge our FIN: last ACK %u, expected %u" % (c.segs[-1].ack, c.snd_nxt),
    )
    # Our ACK of its FIN was sent by drain(); the flow is now gone: data
    # on it gets a RST.
    c.expect_quiet(0.2, "nothing after our final ACK")
    c.tx(PSH | ACK, payload=b"GET / HTTP/1.1\r\n\r\n")
    r = c.expect_rst_for("data after both FINs")
    return "request+FIN got response+FIN with our FIN acked; the freed flow answers data with RST seq=%u" % r.seq


@scenario
def sc_fin_missed(link):
    """The idle timeout's FIN goes unacknowledged (as if lost each time)
    while we send a request, which is read, dropped and acknowledged: the
    FIN must keep coming past the linger, or we would wait for an answer
    that never comes."""
    a = link.a
    c = Conn(link, "fin-missed")
    c.handshake()
    c.get("/v2/fin-missed")
    fin = None
    end = time.monotonic() + a.idle_timeout + 3
    while fin is None and time.monotonic() < end:
        s = c.recv(0.5)
        if s is not None and s.flags & FIN:
            fin = s
    check(fin is not None, "no FIN within %.0fs of idle" % (a.idle_timeout + 3))
    t0 = time.monotonic()
    c.send_data(c.request("/v2/after-fin"))
    fins, acked = [], False
    while time.monotonic() - t0 < a.linger + 3:
        s = c.recv(0.2)
        if s is None:
            continue
        check(not s.flags & RST, "RST while the FIN was unacknowledged: %r" % s)
        check(s.len == 0, "data after the FIN (the request was to be dropped): %r" % s)
        if s.flags & FIN:
            check(s.seq == fin.seq, "FIN moved from %u to %u" % (fin.seq, s.seq))
            fins.append(time.monotonic() - t0)
        elif s.ack == c.snd_nxt:
            acked = True
    check(acked, "the request after the FIN was not acknowledged")
    check(
        fins and fins[-1] > a.linger,
        "FINs stopped at %s s, the linger is %.0f s" % (["%.1f" % t for t in fins], a.linger),
    )
    # Now the FIN reaches us: we acknowledge it and close; ours is acked.
    c.absorb(fin)
    check(c.fin_rcvd, "the FIN did not complete the stream")
    c.tx(FIN | ACK)
    c.snd_nxt = seq_add(c.snd_nxt, 1)
    s = c.recv(1.0)
    check(s is not None and s.flags & (SYN | RST | FIN) == 0 and s.ack == c.snd_nxt, "reply to our FIN: %r" % s)
    return "FIN retransmitted at %s s after it, past the %.0f-s linger; the request after it acked and dropped" % (
        ", ".join("%.1f" % t for t in fins),
        a.linger,
    )


@scenario
def sc_syn_retransmit(link):
    c = Conn(link, "syn-rtx")
    c.snd_nxt = seq_add(c.isn, 1)
    c.link.send(c.sport, c.isn, 0, SYN, WINDOW_MAX, opt_mss(1460))
    a = c.expect_synack()
    c.link.send(c.sport, c.isn, 0, SYN, WINDOW_MAX, opt_mss(1460))
    b = c.expect_synack()
    check(a.seq == b.seq, "a retransmitted SYN got a different cookie: %u then %u" % (a.seq, b.seq))
    c.snd_nxt = seq_add(c.isn, 1)
    c.rcv_nxt = seq_add(a.seq, 1)
    c.srv_isn = a.seq
    c.mss = 1460
    c.send_ack()
    c.get("/v2/syn-rtx")
    c.close_quietly()
    return "a retransmitted SYN got the same SYN-ACK (cookie %u); the handshake completes" % a.seq


@scenario
def sc_lost_first_segments(link):
    # Our handshake ACK and the request both lost; a duplicate SYN-ACK (a
    # duplicated SYN) makes us send a duplicate ACK, SEQ = ISN+1+len. The
    # cookie binds our ISN by 5 bits: that ACK fails it, or 1 time in 32
    # opens the flow at its SEQ. Neither may kill the connection: the
    # request, sent again from ISN+1, validates and is answered.
    c = Conn(link, "lost-first")
    c.snd_nxt = seq_add(c.isn, 1)
    c.mss = 1460
    c.link.send(c.sport, c.isn, 0, SYN, WINDOW_MAX, opt_mss(1460))
    sa = c.expect_synack()
    c.rcv_nxt = seq_add(sa.seq, 1)
    c.srv_isn = sa.seq
    path = "/v2/lost-first"
    req = c.request(path)
    c.tx(ACK, seq=seq_add(c.isn, 1 + len(req)))
    s = c.link.recv(c.sport, 0.3)
    check(
        s is None or not s.flags & RST,
        "a duplicate ACK with SEQ=ISN+1+%d (our ACK and request lost) got %r: the connection is killed"
        % (len(req), s),
    )
    c.get(path)
    c.close_quietly()
    return "a duplicate ACK ahead of ISN+1 was not answered with RST; the resent request got its 302"


@scenario
def sc_stale_handshake_ack(link):
    # A connection closed by both FINs; then a late copy of its handshake
    # ACK (delayed or duplicated in the network) arrives: the SYN cookie in
    # it is still valid, but the connection is over and must stay over.
    c = Conn(link, "stale-ack")
    sa = c.handshake()
    path = "/v2/stale-ack"
    start = len(c.stream)
    c.send_data(c.request(path, "Connection: close\r\n"))
    check(c.drain(lambda c: c.fin_rcvd, 3.0), "no response+FIN")
    c.check_redirect(c.response(start), path)
    c.tx(FIN | ACK)
    c.snd_nxt = seq_add(c.snd_nxt, 1)
    s = c.recv(1.0)
    check(s is not None and s.ack == c.snd_nxt, "our FIN was not acknowledged: %r" % s)
    time.sleep(0.05)
    # The replayed handshake ACK, then a probe (SEQ = ISN): a flow would
    # answer the probe with an ACK of ISN+1; without one, RST.
    c.link.send(c.sport, seq_add(c.isn, 1), seq_add(sa.seq, 1), ACK, WINDOW_MAX)
    c.link.send(c.sport, c.isn, seq_add(sa.seq, 1), ACK, WINDOW_MAX)
    got = []
    while True:
        s = c.link.recv(c.sport, 0.3)
        if s is None:
            break
        got.append(s)
    ghost = [s for s in got if not s.flags & RST and s.ack == seq_add(c.isn, 1)]
    if ghost:
        # Free it (an exact RST) so it does not linger into other tests.
        c.link.send(c.sport, seq_add(c.isn, 1), 0, RST, 0)
    check(
        not ghost,
        "a replayed handshake ACK of a closed connection opened a new flow (it answered %r); "
        "it would idle out and send a FIN with stale sequence numbers" % ghost[0] if ghost else "",
    )
    return "a late handshake ACK after both FINs did not reopen the connection (%s)" % (
        ", ".join(flag_str(s.flags) for s in got) or "no reply"
    )


# A handshake split across two daemons (a restart, or ECMP moving the
# flow): the SYN to one, the final ACK with a request to the next. The
# state between the two runs of this script is in --state FILE.
STATE = {"file": None}


def handshake_state():
    check(STATE["file"], "--state FILE is needed")
    with open(STATE["file"]) as f:
        return json.load(f)


@scenario
def sc_handshake_begin(link):
    c = Conn(link, "begin")
    c.mss = 1460
    c.snd_nxt = seq_add(c.isn, 1)
    link.send(c.sport, c.isn, 0, SYN, WINDOW_MAX, opt_mss(1460))
    sa = c.expect_synack()
    check(STATE["file"], "--state FILE is needed")
    with open(STATE["file"], "w") as f:
        json.dump({"sport": c.sport, "isn": c.isn, "srv_isn": sa.seq}, f)
    return "SYN-ACK from port %u, cookie %08x; no ACK sent" % (c.sport, sa.seq)


def finish(link):
    st = handshake_state()
    c = Conn(link, "finish")
    c.sport, c.isn, c.srv_isn, c.mss = st["sport"], st["isn"], st["srv_isn"], 1460
    c.snd_nxt = seq_add(c.isn, 1)
    c.rcv_nxt = seq_add(c.srv_isn, 1)
    return c


@scenario
def sc_handshake_finish(link):
    c = finish(link)
    r = c.get("/v2/finished-elsewhere")
    c.tx(RST | ACK)
    return "the request on the final ACK was answered: %s" % r["status"]


@scenario
def sc_handshake_finish_refused(link):
    c = finish(link)
    c.send_data(c.request("/v2/refused"))
    s = c.link.recv(c.sport, 1.0)
    check(s is not None, "no answer to a final ACK with a cookie of another secret")
    check(s.flags & RST, "a cookie of another secret was accepted: %r" % s)
    return "reset (%s)" % flag_str(s.flags)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=False)
    p.add_argument("--dst-mac")
    p.add_argument("--src-ip", default="10.77.0.50")
    p.add_argument("--dst-ip", default="10.77.0.1")
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--target", default="https://k8s.gcr.io")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--idle-timeout", type=float, default=5, help="xredird's --idle-timeout (fin-missed)")
    p.add_argument("--linger", type=float, default=5, help="xredird's linger after our FIN (fin-missed)")
    p.add_argument("--list", action="store_true")
    p.add_argument("--state", help="handshake-begin/-finish: the file between runs")
    p.add_argument("scenarios", nargs="*")
    a = p.parse_args()
    names = [n for n, _ in SCENARIOS]
    if a.list:
        print("\n".join(names))
        return 0
    if not a.iface or not a.dst_mac or not a.scenarios:
        p.error("--iface, --dst-mac and at least one SCENARIO are needed")
    if a.seed is not None:
        random.seed(a.seed)
    STATE["file"] = a.state
    want = names if a.scenarios == ["all"] else a.scenarios
    for n in want:
        if n not in names:
            p.error("unknown scenario %s (have: %s)" % (n, " ".join(names)))
    link = Link(a)
    failed = 0
    for n in want:
        fn = dict(SCENARIOS)[n]
        t0 = time.monotonic()
        try:
            detail = fn(link)
            print("ok   %-20s %5.2fs  %s" % (n, time.monotonic() - t0, detail), flush=True)
        except Fail as e:
            failed += 1
            print("FAIL %-20s %5.2fs  %s" % (n, time.monotonic() - t0, e), flush=True)
        except Exception as e:  # a bug here, not in xredird: say so
            failed += 1
            print("FAIL %-20s %5.2fs  client error: %r" % (n, time.monotonic() - t0, e), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
