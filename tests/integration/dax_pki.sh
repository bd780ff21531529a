#!/bin/bash
# dax_pki.sh OUTDIR — certificates for the DAX test cluster (daxnode.py), with
# the openssl CLI (OpenSSL 3.0), fresh on every run.
#
#   dax-ca.pem                "DAX test CA": DAX clients trust it (NODE_EXTRA_CA_CERTS)
#   dax-node.{pem,key}        node leaf for the cluster name $DAX_CLUSTER_NAME
#                             (the JS client checks every node against that name)
#   dax-wrongname.{pem,key}   valid leaf from the same CA for another cluster name
#                             ($DAX_OTHER_NAME): a client must refuse it
#   dax-untrusted.{pem,key}   leaf for the cluster name from a CA nobody trusts
#   dax-untrusted-ca.pem      ... that CA
#
# DAX_CLUSTER_NAME / DAX_OTHER_NAME may be set in the environment.
set -euo pipefail
out=${1:?usage: dax_pki.sh OUTDIR}
CLUSTER=${DAX_CLUSTER_NAME:-orders.abc123.dax-clusters.us-east-1.amazonaws.com}
OTHER=${DAX_OTHER_NAME:-other.abc123.dax-clusters.us-east-1.amazonaws.com}
mkdir -p "$out"
cd "$out"

cat > dax-ext.cnf <<'CNF'
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:${ENV::LEAF_NAME}
CNF

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca OUTNAME CN — a self-signed root valid from yesterday for 30 days
ca() {
	newkey "$1.key"
	openssl req -new -x509 -key "$1.key" -subj "/O=ddbgate tests/CN=$2" -days 30 \
		-config dax-ext.cnf -extensions root -out "$1.pem" 2>/dev/null
}

# leaf CA OUTNAME DNSNAME — a server leaf signed by CA, valid 30 days
leaf() {
	local caname=$1 outn=$2 name=$3
	newkey "$outn.key"
	openssl req -new -key "$outn.key" -subj "/O=ddbgate tests/CN=$name" -out "$outn.csr" 2>/dev/null
	LEAF_NAME=$name openssl x509 -req -in "$outn.csr" -CA "$caname.pem" -CAkey "$caname.key" \
		-CAcreateserial -days 30 -sha256 -extfile dax-ext.cnf -extensions leaf \
		-out "$outn.pem" 2>/dev/null
	rm -f "$outn.csr"
}

LEAF_NAME=unused ca dax-ca "ddbgate DAX test CA"
LEAF_NAME=unused ca dax-untrusted-ca "ddbgate DAX untrusted CA"
leaf dax-ca dax-node "$CLUSTER"
leaf dax-ca dax-wrongname "$OTHER"
leaf dax-untrusted-ca dax-untrusted "$CLUSTER"
chmod 600 ./*.key
echo "dax pki: ok ($out)"
