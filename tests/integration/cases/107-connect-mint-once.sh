# needs: gateway
# timeout: 90
#
# `ddbgate ca init` and the certificates the gateway CA mints: a
# name-constrained CA with a private key file of mode 0600; one leaf per
# name, minted once however many first connections arrive together; a name
# outside the CA's constraints is never minted.
# Client:   (a) `ddbgate ca init --dir <case>/ca -c ca-scope.yaml` (endpoint
#               hosts under ddbgate.test only) and `ddbgate ca init --dir
#               <case>/ca2 -c ddbgate.yaml` (hosts under ddbgate.test and
#               amazonaws.com); `ca init` again into <case>/ca; openssl x509 -text.
#           (b) 20 x `openssl s_client -proxy 127.0.1.107:3128 -connect
#               record.ddbgate.test:443 -servername record.ddbgate.test -CAfile
#               ca.pem -verify_return_error -showcerts`, all started at once.
#           (c) mint_burst.py: 20 CONNECT other.ddbgate.test:443 tunnels opened
#               first, then their 20 TLS handshakes released together (a barrier).
#           (d) curl -x ... https://record.ddbgate.test/ (signed ListTables),
#               s_client for truncated.ddbgate.test.
#           (e) s_client -proxy ... -connect dynamodb.us-east-1.amazonaws.com:443
#               (a host of the configuration, outside the CA's constraints).
# Config:   case-local ddbgate, workers: 4:
#             listeners: [{address: 127.0.1.107:3128, mode: connect}]
#             tls: {ca_cert: <case>/ca/ca.pem, ca_key: <case>/ca/ca.key}
#             endpoints: [{name: minted, hosts: [record.ddbgate.test,
#                            other.ddbgate.test, truncated.ddbgate.test],
#                          upstream: vpce-record-1234...:8443},
#                         {name: outside, hosts: [dynamodb.us-east-1.amazonaws.com],
#                          upstream: vpce-good-1234...:8443}]
# Upstream: recorder "record" (stunnel -> dynalite for "outside", never reached).
# Expect:   (a) exit 0; stdout "signs only names under: ddbgate.test" (ca2:
#               "... ddbgate.test amazonaws.com") and names DIR/ca.pem, DIR/ca.key;
#               DIR mode 0700, ca.key 0600, ca.pem 0644; the CA: subject
#               "O = ddbgate, CN = ddbgate gateway CA <host>", self-issued, EC
#               P-256, basicConstraints critical CA:TRUE, pathlen:0, keyUsage
#               critical Certificate Sign, CRL Sign, nameConstraints critical
#               with "Permitted:" exactly DNS:ddbgate.test (ca2: DNS:ddbgate.test and
#               DNS:amazonaws.com); a second `ca init` into the same DIR: exit 1,
#               names the existing file, both files unchanged.
#           (b), (c) every handshake verifies (return code 0), and all 20
#               served leaves of one name are the same certificate (one SHA-256
#               fingerprint, one serial); the record.ddbgate.test and
#               other.ddbgate.test leaves differ.
#           The record.ddbgate.test leaf: subject CN = record.ddbgate.test, SAN
#           exactly DNS:record.ddbgate.test, issuer = the CA, EC P-256,
#           basicConstraints critical CA:FALSE, keyUsage critical Digital
#           Signature, extendedKeyUsage TLS Web Server Authentication, valid
#           from 5 min before it was minted for 7 days (notAfter - notBefore =
#           605100 s), `openssl verify -CAfile ca.pem` OK.
#           (d) curl gets the same leaf again (cached), 200 from the recorder;
#               truncated.ddbgate.test gets another leaf with another key.
#           (e) the handshake fails; log "gateway CA: cannot mint a
#               certificate for dynamodb.us-east-1.amazonaws.com: ..." naming the
#               name constraint.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
IP=127.0.1.107
N=20
{
	cgw_head
	cat <<YAML
listeners:
  - address: $IP:$CONNECT_PORT
    mode: connect
endpoints:
YAML
	lgw_endpoint minted "record.ddbgate.test, other.ddbgate.test, truncated.ddbgate.test" "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$CASE_TMP/ca-scope.yaml"
cfg="$CASE_TMP/ddbgate.yaml"
{
	cat "$CASE_TMP/ca-scope.yaml"
	lgw_endpoint outside dynamodb.us-east-1.amazonaws.com "vpce-good-1234.$VPCE_SUFFIX:$UP_PORT"
	echo "workers: 4"
} >"$cfg"

step "(a) ddbgate ca init"
CA_DIR="$CASE_TMP/ca"
cgw_ca "$CASE_TMP/ca-scope.yaml"
cat "$CASE_TMP/ca-init.out"
grep -qxF "  signs only names under: ddbgate.test" "$CASE_TMP/ca-init.out" || fail "ca init does not say 'signs only names under: ddbgate.test'"
grep -qF "$CA_DIR/ca.pem" "$CASE_TMP/ca-init.out" && grep -qF "$CA_DIR/ca.key" "$CASE_TMP/ca-init.out" ||
	fail "ca init does not name $CA_DIR/ca.pem and $CA_DIR/ca.key"
perms="$(stat -c %a "$CA_DIR") $(stat -c %a "$CA_DIR/ca.key") $(stat -c %a "$CA_DIR/ca.pem")"
echo "modes: dir, ca.key, ca.pem = $perms"
[ "$perms" = "700 600 644" ] || fail "modes of the CA dir, ca.key, ca.pem are $perms, expected 700 600 644"
openssl x509 -in "$CGW_CA" -noout -text >"$CASE_TMP/ca.txt" || fail "ca.pem is not a certificate"
# x509_text_has FILE LINE... — each LINE is a line of FILE (leading blanks ignored).
x509_text_has() {
	local f=$1 l
	shift
	for l in "$@"; do
		sed 's/^ *//; s/ *$//' "$f" | grep -qxF -- "$l" || { cat "$f"; fail "$(basename "$f"): no line '$l'"; }
	done
}
x509_text_has "$CASE_TMP/ca.txt" "Subject: O = ddbgate, CN = ddbgate gateway CA $(hostname)" \
	"Issuer: O = ddbgate, CN = ddbgate gateway CA $(hostname)" 'ASN1 OID: prime256v1' \
	'X509v3 Basic Constraints: critical' 'CA:TRUE, pathlen:0' 'X509v3 Key Usage: critical' 'Certificate Sign, CRL Sign' \
	'X509v3 Name Constraints: critical' 'Permitted:' 'DNS:ddbgate.test'
sed -n '/Name Constraints/,/^ *X509v3 [A-Z][a-z]* Key Identifier\|Signature Algorithm/p' "$CASE_TMP/ca.txt" | sed 's/^/  /'
[ "$(grep -c 'DNS:' "$CASE_TMP/ca.txt")" = 1 ] || fail "the CA's name constraints list other names than DNS:ddbgate.test"
grep -q 'Excluded:' "$CASE_TMP/ca.txt" && fail "the CA has excluded subtrees"
"$DDBGATE" ca init --dir "$CASE_TMP/ca2" -c "$cfg" >"$CASE_TMP/ca2-init.out" 2>&1 || fail "ca init for ca2: $(cat "$CASE_TMP/ca2-init.out")"
grep -qxF "  signs only names under: ddbgate.test amazonaws.com" "$CASE_TMP/ca2-init.out" ||
	fail "ca init (both domains): $(grep 'signs only' "$CASE_TMP/ca2-init.out")"
openssl x509 -in "$CASE_TMP/ca2/ca.pem" -noout -text >"$CASE_TMP/ca2.txt"
x509_text_has "$CASE_TMP/ca2.txt" 'X509v3 Name Constraints: critical' 'Permitted:' 'DNS:ddbgate.test' 'DNS:amazonaws.com'
sums=$(sha256sum "$CA_DIR/ca.pem" "$CA_DIR/ca.key")
out=$("$DDBGATE" ca init --dir "$CA_DIR" -c "$CASE_TMP/ca-scope.yaml" 2>&1)
rc=$?
echo "ca init again: exit $rc: $out"
[ "$rc" = 1 ] || fail "a second ca init into $CA_DIR exited $rc, expected 1"
echo "$out" | grep -qF "$CA_DIR/ca." || fail "a second ca init does not name the existing file: $out"
[ "$(sha256sum "$CA_DIR/ca.pem" "$CA_DIR/ca.key")" = "$sums" ] || fail "a second ca init changed the CA files"

cgw_start $IP "$cfg"

# leaf_of OUT — the first certificate of s_client -showcerts output OUT.
leaf_of() { sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/{p;/-----END/q}' "$1"; }
fp() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }

step "(b) $N openssl s_client at once, first connections for record.ddbgate.test"
pids=()
for i in $(seq 1 $N); do
	start_bg "$CASE_TMP/sc.$i" timeout 15 openssl s_client -proxy "$IP:$CONNECT_PORT" -connect record.ddbgate.test:443 \
		-servername record.ddbgate.test -CAfile "$CGW_CA" -verify_return_error -showcerts </dev/null
	pids+=("$BG_PID")
done
for p in "${pids[@]}"; do wait "$p"; done
for i in $(seq 1 $N); do
	grep -q 'Verify return code: 0 (ok)' "$CASE_TMP/sc.$i.out" ||
		fail "s_client $i: no 'Verify return code: 0 (ok)': $(tail -n 5 "$CASE_TMP/sc.$i.out" "$CASE_TMP/sc.$i.err")"
	leaf_of "$CASE_TMP/sc.$i.out" >"$CASE_TMP/leaf.$i.pem"
	fp <"$CASE_TMP/leaf.$i.pem"
done >"$CASE_TMP/fps"
sort "$CASE_TMP/fps" | uniq -c | sed 's/^/  fingerprints: /'
[ "$(wc -l <"$CASE_TMP/fps")" = $N ] || fail "only $(wc -l <"$CASE_TMP/fps") of $N fingerprints"
[ "$(sort -u "$CASE_TMP/fps" | wc -l)" = 1 ] || fail "the $N first connections got $(sort -u "$CASE_TMP/fps" | wc -l) different certificates for record.ddbgate.test"
FRESH_FP=$(head -n 1 "$CASE_TMP/fps")
cp "$CASE_TMP/leaf.1.pem" "$CASE_TMP/fresh.pem"

step "the record.ddbgate.test leaf"
openssl x509 -in "$CASE_TMP/fresh.pem" -noout -text >"$CASE_TMP/fresh.txt"
x509_text_has "$CASE_TMP/fresh.txt" 'Subject: CN = record.ddbgate.test' "Issuer: O = ddbgate, CN = ddbgate gateway CA $(hostname)" \
	'ASN1 OID: prime256v1' 'X509v3 Basic Constraints: critical' 'CA:FALSE' 'X509v3 Key Usage: critical' 'Digital Signature' \
	'X509v3 Extended Key Usage:' 'TLS Web Server Authentication' 'X509v3 Subject Alternative Name:' 'DNS:record.ddbgate.test'
[ "$(grep -c 'DNS:' "$CASE_TMP/fresh.txt")" = 1 ] || fail "the leaf names other DNS names than record.ddbgate.test"
nb=$(date -u -d "$(openssl x509 -in "$CASE_TMP/fresh.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -u -d "$(openssl x509 -in "$CASE_TMP/fresh.pem" -noout -enddate | cut -d= -f2)" +%s)
now=$(date +%s)
echo "leaf valid $(openssl x509 -in "$CASE_TMP/fresh.pem" -noout -startdate -enddate | tr '\n' ' '): $((na - nb)) s"
[ $((na - nb)) = 605100 ] || fail "the leaf is valid for $((na - nb)) s, expected 7 days + the 5-minute backdating (605100 s)"
[ $((now - nb)) -ge 290 ] && [ $((now - nb)) -le 400 ] || fail "notBefore is $((now - nb)) s ago, expected about 300 s"
openssl verify -CAfile "$CGW_CA" "$CASE_TMP/fresh.pem" | sed 's/^/  /'
[ "$(openssl verify -CAfile "$CGW_CA" "$CASE_TMP/fresh.pem" 2>&1)" = "$CASE_TMP/fresh.pem: OK" ] || fail "openssl verify of the leaf against the CA failed"

step "(c) $N handshakes released together (barrier), other.ddbgate.test"
/usr/bin/python3 "$IT_DIR/mint_burst.py" --proxy "$IP:$CONNECT_PORT" --name other.ddbgate.test --cafile "$CGW_CA" -n $N \
	>"$CASE_TMP/burst.jsonl" 2>&1 || { cat "$CASE_TMP/burst.jsonl"; fail "mint_burst.py: not every handshake verified"; }
/usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["sha256"]) for l in open(sys.argv[1])]' "$CASE_TMP/burst.jsonl" >"$CASE_TMP/burst.fps"
sort "$CASE_TMP/burst.fps" | uniq -c | sed 's/^/  fingerprints: /'
[ "$(wc -l <"$CASE_TMP/burst.fps")" = $N ] || fail "only $(wc -l <"$CASE_TMP/burst.fps") of $N burst handshakes reported"
[ "$(sort -u "$CASE_TMP/burst.fps" | wc -l)" = 1 ] || fail "the $N simultaneous first handshakes got $(sort -u "$CASE_TMP/burst.fps" | wc -l) different certificates"
bfp=$(head -n 1 "$CASE_TMP/burst.fps" | tr a-f A-F)
[ "$bfp" != "$(echo "$FRESH_FP" | tr -d :)" ] || fail "other.ddbgate.test got the record.ddbgate.test certificate"

step "(d) cached: curl gets the same leaf; another name, another leaf and key"
certs=$(curl -sS --max-time 10 -x "$CGW_PROXY" --cacert "$CGW_CA" --aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
	-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" --data-binary '{}' \
	-D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" -w '%{certs}' https://record.ddbgate.test/ 2>"$CASE_TMP/curl.err")
RESP_STATUS=$(sed -n '$!d;$p' <(grep -E '^HTTP/' "$CASE_TMP/resp.headers") | cut -d' ' -f2)
expect_from record
printf '%s\n' "$certs" | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/{p;/-----END/q}' >"$CASE_TMP/curl-leaf.pem"
[ "$(fp <"$CASE_TMP/curl-leaf.pem")" = "$FRESH_FP" ] || fail "curl got another certificate for record.ddbgate.test: $(fp <"$CASE_TMP/curl-leaf.pem")"
timeout 10 openssl s_client -proxy "$IP:$CONNECT_PORT" -connect truncated.ddbgate.test:443 -servername truncated.ddbgate.test \
	-CAfile "$CGW_CA" -verify_return_error -showcerts </dev/null >"$CASE_TMP/second.out" 2>&1 || fail "s_client truncated.ddbgate.test failed"
leaf_of "$CASE_TMP/second.out" >"$CASE_TMP/second.pem"
openssl x509 -in "$CASE_TMP/second.pem" -noout -ext subjectAltName | grep -qx ' *DNS:truncated.ddbgate.test' || fail "truncated.ddbgate.test leaf SAN"
[ "$(fp <"$CASE_TMP/second.pem")" != "$FRESH_FP" ] || fail "truncated.ddbgate.test got record.ddbgate.test's certificate"
[ "$(openssl x509 -in "$CASE_TMP/second.pem" -noout -pubkey)" != "$(openssl x509 -in "$CASE_TMP/fresh.pem" -noout -pubkey)" ] ||
	fail "two names share one key"

step "(e) a host outside the CA's name constraints is not minted"
emark=$(log_mark "$LGW_ERR")
timeout 10 openssl s_client -proxy "$IP:$CONNECT_PORT" -connect dynamodb.us-east-1.amazonaws.com:443 \
	-servername dynamodb.us-east-1.amazonaws.com -CAfile "$CGW_CA" </dev/null >"$CASE_TMP/outside.out" 2>&1
grep -q 'BEGIN CERTIFICATE' "$CASE_TMP/outside.out" && fail "a certificate was served for dynamodb.us-east-1.amazonaws.com"
line=$(wait_log "$LGW_ERR" "$emark" 'gateway CA: cannot mint a certificate for dynamodb\.us-east-1\.amazonaws\.com: ' 30) ||
	fail "no 'gateway CA: cannot mint a certificate for dynamodb.us-east-1.amazonaws.com' log line"
echo "log: $line"
echo "$line" | grep -qi 'constraint\|permitted\|outside' || fail "the mint refusal does not name the name constraints: $line"

step "the case-local gateway stops cleanly"
lgw_stop
