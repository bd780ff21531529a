/*
 * upstream — a worker's pool of idle, verified upstream TLS connections.
 * A connection is reused only for the same snapshot generation, endpoint
 * and asked-for name, since those decide where it goes and what its
 * certificate was verified against. Idle connections are watched: one
 * the server closes, or that sends unexpected bytes, or that stays idle
 * past limits.upstream_idle_timeout_s, is closed and dropped.
 */
#ifndef DDBGATE_UPSTREAM_H
#define DDBGATE_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

struct bufferevent;
struct event_base;
struct upstream_pool;

struct upstream_conn {
	struct bufferevent *bev; /* TLS; owner: the conn */
	struct sockaddr_storage addr;
	char addr_str[64]; /* "1.2.3.4:443" for logs */
	unsigned generation;
	size_t endpoint;
	char name[300]; /* pool key: the verified name, and the destination
			   when the client chose it (session.c pool_key) */
	uint64_t name_hash; /* of name: counting a key's idle connections
			       without comparing strings */
	unsigned requests; /* requests sent on it so far */
	struct upstream_pool *pool; /* set while idle in the pool */
	TAILQ_ENTRY(upstream_conn) link;
};

struct upstream_pool *upstream_pool_new(struct event_base *base,
    unsigned max_idle_per_key, unsigned idle_timeout_s);

/* Closes every idle connection and frees the pool. */
void upstream_pool_free(struct upstream_pool *pool);

/* A new connection object owning bev (connected and verified). */
struct upstream_conn *upstream_conn_new(struct bufferevent *bev,
    const struct sockaddr *addr, unsigned generation, size_t endpoint,
    const char *name);

void upstream_conn_free(struct upstream_conn *conn);

/* Takes the most recently used idle connection for the key, or NULL.
 * The caller owns it and must set its bufferevent callbacks. */
struct upstream_conn *upstream_pool_take(struct upstream_pool *pool,
    unsigned generation, size_t endpoint, const char *name);

/* Gives an idle connection (no bytes pending either way) to the pool,
 * which frees it at once when the key already has its maximum. */
void upstream_pool_put(struct upstream_pool *pool, struct upstream_conn *conn);

/* Idle connections held now (for metrics and tests; any thread). */
size_t upstream_pool_idle(const struct upstream_pool *pool);

#endif
