# needs: gateway
# timeout: 90
#
# TLS on the listeners (docs/modes.md "TLS on the listeners"): TLS 1.2 and
# 1.3 only, ECDHE + AEAD ciphers only, no renegotiation, ALPN h2 and http/1.1,
# session tickets sealed with keys shared by every worker that survive a
# reload.
# Client:   (a) testssl.sh (Debian testssl 3.0) against the sni listener,
#               `testssl --quiet --color 0 --warnings off --ip 127.0.1.110
#               --jsonfile F -p -s -f -R -S dynamodb.us-east-1.amazonaws.com:443`
#               (protocols, cipher categories, forward secrecy, renegotiation,
#               server defaults), its JSON parsed by id.
#           (b) openssl s_client on the sni listener and through the connect
#               listener (-proxy 127.0.1.110:3128): TLS 1.1, a CBC suite, a
#               client-initiated renegotiation ("R"), ALPN h2 only, h2,http/1.1,
#               http/1.1 only and spdy/3 only.
#           (c) openssl s_client -sess_out / -sess_in: TLS 1.2 and 1.3 ticket
#               resumption, 6 times each on a 4-worker gateway, through the
#               connect listener too; again after a SIGHUP reload.
# Config:   case-local ddbgate (run with -d), workers: 4:
#             listeners: [{address: 127.0.1.110:443, mode: sni},
#                         {address: 127.0.1.110:3128, mode: connect}]
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#               upstream: vpce-good-1234...:8443}]
# Upstream: stunnel4 -> dynalite (not reached).
# Expect:   (a) SSLv2, SSLv3, TLS1, TLS1_1 "not offered"; TLS1_2 "offered",
#               TLS1_3 "offered..."; cipherlist_NULL, _aNULL, _EXPORT, _LOW,
#               _3DES_IDEA, _AVERAGE (obsolete CBC) "not offered", _STRONG
#               "offered"; PFS "offered" and PFS_ciphers exactly the six AEAD
#               suites TLS_AES_128/256_GCM, TLS_CHACHA20_POLY1305,
#               ECDHE-ECDSA-AES128/256-GCM, ECDHE-ECDSA-CHACHA20-POLY1305;
#               secure_client_renego "not vulnerable" and secure_renego
#               severity OK; TLS_extensions has 'session ticket/#35',
#               TLS_session_ticket "valid for ..."; ALPN "http/1.1"; no
#               finding of these ids above severity LOW/INFO/OK.
#           (b) TLS 1.1: alert protocol version; ECDHE-ECDSA-AES128-SHA256
#               (CBC) under TLS 1.2: handshake failure; "R": the renegotiation
#               is refused ("no renegotiation"); ALPN h2 only and
#               h2,http/1.1: "ALPN protocol: h2"; http/1.1: "ALPN protocol:
#               http/1.1"; spdy/3 only: alert no application protocol; the
#               same verdicts through the connect listener.
#           (c) every resumption "Reused" (TLS 1.2 and 1.3, sni and connect
#               listener), served by at least 2 of the 4 workers (ddbgate -d
#               names the worker of each session: "session W.N"), and a
#               ticket issued before the reload is still
#               accepted after "reloaded: serving generation 2".
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
command -v testssl >/dev/null || skip "needs testssl (Debian package testssl.sh)"
IP=127.0.1.110
H=dynamodb.us-east-1.amazonaws.com
cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
workers: 4
listeners:
  - address: $IP:$GW_PORT
    mode: sni
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint ddb $H "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $IP "$cfg" "$GW_PORT" -d
wait_port $IP $CONNECT_PORT "$LGW_PID" || fail "the connect listener does not listen"

step "(a) testssl against the sni listener $IP:$GW_PORT"
t0=$(now_ms)
timeout 75 testssl --quiet --color 0 --warnings off --ip "$IP" --jsonfile "$CASE_TMP/testssl.json" \
	-p -s -f -R -S "$H:$GW_PORT" >"$CASE_TMP/testssl.out" 2>&1
rc=$?
echo "testssl: exit $rc after $(($(now_ms) - t0)) ms"
sed -n '/Testing protocols/,/Done/p' "$CASE_TMP/testssl.out" | grep -v '^ *$' | grep -Ev 'Fingerprints|Serial|cert' | sed 's/^/  /' | head -60
[ -s "$CASE_TMP/testssl.json" ] || fail "testssl wrote no JSON (exit $rc): $(tail -n 5 "$CASE_TMP/testssl.out")"
/usr/bin/python3 - "$CASE_TMP/testssl.json" <<'PY' || fail "testssl's findings: see above"
import json, sys
f = {}
for d in json.load(open(sys.argv[1])):
    f.setdefault(d["id"], d)
bad = []
def want(i, test, what):
    d = f.get(i)
    ok = d is not None and test(d["finding"])
    print("  %-22s %-8s %-40s %s" % (i, d and d["severity"], (d and d["finding"])[:40] if d else "(missing)",
                                      "ok" if ok else "EXPECTED " + what))
    if not ok:
        bad.append(i)
for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    want(i, lambda v: v == "not offered", "not offered")
want("TLS1_2", lambda v: v == "offered", "offered")
want("TLS1_3", lambda v: v.startswith("offered"), "offered ...")
for i in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
          "cipherlist_AVERAGE"):
    want(i, lambda v: v == "not offered", "not offered")
want("cipherlist_STRONG", lambda v: v == "offered", "offered")
want("PFS", lambda v: v == "offered", "offered")
aead = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"}
want("PFS_ciphers", lambda v: set(v.split()) == aead, "exactly " + " ".join(sorted(aead)))
want("secure_client_renego", lambda v: v == "not vulnerable", "not vulnerable")
want("TLS_extensions", lambda v: "'session ticket/#35'" in v, "'session ticket/#35' among them")
want("TLS_session_ticket", lambda v: v.startswith("valid for"), "valid for ...")
want("ALPN", lambda v: v == "http/1.1", "http/1.1")
for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_NULL", "cipherlist_aNULL",
          "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_STRONG",
          "PFS", "PFS_ECDHE_curves", "secure_renego", "secure_client_renego"):
    if i in f and f[i]["severity"] not in ("OK", "INFO", "LOW"):
        print("  %s: severity %s (%s)" % (i, f[i]["severity"], f[i]["finding"]))
        bad.append(i)
sys.exit(1 if bad else 0)
PY

# sc NAME VIA ARGS... — openssl s_client to the sni listener (VIA sni) or
# through the connect listener (VIA connect), SNI $H, the case's CA; stdin
# from $SC_IN (default: none); output in $CASE_TMP/sc.NAME.
sc() {
	local name=$1 via=$2 to=()
	shift 2
	if [ "$via" = connect ]; then to=(-proxy "$IP:$CONNECT_PORT" -connect "$H:443"); else to=(-connect "$IP:$GW_PORT"); fi
	timeout 10 openssl s_client "${to[@]}" -servername "$H" -CAfile "$CGW_CA" "$@" <"${SC_IN:-/dev/null}" \
		>"$CASE_TMP/sc.$name" 2>&1
}
sc_has() { # NAME REGEX WHAT
	grep -Eq -- "$2" "$CASE_TMP/sc.$1" || { tail -n 15 "$CASE_TMP/sc.$1"; fail "s_client $1: $3 (no /$2/)"; }
}
sc_lacks() { # NAME REGEX WHAT
	if grep -Eq -- "$2" "$CASE_TMP/sc.$1"; then tail -n 15 "$CASE_TMP/sc.$1"; fail "s_client $1: $3"; fi
}

for via in sni connect; do
	step "(b) openssl s_client, $via listener"
	sc "$via.tls11" $via -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
	sc_has "$via.tls11" 'alert protocol version' "TLS 1.1 was not refused with a protocol_version alert"
	sc "$via.cbc" $via -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA'
	sc_has "$via.cbc" 'alert handshake failure' "a CBC-only TLS 1.2 offer was not refused"
	sc_lacks "$via.cbc" '^ *Cipher *: ECDHE-ECDSA-AES128-SHA' "a CBC suite was negotiated"
	SC_IN=<(printf 'R\n'; sleep 1) sc "$via.reneg" $via -tls1_2
	sc_has "$via.reneg" 'Verify return code: 0 \(ok\)' "the TLS 1.2 handshake did not verify"
	sc_has "$via.reneg" '^RENEGOTIATING' "s_client did not try to renegotiate"
	sc_has "$via.reneg" 'no renegotiation' "the client-initiated renegotiation was not refused"
	sc "$via.h2" $via -alpn h2
	sc_has "$via.h2" '^ALPN protocol: h2$' "ALPN h2 alone did not select h2"
	sc "$via.alpn" $via -alpn h2,http/1.1
	sc_has "$via.alpn" '^ALPN protocol: h2$' "ALPN h2,http/1.1 did not select h2"
	sc "$via.h1" $via -alpn http/1.1
	sc_has "$via.h1" '^ALPN protocol: http/1\.1$' "ALPN http/1.1 did not select http/1.1"
	sc "$via.spdy" $via -alpn spdy/3
	sc_has "$via.spdy" 'alert no application protocol' "ALPN spdy/3 alone was not refused"
	echo "$via listener: TLS 1.1 refused, CBC refused, renegotiation refused, ALPN h2 then http/1.1, nothing else"
done

step "(c) session tickets: resumption across the 4 workers, both listeners"
for via in sni connect; do
	for v in tls1_2 tls1_3; do
		rm -f "$CASE_TMP/sess.$via.$v"
		# TLS 1.3 tickets come after the handshake: keep the connection open a moment
		SC_IN=<(sleep 0.5) sc "$via.$v.new" $via -$v -sess_out "$CASE_TMP/sess.$via.$v"
		sc_has "$via.$v.new" '^New, TLSv1\.[23]' "$v: not a new session"
		[ -s "$CASE_TMP/sess.$via.$v" ] || fail "$via $v: s_client saved no session"
		openssl sess_id -in "$CASE_TMP/sess.$via.$v" -noout -text | grep -q 'TLS session ticket:' ||
			fail "$via $v: the saved session carries no ticket"
		emark=$(log_mark "$LGW_ERR")
		for i in 1 2 3 4 5 6; do
			SC_IN=<(sleep 0.3) sc "$via.$v.r$i" $via -$v -sess_in "$CASE_TMP/sess.$via.$v"
			sc_has "$via.$v.r$i" '^Reused, TLSv1\.[23]' "$via $v resumption $i was not accepted"
		done
		# ddbgate -d: "session W.N client ... client TLS established (TLSv1.x, ...)"
		log_since "$LGW_ERR" "$emark" | sed -n 's/.* session \([0-9]*\)\.[0-9]* .*client TLS established (TLSv1.*/\1/p' >>"$CASE_TMP/resumed.workers"
		echo "$via $v: 6 of 6 resumptions reused the ticket"
	done
done
n=$(wc -l <"$CASE_TMP/resumed.workers")
w=$(sort -u "$CASE_TMP/resumed.workers" | tr '\n' ' ')
echo "the $n resumed handshakes were served by workers: $w"
[ "$n" = 24 ] || fail "the debug log shows $n resumed client handshakes, expected 24"
[ "$(sort -u "$CASE_TMP/resumed.workers" | wc -l)" -ge 2 ] || fail "all 24 resumptions landed on one worker ($w): the test proves nothing about shared keys"

step "(c) a ticket issued before a reload still opens after it"
emark=$(log_mark "$LGW_ERR")
kill -HUP "$LGW_PID"
line=$(wait_log "$LGW_ERR" "$emark" 'reloaded: serving generation 2 ' 50) || fail "no 'reloaded: serving generation 2' after SIGHUP"
echo "log: $line"
for via in sni connect; do
	for v in tls1_2 tls1_3; do
		SC_IN=<(sleep 0.3) sc "$via.$v.after" $via -$v -sess_in "$CASE_TMP/sess.$via.$v"
		sc_has "$via.$v.after" '^Reused, TLSv1\.[23]' "$via $v: a ticket from before the reload was not accepted after it"
	done
done
echo "tickets from generation 1 reused after the reload (sni and connect, TLS 1.2 and 1.3)"

step "the case-local gateway stops cleanly"
lgw_stop
