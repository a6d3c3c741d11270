#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""HTTP conformance checks of a running xredird (standard library only).

Run in the client namespace (tests/e2e/conformance.sh does that). Every
check exits 0 with one summary line on stdout, or 1 with the reason as the
last line on stderr; details of each failure go to stderr before it.

  corpus      every entry of tests/unit/http_corpus.h (exported as JSON by
              tests/e2e/export_corpus.c) for one configuration, end to end:
              status, headers, body, connection kept or closed; with
              --nginx-port also records how xredird and nginx answer each
              entry (status classes, connection open) for nginx-diff
  nginx-diff  compares those records with tests/e2e/nginx_differences.md
  not-http    HTTP/2 preface, a TLS ClientHello, random binary blobs
  inject      header injection attempts through the request path
  large       Content-Length bodies at and above the 1 MiB limit

usage: conformance.py CHECK [options]; conformance.py CHECK --help
"""

import argparse
import base64
import concurrent.futures
import email.utils
import json
import random
import re
import ssl
import struct
import sys
import threading
import time

from xrclient import TIMEOUT, Conn, Fail, short

DEFAULT_TARGET = "https://k8s.gcr.io"
# An incomplete head: how long to wait for (no) response.
INCOMPLETE_WAIT = 0.5
# nginx-diff observations: a connection without data or EOF for this long
# after the last byte is "open".
QUIET = 0.5

DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d\d:\d\d:\d\d GMT$")
REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 405: "Method Not Allowed", 413: "Content Too Large",
    414: "URI Too Long", 417: "Expectation Failed",
    431: "Request Header Fields Too Large", 501: "Not Implemented",
    505: "HTTP Version Not Supported",
}
# Bytes percent-encoded in Location besides those >= 0x80 (user/core/http_response.c).
ENCODE = set(b'"<>\\^`{|}#')
PROBE = b"GET /probe HTTP/1.1\r\nHost: x\r\n\r\n"

HTTP_OK, HTTP_INCOMPLETE = 0, 1


class Checks:
    """Counts assertions; the first failed one raises Fail."""

    def __init__(self):
        self.n = 0

    def __call__(self, cond, msg):
        self.n += 1
        if not cond:
            raise Fail(msg)


def html_escape(s):
    return s.replace(b"&", b"&amp;").replace(b"'", b"&#39;")


def redirect_body(location):
    return b'<a href="' + html_escape(location) + b'">Found</a>.\n'


def encode_path(path):
    """The path as xredird writes it in Location."""
    out = bytearray()
    for c in path:
        if c >= 0x80 or c in ENCODE:
            out += b"%%%02X" % c
        else:
            out.append(c)
    return bytes(out)


# ---- what a response must look like ----


def check_date(ck, resp):
    d = resp.get("date")
    ck(d is not None, "Date appears %d times" % len(resp.all("date")))
    d = d.decode("latin-1")
    ck(DATE_RE.match(d), "bad Date %r" % d)
    t = email.utils.parsedate_to_datetime(d).timestamp()
    ck(abs(t - time.time()) <= 5, "Date %r is %.0fs off the clock"
       % (d, t - time.time()))


def check_redirect(ck, resp, location, keep_alive, head, status=302,
                   target=DEFAULT_TARGET):
    want_loc = target.encode() + location
    ck(resp.status_line == "HTTP/1.1 %d %s" % (status, REASONS[status]),
       "status line %r, want %d" % (resp.status_line, status))
    ck(resp.names() == ["connection", "content-length", "content-type",
                        "date", "location"],
       "header fields %s" % resp.names())
    loc = resp.get("location")
    ck(loc == want_loc, "Location %s, want %s" % (short(loc, 300),
                                                  short(want_loc, 300)))
    ck(all(0x21 <= c < 0x7f for c in loc),
       "Location has CTL, space or non-ASCII bytes: %s" % short(loc, 300))
    ck(resp.get("content-type") == b"text/html; charset=utf-8",
       "Content-Type %r" % resp.get("content-type"))
    body = redirect_body(want_loc)
    ck(resp.get("content-length") == str(len(body)).encode(),
       "Content-Length %r, want %d%s" % (resp.get("content-length"),
                                         len(body), " (HEAD)" if head else ""))
    if not head:
        ck(resp.body == body, "body %s, want %s" % (short(resp.body, 300),
                                                    short(body, 300)))
    conn = b"keep-alive" if keep_alive else b"close"
    ck(resp.get("connection") == conn,
       "Connection %r, want %r" % (resp.get("connection"), conn))
    check_date(ck, resp)


def check_error(ck, resp, status, allow=None):
    reason = REASONS[status]
    ck(resp.status_line == "HTTP/1.1 %d %s" % (status, reason),
       "status line %r, want %d %s" % (resp.status_line, status, reason))
    names = ["connection", "content-length", "content-type", "date"]
    if allow is not None:
        names = sorted(names + ["allow"])
    ck(resp.names() == names, "header fields %s, want %s"
       % (resp.names(), names))
    if allow is not None:
        ck(resp.get("allow") == allow, "Allow %r, want %r"
           % (resp.get("allow"), allow))
    ck(resp.get("content-type") == b"text/plain; charset=utf-8",
       "Content-Type %r" % resp.get("content-type"))
    body = reason.encode() + b"\n"
    ck(resp.body == body, "body %s, want %s" % (short(resp.body), body))
    ck(len(resp.body) <= 64, "error body of %d bytes" % len(resp.body))
    ck(resp.get("content-length") == str(len(body)).encode(),
       "Content-Length %r" % resp.get("content-length"))
    ck(resp.get("connection") == b"close",
       "Connection %r on an error" % resp.get("connection"))
    check_date(ck, resp)


def check_v2_ping(ck, resp, keep_alive):
    ck(resp.status_line == "HTTP/1.1 200 OK",
       "status line %r, want 200 OK" % resp.status_line)
    ck(resp.names() == ["connection", "content-length", "content-type",
                        "date", "docker-distribution-api-version"],
       "header fields %s" % resp.names())
    ck(resp.get("docker-distribution-api-version") == b"registry/2.0",
       "Docker-Distribution-Api-Version %r"
       % resp.get("docker-distribution-api-version"))
    ck(resp.get("content-type") == b"application/json",
       "Content-Type %r" % resp.get("content-type"))
    ck(resp.get("content-length") == b"2",
       "Content-Length %r (the body is {}, as a registry's)"
       % resp.get("content-length"))
    conn = b"keep-alive" if keep_alive else b"close"
    ck(resp.get("connection") == conn,
       "Connection %r, want %r" % (resp.get("connection"), conn))
    check_date(ck, resp)


def check_closes(ck, c, what="the response"):
    """After the last expected response: EOF (a FIN, not a reset) and
    nothing else."""
    ck(c.read_to_eof(), "no EOF within %.0fs after %s" % (TIMEOUT, what))
    ck(not c.reset, "connection reset after %s" % what)
    ck(not c.buf, "%d more bytes after %s (a second response?): %s"
       % (len(c.buf), what, short(c.buf)))


# ---- the corpus ----


class Entry:
    def __init__(self, d):
        self.name = d["name"]
        self.raw = base64.b64decode(d["raw_b64"])
        self.tail = d["tail"]
        self.limits = d["limits"]
        self.expect = d["expect"]
        self.flags = set(d["flag_names"])
        self.path = base64.b64decode(d["path_b64"])
        self.location = base64.b64decode(d["location_b64"])
        self.content_length = d["content_length"]
        self.keeps_open = d["keeps_open"]
        assert len(self.raw) == d["len"]

    def method(self):
        m = re.match(rb"^(?:\r\n)*([^ ]*) ", self.raw)
        return m.group(1) if m else b""

    def plan(self):
        """What the stream after the head holds: (pipelined requests as
        (method, target, keep_alive), body bytes still to send)."""
        tail = self.raw[len(self.raw) - self.tail:] if self.tail else b""
        if self.expect != HTTP_OK or "chunked" in self.flags:
            return [], 0
        nbody = min(len(tail), self.content_length)
        rest = tail[nbody:]
        reqs = []
        while rest:
            i = rest.find(b"\r\n\r\n")
            assert i > 0, "%s: unparsable pipelined tail" % self.name
            head, rest = rest[:i], rest[i + 4:]
            line = head.split(b"\r\n")[0].split(b" ")
            low = head.lower()
            keep = line[2] == b"HTTP/1.1" and b"connection: close" not in low
            reqs.append((line[0], line[1], keep))
        if "close" in self.flags:
            reqs = []  # dropped after the closing response
        return reqs, self.content_length - nbody


def load_corpus(path):
    with open(path) as f:
        d = json.load(f)
    ents = [Entry(x) for x in d["entries"]]
    if len(ents) != d["count"]:
        raise Fail("corpus export: %d entries, count %d"
                   % (len(ents), d["count"]))
    return ents


def check_entry(a, e):
    """The end-to-end checks of one entry against xredird; returns the
    number of checks passed, raises Fail."""
    ck = Checks()
    c = Conn(a.host, a.port, a.src)
    try:
        c.send(e.raw)
        if e.expect == HTTP_INCOMPLETE:
            ck(c.quiet(INCOMPLETE_WAIT),
               "incomplete head answered: %s%s"
               % (short(c.buf), " then EOF" if c.eof else ""))
            ck(not c.eof, "connection closed on an incomplete head")
            return ck.n
        head = e.method() == b"HEAD"
        if e.expect != HTTP_OK:
            resp = c.read_response(False)
            allow = b"GET, HEAD" if e.expect == 405 else None
            check_error(ck, resp, e.expect, allow)
            check_closes(ck, c)
            return ck.n
        resp = c.read_response(head)
        if "v2_ping" in e.flags:
            check_v2_ping(ck, resp, e.keeps_open)
        else:
            check_redirect(ck, resp, e.location, e.keeps_open, head)
        reqs, body_left = e.plan()
        for m, target, keep in reqs:
            resp = c.read_response(m == b"HEAD")
            check_redirect(ck, resp, encode_path(target), keep,
                           m == b"HEAD")
        if not e.keeps_open:
            check_closes(ck, c, "%d response(s)" % (1 + len(reqs)))
            return ck.n
        ck(not c.buf, "%d unexpected bytes after %d response(s): %s"
           % (len(c.buf), 1 + len(reqs), short(c.buf)))
        # Still open: the rest of a declared body, then a second request
        # on the same connection is answered.
        c.send(b"x" * body_left + PROBE)
        resp = c.read_response(False)
        check_redirect(ck, resp, b"/probe", True, False)
        ck(c.quiet(0.05) and not c.buf,
           "more after the probe's response: %s%s"
           % (short(c.buf), " EOF" if c.eof else ""))
        return ck.n
    except OSError as err:
        raise Fail("socket error: %s" % err)
    finally:
        c.close()


def parse_responses(data, heads):
    """Lenient split of what a server sent into responses: status codes,
    and whether bytes were left that are not a response."""
    codes = []
    while data:
        m = re.match(rb"^HTTP/\d\.\d (\d\d\d)[^\r\n]*\r\n", data)
        i = data.find(b"\r\n\r\n")
        if not m or i < 0:
            return codes, True
        code = int(m.group(1))
        head, data = data[:i + 4], data[i + 4:]
        cl = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
        is_head = heads[len(codes)] if len(codes) < len(heads) else False
        codes.append(code)
        if cl and not is_head and code >= 200 and code not in (204, 304):
            data = data[int(cl.group(1)):]
    return codes, False


def observe(host, port, src, e):
    """How a server answers an entry, the same way for both servers: the
    status classes, in order ("none": no answer), and whether the
    connection is still open QUIET seconds after the last byte (neither EOF
    nor a reset): "3xx, open", "4xx, closed", "1xx+3xx, open", ..."""
    heads = [e.method() == b"HEAD"] + [m == b"HEAD" for m, _, _ in
                                       e.plan()[0]]
    c = Conn(host, port, src)
    note = ""
    try:
        try:
            c.send(e.raw)
        except OSError as err:
            note = "send: %s" % err.strerror
        deadline = time.monotonic() + 3 * TIMEOUT
        # A first answer gets twice as long (a loaded machine), then QUIET
        # after each byte.
        last = time.monotonic() + QUIET
        while not c.eof and time.monotonic() < deadline:
            if c.fill(min(deadline, last + QUIET) - time.monotonic()):
                last = time.monotonic()
            elif time.monotonic() >= last + QUIET:
                break
        codes, junk = parse_responses(bytes(c.buf), heads)
    finally:
        c.close()
    # Bytes that are not an HTTP/1.x response (an HTTP/0.9 answer: a bare
    # body) are a class of their own.
    classes = [("%dxx" % (x // 100)) for x in codes] + \
        (["unframed"] if junk else [])
    classes = "+".join(classes) or "none"
    state = "closed" if c.eof else "open"
    return {"answer": "%s, %s" % (classes, state), "codes": codes,
            "junk": junk, "reset": c.reset, "note": note,
            "first_line": bytes(c.buf[:80]).split(b"\r\n")[0].decode(
                "latin-1")}


def run_parallel(jobs, items, fn):
    """fn(item) for every item on `jobs` threads; returns [(item, result or
    Exception)] in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(fn, it) for it in items]
        out = []
        for it, f in zip(items, futs):
            try:
                out.append((it, f.result()))
            except Exception as err:  # noqa: BLE001 - reported per item
                out.append((it, err))
        return out


def cmd_corpus(a):
    ents = [e for e in load_corpus(a.corpus) if e.limits == a.limits]
    if not ents:
        raise Fail("no corpus entry with limits %s" % a.limits)
    t0 = time.monotonic()

    def one(e):
        rec = {"name": e.name, "limits": e.limits}
        try:
            rec["checks"] = check_entry(a, e)
        except Fail as err:
            rec["fail"] = str(err)
        except Exception as err:  # noqa: BLE001
            rec["fail"] = "%s: %s" % (type(err).__name__, err)
        for server, port in (("xredird", a.port), ("nginx", a.nginx_port)):
            if not a.nginx_port:
                break
            try:
                rec[server] = observe(a.host, port, a.src, e)
            except Exception as err:  # noqa: BLE001 - a difference then
                rec[server] = {"answer": "error: %s" % err}
        return rec

    recs = [r for _, r in run_parallel(a.jobs, ents, one)]
    bad = [r for r in recs if "fail" in r]
    for r in bad:
        print("FAIL %s: %s" % (r["name"], r["fail"]), file=sys.stderr)
    if a.record:
        with open(a.record, "w") as f:
            json.dump({"limits": a.limits, "entries": recs}, f, indent=1)
    checks = sum(r.get("checks", 0) for r in recs)
    dt = time.monotonic() - t0
    if bad:
        raise Fail("%d of %d entries failed (%s%s)" % (
            len(bad), len(ents), ", ".join(r["name"] for r in bad[:5]),
            ", ..." if len(bad) > 5 else ""))
    kinds = {}
    for e in ents:
        k = {HTTP_OK: "ok", HTTP_INCOMPLETE: "incomplete"}.get(e.expect,
                                                              "error")
        kinds[k] = kinds.get(k, 0) + 1
    print("%d entries (%s), %d checks, %.1fs" % (
        len(ents), ", ".join("%d %s" % (v, k) for k, v in
                             sorted(kinds.items())), checks, dt))


# ---- nginx differences ----

ROW_RE = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|(.*)\|\s*$")


def read_table(path):
    rows = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = ROW_RE.match(line.rstrip("\n"))
            if not m:
                continue
            name = m.group(1)
            if name in rows:
                raise Fail("%s:%d: %s listed twice" % (path, n, name))
            reason = m.group(4).strip()
            if not reason:
                raise Fail("%s:%d: %s has no reason" % (path, n, name))
            rows[name] = (m.group(2).strip(), m.group(3).strip(), n)
    return rows


def cmd_nginx_diff(a):
    recs = {}
    for path in a.record:
        with open(path) as f:
            for r in json.load(f)["entries"]:
                if "xredird" not in r or "nginx" not in r:
                    raise Fail("%s: %s has no observation" % (path, r["name"]))
                recs[r["name"]] = r
    names = [e.name for e in load_corpus(a.corpus)]
    missing = [n for n in names if n not in recs]
    if missing:
        raise Fail("no observation of %d entries (%s...)"
                   % (len(missing), ", ".join(missing[:3])))
    rows = read_table(a.table)
    problems = []
    diffs = []
    for n in names:
        x, g = recs[n]["xredird"]["answer"], recs[n]["nginx"]["answer"]
        if x != g:
            diffs.append(n)
            if n not in rows:
                problems.append("| `%s` | %s | %s | (not in the table) |"
                                % (n, x, g))
            elif rows[n][:2] != (x, g):
                problems.append(
                    "%s: table line %d says xredird '%s', nginx '%s'; "
                    "observed xredird '%s', nginx '%s'"
                    % (n, rows[n][2], rows[n][0], rows[n][1], x, g))
    for n, (x, g, line) in rows.items():
        if n not in recs:
            problems.append("%s: table line %d names no corpus entry"
                            % (n, line))
        elif recs[n]["xredird"]["answer"] == recs[n]["nginx"]["answer"]:
            problems.append("%s: table line %d lists a difference that no "
                            "longer occurs (both '%s')"
                            % (n, line, recs[n]["xredird"]["answer"]))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        raise Fail("%d problem(s) with %s (first: %s)"
                   % (len(problems), a.table.split("/")[-1], problems[0]))
    print("%d entries compared, %d deliberate differences from nginx, "
          "all listed" % (len(names), len(diffs)))


# ---- not HTTP/1.x ----


def h2_preface():
    """What an HTTP/2 client with prior knowledge sends first: the preface,
    SETTINGS and a WINDOW_UPDATE."""
    settings = struct.pack(">HI", 3, 100) + struct.pack(">HI", 4, 65535)
    frame = struct.pack(">I", len(settings))[1:] + b"\x04\x00" + \
        struct.pack(">I", 0) + settings
    wu = b"\x00\x00\x04\x08\x00\x00\x00\x00\x00" + struct.pack(">I", 1 << 20)
    return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame + wu


def tls_client_hello():
    """A real ClientHello, made by the ssl module's OpenSSL (SNI, ALPN h2 and
    http/1.1, TLS 1.2 and 1.3 key shares)."""
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="k8s.gcr.io")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    if len(hello) < 100 or hello[0] != 0x16 or hello[5] != 0x01:
        raise Fail("could not make a ClientHello (%s)" % short(hello))
    return hello


def blobs(n, seed):
    rnd = random.Random(seed)
    return [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(64, 4096)))
            for _ in range(n)]


def check_refused(a, data, ck, want=None):
    """data gets exactly one response, then a close: status want, or any
    4xx or 5xx (noise may look like a too-long or unknown method)."""
    c = Conn(a.host, a.port, a.src)
    try:
        c.send(data)
        resp = c.read_response(False)
        if want:
            ck(resp.status == want, "status %d, want %d" % (resp.status, want))
        else:
            ck(400 <= resp.status < 600, "status %d" % resp.status)
        check_error(ck, resp, resp.status)
        check_closes(ck, c)
        return resp.status
    except OSError as err:
        raise Fail("socket error: %s" % err)
    finally:
        c.close()


def cmd_not_http(a):
    # Issue 5: the HTTP/2 preface gets 505, a TLS ClientHello 400.
    cases = [("http2-preface", h2_preface(), 505),
             ("tls-client-hello", tls_client_hello(), 400)]
    cases += [("blob-%02d" % i, b, None) for i, b in
              enumerate(blobs(a.blobs, a.seed))]
    ck = Checks()
    lock = threading.Lock()

    def one(case):
        local = Checks()
        st = check_refused(a, case[1], local, case[2])
        with lock:
            ck.n += local.n
        return st

    res = run_parallel(a.jobs, cases, one)
    bad = [(c, r) for c, r in res if isinstance(r, Exception)]
    for (name, data, _), r in bad:
        print("FAIL %s (%d bytes, %s): %s" % (name, len(data), short(data, 40),
                                               r), file=sys.stderr)
    if bad:
        raise Fail("%d of %d failed (%s: %s)" % (len(bad), len(cases),
                                                 bad[0][0][0], bad[0][1]))
    st = dict((c[0], r) for c, r in res)
    print("h2 preface %d, TLS ClientHello %d, %d blobs (seed %d) %s, "
          "each one response then close; %d checks" % (
              st["http2-preface"], st["tls-client-hello"], a.blobs, a.seed,
              "/".join(str(s) for s in sorted(set(
                  r for c, r in res if c[0].startswith("blob")))), ck.n))


# ---- header injection through the path ----


def injection_cases():
    cases = []
    # Every byte value inside a path. Raw CTLs, space and DEL are refused;
    # everything else is redirected, percent-encoded where needed.
    for b in range(256):
        path = b"/x" + bytes([b]) + b"y"
        bad = b <= 0x20 or b == 0x7f
        cases.append(("byte-%02x" % b, path, 400 if bad else 302))
    # Encoded CR, LF, NUL and friends stay as sent (never decoded).
    for p in (b"/a%0d%0aSet-Cookie:%20x=1", b"/a%0D%0ALocation:%20http://e",
              b"/%00", b"/a%00b?c=%00", b"/%0a%0d%0a%0d<html>",
              b"/%e2%80%a8%E2%80%A9", b"/%25%30%64", b"/?q=%0d%0aX:y",
              b"/%7f%1b[31m"):
        cases.append(("encoded-%s" % p.decode(), p, 302))
    # Raw bytes HTML and Location care about.
    for p in (b'/"><script>alert(1)</script>', b"/a'b&c\"d<e>f",
              b"/\xc3\xa9\xe2\x80\xa8\xf0\x9f\x92\xa9",
              b"/q?" + bytes(range(0x80, 0x100)),
              b"/\\\\evil.example/%2e%2e", b"/x#frag\"<>",
              b"/{}|^`"):
        cases.append(("raw-%s" % p[:24].decode("latin-1"), p, 302))
    # Absolute-form: only the path is kept.
    cases.append(("absolute-form", b"http://h.test/%0d%0aX:%20y\"<\x80", 302))
    # Raw CR/LF/NUL in the path are refused, never copied.
    for p in (b"/a\r\nSet-Cookie: x", b"/a\rb", b"/a\nb", b"/a\x00b",
              b"/a\x0bb", b"/a\x1bb"):
        cases.append(("raw-ctl-%s" % short(p, 20), p, 400))
    return cases


def cmd_inject(a):
    cases = injection_cases()
    ck = Checks()
    lock = threading.Lock()

    def one(case):
        name, target, status = case
        local = Checks()
        req = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" \
            b"Connection: close\r\n\r\n"
        c = Conn(a.host, a.port, a.src)
        try:
            c.send(req)
            resp = c.read_response(False)
            if status == 400:
                check_error(local, resp, 400)
            else:
                path = target
                m = re.match(rb"^https?://[^/?]*", target, re.I)
                if m:
                    path = target[m.end():] or b"/"
                loc = encode_path(path)
                check_redirect(local, resp, loc, False, False)
                got = resp.get("location")
                local(not any(c < 0x21 or c >= 0x7f for c in got),
                      "Location bytes outside 0x21-0x7e: %s" % short(got))
                # Every %xx of the request is in Location as sent.
                for pct in re.findall(rb"%[0-9A-Fa-f]{2}", path):
                    local(pct in got, "%r not kept in %s" % (pct, short(got)))
                href = resp.body[len(b'<a href="'):resp.body.index(b'">')]
                local(not any(x in href for x in b'"<>'),
                      "raw quote or angle bracket in the HTML body's href")
            check_closes(local, c)
        except OSError as err:
            raise Fail("socket error: %s" % err)
        finally:
            c.close()
        with lock:
            ck.n += local.n

    res = run_parallel(a.jobs, cases, one)
    bad = [(c, r) for c, r in res if r is not None]
    for case, r in bad:
        print("FAIL %s %s: %s" % (case[0], short(case[1], 60), r),
              file=sys.stderr)
    if bad:
        raise Fail("%d of %d failed (%s: %s)" % (len(bad), len(cases),
                                                 bad[0][0][0], bad[0][1]))
    n400 = sum(1 for c in cases if c[2] == 400)
    print("%d paths (%d refused with 400, %d redirected: CR/LF/CTL never in "
          "Location, >= 0x80 and \"<>\\^`{|}# encoded, %%xx kept); "
          "%d checks" % (len(cases), n400, len(cases) - n400, ck.n))


# ---- large bodies ----


def cmd_large(a):
    ck = Checks()
    limit = 1 << 20
    t0 = time.monotonic()
    # Exactly the limit: the body (requests, which must not be answered)
    # is discarded and the pipelined request after it is served.
    smuggle = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    body = (smuggle * (limit // len(smuggle) + 1))[:limit]
    head = b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" \
        % limit
    after = b"GET /after?1 HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"HEAD /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    c = Conn(a.host, a.port, a.src, timeout=20)
    try:
        c.send(head + body + after)
        check_redirect(ck, c.read_response(False), b"/big", True, False)
        check_redirect(ck, c.read_response(False), b"/after?1", True, False)
        ck(c.quiet(0.3) and not c.buf,
           "more after the pipelined request's response (a body request "
           "answered?): %s" % short(c.buf))
        c.send(last)
        check_redirect(ck, c.read_response(True), b"/last", False, True)
        check_closes(ck, c)
    except OSError as err:
        raise Fail("1 MiB body: socket error: %s" % err)
    finally:
        c.close()
    dt1 = time.monotonic() - t0
    # One byte more: 413 and close, whatever part of the body was sent.
    for sent in (0, 4096):
        c = Conn(a.host, a.port, a.src)
        try:
            c.send(head.replace(b"%d" % limit, b"%d" % (limit + 1)) +
                   body[:sent])
            check_error(ck, c.read_response(False), 413)
            check_closes(ck, c, "the 413")
        except OSError as err:
            raise Fail("1 MiB + 1: socket error: %s" % err)
        finally:
            c.close()
    print("1 MiB body discarded (%.2fs), pipelined request served, body's "
          "requests not answered; 1 MiB + 1: 413 and close; %d checks"
          % (dt1, ck.n))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="check", required=True)

    def server(p):
        p.add_argument("--host", default="10.77.0.1")
        p.add_argument("--port", type=int, default=10000)
        p.add_argument("--src", default="10.77.0.2")
        p.add_argument("--jobs", type=int, default=32)

    p = sub.add_parser("corpus")
    server(p)
    p.add_argument("--corpus", required=True, help="export_corpus's JSON")
    p.add_argument("--limits", default="default",
                   choices=("default", "get_head", "v2_ping"),
                   help="the entries for xredird's configuration")
    p.add_argument("--nginx-port", type=int, default=0,
                   help="also observe nginx on this port for nginx-diff")
    p.add_argument("--record", help="write the observations here (JSON)")
    p = sub.add_parser("nginx-diff")
    p.add_argument("--corpus", required=True)
    p.add_argument("--record", action="append", required=True)
    p.add_argument("--table", required=True)
    p = sub.add_parser("not-http")
    server(p)
    p.add_argument("--blobs", type=int, default=20)
    p.add_argument("--seed", type=int, default=20240601)
    p = sub.add_parser("inject")
    server(p)
    p = sub.add_parser("large")
    server(p)
    a = ap.parse_args()
    fn = {"corpus": cmd_corpus, "nginx-diff": cmd_nginx_diff,
          "not-http": cmd_not_http, "inject": cmd_inject,
          "large": cmd_large}[a.check]
    try:
        fn(a)
    except Fail as err:
        print(str(err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
