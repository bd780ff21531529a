/*
 * audit — see audit.h. Lines are formatted straight into the worker's log
 * buffer by a JSON string escaper of our own (RFC 8259 §7): no DOM, no
 * allocation per request.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "logline.h"
#include "logwriter.h"

/* The short escapes JSON has for control characters; 0: use \u00XX. */
static char
short_escape(unsigned char c)
{
	switch (c) {
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	default: return 0;
	}
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629 §4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;	/* the second byte's range */

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;	/* overlong below U+0800 */
	else if (c == 0xed)
		hi = 0x9f;	/* U+D800..U+DFFF */
	else if (c == 0xf0)
		lo = 0x90;	/* overlong below U+10000 */
	else if (c == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0; /* a NUL ends the loop here too */
	return n;
}

/*
 * s as a JSON string: '"' and '\' escaped, control characters as their
 * short escape or \u00XX, well-formed UTF-8 copied, and each byte that
 * does not start a well-formed sequence replaced by \ufffd, so a client's
 * bytes can never make the line invalid JSON.
 */
void
audit_json_string(struct logline *l, const char *s)
{
	static const char hex[] = "0123456789ABCDEF"; /* as jansson wrote */
	const unsigned char *p = (const unsigned char *)s;

	logline_putc(l, '"');
	while (*p != '\0') {
		const unsigned char *run = p;
		size_t n;

		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		logline_put(l, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			logline_putc(l, '\\');
			logline_putc(l, (char)*p++);
		} else if (*p < 0x20) {
			char e = short_escape(*p);
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4],
			    hex[*p & 0xf] };

			if (e != 0) {
				logline_putc(l, '\\');
				logline_putc(l, e);
			} else {
				logline_put(l, u, sizeof(u));
			}
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			logline_put(l, (const char *)p, n);
			p += n;
		} else {
			logline_puts(l, "\\ufffd");
			p++;
		}
	}
	logline_putc(l, '"');
}

/* ,"key": — the comma unless it is the object's first member. */
static void
put_key(struct logline *l, const char *key, bool *first)
{
	if (!*first)
		logline_putc(l, ',');
	*first = false;
	logline_putc(l, '"');
	logline_puts(l, key);
	logline_puts(l, "\":");
}

/* A string member, left out when v is NULL. */
static void
put_str(struct logline *l, const char *key, const char *v, bool *first)
{
	if (v == NULL)
		return;
	put_key(l, key, first);
	audit_json_string(l, v);
}

static void
put_resources(struct logline *l, const struct audit_record *r, bool *first)
{
	put_key(l, "resources", first);
	logline_putc(l, '[');
	for (size_t i = 0; i < r->nresources; i++) {
		bool efirst = true;

		if (i > 0)
			logline_putc(l, ',');
		logline_putc(l, '{');
		put_str(l, "action", r->actions[i], &efirst);
		put_str(l, "ARN", r->resources[i], &efirst);
		logline_putc(l, '}');
	}
	logline_putc(l, ']');
}

size_t
audit_format(char *buf, size_t cap, const struct audit_record *r,
    const struct timespec *now)
{
	struct logline l = { .buf = buf, .cap = cap };
	bool first = true;

	logline_putc(&l, '{');
	put_key(&l, "eventTime", &first);
	logline_putc(&l, '"');
	logline_utc(&l, now->tv_sec);
	logline_puts(&l, "Z\"");
	put_str(&l, "sourceIPAddress", r->source, &first);
	put_str(&l, "accessKeyId", r->access_key_id, &first);
	put_str(&l, "principal", r->principal, &first);
	put_str(&l, "eventSource", r->event_source, &first);
	put_str(&l, "eventName", r->event_name, &first);
	put_resources(&l, r, &first);
	put_str(&l, "decision", r->decision, &first);
	put_str(&l, "reason", r->reason, &first);
	put_str(&l, "decidingStatement", r->statement, &first);
	put_str(&l, "enforcement", r->enforcement, &first);
	put_str(&l, "endpoint", r->endpoint, &first);
	put_str(&l, "upstreamAddress", r->upstream, &first);
	put_key(&l, "status", &first);
	logline_int(&l, r->status);
	put_key(&l, "latencyMs", &first);
	logline_milli(&l, r->latency_us);
	if (r->replay) {
		put_key(&l, "replay", &first);
		logline_puts(&l, "true");
	}
	put_str(&l, "proxyUser", r->user, &first);
	if (r->tunnel_host != NULL) {
		put_str(&l, "tunnelHost", r->tunnel_host, &first);
		put_key(&l, "bytesIn", &first);
		logline_u64(&l, r->bytes_in);
		put_key(&l, "bytesOut", &first);
		logline_u64(&l, r->bytes_out);
	}
	logline_puts(&l, "}\n");
	return l.len;
}

static size_t
format_line(char *buf, size_t cap, const void *r, const struct timespec *now)
{
	return audit_format(buf, cap, r, now);
}

void
audit_write(struct logbuf *lb, const struct audit_record *r)
{
	logbuf_append(lb, format_line, r);
}
