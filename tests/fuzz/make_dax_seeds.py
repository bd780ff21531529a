#!/usr/bin/env python3
"""Writes the seed inputs of fuzz_dax into tests/fuzz/corpus/dax/.

The first byte of each is fuzz_dax's mode byte: mode (low 2 bits: 0
request framer, 1 response scanner, 2 endpoints rewriter, 3 CBOR
skipper), piece size - 1 (next 5 bits), small frame limit (top bit).
Modes 1 and 2 take a second byte (the method index, the map's choices).
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dax")


def head(major, v):
    ib = major << 5
    if v < 24:
        return bytes([ib | v])
    if v < 0x100:
        return bytes([ib | 24, v])
    if v < 0x10000:
        return bytes([ib | 25]) + struct.pack(">H", v)
    if v < 0x100000000:
        return bytes([ib | 26]) + struct.pack(">I", v)
    return bytes([ib | 27]) + struct.pack(">Q", v)


def num(v):
    return head(0, v) if v >= 0 else head(1, -1 - v)


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


def byts(b):
    if isinstance(b, str):
        b = b.encode()
    return head(2, len(b)) + b


def req(method_id, *args):
    return b"\x01" + num(method_id) + b"".join(args)


def mode(m, piece=1, small=False):
    return bytes([m | ((piece - 1) << 2) | (0x80 if small else 0)])


PREAMBLE = (text("J7yne5G") + b"\x00" + text("0") + b"\xa1" + text("UserAgent")
            + text("DaxGoV2Client-1.0.3") + b"\x00")
STS = ("AWS4-HMAC-SHA256\n20261124T120000Z\n20261124/us-west-2/dax/aws4_request\n"
       + "0123456789abcdef" * 4)
AUTH = req(1489122155, text("AKIAIOSFODNN7EXAMPLE"), text("ab" * 32), byts(STS),
           b"\xf6", text("DaxGoV2Client-1.0.3"))
GET = req(263244906, byts("Movies"), byts("key1"), b"\xbf\xff")
PUT = req(-2106490455, byts("Movies"), byts("key1"), byts(b"\x82\x18\x2a\x61\x78"),
          b"\xbf\x07\x02\xff")
QUERY = req(-931250863, byts("Movies"), byts(b"\x83\x01\x02\x03"), b"\xa1\x0d\x18\x64")
SCAN = req(-1875390620, byts("Movies"), b"\xa0")
BATCHW = req(116217951, b"\xa2" + text("Movies") + b"\x82" + byts("k") + b"\xf6"
             + text("Books") + b"\x9f\xff", b"\xa0")
BATCHG = req(-697851100, b"\xbf" + text("Movies") + b"\x83\xf5\xf6\x81" + byts("k")
             + b"\xff", b"\xa0")
TWRITE = req(-1160037738, b"\x84\x02\x07\x09\x0c",
             b"\x84" + byts("Movies") + byts("Books") + byts("Music") + byts("Games"),
             b"\x84" + byts("a") + byts("b") + byts("c") + byts("d"),
             b"\x84\xf6\xf6\xf6\xf6", b"\xf6", b"\x84\x01\x01\x01\x02",
             b"\x84\xf6\xf6\xf6\xf6", b"\x84\xf6\xf6\xf6\xf6", b"\xa0")
TGET = req(1866287579, b"\x82" + byts("Movies") + byts("Books"), b"\x82\x41\x61\x41\x62",
           b"\x82\xf6\xf6", b"\xbf\xff")
ENDPOINTS = req(455855874)
META = (req(-742646399, byts("Movies")) + req(-1230579644, b"\x82" + text("a") + text("b"))
        + req(670678385, b"\x18\x2a"))

NODE4 = (b"\xa7\x00" + num(12345) + b"\x01" + text("node-1") + b"\x02" + byts(b"\x0a\x00\x00\x01")
         + b"\x03" + num(8111) + b"\x04\x01\x05" + text("us-west-2a") + b"\x06" + num(123456))
NODE6 = (b"\xbf\x01" + text("node-2") + b"\x02" + byts(bytes.fromhex("20010db8" + "00" * 11 + "02"))
         + b"\x03" + num(9111) + b"\x00\x02\xff")
NODE3 = b"\xa3\x03" + num(8111) + b"\x18\x3f\x82\x01\x9f\xff\x02" + byts(b"\x0a\x00\x00\x03")

SEEDS = {
    "frames-preamble-auth-get": mode(0, 1) + PREAMBLE + AUTH + GET,
    "frames-writes": mode(0, 7) + PREAMBLE + PUT + BATCHW + TWRITE,
    "frames-reads": mode(0, 3) + PREAMBLE + QUERY + SCAN + BATCHG + TGET,
    "frames-meta-small": mode(0, 2, True) + PREAMBLE + ENDPOINTS + META,
    "response-get": mode(1, 1) + b"\x05" + b"\x80\xa1\x01\x02" + b"\x80\xf6",
    "response-error": mode(1, 2) + b"\x05" + b"\x83\x04\x18\x25\x18\x2b" + text("not found")
    + b"\x83\xf6" + text("ConditionalCheckFailed") + num(400),
    "response-batchwrite": mode(1, 1) + b"\x0c" + b"\x80\xf6" + b"\x80\xa1" + text("Movies")
    + b"\x82" + byts("k") + b"\xf6\x80\x80",
    "endpoints-three": mode(2) + b"\x00" + b"\x80\x83" + NODE4 + NODE6 + NODE3,
    "endpoints-indefinite-drop": mode(2) + b"\x03" + b"\x80\x9f" + NODE4 + NODE6 + NODE3 + b"\xff",
    "endpoints-error": mode(2) + b"\x00" + b"\x81\x04" + text("no") + b"\xf6",
    "cbor-rfc-indefinite": mode(3, 1) + bytes.fromhex("9f018202039f0405ffff"),
    "cbor-tags-map": mode(3, 4) + bytes.fromhex("bf61610161629f0203ffc249010000000000000000"
                                                "d90cf98261616162ff"),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
