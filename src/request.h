/*
 * request — one request as the stages after the codec see it: where its
 * exact HTTP/1.1 bytes are, how long they are, and the few facts the
 * session needs to route, relay and log it. The HTTP/1 codec (session.c)
 * fills it from the client's byte stream, where the bytes already are
 * what goes upstream; an HTTP/2 codec fills the same struct per stream
 * with the HTTP/1.1 bytes it writes for that stream. Nothing after the
 * codec looks at the client's wire format.
 */
#ifndef DDBGATE_REQUEST_H
#define DDBGATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct evbuffer;

struct request {
	struct evbuffer *wire;	/* the request's bytes are at its front;
				   owner: the codec (HTTP/1: the client
				   bufferevent's input) */
	size_t wire_len;	/* bytes of this request still in wire:
				   head_len + body_len until sent, then 0 */
	size_t head_len;
	uint64_t body_len;
	bool keep_alive;	/* the client allows another request after */
	/*
	 * The client's one "Connection: close" field line, dropped when the
	 * request goes upstream so the upstream connection stays reusable
	 * (the field is hop-by-hop, RFC 9110 7.6.1): its offset in the head
	 * and its length with the CRLF; 0 = forward the head as it is.
	 */
	size_t close_line_off;
	size_t close_line_len;
	bool is_head;		/* a HEAD request: the response has no body */
	char target[128];	/* X-Amz-Target (for the log only), or "" */
	struct timespec start;	/* first byte seen (CLOCK_MONOTONIC) */
};

#endif
