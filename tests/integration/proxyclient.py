#!/usr/bin/python3
"""proxyclient.py — exact-bytes client for ddbgate's connect listeners.

  proxyclient.py --connect ADDR:PORT [--bind IP] --in FILE [--save-dir D]
                 [--timeout S] [--tls --sni NAME|--no-sni --cafile CA
                  --request FILE]

Opens one TCP connection (from source address --bind when given), sends the
whole of FILE in one write (a CONNECT request, or anything else), reads the
proxy's response head and its Content-Length body, and prints one JSON line:
  {"phase": "proxy", "status": 403, "headers": [[name, value], ...], "body": "..."}
(D/resp.headers and D/resp.body get the head and the body, as lib.sh's
helpers read them).  Without --tls it then reads on until the connection
ends and prints
  {"end": E, "seconds": T, "extra_bytes": N}
E: "eof" (the proxy closed: FIN), "reset", "timeout" (still open after
--timeout seconds).  When nothing at all came back, the first line is
{"phase": "proxy", "status": null, "end": E, ...} (e.g. a connection closed at
accept).

--tunnel-send FILE (after a 200): send FILE's bytes through the tunnel in
one write, read until the connection ends, print
  {"phase": "tunnel", "sent": N, "received": M, "end": E}
(--tunnel-out F saves the bytes received).

--tls (after a 200): start TLS on the same connection, with SNI NAME or none
(--no-sni), verifying the chain against CA (the host name is not checked
here: the served certificate's names are printed instead), print
  {"phase": "tls", "version": ..., "san": [...], "sha256": ...}
then send the bytes of --request FILE and read one response:
  {"phase": "request", "status": 421, ...}  (D/resp.headers, D/resp.body)
Exit status: 0 when every phase asked for completed, 3 otherwise.
"""
import argparse
import hashlib
import json
import socket
import ssl
import sys
import time


def read_response(sock, timeout):
    """One HTTP/1.1 response framed by Content-Length: (head, body, rest) or
    (partial, None, None) when the connection ended first."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            chunk = b""
        if not chunk:
            return buf, None, None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    head += b"\r\n\r\n"
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1].strip())
    while len(rest) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            chunk = b""
        if not chunk:
            break
        rest += chunk
    return head, rest[:length], rest[length:]


def describe(phase, head, body):
    if body is None:
        return {"phase": phase, "status": None, "partial": head.decode("latin-1")}
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if len(lines[0].split(" ")) > 1 else None
    headers = [l.split(":", 1) for l in lines[1:] if ":" in l]
    headers = [[n, v.strip()] for n, v in headers]
    return {"phase": phase, "status": status, "status_line": lines[0], "headers": headers,
            "body": body.decode("utf-8", "replace")}


def save(d, head, body):
    if d:
        with open(d + "/resp.headers", "wb") as f:
            f.write(head)
        with open(d + "/resp.body", "wb") as f:
            f.write(body or b"")


def until_end(sock, timeout, extra):
    t0 = time.monotonic()
    n = len(extra)
    sock.settimeout(timeout)
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return "timeout", time.monotonic() - t0, n
        except ConnectionResetError:
            return "reset", time.monotonic() - t0, n
        if not chunk:
            return "eof", time.monotonic() - t0, n
        n += len(chunk)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--bind")
    ap.add_argument("--in", dest="infile", required=True)
    ap.add_argument("--save-dir")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--sni")
    ap.add_argument("--no-sni", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--request")
    ap.add_argument("--tunnel-send")
    ap.add_argument("--tunnel-out")
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    data = open(a.infile, "rb").read()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.bind:
        sock.bind((a.bind, 0))
    sock.settimeout(a.timeout)
    sock.connect((host, int(port)))
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError) as e:
        print(json.dumps({"phase": "proxy", "status": None, "send_error": str(e)}), flush=True)
    head, body, rest = read_response(sock, a.timeout)
    out = describe("proxy", head, body)
    if body is None:
        end, secs, n = until_end(sock, a.timeout, head)
        out.update({"end": end, "seconds": round(secs, 3), "extra_bytes": n})
        print(json.dumps(out), flush=True)
        return 3
    save(a.save_dir, head, body)
    print(json.dumps(out), flush=True)
    if a.tunnel_send:
        if out["status"] != 200:
            return 3
        payload = open(a.tunnel_send, "rb").read()
        sock.sendall(payload)
        got = rest
        sock.settimeout(a.timeout)
        end = "eof"
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                end = "timeout"
                break
            except ConnectionResetError:
                end = "reset"
                break
            if not chunk:
                break
            got += chunk
        if a.tunnel_out:
            with open(a.tunnel_out, "wb") as f:
                f.write(got)
        print(json.dumps({"phase": "tunnel", "sent": len(payload), "received": len(got), "end": end}), flush=True)
        return 0 if end == "eof" else 3
    if not a.tls:
        end, secs, n = until_end(sock, a.timeout, rest)
        print(json.dumps({"end": end, "seconds": round(secs, 3), "extra_bytes": n}), flush=True)
        return 0
    if out["status"] != 200:
        return 3
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["http/1.1"])
    tls = ctx.wrap_socket(sock, server_hostname=None if a.no_sni else a.sni)
    cert = tls.getpeercert()
    der = tls.getpeercert(binary_form=True)
    print(json.dumps({"phase": "tls", "version": tls.version(),
                      "san": [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"],
                      "sha256": hashlib.sha256(der).hexdigest()}), flush=True)
    if not a.request:
        return 0
    tls.sendall(open(a.request, "rb").read())
    head, body, _ = read_response(tls, a.timeout)
    out = describe("request", head, body)
    print(json.dumps(out), flush=True)
    if body is None:
        return 3
    save(a.save_dir, head, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
