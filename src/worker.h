/*
 * worker — one thread's world: its event_base, resolver channel, upstream
 * pool, listener sockets (SO_REUSEPORT) and sessions, plus a reference to
 * the current configuration snapshot. Nothing here is shared with other
 * workers except the read-only snapshot.
 */
#ifndef DDBGATE_WORKER_H
#define DDBGATE_WORKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>

struct event;
struct event_base;
struct evconnlistener;
struct resolver;
struct session;
struct snapshot;
struct upstream_pool;

struct worker {
	unsigned id;
	struct event_base *base;	/* owned */
	struct resolver *resolver;	/* owned */
	struct upstream_pool *pool;	/* owned */
	struct snapshot *snap;		/* one reference, owned */
	struct evconnlistener **listeners; /* owned, one per conf listener */
	size_t nlisteners;
	void *accept_ctx; /* owned: per-listener accept callback state */
	TAILQ_HEAD(, session) sessions;
	unsigned nsessions;
	unsigned max_sessions; /* this worker's share of max_connections */
	uint64_t next_session;
	FILE *access_log; /* borrowed from main; NULL = off */
	FILE *audit_log;  /* borrowed from main; NULL = off */
	struct replay_cache *replay; /* borrowed; shared by all workers */
	struct event *stop_ev;
	pthread_t thread;
};

/*
 * Creates a worker on snap using the already-bound listening sockets
 * fds[0..nfds) (one per snap->cfg->listeners entry; the worker owns them
 * afterwards). Returns NULL with err set.
 */
struct worker *worker_new(unsigned id, struct snapshot *snap, const int *fds,
    size_t nfds, unsigned max_sessions, char *err, size_t errlen);

/* After worker_new and before worker_start: where the worker logs and
 * remembers signatures (all borrowed; any may be NULL). */
void worker_set_logs(struct worker *w, FILE *access_log, FILE *audit_log,
    struct replay_cache *replay);

/* Starts the worker's thread. */
int worker_start(struct worker *w);

/* Asks a worker (from any thread) to close its listeners and sessions
 * and leave its loop; then worker_join() waits for it. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);

void worker_free(struct worker *w);

/* Called by a session when it ends, so a paused listener may resume. */
void worker_session_closed(struct worker *w);

#endif
