#!/usr/bin/python3
"""connect_boto3.py — boto3 through a connect-mode (or transparent) ddbgate.

Usage: /usr/bin/python3 connect_boto3.py --ca CA --table T --value V
           [--proxy http://IP:3128] [--denied-arn ARN]

No endpoint_url: boto3 asks for dynamodb.us-east-1.amazonaws.com:443.  With
--proxy it goes through that HTTPS proxy, given in the client's
Config(proxies={"https": URL}) — not from the environment (the test runs it
with no *_PROXY variable).  verify=CA: the gateway CA only.  Retries on
(standard mode, 3 attempts), so a retried denial would show.

Steps: create_table T (pk S), the table_exists waiter, put_item {pk: p1,
v: V}, get_item (must return exactly that item); with --denied-arn,
delete_item must raise ClientError AccessDeniedException, HTTP 400,
RetryAttempts 0, with the IAM explicit-deny message for ARN.
Prints "step: ok" per step; exit 1 with "FAIL: ..." on the first surprise.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--value", required=True)
    ap.add_argument("--proxy")
    ap.add_argument("--denied-arn")
    ap.add_argument("--akid", default="AKIDDDBGATETEST00001")
    a = ap.parse_args()
    kw = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 5, "read_timeout": 15}
    if a.proxy:
        kw["proxies"] = {"https": a.proxy}
    ddb = boto3.client("dynamodb", region_name="us-east-1", verify=a.ca, config=Config(**kw))
    print("endpoint: %s, proxies: %r" % (ddb.meta.endpoint_url, ddb.meta.config.proxies), flush=True)
    check(ddb.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com",
          "unexpected endpoint %s" % ddb.meta.endpoint_url)
    t = a.table

    r = ddb.create_table(TableName=t, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    check(r["TableDescription"]["TableName"] == t, "create_table: %r" % r["TableDescription"])
    print("create_table: ok", flush=True)
    ddb.get_waiter("table_exists").wait(TableName=t, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    print("table_exists: ok", flush=True)
    item = {"pk": {"S": "p1"}, "v": {"S": a.value}}
    r = ddb.put_item(TableName=t, Item=item)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 200, "put_item: %r" % r)
    print("put_item: ok", flush=True)
    r = ddb.get_item(TableName=t, Key={"pk": {"S": "p1"}}, ConsistentRead=True)
    check(r.get("Item") == item, "get_item: %r, expected %r" % (r.get("Item"), item))
    print("get_item: ok", flush=True)

    if a.denied_arn:
        want = ("User: %s is not authorized to perform: dynamodb:DeleteItem on resource: %s with an "
                "explicit deny in a VPC endpoint policy" % (a.akid, a.denied_arn))
        try:
            r = ddb.delete_item(TableName=t, Key={"pk": {"S": "p1"}})
        except ClientError as e:
            err = e.response.get("Error", {})
            meta = e.response.get("ResponseMetadata", {})
            print("delete_item: ClientError code=%r message=%r status=%r retries=%r" % (
                err.get("Code"), err.get("Message"), meta.get("HTTPStatusCode"), meta.get("RetryAttempts")),
                flush=True)
            check(err.get("Code") == "AccessDeniedException", "delete_item: code %r" % err.get("Code"))
            check(err.get("Message") == want, "delete_item: message %r, expected %r" % (err.get("Message"), want))
            check(meta.get("HTTPStatusCode") == 400, "delete_item: HTTP %r" % meta.get("HTTPStatusCode"))
            check(meta.get("RetryAttempts") == 0, "delete_item: RetryAttempts %r" % meta.get("RetryAttempts"))
            print("delete_item denied: ok", flush=True)
        else:
            check(False, "delete_item succeeded: %r" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
