/*
 * tls_server — downstream TLS: one server SSL_CTX per snapshot (TLS 1.2
 * and 1.3 only, forward-secret AEAD suites, ALPN h2 and http/1.1) and the
 * certificate store it serves from. The certificate for a connection is
 * chosen from the ClientHello's SNI: a static certificate whose names
 * match, else one minted by the gateway CA for an endpoint host, else the
 * default certificate, so the handshake completes and the HTTP layer can
 * answer "misdirected request" in words the client understands.
 */
#ifndef DDBGATE_TLS_SERVER_H
#define DDBGATE_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <openssl/ssl.h>

struct config;
struct ca;
struct tls_server;

/*
 * Loads every tls.certificates entry of cfg (chain and key, checked to
 * match) and builds the server context; ca may be NULL (no minting) and
 * is borrowed, not owned. Returns NULL with "file: reason" in err.
 */
struct tls_server *tls_server_new(const struct config *cfg, struct ca *ca,
    char *err, size_t errlen);

void tls_server_free(struct tls_server *ts);

/*
 * A new server-side SSL for one accepted connection, or NULL. name_hint
 * (may be NULL; borrowed, it must outlive the SSL) picks the certificate
 * when the client sends no SNI: the host of a CONNECT request. ALPN
 * selects h2 when offer_h2 is set and the client offers it, else
 * http/1.1; a client that offers neither is refused.
 */
SSL *tls_server_ssl_new(struct tls_server *ts, const char *name_hint,
    bool offer_h2);

/* How many static certificates are loaded (for `ddbgate check`). */
size_t tls_server_certificate_count(const struct tls_server *ts);

/* Calls fn with each static certificate's file and expiry (seconds
 * since the epoch). */
void tls_server_foreach_expiry(const struct tls_server *ts,
    void (*fn)(void *arg, const char *path, time_t not_after), void *arg);

/* Writes one line per static certificate: file, names, expiry. */
void tls_server_describe(const struct tls_server *ts, FILE *out);

#endif
