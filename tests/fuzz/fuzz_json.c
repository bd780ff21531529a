/*
 * Differential libFuzzer target for json_parse: every input is parsed by
 * the reader and by jansson (json_loadb with JSON_REJECT_DUPLICATES, what
 * the request body path used before), and the two must agree.
 *
 * Checked, aborting on any difference:
 *  - accept or refuse; a refusal's kind (a repeated name against any
 *    other error; jansson running out of memory is not compared);
 *  - when both accept, the whole tree: kinds, strings byte for byte with
 *    their length and a NUL after them, member names and their order,
 *    integers, reals as the same double;
 *  - json_getn finds every member by its name, and finds a name that is
 *    a prefix of a member's exactly when jansson does.
 *
 * The one documented difference: the reader refuses a NUL byte outside a
 * string, where jansson drops one that directly follows a number or a
 * literal ("[1\0]" is [1] to jansson). When only jansson accepts, the
 * input must hold such a NUL, and without those NULs the reader must
 * accept it and give jansson's tree.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "json.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_value(const json_t *j, const struct json_value *v);

static void
same_object(const json_t *j, const struct json_value *v)
{
	const struct json_member *m;
	const json_t *jv;
	const char *key;
	size_t key_len, i = 0;

	CHECK(v->kind == JSON_KIND_OBJECT);
	CHECK(json_object_size(j) == v->len);
	CHECK((v->sorted != NULL) == (v->len > JSON_SMALL_OBJECT));
	/* jansson iterates in insertion order: the document's. */
	json_object_keylen_foreach((json_t *)j, key, key_len, jv) {
		CHECK(i < v->len);
		m = &v->u.members[i++];
		CHECK(m->name_len == key_len);
		CHECK(memcmp(m->name, key, key_len) == 0);
		CHECK(m->name[key_len] == '\0');
		same_value(jv, &m->value);
		CHECK(json_getn(v, key, key_len) == &m->value);
		if (key_len > 0)
			CHECK((json_getn(v, key, key_len - 1) == NULL) ==
			    (json_object_getn(j, key, key_len - 1) == NULL));
	}
	CHECK(i == v->len);
}

static void
same_value(const json_t *j, const struct json_value *v)
{
	size_t i;
	double d;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		same_object(j, v);
		break;
	case JSON_ARRAY:
		CHECK(v->kind == JSON_KIND_ARRAY);
		CHECK(json_array_size(j) == v->len);
		for (i = 0; i < v->len; i++)
			same_value(json_array_get(j, i), &v->u.items[i]);
		CHECK(json_get(v, "") == NULL);
		break;
	case JSON_STRING:
		CHECK(v->kind == JSON_KIND_STRING);
		CHECK(json_string_length(j) == v->len);
		CHECK(memcmp(json_string_value(j), v->u.string, v->len) == 0);
		CHECK(v->u.string[v->len] == '\0');
		CHECK(strlen(v->u.string) == v->len);
		break;
	case JSON_INTEGER:
		CHECK(v->kind == JSON_KIND_INTEGER);
		CHECK(json_integer_value(j) == v->u.integer);
		break;
	case JSON_REAL:
		CHECK(v->kind == JSON_KIND_REAL);
		d = json_real_value(j);
		CHECK(memcmp(&d, &v->u.real, sizeof(d)) == 0);
		break;
	case JSON_TRUE:
		CHECK(v->kind == JSON_KIND_TRUE);
		break;
	case JSON_FALSE:
		CHECK(v->kind == JSON_KIND_FALSE);
		break;
	case JSON_NULL:
		CHECK(v->kind == JSON_KIND_NULL);
		break;
	}
}

/* Whether the input has a NUL byte after a letter or a digit. */
static bool
has_quirk_nul(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 1; i < size; i++) {
		if (data[i] == 0 && ((data[i - 1] >= '0' && data[i - 1] <= '9') ||
		    ((data[i - 1] | 0x20) >= 'a' && (data[i - 1] | 0x20) <= 'z')))
			return true;
	}
	return false;
}

/* The input without each NUL byte that follows a letter or a digit. */
static char *
drop_nuls(const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(size + 1);
	size_t i, n = 0;

	CHECK(out != NULL);
	for (i = 0; i < size; i++) {
		if (data[i] == 0 && i > 0 && ((data[i - 1] >= '0' &&
		    data[i - 1] <= '9') || ((data[i - 1] | 0x20) >= 'a' &&
		    (data[i - 1] | 0x20) <= 'z')))
			continue;
		out[n++] = (char)data[i];
	}
	*len = n;
	return out;
}

/* Whether the reader's outcome is jansson's (trees compared apart). */
static bool
agree(enum json_status st, const json_t *j, const json_error_t *err)
{
	if (j != NULL)
		return st == JSON_PARSE_OK;
	if (json_error_code(err) == json_error_out_of_memory ||
	    st == JSON_PARSE_NOMEM)
		return st != JSON_PARSE_OK;
	return (st == JSON_PARSE_DUPLICATE &&
	    json_error_code(err) == json_error_duplicate_key) ||
	    (st == JSON_PARSE_SYNTAX &&
	    json_error_code(err) != json_error_duplicate_key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	const struct json_value *v;
	enum json_status st;
	json_error_t err;
	json_t *j;
	size_t at, len;
	char *stripped;

	CHECK(a != NULL);
	st = json_parse(a, (const char *)data, size, &v, &at);
	CHECK((st == JSON_PARSE_OK) == (v != NULL));
	CHECK(st == JSON_PARSE_OK || at <= size);
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (!agree(st, j, &err)) {
		/* jansson's NUL quirk, and nothing else, may explain it. */
		CHECK(st == JSON_PARSE_SYNTAX && has_quirk_nul(data, size));
		stripped = drop_nuls(data, size, &len);
		arena_free(a);
		CHECK((a = arena_new()) != NULL);
		st = json_parse(a, stripped, len, &v, &at);
		free(stripped);
		CHECK(agree(st, j, &err));
	}
	if (j != NULL && st == JSON_PARSE_OK)
		same_value(j, v);
	json_decref(j);
	arena_free(a);
	return 0;
}
