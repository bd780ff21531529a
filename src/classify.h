/*
 * classify — what a DynamoDB, Streams or DAX management request asks to
 * do, read from the request alone: the service, the operation, every
 * (IAM action, resource ARN) pair it needs, and its condition keys
 * (spec sections 4 and 6). Pure: no I/O, no clock (the caller passes the
 * time), no logging; shared by the proxy and `ddbgate policy eval
 * --request`.
 *
 * Fail closed: whatever cannot be read with certainty (an unknown or
 * repeated X-Amz-Target, a missing or malformed SigV4 Authorization, a
 * body that is not strict JSON — duplicate keys at any depth, trailing
 * data, invalid UTF-8 — a wrong type for a field the decision depends on,
 * a PartiQL statement that cannot be parsed, LeadingKeys for a table
 * without a configured key schema) is CLASSIFY_REFUSE with the reason.
 */
#ifndef DDBGATE_CLASSIFY_H
#define DDBGATE_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "http1.h"
#include "policy.h"

struct classify_input {
	enum endpoint_service service;	   /* of the endpoint the request came to */
	const struct config *cfg;	   /* region, account, principals, tables */
	const struct conf_endpoint *endpoint; /* source_vpce, ... */
	const struct sockaddr *client;	   /* for aws:SourceIp; may be NULL */
	bool secure_transport;		   /* aws:SecureTransport */
	time_t now;			   /* aws:CurrentTime, aws:EpochTime */
	const struct http1_header *headers;
	size_t nheaders;
	const char *body;
	size_t body_len;
	const char *target;		   /* request-target, to refuse a query
					      string (presigned requests);
					      NULL: not checked */
	size_t target_len;
};

/* One authorization the request needs: every one must be allowed. */
struct classify_authz {
	const char *action;	/* "dynamodb:PutItem" */
	const char *resource;	/* an ARN, or "*" */
	const struct policy_key *keys; /* keys of this pair only (LeadingKeys,
					  Attributes, EnclosingOperation ...) */
	size_t nkeys;
	/*
	 * Keys that apply to this pair but could not be derived with
	 * certainty, so they are not in keys: the caller must refuse the
	 * request when the policy refers to one of them. leading_keys_unknown
	 * says the same for "dynamodb:LeadingKeys" alone (a table without a
	 * configured key schema, an index query, a PartiQL statement).
	 */
	bool leading_keys_unknown;
	const char *const *unknown_keys; /* "dynamodb:Attributes", ... */
	size_t nunknown_keys;
};

struct classify_result {
	enum endpoint_service service;
	const char *operation;		/* "PutItem" */
	const char *access_key_id;	/* from the SigV4 credential */
	const char *principal;		/* ARN from `principals`, or NULL */
	const char *region;		/* SigV4 credential-scope region */
	const char *signature;		/* hex signature (replay detection) */
	time_t request_time;		/* X-Amz-Date (or Date) */
	bool account_unknown;		/* a table/cluster was named without
					   an ARN and neither `account` nor
					   the principal gives its account:
					   those ARNs have an empty account
					   segment */
	const struct classify_authz *authz;
	size_t nauthz;
	const struct policy_key *keys;	/* request-wide keys (aws:...) */
	size_t nkeys;
	void *arena;			/* owns every string above */
};

enum classify_status {
	CLASSIFY_OK,
	CLASSIFY_REFUSE, /* fail closed; see struct classify_refusal */
};

/*
 * Why a request was refused, in the words DynamoDB itself would use
 * (spec 2.1 and 2.3): type is the full __type, e.g.
 * "com.amazon.coral.service#InvalidSignatureException" for an X-Amz-Date
 * outside the 15-minute window, "...#MissingAuthenticationTokenException",
 * "...#IncompleteSignatureException", "...#SerializationException",
 * "...#UnknownOperationException", "...#UnrecognizedClientException"
 * (an access key id that is not 16-128 of A-Z, 0-9), and
 * "com.amazon.coral.service#AccessDeniedException" for everything the
 * gateway refuses because it cannot read the request with certainty.
 * "com.amazon.coral.service#InternalFailure" means memory ran out: the
 * request was not refused for what it is (answer 500). message never
 * contains item data. docs/classify.md lists every refusal.
 */
struct classify_refusal {
	char type[96];
	char message[512];
	bool has_clock_skew;	  /* the request's date was read */
	long long clock_skew_s;	  /* request date minus the gateway's now */
};

/*
 * Classifies one request. On CLASSIFY_OK the caller owns *out and frees
 * it with classify_result_free(); on CLASSIFY_REFUSE, *out holds nothing
 * to free and *why says why.
 */
enum classify_status classify_request(const struct classify_input *in,
    struct classify_result *out, struct classify_refusal *why);

void classify_result_free(struct classify_result *out);

/*
 * A DAX data-plane request (daxproto.h has read it): one (action, table)
 * pair per table it touches, each on the cluster's ARN with the table
 * as ddbgate:TableName and, inside a transaction, dax:EnclosingOperation.
 * The identity is the access key id of the connection's latest
 * authorizeConnection ("" before one). Item keys and attribute names
 * are not decoded: a policy that uses dynamodb:LeadingKeys,
 * dynamodb:Attributes and the like refuses the request.
 */
struct classify_dax_input {
	const struct config *cfg;
	const struct conf_endpoint *endpoint;	/* a dax-cluster endpoint */
	const struct sockaddr *client;
	bool secure_transport;
	time_t now;
	const char *access_key_id;	/* "" when none */
	const char *region;		/* its credential scope's; "" = cfg's */
	const char *operation;		/* "GetItem" (static) */
	const char *enclosing;		/* "TransactWriteItems" or NULL */
	const char *const *actions;	/* "dax:GetItem" (static) */
	const char *const *tables;
	size_t npairs;
};

enum classify_status classify_dax(const struct classify_dax_input *in,
    struct classify_result *out, struct classify_refusal *why);

/*
 * The i-th operation classify knows for service (spec tables 4.1-4.3),
 * in table order, or NULL past the last: for lint and tests.
 */
const char *classify_operation_name(enum endpoint_service service,
    size_t i);

/*
 * Builds the policy_request for out->authz[i]: the pair's own keys and
 * the request-wide keys together. keys must have room for
 * out->nkeys + out->authz[i].nkeys entries.
 */
void classify_policy_request(const struct classify_result *out, size_t i,
    struct policy_key *keys, struct policy_request *req);

#endif
