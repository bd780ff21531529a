# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://untrusted.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-untrusted, hosts: [untrusted.ddbgate.test],
#             upstream: vpce-untrusted-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "untrusted" (127.0.0.35) presenting a leaf for the asked-for name from a CA not in ca_file.
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming untrusted.ddbgate.test, the upstream (127.0.0.35 or its vpce- name) and
#           OpenSSL's reason ("unable to get local issuer certificate"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=untrusted.ddbgate.test
m=$(rec_mark untrusted)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'untrusted\.ddbgate\.test' '(127\.0\.0\.35|vpce-untrusted-1234)' 'local issuer'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded untrusted "$m"
