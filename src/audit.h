/*
 * audit — one JSON line per request, shaped after CloudTrail records:
 * who (source address, access key, principal), what (service, operation,
 * every resource), the decision with its deciding statement, where it
 * went and how it ended. Never an attribute value, a key value or any
 * other item data: only names the classifier derived from the request.
 */
#ifndef DDBGATE_AUDIT_H
#define DDBGATE_AUDIT_H

#include <stdint.h>
#include <stdio.h>

struct audit_record {
	const char *source;		/* client "ip:port" */
	const char *access_key_id;	/* may be NULL */
	const char *principal;		/* may be NULL */
	const char *event_source;	/* "dynamodb.amazonaws.com", ... */
	const char *event_name;		/* operation, e.g. "PutItem" */
	const char *const *actions;	/* one per resource below */
	const char *const *resources;
	size_t nresources;
	const char *decision;		/* "allow", "deny", "would-deny" */
	const char *reason;		/* why, for a denial or refusal */
	const char *statement;		/* deciding statement: Sid or "#N" */
	const char *enforcement;	/* "enforce" or "report" */
	const char *endpoint;
	const char *upstream;		/* "ip:port", or NULL */
	int status;
	uint64_t latency_us;
	int replay;			/* the same signature seen before */
	const char *tunnel_host;	/* opaque tunnel: the CONNECT host */
	const char *user;		/* proxy user, or NULL */
	uint64_t bytes_in;		/* tunnel: client to upstream */
	uint64_t bytes_out;		/* tunnel: upstream to client */
};

/* Opens path: "-" = stdout, "off" = NULL with errno 0. */
FILE *audit_open(const char *path);

/* Writes one JSON line; returns 0, or -1 if it could not be formatted. */
int audit_write(FILE *f, const struct audit_record *r);

#endif
