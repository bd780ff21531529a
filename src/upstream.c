/*
 * upstream — see upstream.h. The pool is a most-recently-used list: the
 * warmest connection is reused first, the coldest ones time out.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "cidr.h"
#include "log.h"
#include "tlsbev.h"
#include "upstream.h"

TAILQ_HEAD(conn_list, upstream_conn);

struct upstream_pool {
	struct event_base *base;
	unsigned max_idle_per_key;
	unsigned idle_timeout_s;
	struct conn_list idle;
	atomic_size_t nidle; /* read by the metrics thread */
};

struct upstream_pool *
upstream_pool_new(struct event_base *base, unsigned max_idle_per_key,
    unsigned idle_timeout_s)
{
	struct upstream_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL)
		return NULL;
	pool->base = base;
	pool->max_idle_per_key = max_idle_per_key;
	pool->idle_timeout_s = idle_timeout_s;
	TAILQ_INIT(&pool->idle);
	return pool;
}

void
upstream_pool_free(struct upstream_pool *pool)
{
	struct upstream_conn *c;

	if (pool == NULL)
		return;
	while ((c = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, c, link);
		upstream_conn_free(c);
	}
	free(pool);
}

/* FNV-1a, 64 bits. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

struct upstream_conn *
upstream_conn_new(struct bufferevent *bev, const struct sockaddr *addr,
    unsigned generation, size_t endpoint, const char *name)
{
	struct upstream_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->bev = bev;
	memcpy(&c->addr, addr, addr->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	sockaddr_format(addr, c->addr_str, sizeof(c->addr_str));
	c->generation = generation;
	c->endpoint = endpoint;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->name_hash = fnv1a(c->name);
	return c;
}

void
upstream_conn_free(struct upstream_conn *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
}

static void
pool_drop(struct upstream_conn *c, const char *why)
{
	struct upstream_pool *pool = c->pool;

	log_debug("upstream %s (%s): idle connection closed: %s", c->addr_str,
	    c->name, why);
	TAILQ_REMOVE(&pool->idle, c, link);
	pool->nidle--;
	upstream_conn_free(c);
}

/* An idle connection must stay silent: bytes now are a protocol error. */
static void
on_idle_read(struct bufferevent *bev, void *arg)
{
	pool_drop(arg, "unexpected bytes while idle");
}

static void
on_idle_event(struct bufferevent *bev, short what, void *arg)
{
	pool_drop(arg, (what & BEV_EVENT_TIMEOUT) ? "idle timeout" :
	    (what & BEV_EVENT_EOF) ? "closed by the server" : "error");
}

static bool
same_key(const struct upstream_conn *c, unsigned generation, size_t endpoint,
    const char *name)
{
	return c->generation == generation && c->endpoint == endpoint &&
	    strcmp(c->name, name) == 0;
}

/*
 * Whether an idle connection is still quiet: nothing buffered (by the
 * bufferevent, or read ahead by OpenSSL: a close_notify, stray bytes),
 * and the socket has neither data nor end-of-file that the loop has not
 * delivered yet. Catches a server's close that raced with this request
 * before a byte of the request is sent — idle timeouts, and servers that
 * close right after a response without saying Connection: close (a
 * shutting-down server): then the request goes on a new connection
 * instead of failing with 502. The MSG_PEEK is worth its system call.
 */
static bool
still_idle(const struct upstream_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	char b;
	ssize_t n;

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) != 0)
		return false;
	if (ssl != NULL && (SSL_has_pending(ssl) ||
	    (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN)))
		return false;
	n = recv(bufferevent_getfd(c->bev), &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct upstream_conn *
upstream_pool_take(struct upstream_pool *pool, unsigned generation,
    size_t endpoint, const char *name)
{
	struct upstream_conn *c;

	TAILQ_FOREACH(c, &pool->idle, link)
		if (same_key(c, generation, endpoint, name))
			break;
	if (c == NULL)
		return NULL;
	if (!still_idle(c)) {
		pool_drop(c, "closed or spoke while idle");
		return upstream_pool_take(pool, generation, endpoint, name);
	}
	TAILQ_REMOVE(&pool->idle, c, link);
	pool->nidle--;
	c->pool = NULL;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	return c;
}

void
upstream_pool_put(struct upstream_pool *pool, struct upstream_conn *c)
{
	struct timeval idle = { .tv_sec = pool->idle_timeout_s };
	struct upstream_conn *o;
	unsigned same = 0;

	/*
	 * The cap per key is a resource limit, so the idle connections of
	 * c's key are counted by the hash of the name (a collision would only
	 * count another key's connections too); taking one compares names.
	 */
	TAILQ_FOREACH(o, &pool->idle, link)
		if (o->generation == c->generation &&
		    o->endpoint == c->endpoint && o->name_hash == c->name_hash &&
		    ++same >= pool->max_idle_per_key)
			break;
	if (same >= pool->max_idle_per_key ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0) {
		upstream_conn_free(c);
		return;
	}
	c->pool = pool;
	TAILQ_INSERT_HEAD(&pool->idle, c, link);
	pool->nidle++;
	bufferevent_setcb(c->bev, on_idle_read, NULL, on_idle_event, c);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	tlsbev_enable_read(c->bev);	/* bytes already here: dropped */
}

size_t
upstream_pool_idle(const struct upstream_pool *pool)
{
	return atomic_load(&pool->nidle);
}
