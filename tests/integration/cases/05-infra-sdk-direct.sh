# needs: infra
# timeout: 90
#
# Proves Debian's AWS CLI and boto3 work on this machine with the private
# /etc/hosts trick, straight against the DynamoDB front, without ddbgate.
# Client:   /usr/bin/aws dynamodb list-tables and boto3_crud.py, in
#           `unshare --mount` with /etc/hosts mapping dynamodb.us-east-1.amazonaws.com
#           to 127.0.0.21, --endpoint-url https://dynamodb.us-east-1.amazonaws.com:8443,
#           AWS_CA_BUNDLE = upstream CA.
# Upstream: stunnel4 -> dynalite.
# Expect:   list-tables answers; the boto3 CRUD walk passes every step.
need_unshare
sed "s/^$GW_IP /127.0.0.21 /" "$CLIENT_HOSTS" >"$CASE_TMP/hosts"
export CLIENT_HOSTS="$CASE_TMP/hosts" AWS_CA_BUNDLE="$PKI/upstream-ca.pem"
EP="https://dynamodb.us-east-1.amazonaws.com:$UP_PORT"
step "aws dynamodb list-tables"
with_hosts /usr/bin/aws dynamodb list-tables --endpoint-url "$EP" --output json >"$CASE_TMP/resp.body" 2>&1 ||
	fail "aws list-tables: $(cat "$CASE_TMP/resp.body")"
expect_json "isinstance(d['TableNames'], list)" "list-tables has no TableNames"
step "boto3 CRUD"
with_hosts /usr/bin/python3 "$IT_DIR/boto3_crud.py" "direct-boto3-$(unique)" --endpoint-url "$EP" \
	--marker SECRET-ITEM-VALUE-direct || fail "boto3 CRUD against the front failed"
