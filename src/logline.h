/*
 * logline — the pieces the access and audit formatters build a line from,
 * written into a caller's buffer without allocating, locking or calling
 * the C library's time zone code (gmtime_r() takes a process-wide lock).
 * A line that does not fit is not cut short silently: its length keeps
 * counting past the capacity, like snprintf(), so the caller can tell.
 */
#ifndef DDBGATE_LOGLINE_H
#define DDBGATE_LOGLINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

struct logline {
	char *buf;	/* borrowed; bytes past cap are never written */
	size_t cap;
	size_t len;	/* what the line needs so far; may exceed cap */
};

/* Appends n bytes of s (s may be NULL when n is 0). Inline: the
 * formatters call these for every few bytes of a line. */
static inline void
logline_put(struct logline *l, const char *s, size_t n)
{
	if (l->len < l->cap)
		memcpy(l->buf + l->len, s,
		    n < l->cap - l->len ? n : l->cap - l->len);
	l->len += n;
}

static inline void
logline_puts(struct logline *l, const char *s)
{
	logline_put(l, s, strlen(s));
}

static inline void
logline_putc(struct logline *l, char c)
{
	if (l->len < l->cap)
		l->buf[l->len] = c;
	l->len++;
}

/* Decimal, no padding. */
void logline_u64(struct logline *l, uint64_t v);
void logline_int(struct logline *l, int v);

/* v / 1000 with exactly three decimals ("1.500" for 1500). */
void logline_milli(struct logline *l, uint64_t v);

/* t in UTC as "YYYY-MM-DDTHH:MM:SS" (proleptic Gregorian calendar). */
void logline_utc(struct logline *l, time_t t);

/* Whether everything appended so far fit. */
int logline_fits(const struct logline *l);

#endif
