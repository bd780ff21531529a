/*
 * addrhealth — see addrhealth.h.
 *
 * Data structure: one block, allocated by addrhealth_new(), holding
 * ADDRHEALTH_MAX_ENTRIES entries and a chained hash table of 2 x that
 * many buckets. Chains and the free list link entries by index + 1 (0 is
 * the end), so calloc's zeroes are an empty table and nothing is
 * allocated after addrhealth_new(): recording a failure never fails.
 * Slots are handed out from a high-water mark before the free list is
 * used, so the pages of the block (about 1 MiB) are only touched as the
 * table fills.
 *
 * Key: family, port, address bytes (4 or 16) and, for IPv6, the scope id,
 * taken field by field from the sockaddr (never a memcmp of whole
 * sockaddrs: padding, sin_zero and sin6_flowinfo are not part of the
 * address). An IPv4 address and the IPv4-mapped IPv6 form of it are two
 * addresses. Families other than AF_INET and AF_INET6 are not addresses
 * here: they are never stored, always up and never sockaddr_same().
 *
 * What is stored: an address that failed (passively or by a health
 * check) or that a health check reported on. An entry that no health
 * check ever reported on is deleted by its next success, so in steady
 * state the table holds only troubled and health-checked addresses.
 *
 * Up and down: at a time now, an entry is down while now < down_until_ms.
 * A failure keeps its down_until_ms after the back-off has passed (the
 * address then counts as up again, but its consecutive failures keep
 * counting: a further failure doubles the back-off and is a new up-to-down
 * transition); only a success resets failures and down_until_ms to 0.
 * addrhealth_foreach() has no clock, so the up it reports is "no failure
 * since the last success" (failures == 0), and down_until_ms is reported
 * as 0 when up.
 *
 * changed_ms is when the address last went up or down: the failure that
 * took it down, the success that brought it back, or, for a success after
 * the back-off had already ended, the end of that back-off (when it went
 * up by itself). An entry created by a successful health check gets the
 * time of that check.
 *
 * Eviction, when all entries are in use and a new address must be
 * stored: the entry least worth keeping, that is an up (at the time of
 * the insertion) entry no health check reported on, else any entry; the
 * oldest changed_ms among those.
 *
 * Locking: one mutex around every operation; the rotation counter of
 * addrhealth_order() is a plain counter under that mutex. The counter is
 * shared by all lists, so successive calls for one list start at
 * successive up addresses only when no other list is ordered in between;
 * interleaved calls still spread evenly on average.
 */
#include <assert.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "addrhealth.h"

#define NBUCKETS (2 * ADDRHEALTH_MAX_ENTRIES) /* a power of two */
#define ORDER_MAX 64 /* most addresses addrhealth_order() reorders */
#define ERROR_SIZE sizeof(((struct addrhealth_info *)0)->last_error)

struct key {
	uint16_t family; /* AF_INET or AF_INET6 */
	uint16_t port;	 /* network byte order */
	uint32_t scope_id;
	uint8_t addr[16]; /* IPv4 in the first 4, the rest zero */
};

struct entry {
	struct key key;
	uint32_t next; /* index + 1 of the next in the chain or free list */
	bool used;
	bool checked; /* a health check reported on it */
	unsigned failures;
	uint64_t down_until_ms; /* 0 after a success */
	uint64_t changed_ms;
	enum addrhealth_source source;
	char last_error[ERROR_SIZE];
};

struct addrhealth {
	pthread_mutex_t lock;
	unsigned long rotation; /* addrhealth_order() calls */
	size_t count;		/* entries in use */
	uint32_t high_water;	/* entries[0..high_water) have been used */
	uint32_t free_head;	/* index + 1 of a released entry, or 0 */
	uint32_t buckets[NBUCKETS]; /* index + 1 of the first, or 0 */
	struct entry entries[ADDRHEALTH_MAX_ENTRIES];
};

struct addrhealth *
addrhealth_new(void)
{
	struct addrhealth *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void
addrhealth_free(struct addrhealth *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Fills k from sa. Returns false if sa is not an IPv4 or IPv6 address. */
static bool
key_from(const struct sockaddr *sa, struct key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		k->family = AF_INET;
		k->port = sin->sin_port;
		memcpy(k->addr, &sin->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		k->family = AF_INET6;
		k->port = sin6->sin6_port;
		k->scope_id = sin6->sin6_scope_id;
		memcpy(k->addr, &sin6->sin6_addr, 16);
		return true;
	}
	return false;
}

static bool
key_equal(const struct key *a, const struct key *b)
{
	return a->family == b->family && a->port == b->port &&
	    a->scope_id == b->scope_id &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* The sockaddr k was made from, less what is not part of the address. */
static void
key_to(const struct key *k, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (k->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = k->port;
		memcpy(&sin->sin_addr, k->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = k->port;
		sin6->sin6_scope_id = k->scope_id;
		memcpy(&sin6->sin6_addr, k->addr, 16);
	}
}

/* FNV-1a over the fields of k. */
static uint32_t
key_hash(const struct key *k)
{
	uint8_t buf[sizeof(k->family) + sizeof(k->port) +
	    sizeof(k->scope_id) + sizeof(k->addr)];
	uint32_t hash = 2166136261u;
	size_t off = 0;

	memcpy(buf + off, &k->family, sizeof(k->family));
	off += sizeof(k->family);
	memcpy(buf + off, &k->port, sizeof(k->port));
	off += sizeof(k->port);
	memcpy(buf + off, &k->scope_id, sizeof(k->scope_id));
	off += sizeof(k->scope_id);
	memcpy(buf + off, k->addr, sizeof(k->addr));
	for (size_t i = 0; i < sizeof(buf); i++) {
		hash ^= buf[i];
		hash *= 16777619u;
	}
	return hash;
}

static uint32_t *
bucket_of(struct addrhealth *h, const struct key *k)
{
	return &h->buckets[key_hash(k) & (NBUCKETS - 1)];
}

/* The entry for k, or NULL. Called locked. */
static struct entry *
lookup(struct addrhealth *h, const struct key *k)
{
	uint32_t i = *bucket_of(h, k);

	while (i != 0) {
		struct entry *e = &h->entries[i - 1];

		if (key_equal(&e->key, k))
			return e;
		i = e->next;
	}
	return NULL;
}

/* Unlinks e from its chain and puts it on the free list. Called locked. */
static void
release(struct addrhealth *h, struct entry *e)
{
	uint32_t idx = (uint32_t)(e - h->entries) + 1;
	uint32_t *link = bucket_of(h, &e->key);

	while (*link != idx) {
		assert(*link != 0);
		link = &h->entries[*link - 1].next;
	}
	*link = e->next;
	memset(e, 0, sizeof(*e));
	e->next = h->free_head;
	h->free_head = idx;
	h->count--;
}

/* Whether v is a better eviction victim than best at now_ms. */
static bool
better_victim(const struct entry *v, const struct entry *best,
    uint64_t now_ms)
{
	bool v_cheap = !v->checked && v->down_until_ms <= now_ms;
	bool best_cheap = !best->checked && best->down_until_ms <= now_ms;

	if (v_cheap != best_cheap)
		return v_cheap;
	return v->changed_ms < best->changed_ms;
}

/* Frees the entry least worth keeping. Called locked, with the table full. */
static void
evict(struct addrhealth *h, uint64_t now_ms)
{
	struct entry *victim = NULL;

	for (size_t i = 0; i < h->high_water; i++) {
		struct entry *e = &h->entries[i];

		if (e->used && (victim == NULL ||
		    better_victim(e, victim, now_ms)))
			victim = e;
	}
	assert(victim != NULL);
	release(h, victim);
}

/*
 * A new up entry for k (which is not stored), evicting another if the
 * table is full. Called locked. Never fails.
 */
static struct entry *
insert(struct addrhealth *h, const struct key *k, uint64_t now_ms)
{
	uint32_t *bucket;
	struct entry *e;

	if (h->count == ADDRHEALTH_MAX_ENTRIES)
		evict(h, now_ms);
	if (h->free_head != 0) {
		e = &h->entries[h->free_head - 1];
		h->free_head = e->next;
	} else {
		assert(h->high_water < ADDRHEALTH_MAX_ENTRIES);
		e = &h->entries[h->high_water++];
	}
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->used = true;
	bucket = bucket_of(h, k);
	e->next = *bucket;
	*bucket = (uint32_t)(e - h->entries) + 1;
	h->count++;
	return e;
}

/* min(backoff_ms << (failures - 1), backoff_max_ms), failures >= 1. */
static uint64_t
backoff(const struct addrhealth_policy *p, unsigned failures)
{
	unsigned shift = failures - 1;

	/* backoff_ms < 2^32, so a shift below 32 cannot overflow 64 bits. */
	if (shift >= 32 || ((uint64_t)p->backoff_ms << shift) >
	    p->backoff_max_ms)
		return p->backoff_ms == 0 ? 0 : p->backoff_max_ms;
	return (uint64_t)p->backoff_ms << shift;
}

/* Copies why into dst[size], truncated without splitting UTF-8. */
static void
copy_error(char *dst, size_t size, const char *why)
{
	size_t len;

	if (why == NULL)
		why = "";
	len = strnlen(why, size);
	if (len == size) {
		len = size - 1;
		/* why[len] is the first byte left out: not a continuation. */
		for (int i = 0; i < 3 && len > 0 &&
		    ((unsigned char)why[len] & 0xc0) == 0x80; i++)
			len--;
	}
	memcpy(dst, why, len);
	dst[len] = '\0';
}

bool
addrhealth_failed(struct addrhealth *h, const struct sockaddr *sa,
    enum addrhealth_source source, const char *why,
    const struct addrhealth_policy *p, uint64_t now_ms, uint64_t *until_ms)
{
	struct key k;
	struct entry *e;
	uint64_t pause_ms;
	bool was_up, down;

	if (!key_from(sa, &k)) {
		if (until_ms != NULL)
			*until_ms = now_ms;
		return false;
	}
	pthread_mutex_lock(&h->lock);
	if ((e = lookup(h, &k)) == NULL)
		e = insert(h, &k, now_ms);
	was_up = e->down_until_ms <= now_ms;
	if (e->failures < UINT_MAX)
		e->failures++;
	pause_ms = backoff(p, e->failures);
	e->down_until_ms = now_ms > UINT64_MAX - pause_ms ? UINT64_MAX :
	    now_ms + pause_ms;
	down = e->down_until_ms > now_ms;
	e->source = source;
	if (source == ADDRHEALTH_CHECK)
		e->checked = true;
	copy_error(e->last_error, sizeof(e->last_error), why);
	if (was_up && down)
		e->changed_ms = now_ms;
	if (until_ms != NULL)
		*until_ms = e->down_until_ms;
	pthread_mutex_unlock(&h->lock);
	return was_up && down;
}

bool
addrhealth_succeeded(struct addrhealth *h, const struct sockaddr *sa,
    enum addrhealth_source source, uint64_t now_ms)
{
	struct key k;
	struct entry *e;
	bool was_down = false;

	if (!key_from(sa, &k))
		return false;
	pthread_mutex_lock(&h->lock);
	e = lookup(h, &k);
	if (e == NULL) {
		if (source == ADDRHEALTH_CHECK) {
			e = insert(h, &k, now_ms);
			e->checked = true;
			e->source = ADDRHEALTH_CHECK;
			e->changed_ms = now_ms;
		}
	} else {
		was_down = e->down_until_ms > now_ms;
		if (was_down)
			e->changed_ms = now_ms;
		else if (e->failures > 0) /* up by itself when that ended */
			e->changed_ms = e->down_until_ms;
		e->failures = 0;
		e->down_until_ms = 0;
		e->source = source;
		if (source == ADDRHEALTH_CHECK)
			e->checked = true;
		if (!e->checked)
			release(h, e);
	}
	pthread_mutex_unlock(&h->lock);
	return was_down;
}

bool
addrhealth_is_up(struct addrhealth *h, const struct sockaddr *sa,
    uint64_t now_ms)
{
	struct key k;
	struct entry *e;
	bool up = true;

	if (!key_from(sa, &k))
		return true;
	pthread_mutex_lock(&h->lock);
	if ((e = lookup(h, &k)) != NULL)
		up = e->down_until_ms <= now_ms;
	pthread_mutex_unlock(&h->lock);
	return up;
}

/*
 * Sorts idx[0..n) by until[idx[]] ascending, keeping the given order of
 * ties (insertion sort: n is small).
 */
static void
sort_by_until(uint8_t *idx, size_t n, const uint64_t *until)
{
	for (size_t i = 1; i < n; i++) {
		uint8_t v = idx[i];
		size_t j = i;

		for (; j > 0 && until[idx[j - 1]] > until[v]; j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}
}

size_t
addrhealth_order(struct addrhealth *h, struct sockaddr_storage *addrs,
    size_t n, uint64_t now_ms)
{
	struct sockaddr_storage sorted[ORDER_MAX];
	uint64_t until[ORDER_MAX];
	uint8_t up[ORDER_MAX], down[ORDER_MAX];
	size_t nup = 0, ndown = 0, start = 0, out = 0;
	unsigned long turn;

	assert(n <= ORDER_MAX);
	if (n > ORDER_MAX)
		n = ORDER_MAX; /* without assertions: order the first ones */
	pthread_mutex_lock(&h->lock);
	turn = h->rotation++;
	for (size_t i = 0; i < n; i++) {
		struct key k;
		struct entry *e = NULL;

		if (key_from((const struct sockaddr *)&addrs[i], &k))
			e = lookup(h, &k);
		until[i] = e != NULL ? e->down_until_ms : 0;
		if (until[i] <= now_ms)
			up[nup++] = (uint8_t)i;
		else
			down[ndown++] = (uint8_t)i;
	}
	pthread_mutex_unlock(&h->lock);

	if (nup > 0)
		start = turn % nup;
	sort_by_until(down, ndown, until);
	for (size_t i = 0; i < nup; i++)
		sorted[out++] = addrs[up[(start + i) % nup]];
	for (size_t i = 0; i < ndown; i++)
		sorted[out++] = addrs[down[i]];
	if (n > 0)
		memcpy(addrs, sorted, n * sizeof(addrs[0]));
	return nup;
}

static void
fill_info(const struct entry *e, struct addrhealth_info *info)
{
	memset(info, 0, sizeof(*info));
	key_to(&e->key, &info->addr);
	info->up = e->failures == 0;
	info->failures = e->failures;
	info->down_until_ms = info->up ? 0 : e->down_until_ms;
	info->changed_ms = e->changed_ms;
	info->source = e->source;
	memcpy(info->last_error, e->last_error, sizeof(info->last_error));
}

void
addrhealth_foreach(struct addrhealth *h,
    void (*fn)(void *arg, const struct addrhealth_info *info), void *arg)
{
	struct addrhealth_info info;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->high_water; i++) {
		if (!h->entries[i].used)
			continue;
		fill_info(&h->entries[i], &info);
		fn(arg, &info);
	}
	pthread_mutex_unlock(&h->lock);
}

