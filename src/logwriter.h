/*
 * logwriter — the access and audit logs leave the process through one
 * writer thread, so no worker waits on a disk or a pipe.
 *
 * Each worker appends finished lines to a buffer of its own (struct
 * logbuf, one per log): no lock, no shared counter, no allocation per
 * line. The buffer is a pooled chunk of LOGBUF_CHUNK bytes; it is handed
 * to the writer thread when the next line does not fit, LOGBUF_FLUSH_MS
 * after the first line of the batch (a timer), and when the logbuf is
 * freed at shutdown: one mutex hand-off and one wake-up of the writer per
 * batch, so under load a hand-off carries a full chunk (handing over at
 * the end of every loop turn cost a wake-up per few requests). A line
 * reaches the writer at most LOGBUF_FLUSH_MS after its request ended, and
 * lines keep the order of the requests that made them as long as those
 * were not served within that time on different workers (the writer
 * takes batches in the order they arrive). The writer
 * thread owns the file descriptors; it write(2)s whole chunks, so lines
 * never interleave, and reopens the files between batches on request
 * (SIGUSR1, log rotation).
 *
 * Bounded memory: when the chunks handed over but not yet written would
 * pass max_queued bytes, the newest batch is dropped rather than stall
 * the worker's loop; so are lines a write(2) fails on. Either way the
 * lines are counted per log in ddbgate_log_lines_dropped_total and the
 * writer logs a warning at most once per LOGWRITER_WARN_S seconds.
 * logwriter_stop() writes everything handed over before it returns.
 */
#ifndef DDBGATE_LOGWRITER_H
#define DDBGATE_LOGWRITER_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct event_base;
struct logbuf;
struct logwriter;

#define LOGBUF_CHUNK (64 * 1024)
#define LOGBUF_FLUSH_MS 10
#define LOGWRITER_MAX_QUEUED (8u << 20)
#define LOGWRITER_WARN_S 10
#define LOGWRITER_MAX_LOGS 4

/* A writer that queues at most max_queued bytes; no thread yet. */
struct logwriter *logwriter_new(size_t max_queued);

/*
 * Registers a log under name ("access", "audit") and opens path for
 * appending (created 0666 & ~umask): "-" is standard output, "off" is a
 * log that takes no lines. Returns its index, or -1 with errno set (0
 * when there is no room for another log).
 */
int logwriter_add(struct logwriter *lw, const char *name, const char *path);

/* Starts the writer thread; 0, or -1 with errno set. Call it where the
 * thread may inherit the sandbox (after Landlock is applied). */
int logwriter_start(struct logwriter *lw);

/*
 * From any thread: the writer reopens every log that is a file, under
 * its path, before it writes its next batch, then logs "SIGUSR1: log
 * files reopened (NAME PATH, ...)" (or why one could not be reopened).
 * Without a running thread it is done at once by the caller.
 */
void logwriter_reopen(struct logwriter *lw);

/*
 * Writes every batch handed over so far, reports drops not yet
 * reported, and ends the thread. Free every logbuf first (they hand
 * over what they hold). Safe without a started thread: then the caller
 * writes the queue.
 */
void logwriter_stop(struct logwriter *lw);

/* Closes the files and frees the pool; after logwriter_stop(). */
void logwriter_free(struct logwriter *lw);

/* A metrics_writer: ddbgate_log_lines_dropped_total{log} and
 * ddbgate_log_queued_bytes. */
void logwriter_write_metrics(void *lw, FILE *out);

/*
 * A worker's buffer for log index log of lw, or NULL when that log is
 * "off" (every logbuf function accepts NULL and does nothing). With a
 * base, pending lines are handed over LOGBUF_FLUSH_MS after the first of
 * them (a timer on base); without one, only by logbuf_flush() and when a
 * chunk fills.
 * Used by one thread at a time.
 */
struct logbuf *logbuf_new(struct logwriter *lw, int log,
    struct event_base *base);

/*
 * Formats one line into the buffer, stamped now (the wall clock, read
 * once; not at all when lb is NULL). fn writes at most cap bytes of the
 * line (its '\n' included) at buf and returns the length the whole line
 * needs, even when that is more than cap; it is called again with more
 * room, and the same now, when the line did not fit.
 */
typedef size_t logbuf_format_fn(char *buf, size_t cap, const void *arg,
    const struct timespec *now);
void logbuf_append(struct logbuf *lb, logbuf_format_fn *fn, const void *arg);

/* Hands what is pending to the writer now. */
void logbuf_flush(struct logbuf *lb);

/* Hands over what is pending and frees lb (its event first: call it on
 * the thread that owns base, or after that thread ended). */
void logbuf_free(struct logbuf *lb);

#endif
