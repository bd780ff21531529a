/*
 * addrhealth — the process-wide health of upstream addresses (IP and
 * port), shared by every worker and by the active health checks, and the
 * order in which a new upstream connection tries a name's addresses.
 *
 * An address is up unless it failed: a failed TCP connect or TLS
 * handshake (passive) or a failed health check (active) marks it down
 * for a back-off period, backoff_ms after the first consecutive failure,
 * doubling with each further one up to backoff_max_ms. A success marks it
 * up again at once. An address nobody has reported on is up.
 *
 * Ordering spreads new connections over the addresses that are up (a
 * rotating start, advanced at every call) and puts the addresses that
 * are down last, the one whose back-off ends soonest first: when every
 * address is down a request still tries them rather than failing without
 * a packet sent.
 *
 * Pure bookkeeping under one mutex: no sockets, no clock; callers pass
 * monotonic milliseconds. Safe to call from any thread.
 */
#ifndef DDBGATE_ADDRHEALTH_H
#define DDBGATE_ADDRHEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDRHEALTH_MAX_ENTRIES 4096

struct addrhealth;

struct addrhealth_policy {
	unsigned backoff_ms;	 /* first back-off */
	unsigned backoff_max_ms; /* ceiling of the doubling */
};

enum addrhealth_source {
	ADDRHEALTH_PASSIVE, /* a client request's connect or TLS handshake */
	ADDRHEALTH_CHECK,   /* an active health check */
};

/* One address as addrhealth_foreach() reports it. */
struct addrhealth_info {
	struct sockaddr_storage addr; /* with port */
	bool up;
	unsigned failures;	/* consecutive */
	uint64_t down_until_ms; /* 0 when up */
	uint64_t changed_ms;	/* when it last went up or down */
	enum addrhealth_source source; /* of the last report */
	char last_error[160];	/* of the last failure; "" if none */
};

struct addrhealth *addrhealth_new(void);
void addrhealth_free(struct addrhealth *h);

/*
 * sa failed at now_ms for why. Returns true when this changed the address
 * from up to down (the caller logs the transition); *until_ms, when not
 * NULL, gets the end of its back-off.
 */
bool addrhealth_failed(struct addrhealth *h, const struct sockaddr *sa,
    enum addrhealth_source source, const char *why,
    const struct addrhealth_policy *p, uint64_t now_ms, uint64_t *until_ms);

/*
 * sa succeeded at now_ms. Returns true when this changed the address from
 * down to up. Addresses with no failure and no health check are not
 * stored at all, so the common case costs one look-up.
 */
bool addrhealth_succeeded(struct addrhealth *h, const struct sockaddr *sa,
    enum addrhealth_source source, uint64_t now_ms);

/* Whether sa is up at now_ms (a back-off that has ended counts as up). */
bool addrhealth_is_up(struct addrhealth *h, const struct sockaddr *sa,
    uint64_t now_ms);

/*
 * Reorders addrs[0..n) in place for a new connection, as described
 * above, and returns how many of them are up (they come first).
 */
size_t addrhealth_order(struct addrhealth *h, struct sockaddr_storage *addrs,
    size_t n, uint64_t now_ms);

/* Calls fn for every address it holds, under the lock (fn must not call
 * back into h). */
void addrhealth_foreach(struct addrhealth *h,
    void (*fn)(void *arg, const struct addrhealth_info *info), void *arg);

#endif
