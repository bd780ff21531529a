# needs: gateway
# timeout: 30
#
# Client:   one curl process, two URLs (two SigV4-signed ListTables) to
#           dynamodb.us-east-1.amazonaws.com via 127.0.0.80; curl reuses the
#           connection when the proxy keeps it open.
# Config:   endpoint ddb-use1.
# Upstream: stunnel4 -> dynalite.
# Expect:   both 200 {"TableNames": [...]}; curl's %{num_connects} is 1 then 0
#           (the second request went over the first connection); two access-log lines.
H=dynamodb.us-east-1.amazonaws.com
mark=$(alog_mark)
out=$(curl -sS --max-time 20 --resolve "$H:$GW_PORT:$GW_IP" --cacert "$PKI/gw-ca.pem" \
	--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
	-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
	--data-binary '{}' -w '%{http_code} %{num_connects}\n' \
	-o "$CASE_TMP/b1" -o "$CASE_TMP/b2" "https://$H:$GW_PORT/" "https://$H:$GW_PORT/" 2>"$CASE_TMP/curl.err")
echo "curl: $out $(cat "$CASE_TMP/curl.err")"
[ "$(echo "$out" | tr '\n' ' ')" = "200 1 200 0 " ] || fail "expected '200 1 / 200 0' (status, new connections), got: $(echo "$out" | tr '\n' ' ')"
for b in b1 b2; do
	"$IT_DIR/jsonq.py" "$CASE_TMP/$b" "isinstance(d['TableNames'], list)" >/dev/null || fail "response $b is not ListTables': $(cat "$CASE_TMP/$b")"
done
alog_expect "$mark" 'DynamoDB_20120810\.ListTables'
[ "$(tail -n +"$((mark + 1))" "$GW_OUT" | grep -c 'DynamoDB_20120810\.ListTables')" -ge 2 ] || fail "fewer than two access-log lines for the two requests"
