/*
 * proxy_error — the answers ddbgate itself gives: DynamoDB-shaped JSON
 * error bodies with a status SDKs act on correctly, and an RFC 9209
 * Proxy-Status field naming the failed step.
 *
 * Statuses are chosen for SDK retry behaviour (spec 2.3): client
 * mistakes get 4xx, which no SDK retries; upstream failures get 502 or
 * 504, which every SDK retries a bounded number of times (a retry may
 * reach another address or a recovered resolver); local overload gets
 * 503. docs/errors.md lists every kind.
 */
#ifndef DDBGATE_PROXY_ERROR_H
#define DDBGATE_PROXY_ERROR_H

#include <stddef.h>

/* A buffer this large always holds a formatted error of a message up to
 * 1023 bytes (each byte escapes to at most 6). */
#define PROXY_ERROR_MAX 8192

enum proxy_error_kind {
	/* the client's request */
	PE_BAD_REQUEST,
	PE_METHOD_NOT_ALLOWED,
	PE_REQUEST_TIMEOUT,
	PE_LENGTH_REQUIRED,
	PE_BODY_TOO_LARGE,
	PE_MISDIRECTED,
	PE_HEADERS_TOO_LARGE,
	PE_EXPECTATION_FAILED,
	PE_FORBIDDEN,	   /* CONNECT to a host this gateway does not serve */
	PE_PROXY_AUTH,	   /* 407, with Proxy-Authenticate: Basic */
	/* the gateway */
	PE_INTERNAL,
	PE_OVERLOADED,
	/* the way upstream, in path order */
	PE_DNS_ERROR,
	PE_DNS_TIMEOUT,
	PE_DESTINATION_PROHIBITED,
	PE_CONNECTION_REFUSED,
	PE_CONNECTION_TIMEOUT,
	PE_DESTINATION_UNAVAILABLE,
	PE_TLS_PROTOCOL,
	PE_TLS_CERTIFICATE,
	PE_CONNECTION_TERMINATED,
	PE_RESPONSE_TIMEOUT,
	PE_UPSTREAM_PROTOCOL,
	PE_KIND_COUNT
};

/* HTTP status code answered for kind. */
int proxy_error_status(enum proxy_error_kind kind);

/* The error name after "ddbgate#" in __type, e.g. "TlsCertificateError". */
const char *proxy_error_name(enum proxy_error_kind kind);

/* The RFC 9209 error type, e.g. "tls_certificate_error". */
const char *proxy_error_type(enum proxy_error_kind kind);

/*
 * Writes a complete HTTP/1.1 response into buf: status line, Content-Type
 * application/x-amz-json-1.0, x-amzn-RequestId (request_id), Proxy-Status,
 * Content-Length, "Connection: close" when close is set, and the body
 * {"__type":"ddbgate#Name","message":"..."} with message JSON-escaped.
 * Returns the length written, or 0 if buf is too small (PROXY_ERROR_MAX
 * bytes always suffice for messages under 1024 bytes).
 */
size_t proxy_error_format(char *buf, size_t buflen,
    enum proxy_error_kind kind, const char *message, const char *request_id,
    int close);

/*
 * Writes a 400 answer in DynamoDB's own words, for what the service
 * itself would refuse the same way: type is the full __type (e.g.
 * "com.amazon.coral.service#AccessDeniedException"), the message goes in
 * "Message" as front-end errors have it (spec 2.3/2.4), content_type is
 * the service's JSON version (application/x-amz-json-1.0, or 1.1 for
 * DAX). SDKs surface these and do not retry them. Returns the length,
 * or 0 if buf is too small.
 */
size_t proxy_error_format_aws(char *buf, size_t buflen, const char *type,
    const char *message, const char *content_type, const char *request_id,
    int close);

/* Appends message to dst as JSON string content (no quotes); returns
 * bytes written, or 0 if it does not fit. Control characters and
 * non-ASCII bytes are escaped as \u00XX so the body is always ASCII. */
size_t proxy_error_json_escape(char *dst, size_t dstlen, const char *message);

#endif
