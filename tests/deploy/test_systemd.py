#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""deploy/systemd/xredird.service: systemd-analyze verify accepts it with
no warning, ExecReload sends SIGHUP to the daemon, its capabilities are the
DaemonSet's, and the stop timeout covers the drain (--grace). The ExecStart
flags are checked against the binary in test_security.py.

Run: python3 tests/deploy/test_systemd.py (stdlib + PyYAML; needs
systemd-analyze, which run.sh installs when missing).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

INSTALLED_AT = "/usr/local/sbin/xredird"  # where make install puts it (it rewrites the path to its PREFIX)


def verify(unit_text):
    """systemd-analyze verify on unit_text saved as xredird.service, with
    the installed path of xredird pointed at the built binary (verify
    checks that ExecStart is executable). Returns its output (stderr and
    stdout); verify prints nothing for a clean unit, and only prints (exit
    0) for unknown keys and bad values, so any output counts."""
    exe = shutil.which("systemd-analyze")
    if not exe:
        raise AssertionError("systemd-analyze is not installed (apt-get install systemd)")
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "xredird.service")
        with open(p, "w") as f:
            f.write(unit_text.replace(INSTALLED_AT, os.path.abspath(dl.XREDIRD)))
        r = subprocess.run([exe, "verify", p], capture_output=True, text=True, timeout=60)
        out = (r.stdout + r.stderr).replace(d + "/", "")
        if r.returncode != 0 and not out.strip():
            out = "exit %d" % r.returncode
        return out.strip()


MAX_EXPOSURE = 3.0  # systemd-analyze security: "OK" and below


def exposure(unit_text):
    """The overall exposure systemd-analyze security --offline=yes gives
    unit_text (saved as xredird.service), and its full output."""
    exe = shutil.which("systemd-analyze")
    if not exe:
        raise AssertionError("systemd-analyze is not installed (apt-get install systemd)")
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "xredird.service")
        with open(p, "w") as f:
            f.write(unit_text)
        r = subprocess.run([exe, "security", "--offline=yes", "--no-pager", p],
                           capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    m = re.search(r"Overall exposure level for xredird\.service: (\d+\.\d+)", out)
    if not m:
        raise AssertionError("no overall exposure in:\n" + out[-2000:])
    return float(m.group(1)), out


class Unit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(dl.UNIT) as f:
            cls.text = f.read()
        cls.unit = dl.parse_unit(cls.text)
        cls.env = dl.unit_environment(cls.unit)

    def one(self, key, section="Service"):
        vals = dl.unit_values(self.unit, section, key)
        self.assertEqual(len(vals), 1, "%s= appears %d times in [%s]" % (key, len(vals), section))
        return vals[0]

    def test_verify(self):
        """systemd-analyze verify: no error, no warning"""
        self.assertIn("[Service]", self.text)
        self.assertIn(INSTALLED_AT, self.text, "the unit does not run %s" % INSTALLED_AT)
        out = verify(self.text)
        self.assertEqual(out, "", "systemd-analyze verify:\n" + out)

    def test_verify_catches_mistakes(self):
        """systemd-analyze verify reports a misspelt key and a bad value (negative)"""
        bad_key = self.text.replace("NoNewPrivileges=", "NoNewPrivilges=", 1)
        bad_value = self.text.replace("Restart=on-failure", "Restart=sometimes", 1)
        self.assertNotEqual(bad_key, self.text)
        self.assertNotEqual(bad_value, self.text)
        self.assertIn("NoNewPrivilges", verify(bad_key))
        self.assertIn("sometimes", verify(bad_value))

    def test_security_exposure(self):
        """systemd-analyze security --offline=yes: overall exposure <= 3.0"""
        score, out = exposure(self.text)
        self.assertLessEqual(score, MAX_EXPOSURE, out)

    def test_security_exposure_catches_loosening(self):
        """the exposure rises over 3.0 without the syscall filter and namespace limits (negative)"""
        loose = "\n".join(ln for ln in self.text.split("\n")
                          if not ln.startswith(("SystemCallFilter=", "RestrictNamespaces=")))
        self.assertNotEqual(loose, self.text)
        self.assertGreater(exposure(loose)[0], MAX_EXPOSURE)

    def test_security_keeps_what_xredird_needs(self):
        """AF_XDP, netlink, unix and inet sockets, bpf() and /sys/fs/bpf stay allowed"""
        families = " ".join(dl.unit_values(self.unit, "Service", "RestrictAddressFamilies")).split()
        self.assertFalse(any(f.startswith("~") for f in families), families)
        for fam in ("AF_XDP", "AF_NETLINK", "AF_UNIX", "AF_INET", "AF_INET6"):
            self.assertIn(fam, families)
        allowed = [v for v in dl.unit_values(self.unit, "Service", "SystemCallFilter")
                   if not v.startswith("~")]
        self.assertIn("bpf", " ".join(allowed).split())
        self.assertIn("/sys/fs/bpf", self.one("ReadWritePaths").split())
        self.assertEqual(self.one("LimitMEMLOCK"), "infinity")

    def test_type_notify(self):
        """Type=notify (xredird sends READY=1 once serving: tests/e2e lifecycle 11)"""
        self.assertEqual(self.one("Type"), "notify")
        self.assertEqual(self.one("NotifyAccess"), "main")

    def test_exec_reload_hup(self):
        """ExecReload sends SIGHUP to $MAINPID (the daemon reloads its config on HUP)"""
        argv = shlex.split(self.one("ExecReload").lstrip("@-:+!"))
        self.assertIn(os.path.basename(argv[0]), ("kill",), argv)
        self.assertTrue(os.path.isabs(argv[0]), argv)
        self.assertTrue(os.access(argv[0], os.X_OK), "%s is not executable here" % argv[0])
        sig = argv[1:-1]
        self.assertIn(sig, (["-HUP"], ["-SIGHUP"], ["-1"], ["-s", "HUP"], ["-s", "SIGHUP"]), argv)
        self.assertIn(argv[-1], ("$MAINPID", "${MAINPID}"))
        self.assertIn("SIGHUP", dl.help_options()["--config"]["text"],
                      "xredird --help no longer says --config reloads on SIGHUP")

    def test_capabilities_match_daemonset(self):
        """AmbientCapabilities = CapabilityBoundingSet = the DaemonSet's added capabilities"""
        ds = dl.the_daemonset()
        c = ds["spec"]["template"]["spec"]["containers"][0]
        want = {"CAP_" + x for x in c["securityContext"]["capabilities"]["add"]}
        ambient = set(" ".join(dl.unit_values(self.unit, "Service", "AmbientCapabilities")).split())
        bounding = set(" ".join(dl.unit_values(self.unit, "Service", "CapabilityBoundingSet")).split())
        self.assertEqual(ambient, want)
        self.assertEqual(bounding, want)

    def test_no_new_privileges(self):
        """NoNewPrivileges=yes (the DaemonSet's allowPrivilegeEscalation false)"""
        self.assertIn(self.one("NoNewPrivileges").lower(), ("yes", "true", "1", "on"))

    def test_stop_covers_grace(self):
        """KillSignal SIGTERM and TimeoutStopSec > --grace (the drain ends before SIGKILL)"""
        self.assertEqual(self.one("KillSignal"), "SIGTERM")
        argv = dl.unit_exec_argv(self.one("ExecStart"), self.env)
        grace = dl.option(dl.parse_argv(argv[1:]), "--grace")
        grace = int(grace) if grace is not None else dl.help_default("--grace")
        m = re.fullmatch(r"(\d+)s?", self.one("TimeoutStopSec"))
        self.assertTrue(m, "TimeoutStopSec=%s: use plain seconds" % self.one("TimeoutStopSec"))
        self.assertGreater(int(m.group(1)), grace)

    def test_exec_start_variables_defined(self):
        """every $VAR in ExecStart is set by an Environment= line"""
        used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", self.one("ExecStart")))
        self.assertFalse(used - set(self.env), "not set: %s" % (used - set(self.env)))

    def test_bpffs(self):
        """XREDIR_BPFFS (or --bpffs) is the path of ConditionPathIsMountPoint"""
        argv = dl.unit_exec_argv(self.one("ExecStart"), self.env)
        bpffs = dl.option(dl.parse_argv(argv[1:]), "--bpffs") or self.env.get("XREDIR_BPFFS")
        self.assertEqual(bpffs, "/sys/fs/bpf")
        self.assertEqual(self.one("ConditionPathIsMountPoint", "Unit"), bpffs)


if __name__ == "__main__":
    dl.main()
