/*
 * listener — listening sockets. Each worker binds its own socket per
 * configured listener with SO_REUSEPORT, so the kernel spreads
 * connections over workers without a shared accept lock.
 */
#ifndef DDBGATE_LISTENER_H
#define DDBGATE_LISTENER_H

#include <stddef.h>

struct conf_listener;

/* A bound, listening, non-blocking socket for l, or -1 with err set
 * ("127.0.0.1:443: bind: Address already in use"). */
int listener_open(const struct conf_listener *l, char *err, size_t errlen);

#endif
