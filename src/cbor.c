/*
 * cbor — see cbor.h. One head decoder; the streaming skipper and the
 * in-memory reader both go through it, so they accept the same items.
 */
#include <string.h>

#include "cbor.h"

bool
cbor_tag_allowed(uint64_t t)
{
	return (t >= 2 && t <= 5) || (t >= 3321 && t <= 3324);
}

enum cbor_status
cbor_head_decode(const uint8_t *p, size_t n, struct cbor_head *h,
    const char **err)
{
	uint8_t ai, extra;

	if (n == 0)
		return CBOR_MORE;
	memset(h, 0, sizeof(*h));
	h->major = (enum cbor_major)(p[0] >> 5);
	h->ai = ai = p[0] & 0x1f;
	if (p[0] == 0xff) {
		h->is_break = true;
		h->len = 1;
		return CBOR_OK;
	}
	if (ai < 24) {
		h->value = ai;
		h->len = 1;
	} else if (ai <= 27) {
		extra = (uint8_t)(1u << (ai - 24));
		if (n < 1u + extra)
			return CBOR_MORE;
		for (uint8_t i = 0; i < extra; i++)
			h->value = h->value << 8 | p[1 + i];
		h->len = (uint8_t)(1 + extra);
	} else if (ai < 31) {
		*err = "reserved additional information (28-30)";
		return CBOR_ERROR;
	} else {
		if (h->major != CBOR_BYTES && h->major != CBOR_TEXT &&
		    h->major != CBOR_ARRAY && h->major != CBOR_MAP) {
			*err = "indefinite length on an integer, tag or "
			    "simple value";
			return CBOR_ERROR;
		}
		h->indefinite = true;
		h->len = 1;
	}
	if (h->major == CBOR_SIMPLE && ai < 25 &&
	    (ai < CBOR_FALSE || ai > CBOR_UNDEFINED)) {
		*err = "a simple value other than false, true, null or "
		    "undefined";
		return CBOR_ERROR;
	}
	return CBOR_OK;
}

size_t
cbor_put_head(uint8_t *out, enum cbor_major major, uint64_t value)
{
	uint8_t ib = (uint8_t)(major << 5);
	size_t extra, i;

	if (value < 24) {
		out[0] = ib | (uint8_t)value;
		return 1;
	}
	if (value <= 0xff) {
		out[0] = ib | 24;
		extra = 1;
	} else if (value <= 0xffff) {
		out[0] = ib | 25;
		extra = 2;
	} else if (value <= 0xffffffffu) {
		out[0] = ib | 26;
		extra = 4;
	} else {
		out[0] = ib | 27;
		extra = 8;
	}
	for (i = 0; i < extra; i++)
		out[1 + i] = (uint8_t)(value >> (8 * (extra - 1 - i)));
	return 1 + extra;
}

/* ---- streaming -------------------------------------------------------- */

void
cbor_skip_init(struct cbor_skip *s, uint64_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit;
}

static enum cbor_status
skip_error(struct cbor_skip *s, const char *why)
{
	s->err = why;
	return CBOR_ERROR;
}

/*
 * An item (scalar, string, or container) is complete: count it in the
 * enclosing containers, closing those it completes. CBOR_OK when it was
 * the top-level item.
 */
static enum cbor_status
item_done(struct cbor_skip *s)
{
	while (s->depth > 0) {
		struct cbor_frame *top = &s->stack[s->depth - 1];

		if (top->string)
			return CBOR_MORE; /* a chunk: the string goes on */
		if (top->indefinite) {
			top->odd = !top->odd;
			return CBOR_MORE;
		}
		if (--top->left > 0)
			return CBOR_MORE;
		s->depth--; /* the container is complete in turn */
	}
	return CBOR_OK;
}

static enum cbor_status
push(struct cbor_skip *s, const struct cbor_head *h)
{
	struct cbor_frame *f;

	if (s->depth == CBOR_MAX_DEPTH)
		return skip_error(s, "nested too deep");
	f = &s->stack[s->depth++];
	memset(f, 0, sizeof(*f));
	f->indefinite = h->indefinite;
	f->major = (uint8_t)h->major;
	f->string = h->major == CBOR_BYTES || h->major == CBOR_TEXT;
	f->map = h->major == CBOR_MAP;
	f->left = h->major == CBOR_MAP ? h->value * 2 : h->value;
	return CBOR_MORE;
}

/* One head read whole: what it opens, or what it completes. */
static enum cbor_status
on_head(struct cbor_skip *s, const struct cbor_head *h)
{
	struct cbor_frame *top = s->depth ? &s->stack[s->depth - 1] : NULL;

	if (h->is_break) {
		if (top == NULL || !top->indefinite || s->pending_tag)
			return skip_error(s, "a break outside an "
			    "indefinite-length item");
		if (top->map && top->odd)
			return skip_error(s, "a map key without a value");
		s->depth--;
		return item_done(s);
	}
	if (top != NULL && top->string) {
		if (h->major != top->major || h->indefinite)
			return skip_error(s, "a chunk of an indefinite-length "
			    "string that is not a definite string of its "
			    "type");
	}
	if (s->pending_tag && h->major == CBOR_TAG)
		return skip_error(s, "a tag on a tag");
	s->pending_tag = false;
	switch (h->major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
	case CBOR_SIMPLE:
		return item_done(s);
	case CBOR_TAG:
		if (!cbor_tag_allowed(h->value))
			return skip_error(s, "a tag DAX does not use");
		s->pending_tag = true;
		return CBOR_MORE;
	case CBOR_BYTES:
	case CBOR_TEXT:
		if (h->indefinite)
			return push(s, h);
		if (h->value > s->limit - s->used)
			return skip_error(s, "an item larger than the limit");
		s->payload = h->value;
		return s->payload == 0 ? item_done(s) : CBOR_MORE;
	case CBOR_ARRAY:
	case CBOR_MAP:
		if (h->indefinite)
			return push(s, h);
		/* every element takes a byte at least */
		if (h->value > (s->limit - s->used) /
		    (h->major == CBOR_MAP ? 2 : 1))
			return skip_error(s, "an item larger than the limit");
		if (h->value == 0)
			return item_done(s);
		return push(s, h);
	}
	return skip_error(s, "unreachable");
}

enum cbor_status
cbor_skip_feed(struct cbor_skip *s, const uint8_t *p, size_t n, size_t *used)
{
	size_t off = 0;

	while (off < n) {
		struct cbor_head h;
		enum cbor_status st;
		uint8_t tmp[9];
		size_t k, take;

		if (s->payload > 0) {
			take = n - off < s->payload ? n - off : (size_t)s->payload;
			s->payload -= take;
			s->used += take;
			off += take;
			if (s->payload > 0)
				break;
			if ((st = item_done(s)) != CBOR_MORE) {
				*used = off;
				return st;
			}
			continue;
		}
		k = n - off < sizeof(tmp) - s->npart ? n - off :
		    sizeof(tmp) - s->npart;
		memcpy(tmp, s->part, s->npart);
		memcpy(tmp + s->npart, p + off, k);
		st = cbor_head_decode(tmp, s->npart + k, &h, &s->err);
		if (st == CBOR_MORE) {
			/* k is all that is left of p */
			memcpy(s->part + s->npart, p + off, k);
			s->npart = (uint8_t)(s->npart + k);
			s->used += k;
			off += k;
			break;
		}
		if (st == CBOR_ERROR) {
			*used = off;
			return CBOR_ERROR;
		}
		take = h.len - s->npart;
		s->npart = 0;
		s->used += take;
		off += take;
		if (s->used > s->limit) {
			*used = off;
			return skip_error(s, "an item larger than the limit");
		}
		if ((st = on_head(s, &h)) != CBOR_MORE) {
			*used = off;
			return st;
		}
	}
	*used = n;
	if (s->used > s->limit)
		return skip_error(s, "an item larger than the limit");
	return CBOR_MORE;
}

/* ---- in memory -------------------------------------------------------- */

void
cbor_reader_init(struct cbor_reader *r, const void *p, size_t n)
{
	r->p = p;
	r->n = n;
	r->pos = 0;
	r->err = NULL;
}

enum cbor_status
cbor_peek(struct cbor_reader *r, struct cbor_head *h)
{
	enum cbor_status st = cbor_head_decode(r->p + r->pos, r->n - r->pos, h,
	    &r->err);

	if (st == CBOR_MORE) {
		r->err = "truncated item";
		return CBOR_ERROR;
	}
	return st;
}

enum cbor_status
cbor_read_head(struct cbor_reader *r, struct cbor_head *h)
{
	if (cbor_peek(r, h) != CBOR_OK)
		return CBOR_ERROR;
	r->pos += h->len;
	return CBOR_OK;
}

enum cbor_status
cbor_read_string(struct cbor_reader *r, enum cbor_major major,
    const uint8_t **data, size_t *len)
{
	struct cbor_head h;

	if (cbor_peek(r, &h) != CBOR_OK)
		return CBOR_ERROR;
	if (h.major != major || h.indefinite || h.is_break) {
		r->err = major == CBOR_TEXT ? "not a definite text string" :
		    "not a definite byte string";
		return CBOR_ERROR;
	}
	if (h.value > r->n - r->pos - h.len) {
		r->err = "truncated item";
		return CBOR_ERROR;
	}
	r->pos += h.len;
	*data = r->p + r->pos;
	*len = (size_t)h.value;
	r->pos += (size_t)h.value;
	return CBOR_OK;
}

enum cbor_status
cbor_read_int(struct cbor_reader *r, int64_t *v)
{
	struct cbor_head h;

	if (cbor_peek(r, &h) != CBOR_OK)
		return CBOR_ERROR;
	if ((h.major != CBOR_UINT && h.major != CBOR_NEGINT) || h.is_break) {
		r->err = "not an integer";
		return CBOR_ERROR;
	}
	if (h.value > INT64_MAX) {
		r->err = "an integer out of range";
		return CBOR_ERROR;
	}
	*v = h.major == CBOR_UINT ? (int64_t)h.value : -1 - (int64_t)h.value;
	r->pos += h.len;
	return CBOR_OK;
}

enum cbor_status
cbor_read_container(struct cbor_reader *r, enum cbor_major major,
    size_t *count)
{
	struct cbor_head h;

	if (cbor_peek(r, &h) != CBOR_OK)
		return CBOR_ERROR;
	if (h.major != major || h.is_break) {
		r->err = major == CBOR_MAP ? "not a map" : "not an array";
		return CBOR_ERROR;
	}
	/* every element takes a byte at least; and a count of 2^64-1 must
	 * not pass for CBOR_INDEFINITE */
	if (!h.indefinite && h.value > r->n - r->pos - h.len) {
		r->err = "truncated item";
		return CBOR_ERROR;
	}
	r->pos += h.len;
	*count = h.indefinite ? CBOR_INDEFINITE : (size_t)h.value;
	return CBOR_OK;
}

bool
cbor_container_end(struct cbor_reader *r, size_t count, size_t i)
{
	struct cbor_head h;

	if (count != CBOR_INDEFINITE)
		return i == count;
	if (cbor_peek(r, &h) == CBOR_OK && h.is_break) {
		r->pos += 1;
		return true;
	}
	return false;
}

enum cbor_status
cbor_skip_item(struct cbor_reader *r)
{
	struct cbor_skip s;
	size_t used = 0;
	enum cbor_status st;

	cbor_skip_init(&s, r->n - r->pos);
	st = cbor_skip_feed(&s, r->p + r->pos, r->n - r->pos, &used);
	if (st == CBOR_OK) {
		r->pos += used;
		return CBOR_OK;
	}
	r->err = st == CBOR_MORE ? "truncated item" : s.err;
	return CBOR_ERROR;
}
