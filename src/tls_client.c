/*
 * tls_client — see tls_client.h.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_client.h"
#include "xmalloc.h"

#define SESSION_KEY_MAX 320	/* "name|ip:port" */

/* One kept session: for name at peer, stored at a time. */
struct kept {
	char key[SESSION_KEY_MAX];
	SSL_SESSION *sess;	/* owned; NULL = a free slot */
	time_t stored;		/* CLOCK_MONOTONIC seconds */
};

struct tls_client {
	/*
	 * The snapshot's reference and one per SSL set up for resumption
	 * (its note): a pooled connection of an older snapshot can still
	 * receive a ticket after that snapshot is gone.
	 */
	atomic_uint refs;
	SSL_CTX *ctx;
	/*
	 * Kept sessions, shared by the workers: taken when a connection
	 * is set up and filled when a server issues a ticket, so the lock
	 * is never on the path of a request over an open connection.
	 */
	pthread_mutex_t mu;
	struct kept kept[TLS_CLIENT_SESSIONS];
};

/*
 * What an SSL set up for resumption carries (ex_data): its context and
 * the key its sessions are kept under. Freed with the SSL.
 */
struct ssl_note {
	struct tls_client *tc;
	char key[SESSION_KEY_MAX];
};

static int note_index = -1;
static pthread_once_t note_once = PTHREAD_ONCE_INIT;

static void tls_client_unref(struct tls_client *tc);

static void
note_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct ssl_note *n = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (n != NULL) {
		tls_client_unref(n->tc);
		free(n);
	}
}

static void
note_index_init(void)
{
	note_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, note_free);
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * OpenSSL's new-session callback. A copy is kept, not sess itself: sess
 * is the connection's current session, which OpenSSL marks
 * non-resumable when the connection is freed without a close_notify
 * sent (as a pooled connection the server closed is) — and would take
 * the kept ticket down with it. Returns 0: OpenSSL keeps its reference.
 */
static int
on_new_session(SSL *ssl, SSL_SESSION *orig)
{
	struct ssl_note *n = note_index < 0 ? NULL :
	    SSL_get_ex_data(ssl, note_index);
	struct tls_client *tc;
	struct kept *slot = NULL;
	SSL_SESSION *sess;

	if (n == NULL || !SSL_SESSION_is_resumable(orig) ||
	    (sess = SSL_SESSION_dup(orig)) == NULL)
		return 0;
	tc = n->tc;
	pthread_mutex_lock(&tc->mu);
	for (size_t i = 0; i < TLS_CLIENT_SESSIONS; i++) {
		struct kept *k = &tc->kept[i];

		if (k->sess != NULL && strcmp(k->key, n->key) == 0) {
			slot = k;	/* the newest ticket replaces */
			break;
		}
		if (slot == NULL || (slot->sess != NULL &&
		    (k->sess == NULL || k->stored < slot->stored)))
			slot = k;
	}
	if (slot->sess != NULL)
		SSL_SESSION_free(slot->sess);
	snprintf(slot->key, sizeof(slot->key), "%s", n->key);
	slot->sess = sess;
	slot->stored = now_s();
	pthread_mutex_unlock(&tc->mu);
	return 0;
}

/* Takes the session kept under key, if any and still young: NULL or a
 * reference for the caller. */
static SSL_SESSION *
take_session(struct tls_client *tc, const char *key)
{
	SSL_SESSION *sess = NULL;
	time_t now = now_s();

	pthread_mutex_lock(&tc->mu);
	for (size_t i = 0; i < TLS_CLIENT_SESSIONS; i++) {
		struct kept *k = &tc->kept[i];

		if (k->sess == NULL || strcmp(k->key, key) != 0)
			continue;
		if (now - k->stored < TLS_CLIENT_SESSION_MAX_AGE_S &&
		    SSL_SESSION_is_resumable(k->sess))
			sess = k->sess;
		else
			SSL_SESSION_free(k->sess);
		k->sess = NULL; /* offered once */
		break;
	}
	pthread_mutex_unlock(&tc->mu);
	return sess;
}

/* Sets ssl up to offer and keep sessions under "name|peer". */
static bool
resumption(struct tls_client *tc, SSL *ssl, const char *name,
    const char *peer)
{
	struct ssl_note *n;
	SSL_SESSION *sess;

	pthread_once(&note_once, note_index_init);
	if (note_index < 0 || (n = malloc(sizeof(*n))) == NULL)
		return false;
	n->tc = tc;
	if ((size_t)snprintf(n->key, sizeof(n->key), "%s|%s", name, peer) >=
	    sizeof(n->key)) {
		free(n);
		return false;
	}
	atomic_fetch_add(&tc->refs, 1);
	if (SSL_set_ex_data(ssl, note_index, n) != 1) {
		tls_client_unref(tc);
		free(n);
		return false;
	}
	if ((sess = take_session(tc, n->key)) != NULL) {
		SSL_set_session(ssl, sess);	/* takes its own reference */
		SSL_SESSION_free(sess);
	}
	return true;
}

struct tls_client *
tls_client_new(const char *ca_file, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	struct tls_client *tc = xcalloc(1, sizeof(*tc));
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	tc->ctx = ctx;
	atomic_init(&tc->refs, 1);
	pthread_mutex_init(&tc->mu, NULL);
	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
		snprintf(err, errlen, "TLS client context: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
		tls_client_free(tc);
		return NULL;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		unsigned long e = ERR_peek_last_error();

		snprintf(err, errlen, "%s: cannot load CA bundle: %s", ca_file,
		    e ? ERR_reason_error_string(e) : "no certificates");
		ERR_clear_error();
		tls_client_free(tc);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	/*
	 * No SSL_MODE_RELEASE_BUFFERS here: a pooled upstream connection is
	 * busy again within milliseconds under load, and releasing its two
	 * ~16 KiB record buffers after every read and write cost four
	 * malloc/free per request. The pool bounds what they hold while idle
	 * (limits.upstream_pool_size per name and worker). Client connections
	 * (tls_server.c) do release theirs: thousands may idle.
	 */
	/* Sessions are kept by on_new_session, never by OpenSSL's cache. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	return tc;
}

void
tls_client_free(struct tls_client *tc)
{
	tls_client_unref(tc);
}

static void
tls_client_unref(struct tls_client *tc)
{
	if (tc == NULL || atomic_fetch_sub(&tc->refs, 1) != 1)
		return;
	SSL_CTX_free(tc->ctx);
	for (size_t i = 0; i < TLS_CLIENT_SESSIONS; i++)
		if (tc->kept[i].sess != NULL)
			SSL_SESSION_free(tc->kept[i].sess);
	pthread_mutex_destroy(&tc->mu);
	free(tc);
}

static bool
is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

SSL *
tls_client_ssl_new(struct tls_client *tc, const char *name,
    const char *peer)
{
	SSL *ssl = SSL_new(tc->ctx);
	bool ok;

	if (ssl == NULL)
		return NULL;
	if (is_ip_literal(name)) {
		/* RFC 6066: no SNI for addresses; match an IP SAN instead. */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) == 1;
	} else {
		X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(ssl, name) == 1 &&
		    SSL_set1_host(ssl, name) == 1;
	}
	/* Before the handshake starts: the ClientHello carries the offer. */
	if (ok && peer != NULL)
		ok = resumption(tc, ssl, name, peer);
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int
tls_client_resumed(SSL *ssl)
{
	return SSL_session_reused(ssl);
}

int
tls_client_failure(SSL *ssl, unsigned long ssl_err, char *buf, size_t len)
{
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK) {
		snprintf(buf, len, "%s", X509_verify_cert_error_string(v));
		return 1;
	}
	if (ssl_err != 0) {
		const char *r = ERR_reason_error_string(ssl_err);

		snprintf(buf, len, "%s", r ? r : "TLS handshake failed");
	} else {
		snprintf(buf, len, "connection closed during the TLS "
		    "handshake");
	}
	return 0;
}
