/*
 * healthcheck — see healthcheck.h.
 *
 * One hc_endpoint per checked endpoint of the current snapshot, each with
 * its interval timer, one resolver query per upstream target and a list
 * of probes (one per address: connect, then TLS handshake, under one
 * deadline timer). A round does not start while the previous one still
 * has probes out, so a slow upstream never piles probes up.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "addrhealth.h"
#include "cidr.h"
#include "config.h"
#include "dnscache.h"
#include "healthcheck.h"
#include "log.h"
#include "resolver.h"
#include "snapshot.h"
#include "tls_client.h"
#include "xmalloc.h"

#define HC_MAX_TARGETS 16
#define HC_MAX_SEEN 64

struct hc_endpoint;

struct probe {
	struct hc_endpoint *he;
	struct sockaddr_storage addr;
	char addr_str[64];
	int fd;			 /* while connecting */
	struct event *conn_ev;	 /* while connecting */
	struct bufferevent *bev; /* during the TLS handshake */
	struct event *deadline;
	uint64_t start_ms;
	LIST_ENTRY(probe) link;
};

struct hc_target {
	struct hc_endpoint *he;
	const char *name; /* borrowed from the snapshot */
	uint16_t port;
	struct resolver_query *q;
	bool dns_failed; /* the last answer was an error (logged once) */
};

struct hc_endpoint {
	struct healthcheck *hc;
	size_t index; /* in the snapshot's endpoints */
	const struct conf_endpoint *ep;
	struct event *timer;
	struct hc_target targets[HC_MAX_TARGETS];
	size_t ntargets;
	LIST_HEAD(, probe) probes;
	struct {
		struct sockaddr_storage addr;
		bool up;	/* the last check's verdict */
	} seen[HC_MAX_SEEN];	/* addresses checked since (re)start */
	size_t nseen;
};

struct healthcheck {
	struct event_base *base;
	struct resolver *resolver;
	struct addrhealth *health;
	struct snapshot *snap; /* one reference while checks run */
	struct hc_endpoint *eps;
	size_t neps;
};

static void
probe_free(struct probe *p)
{
	LIST_REMOVE(p, link);
	if (p->conn_ev != NULL)
		event_free(p->conn_ev);
	if (p->fd >= 0)
		close(p->fd);
	if (p->bev != NULL)
		bufferevent_free(p->bev);
	event_free(p->deadline);
	free(p);
}

/*
 * Records the verdict for sa; returns whether it is news worth a log
 * line: the first verdict since the checks (re)started, or a change.
 * This is the checks' own view: a back-off that ends between two failed
 * checks is not a recovery.
 */
static bool
verdict_changed(struct hc_endpoint *he, const struct sockaddr *sa, bool up)
{
	for (size_t i = 0; i < he->nseen; i++)
		if (sockaddr_same((const struct sockaddr *)&he->seen[i].addr,
		    sa)) {
			if (he->seen[i].up == up)
				return false;
			he->seen[i].up = up;
			return true;
		}
	if (he->nseen < HC_MAX_SEEN) {
		memcpy(&he->seen[he->nseen].addr, sa,
		    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in));
		he->seen[he->nseen++].up = up;
	}
	return true;
}

/* Records the outcome of p (why == NULL: healthy) and frees it. */
static void
probe_done(struct probe *p, const char *why)
{
	struct hc_endpoint *he = p->he;
	const struct config *cfg = he->hc->snap->cfg;
	/* a failed check keeps the address down until the next check */
	unsigned until_next = he->ep->health_check_interval_s * 1000 +
	    he->ep->health_check_timeout_ms;
	struct addrhealth_policy pol = {
		.backoff_ms = cfg->limits.upstream_backoff_ms > until_next ?
		    cfg->limits.upstream_backoff_ms : until_next,
		.backoff_max_ms = cfg->limits.upstream_backoff_max_ms >
		    until_next ? cfg->limits.upstream_backoff_max_ms :
		    until_next,
	};
	const struct sockaddr *sa = (const struct sockaddr *)&p->addr;
	uint64_t now = monotonic_ms();
	bool seen_before = false;

	for (size_t i = 0; i < he->nseen && !seen_before; i++)
		seen_before = sockaddr_same(
		    (const struct sockaddr *)&he->seen[i].addr, sa);
	if (why == NULL) {
		(void)addrhealth_succeeded(he->hc->health, sa,
		    ADDRHEALTH_CHECK, now);
		if (verdict_changed(he, sa, true))
			log_info("health check: endpoint %s address %s (%s) is "
			    "%s (%llu ms)", he->ep->name, p->addr_str,
			    he->ep->hosts[0], seen_before ? "up again" : "up",
			    (unsigned long long)(now - p->start_ms));
	} else {
		(void)addrhealth_failed(he->hc->health, sa, ADDRHEALTH_CHECK,
		    why, &pol, now, NULL);
		if (verdict_changed(he, sa, false))
			log_warnx("health check: endpoint %s address %s (%s) is "
			    "down: %s", he->ep->name, p->addr_str,
			    he->ep->hosts[0], why);
	}
	probe_free(p);
}

static void
on_probe_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	char why[96];

	snprintf(why, sizeof(why), "%s timed out after %u ms",
	    p->bev != NULL ? "TLS handshake" : "TCP connect",
	    p->he->ep->health_check_timeout_ms);
	probe_done(p, why);
}

static void
on_probe_tls(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	char reason[256], why[320];

	if ((what & BEV_EVENT_CONNECTED) &&
	    SSL_get_verify_result(ssl) == X509_V_OK &&
	    SSL_get0_peer_certificate(ssl) != NULL) {
		probe_done(p, NULL);
		return;
	}
	if (what & BEV_EVENT_CONNECTED)
		snprintf(reason, sizeof(reason), "%s",
		    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	else
		(void)tls_client_failure(ssl,
		    bufferevent_get_openssl_error(bev), reason,
		    sizeof(reason));
	ERR_clear_error();
	snprintf(why, sizeof(why), "TLS handshake: %s", reason);
	probe_done(p, why);
}

static void
on_probe_connected(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct hc_endpoint *he = p->he;
	int err = 0;
	socklen_t len = sizeof(err);
	char why[160];
	SSL *ssl;

	event_free(p->conn_ev);
	p->conn_ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		snprintf(why, sizeof(why), "TCP connect: %s", strerror(err));
		probe_done(p, why);
		return;
	}
	ssl = tls_client_ssl_new(he->hc->snap->upstream_tls[he->index],
	    he->ep->hosts[0], NULL);
	p->bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(
	    he->hc->base, p->fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (p->bev == NULL) {
		probe_done(p, "cannot set up TLS");
		return;
	}
	p->fd = -1; /* the bufferevent owns it now */
	bufferevent_setcb(p->bev, NULL, NULL, on_probe_tls, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
}

static void
probe_start(struct hc_endpoint *he, const struct sockaddr_storage *ss)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	unsigned ms = he->ep->health_check_timeout_ms;
	struct timeval tmo = { .tv_sec = ms / 1000,
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	struct probe *p = xcalloc(1, sizeof(*p));
	char why[160];

	p->he = he;
	p->addr = *ss;
	p->fd = -1;
	p->start_ms = monotonic_ms();
	sockaddr_format(sa, p->addr_str, sizeof(p->addr_str));
	LIST_INSERT_HEAD(&he->probes, p, link);
	if ((p->deadline = evtimer_new(he->hc->base, on_probe_deadline,
	    p)) == NULL)
		fatalx("health check: out of memory");
	evtimer_add(p->deadline, &tmo);
	p->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (p->fd < 0 || (connect(p->fd, sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0 &&
	    errno != EINPROGRESS)) {
		snprintf(why, sizeof(why), "TCP connect: %s", strerror(errno));
		probe_done(p, why);
		return;
	}
	p->conn_ev = event_new(he->hc->base, p->fd, EV_WRITE,
	    on_probe_connected, p);
	if (p->conn_ev == NULL || event_add(p->conn_ev, NULL) != 0)
		fatalx("health check: out of memory");
}

static void
on_resolved(void *arg, const struct resolver_result *res)
{
	struct hc_target *t = arg;
	struct hc_endpoint *he = t->he;

	t->q = NULL;
	if (res->status != DNS_OK) {
		if (!t->dns_failed)
			log_warnx("health check: endpoint %s: DNS resolution of "
			    "%s failed: %s", he->ep->name, t->name,
			    res->error);
		t->dns_failed = true;
		return;
	}
	if (t->dns_failed)
		log_info("health check: endpoint %s: %s resolves again",
		    he->ep->name, t->name);
	t->dns_failed = false;
	for (size_t i = 0; i < res->naddrs; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&res->addrs[i];

		/* never a packet outside the guard, not even a probe */
		if (cidr_list_contains(he->ep->allowed_cidrs,
		    he->ep->nallowed_cidrs, sa))
			probe_start(he, &res->addrs[i]);
	}
}

static void
on_round(evutil_socket_t fd, short what, void *arg)
{
	struct hc_endpoint *he = arg;
	struct timeval iv = { .tv_sec = he->ep->health_check_interval_s };
	bool busy = !LIST_EMPTY(&he->probes);

	for (size_t i = 0; i < he->ntargets; i++)
		busy = busy || he->targets[i].q != NULL;
	evtimer_add(he->timer, &iv);
	if (busy)
		return;
	for (size_t i = 0; i < he->ntargets; i++) {
		struct hc_target *t = &he->targets[i];

		t->q = resolver_resolve(he->hc->resolver, t->name, t->port,
		    on_resolved, t);
	}
}

static void
stop_all(struct healthcheck *hc)
{
	for (size_t i = 0; i < hc->neps; i++) {
		struct hc_endpoint *he = &hc->eps[i];
		struct probe *p;

		event_free(he->timer);
		for (size_t j = 0; j < he->ntargets; j++)
			if (he->targets[j].q != NULL)
				resolver_cancel(he->targets[j].q);
		while ((p = LIST_FIRST(&he->probes)) != NULL)
			probe_free(p);
	}
	free(hc->eps);
	hc->eps = NULL;
	hc->neps = 0;
	snapshot_unref(hc->snap);
	hc->snap = NULL;
}

static void
setup_endpoint(struct healthcheck *hc, struct hc_endpoint *he, size_t index)
{
	const struct conf_endpoint *ep = &hc->snap->cfg->endpoints[index];

	he->hc = hc;
	he->index = index;
	he->ep = ep;
	LIST_INIT(&he->probes);
	if (ep->nupstreams == 0) {
		he->targets[0] = (struct hc_target){ .he = he,
		    .name = ep->hosts[0], .port = ep->service ==
		    SERVICE_DAX_CLUSTER ? 9111 : 443 };
		he->ntargets = 1;
	}
	for (size_t j = 0; j < ep->nupstreams && j < HC_MAX_TARGETS; j++)
		he->targets[he->ntargets++] = (struct hc_target){ .he = he,
		    .name = ep->upstreams[j].host,
		    .port = ep->upstreams[j].port };
	if ((he->timer = evtimer_new(hc->base, on_round, he)) == NULL)
		fatalx("health check: out of memory");
	event_active(he->timer, EV_TIMEOUT, 0);
	log_info("health check: endpoint %s: every %u s, %u ms each, "
	    "verifying %s", ep->name, ep->health_check_interval_s,
	    ep->health_check_timeout_ms, ep->hosts[0]);
}

void
healthcheck_apply(struct healthcheck *hc, struct snapshot *snap)
{
	const struct config *cfg = snap->cfg;
	size_t n = 0;

	stop_all(hc);
	for (size_t i = 0; i < cfg->nendpoints; i++)
		n += cfg->endpoints[i].health_check_interval_s > 0;
	if (n == 0)
		return;
	hc->snap = snapshot_ref(snap);
	hc->eps = xcalloc(n, sizeof(*hc->eps));
	for (size_t i = 0; i < cfg->nendpoints; i++)
		if (cfg->endpoints[i].health_check_interval_s > 0)
			setup_endpoint(hc, &hc->eps[hc->neps++], i);
}

struct healthcheck *
healthcheck_new(struct event_base *base, struct resolver *resolver,
    struct addrhealth *health)
{
	struct healthcheck *hc = xcalloc(1, sizeof(*hc));

	hc->base = base;
	hc->resolver = resolver;
	hc->health = health;
	return hc;
}

void
healthcheck_free(struct healthcheck *hc)
{
	if (hc == NULL)
		return;
	stop_all(hc);
	free(hc);
}
