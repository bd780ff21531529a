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
#include <stddef.h>
#include <time.h>

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

struct logbuf;
struct logline;

/*
 * The record as one JSON object and '\n', at most cap bytes written at
 * buf; returns the length the line needs (more than cap: it did not
 * fit). Members in this order, those whose value is NULL left out:
 * eventTime (now, to the second, UTC), sourceIPAddress, accessKeyId,
 * principal, eventSource, eventName, resources (always; [{action,
 * ARN}]), decision, reason, decidingStatement, enforcement, endpoint,
 * upstreamAddress, status, latencyMs (three decimals), replay (only when
 * true), proxyUser, then for a tunnel tunnelHost, bytesIn, bytesOut.
 */
size_t audit_format(char *buf, size_t cap, const struct audit_record *r,
    const struct timespec *now);

/* Appends s as a JSON string (see audit.c for invalid UTF-8). */
void audit_json_string(struct logline *l, const char *s);

/* Appends one line for r to lb; nothing when lb is NULL (audit off). */
void audit_write(struct logbuf *lb, const struct audit_record *r);

#endif
