/*
 * http1_bench — nanoseconds per http1_parse_request() of the head an AWS
 * SDK sends for a GetItem (the fields, order and sizes of the SDK for Java
 * v2's request that bench/compare.sh drives: 10 fields, about 800 bytes),
 * and of the same head as botocore writes it (Title-Case names, 10 fields).
 * The head is parsed whole, as ddbgate parses it once the blank line is
 * in.
 *
 * Build (from the top directory):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc bench/http1_bench.c src/http1.c \
 *       -o http1_bench
 *   ./http1_bench [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http1.h"

static const char java_head[] =
    "POST / HTTP/1.1\r\n"
    "Host: dynamodb.us-east-1.amazonaws.com\r\n"
    "x-amz-target: DynamoDB_20120810.GetItem\r\n"
    "content-type: application/x-amz-json-1.0\r\n"
    "x-amz-date: 20261124T020500Z\r\n"
    "user-agent: aws-sdk-java/2.25.60 Linux/6.1 OpenJDK_64-Bit_Server_VM/"
    "17.0.11+9 Java/17.0.11 vendor/Debian io/sync http/Apache "
    "cfg/retry-mode/legacy\r\n"
    "amz-sdk-invocation-id: 01234567-89ab-cdef-0123-456789abcdef\r\n"
    "amz-sdk-request: attempt=1; max=4\r\n"
    "accept-encoding: identity\r\n"
    "authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7BENCH01/"
    "20261124/us-east-1/dynamodb/aws4_request, SignedHeaders=accept-"
    "encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;"
    "content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
    "Content-Length: 331\r\n"
    "\r\n";

static const char boto_head[] =
    "POST / HTTP/1.1\r\n"
    "Host: dynamodb.us-east-1.amazonaws.com\r\n"
    "Accept-Encoding: identity\r\n"
    "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
    "Content-Type: application/x-amz-json-1.0\r\n"
    "User-Agent: Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 "
    "lang/python#3.11.2 Botocore/1.34.0\r\n"
    "X-Amz-Date: 20261124T020500Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
    "20261124/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;"
    "host;x-amz-date;x-amz-target, Signature=0123456789abcdef0123456789abcd"
    "ef0123456789abcdef0123456789abcdef\r\n"
    "amz-sdk-invocation-id: 01234567-89ab-cdef-0123-456789abcdef\r\n"
    "amz-sdk-request: attempt=1; max=5\r\n"
    "Content-Length: 331\r\n"
    "\r\n";

static double
bench(const char *head, size_t len, long iterations, size_t *nheaders)
{
	static struct http1_request req;
	enum http1_error err;
	struct timespec t0, t1;
	long i;

	if (http1_parse_request(head, len, 16384, &req, &err) != HTTP1_OK ||
	    req.head_len != len) {
		fprintf(stderr, "the benchmark head does not parse: %s\n",
		    http1_error_str(err));
		exit(1);
	}
	*nheaders = req.nheaders;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iterations; i++) {
		if (http1_parse_request(head, len, 16384, &req, &err) !=
		    HTTP1_OK)
			exit(1);
		/* keep the compiler from hoisting the call out of the loop */
		__asm__ volatile("" : : "r"(&req) : "memory");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)iterations;
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 1000000;
	size_t n;
	double ns;

	if (iterations <= 0)
		iterations = 1000000;
	ns = bench(java_head, sizeof(java_head) - 1, iterations, &n);
	printf("HTTP/1 head, SDK for Java v2 GetItem (%zu bytes, %zu fields): "
	    "%6.0f ns/parse (%.0f MB/s)\n", sizeof(java_head) - 1, n, ns,
	    (double)(sizeof(java_head) - 1) / ns * 1e3);
	ns = bench(boto_head, sizeof(boto_head) - 1, iterations, &n);
	printf("HTTP/1 head, botocore GetItem      (%zu bytes, %zu fields): "
	    "%6.0f ns/parse (%.0f MB/s)\n", sizeof(boto_head) - 1, n, ns,
	    (double)(sizeof(boto_head) - 1) / ns * 1e3);
	return 0;
}
