# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://expired.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-expired, hosts: [expired.ddbgate.test],
#             upstream: vpce-expired-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "expired" (127.0.0.31) presenting a leaf valid 2020-01-01 .. 2021-01-01.
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming expired.ddbgate.test, the upstream (127.0.0.31 or its vpce- name) and
#           OpenSSL's reason ("certificate has expired"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=expired.ddbgate.test
m=$(rec_mark expired)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'expired\.ddbgate\.test' '(127\.0\.0\.31|vpce-expired-1234)' 'has expired'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded expired "$m"
