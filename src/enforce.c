/*
 * enforce — see enforce.h. The denial messages follow the IAM wording
 * SDK users already know (spec 2.3, 2.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "daxproto.h"
#include "enforce.h"
#include "http1.h"
#include "policy.h"
#include "replay.h"
#include "snapshot.h"

#define ACCESS_DENIED "com.amazon.coral.service#AccessDeniedException"
#define SIGNATURE_WINDOW (15 * 60) /* seconds a SigV4 signature lives */

static const char *
event_source(enum endpoint_service s)
{
	switch (s) {
	case SERVICE_DYNAMODB:
		return "dynamodb.amazonaws.com";
	case SERVICE_STREAMS:
		return "streams.dynamodb.amazonaws.com";
	case SERVICE_DAX:
	case SERVICE_DAX_CLUSTER:
		return "dax.amazonaws.com";
	}
	return "-";
}

/* GET / is the endpoints' health check (spec 1.1): no API call, no data. */
static bool
is_health_check(const struct enforce_input *in)
{
	const struct http1_request *h = in->head;

	return h->method_len == 3 && memcmp(h->method, "GET", 3) == 0 &&
	    h->target_len == 1 && h->target[0] == '/' && in->body_len == 0;
}

static void
deny(struct verdict *v, const struct conf_endpoint *ep, const char *type,
    const char *message)
{
	snprintf(v->type, sizeof(v->type), "%s", type);
	snprintf(v->message, sizeof(v->message), "%s", message);
	snprintf(v->reason, sizeof(v->reason), "%s", message);
	if (ep->enforcement == ENFORCEMENT_REPORT) {
		v->decision = "would-deny";
		v->forward = true;
	} else {
		v->decision = "deny";
		v->forward = false;
	}
}

static void
note_statement(struct verdict *v, const struct policy_result *res)
{
	if (res->sid != NULL)
		snprintf(v->statement, sizeof(v->statement), "%s", res->sid);
	else if (res->statement >= 0)
		snprintf(v->statement, sizeof(v->statement), "#%d",
		    res->statement);
}

/* The IAM wording (spec 2.3): who, what, on which resource, and why. */
static void
deny_by_policy(struct verdict *v, const struct conf_endpoint *ep,
    const struct classify_authz *a, const struct policy_result *res)
{
	const struct classify_result *c = &v->cls;
	char msg[1024], on[600] = "";

	if (strcmp(a->resource, "*") != 0)
		snprintf(on, sizeof(on), " on resource: %s", a->resource);
	for (size_t k = 0; k < a->nkeys; k++)	/* DAX: the cluster's table */
		if (strcmp(a->keys[k].name, "ddbgate:TableName") == 0 &&
		    a->keys[k].nvalues == 1) {
			size_t n = strlen(on);

			snprintf(on + n, sizeof(on) - n, " (table %s)",
			    a->keys[k].values[0]);
		}
	if (res->decision == POLICY_DENY_EXPLICIT)
		snprintf(msg, sizeof(msg), "User: %s is not authorized to "
		    "perform: %s%s with an explicit deny in a VPC endpoint "
		    "policy", c->principal ? c->principal : c->access_key_id,
		    a->action, on);
	else
		snprintf(msg, sizeof(msg), "User: %s is not authorized to "
		    "perform: %s%s because no VPC endpoint policy allows the "
		    "%s action", c->principal ? c->principal :
		    c->access_key_id, a->action, on, a->action);
	note_statement(v, res);
	deny(v, ep, ACCESS_DENIED, msg);
}

/*
 * A key the classifier could not derive with certainty is not guessed:
 * if the policy looks at it, the request is refused (fail closed).
 */
bool
enforce_underivable(const struct policy *p, const struct classify_authz *a,
    char *why, size_t len)
{
	if (a->leading_keys_unknown &&
	    policy_uses_key(p, "dynamodb:LeadingKeys")) {
		snprintf(why, len, "the endpoint policy uses "
		    "dynamodb:LeadingKeys but it cannot be derived for %s on "
		    "%s (is the table's key schema configured under tables?)",
		    a->action, a->resource);
		return true;
	}
	for (size_t k = 0; k < a->nunknown_keys; k++)
		if (policy_uses_key(p, a->unknown_keys[k])) {
			snprintf(why, len, "the endpoint policy uses %s but it "
			    "cannot be derived with certainty for %s on %s",
			    a->unknown_keys[k], a->action, a->resource);
			return true;
		}
	return false;
}

bool
enforce_account_unknowable(const struct policy *p,
    const struct classify_result *c, char *why, size_t len)
{
	if (!c->account_unknown || !policy_names_account(p))
		return false;
	snprintf(why, len, "the request names a table without its account, "
	    "and the endpoint policy's resources name accounts: configure "
	    "account or principals");
	return true;
}

/* Evaluates every pair; the first one not allowed decides. */
static void
evaluate(const struct snapshot *snap, size_t endpoint, struct verdict *v)
{
	const struct conf_endpoint *ep = &snap->cfg->endpoints[endpoint];
	const struct policy *p = snap->policies[endpoint];
	const struct classify_result *c = &v->cls;
	struct policy_key keys[128];

	char why[700];

	if (enforce_account_unknowable(p, c, why, sizeof(why))) {
		deny(v, ep, ACCESS_DENIED, why);
		return;
	}
	for (size_t i = 0; i < c->nauthz; i++) {
		const struct classify_authz *a = &c->authz[i];
		struct policy_request req;
		struct policy_result res;

		if (c->nkeys + a->nkeys > sizeof(keys) / sizeof(keys[0])) {
			deny(v, ep, ACCESS_DENIED, "the request has more "
			    "condition keys than the gateway evaluates");
			return;
		}
		if (enforce_underivable(p, a, why, sizeof(why))) {
			deny(v, ep, ACCESS_DENIED, why);
			return;
		}
		classify_policy_request(c, i, keys, &req);
		policy_evaluate(p, &req, &res);
		if (res.decision != POLICY_ALLOW) {
			deny_by_policy(v, ep, a, &res);
			return;
		}
		if (i == 0)
			note_statement(v, &res);
	}
}

static void
check_replay(const struct enforce_input *in, struct verdict *v)
{
	const struct conf_endpoint *ep = &in->snap->cfg->endpoints[in->endpoint];

	if (in->replay == NULL || v->cls.signature == NULL)
		return;
	v->replay = replay_seen(in->replay, v->cls.signature,
	    v->cls.request_time + SIGNATURE_WINDOW, in->now);
	if (v->replay && ep->deny_replays)
		deny(v, ep, ACCESS_DENIED, "replayed request: this signature "
		    "was already used (deny_replays is on for this endpoint)");
}

/* The (action, resource) lists of the audit line, in the classification's
 * own arena: they live exactly as long as the strings they point to. */
static void
list_pairs(struct verdict *v)
{
	size_t n = v->cls.nauthz ? v->cls.nauthz : 1;

	v->actions = arena_alloc(v->cls.arena, n * sizeof(*v->actions));
	v->resources = arena_alloc(v->cls.arena, n * sizeof(*v->resources));
	if (v->actions == NULL || v->resources == NULL) {
		v->actions = NULL;	/* the audit line goes without them */
		v->resources = NULL;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		v->actions[i] = v->cls.authz[i].action;
		v->resources[i] = v->cls.authz[i].resource;
	}
}

void
enforce_request(const struct enforce_input *in, struct verdict *v)
{
	const struct config *cfg = in->snap->cfg;
	const struct conf_endpoint *ep = &cfg->endpoints[in->endpoint];
	struct classify_input ci = {
		.service = ep->service,
		.cfg = cfg,
		.endpoint = ep,
		.client = in->client,
		.secure_transport = true,
		.now = in->now,
		.headers = in->head->headers,
		.nheaders = in->head->nheaders,
		.body = in->body,
		.body_len = in->body_len,
		.target = in->head->target,
		.target_len = in->head->target_len,
	};
	struct classify_refusal why;

	memset(v, 0, sizeof(*v));
	v->service = ep->service;
	v->decision = "allow";
	v->forward = true;
	if (is_health_check(in)) {
		v->decision = "health";
		return;
	}
	memset(&why, 0, sizeof(why));
	if (classify_request(&ci, &v->cls, &why) != CLASSIFY_OK) {
		deny(v, ep, why.type, why.message);
		if (why.has_clock_skew && strstr(why.type,
		    "InvalidSignature") != NULL)
			snprintf(v->reason, sizeof(v->reason), "%s (client clock "
			    "skew %+lld s)", why.message, why.clock_skew_s);
		return;
	}
	v->classified = true;
	list_pairs(v);
	check_replay(in, v);
	if (strcmp(v->decision, "allow") == 0)
		evaluate(in->snap, in->endpoint, v);
}

void
enforce_dax(const struct enforce_dax_input *in, struct verdict *v)
{
	const struct config *cfg = in->snap->cfg;
	const struct conf_endpoint *ep = &cfg->endpoints[in->endpoint];
	const struct dax_request *r = in->req;
	const char *actions[DAX_MAX_PAIRS], *tables[DAX_MAX_PAIRS];
	struct classify_dax_input ci = {
		.cfg = cfg,
		.endpoint = ep,
		.client = in->client,
		.secure_transport = in->secure_transport,
		.now = in->now,
		.access_key_id = in->access_key_id,
		.region = in->region,
		.operation = r->method->name,
		.enclosing = r->enclosing,
		.actions = actions,
		.tables = tables,
		.npairs = r->npairs,
	};
	struct classify_refusal why;

	memset(v, 0, sizeof(*v));
	v->service = ep->service;
	v->decision = "allow";
	v->forward = true;
	for (size_t i = 0; i < r->npairs; i++) {
		actions[i] = r->pairs[i].action;
		tables[i] = dax_pair_table(r, i);
	}
	if (classify_dax(&ci, &v->cls, &why) != CLASSIFY_OK) {
		deny(v, ep, why.type, why.message);
		return;
	}
	v->classified = true;
	list_pairs(v);
	if (r->refused) {
		deny(v, ep, ACCESS_DENIED, r->refusal);
		return;
	}
	if (in->access_key_id[0] == '\0') {
		deny(v, ep, ACCESS_DENIED, "the connection has not sent "
		    "authorizeConnection: no identity to decide on");
		return;
	}
	evaluate(in->snap, in->endpoint, v);
}

void
verdict_free(struct verdict *v)
{
	if (v->classified)
		classify_result_free(&v->cls); /* with actions and resources */
	if (v->decision == NULL)
		return; /* never filled */
	memset(v, 0, sizeof(*v));
}

void
verdict_audit(const struct verdict *v, struct audit_record *r)
{
	if (v->classified) {
		r->access_key_id = v->cls.access_key_id;
		r->principal = v->cls.principal;
		r->event_name = v->cls.operation;
		if (v->actions != NULL && v->resources != NULL) {
			r->actions = v->actions;
			r->resources = v->resources;
			r->nresources = v->cls.nauthz;
		}
	}
	r->event_source = event_source(v->service);
	if (v->decision != NULL)
		r->decision = v->decision;
	if (v->reason[0] != '\0')
		r->reason = v->reason;
	r->statement = v->statement[0] ? v->statement : NULL;
	r->replay = v->replay;
}
