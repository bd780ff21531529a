/*
 * libFuzzer target for clienthello_sni: checks that a name comes back
 * only in the allowed shape and as bytes the records carry, that the
 * prefixes of the input answer PARTIAL until the answer is settled and
 * the same (status, reason, name) from there on, and that an accepted
 * hello answers the same when its handshake bytes are re-framed into
 * records of other sizes. A plain second reading of whole inputs
 * (reference()) must agree with it on every input it can decide.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clienthello.h"

#define FUZZ_ALL_PREFIXES 512 /* inputs this small: check every prefix */
#define WHY_MAX 80

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct answer {
	enum clienthello_status st;
	const char *why;
	char name[256];
	size_t name_len;
};

static void
ask(const uint8_t *buf, size_t len, struct answer *a)
{
	a->why = NULL;
	memset(a->name, 0x7f, sizeof(a->name));
	a->name_len = 12345;
	a->st = clienthello_sni(buf, len, a->name, sizeof(a->name),
	    &a->name_len, &a->why);
	CHECK(a->st == CLIENTHELLO_OK || a->st == CLIENTHELLO_NO_SNI ||
	    a->st == CLIENTHELLO_PARTIAL || a->st == CLIENTHELLO_ERROR);
	if (a->st == CLIENTHELLO_ERROR) {
		CHECK(a->why != NULL);
		CHECK(a->why[0] != '\0' && strlen(a->why) < WHY_MAX);
	}
	if (a->st != CLIENTHELLO_OK)
		CHECK(a->name_len == 0 && a->name[0] == '\0');
}

static bool
same(const struct answer *a, const struct answer *b)
{
	if (a->st != b->st)
		return false;
	if (a->st == CLIENTHELLO_ERROR)
		return strcmp(a->why, b->why) == 0;
	if (a->st == CLIENTHELLO_OK)
		return a->name_len == b->name_len &&
		    memcmp(a->name, b->name, a->name_len) == 0;
	return true;
}

/*
 * The payloads of the records in buf, joined, whatever their types and
 * lengths say: the handshake bytes, when the input is a hello.
 */
static size_t
deframe(const uint8_t *buf, size_t len, uint8_t *out)
{
	size_t off = 0, n = 0, rec;

	while (len - off >= 5) {
		rec = (size_t)buf[off + 3] << 8 | buf[off + 4];
		off += 5;
		if (rec > len - off)
			rec = len - off;
		memcpy(out + n, buf + off, rec);
		n += rec;
		off += rec;
	}
	return n;
}

static bool
name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

static void
check_name(const struct answer *a, const uint8_t *hs, size_t nhs)
{
	size_t i, n = a->name_len;

	CHECK(n >= 1 && n <= 255);
	CHECK(a->name[n] == '\0' && strlen(a->name) == n);
	for (i = 0; i < n; i++)
		CHECK(name_char(a->name[i]));
	CHECK(a->name[0] != '.' && a->name[n - 1] != '.');
	CHECK(strstr(a->name, "..") == NULL);
	CHECK(memmem(hs, nhs, a->name, n) != NULL);
}

/*
 * A second reading, the plain way: whole structures only, no bounds
 * from partial lengths. REF_MORE when the records end before the
 * hello does. An independent oracle for what the parser accepts.
 */
enum ref_result { REF_MORE, REF_BAD, REF_NO_SNI, REF_NAME };

struct ref {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static size_t
ref_get(struct ref *r, size_t width)
{
	size_t v = 0, i;

	if (r->bad || r->len - r->off < width) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < width; i++)
		v = v << 8 | r->p[r->off + i];
	r->off += width;
	return v;
}

static void
ref_skip(struct ref *r, size_t n)
{
	if (r->bad || r->len - r->off < n)
		r->bad = true;
	else
		r->off += n;
}

static bool
ref_host(const uint8_t *n, size_t len)
{
	size_t i;

	if (len < 1 || len > 255 || n[0] == '.' || n[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char((char)n[i]) || n[i] == 0)
			return false;
		if (i > 0 && n[i] == '.' && n[i - 1] == '.')
			return false;
	}
	return true;
}

/* The server_name extension_data: exactly one host_name. */
static bool
ref_sni(const uint8_t *p, size_t len, size_t *at, size_t *nlen)
{
	struct ref r = { p, len, 0, false };
	size_t list = ref_get(&r, 2), type, n;

	if (r.bad || list != len - 2)
		return false;
	type = ref_get(&r, 1);
	n = ref_get(&r, 2);
	if (r.bad || type != 0 || n + 3 != list)
		return false;
	*at = r.off;
	*nlen = n;
	return ref_host(p + r.off, n);
}

static enum ref_result
ref_hello(const uint8_t *hs, size_t total, char *name)
{
	static uint8_t seen[65536];
	struct ref r = { hs, total, 4, false };
	size_t n, end, type, elen, at = 0, nlen = 0;
	bool has_name = false;

	if (hs[0] != 1 || total - 4 < 41)
		return REF_BAD;
	n = ref_get(&r, 1);
	if (n != 3)
		return REF_BAD;
	n = ref_get(&r, 1);
	if (n < 1 || n > 4)
		return REF_BAD;
	ref_skip(&r, 32);
	n = ref_get(&r, 1);
	if (n > 32)
		return REF_BAD;
	ref_skip(&r, n);
	n = ref_get(&r, 2);
	if (n < 2 || n % 2 != 0)
		return REF_BAD;
	ref_skip(&r, n);
	n = ref_get(&r, 1);
	if (n < 1)
		return REF_BAD;
	ref_skip(&r, n);
	if (r.bad)
		return REF_BAD;
	if (r.off == total)
		return REF_NO_SNI;
	n = ref_get(&r, 2);
	if (r.bad || n != total - r.off)
		return REF_BAD;
	memset(seen, 0, sizeof(seen));
	end = total;
	while (r.off < end) {
		type = ref_get(&r, 2);
		elen = ref_get(&r, 2);
		if (r.bad || elen > end - r.off || seen[type])
			return REF_BAD;
		seen[type] = 1;
		if (type == 0) {
			if (!ref_sni(hs + r.off, elen, &at, &nlen))
				return REF_BAD;
			memcpy(name, hs + r.off + at, nlen);
			name[nlen] = '\0';
			has_name = true;
		}
		r.off += elen;
	}
	return has_name ? REF_NAME : REF_NO_SNI;
}

static enum ref_result
reference(const uint8_t *buf, size_t len, char *name)
{
	static uint8_t hs[CLIENTHELLO_MAX_BYTES];
	size_t off = 0, nhs = 0, rec, total = 0;

	if (len > CLIENTHELLO_MAX_BYTES)
		return REF_BAD;
	for (;;) {
		if (len - off < 5)
			return REF_MORE;
		rec = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (buf[off] != 22 || buf[off + 1] != 3 || buf[off + 2] < 1 ||
		    buf[off + 2] > 4 || rec < 1 || rec > 16384)
			return REF_BAD;
		off += 5;
		if (len - off < rec)
			return REF_MORE;
		memcpy(hs + nhs, buf + off, rec);
		nhs += rec;
		off += rec;
		if (nhs < 4)
			continue;
		total = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
		if (total > 16384 || nhs > total)
			return REF_BAD;
		if (nhs == total)
			return ref_hello(hs, total, name);
	}
}

/* The parser and the plain reading agree on a whole input. */
static void
check_reference(const uint8_t *data, size_t size, const struct answer *a)
{
	char name[256];

	switch (reference(data, size, name)) {
	case REF_MORE:
		CHECK(a->st == CLIENTHELLO_PARTIAL ||
		    a->st == CLIENTHELLO_ERROR);
		break;
	case REF_BAD:
		CHECK(a->st == CLIENTHELLO_ERROR);
		break;
	case REF_NO_SNI:
		CHECK(a->st == CLIENTHELLO_NO_SNI);
		break;
	case REF_NAME:
		CHECK(a->st == CLIENTHELLO_OK);
		CHECK(strcmp(a->name, name) == 0);
		break;
	}
}

/* Prefix k answers PARTIAL, or what every longer prefix answers. */
static void
check_prefixes(const uint8_t *data, size_t size, const struct answer *whole)
{
	struct answer a, settled;
	size_t k;
	bool done = false;

	if (size > FUZZ_ALL_PREFIXES) {
		ask(data, size / 2, &a);
		CHECK(a.st == CLIENTHELLO_PARTIAL || same(&a, whole));
		ask(data, size - 1, &a);
		CHECK(a.st == CLIENTHELLO_PARTIAL || same(&a, whole));
		return;
	}
	for (k = 0; k <= size; k++) {
		ask(data, k, &a);
		if (k == 0)
			CHECK(a.st == CLIENTHELLO_PARTIAL);
		if (done)
			CHECK(same(&a, &settled));
		else if (a.st != CLIENTHELLO_PARTIAL) {
			settled = a;
			done = true;
		}
	}
	CHECK(same(&a, whole));
}

/*
 * Puts the hello's handshake bytes hs[0..n) into records of chunk
 * bytes; returns the length, or 0 when that would not fit.
 */
static size_t
reframe(const uint8_t *hs, size_t n, size_t chunk, uint8_t *out)
{
	size_t off = 0, len = 0, k;

	while (off < n) {
		k = n - off < chunk ? n - off : chunk;
		if (len + 5 + k > CLIENTHELLO_MAX_BYTES)
			return 0;
		out[len++] = 0x16;
		out[len++] = 0x03;
		out[len++] = 0x03;
		out[len++] = (uint8_t)(k >> 8);
		out[len++] = (uint8_t)k;
		memcpy(out + len, hs + off, k);
		len += k;
		off += k;
	}
	return len;
}

/* An accepted hello hs[0..total) answers the same in other records. */
static void
check_reframed(const uint8_t *data, size_t size, const uint8_t *hs,
    size_t total, const struct answer *whole)
{
	static uint8_t out[CLIENTHELLO_MAX_BYTES];
	static const size_t fixed[] = { 1, 2, 3, 5, 16384 };
	struct answer a;
	size_t len, i, chunk;

	for (i = 0; i <= sizeof(fixed) / sizeof(fixed[0]); i++) {
		chunk = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i] :
		    1 + (data[size - 1] * 37u + size) % 1024;
		len = reframe(hs, total, chunk, out);
		if (len == 0)
			continue;
		ask(out, len, &a);
		CHECK(same(&a, whole));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hs[CLIENTHELLO_MAX_BYTES * 2];
	struct answer whole;
	char small[255];
	size_t nhs, total, nl;
	const char *why = NULL;

	ask(data, size, &whole);
	if (size > CLIENTHELLO_MAX_BYTES) {
		CHECK(whole.st == CLIENTHELLO_ERROR);
		ask(data, CLIENTHELLO_MAX_BYTES, &whole);
		size = CLIENTHELLO_MAX_BYTES;
	}
	/* A short name buffer is refused, whatever the input. */
	CHECK(clienthello_sni(data, size, small, sizeof(small), &nl, &why) ==
	    CLIENTHELLO_ERROR && why != NULL && nl == 0);
	check_prefixes(data, size, &whole);
	check_reference(data, size, &whole);
	if (whole.st != CLIENTHELLO_OK && whole.st != CLIENTHELLO_NO_SNI)
		return 0;
	/* The hello is the first total bytes the records carry. */
	nhs = deframe(data, size, hs);
	CHECK(nhs >= 4);
	total = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
	CHECK(total <= nhs && total <= 16384);
	if (whole.st == CLIENTHELLO_OK)
		check_name(&whole, hs, total);
	check_reframed(data, size, hs, total, &whole);
	return 0;
}
