# needs: gateway
# timeout: 60
#
# SigV4 time window and replays.
# Client:   rawclient.py build (SigV4 with key AKIDDDBGATETEST00001; --date for
#           another X-Amz-Date) + raw_send, one TLS connection per request, to
#           the case-local gateway 127.0.0.74; every request carries a unique
#           X-Ddbgate-Test-Marker header.
# Config:   case-local ddbgate (policy_lib.sh): account "111122223333";
#             endpoints:
#               - {name: replays-seen, hosts: [record.ddbgate.test],
#                  upstream: vpce-record-1234...:8443, policy: allow-all.json}
#               - {name: replays-denied, hosts: [other.ddbgate.test],
#                  upstream: vpce-record-1234...:8443, policy: allow-all.json,
#                  deny_replays: true}
#           allow-all.json: Allow (Sid AllowAll) * on * for Principal *.
# Upstream: recorder.py "record" (answers 200).
# Expect:   X-Amz-Date 20 minutes old -> 400 InvalidSignatureException
#           "Signature expired: <that date> ...", not forwarded (marker absent,
#           audit decision deny without upstreamAddress); 20 minutes ahead ->
#           400 InvalidSignatureException, not forwarded; 10 minutes old -> 200,
#           forwarded (inside the 15-minute window).
#           The same signed request sent twice to replays-seen: both 200 and
#           forwarded (the recorder got it twice); the first audit line has no
#           "replay": true, the second has "replay": true.
#           The same on replays-denied: first 200 and forwarded; second 400
#           AccessDeniedException whose message mentions the replay, not
#           forwarded (the recorder got it once), audit decision deny with
#           "replay": true; a newly signed request (new signature) -> 200.
. "$IT_DIR/policy_lib.sh"

P=DynamoDB_20120810
cat >"$CASE_TMP/allow-all.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*" }
  ]
}
JSON
{
	pgw_config_head 127.0.0.74
	echo "endpoints:"
	pgw_endpoint replays-seen record.ddbgate.test record
	echo "    policy: $CASE_TMP/allow-all.json"
	pgw_endpoint replays-denied other.ddbgate.test record
	echo "    policy: $CASE_TMP/allow-all.json"
	echo "    deny_replays: true"
} >"$PGW_CFG"
pgw_start

N=0
# build HOST [rawclient build args...] — a signed GetItem with a fresh marker: $REQ, $MK.
build() {
	local host=$1
	shift
	N=$((N + 1))
	MK="marker-sigv4-$N-$(unique)"
	REQ="$CASE_TMP/req.$N"
	build_request "$host" $P.GetItem '{"TableName":"Allowed","Key":{"pk":{"S":"k"}}}' \
		--header "X-Ddbgate-Test-Marker: $MK" "$@" >"$REQ"
	echo "request $N: $(grep -a '^X-Amz-Date' "$REQ" | tr -d '\r') $(grep -ao 'Signature=[0-9a-f]*' "$REQ")"
}
# send HOST — send $REQ on a new connection; the response becomes the last response.
send() {
	AMARK=$(audit_mark)
	raw_send "$1" "$REQ" 1 >/dev/null
	raw_use 1
	echo "  -> $RESP_STATUS $(head -c 400 "$CASE_TMP/resp.body")"
}
# marker_count MK — how many times MK reached the recorder (over all connections).
marker_count() {
	/usr/bin/python3 - "$REC/record" "$1" <<'PY'
import glob, sys
print(sum(open(f, "rb").read().count(sys.argv[2].encode()) for f in glob.glob(sys.argv[1] + "/conn-*.in")))
PY
}
expect_marker_count() { # N
	local n
	sleep 0.2
	n=$(marker_count "$MK")
	[ "$n" = "$1" ] || fail "request $N reached the upstream $n time(s), expected $1"
	echo "request $N reached the upstream $n time(s)"
}

step "X-Amz-Date 20 minutes old"
old=$(date -u -d '-20 min' +%Y%m%dT%H%M%SZ)
build record.ddbgate.test --date "$old"
send record.ddbgate.test
expect_aws_error InvalidSignatureException "^Signature expired: $old"
expect_marker_count 0
audit_expect "$AMARK" "d.get('decision') == 'deny' and not d.get('upstreamAddress')" "the expired request: no deny audit line"

step "X-Amz-Date 20 minutes ahead"
build record.ddbgate.test --date "$(date -u -d '+20 min' +%Y%m%dT%H%M%SZ)"
send record.ddbgate.test
expect_aws_error InvalidSignatureException
expect_marker_count 0

step "X-Amz-Date 10 minutes old: inside the window"
build record.ddbgate.test --date "$(date -u -d '-10 min' +%Y%m%dT%H%M%SZ)"
send record.ddbgate.test
expect_status 200
expect_marker_count 1

step "the same signed request twice (deny_replays: false)"
build record.ddbgate.test
send record.ddbgate.test
expect_status 200
audit_expect "$AMARK" "d.get('endpoint') == 'replays-seen' and d.get('eventName') == 'GetItem'" "no audit line for the first request"
audit_check "d.get('replay') in (None, False) and d.get('decision') == 'allow'" "the first sending is flagged as a replay, or not allowed"
send record.ddbgate.test
expect_status 200
audit_expect "$AMARK" "d.get('endpoint') == 'replays-seen' and d.get('eventName') == 'GetItem'" "no audit line for the second request"
audit_check "d.get('replay') is True" "the second sending of the same signature is not flagged \"replay\": true"
audit_check "d.get('decision') == 'allow' and d.get('status') == 200" "deny_replays is off here: the replay must still be allowed"
expect_marker_count 2

step "the same signed request twice (deny_replays: true)"
build other.ddbgate.test
send other.ddbgate.test
expect_status 200
expect_json "d == {'TableNames': ['recorded']}" "the first sending did not get the recorder's answer"
audit_expect "$AMARK" "d.get('endpoint') == 'replays-denied'" "no audit line for the first request"
audit_check "d.get('replay') in (None, False) and d.get('decision') == 'allow'" "the first sending is flagged as a replay, or not allowed"
send other.ddbgate.test
expect_aws_error AccessDeniedException '[Rr]eplay'
audit_expect "$AMARK" "d.get('endpoint') == 'replays-denied'" "no audit line for the replay"
audit_check "d.get('replay') is True and d.get('decision') == 'deny' and not d.get('upstreamAddress')" "the replay's audit line"
expect_marker_count 1

step "a newly signed request is not a replay"
build other.ddbgate.test
send other.ddbgate.test
expect_status 200
expect_marker_count 1
