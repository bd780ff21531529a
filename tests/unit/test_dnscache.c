/*
 * Unit tests for dnscache: hits and their TTL left, clamping at read
 * time, negative entries, coalescing and FIFO wake order, stale answers
 * at the edges of their window, cancel, retain after a reload, eviction
 * when full, and many threads queueing, cancelling and completing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnscache.h"

/* A caller's query object with its waiter embedded. */
struct tw {
	struct dnscache_waiter w;
	int woken;
	int order;	/* wake sequence number, from 1 */
	bool queued_in_wake;
	struct dns_answer ans;
};

static int wake_seq;

static void
tw_wake(struct dnscache_waiter *w, const struct dns_answer *ans)
{
	struct tw *t = (struct tw *)w;

	t->woken++;
	t->order = ++wake_seq;
	t->queued_in_wake = w->queued;
	t->ans = *ans;
}

static void
tw_init(struct tw *t)
{
	memset(t, 0, sizeof(*t));
	t->w.wake = tw_wake;
}

static const struct dnscache_policy pol = {
	.min_ttl_s = 0,
	.max_ttl_s = 3600,
	.negative_ttl_s = 60,
	.stale_s = 30,
};

static struct sockaddr_storage
addr(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return ss;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		fail_msg("bad test address %s", ip);
	sin6->sin6_family = AF_INET6;
	return ss;
}

/* An OK answer with n addresses 192.0.2.(base+i), odd ones IPv6. */
static struct dns_answer
ok_answer(size_t n, unsigned base, unsigned ttl_s)
{
	struct dns_answer a;
	char ip[64];
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = DNS_OK;
	a.source = DNS_SRC_CACHE; /* ignored by complete */
	a.ttl_s = ttl_s;
	a.naddrs = n;
	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			snprintf(ip, sizeof(ip), "192.0.2.%u",
			    base + (unsigned)i);
		else
			snprintf(ip, sizeof(ip), "2001:db8::%u",
			    base + (unsigned)i);
		a.addrs[i] = addr(ip);
	}
	return a;
}

static struct dns_answer
err_answer(enum dns_status status, const char *why)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.source = DNS_SRC_STALE; /* ignored by complete */
	snprintf(a.error, sizeof(a.error), "%s", why);
	return a;
}

static void
assert_addrs(const struct dns_answer *got, const struct dns_answer *want)
{
	assert_int_equal(got->naddrs, want->naddrs);
	assert_memory_equal(got->addrs, want->addrs,
	    want->naddrs * sizeof(want->addrs[0]));
}

static struct dnscache_stats
stats(struct dnscache *c)
{
	struct dnscache_stats s;

	dnscache_stats(c, &s);
	return s;
}

static enum dnscache_result
lookup(struct dnscache *c, const char *name, const struct dnscache_policy *p,
    uint64_t now, struct tw *t, struct dns_answer *out)
{
	return dnscache_lookup(c, name, p, now, &t->w, out);
}

/* Caches ans for name at now through a lookup and complete. */
static void
prime(struct dnscache *c, const char *name, const struct dns_answer *ans,
    const struct dnscache_policy *p, uint64_t now)
{
	struct tw t;
	struct dns_answer out;

	tw_init(&t);
	assert_int_equal(lookup(c, name, p, now, &t, &out), DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, name, ans, p, now), 1);
	assert_int_equal(t.woken, 1);
}

/* Asserts name is a positive hit at now with ttl_s left. */
static void
assert_hit(struct dnscache *c, const char *name,
    const struct dnscache_policy *p, uint64_t now,
    const struct dns_answer *want, unsigned ttl_s)
{
	struct tw t;
	struct dns_answer out;

	tw_init(&t);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(lookup(c, name, p, now, &t, &out), DNSCACHE_HIT);
	assert_false(t.w.queued);
	assert_int_equal(out.status, DNS_OK);
	assert_int_equal(out.source, DNS_SRC_CACHE);
	assert_int_equal(out.ttl_s, ttl_s);
	assert_addrs(&out, want);
}

/* Asserts name misses at now; completes the query with a failure. */
static void
assert_miss(struct dnscache *c, const char *name,
    const struct dnscache_policy *p, uint64_t now)
{
	struct tw t;
	struct dns_answer out, fail = err_answer(DNS_FAILURE, "test");
	struct dnscache_policy nostale = *p;

	nostale.stale_s = 0;
	tw_init(&t);
	assert_int_equal(lookup(c, name, p, now, &t, &out), DNSCACHE_QUERY);
	assert_true(t.w.queued);
	assert_true(dnscache_cancel(c, &t.w));
	dnscache_complete(c, name, &fail, &nostale, now);
}

static void
test_new_free(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dnscache_stats s;

	assert_non_null(c);
	s = stats(c);
	assert_int_equal(s.hits, 0);
	assert_int_equal(s.negative_hits, 0);
	assert_int_equal(s.misses, 0);
	assert_int_equal(s.coalesced, 0);
	assert_int_equal(s.stale_served, 0);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.entries, 0);
	dnscache_free(c);
	dnscache_free(NULL);
}

static void
test_coalesce_fifo(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(3, 10, 30);
	struct tw t[4];
	int i;

	wake_seq = 0;
	for (i = 0; i < 4; i++)
		tw_init(&t[i]);
	assert_int_equal(lookup(c, "a.example", &pol, 1000, &t[0], &out),
	    DNSCACHE_QUERY);
	assert_true(t[0].w.queued);
	assert_int_equal(lookup(c, "a.example", &pol, 1001, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(lookup(c, "a.example", &pol, 1002, &t[2], &out),
	    DNSCACHE_WAIT);
	/* Another name is its own query. */
	assert_int_equal(lookup(c, "b.example", &pol, 1002, &t[3], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(stats(c).misses, 2);
	assert_int_equal(stats(c).coalesced, 2);
	assert_int_equal(stats(c).entries, 2);

	assert_int_equal(dnscache_complete(c, "a.example", &ans, &pol, 1500),
	    3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(t[i].woken, 1);
		assert_int_equal(t[i].order, i + 1);
		assert_false(t[i].queued_in_wake);
		assert_false(t[i].w.queued);
		assert_int_equal(t[i].ans.status, DNS_OK);
		assert_int_equal(t[i].ans.source, DNS_SRC_QUERY);
		assert_int_equal(t[i].ans.ttl_s, 30);
		assert_addrs(&t[i].ans, &ans);
	}
	assert_int_equal(t[3].woken, 0);
	assert_true(t[3].w.queued);
	/* Nothing left to wake for a. */
	assert_int_equal(dnscache_complete(c, "a.example", &ans, &pol, 1500),
	    0);
	assert_int_equal(dnscache_complete(c, "b.example", &ans, &pol, 1500),
	    1);
	assert_int_equal(t[3].order, 4);
	assert_int_equal(stats(c).failures, 0);
	dnscache_free(c);
}

static void
test_hit_ttl_left(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer ans = ok_answer(DNS_MAX_ADDRS, 1, 30);

	prime(c, "a.example", &ans, &pol, 1000);
	assert_hit(c, "a.example", &pol, 1000, &ans, 30);
	assert_hit(c, "a.example", &pol, 1500, &ans, 30);   /* 29.5 s */
	assert_hit(c, "a.example", &pol, 2000, &ans, 29);
	assert_hit(c, "a.example", &pol, 2001, &ans, 29);   /* 28.999 s */
	assert_hit(c, "a.example", &pol, 30000, &ans, 1);
	assert_hit(c, "a.example", &pol, 30999, &ans, 1);   /* 1 ms */
	assert_int_equal(stats(c).hits, 6);
	assert_int_equal(stats(c).misses, 1);
	/* Exactly at fetched + ttl it is no longer fresh. */
	assert_miss(c, "a.example", &pol, 31000);
	assert_int_equal(stats(c).hits, 6);
	assert_int_equal(stats(c).misses, 2);
	dnscache_free(c);
}

static void
test_longest_name(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer ans = ok_answer(1, 1, 30);
	char name[DNS_NAME_MAX + 1];

	memset(name, 'a', DNS_NAME_MAX);
	name[DNS_NAME_MAX] = '\0';
	prime(c, name, &ans, &pol, 0);
	assert_hit(c, name, &pol, 0, &ans, 30);
	/* Exact comparison: one character less is another name. */
	name[DNS_NAME_MAX - 1] = '\0';
	assert_miss(c, name, &pol, 0);
	dnscache_free(c);
}

static void
test_clamp_at_read_time(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer shortttl = ok_answer(1, 1, 5);
	struct dns_answer longttl = ok_answer(2, 5, 1000);
	struct dnscache_policy raise = pol, lower = pol;

	raise.min_ttl_s = 10;
	lower.max_ttl_s = 60;

	/* Stored with the old policy, raised by the new minimum. */
	prime(c, "short.example", &shortttl, &pol, 0);
	assert_hit(c, "short.example", &pol, 4999, &shortttl, 1);
	assert_hit(c, "short.example", &raise, 5000, &shortttl, 5);
	assert_hit(c, "short.example", &raise, 9999, &shortttl, 1);
	assert_miss(c, "short.example", &raise, 10000);

	/* Lowered by the new maximum. */
	prime(c, "long.example", &longttl, &pol, 0);
	assert_hit(c, "long.example", &pol, 0, &longttl, 1000);
	assert_hit(c, "long.example", &lower, 0, &longttl, 60);
	assert_hit(c, "long.example", &lower, 59999, &longttl, 1);
	assert_hit(c, "long.example", &pol, 60000, &longttl, 940);
	assert_miss(c, "long.example", &lower, 60000);

	/* max_ttl_s 0: nothing positive is ever fresh. */
	lower.max_ttl_s = 0;
	lower.min_ttl_s = 0;
	prime(c, "zero.example", &longttl, &lower, 0);
	assert_miss(c, "zero.example", &lower, 0);
	dnscache_free(c);
}

static void
test_negative(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, nx = err_answer(DNS_NOT_FOUND, "NXDOMAIN");
	struct dnscache_policy noneg = pol;
	struct tw t[2];

	tw_init(&t[0]);
	tw_init(&t[1]);
	assert_int_equal(lookup(c, "nx.example", &pol, 0, &t[0], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(lookup(c, "nx.example", &pol, 0, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(dnscache_complete(c, "nx.example", &nx, &pol, 1000),
	    2);
	assert_int_equal(t[1].ans.status, DNS_NOT_FOUND);
	assert_int_equal(t[1].ans.source, DNS_SRC_QUERY);
	assert_string_equal(t[1].ans.error, "NXDOMAIN");
	assert_int_equal(stats(c).entries, 1);

	tw_init(&t[0]);
	memset(&out, 0, sizeof(out));
	assert_int_equal(lookup(c, "nx.example", &pol, 1000, &t[0], &out),
	    DNSCACHE_HIT);
	assert_false(t[0].w.queued);
	assert_int_equal(out.status, DNS_NOT_FOUND);
	assert_int_equal(out.source, DNS_SRC_CACHE);
	assert_string_equal(out.error, "NXDOMAIN");
	assert_int_equal(out.naddrs, 0);
	assert_int_equal(out.ttl_s, 60);
	assert_int_equal(lookup(c, "nx.example", &pol, 60999, &t[0], &out),
	    DNSCACHE_HIT);
	assert_int_equal(out.ttl_s, 1);
	assert_int_equal(stats(c).negative_hits, 2);
	assert_int_equal(stats(c).hits, 0);
	assert_int_equal(stats(c).failures, 0);
	/* negative_ttl_s is read at each call. */
	noneg.negative_ttl_s = 0;
	assert_miss(c, "nx.example", &noneg, 1000);
	/* Expired at exactly fetched + negative_ttl_s. */
	prime(c, "nx.example", &nx, &pol, 1000);
	assert_miss(c, "nx.example", &pol, 61000);
	assert_int_equal(stats(c).negative_hits, 2);

	/* negative_ttl_s 0: not stored. */
	prime(c, "nx2.example", &nx, &noneg, 0);
	assert_int_equal(stats(c).entries, 0);
	assert_miss(c, "nx2.example", &noneg, 0);
	dnscache_free(c);
}

static void
test_ok_without_addrs(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, empty = ok_answer(0, 0, 300);
	struct tw t;

	tw_init(&t);
	assert_int_equal(lookup(c, "v6only.example", &pol, 0, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "v6only.example", &empty, &pol,
	    0), 1);
	assert_int_equal(t.ans.status, DNS_NOT_FOUND);
	assert_int_equal(t.ans.source, DNS_SRC_QUERY);
	assert_string_equal(t.ans.error, "no A or AAAA records");
	tw_init(&t);
	assert_int_equal(lookup(c, "v6only.example", &pol, 59999, &t, &out),
	    DNSCACHE_HIT);
	assert_int_equal(out.status, DNS_NOT_FOUND);
	assert_string_equal(out.error, "no A or AAAA records");
	assert_int_equal(out.ttl_s, 1);
	assert_int_equal(stats(c).negative_hits, 1);
	assert_int_equal(stats(c).hits, 0);
	dnscache_free(c);
}

static void
test_negative_replaces_positive(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(2, 1, 10);
	struct dns_answer nx = err_answer(DNS_NOT_FOUND, "NXDOMAIN");
	struct dns_answer fail = err_answer(DNS_TIMEOUT, "timed out");
	struct dnscache_policy noneg = pol, shortneg = pol;
	struct tw t;

	noneg.negative_ttl_s = 0;
	shortneg.negative_ttl_s = 5;
	prime(c, "gone.example", &ans, &shortneg, 0);
	prime(c, "gone.example", &nx, &shortneg, 10000);
	/* Past the negative TTL but inside the old answer's stale window
	 * (until 40000): the old addresses are gone. */
	tw_init(&t);
	assert_int_equal(lookup(c, "gone.example", &shortneg, 15000, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "gone.example", &fail, &shortneg,
	    15000), 1);
	assert_int_equal(t.ans.status, DNS_TIMEOUT);
	assert_int_equal(stats(c).stale_served, 0);

	/* Not stored, but the old addresses are dropped all the same. */
	prime(c, "gone2.example", &ans, &pol, 0);
	prime(c, "gone2.example", &nx, &noneg, 10000);
	assert_int_equal(stats(c).entries, 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "gone2.example", &pol, 10000, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "gone2.example", &fail, &pol,
	    10000), 1);
	assert_int_equal(t.ans.status, DNS_TIMEOUT);
	assert_int_equal(stats(c).stale_served, 0);
	dnscache_free(c);
}

static void
test_stale(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(3, 20, 10);
	struct dns_answer tmo = err_answer(DNS_TIMEOUT, "no answer in 2000 ms");
	struct dns_answer fail = err_answer(DNS_FAILURE, "SERVFAIL");
	struct tw t[3];
	int i;

	prime(c, "s.example", &ans, &pol, 0);
	/* Expired at 10000; stale until 40000 (exclusive). */
	wake_seq = 0;
	for (i = 0; i < 3; i++)
		tw_init(&t[i]);
	assert_int_equal(lookup(c, "s.example", &pol, 10000, &t[0], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(lookup(c, "s.example", &pol, 20000, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(lookup(c, "s.example", &pol, 30000, &t[2], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(dnscache_complete(c, "s.example", &tmo, &pol, 39999),
	    3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(t[i].woken, 1);
		assert_int_equal(t[i].order, i + 1);
		assert_int_equal(t[i].ans.status, DNS_OK);
		assert_int_equal(t[i].ans.source, DNS_SRC_STALE);
		assert_int_equal(t[i].ans.ttl_s, 0);
		assert_addrs(&t[i].ans, &ans);
	}
	assert_int_equal(stats(c).stale_served, 3);
	assert_int_equal(stats(c).failures, 1);
	assert_int_equal(stats(c).entries, 1);

	/* The old data was kept, but is not fresh: another miss... */
	tw_init(&t[0]);
	assert_int_equal(lookup(c, "s.example", &pol, 39999, &t[0], &out),
	    DNSCACHE_QUERY);
	/* ... which fails exactly at the end of the window. */
	assert_int_equal(dnscache_complete(c, "s.example", &fail, &pol, 40000),
	    1);
	assert_int_equal(t[0].ans.status, DNS_FAILURE);
	assert_int_equal(t[0].ans.source, DNS_SRC_QUERY);
	assert_string_equal(t[0].ans.error, "SERVFAIL");
	assert_int_equal(stats(c).stale_served, 3);
	assert_int_equal(stats(c).failures, 2);
	/* Past its window, the old data is dropped. */
	assert_int_equal(stats(c).entries, 0);
	assert_int_equal(stats(c).hits, 0);
	dnscache_free(c);
}

static void
test_stale_window_uses_policy(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(1, 7, 10);
	struct dns_answer ans100 = ok_answer(1, 9, 100);
	struct dns_answer fail = err_answer(DNS_FAILURE, "REFUSED");
	struct dnscache_policy nostale = pol, longstale = pol, lower = pol;
	struct tw t;

	nostale.stale_s = 0;
	longstale.stale_s = 100;
	lower.max_ttl_s = 10;

	/* stale_s 0: the error, and the expired data is dropped. */
	prime(c, "a.example", &ans, &pol, 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "a.example", &nostale, 10000, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "a.example", &fail, &nostale,
	    10000), 1);
	assert_int_equal(t.ans.status, DNS_FAILURE);
	assert_string_equal(t.ans.error, "REFUSED");
	assert_int_equal(stats(c).stale_served, 0);
	assert_int_equal(stats(c).entries, 0);

	/* The window is read from the policy of the complete call. */
	prime(c, "b.example", &ans, &pol, 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "b.example", &pol, 50000, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "b.example", &fail, &longstale,
	    109999), 1);
	assert_int_equal(t.ans.status, DNS_OK);
	assert_int_equal(t.ans.source, DNS_SRC_STALE);
	assert_addrs(&t.ans, &ans);
	assert_int_equal(stats(c).stale_served, 1);

	/* Data still fresh under the complete call's policy is kept even
	 * with stale_s 0, and hits again. */
	prime(c, "c.example", &ans100, &pol, 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "c.example", &lower, 20000, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "c.example", &fail, &nostale,
	    20000), 1);
	assert_int_equal(t.ans.status, DNS_FAILURE);
	assert_int_equal(stats(c).stale_served, 1);
	assert_hit(c, "c.example", &pol, 20000, &ans100, 80);
	dnscache_free(c);
}

static void
test_failure_not_cached(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, tmo = err_answer(DNS_TIMEOUT, "timeout");
	struct tw t;

	tw_init(&t);
	assert_int_equal(lookup(c, "f.example", &pol, 0, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(dnscache_complete(c, "f.example", &tmo, &pol, 0), 1);
	assert_int_equal(t.ans.status, DNS_TIMEOUT);
	assert_int_equal(t.ans.source, DNS_SRC_QUERY);
	assert_string_equal(t.ans.error, "timeout");
	assert_int_equal(stats(c).entries, 0);
	assert_int_equal(stats(c).failures, 1);
	tw_init(&t);
	assert_int_equal(lookup(c, "f.example", &pol, 1, &t, &out),
	    DNSCACHE_QUERY);
	assert_int_equal(stats(c).misses, 2);
	assert_true(dnscache_cancel(c, &t.w));
	assert_int_equal(dnscache_complete(c, "f.example", &tmo, &pol, 1), 0);
	dnscache_free(c);
}

static void
test_cancel(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(1, 1, 60);
	struct tw t[5], never;
	int i;

	wake_seq = 0;
	for (i = 0; i < 5; i++)
		tw_init(&t[i]);
	tw_init(&never);
	assert_false(dnscache_cancel(c, &never.w));
	assert_int_equal(lookup(c, "c.example", &pol, 0, &t[0], &out),
	    DNSCACHE_QUERY);
	for (i = 1; i < 5; i++)
		assert_int_equal(lookup(c, "c.example", &pol, 0, &t[i], &out),
		    DNSCACHE_WAIT);
	/* The middle, the last and the first. */
	assert_true(dnscache_cancel(c, &t[2].w));
	assert_false(t[2].w.queued);
	assert_false(dnscache_cancel(c, &t[2].w));
	assert_true(dnscache_cancel(c, &t[4].w));
	assert_true(dnscache_cancel(c, &t[0].w));
	/* A cancelled waiter may queue again, at the end. */
	assert_int_equal(lookup(c, "c.example", &pol, 0, &t[4], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(dnscache_complete(c, "c.example", &ans, &pol, 0), 3);
	assert_int_equal(t[0].woken, 0);
	assert_int_equal(t[2].woken, 0);
	assert_int_equal(t[1].order, 1);
	assert_int_equal(t[3].order, 2);
	assert_int_equal(t[4].order, 3);
	for (i = 0; i < 5; i++)
		assert_false(dnscache_cancel(c, &t[i].w));
	assert_int_equal(t[1].woken, 1);

	/* Every waiter cancelled: the query's answer is still stored. */
	tw_init(&t[0]);
	tw_init(&t[1]);
	assert_int_equal(lookup(c, "d.example", &pol, 0, &t[0], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(lookup(c, "d.example", &pol, 0, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_true(dnscache_cancel(c, &t[1].w));
	assert_true(dnscache_cancel(c, &t[0].w));
	/* Still in flight: a new waiter coalesces. */
	tw_init(&t[2]);
	assert_int_equal(lookup(c, "d.example", &pol, 0, &t[2], &out),
	    DNSCACHE_WAIT);
	assert_true(dnscache_cancel(c, &t[2].w));
	assert_int_equal(dnscache_complete(c, "d.example", &ans, &pol, 0), 0);
	assert_int_equal(t[0].woken + t[1].woken + t[2].woken, 0);
	assert_hit(c, "d.example", &pol, 0, &ans, 60);
	dnscache_free(c);
}

static int freed;

static void
free_wake(struct dnscache_waiter *w, const struct dns_answer *ans)
{
	/* The owner may let go of its query object at once (ASan checks). */
	free(w);
	freed++;
}

static void
test_waiter_freed_in_wake(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(1, 1, 60);
	struct dnscache_waiter *w;
	int i;

	freed = 0;
	for (i = 0; i < 3; i++) {
		w = calloc(1, sizeof(*w));
		assert_non_null(w);
		w->wake = free_wake;
		assert_int_equal(dnscache_lookup(c, "x.example", &pol, 0, w,
		    &out), i == 0 ? DNSCACHE_QUERY : DNSCACHE_WAIT);
	}
	assert_int_equal(dnscache_complete(c, "x.example", &ans, &pol, 0), 3);
	assert_int_equal(freed, 3);
	dnscache_free(c);
}

static void
test_complete_without_query(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer ans = ok_answer(2, 3, 60);
	struct dns_answer nx = err_answer(DNS_NOT_FOUND, "NXDOMAIN");
	struct dns_answer fail = err_answer(DNS_FAILURE, "SERVFAIL");
	struct dns_answer out;
	struct tw t;

	assert_int_equal(dnscache_complete(c, "u.example", &fail, &pol, 0), 0);
	assert_int_equal(stats(c).failures, 1);
	assert_int_equal(stats(c).entries, 0);
	assert_int_equal(dnscache_complete(c, "u.example", &ans, &pol, 0), 0);
	assert_int_equal(stats(c).entries, 1);
	assert_hit(c, "u.example", &pol, 1000, &ans, 59);
	assert_int_equal(dnscache_complete(c, "n.example", &nx, &pol, 0), 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "n.example", &pol, 0, &t, &out),
	    DNSCACHE_HIT);
	assert_int_equal(out.status, DNS_NOT_FOUND);
	/* A failure for a cached name leaves the entry alone. */
	assert_int_equal(dnscache_complete(c, "u.example", &fail, &pol, 2000),
	    0);
	assert_hit(c, "u.example", &pol, 2000, &ans, 58);
	assert_int_equal(stats(c).stale_served, 0);
	assert_int_equal(stats(c).misses, 0);
	dnscache_free(c);
}

static void
test_retain_servers_changed(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(2, 1, 10);
	struct dns_answer fresh = ok_answer(1, 50, 300);
	struct dns_answer tmo = err_answer(DNS_TIMEOUT, "timeout");
	struct dnscache_policy lower = pol;
	struct tw t[3];
	int i;

	lower.max_ttl_s = 10;
	prime(c, "cached.example", &ans, &pol, 0);
	prime(c, "stale.example", &ans, &pol, 0);
	for (i = 0; i < 3; i++)
		tw_init(&t[i]);
	assert_int_equal(lookup(c, "flight.example", &pol, 0, &t[0], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(lookup(c, "stale.example", &pol, 10000, &t[2], &out),
	    DNSCACHE_QUERY);
	assert_int_equal(stats(c).entries, 3);

	dnscache_retain(c, true, NULL, NULL);
	assert_int_equal(stats(c).entries, 2);
	assert_miss(c, "cached.example", &pol, 1);

	/* The query in flight still coalesces and wakes... */
	assert_int_equal(lookup(c, "flight.example", &pol, 1, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(dnscache_complete(c, "flight.example", &fresh, &pol,
	    2), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(t[i].woken, 1);
		assert_int_equal(t[i].ans.status, DNS_OK);
		assert_int_equal(t[i].ans.source, DNS_SRC_QUERY);
		assert_addrs(&t[i].ans, &fresh);
	}
	/* ... but its answer is not stored. */
	tw_init(&t[0]);
	assert_int_equal(lookup(c, "flight.example", &pol, 3, &t[0], &out),
	    DNSCACHE_QUERY);
	/* This query was started after the reload: stored. */
	assert_int_equal(dnscache_complete(c, "flight.example", &fresh, &pol,
	    3), 1);
	assert_hit(c, "flight.example", &pol, 3, &fresh, 300);

	/* The old addresses of a name in flight are not served stale. */
	assert_int_equal(dnscache_complete(c, "stale.example", &tmo, &pol,
	    10000), 1);
	assert_int_equal(t[2].ans.status, DNS_TIMEOUT);
	assert_int_equal(stats(c).stale_served, 0);
	assert_int_equal(stats(c).entries, 1);

	/*
	 * The data of a name in flight is dropped too: not served even
	 * when fresh again under another policy.
	 */
	prime(c, "long.example", &fresh, &pol, 0);
	tw_init(&t[0]);
	assert_int_equal(lookup(c, "long.example", &lower, 20000, &t[0], &out),
	    DNSCACHE_QUERY);
	dnscache_retain(c, true, NULL, NULL);
	tw_init(&t[1]);
	assert_int_equal(lookup(c, "long.example", &pol, 20000, &t[1], &out),
	    DNSCACHE_WAIT);
	assert_int_equal(dnscache_complete(c, "long.example", &tmo, &pol,
	    20000), 2);
	assert_int_equal(t[1].ans.status, DNS_TIMEOUT);
	assert_int_equal(stats(c).entries, 0);
	dnscache_free(c);
}

static bool
keep_not_b(const char *name, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return name[0] != 'b';
}

static void
test_retain_keep(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(1, 1, 60);
	struct dns_answer ans2 = ok_answer(2, 9, 60);
	struct tw t;
	int calls = 0;

	prime(c, "a.example", &ans, &pol, 0);
	prime(c, "b.example", &ans, &pol, 0);
	prime(c, "bb.example", &ans, &pol, 0);
	tw_init(&t);
	assert_int_equal(lookup(c, "b-flight.example", &pol, 0, &t, &out),
	    DNSCACHE_QUERY);

	/* Nothing changed, keep everything. */
	dnscache_retain(c, false, NULL, NULL);
	assert_int_equal(stats(c).entries, 4);

	dnscache_retain(c, false, keep_not_b, &calls);
	assert_int_equal(calls, 3); /* not asked about the one in flight */
	assert_int_equal(stats(c).entries, 2);
	assert_hit(c, "a.example", &pol, 1000, &ans, 59);
	assert_miss(c, "b.example", &pol, 1000);
	assert_miss(c, "bb.example", &pol, 1000);
	/* The query in flight completes and is stored as usual. */
	assert_int_equal(dnscache_complete(c, "b-flight.example", &ans2, &pol,
	    1000), 1);
	assert_int_equal(t.ans.source, DNS_SRC_QUERY);
	assert_hit(c, "b-flight.example", &pol, 1000, &ans2, 60);
	dnscache_free(c);
}

static void
name_of(char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "host-%u.example", i);
}

static void
test_evict_oldest(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer ans = ok_answer(1, 1, 3600);
	char name[64];
	unsigned i;

	for (i = 0; i < DNSCACHE_MAX_ENTRIES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(dnscache_complete(c, name, &ans, &pol,
		    1000 + i), 0);
	}
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES);
	/* A new name drops host-0, fetched longest ago. */
	prime(c, "new.example", &ans, &pol, 100000);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES);
	assert_hit(c, "new.example", &pol, 100000, &ans, 3600);
	assert_hit(c, "host-1.example", &pol, 100000, &ans, 3502);
	assert_hit(c, "host-4095.example", &pol, 100000, &ans, 3506);
	/* host-0 is a miss, whose entry drops host-1. */
	assert_miss(c, "host-0.example", &pol, 100000);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES - 1);
	assert_hit(c, "host-2.example", &pol, 100000, &ans, 3502);
	assert_miss(c, "host-1.example", &pol, 100000);
	assert_int_equal(stats(c).hits, 4);
	dnscache_free(c);
}

static void
test_evict_expired_first(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer longttl = ok_answer(1, 1, 3600);
	struct dns_answer shortttl = ok_answer(1, 2, 10);
	struct dns_answer nx = err_answer(DNS_NOT_FOUND, "NXDOMAIN");
	struct dns_answer out;
	struct tw t;
	char name[64];
	unsigned i;

	/*
	 * The oldest entry is fresh for long. Odd hosts are positive, of
	 * use until 1000 + i + 40000; even ones negative, until
	 * 1000 + i + 60000: host-4094 is the last, until 65094.
	 */
	prime(c, "old.example", &longttl, &pol, 0);
	for (i = 1; i < DNSCACHE_MAX_ENTRIES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(dnscache_complete(c, name,
		    i % 2 ? &shortttl : &nx, &pol, 1000 + i), 0);
	}
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES);
	prime(c, "new.example", &longttl, &pol, 65093);
	assert_int_equal(stats(c).entries, 3);
	tw_init(&t);
	assert_int_equal(lookup(c, "host-4094.example", &pol, 65093, &t,
	    &out), DNSCACHE_HIT);
	assert_int_equal(out.status, DNS_NOT_FOUND);
	assert_hit(c, "old.example", &pol, 65093, &longttl, 3535);
	assert_hit(c, "new.example", &pol, 65093, &longttl, 3600);

	/* Refill; at 65094 host-4094 is past use too. */
	for (i = 1; stats(c).entries < DNSCACHE_MAX_ENTRIES; i++) {
		name_of(name, sizeof(name), i);
		dnscache_complete(c, name, i % 2 ? &shortttl : &nx, &pol,
		    1000 + i);
	}
	prime(c, "new2.example", &longttl, &pol, 65094);
	assert_int_equal(stats(c).entries, 3);
	assert_miss(c, "host-4094.example", &pol, 65094);
	assert_hit(c, "old.example", &pol, 65094, &longttl, 3535);
	assert_hit(c, "new.example", &pol, 65094, &longttl, 3600);
	dnscache_free(c);
}

static void
test_evict_keeps_in_flight(void **state)
{
	struct dnscache *c = dnscache_new();
	struct dns_answer out, ans = ok_answer(1, 1, 3600);
	struct tw *t = calloc(DNSCACHE_MAX_ENTRIES + 1, sizeof(*t));
	char name[64];
	unsigned i;

	assert_non_null(t);
	prime(c, "cached.example", &ans, &pol, 0);
	for (i = 0; i < DNSCACHE_MAX_ENTRIES; i++) {
		tw_init(&t[i]);
		name_of(name, sizeof(name), i);
		assert_int_equal(lookup(c, name, &pol, 1000, &t[i], &out),
		    DNSCACHE_QUERY);
		/* The last one pushed out the one cached entry. */
		assert_int_equal(stats(c).entries,
		    i < DNSCACHE_MAX_ENTRIES - 1 ? i + 2 :
		    DNSCACHE_MAX_ENTRIES);
	}
	assert_miss(c, "cached.example", &pol, 1000);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES);
	/* All in flight: the table grows rather than refuse. */
	tw_init(&t[i]);
	assert_int_equal(lookup(c, "one-more.example", &pol, 1000, &t[i],
	    &out), DNSCACHE_QUERY);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES + 1);
	for (i = 0; i < DNSCACHE_MAX_ENTRIES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(dnscache_complete(c, name, &ans, &pol, 2000),
		    1);
		assert_int_equal(t[i].woken, 1);
	}
	assert_int_equal(dnscache_complete(c, "one-more.example", &ans, &pol,
	    2000), 1);
	assert_int_equal(t[i].woken, 1);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES + 1);
	/* The next new name brings it back to the limit. */
	prime(c, "last.example", &ans, &pol, 3000);
	assert_int_equal(stats(c).entries, DNSCACHE_MAX_ENTRIES);
	free(t);
	dnscache_free(c);
}

/* Many threads: every queued waiter woken or cancelled exactly once. */

#define THREADS 8
#define ROUNDS 20000
#define NAMES 4

struct mtw {
	struct dnscache_waiter w;
	atomic_int wakes;
	struct dns_answer ans;
};

static struct {
	struct dnscache *c;
	atomic_ullong now;
	atomic_ulong queued, woken, cancelled, completed_woken, hits;
	atomic_ulong stale, completes;
	atomic_ulong errors;
} mt;

static void
mt_wake(struct dnscache_waiter *w, const struct dns_answer *ans)
{
	struct mtw *m = (struct mtw *)w;

	if (w->queued)
		atomic_fetch_add(&mt.errors, 1);
	if (ans->status == DNS_OK && (ans->naddrs == 0 ||
	    ans->naddrs > DNS_MAX_ADDRS))
		atomic_fetch_add(&mt.errors, 1);
	m->ans = *ans;
	if (ans->source == DNS_SRC_STALE)
		atomic_fetch_add(&mt.stale, 1);
	atomic_fetch_add(&mt.woken, 1);
	/* Last: the owner may reuse m as soon as it sees this. */
	atomic_fetch_add(&m->wakes, 1);
}

static const char *const mt_names[NAMES] = {
	"a.example", "b.example", "c.example", "d.example",
};

static void
mt_complete(const char *name, unsigned r, const struct dnscache_policy *p)
{
	struct dns_answer a;
	uint64_t now = atomic_load(&mt.now);
	size_t n;

	switch (r % 4) {
	case 0:
	case 1:
		a = ok_answer(1 + r % DNS_MAX_ADDRS, 1, r % 3);
		break;
	case 2:
		a = err_answer(DNS_NOT_FOUND, "NXDOMAIN");
		break;
	default:
		a = err_answer(r % 8 == 3 ? DNS_TIMEOUT : DNS_FAILURE, "fail");
		break;
	}
	n = dnscache_complete(mt.c, name, &a, p, now);
	atomic_fetch_add(&mt.completed_woken, n);
	atomic_fetch_add(&mt.completes, 1);
}

static void *
mt_run(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	struct dnscache_policy p = { 0, 5, 2, 3 };
	struct dns_answer out;
	struct mtw m;
	bool cancelled;
	int i, before;
	long spins;

	memset(&m, 0, sizeof(m));
	m.w.wake = mt_wake;
	for (i = 0; i < ROUNDS; i++) {
		const char *name = mt_names[rand_r(&seed) % NAMES];
		/* Each lookup moves the clock on: entries keep expiring. */
		uint64_t now = atomic_fetch_add(&mt.now, 50);
		unsigned r = (unsigned)rand_r(&seed);

		before = atomic_load(&m.wakes);
		switch (dnscache_lookup(mt.c, name, &p, now, &m.w, &out)) {
		case DNSCACHE_HIT:
			atomic_fetch_add(&mt.hits, 1);
			continue;
		case DNSCACHE_QUERY:
			atomic_fetch_add(&mt.queued, 1);
			cancelled = r % 5 == 0 && dnscache_cancel(mt.c, &m.w);
			if (cancelled)
				atomic_fetch_add(&mt.cancelled, 1);
			/* Let others queue behind the query. */
			for (int y = 0; y < 4; y++)
				sched_yield();
			mt_complete(name, r >> 8, &p);
			if (cancelled)
				continue;
			break;
		case DNSCACHE_WAIT:
			atomic_fetch_add(&mt.queued, 1);
			if (r % 3 == 0 && dnscache_cancel(mt.c, &m.w)) {
				atomic_fetch_add(&mt.cancelled, 1);
				continue;
			}
			break;
		}
		/* Not cancelled: woken, by us or by whoever queried. */
		for (spins = 0; atomic_load(&m.wakes) == before; spins++) {
			if (spins == 10000000) {
				/* Never woken: give up on this thread. */
				atomic_fetch_add(&mt.errors, 1);
				return NULL;
			}
			sched_yield();
		}
		if (atomic_load(&m.wakes) != before + 1)
			atomic_fetch_add(&mt.errors, 1);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[THREADS];
	struct dnscache_stats s;
	uintptr_t i;

	memset(&mt, 0, sizeof(mt));
	mt.c = dnscache_new();
	assert_non_null(mt.c);
	atomic_store(&mt.now, 1);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, mt_run,
		    (void *)i), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&mt.errors), 0);
	assert_true(atomic_load(&mt.queued) > 0);
	assert_true(atomic_load(&mt.cancelled) > 0);
	assert_true(atomic_load(&mt.hits) > 0);
	assert_true(atomic_load(&mt.stale) > 0);
	assert_true(atomic_load(&mt.woken) > atomic_load(&mt.completes));
	assert_int_equal(atomic_load(&mt.queued),
	    atomic_load(&mt.woken) + atomic_load(&mt.cancelled));
	assert_int_equal(atomic_load(&mt.woken),
	    atomic_load(&mt.completed_woken));
	dnscache_stats(mt.c, &s);
	assert_int_equal(s.misses + s.coalesced, atomic_load(&mt.queued));
	assert_int_equal(s.misses, atomic_load(&mt.completes));
	assert_int_equal(s.hits + s.negative_hits, atomic_load(&mt.hits));
	assert_int_equal(s.stale_served, atomic_load(&mt.stale));
	assert_true(s.coalesced > 0);
	assert_true(s.negative_hits > 0);
	assert_true(s.failures > 0);
	assert_true(s.entries <= NAMES);
	dnscache_free(mt.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_coalesce_fifo),
		cmocka_unit_test(test_hit_ttl_left),
		cmocka_unit_test(test_longest_name),
		cmocka_unit_test(test_clamp_at_read_time),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_ok_without_addrs),
		cmocka_unit_test(test_negative_replaces_positive),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_stale_window_uses_policy),
		cmocka_unit_test(test_failure_not_cached),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_waiter_freed_in_wake),
		cmocka_unit_test(test_complete_without_query),
		cmocka_unit_test(test_retain_servers_changed),
		cmocka_unit_test(test_retain_keep),
		cmocka_unit_test(test_evict_oldest),
		cmocka_unit_test(test_evict_expired_first),
		cmocka_unit_test(test_evict_keeps_in_flight),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
