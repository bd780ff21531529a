/*
 * tls_client — upstream TLS: one client SSL_CTX per endpoint and
 * snapshot, always verifying. The chain is checked against the endpoint's
 * ca_file and the certificate name against the name the client asked for
 * (never the routing name); SNI carries that same name. TLS 1.2+ only.
 * There is no way to turn verification off.
 */
#ifndef DDBGATE_TLS_CLIENT_H
#define DDBGATE_TLS_CLIENT_H

#include <stddef.h>
#include <openssl/ssl.h>

struct tls_client;

/* Builds a verifying context trusting the PEM bundle ca_file. Returns
 * NULL with "ca_file: reason" in err. */
struct tls_client *tls_client_new(const char *ca_file, char *err,
    size_t errlen);

/* Drops the caller's reference: the context goes when the last SSL set
 * up for resumption with it is freed too. */
void tls_client_free(struct tls_client *tc);

/*
 * A new client SSL that sends SNI = name and accepts only a certificate
 * valid for name (a DNS name, or an IP literal matched against IP SANs).
 * Returns NULL on failure.
 *
 * peer (the upstream's "ip:port") enables session resumption: a session
 * this context kept from an earlier connection to the same name at the
 * same address, not older than TLS_CLIENT_SESSION_MAX_AGE_S, is offered,
 * and the sessions (TLS 1.3 tickets) the server issues on this
 * connection are kept for the next one. A session is offered once
 * (RFC 8446 C.4) and only within this context, which belongs to one
 * snapshot: a reload that changes ca_file starts with none. A resumed
 * handshake does not verify the certificate again — the session carries
 * the chain verified for name when it was first made. peer NULL: a full
 * handshake, nothing kept (health checks look at the certificate every
 * time).
 */
#define TLS_CLIENT_SESSION_MAX_AGE_S 600
#define TLS_CLIENT_SESSIONS 64	/* kept per context, least recently
				   stored replaced first */

SSL *tls_client_ssl_new(struct tls_client *tc, const char *name,
    const char *peer);

/* Whether ssl's handshake resumed a kept session. */
int tls_client_resumed(SSL *ssl);

/*
 * After a failed handshake: writes the reason (OpenSSL's verification
 * error text when verification failed, else the TLS error) into buf and
 * returns 1 if it was a certificate failure, 0 for a protocol failure.
 */
int tls_client_failure(SSL *ssl, unsigned long ssl_err, char *buf,
    size_t len);

#endif
