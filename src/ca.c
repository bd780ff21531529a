/*
 * ca — the gateway certificate authority. See ca.h.
 *
 * A created CA is a self-signed ECDSA P-256 certificate with the profile
 * of RFC 5280: basicConstraints (4.2.1.9) critical CA:TRUE, pathlen 0;
 * keyUsage (4.2.1.3) critical keyCertSign, cRLSign; subjectKeyIdentifier
 * (4.2.1.2); and, when the operator names domains, critical
 * nameConstraints (4.2.1.10) with permitted dNSName subtrees, so relying
 * parties reject anything this key signs outside those domains.
 *
 * Leaves carry one dNSName SAN (4.2.1.6), extendedKeyUsage serverAuth
 * (4.2.1.12) and authorityKeyIdentifier (4.2.1.1); each has its own fresh
 * P-256 key, so no two names share a key, and lives seven days. ca_leaf()
 * refuses names outside the CA's own dNSName constraints rather than mint
 * certificates no client would accept.
 *
 * Cache: a fixed hash table of names under one mutex. The mutex is held
 * while a leaf is minted (about a millisecond), so concurrent first
 * callers for one name wait and then find the one leaf. Minting is rare
 * (once per name per six days) and a lookup is a short critical section,
 * so a global lock costs less than a per-entry state machine would. A
 * re-minted leaf supersedes the old one, which stays on the entry's
 * "older" list until ca_free(): callers may keep the pointers they got.
 */
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"

#define CA_BACKDATE	(60 * 60)		/* notBefore slack for skew */
#define CA_LIFETIME	(3653L * 24 * 60 * 60)	/* ten years */
#define LEAF_BACKDATE	(5 * 60)
#define LEAF_LIFETIME	(7L * 24 * 60 * 60)
#define LEAF_RENEW	(24L * 60 * 60)		/* re-mint with less left */

#define CA_BUCKETS	256
#define CA_NAMES_MAX	4096	/* distinct names; leaves are never evicted */

#define DNS_NAME_MAX	253
#define DNS_LABEL_MAX	63
#define CN_MAX		64	/* ub-common-name, RFC 5280 appendix A */

/* One minted certificate for one name. */
struct leaf {
	struct leaf	*next;		/* hash chain */
	struct leaf	*older;		/* superseded, kept for holders */
	X509		*cert;
	EVP_PKEY	*key;
	time_t		 not_after;
	char		 name[];	/* lower case */
};

/* dNSName subtrees of a nameConstraints extension, lower case. */
struct dns_subtrees {
	char	**base;
	size_t	  n;
};

struct ca {
	X509			*cert;
	EVP_PKEY		*key;
	time_t			 not_after;
	struct dns_subtrees	 permitted;
	struct dns_subtrees	 excluded;

	pthread_mutex_t		 lock;	/* guards table and nnames */
	struct leaf		*table[CA_BUCKETS];
	size_t			 nnames;
	atomic_ulong		 minted;
};

static void errorf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void ssl_errorf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Like errorf, followed by ": " and the first queued OpenSSL error. */
static void
ssl_errorf(char *err, size_t errlen, const char *fmt, ...)
{
	char reason[256] = "unknown OpenSSL error";
	unsigned long e;
	size_t len;
	va_list ap;

	if ((e = ERR_peek_error()) != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	len = strlen(err);
	snprintf(err + len, errlen - len, ": %s", reason);
}

/* --- DNS names ---------------------------------------------------------- */

static bool
label_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * Checks one label of len bytes at s. An all-digit label is reported
 * through *digits so the caller can refuse IPv4 literals.
 */
static const char *
label_check(const char *s, size_t len, bool *digits)
{
	size_t i;

	if (len == 0)
		return "empty label";
	if (len > DNS_LABEL_MAX)
		return "label longer than 63 characters";
	if (s[0] == '-' || s[len - 1] == '-')
		return "label starts or ends with a hyphen";
	*digits = true;
	for (i = 0; i < len; i++) {
		if (!label_char((unsigned char)s[i]))
			return "character other than a letter, digit, "
			    "hyphen or dot";
		if (s[i] < '0' || s[i] > '9')
			*digits = false;
	}
	return NULL;
}

/*
 * Copies a host name (RFC 1123 labels, no trailing dot, no wildcard, not
 * an IPv4 literal) in lower case into out (DNS_NAME_MAX + 1 bytes).
 * Returns NULL, or why the name is refused.
 */
static const char *
dns_name_normalize(const char *name, char *out)
{
	const char *label, *why, *dot;
	size_t len, i;
	bool digits = false;

	len = strnlen(name, DNS_NAME_MAX + 1);
	if (len == 0)
		return "empty name";
	if (len > DNS_NAME_MAX)
		return "name longer than 253 characters";
	for (label = name; ; label = dot + 1) {
		dot = strchr(label, '.');
		if (dot == NULL)
			dot = name + len;
		if ((why = label_check(label, dot - label, &digits)) != NULL)
			return why;
		if (*dot == '\0')
			break;
	}
	if (digits)
		return "last label is numeric (an address, not a name)";
	for (i = 0; i <= len; i++)
		out[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    name[i] - 'A' + 'a' : name[i];
	return NULL;
}

/*
 * Copies a dNSName subtree for ca_create, lower case, into out
 * (DNS_NAME_MAX + 2 bytes): a host name, optionally after one leading dot
 * (see dns_within). Returns NULL, or why it is refused.
 */
static const char *
subtree_normalize(const char *s, char *out)
{
	if (s == NULL)
		return "missing";
	if (s[0] == '.')
		*out++ = *s++;
	return dns_name_normalize(s, out);
}

/*
 * Whether name lies in the dNSName subtree base, as OpenSSL and RFC 5280
 * read it: "example.com" is the name and every name below it; a leading
 * dot (".example.com") means only the names below; empty means all.
 */
static bool
dns_within(const char *name, const char *base)
{
	size_t nlen = strlen(name), blen = strlen(base);
	const char *tail;

	if (blen == 0)
		return true;
	if (nlen < blen)
		return false;
	tail = name + (nlen - blen);
	if (nlen > blen && base[0] != '.' && tail[-1] != '.')
		return false;
	return strcmp(tail, base) == 0;
}

static bool
subtrees_match(const struct dns_subtrees *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		if (dns_within(name, st->base[i]))
			return true;
	}
	return false;
}

/* Whether the CA's own name constraints allow name (lower case). */
static bool
ca_permits(const struct ca *ca, const char *name)
{
	if (subtrees_match(&ca->excluded, name))
		return false;
	return ca->permitted.n == 0 || subtrees_match(&ca->permitted, name);
}

/* --- certificate building ----------------------------------------------- */

static EVP_PKEY *
key_generate(void)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, "P-256") <= 0 ||
	    EVP_PKEY_generate(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* A positive 128-bit random serial (RFC 5280 4.1.2.2 allows 20 octets). */
static int
serial_set(X509 *x)
{
	unsigned char buf[16];
	BIGNUM *bn;
	int rc = -1;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		return -1;
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL)
		return -1;
	if (BN_is_zero(bn))
		BN_one(bn);
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rc = 0;
	BN_free(bn);
	return rc;
}

/* A v3 certificate for pub with a serial and a validity, unsigned. */
static X509 *
cert_new(EVP_PKEY *pub, time_t not_before, time_t not_after)
{
	X509 *x;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || serial_set(x) == -1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL ||
	    X509_set_pubkey(x, pub) != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Adds an extension written as in openssl.cnf ("critical,CA:TRUE"). */
static int
ext_add_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static GENERAL_NAME *
general_name_dns(const char *name)
{
	GENERAL_NAME *gen;
	ASN1_IA5STRING *ia5;

	if ((ia5 = ASN1_IA5STRING_new()) == NULL)
		return NULL;
	if (ASN1_STRING_set(ia5, name, -1) != 1 ||
	    (gen = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
	return gen;
}

/*
 * Critical nameConstraints with one permitted dNSName subtree per name
 * (checked already by permitted_check).
 */
static int
ext_add_name_constraints(X509 *x, const char *const *permitted, size_t n)
{
	char base[DNS_NAME_MAX + 2];
	NAME_CONSTRAINTS *nc;
	GENERAL_SUBTREE *sub;
	size_t i;
	int rc = -1;

	if ((nc = NAME_CONSTRAINTS_new()) == NULL)
		return -1;
	if ((nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((sub = GENERAL_SUBTREE_new()) == NULL)
			goto out;
		GENERAL_NAME_free(sub->base);
		sub->base = NULL;
		if (subtree_normalize(permitted[i], base) == NULL)
			sub->base = general_name_dns(base);
		if (sub->base == NULL ||
		    sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, sub) == 0) {
			GENERAL_SUBTREE_free(sub);
			goto out;
		}
	}
	if (X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, 0) == 1)
		rc = 0;
out:
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

/* subjectAltName with the one dNSName; critical if the subject is empty. */
static int
ext_add_san(X509 *x, const char *name, int crit)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gen;
	int rc = -1;

	if ((gens = GENERAL_NAMES_new()) == NULL)
		return -1;
	if ((gen = general_name_dns(name)) == NULL)
		goto out;
	if (sk_GENERAL_NAME_push(gens, gen) == 0) {
		GENERAL_NAME_free(gen);
		goto out;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit, 0) == 1)
		rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/*
 * The issuer's subjectKeyIdentifier or, for an operator CA without one,
 * the SHA-1 of its public key as RFC 5280 4.2.1.2 method (1) computes it.
 */
static ASN1_OCTET_STRING *
key_id_of(X509 *issuer)
{
	const ASN1_OCTET_STRING *skid;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	ASN1_OCTET_STRING *id;

	if ((skid = X509_get0_subject_key_id(issuer)) != NULL)
		return ASN1_OCTET_STRING_dup(skid);
	if (X509_pubkey_digest(issuer, EVP_sha1(), md, &mdlen) != 1 ||
	    (id = ASN1_OCTET_STRING_new()) == NULL)
		return NULL;
	if (ASN1_OCTET_STRING_set(id, md, (int)mdlen) != 1) {
		ASN1_OCTET_STRING_free(id);
		return NULL;
	}
	return id;
}

static int
ext_add_akid(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *akid;
	int rc = -1;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return -1;
	if ((akid->keyid = key_id_of(issuer)) != NULL &&
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0) == 1)
		rc = 0;
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* "ddbgate gateway CA <host>", cut to the 64 characters CN allows. */
static void
ca_common_name(char *out, size_t len)
{
	static const char prefix[] = "ddbgate gateway CA ";
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++) {
		if (!label_char((unsigned char)host[i]) && host[i] != '.')
			host[i] = '-';
	}
	snprintf(out, len, "%s%.*s", prefix, (int)(CN_MAX - strlen(prefix)),
	    host);
}

static int
ca_subject_set(X509 *x)
{
	char cn[CN_MAX + 16];
	X509_NAME *name = X509_get_subject_name(x);

	ca_common_name(cn, sizeof(cn));
	if (X509_NAME_add_entry_by_NID(name, NID_organizationName,
	    MBSTRING_UTF8, (const unsigned char *)"ddbgate", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		return -1;
	return X509_set_issuer_name(x, name) == 1 ? 0 : -1;
}

/* The self-signed CA certificate for key; NULL with OpenSSL's error. */
static X509 *
ca_build(EVP_PKEY *key, const char *const *permitted, size_t n)
{
	time_t now = time(NULL);
	X509 *x;

	x = cert_new(key, now - CA_BACKDATE, now + CA_LIFETIME);
	if (x == NULL)
		return NULL;
	if (ca_subject_set(x) == -1 ||
	    ext_add_conf(x, x, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") == -1 ||
	    ext_add_conf(x, x, NID_key_usage,
	    "critical,keyCertSign,cRLSign") == -1 ||
	    ext_add_conf(x, x, NID_subject_key_identifier, "hash") == -1 ||
	    (n > 0 && ext_add_name_constraints(x, permitted, n) == -1) ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * The leaf for name signed by ca, valid until not_after. Names longer
 * than a CN allows get an empty subject and a critical SAN (4.1.2.6).
 */
static X509 *
leaf_build(const struct ca *ca, EVP_PKEY *key, const char *name, time_t now,
    time_t not_after)
{
	X509_NAME *subject;
	X509 *x;
	bool long_name = strlen(name) > CN_MAX;

	if ((x = cert_new(key, now - LEAF_BACKDATE, not_after)) == NULL)
		return NULL;
	subject = X509_get_subject_name(x);
	if (X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    (!long_name && X509_NAME_add_entry_by_NID(subject, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0) != 1) ||
	    ext_add_conf(x, ca->cert, NID_basic_constraints,
	    "critical,CA:FALSE") == -1 ||
	    ext_add_conf(x, ca->cert, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    ext_add_conf(x, ca->cert, NID_ext_key_usage, "serverAuth") == -1 ||
	    ext_add_san(x, name, long_name) == -1 ||
	    ext_add_akid(x, ca->cert) == -1 ||
	    ext_add_conf(x, ca->cert, NID_subject_key_identifier,
	    "hash") == -1 ||
	    X509_sign(x, ca->key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* --- ca_create ---------------------------------------------------------- */

/* Validates the subtrees given to ca_create. */
static int
permitted_check(const char *const *permitted, size_t n, char *err,
    size_t errlen)
{
	char tmp[DNS_NAME_MAX + 2];
	const char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((why = subtree_normalize(permitted[i], tmp)) != NULL) {
			errorf(err, errlen, "permitted name \"%s\": %s",
			    permitted[i] != NULL ? permitted[i] : "(null)",
			    why);
			return -1;
		}
	}
	return 0;
}

/*
 * Makes the missing parents of path as "mkdir -p" would, mode 0755: they
 * hold nothing secret. Returns 0, or -1 with errno.
 */
static int
dir_make_parents(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);
	char *p;

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (p = tmp + 1; (p = strchr(p, '/')) != NULL; p++) {
		if (p[strspn(p, "/")] == '\0')
			break;		/* trailing slashes: dir itself */
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Makes dir 0700 unless it exists; an existing one keeps its mode. */
static int
dir_make(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	rc = mkdir(dir, 0700);
	if (rc == -1 && errno == ENOENT) {
		if (dir_make_parents(dir) == -1) {
			errorf(err, errlen, "%s: cannot make its parents: %s",
			    dir, strerror(errno));
			return -1;
		}
		rc = mkdir(dir, 0700);
	}
	/* The umask may have taken bits from 0700; put them back. */
	if ((rc == -1 && errno != EEXIST) || (rc == 0 && chmod(dir, 0700))) {
		errorf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		errorf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errorf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	return 0;
}

static int
file_absent(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		errorf(err, errlen, "%s: already exists; not overwriting it",
		    path);
		return -1;
	}
	if (errno != ENOENT) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Why writing path failed: OpenSSL's error if it queued one, or errno. */
static void
write_errorf(const char *path, char *err, size_t errlen)
{
	if (ERR_peek_error() != 0)
		ssl_errorf(err, errlen, "%s: cannot write", path);
	else if (errno != 0)
		errorf(err, errlen, "%s: %s", path, strerror(errno));
	else
		errorf(err, errlen, "%s: cannot write", path);
}

/*
 * Writes the PEM of cert or key to fd with the given mode, flushed to
 * disk, and closes fd. Returns 0, or -1 with errno or OpenSSL's error.
 */
static int
pem_write_fd(int fd, mode_t mode, X509 *cert, EVP_PKEY *key)
{
	FILE *fp;
	int ok;

	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	if (cert != NULL)
		ok = PEM_write_X509(fp, cert);
	else
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	if (ok != 1 || fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		fclose(fp);
		return -1;
	}
	return fclose(fp) == EOF ? -1 : 0;
}

/* The key is 0600 from its first byte: O_EXCL, never via a rename. */
static int
key_write(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	if (pem_write_fd(fd, 0600, NULL, key) == -1) {
		write_errorf(path, err, errlen);
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * The certificate goes to a temporary file that is then linked into
 * place: readers never see half a certificate, and link(2) fails rather
 * than replace a ca.pem that appeared meanwhile.
 */
static int
cert_write(const char *dir, const char *path, X509 *cert, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.ca.pem.XXXXXX", dir) >=
	    sizeof(tmp)) {
		errorf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		errorf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	if (pem_write_fd(fd, 0644, cert, NULL) == -1) {
		write_errorf(tmp, err, errlen);
		rc = -1;
	} else if (link(tmp, path) == -1) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	unlink(tmp);
	return rc;
}

/* Makes the new names durable; failure here is not worth an error. */
static void
dir_sync(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

static int
ca_write(const char *dir, const char *cert_path, const char *key_path,
    const char *const *permitted, size_t n, char *err, size_t errlen)
{
	EVP_PKEY *key;
	X509 *cert = NULL;
	int rc = -1;

	ERR_clear_error();
	if ((key = key_generate()) == NULL) {
		ssl_errorf(err, errlen, "cannot generate a P-256 key");
		return -1;
	}
	if ((cert = ca_build(key, permitted, n)) == NULL) {
		ssl_errorf(err, errlen, "cannot build the CA certificate");
		goto out;
	}
	if (key_write(key_path, key, err, errlen) == -1)
		goto out;
	if (cert_write(dir, cert_path, cert, err, errlen) == -1) {
		unlink(key_path);
		goto out;
	}
	dir_sync(dir);
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/*
 * See ca.h. permitted entries are host names, or ".name" for the names
 * below one only; they are written in lower case. Missing parents of dir
 * are made 0755. On failure no key or certificate file of this call is
 * left behind (directories it made stay).
 */
int
ca_create(const char *dir, const char *const *permitted, size_t n,
    char *err, size_t errlen)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];

	assert(dir != NULL && (n == 0 || permitted != NULL));
	if (permitted_check(permitted, n, err, errlen) == -1)
		return -1;
	if ((size_t)snprintf(cert_path, sizeof(cert_path), "%s/ca.pem", dir) >=
	    sizeof(cert_path) ||
	    (size_t)snprintf(key_path, sizeof(key_path), "%s/ca.key", dir) >=
	    sizeof(key_path)) {
		errorf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (dir_make(dir, err, errlen) == -1 ||
	    file_absent(cert_path, err, errlen) == -1 ||
	    file_absent(key_path, err, errlen) == -1)
		return -1;
	return ca_write(dir, cert_path, key_path, permitted, n, err, errlen);
}

/* --- ca_load ------------------------------------------------------------ */

/* Refuses to prompt on the terminal for an encrypted key. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

static X509 *
cert_read(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	X509 *x;

	if ((fp = fopen(path, "re")) == NULL) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	ERR_clear_error();
	if ((x = PEM_read_X509(fp, NULL, no_passphrase, NULL)) == NULL)
		ssl_errorf(err, errlen, "%s: no PEM certificate", path);
	fclose(fp);
	return x;
}

static EVP_PKEY *
key_read(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	ERR_clear_error();
	key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	if (key == NULL)
		ssl_errorf(err, errlen, "%s: no unencrypted PEM private key",
		    path);
	fclose(fp);
	return key;
}

static int
asn1_time_get(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static const char *
time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* Checks that ca's certificate is valid now; notes when it ends. */
static int
ca_check_dates(struct ca *ca, const char *cert_path, char *err,
    size_t errlen)
{
	char when[32];
	time_t not_before, now = time(NULL);

	if (asn1_time_get(X509_get0_notBefore(ca->cert), &not_before) == -1 ||
	    asn1_time_get(X509_get0_notAfter(ca->cert), &ca->not_after) == -1) {
		ssl_errorf(err, errlen, "%s: unreadable validity", cert_path);
		return -1;
	}
	if (not_before > now) {
		errorf(err, errlen, "%s: not valid before %s", cert_path,
		    time_format(not_before, when, sizeof(when)));
		return -1;
	}
	if (ca->not_after <= now) {
		errorf(err, errlen, "%s: expired on %s", cert_path,
		    time_format(ca->not_after, when, sizeof(when)));
		return -1;
	}
	return 0;
}

/* Checks that ca's certificate can sign leaves now, with its key. */
static int
ca_check(struct ca *ca, const char *cert_path, const char *key_path,
    char *err, size_t errlen)
{
	int type = EVP_PKEY_get_base_id(ca->key);
	const char *type_name = EVP_PKEY_get0_type_name(ca->key);

	if (type != EVP_PKEY_EC && type != EVP_PKEY_RSA) {
		errorf(err, errlen, "%s: key type %s is not supported "
		    "(use EC or RSA)", key_path,
		    type_name != NULL ? type_name : "unknown");
		return -1;
	}
	ERR_clear_error();
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ssl_errorf(err, errlen, "%s and %s do not match", cert_path,
		    key_path);
		return -1;
	}
	if (X509_check_ca(ca->cert) != 1) {
		errorf(err, errlen, "%s: not a CA certificate "
		    "(needs basicConstraints CA:TRUE and, if keyUsage is "
		    "present, keyCertSign)", cert_path);
		return -1;
	}
	return ca_check_dates(ca, cert_path, err, errlen);
}

/* Copies the dNSName bases of subs, lower case; other types are skipped. */
static int
subtrees_copy(const STACK_OF(GENERAL_SUBTREE) *subs, struct dns_subtrees *st)
{
	const GENERAL_SUBTREE *sub;
	const unsigned char *data;
	char *s;
	int i, j, len;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(subs); i++) {
		sub = sk_GENERAL_SUBTREE_value(subs, i);
		if (sub->base->type != GEN_DNS)
			continue;
		data = ASN1_STRING_get0_data(sub->base->d.dNSName);
		len = ASN1_STRING_length(sub->base->d.dNSName);
		if (len > DNS_NAME_MAX + 1 || memchr(data, '\0', len) != NULL)
			return -1;
		if ((s = malloc(len + 1)) == NULL)
			return -1;
		for (j = 0; j < len; j++)
			s[j] = (data[j] >= 'A' && data[j] <= 'Z') ?
			    data[j] - 'A' + 'a' : data[j];
		s[len] = '\0';
		st->base[st->n++] = s;
	}
	return 0;
}

static int
subtrees_init(const STACK_OF(GENERAL_SUBTREE) *subs, struct dns_subtrees *st)
{
	int n = sk_GENERAL_SUBTREE_num(subs);

	if (n <= 0)
		return 0;
	if ((st->base = calloc(n, sizeof(*st->base))) == NULL)
		return -1;
	return subtrees_copy(subs, st);
}

static void
subtrees_free(struct dns_subtrees *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		free(st->base[i]);
	free(st->base);
}

/* Reads the dNSName constraints of the CA, to refuse names early. */
static int
ca_constraints_read(struct ca *ca, const char *cert_path, char *err,
    size_t errlen)
{
	NAME_CONSTRAINTS *nc;
	int crit, rc = 0;

	nc = X509_get_ext_d2i(ca->cert, NID_name_constraints, &crit, NULL);
	if (nc == NULL && crit == -1)
		return 0;
	if (nc == NULL) {
		ssl_errorf(err, errlen, "%s: unreadable nameConstraints",
		    cert_path);
		return -1;
	}
	if (subtrees_init(nc->permittedSubtrees, &ca->permitted) == -1 ||
	    subtrees_init(nc->excludedSubtrees, &ca->excluded) == -1) {
		errorf(err, errlen, "%s: unsupported dNSName constraint",
		    cert_path);
		rc = -1;
	}
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

/*
 * See ca.h. Operator CAs may have EC or RSA keys; the certificate must be
 * valid now, and its dNSName constraints, if any, bound what ca_leaf()
 * will mint.
 */
struct ca *
ca_load(const char *cert_path, const char *key_path, char *err,
    size_t errlen)
{
	struct ca *ca;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		errorf(err, errlen, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&ca->lock, NULL) != 0) {
		free(ca);
		errorf(err, errlen, "cannot create a mutex");
		return NULL;
	}
	atomic_init(&ca->minted, 0);
	if ((ca->cert = cert_read(cert_path, err, errlen)) == NULL ||
	    (ca->key = key_read(key_path, err, errlen)) == NULL ||
	    ca_check(ca, cert_path, key_path, err, errlen) == -1 ||
	    ca_constraints_read(ca, cert_path, err, errlen) == -1) {
		ca_free(ca);
		return NULL;
	}
	return ca;
}

/* --- leaves ------------------------------------------------------------- */

static void
leaf_free(struct leaf *leaf)
{
	struct leaf *older;

	for (; leaf != NULL; leaf = older) {
		older = leaf->older;
		X509_free(leaf->cert);
		EVP_PKEY_free(leaf->key);
		free(leaf);
	}
}

/* Frees ca with every leaf it ever minted; ca may be NULL. */
void
ca_free(struct ca *ca)
{
	struct leaf *leaf, *next;
	size_t i;

	if (ca == NULL)
		return;
	for (i = 0; i < CA_BUCKETS; i++) {
		for (leaf = ca->table[i]; leaf != NULL; leaf = next) {
			next = leaf->next;
			leaf_free(leaf);
		}
	}
	subtrees_free(&ca->permitted);
	subtrees_free(&ca->excluded);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	pthread_mutex_destroy(&ca->lock);
	free(ca);
}

/* FNV-1a. */
static size_t
name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % CA_BUCKETS;
}

/* Where name's entry is, or where it goes. Called with the lock held. */
static struct leaf **
leaf_slot(struct ca *ca, const char *name)
{
	struct leaf **slot = &ca->table[name_hash(name)];

	while (*slot != NULL && strcmp((*slot)->name, name) != 0)
		slot = &(*slot)->next;
	return slot;
}

/*
 * A leaf is re-minted in its last day, unless the CA itself ends first
 * (then the leaf already ends with the CA and a new one would too).
 */
static bool
leaf_stale(const struct ca *ca, const struct leaf *leaf, time_t now)
{
	return leaf->not_after - now < LEAF_RENEW &&
	    leaf->not_after < ca->not_after;
}

static struct leaf *
leaf_mint(const struct ca *ca, const char *name, time_t now, char *err,
    size_t errlen)
{
	struct leaf *leaf;
	size_t len = strlen(name);
	time_t not_after = now + LEAF_LIFETIME;

	if (ca->not_after <= now) {
		errorf(err, errlen, "the CA certificate has expired");
		return NULL;
	}
	if (not_after > ca->not_after)
		not_after = ca->not_after;
	if ((leaf = calloc(1, sizeof(*leaf) + len + 1)) == NULL) {
		errorf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(leaf->name, name, len + 1);
	leaf->not_after = not_after;
	ERR_clear_error();
	if ((leaf->key = key_generate()) == NULL ||
	    (leaf->cert = leaf_build(ca, leaf->key, name, now,
	    not_after)) == NULL) {
		ssl_errorf(err, errlen, "%s: cannot mint a certificate", name);
		leaf_free(leaf);
		return NULL;
	}
	return leaf;
}

/*
 * The current leaf for name, minted if missing or stale. Called with the
 * lock held, so one caller mints and the others find its leaf.
 */
static struct leaf *
leaf_get(struct ca *ca, const char *name, time_t now, char *err,
    size_t errlen)
{
	struct leaf **slot = leaf_slot(ca, name), *old = *slot, *fresh;

	if (old != NULL && !leaf_stale(ca, old, now))
		return old;
	if (old == NULL && ca->nnames >= CA_NAMES_MAX) {
		errorf(err, errlen, "%s: too many names (%d) minted already",
		    name, CA_NAMES_MAX);
		return NULL;
	}
	if ((fresh = leaf_mint(ca, name, now, err, errlen)) == NULL) {
		/* An old leaf that still works beats no leaf. */
		return (old != NULL && old->not_after > now) ? old : NULL;
	}
	if (old != NULL) {
		fresh->next = old->next;
		fresh->older = old;
		old->next = NULL;
	} else
		ca->nnames++;
	*slot = fresh;
	atomic_fetch_add(&ca->minted, 1);
	return fresh;
}

/*
 * See ca.h. name is compared in lower case. Refused: names that are not
 * host names (no wildcards, addresses or trailing dots), names outside
 * the CA's name constraints, and new names past CA_NAMES_MAX. Callers
 * block while another thread mints (the lock is held throughout).
 */
int
ca_leaf(struct ca *ca, const char *name, X509 **cert, EVP_PKEY **key,
    char *err, size_t errlen)
{
	char lower[DNS_NAME_MAX + 1];
	const struct leaf *leaf;
	const char *why;

	assert(ca != NULL && name != NULL && cert != NULL && key != NULL);
	if ((why = dns_name_normalize(name, lower)) != NULL) {
		errorf(err, errlen, "invalid DNS name: %s", why);
		return -1;
	}
	if (!ca_permits(ca, lower)) {
		errorf(err, errlen, "%s: outside the CA's name constraints",
		    lower);
		return -1;
	}
	pthread_mutex_lock(&ca->lock);
	if ((leaf = leaf_get(ca, lower, time(NULL), err, errlen)) != NULL) {
		*cert = leaf->cert;
		*key = leaf->key;
	}
	pthread_mutex_unlock(&ca->lock);
	return leaf != NULL ? 0 : -1;
}

/* See ca.h. */
X509 *
ca_certificate(const struct ca *ca)
{
	return ca->cert;
}

/* See ca.h. Counts re-mints too; readable without the lock. */
unsigned long
ca_minted_count(const struct ca *ca)
{
	return atomic_load(&ca->minted);
}
