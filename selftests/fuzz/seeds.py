#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seed inputs the fuzzers could not easily guess: valid streams and rings.

    seeds.py DIR    writes DIR/frame/* and DIR/ring/*
"""
import os
import struct
import sys

REQ = ">IBBHQHHIQQQ"  # struct cachepeer_req
GET, PUT, STAT, DEL, PING, RING_GET, RING_PUSH, HELLO = range(1, 9)
F_PROOF = 4


def req(op, rid, key=b"", payload=b"", flags=0, offset=0, length=0):
    return struct.pack(REQ, 0x43505251, 1, op, flags, rid, len(key), 0, 0, offset, length,
                       len(payload)) + key + payload


def ring(epoch, members):
    """A format-1 view; entry i at version epoch - i, the last one removed."""
    out = struct.pack(">IHBBQQQQH6x", 0x43505247, len(members), 1, 0, epoch, 0, 0, 0, 0xffff)
    for i, (name, addr, port, weight, family) in enumerate(members):
        removed = 1 if i == len(members) - 1 and i > 1 else 0
        out += struct.pack(">64s16sHHBB2xQIB3x", name, addr, port, weight, family, removed,
                           epoch - i, i, i % 3)
    return out


def proto_seeds():
    """proto_fuzz: a request header, the same bytes read as a response header."""
    return {"hello": req(HELLO, 1, bytes(33))[:48], "proof": req(HELLO, 2, bytes(32), flags=F_PROOF)[:48],
            "get": req(GET, 3, b"k")[:48]}


def main():
    top = sys.argv[1]
    # frame_fuzz: 10 bytes of cut seed, segment bound and block bound, then the stream.
    cut = bytes([7, 3, 1, 9, 2, 8, 4, 6, 16, 255])
    frames = {
        "pipeline": req(PING, 1) + req(GET, 2, b"key", offset=5, length=9) +
        req(STAT, 3, b"k") + req(DEL, 4, b"k") + req(RING_GET, 5),
        "payloads": req(PUT, 1, b"blk", b"x" * 300) + req(RING_PUSH, 2, payload=b"r" * 60) +
        req(PING, 3),
        "bad": req(PING, 1) + req(GET, 2) + req(PING, 3),
        "hello": req(HELLO, 1, bytes(range(32)) + b"reader") +
        req(HELLO, 2, bytes(32), flags=F_PROOF) + req(GET, 3, b"k"),
    }
    rings = {
        "empty": ring(1, []),
        "three": ring(7, [(b"a", bytes([10, 0, 0, 1]) + bytes(12), 7000, 100, 4),
                          (b"b", bytes(15) + b"\x01", 7001, 0, 6),
                          (b"c", bytes([10, 0, 0, 3]) + bytes(12), 7000, 1000, 4)]),
        "clash": ring(9, [(b"a", bytes([10, 0, 0, 1]) + bytes(12), 7000, 100, 4),
                          (b"b", bytes([10, 0, 0, 1]) + bytes(12), 7000, 100, 4),
                          (b"c", bytes([10, 0, 0, 3]) + bytes(12), 7000, 100, 4),
                          (b"d", bytes([10, 0, 0, 4]) + bytes(12), 7000, 100, 4)]),
    }
    for sub, seeds in (("frame", {k: cut + v for k, v in frames.items()}), ("ring", rings),
                       ("proto", proto_seeds())):
        os.makedirs(os.path.join(top, sub), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(top, sub, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
