/*
 * daxproto — see daxproto.h. The method table is spec 7.4 checked
 * against the request encoders of the Go client (request.go): one letter
 * per positional argument after the service and method ids.
 *
 *   B  a byte string          b  a byte string or null
 *   T  a text string          t  a text string or null
 *   M  the optional-parameter map, or null
 *   A  an array               *  any one item
 *   I  an integer
 *   K  the access key id (text, read)
 *   S  the string-to-sign (bytes, read for its scope's region)
 *   N  a table name (a definite byte string, read)
 *   G  {table name (text) -> ...} of BatchGetItem/BatchWriteItem (read)
 *   L  an array of table names (byte strings, read)
 *   O  an array of transact operation codes (integers, read)
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxproto.h"
#include "xmalloc.h"

static const struct dax_method methods[] = {
	{ 1489122155, "authorizeConnection", DAX_AUTH, "KTStt", NULL },
	{ 455855874, "endpoints", DAX_ENDPOINTS, "", NULL },
	{ -742646399, "defineKeySchema", DAX_META, "N", NULL },
	{ -1230579644, "defineAttributeListId", DAX_META, "A", NULL },
	{ 670678385, "defineAttributeList", DAX_META, "I", NULL },
	{ 263244906, "GetItem", DAX_DATA, "NBM", "dax:GetItem" },
	{ -2106490455, "PutItem", DAX_DATA, "NBBM", "dax:PutItem" },
	{ 1425579023, "UpdateItem", DAX_DATA, "NBM", "dax:UpdateItem" },
	{ 1013539361, "DeleteItem", DAX_DATA, "NBM", "dax:DeleteItem" },
	{ -931250863, "Query", DAX_DATA, "NBM", "dax:Query" },
	{ -1875390620, "Scan", DAX_DATA, "NM", "dax:Scan" },
	{ -697851100, "BatchGetItem", DAX_DATA, "GM", "dax:BatchGetItem" },
	{ 116217951, "BatchWriteItem", DAX_DATA, "GM", "dax:BatchWriteItem" },
	{ 1866287579, "TransactGetItems", DAX_DATA, "LAAM", "dax:GetItem" },
	{ -1160037738, "TransactWriteItems", DAX_DATA, "OLAA*AAAM", NULL },
};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))
#define DAX_CAPTURE_KEEP (64 * 1024) /* capture bytes kept between frames */

/* Transact operation codes (spec 7.4) and the action each needs. */
static const struct {
	int64_t code;
	const char *action;
} transact_ops[] = {
	{ 2, "dax:PutItem" },
	{ 7, "dax:DeleteItem" },
	{ 9, "dax:UpdateItem" },
	{ 12, "dax:ConditionCheckItem" },
};

const struct dax_method *
dax_method_find(int64_t id)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (methods[i].id == id)
			return &methods[i];
	return NULL;
}

const struct dax_method *
dax_method_at(size_t i)
{
	return i < NMETHODS ? &methods[i] : NULL;
}

const char *
dax_pair_table(const struct dax_request *r, size_t i)
{
	return r->names + r->pairs[i].table_off;
}

/* ---- the request framer ------------------------------------------- */

/*
 * A new frame starts empty. Only what a frame sets is cleared: the whole
 * struct is 27 KiB (room for DAX_MAX_PAIRS table names), and a memset of
 * it per frame was half of the framing's cost (bench/RESULTS-dax.md).
 */
static void
request_reset(struct dax_request *r)
{
	r->kind = DAX_PREAMBLE;
	r->method = NULL;
	r->len = 0;
	r->access_key_id[0] = '\0';
	r->region[0] = '\0';
	r->session_token = false;
	r->refused = false;
	r->refusal[0] = '\0';
	r->enclosing = NULL;
	r->npairs = 0;
	r->names_len = 0;
}

static enum dax_status __attribute__((format(printf, 2, 3)))
frame_error(struct dax_framer *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	return DAX_ERROR;
}

void
dax_framer_init(struct dax_framer *f, uint64_t max_frame)
{
	memset(f, 0, sizeof(*f));
	f->max_frame = max_frame;
}

void
dax_framer_free(struct dax_framer *f)
{
	free(f->cap.buf);
	free(f->ops.buf);
	f->cap.buf = f->ops.buf = NULL;
}

/* Appends p[0..n) to a growable buffer (doubling from 64 bytes). */
static void
append(uint8_t **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 64;

		while (c < *len + n)
			c *= 2;
		*buf = xreallocarray(*buf, c, 1);
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

static void
capture_reset(struct dax_capture *c, size_t want)
{
	c->len = 0;
	c->want = want;
}

static void
capture_add(struct dax_capture *c, const uint8_t *p, size_t n)
{
	/* nothing to add (an error on an item's first byte, when nothing
	 * was kept yet: buf may be NULL) */
	if (n == 0 || c->len >= c->want)
		return;
	if (n > c->want - c->len)
		n = c->want - c->len;
	append(&c->buf, &c->len, &c->cap, p, n);
}

/* The letter describing the current item of a request frame. */
static char
arg_letter(const struct dax_framer *f)
{
	return f->req.method->args[f->item - 2];
}

/* How much of the current item to keep for item_end(). */
static size_t
capture_want(const struct dax_framer *f)
{
	if (!f->started)
		return f->item == 0 ? 16 : 9;
	if (f->item < 2)
		return 9;
	switch (arg_letter(f)) {
	case 'K':
		return DAX_KEY_ID_MAX + 9;
	case 'S':
		return 512;
	case 'N':
		return DAX_TABLE_MAX + 9;
	case 'G':
	case 'L':
	case 'O':
		return (size_t)f->max_frame;
	default:
		return 9;
	}
}

static void
start_item(struct dax_framer *f)
{
	cbor_skip_init(&f->skip, f->max_frame - f->frame_used);
	capture_reset(&f->cap, capture_want(f));
}

static bool
is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* A refusal of the request (not of the stream): the session denies it. */
static void __attribute__((format(printf, 2, 3)))
refuse(struct dax_framer *f, const char *fmt, ...)
{
	va_list ap;

	if (f->req.refused)
		return;
	f->req.refused = true;
	va_start(ap, fmt);
	vsnprintf(f->req.refusal, sizeof(f->req.refusal), fmt, ap);
	va_end(ap);
}

/* Adds (action, table) unless the request has it already. */
static void
add_pair(struct dax_framer *f, const char *action, const uint8_t *name,
    size_t len)
{
	struct dax_request *r = &f->req;

	if (len < 3 || len > DAX_TABLE_MAX) {
		refuse(f, "a table name of %zu bytes (DynamoDB table names "
		    "have 3 to 255)", len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i])) {
			refuse(f, "a table name with a character outside "
			    "[A-Za-z0-9_.-]");
			return;
		}
	for (size_t i = 0; i < r->npairs; i++)
		if (r->pairs[i].action == action &&
		    r->pairs[i].table_len == len &&
		    memcmp(dax_pair_table(r, i), name, len) == 0)
			return;
	if (r->npairs == DAX_MAX_PAIRS) {
		refuse(f, "more than %d tables in one request", DAX_MAX_PAIRS);
		return;
	}
	r->pairs[r->npairs].action = action;
	r->pairs[r->npairs].table_off = (uint16_t)r->names_len;
	r->pairs[r->npairs].table_len = (uint16_t)len;
	memcpy(r->names + r->names_len, name, len);
	r->names[r->names_len + len] = '\0';
	r->names_len += len + 1;
	r->npairs++;
}

/* The region of "AWS4-HMAC-SHA256\n<ts>\n<date>/<region>/dax/aws4_request\n...". */
static void
scope_region(struct dax_request *r, const uint8_t *p, size_t n)
{
	const uint8_t *line = p, *end = p + n, *slash, *reg, *eol;
	size_t len;

	if (n < 17 || memcmp(p, "AWS4-HMAC-SHA256\n", 17) != 0)
		return;
	for (int i = 0; i < 2; i++) {
		const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));

		if (nl == NULL)
			return;
		line = nl + 1;
	}
	/* the scope is the third line, and only that line */
	if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL ||
	    (slash = memchr(line, '/', (size_t)(eol - line))) == NULL)
		return;
	reg = slash + 1;
	for (len = 0; reg + len < end && len < sizeof(r->region) - 1; len++) {
		uint8_t c = reg[len];

		if (c == '/')
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return;
	}
	if (len == 0 || reg + len + 18 > end ||
	    memcmp(reg + len, "/dax/aws4_request\n", 18) != 0)
		return;
	memcpy(r->region, reg, len);
	r->region[len] = '\0';
}

static bool
is_key_id(const uint8_t *p, size_t n)
{
	if (n < 16 || n > DAX_KEY_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' &&
		    p[i] <= '9')))
			return false;
	return true;
}

/* BatchGetItem / BatchWriteItem: the table names are the map's keys. */
static void
read_batch(struct dax_framer *f, const uint8_t *p, size_t n)
{
	struct cbor_reader rd;
	size_t count, i, before;
	const uint8_t *name;
	size_t len;

	cbor_reader_init(&rd, p, n);
	if (cbor_read_container(&rd, CBOR_MAP, &count) != CBOR_OK) {
		refuse(f, "RequestItems is not a map");
		return;
	}
	for (i = 0; !cbor_container_end(&rd, count, i); i++) {
		if (cbor_read_string(&rd, CBOR_TEXT, &name, &len) != CBOR_OK) {
			refuse(f, "a RequestItems key that is not a definite "
			    "text string");
			return;
		}
		before = f->req.npairs;
		add_pair(f, f->req.method->action, name, len);
		if (f->req.npairs == before && !f->req.refused)
			refuse(f, "a table named twice in RequestItems");
		if (cbor_skip_item(&rd) != CBOR_OK)
			return; /* the skipper accepted it: unreachable */
	}
	if (i == 0)
		refuse(f, "RequestItems is empty");
}

/* An array of table names; with ops (TransactWriteItems) the action of
 * each comes from its operation code. */
static void
read_tables(struct dax_framer *f, const uint8_t *p, size_t n)
{
	struct cbor_reader rd, od;
	size_t count, ocount = 0, i;
	const uint8_t *name;
	size_t len;
	bool write = f->req.method->action == NULL;

	cbor_reader_init(&rd, p, n);
	cbor_reader_init(&od, f->ops.buf, f->ops.len);
	if (cbor_read_container(&rd, CBOR_ARRAY, &count) != CBOR_OK ||
	    (write && cbor_read_container(&od, CBOR_ARRAY, &ocount) != CBOR_OK)) {
		refuse(f, "TransactItems tables or operations are not arrays");
		return;
	}
	for (i = 0; !cbor_container_end(&rd, count, i); i++) {
		const char *action = f->req.method->action;
		int64_t code;
		size_t k;

		if (cbor_read_string(&rd, CBOR_BYTES, &name, &len) !=
		    CBOR_OK) {
			refuse(f, "a TransactItems table that is not a "
			    "definite byte string");
			return;
		}
		if (write) {
			if (cbor_container_end(&od, ocount, i) ||
			    cbor_read_int(&od, &code) != CBOR_OK) {
				refuse(f, "TransactItems operations do not "
				    "match its tables");
				return;
			}
			for (k = 0; k < sizeof(transact_ops) /
			    sizeof(transact_ops[0]); k++)
				if (transact_ops[k].code == code)
					break;
			if (k == sizeof(transact_ops) / sizeof(transact_ops[0])) {
				refuse(f, "an unknown TransactWriteItems "
				    "operation code %lld", (long long)code);
				return;
			}
			action = transact_ops[k].action;
		}
		add_pair(f, action, name, len);
	}
	if (write && !cbor_container_end(&od, ocount, i))
		refuse(f, "TransactItems operations do not match its tables");
	if (i == 0)
		refuse(f, "TransactItems is empty");
}

/* The type the layout letter asks for, checked on the item's head. */
static bool
type_ok(char letter, const struct cbor_head *h)
{
	bool null = h->major == CBOR_SIMPLE && h->ai == CBOR_NULL;

	switch (letter) {
	case 'B':
		return h->major == CBOR_BYTES;
	case 'N':
	case 'S':
		return h->major == CBOR_BYTES && !h->indefinite;
	case 'b':
		return h->major == CBOR_BYTES || null;
	case 'T':
		return h->major == CBOR_TEXT;
	case 'K':
		return h->major == CBOR_TEXT && !h->indefinite;
	case 't':
		return h->major == CBOR_TEXT || null;
	case 'M':	/* the JS client sends null for no parameters */
		return h->major == CBOR_MAP || null;
	case 'G':
		return h->major == CBOR_MAP;
	case 'A':
	case 'L':
	case 'O':
		return h->major == CBOR_ARRAY;
	case 'I':
		return h->major == CBOR_UINT || h->major == CBOR_NEGINT;
	case '*':
		return true;
	}
	return false;
}

static enum dax_status
preamble_item(struct dax_framer *f, const struct cbor_head *h)
{
	static const size_t mlen = sizeof(DAX_MAGIC) - 1;

	switch (f->item) {
	case 0:
		if (h->major != CBOR_TEXT || h->indefinite || h->value != mlen ||
		    memcmp(f->cap.buf + 1, DAX_MAGIC, mlen) != 0)
			return frame_error(f, "not a DAX connection (the "
			    "preamble's magic is missing)");
		return DAX_MORE;
	case 1:
	case 4:
		if (h->major != CBOR_UINT || h->value != 0)
			return frame_error(f, "preamble item %u is not 0 "
			    "(layering and client mode 0 are the only ones "
			    "known)", f->item);
		return f->item == 4 ? DAX_FRAME : DAX_MORE;
	case 2:
		if (h->major != CBOR_BYTES && h->major != CBOR_TEXT &&
		    !(h->major == CBOR_SIMPLE && h->ai == CBOR_NULL))
			return frame_error(f, "the preamble's session id is "
			    "not a string or null");
		return DAX_MORE;
	default:
		if (h->major != CBOR_MAP)
			return frame_error(f, "the preamble's client "
			    "attributes are not a map");
		return DAX_MORE;
	}
}

/* The item just ended: check it and take what the request needs. */
static enum dax_status
item_end(struct dax_framer *f)
{
	struct cbor_reader rd;
	struct cbor_head h;
	int64_t id;
	char letter;

	cbor_reader_init(&rd, f->cap.buf, f->cap.len);
	if (cbor_head_decode(f->cap.buf, f->cap.len, &h, &rd.err) != CBOR_OK)
		return frame_error(f, "internal: an item without a head");
	if (!f->started)
		return preamble_item(f, &h);
	if (f->item == 0) {
		if (h.major != CBOR_UINT || h.value != 1)
			return frame_error(f, "a request whose service id is "
			    "not 1");
		return DAX_MORE;
	}
	if (f->item == 1) {
		if (cbor_read_int(&rd, &id) != CBOR_OK)
			return frame_error(f, "a request whose method id is "
			    "not an integer");
		if ((f->req.method = dax_method_find(id)) == NULL)
			return frame_error(f, "unknown method id %lld: its "
			    "arguments cannot be bounded", (long long)id);
		f->req.kind = f->req.method->kind;
		if (strncmp(f->req.method->name, "Transact", 8) == 0)
			f->req.enclosing = f->req.method->name;
		f->nitems = 2 + (unsigned)strlen(f->req.method->args);
		return f->nitems == 2 ? DAX_FRAME : DAX_MORE;
	}
	letter = arg_letter(f);
	if (!type_ok(letter, &h))
		return frame_error(f, "%s argument %u is not of the type the "
		    "method takes", f->req.method->name, f->item - 1);
	switch (letter) {
	case 'K': {
		const uint8_t *p;
		size_t n;

		if (cbor_read_string(&rd, CBOR_TEXT, &p, &n) != CBOR_OK ||
		    !is_key_id(p, n))
			refuse(f, "authorizeConnection with an access key id "
			    "that is not 16-128 characters of A-Z, 0-9");
		else {
			memcpy(f->req.access_key_id, p, n);
			f->req.access_key_id[n] = '\0';
		}
		break;
	}
	case 'S': {
		const uint8_t *p;
		size_t n;

		if (cbor_read_string(&rd, CBOR_BYTES, &p, &n) == CBOR_OK)
			scope_region(&f->req, p, n);
		break;
	}
	case 't':
		if (f->item == 5)	/* authorizeConnection's token */
			f->req.session_token = h.major == CBOR_TEXT;
		break;
	case 'N': {
		const uint8_t *p;
		size_t n;

		if (cbor_read_string(&rd, CBOR_BYTES, &p, &n) != CBOR_OK)
			refuse(f, "a table name longer than %d bytes",
			    DAX_TABLE_MAX);
		else if (f->req.kind == DAX_DATA)
			add_pair(f, f->req.method->action, p, n);
		break;
	}
	case 'G':
		read_batch(f, f->cap.buf, f->cap.len);
		break;
	case 'O':
		capture_reset(&f->ops, f->cap.len);
		capture_add(&f->ops, f->cap.buf, f->cap.len);
		break;
	case 'L':
		read_tables(f, f->cap.buf, f->cap.len);
		break;
	}
	return f->item + 1 == f->nitems ? DAX_FRAME : DAX_MORE;
}

enum dax_status
dax_framer_feed(struct dax_framer *f, const uint8_t *p, size_t n,
    size_t *used)
{
	size_t off = 0;

	while (off < n) {
		enum cbor_status st;
		enum dax_status ds;
		size_t k = 0;

		if (f->item == 0 && f->frame_used == 0) {
			/* a new frame */
			request_reset(&f->req);
			f->req.kind = f->started ? DAX_DATA : DAX_PREAMBLE;
			f->nitems = f->started ? 2 : 5;
			start_item(f);
		}
		st = cbor_skip_feed(&f->skip, p + off, n - off, &k);
		capture_add(&f->cap, p + off, k);
		off += k;
		f->frame_used += k;
		if (st == CBOR_ERROR)
			return frame_error(f, "malformed CBOR in %s: %s",
			    f->req.method ? f->req.method->name : f->started ?
			    "a request" : "the preamble", f->skip.err);
		if (st == CBOR_MORE)
			break;
		ds = item_end(f);
		if (ds == DAX_ERROR) {
			*used = off;
			return DAX_ERROR;
		}
		if (ds == DAX_FRAME) {
			/* a big Batch map's copy is not kept for the
			 * connection's life */
			if (f->cap.cap > DAX_CAPTURE_KEEP) {
				free(f->cap.buf);
				memset(&f->cap, 0, sizeof(f->cap));
			}
			if (f->ops.cap > DAX_CAPTURE_KEEP) {
				free(f->ops.buf);
				memset(&f->ops, 0, sizeof(f->ops));
			}
			f->req.len = f->frame_used;
			f->started = true;
			f->item = 0;
			f->frame_used = 0;
			*used = off;
			return DAX_FRAME;
		}
		f->item++;
		start_item(f);
	}
	*used = off;
	return DAX_MORE;
}

/* ---- responses ---------------------------------------------------- */

void
dax_response_init(struct dax_response_scan *r, const struct dax_method *method,
    uint64_t max_frame)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->max_frame = max_frame;
	r->nitems = 1;
	cbor_skip_init(&r->skip, max_frame);
}

static enum dax_status __attribute__((format(printf, 2, 3)))
response_error(struct dax_response_scan *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return DAX_ERROR;
}

static enum dax_status
response_item_end(struct dax_response_scan *r)
{
	struct cbor_head h;
	const char *err = NULL;

	if (cbor_head_decode(r->head, r->nhead, &h, &err) != CBOR_OK)
		return response_error(r, "internal: an item without a head");
	if (r->item == 0) {
		if (h.major != CBOR_ARRAY || h.indefinite)
			return response_error(r, "a response to %s that does "
			    "not start with a code-path array",
			    r->method->name);
		r->error = h.value > 0;
		r->nitems = r->error ? 3 : 2;
	} else if (r->item == 1 && !r->error &&
	    strcmp(r->method->name, "BatchWriteItem") == 0 &&
	    !(h.major == CBOR_SIMPLE && h.ai == CBOR_NULL)) {
		r->nitems = 4; /* unprocessed, capacity, collection metrics */
	} else if (r->item == 1 && !r->error &&
	    strcmp(r->method->name, "BatchGetItem") == 0 &&
	    !(h.major == CBOR_SIMPLE && h.ai == CBOR_NULL)) {
		/*
		 * The server declares [responses, unprocessed] but sends the
		 * consumed capacity as a third, top-level item: both official
		 * clients read it (the JavaScript client's BatchGetItem
		 * assembler expects two values; the Go client reads the
		 * capacity array after the two maps). Null alone otherwise.
		 */
		r->nitems = 3;
	}
	return r->item + 1 == r->nitems ? DAX_FRAME : DAX_MORE;
}

enum dax_status
dax_response_feed(struct dax_response_scan *r, const uint8_t *p, size_t n,
    size_t *used)
{
	size_t off = 0;

	while (off < n) {
		enum cbor_status st;
		enum dax_status ds;
		size_t k = 0, h;

		st = cbor_skip_feed(&r->skip, p + off, n - off, &k);
		h = k < sizeof(r->head) - r->nhead ? k : sizeof(r->head) -
		    r->nhead;
		memcpy(r->head + r->nhead, p + off, h);
		r->nhead = (uint8_t)(r->nhead + h);
		off += k;
		r->used += k;
		if (st == CBOR_ERROR) {
			*used = off;
			return response_error(r, "malformed CBOR in a response "
			    "to %s: %s", r->method->name, r->skip.err);
		}
		if (st == CBOR_MORE)
			break;
		if ((ds = response_item_end(r)) != DAX_MORE) {
			*used = off;
			return ds;
		}
		r->item++;
		r->nhead = 0;
		cbor_skip_init(&r->skip, r->max_frame - r->used);
	}
	*used = off;
	return DAX_MORE;
}

/* ---- endpoints answers -------------------------------------------- */

#define NODE_KEYS 64

struct node_span {
	size_t start, end;	/* the value's bytes in the input */
};

/* One node map: its keys in order, the address and port read. */
struct node {
	int64_t keys[NODE_KEYS];
	struct node_span spans[NODE_KEYS];
	size_t nkeys;
	struct dax_node_addr addr;
	bool has_addr, has_port;
};

static int __attribute__((format(printf, 3, 4)))
ep_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
read_node(struct cbor_reader *rd, struct node *nd, char *err, size_t errlen)
{
	uint64_t seen = 0;
	size_t count, i;

	memset(nd, 0, sizeof(*nd));
	if (cbor_read_container(rd, CBOR_MAP, &count) != CBOR_OK)
		return ep_error(err, errlen, "a node that is not a map");
	for (i = 0; !cbor_container_end(rd, count, i); i++) {
		int64_t key, port;
		const uint8_t *a;
		size_t alen;

		if (cbor_read_int(rd, &key) != CBOR_OK || key < 0 ||
		    key >= NODE_KEYS)
			return ep_error(err, errlen, "a node key that is not "
			    "an integer 0-63");
		if (seen & (1ull << key))
			return ep_error(err, errlen, "node key %lld twice",
			    (long long)key);
		seen |= 1ull << key;
		nd->keys[nd->nkeys] = key;
		nd->spans[nd->nkeys].start = rd->pos;
		if (key == 2) {
			if (cbor_read_string(rd, CBOR_BYTES, &a, &alen) !=
			    CBOR_OK || (alen != 4 && alen != 16))
				return ep_error(err, errlen, "a node address "
				    "that is not 4 or 16 bytes");
			memcpy(nd->addr.addr, a, alen);
			nd->addr.addrlen = alen;
			nd->has_addr = true;
		} else if (key == 3) {
			if (cbor_read_int(rd, &port) != CBOR_OK || port < 1 ||
			    port > 65535)
				return ep_error(err, errlen, "a node port "
				    "outside 1-65535");
			nd->addr.port = (uint16_t)port;
			nd->has_port = true;
		} else if (cbor_skip_item(rd) != CBOR_OK) {
			return ep_error(err, errlen, "node key %lld: %s",
			    (long long)key, rd->err);
		}
		nd->spans[nd->nkeys++].end = rd->pos;
	}
	if (!nd->has_addr || !nd->has_port)
		return ep_error(err, errlen, "a node without an address or "
		    "port");
	return 0;
}

/* The answer's header: an empty code path, then the array of nodes. */
static int
open_answer(struct cbor_reader *rd, size_t *count, char *err, size_t errlen)
{
	struct cbor_head h;

	if (cbor_read_head(rd, &h) != CBOR_OK || h.major != CBOR_ARRAY ||
	    h.indefinite || h.value != 0)
		return ep_error(err, errlen, "not a successful endpoints "
		    "answer");
	if (cbor_read_container(rd, CBOR_ARRAY, count) != CBOR_OK)
		return ep_error(err, errlen, "the endpoints answer is not an "
		    "array of nodes");
	return 0;
}

#define MAX_NODES 256

int
dax_endpoints_read(const uint8_t *in, size_t n, dax_node_map_fn fn,
    void *arg, char *err, size_t errlen)
{
	struct cbor_reader rd;
	struct dax_node_addr unused;
	struct node nd;
	size_t count, i;

	cbor_reader_init(&rd, in, n);
	if (open_answer(&rd, &count, err, errlen) != 0)
		return -1;
	for (i = 0; !cbor_container_end(&rd, count, i); i++) {
		if (i == MAX_NODES)
			return ep_error(err, errlen, "more than %d nodes",
			    MAX_NODES);
		if (read_node(&rd, &nd, err, errlen) != 0)
			return -1;
		if (fn != NULL)
			(void)fn(arg, &nd.addr, &unused);
	}
	if (rd.pos != n)
		return ep_error(err, errlen, "bytes after the endpoints answer");
	return (int)i;
}

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void
out_add(struct out *o, const void *p, size_t n)
{
	append(&o->p, &o->len, &o->cap, p, n);
}

static void
out_head(struct out *o, enum cbor_major major, uint64_t v)
{
	uint8_t h[9];

	out_add(o, h, cbor_put_head(h, major, v));
}

int
dax_endpoints_rewrite(const uint8_t *in, size_t n, dax_node_map_fn map,
    void *arg, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct cbor_reader rd;
	struct out nodes = { NULL, 0, 0 }, o = { NULL, 0, 0 };
	struct node nd;
	size_t count, i, kept = 0;

	*out = NULL;
	cbor_reader_init(&rd, in, n);
	if (open_answer(&rd, &count, err, errlen) != 0)
		return -1;
	for (i = 0; !cbor_container_end(&rd, count, i); i++) {
		struct dax_node_addr to;

		if (i == MAX_NODES) {
			free(nodes.p);
			return ep_error(err, errlen, "more than %d nodes",
			    MAX_NODES);
		}
		if (read_node(&rd, &nd, err, errlen) != 0) {
			free(nodes.p);
			return -1;
		}
		if (map(arg, &nd.addr, &to) != 0)
			continue;
		kept++;
		out_head(&nodes, CBOR_MAP, nd.nkeys);
		for (size_t k = 0; k < nd.nkeys; k++) {
			out_head(&nodes, CBOR_UINT, (uint64_t)nd.keys[k]);
			if (nd.keys[k] == 1) {
				/* the host name too: a client that dials names
				 * (JS: only without an address) still comes
				 * to the gateway */
				char text[INET6_ADDRSTRLEN];

				inet_ntop(to.addrlen == 4 ? AF_INET : AF_INET6,
				    to.addr, text, sizeof(text));
				out_head(&nodes, CBOR_TEXT, strlen(text));
				out_add(&nodes, text, strlen(text));
			} else if (nd.keys[k] == 2) {
				out_head(&nodes, CBOR_BYTES, to.addrlen);
				out_add(&nodes, to.addr, to.addrlen);
			} else if (nd.keys[k] == 3) {
				out_head(&nodes, CBOR_UINT, to.port);
			} else {
				out_add(&nodes, in + nd.spans[k].start,
				    nd.spans[k].end - nd.spans[k].start);
			}
		}
	}
	if (rd.pos != n) {
		free(nodes.p);
		return ep_error(err, errlen, "bytes after the endpoints answer");
	}
	out_head(&o, CBOR_ARRAY, 0);
	out_head(&o, CBOR_ARRAY, kept);
	if (nodes.len > 0)
		out_add(&o, nodes.p, nodes.len);
	free(nodes.p);
	*out = o.p;
	*outlen = o.len;
	return (int)kept;
}

/* ---- what the gateway writes -------------------------------------- */

static size_t
put_text(uint8_t *out, size_t cap, size_t at, const char *s)
{
	size_t n = strlen(s);
	uint8_t h[9];
	size_t hl = cbor_put_head(h, CBOR_TEXT, n);

	if (at + hl + n > cap)
		return 0;
	memcpy(out + at, h, hl);
	memcpy(out + at + hl, s, n);
	return at + hl + n;
}

size_t
dax_error_encode(uint8_t *out, size_t cap, const int *codes, size_t ncodes,
    const char *message, const char *request_id, const char *error_code,
    unsigned status)
{
	size_t at = 0;

	/* an empty code path is a success response (the client would read
	 * what follows it as the next response); codes are not negative */
	if (ncodes == 0 || cap < 9 * (ncodes + 3))
		return 0;
	for (size_t i = 0; i < ncodes; i++)
		if (codes[i] < 0)
			return 0;
	at += cbor_put_head(out + at, CBOR_ARRAY, ncodes);
	for (size_t i = 0; i < ncodes; i++)
		at += cbor_put_head(out + at, CBOR_UINT, (uint64_t)codes[i]);
	if ((at = put_text(out, cap, at, message)) == 0)
		return 0;
	if (at + 1 > cap)
		return 0;
	at += cbor_put_head(out + at, CBOR_ARRAY, 3);
	if ((at = put_text(out, cap, at, request_id)) == 0 ||
	    (at = put_text(out, cap, at, error_code)) == 0 || at + 9 > cap)
		return 0;
	at += cbor_put_head(out + at, CBOR_UINT, status);
	return at;
}

size_t
dax_preamble_encode(uint8_t *out, size_t cap, const char *user_agent)
{
	size_t at;

	if ((at = put_text(out, cap, 0, DAX_MAGIC)) == 0 || at + 4 > cap)
		return 0;
	out[at++] = 0x00;	/* layering */
	out[at++] = 0xf6;	/* no session id */
	out[at++] = 0xa1;	/* {"UserAgent": ...} */
	if ((at = put_text(out, cap, at, "UserAgent")) == 0 ||
	    (at = put_text(out, cap, at, user_agent)) == 0 || at + 1 > cap)
		return 0;
	out[at++] = 0x00;	/* client mode */
	return at;
}

size_t
dax_endpoints_request_encode(uint8_t *out, size_t cap)
{
	if (cap < 6)
		return 0;
	out[0] = 0x01;
	return 1 + cbor_put_head(out + 1, CBOR_UINT, 455855874);
}
