#!/usr/bin/python3
"""dax_fakenode.py - a scriptable plain-TCP DAX node for the relay edge cases
(case 151): frames requests with daxnode.py's decoder, logs each executed
frame (method, table, access key id; never item data) as JSON lines to --log.
--batchget-real: answer BatchGetItem as a DAX node does: 80, an array of two
  maps, then the consumed-capacity array as a top-level item of its own.
--delay-get S: wait S seconds before answering each GetItem.
--endpoints HEX: the raw endpoints answer, else one node per --listen.
A GetItem on table "closer" is answered, then the node closes the
connection (the answer and the FIN leave together).
"""
import sys, socket, threading, json, time, argparse
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import daxnode as dn

ARGS = {1489122155: 5, 455855874: 0, -742646399: 1, -1230579644: 1, 670678385: 1,
        263244906: 3, -2106490455: 4, 1425579023: 3, 1013539361: 3, -931250863: 3,
        -1875390620: 2, -697851100: 2, 116217951: 2, 1866287579: 4, -1160037738: 9}
NAMES = {v: k for k, v in dn.METHOD_NAMES.items()}

ap = argparse.ArgumentParser()
ap.add_argument("--listen", action="append", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--batchget-real", action="store_true")
ap.add_argument("--endpoints")
ap.add_argument("--delay-get", type=float, default=0)
ap.add_argument("--big-answer", type=int, default=0)
a = ap.parse_args()
lock = threading.Lock()
logf = open(a.log, "a", buffering=1)

def log(**kw):
    with lock:
        logf.write(json.dumps(kw) + "\n")

def nodes_answer():
    if a.endpoints:
        return bytes.fromhex(a.endpoints)
    eps = []
    for i, l in enumerate(a.listen):
        h, p = l.rsplit(":", 1)
        eps.append({0: i + 1, 1: "node%d.test" % (i + 1), 2: socket.inet_aton(h), 3: int(p), 4: 1 if i == 0 else 2, 5: "us-east-1a", 6: 1})
    return b"\x80" + dn.enc(eps)

def answer(method, args):
    if method == 455855874:
        return nodes_answer()
    if method == -697851100:
        if a.batchget_real:
            return b"\x80\x82\xa0\xa0\x80"
        return b"\x80\x82\xa0\xa0"
    if method == 116217951:
        return b"\x80\xa0\x80\xa0"
    if method == 263244906:
        if a.delay_get:
            time.sleep(a.delay_get)
        if a.big_answer:
            return b"\x80\xa1\x00" + dn.enc(b"x" * a.big_answer)
        return b"\x80\xf6"
    if method == -742646399:
        return b"\x80\xa1" + dn.enc("pk") + dn.enc("S")
    if method == -1230579644:
        return b"\x80\x02"
    if method == 670678385:
        return b"\x80\x80"
    return b"\x80\xf6"

def serve(conn, peer, laddr):
    buf = b""
    started = False
    r = None
    def items(n):
        nonlocal buf
        rd = dn.Reader(buf)
        out = []
        for _ in range(n):
            out.append(rd.item())
        return out, rd.pos
    try:
        while True:
            # try to frame
            progressed = True
            while progressed:
                progressed = False
                try:
                    if not started:
                        its, pos = items(5)
                        started = True
                        buf = buf[pos:]
                        log(ev="preamble", node=laddr, peer=peer)
                        progressed = True
                        continue
                    hdr, pos = items(2)
                    m = hdr[1]
                    if m not in ARGS:
                        log(ev="unknown", node=laddr, method=m)
                        conn.close(); return
                    its, pos = items(2 + ARGS[m])
                    buf = buf[pos:]
                    args = its[2:]
                    tbl = None
                    if args and isinstance(args[0], bytes):
                        tbl = args[0].decode("latin1")
                    elif args and isinstance(args[0], dn.CMap):
                        tbl = [k for k, v in args[0].pairs]
                    elif m in (1866287579,):
                        tbl = [x.decode("latin1") for x in args[0]]
                    elif m == -1160037738:
                        tbl = [x.decode("latin1") for x in args[1]]
                    ak = args[0] if m == 1489122155 else None
                    log(ev="frame", node=laddr, peer=peer, method=dn.METHOD_NAMES.get(m, m), table=tbl, ak=ak)
                    if m != 1489122155:
                        conn.sendall(answer(m, args))
                    if m == 263244906 and tbl == "closer":
                        log(ev="close-after-answer", node=laddr, peer=peer)
                        conn.shutdown(socket.SHUT_WR)
                        conn.close(); return
                    progressed = True
                except dn.NeedMore:
                    pass
            d = conn.recv(65536)
            if not d:
                log(ev="eof", node=laddr, peer=peer, leftover=buf.hex()[:200])
                conn.close(); return
            buf += d
    except Exception as e:
        log(ev="error", node=laddr, err=repr(e))
        conn.close()

def listener(l):
    h, p = l.rsplit(":", 1)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((h, int(p))); s.listen(64)
    while True:
        c, peer = s.accept()
        threading.Thread(target=serve, args=(c, "%s:%d" % peer, l), daemon=True).start()

for l in a.listen:
    threading.Thread(target=listener, args=(l,), daemon=True).start()
log(ev="start")
while True:
    time.sleep(3600)
