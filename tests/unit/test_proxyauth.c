/*
 * Unit tests for proxyauth: users-file lines written by
 * proxyauth_hash_line and by a second implementation (Python), the forms
 * of a Proxy-Authorization header, the cache of verified credentials
 * (speed and expiry), every users-file error with its exact
 * file:line:column message, and concurrent checks.
 *
 * Link with src/proxyauth.c compiled with -DPROXYAUTH_TESTING, which
 * lets the expiry test move its clock (without it that test fails). All
 * hashes but one use ln=14 to keep the run short.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "proxyauth.h"

/*
 * The clock of src/proxyauth.c, there only when that is compiled with
 * -DPROXYAUTH_TESTING; weak, so that the other tests run without it.
 */
extern time_t (*proxyauth_test_clock)(void) __attribute__((weak));

#define NAME "users.txt"

/*
 * Known answers computed with Python (hashlib.scrypt, checked against a
 * pure-Python scrypt and against RFC 7914 section 12) and its base64:
 *
 *   salt = bytes(range(0x10, 0x28))
 *   key = hashlib.scrypt(b"correct horse:battery staple", salt=salt,
 *       n=1 << 14, r=8, p=1, dklen=32)
 *   "alice:$scrypt$ln=14,r=8,p=1$%s$%s" % (base64.b64encode(salt)...,
 *       base64.b64encode(key)...)
 *
 * and likewise "pass" with the salt b"ddbgate-test-slt", and "hunter2"
 * with 64 zero bytes of salt and p=2.
 */
static const char line_alice[] =
    "alice:$scrypt$ln=14,r=8,p=1$EBESExQVFhcYGRobHB0eHyAhIiMkJSYn"
    "$gLRvB85E/Wvp37Ec1ixWhR8V2sv0YTAd+xUcdzx6thw=";
static const char line_user[] =
    "user:$scrypt$ln=14,r=8,p=1$ZGRiZ2F0ZS10ZXN0LXNsdA=="
    "$GoFP1V63rruRhtMQbJ1Wi0RUEE2UoabYN0ZoF4scim8=";
static const char line_bob[] =
    "bob.smith@example-1_x:$scrypt$ln=14,r=8,p=2$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
    "$exl4HFS4EHHVm3zqyJs478GqwJHQ1ztYVsvyW7uIaWI=";

/* A well-formed hash (that no password matches) for parser tests. */
#define SALT "AAAAAAAAAAAAAAAAAAAAAA=="                     /* 16 bytes */
#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* 32 bytes */
#define PARAMS "$scrypt$ln=14,r=8,p=1$"
#define HASH PARAMS SALT "$" KEY
/*
 * Columns in "alice:" HASH: the hash at 7, "ln=" at 15, its digits at
 * 18, r's at 23, p's at 27, the salt at 29, the key at 54, the end at 98.
 */

static struct proxyauth *
parse_ok(const char *text)
{
	char err[256];
	struct proxyauth *pa = proxyauth_parse(NAME, text, strlen(text), err,
	    sizeof(err));

	if (pa == NULL)
		fail_msg("proxyauth_parse failed: %s", err);
	return pa;
}

static void
parse_error_len(const char *text, size_t len, const char *msg)
{
	char err[256];
	struct proxyauth *pa = proxyauth_parse(NAME, text, len, err,
	    sizeof(err));

	if (pa != NULL)
		fail_msg("proxyauth_parse accepted \"%s\"", text);
	assert_string_equal(err, msg);
}

static void
parse_error(const char *text, const char *msg)
{
	parse_error_len(text, strlen(text), msg);
}

static enum proxyauth_result
check(struct proxyauth *pa, const char *value)
{
	char user[PROXYAUTH_USER_MAX + 1];

	return proxyauth_check(pa, value, value != NULL ? strlen(value) : 0,
	    user, sizeof(user));
}

/* Checks "Basic " + base64(cred); on OK the user name must be user. */
static enum proxyauth_result
check_basic(struct proxyauth *pa, const char *cred, const char *user)
{
	char value[8192], got[PROXYAUTH_USER_MAX + 1];
	enum proxyauth_result res;

	assert_true(strlen(cred) < 3 * 2000);
	memcpy(value, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)value + 6,
	    (const unsigned char *)cred, (int)strlen(cred));
	memset(got, 'x', sizeof(got));
	res = proxyauth_check(pa, value, strlen(value), got, sizeof(got));
	if (res == PROXYAUTH_OK)
		assert_string_equal(got, user);
	return res;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds check_basic takes; res is what it returned. */
static double
timed_check(struct proxyauth *pa, const char *cred, const char *user,
    enum proxyauth_result res)
{
	double t0 = now_ms();

	assert_int_equal(check_basic(pa, cred, user), res);
	return now_ms() - t0;
}

/* The fastest of a few runs, so a stray reschedule does not count. */
static double
fastest_check(struct proxyauth *pa, const char *cred, const char *user,
    enum proxyauth_result res)
{
	double best = 1e9, t;
	int i;

	for (i = 0; i < 5; i++) {
		t = timed_check(pa, cred, user, res);
		if (t < best)
			best = t;
	}
	return best;
}

/* The faster of two denied checks of cred, in milliseconds. */
static double
faster_of_two(struct proxyauth *pa, const char *cred)
{
	double a = timed_check(pa, cred, NULL, PROXYAUTH_DENIED);
	double b = timed_check(pa, cred, NULL, PROXYAUTH_DENIED);

	return a < b ? a : b;
}

/* ------------------------------------------------------------------ */

static void
test_hash_line_default_cost(void **state)
{
	char line[256], other[256];
	struct proxyauth *pa;

	(void)state;
	assert_int_equal(proxyauth_hash_line("alice", "pa:ss word", line,
	    sizeof(line)), 0);
	assert_true(strncmp(line, "alice:$scrypt$ln=15,r=8,p=1$", 28) == 0);
	/* 16 bytes of salt and 32 of key in padded base64. */
	assert_int_equal(strlen(line), 28 + 24 + 1 + 44);
	pa = parse_ok(line);
	assert_int_equal(proxyauth_count(pa), 1);
	assert_int_equal(check_basic(pa, "alice:pa:ss word", "alice"),
	    PROXYAUTH_OK);
	assert_int_equal(check_basic(pa, "alice:pa:ss wore", NULL),
	    PROXYAUTH_DENIED);
	proxyauth_free(pa);
	/* A fresh salt every time. */
	assert_int_equal(proxyauth_hash_line("alice", "pa:ss word", other,
	    sizeof(other)), 0);
	assert_string_not_equal(line, other);
}

static void
test_hash_line_errors(void **state)
{
	char line[256], name65[66], pw[1026];

	(void)state;
	memset(name65, 'a', 65);
	name65[65] = '\0';
	memset(pw, 'p', 1025);
	pw[1025] = '\0';
	assert_int_equal(proxyauth_hash_line("", "x", line, sizeof(line)), -1);
	assert_int_equal(proxyauth_hash_line("al ice", "x", line,
	    sizeof(line)), -1);
	assert_int_equal(proxyauth_hash_line("al:ice", "x", line,
	    sizeof(line)), -1);
	assert_int_equal(proxyauth_hash_line(name65, "x", line, sizeof(line)),
	    -1);
	assert_int_equal(proxyauth_hash_line("alice", "", line, sizeof(line)),
	    -1);
	assert_int_equal(proxyauth_hash_line("alice", pw, line, sizeof(line)),
	    -1);
	/* "alice:" + 22 + 24 + 1 + 44 = 97 characters and the NUL. */
	assert_int_equal(proxyauth_hash_line("alice", "x", line, 97), -1);
	assert_string_equal(line, "");
}

/* Lines written by Python interoperate. */
static void
test_known_answers(void **state)
{
	char text[1024];
	struct proxyauth *pa;

	(void)state;
	snprintf(text, sizeof(text), "%s\n%s\n%s\n", line_alice, line_user,
	    line_bob);
	pa = parse_ok(text);
	assert_int_equal(proxyauth_count(pa), 3);
	/* The password has a ':': the user ends at the first one. */
	assert_int_equal(check_basic(pa, "alice:correct horse:battery staple",
	    "alice"), PROXYAUTH_OK);
	assert_int_equal(check_basic(pa, "alice:correct horse", NULL),
	    PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "user:pass", "user"), PROXYAUTH_OK);
	assert_int_equal(check_basic(pa, "bob.smith@example-1_x:hunter2",
	    "bob.smith@example-1_x"), PROXYAUTH_OK);
	/* Another user's password. */
	assert_int_equal(check_basic(pa, "alice:pass", NULL), PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "Alice:correct horse:battery staple",
	    NULL), PROXYAUTH_DENIED);
	proxyauth_free(pa);
}

static void
test_header_forms(void **state)
{
	struct proxyauth *pa = parse_ok(line_user);
	char user[PROXYAUTH_USER_MAX + 1], big[6000];
	const char *v;

	(void)state;
	/* "user:pass" */
	assert_int_equal(check(pa, "Basic dXNlcjpwYXNz"), PROXYAUTH_OK);
	assert_int_equal(check(pa, "basic  dXNlcjpwYXNz"), PROXYAUTH_OK);
	assert_int_equal(check(pa, "BaSiC dXNlcjpwYXNz"), PROXYAUTH_OK);
	memset(user, 'x', sizeof(user));
	v = "Basic dXNlcjpwYXNz";
	assert_int_equal(proxyauth_check(pa, v, strlen(v), user, sizeof(user)),
	    PROXYAUTH_OK);
	assert_string_equal(user, "user");
	assert_int_equal(proxyauth_check(pa, v, strlen(v), NULL, 0),
	    PROXYAUTH_OK);
	/* Only len bytes count. */
	v = "Basic dXNlcjpwYXNzdGhlIHJlc3Q=";
	assert_int_equal(proxyauth_check(pa, v, 18, user, sizeof(user)),
	    PROXYAUTH_OK);

	assert_int_equal(proxyauth_check(pa, NULL, 0, user, sizeof(user)),
	    PROXYAUTH_MISSING);
	assert_int_equal(check(pa, ""), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Bearer x"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic "), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic !!!"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basicx dXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "BasicdXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basid dXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Token dXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic\tdXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, " Basic dXNlcjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNlcjpwYXNz "), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNl cjpwYXNz"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNlcjpwYXNz="), PROXYAUTH_MALFORMED);
	/* "user:pas" without its '=', and with stray bits in the last. */
	assert_int_equal(check(pa, "Basic dXNlcjpwYXM"), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNlcjpwYXN="), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNlcjpwYX=="), PROXYAUTH_MALFORMED);
	assert_int_equal(check(pa, "Basic dXNlcjpw=XNz"), PROXYAUTH_MALFORMED);
	/* URL-safe alphabet. */
	assert_int_equal(check(pa, "Basic dXNlcjpw_-__"), PROXYAUTH_MALFORMED);
	/* No colon, empty user. */
	assert_int_equal(check_basic(pa, "userpass", NULL),
	    PROXYAUTH_MALFORMED);
	assert_int_equal(check_basic(pa, ":pass", NULL), PROXYAUTH_MALFORMED);
	assert_int_equal(check_basic(pa, ":", NULL), PROXYAUTH_MALFORMED);
	/* Over 3072 bytes decoded. */
	memset(big, 'A', sizeof(big));
	memcpy(big, "Basic ", 6);
	assert_int_equal(proxyauth_check(pa, big, 6 + 4100, user,
	    sizeof(user)), PROXYAUTH_MALFORMED);

	/* Names nobody can have are denied without scrypt. */
	assert_int_equal(check_basic(pa, "us er:pass", NULL), PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "user\n:pass", NULL),
	    PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa:pass", NULL), PROXYAUTH_DENIED);
	assert_true(fastest_check(pa, "us er:pass", NULL, PROXYAUTH_DENIED) <
	    1.0);
	/* Unknown users, wrong passwords. */
	assert_int_equal(check_basic(pa, "mallory:pass", NULL),
	    PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "user:", NULL), PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "user:pass ", NULL), PROXYAUTH_DENIED);
	assert_int_equal(check_basic(pa, "user:pas", NULL), PROXYAUTH_DENIED);
	proxyauth_free(pa);
}

static void
test_cache_speed(void **state)
{
	struct proxyauth *pa = parse_ok(line_user);
	double first, second, wrong, unknown;

	(void)state;
	first = timed_check(pa, "user:pass", "user", PROXYAUTH_OK);
	second = fastest_check(pa, "user:pass", "user", PROXYAUTH_OK);
	print_message("first check %.1f ms, cached %.3f ms\n", first, second);
	assert_true(first >= 10.0);
	assert_true(second < 1.0);
	/* Failures are not remembered; unknown users cost a scrypt too. */
	assert_true(timed_check(pa, "user:wrong", NULL, PROXYAUTH_DENIED) >=
	    10.0);
	assert_true(timed_check(pa, "user:wrong", NULL, PROXYAUTH_DENIED) >=
	    10.0);
	assert_true(timed_check(pa, "nobody:pass", NULL, PROXYAUTH_DENIED) >=
	    10.0);
	/*
	 * An unknown user costs what a wrong password does: the dummy has
	 * the first user's cost (ln=14 here, not the default 15).
	 */
	wrong = faster_of_two(pa, "user:wrong");
	unknown = faster_of_two(pa, "nobody:pass");
	print_message("wrong password %.1f ms, unknown user %.1f ms\n", wrong,
	    unknown);
	assert_true(unknown > 0.6 * wrong && unknown < 1.6 * wrong);
	/* A cached credential is the pair, not the user. */
	assert_true(timed_check(pa, "user:passx", NULL, PROXYAUTH_DENIED) >=
	    10.0);
	proxyauth_free(pa);
}

static time_t fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

static void
test_cache_expiry(void **state)
{
	time_t (*saved)(void);
	struct proxyauth *pa;

	(void)state;
	if (&proxyauth_test_clock == NULL)
		fail_msg("src/proxyauth.c was compiled without "
		    "-DPROXYAUTH_TESTING: cannot move its clock");
	saved = proxyauth_test_clock;
	pa = parse_ok(line_user);
	proxyauth_test_clock = fake_clock;
	fake_now = 1000;
	assert_true(timed_check(pa, "user:pass", "user", PROXYAUTH_OK) >=
	    10.0);
	fake_now = 1000 + PROXYAUTH_CACHE_S - 1;
	assert_true(fastest_check(pa, "user:pass", "user", PROXYAUTH_OK) <
	    1.0);
	fake_now = 1000 + PROXYAUTH_CACHE_S;
	assert_true(timed_check(pa, "user:pass", "user", PROXYAUTH_OK) >=
	    10.0);
	/* Verified again: remembered again, from now. */
	fake_now = 1000 + 2 * PROXYAUTH_CACHE_S - 1;
	assert_true(fastest_check(pa, "user:pass", "user", PROXYAUTH_OK) <
	    1.0);
	proxyauth_test_clock = saved;
	proxyauth_free(pa);
}

/* ------------------------------------------------------------------ */

static void
test_parse_accepts(void **state)
{
	struct proxyauth *pa;
	char text[1024];

	(void)state;
	/* Comments, blank lines, blanks of spaces and tabs, no final LF. */
	pa = parse_ok("# users\n\n  \t\n#alice:x \t\n" "a:" HASH "\n"
	    "# another\n" "b:" HASH);
	assert_int_equal(proxyauth_count(pa), 2);
	proxyauth_free(pa);
	/* 64 characters, all the kinds allowed. */
	pa = parse_ok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:" HASH "\n@-:" HASH "\n");
	assert_int_equal(proxyauth_count(pa), 2);
	proxyauth_free(pa);
	/* The largest parameters; 64 bytes of salt. */
	pa = parse_ok("a:$scrypt$ln=18,r=8,p=4$" SALT "$" KEY "\n"
	    "b:$scrypt$ln=17,r=16,p=1$" SALT "$" KEY "\n"
	    "c:$scrypt$ln=15,r=1,p=1$" SALT "$" KEY "\n"
	    "d:$scrypt$ln=20,r=2,p=1$" SALT "$" KEY "\n"
	    "e:$scrypt$ln=014,r=08,p=01$" SALT "$" KEY "\n");
	assert_int_equal(proxyauth_count(pa), 5);
	proxyauth_free(pa);
	/* 64 bytes of salt: 86 characters and "==". */
	strcpy(text, "x:" PARAMS);
	memset(text + strlen(text), 'A', 86);
	strcpy(text + strlen("x:" PARAMS) + 86, "==$" KEY);
	pa = parse_ok(text);
	proxyauth_free(pa);
	/* Many users: the index grows. */
	{
		static char many[200 * 100];
		size_t off = 0;
		int i;

		for (i = 0; i < 200; i++)
			off += (size_t)snprintf(many + off, sizeof(many) - off,
			    "u%d:" HASH "\n", i);
		pa = parse_ok(many);
		assert_int_equal(proxyauth_count(pa), 200);
		proxyauth_free(pa);
		memcpy(many + off, "u117:" HASH "\n", 97);
		parse_error_len(many, off + 97, NAME ":201:1: user \"u117\" "
		    "already defined on line 118");
	}
	assert_int_equal(proxyauth_count(NULL), 0);
	proxyauth_free(NULL);
}

static void
test_parse_errors_names(void **state)
{
	char text[256];

	(void)state;
	parse_error("alice\n", NAME ":1:6: missing ':' after the user name");
	parse_error("alice", NAME ":1:6: missing ':' after the user name");
	parse_error("alice;" HASH, NAME ":1:6: ';' is not allowed in a user "
	    "name (A-Z a-z 0-9 . _ @ -)");
	parse_error("# users\nal ice:" HASH, NAME ":2:3: ' ' is not allowed "
	    "in a user name (A-Z a-z 0-9 . _ @ -)");
	parse_error(" # indented comment", NAME ":1:1: ' ' is not allowed "
	    "in a user name (A-Z a-z 0-9 . _ @ -)");
	parse_error("\xc3\xa9lise:" HASH, NAME ":1:1: 0xc3 is not allowed in "
	    "a user name (A-Z a-z 0-9 . _ @ -)");
	parse_error("a\tb:" HASH, NAME ":1:2: 0x09 is not allowed in a user "
	    "name (A-Z a-z 0-9 . _ @ -)");
	memset(text, 'a', 65);
	strcpy(text + 65, ":" HASH);
	parse_error(text, NAME ":1:65: user name longer than 64 characters");
	parse_error(":" HASH, NAME ":1:1: empty user name");
	parse_error("alice:" HASH "\nbob:" HASH "\n\nalice:" HASH,
	    NAME ":4:1: user \"alice\" already defined on line 1");
	parse_error("alice:", NAME ":1:7: missing password hash after ':'");
	parse_error("alice:\nbob:" HASH,
	    NAME ":1:7: missing password hash after ':'");
}

static void
test_parse_errors_scheme(void **state)
{
	(void)state;
	parse_error("alice:$2y$10$abcdefghijklmnopqrstuv", NAME ":1:7: "
	    "unknown hash scheme \"$2y$\" (only $scrypt$ is supported)");
	parse_error("alice:$SCRYPT$ln=14,r=8,p=1$" SALT "$" KEY, NAME ":1:7: "
	    "unknown hash scheme \"$SCRYPT$\" (only $scrypt$ is supported)");
	parse_error("alice:hunter2", NAME ":1:7: unknown hash scheme (only "
	    "$scrypt$ is supported)");
	parse_error("alice:$scrypt", NAME ":1:7: unknown hash scheme (only "
	    "$scrypt$ is supported)");
}

static void
test_parse_errors_params(void **state)
{
	(void)state;
	parse_error("alice:$scrypt$ln=13,r=8,p=1$" SALT "$" KEY,
	    NAME ":1:18: ln must be 14..20");
	parse_error("alice:$scrypt$ln=21,r=8,p=1$" SALT "$" KEY,
	    NAME ":1:18: ln must be 14..20");
	parse_error("alice:$scrypt$ln=99999999999999999999,r=8,p=1$" SALT "$"
	    KEY, NAME ":1:18: ln must be 14..20");
	parse_error("alice:$scrypt$ln=,r=8,p=1$" SALT "$" KEY,
	    NAME ":1:18: ln must be 14..20");
	parse_error("alice:$scrypt$ln=-1,r=8,p=1$" SALT "$" KEY,
	    NAME ":1:18: ln must be 14..20");
	parse_error("alice:$scrypt$r=8,ln=14,p=1$" SALT "$" KEY,
	    NAME ":1:15: expected \"ln=\" (parameters are ln=L,r=R,p=P)");
	parse_error("alice:$scrypt$$" SALT "$" KEY,
	    NAME ":1:15: expected \"ln=\" (parameters are ln=L,r=R,p=P)");
	parse_error("alice:$scrypt$ln=14;r=8,p=1$" SALT "$" KEY,
	    NAME ":1:20: expected \",r=\" (parameters are ln=L,r=R,p=P)");
	parse_error("alice:$scrypt$ln=14,r=0,p=1$" SALT "$" KEY,
	    NAME ":1:23: r must be 1..16");
	parse_error("alice:$scrypt$ln=14,r=17,p=1$" SALT "$" KEY,
	    NAME ":1:23: r must be 1..16");
	parse_error("alice:$scrypt$ln=14,r=8,p=0$" SALT "$" KEY,
	    NAME ":1:27: p must be 1..4");
	parse_error("alice:$scrypt$ln=14,r=8,p=5$" SALT "$" KEY,
	    NAME ":1:27: p must be 1..4");
	parse_error("alice:$scrypt$ln=14,r=8$" SALT "$" KEY,
	    NAME ":1:24: expected \",p=\" (parameters are ln=L,r=R,p=P)");
	parse_error("alice:$scrypt$ln=14,r=8,p=1,x=2$" SALT "$" KEY,
	    NAME ":1:28: unexpected ',' after the parameters");
	parse_error("alice:$scrypt$ln=16,r=1,p=1$" SALT "$" KEY,
	    NAME ":1:23: ln=16 needs r=2 or more");
	parse_error("alice:$scrypt$ln=19,r=8,p=1$" SALT "$" KEY,
	    NAME ":1:15: ln=19,r=8 needs 512 MiB of memory, more than 256 MiB");
	parse_error("alice:$scrypt$ln=18,r=9,p=1$" SALT "$" KEY,
	    NAME ":1:15: ln=18,r=9 needs 288 MiB of memory, more than 256 MiB");
	parse_error("alice:$scrypt$ln=20,r=16,p=4$" SALT "$" KEY,
	    NAME ":1:15: ln=20,r=16 needs 2048 MiB of memory, more than "
	    "256 MiB");
	parse_error("alice:$scrypt$ln=14,r=8,p=1",
	    NAME ":1:28: missing '$' and salt after the parameters");
	parse_error("alice:$scrypt$ln=14,r=8,p=1$" SALT,
	    NAME ":1:53: missing '$' and key after the salt");
}

static void
test_parse_errors_base64(void **state)
{
	(void)state;
	parse_error("alice:" PARAMS "AAA*AAAAAAAAAAAAAAAAAA==$" KEY,
	    NAME ":1:32: salt: invalid base64 character");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAAAA$" KEY,
	    NAME ":1:49: salt: base64 length is not a multiple of 4 "
	    "(missing '=' padding?)");
	parse_error("alice:" PARAMS "AAAA=AAAAAAAAAAAAAAAAA==$" KEY,
	    NAME ":1:33: salt: base64 padding '=' before the end");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAA====$" KEY,
	    NAME ":1:49: salt: base64 padding '=' before the end");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAAAB==$" KEY,
	    NAME ":1:50: salt: base64 has non-zero padding bits");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAAAAB=$" KEY,
	    NAME ":1:51: salt: base64 has non-zero padding bits");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAA$" KEY,
	    NAME ":1:29: salt must be 16..64 bytes, not 15");
	parse_error("alice:" PARAMS "$" KEY,
	    NAME ":1:29: salt must be 16..64 bytes, not 0");
	parse_error("alice:" PARAMS "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$" KEY,
	    NAME ":1:29: salt must be 16..64 bytes, not 66");
	parse_error("alice:" PARAMS SALT "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAA==", NAME ":1:54: key must be 32 bytes, not 31");
	parse_error("alice:" PARAMS SALT "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAA", NAME ":1:54: key must be 32 bytes, not 33");
	parse_error("alice:" PARAMS SALT "$", NAME ":1:54: key must be 32 "
	    "bytes, not 0");
	parse_error("alice:" HASH "$x", NAME ":1:97: key: base64 padding '=' "
	    "before the end");
	parse_error("alice:" PARAMS SALT "$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAA", NAME ":1:58: key: invalid base64 character");
	parse_error("alice:" PARAMS SALT "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAA-=", NAME ":1:96: key: invalid base64 character");
}

static void
test_parse_errors_bytes(void **state)
{
	static const char nul[] = "alice:" HASH "\n#\0\n";
	static char big[1024 * 1024 + 1];
	size_t n;

	(void)state;
	parse_error("alice:" HASH " ", NAME ":1:98: trailing whitespace");
	parse_error("# x\nalice:" HASH "\t\t", NAME ":2:98: trailing "
	    "whitespace");
	parse_error("alice: ", NAME ":1:7: trailing whitespace");
	parse_error("alice:" HASH "\r\n", NAME ":1:98: carriage return (save "
	    "the file with Unix line ends, LF only)");
	parse_error("# users\r\nalice:" HASH "\r\n", NAME ":1:8: carriage "
	    "return (save the file with Unix line ends, LF only)");
	parse_error("alice:" HASH "\rbob:" HASH, NAME ":1:98: carriage return "
	    "(save the file with Unix line ends, LF only)");
	parse_error_len(nul, sizeof(nul) - 1, NAME ":2:2: NUL byte");
	parse_error("", NAME ":1:1: no users");
	parse_error("# nobody yet\n\n   \n", NAME ":1:1: no users");
	/* 1 MiB is fine, one byte more is not. */
	n = strlen("alice:" HASH "\n");
	assert_int_equal(n, 98);
	memcpy(big, "alice:" HASH "\n", n);
	memset(big + n, '#', sizeof(big) - n);
	proxyauth_free(proxyauth_parse(NAME, big, sizeof(big) - 1, NULL, 0));
	parse_error_len(big, sizeof(big),
	    NAME ":2:1048479: file larger than 1 MiB");
}

/* Writes text to a fresh temporary file; returns its path. */
static char *
temp_file(const char *text, size_t len)
{
	static char path[64];
	FILE *f;
	int fd;

	strcpy(path, "/tmp/test_proxyauth.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static void
test_load(void **state)
{
	static char big[1024 * 1024 + 10];
	static const char dup[] = "user:" HASH "\nuser:";
	char err[256], expect[128], *path;
	struct proxyauth *pa;

	(void)state;
	path = temp_file(line_user, strlen(line_user));
	pa = proxyauth_load(path, err, sizeof(err));
	assert_non_null(pa);
	assert_int_equal(proxyauth_count(pa), 1);
	proxyauth_free(pa);
	unlink(path);

	path = temp_file(dup, strlen(dup));
	assert_null(proxyauth_load(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "%s:2:1: user \"user\" already "
	    "defined on line 1", path);
	assert_string_equal(err, expect);
	unlink(path);

	memset(big, '\n', sizeof(big));
	path = temp_file(big, sizeof(big));
	assert_null(proxyauth_load(path, err, sizeof(err)));
	snprintf(expect, sizeof(expect), "%s:1048577:1: file larger than "
	    "1 MiB", path);
	assert_string_equal(err, expect);
	unlink(path);

	assert_null(proxyauth_load("/nonexistent/users.txt", err,
	    sizeof(err)));
	assert_string_equal(err, "/nonexistent/users.txt: No such file or "
	    "directory");
}

/* ------------------------------------------------------------------ */

#define THREADS 8

struct worker {
	struct proxyauth *pa;
	int n;
	int failures;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char user[PROXYAUTH_USER_MAX + 1];
	const char *alice = "Basic YWxpY2U6Y29ycmVjdCBob3JzZTpiYXR0ZXJ5IHN0YXBsZQ==";
	const char *v;
	int i;

	for (i = 0; i < 400; i++) {
		if (i % 2 == (w->n & 1)) {
			v = alice;
			if (proxyauth_check(w->pa, v, strlen(v), user,
			    sizeof(user)) != PROXYAUTH_OK ||
			    strcmp(user, "alice") != 0)
				w->failures++;
		} else {
			v = "Basic dXNlcjpwYXNz";
			if (proxyauth_check(w->pa, v, strlen(v), user,
			    sizeof(user)) != PROXYAUTH_OK ||
			    strcmp(user, "user") != 0)
				w->failures++;
		}
		v = "Basic !!";
		if (proxyauth_check(w->pa, v, strlen(v), user, sizeof(user)) !=
		    PROXYAUTH_MALFORMED)
			w->failures++;
		if (i % 200 == 100) {
			/* "user:wrong", "ghost:pass" */
			v = i == 100 ? "Basic dXNlcjp3cm9uZw==" :
			    "Basic Z2hvc3Q6cGFzcw==";
			if (proxyauth_check(w->pa, v, strlen(v), user,
			    sizeof(user)) != PROXYAUTH_DENIED)
				w->failures++;
		}
	}
	return NULL;
}

static void
test_threads(void **state)
{
	char text[1024];
	struct proxyauth *pa;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i;

	(void)state;
	snprintf(text, sizeof(text), "%s\n%s\n", line_user, line_alice);
	pa = parse_ok(text);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .pa = pa, .n = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	proxyauth_free(pa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_line_default_cost),
		cmocka_unit_test(test_hash_line_errors),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_cache_speed),
		cmocka_unit_test(test_cache_expiry),
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_parse_errors_names),
		cmocka_unit_test(test_parse_errors_scheme),
		cmocka_unit_test(test_parse_errors_params),
		cmocka_unit_test(test_parse_errors_base64),
		cmocka_unit_test(test_parse_errors_bytes),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
