/*
 * http1 — strict HTTP/1.1 message head parser and chunked-body scanner.
 *
 * RFC 9112: section 2.2 (CRLF only, no whitespace before the first field),
 * 3 (request line, target forms), 4 (status line), 5 (field lines, no
 * obs-fold, no space before ':'), 6.1-6.3 (Transfer-Encoding,
 * Content-Length, body length), 7.1 (chunked coding, extensions,
 * trailers). RFC 9110: 5.5 (field values), 5.6 (tokens, lists,
 * quoted-string), 7.2 (Host), 7.6.1 (Connection), 10.1.1 (Expect).
 *
 * The head is read in one forward pass. Every decision depends only on the
 * bytes before the one being looked at, so a head fed in pieces fails with
 * the same error, at the same byte, as the whole head at once. Errors that
 * need the whole head (a missing Host, a request Transfer-Encoding) are
 * reported when the final CRLF arrives. See docs/http1.md.
 */
#include <string.h>

#include "http1.h"

#define CHUNK_LINE_MAX 1024 /* bytes of a chunk-size line before CRLF */

/*
 * Byte classes: C_T token char (RFC 9110 section 5.6.2), C_V field-value
 * byte (HTAB, SP, VCHAR, obs-text), C_R request-target byte (VCHAR).
 */
#define C_T 1
#define C_V 2
#define C_R 4

/* Table shorthand: T token char, R other VCHAR, V SP/HTAB/obs-text. */
#define T (C_T | C_V | C_R)
#define R (C_V | C_R)
#define V C_V

static const unsigned char char_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, V, 0, 0, 0, 0, 0, 0, /* 0x00, HTAB */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	V, T, R, T, T, T, T, T, R, R, T, T, R, T, T, R, /* SP !"#$%&'()*+,-./ */
	T, T, T, T, T, T, T, T, T, T, R, R, R, R, R, R, /* 0-9 :;<=>? */
	R, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, /* @ A-O */
	T, T, T, T, T, T, T, T, T, T, T, R, R, R, T, T, /* P-Z [\]^_ */
	T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, /* ` a-o */
	T, T, T, T, T, T, T, T, T, T, T, R, T, R, T, 0, /* p-z {|}~ DEL */
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, /* 0x80-0xff */
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
	V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V,
};

#undef T
#undef R
#undef V

/* The part of the buffer being read: at most max_head bytes. */
struct cursor {
	const char *buf;
	size_t pos;
	size_t end;  /* min(len, max_head) */
	bool capped; /* end is max_head: running out means "too large" */
};

/* What the framing fields said so far (RFC 9112 section 6). */
struct framing {
	bool request;
	bool has_cl;
	uint64_t content_length;
	bool te;		    /* any Transfer-Encoding field */
	bool te_bad;		    /* an empty or non-token transfer-coding */
	unsigned nchunked;	    /* "chunked" codings over all fields */
	bool last_chunked;	    /* the last coding so far is "chunked" */
	bool conn_close;
	bool conn_keep_alive;
	const struct http1_header *host;
	bool expect;
	bool expect_continue;
};

enum field_kind {
	FIELD_OTHER,
	FIELD_CONTENT_LENGTH,
	FIELD_TRANSFER_ENCODING,
	FIELD_HOST,
	FIELD_CONNECTION,
	FIELD_EXPECT,
};

/* Chunked scanner states; a failed scan stores -(error) instead. */
enum chunk_state {
	CH_SIZE_FIRST,	   /* first hex digit of a chunk-size line */
	CH_SIZE,	   /* more digits, ';' or CR */
	CH_EXT_NAME_FIRST, /* after ';' */
	CH_EXT_NAME,
	CH_EXT_VALUE_FIRST, /* after '=' */
	CH_EXT_TOKEN,
	CH_EXT_QUOTED,
	CH_EXT_QUOTED_PAIR, /* after a backslash in a quoted-string */
	CH_EXT_QUOTED_END,  /* after the closing quote */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START, /* start of a trailer line or the final CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_FINAL_LF,
	CH_DONE,
};

static bool
is_tchar(unsigned char c)
{
	return (char_class[c] & C_T) != 0;
}

static bool
is_value_char(unsigned char c)
{
	return (char_class[c] & C_V) != 0;
}

static bool
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_line_end(unsigned char c)
{
	return c == '\r' || c == '\n';
}

static unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Whether s[0..n) equals the NUL-terminated lower, ignoring ASCII case. */
static bool
equals_nocase(const char *s, size_t n, const char *lower)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lower[i] == '\0' ||
		    ascii_lower((unsigned char)s[i]) !=
		    ascii_lower((unsigned char)lower[i]))
			return false;
	}
	return lower[n] == '\0';
}

static bool
all_tchar(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_tchar((unsigned char)s[i]))
			return false;
	}
	return n > 0;
}

static enum http1_status
fail(enum http1_error *err, enum http1_error e)
{
	*err = e;
	return HTTP1_ERROR;
}

/* The bytes ran out: wait for more, unless max_head bytes are here. */
static enum http1_status
need_more(const struct cursor *c, enum http1_error *err)
{
	if (c->capped)
		return fail(err, HTTP1_E_HEAD_TOO_LARGE);
	return HTTP1_AGAIN;
}

static unsigned char
peek(const struct cursor *c)
{
	return (unsigned char)c->buf[c->pos];
}

/* Advances over bytes of the given classes. */
static void
skip_class(struct cursor *c, unsigned char mask)
{
	while (c->pos < c->end && (char_class[peek(c)] & mask))
		c->pos++;
}

/* At a CR or LF: steps over a CRLF; a bare CR or LF is an error. */
static enum http1_status
eat_crlf(struct cursor *c, enum http1_error *err)
{
	if (peek(c) == '\n')
		return fail(err, HTTP1_E_LINE_ENDING);
	if (c->pos + 1 >= c->end)
		return need_more(c, err);
	if (c->buf[c->pos + 1] != '\n')
		return fail(err, HTTP1_E_LINE_ENDING);
	c->pos += 2;
	return HTTP1_OK;
}

/*
 * At a CR or LF where the line must not end yet: a bare CR or LF is still
 * a line-ending error; a proper CRLF means the line is short, error e.
 */
static enum http1_status
early_end(struct cursor *c, enum http1_error e, enum http1_error *err)
{
	enum http1_status st;

	if ((st = eat_crlf(c, err)) != HTTP1_OK)
		return st;
	return fail(err, e);
}

/*
 * Reads one space-terminated element of a start line made of bytes of
 * class mask: the method or the target. bad is the error for a byte
 * outside the class; a missing element or line end is REQUEST_LINE.
 */
static enum http1_status
parse_element(struct cursor *c, unsigned char mask, enum http1_error bad,
    const char **p, size_t *n, enum http1_error *err)
{
	size_t start = c->pos;
	unsigned char ch;

	skip_class(c, mask);
	if (c->pos == c->end)
		return need_more(c, err);
	ch = peek(c);
	if (is_line_end(ch))
		return early_end(c, HTTP1_E_REQUEST_LINE, err);
	if (ch != ' ')
		return fail(err, bad);
	if (c->pos == start)
		return fail(err, HTTP1_E_REQUEST_LINE);
	*p = c->buf + start;
	*n = c->pos - start;
	c->pos++;
	return HTTP1_OK;
}

/*
 * Reads "HTTP/1.0" or "HTTP/1.1" (case-sensitive, RFC 9112 section 2.3).
 * short_err is the error for a line that ends inside the version.
 */
static enum http1_status
parse_version(struct cursor *c, int *minor, enum http1_error short_err,
    enum http1_error *err)
{
	static const char prefix[] = "HTTP/1.";
	size_t i;
	unsigned char ch;

	for (i = 0; i < sizeof(prefix); i++) {
		if (c->pos == c->end)
			return need_more(c, err);
		ch = peek(c);
		if (i < sizeof(prefix) - 1 ? ch == (unsigned char)prefix[i] :
		    ch == '0' || ch == '1') {
			c->pos++;
			continue;
		}
		if (is_line_end(ch))
			return early_end(c, short_err, err);
		return fail(err, HTTP1_E_VERSION);
	}
	*minor = c->buf[c->pos - 1] - '0';
	return HTTP1_OK;
}

/* Whether s[0..n) is a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static bool
is_scheme(const char *s, size_t n)
{
	size_t i;
	unsigned char ch;

	if (n == 0 || !(ascii_lower((unsigned char)s[0]) >= 'a' &&
	    ascii_lower((unsigned char)s[0]) <= 'z'))
		return false;
	for (i = 1; i < n; i++) {
		ch = ascii_lower((unsigned char)s[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '+' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/* Sorts the target into one of the forms of RFC 9112 section 3.2. */
static enum http1_error
classify_target(struct http1_request *req)
{
	const char *t = req->target, *slash;
	size_t n = req->target_len;

	if (t[0] == '/') {
		req->target_form = HTTP1_TARGET_ORIGIN;
		return HTTP1_E_NONE;
	}
	if (n == 1 && t[0] == '*') {
		req->target_form = HTTP1_TARGET_ASTERISK;
		return HTTP1_E_NONE;
	}
	/* Absolute when the first '/' is the first of "://". */
	slash = memchr(t, '/', n);
	if (slash == NULL || slash == t || slash[-1] != ':' ||
	    (size_t)(slash - t) + 1 >= n || slash[1] != '/') {
		req->target_form = HTTP1_TARGET_AUTHORITY;
		return HTTP1_E_NONE;
	}
	if (!is_scheme(t, (size_t)(slash - t) - 1))
		return HTTP1_E_TARGET;
	req->target_form = HTTP1_TARGET_ABSOLUTE;
	return HTTP1_E_NONE;
}

/* The request line: method SP request-target SP HTTP-version CRLF. */
static enum http1_status
parse_request_line(struct cursor *c, struct http1_request *req,
    enum http1_error *err)
{
	enum http1_status st;
	enum http1_error e;

	st = parse_element(c, C_T, HTTP1_E_METHOD, &req->method,
	    &req->method_len, err);
	if (st != HTTP1_OK)
		return st;
	st = parse_element(c, C_R, HTTP1_E_TARGET, &req->target,
	    &req->target_len, err);
	if (st != HTTP1_OK)
		return st;
	if ((e = classify_target(req)) != HTTP1_E_NONE)
		return fail(err, e);
	st = parse_version(c, &req->minor_version, HTTP1_E_VERSION, err);
	if (st != HTTP1_OK)
		return st;
	if (c->pos == c->end)
		return need_more(c, err);
	if (is_line_end(peek(c)))
		return eat_crlf(c, err);
	return fail(err, peek(c) == ' ' ? HTTP1_E_REQUEST_LINE :
	    HTTP1_E_VERSION);
}

/* The three digits of a status code, 100 to 599. */
static enum http1_status
parse_status_code(struct cursor *c, int *status, enum http1_error *err)
{
	int i;
	unsigned char ch;

	*status = 0;
	for (i = 0; i < 3; i++) {
		if (c->pos == c->end)
			return need_more(c, err);
		ch = peek(c);
		if (ch < '0' || ch > '9') {
			if (is_line_end(ch))
				return early_end(c, HTTP1_E_STATUS_LINE, err);
			return fail(err, HTTP1_E_STATUS_LINE);
		}
		*status = *status * 10 + (ch - '0');
		c->pos++;
	}
	if (*status < 100 || *status > 599)
		return fail(err, HTTP1_E_STATUS_LINE);
	return HTTP1_OK;
}

/* Expects one SP; anything else is a malformed status line. */
static enum http1_status
eat_status_space(struct cursor *c, enum http1_error *err)
{
	if (c->pos == c->end)
		return need_more(c, err);
	if (is_line_end(peek(c)))
		return early_end(c, HTTP1_E_STATUS_LINE, err);
	if (peek(c) != ' ')
		return fail(err, HTTP1_E_STATUS_LINE);
	c->pos++;
	return HTTP1_OK;
}

/* The status line: HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF. */
static enum http1_status
parse_status_line(struct cursor *c, struct http1_response *resp,
    enum http1_error *err)
{
	enum http1_status st;

	st = parse_version(c, &resp->minor_version, HTTP1_E_STATUS_LINE, err);
	if (st != HTTP1_OK)
		return st;
	if (c->pos < c->end && !is_line_end(peek(c)) && peek(c) != ' ')
		return fail(err, HTTP1_E_VERSION); /* "HTTP/1.10" */
	if ((st = eat_status_space(c, err)) != HTTP1_OK)
		return st;
	if ((st = parse_status_code(c, &resp->status, err)) != HTTP1_OK)
		return st;
	if ((st = eat_status_space(c, err)) != HTTP1_OK)
		return st;
	skip_class(c, C_V);
	if (c->pos == c->end)
		return need_more(c, err);
	if (!is_line_end(peek(c)))
		return fail(err, HTTP1_E_STATUS_LINE);
	if ((st = eat_crlf(c, err)) != HTTP1_OK)
		return st;
	if (resp->status == 101)
		return fail(err, HTTP1_E_UPGRADE);
	return HTTP1_OK;
}

/*
 * One field line: token ":" OWS value OWS CRLF. The caller has checked
 * that the line is not the empty line ending the head.
 */
static enum http1_status
parse_field_line(struct cursor *c, struct http1_header *h,
    enum http1_error *err)
{
	size_t start = c->pos, vstart, vend;
	unsigned char ch;

	if (is_ows(peek(c)))
		return fail(err, HTTP1_E_OBS_FOLD);
	skip_class(c, C_T);
	if (c->pos == c->end)
		return need_more(c, err);
	ch = peek(c);
	if (ch != ':' || c->pos == start) {
		if (is_line_end(ch))
			return early_end(c, HTTP1_E_HEADER_NAME, err);
		return fail(err, HTTP1_E_HEADER_NAME);
	}
	h->name = c->buf + start;
	h->name_len = c->pos - start;
	c->pos++;
	while (c->pos < c->end && is_ows(peek(c)))
		c->pos++;
	vstart = c->pos;
	skip_class(c, C_V);
	if (c->pos == c->end)
		return need_more(c, err);
	if (!is_line_end(peek(c)))
		return fail(err, HTTP1_E_HEADER_VALUE);
	vend = c->pos;
	while (vend > vstart && is_ows((unsigned char)c->buf[vend - 1]))
		vend--;
	h->value = c->buf + vstart;
	h->value_len = vend - vstart;
	return eat_crlf(c, err);
}

static enum field_kind
field_kind(const struct http1_header *h)
{
	switch (h->name_len) {
	case 4:
		if (equals_nocase(h->name, 4, "host"))
			return FIELD_HOST;
		break;
	case 6:
		if (equals_nocase(h->name, 6, "expect"))
			return FIELD_EXPECT;
		break;
	case 10:
		if (equals_nocase(h->name, 10, "connection"))
			return FIELD_CONNECTION;
		break;
	case 14:
		if (equals_nocase(h->name, 14, "content-length"))
			return FIELD_CONTENT_LENGTH;
		break;
	case 17:
		if (equals_nocase(h->name, 17, "transfer-encoding"))
			return FIELD_TRANSFER_ENCODING;
		break;
	}
	return FIELD_OTHER;
}

/* A comma-separated list (RFC 9110 section 5.6.1), elements OWS-trimmed. */
struct list_iter {
	const char *p;
	const char *end;
	bool done;
};

static void
list_start(struct list_iter *it, const struct http1_header *h)
{
	it->p = h->value;
	it->end = h->value + h->value_len;
	it->done = false;
}

/* The next element, possibly empty; false after the last one. */
static bool
list_next(struct list_iter *it, const char **elem, size_t *elen)
{
	const char *s = it->p, *e, *comma;

	if (it->done)
		return false;
	comma = memchr(s, ',', (size_t)(it->end - s));
	e = comma != NULL ? comma : it->end;
	while (s < e && is_ows((unsigned char)*s))
		s++;
	while (e > s && is_ows((unsigned char)e[-1]))
		e--;
	*elem = s;
	*elen = (size_t)(e - s);
	if (comma != NULL)
		it->p = comma + 1;
	else
		it->done = true;
	return true;
}

/* Content-Length = 1*DIGIT (RFC 9110 section 8.6), no sign, no list. */
static enum http1_error
parse_content_length(const struct http1_header *h, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	if (h->value_len == 0)
		return HTTP1_E_CONTENT_LENGTH;
	for (i = 0; i < h->value_len; i++) {
		if (h->value[i] < '0' || h->value[i] > '9')
			return HTTP1_E_CONTENT_LENGTH;
		d = (unsigned)(h->value[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return HTTP1_E_CONTENT_LENGTH;
		v = v * 10 + d;
	}
	*out = v;
	return HTTP1_E_NONE;
}

/* Notes the transfer-codings of one Transfer-Encoding field, in order. */
static void
note_transfer_codings(struct framing *f, const struct http1_header *h)
{
	struct list_iter it;
	const char *e;
	size_t n;

	list_start(&it, h);
	while (list_next(&it, &e, &n)) {
		if (!all_tchar(e, n)) {
			f->te_bad = true;
			f->last_chunked = false;
		} else if (equals_nocase(e, n, "chunked")) {
			f->nchunked++;
			f->last_chunked = true;
		} else
			f->last_chunked = false;
	}
}

static void
note_connection(struct framing *f, const struct http1_header *h)
{
	struct list_iter it;
	const char *e;
	size_t n;

	list_start(&it, h);
	while (list_next(&it, &e, &n)) {
		if (equals_nocase(e, n, "close"))
			f->conn_close = true;
		else if (equals_nocase(e, n, "keep-alive"))
			f->conn_keep_alive = true;
	}
}

static enum http1_error
note_content_length(struct framing *f, const struct http1_header *h)
{
	enum http1_error e;

	if (f->has_cl)
		return HTTP1_E_CL_REPEATED;
	if ((e = parse_content_length(h, &f->content_length)) != HTTP1_E_NONE)
		return e;
	f->has_cl = true;
	return f->te ? HTTP1_E_CL_AND_TE : HTTP1_E_NONE;
}

static enum http1_error
note_expect(struct framing *f, const struct http1_header *h)
{
	if (f->expect)
		return HTTP1_E_EXPECT;
	f->expect = true;
	if (!equals_nocase(h->value, h->value_len, "100-continue"))
		return HTTP1_E_EXPECT;
	f->expect_continue = true;
	return HTTP1_E_NONE;
}

/*
 * Takes one field into account as soon as its line ends, so that an error
 * is found at the same byte however the head arrives.
 */
static enum http1_error
framing_add(struct framing *f, const struct http1_header *h)
{
	switch (field_kind(h)) {
	case FIELD_CONTENT_LENGTH:
		return note_content_length(f, h);
	case FIELD_TRANSFER_ENCODING:
		f->te = true;
		note_transfer_codings(f, h);
		return f->has_cl ? HTTP1_E_CL_AND_TE : HTTP1_E_NONE;
	case FIELD_CONNECTION:
		note_connection(f, h);
		return HTTP1_E_NONE;
	case FIELD_HOST:
		if (!f->request)
			return HTTP1_E_NONE;
		if (f->host != NULL)
			return HTTP1_E_HOST_REPEATED;
		f->host = h;
		return HTTP1_E_NONE;
	case FIELD_EXPECT:
		return f->request ? note_expect(f, h) : HTTP1_E_NONE;
	case FIELD_OTHER:
		break;
	}
	return HTTP1_E_NONE;
}

/* Field lines up to and including the empty line that ends the head. */
static enum http1_status
parse_fields(struct cursor *c, struct http1_header *hdrs, size_t *n,
    struct framing *f, enum http1_error *err)
{
	enum http1_status st;
	enum http1_error e;

	*n = 0;
	for (;;) {
		if (c->pos == c->end)
			return need_more(c, err);
		if (is_line_end(peek(c)))
			return eat_crlf(c, err);
		if (*n == HTTP1_MAX_HEADERS)
			return fail(err, HTTP1_E_TOO_MANY_HEADERS);
		if ((st = parse_field_line(c, &hdrs[*n], err)) != HTTP1_OK)
			return st;
		if ((e = framing_add(f, &hdrs[*n])) != HTTP1_E_NONE)
			return fail(err, e);
		(*n)++;
	}
}

static void
cursor_init(struct cursor *c, const char *buf, size_t len, size_t max_head)
{
	c->buf = buf;
	c->pos = 0;
	c->capped = len >= max_head;
	c->end = c->capped ? max_head : len;
}

/* Whether the peer allows another message (RFC 9112 section 9.3). */
static bool
framing_keep_alive(const struct framing *f, int minor_version)
{
	if (f->conn_close)
		return false;
	return minor_version == 1 || f->conn_keep_alive;
}

/* The checks that need the whole request head. */
static enum http1_error
request_finish(struct http1_request *req, const struct framing *f)
{
	if (f->te)
		return HTTP1_E_TE_REQUEST;
	if (f->host == NULL && req->minor_version == 1)
		return HTTP1_E_HOST_MISSING;
	req->host = f->host != NULL ? f->host->value : NULL;
	req->host_len = f->host != NULL ? f->host->value_len : 0;
	req->body = f->has_cl ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	req->content_length = f->has_cl ? f->content_length : 0;
	req->keep_alive = framing_keep_alive(f, req->minor_version);
	/* RFC 9110 section 10.1.1: ignore 100-continue from HTTP/1.0. */
	req->expect_continue = f->expect_continue && req->minor_version == 1;
	return HTTP1_E_NONE;
}

enum http1_status
http1_parse_request(const char *buf, size_t len, size_t max_head,
    struct http1_request *req, enum http1_error *err)
{
	struct cursor c;
	struct framing f;
	enum http1_status st;
	enum http1_error e;

	*err = HTTP1_E_NONE;
	memset(&f, 0, sizeof(f));
	f.request = true;
	cursor_init(&c, buf, len, max_head);
	req->nheaders = 0;
	req->head_len = 0;
	if ((st = parse_request_line(&c, req, err)) != HTTP1_OK)
		return st;
	st = parse_fields(&c, req->headers, &req->nheaders, &f, err);
	if (st != HTTP1_OK)
		return st;
	if ((e = request_finish(req, &f)) != HTTP1_E_NONE)
		return fail(err, e);
	req->head_len = c.pos;
	return HTTP1_OK;
}

/* How a response with a body is delimited (RFC 9112 section 6.3). */
static enum http1_error
response_body(struct http1_response *resp, const struct framing *f)
{
	if (f->te) {
		/* RFC 9112 section 6.1: TE in HTTP/1.0 is faulty framing. */
		if (resp->minor_version == 0 || f->te_bad ||
		    f->nchunked != 1 || !f->last_chunked)
			return HTTP1_E_TE_UNSUPPORTED;
		resp->body = HTTP1_BODY_CHUNKED;
	} else if (f->has_cl) {
		resp->body = HTTP1_BODY_LENGTH;
		resp->content_length = f->content_length;
	} else {
		resp->body = HTTP1_BODY_CLOSE;
		resp->keep_alive = false;
	}
	return HTTP1_E_NONE;
}

/* The checks that need the whole response head. */
static enum http1_error
response_finish(struct http1_response *resp, const struct framing *f,
    bool request_was_head)
{
	resp->body = HTTP1_BODY_NONE;
	resp->content_length = 0;
	if (resp->status < 200) {
		resp->keep_alive = true; /* interim: the real answer follows */
		return HTTP1_E_NONE;
	}
	resp->keep_alive = framing_keep_alive(f, resp->minor_version);
	if (request_was_head || resp->status == 204 || resp->status == 304)
		return HTTP1_E_NONE;
	return response_body(resp, f);
}

enum http1_status
http1_parse_response(const char *buf, size_t len, size_t max_head,
    bool request_was_head, struct http1_response *resp,
    enum http1_error *err)
{
	struct cursor c;
	struct framing f;
	enum http1_status st;
	enum http1_error e;

	*err = HTTP1_E_NONE;
	memset(&f, 0, sizeof(f));
	cursor_init(&c, buf, len, max_head);
	resp->nheaders = 0;
	resp->head_len = 0;
	if ((st = parse_status_line(&c, resp, err)) != HTTP1_OK)
		return st;
	st = parse_fields(&c, resp->headers, &resp->nheaders, &f, err);
	if (st != HTTP1_OK)
		return st;
	if ((e = response_finish(resp, &f, request_was_head)) != HTTP1_E_NONE)
		return fail(err, e);
	resp->head_len = c.pos;
	return HTTP1_OK;
}

void
http1_chunked_init(struct http1_chunked *ch)
{
	ch->state = CH_SIZE_FIRST;
	ch->remaining = 0;
	ch->line_len = 0;
	ch->trailer_len = 0;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* After a complete size or extension: another extension, or CR. */
static enum http1_error
chunk_ext_after(struct http1_chunked *ch, unsigned char c)
{
	if (c == ';')
		ch->state = CH_EXT_NAME_FIRST;
	else if (c == '\r')
		ch->state = CH_SIZE_LF;
	else
		return HTTP1_E_CHUNK;
	return HTTP1_E_NONE;
}

/* chunk-size: 1*HEXDIG, below 2^63. */
static enum http1_error
chunk_size_byte(struct http1_chunked *ch, unsigned char c)
{
	int d = hex_value(c);

	if (d < 0) {
		if (ch->state == CH_SIZE_FIRST)
			return HTTP1_E_CHUNK;
		return chunk_ext_after(ch, c);
	}
	if (ch->state == CH_SIZE_FIRST)
		ch->remaining = 0;
	if (ch->remaining >> 59 != 0)
		return HTTP1_E_CHUNK;
	ch->remaining = ch->remaining * 16 + (uint64_t)d;
	ch->state = CH_SIZE;
	return HTTP1_E_NONE;
}

/*
 * chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), without
 * the BWS RFC 9112 tolerates: whitespace there is a known smuggling vector.
 */
static enum http1_error
chunk_ext_byte(struct http1_chunked *ch, unsigned char c)
{
	switch (ch->state) {
	case CH_EXT_NAME_FIRST:
	case CH_EXT_VALUE_FIRST:
		if (ch->state == CH_EXT_VALUE_FIRST && c == '"')
			ch->state = CH_EXT_QUOTED;
		else if (!is_tchar(c))
			return HTTP1_E_CHUNK;
		else
			ch->state = ch->state == CH_EXT_NAME_FIRST ?
			    CH_EXT_NAME : CH_EXT_TOKEN;
		return HTTP1_E_NONE;
	case CH_EXT_NAME:
	case CH_EXT_TOKEN:
		if (is_tchar(c))
			return HTTP1_E_NONE;
		if (c == '=' && ch->state == CH_EXT_NAME) {
			ch->state = CH_EXT_VALUE_FIRST;
			return HTTP1_E_NONE;
		}
		return chunk_ext_after(ch, c);
	case CH_EXT_QUOTED:
		if (c == '"')
			ch->state = CH_EXT_QUOTED_END;
		else if (c == '\\')
			ch->state = CH_EXT_QUOTED_PAIR;
		else if (!is_value_char(c))
			return HTTP1_E_CHUNK;
		return HTTP1_E_NONE;
	case CH_EXT_QUOTED_PAIR:
		ch->state = CH_EXT_QUOTED;
		return is_value_char(c) ? HTTP1_E_NONE : HTTP1_E_CHUNK;
	default:
		return chunk_ext_after(ch, c); /* CH_EXT_QUOTED_END */
	}
}

/* A byte of a chunk-size line, CRLF excluded, at most CHUNK_LINE_MAX. */
static enum http1_error
chunk_line_byte(struct http1_chunked *ch, unsigned char c)
{
	if (c != '\r' && ++ch->line_len > CHUNK_LINE_MAX)
		return HTTP1_E_CHUNK;
	if (ch->state == CH_SIZE_FIRST || ch->state == CH_SIZE)
		return chunk_size_byte(ch, c);
	return chunk_ext_byte(ch, c);
}

/* The LF after a size line, and the CRLF after chunk data. */
static enum http1_error
chunk_crlf_byte(struct http1_chunked *ch, unsigned char c)
{
	switch (ch->state) {
	case CH_SIZE_LF:
		if (c != '\n')
			return HTTP1_E_CHUNK;
		ch->state = ch->remaining == 0 ? CH_TRAILER_START : CH_DATA;
		return HTTP1_E_NONE;
	case CH_DATA_CR:
		if (c != '\r')
			return HTTP1_E_CHUNK;
		ch->state = CH_DATA_LF;
		return HTTP1_E_NONE;
	default: /* CH_DATA_LF */
		if (c != '\n')
			return HTTP1_E_CHUNK;
		ch->state = CH_SIZE_FIRST;
		ch->line_len = 0;
		return HTTP1_E_NONE;
	}
}

/* The first byte of a trailer line, or the CR of the final CRLF. */
static enum http1_error
trailer_start_byte(struct http1_chunked *ch, unsigned char c)
{
	if (c == '\r') {
		ch->state = CH_FINAL_LF;
		return HTTP1_E_NONE;
	}
	if (c == '\n')
		return HTTP1_E_LINE_ENDING;
	if (is_ows(c))
		return HTTP1_E_OBS_FOLD;
	if (!is_tchar(c))
		return HTTP1_E_HEADER_NAME;
	ch->state = CH_TRAILER_NAME;
	return HTTP1_E_NONE;
}

/* Trailer field lines, checked like header lines (RFC 9112 section 7.1.2). */
static enum http1_error
trailer_byte(struct http1_chunked *ch, unsigned char c, size_t max_trailer)
{
	if (ch->state != CH_FINAL_LF && !(ch->state == CH_TRAILER_START &&
	    c == '\r') && ++ch->trailer_len > max_trailer)
		return HTTP1_E_HEAD_TOO_LARGE;
	switch (ch->state) {
	case CH_TRAILER_START:
		return trailer_start_byte(ch, c);
	case CH_TRAILER_NAME:
		if (c == ':')
			ch->state = CH_TRAILER_VALUE;
		else if (c == '\n')
			return HTTP1_E_LINE_ENDING;
		else if (!is_tchar(c))
			return HTTP1_E_HEADER_NAME;
		return HTTP1_E_NONE;
	case CH_TRAILER_VALUE:
		if (c == '\r')
			ch->state = CH_TRAILER_LF;
		else if (c == '\n')
			return HTTP1_E_LINE_ENDING;
		else if (!is_value_char(c))
			return HTTP1_E_HEADER_VALUE;
		return HTTP1_E_NONE;
	default: /* CH_TRAILER_LF, CH_FINAL_LF */
		if (c != '\n')
			return HTTP1_E_LINE_ENDING;
		ch->state = ch->state == CH_FINAL_LF ? CH_DONE :
		    CH_TRAILER_START;
		return HTTP1_E_NONE;
	}
}

/* One framing byte (anything but chunk data). */
static enum http1_error
chunk_byte(struct http1_chunked *ch, unsigned char c, size_t max_trailer)
{
	switch (ch->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
	case CH_EXT_NAME_FIRST:
	case CH_EXT_NAME:
	case CH_EXT_VALUE_FIRST:
	case CH_EXT_TOKEN:
	case CH_EXT_QUOTED:
	case CH_EXT_QUOTED_PAIR:
	case CH_EXT_QUOTED_END:
		return chunk_line_byte(ch, c);
	case CH_SIZE_LF:
	case CH_DATA_CR:
	case CH_DATA_LF:
		return chunk_crlf_byte(ch, c);
	default:
		return trailer_byte(ch, c, max_trailer);
	}
}

/*
 * Chunk data goes by in bulk; framing bytes go one at a time through the
 * state machine. On error, *consumed is the offset of the offending byte
 * and the scanner keeps failing with the same error.
 */
enum http1_status
http1_chunked_scan(struct http1_chunked *ch, const char *buf, size_t len,
    size_t max_trailer, size_t *consumed, enum http1_error *err)
{
	size_t i = 0, n;
	enum http1_error e;

	*err = HTTP1_E_NONE;
	*consumed = 0;
	if (ch->state < 0)
		return fail(err, (enum http1_error)-ch->state);
	while (i < len && ch->state != CH_DONE) {
		if (ch->state == CH_DATA) {
			n = len - i;
			if (n > ch->remaining)
				n = (size_t)ch->remaining;
			i += n;
			ch->remaining -= n;
			if (ch->remaining == 0)
				ch->state = CH_DATA_CR;
			continue;
		}
		e = chunk_byte(ch, (unsigned char)buf[i], max_trailer);
		if (e != HTTP1_E_NONE) {
			ch->state = -(int)e;
			*consumed = i;
			return fail(err, e);
		}
		i++;
	}
	*consumed = i;
	return ch->state == CH_DONE ? HTTP1_OK : HTTP1_AGAIN;
}

const struct http1_header *
http1_header_find(const struct http1_header *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (equals_nocase(h[i].name, h[i].name_len, name))
			return &h[i];
	}
	return NULL;
}

size_t
http1_header_count(const struct http1_header *h, size_t n, const char *name)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		if (equals_nocase(h[i].name, h[i].name_len, name))
			count++;
	}
	return count;
}

const char *
http1_error_str(enum http1_error err)
{
	switch (err) {
	case HTTP1_E_NONE:
		return "no error";
	case HTTP1_E_LINE_ENDING:
		return "bare CR or LF in message framing";
	case HTTP1_E_REQUEST_LINE:
		return "malformed request line";
	case HTTP1_E_METHOD:
		return "invalid method";
	case HTTP1_E_TARGET:
		return "invalid request target";
	case HTTP1_E_VERSION:
		return "unsupported HTTP version";
	case HTTP1_E_STATUS_LINE:
		return "malformed status line";
	case HTTP1_E_HEADER_NAME:
		return "invalid header field name";
	case HTTP1_E_HEADER_VALUE:
		return "invalid character in header field value";
	case HTTP1_E_OBS_FOLD:
		return "obsolete line folding in header field";
	case HTTP1_E_HEAD_TOO_LARGE:
		return "header section too large";
	case HTTP1_E_TOO_MANY_HEADERS:
		return "too many header fields";
	case HTTP1_E_CONTENT_LENGTH:
		return "invalid Content-Length";
	case HTTP1_E_CL_REPEATED:
		return "repeated Content-Length";
	case HTTP1_E_CL_AND_TE:
		return "Content-Length together with Transfer-Encoding";
	case HTTP1_E_TE_REQUEST:
		return "Transfer-Encoding in a request; send Content-Length";
	case HTTP1_E_TE_UNSUPPORTED:
		return "unsupported Transfer-Encoding";
	case HTTP1_E_HOST_MISSING:
		return "missing Host header";
	case HTTP1_E_HOST_REPEATED:
		return "repeated Host header";
	case HTTP1_E_EXPECT:
		return "unsupported Expect header";
	case HTTP1_E_UPGRADE:
		return "protocol upgrade not supported";
	case HTTP1_E_CHUNK:
		return "malformed chunked encoding";
	}
	return "unknown HTTP/1 error";
}

int
http1_error_status(enum http1_error err)
{
	switch (err) {
	case HTTP1_E_HEAD_TOO_LARGE:
	case HTTP1_E_TOO_MANY_HEADERS:
		return 431;
	case HTTP1_E_TE_REQUEST:
		return 411;
	case HTTP1_E_EXPECT:
		return 417;
	default:
		return 400;
	}
}
