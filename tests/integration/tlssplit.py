#!/usr/bin/python3
"""tlssplit.py — a TLS client that sends its first bytes in pieces.

Usage: tlssplit.py --connect ADDR:PORT [--proxy-connect HOST:PORT [--proxy-version 1.0|1.1]]
                   [--connect-split N] --sni NAME --cafile CA
                   [--split N] [--pause S] [--stall] [--request FILE] [--timeout S]

Opens one TCP connection.  With --proxy-connect it first sends
"CONNECT HOST:PORT HTTP/1.x" (with --connect-split N: its first N bytes, a
pause, the rest) and reads the proxy's answer; then starts TLS (SNI NAME,
chain and name verified against CA) driven through memory BIOs, so the
first flight (the ClientHello) can be cut: its first --split N bytes are
sent, then --pause S seconds pass, then the rest.  With --stall only those
N bytes are sent and the client waits (up to --timeout) for the server to
close the connection.  --request FILE is then sent over TLS and one
response (Content-Length framed) read.

Prints JSON lines: {"phase": "proxy", "status_line": ...},
{"phase": "tls", "version": ..., "san": [...]}, {"phase": "request",
"status": N, "headers": {...}, "body": "..."}, or for --stall
{"phase": "stall", "end": "eof"|"reset"|"timeout", "seconds": T,
"received": N}.  Exit 0 when every phase asked for completed.
"""
import argparse
import json
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--proxy-connect")
    ap.add_argument("--proxy-version", default="1.1")
    ap.add_argument("--connect-split", type=int, default=0)
    ap.add_argument("--sni", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--split", type=int, default=0)
    ap.add_argument("--pause", type=float, default=0.3)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--request")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=a.timeout)

    if a.proxy_connect:
        req = ("CONNECT %s HTTP/%s\r\nHost: %s\r\n\r\n" % (a.proxy_connect, a.proxy_version,
                                                         a.proxy_connect)).encode()
        if a.connect_split:
            sock.sendall(req[:a.connect_split])
            time.sleep(a.pause)
            sock.sendall(req[a.connect_split:])
        else:
            sock.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        print(json.dumps({"phase": "proxy", "status_line": line}), flush=True)
        if not line.startswith("HTTP/1.1 200 "):
            return 3

    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=a.sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    if a.split:
        sock.sendall(hello[:a.split])
        if a.stall:
            t0 = time.monotonic()
            n = 0
            end = "eof"
            while True:
                try:
                    chunk = sock.recv(4096)
                except socket.timeout:
                    end = "timeout"
                    break
                except ConnectionResetError:
                    end = "reset"
                    break
                if not chunk:
                    break
                n += len(chunk)
            print(json.dumps({"phase": "stall", "end": end, "seconds": round(time.monotonic() - t0, 3),
                              "received": n}), flush=True)
            return 0
        time.sleep(a.pause)
        sock.sendall(hello[a.split:])
    else:
        sock.sendall(hello)

    def pump():
        data = out.read()
        if data:
            sock.sendall(data)

    while True:
        try:
            tls.do_handshake()
            pump()
            break
        except ssl.SSLWantReadError:
            pump()
            chunk = sock.recv(65536)
            if not chunk:
                print(json.dumps({"phase": "tls", "error": "connection closed during the handshake"}), flush=True)
                return 3
            inc.write(chunk)
    cert = tls.getpeercert()
    print(json.dumps({"phase": "tls", "version": tls.version(),
                      "san": [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]}), flush=True)
    if not a.request:
        return 0
    tls.write(open(a.request, "rb").read())
    pump()
    buf = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:
                break
            buf += chunk
        except ssl.SSLWantReadError:
            pump()
            data = sock.recv(65536)
            if not data:
                break
            inc.write(data)
            continue
        if b"\r\n\r\n" in buf:
            head, body = buf.split(b"\r\n\r\n", 1)
            hdrs = {}
            for l in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in l:
                    k, v = l.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
            if len(body) >= int(hdrs.get("content-length", "0")):
                print(json.dumps({"phase": "request", "status": int(head.split(b" ")[1]), "headers": hdrs,
                                  "body": body.decode("utf-8", "replace")}), flush=True)
                return 0
    print(json.dumps({"phase": "request", "error": "no complete response", "got": buf.decode("latin-1")[:300]}),
          flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
