/*
 * Unit tests for logwriter: lines from several threads each reach the
 * file exactly once and whole, across reopens; everything handed over is
 * written by logwriter_stop(); a writer too far behind drops whole
 * batches and counts every line of them; a batch is handed over
 * LOGBUF_FLUSH_MS after its first line, by a timer of the worker's loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "logwriter.h"

#define THREADS 4
#define LINES 20000
#define BIG (LOGBUF_CHUNK + 1000) /* longer than a chunk */

struct line {
	unsigned thread, seq;
};

/* "T<thread> N<seq> " and a filler whose length depends on seq (every
 * 5000th line is longer than a chunk), then "end\n". */
static size_t
format_test_line(char *buf, size_t cap, const void *arg,
    const struct timespec *now)
{
	const struct line *l = arg;
	char head[32];
	size_t hn = (size_t)snprintf(head, sizeof(head), "T%u N%u ", l->thread,
	    l->seq);
	size_t fill = l->seq % 5000 == 4999 ? BIG : l->seq % 97;
	size_t need = hn + fill + 4;

	if (need <= cap) {
		memcpy(buf, head, hn);
		memset(buf + hn, 'x', fill);
		memcpy(buf + hn + fill, "end\n", 4);
	}
	return need;
}

static char dir[] = "/tmp/test_logwriter.XXXXXX";

static char *
path(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static char *
slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "r");
	char *buf;
	long n;

	if (f == NULL) {
		*len = 0;
		return calloc(1, 1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * Checks the lines of file: each whole and well formed; marks seen[t][n]
 * and fails on a second sighting. Returns the number of lines.
 */
static size_t
check_file(const char *file, unsigned char seen[][LINES])
{
	size_t len, n = 0;
	char *buf = slurp(file, &len), *p = buf;

	assert_true(len == 0 || buf[len - 1] == '\n');
	while (p < buf + len) {
		char *nl = strchr(p, '\n');
		unsigned t, s;
		int off = 0;
		struct line l;
		char want[BIG + 64];
		size_t wn;

		assert_non_null(nl);
		if (sscanf(p, "T%u N%u %n", &t, &s, &off) != 2 || off == 0)
			fail_msg("%s: a bad line: %.60s", file, p);
		assert_true(t < THREADS + 1 && s < LINES);
		l = (struct line){ t, s };
		wn = format_test_line(want, sizeof(want), &l, NULL);
		if (wn != (size_t)(nl - p + 1) || memcmp(want, p, wn) != 0)
			fail_msg("%s: line T%u N%u cut or mixed", file, t, s);
		if (seen[t][s]++)
			fail_msg("%s: line T%u N%u twice", file, t, s);
		n++;
		p = nl + 1;
	}
	free(buf);
	return n;
}

static uint64_t
dropped(struct logwriter *lw, const char *log)
{
	char *text = NULL, key[96];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	unsigned long long v = 0;
	const char *at;

	logwriter_write_metrics(lw, f);
	fclose(f);
	snprintf(key, sizeof(key), "ddbgate_log_lines_dropped_total{log=\"%s\"} ",
	    log);
	if ((at = strstr(text, key)) == NULL)
		fail_msg("no %s in %s", key, text);
	v = strtoull(at + strlen(key), NULL, 10);
	free(text);
	return v;
}

struct producer {
	struct logwriter *lw;
	int log;
	unsigned thread;
};

static void *
produce(void *arg)
{
	const struct producer *p = arg;
	struct logbuf *lb = logbuf_new(p->lw, p->log, NULL);

	for (unsigned i = 0; i < LINES; i++) {
		struct line l = { p->thread, i };

		logbuf_append(lb, format_test_line, &l);
	}
	logbuf_free(lb);
	return NULL;
}

static void
start_producers(struct logwriter *lw, int log, pthread_t *th,
    struct producer *p)
{
	for (unsigned t = 0; t < THREADS; t++) {
		p[t] = (struct producer){ lw, log, t };
		assert_int_equal(pthread_create(&th[t], NULL, produce, &p[t]), 0);
	}
}

static void
test_threads_every_line_once(void **state)
{
	static unsigned char seen[THREADS + 1][LINES];
	struct logwriter *lw = logwriter_new(64u << 20);
	struct producer p[THREADS];
	pthread_t th[THREADS];
	int log;

	memset(seen, 0, sizeof(seen));
	unlink(path("all.log"));
	assert_true((log = logwriter_add(lw, "audit", path("all.log"))) >= 0);
	assert_int_equal(logwriter_start(lw), 0);
	start_producers(lw, log, th, p);
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	logwriter_stop(lw);
	assert_int_equal(check_file(path("all.log"), seen), THREADS * LINES);
	assert_int_equal(dropped(lw, "audit"), 0);
	logwriter_free(lw);
}

/* logrotate while the producers run: mv, reopen, again and again. Every
 * line is in exactly one of the files; the last reopen makes a new file
 * that gets the lines after it. */
static void
test_reopen_while_writing(void **state)
{
	static unsigned char seen[THREADS + 1][LINES];
	struct logwriter *lw = logwriter_new(64u << 20);
	struct producer p[THREADS];
	pthread_t th[THREADS];
	struct logbuf *lb;
	struct line last = { THREADS, 7 };
	size_t total = 0;
	char name[32];
	int log, nfiles = 0;

	memset(seen, 0, sizeof(seen));
	unlink(path("rot.log"));
	assert_true((log = logwriter_add(lw, "access", path("rot.log"))) >= 0);
	assert_int_equal(logwriter_start(lw), 0);
	start_producers(lw, log, th, p);
	for (; nfiles < 20; nfiles++) {
		usleep(2000);
		snprintf(name, sizeof(name), "rot.log.%d", nfiles);
		/* the writer makes the new file between two batches */
		for (int i = 0; i < 1000 && access(path("rot.log"), F_OK) != 0;
		    i++)
			usleep(1000);
		assert_int_equal(rename(path("rot.log"), path(name)), 0);
		logwriter_reopen(lw);
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	/* the lines so far are written before the reopen below */
	usleep(100000);
	snprintf(name, sizeof(name), "rot.log.%d", nfiles++);
	assert_int_equal(rename(path("rot.log"), path(name)), 0);
	logwriter_reopen(lw);
	lb = logbuf_new(lw, log, NULL);
	logbuf_append(lb, format_test_line, &last);
	logbuf_free(lb);
	logwriter_stop(lw);
	for (int i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "rot.log.%d", i);
		total += check_file(path(name), seen);
		unlink(path(name));
	}
	assert_int_equal(total, THREADS * LINES);
	/* only the line appended after the last reopen is in the new file */
	assert_int_equal(check_file(path("rot.log"), seen), 1);
	assert_true(seen[THREADS][7]);
	logwriter_free(lw);
}

/* Lines still in a worker's buffer and in the queue at stop are written. */
static void
test_flush_at_stop(void **state)
{
	static unsigned char seen[THREADS + 1][LINES];

	for (int started = 0; started < 2; started++) {
		struct logwriter *lw = logwriter_new(64u << 20);
		struct logbuf *a, *b;
		int log;

		memset(seen, 0, sizeof(seen));
		unlink(path("stop.log"));
		assert_true((log = logwriter_add(lw, "audit",
		    path("stop.log"))) >= 0);
		if (started)
			assert_int_equal(logwriter_start(lw), 0);
		a = logbuf_new(lw, log, NULL);
		b = logbuf_new(lw, log, NULL);
		for (unsigned i = 0; i < 10; i++) {
			struct line l = { i % 2, i };

			logbuf_append(i % 2 ? b : a, format_test_line, &l);
		}
		logbuf_flush(b); /* b's lines queued, a's still pending */
		logbuf_free(a);
		logbuf_free(b);
		logwriter_stop(lw);
		assert_int_equal(check_file(path("stop.log"), seen), 10);
		logwriter_free(lw);
	}
}

/* A queue limit of two chunks with no writer running: whole batches are
 * dropped, each of their lines counted; what was kept is whole. */
static void
test_overflow_counts_drops(void **state)
{
	static unsigned char seen[THREADS + 1][LINES];
	struct logwriter *lw = logwriter_new(2 * LOGBUF_CHUNK);
	struct logbuf *lb;
	size_t kept;
	int log;

	memset(seen, 0, sizeof(seen));
	unlink(path("over.log"));
	assert_true((log = logwriter_add(lw, "audit", path("over.log"))) >= 0);
	lb = logbuf_new(lw, log, NULL);
	for (unsigned i = 0; i < 4000; i++) {
		struct line l = { 0, i };

		logbuf_append(lb, format_test_line, &l);
	}
	logbuf_free(lb);
	assert_true(dropped(lw, "audit") > 0);
	logwriter_stop(lw);
	kept = check_file(path("over.log"), seen);
	assert_true(kept > 0);
	assert_int_equal(kept + dropped(lw, "audit"), 4000);
	logwriter_free(lw);
}

/*
 * One short line per loop turn while no writer runs (a stalled log): the
 * backlog limit counts the memory the batches hold, not only their line
 * bytes. 1000 lines of at most ~110 bytes are ~60 KiB of text, under the
 * 64 KiB limit; had each batch kept its 64 KiB chunk, 1000 batches would
 * hold 64 MiB. Some must be dropped, and what was kept must fit the limit
 * with each batch's own overhead counted.
 */
static void
test_overflow_counts_memory(void **state)
{
	static unsigned char seen[THREADS + 1][LINES];
	const size_t limit = 64u << 10;
	struct logwriter *lw = logwriter_new(limit);
	struct logbuf *lb;
	size_t kept, text = 0;
	int log;

	memset(seen, 0, sizeof(seen));
	unlink(path("mem.log"));
	assert_true((log = logwriter_add(lw, "audit", path("mem.log"))) >= 0);
	lb = logbuf_new(lw, log, NULL);
	for (unsigned i = 0; i < 1000; i++) {
		struct line l = { 0, i };
		char tmp[BIG + 64];

		text += format_test_line(tmp, sizeof(tmp), &l, NULL);
		logbuf_append(lb, format_test_line, &l);
		logbuf_flush(lb);	/* one loop turn, one line */
	}
	logbuf_free(lb);
	assert_true(text < limit);
	assert_true(dropped(lw, "audit") > 0);
	logwriter_stop(lw);
	kept = check_file(path("mem.log"), seen);
	assert_true(kept > 0);
	assert_int_equal(kept + dropped(lw, "audit"), 1000);
	logwriter_free(lw);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A batch is handed over by the loop's timer LOGBUF_FLUSH_MS after its
 * first line, without a full chunk or a stop; not in the turn that wrote
 * the line. */
static void
test_timer_hands_over(void **state)
{
	struct logwriter *lw = logwriter_new(64u << 20);
	struct event_base *base = event_base_new();
	struct logbuf *lb;
	struct line l = { 1, 42 };
	struct timespec t0;
	size_t len = 0;
	bool early;
	char *text;
	int log;

	unlink(path("turn.log"));
	assert_true((log = logwriter_add(lw, "access", path("turn.log"))) >= 0);
	assert_int_equal(logwriter_start(lw), 0);
	lb = logbuf_new(lw, log, base);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	logbuf_append(lb, format_test_line, &l);
	event_base_loop(base, EVLOOP_NONBLOCK);	/* the turn that wrote it */
	early = ms_since(&t0) < LOGBUF_FLUSH_MS / 2;
	usleep(50000);
	free(slurp(path("turn.log"), &len));
	if (early)	/* (a machine too slow to tell proves nothing here) */
		assert_int_equal(len, 0); /* pending until the timer */
	event_base_loop(base, EVLOOP_ONCE);	/* the timer is due */
	for (int i = 0; i < 200 && len == 0; i++) {
		free(slurp(path("turn.log"), &len));
		usleep(10000);
	}
	text = slurp(path("turn.log"), &len);
	assert_string_equal(text, "T1 N42 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxend\n");
	free(text);
	logbuf_free(lb);
	logwriter_stop(lw);
	logwriter_free(lw);
	event_base_free(base);
}

/* A failing write (a full disk) loses lines, but they are counted. */
static void
test_write_error_counted(void **state)
{
	struct logwriter *lw = logwriter_new(64u << 20);
	struct logbuf *lb;
	int log;

	if ((log = logwriter_add(lw, "audit", "/dev/full")) < 0)
		skip();
	lb = logbuf_new(lw, log, NULL);
	for (unsigned i = 0; i < 5; i++) {
		struct line l = { 0, i };

		logbuf_append(lb, format_test_line, &l);
	}
	logbuf_free(lb);
	logwriter_stop(lw);
	assert_int_equal(dropped(lw, "audit"), 5);
	logwriter_free(lw);
}

static void
test_off_takes_nothing(void **state)
{
	struct logwriter *lw = logwriter_new(64u << 20);
	int log = logwriter_add(lw, "access", "off");

	assert_true(log >= 0);
	assert_null(logbuf_new(lw, log, NULL));
	logbuf_append(NULL, format_test_line, NULL);
	logbuf_flush(NULL);
	logbuf_free(NULL);
	assert_true(logwriter_add(lw, "audit", "/nonexistent/dir/a.log") < 0);
	logwriter_stop(lw);
	logwriter_free(lw);
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	const char *names[] = { "all.log", "rot.log", "stop.log", "over.log",
	    "mem.log", "turn.log" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path(names[i]));
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_every_line_once),
		cmocka_unit_test(test_reopen_while_writing),
		cmocka_unit_test(test_flush_at_stop),
		cmocka_unit_test(test_overflow_counts_drops),
		cmocka_unit_test(test_overflow_counts_memory),
		cmocka_unit_test(test_timer_hands_over),
		cmocka_unit_test(test_write_error_counted),
		cmocka_unit_test(test_off_takes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
