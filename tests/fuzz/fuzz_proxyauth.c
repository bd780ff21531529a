/*
 * libFuzzer target for proxyauth. The input is split at its first 0xFF
 * byte:
 *
 *   - the part before it is a users file for proxyauth_parse: it either
 *     loads with one user per data line (a line neither blank nor a
 *     comment), or fails with "fuzz-users:LINE:COLUMN: message" where
 *     the position is inside the input (at most one past a line's end);
 *   - the part after it, if any, is a Proxy-Authorization value for
 *     proxyauth_check against a fixed file, built once, holding
 *     "user" with password "pass" at ln=14. A reference written here
 *     with OpenSSL's lax EVP_DecodeBlock plus a re-encoding (strict
 *     base64 is exactly what re-encodes to itself) says whether the
 *     value is well-formed: if not, the answer must be MALFORMED; if so,
 *     OK or DENIED, and OK only for "user:pass", with the user copied.
 *
 * A well-formed credential for a plausible user name costs one scrypt
 * (16 MiB, some 30 ms) unless it is "user:pass", which the cache keeps:
 * those inputs are checked only one time in 16 (chosen by a hash of the
 * input, so runs reproduce), else the fuzzer would crawl.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "proxyauth.h"

#define FUZZ_NAME "fuzz-users"
#define FUZZ_MAX_INPUT 65536
#define CRED_MAX 3072 /* as src/proxyauth.c */
#define SLOW_ONE_IN 16

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char users[] =
    "# the unit tests' known answer: user, pass\n"
    "user:$scrypt$ln=14,r=8,p=1$ZGRiZ2F0ZS10ZXN0LXNsdA=="
    "$GoFP1V63rruRhtMQbJ1Wi0RUEE2UoabYN0ZoF4scim8=\n";

static struct proxyauth *fixed;

/* Whether s[0..len) is blank (spaces and tabs) or a comment. */
static int
skipped_line(const char *s, size_t len)
{
	size_t i;

	if (len > 0 && s[0] == '#')
		return 1;
	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

static size_t
data_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!skipped_line(p, (size_t)((nl != NULL ? nl : end) - p)))
			n++;
		p = nl != NULL ? nl + 1 : end;
	}
	return n;
}

/* err is "fuzz-users:LINE:COLUMN: ..." naming a place in buf. */
static void
check_error(const char *err, const char *buf, size_t len)
{
	const char *p = err + strlen(FUZZ_NAME ":"), *bol = buf, *nl;
	unsigned long line, col, i;
	char *end;

	CHECK(strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) == 0);
	line = strtoul(p, &end, 10);
	CHECK(end != p && *end == ':' && line >= 1);
	p = end + 1;
	col = strtoul(p, &end, 10);
	CHECK(end != p && strncmp(end, ": ", 2) == 0 && col >= 1);
	CHECK(end[2] != '\0');
	for (i = 1; i < line; i++) {
		nl = memchr(bol, '\n', (size_t)(buf + len - bol));
		CHECK(nl != NULL);
		bol = nl + 1;
	}
	nl = memchr(bol, '\n', (size_t)(buf + len - bol));
	CHECK(col - 1 <= (size_t)((nl != NULL ? nl : buf + len) - bol));
}

static void
fuzz_parse(const char *buf, size_t len)
{
	char err[512];
	struct proxyauth *pa;

	pa = proxyauth_parse(FUZZ_NAME, buf, len, err, sizeof(err));
	if (pa == NULL) {
		check_error(err, buf, len);
		return;
	}
	CHECK(proxyauth_count(pa) >= 1);
	CHECK(proxyauth_count(pa) == data_lines(buf, len));
	proxyauth_free(pa);
}

static int
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int
name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	    c == '-';
}

/*
 * The reference: decodes a well-formed value's credential into cred
 * and returns its length, or -1 if the value is MALFORMED.
 */
static long
reference(const char *v, size_t len, unsigned char *cred)
{
	static unsigned char again[FUZZ_MAX_INPUT];
	const char *tok;
	size_t toklen, i, pad = 0;
	int n;

	if (len < 6 || strncasecmp(v, "basic", 5) != 0 || v[5] != ' ')
		return -1;
	for (i = 5; i < len && v[i] == ' '; i++)
		;
	tok = v + i;
	toklen = len - i;
	if (toklen == 0 || toklen % 4 != 0)
		return -1;
	for (i = 0; i < toklen; i++) {
		if (!b64_char(tok[i]) && tok[i] != '=')
			return -1;
	}
	while (pad < 2 && tok[toklen - 1 - pad] == '=')
		pad++;
	n = EVP_DecodeBlock(cred, (const unsigned char *)tok, (int)toklen);
	if (n < (int)pad)
		return -1;
	n -= (int)pad;
	EVP_EncodeBlock(again, cred, n);
	if (strlen((char *)again) != toklen || memcmp(again, tok, toklen) != 0)
		return -1;
	if (n > CRED_MAX)
		return -1;
	for (i = 0; i < (size_t)n && cred[i] != ':'; i++)
		;
	if (i == 0 || i == (size_t)n)
		return -1;
	return n;
}

/* Whether the credential's user name could be in a users file. */
static int
plausible_user(const unsigned char *cred, long n)
{
	long i;

	for (i = 0; i < n && cred[i] != ':'; i++) {
		if (!name_char((char)cred[i]))
			return 0;
	}
	return i <= PROXYAUTH_USER_MAX;
}

static uint32_t
input_hash(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

static void
fuzz_check(const char *v, size_t len, uint32_t h)
{
	static unsigned char cred[FUZZ_MAX_INPUT];
	char user[PROXYAUTH_USER_MAX + 1];
	enum proxyauth_result res;
	long n;
	int right;

	if (fixed == NULL) {
		char err[256];

		fixed = proxyauth_parse("fuzz", users, strlen(users), err,
		    sizeof(err));
		CHECK(fixed != NULL);
	}
	n = reference(v, len, cred);
	right = n == 9 && memcmp(cred, "user:pass", 9) == 0;
	if (n >= 0 && plausible_user(cred, n) && !right &&
	    h % SLOW_ONE_IN != 0)
		return;
	memset(user, 'x', sizeof(user));
	res = proxyauth_check(fixed, v, len, user, sizeof(user));
	if (n < 0) {
		CHECK(res == PROXYAUTH_MALFORMED);
		return;
	}
	CHECK(res == (right ? PROXYAUTH_OK : PROXYAUTH_DENIED));
	if (right)
		CHECK(strcmp(user, "user") == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ff;
	size_t ulen;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	ff = memchr(data, 0xff, size);
	ulen = ff != NULL ? (size_t)(ff - data) : size;
	fuzz_parse((const char *)data, ulen);
	if (ff != NULL)
		fuzz_check((const char *)ff + 1, size - ulen - 1,
		    input_hash(data, size));
	return 0;
}
