# needs: gateway
# timeout: 30
#
# Byte-for-byte forwarding of a real client's request, and SNI = asked-for name.
# Client:   curl --aws-sigv4 PutItem to https://record.ddbgate.test/ via
#           127.0.0.80, with --trace (the exact bytes curl wrote into TLS).
# Config:   endpoints: [{name: recorder, hosts: [record.ddbgate.test],
#             upstream: vpce-record-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443,
#             ca_file: upstream-ca.pem, allowed_cidrs: [127.0.0.0/8]}]
# Upstream: recorder.py "record" (127.0.0.22), leaf for record.ddbgate.test
#           only — not for the vpce- routing name.
# Expect:   the request bytes (request line, every header line in its order
#           and case — Host, Authorization, X-Amz-Date, X-Amz-Target ... — and the
#           body) reach the recorder unchanged; the recorder saw SNI
#           record.ddbgate.test; the client gets the recorder's 200, its
#           x-amzn-RequestId and body.
H=record.ddbgate.test
gw_request $H DynamoDB_20120810.PutItem \
	'{"TableName":"recorded","Item":{"pk":{"S":"fwd-curl"},"v":{"S":"SECRET-ITEM-VALUE-forward"}}}' \
	--trace "$CASE_TMP/trace"
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the recorder's body was not relayed"
rid=$(header x-amzn-RequestId)
case "$rid" in rec-record-*) ;; *) show_response; fail "x-amzn-RequestId '$rid' is not the recorder's" ;; esac
/usr/bin/python3 "$IT_DIR/rawclient.py" curltrace "$CASE_TMP/trace" >"$CASE_TMP/sent"
grep -q '^Authorization: AWS4-HMAC-SHA256 ' "$CASE_TMP/sent" || fail "curl did not sign the request"
rec_expect_bytes record "$CASE_TMP/sent"
rec_expect_sni record "$REC_CONN" "$H"
