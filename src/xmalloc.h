/*
 * xmalloc — allocation that cannot fail, for start-up and configuration
 * loading only: out of memory there is fatal. Per-connection code uses
 * plain malloc and closes the one session on failure.
 */
#ifndef DDBGATE_XMALLOC_H
#define DDBGATE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
