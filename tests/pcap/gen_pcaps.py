#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes the captures that test_pcapcheck.sh feeds to pcapcheck.

usage: gen_pcaps.py OUTDIR

One clean capture per link type, a few more that must pass (truncated by a
snaplen, odd packets, a reused four-tuple, justified RSTs, many flows) and
one per violation. Standard library only: frames, checksums and the pcap
format are built here, so a checksum bug in xredir's own code cannot hide.
"""
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from inet import csum  # noqa: E402

PORT = 10000
SRV4, CLI4, CLI4B = "10.77.0.1", "10.77.0.2", "10.77.0.3"
SRV6, CLI6 = "fd77::1", "fd77::2"
XREDIR_TTL = 64  # what xredird's packets carry
KERNEL_TTL = 99  # what the server namespace's kernel puts in its packets
CLIENT_TTL = 64

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MASK = 0xFFFFFFFF

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

MAC_SRV = bytes.fromhex("020000000001")
MAC_CLI = bytes.fromhex("020000000002")

REQUEST = b"GET /old HTTP/1.1\r\nHost: example.test\r\n\r\n"
RESPONSE = (b"HTTP/1.1 301 Moved Permanently\r\n"
            b"Location: https://example.test/new\r\n"
            b"Content-Length: 0\r\nConnection: close\r\nX: y\r\n\r\n")
MSS_OPT = struct.pack("!BBH", 2, 4, 1460)
# Hop-by-hop header with one PadN option; its next header is filled in.
HBH_PAD = bytes([1, 4, 0, 0, 0, 0])


def tcp_segment(src, dst, sport, dport, seq, ack, flags, data=b"",
                opts=b"", bad_csum=False):
    hlen = 20 + len(opts)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & MASK, ack & MASK,
                      (hlen // 4) << 4, flags, 65535, 0, 0) + opts + data
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    if bad_csum:
        c ^= 0x5A5A
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip_packet(src, dst, ttl, l4, proto=6, bad_csum=False, hbh=False):
    if src.version == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000,
                          ttl, proto, 0, src.packed, dst.packed)
        c = csum(hdr) ^ (0x1111 if bad_csum else 0)
        return hdr[:10] + struct.pack("!H", c) + hdr[12:] + l4
    ext = bytes([proto, 0]) + HBH_PAD if hbh else b""
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(l4),
                      0 if hbh else proto, ttl, src.packed, dst.packed)
    return hdr + ext + l4


def ethertype(ip):
    return 0x0800 if ip[0] >> 4 == 4 else 0x86DD


def frame(linktype, ip, from_srv, vlan=None):
    """Wraps an IP packet in the capture's link-layer header."""
    mac = MAC_SRV if from_srv else MAC_CLI
    etype = ethertype(ip)
    if linktype == LINKTYPE_ETHERNET:
        dst = MAC_CLI if from_srv else MAC_SRV
        tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
        return dst + mac + tag + struct.pack("!H", etype) + ip
    pkttype = 0 if from_srv else 4  # to us / outgoing, as on the client
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.pack("!HHH8sH", pkttype, 1, 6, mac, etype) + ip
    return struct.pack("!HHIHBB8s", etype, 0, 2, 1, pkttype, 6, mac) + ip


class Pcap:
    def __init__(self, linktype=LINKTYPE_ETHERNET, snaplen=262144):
        self.linktype = linktype
        self.snaplen = snaplen
        self.records = []

    def add(self, data, wire_len=None):
        """Adds a record; wire_len larger than data means cut by snaplen."""
        data = data[:self.snaplen]
        self.records.append((data, wire_len or len(data)))

    def add_ip(self, ip, from_srv, vlan=None):
        data = frame(self.linktype, ip, from_srv, vlan)
        self.add(data[:self.snaplen], len(data))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                self.snaplen, self.linktype))
            for i, (data, wire) in enumerate(self.records):
                f.write(struct.pack("<IIII", 1700000000 + i // 1000,
                                    (i % 1000) * 1000, len(data), wire))
                f.write(data)


class Conn:
    """One TCP connection to the service port. Each side's next sequence
    number is tracked, so a case only spells out what differs."""

    def __init__(self, pcap, v6=False, cport=40000, cisn=1000,
                 sisn=3000000000, cli=None, vlan=None, hbh=False):
        self.pcap = pcap
        self.srv = ipaddress.ip_address(SRV6 if v6 else SRV4)
        self.cli = ipaddress.ip_address(cli or (CLI6 if v6 else CLI4))
        self.cport = cport
        self.cisn, self.sisn = cisn, sisn
        self.nxt = {False: cisn, True: sisn}  # keyed by from_srv
        self.vlan, self.hbh = vlan, hbh

    def seg(self, from_srv, flags, data=b"", seq=None, ack=None, ttl=None,
            bad_ip=False, bad_tcp=False, opts=b""):
        if seq is None:
            seq = self.nxt[from_srv]
        span = len(data) + bool(flags & SYN) + bool(flags & FIN)
        end = (seq + span) & MASK
        if (end - self.nxt[from_srv]) & MASK < 0x80000000:
            self.nxt[from_srv] = end
        if ack is None:
            ack = self.nxt[not from_srv] if flags & ACK else 0
        if ttl is None:
            ttl = XREDIR_TTL if from_srv else CLIENT_TTL
        src, dst = (self.srv, self.cli) if from_srv else (self.cli, self.srv)
        sport, dport = (PORT, self.cport) if from_srv else (self.cport, PORT)
        l4 = tcp_segment(src, dst, sport, dport, seq, ack, flags, data,
                         opts, bad_tcp)
        ip = ip_packet(src, dst, ttl, l4, bad_csum=bad_ip, hbh=self.hbh)
        self.pcap.add_ip(ip, from_srv, self.vlan)

    def c(self, flags, data=b"", **kw):
        self.seg(False, flags, data, **kw)

    def s(self, flags, data=b"", **kw):
        self.seg(True, flags, data, **kw)

    def srel(self, n):
        """Server sequence number n bytes after its ISN."""
        return (self.sisn + n) & MASK

    def handshake(self, synack_ack=None, synack_ttl=None):
        self.c(SYN, opts=MSS_OPT)
        self.s(SYN | ACK, opts=MSS_OPT, ack=synack_ack, ttl=synack_ttl)
        self.c(ACK)

    def request(self, **kw):
        self.c(PSH | ACK, REQUEST, **kw)

    def close(self):
        self.s(FIN | ACK)
        self.c(FIN | ACK)
        self.s(ACK)


def clean_flow(conn):
    """Handshake, request, response in two parts, a resend of the first
    part with the same bytes, a resent FIN, FIN exchange."""
    conn.handshake()
    conn.request()
    conn.s(ACK)
    conn.s(PSH | ACK, RESPONSE[:40])
    conn.s(PSH | ACK, RESPONSE[40:])
    conn.s(PSH | ACK, RESPONSE[:40], seq=conn.srel(1))
    conn.c(ACK)
    conn.s(FIN | ACK)
    conn.s(FIN | ACK, seq=conn.srel(1 + len(RESPONSE)))
    conn.c(FIN | ACK)
    conn.s(ACK)


def noise(pcap):
    """Traffic pcapcheck must ignore: ARP, ICMP, other ports, a client
    segment with the kernel's TTL (only the server's TTL matters)."""
    if pcap.linktype == LINKTYPE_ETHERNET:
        arp = bytes(6 * [0xFF]) + MAC_CLI + struct.pack("!H", 0x0806)
        pcap.add(arp + bytes(28))
    srv, cli = ipaddress.ip_address(SRV4), ipaddress.ip_address(CLI4)
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1)
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    pcap.add_ip(ip_packet(cli, srv, 64, icmp, proto=1), False)
    other = tcp_segment(cli, srv, 40001, 22, 1, 0, SYN, bad_csum=True)
    pcap.add_ip(ip_packet(cli, srv, 64, other, bad_csum=True), False)
    conn = Conn(pcap, cport=40002)
    conn.c(SYN, ttl=KERNEL_TTL)


def clean(linktype=LINKTYPE_ETHERNET, vlan=None):
    pcap = Pcap(linktype)
    noise(pcap)
    clean_flow(Conn(pcap, cport=40000, vlan=vlan))
    clean_flow(Conn(pcap, v6=True, cport=40000, sisn=0xFFFFFFF0,
                    hbh=True, vlan=vlan))
    return pcap


def clean_interleaved():
    """Two flows whose segments alternate, one with wrapping numbers."""
    pcap = Pcap()
    a = Conn(pcap, cport=41000, sisn=0xFFFFFFE0, cisn=0xFFFFFFF0)
    b = Conn(pcap, v6=True, cport=41000)
    for conn in (a, b):
        conn.handshake()
    for conn in (a, b):
        conn.request()
    for conn in (a, b):
        conn.s(PSH | ACK, RESPONSE)
    for conn in (a, b):
        conn.close()
    return pcap


def truncated():
    """The clean flows with a 64-byte snaplen: nothing to flag."""
    pcap = clean()
    snap = Pcap(snaplen=64)
    for data, wire in pcap.records:
        snap.add(data, wire)
    return snap


def odd():
    """Malformed and unusual packets that must not crash or flag."""
    pcap = Pcap()
    srv, cli = ipaddress.ip_address(SRV4), ipaddress.ip_address(CLI4)
    srv6, cli6 = ipaddress.ip_address(SRV6), ipaddress.ip_address(CLI6)
    l4 = tcp_segment(cli, srv, 40000, PORT, 1, 0, SYN)
    good = ip_packet(cli, srv, 64, l4)
    eth = MAC_SRV + MAC_CLI + b"\x08\x00"
    pcap.add(b"")
    pcap.add(b"\x01")
    pcap.add(eth)  # Ethernet header only
    pcap.add(MAC_SRV + MAC_CLI + b"\x81\x00\x00")  # cut VLAN tag
    pcap.add(eth + good[:19])  # cut IPv4 header
    pcap.add(eth + bytes([0x43]) + good[1:])  # IHL 3
    pcap.add(eth + bytes([0x65]) + good[1:])  # version 6 in an IPv4 frame
    pcap.add(eth + good[:2] + b"\xff\xff" + good[4:])  # length > frame
    pcap.add(eth + good[:2] + b"\x00\x10" + good[4:])  # length < header
    pcap.add(eth + good[:20] + l4[:3], len(eth) + len(good))  # cut ports
    pcap.add(eth + good[:20] + l4[:12], len(eth) + len(good))  # cut TCP
    frag = bytearray(good)
    frag[6:8] = b"\x20\x00"  # MF
    pcap.add(eth + bytes(frag))
    doff = bytearray(l4)
    doff[12] = 0x20  # data offset 2
    pcap.add(eth + ip_packet(cli, srv, 64, bytes(doff)))
    doff[12] = 0xF0  # data offset 15 in a 20-byte segment
    pcap.add(eth + ip_packet(cli, srv, 64, bytes(doff)))
    pcap.add(eth + ip_packet(cli, srv, 64, l4[:10]))  # 10-byte TCP
    eth6 = MAC_SRV + MAC_CLI + b"\x86\xdd"
    l46 = tcp_segment(cli6, srv6, 40000, PORT, 1, 0, SYN)
    ip6 = ip_packet(cli6, srv6, 64, l46, hbh=True)
    pcap.add(eth6 + ip6[:39])  # cut IPv6 header
    pcap.add(eth6 + ip6[:44], len(eth6) + len(ip6))  # cut in the ext hdr
    pcap.add(eth6 + ip6[:4] + b"\x00\x00" + ip6[6:])  # payload length 0
    pcap.add(eth6 + ip6[:4] + b"\x00\x05" + ip6[6:])  # ext past payload
    chain = b"".join(bytes([0, 0]) + HBH_PAD for _ in range(9))
    loop = struct.pack("!IHBB16s16s", 0x60000000, len(chain), 0, 64,
                       cli6.packed, srv6.packed) + chain
    pcap.add(eth6 + loop)  # too many extension headers
    fr = struct.pack("!BBHI", 6, 0, 0x0009, 7)  # fragment, offset 8
    fr6 = struct.pack("!IHBB16s16s", 0x60000000, len(fr) + len(l46), 44, 64,
                      cli6.packed, srv6.packed) + fr + l46
    pcap.add(eth6 + fr6)
    atomic = struct.pack("!BBHI", 6, 0, 0, 7)  # atomic fragment: parsed
    at6 = struct.pack("!IHBB16s16s", 0x60000000, len(atomic) + len(l46), 44,
                      64, cli6.packed, srv6.packed) + atomic + l46
    pcap.add(eth6 + at6)
    pcap.add(eth + good + bytes(30))  # Ethernet padding after the packet
    return pcap


def reuse():
    """Two connections on one four-tuple, one after the other."""
    pcap = Pcap()
    clean_flow(Conn(pcap, cport=42000, cisn=100, sisn=7000))
    clean_flow(Conn(pcap, cport=42000, cisn=900000, sisn=123456789))
    return pcap


def rst_justified():
    """A server RST answering a client segment, with that segment's ACK."""
    pcap = Pcap()
    conn = Conn(pcap)
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.c(ACK)
    conn.s(RST, seq=conn.srel(1 + len(RESPONSE)), ack=0)
    return pcap


def rst_midstream():
    """A flow whose start the capture missed; the RST still matches."""
    pcap = Pcap()
    conn = Conn(pcap, v6=True)
    conn.nxt = {False: 5000, True: 90000}
    conn.c(PSH | ACK, b"more request bytes")
    conn.s(ACK)
    conn.c(ACK, b"x")
    conn.s(RST, seq=90000, ack=0)
    return pcap


def many_flows():
    """More flows than pcapcheck tracks: it must say so and go on."""
    pcap = Pcap()
    n = 0
    for cli in (CLI4, CLI4B):
        for port in range(1024, 1024 + 32800):
            Conn(pcap, cport=port, cli=cli).c(SYN)
            n += 1
    return pcap


def evict():
    """200 finished connections, some ended by a client RST, then one with
    a gap: with --max-flows 16 the finished ones make room."""
    pcap = Pcap()
    for i in range(200):
        conn = Conn(pcap, cport=20000 + i, cisn=i * 7919, sisn=i * 104729)
        conn.handshake()
        conn.request()
        conn.s(PSH | ACK, RESPONSE)
        if i % 4:
            conn.close()
        else:
            conn.c(RST | ACK)
    gap(Conn(pcap, v6=True, cport=30000))
    return pcap


def open_flows():
    """20 connections that stay open: nothing to make room with."""
    pcap = Pcap()
    for i in range(20):
        conn = Conn(pcap, cport=20000 + i)
        conn.handshake()
        conn.request()
    return pcap


def many_csum():
    """25 client segments with bad TCP checksums, for -v."""
    pcap = Pcap()
    conn = Conn(pcap)
    conn.handshake()
    for _ in range(25):
        conn.c(PSH | ACK, b"a", bad_tcp=True)
    return pcap


def flow_then(v6, fn, linktype=LINKTYPE_ETHERNET, **kw):
    """A capture of one connection shaped by fn(conn)."""
    pcap = Pcap(linktype)
    fn(Conn(pcap, v6=v6, **kw))
    return pcap


def bad_ip_csum(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE, bad_ip=True)
    conn.close()


def bad_tcp_csum(conn):
    conn.handshake()
    conn.request(bad_tcp=True)
    conn.s(PSH | ACK, RESPONSE)
    conn.close()


def kernel_synack(conn):
    conn.handshake(synack_ttl=KERNEL_TTL)
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.close()


def kernel_data(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE, ttl=KERNEL_TTL)
    conn.close()


def gap(conn):
    """The server skips bytes 40..49 of its response."""
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE[:40])
    conn.s(PSH | ACK, RESPONSE[50:], seq=conn.srel(51))
    conn.close()


def retrans_changed(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    changed = RESPONSE[:20] + b"Z" + RESPONSE[21:40]
    conn.s(PSH | ACK, changed, seq=conn.srel(1))
    conn.close()


def retrans_many(conn):
    """Nine resends of the response (data), the limit is 8."""
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    for _ in range(9):
        conn.s(PSH | ACK, RESPONSE, seq=conn.srel(1))
    conn.close()


def new_isn(conn):
    """A SYN sent again gets a SYN-ACK with a new, lower ISN (a SYN cookie
    of the next time step); the flow goes on from it."""
    conn.c(SYN, opts=MSS_OPT)
    conn.s(SYN | ACK, opts=MSS_OPT)
    conn.c(SYN, opts=MSS_OPT, seq=conn.cisn)
    conn.sisn = (conn.sisn - 100000) & MASK
    conn.nxt[True] = conn.sisn
    conn.s(SYN | ACK, opts=MSS_OPT)
    conn.c(ACK)
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.close()


def new_isn_after_data(conn):
    """A SYN-ACK with a new ISN once the server has sent data."""
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    nxt = conn.nxt[True]
    conn.s(SYN | ACK, opts=MSS_OPT, seq=(conn.sisn + 5000) & MASK,
           ack=(conn.cisn + 1) & MASK)
    conn.nxt[True] = nxt
    conn.close()


def ack_beyond(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE,
           ack=conn.cisn + 1 + len(REQUEST) + 5)
    conn.close()


def ack_backwards(conn):
    conn.handshake()
    conn.request()
    conn.s(ACK)
    conn.s(PSH | ACK, RESPONSE, ack=conn.cisn + 1)
    conn.close()


def after_fin(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.s(FIN | ACK)
    conn.s(PSH | ACK, b"late", seq=conn.srel(1 + len(RESPONSE)))
    conn.c(FIN | ACK, ack=conn.srel(2 + len(RESPONSE)))


def fin_moved(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.s(FIN | ACK)
    conn.s(FIN | ACK, seq=conn.srel(2 + len(RESPONSE)))


def rst_unjustified(conn):
    conn.handshake()
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.c(ACK)
    conn.s(RST, seq=conn.srel(1), ack=0)


def synack_bad(conn):
    conn.handshake(synack_ack=conn.cisn)
    conn.request()
    conn.s(PSH | ACK, RESPONSE)
    conn.close()


CASES = {
    "clean": clean,
    "clean-sll": lambda: clean(LINKTYPE_LINUX_SLL),
    "clean-sll2": lambda: clean(LINKTYPE_LINUX_SLL2),
    "clean-vlan": lambda: clean(vlan=77),
    "clean-interleaved": clean_interleaved,
    "truncated": truncated,
    "odd": odd,
    "reuse": reuse,
    "rst-justified": rst_justified,
    "rst-midstream": rst_midstream,
    "many-flows": many_flows,
    "many-csum": many_csum,
    "evict": evict,
    "open-flows": open_flows,
    "bad-ip-csum": lambda: flow_then(False, bad_ip_csum),
    "bad-tcp-csum": lambda: flow_then(True, bad_tcp_csum),
    "kernel-ttl": lambda: flow_then(False, kernel_synack),
    "kernel-hlim-sll2": lambda: flow_then(True, kernel_data,
                                          LINKTYPE_LINUX_SLL2),
    "gap": lambda: flow_then(False, gap),
    "gap-v6-sll": lambda: flow_then(True, gap, LINKTYPE_LINUX_SLL),
    "retrans-changed": lambda: flow_then(True, retrans_changed),
    "retrans-many": lambda: flow_then(False, retrans_many),
    "new-isn": lambda: flow_then(False, new_isn),
    "new-isn-after-data": lambda: flow_then(True, new_isn_after_data),
    "ack-beyond": lambda: flow_then(False, ack_beyond),
    "ack-backwards": lambda: flow_then(True, ack_backwards),
    "after-fin": lambda: flow_then(False, after_fin),
    "fin-moved": lambda: flow_then(True, fin_moved),
    "rst-unjustified": lambda: flow_then(False, rst_unjustified),
    "synack-bad": lambda: flow_then(True, synack_bad),
}


def main():
    if len(sys.argv) != 2:
        print("usage: gen_pcaps.py OUTDIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in CASES.items():
        build().write(os.path.join(out, name + ".pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
