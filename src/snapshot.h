/*
 * snapshot — one immutable, reference-counted generation of everything
 * loaded from the configuration: the parsed config, the gateway CA, the
 * server certificates and one verifying client context per endpoint.
 * Built whole and validated before use; a session holds a reference to
 * the snapshot it started under, so a reload never changes a request in
 * flight. Threads share a snapshot read-only.
 */
#ifndef DDBGATE_SNAPSHOT_H
#define DDBGATE_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

struct ca;
struct config;
struct policy;
struct proxyauth;
struct tls_client;
struct tls_server;

struct snapshot {
	atomic_uint refs;
	unsigned generation;
	struct config *cfg;		/* owned */
	struct ca *ca;			/* owned, may be NULL */
	struct tls_server *tls_server;	/* owned */
	struct tls_client **upstream_tls; /* owned, one per endpoint */
	struct policy **policies;	/* owned, one per endpoint */
	struct proxyauth **proxy_auth;	/* owned, one per listener; NULL
					   where the listener has no users */
};

/*
 * Loads path (or the built-in defaults when path is NULL, creating the
 * gateway CA in the state directory if it does not exist yet). Returns a
 * snapshot with one reference, or NULL with the reason in err.
 */
struct snapshot *snapshot_load(const char *path, unsigned generation,
    char *err, size_t errlen);

struct snapshot *snapshot_ref(struct snapshot *snap);
void snapshot_unref(struct snapshot *snap);

/* The summary `ddbgate check` prints after the configuration's own. */
void snapshot_describe(const struct snapshot *snap, FILE *out);

#endif
