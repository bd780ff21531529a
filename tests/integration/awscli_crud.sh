#!/bin/bash
# awscli_crud.sh TABLE [ENDPOINT_URL] — the CRUD walk with Debian's AWS CLI (/usr/bin/aws).
#
# Credentials, region and CA come from the environment the test sets
# (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_CA_BUNDLE).  Without
# ENDPOINT_URL the CLI connects to dynamodb.us-east-1.amazonaws.com:443, which
# the test maps to ddbgate with a private /etc/hosts.  Prints "STEP: ok" per
# step; exits 1 with "FAIL: ..." on the first surprise.
set -u
t=${1:?table}
ep=()
[ -n "${2:-}" ] && ep=(--endpoint-url "$2")
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp "${CASE_TMP:-${TMPDIR:-/tmp}}/awscli.XXXXXX")
trap 'rm -f "$out"' EXIT
aws() { /usr/bin/aws --region us-east-1 --output json --cli-read-timeout 15 --cli-connect-timeout 5 "${ep[@]}" dynamodb "$@" >"$out" 2>&1 || { echo "FAIL: aws dynamodb $1: $(cat "$out")"; exit 1; }; }
expect() { "$here/jsonq.py" "$out" "$1" >/dev/null || { echo "FAIL: $2: $(head -c 2000 "$out")"; exit 1; }; }
export AWS_MAX_ATTEMPTS=1 AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off

aws create-table --table-name "$t" \
	--attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
	--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
	--billing-mode PAY_PER_REQUEST
expect "d['TableDescription']['TableName'] == '$t'" "CreateTable names $t"; echo "CreateTable: ok"
aws wait table-exists --table-name "$t" # items can be written only once the table is ACTIVE
aws put-item --table-name "$t" --item '{"pk":{"S":"p1"},"sk":{"S":"a"},"v":{"S":"cli-value"}}'
echo "PutItem: ok"
aws get-item --table-name "$t" --key '{"pk":{"S":"p1"},"sk":{"S":"a"}}' --consistent-read
expect "d['Item']['v']['S'] == 'cli-value'" "GetItem returns the value put"; echo "GetItem: ok"
aws batch-write-item --request-items "{\"$t\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"p1\"},\"sk\":{\"S\":\"b\"}}}},{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"p2\"},\"sk\":{\"S\":\"a\"}}}}]}"
expect "not d.get('UnprocessedItems')" "BatchWriteItem processed everything"; echo "BatchWriteItem: ok"
aws query --table-name "$t" --key-condition-expression 'pk = :p' --expression-attribute-values '{":p":{"S":"p1"}}'
expect "d['Count'] == 2 and [i['sk']['S'] for i in d['Items']] == ['a', 'b']" "Query pk=p1 returns sk a, b"; echo "Query: ok"
aws scan --table-name "$t"
expect "d['Count'] == 3" "Scan returns 3 items"; echo "Scan: ok"
aws delete-table --table-name "$t"
expect "d['TableDescription']['TableName'] == '$t'" "DeleteTable names $t"; echo "DeleteTable: ok"
