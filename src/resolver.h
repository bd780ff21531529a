/*
 * resolver — asynchronous name resolution with c-ares on a worker's
 * event loop: A and AAAA together, the configured servers in order (else
 * /etc/resolv.conf), each bounded by resolver.timeout_ms. No call here
 * blocks. IP literals are answered at once without a query.
 */
#ifndef DDBGATE_RESOLVER_H
#define DDBGATE_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct config;
struct resolver;
struct resolver_query;

#define RESOLVER_MAX_ADDRS 16

enum resolver_status {
	RESOLVER_OK,
	RESOLVER_NOT_FOUND, /* NXDOMAIN, or no A/AAAA data */
	RESOLVER_TIMEOUT,   /* no server answered in time */
	RESOLVER_FAILURE,   /* SERVFAIL, refused, malformed, ... */
};

struct resolver_result {
	enum resolver_status status;
	const char *error; /* c-ares' text when status != RESOLVER_OK */
	struct sockaddr_storage addrs[RESOLVER_MAX_ADDRS];
	size_t naddrs; /* with port set; IPv4 first, then IPv6 */
};

/* Called once per query from the event loop, unless cancelled first.
 * result is valid only during the call. */
typedef void resolver_cb(void *arg, const struct resolver_result *result);

/* A resolver for one worker's loop. Returns NULL with err set. */
struct resolver *resolver_new(struct event_base *base,
    const struct config *cfg, char *err, size_t errlen);

/* Cancels every pending query (no callbacks) and frees the resolver. */
void resolver_free(struct resolver *r);

/*
 * Starts resolving name; cb(arg, result) runs later from the loop, never
 * from inside this call. Returns a handle for resolver_cancel(), or NULL
 * if the query could not be started (out of memory).
 */
struct resolver_query *resolver_resolve(struct resolver *r, const char *name,
    uint16_t port, resolver_cb *cb, void *arg);

/* The callback of q will not run; q must not be used again. */
void resolver_cancel(struct resolver_query *q);

#endif
