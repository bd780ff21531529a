/*
 * clienthello — the server name (SNI) in the first bytes a TLS client
 * sends. RFC 5246 section 6.2.1 and RFC 8446 section 5.1 (records), RFC
 * 5246 section 7.4.1.2 and RFC 8446 section 4.1.2 (ClientHello), RFC
 * 8446 section 4.2 (one extension of each type), RFC 6066 section 3
 * (server_name).
 *
 * Each call reads the input afresh, in two passes:
 *
 *  1. The records. Every header is checked byte by byte (type 22,
 *     version 3.1 to 3.4, length 1 to 16384) and the handshake bytes the
 *     records carry are copied, in order, into a buffer on the stack.
 *     Once the first four of them (the handshake header) are in, the
 *     size of the hello is known: the records must then end exactly
 *     where it ends (no other message may follow it in its record), and
 *     the whole of them, headers included, must fit in
 *     CLIENTHELLO_MAX_BYTES. Bytes after the last record of the hello
 *     (0-RTT data, say) are not looked at.
 *
 *  2. The ClientHello, read from that buffer with a cursor, field by
 *     field: legacy_version, random, legacy_session_id, cipher_suites,
 *     legacy_compression_methods, then the extensions, which must fill
 *     the rest of the message exactly, one of each type at most; the
 *     server_name one must hold exactly one host_name.
 *
 * Eager: a length field is checked against the room the structure
 * around it leaves (and against what must still follow it) as soon as
 * its first byte is in, since that byte alone bounds the value, so a
 * prefix that no further bytes could make valid is an error at once.
 * A check is made as soon as the bytes it needs are in, and later bytes
 * never undo it, so once a prefix is not PARTIAL every longer input
 * answers the same, with the same reason. When both passes fail, the
 * error of the hello pass wins: it reads only bytes the record pass had
 * accepted, so its error is at an earlier byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "clienthello.h"

#define REC_HEADER 5	       /* type, version (2), length (2) */
#define REC_MAX 16384	       /* TLSPlaintext.length (RFC 8446 5.1) */
#define TYPE_HANDSHAKE 22
#define HS_HEADER 4	       /* msg_type, length (3) */
#define HS_CLIENT_HELLO 1
#define HS_MAX (CLIENTHELLO_MAX_BYTES - REC_HEADER) /* all records' bytes */
#define BODY_MAX (HS_MAX - HS_HEADER)
/* legacy_version, random, empty session_id, one suite, one method */
#define BODY_MIN (2 + 32 + 1 + 2 + 2 + 1 + 1)
#define HELLO_MIN (HS_HEADER + BODY_MIN)
#define RANDOM_LEN 32
#define SESSION_ID_MAX 32
#define EXT_HEADER 4	       /* extension_type, extension_data length */
#define EXT_SERVER_NAME 0
#define NAME_TYPE_HOST 0
#define HOST_NAME_MAX_LEN 255
/* server_name_list length, name_type, HostName length, the name */
#define SNI_EXT_MIN (2 + 1 + 2 + 1)
#define SNI_EXT_MAX (2 + 1 + 2 + HOST_NAME_MAX_LEN)

/*
 * Bytes being read: buf[0..have) is there, pos is the next one. pos
 * never passes have; a read that needs bytes past have is PARTIAL.
 */
struct cursor {
	const unsigned char *buf;
	size_t pos;
	size_t have;
};

/* Pass 1: the records, and the handshake bytes they carried so far. */
struct records {
	struct cursor in;
	unsigned char *hs;  /* HS_MAX bytes */
	size_t nhs;	    /* handshake bytes copied */
	size_t declared;    /* the record lengths added up */
	size_t total;	    /* HS_HEADER + the hello's length; 0: unknown */
};

/* Pass 2: the ClientHello in the handshake bytes. */
struct hello {
	struct cursor c;
	size_t end;	    /* where the hello ends: its total */
	bool has_name;
	size_t name_at;	    /* the host name: c.buf[name_at..+name_len) */
	size_t name_len;
	unsigned char seen[65536 / 8]; /* extension types met, a bit each */
};

/*
 * The statuses of the parts: CLIENTHELLO_OK means "this part is read,
 * go on"; PARTIAL and ERROR mean what they mean for the whole.
 */
typedef enum clienthello_status step_fn(struct hello *, const char **);

static enum clienthello_status
fail(const char **why, const char *msg)
{
	*why = msg;
	return CLIENTHELLO_ERROR;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Takes one byte; false when none is left. */
static bool
next_byte(struct cursor *c, unsigned *b)
{
	if (c->pos == c->have)
		return false;
	*b = c->buf[c->pos++];
	return true;
}

/*
 * Looks at a big-endian integer of width bytes (1..3) without taking
 * it. All there: OK, with *lo = *hi = the value. Only some: PARTIAL,
 * and [*lo, *hi] the values the bytes so far still allow.
 */
static enum clienthello_status
peek_uint(const struct cursor *c, size_t width, size_t *lo, size_t *hi)
{
	size_t n = min_size(c->have - c->pos, width), i, v = 0, missing;

	for (i = 0; i < width; i++)
		v = (v << 8) | (i < n ? c->buf[c->pos + i] : 0);
	*lo = v;
	if (n == width) {
		*hi = v;
		return CLIENTHELLO_OK;
	}
	missing = width - n;
	*hi = v | (((size_t)1 << (8 * missing)) - 1);
	return CLIENTHELLO_PARTIAL;
}

/* Steps over n bytes, or as far as they go (PARTIAL). */
static enum clienthello_status
skip(struct cursor *c, size_t n)
{
	if (c->have - c->pos < n) {
		c->pos = c->have;
		return CLIENTHELLO_PARTIAL;
	}
	c->pos += n;
	return CLIENTHELLO_OK;
}

/*
 * The bounds a record's length must keep: at most 16384, no more than
 * the hello's remaining bytes, within CLIENTHELLO_MAX_BYTES; all of the
 * rest when another record would not fit. Each side has one bound and
 * the reason for it, so a length refused from its first byte is
 * refused for the same reason once both are in.
 */
static void
record_bounds(const struct records *r, size_t start, size_t *min,
    const char **min_why, size_t *max, const char **max_why)
{
	/* Before the handshake header, rest is only a lower bound. */
	size_t rest = (r->total != 0 ? r->total : HELLO_MIN) - r->declared;

	*max = REC_MAX;
	*max_why = "record longer than 16384 bytes";
	if (r->total != 0 && rest < *max) {
		*max = rest;
		*max_why = "bytes after the ClientHello in its record";
	}
	if (CLIENTHELLO_MAX_BYTES - start - REC_HEADER < *max) {
		*max = CLIENTHELLO_MAX_BYTES - start - REC_HEADER;
		*max_why = "ClientHello too large";
	}
	*min = 1;
	*min_why = "empty handshake record";
	if (start + 2 * REC_HEADER + rest > CLIENTHELLO_MAX_BYTES &&
	    rest > 1) {
		*min = rest;
		*min_why = "ClientHello too large";
	}
}

/* A record header (RFC 8446 section 5.1); *len is its length. */
static enum clienthello_status
record_header(struct records *r, size_t *len, const char **why)
{
	struct cursor *c = &r->in;
	size_t start = c->pos, lo, hi, min, max;
	const char *min_why, *max_why;
	enum clienthello_status st;
	unsigned b;

	if (CLIENTHELLO_MAX_BYTES - start < REC_HEADER + 1)
		return fail(why, "ClientHello too large");
	if (!next_byte(c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b != TYPE_HANDSHAKE)
		return fail(why, "record type is not handshake");
	if (!next_byte(c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b != 3)
		return fail(why, "record version is not 3.x");
	if (!next_byte(c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b < 1 || b > 4)
		return fail(why, "record version is not 3.1 to 3.4");
	record_bounds(r, start, &min, &min_why, &max, &max_why);
	st = peek_uint(c, 2, &lo, &hi);
	if (lo > max)
		return fail(why, max_why);
	if (hi < min)
		return fail(why, min_why);
	if (st != CLIENTHELLO_OK)
		return st;
	c->pos += 2;
	*len = lo;
	return CLIENTHELLO_OK;
}

/* Appends up to n handshake bytes from the input; returns how many. */
static size_t
take(struct records *r, size_t n)
{
	struct cursor *c = &r->in;

	n = min_size(n, min_size(c->have - c->pos, HS_MAX - r->nhs));
	memcpy(r->hs + r->nhs, c->buf + c->pos, n);
	r->nhs += n;
	c->pos += n;
	return n;
}

/*
 * The fourth handshake byte completes the handshake header, and tells
 * the hello's size: the records so far must not run past it, and what
 * is left of it must fit in one more record. end is where the current
 * record ends.
 */
static enum clienthello_status
learn_total(struct records *r, size_t end, const char **why)
{
	const unsigned char *hs = r->hs;

	r->total = HS_HEADER + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 |
	    hs[3]);
	if (r->declared > r->total)
		return fail(why, "bytes after the ClientHello in its record");
	if (r->declared < r->total && end + REC_HEADER + r->total -
	    r->declared > CLIENTHELLO_MAX_BYTES)
		return fail(why, "ClientHello too large");
	return CLIENTHELLO_OK;
}

/*
 * Copies the handshake bytes of a record of len bytes, stopping after
 * the fourth one if it shows the records wrong, so that pass 2 reads
 * no byte after the one that failed.
 */
static enum clienthello_status
record_payload(struct records *r, size_t len, const char **why)
{
	size_t end = r->in.pos + len, got = 0;
	enum clienthello_status st;

	r->declared += len;
	if (r->total == 0) {
		got = take(r, min_size(len, HS_HEADER - r->nhs));
		if (r->nhs == HS_HEADER &&
		    (st = learn_total(r, end, why)) != CLIENTHELLO_OK)
			return st;
	}
	got += take(r, len - got);
	if (got == len)
		return CLIENTHELLO_OK;
	if (r->in.pos < r->in.have)
		return fail(why, "ClientHello too large");
	return CLIENTHELLO_PARTIAL;
}

/* Pass 1: OK once the records holding the whole hello are in. */
static enum clienthello_status
read_records(struct records *r, const char **why)
{
	enum clienthello_status st;
	size_t len = 0;

	while (r->total == 0 || r->declared < r->total) {
		if ((st = record_header(r, &len, why)) != CLIENTHELLO_OK)
			return st;
		if ((st = record_payload(r, len, why)) != CLIENTHELLO_OK)
			return st;
	}
	return CLIENTHELLO_OK;
}

/* msg_type and the 24-bit length of the handshake message. */
static enum clienthello_status
hello_header(struct hello *h, const char **why)
{
	struct cursor *c = &h->c;
	enum clienthello_status st;
	size_t lo, hi;
	unsigned b;

	if (!next_byte(c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b != HS_CLIENT_HELLO)
		return fail(why, "handshake message is not a ClientHello");
	st = peek_uint(c, 3, &lo, &hi);
	if (lo > BODY_MAX)
		return fail(why, "ClientHello too large");
	if (hi < BODY_MIN)
		return fail(why, "ClientHello too short");
	if (st != CLIENTHELLO_OK)
		return st;
	c->pos += 3;
	h->end = HS_HEADER + lo;
	return CLIENTHELLO_OK;
}

/* legacy_version 3.1 to 3.4, then the 32 bytes of random. */
static enum clienthello_status
hello_version(struct hello *h, const char **why)
{
	unsigned b;

	if (!next_byte(&h->c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b != 3)
		return fail(why, "legacy_version is not 3.x");
	if (!next_byte(&h->c, &b))
		return CLIENTHELLO_PARTIAL;
	if (b < 1 || b > 4)
		return fail(why, "legacy_version is not 3.1 to 3.4");
	return skip(&h->c, RANDOM_LEN);
}

/*
 * legacy_session_id<0..32>. After it come at least 6 bytes: the
 * cipher_suites length and one suite, one compression method.
 */
static enum clienthello_status
hello_session_id(struct hello *h, const char **why)
{
	unsigned n;

	if (!next_byte(&h->c, &n))
		return CLIENTHELLO_PARTIAL;
	if (n > SESSION_ID_MAX)
		return fail(why, "session_id longer than 32 bytes");
	if (n + 6 > h->end - h->c.pos)
		return fail(why, "session_id overruns the ClientHello");
	return skip(&h->c, n);
}

/* cipher_suites<2..2^16-2>, leaving 2 bytes for compression_methods. */
static enum clienthello_status
hello_cipher_suites(struct hello *h, const char **why)
{
	struct cursor *c = &h->c;
	enum clienthello_status st;
	size_t lo, hi;

	st = peek_uint(c, 2, &lo, &hi);
	if (lo + 4 > h->end - c->pos)
		return fail(why, "cipher_suites overrun the ClientHello");
	if (st != CLIENTHELLO_OK)
		return st;
	if (lo == 0)
		return fail(why, "no cipher suites");
	if (lo % 2 != 0)
		return fail(why, "cipher_suites length is odd");
	c->pos += 2;
	return skip(c, lo);
}

/*
 * legacy_compression_methods<1..2^8-1>. What is left after them is
 * nothing, or an extensions block: its 2-byte length and no extension,
 * or at least one 4-byte extension header.
 */
static enum clienthello_status
hello_compression(struct hello *h, const char **why)
{
	size_t rest;
	unsigned n;

	if (!next_byte(&h->c, &n))
		return CLIENTHELLO_PARTIAL;
	if (n == 0)
		return fail(why, "no compression methods");
	if (n > h->end - h->c.pos)
		return fail(why, "compression_methods overrun the ClientHello");
	rest = h->end - h->c.pos - n;
	if (rest == 1)
		return fail(why, "stray byte after compression_methods");
	if (rest > 2 && rest < 2 + EXT_HEADER)
		return fail(why, "extensions too short for an extension");
	return skip(&h->c, n);
}

static bool
is_name_char(unsigned ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* The HostName of n bytes (1..255), each checked as it arrives. */
static enum clienthello_status
host_name(struct hello *h, size_t n, const char **why)
{
	struct cursor *c = &h->c;
	size_t start = c->pos, there = min_size(n, c->have - start), i;
	unsigned ch;

	for (i = 0; i < there; i++) {
		ch = c->buf[start + i];
		if (ch == '\0')
			return fail(why, "NUL in host name");
		if (!is_name_char(ch))
			return fail(why, "host name has a character other "
			    "than a-z A-Z 0-9 - .");
		if (ch == '.' && i == 0)
			return fail(why, "host name starts with a dot");
		if (ch == '.' && c->buf[start + i - 1] == '.')
			return fail(why, "host name has an empty label");
	}
	if (there < n) {
		c->pos += there;
		return CLIENTHELLO_PARTIAL;
	}
	if (c->buf[start + n - 1] == '.')
		return fail(why, "host name ends with a dot");
	c->pos += n;
	h->has_name = true;
	h->name_at = start;
	h->name_len = n;
	return CLIENTHELLO_OK;
}

/*
 * server_name extension_data of len bytes (SNI_EXT_MIN..SNI_EXT_MAX):
 * a ServerNameList holding exactly one host_name, so every length in it
 * follows from len.
 */
static enum clienthello_status
server_name(struct hello *h, size_t len, const char **why)
{
	struct cursor *c = &h->c;
	enum clienthello_status st;
	size_t lo, hi;
	unsigned type;

	st = peek_uint(c, 2, &lo, &hi);
	if (lo > len - 2 || hi < len - 2)
		return fail(why, "server_name list length mismatch");
	if (st != CLIENTHELLO_OK)
		return st;
	c->pos += 2;
	if (!next_byte(c, &type))
		return CLIENTHELLO_PARTIAL;
	if (type != NAME_TYPE_HOST)
		return fail(why, "server_name type is not host_name");
	st = peek_uint(c, 2, &lo, &hi);
	if (lo > len - 5)
		return fail(why, "host name overruns server_name");
	if (st == CLIENTHELLO_OK && lo == 0)
		return fail(why, "empty host name");
	if (hi < len - 5)
		return fail(why, "server_name has more than one entry");
	if (st != CLIENTHELLO_OK)
		return st;
	c->pos += 2;
	return host_name(h, lo, why);
}

/*
 * One extension. Its data must fit what is left of the block and leave
 * nothing, or room for another extension header.
 */
static enum clienthello_status
extension(struct hello *h, const char **why)
{
	struct cursor *c = &h->c;
	enum clienthello_status st;
	size_t type, lo, hi, room, min = 0, max;
	const char *max_why;

	if ((st = peek_uint(c, 2, &type, &hi)) != CLIENTHELLO_OK)
		return st;
	if (h->seen[type / 8] & (1u << (type % 8)))
		return fail(why, "duplicate extension");
	h->seen[type / 8] |= (unsigned char)(1u << (type % 8));
	c->pos += 2;
	room = h->end - c->pos - 2;
	max = room;
	max_why = "extension overruns the extensions";
	if (type == EXT_SERVER_NAME) {
		if (room < SNI_EXT_MIN)
			return fail(why, "server_name overruns the extensions");
		min = SNI_EXT_MIN;
		if (SNI_EXT_MAX < max) {
			max = SNI_EXT_MAX;
			max_why = "server_name longer than one host name";
		}
	}
	st = peek_uint(c, 2, &lo, &hi);
	if (lo > max)
		return fail(why, max_why);
	if (hi < min)
		return fail(why, "server_name too short for a host name");
	if (st != CLIENTHELLO_OK)
		return st;
	if (room - lo > 0 && room - lo < EXT_HEADER)
		return fail(why, "stray bytes after an extension");
	c->pos += 2;
	if (type == EXT_SERVER_NAME)
		return server_name(h, lo, why);
	return skip(c, lo);
}

/* The extensions, if any: they fill the rest of the ClientHello. */
static enum clienthello_status
hello_extensions(struct hello *h, const char **why)
{
	struct cursor *c = &h->c;
	enum clienthello_status st;
	size_t lo, hi, want;

	if (c->pos == h->end)
		return CLIENTHELLO_OK;
	want = h->end - c->pos - 2;
	st = peek_uint(c, 2, &lo, &hi);
	if (lo > want || hi < want)
		return fail(why, "extensions length does not fill the "
		    "ClientHello");
	if (st != CLIENTHELLO_OK)
		return st;
	c->pos += 2;
	while (c->pos < h->end) {
		if ((st = extension(h, why)) != CLIENTHELLO_OK)
			return st;
	}
	return CLIENTHELLO_OK;
}

/* Pass 2: OK once the whole ClientHello is read. */
static enum clienthello_status
read_hello(struct hello *h, const char **why)
{
	static step_fn *const steps[] = {
		hello_header, hello_version, hello_session_id,
		hello_cipher_suites, hello_compression, hello_extensions,
	};
	enum clienthello_status st;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((st = steps[i](h, why)) != CLIENTHELLO_OK)
			return st;
	}
	return CLIENTHELLO_OK;
}

enum clienthello_status
clienthello_sni(const unsigned char *buf, size_t len, char *name,
    size_t namecap, size_t *name_len, const char **why)
{
	unsigned char hs[HS_MAX];
	struct records r;
	struct hello h;
	enum clienthello_status rst, hst;
	const char *rwhy = NULL, *hwhy = NULL;

	*name_len = 0;
	if (namecap > 0)
		name[0] = '\0';
	if (namecap < HOST_NAME_MAX_LEN + 1)
		return fail(why, "name buffer smaller than 256 bytes");
	if (len > CLIENTHELLO_MAX_BYTES)
		return fail(why, "ClientHello too large");
	memset(&r, 0, sizeof(r));
	r.in.buf = buf;
	r.in.have = len;
	r.hs = hs;
	rst = read_records(&r, &rwhy);
	memset(&h, 0, sizeof(h));
	h.c.buf = hs;
	h.c.have = r.nhs;
	hst = read_hello(&h, &hwhy);
	if (hst == CLIENTHELLO_ERROR)
		return fail(why, hwhy);
	if (rst == CLIENTHELLO_ERROR)
		return fail(why, rwhy);
	if (hst != CLIENTHELLO_OK || rst != CLIENTHELLO_OK)
		return CLIENTHELLO_PARTIAL;
	if (!h.has_name)
		return CLIENTHELLO_NO_SNI;
	memcpy(name, hs + h.name_at, h.name_len);
	name[h.name_len] = '\0';
	*name_len = h.name_len;
	return CLIENTHELLO_OK;
}
