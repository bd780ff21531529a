/*
 * Unit tests for policy: the 55 edge-case vectors of spec 5.9, each
 * element (Principal, Action, Resource and their Not forms), every
 * condition operator with its IfExists, ForAllValues: and ForAnyValue:
 * forms on missing, empty and multivalued keys, policy variables, load
 * errors with their JSON paths, the action index, and lint findings.
 *
 * Policies are written with ' for " (\' for a real single quote) to keep
 * them readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

#define T	"arn:aws:dynamodb:us-east-1:111122223333:table"
#define ALICE	"arn:aws:iam::111122223333:user/alice"
#define V12	"'Version':'2012-10-17',"
#define ALLOW_ALL \
	"{'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'}"

#define DA	"allow"
#define DI	"implicit deny"
#define DE	"explicit deny"

#define MAXK	24
#define POLICY_TEST_BIG	(20480 * 2 + 64)

static char errbuf[512];

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char *
dq(const char *s)
{
	char *t = malloc(strlen(s) + 1), *o = t;

	assert_non_null(t);
	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == '\'') {
			*o++ = '\'';
			s++;
		} else
			*o++ = *s == '\'' ? '"' : *s;
	}
	*o = '\0';
	return t;
}

static struct policy *
load_sq(const char *sq)
{
	char *doc = dq(sq);
	struct policy *p;

	p = policy_load_buffer(doc, strlen(doc), errbuf, sizeof(errbuf));
	free(doc);
	return p;
}

static struct policy *
pol(const char *sq)
{
	struct policy *p = load_sq(sq);

	if (p == NULL)
		fail_msg("load failed: %s\n--- policy:\n%s", errbuf, sq);
	return p;
}

/* The load fails with exactly msg. */
static void
load_fails(const char *sq, const char *msg)
{
	struct policy *p = load_sq(sq);

	if (p != NULL) {
		policy_free(p);
		fail_msg("accepted: %s", sq);
	}
	assert_string_equal(errbuf, msg);
}

/* The load fails with a message starting with prefix. */
static void
load_fails_prefix(const char *sq, const char *prefix)
{
	struct policy *p = load_sq(sq);

	if (p != NULL) {
		policy_free(p);
		fail_msg("accepted: %s", sq);
	}
	if (strncmp(errbuf, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", errbuf,
		    prefix);
}

struct ctx {
	struct policy_key keys[MAXK];
	const char	*vals[MAXK][8];
	size_t		 nkeys;
	struct policy_request req;
};

/* Sets key name to n values (n == 0: present and empty; n < 0: absent). */
static void
ctx_setv(struct ctx *c, const char *name, int n, const char *const *v)
{
	size_t i, j;

	for (i = 0; i < c->nkeys; i++) {
		if (strcasecmp(c->keys[i].name, name) == 0)
			break;
	}
	if (n < 0) {
		if (i == c->nkeys)
			return;
		for (j = i; j + 1 < c->nkeys; j++) {
			c->keys[j] = c->keys[j + 1];
			memcpy(c->vals[j], c->vals[j + 1], sizeof(c->vals[j]));
		}
		c->nkeys--;
	} else {
		assert_true(i < MAXK && n <= 8);
		if (i == c->nkeys)
			c->nkeys++;
		c->keys[i].name = name;
		c->keys[i].nvalues = (size_t)n;
		for (j = 0; j < (size_t)n; j++)
			c->vals[i][j] = v[j];
	}
	for (i = 0; i < c->nkeys; i++)
		c->keys[i].values = c->vals[i];
}

static void
ctx_set(struct ctx *c, const char *name, int n, ...)
{
	const char *v[8];
	va_list ap;
	int i;

	assert_true(n <= 8);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		v[i] = va_arg(ap, const char *);
	va_end(ap);
	ctx_setv(c, name, n, v);
}

/* The common context of spec 5.9. */
static void
ctx_common(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->req.principal = ALICE;
	c->req.action = "dynamodb:GetItem";
	c->req.resource = T "/Books";
	ctx_set(c, "aws:PrincipalAccount", 1, "111122223333");
	ctx_set(c, "aws:SourceVpce", 1, "vpce-0abc1234def567890");
	ctx_set(c, "aws:SecureTransport", 1, "true");
	ctx_set(c, "aws:PrincipalArn", 1, ALICE);
	ctx_set(c, "aws:username", 1, "alice");
	ctx_set(c, "aws:userid", 1, "AIDAEXAMPLEALICE");
}

static struct policy_result
eval_full(const struct policy *p, struct ctx *c)
{
	struct policy_result r;

	c->req.keys = c->keys;
	c->req.nkeys = c->nkeys;
	policy_evaluate(p, &c->req, &r);
	return r;
}

static const char *
decide(const struct policy *p, struct ctx *c)
{
	return policy_decision_name(eval_full(p, c).decision);
}

#define EXPECT(p, c, d) assert_string_equal(decide((p), (c)), (d))

/* One (action, resource) pair of a multi-pair request. */
struct pair {
	const char *action;
	const char *resource;
};

/* Every pair must be allowed (5.8); the first denial decides. */
static const char *
decide_pairs(const struct policy *p, struct ctx *c, const struct pair *v,
    size_t n)
{
	const char *d;
	size_t i;

	for (i = 0; i < n; i++) {
		c->req.action = v[i].action;
		c->req.resource = v[i].resource;
		d = decide(p, c);
		if (strcmp(d, DA) != 0)
			return d;
	}
	return DA;
}

/* Builds "{Version, Statement: [stmts]}" from the 2012 version. */
static struct policy *
pol_stmts(const char *stmts)
{
	char doc[8192];

	snprintf(doc, sizeof(doc), "{" V12 "'Statement':[%s]}", stmts);
	return pol(doc);
}

/*
 * Decision of "Allow * if cond" (deny: "Allow *; Deny * if cond") for
 * the common context with key set to n values (n < 0: absent).
 */
static const char *
with_cond(const char *cond, bool deny, const char *key, int n,
    const char *const *v)
{
	static char result[32];
	char stmts[4096];
	struct policy *p;
	struct ctx c;

	snprintf(stmts, sizeof(stmts), "%s{'Effect':'%s','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':%s}",
	    deny ? ALLOW_ALL "," : "", deny ? "Deny" : "Allow", cond);
	p = pol_stmts(stmts);
	ctx_common(&c);
	ctx_setv(&c, key, n, v);
	snprintf(result, sizeof(result), "%s", decide(p, &c));
	policy_free(p);
	return result;
}

/* with_cond for an Allow and a single request value (NULL: absent). */
static const char *
cond1(const char *cond, const char *key, const char *value)
{
	return with_cond(cond, false, key, value != NULL ? 1 : -1, &value);
}

/* Number of lint findings, and the text in out. */
static int
lint_text(const char *sq, char *out, size_t outlen)
{
	struct policy *p = pol(sq);
	FILE *f = tmpfile();
	size_t n;
	int count;

	assert_non_null(f);
	count = policy_lint(p, f);
	rewind(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	policy_free(p);
	return count;
}

/* Lint of the given statements reports a line containing needle. */
static void
lint_has(const char *stmts, const char *needle)
{
	char doc[8192], out[8192];

	snprintf(doc, sizeof(doc), "{" V12 "'Statement':[%s]}", stmts);
	lint_text(doc, out, sizeof(out));
	if (strstr(out, needle) == NULL)
		fail_msg("lint lacks \"%s\":\n%s", needle, out);
}

/* ------------------------------------------------------------------ */
/* Spec 5.9 vectors                                                    */
/* ------------------------------------------------------------------ */

static void
vector_01_empty_statement_is_default_deny(void **state)
{
	struct policy *p = pol("{" V12 "'Statement':[]}");
	struct ctx c;
	struct policy_result r;

	ctx_common(&c);
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_DENY_IMPLICIT);
	assert_int_equal(r.statement, -1);
	assert_null(r.sid);
	policy_free(p);
}

static void
vector_02_allow_all(void **state)
{
	struct policy *p = pol_stmts(ALLOW_ALL);
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_03_action_case_insensitive(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'DYNAMODB:getitem','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	c.req.action = "DynamoDB:GETITEM";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_04_resource_part_case_sensitive(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/books'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_05_query_index_resource(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Query','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:Query";
	c.req.resource = T "/Books/index/ByAuthor";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_06_star_spans_slash(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Query','Resource':'" T "/Books*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:Query";
	c.req.resource = T "/Books/index/ByAuthor";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_07_question_mark_one_char(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/Book?'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	c.req.resource = T "/Book";
	EXPECT(p, &c, DI);
	c.req.resource = T "/Bookss";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_08_list_tables_needs_star(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:ListTables','Resource':'" T "/*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:ListTables";
	c.req.resource = "*";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_09_list_tables_star(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:ListTables','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:ListTables";
	c.req.resource = "*";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_10_explicit_deny_wins(void **state)
{
	struct policy *p = pol_stmts(ALLOW_ALL ",{'Sid':'NoDrop',"
	    "'Effect':'Deny','Principal':'*','Action':'dynamodb:DeleteTable',"
	    "'Resource':'*'}");
	struct policy *q = pol_stmts("{'Effect':'Deny','Principal':'*',"
	    "'Action':'dynamodb:DeleteTable','Resource':'*'}," ALLOW_ALL);
	struct policy_result r;
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:DeleteTable";
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_DENY_EXPLICIT);
	assert_int_equal(r.statement, 1);
	assert_string_equal(r.sid, "NoDrop");
	EXPECT(q, &c, DE);
	c.req.action = "dynamodb:GetItem";
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_int_equal(r.statement, 0);
	EXPECT(q, &c, DA);
	policy_free(p);
	policy_free(q);
}

static void
vector_11_not_action_allow(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'NotAction':'dynamodb:Delete*','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:DeleteItem";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_12_not_resource_allow(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:*','NotResource':'" T "/Secret'}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = T "/Secret";
	EXPECT(p, &c, DI);
	c.req.resource = T "/Books";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_13_not_resource_deny(void **state)
{
	struct policy *p = pol_stmts(ALLOW_ALL ",{'Effect':'Deny',"
	    "'Principal':'*','Action':'*','NotResource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = T "/Other";
	EXPECT(p, &c, DE);
	c.req.resource = T "/Books";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_14_missing_key_positive_false(void **state)
{
	const char *cond = "{'StringEquals':{'aws:SourceVpce':"
	    "'vpce-0abc1234def567890'}}";

	assert_string_equal(cond1(cond, "aws:SourceVpce",
	    "vpce-0abc1234def567890"), DA);
	assert_string_equal(cond1(cond, "aws:SourceVpce", NULL), DI);
}

static void
vector_15_missing_key_negated_true(void **state)
{
	assert_string_equal(with_cond("{'StringNotEquals':{'aws:SourceVpce':"
	    "'vpce-0abc1234def567890'}}", true, "aws:SourceVpce", -1, NULL),
	    DE);
}

static void
vector_16_ifexists_missing_true(void **state)
{
	assert_string_equal(cond1("{'StringEqualsIfExists':{"
	    "'aws:SourceVpce':'vpce-zzz'}}", "aws:SourceVpce", NULL), DA);
}

static void
vector_17_null_token_issue_time(void **state)
{
	const char *cond = "{'Null':{'aws:TokenIssueTime':'true'}}";

	assert_string_equal(cond1(cond, "aws:TokenIssueTime", NULL), DA);
	assert_string_equal(cond1(cond, "aws:TokenIssueTime",
	    "2026-01-01T00:00:00Z"), DI);
}

static void
vector_18_source_ip_absent_via_endpoint(void **state)
{
	assert_string_equal(cond1("{'IpAddress':{'aws:SourceIp':"
	    "'10.0.0.0/8'}}", "aws:SourceIp", NULL), DI);
}

static void
vector_19_not_ip_address_denies_endpoint_traffic(void **state)
{
	assert_string_equal(with_cond("{'NotIpAddress':{'aws:SourceIp':"
	    "'203.0.113.0/24'}}", true, "aws:SourceIp", -1, NULL), DE);
}

static void
vector_20_bare_ipv4_is_host(void **state)
{
	const char *cond = "{'IpAddress':{'aws:VpcSourceIp':'10.1.2.3'}}";

	assert_string_equal(cond1(cond, "aws:VpcSourceIp", "10.1.2.3"), DA);
	assert_string_equal(cond1(cond, "aws:VpcSourceIp", "10.1.2.4"), DI);
}

static void
vector_21_values_ored(void **state)
{
	const char *cond = "{'StringEquals':{'aws:PrincipalAccount':"
	    "['111122223333','444455556666']}}";

	assert_string_equal(cond1(cond, "aws:PrincipalAccount",
	    "111122223333"), DA);
	assert_string_equal(cond1(cond, "aws:PrincipalAccount",
	    "444455556666"), DA);
}

static void
vector_22_negated_values_anded(void **state)
{
	const char *cond = "{'StringNotEquals':{'aws:PrincipalAccount':"
	    "['111122223333','444455556666']}}";
	const char *a = "111122223333", *b = "999999999999";

	assert_string_equal(with_cond(cond, true, "aws:PrincipalAccount", 1,
	    &a), DA);
	assert_string_equal(with_cond(cond, true, "aws:PrincipalAccount", 1,
	    &b), DE);
}

static void
vector_23_keys_anded(void **state)
{
	assert_string_equal(cond1("{'StringEquals':{'aws:PrincipalAccount':"
	    "'111122223333','aws:SourceVpce':'vpce-other'}}",
	    "aws:PrincipalAccount", "111122223333"), DI);
	assert_string_equal(cond1("{'StringEquals':{'aws:PrincipalAccount':"
	    "'111122223333','aws:SourceVpce':'vpce-0abc1234def567890'}}",
	    "aws:PrincipalAccount", "111122223333"), DA);
}

static struct policy *
attributes_policy(void)
{
	return pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'*','Condition':{"
	    "'ForAllValues:StringEquals':{'dynamodb:Attributes':"
	    "['Id','Title']}}}");
}

static void
vector_24_for_all_values_attributes(void **state)
{
	struct policy *p = attributes_policy();
	struct ctx c;

	ctx_common(&c);
	ctx_set(&c, "dynamodb:Attributes", 2, "Id", "Title");
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:Attributes", 2, "Id", "Price");
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_25_for_all_values_without_projection(void **state)
{
	struct policy *p = attributes_policy();
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);		/* no Attributes key at all */
	ctx_set(&c, "dynamodb:Attributes", 1, "Id");	/* only the key */
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_26_scan_has_no_leading_keys(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Scan','Resource':'*','Condition':{"
	    "'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':"
	    "['alice']}}}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:Scan";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_27_select_always_present(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Query','Resource':'*','Condition':{"
	    "'StringEqualsIfExists':{'dynamodb:Select':"
	    "'SPECIFIC_ATTRIBUTES'}}}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:Query";
	ctx_set(&c, "dynamodb:Select", 1, "ALL_ATTRIBUTES");
	EXPECT(p, &c, DI);
	ctx_set(&c, "dynamodb:Select", 1, "SPECIFIC_ATTRIBUTES");
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_28_for_any_value_deny_without_projection(void **state)
{
	struct policy *p = pol_stmts(ALLOW_ALL ",{'Effect':'Deny',"
	    "'Principal':'*','Action':'dynamodb:GetItem','Resource':'*',"
	    "'Condition':{'ForAnyValue:StringEquals':{'dynamodb:Attributes':"
	    "['SSN']}}}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:Attributes", 1, "Id");
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:Attributes", 2, "Id", "SSN");
	EXPECT(p, &c, DE);
	policy_free(p);
}

static void
vector_29_for_all_values_misused(void **state)
{
	assert_string_equal(cond1("{'ForAllValues:StringEquals':{"
	    "'aws:PrincipalOrgID':['o-a']}}", "aws:PrincipalOrgID", NULL), DA);
}

static void
vector_30_for_any_value_missing(void **state)
{
	assert_string_equal(cond1("{'ForAnyValue:StringEquals':{"
	    "'aws:PrincipalOrgID':['o-a']}}", "aws:PrincipalOrgID", NULL), DI);
}

static void
vector_31_username_variable_in_resource(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:*','Resource':'" T "/${aws:username}'}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = T "/alice";
	EXPECT(p, &c, DA);
	c.req.resource = T "/bob";
	EXPECT(p, &c, DI);
	/* A role session has no aws:username. */
	c.req.principal = "arn:aws:sts::111122223333:assumed-role/R/alice";
	ctx_set(&c, "aws:username", -1);
	c.req.resource = T "/alice";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_32_negated_with_unresolved_variable(void **state)
{
	assert_string_equal(with_cond("{'StringNotEquals':{"
	    "'aws:PrincipalTag/team':'${aws:PrincipalTag/team2}'}}", true,
	    "aws:PrincipalTag/team", -1, NULL), DE);
}

static void
vector_33_escaped_asterisk(void **state)
{
	const char *cond = "{'StringLike':{'aws:userid':'AIDA${*}'}}";

	assert_string_equal(cond1(cond, "aws:userid", "AIDA*"), DA);
	assert_string_equal(cond1(cond, "aws:userid", "AIDAXYZ"), DI);
}

static void
vector_34_variables_literal_in_old_versions(void **state)
{
	const char *docs[] = {
		"{'Version':'2008-10-17','Statement':[{'Effect':'Allow',"
		"'Principal':'*','Action':'dynamodb:*','Resource':'" T
		"/${aws:username}'}]}",
		"{'Statement':[{'Effect':'Allow','Principal':'*',"
		"'Action':'dynamodb:*','Resource':'" T "/${aws:username}'}]}",
	};
	struct policy *p;
	struct ctx c;
	size_t i;

	for (i = 0; i < 2; i++) {
		p = pol(docs[i]);
		ctx_common(&c);
		c.req.resource = T "/alice";
		EXPECT(p, &c, DI);
		c.req.resource = T "/${aws:username}";
		EXPECT(p, &c, DA);	/* the literal text */
		policy_free(p);
	}
}

static void
vector_35_string_like_vs_arn_like(void **state)
{
	const char *v = "arn:aws:someservice:us-east-2:999999999999:"
	    "store/abc:111122223333:finance/document.txt";

	assert_string_equal(cond1("{'StringLike':{'aws:PrincipalArn':"
	    "'arn:aws:someservice:*:111122223333:finance/*'}}",
	    "aws:PrincipalArn", v), DA);
	assert_string_equal(cond1("{'ArnLike':{'aws:PrincipalArn':"
	    "'arn:aws:someservice:*:111122223333:finance/*'}}",
	    "aws:PrincipalArn", v), DI);
}

static void
vector_36_secure_transport(void **state)
{
	const char *cond = "{'Bool':{'aws:SecureTransport':'false'}}";
	const char *f = "false", *t = "true";

	assert_string_equal(with_cond(cond, true, "aws:SecureTransport", 1,
	    &f), DE);
	assert_string_equal(with_cond(cond, true, "aws:SecureTransport", 1,
	    &t), DA);
}

static void
vector_37_date_and_epoch(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{'DateLessThan':{"
	    "'aws:CurrentTime':'2030-01-01T00:00:00Z'},'NumericGreaterThan':{"
	    "'aws:EpochTime':1700000000}}}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{'DateGreaterThan':{"
	    "'aws:EpochTime':'2025-01-01T00:00:00Z'}}}");
	struct ctx c;

	ctx_common(&c);
	ctx_set(&c, "aws:CurrentTime", 1, "2026-03-01T12:00:00Z");
	ctx_set(&c, "aws:EpochTime", 1, "1772366400");
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);	/* epoch key under a Date operator */
	ctx_set(&c, "aws:CurrentTime", 1, "2031-01-01T00:00:00Z");
	EXPECT(p, &c, DI);
	policy_free(p);
	policy_free(q);
}

static void
vector_38_key_names_case_insensitive(void **state)
{
	assert_string_equal(cond1("{'StringEquals':{'AWS:SOURCEVPCE':"
	    "'vpce-0abc1234def567890'}}", "aws:SourceVpce",
	    "vpce-0abc1234def567890"), DA);
	assert_string_equal(cond1("{'StringEquals':{'aws:sourcevpce':"
	    "'vpce-0abc1234def567890'}}", "AWS:SourceVPCE",
	    "vpce-0abc1234def567890"), DA);
}

static void
vector_39_values_case_sensitive(void **state)
{
	assert_string_equal(cond1("{'StringEquals':{'aws:SourceVpce':"
	    "'VPCE-0ABC1234DEF567890'}}", "aws:SourceVpce",
	    "vpce-0abc1234def567890"), DI);
	assert_string_equal(cond1("{'StringEqualsIgnoreCase':{"
	    "'aws:SourceVpce':'VPCE-0ABC1234DEF567890'}}", "aws:SourceVpce",
	    "vpce-0abc1234def567890"), DA);
}

static void
vector_40_transact_write_checks_every_item(void **state)
{
	static const struct pair pairs[] = {
		{ "dynamodb:PutItem", T "/Books" },
		{ "dynamodb:ConditionCheckItem", T "/Audit" },
	};
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:PutItem','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	ctx_set(&c, "dynamodb:EnclosingOperation", 1, "TransactWriteItems");
	assert_string_equal(decide_pairs(p, &c, pairs, 2), DI);
	assert_string_equal(decide_pairs(p, &c, pairs, 1), DA);
	policy_free(p);
}

static void
vector_41_no_transact_write_items_action(void **state)
{
	static const struct pair pairs[] = {
		{ "dynamodb:PutItem", T "/Books" },
		{ "dynamodb:UpdateItem", T "/Books" },
	};
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:TransactWriteItems','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	assert_string_equal(decide_pairs(p, &c, pairs, 2), DI);
	policy_free(p);
}

static void
vector_42_enclosing_operation(void **state)
{
	struct policy *p = pol_stmts(ALLOW_ALL ",{'Effect':'Deny',"
	    "'Principal':'*','Action':'dynamodb:PutItem','Resource':'*',"
	    "'Condition':{'ForAnyValue:StringEquals':{"
	    "'dynamodb:EnclosingOperation':['TransactWriteItems']}}}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:PutItem";
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:EnclosingOperation", 1, "TransactWriteItems");
	EXPECT(p, &c, DE);
	policy_free(p);
}

static void
vector_43_batch_every_table(void **state)
{
	static const struct pair pairs[] = {
		{ "dynamodb:BatchGetItem", T "/Books" },
		{ "dynamodb:BatchGetItem", T "/Authors" },
	};
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:BatchGetItem','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	assert_string_equal(decide_pairs(p, &c, pairs, 2), DI);
	policy_free(p);
}

static void
vector_44_table_name_or_arn(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = "arn:aws:dynamodb:us-east-1:111122223333:table/Books";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_45_partiql_index_resource(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:PartiQLSelect','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:PartiQLSelect";
	c.req.resource = T "/Books/index/ByAuthor";
	EXPECT(p, &c, DI);
	c.req.resource = T "/Books";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_46_partiql_is_not_get_item(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/Books'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:PartiQLSelect";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_47_account_principal_is_root_only(void **state)
{
	struct policy *p = pol("{" V12 "'Statement':[{'Effect':'Allow',"
	    "'Principal':{'AWS':'111122223333'},'Action':'*','Resource':'*'}]}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DI);
	c.req.principal = "arn:aws:iam::111122223333:root";
	EXPECT(p, &c, DA);
	c.req.principal = "arn:aws:iam::444455556666:root";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_48_aws_star_equals_star(void **state)
{
	struct policy *p = pol("{" V12 "'Statement':[{'Effect':'Allow',"
	    "'Principal':{'AWS':'*'},'Action':'*','Resource':'*'}]}");
	struct policy *q = pol_stmts(ALLOW_ALL);
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);
	c.req.principal = NULL;		/* unknown caller */
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);
	policy_free(p);
	policy_free(q);
}

static void
vector_49_streams_actions_are_dynamodb(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Get*','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = T "/Forum/stream/2015-05-20T20:51:10.252";
	c.req.action = "dynamodb:GetRecords";
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:GetShardIterator";
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_50_describe_endpoints_explicit(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:DescribeEndpoints";
	c.req.resource = "*";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_51_get_records_stream_resource(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetRecords','Resource':'" T
	    "/Forum/stream/2015-05-20T20:51:10.252'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:GetRecords";
	c.req.resource = T "/Forum/stream/2015-05-20T20:51:10.252";
	EXPECT(p, &c, DA);
	c.req.resource = T "/Forum/stream/2016-01-01T00:00:00.000";
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_52_search_vectors_index(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:SearchVectors','Resource':'" T "/Products'}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:SearchVectors','Resource':'" T
	    "/Products/index/*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:SearchVectors";
	c.req.resource = T "/Products/index/Emb";
	EXPECT(p, &c, DI);
	EXPECT(q, &c, DA);
	policy_free(p);
	policy_free(q);
}

static void
vector_53_return_values_not_for_get_item(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'*','Condition':{"
	    "'StringEqualsIfExists':{'dynamodb:ReturnValues':'NONE'}}}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	policy_free(p);
}

static void
vector_54_return_values_default_none(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:UpdateItem','Resource':'*','Condition':{"
	    "'StringEquals':{'dynamodb:ReturnValues':['NONE','UPDATED_OLD',"
	    "'UPDATED_NEW']}}}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:UpdateItem";
	ctx_set(&c, "dynamodb:ReturnValues", 1, "NONE");
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:ReturnValues", 1, "ALL_NEW");
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
vector_55_duplicate_operator_rejected(void **state)
{
	load_fails("{" V12 "'Statement':[{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{'StringEquals':{'a':'b'},"
	    "'StringEquals':{'c':'d'}}}]}",
	    "Statement[0].Condition.StringEquals: duplicate key");
}

/* ------------------------------------------------------------------ */
/* Elements                                                            */
/* ------------------------------------------------------------------ */

static void
test_action_patterns(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':['dynamodb:Get?tem','dax:*','dynamodb:Batch*Item'],"
	    "'Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:GetXtem";
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:GetIttem";
	EXPECT(p, &c, DI);
	c.req.action = "dax:Query";
	EXPECT(p, &c, DA);
	c.req.action = "DAX:anything";
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:BatchWriteItem";
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:BatchItem";
	EXPECT(p, &c, DA);
	c.req.action = "dynamodb:BatchGetItems";
	EXPECT(p, &c, DI);
	c.req.action = "s3:GetItem";	/* another service */
	EXPECT(p, &c, DI);
	c.req.action = "GetItem";	/* no service prefix */
	EXPECT(p, &c, DI);
	c.req.action = "";
	EXPECT(p, &c, DI);
	c.req.action = NULL;
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
test_action_star_and_not_action(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'NotAction':['dynamodb:Delete*','dax:*'],'Resource':'*'}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "s3:GetObject";	/* NotAction covers other services */
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);
	c.req.action = "dax:GetItem";
	EXPECT(p, &c, DI);
	c.req.action = "no-colon";
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);
	policy_free(p);
	policy_free(q);
}

static void
test_long_action_name(void **state)
{
	char action[600];
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Get*','Resource':'*'}");
	struct ctx c;

	memset(action, 'x', sizeof(action));
	memcpy(action, "DynamoDB:GET", 12);
	action[sizeof(action) - 1] = '\0';
	ctx_common(&c);
	c.req.action = action;
	EXPECT(p, &c, DA);
	action[9] = 'P';
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
test_resource_segments(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':['arn:AWS:DynamoDB:US-EAST-1:*:table/A',"
	    "'arn:aws:dynamodb:*:111122223333:table/B/*',"
	    "'arn:aws:dynamodb:us-?est-1:111122223333:table/C:x*']}");
	struct ctx c;

	ctx_common(&c);
	c.req.resource = T "/A";	/* partition..account case-insensitive */
	EXPECT(p, &c, DA);
	c.req.resource = "arn:aws:dynamodb:us-east-1:444455556666:table/A";
	EXPECT(p, &c, DA);
	c.req.resource = T "/a";	/* resource part case-sensitive */
	EXPECT(p, &c, DI);
	c.req.resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/B/"
	    "index/I";
	EXPECT(p, &c, DA);
	c.req.resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/B";
	EXPECT(p, &c, DI);
	/* A wildcard does not cross a colon in the first five segments. */
	c.req.resource = "arn:aws:dynamodb:us-east-1:x:111122223333:table/A";
	EXPECT(p, &c, DI);
	/* ...but the resource part may contain colons. */
	c.req.resource = "arn:aws:dynamodb:us-west-1:111122223333:table/C:xy";
	EXPECT(p, &c, DA);
	c.req.resource = "arn:aws:dynamodb:us-west-1:111122223333:table/C:y";
	EXPECT(p, &c, DI);
	c.req.resource = "not-an-arn";
	EXPECT(p, &c, DI);
	c.req.resource = NULL;
	EXPECT(p, &c, DI);
	policy_free(p);
}

static void
test_resource_short_arns(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'arn:aws:dynamodb:*'}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'arn:aws:dynamodb:us-east-1'}");
	struct policy *r = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'table/*'}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);	/* padded with '*' segments */
	EXPECT(q, &c, DI);	/* no wildcard: matches nothing */
	EXPECT(r, &c, DI);	/* not an ARN */
	c.req.resource = "arn:aws:dax:us-east-1:111122223333:cache/C";
	EXPECT(p, &c, DI);
	policy_free(p);
	policy_free(q);
	policy_free(r);
}

static void
test_request_star_resource(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'arn:*:*:*:*:*'}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','NotResource':'" T "/Secret'}");
	struct policy *r = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','NotResource':'*'}");
	struct ctx c;

	ctx_common(&c);
	c.req.action = "dynamodb:ListTables";
	c.req.resource = "*";
	EXPECT(p, &c, DI);
	EXPECT(q, &c, DA);
	EXPECT(r, &c, DI);
	policy_free(p);
	policy_free(q);
	policy_free(r);
}

static void
test_first_matching_statement_named(void **state)
{
	struct policy *p = pol_stmts(
	    "{'Sid':'s0','Effect':'Allow','Principal':'*','Action':'dax:*',"
	    "'Resource':'*'},"
	    "{'Sid':'s1','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Get*','Resource':'*'},"
	    "{'Sid':'s2','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'*'},"
	    "{'Sid':'s3','Effect':'Deny','Principal':'*','NotAction':'dax:*',"
	    "'Resource':'" T "/Secret'},"
	    "{'Sid':'s4','Effect':'Deny','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/Secret*'},"
	    "{'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'}");
	struct policy_result r;
	struct ctx c;

	ctx_common(&c);
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_int_equal(r.statement, 1);
	assert_string_equal(r.sid, "s1");
	c.req.resource = T "/Secret";
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_DENY_EXPLICIT);
	assert_int_equal(r.statement, 3);
	c.req.resource = T "/SecretArchive";
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_DENY_EXPLICIT);
	assert_int_equal(r.statement, 4);
	assert_string_equal(r.sid, "s4");
	c.req.action = "s3:GetObject";
	c.req.resource = T "/Books";
	r = eval_full(p, &c);
	assert_int_equal(r.statement, 5);
	assert_null(r.sid);
	policy_free(p);
	p = pol_stmts("");
	assert_int_equal(policy_statement_count(p), 0);
	policy_free(p);
}

/* The index by action and resource head gives the same answers, and
 * names the same first statement, as a walk over every statement. */
static void
test_index_by_resource_head(void **state)
{
	struct policy *p = pol_stmts(
	    "{'Sid':'s0','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Query','Resource':['" T "/Books/index/*','" T
	    "/Films']},"
	    "{'Sid':'s1','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:Get*','Resource':'" T "/Books'},"
	    "{'Sid':'s2','Effect':'Allow','Principal':'*',"
	    "'Action':['dynamodb:GetItem','dynamodb:Query'],"
	    "'Resource':'" T "/Bo*'},"
	    "{'Sid':'s3','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/${aws:username}'},"
	    "{'Sid':'s4','Effect':'Deny','Principal':'*','Action':'*',"
	    "'Resource':'" T "/Films/stream/*'},"
	    "{'Sid':'s5','Effect':'Allow','Principal':'*','Action':'*',"
	    "'NotResource':'" T "/Films'},"
	    "{'Sid':'s6','Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/Books/'}");
	static const struct {
		const char *action, *resource, *sid;
	} cases[] = {
		{ "dynamodb:Query", T "/Books/index/ByAuthor", "s0" },
		{ "dynamodb:Query", T "/Films", "s0" },
		{ "dynamodb:Query", T "/Films/index/X", "s5" },
		{ "dynamodb:GetItem", T "/Books", "s1" },
		{ "dynamodb:GetItem", T "/Bookshelf", "s2" },
		{ "dynamodb:GetItem", T "/alice", "s3" },
		{ "dynamodb:GetItem", T "/Books/", "s2" },
		{ "dynamodb:GetRecords", T "/Films/stream/1", "s4" },
		{ "dynamodb:GetItem", T "/Films", NULL },
		{ "dynamodb:ListTables", "*", "s5" },
		{ "dynamodb:GetItem", T, "s5" },
	};
	struct policy_result r;
	struct ctx c;
	size_t i;

	ctx_common(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.req.action = cases[i].action;
		c.req.resource = cases[i].resource;
		r = eval_full(p, &c);
		if (cases[i].sid == NULL) {
			assert_int_equal(r.decision, POLICY_DENY_IMPLICIT);
			continue;
		}
		if (r.sid == NULL || strcmp(r.sid, cases[i].sid) != 0)
			fail_msg("%s on %s: %s, want %s", cases[i].action,
			    cases[i].resource, r.sid ? r.sid : "none",
			    cases[i].sid);
	}
	policy_free(p);
}

static void
test_single_statement_object(void **state)
{
	struct policy *p = pol("{'Statement':{'Effect':'Allow',"
	    "'Principal':'*','Action':'*','Resource':'*'}}");
	struct ctx c;

	assert_int_equal(policy_statement_count(p), 1);
	ctx_common(&c);
	EXPECT(p, &c, DA);
	policy_free(p);
}

/* ------------------------------------------------------------------ */
/* Principal                                                           */
/* ------------------------------------------------------------------ */

static const char *
principal_decision(const char *principal_json, bool not, const char *caller)
{
	static char result[32];
	char doc[1024];
	struct policy *p;
	struct ctx c;

	snprintf(doc, sizeof(doc), "{" V12 "'Statement':[{'Effect':'Allow',"
	    "'%s':%s,'Action':'*','Resource':'*'}]}", not ? "NotPrincipal" :
	    "Principal", principal_json);
	p = pol(doc);
	ctx_common(&c);
	c.req.principal = caller;
	snprintf(result, sizeof(result), "%s", decide(p, &c));
	policy_free(p);
	return result;
}

static void
test_principal_forms(void **state)
{
	assert_string_equal(principal_decision("'*'", false, NULL), DA);
	assert_string_equal(principal_decision("{'AWS':['*']}", false, NULL),
	    DA);
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", false,
	    ALICE), DA);
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", false,
	    "arn:aws:iam::111122223333:user/Alice"), DI);
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", false,
	    NULL), DI);
	assert_string_equal(principal_decision("{'AWS':["
	    "'arn:aws:iam::111122223333:user/bob','" ALICE "']}", false,
	    ALICE), DA);
	/* The account root, written as an ARN. */
	assert_string_equal(principal_decision("{'AWS':"
	    "'arn:aws:iam::111122223333:root'}", false, ALICE), DI);
	assert_string_equal(principal_decision("{'AWS':"
	    "'arn:aws:iam::111122223333:root'}", false,
	    "arn:aws:iam::111122223333:root"), DA);
	assert_string_equal(principal_decision("{'AWS':"
	    "'arn:aws:iam::111122223333:root'}", false,
	    "arn:aws-cn:iam::111122223333:root"), DI);
	assert_string_equal(principal_decision("{'AWS':'111122223333'}",
	    false, "arn:aws-cn:iam::111122223333:root"), DA);
	assert_string_equal(principal_decision("{'AWS':'111122223333'}",
	    false, "arn:aws:iam::111122223333:user/root"), DI);
}

static void
test_principal_roles(void **state)
{
	const char *pj = "{'AWS':'arn:aws:iam::111122223333:role/path/App'}";

	assert_string_equal(principal_decision(pj, false,
	    "arn:aws:iam::111122223333:role/path/App"), DA);
	assert_string_equal(principal_decision(pj, false,
	    "arn:aws:sts::111122223333:assumed-role/App/session-1"), DA);
	assert_string_equal(principal_decision(pj, false,
	    "arn:aws:sts::111122223333:assumed-role/App/"), DI);
	assert_string_equal(principal_decision(pj, false,
	    "arn:aws:sts::111122223333:assumed-role/AppX/s"), DI);
	assert_string_equal(principal_decision(pj, false,
	    "arn:aws:sts::444455556666:assumed-role/App/s"), DI);
	assert_string_equal(principal_decision(pj, false,
	    "arn:aws-cn:sts::111122223333:assumed-role/App/s"), DI);
	/* A session ARN names one session. */
	assert_string_equal(principal_decision("{'AWS':"
	    "'arn:aws:sts::111122223333:assumed-role/App/s1'}", false,
	    "arn:aws:sts::111122223333:assumed-role/App/s1"), DA);
	assert_string_equal(principal_decision("{'AWS':"
	    "'arn:aws:sts::111122223333:assumed-role/App/s1'}", false,
	    "arn:aws:sts::111122223333:assumed-role/App/s2"), DI);
}

static void
test_principal_other_types(void **state)
{
	assert_string_equal(principal_decision("{'Service':"
	    "'dynamodb.amazonaws.com'}", false, ALICE), DI);
	assert_string_equal(principal_decision("{'Federated':"
	    "'cognito-identity.amazonaws.com','CanonicalUser':"
	    "'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'}",
	    false, ALICE), DI);
	assert_string_equal(principal_decision("{'AWS':"
	    "'AIDAJQABLZS4A3QDU576Q'}", false, ALICE), DI);
}

static void
test_not_principal(void **state)
{
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", true,
	    ALICE), DI);
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", true,
	    "arn:aws:iam::111122223333:user/bob"), DA);
	assert_string_equal(principal_decision("{'AWS':'" ALICE "'}", true,
	    NULL), DA);
	assert_string_equal(principal_decision("{'AWS':'*'}", true, ALICE),
	    DI);
	assert_string_equal(principal_decision("{'AWS':'111122223333'}", true,
	    ALICE), DA);
	assert_string_equal(principal_decision("{'AWS':'111122223333'}", true,
	    "arn:aws:iam::111122223333:root"), DI);
}

/* ------------------------------------------------------------------ */
/* Conditions: every operator in every form                            */
/* ------------------------------------------------------------------ */

struct opcase {
	const char	*op;
	const char	*pval;	/* policy value (JSON, ' quoting) */
	const char	*hit;	/* a request value the operator holds for */
	const char	*miss;	/* one it does not hold for */
	bool		 negated;
};

static const struct opcase opcases[] = {
	{ "StringEquals", "'abc'", "abc", "ABC", false },
	{ "StringNotEquals", "'abc'", "ABC", "abc", true },
	{ "StringEqualsIgnoreCase", "'abc'", "ABC", "abd", false },
	{ "StringNotEqualsIgnoreCase", "'abc'", "abd", "ABC", true },
	{ "StringLike", "'a*c'", "abbc", "abd", false },
	{ "StringNotLike", "'a*c'", "abd", "abbc", true },
	{ "NumericEquals", "10", "10.0", "11", false },
	{ "NumericNotEquals", "'10'", "11", "10", true },
	{ "NumericLessThan", "'10'", "9.5", "10", false },
	{ "NumericLessThanEquals", "'10'", "10", "10.01", false },
	{ "NumericGreaterThan", "'10'", "10.5", "10", false },
	{ "NumericGreaterThanEquals", "'10'", "10", "9", false },
	{ "DateEquals", "'2020-01-01T00:00:00Z'", "1577836800",
	  "2020-01-01T00:00:01Z", false },
	{ "DateNotEquals", "'2020-01-01T00:00:00Z'", "2020-01-02",
	  "2020-01-01", true },
	{ "DateLessThan", "'2020-01-01T00:00:00Z'", "2019-12-31T23:59:59Z",
	  "2020-01-01T00:00:00Z", false },
	{ "DateLessThanEquals", "'2020-01-01T00:00:00Z'",
	  "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.001Z", false },
	{ "DateGreaterThan", "'2020-01-01T00:00:00Z'",
	  "2020-01-01T01:00:00+00:30", "2019-12-31", false },
	{ "DateGreaterThanEquals", "'2020-01-01T00:00:00Z'", "2020-01-01",
	  "2019-12-31T23:59:59.999Z", false },
	{ "Bool", "true", "TRUE", "false", false },
	{ "BinaryEquals", "'QmluYXJ5'", "QmluYXJ5", "QmluYXJy", false },
	{ "IpAddress", "'10.0.0.0/8'", "10.1.2.3", "11.0.0.1", false },
	{ "NotIpAddress", "'10.0.0.0/8'", "11.0.0.1", "10.1.2.3", true },
	{ "ArnEquals", "'arn:aws:iam::111122223333:role/*'",
	  "arn:aws:iam::111122223333:role/R",
	  "arn:aws:iam::444455556666:role/R", false },
	{ "ArnLike", "'arn:aws:iam::111122223333:role/*'",
	  "arn:aws:iam::111122223333:role/R",
	  "arn:aws:iam::444455556666:role/R", false },
	{ "ArnNotEquals", "'arn:aws:iam::111122223333:role/*'",
	  "arn:aws:iam::444455556666:role/R",
	  "arn:aws:iam::111122223333:role/R", true },
	{ "ArnNotLike", "'arn:aws:iam::111122223333:role/*'",
	  "arn:aws:iam::444455556666:role/R",
	  "arn:aws:iam::111122223333:role/R", true },
};

static const char *
opcase_decision(const struct opcase *oc, const char *prefix,
    const char *suffix, bool deny, int n, const char *v0, const char *v1)
{
	const char *v[2] = { v0, v1 };
	char cond[512];

	snprintf(cond, sizeof(cond), "{'%s%s%s':{'test:Key':%s}}", prefix,
	    oc->op, suffix, oc->pval);
	return with_cond(cond, deny, "test:Key", n, v);
}

#define OC(pre, suf, n, a, b, want) do {				\
	const char *got_ = opcase_decision(oc, pre, suf, false, n, a, b); \
	if (strcmp(got_, want) != 0)					\
		fail_msg("%s%s%s with %d value(s) %s %s: %s, want %s",	\
		    pre, oc->op, suf, n, a ? a : "-", b ? b : "-", got_,	\
		    want);						\
} while (0)

static void
test_every_operator_plain(void **state)
{
	const struct opcase *oc;
	size_t i;

	for (i = 0; i < sizeof(opcases) / sizeof(opcases[0]); i++) {
		oc = &opcases[i];
		OC("", "", 1, oc->hit, NULL, DA);
		OC("", "", 1, oc->miss, NULL, DI);
		/* Missing key: positive false, negated true. */
		OC("", "", -1, NULL, NULL, oc->negated ? DA : DI);
	}
}

static void
test_every_operator_if_exists(void **state)
{
	const struct opcase *oc;
	size_t i;

	for (i = 0; i < sizeof(opcases) / sizeof(opcases[0]); i++) {
		oc = &opcases[i];
		OC("", "IfExists", 1, oc->hit, NULL, DA);
		OC("", "IfExists", 1, oc->miss, NULL, DI);
		OC("", "IfExists", -1, NULL, NULL, DA);
	}
}

static void
test_every_operator_multivalued_fails_closed(void **state)
{
	const struct opcase *oc;
	const char *v[2];
	char cond[512];
	size_t i;

	for (i = 0; i < sizeof(opcases) / sizeof(opcases[0]); i++) {
		oc = &opcases[i];
		/* Two values under a plain operator: no Allow... */
		OC("", "", 2, oc->hit, oc->hit, DI);
		OC("", "IfExists", 2, oc->hit, oc->hit, DI);
		OC("", "", 0, NULL, NULL, DI);
		/* ...and a Deny applies, whatever the values. */
		v[0] = oc->miss;
		v[1] = oc->miss;
		snprintf(cond, sizeof(cond), "{'%s':{'test:Key':%s}}", oc->op,
		    oc->pval);
		assert_string_equal(with_cond(cond, true, "test:Key", 2, v),
		    DE);
		assert_string_equal(with_cond(cond, true, "test:Key", 1, v),
		    DA);
		v[0] = oc->hit;
		assert_string_equal(with_cond(cond, true, "test:Key", 1, v),
		    DE);
	}
}

static void
test_every_operator_for_all_values(void **state)
{
	const struct opcase *oc;
	size_t i;

	for (i = 0; i < sizeof(opcases) / sizeof(opcases[0]); i++) {
		oc = &opcases[i];
		OC("ForAllValues:", "", -1, NULL, NULL, DA);
		OC("ForAllValues:", "", 0, NULL, NULL, DA);
		OC("ForAllValues:", "", 1, oc->hit, NULL, DA);
		OC("ForAllValues:", "", 2, oc->hit, oc->hit, DA);
		OC("ForAllValues:", "", 2, oc->hit, oc->miss, DI);
		OC("ForAllValues:", "", 1, oc->miss, NULL, DI);
		OC("ForAllValues:", "IfExists", -1, NULL, NULL, DA);
		OC("ForAllValues:", "IfExists", 2, oc->miss, oc->hit, DI);
	}
}

static void
test_every_operator_for_any_value(void **state)
{
	const struct opcase *oc;
	size_t i;

	for (i = 0; i < sizeof(opcases) / sizeof(opcases[0]); i++) {
		oc = &opcases[i];
		OC("ForAnyValue:", "", -1, NULL, NULL, DI);
		OC("ForAnyValue:", "", 0, NULL, NULL, DI);
		OC("ForAnyValue:", "", 1, oc->hit, NULL, DA);
		OC("ForAnyValue:", "", 2, oc->miss, oc->hit, DA);
		OC("ForAnyValue:", "", 2, oc->miss, oc->miss, DI);
		/* The set operator's missing-key rule wins over IfExists. */
		OC("ForAnyValue:", "IfExists", -1, NULL, NULL, DI);
		OC("ForAnyValue:", "IfExists", 0, NULL, NULL, DI);
	}
}

static void
test_set_operators_with_negation(void **state)
{
	const char *all = "{'ForAllValues:StringNotLike':{'test:K':"
	    "['A*','B*']}}";
	const char *any = "{'ForAnyValue:StringNotEquals':{'test:K':'A'}}";
	const char *v[3] = { "Cx", "Dx", "Ax" };

	/* "No request value is like A* or B*." */
	assert_string_equal(with_cond(all, false, "test:K", 2, v), DA);
	assert_string_equal(with_cond(all, false, "test:K", 3, v), DI);
	/* "Some request value is not A." */
	v[0] = "A";
	v[1] = "A";
	assert_string_equal(with_cond(any, false, "test:K", 2, v), DI);
	v[1] = "B";
	assert_string_equal(with_cond(any, false, "test:K", 2, v), DA);
}

static void
test_string_operators(void **state)
{
	const char *like = "{'StringLike':{'test:K':['a?c*','x*y*z']}}";

	assert_string_equal(cond1(like, "test:K", "abc"), DA);
	assert_string_equal(cond1(like, "test:K", "abcdef"), DA);
	assert_string_equal(cond1(like, "test:K", "ac"), DI);
	assert_string_equal(cond1(like, "test:K", "xyz"), DA);
	assert_string_equal(cond1(like, "test:K", "x--y--z"), DA);
	assert_string_equal(cond1(like, "test:K", "x--y--"), DI);
	assert_string_equal(cond1(like, "test:K", "ABC"), DI);
	/* '?' is one character, also a two-byte one. */
	assert_string_equal(cond1(like, "test:K", "a\xc3\xa9" "c"), DA);
	/* Equals: '*' is literal. */
	assert_string_equal(cond1("{'StringEquals':{'test:K':'a*'}}",
	    "test:K", "abc"), DI);
	assert_string_equal(cond1("{'StringEquals':{'test:K':'a*'}}",
	    "test:K", "a*"), DA);
	assert_string_equal(cond1("{'StringEqualsIgnoreCase':{'test:K':"
	    "'MiXeD'}}", "test:K", "mixed"), DA);
	assert_string_equal(cond1("{'StringNotLike':{'test:K':['a*','b*']}}",
	    "test:K", "c"), DA);
	assert_string_equal(cond1("{'StringNotLike':{'test:K':['a*','b*']}}",
	    "test:K", "b"), DI);
	/* Numbers and booleans as values are their text. */
	assert_string_equal(cond1("{'StringEquals':{'test:K':[12,true]}}",
	    "test:K", "12"), DA);
	assert_string_equal(cond1("{'StringEquals':{'test:K':[12,true]}}",
	    "test:K", "true"), DA);
	assert_string_equal(cond1("{'StringEquals':{'test:K':1.5}}",
	    "test:K", "1.5"), DA);
	assert_string_equal(cond1("{'StringEquals':{'test:K':''}}",
	    "test:K", ""), DA);
}

static void
test_numeric_operators(void **state)
{
	assert_string_equal(cond1("{'NumericEquals':{'test:N':'1e3'}}",
	    "test:N", "1000"), DA);
	assert_string_equal(cond1("{'NumericEquals':{'test:N':'-0'}}",
	    "test:N", "0.000"), DA);
	assert_string_equal(cond1("{'NumericLessThan':{'test:N':'-1.5'}}",
	    "test:N", "-2"), DA);
	assert_string_equal(cond1("{'NumericLessThan':{'test:N':'-1.5'}}",
	    "test:N", "-1"), DI);
	assert_string_equal(cond1("{'NumericGreaterThan':{'test:N':"
	    "'12345678901234567890'}}", "test:N",
	    "12345678901234567891"), DA);
	assert_string_equal(cond1("{'NumericGreaterThan':{'test:N':0.1}}",
	    "test:N", "0.11"), DA);
	assert_string_equal(cond1("{'NumericGreaterThan':{'test:N':0.1}}",
	    "test:N", ".1"), DI);
	assert_string_equal(cond1("{'NumericEquals':{'test:N':"
	    "['1','2']}}", "test:N", "2"), DA);
	/* Unparseable request values match neither way. */
	assert_string_equal(cond1("{'NumericEquals':{'test:N':'1'}}",
	    "test:N", "one"), DI);
	assert_string_equal(cond1("{'NumericNotEquals':{'test:N':'1'}}",
	    "test:N", "one"), DI);
	assert_string_equal(cond1("{'NumericEquals':{'test:N':'1'}}",
	    "test:N", "1x"), DI);
	assert_string_equal(cond1("{'NumericEquals':{'test:N':'1'}}",
	    "test:N", ""), DI);
}

static void
test_date_operators(void **state)
{
	const char *eq = "{'DateEquals':{'test:D':'2020-02-29T12:30:00Z'}}";

	assert_string_equal(cond1(eq, "test:D", "2020-02-29T12:30:00Z"), DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T12:30Z"), DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T14:30:00+02:00"),
	    DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T07:30:00-0500"),
	    DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T12:30:00.000Z"),
	    DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T12:30:00"), DA);
	assert_string_equal(cond1(eq, "test:D", "1582979400"), DA);
	assert_string_equal(cond1(eq, "test:D", "2020-02-29T12:30:00.5Z"), DI);
	/* Invalid request dates never match. */
	assert_string_equal(cond1(eq, "test:D", "2019-02-29"), DI);
	assert_string_equal(cond1(eq, "test:D", "yesterday"), DI);
	assert_string_equal(cond1("{'DateNotEquals':{'test:D':'2020-01-01'}}",
	    "test:D", "2020-13-01"), DI);
	/* Epoch seconds on the policy side, dates without time. */
	assert_string_equal(cond1("{'DateGreaterThan':{'test:D':1577836800}}",
	    "test:D", "2020-01-02"), DA);
	assert_string_equal(cond1("{'DateLessThan':{'test:D':'2020-01'}}",
	    "test:D", "2019-12-31T23:59:59Z"), DA);
	assert_string_equal(cond1("{'DateLessThan':{'test:D':'1969-12-31'}}",
	    "test:D", "-86401"), DA);
}

static void
test_bool_operator(void **state)
{
	const char *c = "{'Bool':{'test:B':'True'}}";

	assert_string_equal(cond1(c, "test:B", "true"), DA);
	assert_string_equal(cond1(c, "test:B", "tRUE"), DA);
	assert_string_equal(cond1(c, "test:B", "false"), DI);
	assert_string_equal(cond1(c, "test:B", "yes"), DI);
	assert_string_equal(cond1("{'Bool':{'test:B':false}}", "test:B",
	    "FALSE"), DA);
}

static void
test_binary_operator(void **state)
{
	const char *c = "{'BinaryEquals':{'test:X':'AAEC/w=='}}";

	assert_string_equal(cond1(c, "test:X", "AAEC/w=="), DA);
	assert_string_equal(cond1(c, "test:X", "AAEC/w"), DA);
	assert_string_equal(cond1(c, "test:X", "AAEC/g=="), DI);
	assert_string_equal(cond1(c, "test:X", "not base64!"), DI);
}

static void
test_ip_operators(void **state)
{
	const char *v6 = "{'IpAddress':{'test:Ip':'2001:db8::/32'}}";
	const char *v4 = "{'IpAddress':{'test:Ip':['192.0.2.0/24',"
	    "'10.0.0.1']}}";
	const char *not4 = "{'NotIpAddress':{'test:Ip':'192.0.2.0/24'}}";

	assert_string_equal(cond1(v6, "test:Ip", "2001:db8:1::5"), DA);
	assert_string_equal(cond1(v6, "test:Ip", "2001:db9::5"), DI);
	assert_string_equal(cond1(v4, "test:Ip", "192.0.2.77"), DA);
	assert_string_equal(cond1(v4, "test:Ip", "10.0.0.1"), DA);
	assert_string_equal(cond1(v4, "test:Ip", "10.0.0.2"), DI);
	/* v4 never matches v6, mapped addresses included. */
	assert_string_equal(cond1(v4, "test:Ip", "::ffff:192.0.2.77"), DI);
	assert_string_equal(cond1(v6, "test:Ip", "192.0.2.77"), DI);
	assert_string_equal(cond1(not4, "test:Ip", "2001:db8::1"), DA);
	assert_string_equal(cond1(not4, "test:Ip", "192.0.2.1"), DI);
	/* Unparseable addresses match neither way. */
	assert_string_equal(cond1(not4, "test:Ip", "not-an-ip"), DI);
	assert_string_equal(cond1(v4, "test:Ip", "192.0.2.0/24"), DI);
	/* Bare IPv6 is /128; host bits past the prefix are cleared. */
	assert_string_equal(cond1("{'IpAddress':{'test:Ip':'2001:db8::1'}}",
	    "test:Ip", "2001:db8::1"), DA);
	assert_string_equal(cond1("{'IpAddress':{'test:Ip':'2001:db8::1'}}",
	    "test:Ip", "2001:db8::2"), DI);
	assert_string_equal(cond1("{'IpAddress':{'test:Ip':'10.9.9.9/8'}}",
	    "test:Ip", "10.1.1.1"), DA);
	assert_string_equal(cond1("{'IpAddress':{'test:Ip':'0.0.0.0/0'}}",
	    "test:Ip", "203.0.113.9"), DA);
}

static void
test_arn_operators(void **state)
{
	const char *like = "{'ArnLike':{'test:A':"
	    "'arn:aws:dynamodb:*:111122223333:table/Bo?ks'}}";
	const char *notlike = "{'ArnNotLike':{'test:A':"
	    "'arn:aws:dynamodb:*:111122223333:table/*'}}";

	assert_string_equal(cond1(like, "test:A", T "/Books"), DA);
	assert_string_equal(cond1(like, "test:A", T "/Boxks"), DA);
	assert_string_equal(cond1(like, "test:A", T "/books"), DI);
	/* Case-sensitive in every part. */
	assert_string_equal(cond1(like, "test:A",
	    "arn:aws:DYNAMODB:us-east-1:111122223333:table/Books"), DI);
	/* Non-ARN request values match neither way. */
	assert_string_equal(cond1(like, "test:A", "Books"), DI);
	assert_string_equal(cond1(notlike, "test:A", "Books"), DI);
	assert_string_equal(cond1(notlike, "test:A",
	    "arn:aws:dynamodb:us-east-1:444455556666:table/X"), DA);
	/* A policy value that is not a full ARN never matches. */
	assert_string_equal(cond1("{'ArnEquals':{'test:A':'arn:aws:*'}}",
	    "test:A", T "/Books"), DI);
	assert_string_equal(cond1("{'ArnNotEquals':{'test:A':'arn:aws:*'}}",
	    "test:A", T "/Books"), DI);
	assert_string_equal(cond1("{'ArnEquals':{'test:A':'arn:*:*:*:*:*'}}",
	    "test:A", "arn:aws:s3:::bucket"), DA);
}

static void
test_null_operator(void **state)
{
	const char *empty[1] = { NULL };

	assert_string_equal(cond1("{'Null':{'test:K':'false'}}", "test:K",
	    "x"), DA);
	assert_string_equal(cond1("{'Null':{'test:K':'false'}}", "test:K",
	    NULL), DI);
	assert_string_equal(cond1("{'Null':{'test:K':true}}", "test:K",
	    NULL), DA);
	assert_string_equal(cond1("{'Null':{'test:K':'TRUE'}}", "test:K",
	    "x"), DI);
	assert_string_equal(cond1("{'Null':{'test:K':['true','false']}}",
	    "test:K", "x"), DA);
	/* An empty set is present. */
	assert_string_equal(with_cond("{'Null':{'test:K':'false'}}", false,
	    "test:K", 0, empty), DA);
}

static void
test_condition_structure(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{"
	    "'StringEquals':{'aws:PrincipalAccount':'111122223333'},"
	    "'Bool':{'aws:SecureTransport':'true'}}}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{}}");
	struct ctx c;

	ctx_common(&c);
	EXPECT(p, &c, DA);
	EXPECT(q, &c, DA);
	ctx_set(&c, "aws:SecureTransport", 1, "false");
	EXPECT(p, &c, DI);	/* operators ANDed */
	policy_free(p);
	policy_free(q);
}

/* ------------------------------------------------------------------ */
/* Policy variables (5.6)                                              */
/* ------------------------------------------------------------------ */

static void
test_variables_in_conditions(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{"
	    "'ForAllValues:StringLike':{"
	    "'dynamodb:LeadingKeys':'${aws:userid}/*'}}}");
	struct ctx c;

	ctx_common(&c);
	ctx_set(&c, "dynamodb:LeadingKeys", 1, "AIDAEXAMPLEALICE/photo");
	EXPECT(p, &c, DA);
	ctx_set(&c, "dynamodb:LeadingKeys", 1, "AIDAOTHER/photo");
	EXPECT(p, &c, DI);
	ctx_set(&c, "aws:userid", -1);
	ctx_set(&c, "dynamodb:LeadingKeys", 1, "${aws:userid}/x");
	EXPECT(p, &c, DI);	/* unresolved: no match, not literal text */
	policy_free(p);
	/* Key names inside ${} are case-insensitive. */
	assert_string_equal(cond1("{'StringEquals':{'test:K':"
	    "'${AWS:USERNAME}'}}", "test:K", "alice"), DA);
}

static void
test_variable_defaults(void **state)
{
	const char *c = "{'StringEquals':{'test:K':"
	    "'team-${aws:PrincipalTag/team, \\'company-wide\\'}'}}";
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'" T "/${aws:PrincipalTag/team,"
	    "\\'shared\\'}-*'}");
	struct policy *q = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':"
	    "{'StringEquals':{'test:K':"
	    "'team-${aws:PrincipalTag/team, \\'company-wide\\'}'}}}");
	struct ctx ctx;

	assert_string_equal(cond1(c, "test:K", "team-company-wide"), DA);
	assert_string_equal(cond1(c, "test:K", "team-red"), DI);
	ctx_common(&ctx);
	ctx_set(&ctx, "aws:PrincipalTag/team", 1, "red");
	ctx_set(&ctx, "test:K", 1, "team-red");
	EXPECT(q, &ctx, DA);
	ctx_set(&ctx, "test:K", 1, "team-company-wide");
	EXPECT(q, &ctx, DI);
	policy_free(q);
	ctx.req.resource = T "/shared-1";
	EXPECT(p, &ctx, DI);	/* the tag is set, so no default */
	ctx.req.resource = T "/red-1";
	EXPECT(p, &ctx, DA);
	ctx_set(&ctx, "aws:PrincipalTag/team", -1);
	ctx.req.resource = T "/shared-1";
	EXPECT(p, &ctx, DA);
	/* A multivalued key is no variable: the default applies. */
	ctx_set(&ctx, "aws:PrincipalTag/team", 2, "red", "blue");
	EXPECT(p, &ctx, DA);
	policy_free(p);
}

static void
test_variable_escapes(void **state)
{
	assert_string_equal(cond1("{'StringEquals':{'test:K':"
	    "'${$}{x}${?}${*}'}}", "test:K", "${x}?*"), DA);
	assert_string_equal(cond1("{'StringLike':{'test:K':'a${?}'}}",
	    "test:K", "ab"), DI);
	assert_string_equal(cond1("{'StringLike':{'test:K':'a${?}'}}",
	    "test:K", "a?"), DA);
	/* Variable values are literal text, not patterns. */
	assert_string_equal(cond1("{'StringLike':{'test:K':'${test:V}'}}",
	    "test:K", "abc"), DI);
}

static void
test_unresolved_variables(void **state)
{
	/* Positive operators do not match, negated ones do. */
	assert_string_equal(cond1("{'StringEquals':{'test:K':"
	    "'${test:Missing}'}}", "test:K", "x"), DI);
	assert_string_equal(cond1("{'StringNotEquals':{'test:K':"
	    "'${test:Missing}'}}", "test:K", "x"), DA);
	assert_string_equal(cond1("{'StringNotLike':{'test:K':"
	    "['${test:Missing}','y*']}}", "test:K", "x"), DA);
	assert_string_equal(cond1("{'StringNotLike':{'test:K':"
	    "['${test:Missing}','x*']}}", "test:K", "x"), DI);
	assert_string_equal(cond1("{'ArnEquals':{'test:A':"
	    "'arn:aws:iam::${test:Missing}:root'}}", "test:A",
	    "arn:aws:iam::111122223333:root"), DI);
	assert_string_equal(cond1("{'ArnNotEquals':{'test:A':"
	    "'arn:aws:iam::${test:Missing}:root'}}", "test:A",
	    "arn:aws:iam::111122223333:root"), DA);
	assert_string_equal(cond1("{'ArnEquals':{'test:A':"
	    "'arn:aws:iam::${aws:PrincipalAccount}:root'}}", "test:A",
	    "arn:aws:iam::111122223333:root"), DA);
}

/* ------------------------------------------------------------------ */
/* Load errors                                                         */
/* ------------------------------------------------------------------ */

#define STMT(body) "{" V12 "'Statement':[" body "]}"
#define BASE "'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'"

static void
test_error_duplicate_keys(void **state)
{
	load_fails("{'Version':'2012-10-17','Version':'2012-10-17',"
	    "'Statement':[]}", "Version: duplicate key");
	load_fails(STMT("{" BASE ",'Effect':'Deny'}"),
	    "Statement[0].Effect: duplicate key");
	load_fails(STMT("{" BASE "},{" BASE ",'Condition':{'StringEquals':{"
	    "'a':'1','b':'2','a':'3'}}}"),
	    "Statement[1].Condition.StringEquals.a: duplicate key");
	load_fails(STMT("{'Effect':'Allow','Principal':{'AWS':'*','AWS':'*'},"
	    "'Action':'*','Resource':'*'}"),
	    "Statement[0].Principal.AWS: duplicate key");
	/* Escapes do not hide a duplicate. */
	load_fails(STMT("{" BASE ",'\\u0045ffect':'Deny'}"),
	    "Statement[0].\\u0045ffect: duplicate key");
}

static void
test_error_structure(void **state)
{
	load_fails(STMT("{'Effect':'Allow','Action':'*','Resource':'*'}"),
	    "Statement[0]: missing Principal or NotPrincipal (an endpoint "
	    "policy must name a principal)");
	load_fails(STMT("{" BASE ",'NotPrincipal':'*'}"),
	    "Statement[0]: Principal and NotPrincipal are mutually exclusive");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Resource':'*'}"),
	    "Statement[0]: missing Action or NotAction");
	load_fails(STMT("{" BASE ",'NotAction':'*'}"),
	    "Statement[0]: Action and NotAction are mutually exclusive");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':'*'}"),
	    "Statement[0]: missing Resource or NotResource");
	load_fails(STMT("{" BASE ",'NotResource':'*'}"),
	    "Statement[0]: Resource and NotResource are mutually exclusive");
	load_fails(STMT("{'Principal':'*','Action':'*','Resource':'*'}"),
	    "Statement[0]: missing Effect");
	load_fails(STMT("{" BASE "},{'Effect':'allow','Principal':'*',"
	    "'Action':'*','Resource':'*'}"),
	    "Statement[1].Effect: must be \"Allow\" or \"Deny\"");
	load_fails(STMT("{'Effect':true,'Principal':'*','Action':'*',"
	    "'Resource':'*'}"),
	    "Statement[0].Effect: must be \"Allow\" or \"Deny\"");
	load_fails(STMT("{" BASE ",'Condtion':{}}"),
	    "Statement[0].Condtion: unknown element");
	load_fails("{'Statement':[],'Policy':1}", "Policy: unknown element");
	load_fails("{'Version':'2012-10-18','Statement':[]}",
	    "Version: must be \"2012-10-17\" or \"2008-10-17\"");
	load_fails("{'Version':20121017,'Statement':[]}",
	    "Version: must be \"2012-10-17\" or \"2008-10-17\"");
	load_fails("{'Id':7,'Statement':[]}", "Id: must be a string");
	load_fails("{'Version':'2012-10-17'}", "document: missing Statement");
	load_fails("{'Statement':'x'}",
	    "Statement: must be a statement object or an array of them");
	load_fails("{'Statement':[1]}",
	    "Statement[0]: a statement must be an object");
	load_fails("[]", "document: a policy must be a JSON object");
	load_fails(STMT("{" BASE ",'Sid':1}"), "Statement[0].Sid: must be a "
	    "string");
}

static void
test_error_elements(void **state)
{
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':[],"
	    "'Resource':'*'}"), "Statement[0].Action: must not be an empty "
	    "array");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':"
	    "['dynamodb:GetItem',1],'Resource':'*'}"),
	    "Statement[0].Action[1]: must be a string");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':"
	    "'GetItem','Resource':'*'}"), "Statement[0].Action: \"GetItem\" "
	    "must be \"*\" or \"service:ActionName\"");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':"
	    "'dynamo*:GetItem','Resource':'*'}"), "Statement[0].Action: "
	    "\"dynamo*:GetItem\": wildcards are allowed only in the action "
	    "name");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':"
	    "'dynamodb:Get Item','Resource':'*'}"), "Statement[0].Action: "
	    "\"dynamodb:Get Item\": invalid character in the action name");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','NotAction':"
	    "'dynamodb:','Resource':'*'}"), "Statement[0].NotAction: "
	    "\"dynamodb:\" must be \"*\" or \"service:ActionName\"");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':'*',"
	    "'Resource':['*','']}"), "Statement[0].Resource[1]: must not be "
	    "empty");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':'*',"
	    "'NotResource':{}}"), "Statement[0].NotResource: must be a string "
	    "or an array of strings");
}

static void
test_error_principal(void **state)
{
	load_fails(STMT("{'Effect':'Allow','Principal':'alice','Action':'*',"
	    "'Resource':'*'}"), "Statement[0].Principal: must be \"*\" or an "
	    "object such as {\"AWS\": \"*\"}");
	load_fails(STMT("{'Effect':'Allow','Principal':{},'Action':'*',"
	    "'Resource':'*'}"), "Statement[0].Principal: must be \"*\" or an "
	    "object such as {\"AWS\": \"*\"}");
	load_fails(STMT("{'Effect':'Allow','Principal':{'User':'*'},"
	    "'Action':'*','Resource':'*'}"), "Statement[0].Principal.User: "
	    "unknown principal type (AWS, Service, Federated or "
	    "CanonicalUser)");
	load_fails(STMT("{'Effect':'Allow','Principal':{'AWS':["
	    "'111122223333','arn:aws:iam::111122223333:role/*']},"
	    "'Action':'*','Resource':'*'}"), "Statement[0].Principal.AWS[1]: "
	    "\"arn:aws:iam::111122223333:role/*\": wildcards are not allowed "
	    "in principal ARNs (only \"*\" alone)");
	load_fails(STMT("{'Effect':'Allow','NotPrincipal':{'AWS':'alice'},"
	    "'Action':'*','Resource':'*'}"), "Statement[0].NotPrincipal.AWS: "
	    "\"alice\" must be \"*\", a 12-digit account ID or an ARN");
	load_fails(STMT("{'Effect':'Allow','Principal':{'AWS':"
	    "'arn:aws:iam::alice'},'Action':'*','Resource':'*'}"),
	    "Statement[0].Principal.AWS: \"arn:aws:iam::alice\" is not a "
	    "valid principal ARN");
	load_fails(STMT("{'Effect':'Allow','Principal':{'Service':''},"
	    "'Action':'*','Resource':'*'}"), "Statement[0].Principal.Service: "
	    "must not be empty");
}

static void
test_error_conditions(void **state)
{
	load_fails(STMT("{" BASE ",'Condition':{'StringEqualz':{'a':'b'}}}"),
	    "Statement[0].Condition.StringEqualz: unknown condition operator");
	load_fails(STMT("{" BASE ",'Condition':{'stringequals':{'a':'b'}}}"),
	    "Statement[0].Condition.stringequals: unknown condition operator");
	load_fails(STMT("{" BASE ",'Condition':{'ForAllValue:StringEquals':"
	    "{'a':'b'}}}"), "Statement[0].Condition.ForAllValue:StringEquals: "
	    "unknown condition operator");
	load_fails(STMT("{" BASE ",'Condition':{'NullIfExists':{'a':'true'}}}"),
	    "Statement[0].Condition.NullIfExists: Null has no IfExists form");
	load_fails(STMT("{" BASE ",'Condition':{'ForAnyValue:Null':"
	    "{'a':'true'}}}"), "Statement[0].Condition.ForAnyValue:Null: Null "
	    "takes no ForAllValues:/ForAnyValue: prefix");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':'x'}}"),
	    "Statement[0].Condition.StringEquals: must be an object of "
	    "condition keys and values");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{}}}"),
	    "Statement[0].Condition.StringEquals: must be an object of "
	    "condition keys and values");
	load_fails(STMT("{" BASE ",'Condition':[]}"), "Statement[0].Condition: "
	    "must be an object of condition operators");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'a':[]}}}"),
	    "Statement[0].Condition.StringEquals.a: must have at least one "
	    "value");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'a':['x',"
	    "{'b':1}]}}}"), "Statement[0].Condition.StringEquals.a[1]: "
	    "condition values must be strings, numbers or booleans");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'a':null}}}"),
	    "Statement[0].Condition.StringEquals.a: condition values must be "
	    "strings, numbers or booleans");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'':'x'}}}"),
	    "Statement[0].Condition.StringEquals: empty condition key");
	load_fails(STMT("{" BASE ",'Condition':{'NumericLessThan':"
	    "{'aws:EpochTime':['1','ten']}}}"),
	    "Statement[0].Condition.NumericLessThan.aws:EpochTime[1]: \"ten\" "
	    "is not a number");
	load_fails(STMT("{" BASE ",'Condition':{'DateLessThan':"
	    "{'aws:CurrentTime':'2020-02-30'}}}"),
	    "Statement[0].Condition.DateLessThan.aws:CurrentTime: "
	    "\"2020-02-30\" is not an ISO 8601 date or epoch seconds");
	load_fails(STMT("{" BASE ",'Condition':{'Bool':{'a':'yes'}}}"),
	    "Statement[0].Condition.Bool.a: \"yes\": must be \"true\" or "
	    "\"false\"");
	load_fails(STMT("{" BASE ",'Condition':{'Null':{'a':1}}}"),
	    "Statement[0].Condition.Null.a: \"1\": must be \"true\" or "
	    "\"false\"");
	load_fails(STMT("{" BASE ",'Condition':{'IpAddress':"
	    "{'aws:SourceIp':'10.0.0.0/33'}}}"),
	    "Statement[0].Condition.IpAddress.aws:SourceIp: \"10.0.0.0/33\" is "
	    "not an IP address or CIDR prefix");
	load_fails(STMT("{" BASE ",'Condition':{'BinaryEquals':{'a':'@@'}}}"),
	    "Statement[0].Condition.BinaryEquals.a: \"@@\" is not base64");
}

static void
test_error_variables(void **state)
{
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':"
	    "{'a':'${aws:username'}}}"), "Statement[0].Condition.StringEquals."
	    "a: malformed policy variable: \"${aws:username\"");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'a':'${}'}}}"),
	    "Statement[0].Condition.StringEquals.a: empty policy variable: "
	    "\"${}\"");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':"
	    "{'a':'${x, y}'}}}"), "Statement[0].Condition.StringEquals.a: "
	    "policy variable default must be in single quotes: \"${x, y}\"");
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':"
	    "{'a':'${x, \\'y}'}}}"), "Statement[0].Condition.StringEquals.a: "
	    "unterminated default value in policy variable: \"${x, 'y}\"");
	load_fails(STMT("{'Effect':'Allow','Principal':'*','Action':'*',"
	    "'Resource':'" T "/${aws:username'}"), "Statement[0].Resource: "
	    "malformed policy variable: \"${aws:username\"");
	/* Without Version 2012-10-17 the same text is literal, and fine. */
	policy_free(pol("{'Statement':[{" BASE ",'Condition':{"
	    "'StringEquals':{'a':'${aws:username'}}}]}"));
}

static void
test_error_text(void **state)
{
	char doc[POLICY_TEST_BIG];
	struct policy *p;
	size_t n, k;

	/* Trailing data, syntax errors with their paths. */
	load_fails("{'Statement':[]} {}", "document: trailing data after the "
	    "policy (line 1, column 18)");
	load_fails_prefix(STMT("{'Effect':Allow}"), "Statement[0].Effect: "
	    "invalid JSON: ");
	load_fails_prefix("", "document: invalid JSON: ");
	/* Invalid UTF-8 and characters outside 5.1's set. */
	load_fails("{'Statement':[{'Sid':'\xff'}]}",
	    "Statement[0].Sid: invalid UTF-8 at byte 22");
	load_fails("{'Statement':[{'Sid':'\xc0\x80'}]}",
	    "Statement[0].Sid: invalid UTF-8 at byte 22");
	load_fails("{'Statement':[{'Sid':'\xed\xa0\x80'}]}",
	    "Statement[0].Sid: invalid UTF-8 at byte 22");
	load_fails("{'Statement':[{'Sid':'\xc4\x80'}]}",
	    "Statement[0].Sid: character U+0100 at byte 22 is not allowed in "
	    "a policy");
	load_fails("{'Statement':[],\x01'x':1}",
	    "document: character U+0001 at byte 16 is not allowed in a "
	    "policy");
	load_fails("{'Statement':[{'Sid':'\\u20ac'}]}",
	    "Statement[0].Sid: character U+20AC is not allowed in a policy");
	load_fails("{'Statement':[{'Sid':'\\u0001'}]}",
	    "Statement[0].Sid: character U+0001 is not allowed in a policy");
	/* Latin-1 letters are allowed. */
	p = pol("{'Statement':[{'Sid':'caf\xc3\xa9','Effect':'Allow',"
	    "'Principal':'*','Action':'*','Resource':'*'}]}");
	policy_free(p);
	/* Nesting. */
	load_fails(STMT("{" BASE ",'Condition':{'StringEquals':{'a':"
	    "[[[[['x']]]]]}}}"), "Statement[0].Condition.StringEquals.a[0][0][0]"
	    "[0]: nested too deeply");
	/* 20480 characters are fine, 20481 are not (characters, not bytes). */
	n = (size_t)snprintf(doc, sizeof(doc), "{\"Statement\":[]}");
	memset(doc + n, ' ', 20480 - n);
	p = policy_load_buffer(doc, 20480, errbuf, sizeof(errbuf));
	assert_non_null(p);
	policy_free(p);
	doc[20480] = ' ';
	assert_null(policy_load_buffer(doc, 20481, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "document: longer than 20480 characters");
	/* 22 + 20456 two-byte characters + 2 = 20480 characters. */
	n = (size_t)snprintf(doc, sizeof(doc), "{\"Statement\":[],\"Id\":\"");
	for (k = 0; k < 20456; k++, n += 2)
		memcpy(doc + n, "\xc3\xa9", 2);
	memcpy(doc + n, "\"}", 2);
	p = policy_load_buffer(doc, n + 2, errbuf, sizeof(errbuf));
	if (p == NULL)
		fail_msg("%s", errbuf);
	policy_free(p);
	memcpy(doc + n, "\xc3\xa9\"}", 4);
	assert_null(policy_load_buffer(doc, n + 4, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "document: longer than 20480 characters");
}

/* Fuzzer finding: the error-path scanner read past an unterminated
 * string ("{ \"") while naming the JSON path. */
static void
test_regression_unterminated_string_path(void **state)
{
	load_fails_prefix("{ \"", "document: invalid JSON: ");
	load_fails_prefix("{'Statement':[{'Sid':'ab", "Statement[0].Sid: invalid "
	    "JSON: ");
	load_fails_prefix("{'Statement':[{'Sid\\", "Statement[0]: invalid "
	    "JSON: ");
}

/*
 * ForAnyValue:<op>IfExists / ForAllValues:<op>IfExists on an ABSENT key:
 * the set operator's own missing-key rule wins over IfExists (5.5:
 * ForAnyValue is "false when the key is missing or empty"; AWS denies
 * there). ddbgate used to apply IfExists first and made ForAnyValue true.
 */
static void
test_regression_foranyvalue_ifexists_missing_key_is_false(void **state)
{
	const char *any_eq = "{'ForAnyValue:StringEqualsIfExists':"
	    "{'aws:TagKeys':['team']}}";
	const char *any_ne = "{'ForAnyValue:StringNotEqualsIfExists':"
	    "{'aws:PrincipalOrgPaths':['o-a1b2c3d4e5/r-ab12/']}}";
	const char *any_num = "{'ForAnyValue:NumericEqualsIfExists':"
	    "{'aws:MultiFactorAuthAge':['0']}}";
	const char *all_eq = "{'ForAllValues:StringEqualsIfExists':"
	    "{'aws:TagKeys':['team']}}";
	const char *v[2] = { "team", "env" };

	/* Absent: ForAnyValue false, in an Allow and in a Deny. */
	assert_string_equal(with_cond(any_eq, false, "aws:TagKeys", -1, v),
	    DI);
	assert_string_equal(with_cond(any_eq, true, "aws:TagKeys", -1, v),
	    DA);
	assert_string_equal(with_cond(any_ne, false, "aws:PrincipalOrgPaths",
	    -1, v), DI);
	assert_string_equal(with_cond(any_ne, true, "aws:PrincipalOrgPaths",
	    -1, v), DA);
	assert_string_equal(cond1(any_num, "aws:MultiFactorAuthAge", NULL),
	    DI);
	/* Empty set: false as before. */
	assert_string_equal(with_cond(any_eq, false, "aws:TagKeys", 0, v),
	    DI);
	/* Absent: ForAllValues true (its own rule agrees with IfExists). */
	assert_string_equal(with_cond(all_eq, false, "aws:TagKeys", -1, v),
	    DA);
	assert_string_equal(with_cond(all_eq, true, "aws:TagKeys", -1, v),
	    DE);
	/* Present: as the set operator without IfExists. */
	assert_string_equal(with_cond(any_eq, false, "aws:TagKeys", 2, v),
	    DA);
	v[0] = "owner";
	assert_string_equal(with_cond(any_eq, false, "aws:TagKeys", 2, v),
	    DI);
	assert_string_equal(cond1(any_num, "aws:MultiFactorAuthAge", "0"), DA);
	/* A plain IfExists operator on an absent key stays true. */
	assert_string_equal(cond1("{'StringEqualsIfExists':"
	    "{'aws:SourceVpc':'vpc-1'}}", "aws:SourceVpc", NULL), DA);
}

/*
 * A NotResource entry whose variable cannot be resolved makes the whole
 * statement invalid for a request its other ARN segments match: then it
 * matches nothing, in an Allow and in a Deny (IAM guide: a missing
 * variable "causes the statement to be invalid"; the segments are
 * compared first, as the IAM evaluator does).
 * ddbgate used to let the entry match nothing, so NotResource matched
 * every resource. A Resource entry keeps its rule: it matches nothing.
 */
static void
test_regression_notresource_unresolved_variable_invalidates_statement(
    void **state)
{
	struct policy *allow = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','NotResource':['" T "/Secret','" T
	    "/${aws:username}']}");
	struct policy *deny = pol_stmts(ALLOW_ALL ",{'Effect':'Deny',"
	    "'Principal':'*','Action':'*','NotResource':'" T
	    "/${aws:username}'}");
	struct policy *def = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','NotResource':'" T
	    "/${aws:username, \\'nobody\\'}'}");
	struct policy *res = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':['" T "/${aws:username}','" T
	    "/Books']}");
	struct policy *old = pol("{'Version':'2008-10-17','Statement':["
	    "{'Effect':'Allow','Principal':'*','Action':'*','NotResource':'"
	    T "/${aws:username}'}]}");
	struct ctx c;

	/* Resolved: an ordinary NotResource. */
	ctx_common(&c);
	EXPECT(allow, &c, DA);			/* Books */
	EXPECT(deny, &c, DE);
	c.req.resource = T "/alice";
	EXPECT(allow, &c, DI);
	EXPECT(deny, &c, DA);
	c.req.resource = T "/Secret";
	EXPECT(allow, &c, DI);

	/* aws:username absent (a role session): the statement never
	 * matches, whatever the resource. */
	ctx_set(&c, "aws:username", -1);
	c.req.resource = T "/Books";
	EXPECT(allow, &c, DI);
	EXPECT(deny, &c, DA);
	c.req.resource = T "/alice";
	EXPECT(allow, &c, DI);
	EXPECT(deny, &c, DA);
	/* An entry whose other segments do not match this request is
	 * simply not matched (as the IAM evaluator orders it), so the
	 * NotResource applies: to another region/account, or to "*". */
	c.req.resource = "arn:aws:dynamodb:eu-west-1:444455556666:table/X";
	EXPECT(allow, &c, DA);
	EXPECT(deny, &c, DE);
	c.req.action = "dynamodb:ListTables";
	c.req.resource = "*";
	EXPECT(allow, &c, DA);
	EXPECT(deny, &c, DE);
	/* Multivalued: cannot be a variable either. */
	c.req.action = "dynamodb:GetItem";
	c.req.resource = T "/Books";
	ctx_set(&c, "aws:username", 2, "alice", "bob");
	EXPECT(allow, &c, DI);
	EXPECT(deny, &c, DA);
	ctx_set(&c, "aws:username", -1);

	/* A default resolves the variable. */
	EXPECT(def, &c, DA);
	c.req.resource = T "/nobody";
	EXPECT(def, &c, DI);

	/* Resource: only that entry matches nothing. */
	c.req.resource = T "/Books";
	EXPECT(res, &c, DA);
	c.req.resource = T "/alice";
	EXPECT(res, &c, DI);

	/* Without Version 2012-10-17 the text is literal, not a variable. */
	c.req.resource = T "/Books";
	EXPECT(old, &c, DA);

	policy_free(allow);
	policy_free(deny);
	policy_free(def);
	policy_free(res);
	policy_free(old);
}

/*
 * A plain operator on a key declared multivalued (ArrayOfString,
 * ArrayOfARN) fails closed whatever the number of request values: in an
 * Allow the condition does not hold, in a Deny it holds (5.5). ddbgate
 * used to count the values, so StringNotLike dynamodb:Attributes "SSN"
 * with one requested attribute was read as a single value and allowed.
 * Keys the table does not know keep the count rule.
 */
static void
test_regression_multivalued_key_plain_operator_by_declared_type(
    void **state)
{
	const char *notlike = "{'StringNotLike':{'dynamodb:Attributes':"
	    "'SSN'}}";
	const char *v[2] = { "Id", "Title" };
	static const struct {
		const char *cond;
		const char *key;
		const char *value;
	} multi[] = {
		{ "{'StringEquals':{'dynamodb:LeadingKeys':'alice'}}",
		  "dynamodb:LeadingKeys", "alice" },
		{ "{'StringEqualsIfExists':{'DynamoDB:Attributes':'Id'}}",
		  "dynamodb:attributes", "Id" },
		{ "{'StringLike':{'aws:TagKeys':'team'}}", "aws:TagKeys",
		  "team" },
		{ "{'StringEquals':{'aws:PrincipalOrgPaths':"
		  "'o-a1b2c3d4e5/r-ab12/'}}", "aws:PrincipalOrgPaths",
		  "o-a1b2c3d4e5/r-ab12/" },
		{ "{'StringEquals':{'aws:CalledVia':"
		  "'dynamodb.amazonaws.com'}}", "aws:CalledVia",
		  "dynamodb.amazonaws.com" },
		{ "{'StringNotEquals':{'dynamodb:FirstPartitionKeyValues':"
		  "'x'}}", "dynamodb:FirstPartitionKeyValues", "y" },
		{ "{'ArnEquals':{'dynamodb:FisTargetArns':"
		  "'arn:aws:iam::111122223333:role/R'}}",
		  "dynamodb:FisTargetArns", "arn:aws:iam::111122223333:role/R" },
	};
	size_t i;

	/* One value of a multivalued key: no Allow... */
	assert_string_equal(with_cond(notlike, false, "dynamodb:Attributes",
	    1, v), DI);
	assert_string_equal(with_cond(notlike, false, "dynamodb:Attributes",
	    2, v), DI);
	/* ...and a Deny applies, whatever the values. */
	assert_string_equal(with_cond(notlike, true, "dynamodb:Attributes",
	    1, v), DE);
	v[0] = "SSN";
	assert_string_equal(with_cond(notlike, true, "dynamodb:Attributes",
	    1, v), DE);
	for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
		v[0] = multi[i].value;
		if (strcmp(with_cond(multi[i].cond, false, multi[i].key, 1, v),
		    DI) != 0)
			fail_msg("Allow %s with one value applies",
			    multi[i].cond);
		if (strcmp(with_cond(multi[i].cond, true, multi[i].key, 1, v),
		    DE) != 0)
			fail_msg("Deny %s with one value does not apply",
			    multi[i].cond);
	}
	/* The missing-key rule still comes first. */
	assert_string_equal(with_cond(notlike, false, "dynamodb:Attributes",
	    -1, v), DA);
	assert_string_equal(with_cond(notlike, true, "dynamodb:Attributes",
	    -1, v), DE);
	/* Null and the set operators are not affected. */
	v[0] = "Id";
	assert_string_equal(with_cond("{'Null':{'dynamodb:Attributes':"
	    "'false'}}", false, "dynamodb:Attributes", 1, v), DA);
	assert_string_equal(with_cond("{'ForAllValues:StringNotLike':"
	    "{'dynamodb:Attributes':'SSN'}}", false, "dynamodb:Attributes", 1,
	    v), DA);
	assert_string_equal(with_cond("{'ForAnyValue:StringLike':"
	    "{'dynamodb:Attributes':'SSN'}}", true, "dynamodb:Attributes", 1,
	    v), DA);
	/* Single-valued keys are read as one value. */
	assert_string_equal(cond1("{'StringEquals':{'aws:SourceVpce':"
	    "'vpce-0abc1234def567890'}}", "aws:SourceVpce",
	    "vpce-0abc1234def567890"), DA);
	assert_string_equal(cond1("{'StringEquals':{'aws:PrincipalTag/team':"
	    "'ops'}}", "aws:PrincipalTag/team", "ops"), DA);
	/* Unknown keys: multivalued by count (several values, or none). */
	assert_string_equal(cond1("{'StringNotLike':{'test:K':'SSN'}}",
	    "test:K", "Id"), DA);
	v[0] = "Id";
	assert_string_equal(with_cond("{'StringNotLike':{'test:K':'SSN'}}",
	    false, "test:K", 2, v), DI);
	assert_string_equal(with_cond("{'StringNotLike':{'test:K':'SSN'}}",
	    false, "test:K", 0, v), DI);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_policy_XXXXXX", err[600];
	const char *doc = "{\"Statement\":[{\"Effect\":\"Allow\","
	    "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}";
	struct policy *p;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(doc, f);
	fclose(f);
	p = policy_load_file(path, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(policy_statement_count(p), 1);
	policy_free(p);
	f = fopen(path, "w");
	fputs("{\"Statement\":[{\"Effect\":\"Maybe\"}]}", f);
	fclose(f);
	assert_null(policy_load_file(path, err, sizeof(err)));
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ": Statement[0].Effect: must be"));
	unlink(path);
	assert_null(policy_load_file(path, err, sizeof(err)));
	assert_true(strncmp(err, path, strlen(path)) == 0);
}

static void
test_uses_key(void **state)
{
	struct policy *p = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'" T "/${aws:username}','Condition':{"
	    "'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':"
	    "'${aws:PrincipalTag/Team, \\'x\\'}'},'ArnLike':{"
	    "'aws:PrincipalArn':'arn:aws:iam::${aws:PrincipalAccount}:*'},"
	    "'Null':{'dynamodb:Attributes':'false'}}}");
	struct policy *q = policy_allow_all();

	assert_true(policy_uses_key(p, "dynamodb:LeadingKeys"));
	assert_true(policy_uses_key(p, "DYNAMODB:ATTRIBUTES"));
	assert_true(policy_uses_key(p, "aws:PrincipalArn"));
	assert_true(policy_uses_key(p, "aws:username"));
	assert_true(policy_uses_key(p, "aws:principaltag/team"));
	assert_true(policy_uses_key(p, "aws:PrincipalAccount"));
	assert_false(policy_uses_key(p, "dynamodb:FullTableScan"));
	assert_false(policy_uses_key(q, "dynamodb:LeadingKeys"));
	policy_free(p);
	policy_free(q);
	/* Old versions have no variables. */
	p = pol("{'Statement':[{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'" T "/${aws:username}'}]}");
	assert_false(policy_uses_key(p, "aws:username"));
	policy_free(p);
}

static void
test_allow_all_and_names(void **state)
{
	struct policy *p = policy_allow_all();
	struct policy_result r;
	struct ctx c;

	ctx_common(&c);
	c.req.principal = NULL;
	c.req.action = "dax:CreateCluster";
	c.req.resource = "*";
	r = eval_full(p, &c);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_int_equal(r.statement, 0);
	assert_int_equal(policy_statement_count(p), 1);
	policy_free(p);
	policy_free(NULL);
	assert_string_equal(policy_decision_name(POLICY_ALLOW), "allow");
	assert_string_equal(policy_decision_name(POLICY_DENY_IMPLICIT),
	    "implicit deny");
	assert_string_equal(policy_decision_name(POLICY_DENY_EXPLICIT),
	    "explicit deny");
}

/* ------------------------------------------------------------------ */
/* Lint                                                                */
/* ------------------------------------------------------------------ */

#define ST(action, resource) "{'Effect':'Allow','Principal':'*',"	\
	"'Action':" action ",'Resource':" resource "}"

static void
test_lint_clean_policy(void **state)
{
	char out[4096];
	int n;

	n = lint_text("{" V12 "'Statement':[{'Effect':'Allow','Principal':'*',"
	    "'Action':['dynamodb:GetItem','dynamodb:Query'],'Resource':['" T
	    "/Music','" T "/Music/index/*'],'Condition':{'StringEquals':{"
	    "'aws:PrincipalAccount':'111122223333'}}},{'Effect':'Allow',"
	    "'Principal':'*','Action':'dynamodb:ListTables','Resource':'*'}]}",
	    out, sizeof(out));
	if (n != 0)
		fail_msg("unexpected findings:\n%s", out);
}

static void
test_lint_actions(void **state)
{
	char out[4096];
	int n;

	lint_has(ST("['dynamodb:GetItems']", "'*'"),
	    "Statement[0].Action[0]: unknown dynamodb action "
	    "\"dynamodb:GetItems\"");
	lint_has(ST("'dax:Gett*'", "'*'"),
	    "Statement[0].Action: \"dax:Gett*\" matches no known dax action");
	lint_has(ST("'s3:GetObject'", "'*'"), "\"s3:GetObject\" is not a "
	    "DynamoDB, Streams or DAX action");
	lint_has(ST("'*'", "'*'"), "Statement[0].Action: Action \"*\" in an "
	    "Allow grants every action");
	lint_has("{'Effect':'Allow','Principal':'*','NotAction':'*',"
	    "'Resource':'*'}", "NotAction \"*\" excludes every action");
	/* Known actions of every kind are fine, in any case. */
	n = lint_text("{" V12 "'Statement':[" ST("['DYNAMODB:getitem',"
	    "'dynamodb:PartiQLSelect','dynamodb:GetRecords','dax:Query',"
	    "'dynamodb:CreateTableReplica','dax:DescribeClusters']", "'*'")
	    "]}", out, sizeof(out));
	if (n != 0)
		fail_msg("unexpected findings:\n%s", out);
}

static void
test_lint_never_matches(void **state)
{
	char out[4096];

	lint_has(ST("'dynamodb:GetItem'", "'arn:aws:dax:us-east-1:"
	    "111122223333:cache/C'"), "Statement[0]: statement never matches: "
	    "its actions and its resources belong to different services");
	lint_has(ST("'dynamodb:ListTables'", "'" T "/*'"), "Statement[0]: "
	    "statement never matches: its actions take no resource");
	assert_int_equal(lint_text("{" V12 "'Statement':[" ST(
	    "'dynamodb:List*'", "'" T "/*'") "]}", out, sizeof(out)), 0);
	lint_has("{'Effect':'Allow','Principal':'*','Action':'*',"
	    "'NotResource':'*'}", "NotResource \"*\" excludes every resource");
	lint_has("{'Effect':'Allow','Principal':{'Service':'x.amazonaws.com'},"
	    "'Action':'*','Resource':'*'}", "Statement[0]: statement never "
	    "matches: no principal can match a caller");
	lint_has(ST("'*'", "'arn:aws:dynamodb:us-east-1'"), "has fewer than "
	    "six ARN segments and no wildcard: it never matches");
	lint_has(ST("'*'", "'table/Books'"), "\"table/Books\" is neither "
	    "\"*\" nor an ARN");
	lint_has(ST("'*'", "'arn:aws:dynamodb:*'"), "it is read with \"*\" "
	    "for the missing ones");
}

static void
test_lint_broad_wildcards(void **state)
{
	char out[4096];

	lint_has(ST("'dynamodb:GetItem'", "'" T "/Music*'"),
	    "Statement[0].Resource: \"table/Music*\" also matches every table "
	    "whose name starts with \"Music\"; use \"table/Music\" and "
	    "\"table/Music/*\"");
	lint_has(ST("'dynamodb:GetItem'", "['" T "/A','" T "/M?s*/index/*']"),
	    "Statement[0].Resource[1]: a wildcard inside the name");
	assert_int_equal(lint_text("{" V12 "'Statement':[" ST(
	    "'dynamodb:GetItem'", "['" T "/*','" T "/Music/*']") "]}", out,
	    sizeof(out)), 0);
}

static void
test_lint_endpoint_rules(void **state)
{
	lint_has("{" BASE ",'Condition':{'StringLike':{'aws:PrincipalAccount':"
	    "'1111*'}}}", "Statement[0].Condition.StringLike."
	    "aws:PrincipalAccount: wildcards are not allowed with "
	    "aws:PrincipalAccount in an endpoint policy");
	lint_has("{" BASE ",'Condition':{'NumericEquals':{'aws:SourceVpc':"
	    "'1'}}}", "numeric operators are not allowed with aws:SourceVpc");
	lint_has("{" BASE ",'Condition':{'StringLike':{'aws:UserAgent':"
	    "['abc*','abcdef*']}}}", "Statement[0].Condition.StringLike."
	    "aws:UserAgent[0]: \"abc*\": each wildcard needs at least six");
	lint_has(ST("'*'", "'arn:aws:dynamodb:us-east-1:1111*:table/T'"),
	    "account segment \"1111*\" mixes digits and wildcards");
	lint_has("{" BASE ",'Condition':{'ArnLike':{'aws:PrincipalArn':"
	    "'arn:aws:iam::11112222333?:role/Admin'}}}", "account segment "
	    "\"11112222333?\" mixes digits and wildcards");
}

static void
test_lint_conditions(void **state)
{
	char out[4096];

	lint_has("{" BASE ",'Condition':{'StringEquals':{'aws:SoureVpce':"
	    "'vpce-1'}}}", "Statement[0].Condition.StringEquals.aws:SoureVpce: "
	    "unknown condition key \"aws:SoureVpce\"");
	lint_has("{" BASE ",'Condition':{'ForAllValues:StringEquals':{"
	    "'aws:PrincipalOrgID':'o-a'}}}", "ForAllValues on single-valued "
	    "key aws:PrincipalOrgID is true when the key is absent");
	lint_has("{" BASE ",'Condition':{'StringEquals':{"
	    "'dynamodb:LeadingKeys':'a'}}}", "dynamodb:LeadingKeys is "
	    "multivalued: use ForAllValues: or ForAnyValue:");
	lint_has("{" BASE ",'Condition':{'IpAddress':{'aws:SourceIp':"
	    "'10.0.0.0/8'}}}", "AWS leaves aws:SourceIp absent for requests "
	    "through a VPC endpoint");
	lint_has("{" BASE ",'Condition':{'IpAddress':{'aws:VpcSourceIp':"
	    "'10.1.0.0/8'}}}", "\"10.1.0.0/8\" has bits set past the prefix "
	    "length; it means 10.0.0.0/8");
	lint_has("{" BASE ",'Condition':{'StringEquals':{'aws:userid':"
	    "'AIDA*'}}}", "'*' and '?' are literal under StringEquals");
	lint_has("{" BASE ",'Condition':{'NumericLessThan':{'aws:SourceVpce':"
	    "'1'}}}", "NumericLessThan cannot read aws:SourceVpce, a String "
	    "key");
	lint_has("{" BASE ",'Condition':{'ArnEquals':{'aws:SourceArn':"
	    "'arn:aws:sqs'}}}", "is not a full ARN (six colon-separated "
	    "parts): it never matches");
	/* Tag keys and every key of 6.1 are known. */
	assert_int_equal(lint_text(STMT("{" BASE ",'Condition':{"
	    "'StringEquals':{'aws:PrincipalTag/Team':'red',"
	    "'aws:RequestTag/x':'y','dynamodb:Select':'COUNT',"
	    "'dax:EnclosingOperation':'TransactWriteItems'},"
	    "'ForAllValues:StringEquals':{'aws:TagKeys':'x',"
	    "'dynamodb:Attributes':'Id'},'Bool':{'aws:SecureTransport':true,"
	    "'dynamodb:FullTableScan':false},'DateLessThan':{"
	    "'aws:CurrentTime':'2030-01-01','aws:EpochTime':'2030-01-01'},"
	    "'NumericLessThan':{'aws:EpochTime':1}}}"), out, sizeof(out)) -
	    1, 0);	/* the Allow "*" finding only */
}

static void
test_lint_principals_and_versions(void **state)
{
	char out[4096];

	lint_has("{'Effect':'Allow','Principal':{'AWS':'111122223333'},"
	    "'Action':'*','Resource':'*'}", "Statement[0].Principal.AWS: in an "
	    "endpoint policy \"111122223333\" matches only the account's root "
	    "user");
	lint_has("{'Effect':'Allow','NotPrincipal':{'AWS':'" ALICE "'},"
	    "'Action':'*','Resource':'*'}", "Statement[0].NotPrincipal: AWS "
	    "advises against NotPrincipal");
	lint_text("{'Statement':{'Effect':'Allow','Principal':'*',"
	    "'Action':'dynamodb:GetItem','Resource':'" T "/${aws:username}'}}",
	    out, sizeof(out));
	if (strstr(out, "Statement.Resource: \"${...}\" is literal text: "
	    "policy variables need \"Version\": \"2012-10-17\"") == NULL)
		fail_msg("%s", out);
	lint_has(ST("'dynamodb:GetItem'", "'arn:aws:dynamodb:${aws:x}:1:t/a'"),
	    "policy variables are allowed only in the resource part");
}

static void
test_lint_counts_lines(void **state)
{
	char out[4096], *s;
	int n, lines = 0;

	n = lint_text("{" V12 "'Statement':[" ST("'*'", "'" T "/Music*'") ","
	    ST("'dynamodb:Nope'", "'*'") "]}", out, sizeof(out));
	for (s = out; *s != '\0'; s++)
		lines += *s == '\n';
	assert_int_equal(n, 3);
	assert_int_equal(lines, n);
}

/* Whether a decision can depend on a resource's account (enforce.c
 * refuses a table named without its account only then). */
static void
test_names_account(void **state)
{
	struct policy *any = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*'}");
	struct policy *star = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'arn:aws:dynamodb:*:*:table/Books'}");
	struct policy *acct = pol_stmts(ALLOW_ALL ",{'Effect':'Deny',"
	    "'Principal':'*','Action':'*','NotResource':"
	    "'arn:aws:dynamodb:us-east-1:111122223333:table/*'}");
	struct policy *cond = pol_stmts("{'Effect':'Allow','Principal':'*',"
	    "'Action':'*','Resource':'*','Condition':{'StringEquals':"
	    "{'aws:ResourceAccount':'111122223333'}}}");

	(void)state;
	assert_false(policy_names_account(any));
	assert_false(policy_names_account(star));
	assert_true(policy_names_account(acct));
	assert_true(policy_names_account(cond));
	policy_free(any);
	policy_free(star);
	policy_free(acct);
	policy_free(cond);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vector_01_empty_statement_is_default_deny),
		cmocka_unit_test(vector_02_allow_all),
		cmocka_unit_test(vector_03_action_case_insensitive),
		cmocka_unit_test(vector_04_resource_part_case_sensitive),
		cmocka_unit_test(vector_05_query_index_resource),
		cmocka_unit_test(vector_06_star_spans_slash),
		cmocka_unit_test(vector_07_question_mark_one_char),
		cmocka_unit_test(vector_08_list_tables_needs_star),
		cmocka_unit_test(vector_09_list_tables_star),
		cmocka_unit_test(vector_10_explicit_deny_wins),
		cmocka_unit_test(vector_11_not_action_allow),
		cmocka_unit_test(vector_12_not_resource_allow),
		cmocka_unit_test(vector_13_not_resource_deny),
		cmocka_unit_test(vector_14_missing_key_positive_false),
		cmocka_unit_test(vector_15_missing_key_negated_true),
		cmocka_unit_test(vector_16_ifexists_missing_true),
		cmocka_unit_test(vector_17_null_token_issue_time),
		cmocka_unit_test(vector_18_source_ip_absent_via_endpoint),
		cmocka_unit_test(vector_19_not_ip_address_denies_endpoint_traffic),
		cmocka_unit_test(vector_20_bare_ipv4_is_host),
		cmocka_unit_test(vector_21_values_ored),
		cmocka_unit_test(vector_22_negated_values_anded),
		cmocka_unit_test(vector_23_keys_anded),
		cmocka_unit_test(vector_24_for_all_values_attributes),
		cmocka_unit_test(vector_25_for_all_values_without_projection),
		cmocka_unit_test(vector_26_scan_has_no_leading_keys),
		cmocka_unit_test(vector_27_select_always_present),
		cmocka_unit_test(vector_28_for_any_value_deny_without_projection),
		cmocka_unit_test(vector_29_for_all_values_misused),
		cmocka_unit_test(vector_30_for_any_value_missing),
		cmocka_unit_test(vector_31_username_variable_in_resource),
		cmocka_unit_test(vector_32_negated_with_unresolved_variable),
		cmocka_unit_test(vector_33_escaped_asterisk),
		cmocka_unit_test(vector_34_variables_literal_in_old_versions),
		cmocka_unit_test(vector_35_string_like_vs_arn_like),
		cmocka_unit_test(vector_36_secure_transport),
		cmocka_unit_test(vector_37_date_and_epoch),
		cmocka_unit_test(vector_38_key_names_case_insensitive),
		cmocka_unit_test(vector_39_values_case_sensitive),
		cmocka_unit_test(vector_40_transact_write_checks_every_item),
		cmocka_unit_test(vector_41_no_transact_write_items_action),
		cmocka_unit_test(vector_42_enclosing_operation),
		cmocka_unit_test(vector_43_batch_every_table),
		cmocka_unit_test(vector_44_table_name_or_arn),
		cmocka_unit_test(vector_45_partiql_index_resource),
		cmocka_unit_test(vector_46_partiql_is_not_get_item),
		cmocka_unit_test(vector_47_account_principal_is_root_only),
		cmocka_unit_test(vector_48_aws_star_equals_star),
		cmocka_unit_test(vector_49_streams_actions_are_dynamodb),
		cmocka_unit_test(vector_50_describe_endpoints_explicit),
		cmocka_unit_test(vector_51_get_records_stream_resource),
		cmocka_unit_test(vector_52_search_vectors_index),
		cmocka_unit_test(vector_53_return_values_not_for_get_item),
		cmocka_unit_test(vector_54_return_values_default_none),
		cmocka_unit_test(vector_55_duplicate_operator_rejected),
		cmocka_unit_test(test_action_patterns),
		cmocka_unit_test(test_action_star_and_not_action),
		cmocka_unit_test(test_long_action_name),
		cmocka_unit_test(test_resource_segments),
		cmocka_unit_test(test_resource_short_arns),
		cmocka_unit_test(test_request_star_resource),
		cmocka_unit_test(test_first_matching_statement_named),
		cmocka_unit_test(test_index_by_resource_head),
		cmocka_unit_test(test_single_statement_object),
		cmocka_unit_test(test_principal_forms),
		cmocka_unit_test(test_principal_roles),
		cmocka_unit_test(test_principal_other_types),
		cmocka_unit_test(test_not_principal),
		cmocka_unit_test(test_every_operator_plain),
		cmocka_unit_test(test_every_operator_if_exists),
		cmocka_unit_test(test_every_operator_multivalued_fails_closed),
		cmocka_unit_test(test_every_operator_for_all_values),
		cmocka_unit_test(test_every_operator_for_any_value),
		cmocka_unit_test(test_set_operators_with_negation),
		cmocka_unit_test(test_string_operators),
		cmocka_unit_test(test_numeric_operators),
		cmocka_unit_test(test_date_operators),
		cmocka_unit_test(test_bool_operator),
		cmocka_unit_test(test_binary_operator),
		cmocka_unit_test(test_ip_operators),
		cmocka_unit_test(test_arn_operators),
		cmocka_unit_test(test_null_operator),
		cmocka_unit_test(test_condition_structure),
		cmocka_unit_test(test_variables_in_conditions),
		cmocka_unit_test(test_variable_defaults),
		cmocka_unit_test(test_variable_escapes),
		cmocka_unit_test(test_unresolved_variables),
		cmocka_unit_test(test_error_duplicate_keys),
		cmocka_unit_test(test_error_structure),
		cmocka_unit_test(test_error_elements),
		cmocka_unit_test(test_error_principal),
		cmocka_unit_test(test_error_conditions),
		cmocka_unit_test(test_error_variables),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_regression_unterminated_string_path),
		cmocka_unit_test(
		    test_regression_foranyvalue_ifexists_missing_key_is_false),
		cmocka_unit_test(test_regression_notresource_unresolved_variable_invalidates_statement),
		cmocka_unit_test(test_names_account),
		cmocka_unit_test(
		    test_regression_multivalued_key_plain_operator_by_declared_type),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_uses_key),
		cmocka_unit_test(test_allow_all_and_names),
		cmocka_unit_test(test_lint_clean_policy),
		cmocka_unit_test(test_lint_actions),
		cmocka_unit_test(test_lint_never_matches),
		cmocka_unit_test(test_lint_broad_wildcards),
		cmocka_unit_test(test_lint_endpoint_rules),
		cmocka_unit_test(test_lint_conditions),
		cmocka_unit_test(test_lint_principals_and_versions),
		cmocka_unit_test(test_lint_counts_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
