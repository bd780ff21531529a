# needs: gateway
# timeout: 30
#
# Client:   curl signed PutItem to record.ddbgate.test, body of 70000 bytes
#           (valid JSON) with a unique marker inside; then a body of 60000 bytes.
# Config:   limits: {max_body_bytes: 65536}; endpoint recorder.
# Upstream: recorder.py "record".
# Expect:   70000 bytes -> 413 with a ddbgate# __type and a Proxy-Status header
#           (five times; curl must be able to read it, so the gateway drains the
#           body or closes lingeringly, RFC 9112 section 9.6), and the upstream
#           never receives the marker; 60000 bytes -> 200 from the recorder (the
#           limit, not the body, made the difference).
body() { # SIZE MARKER
	/usr/bin/python3 -c 'import json, sys
n, mk = int(sys.argv[1]), sys.argv[2]
doc = {"TableName": "recorded", "Item": {"pk": {"S": mk}, "pad": {"S": ""}}}
base = len(json.dumps(doc, separators=(",", ":")))
doc["Item"]["pad"]["S"] = "x" * (n - base)
sys.stdout.write(json.dumps(doc, separators=(",", ":")))' "$1" "$2"
}
# Five times: a gateway that closes without draining the unread body (no
# lingering close) makes curl see a reset instead of the 413 only sometimes.
for i in 1 2 3 4 5; do
	mk="marker-big-$i-$(unique)"
	body 70000 "$mk" >"$CASE_TMP/big.json"
	[ "$(stat -c %s "$CASE_TMP/big.json")" = 70000 ] || fail "test bug: body is not 70000 bytes"
	gw_request record.ddbgate.test DynamoDB_20120810.PutItem "@$CASE_TMP/big.json"
	expect_proxy_error 413 '*' -
	sleep 0.2
	rec_expect_marker_absent "$mk"
done
body 60000 "marker-small-$(unique)" >"$CASE_TMP/small.json"
gw_request record.ddbgate.test DynamoDB_20120810.PutItem "@$CASE_TMP/small.json"
expect_status 200
