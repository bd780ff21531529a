#!/usr/bin/python3
"""recorder.py — a TLS upstream that records every byte it receives.

Usage: recorder.py --listen ADDR:PORT --cert CHAIN.pem --key KEY.pem --dir DIR [--name NAME]
                   [--truncate-body N] [--close-after-ms MS]

For each accepted connection N (counting from 1) it writes:
  DIR/conn-NNNN.in    every application byte received, exactly as received
  DIR/conn-NNNN.out   every byte it sent back
  DIR/events.log      one line per event: accept, sni, handshake ok/failed, request, close

Each HTTP/1.1 request (framed by Content-Length; no body without it) is
answered with a fixed DynamoDB-like 200 response carrying Content-Length and
x-amzn-RequestId "rec-<NAME>-<conn>-<request>", so a client can tell the
responses of pipelined requests apart.  A request that uses Transfer-Encoding
is recorded, answered 400 and the connection closed (ddbgate must never send
one).  The TLS handshake is done in the connection's thread, so a handshake
failure (a client that rejects our certificate) is logged with OpenSSL's
reason and leaves an empty .in file: that is how the bad-certificate cases
prove that zero application bytes reached the upstream.

Misbehaving upstreams (both off by default; the behaviour above is unchanged):
  --truncate-body N   each response announces a body of TRUNCATED_LENGTH
                      (1000) bytes (Content-Length) but only its first N bytes
                      are sent; then the connection is closed (TCP close, no
                      TLS close_notify): a response cut in the middle of its body.
  --close-after-ms MS keep-alive as usual, but a connection on which no new
                      request starts within MS milliseconds after a response
                      is closed (TLS close_notify, then TCP close), like a
                      server's short idle timeout.
  --delay-ms MS       each response is sent MS milliseconds after its
                      request was read whole (a slow server: the request
                      stays in flight that long).
  --body-bytes N      each response carries a JSON body of N bytes
                      ({"TableNames":["recorded"],"pad":"ppp..."}).
  --close-after-response  after each response, close the connection (TCP
                      close, no close_notify) although the response did not
                      say Connection: close (a server going away).
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

BODY = b'{"TableNames":["recorded"]}'
TRUNCATED_LENGTH = 1000
# A 1000-byte JSON body; --truncate-body sends only its beginning.
LONG_BODY = b'{"TableNames":["recorded"],"pad":"' + b"p" * (TRUNCATED_LENGTH - 36) + b'"}'
assert len(LONG_BODY) == TRUNCATED_LENGTH


class Recorder:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.name = args.name
        self.lock = threading.Lock()
        self.count = 0
        os.makedirs(self.dir, exist_ok=True)
        self.events = open(os.path.join(self.dir, "events.log"), "a", buffering=1)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(args.cert, args.key)
        self.ctx.sni_callback = self.on_sni
        self.sni_by_conn = {}

    def event(self, conn, text):
        with self.lock:
            self.events.write("%.3f conn=%d %s\n" % (time.time(), conn, text))

    def on_sni(self, sslobj, server_name, ctx):
        conn = getattr(sslobj, "rec_conn", 0)
        self.event(conn, "sni=%s" % (server_name if server_name else "-"))
        return None

    def serve(self):
        host, port = self.args.listen.rsplit(":", 1)
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, int(port)))
        lsock.listen(64)
        print("recorder %s listening on %s" % (self.name, self.args.listen), flush=True)
        while True:
            raw, peer = lsock.accept()
            with self.lock:
                self.count += 1
                n = self.count
            t = threading.Thread(target=self.handle, args=(raw, peer, n), daemon=True)
            t.start()

    def handle(self, raw, peer, n):
        base = os.path.join(self.dir, "conn-%04d" % n)
        fin = open(base + ".in", "wb", buffering=0)
        fout = open(base + ".out", "wb", buffering=0)
        self.event(n, "accept peer=%s:%d" % peer)
        raw.settimeout(self.args.idle_timeout)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            tls.rec_conn = n  # read back by on_sni
        except Exception as e:  # noqa: BLE001 — logged, connection dropped
            self.event(n, "wrap failed: %s" % e)
            raw.close()
            return
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            self.event(n, "handshake failed: %s" % e)
            tls.close()
            fin.close()
            fout.close()
            return
        self.event(n, "handshake ok version=%s alpn=%s resumed=%d" % (
            tls.version(), tls.selected_alpn_protocol(), 1 if tls.session_reused else 0))
        try:
            self.relay(tls, n, fin, fout)
        except (ssl.SSLError, OSError) as e:
            self.event(n, "error: %s" % e)
        finally:
            fin.close()
            fout.close()
            try:
                tls.close()
            except OSError:
                pass
            self.event(n, "close")

    def relay(self, tls, n, fin, fout):
        buf = b""
        served = 0
        while True:
            while b"\r\n\r\n" not in buf:
                if served and not buf and self.args.close_after_ms is not None:
                    # Idle after a response: close if nothing comes in time.
                    tls.settimeout(self.args.close_after_ms / 1000.0)
                    try:
                        data = tls.recv(65536)
                    except socket.timeout:
                        self.idle_close(tls, n)
                        return
                    finally:
                        tls.settimeout(self.args.idle_timeout)
                else:
                    data = tls.recv(65536)
                if not data:
                    return
                fin.write(data)
                buf += data
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = 0
            chunked = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname == b"content-length":
                    length = int(value.strip())
                elif lname == b"transfer-encoding":
                    chunked = True
            if chunked:
                self.event(n, "request with Transfer-Encoding: answering 400, closing")
                self.send(tls, fout, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            while len(rest) < length:
                data = tls.recv(65536)
                if not data:
                    self.event(n, "eof inside body (%d of %d)" % (len(rest), length))
                    return
                fin.write(data)
                rest += data
            buf = rest[length:]
            served += 1
            self.event(n, "request %d: %s (%d body bytes)" % (served, lines[0].decode("latin-1"), length))
            if self.args.delay_ms is not None:
                time.sleep(self.args.delay_ms / 1000.0)
            rid = "rec-%s-%d-%d" % (self.name, n, served)
            body = LONG_BODY if self.args.truncate_body is not None else BODY
            if self.args.body_bytes is not None:
                body = b'{"TableNames":["recorded"],"pad":"' + b"p" * max(0, self.args.body_bytes - 36) + b'"}'
            resp = (b"HTTP/1.1 200 OK\r\n"
                    b"x-amzn-RequestId: " + rid.encode() + b"\r\n"
                    b"Content-Type: application/x-amz-json-1.0\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                    b"\r\n" + body)
            if self.args.truncate_body is not None:
                cut = len(resp) - len(body) + self.args.truncate_body
                self.send(tls, fout, resp[:cut])
                self.event(n, "response cut after %d of %d body bytes: closing without close_notify"
                           % (self.args.truncate_body, len(body)))
                return  # handle() closes the socket; SSLSocket.close() sends no close_notify
            self.send(tls, fout, resp)
            if self.args.close_after_response:
                self.event(n, "closing after the response (TCP close, no close_notify)")
                return  # handle() closes the socket; SSLSocket.close() sends no close_notify

    def idle_close(self, tls, n):
        """--close-after-ms: send close_notify (best effort, not waiting long
        for the peer's), then handle() closes the socket."""
        self.event(n, "idle for %d ms after a response: closing" % self.args.close_after_ms)
        tls.settimeout(0.2)
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass

    @staticmethod
    def send(tls, fout, data):
        fout.write(data)
        tls.sendall(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--name", default="rec")
    ap.add_argument("--idle-timeout", type=float, default=30.0)
    ap.add_argument("--truncate-body", type=int, metavar="N",
                    help="announce a 1000-byte body, send only N bytes of it, then close")
    ap.add_argument("--body-bytes", type=int, metavar="N",
                    help="answer with a JSON body of N bytes")
    ap.add_argument("--close-after-response", action="store_true",
                    help="close each connection after its first response")
    ap.add_argument("--delay-ms", type=int, metavar="MS",
                    help="answer each request MS milliseconds after it was read")
    ap.add_argument("--close-after-ms", type=int, metavar="MS",
                    help="close a connection idle for MS ms after a response")
    args = ap.parse_args()
    try:
        Recorder(args).serve()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
