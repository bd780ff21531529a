/*
 * h2 — HTTP/2 for clients: nghttp2's server session on the client's TLS
 * bufferevent, one stream session per request over a bufferevent pair.
 * See h2.h for what is checked and bounded.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "h2.h"
#include "h2msg.h"
#include "http1.h"
#include "log.h"
#include "proxy_error.h"
#include "session.h"
#include "tlsbev.h"

#define H2_OUT_HIGH (256 * 1024)  /* stop framing above this much output */
#define H2_DATA_HIGH (64 * 1024)  /* per stream: stop reading the pair */
#define H2_DISCARD_MAX (1 << 20)  /* after an early answer: DATA read and */
#define H2_DISCARD_S 2		  /* dropped this long before RST_STREAM */
#define H2_GAPS 8		  /* skipped stream id ranges remembered */

struct h2_stream {
	struct h2_conn *c;
	int32_t id;
	TAILQ_ENTRY(h2_stream) link;
	struct event *timer;	   /* the request must be whole in time */

	struct h2msg_request req;  /* the request as it arrives */
	struct evbuffer *body;	   /* its DATA, until handed over */
	bool end_stream;	   /* the client's half is closed */
	bool handed;		   /* written to the stream session */
	bool answered;		   /* answered or reset: nothing more is read */
	bool local;		   /* ... by this codec, not a session */
	bool discarding;	   /* answered early: the rest of the request
				      is read and dropped, then RST_STREAM */
	bool sending;		   /* response submitted, END_STREAM not sent */
	uint64_t discarded;

	struct bufferevent *end;   /* our end of the pair; NULL after */
	struct h2msg_response resp; /* the HTTP/1.1 response read back */
	struct evbuffer *data;	   /* its body, waiting for DATA frames */
	bool deferred;		   /* the data source said DEFERRED */
};

struct h2_conn {
	struct session *parent;
	struct event_base *base;
	struct bufferevent *down;
	nghttp2_session *ng;
	struct h2_params p;
	char tag[400];
	TAILQ_HEAD(, h2_stream) streams;
	unsigned nstreams;
	uint64_t buffered;	/* request body bytes held, all streams */
	struct event *idle;	/* no stream open for idle_timeout_s */
	struct event *kick;	/* ends the connection from the loop */
	struct event *stall;	/* responses pending and no HEADERS or DATA
				   could be sent for idle_timeout_s */
	unsigned nsending;	/* streams with a response being sent */
	const char *why;	/* why it ends */
	bool draining;
	bool ended;		/* kick is pending or fired */
	int32_t last_id;	/* highest client stream id begun */
	struct {
		int32_t lo, hi;	/* odd ids skipped: implicitly closed */
	} gaps[H2_GAPS];
	unsigned ngaps, next_gap;
};

static void __attribute__((format(printf, 4, 5)))
h2log(const struct h2_conn *c, enum log_level level, int32_t id,
    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (level > log_max_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (id > 0)
		log_msg(level, "%s [h2 stream %d]: %s", c->tag, (int)id, msg);
	else
		log_msg(level, "%s [h2]: %s", c->tag, msg);
}

/* ---- ending ------------------------------------------------------------- */

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	session_h2_end(c->parent, c->why); /* frees c */
}

/* The connection ends from the loop, never from inside nghttp2. */
static void
conn_end(struct h2_conn *c, const char *why)
{
	if (c->ended)
		return;
	c->ended = true;
	c->why = why;
	event_active(c->kick, EV_TIMEOUT, 0);
}

/* Frames whatever nghttp2 has queued while the output has room. */
static int
flush(struct h2_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->down);

	while (evbuffer_get_length(out) < H2_OUT_HIGH) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->ng, &data);

		if (n < 0) {
			h2log(c, LOG_LEVEL_WARNING, 0, "nghttp2: %s",
			    nghttp2_strerror((int)n));
			c->why = "HTTP/2 session error";
			return -1;
		}
		if (n == 0)
			break;
		if (evbuffer_add(out, data, (size_t)n) != 0) {
			c->why = "out of memory";
			return -1;
		}
	}
	/* the frames of every stream framed this loop turn go together */
	tlsbev_write_now(c->down);
	if (!nghttp2_session_want_read(c->ng) &&
	    !nghttp2_session_want_write(c->ng)) {
		/* GOAWAY sent and no stream left: the session is over */
		if (c->why == NULL)
			c->why = c->draining ? "draining: done" : "GOAWAY";
		return -1;
	}
	return 0;
}

/* flush() from a callback the session does not see: end by the kick. */
static void
flush_or_end(struct h2_conn *c)
{
	if (flush(c) != 0)
		conn_end(c, c->why);
}

static void
idle_arm(struct h2_conn *c)
{
	struct timeval tmo = { .tv_sec = c->p.idle_timeout_s };

	if (c->nstreams == 0)
		evtimer_add(c->idle, &tmo);
}

static void
on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	h2log(c, LOG_LEVEL_DEBUG, 0, "idle for %u s: GOAWAY",
	    c->p.idle_timeout_s);
	c->why = "client idle timeout";
	nghttp2_session_terminate_session(c->ng, NGHTTP2_NO_ERROR);
	flush_or_end(c);
}

/* ---- streams -------------------------------------------------------------- */

/* A stream has response frames to send, or no longer has. */
static void
set_sending(struct h2_stream *st, bool sending)
{
	struct h2_conn *c = st->c;
	struct timeval tmo = { .tv_sec = c->p.idle_timeout_s };

	if (st->sending == sending)
		return;
	st->sending = sending;
	if (sending && c->nsending++ == 0)
		evtimer_add(c->stall, &tmo);
	else if (!sending && --c->nsending == 0)
		evtimer_del(c->stall);
}

/*
 * Responses wait and not one HEADERS or DATA frame could go out for
 * idle_timeout_s: the client keeps its flow-control window shut (or does
 * not read). Without this it could hold the connection, its streams and
 * their response data for ever.
 */
static void
on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	h2log(c, LOG_LEVEL_INFO, 0, "%u response(s) could not be sent for "
	    "%u s (flow-control window shut): GOAWAY", c->nsending,
	    c->p.idle_timeout_s);
	c->why = "client stalled its flow-control window";
	nghttp2_session_terminate_session(c->ng, NGHTTP2_FLOW_CONTROL_ERROR);
	flush_or_end(c);
}

static void
stream_free(struct h2_stream *st)
{
	struct h2_conn *c = st->c;

	if (st->end != NULL) {
		/* the stream session sees its client leave */
		bufferevent_flush(st->end, EV_WRITE, BEV_FINISHED);
		bufferevent_free(st->end);
	}
	if (st->timer != NULL)
		event_free(st->timer);
	set_sending(st, false);
	if (!st->handed)
		c->buffered -= evbuffer_get_length(st->body);
	evbuffer_free(st->body);
	evbuffer_free(st->data);
	h2msg_request_clear(&st->req);
	h2msg_response_clear(&st->resp);
	TAILQ_REMOVE(&c->streams, st, link);
	c->nstreams--;
	free(st);
	idle_arm(c);
}

static void
reset(struct h2_stream *st, uint32_t code, const char *why)
{
	h2log(st->c, code == NGHTTP2_NO_ERROR ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_INFO, st->id, "RST_STREAM %s: %s",
	    nghttp2_http2_strerror(code), why);
	nghttp2_submit_rst_stream(st->c->ng, NGHTTP2_FLAG_NONE, st->id, code);
	st->answered = true; /* nothing more is read for it */
}

static ssize_t
read_data(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2_stream *st = src->ptr;
	int n = evbuffer_remove(st->data, buf, len);

	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (st->end != NULL &&
	    evbuffer_get_length(st->data) < H2_DATA_HIGH / 2)
		bufferevent_enable(st->end, EV_READ);
	if (evbuffer_get_length(st->data) == 0 && st->resp.done) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return n;
	}
	if (n == 0) {
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return n;
}

/* The response head is known: HEADERS, with a data source if a body. */
static void
submit_head(struct h2_stream *st)
{
	nghttp2_nv nva[HTTP1_MAX_HEADERS + 1];
	nghttp2_data_provider prd = { .source.ptr = st,
		.read_callback = read_data };
	size_t n = h2msg_response_nv(&st->resp, nva,
	    sizeof(nva) / sizeof(nva[0]));
	int rc;

	st->answered = true;
	rc = nghttp2_submit_response(st->c->ng, st->id, nva, n,
	    st->resp.body == HTTP1_BODY_NONE ? NULL : &prd);
	if (rc != 0) {
		h2log(st->c, LOG_LEVEL_WARNING, st->id, "cannot submit the "
		    "response: %s", nghttp2_strerror(rc));
		reset(st, NGHTTP2_INTERNAL_ERROR, "response not submitted");
		return;
	}
	set_sending(st, true);
}

/*
 * Reads the HTTP/1.1 response in, eof when nothing more will come, into
 * HEADERS and DATA; a response that is malformed or cut resets the
 * stream (a cut response must not look complete).
 */
static void
response_input(struct h2_stream *st, struct evbuffer *in, bool eof)
{
	bool had_head = st->resp.head_done;
	const char *err = NULL;

	if (!st->resp.done && h2msg_response_feed(&st->resp, in, st->data,
	    eof, &err) != 0) {
		h2log(st->c, LOG_LEVEL_WARNING, st->id, "response: %s", err);
		reset(st, NGHTTP2_INTERNAL_ERROR, err);
		if (st->end != NULL) { /* the stream session ends too */
			bufferevent_flush(st->end, EV_WRITE, BEV_FINISHED);
			bufferevent_free(st->end);
			st->end = NULL;
		}
		return;
	}
	if (!had_head && st->resp.head_done)
		submit_head(st);
	if (st->end != NULL && evbuffer_get_length(st->data) >= H2_DATA_HIGH)
		bufferevent_disable(st->end, EV_READ);
	if (st->deferred && (evbuffer_get_length(st->data) > 0 ||
	    st->resp.done)) {
		st->deferred = false;
		nghttp2_session_resume_data(st->c->ng, st->id);
	}
	if (eof && !st->resp.done) {
		reset(st, NGHTTP2_INTERNAL_ERROR, st->resp.head_done ?
		    "the response was cut" : "no response");
	} else if (st->resp.done && st->end != NULL) {
		/* the stream session waits for a next request that never
		 * comes: it ends now (its upstream connection is pooled) */
		bufferevent_flush(st->end, EV_WRITE, BEV_FINISHED);
		bufferevent_free(st->end);
		st->end = NULL;
	}
}

static void
on_end_read(struct bufferevent *bev, void *arg)
{
	struct h2_stream *st = arg;

	response_input(st, bufferevent_get_input(bev), false);
	flush_or_end(st->c);
}

static void
on_end_event(struct bufferevent *bev, short what, void *arg)
{
	struct h2_stream *st = arg;

	/* the stream session finished (or died): all it wrote is here */
	response_input(st, bufferevent_get_input(bev), true);
	if (st->end != NULL) {
		bufferevent_free(st->end);
		st->end = NULL;
	}
	flush_or_end(st->c);
}

/* An answer of this codec's own (the request never reached a session). */
static void answer_local(struct h2_stream *st, enum proxy_error_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
answer_local(struct h2_stream *st, enum proxy_error_kind kind,
    const char *fmt, ...)
{
	char msg[512], rid[48], out[PROXY_ERROR_MAX];
	struct evbuffer *in;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h2log(st->c, LOG_LEVEL_INFO, st->id, "%d %s: %s",
	    proxy_error_status(kind), proxy_error_type(kind), msg);
	snprintf(rid, sizeof(rid), "ddbgate-h2-%d", (int)st->id);
	n = proxy_error_format(out, sizeof(out), kind, msg, rid, 0);
	st->local = true;
	if (st->timer != NULL)
		evtimer_del(st->timer);
	if ((in = evbuffer_new()) == NULL || evbuffer_add(in, out, n) != 0) {
		if (in != NULL)
			evbuffer_free(in);
		reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return;
	}
	response_input(st, in, true);
	evbuffer_free(in);
}

static void
on_stream_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h2_stream *st = arg;

	if (st->discarding) {
		st->discarding = false;
		reset(st, NGHTTP2_NO_ERROR, "the rest of the request after an "
		    "early answer");
	} else if (!st->handed && !st->answered)
		answer_local(st, PE_REQUEST_TIMEOUT, "the request did not "
		    "arrive whole within limits.request_timeout_s (%u s)",
		    st->c->p.request_timeout_s);
	flush_or_end(st->c);
}

/* The request is whole: its HTTP/1.1 bytes go to a new stream session. */
static void
hand_over(struct h2_stream *st)
{
	struct h2_conn *c = st->c;
	struct bufferevent *pair[2];
	struct evbuffer *out;
	const char *err = NULL;
	size_t head_len;
	char *head = NULL;

	if (h2msg_request_finish(&st->req, evbuffer_get_length(st->body),
	    &err) != 0) {
		reset(st, NGHTTP2_PROTOCOL_ERROR, err);
		return;
	}
	if (bufferevent_pair_new(c->base, BEV_OPT_DEFER_CALLBACKS, pair) !=
	    0) {
		reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return;
	}
	st->end = pair[0];
	bufferevent_setcb(st->end, on_end_read, NULL, on_end_event, st);
	bufferevent_setwatermark(st->end, EV_READ, 0, H2_DATA_HIGH);
	bufferevent_enable(st->end, EV_READ | EV_WRITE);
	out = bufferevent_get_output(st->end);
	if ((head = h2msg_request_head(&st->req, &head_len)) == NULL ||
	    evbuffer_add(out, head, head_len) != 0 ||
	    evbuffer_add_buffer(out, st->body) != 0) {
		free(head);
		reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		bufferevent_free(pair[1]);
		return;
	}
	free(head);
	c->buffered -= st->req.body_len;
	st->handed = true;
	evtimer_del(st->timer);
	st->resp.is_head = strcmp(st->req.method, "HEAD") == 0;
	if (session_new_stream(c->parent, pair[1], st->id) != 0) {
		/* the session could not be set up; it freed pair[1] */
		reset(st, NGHTTP2_REFUSED_STREAM, "no stream session");
		bufferevent_free(st->end);
		st->end = NULL;
	}
}

/* ---- nghttp2 callbacks ------------------------------------------------------ */

/*
 * RFC 9113 5.1.1: a new stream id closes every lower idle one, and
 * HEADERS on one of those is a connection error. nghttp2 cannot tell a
 * skipped id from a stream it closed and forgot, and ignores both; the
 * ranges skipped are remembered here (the last H2_GAPS of them).
 */
static int
on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user)
{
	struct h2_conn *c = user;
	int32_t id = hd->stream_id;

	if (hd->type != NGHTTP2_HEADERS || id <= 0 || (id & 1) == 0)
		return 0;
	if (id > c->last_id) {
		if (id > c->last_id + 2) {
			c->gaps[c->next_gap].lo = c->last_id + 2;
			c->gaps[c->next_gap].hi = id - 2;
			c->next_gap = (c->next_gap + 1) % H2_GAPS;
			if (c->ngaps < H2_GAPS)
				c->ngaps++;
		}
		c->last_id = id;
		return 0;
	}
	for (unsigned i = 0; i < c->ngaps; i++)
		if (id >= c->gaps[i].lo && id <= c->gaps[i].hi) {
			h2log(c, LOG_LEVEL_INFO, 0, "protocol error: HEADERS "
			    "on stream %d, lower than stream %d already "
			    "begun", (int)id, (int)c->last_id);
			nghttp2_session_terminate_session(ng,
			    NGHTTP2_PROTOCOL_ERROR);
			return 0;
		}
	return 0;
}

/* nghttp2's own reason for a connection or stream error it found. */
static int
on_error(nghttp2_session *ng, int code, const char *msg, size_t len,
    void *user)
{
	h2log(user, LOG_LEVEL_INFO, 0, "nghttp2: %.*s", (int)len, msg);
	return 0;
}

static int
on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;
	struct timeval tmo = { .tv_sec = c->p.request_timeout_s };
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->body = evbuffer_new()) == NULL ||
	    (st->data = evbuffer_new()) == NULL ||
	    (st->timer = evtimer_new(c->base, on_stream_timer, st)) == NULL) {
		if (st != NULL) {
			if (st->body != NULL)
				evbuffer_free(st->body);
			if (st->data != NULL)
				evbuffer_free(st->data);
			free(st);
		}
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE,
		    frame->hd.stream_id, NGHTTP2_INTERNAL_ERROR);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	st->c = c;
	st->id = frame->hd.stream_id;
	h2msg_request_init(&st->req, c->p.max_header_bytes);
	h2msg_response_init(&st->resp, c->p.max_header_bytes);
	TAILQ_INSERT_TAIL(&c->streams, st, link);
	c->nstreams++;
	evtimer_del(c->idle);
	evtimer_add(st->timer, &tmo);
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	return 0;
}

static int
on_header(nghttp2_session *ng, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng,
	    frame->hd.stream_id);
	const char *err = NULL;
	int rc;

	if (st == NULL || st->answered)
		return 0;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
		/* a second HEADERS: trailers, which no DynamoDB request has */
		answer_local(st, PE_BAD_REQUEST, "request trailers are not "
		    "supported");
		return 0;
	}
	rc = h2msg_request_field(&st->req, (const char *)name, namelen,
	    (const char *)value, valuelen, &err);
	if (rc == H2MSG_TOO_LARGE) {
		answer_local(st, PE_HEADERS_TOO_LARGE, "the header list is "
		    "larger than limits.max_header_bytes (%u)",
		    st->c->p.max_header_bytes);
		return 0;
	}
	if (rc != 0) {
		reset(st, NGHTTP2_PROTOCOL_ERROR, err);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static int
on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	if (st != NULL && st->discarding &&
	    (st->discarded += len) > H2_DISCARD_MAX) {
		st->discarding = false;
		reset(st, NGHTTP2_NO_ERROR, "more than 1 MiB after an early "
		    "answer");
		return 0;
	}
	if (st == NULL || st->answered || st->handed)
		return 0; /* after an early answer: discarded */
	if (evbuffer_get_length(st->body) + len > c->p.max_body_bytes) {
		answer_local(st, PE_BODY_TOO_LARGE, "the request body is "
		    "larger than limits.max_body_bytes (%" PRIu64 ")",
		    c->p.max_body_bytes);
		return 0;
	}
	if (c->buffered + len > 2 * c->p.max_body_bytes) {
		reset(st, NGHTTP2_REFUSED_STREAM, "request bodies held on "
		    "this connection are at their limit");
		return 0;
	}
	if (evbuffer_add(st->body, data, len) != 0) {
		reset(st, NGHTTP2_INTERNAL_ERROR, "out of memory");
		return 0;
	}
	c->buffered += len;
	return 0;
}

static int
on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS &&
	    frame->hd.type != NGHTTP2_DATA)
		return 0;
	st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (st == NULL || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st->end_stream = true;
	if (!st->answered && !st->handed)
		hand_over(st);
	return 0;
}

/* An answer sent before the client finished its request: tell the client
 * to stop sending (RFC 9113 section 8.1). */
static int
on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;
	struct timeval tmo = { .tv_sec = c->p.idle_timeout_s };
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS &&
	    frame->hd.type != NGHTTP2_DATA)
		return 0;
	if (c->nsending > 0) /* progress: the stall clock starts again */
		evtimer_add(c->stall, &tmo);
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (st != NULL)
		set_sending(st, false);
	if (st != NULL && !st->end_stream && !st->discarding) {
		/* Like HTTP/1.1's lingering close: resetting at once makes
		 * some clients lose the answer while they still send. */
		struct timeval linger = { .tv_sec = H2_DISCARD_S };

		st->discarding = true;
		evtimer_add(st->timer, &linger);
	}
	return 0;
}

static int
on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	if (st == NULL)
		return 0;
	if (code != NGHTTP2_NO_ERROR)
		h2log(st->c, LOG_LEVEL_DEBUG, id, "closed: %s",
		    nghttp2_http2_strerror(code));
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	stream_free(st);
	return 0;
}

/* ---- the connection ------------------------------------------------------------ */

struct h2_conn *
h2_conn_new(struct session *parent, const struct h2_params *p)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[H2MSG_NSETTINGS];
	struct h2_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->parent = parent;
	c->base = p->base;
	c->down = p->down;
	c->p = *p;
	snprintf(c->tag, sizeof(c->tag), "%s", p->tag);
	c->p.tag = c->tag;
	TAILQ_INIT(&c->streams);
	if ((c->idle = evtimer_new(c->base, on_idle, c)) == NULL ||
	    (c->kick = event_new(c->base, -1, 0, on_kick, c)) == NULL ||
	    (c->stall = evtimer_new(c->base, on_stall, c)) == NULL ||
	    nghttp2_session_callbacks_new(&cb) != 0 ||
	    nghttp2_option_new(&opt) != 0)
		goto fail;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cb,
	    on_begin_frame);
	nghttp2_session_callbacks_set_error_callback2(cb, on_error);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    on_stream_close);
	/*
	 * Streams beyond the limit: REFUSED_STREAM until the client
	 * acknowledged our SETTINGS, then GOAWAY PROTOCOL_ERROR (nghttp2;
	 * RFC 9113 5.4.1 allows it for a client ignoring what it accepted).
	 */
	h2msg_options(opt);
	if (nghttp2_session_server_new2(&c->ng, cb, c, opt) != 0)
		goto fail;
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	cb = NULL;
	opt = NULL;
	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv,
	    h2msg_settings(p->max_streams, p->max_header_bytes, iv)) != 0 ||
	    nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0,
	    H2MSG_CONN_WINDOW) != 0)
		goto fail;
	idle_arm(c);
	if (flush(c) != 0)
		goto fail;
	return c;
fail:
	if (cb != NULL)
		nghttp2_session_callbacks_del(cb);
	if (opt != NULL)
		nghttp2_option_del(opt);
	h2_conn_free(c);
	return NULL;
}

void
h2_conn_free(struct h2_conn *c)
{
	struct h2_stream *st;

	if (c == NULL)
		return;
	while ((st = TAILQ_FIRST(&c->streams)) != NULL)
		stream_free(st);
	if (c->ng != NULL)
		nghttp2_session_del(c->ng);
	if (c->idle != NULL)
		event_free(c->idle);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->stall != NULL)
		event_free(c->stall);
	free(c);
}

int
h2_conn_read(struct h2_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->down);

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		ssize_t n;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = nghttp2_session_mem_recv(c->ng, v.iov_base, v.iov_len);
		if (n < 0) {
			h2log(c, LOG_LEVEL_INFO, 0, "protocol error: %s",
			    nghttp2_strerror((int)n));
			c->why = "HTTP/2 protocol error";
			flush(c); /* the GOAWAY nghttp2 queued */
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
	}
	return flush(c);
}

int
h2_conn_write(struct h2_conn *c)
{
	return flush(c);
}

void
h2_conn_drain(struct h2_conn *c)
{
	if (c->draining)
		return;
	c->draining = true;
	h2log(c, LOG_LEVEL_DEBUG, 0, "draining: GOAWAY after stream %d, %u "
	    "stream(s) open", (int)nghttp2_session_get_last_proc_stream_id(
	    c->ng), c->nstreams);
	nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(c->ng), NGHTTP2_NO_ERROR,
	    NULL, 0);
	flush_or_end(c);
}

const char *
h2_conn_why(const struct h2_conn *c)
{
	return c->why != NULL ? c->why : "HTTP/2 connection ended";
}

unsigned
h2_conn_streams(const struct h2_conn *c)
{
	return c->nstreams;
}
