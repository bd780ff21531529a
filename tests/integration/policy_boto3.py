#!/usr/bin/python3
"""policy_boto3.py — boto3 against a gateway endpoint with an IAM endpoint policy.

Usage: /usr/bin/python3 policy_boto3.py --table T --index I --arn TABLE-ARN
           --who PRINCIPAL-ARN --key AKID --secret S --unmapped-key AKID2 --unmapped-secret S2

No endpoint_url: boto3 connects to dynamodb.us-east-1.amazonaws.com:443 (the
test maps it to the gateway with a private /etc/hosts).  Retries are on
(standard mode, 5 attempts), so a retry of a denial would show in
RetryAttempts and at the gateway.

The table holds o1/a, o1/b, o2/a (attribute c = alice, bob, alice; v =
orig-<pk>-<sk>).  Allowed calls (describe_table, get_item, query on the table
and on the index, scan, batch_get_item) must return that data.  Denied calls,
each made exactly once: put_item, update_item, batch_write_item (implicit
deny), delete_item (explicit deny), describe_table of table Customers, and
put_item with the unmapped key: each must raise ClientError with code
AccessDeniedException, HTTP 400, the exact IAM message and RetryAttempts 0.
Prints one "name: ok" line per step; exit 1 with "FAIL: ..." on the first surprise.
"""
import argparse
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        print("FAIL: %s" % what, flush=True)
        sys.exit(1)


def client(key, secret):
    cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=15)
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=cfg)


def denied(name, call, who, action, resource, kind):
    if kind == "explicit":
        want = ("User: %s is not authorized to perform: %s on resource: %s with an explicit deny "
                "in a VPC endpoint policy" % (who, action, resource))
    else:
        want = ("User: %s is not authorized to perform: %s on resource: %s because no VPC endpoint "
                "policy allows the %s action" % (who, action, resource, action))
    try:
        r = call()
    except ClientError as e:
        err = e.response.get("Error", {})
        meta = e.response.get("ResponseMetadata", {})
        print("%s: ClientError code=%r message=%r status=%r retries=%r" % (
            name, err.get("Code"), err.get("Message"), meta.get("HTTPStatusCode"), meta.get("RetryAttempts")),
            flush=True)
        check(err.get("Code") == "AccessDeniedException", "%s: code %r, expected AccessDeniedException"
              % (name, err.get("Code")))
        check(err.get("Message") == want, "%s: message %r, expected %r" % (name, err.get("Message"), want))
        check(meta.get("HTTPStatusCode") == 400, "%s: HTTP %r, expected 400" % (name, meta.get("HTTPStatusCode")))
        check(meta.get("RetryAttempts") == 0, "%s: RetryAttempts %r, expected 0 (boto3 retried an "
              "AccessDeniedException)" % (name, meta.get("RetryAttempts")))
        check(bool(meta.get("RequestId")), "%s: no request id (x-amzn-RequestId)" % name)
        print("%s: denied ok" % name, flush=True)
        return
    check(False, "%s: the call succeeded: %r" % (name, r))


def main():
    ap = argparse.ArgumentParser()
    for opt in ("table", "index", "arn", "who", "key", "secret", "unmapped-key", "unmapped-secret"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    ddb = client(a.key, a.secret)
    print("endpoint: %s" % ddb.meta.endpoint_url, flush=True)
    t = a.table

    r = ddb.describe_table(TableName=t)
    check(r["Table"]["TableName"] == t and r["Table"]["TableStatus"] == "ACTIVE", "describe_table: %r" % r["Table"])
    print("describe_table: ok", flush=True)
    r = ddb.get_item(TableName=t, Key={"pk": {"S": "o1"}, "sk": {"S": "a"}}, ConsistentRead=True)
    check(r.get("Item", {}).get("v", {}).get("S") == "orig-o1-a", "get_item o1/a: %r" % r.get("Item"))
    print("get_item: ok", flush=True)
    r = ddb.query(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "o1"}})
    check([i["sk"]["S"] for i in r["Items"]] == ["a", "b"], "query pk=o1: %r" % r["Items"])
    print("query: ok", flush=True)
    r = ddb.query(TableName=t, IndexName=a.index, KeyConditionExpression="c = :c",
                  ExpressionAttributeValues={":c": {"S": "alice"}})
    check(sorted(i["pk"]["S"] + "/" + i["sk"]["S"] for i in r["Items"]) == ["o1/a", "o2/a"],
          "query index c=alice: %r" % r["Items"])
    print("query index: ok", flush=True)
    r = ddb.scan(TableName=t)
    check(r["Count"] == 3, "scan: %r" % r["Count"])
    print("scan: ok", flush=True)
    r = ddb.batch_get_item(RequestItems={t: {"Keys": [{"pk": {"S": "o1"}, "sk": {"S": "b"}},
                                                     {"pk": {"S": "o2"}, "sk": {"S": "a"}}]}})
    check(sorted(i["v"]["S"] for i in r["Responses"][t]) == ["orig-o1-b", "orig-o2-a"], "batch_get_item: %r" % r)
    print("batch_get_item: ok", flush=True)

    w, arn = a.who, a.arn
    denied("put_item", lambda: ddb.put_item(
        TableName=t, Item={"pk": {"S": "new"}, "sk": {"S": "x"}, "v": {"S": "SECRET-ITEM-VALUE-boto3-put"}}),
        w, "dynamodb:PutItem", arn, "implicit")
    denied("update_item", lambda: ddb.update_item(
        TableName=t, Key={"pk": {"S": "o1"}, "sk": {"S": "a"}}, UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "SECRET-ITEM-VALUE-boto3-upd"}}),
        w, "dynamodb:UpdateItem", arn, "implicit")
    denied("delete_item", lambda: ddb.delete_item(TableName=t, Key={"pk": {"S": "o1"}, "sk": {"S": "b"}}),
           w, "dynamodb:DeleteItem", arn, "explicit")
    denied("batch_write_item", lambda: ddb.batch_write_item(RequestItems={t: [
        {"PutRequest": {"Item": {"pk": {"S": "bw"}, "sk": {"S": "1"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "o2"}, "sk": {"S": "a"}}}}]}),
        w, "dynamodb:BatchWriteItem", arn, "implicit")
    other = arn.rsplit("/", 1)[0] + "/Customers"
    denied("describe_table Customers", lambda: ddb.describe_table(TableName="Customers"),
           w, "dynamodb:DescribeTable", other, "implicit")
    unmapped = client(a.unmapped_key, a.unmapped_secret)
    denied("put_item unmapped key", lambda: unmapped.put_item(
        TableName=t, Item={"pk": {"S": "new2"}, "sk": {"S": "x"}}),
        a.unmapped_key, "dynamodb:PutItem", arn, "implicit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
