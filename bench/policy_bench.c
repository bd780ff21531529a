/*
 * policy_bench — nanoseconds per policy_evaluate() decision for a
 * realistic 10-statement endpoint policy and a 1000-statement one (not
 * part of `make check`). A 1000-statement policy is far over the 20480
 * character endpoint limit, so the benchmark includes policy.c and loads
 * through the unlimited internal loader.
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/policy_bench.c \
 *       src/xmalloc.c src/log.c -ljansson -o /tmp/policy_bench
 *   /tmp/policy_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/policy.c"

#define T		"arn:aws:dynamodb:us-east-1:111122223333:table"
#define NREQ		8

struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->len += (size_t)n;
}

/* Common statements: deny plain HTTP, deny drops, list and describe. */
static void
common_statements(struct buf *b)
{
	put(b, "{\"Sid\":\"TlsOnly\",\"Effect\":\"Deny\",\"Principal\":\"*\","
	    "\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":"
	    "{\"aws:SecureTransport\":\"false\"}}},"
	    "{\"Sid\":\"NoDrops\",\"Effect\":\"Deny\",\"Principal\":\"*\","
	    "\"Action\":[\"dynamodb:DeleteTable\",\"dynamodb:DeleteBackup\"],"
	    "\"Resource\":\"*\"},"
	    "{\"Sid\":\"OtherAccounts\",\"Effect\":\"Deny\",\"Principal\":\"*\","
	    "\"Action\":\"dynamodb:*\",\"Resource\":\"*\",\"Condition\":{"
	    "\"StringNotEquals\":{\"aws:PrincipalAccount\":[\"111122223333\","
	    "\"444455556666\"]}}},"
	    "{\"Sid\":\"List\",\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":[\"dynamodb:ListTables\",\"dynamodb:DescribeLimits\","
	    "\"dynamodb:DescribeEndpoints\"],\"Resource\":\"*\"}");
}

/* One per-table grant: items, queries on the table and its indexes. */
static void
table_statement(struct buf *b, int i)
{
	put(b, ",{\"Sid\":\"T%04d\",\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":[\"dynamodb:GetItem\",\"dynamodb:BatchGetItem\","
	    "\"dynamodb:Query\",\"dynamodb:PutItem\",\"dynamodb:UpdateItem\","
	    "\"dynamodb:Describe*\"],\"Resource\":[\"" T "/T%04d\",\"" T
	    "/T%04d/index/*\"],\"Condition\":{\"StringEquals\":{"
	    "\"aws:SourceVpce\":\"vpce-0abc1234def567890\"},"
	    "\"ForAllValues:StringEquals\":{\"dynamodb:Attributes\":[\"Id\","
	    "\"Title\",\"Price\"]}}}", i, i, i);
}

static struct policy *
build(int ntables)
{
	struct buf b = { NULL, 0, 0 };
	struct policy *p;
	char err[512];
	int i;

	put(&b, "{\"Version\":\"2012-10-17\",\"Statement\":[");
	common_statements(&b);
	for (i = 0; i < ntables; i++)
		table_statement(&b, i);
	put(&b, "]}");
	p = policy_load_limited(b.s, b.len, SIZE_MAX / 8, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "load: %s\n", err);
		exit(1);
	}
	printf("policy: %zu statements, %zu characters\n",
	    policy_statement_count(p), b.len);
	free(b.s);
	return p;
}

static const char *const acct[] = { "111122223333" };
static const char *const vpce[] = { "vpce-0abc1234def567890" };
static const char *const tls[] = { "true" };
static const char *const attrs[] = { "Id", "Title" };
static const char *const now[] = { "2026-03-01T12:00:00Z" };
static const char *const ip[] = { "10.1.2.3" };

static const struct policy_key keys[] = {
	{ "aws:PrincipalAccount", acct, 1 },
	{ "aws:SourceVpce", vpce, 1 },
	{ "aws:SecureTransport", tls, 1 },
	{ "aws:CurrentTime", now, 1 },
	{ "aws:VpcSourceIp", ip, 1 },
	{ "dynamodb:Attributes", attrs, 2 },
};

/* A mix like a service's traffic: item reads and writes on tables all
 * over the policy, an index query, a listing, a refused drop. */
static void
requests(struct policy_request *r, char res[][96], int ntables)
{
	static const char *const actions[NREQ] = {
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
		"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ListTables",
		"dynamodb:DeleteTable", "dynamodb:Scan",
	};
	int i, t;

	for (i = 0; i < NREQ; i++) {
		t = (i * 7919 + 13) % ntables;
		if (i == 2)
			snprintf(res[i], 96, T "/T%04d/index/ByTitle", t);
		else if (i == 5)
			snprintf(res[i], 96, "*");
		else
			snprintf(res[i], 96, T "/T%04d", t);
		r[i].principal = "arn:aws:iam::111122223333:user/alice";
		r[i].action = actions[i];
		r[i].resource = res[i];
		r[i].keys = keys;
		r[i].nkeys = sizeof(keys) / sizeof(keys[0]);
	}
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
run(int ntables, long iters)
{
	struct policy_request r[NREQ];
	struct policy_result res;
	char rbuf[NREQ][96];
	struct policy *p = build(ntables);
	int counts[3] = { 0, 0, 0 };
	double t0, t1;
	long i;

	requests(r, rbuf, ntables);
	for (i = 0; i < NREQ; i++) {
		policy_evaluate(p, &r[i], &res);
		counts[res.decision]++;
	}
	printf("  decisions per round: %d allow, %d implicit deny, "
	    "%d explicit deny\n", counts[POLICY_ALLOW],
	    counts[POLICY_DENY_IMPLICIT], counts[POLICY_DENY_EXPLICIT]);
	t0 = now_ns();
	for (i = 0; i < iters; i++)
		policy_evaluate(p, &r[i % NREQ], &res);
	t1 = now_ns();
	printf("  %.0f ns per decision (%ld decisions)\n", (t1 - t0) / iters,
	    iters);
	policy_free(p);
}

int
main(void)
{
	run(6, 4000000);	/* 4 common + 6 tables = 10 statements */
	run(996, 400000);	/* 4 common + 996 tables = 1000 statements */
	return 0;
}
