/*
 * log_bench — nanoseconds per audit line and per access line on a
 * worker's side (not part of `make check`): audit_write() and
 * access_log_write() into a logbuf whose writer thread writes to
 * /dev/null, and the formatters alone. Several threads append at once,
 * as workers do.
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/log_bench.c src/audit.c \
 *       src/access_log.c src/logline.c src/logwriter.c src/log.c \
 *       src/xmalloc.c -levent -pthread -o /tmp/log_bench
 *   /tmp/log_bench
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "access_log.h"
#include "audit.h"
#include "logwriter.h"

#define LINES 300000
#define THREADS 2

static const char *const actions[] = { "dynamodb:PutItem" };
static const char *const arns[] = {
	"arn:aws:dynamodb:us-east-1:111122223333:table/Orders" };

static const struct audit_record audit = {
	.source = "10.1.2.3:50432",
	.access_key_id = "AKIAIOSFODNN7EXAMPLE",
	.principal = "arn:aws:iam::111122223333:role/orders-app",
	.event_source = "dynamodb.amazonaws.com",
	.event_name = "PutItem",
	.actions = actions,
	.resources = arns,
	.nresources = 1,
	.decision = "allow",
	.statement = "AllowOrders",
	.enforcement = "enforce",
	.endpoint = "dynamodb",
	.upstream = "10.0.1.23:443",
	.status = 200,
	.latency_us = 2345,
};

static const struct access_record access = {
	.client = "10.1.2.3:50432",
	.endpoint = "dynamodb",
	.host = "dynamodb.us-east-1.amazonaws.com",
	.target = "DynamoDB_20120810.PutItem",
	.status = 200,
	.request_bytes = 812,
	.response_bytes = 301,
	.latency_us = 2345,
	.upstream = "10.0.1.23:443",
	.reused = 1,
};

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

struct job {
	struct logwriter *lw;
	int log;
	int audit;
	double ns;
};

static void *
run(void *arg)
{
	struct job *j = arg;
	struct logbuf *lb = logbuf_new(j->lw, j->log, NULL);
	double t0 = now_ns();

	for (int i = 0; i < LINES; i++) {
		if (j->audit)
			audit_write(lb, &audit);
		else
			access_log_write(lb, &access);
	}
	j->ns = (now_ns() - t0) / LINES;
	logbuf_free(lb);
	return NULL;
}

static void
through_writer(int is_audit)
{
	/* room for every line: the worker's side is measured, not drops */
	struct logwriter *lw = logwriter_new((size_t)LINES * THREADS * 1024);
	int log = logwriter_add(lw, "bench", "/dev/null");
	struct job jobs[THREADS];
	pthread_t th[THREADS];
	double sum = 0;

	if (log < 0 || logwriter_start(lw) != 0) {
		perror("/dev/null");
		exit(1);
	}
	for (int t = 0; t < THREADS; t++) {
		jobs[t] = (struct job){ lw, log, is_audit, 0 };
		pthread_create(&th[t], NULL, run, &jobs[t]);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		sum += jobs[t].ns;
	}
	logwriter_stop(lw);
	logwriter_free(lw);
	printf("%-6s line, %d threads appending, writer to /dev/null: "
	    "%6.1f ns per line\n", is_audit ? "audit" : "access", THREADS,
	    sum / THREADS);
}

static void
format_only(void)
{
	static char buf[4096];
	struct timespec t;
	size_t n = 0;
	double t0;

	clock_gettime(CLOCK_REALTIME, &t);
	t0 = now_ns();
	for (int i = 0; i < LINES; i++)
		n += audit_format(buf, sizeof(buf), &audit, &t);
	printf("audit_format() alone:      %6.1f ns per line (%zu bytes)\n",
	    (now_ns() - t0) / LINES, n / LINES);
	t0 = now_ns();
	n = 0;
	for (int i = 0; i < LINES; i++)
		n += access_log_format(buf, sizeof(buf), &access, &t);
	printf("access_log_format() alone: %6.1f ns per line (%zu bytes)\n",
	    (now_ns() - t0) / LINES, n / LINES);
}

int
main(void)
{
	format_only();
	through_writer(1);
	through_writer(0);
	return 0;
}
