/*
 * log — see log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_progname = "ddbgate";
static enum log_level log_level_max = LOG_LEVEL_INFO;
static int log_to_journal = -1; /* unknown until the first line */

void
log_init(const char *progname, enum log_level max_level)
{
	log_progname = progname;
	log_level_max = max_level;
	log_to_journal = -1;
}

enum log_level
log_max_level(void)
{
	return log_level_max;
}

/* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
static int
journal_attached(void)
{
	if (log_to_journal < 0)
		log_to_journal = getenv("JOURNAL_STREAM") != NULL;
	return log_to_journal;
}

static const char *
level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		return "error";
	case LOG_LEVEL_WARNING:
		return "warning";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		return "debug";
	}
	return "?";
}

/*
 * A log line is one line: control characters (which peers can smuggle in
 * through names and headers) become \xNN, so nobody forges a line or a
 * journald priority. Escapes that do not fit are cut at the end.
 */
static void
escape_controls(char *line, size_t size)
{
	char tmp[2048];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
		if (n + 5 >= sizeof(tmp))
			break;
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\x%02x",
			    *p);
		else
			tmp[n++] = (char)*p;
	}
	tmp[n] = '\0';
	snprintf(line, size, "%s", tmp);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;

	if (level > log_level_max)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	escape_controls(line, sizeof(line));
	if (journal_attached()) {
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	} else {
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_progname, level_name(level),
		    line);
	}
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 0)))
log_with_errno(enum log_level level, int saved, const char *fmt, va_list ap)
{
	char msg[1536];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(level, "%s: %s", msg, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_with_errno(LOG_LEVEL_WARNING, saved, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_with_errno(LOG_LEVEL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
