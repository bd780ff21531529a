/*
 * resolver — asynchronous name resolution on a worker's event loop, with
 * c-ares: A and AAAA together; the configured servers in order, the next
 * one asked when one does not answer within resolver.timeout_ms or
 * answers SERVFAIL or REFUSED (else the servers of /etc/resolv.conf).
 * No search domains: upstream names are absolute.
 *
 * Every worker's resolver shares one process-wide dnscache (dnscache.h):
 * a name is looked up there first, and only the first worker to miss it
 * sends a query; the others, in any thread, wait for that query. IP
 * literals are answered at once. No call here blocks.
 */
#ifndef DDBGATE_RESOLVER_H
#define DDBGATE_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnscache.h"

struct event_base;
struct config;
struct resolver;
struct resolver_query;

struct resolver_result {
	enum dns_status status;
	enum dns_source source;
	const char *error; /* why, when status != DNS_OK */
	unsigned ttl_s;
	struct sockaddr_storage addrs[DNS_MAX_ADDRS];
	size_t naddrs; /* with port set; IPv4 first, then IPv6 */
};

/* Called once per query from the event loop, unless cancelled first.
 * result is valid only during the call. */
typedef void resolver_cb(void *arg, const struct resolver_result *result);

/* A resolver for one worker's loop, using cache (borrowed; it must
 * outlive the resolver). Returns NULL with err set. */
struct resolver *resolver_new(struct event_base *base,
    const struct config *cfg, struct dnscache *cache, char *err,
    size_t errlen);

/*
 * Applies a reloaded configuration whose servers or timeout changed: the
 * cache bounds, and a new c-ares channel for new queries while the old
 * one finishes the queries it has. On failure the old settings stay and
 * err says why.
 */
int resolver_reconfigure(struct resolver *r, const struct config *cfg,
    char *err, size_t errlen);

/* Applies the cache bounds of cfg (TTL clamps, negative TTL, stale). */
void resolver_set_policy(struct resolver *r, const struct config *cfg);

/* Cancels every pending query (no callbacks; waiters in other workers
 * behind a query of this one get a failure) and frees the resolver. */
void resolver_free(struct resolver *r);

/*
 * Starts resolving name (lower case, no trailing dot); cb(arg, result)
 * runs later from the loop, never from inside this call. Returns a handle
 * for resolver_cancel(), or NULL if the query could not be started.
 */
struct resolver_query *resolver_resolve(struct resolver *r, const char *name,
    uint16_t port, resolver_cb *cb, void *arg);

/* The callback of q will not run; q must not be used again. */
void resolver_cancel(struct resolver_query *q);

/* Whether two configurations resolve differently (servers or timeout). */
int resolver_settings_differ(const struct config *a, const struct config *b);

/* The monotonic clock in milliseconds, as dnscache and addrhealth use. */
uint64_t monotonic_ms(void);

#endif
