/*
 * worker — see worker.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "cidr.h"
#include "config.h"
#include "log.h"
#include "resolver.h"
#include "session.h"
#include "snapshot.h"
#include "upstream.h"
#include "worker.h"
#include "xmalloc.h"

/* The listener a socket belongs to, for the accept callback. */
struct accept_ctx {
	struct worker *worker;
	const struct conf_listener *conf;
};

static void
pause_listeners(struct worker *w, bool pause)
{
	for (size_t i = 0; i < w->nlisteners; i++) {
		if (pause)
			evconnlistener_disable(w->listeners[i]);
		else
			evconnlistener_enable(w->listeners[i]);
	}
}

static void
on_accept(struct evconnlistener *el, evutil_socket_t fd,
    struct sockaddr *addr, int socklen, void *arg)
{
	const struct accept_ctx *ctx = arg;
	struct worker *w = ctx->worker;
	const struct conf_listener *l = ctx->conf;
	char a[64];

	if (l->nallow_clients > 0 &&
	    !cidr_list_contains(l->allow_clients, l->nallow_clients, addr)) {
		log_info("listener %s: refused client %s: not in "
		    "allow_clients", l->address,
		    sockaddr_format(addr, a, sizeof(a)));
		close(fd);
		return;
	}
	session_new(w, l, fd, addr);
	if (w->nsessions >= w->max_sessions) {
		log_warnx("worker %u: %u connections, limits.max_connections "
		    "reached; pausing accept", w->id, w->nsessions);
		pause_listeners(w, true);
	}
}

static void
on_accept_error(struct evconnlistener *el, void *arg)
{
	/* EMFILE and friends: keep the listener, say why once per error. */
	log_warn("accept");
}

void
worker_session_closed(struct worker *w)
{
	if (w->nsessions + 1 == w->max_sessions)
		pause_listeners(w, false);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s;

	pause_listeners(w, true);
	while ((s = TAILQ_FIRST(&w->sessions)) != NULL)
		session_close(s, "shutting down");
	event_base_loopbreak(w->base);
}

struct worker *
worker_new(unsigned id, struct snapshot *snap, const int *fds, size_t nfds,
    unsigned max_sessions, char *err, size_t errlen)
{
	const struct config *cfg = snap->cfg;
	struct worker *w = xcalloc(1, sizeof(*w));

	w->id = id;
	w->snap = snapshot_ref(snap);
	w->max_sessions = max_sessions ? max_sessions : 1;
	TAILQ_INIT(&w->sessions);
	if ((w->base = event_base_new()) == NULL)
		fatalx("worker %u: cannot create an event base", id);
	w->resolver = resolver_new(w->base, cfg, err, errlen);
	w->pool = upstream_pool_new(w->base, cfg->limits.upstream_pool_size,
	    cfg->limits.upstream_idle_timeout_s);
	w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
	if (w->resolver == NULL || w->pool == NULL || w->stop_ev == NULL) {
		worker_free(w);
		return NULL;
	}
	w->listeners = xcalloc(nfds, sizeof(*w->listeners));
	w->accept_ctx = xcalloc(nfds, sizeof(struct accept_ctx));
	for (size_t i = 0; i < nfds; i++) {
		struct accept_ctx *ctx = &((struct accept_ctx *)w->accept_ctx)[i];

		ctx->worker = w;
		ctx->conf = &cfg->listeners[i];
		w->listeners[i] = evconnlistener_new(w->base, on_accept, ctx,
		    LEV_OPT_CLOSE_ON_FREE, 0, fds[i]);
		if (w->listeners[i] == NULL)
			fatalx("worker %u: cannot listen on %s", id,
			    cfg->listeners[i].address);
		evconnlistener_set_error_cb(w->listeners[i], on_accept_error);
		w->nlisteners++;
	}
	return w;
}

void
worker_set_logs(struct worker *w, FILE *access_log, FILE *audit_log,
    struct replay_cache *replay)
{
	w->access_log = access_log;
	w->audit_log = audit_log;
	w->replay = replay;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int
worker_start(struct worker *w)
{
	return pthread_create(&w->thread, NULL, worker_main, w);
}

void
worker_stop(struct worker *w)
{
	event_active(w->stop_ev, EV_TIMEOUT, 0);
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void
worker_free(struct worker *w)
{
	struct session *s;

	if (w == NULL)
		return;
	while ((s = TAILQ_FIRST(&w->sessions)) != NULL)
		session_close(s, "shutting down");
	for (size_t i = 0; i < w->nlisteners; i++)
		evconnlistener_free(w->listeners[i]);
	free(w->listeners);
	free(w->accept_ctx);
	upstream_pool_free(w->pool);
	resolver_free(w->resolver);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->base != NULL)
		event_base_free(w->base);
	snapshot_unref(w->snap);
	free(w);
}
