/*
 * http1 — strict HTTP/1.1 message head parser and chunked-body scanner
 * (RFC 9110, RFC 9112). Pure: no I/O, no allocation, no logging.
 *
 * The parser reads a message head out of a caller-owned buffer and
 * returns pointers into that buffer; it never modifies it. It is
 * restartable: call it again with the same buffer grown by new bytes
 * until it answers HTTP1_OK or HTTP1_ERROR. Everything that could be read
 * two ways by two implementations is an error, never a guess: bare CR or
 * LF, obs-fold, whitespace before a colon, control characters,
 * Content-Length repeated or together with Transfer-Encoding, a request
 * Transfer-Encoding (refused: see docs/http1.md), a missing or repeated
 * Host in HTTP/1.1.
 */
#ifndef DDBGATE_HTTP1_H
#define DDBGATE_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEADERS 100

enum http1_status {
	HTTP1_OK,	/* a complete head (or chunked body) was read */
	HTTP1_AGAIN,	/* need more bytes; nothing is wrong so far */
	HTTP1_ERROR,	/* malformed or ambiguous; see enum http1_error */
};

enum http1_error {
	HTTP1_E_NONE,
	HTTP1_E_LINE_ENDING,	  /* bare CR or bare LF */
	HTTP1_E_REQUEST_LINE,	  /* not "method SP target SP version" */
	HTTP1_E_METHOD,		  /* method is not a token */
	HTTP1_E_TARGET,		  /* target has forbidden characters */
	HTTP1_E_VERSION,	  /* not HTTP/1.0 or HTTP/1.1 */
	HTTP1_E_STATUS_LINE,	  /* not "version SP 3DIGIT SP reason" */
	HTTP1_E_HEADER_NAME,	  /* empty, non-token, or space before ':' */
	HTTP1_E_HEADER_VALUE,	  /* control character in a value */
	HTTP1_E_OBS_FOLD,	  /* a line continued with SP/HTAB */
	HTTP1_E_HEAD_TOO_LARGE,	  /* head longer than max_head */
	HTTP1_E_TOO_MANY_HEADERS, /* more than HTTP1_MAX_HEADERS fields */
	HTTP1_E_CONTENT_LENGTH,	  /* not 1*DIGIT, or overflows */
	HTTP1_E_CL_REPEATED,	  /* more than one Content-Length field */
	HTTP1_E_CL_AND_TE,	  /* Content-Length and Transfer-Encoding */
	HTTP1_E_TE_REQUEST,	  /* a request with Transfer-Encoding */
	HTTP1_E_TE_UNSUPPORTED,	  /* response coding not ending in chunked */
	HTTP1_E_HOST_MISSING,	  /* HTTP/1.1 request without Host */
	HTTP1_E_HOST_REPEATED,	  /* more than one Host field */
	HTTP1_E_EXPECT,		  /* Expect other than 100-continue */
	HTTP1_E_UPGRADE,	  /* a 101 Switching Protocols response */
	HTTP1_E_CHUNK,		  /* malformed chunk size, extension or CRLF */
};

/* The target forms of RFC 9112 section 3.2. */
enum http1_target_form {
	HTTP1_TARGET_ORIGIN,	/* "/path?query" */
	HTTP1_TARGET_ABSOLUTE,	/* "scheme://authority/path" */
	HTTP1_TARGET_AUTHORITY, /* "host:port" (CONNECT) */
	HTTP1_TARGET_ASTERISK,	/* "*" (OPTIONS) */
};

/* How the body of a message is delimited (RFC 9112 section 6.3). */
enum http1_body {
	HTTP1_BODY_NONE,    /* no body at all */
	HTTP1_BODY_LENGTH,  /* content_length bytes */
	HTTP1_BODY_CHUNKED, /* chunked; scan with http1_chunked_scan() */
	HTTP1_BODY_CLOSE,   /* until the connection closes (responses only) */
};

/* One field line. Both strings point into the parsed buffer. */
struct http1_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing OWS removed */
	size_t value_len;
};

struct http1_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	enum http1_target_form target_form;
	int minor_version; /* 0 or 1 */
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t nheaders;
	size_t head_len;	 /* request line + fields + final CRLF */
	enum http1_body body;	 /* NONE or LENGTH for requests */
	uint64_t content_length; /* valid when body == HTTP1_BODY_LENGTH */
	bool keep_alive;	 /* the client allows another request after */
	bool expect_continue;	 /* "Expect: 100-continue" was sent */
	const char *host;	 /* the one Host value; NULL in HTTP/1.0 without */
	size_t host_len;
};

struct http1_response {
	int status;
	int minor_version;
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t nheaders;
	size_t head_len;
	enum http1_body body;
	uint64_t content_length; /* valid when body == HTTP1_BODY_LENGTH */
	bool keep_alive;	 /* the server allows another request after */
};

/* State of a chunked body being scanned (never decoded: bytes pass as they are). */
struct http1_chunked {
	int state;
	uint64_t remaining; /* bytes of chunk data still to come */
	size_t line_len;    /* bytes of the current size/trailer line */
	size_t trailer_len; /* bytes of trailer section so far */
};

/*
 * Parses a request head from buf[0..len). Returns HTTP1_OK and fills *req
 * when the whole head is present (req->head_len bytes), HTTP1_AGAIN when
 * more bytes are needed (and len < max_head), or HTTP1_ERROR with *err set.
 * A head longer than max_head bytes is HTTP1_E_HEAD_TOO_LARGE.
 * Pointers in *req stay valid as long as buf does.
 */
enum http1_status http1_parse_request(const char *buf, size_t len,
    size_t max_head, struct http1_request *req, enum http1_error *err);

/*
 * Parses a response head. request_was_head tells that the request was
 * HEAD, so the response has no body whatever its fields say. 1xx
 * responses other than 101 parse as complete heads with body NONE: the
 * caller skips them and parses again after head_len bytes.
 */
enum http1_status http1_parse_response(const char *buf, size_t len,
    size_t max_head, bool request_was_head, struct http1_response *resp,
    enum http1_error *err);

void http1_chunked_init(struct http1_chunked *ch);

/*
 * Scans the next len bytes of a chunked body. *consumed is set to the
 * number of bytes that belong to the body. Returns HTTP1_OK when the body
 * (last chunk, trailers and final CRLF) ended within those bytes,
 * HTTP1_AGAIN when all len bytes were consumed and more are needed, and
 * HTTP1_ERROR with *err set when the framing is malformed. Trailer
 * sections longer than max_trailer bytes are HTTP1_E_HEAD_TOO_LARGE.
 */
enum http1_status http1_chunked_scan(struct http1_chunked *ch,
    const char *buf, size_t len, size_t max_trailer, size_t *consumed,
    enum http1_error *err);

/* Finds the first field named name (ASCII case-insensitive); NULL if none. */
const struct http1_header *http1_header_find(const struct http1_header *h,
    size_t n, const char *name);

/* How many fields are named name. */
size_t http1_header_count(const struct http1_header *h, size_t n,
    const char *name);

/* A short English description for logs and error bodies. */
const char *http1_error_str(enum http1_error err);

/*
 * The status code a server answers with for a request error:
 * 400, 411 (HTTP1_E_TE_REQUEST), 417 (HTTP1_E_EXPECT) or 431.
 */
int http1_error_status(enum http1_error err);

#endif
