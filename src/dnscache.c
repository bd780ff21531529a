/*
 * dnscache — see dnscache.h.
 *
 * A chained hash table: FNV-1a over the name picks one of BUCKETS lists
 * of entries. An entry holds at most one stored answer (positive or
 * negative) with the time it was fetched and the TTL as the resolvers
 * gave it, so that freshness is judged with the policy of each call; a
 * flag saying a query is in flight for the name; a flag saying that
 * query's answer must not be stored (dnscache_retain() after the servers
 * changed); and the FIFO of waiters for that query. Waiters are queued
 * only while a query is in flight, so an entry with waiters is in flight.
 * An entry neither in flight nor holding an answer is freed at once.
 *
 * One mutex protects the table, every entry, every waiter's link and
 * queued flag, and the counters. wake() runs with it held; the waiter is
 * unlinked and marked not queued before, and never touched after, since
 * its owner may free it as soon as it is signalled.
 *
 * A waiter does not know its entry, and unlinking the last element of a
 * TAILQ needs the head. So every entry's queue ends with a sentinel
 * waiter of its own: a real waiter is never last, and dnscache_cancel()
 * unlinks it from its neighbours alone, in constant time.
 *
 * A hit takes the lock, walks one chain and copies the answer out: no
 * allocation. A new name allocates one entry (about 2.5 KiB). When
 * DNSCACHE_MAX_ENTRIES are held, a new name first sweeps the whole table
 * for entries past any use (expired beyond the stale window, or negative
 * and expired), then, if that was not enough, drops the entries fetched
 * longest ago. Entries in flight are never dropped; when every entry is
 * in flight the table grows past the limit rather than refuse a lookup,
 * and shrinks back with the next new names.
 * If calloc fails, the entry fetched longest ago is recycled; if there is
 * none, the lookup is answered at once with DNS_FAILURE.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

#define BUCKETS 1024 /* power of two; 4 entries a chain when full */

#define NO_ADDRS_ERROR "no A or AAAA records"

enum stored {
	STORED_NONE,
	STORED_POSITIVE,
	STORED_NEGATIVE,
};

struct entry {
	LIST_ENTRY(entry) link; /* in its bucket */
	TAILQ_HEAD(, dnscache_waiter) waiters; /* ends with &tail */
	struct dnscache_waiter tail; /* sentinel, never woken */
	bool in_flight;
	bool no_store;	  /* the query in flight is from old servers */
	enum stored stored;
	uint64_t fetched_ms;
	unsigned ttl_s;	  /* positive: as received, clamped when read */
	size_t naddrs;
	struct sockaddr_storage addrs[DNS_MAX_ADDRS];
	char error[sizeof(((struct dns_answer *)0)->error)]; /* negative */
	char name[DNS_NAME_MAX + 1];
};

LIST_HEAD(bucket, entry);

struct dnscache {
	pthread_mutex_t lock;
	struct bucket buckets[BUCKETS];
	struct dnscache_stats stats; /* stats.entries: entries in the table */
};

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static struct bucket *
bucket_of(struct dnscache *c, const char *name)
{
	return &c->buckets[fnv1a(name) & (BUCKETS - 1)];
}

static uint64_t
add_ms(uint64_t t, unsigned s)
{
	uint64_t d = (uint64_t)s * 1000;

	return t > UINT64_MAX - d ? UINT64_MAX : t + d;
}

static unsigned
clamp_ttl(unsigned ttl, const struct dnscache_policy *p)
{
	if (ttl < p->min_ttl_s)
		ttl = p->min_ttl_s;
	if (ttl > p->max_ttl_s)
		ttl = p->max_ttl_s;
	return ttl;
}

/* When the stored answer stops being fresh under p. */
static uint64_t
expiry(const struct entry *e, const struct dnscache_policy *p)
{
	if (e->stored == STORED_POSITIVE)
		return add_ms(e->fetched_ms, clamp_ttl(e->ttl_s, p));
	if (e->stored == STORED_NEGATIVE)
		return add_ms(e->fetched_ms, p->negative_ttl_s);
	return 0;
}

/* When the stored answer stops being of any use, stale or not. */
static uint64_t
useful_until(const struct entry *e, const struct dnscache_policy *p)
{
	if (e->stored == STORED_POSITIVE)
		return add_ms(expiry(e, p), p->stale_s);
	return expiry(e, p);
}

/* Whole seconds from now to until, rounded up. */
static unsigned
seconds_left(uint64_t until, uint64_t now_ms)
{
	uint64_t s = (until - now_ms + 999) / 1000;

	return s > UINT_MAX ? UINT_MAX : (unsigned)s;
}

static size_t
bounded_naddrs(size_t n)
{
	assert(n <= DNS_MAX_ADDRS);
	return n > DNS_MAX_ADDRS ? DNS_MAX_ADDRS : n;
}

static void
copy_error(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static struct entry *
find(struct dnscache *c, const char *name)
{
	struct entry *e;

	LIST_FOREACH(e, bucket_of(c, name), link) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

static bool
has_waiters(const struct entry *e)
{
	return TAILQ_FIRST(&e->waiters) != &e->tail;
}

/* Unlinks w, which is not the sentinel, so not last, from its queue. */
static void
unqueue(struct dnscache_waiter *w)
{
	assert(TAILQ_NEXT(w, link) != NULL);
	TAILQ_NEXT(w, link)->link.tqe_prev = w->link.tqe_prev;
	*w->link.tqe_prev = TAILQ_NEXT(w, link);
	w->queued = false;
}

static void
unlink_entry(struct dnscache *c, struct entry *e)
{
	assert(!has_waiters(e));
	LIST_REMOVE(e, link);
	c->stats.entries--;
}

static void
drop(struct dnscache *c, struct entry *e)
{
	unlink_entry(c, e);
	free(e);
}

/* Frees e if it has nothing left to hold. */
static void
drop_if_empty(struct dnscache *c, struct entry *e)
{
	if (!e->in_flight && e->stored == STORED_NONE)
		drop(c, e);
}

/* Drops every entry not in flight and past any use at now_ms under p. */
static void
sweep(struct dnscache *c, const struct dnscache_policy *p, uint64_t now_ms)
{
	struct entry *e, *next;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		for (e = LIST_FIRST(&c->buckets[i]); e != NULL; e = next) {
			next = LIST_NEXT(e, link);
			if (!e->in_flight && useful_until(e, p) <= now_ms)
				drop(c, e);
		}
	}
}

/* Unlinks and returns the entry not in flight fetched longest ago. */
static struct entry *
take_oldest(struct dnscache *c)
{
	struct entry *e, *oldest = NULL;
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		LIST_FOREACH(e, &c->buckets[i], link) {
			if (!e->in_flight && (oldest == NULL ||
			    e->fetched_ms < oldest->fetched_ms))
				oldest = e;
		}
	}
	if (oldest != NULL)
		unlink_entry(c, oldest);
	return oldest;
}

static void
make_room(struct dnscache *c, const struct dnscache_policy *p,
    uint64_t now_ms)
{
	struct entry *e;

	if (c->stats.entries < DNSCACHE_MAX_ENTRIES)
		return;
	sweep(c, p, now_ms);
	while (c->stats.entries >= DNSCACHE_MAX_ENTRIES &&
	    (e = take_oldest(c)) != NULL)
		free(e);
}

/* Adds an empty entry for name, or returns NULL when out of memory. */
static struct entry *
create(struct dnscache *c, const char *name, size_t len,
    const struct dnscache_policy *p, uint64_t now_ms)
{
	struct entry *e;

	make_room(c, p, now_ms);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		if ((e = take_oldest(c)) == NULL)
			return NULL;
		memset(e, 0, sizeof(*e));
	}
	TAILQ_INIT(&e->waiters);
	TAILQ_INSERT_TAIL(&e->waiters, &e->tail, link);
	e->stored = STORED_NONE;
	memcpy(e->name, name, len + 1);
	LIST_INSERT_HEAD(bucket_of(c, name), e, link);
	c->stats.entries++;
	return e;
}

static void
store_positive(struct entry *e, const struct dns_answer *ans,
    uint64_t now_ms)
{
	e->stored = STORED_POSITIVE;
	e->fetched_ms = now_ms;
	e->ttl_s = ans->ttl_s;
	e->naddrs = ans->naddrs;
	memcpy(e->addrs, ans->addrs, e->naddrs * sizeof(e->addrs[0]));
	e->error[0] = '\0';
}

static void
store_negative(struct entry *e, const char *error, uint64_t now_ms)
{
	e->stored = STORED_NEGATIVE;
	e->fetched_ms = now_ms;
	e->ttl_s = 0;
	e->naddrs = 0;
	copy_error(e->error, sizeof(e->error), error);
}

/* Fills out from the fresh entry e. */
static void
answer_from(const struct entry *e, enum dns_source source, unsigned ttl_s,
    struct dns_answer *out)
{
	out->source = source;
	out->ttl_s = ttl_s;
	out->naddrs = e->naddrs;
	memcpy(out->addrs, e->addrs, e->naddrs * sizeof(e->addrs[0]));
	if (e->stored == STORED_POSITIVE) {
		out->status = DNS_OK;
		out->error[0] = '\0';
	} else {
		out->status = DNS_NOT_FOUND;
		memcpy(out->error, e->error, sizeof(out->error));
	}
}

/* Unqueues and wakes every waiter of e, in order. */
static size_t
wake_all(struct entry *e, const struct dns_answer *ans)
{
	struct dnscache_waiter *w;
	size_t n = 0;

	while (has_waiters(e)) {
		w = TAILQ_FIRST(&e->waiters);
		unqueue(w);
		w->wake(w, ans);
		n++;
	}
	return n;
}

/* Answers a lookup that cannot be queued. */
static enum dnscache_result
refuse(struct dns_answer *out, enum dns_status status, const char *why)
{
	out->status = status;
	out->source = DNS_SRC_CACHE;
	out->ttl_s = 0;
	out->naddrs = 0;
	copy_error(out->error, sizeof(out->error), why);
	return DNSCACHE_HIT;
}

struct dnscache *
dnscache_new(void)
{
	struct dnscache *c = calloc(1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	for (i = 0; i < BUCKETS; i++)
		LIST_INIT(&c->buckets[i]);
	return c;
}

void
dnscache_free(struct dnscache *c)
{
	struct entry *e;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < BUCKETS; i++) {
		while ((e = LIST_FIRST(&c->buckets[i])) != NULL)
			drop(c, e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

enum dnscache_result
dnscache_lookup(struct dnscache *c, const char *name,
    const struct dnscache_policy *p, uint64_t now_ms,
    struct dnscache_waiter *w, struct dns_answer *out)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 1);
	enum dnscache_result r;
	struct entry *e;
	uint64_t until;

	assert(len <= DNS_NAME_MAX);
	if (len > DNS_NAME_MAX)
		return refuse(out, DNS_NOT_FOUND, "name too long");
	pthread_mutex_lock(&c->lock);
	assert(!w->queued);
	e = find(c, name);
	if (e != NULL && e->stored != STORED_NONE &&
	    now_ms < (until = expiry(e, p))) {
		if (e->stored == STORED_POSITIVE)
			c->stats.hits++;
		else
			c->stats.negative_hits++;
		answer_from(e, DNS_SRC_CACHE, seconds_left(until, now_ms), out);
		pthread_mutex_unlock(&c->lock);
		return DNSCACHE_HIT;
	}
	if (e == NULL && (e = create(c, name, len, p, now_ms)) == NULL) {
		pthread_mutex_unlock(&c->lock);
		return refuse(out, DNS_FAILURE, "out of memory");
	}
	if (e->in_flight) {
		c->stats.coalesced++;
		r = DNSCACHE_WAIT;
	} else {
		c->stats.misses++;
		e->in_flight = true;
		r = DNSCACHE_QUERY;
	}
	TAILQ_INSERT_BEFORE(&e->tail, w, link);
	w->queued = true;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/*
 * A query for e failed: wakes its waiters with the stale addresses if
 * there are some, else with ans. Keeps the stored answer while it may
 * still be of use.
 */
static size_t
complete_failed(struct dnscache *c, struct entry *e,
    const struct dns_answer *ans, const struct dnscache_policy *p,
    uint64_t now_ms)
{
	struct dns_answer stale;
	size_t n;

	if (e->stored == STORED_POSITIVE && p->stale_s > 0 &&
	    useful_until(e, p) > now_ms) {
		answer_from(e, DNS_SRC_STALE, 0, &stale);
		n = wake_all(e, &stale);
		c->stats.stale_served += n;
		return n;
	}
	if (e->stored != STORED_NONE && useful_until(e, p) <= now_ms)
		e->stored = STORED_NONE;
	return wake_all(e, ans);
}

size_t
dnscache_complete(struct dnscache *c, const char *name,
    const struct dns_answer *in, const struct dnscache_policy *p,
    uint64_t now_ms)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 1);
	struct dns_answer ans;
	struct entry *e;
	bool store;
	size_t n = 0;

	assert(len <= DNS_NAME_MAX);
	assert(in->status == DNS_OK || in->status == DNS_NOT_FOUND ||
	    in->status == DNS_TIMEOUT || in->status == DNS_FAILURE);
	if (len > DNS_NAME_MAX)
		return 0;
	ans = *in;
	ans.source = DNS_SRC_QUERY;
	ans.naddrs = bounded_naddrs(ans.naddrs);
	ans.error[sizeof(ans.error) - 1] = '\0';
	if (ans.status == DNS_OK && ans.naddrs == 0) {
		ans.status = DNS_NOT_FOUND;
		copy_error(ans.error, sizeof(ans.error), NO_ADDRS_ERROR);
	}

	pthread_mutex_lock(&c->lock);
	if (ans.status == DNS_TIMEOUT || ans.status == DNS_FAILURE)
		c->stats.failures++;
	e = find(c, name);
	store = e == NULL || !e->no_store;
	if (e == NULL && store && (ans.status == DNS_OK ||
	    (ans.status == DNS_NOT_FOUND && p->negative_ttl_s > 0)))
		e = create(c, name, len, p, now_ms);
	if (e == NULL) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	e->in_flight = false;
	e->no_store = false;
	if (!store) {
		e->stored = STORED_NONE;
		n = wake_all(e, &ans);
	} else if (ans.status == DNS_OK) {
		store_positive(e, &ans, now_ms);
		n = wake_all(e, &ans);
	} else if (ans.status == DNS_NOT_FOUND) {
		/* The name is gone: old addresses are of no use, even stale. */
		if (p->negative_ttl_s > 0)
			store_negative(e, ans.error, now_ms);
		else
			e->stored = STORED_NONE;
		n = wake_all(e, &ans);
	} else {
		n = complete_failed(c, e, &ans, p, now_ms);
	}
	drop_if_empty(c, e);
	pthread_mutex_unlock(&c->lock);
	return n;
}

bool
dnscache_cancel(struct dnscache *c, struct dnscache_waiter *w)
{
	bool was_queued;

	pthread_mutex_lock(&c->lock);
	if ((was_queued = w->queued))
		unqueue(w);
	pthread_mutex_unlock(&c->lock);
	return was_queued;
}

void
dnscache_retain(struct dnscache *c, bool servers_changed,
    bool (*keep)(const char *name, void *arg), void *arg)
{
	struct entry *e, *next;
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < BUCKETS; i++) {
		for (e = LIST_FIRST(&c->buckets[i]); e != NULL; e = next) {
			next = LIST_NEXT(e, link);
			if (e->in_flight) {
				if (servers_changed) {
					e->stored = STORED_NONE;
					e->no_store = true;
				}
			} else if (servers_changed ||
			    (keep != NULL && !keep(e->name, arg)))
				drop(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void
dnscache_stats(struct dnscache *c, struct dnscache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
