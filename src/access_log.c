/*
 * access_log — see access_log.h. Lines are formatted straight into the
 * worker's log buffer (logwriter.h): no stdio, no allocation.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "access_log.h"
#include "logline.h"
#include "logwriter.h"

/*
 * s as a logfmt value: as it is when it has no space, quote, '=', '\',
 * control or non-ASCII byte (and is not empty); else quoted, '"' and '\'
 * escaped, other such bytes as \xNN, the quoted form cut to fit limit
 * bytes (a terminating NUL included, as the fixed buffers it had before).
 */
static void
put_value(struct logline *l, const char *s, size_t limit)
{
	static const char hex[] = "0123456789abcdef";
	bool plain = *s != '\0';
	size_t n = 1;

	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			plain = false;
	if (plain) {
		logline_puts(l, s);
		return;
	}
	logline_putc(l, '"');
	for (const unsigned char *p = (const unsigned char *)s;
	    *p && n + 6 < limit; p++) {
		if (*p == '"' || *p == '\\') {
			logline_putc(l, '\\');
			logline_putc(l, (char)*p);
			n += 2;
		} else if (*p < ' ' || *p >= 0x7f) {
			char x[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 0xf] };

			logline_put(l, x, sizeof(x));
			n += sizeof(x);
		} else {
			logline_putc(l, (char)*p);
			n++;
		}
	}
	logline_putc(l, '"');
}

size_t
access_log_format(char *buf, size_t cap, const struct access_record *r,
    const struct timespec *now)
{
	struct logline l = { .buf = buf, .cap = cap };
	char ms[3] = { (char)('0' + now->tv_nsec / 100000000),
	    (char)('0' + now->tv_nsec / 10000000 % 10),
	    (char)('0' + now->tv_nsec / 1000000 % 10) };

	logline_puts(&l, "time=");
	logline_utc(&l, now->tv_sec);
	logline_putc(&l, '.');
	logline_put(&l, ms, sizeof(ms));
	logline_puts(&l, "Z client=");
	logline_puts(&l, r->client);
	logline_puts(&l, " endpoint=");
	put_value(&l, r->endpoint, 160);
	logline_puts(&l, " host=");
	put_value(&l, r->host, 300);
	logline_puts(&l, " target=");
	put_value(&l, r->target, 300);
	logline_puts(&l, " status=");
	logline_int(&l, r->status);
	logline_puts(&l, " request_bytes=");
	logline_u64(&l, r->request_bytes);
	logline_puts(&l, " response_bytes=");
	logline_u64(&l, r->response_bytes);
	logline_puts(&l, " latency_ms=");
	logline_milli(&l, r->latency_us);
	logline_puts(&l, " upstream=");
	logline_puts(&l, r->upstream);
	logline_puts(&l, " reused=");
	logline_int(&l, r->reused);
	if (r->error != NULL) {
		logline_puts(&l, " error=");
		logline_puts(&l, r->error);
	}
	if (r->h2_stream > 0) {
		logline_puts(&l, " h2_stream=");
		logline_int(&l, (int)r->h2_stream);
	}
	logline_putc(&l, '\n');
	return l.len;
}

static size_t
format_line(char *buf, size_t cap, const void *r, const struct timespec *now)
{
	return access_log_format(buf, cap, r, now);
}

void
access_log_write(struct logbuf *lb, const struct access_record *r)
{
	logbuf_append(lb, format_line, r);
}
