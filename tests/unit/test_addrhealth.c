/*
 * Unit tests for addrhealth: address identity (sockaddr_same), back-off
 * arithmetic, up/down transitions, what is stored and for how long,
 * ordering (round-robin over up addresses, down ones by recovery time),
 * foreach contents, eviction when full, and concurrent use.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "addrhealth.h"
#include "cidr.h"

static const struct addrhealth_policy pol = { 1000, 30000 };

/* ip (IPv4 or IPv6) and port, with scope for IPv6. */
static struct sockaddr_storage
addr6s(const char *ip, unsigned port, uint32_t scope)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return ss;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		fail_msg("bad test address %s", ip);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_scope_id = scope;
	return ss;
}

static struct sockaddr_storage
addr(const char *ip, unsigned port)
{
	return addr6s(ip, port, 0);
}

/* The n-th of many distinct IPv4 addresses, 10.x.y.z:443. */
static struct sockaddr_storage
addr_n(unsigned n)
{
	char ip[32];

	snprintf(ip, sizeof(ip), "10.%u.%u.%u", (n >> 16) & 0xff,
	    (n >> 8) & 0xff, n & 0xff);
	return addr(ip, 443);
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static bool
fail_at(struct addrhealth *h, const struct sockaddr_storage *ss,
    enum addrhealth_source src, uint64_t now, uint64_t *until)
{
	return addrhealth_failed(h, SA(*ss), src, "connect: refused", &pol,
	    now, until);
}

/* Collects what foreach reports. */
struct seen {
	size_t n;
	struct addrhealth_info info[8];
};

static void
collect(void *arg, const struct addrhealth_info *info)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->info[s->n] = *info;
	s->n++;
}

static size_t
count_entries(struct addrhealth *h)
{
	struct seen s = { 0 };

	addrhealth_foreach(h, collect, &s);
	return s.n;
}

/* The info foreach reports for ss, which must be stored. */
static struct addrhealth_info
info_of(struct addrhealth *h, const struct sockaddr_storage *ss)
{
	struct seen s = { 0 };

	addrhealth_foreach(h, collect, &s);
	for (size_t i = 0; i < s.n && i < 8; i++)
		if (sockaddr_same(SA(s.info[i].addr), SA(*ss)))
			return s.info[i];
	fail_msg("address not stored");
	return s.info[0];
}

/* Looks for ss among everything foreach reports (any number). */
struct finder {
	const struct sockaddr_storage *want;
	bool found;
	size_t n;
};

static void
find_cb(void *arg, const struct addrhealth_info *info)
{
	struct finder *f = arg;

	f->n++;
	if (sockaddr_same(SA(info->addr), SA(*f->want)))
		f->found = true;
}

static bool
stored(struct addrhealth *h, const struct sockaddr_storage *ss, size_t *n)
{
	struct finder f = { ss, false, 0 };

	addrhealth_foreach(h, find_cb, &f);
	if (n != NULL)
		*n = f.n;
	return f.found;
}

static void
test_new_free(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);

	assert_non_null(h);
	assert_true(addrhealth_is_up(h, SA(a), 0));
	assert_true(addrhealth_is_up(h, SA(a), UINT64_MAX));
	assert_int_equal(count_entries(h), 0);
	addrhealth_free(h);
	addrhealth_free(NULL);
}

static void
test_sockaddr_same(void **state)
{
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr("192.0.2.1", 443);
	struct sockaddr_storage c = addr("192.0.2.1", 444);
	struct sockaddr_storage d = addr("192.0.2.2", 443);
	struct sockaddr_storage m = addr("::ffff:192.0.2.1", 443);
	struct sockaddr_storage v6a = addr6s("2001:db8::1", 443, 0);
	struct sockaddr_storage v6b = addr6s("2001:db8::1", 443, 0);
	struct sockaddr_storage v6c = addr6s("2001:db8::1", 443, 7);
	struct sockaddr_storage v6d = addr6s("2001:db8::2", 443, 0);
	struct sockaddr_storage un;

	/* Bytes that are not the address do not count. */
	memset(((struct sockaddr_in *)&b)->sin_zero, 0xa5,
	    sizeof(((struct sockaddr_in *)&b)->sin_zero));
	memset((char *)&b + sizeof(struct sockaddr_in), 0x5a,
	    sizeof(b) - sizeof(struct sockaddr_in));
	((struct sockaddr_in6 *)&v6b)->sin6_flowinfo = htonl(0x12345);
	assert_true(sockaddr_same(SA(a), SA(a)));
	assert_true(sockaddr_same(SA(a), SA(b)));
	assert_true(sockaddr_same(SA(b), SA(a)));
	assert_false(sockaddr_same(SA(a), SA(c)));
	assert_false(sockaddr_same(SA(a), SA(d)));
	assert_false(sockaddr_same(SA(a), SA(m)));
	assert_true(sockaddr_same(SA(v6a), SA(v6b)));
	assert_false(sockaddr_same(SA(v6a), SA(v6c)));
	assert_false(sockaddr_same(SA(v6a), SA(v6d)));
	assert_false(sockaddr_same(SA(v6a), SA(a)));
	/* Not addresses here. */
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	assert_false(sockaddr_same(SA(un), SA(un)));
	assert_false(sockaddr_same(NULL, SA(a)));
	assert_false(sockaddr_same(SA(a), NULL));
}

/* A struct sockaddr_in on its own (not in a sockaddr_storage) works. */
static void
test_short_sockaddr(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr6s("2001:db8::1", 443, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	assert_true(addrhealth_failed(h, (struct sockaddr *)&sin,
	    ADDRHEALTH_PASSIVE, "x", &pol, 0, NULL));
	assert_true(addrhealth_failed(h, (struct sockaddr *)&sin6,
	    ADDRHEALTH_PASSIVE, "x", &pol, 0, NULL));
	assert_false(addrhealth_is_up(h, SA(a), 10));
	assert_false(addrhealth_is_up(h, SA(b), 10));
	assert_true(sockaddr_same((struct sockaddr *)&sin, SA(a)));
	assert_true(sockaddr_same((struct sockaddr *)&sin6, SA(b)));
	addrhealth_free(h);
}

static void
test_backoff_doubling(void **state)
{
	static const uint64_t want[] = {
		1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000
	};
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	uint64_t until = 0;

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool changed = fail_at(h, &a, ADDRHEALTH_PASSIVE, 5000, &until);

		assert_int_equal(changed, i == 0);
		assert_int_equal(until, 5000 + want[i]);
		assert_int_equal(info_of(h, &a).failures, i + 1);
		assert_int_equal(info_of(h, &a).down_until_ms, 5000 + want[i]);
	}
	addrhealth_free(h);
}

static void
test_backoff_overflow(void **state)
{
	struct addrhealth_policy big = { UINT_MAX, UINT_MAX };
	struct addrhealth_policy cap = { 1000, UINT_MAX };
	struct addrhealth_policy zero = { 0, 30000 };
	struct addrhealth_policy low = { 1000, 500 };
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr("192.0.2.2", 443);
	struct sockaddr_storage c = addr("192.0.2.3", 443);
	struct sockaddr_storage d = addr("192.0.2.4", 443);
	struct sockaddr_storage e = addr("192.0.2.5", 443);
	uint64_t until = 0;

	/* A shift far past the width of the type stays at the ceiling. */
	for (unsigned i = 0; i < 100; i++) {
		addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, "x", &big, 0,
		    &until);
		assert_int_equal(until, (uint64_t)UINT_MAX);
		addrhealth_failed(h, SA(b), ADDRHEALTH_PASSIVE, "x", &cap, 0,
		    &until);
		if (i < 23)
			assert_int_equal(until, 1000ull << i);
		else
			assert_int_equal(until, (uint64_t)UINT_MAX);
	}
	/* The end of the back-off saturates rather than wraps. */
	addrhealth_failed(h, SA(c), ADDRHEALTH_PASSIVE, "x", &pol,
	    UINT64_MAX - 10, &until);
	assert_true(until == UINT64_MAX);
	assert_false(addrhealth_is_up(h, SA(c), UINT64_MAX - 1));
	/* No back-off: a failure leaves it up and is no transition. */
	assert_false(addrhealth_failed(h, SA(d), ADDRHEALTH_PASSIVE, "x",
	    &zero, 100, &until));
	assert_int_equal(until, 100);
	assert_true(addrhealth_is_up(h, SA(d), 100));
	/* The ceiling wins over a larger first back-off. */
	addrhealth_failed(h, SA(e), ADDRHEALTH_PASSIVE, "x", &low, 0, &until);
	assert_int_equal(until, 500);
	addrhealth_free(h);
}

static void
test_failed_transitions(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	uint64_t until = 0;

	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, &until));
	assert_int_equal(until, 1000);
	/* Still down: no transition, but the back-off grows. */
	assert_false(fail_at(h, &a, ADDRHEALTH_PASSIVE, 500, &until));
	assert_int_equal(until, 2500);
	assert_false(fail_at(h, &a, ADDRHEALTH_PASSIVE, 2499, NULL));
	assert_int_equal(info_of(h, &a).failures, 3);
	assert_int_equal(info_of(h, &a).down_until_ms, 2499 + 4000);
	/* The back-off ended: up again, so a failure is a transition, and
	 * the failures (never reset by a success) keep counting. */
	assert_true(addrhealth_is_up(h, SA(a), 6499));
	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 6499, &until));
	assert_int_equal(until, 6499 + 8000);
	assert_int_equal(info_of(h, &a).failures, 4);
	assert_int_equal(info_of(h, &a).changed_ms, 6499);
	addrhealth_free(h);
}

static void
test_succeeded_transitions(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);

	/* Unknown and passive: nothing stored, no transition. */
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 0));
	assert_int_equal(count_entries(h), 0);

	/* Down, then a success: a transition, and the entry is gone. */
	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, NULL));
	assert_int_equal(count_entries(h), 1);
	assert_true(addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 999));
	assert_int_equal(count_entries(h), 0);
	assert_true(addrhealth_is_up(h, SA(a), 999));
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 999));

	/* Back-off already ended: it was up, so no transition; gone too. */
	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, NULL));
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 1000));
	assert_int_equal(count_entries(h), 0);
	addrhealth_free(h);
}

static void
test_success_resets_failures(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	uint64_t until = 0;

	fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, NULL);
	fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, NULL);
	fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, &until);
	assert_int_equal(until, 4000);
	addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 10);
	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 20, &until));
	assert_int_equal(until, 1020);
	assert_int_equal(info_of(h, &a).failures, 1);
	addrhealth_free(h);
}

static void
test_check_entries_kept(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr("192.0.2.2", 443);
	struct addrhealth_info info;

	/* A successful check on an unknown address stores it, up. */
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_CHECK, 100));
	assert_int_equal(count_entries(h), 1);
	info = info_of(h, &a);
	assert_true(info.up);
	assert_int_equal(info.failures, 0);
	assert_int_equal(info.down_until_ms, 0);
	assert_int_equal(info.changed_ms, 100);
	assert_int_equal(info.source, ADDRHEALTH_CHECK);
	assert_string_equal(info.last_error, "");

	/* Down by a check, up by a check: still stored. */
	assert_true(addrhealth_failed(h, SA(a), ADDRHEALTH_CHECK, "tls: eof",
	    &pol, 200, NULL));
	assert_false(info_of(h, &a).up);
	assert_true(addrhealth_succeeded(h, SA(a), ADDRHEALTH_CHECK, 300));
	assert_int_equal(count_entries(h), 1);
	info = info_of(h, &a);
	assert_true(info.up);
	assert_int_equal(info.changed_ms, 300);
	assert_string_equal(info.last_error, "tls: eof");

	/* Even a later passive success keeps it (a check reported on it). */
	assert_true(fail_at(h, &a, ADDRHEALTH_PASSIVE, 400, NULL));
	assert_true(addrhealth_succeeded(h, SA(a), ADDRHEALTH_PASSIVE, 500));
	assert_int_equal(count_entries(h), 1);
	assert_int_equal(info_of(h, &a).source, ADDRHEALTH_PASSIVE);

	/* A passive entry that a check then reports on is kept. */
	assert_true(fail_at(h, &b, ADDRHEALTH_PASSIVE, 0, NULL));
	assert_true(addrhealth_succeeded(h, SA(b), ADDRHEALTH_CHECK, 10));
	assert_int_equal(count_entries(h), 2);
	assert_true(info_of(h, &b).up);
	addrhealth_free(h);
}

static void
test_is_up_boundary(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage un;

	fail_at(h, &a, ADDRHEALTH_PASSIVE, 1000, NULL);
	assert_false(addrhealth_is_up(h, SA(a), 999));
	assert_false(addrhealth_is_up(h, SA(a), 1000));
	assert_false(addrhealth_is_up(h, SA(a), 1999));
	assert_true(addrhealth_is_up(h, SA(a), 2000));
	/* Not an IP address: never stored, always up. */
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	assert_false(addrhealth_failed(h, SA(un), ADDRHEALTH_PASSIVE, "x",
	    &pol, 0, NULL));
	assert_true(addrhealth_is_up(h, SA(un), 1));
	assert_false(addrhealth_succeeded(h, SA(un), ADDRHEALTH_CHECK, 1));
	assert_int_equal(count_entries(h), 1);
	addrhealth_free(h);
}

static void
test_ports_matter(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr("192.0.2.1", 8443);
	struct sockaddr_storage c = addr6s("2001:db8::1", 443, 0);
	struct sockaddr_storage d = addr6s("2001:db8::1", 8443, 0);
	struct addrhealth_info info;

	fail_at(h, &a, ADDRHEALTH_PASSIVE, 0, NULL);
	fail_at(h, &d, ADDRHEALTH_PASSIVE, 0, NULL);
	assert_false(addrhealth_is_up(h, SA(a), 1));
	assert_true(addrhealth_is_up(h, SA(b), 1));
	assert_true(addrhealth_is_up(h, SA(c), 1));
	assert_false(addrhealth_is_up(h, SA(d), 1));
	info = info_of(h, &a);
	assert_int_equal(ntohs(((struct sockaddr_in *)&info.addr)->sin_port),
	    443);
	addrhealth_free(h);
}

static void
test_ipv6_scope(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage s2 = addr6s("fe80::1", 443, 2);
	struct sockaddr_storage s3 = addr6s("fe80::1", 443, 3);
	struct sockaddr_storage s2f = addr6s("fe80::1", 443, 2);
	struct addrhealth_info info;

	((struct sockaddr_in6 *)&s2f)->sin6_flowinfo = htonl(0xbeef);
	assert_true(fail_at(h, &s2, ADDRHEALTH_PASSIVE, 0, NULL));
	assert_false(addrhealth_is_up(h, SA(s2), 1));
	assert_false(addrhealth_is_up(h, SA(s2f), 1));
	assert_true(addrhealth_is_up(h, SA(s3), 1));
	/* The flow label is not part of the address: same entry. */
	assert_false(fail_at(h, &s2f, ADDRHEALTH_PASSIVE, 1, NULL));
	assert_int_equal(count_entries(h), 1);
	info = info_of(h, &s2);
	assert_int_equal(info.addr.ss_family, AF_INET6);
	assert_int_equal(((struct sockaddr_in6 *)&info.addr)->sin6_scope_id, 2);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&info.addr)->sin6_port),
	    443);
	assert_int_equal(info.failures, 2);
	addrhealth_free(h);
}

static void
test_last_error(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct addrhealth_info info;
	char longer[400], utf8[200];

	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	addrhealth_failed(h, SA(a), ADDRHEALTH_CHECK, longer, &pol, 0, NULL);
	info = info_of(h, &a);
	assert_int_equal(strlen(info.last_error), sizeof(info.last_error) - 1);
	assert_int_equal(info.source, ADDRHEALTH_CHECK);

	/* 158 bytes then a 2-byte character across the limit: cut before
	 * it rather than through it. */
	memset(utf8, 'y', 158);
	memcpy(utf8 + 158, "\xc3\xa9zzzz", 7);
	addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, utf8, &pol, 0, NULL);
	info = info_of(h, &a);
	assert_int_equal(strlen(info.last_error), 158);
	assert_int_equal(info.source, ADDRHEALTH_PASSIVE);
	/* 157 bytes and the character fits. */
	addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, utf8 + 1, &pol, 0,
	    NULL);
	info = info_of(h, &a);
	assert_int_equal(strlen(info.last_error), 159);
	assert_memory_equal(info.last_error + 157, "\xc3\xa9", 2);

	addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, "short", &pol, 0, NULL);
	assert_string_equal(info_of(h, &a).last_error, "short");
	addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, NULL, &pol, 0, NULL);
	assert_string_equal(info_of(h, &a).last_error, "");
	addrhealth_free(h);
}

static void
test_changed_ms(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);

	addrhealth_succeeded(h, SA(a), ADDRHEALTH_CHECK, 50);
	assert_int_equal(info_of(h, &a).changed_ms, 50);
	addrhealth_failed(h, SA(a), ADDRHEALTH_CHECK, "x", &pol, 100, NULL);
	assert_int_equal(info_of(h, &a).changed_ms, 100);
	addrhealth_failed(h, SA(a), ADDRHEALTH_CHECK, "x", &pol, 200, NULL);
	assert_int_equal(info_of(h, &a).changed_ms, 100); /* was down */
	/* Down until 2200; a success at 5000 finds it already up since
	 * 2200. */
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_CHECK, 5000));
	assert_int_equal(info_of(h, &a).changed_ms, 2200);
	/* A success while up and without failures changes nothing. */
	assert_false(addrhealth_succeeded(h, SA(a), ADDRHEALTH_CHECK, 6000));
	assert_int_equal(info_of(h, &a).changed_ms, 2200);
	addrhealth_free(h);
}

static void
test_foreach_contents(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage a = addr("192.0.2.1", 443);
	struct sockaddr_storage b = addr6s("2001:db8::7", 8443, 0);
	struct seen s = { 0 };
	struct addrhealth_info ia, ib;

	addrhealth_failed(h, SA(a), ADDRHEALTH_PASSIVE, "connect: refused",
	    &pol, 1000, NULL);
	addrhealth_failed(h, SA(b), ADDRHEALTH_CHECK, "tls: bad cert", &pol,
	    3000, NULL);
	addrhealth_failed(h, SA(b), ADDRHEALTH_CHECK, "tls: bad cert 2", &pol,
	    3500, NULL);
	addrhealth_foreach(h, collect, &s);
	assert_int_equal(s.n, 2);
	ia = info_of(h, &a);
	ib = info_of(h, &b);
	assert_int_equal(ia.addr.ss_family, AF_INET);
	assert_int_equal(
	    ((struct sockaddr_in *)&ia.addr)->sin_addr.s_addr,
	    ((struct sockaddr_in *)&a)->sin_addr.s_addr);
	assert_false(ia.up);
	assert_int_equal(ia.failures, 1);
	assert_int_equal(ia.down_until_ms, 2000);
	assert_int_equal(ia.changed_ms, 1000);
	assert_int_equal(ia.source, ADDRHEALTH_PASSIVE);
	assert_string_equal(ia.last_error, "connect: refused");

	assert_int_equal(ib.addr.ss_family, AF_INET6);
	assert_memory_equal(&((struct sockaddr_in6 *)&ib.addr)->sin6_addr,
	    &((struct sockaddr_in6 *)&b)->sin6_addr, 16);
	assert_false(ib.up);
	assert_int_equal(ib.failures, 2);
	assert_int_equal(ib.down_until_ms, 5500);
	assert_int_equal(ib.changed_ms, 3000);
	assert_int_equal(ib.source, ADDRHEALTH_CHECK);
	assert_string_equal(ib.last_error, "tls: bad cert 2");

	/* foreach has no clock: a failed address stays reported down (with
	 * its back-off end) until a success, even once the back-off ended. */
	assert_true(addrhealth_is_up(h, SA(a), 10000));
	assert_false(info_of(h, &a).up);
	assert_int_equal(info_of(h, &a).down_until_ms, 2000);
	addrhealth_free(h);
}

/* Whether got[0..n) is want[0..n) rotated left by r. */
static bool
is_rotation(const struct sockaddr_storage *got,
    const struct sockaddr_storage *want, size_t n, size_t r)
{
	for (size_t i = 0; i < n; i++)
		if (!sockaddr_same(SA(got[i]), SA(want[(i + r) % n])))
			return false;
	return true;
}

static size_t
index_in(const struct sockaddr_storage *list, size_t n,
    const struct sockaddr_storage *ss)
{
	for (size_t i = 0; i < n; i++)
		if (sockaddr_same(SA(list[i]), SA(*ss)))
			return i;
	fail_msg("address not in list");
	return n;
}

static void
test_order_round_robin(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage list[4], work[4];
	bool started[4] = { false, false, false, false };
	size_t prev = 0;

	list[0] = addr("192.0.2.1", 443);
	list[1] = addr("192.0.2.2", 443);
	list[2] = addr6s("2001:db8::1", 443, 0);
	list[3] = addr("192.0.2.4", 443);
	for (int call = 0; call < 4; call++) {
		size_t first;

		memcpy(work, list, sizeof(work));
		assert_int_equal(addrhealth_order(h, work, 4, 0), 4);
		first = index_in(list, 4, &work[0]);
		assert_false(started[first]);
		started[first] = true;
		assert_true(is_rotation(work, list, 4, first));
		/* Successive calls start at successive addresses. */
		if (call > 0)
			assert_int_equal(first, (prev + 1) % 4);
		prev = first;
	}
	addrhealth_free(h);
}

static void
test_order_down_last(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage list[3], work[3];

	list[0] = addr("192.0.2.1", 443);
	list[1] = addr("192.0.2.2", 443);
	list[2] = addr("192.0.2.3", 443);
	fail_at(h, &list[1], ADDRHEALTH_PASSIVE, 0, NULL);
	for (int call = 0; call < 4; call++) {
		memcpy(work, list, sizeof(work));
		assert_int_equal(addrhealth_order(h, work, 3, 10), 2);
		assert_true(sockaddr_same(SA(work[2]), SA(list[1])));
		/* The two up ones, in their order or rotated. */
		assert_true((sockaddr_same(SA(work[0]), SA(list[0])) &&
		    sockaddr_same(SA(work[1]), SA(list[2]))) ||
		    (sockaddr_same(SA(work[0]), SA(list[2])) &&
		    sockaddr_same(SA(work[1]), SA(list[0]))));
	}
	addrhealth_free(h);
}

static void
test_order_down_by_recovery(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage list[5], work[5];

	list[0] = addr("192.0.2.1", 443); /* down until 5000 */
	list[1] = addr("192.0.2.2", 443); /* down until 1500 */
	list[2] = addr("192.0.2.3", 443); /* up */
	list[3] = addr("192.0.2.4", 443); /* down until 3000 */
	list[4] = addr("192.0.2.5", 443); /* down until 1500 (tie) */
	fail_at(h, &list[0], ADDRHEALTH_PASSIVE, 4000, NULL);
	fail_at(h, &list[1], ADDRHEALTH_PASSIVE, 500, NULL);
	fail_at(h, &list[3], ADDRHEALTH_PASSIVE, 2000, NULL);
	fail_at(h, &list[4], ADDRHEALTH_PASSIVE, 500, NULL);
	memcpy(work, list, sizeof(work));
	assert_int_equal(addrhealth_order(h, work, 5, 1000), 1);
	assert_true(sockaddr_same(SA(work[0]), SA(list[2])));
	assert_true(sockaddr_same(SA(work[1]), SA(list[1])));
	assert_true(sockaddr_same(SA(work[2]), SA(list[4])));
	assert_true(sockaddr_same(SA(work[3]), SA(list[3])));
	assert_true(sockaddr_same(SA(work[4]), SA(list[0])));

	/* The tie keeps the order it was given in. */
	work[0] = list[4];
	work[1] = list[1];
	assert_int_equal(addrhealth_order(h, work, 2, 1000), 0);
	assert_true(sockaddr_same(SA(work[0]), SA(list[4])));
	assert_true(sockaddr_same(SA(work[1]), SA(list[1])));

	/* Every address down: all still there, soonest first. */
	work[0] = list[0];
	work[1] = list[3];
	work[2] = list[1];
	assert_int_equal(addrhealth_order(h, work, 3, 1000), 0);
	assert_true(sockaddr_same(SA(work[0]), SA(list[1])));
	assert_true(sockaddr_same(SA(work[1]), SA(list[3])));
	assert_true(sockaddr_same(SA(work[2]), SA(list[0])));
	addrhealth_free(h);
}

static void
test_order_recovers(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage list[2], work[2];

	list[0] = addr("192.0.2.1", 443);
	list[1] = addr("192.0.2.2", 443);
	fail_at(h, &list[0], ADDRHEALTH_PASSIVE, 0, NULL);
	memcpy(work, list, sizeof(work));
	assert_int_equal(addrhealth_order(h, work, 2, 999), 1);
	assert_true(sockaddr_same(SA(work[0]), SA(list[1])));
	/* At 1000 its back-off has ended: up, and in the rotation again. */
	memcpy(work, list, sizeof(work));
	assert_int_equal(addrhealth_order(h, work, 2, 1000), 2);
	memcpy(work, list, sizeof(work));
	assert_int_equal(addrhealth_order(h, work, 2, 1000), 2);
	addrhealth_free(h);
}

static void
test_order_small(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage one = addr("192.0.2.1", 443), work;

	assert_int_equal(addrhealth_order(h, NULL, 0, 0), 0);
	assert_int_equal(addrhealth_order(h, &work, 0, 0), 0);
	work = one;
	assert_int_equal(addrhealth_order(h, &work, 1, 0), 1);
	assert_true(sockaddr_same(SA(work), SA(one)));
	fail_at(h, &one, ADDRHEALTH_PASSIVE, 0, NULL);
	assert_int_equal(addrhealth_order(h, &work, 1, 0), 0);
	assert_true(sockaddr_same(SA(work), SA(one)));
	addrhealth_free(h);
}

static void
test_order_max(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage list[64], work[64];
	bool seen[64] = { false };

	for (unsigned i = 0; i < 64; i++)
		list[i] = addr_n(i);
	for (unsigned i = 0; i < 64; i += 2)
		fail_at(h, &list[i], ADDRHEALTH_PASSIVE, 64 - i, NULL);
	memcpy(work, list, sizeof(work));
	assert_int_equal(addrhealth_order(h, work, 64, 100), 32);
	for (unsigned i = 0; i < 64; i++) {
		size_t j = index_in(list, 64, &work[i]);

		assert_false(seen[j]);
		seen[j] = true;
		assert_int_equal(j % 2, i < 32 ? 1 : 0);
	}
	/* Down ones by recovery: failed later (lower index) recovers later. */
	for (unsigned i = 32; i < 64; i++)
		assert_int_equal(index_in(list, 64, &work[i]),
		    62 - 2 * (i - 32));
	addrhealth_free(h);
}

/* The table full of checked, down addresses 0..MAX-1 (changed_ms i+1),
 * with one exception made by the caller. */
static void
fill(struct addrhealth *h, enum addrhealth_source src)
{
	struct addrhealth_policy longp = { 1000000, 1000000 };

	for (unsigned i = 0; i < ADDRHEALTH_MAX_ENTRIES; i++) {
		struct sockaddr_storage ss = addr_n(i);

		assert_true(addrhealth_failed(h, SA(ss), src, "x", &longp,
		    i + 1, NULL));
	}
}

static void
test_eviction_passive_up_first(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage up_one = addr("192.0.2.1", 443);
	struct sockaddr_storage newer = addr("192.0.2.2", 443);
	struct sockaddr_storage oldest = addr_n(0);
	size_t n;

	/* A passive failure whose back-off ends at 1500, changed_ms 500:
	 * not the oldest change, but the only up, passive-only entry. */
	fail_at(h, &up_one, ADDRHEALTH_PASSIVE, 500, NULL);
	for (unsigned i = 0; i < ADDRHEALTH_MAX_ENTRIES - 1; i++) {
		struct sockaddr_storage ss = addr_n(i);
		struct addrhealth_policy longp = { 1000000, 1000000 };

		addrhealth_failed(h, SA(ss), ADDRHEALTH_CHECK, "x", &longp, i,
		    NULL);
	}
	assert_true(stored(h, &up_one, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	/* At 2000 it is up and passive-only: evicted before address 0,
	 * whose changed_ms (0) is older than its 500. */
	assert_true(fail_at(h, &newer, ADDRHEALTH_PASSIVE, 2000, NULL));
	assert_false(stored(h, &up_one, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	assert_true(stored(h, &newer, NULL));
	assert_true(stored(h, &oldest, NULL));
	assert_false(addrhealth_is_up(h, SA(oldest), 2000));
	addrhealth_free(h);
}

static void
test_eviction_oldest(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage extra = addr("192.0.2.1", 443);
	struct sockaddr_storage extra2 = addr("192.0.2.2", 443);
	struct sockaddr_storage a0 = addr_n(0), a1 = addr_n(1),
	    a2 = addr_n(2);
	size_t n;

	fill(h, ADDRHEALTH_CHECK);
	assert_true(stored(h, &a0, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	/* Every entry is down (or checked): the oldest change goes. */
	assert_true(fail_at(h, &extra, ADDRHEALTH_PASSIVE, 10000, NULL));
	assert_false(stored(h, &a0, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	assert_true(stored(h, &a1, NULL));
	assert_true(stored(h, &extra, NULL));
	assert_true(addrhealth_is_up(h, SA(a0), 10000)); /* forgotten */
	assert_false(addrhealth_is_up(h, SA(a1), 10000));
	/* A successful check on a new address also evicts, and never
	 * fails. */
	assert_false(addrhealth_succeeded(h, SA(extra2), ADDRHEALTH_CHECK,
	    10001));
	assert_false(stored(h, &a1, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	assert_true(stored(h, &extra2, NULL));
	assert_true(stored(h, &a2, NULL));
	/* A passive success on an unknown address when full: nothing. */
	assert_false(addrhealth_succeeded(h, SA(a0), ADDRHEALTH_PASSIVE,
	    10002));
	assert_true(stored(h, &a2, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	addrhealth_free(h);
}

/* Many more addresses than entries come and go; chains and the free list
 * stay consistent. CHURN ends on an address that stays (i % 3 == 0): one
 * more would evict while the table is full. */
#define CHURN (3 * ADDRHEALTH_MAX_ENTRIES - 2)

static void
test_churn(void **state)
{
	struct addrhealth *h = addrhealth_new();
	size_t n;

	for (unsigned i = 0; i < CHURN; i++) {
		struct sockaddr_storage ss = addr_n(i);

		assert_true(fail_at(h, &ss, ADDRHEALTH_PASSIVE, 0, NULL));
		if (i % 3 != 0)
			assert_true(addrhealth_succeeded(h, SA(ss),
			    ADDRHEALTH_PASSIVE, 1));
	}
	assert_false(stored(h, &(struct sockaddr_storage){ 0 }, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	for (unsigned i = 0; i < CHURN; i++) {
		struct sockaddr_storage ss = addr_n(i);

		assert_int_equal(addrhealth_is_up(h, SA(ss), 1), i % 3 != 0);
	}
	/* Delete every other, then more arrive: reuse, no loss. */
	for (unsigned i = 0; i < CHURN; i += 6) {
		struct sockaddr_storage ss = addr_n(i);

		assert_true(addrhealth_succeeded(h, SA(ss), ADDRHEALTH_PASSIVE,
		    1));
	}
	assert_false(stored(h, &(struct sockaddr_storage){ 0 }, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES / 2);
	for (unsigned i = 0; i < ADDRHEALTH_MAX_ENTRIES / 2; i++) {
		struct sockaddr_storage ss = addr_n(100000 + i);

		assert_true(fail_at(h, &ss, ADDRHEALTH_PASSIVE, 0, NULL));
	}
	for (unsigned i = 0; i < CHURN; i++) {
		struct sockaddr_storage ss = addr_n(i);

		assert_int_equal(addrhealth_is_up(h, SA(ss), 1), i % 6 != 3);
	}
	assert_false(stored(h, &(struct sockaddr_storage){ 0 }, &n));
	assert_int_equal(n, ADDRHEALTH_MAX_ENTRIES);
	addrhealth_free(h);
}

/* Concurrency: 8 threads on 4 addresses. */
#define THREADS 8
#define ROUNDS 20000
#define NADDR 4

struct worker {
	struct addrhealth *h;
	const struct sockaddr_storage *addrs;
	unsigned seed;
	unsigned long downs[NADDR], ups[NADDR]; /* transitions it saw */
	bool bad_order;
};

static void *
hammer(void *arg)
{
	struct worker *w = arg;
	struct addrhealth_policy huge = { 1u << 30, 1u << 30 };

	for (int i = 0; i < ROUNDS; i++) {
		unsigned r = rand_r(&w->seed);
		unsigned a = r % NADDR;
		enum addrhealth_source src = (r >> 8) % 5 == 0 ?
		    ADDRHEALTH_CHECK : ADDRHEALTH_PASSIVE;
		struct sockaddr_storage work[NADDR];
		size_t nup;
		bool seen[NADDR] = { false };

		switch ((r >> 4) % 4) {
		case 0:
			/* now is constant and the back-off long: down until
			 * a success, so transitions alternate. */
			if (addrhealth_failed(w->h, SA(w->addrs[a]), src, "x",
			    &huge, 1000, NULL))
				w->downs[a]++;
			break;
		case 1:
			if (addrhealth_succeeded(w->h, SA(w->addrs[a]), src,
			    1000))
				w->ups[a]++;
			break;
		case 2:
			memcpy(work, w->addrs, sizeof(work));
			nup = addrhealth_order(w->h, work, NADDR, 1000);
			/* A permutation of the list (cmocka's asserts are
			 * not for other threads: just note it). */
			for (size_t j = 0; j < NADDR; j++) {
				size_t k = 0;

				while (k < NADDR && !sockaddr_same(
				    SA(w->addrs[k]), SA(work[j])))
					k++;
				if (k == NADDR || seen[k])
					w->bad_order = true;
				else
					seen[k] = true;
			}
			if (nup > NADDR)
				w->bad_order = true;
			break;
		default:
			(void)addrhealth_is_up(w->h, SA(w->addrs[a]), 1000);
			break;
		}
	}
	return NULL;
}

static void
count_cb(void *arg, const struct addrhealth_info *info)
{
	size_t *n = arg;

	(*n)++;
}

static void
test_threads(void **state)
{
	struct addrhealth *h = addrhealth_new();
	struct sockaddr_storage addrs[NADDR];
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	size_t stored_n = 0;

	addrs[0] = addr("192.0.2.1", 443);
	addrs[1] = addr("192.0.2.1", 8443);
	addrs[2] = addr6s("2001:db8::1", 443, 0);
	addrs[3] = addr6s("fe80::1", 443, 4);
	memset(w, 0, sizeof(w));
	for (int t = 0; t < THREADS; t++) {
		w[t].h = h;
		w[t].addrs = addrs;
		w[t].seed = 12345u + (unsigned)t;
		assert_int_equal(pthread_create(&tid[t], NULL, hammer, &w[t]),
		    0);
	}
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(tid[t], NULL), 0);

	for (int a = 0; a < NADDR; a++) {
		unsigned long downs = 0, ups = 0;

		for (int t = 0; t < THREADS; t++) {
			downs += w[t].downs[a];
			ups += w[t].ups[a];
		}
		/* Transitions alternate, starting up. */
		if (addrhealth_is_up(h, SA(addrs[a]), 1000))
			assert_int_equal(downs, ups);
		else
			assert_int_equal(downs, ups + 1);
		assert_true(downs > 0);
	}
	for (int t = 0; t < THREADS; t++)
		assert_false(w[t].bad_order);
	addrhealth_foreach(h, count_cb, &stored_n);
	assert_true(stored_n <= NADDR);
	addrhealth_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_sockaddr_same),
		cmocka_unit_test(test_short_sockaddr),
		cmocka_unit_test(test_backoff_doubling),
		cmocka_unit_test(test_backoff_overflow),
		cmocka_unit_test(test_failed_transitions),
		cmocka_unit_test(test_succeeded_transitions),
		cmocka_unit_test(test_success_resets_failures),
		cmocka_unit_test(test_check_entries_kept),
		cmocka_unit_test(test_is_up_boundary),
		cmocka_unit_test(test_ports_matter),
		cmocka_unit_test(test_ipv6_scope),
		cmocka_unit_test(test_last_error),
		cmocka_unit_test(test_changed_ms),
		cmocka_unit_test(test_foreach_contents),
		cmocka_unit_test(test_order_round_robin),
		cmocka_unit_test(test_order_down_last),
		cmocka_unit_test(test_order_down_by_recovery),
		cmocka_unit_test(test_order_recovers),
		cmocka_unit_test(test_order_small),
		cmocka_unit_test(test_order_max),
		cmocka_unit_test(test_eviction_passive_up_first),
		cmocka_unit_test(test_eviction_oldest),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
