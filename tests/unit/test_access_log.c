/*
 * Unit tests for access_log: one parseable line per request, values
 * quoted so a hostile X-Amz-Target cannot forge fields or lines.
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

/* Writes r through a temporary file and returns the text (caller frees). */
static char *
write_line(const struct access_record *r)
{
	FILE *f = tmpfile();
	char *buf = calloc(1, 4096);

	assert_non_null(f);
	access_log_write(f, r);
	rewind(f);
	assert_true(fread(buf, 1, 4095, f) > 0);
	fclose(f);
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
}

static void
test_off_is_null(void **state)
{
	assert_null(access_log_open("off"));
	access_log_write(NULL, &base); /* must not crash */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_has_every_field),
		cmocka_unit_test(test_error_field),
		cmocka_unit_test(test_hostile_target_is_quoted),
		cmocka_unit_test(test_off_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
