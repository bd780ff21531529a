/*
 * libFuzzer target for http1_parse_request: checks that an accepted head
 * only points into the input, that no prefix of the input answers
 * differently from the whole, and parses what follows (pipelining).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http1.h"

#define FUZZ_MAX_HEAD 4096
#define FUZZ_MAX_PIPELINE 8
#define FUZZ_ALL_PREFIXES 256 /* inputs this small: check every prefix */

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void
check_request(const struct http1_request *req, const char *buf, size_t len)
{
	size_t i;
	const struct http1_header *h;

	CHECK(req->head_len >= 16 && req->head_len <= len);
	CHECK(req->head_len <= FUZZ_MAX_HEAD);
	CHECK(inside(req->method, req->method_len, buf, req->head_len));
	CHECK(inside(req->target, req->target_len, buf, req->head_len));
	CHECK(req->method_len > 0 && req->target_len > 0);
	CHECK(req->minor_version == 0 || req->minor_version == 1);
	CHECK(req->nheaders <= HTTP1_MAX_HEADERS);
	CHECK(req->body == HTTP1_BODY_NONE || req->body == HTTP1_BODY_LENGTH);
	CHECK(req->minor_version == 0 || req->host != NULL);
	if (req->host != NULL)
		CHECK(inside(req->host, req->host_len, buf, req->head_len));
	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		CHECK(h->name_len > 0);
		CHECK(inside(h->name, h->name_len, buf, req->head_len));
		CHECK(inside(h->value, h->value_len, buf, req->head_len));
		CHECK(h->value_len == 0 || (h->value[0] != ' ' &&
		    h->value[0] != '\t' && h->value[h->value_len - 1] != ' ' &&
		    h->value[h->value_len - 1] != '\t'));
	}
	CHECK(http1_header_count(req->headers, req->nheaders,
	    "transfer-encoding") == 0);
	CHECK(http1_header_count(req->headers, req->nheaders,
	    "content-length") == (req->body == HTTP1_BODY_LENGTH));
	CHECK(http1_header_count(req->headers, req->nheaders, "host") <= 1);
}

/* A prefix answers AGAIN, or exactly what the whole input answers. */
static void
check_prefix(const char *buf, size_t len, size_t k, enum http1_status st,
    enum http1_error err)
{
	struct http1_request req;
	enum http1_error perr;
	enum http1_status pst;

	pst = http1_parse_request(buf, k, FUZZ_MAX_HEAD, &req, &perr);
	CHECK(pst == HTTP1_AGAIN || (pst == st && perr == err));
	if (pst == HTTP1_AGAIN)
		CHECK(perr == HTTP1_E_NONE);
}

/* Parses one request; returns the bytes it takes with its body, or 0. */
static size_t
one_request(const char *buf, size_t len)
{
	struct http1_request req;
	enum http1_error err, err2;
	enum http1_status st;
	size_t taken, k;

	st = http1_parse_request(buf, len, FUZZ_MAX_HEAD, &req, &err);
	CHECK((st == HTTP1_ERROR) == (err != HTTP1_E_NONE));
	CHECK(http1_error_str(err) != NULL);
	if (len <= FUZZ_ALL_PREFIXES) {
		for (k = 0; k < len; k++)
			check_prefix(buf, len, k, st, err);
	} else
		check_prefix(buf, len, len / 2, st, err);
	if (st != HTTP1_OK)
		return 0;
	check_request(&req, buf, len);
	check_prefix(buf, len, req.head_len - 1, st, err);
	/* The smallest max_head that holds the head is enough. */
	CHECK(http1_parse_request(buf, len, req.head_len, &req, &err2) ==
	    HTTP1_OK);
	CHECK(http1_parse_request(buf, len, req.head_len - 1, &req, &err2) ==
	    HTTP1_ERROR && err2 == HTTP1_E_HEAD_TOO_LARGE);
	st = http1_parse_request(buf, len, FUZZ_MAX_HEAD, &req, &err);
	CHECK(st == HTTP1_OK);
	taken = req.head_len;
	if (req.body == HTTP1_BODY_LENGTH)
		taken += req.content_length < len - taken ?
		    (size_t)req.content_length : len - taken;
	return taken;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0, n;
	int i;

	for (i = 0; i < FUZZ_MAX_PIPELINE && off < size; i++) {
		if ((n = one_request(buf + off, size - off)) == 0)
			break;
		off += n;
	}
	return 0;
}
