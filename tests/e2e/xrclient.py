# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The raw HTTP/1.1 client of the e2e checkers (e2e.py, conformance.py,
lifecycle_client.py, control_live.py, control_registry.py; standard library
only): a TCP connection with a receive buffer, a strict response reader,
and the ways a connection may end. A failed check raises Fail, whose
message is the test's reason."""

import re
import select
import socket
import time

TIMEOUT = 5.0


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def short(b, n=120):
    r = repr(bytes(b[:n]))
    return r + ("...(%d bytes)" % len(b) if len(b) > n else "")


class Response:
    def __init__(self, status_line, status, reason, headers, raw):
        self.status_line = status_line
        self.version = status_line.split(" ", 1)[0]
        self.status = status
        self.reason = reason
        self.headers = headers  # [(lower-case name, value bytes)]
        self.body = b""
        self.raw = raw

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def get(self, name):
        """The value (bytes) of a header that appears exactly once."""
        v = self.all(name)
        return v[0] if len(v) == 1 else None

    def text(self, name):
        """The same as a str."""
        v = self.get(name)
        return None if v is None else v.decode("latin-1")

    def names(self):
        return sorted(n for n, _ in self.headers)

    def __repr__(self):
        return "%s %r body=%s" % (self.status_line, self.headers,
                                  short(self.body, 80))


class Conn:
    """A raw TCP connection with a receive buffer."""

    def __init__(self, host, port, src=None, timeout=TIMEOUT, nodelay=True):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if data:
            self.sock.sendall(data)

    def fill(self, timeout=TIMEOUT):
        """One recv within timeout seconds: True if bytes came; False on a
        timeout or at the end (FIN or RST: self.eof, and self.reset)."""
        if self.eof or timeout <= 0:
            return False
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def take(self, n):
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def _fill_by(self, deadline):
        return self.fill(deadline - time.monotonic())

    def _end(self):
        return "reset" if self.reset else "EOF"

    def read_response(self, head_request=False, timeout=TIMEOUT):
        """Reads one response, strictly: HTTP/1.1, token header names, one
        Content-Length, no control bytes; raises Fail on anything else."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            if not self._fill_by(deadline):
                if self.eof:
                    raise Fail("%s before a complete response head (got %s)"
                               % (self._end(), short(self.buf)))
                raise Fail("timed out: no complete response head in %.1fs "
                           "(got %s)" % (timeout, short(self.buf)))
        head = self.take(i + 4)
        lines = head[:-4].split(b"\r\n")
        for ln in lines:
            if b"\r" in ln or b"\n" in ln:
                raise Fail("bare CR or LF in the response head: %s"
                           % short(head, 400))
            if any(c < 0x20 and c != 0x09 or c == 0x7f for c in ln):
                raise Fail("control byte in the response head: %s"
                           % short(head, 400))
        m = re.match(rb"^HTTP/1\.1 (\d\d\d) (.*)$", lines[0])
        if not m:
            raise Fail("bad status line %s" % short(lines[0]))
        status = int(m.group(1))
        headers = []
        for ln in lines[1:]:
            h = re.match(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+): (.*)$", ln)
            if not h:
                raise Fail("bad header line %s" % short(ln))
            headers.append((h.group(1).decode().lower(), h.group(2)))
        resp = Response(lines[0].decode("latin-1"), status,
                        m.group(2).decode("latin-1"), headers, head)
        cl = resp.all("content-length")
        if len(cl) != 1 or not re.match(rb"^\d+$", cl[0]):
            raise Fail("Content-Length %r in %s" % (cl, short(head, 400)))
        n = int(cl[0])
        if head_request or status in (204, 304) or status < 200:
            return resp
        while len(self.buf) < n:
            if not self._fill_by(deadline):
                raise Fail("body: %d of %d bytes, then %s" % (
                    len(self.buf), n,
                    self._end() if self.eof else "timed out"))
        resp.body = self.take(n)
        resp.raw += resp.body
        return resp

    def read_to_eof(self, timeout=TIMEOUT):
        """Reads until the end (kept in buf) or timeout; True at the end."""
        deadline = time.monotonic() + timeout
        while self._fill_by(deadline):
            pass
        return self.eof

    def expect_close(self, timeout=TIMEOUT):
        """The server closes with a FIN within timeout, nothing before it."""
        check(self.read_to_eof(timeout), "timed out waiting for the close "
              "(have %d bytes: %s)" % (len(self.buf), short(self.buf)))
        check(not self.reset, "connection reset by the server (have %d "
              "bytes: %s)" % (len(self.buf), short(self.buf)))
        check(not self.buf, "extra bytes before the close: %s"
              % short(self.buf, 200))

    def quiet(self, secs):
        """True if nothing (no data, no end) arrives within secs."""
        r, _, _ = select.select([self.sock], [], [], secs)
        if not r:
            return True
        self.fill(0.1)
        return False

    def expect_quiet(self, secs=0.3):
        """Nothing more arrives within secs, and the server did not close."""
        self.quiet(secs)
        check(not self.eof, "the server closed a keep-alive connection")
        check(not self.buf, "unexpected extra bytes: %s"
              % short(self.buf, 200))

    def wait_eof(self, timeout):
        """Seconds until the server closes (FIN or RST); Fail if it does not
        within timeout or sends bytes first."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            check(time.monotonic() < deadline, "no FIN within %.1fs"
                  % timeout)
            r, _, _ = select.select([self.sock], [], [],
                                    max(0, deadline - time.monotonic()))
            if not r:
                continue
            if not self._fill_by(deadline) and self.eof:
                check(not self.buf, "bytes before the close: %s"
                      % short(self.buf, 200))
                return time.monotonic() - t0
