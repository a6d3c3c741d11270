#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Client-side checks for xredir's end-to-end tests (standard library only).

Each check talks to xredird from the client namespace (run it there with
`ip netns exec`) and exits 0 with one summary line on stdout, or 1 with the
reason as the last line on stderr (the runner shows that line).

usage: e2e.py CHECK [--host H] [--port N] [--src ADDR] [--target URL] ...
       e2e.py --help
"""

import argparse
import http.client
import re
import socket
import sys
import time

from xrclient import TIMEOUT, Conn, Fail, check

DEFAULT_TARGET = "https://k8s.gcr.io"
MATCH_TARGET = "https://registry-1.docker.io"
DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d\d:\d\d:\d\d GMT$")
# Headers every redirect carries, each exactly once.
REDIRECT_HEADERS = ("location", "content-type", "content-length", "date",
                    "connection")


def html_escape(s):
    return s.replace("&", "&amp;").replace("'", "&#39;")


def body_for(location):
    return ('<a href="%s">Found</a>.\n' % html_escape(location)).encode()


def check_redirect(r, location, keep_alive=True, head=False, what=""):
    """A 302 to location with the full header set."""
    w = (what + ": ") if what else ""
    check(r.status == 302 and r.reason == "Found",
          "%sstatus %d %s, want 302 Found" % (w, r.status, r.reason))
    check(r.version == "HTTP/1.1", "%sversion %s" % (w, r.version))
    for h in REDIRECT_HEADERS:
        check(len(r.all(h)) == 1, "%sheader %s appears %d times" %
              (w, h, len(r.all(h))))
    check(r.text("location") == location, "%sLocation %r, want %r" %
          (w, r.text("location"), location))
    check(r.text("content-type") == "text/html; charset=utf-8",
          "%sContent-Type %r" % (w, r.text("content-type")))
    check(DATE_RE.match(r.text("date")), "%sbad Date %r" % (w, r.text("date")))
    want_conn = "keep-alive" if keep_alive else "close"
    check(r.text("connection") == want_conn, "%sConnection %r, want %r" %
          (w, r.text("connection"), want_conn))
    want_body = body_for(location)
    check(r.text("content-length") == str(len(want_body)),
          "%sContent-Length %r, want %d" %
          (w, r.text("content-length"), len(want_body)))
    if not head:
        check(r.body == want_body, "%sbody %r, want %r" %
              (w, r.body, want_body))


def request(path, method="GET", version="HTTP/1.1", extra=""):
    return ("%s %s %s\r\nHost: xredir.test\r\nUser-Agent: e2e\r\n%s\r\n" %
            (method, path, version, extra)).encode()


# ---- checks ----


def c_http10(a):
    """HTTP/1.0 without keep-alive: 302, Connection: close, server closes."""
    c = Conn(a.host, a.port, a.src)
    path = "/v1/http10?q=1"
    c.send(request(path, version="HTTP/1.0"))
    r = c.read_response()
    check_redirect(r, a.target + path, keep_alive=False)
    c.expect_close()
    c.close()
    print("302 then close on HTTP/1.0")


def c_head(a):
    """HEAD then GET on one connection: the HEAD answer has no body (the
    next bytes are the GET's status line) and the same Content-Length."""
    c = Conn(a.host, a.port, a.src)
    path = "/v2/x/manifests/1?y=z"
    c.send(request(path, method="HEAD"))
    h = c.read_response(head_request=True)
    check_redirect(h, a.target + path, head=True, what="HEAD")
    # A body sent after the HEAD head would show up here.
    check(c.buf == b"" or c.buf.startswith(b"HTTP/1."),
          "bytes after the HEAD response head: %r" % c.buf[:100])
    c.expect_quiet(0.2)
    c.send(request(path))
    g = c.read_response()
    check_redirect(g, a.target + path, what="GET")
    check(h.text("content-length") == str(len(g.body)),
          "HEAD Content-Length %s != GET body length %d" %
          (h.text("content-length"), len(g.body)))
    c.expect_quiet()
    c.close()
    print("HEAD: no body, Content-Length %s = GET body" %
          h.text("content-length"))


def c_keepalive(a):
    """N requests on one http.client connection."""
    cls = http.client.HTTPConnection
    conn = cls(a.host, a.port, timeout=TIMEOUT,
               source_address=(a.src, 0) if a.src else None)
    conn.connect()
    sock0 = conn.sock
    name0 = sock0.getsockname()
    for i in range(a.count):
        path = "/ka/%d?n=%d" % (i, i * 7)
        conn.request("GET", path, headers={"Host": "xredir.test"})
        r = conn.getresponse()
        body = r.read()
        loc = a.target + path
        check(r.status == 302, "request %d: status %d" % (i, r.status))
        check(r.getheader("Location") == loc, "request %d: Location %r" %
              (i, r.getheader("Location")))
        check(body == body_for(loc), "request %d: body %r" % (i, body))
        check(r.getheader("Connection") == "keep-alive",
              "request %d: Connection %r" % (i, r.getheader("Connection")))
        check(not r.will_close, "request %d: http.client will close" % i)
        check(conn.sock is sock0 and sock0.fileno() >= 0 and
              sock0.getsockname() == name0,
              "request %d: http.client opened a new connection" % i)
    conn.close()
    print("%d requests on one connection from %s port %d" %
          (a.count, name0[0], name0[1]))


def c_pipeline(a):
    """N requests in one send(); N responses in order."""
    c = Conn(a.host, a.port, a.src)
    data = b"".join(request("/p/%d" % i) for i in range(a.count))
    c.send(data)
    for i in range(a.count):
        r = c.read_response()
        check_redirect(r, a.target + "/p/%d" % i, what="response %d" % i)
    c.expect_quiet()
    c.close()
    print("%d responses in order to %d bytes sent at once" %
          (a.count, len(data)))


def c_conn_close(a):
    """Connection: close: the response says close and the server closes."""
    c = Conn(a.host, a.port, a.src)
    path = "/close/me"
    c.send(request(path, extra="Connection: close\r\n"))
    r = c.read_response()
    check_redirect(r, a.target + path, keep_alive=False)
    c.expect_close()
    c.close()
    print("Connection: close answered and closed")


def c_split(a):
    """One request in three send() calls with pauses."""
    c = Conn(a.host, a.port, a.src, nodelay=True)
    path = "/split/across/three?sends=1"
    req = request(path)
    cuts = (5, len(req) - 9)
    parts = (req[:cuts[0]], req[cuts[0]:cuts[1]], req[cuts[1]:])
    for i, p in enumerate(parts):
        c.send(p)
        if i < 2:
            time.sleep(0.1)
            # Nothing may come back for a partial head.
            c.expect_quiet(0.01)
    r = c.read_response()
    check_redirect(r, a.target + path)
    c.expect_quiet()
    c.close()
    print("one response to a head in parts of %s bytes" %
          "+".join(str(len(p)) for p in parts))


BAD_REQUESTS = {
    "ctl": request("/a\x01b"),
    "tls": bytes.fromhex(
        "160301 00a5 01 0000a1 0303") + bytes(range(32)) + b"\x00\x02\x13\x01",
    "space": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
}


def c_bad(a):
    """Each bad request: one 400, Connection: close, then the close."""
    done = []
    for name in a.cases.split(","):
        data = BAD_REQUESTS[name]
        c = Conn(a.host, a.port, a.src)
        c.send(data)
        r = c.read_response()
        check(r.status == 400, "%s: status %d, want 400" % (name, r.status))
        check(r.text("connection") == "close", "%s: Connection %r" %
              (name, r.text("connection")))
        check(r.text("content-length") == str(len(r.body)),
              "%s: Content-Length %r for %d bytes" %
              (name, r.text("content-length"), len(r.body)))
        c.expect_close()  # exactly one response, then FIN
        c.close()
        done.append(name)
    print("400 and close for: %s" % " ".join(done))


def c_refused(a):
    """A connect is refused (the kernel's RST)."""
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    if a.src:
        s.bind((a.src, 0))
    try:
        s.connect((a.host, a.port))
    except ConnectionRefusedError:
        print("connect to %s port %d refused" % (a.host, a.port))
        return
    except socket.timeout:
        raise Fail("connect to %s port %d timed out (no RST: something "
                   "still swallows the port)" % (a.host, a.port))
    finally:
        s.close()
    raise Fail("connect to %s port %d succeeded" % (a.host, a.port))


def c_echo_server(a):
    """A dual-stack TCP echo server; prints 'listening' once bound."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", a.port))
    s.listen(16)
    print("listening", flush=True)
    while True:
        c, _ = s.accept()
        c.settimeout(TIMEOUT)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()


def c_echo(a):
    """The echo server answers."""
    c = Conn(a.host, a.port, a.src)
    msg = b"xredir e2e echo %f\n" % time.time()
    c.send(msg)
    while len(c.buf) < len(msg):
        check(c.fill(), "echo server closed early")
    check(c.buf == msg, "echo %r, want %r" % (c.buf, msg))
    c.sock.shutdown(socket.SHUT_WR)
    c.buf.clear()
    c.expect_close()
    c.close()
    print("echo on %s port %d" % (a.host, a.port))


CHECKS = {
    "http10": c_http10,
    "head": c_head,
    "keepalive": c_keepalive,
    "pipeline": c_pipeline,
    "conn-close": c_conn_close,
    "split": c_split,
    "bad": c_bad,
    "refused": c_refused,
    "echo-server": c_echo_server,
    "echo": c_echo,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("check", choices=sorted(CHECKS))
    p.add_argument("--host", default="10.77.0.1")
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--src", help="local address to bind")
    p.add_argument("--target", default=DEFAULT_TARGET,
                   help="expected redirect prefix")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--cases", default=",".join(BAD_REQUESTS),
                   help="bad requests to send (%s)" % ",".join(BAD_REQUESTS))
    a = p.parse_args()
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
