/*
 * Unit tests for cbor (the strict CBOR skipper and reader under the DAX
 * framers): the examples of RFC 8949 Appendix A that the accepted subset
 * holds, each with the offset where it ends, also when more bytes follow
 * it and in every proper prefix (the item goes on); everything the subset
 * refuses; every vector fed whole, in 1-byte pieces and in every split
 * into two pieces, which must all give the same answer and the same end;
 * the in-memory reader against the skipper; cbor_put_head at every
 * boundary of the head sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbor.h"

#define BIG_LIMIT ((uint64_t)1 << 20)

/* "01 1a ff" -> bytes; spaces anywhere, two hex digits per byte. */
static size_t
hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v = 0;

		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			fail_msg("bad hex digit '%c' in %s", *s, s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			fail_msg("hex vector too long");
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits");
	return n;
}

/* What one run of the skipper over a whole input said. */
struct outcome {
	enum cbor_status st;
	size_t end;		/* CBOR_OK: the item's last byte + 1 */
	const char *err;
};

/*
 * Feeds p[0..n) in pieces: cuts[0..ncuts) are the offsets where a new
 * piece starts (increasing, each in 1..n-1). Stops at the first answer
 * other than CBOR_MORE.
 */
static struct outcome
feed_cuts(const uint8_t *p, size_t n, uint64_t limit, const size_t *cuts,
    size_t ncuts)
{
	struct cbor_skip s;
	struct outcome o = { CBOR_MORE, 0, NULL };
	size_t start = 0, i;

	cbor_skip_init(&s, limit);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n, used = (size_t)-1;
		enum cbor_status st;

		st = cbor_skip_feed(&s, p + start, end - start, &used);
		if (st == CBOR_MORE) {
			assert_int_equal(used, end - start);
		} else if (st == CBOR_OK) {
			assert_true(used >= 1 && used <= end - start);
			o.st = CBOR_OK;
			o.end = start + used;
			return o;
		} else {
			assert_true(used <= end - start);
			assert_non_null(s.err);
			o.st = CBOR_ERROR;
			o.err = s.err;
			return o;
		}
		start = end;
	}
	return o;
}

static struct outcome
feed_whole(const uint8_t *p, size_t n, uint64_t limit)
{
	return feed_cuts(p, n, limit, NULL, 0);
}

static void
same_outcome(struct outcome a, struct outcome b, const char *how, size_t at)
{
	if (a.st != b.st || (a.st == CBOR_OK && a.end != b.end))
		fail_msg("%s (%zu): status %d end %zu, whole: status %d end %zu",
		    how, at, b.st, b.end, a.st, a.end);
}

/*
 * The whole input's outcome; the same in 1-byte pieces, in every split
 * into two pieces, and in 2- and 3-byte pieces.
 */
static struct outcome
feed_all_ways(const uint8_t *p, size_t n, uint64_t limit)
{
	struct outcome whole = feed_whole(p, n, limit);
	size_t *cuts = n > 1 ? calloc(n, sizeof(*cuts)) : NULL;
	size_t i, k, piece;

	if (n > 1)
		assert_non_null(cuts);
	for (piece = 1; piece <= 3; piece++) {
		for (i = piece, k = 0; i < n; i += piece)
			cuts[k++] = i;
		same_outcome(whole, feed_cuts(p, n, limit, cuts, k),
		    "pieces of", piece);
	}
	for (i = 1; i < n; i++)
		same_outcome(whole, feed_cuts(p, n, limit, &i, 1), "split at",
		    i);
	free(cuts);
	/* the in-memory reader agrees (its limit is what is left) */
	if (limit >= n) {
		struct cbor_reader r;

		cbor_reader_init(&r, p, n);
		if (whole.st == CBOR_OK) {
			assert_int_equal(cbor_skip_item(&r), CBOR_OK);
			assert_int_equal(r.pos, whole.end);
		} else {
			assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
			assert_non_null(r.err);
			assert_int_equal(r.pos, 0);
		}
	}
	return whole;
}

/* An item that must be accepted, ending exactly at its last byte. */
static void
accepted_limit(const char *hexs, uint64_t limit)
{
	uint8_t b[512];
	size_t n = hex(hexs, b, sizeof(b) - 3), i;
	struct outcome o;

	o = feed_all_ways(b, n, limit);
	if (o.st != CBOR_OK || o.end != n)
		fail_msg("%s: status %d end %zu (%s), want OK at %zu", hexs,
		    o.st, o.end, o.err ? o.err : "", n);
	/* whatever follows is not part of it */
	memcpy(b + n, "\x00\xff\x1c", 3);
	for (i = 1; i <= 3; i++) {
		o = feed_all_ways(b, n + i, limit + i);
		if (o.st != CBOR_OK || o.end != n)
			fail_msg("%s + %zu bytes: status %d end %zu", hexs, i,
			    o.st, o.end);
	}
	/* every proper prefix: the item goes on */
	for (i = 0; i < n; i++) {
		o = feed_all_ways(b, i, limit);
		if (o.st != CBOR_MORE)
			fail_msg("%s: prefix of %zu bytes gives %d", hexs, i,
			    o.st);
	}
}

static void
accepted(const char *hexs)
{
	accepted_limit(hexs, BIG_LIMIT);
}

/* An item the subset refuses, whichever way it arrives. */
static void
refused_limit(const char *hexs, uint64_t limit)
{
	uint8_t b[512];
	size_t n = hex(hexs, b, sizeof(b) - 2);
	struct outcome o;

	o = feed_all_ways(b, n, limit);
	if (o.st != CBOR_ERROR)
		fail_msg("%s: status %d end %zu, want an error", hexs, o.st,
		    o.end);
	/* trailing bytes change nothing */
	memcpy(b + n, "\x00\x00", 2);
	o = feed_all_ways(b, n + 2, limit);
	if (o.st != CBOR_ERROR)
		fail_msg("%s + 2 bytes: status %d, want an error", hexs, o.st);
}

static void
refused(const char *hexs)
{
	refused_limit(hexs, BIG_LIMIT);
}

/* ---- RFC 8949 Appendix A ---------------------------------------------- */

static void
test_rfc_integers(void **state)
{
	(void)state;
	accepted("00");
	accepted("01");
	accepted("0a");
	accepted("17");
	accepted("18 18");
	accepted("18 19");
	accepted("18 64");
	accepted("19 03 e8");
	accepted("1a 00 0f 42 40");
	accepted("1b 00 00 00 e8 d4 a5 10 00");
	accepted("1b ff ff ff ff ff ff ff ff");
	accepted("c2 49 01 00 00 00 00 00 00 00 00");	/* 2^64, tag 2 */
	accepted("3b ff ff ff ff ff ff ff ff");
	accepted("c3 49 01 00 00 00 00 00 00 00 00");	/* -2^64-1, tag 3 */
	accepted("20");
	accepted("29");
	accepted("38 63");
	accepted("39 03 e7");
	/* not the shortest form: well-formed all the same */
	accepted("18 00");
	accepted("1b 00 00 00 00 00 00 00 01");
}

static void
test_rfc_floats_and_simple(void **state)
{
	(void)state;
	accepted("f9 00 00");
	accepted("f9 80 00");
	accepted("f9 3c 00");
	accepted("fb 3f f1 99 99 99 99 99 9a");
	accepted("f9 3e 00");
	accepted("f9 7b ff");
	accepted("fa 47 c3 50 00");
	accepted("fa 7f 7f ff ff");
	accepted("fb 7e 37 e4 3c 88 00 75 9c");
	accepted("f9 00 01");
	accepted("f9 04 00");
	accepted("f9 c4 00");
	accepted("fb c0 10 66 66 66 66 66 66");
	accepted("f9 7c 00");
	accepted("f9 7e 00");
	accepted("f9 fc 00");
	accepted("fa 7f 80 00 00");
	accepted("fa 7f c0 00 00");
	accepted("fa ff 80 00 00");
	accepted("fb 7f f0 00 00 00 00 00 00");
	accepted("fb 7f f8 00 00 00 00 00 00");
	accepted("fb ff f0 00 00 00 00 00 00");
	accepted("f4");
	accepted("f5");
	accepted("f6");
	accepted("f7");
}

static void
test_rfc_strings(void **state)
{
	(void)state;
	accepted("40");
	accepted("44 01 02 03 04");
	accepted("60");
	accepted("61 61");
	accepted("64 49 45 54 46");
	accepted("62 22 5c");
	accepted("62 c3 bc");
	accepted("63 e6 b0 b4");
	accepted("64 f0 90 85 91");
	/* not UTF-8: forwarded as it is */
	accepted("62 ff fe");
	/* 24 and 256 bytes: the 1- and 2-byte length heads */
	accepted("58 18 000102030405060708090a0b0c0d0e0f1011121314151617");
	{
		char s[3 * 260 + 16];
		size_t at = 0, i;

		at += (size_t)snprintf(s, sizeof(s), "59 01 00");
		for (i = 0; i < 256; i++)
			at += (size_t)snprintf(s + at, sizeof(s) - at, " %02zx",
			    i);
		accepted(s);
	}
}

static void
test_rfc_containers(void **state)
{
	(void)state;
	accepted("80");
	accepted("83 01 02 03");
	accepted("83 01 82 02 03 82 04 05");
	accepted("98 19 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 "
	    "12 13 14 15 16 17 18 18 18 19");
	accepted("a0");
	accepted("a2 01 02 03 04");
	accepted("a2 61 61 01 61 62 82 02 03");
	accepted("82 61 61 a1 61 62 61 63");
	accepted("a5 61 61 61 41 61 62 61 42 61 63 61 43 61 64 61 44 61 65 "
	    "61 45");
	/* maps with container keys: well-formed CBOR */
	accepted("a1 80 a0");
	accepted("a1 a1 01 02 83 01 02 03");
}

static void
test_rfc_indefinite(void **state)
{
	(void)state;
	accepted("5f 42 01 02 43 03 04 05 ff");
	accepted("7f 65 73 74 72 65 61 64 6d 69 6e 67 ff");
	accepted("5f ff");
	accepted("7f ff");
	accepted("5f 40 40 ff");
	accepted("9f ff");
	accepted("9f 01 82 02 03 9f 04 05 ff ff");
	accepted("9f 01 82 02 03 82 04 05 ff");
	accepted("83 01 82 02 03 9f 04 05 ff");
	accepted("83 01 9f 02 03 ff 82 04 05");
	accepted("9f 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 "
	    "13 14 15 16 17 18 18 18 19 ff");
	accepted("bf 61 61 01 61 62 9f 02 03 ff ff");
	accepted("82 61 61 bf 61 62 61 63 ff");
	accepted("bf 63 46 75 6e f5 63 41 6d 74 21 ff");
	accepted("bf ff");
	/* indefinite strings as elements and keys, and empty chunks */
	accepted("9f 5f ff 7f 60 ff ff");
	accepted("bf 7f 61 61 ff 5f 41 00 ff ff");
	accepted("a1 5f ff 9f ff");
}

static void
test_tags(void **state)
{
	(void)state;
	accepted("c2 40");
	accepted("c3 41 00");
	accepted("c4 82 21 19 6a b3");			/* 273.15 */
	accepted("c5 82 20 03");			/* 1.5 */
	accepted("d9 0c f9 82 61 61 61 62");		/* 3321 string set */
	accepted("d9 0c fa 81 01");			/* 3322 number set */
	accepted("d9 0c fb 81 41 00");			/* 3323 binary set */
	accepted("d9 0c fc 01");			/* 3324 ordinal */
	accepted("d8 02 40");				/* long form of tag 2 */
	accepted("da 00 00 0c f9 80");
	accepted("db 00 00 00 00 00 00 0c fc 00");
	accepted("82 c2 40 c3 40");
	accepted("a1 c2 40 d9 0c fc 01");
	accepted("9f c2 41 01 ff");
	accepted("bf c2 40 c3 40 ff");
	accepted("c4 82 21 c2 41 01");			/* a tag inside a tag's item */
	accepted("c2 5f 41 01 ff");
	accepted("d9 0c fa 9f 01 02 ff");
	/* tags DAX does not use */
	refused("c0 74 32 30 31 33 2d 30 33 2d 32 31 54 32 30 3a 30 34 3a 30 "
	    "30 5a");
	refused("c1 1a 51 4b 67 b0");
	refused("c1 fb 41 d4 52 d9 ec 20 00 00");
	refused("d7 44 01 02 03 04");
	refused("d8 18 45 64 49 45 54 46");
	refused("d8 20 76 68 74 74 70 3a 2f 2f 77 77 77 2e 65 78 61 6d 70 "
	    "6c 65 2e 63 6f 6d");
	refused("c6 01");
	refused("d9 0c f8 01");				/* 3320 */
	refused("d9 0c fd 01");				/* 3325 */
	refused("d9 d9 f7 01");				/* self-described */
	refused("db 00 00 00 01 00 00 0c f9 01");
	refused("82 01 c0 00");
	/* a tag on a tag, a tag with no item before a break */
	refused("c2 c2 40");
	refused("c2 c3 40");
	refused("d9 0c fc c2 40");
	refused("9f c2 ff");
	refused("bf 01 c2 ff");
	refused("5f c2 40 ff");
}

static void
test_tag_allowed(void **state)
{
	static const uint64_t yes[] = { 2, 3, 4, 5, 3321, 3322, 3323, 3324 };
	static const uint64_t no[] = { 0, 1, 6, 21, 24, 55799, 3320, 3325,
	    3321 + ((uint64_t)1 << 32), UINT64_MAX };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(cbor_tag_allowed(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(cbor_tag_allowed(no[i]));
}

/* ---- refusals ------------------------------------------------------- */

static void
test_reserved_ai(void **state)
{
	char s[8];
	int major, ai;

	(void)state;
	for (major = 0; major < 8; major++)
		for (ai = 28; ai <= 30; ai++) {
			snprintf(s, sizeof(s), "%02x", major << 5 | ai);
			refused(s);
			/* also inside containers and after a good head */
			snprintf(s, sizeof(s), "81 %02x", major << 5 | ai);
			refused(s);
		}
	refused("9f 01 1c ff");
	refused("bf 01 fd ff");
	refused("a1 01 5e");
}

static void
test_break_outside(void **state)
{
	(void)state;
	refused("ff");
	refused("81 ff");
	refused("82 01 ff");
	refused("a1 01 ff");
	refused("a1 ff");
	refused("9f 81 ff ff");
	refused("bf 01 a1 ff");
	refused("c2 ff");
}

static void
test_indefinite_scalars(void **state)
{
	(void)state;
	refused("1f");
	refused("3f");
	refused("df");
	refused("9f 1f ff");
	refused("81 3f");
	/* (0xff is the break, refused above on its own) */
}

static void
test_indefinite_string_chunks(void **state)
{
	(void)state;
	/* a chunk of the other string type */
	refused("5f 61 61 ff");
	refused("7f 41 61 ff");
	refused("5f 60 ff");
	/* a chunk that is not a string at all */
	refused("5f 01 ff");
	refused("7f 20 ff");
	refused("5f 80 ff");
	refused("7f a0 ff");
	refused("5f f6 ff");
	refused("7f f9 00 00 ff");
	refused("5f c2 40 ff");
	/* an indefinite chunk inside an indefinite string */
	refused("5f 5f ff ff");
	refused("7f 7f ff ff");
	refused("7f 61 61 7f 61 62 ff ff");
	refused("5f 7f ff ff");
	/* well-formed ones, for contrast */
	accepted("5f 41 61 ff");
	accepted("7f 61 61 61 62 ff");
}

static void
test_simple_values(void **state)
{
	char s[8];
	int v;

	(void)state;
	for (v = 0; v < 20; v++) {
		snprintf(s, sizeof(s), "%02x", 0xe0 | v);
		refused(s);
	}
	/* one-byte simple values, whatever their value */
	for (v = 0; v < 256; v++) {
		snprintf(s, sizeof(s), "f8 %02x", v);
		refused(s);
	}
	refused("81 f8 20");
	refused("9f f0 ff");
	/* the four accepted ones and the floats are in the RFC vectors */
}

static void
test_depth(void **state)
{
	char s[512];
	size_t at, i;

	(void)state;
	/* CBOR_MAX_DEPTH definite arrays around a 0: accepted */
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "81 ");
	snprintf(s + at, sizeof(s) - at, "00");
	accepted(s);
	/* one more: refused */
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH + 1; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "81 ");
	snprintf(s + at, sizeof(s) - at, "00");
	refused(s);
	/* indefinite ones and maps count the same */
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "9f ");
	for (i = 0; i < CBOR_MAX_DEPTH; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "ff ");
	s[at - 1] = '\0';
	accepted(s);
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH + 1; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "bf 00 ");
	refused(s);
	/* an indefinite string is a level too */
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "81 ");
	snprintf(s + at, sizeof(s) - at, "5f ff");
	refused(s);
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH - 1; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "81 ");
	snprintf(s + at, sizeof(s) - at, "5f ff");
	accepted(s);
	/* a string at the deepest level opens nothing */
	for (at = 0, i = 0; i < CBOR_MAX_DEPTH; i++)
		at += (size_t)snprintf(s + at, sizeof(s) - at, "81 ");
	snprintf(s + at, sizeof(s) - at, "41 00");
	accepted(s);
	/* depth is given back: many shallow siblings are fine */
	{
		char w[700];

		at = (size_t)snprintf(w, sizeof(w), "98 64");
		for (i = 0; i < 100; i++)
			at += (size_t)snprintf(w + at, sizeof(w) - at, " 81 80");
		accepted(w);
	}
}

static void
test_limit(void **state)
{
	(void)state;
	/* exactly the limit, and one byte over */
	accepted_limit("43 01 02 03", 4);
	refused_limit("43 01 02 03", 3);
	accepted_limit("00", 1);
	refused_limit("00", 0);
	refused_limit("19 01 00", 2);
	accepted_limit("19 01 00", 3);
	accepted_limit("1b 00 00 00 00 00 00 00 00", 9);
	refused_limit("1b 00 00 00 00 00 00 00 00", 8);
	/* a string's length is checked on its head, before its bytes */
	refused_limit("5a 00 01 00 00", 1000);
	refused_limit("5b ff ff ff ff ff ff ff ff", BIG_LIMIT);
	refused_limit("7b ff ff ff ff ff ff ff ff", UINT64_MAX);
	/* chunks add up */
	accepted_limit("5f 41 01 41 02 ff", 6);
	refused_limit("5f 41 01 41 02 ff", 5);
	/* containers */
	accepted_limit("83 01 02 03", 4);
	refused_limit("83 01 02 03", 3);
	accepted_limit("9f 01 02 03 ff", 5);
	refused_limit("9f 01 02 03 ff", 4);
	/* a definite count larger than what is left of the limit */
	refused_limit("9b ff ff ff ff ff ff ff ff", BIG_LIMIT);
	refused_limit("9b ff ff ff ff ff ff ff ff", UINT64_MAX);
	refused_limit("bb 80 00 00 00 00 00 00 00", UINT64_MAX);
	refused_limit("bb ff ff ff ff ff ff ff ff", UINT64_MAX);
	refused_limit("9a 00 01 00 00", 1000);
	refused_limit("ba 00 00 01 f4", 1000);	/* 500 pairs need 1000 */
	accepted_limit("a2 01 02 03 04", 5);
	refused_limit("a2 01 02 03 04", 4);
	/* nested: the inner count against what is left of the whole */
	refused_limit("81 83 01 02 03", 4);
	accepted_limit("81 83 01 02 03", 5);
	refused_limit("81 82 81 00", 3);
}

static void
test_odd_map(void **state)
{
	(void)state;
	refused("bf 01 ff");
	refused("bf 01 02 03 ff");
	refused("bf 61 61 ff");
	refused("9f bf 01 ff ff");
	refused("bf 01 bf 02 ff ff");
	refused("bf 5f ff ff");
	accepted("bf 01 bf 02 03 ff ff");
	/* a definite map's last value missing: it goes on (and then ends) */
	{
		uint8_t b[8];
		size_t n = hex("a1 01", b, sizeof(b));

		assert_int_equal(feed_all_ways(b, n, BIG_LIMIT).st, CBOR_MORE);
	}
}

static void
test_error_stays(void **state)
{
	struct cbor_skip s;
	const uint8_t bad[] = { 0x81, 0x1c };
	size_t used;

	(void)state;
	cbor_skip_init(&s, BIG_LIMIT);
	assert_int_equal(cbor_skip_feed(&s, bad, sizeof(bad), &used),
	    CBOR_ERROR);
	assert_int_equal(used, 1);	/* the byte at fault */
	assert_non_null(s.err);
	/* and a zero-byte piece says it goes on */
	cbor_skip_init(&s, BIG_LIMIT);
	assert_int_equal(cbor_skip_feed(&s, bad, 0, &used), CBOR_MORE);
	assert_int_equal(used, 0);
}

/* A stream of several items, each found in turn. */
static void
test_sequence(void **state)
{
	uint8_t b[64];
	size_t n = hex("01 1a 0f b0 cc 6a 46 4d 6f 76 69 65 73 44 6b 65 79 31 "
	    "bf ff 00", b, sizeof(b));
	const size_t ends[] = { 1, 6, 13, 18, 20, 21 };
	size_t piece;

	(void)state;
	for (piece = 1; piece <= n; piece++) {
		struct cbor_skip s;
		size_t off = 0, item = 0;

		cbor_skip_init(&s, BIG_LIMIT);
		while (off < n) {
			size_t end = off + piece < n ? off + piece : n, used;
			enum cbor_status st;

			st = cbor_skip_feed(&s, b + off, end - off, &used);
			assert_int_not_equal(st, CBOR_ERROR);
			off += used;
			if (st == CBOR_OK) {
				assert_true(item < 6);
				assert_int_equal(off, ends[item]);
				item++;
				cbor_skip_init(&s, BIG_LIMIT);
			}
		}
		assert_int_equal(item, 6);
	}
}

/* ---- heads ---------------------------------------------------------- */

static void
test_head_decode(void **state)
{
	struct cbor_head h;
	const char *err = NULL;
	uint8_t b[16];
	size_t n, i;

	(void)state;
	n = hex("1b 01 02 03 04 05 06 07 08", b, sizeof(b));
	for (i = 0; i < n; i++)
		assert_int_equal(cbor_head_decode(b, i, &h, &err), CBOR_MORE);
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_int_equal(h.major, CBOR_UINT);
	assert_int_equal(h.ai, 27);
	assert_int_equal(h.len, 9);
	assert_true(h.value == 0x0102030405060708ull);
	assert_false(h.indefinite);
	assert_false(h.is_break);

	n = hex("ff", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_true(h.is_break);
	assert_int_equal(h.len, 1);

	n = hex("bf", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_true(h.indefinite);
	assert_int_equal(h.major, CBOR_MAP);
	assert_int_equal(h.len, 1);

	n = hex("39 01 f3", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_int_equal(h.major, CBOR_NEGINT);
	assert_int_equal(h.value, 0x1f3);
	assert_int_equal(h.len, 3);

	n = hex("f6", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_int_equal(h.major, CBOR_SIMPLE);
	assert_int_equal(h.ai, CBOR_NULL);

	n = hex("fa 7f 80 00 00", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_OK);
	assert_int_equal(h.len, 5);

	/* refusals say why */
	err = NULL;
	n = hex("1c", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_ERROR);
	assert_non_null(err);
	err = NULL;
	n = hex("df", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_ERROR);
	assert_non_null(err);
	err = NULL;
	n = hex("f8 ff", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, 1, &h, &err), CBOR_MORE);
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_ERROR);
	assert_non_null(err);
	err = NULL;
	n = hex("f3", b, sizeof(b));
	assert_int_equal(cbor_head_decode(b, n, &h, &err), CBOR_ERROR);
	assert_non_null(err);
}

static void
test_put_head(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
	} cases[] = {
		{ 0, 1 }, { 23, 1 }, { 24, 2 }, { 255, 2 }, { 256, 3 },
		{ 65535, 3 }, { 65536, 5 }, { 0xffffffffull, 5 },
		{ 0x100000000ull, 9 }, { UINT64_MAX, 9 },
	};
	size_t i;
	int major;

	(void)state;
	for (major = 0; major <= 6; major++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint8_t b[9];
			struct cbor_head h;
			const char *err = NULL;
			size_t len = cbor_put_head(b, (enum cbor_major)major,
			    cases[i].v);

			assert_int_equal(len, cases[i].len);
			assert_int_equal(b[0] >> 5, major);
			assert_int_equal(cbor_head_decode(b, len, &h, &err),
			    CBOR_OK);
			assert_int_equal(h.major, major);
			assert_true(h.value == cases[i].v);
			assert_int_equal(h.len, len);
			assert_false(h.indefinite);
			/* every shorter prefix is incomplete */
			for (size_t k = 0; k < len; k++)
				assert_int_equal(cbor_head_decode(b, k, &h,
				    &err), CBOR_MORE);
		}
	/* exact bytes at the boundaries */
	{
		uint8_t b[9], want[9];
		size_t n;

		n = hex("18 18", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_UINT, 24), n);
		assert_memory_equal(b, want, n);
		n = hex("59 01 00", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_BYTES, 256), n);
		assert_memory_equal(b, want, n);
		n = hex("9a 00 01 00 00", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_ARRAY, 65536), n);
		assert_memory_equal(b, want, n);
		n = hex("bb 00 00 00 01 00 00 00 00", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_MAP, 0x100000000ull), n);
		assert_memory_equal(b, want, n);
		n = hex("1a 1b 2b cf 02", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_UINT, 455855874), n);
		assert_memory_equal(b, want, n);
		n = hex("f6", want, sizeof(want));
		assert_int_equal(cbor_put_head(b, CBOR_SIMPLE, CBOR_NULL), n);
		assert_memory_equal(b, want, n);
	}
}

/* ---- the in-memory reader ------------------------------------------ */

static void
test_read_string(void **state)
{
	struct cbor_reader r;
	const uint8_t *d;
	size_t len;
	uint8_t b[32];
	size_t n;

	(void)state;
	n = hex("46 4d 6f 76 69 65 73 63 61 62 63", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len), CBOR_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "Movies", 6);
	assert_ptr_equal(d, b + 1);
	assert_int_equal(r.pos, 7);
	/* the wrong type: refused, nothing consumed */
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len),
	    CBOR_ERROR);
	assert_non_null(r.err);
	assert_int_equal(r.pos, 7);
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len), CBOR_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(d, "abc", 3);
	assert_int_equal(r.pos, n);
	/* at the end */
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len),
	    CBOR_ERROR);

	/* empty */
	n = hex("40", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len), CBOR_OK);
	assert_int_equal(len, 0);
	assert_int_equal(r.pos, 1);

	/* truncated contents, truncated heads */
	n = hex("63 61 62", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len),
	    CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");
	assert_int_equal(r.pos, 0);
	n = hex("79 01", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len),
	    CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");
	n = hex("5b ff ff ff ff ff ff ff ff 00", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len),
	    CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");
	/* indefinite strings are not read */
	n = hex("5f 41 61 ff", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len),
	    CBOR_ERROR);
	assert_int_equal(r.pos, 0);
	/* a malformed head */
	n = hex("5c", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_BYTES, &d, &len),
	    CBOR_ERROR);
	/* a break is no string */
	n = hex("ff", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len),
	    CBOR_ERROR);
	/* nothing at all */
	cbor_reader_init(&r, b, 0);
	assert_int_equal(cbor_read_string(&r, CBOR_TEXT, &d, &len),
	    CBOR_ERROR);
}

static void
read_int_ok(const char *hexs, int64_t want)
{
	struct cbor_reader r;
	uint8_t b[16];
	size_t n = hex(hexs, b, sizeof(b));
	int64_t v = 12345;

	cbor_reader_init(&r, b, n);
	if (cbor_read_int(&r, &v) != CBOR_OK)
		fail_msg("%s: %s", hexs, r.err);
	assert_true(v == want);
	assert_int_equal(r.pos, n);
}

static void
read_int_bad(const char *hexs)
{
	struct cbor_reader r;
	uint8_t b[16];
	size_t n = hex(hexs, b, sizeof(b));
	int64_t v = 12345;

	cbor_reader_init(&r, b, n);
	if (cbor_read_int(&r, &v) != CBOR_ERROR)
		fail_msg("%s: read as %lld", hexs, (long long)v);
	assert_non_null(r.err);
	assert_int_equal(r.pos, 0);
	assert_true(v == 12345);
}

static void
test_read_int(void **state)
{
	(void)state;
	read_int_ok("00", 0);
	read_int_ok("17", 23);
	read_int_ok("18 18", 24);
	read_int_ok("1a 58 c2 33 6b", 1489122155);
	read_int_ok("3a 7d 8e 7e 56", -2106490455);
	read_int_ok("3a 45 24 c5 69", -1160037738);
	read_int_ok("20", -1);
	read_int_ok("37", -24);
	read_int_ok("38 18", -25);
	read_int_ok("39 03 e7", -1000);
	read_int_ok("1b 7f ff ff ff ff ff ff ff", INT64_MAX);
	read_int_ok("3b 7f ff ff ff ff ff ff ff", INT64_MIN);
	read_int_ok("1b 00 00 00 00 00 00 00 05", 5);
	read_int_bad("1b 80 00 00 00 00 00 00 00");
	read_int_bad("1b ff ff ff ff ff ff ff ff");
	read_int_bad("3b 80 00 00 00 00 00 00 00");
	read_int_bad("3b ff ff ff ff ff ff ff ff");
	read_int_bad("c2 41 01");		/* a bignum is not read */
	read_int_bad("40");
	read_int_bad("60");
	read_int_bad("f6");
	read_int_bad("f9 3c 00");
	read_int_bad("ff");
	read_int_bad("1f");
	read_int_bad("1c");
	read_int_bad("19 03");			/* truncated */
	read_int_bad("1b 00 00 00 00 00 00 00");
	read_int_bad("");
}

static void
test_read_head_peek(void **state)
{
	struct cbor_reader r;
	struct cbor_head h;
	uint8_t b[16];
	size_t n = hex("82 19 01 00 9f ff", b, sizeof(b));

	(void)state;
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_peek(&r, &h), CBOR_OK);
	assert_int_equal(r.pos, 0);
	assert_int_equal(h.major, CBOR_ARRAY);
	assert_int_equal(h.value, 2);
	assert_int_equal(cbor_read_head(&r, &h), CBOR_OK);
	assert_int_equal(r.pos, 1);
	assert_int_equal(cbor_read_head(&r, &h), CBOR_OK);
	assert_int_equal(h.value, 256);
	assert_int_equal(r.pos, 4);
	assert_int_equal(cbor_read_head(&r, &h), CBOR_OK);
	assert_true(h.indefinite);
	assert_int_equal(cbor_read_head(&r, &h), CBOR_OK);
	assert_true(h.is_break);
	assert_int_equal(r.pos, n);
	assert_int_equal(cbor_peek(&r, &h), CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");
}

static void
test_skip_item(void **state)
{
	struct cbor_reader r;
	uint8_t b[64];
	size_t n;

	(void)state;
	/* one item after another, in place */
	n = hex("01 3a 0f b0 cc 6a 9f 01 ff bf 61 61 40 ff c2 41 01 f6", b,
	    sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, 1);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, 6);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, 9);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, 14);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, 17);
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");

	/* a truncated item: an error, nothing consumed */
	n = hex("9f 01", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
	assert_string_equal(r.err, "truncated item");
	assert_int_equal(r.pos, 0);
	/* a count that what is left cannot hold: refused on its head */
	n = hex("82 01", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
	assert_non_null(r.err);
	assert_int_equal(r.pos, 0);
	/* a string longer than what is left */
	n = hex("43 01 02", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
	assert_int_equal(r.pos, 0);
	/* a malformed one: the skipper's message */
	n = hex("9f 1c ff", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	assert_int_equal(cbor_skip_item(&r), CBOR_ERROR);
	assert_non_null(r.err);
	assert_string_not_equal(r.err, "truncated item");
	/* from the middle: the limit is what is left */
	n = hex("00 43 01 02 03", b, sizeof(b));
	cbor_reader_init(&r, b, n);
	r.pos = 1;
	assert_int_equal(cbor_skip_item(&r), CBOR_OK);
	assert_int_equal(r.pos, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_integers),
		cmocka_unit_test(test_rfc_floats_and_simple),
		cmocka_unit_test(test_rfc_strings),
		cmocka_unit_test(test_rfc_containers),
		cmocka_unit_test(test_rfc_indefinite),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_tag_allowed),
		cmocka_unit_test(test_reserved_ai),
		cmocka_unit_test(test_break_outside),
		cmocka_unit_test(test_indefinite_scalars),
		cmocka_unit_test(test_indefinite_string_chunks),
		cmocka_unit_test(test_simple_values),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_odd_map),
		cmocka_unit_test(test_error_stays),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_head_decode),
		cmocka_unit_test(test_put_head),
		cmocka_unit_test(test_read_string),
		cmocka_unit_test(test_read_int),
		cmocka_unit_test(test_read_head_peek),
		cmocka_unit_test(test_skip_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
