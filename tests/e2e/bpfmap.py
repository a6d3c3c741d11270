# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BPF maps read and written through bpftool, for the e2e tests that leave
what a daemon or a writer killed half-way would (standard library only).

A map is named as bpftool takes it: ("pinned", PATH) or ("id", ID).
"""

import json
import subprocess

KEY0 = ("0", "0", "0", "0")  # key 0 of an array map


def bpftool(*args):
    """bpftool's JSON answer to args (None when it prints nothing)."""
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else None


def raw(entry, field="value"):
    """The bytes of a lookup's or a dump entry's key or value."""
    return bytes(int(b, 16) for b in entry[field])


def lookup(m, key=KEY0):
    """The entry at key: "value" as hex strings, "formatted" where the map has BTF."""
    return bpftool("map", "lookup", *m, "key", *key)


def update(m, key, value):
    """Writes the bytes value at key (a tuple of decimal strings)."""
    bpftool("map", "update", *m, "key", *key, "value", *["%d" % x for x in value])


def as_key(b):
    """bytes as a key for lookup() and update()."""
    return tuple("%d" % x for x in b)
