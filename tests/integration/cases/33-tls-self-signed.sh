# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://selfsigned.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-selfsigned, hosts: [selfsigned.ddbgate.test],
#             upstream: vpce-selfsigned-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "selfsigned" (127.0.0.34) presenting a self-signed leaf for the asked-for name.
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming selfsigned.ddbgate.test, the upstream (127.0.0.34 or its vpce- name) and
#           OpenSSL's reason ("self-signed certificate"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=selfsigned.ddbgate.test
m=$(rec_mark selfsigned)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'selfsigned\.ddbgate\.test' '(127\.0\.0\.34|vpce-selfsigned-1234)' 'self[- ]signed'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded selfsigned "$m"
