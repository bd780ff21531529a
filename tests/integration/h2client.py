#!/usr/bin/python3
"""h2client.py — HTTP/2 client and HTTP/1.1 upstream for the h2 cases (140-149).

As a library (a case's inline Python: sys.path.insert(0, IT_DIR); import h2client):

  c = h2client.Conn("127.0.1.141:443", "record.ddbgate.test", cafile)
  c.preface()                      # client preface + SETTINGS, then the server's SETTINGS
  body = b'{}'
  sid = c.request(h2client.ddb_headers("record.ddbgate.test", "ListTables", body), body)
  c.wait([sid])                    # read frames until every stream ended or was reset
  s = c.streams[sid]               # s.status, s.headers, s.body, s.json(), s.reset ("PROTOCOL_ERROR" ...)
  c.goaway                         # None or Goaway(code, last, debug, t)

Frames are built with hyperframe and header blocks with hpack: nothing is
validated or normalised on the way out, so a case can send upper-case
names, control characters, connection-specific fields, pseudo-header
fields in any order and number, stream ids in any order, any frame on
any stream (send_frame / send_raw).  A header block larger than the
server's SETTINGS_MAX_FRAME_SIZE goes out as HEADERS + CONTINUATION.
What comes back is parsed frame by frame (trace: one line per frame):
SETTINGS and PING are acknowledged, DATA is acknowledged with
WINDOW_UPDATE at once unless auto_ack=False (then ack() by hand), header
blocks are decoded with one HPACK decoder for the connection.  Request
DATA respects the server's flow-control windows (waiting for its
WINDOW_UPDATE frames).

As a program:
  h2client.py alpn --connect IP:PORT --sni NAME --cafile CA --offer h2,http/1.1
      prints the protocol the server selected, "none" (handshake done,
      no ALPN), or "alert: REASON" (handshake refused)
  h2client.py upstream --listen IP:PORT --cert C --key K --dir DIR [--name N]
      a TLS HTTP/1.1 upstream (keep-alive; Content-Length request bodies)
      that records every byte it receives (DIR/conn-NNNN.in, like
      recorder.py; DIR/events.log) and answers each request as its
      x-h2test field says (space-separated words, any order):
        (none)        200, body {"TableNames":["<x-h2test-marker>"],"conn":C,"req":R}
        delay S       wait S seconds first
        big N         a body of exactly N bytes (big_body(N))
        chunked       send the body chunked (chunk sizes 1, 7, 4096, 65536, 3, ...)
        status NNN    that status, a DynamoDB-shaped error body (ResourceNotFoundException)
        close         close the connection without an answer
        hang          never answer (until the gateway closes the connection)
        cut           announce Content-Length 1000, send 100 body bytes, close
      x-amzn-RequestId is "up-<name>-<conn>-<req>"; a request with
      "Connection: close" gets "Connection: close" and the connection closed.
"""
import argparse
import datetime
import json
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawclient import sign_request  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
          "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
          "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
SETTING_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
                 4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE"}


def error_name(code):
    return ERRORS[code] if 0 <= code < len(ERRORS) else "0x%x" % code


def big_body(n):
    """The deterministic n-byte JSON body of `big N` (n >= 12)."""
    head, tail = b'{"pad":"', b'"}'
    fill = n - len(head) - len(tail)
    pat = b"0123456789abcdefghijklmnopqrstuvwxyz"
    return head + (pat * (fill // len(pat) + 1))[:fill] + tail


def ddb_headers(authority, target, body, extra=(), method="POST", path="/", scheme="https",
                akid=None, secret=None, when=None):
    """A signed DynamoDB request's header list, HTTP/2 style: the four
    pseudo-header fields, then lower-case fields (extra ones after
    content-type), authorization and content-length."""
    akid = akid or os.environ["AKID"]
    secret = secret or os.environ["SECRET"]
    now = when or datetime.datetime.now(datetime.timezone.utc)
    if "." not in target:
        target = "DynamoDB_20120810." + target
    regular = [("x-amz-date", now.strftime("%Y%m%dT%H%M%SZ")), ("x-amz-target", target),
               ("content-type", "application/x-amz-json-1.0")] + list(extra)
    auth = sign_request(method, authority, path, [("host", authority)] + regular, body, akid, secret,
                        "us-east-1", "dynamodb", now)
    return ([(":method", method), (":scheme", scheme), (":authority", authority), (":path", path)]
            + regular + [("authorization", auth), ("content-length", str(len(body)))])


class Stream:
    def __init__(self, sid):
        self.id = sid
        self.headers = []       # the response's fields, in order (str, str)
        self.status = None
        self.body = b""
        self.ended = False      # END_STREAM received
        self.reset = None       # the RST_STREAM error code's name
        self.t_head = self.t_end = None
        self.received = 0       # DATA bytes not yet acknowledged (auto_ack=False)
        self.send_window = 65535

    @property
    def done(self):
        return self.ended or self.reset is not None

    def header(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def summary(self):
        if self.reset is not None and self.status is None:
            return "RST_STREAM %s" % self.reset
        d = {"status": self.status, "body": self.body[:300].decode("utf-8", "replace"),
             "bytes": len(self.body), "ended": self.ended}
        if self.reset is not None:
            d["reset"] = self.reset
        return json.dumps(d)


class Goaway:
    def __init__(self, code, last, debug, t):
        self.code, self.last, self.debug, self.t = code, last, debug, t

    def __repr__(self):
        return "GOAWAY %s last_stream_id=%d debug=%r" % (self.code, self.last, self.debug)


class Conn:
    """One TLS connection speaking HTTP/2 frame by frame."""

    def __init__(self, addr, sni, cafile, alpn=("h2",), timeout=10.0, auto_ack=True,
                 verify=True, poll=0.2):
        from hpack import Decoder, Encoder
        host, port = addr.rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=cafile)
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(list(alpn))
        raw = socket.create_connection((host, int(port)), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames leave at once
        self.sock = ctx.wrap_socket(raw, server_hostname=sni)
        self.alpn = self.sock.selected_alpn_protocol()
        self.sock.settimeout(poll)  # the longest a read waits inside pump()
        self.enc, self.dec = Encoder(), Decoder()
        self.dec.max_allowed_table_size = 65536
        self.buf = b""
        self.streams = {}
        self.goaway = None
        self.eof = None          # None, "eof" or "reset: ..."
        self.t_eof = None
        self.trace = []
        self.settings = {}       # the server's SETTINGS
        self.settings_seen = False
        self.settings_acked = False  # the server acknowledged ours
        self.auto_ack = auto_ack
        self.next_id = 1
        self.conn_window = 65535
        self.peer_initial = 65535
        self.peer_max_frame = 16384
        self._hblock = None      # (stream id, bytes) while CONTINUATION is expected
        self.other = []          # frames of other types, for the caller

    # ---- sending ---------------------------------------------------------
    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            self._note_eof("send: %s" % e)

    def send_frame(self, frame):
        self.trace.append("%.3f send %s" % (time.time(), self._describe(frame)))
        self.send_raw(frame.serialize())

    def preface(self, settings=None, wait=True):
        from hyperframe.frame import SettingsFrame
        self.send_raw(PREFACE)
        self.send_frame(SettingsFrame(0, settings=settings or {}))
        if wait:
            if not self.pump(lambda: self.settings_seen, 5):
                raise RuntimeError("no SETTINGS from the server: %s" % self.dump())

    def block(self, headers):
        """The HPACK block of a header list (names and values as given)."""
        return self.enc.encode([(n.encode("latin-1") if isinstance(n, str) else n,
                                 v.encode("latin-1") if isinstance(v, str) else v) for n, v in headers])

    def send_headers(self, sid, headers, end_stream=True, block=None):
        from hyperframe.frame import ContinuationFrame, HeadersFrame
        if block is None:
            block = self.block(headers)
        st = self.stream(sid)
        st.send_window = self.peer_initial
        limit = self.peer_max_frame
        first, rest = block[:limit], block[limit:]
        f = HeadersFrame(sid, first)
        if end_stream:
            f.flags.add("END_STREAM")
        if not rest:
            f.flags.add("END_HEADERS")
        self.send_frame(f)
        while rest:
            chunk, rest = rest[:limit], rest[limit:]
            c = ContinuationFrame(sid, chunk)
            if not rest:
                c.flags.add("END_HEADERS")
            self.send_frame(c)
        return sid

    def send_data(self, sid, data, end_stream=True, timeout=10):
        """DATA within the server's windows (waits for WINDOW_UPDATE)."""
        from hyperframe.frame import DataFrame
        st = self.stream(sid)
        view = memoryview(data)
        while True:
            if not view:
                if end_stream:
                    f = DataFrame(sid, b"")
                    f.flags.add("END_STREAM")
                    self.send_frame(f)
                return True
            room = min(self.conn_window, st.send_window, self.peer_max_frame, len(view))
            if room <= 0:
                if not self.pump(lambda: min(self.conn_window, st.send_window) > 0 or st.done
                                 or self.goaway is not None, timeout) or st.done or self.goaway:
                    return False
                continue
            f = DataFrame(sid, bytes(view[:room]))
            view = view[room:]
            if not view and end_stream:
                f.flags.add("END_STREAM")
            self.conn_window -= room
            st.send_window -= room
            self.send_frame(f)
            if not view and end_stream:
                return True

    def request(self, headers, body=b"", sid=None, end_stream=True):
        """HEADERS (+ DATA) on the next odd stream id (or sid); returns the id."""
        if sid is None:
            sid = self.next_id
        self.next_id = max(self.next_id, sid + 2)
        self.send_headers(sid, headers, end_stream=end_stream and not body)
        if body:
            self.send_data(sid, body, end_stream=end_stream)
        return sid

    def ack(self, sid, n=None):
        """Acknowledge DATA: WINDOW_UPDATE for n bytes (default: all received) on the stream and the connection."""
        from hyperframe.frame import WindowUpdateFrame
        st = self.stream(sid)
        n = st.received if n is None else n
        if n <= 0:
            return
        st.received -= n
        self.send_frame(WindowUpdateFrame(0, window_increment=n))
        if not st.done:
            self.send_frame(WindowUpdateFrame(sid, window_increment=n))

    def rst(self, sid, code=8):
        from hyperframe.frame import RstStreamFrame
        self.send_frame(RstStreamFrame(sid, error_code=code))

    # ---- receiving -------------------------------------------------------
    def stream(self, sid):
        if sid not in self.streams:
            self.streams[sid] = Stream(sid)
        return self.streams[sid]

    def _note_eof(self, how):
        if self.eof is None:
            self.eof = how
            self.t_eof = time.time()
            self.trace.append("%.3f %s" % (self.t_eof, how))

    def _read_some(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ssl.SSLWantReadError:
            return False
        except (OSError, ssl.SSLError) as e:
            self._note_eof("reset: %s" % e)
            return False
        if not d:
            self._note_eof("eof")
            return False
        self.buf += d
        return True

    @staticmethod
    def _describe(f):
        name = type(f).__name__.replace("Frame", "").upper()
        extra = ""
        if name == "DATA":
            extra = " len=%d" % len(f.data)
        elif name in ("RSTSTREAM",):
            extra = " %s" % error_name(f.error_code)
        elif name == "GOAWAY":
            extra = " %s last=%d" % (error_name(f.error_code), f.last_stream_id)
        elif name == "WINDOWUPDATE":
            extra = " +%d" % f.window_increment
        elif name == "SETTINGS":
            extra = " %s" % {SETTING_NAMES.get(k, k): v for k, v in f.settings.items()}
        flags = ",".join(sorted(f.flags))
        return "%s stream=%d%s%s" % (name, f.stream_id, " [%s]" % flags if flags else "", extra)

    def _frames(self):
        from hyperframe.frame import Frame
        while len(self.buf) >= 9:
            f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
            if len(self.buf) < 9 + length:
                return
            body, self.buf = self.buf[9:9 + length], self.buf[9 + length:]
            f.parse_body(memoryview(body))
            yield f

    def _on_frame(self, f):
        from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame,
                                      PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)
        now = time.time()
        self.trace.append("%.3f recv %s" % (now, self._describe(f)))
        if isinstance(f, SettingsFrame):
            if "ACK" in f.flags:
                self.settings_acked = True
                return
            for k, v in f.settings.items():
                if k == 4:
                    for st in self.streams.values():
                        st.send_window += v - self.peer_initial
                    self.peer_initial = v
                elif k == 5:
                    self.peer_max_frame = v
                self.settings[SETTING_NAMES.get(k, k)] = v
            self.settings_seen = True
            ack = SettingsFrame(0)
            ack.flags.add("ACK")
            self.send_frame(ack)
        elif isinstance(f, PingFrame):
            if "ACK" not in f.flags:
                p = PingFrame(0, opaque_data=f.opaque_data)
                p.flags.add("ACK")
                self.send_frame(p)
        elif isinstance(f, WindowUpdateFrame):
            if f.stream_id == 0:
                self.conn_window += f.window_increment
            else:
                self.stream(f.stream_id).send_window += f.window_increment
        elif isinstance(f, (HeadersFrame, ContinuationFrame)):
            if isinstance(f, HeadersFrame):
                self._hblock = (f.stream_id, f.data, "END_STREAM" in f.flags)
            else:
                sid, data, es = self._hblock
                self._hblock = (sid, data + f.data, es)
            if "END_HEADERS" in f.flags:
                sid, data, es = self._hblock
                self._hblock = None
                st = self.stream(sid)
                fields = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.dec.decode(data, raw=True)]
                status = dict(fields).get(":status")
                if status is not None and not status.startswith("1"):
                    st.status = int(status)
                    st.headers = [(n, v) for n, v in fields if not n.startswith(":")]
                    st.t_head = now
                if es:
                    st.ended, st.t_end = True, now
        elif isinstance(f, DataFrame):
            st = self.stream(f.stream_id)
            st.body += f.data
            n = f.flow_controlled_length
            if "END_STREAM" in f.flags:
                st.ended, st.t_end = True, now
            if n:
                if self.auto_ack:
                    self.send_frame(WindowUpdateFrame(0, window_increment=n))
                    if not st.done:
                        self.send_frame(WindowUpdateFrame(f.stream_id, window_increment=n))
                else:
                    st.received += n
        elif isinstance(f, RstStreamFrame):
            st = self.stream(f.stream_id)
            st.reset = error_name(f.error_code)
            st.t_end = st.t_end or now
        elif isinstance(f, GoAwayFrame):
            self.goaway = Goaway(error_name(f.error_code), f.last_stream_id,
                                 bytes(f.additional_data), now)
        else:
            self.other.append(f)

    def pump(self, until=None, timeout=5.0):
        """Read and handle frames until until() is true (True), or the
        timeout passes or the connection ends (False)."""
        deadline = time.time() + timeout
        while True:
            for f in self._frames():
                self._on_frame(f)
            if until is not None and until():
                return True
            if self.eof is not None or time.time() > deadline:
                return until is not None and until()
            self._read_some()

    def wait(self, sids, timeout=10.0, stop_on_goaway=True):
        """Until every stream in sids is done (True), or GOAWAY (when
        stop_on_goaway), EOF or the timeout (False)."""
        def ok():
            return all(self.stream(s).done for s in sids)
        return self.pump(lambda: ok() or (stop_on_goaway and self.goaway is not None), timeout) and ok()

    def wait_goaway(self, timeout=5.0):
        return self.pump(lambda: self.goaway is not None, timeout)

    def wait_eof(self, timeout=5.0):
        self.pump(None, timeout)
        return self.eof is not None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def dump(self, last=40):
        return "\n".join("    " + t for t in self.trace[-last:])


# ---- alpn ------------------------------------------------------------------------
def cmd_alpn(a):
    host, port = a.connect.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(a.offer.split(","))
    raw = socket.create_connection((host, int(port)), timeout=5)
    try:
        with ctx.wrap_socket(raw, server_hostname=a.sni) as s:
            print(s.selected_alpn_protocol() or "none")
    except ssl.SSLError as e:
        print("alert: %s" % e.reason)
    return 0


# ---- upstream ----------------------------------------------------------------------
class Upstream:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.count = 0
        os.makedirs(a.dir, exist_ok=True)
        self.events = open(os.path.join(a.dir, "events.log"), "a", buffering=1)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(a.cert, a.key)

    def event(self, n, text):
        with self.lock:
            self.events.write("%.3f conn=%d %s\n" % (time.time(), n, text))

    def serve(self):
        host, port = self.a.listen.rsplit(":", 1)
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, int(port)))
        ls.listen(128)
        print("upstream %s listening on %s" % (self.a.name, self.a.listen), flush=True)
        while True:
            raw, _ = ls.accept()
            with self.lock:
                self.count += 1
                n = self.count
            threading.Thread(target=self.handle, args=(raw, n), daemon=True).start()

    def handle(self, raw, n):
        fin = open(os.path.join(self.a.dir, "conn-%04d.in" % n), "wb", buffering=0)
        raw.settimeout(60)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.event(n, "handshake failed: %s" % e)
            raw.close()
            fin.close()
            return
        self.event(n, "accept")
        try:
            self.relay(tls, n, fin)
        except (OSError, ssl.SSLError) as e:
            self.event(n, "error: %s" % e)
        finally:
            fin.close()
            try:
                tls.close()
            except OSError:
                pass
            self.event(n, "close")

    def relay(self, tls, n, fin):
        buf = b""
        k = 0
        while True:
            while b"\r\n\r\n" not in buf:
                d = tls.recv(65536)
                if not d:
                    return
                fin.write(d)
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                fields.setdefault(name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
            length = int(fields.get("content-length", "0"))
            while len(rest) < length:
                d = tls.recv(65536)
                if not d:
                    self.event(n, "eof inside a body")
                    return
                fin.write(d)
                rest += d
            buf = rest[length:]
            k += 1
            how = fields.get("x-h2test", "").split()
            marker = fields.get("x-h2test-marker", "-")
            self.event(n, "request %d: %s marker=%s x-h2test=%r body=%d" % (
                k, lines[0].decode("latin-1"), marker, " ".join(how), length))
            if not self.answer(tls, n, k, how, marker, fields.get("connection", "").lower() == "close"):
                return

    def answer(self, tls, n, k, how, marker, close):
        opts = {}
        i = 0
        while i < len(how):
            w = how[i]
            if w in ("delay", "big", "status") and i + 1 < len(how):
                opts[w] = how[i + 1]
                i += 2
            else:
                opts[w] = True
                i += 1
        if "delay" in opts:
            time.sleep(float(opts["delay"]))
        if "close" in opts:
            self.event(n, "request %d: closing without an answer" % k)
            return False
        if "hang" in opts:
            self.event(n, "request %d: hanging" % k)
            tls.settimeout(30)
            try:
                while tls.recv(65536):
                    pass
            except (OSError, ssl.SSLError):
                pass
            return False
        status = int(opts.get("status", 200))
        if status != 200:
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                               "message": "Requested resource not found (%s)" % marker}).encode()
        elif "big" in opts:
            body = big_body(int(opts["big"]))
        else:
            body = json.dumps({"TableNames": [marker], "conn": n, "req": k}).encode()
        reason = {200: "OK", 400: "Bad Request"}.get(status, "Status")
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                "x-amzn-RequestId: up-%s-%d-%d\r\n" % (status, reason, self.a.name, n, k))
        if close:
            head += "Connection: close\r\n"
        if "cut" in opts:
            body = big_body(1000)
            tls.sendall((head + "Content-Length: 1000\r\n\r\n").encode() + body[:100])
            self.event(n, "request %d: cut after 100 of 1000 body bytes" % k)
            return False
        if "chunked" in opts:
            tls.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            sizes = [1, 7, 4096, 65536, 3, 1000, 16384]
            off, j = 0, 0
            while off < len(body):
                part = body[off:off + sizes[j % len(sizes)]]
                off += len(part)
                j += 1
                tls.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            tls.sendall(b"0\r\n\r\n")
        else:
            tls.sendall((head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body)
        self.event(n, "response %d: %d, %d body bytes%s" % (k, status, len(body),
                                                           " chunked" if "chunked" in opts else ""))
        return not close


def cmd_upstream(a):
    Upstream(a).serve()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("alpn")
    p.add_argument("--connect", required=True)
    p.add_argument("--sni", required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--offer", default="h2,http/1.1")
    p.set_defaults(fn=cmd_alpn)
    p = sub.add_parser("upstream")
    p.add_argument("--listen", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="h2up")
    p.set_defaults(fn=cmd_upstream)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main() or 0)
