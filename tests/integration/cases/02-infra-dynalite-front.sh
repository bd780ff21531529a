# needs: infra
# timeout: 30
#
# Proves the DynamoDB backend and its TLS front, without ddbgate.
# Client:   curl, SigV4-signed, to https://dynamodb.us-east-1.amazonaws.com:8443/
#           (--resolve to 127.0.0.21, --cacert upstream CA).
# Upstream: stunnel4 (leaf up-good for the asked-for names) -> dynalite 127.0.0.20:8000.
# Expect:   ListTables -> 200 {"TableNames":[...]}; an unsigned request ->
#           400 MissingAuthenticationTokenException (dynalite only checks that a
#           signature is present, which is why byte-for-byte forwarding is proven
#           with recorder.py instead).
H=dynamodb.us-east-1.amazonaws.com
call() {
	RESP_STATUS=$(curl -sS --max-time 10 --resolve "$H:$UP_PORT:127.0.0.21" --cacert "$PKI/upstream-ca.pem" \
		-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary '{}' -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" -w '%{http_code}' \
		"$@" "https://$H:$UP_PORT/" 2>"$CASE_TMP/curl.err")
	echo "-> $RESP_STATUS $(cat "$CASE_TMP/resp.body")"
}
call --aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET"
expect_status 200
expect_json "isinstance(d['TableNames'], list)" "ListTables has no TableNames list"
call
expect_status 400
expect_json "d['__type'].endswith('MissingAuthenticationTokenException')" "unsigned request not refused by dynalite"
