/*
 * libFuzzer target for http1_parse_response and http1_chunked_scan. The
 * first input byte says whether the request was HEAD (bit 0) and where to
 * split the body (the rest); a chunked body scanned in two pieces must
 * give the same answer, at the same byte, as in one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http1.h"

#define FUZZ_MAX_HEAD 4096
#define FUZZ_MAX_TRAILER 256
#define FUZZ_MAX_INTERIM 4
#define FUZZ_BYTEWISE 512 /* chunked bodies this small: also byte by byte */

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void
check_response(const struct http1_response *resp, const char *buf,
    size_t len, int head)
{
	size_t i;

	CHECK(resp->head_len >= 17 && resp->head_len <= len);
	CHECK(resp->status >= 100 && resp->status <= 599 &&
	    resp->status != 101);
	CHECK(resp->minor_version == 0 || resp->minor_version == 1);
	CHECK(resp->nheaders <= HTTP1_MAX_HEADERS);
	for (i = 0; i < resp->nheaders; i++) {
		CHECK(resp->headers[i].name_len > 0);
		CHECK(inside(resp->headers[i].name, resp->headers[i].name_len,
		    buf, resp->head_len));
		CHECK(inside(resp->headers[i].value,
		    resp->headers[i].value_len, buf, resp->head_len));
	}
	if (head || resp->status < 200 || resp->status == 204 ||
	    resp->status == 304)
		CHECK(resp->body == HTTP1_BODY_NONE);
	if (resp->body == HTTP1_BODY_CLOSE)
		CHECK(!resp->keep_alive);
	if (resp->body == HTTP1_BODY_CHUNKED)
		CHECK(http1_header_count(resp->headers, resp->nheaders,
		    "content-length") == 0);
}

/* One byte per call gives the same answer as one pass. */
static void
check_chunked_bytewise(const char *buf, size_t len, enum http1_status st,
    enum http1_error err, size_t consumed)
{
	struct http1_chunked ch;
	enum http1_status bst = HTTP1_AGAIN;
	enum http1_error berr = HTTP1_E_NONE;
	size_t i, n, total = 0;

	http1_chunked_init(&ch);
	for (i = 0; i < len && bst == HTTP1_AGAIN; i++) {
		bst = http1_chunked_scan(&ch, buf + i, 1, FUZZ_MAX_TRAILER, &n,
		    &berr);
		total += n;
	}
	CHECK(bst == st && berr == err && total == consumed);
}

static void
check_chunked(const char *buf, size_t len, unsigned split_byte)
{
	struct http1_chunked one, two;
	enum http1_status st1, st2;
	enum http1_error err1, err2;
	size_t n1, n2a, n2b = 0, split;

	split = len * split_byte / 128;
	http1_chunked_init(&one);
	st1 = http1_chunked_scan(&one, buf, len, FUZZ_MAX_TRAILER, &n1, &err1);
	CHECK(n1 <= len);
	CHECK(st1 != HTTP1_AGAIN || n1 == len);
	CHECK((st1 == HTTP1_ERROR) == (err1 != HTTP1_E_NONE));

	http1_chunked_init(&two);
	st2 = http1_chunked_scan(&two, buf, split, FUZZ_MAX_TRAILER, &n2a,
	    &err2);
	if (st2 == HTTP1_AGAIN) {
		CHECK(n2a == split);
		st2 = http1_chunked_scan(&two, buf + split, len - split,
		    FUZZ_MAX_TRAILER, &n2b, &err2);
	}
	CHECK(st1 == st2 && err1 == err2 && n1 == n2a + n2b);
	if (len <= FUZZ_BYTEWISE)
		check_chunked_bytewise(buf, len, st1, err1, n1);
}

/* A prefix answers AGAIN, or exactly what the whole input answers. */
static void
check_prefix(const char *buf, size_t k, int head, enum http1_status st,
    enum http1_error err)
{
	struct http1_response resp;
	enum http1_error perr;
	enum http1_status pst;

	pst = http1_parse_response(buf, k, FUZZ_MAX_HEAD, head, &resp, &perr);
	CHECK(pst == HTTP1_AGAIN || (pst == st && perr == err));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_response resp;
	enum http1_status st;
	enum http1_error err;
	const char *buf;
	size_t len;
	int head, i;

	if (size < 1)
		return 0;
	head = data[0] & 1;
	buf = (const char *)data + 1;
	len = size - 1;
	for (i = 0; i < FUZZ_MAX_INTERIM; i++) {
		st = http1_parse_response(buf, len, FUZZ_MAX_HEAD, head, &resp,
		    &err);
		CHECK((st == HTTP1_ERROR) == (err != HTTP1_E_NONE));
		check_prefix(buf, len / 2, head, st, err);
		if (st != HTTP1_OK)
			return 0;
		check_response(&resp, buf, len, head);
		buf += resp.head_len;
		len -= resp.head_len;
		if (resp.status >= 200)
			break;
	}
	if (st == HTTP1_OK && resp.body == HTTP1_BODY_CHUNKED)
		check_chunked(buf, len, data[0] >> 1);
	return 0;
}
