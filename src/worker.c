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
#include "healthcheck.h"
#include "log.h"
#include "logwriter.h"
#include "metrics.h"
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
	if (w->draining) {
		if (w->nsessions == 0 && w->nstreams == 0)
			event_base_loopbreak(w->base);
		return;
	}
	if (w->nsessions + 1 == w->max_sessions)
		pause_listeners(w, false);
}

static void
close_listeners(struct worker *w)
{
	for (size_t i = 0; i < w->nlisteners; i++)
		evconnlistener_free(w->listeners[i]);
	w->nlisteners = 0;
}

/* The drain deadline: whatever is still open is cut. */
static void
on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (w->nsessions > 0)
		log_warnx("worker %u: drain deadline (%u s): closing %u "
		    "connection(s) still open", w->id, w->drain_timeout_s,
		    w->nsessions);
	event_active(w->stop_ev, EV_TIMEOUT, 0);
}

static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tmo = { .tv_sec = w->drain_timeout_s };

	if (w->draining)
		return;
	w->draining = true;
	close_listeners(w); /* a successor may bind them now */
	healthcheck_free(w->hc);
	w->hc = NULL;
	evtimer_add(w->drain_deadline, &tmo);
	session_drain_all(w);
	if (w->nsessions == 0 && w->nstreams == 0)
		event_base_loopbreak(w->base);
}

static void
on_ping(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	atomic_store(&w->pong, atomic_load(&w->ping));
}

void
worker_ping(struct worker *w, unsigned seq)
{
	atomic_store(&w->ping, seq);
	event_active(w->ping_ev, EV_TIMEOUT, 0);
}

bool
worker_done(const struct worker *w)
{
	return atomic_load(&w->done);
}

bool
worker_answered(const struct worker *w)
{
	return atomic_load(&w->pong) == atomic_load(&w->ping);
}

void
worker_drain(struct worker *w, unsigned timeout_s)
{
	w->drain_timeout_s = timeout_s;
	event_active(w->drain_ev, EV_TIMEOUT, 0);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s;

	pause_listeners(w, true);
	while ((s = TAILQ_FIRST(&w->sessions)) != NULL)
		session_close(s, "shutting down");
	healthcheck_free(w->hc);
	w->hc = NULL;
	event_base_loopbreak(w->base);
}

/*
 * The listeners of cfg, in its order: kept ones moved over (same socket,
 * new configuration entry), new ones from fds, the rest closed. While
 * draining nothing new is opened.
 */
static void
swap_listeners(struct worker *w, const struct config *cfg, const int *fds)
{
	const struct config *old = w->snap->cfg;
	struct evconnlistener **ls = xcalloc(cfg->nlisteners + 1, sizeof(*ls));
	struct accept_ctx *ctx = xcalloc(cfg->nlisteners + 1, sizeof(*ctx));
	size_t n = 0;

	for (size_t j = 0; j < cfg->nlisteners; j++) {
		struct evconnlistener *l = NULL;

		for (size_t i = 0; fds[j] < 0 && i < w->nlisteners; i++)
			if (w->listeners[i] != NULL &&
			    config_same_listener(&old->listeners[i],
			    &cfg->listeners[j])) {
				l = w->listeners[i];
				w->listeners[i] = NULL;
			}
		if (l == NULL && fds[j] >= 0 && !w->draining)
			l = evconnlistener_new(w->base, on_accept, NULL,
			    LEV_OPT_CLOSE_ON_FREE, 0, fds[j]);
		else if (fds[j] >= 0)
			close(fds[j]);
		if (l == NULL)
			continue; /* draining, or out of memory: logged below */
		ctx[n].worker = w;
		ctx[n].conf = &cfg->listeners[j];
		ls[n++] = l;
	}
	for (size_t i = 0; i < w->nlisteners; i++)
		if (w->listeners[i] != NULL) {
			log_info("worker %u: listener %s closed by the reload",
			    w->id, old->listeners[i].address);
			evconnlistener_free(w->listeners[i]);
		}
	/* the callbacks point at the new contexts (ctx does not move now) */
	for (size_t k = 0; k < n; k++) {
		evconnlistener_set_cb(ls[k], on_accept, &ctx[k]);
		evconnlistener_set_error_cb(ls[k], on_accept_error);
	}
	if (!w->draining && n != cfg->nlisteners)
		log_warnx("worker %u: %zu of %zu listeners running after the "
		    "reload", w->id, n, cfg->nlisteners);
	free(w->listeners);
	free(w->accept_ctx);
	w->listeners = ls;
	w->accept_ctx = ctx;
	w->nlisteners = n;
	if (w->nsessions >= w->max_sessions)
		pause_listeners(w, true);
}

/* In the worker's thread: switch to the snapshot worker_reload() left. */
static void
on_reload(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct snapshot *snap;
	int *fds;
	char err[256];

	pthread_mutex_lock(&w->reload_mu);
	snap = w->reload_snap;
	fds = w->reload_fds;
	w->reload_snap = NULL;
	w->reload_fds = NULL;
	pthread_mutex_unlock(&w->reload_mu);
	if (snap == NULL)
		return;
	swap_listeners(w, snap->cfg, fds);
	free(fds);
	if (resolver_settings_differ(w->snap->cfg, snap->cfg)) {
		if (resolver_reconfigure(w->resolver, snap->cfg, err,
		    sizeof(err)) != 0)
			log_warnx("worker %u: keeping the old resolver "
			    "settings: %s", w->id, err);
	} else {
		resolver_set_policy(w->resolver, snap->cfg);
	}
	snapshot_unref(w->snap);
	w->snap = snap;
	if (w->hc != NULL)
		healthcheck_apply(w->hc, snap);
	session_reloaded_all(w);
}

/*
 * A worker's event base. With epoll's change list, the changes made to an
 * event within one loop iteration reach the kernel as one epoll_ctl(2)
 * at most, and an add undone in the same iteration as none (measured:
 * 3.0 epoll_ctl per proxied request without it, 2.5 with it; the rest
 * are a bufferevent's EV_WRITE added in one iteration and dropped in the
 * next, once its data went out). The caveat libevent documents — a file
 * descriptor dup()ed while registered — does not arise: sockets are
 * never dup()ed.
 */
static struct event_base *
new_base(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

struct worker *
worker_new(unsigned id, struct snapshot *snap, const int *fds, size_t nfds,
    unsigned max_sessions, const struct worker_shared *shared, char *err,
    size_t errlen)
{
	const struct config *cfg = snap->cfg;
	struct worker *w = xcalloc(1, sizeof(*w));

	w->id = id;
	w->snap = snapshot_ref(snap);
	w->max_sessions = max_sessions ? max_sessions : 1;
	w->replay = shared->replay;
	w->health = shared->health;
	w->metrics = shared->metrics;
	w->dax = shared->dax;
	pthread_mutex_init(&w->reload_mu, NULL);
	TAILQ_INIT(&w->sessions);
	if ((w->base = new_base()) == NULL)
		fatalx("worker %u: cannot create an event base", id);
	w->resolver = resolver_new(w->base, cfg, shared->dns, err, errlen);
	w->pool = upstream_pool_new(w->base, cfg->limits.upstream_pool_size,
	    cfg->limits.upstream_idle_timeout_s);
	w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
	w->reload_ev = event_new(w->base, -1, 0, on_reload, w);
	w->drain_ev = event_new(w->base, -1, 0, on_drain, w);
	w->ping_ev = event_new(w->base, -1, 0, on_ping, w);
	w->access_log = logbuf_new(shared->logs, shared->access_log, w->base);
	w->audit_log = logbuf_new(shared->logs, shared->audit_log, w->base);
	w->drain_deadline = evtimer_new(w->base, on_drain_deadline, w);
	if (w->resolver == NULL || w->pool == NULL || w->stop_ev == NULL ||
	    w->reload_ev == NULL || w->drain_ev == NULL ||
	    w->drain_deadline == NULL || w->ping_ev == NULL) {
		if (w->resolver != NULL)
			snprintf(err, errlen, "out of memory");
		worker_free(w);
		return NULL;
	}
	if (id == 0) {
		w->hc = healthcheck_new(w->base, w->resolver, w->health);
		healthcheck_apply(w->hc, snap);
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
worker_reload(struct worker *w, struct snapshot *snap, const int *fds)
{
	struct snapshot *old;
	int *copy = xcalloc(snap->cfg->nlisteners + 1, sizeof(*copy)), *ofds;

	memcpy(copy, fds, snap->cfg->nlisteners * sizeof(*copy));
	pthread_mutex_lock(&w->reload_mu);
	old = w->reload_snap;
	ofds = w->reload_fds;
	w->reload_snap = snapshot_ref(snap);
	w->reload_fds = copy;
	pthread_mutex_unlock(&w->reload_mu);
	if (old != NULL) { /* a reload the worker had not taken yet */
		for (size_t j = 0; j < old->cfg->nlisteners; j++)
			if (ofds[j] >= 0)
				close(ofds[j]);
		snapshot_unref(old);
	}
	free(ofds);
	event_active(w->reload_ev, EV_TIMEOUT, 0);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	metrics_bind_thread(w->id + 1); /* shard 0 is the main thread's */
	event_base_dispatch(w->base);
	atomic_store(&w->done, true);
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
	/* closing sessions may log their requests: flush after them */
	logbuf_free(w->access_log);
	logbuf_free(w->audit_log);
	for (size_t i = 0; i < w->nlisteners; i++)
		evconnlistener_free(w->listeners[i]);
	free(w->listeners);
	free(w->accept_ctx);
	healthcheck_free(w->hc);
	upstream_pool_free(w->pool);
	resolver_free(w->resolver);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->reload_ev != NULL)
		event_free(w->reload_ev);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	if (w->ping_ev != NULL)
		event_free(w->ping_ev);
	if (w->drain_deadline != NULL)
		event_free(w->drain_deadline);
	if (w->reload_snap != NULL) {
		for (size_t j = 0; j < w->reload_snap->cfg->nlisteners; j++)
			if (w->reload_fds[j] >= 0)
				close(w->reload_fds[j]);
		snapshot_unref(w->reload_snap);
	}
	free(w->reload_fds);
	pthread_mutex_destroy(&w->reload_mu);
	/*
	 * Deferred callbacks still queued when the loop stopped hold
	 * references to their bufferevents, and through them to SSL objects
	 * and contexts: let them run, and the finalizers they release,
	 * before the base goes (a few turns; nothing new is accepted).
	 */
	for (int i = 0; w->base != NULL && i < 8; i++)
		event_base_loop(w->base, EVLOOP_NONBLOCK);
	if (w->base != NULL)
		event_base_free(w->base);
	snapshot_unref(w->snap);
	free(w);
}
