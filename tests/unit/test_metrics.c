/*
 * Unit tests for metrics: the exact exposition of a small set of samples,
 * bucket placement at and just past every bound, float formatting of
 * sums, label escaping and truncation, the series limit with its overflow
 * series and dropped counter, writers in registration order, many
 * threads recording at once, and the admin listener over a real socket
 * (/metrics, HEAD, /healthz, /readyz before and after ready, 404, 405,
 * oversized requests, a busy port and a bad address).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "metrics.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const double bounds[] = METRICS_BUCKETS;
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

/* The le text of each bound, as Prometheus writes it. */
static const char *const le_text[NBOUNDS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10",
};

/* The whole exposition, as a string to free. */
static char *
scrape(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	metrics_write(m, out);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* How many times a whole line occurs in text. */
static int
line_count(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;
	int count = 0;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			count++;
		p += n;
	}
	return count;
}

static void
assert_line(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
assert_line(const char *text, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (line_count(text, line) != 1)
		fail_msg("line not found once: %s", line);
}

/* Lines of text that start with prefix. */
static int
lines_starting(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = text;
	int count = 0;

	for (; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, prefix, n) == 0)
			count++;
	return count;
}

/* ------------------------------------------------------------------ */

static const char golden[] =
"# HELP ddbgate_requests_total Requests finished, by endpoint, action, "
    "decision and status.\n"
"# TYPE ddbgate_requests_total counter\n"
"ddbgate_requests_total{endpoint=\"a.example\",action=\"-\","
    "decision=\"error\",status=\"502\"} 1\n"
"ddbgate_requests_total{endpoint=\"dynamodb.us-east-1.amazonaws.com\","
    "action=\"GetItem\",decision=\"allow\",status=\"200\"} 2\n"
"ddbgate_requests_total{endpoint=\"dynamodb.us-east-1.amazonaws.com\","
    "action=\"PutItem\",decision=\"deny\",status=\"403\"} 1\n"
"# HELP ddbgate_request_duration_seconds Time to serve a request, in "
    "seconds.\n"
"# TYPE ddbgate_request_duration_seconds histogram\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.0005\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.001\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.0025\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.005\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.01\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.025\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.05\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.1\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.25\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"0.5\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"1\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"2.5\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"5\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"10\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"a.example\","
    "le=\"+Inf\"} 1\n"
"ddbgate_request_duration_seconds_sum{endpoint=\"a.example\"} 1e-06\n"
"ddbgate_request_duration_seconds_count{endpoint=\"a.example\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.0005\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.001\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.0025\"} 1\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.005\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.01\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.025\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.05\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.1\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.25\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.5\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"1\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"2.5\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"5\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"10\"} 2\n"
"ddbgate_request_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"+Inf\"} 3\n"
"ddbgate_request_duration_seconds_sum{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\"} 12.00525\n"
"ddbgate_request_duration_seconds_count{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\"} 3\n"
"# HELP ddbgate_upstream_duration_seconds Time a request spent upstream, "
    "in seconds.\n"
"# TYPE ddbgate_upstream_duration_seconds histogram\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.0005\"} 0\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.001\"} 1\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.0025\"} 1\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.005\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.01\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.025\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.05\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.1\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.25\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"0.5\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"1\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"2.5\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"5\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"10\"} 2\n"
"ddbgate_upstream_duration_seconds_bucket{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\",le=\"+Inf\"} 2\n"
"ddbgate_upstream_duration_seconds_sum{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\"} 0.004\n"
"ddbgate_upstream_duration_seconds_count{endpoint=\"dynamodb.us-east-1."
    "amazonaws.com\"} 2\n"
"# HELP ddbgate_connections_open Client connections open.\n"
"# TYPE ddbgate_connections_open gauge\n"
"ddbgate_connections_open 2\n"
"# HELP ddbgate_connections_accepted_total Client connections accepted, "
    "by listener mode.\n"
"# TYPE ddbgate_connections_accepted_total counter\n"
"ddbgate_connections_accepted_total{mode=\"connect\"} 3\n"
"ddbgate_connections_accepted_total{mode=\"sni\"} 1\n"
"# HELP ddbgate_tls_handshake_failures_total TLS handshakes failed, by "
    "side and reason.\n"
"# TYPE ddbgate_tls_handshake_failures_total counter\n"
"ddbgate_tls_handshake_failures_total{side=\"client\",reason=\"timeout\"} "
    "1\n"
"ddbgate_tls_handshake_failures_total{side=\"upstream\","
    "reason=\"certificate\"} 2\n"
"# HELP ddbgate_egress_refusals_total Upstream connections refused by the "
    "egress rules, by endpoint.\n"
"# TYPE ddbgate_egress_refusals_total counter\n"
"ddbgate_egress_refusals_total{endpoint=\"evil.example\"} 1\n"
"# HELP ddbgate_reloads_total Configuration reloads, by outcome.\n"
"# TYPE ddbgate_reloads_total counter\n"
"ddbgate_reloads_total{outcome=\"failed\"} 0\n"
"ddbgate_reloads_total{outcome=\"ok\"} 1\n"
"ddbgate_reloads_total{outcome=\"refused\"} 0\n"
"# HELP ddbgate_upstream_tls_handshakes_total Upstream TLS handshakes "
    "completed, by endpoint and whether a kept session was resumed.\n"
"# TYPE ddbgate_upstream_tls_handshakes_total counter\n"
"ddbgate_upstream_tls_handshakes_total{endpoint=\"ddb\",resumed=\"no\"} "
    "1\n"
"ddbgate_upstream_tls_handshakes_total{endpoint=\"ddb\",resumed=\"yes\"} "
    "2\n"
"# HELP ddbgate_metrics_dropped_series_total Samples counted in an "
    "overflow series (labelled other) because the series limit was "
    "reached.\n"
"# TYPE ddbgate_metrics_dropped_series_total counter\n"
"ddbgate_metrics_dropped_series_total 0\n"
"# HELP ddbgate_build_info Build information; the value is always 1.\n"
"# TYPE ddbgate_build_info gauge\n"
"ddbgate_build_info{version=\"" PACKAGE_VERSION "\"} 1\n";

static void
test_golden(void **state)
{
	struct metrics *m = metrics_new(1);
	const char *ddb = "dynamodb.us-east-1.amazonaws.com";
	char *text;

	/* Recorded out of order: the output is sorted. */
	metrics_tls_failure(m, "upstream", "certificate");
	metrics_request(m, ddb, "GetItem", "allow", 200, 5000, 3000);
	metrics_request(m, ddb, "PutItem", "deny", 403, 250, 0);
	metrics_request(m, ddb, "GetItem", "allow", 200, 12000000, 1000);
	metrics_request(m, "a.example", NULL, "error", 502, 1, 0);
	metrics_connection(m, "sni", 1);
	metrics_connection(m, "connect", 1);
	metrics_connection(m, "connect", 1);
	metrics_connection(m, "connect", -1);
	metrics_connection(m, "connect", 1);
	metrics_connection(m, "sni", -1);
	metrics_tls_failure(m, "client", "timeout");
	metrics_tls_failure(m, "upstream", "certificate");
	metrics_egress_refusal(m, "evil.example");
	metrics_upstream_handshake(m, "ddb", true);
	metrics_upstream_handshake(m, "ddb", false);
	metrics_upstream_handshake(m, "ddb", true);
	metrics_reload(m, "ok");
	text = scrape(m);
	assert_string_equal(text, golden);
	free(text);
	/* A second scrape is the same text. */
	text = scrape(m);
	assert_string_equal(text, golden);
	free(text);
	metrics_free(m);
}

/* The golden scenario recorded by three threads into three shards: the
 * scrape adds them up to the same text. */
static void *
shard_one(void *arg)
{
	struct metrics *m = arg;
	const char *ddb = "dynamodb.us-east-1.amazonaws.com";

	metrics_bind_thread(1);
	metrics_tls_failure(m, "upstream", "certificate");
	metrics_request(m, ddb, "GetItem", "allow", 200, 5000, 3000);
	metrics_request(m, ddb, "PutItem", "deny", 403, 250, 0);
	metrics_connection(m, "sni", 1);
	metrics_connection(m, "connect", 1);
	metrics_upstream_handshake(m, "ddb", true);
	return NULL;
}

static void *
shard_two(void *arg)
{
	struct metrics *m = arg;
	const char *ddb = "dynamodb.us-east-1.amazonaws.com";

	metrics_bind_thread(2);
	metrics_request(m, ddb, "GetItem", "allow", 200, 12000000, 1000);
	metrics_request(m, "a.example", NULL, "error", 502, 1, 0);
	metrics_connection(m, "connect", 1);
	metrics_connection(m, "connect", -1);
	metrics_tls_failure(m, "upstream", "certificate");
	metrics_upstream_handshake(m, "ddb", true);
	metrics_upstream_handshake(m, "ddb", false);
	return NULL;
}

static void
test_shards(void **state)
{
	struct metrics *m = metrics_new(3);
	pthread_t a, b;
	char *text;

	(void)state;
	assert_int_equal(pthread_create(&a, NULL, shard_one, m), 0);
	assert_int_equal(pthread_join(a, NULL), 0);
	assert_int_equal(pthread_create(&b, NULL, shard_two, m), 0);
	assert_int_equal(pthread_join(b, NULL), 0);
	/* this thread: shard 0 */
	metrics_connection(m, "connect", 1);
	metrics_connection(m, "sni", -1);
	metrics_tls_failure(m, "client", "timeout");
	metrics_egress_refusal(m, "evil.example");
	metrics_reload(m, "ok");
	text = scrape(m);
	assert_string_equal(text, golden);
	free(text);
	metrics_free(m);
}

static void
test_empty(void **state)
{
	struct metrics *m = metrics_new(1);
	char *text = scrape(m);

	/* Every family is announced, even without series. */
	assert_int_equal(lines_starting(text, "# TYPE "), 11);
	assert_int_equal(lines_starting(text, "# HELP "), 11);
	assert_line(text, "# TYPE ddbgate_requests_total counter");
	assert_line(text, "# TYPE ddbgate_request_duration_seconds histogram");
	assert_line(text, "# TYPE ddbgate_connections_open gauge");
	assert_line(text, "ddbgate_connections_open 0");
	assert_line(text, "ddbgate_metrics_dropped_series_total 0");
	assert_line(text, "ddbgate_reloads_total{outcome=\"ok\"} 0");
	assert_int_equal(lines_starting(text, "ddbgate_requests_total"), 0);
	assert_int_equal(lines_starting(text,
	    "ddbgate_upstream_duration_seconds_"), 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	metrics_free(m);
	metrics_free(NULL);
}

/*
 * At each bound exactly, a value counts in that bucket (le is <=); one
 * microsecond more, in the next.
 */
static void
test_bucket_boundaries(void **state)
{
	struct metrics *m = metrics_new(1);
	char ep[32], *text;
	size_t i;

	metrics_request(m, "zero", "A", "allow", 200, 0, 0);
	for (i = 0; i < NBOUNDS; i++) {
		uint64_t us = (uint64_t)(bounds[i] * 1e6 + 0.5);

		snprintf(ep, sizeof(ep), "at%02zu", i);
		metrics_request(m, ep, "A", "allow", 200, us, us);
		snprintf(ep, sizeof(ep), "past%02zu", i);
		metrics_request(m, ep, "A", "allow", 200, us + 1, us + 1);
	}
	text = scrape(m);
	assert_line(text, "ddbgate_request_duration_seconds_bucket"
	    "{endpoint=\"zero\",le=\"0.0005\"} 1");
	assert_line(text, "ddbgate_request_duration_seconds_sum"
	    "{endpoint=\"zero\"} 0");
	/* Upstream 0 means never went upstream. */
	assert_int_equal(line_count(text, "ddbgate_upstream_duration_seconds_"
	    "count{endpoint=\"zero\"} 1"), 0);
	for (i = 0; i < NBOUNDS; i++) {
		const char *fam[2] = { "request", "upstream" };

		for (int f = 0; f < 2; f++) {
			if (i > 0)
				assert_line(text, "ddbgate_%s_duration_seconds_"
				    "bucket{endpoint=\"at%02zu\",le=\"%s\"} 0",
				    fam[f], i, le_text[i - 1]);
			assert_line(text, "ddbgate_%s_duration_seconds_bucket"
			    "{endpoint=\"at%02zu\",le=\"%s\"} 1", fam[f], i,
			    le_text[i]);
			assert_line(text, "ddbgate_%s_duration_seconds_bucket"
			    "{endpoint=\"past%02zu\",le=\"%s\"} 0", fam[f], i,
			    le_text[i]);
			if (i + 1 < NBOUNDS)
				assert_line(text, "ddbgate_%s_duration_seconds_"
				    "bucket{endpoint=\"past%02zu\",le=\"%s\"} 1",
				    fam[f], i, le_text[i + 1]);
			assert_line(text, "ddbgate_%s_duration_seconds_bucket"
			    "{endpoint=\"past%02zu\",le=\"+Inf\"} 1", fam[f], i);
			assert_line(text, "ddbgate_%s_duration_seconds_sum"
			    "{endpoint=\"at%02zu\"} %s", fam[f], i, le_text[i]);
		}
	}
	free(text);
	metrics_free(m);
}

/* Sums are written as Go's FormatFloat(f, 'g', -1, 64). */
static void
test_sum_format(void **state)
{
	static const struct {
		uint64_t us;
		const char *text;
	} cases[] = {
		{ 1, "1e-06" },
		{ 10, "1e-05" },
		{ 100, "0.0001" },
		{ 123, "0.000123" },
		{ 1500000, "1.5" },
		{ 100000000000ull, "100000" },
		{ 1000000000000ull, "1e+06" },
		{ 1234567000000ull, "1.234567e+06" },
		{ 123456789, "123.456789" },
	};
	struct metrics *m = metrics_new(1);
	char ep[32], *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(ep, sizeof(ep), "e%zu", i);
		metrics_request(m, ep, "A", "allow", 200, cases[i].us, 0);
	}
	text = scrape(m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_line(text, "ddbgate_request_duration_seconds_sum"
		    "{endpoint=\"e%zu\"} %s", i, cases[i].text);
	free(text);
	metrics_free(m);
}

static void
test_escaping(void **state)
{
	struct metrics *m = metrics_new(1);
	char *text = NULL, *s;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	metrics_label(out, "plain");
	putc('|', out);
	metrics_label(out, "a\"b\\c\nd");
	putc('|', out);
	metrics_label(out, "\\\\\"\n\n");
	putc('|', out);
	metrics_label(out, "");
	putc('|', out);
	metrics_label(out, "tab\there \xc3\xa9");
	assert_int_equal(fclose(out), 0);
	assert_string_equal(text,
	    "plain|a\\\"b\\\\c\\nd|\\\\\\\\\\\"\\n\\n||tab\there \xc3\xa9");
	free(text);

	metrics_egress_refusal(m, "a\"b\\c\nd");
	metrics_tls_failure(m, "client", "x\"y");
	metrics_request(m, "e\nf", "Get\"Item", "allow", 200, 1, 0);
	s = scrape(m);
	assert_line(s, "ddbgate_egress_refusals_total{endpoint=\"a\\\"b\\\\c"
	    "\\nd\"} 1");
	assert_line(s, "ddbgate_tls_handshake_failures_total{side=\"client\","
	    "reason=\"x\\\"y\"} 1");
	assert_line(s, "ddbgate_requests_total{endpoint=\"e\\nf\",action="
	    "\"Get\\\"Item\",decision=\"allow\",status=\"200\"} 1");
	assert_line(s, "ddbgate_request_duration_seconds_count"
	    "{endpoint=\"e\\nf\"} 1");
	free(s);
	metrics_free(m);
}

/* Label values are cut to 128 bytes, never inside a UTF-8 character. */
static void
test_truncation(void **state)
{
	struct metrics *m = metrics_new(1);
	char a[201], b[201], want[160], u[160], *text;

	memset(a, 'a', 200);
	a[200] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'b';	/* differs past the cut: the same series */
	metrics_egress_refusal(m, a);
	metrics_egress_refusal(m, b);
	a[128] = '\0';
	metrics_egress_refusal(m, a); /* exactly 128: the same again */
	a[127] = '\0';
	metrics_egress_refusal(m, a); /* 127: another */

	/* 127 bytes, then a 2-byte character across the cut. */
	memset(u, 'u', 127);
	memcpy(u + 127, "\xc3\xa9zz", 5);
	metrics_reload(m, u);
	/* 126 bytes, then a 2-byte character that fits. */
	memset(u, 'v', 126);
	memcpy(u + 126, "\xc3\xa9zz", 5);
	metrics_reload(m, u);

	text = scrape(m);
	memset(want, 'a', 128);
	want[128] = '\0';
	assert_line(text, "ddbgate_egress_refusals_total{endpoint=\"%s\"} 3",
	    want);
	want[127] = '\0';
	assert_line(text, "ddbgate_egress_refusals_total{endpoint=\"%s\"} 1",
	    want);
	memset(want, 'u', 127);
	want[127] = '\0';
	assert_line(text, "ddbgate_reloads_total{outcome=\"%s\"} 1", want);
	memset(want, 'v', 126);
	memcpy(want + 126, "\xc3\xa9", 3);
	assert_line(text, "ddbgate_reloads_total{outcome=\"%s\"} 1", want);
	free(text);
	metrics_free(m);
}

/*
 * metrics_new() holds the three reload outcomes; METRICS_MAX_SERIES - 3
 * more fit, then new label tuples go to "other" and count as dropped,
 * while existing series keep counting.
 */
static void
test_series_cap(void **state)
{
	struct metrics *m = metrics_new(1);
	char ep[32], *text;
	int i;

	for (i = 0; i < METRICS_MAX_SERIES - 3; i++) {
		snprintf(ep, sizeof(ep), "e%05d", i);
		metrics_egress_refusal(m, ep);
	}
	text = scrape(m);
	assert_line(text, "ddbgate_metrics_dropped_series_total 0");
	assert_int_equal(lines_starting(text, "ddbgate_egress_refusals_total{"),
	    METRICS_MAX_SERIES - 3);
	free(text);

	metrics_egress_refusal(m, "new1");
	metrics_egress_refusal(m, "new2");
	metrics_egress_refusal(m, "e00000");	/* exists */
	metrics_egress_refusal(m, "other");	/* is the overflow series */
	metrics_reload(m, "ok");		/* exists */
	metrics_reload(m, "weird");
	metrics_connection(m, "connect", 1);
	metrics_tls_failure(m, "client", "timeout");
	/* Counted once for each of its three families. */
	metrics_request(m, "x", "GetItem", "allow", 200, 10, 10);
	metrics_request(m, "x", "GetItem", "allow", 200, 10, 0);

	text = scrape(m);
	assert_line(text, "ddbgate_egress_refusals_total{endpoint=\"other\"} 3");
	assert_line(text, "ddbgate_egress_refusals_total{endpoint=\"e00000\"} 2");
	assert_line(text, "ddbgate_egress_refusals_total{endpoint=\"e04092\"} 1");
	assert_int_equal(line_count(text,
	    "ddbgate_egress_refusals_total{endpoint=\"new1\"} 1"), 0);
	assert_int_equal(lines_starting(text, "ddbgate_egress_refusals_total{"),
	    METRICS_MAX_SERIES - 3 + 1);
	assert_line(text, "ddbgate_reloads_total{outcome=\"ok\"} 1");
	assert_line(text, "ddbgate_reloads_total{outcome=\"other\"} 1");
	assert_line(text, "ddbgate_connections_accepted_total{mode=\"other\"} 1");
	assert_line(text, "ddbgate_connections_open 1");
	assert_line(text, "ddbgate_tls_handshake_failures_total"
	    "{side=\"other\",reason=\"other\"} 1");
	assert_line(text, "ddbgate_requests_total{endpoint=\"other\","
	    "action=\"other\",decision=\"other\",status=\"other\"} 2");
	assert_line(text, "ddbgate_request_duration_seconds_count"
	    "{endpoint=\"other\"} 2");
	assert_line(text, "ddbgate_upstream_duration_seconds_count"
	    "{endpoint=\"other\"} 1");
	/* new1, new2, weird, connect, client/timeout, 2 x 2 + 1. */
	assert_line(text, "ddbgate_metrics_dropped_series_total 10");
	free(text);
	metrics_free(m);
}

static void
writer_a(void *arg, FILE *out)
{
	int *calls = arg;

	(*calls)++;
	fputs("# HELP ext_a A.\n# TYPE ext_a gauge\next_a 1\n", out);
}

static void
writer_b(void *arg, FILE *out)
{
	fprintf(out, "# HELP ext_b B.\n# TYPE ext_b gauge\next_b %s\n",
	    (const char *)arg);
}

static void
test_writers(void **state)
{
	struct metrics *m = metrics_new(1);
	int calls = 0;
	char *text;
	const char *tail =
	    "ddbgate_build_info{version=\"" PACKAGE_VERSION "\"} 1\n"
	    "# HELP ext_b B.\n# TYPE ext_b gauge\next_b 7\n"
	    "# HELP ext_a A.\n# TYPE ext_a gauge\next_a 1\n"
	    "# HELP ext_b B.\n# TYPE ext_b gauge\next_b 8\n";

	metrics_add_writer(m, writer_b, "7");
	metrics_add_writer(m, writer_a, &calls);
	metrics_add_writer(m, writer_b, "8");
	text = scrape(m);
	assert_int_equal(calls, 1);
	assert_true(strlen(text) > strlen(tail));
	assert_string_equal(text + strlen(text) - strlen(tail), tail);
	free(text);
	metrics_free(m);
}

/* ------------------------------------------------------------------ */

#define THREADS 8
#define PER_THREAD 10000
#define SERIES 10

static struct metrics *shared;

static void *
record_run(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	char ep[SERIES][16];

	for (int i = 0; i < SERIES; i++)
		snprintf(ep[i], sizeof(ep[i]), "ep%d", i);
	for (int i = 0; i < PER_THREAD; i++) {
		int s = (int)((i + t) % SERIES);

		/* 1 us to series 0, 2 us to series 1, ... */
		metrics_request(shared, ep[s], "Query", "allow", 200,
		    (uint64_t)s + 1, 1000);
		if (i % 100 == 0)
			metrics_connection(shared, "sni", 1);
		if (i % 100 == 50)
			metrics_connection(shared, "sni", -1);
	}
	return NULL;
}

static void *
scrape_run(void *arg)
{
	for (int i = 0; i < 20; i++)
		free(scrape(shared));
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[THREADS], scraper;
	uint64_t per = (uint64_t)THREADS * PER_THREAD / SERIES;
	char *text;
	uintptr_t i;

	shared = metrics_new(1);
	assert_int_equal(pthread_create(&scraper, NULL, scrape_run, NULL), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, record_run,
		    (void *)i), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(pthread_join(scraper, NULL), 0);
	text = scrape(shared);
	for (i = 0; i < SERIES; i++) {
		assert_line(text, "ddbgate_requests_total{endpoint=\"ep%zu\","
		    "action=\"Query\",decision=\"allow\",status=\"200\"} %"
		    PRIu64, (size_t)i, per);
		assert_line(text, "ddbgate_request_duration_seconds_count"
		    "{endpoint=\"ep%zu\"} %" PRIu64, (size_t)i, per);
		assert_line(text, "ddbgate_upstream_duration_seconds_bucket"
		    "{endpoint=\"ep%zu\",le=\"0.001\"} %" PRIu64, (size_t)i,
		    per);
		/* per x (i + 1) us, e.g. 8000 us = 0.008 s for ep0. */
		assert_line(text, "ddbgate_request_duration_seconds_sum"
		    "{endpoint=\"ep%zu\"} %g", (size_t)i,
		    (double)(per * (i + 1)) / 1e6);
	}
	assert_line(text, "ddbgate_connections_accepted_total{mode=\"sni\"} %d",
	    THREADS * PER_THREAD / 100);
	assert_line(text, "ddbgate_connections_open 0");
	assert_line(text, "ddbgate_metrics_dropped_series_total 0");
	free(text);
	metrics_free(shared);
}

/* ------------------------------------------------------------------ */

/* A port nothing listens on now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Sends request, returns all that comes back until the server closes. */
static char *
exchange(uint16_t port, const char *request, size_t reqlen)
{
	struct sockaddr_in sin;
	struct timeval tv = { .tv_sec = 5 };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	for (size_t off = 0; off < reqlen; off += (size_t)n) {
		n = send(fd, request + off, reqlen - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;	/* the server may refuse early */
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap * 2 + 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == ECONNRESET)
			break;
		assert_true(n >= 0);	/* not a timeout */
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static char *
request(uint16_t port, const char *method, const char *path)
{
	char req[512];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n", method, path);
	return exchange(port, req, strlen(req));
}

/* The value of a response header, or NULL, in a static buffer. */
static const char *
header(const char *resp, const char *name)
{
	static char value[256];
	const char *end = strstr(resp, "\r\n\r\n"), *p = resp;
	size_t n = strlen(name);

	assert_non_null(end);
	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			snprintf(value, sizeof(value), "%.*s",
			    (int)strcspn(p, "\r"), p);
			return value;
		}
	}
	return NULL;
}

static const char *
body(const char *resp)
{
	const char *end = strstr(resp, "\r\n\r\n");

	assert_non_null(end);
	return end + 4;
}

static void *
loop_run(void *arg)
{
	event_base_dispatch(arg);
	return NULL;
}

static void
test_http(void **state)
{
	struct event_base *base;
	struct metrics *m = metrics_new(1);
	pthread_t loop;
	uint16_t port = free_port();
	char addr[64], err[256], *r, *text;
	const char *v;
	int busy;

	assert_int_equal(evthread_use_pthreads(), 0);
	base = event_base_new();
	assert_non_null(base);

	/* A bad address, and a port taken. */
	assert_int_equal(metrics_listen(m, base, "localhost:9", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "localhost:9"));
	{
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		busy = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(busy, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		assert_int_equal(listen(busy, 1), 0);
		assert_int_equal(getsockname(busy, (struct sockaddr *)&sin,
		    &len), 0);
		snprintf(addr, sizeof(addr), "127.0.0.1:%u",
		    ntohs(sin.sin_port));
		assert_int_equal(metrics_listen(m, base, addr, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "Address already in use"));
		close(busy);
	}

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(metrics_listen(m, base, addr, err, sizeof(err)), 0);
	assert_int_equal(metrics_listen(m, base, addr, err, sizeof(err)), -1);
	metrics_request(m, "h.example", "GetItem", "allow", 200, 1000, 500);
	assert_int_equal(pthread_create(&loop, NULL, loop_run, base), 0);

	r = request(port, "GET", "/metrics");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	v = header(r, "Content-Type");
	assert_non_null(v);
	assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
	text = scrape(m);
	assert_string_equal(body(r), text);
	v = header(r, "Content-Length");
	assert_non_null(v);
	assert_int_equal(strtoul(v, NULL, 10), strlen(text));
	assert_non_null(strstr(body(r), "ddbgate_requests_total{endpoint="
	    "\"h.example\",action=\"GetItem\",decision=\"allow\","
	    "status=\"200\"} 1\n"));
	free(r);

	/* The query is ignored. */
	r = request(port, "GET", "/metrics?name[]=x");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body(r), text);
	free(r);

	/* HEAD: the length GET would have, no body. */
	r = request(port, "HEAD", "/metrics");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(header(r, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(strtoul(header(r, "Content-Length"), NULL, 10),
	    strlen(text));
	assert_string_equal(body(r), "");
	free(r);
	free(text);

	r = request(port, "GET", "/healthz");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body(r), "ok\n");
	free(r);

	r = request(port, "GET", "/readyz");
	assert_true(strncmp(r, "HTTP/1.1 503 ", 13) == 0);
	assert_string_equal(body(r), "not ready\n");
	free(r);
	metrics_set_ready(m, true);
	r = request(port, "GET", "/readyz");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body(r), "ready\n");
	free(r);
	metrics_set_ready(m, false);	/* draining */
	r = request(port, "HEAD", "/readyz");
	assert_true(strncmp(r, "HTTP/1.1 503 ", 13) == 0);
	assert_string_equal(body(r), "");
	free(r);

	r = request(port, "GET", "/nope");
	assert_true(strncmp(r, "HTTP/1.1 404 ", 13) == 0);
	free(r);
	r = request(port, "GET", "/metrics/");
	assert_true(strncmp(r, "HTTP/1.1 404 ", 13) == 0);
	free(r);

	r = request(port, "POST", "/metrics");
	assert_true(strncmp(r, "HTTP/1.1 405 ", 13) == 0);
	assert_string_equal(header(r, "Allow"), "GET, HEAD");
	free(r);
	r = request(port, "DELETE", "/healthz");
	assert_true(strncmp(r, "HTTP/1.1 405 ", 13) == 0);
	assert_string_equal(header(r, "Allow"), "GET, HEAD");
	free(r);

	/* A body, or headers past 8 KiB, are refused by evhttp itself. */
	{
		static const char post[] = "POST /metrics HTTP/1.1\r\n"
		    "Host: localhost\r\nContent-Length: 5\r\n"
		    "Connection: close\r\n\r\nhello";
		char big[12000];
		int n;

		r = exchange(port, post, strlen(post));
		assert_true(strncmp(r, "HTTP/1.1 413 ", 13) == 0);
		free(r);
		n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\n"
		    "Host: localhost\r\nX-Big: ");
		memset(big + n, 'x', 10000);
		memcpy(big + n + 10000, "\r\n\r\n", 5);
		r = exchange(port, big, strlen(big));
		assert_true(strncmp(r, "HTTP/1.1 400 ", 13) == 0);
		free(r);
	}

	/* Still serving. */
	r = request(port, "GET", "/healthz");
	assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
	free(r);

	assert_int_equal(event_base_loopbreak(base), 0);
	assert_int_equal(pthread_join(loop, NULL), 0);
	metrics_free(m);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bucket_boundaries),
		cmocka_unit_test(test_sum_format),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_writers),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
