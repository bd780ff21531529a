/*
 * access_log — one line per request: who, which endpoint and operation,
 * the outcome and where it went. Never a header value other than
 * X-Amz-Target, never a byte of a body.
 */
#ifndef DDBGATE_ACCESS_LOG_H
#define DDBGATE_ACCESS_LOG_H

#include <stdint.h>
#include <stdio.h>

struct access_record {
	const char *client;	/* "10.1.2.3:50432" */
	const char *endpoint;	/* endpoint name, or "-" */
	const char *host;	/* the name the client asked for */
	const char *target;	/* X-Amz-Target, or "-" */
	int status;
	uint64_t request_bytes;	/* head + body received */
	uint64_t response_bytes; /* head + body sent */
	uint64_t latency_us;
	const char *upstream;	/* "1.2.3.4:443", or "-" */
	const char *error;	/* Proxy-Status error type, or NULL */
	int reused;		/* upstream connection came from the pool */
	int32_t h2_stream;	/* HTTP/2: the stream id; 0 for HTTP/1.1 */
};

/* Opens the access log path: "-" = stdout, "off" = NULL. Returns the
 * stream, or NULL with errno set (for "off", errno is 0). */
FILE *access_log_open(const char *path);

/* Writes one line (logfmt: key=value, values quoted when needed). */
void access_log_write(FILE *f, const struct access_record *r);

#endif
