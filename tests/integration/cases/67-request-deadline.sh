# needs: ddbgate infra
# timeout: 40
#
# Bug (review, finding 11): a client trickling a request one byte at a
# time kept a session forever, each read resetting the idle timeout.
# Client:   a TLS client sends "POST / HTTP/1.1\r\n" then one byte of a
#           header every 0.5 s, never finishing the head.
# Config:   a case-local gateway with limits.request_timeout_s: 2
#           (client_idle_timeout_s stays 60).
# Upstream: none reached.
# Expect:   408 ddbgate#RequestTimeout within 5 s, then the connection
#           closes; the access log has status=408.
. "$IT_DIR/policy_lib.sh"

{
	pgw_config_head 127.0.0.67 | sed 's/^limits:$/limits:\n  request_timeout_s: 2/'
	echo "endpoints:"
	pgw_endpoint orders dynamodb.us-east-1.amazonaws.com good
} >"$PGW_CFG"
PGW_IP=127.0.0.67 # pgw_config_head ran in a pipeline (a subshell)
grep -q 'request_timeout_s: 2' "$PGW_CFG" || fail "test bug: limits not set"
pgw_start

/usr/bin/python3 - "$PGW_IP" "$GW_PORT" "$PKI/gw-ca.pem" <<'PY' || fail "the trickled request was not answered 408 in time (see above)"
import socket, ssl, sys, time
ip, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((ip, port), timeout=10),
                    server_hostname="dynamodb.us-east-1.amazonaws.com")
s.sendall(b"POST / HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com\r\nX-Amz-Target: ")
t0 = time.time()
s.settimeout(0.5)
got = b""
while time.time() - t0 < 8:
    try:
        s.sendall(b"D")
    except OSError:
        break
    try:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    except socket.timeout:
        continue
    except OSError:
        break
took = time.time() - t0
print("after %.1f s got: %r" % (took, got[:200]))
ok = got.startswith(b"HTTP/1.1 408") and b"ddbgate#RequestTimeout" in got and took < 5
sys.exit(0 if ok else 1)
PY
logs_settle
grep -q 'status=408' "$GW_OUT" || fail "no access-log line with status=408"
echo "trickled request answered 408 and closed"
