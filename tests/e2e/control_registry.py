#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Registry helpers for tests/e2e/control.sh (standard library only).

  control_registry.py oci-image DIR
      Writes a minimal OCI image layout to DIR (one gzipped layer holding
      /hello.txt, a config, a manifest, tag "latest") for `skopeo copy
      oci:DIR:latest docker://...` to push to a local registry, so nothing
      is downloaded. Prints the manifest digest.

  control_registry.py registry-config FILE --root DIR --addr HOST:PORT
      A configuration for Debian's docker-registry (the CNCF distribution
      registry) storing in DIR, listening on HOST:PORT, without auth.

  control_registry.py ping [--host H] [--port N]
      In the client namespace: GET /v2/, HEAD /v2, GET /v2 over one
      keep-alive connection get 200 with Docker-Distribution-Api-Version:
      registry/2.0 and the body {} (as a registry); GET /v2/library/x still gets a 302.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

from xrclient import Conn

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def put_blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(root, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def oci_image(args):
    root = args.dir
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        content = b"hello from the xredir control test\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tf.addfile(info, io.BytesIO(content))
    layer_tar = tar_buf.getvalue()
    layer_gz = gzip.compress(layer_tar, mtime=0)
    layer = put_blob(root, layer_gz)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
        "history": [{"created_by": "tests/e2e/control_registry.py"}],
    }, sort_keys=True).encode()
    cfg = put_blob(root, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer, "size": len(layer_gz)}],
    }, sort_keys=True).encode()
    man = put_blob(root, manifest)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": man, "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)
    print(man)


def registry_config(args):
    with open(args.file, "w") as f:
        f.write("version: 0.1\n"
                "log:\n  level: info\n"
                "storage:\n  filesystem:\n    rootdirectory: %s\n"
                "  delete:\n    enabled: true\n"
                "http:\n  addr: %s\n" % (args.root, args.addr))


def ping(args):
    c = Conn(args.host, args.port)
    checked = []
    for method, path in (("GET", "/v2/"), ("HEAD", "/v2"), ("GET", "/v2"),
                         ("HEAD", "/v2/")):
        c.send(("%s %s HTTP/1.1\r\nHost: reg\r\n\r\n" % (method, path)).encode())
        r = c.read_response(head_request=method == "HEAD")
        if r.status_line != "HTTP/1.1 200 OK":
            fail("%s %s: status %r" % (method, path, r.status_line))
        vals = r.all("docker-distribution-api-version")
        if vals != [b"registry/2.0"]:
            fail("%s %s: Docker-Distribution-Api-Version %r" % (method, path, vals))
        # A registry answers GET /v2/ with "{}"; HEAD gets the length only.
        want = b"" if method == "HEAD" else b"{}"
        if r.text("content-length") != "2" or r.body != want:
            fail("%s %s: body %r, Content-Length %r" % (method, path, r.body,
                                                        r.text("content-length")))
        if r.all("location"):
            fail("%s %s: a Location header" % (method, path))
        checked.append("%s %s" % (method, path))
    # Nothing extra came after the HEAD responses (no body sent).
    c.quiet(0.3)
    if c.buf:
        fail("bytes after the last response: %r" % bytes(c.buf))
    c.send(b"GET /v2/library/x/manifests/latest HTTP/1.1\r\nHost: reg\r\n\r\n")
    r = c.read_response()
    loc = r.text("location") or ""
    if r.status_line != "HTTP/1.1 302 Found" or not loc.endswith("/v2/library/x/manifests/latest"):
        fail("GET /v2/library/x/manifests/latest: %r Location %r" % (r.status_line, loc))
    c.close()
    print("%s: 200, registry/2.0, body {}; /v2/library/x/...: 302 to %s"
          % (", ".join(checked), loc))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("oci-image")
    p.add_argument("dir")
    p = sub.add_parser("registry-config")
    p.add_argument("file")
    p.add_argument("--root", required=True)
    p.add_argument("--addr", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--host", default="10.77.0.1")
    p.add_argument("--port", type=int, default=10000)
    args = ap.parse_args()
    {"oci-image": oci_image, "registry-config": registry_config,
     "ping": ping}[args.cmd](args)


if __name__ == "__main__":
    main()
