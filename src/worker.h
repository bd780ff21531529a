/*
 * worker — one thread's world: its event_base, resolver channel, upstream
 * pool, listener sockets (SO_REUSEPORT) and sessions, plus a reference to
 * the current configuration snapshot, and its buffers of access and
 * audit lines. What workers share is in struct worker_shared: the
 * read-only snapshot, the log writer, and the process-wide
 * DNS cache, address health and replay cache (each locked inside).
 * Worker 0 also runs the active health checks.
 */
#ifndef DDBGATE_WORKER_H
#define DDBGATE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/socket.h>

struct addrhealth;
struct daxmap;
struct dnscache;
struct event;
struct event_base;
struct evconnlistener;
struct healthcheck;
struct logbuf;
struct logwriter;
struct metrics;
struct replay_cache;
struct resolver;
struct session;
struct snapshot;
struct upstream_pool;

/* Clients whose proxy authentication failed recently, per worker. */
#define WORKER_AUTH_SLOTS 64

/* Process-wide state every worker borrows; owned by main. */
struct worker_shared {
	struct logwriter *logs;
	int access_log;	/* index in logs */
	int audit_log;	/* index in logs */
	struct replay_cache *replay;
	struct dnscache *dns;
	struct addrhealth *health;
	struct metrics *metrics;
	struct daxmap *dax;	/* DAX node listeners -> nodes */
};

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
	unsigned nsessions;	/* client connections (max_sessions) */
	unsigned nstreams;	/* HTTP/2 stream sessions besides */
	unsigned max_sessions; /* this worker's share of max_connections */
	uint64_t next_session;
	struct logbuf *access_log; /* owned; NULL = off */
	struct logbuf *audit_log;  /* owned; NULL = off */
	struct replay_cache *replay; /* borrowed; shared by all workers */
	struct addrhealth *health;   /* borrowed; shared by all workers */
	struct metrics *metrics;     /* borrowed; shared by all workers */
	struct daxmap *dax;	     /* borrowed; shared by all workers */
	struct healthcheck *hc;	     /* owned; worker 0 only */
	struct {
		struct sockaddr_storage addr; /* port 0 */
		unsigned failures;
		uint64_t since_ms;
	} auth_failures[WORKER_AUTH_SLOTS]; /* proxy-auth failures by client */
	struct event *stop_ev;
	struct event *drain_ev;
	struct event *drain_deadline;
	bool draining;		/* no accept; sessions close when done */
	unsigned drain_timeout_s; /* set by worker_drain() */
	struct event *reload_ev;
	struct event *ping_ev;
	atomic_uint ping;	/* last sequence number asked for */
	atomic_uint pong;	/* last one the loop answered */
	atomic_bool done;	/* its loop has returned */
	pthread_mutex_t reload_mu;
	struct snapshot *reload_snap; /* handed over by worker_reload() */
	int *reload_fds;	      /* its new listening sockets, or -1 */
	pthread_t thread;
};

/*
 * Creates a worker on snap using the already-bound listening sockets
 * fds[0..nfds) (one per snap->cfg->listeners entry; the worker owns them
 * afterwards) and shared (copied; what it points to is borrowed).
 * Returns NULL with err set.
 */
struct worker *worker_new(unsigned id, struct snapshot *snap, const int *fds,
    size_t nfds, unsigned max_sessions, const struct worker_shared *shared,
    char *err, size_t errlen);

/*
 * Hands a reloaded snapshot to a running worker (from any thread; it
 * takes its own reference). The worker switches at its next loop turn:
 * new connections and the next request of open ones use it, requests in
 * flight finish on theirs. fds has one entry per listener of snap: a
 * socket bound for this worker (which it then owns) for a listener that
 * is new, -1 for one the worker already has (same address and mode).
 * Listeners the new configuration no longer has are closed; connections
 * they accepted go on.
 */
void worker_reload(struct worker *w, struct snapshot *snap, const int *fds);

/* Starts the worker's thread. */
int worker_start(struct worker *w);

/* Asks a worker (from any thread) to close its listeners and sessions
 * and leave its loop; then worker_join() waits for it. */
void worker_stop(struct worker *w);

/*
 * Asks a worker (from any thread) to drain: close its listeners, close
 * idle connections, let requests in flight finish, and leave its loop
 * when no session is left or after timeout_s, whichever comes first.
 */
void worker_drain(struct worker *w, unsigned timeout_s);

/*
 * Liveness for the watchdog (from any thread): worker_ping() asks the
 * loop to answer seq; worker_answered() tells whether it answered the
 * last ping, i.e. the loop turned since.
 */
void worker_ping(struct worker *w, unsigned seq);
bool worker_answered(const struct worker *w);

/* Whether the worker's loop has returned (after a stop or a drain). */
bool worker_done(const struct worker *w);
void worker_join(struct worker *w);

void worker_free(struct worker *w);

/* Called by a session when it ends, so a paused listener may resume. */
void worker_session_closed(struct worker *w);

#endif
