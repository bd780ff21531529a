#!/usr/bin/env node
'use strict';
/*
 * compare.js — compares the oracle's decisions (cases.jsonl, "expected")
 * with ddbgate's (the output of eval.c) and prints every disagreement that
 * no documented rule of known.js / KNOWN_DIFFERENCES.md explains.
 *
 * usage: node compare.js cases.jsonl results.tsv POLICY_EVAL
 *
 * A disagreement is exempt when some statements of the policy have a
 * documented feature and, with exactly those statements removed, the
 * oracle and ddbgate (POLICY_EVAL, the eval.c binary) agree again.
 *
 * The hand-written vectors of spec 5.9 (cases with a "spec" field) are
 * judged against the spec's result instead of the oracle's.
 *
 * Ends with "N passed, N failed, N skipped" (skipped = dropped by the
 * oracle + exempt known differences); exits 1 on any failure.
 */

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { knownDifferences, withoutStatements, RULES } = require('./known.js');
const { judge } = require('./oracle.js');

function readLines(p) {
	return fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0);
}

function compactPolicy(text) {
	try {
		return JSON.stringify(JSON.parse(text));
	} catch (e) {
		return text;
	}
}

/* ddbgate's decisions for a list of cases, through the eval.c binary. */
function runDdbgate(bin, cases) {
	if (!cases.length) return [];
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-diff-cmp-'));
	try {
		const file = path.join(dir, 'reduced.jsonl');
		fs.writeFileSync(file, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
		const out = execFileSync(bin, [file], { encoding: 'utf8', maxBuffer: 1 << 28 });
		return out.split('\n').filter(Boolean).map((l) => l.split('\t')[1]);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

async function main() {
	const [casesPath, resultsPath, bin] = process.argv.slice(2);
	if (!casesPath || !resultsPath || !bin) {
		console.error('usage: node compare.js cases.jsonl results.tsv POLICY_EVAL');
		process.exit(2);
	}
	const cases = readLines(casesPath).map((l) => JSON.parse(l));
	const results = new Map();
	for (const line of readLines(resultsPath)) {
		const [id, decision, detail] = line.split('\t');
		results.set(id, { decision, detail });
	}

	let passed = 0, skipped = 0;
	const dropReasons = {};
	const failures = [];
	const candidates = [];
	for (const c of cases) {
		if (c.skip) {
			skipped++;
			const reason = c.skip.replace(/: .*/, '');
			dropReasons[reason] = (dropReasons[reason] || 0) + 1;
			continue;
		}
		const got = results.get(c.id);
		if (c.spec) {
			/* a vector of spec 5.9: judged against the spec's own result */
			if (got && got.decision === c.spec) passed++;
			else failures.push({ c, got, note: `spec 5.9 gives ${c.spec} (oracle: ${c.expected})` });
			continue;
		}
		if (got && got.decision === c.expected) {
			passed++;
			continue;
		}
		const known = got && got.decision !== 'error' ? knownDifferences(c, got.decision) : { rules: [] };
		if (known.rules.length > 0) candidates.push({ c, got, known });
		else failures.push({ c, got });
	}

	/* Confirm each exemption: without the flagged statements, both must agree. */
	const reduced = candidates.map(({ c, known }) => withoutStatements(c, known.stmts));
	const mine = runDdbgate(bin, reduced);
	const exempt = {};
	for (let i = 0; i < candidates.length; i++) {
		const o = await judge(reduced[i]);
		const { c, got, known } = candidates[i];
		if (!o.skip && o.expected === mine[i]) {
			skipped++;
			for (const r of known.rules) exempt[r.id] = (exempt[r.id] || 0) + 1;
		} else {
			failures.push({ c, got, note: `has ${known.rules.map((r) => r.id).join('+')} in statements ` +
				`${known.stmts.join(',')}, but without them the oracle says ${o.expected || o.skip} and ddbgate ${mine[i]}` });
		}
	}

	const failKinds = {};
	for (const { c, got, note } of failures) {
		const gotText = got ? (got.decision === 'error' ? `load error: ${got.detail}` : `${got.decision} (statement ${got.detail})`) : 'no result';
		const kind = `${c.expected} -> ${got ? got.decision : 'none'}`;
		failKinds[kind] = (failKinds[kind] || 0) + 1;
		console.log(`FAIL ${c.id}: expected ${c.expected}, got ${gotText}`);
		if (note) console.log(`  note:     ${note}`);
		console.log(`  request:  ${c.action} on ${c.resource} by ${c.principal}`);
		console.log(`  context:  ${JSON.stringify(c.context)}`);
		console.log(`  policy:   ${compactPolicy(c.policy)}`);
	}
	if (!Object.keys(dropReasons).length)
		console.log('dropped 0: the oracle evaluated every case with every context key given');
	for (const [reason, n] of Object.entries(dropReasons))
		console.log(`dropped ${n}: ${reason}`);
	for (const r of RULES)
		if (exempt[r.id]) console.log(`exempt ${exempt[r.id]}: ${r.id} ${r.title} (spec ${r.spec})`);
	for (const [kind, n] of Object.entries(failKinds))
		console.log(`failed ${n}: oracle ${kind}`);
	console.log(`${passed} passed, ${failures.length} failed, ${skipped} skipped`);
	process.exit(failures.length > 0 ? 1 : 0);
}

main().catch((e) => { console.error(`compare.js: ${e.stack || e}`); process.exit(1); });
