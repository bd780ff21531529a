#!/usr/bin/python3
"""dnstool.py — the two DNS helpers of the ddbgate tests (stdlib only).

  dnstool.py query SERVER:PORT NAME [TYPE]
      One UDP query (TYPE A by default, or AAAA).  Prints "NOERROR 127.0.0.21"
      (one address per line), "NOERROR" alone for no data, or the rcode name
      ("NXDOMAIN", "SERVFAIL", "REFUSED"); "TIMEOUT" after 2 s.  Used to prove
      that dnsmasq answers what the cases rely on, before ddbgate is involved.

  dnstool.py blackhole ADDR:PORT LOGFILE
      A resolver that never answers: binds UDP and TCP on ADDR:PORT, reads
      every query and drops it, logging one line per query.  Gives ddbgate a
      genuine DNS timeout (a port with nothing bound would give ICMP "port
      unreachable", which c-ares reports as a refusal, not a timeout).
"""
import random
import select
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPES = {"A": 1, "AAAA": 28}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def query(server, name, qtype="A"):
    host, port = server.rsplit(":", 1)
    qid = random.randint(0, 0xFFFF)
    pkt = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", TYPES[qtype], 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.sendto(pkt, (host, int(port)))
    try:
        msg, _ = s.recvfrom(4096)
    except socket.timeout:
        print("TIMEOUT")
        return 1
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    if rid != qid:
        print("BADID")
        return 1
    rcode = RCODES.get(flags & 0xF, str(flags & 0xF))
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        off += rdlen
        if rtype == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, rdata))
    print(" ".join([rcode] + addrs))
    return 0


def blackhole(addr, logfile):
    host, port = addr.rsplit(":", 1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, int(port)))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, int(port)))
    t.listen(16)
    held = []
    log = open(logfile, "a", buffering=1)
    print("blackhole listening on %s" % addr, flush=True)
    while True:
        r, _, _ = select.select([u, t] + held, [], [], 5.0)
        for s in r:
            if s is u:
                data, peer = u.recvfrom(4096)
                log.write("%.3f udp query from %s:%d (%d bytes), dropped\n" % (time.time(), peer[0], peer[1], len(data)))
            elif s is t:
                c, peer = t.accept()
                held.append(c)
                log.write("%.3f tcp connection from %s:%d, held open\n" % (time.time(), peer[0], peer[1]))
            else:
                if not s.recv(4096):
                    held.remove(s)
                    s.close()


def main(argv):
    if len(argv) >= 3 and argv[1] == "query":
        return query(argv[2], argv[3], argv[4] if len(argv) > 4 else "A")
    if len(argv) == 4 and argv[1] == "blackhole":
        blackhole(argv[2], argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
