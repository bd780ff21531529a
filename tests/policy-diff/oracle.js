#!/usr/bin/env node
'use strict';
/*
 * oracle.js — runs every generated case through @cloud-copilot/iam-simulate
 * and writes cases.jsonl: the input case plus
 *   "expected": "allow" | "implicit_deny" | "explicit_deny"
 * or, for a case that cannot be compared,
 *   "skip": "<reason>".
 *
 * usage: node oracle.js IN.jsonl OUT.jsonl
 *
 * How the endpoint policy alone is made to decide: the simulation carries
 * an identity policy that allows everything, no SCPs/RCPs (only the
 * implicit RCPFullAWSAccess), no resource policy, and the case's policy as
 * the only VPC endpoint policy. The decision is the endpoint analysis of
 * that run (result.analysis.endpointAnalysis.result); the overall result
 * must agree with it, and a case where it does not is skipped.
 *
 * Strict mode is used: the request context is authoritative, absent keys
 * are absent. A case is skipped when the oracle rejects the input
 * (resultType "error", e.g. a policy its validator refuses) or when it
 * dropped one of the context keys we passed (ignoredContextKeys): the
 * oracle evaluated a different request than the one ddbgate sees.
 */

const fs = require('fs');
const readline = require('readline');
const { runSimulation } = require('@cloud-copilot/iam-simulate');

const ALLOW_ALL_IDENTITY = {
	name: 'allow-all',
	policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

const DECISION = { Allowed: 'allow', ImplicitlyDenied: 'implicit_deny', ExplicitlyDenied: 'explicit_deny' };

/*
 * The resource is declared to be in the caller's account so that the
 * identity policy alone grants access (a cross-account request would also
 * need a resource policy). The resource ARN itself is unchanged.
 */
function accountOf(c) {
	return c.principal.split(':')[4];
}

async function judge(c) {
	let doc;
	try {
		doc = JSON.parse(c.policy);
	} catch (e) {
		return { skip: `policy is not JSON: ${e.message}` };
	}
	const sim = {
		request: {
			principal: c.principal,
			action: c.action,
			resource: { resource: c.resource, accountId: accountOf(c) },
			/* the oracle turns a one-element array into a string for single-valued keys */
			contextVariables: c.context,
		},
		identityPolicies: [ALLOW_ALL_IDENTITY],
		serviceControlPolicies: [],
		resourceControlPolicies: [],
		vpcEndpointPolicies: [{ name: 'endpoint', policy: doc }],
	};
	const r = await runSimulation(sim, { simulationMode: 'Strict' });
	if (r.resultType === 'error') return { skip: `oracle error: ${r.errors.message}` };
	if (r.resultType !== 'single') return { skip: `oracle result type ${r.resultType}` };
	const ignored = r.result.ignoredContextKeys || [];
	if (ignored.length) return { skip: `oracle ignored context keys: ${ignored.join(',')}` };
	const ep = r.result.analysis.endpointAnalysis;
	if (!ep) return { skip: 'oracle has no endpoint analysis' };
	const expected = DECISION[ep.result];
	if (!expected) return { skip: `oracle endpoint result ${ep.result}` };
	if (r.overallResult !== ep.result) return { skip: `overall ${r.overallResult} != endpoint ${ep.result}` };
	return { expected };
}

async function main() {
	const [inPath, outPath] = process.argv.slice(2);
	if (!inPath || !outPath) {
		console.error('usage: node oracle.js IN.jsonl OUT.jsonl');
		process.exit(2);
	}
	const out = fs.createWriteStream(outPath);
	const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
	const counts = {};
	const skips = {};
	for await (const line of rl) {
		if (!line.trim()) continue;
		const c = JSON.parse(line);
		let v;
		try {
			v = await judge(c);
		} catch (e) {
			v = { skip: `oracle threw: ${e.message}` };
		}
		Object.assign(c, v);
		if (v.skip) {
			const reason = v.skip.replace(/: .*/, '');
			skips[reason] = (skips[reason] || 0) + 1;
		} else {
			counts[v.expected] = (counts[v.expected] || 0) + 1;
		}
		out.write(JSON.stringify(c) + '\n');
	}
	await new Promise((res) => out.end(res));
	const summary = Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ');
	console.error(`oracle: ${summary || 'no cases'}`);
	for (const [k, n] of Object.entries(skips)) console.error(`oracle: dropped ${n}: ${k}`);
}

module.exports = { judge };

if (require.main === module)
	main().catch((e) => { console.error(`oracle.js: ${e.stack || e}`); process.exit(1); });
