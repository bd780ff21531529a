#!/usr/bin/python3
"""boto3_crud.py — the CRUD walk of the ddbgate tests, with Debian's boto3.

Usage: /usr/bin/python3 boto3_crud.py TABLE [--endpoint-url URL] [--marker VALUE]

Credentials, region and CA come from the environment the test sets
(AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_CA_BUNDLE, AWS_REGION).
Without --endpoint-url boto3 connects to dynamodb.us-east-1.amazonaws.com:443,
which the test maps to ddbgate with a private /etc/hosts.
Runs CreateTable (then DescribeTable until ACTIVE), PutItem, GetItem, Query, BatchWriteItem, Scan, DeleteTable,
checks every answer and prints one "step: ok" line per step; exit 1 with the
reason on the first surprise.
"""
import argparse
import sys

import boto3
from botocore.config import Config


def check(cond, what):
    if not cond:
        print("FAIL: %s" % what, flush=True)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("--endpoint-url")
    ap.add_argument("--marker", default="boto3-value")
    a = ap.parse_args()
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=15)
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=a.endpoint_url, config=cfg)
    print("endpoint: %s" % ddb.meta.endpoint_url, flush=True)
    t = a.table

    r = ddb.create_table(TableName=t,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
                         BillingMode="PAY_PER_REQUEST")
    check(r["TableDescription"]["TableName"] == t, "CreateTable names %s" % t)
    print("CreateTable: ok", flush=True)
    # As any client must: items can be written only once the table is ACTIVE.
    ddb.get_waiter("table_exists").wait(TableName=t, WaiterConfig={"Delay": 1, "MaxAttempts": 10})

    ddb.put_item(TableName=t, Item={"pk": {"S": "p1"}, "sk": {"S": "a"}, "v": {"S": a.marker}})
    print("PutItem: ok", flush=True)

    r = ddb.get_item(TableName=t, Key={"pk": {"S": "p1"}, "sk": {"S": "a"}}, ConsistentRead=True)
    check(r.get("Item", {}).get("v", {}).get("S") == a.marker, "GetItem returns the value put: %r" % r.get("Item"))
    print("GetItem: ok", flush=True)

    r = ddb.batch_write_item(RequestItems={t: [
        {"PutRequest": {"Item": {"pk": {"S": "p1"}, "sk": {"S": "b"}, "v": {"S": "two"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "p2"}, "sk": {"S": "a"}, "v": {"S": "three"}}}}]})
    check(not r.get("UnprocessedItems"), "BatchWriteItem processed everything: %r" % r.get("UnprocessedItems"))
    print("BatchWriteItem: ok", flush=True)

    r = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p1"}})
    check(r["Count"] == 2 and [i["sk"]["S"] for i in r["Items"]] == ["a", "b"],
          "Query pk=p1 returns sk a, b: %r" % r["Items"])
    print("Query: ok", flush=True)

    r = ddb.scan(TableName=t)
    check(r["Count"] == 3, "Scan returns 3 items: %r" % r["Count"])
    print("Scan: ok", flush=True)

    r = ddb.delete_table(TableName=t)
    check(r["TableDescription"]["TableName"] == t, "DeleteTable names %s" % t)
    print("DeleteTable: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
