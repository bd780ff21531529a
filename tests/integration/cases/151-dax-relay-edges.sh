# needs: ddbgate
# timeout: 60
#
# DAX relay edge cases against a scriptable plain-TCP node
# (dax_fakenode.py), with raw DAX frames from Python:
#   (a) a BatchGetItem answered the way DAX nodes answer it (80, an array of
#       two maps, then the consumed-capacity array as an item of its own):
#       relayed whole, the connection stays open; pipelined behind it, an
#       `endpoints` answer still reaches the client rewritten (node ports of
#       the gateway, never a node's own address).
#   (b) a client that half-closes with an allowed GetItem outstanding and a
#       denied PutItem queued behind it gets both answers in order, then
#       the end of the connection; one that resets instead: the PutItem's
#       audit line (499) has no upstreamAddress and the access line says upstream=- (it never left
#       the gateway), and both lines carry the request's size.
#   (b3) a node that answers a GetItem and closes at once (answer and FIN
#       together) with a second GetItem pipelined: the first answer reaches
#       the client, then the connection ends; 200 and 499 audit lines.
#   (c) a reload that removes the plain listener of an open connection: the
#       connection keeps aws:SecureTransport false (a policy denying GetItem
#       over plain transport still denies it).
#   (d) a client that sends denied requests and never reads: the gateway
#       stops framing once the client's output is at the high-water mark
#       (the denials it answers itself are bounded like relayed answers),
#       instead of answering every one into memory.
IP=127.0.1.151
IP2=127.0.1.152
CL=orders.abc123.dax-clusters.us-east-1.amazonaws.com
N1=127.0.10.51 N2=127.0.10.52
NODES="$CASE_TMP/nodes.jsonl"

start_bg "$CASE_TMP/fakenode" /usr/bin/python3 "$IT_DIR/dax_fakenode.py" --log "$NODES" \
	--listen "$N1:8111" --listen "$N2:8111" --batchget-real --delay-get 0.5
wait_port $N2 8111 "$BG_PID" || fail "dax_fakenode.py did not listen: $(tail -n 5 "$CASE_TMP/fakenode.err")"

cat >"$CASE_TMP/policy.json" <<'JSON'
{ "Version": "2012-10-17",
  "Statement": [
    { "Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "dax:*", "Resource": "*" },
    { "Sid": "NoSecretPuts", "Effect": "Deny", "Principal": "*", "Action": "dax:PutItem",
      "Resource": "*", "Condition": { "StringEquals": { "ddbgate:TableName": "secret" } } },
    { "Sid": "NoPlainSecretReads", "Effect": "Deny", "Principal": "*", "Action": "dax:GetItem",
      "Resource": "*", "Condition": { "StringEquals": { "ddbgate:TableName": "secret" },
                                      "Bool": { "aws:SecureTransport": "false" } } } ] }
JSON
# gwcfg LISTENER-IP — the configuration with its one dax listener on IP
gwcfg() {
	cgw_head
	cat <<YAML
  max_body_bytes: 65536
account: "111122223333"
workers: 1
listeners:
  - address: $1:8111
    mode: dax
    tls: false
    endpoint: dax151
    node_ports: 8112-8113
endpoints:
  - name: dax151
    service: dax-cluster
    hosts: [$CL]
    upstream: $N1:8111
    upstream_tls: false
    allowed_cidrs: [127.0.10.0/24]
    policy: $CASE_TMP/policy.json
YAML
}
cfg="$CASE_TMP/ddbgate.yaml"
gwcfg $IP >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg" 8111

cat >"$CASE_TMP/daxc.py" <<'PY'
import socket, sys
sys.path.insert(0, sys.argv[1])
import daxnode as dn
enc = dn.enc
PRE = enc("J7yne5G") + b"\x00\xf6\xa1" + enc("UserAgent") + enc("raw") + b"\x00"
def hdr(m): return b"\x01" + enc(m)
def auth():
    sts = b"AWS4-HMAC-SHA256\n20250101T000000Z\n20250101/us-east-1/dax/aws4_request\n" + b"0" * 64
    return hdr(1489122155) + enc("AKIAIOSFODNN7EXAMPLE") + enc("0" * 64) + enc(sts) + b"\xf6" + enc("ua")
def get(t): return hdr(263244906) + enc(t.encode()) + enc(b"k") + b"\xbf\xff"
def put(t): return hdr(-2106490455) + enc(t.encode()) + enc(b"k") + enc(b"v") + b"\xbf\xff"
def endpoints(): return hdr(455855874)
def batchget(t): return hdr(-697851100) + enc({t: [False, None, [b"k"]]}) + b"\xbf\xff"
class C:
    def __init__(self, ip):
        self.s = socket.create_connection((ip, 8111), timeout=5)
        self.buf = b""
    def items(self, n):
        while True:
            rd = dn.Reader(self.buf)
            try:
                out = [rd.item() for _ in range(n)]
                self.buf = self.buf[rd.pos:]
                return out
            except dn.NeedMore:
                pass
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("the gateway closed the connection")
            self.buf += d
PY

step "(a) BatchGetItem answered as DAX nodes answer it"
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP <<'PY' || fail "BatchGetItem relay"
import sys
sys.path.insert(0, sys.argv[2])
from daxc import *
c = C(sys.argv[3])
c.s.sendall(PRE + auth() + batchget("orders"))
a = c.items(3)
assert a[0] == [] and isinstance(a[1], list) and a[2] == [], a
c.s.sendall(get("orders"))
assert c.items(2)[0] == []
c.s.sendall(batchget("orders") + endpoints() + get("orders"))
assert c.items(3)[0] == []
ep = c.items(2)
addrs = [dict(m.pairs)[2] for m in ep[1]]
print("endpoints answer:", [(dict(m.pairs)[2].hex(), dict(m.pairs)[3]) for m in ep[1]])
assert ep[0] == [] and addrs and all(x == socket.inet_aton(sys.argv[3]) for x in addrs), "a node address reached the client"
assert c.items(2)[0] == []
PY

step "(b) half-close: what was asked is still answered, in order"
amark=$(cgw_audit_mark)
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP <<'PY' || fail "half-close client"
import sys, time
sys.path.insert(0, sys.argv[2])
from daxc import *
c = C(sys.argv[3])
c.s.sendall(PRE + auth() + get("orders") + put("secret"))
time.sleep(0.1)
c.s.shutdown(socket.SHUT_WR)
first = c.items(2)		# the GetItem's answer (after the node's 0.5 s)
assert first[0] == [], first
denial = c.items(3)		# then the PutItem's denial
assert denial[0] == [4, 37, 38, 39, 42] and "AccessDenied" in denial[2][1], denial
assert c.s.recv(100) == b"", "the connection stayed open after the answers"
print("half-close: GetItem answered, then the PutItem's denial, then the end")
PY
cgw_audit_expect "$amark" "d.get('eventName') == 'PutItem' and d.get('status') == 400" "no audit line for the denied PutItem"
cgw_audit_check "d['decision'] == 'deny' and 'upstreamAddress' not in d" "the denied PutItem's audit line"

step "(b2) a client gone with requests outstanding: 499 lines, no upstream for the denial"
amark=$(cgw_audit_mark)
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP <<'PY' || fail "closing client"
import struct, sys, time
sys.path.insert(0, sys.argv[2])
from daxc import *
c = C(sys.argv[3])
c.s.sendall(PRE + auth() + get("orders") + put("secret"))
time.sleep(0.1)
c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.s.close()			# a reset: the client is gone
time.sleep(0.3)
PY
cgw_audit_expect "$amark" "d.get('eventName') == 'PutItem' and d.get('status') == 499" "no 499 audit line for the queued PutItem"
cgw_audit_check "d['decision'] == 'deny' and 'upstreamAddress' not in d" "the queued denial's 499 audit line"
grep -q 'target="DAX PutItem secret" status=499 request_bytes=19 .* upstream=- ' "$LGW_OUT" ||
	fail "the queued denial's access line: $(grep 'PutItem secret' "$LGW_OUT")"

step "(b3) a node that closes right after its answer: the answer still reaches the client"
amark=$(cgw_audit_mark)
emark=$(log_mark "$LGW_ERR")
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP <<'PY' || fail "client of the closing node"
import sys, time
sys.path.insert(0, sys.argv[2])
from daxc import *
c = C(sys.argv[3])
c.s.sendall(PRE + auth() + get("closer") + get("orders"))
first = c.items(2)
assert first == [[], None], first
try:
    rest = c.s.recv(100)
except ConnectionResetError:
    rest = b""
assert rest == b"", "more than the first answer: %r" % rest
print("the answer sent with the node's FIN arrived, then the end")
PY
wait_log "$LGW_ERR" "$emark" "DAX connection closed: upstream 127.0.10.5[12]:8111 closed the connection with a request outstanding" 30 ||
	fail "no log line for the node's close"
cgw_audit_expect "$amark" "d.get('eventName') == 'GetItem' and d.get('status') == 200" "no audit line for the answered GetItem"
cgw_audit_expect "$amark" "d.get('eventName') == 'GetItem' and d.get('status') == 499" "no 499 line for the GetItem the node never answered"

step "(c) a reload that removes the listener keeps aws:SecureTransport false"
amark=$(cgw_audit_mark)
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP "$LGW_PID" "$cfg" "$IP2" <<'PY' || fail "reload client"
import os, signal, subprocess, sys, time
sys.path.insert(0, sys.argv[2])
from daxc import *
c = C(sys.argv[3])
c.s.sendall(PRE + auth() + get("secret"))
assert c.items(3)[0] != [], "GetItem over plain transport was not denied"
cfg = open(sys.argv[5]).read().replace(sys.argv[3] + ":8111", sys.argv[6] + ":8111")
open(sys.argv[5], "w").write(cfg)
os.kill(int(sys.argv[4]), signal.SIGHUP)
time.sleep(1)
c.s.sendall(get("secret"))
r = c.items(1)[0]
assert r != [], "after the reload a plain-transport GetItem on secret was allowed"
PY
cgw_audit_expect "$amark" "d.get('eventName') == 'GetItem' and d.get('decision') == 'deny'" "no denial audit line"

step "(d) denied requests from a client that never reads stay bounded"
amark=$(cgw_audit_mark)
cfg2="$CASE_TMP/ddbgate.yaml"
/usr/bin/python3 - "$IT_DIR" "$CASE_TMP" $IP2 <<'PY' || fail "non-reading client"
import sys, time
sys.path.insert(0, sys.argv[2])
from daxc import *
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((sys.argv[3], 8111))
s.settimeout(4)
try:
    s.sendall(PRE + auth() + put("secret") * 40000)
except socket.timeout:
    pass
time.sleep(1.5)
s.close()
PY
n=$(cgw_audit_count "$amark" "d.get('eventName') == 'PutItem'")
echo "denials answered to a client that read nothing: $n of 40000"
[ "$n" -lt 25000 ] || fail "the gateway answered $n of 40000 denied requests into the output of a client that reads nothing"
