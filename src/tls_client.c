/*
 * tls_client — see tls_client.h.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_client.h"
#include "xmalloc.h"

struct tls_client {
	SSL_CTX *ctx;
};

struct tls_client *
tls_client_new(const char *ca_file, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	struct tls_client *tc = xcalloc(1, sizeof(*tc));
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	tc->ctx = ctx;
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
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return tc;
}

void
tls_client_free(struct tls_client *tc)
{
	if (tc == NULL)
		return;
	SSL_CTX_free(tc->ctx);
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
tls_client_ssl_new(struct tls_client *tc, const char *name)
{
	SSL *ssl = SSL_new(tc->ctx);

	if (ssl == NULL)
		return NULL;
	if (is_ip_literal(name)) {
		/* RFC 6066: no SNI for addresses; match an IP SAN instead. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) != 1) {
			SSL_free(ssl);
			return NULL;
		}
		return ssl;
	}
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
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
