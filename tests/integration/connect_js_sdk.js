#!/usr/bin/env node
// connect_js_sdk.js — the AWS SDK for JavaScript v3 through a connect-mode ddbgate.
//
// Usage: node connect_js_sdk.js --proxy http://IP:3128 --ca CA --table T --value V --denied-arn ARN
//                               [--akid K --secret S]
//
// No endpoint: the SDK asks for dynamodb.us-east-1.amazonaws.com:443.  The SDK
// ignores HTTPS_PROXY, so the proxy is an hpagent HttpsProxyAgent given to
// NodeHttpHandler ({httpsAgent}), with the gateway CA as its `ca` (the only
// trusted root for the tunnelled TLS).  Explicit credentials (no account id,
// so no account-based endpoint).  Retries on (maxAttempts 3).
//
// Steps: CreateTable T (pk S), waitUntilTableExists, PutItem {pk: p1, v: V},
// GetItem (must return exactly that item), then DeleteItem, which must fail
// with AccessDeniedException, HTTP 400, attempts 1, and the IAM explicit-deny
// message for ARN.  Prints "step: ok" per step; exit 1 with "FAIL: ..." on the
// first surprise (or any unexpected error).
"use strict";
const fs = require("fs");
const path = require("path");
const mods = path.join(__dirname, "..", "node_modules");
const ddb = require(path.join(mods, "@aws-sdk/client-dynamodb"));
const { NodeHttpHandler } = require(path.join(mods, "@smithy/node-http-handler"));
const { HttpsProxyAgent } = require(path.join(mods, "hpagent"));

function args() {
  const a = { akid: "AKIDDDBGATETEST00001", secret: "ddbgate-test-secret-key-not-real-000000" };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase())] = v[i + 1];
  for (const k of ["proxy", "ca", "table", "value", "deniedArn"]) if (!a[k]) throw new Error("missing --" + k);
  return a;
}

function check(cond, what) {
  if (!cond) {
    console.log("FAIL: " + what);
    process.exit(1);
  }
}

async function main() {
  const a = args();
  const agent = new HttpsProxyAgent({ proxy: a.proxy, ca: [fs.readFileSync(a.ca)], keepAlive: true, maxSockets: 4 });
  const client = new ddb.DynamoDBClient({
    region: "us-east-1",
    credentials: { accessKeyId: a.akid, secretAccessKey: a.secret },
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ httpsAgent: agent, connectionTimeout: 5000, requestTimeout: 15000 }),
  });
  const t = a.table;
  let r = await client.send(new ddb.CreateTableCommand({
    TableName: t,
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  check(r.TableDescription.TableName === t, "CreateTable: " + JSON.stringify(r.TableDescription));
  console.log("CreateTable: ok");
  const w = await ddb.waitUntilTableExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 2 }, { TableName: t });
  check(w.state === "SUCCESS", "waitUntilTableExists: " + JSON.stringify(w));
  console.log("waitUntilTableExists: ok");
  const item = { pk: { S: "p1" }, v: { S: a.value } };
  r = await client.send(new ddb.PutItemCommand({ TableName: t, Item: item }));
  check(r.$metadata.httpStatusCode === 200, "PutItem: " + JSON.stringify(r.$metadata));
  console.log("PutItem: ok");
  r = await client.send(new ddb.GetItemCommand({ TableName: t, Key: { pk: { S: "p1" } }, ConsistentRead: true }));
  check(JSON.stringify(r.Item) === JSON.stringify(item), "GetItem: " + JSON.stringify(r.Item));
  console.log("GetItem: ok");

  const want = `User: ${a.akid} is not authorized to perform: dynamodb:DeleteItem on resource: ${a.deniedArn}` +
    " with an explicit deny in a VPC endpoint policy";
  try {
    r = await client.send(new ddb.DeleteItemCommand({ TableName: t, Key: { pk: { S: "p1" } } }));
  } catch (e) {
    const m = e.$metadata || {};
    console.log(`DeleteItem: ${e.name} message=${JSON.stringify(e.message)} status=${m.httpStatusCode} attempts=${m.attempts}`);
    check(e.name === "AccessDeniedException", "DeleteItem: error " + e.name + ", expected AccessDeniedException");
    check(e.message === want, `DeleteItem: message ${JSON.stringify(e.message)}, expected ${JSON.stringify(want)}`);
    check(m.httpStatusCode === 400, "DeleteItem: HTTP " + m.httpStatusCode);
    check(m.attempts === 1, "DeleteItem: attempts " + m.attempts + " (the SDK retried a denial)");
    console.log("DeleteItem denied: ok");
    agent.destroy();
    return;
  }
  check(false, "DeleteItem succeeded: " + JSON.stringify(r));
}

main().catch((e) => {
  console.log("FAIL: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
