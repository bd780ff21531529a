/*
 * proxyauth — Basic proxy authentication (RFC 9110 section 11.7.1,
 * RFC 7617) for connect listeners, against a users file:
 *
 *   # comment lines and blank lines are ignored
 *   alice:$scrypt$ln=15,r=8,p=1$<salt, base64>$<key, base64>
 *
 * one user per line, user names of 1..64 characters [A-Za-z0-9._@-],
 * unique. The hash is scrypt (OpenSSL's EVP_PBE_scrypt) with N = 2^ln,
 * ln 14..20, r 1..16, p 1..4, a salt of 16..64 bytes and a key of 32
 * bytes; base64 is standard with padding. `ddbgate passwd USER` writes
 * such lines (proxyauth_hash_line). Anything else in the file is an
 * error naming file:line:column.
 *
 * Checking a header runs scrypt only the first time a credential is
 * seen: a verified one is remembered (as an HMAC under a key random per
 * process, never the password) for PROXYAUTH_CACHE_S seconds, so the
 * slow hash costs once per client, not once per connection. Failed
 * checks are not remembered. Comparisons are constant-time.
 */
#ifndef DDBGATE_PROXYAUTH_H
#define DDBGATE_PROXYAUTH_H

#include <stddef.h>

#define PROXYAUTH_CACHE_S 300
#define PROXYAUTH_USER_MAX 64

struct proxyauth;

enum proxyauth_result {
	PROXYAUTH_OK,
	PROXYAUTH_MISSING,   /* no Proxy-Authorization header (value NULL) */
	PROXYAUTH_MALFORMED, /* not "Basic <base64 of user:password>" */
	PROXYAUTH_DENIED,    /* unknown user or wrong password */
};

/* Loads a users file. NULL with "file:line:column: message" in err. */
struct proxyauth *proxyauth_load(const char *path, char *err, size_t errlen);

/* The same from a buffer; name is used in messages. */
struct proxyauth *proxyauth_parse(const char *name, const char *buf,
    size_t len, char *err, size_t errlen);

void proxyauth_free(struct proxyauth *pa);

/* How many users the file has. */
size_t proxyauth_count(const struct proxyauth *pa);

/*
 * Checks the value of a Proxy-Authorization header (value NULL: the
 * header is absent). The scheme is matched without case; exactly one
 * space (or more: RFC 9110 allows 1*SP) separates it from the token;
 * the token is strict base64 with padding; the decoded text has one ':'
 * at least, the user is before the first one. On PROXYAUTH_OK the user
 * name is copied to user (usercap > PROXYAUTH_USER_MAX). Thread-safe.
 */
enum proxyauth_result proxyauth_check(struct proxyauth *pa, const char *value,
    size_t len, char *user, size_t usercap);

/*
 * One users-file line, without the newline, for user and password with a
 * fresh random salt and the default cost (ln=15, r=8, p=1). Returns 0, or
 * -1 if user is not a valid name, the password is empty, or out is too
 * small (256 bytes is enough).
 */
int proxyauth_hash_line(const char *user, const char *password, char *out,
    size_t outlen);

#endif
