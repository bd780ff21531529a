# needs: gateway
# timeout: 30
#
# Client:   curl, SigV4-signed ListTables to https://wrongname.ddbgate.test/ via 127.0.0.80.
# Config:   endpoints: [{name: tls-wrongname, hosts: [wrongname.ddbgate.test],
#             upstream: vpce-wrongname-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "wrongname" (127.0.0.33) presenting a leaf valid for the routing name vpce-wrongname-1234... only (so only verifying the asked-for name catches it).
# Expect:   502 ddbgate#TlsCertificateError, Proxy-Status error=tls_certificate_error,
#           a message naming wrongname.ddbgate.test, the upstream (127.0.0.33 or its vpce- name) and
#           OpenSSL's reason ("hostname mismatch"); the recorder saw a TLS handshake attempt but
#           ZERO application bytes; an access-log line with status 502.
H=wrongname.ddbgate.test
m=$(rec_mark wrongname)
mark=$(alog_mark)
gw_request $H DynamoDB_20120810.ListTables '{}'
expect_proxy_error 502 TlsCertificateError tls_certificate_error \
	'wrongname\.ddbgate\.test' '(127\.0\.0\.33|vpce-wrongname-1234)' 'mismatch'
alog_expect "$mark" 'DynamoDB_20120810\.ListTables' '(^|[^0-9])502([^0-9]|$)'
sleep 0.3
rec_expect_nothing_forwarded wrongname "$m"
