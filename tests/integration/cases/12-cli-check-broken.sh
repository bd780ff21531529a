# needs: ddbgate infra
# timeout: 20
#
# Client:   `ddbgate check -c FILE` on two broken configurations.
# Config:   (a) bad-value.yaml: `timeout_ms: soon` on line 7 (an integer key);
#           (b) bad-syntax.yaml: an unclosed flow sequence `hosts: [a.example, b.example`.
# Expect:   exit 1 for each, and a message with FILE:LINE:COLUMN — for (a)
#           bad-value.yaml:7:<col>, for (b) bad-syntax.yaml:<line>:<col>.
cat >"$CASE_TMP/bad-value.yaml" <<YAML
region: us-east-1
listeners:
  - address: 127.0.0.82:443
    mode: sni
resolver:
  servers: ["$DNS"]
  timeout_ms: soon
endpoints:
  - name: a
    service: dynamodb
    hosts: [dynamodb.us-east-1.amazonaws.com]
    upstream: vpce-good-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443
    ca_file: $PKI/upstream-ca.pem
YAML
cat >"$CASE_TMP/bad-syntax.yaml" <<YAML
region: us-east-1
listeners:
  - address: 127.0.0.82:443
    mode: sni
endpoints:
  - name: a
    service: dynamodb
    hosts: [a.example, b.example
    upstream: vpce-good-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443
YAML
check() { # FILE REGEX
	local out rc
	out=$(timeout 10 "$DDBGATE" check -c "$CASE_TMP/$1" 2>&1)
	rc=$?
	echo "$1: exit $rc: $out"
	[ "$rc" = 1 ] || fail "ddbgate check on $1 exited $rc, expected 1"
	echo "$out" | grep -Eq -- "$2" || fail "ddbgate check on $1: no /$2/ in: $out"
}
check bad-value.yaml 'bad-value\.yaml:7:[0-9]+'
check bad-value.yaml 'timeout_ms'
check bad-syntax.yaml 'bad-syntax\.yaml:[0-9]+:[0-9]+'
