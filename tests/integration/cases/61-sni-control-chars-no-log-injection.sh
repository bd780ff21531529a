# needs: gateway
# timeout: 30
#
# Bug: the TLS server name went into ddbgate's log lines as it came, so a
# client could put a newline in its SNI and forge a log line of its own.
# Client:   rawclient.py (Python ssl sends server_hostname bytes as given),
#           certificate not checked, a signed ListTables with
#           Host: record.ddbgate.test and SNI (a) "x.test<LF>FORGED-LINE-MARKER-<id>",
#           (b) "x.test<CR><LF>FORGED-LINE-MARKER-<id>".
# Config:   endpoint recorder (record.ddbgate.test); the gateway logs at info
#           (the 421 is logged) to stderr, the access log to stdout.
# Upstream: none reached.
# Expect:   421 ddbgate#MisdirectedRequest with a Proxy-Status header for each;
#           ddbgate has logged the 421; no line of its stderr or stdout begins
#           with FORGED-LINE-MARKER, and the lines it wrote during the case hold
#           no control character (other than tab).
H=record.ddbgate.test
/usr/bin/python3 -c 'import ssl, sys
ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname=sys.argv[1])' \
	$'x.test\nprobe' 2>"$CASE_TMP/py.err" ||
	skip "this Python refuses a control character in server_hostname: $(tail -n 1 "$CASE_TMP/py.err")"

id=$(unique)
err0=$(wc -l <"$GW_ERR")
out0=$(wc -l <"$GW_OUT")
for label in lf crlf; do
	case $label in
	lf) sni=$'x.test\nFORGED-LINE-MARKER-'"$id" ;;
	crlf) sni=$'x.test\r\nFORGED-LINE-MARKER-'"$id" ;;
	esac
	step "($label) SNI $(printf %q "$sni")"
	e0=$(wc -l <"$GW_ERR")
	build_request $H DynamoDB_20120810.ListTables '{}' >"$CASE_TMP/req"
	raw_send "$sni" "$CASE_TMP/req" 1 --insecure --timeout 8
	raw_use 1
	expect_proxy_error 421 MisdirectedRequest -
	# ddbgate logs the 421 (info) before it answers; wait for that line.
	for _ in $(seq 1 30); do
		tail -n +"$((e0 + 1))" "$GW_ERR" | grep -q ' 421 ' && break
		sleep 0.1
	done
	tail -n +"$((e0 + 1))" "$GW_ERR" | grep -q ' 421 ' || fail "ddbgate's stderr has no line about the 421 (nothing to check)"
done

step "ddbgate's output written during the case"
tail -n +"$((err0 + 1))" "$GW_ERR" | cat -A | sed 's/^/  err: /'
tail -n +"$((out0 + 1))" "$GW_OUT" | cat -A | sed 's/^/  out: /'
if grep -n '^FORGED-LINE-MARKER' "$GW_ERR" "$GW_OUT"; then
	fail "a client's SNI forged a log line (a line begins with FORGED-LINE-MARKER)"
fi
if tail -n +"$((err0 + 1))" "$GW_ERR" | LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]'; then
	fail "ddbgate's stderr has a raw control character"
fi
if tail -n +"$((out0 + 1))" "$GW_OUT" | LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]'; then
	fail "ddbgate's access log has a raw control character"
fi
echo "no forged line, no raw control character"
