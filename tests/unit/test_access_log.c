/*
 * Unit tests for access_log: one parseable line per request, values
 * quoted so a hostile X-Amz-Target cannot forge fields or lines, and the
 * exact bytes of a line (the format tools parse).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access_log.h"

/* 2024-02-29T23:59:58.007Z */
static const struct timespec when = { .tv_sec = 1709251198,
    .tv_nsec = 7999999 };

/* Formats r and returns the text (caller frees), checking the length
 * the formatter reports against what it wrote. */
static char *
write_line(const struct access_record *r)
{
	char *buf = calloc(1, 4096);
	size_t n = access_log_format(buf, 4095, r, &when);

	assert_true(n > 0 && n < 4095);
	assert_int_equal(strlen(buf), n);
	return buf;
}

static const struct access_record base = {
	.client = "10.1.2.3:50432",
	.endpoint = "dynamodb",
	.host = "dynamodb.us-east-1.amazonaws.com",
	.target = "DynamoDB_20120810.PutItem",
	.status = 200,
	.request_bytes = 512,
	.response_bytes = 300,
	.latency_us = 1500,
	.upstream = "10.0.1.23:443",
	.reused = 1,
};

static void
test_line_has_every_field(void **state)
{
	char *line = write_line(&base);

	assert_non_null(strstr(line, " client=10.1.2.3:50432 "));
	assert_non_null(strstr(line, " endpoint=dynamodb "));
	assert_non_null(strstr(line, " target=DynamoDB_20120810.PutItem "));
	assert_non_null(strstr(line, " status=200 "));
	assert_non_null(strstr(line, " request_bytes=512 response_bytes=300 "));
	assert_non_null(strstr(line, " latency_ms=1.500 "));
	assert_non_null(strstr(line, " upstream=10.0.1.23:443 reused=1"));
	assert_null(strstr(line, "error="));
	assert_int_equal(strchr(line, '\n') - line + 1, (long)strlen(line));
	free(line);
}

/* The whole line, byte for byte, as the stdio version wrote it. */
static void
test_exact_line(void **state)
{
	struct access_record r = base;
	char *line;

	r.error = "upstream_timeout";
	r.status = 504;
	r.latency_us = 12345678901ULL;
	r.request_bytes = 18446744073709551615ULL;
	r.h2_stream = 7;
	line = write_line(&r);
	assert_string_equal(line, "time=2024-02-29T23:59:58.007Z "
	    "client=10.1.2.3:50432 endpoint=dynamodb "
	    "host=dynamodb.us-east-1.amazonaws.com "
	    "target=DynamoDB_20120810.PutItem status=504 "
	    "request_bytes=18446744073709551615 response_bytes=300 "
	    "latency_ms=12345678.901 upstream=10.0.1.23:443 reused=1 "
	    "error=upstream_timeout h2_stream=7\n");
	free(line);
	r = base;
	r.latency_us = 7;
	r.reused = 0;
	r.endpoint = "-";
	r.target = "";
	line = write_line(&r);
	assert_non_null(strstr(line, " endpoint=- host="));
	assert_non_null(strstr(line, " target=\"\" status=200 "));
	assert_non_null(strstr(line, " latency_ms=0.007 upstream="
	    "10.0.1.23:443 reused=0\n"));
	free(line);
}

static void
test_time_stamps(void **state)
{
	static const struct {
		time_t t;
		long ns;
		const char *want;
	} cases[] = {
		{ 0, 0, "time=1970-01-01T00:00:00.000Z " },
		{ 951782400, 999999999, "time=2000-02-29T00:00:00.999Z " },
		{ 4107542399, 1000000, "time=2100-02-28T23:59:59.001Z " },
		{ 4107542400, 0, "time=2100-03-01T00:00:00.000Z " },
		{ 1735689599, 0, "time=2024-12-31T23:59:59.000Z " },
		{ -1, 0, "time=1969-12-31T23:59:59.000Z " },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec t = { .tv_sec = cases[i].t,
		    .tv_nsec = cases[i].ns };
		size_t n = access_log_format(buf, sizeof(buf) - 1, &base, &t);

		buf[n] = '\0';
		assert_memory_equal(buf, cases[i].want, strlen(cases[i].want));
	}
}

static void
test_error_field(void **state)
{
	struct access_record r = base;
	char *line;

	r.error = "dns_timeout";
	r.status = 504;
	line = write_line(&r);
	assert_non_null(strstr(line, " error=dns_timeout\n"));
	free(line);
}

/* A target with spaces, '=' or a newline is quoted and escaped. */
static void
test_hostile_target_is_quoted(void **state)
{
	struct access_record r = base;
	char *line;

	r.target = "X status=999\nforged=1";
	line = write_line(&r);
	assert_non_null(strstr(line, " target=\"X status=999\\x0aforged=1\" "));
	assert_int_equal(strchr(line, '\n') - line + 1, (long)strlen(line));
	free(line);
	r.target = "a\"b\\c\x7f\xc3\xa9";
	line = write_line(&r);
	assert_non_null(strstr(line, " target=\"a\\\"b\\\\c\\x7f\\xc3\\xa9\" "));
	free(line);
	r.target = "a=b";
	line = write_line(&r);
	assert_non_null(strstr(line, " target=\"a=b\" "));
	free(line);
}

/* A quoted value is cut as the fixed buffers cut it: a target of 400
 * spaces keeps 293 of them (300 bytes with quotes and NUL, 6 spare). */
static void
test_long_quoted_value_is_cut(void **state)
{
	struct access_record r = base;
	char target[401], want[300], *line;

	memset(target, ' ', 400);
	target[400] = '\0';
	r.target = target;
	want[0] = '"';
	memset(want + 1, ' ', 293);
	memcpy(want + 294, "\" stat", 6);
	line = write_line(&r);
	assert_non_null(strstr(line, " target=\""));
	assert_memory_equal(strstr(line, " target=") + 8, want, sizeof(want));
	free(line);
}

/* Too small a buffer: nothing written past it, the full length told. */
static void
test_short_buffer(void **state)
{
	char small[40], *line = write_line(&base);

	memset(small, '#', sizeof(small));
	assert_int_equal(access_log_format(small, 20, &base, &when),
	    strlen(line));
	assert_memory_equal(small, line, 20);
	assert_int_equal(small[20], '#');
	free(line);
}

static void
test_off_is_null(void **state)
{
	access_log_write(NULL, &base); /* must not crash */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_has_every_field),
		cmocka_unit_test(test_exact_line),
		cmocka_unit_test(test_time_stamps),
		cmocka_unit_test(test_error_field),
		cmocka_unit_test(test_hostile_target_is_quoted),
		cmocka_unit_test(test_long_quoted_value_is_cut),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_off_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
