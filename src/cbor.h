/*
 * cbor — the subset of CBOR (RFC 8949) the DAX protocol uses, read
 * strictly (spec 7.1): where an item ends, without building it.
 *
 * Two readers share one definition of a well-formed item:
 *  - struct cbor_skip follows a byte stream that arrives in pieces and
 *    says where the current top-level item ends, keeping no more than a
 *    partial item head (at most 9 bytes) of the input;
 *  - struct cbor_reader walks an item already whole in memory, for the
 *    few items whose contents matter (table names, access key ids, the
 *    nodes of an `endpoints` answer).
 *
 * Refused, so that no two readers can disagree about an item's extent:
 * the reserved additional-information values 28-30; a "break" outside an
 * indefinite-length item; indefinite-length integers, tags or simple
 * values; a chunk of an indefinite-length string that is not a definite
 * string of the same major type; simple values other than false, true,
 * null and undefined (one-byte simple values are refused, floats are
 * accepted); tags other than those DAX uses (2, 3 bignums, 4 decimal
 * fractions, 5 bigfloats, 3321-3324 DynamoDB sets and document-path
 * ordinals); nesting deeper than CBOR_MAX_DEPTH; an item larger than
 * the caller's limit. Text strings are not checked for UTF-8: the
 * gateway forwards them unchanged and compares names byte by byte.
 * Pure: no I/O, no allocation.
 */
#ifndef DDBGATE_CBOR_H
#define DDBGATE_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBOR_MAX_DEPTH 32

enum cbor_major {
	CBOR_UINT = 0,
	CBOR_NEGINT = 1,
	CBOR_BYTES = 2,
	CBOR_TEXT = 3,
	CBOR_ARRAY = 4,
	CBOR_MAP = 5,
	CBOR_TAG = 6,
	CBOR_SIMPLE = 7,
};

#define CBOR_FALSE	20
#define CBOR_TRUE	21
#define CBOR_NULL	22
#define CBOR_UNDEFINED	23

/* One item head: the initial byte and its argument. */
struct cbor_head {
	enum cbor_major major;
	uint8_t ai;		/* additional information (low 5 bits) */
	bool indefinite;	/* ai 31 on a string, array or map */
	bool is_break;		/* the 0xff stop code */
	uint64_t value;		/* integer, length, count, tag or simple */
	uint8_t len;		/* bytes of the head: 1, 2, 3, 5 or 9 */
};

enum cbor_status {
	CBOR_OK,
	CBOR_MORE,	/* the input ends inside the item */
	CBOR_ERROR,	/* not an item of the accepted subset */
};

/*
 * Decodes the head at p[0..n). CBOR_MORE when n is too short for it;
 * CBOR_ERROR for reserved values, indefinite integers, tags or simple
 * values, and one-byte simple values; the message says which.
 */
enum cbor_status cbor_head_decode(const uint8_t *p, size_t n,
    struct cbor_head *h, const char **err);

/* Whether tag t is one DAX uses (spec 7.1). */
bool cbor_tag_allowed(uint64_t t);

/* ---- streaming: where does the current top-level item end? ---------- */

/* An open container (or indefinite-length string) of a cbor_skip. */
struct cbor_frame {
	uint64_t left;		/* items still expected (map: 2 per pair) */
	uint8_t major;		/* its major type, for a string's chunks */
	bool indefinite;
	bool string;		/* an indefinite string: chunks only */
	bool map;
	bool odd;		/* indefinite map: a key waits for its value */
};

struct cbor_skip {
	uint64_t limit;		/* largest item accepted, in bytes */
	uint64_t used;		/* bytes of the current item so far */
	uint64_t payload;	/* string bytes still to pass over */
	uint8_t part[9];	/* a head that straddles two pieces */
	uint8_t npart;
	bool pending_tag;	/* a tag's item has not started yet */
	unsigned depth;
	struct cbor_frame stack[CBOR_MAX_DEPTH];
	const char *err;
};

/* Starts on a new top-level item of at most limit bytes. */
void cbor_skip_init(struct cbor_skip *s, uint64_t limit);

/*
 * Passes over p[0..n). CBOR_OK: the item ended after *used bytes of p
 * (cbor_skip_init again for the next one); CBOR_MORE: all n bytes belong
 * to it and it goes on; CBOR_ERROR: s->err says why (*used is where).
 */
enum cbor_status cbor_skip_feed(struct cbor_skip *s, const uint8_t *p,
    size_t n, size_t *used);

/* ---- an item whole in memory ---------------------------------------- */

struct cbor_reader {
	const uint8_t *p;
	size_t n;
	size_t pos;
	const char *err;
};

void cbor_reader_init(struct cbor_reader *r, const void *p, size_t n);

/* The head at the position, not consumed. */
enum cbor_status cbor_peek(struct cbor_reader *r, struct cbor_head *h);

/* Consumes one head (a string's contents stay where they are). */
enum cbor_status cbor_read_head(struct cbor_reader *r, struct cbor_head *h);

/* A definite string of major type major: its bytes, not copied. */
enum cbor_status cbor_read_string(struct cbor_reader *r, enum cbor_major major,
    const uint8_t **data, size_t *len);

/* A signed integer (major 0 or 1) within int64_t. */
enum cbor_status cbor_read_int(struct cbor_reader *r, int64_t *v);

/*
 * A container's head of major type major (CBOR_ARRAY or CBOR_MAP): its
 * count of items (map: of pairs), or CBOR_INDEFINITE for one that ends
 * at a break. A definite count larger than the bytes left is refused.
 */
#define CBOR_INDEFINITE SIZE_MAX
enum cbor_status cbor_read_container(struct cbor_reader *r,
    enum cbor_major major, size_t *count);

/*
 * Whether the container read with cbor_read_container() ends before its
 * item i: i == count for a definite one; for an indefinite one, whether
 * a break comes next (consumed then).
 */
bool cbor_container_end(struct cbor_reader *r, size_t count, size_t i);

/* Passes over one whole item. */
enum cbor_status cbor_skip_item(struct cbor_reader *r);

/* ---- writing --------------------------------------------------------- */

/*
 * Writes the shortest head for (major, value) into out (room for 9
 * bytes) and returns its length.
 */
size_t cbor_put_head(uint8_t *out, enum cbor_major major, uint64_t value);

#endif
