/*
 * proxyauth — see proxyauth.h.
 *
 * Loading. The users file is read whole (at most 1 MiB) and parsed line
 * by line in one pass. A data line is checked completely when it is
 * loaded: the name, the scheme, the parameters, the salt and the key
 * (decoded from strict base64), so checking a header never parses the
 * file format again. Lines are examined in this order, and the first
 * problem found is reported as "name:line:column: message", the column
 * being that of the offending byte (1-based):
 *
 *   - a NUL byte or a carriage return anywhere (comments included: a
 *     file saved with CRLF line ends is refused on its first line, with
 *     a message that says so);
 *   - an empty line, one of spaces and tabs only, or one whose first
 *     byte is '#' is skipped;
 *   - trailing spaces or tabs after the key;
 *   - the user name, its ':', and uniqueness;
 *   - "$scrypt$", then "ln=L,r=R,p=P" in that order, '$', the salt,
 *     '$', the key; the parameters also have to fit in 256 MiB and be
 *     acceptable to scrypt (N < 2^(16 r), so ln 16 and up need r >= 2).
 *
 * Users are kept in file order in an array with an open-addressing index
 * beside it (FNV-1a, linear probing, at most half full), which finds
 * duplicates while parsing and user names while checking.
 *
 * Checking. proxyauth_check splits the header value into scheme and
 * token, decodes the token strictly and splits the result at its first
 * ':'. It then computes mac = HMAC-SHA256(k, "user:password"), k being 32
 * random bytes drawn when the file was loaded, and looks mac up in the
 * cache. An entry that has not expired is an OK without scrypt.
 * Otherwise the user is looked up, scrypt runs with that user's
 * parameters and salt, and the derived key is compared with the stored
 * one by CRYPTO_memcmp. Only a success is stored in the cache; a failure
 * runs scrypt again next time.
 *
 * The cache holds macs and expiry times, never a password: without k,
 * which never leaves the process, a mac cannot be used to test password
 * guesses. It has CACHE_SLOTS slots; a mac's home slot is its first four
 * bytes modulo CACHE_SLOTS, and it is probed over CACHE_WINDOW slots from
 * there. A new entry takes the slot of the window that expires first:
 * an empty or expired one if there is one, otherwise the oldest (all
 * entries live PROXYAUTH_CACHE_S seconds). Expiry is on CLOCK_MONOTONIC,
 * so wall-clock steps change nothing. One mutex guards the table and is
 * held only to probe or store, never while scrypt runs, so checks hash in
 * parallel; two threads verifying the same new credential at once both
 * run scrypt and store a single entry.
 *
 * Timing. A user name that is valid but not in the file still costs one
 * scrypt, against a dummy entry with a random salt and key, so a wrong
 * password for an existing user and any password for a missing user take
 * the same time. The dummy uses the cost parameters of the first user in
 * the file: for files written by `ddbgate passwd` that is the default
 * cost, like everybody's; if a file mixes costs, the time still tells
 * which cost a user has (and so, for a cost nobody but existing users
 * has, that the user exists). A name that cannot be valid (bad
 * characters, longer than PROXYAUTH_USER_MAX) is denied at once: no user
 * can have it, so its speed tells nothing. Each scrypt run allocates
 * 128 * r * N bytes (16 MiB at ln=14, r=8; 32 MiB at the default cost) for
 * the time it runs; EVP_PBE_scrypt is given exactly that as its memory
 * limit, whose default of 32 MiB would refuse the default cost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"
#include "proxyauth.h"
#include "xmalloc.h"

#define FILE_MAX (1024 * 1024)
#define SCHEME "$scrypt$"
#define LN_MIN 14
#define LN_MAX 20
#define R_MIN 1
#define R_MAX 16
#define P_MIN 1
#define P_MAX 4
#define MEM_MAX (256ull * 1024 * 1024) /* bytes of 128 * r * N */
#define SALT_MIN 16
#define SALT_MAX 64
#define KEY_LEN 32
#define DEFAULT_LN 15
#define DEFAULT_R 8
#define DEFAULT_P 1
#define NEW_SALT_LEN 16
#define PASSWORD_MAX 1024   /* longest password proxyauth_hash_line takes */
#define CRED_MAX 3072       /* longest decoded "user:password" checked */
#define MAC_LEN 32
#define CACHE_SLOTS 1024
#define CACHE_WINDOW 8

struct user {
	char name[PROXYAUTH_USER_MAX + 1];
	size_t namelen;
	unsigned line;
	unsigned ln, r, p;
	size_t saltlen;
	uint8_t salt[SALT_MAX];
	uint8_t key[KEY_LEN];
};

struct cache_slot {
	uint8_t mac[MAC_LEN];
	time_t expires; /* 0: empty */
};

struct proxyauth {
	struct user *users;
	size_t nusers, cap;
	uint32_t *index; /* user number + 1; 0: empty */
	size_t indexcap; /* a power of two, more than twice nusers */
	struct user dummy;
	uint8_t mackey[MAC_LEN];
	pthread_mutex_t lock;
	struct cache_slot cache[CACHE_SLOTS];
};

/* Where the parser is, for messages. */
struct parser {
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;
	const char *bol; /* first byte of the current line */
};

static time_t
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

#ifdef PROXYAUTH_TESTING
/* Unit tests move this clock to see cache entries expire. */
time_t (*proxyauth_test_clock)(void) = monotonic_seconds;
#define NOW() proxyauth_test_clock()
#else
#define NOW() monotonic_seconds()
#endif

/* ------------------------------------------------------------------ */
/* Strict base64 (RFC 4648 section 4, with padding). */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Checks that s[0..len) is canonical base64: characters of the alphabet,
 * a length that is a multiple of 4, '=' only as the last one or two
 * characters, unused bits of the last group zero. Returns the decoded
 * length, or -1 with *bad the offset of the offending character and *why
 * the reason.
 */
static long
b64_check(const char *s, size_t len, size_t *bad, const char **why)
{
	size_t pad = 0, i;
	int last;

	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++) {
		if (s[i] == '=') {
			*bad = i;
			*why = "base64 padding '=' before the end";
			return -1;
		}
		if (b64_value((unsigned char)s[i]) < 0) {
			*bad = i;
			*why = "invalid base64 character";
			return -1;
		}
	}
	if (len % 4 != 0) {
		*bad = len - len % 4;
		*why = "base64 length is not a multiple of 4 (missing '=' "
		    "padding?)";
		return -1;
	}
	if (pad > 0) {
		last = b64_value((unsigned char)s[len - pad - 1]);
		if ((pad == 1 && (last & 0x3) != 0) ||
		    (pad == 2 && (last & 0xf) != 0)) {
			*bad = len - pad - 1;
			*why = "base64 has non-zero padding bits";
			return -1;
		}
	}
	return (long)(len / 4 * 3 - pad);
}

/* Decodes s[0..len), which b64_check accepted, into out. */
static void
b64_decode(const char *s, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len && s[i] != '='; i++) {
		acc = (acc << 6) | (uint32_t)b64_value((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Users. */

static bool
name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	    c == '-';
}

static bool
valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PROXYAUTH_USER_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char((unsigned char)s[i]))
			return false;
	}
	return true;
}

static uint32_t
name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The index slot holding name, or the empty slot where it would go. */
static uint32_t *
index_slot(const struct proxyauth *pa, const char *name, size_t len)
{
	size_t mask = pa->indexcap - 1;
	size_t i = name_hash(name, len) & mask;
	const struct user *u;

	for (;;) {
		if (pa->index[i] == 0)
			return &pa->index[i];
		u = &pa->users[pa->index[i] - 1];
		if (u->namelen == len && memcmp(u->name, name, len) == 0)
			return &pa->index[i];
		i = (i + 1) & mask;
	}
}

static const struct user *
find_user(const struct proxyauth *pa, const char *name, size_t len)
{
	uint32_t *slot = index_slot(pa, name, len);

	return *slot == 0 ? NULL : &pa->users[*slot - 1];
}

/* Keeps the index less than half full, rebuilding it when it grows. */
static void
index_reserve(struct proxyauth *pa, size_t n)
{
	size_t i;

	if (pa->indexcap > 2 * n)
		return;
	free(pa->index);
	while (pa->indexcap <= 2 * n)
		pa->indexcap = pa->indexcap == 0 ? 64 : 2 * pa->indexcap;
	pa->index = xcalloc(pa->indexcap, sizeof(*pa->index));
	for (i = 0; i < pa->nusers; i++)
		*index_slot(pa, pa->users[i].name, pa->users[i].namelen) =
		    (uint32_t)(i + 1);
}

/* Bytes scrypt allocates for these parameters (kdf_scrypt.c: B and V). */
static uint64_t
scrypt_mem(unsigned ln, unsigned r, unsigned p)
{
	return 128ull * r * (((uint64_t)1 << ln) + 2) + 128ull * r * p;
}

static int
scrypt_derive(const struct user *u, const char *pass, size_t passlen,
    uint8_t key[KEY_LEN])
{
	if (EVP_PBE_scrypt(pass, passlen, u->salt, u->saltlen,
	    (uint64_t)1 << u->ln, u->r, u->p, scrypt_mem(u->ln, u->r, u->p),
	    key, KEY_LEN) != 1)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The users file. */

__attribute__((format(printf, 3, 4))) static int
fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s:%u:%u: %s", ps->name,
		    ps->line, (unsigned)(at - ps->bol) + 1, msg);
	return -1;
}

/* A byte for a message: itself if printable, otherwise in hex. */
static const char *
show_byte(unsigned char c, char buf[8])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

/*
 * Parses sep (such as ",r=") at *pp and then a decimal number in
 * min..max, before end, into *out; what is the parameter's name.
 */
static int
parse_param(struct parser *ps, const char **pp, const char *end,
    const char *sep, const char *what, unsigned min, unsigned max,
    unsigned *out)
{
	const char *p = *pp, *digits;
	size_t seplen = strlen(sep);
	unsigned long v = 0;

	if ((size_t)(end - p) < seplen || memcmp(p, sep, seplen) != 0)
		return fail(ps, p, "expected \"%s\" (parameters are "
		    "ln=L,r=R,p=P)", sep);
	digits = p += seplen;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v <= 1000)
			v = v * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (p == digits || v < min || v > max)
		return fail(ps, digits, "%s must be %u..%u", what, min, max);
	*out = (unsigned)v;
	*pp = p;
	return 0;
}

/* "ln=L,r=R,p=P" in s[0..end), with the limits of the header. */
static int
parse_params(struct parser *ps, const char *s, const char *end,
    struct user *u)
{
	const char *p = s, *rpos;
	uint64_t mem;

	if (parse_param(ps, &p, end, "ln=", "ln", LN_MIN, LN_MAX,
	    &u->ln) == -1)
		return -1;
	rpos = p + 3;
	if (parse_param(ps, &p, end, ",r=", "r", R_MIN, R_MAX, &u->r) == -1 ||
	    parse_param(ps, &p, end, ",p=", "p", P_MIN, P_MAX, &u->p) == -1)
		return -1;
	if (p != end)
		return fail(ps, p, "unexpected %s after the parameters",
		    show_byte((unsigned char)*p, (char[8]){ 0 }));
	/* scrypt needs N < 2^(128 r / 8) (RFC 7914 section 2). */
	if (u->ln >= 16 * u->r)
		return fail(ps, rpos, "ln=%u needs r=%u or more", u->ln,
		    u->ln / 16 + 1);
	mem = 128ull * u->r << u->ln;
	if (mem > MEM_MAX)
		return fail(ps, s, "ln=%u,r=%u needs %llu MiB of memory, more "
		    "than %llu MiB", u->ln, u->r,
		    (unsigned long long)(mem >> 20), MEM_MAX >> 20);
	if (EVP_PBE_scrypt(NULL, 0, NULL, 0, (uint64_t)1 << u->ln, u->r,
	    u->p, scrypt_mem(u->ln, u->r, u->p), NULL, 0) != 1)
		return fail(ps, s, "scrypt refuses these parameters");
	return 0;
}

/* Decodes a base64 field of min..max bytes into out. */
static int
parse_b64(struct parser *ps, const char *s, const char *end,
    const char *what, size_t min, size_t max, uint8_t *out, size_t *outlen)
{
	const char *why;
	size_t bad;
	long n = b64_check(s, (size_t)(end - s), &bad, &why);

	if (n < 0)
		return fail(ps, s + bad, "%s: %s", what, why);
	if ((size_t)n < min || (size_t)n > max) {
		if (min == max)
			return fail(ps, s, "%s must be %zu bytes, not %ld",
			    what, min, n);
		return fail(ps, s, "%s must be %zu..%zu bytes, not %ld", what,
		    min, max, n);
	}
	b64_decode(s, (size_t)(end - s), out);
	*outlen = (size_t)n;
	return 0;
}

/* The name of an unknown "$scheme$" at s, or "" if it does not look so. */
static const char *
scheme_name(const char *s, const char *end, char buf[24])
{
	size_t i;

	buf[0] = '\0';
	if (s == end || *s != '$')
		return buf;
	for (i = 1; s + i < end && i < 20; i++) {
		if (s[i] == '$') {
			snprintf(buf, 24, " \"%.*s\"", (int)i + 1, s);
			return buf;
		}
		if (!name_char((unsigned char)s[i]))
			break;
	}
	return buf;
}

/* The hash after "user:", s[0..end). */
static int
parse_hash(struct parser *ps, const char *s, const char *end, struct user *u)
{
	const char *params, *salt, *key;
	size_t keylen;
	char buf[24];

	if (s == end)
		return fail(ps, s, "missing password hash after ':'");
	if ((size_t)(end - s) < strlen(SCHEME) ||
	    memcmp(s, SCHEME, strlen(SCHEME)) != 0)
		return fail(ps, s, "unknown hash scheme%s (only $scrypt$ is "
		    "supported)", scheme_name(s, end, buf));
	params = s + strlen(SCHEME);
	salt = memchr(params, '$', (size_t)(end - params));
	if (parse_params(ps, params, salt != NULL ? salt : end, u) == -1)
		return -1;
	if (salt == NULL)
		return fail(ps, end, "missing '$' and salt after the "
		    "parameters");
	salt++;
	key = memchr(salt, '$', (size_t)(end - salt));
	if (key == NULL)
		return fail(ps, end, "missing '$' and key after the salt");
	if (parse_b64(ps, salt, key, "salt", SALT_MIN, SALT_MAX, u->salt,
	    &u->saltlen) == -1)
		return -1;
	key++;
	return parse_b64(ps, key, end, "key", KEY_LEN, KEY_LEN, u->key,
	    &keylen);
}

/* One data line, s[0..end): "user:hash". */
static int
parse_user(struct parser *ps, struct proxyauth *pa, const char *s,
    const char *end)
{
	const char *p = s;
	struct user u;
	uint32_t *slot;
	char buf[8];

	memset(&u, 0, sizeof(u));
	u.line = ps->line;
	for (p = s; p < end && *p != ':'; p++) {
		if (!name_char((unsigned char)*p))
			return fail(ps, p, "%s is not allowed in a user name "
			    "(A-Z a-z 0-9 . _ @ -)",
			    show_byte((unsigned char)*p, buf));
		if (p - s == PROXYAUTH_USER_MAX)
			return fail(ps, p, "user name longer than %d "
			    "characters", PROXYAUTH_USER_MAX);
	}
	if (p == end)
		return fail(ps, p, "missing ':' after the user name");
	if (p == s)
		return fail(ps, p, "empty user name");
	u.namelen = (size_t)(p - s);
	memcpy(u.name, s, u.namelen);
	index_reserve(pa, pa->nusers + 1);
	slot = index_slot(pa, u.name, u.namelen);
	if (*slot != 0)
		return fail(ps, s, "user \"%s\" already defined on line %u",
		    u.name, pa->users[*slot - 1].line);
	if (parse_hash(ps, p + 1, end, &u) == -1)
		return -1;
	if (pa->nusers == pa->cap) {
		pa->cap = pa->cap == 0 ? 16 : 2 * pa->cap;
		pa->users = xreallocarray(pa->users, pa->cap, sizeof(*pa->users));
	}
	pa->users[pa->nusers] = u;
	*slot = (uint32_t)++pa->nusers;
	return 0;
}

/* One line, s[0..end), without its '\n'. */
static int
parse_line(struct parser *ps, struct proxyauth *pa, const char *s,
    const char *end)
{
	const char *p, *ws;

	for (p = s; p < end; p++) {
		if (*p == '\0')
			return fail(ps, p, "NUL byte");
		if (*p == '\r')
			return fail(ps, p, "carriage return (save the file "
			    "with Unix line ends, LF only)");
	}
	for (ws = end; ws > s && (ws[-1] == ' ' || ws[-1] == '\t'); ws--)
		;
	if (ws == s || *s == '#')
		return 0;
	if (ws != end)
		return fail(ps, ws, "trailing whitespace");
	return parse_user(ps, pa, s, end);
}

/* Where the byte at offset off of buf is, as line and column. */
static void
locate(struct parser *ps, const char *buf, size_t off)
{
	const char *p = buf, *nl;

	ps->line = 1;
	while ((nl = memchr(p, '\n', (size_t)(buf + off - p))) != NULL) {
		ps->line++;
		p = nl + 1;
	}
	ps->bol = p;
}

/*
 * Draws the cache's HMAC key and the dummy entry an unknown user is
 * checked against (see the top).
 */
static int
draw_secrets(struct proxyauth *pa)
{
	struct user *d = &pa->dummy;

	d->ln = pa->users[0].ln;
	d->r = pa->users[0].r;
	d->p = pa->users[0].p;
	d->saltlen = NEW_SALT_LEN;
	if (RAND_bytes(d->salt, NEW_SALT_LEN) != 1 ||
	    RAND_bytes(d->key, KEY_LEN) != 1 ||
	    RAND_bytes(pa->mackey, MAC_LEN) != 1)
		return -1;
	return 0;
}

struct proxyauth *
proxyauth_parse(const char *name, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct parser ps = { .name = name, .err = err, .errlen = errlen };
	struct proxyauth *pa;
	const char *p = buf, *end = buf + len, *nl;

	if (errlen > 0)
		err[0] = '\0';
	if (len > FILE_MAX) {
		locate(&ps, buf, FILE_MAX);
		fail(&ps, buf + FILE_MAX, "file larger than 1 MiB");
		return NULL;
	}
	pa = xcalloc(1, sizeof(*pa));
	while (p < end) {
		ps.line++;
		ps.bol = p;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (parse_line(&ps, pa, p, nl != NULL ? nl : end) == -1)
			goto fail;
		p = nl != NULL ? nl + 1 : end;
	}
	if (pa->nusers == 0) {
		ps.line = 1;
		ps.bol = buf;
		fail(&ps, buf, "no users");
		goto fail;
	}
	if (draw_secrets(pa) == -1) {
		if (errlen > 0)
			snprintf(err, errlen, "%s: no random bytes", name);
		goto fail;
	}
	pthread_mutex_init(&pa->lock, NULL);
	return pa;
fail:
	free(pa->users);
	free(pa->index);
	free(pa);
	return NULL;
}

struct proxyauth *
proxyauth_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct proxyauth *pa;
	char *buf;
	size_t len = 0, n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* One byte more than allowed, so that proxyauth_parse sees it. */
	buf = xmalloc(FILE_MAX + 1);
	while (len < FILE_MAX + 1 &&
	    (n = fread(buf + len, 1, FILE_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	pa = proxyauth_parse(path, buf, len, err, errlen);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return pa;
}

void
proxyauth_free(struct proxyauth *pa)
{
	if (pa == NULL)
		return;
	pthread_mutex_destroy(&pa->lock);
	OPENSSL_cleanse(pa->users, pa->nusers * sizeof(*pa->users));
	free(pa->users);
	free(pa->index);
	OPENSSL_cleanse(pa, sizeof(*pa));
	free(pa);
}

size_t
proxyauth_count(const struct proxyauth *pa)
{
	return pa != NULL ? pa->nusers : 0;
}

/* ------------------------------------------------------------------ */
/* Checking. */

static struct cache_slot *
cache_window(struct proxyauth *pa, const uint8_t mac[MAC_LEN], unsigned i)
{
	uint32_t h;

	memcpy(&h, mac, sizeof(h));
	return &pa->cache[(h + i) % CACHE_SLOTS];
}

static bool
cache_lookup(struct proxyauth *pa, const uint8_t mac[MAC_LEN], time_t now)
{
	struct cache_slot *s;
	bool hit = false;
	unsigned i;

	pthread_mutex_lock(&pa->lock);
	for (i = 0; i < CACHE_WINDOW && !hit; i++) {
		s = cache_window(pa, mac, i);
		hit = s->expires > now &&
		    CRYPTO_memcmp(s->mac, mac, MAC_LEN) == 0;
	}
	pthread_mutex_unlock(&pa->lock);
	return hit;
}

static void
cache_store(struct proxyauth *pa, const uint8_t mac[MAC_LEN], time_t now)
{
	struct cache_slot *s, *victim = NULL;
	unsigned i;

	pthread_mutex_lock(&pa->lock);
	for (i = 0; i < CACHE_WINDOW; i++) {
		s = cache_window(pa, mac, i);
		if (CRYPTO_memcmp(s->mac, mac, MAC_LEN) == 0) {
			victim = s; /* stored meanwhile by another thread */
			break;
		}
		if (victim == NULL || s->expires < victim->expires)
			victim = s;
	}
	memcpy(victim->mac, mac, MAC_LEN);
	victim->expires = now + PROXYAUTH_CACHE_S;
	pthread_mutex_unlock(&pa->lock);
}

/*
 * Finds the base64 token of "Basic <token>" in value[0..len). Returns a
 * pointer to it with its length in *toklen, or NULL.
 */
static const char *
basic_token(const char *value, size_t len, size_t *toklen)
{
	size_t i = 5;

	if (len < 5 || strncasecmp(value, "basic", 5) != 0)
		return NULL;
	if (i == len || value[i] != ' ')
		return NULL;
	while (i < len && value[i] == ' ')
		i++;
	*toklen = len - i;
	return value + i;
}

/* Whether the credential cred[0..len) verifies; user is before colon. */
static bool
verify(struct proxyauth *pa, const char *cred, size_t len,
    const char *colon)
{
	const struct user *u;
	uint8_t key[KEY_LEN];
	size_t namelen = (size_t)(colon - cred);
	bool ok;

	u = find_user(pa, cred, namelen);
	if (scrypt_derive(u != NULL ? u : &pa->dummy, colon + 1,
	    len - namelen - 1, key) == -1) {
		log_warnx("proxy authentication: scrypt failed (out of "
		    "memory?)");
		return false;
	}
	ok = u != NULL && CRYPTO_memcmp(key, u->key, KEY_LEN) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	return ok;
}

enum proxyauth_result
proxyauth_check(struct proxyauth *pa, const char *value, size_t len,
    char *user, size_t usercap)
{
	char cred[CRED_MAX];
	const char *token, *colon, *why;
	uint8_t mac[MAC_LEN];
	size_t toklen, bad, namelen;
	long n;
	enum proxyauth_result res = PROXYAUTH_DENIED;
	time_t now;

	if (value == NULL)
		return PROXYAUTH_MISSING;
	token = basic_token(value, len, &toklen);
	if (token == NULL || toklen == 0)
		return PROXYAUTH_MALFORMED;
	n = b64_check(token, toklen, &bad, &why);
	if (n < 0 || (size_t)n > sizeof(cred))
		return PROXYAUTH_MALFORMED;
	b64_decode(token, toklen, (uint8_t *)cred);
	colon = memchr(cred, ':', (size_t)n);
	if (colon == NULL || colon == cred) {
		res = PROXYAUTH_MALFORMED;
		goto out;
	}
	namelen = (size_t)(colon - cred);
	if (!valid_name(cred, namelen))
		goto out;
	if (HMAC(EVP_sha256(), pa->mackey, MAC_LEN, (const uint8_t *)cred,
	    (size_t)n, mac, NULL) == NULL)
		goto out;
	now = NOW();
	if (cache_lookup(pa, mac, now))
		res = PROXYAUTH_OK;
	else if (verify(pa, cred, (size_t)n, colon)) {
		cache_store(pa, mac, now);
		res = PROXYAUTH_OK;
	}
	if (res == PROXYAUTH_OK && user != NULL && usercap > 0) {
		if (namelen >= usercap)
			namelen = usercap - 1;
		memcpy(user, cred, namelen);
		user[namelen] = '\0';
	}
out:
	OPENSSL_cleanse(cred, sizeof(cred));
	return res;
}

/* ------------------------------------------------------------------ */

int
proxyauth_hash_line(const char *user, const char *password, char *out,
    size_t outlen)
{
	struct user u = { .ln = DEFAULT_LN, .r = DEFAULT_R, .p = DEFAULT_P,
	    .saltlen = NEW_SALT_LEN };
	char salt[4 * ((NEW_SALT_LEN + 2) / 3) + 1];
	char key[4 * ((KEY_LEN + 2) / 3) + 1];
	size_t passlen = strlen(password);
	int rc = -1;

	if (outlen > 0)
		out[0] = '\0';
	if (!valid_name(user, strlen(user)) || passlen == 0 ||
	    passlen > PASSWORD_MAX)
		return -1;
	/* The line without salt and key, then their base64 lengths. */
	if ((size_t)snprintf(NULL, 0, "%s:%sln=%u,r=%u,p=%u$$", user, SCHEME,
	    u.ln, u.r, u.p) + sizeof(salt) - 1 + sizeof(key) - 1 >= outlen)
		return -1;
	if (RAND_bytes(u.salt, NEW_SALT_LEN) != 1 ||
	    scrypt_derive(&u, password, passlen, u.key) == -1)
		goto out;
	EVP_EncodeBlock((unsigned char *)salt, u.salt, NEW_SALT_LEN);
	EVP_EncodeBlock((unsigned char *)key, u.key, KEY_LEN);
	snprintf(out, outlen, "%s:%sln=%u,r=%u,p=%u$%s$%s", user, SCHEME, u.ln,
	    u.r, u.p, salt, key);
	rc = 0;
out:
	OPENSSL_cleanse(&u, sizeof(u));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
