/*
 * tls_server — see tls_server.h. Certificate choice happens in the
 * certificate callback (SSL_CTX_set_cert_cb), which runs after the
 * ClientHello has been parsed, so SNI is known and nothing is guessed.
 *
 * Session tickets are sealed with keys of our own (AES-256-CBC and
 * HMAC-SHA256, RFC 5077's layout), held process-wide so tickets survive
 * a reload: a new key every TICKET_ROTATE_S seconds, and the previous
 * TICKET_KEYS - 1 keys still open tickets (which are then renewed), so a
 * ticket lives at most TICKET_ROTATE_S * TICKET_KEYS seconds and a
 * stolen key opens only that much traffic.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "config.h"
#include "log.h"
#include "tls_server.h"
#include "xmalloc.h"

struct server_cert {
	char *path;
	X509 *leaf;
	EVP_PKEY *key;
	STACK_OF(X509) *chain; /* intermediates, may be empty */
	char **names;	       /* DNS SANs (or the CN when there are none) */
	size_t nnames;
};

struct tls_server {
	SSL_CTX *ctx;
	const struct config *cfg; /* borrowed: the snapshot owns both */
	struct ca *ca;		  /* borrowed, may be NULL */
	struct server_cert *certs;
	size_t ncerts;
};

/* TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only. */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

#define TICKET_ROTATE_S 3600
#define TICKET_KEYS 3

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	time_t created; /* 0: slot unused */
};

static struct {
	pthread_mutex_t mu;
	struct ticket_key keys[TICKET_KEYS]; /* [0] seals, all open */
} tickets = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Under tickets.mu: a fresh sealing key when the current one is due. */
static int
tickets_rotate(time_t now)
{
	struct ticket_key k = { .created = now };

	if (tickets.keys[0].created != 0 &&
	    now - tickets.keys[0].created < TICKET_ROTATE_S)
		return 0;
	if (RAND_bytes(k.name, sizeof(k.name)) != 1 ||
	    RAND_bytes(k.aes, sizeof(k.aes)) != 1 ||
	    RAND_bytes(k.hmac, sizeof(k.hmac)) != 1)
		return -1;
	memmove(&tickets.keys[1], &tickets.keys[0],
	    sizeof(tickets.keys[0]) * (TICKET_KEYS - 1));
	tickets.keys[0] = k;
	return 0;
}

/*
 * The ticket cipher, fetched once: EVP_aes_256_cbc() makes OpenSSL 3
 * look the implementation up again in every EVP_*Init_ex (a lock and a
 * hash lookup per handshake).
 */
static EVP_CIPHER *ticket_cipher;
static pthread_once_t ticket_cipher_once = PTHREAD_ONCE_INIT;

static void
ticket_cipher_fetch(void)
{
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

/* The fetched cipher, or (if that fetch failed) the implicit one. */
static const EVP_CIPHER *
ticket_cipher_get(void)
{
	pthread_once(&ticket_cipher_once, ticket_cipher_fetch);
	return ticket_cipher != NULL ? ticket_cipher : EVP_aes_256_cbc();
}

static int
ticket_hmac_init(EVP_MAC_CTX *hctx, const unsigned char *key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_init(hctx, key, 32, params) == 1 ? 0 : -1;
}

/*
 * OpenSSL's ticket key callback: enc = 1 seals a new ticket with the
 * current key (1, or -1 on failure); enc = 0 opens one: 0 when its key is
 * unknown or retired (full handshake), 2 when it opened with an older
 * key (OpenSSL issues a new ticket), 1 otherwise.
 */
static int
on_ticket_key(SSL *ssl, unsigned char key_name[16], unsigned char iv[16],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	time_t now = time(NULL);
	struct ticket_key k;
	int found = -1;

	pthread_mutex_lock(&tickets.mu);
	if (tickets_rotate(now) != 0) {
		pthread_mutex_unlock(&tickets.mu);
		return enc ? -1 : 0;
	}
	if (enc) {
		k = tickets.keys[0];
	} else {
		for (int i = 0; i < TICKET_KEYS && found < 0; i++)
			if (tickets.keys[i].created != 0 &&
			    memcmp(tickets.keys[i].name, key_name, 16) == 0)
				found = i;
		if (found >= 0)
			k = tickets.keys[found];
	}
	pthread_mutex_unlock(&tickets.mu);
	if (enc) {
		memcpy(key_name, k.name, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(cctx, ticket_cipher_get(), NULL, k.aes,
		    iv) != 1 || ticket_hmac_init(hctx, k.hmac) != 0)
			return -1;
		return 1;
	}
	if (found < 0)
		return 0;
	if (ticket_hmac_init(hctx, k.hmac) != 0 ||
	    EVP_DecryptInit_ex(cctx, ticket_cipher_get(), NULL, k.aes,
	    iv) != 1)
		return -1;
	return found == 0 ? 1 : 2;
}

static void
openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* Whether a certificate name (possibly "*.example.com") covers host. */
static bool
name_matches(const char *pattern, const char *host)
{
	const char *dot;

	if (strcasecmp(pattern, host) == 0)
		return true;
	if (strncmp(pattern, "*.", 2) != 0)
		return false;
	/* A wildcard covers exactly one leftmost label. */
	dot = strchr(host, '.');
	return dot != NULL && dot != host && strcasecmp(pattern + 1, dot) == 0;
}

static void
cert_add_name(struct server_cert *c, const char *name, size_t len)
{
	c->names = xreallocarray(c->names, c->nnames + 1, sizeof(*c->names));
	c->names[c->nnames++] = xstrndup(name, len);
}

static void
cert_collect_names(struct server_cert *c)
{
	GENERAL_NAMES *sans;

	sans = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type == GEN_DNS)
			cert_add_name(c,
			    (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
			    (size_t)ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	if (c->nnames == 0) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(c->leaf),
		    NID_commonName, cn, sizeof(cn)) > 0)
			cert_add_name(c, cn, strlen(cn));
	}
}

static int
cert_load(struct server_cert *c, const struct conf_certificate *cc,
    char *err, size_t errlen)
{
	char reason[256];
	FILE *f;
	X509 *x;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(cc->cert);
	if ((f = fopen(cc->cert, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %m", cc->cert);
		return -1;
	}
	c->leaf = PEM_read_X509(f, NULL, NULL, NULL);
	c->chain = sk_X509_new_null();
	while (c->leaf != NULL && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		sk_X509_push(c->chain, x);
	fclose(f);
	ERR_clear_error(); /* the read past the last PEM block */
	if (c->leaf == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate found", cc->cert);
		return -1;
	}
	if ((f = fopen(cc->key, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %m", cc->key);
		return -1;
	}
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (c->key == NULL) {
		openssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "%s: cannot read private key: %s",
		    cc->key, reason);
		return -1;
	}
	if (X509_check_private_key(c->leaf, c->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: private key %s does not match the "
		    "certificate", cc->cert, cc->key);
		return -1;
	}
	cert_collect_names(c);
	if (c->nnames == 0) {
		snprintf(err, errlen, "%s: certificate has no DNS name",
		    cc->cert);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(c->leaf)) < 0)
		log_warnx("%s: certificate has expired; clients will refuse "
		    "it", cc->cert);
	return 0;
}

static void
cert_free(struct server_cert *c)
{
	free(c->path);
	X509_free(c->leaf);
	EVP_PKEY_free(c->key);
	sk_X509_pop_free(c->chain, X509_free);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
}

static const struct server_cert *
find_static(const struct tls_server *ts, const char *host)
{
	for (size_t i = 0; i < ts->ncerts; i++)
		for (size_t j = 0; j < ts->certs[i].nnames; j++)
			if (name_matches(ts->certs[i].names[j], host))
				return &ts->certs[i];
	return NULL;
}

static int
use_minted(SSL *ssl, struct ca *ca, const char *host)
{
	char err[256];
	X509 *leaf;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
	int ok;

	if (ca_leaf(ca, host, &leaf, &key, err, sizeof(err)) != 0) {
		log_warnx("gateway CA: cannot mint a certificate for %s: %s",
		    host, err);
		return 0;
	}
	chain = sk_X509_new_null();
	sk_X509_push(chain, ca_certificate(ca));
	ok = SSL_use_cert_and_key(ssl, leaf, key, chain, 1);
	sk_X509_free(chain);
	return ok == 1;
}

/* The ex_data slots holding a connection's name hint (not owned) and
 * whether its listener offers h2 (non-NULL) by ALPN. */
static int hint_index = -1, h2_index = -1;
static pthread_once_t hint_once = PTHREAD_ONCE_INIT;

static void
hint_index_init(void)
{
	hint_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	h2_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/*
 * The certificate callback: static certificate for the SNI name (else
 * the name hint: a CONNECT host), else a minted one when the name is an
 * endpoint host, else the default.
 */
static int
on_certificate(SSL *ssl, void *arg)
{
	struct tls_server *ts = arg;
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct server_cert *c = NULL;

	if (host == NULL && hint_index >= 0)
		host = SSL_get_ex_data(ssl, hint_index);

	if (host != NULL)
		c = find_static(ts, host);
	if (c == NULL && host != NULL && ts->ca != NULL &&
	    config_endpoint_for_host(ts->cfg, host, strlen(host)) != NULL)
		return use_minted(ssl, ts->ca, host);
	if (c == NULL && ts->ncerts > 0)
		c = &ts->certs[0];
	if (c == NULL && ts->ca != NULL && ts->cfg->nendpoints > 0)
		return use_minted(ssl, ts->ca, ts->cfg->endpoints[0].hosts[0]);
	if (c == NULL)
		return 0;
	return SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) == 1;
}

/* Offers only http/1.1 (h2 arrives with the HTTP/2 codec). */
static int
on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h1[] = "\x08http/1.1";
	static const unsigned char h2[] = "\x02h2\x08http/1.1";
	bool offer_h2 = h2_index >= 0 && SSL_get_ex_data(ssl, h2_index);
	unsigned char *sel;

	/* our order is the preference: h2 first where the listener offers it */
	if (SSL_select_next_proto(&sel, outlen, offer_h2 ? h2 : h1,
	    offer_h2 ? sizeof(h2) - 1 : sizeof(h1) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *
context_new(struct tls_server *ts, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, tls12_ciphers) ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384")) {
		char reason[256];

		openssl_reason(reason, sizeof(reason));
		snprintf(err, errlen, "TLS server context: %s", reason);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * A client's FIN without close_notify reads as the end of what it
	 * sends, not as a fatal error (which would send an alert and leave
	 * nothing to answer on): a client that half-closes after its request
	 * still gets the response. Truncation cannot pass for a request:
	 * requests are framed by Content-Length, and a cut one is never sent.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_cert_cb(ctx, on_certificate, ts);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, ts);
	return ctx;
}

struct tls_server *
tls_server_new(const struct config *cfg, struct ca *ca, char *err,
    size_t errlen)
{
	struct tls_server *ts = xcalloc(1, sizeof(*ts));

	ts->cfg = cfg;
	ts->ca = ca;
	ts->certs = xcalloc(cfg->tls.ncertificates, sizeof(*ts->certs));
	for (size_t i = 0; i < cfg->tls.ncertificates; i++) {
		ts->ncerts++;
		if (cert_load(&ts->certs[i], &cfg->tls.certificates[i], err,
		    errlen) != 0) {
			tls_server_free(ts);
			return NULL;
		}
	}
	if ((ts->ctx = context_new(ts, err, errlen)) == NULL) {
		tls_server_free(ts);
		return NULL;
	}
	return ts;
}

void
tls_server_free(struct tls_server *ts)
{
	if (ts == NULL)
		return;
	for (size_t i = 0; i < ts->ncerts; i++)
		cert_free(&ts->certs[i]);
	free(ts->certs);
	SSL_CTX_free(ts->ctx);
	free(ts);
}

SSL *
tls_server_ssl_new(struct tls_server *ts, const char *name_hint,
    bool offer_h2)
{
	static char yes;
	SSL *ssl = SSL_new(ts->ctx);

	pthread_once(&hint_once, hint_index_init);
	if (ssl == NULL)
		return NULL;
	if ((name_hint != NULL && (hint_index < 0 || SSL_set_ex_data(ssl,
	    hint_index, (void *)(uintptr_t)name_hint) != 1)) ||
	    (offer_h2 && (h2_index < 0 || SSL_set_ex_data(ssl, h2_index,
	    &yes) != 1))) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

void
tls_server_foreach_expiry(const struct tls_server *ts,
    void (*fn)(void *arg, const char *path, time_t not_after), void *arg)
{
	for (size_t i = 0; i < ts->ncerts; i++) {
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(ts->certs[i].leaf),
		    &tm) == 1)
			fn(arg, ts->certs[i].path, timegm(&tm));
	}
}

size_t
tls_server_certificate_count(const struct tls_server *ts)
{
	return ts->ncerts;
}

void
tls_server_describe(const struct tls_server *ts, FILE *out)
{
	for (size_t i = 0; i < ts->ncerts; i++) {
		const struct server_cert *c = &ts->certs[i];
		BIO *b = BIO_new_fp(out, BIO_NOCLOSE);

		fprintf(out, "certificate %s: names", c->path);
		for (size_t j = 0; j < c->nnames; j++)
			fprintf(out, " %s", c->names[j]);
		fprintf(out, "; expires ");
		ASN1_TIME_print(b, X509_get0_notAfter(c->leaf));
		BIO_free(b);
		fprintf(out, "\n");
	}
}
