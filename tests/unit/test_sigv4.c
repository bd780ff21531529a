/*
 * Unit tests for sigv4: the Authorization grammar of spec 3.1 (every
 * refusal), X-Amz-Date and Date parsing, the 15-minute window and its
 * messages, and the order of sigv4_check_request's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigv4.h"

#define NOW ((time_t)1795485900)	/* 20261124T020500Z */
#define SIG "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CRED "AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/dynamodb/aws4_request"
#define GOOD "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" \
	"content-type;host;x-amz-date;x-amz-target, Signature=" SIG

static char msg[SIGV4_MESSAGE_MAX];

static enum sigv4_status
parse(const char *value, struct sigv4_auth *auth)
{
	return sigv4_parse_authorization(value, strlen(value), auth, msg,
	    sizeof(msg));
}

/* value is refused with status and a message containing part. */
static void
refused(const char *value, enum sigv4_status status, const char *part)
{
	struct sigv4_auth auth;
	enum sigv4_status st = parse(value, &auth);

	if (st != status)
		fail_msg("\"%s\": status %d, want %d (%s)", value, st, status,
		    msg);
	if (strstr(msg, part) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", value, msg,
		    part);
}

static void
test_parse_sdk_header(void **state)
{
	struct sigv4_auth auth;

	(void)state;
	assert_int_equal(parse(GOOD, &auth), SIGV4_OK);
	assert_string_equal(auth.access_key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(auth.date, "20261124");
	assert_string_equal(auth.region, "us-east-1");
	assert_string_equal(auth.service, "dynamodb");
	assert_string_equal(auth.signature, SIG);
	assert_int_equal(auth.signed_headers_len, strlen("content-type;host;"
	    "x-amz-date;x-amz-target"));
	assert_memory_equal(auth.signed_headers, "content-type;host;",
	    strlen("content-type;host;"));
	assert_true(sigv4_signs(&auth, "host"));
	assert_true(sigv4_signs(&auth, "x-amz-target"));
	assert_true(sigv4_signs(&auth, "content-type"));
	assert_false(sigv4_signs(&auth, "hos"));
	assert_false(sigv4_signs(&auth, "x-amz"));
	assert_false(sigv4_signs(&auth, "user-agent"));
}

static void
test_parse_separators(void **state)
{
	struct sigv4_auth auth;

	(void)state;
	/* no space, several spaces, space before the comma, another order */
	assert_int_equal(parse("AWS4-HMAC-SHA256 Credential=" CRED
	    ",SignedHeaders=host,Signature=" SIG, &auth), SIGV4_OK);
	assert_int_equal(parse("AWS4-HMAC-SHA256   Credential=" CRED
	    " ,  SignedHeaders=host ,Signature=" SIG, &auth), SIGV4_OK);
	assert_int_equal(parse("AWS4-HMAC-SHA256 Signature=" SIG
	    ", SignedHeaders=host, Credential=" CRED, &auth), SIGV4_OK);
	assert_string_equal(auth.access_key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(parse("AWS4-HMAC-SHA256 Credential=AKIA"
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/20261124/cn-north-1/dax/"
	    "aws4_request, SignedHeaders=host, Signature=" SIG, &auth),
	    SIGV4_OK);
	assert_string_equal(auth.service, "dax");
	assert_string_equal(auth.region, "cn-north-1");
}

static void
test_missing_token(void **state)
{
	(void)state;
	refused("", SIGV4_MISSING, "Request is missing Authentication Token");
	refused("AWS4", SIGV4_MISSING, "missing Authentication Token");
	refused("Bearer xyz", SIGV4_MISSING, "missing Authentication Token");
	refused("aws4-hmac-sha256 Credential=" CRED, SIGV4_MISSING,
	    "missing Authentication Token");
}

static void
test_algorithm(void **state)
{
	(void)state;
	refused("AWS4-HMAC-SHA25 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "Unsupported AWS 'algorithm': "
	    "'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). ");
	refused("AWS4-ECDSA-P256-SHA256 Credential=" CRED ", SignedHeaders=host,"
	    " Signature=" SIG, SIGV4_INCOMPLETE, "'AWS4-ECDSA-P256-SHA256'");
	refused("AWS4-HMAC-SHA256,Credential=" CRED ", SignedHeaders=host,"
	    " Signature=" SIG, SIGV4_INCOMPLETE, "Unsupported AWS 'algorithm'");
}

static void
test_missing_parameters(void **state)
{
	(void)state;
	refused("AWS4-HMAC-SHA256", SIGV4_INCOMPLETE, "Authorization header "
	    "requires 'Credential' parameter. Authorization header requires "
	    "'SignedHeaders' parameter. Authorization header requires "
	    "'Signature' parameter. ");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host",
	    SIGV4_INCOMPLETE, "requires 'Signature' parameter.");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", Signature=" SIG,
	    SIGV4_INCOMPLETE, "requires 'SignedHeaders' parameter.");
	refused("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" SIG,
	    SIGV4_INCOMPLETE, "requires 'Credential' parameter.");
	refused("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature="
	    SIG, SIGV4_INCOMPLETE, "requires 'Credential' parameter.");
}

static void
test_bad_parameters(void **state)
{
	(void)state;
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", Credential=" CRED
	    ", SignedHeaders=host, Signature=" SIG, SIGV4_INCOMPLETE,
	    "repeated parameter 'Credential'");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG ", Signature=" SIG, SIGV4_INCOMPLETE,
	    "repeated parameter 'Signature'");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG ", Extra=1", SIGV4_INCOMPLETE,
	    "unknown parameter 'Extra'");
	refused("AWS4-HMAC-SHA256 credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "unknown parameter "
	    "'credential'");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "'SignedHeaders' not a valid "
	    "key=value pair (missing equal-sign)");
	refused("AWS4-HMAC-SHA256 Credential=" CRED " SignedHeaders=host, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "separated by ','");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ",, SignedHeaders=host, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "missing equal-sign");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG ",", SIGV4_INCOMPLETE, "ends with ','");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG "\t", SIGV4_INCOMPLETE, "Signature must be 64");
}

static void
test_credential(void **state)
{
	(void)state;
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1/dynamodb, SignedHeaders=host, Signature=" SIG,
	    SIGV4_INCOMPLETE, "Credential must have exactly 5 slash-delimited "
	    "elements, e.g. keyid/date/region/service/term, got "
	    "'AKIAIOSFODNN7EXAMPLE/20261124/us-east-1/dynamodb'");
	refused("AWS4-HMAC-SHA256 Credential=" CRED "/, SignedHeaders=host, "
	    "Signature=" SIG, SIGV4_INCOMPLETE, "exactly 5 slash-delimited");
	refused("AWS4-HMAC-SHA256 Credential=akiaiosfodnn7example/20261124/"
	    "us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature="
	    SIG, SIGV4_UNRECOGNIZED, "The security token included in the "
	    "request is invalid.");
	refused("AWS4-HMAC-SHA256 Credential=AKIA123/20261124/us-east-1/"
	    "dynamodb/aws4_request, SignedHeaders=host, Signature=" SIG,
	    SIGV4_UNRECOGNIZED, "security token");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "US-EAST-1/dynamodb/aws4_request, SignedHeaders=host, Signature="
	    SIG, SIGV4_INCOMPLETE, "the credential scope must be lower case");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1/DynamoDB/aws4_request, SignedHeaders=host, Signature="
	    SIG, SIGV4_INCOMPLETE, "must be lower case");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1/dynamodb/AWS4_REQUEST, SignedHeaders=host, Signature="
	    SIG, SIGV4_INCOMPLETE, "must be lower case");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2026112/"
	    "us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature="
	    SIG, SIGV4_INCOMPLETE, "scope date must be YYYYMMDD");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "/dynamodb/aws4_request, SignedHeaders=host, Signature=" SIG,
	    SIGV4_INVALID, "Credential should be scoped to a valid region, "
	    "not ''. ");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us_east/dynamodb/aws4_request, SignedHeaders=host, Signature="
	    SIG, SIGV4_INVALID, "valid region, not 'us_east'");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1//aws4_request, SignedHeaders=host, Signature=" SIG,
	    SIGV4_INVALID, "valid service");
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1/dynamodb/aws4_requests, SignedHeaders=host, Signature="
	    SIG, SIGV4_INVALID, "Credential should be scoped with a valid "
	    "terminator: 'aws4_request', not 'aws4_requests'. ");
	/* a message never repeats bytes that are not printable */
	refused("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/"
	    "us-east-1/dynamodb/\x01\x02, SignedHeaders=host, Signature=" SIG,
	    SIGV4_INVALID, "not '?'");
}

static void
test_signed_headers(void **state)
{
	static const char *const bad[] = { "Host", "host;", ";host",
	    "host;;x-amz-date", "x-amz-date;host", "host;host", "ho st",
	    "host,x-amz-date", "content-type;host;x-amz-date;x-amz-date" };
	char value[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(value, sizeof(value), "AWS4-HMAC-SHA256 Credential="
		    CRED ", SignedHeaders=%s, Signature=" SIG, bad[i]);
		refused(value, SIGV4_INCOMPLETE, i == 6 || i == 7 ?
		    "" : "SignedHeaders must be lower-case header names");
	}
}

static void
test_signature(void **state)
{
	(void)state;
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=0123", SIGV4_INCOMPLETE, "Signature must be 64 "
	    "lower-case hexadecimal digits");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=" SIG "0", SIGV4_INCOMPLETE, "Signature must be 64");
	refused("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
	    "Signature=0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef", SIGV4_INCOMPLETE, "Signature must be 64");
}

static void
test_amz_date(void **state)
{
	time_t t;
	char buf[SIGV4_TIME_LEN + 1];

	(void)state;
	assert_int_equal(sigv4_parse_amz_date("20261124T020500Z", 16, &t), 0);
	assert_int_equal(t, NOW);
	sigv4_format_time(t, buf);
	assert_string_equal(buf, "20261124T020500Z");
	assert_int_equal(sigv4_parse_amz_date("19700101T000000Z", 16, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(sigv4_parse_amz_date("20240229T235959Z", 16, &t), 0);
	sigv4_format_time(t, buf);
	assert_string_equal(buf, "20240229T235959Z");
	assert_int_equal(sigv4_parse_amz_date("20230229T000000Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("21000229T000000Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20000229T000000Z", 16, &t), 0);
	assert_int_equal(sigv4_parse_amz_date("20261324T020500Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261100T020500Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124T240000Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124T026000Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124T020560Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124T020500", 15, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124t020500Z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("20261124T020500z", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("2026-11-24T02:05", 16, &t), -1);
	assert_int_equal(sigv4_parse_amz_date("2026112+T020500Z", 16, &t), -1);
}

static void
test_http_date(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(sigv4_parse_http_date("Tue, 24 Nov 2026 02:05:00 GMT",
	    29, &t), 0);
	assert_int_equal(t, NOW);
	assert_int_equal(sigv4_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT",
	    29, &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(sigv4_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT",
	    29, &t), 0);
	/* the weekday must be the date's */
	assert_int_equal(sigv4_parse_http_date("Mon, 24 Nov 2026 02:05:00 GMT",
	    29, &t), -1);
	assert_int_equal(sigv4_parse_http_date("Tue, 24 Nov 2026 02:05:00 UTC",
	    29, &t), -1);
	assert_int_equal(sigv4_parse_http_date("Tue, 24 nov 2026 02:05:00 GMT",
	    29, &t), -1);
	assert_int_equal(sigv4_parse_http_date("Tuesday, 24-Nov-26 02:05:00 GMT",
	    31, &t), -1);
	assert_int_equal(sigv4_parse_http_date("Tue Nov 24 02:05:00 2026", 24,
	    &t), -1);
	assert_int_equal(sigv4_parse_http_date("Tue, 31 Nov 2026 02:05:00 GMT",
	    29, &t), -1);
}

static void
test_window(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(sigv4_check_window(NOW, NOW, msg, sizeof(msg)),
	    SIGV4_OK);
	assert_int_equal(sigv4_check_window(NOW - 900, NOW, msg, sizeof(msg)),
	    SIGV4_OK);
	assert_int_equal(sigv4_check_window(NOW + 900, NOW, msg, sizeof(msg)),
	    SIGV4_OK);
	assert_int_equal(sigv4_parse_amz_date("20261124T010203Z", 16, &t), 0);
	assert_int_equal(sigv4_check_window(t, NOW, msg, sizeof(msg)),
	    SIGV4_INVALID);
	assert_string_equal(msg, "Signature expired: 20261124T010203Z is now "
	    "earlier than 20261124T015000Z (20261124T020500Z - 15 min.)");
	assert_int_equal(sigv4_check_window(NOW - 901, NOW, msg, sizeof(msg)),
	    SIGV4_INVALID);
	assert_int_equal(sigv4_check_window(NOW + 901, NOW, msg, sizeof(msg)),
	    SIGV4_INVALID);
	assert_string_equal(msg, "Signature not yet current: 20261124T022001Z "
	    "is still later than 20261124T022000Z (20261124T020500Z + 15 "
	    "min.)");
}

/* ---- sigv4_check_request ------------------------------------------------ */

#define MAXH 8

struct hdrs {
	struct http1_header h[MAXH];
	size_t n;
};

static void
add(struct hdrs *hs, const char *name, const char *value)
{
	assert_true(hs->n < MAXH);
	hs->h[hs->n].name = name;
	hs->h[hs->n].name_len = strlen(name);
	hs->h[hs->n].value = value;
	hs->h[hs->n].value_len = strlen(value);
	hs->n++;
}

static enum sigv4_status
check(const struct hdrs *hs, struct sigv4_request *req)
{
	return sigv4_check_request(hs->h, hs->n, NOW, req, msg, sizeof(msg));
}

static void
test_check_ok(void **state)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req;

	(void)state;
	add(&hs, "Host", "dynamodb.us-east-1.amazonaws.com");
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "Authorization", GOOD);
	assert_int_equal(check(&hs, &req), SIGV4_OK);
	assert_int_equal(req.time, NOW);
	assert_false(req.from_date_header);
	assert_string_equal(req.auth.signature, SIG);
}

static void
test_check_date_header(void **state)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req;

	(void)state;
	add(&hs, "authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=date;host;x-amz-date, Signature=" SIG);
	add(&hs, "date", "Tue, 24 Nov 2026 02:05:00 GMT");
	assert_int_equal(check(&hs, &req), SIGV4_OK);
	assert_true(req.from_date_header);
	assert_int_equal(req.time, NOW);
	/* X-Amz-Date wins; Date is then not looked at */
	add(&hs, "X-Amz-Date", "20261124T020000Z");
	assert_int_equal(check(&hs, &req), SIGV4_OK);
	assert_false(req.from_date_header);
	assert_int_equal(req.time, NOW - 300);
	hs.n = 1;
	add(&hs, "Date", "Tuesday, 24-Nov-26 02:05:00 GMT");
	assert_int_equal(check(&hs, &req), SIGV4_INCOMPLETE);
	assert_non_null(strstr(msg, "RFC 1123"));
	hs.n = 1;
	add(&hs, "Date", "Tue, 24 Nov 2026 02:05:00 GMT");
	add(&hs, "Date", "Tue, 24 Nov 2026 02:05:00 GMT");
	assert_int_equal(check(&hs, &req), SIGV4_DENIED);
	assert_string_equal(msg, "repeated Date header");
}

static void
test_check_refusals(void **state)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req;

	(void)state;
	add(&hs, "Host", "h");
	assert_int_equal(check(&hs, &req), SIGV4_MISSING);
	assert_string_equal(msg, "Request is missing Authentication Token");
	add(&hs, "Authorization", GOOD);
	assert_int_equal(check(&hs, &req), SIGV4_INCOMPLETE);
	assert_string_equal(msg, "Authorization header requires existence of "
	    "either a 'X-Amz-Date' or a 'Date' header.");
	add(&hs, "X-Amz-Date", "2026-11-24T02:05:00Z");
	assert_int_equal(check(&hs, &req), SIGV4_INCOMPLETE);
	assert_string_equal(msg, "Date must be in ISO-8601 'basic format'. Got "
	    "'2026-11-24T02:05:00Z'. See http://en.wikipedia.org/wiki/ISO_8601");
	hs.n = 2;
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	assert_int_equal(check(&hs, &req), SIGV4_DENIED);
	assert_string_equal(msg, "repeated X-Amz-Date header");
	hs.n = 2;
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "authorization", GOOD);
	assert_int_equal(check(&hs, &req), SIGV4_DENIED);
	assert_string_equal(msg, "repeated Authorization header");
}

static void
test_check_window_and_scope(void **state)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req;

	(void)state;
	add(&hs, "X-Amz-Date", "20261124T010203Z");
	add(&hs, "Authorization", GOOD);
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_string_equal(msg, "Signature expired: 20261124T010203Z is now "
	    "earlier than 20261124T015000Z (20261124T020500Z - 15 min.)");
	hs.n = 0;
	add(&hs, "X-Amz-Date", "20261124T030000Z");
	add(&hs, "Authorization", GOOD);
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_string_equal(msg, "Signature not yet current: 20261124T030000Z "
	    "is still later than 20261124T022000Z (20261124T020500Z + 15 "
	    "min.)");
	/* host must be signed */
	hs.n = 0;
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=x-amz-date;x-amz-target, Signature=" SIG);
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_string_equal(msg, "'Host' must be a 'SignedHeader' in the AWS "
	    "Authorization.");
	/* the scope date is the request's */
	hs.n = 0;
	add(&hs, "X-Amz-Date", "20261124T000100Z");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential="
	    "AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/dynamodb/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature=" SIG);
	assert_int_equal(sigv4_check_request(hs.h, hs.n, NOW - 7200, &req, msg,
	    sizeof(msg)), SIGV4_INVALID);
	assert_string_equal(msg, "Date in Credential scope does not match "
	    "YYYYMMDD from ISO-8601 version of date from HTTP: '20261123' != "
	    "'20261124', from '20261124T000100Z'.");
}

/* Every x-amz-* header, and a Date that gives the time, must be signed. */
static void
test_check_unsigned_headers(void **state)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req;

	(void)state;
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=host;x-amz-date, Signature=" SIG);
	assert_int_equal(check(&hs, &req), SIGV4_OK);
	add(&hs, "X-Amz-Target", "DynamoDB_20120810.GetItem");
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_string_equal(msg, "There were headers present in the request "
	    "which were not signed: X-Amz-Target");
	hs.n = 0;
	add(&hs, "X-Amz-Date", "20261124T020500Z");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=host, Signature=" SIG);
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_non_null(strstr(msg, "not signed: X-Amz-Date"));
	/* x-amzn-trace-id is not an x-amz- header; user-agent is unsigned */
	hs.n = 0;
	add(&hs, "Date", "Tue, 24 Nov 2026 02:05:00 GMT");
	add(&hs, "X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793");
	add(&hs, "User-Agent", "x");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=date;host, Signature=" SIG);
	assert_int_equal(check(&hs, &req), SIGV4_OK);
	hs.n = 0;
	add(&hs, "Date", "Tue, 24 Nov 2026 02:05:00 GMT");
	add(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=host, Signature=" SIG);
	assert_int_equal(check(&hs, &req), SIGV4_INVALID);
	assert_string_equal(msg, "'Date' must be a 'SignedHeader' in the AWS "
	    "Authorization.");
	/* Date beside X-Amz-Date is not the time, so need not be signed */
	add(&hs, "x-amz-date", "20261124T020500Z");
	hs.h[1].value = "AWS4-HMAC-SHA256 Credential=" CRED
	    ", SignedHeaders=host;x-amz-date, Signature=" SIG;
	hs.h[1].value_len = strlen(hs.h[1].value);
	assert_int_equal(check(&hs, &req), SIGV4_OK);
}

static void
test_status_types(void **state)
{
	(void)state;
	assert_string_equal(sigv4_status_type(SIGV4_MISSING),
	    "com.amazon.coral.service#MissingAuthenticationTokenException");
	assert_string_equal(sigv4_status_type(SIGV4_INCOMPLETE),
	    "com.amazon.coral.service#IncompleteSignatureException");
	assert_string_equal(sigv4_status_type(SIGV4_INVALID),
	    "com.amazon.coral.service#InvalidSignatureException");
	assert_string_equal(sigv4_status_type(SIGV4_UNRECOGNIZED),
	    "com.amazon.coral.service#UnrecognizedClientException");
	assert_string_equal(sigv4_status_type(SIGV4_DENIED),
	    "com.amazon.coral.service#AccessDeniedException");
}

/* Parsing never reads past the value (no NUL terminator given). */
static void
test_unterminated_value(void **state)
{
	struct sigv4_auth auth;
	char *copy;
	size_t len = strlen(GOOD);

	(void)state;
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, GOOD, len);
	assert_int_equal(sigv4_parse_authorization(copy, len, &auth, msg,
	    sizeof(msg)), SIGV4_OK);
	assert_int_equal(sigv4_parse_authorization(copy, len - 1, &auth, msg,
	    sizeof(msg)), SIGV4_INCOMPLETE);
	free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sdk_header),
		cmocka_unit_test(test_parse_separators),
		cmocka_unit_test(test_missing_token),
		cmocka_unit_test(test_algorithm),
		cmocka_unit_test(test_missing_parameters),
		cmocka_unit_test(test_bad_parameters),
		cmocka_unit_test(test_credential),
		cmocka_unit_test(test_signed_headers),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_amz_date),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_date_header),
		cmocka_unit_test(test_check_refusals),
		cmocka_unit_test(test_check_window_and_scope),
		cmocka_unit_test(test_check_unsigned_headers),
		cmocka_unit_test(test_status_types),
		cmocka_unit_test(test_unterminated_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
