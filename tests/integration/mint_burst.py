#!/usr/bin/python3
"""mint_burst.py — N first TLS handshakes for one name through a connect proxy, at once.

Usage: mint_burst.py --proxy IP:PORT --name NAME --cafile CA [-n 20] [--timeout S]

Opens N connections to the proxy and sends each "CONNECT NAME:443"; once
every one has its "200 Connection established", releases all N threads
together (a barrier), so the N ClientHellos (SNI NAME) reach the gateway
within a millisecond or so.  Each verifies the served chain against CA and
the name (check_hostname).  Prints one JSON line per connection:
  {"i": 3, "sha256": "...", "serial": ..., "ok": true}
and exits 0 when all N handshakes verified, 1 otherwise.
"""
import argparse
import hashlib
import json
import socket
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    host, port = a.proxy.rsplit(":", 1)
    socks = []
    for _ in range(a.n):
        s = socket.create_connection((host, int(port)), timeout=a.timeout)
        s.sendall(("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (a.name, a.name)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        if not buf.startswith(b"HTTP/1.1 200 "):
            print(json.dumps({"connect_answer": buf.decode("latin-1")}))
            return 1
        socks.append(s)
    ctx = ssl.create_default_context(cafile=a.cafile)
    barrier = threading.Barrier(a.n)
    results = [None] * a.n

    def one(i):
        try:
            barrier.wait(timeout=a.timeout)
            t = ctx.wrap_socket(socks[i], server_hostname=a.name)
            der = t.getpeercert(binary_form=True)
            results[i] = {"i": i, "sha256": hashlib.sha256(der).hexdigest(),
                          "serial": t.getpeercert().get("serialNumber"), "ok": True}
            t.close()
        except Exception as e:  # noqa: BLE001 — reported
            results[i] = {"i": i, "ok": False, "error": repr(e)}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        print(json.dumps(r))
    return 0 if all(r and r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
