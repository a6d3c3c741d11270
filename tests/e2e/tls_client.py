#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""HTTPS checks of the TLS suite (tests/e2e/tls.sh; standard library only):
a real client (the ssl module) and a raw one that sends what no library
would. Run in the client namespace; each check exits 0 with one summary
line on stdout, or 1 with the reason as the last line on stderr.

usage: tls_client.py CHECK --host H --port N [--src A] [--cafile F] ...
"""

import argparse
import os
import re
import socket
import ssl
import struct
import sys
import time

from e2e import DEFAULT_TARGET, check_redirect, request
from xrclient import TIMEOUT, Conn, Fail, check, short

# TLS record content types and alert descriptions (RFC 8446 B.1, B.2).
HANDSHAKE = 22
ALERT = 21
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
          22: "record_overflow", 40: "handshake_failure",
          47: "illegal_parameter", 50: "decode_error", 70: "protocol_version",
          80: "internal_error", 100: "no_renegotiation",
          120: "no_application_protocol"}


def context(a, alpn=("h2", "http/1.1")):
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif a.tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class TLSConn(Conn):
    """Conn over TLS: the same strict response reader."""

    def __init__(self, a, ctx=None, timeout=TIMEOUT, ragged_eof_ok=True):
        super().__init__(a.host, a.port, a.src, timeout)
        self.sock = (ctx or context(a)).wrap_socket(
            self.sock, server_hostname=a.sni,
            suppress_ragged_eofs=ragged_eof_ok)

    def describe(self):
        return "%s %s, ALPN %s" % (self.sock.version(),
                                   self.sock.cipher()[0],
                                   self.sock.selected_alpn_protocol())


def client_hello(a):
    """The bytes of a real ClientHello (ssl over memory, never sent)."""
    return hello_bytes(context(a), a.sni)


def hello_bytes(ctx, sni):
    """The ClientHello that ctx sends to server name sni."""
    outgoing = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    check(len(hello) > 100 and hello[0] == HANDSHAKE,
          "no ClientHello from the ssl module: %s" % short(hello))
    return hello


def ending(c, timeout):
    """How the server ended a connection within timeout: 'alert NAME',
    'close' or 'reset'; Fail on a timeout or on bytes that are not an
    alert record."""
    t0 = time.monotonic()
    c.read_to_eof(timeout)
    dt = time.monotonic() - t0
    b = bytes(c.buf)
    check(c.eof, "still open after %.1fs (have %s)" % (timeout, short(b)))
    if not b:
        return ("reset" if c.reset else "close"), dt
    check(len(b) >= 7 and b[0] == ALERT and b[1] == 3,
          "bytes other than an alert before the close: %s" % short(b))
    n = struct.unpack("!H", b[3:5])[0]
    check(n == 2 and len(b) == 7, "a malformed alert record: %s" % short(b))
    return "alert %s" % ALERTS.get(b[6], str(b[6])), dt


def whole_response(b):
    """b holds a whole response head and its Content-Length of body."""
    i = b.find(b"\r\n\r\n")
    if i < 0:
        return False
    m = re.search(rb"(?im)^content-length: *(\d+)\r?$", bytes(b[:i]))
    return m is not None and len(b) >= i + 4 + int(m.group(1))


def plain_request_works(a, path):
    c = Conn(a.host, a.plain_port, a.src)
    c.send(request(path))
    check_redirect(c.read_response(), a.target + path, what="plain port")
    c.close()


# ---- checks ----


def c_keepalive(a):
    """COUNT requests on one TLS connection, every answer checked."""
    c = TLSConn(a)
    check(c.sock.selected_alpn_protocol() == "http/1.1",
          "ALPN %r, want http/1.1 (offered h2, http/1.1)" %
          c.sock.selected_alpn_protocol())
    name0 = c.sock.getsockname()
    t0 = time.monotonic()
    for i in range(a.count):
        path = "/py/%d?n=%d" % (i, i * 7)
        c.send(request(path))
        check_redirect(c.read_response(), a.target + path,
                       what="request %d" % i)
        check(not c.eof, "request %d: the server closed" % i)
    dt = time.monotonic() - t0
    c.expect_quiet(0.2)
    check(c.sock.getsockname() == name0, "the connection changed")
    desc = c.describe()
    c.close()
    print("%d requests on one connection (%s) in %.0f ms" %
          (a.count, desc, dt * 1000))


def c_goodbye(a):
    """One request answered, then the connection left idle until the
    server ends it (idle timeout, or a drain once --ready-file exists):
    with a close_notify before its FIN, not a bare close (RFC 8446 6.1)."""
    c = TLSConn(a, ragged_eof_ok=False)
    c.send(request("/goodbye"))
    check_redirect(c.read_response(), a.target + "/goodbye")
    if a.ready_file:
        open(a.ready_file, "w").close()
    t0 = time.monotonic()
    c.sock.settimeout(a.wait)
    try:
        got = c.sock.recv(1)
    except ssl.SSLEOFError:
        raise Fail("closed after %.1fs without a close_notify" %
                   (time.monotonic() - t0))
    except socket.timeout:
        raise Fail("still open after %.0fs" % a.wait)
    check(got == b"", "bytes after the response: %s" % short(got))
    c.close()
    print("closed with a close_notify after %.1fs idle" %
          (time.monotonic() - t0))


def c_garbage(a):
    """Bytes that are no TLS record, then a real ClientHello: the server
    ends the connection promptly (an alert or a close), not at a timeout.
    A plain HTTP request to the TLS port: a 400 saying so (as nginx's),
    then the close, promptly."""
    hello = client_hello(a)
    out = []
    c = Conn(a.host, a.port, a.src)
    c.send(bytes(range(256)) * 2 + hello)
    how, dt = ending(c, a.prompt)
    c.close()
    out.append("binary: %s in %.2fs" % (how, dt))
    c = Conn(a.host, a.port, a.src)
    t0 = time.monotonic()
    c.send(request("/plain-on-tls") + hello)
    r = c.read_response(timeout=a.prompt)
    check(r.status == 400, "plain HTTP on the TLS port: %s, want 400" %
          r.status_line)
    c.expect_close(max(0.1, a.prompt - (time.monotonic() - t0)))
    c.close()
    out.append("plain HTTP: 400 and a close in %.2fs" %
               (time.monotonic() - t0))
    print("; ".join(out))


def c_truncated(a):
    """A ClientHello cut in its middle, then silence: closed by the
    header timeout (not before, not much after)."""
    hello = client_hello(a)
    c = Conn(a.host, a.port, a.src)
    c.send(hello[:len(hello) // 2])
    how, dt = ending(c, a.header_timeout + 3)
    c.close()
    check(how in ("close", "reset") or how.startswith("alert"),
          "ended by %s" % how)
    check(dt >= a.header_timeout - 0.5,
          "ended after %.2fs, before the header timeout (%ds)" %
          (dt, a.header_timeout))
    print("%d of %d bytes, then silence: %s after %.2fs (header timeout %ds)"
          % (len(hello) // 2, len(hello), how, dt, a.header_timeout))


def c_split(a):
    """The ClientHello in 1-byte segments (TCP_NODELAY, one send per byte),
    then the rest of the handshake and a request, over ssl's memory BIOs."""
    ctx = context(a)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=a.sni)
    c = Conn(a.host, a.port, a.src)
    first = True
    sent = 0
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = outg.read()
        if first:
            for i in range(len(data)):
                c.sock.send(data[i:i + 1])
            sent = len(data)
            first = False
        else:
            c.send(data)
        if done:
            break
        check(c.fill(deadline - time.monotonic()),
              "handshake: %s" % ("EOF" if c.eof else "timed out"))
        inc.write(c.take(len(c.buf)))
    path = "/split-hello"
    obj.write(request(path))
    c.send(outg.read())
    plain = bytearray()
    while not whole_response(plain):
        check(c.fill(deadline - time.monotonic()),
              "response: %s (have %s)" % ("EOF" if c.eof else "timed out",
                                          short(plain)))
        inc.write(c.take(len(c.buf)))
        try:
            plain += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
    resp = Conn.__new__(Conn)
    resp.buf, resp.eof, resp.reset = plain, False, False
    check_redirect(resp.read_response(timeout=0), a.target + path)
    print("a ClientHello of %d bytes in %d 1-byte sends: %s, 302" %
          (sent, sent, obj.version()))
    c.close()


def c_oversized(a):
    """Records longer than TLS allows (RFC 8446 5.1, 5.2): a whole one of
    2^14+256+1 bytes, and a header claiming 65535: record_overflow or a
    close, promptly."""
    out = []
    for n, body in ((16384 + 256 + 1, None), (65535, b"\x01" * 100)):
        c = Conn(a.host, a.port, a.src)
        if body is None:
            body = b"\x01" + struct.pack("!I", n - 4)[1:] + os.urandom(n - 4)
        try:
            c.send(struct.pack("!BHH", HANDSHAKE, 0x0301, n) + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        how, dt = ending(c, a.prompt)
        c.close()
        check(how in ("close", "reset", "alert record_overflow"),
              "length %d: %s, want record_overflow or a close" % (n, how))
        out.append("length %d: %s in %.2fs" % (n, how, dt))
    print("; ".join(out))


def c_max_flows(a):
    """--max-tls-flows LIMIT sessions from one source, alone: TCP
    connections that sent nothing hold no TLS state; one more ClientHello
    is neither answered nor closed (its input is not acknowledged) while
    the plain port answers; once the sessions close, the client's own
    retransmission gets it served."""
    idle = [Conn(a.host, a.port, a.src) for _ in range(3)]
    held = []
    for i in range(a.limit):
        c = TLSConn(a)
        path = "/held/%d" % i
        c.send(request(path))
        check_redirect(c.read_response(), a.target + path,
                       what="session %d of %d (with %d idle TCP connections)"
                       % (i + 1, a.limit, len(idle)))
        held.append(c)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context(a).wrap_bio(inc, outg, server_hostname=a.sni)
    extra = Conn(a.host, a.port, a.src)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    extra.send(outg.read())
    check(extra.quiet(a.prompt), "a session beyond the limit: %s" %
          ("closed" if extra.eof else "answered %s" % short(extra.buf)))
    plain_request_works(a, "/while-full")
    for c in held + idle:
        c.close()
    t0 = time.monotonic()
    deadline = t0 + TIMEOUT
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        extra.send(outg.read())
        if done:
            break
        check(extra.fill(deadline - time.monotonic()),
              "the waiting handshake, after the sessions closed: %s" %
              ("closed" if extra.eof else "timed out"))
        inc.write(extra.take(len(extra.buf)))
    dt = time.monotonic() - t0
    obj.write(request("/after-full"))
    extra.send(outg.read())
    plain = bytearray()
    while not whole_response(plain):
        check(extra.fill(deadline - time.monotonic()), "no response")
        inc.write(extra.take(len(extra.buf)))
        try:
            plain += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
    resp = Conn.__new__(Conn)
    resp.buf, resp.eof, resp.reset = plain, False, False
    check_redirect(resp.read_response(timeout=0), a.target + "/after-full")
    extra.close()
    print("%d session(s) beside %d idle connections; one more waited "
          "unanswered (plain port served), then was served %.2fs after "
          "they closed" % (a.limit, len(idle), dt))


def c_max_handshakes(a):
    """--max-tls-handshakes LIMIT: COUNT ClientHellos from --src that never
    finish; exactly a quarter of LIMIT (one source's share) is answered,
    the rest wait unanswered, not closed; a client on --victim-src
    completes its handshake and gets its redirect meanwhile."""
    hello = client_hello(a)
    held = [Conn(a.host, a.port, a.src) for _ in range(a.count)]
    for c in held:
        c.send(hello)
    deadline = time.monotonic() + a.prompt
    answered = 0
    for c in held:
        if c.fill(max(0.05, deadline - time.monotonic())):
            answered += 1
        check(not c.eof, "a held handshake was closed")
    share = a.limit // 4
    check(answered == share, "%d of %d ClientHellos answered, want %d "
          "(a quarter of --max-tls-handshakes %d)" %
          (answered, a.count, share, a.limit))
    v = argparse.Namespace(**vars(a))
    v.src = a.victim_src
    t0 = time.monotonic()
    c = TLSConn(v)
    c.send(request("/beside-held"))
    check_redirect(c.read_response(), a.target + "/beside-held",
                   what="the other source's request")
    dt = time.monotonic() - t0
    c.close()
    for h in held:
        h.close()
    print("%d ClientHellos held from %s: %d answered (its share of %d), the "
          "rest waiting; another source served in %.0f ms" %
          (a.count, a.src, answered, a.limit, dt * 1000))


CHECKS = {
    "keepalive": c_keepalive,
    "goodbye": c_goodbye,
    "garbage": c_garbage,
    "truncated": c_truncated,
    "split": c_split,
    "oversized": c_oversized,
    "max-flows": c_max_flows,
    "max-handshakes": c_max_handshakes,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("check", choices=sorted(CHECKS))
    p.add_argument("--host", default="10.77.0.1")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--plain-port", type=int, default=10000)
    p.add_argument("--src", help="local address to bind")
    p.add_argument("--sni", help="server name (and name checked)")
    p.add_argument("--cafile", required=True)
    p.add_argument("--tls", choices=("1.2", "1.3", "any"), default="any")
    p.add_argument("--target", default=DEFAULT_TARGET,
                   help="expected redirect prefix")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--limit", type=int, default=2)
    p.add_argument("--header-timeout", type=int, default=3)
    p.add_argument("--victim-src", help="max-handshakes: the other source")
    p.add_argument("--ready-file", help="goodbye: created once answered")
    p.add_argument("--wait", type=float, default=20,
                   help="goodbye: seconds to wait for the server's close")
    p.add_argument("--prompt", type=float, default=1.0,
                   help="seconds within which bad input must end a "
                   "connection")
    a = p.parse_args()
    if not a.sni:
        a.sni = a.host
    try:
        CHECKS[a.check](a)
    except Fail as e:
        print("%s: %s" % (a.check, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("%s: %s: %s" % (a.check, type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
