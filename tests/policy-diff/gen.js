#!/usr/bin/env node
'use strict';
/*
 * gen.js — deterministic generator of VPC-endpoint-policy test cases.
 *
 * usage: node gen.js [--seed N] [--n N] [--out FILE]
 *
 * Writes one JSON object per line:
 *   { "id": "r17" | "v14a", "policy": "<policy document text>",
 *     "principal": "<caller ARN>", "action": "dynamodb:GetItem",
 *     "resource": "<ARN or *>", "context": { "<key>": ["v", ...], ... } }
 *
 * Absent context keys are omitted; an empty set is []. Single-valued keys
 * always carry exactly one value. Only keys that the oracle accepts for the
 * (action, resource) pair are generated (iam-simulate drops the others
 * silently, see TESTING.md); oracle.js double-checks this.
 *
 * The first cases ("v...") are hand-written from the edge-case table of
 * aws-semantics.md 5.9; the rest ("r...") are random.
 */

const { allowedContextKeysForRequest, typeForContextKey } = require('@cloud-copilot/iam-simulate');
const fs = require('fs');

function parseArgs(argv) {
	const a = { seed: 20240917, n: 10000, out: null };
	for (let i = 2; i < argv.length; i++) {
		const k = argv[i], v = argv[i + 1];
		if (k === '--seed') { a.seed = Number(v); i++; }
		else if (k === '--n') { a.n = Number(v); i++; }
		else if (k === '--out') { a.out = v; i++; }
		else { throw new Error(`unknown argument ${k}`); }
	}
	if (!Number.isInteger(a.seed) || !Number.isInteger(a.n) || a.n < 0)
		throw new Error('--seed and --n take integers');
	return a;
}

/* mulberry32: small, fast, deterministic across Node versions. */
function makeRng(seed) {
	let s = seed >>> 0;
	const next = () => {
		s = (s + 0x6D2B79F5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const r = {
		next,
		chance: (p) => next() < p,
		int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
		pick: (arr) => arr[Math.floor(next() * arr.length)],
		/* [[weight, value], ...] */
		weighted: (pairs) => {
			let total = 0;
			for (const [w] of pairs) total += w;
			let x = next() * total;
			for (const [w, v] of pairs) { if ((x -= w) < 0) return v; }
			return pairs[pairs.length - 1][1];
		},
		sample: (arr, k) => {
			const a = arr.slice();
			for (let i = a.length - 1; i > 0; i--) {
				const j = Math.floor(next() * (i + 1));
				[a[i], a[j]] = [a[j], a[i]];
			}
			return a.slice(0, k);
		},
		shuffle: (arr) => r.sample(arr, arr.length),
	};
	return r;
}

/* ---------------------------------------------------------------- world */

const ACCT = '111122223333';
const ACCT2 = '444455556666';
const VPCE = 'vpce-0abc1234def567890';
const VPCE2 = 'vpce-0fff0000aaaa11112';
const T_ISO = ['2026-03-01T12:00:00Z', '2025-06-15T08:30:00Z', '2031-01-01T00:00:00Z'];
const T_EPOCH = ['1772366400', '1749976200', '1924992000'];

const PRINCIPALS = [
	[40, { name: 'alice', acct: ACCT, arn: `arn:aws:iam::${ACCT}:user/alice`, principalArn: `arn:aws:iam::${ACCT}:user/alice`,
		username: 'alice', userid: 'AIDAJQABLZS4A3QDU576Q', type: 'User', temp: false }],
	[12, { name: 'bob', acct: ACCT, arn: `arn:aws:iam::${ACCT}:user/bob`, principalArn: `arn:aws:iam::${ACCT}:user/bob`,
		username: 'bob', userid: 'AIDAEXAMPLEBOB000001', type: 'User', temp: false }],
	[25, { name: 'role', acct: ACCT, arn: `arn:aws:sts::${ACCT}:assumed-role/Admin/sess-1`, principalArn: `arn:aws:iam::${ACCT}:role/Admin`,
		username: null, userid: 'AROAEXAMPLEROLE00001:sess-1', type: 'AssumedRole', temp: true }],
	[13, { name: 'carol', acct: ACCT2, arn: `arn:aws:iam::${ACCT2}:user/carol`, principalArn: `arn:aws:iam::${ACCT2}:user/carol`,
		username: 'carol', userid: 'AIDAEXAMPLECAROL0001', type: 'User', temp: false }],
	[10, { name: 'root', acct: ACCT, arn: `arn:aws:iam::${ACCT}:root`, principalArn: `arn:aws:iam::${ACCT}:root`,
		username: null, userid: ACCT, type: 'Account', temp: false }],
];

const TABLES = [[30, 'Books'], [14, 'alice'], [5, 'bob'], [5, 'Book'], [5, 'books'], [8, 'Authors'],
	[5, 'Secret'], [5, 'Audit'], [5, 'ops'], [5, 'Booking'], [5, 'Books.v2'], [4, 'shared']];
const TABLE_NAMES = TABLES.map(([, t]) => t);
const INDEXES = ['ByAuthor', 'ByDate'];
const STREAM_LABEL = '2015-05-20T20:51:10.252';

/* action -> kind of resource it takes */
const ACTIONS = [
	[10, 'GetItem', 'table'], [8, 'PutItem', 'table'], [6, 'UpdateItem', 'table'], [5, 'DeleteItem', 'table'],
	[2, 'ConditionCheckItem', 'table'], [4, 'BatchGetItem', 'table'], [3, 'BatchWriteItem', 'table'],
	[8, 'Query', 'tableOrIndex'], [5, 'Scan', 'tableOrIndex'], [4, 'PartiQLSelect', 'tableOrIndex'],
	[2, 'PartiQLInsert', 'table'], [2, 'PartiQLUpdate', 'table'], [2, 'PartiQLDelete', 'table'],
	[3, 'DescribeTable', 'table'], [3, 'DeleteTable', 'table'], [3, 'CreateTable', 'table'], [2, 'UpdateTable', 'table'],
	[3, 'TagResource', 'table'], [3, 'UntagResource', 'table'], [2, 'ListTagsOfResource', 'table'],
	[3, 'GetRecords', 'stream'], [2, 'GetShardIterator', 'stream'], [2, 'DescribeStream', 'stream'],
	[4, 'ListTables', 'star'], [2, 'DescribeEndpoints', 'star'], [2, 'ListStreams', 'star'],
];
const ACTION_NAMES = ACTIONS.map(([, a]) => a);

const ATTRS = ['Id', 'Title', 'Author', 'Price', 'SSN', 'Address', 'id'];
const LEADING = ['alice', 'bob', ACCT, 'user-1', 'Alice'];
const TAGKEYS = ['env', 'team', 'Owner', 'cost-center', 'Env'];
const ORGPATHS = ['o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/', 'o-a1b2c3d4e5/r-ab12/', 'o-zzzzzzzzzz/r-zz99/'];

/* ------------------------------------------------------- request context */

/*
 * Builds a plausible request context; keys not accepted by the oracle for
 * the (action, resource) pair are removed afterwards by the caller.
 */
function makeContext(rng, p, action, resource) {
	const c = {};
	const put = (k, v) => { c[k] = Array.isArray(v) ? v : [v]; };
	const ti = rng.int(0, T_ISO.length - 1);

	put('aws:PrincipalAccount', p.acct);
	put('aws:PrincipalArn', p.principalArn);
	put('aws:userid', p.userid);
	if (p.username) put('aws:username', p.username);
	if (rng.chance(0.7)) put('aws:PrincipalType', p.type);
	if (rng.chance(0.5)) put('aws:PrincipalOrgID', rng.pick(['o-a1b2c3d4e5', 'o-zzzzzzzzzz']));
	if (rng.chance(0.3)) put('aws:PrincipalOrgPaths', rng.sample(ORGPATHS, rng.int(0, 2)));
	if (rng.chance(0.5)) put('aws:PrincipalTag/team', rng.pick(['alice', 'books', 'ops', 'Books']));
	if (rng.chance(0.2)) put('aws:PrincipalTag/team2', rng.pick(['books', 'ops']));
	if (rng.chance(0.05)) put('aws:PrincipalTag/blob', rng.pick(['QUJD', 'REVGRw==']));
	if (rng.chance(0.8)) put('aws:SourceVpce', rng.weighted([[8, VPCE], [2, VPCE2]]));
	if (rng.chance(0.5)) put('aws:SourceVpc', rng.pick(['vpc-1a2b3c4d', 'vpc-9f8e7d6c']));
	if (rng.chance(0.25)) put('aws:SourceIp', rng.pick(['10.1.2.3', '203.0.113.7', '192.0.2.1', '2001:db8::1', '2001:db8:1::5']));
	if (rng.chance(0.6)) put('aws:VpcSourceIp', rng.pick(['10.1.2.3', '10.1.2.4', '172.16.5.9', '2001:db8::1', 'fd00::1:2']));
	if (rng.chance(0.9)) put('aws:SecureTransport', rng.weighted([[8, 'true'], [2, 'false']]));
	if (rng.chance(0.9)) put('aws:CurrentTime', T_ISO[ti]);
	if (rng.chance(0.9)) put('aws:EpochTime', T_EPOCH[ti]);
	if (p.temp) {
		if (rng.chance(0.9)) put('aws:TokenIssueTime', rng.pick(['2026-03-01T11:00:00Z', '2025-06-15T08:00:00Z']));
		if (rng.chance(0.7)) put('aws:MultiFactorAuthPresent', rng.pick(['true', 'false']));
		if (rng.chance(0.5)) put('aws:MultiFactorAuthAge', rng.pick(['120', '7200', '0']));
	}
	if (rng.chance(0.9)) put('aws:RequestedRegion', resource === '*' ? 'us-east-1' : resource.split(':')[3]);
	if (rng.chance(0.4)) put('aws:UserAgent', rng.pick(['aws-cli/2.9.19 Python/3.11.2', 'Boto3/1.26.27 Python/3.11.2']));
	if (rng.chance(0.4)) put('aws:ViaAWSService', 'false');
	if (resource !== '*' && rng.chance(0.7)) put('aws:ResourceAccount', resource.split(':')[4]);
	if (rng.chance(0.2)) put('aws:ResourceTag/env', rng.pick(['prod', 'dev']));
	if (rng.chance(0.05)) put('aws:CalledVia', rng.sample(['dynamodb.amazonaws.com', 'cloudformation.amazonaws.com'], rng.int(0, 2)));

	/* DynamoDB keys, filtered later by applicability */
	const r = rng.next();
	if (r < 0.5) put('dynamodb:Attributes', rng.sample(ATTRS, rng.int(1, 4)));
	else if (r < 0.72) put('dynamodb:Attributes', []);
	const l = rng.next();
	if (l < 0.5) put('dynamodb:LeadingKeys', rng.sample(LEADING, rng.weighted([[6, 1], [3, 2], [1, 3]])));
	else if (l < 0.7) put('dynamodb:LeadingKeys', []);
	if (rng.chance(0.8)) put('dynamodb:Select', rng.pick(['ALL_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT', 'ALL_PROJECTED_ATTRIBUTES']));
	if (rng.chance(0.8)) put('dynamodb:ReturnValues', rng.weighted([[5, 'NONE'], [1, 'ALL_OLD'], [1, 'UPDATED_OLD'], [1, 'ALL_NEW'], [1, 'UPDATED_NEW']]));
	if (rng.chance(0.5)) put('dynamodb:ReturnConsumedCapacity', rng.pick(['TOTAL', 'NONE', 'INDEXES']));
	if (rng.chance(0.3)) put('dynamodb:EnclosingOperation', rng.pick(['TransactWriteItems', 'TransactGetItems', 'ExecuteTransaction']));
	if (rng.chance(0.8)) put('dynamodb:FullTableScan', rng.pick(['true', 'false']));
	if (/^(CreateTable|TagResource|UntagResource)$/.test(action)) {
		const t = rng.next();
		if (t < 0.6) put('aws:TagKeys', rng.sample(TAGKEYS, rng.int(1, 3)));
		else if (t < 0.8) put('aws:TagKeys', []);
		if (action !== 'UntagResource' && rng.chance(0.5)) put('aws:RequestTag/env', rng.pick(['prod', 'dev']));
	}
	return c;
}

function makeRequest(rng) {
	const p = rng.weighted(PRINCIPALS);
	const [, action, kind] = rng.weighted(ACTIONS.map((a) => [a[0], a]));
	const region = rng.weighted([[8, 'us-east-1'], [2, 'eu-west-1']]);
	const acct = rng.chance(0.8) ? p.acct : (p.acct === ACCT ? ACCT2 : ACCT);
	const table = rng.weighted(TABLES);
	const base = `arn:aws:dynamodb:${region}:${acct}:table/${table}`;
	let resource;
	switch (kind) {
	case 'table': resource = base; break;
	case 'tableOrIndex': resource = rng.chance(0.4) ? `${base}/index/${rng.pick(INDEXES)}` : base; break;
	case 'stream': resource = `${base}/stream/${STREAM_LABEL}`; break;
	default: resource = '*';
	}
	return { p, action: `dynamodb:${action}`, resource };
}

/* ------------------------------------------------------------- policies */

function caseVariant(rng, s) {
	return rng.pick([s.toUpperCase(), s.toLowerCase(),
		s.split('').map((ch, i) => (i % 2 ? ch.toUpperCase() : ch.toLowerCase())).join('')]);
}

function genAction(rng, req) {
	const act = req.action.split(':')[1];
	return rng.weighted([
		[8, () => '*'],
		[10, () => 'dynamodb:*'],
		[20, () => req.action],
		[12, () => `dynamodb:${rng.pick(ACTION_NAMES)}`],
		[4, () => rng.chance(0.5) ? `DYNAMODB:${act.toLowerCase()}` : `dynamodb:${caseVariant(rng, act)}`],
		[16, () => rng.pick(['dynamodb:Get*', 'dynamodb:*Item', 'dynamodb:?etItem', 'dynamodb:Batch*', 'dynamodb:PartiQL*',
			'dynamodb:Describe*', 'dynamodb:List*', 'dynamodb:*Table*', 'dynamodb:Get?tem', 'dynamodb:G*t*',
			'dynamodb:*', 'dynamodb:Delete*', 'dynamodb:*Stream*', 'dynamodb:Put*', 'dynamodb:Query', 'dynamodb:??????'])],
		[4, () => rng.pick(['s3:GetObject', 'dax:GetItem', 'dynamodb:TransactWriteItems', 'kms:*'])],
	])();
}

function tableArn(region, acct, rest) {
	return `arn:aws:dynamodb:${region}:${acct}:${rest}`;
}

/* Returns [resourceString, tags] */
function genResource(rng, req) {
	const parts = req.resource === '*' ? null : req.resource.split(':');
	const region = parts ? parts[3] : 'us-east-1';
	const acct = parts ? parts[4] : ACCT;
	const reqTable = parts ? parts.slice(5).join(':').split('/')[1] : 'Books';
	const t = rng.chance(0.6) ? reqTable : rng.weighted(TABLES);
	const rg = () => rng.weighted([[7, region], [2, '*'], [1, 'us-east-?'], [1, 'eu-west-1']]);
	const ac = () => rng.weighted([[7, acct], [2, '*'], [1, acct === ACCT ? ACCT2 : ACCT]]);
	return rng.weighted([
		[10, () => '*'],
		[22, () => tableArn(rg(), ac(), `table/${t}`)],
		[8, () => tableArn(rg(), ac(), `table/${t}*`)],
		[4, () => tableArn(rg(), ac(), `table/${t.slice(0, -1)}?`)],
		[4, () => tableArn(rg(), ac(), `table/${t.slice(0, 2)}??${t.slice(4)}`)],
		[8, () => tableArn(rg(), ac(), 'table/*')],
		[6, () => tableArn(rg(), ac(), `table/${t}/index/*`)],
		[4, () => tableArn(rg(), ac(), `table/${t}/stream/*`)],
		[4, () => tableArn(rg(), ac(), `table/${t}/*`)],
		[3, () => tableArn(rg(), ac(), '*')],
		[2, () => rng.pick(['arn:aws:dynamodb:*:*:*', 'arn:*:dynamodb:*:*:table/*', 'arn:aws:dynamodb:*:*:table*'])],
		[3, () => tableArn(rg(), ac(), `table/${caseVariant(rng, t)}`)],
		[8, () => tableArn(rg(), ac(), rng.pick(['table/${aws:username}', 'table/${aws:username}*',
			'table/${aws:username}/index/*', "table/${aws:PrincipalTag/team, 'shared'}", 'table/${aws:PrincipalTag/team}',
			'table/${AWS:USERNAME}', "table/${aws:PrincipalTag/team2, 'Books'}*", 'table/${aws:PrincipalAccount}']))],
		[1, () => tableArn(rg(), ac(), rng.pick(['table/x${*}', 'table/Books${?}', 'table/${$}Books']))],
		[1, () => 'arn:aws:s3:::bucket/*'],
		/* wildcard inside the resource-type prefix (KNOWN_DIFFERENCES K4) */
		[1, () => tableArn(rg(), ac(), rng.pick(['*/Books', 'tab?e/Books*', 't*/alice']))],
	])();
}

/* ----------------------------------------------------------- conditions */

const KEYS = {
	/* name: [type, values for equality, patterns for Like] */
	'aws:SourceVpce': ['String', [VPCE, VPCE2, 'VPCE-0ABC1234DEF567890', 'vpce-0abc1234'], ['vpce-0abc1234*', 'vpce-0abc????def567890', '*', 'vpce-0fff0000aaaa*']],
	'aws:SourceVpc': ['String', ['vpc-1a2b3c4d', 'vpc-9f8e7d6c'], ['vpc-1a2b3c*']],
	'aws:PrincipalAccount': ['String', [ACCT, ACCT2, '999999999999', '${aws:ResourceAccount}'], [ACCT]],
	'aws:PrincipalOrgID': ['String', ['o-a1b2c3d4e5', 'o-zzzzzzzzzz', 'O-A1B2C3D4E5'], ['o-a1b2c3*']],
	'aws:PrincipalType': ['String', ['User', 'AssumedRole', 'Account', 'user'], ['Assumed*', '*Role']],
	'aws:userid': ['String', ['AIDAJQABLZS4A3QDU576Q', 'AROAEXAMPLEROLE00001:sess-1', ACCT, 'AIDA${*}', '${aws:userid}'],
		['AIDAJQABLZ*', 'AROAEXAMPLEROLE00001:*', 'AIDA${*}', '*:sess-1', '*:${aws:username}']],
	'aws:username': ['String', ['alice', 'bob', 'Alice', '${aws:PrincipalTag/team}', '${aws:username}', "${aws:PrincipalTag/team, 'alice'}"],
		['ali*', 'al?ce', '*', '${aws:PrincipalTag/team}*', 'a${*}']],
	'aws:RequestedRegion': ['String', ['us-east-1', 'eu-west-1', 'US-EAST-1'], ['us-east-*', 'eu-*', 'us-????-1']],
	'aws:UserAgent': ['String', ['Boto3/1.26.27 Python/3.11.2'], ['aws-cli/*', '*Python/3.11*', 'Boto3/*']],
	'aws:ResourceAccount': ['String', [ACCT, ACCT2, '${aws:PrincipalAccount}'], [ACCT]],
	'aws:PrincipalTag/team': ['String', ['alice', 'books', 'ops', '${aws:username}', "${aws:PrincipalTag/team2, 'books'}"],
		['boo*', 'Boo*', 'o?s', "${aws:PrincipalTag/team2, 'bo'}*"]],
	'aws:PrincipalTag/team2': ['String', ['books', 'ops', '${aws:PrincipalTag/team}'], ['b*']],
	'aws:ResourceTag/env': ['String', ['prod', 'dev', 'Prod'], ['pr*']],
	'aws:RequestTag/env': ['String', ['prod', 'dev'], ['d?v']],
	'dynamodb:Select': ['String', ['SPECIFIC_ATTRIBUTES', 'ALL_ATTRIBUTES', 'COUNT', 'specific_attributes'], ['ALL_*', '*ATTRIBUTES']],
	'dynamodb:ReturnValues': ['String', ['NONE', 'UPDATED_OLD', 'UPDATED_NEW', 'ALL_OLD', 'ALL_NEW'], ['UPDATED_*', 'ALL_*']],
	'dynamodb:ReturnConsumedCapacity': ['String', ['TOTAL', 'NONE', 'INDEXES'], ['*']],
	'dynamodb:EnclosingOperation': ['String', ['TransactWriteItems', 'TransactGetItems', 'ExecuteTransaction'], ['Transact*']],
	'aws:PrincipalArn': ['Arn', [`arn:aws:iam::${ACCT}:user/alice`, `arn:aws:iam::${ACCT}:role/Admin`, `arn:aws:iam::${ACCT}:user/Alice`,
		`arn:aws:iam::${ACCT2}:user/carol`, `arn:aws:iam::${ACCT}:root`, 'arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}'],
	[`arn:aws:iam::${ACCT}:user/*`, 'arn:aws:iam::*:role/Admin', `arn:aws:iam::${ACCT}:*`, 'arn:aws:iam::*:user/a*',
		`arn:aws:iam::${ACCT}:role/Adm?n`, 'arn:aws:iam::${aws:PrincipalAccount}:*', 'arn:aws:*:*:*:*', `arn:aws:iam::${ACCT}:*/alice`]],
	'aws:SourceIp': ['Ip', ['10.0.0.0/8', '10.1.2.0/24', '203.0.113.0/24', '10.1.2.3', '2001:db8::/32', '2001:db8::1', '0.0.0.0/0', '::/0', '192.0.2.1/32'], []],
	'aws:VpcSourceIp': ['Ip', ['10.0.0.0/8', '10.1.2.3', '10.1.2.4/32', '172.16.0.0/12', 'fd00::/8', '2001:db8::1', '2001:db8::/48', '10.1.2.0/31'], []],
	'aws:SecureTransport': ['Bool', ['true', 'false'], []],
	'aws:MultiFactorAuthPresent': ['Bool', ['true', 'false'], []],
	'aws:ViaAWSService': ['Bool', ['true', 'false'], []],
	'dynamodb:FullTableScan': ['Bool', ['true', 'false'], []],
	'aws:CurrentTime': ['Date', ['2026-01-01T00:00:00Z', '2026-03-01T12:00:00Z', '2030-01-01T00:00:00Z', '2025-06-15T08:30:00Z',
		'2026-03-01T12:00:01Z', '2026-03-01T11:59:59Z', '2031-01-01T00:00:00Z'], []],
	'aws:TokenIssueTime': ['Date', ['2026-03-01T11:00:00Z', '2026-01-01T00:00:00Z', '2025-06-15T08:00:00Z'], []],
	'aws:EpochTime': ['Epoch', ['1772366400', '1700000000', '1900000000', '1772366399', '1749976200', '1924992000'], []],
	'aws:MultiFactorAuthAge': ['Numeric', ['300', '3600', '0', '120', '7200.0', '119.5', '-1'], []],
	'dynamodb:Attributes': ['Set', ATTRS.concat(['title']), ['T*', '*d', '?d', 'Addr*']],
	'dynamodb:LeadingKeys': ['Set', LEADING.concat(['${aws:username}', '${aws:userid}', '${aws:PrincipalAccount}']), ['ali*', 'user-?', '${aws:username}*']],
	'aws:TagKeys': ['Set', TAGKEYS.concat(['ENV']), ['cost-*', 'e?v', '*']],
	'aws:PrincipalOrgPaths': ['Set', ORGPATHS, ['o-a1b2c3d4e5/*', 'o-a1b2c3d4e5/r-ab12/ou-*']],
	'aws:CalledVia': ['Set', ['dynamodb.amazonaws.com', 'cloudformation.amazonaws.com'], ['*.amazonaws.com']],
	'aws:PrincipalTag/blob': ['Binary', ['QUJD', 'REVGRw==', 'QUJDRA=='], []],
};
const KEY_NAMES = Object.keys(KEYS);
const keysOfType = (...types) => KEY_NAMES.filter((k) => types.includes(KEYS[k][0]));

const OPS = {
	String: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
	Numeric: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'],
	Date: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
	Bool: ['Bool'],
	Ip: ['IpAddress', 'NotIpAddress'],
	Arn: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike'],
	Binary: ['BinaryEquals'],
};

/* Policy values for (operator family, key). */
function valuesFor(rng, family, op, key) {
	const [type, eq, like] = KEYS[key];
	const likeOp = /Like$/.test(op);
	switch (family) {
	case 'String':
		if (type === 'String' || type === 'Set')
			return likeOp && like.length && rng.chance(0.7) ? like : eq;
		if (type === 'Arn') return likeOp ? like.concat(eq) : eq;
		/* other types as strings */
		return eq.concat(like);
	case 'Arn':
		if (type === 'Arn') return likeOp || rng.chance(0.3) ? like.concat(eq) : eq;
		return rng.chance(0.5) ? eq : ['arn:aws:iam::111122223333:user/alice', '*'];
	case 'Numeric':
		if (type === 'Numeric' || type === 'Epoch') return eq.concat([Number(eq[0])]);
		return [ACCT, 111122223333, '0', '1'];
	case 'Date':
		/* same form as the key's values: see KNOWN_DIFFERENCES K3 for mixing */
		if (type === 'Date' || type === 'Epoch') return eq;
		return ['2026-03-01T12:00:00Z'];
	case 'Bool':
		return rng.chance(0.1) ? [true, false] : ['true', 'false'];
	case 'Ip':
		if (type === 'Ip') return eq;
		return ['10.0.0.0/8', '::/0'];
	case 'Binary':
		if (type === 'Binary') return eq;
		return ['QUJD'];
	}
	throw new Error(family);
}

function pickValues(rng, pool) {
	const n = rng.weighted([[6, 1], [3, 2], [1, 3]]);
	const vals = rng.sample(pool, Math.min(n, pool.length));
	if (vals.length === 1 && rng.chance(0.5)) return vals[0];
	return vals;
}

const FAMILY_KEYS = {
	String: () => keysOfType('String'),
	Numeric: () => keysOfType('Numeric', 'Epoch'),
	Date: () => keysOfType('Date', 'Epoch'),
	Bool: () => keysOfType('Bool'),
	Ip: () => keysOfType('Ip'),
	Arn: () => keysOfType('Arn'),
	Binary: () => keysOfType('Binary'),
};

/*
 * Keys for an operator of another type. Numeric and Date operators get only
 * keys whose values parseInt, parseFloat and Date.parse all reject: the
 * oracle parses leniently (parseInt("10.1.2.3") is 10, Date.parse("us-east-1")
 * is 2001-01-01) while the spec (5.5) says unparseable values never match
 * (KNOWN_DIFFERENCES K8).
 */
const NON_NUMERIC_KEYS = ['aws:SourceVpce', 'aws:PrincipalOrgID', 'aws:username', 'dynamodb:Select', 'dynamodb:ReturnValues',
	'aws:PrincipalType', 'dynamodb:Attributes', 'aws:SecureTransport'];
function otherKeys(family) {
	return family === 'Numeric' || family === 'Date' ? NON_NUMERIC_KEYS : KEY_NAMES;
}

function maybeCaseKey(rng, key) {
	if (!rng.chance(0.08)) return key;
	return rng.pick([key.toUpperCase(), key.toLowerCase()]);
}

/* Adds one operator block to cond (an object); keeps operator names unique. */
function genConditionBlock(rng, cond, ctxKeys) {
	const kind = rng.weighted([[30, 'String'], [7, 'Numeric'], [8, 'Date'], [7, 'Bool'], [7, 'Ip'], [8, 'Arn'],
		[9, 'Null'], [1, 'Binary'], [23, 'Set']]);
	let op, family, keyPool;
	if (kind === 'Null') {
		op = 'Null';
	} else if (kind === 'Set') {
		family = rng.weighted([[70, 'String'], [6, 'Numeric'], [5, 'Date'], [5, 'Bool'], [4, 'Ip'], [10, 'Arn']]);
		op = `${rng.pick(['ForAllValues', 'ForAnyValue'])}:${rng.pick(OPS[family])}`;
		if (rng.chance(0.06)) op += 'IfExists';
		keyPool = family === 'String' && rng.chance(0.75) ? keysOfType('Set') : (rng.chance(0.5) ? FAMILY_KEYS[family]() : otherKeys(family));
	} else {
		family = kind;
		op = rng.pick(OPS[family]);
		if (rng.chance(0.2)) op += 'IfExists';
		const r = rng.next();
		/* mostly matching types; some multivalued keys with plain operators (5.5) and some type mismatches */
		keyPool = r < 0.8 ? FAMILY_KEYS[family]() : r < 0.9 ? keysOfType('Set') : otherKeys(family);
	}
	if (cond[op]) return;
	const block = {};
	const nkeys = rng.weighted([[8, 1], [2, 2]]);
	for (let i = 0; i < nkeys; i++) {
		let key;
		if (op === 'Null') key = rng.chance(0.7) ? rng.pick(ctxKeys.length ? ctxKeys : KEY_NAMES) : rng.pick(KEY_NAMES);
		else key = rng.pick(keyPool);
		const written = maybeCaseKey(rng, key);
		if (Object.keys(block).some((k) => k.toLowerCase() === key.toLowerCase())) continue;
		if (op === 'Null') block[written] = rng.weighted([[4, 'true'], [4, 'false'], [1, true], [1, false]]);
		else block[written] = pickValues(rng, valuesFor(rng, family, op.replace(/IfExists$/, '').replace(/^.*:/, ''), key));
	}
	cond[op] = block;
}

function genStatement(rng, req, ctxKeys, first) {
	const st = {};
	const els = [];
	if (rng.chance(0.3)) els.push(['Sid', `S${rng.int(0, 99)}`]);
	/* a broad Allow first (as in real endpoint policies) makes the other statements' conditions decisive */
	const broad = first && rng.chance(0.4);
	const effect = broad || (first && rng.chance(0.5)) ? 'Allow' : rng.weighted([[6, 'Allow'], [4, 'Deny']]);
	els.push(['Effect', effect]);
	els.push(['Principal', '*']);
	if (broad) {
		els.push(['Action', rng.pick(['*', 'dynamodb:*', ['dynamodb:*']])]);
		els.push(['Resource', rng.pick(['*', '*', 'arn:aws:dynamodb:*:*:*', 'arn:aws:dynamodb:*:*:table/*'])]);
	} else {
		const actN = rng.weighted([[7, 1], [2, 2], [1, 3]]);
		const acts = [...new Set(Array.from({ length: actN }, () => genAction(rng, req)))];
		const actVal = acts.length === 1 && rng.chance(0.6) ? acts[0] : acts;
		els.push([rng.chance(0.2) ? 'NotAction' : 'Action', actVal]);
		const resN = rng.weighted([[7, 1], [2, 2], [1, 3]]);
		const ress = [...new Set(Array.from({ length: resN }, () => genResource(rng, req)))];
		const resVal = ress.length === 1 && rng.chance(0.6) ? ress[0] : ress;
		els.push([rng.chance(0.18) ? 'NotResource' : 'Resource', resVal]);
	}
	if (rng.chance(broad ? 0.4 : 0.6)) {
		const cond = {};
		const nops = rng.weighted([[6, 1], [3, 2], [1, 3]]);
		for (let i = 0; i < nops; i++) genConditionBlock(rng, cond, ctxKeys);
		if (Object.keys(cond).length) els.push(['Condition', cond]);
	}
	for (const [k, v] of rng.chance(0.2) ? rng.shuffle(els) : els) st[k] = v;
	return st;
}

function genPolicy(rng, req, ctxKeys) {
	const doc = {};
	const ver = rng.weighted([[80, '2012-10-17'], [10, '2008-10-17'], [10, null]]);
	if (ver) doc.Version = ver;
	if (rng.chance(0.05)) doc.Id = 'policy-1';
	const n = rng.weighted([[35, 1], [35, 2], [20, 3], [10, 4]]);
	const sts = Array.from({ length: n }, (_, i) => genStatement(rng, req, ctxKeys, i === 0));
	doc.Statement = n === 1 && rng.chance(0.2) ? sts[0] : sts;
	const indent = rng.pick([0, 0, 2, 4, '\t']);
	return JSON.stringify(doc, null, indent);
}

/* ---------------------------------------------------- applicable keys */

const allowedCache = new Map();
async function allowedKeys(action, resource) {
	const k = `${action} ${resource}`;
	if (!allowedCache.has(k)) {
		const [svc, act] = action.split(':');
		const keys = await allowedContextKeysForRequest(svc, act, resource, false);
		allowedCache.set(k, new Set(keys));
	}
	return allowedCache.get(k);
}

/* The oracle's own test for a key in the allowed set (incl. tag-key families). */
function keyAllowed(set, key) {
	const lk = key.toLowerCase();
	if (set.has(lk)) return true;
	const slash = lk.indexOf('/');
	if (slash === -1) return false;
	const prefix = lk.slice(0, slash + 1);
	for (const a of set) if (a.startsWith(prefix)) return true;
	return false;
}

/* ----------------------------------------------- hand-written vectors */

function vectors() {
	const T = `arn:aws:dynamodb:us-east-1:${ACCT}:table`;
	const alice = PRINCIPALS[0][1];
	const base = {
		'aws:PrincipalAccount': [ACCT], 'aws:PrincipalArn': [alice.principalArn], 'aws:userid': [alice.userid],
		'aws:username': ['alice'], 'aws:SourceVpce': [VPCE], 'aws:SecureTransport': ['true'],
		'aws:CurrentTime': [T_ISO[0]], 'aws:EpochTime': [T_EPOCH[0]],
	};
	const pol = (stmts, ver = '2012-10-17') => JSON.stringify(ver ? { Version: ver, Statement: stmts } : { Statement: stmts });
	const st = (effect, action, resource, extra = {}) => ({ Effect: effect, Principal: '*', Action: action, Resource: resource, ...extra });
	const allowAll = st('Allow', '*', '*');
	/* The results the table of 5.9 gives: A allowed, I implicit deny, E explicit deny. */
	const SPEC = {
		1: 'I', 2: 'A', 3: 'A', 4: 'I', 5: 'I', 6: 'A', '7a': 'A', '7b': 'I', 8: 'I', 9: 'A', '10a': 'E', '10b': 'A',
		'11a': 'A', '11b': 'I', '12a': 'I', '12b': 'A', '13a': 'E', '13b': 'A', '14a': 'A', '14b': 'I', 15: 'E', 16: 'A',
		'17a': 'A', '17b': 'I', 18: 'I', 19: 'E', '20a': 'A', '20b': 'I', 21: 'A', '22a': 'A', '22b': 'E', 23: 'I',
		'24a': 'A', '24b': 'I', 25: 'A', '25e': 'A', 26: 'A', '27a': 'I', '27b': 'A', 28: 'A', 29: 'A', 30: 'I',
		'31a': 'A', '31b': 'I', 32: 'E', '33a': 'A', '33b': 'I', '34a': 'I', '34b': 'I', '35a': 'A', '35b': 'I',
		'36a': 'E', '36b': 'A', 37: 'A', 38: 'A', '39a': 'I', '39b': 'A', '42a': 'A', '42b': 'E', 48: 'A',
		'49a': 'A', '49b': 'A', 50: 'I', 51: 'A', 53: 'A', '54a': 'A', '54b': 'I',
	};
	const WORD = { A: 'allow', I: 'implicit_deny', E: 'explicit_deny' };
	const v = [];
	const add = (id, policy, over = {}) => {
		const ctx = { ...base, ...(over.ctx || {}) };
		for (const k of over.drop || []) delete ctx[k];
		if (!SPEC[id]) throw new Error(`vector ${id} has no result`);
		v.push({ id: `v${id}`, policy, principal: over.principal || alice.arn, action: over.action || 'dynamodb:GetItem',
			resource: over.resource || `${T}/Books`, context: ctx, spec: WORD[SPEC[id]] });
	};
	add('1', pol([]));
	add('2', pol([allowAll]));
	add('3', pol([st('Allow', 'DYNAMODB:getitem', `${T}/Books`)]));
	add('4', pol([st('Allow', 'dynamodb:GetItem', `${T}/books`)]));
	add('5', pol([st('Allow', 'dynamodb:Query', `${T}/Books`)]), { action: 'dynamodb:Query', resource: `${T}/Books/index/ByAuthor` });
	add('6', pol([st('Allow', 'dynamodb:Query', `${T}/Books*`)]), { action: 'dynamodb:Query', resource: `${T}/Books/index/ByAuthor` });
	add('7a', pol([st('Allow', 'dynamodb:GetItem', `${T}/Book?`)]));
	add('7b', pol([st('Allow', 'dynamodb:GetItem', `${T}/Book?`)]), { resource: `${T}/Book` });
	add('8', pol([st('Allow', 'dynamodb:ListTables', `${T}/*`)]), { action: 'dynamodb:ListTables', resource: '*' });
	add('9', pol([st('Allow', 'dynamodb:ListTables', '*')]), { action: 'dynamodb:ListTables', resource: '*' });
	add('10a', pol([allowAll, st('Deny', 'dynamodb:DeleteTable', '*')]), { action: 'dynamodb:DeleteTable' });
	add('10b', pol([allowAll, st('Deny', 'dynamodb:DeleteTable', '*')]));
	const na = { Effect: 'Allow', Principal: '*', NotAction: 'dynamodb:Delete*', Resource: '*' };
	add('11a', pol([na]));
	add('11b', pol([na]), { action: 'dynamodb:DeleteItem' });
	const nr = { Effect: 'Allow', Principal: '*', Action: 'dynamodb:*', NotResource: `${T}/Secret` };
	add('12a', pol([nr]), { resource: `${T}/Secret` });
	add('12b', pol([nr]));
	const dnr = { Effect: 'Deny', Principal: '*', Action: '*', NotResource: `${T}/Books` };
	add('13a', pol([allowAll, dnr]), { resource: `${T}/Other` });
	add('13b', pol([allowAll, dnr]));
	const c14 = st('Allow', '*', '*', { Condition: { StringEquals: { 'aws:SourceVpce': VPCE } } });
	add('14a', pol([c14]));
	add('14b', pol([c14]), { drop: ['aws:SourceVpce'] });
	add('15', pol([allowAll, st('Deny', '*', '*', { Condition: { StringNotEquals: { 'aws:SourceVpce': VPCE } } })]), { drop: ['aws:SourceVpce'] });
	add('16', pol([st('Allow', '*', '*', { Condition: { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-zzz' } } })]), { drop: ['aws:SourceVpce'] });
	const c17 = st('Allow', '*', '*', { Condition: { Null: { 'aws:TokenIssueTime': 'true' } } });
	add('17a', pol([c17]));
	add('17b', pol([c17]), { ctx: { 'aws:TokenIssueTime': ['2026-03-01T11:00:00Z'] } });
	add('18', pol([st('Allow', '*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })]));
	add('19', pol([allowAll, st('Deny', '*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })]));
	const c20 = st('Allow', '*', '*', { Condition: { IpAddress: { 'aws:VpcSourceIp': '10.1.2.3' } } });
	add('20a', pol([c20]), { ctx: { 'aws:VpcSourceIp': ['10.1.2.3'] } });
	add('20b', pol([c20]), { ctx: { 'aws:VpcSourceIp': ['10.1.2.4'] } });
	add('21', pol([st('Allow', '*', '*', { Condition: { StringEquals: { 'aws:PrincipalAccount': [ACCT, ACCT2] } } })]));
	const c22 = [allowAll, st('Deny', '*', '*', { Condition: { StringNotEquals: { 'aws:PrincipalAccount': [ACCT, ACCT2] } } })];
	add('22a', pol(c22));
	add('22b', pol(c22), { ctx: { 'aws:PrincipalAccount': ['999999999999'] } });
	add('23', pol([st('Allow', '*', '*', { Condition: { StringEquals: { 'aws:PrincipalAccount': ACCT, 'aws:SourceVpce': 'vpce-other' } } })]));
	const c24 = st('Allow', 'dynamodb:GetItem', '*', { Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['Id', 'Title'] } } });
	add('24a', pol([c24]), { ctx: { 'dynamodb:Attributes': ['Id', 'Title'] } });
	add('24b', pol([c24]), { ctx: { 'dynamodb:Attributes': ['Id', 'Price'] } });
	add('25', pol([c24]));
	add('25e', pol([c24]), { ctx: { 'dynamodb:Attributes': [] } });
	add('26', pol([st('Allow', 'dynamodb:Scan', '*', { Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['alice'] } } })]),
		{ action: 'dynamodb:Scan' });
	const c27 = st('Allow', 'dynamodb:Query', '*', { Condition: { StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } } });
	add('27a', pol([c27]), { action: 'dynamodb:Query', ctx: { 'dynamodb:Select': ['ALL_ATTRIBUTES'] } });
	add('27b', pol([c27]), { action: 'dynamodb:Query', ctx: { 'dynamodb:Select': ['SPECIFIC_ATTRIBUTES'] } });
	add('28', pol([allowAll, st('Deny', 'dynamodb:GetItem', '*', { Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': ['SSN'] } } })]));
	add('29', pol([st('Allow', '*', '*', { Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': ['o-a'] } } })]));
	add('30', pol([st('Allow', '*', '*', { Condition: { 'ForAnyValue:StringEquals': { 'aws:PrincipalOrgID': ['o-a'] } } })]));
	const c31 = st('Allow', 'dynamodb:*', `${T}/\${aws:username}`);
	add('31a', pol([c31]), { resource: `${T}/alice` });
	add('31b', pol([c31]), { resource: `${T}/alice`, principal: PRINCIPALS[2][1].arn, drop: ['aws:username'] });
	add('32', pol([allowAll, st('Deny', '*', '*', { Condition: { StringNotEquals: { 'aws:PrincipalTag/team': '${aws:PrincipalTag/team2}' } } })]));
	const c33 = st('Allow', '*', '*', { Condition: { StringLike: { 'aws:userid': 'AIDA${*}' } } });
	add('33a', pol([c33]), { ctx: { 'aws:userid': ['AIDA*'] } });
	add('33b', pol([c33]), { ctx: { 'aws:userid': ['AIDAXYZ'] } });
	add('34a', pol([c31], '2008-10-17'), { resource: `${T}/alice` });
	add('34b', pol([c31], null), { resource: `${T}/alice` });
	const weird = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';
	add('35a', pol([st('Allow', '*', '*', { Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:someservice:*:111122223333:finance/*' } } })]),
		{ ctx: { 'aws:PrincipalArn': [weird] } });
	add('35b', pol([st('Allow', '*', '*', { Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:someservice:*:111122223333:finance/*' } } })]),
		{ ctx: { 'aws:PrincipalArn': [weird] } });
	const c36 = [allowAll, st('Deny', '*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })];
	add('36a', pol(c36), { ctx: { 'aws:SecureTransport': ['false'] } });
	add('36b', pol(c36));
	add('37', pol([st('Allow', '*', '*', { Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' },
		NumericGreaterThan: { 'aws:EpochTime': '1700000000' } } })]));
	add('38', pol([st('Allow', '*', '*', { Condition: { StringEquals: { 'AWS:SOURCEVPCE': VPCE } } })]));
	add('39a', pol([st('Allow', '*', '*', { Condition: { StringEquals: { 'aws:SourceVpce': VPCE.toUpperCase() } } })]));
	add('39b', pol([st('Allow', '*', '*', { Condition: { StringEqualsIgnoreCase: { 'aws:SourceVpce': VPCE.toUpperCase() } } })]));
	add('42a', pol([allowAll, st('Deny', 'dynamodb:PutItem', '*', { Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } } })]),
		{ action: 'dynamodb:PutItem', ctx: { 'dynamodb:ReturnValues': ['NONE'] } });
	add('42b', pol([allowAll, st('Deny', 'dynamodb:PutItem', '*', { Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } } })]),
		{ action: 'dynamodb:PutItem', ctx: { 'dynamodb:ReturnValues': ['NONE'], 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } });
	add('48', pol([allowAll]));
	add('49a', pol([st('Allow', 'dynamodb:Get*', '*')]), { action: 'dynamodb:GetRecords', resource: `${T}/Forum/stream/${STREAM_LABEL}` });
	add('49b', pol([st('Allow', 'dynamodb:Get*', '*')]), { action: 'dynamodb:GetShardIterator', resource: `${T}/Forum/stream/${STREAM_LABEL}` });
	add('50', pol([st('Allow', 'dynamodb:GetItem', '*')]), { action: 'dynamodb:DescribeEndpoints', resource: '*' });
	add('51', pol([st('Allow', 'dynamodb:GetRecords', `${T}/Forum/stream/${STREAM_LABEL}`)]),
		{ action: 'dynamodb:GetRecords', resource: `${T}/Forum/stream/${STREAM_LABEL}` });
	add('53', pol([st('Allow', 'dynamodb:GetItem', '*', { Condition: { StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' } } })]));
	const c54 = st('Allow', 'dynamodb:UpdateItem', '*', { Condition: { StringEquals: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] } } });
	add('54a', pol([c54]), { action: 'dynamodb:UpdateItem', ctx: { 'dynamodb:ReturnValues': ['NONE'] } });
	add('54b', pol([c54]), { action: 'dynamodb:UpdateItem', ctx: { 'dynamodb:ReturnValues': ['ALL_NEW'] } });
	return v;
}

/* ----------------------------------------------------------------- main */

async function main() {
	const args = parseArgs(process.argv);
	const rng = makeRng(args.seed);
	const out = [];
	for (const c of vectors()) out.push(c);
	for (let i = 0; i < args.n; i++) {
		const req = makeRequest(rng);
		const ctx = makeContext(rng, req.p, req.action.split(':')[1], req.resource);
		const allowed = await allowedKeys(req.action, req.resource);
		for (const k of Object.keys(ctx)) if (!keyAllowed(allowed, k)) delete ctx[k];
		/* sanity: single-valued keys carry one value, sets may be empty */
		for (const k of Object.keys(ctx)) {
			const multi = /^Array/.test(await typeForContextKey(k));
			if (!multi && ctx[k].length !== 1) throw new Error(`bug: ${k} has ${ctx[k].length} values`);
		}
		const policy = genPolicy(rng, req, Object.keys(ctx));
		out.push({ id: `r${i}`, policy, principal: req.p.arn, action: req.action, resource: req.resource, context: ctx });
	}
	const text = out.map((c) => JSON.stringify(c)).join('\n') + '\n';
	if (args.out) fs.writeFileSync(args.out, text);
	else process.stdout.write(text);
}

main().catch((e) => { console.error(`gen.js: ${e.stack || e}`); process.exit(1); });
