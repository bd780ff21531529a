/*
 * metrics — the process-wide counters and histograms, and the admin
 * listener that serves them in the Prometheus text exposition format
 * (version 0.0.4) at GET /metrics, plus GET /healthz (the process runs)
 * and GET /readyz (it serves: 200 after metrics_set_ready(true), 503
 * before and while draining).
 *
 * Recording is thread-safe and never allocates after a series exists;
 * series are created on first use, bounded by METRICS_MAX_SERIES (beyond
 * it, samples go to one overflow series labelled "other" and
 * ddbgate_metrics_dropped_series_total counts them). Gauges that belong
 * to other modules (pool sizes, DNS cache, address health, certificate
 * expiry, configuration generation) are read at scrape time through
 * callbacks, so nothing polls.
 *
 * Exposed (all names prefixed ddbgate_):
 *   requests_total{endpoint,action,decision,status}          counter
 *   request_duration_seconds{endpoint}                       histogram
 *   upstream_duration_seconds{endpoint}                      histogram
 *   connections_open                                         gauge
 *   connections_accepted_total{mode}                         counter
 *   tls_handshake_failures_total{side,reason}                counter
 *   egress_refusals_total{endpoint}                          counter
 *   upstream_tls_handshakes_total{endpoint,resumed}          counter
 *   reloads_total{outcome}                                   counter
 *   + whatever the scrape callbacks write (see metrics_writer).
 */
#ifndef DDBGATE_METRICS_H
#define DDBGATE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_SERIES 4096

struct event_base;
struct metrics;

/* Seconds buckets of both histograms (upper bounds; +Inf is implied). */
#define METRICS_BUCKETS \
	{ 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, \
	  1, 2.5, 5, 10 }

/*
 * shards: one per thread that records on a hot path, plus one (shard 0)
 * for every other thread; a thread picks its own with
 * metrics_bind_thread(i) (1 <= i < shards), so workers never share a
 * table or a lock. A scrape adds the shards up.
 */
struct metrics *metrics_new(unsigned shards);
void metrics_bind_thread(unsigned shard);
void metrics_free(struct metrics *m);

/*
 * One finished request. decision is "allow", "deny", "would-deny",
 * "error" or "tunnel"; action may be NULL ("-"). upstream_us is 0 when
 * the request never went upstream (then that histogram is not touched).
 */
void metrics_request(struct metrics *m, const char *endpoint,
    const char *action, const char *decision, int status, uint64_t total_us,
    uint64_t upstream_us);

/* mode: "connect", "sni", "transparent". delta +1 on accept, -1 on close. */
void metrics_connection(struct metrics *m, const char *mode, int delta);

/* side: "client" or "upstream"; reason: a short stable word
 * ("timeout", "certificate", "protocol", "closed", ...). */
void metrics_tls_failure(struct metrics *m, const char *side,
    const char *reason);

/* An upstream TLS handshake completed; resumed: a kept session was used. */
void metrics_upstream_handshake(struct metrics *m, const char *endpoint,
    bool resumed);

void metrics_egress_refusal(struct metrics *m, const char *endpoint);

/* outcome: "ok", "failed" (bad configuration), "refused" (listeners). */
void metrics_reload(struct metrics *m, const char *outcome);

/*
 * Scrape-time gauges: each registered callback writes complete lines of
 * the exposition format (with its own # HELP and # TYPE lines) to out.
 * Callbacks run on the admin listener's thread; they must be
 * thread-safe with respect to the state they read.
 */
typedef void metrics_writer(void *arg, FILE *out);
void metrics_add_writer(struct metrics *m, metrics_writer *fn, void *arg);

/* /readyz answers 200 only while ready. */
void metrics_set_ready(struct metrics *m, bool ready);

/*
 * Serves /metrics, /healthz and /readyz over plain HTTP on address
 * ("ip:port") from base's loop (libevent's evhttp). Anything else is
 * 404; methods other than GET and HEAD are 405. Returns 0, or -1 with
 * the reason in err.
 */
int metrics_listen(struct metrics *m, struct event_base *base,
    const char *address, char *err, size_t errlen);

/* Writes the whole exposition (what GET /metrics returns) to out. */
void metrics_write(struct metrics *m, FILE *out);

/* Escapes a label value for the exposition format (\\, \", \n). */
void metrics_label(FILE *out, const char *value);

#endif
