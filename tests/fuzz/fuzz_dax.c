/*
 * libFuzzer target for cbor and daxproto: the DAX framers are where a
 * request's extent is decided, so any disagreement between two ways of
 * reading the same bytes is a way past the policy.
 *
 * The first input byte chooses the mode (low 2 bits), a piece size
 * (next 5 bits, 1-32) and a small or a large frame limit (top bit):
 *  0  the request framer fed whole and in pieces must give exactly the
 *     same sequence of (status, frame length, kind, method, pairs,
 *     refused, access key id, region); every frame must be exactly the
 *     number of top-level items its method takes, each one well-formed
 *     by an independent recursive reader (below); a data request that
 *     is not refused names at least one table; a request frame fed on
 *     its own after a fresh preamble is the same frame;
 *  1  the response scanner, for the method the second byte chooses,
 *     likewise, and its frames hold 2, 3 or (BatchWriteItem) 4 items;
 *     a BatchGetItem frame 2 or 3 (its capacity array is an item);
 *  2  the endpoints rewriter, with a map the second byte chooses: when
 *     it succeeds, dax_endpoints_read reads its output with the same
 *     number of nodes, rewriting the output with an identity map gives
 *     the same bytes, and when the input was a whole endpoints answer to
 *     the response scanner, so is the output;
 *  3  cbor_skip_feed whole, in pieces and through cbor_skip_item agree
 *     on the outcome and the end, and agree with the recursive reader.
 * Any difference aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "daxproto.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define SMALL_FRAME 64
#define LARGE_FRAME (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- an independent reader of the accepted subset -------------------- */

enum { R_OK, R_MORE, R_ERR };

static int
ref_head(const uint8_t *p, size_t n, size_t *pos, int *major, int *ai,
    uint64_t *v)
{
	size_t extra, i;

	if (*pos >= n)
		return R_MORE;
	*major = p[*pos] >> 5;
	*ai = p[*pos] & 0x1f;
	*v = (uint64_t)*ai;
	if (*ai >= 28 && *ai <= 30)
		return R_ERR;
	if (*ai < 24 || *ai == 31) {
		(*pos)++;
		return R_OK;
	}
	extra = (size_t)1 << (*ai - 24);
	if (n - *pos < 1 + extra)
		return R_MORE;
	*v = 0;
	for (i = 0; i < extra; i++)
		*v = *v << 8 | p[*pos + 1 + i];
	*pos += 1 + extra;
	return R_OK;
}

static bool
ref_tag_ok(uint64_t t)
{
	return t == 2 || t == 3 || t == 4 || t == 5 || t == 3321 ||
	    t == 3322 || t == 3323 || t == 3324;
}

/*
 * One item at p[*pos..n) with depth containers open around it. A
 * container that opens anything (an indefinite one, or a definite one
 * with elements) may not be the (CBOR_MAX_DEPTH + 1)-th.
 */
static int
ref_item(const uint8_t *p, size_t n, size_t *pos, unsigned depth)
{
	int major, ai, st, m2, a2;
	uint64_t v, v2, i;

	if (*pos < n && p[*pos] == 0xff)
		return R_ERR;	/* a break where an item must be */
	if ((st = ref_head(p, n, pos, &major, &ai, &v)) != R_OK)
		return st;
	switch (major) {
	case 0:
	case 1:
		return ai == 31 ? R_ERR : R_OK;
	case 2:
	case 3:
		if (ai != 31) {
			if (v > n - *pos)
				return R_MORE;
			*pos += (size_t)v;
			return R_OK;
		}
		if (depth == CBOR_MAX_DEPTH)
			return R_ERR;
		for (;;) {
			if (*pos >= n)
				return R_MORE;
			if (p[*pos] == 0xff) {
				(*pos)++;
				return R_OK;
			}
			if ((st = ref_head(p, n, pos, &m2, &a2, &v2)) != R_OK)
				return st;
			if (m2 != major || a2 == 31)
				return R_ERR;
			if (v2 > n - *pos)
				return R_MORE;
			*pos += (size_t)v2;
		}
	case 4:
	case 5:
		if (ai == 31) {
			if (depth == CBOR_MAX_DEPTH)
				return R_ERR;
			for (i = 0;; i++) {
				if (*pos >= n)
					return R_MORE;
				if (p[*pos] == 0xff) {
					if (major == 5 && i % 2 == 1)
						return R_ERR;
					(*pos)++;
					return R_OK;
				}
				if ((st = ref_item(p, n, pos, depth + 1)) !=
				    R_OK)
					return st;
			}
		}
		if (v == 0)
			return R_OK;
		if (depth == CBOR_MAX_DEPTH)
			return R_ERR;
		for (i = 0; i < v; i++) {
			if ((st = ref_item(p, n, pos, depth + 1)) != R_OK)
				return st;
			if (major == 5 &&
			    (st = ref_item(p, n, pos, depth + 1)) != R_OK)
				return st;
		}
		return R_OK;
	case 6:
		if (ai == 31 || !ref_tag_ok(v))
			return R_ERR;
		if (*pos < n && p[*pos] >> 5 == 6) {
			size_t at = *pos;

			st = ref_head(p, n, &at, &m2, &a2, &v2);
			return st == R_MORE ? R_MORE : R_ERR;
		}
		return ref_item(p, n, pos, depth);
	default:
		if (ai < 20 || ai == 24 || ai == 31)
			return R_ERR;
		return R_OK;
	}
}

/* Top-level items from p[start..end): how many, all whole, or -1. */
static int
ref_count(const uint8_t *p, size_t start, size_t end)
{
	size_t pos = start;
	int k = 0;

	while (pos < end) {
		if (ref_item(p, end, &pos, 0) != R_OK)
			return -1;
		k++;
	}
	return pos == end ? k : -1;
}

/* ---- mode 0: the request framer -------------------------------------- */

struct frec {
	enum dax_status st;
	uint64_t len;
	enum dax_kind kind;
	const struct dax_method *method;
	bool refused, token;
	const char *enclosing;
	size_t npairs;
	uint64_t digest;	/* pairs, key id, region, refusal */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct frec
frame_record(const struct dax_framer *f, enum dax_status st)
{
	struct frec r;
	const struct dax_request *q = &f->req;
	uint64_t h = 0xcbf29ce484222325ull;

	memset(&r, 0, sizeof(r));
	r.st = st;
	if (st != DAX_FRAME)
		return r;
	r.len = q->len;
	r.kind = q->kind;
	r.method = q->method;
	r.refused = q->refused;
	r.token = q->session_token;
	r.enclosing = q->enclosing;
	r.npairs = q->npairs;
	CHECK(q->npairs <= DAX_MAX_PAIRS);
	for (size_t i = 0; i < q->npairs; i++) {
		const char *t = dax_pair_table(q, i);

		CHECK(q->pairs[i].action != NULL);
		CHECK(strlen(t) == q->pairs[i].table_len);
		CHECK(q->pairs[i].table_len >= 3 &&
		    q->pairs[i].table_len <= DAX_TABLE_MAX);
		h = fnv(h, q->pairs[i].action, strlen(q->pairs[i].action) + 1);
		h = fnv(h, t, q->pairs[i].table_len + 1);
	}
	CHECK(strlen(q->access_key_id) <= DAX_KEY_ID_MAX);
	h = fnv(h, q->access_key_id, strlen(q->access_key_id) + 1);
	h = fnv(h, q->region, strlen(q->region) + 1);
	h = fnv(h, q->refusal, strlen(q->refusal) + 1);
	r.digest = h;
	return r;
}

static bool
same_frec(const struct frec *a, const struct frec *b)
{
	if (a->st != b->st)
		return false;
	if (a->st != DAX_FRAME)
		return true;
	return a->len == b->len && a->kind == b->kind &&
	    a->method == b->method && a->refused == b->refused &&
	    a->token == b->token && a->enclosing == b->enclosing &&
	    a->npairs == b->npairs && a->digest == b->digest;
}

/* Feeds p[0..n) in pieces of `piece` (0: whole); returns the records. */
static size_t
frame_all(const uint8_t *p, size_t n, uint64_t max, size_t piece,
    struct frec *out, size_t *ends)
{
	struct dax_framer f;
	size_t off = 0, k = 0;
	enum dax_status st = DAX_FRAME;

	dax_framer_init(&f, max);
	while (off < n) {
		size_t end = piece == 0 || n - off < piece ? n : off + piece;
		size_t a = off;

		while (a < end) {
			size_t used = 0;

			st = dax_framer_feed(&f, p + a, end - a, &used);
			if (st == DAX_ERROR) {
				CHECK(f.err[0] != '\0');
				out[k] = frame_record(&f, st);
				ends[k++] = a;
				dax_framer_free(&f);
				return k;
			}
			if (st == DAX_MORE) {
				CHECK(used == end - a);
				a = end;
				continue;
			}
			CHECK(used >= 1 && used <= end - a);
			a += used;
			out[k] = frame_record(&f, st);
			ends[k++] = a;
		}
		off = end;
	}
	if (st == DAX_MORE) {
		out[k] = frame_record(&f, DAX_MORE);
		ends[k++] = n;
	}
	dax_framer_free(&f);
	return k;
}

static void
mode_frames(const uint8_t *p, size_t n, uint64_t max, size_t piece)
{
	struct frec *whole = calloc(n + 2, sizeof(*whole));
	struct frec *pieces = calloc(n + 2, sizeof(*pieces));
	size_t *ends = calloc(n + 2, sizeof(*ends));
	size_t *ends2 = calloc(n + 2, sizeof(*ends2));
	size_t k1, k2, i, start = 0;

	CHECK(whole && pieces && ends && ends2);
	k1 = frame_all(p, n, max, 0, whole, ends);
	k2 = frame_all(p, n, max, piece, pieces, ends2);
	CHECK(k1 == k2);
	for (i = 0; i < k1; i++) {
		CHECK(same_frec(&whole[i], &pieces[i]));
		if (whole[i].st != DAX_FRAME)
			continue;
		CHECK(ends[i] == ends2[i]);
		CHECK(whole[i].len == ends[i] - start);
		CHECK(whole[i].len <= max);
		/* exactly the items the method takes, each well-formed */
		if (whole[i].kind == DAX_PREAMBLE) {
			CHECK(i == 0);
			CHECK(whole[i].method == NULL);
			CHECK(ref_count(p, start, ends[i]) == 5);
		} else {
			CHECK(i > 0);
			CHECK(whole[i].method != NULL);
			CHECK(whole[i].kind == whole[i].method->kind);
			CHECK(ref_count(p, start, ends[i]) ==
			    2 + (int)strlen(whole[i].method->args));
		}
		/* a data request the session lets through names a table */
		if (whole[i].kind == DAX_DATA && !whole[i].refused)
			CHECK(whole[i].npairs >= 1);
		if (whole[i].kind != DAX_DATA)
			CHECK(whole[i].npairs == 0);
		/* the same frame on its own, after a fresh preamble */
		if (whole[i].kind != DAX_PREAMBLE) {
			struct dax_framer f;
			uint8_t pre[64];
			size_t pl = dax_preamble_encode(pre, sizeof(pre), "f"),
			    used = 0;
			struct frec r;

			CHECK(pl > 0);
			dax_framer_init(&f, max);
			CHECK(dax_framer_feed(&f, pre, pl, &used) == DAX_FRAME);
			CHECK(used == pl);
			CHECK(dax_framer_feed(&f, p + start, ends[i] - start,
			    &used) == DAX_FRAME);
			CHECK(used == ends[i] - start);
			r = frame_record(&f, DAX_FRAME);
			CHECK(same_frec(&r, &whole[i]));
			dax_framer_free(&f);
		}
		start = ends[i];
	}
	free(whole);
	free(pieces);
	free(ends);
	free(ends2);
}

/* ---- mode 1: the response scanner ------------------------------------ */

struct rrec {
	enum dax_status st;
	size_t end;
	bool error;
	unsigned nitems;
};

static size_t
respond_all(const struct dax_method *m, const uint8_t *p, size_t n,
    uint64_t max, size_t piece, struct rrec *out)
{
	struct dax_response_scan s;
	size_t off = 0, k = 0;
	enum dax_status st = DAX_FRAME;

	dax_response_init(&s, m, max);
	while (off < n) {
		size_t end = piece == 0 || n - off < piece ? n : off + piece;
		size_t a = off;

		while (a < end) {
			size_t used = 0;

			st = dax_response_feed(&s, p + a, end - a, &used);
			if (st == DAX_ERROR) {
				CHECK(s.err[0] != '\0');
				out[k].st = st;
				out[k].end = 0;
				out[k].error = false;
				out[k++].nitems = 0;
				return k;
			}
			if (st == DAX_MORE) {
				CHECK(used == end - a);
				a = end;
				continue;
			}
			CHECK(used >= 1 && used <= end - a);
			a += used;
			out[k].st = st;
			out[k].end = a;
			out[k].error = s.error;
			out[k++].nitems = s.nitems;
			dax_response_init(&s, m, max);
		}
		off = end;
	}
	if (st == DAX_MORE) {
		out[k].st = DAX_MORE;
		out[k].end = n;
		out[k].error = false;
		out[k++].nitems = 0;
	}
	return k;
}

static void
mode_responses(const struct dax_method *m, const uint8_t *p, size_t n,
    uint64_t max, size_t piece)
{
	struct rrec *whole = calloc(n + 2, sizeof(*whole));
	struct rrec *pieces = calloc(n + 2, sizeof(*pieces));
	size_t k1, k2, i, start = 0;

	CHECK(whole && pieces);
	k1 = respond_all(m, p, n, max, 0, whole);
	k2 = respond_all(m, p, n, max, piece, pieces);
	CHECK(k1 == k2);
	for (i = 0; i < k1; i++) {
		int items;

		CHECK(whole[i].st == pieces[i].st);
		if (whole[i].st != DAX_FRAME)
			continue;
		CHECK(whole[i].end == pieces[i].end);
		CHECK(whole[i].error == pieces[i].error);
		CHECK(whole[i].nitems == pieces[i].nitems);
		CHECK(whole[i].end - start <= max);
		items = ref_count(p, start, whole[i].end);
		CHECK(items == (int)whole[i].nitems);
		if (whole[i].error)
			CHECK(items == 3);
		else if (strcmp(m->name, "BatchWriteItem") == 0)
			CHECK(items == 2 || items == 4);
		else if (strcmp(m->name, "BatchGetItem") == 0)
			CHECK(items == 2 || items == 3);
		else
			CHECK(items == 2);
		{
			struct cbor_head h;
			const char *e = NULL;

			CHECK(cbor_head_decode(p + start, whole[i].end - start,
			    &h, &e) == CBOR_OK);
			CHECK(h.major == CBOR_ARRAY && !h.indefinite);
			CHECK(whole[i].error == (h.value > 0));
		}
		start = whole[i].end;
	}
	free(whole);
	free(pieces);
}

/* ---- mode 2: endpoints answers --------------------------------------- */

struct fmap {
	uint8_t how;
	int calls;
};

static int
fuzz_map(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *out)
{
	struct fmap *m = arg;
	int i = m->calls++;

	CHECK(node->addrlen == 4 || node->addrlen == 16);
	CHECK(node->port >= 1);
	if ((m->how & 1) && (node->port & 1))
		return -1;			/* leave out odd ports */
	if ((m->how & 2) && i % 3 == 1)
		return -1;
	memset(out, 0, sizeof(*out));
	if (m->how & 4) {			/* all to one IPv6 listener */
		out->addrlen = 16;
		out->addr[15] = 1;
		out->port = 65535;
	} else {
		out->addrlen = 4;
		out->addr[0] = 127;
		out->addr[3] = (uint8_t)i;
		out->port = (uint16_t)(1 + (i * 7919) % 65535);
	}
	return 0;
}

static int
same_map(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *out)
{
	int *calls = arg;

	(*calls)++;
	*out = *node;
	return 0;
}

/* Whether p[0..n) is exactly one endpoints answer to the scanner. */
static bool
one_answer(const uint8_t *p, size_t n)
{
	struct dax_response_scan s;
	size_t used = 0;

	dax_response_init(&s, dax_method_find(455855874), LARGE_FRAME);
	return dax_response_feed(&s, p, n, &used) == DAX_FRAME &&
	    used == n && !s.error;
}

static void
mode_endpoints(const uint8_t *p, size_t n, uint8_t how)
{
	struct fmap m = { how, 0 };
	uint8_t *out = NULL, *again = NULL, *all = NULL;
	size_t outlen = 0, againlen = 0, alllen = 0;
	char err[200];
	int kept, nread, nall, calls = 0, ncalls = 0;

	kept = dax_endpoints_rewrite(p, n, fuzz_map, &m, &out, &outlen, err,
	    sizeof(err));
	nread = dax_endpoints_read(p, n, same_map, &ncalls, err, sizeof(err));
	nall = dax_endpoints_rewrite(p, n, same_map, &calls, &all, &alllen,
	    err, sizeof(err));
	/* the reader and both rewrites accept the same answers */
	CHECK((kept < 0) == (nread < 0));
	CHECK(nall == nread);
	if (kept < 0) {
		CHECK(out == NULL);
		CHECK(all == NULL);
		return;
	}
	CHECK(ncalls == nread);
	CHECK(calls == nread);
	CHECK(m.calls == nread);
	CHECK(kept <= nread);
	/* the output reads back with the same nodes */
	CHECK(dax_endpoints_read(out, outlen, NULL, NULL, err,
	    sizeof(err)) == kept);
	/* and is a fixed point of an identity rewrite */
	calls = 0;
	CHECK(dax_endpoints_rewrite(out, outlen, same_map, &calls, &again,
	    &againlen, err, sizeof(err)) == kept);
	CHECK(againlen == outlen && memcmp(again, out, outlen) == 0);
	/* the identity rewrite of the input also is one */
	free(again);
	again = NULL;
	calls = 0;
	CHECK(dax_endpoints_rewrite(all, alllen, same_map, &calls, &again,
	    &againlen, err, sizeof(err)) == nall);
	CHECK(againlen == alllen && memcmp(again, all, alllen) == 0);
	/* a whole answer to the scanner gives a whole answer back */
	if (one_answer(p, n)) {
		CHECK(one_answer(out, outlen));
		CHECK(one_answer(all, alllen));
	}
	free(out);
	free(again);
	free(all);
}

/* ---- mode 3: the skipper against itself and the recursive reader ---- */

static void
mode_cbor(const uint8_t *p, size_t n, uint64_t limit, size_t piece)
{
	struct cbor_skip s;
	struct cbor_reader r;
	enum cbor_status whole, st = CBOR_MORE;
	size_t used = 0, end = 0, off = 0, pos = 0;
	int ref;

	/* whole, with the limit the first byte chose */
	cbor_skip_init(&s, limit);
	whole = cbor_skip_feed(&s, p, n, &used);
	CHECK(used <= n);
	if (whole == CBOR_OK)
		end = used;
	if (whole == CBOR_MORE)
		CHECK(used == n);
	/* in pieces */
	cbor_skip_init(&s, limit);
	while (off < n) {
		size_t k = n - off < piece ? n - off : piece, u = 0;

		st = cbor_skip_feed(&s, p + off, k, &u);
		CHECK(u <= k);
		if (st != CBOR_MORE) {
			off += u;
			break;
		}
		CHECK(u == k);
		off += k;
	}
	CHECK(st == whole);
	if (whole == CBOR_OK)
		CHECK(off == end);
	/* the reader's cbor_skip_item, whose limit is what is left */
	cbor_reader_init(&r, p, n);
	cbor_skip_init(&s, n);
	whole = cbor_skip_feed(&s, p, n, &used);
	st = cbor_skip_item(&r);
	CHECK((st == CBOR_OK) == (whole == CBOR_OK));
	if (st == CBOR_OK)
		CHECK(r.pos == used);
	else
		CHECK(r.pos == 0 && r.err != NULL);
	/* the recursive reader */
	ref = ref_item(p, n, &pos, 0);
	if (ref == R_OK) {
		CHECK(whole == CBOR_OK && used == pos);
	} else {
		CHECK(whole != CBOR_OK);
		if (ref == R_ERR)
			CHECK(whole == CBOR_ERROR);
	}
	cbor_skip_init(&s, UINT64_MAX);
	st = cbor_skip_feed(&s, p, n, &used);
	if (ref == R_OK)
		CHECK(st == CBOR_OK && used == pos);
	else if (ref == R_ERR)
		CHECK(st == CBOR_ERROR);
	else
		CHECK(st == CBOR_MORE || (st == CBOR_ERROR &&
		    strcmp(s.err, "an item larger than the limit") == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode, sel;
	size_t piece;
	uint64_t max;

	if (size < 2)
		return 0;
	mode = data[0] & 3;
	piece = (size_t)((data[0] >> 2) & 0x1f) + 1;
	max = (data[0] & 0x80) ? SMALL_FRAME : LARGE_FRAME;
	sel = data[1];
	switch (mode) {
	case 0:
		mode_frames(data + 1, size - 1, max, piece);
		break;
	case 1: {
		const struct dax_method *m = dax_method_at(sel % 15);

		CHECK(m != NULL);
		mode_responses(m, data + 2, size - 2, max, piece);
		break;
	}
	case 2:
		mode_endpoints(data + 2, size - 2, sel);
		break;
	default:
		mode_cbor(data + 1, size - 1, (data[0] & 0x80) ? size / 2 :
		    UINT64_MAX, piece);
		break;
	}
	return 0;
}
