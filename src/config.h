/*
 * config — the YAML configuration file as a validated, immutable struct.
 *
 * Parsing is driven by one key table (config.c): every key has a type,
 * bounds, a default and a line of help, which also feed `ddbgate check`.
 * Unknown keys, wrong types and out-of-range values are errors that name
 * file:line:column and the key. Nothing here opens sockets or reads
 * certificates: that is the snapshot's job (snapshot.h), so this module
 * can be fuzzed and unit-tested on strings.
 */
#ifndef DDBGATE_CONFIG_H
#define DDBGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cidr.h"

#define CONFIG_ERR_MAX 512

enum listener_mode {
	LISTENER_CONNECT,
	LISTENER_SNI,
	LISTENER_TRANSPARENT,
	LISTENER_DAX,		/* DAX clients of one cluster: its seed */
	LISTENER_DAX_NODE,	/* one node of that cluster (made by the
				   loader from the dax listener's node_ports) */
};

enum endpoint_service {
	SERVICE_DYNAMODB,
	SERVICE_STREAMS,
	SERVICE_DAX,
	SERVICE_DAX_CLUSTER,
};

enum enforcement {
	ENFORCEMENT_ENFORCE,
	ENFORCEMENT_REPORT,
};

struct conf_listener {
	char *address; /* as written, e.g. "0.0.0.0:443" */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum listener_mode mode;
	struct cidr *allow_clients; /* NULL/0 = any client */
	size_t nallow_clients;
	char *proxy_auth_users; /* connect mode: users file; NULL = no auth */
	bool http2;		/* ALPN offers h2 */
	/* mode dax (and the node listeners it makes) */
	char *endpoint;		/* the dax-cluster endpoint's name */
	size_t endpoint_index;	/* resolved by the loader */
	bool tls;		/* clients speak TLS (daxs://); false: dax:// */
	char *node_ports;	/* "first-last", as written */
	uint16_t node_port_first, node_port_last;
	char *advertise;	/* the address clients are given; NULL: the
				   listener's own */
	struct sockaddr_storage advertise_addr; /* port 0 */
	long dax_seed;		/* a node listener: its dax listener; else -1 */
	unsigned dax_slot;	/* a node listener: which node it stands for */
};

struct conf_certificate {
	char *cert; /* PEM chain file, leaf first */
	char *key;  /* PEM private key file */
};

/* One place to connect to: a DNS name (resolved, cached) or an address. */
struct conf_upstream {
	char *host;	/* lower-case DNS name, or an IP literal */
	uint16_t port;	/* 443 unless given */
	bool literal;	/* host is an IP address: never resolved */
};

struct conf_endpoint {
	char *name;
	enum endpoint_service service;
	char **hosts; /* lower case, no trailing dot */
	size_t nhosts;
	struct conf_upstream *upstreams; /* NULL/0: the asked-for name:443 */
	size_t nupstreams;
	char *ca_file;		/* PEM bundle for upstream verification */
	struct cidr *allowed_cidrs;
	size_t nallowed_cidrs;
	char *policy; /* NULL: allow-all, audited */
	enum enforcement enforcement;
	bool intercept;
	char *source_vpce;	/* aws:SourceVpce, "vpce-..."; may be NULL */
	bool deny_replays;	/* refuse a request whose signature was seen */
	unsigned health_check_interval_s; /* 0: no active health check */
	unsigned health_check_timeout_ms;
	/* service dax-cluster */
	bool upstream_tls;	/* TLS to the nodes (daxs); false: dax */
	char *cluster_arn;	/* the policies' resource; NULL: built */
};

struct conf_principal {
	char *access_key_id;
	char *arn;
	char *userid;	/* aws:userid; may be NULL */
};

struct conf_table {
	char *arn;
	char *partition_key;
	char *sort_key; /* may be NULL */
};

struct config {
	char *path; /* the file it came from; "(built-in defaults)" */
	char *region;
	char *account; /* may be NULL */
	unsigned workers; /* 0 = one per core */
	char *state_dir;  /* gateway CA and other state */
	char *user;	  /* started as root: run as this user; may be NULL */
	char *group;	  /* and this group (default: the user's) */
	bool sandbox;	  /* Landlock + seccomp after start-up */

	struct conf_listener *listeners;
	size_t nlisteners;

	struct {
		char *ca_cert; /* may be NULL */
		char *ca_key;
		struct conf_certificate *certificates;
		size_t ncertificates;
	} tls;

	struct {
		char **servers; /* "ip" or "ip:port" / "[v6]:port"; 0 = resolv.conf */
		size_t nservers;
		unsigned timeout_ms;
		unsigned min_ttl_s;	 /* cache: TTLs are raised to this */
		unsigned max_ttl_s;	 /* and lowered to this */
		unsigned negative_ttl_s; /* NXDOMAIN / no data; 0 = not cached */
		unsigned serve_stale_s;	 /* 0 = off */
	} resolver;

	struct conf_endpoint *endpoints;
	size_t nendpoints;

	struct conf_principal *principals;
	size_t nprincipals;

	struct conf_table *tables;
	size_t ntables;

	struct {
		char *path; /* "-" = stdout */
	} audit;

	struct {
		char *path; /* access log; "-" = stdout (the default), "off" */
	} access_log;

	struct {
		char *address; /* may be NULL: no admin listener */
	} metrics;

	struct {
		unsigned max_connections;
		unsigned max_header_bytes;
		uint64_t max_body_bytes;
		unsigned client_idle_timeout_s;
		unsigned request_timeout_s;
		unsigned upstream_timeout_s;
		unsigned upstream_connect_timeout_ms;
		unsigned upstream_idle_timeout_s;
		unsigned upstream_pool_size;
		unsigned upstream_backoff_ms;	  /* an address that failed */
		unsigned upstream_backoff_max_ms; /* doubling up to this */
		unsigned drain_timeout_s; /* SIGTERM: requests in flight get this
					     long to finish */
		unsigned h2_max_concurrent_streams;
	} limits;
};

/*
 * Loads and validates a YAML file. Returns a new config owned by the
 * caller (config_free), or NULL with "file:line:column: key: message"
 * written to err.
 */
struct config *config_load_file(const char *path, char *err, size_t errlen);

/* Same, from a buffer; name is used in error messages. */
struct config *config_load_buffer(const char *name, const char *buf,
    size_t len, char *err, size_t errlen);

/*
 * The built-in defaults used when `ddbgate run` gets no file: see
 * docs/configuration.md. region comes from AWS_REGION (else us-east-1).
 */
struct config *config_defaults(char *err, size_t errlen);

void config_free(struct config *cfg);

/* Writes the effective configuration summary that `ddbgate check` prints. */
void config_print(const struct config *cfg, FILE *out);

/*
 * The endpoint one of whose hosts is name (case-insensitive, a trailing
 * dot ignored), or NULL.
 */
const struct conf_endpoint *config_endpoint_for_host(const struct config *cfg,
    const char *name, size_t len);

const char *config_mode_name(enum listener_mode mode);

/* Whether two listeners are the same socket: address and mode. */
bool config_same_listener(const struct conf_listener *a,
    const struct conf_listener *b);
const char *config_service_name(enum endpoint_service service);

#endif
