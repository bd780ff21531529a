# needs: infra ddbgate
# timeout: 60
#
# diag's TLS layer on the test bed's bad certificates: each completes the
# handshake far enough to report the presented chain, gives OpenSSL's
# reason and a hint that says what to check, and exits 6; a port that
# does not speak TLS is a handshake failure; an arbitrary HOST:PORT is
# verified against the system bundle unless --ca-file says otherwise.
# Client:   ddbgate diag -c CFG --endpoint NAME (human), the whole
#           configuration (--json); ddbgate diag -c CFG2
#           vpce-record-1234...:8443 --allow 127.0.0.0/8 [--ca-file
#           upstream-ca.pem].
# Config:   endpoints (ca_file upstream-ca.pem, allowed_cidrs
#           [127.0.0.0/8]), each with hosts [<name>.ddbgate.test] and a fixed
#           upstream: expired 127.0.0.31:8443, notyet 127.0.0.32:8443,
#           wrongname 127.0.0.33:8443, selfsigned 127.0.0.34:8443, untrusted
#           127.0.0.35:8443, nointermediate 127.0.0.36:8443, chain
#           127.0.0.23:8443, plain 127.0.0.20:8000 (dynalite without TLS).
#           CFG2: resolver ["127.0.0.1:5353"] (the test bed's dnsmasq).
# Upstream: the test bed's recorders with those certificates (pki.sh);
#           dynalite's plain HTTP port.
# Expect:   exit 6 for each, "FAIL tls" with OpenSSL's reason and the hint:
#             expired: "certificate has expired"; "expired on
#               2021-01-01T00:00:00Z: it must be renewed; if it is AWS's,
#               check this host's clock (NTP)"
#             notyet: "certificate is not yet valid"; "is valid only from
#               <date>: check this host's clock (NTP)"
#             wrongname: "hostname mismatch"; "the certificate is for
#               vpce-wrongname-1234..., wrong.ddbgate.test, not
#               wrongname.ddbgate.test: clients verify the name they ask for"
#             selfsigned: "self-signed certificate"; "127.0.0.34:8443
#               presents a self-signed certificate (CN=selfsigned...)"
#             untrusted: "unable to get local issuer certificate"; "the CA
#               bundle <upstream-ca.pem> lacks the issuer CN=ddbgate test
#               untrusted CA,O=ddbgate tests"
#             nointermediate: the same naming CN=ddbgate test upstream
#               intermediate (pki.sh's `openssl ca` keeps only the CN)
#             plain: handshake_failed, hint "the TLS handshake with
#               127.0.0.20:8000 failed (...): is this a TLS port"
#           and http SKIP ("no verified TLS session"). chain: tls PASS/WARN
#           with two certificates in the chain. JSON of the whole
#           configuration: verify codes 10, 9, 62, 18, 20, 20;
#           name_match false only for wrongname; the expired leaf's
#           days_to_expiry < 0; exit_code 6; valid against the schema.
#           Arbitrary name: endpoint null, service dynamodb (guessed),
#           verified against /etc/ssl/certs/ca-certificates.crt: "lacks the
#           issuer CN=ddbgate test upstream CA"; with --ca-file: "hostname
#           mismatch" (up-good is for the asked-for names, not vpce- ones).
. "$IT_DIR/diag_lib.sh"
cfg="$CASE_TMP/diag.yaml"
{
	for e in expired:31 notyet:32 wrongname:33 selfsigned:34 untrusted:35 nointermediate:36 chain:23; do
		dg_endpoint "${e%:*}" "${e%:*}.ddbgate.test" "127.0.0.${e#*:}:$UP_PORT"
	done
	dg_endpoint plain truncated.ddbgate.test "$DYNALITE_IP:$DYNALITE_PORT"
} | dg_conf "$cfg" "$DNS"
UPCA="$PKI/upstream-ca.pem"

tls_case() { # ENDPOINT REASON HINT-ERE
	diag_run "$1" -c "$cfg" --endpoint "$1"
	expect_exit 6
	expect_line "^  FAIL  tls +[0-9]+ ms  0/1 verified for $1\.ddbgate\.test; 127\.0\.0\.[0-9]+:8443: $2" \
		"^        hint: $3" '^  SKIP  http +[0-9]+ ms  no verified TLS session' \
		'^result: FAIL, first failing layer: tls \(exit 6\)$'
}

step "expired"
tls_case expired 'certificate has expired$' \
	"the certificate of 127\.0\.0\.31:8443 \(CN=expired\.ddbgate\.test\) expired on 2021-01-01T00:00:00Z: it must be renewed; if it is AWS's, check this host's clock \(NTP\)$"
step "not yet valid"
tls_case notyet 'certificate is not yet valid$' \
	"the certificate of 127\.0\.0\.32:8443 \(CN=notyet\.ddbgate\.test\) is valid only from 20[0-9-]+T[0-9:]+Z: check this host's clock \(NTP\)$"
step "wrong name"
tls_case wrongname 'hostname mismatch$' \
	"the certificate is for vpce-wrongname-1234\.dynamodb\.us-east-1\.vpce\.amazonaws\.com, wrong\.ddbgate\.test, not wrongname\.ddbgate\.test: clients verify the name they ask for; is 127\.0\.0\.33:8443 an address of this endpoint's service"
step "self-signed"
tls_case selfsigned 'self-signed certificate$' \
	"127\.0\.0\.34:8443 presents a self-signed certificate \(CN=selfsigned\.ddbgate\.test,O=ddbgate tests\): no AWS endpoint does; what else listens on this address\?$"
step "issuer not in ca_file"
tls_case untrusted 'unable to get local issuer certificate$' \
	"the CA bundle ${UPCA//./\\.} lacks the issuer CN=ddbgate test untrusted CA,O=ddbgate tests: add the CA that issued the endpoint's certificate to ca_file"
step "intermediate not sent"
tls_case nointermediate 'unable to get local issuer certificate$' \
	"the CA bundle ${UPCA//./\\.} lacks the issuer CN=ddbgate test upstream intermediate: "

step "not a TLS port"
diag_run plain -c "$cfg" --endpoint plain
expect_exit 6
expect_line '^  FAIL  tls +[0-9]+ ms  0/1 verified for truncated\.ddbgate\.test; 127\.0\.0\.20:8000: ' \
	'^        hint: the TLS handshake with 127\.0\.0\.20:8000 failed \(.+\): is this a TLS port of the endpoint\? AWS endpoints need TLS 1\.2 or later and SNI truncated\.ddbgate\.test$'

step "the whole configuration as JSON"
diag_json all -c "$cfg"
expect_exit 6
dq '[ev(n, "tls")["handshakes"][0]["verify"]["code"] for n in ("expired", "notyet", "wrongname", "selfsigned", "untrusted", "nointermediate")] == [10, 9, 62, 18, 20, 20]' \
	"OpenSSL's verification codes"
dq '[n for n in ("expired", "notyet", "wrongname", "selfsigned", "untrusted", "nointermediate") if not ev(n, "tls")["handshakes"][0]["name_match"]] == ["wrongname"]' \
	"only wrongname fails the name check"
dq 'ev("expired", "tls")["handshakes"][0]["chain"][0]["days_to_expiry"] < 0 and ev("expired", "tls")["handshakes"][0]["chain"][0]["not_after"] == "2021-01-01T00:00:00Z"' \
	"the expired leaf's dates"
dq 'ev("untrusted", "tls")["handshakes"][0]["chain"][0]["issuer"] == "CN=ddbgate test untrusted CA,O=ddbgate tests" and ev("untrusted", "tls")["handshakes"][0]["verify"]["depth"] == 0' \
	"the untrusted chain as presented"
dq 's("chain", "tls")["status"] in ("pass", "warn") and len(ev("chain", "tls")["handshakes"][0]["chain"]) == 2' "leaf + intermediate verify"
dq 'ev("plain", "tls")["handshakes"][0]["result"] == "handshake_failed" and "chain" not in ev("plain", "tls")["handshakes"][0]' "no chain from a plain port"
dq 'all(s(n, "http")["status"] == "skip" for n in ("expired", "notyet", "wrongname", "selfsigned", "untrusted", "nointermediate", "plain"))' \
	"no request over an unverified session"

step "an arbitrary name: the system bundle, then --ca-file"
{
	echo "  - name: unused"
	echo "    service: dynamodb"
	echo "    hosts: [unused.ddbgate.test]"
} | dg_conf "$CASE_TMP/any.yaml" "$DNS"
V="vpce-record-1234.$VPCE_SUFFIX"
diag_run any -c "$CASE_TMP/any.yaml" "$V:$UP_PORT" --allow 127.0.0.0/8
expect_exit 6
expect_line "^target ${V//./\\.}:8443 \(dynamodb\)$" \
	"^  FAIL  tls +[0-9]+ ms  0/1 verified for ${V//./\\.}; 127\.0\.0\.22:8443: unable to get local issuer certificate" \
	'^        hint: the CA bundle /etc/ssl/certs/ca-certificates\.crt lacks the issuer CN=ddbgate test upstream CA,O=ddbgate tests'
diag_json any -c "$CASE_TMP/any.yaml" "$V:$UP_PORT" --allow 127.0.0.0/8 --ca-file "$UPCA"
expect_exit 6
dq 'd["targets"][0]["endpoint"] is None and d["targets"][0]["service"] == "dynamodb" and d["targets"][0]["port"] == 8443' "an arbitrary target"
dq 'd["targets"][0]["steps"][3]["evidence"]["handshakes"][0]["verify"]["reason"] == "hostname mismatch"' "verified against --ca-file"
