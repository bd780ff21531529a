/*
 * Unit tests for audit: every member in its place and type, JSON string
 * escaping (RFC 8259 §7) and what becomes of invalid UTF-8 from a client
 * (each bad byte is \ufffd; the member stays). Lines are parsed back with
 * jansson, so "valid JSON" is checked by a parser, not by eye.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"
#include "logline.h"

static const struct timespec when = { .tv_sec = 1709251198 };

static const char *const actions[] = { "dynamodb:PutItem",
    "dynamodb:GetItem" };
static const char *const arns[] = {
	"arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
	"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/index/ByDay",
};

static const struct audit_record base = {
	.source = "10.1.2.3:50432",
	.access_key_id = "AKIAIOSFODNN7EXAMPLE",
	.principal = "arn:aws:iam::123456789012:role/app",
	.event_source = "dynamodb.amazonaws.com",
	.event_name = "PutItem",
	.actions = actions,
	.resources = arns,
	.nresources = 2,
	.decision = "deny",
	.reason = "explicit deny",
	.statement = "NoWrites",
	.enforcement = "enforce",
	.endpoint = "dynamodb",
	.upstream = "10.0.1.23:443",
	.status = 400,
	.latency_us = 1500,
	.replay = 1,
	.user = "orders-app",
};

/* Formats r (caller frees). */
static char *
format(const struct audit_record *r)
{
	char *buf = calloc(1, 65536);
	size_t n = audit_format(buf, 65535, r, &when);

	assert_true(n > 0 && n < 65535);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(memchr(buf, '\n', n - 1));
	return buf;
}

/* Formats r and parses it back (caller decrefs). */
static json_t *
parse(const struct audit_record *r)
{
	char *line = format(r);
	json_error_t e;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &e);

	if (o == NULL)
		fail_msg("not JSON (%s): %s", e.text, line);
	free(line);
	return o;
}

static void
test_exact_line(void **state)
{
	char *line = format(&base);

	assert_string_equal(line, "{\"eventTime\":\"2024-02-29T23:59:58Z\","
	    "\"sourceIPAddress\":\"10.1.2.3:50432\","
	    "\"accessKeyId\":\"AKIAIOSFODNN7EXAMPLE\","
	    "\"principal\":\"arn:aws:iam::123456789012:role/app\","
	    "\"eventSource\":\"dynamodb.amazonaws.com\","
	    "\"eventName\":\"PutItem\",\"resources\":["
	    "{\"action\":\"dynamodb:PutItem\",\"ARN\":"
	    "\"arn:aws:dynamodb:us-east-1:123456789012:table/Orders\"},"
	    "{\"action\":\"dynamodb:GetItem\",\"ARN\":"
	    "\"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/index/"
	    "ByDay\"}],\"decision\":\"deny\",\"reason\":\"explicit deny\","
	    "\"decidingStatement\":\"NoWrites\",\"enforcement\":\"enforce\","
	    "\"endpoint\":\"dynamodb\",\"upstreamAddress\":\"10.0.1.23:443\","
	    "\"status\":400,\"latencyMs\":1.500,\"replay\":true,"
	    "\"proxyUser\":\"orders-app\"}\n");
	free(line);
}

/* Keys in order and types as jansson's DOM made them. */
static void
test_every_member_and_type(void **state)
{
	static const char *const keys[] = { "eventTime", "sourceIPAddress",
	    "accessKeyId", "principal", "eventSource", "eventName",
	    "resources", "decision", "reason", "decidingStatement",
	    "enforcement", "endpoint", "upstreamAddress", "status",
	    "latencyMs", "replay", "proxyUser", "tunnelHost", "bytesIn",
	    "bytesOut" };
	struct audit_record r = base;
	json_t *o;
	const char *key;
	json_t *v;
	size_t i = 0;

	r.tunnel_host = "dynamodb.us-east-1.amazonaws.com";
	r.bytes_in = 1843;
	r.bytes_out = 9007199254740993ULL;
	r.latency_us = 5123400;
	o = parse(&r);
	json_object_foreach(o, key, v) {
		assert_true(i < sizeof(keys) / sizeof(keys[0]));
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_int_equal(i, sizeof(keys) / sizeof(keys[0]));
	assert_true(json_is_integer(json_object_get(o, "status")));
	assert_true(json_is_real(json_object_get(o, "latencyMs")));
	assert_true(json_real_value(json_object_get(o, "latencyMs")) ==
	    5123.4);
	assert_true(json_is_true(json_object_get(o, "replay")));
	assert_int_equal(json_integer_value(json_object_get(o, "bytesIn")),
	    1843);
	assert_int_equal(json_integer_value(json_object_get(o, "bytesOut")),
	    9007199254740993LL);
	assert_int_equal(json_array_size(json_object_get(o, "resources")), 2);
	json_decref(o);
}

/* NULL members are left out; resources is always there. */
static void
test_null_members_left_out(void **state)
{
	const struct audit_record r = { .source = "1.2.3.4:5",
	    .decision = "error", .status = 502 };
	char *line = format(&r);

	assert_string_equal(line, "{\"eventTime\":\"2024-02-29T23:59:58Z\","
	    "\"sourceIPAddress\":\"1.2.3.4:5\",\"resources\":[],"
	    "\"decision\":\"error\",\"status\":502,\"latencyMs\":0.000}\n");
	free(line);
}

/* What JSON requires escaped, and only that. */
static void
test_escaping(void **state)
{
	struct audit_record r = base;
	char *line;
	json_t *o;

	r.reason = "q\" b\\ n\n r\r t\t b\b f\f nul? \x01\x1f del\x7f /";
	line = format(&r);
	assert_non_null(strstr(line, "\"reason\":\"q\\\" b\\\\ n\\n r\\r "
	    "t\\t b\\b f\\f nul? \\u0001\\u001F del\x7f /\","));
	free(line);
	o = parse(&r);
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
	    r.reason);
	json_decref(o);
}

/* Well-formed UTF-8 is copied; every other byte becomes U+FFFD and the
 * member stays (jansson refused such a string and the member vanished). */
static void
test_invalid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\xff" "b", "a\\ufffdb" },
		{ "\xc3", "\\ufffd" },				/* cut short */
		{ "\xc3(", "\\ufffd(" },
		{ "\xc0\xaf", "\\ufffd\\ufffd" },		/* overlong '/' */
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" },	/* overlong */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
		{ "\xe2\x82", "\\ufffd\\ufffd" },
		{ "\x80x", "\\ufffdx" },
		{ "\xef\xbf\xbf", "\xef\xbf\xbf" },		/* U+FFFF */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },	/* U+10FFFF */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_record r = base;
		char want[128], *line;
		json_t *o;

		r.user = cases[i].in;
		snprintf(want, sizeof(want), "\"proxyUser\":\"%s\"}\n",
		    cases[i].out);
		line = format(&r);
		if (strstr(line, want) == NULL)
			fail_msg("case %zu: %s", i, line);
		free(line);
		o = parse(&r); /* jansson rejects invalid UTF-8 */
		assert_non_null(json_object_get(o, "proxyUser"));
		json_decref(o);
	}
}

/* Too small a buffer: nothing written past cap, the full length told,
 * and the same bytes once there is room. */
static void
test_short_buffer(void **state)
{
	char *line = format(&base), small[64];
	size_t need = strlen(line);

	memset(small, '#', sizeof(small));
	assert_int_equal(audit_format(small, 50, &base, &when), need);
	assert_memory_equal(small, line, 50);
	assert_int_equal(small[50], '#');
	assert_int_equal(audit_format(NULL, 0, &base, &when), need);
	free(line);
}

static void
test_json_string_alone(void **state)
{
	char buf[16];
	struct logline l = { .buf = buf, .cap = sizeof(buf) };

	audit_json_string(&l, "");
	audit_json_string(&l, "\"");
	assert_int_equal(l.len, 6);
	assert_memory_equal(buf, "\"\"\"\\\"\"", 6);
}

static void
test_off(void **state)
{
	audit_write(NULL, &base); /* must not crash */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_line),
		cmocka_unit_test(test_every_member_and_type),
		cmocka_unit_test(test_null_members_left_out),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_json_string_alone),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
