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
};

/* One authorization the request needs: every one must be allowed. */
struct classify_authz {
	const char *action;	/* "dynamodb:PutItem" */
	const char *resource;	/* an ARN, or "*" */
	const struct policy_key *keys; /* keys of this pair only (LeadingKeys,
					  Attributes, EnclosingOperation ...) */
	size_t nkeys;
};

struct classify_result {
	enum endpoint_service service;
	const char *operation;		/* "PutItem" */
	const char *access_key_id;	/* from the SigV4 credential */
	const char *principal;		/* ARN from `principals`, or NULL */
	const char *region;		/* SigV4 credential-scope region */
	const char *signature;		/* hex signature (replay detection) */
	time_t request_time;		/* X-Amz-Date (or Date) */
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
 * "...#UnknownOperationException", and
 * "com.amazon.coral.service#AccessDeniedException" for everything the
 * gateway refuses because it cannot read the request with certainty.
 * message never contains item data.
 */
struct classify_refusal {
	char type[96];
	char message[512];
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
 * Builds the policy_request for out->authz[i]: the pair's own keys and
 * the request-wide keys together. keys must have room for
 * out->nkeys + out->authz[i].nkeys entries.
 */
void classify_policy_request(const struct classify_result *out, size_t i,
    struct policy_key *keys, struct policy_request *req);

#endif
