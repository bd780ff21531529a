/*
 * metrics — see metrics.h.
 *
 * Every labelled series of every family lives in one chained hash table
 * keyed by (family, label values): FNV-1a over the family number and the
 * values picks one of BUCKETS chains. A series is one allocation holding
 * its counter, its histogram (histogram families only) and a copy of its
 * label values, each cut to LABEL_MAX bytes (at a UTF-8 character
 * boundary). Series are never freed before metrics_free(), so what a
 * scrape reads of their labels stays valid without the lock.
 *
 * There is one such table per shard: each worker thread records into its
 * own (metrics_bind_thread), the other threads into shard 0, so no two
 * workers ever touch the same table, lock or cache line on the request
 * path. A shard's mutex is taken by its one writer and, briefly, by a
 * scrape; it protects the shard's table, the values in it, its series
 * count and dropped counter. Recording is: cut and hash the labels, lock,
 * walk one chain, add, unlock. A new series allocates once. When
 * METRICS_MAX_SERIES series exist in a shard, a sample for a new label
 * tuple goes to the family's overflow series, whose values are all
 * "other" (created then, beyond the limit: at most one a family), and
 * counts in ddbgate_metrics_dropped_series_total; so does a sample whose
 * new series could not be allocated. connections_open is an atomic
 * outside the locks; the writer list has a lock of its own.
 *
 * Histograms keep per-bucket counts (made cumulative when written) and
 * the sum in microseconds, an exact integer turned into seconds when
 * written. A value lands in the first bucket whose bound it does not
 * exceed, the bounds compared in whole microseconds, so 5000 us is in
 * le="0.005".
 *
 * A scrape copies the values of every series, one shard under its lock
 * at a time, sorts the copy by family (in the order of the families
 * table) and label values (byte-wise, in label order), adds up the
 * copies of one series from different shards, and writes without any
 * lock, so a slow reader never blocks recording. Floats (le bounds, sums) are written as
 * Go's strconv.FormatFloat(f, 'g', -1, 64) does, as the Prometheus client
 * libraries do: the shortest digits that read back to the same double.
 *
 * The admin listener is an evhttp on its own socket (SO_REUSEADDR,
 * IPV6_V6ONLY) with one generic callback that routes by path. It runs on
 * the loop of the base it was given; metrics_free() frees it, so it must
 * come before event_base_free() of that base, on the loop's thread (or
 * with the loop stopped).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "cidr.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define BUCKETS 8192	   /* power of two; 2 x METRICS_MAX_SERIES */
#define LABEL_MAX 128	   /* bytes of a label value kept */
#define MAX_LABELS 4
#define LISTEN_BACKLOG 64
#define ADMIN_MAX_HEADERS 8192
#define ADMIN_TIMEOUT_S 10

static const double bucket_bounds[] = METRICS_BUCKETS;
#define NBOUNDS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

enum kind {
	KIND_COUNTER,	/* labelled counter series in the table */
	KIND_HISTOGRAM, /* labelled histogram series in the table */
	KIND_OPEN,	/* connections_open, the atomic gauge */
	KIND_DROPPED,	/* metrics_dropped_series_total */
	KIND_BUILD,	/* build_info */
};

/* The families in the order they are written. */
enum family {
	F_REQUESTS,
	F_REQUEST_DURATION,
	F_UPSTREAM_DURATION,
	F_OPEN,
	F_ACCEPTED,
	F_TLS_FAILURES,
	F_EGRESS_REFUSALS,
	F_RELOADS,
	F_UPSTREAM_HANDSHAKES,
	F_DROPPED,
	F_BUILD,
	NFAMILIES
};

struct family_def {
	const char *name;
	const char *help;
	enum kind kind;
	int nlabels;
	const char *labels[MAX_LABELS];
};

static const struct family_def families[NFAMILIES] = {
	[F_REQUESTS] = { "ddbgate_requests_total",
	    "Requests finished, by endpoint, action, decision and status.",
	    KIND_COUNTER, 4, { "endpoint", "action", "decision", "status" } },
	[F_REQUEST_DURATION] = { "ddbgate_request_duration_seconds",
	    "Time to serve a request, in seconds.",
	    KIND_HISTOGRAM, 1, { "endpoint" } },
	[F_UPSTREAM_DURATION] = { "ddbgate_upstream_duration_seconds",
	    "Time a request spent upstream, in seconds.",
	    KIND_HISTOGRAM, 1, { "endpoint" } },
	[F_OPEN] = { "ddbgate_connections_open",
	    "Client connections open.", KIND_OPEN, 0, { NULL } },
	[F_ACCEPTED] = { "ddbgate_connections_accepted_total",
	    "Client connections accepted, by listener mode.",
	    KIND_COUNTER, 1, { "mode" } },
	[F_TLS_FAILURES] = { "ddbgate_tls_handshake_failures_total",
	    "TLS handshakes failed, by side and reason.",
	    KIND_COUNTER, 2, { "side", "reason" } },
	[F_EGRESS_REFUSALS] = { "ddbgate_egress_refusals_total",
	    "Upstream connections refused by the egress rules, by endpoint.",
	    KIND_COUNTER, 1, { "endpoint" } },
	[F_RELOADS] = { "ddbgate_reloads_total",
	    "Configuration reloads, by outcome.",
	    KIND_COUNTER, 1, { "outcome" } },
	[F_UPSTREAM_HANDSHAKES] = { "ddbgate_upstream_tls_handshakes_total",
	    "Upstream TLS handshakes completed, by endpoint and whether a kept "
	    "session was resumed.",
	    KIND_COUNTER, 2, { "endpoint", "resumed" } },
	[F_DROPPED] = { "ddbgate_metrics_dropped_series_total",
	    "Samples counted in an overflow series (labelled other) because "
	    "the series limit was reached.", KIND_DROPPED, 0, { NULL } },
	[F_BUILD] = { "ddbgate_build_info",
	    "Build information; the value is always 1.",
	    KIND_BUILD, 0, { NULL } },
};

static const char *const other_labels[MAX_LABELS] = {
	"other", "other", "other", "other"
};

struct hist {
	uint64_t buckets[NBOUNDS + 1]; /* not cumulative; last: +Inf */
	uint64_t count;
	uint64_t sum_us;
};

struct series {
	struct series *next;	/* in its chain */
	uint32_t hash;
	enum family family;
	const char *label[MAX_LABELS]; /* into the same allocation */
	size_t len[MAX_LABELS];
	uint64_t value;		/* counters */
	struct hist *hist;	/* histograms, else NULL */
};

/* A label tuple being looked up: values cut, not copied. */
struct key {
	enum family family;
	const char *v[MAX_LABELS];
	size_t len[MAX_LABELS];
	uint32_t hash;
};

struct writer {
	metrics_writer *fn;
	void *arg;
};

/* One series as a scrape copied it. */
struct snap {
	const struct series *s;
	uint64_t value;
	struct hist hist;
};

/* One shard: the series one thread records. */
struct table {
	pthread_mutex_t lock;
	struct series *buckets[BUCKETS];
	size_t nseries;		/* all series, overflow ones included */
	size_t nlimited;	/* series counted against the limit */
	uint64_t dropped;
};

struct metrics {
	struct table *shards;
	unsigned nshards;
	pthread_mutex_t wlock;	/* the writer list */
	struct writer *writers;
	size_t nwriters;
	atomic_int_least64_t open;
	atomic_bool ready;
	uint64_t bound_us[NBOUNDS];
	struct evhttp *http;
};

/* ------------------------------------------------------------------ */
/* Series                                                              */
/* ------------------------------------------------------------------ */

/* Length of s cut to LABEL_MAX bytes, not inside a UTF-8 sequence. */
static size_t
label_len(const char *s)
{
	size_t n = strnlen(s, LABEL_MAX + 1);

	if (n <= LABEL_MAX)
		return n;
	n = LABEL_MAX;
	while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

/* values has families[family].nlabels entries; NULL counts as "-". */
static void
key_init(struct key *k, enum family family, const char *const *values)
{
	uint8_t f = (uint8_t)family, sep = 0xff; /* never in UTF-8 */

	k->family = family;
	k->hash = fnv1a(2166136261u, &f, 1);
	for (int i = 0; i < families[family].nlabels; i++) {
		k->v[i] = values[i] != NULL ? values[i] : "-";
		k->len[i] = label_len(k->v[i]);
		k->hash = fnv1a(k->hash, k->v[i], k->len[i]);
		k->hash = fnv1a(k->hash, &sep, 1);
	}
}

static bool
key_matches(const struct key *k, const struct series *s)
{
	if (s->hash != k->hash || s->family != k->family)
		return false;
	for (int i = 0; i < families[k->family].nlabels; i++)
		if (s->len[i] != k->len[i] ||
		    memcmp(s->label[i], k->v[i], k->len[i]) != 0)
			return false;
	return true;
}

/* The shard of the calling thread (metrics_bind_thread; else 0). */
static _Thread_local unsigned thread_shard;

void
metrics_bind_thread(unsigned shard)
{
	thread_shard = shard;
}

static struct table *
shard_of(struct metrics *m)
{
	return &m->shards[thread_shard < m->nshards ? thread_shard : 0];
}

/* Called with the lock held. */
static struct series *
series_find(struct table *m, const struct key *k)
{
	struct series *s;

	for (s = m->buckets[k->hash & (BUCKETS - 1)]; s != NULL; s = s->next)
		if (key_matches(k, s))
			return s;
	return NULL;
}

/* Called with the lock held. NULL when out of memory. */
static struct series *
series_create(struct table *m, const struct key *k)
{
	int nlabels = families[k->family].nlabels;
	bool histogram = families[k->family].kind == KIND_HISTOGRAM;
	size_t size = sizeof(struct series) +
	    (histogram ? sizeof(struct hist) : 0);
	struct series *s;
	char *text;

	for (int i = 0; i < nlabels; i++)
		size += k->len[i] + 1;
	if ((s = calloc(1, size)) == NULL)
		return NULL;
	text = (char *)(s + 1);
	if (histogram) {
		s->hist = (struct hist *)(void *)(s + 1);
		text += sizeof(struct hist);
	}
	for (int i = 0; i < nlabels; i++) {
		memcpy(text, k->v[i], k->len[i]);
		text[k->len[i]] = '\0';
		s->label[i] = text;
		s->len[i] = k->len[i];
		text += k->len[i] + 1;
	}
	s->hash = k->hash;
	s->family = k->family;
	s->next = m->buckets[k->hash & (BUCKETS - 1)];
	m->buckets[k->hash & (BUCKETS - 1)] = s;
	m->nseries++;
	return s;
}

/*
 * The series of family with these label values, created if there is
 * room, else the family's overflow series (counted as dropped). NULL
 * only when even that cannot be allocated (also counted). Called with the
 * lock held.
 */
static struct series *
series_get(struct table *m, enum family family, const char *const *values)
{
	struct key k;
	struct series *s;

	key_init(&k, family, values);
	if ((s = series_find(m, &k)) != NULL)
		return s;
	if (m->nlimited < METRICS_MAX_SERIES &&
	    (s = series_create(m, &k)) != NULL) {
		m->nlimited++;
		return s;
	}
	m->dropped++;
	key_init(&k, family, other_labels);
	if ((s = series_find(m, &k)) != NULL)
		return s;
	return series_create(m, &k);
}

static void
counter_add(struct metrics *m, enum family family,
    const char *const *values, uint64_t n)
{
	struct table *t = shard_of(m);
	struct series *s;

	pthread_mutex_lock(&t->lock);
	if ((s = series_get(t, family, values)) != NULL)
		s->value += n;
	pthread_mutex_unlock(&t->lock);
}

/* Called with t's lock held. */
static void
observe(struct metrics *m, struct table *t, enum family family,
    const char *endpoint, uint64_t us)
{
	struct series *s = series_get(t, family, &endpoint);
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < NBOUNDS && us > m->bound_us[i]; i++)
		continue;
	s->hist->buckets[i]++;
	s->hist->count++;
	s->hist->sum_us += us;
}

/* ------------------------------------------------------------------ */
/* Recording                                                           */
/* ------------------------------------------------------------------ */

struct metrics *
metrics_new(unsigned shards)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	static const char *const outcomes[] = { "ok", "failed", "refused" };
	unsigned bound = thread_shard;

	m->nshards = shards > 0 ? shards : 1;
	m->shards = xcalloc(m->nshards, sizeof(*m->shards));
	for (unsigned i = 0; i < m->nshards; i++)
		pthread_mutex_init(&m->shards[i].lock, NULL);
	pthread_mutex_init(&m->wlock, NULL);
	atomic_init(&m->open, 0);
	atomic_init(&m->ready, false);
	for (size_t i = 0; i < NBOUNDS; i++)
		m->bound_us[i] = (uint64_t)(bucket_bounds[i] * 1e6 + 0.5);
	/* A closed set: shown at 0 so that increase() sees the first one. */
	thread_shard = 0; /* the closed set goes in shard 0 */
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		counter_add(m, F_RELOADS, &outcomes[i], 0);
	thread_shard = bound;
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct series *s, *next;

	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	for (unsigned k = 0; k < m->nshards; k++) {
		struct table *t = &m->shards[k];

		for (size_t i = 0; i < BUCKETS; i++) {
			for (s = t->buckets[i]; s != NULL; s = next) {
				next = s->next;
				free(s);
			}
		}
		pthread_mutex_destroy(&t->lock);
	}
	free(m->shards);
	free(m->writers);
	pthread_mutex_destroy(&m->wlock);
	free(m);
}

void
metrics_request(struct metrics *m, const char *endpoint, const char *action,
    const char *decision, int status, uint64_t total_us,
    uint64_t upstream_us)
{
	char code[16];
	const char *values[4] = { endpoint, action, decision, code };
	struct series *s;

	struct table *t = shard_of(m);

	snprintf(code, sizeof(code), "%d", status);
	pthread_mutex_lock(&t->lock);
	if ((s = series_get(t, F_REQUESTS, values)) != NULL)
		s->value++;
	observe(m, t, F_REQUEST_DURATION, endpoint, total_us);
	if (upstream_us != 0)
		observe(m, t, F_UPSTREAM_DURATION, endpoint, upstream_us);
	pthread_mutex_unlock(&t->lock);
}

void
metrics_connection(struct metrics *m, const char *mode, int delta)
{
	atomic_fetch_add(&m->open, delta);
	if (delta > 0)
		counter_add(m, F_ACCEPTED, &mode, (uint64_t)delta);
}

void
metrics_tls_failure(struct metrics *m, const char *side, const char *reason)
{
	const char *values[2] = { side, reason };

	counter_add(m, F_TLS_FAILURES, values, 1);
}

void
metrics_upstream_handshake(struct metrics *m, const char *endpoint,
    bool resumed)
{
	const char *values[2] = { endpoint, resumed ? "yes" : "no" };

	counter_add(m, F_UPSTREAM_HANDSHAKES, values, 1);
}

void
metrics_egress_refusal(struct metrics *m, const char *endpoint)
{
	counter_add(m, F_EGRESS_REFUSALS, &endpoint, 1);
}

void
metrics_reload(struct metrics *m, const char *outcome)
{
	counter_add(m, F_RELOADS, &outcome, 1);
}

void
metrics_add_writer(struct metrics *m, metrics_writer *fn, void *arg)
{
	pthread_mutex_lock(&m->wlock);
	m->writers = xreallocarray(m->writers, m->nwriters + 1,
	    sizeof(*m->writers));
	m->writers[m->nwriters].fn = fn;
	m->writers[m->nwriters].arg = arg;
	m->nwriters++;
	pthread_mutex_unlock(&m->wlock);
}

void
metrics_set_ready(struct metrics *m, bool ready)
{
	atomic_store(&m->ready, ready);
}

/* ------------------------------------------------------------------ */
/* Exposition                                                          */
/* ------------------------------------------------------------------ */

void
metrics_label(FILE *out, const char *value)
{
	if (value == NULL)
		return;
	for (; *value != '\0'; value++) {
		switch (*value) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '"':
			fputs("\\\"", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		default:
			putc(*value, out);
		}
	}
}

/*
 * As Go's strconv.FormatFloat(v, 'g', -1, 64): the fewest significant
 * digits that read back as v, in %e form when the decimal exponent is
 * below -4 or at least 6 ("1e+06"), else in %f form ("0.0005", "2.5").
 */
static void
format_float(double v, char *buf, size_t len)
{
	char e[40];
	int prec, exp;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	exp = atoi(strchr(e, 'e') + 1);
	if (exp < -4 || exp >= 6)
		snprintf(buf, len, "%s", e);
	else
		snprintf(buf, len, "%.*f", prec > exp ? prec - exp : 0, v);
}

static int
snap_cmp(const void *a, const void *b)
{
	const struct series *x = ((const struct snap *)a)->s;
	const struct series *y = ((const struct snap *)b)->s;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	for (int i = 0; i < families[x->family].nlabels; i++)
		if ((c = strcmp(x->label[i], y->label[i])) != 0)
			return c;
	return 0;
}

/* Adds the values of b (the same series in another shard) into a. */
static void
snap_add(struct snap *a, const struct snap *b)
{
	a->value += b->value;
	if (a->s->hist == NULL)
		return;
	for (size_t i = 0; i <= NBOUNDS; i++)
		a->hist.buckets[i] += b->hist.buckets[i];
	a->hist.count += b->hist.count;
	a->hist.sum_us += b->hist.sum_us;
}

/*
 * Copies every series' values of every shard, sorted, each series once
 * (its shards' values added up), and the dropped counters; NULL (and
 * *n = 0) on failure.
 */
static struct snap *
snapshot(struct metrics *m, size_t *n, uint64_t *dropped)
{
	struct snap *v = NULL;
	struct series *s;
	size_t k = 0, cap = 0, out = 0;
	bool short_of_memory = false;

	*dropped = 0;
	for (unsigned sh = 0; sh < m->nshards; sh++) {
		struct table *t = &m->shards[sh];

		pthread_mutex_lock(&t->lock);
		*dropped += t->dropped;
		if (k + t->nseries > cap) {
			size_t want = k + t->nseries;
			struct snap *p = realloc(v, (want > 0 ? want : 1) *
			    sizeof(*v));

			if (p == NULL) {
				short_of_memory = true;
				pthread_mutex_unlock(&t->lock);
				continue;
			}
			v = p;
			cap = want;
		}
		for (size_t i = 0; i < BUCKETS; i++) {
			for (s = t->buckets[i]; s != NULL; s = s->next) {
				memset(&v[k], 0, sizeof(v[k]));
				v[k].s = s;
				v[k].value = s->value;
				if (s->hist != NULL)
					v[k].hist = *s->hist;
				k++;
			}
		}
		pthread_mutex_unlock(&t->lock);
	}
	if (short_of_memory)
		log_warnx("metrics: out of memory; series left out of a "
		    "scrape");
	if (k > 1)
		qsort(v, k, sizeof(*v), snap_cmp);
	/* one series per label tuple: the shards' copies are adjacent */
	for (size_t i = 0; i < k; i++) {
		if (out > 0 && snap_cmp(&v[out - 1], &v[i]) == 0)
			snap_add(&v[out - 1], &v[i]);
		else
			v[out++] = v[i];
	}
	*n = out;
	return v;
}

static void
write_header(FILE *out, const struct family_def *f, const char *type)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
	    f->name, type);
}

/* Writes name{a="x",b="y"[,le="bound"]} for a series. */
static void
write_name(FILE *out, const char *name, const char *suffix,
    const struct series *s, const char *le)
{
	const struct family_def *f = &families[s->family];
	int i;

	fprintf(out, "%s%s", name, suffix);
	if (f->nlabels == 0 && le == NULL)
		return;
	putc('{', out);
	for (i = 0; i < f->nlabels; i++) {
		fprintf(out, "%s%s=\"", i > 0 ? "," : "", f->labels[i]);
		metrics_label(out, s->label[i]);
		putc('"', out);
	}
	if (le != NULL)
		fprintf(out, "%sle=\"%s\"", i > 0 ? "," : "", le);
	putc('}', out);
}

static void
write_histogram(FILE *out, const char *name, const struct snap *v)
{
	char num[40];
	uint64_t cum = 0;

	for (size_t i = 0; i <= NBOUNDS; i++) {
		cum += v->hist.buckets[i];
		if (i < NBOUNDS)
			format_float(bucket_bounds[i], num, sizeof(num));
		else
			snprintf(num, sizeof(num), "+Inf");
		write_name(out, name, "_bucket", v->s, num);
		fprintf(out, " %" PRIu64 "\n", cum);
	}
	format_float((double)v->hist.sum_us / 1e6, num, sizeof(num));
	write_name(out, name, "_sum", v->s, NULL);
	fprintf(out, " %s\n", num);
	write_name(out, name, "_count", v->s, NULL);
	fprintf(out, " %" PRIu64 "\n", v->hist.count);
}

void
metrics_write(struct metrics *m, FILE *out)
{
	struct snap *v;
	struct writer *w = NULL;
	size_t n, nw, k = 0;
	uint64_t dropped;

	v = snapshot(m, &n, &dropped);
	for (int f = 0; f < NFAMILIES; f++) {
		const struct family_def *fd = &families[f];

		switch (fd->kind) {
		case KIND_COUNTER:
		case KIND_HISTOGRAM:
			write_header(out, fd, fd->kind == KIND_COUNTER ?
			    "counter" : "histogram");
			for (; k < n && v[k].s->family == (enum family)f; k++) {
				if (fd->kind == KIND_HISTOGRAM) {
					write_histogram(out, fd->name, &v[k]);
					continue;
				}
				write_name(out, fd->name, "", v[k].s, NULL);
				fprintf(out, " %" PRIu64 "\n", v[k].value);
			}
			break;
		case KIND_OPEN:
			write_header(out, fd, "gauge");
			fprintf(out, "%s %" PRIdLEAST64 "\n", fd->name,
			    atomic_load(&m->open));
			break;
		case KIND_DROPPED:
			write_header(out, fd, "counter");
			fprintf(out, "%s %" PRIu64 "\n", fd->name, dropped);
			break;
		case KIND_BUILD:
			write_header(out, fd, "gauge");
			fprintf(out, "%s{version=\"", fd->name);
			metrics_label(out, PACKAGE_VERSION);
			fputs("\"} 1\n", out);
			break;
		}
	}
	free(v);

	pthread_mutex_lock(&m->wlock);
	nw = m->nwriters;
	if (nw > 0 && (w = malloc(nw * sizeof(*w))) != NULL)
		memcpy(w, m->writers, nw * sizeof(*w));
	pthread_mutex_unlock(&m->wlock);
	if (w == NULL && nw > 0)
		log_warnx("metrics: out of memory; writers left out of a "
		    "scrape");
	for (size_t i = 0; w != NULL && i < nw; i++)
		w[i].fn(w[i].arg, out);
	free(w);
}

/* ------------------------------------------------------------------ */
/* Admin listener                                                      */
/* ------------------------------------------------------------------ */

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evhttp_request_get_output_buffer(req);
	char clen[32];

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp would send a body to HEAD, and no length. */
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(h, "Content-Length", clen);
	} else if (len > 0) {
		evbuffer_add(buf, body, len);
	}
	evhttp_send_reply(req, code, reason, NULL);
}

static void
reply_static(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	reply_text(req, code, reason, "text/plain; charset=utf-8",
	    text, strlen(text));
}

static void
serve_metrics(struct metrics *m, struct evhttp_request *req)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out;

	if ((out = open_memstream(&body, &len)) == NULL) {
		reply_static(req, 500, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	metrics_write(m, out);
	if (fclose(out) != 0) {
		free(body);
		reply_static(req, 500, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	reply_text(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    body, len);
	free(body);
}

/* The request's path, without the query: "" if there is none. */
static const char *
request_path(struct evhttp_request *req, char *buf, size_t len)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if (p == NULL) {
		p = evhttp_request_get_uri(req);
		if (p == NULL)
			return "";
		snprintf(buf, len, "%.*s", (int)strcspn(p, "?#"), p);
		return buf;
	}
	return p;
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char buf[256];
	const char *path = request_path(req, buf, sizeof(buf));

	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0 &&
	    strcmp(path, "/readyz") != 0) {
		reply_static(req, 404, "Not Found", "not found\n");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_static(req, 405, "Method Not Allowed",
		    "method not allowed\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(m, req);
	else if (strcmp(path, "/healthz") == 0)
		reply_static(req, 200, "OK", "ok\n");
	else if (atomic_load(&m->ready))
		reply_static(req, 200, "OK", "ready\n");
	else
		reply_static(req, 503, "Service Unavailable", "not ready\n");
}

static int
admin_socket(const char *address, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *why;
	int fd, one = 1;

	if (sockaddr_parse(address, 0, &ss, &sslen, &why) == -1) {
		snprintf(err, errlen, "%s: %s", address, why);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", address,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		snprintf(err, errlen, "%s: setsockopt: %s", address,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&ss, sslen) < 0) {
		snprintf(err, errlen, "%s: bind: %s%s", address,
		    strerror(errno), errno == EACCES ?
		    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" :
		    "");
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", address,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
metrics_listen(struct metrics *m, struct event_base *base,
    const char *address, char *err, size_t errlen)
{
	struct evhttp *http;
	struct evconnlistener *listener;
	int fd;

	if (m->http != NULL) {
		snprintf(err, errlen, "%s: the admin listener already runs",
		    address);
		return -1;
	}
	if ((fd = admin_socket(address, err, errlen)) == -1)
		return -1;
	if ((http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "%s: evhttp_new failed", address);
		close(fd);
		return -1;
	}
	evhttp_set_max_headers_size(http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_timeout(http, ADMIN_TIMEOUT_S);
	/* All that evhttp parses, so that ours is the 405, not its 501. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, admin_cb, m);
	/* Not evhttp_accept_socket_with_handle(): on failure, it does not
	 * tell whether the socket was closed. */
	listener = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 0, fd);
	if (listener == NULL) {
		close(fd);
		evhttp_free(http);
		snprintf(err, errlen, "%s: evconnlistener_new failed", address);
		return -1;
	}
	if (evhttp_bind_listener(http, listener) == NULL) {
		evconnlistener_free(listener); /* closes fd */
		evhttp_free(http);
		snprintf(err, errlen, "%s: evhttp_bind_listener failed",
		    address);
		return -1;
	}
	m->http = http;
	return 0;
}
