# needs: infra
# timeout: 40
#
# Proves each test upstream presents the certificate its case needs, judged
# by OpenSSL itself, without ddbgate.
# Client:   openssl s_client -CAfile upstream-ca.pem -verify_hostname <asked-for name>
#           -verify_return_error, to every recorder, with SNI = the asked-for name.
# Upstream: recorder.py instances (see run.sh RECORDERS).
# Expect:   record/chain/guard/truncated/idleclose verify (code 0); expired -> 10 certificate has expired;
#           notyet -> 9 certificate is not yet valid; wrongname -> 62 hostname mismatch;
#           selfsigned -> 18 self-signed certificate; untrusted and nointermediate ->
#           20 unable to get local issuer certificate.  The bad recorders receive
#           zero application bytes.
probe() { # RECORDER IP NAME WANT-CODE
	local out code
	out=$(timeout 10 openssl s_client -connect "$2:$UP_PORT" -servername "$3" -verify_hostname "$3" \
		-CAfile "$PKI/upstream-ca.pem" -verify_return_error </dev/null 2>&1)
	code=$(echo "$out" | sed -n 's/.*Verify return code: \([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$code" ] || code=$(echo "$out" | sed -n 's/^verify error:num=\([0-9]*\).*/\1/p' | head -n 1)
	echo "$1 ($3 @ $2): code $code: $(echo "$out" | grep -E -m1 'verify error|Verify return code')"
	[ "$code" = "$4" ] || { echo "$out" | tail -n 20; fail "$1: verify code '$code', expected $4"; }
}
probe record 127.0.0.22 record.ddbgate.test 0
probe chain 127.0.0.23 chain.ddbgate.test 0
probe guard 127.0.0.37 guard.ddbgate.test 0
probe truncated 127.0.0.24 truncated.ddbgate.test 0
probe idleclose 127.0.0.25 idleclose.ddbgate.test 0
for r in expired notyet wrongname selfsigned untrusted nointermediate; do eval "m_$r=\$(rec_mark $r)"; done
probe expired 127.0.0.31 expired.ddbgate.test 10
probe notyet 127.0.0.32 notyet.ddbgate.test 9
probe wrongname 127.0.0.33 wrongname.ddbgate.test 62
probe selfsigned 127.0.0.34 selfsigned.ddbgate.test 18
probe untrusted 127.0.0.35 untrusted.ddbgate.test 20
probe nointermediate 127.0.0.36 nointermediate.ddbgate.test 20
sleep 0.3
for r in expired notyet wrongname selfsigned untrusted nointermediate; do
	eval "rec_expect_nothing_forwarded $r \$m_$r"
done
