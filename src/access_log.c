/*
 * access_log — see access_log.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "access_log.h"

FILE *
access_log_open(const char *path)
{
	FILE *f;

	errno = 0;
	if (strcmp(path, "off") == 0)
		return NULL;
	if (strcmp(path, "-") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return stdout;
	}
	if ((f = fopen(path, "ae")) != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/* Copies s into buf quoting it when it has spaces, quotes or controls. */
static const char *
value(const char *s, char *buf, size_t len)
{
	bool plain = *s != '\0';
	size_t n = 0;

	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			plain = false;
	if (plain)
		return s;
	buf[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s;
	    *p && n + 6 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)*p;
		} else if (*p < ' ' || *p >= 0x7f) {
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", *p);
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

void
access_log_write(FILE *f, const struct access_record *r)
{
	char ts[32], b1[160], b2[300], b3[300], stream[32] = "";
	struct timespec now;
	struct tm tm;

	if (f == NULL)
		return;
	if (r->h2_stream > 0)
		snprintf(stream, sizeof(stream), " h2_stream=%d",
		    (int)r->h2_stream);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "time=%s.%03ldZ client=%s endpoint=%s host=%s target=%s "
	    "status=%d request_bytes=%llu response_bytes=%llu "
	    "latency_ms=%.3f upstream=%s reused=%d%s%s%s\n",
	    ts, now.tv_nsec / 1000000, r->client, value(r->endpoint, b1,
	    sizeof(b1)), value(r->host, b2, sizeof(b2)),
	    value(r->target, b3, sizeof(b3)), r->status,
	    (unsigned long long)r->request_bytes,
	    (unsigned long long)r->response_bytes,
	    (double)r->latency_us / 1000.0, r->upstream, r->reused,
	    r->error ? " error=" : "", r->error ? r->error : "", stream);
}
