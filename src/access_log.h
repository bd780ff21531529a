/*
 * access_log — one line per request: who, which endpoint and operation,
 * the outcome and where it went. Never a header value other than
 * X-Amz-Target, never a byte of a body.
 */
#ifndef DDBGATE_ACCESS_LOG_H
#define DDBGATE_ACCESS_LOG_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

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

struct logbuf;

/*
 * The record as one logfmt line and '\n' ("time=... client=... endpoint=
 * host= target= status= request_bytes= response_bytes= latency_ms=
 * upstream= reused= [error=] [h2_stream=]"), now as the time, at most
 * cap bytes written at buf; returns the length the line needs (more
 * than cap: it did not fit). endpoint, host and target are quoted when
 * needed, so a hostile X-Amz-Target cannot forge fields or lines.
 */
size_t access_log_format(char *buf, size_t cap, const struct access_record *r,
    const struct timespec *now);

/* Appends one line for r to lb; nothing when lb is NULL (log off). */
void access_log_write(struct logbuf *lb, const struct access_record *r);

#endif
