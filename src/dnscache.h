/*
 * dnscache — the process-wide cache of upstream name resolutions, shared
 * by every worker thread, and the bookkeeping that makes one DNS query
 * serve every connection waiting for the same name.
 *
 * What it keeps, per name (lower case, no trailing dot):
 *  - a positive answer (addresses, port 0) for its TTL, clamped to the
 *    policy's [min_ttl_s, max_ttl_s] when it is read, so a reload that
 *    changes the bounds applies to entries already cached;
 *  - a negative answer (DNS_NOT_FOUND: NXDOMAIN or no A/AAAA records) for
 *    negative_ttl_s (0: not cached);
 *  - after a positive answer expires, the addresses stay for stale_s more
 *    seconds: when the refresh then fails with DNS_TIMEOUT or DNS_FAILURE
 *    (every resolver failed), the waiters get the old addresses marked
 *    DNS_SRC_STALE instead of the error. stale_s = 0 turns this off.
 * Server failures (timeout, SERVFAIL, refused) are never cached.
 *
 * Coalescing: dnscache_lookup() either answers from the cache, or queues
 * the caller's waiter behind the query already in flight for the name, or
 * queues it and tells the caller to start that query; the caller then
 * reports the outcome with dnscache_complete(), which wakes every waiter.
 * That call is owed even if the caller's own waiter was cancelled since:
 * others may be waiting.
 *
 * Pure bookkeeping under one mutex: no sockets, no event loop, no clock;
 * callers pass the time as monotonic milliseconds. Safe to call from any
 * thread.
 */
#ifndef DDBGATE_DNSCACHE_H
#define DDBGATE_DNSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#define DNS_MAX_ADDRS 16
#define DNS_NAME_MAX 253
#define DNSCACHE_MAX_ENTRIES 4096

enum dns_status {
	DNS_OK,
	DNS_NOT_FOUND, /* NXDOMAIN, or no A/AAAA data */
	DNS_TIMEOUT,   /* no server answered in time */
	DNS_FAILURE,   /* SERVFAIL, refused, malformed, ... */
};

/* Where an answer handed to a caller came from. */
enum dns_source {
	DNS_SRC_QUERY, /* the query this caller waited for */
	DNS_SRC_CACHE, /* a fresh cache entry */
	DNS_SRC_STALE, /* an expired entry, because every resolver failed */
};

struct dns_answer {
	enum dns_status status;
	enum dns_source source;
	char error[128];  /* why, when status != DNS_OK */
	unsigned ttl_s;   /* DNS_OK from a query: smallest TTL in the answer;
			     from the cache: seconds left (stale: 0) */
	struct sockaddr_storage addrs[DNS_MAX_ADDRS]; /* port 0 */
	size_t naddrs;	  /* DNS_OK: at least 1 */
};

/* Read from the current configuration at every call. */
struct dnscache_policy {
	unsigned min_ttl_s;
	unsigned max_ttl_s;
	unsigned negative_ttl_s;
	unsigned stale_s;
};

/*
 * A caller waiting for a name; embed it in the caller's own query object.
 * wake() runs exactly once per queued waiter, from dnscache_complete() (in
 * whichever thread calls it) with the cache's lock held: it must only copy
 * the answer and signal its owner (for example event_active()), and must
 * not call back into the cache. A waiter starts zeroed (calloc or
 * = { 0 }) but for wake.
 */
struct dnscache_waiter {
	void (*wake)(struct dnscache_waiter *w, const struct dns_answer *ans);
	TAILQ_ENTRY(dnscache_waiter) link; /* private to dnscache */
	bool queued;			   /* private to dnscache */
};

/* Counters since start, for metrics. */
struct dnscache_stats {
	uint64_t hits;		/* answered from a fresh positive entry */
	uint64_t negative_hits; /* answered from a negative entry */
	uint64_t misses;	/* a query had to be started */
	uint64_t coalesced;	/* waited for a query already in flight */
	uint64_t stale_served;	/* waiters given a stale answer */
	uint64_t failures;	/* queries that ended in timeout or failure */
	size_t entries;		/* names held now */
};

enum dnscache_result {
	DNSCACHE_HIT,	/* *out is the answer; w was not queued */
	DNSCACHE_WAIT,	/* w queued behind a query in flight */
	DNSCACHE_QUERY, /* w queued; the caller must start the query now
			   and end it with dnscache_complete() */
};

/* NULL when out of memory. */
struct dnscache *dnscache_new(void);

/* Frees every entry. No waiter may still be queued. */
void dnscache_free(struct dnscache *c);

/*
 * Looks name up at now_ms. A fresh positive or negative entry is a hit;
 * otherwise w is queued, and the result says whether a query is already
 * in flight. name longer than DNS_NAME_MAX is a caller bug (asserted).
 */
enum dnscache_result dnscache_lookup(struct dnscache *c, const char *name,
    const struct dnscache_policy *p, uint64_t now_ms,
    struct dnscache_waiter *w, struct dns_answer *out);

/*
 * The query started for name (after DNSCACHE_QUERY) ended with ans, as
 * the resolvers answered (source is ignored). Stores what the rules above
 * say to store, then wakes every queued waiter with the answer it gets:
 * ans itself, or the stale addresses. Returns how many were woken.
 */
size_t dnscache_complete(struct dnscache *c, const char *name,
    const struct dns_answer *ans, const struct dnscache_policy *p,
    uint64_t now_ms);

/*
 * Unqueues w. Returns true if it was still queued (its wake() will not
 * run), false if it was already woken or never queued.
 */
bool dnscache_cancel(struct dnscache *c, struct dnscache_waiter *w);

/*
 * After a configuration reload. When servers_changed, every stored answer
 * is dropped (it came from resolvers no longer trusted), and a query in
 * flight still wakes its waiters but its answer is not stored. Entries
 * whose name keep() rejects are dropped unless a query is in flight for
 * them. Entries still valid under the new configuration stay.
 */
void dnscache_retain(struct dnscache *c, bool servers_changed,
    bool (*keep)(const char *name, void *arg), void *arg);

void dnscache_stats(struct dnscache *c, struct dnscache_stats *out);

#endif
