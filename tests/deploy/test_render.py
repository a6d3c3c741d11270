#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""`kubectl kustomize deploy/kubernetes` renders exactly one Namespace,
ServiceAccount, ConfigMap and DaemonSet, all in (or named) namespace
xredir, with the same app.kubernetes.io labels; every manifest in the
directory is part of the kustomization; the image is the Dockerfile's
release; the edge component adds its nodeSelector; the bgp component
adds BIRD and the announcer beside xredird, with a config BIRD accepts and
--withdraw-wait within the termination grace; the README's deploy
commands name paths that exist where they run.

Run: python3 tests/deploy/test_render.py (stdlib + PyYAML, kubectl).
"""

import collections
import os
import re
import shutil
import subprocess
import tempfile
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

NAMESPACE = "xredir"
KINDS = {"Namespace": 1, "ServiceAccount": 1, "ConfigMap": 1, "DaemonSet": 1}
LABELS = ("name", "instance", "version", "component", "part-of", "managed-by")
EDGE_LABEL = ("xredir.io/edge", "true")
CLUSTER_SCOPED = {"Namespace"}


class Render(unittest.TestCase):
    def test_kinds(self):
        """renders exactly Namespace, ServiceAccount, ConfigMap, DaemonSet (one each)"""
        kinds = collections.Counter(o.get("kind") for o in dl.rendered())
        self.assertEqual(dict(kinds), KINDS)

    def test_namespace(self):
        """every namespaced object is in namespace xredir; the Namespace is xredir"""
        for o in dl.rendered():
            md = o.get("metadata", {})
            if o["kind"] in CLUSTER_SCOPED:
                self.assertNotIn("namespace", md, o["kind"])
                self.assertEqual(md.get("name"), NAMESPACE)
            else:
                self.assertEqual(md.get("namespace"), NAMESPACE, "%s %s" % (o["kind"], md.get("name")))

    def test_every_manifest_included(self):
        """every deploy/kubernetes/*.yaml is a resource of kustomization.yaml"""
        with open(os.path.join(dl.KUSTOMIZE_DIR, "kustomization.yaml")) as f:
            kz = yaml.safe_load(f)
        self.assertEqual(kz.get("namespace"), NAMESPACE)
        files = {f for f in os.listdir(dl.KUSTOMIZE_DIR) if f.endswith((".yaml", ".yml"))}
        files.discard("kustomization.yaml")
        self.assertEqual(set(kz.get("resources", [])), files)

    def image(self):
        image = dl.the_daemonset()["spec"]["template"]["spec"]["containers"][0]["image"]
        ref, _, digest = image.partition("@")
        name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
        return image, name, tag, digest

    def test_image(self):
        """the DaemonSet runs the image the Dockerfile's header builds (xredir:TAG)"""
        image, name, tag, _ = self.image()
        self.assertEqual(name.rsplit("/", 1)[-1], "xredir")
        self.assertTrue(tag, "image %s has no tag" % image)
        with open(dl.DOCKERFILE) as f:
            self.assertIn("-t %s" % image, f.read(), "the Dockerfile's build command does not tag %s" % image)

    def test_image_pinned(self):
        """image pinned: the release tag (the Dockerfile's VERSION, never latest) or a digest"""
        image, _, tag, digest = self.image()
        if digest:
            self.assertRegex(digest, r"^sha256:[0-9a-f]{64}$", image)
            return
        self.assertNotEqual(tag, "latest", "image %s is not pinned (latest)" % image)
        self.assertEqual(tag, dl.dockerfile_global_args().get("VERSION"),
                         "image tag %s is not the Dockerfile's ARG VERSION" % tag)

    def test_labels(self):
        """app.kubernetes.io labels name, instance, version, component, part-of, managed-by on every object and the pod, all alike"""
        ds = dl.the_daemonset()
        sets = [(o["kind"], o["metadata"].get("labels") or {}) for o in dl.rendered()]
        sets.append(("DaemonSet pod template", ds["spec"]["template"]["metadata"].get("labels") or {}))
        want = {}
        for what, lab in sets:
            got = {k: v for k, v in lab.items() if k.startswith("app.kubernetes.io/")}
            for short in LABELS:
                self.assertTrue(got.get("app.kubernetes.io/" + short), "%s lacks app.kubernetes.io/%s" % (what, short))
            want = want or got
            self.assertEqual(got, want, "%s's app.kubernetes.io labels differ" % what)
        self.assertEqual(want["app.kubernetes.io/version"], dl.dockerfile_global_args().get("VERSION"),
                         "app.kubernetes.io/version is not the Dockerfile's ARG VERSION")
        sel = ds["spec"]["selector"]["matchLabels"]
        self.assertNotIn("app.kubernetes.io/version", sel, "a selector is immutable: no version in it")

    def test_readme_paths(self):
        """README "Deploying on Kubernetes": every path of its commands exists where the command runs (after its cd)"""
        with open(dl.README) as f:
            text = f.read()
        m = re.search(r"^## Deploying on Kubernetes\n(.*?)^## ", text, re.S | re.M)
        self.assertTrue(m, "no Deploying on Kubernetes section")
        section = m.group(1)
        blocks = re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)
        self.assertTrue(blocks, "no sh block")
        # Inline commands in the prose are run from the root.
        inline = [c for c in re.findall(r"`([^`]*(?:kubectl|kustomize|docker)[^`]*)`", section)]
        cmds = [(True, ln) for b in blocks for ln in b.replace("\\\n", " ").splitlines()]
        cmds += [(False, c) for c in inline]
        cwd, checked = dl.ROOT, 0
        for in_block, line in cmds:
            if not in_block:
                cwd = dl.ROOT
            words = line.split("#", 1)[0].split()
            if words[:1] == ["cd"]:
                cwd = os.path.normpath(os.path.join(cwd, words[1]))
                self.assertTrue(os.path.isdir(cwd), "%r: no directory %s" % (line, cwd))
                continue
            for flag, is_dir in (("-k", True), ("-f", False)):
                if flag in words[:-1] and words[0] in ("kubectl", "docker"):
                    p = os.path.join(cwd, words[words.index(flag) + 1])
                    ok = os.path.isdir(p) if is_dir else os.path.isfile(p)
                    self.assertTrue(ok, "%r run in %s: %s does not exist" % (line.strip(), os.path.relpath(cwd, dl.ROOT), p))
                    checked += 1
            if in_block and words[:2] == ["kustomize", "edit"]:
                self.assertTrue(os.path.isfile(os.path.join(cwd, "kustomization.yaml")),
                                "%r run in %s: no kustomization.yaml there" % (line.strip(), cwd))
                if words[2:4] == ["add", "component"]:
                    self.assertTrue(os.path.isdir(os.path.join(cwd, words[4])), "no component %s" % words[4])
                checked += 1
        self.assertGreaterEqual(checked, 4, "too few commands with paths found")

    def render_with(self, component):
        """The kustomize output with COMPONENT enabled in kustomization.yaml."""
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "k")
            shutil.copytree(dl.KUSTOMIZE_DIR, d)
            kz = os.path.join(d, "kustomization.yaml")
            with open(kz) as f:
                text = f.read()
            on = re.sub(r"^# components:\n#   - edge$", "components:\n  - " + component, text, flags=re.M)
            self.assertNotEqual(on, text, "kustomization.yaml has no commented components: - edge")
            with open(kz, "w") as f:
                f.write(on)
            out = subprocess.run(["kubectl", "kustomize", d], check=True, capture_output=True, text=True).stdout
        return [o for o in yaml.safe_load_all(out) if o]

    def test_bgp_component(self):
        """the bgp component: containers bird and announce (xredir-bgp, pinned tag),
        BIRD's config from a rendered ConfigMap that `bird -p` accepts, the
        announcer probing xredird's /readyz on the metrics port over the socket
        BIRD serves, xredird with --withdraw-wait, withdraw + grace within the
        termination grace"""
        objs = self.render_with("bgp")
        ds = [o for o in objs if o["kind"] == "DaemonSet"]
        self.assertEqual(len(ds), 1)
        pod = ds[0]["spec"]["template"]["spec"]
        cs = {c["name"]: c for c in pod["containers"]}
        self.assertEqual(list(cs)[0], "xredird", "xredird is no longer the first container")
        self.assertEqual(set(cs), {"xredird", "bird", "announce"})
        for n in ("bird", "announce"):
            name, _, tag = cs[n]["image"].partition(":")
            self.assertEqual(name, "xredir-bgp", cs[n]["image"])
            self.assertTrue(tag and tag != "latest", "image %s is not pinned" % cs[n]["image"])
            sc = cs[n]["securityContext"]
            self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
            self.assertIs(sc.get("privileged"), False)
            self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        args = cs["xredird"]["args"]
        wait = [a for a in args if a.startswith("--withdraw-wait=")]
        self.assertEqual(len(wait), 1, "xredird args: %s" % args)
        grace = [a for a in args if a.startswith("--grace=")]
        self.assertLess(int(wait[0].split("=")[1]) + int(grace[0].split("=")[1]),
                        pod["terminationGracePeriodSeconds"])
        # BIRD's socket: where bird serves it, where the announcer looks.
        cmd = cs["bird"]["command"]
        sock = cmd[cmd.index("-s") + 1]
        env = {e["name"]: e.get("value") for e in cs["announce"].get("env", [])}
        self.assertEqual(env.get("BIRD_SOCKET"), sock)
        mounts = lambda c: {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        self.assertEqual(mounts(cs["bird"]).get(os.path.dirname(sock)),
                         mounts(cs["announce"]).get(os.path.dirname(sock)), "the socket's directory is not shared")
        # The announcer probes /readyz on xredird's metrics port.
        url = cs["announce"]["command"][1]
        port = [p["containerPort"] for p in cs["xredird"]["ports"] if p["name"] == "metrics"][0]
        self.assertRegex(url, r"^http://\$\(POD_IP\):%d/readyz$" % port)
        # BIRD's config: the rendered ConfigMap, parsed by BIRD itself.
        conf = cmd[cmd.index("-c") + 1]
        vol = mounts(cs["bird"]).get(os.path.dirname(conf))
        cm_name = [v for v in pod["volumes"] if v["name"] == vol][0]["configMap"]["name"]
        cm = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == cm_name]
        self.assertEqual(len(cm), 1, "ConfigMap %s not rendered" % cm_name)
        text = cm[0]["data"][os.path.basename(conf)]
        for proto in ("xredir_vip4", "xredir_vip6"):
            self.assertRegex(text, r"protocol static %s \{\s*disabled yes;" % proto,
                             "%s must start disabled (announced only once ready)" % proto)
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write(text)
            f.flush()
            r = subprocess.run(["bird", "-p", "-c", f.name], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "bird -p: %s" % r.stderr)

    def test_edge_component(self):
        """the edge component (uncommented in kustomization.yaml) adds nodeSelector xredir.io/edge=true"""
        ds = [o for o in self.render_with("edge") if o["kind"] == "DaemonSet"]
        self.assertEqual(len(ds), 1)
        sel = ds[0]["spec"]["template"]["spec"].get("nodeSelector")
        self.assertEqual(sel, dict([EDGE_LABEL]), "edge nodeSelector")

    def test_tls_component(self):
        """the tls component (listed, commented, in kustomization.yaml) serves 443 with the cert, key and ticket secret from their Secrets"""
        with open(os.path.join(dl.KUSTOMIZE_DIR, "kustomization.yaml")) as f:
            self.assertRegex(f.read(), r"(?m)^#   - tls$", "kustomization.yaml does not list the tls component")
        ds = [o for o in self.render_with("tls") if o["kind"] == "DaemonSet"]
        self.assertEqual(len(ds), 1)
        spec = ds[0]["spec"]["template"]["spec"]
        c = spec["containers"][0]
        parsed = dl.parse_argv(c["args"])
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        secrets = {v["name"]: v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        want = {"tls-cert": ("xredir-tls", "tls.crt"), "tls-key": ("xredir-tls", "tls.key"),
                "tls-ticket-key-file": ("xredir-tickets", "ticket.key")}
        for flag, (secret, key) in want.items():
            value = dl.option(parsed, "--" + flag)
            self.assertIsNotNone(value, "--%s not given" % flag)
            directory, _, name = value.rpartition("/")
            self.assertEqual(name, key, "--%s %s" % (flag, value))
            self.assertIn(directory, mounts, "--%s: %s is not a mount" % (flag, directory))
            self.assertEqual(secrets.get(mounts[directory]), secret, "--%s: not from Secret %s" % (flag, secret))
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports.get("https"), 443)
        env = {"XREDIR_IFACE": "lo", "POD_IP": "127.0.0.1"}
        dl.binary_accepts([dl.k8s_expand(a, env) for a in c["args"]], env)


if __name__ == "__main__":
    dl.main()
