/*
 * session — one client connection and the state machine that carries
 * each of its requests through the stages of the request path:
 *
 *   [CONNECT head | ClientHello peek] → handshake → read head → read
 *   body → (pool | resolve → connect → upstream TLS) → wait response →
 *   relay body → read head ...
 *
 * and, for a CONNECT to an endpoint with intercept: false, the opaque
 * tunnel: CONNECT head → resolve → connect → tunnel; and for a DAX
 * listener: [handshake] → resolve → connect → [upstream TLS] → DAX relay
 * (CBOR frames framed by daxproto.c, each data request decided).
 *
 * One struct, one state enum, one setter, one way out (session_close).
 */
#ifndef DDBGATE_SESSION_H
#define DDBGATE_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

struct bufferevent;
struct conf_listener;
struct session;
struct worker;

/* What is true in each state is written beside it. */
enum session_state {
	SESSION_NEW,		/* accepted; the listener's mode decides next */
	SESSION_PROXY_HEAD,	/* connect mode: reading the CONNECT request */
	SESSION_PEEK_HELLO,	/* transparent: peeking at the ClientHello */
	SESSION_HANDSHAKE,	/* client TLS handshake; nothing read */
	SESSION_READ_HEAD,	/* reading a request head; idle between requests */
	SESSION_READ_BODY,	/* head accepted; buffering Content-Length bytes */
	SESSION_RESOLVING,	/* request whole in the input; resolving upstream */
	SESSION_CONNECTING,	/* TCP connect to addrs[addr_next - 1] */
	SESSION_UPSTREAM_TLS,	/* TLS handshake and verification upstream */
	SESSION_WAIT_RESPONSE,	/* request sent; reading the response head */
	SESSION_RELAY_BODY,	/* response head sent on; relaying its body */
	SESSION_TUNNEL,		/* opaque tunnel: bytes both ways, no policy */
	SESSION_H2,		/* the client speaks HTTP/2: the h2 codec has
				   the connection, stream sessions the
				   requests */
	SESSION_DAX,		/* a DAX connection: frames both ways, each
				   request decided by the policy */
	SESSION_CLOSING,	/* flushing the last bytes to the client */
};

/*
 * Starts a session on an accepted socket (which it then owns) of listener
 * l. A session that cannot be set up closes itself (and fd) at once.
 */
void session_new(struct worker *w, const struct conf_listener *l, int fd,
    const struct sockaddr *addr);

/*
 * The worker is draining: each idle keep-alive connection (or one that
 * has not sent a request yet) is closed now; one with a request in flight
 * is closed once its response is sent. Tunnels run until the deadline.
 */
void session_drain_all(struct worker *w);

/*
 * The worker took a new snapshot: each HTTP/2 connection moves to it
 * (its next streams use it) and gets GOAWAY when the reload removed its
 * listener, turned http2 off there, or removed the endpoint of its name.
 */
void session_reloaded_all(struct worker *w);

/*
 * HTTP/2 (h2.c): a session for one stream of parent's connection, its
 * client side the bufferevent end (owned from here on) where the codec
 * writes the stream's request as HTTP/1.1 and reads the response back.
 * It inherits what the connection established (client, TLS name,
 * endpoint, CONNECT host and user, original destination). 0, or -1 with
 * end freed.
 */
int session_new_stream(struct session *parent, struct bufferevent *end,
    int32_t stream_id);

/* The h2 codec of s is done (GOAWAY sent, drained, idle): s ends once
 * its output is flushed. */
void session_h2_end(struct session *s, const char *why);

/* Ends the session now, whatever its state (worker shutdown). */
void session_close(struct session *s, const char *reason);

const char *session_state_name(enum session_state state);

/* Upstream addresses the egress guard refused since start (all workers). */
unsigned long session_egress_refusals(void);

#endif
