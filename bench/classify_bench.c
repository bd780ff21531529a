/*
 * classify_bench — nanoseconds per classify_request() for BatchWriteItem
 * bodies of about 1 KB and 64 KB (25 put requests, the API maximum),
 * signed headers as botocore sends them, a table with a key schema so
 * LeadingKeys and Attributes are derived. Each iteration classifies and
 * frees; the head is parsed once.
 *
 * Build (from the top directory):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc bench/classify_bench.c \
 *       src/classify.c src/json.c src/arena.c src/sigv4.c src/http1.c \
 *       src/config.c src/cidr.c src/xmalloc.c src/log.c -lyaml \
 *       -o classify_bench
 *   ./classify_bench [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"

#define NOW ((time_t)1795485900)	/* 20261124T020500Z */

static const char config_yaml[] =
    "region: us-east-1\n"
    "account: \"111122223333\"\n"
    "listeners:\n"
    "  - {address: \"127.0.0.1:3128\", mode: connect}\n"
    "endpoints:\n"
    "  - {name: ddb, service: dynamodb,"
    " hosts: [dynamodb.us-east-1.amazonaws.com]}\n"
    "principals:\n"
    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
    " arn: 'arn:aws:iam::111122223333:role/app'}\n"
    "tables:\n"
    "  - {arn: 'arn:aws:dynamodb:us-east-1:111122223333:table/Orders',"
    " partition_key: customerId, sort_key: orderId}\n";

static const char head_fmt[] =
    "POST / HTTP/1.1\r\n"
    "Host: dynamodb.us-east-1.amazonaws.com\r\n"
    "Accept-Encoding: identity\r\n"
    "X-Amz-Target: DynamoDB_20120810.BatchWriteItem\r\n"
    "Content-Type: application/x-amz-json-1.0\r\n"
    "User-Agent: Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 "
    "lang/python#3.11.2 Botocore/1.34.0\r\n"
    "X-Amz-Date: 20261124T020500Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
    "20261124/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;"
    "host;x-amz-date;x-amz-target, Signature=0123456789abcdef0123456789abcd"
    "ef0123456789abcdef0123456789abcdef\r\n"
    "Content-Length: %zu\r\n\r\n";

/* A BatchWriteItem body of n put requests, each with attrs attributes. */
static char *
make_body(int n, int attrs, size_t value_len)
{
	size_t cap = (size_t)n * (size_t)attrs * (value_len + 64) + 4096, o = 0;
	char *b = malloc(cap), *value = malloc(value_len + 1);
	int i, a;

	if (b == NULL || value == NULL)
		exit(1);
	memset(value, 'v', value_len);
	value[value_len] = '\0';
	o += (size_t)snprintf(b + o, cap - o, "{\"RequestItems\":{\"Orders\":[");
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(b + o, cap - o, "%s{\"PutRequest\":{\"Item\":"
		    "{\"customerId\":{\"S\":\"customer-%04d\"},\"orderId\":{\"S\":"
		    "\"order-%06d\"}", i > 0 ? "," : "", i % 7, i);
		for (a = 0; a < attrs; a++)
			o += (size_t)snprintf(b + o, cap - o, ",\"attr%02d\":"
			    "{\"S\":\"%s\"}", a, value);
		o += (size_t)snprintf(b + o, cap - o, "}}}");
	}
	snprintf(b + o, cap - o, "]},\"ReturnConsumedCapacity\":\"TOTAL\"}");
	free(value);
	return b;
}

static double
bench(const struct config *cfg, const char *body, long iterations)
{
	static char head[2048];
	struct http1_request req;
	struct classify_input in = { 0 };
	struct classify_result out;
	struct classify_refusal why;
	enum http1_error err;
	struct timespec t0, t1;
	size_t len = strlen(body);
	int n = snprintf(head, sizeof(head), head_fmt, len);
	long i;

	if (http1_parse_request(head, (size_t)n, sizeof(head), &req, &err) !=
	    HTTP1_OK)
		exit(1);
	in.service = SERVICE_DYNAMODB;
	in.cfg = cfg;
	in.endpoint = &cfg->endpoints[0];
	in.secure_transport = true;
	in.now = NOW;
	in.headers = req.headers;
	in.nheaders = req.nheaders;
	in.body = body;
	in.body_len = len;
	if (classify_request(&in, &out, &why) != CLASSIFY_OK) {
		fprintf(stderr, "refused: %s %s\n", why.type, why.message);
		exit(1);
	}
	classify_result_free(&out);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iterations; i++) {
		if (classify_request(&in, &out, &why) != CLASSIFY_OK)
			exit(1);
		classify_result_free(&out);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)iterations;
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 20000;
	char err[CONFIG_ERR_MAX], *small, *large;
	struct config *cfg;
	double ns;

	if (iterations <= 0)
		iterations = 20000;
	cfg = config_load_buffer("bench.yaml", config_yaml,
	    sizeof(config_yaml) - 1, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	small = make_body(4, 4, 24);
	large = make_body(25, 12, 190);
	ns = bench(cfg, small, iterations);
	printf("BatchWriteItem %6zu bytes: %9.0f ns/classification "
	    "(%.0f/s)\n", strlen(small), ns, 1e9 / ns);
	ns = bench(cfg, large, iterations / 20 > 0 ? iterations / 20 : 1);
	printf("BatchWriteItem %6zu bytes: %9.0f ns/classification "
	    "(%.0f/s, %.0f MB/s)\n", strlen(large), ns, 1e9 / ns,
	    (double)strlen(large) / ns * 1e3);
	free(small);
	free(large);
	config_free(cfg);
	return 0;
}
