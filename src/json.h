/*
 * json — a strict JSON reader (RFC 8259) for request bodies: one call
 * turns the whole text into a read-only tree inside a caller's arena.
 * Pure: no I/O, no logging, no globals.
 *
 * It accepts exactly what jansson 2.14's json_loadb() accepts with the
 * flag JSON_REJECT_DUPLICATES (an object or an array at the top, RFC 8259
 * grammar, strict UTF-8, no \u0000, no lone surrogate escapes, integers
 * that fit in a long long, reals that do not overflow a double, nesting
 * up to 2048 values deep, only white space after the value, no member
 * name twice in one object, compared after unescaping), with one
 * exception where it is stricter: a NUL byte outside a string is always
 * an error (jansson skips one that directly follows a number, true,
 * false or null). tests/fuzz/fuzz_json.c checks the two against each
 * other; docs/classify.md lists the differences.
 */
#ifndef DDBGATE_JSON_H
#define DDBGATE_JSON_H

#include <stddef.h>

#include "arena.h"

/* Values nested deeper than this are refused (jansson's limit). */
#define JSON_MAX_DEPTH 2048

/* Objects with more members than this are indexed by name. */
#define JSON_SMALL_OBJECT 8

enum json_kind {
	JSON_KIND_NULL,
	JSON_KIND_FALSE,
	JSON_KIND_TRUE,
	JSON_KIND_INTEGER,	/* no fraction, no exponent */
	JSON_KIND_REAL,
	JSON_KIND_STRING,
	JSON_KIND_ARRAY,
	JSON_KIND_OBJECT,
};

struct json_member;

/* One value of the tree. Everything it points to lives in the arena. */
struct json_value {
	enum json_kind kind;
	size_t len;	/* STRING: bytes; ARRAY: items; OBJECT: members */
	union {
		const char *string;	/* unescaped UTF-8, NUL-terminated, no
					   NUL inside */
		const struct json_value *items;
		const struct json_member *members; /* in document order */
		long long integer;
		double real;
	} u;
	/* OBJECT with more than JSON_SMALL_OBJECT members: the members
	   sorted by (name length, name bytes), for json_get; else NULL. */
	const struct json_member *const *sorted;
};

struct json_member {
	const char *name;	/* unescaped UTF-8, NUL-terminated */
	size_t name_len;
	struct json_value value;
};

enum json_status {
	JSON_PARSE_OK,
	JSON_PARSE_SYNTAX,	/* anything not JSON, or out of the limits */
	JSON_PARSE_DUPLICATE,	/* else valid, but an object repeats a name */
	JSON_PARSE_NOMEM,
};

/*
 * Parses buf[0..len) (no NUL terminator needed). On JSON_PARSE_OK *out is
 * the top-level value (an object or an array) allocated in a, valid
 * until arena_free(a). Otherwise *out is NULL and *at is a byte position
 * near the error: one past the byte that made the text invalid (len at
 * an early end). Whatever the outcome, the caller frees a.
 *
 * When an input both repeats a name and is otherwise invalid, the
 * outcome is the one jansson gives: whichever comes first in the text.
 */
enum json_status json_parse(struct arena *a, const char *buf, size_t len,
    const struct json_value **out, size_t *at);

/*
 * The value of the member of obj named name (len bytes), or NULL when
 * there is none or obj is NULL or not an object. Linear for small
 * objects, a binary search in bigger ones.
 */
const struct json_value *json_getn(const struct json_value *obj,
    const char *name, size_t len);

/* json_getn() with a NUL-terminated name. */
const struct json_value *json_get(const struct json_value *obj,
    const char *name);

#endif
