# needs: gateway
# timeout: 90
#
# Client:   /usr/bin/aws dynamodb (Debian's AWS CLI v2) with NO --endpoint-url:
#           it connects to dynamodb.us-east-1.amazonaws.com:443, which a private
#           /etc/hosts (unshare --mount) maps to 127.0.0.80; AWS_CA_BUNDLE = gw-ca.pem;
#           dummy credentials from files; awscli_crud.sh: create-table, put-item,
#           get-item, batch-write-item, query, scan, delete-table.
# Config:   endpoint ddb-use1 (see curl-crud).
# Upstream: stunnel4 -> dynalite.
# Expect:   every step's answer checked; access-log lines for the CLI's targets.
need_unshare
mark=$(alog_mark)
with_hosts "$IT_DIR/awscli_crud.sh" "awscli-$(unique)" || fail "AWS CLI CRUD through ddbgate failed"
alog_expect "$mark" 'DynamoDB_20120810\.CreateTable' '(^|[^0-9])200([^0-9]|$)'
alog_expect "$mark" 'DynamoDB_20120810\.Query' '(^|[^0-9])200([^0-9]|$)'
