/*
 * enforce — the policy stage of the request path: classify the request,
 * check it against replays, evaluate every (action, resource) pair it
 * needs against its endpoint's policy, and say whether it goes upstream
 * and, if not, what the client is told. The HTTP side (session.c) only
 * acts on the verdict; the audit line is built from it.
 */
#ifndef DDBGATE_ENFORCE_H
#define DDBGATE_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "audit.h"
#include "classify.h"

struct http1_request;
struct policy;
struct replay_cache;
struct snapshot;

struct enforce_input {
	const struct snapshot *snap;
	size_t endpoint;		/* index into snap->cfg->endpoints */
	const struct sockaddr *client;
	const struct http1_request *head; /* parsed head of the request */
	const char *body;
	size_t body_len;
	time_t now;
	struct replay_cache *replay;	/* may be NULL: no replay check */
};

struct verdict {
	enum endpoint_service service;
	bool forward;		/* send the request upstream */
	const char *decision;	/* "allow", "deny", "would-deny", "health" */
	char type[96];		/* when !forward: the __type answered */
	char message[1024];	/* when !forward: the message answered */
	char reason[768];	/* for the audit line, when not allowed */
	char statement[96];	/* deciding statement (Sid or "#N"), or "" */
	bool replay;		/* this signature was seen before */
	bool classified;	/* cls holds a result (free with verdict_free) */
	struct classify_result cls;
	const char **actions;	/* one per authz, for the audit line */
	const char **resources;
};

/* Decides on one request; *v is filled whatever the outcome. */
void enforce_request(const struct enforce_input *in, struct verdict *v);

/*
 * The same decision for a DAX data-plane request (spec 7.7 b): every
 * (action, table) pair of req on the cluster's ARN, the identity from
 * the connection's latest authorizeConnection. A request the framer
 * could read but not decide on (req->refused), or one on a connection
 * that never authenticated, is denied. No replay check: DAX signatures
 * cover no request (spec 7.3).
 */
struct dax_request;

struct enforce_dax_input {
	const struct snapshot *snap;
	size_t endpoint;
	const struct sockaddr *client;
	bool secure_transport;
	time_t now;
	const struct dax_request *req;
	const char *access_key_id;	/* "" when none */
	const char *region;		/* "" when unknown */
};

void enforce_dax(const struct enforce_dax_input *in, struct verdict *v);

void verdict_free(struct verdict *v);

/*
 * The two fail-closed checks before a pair is evaluated (shared with
 * `ddbgate policy eval --request`): a key the policy uses that could not
 * be derived for pair a, and a table named without its account when the
 * policy's decision depends on accounts. Each returns true (refuse) with
 * the reason in why.
 */
bool enforce_underivable(const struct policy *p,
    const struct classify_authz *a, char *why, size_t len);
bool enforce_account_unknowable(const struct policy *p,
    const struct classify_result *c, char *why, size_t len);

/* Fills the who/what/decision fields of an audit record from v. */
void verdict_audit(const struct verdict *v, struct audit_record *r);

#endif
