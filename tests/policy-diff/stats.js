#!/usr/bin/env node
'use strict';
/*
 * stats.js — prints the feature mix of a cases file (gen.js or oracle.js
 * output): how many cases exercise each element, operator family, set
 * operator, IfExists, policy variable, key state (absent / empty / values).
 *
 * usage: node stats.js cases.jsonl
 */

const fs = require('fs');
const { conditions, statements, ctxGet } = require('./known.js');

function main() {
	const path = process.argv[2];
	if (!path) {
		console.error('usage: node stats.js cases.jsonl');
		process.exit(2);
	}
	const counts = {};
	const bump = (k) => { counts[k] = (counts[k] || 0) + 1; };
	let total = 0;
	for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
		if (!line) continue;
		const c = JSON.parse(line);
		total++;
		const doc = JSON.parse(c.policy);
		const f = new Set();
		f.add(`version ${doc.Version || 'absent'}`);
		if (c.expected) f.add(`expected ${c.expected}`);
		if (c.skip) f.add('dropped');
		f.add(`statements ${statements(doc).length}`);
		f.add(`action ${c.action}`);
		f.add(c.resource === '*' ? 'resource *' : /\/index\//.test(c.resource) ? 'resource index' :
			/\/stream\//.test(c.resource) ? 'resource stream' : 'resource table');
		for (const st of statements(doc)) {
			for (const el of ['Action', 'NotAction', 'Resource', 'NotResource', 'Condition'])
				if (st[el] !== undefined) f.add(`element ${el}`);
			const acts = [].concat(st.Action || st.NotAction || []);
			if (acts.some((a) => /[*?]/.test(a) && a !== '*')) f.add('action wildcard');
			const ress = [].concat(st.Resource || st.NotResource || []);
			if (ress.some((r) => r !== '*' && /\?/.test(r.replace(/\$\{\?\}/g, '')))) f.add('resource ? wildcard');
			if (ress.some((r) => r !== '*' && /\*/.test(r.replace(/\$\{\*\}/g, '')))) f.add('resource * wildcard');
			if (ress.some((r) => /\$\{/.test(r))) f.add('resource variable');
		}
		for (const k of conditions(doc)) {
			const set = /^(ForAllValues|ForAnyValue):/i.exec(k.op);
			const fam = k.base.replace(/^(String|Numeric|Date|Arn|Binary).*/i, '$1').replace(/^(Not)?IpAddress$/i, 'IpAddress');
			f.add(`operator family ${fam}`);
			f.add(`operator ${k.base}`);
			if (set) f.add(`set ${set[1]}`);
			if (/IfExists$/i.test(k.op)) f.add('IfExists');
			if (k.values.some((v) => /\$\{[^*?$]/.test(v))) f.add('condition variable');
			if (k.values.some((v) => /\$\{[*?$]\}/.test(v))) f.add('escape ${*} ${?} ${$}');
			if (k.values.some((v) => /, '/.test(v))) f.add('variable default');
			const v = ctxGet(c, k.key);
			const multi = /^(dynamodb:Attributes|dynamodb:LeadingKeys|aws:TagKeys|aws:PrincipalOrgPaths|aws:CalledVia)$/i.test(k.key);
			const state = v === undefined ? 'absent' : v.length === 0 ? 'empty set' : v.length > 1 ? 'several values' : 'one value';
			f.add(`condition key ${state}`);
			if (multi && !/^Null$/i.test(k.base)) f.add(`multivalued key with ${set ? 'set' : 'plain'} operator`);
			if (!multi && set) f.add('set operator on single-valued key');
		}
		for (const x of f) bump(x);
	}
	console.log(`${total} cases`);
	for (const k of Object.keys(counts).sort()) console.log(`${String(counts[k]).padStart(6)}  ${k}`);
}

main();
