#!/usr/bin/python3
"""dax_bench.py - the DAX node and the load generator of bench/dax.sh.

Both sides are one process, one thread, an epoll loop over non-blocking TLS
sockets (the standard library only), and both know the exchange in advance:
every connection sends the same preamble and authorizeConnection once, then
GetItem requests of fixed bytes one at a time, and every answer is the same
pre-encoded GetItem result. Nothing is parsed on the hot path; every byte is
compared with what is expected, so a proxy that changed a frame is caught.

  dax_bench.py node --listen IP:PORT --cert PEM --key KEY
      the fake DAX node: TLS for the cluster name, the prefix checked once,
      then one fixed answer per GetItem. SIGTERM: prints what it served.
  dax_bench.py load --connect IP:PORT --name CLUSTER --ca PEM --conns N
                    --warmup S --duration S [--cpu NAME=PID,PID ...]
                    [--cores C,C] [--tsv-prefix TEXT]
      N connections, each with one GetItem outstanding; counts the answers
      and their latency in the measured window, and reads utime+stime of the
      --cpu process groups (/proc/PID/stat) and the busy time of --cores
      (/proc/stat) at the window's edges. Prints one JSON line.
  dax_bench.py check --connect IP:PORT --name CLUSTER --ca PEM [--expect-deny]
      one connection: a GetItem must come back with the node's answer; with
      --expect-deny, a GetItem on table Payroll and a DeleteItem on table
      AuditLog must come back as AccessDeniedException error frames first,
      and the connection must still answer the GetItem after them.
"""

import argparse
import datetime
import json
import os
import select
import signal
import socket
import ssl
import struct
import sys
import time

# ------------------------------------------------------------- CBOR out ---


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 0x100000000:
        return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)


def cbor(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


# -------------------------------------------------------------- CBOR in ---
# Only what the checks read: error answers (arrays, text, ints, null).


class NeedMore(Exception):
    pass


def decode(buf, pos=0):
    """One item at buf[pos:] -> (value, next position)."""
    if pos >= len(buf):
        raise NeedMore
    ib = buf[pos]
    major, ai = ib >> 5, ib & 31
    pos += 1
    if ai < 24:
        n = ai
    elif ai in (24, 25, 26, 27):
        w = 1 << (ai - 24)
        if pos + w > len(buf):
            raise NeedMore
        n = int.from_bytes(buf[pos:pos + w], "big")
        pos += w
    elif ai == 31 and major in (4, 5):
        n = None
    else:
        raise ValueError("CBOR the checks do not read: initial byte 0x%02x" % ib)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        if pos + n > len(buf):
            raise NeedMore
        s = bytes(buf[pos:pos + n])
        return (s if major == 2 else s.decode()), pos + n
    if major in (4, 5):
        out = []
        count = n if n is not None else 1 << 30
        for _ in range(count * (2 if major == 5 else 1)):
            if n is None:
                if pos >= len(buf):
                    raise NeedMore
                if buf[pos] == 0xff:
                    pos += 1
                    break
            x, pos = decode(buf, pos)
            out.append(x)
        if major == 5:
            return dict(zip(out[0::2], out[1::2])), pos
        return out, pos
    if major == 7:
        return {20: False, 21: True, 22: None}.get(ai), pos
    raise ValueError("CBOR the checks do not read: major type %d" % major)


# -------------------------------------------------------- the exchange ---

M_AUTH, M_GET, M_DELETE = 1489122155, 263244906, 1013539361
AKID = "AKIAIOSFODNN7BENCH01"
UA = "DaxGoV2Client-1.0.3"


def frame(method, *args):
    return b"\x01" + cbor(method) + b"".join(args)


def prefix_bytes():
    """Preamble and authorizeConnection as the Go client sends them.
    The string-to-sign carries $DAX_BENCH_DAY (else today's date; dax.sh
    sets it once, so that node and clients agree across midnight): the
    node does not check the signature, the gateway reads the region."""
    day = os.environ.get("DAX_BENCH_DAY") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
    ts = day + "T000000Z"
    sts = ("AWS4-HMAC-SHA256\n%s\n%s/us-east-1/dax/aws4_request\n%s"
           % (ts, day, "9f" * 32)).encode()
    pre = cbor("J7yne5G") + cbor(0) + cbor("0") + cbor({"UserAgent": UA}) + cbor(0)
    auth = frame(M_AUTH, cbor(AKID), cbor("3b" * 32), cbor(sts), cbor(None), cbor(UA))
    return pre + auth


def key_bytes(pk, sk):
    # composite key: the hash value as a CBOR text item, then the range raw
    return cbor(pk) + sk.encode()


def projection():
    # a compiled ProjectionExpression: document paths of six attributes
    return cbor([1, [[18, n] for n in ("pk", "sk", "v", "status", "updatedAt", "expiresAt")]])


def get_item(table, pk="tenant#acme-corp#user#0000004217", sk="profile#v2#2024-01-01T00:00:00Z"):
    # kwargs: 0 ProjectionExpression, 2 ConsistentRead, 3 ReturnConsumedCapacity
    kw = b"\xbf" + cbor(0) + cbor(projection()) + cbor(2) + cbor(True) + cbor(3) + cbor(1) + b"\xff"
    return frame(M_GET, cbor(table.encode()), cbor(key_bytes(pk, sk)), kw)


def delete_item(table):
    return frame(M_DELETE, cbor(table.encode()), cbor(key_bytes("x", "y")), b"\xbf\xff")


REQ = get_item("BenchItems")
# the item: {0: attribute list id 2 followed by the non-key values}
ANS = b"\x80" + cbor({0: cbor(2) + cbor("ddbgate-bench-value-0123456789abcdefghijklmnopqrstuvwxyz")
                      + cbor("active") + cbor(1700000000) + cbor(1900000000)
                      + cbor("x" * 64)})


# ------------------------------------------------------------ the node ---

def node(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    prefix = prefix_bytes()
    P, R = len(prefix), len(REQ)
    host, port = a.listen.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1024)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)
    conns = {}  # fd -> [sock, handshaking, prefix left, inbuf, outbuf]
    stats = {"connections": 0, "answered": 0, "refused": 0, "tls_errors": 0}
    tls_seen = set()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    def close(fd):
        c = conns.pop(fd, None)
        if c:
            try:
                ep.unregister(fd)
            except OSError:
                pass
            c[0].close()

    def refuse(fd, why):
        stats["refused"] += 1
        if stats["refused"] <= 5:
            print("node: refused a connection: %s" % why, file=sys.stderr, flush=True)
        close(fd)

    def flush(fd, c):
        out = c[4]
        while out:
            try:
                n = c[0].send(out)
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                ep.modify(fd, select.EPOLLIN | select.EPOLLOUT)
                return
            del out[:n]
        ep.modify(fd, select.EPOLLIN)

    def readable(fd, c):
        s = c[0]
        while True:
            try:
                d = s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                break
            except (ssl.SSLError, OSError):
                close(fd)
                return
            if not d:
                close(fd)
                return
            c[3] += d
            if not s.pending():
                break
        buf = c[3]
        k = 0
        if c[2]:
            if len(buf) < P:
                if buf != prefix[:len(buf)]:
                    refuse(fd, "the preamble and authorizeConnection differ from the client's")
                return
            if buf[:P] != prefix:
                refuse(fd, "the preamble and authorizeConnection differ from the client's")
                return
            c[2] = False
            k = P
        n = 0
        while len(buf) - k >= R:
            if buf[k:k + R] != REQ:
                refuse(fd, "a request that is not the benchmark's GetItem: %s" % bytes(buf[k:k + 32]).hex())
                return
            k += R
            n += 1
        if k:
            del buf[:k]
        if buf and buf != REQ[:len(buf)]:
            refuse(fd, "a request that is not the benchmark's GetItem: %s" % bytes(buf[:32]).hex())
            return
        if n:
            stats["answered"] += n
            c[4] += ANS * n
            flush(fd, c)

    while not stop:
        try:
            events = ep.poll(1.0)
        except InterruptedError:
            continue
        for fd, ev in events:
            if fd == ls.fileno():
                for _ in range(64):
                    try:
                        s, _peer = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    s.setblocking(False)
                    ts = ctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False)
                    conns[ts.fileno()] = [ts, True, True, bytearray(), bytearray()]
                    ep.register(ts.fileno(), select.EPOLLIN)
                    stats["connections"] += 1
                continue
            c = conns.get(fd)
            if c is None:
                continue
            if c[1]:
                try:
                    c[0].do_handshake()
                except ssl.SSLWantReadError:
                    ep.modify(fd, select.EPOLLIN)
                    continue
                except ssl.SSLWantWriteError:
                    ep.modify(fd, select.EPOLLIN | select.EPOLLOUT)
                    continue
                except (ssl.SSLError, OSError):
                    stats["tls_errors"] += 1
                    close(fd)
                    continue
                c[1] = False
                tls_seen.add("%s %s" % (c[0].version(), c[0].cipher()[0]))
                ep.modify(fd, select.EPOLLIN)
            if ev & select.EPOLLOUT and c[4]:
                flush(fd, c)
            if ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR) and fd in conns:
                readable(fd, c)
    stats["tls"] = sorted(tls_seen)
    print(json.dumps(stats), flush=True)


# ------------------------------------------------------------- clients ---

def client_ctx(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    return ctx


def connect(addr, name, ctx, timeout=10):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(s, server_hostname=name)


def cpu_ticks(pids):
    t = 0
    for p in pids:
        with open("/proc/%s/stat" % p) as f:
            f = f.read()
        fields = f[f.rindex(")") + 2:].split()
        t += int(fields[11]) + int(fields[12])
    return t


def core_times(cores):
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            w = line.split()
            if w[0][:3] == "cpu" and w[0][3:] in cores:
                v = [int(x) for x in w[1:]]
                out[w[0][3:]] = (sum(v) - v[3] - v[4], sum(v))
    return out


def snapshot(groups, cores):
    return (time.perf_counter(), {g: cpu_ticks(p) for g, p in groups.items()},
            cpu_ticks([os.getpid()]), core_times(cores))


def load(a):
    groups = {}
    for spec in a.cpu or []:
        g, pids = spec.split("=", 1)
        groups[g] = [p for p in pids.split(",") if p]
    cores = [c for c in (a.cores or "").split(",") if c]
    ctx = client_ctx(a.ca)
    prefix = prefix_bytes()
    A = len(ANS)
    socks = [connect(a.connect, a.name, ctx) for _ in range(a.conns)]
    ep = select.epoll()
    st = {}  # fd -> [sock, inbuf, sent at (ns)]
    for s in socks:
        s.setblocking(False)
        st[s.fileno()] = [s, bytearray(), 0]
        ep.register(s.fileno(), select.EPOLLIN)
    now = time.perf_counter_ns
    t_start = time.perf_counter()
    w_start, w_end = t_start + a.warmup, t_start + a.warmup + a.duration
    measuring = False
    done_window = False
    answered = 0
    lat = []
    errors = []
    for c in st.values():
        c[2] = now()
        c[0].sendall(prefix + REQ)
    snap0 = snap1 = None
    while True:
        t = time.perf_counter()
        if not measuring and t >= w_start:
            snap0 = snapshot(groups, cores)
            measuring = True
        if t >= w_end:
            snap1 = snapshot(groups, cores)
            done_window = True
            break
        if errors:
            break
        for fd, ev in ep.poll(0.05):
            c = st[fd]
            s = c[0]
            try:
                d = s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            except (ssl.SSLError, OSError) as e:
                errors.append("recv: %r" % e)
                break
            if not d:
                errors.append("the target closed a connection")
                break
            buf = c[1]
            buf += d
            while s.pending():
                buf += s.recv(65536)
            if len(buf) < A:
                continue
            if len(buf) != A or buf != ANS:
                errors.append("an answer that is not the node's: %s" % bytes(buf[:48]).hex())
                break
            del buf[:]
            t1 = now()
            if measuring:
                answered += 1
                lat.append(t1 - c[2])
            c[2] = t1
            try:
                s.send(REQ)  # 1 record, far below any socket buffer
            except (ssl.SSLError, OSError) as e:
                errors.append("send: %r" % e)
                break
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    res = {"target": a.connect, "conns": a.conns, "errors": errors[:3]}
    if done_window and snap0 and not errors:
        wall = snap1[0] - snap0[0]
        hz = os.sysconf("SC_CLK_TCK")
        lat.sort()
        pct = lambda p: lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] / 1e6 if lat else None
        res.update({
            "wall_s": round(wall, 4), "answers": answered, "rps": answered / wall,
            "mean_ms": (sum(lat) / len(lat) / 1e6) if lat else None,
            "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": (lat[-1] / 1e6) if lat else None,
            "cpu_us_per_req": {g: ((snap1[1][g] - snap0[1][g]) / hz / answered * 1e6 if answered else None)
                               for g in groups},
            "cpu_share": {g: (snap1[1][g] - snap0[1][g]) / hz / wall for g in groups},
            "client_cpu_share": (snap1[2] - snap0[2]) / hz / wall,
            "core_busy": {c: ((snap1[3][c][0] - snap0[3][c][0]) / max(1, snap1[3][c][1] - snap0[3][c][1]))
                          for c in cores},
        })
    print(json.dumps(res), flush=True)
    return 0 if res.get("answers") and not errors else 1


def read_items(s, buf, n, deadline):
    items = []
    pos = 0
    while len(items) < n:
        try:
            x, p2 = decode(buf, pos)
            items.append(x)
            pos = p2
            continue
        except NeedMore:
            pass
        s.settimeout(max(0.05, deadline - time.time()))
        d = s.recv(65536)
        if not d:
            raise SystemExit("the target closed the connection")
        buf += d
    del buf[:pos]
    return items


def check(a):
    ctx = client_ctx(a.ca)
    s = connect(a.connect, a.name, ctx)
    deadline = time.time() + 10
    s.sendall(prefix_bytes() + REQ)
    got = bytearray()
    while len(got) < len(ANS):
        s.settimeout(max(0.05, deadline - time.time()))
        d = s.recv(65536)
        if not d:
            raise SystemExit("the target closed the connection before the GetItem's answer")
        got += d
    if bytes(got) != ANS:
        raise SystemExit("the GetItem's answer differs from the node's: %s" % got.hex())
    msgs = []
    if a.expect_deny:
        for req, what in ((get_item("Payroll"), "GetItem on Payroll"), (delete_item("AuditLog"), "DeleteItem on AuditLog")):
            s.sendall(req)
            buf = bytearray()
            codes, msg, info = read_items(s, buf, 3, deadline)
            if codes != [4, 37, 38, 39, 42] or not isinstance(info, list) or info[1:3] != ["AccessDeniedException", 400]:
                raise SystemExit("%s: not an AccessDeniedException frame: %r %r %r" % (what, codes, msg, info))
            if buf:
                raise SystemExit("%s: bytes after the error frame" % what)
            msgs.append(msg)
        s.sendall(REQ)
        got = bytearray()
        while len(got) < len(ANS):
            s.settimeout(max(0.05, deadline - time.time()))
            d = s.recv(65536)
            if not d:
                raise SystemExit("the connection ended after the denials")
            got += d
        if bytes(got) != ANS:
            raise SystemExit("the GetItem after the denials: %s" % got.hex())
    cipher = "%s %s" % (s.version(), s.cipher()[0])
    s.close()
    print(json.dumps({"ok": True, "tls": cipher, "request_bytes": len(REQ), "answer_bytes": len(ANS),
                      "prefix_bytes": len(prefix_bytes()), "denials": msgs}))
    return 0


def main():
    ap = argparse.ArgumentParser(description="DAX node and load generator of bench/dax.sh")
    sub = ap.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("node")
    n.add_argument("--listen", required=True)
    n.add_argument("--cert", required=True)
    n.add_argument("--key", required=True)
    for name in ("load", "check"):
        p = sub.add_parser(name)
        p.add_argument("--connect", required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--ca", required=True)
        if name == "load":
            p.add_argument("--conns", type=int, default=32)
            p.add_argument("--warmup", type=float, default=1)
            p.add_argument("--duration", type=float, default=8)
            p.add_argument("--cpu", action="append")
            p.add_argument("--cores")
        else:
            p.add_argument("--expect-deny", action="store_true")
    a = ap.parse_args()
    if a.cmd == "node":
        return node(a)
    if a.cmd == "load":
        if not (1 <= a.conns <= 4096 and 0 < a.duration <= 600 and 0 <= a.warmup <= 60):
            ap.error("--conns 1..4096, --duration up to 600 s, --warmup up to 60 s")
        return load(a)
    return check(a)


if __name__ == "__main__":
    sys.exit(main() or 0)
