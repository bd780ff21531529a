# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://notyet.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-notyet, hosts: [notyet.ddbgate.test],
#             upstream: vpce-notyet-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "notyet" (127.0.0.32) presenting a leaf valid only from ten years from now.
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming notyet.ddbgate.test, the upstream (127.0.0.32 or its vpce- name) and
#           OpenSSL's reason ("certificate is not yet valid"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=notyet.ddbgate.test
m=$(rec_mark notyet)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'notyet\.ddbgate\.test' '(127\.0\.0\.32|vpce-notyet-1234)' 'not yet valid'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded notyet "$m"
