/*
 * resolver — see resolver.h. c-ares tells us which sockets it wants
 * watched (sock_state_cb); each gets a persistent libevent event, and one
 * timer drives c-ares' own timeouts. Results are always delivered from a
 * zero-delay event so callers never see a callback inside their own call.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <ares.h>
#include <event2/event.h>

#include "config.h"
#include "resolver.h"

struct sock_watch {
	ares_socket_t fd;
	struct event *ev;
	LIST_ENTRY(sock_watch) link;
};

struct resolver_query {
	struct resolver *r;
	resolver_cb *cb; /* NULL once cancelled */
	void *arg;
	uint16_t port;
	bool ares_pending;   /* c-ares still owns a callback to us */
	struct event *deliver; /* zero-delay delivery of result */
	struct resolver_result result;
	LIST_ENTRY(resolver_query) link;
};

struct resolver {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	LIST_HEAD(, sock_watch) socks;
	LIST_HEAD(, resolver_query) queries;
};

static void schedule_timeout(struct resolver *r);

static void
on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;

	ares_process_fd(r->channel,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	schedule_timeout(r);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;

	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	schedule_timeout(r);
}

static void
schedule_timeout(struct resolver *r)
{
	struct timeval tv;

	if (ares_timeout(r->channel, NULL, &tv) != NULL)
		evtimer_add(r->timer, &tv);
	else
		evtimer_del(r->timer);
}

/* c-ares opens, closes and changes interest in its sockets through here. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct sock_watch *w;
	short what = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	LIST_FOREACH(w, &r->socks, link)
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
		LIST_INSERT_HEAD(&r->socks, w, link);
	}
	w->ev = event_new(r->base, fd, what | EV_PERSIST, on_socket, r);
	if (w->ev != NULL)
		event_add(w->ev, NULL);
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

	if (q->cb != NULL)
		q->cb(q->arg, &q->result);
	query_free(q);
}

static void
add_addr(struct resolver_result *res, const struct sockaddr *sa,
    uint16_t port)
{
	struct sockaddr_storage *ss;

	if (res->naddrs == RESOLVER_MAX_ADDRS)
		return;
	ss = &res->addrs[res->naddrs++];
	memset(ss, 0, sizeof(*ss));
	if (sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	} else {
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	}
}

static void
fill_result(struct resolver_result *res, const struct ares_addrinfo *ai,
    uint16_t port)
{
	/* IPv4 first: it is what interface endpoints always have. */
	for (int family = AF_INET; family != 0;
	    family = family == AF_INET ? AF_INET6 : 0)
		for (const struct ares_addrinfo_node *n = ai->nodes; n;
		    n = n->ai_next)
			if (n->ai_family == family)
				add_addr(res, n->ai_addr, port);
}

static enum resolver_status
map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return RESOLVER_OK;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return RESOLVER_NOT_FOUND;
	case ARES_ETIMEOUT:
		return RESOLVER_TIMEOUT;
	}
	return RESOLVER_FAILURE;
}

static void
on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct resolver_query *q = arg;

	q->ares_pending = false;
	q->result.status = map_status(status);
	if (status == ARES_SUCCESS && ai != NULL)
		fill_result(&q->result, ai, q->port);
	if (q->result.status == RESOLVER_OK && q->result.naddrs == 0)
		q->result.status = RESOLVER_NOT_FOUND;
	if (q->result.status != RESOLVER_OK)
		q->result.error = status == ARES_SUCCESS ?
		    "no A or AAAA records" : ares_strerror(status);
	ares_freeaddrinfo(ai);
	if (status == ARES_EDESTRUCTION)
		return; /* resolver_free() frees it */
	event_active(q->deliver, EV_TIMEOUT, 0);
}

static bool
parse_literal(const char *name, uint16_t port, struct resolver_result *res)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, name, &sin.sin_addr) == 1)
		add_addr(res, (struct sockaddr *)&sin, port);
	else if (inet_pton(AF_INET6, name, &sin6.sin6_addr) == 1)
		add_addr(res, (struct sockaddr *)&sin6, port);
	else
		return false;
	res->status = RESOLVER_OK;
	return true;
}

struct resolver_query *
resolver_resolve(struct resolver *r, const char *name, uint16_t port,
    resolver_cb *cb, void *arg)
{
	struct ares_addrinfo_hints hints = {
		.ai_family = AF_UNSPEC,
		.ai_flags = ARES_AI_NOSORT,
	};
	struct resolver_query *q = calloc(1, sizeof(*q));

	if (q == NULL)
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
	LIST_INSERT_HEAD(&r->queries, q, link);
	if (parse_literal(name, port, &q->result)) {
		event_active(q->deliver, EV_TIMEOUT, 0);
		return q;
	}
	q->ares_pending = true;
	ares_getaddrinfo(r->channel, name, NULL, &hints, on_addrinfo, q);
	schedule_timeout(r);
	return q;
}

void
resolver_cancel(struct resolver_query *q)
{
	q->cb = NULL;
}

static int
set_servers(struct resolver *r, const struct config *cfg, char *err,
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
	if ((rc = ares_set_servers_ports_csv(r->channel, csv)) != ARES_SUCCESS) {
		snprintf(err, errlen, "resolver.servers: %s", ares_strerror(rc));
		return -1;
	}
	return 0;
}

struct resolver *
resolver_new(struct event_base *base, const struct config *cfg, char *err,
    size_t errlen)
{
	struct ares_options opts = {
		.sock_state_cb = on_sock_state,
		.timeout = (int)cfg->resolver.timeout_ms,
		.tries = 1,
		/* Configured servers are the private path: DNS only. */
		.lookups = cfg->resolver.nservers > 0 ? "b" : "fb",
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
	struct resolver *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	LIST_INIT(&r->socks);
	LIST_INIT(&r->queries);
	opts.sock_state_cb_data = r;
	if ((rc = ares_init_options(&r->channel, &opts, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(r);
		return NULL;
	}
	r->timer = evtimer_new(base, on_timeout, r);
	if (r->timer == NULL || (cfg->resolver.nservers > 0 &&
	    set_servers(r, cfg, err, errlen) != 0)) {
		if (r->timer == NULL)
			snprintf(err, errlen, "out of memory");
		resolver_free(r);
		return NULL;
	}
	return r;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_query *q;
	struct sock_watch *w;

	if (r == NULL)
		return;
	LIST_FOREACH(q, &r->queries, link)
		q->cb = NULL;
	ares_destroy(r->channel); /* runs on_addrinfo with EDESTRUCTION */
	while ((q = LIST_FIRST(&r->queries)) != NULL)
		query_free(q);
	while ((w = LIST_FIRST(&r->socks)) != NULL) {
		LIST_REMOVE(w, link);
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
	}
	if (r->timer != NULL)
		event_free(r->timer);
	free(r);
}
