#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""`kubectl kustomize deploy/kubernetes` renders exactly one Namespace,
ConfigMap and DaemonSet, all in (or named) namespace xredir, and every
manifest in the directory is part of the kustomization.

Run: python3 tests/deploy/test_render.py (stdlib + PyYAML, kubectl).
"""

import collections
import os
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

NAMESPACE = "xredir"
KINDS = {"Namespace": 1, "ConfigMap": 1, "DaemonSet": 1}
CLUSTER_SCOPED = {"Namespace"}


class Render(unittest.TestCase):
    def test_kinds(self):
        """renders exactly Namespace, ConfigMap, DaemonSet (one each)"""
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

    def test_image(self):
        """the DaemonSet runs the image the Dockerfile's header builds (xredir:TAG)"""
        image = dl.the_daemonset()["spec"]["template"]["spec"]["containers"][0]["image"]
        name, _, tag = image.partition(":")
        self.assertEqual(name.rsplit("/", 1)[-1], "xredir")
        self.assertTrue(tag, "image %s has no tag" % image)
        with open(dl.DOCKERFILE) as f:
            self.assertIn("-t %s" % image, f.read(), "the Dockerfile's build command does not tag %s" % image)


if __name__ == "__main__":
    dl.main()
