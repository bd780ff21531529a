/*
 * sigv4 — reads the AWS Signature Version 4 parts of a request that the
 * gateway can check without the secret key (spec section 3): the
 * Authorization header grammar of 3.1, the request time from X-Amz-Date
 * (or Date), the credential scope and the 15-minute window. The
 * signature itself is AWS's to verify. Pure: no I/O, no allocation, no
 * logging, no clock (the caller passes the time).
 *
 * Refusals carry the __type DynamoDB itself answers with (spec 2.1) and a
 * message in its words; messages never repeat the signature or bytes
 * that are not printable ASCII.
 */
#ifndef DDBGATE_SIGV4_H
#define DDBGATE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "http1.h"

#define SIGV4_KEY_ID_MIN 16
#define SIGV4_KEY_ID_MAX 128
#define SIGV4_SCOPE_PART_MAX 32		/* region, service */
#define SIGV4_SIGNATURE_LEN 64
#define SIGV4_WINDOW_S (15 * 60)	/* accepted clock difference */
#define SIGV4_TIME_LEN 16		/* "20261124T020500Z" */
#define SIGV4_MESSAGE_MAX 320

enum sigv4_status {
	SIGV4_OK,
	SIGV4_MISSING,		/* MissingAuthenticationTokenException */
	SIGV4_INCOMPLETE,	/* IncompleteSignatureException */
	SIGV4_INVALID,		/* InvalidSignatureException */
	SIGV4_UNRECOGNIZED,	/* UnrecognizedClientException: the access
				   key id is not 16-128 of A-Z, 0-9 */
	SIGV4_DENIED,		/* AccessDeniedException: a header the gateway
				   cannot read with certainty (repeated) */
};

/*
 * The parts of
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 */
struct sigv4_auth {
	char access_key_id[SIGV4_KEY_ID_MAX + 1];
	char date[9];				/* scope date, yyyymmdd */
	char region[SIGV4_SCOPE_PART_MAX + 1];
	char service[SIGV4_SCOPE_PART_MAX + 1];
	const char *signed_headers;	/* into the header value: "host;x-amz-date" */
	size_t signed_headers_len;
	char signature[SIGV4_SIGNATURE_LEN + 1];	/* lowercase hex */
};

/* A request's SigV4 facts once every check has passed. */
struct sigv4_request {
	struct sigv4_auth auth;
	time_t time;			/* X-Amz-Date, else Date */
	bool from_date_header;		/* the time came from Date */
};

/*
 * Parses an Authorization header value (spec 3.1). Returns SIGV4_OK with
 * *out filled (signed_headers points into value), or the status with a
 * message in msg: SIGV4_MISSING when the value does not start with
 * "AWS4-", SIGV4_INCOMPLETE for an algorithm other than
 * AWS4-HMAC-SHA256, a missing, repeated, unknown or malformed parameter,
 * a credential that is not five slash-separated parts or has upper case
 * in its scope, SIGV4_INVALID for a region or service that is not a
 * lower-case word or a wrong scope terminator, SIGV4_UNRECOGNIZED for
 * an access key id that is not 16 to 128 characters of A-Z and 0-9.
 */
enum sigv4_status sigv4_parse_authorization(const char *value, size_t len,
    struct sigv4_auth *out, char *msg, size_t msglen);

/*
 * Parses "YYYYMMDDTHHMMSSZ" (UTC, a real calendar time). Returns 0 and
 * sets *out, or -1.
 */
int sigv4_parse_amz_date(const char *s, size_t len, time_t *out);

/*
 * Parses an RFC 1123 date, "Sun, 06 Nov 1994 08:49:37 GMT", whose
 * weekday must be that of the date. Returns 0 and sets *out, or -1.
 */
int sigv4_parse_http_date(const char *s, size_t len, time_t *out);

/* Writes t as "YYYYMMDDTHHMMSSZ" into buf (at least 17 bytes). */
void sigv4_format_time(time_t t, char *buf);

/*
 * Checks that t lies within SIGV4_WINDOW_S of now, both ways. Returns
 * SIGV4_OK, or SIGV4_INVALID with AWS's "Signature expired: ..." or
 * "Signature not yet current: ..." message in msg.
 */
enum sigv4_status sigv4_check_window(time_t t, time_t now, char *msg,
    size_t msglen);

/* Whether header name (any case) is in the auth's SignedHeaders. */
bool sigv4_signs(const struct sigv4_auth *auth, const char *name);

/*
 * Everything the gateway checks about a request's signature, in the
 * order DynamoDB does (spec 2.1): exactly one Authorization header
 * (absent: SIGV4_MISSING), its grammar, a request time from exactly one
 * X-Amz-Date (or, only when that is absent, exactly one Date), the
 * 15-minute window around now, host, every x-amz-* header present and a
 * Date used for the time among the signed headers (spec 3.2), and the
 * scope date equal to the request date. Service and region are the
 * caller's to check against its endpoint. Returns SIGV4_OK with *out
 * filled (pointing into the headers), or a status and message.
 */
enum sigv4_status sigv4_check_request(const struct http1_header *h,
    size_t n, time_t now, struct sigv4_request *out, char *msg,
    size_t msglen);

/*
 * The full __type of a status, e.g.
 * "com.amazon.coral.service#InvalidSignatureException".
 */
const char *sigv4_status_type(enum sigv4_status status);

#endif
