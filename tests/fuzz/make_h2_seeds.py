#!/usr/bin/python3
"""make_h2_seeds.py — writes the seed corpus of fuzz_h2 (tests/fuzz/corpus/h2/).

Usage: tests/fuzz/make_h2_seeds.py [DIR]   (default: the corpus directory)

Mode 0 seeds (first byte 0x00, or 0x04 without the preface: the target
prepends it) are what python-h2 4.1's client writes: the preface, SETTINGS,
then HEADERS (signed-looking DynamoDB requests) and DATA, on one or more
streams; some with CONTINUATION, trailers, RST_STREAM, PING,
WINDOW_UPDATE, PRIORITY, GOAWAY, or a malformed field (written with
validation off); some followed by the response marker and the HTTP/1.1
response every stream then gets.  Mode 1 seeds (0x01) are field records,
mode 2 seeds (0x02, 0x06 = HEAD) HTTP/1.1 responses.  Deterministic: the
same files every run.
"""
import os
import struct
import sys

import h2.config
import h2.connection

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = b"\xff\xfeRESPONSE"
HOST = "dynamodb.us-east-1.amazonaws.com"
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDDDBGATETEST00001/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def headers(target="ListTables", body=b"{}", extra=(), authority=HOST):
    return ([(":method", "POST"), (":scheme", "https"), (":authority", authority), (":path", "/"),
             ("x-amz-date", "20260101T000000Z"), ("x-amz-target", "DynamoDB_20120810." + target),
             ("content-type", "application/x-amz-json-1.0")] + list(extra)
            + [("authorization", AUTH), ("content-length", str(len(body)))])


def client(validate=True):
    cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                    validate_outbound_headers=validate,
                                    normalize_outbound_headers=validate,
                                    validate_inbound_headers=False)
    c = h2.connection.H2Connection(config=cfg)
    c.initiate_connection()
    return c


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


RESPONSES = {
    "cl": b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: r1\r\n"
          b"x-amz-crc32: 1\r\nContent-Length: 27\r\n\r\n{\"TableNames\":[\"recorded\"]}",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, x-hop\r\n"
               b"x-hop: 1\r\nKeep-Alive: timeout=5\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nx-t: 1\r\n\r\n",
    "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"until\":\"close\"}",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0"
                b"\r\nContent-Length: 61\r\n\r\n{\"__type\":\"com.amazon.coral.validate#ValidationException\"}xx",
    "204": b"HTTP/1.1 204 No Content\r\nx-amzn-RequestId: r2\r\n\r\n",
    "cut": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"short\"",
    "bad": b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "upgrade": b"HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nTE: trailers\r\nProxy-Connection: x\r\nContent-Length: 0\r\n\r\n",
}


def session_seeds():
    out = {}
    c = client()
    c.send_headers(1, headers(), end_stream=False)
    c.send_data(1, b"{}", end_stream=True)
    out["one_request"] = b"\x00" + c.data_to_send()
    out["one_request_cl_response"] = out["one_request"] + MARKER + RESPONSES["cl"]
    out["one_request_chunked_response"] = out["one_request"] + MARKER + RESPONSES["chunked"]
    out["one_request_interim_response"] = out["one_request"] + MARKER + RESPONSES["continue"]
    out["one_request_cut_response"] = out["one_request"] + MARKER + RESPONSES["cut"]
    out["one_request_close_response"] = out["one_request"] + MARKER + RESPONSES["close"]

    # without the preface: the target adds it (first byte 0x04), small pieces
    c = client()
    pre = c.data_to_send()
    c.send_headers(1, headers("GetItem", b'{"TableName":"T","Key":{"pk":{"S":"a"}}}'), end_stream=False)
    c.send_data(1, b'{"TableName":"T","Key":{"pk":{"S":"a"}}}', end_stream=True)
    rest = c.data_to_send()
    assert pre.startswith(b"PRI * HTTP/2.0") and not rest.startswith(b"PRI")
    out["no_preface_pieces"] = bytes([0x04 | (2 << 5)]) + rest  # pieces of 16 bytes

    # several streams at once, two concurrent-stream settings
    c = client()
    for sid in (1, 3, 5, 7):
        c.send_headers(sid, headers("DescribeTable", b'{"TableName":"T"}'), end_stream=False)
    for sid in (1, 3, 5, 7):
        c.send_data(sid, b'{"TableName":"T"}', end_stream=True)
    d = c.data_to_send()
    out["four_streams"] = b"\x00" + d
    out["four_streams_limit_2"] = bytes([0x10]) + d + MARKER + RESPONSES["204"]

    # a big header block: HEADERS + CONTINUATION
    c = client()
    c.max_outbound_frame_size = 16384
    c.send_headers(1, headers(body=b"", extra=[("x-big", "b" * 20000)]), end_stream=True)
    out["continuation"] = b"\x00" + c.data_to_send()

    # a body in several DATA frames, then trailers
    c = client()
    c.send_headers(1, headers("PutItem", b"x" * 100), end_stream=False)
    for _ in range(4):
        c.send_data(1, b"x" * 25)
    c.send_headers(1, [("x-trailer", "t")], end_stream=True)
    out["data_then_trailers"] = b"\x00" + c.data_to_send()

    # control frames
    c = client()
    c.send_headers(1, headers(), end_stream=False)
    c.ping(b"12345678")
    c.increment_flow_control_window(1000)
    c.increment_flow_control_window(1000, stream_id=1)
    c.prioritize(1, weight=100)
    c.reset_stream(1)
    c.send_headers(3, headers(body=b""), end_stream=True)
    c.close_connection()
    out["control_frames"] = b"\x00" + c.data_to_send()

    # malformed requests (validation off)
    bad = {
        "upper_case_name": [("X-Upper", "v")],
        "crlf_in_value": [("x-bad", "a\r\nx-injected: 1")],
        "connection_field": [("connection", "keep-alive")],
        "transfer_encoding": [("transfer-encoding", "chunked")],
        "te_gzip": [("te", "gzip")],
        "host_mismatch": [("host", "other.example")],
        "expect_other": [("expect", "nothing")],
    }
    for name, extra in bad.items():
        c = client(validate=False)
        c.send_headers(1, headers(extra=extra), end_stream=False)
        c.send_data(1, b"{}", end_stream=True)
        c.send_headers(3, headers(body=b""), end_stream=True)
        out["bad_" + name] = b"\x00" + c.data_to_send()
    c = client(validate=False)
    h = headers()
    h.insert(5, (":path", "/again"))
    c.send_headers(1, h, end_stream=False)
    c.send_data(1, b"{}", end_stream=True)
    out["bad_pseudo_after_regular"] = b"\x00" + c.data_to_send()
    c = client(validate=False)
    c.send_headers(1, [x if x[0] != ":scheme" else (":scheme", "http") for x in headers(body=b"")],
                   end_stream=True)
    out["bad_scheme_http"] = b"\x00" + c.data_to_send()
    c = client(validate=False)
    c.send_headers(1, [x if x[0] != "content-length" else ("content-length", "9") for x in headers()],
                   end_stream=False)
    c.send_data(1, b"{}", end_stream=True)
    out["bad_content_length"] = b"\x00" + c.data_to_send()

    # stream-state violations (raw frames after a valid request)
    base = out["one_request"]
    out["data_on_stream_0"] = base + frame(0, 0, 0, b"x")
    out["headers_even_stream"] = base + frame(1, 5, 2, b"\x82\x87\x84")
    out["window_update_0"] = base + frame(8, 0, 0, struct.pack(">I", 0))
    out["bad_preface"] = b"\x00PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"
    return out


def field_seeds():
    def rec(fields, body_len):
        b = b""
        for n, v in fields:
            n, v = n.encode(), v.encode()
            b += bytes([len(n), len(v)]) + n + v
        return b"\x01" + b + b"\xff" + struct.pack(">H", body_len)
    good = headers(body=b"{}")
    return {
        "fields_good": rec(good, 2),
        "fields_host_equal": rec(good + [("host", HOST)], 2),
        "fields_te_trailers_expect": rec(good + [("te", "trailers"), ("expect", "100-continue")], 2),
        "fields_cl_mismatch": rec(good, 3),
        "fields_no_authority": rec([x for x in good if x[0] != ":authority"], 2),
        "fields_obs_text": rec(good + [("x-obs", "caf\xe9")], 2),
        "fields_port": rec([x if x[0] != ":authority" else (":authority", HOST + ":443") for x in good], 2),
        "fields_get_query": rec([(":method", "GET"), (":scheme", "https"), (":authority", HOST),
                                 (":path", "/?a=b&c=%20")], 0),
    }


def response_seeds():
    out = {}
    for name, r in RESPONSES.items():
        out["response_" + name] = b"\x02\x80" + r
    out["response_head_request"] = b"\x06\x40" + RESPONSES["cl"][:-27]
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "h2")
    os.makedirs(d, exist_ok=True)
    seeds = {}
    seeds.update(session_seeds())
    seeds.update(field_seeds())
    seeds.update(response_seeds())
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), d))


if __name__ == "__main__":
    main()
