/*
 * Unit tests for ca: creating and loading a gateway CA, and minting,
 * caching and verifying leaf certificates. Every test works in its own
 * mkdtemp(3) directory, removed afterwards.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"

#define DAY		(24L * 60 * 60)
#define AWS_NAME	"dynamodb.us-east-1.amazonaws.com"
/* Past the 64 characters of a CN: the leaf gets an empty subject. */
#define LONG_NAME \
	"a-very-long-label-to-push-this-name-past-the-cn-limit" \
	".dynamodb.us-east-1.amazonaws.com"

struct fixture {
	char	dir[32];	/* the mkdtemp directory */
	char	ca_dir[64];	/* dir/ca, where ca_create writes */
	char	cert[96];	/* ca_dir/ca.pem */
	char	key[96];	/* ca_dir/ca.key */
};

/* One extension for cert_make, as in openssl.cnf. */
struct ext {
	int		 nid;
	const char	*value;
};

static const char *const amazonaws[] = { "amazonaws.com" };

static int
setup(void **state)
{
	struct fixture *f;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ca.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->ca_dir, sizeof(f->ca_dir), "%s/ca", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/ca.pem", f->ca_dir);
	snprintf(f->key, sizeof(f->key), "%s/ca.key", f->ca_dir);
	*state = f;
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* --- helpers ------------------------------------------------------------ */

static struct ca *
ca_new(struct fixture *f, const char *const *permitted, size_t n)
{
	char err[512];
	struct ca *ca;

	assert_int_equal(ca_create(f->ca_dir, permitted, n, err,
	    sizeof(err)), 0);
	ca = ca_load(f->cert, f->key, err, sizeof(err));
	if (ca == NULL)
		fail_msg("ca_load: %s", err);
	return ca;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static char *
file_read(const char *path)
{
	static char buf[8192];
	FILE *fp;
	size_t n;

	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
file_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	if (cert != NULL)
		assert_int_equal(PEM_write_X509(fp, cert), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	fclose(fp);
}

static X509 *
pem_read_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *
pem_read_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *key;

	assert_non_null(fp);
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(key);
	return key;
}

/*
 * A certificate for key with subject CN=cn, valid from now+from to
 * now+until, signed by issuer_key (self-signed if issuer is NULL).
 */
static X509 *
cert_make(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
    long from, long until, const struct ext *exts)
{
	const EVP_MD *md = EVP_sha256();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	X509 *x = X509_new();
	time_t now = time(NULL);

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)now);
	ASN1_TIME_set(X509_getm_notBefore(x), now + from);
	ASN1_TIME_set(X509_getm_notAfter(x), now + until);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ?
	    issuer : x));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (; exts != NULL && exts->nid != 0; exts++) {
		ext = X509V3_EXT_nconf_nid(NULL, &ctx, exts->nid, exts->value);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_ED25519)
		md = NULL;
	assert_true(X509_sign(x, issuer_key, md) > 0);
	return x;
}

/* Writes an operator-made CA to the fixture's paths and loads it. */
static struct ca *
ca_operator(struct fixture *f, EVP_PKEY *key, long from, long until,
    const struct ext *exts, char *err, size_t errlen)
{
	X509 *x;

	assert_int_equal(mkdir(f->ca_dir, 0700), 0);
	x = cert_make(key, NULL, key, "operator CA", from, until, exts);
	pem_write(f->cert, x, NULL);
	pem_write(f->key, NULL, key);
	X509_free(x);
	return ca_load(f->cert, f->key, err, errlen);
}

/* Verifies leaf against root as a TLS server for host (NULL: any). */
static int
verify(X509 *root, X509 *leaf, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (host != NULL)
		X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx),
		    host, 0);
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static void
assert_contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* --- ca_create ---------------------------------------------------------- */

static void
test_create_modes(void **state)
{
	struct fixture *f = *state;
	char err[512];

	assert_int_equal(ca_create(f->ca_dir, amazonaws, 1, err,
	    sizeof(err)), 0);
	assert_int_equal(file_mode(f->ca_dir), 0700);
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(file_mode(f->cert), 0644);
	assert_contains(file_read(f->key), "-----BEGIN PRIVATE KEY-----");
	assert_contains(file_read(f->cert), "-----BEGIN CERTIFICATE-----");
}

/* The key is 0600 even under a umask that would allow more. */
static void
test_create_modes_umask(void **state)
{
	struct fixture *f = *state;
	char err[512];
	mode_t old = umask(0);

	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(file_mode(f->ca_dir), 0700);
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(file_mode(f->cert), 0644);
}

static void
test_create_makes_parents(void **state)
{
	struct fixture *f = *state;
	char dir[64], path[96];
	char err[512];

	snprintf(dir, sizeof(dir), "%s/a/b/c/", f->dir);
	assert_int_equal(ca_create(dir, NULL, 0, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", f->dir);
	assert_int_equal(file_mode(path), 0700);
	snprintf(path, sizeof(path), "%s/a/b/c/ca.key", f->dir);
	assert_int_equal(file_mode(path), 0600);
}

static void
test_create_existing_dir(void **state)
{
	struct fixture *f = *state;
	char err[512];

	assert_int_equal(mkdir(f->ca_dir, 0750), 0);
	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(file_mode(f->ca_dir), 0750);
	assert_int_equal(file_mode(f->key), 0600);
}

static void
test_create_dir_is_file(void **state)
{
	struct fixture *f = *state;
	char err[512];

	file_write(f->ca_dir, "x");
	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), -1);
	assert_contains(err, f->ca_dir);
	assert_contains(err, "not a directory");
}

static void
test_create_refuses_overwrite(void **state)
{
	struct fixture *f = *state;
	char err[512], *cert, *key;

	assert_int_equal(ca_create(f->ca_dir, amazonaws, 1, err,
	    sizeof(err)), 0);
	cert = strdup(file_read(f->cert));
	key = strdup(file_read(f->key));

	assert_int_equal(ca_create(f->ca_dir, amazonaws, 1, err,
	    sizeof(err)), -1);
	assert_contains(err, f->cert);
	assert_contains(err, "already exists");
	assert_string_equal(file_read(f->cert), cert);
	assert_string_equal(file_read(f->key), key);

	/* A key alone is refused too, and named. */
	assert_int_equal(unlink(f->cert), 0);
	assert_int_equal(ca_create(f->ca_dir, amazonaws, 1, err,
	    sizeof(err)), -1);
	assert_contains(err, f->key);
	assert_string_equal(file_read(f->key), key);
	free(cert);
	free(key);
}

static void
test_create_bad_permitted(void **state)
{
	static const char *const bad[][1] = {
		{ "*.amazonaws.com" }, { "" }, { "amazonaws..com" },
		{ "-amazonaws.com" }, { "amazonaws.com." }, { "10.0.0.1" },
		{ "amazon aws.com" },
	};
	struct fixture *f = *state;
	char err[512];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_create(f->ca_dir, bad[i], 1, err,
		    sizeof(err)), -1);
		assert_contains(err, "permitted name");
		assert_int_equal(stat(f->ca_dir, &st), -1);
	}
}

static void
test_create_profile(void **state)
{
	struct fixture *f = *state;
	char err[512], cn[128];
	NAME_CONSTRAINTS *nc;
	GENERAL_SUBTREE *sub;
	EVP_PKEY *key;
	X509 *x;
	const X509_NAME *subject;
	time_t now = time(NULL);
	char group[32];
	size_t glen;
	int crit;

	assert_int_equal(ca_create(f->ca_dir, amazonaws, 1, err,
	    sizeof(err)), 0);
	x = pem_read_cert(f->cert);
	subject = X509_get_subject_name(x);
	assert_true(X509_NAME_get_text_by_NID(subject, NID_commonName, cn,
	    sizeof(cn)) > 0);
	assert_memory_equal(cn, "ddbgate gateway CA ", 19);
	assert_true(strlen(cn) <= 64);
	assert_true(X509_NAME_get_text_by_NID(subject,
	    NID_organizationName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, "ddbgate");
	assert_int_equal(X509_NAME_cmp(subject, X509_get_issuer_name(x)), 0);

	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_int_equal(ext_critical(x, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_true(asn1_time(X509_get0_notBefore(x)) <= now - 3500);
	assert_true(asn1_time(X509_get0_notAfter(x)) >= now + 3650 * DAY);

	nc = X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL);
	assert_non_null(nc);
	assert_int_equal(crit, 1);
	assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 1);
	sub = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, 0);
	assert_int_equal(sub->base->type, GEN_DNS);
	assert_string_equal(ASN1_STRING_get0_data(sub->base->d.dNSName),
	    "amazonaws.com");
	assert_null(nc->excludedSubtrees);
	NAME_CONSTRAINTS_free(nc);

	key = X509_get0_pubkey(x);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(key, group, sizeof(group),
	    &glen), 1);
	assert_string_equal(group, "prime256v1");
	X509_free(x);
}

/* The serial is 128 random bits: two CAs never share one. */
static void
test_create_serial(void **state)
{
	struct fixture *f = *state;
	char err[512], dir[64], path[96];
	ASN1_INTEGER *first;
	BIGNUM *bn;
	X509 *a, *b;

	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/other", f->dir);
	assert_int_equal(ca_create(dir, NULL, 0, err, sizeof(err)), 0);
	a = pem_read_cert(f->cert);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	b = pem_read_cert(path);
	first = ASN1_INTEGER_dup(X509_get0_serialNumber(a));
	assert_int_not_equal(ASN1_INTEGER_cmp(first,
	    X509_get0_serialNumber(b)), 0);
	bn = ASN1_INTEGER_to_BN(first, NULL);
	assert_true(BN_num_bits(bn) > 96 && BN_num_bits(bn) <= 128);
	BN_free(bn);
	ASN1_INTEGER_free(first);
	assert_null(X509_get_ext_d2i(a, NID_name_constraints, NULL, NULL));
	X509_free(a);
	X509_free(b);
}

/* --- ca_load ------------------------------------------------------------ */

static void
test_load_ok(void **state)
{
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, amazonaws, 1);
	X509 *x = pem_read_cert(f->cert);

	assert_non_null(ca_certificate(ca));
	assert_int_equal(X509_cmp(ca_certificate(ca), x), 0);
	assert_int_equal(ca_minted_count(ca), 0);
	X509_free(x);
	ca_free(ca);
	ca_free(NULL);
}

static void
test_load_mismatch(void **state)
{
	struct fixture *f = *state;
	char err[512], dir[64], other_key[96];

	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/other", f->dir);
	assert_int_equal(ca_create(dir, NULL, 0, err, sizeof(err)), 0);
	snprintf(other_key, sizeof(other_key), "%s/ca.key", dir);

	assert_null(ca_load(f->cert, other_key, err, sizeof(err)));
	assert_contains(err, f->cert);
	assert_contains(err, other_key);
	assert_contains(err, "do not match");
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_load_not_ca(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char err[512];

	assert_null(ca_operator(f, key, -60, DAY, exts, err, sizeof(err)));
	assert_contains(err, f->cert);
	assert_contains(err, "not a CA");
	EVP_PKEY_free(key);
}

/* keyUsage without keyCertSign makes a CA:TRUE certificate useless. */
static void
test_load_no_cert_sign(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char err[512];

	assert_null(ca_operator(f, key, -60, DAY, exts, err, sizeof(err)));
	assert_contains(err, "not a CA");
	EVP_PKEY_free(key);
}

static void
test_load_missing(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct ca *ca;

	assert_null(ca_load(f->cert, f->key, err, sizeof(err)));
	assert_contains(err, f->cert);
	assert_contains(err, "No such file");

	ca = ca_new(f, NULL, 0);
	ca_free(ca);
	assert_int_equal(unlink(f->key), 0);
	assert_null(ca_load(f->cert, f->key, err, sizeof(err)));
	assert_contains(err, f->key);
	assert_contains(err, "No such file");
}

static void
test_load_garbage(void **state)
{
	struct fixture *f = *state;
	char err[512];

	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(unlink(f->cert), 0);
	file_write(f->cert, "not a certificate\n");
	assert_null(ca_load(f->cert, f->key, err, sizeof(err)));
	assert_contains(err, f->cert);
	assert_contains(err, "no start line");

	/* A certificate where the key should be. */
	assert_null(ca_load(f->key, f->key, err, sizeof(err)));
	assert_contains(err, f->key);
	assert_int_equal(ERR_peek_error(), 0);
}

/* An encrypted key is refused at once, never prompted for. */
static void
test_load_encrypted_key(void **state)
{
	struct fixture *f = *state;
	char err[512];
	EVP_PKEY *key;
	FILE *fp;

	assert_int_equal(ca_create(f->ca_dir, NULL, 0, err, sizeof(err)), 0);
	key = pem_read_key(f->key);
	assert_int_equal(unlink(f->key), 0);
	fp = fopen(f->key, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, key, EVP_aes_256_cbc(),
	    (const unsigned char *)"secret", 6, NULL, NULL), 1);
	fclose(fp);
	assert_null(ca_load(f->cert, f->key, err, sizeof(err)));
	assert_contains(err, f->key);
	EVP_PKEY_free(key);
}

static void
test_load_expired(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char err[512];

	assert_null(ca_operator(f, key, -2 * DAY, -DAY, exts, err,
	    sizeof(err)));
	assert_contains(err, f->cert);
	assert_contains(err, "expired on");
	EVP_PKEY_free(key);
}

static void
test_load_not_yet_valid(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char err[512];

	assert_null(ca_operator(f, key, DAY, 2 * DAY, exts, err,
	    sizeof(err)));
	assert_contains(err, "not valid before");
	EVP_PKEY_free(key);
}

static void
test_load_ed25519_refused(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char err[512];

	assert_non_null(key);
	assert_null(ca_operator(f, key, -60, DAY, exts, err, sizeof(err)));
	assert_contains(err, f->key);
	assert_contains(err, "not supported");
	EVP_PKEY_free(key);
}

/* An operator's RSA CA without a subjectKeyIdentifier still mints. */
static void
test_load_rsa_operator_ca(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *key = EVP_RSA_gen(2048), *leaf_key;
	char err[512];
	struct ca *ca;
	X509 *leaf;

	ca = ca_operator(f, key, -60, 30 * DAY, exts, err, sizeof(err));
	if (ca == NULL)
		fail_msg("ca_load: %s", err);
	assert_int_equal(ca_leaf(ca, AWS_NAME, &leaf, &leaf_key, err,
	    sizeof(err)), 0);
	assert_int_equal(X509_get_signature_nid(leaf),
	    NID_sha256WithRSAEncryption);
	assert_non_null(X509_get0_authority_key_id(leaf));
	assert_int_equal(verify(ca_certificate(ca), leaf, AWS_NAME),
	    X509_V_OK);
	ca_free(ca);
	EVP_PKEY_free(key);
}

/* --- ca_leaf ------------------------------------------------------------ */

static void
test_leaf_minted_once(void **state)
{
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, amazonaws, 1);
	X509 *a, *b, *c;
	EVP_PKEY *ka, *kb, *kc;
	char err[512];

	assert_int_equal(ca_leaf(ca, AWS_NAME, &a, &ka, err, sizeof(err)), 0);
	assert_int_equal(ca_minted_count(ca), 1);
	assert_int_equal(ca_leaf(ca, AWS_NAME, &b, &kb, err, sizeof(err)), 0);
	assert_ptr_equal(a, b);
	assert_ptr_equal(ka, kb);
	assert_int_equal(ca_minted_count(ca), 1);

	/* Names are case-insensitive: one leaf, in lower case. */
	assert_int_equal(ca_leaf(ca, "DynamoDB.US-East-1.AmazonAWS.com", &c,
	    &kc, err, sizeof(err)), 0);
	assert_ptr_equal(a, c);
	assert_int_equal(ca_minted_count(ca), 1);

	assert_int_equal(ca_leaf(ca, "streams.dynamodb.us-east-1.amazonaws.com",
	    &c, &kc, err, sizeof(err)), 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(ca_minted_count(ca), 2);

	/* One key per leaf. */
	assert_int_not_equal(EVP_PKEY_eq(ka, kc), 1);
	assert_int_equal(X509_check_private_key(a, ka), 1);
	assert_int_equal(X509_check_private_key(c, kc), 1);
	ca_free(ca);
}

static void
test_leaf_invalid_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "amazonaws..com", ".amazonaws.com",
		"dynamodb.amazonaws.com.", "-dynamodb.amazonaws.com",
		"dynamodb-.amazonaws.com", "*.amazonaws.com",
		"*dynamodb.amazonaws.com", "dynamo_db.amazonaws.com",
		"dynamo db.amazonaws.com", "dynamodb.amazonaws.com\n",
		"dynamodb.amazonaws.com:443", "dynamodb\xc3\xa9.amazonaws.com",
		"10.0.0.1", "127.0.0.1", "[::1]",
	};
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, NULL, 0);
	char label[80], name[300], err[512];
	EVP_PKEY *key;
	X509 *cert;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ca_leaf(ca, bad[i], &cert, &key, err, sizeof(err)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_contains(err, "invalid DNS name");
	}

	/* A 64-character label; a 63-character one is fine. */
	memset(label, 'a', 64);
	snprintf(name, sizeof(name), "%.64s.amazonaws.com", label);
	assert_int_equal(ca_leaf(ca, name, &cert, &key, err, sizeof(err)), -1);
	assert_contains(err, "63");
	snprintf(name, sizeof(name), "%.63s.amazonaws.com", label);
	assert_int_equal(ca_leaf(ca, name, &cert, &key, err, sizeof(err)), 0);

	/* 254 characters in all; 253 is fine. */
	memset(name, 'a', sizeof(name));
	for (i = 63; i < 254; i += 64)
		name[i] = '.';
	name[254] = '\0';
	assert_int_equal(ca_leaf(ca, name, &cert, &key, err, sizeof(err)), -1);
	assert_contains(err, "253");
	name[253] = '\0';
	assert_int_equal(ca_leaf(ca, name, &cert, &key, err, sizeof(err)), 0);
	assert_int_equal(verify(ca_certificate(ca), cert, name), X509_V_OK);
	assert_int_equal(ca_minted_count(ca), 2);
	ca_free(ca);
}

static void
leaf_check_profile(struct ca *ca, X509 *leaf, const char *name)
{
	const ASN1_OCTET_STRING *akid, *skid;
	GENERAL_NAMES *sans;
	const GENERAL_NAME *san;
	time_t now = time(NULL), not_before, not_after;
	char cn[128];

	assert_int_equal(X509_check_ca(leaf), 0);
	assert_int_equal(ext_critical(leaf, NID_basic_constraints), 1);
	assert_int_equal(ext_critical(leaf, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
	assert_non_null(X509_get0_subject_key_id(leaf));
	akid = X509_get0_authority_key_id(leaf);
	skid = X509_get0_subject_key_id(ca_certificate(ca));
	assert_non_null(akid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid, skid), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf),
	    X509_get_subject_name(ca_certificate(ca))), 0);

	sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	assert_non_null(sans);
	assert_int_equal(sk_GENERAL_NAME_num(sans), 1);
	san = sk_GENERAL_NAME_value(sans, 0);
	assert_int_equal(san->type, GEN_DNS);
	assert_string_equal(ASN1_STRING_get0_data(san->d.dNSName), name);
	GENERAL_NAMES_free(sans);
	if (strlen(name) <= 64) {
		assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(
		    leaf), NID_commonName, cn, sizeof(cn)) > 0);
		assert_string_equal(cn, name);
	}

	not_before = asn1_time(X509_get0_notBefore(leaf));
	not_after = asn1_time(X509_get0_notAfter(leaf));
	assert_true(not_before <= now - 4 * 60 && not_before >= now - 6 * 60);
	assert_true(not_after >= now + 7 * DAY - 60 &&
	    not_after <= now + 7 * DAY + 60);
}

static void
test_leaf_verifies(void **state)
{
	static const char *const names[] = {
		AWS_NAME, "amazonaws.com",
		"streams.dynamodb.eu-west-1.amazonaws.com",
		"111122223333.ddb.us-east-1.amazonaws.com", LONG_NAME,
	};
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, amazonaws, 1);
	EVP_PKEY *key;
	X509 *leaf;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ca_leaf(ca, names[i], &leaf, &key, err, sizeof(err)) != 0)
			fail_msg("%s: %s", names[i], err);
		assert_int_equal(verify(ca_certificate(ca), leaf, names[i]),
		    X509_V_OK);
		assert_int_equal(X509_check_host(leaf, names[i], 0, 0, NULL),
		    1);
		assert_int_not_equal(X509_check_host(leaf, "example.org", 0, 0,
		    NULL), 1);
		assert_int_equal(verify(ca_certificate(ca), leaf,
		    "other.amazonaws.com"), X509_V_ERR_HOSTNAME_MISMATCH);
		leaf_check_profile(ca, leaf, names[i]);
	}
	ca_free(ca);
}

/* The CA's name constraints: ca_leaf refuses, and clients would too. */
static void
test_leaf_outside_constraints(void **state)
{
	static const char *const outside[] = {
		"example.org", "xamazonaws.com", "amazonaws.com.evil.org",
		"com",
	};
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_subject_alt_name, "DNS:example.org" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, amazonaws, 1);
	EVP_PKEY *key, *ca_key;
	X509 *leaf;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_int_equal(ca_leaf(ca, outside[i], &leaf, &key, err,
		    sizeof(err)), -1);
		assert_contains(err, outside[i]);
		assert_contains(err, "outside the CA's name constraints");
	}
	assert_int_equal(ca_minted_count(ca), 0);

	/* Signed with the CA key anyway, such a leaf fails verification. */
	ca_key = pem_read_key(f->key);
	key = EVP_EC_gen("P-256");
	leaf = cert_make(key, ca_certificate(ca), ca_key, "example.org",
	    -60, DAY, exts);
	assert_int_equal(verify(ca_certificate(ca), leaf, "example.org"),
	    X509_V_ERR_PERMITTED_VIOLATION);
	X509_free(leaf);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	ca_free(ca);
}

static void
test_leaf_unconstrained(void **state)
{
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, NULL, 0);
	EVP_PKEY *key;
	X509 *leaf;
	char err[512];

	assert_int_equal(ca_leaf(ca, "example.org", &leaf, &key, err,
	    sizeof(err)), 0);
	assert_int_equal(verify(ca_certificate(ca), leaf, "example.org"),
	    X509_V_OK);
	ca_free(ca);
}

/* Several subtrees; a leading dot means "below", not the name itself. */
static void
test_leaf_several_subtrees(void **state)
{
	static const char *const permitted[] = {
		"amazonaws.com", ".example.net", "Internal.Corp",
	};
	static const char *const good[] = {
		"a.example.net", "b.a.example.net", "internal.corp",
		"ddb.internal.corp", AWS_NAME,
	};
	static const char *const bad[] = {
		"example.net", "xexample.net", "corp", "external.corp",
	};
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, permitted, 3);
	EVP_PKEY *key;
	X509 *leaf;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (ca_leaf(ca, good[i], &leaf, &key, err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
		assert_int_equal(verify(ca_certificate(ca), leaf, good[i]),
		    X509_V_OK);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ca_leaf(ca, bad[i], &leaf, &key, err, sizeof(err)) != -1)
			fail_msg("minted %s", bad[i]);
	}
	ca_free(ca);
}

/* Excluded subtrees of an operator's CA are honoured too. */
static void
test_leaf_excluded(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_name_constraints, "critical,permitted;DNS:amazonaws.com,"
		    "excluded;DNS:iam.amazonaws.com" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key;
	struct ca *ca;
	X509 *leaf;
	char err[512];

	ca = ca_operator(f, ca_key, -60, 30 * DAY, exts, err, sizeof(err));
	if (ca == NULL)
		fail_msg("ca_load: %s", err);
	assert_int_equal(ca_leaf(ca, "iam.amazonaws.com", &leaf, &key, err,
	    sizeof(err)), -1);
	assert_int_equal(ca_leaf(ca, "x.IAM.amazonaws.com", &leaf, &key, err,
	    sizeof(err)), -1);
	assert_int_equal(ca_leaf(ca, "example.org", &leaf, &key, err,
	    sizeof(err)), -1);
	assert_int_equal(ca_leaf(ca, "xiam.amazonaws.com", &leaf, &key, err,
	    sizeof(err)), 0);
	assert_int_equal(verify(ca_certificate(ca), leaf,
	    "xiam.amazonaws.com"), X509_V_OK);
	ca_free(ca);
	EVP_PKEY_free(ca_key);
}

/*
 * A CA with less than a day left: the leaf ends with the CA, and is not
 * minted again on every call although it is in its last day.
 */
static void
test_leaf_ca_ending(void **state)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ 0, NULL },
	};
	struct fixture *f = *state;
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key;
	struct ca *ca;
	X509 *a, *b;
	char err[512];

	ca = ca_operator(f, ca_key, -60, 12 * 60 * 60, exts, err, sizeof(err));
	if (ca == NULL)
		fail_msg("ca_load: %s", err);
	assert_int_equal(ca_leaf(ca, AWS_NAME, &a, &key, err, sizeof(err)), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(a),
	    X509_get0_notAfter(ca_certificate(ca))), 0);
	assert_int_equal(ca_leaf(ca, AWS_NAME, &b, &key, err, sizeof(err)), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(ca_minted_count(ca), 1);
	assert_int_equal(verify(ca_certificate(ca), a, AWS_NAME), X509_V_OK);
	ca_free(ca);
	EVP_PKEY_free(ca_key);
}

struct racer {
	struct ca		*ca;
	pthread_barrier_t	*start;
	X509			*cert;
	EVP_PKEY		*key;
	int			 rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	char err[512];

	pthread_barrier_wait(r->start);
	r->rc = ca_leaf(r->ca, "race.dynamodb.us-east-1.amazonaws.com",
	    &r->cert, &r->key, err, sizeof(err));
	return NULL;
}

static void
test_leaf_concurrent(void **state)
{
	struct fixture *f = *state;
	struct ca *ca = ca_new(f, amazonaws, 1);
	struct racer racers[8];
	pthread_t threads[8];
	pthread_barrier_t start;
	unsigned long before;
	EVP_PKEY *key;
	X509 *cert;
	char err[512];
	size_t i;

	assert_int_equal(ca_leaf(ca, AWS_NAME, &cert, &key, err, sizeof(err)),
	    0);
	before = ca_minted_count(ca);
	assert_int_equal(pthread_barrier_init(&start, NULL, 8), 0);
	for (i = 0; i < 8; i++) {
		racers[i] = (struct racer){ .ca = ca, .start = &start };
		assert_int_equal(pthread_create(&threads[i], NULL, race,
		    &racers[i]), 0);
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	pthread_barrier_destroy(&start);

	assert_int_equal(ca_minted_count(ca), before + 1);
	for (i = 0; i < 8; i++) {
		assert_int_equal(racers[i].rc, 0);
		assert_ptr_equal(racers[i].cert, racers[0].cert);
		assert_ptr_equal(racers[i].key, racers[0].key);
	}
	assert_int_equal(verify(ca_certificate(ca), racers[0].cert,
	    "race.dynamodb.us-east-1.amazonaws.com"), X509_V_OK);
	ca_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_modes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_modes_umask, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_makes_parents,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_existing_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_dir_is_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_overwrite,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_bad_permitted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_profile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_serial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_not_ca, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_no_cert_sign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_encrypted_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_expired, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_not_yet_valid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_ed25519_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_rsa_operator_ca,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_minted_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_invalid_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_verifies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_outside_constraints,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_unconstrained, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_several_subtrees,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_excluded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_ca_ending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leaf_concurrent, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
