/*
 * session — see session.h.
 *
 * Buffers: the client's input evbuffer holds received request bytes until
 * a whole request (head + Content-Length body) is there; then exactly
 * those bytes move, unchanged, to the upstream's output (RFC 9112 framing
 * decided by http1.c, never by anything else). Response bytes move the
 * other way as they arrive, framed by the response parser and the chunked
 * scanner, with reading from upstream paused while the client's output is
 * above RELAY_HIGH. Nothing is re-serialised, so SigV4 signatures and the
 * x-amz-crc32 of responses stay valid.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "access_log.h"
#include "addrhealth.h"
#include "audit.h"
#include "cidr.h"
#include "clienthello.h"
#include "config.h"
#include "daxmap.h"
#include "daxproto.h"
#include "enforce.h"
#include "h2.h"
#include "http1.h"
#include "log.h"
#include "metrics.h"
#include "proxy_error.h"
#include "proxyauth.h"
#include "request.h"
#include "resolver.h"
#include "session.h"
#include "sigv4.h"
#include "snapshot.h"
#include "tls_client.h"
#include "tls_server.h"
#include "tlsbev.h"
#include "upstream.h"
#include "worker.h"
#include "xmalloc.h"

/* <linux/netfilter_ipv4.h> clashes with <netinet/in.h>; the value is the
 * kernel ABI, and IP6T_SO_ORIGINAL_DST is the same number. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#define SESSION_MAX_ADDRS 32	/* upstream addresses tried per request */
#define RELAY_HIGH (256 * 1024) /* pause upstream reads above this */
#define RELAY_LOW (64 * 1024)	/* resume below this */
#define LINGER_SECONDS 2	/* lingering close: at most this long ... */
#define LINGER_MAX_BYTES (64u * 1024 * 1024) /* ... and this many bytes */
#define nitems(a) (sizeof(a) / sizeof((a)[0]))

struct session {
	uint64_t id;	/* per worker; logs say "worker.id" */
	enum session_state state;
	struct worker *worker;		   /* not owned */
	struct snapshot *snap;		   /* one reference, owned */
	const struct conf_listener *listener; /* in snap; NULL once a reload
						 removed it */
	enum listener_mode mode;	   /* of the listener that accepted it */
	TAILQ_ENTRY(session) link;	   /* in worker->sessions */
	char client[64];
	struct sockaddr_storage client_addr;

	int fd;			   /* the client socket; -1 for a stream */
	bool stream;		   /* an HTTP/2 stream: down is a pair end
				      whose other end is the h2 codec's */
	int32_t stream_id;
	struct h2_conn *h2;	   /* SESSION_H2: the codec; owned */
	bool plain;		   /* down is not TLS (yet): connect mode
				      before interception, or a tunnel; the
				      session closes fd itself */
	struct bufferevent *down;  /* client side; owned */
	struct event *resume;	   /* deferred input processing; owned */
	struct event *deadline;	   /* limits.request_timeout_s from a
				      request's first byte; owned */
	char host[256];		   /* the asked-for name: SNI, else Host */
	const struct conf_endpoint *ep; /* endpoint of host; NULL if none */
	size_t ep_index;
	unsigned requests;	   /* requests completed */
	bool bad_sni;		   /* SNI present but not a host name */
	bool sni_mismatch;	   /* connect: SNI is not the CONNECT host */
	struct event *linger;	   /* CLOSING: discarding client input
				      until this fires; owned */
	uint64_t linger_bytes;

	struct request req;	   /* the request being served */
	struct verdict verdict;	   /* its policy decision; owned */
	struct {
		size_t scanned;	/* input bytes searched for a head's end */
		bool continue_sent;
	} h1;			   /* HTTP/1 codec state for req */

	struct resolver_query *dns;	/* pending query; owned handle */
	size_t target_next;		/* next upstream target to resolve */
	struct sockaddr_storage addrs[SESSION_MAX_ADDRS]; /* guard-allowed */
	size_t naddrs;
	size_t addr_next;		/* next of addrs to connect to */
	enum proxy_error_kind route_error; /* first DNS or guard failure */
	char route_msg[512];
	int connect_fd;			/* -1 unless CONNECTING */
	struct event *connect_ev;	/* owned, while CONNECTING */
	enum proxy_error_kind connect_error;
	char connect_msg[512];
	struct upstream_conn *up;	/* owned while attached */
	bool up_reused;
	bool client_eof;	   /* the client ended its sending while a
				      request was in flight: answer what it
				      sent, then close */
	bool logged;		   /* the request's log lines are written */

	struct {
		char host[256];	/* the CONNECT host, lower case */
		uint16_t port;
		char user[PROXYAUTH_USER_MAX + 1]; /* proxy user; "" if none */
		bool tls_switch; /* 200 sent: TLS begins once it is flushed */
	} proxy;		   /* connect mode */
	struct event *peek;	   /* transparent: ClientHello wait; owned */
	struct timespec peek_start;
	struct sockaddr_storage orig_dst; /* transparent: SO_ORIGINAL_DST */
	char orig_dst_str[64];	   /* "" when the connection was not
				      redirected */
	struct {
		struct bufferevent *bev; /* upstream TCP; owned */
		uint64_t up_bytes, down_bytes;
		struct timespec start;
		bool closing;	/* one side ended: flushing the other */
		const char *why; /* why it is closing (static) */
		bool active;	/* this session is a tunnel */
	} tun;			   /* opaque tunnel */
	char up_addr[64];	   /* the tunnel's upstream "ip:port" */
	char orig_dst_ip[64];	   /* orig_dst without the port */

	struct dax_relay *dax;	   /* a DAX listener's connection; owned */

	struct {
		int status;
		enum http1_body body;
		uint64_t remaining;
		struct http1_chunked chunked;
		bool keep_alive;
		uint64_t bytes;
		struct timespec up_start; /* request written upstream */
	} resp;
};

/* DAX connections (the relay's code is further down). */
#define DAX_PENDING_MAX 8	/* requests answered in order, at most */
#define DAX_REQUEST_ID_LEN 48

struct dax_pending {
	const struct dax_method *method; /* what the answer is framed by */
	uint8_t *denial;	/* the answer the gateway wrote, or NULL */
	size_t denial_len;
	struct verdict verdict;	/* a data request's decision; owned */
	bool decided;		/* verdict holds one (data requests) */
	uint64_t frame_len;
	struct timespec start;
	char target[128];	/* for the access log: "DAX GetItem Orders" */
};

struct dax_relay {
	struct dax_framer framer;
	size_t fed;		/* input bytes of the current frame already
				   given to the framer */
	struct dax_response_scan resp; /* for q[qhead], once forwarded */
	bool resp_started;
	struct dax_pending q[DAX_PENDING_MAX];
	size_t qhead, qlen;
	char access_key_id[DAX_KEY_ID_MAX + 1];	/* "" before authorizing */
	char region[32];
	char map_key[256];	/* the dax listener's, for daxmap */
	unsigned nslots;	/* its node ports */
	uint16_t first_port;
	struct sockaddr_storage advertise;
	char node[64];		/* a node listener: the node's address */
	uint16_t node_port;
	uint64_t frames;
	bool reads_off;		/* client reads paused at the high-water mark */
	bool secure;		/* the client spoke TLS (aws:SecureTransport) */
};

static void process_input(struct session *s);
static void dispatch(struct session *s);
static void connect_next(struct session *s);
static void on_resolved(void *arg, const struct resolver_result *res);
static void relay_body(struct session *s, size_t head);
static void response_done(struct session *s);
static void route_start(struct session *s);
static void handshake_start(struct session *s);
static void on_down_read(struct bufferevent *bev, void *arg);
static void on_down_write(struct bufferevent *bev, void *arg);
static void on_down_event(struct bufferevent *bev, short what, void *arg);
static void dax_fail(struct session *s, enum log_level level,
    const char *what);
static void dax_free(struct dax_relay *d);
static void dax_abandon(struct session *s, const char *reason);
static const char *dax_target(const struct session *s, size_t i,
    uint16_t *port);
static void dax_upstream_ready(struct session *s);
static void dax_plain_upstream(struct session *s, int fd);
static void dax_start(struct session *s);
static int plain_start(struct session *s, size_t read_high);
static int dax_client_input(struct session *s);
static int dax_upstream_input(struct session *s);
static int dax_adopt_snapshot(struct session *s);

/*
 * The head read_head() parsed, for authorize() to use instead of parsing
 * it again — only within the same process_input() call (cleared when it
 * returns) and only if the request's bytes have not moved since (the
 * pointers in r point into base). Per worker thread: one request at a
 * time runs through a worker's stack.
 */
static _Thread_local struct {
	const struct session *owner;
	const char *base;
	struct http1_request r;
} parsed;

const char *
session_state_name(enum session_state state)
{
	static const char *const names[] = {
		[SESSION_NEW] = "accepted",
		[SESSION_PROXY_HEAD] = "reading CONNECT request",
		[SESSION_PEEK_HELLO] = "reading the TLS ClientHello",
		[SESSION_HANDSHAKE] = "client TLS handshake",
		[SESSION_READ_HEAD] = "reading request head",
		[SESSION_READ_BODY] = "reading request body",
		[SESSION_RESOLVING] = "upstream DNS resolution",
		[SESSION_CONNECTING] = "upstream TCP connect",
		[SESSION_UPSTREAM_TLS] = "upstream TLS handshake",
		[SESSION_WAIT_RESPONSE] = "waiting for upstream response",
		[SESSION_RELAY_BODY] = "relaying response body",
		[SESSION_TUNNEL] = "opaque tunnel",
		[SESSION_H2] = "HTTP/2",
		[SESSION_DAX] = "DAX relay",
		[SESSION_CLOSING] = "closing",
	};

	return names[state];
}

static void __attribute__((format(printf, 3, 4)))
slog(const struct session *s, enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_max_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->stream)
		log_msg(level, "session %u.%llu client %s host %s h2 stream %d "
		    "[%s]: %s", s->worker->id, (unsigned long long)s->id,
		    s->client, s->host[0] ? s->host : "-", (int)s->stream_id,
		    session_state_name(s->state), msg);
	else
		log_msg(level, "session %u.%llu client %s host %s [%s]: %s",
		    s->worker->id, (unsigned long long)s->id, s->client,
		    s->host[0] ? s->host : "-", session_state_name(s->state),
		    msg);
}

/* The one setter: asserts the transition is one the diagram allows. */
static void
set_state(struct session *s, enum session_state next)
{
	static const unsigned allowed[] = {
		[SESSION_NEW] = 1u << SESSION_HANDSHAKE |
		    1u << SESSION_PROXY_HEAD | 1u << SESSION_PEEK_HELLO |
		    1u << SESSION_RESOLVING,
		[SESSION_PROXY_HEAD] = 1u << SESSION_HANDSHAKE |
		    1u << SESSION_RESOLVING,
		[SESSION_PEEK_HELLO] = 1u << SESSION_HANDSHAKE,
		[SESSION_HANDSHAKE] = 1u << SESSION_READ_HEAD |
		    1u << SESSION_H2 | 1u << SESSION_RESOLVING,
		[SESSION_READ_HEAD] = 1u << SESSION_READ_BODY |
		    1u << SESSION_RESOLVING | 1u << SESSION_WAIT_RESPONSE,
		[SESSION_READ_BODY] = 1u << SESSION_RESOLVING |
		    1u << SESSION_WAIT_RESPONSE,
		[SESSION_RESOLVING] = 1u << SESSION_CONNECTING,
		[SESSION_CONNECTING] = 1u << SESSION_CONNECTING |
		    1u << SESSION_UPSTREAM_TLS | 1u << SESSION_TUNNEL |
		    1u << SESSION_DAX,
		/* a failed handshake moves on to the next address */
		[SESSION_UPSTREAM_TLS] = 1u << SESSION_WAIT_RESPONSE |
		    1u << SESSION_CONNECTING | 1u << SESSION_DAX,
		[SESSION_WAIT_RESPONSE] = 1u << SESSION_RELAY_BODY,
		[SESSION_RELAY_BODY] = 1u << SESSION_READ_HEAD,
		[SESSION_TUNNEL] = 0,
		[SESSION_H2] = 0,
		[SESSION_DAX] = 0,
		[SESSION_CLOSING] = 0,
	};

	if (next != SESSION_CLOSING && next != SESSION_READ_HEAD &&
	    (allowed[s->state] & (1u << next)) == 0) {
		log_msg(LOG_LEVEL_ERR, "%s:%d: session %u.%llu: bad transition "
		    "%s -> %s", __FILE__, __LINE__, s->worker->id,
		    (unsigned long long)s->id,
		    session_state_name(s->state), session_state_name(next));
		abort();
	}
	slog(s, LOG_LEVEL_DEBUG, "-> %s", session_state_name(next));
	s->state = next;
}

static uint64_t
elapsed_us(const struct timespec *start)
{
	struct timespec now;
	int64_t us;

	if (start->tv_sec == 0 && start->tv_nsec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - start->tv_sec) * 1000000 +
	    ((int64_t)now.tv_nsec - (int64_t)start->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

static void
write_audit(struct session *s, int status, const char *reason,
    uint64_t latency_us)
{
	struct audit_record a = {
		.source = s->client,
		.endpoint = s->ep ? s->ep->name : NULL,
		.enforcement = s->ep == NULL ? NULL :
		    s->ep->enforcement == ENFORCEMENT_REPORT ? "report" :
		    "enforce",
		.upstream = s->up ? s->up->addr_str : NULL,
		.status = status,
		.latency_us = latency_us,
		.decision = "error",
		.reason = reason,
		.user = s->proxy.user[0] ? s->proxy.user : NULL,
	};

	verdict_audit(&s->verdict, &a);
	audit_write(s->worker->audit_log, &a);
}

/*
 * The end of every request: one access-log line and one audit line.
 * error is the Proxy-Status type of a failure (NULL when none), reason
 * the sentence for the audit line (NULL: the error type, if any).
 */
static void
log_request(struct session *s, int status, const char *error,
    const char *reason)
{
	struct access_record r;

	s->logged = true;
	r = (struct access_record){
		.client = s->client,
		.endpoint = s->ep ? s->ep->name : "-",
		.host = s->host[0] ? s->host : "-",
		.target = s->req.target[0] ? s->req.target : "-",
		.status = status,
		.request_bytes = s->req.head_len + s->req.body_len,
		.response_bytes = s->resp.bytes,
		.latency_us = elapsed_us(&s->req.start),
		.upstream = s->up ? s->up->addr_str : "-",
		.error = error,
		.reused = s->up_reused,
		.h2_stream = s->stream ? s->stream_id : 0,
	};

	access_log_write(s->worker->access_log, &r);
	write_audit(s, status, reason ? reason : error, r.latency_us);
	/* a policy denial keeps its decision; any other failure is "error" */
	metrics_request(s->worker->metrics, s->ep ? s->ep->name : "-",
	    s->verdict.classified ? s->verdict.cls.operation : NULL,
	    s->verdict.decision != NULL && (error == NULL ||
	    strcmp(s->verdict.decision, "allow") != 0) ?
	    s->verdict.decision : "error", status, r.latency_us,
	    elapsed_us(&s->resp.up_start));
}

static void
log_access(struct session *s, int status, const char *error)
{
	log_request(s, status, error, NULL);
}

static void
drop_upstream(struct session *s)
{
	if (s->dns != NULL) {
		resolver_cancel(s->dns);
		s->dns = NULL;
	}
	if (s->connect_ev != NULL) {
		event_free(s->connect_ev);
		s->connect_ev = NULL;
	}
	if (s->connect_fd >= 0) {
		close(s->connect_fd);
		s->connect_fd = -1;
	}
	upstream_conn_free(s->up);
	s->up = NULL;
}

void
session_close(struct session *s, const char *reason)
{
	slog(s, LOG_LEVEL_DEBUG, "closed after %u request(s): %s",
	    s->requests, reason);
	/* a request that went past the policy and never finished: still one
	 * access line and one audit line (499: the client's side ended) */
	if (!s->logged && s->req.head_len > 0 && s->state >= SESSION_RESOLVING &&
	    s->state <= SESSION_RELAY_BODY) {
		char why[256];

		snprintf(why, sizeof(why), "the connection ended before the "
		    "response was complete: %s", reason);
		log_request(s, s->resp.status != 0 ? s->resp.status : 499,
		    "request_abandoned", why);
	}
	if (s->dax != NULL)
		dax_abandon(s, reason);
	drop_upstream(s);
	verdict_free(&s->verdict);
	dax_free(s->dax);
	h2_conn_free(s->h2); /* its stream sessions see their client leave */
	if (s->resume != NULL)
		event_free(s->resume);
	if (s->deadline != NULL)
		event_free(s->deadline);
	if (s->linger != NULL)
		event_free(s->linger);
	if (s->peek != NULL)
		event_free(s->peek);
	if (s->tun.bev != NULL)
		bufferevent_free(s->tun.bev);
	if (s->down != NULL && s->stream) /* the codec sees the end */
		bufferevent_flush(s->down, EV_WRITE, BEV_FINISHED);
	if (s->down != NULL)
		bufferevent_free(s->down);
	if ((s->plain || s->down == NULL) && s->fd >= 0)
		close(s->fd); /* not owned by a TLS bufferevent */
	TAILQ_REMOVE(&s->worker->sessions, s, link);
	if (s->stream) {
		s->worker->nstreams--;
	} else {
		metrics_connection(s->worker->metrics,
		    config_mode_name(s->mode), -1);
		s->worker->nsessions--;
	}
	worker_session_closed(s->worker);
	snapshot_unref(s->snap);
	free(s);
}

/*
 * The clean end of the client side, once everything queued is sent: a TLS
 * close_notify, so the client can tell a complete response from a cut one,
 * then a TCP half-close.
 */
static void
close_write(struct session *s)
{
	SSL *ssl;

	if (s->stream) { /* the codec ends the stream with END_STREAM */
		bufferevent_flush(s->down, EV_WRITE, BEV_FINISHED);
		return;
	}
	ssl = s->plain ? NULL : bufferevent_openssl_get_ssl(s->down);

	if (ssl != NULL && SSL_shutdown(ssl) < 0)
		ERR_clear_error(); /* best effort: the socket may be gone */
	shutdown(s->fd, SHUT_WR);
}

/* Cuts the client connection with a reset: a response that could not be
 * relayed whole must not look complete. */
static void
session_abort(struct session *s, const char *reason)
{
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };

	/* a stream: the codec sees the response end short and resets it */
	if (s->fd >= 0)
		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
	session_close(s, reason);
}

static void
on_linger_end(evutil_socket_t fd, short what, void *arg)
{
	session_close(arg, "lingering close: time limit");
}

/*
 * Ends the session once the client has been sent everything queued.
 * With linger, the client may still be sending the request we refused:
 * closing with unread input makes the kernel reset the connection, and
 * the client would lose our answer (RFC 9112 section 9.6). So input is
 * read and discarded, bounded in bytes and in total time, until the
 * client closes.
 */
static void
finish(struct session *s, const char *reason, bool linger)
{
	struct timeval tmo = { .tv_sec = LINGER_SECONDS };
	struct evbuffer *in = bufferevent_get_input(s->down);
	bool flushed = evbuffer_get_length(
	    bufferevent_get_output(s->down)) == 0;

	set_state(s, SESSION_CLOSING);
	bufferevent_setwatermark(s->down, EV_WRITE, 0, 0);
	if (linger && !s->stream) /* a stream's codec sends nothing more */
		s->linger = evtimer_new(s->worker->base, on_linger_end, s);
	if (s->linger == NULL) {
		bufferevent_disable(s->down, EV_READ);
		if (flushed) {
			close_write(s);
			session_close(s, reason);
		}
		return;
	}
	evtimer_add(s->linger, &tmo);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setwatermark(s->down, EV_READ, 0, 0);
	bufferevent_set_timeouts(s->down, NULL, &tmo);
	tlsbev_enable_read(s->down);
	if (flushed)
		close_write(s);
}

/* CLOSING with linger: discard what the client still sends. */
static void
linger_read(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->down);

	s->linger_bytes += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (s->linger_bytes > LINGER_MAX_BYTES)
		session_close(s, "lingering close: byte limit");
}

/*
 * Each request runs on the worker's newest snapshot: after a reload, a
 * kept-alive connection gets the new policies and routes at its next
 * request, while the request in flight finished on the old ones. The
 * endpoint is looked up again; a name the new configuration no longer
 * serves gets 421 from check_host().
 */
static void
adopt_snapshot(struct session *s)
{
	const struct conf_listener *l = NULL;
	const struct config *cfg = s->worker->snap->cfg;

	if (s->snap == s->worker->snap)
		return;
	/* the same socket in the new configuration, or none if removed */
	for (size_t i = 0; s->listener != NULL && i < cfg->nlisteners; i++)
		if (config_same_listener(&cfg->listeners[i], s->listener))
			l = &cfg->listeners[i];
	snapshot_unref(s->snap);
	s->snap = snapshot_ref(s->worker->snap);
	s->listener = l;
	s->ep = s->host[0] == '\0' ? NULL : config_endpoint_for_host(
	    s->snap->cfg, s->host, strlen(s->host));
}

/* Next request, from the loop rather than from inside this call stack. */
static void
next_request(struct session *s)
{
	struct timeval idle;

	if (s->client_eof && evbuffer_get_length(
	    bufferevent_get_input(s->down)) == 0) {
		finish(s, "client closed", false);
		return;
	}
	set_state(s, SESSION_READ_HEAD);
	adopt_snapshot(s);	/* and again when its first byte arrives */
	idle = (struct timeval){ .tv_sec =
	    s->snap->cfg->limits.client_idle_timeout_s };
	evtimer_del(s->deadline);
	memset(&s->req, 0, sizeof(s->req));
	verdict_free(&s->verdict);
	memset(&s->h1, 0, sizeof(s->h1));
	memset(&s->resp, 0, sizeof(s->resp));
	s->up_reused = false;
	s->logged = false;
	bufferevent_set_timeouts(s->down, &idle, &idle);
	if (!s->client_eof)
		tlsbev_enable_read(s->down);
	/* after a half-close, requests already here are still served; an
	 * incomplete one ends with 408 at limits.request_timeout_s */
	event_active(s->resume, EV_TIMEOUT, 0);
}

/*
 * Answers the current request with a proxy error. close_after is set
 * when the request's framing is in doubt, so no later byte can be read
 * as a request.
 */
static void
reply_error(struct session *s, enum proxy_error_kind kind, bool close_after,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sends an answer ddbgate wrote itself, then ends the request. */
static void
answer(struct session *s, const char *buf, size_t n, int status,
    const char *error, const char *reason, bool close_after)
{
	const char *end;

	/* the answer to HEAD has the fields of the answer to GET, no body */
	if (s->req.is_head && (end = memmem(buf, n, "\r\n\r\n", 4)) != NULL)
		n = (size_t)(end - buf) + 4;
	bufferevent_write(s->down, buf, n);
	tlsbev_write_now(s->down);
	s->resp.bytes = n;
	log_request(s, status, error, reason);
	drop_upstream(s);
	if (s->req.wire != NULL)
		evbuffer_drain(s->req.wire, s->req.wire_len);
	s->req.wire_len = 0;
	s->requests++;
	if (close_after)
		finish(s, error, true);
	else
		next_request(s);
}

static void
request_id(const struct session *s, char *buf, size_t len)
{
	snprintf(buf, len, "ddbgate-%u-%llu-%u", s->worker->id,
	    (unsigned long long)s->id, s->requests + 1);
}

static void
reply_error(struct session *s, enum proxy_error_kind kind, bool close_after,
    const char *fmt, ...)
{
	char msg[1024], rid[40], out[PROXY_ERROR_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->dax != NULL) {	/* no HTTP to answer in: the step, logged */
		dax_fail(s, kind >= PE_DNS_ERROR ? LOG_LEVEL_WARNING :
		    LOG_LEVEL_INFO, msg);
		return;
	}
	close_after = close_after || !s->req.keep_alive || s->worker->draining;
	request_id(s, rid, sizeof(rid));
	n = proxy_error_format(out, sizeof(out), kind, msg, rid, close_after);
	if (n == 0) /* cannot happen with PROXY_ERROR_MAX; never answer nothing */
		n = proxy_error_format(out, sizeof(out), kind, "(message too "
		    "long)", rid, close_after);
	slog(s, kind >= PE_DNS_ERROR ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
	    "%d %s: %s", proxy_error_status(kind), proxy_error_type(kind),
	    msg);
	answer(s, out, n, proxy_error_status(kind), proxy_error_type(kind),
	    msg, close_after);
}

/* Answers a request the policy stage refused, in DynamoDB's own words. */
static void
reply_denied(struct session *s)
{
	const struct verdict *v = &s->verdict;
	const char *ctype = v->service == SERVICE_DAX ?
	    "application/x-amz-json-1.1" : "application/x-amz-json-1.0";
	char rid[40], out[PROXY_ERROR_MAX];
	size_t n;

	if (strstr(v->type, "#InternalFailure") != NULL) {
		reply_error(s, PE_INTERNAL, true, "%s", v->message);
		return;
	}
	request_id(s, rid, sizeof(rid));
	n = proxy_error_format_aws(out, sizeof(out), v->type, v->message,
	    ctype, rid, !s->req.keep_alive);
	if (n == 0)
		n = proxy_error_format_aws(out, sizeof(out), v->type,
		    "denied (message too long)", ctype, rid,
		    !s->req.keep_alive);
	slog(s, LOG_LEVEL_INFO, "denied: %s", v->reason);
	answer(s, out, n, 400, "http_request_denied", NULL,
	    !s->req.keep_alive);
}

/*
 * The policy stage: the whole request is buffered; classify it and
 * evaluate it. Returns true when it may go upstream; otherwise the
 * client has been answered.
 */
static bool
authorize(struct session *s)
{
	const char *data = (const char *)evbuffer_pullup(s->req.wire,
	    (ev_ssize_t)s->req.wire_len);
	struct http1_request *head = &parsed.r;
	enum http1_error err;
	struct enforce_input in = {
		.snap = s->snap,
		.endpoint = s->ep_index,
		.client = (const struct sockaddr *)&s->client_addr,
		.head = head,
		.body_len = s->req.body_len,
		.now = time(NULL),
		.replay = s->worker->replay,
	};

	/* parsed once, unless the bytes moved (the body came later) */
	if (data == NULL || ((parsed.owner != s || parsed.base != data) &&
	    http1_parse_request(data, s->req.head_len, s->req.head_len, head,
	    &err) != HTTP1_OK)) {
		parsed.owner = NULL;
		reply_error(s, PE_INTERNAL, true, "cannot re-read the request");
		return false;
	}
	parsed.owner = NULL;
	in.body = data + s->req.head_len;
	enforce_request(&in, &s->verdict);
	if (strcmp(s->verdict.decision, "would-deny") == 0)
		slog(s, LOG_LEVEL_INFO, "report mode, would deny: %s",
		    s->verdict.reason);
	if (s->verdict.forward)
		return true;
	reply_denied(s);
	return false;
}

/*
 * Reads a host name (with ":port" when allow_port is set, and one
 * trailing dot) into out, lower-cased. Only letters, digits, '-' and '.'
 * are accepted, so nothing else ever reaches a log line or a lookup: an
 * IP literal or anything odd is simply not an endpoint host.
 */
static bool
host_name(const char *v, size_t len, bool allow_port, char *out,
    size_t outlen)
{
	size_t n = 0;

	for (; n < len && v[n] != ':'; n++) {
		char c = v[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
		out[n < outlen ? n : outlen - 1] =
		    (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	if (n < len) {
		if (!allow_port || n + 1 == len || len - n > 6)
			return false;
		for (size_t i = n + 1; i < len; i++)
			if (v[i] < '0' || v[i] > '9')
				return false;
	}
	if (n > 0 && v[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return false;
	out[n] = '\0';
	return true;
}

static bool
is_method(const struct http1_request *r, const char *m)
{
	return r->method_len == strlen(m) &&
	    memcmp(r->method, m, r->method_len) == 0;
}

/* Binds the session to the endpoint for host, once per connection. */
static bool
check_host(struct session *s, const struct http1_request *r)
{
	char h[256];

	if (s->bad_sni) {
		reply_error(s, PE_MISDIRECTED, true, "%s", s->sni_mismatch ?
		    "the TLS server name differs from the CONNECT host" :
		    "the TLS server name is not a host name this gateway "
		    "serves");
		return false;
	}
	if (r->host == NULL ||
	    !host_name(r->host, r->host_len, true, h, sizeof(h))) {
		reply_error(s, PE_MISDIRECTED, true, "the Host header does "
		    "not name a host this gateway serves");
		return false;
	}
	if (s->host[0] == '\0') {
		/* sni mode routes by the TLS server name: no SNI, no guess */
		reply_error(s, PE_MISDIRECTED, true, "the TLS handshake named "
		    "no server (SNI); this listener routes by it");
		return false;
	}
	if (strcmp(h, s->host) != 0) {
		reply_error(s, PE_MISDIRECTED, true, "Host %s does not match "
		    "the TLS server name %s", h, s->host);
		return false;
	}
	if (s->ep == NULL)
		s->ep = config_endpoint_for_host(s->snap->cfg, s->host,
		    strlen(s->host));
	if (s->ep == NULL) {
		reply_error(s, PE_MISDIRECTED, true, "no endpoint of this "
		    "gateway serves %s", s->host);
		return false;
	}
	s->ep_index = (size_t)(s->ep - s->snap->cfg->endpoints);
	return true;
}

static void
copy_target(struct session *s, const struct http1_request *r)
{
	const struct http1_header *t;

	t = http1_header_find(r->headers, r->nheaders, "x-amz-target");
	if (t != NULL)
		snprintf(s->req.target, sizeof(s->req.target), "%.*s",
		    (int)t->value_len, t->value);
}

/*
 * Finds the field line to drop when the request goes upstream: a client
 * that ends its connection with "Connection: close" must not end the
 * pooled upstream connection too (RFC 9110 7.6.1: Connection is
 * hop-by-hop). Only the plain case is rewritten — HTTP/1.1, exactly one
 * Connection field whose whole value is "close", and a SigV4
 * Authorization that does not sign it; anything else goes as it is and
 * the upstream connection is simply not reused.
 */
static void
find_close_line(struct session *s, const struct http1_request *r)
{
	const char *head = r->method, *end = r->method + r->head_len, *eol;
	const struct http1_header *conn = NULL, *auth = NULL;
	struct sigv4_auth sa;
	char msg[128];

	s->req.close_line_off = s->req.close_line_len = 0;
	if (r->keep_alive || r->minor_version != 1)
		return;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http1_header *h = &r->headers[i];

		if (h->name_len == 10 &&
		    strncasecmp(h->name, "connection", 10) == 0) {
			if (conn != NULL)
				return;
			conn = h;
		} else if (h->name_len == 13 &&
		    strncasecmp(h->name, "authorization", 13) == 0) {
			if (auth != NULL)
				return;
			auth = h;
		}
	}
	if (conn == NULL || conn->value_len != 5 ||
	    strncasecmp(conn->value, "close", 5) != 0)
		return;
	if (auth != NULL && (sigv4_parse_authorization(auth->value,
	    auth->value_len, &sa, msg, sizeof(msg)) != SIGV4_OK ||
	    sigv4_signs(&sa, "connection")))
		return;
	eol = memchr(conn->value + conn->value_len, '\n',
	    (size_t)(end - (conn->value + conn->value_len)));
	if (eol == NULL)
		return;
	s->req.close_line_off = (size_t)(conn->name - head);
	s->req.close_line_len = (size_t)(eol + 1 - conn->name);
}

/* Checks a parsed head against what this gateway forwards. */
static bool
accept_head(struct session *s, const struct http1_request *r)
{
	s->req.head_len = r->head_len;
	s->req.keep_alive = r->keep_alive;
	find_close_line(s, r);
	s->req.is_head = is_method(r, "HEAD"); /* refused below: no body */
	s->req.body_len = r->body == HTTP1_BODY_LENGTH ? r->content_length : 0;
	copy_target(s, r);
	if (!is_method(r, "POST") && !is_method(r, "GET")) {
		reply_error(s, PE_METHOD_NOT_ALLOWED, true, "method %.*s is "
		    "not used by DynamoDB, Streams or DAX; only POST and GET "
		    "are forwarded", (int)r->method_len, r->method);
		return false;
	}
	if (r->target_form != HTTP1_TARGET_ORIGIN) {
		reply_error(s, PE_BAD_REQUEST, true, "the request target "
		    "must be a path (origin-form)");
		return false;
	}
	if (!check_host(s, r))
		return false;
	if (s->req.body_len > s->snap->cfg->limits.max_body_bytes) {
		reply_error(s, PE_BODY_TOO_LARGE, true, "request body of %llu "
		    "bytes exceeds limits.max_body_bytes (%llu)",
		    (unsigned long long)s->req.body_len,
		    (unsigned long long)s->snap->cfg->limits.max_body_bytes);
		return false;
	}
	s->req.wire = bufferevent_get_input(s->down);
	s->req.wire_len = s->req.head_len + s->req.body_len;
	return true;
}

static enum proxy_error_kind
parse_error_kind(enum http1_error e)
{
	switch (http1_error_status(e)) {
	case 411:
		return PE_LENGTH_REQUIRED;
	case 417:
		return PE_EXPECTATION_FAILED;
	case 431:
		return PE_HEADERS_TOO_LARGE;
	}
	return PE_BAD_REQUEST;
}

/*
 * Whether the input holds the end of a head ("\r\n\r\n") or as many
 * bytes as a head may have: only then is the parser worth running, so a
 * client trickling a head byte by byte costs linear work, not quadratic.
 * *scanned remembers how far earlier calls looked.
 */
static bool
head_complete(struct evbuffer *in, size_t *scanned, size_t max)
{
	size_t len = evbuffer_get_length(in);
	struct evbuffer_ptr from, found;

	if (len >= max)
		return true;
	if (evbuffer_ptr_set(in, &from, *scanned > 3 ? *scanned - 3 : 0,
	    EVBUFFER_PTR_SET) != 0)
		return true;
	found = evbuffer_search(in, "\r\n\r\n", 4, &from);
	if (found.pos < 0) /* bare LF ends: let the parser refuse them now */
		found = evbuffer_search(in, "\n\n", 2, &from);
	*scanned = len;
	return found.pos >= 0;
}

/* READ_HEAD: returns true when a head was accepted. */
static bool
read_head(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->down);
	size_t max = s->snap->cfg->limits.max_header_bytes;
	size_t len = evbuffer_get_length(in);
	struct http1_request *r = &parsed.r;
	enum http1_error err;
	const char *data;

	parsed.owner = NULL;
	if (len == 0 || !head_complete(in, &s->h1.scanned, max))
		return false;
	if (len > max)
		len = max;
	/* all of it, when it fits: a body that came with its head is then
	   contiguous with it and the head need not be parsed again */
	data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	switch (http1_parse_request(data, len, max, r, &err)) {
	case HTTP1_AGAIN:
		return false;
	case HTTP1_ERROR:
		reply_error(s, parse_error_kind(err), true, "malformed request: "
		    "%s", http1_error_str(err));
		return false;
	case HTTP1_OK:
		break;
	}
	if (!accept_head(s, r))
		return false;
	s->h1.continue_sent = !r->expect_continue;
	parsed.owner = s;
	parsed.base = data;
	set_state(s, SESSION_READ_BODY);
	return true;
}

/* READ_BODY: returns true when the whole request is buffered. */
static bool
read_body(struct session *s)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct evbuffer *in = bufferevent_get_input(s->down);

	if (evbuffer_get_length(in) >= s->req.wire_len)
		return true;
	if (!s->h1.continue_sent) {
		/* The body is buffered whole here, so say so ourselves. */
		bufferevent_write(s->down, cont, sizeof(cont) - 1);
		tlsbev_write_now(s->down);
		s->h1.continue_sent = true;
	}
	return false;
}

/* The whole request must be in within limits.request_timeout_s. */
static void
on_request_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_READ_HEAD || s->state == SESSION_READ_BODY)
		reply_error(s, PE_REQUEST_TIMEOUT, true, "the request did not "
		    "arrive whole within limits.request_timeout_s (%u s)",
		    s->snap->cfg->limits.request_timeout_s);
}

static void
process_input(struct session *s)
{
	if (s->req.start.tv_sec == 0 &&
	    evbuffer_get_length(bufferevent_get_input(s->down)) > 0) {
		struct timeval tmo;

		/* a new request: it runs on the newest configuration */
		adopt_snapshot(s);
		tmo = (struct timeval){ .tv_sec =
		    s->snap->cfg->limits.request_timeout_s };
		clock_gettime(CLOCK_MONOTONIC, &s->req.start);
		evtimer_add(s->deadline, &tmo);
	}
	if (s->state == SESSION_READ_HEAD && !read_head(s))
		return;
	if (s->state == SESSION_READ_BODY && read_body(s))
		dispatch(s);
	parsed.owner = NULL;
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	process_input(arg);
}

/* ---- upstream ---------------------------------------------------------- */

static void on_up_read(struct bufferevent *bev, void *arg);
static void on_up_event(struct bufferevent *bev, short what, void *arg);

static void
send_request(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	struct timeval tmo = { .tv_sec = cfg->limits.upstream_timeout_s };
	struct evbuffer *out;

	set_state(s, SESSION_WAIT_RESPONSE);
	memset(&s->resp, 0, sizeof(s->resp));
	clock_gettime(CLOCK_MONOTONIC, &s->resp.up_start);
	s->up->requests++;
	bufferevent_setcb(s->up->bev, on_up_read, NULL, on_up_event, s);
	bufferevent_set_timeouts(s->up->bev, &tmo, &tmo);
	out = bufferevent_get_output(s->up->bev);
	if (s->req.close_line_len > 0) {
		evbuffer_remove_buffer(s->req.wire, out, s->req.close_line_off);
		evbuffer_drain(s->req.wire, s->req.close_line_len);
		s->req.wire_len -= s->req.close_line_off +
		    s->req.close_line_len;
	}
	evbuffer_remove_buffer(s->req.wire, out, s->req.wire_len);
	s->req.wire_len = 0;
	/*
	 * The response is read no further ahead than this: read-ahead goes
	 * on while OpenSSL holds data (tlsbev.h), so without a mark a big
	 * response would be read whole whatever the client's pace
	 * (relay_body() pauses upstream reads at RELAY_HIGH queued for the
	 * client). Room for the largest head allowed.
	 */
	bufferevent_setwatermark(s->up->bev, EV_READ, 0, RELAY_HIGH +
	    cfg->limits.max_header_bytes);
	bufferevent_enable(s->up->bev, EV_WRITE);
	tlsbev_enable_read(s->up->bev);
	tlsbev_write_now(s->up->bev);
}

/* ---- routing: resolve, guard, order, connect, verify ------------------- */

/*
 * An endpoint's upstream targets are tried as one list of addresses: the
 * targets are resolved in order (through the shared cache), each address
 * passes the egress guard or is dropped (logged, counted), and the
 * survivors are ordered by addrhealth so new connections spread over
 * them and addresses in back-off go last. A TCP or TLS failure marks the
 * address down and moves to the next one: no request byte has been sent
 * before the TLS handshake verified, so this retry is always safe.
 */

static atomic_ulong egress_refusals;

unsigned long
session_egress_refusals(void)
{
	return atomic_load(&egress_refusals);
}

static size_t
target_count(const struct session *s)
{
	if (s->dax != NULL && s->listener != NULL &&
	    s->listener->mode == LISTENER_DAX_NODE)
		return 1;
	return s->ep->nupstreams > 0 ? s->ep->nupstreams : 1;
}

/* The name (or address) and port of upstream target i. */
/*
 * Responses and requests leave as a few TLS records written back to
 * back; with Nagle the last one waits for the peer's delayed ACK (40 ms).
 */
static void
set_nodelay(int fd)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static uint16_t
sockaddr_port(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port :
	    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
}

static const char *
target_host(const struct session *s, size_t i, uint16_t *port)
{
	if (s->dax != NULL)
		return dax_target(s, i, port);
	if (s->ep->nupstreams == 0 && s->orig_dst_ip[0] != '\0') {
		/* transparent: where the client was going (guard applies) */
		*port = sockaddr_port((const struct sockaddr *)&s->orig_dst);
		return s->orig_dst_ip;
	}
	if (s->ep->nupstreams == 0) {
		*port = s->proxy.port ? s->proxy.port : 443;
		return s->host;
	}
	*port = s->ep->upstreams[i].port;
	return s->ep->upstreams[i].host;
}

static void
route_fail(struct session *s, enum proxy_error_kind kind, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Remembers the first routing failure: it is the answer if no address
 * is left to try. */
static void
route_fail(struct session *s, enum proxy_error_kind kind, const char *fmt,
    ...)
{
	va_list ap;

	if (s->route_msg[0] != '\0')
		return;
	s->route_error = kind;
	va_start(ap, fmt);
	vsnprintf(s->route_msg, sizeof(s->route_msg), fmt, ap);
	va_end(ap);
}

static void
format_cidrs(const struct conf_endpoint *ep, char *buf, size_t len)
{
	size_t used = 0;
	char c[64];

	buf[0] = '\0';
	for (size_t i = 0; i < ep->nallowed_cidrs && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    cidr_format(&ep->allowed_cidrs[i], c, sizeof(c)));

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void
guard_refused(struct session *s, const char *name, const struct sockaddr *sa)
{
	char a[64], rule[256];
	unsigned long n = atomic_fetch_add(&egress_refusals, 1) + 1;

	metrics_egress_refusal(s->worker->metrics, s->ep->name);
	sockaddr_format_ip(sa, a, sizeof(a));
	format_cidrs(s->ep, rule, sizeof(rule));
	slog(s, LOG_LEVEL_WARNING, "egress guard: %s resolved to %s, outside "
	    "allowed_cidrs [%s] of endpoint %s; not connecting (refusal %lu "
	    "since start)", name, a, rule, s->ep->name, n);
	route_fail(s, PE_DESTINATION_PROHIBITED, "upstream %s resolved to %s, "
	    "which is outside allowed_cidrs [%s] of endpoint %s; refusing to "
	    "connect", name, a, rule, s->ep->name);
}

static void resolve_next(struct session *s);
static void tunnel_open(struct session *s, int fd);

static void
on_resolved(void *arg, const struct resolver_result *res)
{
	struct session *s = arg;
	uint16_t port;
	const char *name = target_host(s, s->target_next - 1, &port);
	char age[64] = "";

	s->dns = NULL;
	if (res->status != DNS_OK) {
		slog(s, LOG_LEVEL_INFO, "upstream DNS resolution of %s failed: "
		    "%s", name, res->error);
		route_fail(s, res->status == DNS_TIMEOUT ? PE_DNS_TIMEOUT :
		    PE_DNS_ERROR, "upstream DNS resolution of %s failed: %s",
		    name, res->error);
		resolve_next(s);
		return;
	}
	if (res->source == DNS_SRC_STALE) {
		snprintf(age, sizeof(age), "%u s", s->snap->cfg->resolver
		    .serve_stale_s);
		slog(s, LOG_LEVEL_WARNING, "every resolver failed for %s; "
		    "using its expired answer (resolver.serve_stale_s: %s)",
		    name, age);
	}
	for (size_t i = 0; i < res->naddrs; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&res->addrs[i];

		if (!cidr_list_contains(s->ep->allowed_cidrs,
		    s->ep->nallowed_cidrs, sa))
			guard_refused(s, name, sa);
		else if (s->naddrs < SESSION_MAX_ADDRS)
			s->addrs[s->naddrs++] = res->addrs[i];
	}
	resolve_next(s);
}

/* Starts routing: every target resolved in turn, then connected. */
static void
route_start(struct session *s)
{
	set_state(s, SESSION_RESOLVING);
	s->target_next = 0;
	s->naddrs = 0;
	s->route_msg[0] = '\0';
	resolve_next(s);
}

/* Resolves the next target, or, after the last, connects. */
static void
resolve_next(struct session *s)
{
	uint16_t port;
	const char *name;

	if (s->target_next == target_count(s)) {
		if (s->naddrs == 0) {
			reply_error(s, s->route_error, false, "%s",
			    s->route_msg);
			return;
		}
		addrhealth_order(s->worker->health, s->addrs, s->naddrs,
		    monotonic_ms());
		s->addr_next = 0;
		set_state(s, SESSION_CONNECTING);
		connect_next(s);
		return;
	}
	name = target_host(s, s->target_next++, &port);
	s->dns = resolver_resolve(s->worker->resolver, name, port,
	    on_resolved, s);
	if (s->dns == NULL)
		reply_error(s, PE_INTERNAL, false, "out of memory");
}

/*
 * What makes pooled connections interchangeable besides the generation
 * and the endpoint: the verified name and where the connection goes when
 * the client chose it (a CONNECT port, a transparent destination).
 */
static const char *
pool_key(const struct session *s, char *buf, size_t len)
{
	uint16_t port;
	const char *to = s->ep->nupstreams > 0 ? "" : target_host(s, 0, &port);

	if (*to == '\0') {
		size_t n = strnlen(s->host, len - 1);

		memcpy(buf, s->host, n);	/* per request: no snprintf */
		buf[n] = '\0';
	} else
		snprintf(buf, len, "%s %s:%u", s->host, to, (unsigned)port);
	return buf;
}

/* A whole request is buffered: find it a verified upstream connection. */
static void
dispatch(struct session *s)
{
	char key[300];
	struct timeval idle = { .tv_sec =
	    s->snap->cfg->limits.client_idle_timeout_s };

	/*
	 * Client reads stay on while the request is in flight: turning
	 * them off and on again cost two epoll_ctl calls per request.
	 * What a client sends meanwhile waits in the input, bounded by the
	 * read high-water mark; on_down_read() leaves it there until
	 * next_request(). Only the read timeout is off, as it was.
	 */
	bufferevent_set_timeouts(s->down, NULL, &idle);
	evtimer_del(s->deadline);
	if (!authorize(s))
		return;
	s->up = upstream_pool_take(s->worker->pool, s->snap->generation,
	    s->ep_index, pool_key(s, key, sizeof(key)));
	s->up_reused = s->up != NULL;
	if (s->up != NULL) {
		send_request(s);
		return;
	}
	route_start(s);
}

/* limits.upstream_connect_timeout_ms bounds the TCP connect and, again,
 * the TLS handshake. */
static struct timeval
connect_timeout(const struct session *s)
{
	unsigned ms = s->snap->cfg->limits.upstream_connect_timeout_ms;
	struct timeval tv = { .tv_sec = ms / 1000,
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

static const struct sockaddr *
current_addr(const struct session *s)
{
	return (const struct sockaddr *)&s->addrs[s->addr_next - 1];
}

/* The address being tried failed: mark it down and try the next one. */
static void
attempt_failed(struct session *s, enum proxy_error_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
attempt_failed(struct session *s, enum proxy_error_kind kind,
    const char *fmt, ...)
{
	struct addrhealth_policy p = {
		.backoff_ms = s->snap->cfg->limits.upstream_backoff_ms,
		.backoff_max_ms = s->snap->cfg->limits.upstream_backoff_max_ms,
	};
	uint64_t now = monotonic_ms(), until;
	char a[64];
	va_list ap;

	s->connect_error = kind;
	va_start(ap, fmt);
	vsnprintf(s->connect_msg, sizeof(s->connect_msg), fmt, ap);
	va_end(ap);
	sockaddr_format(current_addr(s), a, sizeof(a));
	if (addrhealth_failed(s->worker->health, current_addr(s),
	    ADDRHEALTH_PASSIVE, s->connect_msg, &p, now, &until))
		slog(s, LOG_LEVEL_WARNING, "upstream address %s of endpoint %s "
		    "is down for %llu ms: %s", a, s->ep->name,
		    (unsigned long long)(until - now), s->connect_msg);
	else
		slog(s, LOG_LEVEL_INFO, "%s", s->connect_msg);
	connect_next(s);
}

static void
start_tls(struct session *s, int fd, const struct sockaddr *sa)
{
	struct timeval tmo = connect_timeout(s);
	char key[300];
	char peer[64];
	struct bufferevent *bev;
	SSL *ssl;

	sockaddr_format(sa, peer, sizeof(peer));
	ssl = tls_client_ssl_new(s->snap->upstream_tls[s->ep_index], s->host,
	    peer);
	/* DAX nodes get no ALPN: the official clients offer none */
	if (ssl != NULL && s->dax != NULL)
		(void)SSL_set_alpn_protos(ssl, NULL, 0);
	bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(
	    s->worker->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		/* libevent freed ssl already (BEV_OPT_CLOSE_ON_FREE) */
		close(fd);
		reply_error(s, PE_INTERNAL, false, "cannot set up upstream TLS");
		return;
	}
	tlsbev_read_ahead(bev);
	s->up = upstream_conn_new(bev, sa, s->snap->generation, s->ep_index,
	    pool_key(s, key, sizeof(key)));
	if (s->up == NULL) {
		bufferevent_free(bev);
		reply_error(s, PE_INTERNAL, false, "out of memory");
		return;
	}
	set_state(s, SESSION_UPSTREAM_TLS);
	bufferevent_setcb(bev, NULL, NULL, on_up_event, s);
	bufferevent_set_timeouts(bev, &tmo, &tmo);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
connect_failed(struct session *s, int err)
{
	char a[64];

	sockaddr_format(current_addr(s), a, sizeof(a));
	attempt_failed(s, err == ETIMEDOUT ? PE_CONNECTION_TIMEOUT :
	    err == ECONNREFUSED ? PE_CONNECTION_REFUSED :
	    PE_DESTINATION_UNAVAILABLE, "upstream TCP connect to %s (%s) "
	    "failed: %s", a, s->host, err == ETIMEDOUT ? "timed out" :
	    strerror(err));
}

static void
on_connected(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	event_free(s->connect_ev);
	s->connect_ev = NULL;
	s->connect_fd = -1;
	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		close(fd);
		connect_failed(s, err);
		return;
	}
	if (s->tun.active)
		tunnel_open(s, fd);
	else if (s->dax != NULL && !s->ep->upstream_tls)
		dax_plain_upstream(s, fd);
	else
		start_tls(s, fd, current_addr(s));
}

/* Tries the next allowed address; after the last, answers the error. */
static void
connect_next(struct session *s)
{
	struct timeval tmo = connect_timeout(s);
	const struct sockaddr *sa;
	int fd;

	if (s->addr_next == s->naddrs) {
		reply_error(s, s->connect_error, false, "%s", s->connect_msg);
		return;
	}
	set_state(s, SESSION_CONNECTING);
	sa = (const struct sockaddr *)&s->addrs[s->addr_next++];
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		reply_error(s, PE_INTERNAL, false, "socket: %s",
		    strerror(errno));
		return;
	}
	set_nodelay(fd);
	if (connect(fd, sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		connect_failed(s, err);
		return;
	}
	s->connect_fd = fd;
	s->connect_ev = event_new(s->worker->base, fd, EV_WRITE, on_connected,
	    s);
	if (s->connect_ev == NULL || event_add(s->connect_ev, &tmo) != 0) {
		reply_error(s, PE_INTERNAL, false, "out of memory");
		return;
	}
}

/* The handshake with the current address failed: drop the connection,
 * mark the address down, try the next one. */
static void
tls_failed(struct session *s, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->up->bev);
	unsigned long e = bufferevent_get_openssl_error(s->up->bev);
	char reason[256], addr[64];
	bool cert = false;

	snprintf(addr, sizeof(addr), "%s", s->up->addr_str);
	if (!(what & BEV_EVENT_TIMEOUT))
		cert = tls_client_failure(ssl, e, reason, sizeof(reason)) == 1;
	ERR_clear_error();
	upstream_conn_free(s->up);
	s->up = NULL;
	metrics_tls_failure(s->worker->metrics, "upstream",
	    (what & BEV_EVENT_TIMEOUT) ? "timeout" : cert ? "certificate" :
	    "protocol");
	if (what & BEV_EVENT_TIMEOUT)
		attempt_failed(s, PE_CONNECTION_TIMEOUT, "upstream TLS "
		    "handshake with %s (%s) timed out", addr, s->host);
	else
		attempt_failed(s, cert ? PE_TLS_CERTIFICATE : PE_TLS_PROTOCOL,
		    "upstream TLS %s for %s at %s failed: %s", cert ?
		    "certificate verification" : "handshake", s->host, addr,
		    reason);
}

static void
tls_done(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->up->bev);

	/* Verification is on in the context; check the outcome anyway. */
	if (SSL_get_verify_result(ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(ssl) == NULL) {
		tls_failed(s, BEV_EVENT_ERROR);
		return;
	}
	if (addrhealth_succeeded(s->worker->health, current_addr(s),
	    ADDRHEALTH_PASSIVE, monotonic_ms()))
		slog(s, LOG_LEVEL_INFO, "upstream address %s of endpoint %s "
		    "is up again", s->up->addr_str, s->ep->name);
	metrics_upstream_handshake(s->worker->metrics, s->ep->name,
	    tls_client_resumed(ssl));
	slog(s, LOG_LEVEL_DEBUG, "upstream %s verified as %s (%s%s)",
	    s->up->addr_str, s->host, SSL_get_version(ssl),
	    tls_client_resumed(ssl) ? ", session resumed" : "");
	if (s->dax != NULL)
		dax_upstream_ready(s);
	else
		send_request(s);
}

/* The upstream failed or went away while a response was expected. */
static void
response_failed(struct session *s, short what)
{
	if (s->state == SESSION_WAIT_RESPONSE) {
		reply_error(s, (what & BEV_EVENT_TIMEOUT) ?
		    PE_RESPONSE_TIMEOUT : PE_CONNECTION_TERMINATED, false,
		    "upstream %s (%s) %s before a complete response head",
		    s->up->addr_str, s->host, (what & BEV_EVENT_TIMEOUT) ?
		    "timed out" : "closed the connection");
		return;
	}
	if (s->resp.body == HTTP1_BODY_CLOSE && (what & BEV_EVENT_EOF)) {
		/* A close-delimited body ends here (with close_notify). */
		relay_body(s, 0);
		s->resp.keep_alive = false;
		response_done(s);
		return;
	}
	/* Part of the response is already with the client: cut it off. */
	slog(s, LOG_LEVEL_WARNING, "upstream %s %s in the middle of a "
	    "response body", s->up->addr_str, (what & BEV_EVENT_TIMEOUT) ?
	    "timed out" : "closed the connection");
	log_access(s, s->resp.status, "http_response_incomplete");
	session_abort(s, "upstream response incomplete");
}

static void
on_up_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_UPSTREAM_TLS) {
		if (what & BEV_EVENT_CONNECTED)
			tls_done(s);
		else
			tls_failed(s, what);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		response_failed(s, what);
}

static void
response_done(struct session *s)
{
	bool reuse = (s->req.keep_alive || s->req.close_line_len > 0) &&
	    s->resp.keep_alive &&
	    evbuffer_get_length(bufferevent_get_input(s->up->bev)) == 0;
	bool keep = s->req.keep_alive && s->resp.keep_alive &&
	    !s->worker->draining;

	log_access(s, s->resp.status, NULL);
	s->requests++;
	if (reuse)
		upstream_pool_put(s->worker->pool, s->up);
	else
		upstream_conn_free(s->up);
	s->up = NULL;
	if (keep)
		next_request(s);
	else
		finish(s, s->worker->draining ? "draining" :
		    "connection not kept alive", false);
}

static void
session_drain(struct session *s)
{
	bool idle = s->state == SESSION_READ_HEAD &&
	    evbuffer_get_length(bufferevent_get_input(s->down)) == 0;

	switch (s->state) {
	case SESSION_NEW:
	case SESSION_PEEK_HELLO:
	case SESSION_HANDSHAKE:
	case SESSION_PROXY_HEAD:
		session_close(s, "draining");
		break;
	case SESSION_READ_HEAD:
		if (idle)
			finish(s, "draining: idle", false);
		/* else a request is arriving: it is served, then closed */
		break;
	case SESSION_H2:
		/* GOAWAY; its streams (sessions of their own) finish */
		h2_conn_drain(s->h2);
		break;
	case SESSION_DAX:
		if (s->dax->qlen == 0)
			finish(s, "draining: idle", false);
		/* else dax_upstream_input() closes it after the answers */
		break;
	case SESSION_RESOLVING:
	case SESSION_CONNECTING:
	case SESSION_UPSTREAM_TLS:
		if (s->dax != NULL)	/* no request read yet */
			session_close(s, "draining");
		break;
	default:
		/* in flight: response_done() or answer() closes it */
		break;
	}
}

void
session_reloaded_all(struct worker *w)
{
	struct session *s;

	TAILQ_FOREACH(s, &w->sessions, link) {
		const char *why;

		if (s->state != SESSION_H2)
			continue;
		/* its next streams start from the new snapshot */
		adopt_snapshot(s);
		why = s->listener == NULL ? "its listener was removed" :
		    !s->listener->http2 ? "http2 is now off on its listener" :
		    s->host[0] != '\0' && s->ep == NULL ? "no endpoint serves "
		    "its name any more" : NULL;
		if (why != NULL) {
			slog(s, LOG_LEVEL_INFO, "reload: %s: GOAWAY", why);
			h2_conn_drain(s->h2);
		}
	}
}

void
session_drain_all(struct worker *w)
{
	struct session *s, *next;

	for (s = TAILQ_FIRST(&w->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		session_drain(s);
	}
}

/* Scans chunked framing from offset from; returns the bytes it covered. */
static size_t
scan_chunked(struct session *s, struct evbuffer *in, size_t from, bool *done,
    bool *bad)
{
	struct evbuffer_iovec v[8];
	struct evbuffer_ptr at;
	size_t total = 0;
	int n;

	if (evbuffer_ptr_set(in, &at, from, EVBUFFER_PTR_SET) != 0)
		return 0;
	n = evbuffer_peek(in, -1, &at, v, 8);
	for (int i = 0; i < n && i < 8; i++) {
		enum http1_error err;
		size_t used = 0;
		enum http1_status st = http1_chunked_scan(&s->resp.chunked,
		    v[i].iov_base, v[i].iov_len,
		    s->snap->cfg->limits.max_header_bytes, &used, &err);

		total += used;
		if (st == HTTP1_OK) {
			*done = true;
			break;
		}
		if (st == HTTP1_ERROR) {
			slog(s, LOG_LEVEL_WARNING, "upstream chunked body: %s",
			    http1_error_str(err));
			*bad = true;
			break;
		}
	}
	return total;
}

/*
 * Moves as much of the response body as is framed and available, after
 * the first head bytes of the input (the response head, not yet moved:
 * head and body go to the client in one piece, so in one TLS record).
 */
static void
relay_body(struct session *s, size_t head)
{
	struct evbuffer *in = bufferevent_get_input(s->up->bev);
	struct evbuffer *out = bufferevent_get_output(s->down);
	size_t avail = evbuffer_get_length(in) - head, n = 0;
	bool done = false, bad = false;

	switch (s->resp.body) {
	case HTTP1_BODY_NONE:
		done = true;
		break;
	case HTTP1_BODY_LENGTH:
		n = avail < s->resp.remaining ? avail : s->resp.remaining;
		s->resp.remaining -= n;
		done = s->resp.remaining == 0;
		break;
	case HTTP1_BODY_CHUNKED:
		/* scan_chunked looks at a few buffer pieces per call. */
		for (size_t part; !done && !bad && n < avail; n += part) {
			part = scan_chunked(s, in, head + n, &done, &bad);
			if (part == 0)
				break;
		}
		break;
	case HTTP1_BODY_CLOSE:
		n = avail;
		break;
	}
	evbuffer_remove_buffer(in, out, head + n);
	tlsbev_write_now(s->down);
	s->resp.bytes += n;
	if (bad) {
		log_access(s, s->resp.status, "http_protocol_error");
		session_abort(s, "malformed upstream chunked body");
		return;
	}
	if (done) {
		response_done(s);
		return;
	}
	if (evbuffer_get_length(out) > RELAY_HIGH)
		bufferevent_disable(s->up->bev, EV_READ);
}

/* WAIT_RESPONSE: parse the head (skipping 1xx), send it on, relay. */
static void
read_response_head(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->up->bev);
	size_t max = s->snap->cfg->limits.max_header_bytes;
	struct http1_response r;
	enum http1_error err;
	size_t head;
	const char *data;

	for (;;) {
		size_t len = evbuffer_get_length(in);

		if (len == 0)
			return;
		if (len > max)
			len = max;
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		switch (http1_parse_response(data, len, max, s->req.is_head,
		    &r, &err)) {
		case HTTP1_AGAIN:
			return;
		case HTTP1_ERROR:
			reply_error(s, PE_UPSTREAM_PROTOCOL, false, "upstream "
			    "%s sent a malformed response: %s",
			    s->up->addr_str, http1_error_str(err));
			return;
		case HTTP1_OK:
			break;
		}
		if (r.status >= 200)
			break;
		evbuffer_drain(in, r.head_len); /* 100 Continue: already sent */
	}
	s->resp.status = r.status;
	s->resp.body = r.body;
	s->resp.remaining = r.content_length;
	s->resp.keep_alive = r.keep_alive;
	http1_chunked_init(&s->resp.chunked);
	if (!s->req.keep_alive && r.keep_alive && r.minor_version == 1 &&
	    r.head_len >= 4 && memcmp(data + r.head_len - 4, "\r\n\r\n",
	    4) == 0) {
		/*
		 * The client asked to close and will see the connection end:
		 * say so (RFC 9112 9.6) — the upstream, which kept its
		 * connection, did not. Clients that read "keep-alive" from a
		 * response without the field count the close as an error.
		 */
		static const char field[] = "Connection: close\r\n\r\n";
		struct evbuffer *out = bufferevent_get_output(s->down);

		evbuffer_remove_buffer(in, out, r.head_len - 2);
		evbuffer_drain(in, 2);
		evbuffer_add(out, field, sizeof(field) - 1);
		s->resp.bytes = r.head_len + sizeof(field) - 3;
		head = 0;
	} else {
		s->resp.bytes = r.head_len;
		head = r.head_len;	/* moved with the body */
	}
	set_state(s, SESSION_RELAY_BODY);
	relay_body(s, head);
}

static void
on_up_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_WAIT_RESPONSE)
		read_response_head(s);
	else if (s->state == SESSION_RELAY_BODY)
		relay_body(s, 0);
}

/* ---- client side ------------------------------------------------------- */

/* ---- how the client arrives: connect and transparent modes ------------ */

static void handshake_start(struct session *s);

/* Index of the session's listener in its snapshot. */
static size_t
listener_index(const struct session *s)
{
	return (size_t)(s->listener - s->snap->cfg->listeners);
}

/*
 * Every failed proxy authentication costs a scrypt run on this worker's
 * loop; a client that fails AUTH_MAX_FAILURES times within AUTH_WINDOW_MS
 * is refused without one until the window ends.
 */
#define AUTH_MAX_FAILURES 5
#define AUTH_WINDOW_MS 60000

static struct sockaddr_storage
client_ip(const struct session *s)
{
	struct sockaddr_storage ip = s->client_addr;

	if (ip.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ip)->sin6_port = 0;
	else
		((struct sockaddr_in *)&ip)->sin_port = 0;
	return ip;
}

/* The slot of this client, or of the oldest entry to reuse. */
static size_t
auth_slot(struct worker *w, const struct sockaddr_storage *ip, bool *found)
{
	size_t oldest = 0;

	for (size_t i = 0; i < WORKER_AUTH_SLOTS; i++) {
		if (sockaddr_same((const struct sockaddr *)&w->auth_failures[i]
		    .addr, (const struct sockaddr *)ip)) {
			*found = true;
			return i;
		}
		if (w->auth_failures[i].since_ms <
		    w->auth_failures[oldest].since_ms)
			oldest = i;
	}
	*found = false;
	return oldest;
}

static bool
auth_throttled(struct session *s)
{
	struct sockaddr_storage ip = client_ip(s);
	bool found;
	size_t i = auth_slot(s->worker, &ip, &found);

	return found && s->worker->auth_failures[i].failures >=
	    AUTH_MAX_FAILURES && monotonic_ms() -
	    s->worker->auth_failures[i].since_ms < AUTH_WINDOW_MS;
}

static void
auth_failed(struct session *s)
{
	struct sockaddr_storage ip = client_ip(s);
	uint64_t now = monotonic_ms();
	bool found;
	size_t i = auth_slot(s->worker, &ip, &found);

	if (!found || now - s->worker->auth_failures[i].since_ms >=
	    AUTH_WINDOW_MS) {
		s->worker->auth_failures[i].addr = ip;
		s->worker->auth_failures[i].failures = 0;
		s->worker->auth_failures[i].since_ms = now;
	}
	s->worker->auth_failures[i].failures++;
}

/*
 * Connect mode, PROXY_HEAD: the one CONNECT request of the connection.
 * Only "CONNECT host:port" to a host of an endpoint passes, with the
 * listener's proxy authentication when it has users. Then either TLS
 * interception (200 now, our TLS once it is flushed) or, for an
 * endpoint with intercept: false, an opaque tunnel (200 once upstream
 * answered). Every refusal closes the connection.
 */
static void
read_connect(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->down);
	size_t max = s->snap->cfg->limits.max_header_bytes;
	size_t len = evbuffer_get_length(in);
	struct proxyauth *pa = s->snap->proxy_auth[listener_index(s)];
	const struct http1_header *auth;
	struct http1_request r;
	enum http1_error err;
	enum proxyauth_result ar;
	const char *data, *why;
	char *host = NULL;
	uint16_t port;

	if (len == 0 || !head_complete(in, &s->h1.scanned, max))
		return;
	if (len > max)
		len = max;
	data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	switch (http1_parse_request(data, len, max, &r, &err)) {
	case HTTP1_AGAIN:
		return;
	case HTTP1_ERROR:
		reply_error(s, parse_error_kind(err), true, "malformed proxy "
		    "request: %s", http1_error_str(err));
		return;
	case HTTP1_OK:
		break;
	}
	s->req.head_len = r.head_len;
	clock_gettime(CLOCK_MONOTONIC, &s->req.start);
	snprintf(s->req.target, sizeof(s->req.target), "%.*s %.*s",
	    (int)(r.method_len < 16 ? r.method_len : 16), r.method,
	    (int)(r.target_len < 200 ? r.target_len : 200), r.target);
	if (!is_method(&r, "CONNECT") || r.target_form != HTTP1_TARGET_AUTHORITY) {
		reply_error(s, PE_METHOD_NOT_ALLOWED, true, "this listener is "
		    "an HTTPS proxy: it serves CONNECT host:port only");
		return;
	}
	if (r.body != HTTP1_BODY_NONE) {
		reply_error(s, PE_BAD_REQUEST, true, "a CONNECT request has no "
		    "body");
		return;
	}
	if (pa != NULL) {
		if (http1_header_count(r.headers, r.nheaders,
		    "proxy-authorization") > 1) {
			reply_error(s, PE_BAD_REQUEST, true, "Proxy-Authorization "
			    "is repeated");
			return;
		}
		auth = http1_header_find(r.headers, r.nheaders,
		    "proxy-authorization");
		if (auth != NULL && auth_throttled(s)) {
			slog(s, LOG_LEVEL_WARNING, "proxy authentication "
			    "refused unchecked: %d failures from this client "
			    "within %d s", AUTH_MAX_FAILURES,
			    AUTH_WINDOW_MS / 1000);
			reply_error(s, PE_PROXY_AUTH, true, "too many failed "
			    "proxy authentications from this address; try "
			    "again in a minute");
			return;
		}
		ar = proxyauth_check(pa, auth ? auth->value : NULL,
		    auth ? auth->value_len : 0, s->proxy.user,
		    sizeof(s->proxy.user));
		if (ar == PROXYAUTH_DENIED)
			auth_failed(s);
		if (ar != PROXYAUTH_OK) {
			slog(s, LOG_LEVEL_WARNING, "proxy authentication %s",
			    ar == PROXYAUTH_MISSING ? "missing" :
			    ar == PROXYAUTH_MALFORMED ? "malformed" :
			    "refused: unknown user or wrong password");
			reply_error(s, PE_PROXY_AUTH, true, "%s", ar ==
			    PROXYAUTH_MISSING ? "this proxy requires "
			    "authentication (Proxy-Authorization: Basic)" :
			    ar == PROXYAUTH_MALFORMED ? "Proxy-Authorization "
			    "is not Basic credentials" : "proxy authentication "
			    "failed");
			return;
		}
	}
	if (hostport_parse(s->req.target + 8, 0, &host, &port, &why) != 0) {
		reply_error(s, PE_BAD_REQUEST, true, "the CONNECT target must "
		    "be host:port (%s)", why);
		return;
	}
	if (!host_name(host, strlen(host), false, s->proxy.host,
	    sizeof(s->proxy.host)) ||
	    (s->ep = config_endpoint_for_host(s->snap->cfg, s->proxy.host,
	    strlen(s->proxy.host))) == NULL) {
		slog(s, LOG_LEVEL_WARNING, "refused %s: not a host of any "
		    "endpoint", s->req.target);
		reply_error(s, PE_FORBIDDEN, true, "%s refused: the host is "
		    "not an endpoint of this gateway", s->req.target);
		free(host);
		return;
	}
	free(host);
	s->proxy.port = port;
	s->ep_index = (size_t)(s->ep - s->snap->cfg->endpoints);
	snprintf(s->host, sizeof(s->host), "%s", s->proxy.host);
	evbuffer_drain(in, r.head_len);
	s->h1.scanned = 0;
	if (!s->ep->intercept) {
		/* tunnel: bytes the client sent early go along with the rest */
		s->tun.active = true;
		bufferevent_disable(s->down, EV_READ);
		route_start(s);
		return;
	}
	if (evbuffer_get_length(in) > 0) {
		reply_error(s, PE_BAD_REQUEST, true, "bytes arrived after the "
		    "CONNECT request before the tunnel was established");
		return;
	}
	slog(s, LOG_LEVEL_DEBUG, "CONNECT %s:%u accepted%s%s: intercepting",
	    s->host, (unsigned)port, s->proxy.user[0] ? " for user " : "",
	    s->proxy.user);
	bufferevent_disable(s->down, EV_READ);
	s->proxy.tls_switch = true;
	bufferevent_setwatermark(s->down, EV_WRITE, 0, 0);
	bufferevent_write(s->down, "HTTP/1.1 200 Connection established\r\n"
	    "\r\n", 39);
}

/* Connect mode: the 200 is flushed; the client's TLS begins now. */
static void
switch_to_tls(struct session *s)
{
	s->proxy.tls_switch = false;
	bufferevent_free(s->down); /* plain, does not own the socket */
	s->down = NULL;
	handshake_start(s);
}

/* ::ffff:a.b.c.d:port becomes a.b.c.d:port. */
static void
unmap_v4(struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *in6 = (const void *)ss;
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return;
	in.sin_port = in6->sin6_port;
	memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &in, sizeof(in));
}

/* SO_ORIGINAL_DST: where a redirected connection was going. */
static void
original_destination(struct session *s)
{
	socklen_t len = sizeof(s->orig_dst);
	int level = s->client_addr.ss_family == AF_INET6 ? SOL_IPV6 : SOL_IP;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	/* SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST are both 80; an IPv4
	 * client on an IPv6 socket has an IPv4 conntrack entry */
	if (getsockopt(s->fd, level, SO_ORIGINAL_DST, &s->orig_dst,
	    &len) != 0 && (level == SOL_IP || (len = sizeof(s->orig_dst),
	    getsockopt(s->fd, SOL_IP, SO_ORIGINAL_DST, &s->orig_dst,
	    &len)) != 0))
		return;
	/* not redirected: the "original" destination is the listener (an
	 * IPv4 client of an IPv6 socket shows as ::ffff:a.b.c.d there) */
	if (getsockname(s->fd, (struct sockaddr *)&local, &llen) != 0)
		return;
	unmap_v4(&local);
	if (sockaddr_same((struct sockaddr *)&local,
	    (struct sockaddr *)&s->orig_dst))
		return;
	sockaddr_format((struct sockaddr *)&s->orig_dst, s->orig_dst_str,
	    sizeof(s->orig_dst_str));
}

static void
transparent_refuse(struct session *s, const char *why)
{
	slog(s, LOG_LEVEL_WARNING, "transparent connection to %s refused: %s",
	    s->orig_dst_str[0] ? s->orig_dst_str : "(not redirected)", why);
	session_close(s, why);
}

/* PEEK_HELLO: the SNI, read from the socket without consuming it. */
static void
on_peek(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	unsigned char buf[CLIENTHELLO_MAX_BYTES];
	unsigned idle = s->snap->cfg->limits.client_idle_timeout_s;
	struct timeval again = { .tv_usec = 10000 };
	char name[256];
	const char *why;
	size_t nlen;
	ssize_t n;

	if (elapsed_us(&s->peek_start) > (uint64_t)idle * 1000000) {
		transparent_refuse(s, "no complete TLS ClientHello within "
		    "limits.client_idle_timeout_s");
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		session_close(s, "client closed before its ClientHello");
		return;
	}
	switch (n < 0 ? CLIENTHELLO_PARTIAL : clienthello_sni(buf, (size_t)n,
	    name, sizeof(name), &nlen, &why)) {
	case CLIENTHELLO_PARTIAL:
		/* a level-triggered read would fire at once: poll instead */
		event_del(s->peek);
		event_assign(s->peek, s->worker->base, fd, 0, on_peek, s);
		event_add(s->peek, &again);
		return;
	case CLIENTHELLO_NO_SNI:
		transparent_refuse(s, "the ClientHello names no server (SNI)");
		return;
	case CLIENTHELLO_ERROR:
		transparent_refuse(s, why);
		return;
	case CLIENTHELLO_OK:
		break;
	}
	if (!host_name(name, nlen, false, s->host, sizeof(s->host)) ||
	    (s->ep = config_endpoint_for_host(s->snap->cfg, s->host,
	    strlen(s->host))) == NULL) {
		char msg[320];

		snprintf(msg, sizeof(msg), "SNI %s is not a host of any "
		    "endpoint", s->host[0] ? s->host : "(invalid)");
		s->host[0] = '\0';
		transparent_refuse(s, msg);
		return;
	}
	event_free(s->peek);
	s->peek = NULL;
	slog(s, LOG_LEVEL_DEBUG, "transparent connection to %s for %s",
	    s->orig_dst_str[0] ? s->orig_dst_str : "(not redirected)",
	    s->host);
	handshake_start(s);
}

/* ---- opaque tunnels ------------------------------------------------ */

static void
tunnel_end(struct session *s, const char *why)
{
	struct access_record r = {
		.client = s->client,
		.endpoint = s->ep->name,
		.host = s->host,
		.target = s->req.target,
		.status = 200,
		.request_bytes = s->tun.up_bytes,
		.response_bytes = s->tun.down_bytes,
		.latency_us = elapsed_us(&s->tun.start),
		.upstream = s->up_addr,
		.error = NULL,
	};
	struct audit_record a = {
		.source = s->client,
		.event_name = "CONNECT",
		.endpoint = s->ep->name,
		.upstream = s->up_addr,
		.status = 200,
		.latency_us = r.latency_us,
		.decision = "tunnel",
		.reason = "opaque tunnel (intercept: false): no per-request "
		    "policy applied",
		.tunnel_host = s->host,
		.user = s->proxy.user[0] ? s->proxy.user : NULL,
		.bytes_in = s->tun.up_bytes,
		.bytes_out = s->tun.down_bytes,
	};

	access_log_write(s->worker->access_log, &r);
	audit_write(s->worker->audit_log, &a);
	metrics_request(s->worker->metrics, s->ep->name, "CONNECT", "tunnel",
	    200, r.latency_us, r.latency_us);
	slog(s, LOG_LEVEL_DEBUG, "tunnel to %s closed (%s): %llu bytes up, "
	    "%llu down", s->up_addr, why, (unsigned long long)s->tun.up_bytes,
	    (unsigned long long)s->tun.down_bytes);
	session_close(s, why);
}

/* Moves what one side sent to the other, pausing at RELAY_HIGH. */
static void
tunnel_pump(struct session *s, struct bufferevent *from,
    struct bufferevent *to, uint64_t *count)
{
	struct evbuffer *in = bufferevent_get_input(from);
	struct evbuffer *out = bufferevent_get_output(to);

	*count += evbuffer_get_length(in);
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= RELAY_HIGH)
		bufferevent_disable(from, EV_READ);
}

static void
on_tun_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	tunnel_pump(s, s->tun.bev, s->down, &s->tun.down_bytes);
}

static void
on_tun_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (s->tun.closing && left == 0)
		tunnel_end(s, s->tun.why);
	else if (!s->tun.closing && left <= RELAY_LOW)
		bufferevent_enable(s->down, EV_READ);
}

/* One side ended: flush what the other still has to receive, then end. */
static void
tunnel_side_closed(struct session *s, struct bufferevent *other,
    const char *why)
{
	if (evbuffer_get_length(bufferevent_get_output(other)) == 0) {
		tunnel_end(s, why);
		return;
	}
	s->tun.closing = true;
	s->tun.why = why;
	bufferevent_disable(s->down, EV_READ);
	bufferevent_disable(s->tun.bev, EV_READ);
}

static void
on_tun_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	tunnel_side_closed(s, s->down, (what & BEV_EVENT_TIMEOUT) ?
	    "upstream idle timeout" : (what & BEV_EVENT_EOF) ?
	    "upstream closed" : "upstream connection error");
}

/* The upstream TCP connection is up: answer 200 and relay. */
static void
tunnel_open(struct session *s, int fd)
{
	struct timeval idle = { .tv_sec =
	    s->snap->cfg->limits.client_idle_timeout_s };
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	sockaddr_format(current_addr(s), s->up_addr, sizeof(s->up_addr));
	if (addrhealth_succeeded(s->worker->health, current_addr(s),
	    ADDRHEALTH_PASSIVE, monotonic_ms()))
		slog(s, LOG_LEVEL_INFO, "upstream address %s of endpoint %s "
		    "is up again", s->up_addr, s->ep->name);
	s->tun.bev = bufferevent_socket_new(s->worker->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->tun.bev == NULL) {
		close(fd);
		reply_error(s, PE_INTERNAL, true, "out of memory");
		return;
	}
	set_state(s, SESSION_TUNNEL);
	clock_gettime(CLOCK_MONOTONIC, &s->tun.start);
	slog(s, LOG_LEVEL_INFO, "opaque tunnel to %s (%s%s%s): no per-request "
	    "policy applies", s->up_addr, s->req.target,
	    s->proxy.user[0] ? ", user " : "", s->proxy.user);
	bufferevent_setcb(s->tun.bev, on_tun_read, on_tun_write, on_tun_event,
	    s);
	bufferevent_setwatermark(s->tun.bev, EV_WRITE, RELAY_LOW, 0);
	bufferevent_setwatermark(s->down, EV_WRITE, RELAY_LOW, 0);
	bufferevent_set_timeouts(s->tun.bev, &idle, NULL);
	bufferevent_set_timeouts(s->down, &idle, NULL);
	bufferevent_write(s->down, ok, sizeof(ok) - 1);
	bufferevent_enable(s->tun.bev, EV_READ | EV_WRITE);
	bufferevent_enable(s->down, EV_READ | EV_WRITE);
	/* what the client sent after its CONNECT */
	tunnel_pump(s, s->down, s->tun.bev, &s->tun.up_bytes);
}

/* ---- DAX: one client connection relayed to one node ------------------- */

/*
 * A DAX connection is relayed frame by frame (spec 7): the client's
 * stream is framed by daxproto.c, each data request goes through the
 * endpoint's policy, and what the policy denies is answered here with a
 * DAX error response (AccessDeniedException) in its turn, never
 * forwarded. Responses are framed by the method they answer; an
 * `endpoints` answer is held whole and rewritten so that every node
 * points at one of the dax listener's node ports. Anything that cannot
 * be framed closes the connection: nothing is forwarded on a guess.
 */
static int dax_client_input(struct session *s);
static void dax_flush_denials(struct session *s);

static void
dax_pending_clear(struct dax_pending *p)
{
	free(p->denial);
	verdict_free(&p->verdict);
	memset(p, 0, sizeof(*p));
}

static void
dax_free(struct dax_relay *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->qlen; i++)
		dax_pending_clear(&d->q[(d->qhead + i) % DAX_PENDING_MAX]);
	dax_framer_free(&d->framer);
	free(d);
}

/* Any failure of the DAX path: said once, with the step, then closed. */
static void
dax_fail(struct session *s, enum log_level level, const char *what)
{
	slog(s, level, "DAX connection closed: %s", what);
	session_close(s, what);
}

/* The name (or address) and port of upstream target i of a DAX session:
 * the node a node listener stands for, or the cluster's seed targets. */
static const char *
dax_target(const struct session *s, size_t i, uint16_t *port)
{
	const struct dax_relay *d = s->dax;

	if (d->node[0] != '\0') {
		*port = d->node_port;
		return d->node;
	}
	if (s->ep->nupstreams == 0) {
		*port = s->ep->upstream_tls ? 9111 : 8111;
		return s->host;
	}
	*port = s->ep->upstreams[i].port;
	return s->ep->upstreams[i].host;
}

/* daxmap's name for the cluster of a dax listener. */
/*
 * daxmap's name for the cluster of a dax listener: its address, endpoint,
 * node ports and advertised address, so that a reload changing any of
 * them starts a map of its own (a slot is a port of that range).
 */
static void
dax_map_key(const struct conf_listener *seed, const struct conf_endpoint *ep,
    char *buf, size_t len)
{
	char adv[INET6_ADDRSTRLEN] = "";

	sockaddr_format_ip((const struct sockaddr *)&seed->advertise_addr, adv,
	    sizeof(adv));
	snprintf(buf, len, "%s %s %s %s", seed->address, ep->name,
	    seed->node_ports, adv);
}

/* Sets up the relay state of a session on a dax or dax-node listener.
 * 0, or -1 when the session was closed. */
static int
dax_setup(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	const struct conf_listener *l = s->listener;
	const struct conf_listener *seed = l->mode == LISTENER_DAX_NODE ?
	    &cfg->listeners[l->dax_seed] : l;
	struct dax_relay *d = calloc(1, sizeof(*d));
	struct sockaddr_storage node;

	if (d == NULL) {
		session_close(s, "out of memory");
		return -1;
	}
	s->dax = d;
	s->ep_index = seed->endpoint_index;
	s->ep = &cfg->endpoints[s->ep_index];
	snprintf(s->host, sizeof(s->host), "%s", s->ep->hosts[0]);
	dax_framer_init(&d->framer, cfg->limits.max_body_bytes);
	dax_map_key(seed, s->ep, d->map_key, sizeof(d->map_key));
	d->nslots = (unsigned)(seed->node_port_last - seed->node_port_first) +
	    1;
	d->first_port = seed->node_port_first;
	d->advertise = seed->advertise_addr;
	d->secure = l->tls;
	if (l->mode != LISTENER_DAX_NODE)
		return 0;
	if (daxmap_lookup(s->worker->dax, d->map_key, l->dax_slot, &node) !=
	    0) {
		dax_fail(s, LOG_LEVEL_INFO, "no cluster node behind this node "
		    "port yet: no discovery answer has named one (clients "
		    "learn node ports from `endpoints`)");
		return -1;
	}
	sockaddr_format_ip((const struct sockaddr *)&node, d->node,
	    sizeof(d->node));
	d->node_port = sockaddr_port((const struct sockaddr *)&node);
	return 0;
}

/* Starts a DAX session: TLS with the client (daxs) or straight to
 * routing (dax); the upstream connection is made at once. */
static void
dax_start(struct session *s)
{
	const struct config *cfg = s->snap->cfg;

	if (dax_setup(s) != 0)
		return;
	if (s->listener->tls) {
		handshake_start(s);
		return;
	}
	/* room for the largest frame, as on a TLS listener */
	if (plain_start(s, cfg->limits.max_header_bytes +
	    cfg->limits.max_body_bytes) == 0)
		route_start(s);
}

/* A plain (dax://) upstream: the relay starts on the connected socket. */
static void
dax_plain_upstream(struct session *s, int fd)
{
	struct bufferevent *bev = bufferevent_socket_new(s->worker->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	char key[300];

	if (bev == NULL) {
		close(fd);
		dax_fail(s, LOG_LEVEL_WARNING, "out of memory");
		return;
	}
	s->up = upstream_conn_new(bev, current_addr(s), s->snap->generation,
	    s->ep_index, pool_key(s, key, sizeof(key)));
	if (s->up == NULL) {
		bufferevent_free(bev);
		dax_fail(s, LOG_LEVEL_WARNING, "out of memory");
		return;
	}
	dax_upstream_ready(s);
}

static void on_dax_up_read(struct bufferevent *bev, void *arg);
static void on_dax_up_write(struct bufferevent *bev, void *arg);
static void on_dax_up_event(struct bufferevent *bev, short what, void *arg);

/* The upstream is connected (and verified): frames may flow. */
static void
dax_upstream_ready(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	struct timeval idle = { .tv_sec = cfg->limits.client_idle_timeout_s };

	set_state(s, SESSION_DAX);
	slog(s, LOG_LEVEL_DEBUG, "DAX relay to %s (%s)", s->up->addr_str,
	    s->ep->upstream_tls ? "TLS verified" : "plain TCP");
	bufferevent_setcb(s->up->bev, on_dax_up_read, on_dax_up_write,
	    on_dax_up_event, s);
	bufferevent_set_timeouts(s->up->bev, NULL, NULL);
	bufferevent_setwatermark(s->up->bev, EV_READ, 0, RELAY_HIGH);
	bufferevent_setwatermark(s->up->bev, EV_WRITE, RELAY_LOW, 0);
	bufferevent_set_timeouts(s->down, &idle, &idle);
	bufferevent_enable(s->up->bev, EV_WRITE);
	tlsbev_enable_read(s->up->bev);
	tlsbev_enable_read(s->down);
	dax_client_input(s);
}

/* The request id the gateway's own answers carry. */
static void
dax_request_id(const struct session *s, char *buf, size_t len)
{
	snprintf(buf, len, "ddbgate-%u-%llu-%llu", s->worker->id,
	    (unsigned long long)s->id,
	    (unsigned long long)s->dax->frames);
}

/* The access and audit lines of one data request, from its entry
 * (reason: the audit line's, NULL for error's). */
static void
dax_log(struct session *s, struct dax_pending *p, int status,
    const char *error, const char *reason, uint64_t response_bytes)
{
	struct upstream_conn *up = s->up;

	verdict_free(&s->verdict);
	s->verdict = p->verdict;	/* moved: log_request reads it there */
	memset(&p->verdict, 0, sizeof(p->verdict));
	p->decided = false;
	memset(&s->req, 0, sizeof(s->req));
	memcpy(s->req.target, p->target, sizeof(s->req.target));
	s->req.head_len = (size_t)p->frame_len;
	s->req.start = p->start;
	s->resp.bytes = response_bytes;
	memset(&s->resp.up_start, 0, sizeof(s->resp.up_start));
	if (p->denial != NULL)
		s->up = NULL;	/* a denial never went upstream */
	log_request(s, status, error, reason);
	s->up = up;
	verdict_free(&s->verdict);
	s->requests++;
}

/* Queues an answer entry; the caller filled it. */
static struct dax_pending *
dax_push(struct dax_relay *d)
{
	struct dax_pending *p = &d->q[(d->qhead + d->qlen) % DAX_PENDING_MAX];

	memset(p, 0, sizeof(*p));
	d->qlen++;
	return p;
}

static void
dax_pop(struct dax_relay *d)
{
	dax_pending_clear(&d->q[d->qhead]);
	d->qhead = (d->qhead + 1) % DAX_PENDING_MAX;
	d->qlen--;
	d->resp_started = false;
}

/* Writes the answers the gateway made that are next in line. */
static void
dax_flush_denials(struct session *s)
{
	struct dax_relay *d = s->dax;
	struct dax_pending *p;

	while (d->qlen > 0 && (p = &d->q[d->qhead])->denial != NULL) {
		bufferevent_write(s->down, p->denial, p->denial_len);
		dax_log(s, p, 400, "dax_request_denied", NULL, p->denial_len);
		dax_pop(d);
	}
	tlsbev_write_now(s->down);
}

/* "DAX BatchWriteItem Orders,Audit": what the access log shows (table
 * names are names, not item data). */
static void
dax_target_line(struct dax_pending *p, const struct dax_request *r)
{
	size_t n = (size_t)snprintf(p->target, sizeof(p->target), "DAX %s",
	    r->method->name);

	for (size_t i = 0; i < r->npairs && n < sizeof(p->target); i++) {
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(dax_pair_table(r, k),
			    dax_pair_table(r, i)) == 0;
		if (!seen)
			n += (size_t)snprintf(p->target + n,
			    sizeof(p->target) - n, "%c%s", i ? ',' : ' ',
			    dax_pair_table(r, i));
	}
}

/* A data request: decide, then forward it or queue the denial. */
static void
dax_decide(struct session *s, struct evbuffer *in, struct evbuffer *out,
    const struct dax_request *r)
{
	static const int denied_path[] = { 4, 37, 38, 39, 42 };
	struct dax_relay *d = s->dax;
	struct enforce_dax_input ei = {
		.snap = s->snap,
		.endpoint = s->ep_index,
		.client = (const struct sockaddr *)&s->client_addr,
		/* how this connection came in, not its listener now (a
		 * reload may have removed it) */
		.secure_transport = d->secure,
		.now = time(NULL),
		.req = r,
		.access_key_id = d->access_key_id,
		.region = d->region,
	};
	struct dax_pending *p = dax_push(d);
	char rid[DAX_REQUEST_ID_LEN];
	size_t cap, n;

	p->method = r->method;
	p->frame_len = r->len;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	dax_target_line(p, r);
	enforce_dax(&ei, &p->verdict);
	p->decided = true;
	if (p->verdict.forward) {
		evbuffer_remove_buffer(in, out, (size_t)r->len);
		return;
	}
	evbuffer_drain(in, (size_t)r->len);
	slog(s, LOG_LEVEL_INFO, "denied: %s", p->verdict.reason);
	dax_request_id(s, rid, sizeof(rid));
	cap = strlen(p->verdict.message) + 128;
	p->denial = xmalloc(cap);
	n = dax_error_encode(p->denial, cap, denied_path, nitems(denied_path),
	    p->verdict.message, rid, "AccessDeniedException", 400);
	p->denial_len = n;
	if (d->qlen == 1)
		dax_flush_denials(s);
}

/* One whole client frame is at the front of the input. 0, or -1 when
 * the session was closed. */
static int
dax_frame(struct session *s, struct evbuffer *in, struct evbuffer *out)
{
	struct dax_relay *d = s->dax;
	const struct dax_request *r = &d->framer.req;
	struct dax_pending *p;
	char why[300];

	d->frames++;
	/* only a data request is answered for itself: any other frame the
	 * gateway cannot take as it is ends the connection */
	if (r->refused && r->kind != DAX_DATA) {
		snprintf(why, sizeof(why), "%s: %s", r->method != NULL ?
		    r->method->name : "preamble", r->refusal);
		dax_fail(s, LOG_LEVEL_INFO, why);
		return -1;
	}
	switch (r->kind) {
	case DAX_PREAMBLE:
		evbuffer_remove_buffer(in, out, (size_t)r->len);
		return 0;
	case DAX_AUTH:
		if (strcmp(d->access_key_id, r->access_key_id) != 0)
			slog(s, LOG_LEVEL_DEBUG, "authorizeConnection: access "
			    "key id %s", r->access_key_id);
		memcpy(d->access_key_id, r->access_key_id,
		    sizeof(d->access_key_id));
		memcpy(d->region, r->region, sizeof(d->region));
		evbuffer_remove_buffer(in, out, (size_t)r->len);
		return 0;
	case DAX_ENDPOINTS:
	case DAX_META:
		p = dax_push(d);
		p->method = r->method;
		p->frame_len = r->len;
		evbuffer_remove_buffer(in, out, (size_t)r->len);
		return 0;
	case DAX_DATA:
		dax_decide(s, in, out, r);
		return 0;
	}
	return 0;
}

/*
 * Client reads stop while the input waits at the read high-water mark
 * (the queue or the upstream is full): libevent would run the read
 * callback on every loop turn otherwise. They resume once frames moved.
 */
static void
dax_read_pace(struct session *s)
{
	struct dax_relay *d = s->dax;
	size_t high = 0;

	bufferevent_getwatermark(s->down, EV_READ, NULL, &high);
	if (high > 0 && evbuffer_get_length(bufferevent_get_input(s->down)) >=
	    high) {
		if (!d->reads_off)
			bufferevent_disable(s->down, EV_READ);
		d->reads_off = true;
	} else if (d->reads_off) {
		d->reads_off = false;
		tlsbev_enable_read(s->down);
	}
}

/* Frames what the client sent, while the queue and the upstream have
 * room. 0, or -1 when the session was closed (s is gone). */
static int
dax_client_input(struct session *s)
{
	struct dax_relay *d = s->dax;
	struct evbuffer *in = bufferevent_get_input(s->down);
	struct evbuffer *out;

	if (s->state != SESSION_DAX || s->worker->draining)
		return 0; /* the upstream is not ready, or no new requests */
	if (d->fed == 0 && dax_adopt_snapshot(s) != 0)
		return -1;
	out = bufferevent_get_output(s->up->bev);
	/*
	 * The client's output bounds framing too: denials are answered
	 * here, without the node, so a client that sends denied requests
	 * and never reads would otherwise grow it without limit. on_down_write
	 * resumes (through dax_upstream_input) below RELAY_LOW.
	 */
	while (d->qlen < DAX_PENDING_MAX &&
	    evbuffer_get_length(out) < RELAY_HIGH &&
	    evbuffer_get_length(bufferevent_get_output(s->down)) < RELAY_HIGH &&
	    evbuffer_get_length(in) > d->fed) {
		struct evbuffer_iovec v[8];
		struct evbuffer_ptr at;
		enum dax_status st = DAX_MORE;
		int nv;

		evbuffer_ptr_set(in, &at, d->fed, EVBUFFER_PTR_SET);
		nv = evbuffer_peek(in, -1, &at, v, 8);
		for (int i = 0; i < nv && i < 8 && st == DAX_MORE; i++) {
			size_t used = 0;

			st = dax_framer_feed(&d->framer, v[i].iov_base,
			    v[i].iov_len, &used);
			d->fed += used;
		}
		if (st == DAX_ERROR) {
			char why[300];

			snprintf(why, sizeof(why), "client stream: %s",
			    d->framer.err);
			dax_fail(s, LOG_LEVEL_WARNING, why);
			return -1;
		}
		if (st == DAX_MORE && nv > 8)
			continue; /* peek showed 8 chains of more: look again */
		if (st == DAX_MORE)
			break;	/* the rest of the frame is still to come */
		d->fed = 0;
		if (dax_frame(s, in, out) != 0)
			return -1;
	}
	dax_read_pace(s);
	if (evbuffer_get_length(out) > 0) {
		tlsbev_write_now(s->up->bev);
		if (d->qlen > 0) {
			struct timeval tmo = { .tv_sec =
			    s->snap->cfg->limits.upstream_timeout_s };

			bufferevent_set_timeouts(s->up->bev, &tmo, NULL);
		}
	}
	return 0;
}

/* daxmap slot -> the node port clients are given. */
static int
dax_map_node(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *to)
{
	struct session *s = arg;
	struct dax_relay *d = s->dax;
	struct sockaddr_storage ss;
	char a[64];
	int slot;

	memset(&ss, 0, sizeof(ss));
	if (node->addrlen == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, node->addr, 4);
		sin->sin_port = htons(node->port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, node->addr, 16);
		sin6->sin6_port = htons(node->port);
	}
	sockaddr_format((const struct sockaddr *)&ss, a, sizeof(a));
	if (!cidr_list_contains(s->ep->allowed_cidrs, s->ep->nallowed_cidrs,
	    (const struct sockaddr *)&ss)) {
		guard_refused(s, "a discovered DAX node",
		    (const struct sockaddr *)&ss);
		return -1;
	}
	slot = daxmap_assign(s->worker->dax, d->map_key, d->nslots, &ss,
	    monotonic_ms());
	if (slot < 0) {
		slog(s, LOG_LEVEL_WARNING, "discovery: node %s left out of the "
		    "answer: all %u node ports of the dax listener stand for "
		    "other nodes (widen node_ports)", a, d->nslots);
		return -1;
	}
	if (d->advertise.ss_family == AF_INET) {
		to->addrlen = 4;
		memcpy(to->addr, &((const struct sockaddr_in *)(const void *)
		    &d->advertise)->sin_addr, 4);
	} else {
		to->addrlen = 16;
		memcpy(to->addr, &((const struct sockaddr_in6 *)(const void *)
		    &d->advertise)->sin6_addr, 16);
	}
	to->port = (uint16_t)(d->first_port + (unsigned)slot);
	slog(s, LOG_LEVEL_DEBUG, "discovery: node %s is node port %u", a,
	    (unsigned)to->port);
	return 0;
}

/* A whole `endpoints` answer of len bytes at the front of in. */
static int
dax_rewrite_endpoints(struct session *s, struct evbuffer *in, size_t len)
{
	const uint8_t *raw = evbuffer_pullup(in, (ev_ssize_t)len);
	uint8_t *rewritten;
	size_t n;
	char err[200], why[400];

	if (dax_endpoints_rewrite(raw, len, dax_map_node, s, &rewritten, &n,
	    err, sizeof(err)) < 0) {
		snprintf(why, sizeof(why), "an endpoints answer from %s that "
		    "cannot be rewritten: %s", s->up->addr_str, err);
		dax_fail(s, LOG_LEVEL_WARNING, why);
		return -1;
	}
	evbuffer_drain(in, len);
	bufferevent_write(s->down, rewritten, n);
	free(rewritten);
	return 0;
}

/*
 * Frames the node's answers and relays them in order. 0, or -1 when the
 * relay ended (the session is closed, or closing once its output is
 * flushed: either way the caller leaves it alone).
 */
static int
dax_upstream_input(struct session *s)
{
	struct dax_relay *d = s->dax;
	struct evbuffer *in = bufferevent_get_input(s->up->bev);
	struct evbuffer *out = bufferevent_get_output(s->down);
	const struct config *cfg = s->snap->cfg;
	char why[300];

	while (evbuffer_get_length(in) > 0 &&
	    evbuffer_get_length(out) < RELAY_HIGH) {
		struct dax_pending *p;
		struct evbuffer_iovec v[8];
		struct evbuffer_ptr at;
		enum dax_status st = DAX_MORE;
		bool hold;
		size_t fed = 0;
		int nv;

		if (d->qlen == 0) {
			snprintf(why, sizeof(why), "%s sent bytes no request "
			    "asked for", s->up->addr_str);
			dax_fail(s, LOG_LEVEL_WARNING, why);
			return -1;
		}
		p = &d->q[d->qhead];
		if (!d->resp_started) {
			dax_response_init(&d->resp, p->method,
			    cfg->limits.max_body_bytes);
			d->resp_started = true;
		}
		/* an endpoints answer is held whole; others stream through */
		hold = p->method->kind == DAX_ENDPOINTS;
		evbuffer_ptr_set(in, &at, hold ? (size_t)d->resp.used : 0,
		    EVBUFFER_PTR_SET);
		nv = evbuffer_peek(in, -1, &at, v, 8);
		for (int i = 0; i < nv && i < 8 && st == DAX_MORE; i++) {
			size_t used = 0;

			st = dax_response_feed(&d->resp, v[i].iov_base,
			    v[i].iov_len, &used);
			fed += used;
		}
		if (st == DAX_ERROR) {
			snprintf(why, sizeof(why), "%s: %s", s->up->addr_str,
			    d->resp.err);
			dax_fail(s, LOG_LEVEL_WARNING, why);
			return -1;
		}
		if (!hold)
			evbuffer_remove_buffer(in, out, fed);
		if (st == DAX_MORE && nv > 8)
			continue; /* peek showed 8 chains of more: look again */
		if (st == DAX_MORE)
			break;	/* the rest of the answer is still to come */
		if (hold && !d->resp.error) {
			if (dax_rewrite_endpoints(s, in,
			    (size_t)d->resp.used) != 0)
				return -1;
		} else if (hold) {
			evbuffer_remove_buffer(in, out, (size_t)d->resp.used);
		}
		if (p->decided)
			dax_log(s, p, d->resp.error ? 400 : 200, d->resp.error ?
			    "dax_error_response" : NULL, NULL, d->resp.used);
		dax_pop(d);
		dax_flush_denials(s);
	}
	tlsbev_write_now(s->down);
	if (d->qlen == 0)
		bufferevent_set_timeouts(s->up->bev, NULL, NULL);
	if (evbuffer_get_length(out) >= RELAY_HIGH)
		bufferevent_disable(s->up->bev, EV_READ);
	if ((s->worker->draining || s->client_eof) && d->qlen == 0) {
		finish(s, s->client_eof ? "client closed" : "draining", false);
		return -1;
	}
	/* room in the queue again: frames the client sent meanwhile */
	return dax_client_input(s);
}

static void
on_dax_up_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_DAX)
		dax_upstream_input(s);
}

static void
on_dax_up_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_DAX)
		dax_client_input(s);
}

static void
on_dax_up_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char why[300];

	if (s->state != SESSION_DAX)
		return;
	/* answers read with the end; -1: that ended the relay (s may be
	 * gone) */
	if ((what & BEV_EVENT_EOF) && dax_upstream_input(s) != 0)
		return;
	snprintf(why, sizeof(why), "upstream %s %s%s", s->up->addr_str,
	    (what & BEV_EVENT_TIMEOUT) ? "did not answer within "
	    "limits.upstream_timeout_s" : (what & BEV_EVENT_EOF) ?
	    "closed the connection" : "connection error", s->dax->qlen > 0 ?
	    " with a request outstanding" : "");
	slog(s, s->dax->qlen > 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG,
	    "DAX connection closed: %s", why);
	/* what the client was already given still goes out */
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	finish(s, why, false);
}

/* The connection ends with requests outstanding: each still gets its
 * access and audit lines (499, as for HTTP). */
static void
dax_abandon(struct session *s, const char *reason)
{
	struct dax_relay *d = s->dax;
	char why[300];

	snprintf(why, sizeof(why), "the connection ended before the answer: "
	    "%s", reason);
	while (d->qlen > 0) {
		struct dax_pending *p = &d->q[d->qhead];

		if (p->decided)
			dax_log(s, p, 499, "request_abandoned", why, 0);
		dax_pop(d);
	}
}

/*
 * Between frames: a reload's snapshot is taken up, so new policies
 * apply to connections that stay open. A reload that removed the
 * endpoint (or made it something else) ends the connection.
 */
static int
dax_adopt_snapshot(struct session *s)
{
	const struct config *cfg = s->worker->snap->cfg;
	const struct conf_listener *l = NULL;
	char name[128];

	if (s->snap == s->worker->snap)
		return 0;
	snprintf(name, sizeof(name), "%s", s->ep->name);
	for (size_t i = 0; s->listener != NULL && i < cfg->nlisteners; i++)
		if (config_same_listener(&cfg->listeners[i], s->listener))
			l = &cfg->listeners[i];
	for (size_t i = 0; i < cfg->nendpoints; i++)
		if (strcmp(cfg->endpoints[i].name, name) == 0 &&
		    cfg->endpoints[i].service == SERVICE_DAX_CLUSTER) {
			snapshot_unref(s->snap);
			s->snap = snapshot_ref(s->worker->snap);
			s->listener = l;
			s->ep_index = i;
			s->ep = &cfg->endpoints[i];
			return 0;
		}
	dax_fail(s, LOG_LEVEL_INFO, "the reload removed its dax-cluster "
	    "endpoint");
	return -1;
}

/*
 * ALPN chose h2: the codec takes the connection. Idle and request time
 * limits are per stream from here on; a client that stops reading is cut
 * by the write timeout.
 */
static void
h2_start(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	struct timeval wtmo = { .tv_sec = cfg->limits.client_idle_timeout_s };
	char tag[400];
	struct h2_params p = {
		.base = s->worker->base,
		.down = s->down,
		.tag = tag,
		.max_streams = cfg->limits.h2_max_concurrent_streams,
		.max_header_bytes = cfg->limits.max_header_bytes,
		.max_body_bytes = cfg->limits.max_body_bytes,
		.idle_timeout_s = cfg->limits.client_idle_timeout_s,
		.request_timeout_s = cfg->limits.request_timeout_s,
	};

	snprintf(tag, sizeof(tag), "session %u.%llu client %s host %s",
	    s->worker->id, (unsigned long long)s->id, s->client,
	    s->host[0] ? s->host : "-");
	set_state(s, SESSION_H2);
	bufferevent_setwatermark(s->down, EV_READ, 0, 0);
	bufferevent_set_timeouts(s->down, NULL, &wtmo);
	if ((s->h2 = h2_conn_new(s, &p)) == NULL)
		session_close(s, "out of memory");
}

void
session_h2_end(struct session *s, const char *why)
{
	if (s->state == SESSION_H2)
		finish(s, why, false);
}

static void
handshake_done(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->down);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	char name[256];

	if (s->dax != NULL) {
		/* the certificate is the cluster name's, whatever the SNI
		 * (DAX clients for JavaScript send none) */
		slog(s, LOG_LEVEL_DEBUG, "client TLS established (%s, %s), "
		    "SNI %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
		    sni != NULL ? sni : "none");
		tlsbev_read_buffered(s->down);
		route_start(s);
		return;
	}
	if (sni != NULL && !host_name(sni, strlen(sni), false, name,
	    sizeof(name))) {
		s->host[0] = '\0';
		s->bad_sni = true; /* every request gets 421; never Host alone */
	} else if (sni != NULL && s->proxy.host[0] != '\0' &&
	    strcmp(name, s->proxy.host) != 0) {
		/* connect mode: the TLS name must be the CONNECT name */
		slog(s, LOG_LEVEL_WARNING, "TLS server name %s differs from the "
		    "CONNECT host %s", name, s->proxy.host);
		s->host[0] = '\0';
		s->bad_sni = true;
		s->sni_mismatch = true;
	} else if (sni != NULL) {
		snprintf(s->host, sizeof(s->host), "%s", name);
	}
	/* Known from the handshake on, so even a malformed first request is
	 * logged under its endpoint; check_host() still checks each Host. */
	if (s->host[0] != '\0')
		s->ep = config_endpoint_for_host(s->snap->cfg, s->host,
		    strlen(s->host));
	slog(s, LOG_LEVEL_DEBUG, "client TLS established (%s, %s)",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	/* the first request may have come with the handshake's last flight */
	tlsbev_read_buffered(s->down);
	if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0)
		h2_start(s);
	else
		next_request(s);
}

/*
 * After the client's end of sending was read: libevent stopped writing
 * as well (the TLS bufferevent deletes its write event with the read
 * one), so what is queued for the client would never go. Writing resumes
 * here; a client that is really gone makes the write fail.
 */
static void
keep_writing(struct session *s)
{
	if (evbuffer_get_length(bufferevent_get_output(s->down)) > 0)
		bufferevent_enable(s->down, EV_WRITE);
}

/* Whether the request was dispatched and its answer is not yet sent. */
static bool
in_flight(const struct session *s)
{
	switch (s->state) {
	case SESSION_RESOLVING:
	case SESSION_CONNECTING:
	case SESSION_UPSTREAM_TLS:
	case SESSION_WAIT_RESPONSE:
	case SESSION_RELAY_BODY:
		return true;
	default:
		return false;
	}
}

static void
on_down_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_READ_HEAD || s->state == SESSION_READ_BODY)
		process_input(s);
	else if (s->state == SESSION_PROXY_HEAD)
		read_connect(s);
	else if (s->state == SESSION_TUNNEL)
		tunnel_pump(s, s->down, s->tun.bev, &s->tun.up_bytes);
	else if (s->state == SESSION_H2 && h2_conn_read(s->h2) != 0)
		finish(s, h2_conn_why(s->h2), false);
	else if (s->state == SESSION_DAX)
		dax_client_input(s);
	else if (s->state == SESSION_CLOSING && s->linger)
		linger_read(s);
	else if (in_flight(s) && s->dax == NULL) {
		size_t high;

		/*
		 * What the client sends meanwhile waits. At the read high-water
		 * mark reading stops here, not only in libevent: libevent runs
		 * the read callback again on every loop turn while the input is
		 * at the mark and reading is on. next_request() resumes it.
		 */
		bufferevent_getwatermark(bev, EV_READ, NULL, &high);
		if (high > 0 && evbuffer_get_length(
		    bufferevent_get_input(bev)) >= high)
			bufferevent_disable(bev, EV_READ);
	}
}

static void
on_down_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (s->state == SESSION_CLOSING && left == 0) {
		close_write(s);
		if (s->linger == NULL)
			session_close(s, "done");
	} else if (s->state == SESSION_RELAY_BODY && left <= RELAY_LOW)
		tlsbev_enable_read(s->up->bev);
	else if (s->state == SESSION_PROXY_HEAD && s->proxy.tls_switch &&
	    left == 0)
		switch_to_tls(s);
	else if (s->state == SESSION_TUNNEL && s->tun.closing && left == 0)
		tunnel_end(s, s->tun.why);
	else if (s->state == SESSION_TUNNEL && !s->tun.closing &&
	    left <= RELAY_LOW)
		bufferevent_enable(s->tun.bev, EV_READ);
	else if (s->state == SESSION_H2 && h2_conn_write(s->h2) != 0)
		finish(s, h2_conn_why(s->h2), false);
	else if (s->state == SESSION_DAX && left <= RELAY_LOW) {
		tlsbev_enable_read(s->up->bev);
		dax_upstream_input(s);
	}
}

static void
client_tls_failed(struct session *s)
{
	unsigned long e = bufferevent_get_openssl_error(s->down);
	char reason[256] = "connection closed";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	slog(s, LOG_LEVEL_INFO, "client TLS handshake failed: %s", reason);
	metrics_tls_failure(s->worker->metrics, "client", e == 0 ||
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING ? "closed" :
	    ERR_GET_REASON(e) == SSL_R_NO_SHARED_CIPHER ? "no_shared_cipher" :
	    ERR_GET_REASON(e) == SSL_R_UNSUPPORTED_PROTOCOL ?
	    "unsupported_protocol" : ERR_GET_REASON(e) ==
	    SSL_R_WRONG_VERSION_NUMBER ? "wrong_version" : "protocol");
	session_close(s, "client TLS handshake failed");
}

static void
on_down_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	bool partial = evbuffer_get_length(bufferevent_get_input(bev)) > 0;

	if (s->state == SESSION_CLOSING) {
		session_close(s, s->linger ? "lingering close ended" :
		    "client gone while closing");
		return;
	}
	if (s->state == SESSION_HANDSHAKE) {
		if (what & BEV_EVENT_CONNECTED)
			handshake_done(s);
		else
			client_tls_failed(s);
		return;
	}
	if (s->dax != NULL && s->state == SESSION_DAX && s->dax->qlen > 0 &&
	    (what & BEV_EVENT_READING) && (what & BEV_EVENT_EOF)) {
		/* the client stopped sending: what it asked still gets its
		 * answers (dax_upstream_input() closes after the last) */
		s->client_eof = true;
		bufferevent_disable(s->down, EV_READ);
		keep_writing(s);
		return;
	}
	if (s->dax != NULL) {
		dax_fail(s, s->dax->qlen > 0 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		    (what & BEV_EVENT_TIMEOUT) ? "client idle timeout" :
		    (what & BEV_EVENT_EOF) ? "client closed" :
		    "client connection error");
		return;
	}
	if (s->state == SESSION_H2) {
		slog(s, LOG_LEVEL_DEBUG, "HTTP/2 client %s with %u stream(s) "
		    "open", (what & BEV_EVENT_TIMEOUT) ? "stopped reading" :
		    (what & BEV_EVENT_EOF) ? "closed the connection" :
		    "connection error", h2_conn_streams(s->h2));
		session_close(s, (what & BEV_EVENT_TIMEOUT) ? "client timeout" :
		    "client closed");
		return;
	}
	if (s->state == SESSION_TUNNEL) {
		tunnel_side_closed(s, s->tun.bev, (what & BEV_EVENT_TIMEOUT) ?
		    "client idle timeout" : (what & BEV_EVENT_EOF) ?
		    "client closed" : "client connection error");
		return;
	}
	if (in_flight(s) && !s->stream && (what & BEV_EVENT_READING) &&
	    (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		/*
		 * The client stopped sending (close_notify, or a FIN without
		 * it, or a reset): as when reads were off during the flight,
		 * the response still goes out (writing it tells a client that
		 * is gone from one that half-closed), then the connection
		 * closes. A stream's end closes when the client cancels it.
		 */
		s->client_eof = true;
		bufferevent_disable(s->down, EV_READ);
		keep_writing(s);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    (partial || s->state == SESSION_READ_BODY)) {
		reply_error(s, PE_REQUEST_TIMEOUT, true, "no complete request "
		    "within limits.client_idle_timeout_s (%u s)",
		    s->snap->cfg->limits.client_idle_timeout_s);
		return;
	}
	if (!s->stream && s->state == SESSION_READ_HEAD &&
	    (what & BEV_EVENT_READING) && !(what & BEV_EVENT_TIMEOUT) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* the end came while the last answer is still going out */
		keep_writing(s);
		finish(s, "client closed", false);
		return;
	}
	if (s->state != SESSION_READ_HEAD || partial)
		slog(s, LOG_LEVEL_INFO, "client %s", (what & BEV_EVENT_TIMEOUT) ?
		    "timed out" : (what & BEV_EVENT_EOF) ?
		    "closed the connection" : "connection error");
	session_close(s, (what & BEV_EVENT_TIMEOUT) ? "client timeout" :
	    "client closed");
}

/* The client's TLS handshake on s->fd, which the TLS bufferevent owns. */
static void
handshake_start(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	struct timeval tmo = { .tv_sec = cfg->limits.client_idle_timeout_s };
	SSL *ssl = tls_server_ssl_new(s->snap->tls_server,
	    s->dax != NULL ? s->host : s->proxy.host[0] ? s->proxy.host : NULL,
	    s->dax == NULL && s->listener != NULL && s->listener->http2);

	set_state(s, SESSION_HANDSHAKE);
	if (ssl == NULL) {
		session_close(s, "out of memory");
		return;
	}
	s->down = bufferevent_openssl_socket_new(s->worker->base, s->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (s->down == NULL) { /* libevent freed ssl already */
		session_close(s, "out of memory");
		return;
	}
	s->plain = false;
	tlsbev_read_ahead(s->down);
	bufferevent_setcb(s->down, on_down_read, on_down_write, on_down_event,
	    s);
	bufferevent_setwatermark(s->down, EV_READ, 0,
	    cfg->limits.max_header_bytes + cfg->limits.max_body_bytes);
	bufferevent_setwatermark(s->down, EV_WRITE, RELAY_LOW, 0);
	bufferevent_set_timeouts(s->down, &tmo, &tmo);
	bufferevent_enable(s->down, EV_READ | EV_WRITE);
}

/* Connect mode: a plain socket until the CONNECT request is answered. */
static void
proxy_start(struct session *s)
{
	set_state(s, SESSION_PROXY_HEAD);
	(void)plain_start(s, s->snap->cfg->limits.max_header_bytes);
}

/*
 * The client side as a plain socket (connect mode before interception, a
 * dax listener without TLS), reading up to read_high bytes ahead. 0, or
 * -1 when the session was closed.
 */
static int
plain_start(struct session *s, size_t read_high)
{
	struct timeval tmo = { .tv_sec =
	    s->snap->cfg->limits.client_idle_timeout_s };

	s->plain = true;
	s->down = bufferevent_socket_new(s->worker->base, s->fd,
	    BEV_OPT_DEFER_CALLBACKS);
	if (s->down == NULL) {
		session_close(s, "out of memory");
		return -1;
	}
	bufferevent_setcb(s->down, on_down_read, on_down_write, on_down_event,
	    s);
	bufferevent_setwatermark(s->down, EV_READ, 0, read_high);
	bufferevent_set_timeouts(s->down, &tmo, &tmo);
	bufferevent_enable(s->down, EV_READ | EV_WRITE);
	return 0;
}

/* Transparent mode: wait for the ClientHello before any TLS. */
static void
peek_start(struct session *s)
{
	const struct config *cfg = s->snap->cfg;
	struct timeval tmo = { .tv_sec = cfg->limits.client_idle_timeout_s };

	set_state(s, SESSION_PEEK_HELLO);
	original_destination(s);
	if (s->orig_dst_str[0] != '\0')
		sockaddr_format_ip((struct sockaddr *)&s->orig_dst,
		    s->orig_dst_ip, sizeof(s->orig_dst_ip));
	clock_gettime(CLOCK_MONOTONIC, &s->peek_start);
	s->peek = event_new(s->worker->base, s->fd, EV_READ, on_peek, s);
	if (s->peek == NULL || event_add(s->peek, &tmo) != 0)
		session_close(s, "out of memory");
}

int
session_new_stream(struct session *parent, struct bufferevent *end,
    int32_t stream_id)
{
	const struct config *cfg = parent->snap->cfg;
	struct timeval idle = { .tv_sec = cfg->limits.client_idle_timeout_s };
	struct worker *w = parent->worker;
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		bufferevent_free(end);
		return -1;
	}
	s->id = ++w->next_session;
	s->worker = w;
	s->snap = snapshot_ref(parent->snap); /* next_request adopts newer */
	s->listener = parent->listener;
	s->mode = parent->mode;
	s->fd = -1;
	s->connect_fd = -1;
	s->stream = true;
	s->stream_id = stream_id;
	s->down = end;
	memcpy(s->client, parent->client, sizeof(s->client));
	s->client_addr = parent->client_addr;
	memcpy(s->host, parent->host, sizeof(s->host));
	s->ep = parent->ep;
	s->ep_index = parent->ep_index;
	s->bad_sni = parent->bad_sni;
	s->sni_mismatch = parent->sni_mismatch;
	s->proxy = parent->proxy;
	s->orig_dst = parent->orig_dst;
	memcpy(s->orig_dst_str, parent->orig_dst_str, sizeof(s->orig_dst_str));
	memcpy(s->orig_dst_ip, parent->orig_dst_ip, sizeof(s->orig_dst_ip));
	TAILQ_INSERT_TAIL(&w->sessions, s, link);
	w->nstreams++; /* not a connection: limits.max_connections ignores it */
	s->resume = event_new(w->base, -1, 0, on_resume, s);
	s->deadline = evtimer_new(w->base, on_request_deadline, s);
	if (s->resume == NULL || s->deadline == NULL) {
		session_close(s, "out of memory"); /* frees end */
		return -1;
	}
	bufferevent_setcb(s->down, on_down_read, on_down_write, on_down_event,
	    s);
	bufferevent_setwatermark(s->down, EV_READ, 0,
	    cfg->limits.max_header_bytes + cfg->limits.max_body_bytes);
	bufferevent_setwatermark(s->down, EV_WRITE, RELAY_LOW, 0);
	bufferevent_set_timeouts(s->down, &idle, &idle);
	bufferevent_enable(s->down, EV_READ | EV_WRITE);
	slog(s, LOG_LEVEL_DEBUG, "stream of session %u.%llu",
	    parent->worker->id, (unsigned long long)parent->id);
	next_request(s);
	return 0;
}

void
session_new(struct worker *w, const struct conf_listener *l, int fd,
    const struct sockaddr *addr)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(fd);
		return;
	}
	s->id = ++w->next_session;
	s->worker = w;
	s->snap = snapshot_ref(w->snap);
	s->listener = l;
	s->mode = l->mode;
	s->fd = fd;
	s->connect_fd = -1;
	set_nodelay(fd);
	sockaddr_format(addr, s->client, sizeof(s->client));
	memcpy(&s->client_addr, addr, addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	TAILQ_INSERT_TAIL(&w->sessions, s, link);
	metrics_connection(w->metrics, config_mode_name(l->mode), 1);
	w->nsessions++;
	s->resume = event_new(w->base, -1, 0, on_resume, s);
	s->deadline = evtimer_new(w->base, on_request_deadline, s);
	if (s->resume == NULL || s->deadline == NULL) {
		session_close(s, "out of memory");
		return;
	}
	switch (l->mode) {
	case LISTENER_CONNECT:
		proxy_start(s);
		break;
	case LISTENER_TRANSPARENT:
		peek_start(s);
		break;
	case LISTENER_SNI:
		handshake_start(s);
		break;
	case LISTENER_DAX:
	case LISTENER_DAX_NODE:
		dax_start(s);
		break;
	}
	/* each start closes the session itself when it cannot set up */
}
