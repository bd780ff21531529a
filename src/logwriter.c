/*
 * logwriter — see logwriter.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "logwriter.h"
#include "xmalloc.h"

/* Written chunks kept for reuse; more are freed. */
#define POOL_MAX 32

struct chunk {
	STAILQ_ENTRY(chunk) next;
	int log;		/* index into logwriter.logs */
	size_t len;		/* bytes of whole lines in data */
	size_t cap;		/* LOGBUF_CHUNK, or one oversized line's length */
	size_t nlines;
	char data[];
};

STAILQ_HEAD(chunk_list, chunk);

/* The memory a queued chunk holds: what the backlog limit counts. */
static size_t
chunk_bytes(const struct chunk *c)
{
	return sizeof(*c) + c->cap;
}

struct dest {
	char name[16];		/* "access", "audit" */
	char *path;		/* as configured: a file, "-" or "off" */
	int fd;			/* -1 when off; owned unless standard output */
	bool broken;		/* a failed write left a partial line */
	/* guarded by logwriter.mu */
	uint64_t dropped;	/* lines lost since the start */
	uint64_t reported;	/* of those, already in a warning */
	int last_errno;		/* why the last ones were lost; 0: queue full */
};

struct logwriter {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* the writer waits on it */
	struct chunk_list queue;	/* handed over, not written; mu */
	struct chunk_list pool;		/* written, to reuse; mu */
	size_t queued;			/* bytes in queue; mu */
	size_t npool;			/* mu */
	size_t max_queued;
	bool reopen;			/* mu: asked for, not done yet */
	bool stop;			/* mu */
	bool started;
	struct timespec last_warn;	/* writer thread only */
	struct dest logs[LOGWRITER_MAX_LOGS];
	int nlogs;
	pthread_t thread;
};

struct logbuf {
	struct logwriter *lw;	/* borrowed */
	int log;
	struct chunk *cur;	/* being filled; owned; NULL until a line */
	struct event *flush_ev;	/* timer; owned; NULL without an event base */
};

/* ---- the writer ----------------------------------------------------- */

struct logwriter *
logwriter_new(size_t max_queued)
{
	struct logwriter *lw = xcalloc(1, sizeof(*lw));
	pthread_condattr_t ca;

	pthread_mutex_init(&lw->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lw->cv, &ca);
	pthread_condattr_destroy(&ca);
	STAILQ_INIT(&lw->queue);
	STAILQ_INIT(&lw->pool);
	lw->max_queued = max_queued;
	return lw;
}

static int
open_log(const char *path)
{
	if (strcmp(path, "off") == 0)
		return -1;
	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
}

int
logwriter_add(struct logwriter *lw, const char *name, const char *path)
{
	struct dest *d;
	int fd;

	errno = 0;
	if (lw->nlogs == LOGWRITER_MAX_LOGS)
		return -1;
	if ((fd = open_log(path)) < 0 && strcmp(path, "off") != 0)
		return -1;
	d = &lw->logs[lw->nlogs];
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->path = xstrdup(path);
	d->fd = fd;
	return lw->nlogs++;
}

static bool
is_file(const struct dest *d)
{
	return d->fd >= 0 && d->fd != STDOUT_FILENO;
}

/* Between batches: every file log under its path again. */
static void
reopen_all(struct logwriter *lw)
{
	char done[512];
	size_t n = 0;

	done[0] = '\0';
	for (int i = 0; i < lw->nlogs; i++) {
		struct dest *d = &lw->logs[i];
		int fd;

		if (is_file(d)) {
			if ((fd = open_log(d->path)) < 0) {
				log_warn("SIGUSR1: cannot reopen %s log %s",
				    d->name, d->path);
			} else {
				close(d->fd);
				d->fd = fd;
				d->broken = false;
			}
		}
		if (n < sizeof(done))
			n += (size_t)snprintf(done + n, sizeof(done) - n,
			    "%s%s %s", i > 0 ? ", " : "", d->name, d->path);
	}
	log_info("SIGUSR1: log files reopened (%s)", done);
}

/* write(2) until all of buf is out; returns the bytes written (< len
 * with errno set on a failure). */
static size_t
write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			break;
		}
		done += (size_t)w;
	}
	return done;
}

static size_t
count_lines(const char *p, size_t len)
{
	size_t n = 0;

	for (const char *end = p + len; (p = memchr(p, '\n', (size_t)(end -
	    p))) != NULL; p++)
		n++;
	return n;
}

/* Writes one chunk; returns the lines lost (0 when all went out). */
static size_t
write_chunk(struct dest *d, const struct chunk *c, int *err)
{
	size_t done;

	if (d->broken) {
		/* end the cut line, so the lines after it parse */
		if (write_all(d->fd, "\n", 1) != 1) {
			*err = errno;
			return c->nlines;
		}
		d->broken = false;
	}
	if ((done = write_all(d->fd, c->data, c->len)) == c->len)
		return 0;
	*err = errno;
	d->broken = done > 0 && c->data[done - 1] != '\n';
	return count_lines(c->data + done, c->len - done);
}

static double
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* With mu held: a warning per log whose losses were not reported, at
 * most once per LOGWRITER_WARN_S unless forced. */
static void
report_drops(struct logwriter *lw, bool force)
{
	if (!force && lw->last_warn.tv_sec != 0 &&
	    seconds_since(&lw->last_warn) < LOGWRITER_WARN_S)
		return;
	for (int i = 0; i < lw->nlogs; i++) {
		struct dest *d = &lw->logs[i];
		char why[128];
		uint64_t n;

		if (d->dropped == d->reported)
			continue;
		if (d->last_errno != 0)
			snprintf(why, sizeof(why), "writing %s failed: %s",
			    d->path, strerror(d->last_errno));
		else
			snprintf(why, sizeof(why), "the log writer was more "
			    "than %zu KiB behind", lw->max_queued / 1024);
		n = d->dropped - d->reported;
		d->reported = d->dropped;
		clock_gettime(CLOCK_MONOTONIC, &lw->last_warn);
		pthread_mutex_unlock(&lw->mu); /* stderr may block */
		log_warnx("%s log: %llu line(s) dropped (%s); see "
		    "ddbgate_log_lines_dropped_total", d->name,
		    (unsigned long long)n, why);
		pthread_mutex_lock(&lw->mu);
	}
}

static bool
unreported(const struct logwriter *lw)
{
	for (int i = 0; i < lw->nlogs; i++)
		if (lw->logs[i].dropped != lw->logs[i].reported)
			return true;
	return false;
}

/* With mu held: sleep until there is work, or until a pending warning
 * is due. */
static void
wait_for_work(struct logwriter *lw)
{
	while (STAILQ_EMPTY(&lw->queue) && !lw->reopen && !lw->stop) {
		struct timespec until = lw->last_warn;

		if (!unreported(lw)) {
			pthread_cond_wait(&lw->cv, &lw->mu);
			continue;
		}
		until.tv_sec += LOGWRITER_WARN_S;
		if (pthread_cond_timedwait(&lw->cv, &lw->mu, &until) ==
		    ETIMEDOUT)
			return;
	}
}

/* With mu held: a chunk no one holds back to the pool, or freed. */
static void
recycle(struct logwriter *lw, struct chunk *c)
{
	if (c->cap == LOGBUF_CHUNK && lw->npool < POOL_MAX) {
		c->len = 0;
		c->nlines = 0;
		STAILQ_INSERT_HEAD(&lw->pool, c, next);
		lw->npool++;
	} else {
		free(c);
	}
}

/* Writes what is queued outside the lock; returns whether to go on. */
static bool
write_batch(struct logwriter *lw)
{
	struct chunk_list batch = STAILQ_HEAD_INITIALIZER(batch);
	bool reopen = lw->reopen, stop = lw->stop;
	struct chunk *c;

	STAILQ_CONCAT(&batch, &lw->queue);
	lw->reopen = false;
	pthread_mutex_unlock(&lw->mu);
	if (reopen)
		reopen_all(lw);
	STAILQ_FOREACH(c, &batch, next) {
		struct dest *d = &lw->logs[c->log];
		int err = 0;
		size_t lost = write_chunk(d, c, &err);

		if (lost > 0) {
			pthread_mutex_lock(&lw->mu);
			d->dropped += lost;
			d->last_errno = err;
			pthread_mutex_unlock(&lw->mu);
		}
	}
	pthread_mutex_lock(&lw->mu);
	while ((c = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, next);
		lw->queued -= chunk_bytes(c);
		recycle(lw, c);
	}
	report_drops(lw, stop);
	return !(stop && STAILQ_EMPTY(&lw->queue));
}

static void *
writer_main(void *arg)
{
	struct logwriter *lw = arg;

	pthread_mutex_lock(&lw->mu);
	do
		wait_for_work(lw);
	while (write_batch(lw));
	pthread_mutex_unlock(&lw->mu);
	return NULL;
}

int
logwriter_start(struct logwriter *lw)
{
	int rc = pthread_create(&lw->thread, NULL, writer_main, lw);

	if (rc != 0) {
		errno = rc;
		return -1;
	}
	lw->started = true;
	return 0;
}

void
logwriter_reopen(struct logwriter *lw)
{
	if (!lw->started) {
		reopen_all(lw);
		return;
	}
	pthread_mutex_lock(&lw->mu);
	lw->reopen = true;
	pthread_cond_signal(&lw->cv);
	pthread_mutex_unlock(&lw->mu);
}

void
logwriter_stop(struct logwriter *lw)
{
	pthread_mutex_lock(&lw->mu);
	lw->stop = true;
	pthread_cond_signal(&lw->cv);
	pthread_mutex_unlock(&lw->mu);
	if (lw->started)
		pthread_join(lw->thread, NULL);
	else
		writer_main(lw);
	lw->started = false;
}

void
logwriter_free(struct logwriter *lw)
{
	struct chunk *c;

	if (lw == NULL)
		return;
	while ((c = STAILQ_FIRST(&lw->pool)) != NULL) {
		STAILQ_REMOVE_HEAD(&lw->pool, next);
		free(c);
	}
	while ((c = STAILQ_FIRST(&lw->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&lw->queue, next);
		free(c);
	}
	for (int i = 0; i < lw->nlogs; i++) {
		if (is_file(&lw->logs[i]))
			close(lw->logs[i].fd);
		free(lw->logs[i].path);
	}
	pthread_cond_destroy(&lw->cv);
	pthread_mutex_destroy(&lw->mu);
	free(lw);
}

void
logwriter_write_metrics(void *arg, FILE *out)
{
	struct logwriter *lw = arg;
	uint64_t dropped[LOGWRITER_MAX_LOGS];
	size_t queued;

	pthread_mutex_lock(&lw->mu);
	for (int i = 0; i < lw->nlogs; i++)
		dropped[i] = lw->logs[i].dropped;
	queued = lw->queued;
	pthread_mutex_unlock(&lw->mu);
	fprintf(out, "# HELP ddbgate_log_lines_dropped_total Access and audit "
	    "log lines lost: the log writer was too far behind, or a write "
	    "failed.\n"
	    "# TYPE ddbgate_log_lines_dropped_total counter\n");
	for (int i = 0; i < lw->nlogs; i++)
		if (lw->logs[i].fd >= 0)
			fprintf(out, "ddbgate_log_lines_dropped_total{log=\"%s\"} "
			    "%llu\n", lw->logs[i].name,
			    (unsigned long long)dropped[i]);
	fprintf(out, "# HELP ddbgate_log_queued_bytes Memory held by log "
	    "lines handed to the log writer thread and not written yet.\n"
	    "# TYPE ddbgate_log_queued_bytes gauge\n"
	    "ddbgate_log_queued_bytes %zu\n", queued);
}

/* ---- a worker's buffer ---------------------------------------------- */

static struct chunk *
chunk_new(int log, size_t cap)
{
	struct chunk *c = malloc(sizeof(*c) + cap);

	if (c != NULL) {
		c->log = log;
		c->len = 0;
		c->cap = cap;
		c->nlines = 0;
	}
	return c;
}

/* With mu held: a pooled chunk for log, or NULL. */
static struct chunk *
pool_take(struct logwriter *lw, int log)
{
	struct chunk *c = STAILQ_FIRST(&lw->pool);

	if (c != NULL) {
		STAILQ_REMOVE_HEAD(&lw->pool, next);
		lw->npool--;
		c->log = log;
	}
	return c;
}

/*
 * Hands c to the writer, or drops its lines when the queue is full.
 * With want_next, returns an empty chunk to go on with (c itself after a
 * drop, else a pooled one; NULL when the pool is empty).
 */
static struct chunk *
submit(struct logwriter *lw, struct chunk *c, bool want_next)
{
	struct chunk *next = NULL;
	int log = c->log;

	/*
	 * A batch that fills little of its chunk (a quiet moment: often
	 * one line) goes as a copy of its own size, and the worker keeps
	 * the big chunk: the backlog limit counts memory, so a stalled
	 * writer cannot make it hold a 64 KiB chunk per line.
	 */
	if (want_next && c->cap == LOGBUF_CHUNK && c->len <= LOGBUF_CHUNK / 4) {
		struct chunk *copy = chunk_new(log, c->len);

		if (copy != NULL) {
			memcpy(copy->data, c->data, c->len);
			copy->len = c->len;
			copy->nlines = c->nlines;
			next = c;
			c = copy;
		}
	}
	pthread_mutex_lock(&lw->mu);
	if (lw->queued + chunk_bytes(c) > lw->max_queued) {
		lw->logs[log].dropped += c->nlines;
		lw->logs[log].last_errno = 0;
		if (want_next && next == NULL && c->cap == LOGBUF_CHUNK)
			next = c;
		else
			recycle(lw, c);
	} else {
		STAILQ_INSERT_TAIL(&lw->queue, c, next);
		lw->queued += chunk_bytes(c);
		pthread_cond_signal(&lw->cv);
	}
	if (want_next && next == NULL)
		next = pool_take(lw, log);
	pthread_mutex_unlock(&lw->mu);
	if (next != NULL) {
		next->len = 0;
		next->nlines = 0;
	}
	return next;
}

/* An empty chunk for lb: pooled, else new; NULL when out of memory. */
static struct chunk *
chunk_get(struct logbuf *lb)
{
	struct chunk *c;

	pthread_mutex_lock(&lb->lw->mu);
	c = pool_take(lb->lw, lb->log);
	pthread_mutex_unlock(&lb->lw->mu);
	return c != NULL ? c : chunk_new(lb->log, LOGBUF_CHUNK);
}

/* Lines lost before they reached a chunk (out of memory). */
static void
count_lost(struct logbuf *lb)
{
	pthread_mutex_lock(&lb->lw->mu);
	lb->lw->logs[lb->log].dropped++;
	lb->lw->logs[lb->log].last_errno = ENOMEM;
	pthread_mutex_unlock(&lb->lw->mu);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	logbuf_flush(arg);
}

struct logbuf *
logbuf_new(struct logwriter *lw, int log, struct event_base *base)
{
	struct logbuf *lb;

	if (lw == NULL || log < 0 || log >= lw->nlogs || lw->logs[log].fd < 0)
		return NULL;
	lb = xcalloc(1, sizeof(*lb));
	lb->lw = lw;
	lb->log = log;
	if (base != NULL && (lb->flush_ev = evtimer_new(base, on_flush,
	    lb)) == NULL)
		fatalx("cannot create the log flush event");
	return lb;
}

/* A line longer than a chunk: a chunk of its own, handed over at once. */
static void
append_alone(struct logbuf *lb, logbuf_format_fn *fn, const void *arg,
    const struct timespec *now, size_t need)
{
	struct chunk *c = chunk_new(lb->log, need);

	if (c == NULL) {
		count_lost(lb);
		return;
	}
	c->len = fn(c->data, need, arg, now);
	c->nlines = 1;
	submit(lb->lw, c, false);
}

void
logbuf_append(struct logbuf *lb, logbuf_format_fn *fn, const void *arg)
{
	struct timespec now;
	struct chunk *c;
	size_t need;

	if (lb == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (lb->cur == NULL && (lb->cur = chunk_get(lb)) == NULL) {
		count_lost(lb);
		return;
	}
	c = lb->cur;
	need = fn(c->data + c->len, c->cap - c->len, arg, &now);
	if (need > c->cap - c->len) {
		if (c->len > 0) {
			logbuf_flush(lb);
			if (lb->cur == NULL &&
			    (lb->cur = chunk_get(lb)) == NULL) {
				count_lost(lb);
				return;
			}
			c = lb->cur;
		}
		if (need > c->cap) {
			append_alone(lb, fn, arg, &now, need);
			return;
		}
		need = fn(c->data, c->cap, arg, &now);
	}
	c->len += need;
	/* the batch goes over LOGBUF_FLUSH_MS after its first line, or
	 * sooner when it fills its chunk */
	if (++c->nlines == 1 && lb->flush_ev != NULL) {
		static const struct timeval flush_after = {
			.tv_usec = LOGBUF_FLUSH_MS * 1000 };

		evtimer_add(lb->flush_ev, &flush_after);
	}
}

void
logbuf_flush(struct logbuf *lb)
{
	if (lb == NULL || lb->cur == NULL || lb->cur->len == 0)
		return;
	lb->cur = submit(lb->lw, lb->cur, true);
}

void
logbuf_free(struct logbuf *lb)
{
	if (lb == NULL)
		return;
	if (lb->flush_ev != NULL)
		event_free(lb->flush_ev);
	logbuf_flush(lb);
	if (lb->cur != NULL) {
		pthread_mutex_lock(&lb->lw->mu);
		recycle(lb->lw, lb->cur);
		pthread_mutex_unlock(&lb->lw->mu);
	}
	free(lb);
}
