# needs: infra
# timeout: 30
#
# Proves recorder.py records exactly what a client sends, without ddbgate.
# Client:   curl, SigV4-signed PutItem to https://record.ddbgate.test:8443/ (--trace).
# Upstream: recorder.py "record" at 127.0.0.22:8443 (leaf up-good).
# Expect:   200 with x-amzn-RequestId rec-record-<conn>-1; the bytes curl's trace
#           says it sent are, unchanged, in the recorder's conn-NNNN.in; the
#           recorder logged the SNI record.ddbgate.test.
H=record.ddbgate.test
curl -sS --max-time 10 --resolve "$H:$UP_PORT:127.0.0.22" --cacert "$PKI/upstream-ca.pem" \
	--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
	-H "X-Amz-Target: DynamoDB_20120810.PutItem" -H "Content-Type: application/x-amz-json-1.0" \
	--data-binary '{"TableName":"t","Item":{"pk":{"S":"infra-recorder"}}}' \
	--trace "$CASE_TMP/trace" -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
	"https://$H:$UP_PORT/" 2>"$CASE_TMP/curl.err" || fail "curl failed: $(cat "$CASE_TMP/curl.err")"
RESP_STATUS=$(head -n 1 "$CASE_TMP/resp.headers" | cut -d' ' -f2)
expect_status 200
case "$(header x-amzn-RequestId)" in rec-record-*-1) ;; *) fail "unexpected x-amzn-RequestId '$(header x-amzn-RequestId)'" ;; esac
/usr/bin/python3 "$IT_DIR/rawclient.py" curltrace "$CASE_TMP/trace" >"$CASE_TMP/sent"
[ -s "$CASE_TMP/sent" ] || fail "could not extract the sent bytes from curl's trace"
rec_expect_bytes record "$CASE_TMP/sent"
rec_expect_sni record "$REC_CONN" "$H"
