/*
 * libFuzzer target for policy_load_buffer: any input either loads into a
 * policy or fails with a message "path: reason". Loaded policies answer a
 * fixed set of requests (with the promises of policy_result kept, and
 * the same answer whatever the case of the action name), are linted into
 * /dev/null, then freed, so leaks and stray reads anywhere show up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define FUZZ_MAX_INPUT	(20480 * 4 + 16)
#define T		"arn:aws:dynamodb:us-east-1:111122223333:table"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const one[] = { "111122223333" };
static const char *const vpce[] = { "vpce-0abc1234def567890" };
static const char *const yes[] = { "true" };
static const char *const user[] = { "alice" };
static const char *const attrs[] = { "Id", "Title", "SSN" };
static const char *const now[] = { "2026-03-01T12:00:00Z" };
static const char *const epoch[] = { "1772366400" };
static const char *const ip[] = { "10.1.2.3" };
static const char *const ip6[] = { "2001:db8::1" };
static const char *const parn[] = { "arn:aws:iam::111122223333:user/alice" };
static const char *const tags[] = { "red", "blue" };

static const struct policy_key keys_full[] = {
	{ "aws:PrincipalAccount", one, 1 },
	{ "aws:SourceVpce", vpce, 1 },
	{ "aws:SecureTransport", yes, 1 },
	{ "aws:username", user, 1 },
	{ "dynamodb:Attributes", attrs, 3 },
	{ "dynamodb:LeadingKeys", NULL, 0 },
	{ "aws:CurrentTime", now, 1 },
	{ "aws:EpochTime", epoch, 1 },
	{ "aws:VpcSourceIp", ip, 1 },
	{ "aws:PrincipalArn", parn, 1 },
	{ "aws:PrincipalTag/team", tags, 2 },
	{ "test:Key", ip6, 1 },
};

static const struct policy_key keys_few[] = {
	{ "AWS:PRINCIPALACCOUNT", one, 1 },
	{ "aws:sourceip", ip6, 1 },
};

static const struct policy_request requests[] = {
	{ "arn:aws:iam::111122223333:user/alice", "dynamodb:GetItem",
	  T "/Books", keys_full, 12 },
	{ "arn:aws:sts::111122223333:assumed-role/App/s1", "dynamodb:Query",
	  T "/Books/index/ByAuthor", keys_few, 2 },
	{ NULL, "dynamodb:ListTables", "*", NULL, 0 },
	{ "arn:aws:iam::111122223333:root", "dax:CreateCluster",
	  "arn:aws:dax:us-east-1:111122223333:cache/C", keys_full, 12 },
	{ "arn:aws:iam::111122223333:user/alice", "dynamodb:GetRecords",
	  T "/Forum/stream/2015-05-20T20:51:10.252", keys_few, 2 },
	{ "x", "s3", "not-an-arn", keys_full, 12 },
	{ "arn:aws:iam::111122223333:user/alice", NULL, NULL, NULL, 0 },
};

/* The same request with the action name in upper case. */
static void
check_case(const struct policy *p, const struct policy_request *req,
    const struct policy_result *res)
{
	struct policy_request up = *req;
	struct policy_result r2;
	char action[128];
	size_t i;

	if (req->action == NULL || strlen(req->action) >= sizeof(action))
		return;
	for (i = 0; req->action[i] != '\0'; i++)
		action[i] = (char)(req->action[i] >= 'a' &&
		    req->action[i] <= 'z' ? req->action[i] - 32 :
		    req->action[i]);
	action[i] = '\0';
	up.action = action;
	policy_evaluate(p, &up, &r2);
	CHECK(r2.decision == res->decision && r2.statement == res->statement);
}

static void
check_policy(const struct policy *p)
{
	static FILE *null;
	struct policy_result res;
	size_t i, n = policy_statement_count(p);

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		policy_evaluate(p, &requests[i], &res);
		CHECK((res.decision == POLICY_DENY_IMPLICIT) ==
		    (res.statement == -1));
		CHECK(res.statement < (int)n);
		CHECK(res.statement >= 0 || res.sid == NULL);
		CHECK(strcmp(policy_decision_name(res.decision), "unknown"));
		check_case(p, &requests[i], &res);
	}
	if (null == NULL)
		null = fopen("/dev/null", "w");
	if (null != NULL)
		CHECK(policy_lint(p, null) >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p;
	char err[512];

	if (size > FUZZ_MAX_INPUT)
		return 0;
	p = policy_load_buffer((const char *)data, size, err, sizeof(err));
	if (p == NULL) {
		CHECK(err[0] != '\0' && strstr(err, ": ") != NULL);
		return 0;
	}
	check_policy(p);
	policy_free(p);
	return 0;
}
