/*
 * h2 — the HTTP/2 codec of one client connection (RFC 9113, nghttp2 on
 * the server side).
 *
 * Each stream's request is checked field by field and, once whole,
 * written as HTTP/1.1 bytes into a stream session of its own
 * (session_new_stream) through a bufferevent pair: the same strict
 * HTTP/1 parser, classify → policy → route → upstream path, errors, audit
 * and access log as any HTTP/1.1 request, concurrently and mapped onto
 * the endpoint's upstream keep-alive pool. The stream session's HTTP/1.1
 * response is read back from the pair, checked, and framed as HEADERS
 * and DATA for that stream alone.
 *
 * Refused before a stream session sees it (RST_STREAM PROTOCOL_ERROR):
 * CR, LF, NUL or other control characters in names or values, upper-case
 * or non-token names, connection-specific fields (Connection, Keep-Alive,
 * Proxy-Connection, Transfer-Encoding, Upgrade, TE other than
 * "trailers"), pseudo-header fields unknown, repeated, late or missing,
 * a missing :authority, a Host that disagrees with :authority, a
 * Content-Length that is malformed or disagrees with the DATA received,
 * a :scheme other than https, a :path not in origin form. An :authority
 * that is not the TLS name is passed on and answered 421 there.
 *
 * Bounded: SETTINGS_MAX_CONCURRENT_STREAMS (limits.
 * h2_max_concurrent_streams), the header list (limits.max_header_bytes,
 * else 431), each body (limits.max_body_bytes, else 413), request bodies
 * held at once per connection (twice limits.max_body_bytes, else
 * REFUSED_STREAM), response data per stream (read from the pair only
 * while less than 64 KiB waits for the client's flow-control window).
 */
#ifndef DDBGATE_H2_H
#define DDBGATE_H2_H

#include <stdint.h>

struct bufferevent;
struct event_base;
struct h2_conn;
struct session;

struct h2_params {
	struct event_base *base;
	struct bufferevent *down; /* the client's TLS; owned by the session */
	const char *tag;	  /* "session W.N client C host H", for logs */
	unsigned max_streams;
	unsigned max_header_bytes;
	uint64_t max_body_bytes;
	unsigned idle_timeout_s;    /* no stream open this long: GOAWAY */
	unsigned request_timeout_s; /* a stream's request must be whole */
};

/*
 * Takes over the connection's I/O (the session forwards its bufferevent
 * callbacks) and sends the server preface. NULL when out of memory.
 */
struct h2_conn *h2_conn_new(struct session *parent,
    const struct h2_params *p);

/* Ends every stream (their sessions see the client leave) and frees. */
void h2_conn_free(struct h2_conn *c);

/*
 * The client sent bytes / the output drained below the low watermark.
 * Return 0, or -1 when the connection must end once its output (a
 * GOAWAY) is flushed; h2_conn_why() says why.
 */
int h2_conn_read(struct h2_conn *c);
int h2_conn_write(struct h2_conn *c);

/* Draining: GOAWAY with the last stream taken; streams in flight finish,
 * then the connection ends (session_h2_end). */
void h2_conn_drain(struct h2_conn *c);

const char *h2_conn_why(const struct h2_conn *c);

/* Streams open now (for logs and drain). */
unsigned h2_conn_streams(const struct h2_conn *c);

#endif
