#!/usr/bin/python3
"""rawclient.py — exact-bytes HTTP/1.1-over-TLS client for the ddbgate tests.

  rawclient.py build --host H --target T [--body JSON] [--header 'Name: value']...
                     [--raw-header 'name:  value as is '] [--lower-names]
                     [--unsigned-header 'Name: value']
                     [--akid K --secret S --region R --service dynamodb]
                     [--date YYYYMMDDTHHMMSSZ]
      Print one SigV4-signed DynamoDB request (CRLF line ends) on stdout, exactly
      as it will be sent.  Header order and spelling are as written here, so the
      tests can check that ddbgate changes none of them.

  rawclient.py send --connect ADDR:PORT [--sni NAME] (--cafile CA | --insecure)
                    --in FILE [--responses N] [--timeout S] [--out FILE]
      Open one TLS connection, send the whole of FILE in a single write (several
      requests in it = pipelining), read N responses framed by Content-Length
      (or until the peer closes), print one JSON object per response:
      {"status": 200, "headers": [[name, value], ...], "body": "..."}.
      --out saves the raw bytes received; --save-dir D writes response i as
      D/resp.i.headers and D/resp.i.body.  Exit 0 when N responses were read,
      3 when fewer (the JSON lines printed still describe what came).  Each
      response line says "complete": false when its body is shorter than its
      Content-Length.
      --in may be repeated: each file is then one request, sent on the same
      connection after the previous one's response was read and --pause S
      seconds passed (--responses is then the number of files).
      --until-close: after the responses, read until the connection ends and
      print {"end": E, "seconds": T, "extra_bytes": N}, E being how it ended:
      "close_notify" (a clean TLS close), "eof_without_close_notify" (TCP FIN
      with no TLS close_notify: a cut the client cannot tell from the end),
      "reset" (TCP RST under TLS: Python reports SSLEOFError or
      ConnectionResetError), "timeout" (still open at --timeout) or "error: ...";
      T counts from the last response read.
      --stagger S: with several --in files, send each S seconds after the
      previous one without waiting for responses (pipelining spread over
      time: the later requests arrive while the first is in flight), then
      read all the responses.
      --half-close: right after sending (one --in file), shut the TCP
      connection down for writing (a FIN, no TLS close_notify) and go on
      reading the responses.
      --read-delay S: wait S seconds after sending before reading (a client
      that reads late: the response piles up in the proxy).
      --trickle S: after the responses, write one byte every S seconds without
      reading, until a write fails (the peer closed the connection) or
      --timeout; prints {"end": ..., "seconds": T, "trickled": N}.

  rawclient.py burst --connect ADDR:PORT --sni NAME --cafile CA --in FILE...
                     [--split N] [--responses N] [--timeout S]
      One TLS connection on which everything is sent with ONE send(2): the
      handshake's last flight (the client Finished) and then each --in file
      as TLS records of its own (--split N: each file as two records, cut
      after N bytes), so the server reads several records with one read.
      Then N responses (default: one per file) are read and printed as by
      `send`.  Exit 0 when all came, 3 when fewer.

  rawclient.py curltrace TRACEFILE
      Print the application bytes curl sent ("=> Send header" and "=> Send
      data" blocks of `curl --trace`, not the TLS records), in order: the
      exact request bytes to compare with what the upstream received.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import socket
import ssl
import sys
import time


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign_request(method, host, path, headers, body, akid, secret, region, service, now=None):
    """Return the Authorization value (SigV4) for headers (list of (name, value))."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    canon = {}
    for name, value in headers:
        canon.setdefault(name.lower(), []).append(" ".join(value.split()))
    signed = sorted(canon)
    canonical_headers = "".join("%s:%s\n" % (n, ",".join(canon[n])) for n in signed)
    creq = "\n".join([method, path, "", canonical_headers, ";".join(signed),
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), day)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        akid, scope, ";".join(signed), sig)


def cmd_build(a):
    body = a.body.encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    if a.date:  # sign as of another time (X-Amz-Date and credential scope)
        now = datetime.datetime.strptime(a.date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    headers = [("Host", a.host),
               ("X-Amz-Date", now.strftime("%Y%m%dT%H%M%SZ")),
               ("X-Amz-Target", a.target),
               ("Content-Type", "application/x-amz-json-1.0")]
    for h in a.header:
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    if a.lower_names:
        headers = [(n.lower(), v) for n, v in headers]
    for line in a.raw_header:  # sent verbatim, signed with its value as SigV4 canonicalises it
        name, _, value = line.partition(":")
        headers.append((name, value))
    auth = sign_request("POST", a.host, "/", headers, body, a.akid, a.secret, a.region, a.service, now)
    lines = ["POST / HTTP/1.1"]
    raw_names = set(line.partition(":")[0] for line in a.raw_header)
    lines += ["%s:%s" % (n, v) if n in raw_names else "%s: %s" % (n, v) for n, v in headers]
    lines += a.unsigned_header  # sent verbatim after the signed ones, not signed
    lines.append(("authorization" if a.lower_names else "Authorization") + ": " + auth)
    lines.append(("content-length" if a.lower_names else "Content-Length") + ": %d" % len(body))
    sys.stdout.buffer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return 0


def read_response(sock, buf, deadline):
    """Read one response; return (response dict or None, remaining buffer, closed)."""
    closed = False
    while b"\r\n\r\n" not in buf:
        if time.time() > deadline:
            return None, buf, closed
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return None, buf, True
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    headers = []
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append([name, value.strip()])
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:  # read to close
        while time.time() < deadline:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                closed = True
                break
            rest += data
        length = len(rest)
    while len(rest) < length and time.time() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            closed = True
            break
        rest += data
    body, buf = rest[:length], rest[length:]
    return ({"status": status, "reason": parts[2] if len(parts) > 2 else "",
             "headers": headers, "body": body.decode("utf-8", "replace"),
             "complete": len(body) == length}, buf, closed)


def save_response(d, i, resp):
    """Write response i as d/resp.i.headers (status line + header lines) and d/resp.i.body."""
    with open("%s/resp.%d.headers" % (d, i), "w") as f:
        f.write("HTTP/1.1 %d %s\r\n" % (resp["status"], resp["reason"]))
        for name, value in resp["headers"]:
            f.write("%s: %s\r\n" % (name, value))
    with open("%s/resp.%d.body" % (d, i), "w") as f:
        f.write(resp["body"])


def end_of(exc):
    """How a connection ended, from the exception a read raised.

    With OpenSSL 3 a TCP FIN without close_notify is an SSLError with reason
    UNEXPECTED_EOF_WHILE_READING (when OP_IGNORE_UNEXPECTED_EOF is off), and
    a TCP reset under TLS surfaces as SSLEOFError ("EOF occurred in violation
    of protocol", SSL_ERROR_SYSCALL) or as ConnectionResetError."""
    if "UNEXPECTED_EOF_WHILE_READING" in str(exc):
        return "eof_without_close_notify"
    if isinstance(exc, (ConnectionResetError, ssl.SSLEOFError)):
        return "reset"
    return "error: %s: %s" % (type(exc).__name__, exc)


class Recording:
    """A socket wrapper that keeps every byte received (for --out).

    With classify set, a read that ends the connection returns b"" and
    records how it ended in self.end (see --until-close)."""

    def __init__(self, sock, classify=False):
        self.sock = sock
        self.raw = b""
        self.classify = classify
        self.end = None

    def recv(self, n):
        if self.end is not None:
            return b""
        try:
            data = self.sock.recv(n)
        except socket.timeout:
            raise
        except (ssl.SSLError, OSError) as e:
            if not self.classify:
                raise
            self.end = end_of(e)
            return b""
        if not data and self.classify:
            self.end = "close_notify"  # suppress_ragged_eofs=False: b"" only after close_notify
        self.raw += data
        return data


def read_until_close(sock, buf, timeout):
    """After the responses: read until the connection ends (or timeout)."""
    t0 = time.time()
    extra = len(buf)
    while sock.end is None and time.time() - t0 < timeout:
        try:
            extra += len(sock.recv(65536))
        except socket.timeout:
            continue
    return {"end": sock.end or "timeout", "seconds": round(time.time() - t0, 3), "extra_bytes": extra}


def trickle(tls, every, timeout):
    """After the responses: one byte every `every` seconds until a write fails."""
    t0 = time.time()
    n = 0
    end = "timeout"
    while time.time() - t0 < timeout:
        try:
            tls.sendall(b"x")
        except (ssl.SSLError, OSError) as e:
            end = "closed: %s: %s" % (type(e).__name__, e)
            break
        n += 1
        time.sleep(every)
    return {"end": end, "seconds": round(time.time() - t0, 3), "trickled": n}


def print_responses(sock, buf, got, want, deadline, save_dir):
    """Read responses got+1 .. want (fewer when the peer closes or time is up),
    print each as a JSON line (and save it under save_dir); return (got, buf,
    closed)."""
    closed = False
    while got < want:
        resp, buf, closed = read_response(sock, buf, deadline)
        if resp is None:
            break
        got += 1
        print(json.dumps(resp), flush=True)
        if save_dir:
            save_response(save_dir, got, resp)
        if closed:
            break
    return got, buf, closed


def cmd_send(a):
    inputs = [open(f, "rb").read() for f in a.infile]
    if len(inputs) > 1:
        a.responses = len(inputs)
    host, port = a.connect.rsplit(":", 1)
    if a.insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    if a.until_close:
        # Python may set OP_IGNORE_UNEXPECTED_EOF by default (Debian's 3.11
        # does): then a FIN without close_notify would read as a clean end.
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    raw = socket.create_connection((host, int(port)), timeout=a.timeout)
    # Only --until-close asks how the connection ended: then a TCP FIN without
    # a TLS close_notify must raise rather than look like a clean end.
    tls = ctx.wrap_socket(raw, server_hostname=a.sni, suppress_ragged_eofs=not a.until_close)
    tls.settimeout(0.5)
    sock = Recording(tls, classify=a.until_close)
    deadline = time.time() + a.timeout
    buf = b""
    got = 0
    try:
        if a.stagger is not None:
            for i, data in enumerate(inputs):
                if i > 0:
                    time.sleep(a.stagger)
                tls.sendall(data)
            inputs = [b""]  # the loop below sends nothing, reads them all
        for i, data in enumerate(inputs):
            if i > 0:
                time.sleep(a.pause)
            if data:
                tls.sendall(data)
            if a.half_close:
                # SSLSocket.shutdown() would end TLS for reading too
                socket.socket.shutdown(tls, socket.SHUT_WR)
            if a.read_delay:
                time.sleep(a.read_delay)
            want = a.responses if len(inputs) == 1 else got + 1
            got, buf, closed = print_responses(sock, buf, got, want, deadline, a.save_dir)
            if got < want or closed:
                break
        if a.until_close:
            print(json.dumps(read_until_close(sock, buf, a.timeout)), flush=True)
        elif a.trickle is not None:
            print(json.dumps(trickle(tls, a.trickle, a.timeout)), flush=True)
    except (ssl.SSLError, OSError) as e:
        print(json.dumps({"error": str(e)}), flush=True)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(sock.raw)
    try:
        tls.close()
    except OSError:
        pass
    return 0 if got == a.responses else 3


class MemoryBioSocket:
    """recv() over an SSLObject whose records go through raw by hand."""

    def __init__(self, raw, obj, inc):
        self.raw, self.obj, self.inc = raw, obj, inc
        self.raw_bytes = b""

    def recv(self, n):
        while True:
            try:
                data = self.obj.read(n)
                self.raw_bytes += data
                return data
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLWantReadError:
                data = self.raw.recv(65536)  # socket.timeout goes up
                if not data:
                    return b""
                self.inc.write(data)


def cmd_burst(a):
    inputs = [open(f, "rb").read() for f in a.infile]
    host, port = a.connect.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection((host, int(port)), timeout=a.timeout)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=a.sni)
    deadline = time.time() + a.timeout
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if out.pending:
                raw.sendall(out.read())
            data = raw.recv(65536)
            if not data:
                print(json.dumps({"error": "closed during the handshake"}), flush=True)
                return 3
            inc.write(data)
    # out now holds the client's last flight, not sent yet: the requests go
    # with it, each write a record of its own
    for data in inputs:
        if a.split and 0 < a.split < len(data):
            obj.write(data[:a.split])
            obj.write(data[a.split:])
        else:
            obj.write(data)
    raw.sendall(out.read())
    raw.settimeout(0.5)
    sock = MemoryBioSocket(raw, obj, inc)
    want = a.responses or len(inputs)
    got = 0
    try:
        got = print_responses(sock, b"", 0, want, deadline, a.save_dir)[0]
    except (ssl.SSLError, OSError) as e:
        print(json.dumps({"error": str(e)}), flush=True)
    raw.close()
    return 0 if got == want else 3


def cmd_curltrace(a):
    out = b""
    keep = False
    for line in open(a.trace, "r", encoding="latin-1"):
        if line.startswith("=> ") or line.startswith("<= ") or line.startswith("== "):
            keep = line.startswith("=> Send header") or line.startswith("=> Send data")
            continue
        if keep and len(line) > 6 and line[4] == ":":
            out += bytes(int(tok, 16) for tok in line[6:6 + 48].split())
    sys.stdout.buffer.write(out)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--host", required=True)
    b.add_argument("--target", required=True)
    b.add_argument("--body", default="{}")
    b.add_argument("--header", action="append", default=[])
    b.add_argument("--lower-names", action="store_true")
    b.add_argument("--unsigned-header", action="append", default=[],
                   help="a field line sent as it is and left out of the signature")
    b.add_argument("--raw-header", action="append", default=[],
                   help="a header line sent exactly as given (e.g. 'x-odd:  two  spaces ')")
    b.add_argument("--akid", default="AKIDDDBGATETEST00001")
    b.add_argument("--secret", default="ddbgate-test-secret-key-not-real-000000")
    b.add_argument("--region", default="us-east-1")
    b.add_argument("--service", default="dynamodb")
    b.add_argument("--date", help="X-Amz-Date to sign with (default: now), e.g. 20250101T000000Z")
    s = sub.add_parser("send")
    s.add_argument("--connect", required=True)
    s.add_argument("--sni")
    s.add_argument("--cafile")
    s.add_argument("--insecure", action="store_true")
    s.add_argument("--in", dest="infile", action="append", required=True)
    s.add_argument("--responses", type=int, default=1)
    s.add_argument("--pause", type=float, default=0.0)
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument("--until-close", action="store_true")
    s.add_argument("--trickle", type=float)
    s.add_argument("--half-close", action="store_true")
    s.add_argument("--read-delay", type=float, default=0.0)
    s.add_argument("--stagger", type=float)
    s.add_argument("--out")
    s.add_argument("--save-dir")
    c = sub.add_parser("curltrace")
    c.add_argument("trace")
    u = sub.add_parser("burst")
    u.add_argument("--connect", required=True)
    u.add_argument("--sni", required=True)
    u.add_argument("--cafile", required=True)
    u.add_argument("--in", dest="infile", action="append", required=True)
    u.add_argument("--split", type=int, default=0)
    u.add_argument("--responses", type=int, default=0)
    u.add_argument("--timeout", type=float, default=10.0)
    u.add_argument("--save-dir")
    a = ap.parse_args()
    return {"build": cmd_build, "send": cmd_send, "burst": cmd_burst,
            "curltrace": cmd_curltrace}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
