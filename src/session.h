/*
 * session — one client connection and the state machine that carries
 * each of its requests through the stages of the request path:
 *
 *   [CONNECT head | ClientHello peek] → handshake → read head → read
 *   body → (pool | resolve → connect → upstream TLS) → wait response →
 *   relay body → read head ...
 *
 * and, for a CONNECT to an endpoint with intercept: false, the opaque
 * tunnel: CONNECT head → resolve → connect → tunnel.
 *
 * One struct, one state enum, one setter, one way out (session_close).
 */
#ifndef DDBGATE_SESSION_H
#define DDBGATE_SESSION_H

#include <sys/socket.h>

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

/* Ends the session now, whatever its state (worker shutdown). */
void session_close(struct session *s, const char *reason);

const char *session_state_name(enum session_state state);

/* Upstream addresses the egress guard refused since start (all workers). */
unsigned long session_egress_refusals(void);

#endif
