/*
 * Unit tests for h2msg: every refusal of the request translation, the
 * HTTP/1.1 head it writes, and the response translation (fields kept
 * and dropped, Content-Length, chunked and close-delimited bodies, HEAD,
 * interim responses, malformed and cut responses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "h2msg.h"

struct field {
	const char *name, *value;
};

#define BASE                                                              \
	{ ":method", "POST" }, { ":scheme", "https" },                    \
	    { ":authority", "dynamodb.us-east-1.amazonaws.com" },         \
	    { ":path", "/" }

/* Feeds fields (up to a NULL name); returns the first non-OK result, or
 * the result of finish(body_len). */
static int
run(struct h2msg_request *r, const struct field *f, uint64_t body_len,
    const char **err)
{
	int rc;

	h2msg_request_init(r, 16384);
	*err = NULL;
	for (; f->name != NULL; f++) {
		rc = h2msg_request_field(r, f->name, strlen(f->name), f->value,
		    strlen(f->value), err);
		if (rc != H2MSG_OK)
			return rc;
	}
	return h2msg_request_finish(r, body_len, err);
}

static void
expect_bad(const struct field *f, uint64_t body_len, const char *why)
{
	struct h2msg_request r;
	const char *err;
	int rc = run(&r, f, body_len, &err);

	if (rc != H2MSG_BAD)
		fail_msg("accepted (rc %d), expected refusal: %s", rc, why);
	assert_non_null(err);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, why);
	h2msg_request_clear(&r);
}

static void
test_request_head(void **state)
{
	const struct field f[] = { BASE,
		{ "x-amz-target", "DynamoDB_20120810.GetItem" },
		{ "content-type", "application/x-amz-json-1.0" },
		{ "host", "DynamoDB.us-east-1.amazonaws.com" },
		{ "content-length", "13" }, { "te", "trailers" },
		{ "expect", "100-continue" },
		{ "authorization", "AWS4-HMAC-SHA256 Credential=x" },
		{ NULL, NULL } };
	struct h2msg_request r;
	const char *err;
	size_t len;
	char *head;

	(void)state;
	assert_int_equal(run(&r, f, 13, &err), H2MSG_OK);
	head = h2msg_request_head(&r, &len);
	assert_non_null(head);
	assert_int_equal(len, strlen(head));
	assert_string_equal(head,
	    "POST / HTTP/1.1\r\n"
	    "Host: dynamodb.us-east-1.amazonaws.com\r\n"
	    "x-amz-target: DynamoDB_20120810.GetItem\r\n"
	    "content-type: application/x-amz-json-1.0\r\n"
	    "authorization: AWS4-HMAC-SHA256 Credential=x\r\n"
	    "Content-Length: 13\r\n\r\n");
	free(head);
	h2msg_request_clear(&r);
}

static void
test_request_get_without_body(void **state)
{
	const struct field f[] = { { ":method", "GET" },
		{ ":scheme", "https" }, { ":authority", "a.example:443" },
		{ ":path", "/ping?x=1" }, { NULL, NULL } };
	struct h2msg_request r;
	const char *err;
	size_t len;
	char *head;

	(void)state;
	assert_int_equal(run(&r, f, 0, &err), H2MSG_OK);
	head = h2msg_request_head(&r, &len);
	assert_string_equal(head, "GET /ping?x=1 HTTP/1.1\r\n"
	    "Host: a.example:443\r\nContent-Length: 0\r\n\r\n");
	free(head);
	h2msg_request_clear(&r);
}

static void
test_request_pseudo_fields(void **state)
{
	(void)state;
	expect_bad((const struct field[]){ { ":scheme", "https" },
	    { ":authority", "a.example" }, { ":path", "/" }, { NULL, NULL } },
	    0, "missing :method");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":authority", "a.example" }, { ":path", "/" }, { NULL, NULL } },
	    0, "missing :method, :scheme or :path");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "a.example" },
	    { NULL, NULL } }, 0, ":path");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":path", "/" }, { NULL, NULL } }, 0,
	    "missing :authority");
	expect_bad((const struct field[]){ BASE, { ":method", "GET" },
	    { NULL, NULL } }, 0, "repeated :method");
	expect_bad((const struct field[]){ BASE, { ":path", "/" },
	    { NULL, NULL } }, 0, "repeated");
	expect_bad((const struct field[]){ BASE, { ":authority", "b" },
	    { NULL, NULL } }, 0, "repeated");
	expect_bad((const struct field[]){ BASE, { ":protocol", "x" },
	    { NULL, NULL } }, 0, "unknown pseudo-header");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { "x-a", "1" }, { ":scheme", "https" }, { NULL, NULL } }, 0,
	    "after a regular field");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "http" }, { ":authority", "a" }, { ":path", "/" },
	    { NULL, NULL } }, 0, ":scheme is not https");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "a" }, { ":path", "*" },
	    { NULL, NULL } }, 0, "origin form");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "a" },
	    { ":path", "http://a/" }, { NULL, NULL } }, 0, "origin form");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "a" },
	    { ":path", "/a b" }, { NULL, NULL } }, 0, "request target");
	expect_bad((const struct field[]){ { ":method", "PO ST" },
	    { ":scheme", "https" }, { ":authority", "a" }, { ":path", "/" },
	    { NULL, NULL } }, 0, "token");
	expect_bad((const struct field[]){ { ":method", "CONNECT" },
	    { ":scheme", "https" }, { ":authority", "a:443" },
	    { ":path", "/" }, { NULL, NULL } }, 0, "CONNECT");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "user@a" },
	    { ":path", "/" }, { NULL, NULL } }, 0, "host[:port]");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", "a:44x" },
	    { ":path", "/" }, { NULL, NULL } }, 0, "host[:port]");
	expect_bad((const struct field[]){ { ":method", "POST" },
	    { ":scheme", "https" }, { ":authority", ":443" },
	    { ":path", "/" }, { NULL, NULL } }, 0, "host[:port]");
}

static void
test_request_regular_fields(void **state)
{
	(void)state;
	expect_bad((const struct field[]){ BASE, { "X-Amz-Target", "x" },
	    { NULL, NULL } }, 0, "upper-case");
	expect_bad((const struct field[]){ BASE, { "x amz", "x" },
	    { NULL, NULL } }, 0, "not a token");
	expect_bad((const struct field[]){ BASE, { "x-a", "a\r\nb: c" },
	    { NULL, NULL } }, 0, "control character");
	expect_bad((const struct field[]){ BASE, { "x-a", "a\nb" },
	    { NULL, NULL } }, 0, "control character");
	expect_bad((const struct field[]){ BASE, { "x-a", " a" },
	    { NULL, NULL } }, 0, "white space");
	expect_bad((const struct field[]){ BASE, { "x-a", "a\t" },
	    { NULL, NULL } }, 0, "white space");
	expect_bad((const struct field[]){ BASE, { "connection", "close" },
	    { NULL, NULL } }, 0, "connection-specific");
	expect_bad((const struct field[]){ BASE, { "keep-alive", "1" },
	    { NULL, NULL } }, 0, "connection-specific");
	expect_bad((const struct field[]){ BASE,
	    { "proxy-connection", "x" }, { NULL, NULL } }, 0,
	    "connection-specific");
	expect_bad((const struct field[]){ BASE,
	    { "transfer-encoding", "chunked" }, { NULL, NULL } }, 0,
	    "connection-specific");
	expect_bad((const struct field[]){ BASE, { "upgrade", "h2c" },
	    { NULL, NULL } }, 0, "connection-specific");
	expect_bad((const struct field[]){ BASE, { "te", "gzip" },
	    { NULL, NULL } }, 0, "TE other than");
	expect_bad((const struct field[]){ BASE, { "host", "other.example" },
	    { NULL, NULL } }, 0, "Host disagrees");
	expect_bad((const struct field[]){ BASE, { "host", "a" },
	    { "host", "a" }, { NULL, NULL } }, 0, "Host repeated");
	expect_bad((const struct field[]){ BASE, { "content-length", "5" },
	    { NULL, NULL } }, 4, "disagrees with the DATA");
	expect_bad((const struct field[]){ BASE, { "content-length", "5" },
	    { NULL, NULL } }, 6, "disagrees with the DATA");
	expect_bad((const struct field[]){ BASE, { "content-length", "1" },
	    { "content-length", "1" }, { NULL, NULL } }, 1, "repeated");
	expect_bad((const struct field[]){ BASE, { "content-length", "+1" },
	    { NULL, NULL } }, 1, "not a number");
	expect_bad((const struct field[]){ BASE, { "content-length", "" },
	    { NULL, NULL } }, 0, "empty");
	expect_bad((const struct field[]){ BASE,
	    { "content-length", "99999999999999999999" }, { NULL, NULL } },
	    0, "too long");
}

static void
test_request_limits(void **state)
{
	struct h2msg_request r;
	const char *err = NULL;
	char name[16];
	int rc = H2MSG_OK;

	(void)state;
	/* the header list size counts name + value + 32 per field */
	h2msg_request_init(&r, 100);
	assert_int_equal(h2msg_request_field(&r, "x-a", 3, "1234567890", 10,
	    &err), H2MSG_OK); /* 45 */
	assert_int_equal(h2msg_request_field(&r, "x-b", 3, "1234567890", 10,
	    &err), H2MSG_OK); /* 90 */
	assert_int_equal(h2msg_request_field(&r, "x-c", 3, "1", 1, &err),
	    H2MSG_TOO_LARGE);
	h2msg_request_clear(&r);
	/* and the number of fields stays under the HTTP/1 parser's */
	h2msg_request_init(&r, 1u << 20);
	for (int i = 0; i <= H2MSG_MAX_FIELDS && rc == H2MSG_OK; i++) {
		snprintf(name, sizeof(name), "x-%d", i);
		rc = h2msg_request_field(&r, name, strlen(name), "v", 1, &err);
	}
	assert_int_equal(rc, H2MSG_TOO_LARGE);
	assert_int_equal(r.nfields, H2MSG_MAX_FIELDS);
	h2msg_request_clear(&r);
}

/* ---- responses ------------------------------------------------------------- */

struct fed {
	struct h2msg_response r;
	struct evbuffer *in, *data;
	int rc;
	const char *err;
};

static void
feed(struct fed *f, const char *bytes, bool eof)
{
	evbuffer_add(f->in, bytes, strlen(bytes));
	f->rc = h2msg_response_feed(&f->r, f->in, f->data, eof, &f->err);
}

static void
fed_init(struct fed *f, bool is_head)
{
	memset(f, 0, sizeof(*f));
	h2msg_response_init(&f->r, 16384);
	f->r.is_head = is_head;
	f->in = evbuffer_new();
	f->data = evbuffer_new();
}

static void
fed_free(struct fed *f)
{
	h2msg_response_clear(&f->r);
	evbuffer_free(f->in);
	evbuffer_free(f->data);
}

static char *
data_string(struct fed *f)
{
	size_t n = evbuffer_get_length(f->data);
	char *s = calloc(1, n + 1);

	evbuffer_remove(f->data, s, n);
	return s;
}

/* The HEADERS fields as "name: value\n" lines. */
static void
expect_nv(const struct h2msg_response *r, const char *want)
{
	nghttp2_nv nva[HTTP1_MAX_HEADERS + 1];
	size_t n = h2msg_response_nv(r, nva, HTTP1_MAX_HEADERS + 1);
	char got[2048] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got),
		    "%.*s: %.*s\n", (int)nva[i].namelen,
		    (const char *)nva[i].name, (int)nva[i].valuelen,
		    (const char *)nva[i].value);
	assert_string_equal(got, want);
}

static void
test_response_length(void **state)
{
	struct fed f;
	char *body;

	(void)state;
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0"
	    "\r\nX-Amzn-RequestId: R1\r\nConnection: close, X-Hop\r\n"
	    "X-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
	    "Content-Length: 10\r\n\r\n01234", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.head_done);
	assert_false(f.r.done);
	expect_nv(&f.r, ":status: 200\ncontent-type: application/x-amz-json-"
	    "1.0\nx-amzn-requestid: R1\ncontent-length: 10\n");
	feed(&f, "56789", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.done);
	body = data_string(&f);
	assert_string_equal(body, "0123456789");
	free(body);
	/* anything after the framed end is an error */
	feed(&f, "x", false);
	assert_int_equal(f.rc, -1);
	fed_free(&f);
}

static void
test_response_chunked(void **state)
{
	struct fed f;
	char *body;

	(void)state;
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Type: text/plain\r\n\r\n4;ext=1\r\nab", false);
	assert_int_equal(f.rc, 0);
	expect_nv(&f.r, ":status: 200\ncontent-type: text/plain\n");
	feed(&f, "cd\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n", false);
	assert_int_equal(f.rc, 0);
	assert_false(f.r.done);
	feed(&f, "\r\n", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.done);
	body = data_string(&f);
	assert_string_equal(body, "abcd0123456789");
	free(body);
	fed_free(&f);

	/* leading zeros, as the HTTP/1 scanner allows them */
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "00000000000000002\r\nab\r\n0000;x=1\r\n\r\n", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.done);
	body = data_string(&f);
	assert_string_equal(body, "ab");
	free(body);
	fed_free(&f);

	/* but not more than 16 significant digits */
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10000000000000000\r\n", false);
	assert_int_equal(f.rc, -1);
	fed_free(&f);

	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n", false);
	assert_int_equal(f.rc, -1);
	assert_non_null(f.err);
	fed_free(&f);

	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nabXY", false);
	assert_int_equal(f.rc, -1);
	fed_free(&f);
}

static void
test_response_close_head_interim(void **state)
{
	struct fed f;
	char *body;

	(void)state;
	/* delimited by the end of the connection */
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\n\r\nuntil", false);
	assert_int_equal(f.rc, 0);
	assert_false(f.r.done);
	feed(&f, " close", true);
	assert_true(f.r.done);
	body = data_string(&f);
	assert_string_equal(body, "until close");
	free(body);
	fed_free(&f);

	/* HEAD: no body whatever Content-Length says; the length is kept */
	fed_init(&f, true);
	feed(&f, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.done);
	expect_nv(&f.r, ":status: 200\ncontent-length: 99\n");
	fed_free(&f);

	/* interim 100 is skipped */
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 0\r\n\r\n", false);
	assert_int_equal(f.rc, 0);
	assert_true(f.r.done);
	assert_int_equal(f.r.status, 404);
	fed_free(&f);
}

static void
test_response_malformed_and_cut(void **state)
{
	struct fed f;

	(void)state;
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", false);
	assert_int_equal(f.rc, -1);
	fed_free(&f);

	fed_init(&f, false);
	feed(&f, "HTTP/1.1 101 Switching Protocols\r\n\r\n", false);
	assert_int_equal(f.rc, -1);
	fed_free(&f);

	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nContent-Le", true);
	assert_int_equal(f.rc, -1); /* an incomplete head at the end */
	fed_free(&f);

	/* cut body: no error here, but not done (the codec resets) */
	fed_init(&f, false);
	feed(&f, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", true);
	assert_int_equal(f.rc, 0);
	assert_false(f.r.done);
	fed_free(&f);

	/* nothing at all */
	fed_init(&f, false);
	feed(&f, "", true);
	assert_int_equal(f.rc, 0);
	assert_false(f.r.head_done);
	fed_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_head),
		cmocka_unit_test(test_request_get_without_body),
		cmocka_unit_test(test_request_pseudo_fields),
		cmocka_unit_test(test_request_regular_fields),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_response_length),
		cmocka_unit_test(test_response_chunked),
		cmocka_unit_test(test_response_close_head_interim),
		cmocka_unit_test(test_response_malformed_and_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
