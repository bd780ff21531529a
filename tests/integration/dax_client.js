#!/usr/bin/env node
// dax_client.js — drive the real AWS DAX SDK for JavaScript
// (@amazon-dax-sdk/client-dax) through a list of operations and report each
// result as one JSON line.  Used by the DAX data-plane tests.
//
//   node dax_client.js --endpoint daxs://NAME:PORT [--resolve NAME=IP]... \
//       --region us-east-1 --access-key-id AK --secret-access-key SK [--session-token T] \
//       [--ops-file FILE] [--repeat N] [--duration-ms MS] [--interval-ms MS] \
//       [--connect-timeout MS] [--request-timeout MS] [--timeout-ms MS] \
//       [--skip-hostname-verification] [--quiet-ok] \
//       [OP ARGS...]...
//
// Operations (on the command line, one after another, and/or in --ops-file):
//   put TABLE JSON_ITEM             {"op":"put","table":T,"item":{...}}
//   get TABLE JSON_KEY              {"op":"get","table":T,"key":{...},"consistent":false}
//   delete TABLE JSON_KEY           {"op":"delete","table":T,"key":{...}}
//   query TABLE HASHNAME VALUE_JSON {"op":"query","table":T,"hash_name":N,"hash_value":{"S":"x"}}
//   scan TABLE                      {"op":"scan","table":T}
//   sleep MS                        {"op":"sleep","ms":MS}
//   script FILE                     (the operations of a JSON file, like --ops-file)
// Attribute values are DynamoDB JSON ({"S":"x"}, {"N":"1"}, {"B":"<base64>"}).
//
// The whole list runs --repeat times (default 1); with --duration-ms it runs
// again and again (--interval-ms apart, default 20) until that much time has
// passed since the first operation.  Output, one JSON object per line:
//   {"op":"get","ok":true,"item":{...}}          (item absent: "item":null)
//   {"op":"query","ok":true,"count":N,"items":[...]}      (scan: the same)
//   {"op":"get","ok":false,"code":"ResourceNotFoundException","message":"..."}
//   {"summary":{"ops":N,"ok":N,"errors":{"CODE":N}}}
//   {"dns":["NAME",...]}                           every name the SDK asked to resolve
//   {"connections":["ip:port",...]}                every TCP/TLS destination the SDK dialled
// --quiet-ok leaves out the lines of successful operations.
// Exit status: 0 when the list ran (failed operations are reported, not
// fatal), 1 when the client could not be set up, 2 on usage errors, 3 when
// --timeout-ms (default 60000) expired.
'use strict';

const dns = require('dns');
const net = require('net');
const tls = require('tls');
const fs = require('fs');
const path = require('path');

function usage(msg) {
  process.stderr.write('dax_client.js: ' + msg + '\n');
  process.exit(2);
}

// ---------------------------------------------------------------- options
const opt = {
  resolve: {}, repeat: 1, durationMs: 0, intervalMs: 20, timeoutMs: 60000,
  connectTimeout: 5000, requestTimeout: 5000, quietOk: false, skipHostnameVerification: false,
};
const ops = [];

function readOpsFile(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch(e) {
    usage('cannot read ops file ' + file + ': ' + e.message);
  }
  if(!Array.isArray(doc)) {
    usage('ops file ' + file + ' must hold a JSON array');
  }
  for(const o of doc) {
    checkOp(o);
    ops.push(o);
  }
}

function checkOp(o) {
  if(!o || typeof o !== 'object') {
    usage('operation is not an object: ' + JSON.stringify(o));
  }
  const need = {put: ['table', 'item'], get: ['table', 'key'], delete: ['table', 'key'],
    query: ['table', 'hash_name', 'hash_value'], scan: ['table'], sleep: ['ms']}[o.op];
  if(!need) {
    usage('unknown operation ' + JSON.stringify(o.op));
  }
  for(const f of need) {
    if(o[f] === undefined) {
      usage(o.op + ': missing ' + f);
    }
  }
}

function parseJson(s, what) {
  try {
    return JSON.parse(s);
  } catch(e) {
    usage(what + ' is not JSON: ' + s);
  }
}

function intArg(v, name) {
  const n = Number(v);
  if(!Number.isInteger(n) || n < 0) {
    usage(name + ' needs a non-negative integer');
  }
  return n;
}

(function parseArgs(argv) {
  let i = 0;
  const next = (name) => {
    if(i >= argv.length) {
      usage(name + ' needs a value');
    }
    return argv[i++];
  };
  while(i < argv.length) {
    const a = argv[i++];
    switch(a) {
      case '--endpoint': opt.endpoint = next(a); break;
      case '--resolve': {
        const v = next(a);
        const eq = v.indexOf('=');
        if(eq <= 0 || net.isIP(v.slice(eq + 1)) === 0) {
          usage('--resolve NAME=IP');
        }
        (opt.resolve[v.slice(0, eq).toLowerCase()] ||= []).push(v.slice(eq + 1));
        break;
      }
      case '--region': opt.region = next(a); break;
      case '--access-key-id': opt.accessKeyId = next(a); break;
      case '--secret-access-key': opt.secretAccessKey = next(a); break;
      case '--session-token': opt.sessionToken = next(a); break;
      case '--ops-file': readOpsFile(next(a)); break;
      case '--repeat': opt.repeat = intArg(next(a), a); break;
      case '--duration-ms': opt.durationMs = intArg(next(a), a); break;
      case '--interval-ms': opt.intervalMs = intArg(next(a), a); break;
      case '--timeout-ms': opt.timeoutMs = intArg(next(a), a); break;
      case '--connect-timeout': opt.connectTimeout = intArg(next(a), a); break;
      case '--request-timeout': opt.requestTimeout = intArg(next(a), a); break;
      case '--quiet-ok': opt.quietOk = true; break;
      case '--skip-hostname-verification': opt.skipHostnameVerification = true; break;
      case 'put': ops.push({op: 'put', table: next(a), item: parseJson(next(a), 'item')}); break;
      case 'get': ops.push({op: 'get', table: next(a), key: parseJson(next(a), 'key')}); break;
      case 'delete': ops.push({op: 'delete', table: next(a), key: parseJson(next(a), 'key')}); break;
      case 'query':
        ops.push({op: 'query', table: next(a), hash_name: next(a), hash_value: parseJson(next(a), 'hash value')});
        break;
      case 'scan': ops.push({op: 'scan', table: next(a)}); break;
      case 'sleep': ops.push({op: 'sleep', ms: intArg(next(a), a)}); break;
      case 'script': readOpsFile(next(a)); break;
      default: usage('unknown argument ' + a);
    }
  }
  for(const [k, name] of [['endpoint', '--endpoint'], ['region', '--region'],
    ['accessKeyId', '--access-key-id'], ['secretAccessKey', '--secret-access-key']]) {
    if(!opt[k]) {
      usage(name + ' is required');
    }
  }
  if(!ops.length) {
    usage('no operation given');
  }
})(process.argv.slice(2));

// ------------------------------------------- name resolution and dialling
// The SDK resolves the seed name with dns.resolve (A and AAAA).  Only names
// given with --resolve are answered; every other name fails here, so nothing
// reaches the machine's resolver.
const dnsAsked = [];
function noSuchName(host) {
  const e = new Error('dax_client: no --resolve mapping for ' + host);
  e.code = 'ENOTFOUND';
  e.hostname = host;
  return e;
}
function mapped(host, family) {
  const ips = opt.resolve[String(host).toLowerCase()];
  if(!ips) {
    return null;
  }
  return ips.filter((ip) => net.isIP(ip) === family);
}
function fakeResolve(host, rrtype, cb) {
  if(typeof rrtype === 'function') {
    cb = rrtype;
    rrtype = 'A';
  }
  dnsAsked.push(host);
  const ips = mapped(host, rrtype === 'AAAA' ? 6 : 4);
  process.nextTick(() => {
    if(ips === null) {
      return cb(noSuchName(host));
    }
    if(rrtype !== 'A' && rrtype !== 'AAAA') {
      const e = new Error('dax_client: only A/AAAA are mapped');
      e.code = 'ENODATA';
      return cb(e);
    }
    if(!ips.length) {
      const e = new Error('no ' + rrtype + ' record for ' + host);
      e.code = 'ENODATA';
      return cb(e);
    }
    cb(null, ips);
  });
}
dns.resolve = fakeResolve;
dns.resolve4 = (host, o, cb) => fakeResolve(host, 'A', typeof o === 'function' ? o : cb);
dns.resolve6 = (host, o, cb) => fakeResolve(host, 'AAAA', typeof o === 'function' ? o : cb);
dns.lookup = (host, o, cb) => {
  if(typeof o === 'function') {
    cb = o;
    o = {};
  }
  if(typeof o === 'number') {
    o = {family: o};
  }
  dnsAsked.push(host);
  const fam = net.isIP(host);
  let list;
  if(fam) {
    list = [{address: host, family: fam}];
  } else {
    const ips = opt.resolve[String(host).toLowerCase()];
    if(!ips) {
      return process.nextTick(() => cb(noSuchName(host)));
    }
    list = ips.map((ip) => ({address: ip, family: net.isIP(ip)}))
      .filter((x) => !o.family || o.family === x.family);
  }
  process.nextTick(() => (o.all ? cb(null, list) : cb(null, list[0].address, list[0].family)));
};
if(dns.promises) {
  dns.promises.resolve = (host, rrtype) => new Promise((res, rej) =>
    fakeResolve(host, rrtype || 'A', (e, r) => (e ? rej(e) : res(r))));
}

// Every destination the SDK dials, whether the connection succeeds or not.
const dialled = [];
function noteDial(args) {
  let host;
  let port;
  const a0 = args[0];
  if(a0 && typeof a0 === 'object') {
    host = a0.host;
    port = a0.port;
    if(a0.path) {
      host = 'unix:' + a0.path;
    }
  } else if(typeof a0 === 'number' || typeof a0 === 'string') {
    port = a0;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  const h = host || 'localhost';
  dialled.push(net.isIPv6(h) ? '[' + h + ']:' + port : h + ':' + port);
}
for(const [mod, names] of [[net, ['connect', 'createConnection']], [tls, ['connect']]]) {
  for(const name of names) {
    const orig = mod[name];
    mod[name] = function(...args) {
      noteDial(args);
      return orig.apply(this, args);
    };
  }
}

// ------------------------------------------------------------ conversion
// DynamoDB JSON in (B / BS as base64) -> SDK values; SDK values -> JSON out.
function avIn(v) {
  if(Array.isArray(v)) {
    return v.map(avIn);
  }
  if(!v || typeof v !== 'object') {
    return v;
  }
  const out = {};
  for(const [k, x] of Object.entries(v)) {
    if(k === 'B') {
      out.B = Buffer.from(x, 'base64');
    } else if(k === 'BS') {
      out.BS = x.map((b) => Buffer.from(b, 'base64'));
    } else if(k === 'M') {
      out.M = itemIn(x);
    } else if(k === 'L') {
      out.L = x.map(avIn);
    } else {
      out[k] = x;
    }
  }
  return out;
}
function itemIn(item) {
  const out = {};
  for(const [k, v] of Object.entries(item || {})) {
    out[k] = avIn(v);
  }
  return out;
}
function jsonOut(v) {
  if(v instanceof Uint8Array) {
    return Buffer.from(v).toString('base64');
  }
  if(Array.isArray(v)) {
    return v.map(jsonOut);
  }
  if(v && typeof v === 'object') {
    const out = {};
    for(const k of Object.keys(v).sort()) {
      out[k] = jsonOut(v[k]);
    }
    return out;
  }
  return v;
}

// ------------------------------------------------------------------- run
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const summary = {ops: 0, ok: 0, errors: {}};
let dax = null;
let finished = false;

function finish(code) {
  if(finished) {
    return;
  }
  finished = true;
  out({summary});
  out({dns: [...new Set(dnsAsked)]});
  out({connections: [...new Set(dialled)]});
  try {
    if(dax) {
      dax.shutdown();
    }
  } catch(e) {
    process.stderr.write('dax_client.js: shutdown: ' + e.message + '\n');
  }
  // Leave stdout time to drain, then go whatever the SDK still holds open.
  process.stdout.write('', () => process.exit(code));
  setTimeout(() => process.exit(code), 500).unref();
}

const watchdog = setTimeout(() => {
  process.stderr.write('dax_client.js: --timeout-ms ' + opt.timeoutMs + ' expired\n');
  finish(3);
}, opt.timeoutMs);

async function runOp(o) {
  switch(o.op) {
    case 'put':
      await dax.putItem({TableName: o.table, Item: itemIn(o.item)});
      return {};
    case 'get': {
      const p = {TableName: o.table, Key: itemIn(o.key)};
      if(o.consistent) {
        p.ConsistentRead = true;
      }
      const r = await dax.getItem(p);
      return {item: r && r.Item ? jsonOut(r.Item) : null};
    }
    case 'delete':
      await dax.deleteItem({TableName: o.table, Key: itemIn(o.key)});
      return {};
    case 'query': {
      const r = await dax.query({
        TableName: o.table,
        KeyConditionExpression: '#h = :h',
        ExpressionAttributeNames: {'#h': o.hash_name},
        ExpressionAttributeValues: {':h': avIn(o.hash_value)},
      });
      return {count: r.Count, items: jsonOut(r.Items || [])};
    }
    case 'scan': {
      const r = await dax.scan({TableName: o.table});
      return {count: r.Count, items: jsonOut(r.Items || [])};
    }
    default:
      throw new Error('unreachable');
  }
}

async function main() {
  const {Dax} = require(path.join(__dirname, '..', 'node_modules', '@amazon-dax-sdk', 'client-dax'));
  const credentials = {accessKeyId: opt.accessKeyId, secretAccessKey: opt.secretAccessKey};
  if(opt.sessionToken) {
    credentials.sessionToken = opt.sessionToken;
  }
  dax = new Dax({
    endpoints: [opt.endpoint],
    region: opt.region,
    credentials,
    maxRetries: 0,
    connectTimeout: opt.connectTimeout,
    requestTimeout: opt.requestTimeout,
    skipHostnameVerification: opt.skipHostnameVerification,
  });
  const start = Date.now();
  for(let round = 0; ; round++) {
    for(const o of ops) {
      if(o.op === 'sleep') {
        await new Promise((r) => setTimeout(r, o.ms));
        continue;
      }
      summary.ops++;
      try {
        const r = await runOp(o);
        summary.ok++;
        if(!opt.quietOk) {
          out(Object.assign({op: o.op, ok: true}, r));
        }
      } catch(err) {
        const code = (err && (err.code || err.name)) || 'Error';
        summary.errors[code] = (summary.errors[code] || 0) + 1;
        out({op: o.op, ok: false, code: String(code), message: String(err && err.message)});
      }
    }
    const more = opt.durationMs > 0 ? Date.now() - start < opt.durationMs : round + 1 < opt.repeat;
    if(!more) {
      break;
    }
    if(opt.intervalMs) {
      await new Promise((r) => setTimeout(r, opt.intervalMs));
    }
  }
}

main().then(() => {
  clearTimeout(watchdog);
  finish(0);
}, (e) => {
  clearTimeout(watchdog);
  process.stderr.write('dax_client.js: ' + (e && e.stack || e) + '\n');
  out({op: 'init', ok: false, code: String(e && (e.code || e.name)), message: String(e && e.message)});
  finish(1);
});
