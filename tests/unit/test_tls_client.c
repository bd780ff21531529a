/*
 * Unit tests for tls_client's session resumption: handshakes between a
 * tls_client SSL and an OpenSSL server over memory BIOs, with a
 * certificate for "gw.test" made here. A kept session is resumed only for
 * the same name and address; health-check SSLs (peer NULL) never resume;
 * an SSL that outlives its context (a pooled connection of a snapshot a
 * reload dropped) still takes its tickets safely — under ASan a freed
 * context would show.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_client.h"

static char ca_path[] = "/tmp/test_tls_client.XXXXXX";
static SSL_CTX *server_ctx;

/* A self-signed P-256 certificate for gw.test, as server and as CA. */
static int
setup(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *san;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(key);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"gw.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:gw.test");
	assert_non_null(san);
	X509_add_ext(x, san, -1);
	X509_EXTENSION_free(san);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_true((fd = mkstemp(ca_path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	server_ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(server_ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(server_ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	SSL_CTX_free(server_ctx);
	unlink(ca_path);
	return 0;
}

struct pair {
	SSL *c, *s;
	BIO *c_out, *s_out;	/* what each side wrote */
};

static void
move(BIO *from, SSL *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
		assert_int_equal(BIO_write(SSL_get_rbio(to), buf, n), n);
}

/* Connects c to a new server SSL; returns whether both sides finished.
 * With tickets false, what the server sends after its handshake (its
 * session tickets) is held back in s_out. */
static bool
handshake(struct pair *p, SSL *c, bool tickets)
{
	bool cdone = false, sdone = false;

	p->c = c;
	p->s = SSL_new(server_ctx);
	p->c_out = BIO_new(BIO_s_mem());
	p->s_out = BIO_new(BIO_s_mem());
	SSL_set_bio(p->c, BIO_new(BIO_s_mem()), p->c_out);
	SSL_set_bio(p->s, BIO_new(BIO_s_mem()), p->s_out);
	SSL_set_connect_state(p->c);
	SSL_set_accept_state(p->s);
	for (int i = 0; i < 10 && !(cdone && sdone); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(p->c) == 1;
		move(p->c_out, p->s);
		if (!sdone)
			sdone = SSL_do_handshake(p->s) == 1;
		if (!cdone || tickets)
			move(p->s_out, p->c);
	}
	return cdone && sdone;
}

/* The server sends a byte; the client reads it (and any tickets first). */
static void
exchange(struct pair *p)
{
	char b;

	assert_int_equal(SSL_write(p->s, "x", 1), 1);
	move(p->s_out, p->c);
	assert_int_equal(SSL_read(p->c, &b, 1), 1);
}

static void
pair_free(struct pair *p)
{
	SSL_free(p->c);
	SSL_free(p->s);
}

/* One connection to name at peer; returns whether it resumed. */
static bool
connect_once(struct tls_client *tc, const char *name, const char *peer)
{
	struct pair p;
	SSL *c = tls_client_ssl_new(tc, name, peer);
	bool ok, resumed;

	assert_non_null(c);
	ok = handshake(&p, c, true);
	resumed = ok && tls_client_resumed(c);
	if (ok) {
		assert_int_equal(SSL_get_verify_result(c), X509_V_OK);
		assert_non_null(SSL_get0_peer_certificate(c));
		exchange(&p);	/* the tickets are read */
	}
	pair_free(&p);
	assert_true(ok);
	return resumed;
}

static void
test_resumes_same_name_and_address(void **state)
{
	char err[256];
	struct tls_client *tc = tls_client_new(ca_path, err, sizeof(err));

	(void)state;
	assert_non_null(tc);
	assert_false(connect_once(tc, "gw.test", "192.0.2.1:443"));
	assert_true(connect_once(tc, "gw.test", "192.0.2.1:443"));
	/* the resumed connection brought new tickets */
	assert_true(connect_once(tc, "gw.test", "192.0.2.1:443"));
	/* another address: nothing kept for it */
	assert_false(connect_once(tc, "gw.test", "192.0.2.2:443"));
	tls_client_free(tc);
}

static void
test_health_checks_never_resume(void **state)
{
	char err[256];
	struct tls_client *tc = tls_client_new(ca_path, err, sizeof(err));

	(void)state;
	assert_non_null(tc);
	assert_false(connect_once(tc, "gw.test", NULL));
	assert_false(connect_once(tc, "gw.test", NULL));
	/* nor did they leave a session for a peer to take */
	assert_false(connect_once(tc, "gw.test", "192.0.2.1:443"));
	tls_client_free(tc);
}

/* A new context (a reload) starts with nothing kept. */
static void
test_new_context_keeps_nothing(void **state)
{
	char err[256];
	struct tls_client *a = tls_client_new(ca_path, err, sizeof(err));
	struct tls_client *b = tls_client_new(ca_path, err, sizeof(err));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_false(connect_once(a, "gw.test", "192.0.2.1:443"));
	assert_false(connect_once(b, "gw.test", "192.0.2.1:443"));
	assert_true(connect_once(a, "gw.test", "192.0.2.1:443"));
	tls_client_free(a);
	tls_client_free(b);
}

/*
 * The context's owner lets go while a connection made with it is still
 * open and has not read its tickets: reading them later must not touch
 * freed memory, and the last SSL frees the context.
 */
static void
test_connection_outlives_context(void **state)
{
	char err[256];
	struct tls_client *tc = tls_client_new(ca_path, err, sizeof(err));
	struct pair p;

	(void)state;
	assert_non_null(tc);
	assert_true(handshake(&p, tls_client_ssl_new(tc, "gw.test",
	    "192.0.2.1:443"), false));
	tls_client_free(tc);
	exchange(&p);	/* tickets arrive now */
	pair_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resumes_same_name_and_address),
		cmocka_unit_test(test_health_checks_never_resume),
		cmocka_unit_test(test_new_context_keeps_nothing),
		cmocka_unit_test(test_connection_outlives_context),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
