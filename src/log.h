/*
 * log — process log lines on stderr (journald reads them there).
 *
 * log_warn() appends the errno text, log_warnx() does not. fatal() and
 * fatalx() exit and are used only before the process starts serving.
 * Lines carry a level prefix journald understands ("<4>") when stderr is
 * the journal, a timestamp otherwise.
 */
#ifndef DDBGATE_LOG_H
#define DDBGATE_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Sets the lowest level written (default INFO) and the program name. */
void log_init(const char *progname, enum log_level max_level);
enum log_level log_max_level(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
