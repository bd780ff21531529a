/*
 * Unit tests for http1: the strict head parser and the chunked scanner.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http1.h"

#define MAX_HEAD 16384

/* A string literal with its length, so that NUL bytes survive. */
#define S(lit) (lit), (sizeof(lit) - 1)

#define BOTOCORE_BODY \
    "{\"TableName\":\"Orders\",\"Key\":{\"id\":{\"S\":\"1\"}}}"

static const char botocore_head[] =
    "POST / HTTP/1.1\r\n"
    "Host: dynamodb.us-east-1.amazonaws.com\r\n"
    "Accept-Encoding: identity\r\n"
    "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
    "Content-Type: application/x-amz-json-1.0\r\n"
    "User-Agent: Boto3/1.26.27 Python/3.11.2 Linux/6.1.0 Botocore/1.29.27\r\n"
    "X-Amz-Date: 20240102T030405Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20240102/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
    "Signature=0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef\r\n"
    "Content-Length: 45\r\n"
    "\r\n";

/* --- helpers ------------------------------------------------------------ */

static enum http1_status
req_parse(const char *buf, size_t len, struct http1_request *req,
    enum http1_error *err)
{
	return http1_parse_request(buf, len, MAX_HEAD, req, err);
}

static void
assert_req_error(const char *buf, size_t len, enum http1_error want)
{
	struct http1_request req;
	enum http1_error err;

	assert_int_equal(req_parse(buf, len, &req, &err), HTTP1_ERROR);
	assert_int_equal(err, want);
}

static void
assert_req_ok(const char *buf, size_t len, struct http1_request *req)
{
	enum http1_error err;

	assert_int_equal(req_parse(buf, len, req, &err), HTTP1_OK);
	assert_int_equal(err, HTTP1_E_NONE);
	assert_int_equal(req->head_len, len);
}

static void
assert_resp_error(const char *buf, size_t len, bool head,
    enum http1_error want)
{
	struct http1_response resp;
	enum http1_error err;

	assert_int_equal(http1_parse_response(buf, len, MAX_HEAD, head, &resp,
	    &err), HTTP1_ERROR);
	assert_int_equal(err, want);
}

static void
assert_resp_ok(const char *buf, size_t len, bool head,
    struct http1_response *resp)
{
	enum http1_error err;

	assert_int_equal(http1_parse_response(buf, len, MAX_HEAD, head, resp,
	    &err), HTTP1_OK);
	assert_int_equal(err, HTTP1_E_NONE);
	assert_int_equal(resp->head_len, len);
}

static bool
span_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Builds "GET / HTTP/1.1\r\nHost: h\r\n" + extra + "\r\n" into out. */
static size_t
build_req(char *out, size_t size, const char *extra)
{
	int n = snprintf(out, size, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n",
	    extra);

	assert_true(n > 0 && (size_t)n < size);
	return (size_t)n;
}

static void
assert_req_extra_error(const char *extra, enum http1_error want)
{
	char buf[1024];

	assert_req_error(buf, build_req(buf, sizeof(buf), extra), want);
}

/*
 * Feeds every prefix of buf: each must be AGAIN until the first error,
 * which must be the one the whole input gives, and stay so after.
 */
static void
assert_req_prefixes_consistent(const char *buf, size_t len)
{
	struct http1_request req;
	enum http1_error full_err, err;
	enum http1_status full, st;
	size_t k;
	bool failed = false;

	full = req_parse(buf, len, &req, &full_err);
	for (k = 0; k < len; k++) {
		st = req_parse(buf, k, &req, &err);
		if (st == HTTP1_AGAIN && !failed)
			continue;
		assert_int_equal(st, HTTP1_ERROR);
		assert_int_equal(full, HTTP1_ERROR);
		assert_int_equal(err, full_err);
		failed = true;
	}
}

/* --- requests: valid ----------------------------------------------------- */

static void
test_request_botocore_getitem(void **state)
{
	struct http1_request req;
	const struct http1_header *h;

	assert_req_ok(S(botocore_head), &req);
	assert_true(span_is(req.method, req.method_len, "POST"));
	assert_true(span_is(req.target, req.target_len, "/"));
	assert_int_equal(req.target_form, HTTP1_TARGET_ORIGIN);
	assert_int_equal(req.minor_version, 1);
	assert_int_equal(req.nheaders, 8);
	assert_int_equal(req.body, HTTP1_BODY_LENGTH);
	assert_int_equal(req.content_length, strlen(BOTOCORE_BODY));
	assert_true(req.keep_alive);
	assert_false(req.expect_continue);
	assert_true(span_is(req.host, req.host_len,
	    "dynamodb.us-east-1.amazonaws.com"));
	h = http1_header_find(req.headers, req.nheaders, "x-amz-target");
	assert_non_null(h);
	assert_true(span_is(h->value, h->value_len,
	    "DynamoDB_20120810.GetItem"));
	h = http1_header_find(req.headers, req.nheaders, "CONTENT-TYPE");
	assert_non_null(h);
	assert_true(span_is(h->value, h->value_len,
	    "application/x-amz-json-1.0"));
	h = http1_header_find(req.headers, req.nheaders, "Authorization");
	assert_non_null(h);
	assert_int_equal(h->value_len, strlen(h->value) -
	    strlen("\r\nContent-Length: 45\r\n\r\n"));
}

static void
test_request_head_len_excludes_body(void **state)
{
	static const char msg[] =
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
	struct http1_request req;
	enum http1_error err;

	assert_int_equal(req_parse(S(msg), &req, &err), HTTP1_OK);
	assert_int_equal(req.head_len, sizeof(msg) - 1 - 5);
	assert_int_equal(req.content_length, 5);
}

static void
test_request_get_without_body(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET /health HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.body, HTTP1_BODY_NONE);
	assert_int_equal(req.nheaders, 1);
	assert_true(span_is(req.target, req.target_len, "/health"));
}

static void
test_request_content_length_zero_has_length(void **state)
{
	struct http1_request req;

	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0\r\n\r\n"), &req);
	assert_int_equal(req.body, HTTP1_BODY_LENGTH);
	assert_int_equal(req.content_length, 0);
}

static void
test_request_pipelined_two_requests(void **state)
{
	char buf[4096];
	size_t len, off;
	struct http1_request req;
	enum http1_error err;

	len = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s", botocore_head,
	    BOTOCORE_BODY, "GET /x HTTP/1.1\r\nHost: other\r\n\r\n",
	    "DELETE /y HTTP/1.1\r\nHost: third\r\nConnection: close\r\n\r\n");
	assert_int_equal(req_parse(buf, len, &req, &err), HTTP1_OK);
	assert_int_equal(req.head_len, sizeof(botocore_head) - 1);
	off = req.head_len + req.content_length;
	assert_int_equal(req_parse(buf + off, len - off, &req, &err), HTTP1_OK);
	assert_true(span_is(req.method, req.method_len, "GET"));
	assert_true(span_is(req.host, req.host_len, "other"));
	assert_true(req.keep_alive);
	off += req.head_len;
	assert_int_equal(req_parse(buf + off, len - off, &req, &err), HTTP1_OK);
	assert_true(span_is(req.method, req.method_len, "DELETE"));
	assert_true(span_is(req.host, req.host_len, "third"));
	assert_false(req.keep_alive);
	assert_int_equal(off + req.head_len, len);
}

static void
test_request_every_prefix_is_again(void **state)
{
	struct http1_request req;
	enum http1_error err;
	size_t k;

	for (k = 0; k < sizeof(botocore_head) - 1; k++) {
		assert_int_equal(req_parse(botocore_head, k, &req, &err),
		    HTTP1_AGAIN);
		assert_int_equal(err, HTTP1_E_NONE);
	}
	assert_int_equal(req_parse(S(botocore_head), &req, &err), HTTP1_OK);
}

static void
test_request_byte_by_byte_copy(void **state)
{
	char buf[sizeof(botocore_head)];
	struct http1_request req;
	enum http1_error err;
	size_t k;

	/* Each call sees only the bytes received so far, nothing past them. */
	for (k = 1; k < sizeof(botocore_head) - 1; k++) {
		char *p = malloc(k);

		assert_non_null(p);
		memcpy(p, botocore_head, k);
		assert_int_equal(req_parse(p, k, &req, &err), HTTP1_AGAIN);
		free(p);
	}
	memcpy(buf, botocore_head, sizeof(buf));
	assert_int_equal(req_parse(buf, sizeof(buf) - 1, &req, &err),
	    HTTP1_OK);
}

static void
test_request_http10_without_host(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET / HTTP/1.0\r\n\r\n"), &req);
	assert_int_equal(req.minor_version, 0);
	assert_null(req.host);
	assert_int_equal(req.host_len, 0);
	assert_false(req.keep_alive);
}

static void
test_request_http10_keep_alive(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
	    &req);
	assert_true(req.keep_alive);
	assert_req_ok(S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n"), &req);
	assert_false(req.keep_alive);
	assert_req_ok(S("GET / HTTP/1.0\r\nHost: h\r\n\r\n"), &req);
	assert_true(span_is(req.host, req.host_len, "h"));
}

static void
test_request_http11_connection_tokens(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: TE, CLOSE\r\n\r\n"), &req);
	assert_false(req.keep_alive);
	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\n"
	    "Connection: ,  close ,\r\n\r\n"), &req);
	assert_false(req.keep_alive);
	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: closed, xclose\r\n\r\n"), &req);
	assert_true(req.keep_alive);
	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: keep-alive\r\n\r\n"), &req);
	assert_true(req.keep_alive);
}

static void
test_request_target_forms(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_ORIGIN);
	assert_req_ok(S("GET http://h:80/x HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_ABSOLUTE);
	assert_req_ok(S("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_ABSOLUTE);
	assert_req_ok(S("GET a+b-c.d://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_ABSOLUTE);
	assert_req_ok(S("CONNECT dynamodb.us-east-1.amazonaws.com:443 "
	    "HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com:443\r\n\r\n"),
	    &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_AUTHORITY);
	assert_req_ok(S("CONNECT [::1]:443 HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_AUTHORITY);
	assert_req_ok(S("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_ASTERISK);
	assert_req_ok(S("OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_AUTHORITY);
	/* The first '/' is not part of "://": not absolute. */
	assert_req_ok(S("GET h:1/a://b HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_AUTHORITY);
	assert_req_ok(S("GET a:/b HTTP/1.1\r\nHost: h\r\n\r\n"), &req);
	assert_int_equal(req.target_form, HTTP1_TARGET_AUTHORITY);
}

static void
test_request_absolute_target_bad_scheme(void **state)
{
	assert_req_error(S("GET ://h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_TARGET);
	assert_req_error(S("GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_TARGET);
	assert_req_error(S("GET ht*tp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_TARGET);
}

static void
test_request_expect_100_continue(void **state)
{
	struct http1_request req;

	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	    "Expect: 100-Continue\r\n\r\n"), &req);
	assert_true(req.expect_continue);
	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "expect:  100-continue \r\n\r\n"), &req);
	assert_true(req.expect_continue);
	/* RFC 9110 section 10.1.1: a server ignores it from HTTP/1.0. */
	assert_req_ok(S("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"),
	    &req);
	assert_false(req.expect_continue);
}

static void
test_request_header_value_ows_trimmed(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a \t b \t\r\n"
	    "X-B:\r\nX-C: \t \r\nX-D:\tv\r\n\r\n"), &req);
	assert_int_equal(req.nheaders, 5);
	assert_true(span_is(req.host, req.host_len, "h"));
	assert_true(span_is(req.headers[1].value, req.headers[1].value_len,
	    "a \t b"));
	assert_int_equal(req.headers[2].value_len, 0);
	assert_int_equal(req.headers[3].value_len, 0);
	assert_true(span_is(req.headers[4].value, req.headers[4].value_len,
	    "v"));
	assert_true(span_is(req.headers[4].name, req.headers[4].name_len,
	    "X-D"));
}

static void
test_request_header_value_obs_text_allowed(void **state)
{
	struct http1_request req;

	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\xff\r\n"
	    "\r\n"), &req);
	assert_int_equal(req.headers[1].value_len, 6);
}

static void
test_request_content_length_leading_zeros(void **state)
{
	struct http1_request req;

	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 007\r\n\r\n"), &req);
	assert_int_equal(req.content_length, 7);
	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "content-length:  12 \r\n\r\n"), &req);
	assert_int_equal(req.content_length, 12);
}

static void
test_request_content_length_uint64_max(void **state)
{
	struct http1_request req;

	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 18446744073709551615\r\n\r\n"), &req);
	assert_true(req.content_length == UINT64_MAX);
}

static void
test_request_exactly_max_headers(void **state)
{
	char buf[8192];
	size_t len, i;
	struct http1_request req;
	enum http1_error err;

	len = (size_t)snprintf(buf, sizeof(buf),
	    "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP1_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "X-%zu: %zu\r\n", i, i);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n");
	assert_int_equal(req_parse(buf, len, &req, &err), HTTP1_OK);
	assert_int_equal(req.nheaders, HTTP1_MAX_HEADERS);
}

/* --- requests: errors ---------------------------------------------------- */

static void
test_request_bare_lf_rejected(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\nHost: h\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\n\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET /\n HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
}

static void
test_request_bare_cr_rejected(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\rHost: h\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
	assert_req_error(S("GE\rT / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_LINE_ENDING);
}

static void
test_request_leading_empty_line_rejected(void **state)
{
	assert_req_error(S("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_REQUEST_LINE);
	assert_req_error(S("\r\n\r\n"), HTTP1_E_REQUEST_LINE);
}

static void
test_request_line_shape(void **state)
{
	/* Two spaces, leading space, trailing space, missing parts. */
	assert_req_error(S("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_REQUEST_LINE);
	assert_req_error(S(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_REQUEST_LINE);
	assert_req_error(S("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"),
	    HTTP1_E_REQUEST_LINE);
	assert_req_error(S("GET /\r\n\r\n"), HTTP1_E_REQUEST_LINE);
	assert_req_error(S("GET\r\n\r\n"), HTTP1_E_REQUEST_LINE);
	assert_req_error(S("GET / \r\n\r\n"), HTTP1_E_VERSION);
}

static void
test_request_method_not_token(void **state)
{
	assert_req_error(S("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_METHOD);
	assert_req_error(S("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_METHOD);
	assert_req_error(S("G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_METHOD);
}

static void
test_request_every_method_byte(void **state)
{
	static const char tmpl[] = "GXT / HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char tchars[] = "!#$%&'*+-.^_`|~";
	char buf[64];
	struct http1_request req;
	enum http1_error err;
	enum http1_status st;
	int c;

	for (c = 0; c < 256; c++) {
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c != 0 && strchr(tchars, c));

		memcpy(buf, tmpl, sizeof(tmpl));
		buf[1] = (char)c;
		st = req_parse(buf, sizeof(tmpl) - 1, &req, &err);
		if (ok) {
			assert_int_equal(st, HTTP1_OK);
		} else {
			assert_int_equal(st, HTTP1_ERROR);
			assert_true(err == HTTP1_E_METHOD ||
			    err == HTTP1_E_LINE_ENDING ||
			    (c == ' ' && err == HTTP1_E_VERSION));
		}
	}
}

static void
test_request_every_target_byte(void **state)
{
	static const char tmpl[] = "GET /X HTTP/1.1\r\nHost: h\r\n\r\n";
	char buf[64];
	struct http1_request req;
	enum http1_error err;
	enum http1_status st;
	int c;

	for (c = 0; c < 256; c++) {
		memcpy(buf, tmpl, sizeof(tmpl));
		buf[5] = (char)c;
		st = req_parse(buf, sizeof(tmpl) - 1, &req, &err);
		if (c >= 0x21 && c <= 0x7e) {
			assert_int_equal(st, HTTP1_OK);
			assert_int_equal(req.target_len, 2);
		} else {
			assert_int_equal(st, HTTP1_ERROR);
			assert_true(err == HTTP1_E_TARGET ||
			    err == HTTP1_E_LINE_ENDING ||
			    (c == ' ' && err == HTTP1_E_VERSION));
		}
	}
}

static void
test_request_target_nul_rejected(void **state)
{
	assert_req_error(S("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_TARGET);
	assert_req_error(S("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_TARGET);
}

static void
test_request_version_exact(void **state)
{
	assert_req_error(S("GET / HTTP/1.2\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET / HTTP/2.0\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET / http/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET / HTTP/1.10\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET / HTTP/1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET / HTTP/1.1x\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
	assert_req_error(S("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP1_E_VERSION);
}

static void
test_request_error_found_before_line_end(void **state)
{
	/* Partial input: the bad byte is enough, no CRLF needed. */
	assert_req_error(S("GE\x01"), HTTP1_E_METHOD);
	assert_req_error(S("GET /\x7f"), HTTP1_E_TARGET);
	assert_req_error(S("GET / HTTP/2"), HTTP1_E_VERSION);
	assert_req_error(S("GET / HTTP/1.1\r\nX\x01"), HTTP1_E_HEADER_NAME);
	assert_req_error(S("GET / HTTP/1.1\r\nX: a\0"), HTTP1_E_HEADER_VALUE);
	assert_req_error(S("GET / HTTP/1.1\r\nX: a\r\n b"), HTTP1_E_OBS_FOLD);
	assert_req_error(S("GET / HTTP/1.1\r\nX: a\n"), HTTP1_E_LINE_ENDING);
	assert_req_error(S("GET / HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n"), HTTP1_E_CL_REPEATED);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n"),
	    HTTP1_E_HOST_REPEATED);
}

static void
test_request_prefixes_give_the_same_error(void **state)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 3\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n",
		"GET / HTTP/1.1\r\nX: y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: y\rZ\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\tX: y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nExpect: nope\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
		"\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_req_prefixes_consistent(bad[i], strlen(bad[i]));
	assert_req_prefixes_consistent(S(botocore_head));
}

static void
test_request_obs_fold_rejected(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"),
	    HTTP1_E_OBS_FOLD);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"),
	    HTTP1_E_OBS_FOLD);
	/* Whitespace between the start line and the first field. */
	assert_req_error(S("GET / HTTP/1.1\r\n Host: h\r\n\r\n"),
	    HTTP1_E_OBS_FOLD);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\n \r\n\r\n"),
	    HTTP1_E_OBS_FOLD);
}

static void
test_request_header_name_space_before_colon(void **state)
{
	assert_req_extra_error("Content-Length : 5\r\n", HTTP1_E_HEADER_NAME);
	assert_req_extra_error("Transfer-Encoding : chunked\r\n",
	    HTTP1_E_HEADER_NAME);
	assert_req_extra_error("Transfer-Encoding\t: chunked\r\n",
	    HTTP1_E_HEADER_NAME);
	assert_req_error(S("GET / HTTP/1.1\r\nHost : h\r\n\r\n"),
	    HTTP1_E_HEADER_NAME);
}

static void
test_request_header_name_malformed(void **state)
{
	assert_req_extra_error(": v\r\n", HTTP1_E_HEADER_NAME);
	assert_req_extra_error("NoColon\r\n", HTTP1_E_HEADER_NAME);
	assert_req_extra_error("X Y: v\r\n", HTTP1_E_HEADER_NAME);
	assert_req_extra_error("X(Y): v\r\n", HTTP1_E_HEADER_NAME);
	assert_req_extra_error("X\xc3\xa9: v\r\n", HTTP1_E_HEADER_NAME);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX\0Y: v\r\n\r\n"),
	    HTTP1_E_HEADER_NAME);
}

static void
test_request_every_header_name_byte(void **state)
{
	static const char tmpl[] = "GET / HTTP/1.1\r\nHost: h\r\nXY: v\r\n\r\n";
	static const char tchars[] = "!#$%&'*+-.^_`|~";
	char buf[64];
	struct http1_request req;
	enum http1_error err;
	enum http1_status st;
	int c;

	for (c = 0; c < 256; c++) {
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c != 0 && strchr(tchars, c));

		memcpy(buf, tmpl, sizeof(tmpl));
		buf[26] = (char)c; /* the Y */
		st = req_parse(buf, sizeof(tmpl) - 1, &req, &err);
		if (c == ':') {
			/* "X:: v" is the field X with the value ": v". */
			assert_int_equal(st, HTTP1_OK);
			assert_int_equal(req.headers[1].name_len, 1);
		} else if (ok) {
			assert_int_equal(st, HTTP1_OK);
			assert_int_equal(req.headers[1].name_len, 2);
		} else {
			assert_int_equal(st, HTTP1_ERROR);
			assert_true(err == HTTP1_E_HEADER_NAME ||
			    err == HTTP1_E_LINE_ENDING);
		}
	}
}

static void
test_request_every_header_value_byte(void **state)
{
	static const char tmpl[] =
	    "GET / HTTP/1.1\r\nHost: h\r\nX: aZb\r\n\r\n";
	char buf[64];
	struct http1_request req;
	enum http1_error err;
	enum http1_status st;
	int c;

	for (c = 0; c < 256; c++) {
		bool ok = c == '\t' || c >= 0x20;

		if (c == 0x7f)
			ok = false;
		memcpy(buf, tmpl, sizeof(tmpl));
		buf[29] = (char)c; /* the Z */
		st = req_parse(buf, sizeof(tmpl) - 1, &req, &err);
		if (ok) {
			assert_int_equal(st, HTTP1_OK);
			assert_int_equal(req.headers[1].value_len, 3);
		} else if (c == '\r' || c == '\n') {
			assert_int_equal(st, HTTP1_ERROR);
			assert_int_equal(err, HTTP1_E_LINE_ENDING);
		} else {
			assert_int_equal(st, HTTP1_ERROR);
			assert_int_equal(err, HTTP1_E_HEADER_VALUE);
		}
	}
}

static void
test_request_nul_and_del_in_value_rejected(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\0evil\r\n\r\n"),
	    HTTP1_E_HEADER_VALUE);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n"),
	    HTTP1_E_HEADER_VALUE);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n"),
	    HTTP1_E_HEADER_VALUE);
}

static void
test_request_head_too_large(void **state)
{
	static const char msg[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t n = sizeof(msg) - 1;
	struct http1_request req;
	enum http1_error err;

	/* A head that ends exactly at max_head is fine. */
	assert_int_equal(http1_parse_request(msg, n, n, &req, &err), HTTP1_OK);
	assert_int_equal(req.head_len, n);
	/* One byte short of it, with or without more bytes following. */
	assert_int_equal(http1_parse_request(msg, n, n - 1, &req, &err),
	    HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	assert_int_equal(http1_parse_request(msg, n - 1, n - 1, &req, &err),
	    HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	/* Fewer than max_head bytes and no end yet: wait. */
	assert_int_equal(http1_parse_request(msg, n - 2, n - 1, &req, &err),
	    HTTP1_AGAIN);
	/* The bytes after max_head do not matter. */
	assert_int_equal(http1_parse_request(S("GET / HTTP/1.1\r\nX: aaaa"),
	    10, &req, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	assert_int_equal(http1_error_status(err), 431);
}

static void
test_request_head_too_large_big_field(void **state)
{
	static char buf[MAX_HEAD + 64];
	size_t len;
	struct http1_request req;
	enum http1_error err;

	len = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ");
	memset(buf + len, 'a', sizeof(buf) - len);
	assert_int_equal(req_parse(buf, sizeof(buf), &req, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	assert_int_equal(req_parse(buf, MAX_HEAD - 1, &req, &err),
	    HTTP1_AGAIN);
	assert_int_equal(req_parse(buf, MAX_HEAD, &req, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
}

static void
test_request_too_many_headers(void **state)
{
	char buf[8192];
	size_t len, i;
	struct http1_request req;
	enum http1_error err;

	len = (size_t)snprintf(buf, sizeof(buf),
	    "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 0; i < HTTP1_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "X-%zu: %zu\r\n", i, i);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n");
	assert_int_equal(req_parse(buf, len, &req, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_TOO_MANY_HEADERS);
	assert_int_equal(http1_error_status(err), 431);
}

static void
test_request_content_length_malformed(void **state)
{
	static const char *bad[] = {
		"Content-Length: +5\r\n",
		"Content-Length: -5\r\n",
		"Content-Length: 5, 5\r\n",
		"Content-Length: 5,5\r\n",
		"Content-Length: 5 5\r\n",
		"Content-Length:\r\n",
		"Content-Length: \r\n",
		"Content-Length: 0x5\r\n",
		"Content-Length: 5a\r\n",
		"Content-Length: 1e3\r\n",
		"Content-Length: \"5\"\r\n",
		"Content-Length: 18446744073709551616\r\n",
		"Content-Length: 99999999999999999999999\r\n",
		"Content-Length: \xd9\xa5\r\n", /* Arabic-Indic five */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_req_extra_error(bad[i], HTTP1_E_CONTENT_LENGTH);
}

static void
test_request_content_length_repeated(void **state)
{
	assert_req_extra_error("Content-Length: 5\r\nContent-Length: 5\r\n",
	    HTTP1_E_CL_REPEATED);
	assert_req_extra_error("Content-Length: 5\r\ncontent-length: 6\r\n",
	    HTTP1_E_CL_REPEATED);
	assert_req_extra_error("CONTENT-LENGTH: 0\r\nX: y\r\n"
	    "Content-Length: 0\r\n", HTTP1_E_CL_REPEATED);
}

static void
test_request_cl_and_te_rejected(void **state)
{
	assert_req_extra_error("Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n", HTTP1_E_CL_AND_TE);
	assert_req_extra_error("Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n", HTTP1_E_CL_AND_TE);
	assert_req_extra_error("Transfer-Encoding: identity\r\n"
	    "Content-Length: 0\r\n", HTTP1_E_CL_AND_TE);
	assert_req_extra_error("transfer-encoding: xchunked\r\n"
	    "Content-Length: 5\r\n", HTTP1_E_CL_AND_TE);
	assert_req_extra_error("Transfer-Encoding:\r\n"
	    "Content-Length: 5\r\n", HTTP1_E_CL_AND_TE);
	assert_int_equal(http1_error_status(HTTP1_E_CL_AND_TE), 400);
}

static void
test_request_transfer_encoding_refused(void **state)
{
	static const char *te[] = {
		"Transfer-Encoding: chunked\r\n",
		"Transfer-Encoding:\tchunked\r\n",
		"Transfer-Encoding: CHUNKED\r\n",
		"Transfer-Encoding: chunked, chunked\r\n",
		"Transfer-Encoding: gzip\r\n",
		"Transfer-Encoding: identity\r\n",
		"Transfer-Encoding:\r\n",
		"Transfer-Encoding: \"chunked\"\r\n",
		"TRANSFER-ENCODING: chunked\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(te) / sizeof(te[0]); i++)
		assert_req_extra_error(te[i], HTTP1_E_TE_REQUEST);
	assert_int_equal(http1_error_status(HTTP1_E_TE_REQUEST), 411);
}

static void
test_request_transfer_encoding_lookalikes(void **state)
{
	struct http1_request req;

	/* Names that are not Transfer-Encoding are ordinary fields. */
	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encodings: chunked\r\nX-Transfer-Encoding: chunked\r\n"
	    "Content-Lengtx: 5\r\nTransfer-Encodinx: chunked\r\n"
	    "Content-Length: 1\r\n\r\n"), &req);
	assert_int_equal(req.body, HTTP1_BODY_LENGTH);
	assert_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer_Encoding: chunked\r\nContent-Length: 1\r\n\r\n"), &req);
	assert_int_equal(req.body, HTTP1_BODY_LENGTH);
}

static void
test_request_host_missing(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\r\n\r\n"), HTTP1_E_HOST_MISSING);
	assert_req_error(S("GET / HTTP/1.1\r\nHosts: h\r\n\r\n"),
	    HTTP1_E_HOST_MISSING);
	assert_int_equal(http1_error_status(HTTP1_E_HOST_MISSING), 400);
}

static void
test_request_host_repeated(void **state)
{
	assert_req_error(S("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	    HTTP1_E_HOST_REPEATED);
	assert_req_error(S("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
	    HTTP1_E_HOST_REPEATED);
	assert_req_error(S("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"),
	    HTTP1_E_HOST_REPEATED);
}

static void
test_request_expect_other_rejected(void **state)
{
	assert_req_extra_error("Expect: 100-continue, foo\r\n",
	    HTTP1_E_EXPECT);
	assert_req_extra_error("Expect: 200-ok\r\n", HTTP1_E_EXPECT);
	assert_req_extra_error("Expect:\r\n", HTTP1_E_EXPECT);
	assert_req_extra_error("Expect: 100-continue\r\n"
	    "Expect: 100-continue\r\n", HTTP1_E_EXPECT);
	assert_int_equal(http1_error_status(HTTP1_E_EXPECT), 417);
}

/* --- responses ---------------------------------------------------------- */

static void
test_response_dynamodb_content_length(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\n"
	    "Server: Server\r\n"
	    "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
	    "Content-Type: application/x-amz-json-1.0\r\n"
	    "Content-Length: 2\r\n"
	    "Connection: keep-alive\r\n"
	    "x-amzn-RequestId: ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
	    "x-amz-crc32: 2745614147\r\n"
	    "\r\n"), false, &resp);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.minor_version, 1);
	assert_int_equal(resp.nheaders, 7);
	assert_int_equal(resp.body, HTTP1_BODY_LENGTH);
	assert_int_equal(resp.content_length, 2);
	assert_true(resp.keep_alive);
}

static void
test_response_chunked(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_CHUNKED);
	assert_true(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, "
	    "Chunked\r\n\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_CHUNKED);
	assert_resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding:\tchunked \r\n\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_CHUNKED);
}

static void
test_response_transfer_encoding_unsupported(void **state)
{
	static const char *bad[] = {
		"Transfer-Encoding: gzip\r\n",
		"Transfer-Encoding: chunked, gzip\r\n",
		"Transfer-Encoding: chunked, chunked\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
		"Transfer-Encoding:\r\n",
		"Transfer-Encoding: ,chunked\r\n",
		"Transfer-Encoding: chunked,\r\n",
		"Transfer-Encoding: \"chunked\"\r\n",
		"Transfer-Encoding: chunked;q=1\r\n",
		"Transfer-Encoding: x y, chunked\r\n",
		"Transfer-Encoding: chunkedx\r\n",
	};
	char buf[256];
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n%s\r\n",
		    bad[i]);
		assert_resp_error(buf, (size_t)n, false,
		    HTTP1_E_TE_UNSUPPORTED);
	}
	/* Transfer-Encoding in an HTTP/1.0 message is faulty framing. */
	assert_resp_error(S("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n"), false, HTTP1_E_TE_UNSUPPORTED);
}

static void
test_response_cl_and_te_rejected(void **state)
{
	assert_resp_error(S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), false, HTTP1_E_CL_AND_TE);
	assert_resp_error(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n"), false, HTTP1_E_CL_AND_TE);
	/* Framing conflicts are errors even where there is no body. */
	assert_resp_error(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n"), true, HTTP1_E_CL_AND_TE);
}

static void
test_response_content_length_errors(void **state)
{
	assert_resp_error(S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Content-Length: 3\r\n\r\n"), false, HTTP1_E_CL_REPEATED);
	assert_resp_error(S("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n"),
	    false, HTTP1_E_CONTENT_LENGTH);
	assert_resp_error(S("HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: -1\r\n\r\n"), false, HTTP1_E_CONTENT_LENGTH);
}

static void
test_response_read_until_close(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n"),
	    false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_CLOSE);
	assert_false(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.0 200 OK\r\n\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_CLOSE);
	assert_false(resp.keep_alive);
}

static void
test_response_keep_alive_by_version(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n"), false, &resp);
	assert_false(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
	    false, &resp);
	assert_int_equal(resp.minor_version, 0);
	assert_false(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: keep-alive\r\n\r\n"), false, &resp);
	assert_true(resp.keep_alive);
}

static void
test_response_no_body_statuses(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 204 No Content\r\n\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_NONE);
	assert_true(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n"
	    "\r\n"), false, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_NONE);
	assert_true(resp.keep_alive);
}

static void
test_response_to_head_has_no_body(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
	    true, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_NONE);
	assert_true(resp.keep_alive);
	assert_resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n"), true, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_NONE);
	assert_resp_ok(S("HTTP/1.1 200 OK\r\n\r\n"), true, &resp);
	assert_int_equal(resp.body, HTTP1_BODY_NONE);
	assert_true(resp.keep_alive);
}

static void
test_response_interim_1xx_skipped(void **state)
{
	static const char msg[] =
	    "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
	    "HTTP/1.1 102 Processing\r\nConnection: close\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	struct http1_response resp;
	enum http1_error err;
	size_t off = 0;
	int seen[3], i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(http1_parse_response(msg + off,
		    sizeof(msg) - 1 - off, MAX_HEAD, false, &resp, &err),
		    HTTP1_OK);
		assert_int_equal(resp.body, HTTP1_BODY_NONE);
		assert_true(resp.keep_alive);
		seen[i] = resp.status;
		off += resp.head_len;
	}
	assert_int_equal(seen[0], 100);
	assert_int_equal(seen[1], 103);
	assert_int_equal(seen[2], 102);
	assert_int_equal(http1_parse_response(msg + off, sizeof(msg) - 1 - off,
	    MAX_HEAD, false, &resp, &err), HTTP1_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body, HTTP1_BODY_LENGTH);
	assert_int_equal(off + resp.head_len + 2, sizeof(msg) - 1);
}

static void
test_response_101_is_upgrade_error(void **state)
{
	assert_resp_error(S("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), false,
	    HTTP1_E_UPGRADE);
	/* Found as soon as the status line is complete. */
	assert_resp_error(S("HTTP/1.1 101 Switching Protocols\r\n"), false,
	    HTTP1_E_UPGRADE);
}

static void
test_response_status_line_shape(void **state)
{
	static const char *bad[] = {
		"HTTP/1.1 200\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 200\tOK\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 O\x7fK\r\n\r\n",
		"HTTP/1.1 -20 OK\r\n\r\n",
		"\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_resp_error(bad[i], strlen(bad[i]), false,
		    HTTP1_E_STATUS_LINE);
}

static void
test_response_version_exact(void **state)
{
	assert_resp_error(S("HTTP/2 200 OK\r\n\r\n"), false, HTTP1_E_VERSION);
	assert_resp_error(S("HTTP/1.2 200 OK\r\n\r\n"), false, HTTP1_E_VERSION);
	assert_resp_error(S("http/1.1 200 OK\r\n\r\n"), false, HTTP1_E_VERSION);
	assert_resp_error(S("HTTP/1.10 200 OK\r\n\r\n"), false,
	    HTTP1_E_VERSION);
	assert_resp_error(S("ICY 200 OK\r\n\r\n"), false, HTTP1_E_VERSION);
}

static void
test_response_reason_forms(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), false,
	    &resp);
	assert_int_equal(resp.status, 200);
	assert_resp_ok(S("HTTP/1.1 400 Bad\tRequest \xc3\xa9\r\n"
	    "Content-Length: 0\r\n\r\n"), false, &resp);
	assert_int_equal(resp.status, 400);
	assert_resp_ok(S("HTTP/1.1 599 x\r\nContent-Length: 0\r\n\r\n"), false,
	    &resp);
	assert_resp_ok(S("HTTP/1.1 100 x\r\n\r\n"), false, &resp);
}

static void
test_response_field_errors(void **state)
{
	assert_resp_error(S("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
	    false, HTTP1_E_LINE_ENDING);
	assert_resp_error(S("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), false,
	    HTTP1_E_OBS_FOLD);
	assert_resp_error(S("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), false,
	    HTTP1_E_HEADER_NAME);
	assert_resp_error(S("HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n"), false,
	    HTTP1_E_HEADER_VALUE);
}

static void
test_response_host_and_expect_not_checked(void **state)
{
	struct http1_response resp;

	assert_resp_ok(S("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\n"
	    "Expect: x\r\nContent-Length: 0\r\n\r\n"), false, &resp);
	assert_int_equal(resp.nheaders, 4);
}

static void
test_response_every_prefix_is_again(void **state)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Content-Type: application/x-amz-json-1.0\r\n\r\n";
	struct http1_response resp;
	enum http1_error err;
	size_t k;

	for (k = 0; k < sizeof(msg) - 1; k++)
		assert_int_equal(http1_parse_response(msg, k, MAX_HEAD, false,
		    &resp, &err), HTTP1_AGAIN);
	assert_int_equal(http1_parse_response(msg, sizeof(msg) - 1, MAX_HEAD,
	    false, &resp, &err), HTTP1_OK);
}

static void
test_response_head_too_large(void **state)
{
	static const char msg[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct http1_response resp;
	enum http1_error err;

	assert_int_equal(http1_parse_response(msg, sizeof(msg) - 1,
	    sizeof(msg) - 2, false, &resp, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	assert_int_equal(http1_parse_response(msg, sizeof(msg) - 1,
	    sizeof(msg) - 1, false, &resp, &err), HTTP1_OK);
}

/* --- chunked scanner ----------------------------------------------------- */

static enum http1_status
scan_all(const char *buf, size_t len, size_t max_trailer, size_t *consumed,
    enum http1_error *err)
{
	struct http1_chunked ch;

	http1_chunked_init(&ch);
	return http1_chunked_scan(&ch, buf, len, max_trailer, consumed, err);
}

/* One byte per call; returns the status of the last call. */
static enum http1_status
scan_bytewise(const char *buf, size_t len, size_t max_trailer,
    size_t *consumed, enum http1_error *err)
{
	struct http1_chunked ch;
	enum http1_status st = HTTP1_AGAIN;
	size_t i, n;

	http1_chunked_init(&ch);
	*consumed = 0;
	for (i = 0; i < len; i++) {
		st = http1_chunked_scan(&ch, buf + i, 1, max_trailer, &n, err);
		*consumed += n;
		if (st != HTTP1_AGAIN)
			return st;
		assert_int_equal(n, 1);
	}
	return st;
}

static void
assert_chunked_ok(const char *buf, size_t len, size_t body_len)
{
	size_t consumed, split, n1, n2;
	enum http1_error err;
	struct http1_chunked ch;

	assert_int_equal(scan_all(buf, len, 1024, &consumed, &err), HTTP1_OK);
	assert_int_equal(consumed, body_len);
	assert_int_equal(scan_bytewise(buf, len, 1024, &consumed, &err),
	    HTTP1_OK);
	assert_int_equal(consumed, body_len);
	for (split = 0; split < body_len; split++) {
		http1_chunked_init(&ch);
		assert_int_equal(http1_chunked_scan(&ch, buf, split, 1024, &n1,
		    &err), HTTP1_AGAIN);
		assert_int_equal(n1, split);
		assert_int_equal(http1_chunked_scan(&ch, buf + split,
		    len - split, 1024, &n2, &err), HTTP1_OK);
		assert_int_equal(n1 + n2, body_len);
	}
}

static void
assert_chunked_error(const char *buf, size_t len, enum http1_error want)
{
	size_t consumed, consumed_bytewise;
	enum http1_error err;

	assert_int_equal(scan_all(buf, len, 1024, &consumed, &err),
	    HTTP1_ERROR);
	assert_int_equal(err, want);
	assert_int_equal(scan_bytewise(buf, len, 1024, &consumed_bytewise,
	    &err), HTTP1_ERROR);
	assert_int_equal(err, want);
	assert_int_equal(consumed, consumed_bytewise);
	assert_int_equal(http1_error_status(want),
	    want == HTTP1_E_HEAD_TOO_LARGE ? 431 : 400);
}

static void
test_chunked_simple_body(void **state)
{
	static const char body[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

	assert_chunked_ok(S(body), sizeof(body) - 1);
}

static void
test_chunked_empty_body(void **state)
{
	assert_chunked_ok(S("0\r\n\r\n"), 5);
	assert_chunked_ok(S("000\r\n\r\n"), 7);
}

static void
test_chunked_hex_sizes(void **state)
{
	char buf[600];
	size_t len;

	len = (size_t)snprintf(buf, sizeof(buf), "1F\r\n");
	memset(buf + len, 'x', 31);
	len += 31;
	len += (size_t)snprintf(buf + len, sizeof(buf) - len,
	    "\r\n0001a\r\n");
	memset(buf + len, 'y', 26);
	len += 26;
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n0\r\n\r\n");
	assert_chunked_ok(buf, len, len);
}

static void
test_chunked_data_may_contain_crlf(void **state)
{
	static const char body[] = "4\r\n\r\n\r\n\r\n0\r\n\r\n";

	assert_chunked_ok(S(body), sizeof(body) - 1);
}

static void
test_chunked_bytes_after_end_not_consumed(void **state)
{
	static const char buf[] = "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
	size_t consumed;
	enum http1_error err;
	struct http1_chunked ch;

	assert_chunked_ok(S(buf), 13);
	assert_int_equal(scan_all(S(buf), 1024, &consumed, &err), HTTP1_OK);
	assert_int_equal(consumed, 13);
	/* Once done, it stays done and takes nothing more. */
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S(buf), 1024, &consumed,
	    &err), HTTP1_OK);
	assert_int_equal(http1_chunked_scan(&ch, buf + 13, 5, 1024, &consumed,
	    &err), HTTP1_OK);
	assert_int_equal(consumed, 0);
}

static void
test_chunked_extensions(void **state)
{
	static const char *ok[] = {
		"3;a\r\nabc\r\n0\r\n\r\n",
		"3;a=b\r\nabc\r\n0\r\n\r\n",
		"3;a=b;c;d=e\r\nabc\r\n0;last\r\n\r\n",
		"3;a=\"b c\"\r\nabc\r\n0\r\n\r\n",
		"3;a=\"\"\r\nabc\r\n0\r\n\r\n",
		"3;a=\"q\\\"uote\\\\\";b\r\nabc\r\n0\r\n\r\n",
		"3;a=\"\xc3\xa9\t\"\r\nabc\r\n0\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_chunked_ok(ok[i], strlen(ok[i]), strlen(ok[i]));
}

static void
test_chunked_extension_malformed(void **state)
{
	static const char *bad[] = {
		"3;\r\nabc\r\n0\r\n\r\n",
		"3; a\r\nabc\r\n0\r\n\r\n",
		"3 ;a\r\nabc\r\n0\r\n\r\n",
		"3;a =b\r\nabc\r\n0\r\n\r\n",
		"3;a=\r\nabc\r\n0\r\n\r\n",
		"3;a=b c\r\nabc\r\n0\r\n\r\n",
		"3;a=\"b\r\nabc\r\n0\r\n\r\n",
		"3;a=\"b\"c\r\nabc\r\n0\r\n\r\n",
		"3;a=\"b\x01\"\r\nabc\r\n0\r\n\r\n",
		"3;a=\"\\\x01\"\r\nabc\r\n0\r\n\r\n",
		"3;a=b=c\r\nabc\r\n0\r\n\r\n",
		"3;a\nabc\r\n0\r\n\r\n",
		"3;=b\r\nabc\r\n0\r\n\r\n",
		"3;a\0\r\nabc\r\n0\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_chunked_error(bad[i], strlen(bad[i]) + (i == 13),
		    HTTP1_E_CHUNK); /* the last one ends at its NUL byte */
}

static void
test_chunked_size_malformed(void **state)
{
	static const char *bad[] = {
		"\r\nabc\r\n0\r\n\r\n",
		"g\r\n",
		"+3\r\nabc\r\n0\r\n\r\n",
		"-3\r\n",
		" 3\r\nabc\r\n0\r\n\r\n",
		"3 \r\nabc\r\n0\r\n\r\n",
		"3\t\r\nabc\r\n0\r\n\r\n",
		"0x3\r\nabc\r\n0\r\n\r\n",
		"3\nabc\r\n0\r\n\r\n",
		"3\rabc\r\n0\r\n\r\n",
		"3\r\nabcd\r\n0\r\n\r\n",
		"3\r\nabc\n0\r\n\r\n",
		"3\r\nabc0\r\n\r\n",
		"3\r\nabc\r\n0\n\r\n",
		"3\r\nabc\rX0\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_chunked_error(bad[i], strlen(bad[i]), HTTP1_E_CHUNK);
}

static void
test_chunked_size_overflow(void **state)
{
	struct http1_chunked ch;
	size_t consumed;
	enum http1_error err;

	/* 2^63 - 1 is the largest size; 2^63 and past it are errors. */
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S("7fffffffffffffff\r\nab"),
	    1024, &consumed, &err), HTTP1_AGAIN);
	assert_true(ch.remaining == INT64_MAX - 2);
	assert_chunked_error(S("8000000000000000\r\n"), HTTP1_E_CHUNK);
	assert_chunked_error(S("10000000000000000\r\n"), HTTP1_E_CHUNK);
	assert_chunked_error(S("ffffffffffffffffffff\r\n"), HTTP1_E_CHUNK);
	/* Leading zeros do not overflow. */
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch,
	    S("000000000000000000000001\r\n"), 1024, &consumed, &err),
	    HTTP1_AGAIN);
	assert_true(ch.remaining == 1);
}

static void
test_chunked_size_line_too_long(void **state)
{
	char buf[1200];
	size_t len;

	memset(buf, 0, sizeof(buf));
	buf[0] = '1';
	buf[1] = ';';
	buf[2] = 'a';
	buf[3] = '=';
	memset(buf + 4, 'b', 1020); /* line of exactly 1024 bytes */
	len = 1024;
	memcpy(buf + len, "\r\nx\r\n0\r\n\r\n", 10);
	assert_chunked_ok(buf, len + 10, len + 10);
	memset(buf + 4, 'b', 1021);
	len = 1025;
	memcpy(buf + len, "\r\nx\r\n0\r\n\r\n", 10);
	assert_chunked_error(buf, len + 10, HTTP1_E_CHUNK);
}

static void
test_chunked_trailers(void **state)
{
	static const char body[] = "3\r\nabc\r\n0\r\nX-Checksum: abc\r\n"
	    "X-Other:\t \xc3\xa9 \r\nEmpty:\r\n\r\n";

	assert_chunked_ok(S(body), sizeof(body) - 1);
}

static void
test_chunked_trailer_malformed(void **state)
{
	assert_chunked_error(S("0\r\n X: a\r\n\r\n"), HTTP1_E_OBS_FOLD);
	assert_chunked_error(S("0\r\nX: a\r\n\tb\r\n\r\n"), HTTP1_E_OBS_FOLD);
	assert_chunked_error(S("0\r\nX : a\r\n\r\n"), HTTP1_E_HEADER_NAME);
	assert_chunked_error(S("0\r\n: a\r\n\r\n"), HTTP1_E_HEADER_NAME);
	assert_chunked_error(S("0\r\nX\r\n\r\n"), HTTP1_E_HEADER_NAME);
	assert_chunked_error(S("0\r\nX: a\x01\r\n\r\n"), HTTP1_E_HEADER_VALUE);
	assert_chunked_error(S("0\r\nX: a\x7f\r\n\r\n"), HTTP1_E_HEADER_VALUE);
	assert_chunked_error(S("0\r\nX: a\0\r\n\r\n"), HTTP1_E_HEADER_VALUE);
	assert_chunked_error(S("0\r\nX: a\n\r\n"), HTTP1_E_LINE_ENDING);
	assert_chunked_error(S("0\r\nX: a\rb\r\n\r\n"), HTTP1_E_LINE_ENDING);
	assert_chunked_error(S("0\r\nX\n"), HTTP1_E_LINE_ENDING);
	assert_chunked_error(S("0\r\n\n"), HTTP1_E_LINE_ENDING);
	assert_chunked_error(S("0\r\n\rX"), HTTP1_E_LINE_ENDING);
}

static void
test_chunked_trailer_too_large(void **state)
{
	static const char body[] = "0\r\nX: abcdef\r\n\r\n";
	struct http1_chunked ch;
	size_t consumed;
	enum http1_error err;

	/* The trailer field lines here are 11 bytes, CRLF included. */
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S(body), 11, &consumed, &err),
	    HTTP1_OK);
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S(body), 10, &consumed, &err),
	    HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_HEAD_TOO_LARGE);
	assert_int_equal(consumed, 3 + 10);
	/* No trailer fields at all fits in zero bytes. */
	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S("0\r\n\r\n"), 0, &consumed,
	    &err), HTTP1_OK);
}

static void
test_chunked_error_is_sticky(void **state)
{
	struct http1_chunked ch;
	size_t consumed;
	enum http1_error err;

	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S("3\r\nabcX"), 1024,
	    &consumed, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_CHUNK);
	assert_int_equal(consumed, 6);
	assert_int_equal(http1_chunked_scan(&ch, S("\r\n0\r\n\r\n"), 1024,
	    &consumed, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_CHUNK);
	assert_int_equal(consumed, 0);
}

static void
test_chunked_partial_is_again(void **state)
{
	static const char body[] =
	    "a;x=\"y\"\r\n0123456789\r\n0\r\nT: v\r\n\r\n";
	struct http1_chunked ch;
	size_t consumed, k;
	enum http1_error err;

	for (k = 0; k < sizeof(body) - 1; k++) {
		http1_chunked_init(&ch);
		assert_int_equal(http1_chunked_scan(&ch, body, k, 1024,
		    &consumed, &err), HTTP1_AGAIN);
		assert_int_equal(consumed, k);
		assert_int_equal(err, HTTP1_E_NONE);
	}
}

static void
test_chunked_zeroed_struct_is_initial(void **state)
{
	struct http1_chunked ch;
	size_t consumed;
	enum http1_error err;

	memset(&ch, 0, sizeof(ch));
	assert_int_equal(http1_chunked_scan(&ch, S("1\r\nx\r\n0\r\n\r\n"), 16,
	    &consumed, &err), HTTP1_OK);
	assert_int_equal(consumed, 11);
}

static void
test_chunked_large_chunk_in_pieces(void **state)
{
	static char data[70000];
	struct http1_chunked ch;
	size_t consumed, off;
	enum http1_error err;

	http1_chunked_init(&ch);
	assert_int_equal(http1_chunked_scan(&ch, S("10000\r\n"), 0, &consumed,
	    &err), HTTP1_AGAIN);
	memset(data, 'z', sizeof(data));
	for (off = 0; off < 0x10000; off += 1000) {
		size_t n = 0x10000 - off < 1000 ? 0x10000 - off : 1000;

		assert_int_equal(http1_chunked_scan(&ch, data, n, 0, &consumed,
		    &err), HTTP1_AGAIN);
		assert_int_equal(consumed, n);
	}
	assert_int_equal(http1_chunked_scan(&ch, S("\r\n0\r\n\r\nrest"), 0,
	    &consumed, &err), HTTP1_OK);
	assert_int_equal(consumed, 7);
}

/* --- lookups and error text --------------------------------------------- */

static void
test_header_find_and_count_ignore_case(void **state)
{
	struct http1_request req;
	const struct http1_header *h;

	assert_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nX-Amz-Date: 1\r\n"
	    "x-amz-date: 2\r\nX-AMZ-DATE: 3\r\nX-Amz-Dat: 4\r\n\r\n"), &req);
	h = http1_header_find(req.headers, req.nheaders, "X-aMz-DaTe");
	assert_non_null(h);
	assert_true(span_is(h->value, h->value_len, "1"));
	assert_int_equal(http1_header_count(req.headers, req.nheaders,
	    "x-amz-date"), 3);
	assert_int_equal(http1_header_count(req.headers, req.nheaders,
	    "x-amz-dat"), 1);
	assert_null(http1_header_find(req.headers, req.nheaders,
	    "x-amz-dates"));
	assert_null(http1_header_find(req.headers, req.nheaders, ""));
	assert_int_equal(http1_header_count(req.headers, 0, "host"), 0);
}

static void
test_error_str_every_value(void **state)
{
	int e, f;

	for (e = HTTP1_E_NONE; e <= HTTP1_E_CHUNK; e++) {
		const char *s = http1_error_str((enum http1_error)e);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (f = HTTP1_E_NONE; f < e; f++)
			assert_string_not_equal(s,
			    http1_error_str((enum http1_error)f));
	}
	assert_string_equal(http1_error_str(HTTP1_E_CL_AND_TE),
	    "Content-Length together with Transfer-Encoding");
	assert_non_null(http1_error_str((enum http1_error)999));
}

static void
test_error_status_mapping(void **state)
{
	int e;

	for (e = HTTP1_E_NONE; e <= HTTP1_E_CHUNK; e++) {
		int want = 400;

		if (e == HTTP1_E_HEAD_TOO_LARGE ||
		    e == HTTP1_E_TOO_MANY_HEADERS)
			want = 431;
		else if (e == HTTP1_E_TE_REQUEST)
			want = 411;
		else if (e == HTTP1_E_EXPECT)
			want = 417;
		assert_int_equal(http1_error_status((enum http1_error)e), want);
	}
}

/* Each error value, with one input that produces it. */
static void
test_every_error_value_reachable(void **state)
{
	static const struct {
		enum http1_error err;
		int kind; /* 0 request, 1 response, 2 chunked */
		const char *input;
	} cases[] = {
		{ HTTP1_E_LINE_ENDING, 0, "GET / HTTP/1.1\n" },
		{ HTTP1_E_REQUEST_LINE, 0, "GET /\r\n" },
		{ HTTP1_E_METHOD, 0, "G@T / HTTP/1.1\r\n" },
		{ HTTP1_E_TARGET, 0, "GET /\x01 HTTP/1.1\r\n" },
		{ HTTP1_E_VERSION, 0, "GET / HTTP/1.9\r\n" },
		{ HTTP1_E_STATUS_LINE, 1, "HTTP/1.1 OK\r\n" },
		{ HTTP1_E_HEADER_NAME, 0, "GET / HTTP/1.1\r\nA B: c\r\n" },
		{ HTTP1_E_HEADER_VALUE, 0, "GET / HTTP/1.1\r\nA: \x02\r\n" },
		{ HTTP1_E_OBS_FOLD, 0, "GET / HTTP/1.1\r\nA: b\r\n c\r\n" },
		{ HTTP1_E_HEAD_TOO_LARGE, 0, NULL },
		{ HTTP1_E_TOO_MANY_HEADERS, 0, NULL },
		{ HTTP1_E_CONTENT_LENGTH, 0, "GET / HTTP/1.1\r\n"
		    "Content-Length: x\r\n" },
		{ HTTP1_E_CL_REPEATED, 0, "GET / HTTP/1.1\r\n"
		    "Content-Length: 1\r\nContent-Length: 1\r\n" },
		{ HTTP1_E_CL_AND_TE, 0, "GET / HTTP/1.1\r\n"
		    "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n" },
		{ HTTP1_E_TE_REQUEST, 0, "GET / HTTP/1.1\r\nHost: h\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n" },
		{ HTTP1_E_TE_UNSUPPORTED, 1, "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: gzip\r\n\r\n" },
		{ HTTP1_E_HOST_MISSING, 0, "GET / HTTP/1.1\r\n\r\n" },
		{ HTTP1_E_HOST_REPEATED, 0, "GET / HTTP/1.1\r\nHost: a\r\n"
		    "Host: a\r\n" },
		{ HTTP1_E_EXPECT, 0, "GET / HTTP/1.1\r\nExpect: x\r\n" },
		{ HTTP1_E_UPGRADE, 1, "HTTP/1.1 101 Switching Protocols\r\n" },
		{ HTTP1_E_CHUNK, 2, "x\r\n" },
	};
	struct http1_request req;
	struct http1_response resp;
	enum http1_error err;
	size_t i, consumed;
	bool seen[HTTP1_E_CHUNK + 1] = { false };
	int e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].input;

		seen[cases[i].err] = true;
		if (in == NULL)
			continue; /* covered by their own tests above */
		if (cases[i].kind == 0)
			assert_int_equal(req_parse(in, strlen(in), &req, &err),
			    HTTP1_ERROR);
		else if (cases[i].kind == 1)
			assert_int_equal(http1_parse_response(in, strlen(in),
			    MAX_HEAD, false, &resp, &err), HTTP1_ERROR);
		else
			assert_int_equal(scan_all(in, strlen(in), 0, &consumed,
			    &err), HTTP1_ERROR);
		assert_int_equal(err, cases[i].err);
	}
	for (e = HTTP1_E_LINE_ENDING; e <= HTTP1_E_CHUNK; e++)
		assert_true(seen[e]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_botocore_getitem),
		cmocka_unit_test(test_request_head_len_excludes_body),
		cmocka_unit_test(test_request_get_without_body),
		cmocka_unit_test(test_request_content_length_zero_has_length),
		cmocka_unit_test(test_request_pipelined_two_requests),
		cmocka_unit_test(test_request_every_prefix_is_again),
		cmocka_unit_test(test_request_byte_by_byte_copy),
		cmocka_unit_test(test_request_http10_without_host),
		cmocka_unit_test(test_request_http10_keep_alive),
		cmocka_unit_test(test_request_http11_connection_tokens),
		cmocka_unit_test(test_request_target_forms),
		cmocka_unit_test(test_request_absolute_target_bad_scheme),
		cmocka_unit_test(test_request_expect_100_continue),
		cmocka_unit_test(test_request_header_value_ows_trimmed),
		cmocka_unit_test(test_request_header_value_obs_text_allowed),
		cmocka_unit_test(test_request_content_length_leading_zeros),
		cmocka_unit_test(test_request_content_length_uint64_max),
		cmocka_unit_test(test_request_exactly_max_headers),
		cmocka_unit_test(test_request_bare_lf_rejected),
		cmocka_unit_test(test_request_bare_cr_rejected),
		cmocka_unit_test(test_request_leading_empty_line_rejected),
		cmocka_unit_test(test_request_line_shape),
		cmocka_unit_test(test_request_method_not_token),
		cmocka_unit_test(test_request_every_method_byte),
		cmocka_unit_test(test_request_every_target_byte),
		cmocka_unit_test(test_request_target_nul_rejected),
		cmocka_unit_test(test_request_version_exact),
		cmocka_unit_test(test_request_error_found_before_line_end),
		cmocka_unit_test(test_request_prefixes_give_the_same_error),
		cmocka_unit_test(test_request_obs_fold_rejected),
		cmocka_unit_test(test_request_header_name_space_before_colon),
		cmocka_unit_test(test_request_header_name_malformed),
		cmocka_unit_test(test_request_every_header_name_byte),
		cmocka_unit_test(test_request_every_header_value_byte),
		cmocka_unit_test(test_request_nul_and_del_in_value_rejected),
		cmocka_unit_test(test_request_head_too_large),
		cmocka_unit_test(test_request_head_too_large_big_field),
		cmocka_unit_test(test_request_too_many_headers),
		cmocka_unit_test(test_request_content_length_malformed),
		cmocka_unit_test(test_request_content_length_repeated),
		cmocka_unit_test(test_request_cl_and_te_rejected),
		cmocka_unit_test(test_request_transfer_encoding_refused),
		cmocka_unit_test(test_request_transfer_encoding_lookalikes),
		cmocka_unit_test(test_request_host_missing),
		cmocka_unit_test(test_request_host_repeated),
		cmocka_unit_test(test_request_expect_other_rejected),
		cmocka_unit_test(test_response_dynamodb_content_length),
		cmocka_unit_test(test_response_chunked),
		cmocka_unit_test(test_response_transfer_encoding_unsupported),
		cmocka_unit_test(test_response_cl_and_te_rejected),
		cmocka_unit_test(test_response_content_length_errors),
		cmocka_unit_test(test_response_read_until_close),
		cmocka_unit_test(test_response_keep_alive_by_version),
		cmocka_unit_test(test_response_no_body_statuses),
		cmocka_unit_test(test_response_to_head_has_no_body),
		cmocka_unit_test(test_response_interim_1xx_skipped),
		cmocka_unit_test(test_response_101_is_upgrade_error),
		cmocka_unit_test(test_response_status_line_shape),
		cmocka_unit_test(test_response_version_exact),
		cmocka_unit_test(test_response_reason_forms),
		cmocka_unit_test(test_response_field_errors),
		cmocka_unit_test(test_response_host_and_expect_not_checked),
		cmocka_unit_test(test_response_every_prefix_is_again),
		cmocka_unit_test(test_response_head_too_large),
		cmocka_unit_test(test_chunked_simple_body),
		cmocka_unit_test(test_chunked_empty_body),
		cmocka_unit_test(test_chunked_hex_sizes),
		cmocka_unit_test(test_chunked_data_may_contain_crlf),
		cmocka_unit_test(test_chunked_bytes_after_end_not_consumed),
		cmocka_unit_test(test_chunked_extensions),
		cmocka_unit_test(test_chunked_extension_malformed),
		cmocka_unit_test(test_chunked_size_malformed),
		cmocka_unit_test(test_chunked_size_overflow),
		cmocka_unit_test(test_chunked_size_line_too_long),
		cmocka_unit_test(test_chunked_trailers),
		cmocka_unit_test(test_chunked_trailer_malformed),
		cmocka_unit_test(test_chunked_trailer_too_large),
		cmocka_unit_test(test_chunked_error_is_sticky),
		cmocka_unit_test(test_chunked_partial_is_again),
		cmocka_unit_test(test_chunked_zeroed_struct_is_initial),
		cmocka_unit_test(test_chunked_large_chunk_in_pieces),
		cmocka_unit_test(test_header_find_and_count_ignore_case),
		cmocka_unit_test(test_error_str_every_value),
		cmocka_unit_test(test_error_status_mapping),
		cmocka_unit_test(test_every_error_value_reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
