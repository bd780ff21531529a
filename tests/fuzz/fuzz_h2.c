/*
 * libFuzzer target for the HTTP/2 codec's translation (src/h2msg.c),
 * driven three ways. The first input byte chooses the mode (bits 0-1)
 * and options (the other bits); the rest is the mode's input.
 *
 * Mode 0, the server session: the bytes are what a client sends on an h2
 * connection, fed to an nghttp2 server session set up as src/h2.c sets
 * it up (same SETTINGS, options, and a callback for each event that does
 * what h2.c does with h2msg: request fields checked one by one, DATA
 * counted against the body limits, the request finished and written as
 * HTTP/1.1 at END_STREAM, and a response — the input's own bytes after a
 * marker, or a canned one — read back with h2msg_response_feed and
 * submitted with a data provider, then framed by nghttp2_session_mem_send).
 * Option bit 2 prepends a valid client preface and SETTINGS; bits 3-4
 * pick SETTINGS_MAX_CONCURRENT_STREAMS (100, 1, 2, 8); bits 5-7 the size
 * of the pieces the bytes are fed in (4^n bytes: 1 to 16384).
 *
 * Mode 1, request fields without HPACK: records of [name length, value
 * length, name, value] (lengths one byte each; a name length of 0xff ends
 * the list and the next 2 bytes are the body length), fed to
 * h2msg_request_field, then h2msg_request_finish.
 *
 * Mode 2, responses: bytes of an HTTP/1.1 response (bit 2: the request
 * was HEAD) fed to h2msg_response_feed whole, in two pieces (split given
 * by the second byte) and byte by byte; all three must agree.
 *
 * Checked in every mode: a request h2msg accepts becomes an HTTP/1.1 head
 * that the strict parser (http1_parse_request) accepts and reads back the
 * same — method, target, Host = :authority, Content-Length = the DATA
 * received, one line per field, no Transfer-Encoding, within
 * max_header_bytes — so nothing can be read two ways once it is
 * HTTP/1.1; response fields handed to nghttp2 have lower-case names, no
 * connection-specific ones, no CR, LF or NUL; de-chunked data never
 * exceeds what the framing announced.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "h2msg.h"
#include "http1.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define MAX_HEADER_BYTES 16384	  /* limits.max_header_bytes */
#define MAX_BODY_BYTES 65536	  /* limits.max_body_bytes (small here) */
#define MAX_STREAMS_FUZZ 64	  /* streams this harness tracks */
#define RESPONSE_MARKER "\xff\xfeRESPONSE"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- what h2msg writes must read back the same -------------------------- */

static bool
ieq(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(s, lit, len) == 0;
}

static void
check_head(const struct h2msg_request *r)
{
	struct http1_request req;
	enum http1_error err;
	enum http1_status st;
	size_t len, nlines = 0;
	char *head = h2msg_request_head(r, &len);

	CHECK(head != NULL);
	CHECK(len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0);
	for (size_t i = 0; i + 1 < len; i++) {
		CHECK(head[i] != '\0');
		if (head[i] == '\n')
			CHECK(i > 0 && head[i - 1] == '\r'); /* no bare LF */
		if (head[i] == '\r') {
			CHECK(head[i + 1] == '\n');	     /* no bare CR */
			nlines++;
		}
	}
	/* request line, Host, the fields, Content-Length, the empty line */
	CHECK(nlines == r->nfields + 4);
	CHECK(len <= r->max_bytes);
	st = http1_parse_request(head, len, MAX_HEADER_BYTES, &req, &err);
	if (st == HTTP1_OK) {
		const struct http1_header *h;

		CHECK(req.head_len == len);
		CHECK(req.method_len == strlen(r->method) &&
		    memcmp(req.method, r->method, req.method_len) == 0);
		CHECK(req.target_len == strlen(r->path) &&
		    memcmp(req.target, r->path, req.target_len) == 0);
		CHECK(req.host != NULL && req.host_len == strlen(r->authority) &&
		    memcmp(req.host, r->authority, req.host_len) == 0);
		CHECK(req.body == HTTP1_BODY_LENGTH &&
		    req.content_length == r->body_len);
		CHECK(req.nheaders == r->nfields + 2);
		CHECK(http1_header_count(req.headers, req.nheaders,
		    "transfer-encoding") == 0);
		CHECK(http1_header_count(req.headers, req.nheaders, "host") ==
		    1);
		h = http1_header_find(req.headers, req.nheaders,
		    "content-length");
		CHECK(h != NULL);
	} else {
		/* The only refusals allowed: what the HTTP/1.1 side answers
		 * for any client (a method or field value it does not take),
		 * never a framing disagreement. */
		CHECK(st == HTTP1_ERROR);
		CHECK(err == HTTP1_E_METHOD || err == HTTP1_E_TARGET ||
		    err == HTTP1_E_HEADER_VALUE || err == HTTP1_E_EXPECT);
	}
	free(head);
}

static void
check_nv(const nghttp2_nv *nva, size_t n)
{
	CHECK(n >= 1 && nva[0].namelen == 7 &&
	    memcmp(nva[0].name, ":status", 7) == 0 && nva[0].valuelen == 3);
	for (size_t i = 1; i < n; i++) {
		const char *nm = (const char *)nva[i].name;

		CHECK(nva[i].namelen > 0 && nm[0] != ':');
		for (size_t j = 0; j < nva[i].namelen; j++)
			CHECK(!(nm[j] >= 'A' && nm[j] <= 'Z') &&
			    nm[j] > ' ' && nm[j] != ':' && nm[j] != 0x7f);
		for (size_t j = 0; j < nva[i].valuelen; j++)
			CHECK(nva[i].value[j] != '\r' &&
			    nva[i].value[j] != '\n' && nva[i].value[j] != '\0');
		CHECK(!ieq(nm, nva[i].namelen, "connection") &&
		    !ieq(nm, nva[i].namelen, "keep-alive") &&
		    !ieq(nm, nva[i].namelen, "proxy-connection") &&
		    !ieq(nm, nva[i].namelen, "transfer-encoding") &&
		    !ieq(nm, nva[i].namelen, "upgrade") &&
		    !ieq(nm, nva[i].namelen, "te"));
	}
}

/* ---- mode 2: responses ----------------------------------------------------- */

struct outcome {
	int rc;
	bool head_done, done;
	int status;
	size_t nfields;
	size_t data_len;
	uint8_t data_hash[32];
};

static void
hash_buf(struct evbuffer *b, uint8_t out[32])
{
	size_t n = evbuffer_get_length(b);
	const uint8_t *p = evbuffer_pullup(b, (ev_ssize_t)n);
	uint64_t h = 1469598103934665603ULL;

	memset(out, 0, 32);
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	memcpy(out, &h, sizeof(h));
}

/* Feeds resp in the pieces cuts[] says (0 = whole), eof at the end. */
static void
feed_response(const uint8_t *resp, size_t len, bool is_head, size_t step,
    size_t split, struct outcome *o)
{
	struct h2msg_response r;
	struct evbuffer *in = evbuffer_new(), *data = evbuffer_new();
	const char *err = NULL;
	size_t off = 0;

	CHECK(in != NULL && data != NULL);
	h2msg_response_init(&r, MAX_HEADER_BYTES);
	r.is_head = is_head;
	o->rc = 0;
	while (off < len && o->rc == 0) {
		size_t n = step ? step : (split && off == 0 ? split : len - off);

		if (n > len - off)
			n = len - off;
		evbuffer_add(in, resp + off, n);
		off += n;
		if (!r.done)
			o->rc = h2msg_response_feed(&r, in, data, false, &err);
		else if (evbuffer_get_length(in) > 0)
			o->rc = h2msg_response_feed(&r, in, data, false, &err);
		if (o->rc != 0)
			CHECK(err != NULL);
	}
	if (o->rc == 0 && !r.done)
		o->rc = h2msg_response_feed(&r, in, data, true, &err);
	o->head_done = r.head_done;
	o->done = r.done;
	o->status = r.status;
	o->nfields = r.nfields;
	o->data_len = evbuffer_get_length(data);
	hash_buf(data, o->data_hash);
	if (r.head_done) {
		nghttp2_nv nva[H2MSG_MAX_FIELDS + 8];
		size_t n = h2msg_response_nv(&r, nva, sizeof(nva) /
		    sizeof(nva[0]));

		check_nv(nva, n);
		CHECK(r.status >= 200 && r.status <= 599);
		if (is_head || r.status == 204 || r.status == 304)
			CHECK(o->data_len == 0);
	}
	h2msg_response_clear(&r);
	evbuffer_free(in);
	evbuffer_free(data);
}

static void
mode_response(const uint8_t *d, size_t n, uint8_t opts)
{
	struct outcome whole, two, bytes;
	bool is_head = opts & 1;
	size_t split;

	if (n < 1)
		return;
	split = (size_t)d[0] * (n - 1) / 255 + 1;
	d++;
	n--;
	feed_response(d, n, is_head, 0, 0, &whole);
	feed_response(d, n, is_head, 0, split, &two);
	/* The same answer however the bytes arrive (errors may be noticed
	 * at another byte, but not differ in kind or in what was moved). */
	CHECK((whole.rc == 0) == (two.rc == 0));
	if (whole.rc == 0) {
		CHECK(whole.head_done == two.head_done &&
		    whole.done == two.done && whole.status == two.status &&
		    whole.nfields == two.nfields &&
		    whole.data_len == two.data_len &&
		    memcmp(whole.data_hash, two.data_hash, 32) == 0);
	}
	if (n <= 2048) {
		feed_response(d, n, is_head, 1, 0, &bytes);
		CHECK((whole.rc == 0) == (bytes.rc == 0));
		if (whole.rc == 0)
			CHECK(whole.done == bytes.done &&
			    whole.data_len == bytes.data_len &&
			    memcmp(whole.data_hash, bytes.data_hash, 32) == 0);
	}
}

/* ---- mode 1: request fields --------------------------------------------------- */

static void
mode_fields(const uint8_t *d, size_t n)
{
	struct h2msg_request r;
	const char *err = NULL;
	uint64_t body_len = 0;
	int rc = H2MSG_OK;
	size_t i = 0;

	h2msg_request_init(&r, MAX_HEADER_BYTES);
	while (i + 2 <= n) {
		size_t nl = d[i], vl = d[i + 1];

		if (nl == 0xff) {
			if (i + 3 <= n)
				body_len = (uint64_t)d[i + 1] << 8 | d[i + 2];
			break;
		}
		i += 2;
		if (i + nl + vl > n)
			break;
		rc = h2msg_request_field(&r, (const char *)d + i, nl,
		    (const char *)d + i + nl, vl, &err);
		i += nl + vl;
		if (rc != H2MSG_OK)
			break;
	}
	if (rc == H2MSG_BAD)
		CHECK(err != NULL);
	if (rc == H2MSG_OK && h2msg_request_finish(&r, body_len, &err) ==
	    H2MSG_OK)
		check_head(&r);
	h2msg_request_clear(&r);
}

/* ---- mode 0: an nghttp2 server session as src/h2.c sets it up ---------------- */

struct fstream {
	int32_t id;
	bool used, answered, handed;
	struct h2msg_request req;
	uint64_t body;
	struct h2msg_response resp;
	struct evbuffer *data;
};

struct fconn {
	nghttp2_session *ng;
	struct fstream st[MAX_STREAMS_FUZZ];
	uint64_t buffered;
	const uint8_t *resp;	/* the response every stream gets */
	size_t resp_len;
};

static const char canned[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
    "x-amzn-RequestId: fuzz\r\nConnection: keep-alive, x-drop\r\n"
    "x-drop: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\n{\"a\":\r\n3;ext=1\r\n1}\n\r\n0\r\nx-trailer: t\r\n\r\n";

static struct fstream *
find(struct fconn *c, int32_t id)
{
	for (size_t i = 0; i < MAX_STREAMS_FUZZ; i++)
		if (c->st[i].used && c->st[i].id == id)
			return &c->st[i];
	return NULL;
}

static void
stream_free(struct fconn *c, struct fstream *s)
{
	if (!s->handed)
		c->buffered -= s->body;
	h2msg_request_clear(&s->req);
	h2msg_response_clear(&s->resp);
	if (s->data != NULL)
		evbuffer_free(s->data);
	memset(s, 0, sizeof(*s));
}

static ssize_t
read_data(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct fstream *s = src->ptr;
	int n = evbuffer_remove(s->data, buf, len);

	CHECK(n >= 0);
	if (evbuffer_get_length(s->data) == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

/* The stream's HTTP/1.1 response, fed as a stream session would write it. */
static void
respond(struct fconn *c, struct fstream *s, const uint8_t *resp, size_t len)
{
	nghttp2_nv nva[H2MSG_MAX_FIELDS + 8];
	nghttp2_data_provider prd = { .source.ptr = s,
		.read_callback = read_data };
	struct evbuffer *in = evbuffer_new();
	const char *err = NULL;
	size_t half = len / 2, n;
	int rc;

	CHECK(in != NULL);
	s->answered = true;
	if ((s->data = evbuffer_new()) == NULL)
		abort();
	evbuffer_add(in, resp, half);
	rc = h2msg_response_feed(&s->resp, in, s->data, false, &err);
	if (rc == 0) {
		evbuffer_add(in, resp + half, len - half);
		rc = h2msg_response_feed(&s->resp, in, s->data, true, &err);
	}
	evbuffer_free(in);
	if (rc != 0 || !s->resp.done) {
		nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_INTERNAL_ERROR);
		return;
	}
	n = h2msg_response_nv(&s->resp, nva, sizeof(nva) / sizeof(nva[0]));
	check_nv(nva, n);
	nghttp2_submit_response(c->ng, s->id, nva, n,
	    s->resp.body == HTTP1_BODY_NONE ? NULL : &prd);
}

static void
answer_local(struct fconn *c, struct fstream *s, int status)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d Local\r\n"
	    "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2"
	    "\r\n\r\n{}", status);

	respond(c, s, (const uint8_t *)buf, (size_t)n);
}

static int
on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame,
    void *user)
{
	struct fconn *c = user;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	for (size_t i = 0; i < MAX_STREAMS_FUZZ; i++) {
		struct fstream *s = &c->st[i];

		if (s->used)
			continue;
		s->used = true;
		s->id = frame->hd.stream_id;
		h2msg_request_init(&s->req, MAX_HEADER_BYTES);
		h2msg_response_init(&s->resp, MAX_HEADER_BYTES);
		return 0;
	}
	nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
	    NGHTTP2_REFUSED_STREAM);
	return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int
on_header(nghttp2_session *ng, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *user)
{
	struct fconn *c = user;
	struct fstream *s = find(c, frame->hd.stream_id);
	const char *err = NULL;
	int rc;

	if (s == NULL || s->answered)
		return 0;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
		answer_local(c, s, 400); /* trailers */
		return 0;
	}
	rc = h2msg_request_field(&s->req, (const char *)name, namelen,
	    (const char *)value, valuelen, &err);
	if (rc == H2MSG_TOO_LARGE) {
		answer_local(c, s, 431);
		return 0;
	}
	if (rc != H2MSG_OK) {
		CHECK(err != NULL);
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_PROTOCOL_ERROR);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static int
on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *d,
    size_t len, void *user)
{
	struct fconn *c = user;
	struct fstream *s = find(c, id);

	if (s == NULL || s->answered || s->handed)
		return 0;
	if (s->body + len > MAX_BODY_BYTES) {
		answer_local(c, s, 413);
		return 0;
	}
	if (c->buffered + len > 2 * MAX_BODY_BYTES) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id,
		    NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	s->body += len;
	c->buffered += len;
	return 0;
}

static int
on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct fconn *c = user;
	struct fstream *s;
	const char *err = NULL;

	if ((frame->hd.type != NGHTTP2_HEADERS &&
	    frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if ((s = find(c, frame->hd.stream_id)) == NULL || s->answered ||
	    s->handed)
		return 0;
	if (h2msg_request_finish(&s->req, s->body, &err) != H2MSG_OK) {
		CHECK(err != NULL);
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id,
		    NGHTTP2_PROTOCOL_ERROR);
		return 0;
	}
	check_head(&s->req);
	s->handed = true;
	c->buffered -= s->body;
	if (c->resp != NULL)
		respond(c, s, c->resp, c->resp_len);
	else
		respond(c, s, (const uint8_t *)canned, sizeof(canned) - 1);
	return 0;
}

static int
on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct fconn *c = user;
	struct fstream *s = find(c, id);

	if (s != NULL)
		stream_free(c, s);
	return 0;
}

static void
drain_output(struct fconn *c)
{
	for (int i = 0; i < 256; i++) {
		const uint8_t *out;
		ssize_t n = nghttp2_session_mem_send(c->ng, &out);

		if (n <= 0)
			break;
	}
}

static void
mode_session(const uint8_t *d, size_t n, uint8_t opts)
{
	static const uint32_t streams[] = { 100, 1, 2, 8 };
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	    "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	struct fconn c;
	const uint8_t *m;
	size_t piece = (size_t)1 << (((opts >> 5) & 7) * 2); /* 1 .. 16384 */
	nghttp2_settings_entry iv[H2MSG_NSETTINGS];

	memset(&c, 0, sizeof(c));
	/* the response every stream gets: after a marker, if there is one */
	m = memmem(d, n, RESPONSE_MARKER, sizeof(RESPONSE_MARKER) - 1);
	if (m != NULL) {
		c.resp = m + sizeof(RESPONSE_MARKER) - 1;
		c.resp_len = n - (size_t)(c.resp - d);
		n = (size_t)(m - d);
	}
	CHECK(nghttp2_session_callbacks_new(&cb) == 0);
	CHECK(nghttp2_option_new(&opt) == 0);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    on_stream_close);
	h2msg_options(opt); /* as src/h2.c */
	CHECK(nghttp2_session_server_new2(&c.ng, cb, &c, opt) == 0);
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	CHECK(nghttp2_submit_settings(c.ng, NGHTTP2_FLAG_NONE, iv,
	    h2msg_settings(streams[(opts >> 3) & 3], MAX_HEADER_BYTES,
	    iv)) == 0);
	CHECK(nghttp2_session_set_local_window_size(c.ng, NGHTTP2_FLAG_NONE,
	    0, H2MSG_CONN_WINDOW) == 0);
	drain_output(&c);
	if ((opts & 4) && nghttp2_session_mem_recv(c.ng, preface,
	    sizeof(preface) - 1) < 0)
		goto done;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < piece ? n - off : piece;
		ssize_t r = nghttp2_session_mem_recv(c.ng, d + off, k);

		if (r < 0)
			break;		/* a connection error: h2.c ends here */
		CHECK((size_t)r == k);
		off += k;
		drain_output(&c);
	}
	drain_output(&c);
done:
	nghttp2_session_del(c.ng);
	for (size_t i = 0; i < MAX_STREAMS_FUZZ; i++)
		if (c.st[i].used)
			stream_free(&c, &c.st[i]);
	CHECK(c.buffered == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
	case 3:
		mode_session(data + 1, size - 1, data[0]);
		break;
	case 1:
		mode_fields(data + 1, size - 1);
		break;
	case 2:
		mode_response(data + 1, size - 1, data[0] >> 2);
		break;
	}
	return 0;
}
