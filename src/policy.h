/*
 * policy — IAM policy documents (the VPC-endpoint-policy subset of the IAM
 * JSON policy language, spec section 5): load, validate, compile once,
 * evaluate many times. Pure: no I/O except reading the file in
 * policy_load_file, no logging, no clock.
 *
 * Evaluation is the endpoint-policy gate of spec 5.8: an explicit Deny
 * wins, otherwise a matching Allow allows, otherwise the request is
 * implicitly denied. The result names the deciding statement.
 */
#ifndef DDBGATE_POLICY_H
#define DDBGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct policy;

/*
 * One condition key of the request context. nvalues == 0 means the key
 * is present with an empty set (distinct from absent: absent keys are
 * simply not in the list). Names compare case-insensitively.
 */
struct policy_key {
	const char *name;		/* e.g. "aws:SourceIp", "dynamodb:LeadingKeys" */
	const char *const *values;	/* as strings, whatever the key's type */
	size_t nvalues;
};

/* One authorization question: may principal do action on resource? */
struct policy_request {
	const char *principal;	/* caller ARN ("arn:aws:iam::A:user/N"), or NULL
				   when unknown (matches only Principal "*") */
	const char *action;	/* "dynamodb:GetItem" */
	const char *resource;	/* an ARN, or "*" for actions without one */
	const struct policy_key *keys;
	size_t nkeys;
};

enum policy_decision {
	POLICY_ALLOW,
	POLICY_DENY_IMPLICIT,	/* no statement allowed it */
	POLICY_DENY_EXPLICIT,	/* a Deny statement matched */
};

struct policy_result {
	enum policy_decision decision;
	int statement;		/* index of the deciding statement, -1 if none */
	const char *sid;	/* its Sid (owned by the policy), or NULL */
};

/*
 * Parses and compiles a policy document. Returns NULL with a message in
 * err that names the JSON path of the problem, e.g.
 * "Statement[2].Condition.StringEquals: duplicate key". Duplicate keys at
 * any depth, unknown elements, unknown operators, invalid values and
 * documents over 20480 characters are errors.
 */
struct policy *policy_load_buffer(const char *buf, size_t len, char *err,
    size_t errlen);

/* Same, from a file; err is prefixed with the path. */
struct policy *policy_load_file(const char *path, char *err, size_t errlen);

/* The default endpoint policy: Allow * on * for Principal *. */
struct policy *policy_allow_all(void);

void policy_free(struct policy *p);

/* Evaluates one request. Thread-safe: the policy is never written. */
void policy_evaluate(const struct policy *p, const struct policy_request *req,
    struct policy_result *res);

/*
 * Whether a Condition of p names key, or a policy variable of p (in a
 * Resource or a condition value) refers to it; names compare
 * case-insensitively. The proxy refuses a request when a key it could
 * not derive is one p uses.
 */
bool policy_uses_key(const struct policy *p, const char *key);

/*
 * Whether p's decision can depend on the account in a resource ARN: a
 * Resource or NotResource ARN whose account segment is not just "*", or
 * a condition on aws:ResourceAccount. When the gateway does not know a
 * table's account it refuses the request only if this is true.
 */
bool policy_names_account(const struct policy *p);

/* Whether a condition or variable of p names a key starting with prefix
 * (case-insensitive), e.g. "aws:ResourceTag/". */
bool policy_uses_key_prefix(const struct policy *p, const char *prefix);

/* Number of statements (for `ddbgate check` and lint). */
size_t policy_statement_count(const struct policy *p);

const char *policy_decision_name(enum policy_decision d);

/*
 * Writes one line per finding to out ("Statement[1].Action[0]: unknown
 * DynamoDB action \"dynamodb:GetItems\"") and returns how many there
 * were: actions no DynamoDB, Streams or DAX request uses, condition keys
 * no request carries, statements that can never match, wildcards broader
 * than they look, and the endpoint-policy rules of spec 5.7. Findings do
 * not change evaluation; a policy with findings still loads.
 */
int policy_lint(const struct policy *p, FILE *out);

#endif
