/*
 * resolver — see resolver.h.
 *
 * A resolver owns one current c-ares channel and, after a reload that
 * changed the servers, the old channels until their queries end. c-ares
 * tells a channel which sockets to watch (sock_state_cb); each gets a
 * persistent libevent event, and one timer per channel drives c-ares'
 * own timeouts.
 *
 * A query is a resolver_query (one per caller) plus, for the caller that
 * missed the cache, a lookup (one per name in flight) that c-ares calls
 * back. The lookup hands its answer to dnscache_complete(), which wakes
 * every waiter of the name in whatever worker it lives: wake() copies
 * the answer and activates the waiter's own zero-delay event, so each
 * caller's callback runs on its own loop, never inside resolver_resolve.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <ares.h>
#include <event2/event.h>

#include "config.h"
#include "resolver.h"

struct channel;

struct sock_watch {
	ares_socket_t fd;
	struct event *ev;
	LIST_ENTRY(sock_watch) link;
};

struct channel {
	struct resolver *r;
	ares_channel ares;
	struct event *timer;
	unsigned pending; /* lookups c-ares still owes a callback */
	bool retired;	  /* replaced by a reload: destroy when idle */
	LIST_HEAD(, sock_watch) socks;
	LIST_ENTRY(channel) link;
};

/* One query sent for a name, on behalf of every waiter of the cache. */
struct lookup {
	struct channel *ch;
	char name[DNS_NAME_MAX + 1];
};

struct resolver_query {
	struct resolver *r;
	resolver_cb *cb; /* NULL once cancelled */
	void *arg;
	uint16_t port;
	struct dnscache_waiter waiter;
	struct dns_answer ans;	/* written by wake(), maybe in another thread */
	struct event *deliver;	/* zero-delay delivery on r's loop */
	LIST_ENTRY(resolver_query) link;
};

struct resolver {
	struct event_base *base;
	struct dnscache *cache; /* borrowed */
	struct dnscache_policy policy;
	struct channel *cur;
	LIST_HEAD(, channel) channels; /* cur and the retired ones */
	LIST_HEAD(, resolver_query) queries;
	struct event *reap; /* destroys retired channels outside callbacks */
	bool closing;
};

uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- c-ares on libevent -------------------------------------------- */

static void schedule_timeout(struct channel *ch);

static void
on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	ares_process_fd(ch->ares,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	schedule_timeout(ch);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	schedule_timeout(ch);
}

static void
schedule_timeout(struct channel *ch)
{
	struct timeval tv;

	if (ares_timeout(ch->ares, NULL, &tv) != NULL)
		evtimer_add(ch->timer, &tv);
	else
		evtimer_del(ch->timer);
}

/* c-ares opens, closes and changes interest in its sockets through here. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct channel *ch = data;
	struct sock_watch *w;
	short what = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	LIST_FOREACH(w, &ch->socks, link)
		if (w->fd == fd)
			break;
	if (w != NULL && w->ev != NULL) {
		event_free(w->ev);
		w->ev = NULL;
	}
	if (what == 0) {
		if (w != NULL) {
			LIST_REMOVE(w, link);
			free(w);
		}
		return;
	}
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return; /* c-ares times the query out */
		w->fd = fd;
		LIST_INSERT_HEAD(&ch->socks, w, link);
	}
	w->ev = event_new(ch->r->base, fd, what | EV_PERSIST, on_socket, ch);
	if (w->ev != NULL)
		event_add(w->ev, NULL);
}

static int
set_servers(ares_channel ares, const struct config *cfg, char *err,
    size_t errlen)
{
	char csv[2048] = "";
	size_t used = 0;
	int rc;

	for (size_t i = 0; i < cfg->resolver.nservers; i++) {
		int n = snprintf(csv + used, sizeof(csv) - used, "%s%s",
		    i ? "," : "", cfg->resolver.servers[i]);

		if (n < 0 || (size_t)n >= sizeof(csv) - used) {
			snprintf(err, errlen, "resolver.servers: too many");
			return -1;
		}
		used += (size_t)n;
	}
	if ((rc = ares_set_servers_ports_csv(ares, csv)) != ARES_SUCCESS) {
		snprintf(err, errlen, "resolver.servers: %s", ares_strerror(rc));
		return -1;
	}
	return 0;
}

static void
channel_free(struct channel *ch)
{
	struct sock_watch *w;

	LIST_REMOVE(ch, link);
	ares_destroy(ch->ares); /* runs on_addrinfo with EDESTRUCTION */
	while ((w = LIST_FIRST(&ch->socks)) != NULL) {
		LIST_REMOVE(w, link);
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
	}
	event_free(ch->timer);
	free(ch);
}

static struct channel *
channel_new(struct resolver *r, const struct config *cfg, char *err,
    size_t errlen)
{
	struct ares_options opts = {
		.sock_state_cb = on_sock_state,
		.timeout = (int)cfg->resolver.timeout_ms,
		.tries = 1, /* each server once, in order */
		/* names are absolute: never try them under search domains */
		.flags = ARES_FLAG_NOSEARCH,
		/* Configured servers are the private path: DNS only. */
		.lookups = cfg->resolver.nservers > 0 ? "b" : "fb",
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS |
	    ARES_OPT_NOROTATE;

#ifdef ARES_OPT_QUERY_CACHE
	/* c-ares 1.23+ caches on its own: dnscache is the one cache */
	opts.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	struct channel *ch = calloc(1, sizeof(*ch));
	int rc;

	if (ch == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ch->r = r;
	LIST_INIT(&ch->socks);
	opts.sock_state_cb_data = ch;
	if ((rc = ares_init_options(&ch->ares, &opts, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(ch);
		return NULL;
	}
	LIST_INSERT_HEAD(&r->channels, ch, link);
	if ((ch->timer = evtimer_new(r->base, on_timeout, ch)) == NULL) {
		snprintf(err, errlen, "out of memory");
		ares_destroy(ch->ares);
		LIST_REMOVE(ch, link);
		free(ch);
		return NULL;
	}
	if (cfg->resolver.nservers > 0 &&
	    set_servers(ch->ares, cfg, err, errlen) != 0) {
		channel_free(ch);
		return NULL;
	}
	return ch;
}

/* Destroys retired channels that owe no callback any more. */
static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	struct channel *ch, *next;

	for (ch = LIST_FIRST(&r->channels); ch != NULL; ch = next) {
		next = LIST_NEXT(ch, link);
		if (ch->retired && ch->pending == 0)
			channel_free(ch);
	}
}

/* ---- answers ------------------------------------------------------- */

static void
add_addr(struct dns_answer *ans, const void *sa, size_t len)
{
	struct sockaddr_storage *ss;

	if (ans->naddrs == DNS_MAX_ADDRS || len > sizeof(*ss))
		return;
	ss = &ans->addrs[ans->naddrs++];
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, sa, len);
}

/* Addresses, IPv4 first (what interface endpoints always have), and the
 * smallest TTL of the records and of the CNAMEs that led to them. */
static void
fill_answer(struct dns_answer *ans, const struct ares_addrinfo *ai)
{
	unsigned ttl = UINT32_MAX;

	for (int family = AF_INET; family != 0;
	    family = family == AF_INET ? AF_INET6 : 0)
		for (const struct ares_addrinfo_node *n = ai->nodes; n;
		    n = n->ai_next)
			if (n->ai_family == family) {
				add_addr(ans, n->ai_addr, n->ai_addrlen);
				if (n->ai_ttl >= 0 && (unsigned)n->ai_ttl < ttl)
					ttl = (unsigned)n->ai_ttl;
			}
	for (const struct ares_addrinfo_cname *c = ai->cnames; c; c = c->next)
		if (c->ttl >= 0 && (unsigned)c->ttl < ttl)
			ttl = (unsigned)c->ttl;
	ans->ttl_s = ttl == UINT32_MAX ? 0 : ttl;
}

static enum dns_status
map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return DNS_NOT_FOUND;
	case ARES_ETIMEOUT:
		return DNS_TIMEOUT;
	}
	return DNS_FAILURE;
}

static void
on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct lookup *lk = arg;
	struct resolver *r = lk->ch->r;
	struct dns_answer ans = { .status = map_status(status) };

	lk->ch->pending--;
	if (status == ARES_SUCCESS && ai != NULL)
		fill_answer(&ans, ai);
	if (ans.status == DNS_OK && ans.naddrs == 0) {
		ans.status = DNS_NOT_FOUND;
		snprintf(ans.error, sizeof(ans.error), "no A or AAAA records");
	} else if (ans.status != DNS_OK) {
		snprintf(ans.error, sizeof(ans.error), "%s",
		    status == ARES_EDESTRUCTION ? "the resolver shut down" :
		    /* c-ares' own text says "could not contact" */
		    status == ARES_ECONNREFUSED ? "every server refused the "
		    "query or the connection" : ares_strerror(status));
	}
	ares_freeaddrinfo(ai);
	dnscache_complete(r->cache, lk->name, &ans, &r->policy,
	    monotonic_ms());
	if (lk->ch->retired && lk->ch->pending == 0 && !r->closing)
		event_active(r->reap, EV_TIMEOUT, 0);
	free(lk);
}

/* From dnscache_complete(), in any thread, with the cache locked. */
static void
on_wake(struct dnscache_waiter *w, const struct dns_answer *ans)
{
	struct resolver_query *q = (struct resolver_query *)(void *)
	    ((char *)w - offsetof(struct resolver_query, waiter));

	q->ans = *ans;
	event_active(q->deliver, EV_TIMEOUT, 0);
}

static void
query_free(struct resolver_query *q)
{
	LIST_REMOVE(q, link);
	event_free(q->deliver);
	free(q);
}

static void
on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_query *q = arg;
	struct resolver_result res = {
		.status = q->ans.status,
		.source = q->ans.source,
		.error = q->ans.error,
		.ttl_s = q->ans.ttl_s,
		.naddrs = q->ans.naddrs,
	};

	for (size_t i = 0; i < q->ans.naddrs; i++) {
		res.addrs[i] = q->ans.addrs[i];
		if (res.addrs[i].ss_family == AF_INET)
			((struct sockaddr_in *)&res.addrs[i])->sin_port =
			    htons(q->port);
		else
			((struct sockaddr_in6 *)&res.addrs[i])->sin6_port =
			    htons(q->port);
	}
	if (q->cb != NULL)
		q->cb(q->arg, &res);
	query_free(q);
}

static bool
parse_literal(const char *name, struct dns_answer *ans)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, name, &sin.sin_addr) == 1)
		add_addr(ans, &sin, sizeof(sin));
	else if (inet_pton(AF_INET6, name, &sin6.sin6_addr) == 1)
		add_addr(ans, &sin6, sizeof(sin6));
	else
		return false;
	ans->status = DNS_OK;
	ans->source = DNS_SRC_CACHE;
	return true;
}

/* Sends the one query for name; its answer wakes every waiter. */
static void
start_lookup(struct resolver *r, const char *name)
{
	struct ares_addrinfo_hints hints = {
		.ai_family = AF_UNSPEC,
		.ai_flags = ARES_AI_NOSORT,
	};
	struct lookup *lk = calloc(1, sizeof(*lk));
	struct dns_answer fail = { .status = DNS_FAILURE };
	struct channel *ch = r->cur;

	if (lk == NULL) {
		snprintf(fail.error, sizeof(fail.error), "out of memory");
		dnscache_complete(r->cache, name, &fail, &r->policy,
		    monotonic_ms());
		return;
	}
	lk->ch = ch;
	snprintf(lk->name, sizeof(lk->name), "%s", name);
	ch->pending++;
	/* lk may be gone when this returns (an answer from the hosts file) */
	ares_getaddrinfo(ch->ares, lk->name, NULL, &hints, on_addrinfo, lk);
	schedule_timeout(ch);
}

struct resolver_query *
resolver_resolve(struct resolver *r, const char *name, uint16_t port,
    resolver_cb *cb, void *arg)
{
	struct resolver_query *q;

	if (strlen(name) > DNS_NAME_MAX || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->deliver = event_new(r->base, -1, 0, on_deliver, q);
	if (q->deliver == NULL) {
		free(q);
		return NULL;
	}
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->port = port;
	q->waiter.wake = on_wake;
	LIST_INSERT_HEAD(&r->queries, q, link);
	if (parse_literal(name, &q->ans)) {
		event_active(q->deliver, EV_TIMEOUT, 0);
		return q;
	}
	switch (dnscache_lookup(r->cache, name, &r->policy, monotonic_ms(),
	    &q->waiter, &q->ans)) {
	case DNSCACHE_HIT:
		event_active(q->deliver, EV_TIMEOUT, 0);
		break;
	case DNSCACHE_WAIT:
		break;
	case DNSCACHE_QUERY:
		start_lookup(r, name);
		break;
	}
	return q;
}

void
resolver_cancel(struct resolver_query *q)
{
	if (dnscache_cancel(q->r->cache, &q->waiter)) {
		query_free(q); /* no wake() will come, no event is active */
		return;
	}
	q->cb = NULL; /* delivery is due: on_deliver frees it */
}

void
resolver_set_policy(struct resolver *r, const struct config *cfg)
{
	r->policy = (struct dnscache_policy){
		.min_ttl_s = cfg->resolver.min_ttl_s,
		.max_ttl_s = cfg->resolver.max_ttl_s,
		.negative_ttl_s = cfg->resolver.negative_ttl_s,
		.stale_s = cfg->resolver.serve_stale_s,
	};
}

int
resolver_settings_differ(const struct config *a, const struct config *b)
{
	if (a->resolver.timeout_ms != b->resolver.timeout_ms ||
	    a->resolver.nservers != b->resolver.nservers)
		return 1;
	for (size_t i = 0; i < a->resolver.nservers; i++)
		if (strcmp(a->resolver.servers[i], b->resolver.servers[i]) != 0)
			return 1;
	return 0;
}

struct resolver *
resolver_new(struct event_base *base, const struct config *cfg,
    struct dnscache *cache, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	r->cache = cache;
	LIST_INIT(&r->channels);
	LIST_INIT(&r->queries);
	resolver_set_policy(r, cfg);
	if ((r->reap = event_new(base, -1, 0, on_reap, r)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	if ((r->cur = channel_new(r, cfg, err, errlen)) == NULL) {
		event_free(r->reap);
		free(r);
		return NULL;
	}
	return r;
}

int
resolver_reconfigure(struct resolver *r, const struct config *cfg,
    char *err, size_t errlen)
{
	struct channel *ch;

	if ((ch = channel_new(r, cfg, err, errlen)) == NULL)
		return -1;
	resolver_set_policy(r, cfg);
	r->cur->retired = true;
	if (r->cur->pending == 0)
		event_active(r->reap, EV_TIMEOUT, 0);
	r->cur = ch;
	return 0;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_query *q;
	struct channel *ch;

	if (r == NULL)
		return;
	r->closing = true;
	/* Our own waiters first, so destroying the channels (which wakes
	 * the waiters of our lookups, in every worker) cannot wake them. */
	while ((q = LIST_FIRST(&r->queries)) != NULL) {
		(void)dnscache_cancel(r->cache, &q->waiter);
		query_free(q);
	}
	while ((ch = LIST_FIRST(&r->channels)) != NULL)
		channel_free(ch);
	event_free(r->reap);
	free(r);
}
