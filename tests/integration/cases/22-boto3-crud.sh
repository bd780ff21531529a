# needs: gateway
# timeout: 60
#
# Client:   /usr/bin/python3 with Debian's boto3, no endpoint_url: boto3 connects
#           to dynamodb.us-east-1.amazonaws.com:443, which a private /etc/hosts
#           (unshare --mount) maps to 127.0.0.80; AWS_CA_BUNDLE = gw-ca.pem;
#           boto3_crud.py: create_table, put_item, get_item, batch_write_item,
#           query, scan, delete_table.
# Config:   endpoint ddb-use1 (see curl-crud).
# Upstream: stunnel4 -> dynalite.
# Expect:   every step's answer checked; access-log lines for boto3's targets.
need_unshare
mark=$(alog_mark)
with_hosts /usr/bin/python3 "$IT_DIR/boto3_crud.py" "boto3-$(unique)" --marker SECRET-ITEM-VALUE-boto3 ||
	fail "boto3 CRUD through ddbgate failed"
alog_expect "$mark" 'DynamoDB_20120810\.PutItem' '(^|[^0-9])200([^0-9]|$)'
alog_expect "$mark" 'DynamoDB_20120810\.Scan' '(^|[^0-9])200([^0-9]|$)'
