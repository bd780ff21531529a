# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://nointermediate.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-nointermediate, hosts: [nointermediate.ddbgate.test],
#             upstream: vpce-nointermediate-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "nointermediate" (127.0.0.36) presenting a leaf signed by an intermediate it does not send (ca_file has the root only).
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming nointermediate.ddbgate.test, the upstream (127.0.0.36 or its vpce- name) and
#           OpenSSL's reason ("unable to get local issuer certificate"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=nointermediate.ddbgate.test
m=$(rec_mark nointermediate)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'nointermediate\.ddbgate\.test' '(127\.0\.0\.36|vpce-nointermediate-1234)' 'local issuer'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded nointermediate "$m"
