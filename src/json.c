/*
 * json — a strict JSON reader (RFC 8259) building a compact tree in an
 * arena. See json.h for the contract and what it accepts.
 *
 * The reader is iterative: a stack of open containers (frames) and, on
 * a second stack, the children read so far of every open container.
 * When a container closes, its children are copied into the arena in
 * one block, so an array is a plain array of values and an object one
 * of members, in document order. Deep nesting costs heap, never C stack.
 *
 * Repeated names: an object of up to JSON_SMALL_OBJECT members is
 * checked pair by pair when it closes; a bigger one is sorted by name (a
 * merge sort, O(n log n) whatever the names) and the sorted order kept
 * as its index for json_get. Checking at the close instead of at each
 * name changes nothing for valid input; for input that is invalid too,
 * jansson reports the repeated name when it comes first in the text, so
 * on any other error the open objects are checked before answering.
 */
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define LOCAL_SLOTS 64
#define LOCAL_FRAMES 32
#define NUMBER_BUF 64
#define PIECE_MIN 1024		/* bytes taken from the arena at a time */
#define PIECE_MAX (64 * 1024)

/* One open container. */
struct frame {
	size_t start;		/* its first child on the slot stack */
	bool object;
};

struct parser {
	const unsigned char *buf, *p, *end;
	struct arena *arena;
	struct json_member *slots;	/* children of the open containers;
					   array items have a NULL name */
	size_t nslots, slots_cap;
	struct frame *frames;
	size_t depth, frames_cap;
	const struct json_member **tmp;	/* merge sort buffer (heap) */
	size_t tmp_cap;
	size_t at;			/* error position */
	char *cur;			/* free room of the current piece */
	size_t left;
	size_t piece;			/* size of the next piece */
	struct json_member local_slots[LOCAL_SLOTS];
	struct frame local_frames[LOCAL_FRAMES];
};

/*
 * Bytes copied as they are inside a string: printable ASCII but the
 * quote and the backslash. The rest (controls, escapes, UTF-8 lead
 * bytes) leaves the fast loop.
 */
static const unsigned char plain[256] = {
	[0x20] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \ */, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 /* DEL */,
};

/*
 * Allocation from pieces of the arena, so that the many small blocks of
 * a tree (a string, a container's children) cost a pointer bump: n bytes
 * at a multiple of align (a power of two, at most 16), or NULL.
 */
static void *
take(struct parser *ps, size_t n, size_t align)
{
	size_t pad = (size_t)(-(uintptr_t)ps->cur) & (align - 1), size;
	char *p;

	if (ps->left < n || ps->left - n < pad) {
		size = n > ps->piece ? n : ps->piece;
		if ((ps->cur = arena_alloc(ps->arena, size)) == NULL)
			return NULL;
		ps->left = size;
		pad = 0;
		if (ps->piece < PIECE_MAX)
			ps->piece *= 2;
	}
	p = ps->cur + pad;
	ps->cur = p + n;
	ps->left -= n + pad;
	return p;
}

/* Records an error at byte q (one past it, as jansson counts). */
static enum json_status
fail_at(struct parser *ps, const unsigned char *q)
{
	size_t len = (size_t)(ps->end - ps->buf), at = (size_t)(q - ps->buf);

	ps->at = at < len ? at + 1 : len;
	return JSON_PARSE_SYNTAX;
}

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && is_ws(*ps->p))
		ps->p++;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The length of the well-formed UTF-8 sequence at q (Unicode 15, table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 * q[0] is not ASCII.
 */
static size_t
utf8_len(const unsigned char *q, const unsigned char *end)
{
	unsigned char c = q[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if ((size_t)(end - q) < n || q[1] < lo || q[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (q[i] < 0x80 || q[i] > 0xbf)
			return 0;
	}
	return n;
}

static int
hex4(const unsigned char *q, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	for (i = 0; i < 4; i++) {
		if (is_digit(q[i]))
			d = q[i] - '0';
		else if ((q[i] | 0x20) >= 'a' && (q[i] | 0x20) <= 'f')
			d = (unsigned)(q[i] | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(unsigned char *w, unsigned cp)
{
	if (cp < 0x80) {
		w[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (unsigned char)(0xc0 | cp >> 6);
		w[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (unsigned char)(0xe0 | cp >> 12);
		w[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		w[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (unsigned char)(0xf0 | cp >> 18);
	w[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	w[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	w[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A \u escape at q (q[0] is the backslash, q + 6 <= stop): the code
 * point, joined with a following \u low surrogate when it is a high one.
 * U+0000 and lone surrogates are refused, as jansson does. Returns the
 * bytes consumed, 0 on error.
 */
static size_t
unicode_escape(const unsigned char *q, const unsigned char *stop,
    unsigned *cp)
{
	unsigned lo;

	if (hex4(q + 2, cp) == -1 || *cp == 0 ||
	    (*cp >= 0xdc00 && *cp <= 0xdfff))
		return 0;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 6;
	if (stop - q < 12 || q[6] != '\\' || q[7] != 'u' ||
	    hex4(q + 8, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 12;
}

/*
 * Decodes the rest of a string with escapes, from q (at a backslash) to
 * stop (its closing quote), writing at w. Returns the end of what was
 * written, or NULL with the error recorded.
 */
static unsigned char *
decode_escaped(struct parser *ps, const unsigned char *q,
    const unsigned char *stop, unsigned char *w)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned cp;
	size_t n;

	while (q < stop) {
		if (plain[*q]) {
			*w++ = *q++;
		} else if (*q >= 0x80) {
			if ((n = utf8_len(q, stop)) == 0)
				return fail_at(ps, q), NULL;
			memcpy(w, q, n);
			w += n;
			q += n;
		} else if (*q != '\\') {
			return fail_at(ps, q), NULL;	/* a control */
		} else if (q[1] == 'u') {
			if (stop - q < 6 || (n = unicode_escape(q, stop,
			    &cp)) == 0)
				return fail_at(ps, q + 1), NULL;
			w += put_utf8(w, cp);
			q += n;
		} else {
			if (q[1] == '\0' || (e = strchr(from, q[1])) == NULL)
				return fail_at(ps, q + 1), NULL;
			*w++ = (unsigned char)to[e - from];
			q += 2;
		}
	}
	return w;
}

/* Whether one of the 8 bytes of x is below 0x20 or above 0x7f, or is
   '"' or '\\' (no false negative; a false positive costs a byte loop). */
static inline bool
special8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');

	return (((x - ones * 0x20) | (quote - ones) | (bslash - ones)) &
	    ~x & high) != 0 || (x & high) != 0;
}

/* The end of the run of plain bytes at q: 8 at a time, then 1. */
static inline const unsigned char *
plain_run(const unsigned char *q, const unsigned char *end)
{
	uint64_t x;

	while (end - q >= 8) {
		memcpy(&x, q, sizeof(x));
		if (special8(x))
			break;
		q += 8;
	}
	while (q < end && plain[*q])
		q++;
	return q;
}

/*
 * A string at ps->p (its opening quote), unescaped into the arena. The
 * common case, no escape, is one scan and one copy.
 */
static enum json_status
parse_string(struct parser *ps, const char **out, size_t *len)
{
	const unsigned char *s = ps->p + 1, *q = s, *stop;
	unsigned char *w, *wend;
	size_t n;

	for (;;) {
		q = plain_run(q, ps->end);
		if (q == ps->end)
			return fail_at(ps, q);
		if (*q == '"' || *q == '\\')
			break;
		if (*q < 0x80 || (n = utf8_len(q, ps->end)) == 0)
			return fail_at(ps, q);
		q += n;
	}
	if (*q == '"') {
		if ((w = take(ps, (size_t)(q - s) + 1, 1)) == NULL)
			return JSON_PARSE_NOMEM;
		memcpy(w, s, (size_t)(q - s));
		w[q - s] = '\0';
		*out = (const char *)w;
		*len = (size_t)(q - s);
		ps->p = q + 1;
		return JSON_PARSE_OK;
	}
	/* An escape: find the closing quote, then decode (never longer). */
	for (stop = q; stop < ps->end && *stop != '"'; stop++) {
		if (*stop == '\\' && ++stop == ps->end)
			break;
	}
	if (stop >= ps->end)
		return fail_at(ps, ps->end);
	if ((w = take(ps, (size_t)(stop - s) + 1, 1)) == NULL)
		return JSON_PARSE_NOMEM;
	memcpy(w, s, (size_t)(q - s));
	if ((wend = decode_escaped(ps, q, stop, w + (q - s))) == NULL)
		return JSON_PARSE_SYNTAX;
	*wend = '\0';
	*out = (const char *)w;
	*len = (size_t)(wend - w);
	ps->p = stop + 1;
	return JSON_PARSE_OK;
}

/* An integer's text (no fraction, no exponent) if it fits a long long. */
static int
integer_value(const unsigned char *q, const unsigned char *end,
    long long *out)
{
	bool neg = *q == '-';
	unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 :
	    (unsigned long long)LLONG_MAX, v = 0;
	unsigned d;

	for (q += neg; q < end; q++) {
		d = (unsigned)(*q - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	/* Two's complement: -(LLONG_MAX + 1) has no positive twin. */
	*out = neg ? (v == 0 ? 0 : -(long long)(v - 1) - 1) : (long long)v;
	return 0;
}

/*
 * A real's value. strtod() reads the C locale's decimal point, which is
 * '.' (ddbgate never calls setlocale). A real beyond the range of a
 * double is an error (jansson's "real number overflow"); one too small
 * becomes 0 or a subnormal, as with jansson.
 */
static int
real_value(struct parser *ps, const unsigned char *q, size_t len,
    double *out)
{
	char local[NUMBER_BUF], *text = local;

	if (len >= sizeof(local) && (text = take(ps, len + 1, 1)) == NULL)
		return -2;
	memcpy(text, q, len);
	text[len] = '\0';
	*out = strtod(text, NULL);
	return isinf(*out) ? -1 : 0;
}

/* A number at ps->p: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum json_status
parse_number(struct parser *ps, struct json_value *v)
{
	const unsigned char *s = ps->p, *q = s, *end = ps->end;
	bool real = false;
	int rv;

	if (*q == '-')
		q++;
	if (q == end || !is_digit(*q))
		return fail_at(ps, q);
	if (*q++ != '0') {
		while (q < end && is_digit(*q))
			q++;
	}
	if (q < end && *q == '.') {
		if (++q == end || !is_digit(*q))
			return fail_at(ps, q);
		while (q < end && is_digit(*q))
			q++;
		real = true;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		if (++q < end && (*q == '+' || *q == '-'))
			q++;
		if (q == end || !is_digit(*q))
			return fail_at(ps, q);
		while (q < end && is_digit(*q))
			q++;
		real = true;
	}
	ps->p = q;
	if (!real) {
		v->kind = JSON_KIND_INTEGER;
		if (integer_value(s, q, &v->u.integer) == -1)
			return fail_at(ps, q - 1);
		return JSON_PARSE_OK;
	}
	v->kind = JSON_KIND_REAL;
	if ((rv = real_value(ps, s, (size_t)(q - s), &v->u.real)) == -2)
		return JSON_PARSE_NOMEM;
	return rv == -1 ? fail_at(ps, q - 1) : JSON_PARSE_OK;
}

/* true, false or null at ps->p. */
static enum json_status
parse_literal(struct parser *ps, struct json_value *v)
{
	static const struct {
		const char *text;
		size_t len;
		enum json_kind kind;
	} words[] = {
		{ "true", 4, JSON_KIND_TRUE },
		{ "false", 5, JSON_KIND_FALSE },
		{ "null", 4, JSON_KIND_NULL },
	};
	size_t i, left = (size_t)(ps->end - ps->p);

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (left >= words[i].len &&
		    memcmp(ps->p, words[i].text, words[i].len) == 0) {
			v->kind = words[i].kind;
			ps->p += words[i].len;
			return JSON_PARSE_OK;
		}
	}
	return fail_at(ps, ps->p);
}

static enum json_status
parse_scalar(struct parser *ps, struct json_value *v)
{
	switch (*ps->p) {
	case '"':
		v->kind = JSON_KIND_STRING;
		return parse_string(ps, &v->u.string, &v->len);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(ps, v);
	default:
		return parse_literal(ps, v);
	}
}

/* Grows a stack that starts in the parser itself; -1 when out. */
static int
grow(void **items, size_t *cap, size_t size, const void *local)
{
	size_t ncap = *cap * 2;
	void *p;

	if (ncap > SIZE_MAX / size / 2)
		return -1;
	if (*items == local) {
		if ((p = malloc(ncap * size)) == NULL)
			return -1;
		memcpy(p, *items, *cap * size);
	} else if ((p = realloc(*items, ncap * size)) == NULL)
		return -1;
	*items = p;
	*cap = ncap;
	return 0;
}

/* A new slot for the next child, named name (NULL in an array). */
static inline struct json_member *
push_slot(struct parser *ps, const char *name, size_t name_len)
{
	struct json_member *m;

	if (ps->nslots == ps->slots_cap && grow((void **)&ps->slots,
	    &ps->slots_cap, sizeof(*ps->slots), ps->local_slots) == -1)
		return NULL;
	m = &ps->slots[ps->nslots++];
	m->name = name;
	m->name_len = name_len;
	m->value.len = 0;
	m->value.u.items = NULL;
	m->value.sorted = NULL;
	return m;
}

static enum json_status
open_container(struct parser *ps)
{
	struct frame *f;

	if (ps->depth == ps->frames_cap && grow((void **)&ps->frames,
	    &ps->frames_cap, sizeof(*ps->frames), ps->local_frames) == -1)
		return JSON_PARSE_NOMEM;
	f = &ps->frames[ps->depth++];
	f->object = *ps->p == '{';
	f->start = ps->nslots;
	ps->p++;
	return JSON_PARSE_OK;
}

/* The total order of names: by length, then bytes. */
static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int
member_cmp(const struct json_member *a, const struct json_member *b)
{
	return name_cmp(a->name, a->name_len, b->name, b->name_len);
}

/* Sorts v[0..n) by name, using tmp[0..n) as room. */
static void
sort_members(const struct json_member **v, const struct json_member **tmp,
    size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort_members(v, tmp, h);
	sort_members(v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = member_cmp(v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	/* v[j..n) is already in place. */
	memcpy(v, tmp, k * sizeof(*v));
}

/*
 * Whether members m[0..n) repeat a name. A big object gets its sorted
 * index in the arena (*sorted, when sorted is not NULL); -1 when memory
 * is out.
 */
static int
has_repeats(struct parser *ps, const struct json_member *m, size_t n,
    const struct json_member *const **sorted)
{
	const struct json_member **v;
	size_t i, j;

	if (n <= JSON_SMALL_OBJECT) {
		for (i = 1; i < n; i++) {
			for (j = 0; j < i; j++) {
				if (member_cmp(&m[i], &m[j]) == 0)
					return 1;
			}
		}
		return 0;
	}
	if (n > ps->tmp_cap) {
		free(ps->tmp);
		ps->tmp_cap = 0;
		if ((ps->tmp = malloc(n * sizeof(*ps->tmp))) == NULL)
			return -1;
		ps->tmp_cap = n;
	}
	if ((v = take(ps, n * sizeof(*v), alignof(struct json_member *))) ==
	    NULL)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = &m[i];
	sort_members(v, ps->tmp, n);
	for (i = 1; i < n; i++) {
		if (member_cmp(v[i - 1], v[i]) == 0)
			return 1;
	}
	if (sorted != NULL)
		*sorted = v;
	return 0;
}

/*
 * Closes the innermost container (ps->p at its closing bracket): its
 * children move from the slot stack into the arena and it becomes the
 * value of the slot before them.
 */
static enum json_status
close_container(struct parser *ps)
{
	const struct frame *f = &ps->frames[ps->depth - 1];
	size_t n = ps->nslots - f->start, i;
	struct json_value *v = &ps->slots[f->start - 1].value, *items;
	struct json_member *members;
	int r;

	v->len = n;
	ps->p++;
	if (!f->object) {
		v->kind = JSON_KIND_ARRAY;
		if (n > 0) {
			if ((items = take(ps, n * sizeof(*items),
			    alignof(struct json_value))) == NULL)
				return JSON_PARSE_NOMEM;
			for (i = 0; i < n; i++)
				items[i] = ps->slots[f->start + i].value;
			v->u.items = items;
		}
	} else {
		v->kind = JSON_KIND_OBJECT;
		if (n > 0) {
			if ((members = take(ps, n * sizeof(*members),
			    alignof(struct json_member))) == NULL)
				return JSON_PARSE_NOMEM;
			memcpy(members, &ps->slots[f->start], n *
			    sizeof(*members));
			v->u.members = members;
			if ((r = has_repeats(ps, members, n, &v->sorted)) != 0)
				return r == 1 ? JSON_PARSE_DUPLICATE :
				    JSON_PARSE_NOMEM;
		}
	}
	ps->nslots = f->start;
	ps->depth--;
	return JSON_PARSE_OK;
}

/*
 * After an error: whether an object still open repeats a name among the
 * members read so far. jansson, which checks each name as it comes,
 * would have stopped there first.
 */
static bool
open_repeats(struct parser *ps)
{
	size_t d, end = ps->nslots;

	for (d = ps->depth; d-- > 0;) {
		if (ps->frames[d].object && has_repeats(ps,
		    &ps->slots[ps->frames[d].start], end -
		    ps->frames[d].start, NULL) == 1)
			return true;
		end = ps->frames[d].start;	/* the outer object's last
						   member is this container */
	}
	return false;
}

/*
 * The next child of the innermost container: its name for an object,
 * then the value, which either is a scalar (read whole) or opens a
 * container (read by the caller's loop).
 */
static enum json_status
parse_child(struct parser *ps)
{
	const char *name = NULL;
	size_t name_len = 0;
	struct json_member *m;
	enum json_status st;

	if (ps->frames[ps->depth - 1].object) {
		if (*ps->p != '"')
			return fail_at(ps, ps->p);
		if ((st = parse_string(ps, &name, &name_len)) != JSON_PARSE_OK)
			return st;
	}
	/* Only a name read whole takes a slot: open_repeats sees it. */
	if ((m = push_slot(ps, name, name_len)) == NULL)
		return JSON_PARSE_NOMEM;
	if (name != NULL) {
		skip_ws(ps);
		if (ps->p == ps->end || *ps->p != ':')
			return fail_at(ps, ps->p);
		ps->p++;
		skip_ws(ps);
	}
	if (ps->p == ps->end)
		return fail_at(ps, ps->p);
	/* jansson counts every value, the top one at depth 1. */
	if (ps->depth >= JSON_MAX_DEPTH)
		return fail_at(ps, ps->p);
	if (*ps->p == '{' || *ps->p == '[')
		return open_container(ps);
	return parse_scalar(ps, &m->value);
}

/* Everything between the opening bracket of the top value and its end. */
static enum json_status
parse_body(struct parser *ps)
{
	const struct frame *f;
	enum json_status st;

	while (ps->depth > 0) {
		f = &ps->frames[ps->depth - 1];
		skip_ws(ps);
		if (ps->p == ps->end)
			return fail_at(ps, ps->p);
		/* A close right after a comma is refused by parse_child:
		   the comma is consumed with the child after it. */
		if (*ps->p == (f->object ? '}' : ']')) {
			if ((st = close_container(ps)) != JSON_PARSE_OK)
				return st;
			continue;
		}
		if (ps->nslots > f->start) {
			if (*ps->p != ',')
				return fail_at(ps, ps->p);
			ps->p++;
			skip_ws(ps);
			if (ps->p == ps->end)
				return fail_at(ps, ps->p);
		}
		if ((st = parse_child(ps)) != JSON_PARSE_OK)
			return st;
	}
	return JSON_PARSE_OK;
}

static enum json_status
parse_document(struct parser *ps)
{
	enum json_status st;

	if (push_slot(ps, NULL, 0) == NULL)
		return JSON_PARSE_NOMEM;
	skip_ws(ps);
	/* Without JSON_DECODE_ANY, jansson wants an object or an array. */
	if (ps->p == ps->end || (*ps->p != '{' && *ps->p != '['))
		return fail_at(ps, ps->p);
	if ((st = open_container(ps)) != JSON_PARSE_OK ||
	    (st = parse_body(ps)) != JSON_PARSE_OK)
		return st;
	skip_ws(ps);
	if (ps->p != ps->end)
		return fail_at(ps, ps->p);
	return JSON_PARSE_OK;
}

enum json_status
json_parse(struct arena *a, const char *buf, size_t len,
    const struct json_value **out, size_t *at)
{
	struct parser parser, *ps = &parser;
	struct json_value *top;
	enum json_status st;

	*out = NULL;
	*at = 0;
	/* The local stacks need no zeroing: slots are cleared when taken. */
	memset(ps, 0, offsetof(struct parser, local_slots));
	ps->buf = ps->p = (const unsigned char *)buf;
	ps->end = ps->buf + len;
	ps->arena = a;
	ps->slots = ps->local_slots;
	ps->slots_cap = LOCAL_SLOTS;
	ps->frames = ps->local_frames;
	ps->frames_cap = LOCAL_FRAMES;
	/* About the size of the tree of a typical body, in one piece. */
	ps->piece = len < PIECE_MIN / 4 ? PIECE_MIN : len < PIECE_MAX / 4 ?
	    len * 4 : PIECE_MAX;
	st = parse_document(ps);
	if (st == JSON_PARSE_SYNTAX && open_repeats(ps))
		st = JSON_PARSE_DUPLICATE;
	if (st == JSON_PARSE_OK) {
		if ((top = take(ps, sizeof(*top),
		    alignof(struct json_value))) == NULL)
			st = JSON_PARSE_NOMEM;
		else {
			*top = ps->slots[0].value;
			*out = top;
		}
	}
	*at = st == JSON_PARSE_SYNTAX ? ps->at : (size_t)(ps->p - ps->buf);
	if (ps->slots != ps->local_slots)
		free(ps->slots);
	if (ps->frames != ps->local_frames)
		free(ps->frames);
	free(ps->tmp);
	return st;
}

const struct json_value *
json_getn(const struct json_value *obj, const char *name, size_t len)
{
	const struct json_member *m;
	size_t lo, hi, mid, i;
	int c;

	if (obj == NULL || obj->kind != JSON_KIND_OBJECT)
		return NULL;
	if (obj->sorted == NULL) {
		for (i = 0; i < obj->len; i++) {
			m = &obj->u.members[i];
			if (m->name_len == len && memcmp(m->name, name,
			    len) == 0)
				return &m->value;
		}
		return NULL;
	}
	lo = 0;
	hi = obj->len;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		m = obj->sorted[mid];
		if ((c = name_cmp(m->name, m->name_len, name, len)) == 0)
			return &m->value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct json_value *
json_get(const struct json_value *obj, const char *name)
{
	return json_getn(obj, name, strlen(name));
}
