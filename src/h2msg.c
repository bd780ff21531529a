/*
 * h2msg — HTTP/2 stream ⇄ HTTP/1.1 translation (see h2msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "h2msg.h"
#include "http1.h"

/* ---- the connection -------------------------------------------------------- */

size_t
h2msg_settings(unsigned max_streams, unsigned max_header_bytes,
    nghttp2_settings_entry *iv)
{
	iv[0] = (nghttp2_settings_entry){
		NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams };
	iv[1] = (nghttp2_settings_entry){
		NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2MSG_WINDOW };
	iv[2] = (nghttp2_settings_entry){
		NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, max_header_bytes };
	iv[3] = (nghttp2_settings_entry){ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 };
	return H2MSG_NSETTINGS;
}

void
h2msg_options(nghttp2_option *opt)
{
	/* our HPACK encoder's table; the decoder's follows SETTINGS (4096) */
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
}

/* ---- requests ------------------------------------------------------------ */

void
h2msg_request_init(struct h2msg_request *r, size_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	r->max_bytes = max_bytes;
	r->content_length = -1;
}

void
h2msg_request_clear(struct h2msg_request *r)
{
	free(r->path);
	free(r->fields);
	h2msg_request_init(r, r->max_bytes);
}

/* tchar of RFC 9110 section 5.6.2, lower case only (RFC 9113 8.2.1). */
static bool
lower_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool
eq(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* Copies a pseudo-field value once; false when it was already set. */
static bool
set_once(char *dst, size_t cap, const char *v, size_t len)
{
	if (dst[0] != '\0' || len >= cap)
		return false;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return true;
}

/* host[:port]: a DNS name's characters, an optional decimal port. */
static bool
authority_ok(const char *v, size_t len)
{
	size_t i = 0, digits = 0;

	if (len == 0)
		return false;
	for (; i < len && v[i] != ':'; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '-' && ch != '.')
			return false;
	}
	if (i == 0)
		return false;
	if (i == len)
		return true;
	for (i++; i < len; i++, digits++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return digits >= 1 && digits <= 5;
}

static int
pseudo_field(struct h2msg_request *r, const char *n, size_t nl,
    const char *v, size_t vl, const char **err)
{
	if (r->regular_seen) {
		*err = "a pseudo-header field after a regular field";
		return H2MSG_BAD;
	}
	if (eq(n, nl, ":method")) {
		if (vl == 0 || !set_once(r->method, sizeof(r->method), v, vl)) {
			*err = "empty, long or repeated :method";
			return H2MSG_BAD;
		}
		for (size_t i = 0; i < vl; i++)
			if (!lower_tchar((unsigned char)v[i]) &&
			    !(v[i] >= 'A' && v[i] <= 'Z')) {
				*err = ":method is not a token";
				return H2MSG_BAD;
			}
		return H2MSG_OK;
	}
	if (eq(n, nl, ":scheme")) {
		if (!eq(v, vl, "https") ||
		    !set_once(r->scheme, sizeof(r->scheme), v, vl)) {
			*err = ":scheme is not https, or repeated";
			return H2MSG_BAD;
		}
		return H2MSG_OK;
	}
	if (eq(n, nl, ":authority")) {
		if (!authority_ok(v, vl) ||
		    !set_once(r->authority, sizeof(r->authority), v, vl)) {
			*err = ":authority is not host[:port], or repeated";
			return H2MSG_BAD;
		}
		return H2MSG_OK;
	}
	if (eq(n, nl, ":path")) {
		if (r->path != NULL || vl == 0 || v[0] != '/') {
			*err = ":path is not in origin form, or repeated";
			return H2MSG_BAD;
		}
		for (size_t i = 0; i < vl; i++)
			if ((unsigned char)v[i] <= 0x20 ||
			    (unsigned char)v[i] >= 0x7f) {
				*err = ":path has a character a request "
				    "target cannot";
				return H2MSG_BAD;
			}
		if ((r->path = malloc(vl + 1)) == NULL) {
			*err = "out of memory";
			return H2MSG_BAD;
		}
		memcpy(r->path, v, vl);
		r->path[vl] = '\0';
		return H2MSG_OK;
	}
	*err = "an unknown pseudo-header field";
	return H2MSG_BAD;
}

static int
append_field(struct h2msg_request *r, const char *n, size_t nl,
    const char *v, size_t vl, const char **err)
{
	size_t need = nl + vl + 4;

	if (r->nfields >= H2MSG_MAX_FIELDS)
		return H2MSG_TOO_LARGE;
	if (r->fields_len + need > r->fields_cap) {
		size_t cap = r->fields_cap ? r->fields_cap * 2 : 1024;
		char *p;

		while (cap < r->fields_len + need)
			cap *= 2;
		if ((p = realloc(r->fields, cap)) == NULL) {
			*err = "out of memory";
			return H2MSG_BAD;
		}
		r->fields = p;
		r->fields_cap = cap;
	}
	memcpy(r->fields + r->fields_len, n, nl);
	memcpy(r->fields + r->fields_len + nl, ": ", 2);
	memcpy(r->fields + r->fields_len + nl + 2, v, vl);
	memcpy(r->fields + r->fields_len + nl + 2 + vl, "\r\n", 2);
	r->fields_len += need;
	r->nfields++;
	return H2MSG_OK;
}

int
h2msg_request_field(struct h2msg_request *r, const char *n, size_t nl,
    const char *v, size_t vl, const char **err)
{
	r->bytes += nl + vl + 32;
	if (r->bytes > r->max_bytes)
		return H2MSG_TOO_LARGE;
	if (nl == 0) {
		*err = "an empty field name";
		return H2MSG_BAD;
	}
	for (size_t i = 0; i < vl; i++) {
		unsigned char ch = (unsigned char)v[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			*err = "a control character (CR, LF, NUL, ...) in a "
			    "field value";
			return H2MSG_BAD;
		}
	}
	if (vl > 0 && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' ||
	    v[vl - 1] == '\t')) {
		*err = "white space around a field value";
		return H2MSG_BAD;
	}
	if (n[0] == ':')
		return pseudo_field(r, n, nl, v, vl, err);
	r->regular_seen = true;
	for (size_t i = 0; i < nl; i++)
		if (!lower_tchar((unsigned char)n[i])) {
			*err = n[i] >= 'A' && n[i] <= 'Z' ?
			    "an upper-case field name" :
			    "a field name that is not a token";
			return H2MSG_BAD;
		}
	if (eq(n, nl, "connection") || eq(n, nl, "keep-alive") ||
	    eq(n, nl, "proxy-connection") || eq(n, nl, "transfer-encoding") ||
	    eq(n, nl, "upgrade")) {
		*err = "a connection-specific field";
		return H2MSG_BAD;
	}
	if (eq(n, nl, "te")) {
		if (!eq(v, vl, "trailers")) {
			*err = "TE other than \"trailers\"";
			return H2MSG_BAD;
		}
		return H2MSG_OK; /* meaningless in HTTP/1.1 upstream: dropped */
	}
	if (eq(n, nl, "host")) {
		if (!set_once(r->host, sizeof(r->host), v, vl) ||
		    !authority_ok(v, vl)) {
			*err = "Host repeated or not host[:port]";
			return H2MSG_BAD;
		}
		r->have_host = true;
		return H2MSG_OK; /* written from :authority */
	}
	if (eq(n, nl, "content-length")) {
		uint64_t cl = 0;

		if (r->content_length >= 0 || vl == 0 || vl > 18) {
			*err = "content-length repeated, empty or too long";
			return H2MSG_BAD;
		}
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*err = "content-length is not a number";
				return H2MSG_BAD;
			}
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		r->content_length = (int64_t)cl;
		return H2MSG_OK; /* written from the DATA length */
	}
	if (eq(n, nl, "expect") && eq(v, vl, "100-continue"))
		return H2MSG_OK; /* the codec has the body whole already */
	return append_field(r, n, nl, v, vl, err);
}

int
h2msg_request_finish(struct h2msg_request *r, uint64_t body_len,
    const char **err)
{
	if (r->method[0] == '\0' || r->scheme[0] == '\0' || r->path == NULL) {
		*err = "a missing :method, :scheme or :path";
		return H2MSG_BAD;
	}
	if (r->authority[0] == '\0') {
		*err = "a missing :authority";
		return H2MSG_BAD;
	}
	if (strcmp(r->method, "CONNECT") == 0) {
		*err = "CONNECT over HTTP/2 is not supported";
		return H2MSG_BAD;
	}
	if (r->have_host && strcasecmp(r->host, r->authority) != 0) {
		*err = "Host disagrees with :authority";
		return H2MSG_BAD;
	}
	if (r->content_length >= 0 &&
	    (uint64_t)r->content_length != body_len) {
		*err = "content-length disagrees with the DATA received";
		return H2MSG_BAD;
	}
	r->body_len = body_len;
	return H2MSG_OK;
}

char *
h2msg_request_head(const struct h2msg_request *r, size_t *len)
{
	size_t cap = strlen(r->method) + strlen(r->path) +
	    strlen(r->authority) + r->fields_len + 128;
	char *head = malloc(cap);
	int n;

	if (head == NULL)
		return NULL;
	n = snprintf(head, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%.*s"
	    "Content-Length: %llu\r\n\r\n", r->method,
	    r->path, r->authority, (int)r->fields_len,
	    r->fields != NULL ? r->fields : "",
	    (unsigned long long)r->body_len);
	if (n < 0 || (size_t)n >= cap) {
		free(head);
		return NULL;
	}
	*len = (size_t)n;
	return head;
}

/* ---- responses ------------------------------------------------------------ */

enum {
	CH_SIZE,	/* reading a chunk-size line */
	CH_DATA,	/* remaining bytes of chunk data */
	CH_DATA_CRLF,	/* the CRLF after chunk data */
	CH_TRAILER,	/* trailer lines until an empty one */
};

#define CHUNK_LINE_MAX 1024

void
h2msg_response_init(struct h2msg_response *r, size_t max_head)
{
	memset(r, 0, sizeof(*r));
	r->max_head = max_head;
}

void
h2msg_response_clear(struct h2msg_response *r)
{
	bool is_head = r->is_head;

	free(r->head);
	h2msg_response_init(r, r->max_head);
	r->is_head = is_head;
}

static bool
ieq(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(s, lit, len) == 0;
}

/* Does the Connection field list this name? */
static bool
listed_in_connection(const struct http1_response *h, const char *name,
    size_t len)
{
	for (size_t i = 0; i < h->nheaders; i++) {
		const char *v = h->headers[i].value;
		size_t vl = h->headers[i].value_len, j = 0;

		if (!ieq(h->headers[i].name, h->headers[i].name_len,
		    "connection"))
			continue;
		while (j < vl) {
			size_t k;

			while (j < vl && (v[j] == ',' || v[j] == ' ' ||
			    v[j] == '\t'))
				j++;
			for (k = j; k < vl && v[k] != ',' && v[k] != ' ' &&
			    v[k] != '\t'; k++)
				;
			if (k > j && k - j == len &&
			    strncasecmp(v + j, name, len) == 0)
				return true;
			j = k;
		}
	}
	return false;
}

/* The head is whole in buf: keep what HTTP/2 may carry, lower-cased. */
static int
take_head(struct h2msg_response *r, const char *buf,
    const struct http1_response *h, const char **err)
{
	if ((r->head = malloc(h->head_len + 1)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	memcpy(r->head, buf, h->head_len);
	r->head[h->head_len] = '\0';
	r->status = h->status;
	snprintf(r->status_str, sizeof(r->status_str), "%03d", h->status);
	r->nfields = 0;
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct http1_header *f = &h->headers[i];
		size_t off = (size_t)(f->name - buf);

		if (ieq(f->name, f->name_len, "connection") ||
		    ieq(f->name, f->name_len, "keep-alive") ||
		    ieq(f->name, f->name_len, "proxy-connection") ||
		    ieq(f->name, f->name_len, "transfer-encoding") ||
		    ieq(f->name, f->name_len, "upgrade") ||
		    ieq(f->name, f->name_len, "te") ||
		    listed_in_connection(h, f->name, f->name_len))
			continue;
		if (ieq(f->name, f->name_len, "content-length") &&
		    h->body != HTTP1_BODY_LENGTH && !r->is_head)
			continue;
		for (size_t j = 0; j < f->name_len; j++)
			if (r->head[off + j] >= 'A' && r->head[off + j] <= 'Z')
				r->head[off + j] = (char)(r->head[off + j] -
				    'A' + 'a');
		r->fields[r->nfields++] = (struct h2msg_field){
			.name = off, .namelen = f->name_len,
			.value = (size_t)(f->value - buf),
			.valuelen = f->value_len,
		};
	}
	r->body = r->is_head ? HTTP1_BODY_NONE : h->body;
	r->remaining = h->content_length;
	r->head_done = true;
	if (r->body == HTTP1_BODY_NONE ||
	    (r->body == HTTP1_BODY_LENGTH && r->remaining == 0))
		r->done = true;
	return 0;
}

static int
read_head(struct h2msg_response *r, struct evbuffer *in, const char **err)
{
	for (;;) {
		size_t len = evbuffer_get_length(in);
		struct http1_response h;
		enum http1_error e;
		const char *buf;

		if (len == 0)
			return 0;
		if (len > r->max_head)
			len = r->max_head;
		buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		switch (http1_parse_response(buf, len, r->max_head, r->is_head,
		    &h, &e)) {
		case HTTP1_AGAIN:
			return 0;
		case HTTP1_ERROR:
			*err = http1_error_str(e);
			return -1;
		case HTTP1_OK:
			break;
		}
		if (h.status >= 100 && h.status < 200) {
			evbuffer_drain(in, h.head_len); /* interim: skipped */
			continue;
		}
		if (take_head(r, buf, &h, err) != 0)
			return -1;
		evbuffer_drain(in, h.head_len);
		return 0;
	}
}

/* Moves up to n bytes of in to data. */
static size_t
move(struct evbuffer *in, struct evbuffer *data, uint64_t n)
{
	size_t have = evbuffer_get_length(in);
	size_t take = n < have ? (size_t)n : have;

	if (take > 0)
		evbuffer_remove_buffer(in, data, take);
	return take;
}

/* One line of a chunked body (size or trailer): NULL until whole. */
static char *
chunk_line(struct evbuffer *in, size_t *len, const char **err)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n", 2, NULL);

	if (p.pos < 0) {
		if (evbuffer_get_length(in) > CHUNK_LINE_MAX)
			*err = "a chunk line is too long";
		return NULL;
	}
	if ((size_t)p.pos > CHUNK_LINE_MAX) {
		*err = "a chunk line is too long";
		return NULL;
	}
	*len = (size_t)p.pos;
	return (char *)evbuffer_pullup(in, p.pos + 2);
}

static int
dechunk(struct h2msg_response *r, struct evbuffer *in, struct evbuffer *data,
    const char **err)
{
	while (!r->done) {
		char *line;
		size_t len;

		switch (r->chunk_state) {
		case CH_SIZE: {
			uint64_t size = 0;
			size_t i = 0;

			if ((line = chunk_line(in, &len, err)) == NULL)
				return *err != NULL ? -1 : 0;
			while (i + 1 < len && line[i] == '0' &&
			    line[i + 1] != ';')
				i++; /* leading zeros, as http1 allows them */
			for (size_t start = i; i < len && i - start < 16;
			    i++) {
				char ch = line[i];
				int d = ch >= '0' && ch <= '9' ? ch - '0' :
				    ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
				    ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

				if (d < 0)
					break;
				size = size * 16 + (uint64_t)d;
			}
			if (i == 0 || (i < len && line[i] != ';')) {
				*err = "a malformed chunk size";
				return -1;
			}
			evbuffer_drain(in, len + 2);
			r->remaining = size;
			r->chunk_state = size == 0 ? CH_TRAILER : CH_DATA;
			break;
		}
		case CH_DATA:
			r->remaining -= move(in, data, r->remaining);
			if (r->remaining > 0)
				return 0;
			r->chunk_state = CH_DATA_CRLF;
			break;
		case CH_DATA_CRLF: {
			unsigned char crlf[2];

			if (evbuffer_get_length(in) < 2)
				return 0;
			evbuffer_remove(in, crlf, 2);
			if (crlf[0] != '\r' || crlf[1] != '\n') {
				*err = "chunk data not followed by CRLF";
				return -1;
			}
			r->chunk_state = CH_SIZE;
			break;
		}
		case CH_TRAILER:
			if ((line = chunk_line(in, &len, err)) == NULL)
				return *err != NULL ? -1 : 0;
			evbuffer_drain(in, len + 2);
			if (len == 0)
				r->done = true; /* trailers are dropped */
			else if ((r->line_len += len) > r->max_head) {
				*err = "the trailer section is too long";
				return -1;
			}
			break;
		}
	}
	return 0;
}

int
h2msg_response_feed(struct h2msg_response *r, struct evbuffer *in,
    struct evbuffer *data, bool eof, const char **err)
{
	*err = NULL;
	if (!r->head_done) {
		if (read_head(r, in, err) != 0)
			return -1;
		if (!r->head_done) {
			if (eof && evbuffer_get_length(in) > 0) {
				*err = "an incomplete response head";
				return -1;
			}
			return 0;
		}
	}
	switch (r->body) {
	case HTTP1_BODY_NONE:
		break;
	case HTTP1_BODY_LENGTH:
		r->remaining -= move(in, data, r->remaining);
		if (r->remaining == 0)
			r->done = true;
		break;
	case HTTP1_BODY_CHUNKED:
		if (dechunk(r, in, data, err) != 0)
			return -1;
		break;
	case HTTP1_BODY_CLOSE:
		move(in, data, evbuffer_get_length(in));
		if (eof)
			r->done = true;
		break;
	}
	if (r->done && evbuffer_get_length(in) > 0) {
		*err = "bytes after the end of the response";
		return -1;
	}
	return 0;
}

size_t
h2msg_response_nv(const struct h2msg_response *r, nghttp2_nv *nva,
    size_t max)
{
	size_t n = 0;

	if (!r->head_done || max == 0)
		return 0;
	nva[n++] = (nghttp2_nv){ .name = (uint8_t *)":status",
		.namelen = 7, .value = (uint8_t *)r->status_str,
		.valuelen = 3, .flags = NGHTTP2_NV_FLAG_NONE };
	for (size_t i = 0; i < r->nfields && n < max; i++)
		nva[n++] = (nghttp2_nv){
			.name = (uint8_t *)r->head + r->fields[i].name,
			.namelen = r->fields[i].namelen,
			.value = (uint8_t *)r->head + r->fields[i].value,
			.valuelen = r->fields[i].valuelen,
			.flags = NGHTTP2_NV_FLAG_NONE,
		};
	return n;
}
