#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""deploy/Dockerfile without a container engine: its build stage runs the
same scripts/build.sh as CI, its runtime stage is a slim image of the same
Debian release holding only xredird and xredirctl, scripts/build.sh DESTDIR
really installs both, and the runtime stage's apt packages provide every
shared library the binaries load (ldd + dpkg -S on this Debian 12 host).

Run: python3 tests/deploy/test_image.py (stdlib + PyYAML). Runs
scripts/build.sh (deps check + make all) once.
"""

import functools
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

BINARIES = ("xredird", "xredirctl")
# Packages every debian:12-slim has without installing anything: libc6
# (glibc and the dynamic loader; dpkg and apt need it). Any other library
# must come from the runtime stage's apt-get line.
IN_BASE_IMAGE = {"libc6"}


# OCI annotation keys the runtime stage's LABEL sets, and the build ARG
# that each one's value must come from (None: a literal).
OCI_LABELS = {
    "org.opencontainers.image.title": None,
    "org.opencontainers.image.description": None,
    "org.opencontainers.image.source": None,
    "org.opencontainers.image.licenses": None,
    "org.opencontainers.image.version": "VERSION",
    "org.opencontainers.image.revision": "REVISION",
    "org.opencontainers.image.created": "CREATED",
}
# What scripts/deps.sh installs for the tests, demo and benchmark only:
# none of it may be in its build group (the image's build stage).
TEST_ONLY = {"nginx-light", "prometheus", "skopeo", "docker-registry", "wrk",
             "tcpdump", "curl", "yamllint", "libpcap-dev", "iputils-ping"}
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_ref(ref):
    """'debian:12-slim@sha256:...' -> ('debian', '12-slim')."""
    name, _, tag = DIGEST.sub("", ref).partition(":")
    return name, tag or "latest"


def labels(stage):
    """{key: value} of a stage's LABEL instructions."""
    out = {}
    for ins, args in stage["ins"]:
        if ins == "LABEL":
            for word in shlex.split(args):
                k, _, v = word.partition("=")
                out[k] = v
    return out


def deps_group(name):
    """The packages of an array (BUILD, REST) in scripts/deps.sh, as bash
    reads them."""
    with open(dl.DEPS_SH) as f:
        src = f.read()
    m = re.search(r"^%s=\((.*?)^\)" % name, src, re.S | re.M)
    if not m:
        raise AssertionError("no %s=( ... ) array in %s" % (name, dl.DEPS_SH))
    r = subprocess.run(["bash", "-c", '%s=(%s)\nprintf "%%s\\n" "${%s[@]}"' % (name, m.group(1), name)],
                       check=True, capture_output=True, text=True)
    return r.stdout.split()


@functools.lru_cache(maxsize=None)
def stages():
    return dl.dockerfile_stages()


def runtime():
    return stages()[-1]


def runtime_copies():
    return [a for i, a in runtime()["ins"] if i == "COPY"]


def copy_parts(args):
    """COPY [--flags] SRC... DEST -> (flags dict, [SRC], DEST)."""
    words = shlex.split(args)
    flags = {}
    while words and words[0].startswith("--"):
        k, _, v = words.pop(0)[2:].partition("=")
        flags[k] = v
    if words and words[0].startswith("["):
        words = json.loads(" ".join(words))
    return flags, words[:-1], words[-1]


def build_stage():
    """The stage the runtime stage copies from."""
    copies = runtime_copies()
    froms = {copy_parts(a)[0].get("from") for a in copies}
    if len(froms) != 1 or None in froms:
        raise AssertionError("runtime COPY instructions do not all copy --from one stage: %s" % copies)
    name = froms.pop()
    named = [s for s in stages()[:-1] if s["name"] == name]
    if len(named) != 1:
        raise AssertionError("no build stage named %r" % name)
    return named[0]


def build_sh_destdir(stage):
    """The DESTDIR argument of the stage's RUN ./scripts/build.sh DESTDIR."""
    runs = [a for i, a in stage["ins"] if i == "RUN" and re.search(r"(^|[\s/])scripts/build\.sh\b", a)]
    if len(runs) != 1:
        raise AssertionError("the build stage has %d RUN scripts/build.sh lines" % len(runs))
    words = shlex.split(runs[0])
    i = next(k for k, w in enumerate(words) if w.endswith("scripts/build.sh"))
    if i + 1 >= len(words) or words[i + 1] in ("&&", ";", "|"):
        raise AssertionError("RUN scripts/build.sh has no DESTDIR argument: %s" % runs[0])
    return words[i + 1]


def apt_packages():
    """The packages of the runtime stage's apt-get install."""
    pkgs = []
    for ins, args in runtime()["ins"]:
        if ins != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", args):
            words = shlex.split(cmd)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                rest = words[words.index("install") + 1:]
                pkgs += [w for w in rest if not w.startswith("-")]
    return pkgs


def host_package_of(lib):
    """The Debian package that ships lib, via dpkg -S (trying the /usr
    and non-/usr spellings of the path and of its target: usrmerge)."""
    cands = []
    for p in (lib, os.path.realpath(lib)):
        cands += [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
    for c in cands:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            # "libbpf1:amd64: /usr/lib/..." -> "libbpf1"
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    raise AssertionError("no installed package ships %s" % lib)


def ldd(binary):
    """[(soname, path)] the dynamic loader resolves for binary."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        line = line.strip()
        if "not found" in line:
            raise AssertionError("%s: %s" % (binary, line))
        m = re.match(r"(\S+) => (/\S+) \(", line) or re.match(r"(/\S+) \(", line)
        if m:
            libs.append((m.group(1), m.group(m.lastindex)))
        elif not line.startswith("linux-vdso") and not line.startswith("statically"):
            raise AssertionError("unexpected ldd line for %s: %r" % (binary, line))
    return libs


class Image(unittest.TestCase):
    def test_ci_runs_build_sh(self):
        """.ci/run builds with scripts/build.sh"""
        with open(dl.path(".ci", "run")) as f:
            code = [ln.split("#", 1)[0] for ln in f]
        self.assertTrue(
            any(re.search(r"(^|[\s/])scripts/build\.sh\b", ln) for ln in code),
            ".ci/run does not run scripts/build.sh",
        )

    def test_build_stage_runs_build_sh(self):
        """Dockerfile build stage: COPY the source, RUN ./scripts/build.sh DESTDIR"""
        st = build_stage()
        self.assertIn(("COPY", ". ."), st["ins"], "the build stage does not copy the source tree")
        build_sh_destdir(st)

    def test_from_pinned_by_digest(self):
        """Dockerfile: every FROM is pinned by digest (name:tag@sha256:...)"""
        for st in stages():
            self.assertRegex(st["from"], r"^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$",
                             "FROM %s is not pinned by digest" % st["from"])

    def test_oci_labels(self):
        """Dockerfile runtime stage: OCI labels title, description, source, licenses, version, revision, created"""
        got = labels(runtime())
        self.assertEqual(set(got), set(OCI_LABELS), "OCI labels")
        declared = {a.partition("=")[0] for i, a in runtime()["ins"] if i == "ARG"}
        glob = dl.dockerfile_global_args()
        for key, arg in OCI_LABELS.items():
            if arg is None:
                self.assertTrue(got[key] and "$" not in got[key], "%s=%r" % (key, got[key]))
                continue
            self.assertIn(got[key], ("$" + arg, "${%s}" % arg), "%s is not from ARG %s" % (key, arg))
            self.assertIn(arg, declared, "ARG %s is not declared in the runtime stage" % arg)
            self.assertIn(arg, glob, "ARG %s has no global declaration" % arg)
        self.assertRegex(glob["VERSION"] or "", r"^[0-9]+\.[0-9]+\.[0-9]+$", "ARG VERSION default")

    def test_build_stage_build_deps_only(self):
        """build stage installs only deps.sh's build group (scripts/build.sh runs deps.sh build; no test tools in it)"""
        with open(dl.path("scripts", "build.sh")) as f:
            code = [ln.split("#", 1)[0].split() for ln in f]
        calls = [w for w in code if w and w[0].endswith("scripts/deps.sh")]
        self.assertEqual(calls, [["./scripts/deps.sh", "build"]], "scripts/build.sh's deps.sh calls")
        build = deps_group("BUILD")
        self.assertIn("clang", build)
        extra = set(build) & TEST_ONLY
        self.assertFalse(extra, "test-only packages in the build group: %s" % sorted(extra))
        self.assertTrue(set(deps_group("REST")) >= TEST_ONLY, "deps.sh (all) lost a test tool")
        for ins, args in build_stage()["ins"]:
            self.assertNotRegex(args, r"deps\.sh(?! build)", "the build stage runs deps.sh itself")

    def test_runtime_base_slim(self):
        """Dockerfile runtime stage: FROM a -slim image of the build stage's release"""
        rt, bs = image_ref(runtime()["from"]), image_ref(build_stage()["from"])
        self.assertTrue(rt[1].endswith("-slim"), "runtime base %s is not slim" % runtime()["from"])
        self.assertEqual(rt[0], bs[0], "runtime and build distribution differ")
        self.assertEqual(rt[1][: -len("-slim")], bs[1].replace("-slim", ""),
                         "runtime and build release differ (ABI of the libraries)")

    def test_runtime_copies_only_binaries(self):
        """Dockerfile runtime stage copies exactly xredird and xredirctl from DESTDIR"""
        ins = [i for i, _ in runtime()["ins"]]
        self.assertNotIn("ADD", ins)
        copies = runtime_copies()
        self.assertEqual(len(copies), 1, "runtime COPY lines: %s" % copies)
        flags, srcs, dest = copy_parts(copies[0])
        destdir = build_sh_destdir(build_stage()).rstrip("/")
        self.assertEqual(sorted(srcs), sorted("%s/usr/local/sbin/%s" % (destdir, b) for b in BINARIES))
        self.assertEqual(dest.rstrip("/"), "/usr/local/bin")
        entry = dl.exec_form(dict(runtime()["ins"])["ENTRYPOINT"])
        self.assertEqual(entry[0], "/usr/local/bin/xredird")

    def test_runtime_apt_packages(self):
        """runtime apt-get packages are real Debian 12 runtime packages (installed here, no -dev)"""
        pkgs = apt_packages()
        self.assertTrue(pkgs, "the runtime stage installs no package")
        self.assertIn("--no-install-recommends", " ".join(a for i, a in runtime()["ins"] if i == "RUN"))
        for p in pkgs:
            self.assertFalse(p.endswith("-dev"), "%s in the runtime stage" % p)
            r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", p], capture_output=True, text=True)
            self.assertIn("ok installed", r.stdout, "%s is not a package installed on this Debian 12 host" % p)

    def test_runtime_provides_libraries(self):
        """every library ldd finds for both binaries is from a runtime apt package or libc6"""
        with open("/etc/os-release") as f:
            osr = dict(ln.rstrip("\n").split("=", 1) for ln in f if "=" in ln)
        self.assertEqual((osr.get("ID"), osr.get("VERSION_ID", "").strip('"')), ("debian", "12"),
                         "this host is not Debian 12: its dpkg -S cannot speak for debian:12-slim")
        allowed = set(apt_packages()) | IN_BASE_IMAGE
        missing = {}
        for b in BINARIES:
            for soname, lib in ldd(dl.path("build", b)):
                pkg = host_package_of(lib)
                if pkg not in allowed:
                    missing.setdefault(pkg, set()).add("%s (%s)" % (soname, b))
        self.assertFalse(missing, "packages missing from the runtime apt-get line: %s" % missing)

    def test_build_sh_destdir(self):
        """scripts/build.sh DESTDIR runs make install: the programs (executable, --help works), man pages, completion, unit, config"""
        with tempfile.TemporaryDirectory() as dest:
            r = subprocess.run([dl.path("scripts", "build.sh"), dest], capture_output=True, text=True, timeout=900)
            self.assertEqual(r.returncode, 0, "build.sh failed:\n%s%s" % (r.stdout[-2000:], r.stderr[-2000:]))
            found = sorted(os.path.relpath(os.path.join(d, f), dest)
                           for d, _, fs in os.walk(dest) for f in fs)
            self.assertEqual(found, sorted(["usr/local/sbin/xredird", "usr/local/sbin/xredirctl",
                                            "usr/local/share/man/man8/xredird.8",
                                            "usr/local/share/man/man8/xredirctl.8",
                                            "usr/local/share/bash-completion/completions/xredird",
                                            "usr/local/share/bash-completion/completions/xredirctl",
                                            "usr/local/lib/systemd/system/xredird.service",
                                            "etc/xredir/xredir.conf"]))
            for b in BINARIES:
                p = os.path.join(dest, "usr", "local", "sbin", b)
                mode = stat.S_IMODE(os.stat(p).st_mode)
                self.assertEqual(mode, 0o755, "%s mode %o" % (b, mode))
                h = subprocess.run([p, "--help"], capture_output=True, text=True, timeout=30)
                self.assertEqual(h.returncode, 0, "%s --help: %s" % (b, h.stderr))
                self.assertTrue(h.stdout.startswith("usage: %s" % b), h.stdout[:200])


if __name__ == "__main__":
    dl.main()
