#!/usr/bin/env node
'use strict';
/*
 * minimize.js — shrinks failing cases to small ones that still disagree.
 *
 * usage: node minimize.js POLICY_EVAL cases.jsonl results.tsv [ID ...]
 *
 * POLICY_EVAL is the eval.c binary (run.sh keeps it in its work directory
 * when something failed). Without IDs, every disagreement that is not
 * exempt by KNOWN_DIFFERENCES is shrunk. Greedy: drop statements,
 * condition operators, keys, values, Sid/Id, context keys; replace value
 * lists by one value; keep each step that preserves "oracle says X,
 * ddbgate says Y" with the same X and Y.
 */

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { judge } = require('./oracle.js');
const { knownDifferences } = require('./known.js');

function ddbgate(bin, cases) {
	const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pdmin-')), 'c.jsonl');
	fs.writeFileSync(tmp, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
	const out = execFileSync(bin, [tmp], { encoding: 'utf8', maxBuffer: 1 << 26 });
	fs.rmSync(path.dirname(tmp), { recursive: true });
	return out.split('\n').filter(Boolean).map((l) => l.split('\t')[1]);
}

/* All one-step reductions of a case. */
function reductions(c) {
	const out = [];
	const doc = JSON.parse(c.policy);
	const emit = (d, ctx = c.context) => out.push({ ...c, policy: JSON.stringify(d), context: ctx });
	const clone = () => JSON.parse(JSON.stringify(doc));
	const stmts = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
	const put = (d, sts) => { d.Statement = sts; return d; };
	if (stmts.length > 1)
		for (let i = 0; i < stmts.length; i++)
			emit(put(clone(), stmts.filter((_, j) => j !== i)));
	if (doc.Id !== undefined) { const d = clone(); delete d.Id; emit(d); }
	for (let i = 0; i < stmts.length; i++) {
		const st = stmts[i];
		const withSt = (f) => { const d = clone(); const s2 = Array.isArray(d.Statement) ? d.Statement : [d.Statement]; f(s2[i]); emit(put(d, s2)); };
		if (st.Sid !== undefined) withSt((s) => delete s.Sid);
		for (const el of ['Action', 'NotAction', 'Resource', 'NotResource']) {
			if (!Array.isArray(st[el])) continue;
			for (let k = 0; k < st[el].length; k++)
				withSt((s) => { s[el] = st[el].length === 1 ? st[el][0] : st[el].filter((_, j) => j !== k); });
		}
		if (st.Resource !== undefined && st.Resource !== '*') withSt((s) => { s.Resource = '*'; });
		if (st.Action !== undefined && st.Action !== '*') withSt((s) => { s.Action = '*'; });
		const cond = st.Condition;
		if (!cond) continue;
		withSt((s) => delete s.Condition);
		for (const op of Object.keys(cond)) {
			if (Object.keys(cond).length > 1) withSt((s) => delete s.Condition[op]);
			for (const key of Object.keys(cond[op])) {
				if (Object.keys(cond[op]).length > 1) withSt((s) => delete s.Condition[op][key]);
				const v = cond[op][key];
				if (Array.isArray(v))
					for (let k = 0; k < v.length; k++)
						withSt((s) => { s.Condition[op][key] = v.length === 1 ? v[0] : v.filter((_, j) => j !== k); });
			}
		}
	}
	for (const k of Object.keys(c.context)) {
		const ctx = { ...c.context };
		delete ctx[k];
		out.push({ ...c, context: ctx });
		if (c.context[k].length > 1)
			for (let j = 0; j < c.context[k].length; j++)
				out.push({ ...c, context: { ...c.context, [k]: c.context[k].filter((_, x) => x !== j) } });
	}
	return out;
}

async function shrink(bin, c, want, got) {
	let cur = c;
	for (let round = 0; round < 200; round++) {
		const cands = reductions(cur);
		if (!cands.length) break;
		const mine = ddbgate(bin, cands);
		let next = null;
		for (let i = 0; i < cands.length && !next; i++) {
			if (mine[i] !== got) continue;
			const o = await judge(cands[i]);
			if (o.expected === want && knownDifferences({ ...cands[i], expected: want }, got).rules.length === 0) next = cands[i];
		}
		if (!next) break;
		cur = next;
	}
	return cur;
}

async function main() {
	const [bin, casesPath, resultsPath, ...ids] = process.argv.slice(2);
	if (!bin || !casesPath || !resultsPath) {
		console.error('usage: node minimize.js POLICY_EVAL cases.jsonl results.tsv [ID ...]');
		process.exit(2);
	}
	const res = new Map(fs.readFileSync(resultsPath, 'utf8').split('\n').filter(Boolean)
		.map((l) => l.split('\t')).map(([id, d]) => [id, d]));
	const cases = fs.readFileSync(casesPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
	for (const c of cases) {
		if (c.skip || (ids.length && !ids.includes(c.id))) continue;
		const got = res.get(c.id);
		if (got === c.expected || got === 'error') continue;
		if (!ids.length && knownDifferences(c, got).rules.length) continue;
		const m = await shrink(bin, c, c.expected, got);
		console.log(JSON.stringify({ id: c.id, oracle: c.expected, ddbgate: got, action: m.action, resource: m.resource,
			principal: m.principal, policy: JSON.parse(m.policy), context: m.context }));
	}
}

main().catch((e) => { console.error(`minimize.js: ${e.stack || e}`); process.exit(1); });
