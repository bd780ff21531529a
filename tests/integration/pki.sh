#!/bin/bash
# pki.sh OUTDIR — build the test PKI with the openssl CLI (fresh on every run).
#
#   gw-ca.pem                 "gateway CA": the clients trust it (curl --cacert, AWS_CA_BUNDLE)
#   gw-leaf.{pem,key}         ddbgate's static certificate: every name a client asks for
#   upstream-ca.pem           "upstream CA": ddbgate trusts it (endpoint ca_file)
#   up-good.{pem,key}         leaf for the asked-for names, signed by upstream CA
#   up-expired.*              expired leaf (2020-01-01 .. 2021-01-01)
#   up-notyet.*               leaf valid only from ten years from now
#   up-wrongname.*            leaf valid, but for the upstream *routing* name only
#   up-selfsigned.*           self-signed leaf for the asked-for name
#   up-untrusted.*            leaf for the asked-for name from a CA ddbgate does not trust
#   up-int-leaf.*             leaf signed by an intermediate of the upstream CA;
#   up-int-chain.pem          ... and that leaf followed by the intermediate (full chain)
#
# Dates are set with `openssl ca -startdate/-enddate` (OpenSSL 3.0's `x509`
# has no -not_before/-not_after).  Subject alternative names travel in the
# SAN environment variable into the shared ca.cnf.
set -euo pipefail
out=${1:?usage: pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"

# Names clients ask for (SNI / Host).  Every one of them is in gw-leaf.
ASKED_NAMES="dynamodb.us-east-1.amazonaws.com record.ddbgate.test other.ddbgate.test
chain.ddbgate.test expired.ddbgate.test notyet.ddbgate.test wrongname.ddbgate.test
selfsigned.ddbgate.test untrusted.ddbgate.test nointermediate.ddbgate.test
nxdomain.ddbgate.test dnstimeout.ddbgate.test refused.ddbgate.test public.ddbgate.test
guard.ddbgate.test truncated.ddbgate.test idleclose.ddbgate.test"

sans() { # NAME... -> DNS:a,DNS:b
	local s="" n
	for n in "$@"; do s="${s:+$s,}DNS:$n"; done
	printf '%s' "$s"
}

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = this_ca
[ this_ca ]
dir             = $ENV::CADIR
database        = $dir/index.txt
new_certs_dir   = $dir/new
serial          = $dir/serial
certificate     = $dir/ca.pem
private_key     = $dir/ca.key
default_md      = sha256
default_days    = 30
policy          = pol_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
[ pol_any ]
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_int ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
CNF

export SAN="DNS:unused" CADIR=.

mkroot() { # NAME CN
	mkdir -p "$1.db/new"; : > "$1.db/index.txt"; echo 1000 > "$1.db/serial"
	newkey "$1.db/ca"
	openssl req -new -x509 -config ca.cnf -extensions ext_root -key "$1.db/ca.key" \
		-subj "/O=ddbgate tests/CN=$2" -days 30 -out "$1.db/ca.pem"
	cp "$1.db/ca.pem" "$1.pem"
}

# sign CA_NAME OUT CN EXT START END [SAN-NAME...]
sign() {
	local ca=$1 outn=$2 cn=$3 ext=$4 start=$5 end=$6
	shift 6
	SAN=$(sans "${@:-unused.invalid}")
	newkey "$outn"
	openssl req -new -config ca.cnf -key "$outn.key" -subj "/O=ddbgate tests/CN=$cn" -out "$outn.csr"
	CADIR="$ca.db" SAN=$SAN openssl ca -batch -config ca.cnf -extensions "$ext" -notext \
		-startdate "$start" -enddate "$end" -in "$outn.csr" -out "$outn.pem" 2>"$outn.ca.log" ||
		{ cat "$outn.ca.log" >&2; return 1; }
	rm -f "$outn.csr" "$outn.ca.log"
}

NOW_M1=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
NOW_P30=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)
FUT_A=$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)
FUT_B=$(date -u -d '+3680 days' +%Y%m%d%H%M%SZ)
# shellcheck disable=SC2086
set -- $ASKED_NAMES

mkroot gw-ca "ddbgate test gateway CA"
sign gw-ca gw-leaf dynamodb.us-east-1.amazonaws.com ext_leaf "$NOW_M1" "$NOW_P30" "$@"

mkroot upstream-ca "ddbgate test upstream CA"
mkroot untrusted-ca "ddbgate test untrusted CA"

sign upstream-ca up-good dynamodb.us-east-1.amazonaws.com ext_leaf "$NOW_M1" "$NOW_P30" \
	dynamodb.us-east-1.amazonaws.com record.ddbgate.test other.ddbgate.test guard.ddbgate.test \
	refused.ddbgate.test public.ddbgate.test nxdomain.ddbgate.test dnstimeout.ddbgate.test \
	truncated.ddbgate.test idleclose.ddbgate.test
sign upstream-ca up-expired expired.ddbgate.test ext_leaf 20200101000000Z 20210101000000Z \
	expired.ddbgate.test
sign upstream-ca up-notyet notyet.ddbgate.test ext_leaf "$FUT_A" "$FUT_B" notyet.ddbgate.test
# Valid for the name ddbgate uses to *find* the upstream, not for the name the
# client asked for: a proxy that verifies against the routing name passes it.
sign upstream-ca up-wrongname vpce-wrongname-1234.dynamodb.us-east-1.vpce.amazonaws.com ext_leaf \
	"$NOW_M1" "$NOW_P30" vpce-wrongname-1234.dynamodb.us-east-1.vpce.amazonaws.com \
	wrong.ddbgate.test
sign untrusted-ca up-untrusted untrusted.ddbgate.test ext_leaf "$NOW_M1" "$NOW_P30" \
	untrusted.ddbgate.test

# Intermediate under the upstream CA, and a leaf under it.
mkdir -p up-int.db/new; : > up-int.db/index.txt; echo 2000 > up-int.db/serial
sign upstream-ca up-int.db/ca "ddbgate test upstream intermediate" ext_int "$NOW_M1" "$NOW_P30"
sign up-int up-int-leaf chain.ddbgate.test ext_leaf "$NOW_M1" "$NOW_P30" \
	chain.ddbgate.test nointermediate.ddbgate.test
cat up-int-leaf.pem up-int.db/ca.pem > up-int-chain.pem

# Self-signed leaf (not a CA, but self-issued so OpenSSL reports it as such).
newkey up-selfsigned
openssl req -new -x509 -config ca.cnf -key up-selfsigned.key -days 30 \
	-subj "/O=ddbgate tests/CN=selfsigned.ddbgate.test" \
	-addext "basicConstraints=critical,CA:FALSE" \
	-addext "subjectAltName=DNS:selfsigned.ddbgate.test" -out up-selfsigned.pem 2>/dev/null

echo "pki: ok ($out)"
