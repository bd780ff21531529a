# needs: gateway
# timeout: 30
#
# Byte-for-byte forwarding of a request written by hand, with header
# spellings a re-serialising proxy would change.
# Client:   rawclient.py: one TLS connection to 127.0.0.80 (SNI record.ddbgate.test),
#           one write of a SigV4-signed request whose header names are all lower
#           case, plus `x-odd-spacing:  two  spaces ` (no space after the colon
#           in the signed form, inner and trailing blanks) and `X-MiXeD-CaSe: Value`.
# Config:   endpoint recorder (see forward-bytes-curl).
# Upstream: recorder.py "record".
# Expect:   the recorder got exactly the bytes written; the response's status,
#           x-amzn-RequestId and body are the recorder's.
H=record.ddbgate.test
build_request $H DynamoDB_20120810.GetItem \
	'{"TableName":"recorded","Key":{"pk":{"S":"fwd-raw"}}}' --lower-names \
	--raw-header 'x-odd-spacing:  two  spaces ' --raw-header 'X-MiXeD-CaSe: Value' >"$CASE_TMP/req"
cat -A "$CASE_TMP/req"
raw_send $H "$CASE_TMP/req" 1
raw_use 1
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the recorder's body was not relayed"
case "$(header x-amzn-RequestId)" in rec-record-*) ;; *) fail "x-amzn-RequestId is not the recorder's" ;; esac
rec_expect_bytes record "$CASE_TMP/req"
rec_expect_sni record "$REC_CONN" "$H"
