/*
 * Unit tests for proxy_error: statuses chosen for SDK retry behaviour,
 * the DynamoDB-shaped body, and JSON escaping of messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http1.h"
#include "proxy_error.h"

/* Client mistakes are 4xx (never retried); upstream failures 502/504. */
static void
test_statuses_follow_retry_policy(void **state)
{
	for (int k = 0; k < PE_KIND_COUNT; k++) {
		int st = proxy_error_status((enum proxy_error_kind)k);

		if (k < PE_INTERNAL)
			assert_true(st >= 400 && st < 500);
		else if (k >= PE_DNS_ERROR)
			assert_true(st == 502 || st == 504);
		else
			assert_true(st == 500 || st == 503);
		assert_non_null(proxy_error_name((enum proxy_error_kind)k));
		assert_non_null(proxy_error_type((enum proxy_error_kind)k));
	}
	assert_int_equal(proxy_error_status(PE_TLS_CERTIFICATE), 502);
	assert_int_equal(proxy_error_status(PE_DNS_TIMEOUT), 504);
	assert_int_equal(proxy_error_status(PE_MISDIRECTED), 421);
	assert_int_equal(proxy_error_status(PE_LENGTH_REQUIRED), 411);
	assert_string_equal(proxy_error_type(PE_DESTINATION_PROHIBITED),
	    "destination_ip_prohibited");
}

/* Parses a formatted response with our own strict parser and jansson. */
static void
check_response(const char *buf, size_t n, int status, const char *type,
    const char *message, int close)
{
	struct http1_response r;
	enum http1_error err;
	const struct http1_header *h;
	json_error_t jerr;
	json_t *body;
	char want[128];

	assert_int_equal(http1_parse_response(buf, n, 16384, 0, &r, &err),
	    HTTP1_OK);
	assert_int_equal(r.status, status);
	assert_int_equal(r.body, HTTP1_BODY_LENGTH);
	assert_int_equal(r.head_len + r.content_length, n);
	assert_int_equal(r.keep_alive, !close);
	h = http1_header_find(r.headers, r.nheaders, "content-type");
	assert_non_null(h);
	assert_memory_equal(h->value, "application/x-amz-json-1.0", 26);
	h = http1_header_find(r.headers, r.nheaders, "proxy-status");
	assert_non_null(h);
	snprintf(want, sizeof(want), "ddbgate; error=%s", type);
	assert_int_equal(h->value_len, strlen(want));
	assert_memory_equal(h->value, want, strlen(want));
	assert_non_null(http1_header_find(r.headers, r.nheaders,
	    "x-amzn-requestid"));
	body = json_loadb(buf + r.head_len, r.content_length,
	    JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "message")),
	    message);
	assert_non_null(strstr(json_string_value(json_object_get(body,
	    "__type")), "ddbgate#"));
	json_decref(body);
}

static void
test_format_is_dynamodb_shaped(void **state)
{
	char buf[4096];
	size_t n;

	n = proxy_error_format(buf, sizeof(buf), PE_TLS_CERTIFICATE,
	    "upstream TLS certificate verification failed: certificate has "
	    "expired", "rid-1", 0);
	assert_true(n > 0);
	check_response(buf, n, 502, "tls_certificate_error",
	    "upstream TLS certificate verification failed: certificate has "
	    "expired", 0);
	assert_non_null(strstr(buf,
	    "\"__type\":\"ddbgate#TlsCertificateError\""));
}

static void
test_format_close_adds_connection_close(void **state)
{
	char buf[4096];
	size_t n = proxy_error_format(buf, sizeof(buf), PE_BAD_REQUEST,
	    "bad", "rid", 1);

	assert_true(n > 0);
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n"));
	check_response(buf, n, 400, "http_request_error", "bad", 1);
}

/* Quotes, backslashes, controls and non-ASCII never break the JSON. */
static void
test_message_escaping(void **state)
{
	const char *msg = "a\"b\\c\nd\x01\xc3\xa9";
	char buf[4096], esc[64];
	size_t n;

	assert_int_equal(proxy_error_json_escape(esc, sizeof(esc), msg),
	    strlen("a\\\"b\\\\c\\u000ad\\u0001\\u00c3\\u00a9"));
	assert_string_equal(esc, "a\\\"b\\\\c\\u000ad\\u0001\\u00c3\\u00a9");
	n = proxy_error_format(buf, sizeof(buf), PE_DNS_ERROR, msg, "r", 0);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++)
		assert_true((unsigned char)buf[i] < 0x80);
}

static void
test_small_buffers_fail_cleanly(void **state)
{
	char buf[64], esc[4];

	assert_int_equal(proxy_error_format(buf, sizeof(buf), PE_DNS_ERROR,
	    "a message that does not fit in sixty-four bytes at all", "r", 0),
	    0);
	assert_int_equal(proxy_error_json_escape(esc, sizeof(esc), "abcd"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses_follow_retry_policy),
		cmocka_unit_test(test_format_is_dynamodb_shaped),
		cmocka_unit_test(test_format_close_adds_connection_close),
		cmocka_unit_test(test_message_escaping),
		cmocka_unit_test(test_small_buffers_fail_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
