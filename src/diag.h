/*
 * diag — `ddbgate diag`: connectivity diagnostics, layer by layer, for
 * each endpoint of a configuration (or one named target): config, DNS
 * (every resolver asked separately), TCP, TLS, an unsigned HTTP request
 * that only the real service answers with its missing-authentication
 * error (a DAX cluster: its discovery answer and every node), optionally the endpoint policy, and optionally the same checks
 * through a running gateway (CONNECT). docs/diag.md describes the steps,
 * the exit codes and the JSON document (docs/diag.schema.json).
 *
 * The result model, the hints, the exit code and both renderers are pure
 * functions of plain data, so they are unit-tested without a network.
 */
#ifndef DDBGATE_DIAG_H
#define DDBGATE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* The JSON document's "version": bumped only for incompatible changes. */
#define DIAG_JSON_VERSION 1

/* The layers in path order; each failing layer has its own exit code. */
enum diag_layer {
	DIAG_CONFIG,
	DIAG_DNS,
	DIAG_TCP,
	DIAG_TLS,
	DIAG_HTTP,
	DIAG_POLICY,
	DIAG_VIA,
	DIAG_NLAYERS
};

enum diag_status {
	DIAG_PASS,
	DIAG_WARN, /* works, but something needs attention soon */
	DIAG_FAIL,
	DIAG_SKIP, /* not run: not asked for, or nothing to run it on */
};

#define DIAG_EXIT_OK 0
#define DIAG_EXIT_INTERNAL 1	/* the whole-run ceiling was hit; a bug */
#define DIAG_EXIT_USAGE 2
/* 3 config, 4 DNS, 5 TCP, 6 TLS, 7 HTTP, 8 policy, 9 via: 3 + layer */

struct diag_step {
	enum diag_layer layer;
	enum diag_status status;
	unsigned duration_ms;
	char *summary;	  /* owned; one line */
	char *hint;	  /* owned; one line saying what to check, or NULL */
	json_t *evidence; /* owned; a JSON object, never NULL once ended */
	uint64_t started_ms; /* private to diag.c */
};

struct diag_target {
	char *endpoint;	/* owned; NULL for a HOST[:PORT] target */
	char *service;	/* owned; "dynamodb", "streams", "dax", ... or NULL */
	char *name;	/* owned; the name clients ask for; NULL when the
			   configuration did not load */
	unsigned port;	/* the port clients ask for; 0 with name NULL */
	struct diag_step steps[DIAG_NLAYERS];
	size_t nsteps;	/* in path order */
};

struct diag_report {
	const char *config;	/* the file, or "(built-in defaults)" */
	unsigned timeout_ms;
	const char *via;	/* the proxy without credentials, or NULL */
	struct diag_target *targets; /* owned */
	size_t ntargets;
};

/* `ddbgate diag ...`; argv[0] is "diag". Returns the exit status. */
int diag_main(int argc, char **argv);

/* "config", "dns", "tcp", "tls", "http", "policy", "via". */
const char *diag_layer_name(enum diag_layer layer);

/* "pass", "warn", "fail", "skip". */
const char *diag_status_name(enum diag_status status);

/* The exit code a failure of layer gives: 3 + layer. */
int diag_layer_exit_code(enum diag_layer layer);

/*
 * The exit code of a whole report: 0 when nothing failed (warnings and
 * skips allowed), else the code of the first failing layer in path
 * order over all targets (the smallest code).
 */
int diag_exit_code(const struct diag_report *r);

/* The JSON document of docs/diag.md (a new reference). */
json_t *diag_report_json(const struct diag_report *r);

/* One line per step, a hint line under each failure or warning. */
void diag_print_human(const struct diag_report *r, FILE *out);

void diag_report_free(struct diag_report *r);

/* ---- hints: what to check, one line each --------------------------- */

enum diag_dns_result {
	DIAG_DNS_OK,
	DIAG_DNS_PUBLIC,      /* answered, but an address is outside
				 allowed_cidrs */
	DIAG_DNS_NXDOMAIN,
	DIAG_DNS_NODATA,      /* the name exists, no A/AAAA records */
	DIAG_DNS_SERVFAIL,
	DIAG_DNS_REFUSED,
	DIAG_DNS_TIMEOUT,
	DIAG_DNS_UNREACHABLE, /* ICMP port unreachable, connection refused */
	DIAG_DNS_NO_ROUTE,    /* the query could not even be sent */
	DIAG_DNS_ERROR,
};

/* "ok", "public", "nxdomain", ... as in the JSON evidence. */
const char *diag_dns_result_name(enum diag_dns_result r);

/* A hint for one failed answer: server is "10.0.0.2:53", address the
 * offending address of DIAG_DNS_PUBLIC (else NULL). */
void diag_hint_dns(char *buf, size_t len, enum diag_dns_result r,
    const char *server, const char *name, const char *address,
    unsigned timeout_ms);

enum diag_tcp_result {
	DIAG_TCP_CONNECTED,
	DIAG_TCP_REFUSED,
	DIAG_TCP_TIMEOUT,
	DIAG_TCP_UNREACHABLE,	/* no route, network unreachable */
	DIAG_TCP_ERROR,
	DIAG_TCP_NOT_CONTACTED,	/* outside allowed_cidrs: no packet sent */
};

const char *diag_tcp_result_name(enum diag_tcp_result r);

/* address is "10.0.1.5:443"; why is strerror() text for ERROR. */
void diag_hint_tcp(char *buf, size_t len, enum diag_tcp_result r,
    const char *address, unsigned port, unsigned timeout_ms,
    const char *why);

enum diag_tls_result {
	DIAG_TLS_OK,
	DIAG_TLS_EXPIRING,	   /* verified, a certificate expires soon */
	DIAG_TLS_VERIFY_FAILED,	   /* handshake done, chain or name bad */
	DIAG_TLS_HANDSHAKE_FAILED,
	DIAG_TLS_TIMEOUT,
};

const char *diag_tls_result_name(enum diag_tls_result r);

/* Days under which a certificate's expiry is a warning. */
#define DIAG_EXPIRY_WARN_DAYS 30

/* What a TLS hint is made of; strings may be NULL when unknown. */
struct diag_tls_facts {
	enum diag_tls_result result;
	long verify_code;	/* X509_V_* of the first verification error */
	const char *reason;	/* OpenSSL's text for it, or the TLS error */
	const char *address;	/* "10.0.1.5:443", or the gateway */
	const char *name;	/* the name asked for (SNI, verified) */
	const char *ca_file;	/* the bundle verified against */
	const char *issuer;	/* issuer of the certificate at fault */
	const char *subject;	/* subject of the certificate at fault */
	const char *sans;	/* the leaf's names, "a, b" */
	const char *not_before, *not_after; /* of the certificate at fault */
	long days;		/* days to the nearest expiry in the chain */
	unsigned timeout_ms;
	bool via;		/* the gateway's certificate, against the
				   local trust bundle */
};

void diag_hint_tls(char *buf, size_t len, const struct diag_tls_facts *f);

enum diag_http_result {
	DIAG_HTTP_AUTH_ERROR,	/* 400 with the missing-authentication error */
	DIAG_HTTP_OTHER,	/* some other answer */
	DIAG_HTTP_TIMEOUT,
	DIAG_HTTP_CLOSED,	/* closed before a whole response head */
	DIAG_HTTP_MALFORMED,	/* not an HTTP/1.1 response */
};

const char *diag_http_result_name(enum diag_http_result r);

/* status_line like "HTTP/1.1 200 OK" (may be NULL), server the Server
 * field (may be NULL), service "DynamoDB", "DynamoDB Streams" or "DAX". */
void diag_hint_http(char *buf, size_t len, enum diag_http_result r,
    const char *address, const char *service, const char *status_line,
    const char *server, unsigned timeout_ms, bool via);

/*
 * Whether an answer proves the service answered: status 400 and an
 * __type ending in MissingAuthenticationTokenException,
 * UnrecognizedClientException or InvalidSignatureException.
 */
bool diag_is_auth_error(int status, const char *type);

/* A hint for the gateway's answer to CONNECT: status 0 = no HTTP
 * answer (then why says what happened); message is the error body's. */
void diag_hint_connect(char *buf, size_t len, int status,
    const char *proxy, const char *target, const char *message,
    const char *why);

/* ---- DAX clusters: the discovery answer and its nodes --------------- */

#define DIAG_DAX_MAX_NODES 16	/* nodes of a discovery answer checked */
#define DIAG_DAX_MAX_CODES 8	/* elements of an error's code path kept */

/* One node of an `endpoints` answer (spec 7.6); absent keys stay empty. */
struct diag_dax_node {
	char address[64];	/* "10.0.1.5" (key 2) */
	uint8_t addr[16];
	size_t addrlen;		/* 4 or 16 */
	uint16_t port;		/* key 3 */
	bool has_id;
	int64_t node_id;	/* key 0 */
	char hostname[256];	/* key 1, cleaned; "" when absent */
	int64_t role;		/* key 4: 1 leader, 2 replica; 0 absent */
	char zone[64];		/* key 5, cleaned; "" when absent */
};

enum diag_dax_answer_kind {
	DIAG_DAX_ANSWER_NODES,	   /* a successful answer: nodes */
	DIAG_DAX_ANSWER_ERROR,	   /* a non-empty code path */
	DIAG_DAX_ANSWER_MALFORMED, /* neither (err says why) */
};

struct diag_dax_answer {
	enum diag_dax_answer_kind kind;
	int64_t codes[DIAG_DAX_MAX_CODES];
	size_t ncodes;		/* of codes[] kept */
	size_t codes_total;	/* elements of the code path */
	char message[256];	/* an error's message, cleaned */
	char error_code[96];	/* an error's errorCode, or "" */
	struct diag_dax_node nodes[DIAG_DAX_MAX_NODES];
	size_t nnodes;		/* kept: the first DIAG_DAX_MAX_NODES */
	size_t listed;		/* nodes in the answer */
	char err[200];
};

/*
 * Reads one whole response to `endpoints` buf[0..n) (framed by
 * dax_response_feed): the nodes through dax_endpoints_read (so diag
 * accepts exactly what the gateway accepts) with their id, host name,
 * role and zone, or an error's code path, message and errorCode.
 */
void diag_dax_answer_read(const uint8_t *buf, size_t n,
    struct diag_dax_answer *a);

/* An authentication error: code path [*, 23, 31, ...] (spec 7.5). */
bool diag_dax_is_auth_error(const int64_t *codes, size_t n);

/* "leader", "replica", or NULL (absent or unknown). */
const char *diag_dax_role_name(int64_t role);

enum diag_dax_problem {
	DIAG_DAX_TIMEOUT,	/* no whole answer to endpoints in time */
	DIAG_DAX_CLOSED,	/* closed before a whole answer */
	DIAG_DAX_MALFORMED,	/* not a DAX endpoints answer */
	DIAG_DAX_ERROR,		/* an error answer (detail: its message) */
	DIAG_DAX_AUTH,		/* it wants authorizeConnection first */
	DIAG_DAX_NO_NODES,	/* an answer without a node */
	DIAG_DAX_OUTSIDE,	/* a node outside allowed_cidrs */
	DIAG_DAX_TOO_MANY,	/* more nodes than diag checks */
};

/*
 * A hint for a DAX discovery problem. seed is the node asked
 * ("10.0.1.5:9111"), node the node at fault (OUTSIDE), detail the
 * error message (ERROR), the parse error (MALFORMED) or the
 * allowed_cidrs text (OUTSIDE); endpoint may be NULL.
 */
void diag_hint_dax(char *buf, size_t len, enum diag_dax_problem p,
    const char *seed, const char *node, const char *name,
    const char *endpoint, const char *detail, unsigned timeout_ms,
    bool tls);

/*
 * A hint for a node of a cluster that failed TLS: as diag_hint_tls, but
 * a name mismatch is said in DAX's words (every node must present a
 * certificate for the cluster name).
 */
void diag_hint_dax_node_tls(char *buf, size_t len,
    const struct diag_tls_facts *f);

#endif
