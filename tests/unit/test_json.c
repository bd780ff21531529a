/*
 * Unit tests for json (the request body reader) and arena: the grammar,
 * every refusal jansson makes with JSON_REJECT_DUPLICATES (the reader
 * must make the same ones), repeated names in small and big objects,
 * nesting depth, lookups by name, member order, error positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "json.h"

/* One parse with its own arena, freed by done(). */
struct parsed {
	struct arena *arena;
	const struct json_value *v;
	enum json_status st;
	size_t at;
};

static struct parsed
parse_len(const char *s, size_t len)
{
	struct parsed p;

	p.arena = arena_new();
	assert_non_null(p.arena);
	p.st = json_parse(p.arena, s, len, &p.v, &p.at);
	assert_true((p.st == JSON_PARSE_OK) == (p.v != NULL));
	return p;
}

static struct parsed
parse(const char *s)
{
	return parse_len(s, strlen(s));
}

static void
done(struct parsed *p)
{
	arena_free(p->arena);
}

static const struct json_value *
ok(struct parsed *p, const char *s)
{
	*p = parse(s);
	if (p->st != JSON_PARSE_OK)
		fail_msg("refused (%d at %zu): %s", p->st, p->at, s);
	return p->v;
}

static void
refused_len(const char *s, size_t len, enum json_status want)
{
	struct parsed p = parse_len(s, len);

	if (p.st != want)
		fail_msg("status %d, want %d: %.*s", p.st, want, (int)len, s);
	assert_null(p.v);
	assert_true(p.at <= len);
	done(&p);
}

static void
syntax(const char *s)
{
	refused_len(s, strlen(s), JSON_PARSE_SYNTAX);
}

static void
duplicate(const char *s)
{
	refused_len(s, strlen(s), JSON_PARSE_DUPLICATE);
}

/* The only element of a one-element array document. */
static const struct json_value *
only(struct parsed *p, const char *s)
{
	const struct json_value *v = ok(p, s);

	assert_int_equal(v->kind, JSON_KIND_ARRAY);
	assert_int_equal(v->len, 1);
	return &v->u.items[0];
}

static void
string_is(const char *doc, const char *want, size_t want_len)
{
	struct parsed p;
	const struct json_value *v = only(&p, doc);

	assert_int_equal(v->kind, JSON_KIND_STRING);
	assert_int_equal(v->len, want_len);
	assert_memory_equal(v->u.string, want, want_len);
	assert_int_equal(v->u.string[want_len], '\0');
	done(&p);
}

static void
integer_is(const char *doc, long long want)
{
	struct parsed p;
	const struct json_value *v = only(&p, doc);

	assert_int_equal(v->kind, JSON_KIND_INTEGER);
	assert_true(v->u.integer == want);
	done(&p);
}

static void
real_is(const char *doc, double want)
{
	struct parsed p;
	const struct json_value *v = only(&p, doc);

	assert_int_equal(v->kind, JSON_KIND_REAL);
	assert_memory_equal(&v->u.real, &want, sizeof(want));
	done(&p);
}

/* "{"k0":0,...,"k<n-1>":n-1" with extra appended, then "}". */
static char *
big_object(size_t n, const char *extra)
{
	size_t cap = n * 24 + strlen(extra) + 16, o = 0, i;
	char *s = malloc(cap);

	assert_non_null(s);
	o += (size_t)snprintf(s + o, cap - o, "{");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s\"k%zu\":%zu",
		    i > 0 ? "," : "", i, i);
	snprintf(s + o, cap - o, "%s}", extra);
	return s;
}

/* ---- the grammar ----------------------------------------------------- */

static void
test_top_level(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(ok(&p, "{}")->kind, JSON_KIND_OBJECT);
	assert_int_equal(p.v->len, 0);
	done(&p);
	assert_int_equal(ok(&p, "[]")->kind, JSON_KIND_ARRAY);
	assert_int_equal(p.v->len, 0);
	done(&p);
	assert_int_equal(ok(&p, " \t\r\n{ } \n\r\t ")->kind, JSON_KIND_OBJECT);
	done(&p);
	/* without JSON_DECODE_ANY, jansson wants an object or an array */
	syntax("\"x\"");
	syntax("1");
	syntax("true");
	syntax("null");
	syntax("");
	syntax(" \n");
	/* a byte-order mark is not white space */
	syntax("\xef\xbb\xbf{}");
	/* other white space */
	syntax("\f{}");
	syntax("{}\v");
	syntax("\xc2\xa0{}");
}

static void
test_trailing(void **state)
{
	(void)state;
	syntax("{} {}");
	syntax("{}x");
	syntax("[]]");
	syntax("{}}");
	syntax("{},");
	syntax("{\"TableName\":\"Orders\"}x");
	syntax("{} \xff");
	syntax("{}/* */");
	syntax("{}//");
}

static void
test_structure(void **state)
{
	struct parsed p;
	const struct json_value *v, *a;

	(void)state;
	v = ok(&p, "{\"a\":[1,\"two\",{\"three\":[]},[true,false,null]],"
	    "\"b\":{}}");
	assert_int_equal(v->kind, JSON_KIND_OBJECT);
	assert_int_equal(v->len, 2);
	assert_string_equal(v->u.members[0].name, "a");
	assert_int_equal(v->u.members[0].name_len, 1);
	a = &v->u.members[0].value;
	assert_int_equal(a->kind, JSON_KIND_ARRAY);
	assert_int_equal(a->len, 4);
	assert_int_equal(a->u.items[0].kind, JSON_KIND_INTEGER);
	assert_int_equal(a->u.items[0].u.integer, 1);
	assert_int_equal(a->u.items[1].kind, JSON_KIND_STRING);
	assert_string_equal(a->u.items[1].u.string, "two");
	assert_int_equal(a->u.items[2].kind, JSON_KIND_OBJECT);
	assert_int_equal(a->u.items[2].len, 1);
	assert_int_equal(json_get(&a->u.items[2], "three")->kind,
	    JSON_KIND_ARRAY);
	assert_int_equal(json_get(&a->u.items[2], "three")->len, 0);
	assert_int_equal(a->u.items[3].len, 3);
	assert_int_equal(a->u.items[3].u.items[0].kind, JSON_KIND_TRUE);
	assert_int_equal(a->u.items[3].u.items[1].kind, JSON_KIND_FALSE);
	assert_int_equal(a->u.items[3].u.items[2].kind, JSON_KIND_NULL);
	assert_string_equal(v->u.members[1].name, "b");
	assert_int_equal(v->u.members[1].value.kind, JSON_KIND_OBJECT);
	assert_int_equal(v->u.members[1].value.len, 0);
	assert_null(v->sorted);
	done(&p);
	ok(&p, "{\"\":\"\"}");
	assert_string_equal(p.v->u.members[0].name, "");
	assert_int_equal(p.v->u.members[0].value.len, 0);
	done(&p);

	syntax("[1,]");
	syntax("[,1]");
	syntax("[1 2]");
	syntax("[1,,2]");
	syntax("{\"a\":1,}");
	syntax("{,\"a\":1}");
	syntax("{\"a\" 1}");
	syntax("{\"a\"::1}");
	syntax("{\"a\":}");
	syntax("{\"a\"}");
	syntax("{\"a\":1 \"b\":2}");
	syntax("{a:1}");
	syntax("{'a':1}");
	syntax("{\"TableName\":'Orders'}");
	syntax("{1:1}");
	syntax("{null:1}");
	syntax("[");
	syntax("{");
	syntax("{\"a\":[1,2");
	syntax("{\"a\":1");
	syntax("[}");
	syntax("{]");
	syntax("[tru]");
	syntax("[truex]");
	syntax("[true1]");
	syntax("[True]");
	syntax("[nul]");
	syntax("[NaN]");
	syntax("[Infinity]");
	syntax("[undefined]");
}

static void
test_strings(void **state)
{
	(void)state;
	string_is("[\"\"]", "", 0);
	string_is("[\"plain text\"]", "plain text", 10);
	string_is("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t", 8);
	string_is("[\"a\\u0041b\"]", "aAb", 3);
	string_is("[\"\\u00e9\\u00E9\"]", "\xc3\xa9\xc3\xa9", 4);
	string_is("[\"\\u20ac\"]", "\xe2\x82\xac", 3);
	string_is("[\"\\uffff\"]", "\xef\xbf\xbf", 3);
	string_is("[\"\\ud834\\udd1e\"]", "\xf0\x9d\x84\x9e", 4);
	string_is("[\"\\udbff\\udfff\"]", "\xf4\x8f\xbf\xbf", 4);
	string_is("[\"\\u0001\"]", "\x01", 1);
	string_is("[\"x\\u007f\\u0080\"]", "x\x7f\xc2\x80", 4);
	string_is("[\"\x7f\"]", "\x7f", 1);
	/* raw UTF-8 passes through */
	string_is("[\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"]",
	    "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 9);
	/* escapes mixed with raw UTF-8 and plain text after them */
	string_is("[\"\xc3\xa9\\n\xc3\xa9 tail\"]", "\xc3\xa9\n\xc3\xa9 tail",
	    10);

	syntax("[\"abc");
	syntax("[\"abc\\\"]");
	syntax("[\"\\x\"]");
	syntax("[\"\\a\"]");
	syntax("[\"\\'\"]");
	syntax("[\"\\U0041\"]");
	syntax("[\"\\u12\"]");
	syntax("[\"\\u123\"]");
	syntax("[\"\\uZZZZ\"]");
	syntax("[\"\\u 123\"]");
	syntax("[\"\\");
	syntax("[\"\\u");
}

/* Every byte alone in a string: printable ASCII but " and \ only. */
static void
test_every_byte_in_string(void **state)
{
	char doc[] = "[\"?\"]";
	struct parsed p;
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		doc[2] = (char)c;
		p = parse_len(doc, sizeof(doc) - 1);
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			if (p.st != JSON_PARSE_OK)
				fail_msg("byte 0x%02x refused", c);
			assert_int_equal(p.v->u.items[0].len, 1);
			assert_int_equal((unsigned char)
			    p.v->u.items[0].u.string[0], c);
		} else if (p.st != JSON_PARSE_SYNTAX)
			fail_msg("byte 0x%02x: status %d", c, p.st);
		done(&p);
	}
}

/* The same at every offset of a long string (read 8 bytes at a time). */
static void
test_every_byte_in_long_string(void **state)
{
	char doc[40];
	struct parsed p;
	size_t at, len = 30;
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (at = 0; at < len; at++) {
			memset(doc, 'a', sizeof(doc));
			doc[0] = '[';
			doc[1] = '"';
			doc[2 + at] = (char)c;
			doc[2 + len] = '"';
			doc[3 + len] = ']';
			p = parse_len(doc, len + 4);
			if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
				if (p.st != JSON_PARSE_OK)
					fail_msg("byte 0x%02x at %zu refused", c,
					    at);
				assert_int_equal(p.v->u.items[0].len, len);
				assert_int_equal((unsigned char)
				    p.v->u.items[0].u.string[at], c);
			} else if (c == '"') {
				/* ends the string early: trailing data */
				assert_int_equal(p.st, JSON_PARSE_SYNTAX);
			} else if (p.st != JSON_PARSE_SYNTAX)
				fail_msg("byte 0x%02x at %zu: status %d", c, at,
				    p.st);
			done(&p);
		}
	}
}

static void
test_nul(void **state)
{
	static const char nul_in_string[] = "[\"a\0b\"]";
	static const char nul_after[] = "{\"TableName\":\"Orders\"}\0";
	/* jansson drops a NUL right after a number or a literal: "[1\0]" is
	   [1] to it. The reader is stricter and refuses every one. */
	static const char after_number[] = "[1\0]";
	static const char after_literal[] = "{\"a\":true\0}";
	static const char before[] = "\0{}";

	(void)state;
	refused_len(nul_in_string, sizeof(nul_in_string) - 1, JSON_PARSE_SYNTAX);
	refused_len(nul_after, sizeof(nul_after) - 1, JSON_PARSE_SYNTAX);
	refused_len(after_number, sizeof(after_number) - 1, JSON_PARSE_SYNTAX);
	refused_len(after_literal, sizeof(after_literal) - 1,
	    JSON_PARSE_SYNTAX);
	refused_len(before, sizeof(before) - 1, JSON_PARSE_SYNTAX);
	/* \u0000 is refused as jansson does without JSON_ALLOW_NUL */
	syntax("[\"a\\u0000b\"]");
	syntax("{\"\\u0000\":1}");
}

static void
test_surrogate_escapes(void **state)
{
	(void)state;
	syntax("[\"\\ud800\"]");
	syntax("[\"\\udbff\"]");
	syntax("[\"\\udc00\"]");
	syntax("[\"\\udfff\"]");
	syntax("[\"\\ud800\\u0041\"]");
	syntax("[\"\\ud800\\ud800\"]");
	syntax("[\"\\ud800\\n\"]");
	syntax("[\"\\ud800x\"]");
	syntax("[\"\\ud800\\\"]");
	syntax("[\"\\udc00\\ud800\"]");
	syntax("{\"\\ud800\":1}");
}

static void
test_utf8(void **state)
{
	(void)state;
	string_is("[\"\xc2\x80\"]", "\xc2\x80", 2);
	string_is("[\"\xdf\xbf\"]", "\xdf\xbf", 2);
	string_is("[\"\xe0\xa0\x80\"]", "\xe0\xa0\x80", 3);
	string_is("[\"\xed\x9f\xbf\"]", "\xed\x9f\xbf", 3);
	string_is("[\"\xee\x80\x80\"]", "\xee\x80\x80", 3);
	string_is("[\"\xef\xbf\xbf\"]", "\xef\xbf\xbf", 3);
	string_is("[\"\xf0\x90\x80\x80\"]", "\xf0\x90\x80\x80", 4);
	string_is("[\"\xf4\x8f\xbf\xbf\"]", "\xf4\x8f\xbf\xbf", 4);

	syntax("[\"\x80\"]");		/* a lone continuation byte */
	syntax("[\"\xbf\"]");
	syntax("[\"\xc0\xaf\"]");	/* overlong */
	syntax("[\"\xc1\xbf\"]");
	syntax("[\"\xe0\x80\xaf\"]");
	syntax("[\"\xe0\x9f\xbf\"]");
	syntax("[\"\xf0\x80\x80\xaf\"]");
	syntax("[\"\xf0\x8f\xbf\xbf\"]");
	syntax("[\"\xed\xa0\x80\"]");	/* a surrogate */
	syntax("[\"\xed\xbf\xbf\"]");
	syntax("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
	syntax("[\"\xf5\x80\x80\x80\"]");
	syntax("[\"\xff\"]");
	syntax("[\"\xfe\"]");
	syntax("[\"\xc3\"]");		/* cut short */
	syntax("[\"\xe2\x82\"]");
	syntax("[\"\xf0\x9d\x84\"]");
	syntax("[\"\xc3\x41\"]");	/* not a continuation */
	syntax("[\"\xe2\x82\x41\"]");
	syntax("[\"\xc3");		/* at the end of the input */
	syntax("[\"\\n\xc0\xaf\"]");	/* after an escape */
	syntax("{\"Ord\xff\":1}");	/* in a name */
	syntax("{\"TableName\":\"Ord\xc0\xafrs\"}");
	syntax("[\xc3\xa9]");		/* outside a string */
}

static void
test_numbers(void **state)
{
	(void)state;
	integer_is("[0]", 0);
	integer_is("[-0]", 0);
	integer_is("[7]", 7);
	integer_is("[-12]", -12);
	integer_is("[9223372036854775807]", 9223372036854775807LL);
	integer_is("[-9223372036854775808]", -9223372036854775807LL - 1);
	integer_is("[ 42 ]", 42);
	real_is("[1.5]", 1.5);
	real_is("[-0.0]", -0.0);
	real_is("[1e2]", 100.0);
	real_is("[1E+2]", 100.0);
	real_is("[25e-1]", 2.5);
	real_is("[0e0]", 0.0);
	real_is("[1.7976931348623157e308]", 1.7976931348623157e308);
	real_is("[9223372036854775808.0]", 9223372036854775808.0);
	/* too small for a double: 0 or a subnormal, as with jansson */
	real_is("[1e-400]", 0.0);
	real_is("[2.4703282292062328e-324]", 4.9406564584124654e-324);
	/* longer than the reader's number buffer */
	real_is("[0.000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000125e100]", strtod(
	    "0.000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000125e100", NULL));

	/* integers beyond a long long, reals beyond a double */
	syntax("[9223372036854775808]");
	syntax("[-9223372036854775809]");
	syntax("[99999999999999999999999]");
	syntax("[1e309]");
	syntax("[-1e309]");
	syntax("[1.7976931348623159e308]");
	syntax("[1e99999999999999999999]");

	syntax("[01]");
	syntax("[-01]");
	syntax("[00]");
	syntax("[1.]");
	syntax("[.5]");
	syntax("[+1]");
	syntax("[-]");
	syntax("[- 1]");
	syntax("[1e]");
	syntax("[1e+]");
	syntax("[1.e5]");
	syntax("[1.5.2]");
	syntax("[0x10]");
	syntax("[1_000]");
	syntax("[--1]");
	syntax("[1");
	syntax("[-");
	syntax("[1.");
}

/* ---- repeated names --------------------------------------------------- */

static void
test_duplicates(void **state)
{
	(void)state;
	duplicate("{\"a\":1,\"a\":1}");
	duplicate("{\"a\":1,\"b\":2,\"a\":3}");
	duplicate("{\"\":1,\"\":2}");
	/* compared after unescaping */
	duplicate("{\"a\":1,\"\\u0061\":2}");
	duplicate("{\"TableName\":\"Orders\",\"T\\u0061bleName\":\"Other\"}");
	duplicate("{\"\\u00e9\":1,\"\xc3\xa9\":2}");
	duplicate("{\"\\/\":1,\"/\":2}");
	/* at any depth */
	duplicate("[{\"x\":[{\"d\":1,\"d\":2}]}]");
	duplicate("{\"TableName\":\"Orders\",\"Key\":{\"a\":{\"M\":{\"x\":"
	    "{\"L\":[{\"M\":{\"d\":{\"S\":\"1\"},\"d\":{\"N\":\"2\"}}}]}}}}}");
	/* the same name in different objects is fine */
	{
		struct parsed p;

		ok(&p, "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
		done(&p);
		ok(&p, "{\"a\":1,\"A\":2,\"a \":3,\" a\":4}");
		done(&p);
	}
}

/*
 * A repeated name and another error in one input: whichever comes first
 * in the text decides, as with jansson (which checks each name as it is
 * read).
 */
static void
test_duplicate_and_error(void **state)
{
	char *s;

	(void)state;
	duplicate("{\"a\":1,\"a\"}");
	duplicate("{\"a\":1,\"a\":}");
	duplicate("{\"a\":1,\"a\":2");
	duplicate("{\"a\":1,\"a\":2,\"b\":\"\\x\"}");
	duplicate("{\"a\":1,\"b\":{\"c\":1,\"c\":2}");
	duplicate("{\"a\":1,\"b\":{\"c\":[1,{\"d\":2}]},\"a\":[1,");
	syntax("{\"a\":1,\"b\":{\"c\":[1,{\"d\":2}],\"a\":[1,");
	syntax("{\"a\":\"\\x\",\"a\":1}");
	syntax("{\"a\":1,\"b\":[1,],\"a\":1}");
	/* an error in the repeated name itself is a syntax error */
	syntax("{\"\":1,\"\\x\":2}");
	syntax("{\"a\":1,\"\\ud800\":2}");
	/* the same in a big object */
	s = big_object(50, ",\"k7\":0,");
	duplicate(s);
	free(s);
	s = big_object(50, ",\"k7\":[1,");
	duplicate(s);
	free(s);
	s = big_object(50, ",\"x\":[1,],\"k7\":1");
	syntax(s);
	free(s);
}

/* Big objects: repeats far apart, and no quadratic cost. */
static void
test_big_objects(void **state)
{
	struct parsed p;
	char *s, extra[64];
	size_t n = 20000, i;

	(void)state;
	s = big_object(n, "");
	ok(&p, s);
	assert_int_equal(p.v->len, n);
	assert_non_null(p.v->sorted);
	for (i = 0; i < n; i++) {
		snprintf(extra, sizeof(extra), "k%zu", i);
		assert_string_equal(p.v->u.members[i].name, extra);
		assert_int_equal(p.v->u.members[i].value.u.integer, (long long)i);
	}
	done(&p);
	free(s);
	/* the first name again at the very end, the last one at the start */
	s = big_object(n, ",\"k0\":1");
	duplicate(s);
	free(s);
	snprintf(extra, sizeof(extra), ",\"k%zu\":1", n - 1);
	s = big_object(n, extra);
	duplicate(s);
	free(s);
	/* escaped, far apart, nested in a big object */
	s = big_object(n, ",\"k\\u0031\\u0032\\u0033\":1");
	duplicate(s);
	free(s);
	/* every size around the small-object limit */
	for (i = 1; i <= JSON_SMALL_OBJECT * 2 + 2; i++) {
		size_t j;

		for (j = 0; j < i; j++) {
			snprintf(extra, sizeof(extra), ",\"k%zu\":0", j);
			s = big_object(i, extra);
			duplicate(s);
			free(s);
		}
		s = big_object(i, ",\"kk\":0");
		ok(&p, s);
		assert_int_equal(p.v->len, i + 1);
		assert_true((p.v->sorted != NULL) ==
		    (i + 1 > JSON_SMALL_OBJECT));
		done(&p);
		free(s);
	}
}

/* ---- depth ------------------------------------------------------------ */

/* n arrays around inner. */
static char *
nested(size_t n, const char *inner)
{
	size_t len = strlen(inner);
	char *s = malloc(2 * n + len + 1);

	assert_non_null(s);
	memset(s, '[', n);
	memcpy(s + n, inner, len);
	memset(s + n + len, ']', n);
	s[2 * n + len] = '\0';
	return s;
}

static void
test_depth(void **state)
{
	struct parsed p;
	const struct json_value *v;
	char *s;
	size_t i;

	(void)state;
	/* jansson counts every value, the top one at depth 1: 2048 empty
	   arrays pass, a scalar inside 2048 does not */
	s = nested(JSON_MAX_DEPTH, "");
	v = ok(&p, s);
	for (i = 1; i < JSON_MAX_DEPTH; i++) {
		assert_int_equal(v->kind, JSON_KIND_ARRAY);
		assert_int_equal(v->len, 1);
		v = &v->u.items[0];
	}
	assert_int_equal(v->len, 0);
	done(&p);
	free(s);
	s = nested(JSON_MAX_DEPTH - 1, "1");
	ok(&p, s);
	done(&p);
	free(s);
	s = nested(JSON_MAX_DEPTH - 1, "{}");
	ok(&p, s);
	done(&p);
	free(s);
	s = nested(JSON_MAX_DEPTH, "1");
	syntax(s);
	free(s);
	s = nested(JSON_MAX_DEPTH - 1, "{\"a\":1}");
	syntax(s);
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, "");
	syntax(s);
	free(s);
	s = nested(100000, "");
	syntax(s);
	free(s);
	/* deep but unclosed, and deep with a repeated name below */
	s = nested(1000, "");
	s[1500] = '\0';
	syntax(s);
	free(s);
	s = nested(1000, "{\"a\":1,\"a\":2}");
	duplicate(s);
	free(s);
}

/* ---- lookups and order ------------------------------------------------ */

static void
test_lookup(void **state)
{
	struct parsed p;
	const struct json_value *v;
	char *s, name[32];
	size_t n, i;

	(void)state;
	v = ok(&p, "{\"TableName\":\"Orders\",\"Key\":{},\"\":1,\"T\":2}");
	assert_string_equal(json_get(v, "TableName")->u.string, "Orders");
	assert_int_equal(json_get(v, "Key")->kind, JSON_KIND_OBJECT);
	assert_int_equal(json_get(v, "")->u.integer, 1);
	assert_int_equal(json_get(v, "T")->u.integer, 2);
	assert_null(json_get(v, "tablename"));
	assert_null(json_get(v, "TableNam"));
	assert_null(json_get(v, "TableNameX"));
	assert_int_equal(json_getn(v, "TableNameX", 9)->kind, JSON_KIND_STRING);
	assert_null(json_get(json_get(v, "TableName"), "x"));
	assert_null(json_get(NULL, "x"));
	done(&p);
	v = ok(&p, "[{\"a\":1}]");
	assert_null(json_get(v, "a"));
	done(&p);

	/* big objects: every name found, near misses not */
	for (n = JSON_SMALL_OBJECT + 1; n < 3000; n = n * 3 + 1) {
		s = big_object(n, "");
		v = ok(&p, s);
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "k%zu", i);
			assert_ptr_equal(json_get(v, name),
			    &v->u.members[i].value);
			snprintf(name, sizeof(name), "k%zu ", i);
			assert_null(json_get(v, name));
			snprintf(name, sizeof(name), "K%zu", i);
			assert_null(json_get(v, name));
		}
		assert_null(json_get(v, ""));
		assert_null(json_get(v, "k"));
		snprintf(name, sizeof(name), "k%zu", n);
		assert_null(json_get(v, name));
		done(&p);
		free(s);
	}
}

/* Members keep document order, small and big objects alike. */
static void
test_order(void **state)
{
	static const char *const names[] = { "zeta", "alpha", "", "mid",
	    "Zeta", "b", "aa", "a", "zz", "m", "alpha2", "c" };
	char doc[512];
	struct parsed p;
	size_t n, i, o;

	(void)state;
	for (n = 1; n <= sizeof(names) / sizeof(names[0]); n++) {
		o = (size_t)snprintf(doc, sizeof(doc), "{");
		for (i = 0; i < n; i++)
			o += (size_t)snprintf(doc + o, sizeof(doc) - o,
			    "%s\"%s\":%zu", i > 0 ? "," : "", names[i], i);
		snprintf(doc + o, sizeof(doc) - o, "}");
		ok(&p, doc);
		assert_int_equal(p.v->len, n);
		for (i = 0; i < n; i++) {
			assert_string_equal(p.v->u.members[i].name, names[i]);
			assert_int_equal(p.v->u.members[i].value.u.integer,
			    (long long)i);
			assert_ptr_equal(json_get(p.v, names[i]),
			    &p.v->u.members[i].value);
		}
		done(&p);
	}
}

/* ---- errors ----------------------------------------------------------- */

/* One past the byte that made the text invalid; the length at its end. */
static void
test_positions(void **state)
{
	static const struct {
		const char *doc;
		size_t at;
	} cases[] = {
		{ "", 0 },
		{ "   ", 3 },
		{ "x", 1 },
		{ "{}x", 3 },
		{ "{} {}", 4 },
		{ "{\"TableName\":\"Orders\"}x", 23 },
		{ "{\"a\":1,}", 8 },
		{ "[1,]", 4 },
		{ "[\"abc", 5 },
		{ "{\"TableName\":'Orders'}", 14 },
		{ "[\"a\x01\"]", 4 },
		{ "[\"\\x\"]", 4 },
		{ "[01]", 3 },
	};
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = parse(cases[i].doc);
		assert_int_equal(p.st, JSON_PARSE_SYNTAX);
		if (p.at != cases[i].at)
			fail_msg("%s: at %zu, want %zu", cases[i].doc, p.at,
			    cases[i].at);
		done(&p);
	}
}

/* The input is read within its length: no terminator is needed. */
static void
test_not_terminated(void **state)
{
	static const char doc[] = "{\"a\":[1,2.5,\"x\\n\",true]}";
	size_t len = sizeof(doc) - 1, i;
	struct parsed p;
	char *copy;

	(void)state;
	for (i = 0; i <= len; i++) {
		/* an exact-size heap copy: ASan catches a read past it */
		copy = malloc(i > 0 ? i : 1);
		assert_non_null(copy);
		memcpy(copy, doc, i);
		p = parse_len(copy, i);
		assert_int_equal(p.st, i == len ? JSON_PARSE_OK :
		    JSON_PARSE_SYNTAX);
		done(&p);
		free(copy);
	}
}

/* ---- the arena -------------------------------------------------------- */

static void
test_arena(void **state)
{
	struct arena *a = arena_new();
	char *b, *big, *prev = NULL;
	void *p;
	size_t i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < 10000; i++) {
		b = arena_alloc_bytes(a, i % 7);
		assert_non_null(b);
		memset(b, 'x', i % 7);
		p = arena_alloc(a, i % 100);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		assert_true((char *)p != prev);
		memset(p, 'y', i % 100);
		prev = p;
	}
	/* bigger than any chunk, then small ones still fit */
	big = arena_alloc(a, 1024 * 1024);
	assert_non_null(big);
	memset(big, 'z', 1024 * 1024);
	assert_non_null(arena_alloc(a, 16));
	assert_null(arena_alloc(a, SIZE_MAX / 2));
	arena_free(a);
	arena_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_every_byte_in_string),
		cmocka_unit_test(test_every_byte_in_long_string),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_surrogate_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicate_and_error),
		cmocka_unit_test(test_big_objects),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_not_terminated),
		cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
