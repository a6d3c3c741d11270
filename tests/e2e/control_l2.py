#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Raw Ethernet probes for control.sh 12-service-addresses: one TCP SYN to
DST:PORT per destination MAC, sent from an AF_PACKET socket (no scapy), each
from its own source port, then a last SYN to the server's own MAC (the
fence). Frames on a veth arrive in order and the server answers in order,
so once the fence's SYN-ACK is in, any answer to the probes before it would
have been seen: no waiting for a silence.

usage: control_l2.py --iface IF --src A --dst A --port N --fence MAC
                     NAME=MAC...
Prints "NAME answered" or "NAME silent" per probe and "fence answered";
exit 0 when the fence was answered within 5 s, 1 if not, 2 on bad usage.
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time

# Frames and checksums are built in one place, the capture generator's
# (standard library only, independent of xredir's own code).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "pcap"))
from gen_pcaps import MSS_OPT, SYN, ip_packet, tcp_segment  # noqa: E402

ETH_P_IP = 0x0800
BASE_PORT = 41000


def mac_bytes(text):
    b = bytes.fromhex(text.replace(":", ""))
    if len(b) != 6:
        raise ValueError(text)
    return b


def syn_frame(dmac, smac, src, dst, sport, dport):
    saddr, daddr = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = tcp_segment(saddr, daddr, sport, dport, 1000, 0, SYN, opts=MSS_OPT)
    ip = ip_packet(saddr, daddr, 64, tcp)
    return dmac + smac + struct.pack("!H", ETH_P_IP) + ip


def synack_port(frame, dst, port):
    """The destination port of a SYN-ACK from dst:port, else None."""
    if len(frame) < 54 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0xF) * 4
    if ip[9] != socket.IPPROTO_TCP or ip[12:16] != socket.inet_aton(dst):
        return None
    tcp = ip[ihl:]
    if len(tcp) < 14:
        return None
    sport, dport = struct.unpack("!HH", tcp[:4])
    if sport != port or tcp[13] & 0x12 != 0x12:
        return None
    return dport


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--fence", required=True)
    p.add_argument("probes", nargs="+")
    a = p.parse_args()
    try:
        probes = [(n, mac_bytes(m)) for n, m in
                  (x.split("=", 1) for x in a.probes)]
        fence = mac_bytes(a.fence)
    except ValueError as e:
        print("control_l2: bad probe or MAC: %s" % e, file=sys.stderr)
        return 2
    with open("/sys/class/net/%s/address" % a.iface) as f:
        smac = mac_bytes(f.read().strip())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_IP))
    s.bind((a.iface, 0))
    # Each run its own ports: answers to an earlier run cannot count.
    base = BASE_PORT + (os.getpid() % 1000) * 8
    ports = {}
    for i, (name, mac) in enumerate(probes):
        ports[base + i] = name
        s.send(syn_frame(mac, smac, a.src, a.dst, base + i, a.port))
    fence_port = base + len(probes)
    s.send(syn_frame(fence, smac, a.src, a.dst, fence_port, a.port))
    answered = set()
    deadline = time.monotonic() + 5
    fenced = False
    while not fenced and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], deadline - time.monotonic())
        if not r:
            break
        frame, addr = s.recvfrom(2048)
        if addr[2] != socket.PACKET_HOST:
            continue
        dport = synack_port(frame, a.dst, a.port)
        if dport == fence_port:
            fenced = True
        elif dport in ports:
            answered.add(ports[dport])
    for name, _ in probes:
        print("%s %s" % (name, "answered" if name in answered else "silent"))
    print("fence %s" % ("answered" if fenced else "silent"))
    return 0 if fenced else 1


if __name__ == "__main__":
    sys.exit(main())
