/*
 * Unit tests for daxproto: request frames built by hand from the bytes
 * of spec section 7 (the method-id heads are the CBOR encodings of the
 * ids in the method table), the preamble and its refusals, every
 * method's frame with its (action, table) pairs, the refusals that bound
 * a frame all the same, the stream errors that do not, several frames
 * back to back; responses (success, error, BatchWriteItem); the
 * `endpoints` answer rewriter and reader; the frames the gateway writes,
 * read back. Every stream is fed whole, in 1-byte pieces and split in
 * two at every offset, and must give the same frames each time.
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
#include "daxproto.h"

#define MAX_FRAME (1u << 20)

/* The heads of the method ids (spec 7.4), after the service id 01. */
#define H_AUTH		"01 1a 58 c2 33 6b"
#define H_ENDPOINTS	"01 1a 1b 2b cf 02"
#define H_KEYSCHEMA	"01 3a 2c 43 e2 7e"
#define H_ATTRLISTID	"01 3a 49 59 27 bb"
#define H_ATTRLIST	"01 1a 27 f9 bd 71"
#define H_GET		"01 1a 0f b0 cc 6a"
#define H_PUT		"01 3a 7d 8e 7e 56"
#define H_UPDATE	"01 1a 54 f8 9c 0f"
#define H_DELETE	"01 1a 3c 69 62 21"
#define H_QUERY		"01 3a 37 81 c2 ae"
#define H_SCAN		"01 3a 6f c8 30 9b"
#define H_BATCHGET	"01 3a 29 98 5c db"
#define H_BATCHWRITE	"01 1a 06 ed 58 5f"
#define H_TGET		"01 1a 6f 3d 49 db"
#define H_TWRITE	"01 3a 45 24 c5 69"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define STS "AWS4-HMAC-SHA256\n20261124T120000Z\n" \
	"20261124/us-west-2/dax/aws4_request\n" \
	"3f2e1d0c3f2e1d0c3f2e1d0c3f2e1d0c3f2e1d0c3f2e1d0c3f2e1d0c3f2e1d0c"
#define SIG "b3c2a1f0b3c2a1f0b3c2a1f0b3c2a1f0b3c2a1f0b3c2a1f0b3c2a1f0b3c2a1f0"

/* ---- building frames -------------------------------------------------- */

struct buf {
	uint8_t b[16384];
	size_t n;
};

static void
bput(struct buf *b, const void *p, size_t n)
{
	if (n > sizeof(b->b) - b->n)
		fail_msg("test buffer full");
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* "01 1a ff": two hex digits a byte, spaces anywhere. */
static void
bhex(struct buf *b, const char *s)
{
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v = 0;
		uint8_t c;

		if (*s == ' ')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			fail_msg("bad hex digit '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		c = (uint8_t)(hi << 4 | v);
		bput(b, &c, 1);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits");
}

static void
bhead(struct buf *b, enum cbor_major m, uint64_t v)
{
	uint8_t h[9];

	bput(b, h, cbor_put_head(h, m, v));
}

static void
bstrn(struct buf *b, enum cbor_major m, const void *s, size_t n)
{
	bhead(b, m, n);
	bput(b, s, n);
}

static void
bstr(struct buf *b, enum cbor_major m, const char *s)
{
	bstrn(b, m, s, strlen(s));
}

/* The preamble the Go client sends (spec 7.2). */
static void
bpreamble(struct buf *b)
{
	bstr(b, CBOR_TEXT, DAX_MAGIC);
	bhex(b, "00");
	bstr(b, CBOR_TEXT, "0");
	bhex(b, "a1");
	bstr(b, CBOR_TEXT, "UserAgent");
	bstr(b, CBOR_TEXT, "DaxGoV2Client-1.0.3");
	bhex(b, "00");
}

static void
bauth(struct buf *b, const char *key, const char *sts, const char *token)
{
	bhex(b, H_AUTH);
	bstr(b, CBOR_TEXT, key);
	bstr(b, CBOR_TEXT, SIG);
	bstr(b, CBOR_BYTES, sts);
	if (token != NULL)
		bstr(b, CBOR_TEXT, token);
	else
		bhex(b, "f6");
	bstr(b, CBOR_TEXT, "DaxGoV2Client-1.0.3");
}

static void
bget(struct buf *b, const char *table)
{
	bhex(b, H_GET);
	bstr(b, CBOR_BYTES, table);
	bstr(b, CBOR_BYTES, "key1");
	bhex(b, "bf ff");
}

/* ---- feeding the request framer ---------------------------------------- */

struct rec {
	enum dax_status st;
	size_t end;		/* offset after the frame in the input */
	uint64_t len;
	enum dax_kind kind;
	const struct dax_method *method;
	bool refused;
	char refusal[200];
	const char *enclosing;
	size_t npairs;
	char pairs[4096];	/* "action table\n" each */
	char key[DAX_KEY_ID_MAX + 1];
	char region[32];
	bool token;
};

#define MAX_RECS 16

struct run {
	struct rec r[MAX_RECS];
	size_t n;
};

static void
record(struct run *out, const struct dax_framer *f, enum dax_status st,
    size_t end)
{
	struct rec *r;
	size_t at = 0, i;

	if (out->n == MAX_RECS)
		fail_msg("too many frames");
	r = &out->r[out->n++];
	memset(r, 0, sizeof(*r));
	r->st = st;
	r->end = end;
	if (st == DAX_ERROR) {
		if (f->err[0] == '\0')
			fail_msg("an error without a message");
		return;
	}
	if (st == DAX_MORE)
		return;
	r->len = f->req.len;
	r->kind = f->req.kind;
	r->method = f->req.method;
	r->refused = f->req.refused;
	if (r->refused && f->req.refusal[0] == '\0')
		fail_msg("a refusal without a message");
	snprintf(r->refusal, sizeof(r->refusal), "%s", f->req.refusal);
	r->enclosing = f->req.enclosing;
	r->npairs = f->req.npairs;
	for (i = 0; i < f->req.npairs; i++) {
		const char *t = dax_pair_table(&f->req, i);

		assert_int_equal(strlen(t), f->req.pairs[i].table_len);
		if (at < sizeof(r->pairs))
			at += (size_t)snprintf(r->pairs + at,
			    sizeof(r->pairs) - at, "%s %s\n",
			    f->req.pairs[i].action, t);
	}
	snprintf(r->key, sizeof(r->key), "%s", f->req.access_key_id);
	snprintf(r->region, sizeof(r->region), "%s", f->req.region);
	r->token = f->req.session_token;
}

/*
 * Feeds p[0..n) in the pieces that start at cuts[0..ncuts) (after the
 * first). Frames, then an error or, when the input stops inside a frame,
 * a DAX_MORE record.
 */
static void
run_cuts(const uint8_t *p, size_t n, uint64_t max_frame, const size_t *cuts,
    size_t ncuts, struct run *out)
{
	struct dax_framer f;
	enum dax_status last = DAX_FRAME;
	size_t start = 0, i, prev_end = 0;

	memset(out, 0, sizeof(*out));
	dax_framer_init(&f, max_frame);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n, a = start;

		while (a < end) {
			size_t used = (size_t)-1;

			last = dax_framer_feed(&f, p + a, end - a, &used);
			if (last == DAX_ERROR) {
				record(out, &f, last, a);
				goto done;
			}
			if (last == DAX_MORE) {
				assert_int_equal(used, end - a);
				a = end;
				continue;
			}
			assert_true(used >= 1 && used <= end - a);
			a += used;
			record(out, &f, last, a);
			/* frames tile the stream */
			assert_int_equal(out->r[out->n - 1].len, a - prev_end);
			prev_end = a;
		}
		start = end;
	}
	if (last == DAX_MORE)
		record(out, &f, DAX_MORE, n);
done:
	dax_framer_free(&f);
}

static void
same_runs(const struct run *a, const struct run *b, const char *how,
    size_t at)
{
	size_t i;

	if (a->n != b->n)
		fail_msg("%s %zu: %zu records, whole: %zu", how, at, b->n, a->n);
	for (i = 0; i < a->n; i++) {
		const struct rec *x = &a->r[i], *y = &b->r[i];

		if (x->st != y->st)
			fail_msg("%s %zu: record %zu status %d, whole %d", how,
			    at, i, y->st, x->st);
		if (x->st != DAX_FRAME)
			continue;
		if (x->end != y->end || x->len != y->len ||
		    x->kind != y->kind || x->method != y->method ||
		    x->refused != y->refused || x->enclosing != y->enclosing ||
		    x->npairs != y->npairs || x->token != y->token ||
		    strcmp(x->refusal, y->refusal) != 0 ||
		    strcmp(x->pairs, y->pairs) != 0 ||
		    strcmp(x->key, y->key) != 0 ||
		    strcmp(x->region, y->region) != 0)
			fail_msg("%s %zu: frame %zu differs", how, at, i);
	}
}

/*
 * The frames of p[0..n), the same whole, in 1-, 2- and 7-byte pieces
 * and split in two anywhere. Free the result.
 */
static struct run *
frames_max(const uint8_t *p, size_t n, uint64_t max_frame)
{
	struct run *whole = calloc(1, sizeof(*whole));
	struct run *other = calloc(1, sizeof(*other));
	size_t *cuts = calloc(n + 1, sizeof(*cuts));
	static const size_t pieces[] = { 1, 2, 7 };
	size_t i, k, j;

	assert_non_null(whole);
	assert_non_null(other);
	assert_non_null(cuts);
	run_cuts(p, n, max_frame, NULL, 0, whole);
	for (j = 0; j < sizeof(pieces) / sizeof(pieces[0]); j++) {
		for (i = pieces[j], k = 0; i < n; i += pieces[j])
			cuts[k++] = i;
		run_cuts(p, n, max_frame, cuts, k, other);
		same_runs(whole, other, "pieces of", pieces[j]);
	}
	for (i = 1; i < n; i++) {
		run_cuts(p, n, max_frame, &i, 1, other);
		same_runs(whole, other, "split at", i);
	}
	free(other);
	free(cuts);
	return whole;
}

static struct run *
frames(const struct buf *b)
{
	return frames_max(b->b, b->n, MAX_FRAME);
}

/* The preamble, then one request: its frame (checked to end the input). */
static struct rec
one_request(const struct buf *req)
{
	struct buf b = { .n = 0 };
	struct run *r;
	struct rec out;

	bpreamble(&b);
	bput(&b, req->b, req->n);
	r = frames(&b);
	if (r->n != 2 || r->r[0].st != DAX_FRAME || r->r[1].st != DAX_FRAME)
		fail_msg("%zu records, the second of status %d", r->n,
		    r->n > 1 ? (int)r->r[1].st : -1);
	assert_int_equal(r->r[0].kind, DAX_PREAMBLE);
	assert_int_equal(r->r[1].len, req->n);
	assert_int_equal(r->r[1].end, b.n);
	out = r->r[1];
	free(r);
	return out;
}

/* The preamble, then a request the stream cannot survive. */
static void
stream_error(const struct buf *req)
{
	struct buf b = { .n = 0 };
	struct run *r;

	bpreamble(&b);
	bput(&b, req->b, req->n);
	r = frames(&b);
	if (r->n != 2 || r->r[1].st != DAX_ERROR)
		fail_msg("%zu records, the second of status %d", r->n,
		    r->n > 1 ? (int)r->r[1].st : -1);
	free(r);
}

static void
refused_request(const struct buf *req)
{
	struct rec r = one_request(req);

	if (!r.refused)
		fail_msg("not refused: %s", r.pairs);
	assert_true(r.refusal[0] != '\0');
}

/* ---- the preamble ------------------------------------------------------ */

static void
test_preamble(void **state)
{
	struct buf b = { .n = 0 };
	struct run *r;

	(void)state;
	bpreamble(&b);
	r = frames(&b);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->r[0].st, DAX_FRAME);
	assert_int_equal(r->r[0].kind, DAX_PREAMBLE);
	assert_null(r->r[0].method);
	assert_int_equal(r->r[0].len, b.n);
	assert_int_equal(r->r[0].npairs, 0);
	assert_false(r->r[0].refused);
	free(r);

	/* every prefix: it goes on */
	for (size_t n = 1; n < b.n; n++) {
		r = frames_max(b.b, n, MAX_FRAME);
		assert_int_equal(r->n, 1);
		assert_int_equal(r->r[0].st, DAX_MORE);
		free(r);
	}

	/* the session id as null, bytes, an indefinite string */
	static const char *const sessions[] = { "f6", "44 00 01 02 03",
	    "7f 61 31 ff", "60", "40" };
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++) {
		b.n = 0;
		bstr(&b, CBOR_TEXT, DAX_MAGIC);
		bhex(&b, "00");
		bhex(&b, sessions[i]);
		bhex(&b, "bf 69 55 73 65 72 41 67 65 6e 74 f6 ff 00");
		r = frames(&b);
		assert_int_equal(r->n, 1);
		assert_int_equal(r->r[0].st, DAX_FRAME);
		assert_int_equal(r->r[0].len, b.n);
		free(r);
	}
}

/* A preamble with one item replaced: a stream error. */
static void
preamble_refused(const char *magic, const char *layering, const char *session,
    const char *attrs, const char *mode)
{
	struct buf b = { .n = 0 };
	struct run *r;

	bhex(&b, magic);
	bhex(&b, layering);
	bhex(&b, session);
	bhex(&b, attrs);
	bhex(&b, mode);
	/* and a good request after it, which must not be read */
	bhex(&b, H_ENDPOINTS);
	r = frames(&b);
	if (r->n != 1 || r->r[0].st != DAX_ERROR)
		fail_msg("%s|%s|%s|%s|%s: %zu records, status %d", magic,
		    layering, session, attrs, mode, r->n, r->r[0].st);
	free(r);
}

#define GOOD_MAGIC "67 4a 37 79 6e 65 35 47"
#define GOOD_ATTRS "a1 69 55 73 65 72 41 67 65 6e 74 61 78"

static void
test_preamble_refused(void **state)
{
	(void)state;
	/* the magic: another letter, as bytes, shorter, longer, split */
	preamble_refused("67 4a 37 79 6e 65 35 48", "00", "f6", GOOD_ATTRS, "00");
	preamble_refused("47 4a 37 79 6e 65 35 47", "00", "f6", GOOD_ATTRS, "00");
	preamble_refused("66 4a 37 79 6e 65 35", "00", "f6", GOOD_ATTRS, "00");
	preamble_refused("68 4a 37 79 6e 65 35 47 47", "00", "f6", GOOD_ATTRS,
	    "00");
	preamble_refused("78 07 4a 37 79 6e 65 35 47", "00", "f6", GOOD_ATTRS,
	    "00");
	preamble_refused("7f 67 4a 37 79 6e 65 35 47 ff", "00", "f6",
	    GOOD_ATTRS, "00");
	preamble_refused("00", "00", "f6", GOOD_ATTRS, "00");
	/* layering other than 0 */
	preamble_refused(GOOD_MAGIC, "01", "f6", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "20", "f6", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "60", "f6", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "f4", "f6", GOOD_ATTRS, "00");
	/* a session id that is not a string or null */
	preamble_refused(GOOD_MAGIC, "00", "00", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "00", "f7", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "00", "a0", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "00", "80", GOOD_ATTRS, "00");
	preamble_refused(GOOD_MAGIC, "00", "c2 40", GOOD_ATTRS, "00");
	/* client attributes that are not a map */
	preamble_refused(GOOD_MAGIC, "00", "f6", "80", "00");
	preamble_refused(GOOD_MAGIC, "00", "f6", "f6", "00");
	preamble_refused(GOOD_MAGIC, "00", "f6", "69 55 73 65 72 41 67 65 6e 74",
	    "00");
	/* client mode other than 0 */
	preamble_refused(GOOD_MAGIC, "00", "f6", GOOD_ATTRS, "01");
	preamble_refused(GOOD_MAGIC, "00", "f6", GOOD_ATTRS, "19 00 01");
	preamble_refused(GOOD_MAGIC, "00", "f6", GOOD_ATTRS, "f6");
	preamble_refused(GOOD_MAGIC, "00", "f6", GOOD_ATTRS, "20");
	/* malformed CBOR inside it */
	preamble_refused(GOOD_MAGIC, "00", "f6", "a1 1c 00", "00");
	preamble_refused(GOOD_MAGIC, "00", "f6", "bf 01 ff", "00");
	/* a request where the preamble should be */
	preamble_refused("", "", "", "", H_ENDPOINTS);
	/* malformed from the first byte, before anything was kept */
	preamble_refused("1c", "", "", "", "");
	preamble_refused("ff", "", "", "", "");
	preamble_refused("1f", "", "", "", "");
}

/* ---- every method -------------------------------------------------------- */

static void
test_auth(void **state)
{
	struct buf b = { .n = 0 };
	struct rec r;

	(void)state;
	bauth(&b, KEY_ID, STS, NULL);
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_AUTH);
	assert_string_equal(r.method->name, "authorizeConnection");
	assert_null(r.method->action);
	assert_string_equal(r.key, KEY_ID);
	assert_string_equal(r.region, "us-west-2");
	assert_false(r.token);
	assert_false(r.refused);
	assert_int_equal(r.npairs, 0);

	b.n = 0;
	bauth(&b, "ASIAXXXXXXXXXXXXXXXX", STS, "IQoJb3JpZ2luX2VjEJr//////////");
	r = one_request(&b);
	assert_string_equal(r.key, "ASIAXXXXXXXXXXXXXXXX");
	assert_true(r.token);
	assert_false(r.refused);

	/* a user agent of null, a token of "" (still a token) */
	b.n = 0;
	bhex(&b, H_AUTH);
	bstr(&b, CBOR_TEXT, KEY_ID);
	bstr(&b, CBOR_TEXT, SIG);
	bstr(&b, CBOR_BYTES, STS);
	bhex(&b, "60 f6");
	r = one_request(&b);
	assert_true(r.token);
	assert_string_equal(r.key, KEY_ID);

	/* the key id at its limits: 16 and 128 characters */
	{
		char key[DAX_KEY_ID_MAX + 2];

		memset(key, 'A', sizeof(key));
		key[16] = '\0';
		b.n = 0;
		bauth(&b, key, STS, NULL);
		r = one_request(&b);
		assert_false(r.refused);
		assert_string_equal(r.key, key);
		key[16] = 'A';
		key[DAX_KEY_ID_MAX] = '\0';
		b.n = 0;
		bauth(&b, key, STS, NULL);
		r = one_request(&b);
		assert_false(r.refused);
		assert_string_equal(r.key, key);
		/* and past them */
		key[DAX_KEY_ID_MAX] = 'A';
		key[DAX_KEY_ID_MAX + 1] = '\0';
		b.n = 0;
		bauth(&b, key, STS, NULL);
		r = one_request(&b);
		assert_true(r.refused);
		assert_string_equal(r.key, "");
		key[15] = '\0';
		b.n = 0;
		bauth(&b, key, STS, NULL);
		r = one_request(&b);
		assert_true(r.refused);
		assert_string_equal(r.key, "");
	}
	/* lower case, punctuation, NUL, empty */
	static const char *const bad_keys[] = { "akiaiosfodnn7example",
	    "AKIAIOSFODNN7EXAMPL=", "AKIAIOSFODNN7EXAMP E", "AKIA-IOSFODNN7EXAMPLE",
	    "" };
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		b.n = 0;
		bauth(&b, bad_keys[i], STS, NULL);
		r = one_request(&b);
		assert_true(r.refused);
		assert_string_equal(r.key, "");
		/* the rest is read all the same */
		assert_string_equal(r.region, "us-west-2");
	}
	b.n = 0;
	bhex(&b, H_AUTH);
	bstrn(&b, CBOR_TEXT, "AKIAIOSFODNN7EXA\0PLE", 20);
	bstr(&b, CBOR_TEXT, SIG);
	bstr(&b, CBOR_BYTES, STS);
	bhex(&b, "f6 f6");
	r = one_request(&b);
	assert_true(r.refused);
}

/* The region of an authorizeConnection with this string-to-sign. */
static void
region_is(const char *sts, const char *want)
{
	struct buf b = { .n = 0 };
	struct rec r;

	bauth(&b, KEY_ID, sts, NULL);
	r = one_request(&b);
	if (strcmp(r.region, want) != 0)
		fail_msg("region \"%s\", want \"%s\", for %s", r.region, want,
		    sts);
	assert_false(r.refused);
}

#define HASH "\n0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_auth_region(void **state)
{
	(void)state;
	region_is(STS, "us-west-2");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/eu-central-1/dax/aws4_request" HASH, "eu-central-1");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-gov-west-1/dax/aws4_request\n", "us-gov-west-1");
	/* 31 characters fit, 32 do not */
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/abcdefghijklmnopqrstuvwxyz-1234/dax/aws4_request" HASH,
	    "abcdefghijklmnopqrstuvwxyz-1234");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/abcdefghijklmnopqrstuvwxyz-12345/dax/aws4_request" HASH,
	    "");
	/* malformed scopes */
	region_is("", "");
	region_is("AWS4-HMAC-SHA256", "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z", "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n", "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n20261124" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124//dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2/dynamodb/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2/dax/aws4_request", "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2/dax/aws4_requestX" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/US-WEST-2/dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us_west_2/dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2\n/dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2/dax/aws4_reques" HASH, "");
	/* the scope is the third line, of a SigV4 string-to-sign */
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\nnot-a-scope\n"
	    "x/us-east-1/dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA256\n20261124T120000Z\n\n"
	    "20261124/us-east-1/dax/aws4_request" HASH, "");
	region_is("AWS4-HMAC-SHA1\n20261124T120000Z\n"
	    "20261124/us-west-2/dax/aws4_request" HASH, "");
	region_is("XAWS4-HMAC-SHA256\n20261124T120000Z\n"
	    "20261124/us-west-2/dax/aws4_request" HASH, "");
	/* longer than what the framer keeps of it: no region, no harm */
	{
		char big[800];

		snprintf(big, sizeof(big), "%s%0600d", STS, 0);
		region_is(big, "");
	}
}

static void
test_endpoints_and_meta(void **state)
{
	struct buf b = { .n = 0 };
	struct rec r;

	(void)state;
	bhex(&b, H_ENDPOINTS);
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_ENDPOINTS);
	assert_string_equal(r.method->name, "endpoints");
	assert_int_equal(r.len, 6);
	assert_int_equal(r.npairs, 0);

	b.n = 0;
	bhex(&b, H_KEYSCHEMA);
	bstr(&b, CBOR_BYTES, "Movies");
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_META);
	assert_string_equal(r.method->name, "defineKeySchema");
	assert_int_equal(r.npairs, 0);
	assert_false(r.refused);

	b.n = 0;
	bhex(&b, H_ATTRLISTID);
	bhex(&b, "82 64 6e 61 6d 65 63 61 67 65");
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_META);
	assert_string_equal(r.method->name, "defineAttributeListId");

	b.n = 0;
	bhex(&b, H_ATTRLISTID);
	bhex(&b, "9f 64 6e 61 6d 65 ff");
	r = one_request(&b);
	assert_string_equal(r.method->name, "defineAttributeListId");

	b.n = 0;
	bhex(&b, H_ATTRLIST);
	bhex(&b, "18 2a");
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_META);
	assert_string_equal(r.method->name, "defineAttributeList");
	assert_int_equal(r.len, 8);
	b.n = 0;
	bhex(&b, H_ATTRLIST);
	bhex(&b, "3b 00 00 00 00 00 00 00 01");
	r = one_request(&b);
	assert_int_equal(r.len, 15);
}

/* One request with a single table: its pair. */
static void
single_table(const char *head, const char *mid, const char *tail,
    const char *method, const char *pair)
{
	struct buf b = { .n = 0 };
	struct rec r;

	bhex(&b, head);
	bstr(&b, CBOR_BYTES, "Movies");
	bhex(&b, mid);
	bhex(&b, tail);
	r = one_request(&b);
	assert_int_equal(r.kind, DAX_DATA);
	assert_string_equal(r.method->name, method);
	assert_int_equal(r.npairs, 1);
	assert_string_equal(r.pairs, pair);
	assert_false(r.refused);
	assert_null(r.enclosing);
}

static void
test_item_methods(void **state)
{
	(void)state;
	single_table(H_GET, "44 6b 65 79 31", "bf ff", "GetItem",
	    "dax:GetItem Movies\n");
	single_table(H_GET, "44 6b 65 79 31",
	    "bf 00 43 82 01 02 02 f5 ff", "GetItem", "dax:GetItem Movies\n");
	single_table(H_GET, "5f 42 6b 65 41 79 ff", "a1 02 f4", "GetItem",
	    "dax:GetItem Movies\n");
	single_table(H_PUT, "44 6b 65 79 31 45 82 18 2a 61 78", "bf ff",
	    "PutItem", "dax:PutItem Movies\n");
	single_table(H_PUT, "44 6b 65 79 31 5f 41 01 ff",
	    "bf 04 44 01 02 03 04 05 a1 61 61 61 62 07 02 ff", "PutItem",
	    "dax:PutItem Movies\n");
	single_table(H_UPDATE, "44 6b 65 79 31", "bf 08 43 01 02 03 07 04 ff",
	    "UpdateItem", "dax:UpdateItem Movies\n");
	single_table(H_DELETE, "44 6b 65 79 31", "bf ff", "DeleteItem",
	    "dax:DeleteItem Movies\n");
	single_table(H_QUERY, "44 83 01 02 03", "bf 0b 43 67 73 69 0d 18 64 ff",
	    "Query", "dax:Query Movies\n");
	single_table(H_SCAN, "", "bf 10 01 11 04 ff", "Scan",
	    "dax:Scan Movies\n");
	single_table(H_SCAN, "", "a0", "Scan", "dax:Scan Movies\n");
}

static void
test_batch(void **state)
{
	struct buf b = { .n = 0 };
	struct rec r;

	(void)state;
	/* {"Movies": [true, null, [key]], "Books": [false, h'..', [k, k]]} */
	bhex(&b, H_BATCHGET);
	bhex(&b, "a2");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "83 f5 f6 81 44 6b 65 79 31");
	bstr(&b, CBOR_TEXT, "Books");
	bhex(&b, "83 f4 42 01 02 82 41 61 41 62");
	bhex(&b, "bf ff");
	r = one_request(&b);
	assert_string_equal(r.method->name, "BatchGetItem");
	assert_int_equal(r.npairs, 2);
	assert_string_equal(r.pairs, "dax:BatchGetItem Movies\n"
	    "dax:BatchGetItem Books\n");
	assert_false(r.refused);

	/* BatchWriteItem: two tables, a put and a delete */
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a2");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "84 44 6b 65 79 31 43 01 02 03 44 6b 65 79 32 f6");
	bstr(&b, CBOR_TEXT, "Books");
	bhex(&b, "82 41 61 f6");
	bhex(&b, "bf 03 01 ff");
	r = one_request(&b);
	assert_string_equal(r.method->name, "BatchWriteItem");
	assert_int_equal(r.kind, DAX_DATA);
	assert_int_equal(r.npairs, 2);
	assert_string_equal(r.pairs, "dax:BatchWriteItem Movies\n"
	    "dax:BatchWriteItem Books\n");
	assert_false(r.refused);
	assert_null(r.enclosing);

	/* the same with indefinite maps and arrays */
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "bf");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "9f 44 6b 65 79 31 f6 ff");
	bstr(&b, CBOR_TEXT, "Books.v2");
	bhex(&b, "9f ff");
	bstr(&b, CBOR_TEXT, "Music_2024");
	bhex(&b, "80 ff a0");
	r = one_request(&b);
	assert_int_equal(r.npairs, 3);
	assert_string_equal(r.pairs, "dax:BatchWriteItem Movies\n"
	    "dax:BatchWriteItem Books.v2\n"
	    "dax:BatchWriteItem Music_2024\n");
	assert_false(r.refused);
}

static void
test_transact(void **state)
{
	struct buf b = { .n = 0 };
	struct rec r;

	(void)state;
	/* TransactGetItems: tables, keys, projections, params */
	bhex(&b, H_TGET);
	bhex(&b, "82");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Books");
	bhex(&b, "82 41 61 41 62 82 f6 43 01 02 03 bf 03 01 ff");
	r = one_request(&b);
	assert_string_equal(r.method->name, "TransactGetItems");
	assert_int_equal(r.kind, DAX_DATA);
	assert_string_equal(r.enclosing, "TransactGetItems");
	assert_int_equal(r.npairs, 2);
	assert_string_equal(r.pairs, "dax:GetItem Movies\ndax:GetItem Books\n");
	assert_false(r.refused);

	/* TransactWriteItems: ops 2/7/9/12 on four tables */
	b.n = 0;
	bhex(&b, H_TWRITE);
	bhex(&b, "84 02 07 09 0c");
	bhex(&b, "84");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Books");
	bstr(&b, CBOR_BYTES, "Music");
	bstr(&b, CBOR_BYTES, "Games");
	bhex(&b, "84 41 61 41 62 41 63 41 64");	/* keys */
	bhex(&b, "84 42 01 02 f6 f6 f6");		/* values */
	bhex(&b, "f6");				/* (null) */
	bhex(&b, "84 01 01 01 02");			/* return values */
	bhex(&b, "84 f6 f6 f6 43 01 02 03");		/* conditions */
	bhex(&b, "84 f6 f6 43 04 05 06 f6");		/* updates */
	bhex(&b, "bf 13 50 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ff");
	r = one_request(&b);
	assert_string_equal(r.method->name, "TransactWriteItems");
	assert_string_equal(r.enclosing, "TransactWriteItems");
	assert_null(r.method->action);
	assert_int_equal(r.npairs, 4);
	assert_string_equal(r.pairs, "dax:PutItem Movies\n"
	    "dax:DeleteItem Books\n"
	    "dax:UpdateItem Music\n"
	    "dax:ConditionCheckItem Games\n");
	assert_false(r.refused);

	/* indefinite arrays; one table twice with two ops, twice with one */
	b.n = 0;
	bhex(&b, H_TWRITE);
	bhex(&b, "9f 02 07 02 18 0c ff");
	bhex(&b, "9f");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Books");
	bhex(&b, "ff");
	bhex(&b, "80 80 f6 80 80 80 a0");
	r = one_request(&b);
	assert_int_equal(r.npairs, 3);
	assert_string_equal(r.pairs, "dax:PutItem Movies\n"
	    "dax:DeleteItem Movies\n"
	    "dax:ConditionCheckItem Books\n");
	assert_false(r.refused);

	/* the "any item" argument may be anything well-formed */
	b.n = 0;
	bhex(&b, H_TWRITE);
	bhex(&b, "81 09 81");
	bstr(&b, CBOR_BYTES, "Movies");
	bhex(&b, "80 80 a1 9f c2 41 01 ff bf 61 61 f9 3c 00 ff 80 80 80 a0");
	r = one_request(&b);
	assert_string_equal(r.pairs, "dax:UpdateItem Movies\n");
	assert_false(r.refused);
}

/* ---- refusals that bound the frame all the same ------------------------ */

static void
test_refusals(void **state)
{
	struct buf b = { .n = 0 };
	struct rec r;
	char name[300];

	(void)state;
	/* table names: 2 bytes, 3 bytes, 255, 256 */
	b.n = 0;
	bget(&b, "ab");
	refused_request(&b);
	b.n = 0;
	bget(&b, "abc");
	r = one_request(&b);
	assert_false(r.refused);
	assert_string_equal(r.pairs, "dax:GetItem abc\n");
	memset(name, 'x', sizeof(name));
	name[255] = '\0';
	b.n = 0;
	bget(&b, name);
	r = one_request(&b);
	assert_false(r.refused);
	assert_int_equal(r.npairs, 1);
	name[255] = 'x';
	name[256] = '\0';
	b.n = 0;
	bget(&b, name);
	refused_request(&b);
	name[256] = 'x';
	name[290] = '\0';
	b.n = 0;
	bget(&b, name);
	refused_request(&b);
	b.n = 0;
	bget(&b, "");
	refused_request(&b);
	/* characters outside [A-Za-z0-9_.-] */
	static const char *const bad[] = { "Mov ies", "Mo/vies", "Movies*",
	    "arn:aws:dynamodb:us-west-2:123456789012:table/Movies", "Mov\xc3\xa9",
	    "Mo\nvies", "Movies#" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.n = 0;
		bget(&b, bad[i]);
		refused_request(&b);
	}
	b.n = 0;
	bhex(&b, H_GET);
	bstrn(&b, CBOR_BYTES, "Mov\0ies", 7);
	bhex(&b, "41 00 a0");
	refused_request(&b);
	/* the same rules in Scan and in defineKeySchema's length */
	b.n = 0;
	bhex(&b, H_SCAN);
	bstr(&b, CBOR_BYTES, "a b");
	bhex(&b, "a0");
	refused_request(&b);

	/* a table named twice in a Batch map */
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a2");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "80");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "82 41 61 f6 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_BATCHGET);
	bhex(&b, "bf");
	bstr(&b, CBOR_TEXT, "Books");
	bhex(&b, "80");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "80");
	bstr(&b, CBOR_TEXT, "Books");
	bhex(&b, "80 ff a0");
	refused_request(&b);
	/* a key that is no definite text, a table name that is invalid */
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a1");
	bstr(&b, CBOR_BYTES, "Movies");
	bhex(&b, "80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a1 7f 63 4d 6f 76 63 69 65 73 ff 80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a1 01 80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_BATCHGET);
	bhex(&b, "a1");
	bstr(&b, CBOR_TEXT, "M");
	bhex(&b, "80 a0");
	refused_request(&b);
	/* empty RequestItems */
	b.n = 0;
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a0 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_BATCHGET);
	bhex(&b, "bf ff a0");
	refused_request(&b);

	/* transact: an unknown op code, counts that differ, empty */
	static const char *const ops[] = { "81 01", "81 03", "81 00", "81 20",
	    "81 1b 00 00 00 01 00 00 00 02", "81 f6", "81 41 02", "80",
	    "82 02 02", "9f ff", "9f 02 07 ff" };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		b.n = 0;
		bhex(&b, H_TWRITE);
		bhex(&b, ops[i]);
		bhex(&b, "81");
		bstr(&b, CBOR_BYTES, "Movies");
		bhex(&b, "80 80 f6 80 80 80 a0");
		refused_request(&b);
	}
	/* ops fewer than tables */
	b.n = 0;
	bhex(&b, H_TWRITE);
	bhex(&b, "81 02 82");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "Books");
	bhex(&b, "80 80 f6 80 80 80 a0");
	refused_request(&b);
	/* no tables, no ops */
	b.n = 0;
	bhex(&b, H_TWRITE);
	bhex(&b, "80 80 80 80 f6 80 80 80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_TGET);
	bhex(&b, "80 80 80 a0");
	refused_request(&b);
	/* transact tables as text, or invalid */
	b.n = 0;
	bhex(&b, H_TGET);
	bhex(&b, "81");
	bstr(&b, CBOR_TEXT, "Movies");
	bhex(&b, "80 80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_TGET);
	bhex(&b, "82");
	bstr(&b, CBOR_BYTES, "Movies");
	bstr(&b, CBOR_BYTES, "x");
	bhex(&b, "80 80 a0");
	refused_request(&b);
	b.n = 0;
	bhex(&b, H_TGET);
	bhex(&b, "81 5f 41 4d ff 80 80 a0");
	refused_request(&b);

	/* more than DAX_MAX_PAIRS tables; exactly that many is fine */
	for (int extra = 0; extra <= 1; extra++) {
		b.n = 0;
		bhex(&b, H_TGET);
		bhead(&b, CBOR_ARRAY, DAX_MAX_PAIRS + (uint64_t)extra);
		for (int i = 0; i < DAX_MAX_PAIRS + extra; i++) {
			snprintf(name, sizeof(name), "table%03d", i);
			bstr(&b, CBOR_BYTES, name);
		}
		bhex(&b, "80 80 a0");
		r = one_request(&b);
		assert_int_equal(r.npairs, DAX_MAX_PAIRS);
		assert_int_equal(r.refused, extra == 1);
	}
}

/* A refused request bounds its frame: what follows is read as usual. */
static void
test_refused_then_more(void **state)
{
	struct buf b = { .n = 0 };
	struct run *r;

	(void)state;
	bpreamble(&b);
	bget(&b, "ab");
	bauth(&b, "bad", STS, NULL);
	bhex(&b, H_BATCHWRITE);
	bhex(&b, "a0 a0");
	bget(&b, "Movies");
	r = frames(&b);
	assert_int_equal(r->n, 5);
	assert_true(r->r[1].refused);
	assert_true(r->r[2].refused);
	assert_true(r->r[3].refused);
	assert_false(r->r[4].refused);
	assert_string_equal(r->r[4].pairs, "dax:GetItem Movies\n");
	assert_int_equal(r->r[4].end, b.n);
	free(r);
}

/* ---- stream errors ------------------------------------------------------- */

static void
test_stream_errors(void **state)
{
	struct buf b = { .n = 0 };

	(void)state;
	/* unknown method ids: methods, services, DescribeTable, 0, 1, -1 */
	static const char *const unknown[] = { "01 1a 2e cb 30 e7",
	    "01 3a 3c 9b 09 af", "01 3a 30 d5 fc 90", "01 00", "01 01", "01 20",
	    "01 1b 00 00 00 01 0f b0 cc 6a", "01 1b ff ff ff ff ff ff ff ff",
	    "01 3b ff ff ff ff ff ff ff ff" };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		b.n = 0;
		bhex(&b, unknown[i]);
		bhex(&b, "46 4d 6f 76 69 65 73 a0");
		stream_error(&b);
	}
	/* a service id other than 1 */
	static const char *const services[] = { "00", "02", "20", "61 01",
	    "41 01", "f5", "a0", "80", "c2 41 01", "fb 3f f0 00 00 00 00 00 00" };
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		b.n = 0;
		bhex(&b, services[i]);
		bhex(&b, H_ENDPOINTS + 3);
		stream_error(&b);
	}
	/* a method id that is not an integer */
	b.n = 0;
	bhex(&b, "01 44 0f b0 cc 6a");
	stream_error(&b);
	b.n = 0;
	bhex(&b, "01 c2 44 0f b0 cc 6a");
	stream_error(&b);

	/* arguments of the wrong type */
	static const char *const wrong[] = {
		H_GET " 66 4d 6f 76 69 65 73 41 00 a0",	/* table as text */
		H_GET " 5f 46 4d 6f 76 69 65 73 ff 41 00 a0", /* indefinite */
		H_GET " f6 41 00 a0",
		H_GET " 46 4d 6f 76 69 65 73 61 00 a0",	/* key as text */
		H_GET " 46 4d 6f 76 69 65 73 41 00 80",	/* params array */
		H_SCAN " 46 4d 6f 76 69 65 73 46 4d 6f 76 69 65 73",
		H_BATCHWRITE " 80 a0",
		H_BATCHWRITE " f6 a0",
		H_TWRITE " a0 80 80 80 f6 80 80 80 a0",
		H_TWRITE " 80 a0 80 80 f6 80 80 80 a0",
		H_TGET " 41 00 80 80 a0",
		H_ATTRLIST " 61 31",
		H_ATTRLIST " c2 41 01",
		H_ATTRLISTID " a0",
		H_KEYSCHEMA " 66 4d 6f 76 69 65 73",
		H_AUTH " 54 41 4b 49 41 49 4f 53 46 4f 44 4e 4e 37 45 58 41 4d 50"
		    " 4c 45 60 40 f6 f6",		/* key id as bytes */
		H_AUTH " 7f ff 60 40 f6 f6",		/* indefinite key id */
		H_AUTH " 60 40 40 f6 f6",		/* signature as bytes */
		H_AUTH " 60 60 60 f6 f6",		/* string-to-sign as text */
		H_AUTH " 60 60 5f ff f6 f6",		/* indefinite */
		H_AUTH " 60 60 40 40 f6",		/* token as bytes */
		H_AUTH " 60 60 40 f6 01",		/* user agent as int */
		H_AUTH " 60 60 40 f7 f6",		/* undefined for null */
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		b.n = 0;
		bhex(&b, wrong[i]);
		stream_error(&b);
	}
	/* malformed CBOR in an argument */
	static const char *const malformed[] = {
		H_GET " 46 4d 6f 76 69 65 73 5c",
		H_GET " 46 4d 6f 76 69 65 73 41 00 bf 01 ff",
		H_GET " 46 4d 6f 76 69 65 73 41 00 bf 01 c0 00 ff",
		H_GET " ff",
		H_GET " 46 4d 6f 76 69 65 73 5f 61 61 ff a0",
		H_PUT " 46 4d 6f 76 69 65 73 41 00 41 00 bf f8 00 ff",
		H_TWRITE " 81 02 81 46 4d 6f 76 69 65 73 80 80 1f",
		H_BATCHWRITE " a1 61 61 ff",
		"1c",
		"01 1d",
		"3f",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		b.n = 0;
		bhex(&b, malformed[i]);
		stream_error(&b);
	}
}

static void
test_max_frame(void **state)
{
	struct buf b = { .n = 0 }, pre = { .n = 0 };
	struct run *r;
	struct dax_framer f;
	size_t used;

	(void)state;
	bpreamble(&pre);
	bget(&b, "Movies");
	/* the preamble is a frame too: a limit under it is an error */
	r = frames_max(pre.b, pre.n, pre.n);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->r[0].st, DAX_FRAME);
	free(r);
	r = frames_max(pre.b, pre.n, pre.n - 1);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->r[0].st, DAX_ERROR);
	free(r);
	/* GetItem (longer than the preamble) at exactly the limit, and one
	 * byte over it */
	{
		struct buf all = { .n = 0 };

		b.n = 0;
		bhex(&b, H_GET);
		bstr(&b, CBOR_BYTES, "Movies");
		bstr(&b, CBOR_BYTES, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
		bhex(&b, "a0");
		assert_true(b.n > pre.n);
		bput(&all, pre.b, pre.n);
		bput(&all, b.b, b.n);
		r = frames_max(all.b, all.n, b.n);
		assert_int_equal(r->n, 2);
		assert_int_equal(r->r[1].st, DAX_FRAME);
		assert_int_equal(r->r[1].len, b.n);
		free(r);
		r = frames_max(all.b, all.n, b.n - 1);
		assert_int_equal(r->n, 2);
		assert_int_equal(r->r[1].st, DAX_ERROR);
		free(r);
	}
	/* a string's length above the limit fails on its head */
	dax_framer_init(&f, 64);
	assert_int_equal(dax_framer_feed(&f, pre.b, pre.n, &used), DAX_FRAME);
	b.n = 0;
	bhex(&b, H_GET " 5a 00 10 00 00");
	assert_int_equal(dax_framer_feed(&f, b.b, b.n, &used), DAX_ERROR);
	assert_true(f.err[0] != '\0');
	dax_framer_free(&f);
}

/* ---- several frames ------------------------------------------------------- */

static void
test_back_to_back(void **state)
{
	struct buf b = { .n = 0 };
	struct run *r;
	size_t ends[12], k = 0;

	(void)state;
	bpreamble(&b);
	ends[k++] = b.n;
	bauth(&b, KEY_ID, STS, NULL);
	ends[k++] = b.n;
	bhex(&b, H_ENDPOINTS);
	ends[k++] = b.n;
	bget(&b, "Movies");
	ends[k++] = b.n;
	bhex(&b, H_PUT);
	bstr(&b, CBOR_BYTES, "Books");
	bhex(&b, "41 61 42 01 02 bf ff");
	ends[k++] = b.n;
	bhex(&b, H_BATCHWRITE " a1");
	bstr(&b, CBOR_TEXT, "Music");
	bhex(&b, "82 41 61 f6 a0");
	ends[k++] = b.n;
	bhex(&b, H_TWRITE " 81 07 81");
	bstr(&b, CBOR_BYTES, "Games");
	bhex(&b, "81 41 61 81 f6 f6 81 01 81 f6 81 f6 a0");
	ends[k++] = b.n;
	bhex(&b, H_ENDPOINTS);
	ends[k++] = b.n;
	bauth(&b, "AKIAZZZZZZZZZZZZZZZZ", STS, "tok");
	ends[k++] = b.n;
	bget(&b, "Movies");
	ends[k++] = b.n;
	r = frames(&b);
	assert_int_equal(r->n, k);
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(r->r[i].st, DAX_FRAME);
		assert_int_equal(r->r[i].end, ends[i]);
		assert_false(r->r[i].refused);
	}
	assert_int_equal(r->r[0].kind, DAX_PREAMBLE);
	assert_int_equal(r->r[1].kind, DAX_AUTH);
	assert_string_equal(r->r[1].key, KEY_ID);
	assert_int_equal(r->r[2].kind, DAX_ENDPOINTS);
	assert_string_equal(r->r[3].pairs, "dax:GetItem Movies\n");
	assert_string_equal(r->r[4].pairs, "dax:PutItem Books\n");
	assert_string_equal(r->r[5].pairs, "dax:BatchWriteItem Music\n");
	assert_string_equal(r->r[6].pairs, "dax:DeleteItem Games\n");
	assert_string_equal(r->r[6].enclosing, "TransactWriteItems");
	/* a frame's state does not leak into the next */
	assert_null(r->r[7].enclosing);
	assert_int_equal(r->r[7].npairs, 0);
	assert_string_equal(r->r[8].key, "AKIAZZZZZZZZZZZZZZZZ");
	assert_true(r->r[8].token);
	assert_false(r->r[1].token);
	assert_string_equal(r->r[9].key, "");
	assert_string_equal(r->r[9].region, "");
	free(r);

	/* a stream that stops inside a frame: the frames before it, then
	 * "more" */
	b.n = 0;
	bpreamble(&b);
	bget(&b, "Movies");
	bhex(&b, H_GET " 46 4d 6f");
	r = frames(&b);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->r[2].st, DAX_MORE);
	free(r);
	/* and one broken after good frames */
	b.n = 0;
	bpreamble(&b);
	bget(&b, "Movies");
	bhex(&b, "02");
	bget(&b, "Movies");
	r = frames(&b);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->r[1].st, DAX_FRAME);
	assert_int_equal(r->r[2].st, DAX_ERROR);
	free(r);
}

static void
test_method_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; dax_method_at(i) != NULL; i++) {
		const struct dax_method *m = dax_method_at(i);

		assert_ptr_equal(dax_method_find(m->id), m);
		assert_true(strspn(m->args, "BbTtMAI*KSNGLO") ==
		    strlen(m->args));
		assert_true((m->kind == DAX_DATA) ==
		    (m->action != NULL || strcmp(m->name,
		    "TransactWriteItems") == 0));
		for (j = 0; j < i; j++) {
			assert_true(dax_method_at(j)->id != m->id);
			assert_string_not_equal(dax_method_at(j)->name,
			    m->name);
		}
	}
	assert_int_equal(i, 15);
	assert_null(dax_method_find(0));
	assert_null(dax_method_find(785068263));	/* methods */
	assert_null(dax_method_find(-1016793520));	/* services */
	assert_string_equal(dax_method_find(263244906)->name, "GetItem");
	assert_string_equal(dax_method_find(-1160037738)->name,
	    "TransactWriteItems");
}

/* ---- responses -------------------------------------------------------- */

static const struct dax_method *
method_named(const char *name)
{
	for (size_t i = 0; dax_method_at(i) != NULL; i++)
		if (strcmp(dax_method_at(i)->name, name) == 0)
			return dax_method_at(i);
	fail_msg("no method %s", name);
	return NULL;
}

struct resp {
	enum dax_status st;
	size_t end;
	bool error;
};

static struct resp
resp_cuts(const char *method, const uint8_t *p, size_t n, uint64_t max,
    const size_t *cuts, size_t ncuts)
{
	struct dax_response_scan s;
	struct resp o = { DAX_MORE, 0, false };
	size_t start = 0, i;

	dax_response_init(&s, method_named(method), max);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n, used = (size_t)-1;
		enum dax_status st = dax_response_feed(&s, p + start,
		    end - start, &used);

		if (st == DAX_FRAME) {
			assert_true(used >= 1 && used <= end - start);
			o.st = st;
			o.end = start + used;
			o.error = s.error;
			assert_int_equal(s.used, o.end);
			return o;
		}
		if (st == DAX_ERROR) {
			assert_true(s.err[0] != '\0');
			o.st = st;
			return o;
		}
		assert_int_equal(used, end - start);
		start = end;
	}
	return o;
}

static struct resp
response_max(const char *method, const char *hexs, uint64_t max)
{
	struct buf b = { .n = 0 };
	struct resp whole, other;
	size_t i;

	bhex(&b, hexs);
	whole = resp_cuts(method, b.b, b.n, max, NULL, 0);
	{
		size_t *cuts = calloc(b.n + 1, sizeof(*cuts));

		assert_non_null(cuts);
		for (i = 1; i < b.n; i++)
			cuts[i - 1] = i;
		other = resp_cuts(method, b.b, b.n, max, cuts,
		    b.n ? b.n - 1 : 0);
		free(cuts);
	}
	if (other.st != whole.st || other.end != whole.end ||
	    other.error != whole.error)
		fail_msg("%s %s: bytewise %d/%zu, whole %d/%zu", method, hexs,
		    other.st, other.end, whole.st, whole.end);
	for (i = 1; i < b.n; i++) {
		other = resp_cuts(method, b.b, b.n, max, &i, 1);
		if (other.st != whole.st || other.end != whole.end ||
		    other.error != whole.error)
			fail_msg("%s %s: split at %zu differs", method, hexs, i);
	}
	return whole;
}

static struct resp
response(const char *method, const char *hexs)
{
	return response_max(method, hexs, MAX_FRAME);
}

/* A whole response of len bytes (more may follow it in the input). */
static void
response_ok(const char *method, const char *hexs, size_t len, bool error)
{
	struct resp r = response(method, hexs);

	if (r.st != DAX_FRAME || r.end != len || r.error != error)
		fail_msg("%s %s: status %d end %zu error %d", method, hexs, r.st,
		    r.end, r.error);
}

static void
test_responses(void **state)
{
	(void)state;
	response_ok("GetItem", "80 f6", 2, false);
	response_ok("GetItem", "80 f6 80 f6", 2, false);
	response_ok("GetItem", "80 a1 01 02", 4, false);
	response_ok("GetItem", "80 bf 00 9f 01 ff 01 5f 41 00 ff ff 00", 12,
	    false);
	response_ok("endpoints", "80 81 a2 02 44 0a 00 00 01 03 19 1f af", 13,
	    false);
	response_ok("defineAttributeListId", "80 18 2a", 3, false);
	response_ok("PutItem", "80 f6", 2, false);
	/* errors: code path, message, [request id, code, status] or null */
	response_ok("GetItem", "83 04 18 25 18 2b 69 6e 6f 74 20 66 6f 75 6e "
	    "64 83 f6 f6 19 01 90", 22, true);
	response_ok("GetItem", "83 04 18 25 18 2b 60 f6 00", 8, true);
	response_ok("GetItem", "85 00 17 18 1f 18 21 00 60 84 f6 f6 f6 83 00 "
	    "60 f6", 17, true);
	response_ok("authorizeConnection", "81 04 60 f6", 4, true);
	/* BatchWriteItem: null, or unprocessed + capacity + metrics */
	response_ok("BatchWriteItem", "80 f6 00", 2, false);
	response_ok("BatchWriteItem", "80 a0 80 80 00", 4, false);
	response_ok("BatchWriteItem", "80 a1 66 4d 6f 76 69 65 73 82 41 61 f6 "
	    "81 a1 01 02 a0 ff", 18, false);
	response_ok("BatchWriteItem", "80 bf ff 9f ff a0", 6, false);
	response_ok("BatchWriteItem", "83 04 18 25 18 2b 60 f6 f6", 8, true);
	/* BatchGetItem: null, or the server's [responses, unprocessed]
	 * followed by the consumed capacity as an item of its own (what
	 * both official clients read) */
	response_ok("BatchGetItem", "80 f6 00", 2, false);
	response_ok("BatchGetItem", "80 82 a0 a0 80 00", 5, false);
	response_ok("BatchGetItem", "80 82 a1 66 4d 6f 76 69 65 73 80 a0 81 "
	    "a0 80 f6", 14, false);
	assert_int_equal(response("BatchGetItem", "80 82 a0 a0").st, DAX_MORE);
	response_ok("BatchGetItem", "83 04 18 25 18 2b 60 f6 f6", 8, true);
	/* other methods take one result item, whatever it is */
	response_ok("TransactWriteItems", "80 83 80 80 80", 5, false);
	/* incomplete: more */
	assert_int_equal(response("GetItem", "80").st, DAX_MORE);
	assert_int_equal(response("GetItem", "83 04 18 25 18 2b 60").st,
	    DAX_MORE);
	assert_int_equal(response("BatchWriteItem", "80 a0 80").st, DAX_MORE);
	/* not a response */
	assert_int_equal(response("GetItem", "a0 f6").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "9f ff f6").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "f6").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "00").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "80 1c").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "80 ff").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "81 1f").st, DAX_ERROR);
	assert_int_equal(response("GetItem", "81 04 60 bf 01 ff").st,
	    DAX_ERROR);
	/* the limit is the whole response's */
	assert_int_equal(response_max("GetItem", "80 43 01 02 03", 5).st,
	    DAX_FRAME);
	assert_int_equal(response_max("GetItem", "80 43 01 02 03", 4).st,
	    DAX_ERROR);
	assert_int_equal(response_max("GetItem", "83 04 05 06 60 f6", 6).st,
	    DAX_FRAME);
	assert_int_equal(response_max("GetItem", "83 04 05 06 60 f6", 5).st,
	    DAX_ERROR);
	assert_int_equal(response_max("BatchWriteItem", "80 a0 80 80", 4).st,
	    DAX_FRAME);
	assert_int_equal(response_max("BatchWriteItem", "80 a0 80 80", 3).st,
	    DAX_ERROR);
}

/* ---- endpoints answers ----------------------------------------------- */

/* Node 1: definite, keys 0-6 in order, IPv4 10.0.0.1:8111. */
#define NODE1_A "a7 00 1b 00 00 00 00 00 00 30 39 01 66 6e 6f 64 65 2d 31"
#define NODE1_ADDR "02 44 0a 00 00 01"
#define NODE1_PORT "03 19 1f af"
#define NODE1_B "04 01 05 6a 75 73 2d 77 65 73 74 2d 32 61 06 1a 00 01 e2 40"
/* Node 2: indefinite, keys 1, 2, 3, 0, IPv6 2001:db8::2 port 9111. */
#define NODE2_A "bf 01 66 6e 6f 64 65 2d 32"
#define NODE2_ADDR "02 50 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
#define NODE2_PORT "03 19 23 97"
#define NODE2_B "00 02 ff"
/* Node 3: definite, keys 5, 3, 6 (written 18 06), 4, 63, 2. */
#define NODE3_A "a6 05 6a 75 73 2d 77 65 73 74 2d 32 62"
#define NODE3_PORT "03 19 1f af"
#define NODE3_B "18 06 20 04 02 18 3f 82 01 9f ff"
#define NODE3_ADDR "02 44 0a 00 00 03"

#define ANSWER_NODES NODE1_A NODE1_ADDR NODE1_PORT NODE1_B \
	NODE2_A NODE2_ADDR NODE2_PORT NODE2_B \
	NODE3_A NODE3_PORT NODE3_B NODE3_ADDR

/* What the test map gives: 192.0.2.(1+i) or 2001:db8::f0+i, 9000+i. */
/* (and each node's host name, key 1, is its new address as text) */
#define OUT_NODE1 "a7 00 1b 00 00 00 00 00 00 30 39 01 69 31 39 32 2e 30 2e 32 2e 31" \
	" 02 44 c0 00 02 01 03 19 23 28" \
	" 04 01 05 6a 75 73 2d 77 65 73 74 2d 32 61 06 1a 00 01 e2 40"
#define OUT_NODE2 "a4 01 6c 32 30 30 31 3a 64 62 38 3a 3a 66 31" \
	" 02 50 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 f1" \
	" 03 19 23 29 00 02"
#define OUT_NODE3 "a6 05 6a 75 73 2d 77 65 73 74 2d 32 62 03 19 23 2a" \
	" 06 20 04 02 18 3f 82 01 9f ff 02 44 c0 00 02 03"

struct mapper {
	int calls;
	int drop;		/* the call to leave out, or -1 */
	struct dax_node_addr seen[8];
};

static int
test_map(void *arg, const struct dax_node_addr *node, struct dax_node_addr *out)
{
	struct mapper *m = arg;
	int i = m->calls++;

	if (i < 8)
		m->seen[i] = *node;
	if (i == m->drop)
		return -1;
	memset(out, 0, sizeof(*out));
	out->addrlen = node->addrlen;
	if (node->addrlen == 4) {
		uint8_t a[4] = { 192, 0, 2, (uint8_t)(1 + i) };

		memcpy(out->addr, a, 4);
	} else {
		memcpy(out->addr, node->addr, 16);
		out->addr[15] = (uint8_t)(0xf0 + i);
	}
	out->port = (uint16_t)(9000 + i);
	return 0;
}

static int
identity_map(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *out)
{
	(void)arg;
	*out = *node;
	return 0;
}

static void
rewrite_is(const char *in_hex, int drop, int want_n, const char *want_hex)
{
	struct buf in = { .n = 0 }, want = { .n = 0 };
	struct mapper m = { .calls = 0, .drop = drop };
	uint8_t *out = (uint8_t *)"unset", *again = NULL;
	size_t outlen = 0, againlen = 0;
	char err[200] = "";
	int n;

	bhex(&in, in_hex);
	bhex(&want, want_hex);
	n = dax_endpoints_rewrite(in.b, in.n, test_map, &m, &out, &outlen, err,
	    sizeof(err));
	if (n != want_n)
		fail_msg("%d nodes (%s), want %d", n, err, want_n);
	assert_int_equal(m.calls, 3);
	assert_non_null(out);
	if (outlen != want.n || memcmp(out, want.b, want.n) != 0) {
		char got[4096];
		size_t at = 0;

		for (size_t i = 0; i < outlen && at + 4 < sizeof(got); i++)
			at += (size_t)snprintf(got + at, sizeof(got) - at,
			    "%02x ", out[i]);
		fail_msg("rewritten as %s", got);
	}
	/* the result reads back, and rewriting it again changes nothing */
	assert_int_equal(dax_endpoints_read(out, outlen, NULL, NULL, err,
	    sizeof(err)), want_n);
	assert_int_equal(dax_endpoints_rewrite(out, outlen, identity_map, NULL,
	    &again, &againlen, err, sizeof(err)), want_n);
	assert_int_equal(againlen, outlen);
	assert_memory_equal(again, out, outlen);
	/* and the response scanner bounds it as one endpoints answer */
	{
		struct dax_response_scan s;
		size_t used;

		dax_response_init(&s, dax_method_find(455855874), MAX_FRAME);
		assert_int_equal(dax_response_feed(&s, out, outlen, &used),
		    DAX_FRAME);
		assert_int_equal(used, outlen);
	}
	free(out);
	free(again);
}

static void
test_endpoints_rewrite(void **state)
{
	(void)state;
	rewrite_is("80 83 " ANSWER_NODES, -1, 3,
	    "80 83 " OUT_NODE1 OUT_NODE2 OUT_NODE3);
	rewrite_is("80 9f " ANSWER_NODES " ff", -1, 3,
	    "80 83 " OUT_NODE1 OUT_NODE2 OUT_NODE3);
	/* a node the map refuses is left out */
	rewrite_is("80 83 " ANSWER_NODES, 1, 2, "80 82 " OUT_NODE1 OUT_NODE3);
	rewrite_is("80 9f " ANSWER_NODES " ff", 0, 2,
	    "80 82 " OUT_NODE2 OUT_NODE3);
	/* the non-shortest head of the answer array is written anew */
	rewrite_is("80 98 03 " ANSWER_NODES, 2, 2,
	    "80 82 " OUT_NODE1 OUT_NODE2);
}

static void
test_endpoints_read(void **state)
{
	struct buf in = { .n = 0 };
	struct mapper m = { .calls = 0, .drop = -1 };
	char err[200];
	uint8_t *out = NULL;
	size_t outlen;

	(void)state;
	bhex(&in, "80 83 " ANSWER_NODES);
	assert_int_equal(dax_endpoints_read(in.b, in.n, test_map, &m, err,
	    sizeof(err)), 3);
	assert_int_equal(m.calls, 3);
	assert_int_equal(m.seen[0].addrlen, 4);
	assert_memory_equal(m.seen[0].addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(m.seen[0].port, 8111);
	assert_int_equal(m.seen[1].addrlen, 16);
	assert_int_equal(m.seen[1].addr[0], 0x20);
	assert_int_equal(m.seen[1].addr[15], 0x02);
	assert_int_equal(m.seen[1].port, 9111);
	assert_memory_equal(m.seen[2].addr, "\x0a\x00\x00\x03", 4);
	/* no nodes at all */
	in.n = 0;
	bhex(&in, "80 80");
	assert_int_equal(dax_endpoints_read(in.b, in.n, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(dax_endpoints_rewrite(in.b, in.n, identity_map, NULL,
	    &out, &outlen, err, sizeof(err)), 0);
	assert_int_equal(outlen, 2);
	assert_memory_equal(out, "\x80\x80", 2);
	free(out);
	in.n = 0;
	bhex(&in, "80 9f ff");
	assert_int_equal(dax_endpoints_read(in.b, in.n, NULL, NULL, err,
	    sizeof(err)), 0);
}

static void
endpoints_refused(const char *hexs)
{
	struct buf in = { .n = 0 };
	char err[200] = "";
	uint8_t *out = (uint8_t *)"unset";
	size_t outlen = 0;

	bhex(&in, hexs);
	if (dax_endpoints_rewrite(in.b, in.n, identity_map, NULL, &out, &outlen,
	    err, sizeof(err)) != -1)
		fail_msg("rewritten: %s", hexs);
	assert_null(out);
	assert_true(err[0] != '\0');
	err[0] = '\0';
	if (dax_endpoints_read(in.b, in.n, NULL, NULL, err, sizeof(err)) != -1)
		fail_msg("read: %s", hexs);
	assert_true(err[0] != '\0');
}

#define A4 "02 44 0a 00 00 01"
#define P8111 "03 19 1f af"

static void
test_endpoints_refused(void **state)
{
	(void)state;
	/* missing address or port */
	endpoints_refused("80 81 a1 " P8111);
	endpoints_refused("80 81 a1 " A4);
	endpoints_refused("80 81 a0");
	endpoints_refused("80 81 a2 00 01 01 60");
	/* addresses of the wrong size or type */
	endpoints_refused("80 81 a2 02 45 0a 00 00 01 02 " P8111);
	endpoints_refused("80 81 a2 02 43 0a 00 00 " P8111);
	endpoints_refused("80 81 a2 02 40 " P8111);
	endpoints_refused("80 81 a2 02 4f 00 00 00 00 00 00 00 00 00 00 00 00 "
	    "00 00 00 " P8111);
	endpoints_refused("80 81 a2 02 64 0a 00 00 01 " P8111);
	endpoints_refused("80 81 a2 02 5f 42 0a 00 42 00 01 ff " P8111);
	endpoints_refused("80 81 a2 02 1a 0a 00 00 01 " P8111);
	endpoints_refused("80 81 a2 02 f6 " P8111);
	/* ports out of range or not integers */
	endpoints_refused("80 81 a2 " A4 " 03 00");
	endpoints_refused("80 81 a2 " A4 " 03 1a 00 01 11 70");	/* 70000 */
	endpoints_refused("80 81 a2 " A4 " 03 1a 00 01 00 00");	/* 65536 */
	endpoints_refused("80 81 a2 " A4 " 03 20");
	endpoints_refused("80 81 a2 " A4 " 03 39 1f ae");
	endpoints_refused("80 81 a2 " A4 " 03 63 38 31 31");
	endpoints_refused("80 81 a2 " A4 " 03 1b ff ff ff ff ff ff ff ff");
	endpoints_refused("80 81 a2 " A4 " 03 c2 42 1f af");
	/* a key twice, also in another encoding; keys outside 0-63 */
	endpoints_refused("80 81 a3 00 01 " A4 " 00 02 " P8111);
	endpoints_refused("80 81 a3 " A4 " " P8111 " 03 19 1f af");
	endpoints_refused("80 81 a3 " A4 " " P8111 " 18 02 44 0a 00 00 01");
	endpoints_refused("80 81 bf " A4 " " P8111 " 01 60 01 60 ff");
	endpoints_refused("80 81 a3 18 40 00 " A4 " " P8111);
	endpoints_refused("80 81 a3 20 00 " A4 " " P8111);
	endpoints_refused("80 81 a3 61 61 00 " A4 " " P8111);
	endpoints_refused("80 81 a3 f6 00 " A4 " " P8111);
	endpoints_refused("80 81 a3 1b 00 00 00 01 00 00 00 02 00 " A4 " "
	    P8111);
	/* bytes after the answer, or missing */
	endpoints_refused("80 81 a2 " A4 " " P8111 " 00");
	endpoints_refused("80 80 80");
	endpoints_refused("80 82 a2 " A4 " " P8111);
	endpoints_refused("80 81 a2 " A4 " 03 19 1f");
	endpoints_refused("80 9f a2 " A4 " " P8111);
	endpoints_refused("80 81 bf " A4 " " P8111);
	endpoints_refused("80");
	endpoints_refused("");
	/* an error response; not a response at all */
	endpoints_refused("81 04 60 f6");
	endpoints_refused("83 04 18 25 18 2b 60 83 f6 f6 19 01 90");
	endpoints_refused("9f ff 80");
	/* definite counts of 2^64-1 (not "indefinite", whatever follows) */
	endpoints_refused("80 9b ff ff ff ff ff ff ff ff a2 " A4 " " P8111
	    " ff");
	endpoints_refused("80 81 bb ff ff ff ff ff ff ff ff " A4 " " P8111
	    " ff");
	endpoints_refused("80 82 a2 " A4 " " P8111 " bb 00 00 00 00 00 00 00 "
	    "04 " A4 " " P8111);
	/* an error whose code path would read as a node array */
	endpoints_refused("81 80");
	endpoints_refused("81 81 a2 " A4 " " P8111);
	endpoints_refused("a0 80");
	endpoints_refused("80 a0");
	endpoints_refused("80 f6");
	/* nodes that are not maps, a value that is not well-formed */
	endpoints_refused("80 81 80");
	endpoints_refused("80 81 f6");
	endpoints_refused("80 81 a3 " A4 " " P8111 " 01 7c");
	endpoints_refused("80 81 a3 " A4 " " P8111 " 01 c0 00");
	endpoints_refused("80 81 a3 " A4 " " P8111 " 01 ff");
	endpoints_refused("80 81 bf " A4 " " P8111 " 01 ff");
}

/* At most 256 nodes. */
static void
test_endpoints_many(void **state)
{
	struct buf in = { .n = 0 };
	char err[200];
	uint8_t *out = NULL;
	size_t outlen;
	int i;

	(void)state;
	/* 256 nodes are fine, 257 are not */
	for (int extra = 0; extra <= 1; extra++) {
		in.n = 0;
		bhex(&in, "80");
		bhead(&in, CBOR_ARRAY, 256 + (uint64_t)extra);
		for (i = 0; i < 256 + extra; i++)
			bhex(&in, "a2 " A4 " " P8111);
		if (extra == 0) {
			assert_int_equal(dax_endpoints_rewrite(in.b, in.n,
			    identity_map, NULL, &out, &outlen, err,
			    sizeof(err)), 256);
			free(out);
			assert_int_equal(dax_endpoints_read(in.b, in.n, NULL,
			    NULL, err, sizeof(err)), 256);
		} else {
			assert_int_equal(dax_endpoints_rewrite(in.b, in.n,
			    identity_map, NULL, &out, &outlen, err,
			    sizeof(err)), -1);
			assert_null(out);
			assert_int_equal(dax_endpoints_read(in.b, in.n, NULL,
			    NULL, err, sizeof(err)), -1);
		}
	}
}

/* ---- what the gateway writes ----------------------------------------- */

static void
test_error_encode(void **state)
{
	static const int codes[] = { 4, 23, 31, 33 };
	uint8_t buf[512], *tight;
	size_t len, cap;
	struct dax_response_scan s;
	size_t used;
	struct buf want = { .n = 0 };

	(void)state;
	len = dax_error_encode(buf, sizeof(buf), codes, 4, "denied by policy",
	    "req-1", "AccessDenied", 403);
	assert_true(len > 0);
	bhex(&want, "84 04 17 18 1f 18 21");
	bstr(&want, CBOR_TEXT, "denied by policy");
	bhex(&want, "83");
	bstr(&want, CBOR_TEXT, "req-1");
	bstr(&want, CBOR_TEXT, "AccessDenied");
	bhex(&want, "19 01 93");
	assert_int_equal(len, want.n);
	assert_memory_equal(buf, want.b, len);
	/* the response scanner reads it as an error of three items, for
	 * any method, in any pieces */
	for (size_t i = 0; dax_method_at(i) != NULL; i++) {
		dax_response_init(&s, dax_method_at(i), MAX_FRAME);
		assert_int_equal(dax_response_feed(&s, buf, len, &used),
		    DAX_FRAME);
		assert_int_equal(used, len);
		assert_true(s.error);
		assert_int_equal(s.nitems, 3);
		dax_response_init(&s, dax_method_at(i), MAX_FRAME);
		for (size_t k = 0; k < len; k++) {
			enum dax_status st = dax_response_feed(&s, buf + k, 1,
			    &used);

			assert_int_equal(st, k + 1 == len ? DAX_FRAME :
			    DAX_MORE);
			assert_int_equal(used, 1);
		}
	}
	/* a buffer too small gives 0 and is never written past its end */
	for (cap = 0; cap < len; cap++) {
		tight = malloc(cap ? cap : 1);
		assert_non_null(tight);
		assert_int_equal(dax_error_encode(tight, cap, codes, 4,
		    "denied by policy", "req-1", "AccessDenied", 403), 0);
		free(tight);
	}
	for (cap = len; cap < len + 16; cap++) {
		size_t got;

		tight = malloc(cap);
		assert_non_null(tight);
		got = dax_error_encode(tight, cap, codes, 4,
		    "denied by policy", "req-1", "AccessDenied", 403);
		assert_true(got == 0 || got == len);
		if (got == len)
			assert_memory_equal(tight, want.b, len);
		free(tight);
	}
	/* no code path (a success response), a negative code: nothing */
	assert_int_equal(dax_error_encode(buf, sizeof(buf), codes, 0, "m", "r",
	    "c", 400), 0);
	{
		static const int neg[] = { 4, -1 };

		assert_int_equal(dax_error_encode(buf, sizeof(buf), neg, 2,
		    "m", "r", "c", 400), 0);
	}
	/* a long message: the 2-byte text head */
	{
		char msg[300];

		memset(msg, 'm', sizeof(msg) - 1);
		msg[sizeof(msg) - 1] = '\0';
		len = dax_error_encode(buf, sizeof(buf), codes, 1, msg, "",
		    "", 500);
		assert_true(len > 300);
		dax_response_init(&s, dax_method_find(263244906), MAX_FRAME);
		assert_int_equal(dax_response_feed(&s, buf, len, &used),
		    DAX_FRAME);
		assert_int_equal(used, len);
		assert_true(s.error);
	}
}

static void
test_preamble_encode(void **state)
{
	uint8_t buf[256], *tight;
	struct dax_framer f;
	size_t len, used, cap;
	struct buf want = { .n = 0 };

	(void)state;
	len = dax_preamble_encode(buf, sizeof(buf), "ddbgate-diag/1");
	bstr(&want, CBOR_TEXT, DAX_MAGIC);
	bhex(&want, "00 f6 a1");
	bstr(&want, CBOR_TEXT, "UserAgent");
	bstr(&want, CBOR_TEXT, "ddbgate-diag/1");
	bhex(&want, "00");
	assert_int_equal(len, want.n);
	assert_memory_equal(buf, want.b, len);
	/* the framer reads it as the preamble, then an endpoints request */
	len += dax_endpoints_request_encode(buf + len, sizeof(buf) - len);
	assert_int_equal(len, want.n + 6);
	assert_memory_equal(buf + want.n, "\x01\x1a\x1b\x2b\xcf\x02", 6);
	{
		struct run *r = frames_max(buf, len, MAX_FRAME);

		assert_int_equal(r->n, 2);
		assert_int_equal(r->r[0].kind, DAX_PREAMBLE);
		assert_int_equal(r->r[0].len, want.n);
		assert_int_equal(r->r[1].kind, DAX_ENDPOINTS);
		assert_int_equal(r->r[1].len, 6);
		free(r);
	}
	dax_framer_init(&f, MAX_FRAME);
	assert_int_equal(dax_framer_feed(&f, buf, len, &used), DAX_FRAME);
	assert_int_equal(used, want.n);
	dax_framer_free(&f);
	/* too small: 0, and nothing written past the end */
	for (cap = 0; cap < want.n; cap++) {
		tight = malloc(cap ? cap : 1);
		assert_non_null(tight);
		assert_int_equal(dax_preamble_encode(tight, cap,
		    "ddbgate-diag/1"), 0);
		free(tight);
	}
	tight = malloc(want.n);
	assert_non_null(tight);
	assert_int_equal(dax_preamble_encode(tight, want.n, "ddbgate-diag/1"),
	    want.n);
	free(tight);
	for (cap = 0; cap < 6; cap++)
		assert_int_equal(dax_endpoints_request_encode(buf, cap), 0);
	assert_int_equal(dax_endpoints_request_encode(buf, 6), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preamble),
		cmocka_unit_test(test_preamble_refused),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_auth_region),
		cmocka_unit_test(test_endpoints_and_meta),
		cmocka_unit_test(test_item_methods),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_transact),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_refused_then_more),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_max_frame),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_method_table),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_endpoints_rewrite),
		cmocka_unit_test(test_endpoints_read),
		cmocka_unit_test(test_endpoints_refused),
		cmocka_unit_test(test_endpoints_many),
		cmocka_unit_test(test_error_encode),
		cmocka_unit_test(test_preamble_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
