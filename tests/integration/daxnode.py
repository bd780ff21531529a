#!/usr/bin/python3
"""daxnode.py - a DAX test cluster: N nodes in one process, for the DAX data-plane tests.

There is no DAX server outside AWS, so this speaks the subset of the DAX wire
protocol (docs: aws-semantics.md section 7) that the tests use, with its own
small CBOR decoder and encoder (it shares nothing with the gateway's C parser:
the tests compare the two).

    daxnode.py --node 1=127.0.9.1:9111 --node 2=127.0.9.2:9111 --node 3=127.0.9.3:9111 \
        --cert node.pem --key node.key [--node-cert 3=wrong.pem,wrong.key] \
        [--plain] [--advertise 2=127.0.9.20:9111] [--topology topo.json] \
        --table orders=pk:S,sk:S --table simple=id \
        [--log node.jsonl] [--pidfile node.pid] [--idle-timeout 60] \
        [--max-connections 256] [--get-miss null|map] [--hexdump FILE]

--hexdump (debugging only) writes every frame in and out as hex, item data
included, to its own file; --get-miss chooses the GetItem answer for a
missing item (80 f6 or 80 a0).  SIGTERM/SIGINT stop every node (exit 0).

Nodes: node 1 is the leader (role 1), every other node a replica (role 2).
`endpoints` lists the nodes named by the --topology file (a JSON list of node
ids, or {"nodes": [ids]}; re-read on SIGHUP) or every node without one; each
entry reports the node's --advertise address (default: its listen address).
A node left out of the topology still serves whoever connects to it.

Supported methods: authorizeConnection (the access key id is recorded per
connection; the signature is not checked), endpoints, defineKeySchema,
defineAttributeListId, defineAttributeList, GetItem, PutItem, DeleteItem,
Query (hash-key equality only: every item with that hash key, in range-key
byte order) and Scan (every item of the table).  UpdateItem, BatchGetItem and
BatchWriteItem are parsed and answered with a ValidationException.  An unknown
table gets ResourceNotFoundException; an unknown method or anything the
strict parser rejects is logged as protocol_error and the connection closed.

Log: one JSON object per line (connect, tls_error, preamble, auth, request,
protocol_error, close, topology, start, stop).  Item values and keys are never
logged; a request line carries the sha256 and length of the request's bytes.

Bytes observed with @amazon-dax-sdk/client-dax 3.1.0 (Node 20; run with
--hexdump; dax_selftest.sh repeats the exchanges):
  * preamble: 67 "J7yne5G" 00 50 <16 random bytes> a1 69 "UserAgent"
    73 "DaxJSV3Client-3.1.0" 00 — a session id of 16 bytes on every connection,
    seed connections included.  Some connections send only the preamble and
    close (the client's pool warm-up).
  * authorizeConnection: 01 1a 58 c2 33 6b, text AK, text signature (64 hex),
    bytes string-to-sign, text token or f6, text user agent; no answer.
  * endpoints: 01 1a 1b 2b cf 02.
  * kwargs: every GetItem/PutItem/DeleteItem/Query seen carried an
    indefinite map, empty (bf ff) without options — never null, although the
    package's generated-src/Stubs.js would write f6.  ConsistentRead on
    GetItem: bf 02 f5 ff.  Query always sends bf ff here: the attribute names
    (#h) are substituted and the values embedded in the compiled condition.
  * Query request (table "orders", pk = "h1"):
      01 3a 37 81 c2 ae 46 "orders"
      50 83 01 83 00 82 12 62 "pk" 82 11 00 81 62 "h1"       (key condition bytes:
         [1, [0 (=), [18 (path), "pk"], [17 (variable), 0]], ["h1"]])
      bf ff
  * GetItem, item not found: this node answers 80 f6 (default) or, with
    --get-miss map, 80 a0; the client takes both as "no Item".
  * GetItem, found: 80 a1 00 44 02 62 "M1"
    ({0: bytes(attribute list id 2, "M1")}).
  * Query, two matches (table pk:S,sk:S; hash "h1", ranges "a" and "b"; one
    non-key attribute v = "M1" / "M2" of attribute list 2):
      80 a3 07 82 82 44 62 68 31 61 44 02 62 4d 31
                  82 44 62 68 31 62 44 02 62 4d 32 08 02 0a 02
    = {7: [[key bytes, value bytes], ...], 8: Count, 10: ScannedCount}; a
    composite key = CBOR text "h1" (62 68 31) followed by the raw range "a".
    No match: 80 a3 07 80 08 00 0a 00.
  * PutItem / DeleteItem without ReturnValues: 80 f6.
  * Unknown table: the client asks defineKeySchema first (01 3a 2c 43 e2 7e
    <bytes table>) and never sends the data call; the error answer
      85 04 18 25 18 26 18 27 18 29  78 35 "Requested resource not found: ..."
      83 78 24 <uuid text> 78 19 "ResourceNotFoundException" 19 01 90
    surfaces as err.code 'ResourceNotFoundException'.
  * Numbers: N "7" is the CBOR int 07 (a hash-only N key is bytes 41 07);
    "1.5" is a float64 fb 3f f8 00 00 00 00 00 00.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import uuid

# ---------------------------------------------------------------- CBOR ----


class NeedMore(Exception):
    """The buffer ends inside a data item."""


class CborError(Exception):
    """Malformed or unsupported CBOR."""


class Tag:
    __slots__ = ("num", "value")

    def __init__(self, num, value):
        self.num = num
        self.value = value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.num, self.value)


class CMap:
    """A decoded map: pairs in wire order (keys need not be hashable)."""
    __slots__ = ("pairs", "indefinite")

    def __init__(self, pairs, indefinite):
        self.pairs = pairs
        self.indefinite = indefinite


class Undefined:
    pass


UNDEFINED = Undefined()
_BREAK = object()
MAX_DEPTH = 64
MAX_LEN = 16 << 20


class Reader:
    """Strict decoder of concatenated CBOR items from a bytes object."""

    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def at_end(self):
        return self.pos >= len(self.data)

    def _take(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise NeedMore()
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def _head(self):
        ib = self._take(1)[0]
        major, info = ib >> 5, ib & 31
        if info < 24:
            return major, info, ib
        if info == 24:
            return major, self._take(1)[0], ib
        if info == 25:
            return major, struct.unpack(">H", self._take(2))[0], ib
        if info == 26:
            return major, struct.unpack(">I", self._take(4))[0], ib
        if info == 27:
            return major, struct.unpack(">Q", self._take(8))[0], ib
        if info == 31:
            return major, None, ib
        raise CborError("reserved additional information %d" % info)

    def peek_byte(self):
        if self.pos >= len(self.data):
            raise NeedMore()
        return self.data[self.pos]

    def item(self, depth=0):
        v = self._item(depth, False)
        return v

    def _item(self, depth, allow_break):
        if depth > MAX_DEPTH:
            raise CborError("nesting deeper than %d" % MAX_DEPTH)
        major, arg, ib = self._head()
        if major == 0:
            if arg is None:
                raise CborError("indefinite unsigned integer")
            return arg
        if major == 1:
            if arg is None:
                raise CborError("indefinite negative integer")
            return -1 - arg
        if major in (2, 3):
            if arg is None:
                chunks = []
                while True:
                    if self.peek_byte() == 0xFF:
                        self.pos += 1
                        break
                    cmajor, clen, _ = self._head()
                    if cmajor != major or clen is None:
                        raise CborError("bad chunk in indefinite string")
                    if clen > MAX_LEN:
                        raise CborError("string too long")
                    chunks.append(self._take(clen))
                raw = b"".join(chunks)
            else:
                if arg > MAX_LEN:
                    raise CborError("string too long")
                raw = self._take(arg)
            if major == 2:
                return bytes(raw)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CborError("text string is not UTF-8")
        if major == 4:
            out = []
            if arg is None:
                while True:
                    v = self._item(depth + 1, True)
                    if v is _BREAK:
                        return out
                    out.append(v)
            if arg > MAX_LEN:
                raise CborError("array too long")
            for _ in range(arg):
                out.append(self._item(depth + 1, False))
            return out
        if major == 5:
            pairs = []
            if arg is None:
                while True:
                    k = self._item(depth + 1, True)
                    if k is _BREAK:
                        return CMap(pairs, True)
                    pairs.append((k, self._item(depth + 1, False)))
            if arg > MAX_LEN:
                raise CborError("map too long")
            for _ in range(arg):
                k = self._item(depth + 1, False)
                pairs.append((k, self._item(depth + 1, False)))
            return CMap(pairs, False)
        if major == 6:
            if arg is None:
                raise CborError("indefinite tag")
            return Tag(arg, self._item(depth + 1, False))
        # major 7
        info = ib & 31
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 23:
            return UNDEFINED
        if info == 25:
            return struct.unpack(">e", struct.pack(">H", arg))[0]
        if info == 26:
            return struct.unpack(">f", struct.pack(">I", arg))[0]
        if info == 27:
            return struct.unpack(">d", struct.pack(">Q", arg))[0]
        if info == 31:
            if allow_break:
                return _BREAK
            raise CborError("unexpected break")
        raise CborError("unsupported simple value 0x%02x" % ib)


def _head(major, n):
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + struct.pack(">H", n)
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + struct.pack(">I", n)
    return bytes([(major << 5) | 27]) + struct.pack(">Q", n)


class Raw(bytes):
    """Bytes that are already CBOR: written as they are."""


def enc(v):
    """Encode a Python value as one CBOR item (definite lengths)."""
    if isinstance(v, Raw):
        return bytes(v)
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, (bytes, bytearray)):
        return _head(2, len(v)) + bytes(v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    raise TypeError("cannot encode %r" % type(v))


def freeze(v):
    """A hashable, comparable form of a decoded item."""
    if isinstance(v, list):
        return ("L",) + tuple(freeze(x) for x in v)
    if isinstance(v, CMap):
        return ("M",) + tuple((freeze(k), freeze(x)) for k, x in v.pairs)
    if isinstance(v, Tag):
        return ("T", v.num, freeze(v.value))
    if isinstance(v, bool) or v is None:
        return ("V", v)
    if isinstance(v, (int, float)):
        return ("N", v)
    if isinstance(v, str):
        return ("S", v)
    if isinstance(v, bytes):
        return ("B", v)
    return ("U",)


def one_item(data, what):
    """Decode bytes that must hold exactly one CBOR item."""
    r = Reader(data)
    try:
        v = r.item()
    except NeedMore:
        raise CborError("%s: truncated CBOR" % what)
    if not r.at_end():
        raise CborError("%s: %d bytes after the item" % (what, len(data) - r.pos))
    return v


# ---------------------------------------------------------- protocol ----

M_AUTH = 1489122155
M_ENDPOINTS = 455855874
M_KEYSCHEMA = -742646399
M_ATTRLISTID = -1230579644
M_ATTRLIST = 670678385
M_GET = 263244906
M_PUT = -2106490455
M_DELETE = 1013539361
M_UPDATE = 1425579023
M_QUERY = -931250863
M_SCAN = -1875390620
M_BATCHGET = -697851100
M_BATCHWRITE = 116217951

METHOD_NAMES = {
    M_AUTH: "authorizeConnection", M_ENDPOINTS: "endpoints",
    M_KEYSCHEMA: "defineKeySchema", M_ATTRLISTID: "defineAttributeListId",
    M_ATTRLIST: "defineAttributeList", M_GET: "GetItem", M_PUT: "PutItem",
    M_DELETE: "DeleteItem", M_UPDATE: "UpdateItem", M_QUERY: "Query",
    M_SCAN: "Scan", M_BATCHGET: "BatchGetItem", M_BATCHWRITE: "BatchWriteItem",
}

# Positional arguments after service and method id: a kind per argument.
#   bytes, text, int, textarray, textornull, bytesornull, map, kwargs
LAYOUT = {
    M_AUTH: ("text", "text", "bytes", "textornull", "textornull"),
    M_ENDPOINTS: (),
    M_KEYSCHEMA: ("bytes",),
    M_ATTRLISTID: ("textarray",),
    M_ATTRLIST: ("int",),
    M_GET: ("bytes", "bytes", "kwargs"),
    M_PUT: ("bytes", "bytes", "bytes", "kwargs"),
    M_DELETE: ("bytes", "bytes", "kwargs"),
    M_UPDATE: ("bytes", "bytes", "kwargs"),
    M_QUERY: ("bytes", "bytesornull", "kwargs"),
    M_SCAN: ("bytes", "kwargs"),
    M_BATCHGET: ("map", "kwargs"),
    M_BATCHWRITE: ("map", "kwargs"),
}

KWARG_KEYS = range(0, 20)  # DaxDataRequestParam 0..19
MAGIC = "J7yne5G"

# Expression functions (compiled s-expressions)
F_EQUAL, F_AND, F_VARIABLE, F_PATH = 0, 6, 17, 18

# Error code paths and DynamoDB error names
ERR_NOT_FOUND = ([4, 37, 38, 39, 41], "ResourceNotFoundException")
ERR_VALIDATION = ([4, 37, 38, 39, 46], "ValidationException")


class ProtocolError(Exception):
    pass


class DaxError(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.codes, self.name = kind
        self.message = message


def check_arg(kind, v, pos):
    ok = {
        "bytes": isinstance(v, bytes),
        "text": isinstance(v, str),
        "int": isinstance(v, int) and not isinstance(v, bool),
        "textarray": isinstance(v, list) and all(isinstance(x, str) for x in v),
        "textornull": v is None or isinstance(v, str),
        "bytesornull": v is None or isinstance(v, bytes),
        "map": isinstance(v, CMap),
        "kwargs": v is None or isinstance(v, CMap),
    }[kind]
    if not ok:
        raise ProtocolError("argument %d: expected %s, got %s" % (pos, kind, type(v).__name__))
    if kind == "kwargs" and v is not None:
        for k, _ in v.pairs:
            if not (isinstance(k, int) and not isinstance(k, bool) and k in KWARG_KEYS):
                raise ProtocolError("unknown optional parameter key %r" % (k,))


# ------------------------------------------------------------- cluster ----


class Table:
    def __init__(self, name, schema):
        self.name = name
        self.schema = schema  # [(name, type)], hash first
        self.items = {}  # key bytes -> (hash frozen, range bytes, value bytes)


class Cluster:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.nodes = {}  # id -> dict(addr, port, adv_addr, adv_port, ctx)
        self.tables = {}
        self.attr_lists = {(): 1}
        self.attr_list_by_id = {1: ()}
        self.topology_file = args.topology
        self.topology = None  # None = every node
        self.log_fp = open(args.log, "a", buffering=1) if args.log else None
        self.log_lock = threading.Lock()
        self.hex_fp = open(args.hexdump, "a", buffering=1) if args.hexdump else None
        self.stop = threading.Event()
        self.conn_sem = threading.BoundedSemaphore(args.max_connections)
        self.idle_timeout = args.idle_timeout
        self.get_miss = b"\xf6" if args.get_miss == "null" else b"\xa0"
        self.leader_session = 1
        for spec in args.table:
            self._add_table(spec)

    def _add_table(self, spec):
        name, sep, keys = spec.partition("=")
        if not sep or not name or not keys:
            raise SystemExit("--table NAME=HASH[:T][,RANGE[:T]]: %r" % spec)
        schema = []
        for part in keys.split(","):
            an, _, at = part.partition(":")
            at = at or "S"
            if not an or at not in ("S", "N", "B"):
                raise SystemExit("bad key attribute in --table %r" % spec)
            schema.append((an, at))
        if len(schema) > 2:
            raise SystemExit("at most two key attributes: %r" % spec)
        self.tables[name] = Table(name, schema)

    def log(self, event, **kw):
        rec = {"ts": round(time.time(), 3), "event": event}
        rec.update(kw)
        line = json.dumps(rec, sort_keys=False)
        with self.log_lock:
            if self.log_fp:
                self.log_fp.write(line + "\n")
            else:
                sys.stderr.write(line + "\n")

    def load_topology(self):
        if not self.topology_file:
            self.topology = None
            return
        try:
            with open(self.topology_file) as f:
                doc = json.load(f)
            ids = doc["nodes"] if isinstance(doc, dict) else doc
            ids = [int(i) for i in ids]
        except (OSError, ValueError, KeyError, TypeError) as e:
            self.log("topology", ok=False, reason=str(e))
            return
        with self.lock:
            self.topology = ids
        self.log("topology", ok=True, nodes=ids)

    def endpoints_answer(self):
        with self.lock:
            ids = sorted(self.nodes) if self.topology is None else list(self.topology)
        out = []
        for nid in ids:
            n = self.nodes.get(nid)
            if n is None:
                continue
            out.append({
                0: nid,
                1: "node%d.test" % nid,
                2: ipaddress.ip_address(n["adv_addr"]).packed,
                3: n["adv_port"],
                4: 1 if nid == 1 else 2,
                5: "us-east-1a",
                6: self.leader_session,
            })
        return out

    def attr_list_id(self, names):
        key = tuple(names)
        with self.lock:
            lid = self.attr_lists.get(key)
            if lid is None:
                lid = len(self.attr_list_by_id) + 1
                self.attr_lists[key] = lid
                self.attr_list_by_id[lid] = key
            return lid

    def attr_list(self, lid):
        with self.lock:
            return self.attr_list_by_id.get(lid)

    def table(self, raw):
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DaxError(ERR_VALIDATION, "table name is not UTF-8")
        t = self.tables.get(name)
        if t is None:
            raise DaxError(ERR_NOT_FOUND, "Requested resource not found: Table: %s not found" % name)
        return t


def split_key(table, key):
    """Key bytes -> (frozen hash value, range bytes); ValidationException when it
    does not fit the table's key schema."""
    htype = table.schema[0][1]
    if not key:
        raise DaxError(ERR_VALIDATION, "empty key")
    if len(table.schema) == 1:
        if htype == "S":
            try:
                return ("S", key.decode("utf-8")), b""
            except UnicodeDecodeError:
                raise DaxError(ERR_VALIDATION, "hash key is not UTF-8")
        if htype == "B":
            return ("B", key), b""
        try:
            return freeze(one_item(key, "number key")), b""
        except CborError as e:
            raise DaxError(ERR_VALIDATION, str(e))
    r = Reader(key)
    try:
        h = r.item()
    except (NeedMore, CborError):
        raise DaxError(ERR_VALIDATION, "composite key: bad hash value")
    want = {"S": str, "B": bytes}.get(htype)
    if want is not None and not isinstance(h, want):
        raise DaxError(ERR_VALIDATION, "composite key: hash value of the wrong type")
    rng = key[r.pos:]
    if not rng:
        raise DaxError(ERR_VALIDATION, "composite key: no range value")
    if table.schema[1][1] == "S":
        try:
            rng.decode("utf-8")
        except UnicodeDecodeError:
            raise DaxError(ERR_VALIDATION, "range key is not UTF-8")
    return freeze(h), rng


def check_values(cluster, values):
    """PutItem value bytes: attribute list id + one item per name."""
    r = Reader(values)
    try:
        lid = r.item()
        if not isinstance(lid, int) or isinstance(lid, bool):
            raise DaxError(ERR_VALIDATION, "values: attribute list id is not an integer")
        names = cluster.attr_list(lid)
        if names is None:
            raise DaxError(ERR_VALIDATION, "values: unknown attribute list id %d" % lid)
        for _ in names:
            r.item()
    except NeedMore:
        raise DaxError(ERR_VALIDATION, "values: fewer values than attribute names")
    except CborError as e:
        raise DaxError(ERR_VALIDATION, "values: %s" % e)
    if not r.at_end():
        raise DaxError(ERR_VALIDATION, "values: more values than attribute names")
    return lid


def query_hash(table, cond):
    """Compiled key condition -> frozen hash value (hash-key equality only)."""
    if cond is None:
        raise DaxError(ERR_VALIDATION, "Query needs a KeyConditionExpression")
    try:
        expr = one_item(cond, "key condition")
    except CborError as e:
        raise DaxError(ERR_VALIDATION, str(e))
    if not (isinstance(expr, list) and len(expr) == 3 and expr[0] == 1 and isinstance(expr[2], list)):
        raise DaxError(ERR_VALIDATION, "key condition: unexpected layout")
    spec, values = expr[1], expr[2]

    def path_name(x):
        if isinstance(x, list) and len(x) == 2 and x[0] == F_PATH and isinstance(x[1], str):
            return x[1]
        return None

    def var_value(x):
        if isinstance(x, list) and len(x) == 2 and x[0] == F_VARIABLE and isinstance(x[1], int) \
                and 0 <= x[1] < len(values):
            return values[x[1]]
        return None

    if not (isinstance(spec, list) and len(spec) == 3 and spec[0] == F_EQUAL):
        raise DaxError(ERR_VALIDATION, "this test node supports only hash-key equality in Query")
    name, val = path_name(spec[1]), var_value(spec[2])
    if name is None:
        name, val = path_name(spec[2]), var_value(spec[1])
    if name is None or val is None:
        raise DaxError(ERR_VALIDATION, "key condition: expected path = :value")
    if name != table.schema[0][0]:
        raise DaxError(ERR_VALIDATION, "Query condition missed key schema element: %s" % table.schema[0][0])
    htype = table.schema[0][1]
    want = {"S": str, "B": bytes}.get(htype)
    if want is not None and not isinstance(val, want):
        raise DaxError(ERR_VALIDATION, "key condition: value type does not match the key schema")
    return freeze(val)


# ------------------------------------------------------------ sessions ----


class Session:
    def __init__(self, cluster, node_id, sock, peer, tls):
        self.c = cluster
        self.node = node_id
        self.sock = sock
        self.peer = peer
        self.tls = tls
        self.buf = b""
        self.preamble_done = False
        self.access_key_id = None
        self.requests = 0

    def log(self, event, **kw):
        self.c.log(event, node=self.node, peer=self.peer, **kw)

    def run(self):
        reason = "peer_closed"
        last = time.monotonic()
        try:
            while True:
                if self.c.stop.is_set():
                    reason = "shutdown"
                    break
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    if time.monotonic() - last > self.c.idle_timeout:
                        reason = "idle"
                        break
                    continue
                except ssl.SSLError as e:
                    reason = "tls_error: %s" % e.reason
                    break
                except OSError as e:
                    reason = "error: %s" % e.strerror
                    break
                if not data:
                    if self.buf:
                        reason = "peer_closed_mid_request"
                    break
                last = time.monotonic()
                self.buf += data
                if len(self.buf) > MAX_LEN:
                    self.log("protocol_error", reason="request larger than %d bytes" % MAX_LEN)
                    reason = "protocol_error"
                    break
                try:
                    self.drain()
                except ProtocolError as e:
                    self.log("protocol_error", reason=str(e))
                    reason = "protocol_error"
                    break
                except CborError as e:
                    self.log("protocol_error", reason="CBOR: %s" % e)
                    reason = "protocol_error"
                    break
                except OSError as e:
                    reason = "error: %s" % e
                    break
        finally:
            self.log("close", reason=reason, requests=self.requests, pending_bytes=len(self.buf))
            try:
                self.sock.close()
            except OSError:
                pass

    def drain(self):
        """Handle every complete frame at the start of the buffer."""
        while self.buf:
            r = Reader(self.buf)
            try:
                if not self.preamble_done:
                    self.preamble(r)
                    self.preamble_done = True
                    self.hexdump("in", self.buf[:r.pos])
                    self.buf = self.buf[r.pos:]
                    continue
                service = r.item()
                if service != 1 or isinstance(service, bool):
                    raise ProtocolError("service id %r (expected 1)" % (service,))
                method = r.item()
                if not isinstance(method, int) or isinstance(method, bool):
                    raise ProtocolError("method id is not an integer")
                layout = LAYOUT.get(method)
                if layout is None:
                    raise ProtocolError("unknown method id %d" % method)
                args = []
                for i, kind in enumerate(layout):
                    v = r.item()
                    check_arg(kind, v, i)
                    args.append(v)
            except NeedMore:
                return
            frame = self.buf[:r.pos]
            self.buf = self.buf[r.pos:]
            self.hexdump("in", frame)
            self.handle(method, args, frame)

    def preamble(self, r):
        magic = r.item()
        if magic != MAGIC:
            raise ProtocolError("bad magic %r" % (magic if isinstance(magic, (str, int)) else type(magic).__name__))
        layer = r.item()
        if layer != 0 or isinstance(layer, bool):
            raise ProtocolError("preamble: layering %r (expected 0)" % (layer,))
        sess = r.item()
        if not (sess is None or isinstance(sess, (bytes, str))):
            raise ProtocolError("preamble: session id of type %s" % type(sess).__name__)
        meta = r.item()
        if not isinstance(meta, CMap) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.pairs):
            raise ProtocolError("preamble: client info is not a map of text")
        mode = r.item()
        if mode != 0 or isinstance(mode, bool):
            raise ProtocolError("preamble: client mode %r (expected 0)" % (mode,))
        ua = dict(meta.pairs).get("UserAgent")
        self.log("preamble", user_agent=ua,
                 session="null" if sess is None else type(sess).__name__)

    def hexdump(self, direction, data):
        if self.c.hex_fp:
            with self.c.log_lock:
                self.c.hex_fp.write("node %d %s %s %s\n" % (self.node, self.peer, direction, data.hex(" ")))

    def send(self, *items):
        data = b"".join(items)
        self.hexdump("out", data)
        self.sock.sendall(data)

    def send_error(self, err):
        self.send(enc(err.codes), enc(err.message), enc([str(uuid.uuid4()), err.name, 400]))

    def handle(self, method, args, frame):
        name = METHOD_NAMES[method]
        if method == M_AUTH:
            self.access_key_id = args[0]
            self.log("auth", access_key_id=args[0], session_token=args[3] is not None,
                     user_agent=args[4])
            return  # no answer
        self.requests += 1
        rec = {"method": name, "access_key_id": self.access_key_id,
               "bytes": len(frame), "sha256": hashlib.sha256(frame).hexdigest()}
        if method in (M_KEYSCHEMA, M_GET, M_PUT, M_DELETE, M_UPDATE, M_QUERY, M_SCAN):
            rec["table"] = args[0].decode("utf-8", "replace")
        if method in (M_GET, M_PUT, M_DELETE, M_UPDATE, M_QUERY, M_SCAN):
            kw = args[-1]
            rec["kwargs"] = None if kw is None else sorted(k for k, _ in kw.pairs)
        try:
            result = self.dispatch(method, args, rec)
        except DaxError as e:
            rec["result"] = e.name
            self.log("request", **rec)
            self.send_error(e)
            return
        self.log("request", **rec)
        self.send(b"\x80", result)

    def dispatch(self, method, args, rec):
        c = self.c
        if method == M_ENDPOINTS:
            eps = c.endpoints_answer()
            rec["result"] = "ok"
            rec["nodes"] = [e[0] for e in eps]
            return enc(eps)
        if method == M_ATTRLISTID:
            lid = c.attr_list_id(args[0])
            rec["result"] = "ok"
            rec["attribute_names"] = args[0]
            rec["attribute_list_id"] = lid
            return enc(lid)
        if method == M_ATTRLIST:
            names = c.attr_list(args[0])
            rec["attribute_list_id"] = args[0]
            if names is None:
                raise DaxError(ERR_VALIDATION, "unknown attribute list id %d" % args[0])
            rec["result"] = "ok"
            return enc(list(names))
        if method in (M_BATCHGET, M_BATCHWRITE):
            raise DaxError(ERR_VALIDATION, "%s is not supported by this test node" % METHOD_NAMES[method])
        t = c.table(args[0])
        if method == M_KEYSCHEMA:
            rec["result"] = "ok"
            return enc({n: ty for n, ty in t.schema})
        if method == M_UPDATE:
            raise DaxError(ERR_VALIDATION, "UpdateItem is not supported by this test node")
        if method == M_GET:
            split_key(t, args[1])
            with c.lock:
                hit = t.items.get(args[1])
            if hit is None:
                rec["result"] = "not_found"
                return c.get_miss
            rec["result"] = "found"
            return enc({0: hit[2]})
        if method == M_PUT:
            h, rng = split_key(t, args[1])
            check_values(c, args[2])
            with c.lock:
                t.items[args[1]] = (h, rng, args[2])
            rec["result"] = "ok"
            return b"\xf6"
        if method == M_DELETE:
            split_key(t, args[1])
            with c.lock:
                old = t.items.pop(args[1], None)
            rec["result"] = "deleted" if old is not None else "absent"
            return b"\xf6"
        if method == M_QUERY:
            h = query_hash(t, args[1])
            with c.lock:
                rows = [(rng, k, v) for k, (hh, rng, v) in t.items.items() if hh == h]
            rows.sort(key=lambda x: x[0])
            rec["result"] = "ok"
            rec["count"] = len(rows)
            return enc({7: [[k, v] for _, k, v in rows], 8: len(rows), 10: len(rows)})
        if method == M_SCAN:
            with c.lock:
                rows = [(k, v) for k, (_, _, v) in t.items.items()]
            rec["result"] = "ok"
            rec["count"] = len(rows)
            return enc({7: [[k, v] for k, v in rows], 8: len(rows), 10: len(rows)})
        raise ProtocolError("no handler for method %d" % method)


# ------------------------------------------------------------- servers ----


def serve_node(cluster, nid, lsock, ctx):
    while not cluster.stop.is_set():
        try:
            conn, addr = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            if cluster.stop.is_set():
                break
            time.sleep(0.1)
            continue
        peer = "%s:%d" % (addr[0], addr[1])
        if not cluster.conn_sem.acquire(blocking=False):
            cluster.log("refused", node=nid, peer=peer, reason="too many connections")
            conn.close()
            continue
        t = threading.Thread(target=conn_thread, args=(cluster, nid, conn, peer, ctx), daemon=True)
        t.start()
    lsock.close()


def conn_thread(cluster, nid, conn, peer, ctx):
    try:
        cluster.log("connect", node=nid, peer=peer, tls=ctx is not None)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is not None:
            conn.settimeout(10)
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                cluster.log("tls_error", node=nid, peer=peer,
                            reason=getattr(e, "reason", None) or str(e))
                conn.close()
                return
            cluster.log("tls_established", node=nid, peer=peer, version=conn.version())
        conn.settimeout(0.5)
        Session(cluster, nid, conn, peer, ctx is not None).run()
    finally:
        cluster.conn_sem.release()


def parse_addr(spec, opt):
    nid, sep, ap = spec.partition("=")
    host, sep2, port = ap.rpartition(":")
    try:
        nid = int(nid)
        port = int(port)
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise SystemExit("%s ID=ADDR:PORT: %r" % (opt, spec))
    if not sep or not sep2:
        raise SystemExit("%s ID=ADDR:PORT: %r" % (opt, spec))
    return nid, host.strip("[]"), port


def main():
    ap = argparse.ArgumentParser(description="DAX test cluster (nodes in one process)")
    ap.add_argument("--node", action="append", required=True, help="ID=ADDR:PORT (repeat)")
    ap.add_argument("--advertise", action="append", default=[], help="ID=ADDR:PORT reported by endpoints")
    ap.add_argument("--cert", help="PEM certificate (chain) of every node")
    ap.add_argument("--key", help="PEM key of --cert")
    ap.add_argument("--node-cert", action="append", default=[], help="ID=CERT.pem,KEY.pem")
    ap.add_argument("--plain", action="store_true", help="no TLS (dax://)")
    ap.add_argument("--table", action="append", default=[], help="NAME=HASH[:S|N|B][,RANGE[:S|N|B]]")
    ap.add_argument("--topology", help="JSON list of node ids in the endpoints answer (SIGHUP re-reads)")
    ap.add_argument("--log", help="JSON-lines event log (default stderr)")
    ap.add_argument("--pidfile")
    ap.add_argument("--hexdump", help="debug: write every frame in and out as hex to this file "
                    "(it holds item data; never the --log file)")
    ap.add_argument("--get-miss", choices=("null", "map"), default="null",
                    help="GetItem answer for a missing item: null (80 f6) or an empty map (80 a0)")
    ap.add_argument("--idle-timeout", type=float, default=60.0)
    ap.add_argument("--max-connections", type=int, default=256)
    args = ap.parse_args()

    cluster = Cluster(args)
    per_cert = {}
    for spec in args.node_cert:
        nid, _, files = spec.partition("=")
        cert, _, key = files.partition(",")
        try:
            per_cert[int(nid)] = (cert, key)
        except ValueError:
            raise SystemExit("--node-cert ID=CERT,KEY: %r" % spec)
    adv = {}
    for spec in args.advertise:
        nid, host, port = parse_addr(spec, "--advertise")
        adv[nid] = (host, port)

    listeners = []
    for spec in args.node:
        nid, host, port = parse_addr(spec, "--node")
        if nid in cluster.nodes:
            raise SystemExit("node %d given twice" % nid)
        ctx = None
        if not args.plain:
            cert, key = per_cert.get(nid, (args.cert, args.key))
            if not cert or not key:
                raise SystemExit("node %d: --cert/--key (or --node-cert) needed without --plain" % nid)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(64)
        s.settimeout(0.5)
        ah, apt = adv.get(nid, (host, port))
        cluster.nodes[nid] = {"addr": host, "port": port, "adv_addr": ah, "adv_port": apt}
        listeners.append((nid, s, ctx))
    cluster.load_topology()

    def on_term(signum, frame):
        cluster.stop.set()

    def on_hup(signum, frame):
        cluster.load_topology()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)

    threads = []
    for nid, s, ctx in listeners:
        t = threading.Thread(target=serve_node, args=(cluster, nid, s, ctx), daemon=True)
        t.start()
        threads.append(t)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    cluster.log("start", nodes={str(n): "%s:%d" % (v["addr"], v["port"]) for n, v in cluster.nodes.items()},
                tls=not args.plain, tables=sorted(cluster.tables))
    while not cluster.stop.wait(0.5):
        pass
    deadline = time.monotonic() + 5
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    time.sleep(0.6)  # sessions see the stop flag within one read timeout
    cluster.log("stop")
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
