/*
 * healthcheck — the optional active health check of upstream addresses.
 *
 * For every endpoint with health_check_interval_s > 0, on that interval:
 * resolve its upstream targets (through the shared cache), and to every
 * address the egress guard allows, open TCP and run a TLS handshake with
 * the endpoint's verifying client context, SNI and verification on the
 * endpoint's first host name, all within health_check_timeout_ms. The
 * outcome goes to addrhealth (ADDRHEALTH_CHECK), which request routing
 * reads; each address's first result and every change of state is
 * logged. Runs on one worker's loop; nothing here blocks.
 */
#ifndef DDBGATE_HEALTHCHECK_H
#define DDBGATE_HEALTHCHECK_H

struct addrhealth;
struct event_base;
struct resolver;
struct snapshot;
struct healthcheck;

/* All borrowed; they must outlive the health checker. */
struct healthcheck *healthcheck_new(struct event_base *base,
    struct resolver *resolver, struct addrhealth *health);

/*
 * (Re)starts the checks for snap's endpoints. Checks in flight for the
 * previous snapshot are abandoned (their sockets closed, nothing
 * recorded); the first round of the new one starts at once.
 */
void healthcheck_apply(struct healthcheck *hc, struct snapshot *snap);

void healthcheck_free(struct healthcheck *hc);

#endif
