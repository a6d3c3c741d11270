# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What the Python test clients share about Internet headers."""

import struct


def csum(data):
    """The Internet checksum of data (RFC 1071): the value for the header."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
