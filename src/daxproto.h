/*
 * daxproto — the DAX data-plane protocol as the gateway reads it (spec
 * section 7): where each request and response ends in the CBOR byte
 * stream, what a request asks (method, tables, the access key id of an
 * authorizeConnection), the rewriting of `endpoints` answers, and the
 * error responses the gateway writes itself.
 *
 * Requests are framed by an explicit layout per method: the service id,
 * the method id, then exactly the positional arguments that method takes,
 * each of the CBOR type the clients send. A method not in the table, an
 * argument of another type, a malformed or oversized item: the stream
 * cannot be bounded, and the framer says so (the connection is closed;
 * nothing is forwarded on a guess). Responses are framed by the method
 * of the request they answer (one outstanding request at a time, spec
 * 7.1): the code-path array, then one result item (BatchWriteItem: null
 * or three; BatchGetItem: null or two, the server's array of two followed
 * by the consumed capacity), or, for an error, a message and its
 * error-info item.
 *
 * Pure: no I/O, no clock; the framers take bytes in pieces of any size.
 */
#ifndef DDBGATE_DAXPROTO_H
#define DDBGATE_DAXPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cbor.h"

#define DAX_MAGIC "J7yne5G"
#define DAX_MAX_PAIRS 100	/* (action, table) pairs per request */
#define DAX_TABLE_MAX 255	/* bytes of a table name */
#define DAX_KEY_ID_MAX 128

enum dax_kind {
	DAX_PREAMBLE,	/* magic, layering, session, {UserAgent}, mode */
	DAX_AUTH,	/* authorizeConnection: no response */
	DAX_ENDPOINTS,	/* discovery: the answer is rewritten */
	DAX_META,	/* defineKeySchema, defineAttributeList(Id) */
	DAX_DATA,	/* item and table operations: the policy decides */
};

struct dax_method {
	int64_t id;
	const char *name;	/* "GetItem", "authorizeConnection" */
	enum dax_kind kind;
	const char *args;	/* one letter per positional argument */
	const char *action;	/* "dax:GetItem"; NULL for protocol calls */
};

/* The method with this id, or NULL. */
const struct dax_method *dax_method_find(int64_t id);

/* The i-th method of the table, or NULL past the last (for tests). */
const struct dax_method *dax_method_at(size_t i);

/* One authorization a request needs: every one must be allowed. */
struct dax_pair {
	const char *action;	/* "dax:PutItem" (static) */
	uint16_t table_off;	/* into dax_request.names */
	uint16_t table_len;
};

struct dax_request {
	enum dax_kind kind;
	const struct dax_method *method; /* NULL for the preamble */
	uint64_t len;			/* bytes of the whole frame */
	/* DAX_AUTH */
	char access_key_id[DAX_KEY_ID_MAX + 1];
	char region[32];		/* from the string-to-sign's scope, or "" */
	bool session_token;		/* a token was sent */
	/*
	 * The frame is well-formed but the request cannot be decided with
	 * certainty (a table name DynamoDB would not accept, a table named
	 * twice, an unknown transact operation, an access key id of the
	 * wrong form): the session refuses it, and says this.
	 */
	bool refused;
	char refusal[200];
	/* DAX_DATA */
	const char *enclosing;		/* "TransactWriteItems", or NULL */
	size_t npairs;
	struct dax_pair pairs[DAX_MAX_PAIRS];
	char names[DAX_MAX_PAIRS * (DAX_TABLE_MAX + 1)];
	size_t names_len;
};

/* A growable copy of the current item, for the arguments that matter. */
struct dax_capture {
	uint8_t *buf;
	size_t len, cap;
	size_t want;	/* copy at most this many bytes of the item */
};

struct dax_framer {
	uint64_t max_frame;	/* a request may not be larger */
	bool started;		/* the preamble went by */
	unsigned item;		/* index of the current top-level item */
	unsigned nitems;	/* of the current frame, once known */
	uint64_t frame_used;
	struct cbor_skip skip;
	struct dax_capture cap;
	struct dax_capture ops;	/* TransactWriteItems: the op codes */
	struct dax_request req;
	char err[200];
};

enum dax_status {
	DAX_MORE,	/* every byte given belongs to the current frame */
	DAX_FRAME,	/* a frame ended; *used says where */
	DAX_ERROR,	/* the stream cannot be bounded: err says why */
};

void dax_framer_init(struct dax_framer *f, uint64_t max_frame);
void dax_framer_free(struct dax_framer *f);

/*
 * Reads client bytes p[0..n). DAX_FRAME: the frame f->req describes
 * ended after *used bytes (call again with the rest: the next frame
 * starts clean); DAX_MORE: *used == n.
 */
enum dax_status dax_framer_feed(struct dax_framer *f, const uint8_t *p,
    size_t n, size_t *used);

/* The table name of pair i, NUL-terminated. */
const char *dax_pair_table(const struct dax_request *r, size_t i);

/* ---- responses ----------------------------------------------------- */

struct dax_response_scan {
	const struct dax_method *method;
	uint64_t max_frame;
	unsigned item;
	unsigned nitems;	/* 1 until the code path is read */
	bool error;		/* a non-empty code path */
	uint64_t used;
	struct cbor_skip skip;
	uint8_t head[9];	/* the first bytes of the current item */
	uint8_t nhead;
	char err[200];
};

void dax_response_init(struct dax_response_scan *r,
    const struct dax_method *method, uint64_t max_frame);

/* As dax_framer_feed, for the answer to one request. */
enum dax_status dax_response_feed(struct dax_response_scan *r,
    const uint8_t *p, size_t n, size_t *used);

/* ---- endpoints answers --------------------------------------------- */

struct dax_node_addr {
	uint8_t addr[16];
	size_t addrlen;		/* 4 or 16 */
	uint16_t port;
};

/*
 * Maps a node's address to the one clients get instead: 0 and *out set,
 * or -1 to leave the node out of the answer.
 */
typedef int (*dax_node_map_fn)(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *out);

/*
 * Rewrites a whole successful `endpoints` response in[0..n) into out
 * (malloc'ed, *outlen bytes): every node's address (key 2) and port
 * (key 3) replaced by map's answer, its host name (key 1) by that
 * address as text, nodes it refuses left out, every other key copied as
 * it is. Each node must be a map with integer keys,
 * no key twice, an address of 4 or 16 bytes and a port of 1-65535.
 * Returns the number of nodes written, or -1 with err set (out NULL).
 * A response whose code path is not empty (an error) is not an
 * endpoints answer: -1.
 */
int dax_endpoints_rewrite(const uint8_t *in, size_t n, dax_node_map_fn map,
    void *arg, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/*
 * Reads the nodes of a whole successful `endpoints` response: calls fn
 * for each (its return value is ignored). Returns the number of nodes,
 * or -1 with err set.
 */
int dax_endpoints_read(const uint8_t *in, size_t n, dax_node_map_fn fn,
    void *arg, char *err, size_t errlen);

/* ---- what the gateway writes --------------------------------------- */

/*
 * An error response (spec 7.5): the code path codes[0..ncodes), the
 * message, and [request_id, error_code, status]. Returns its length, or
 * 0 when cap is too small, ncodes is 0 or a code is negative.
 */
size_t dax_error_encode(uint8_t *out, size_t cap, const int *codes,
    size_t ncodes, const char *message, const char *request_id,
    const char *error_code, unsigned status);

/* The request frames a client sends (for tests and `ddbgate diag`). */
size_t dax_preamble_encode(uint8_t *out, size_t cap, const char *user_agent);
size_t dax_endpoints_request_encode(uint8_t *out, size_t cap);

#endif
