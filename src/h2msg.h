/*
 * h2msg — the translation between one HTTP/2 stream and HTTP/1.1, both
 * ways, with no I/O of its own (h2.c drives it; tests/fuzz/fuzz_h2
 * feeds it directly).
 *
 * Requests: the fields of a HEADERS block, one at a time, are checked
 * (RFC 9113 section 8.2 and 8.3, and stricter: see h2.h) and collected;
 * once the DATA is whole, an HTTP/1.1 head is written: request line,
 * Host from :authority, the fields, Content-Length of the DATA received
 * (keep-alive, so the upstream connection goes back to the pool; the
 * codec ends the stream session once the response is whole).
 *
 * Responses: an HTTP/1.1 response, read with the strict http1 parser, is
 * turned into a :status and lower-case fields without the connection-
 * specific ones, and its body (Content-Length, chunked or until close)
 * into plain data bytes.
 */
#ifndef DDBGATE_H2MSG_H
#define DDBGATE_H2MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "http1.h"

struct evbuffer;

/*
 * The connection settings ddbgate announces and the nghttp2 options it
 * sets, shared by src/h2.c and the fuzz target so they cannot drift:
 * h2msg_settings fills H2MSG_NSETTINGS entries of iv; the connection
 * window (H2MSG_CONN_WINDOW) is set with
 * nghttp2_session_set_local_window_size.
 */
#define H2MSG_NSETTINGS 4
#define H2MSG_WINDOW (256 * 1024) /* initial stream window */
#define H2MSG_CONN_WINDOW (1 << 20)

size_t h2msg_settings(unsigned max_streams, unsigned max_header_bytes,
    nghttp2_settings_entry *iv);
void h2msg_options(nghttp2_option *opt);

#define H2MSG_MAX_FIELDS 96 /* leaves room for Host, Content-Length and
			       Connection under HTTP1_MAX_HEADERS */

enum {
	H2MSG_OK = 0,
	H2MSG_BAD = -1,	      /* malformed: reset the stream */
	H2MSG_TOO_LARGE = -2, /* the header list is over its limit: 431 */
};

struct h2msg_request {
	size_t max_bytes; /* header list size limit (RFC 9113 6.5.2 sizes) */
	size_t bytes;
	char method[32];
	char scheme[8];
	char authority[256];
	char host[256];
	char *path;	  /* malloc'd */
	bool regular_seen; /* a regular field came: no pseudo-field after */
	bool have_host;
	int64_t content_length; /* -1: none sent */
	char *fields;	  /* "name: value\r\n" lines; malloc'd */
	size_t fields_len, fields_cap;
	size_t nfields;
	uint64_t body_len; /* set by h2msg_request_finish */
};

void h2msg_request_init(struct h2msg_request *r, size_t max_bytes);
void h2msg_request_clear(struct h2msg_request *r);

/* One field of the request's HEADERS, in order. H2MSG_OK, or H2MSG_BAD
 * with *err set (a static string), or H2MSG_TOO_LARGE. */
int h2msg_request_field(struct h2msg_request *r, const char *name,
    size_t namelen, const char *value, size_t valuelen, const char **err);

/* The DATA is whole (body_len bytes): the checks that need every field. */
int h2msg_request_finish(struct h2msg_request *r, uint64_t body_len,
    const char **err);

/* The HTTP/1.1 head (after a successful finish) as a malloc'd string of
 * *len bytes; NULL when out of memory. The body follows it unchanged. */
char *h2msg_request_head(const struct h2msg_request *r, size_t *len);

struct h2msg_field {
	size_t name, namelen, value, valuelen; /* offsets into head */
};

struct h2msg_response {
	size_t max_head;
	bool is_head;	/* the request was HEAD: no body */
	bool head_done;	/* :status and fields are known */
	bool done;	/* the whole body was read */
	int status;
	char status_str[4];
	char *head;	/* the final head, names lower-cased; malloc'd */
	struct h2msg_field fields[HTTP1_MAX_HEADERS];
	size_t nfields;
	enum http1_body body;
	uint64_t remaining; /* Content-Length or chunk bytes still to come */
	int chunk_state;
	size_t line_len;    /* bytes of the current chunk-size/trailer line */
};

void h2msg_response_init(struct h2msg_response *r, size_t max_head);
void h2msg_response_clear(struct h2msg_response *r);

/*
 * Consumes the HTTP/1.1 response bytes in `in` (eof: no more will come):
 * fills the head once it is whole, moves body bytes, de-chunked, to
 * `data`. 0, or -1 with *err when the response is malformed or longer
 * than its framing. A response cut short is not an error here: done
 * stays false.
 */
int h2msg_response_feed(struct h2msg_response *r, struct evbuffer *in,
    struct evbuffer *data, bool eof, const char **err);

/* The HEADERS fields of a head_done response; returns how many (<= max).
 * The strings point into r and stay valid while r does. */
size_t h2msg_response_nv(const struct h2msg_response *r, nghttp2_nv *nva,
    size_t max);

#endif
