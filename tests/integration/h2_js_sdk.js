#!/usr/bin/env node
// h2_js_sdk.js — the AWS SDK for JavaScript v3 over HTTP/2 (NodeHttp2Handler).
//
// Usage: node h2_js_sdk.js --table T --value V --denied-arn ARN [--akid K --secret S]
//                          [--endpoint URL] [--expect-fail 1] [--as-is 1]
//
// No endpoint (unless --endpoint): the SDK asks for https://dynamodb.us-east-1.amazonaws.com
// (a private /etc/hosts points it at the gateway); the gateway CA comes
// from NODE_EXTRA_CA_CERTS.  NodeHttp2Handler speaks HTTP/2 only (node's
// http2.connect offers ALPN "h2" alone), so every answer proves the
// gateway negotiated h2.  Explicit credentials, retries on (maxAttempts 3).
//
// Signing: for an h2 handler the SDK's host-header middleware replaces the
// host field with ":authority", and the signer then lists ":authority" in
// SignedHeaders; the gateway refuses that (it is no header name), and an
// HTTP/1.1 upstream could not verify it.  So a middleware just before
// signing turns ":authority" back into "host", as every other SDK signs,
// and one just before the handler adds ":authority" again (node's http2
// sends no :authority of its own when a host field is given), equal to host.
// --as-is 1 leaves the SDK alone (to show what it does).
//
// A timer keeps node's event loop alive until the walk ends:
// @smithy/node-http-handler 3.1.0 unrefs the session whenever one stream
// closes, also while another is still waiting for its response, so node
// could exit (status 0, the walk unfinished) in the middle.
//
// Steps: CreateTable T (pk S), waitUntilTableExists, PutItem {pk: p1, v: V},
// GetItem (exactly that item), four GetItem at once (concurrent streams of
// one session), then DeleteItem, which must fail with AccessDeniedException,
// HTTP 400, attempts 1, and the IAM explicit-deny message for ARN.  Prints
// "step: ok" per step; exit 1 with "FAIL: ..." on the first surprise.
// --expect-fail 1: the first call must fail (a listener without h2):
// prints "refused: <error>" and exits 0 when it does.
"use strict";
const path = require("path");
const mods = path.join(__dirname, "..", "node_modules");
const ddb = require(path.join(mods, "@aws-sdk/client-dynamodb"));
const { NodeHttp2Handler } = require(path.join(mods, "@smithy/node-http-handler"));

function args() {
  const a = { akid: "AKIDDDBGATETEST00001", secret: "ddbgate-test-secret-key-not-real-000000" };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase())] = v[i + 1];
  for (const k of ["table", "value", "deniedArn"]) if (!a[k]) throw new Error("missing --" + k);
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
  const keepAlive = setInterval(() => {}, 1000);
  const handler = new NodeHttp2Handler({ requestTimeout: 15000, sessionTimeout: 10000 });
  const client = new ddb.DynamoDBClient({
    region: "us-east-1",
    credentials: { accessKeyId: a.akid, secretAccessKey: a.secret },
    maxAttempts: 3,
    requestHandler: handler,
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
  });
  if (a.asIs !== "1") {
    client.middlewareStack.addRelativeTo((next) => async (args) => {
      const h = args.request.headers;
      if (h[":authority"] !== undefined) {
        h.host = h[":authority"];
        delete h[":authority"];
      }
      return next(args);
    }, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "signHostNotAuthority" });
    client.middlewareStack.add((next) => async (args) => {
      const h = args.request.headers;
      if (h.host !== undefined && h[":authority"] === undefined) h[":authority"] = h.host;
      return next(args);
    }, { step: "deserialize", priority: "low", name: "authorityAgain" });
  }
  const t = a.table;
  let r;
  const create = new ddb.CreateTableCommand({
    TableName: t,
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  if (a.expectFail === "1") {
    try {
      r = await client.send(create);
    } catch (e) {
      console.log("refused: " + e.name + ": " + e.message);
      handler.destroy();
      process.exit(0);
    }
    console.log("FAIL: CreateTable succeeded over HTTP/2 where h2 must not be offered: " + JSON.stringify(r.$metadata));
    process.exit(1);
  }
  r = await client.send(create);
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
  const many = await Promise.all([1, 2, 3, 4].map(() =>
    client.send(new ddb.GetItemCommand({ TableName: t, Key: { pk: { S: "p1" } }, ConsistentRead: true }))));
  for (const m of many) check(JSON.stringify(m.Item) === JSON.stringify(item), "concurrent GetItem: " + JSON.stringify(m.Item));
  console.log("4 concurrent GetItem: ok");

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
    handler.destroy();
    clearInterval(keepAlive);
    return;
  }
  check(false, "DeleteItem succeeded: " + JSON.stringify(r.$metadata));
}

main().catch((e) => {
  console.log("FAIL: unexpected error: " + e.name + ": " + e.message + " " + JSON.stringify(e.$metadata || {}));
  process.exit(1);
});
