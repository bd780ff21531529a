# needs: gateway
# timeout: 30
#
# Client:   curl -k signed ListTables to https://127.0.0.80/ : an IP literal, so
#           curl sends no SNI at all; Host is 127.0.0.80.
# Config:   no endpoint lists 127.0.0.80.
# Upstream: none.
# Expect:   421 ddbgate#MisdirectedRequest with a Proxy-Status header (sni mode
#           routes by SNI; without one there is nothing to route by).
url="https://$GW_IP/"
[ "$GW_PORT" = 443 ] || url="https://$GW_IP:$GW_PORT/"
RESP_STATUS=$(curl -sS -k --max-time 20 --aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
	-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
	--data-binary '{}' -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" -w '%{http_code}' \
	"$url" 2>"$CASE_TMP/curl.err")
echo "-> $RESP_STATUS $(cat "$CASE_TMP/resp.body") $(cat "$CASE_TMP/curl.err")"
expect_proxy_error 421 MisdirectedRequest -
