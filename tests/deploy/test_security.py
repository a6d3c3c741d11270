#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The security-relevant fields of the rendered DaemonSet
(`kubectl kustomize deploy/kubernetes`), pinned so they cannot drift
silently, and the xredird flags that the DaemonSet, the Dockerfile and the
systemd unit pass, checked against the real binary (build/xredird).

Run: python3 tests/deploy/test_security.py (from anywhere; stdlib + PyYAML).
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

CAPS = {"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "IPC_LOCK"}
BPFFS = "/sys/fs/bpf"
RUN_DIR = "/run/xredir"
CONFIG_DIR = "/etc/xredir"
CONFIG_FILE = "/etc/xredir/xredir.conf"


def quantity(q):
    """A Kubernetes quantity as a float (enough for comparisons)."""
    units = {
        "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
        "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "m": 1e-3,
    }
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    if not m or (m.group(2) and m.group(2) not in units):
        raise AssertionError("not a quantity: %r" % q)
    return float(m.group(1)) * units.get(m.group(2), 1)


class DaemonSet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ds = dl.the_daemonset()
        cls.pod = cls.ds["spec"]["template"]["spec"]
        containers = cls.pod.get("containers", [])
        if len(containers) != 1:
            raise AssertionError("expected one container, got %d" % len(containers))
        cls.c = containers[0]
        cls.env = dl.container_env(cls.c)
        cls.argv = [dl.k8s_expand(a, cls.env) for a in cls.c.get("command", [])[1:] + cls.c.get("args", [])]
        cls.parsed = dl.parse_argv(cls.argv)

    def port_number(self, port):
        """A probe port (number or container port name) as a number."""
        if isinstance(port, int):
            return port
        named = [p["containerPort"] for p in self.c.get("ports", []) if p.get("name") == port]
        self.assertEqual(len(named), 1, "no single container port named %r" % port)
        return named[0]

    def metrics_port(self):
        listen = dl.option(self.parsed, "--metrics-listen")
        self.assertIsNotNone(listen, "--metrics-listen is not passed")
        return int(listen.rsplit(":", 1)[1])

    def test_one_container_no_init(self):
        """one container, no init or ephemeral containers (none unchecked)"""
        self.assertNotIn("initContainers", self.pod)
        self.assertNotIn("ephemeralContainers", self.pod)
        self.assertEqual(self.c["name"], "xredird")

    def test_host_network(self):
        """hostNetwork true, dnsPolicy ClusterFirstWithHostNet"""
        self.assertIs(self.pod.get("hostNetwork"), True)
        self.assertEqual(self.pod.get("dnsPolicy"), "ClusterFirstWithHostNet")

    def test_no_host_pid_ipc(self):
        """no hostPID, hostIPC or shareProcessNamespace"""
        for k in ("hostPID", "hostIPC", "shareProcessNamespace"):
            self.assertIn(self.pod.get(k, False), (False,), k)

    def test_security_context(self):
        """privileged false, allowPrivilegeEscalation false, read-only root"""
        sc = self.c.get("securityContext", {})
        self.assertIs(sc.get("privileged"), False)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        psc = self.pod.get("securityContext", {})
        self.assertNotIn("sysctls", psc, "pod sysctls are not expected")

    def test_capabilities(self):
        """capabilities: drop ALL, add exactly NET_ADMIN NET_RAW SYS_ADMIN IPC_LOCK"""
        caps = self.c.get("securityContext", {}).get("capabilities", {})
        self.assertEqual(caps.get("drop"), ["ALL"])
        add = caps.get("add", [])
        self.assertEqual(len(add), len(set(add)), "duplicates in %s" % add)
        self.assertEqual(set(add), CAPS)

    def test_bpffs_volume(self):
        """/sys/fs/bpf hostPath (type Directory) mounted at /sys/fs/bpf; the only other hostPath is /run/xredir"""
        host = [v for v in self.pod.get("volumes", []) if "hostPath" in v]
        self.assertEqual(sorted(v["hostPath"].get("path") for v in host), sorted([BPFFS, RUN_DIR]),
                         "hostPath volumes: %s" % host)
        vol = [v for v in host if v["hostPath"].get("path") == BPFFS][0]
        self.assertEqual(vol["hostPath"].get("path"), BPFFS)
        self.assertEqual(vol["hostPath"].get("type"), "Directory")
        mounts = [m for m in self.c.get("volumeMounts", []) if m["name"] == vol["name"]]
        self.assertEqual(len(mounts), 1)
        self.assertEqual(mounts[0]["mountPath"], BPFFS)
        self.assertNotIn("subPath", mounts[0])
        # Bidirectional would need privileged and leak mounts to the host.
        self.assertIn(mounts[0].get("mountPropagation", "None"), ("None", "HostToContainer"))

    def test_run_volume(self):
        """/run/xredir (the per-interface lock) from the host, so every xredird on the node shares it"""
        vol = [v for v in self.pod.get("volumes", []) if v.get("hostPath", {}).get("path") == RUN_DIR]
        self.assertEqual(len(vol), 1)
        self.assertEqual(vol[0]["hostPath"].get("type"), "DirectoryOrCreate")
        mounts = [m for m in self.c.get("volumeMounts", []) if m["name"] == vol[0]["name"]]
        self.assertEqual([m["mountPath"] for m in mounts], [RUN_DIR])
        self.assertFalse(mounts[0].get("readOnly", False))

    def test_bpffs_env(self):
        """XREDIR_BPFFS (or --bpffs) names the mounted bpffs"""
        bpffs = dl.option(self.parsed, "--bpffs") or self.env.get("XREDIR_BPFFS")
        self.assertEqual(bpffs, BPFFS)

    def test_config_mount(self):
        """config ConfigMap mounted as a directory (no subPath) at /etc/xredir, read-only"""
        vols = {v["name"]: v for v in self.pod.get("volumes", [])}
        mounts = [m for m in self.c.get("volumeMounts", []) if m["mountPath"] == CONFIG_DIR]
        self.assertEqual(len(mounts), 1, "no single mount at %s" % CONFIG_DIR)
        m = mounts[0]
        self.assertNotIn("subPath", m, "a subPath mount never sees ConfigMap updates")
        self.assertNotIn("subPathExpr", m)
        self.assertIs(m.get("readOnly"), True)
        vol = vols[m["name"]]
        self.assertIn("configMap", vol)
        cm_name = vol["configMap"]["name"]
        cms = dl.find("ConfigMap", cm_name)
        self.assertEqual(len(cms), 1, "ConfigMap %s is not rendered" % cm_name)
        key = os.path.basename(CONFIG_FILE)
        self.assertIn(key, cms[0].get("data", {}))
        for item in vol["configMap"].get("items", []):
            self.assertEqual(item["key"], item["path"], "items remap %s" % item)

    def test_cookie_secret(self):
        """--cookie-secret-file is a key of a Secret volume mounted read-only
        (one secret for the fleet: nodes finish each other's handshakes)"""
        path = dl.option(self.parsed, "--cookie-secret-file")
        self.assertTrue(path, "no --cookie-secret-file")
        vols = {v["name"]: v for v in self.pod.get("volumes", [])}
        mounts = [m for m in self.c.get("volumeMounts", [])
                  if os.path.dirname(path) == m["mountPath"].rstrip("/")]
        self.assertEqual(len(mounts), 1, "no single mount at %s" % os.path.dirname(path))
        self.assertIs(mounts[0].get("readOnly"), True)
        secret = vols[mounts[0]["name"]].get("secret")
        self.assertTrue(secret and secret.get("secretName"), "%s is not a Secret volume" % mounts[0]["name"])
        keys = [i["path"] for i in secret.get("items", [])] or [os.path.basename(path)]
        self.assertIn(os.path.basename(path), keys)
        self.assertFalse(secret.get("optional", False), "an optional Secret starts pods with no secret")
        self.assertEqual(secret.get("defaultMode", 0o644) & 0o077, 0, "the secret is readable by others")

    def test_args(self):
        """args: --config /etc/xredir/xredir.conf, --metrics-listen, --iface from the env"""
        self.assertEqual(dl.option(self.parsed, "--config"), CONFIG_FILE)
        self.assertIsNotNone(dl.option(self.parsed, "--metrics-listen"))
        raw = [dl.k8s_expand(a, {}) for a in self.c.get("args", [])]
        iface = dl.option(dl.parse_argv(raw), "--iface")
        m = re.fullmatch(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", iface or "")
        self.assertTrue(m, "--iface is %r, not $(VAR)" % iface)
        self.assertTrue(self.env.get(m.group(1)), "env %s is not set to a value" % m.group(1))
        self.assertEqual(dl.option(self.parsed, "--iface"), self.env[m.group(1)])

    def test_metrics_bound_to_pod_ip(self):
        """--metrics-listen binds $(VAR) = the downward API's status.podIP (what
        the kubelet probes), not every address; IPv4 and IPv6 pod IPs accepted"""
        raw = [dl.k8s_expand(a, {}) for a in self.c.get("args", [])]
        listen = dl.option(dl.parse_argv(raw), "--metrics-listen") or ""
        m = re.fullmatch(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\):([0-9]+)", listen)
        self.assertTrue(m, "--metrics-listen is %r, not $(VAR):PORT" % listen)
        src = [e for e in self.c.get("env", []) if e["name"] == m.group(1)]
        self.assertEqual(len(src), 1, "no single env %s" % m.group(1))
        field = ((src[0].get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        self.assertEqual(field, "status.podIP", "env %s" % m.group(1))
        for ip in ("192.0.2.10", "2001:db8::10"):
            dl.binary_accepts(["--metrics-listen", "%s:%s" % (ip, m.group(2))])

    def test_probes(self):
        """readiness GET /readyz, liveness GET /healthz, on the --metrics-listen port"""
        port = self.metrics_port()
        served = dl.help_options()["--metrics-listen"]["text"]
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            self.assertIn(path, served, "xredird --help: --metrics-listen no longer serves " + path)
            p = self.c.get(probe)
            self.assertIsNotNone(p, probe)
            get = p.get("httpGet")
            self.assertIsNotNone(get, "%s is not an httpGet" % probe)
            self.assertEqual(get.get("path"), path, probe)
            self.assertEqual(self.port_number(get.get("port")), port, probe)
            self.assertIn(get.get("scheme", "HTTP"), ("HTTP",), probe)

    def test_ports(self):
        """container ports: metrics = --metrics-listen, http = --port, scrape annotation"""
        port = self.metrics_port()
        self.assertEqual(self.port_number("metrics"), port)
        service = int(dl.option(self.parsed, "--port") or dl.help_default("--port"))
        self.assertEqual(self.port_number("http"), service)
        ann = self.ds["spec"]["template"]["metadata"].get("annotations", {})
        if "prometheus.io/port" in ann:
            self.assertEqual(ann["prometheus.io/port"], str(port))

    def test_resources(self):
        """resources: requests (cpu, memory) and a memory limit set, requests <= limits"""
        res = self.c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        self.assertTrue({"cpu", "memory"} <= set(req), "requests: %s" % req)
        self.assertIn("memory", lim, "limits: %s" % lim)
        for k in set(req) & set(lim):
            self.assertLessEqual(quantity(req[k]), quantity(lim[k]), k)

    def test_termination_grace(self):
        """terminationGracePeriodSeconds > --grace"""
        grace = dl.option(self.parsed, "--grace")
        grace = int(grace) if grace is not None else dl.help_default("--grace")
        # (a non-numeric --grace fails test_daemonset_flags_accepted)
        tgps = self.pod.get("terminationGracePeriodSeconds", 30)
        self.assertGreater(tgps, grace)

    def test_update_strategy(self):
        """updateStrategy RollingUpdate with maxUnavailable set"""
        us = self.ds["spec"].get("updateStrategy") or {}
        self.assertEqual(us.get("type"), "RollingUpdate")
        mu = (us.get("rollingUpdate") or {}).get("maxUnavailable")
        self.assertIsNotNone(mu, "maxUnavailable is not set")
        self.assertNotIn(str(mu), ("0", "0%"), "maxUnavailable 0 blocks every rollout")

    def test_update_no_surge(self):
        """updateStrategy maxSurge 0: the old pod stops before the new one takes the interface"""
        ru = (self.ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        self.assertIn(str(ru.get("maxSurge", 0)), ("0", "0%"), "maxSurge %r" % ru.get("maxSurge"))

    def test_min_ready_seconds(self):
        """minReadySeconds covers the readiness probe's failure window (period x failureThreshold)"""
        rp = self.c.get("readinessProbe") or {}
        window = rp.get("periodSeconds", 10) * rp.get("failureThreshold", 3)
        mrs = self.ds["spec"].get("minReadySeconds", 0)
        self.assertGreaterEqual(mrs, window, "minReadySeconds %s < %s" % (mrs, window))

    def test_pod_security_namespace(self):
        """Pod Security Admission: Namespace enforce/audit/warn privileged, each with a version pin"""
        ns = dl.find("Namespace", self.ds["metadata"]["namespace"])
        self.assertEqual(len(ns), 1, "the DaemonSet's Namespace is not rendered")
        lab = ns[0]["metadata"].get("labels") or {}
        for mode in ("enforce", "audit", "warn"):
            key = "pod-security.kubernetes.io/" + mode
            # hostNetwork, hostPath and SYS_ADMIN are beyond baseline.
            self.assertEqual(lab.get(key), "privileged", "Pod Security label %s" % key)
            self.assertRegex(lab.get(key + "-version", ""), r"^v1\.[0-9]+$",
                             "Pod Security label %s-version is not a pinned v1.N" % key)

    def test_service_account(self):
        """own ServiceAccount, no API token: automountServiceAccountToken false on it and on the pod"""
        name = self.pod.get("serviceAccountName")
        self.assertTrue(name and name != "default", "serviceAccountName %r" % name)
        sa = dl.find("ServiceAccount", name)
        self.assertEqual(len(sa), 1, "ServiceAccount %s is not rendered" % name)
        self.assertIs(sa[0].get("automountServiceAccountToken"), False, "ServiceAccount mounts a token")
        self.assertIs(self.pod.get("automountServiceAccountToken"), False, "the pod mounts a token")
        self.assertFalse([v for v in self.pod.get("volumes", []) if "projected" in v],
                         "a projected volume (a token?) is mounted")

    def test_priority_class(self):
        """priorityClassName system-node-critical (node infrastructure, as Cilium)"""
        self.assertEqual(self.pod.get("priorityClassName"), "system-node-critical")

    def test_seccomp(self):
        """seccompProfile RuntimeDefault (its bpf() is allowed with CAP_SYS_ADMIN), nowhere Unconfined"""
        psc = (self.pod.get("securityContext") or {}).get("seccompProfile") or {}
        csc = (self.c.get("securityContext") or {}).get("seccompProfile") or {}
        self.assertEqual((csc or psc).get("type"), "RuntimeDefault", "seccompProfile")
        self.assertIn("SYS_ADMIN", self.c["securityContext"]["capabilities"]["add"])

    def test_apparmor(self):
        """AppArmor unconfined for the container, by the annotation naming it (the default profile denies /sys/fs/bpf writes)"""
        ann = self.ds["spec"]["template"]["metadata"].get("annotations") or {}
        prefix = "container.apparmor.security.beta.kubernetes.io/"
        names = {k[len(prefix):]: v for k, v in ann.items() if k.startswith(prefix)}
        self.assertEqual(names, {self.c["name"]: "unconfined"},
                         "AppArmor annotations %s do not name container %s" % (names, self.c["name"]))
        for sc in (self.pod.get("securityContext") or {}, self.c.get("securityContext") or {}):
            self.assertNotIn("appArmorProfile", sc, "both the field and the annotation")

    def test_daemonset_flags_accepted(self):
        """DaemonSet: every flag is in xredird --help and the binary accepts args+values"""
        # parse_argv (setUpClass) already matched every flag exactly.
        self.assertTrue(self.parsed)
        dl.binary_accepts(self.argv, self.env)


class OtherEntrypoints(unittest.TestCase):
    def test_dockerfile_flags_accepted(self):
        """Dockerfile: ENTRYPOINT+CMD flags are in xredird --help and accepted"""
        final = dl.dockerfile_stages()[-1]
        ins = dict(final["ins"])
        entry = dl.exec_form(ins["ENTRYPOINT"])
        cmd = dl.exec_form(ins.get("CMD", "[]"))
        self.assertEqual(os.path.basename(entry[0]), "xredird")
        argv = entry[1:] + cmd
        parsed = dl.parse_argv(argv)
        self.assertEqual(dl.option(parsed, "--config"), CONFIG_FILE)
        env = {}
        for k, v in final["ins"]:
            if k == "ENV":
                name, _, val = v.replace("=", " ", 1).partition(" ")
                env[name] = val.strip()
        dl.binary_accepts(argv, env)

    def test_systemd_flags_accepted(self):
        """systemd: ExecStart flags are in xredird --help and accepted"""
        unit = dl.parse_unit()
        execs = dl.unit_values(unit, "Service", "ExecStart")
        self.assertEqual(len(execs), 1)
        env = dl.unit_environment(unit)
        argv = dl.unit_exec_argv(execs[0], env)
        self.assertEqual(os.path.basename(argv[0]), "xredird")
        parsed = dl.parse_argv(argv[1:])
        self.assertEqual(dl.option(parsed, "--config"), CONFIG_FILE)
        self.assertTrue(dl.option(parsed, "--iface"), "--iface is empty")
        dl.binary_accepts(argv[1:], env)

    def test_flag_checker_rejects(self):
        """the flag checker itself rejects unknown, abbreviated and bad flags"""
        for argv in (["--ifcae", "eth0"], ["--conf", "/x"], ["--grace"], ["stray"],
                     ["--registry-v2-ping=1"]):
            with self.assertRaises(AssertionError, msg=argv):
                dl.parse_argv(argv)
        for argv in (["--grace", "99999"], ["--metrics-listen", "nope"]):
            with self.assertRaises(AssertionError, msg=argv):
                dl.binary_accepts(argv)


if __name__ == "__main__":
    dl.main()
