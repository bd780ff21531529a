/*
 * main — the ddbgate command: subcommand dispatch, start-up and shutdown.
 *
 *   ddbgate run [-c FILE] [-d]     serve in the foreground
 *   ddbgate check -c FILE          validate and summarise a configuration
 *   ddbgate version                versions of ddbgate and its libraries
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <yaml.h>

#include "addrhealth.h"
#include "ca.h"
#include "ca_cli.h"
#include "cidr.h"
#include "config.h"
#include "diag.h"
#include "dnscache.h"
#include "daxmap.h"
#include "listener.h"
#include "log.h"
#include "logwriter.h"
#include "metrics.h"
#include "policy_cli.h"
#include "replay.h"
#include "resolver.h"
#include "sandbox.h"
#include "sdnotify.h"
#include "session.h"
#include "snapshot.h"
#include "tls_server.h"
#include "upstream.h"
#include "worker.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MAX_WORKERS 256

static const char usage_main[] =
    "usage: ddbgate COMMAND [OPTIONS]\n"
    "\n"
    "A private-connectivity gateway for Amazon DynamoDB, DynamoDB Streams and DAX.\n"
    "\n"
    "commands:\n"
    "  run [-c FILE]     serve in the foreground (built-in defaults without -c)\n"
    "  check -c FILE     validate a configuration and print its effective values\n"
    "  policy eval|lint  evaluate a request against a policy; lint a policy\n"
    "  ca init           create the gateway CA and say how clients trust it\n"
    "  passwd USER       a proxy_auth_users line for a connect listener\n"
    "  diag              check the path to each endpoint, layer by layer\n"
    "  version           print the versions of ddbgate and its libraries\n"
    "\n"
    "'ddbgate COMMAND --help' describes each command.\n";

static const char usage_run[] =
    "usage: ddbgate run [-c FILE] [-d]\n"
    "\n"
    "Serve in the foreground; logs go to standard error, the access log to\n"
    "access_log.path (standard output by default).\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in defaults:\n"
    "                     a CONNECT proxy on 127.0.0.1:3128 for the regional\n"
    "                     DynamoDB, Streams and DAX names of AWS_REGION, with\n"
    "                     a gateway CA created in the state directory)\n"
    "  -d, --debug        log every state change of every session\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 after a clean shutdown (SIGTERM, SIGINT), 1 when it\n"
    "cannot start (the message says why).\n";

static const char usage_check[] =
    "usage: ddbgate check -c FILE\n"
    "\n"
    "Load and validate FILE exactly as 'ddbgate run' would (certificates,\n"
    "keys and CA bundles included) and print the effective configuration.\n"
    "Errors name file:line:column and the key.\n"
    "\n"
    "Exit status: 0 valid, 1 invalid, 2 usage error.\n";

static const char usage_version[] =
    "usage: ddbgate version\n"
    "\n"
    "Print the version of ddbgate and of the libraries it runs with.\n";

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct run_opts {
	const char *config;
	int debug;
};

/* Parses the options shared by subcommands; returns -1 on a usage error,
 * 1 when --help was asked for. */
static int
parse_opts(int argc, char **argv, const char *usage, struct run_opts *o)
{
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:dh", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ddbgate: unexpected argument '%s'\n%s",
		    argv[optind], usage);
		return -1;
	}
	return 0;
}

static unsigned
worker_count(const struct config *cfg)
{
	long n = cfg->workers ? (long)cfg->workers :
	    sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

struct server {
	const char *config_path; /* NULL: the built-in defaults */
	struct snapshot *snap;
	struct worker *workers[MAX_WORKERS];
	unsigned nworkers;
	struct logwriter *logs; /* the access and audit logs' writer thread */
	int access_log;		/* their indexes in logs */
	int audit_log;
	struct replay_cache *replay;
	struct dnscache *dns;
	struct addrhealth *health;
	struct daxmap *dax;
	struct metrics *metrics;
	pthread_mutex_t snap_mu; /* guards snap for the metrics writers */
	struct event_base *base;
	struct event *watchdog;
	struct event *drain_check; /* while draining: all workers done? */
	unsigned ping; /* watchdog sequence */
	bool stopping;
	bool landlocked; /* file access limited to the start's directories */
};

/*
 * The listening sockets a reload needs: for each worker, one new socket
 * per listener the old configuration did not have (same address and
 * mode), -1 for the others. fds is nworkers rows of nlisteners. Returns
 * 0, or -1 with every socket opened so far closed and err set (an address
 * in use, or a port below 1024 once root was dropped).
 */
static int
open_new_listeners(const struct server *srv, const struct config *cfg,
    int *fds, char *err, size_t errlen)
{
	const struct config *old = srv->snap->cfg;
	size_t n = cfg->nlisteners;

	for (size_t k = 0; k < srv->nworkers * n; k++)
		fds[k] = -1;
	for (size_t j = 0; j < n; j++) {
		bool kept = false;

		for (size_t i = 0; i < old->nlisteners && !kept; i++)
			kept = config_same_listener(&old->listeners[i],
			    &cfg->listeners[j]);
		for (unsigned w = 0; !kept && w < srv->nworkers; w++) {
			char why[256];

			fds[w * n + j] = listener_open(&cfg->listeners[j], why,
			    sizeof(why));
			if (fds[w * n + j] >= 0)
				continue;
			snprintf(err, errlen, "listeners[%zu] %s: %s", j,
			    cfg->listeners[j].address, why);
			for (size_t k = 0; k < srv->nworkers * n; k++)
				if (fds[k] >= 0)
					close(fds[k]);
			return -1;
		}
		if (!kept)
			log_info("reload: new listener %s (%s mode)",
			    cfg->listeners[j].address,
			    config_mode_name(cfg->listeners[j].mode));
	}
	return 0;
}

/* Whether a cached name is still one the new configuration resolves. */
static bool
name_in_use(const char *name, void *arg)
{
	const struct config *cfg = arg;

	for (size_t i = 0; i < cfg->nendpoints; i++) {
		const struct conf_endpoint *e = &cfg->endpoints[i];

		for (size_t j = 0; j < e->nupstreams; j++)
			if (strcmp(e->upstreams[j].host, name) == 0)
				return true;
		for (size_t j = 0; e->nupstreams == 0 && j < e->nhosts; j++)
			if (strcmp(e->hosts[j], name) == 0)
				return true;
	}
	return false;
}

static void
warn_unchanged(const char *key, const char *old, const char *new)
{
	if (strcmp(old != NULL ? old : "", new != NULL ? new : "") != 0)
		log_warnx("reload: %s changed to %s; it applies at the next "
		    "restart (still %s)", key, new ? new : "off",
		    old ? old : "off");
}

/*
 * SIGHUP: load and validate everything first; a configuration that fails
 * leaves the running one untouched. A good one goes to every worker: new
 * connections and the next request of open ones use it, requests in
 * flight finish on the old one. Cached DNS answers stay unless the
 * resolvers changed or the name is no longer used.
 */
static void
reload(struct server *srv)
{
	const struct config *old = srv->snap->cfg;
	char err[CONFIG_ERR_MAX + 256];
	struct snapshot *snap;
	bool servers_changed;
	int *fds;

	log_info("SIGHUP: reloading %s", srv->config_path ?
	    srv->config_path : "the built-in defaults");
	sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)monotonic_ms() * 1000);
	snap = snapshot_load(srv->config_path, srv->snap->generation + 1, err,
	    sizeof(err));
	if (snap == NULL) {
		log_warnx("reload failed, still serving generation %u: %s%s",
		    srv->snap->generation, err, srv->landlocked &&
		    strstr(err, strerror(EACCES)) != NULL ? " (the sandbox "
		    "allows only the directories in use at start; restart "
		    "ddbgate to read files elsewhere)" : "");
		metrics_reload(srv->metrics, "failed");
		sdnotify("READY=1\nSTATUS=reload failed, serving generation "
		    "%u: %.200s", srv->snap->generation, err);
		return;
	}
	fds = xcalloc((size_t)srv->nworkers * snap->cfg->nlisteners + 1,
	    sizeof(*fds));
	if (open_new_listeners(srv, snap->cfg, fds, err, sizeof(err)) != 0) {
		log_warnx("reload refused, still serving generation %u: %s",
		    srv->snap->generation, err);
		sdnotify("READY=1\nSTATUS=reload refused, serving generation "
		    "%u", srv->snap->generation);
		metrics_reload(srv->metrics, "refused");
		snapshot_unref(snap);
		free(fds);
		return;
	}
	warn_unchanged("access_log.path", old->access_log.path,
	    snap->cfg->access_log.path);
	warn_unchanged("audit.path", old->audit.path, snap->cfg->audit.path);
	warn_unchanged("metrics.address", old->metrics.address,
	    snap->cfg->metrics.address);
	warn_unchanged("sandbox", old->sandbox ? "true" : "false",
	    snap->cfg->sandbox ? "true" : "false");
	servers_changed = resolver_settings_differ(old, snap->cfg) != 0;
	dnscache_retain(srv->dns, servers_changed, name_in_use, snap->cfg);
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_reload(srv->workers[i], snap,
		    fds + (size_t)i * snap->cfg->nlisteners);
	free(fds);
	pthread_mutex_lock(&srv->snap_mu);
	snapshot_unref(srv->snap);
	srv->snap = snap;
	pthread_mutex_unlock(&srv->snap_mu);
	metrics_reload(srv->metrics, "ok");
	log_info("reloaded: serving generation %u from %s%s", snap->generation,
	    snap->cfg->path, servers_changed ? "; resolvers changed, DNS "
	    "cache flushed" : "");
	sdnotify("READY=1\nSTATUS=serving generation %u", snap->generation);
}

static void
on_drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	for (unsigned i = 0; i < srv->nworkers; i++)
		if (!worker_done(srv->workers[i]))
			return;
	event_base_loopbreak(srv->base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval check_every = { .tv_usec = 50000 };

	if (sig == SIGHUP) {
		reload(srv);
		return;
	}
	if (sig == SIGUSR1) {
		/* after logrotate moved the files: the log writer reopens
		 * them between two batches (a line goes whole to the old
		 * file or the new one) and logs that it did */
		logwriter_reopen(srv->logs);
		return;
	}
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("%s: draining: no new connections, up to %u s for requests "
	    "in flight", strsignal((int)sig),
	    srv->snap->cfg->limits.drain_timeout_s);
	sdnotify("STOPPING=1\nSTATUS=draining");
	metrics_set_ready(srv->metrics, false);
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_drain(srv->workers[i], srv->snap->cfg->limits
		    .drain_timeout_s);
	/* the admin listener keeps answering (/readyz: 503) meanwhile */
	srv->drain_check = event_new(srv->base, -1, EV_PERSIST, on_drain_check,
	    srv);
	if (srv->drain_check == NULL ||
	    event_add(srv->drain_check, &check_every) != 0)
		event_base_loopbreak(srv->base);
}

/*
 * Started as root with `user` set: everything that needs root is done
 * (listeners bound, state directory and CA created, log files open), so
 * become that user and group for good, before any worker thread runs.
 */
static int
drop_privileges(const struct config *cfg, char *err, size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];
	gid_t gid;

	if (cfg->user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: set user (and group) so "
			    "ddbgate drops its privileges after binding");
		return 0;
	}
	if (geteuid() != 0) {
		log_info("not started as root: user %s ignored", cfg->user);
		return 0;
	}
	if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &pwp) != 0 ||
	    pwp == NULL) {
		snprintf(err, errlen, "user %s: no such user", cfg->user);
		return -1;
	}
	gid = pw.pw_gid;
	if (cfg->group != NULL) {
		char gbuf[4096];

		if (getgrnam_r(cfg->group, &gr, gbuf, sizeof(gbuf), &grp) != 0 ||
		    grp == NULL) {
			snprintf(err, errlen, "group %s: no such group",
			    cfg->group);
			return -1;
		}
		gid = gr.gr_gid;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
	    setuid(pw.pw_uid) != 0) {
		snprintf(err, errlen, "cannot become %s: %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "still able to become root after "
		    "dropping to %s", cfg->user);
		return -1;
	}
	log_info("running as user %s (uid %u), group %u", cfg->user,
	    (unsigned)pw.pw_uid, (unsigned)gid);
	return 0;
}

/*
 * After the privilege drop, before any worker thread: Landlock and the
 * seccomp filter (src/sandbox.h), each where the kernel has it. A layer
 * the kernel lacks is a warning; one that fails to apply stops start-up.
 */
static int
apply_sandbox(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->snap->cfg;
	struct sandbox *sb;
	char msg[512];
	int abi, ndenied;

	if (!cfg->sandbox) {
		log_warnx("sandbox: false: file access and system calls are "
		    "not limited");
		return 0;
	}
	sb = sandbox_new();
	sandbox_allow_config(sb, cfg, srv->config_path);
	abi = sandbox_landlock(sb, msg, sizeof(msg));
	if (abi < 0) {
		snprintf(err, errlen, "sandbox: %s", msg);
		sandbox_free(sb);
		return -1;
	}
	if (abi == 0)
		log_warnx("sandbox: %s: file access is not limited", msg);
	else {
		srv->landlocked = true;
		log_info("sandbox: Landlock ABI %d: files readable in %zu "
		    "director%s, writable in the state and log directories%s%s",
		    abi, sandbox_nrules(sb), sandbox_nrules(sb) == 1 ? "y" :
		    "ies", *msg != '\0' ? "; " : "", msg);
		for (size_t i = 0; i < sandbox_nrules(sb); i++) {
			unsigned rights;
			const char *path = sandbox_rule(sb, i, &rights);

			log_debug("sandbox: %s %s%s%s", path,
			    rights & SANDBOX_READ ? "r" : "",
			    rights & SANDBOX_WRITE ? "w" : "",
			    rights & SANDBOX_EXEC ? "x" : "");
		}
	}
	sandbox_free(sb);
	ndenied = sandbox_seccomp(msg, sizeof(msg));
	if (ndenied < 0) {
		snprintf(err, errlen, "sandbox: %s", msg);
		return -1;
	}
	if (ndenied == 0)
		log_warnx("sandbox: %s: system calls are not limited", msg);
	else
		log_info("sandbox: seccomp filter: %d system calls denied, no "
		    "writable and executable memory", ndenied);
	return 0;
}

static int
start_workers(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->snap->cfg;
	unsigned n = worker_count(cfg);
	unsigned per = (cfg->limits.max_connections + n - 1) / n;
	const struct worker_shared shared = {
		.logs = srv->logs,
		.access_log = srv->access_log,
		.audit_log = srv->audit_log,
		.replay = srv->replay,
		.dns = srv->dns,
		.health = srv->health,
		.metrics = srv->metrics,
		.dax = srv->dax,
	};

	for (unsigned i = 0; i < n; i++) {
		int fds[cfg->nlisteners > 0 ? cfg->nlisteners : 1];

		for (size_t j = 0; j < cfg->nlisteners; j++)
			if ((fds[j] = listener_open(&cfg->listeners[j], err,
			    errlen)) < 0)
				return -1;
		srv->workers[i] = worker_new(i, srv->snap, fds,
		    cfg->nlisteners, per, &shared, err, errlen);
		if (srv->workers[i] == NULL)
			return -1;
		srv->nworkers++;
	}
	if (drop_privileges(cfg, err, errlen) != 0 ||
	    apply_sandbox(srv, err, errlen) != 0)
		return -1;
	/* after Landlock, which binds the calling thread and its children */
	if (logwriter_start(srv->logs) != 0) {
		snprintf(err, errlen, "cannot start the log writer thread");
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (worker_start(srv->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			return -1;
		}
	return 0;
}

static void
log_serving(const struct server *srv)
{
	const struct config *cfg = srv->snap->cfg;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		log_info("listening on %s (%s mode)", cfg->listeners[i].address,
		    config_mode_name(cfg->listeners[i].mode));
	log_info("ddbgate %s serving %zu endpoint(s) with %u worker(s); "
	    "configuration %s", PACKAGE_VERSION, cfg->nendpoints,
	    srv->nworkers, cfg->path);
}

/* ---- gauges read at scrape time (the admin listener's thread) ------ */

static void
write_expiry(void *arg, const char *path, time_t not_after)
{
	FILE *out = arg;

	fputs("ddbgate_certificate_expiry_seconds{file=\"", out);
	metrics_label(out, path);
	fprintf(out, "\"} %lld\n", (long long)not_after);
}

static void
write_server_gauges(void *arg, FILE *out)
{
	struct server *srv = arg;
	struct snapshot *snap;
	struct tm tm;
	size_t idle = 0;

	pthread_mutex_lock(&srv->snap_mu);
	snap = snapshot_ref(srv->snap);
	pthread_mutex_unlock(&srv->snap_mu);
	fprintf(out, "# HELP ddbgate_config_generation The configuration "
	    "generation being served (1 at start, +1 per good reload).\n"
	    "# TYPE ddbgate_config_generation gauge\n"
	    "ddbgate_config_generation %u\n", snap->generation);
	fprintf(out, "# HELP ddbgate_certificate_expiry_seconds When each "
	    "static certificate and the gateway CA expire (Unix time).\n"
	    "# TYPE ddbgate_certificate_expiry_seconds gauge\n");
	tls_server_foreach_expiry(snap->tls_server, write_expiry, out);
	if (snap->ca != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(
	    ca_certificate(snap->ca)), &tm) == 1)
		write_expiry(out, snap->cfg->tls.ca_cert, timegm(&tm));
	snapshot_unref(snap);
	for (unsigned i = 0; i < srv->nworkers; i++)
		idle += upstream_pool_idle(srv->workers[i]->pool);
	fprintf(out, "# HELP ddbgate_upstream_pool_idle Idle verified "
	    "upstream connections in the pools of all workers.\n"
	    "# TYPE ddbgate_upstream_pool_idle gauge\n"
	    "ddbgate_upstream_pool_idle %zu\n", idle);
	fprintf(out, "# HELP ddbgate_egress_refusals_since_start_total "
	    "Upstream addresses the egress guard refused.\n"
	    "# TYPE ddbgate_egress_refusals_since_start_total counter\n"
	    "ddbgate_egress_refusals_since_start_total %lu\n",
	    session_egress_refusals());
}

static void
write_dns_gauges(void *arg, FILE *out)
{
	struct dnscache_stats st;

	dnscache_stats(arg, &st);
	fprintf(out,
	    "# HELP ddbgate_dns_cache_lookups_total DNS cache look-ups by "
	    "result.\n"
	    "# TYPE ddbgate_dns_cache_lookups_total counter\n"
	    "ddbgate_dns_cache_lookups_total{result=\"hit\"} %llu\n"
	    "ddbgate_dns_cache_lookups_total{result=\"negative_hit\"} %llu\n"
	    "ddbgate_dns_cache_lookups_total{result=\"miss\"} %llu\n"
	    "ddbgate_dns_cache_lookups_total{result=\"coalesced\"} %llu\n"
	    "# HELP ddbgate_dns_query_failures_total Queries every resolver "
	    "failed (timeout, SERVFAIL, refused).\n"
	    "# TYPE ddbgate_dns_query_failures_total counter\n"
	    "ddbgate_dns_query_failures_total %llu\n"
	    "# HELP ddbgate_dns_stale_answers_total Answers served stale.\n"
	    "# TYPE ddbgate_dns_stale_answers_total counter\n"
	    "ddbgate_dns_stale_answers_total %llu\n"
	    "# HELP ddbgate_dns_cache_entries Names in the DNS cache.\n"
	    "# TYPE ddbgate_dns_cache_entries gauge\n"
	    "ddbgate_dns_cache_entries %zu\n",
	    (unsigned long long)st.hits, (unsigned long long)st.negative_hits,
	    (unsigned long long)st.misses, (unsigned long long)st.coalesced,
	    (unsigned long long)st.failures,
	    (unsigned long long)st.stale_served, st.entries);
}

static void
write_address(void *arg, const struct addrhealth_info *info)
{
	FILE *out = arg;
	char a[64];

	sockaddr_format((const struct sockaddr *)&info->addr, a, sizeof(a));
	fprintf(out, "ddbgate_upstream_address_up{address=\"%s\",source=\"%s\"} "
	    "%d\n", a, info->source == ADDRHEALTH_CHECK ? "check" : "request",
	    info->up ? 1 : 0);
}

static void
write_health_gauges(void *arg, FILE *out)
{
	fprintf(out, "# HELP ddbgate_upstream_address_up Upstream addresses "
	    "that failed or are health-checked: 1 up, 0 down.\n"
	    "# TYPE ddbgate_upstream_address_up gauge\n");
	addrhealth_foreach(arg, write_address, out);
}

static void
write_dax_gauges(void *arg, FILE *out)
{
	fprintf(out, "# HELP ddbgate_dax_nodes_mapped DAX cluster nodes that "
	    "have a node port of a dax listener.\n"
	    "# TYPE ddbgate_dax_nodes_mapped gauge\n"
	    "ddbgate_dax_nodes_mapped %zu\n", daxmap_count(arg));
}

/*
 * WATCHDOG=1 only while every worker's loop answers: a worker stuck in a
 * call that should never block makes the service manager restart us.
 */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	unsigned stuck = 0;

	if (srv->stopping)
		return; /* draining workers leave their loops one by one */
	for (unsigned i = 0; i < srv->nworkers; i++)
		if (srv->ping > 0 && !worker_answered(srv->workers[i])) {
			log_warnx("watchdog: worker %u did not answer", i);
			stuck++;
		}
	if (stuck == 0)
		sdnotify("WATCHDOG=1");
	srv->ping++;
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_ping(srv->workers[i], srv->ping);
}

static void
start_watchdog(struct server *srv)
{
	uint64_t usec = sdnotify_watchdog_usec();
	struct timeval half = { .tv_sec = (time_t)(usec / 2000000),
	    .tv_usec = (suseconds_t)(usec / 2 % 1000000) };

	if (usec == 0)
		return;
	srv->watchdog = event_new(srv->base, -1, EV_PERSIST, on_watchdog, srv);
	if (srv->watchdog == NULL || event_add(srv->watchdog, &half) != 0)
		fatalx("cannot start the watchdog timer");
	log_info("watchdog: notifying every %llu ms",
	    (unsigned long long)(usec / 2000));
}

static int
cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct server srv = { 0 };
	struct event *sigs[4];
	const int signums[4] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	char err[CONFIG_ERR_MAX + 256];
	int rc;

	if ((rc = parse_opts(argc, argv, usage_run, &o)) != 0)
		return rc > 0 ? 0 : 2;
	log_init("ddbgate", o.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0 ||
	    ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatalx("cannot initialise libevent threads or c-ares");
	if ((srv.snap = snapshot_load(o.config, 1, err, sizeof(err))) == NULL)
		fatalx("cannot start: %s", err);
	srv.logs = logwriter_new(LOGWRITER_MAX_QUEUED);
	if ((srv.access_log = logwriter_add(srv.logs, "access",
	    srv.snap->cfg->access_log.path)) < 0)
		fatal("cannot start: access_log.path %s",
		    srv.snap->cfg->access_log.path);
	if ((srv.audit_log = logwriter_add(srv.logs, "audit",
	    srv.snap->cfg->audit.path)) < 0)
		fatal("cannot start: audit.path %s", srv.snap->cfg->audit.path);
	srv.config_path = o.config;
	pthread_mutex_init(&srv.snap_mu, NULL);
	if ((srv.metrics = metrics_new(worker_count(srv.snap->cfg) + 1)) ==
	    NULL ||
	    (srv.replay = replay_new()) == NULL ||
	    (srv.dns = dnscache_new()) == NULL ||
	    (srv.health = addrhealth_new()) == NULL ||
	    (srv.dax = daxmap_new()) == NULL)
		fatalx("cannot start: out of memory");
	if ((srv.base = event_base_new()) == NULL)
		fatalx("cannot create the main event base");
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(srv.base, signums[i], on_signal, &srv);
		evsignal_add(sigs[i], NULL);
	}
	/* bound before start_workers(), which may drop root */
	if (srv.snap->cfg->metrics.address != NULL) {
		if (metrics_listen(srv.metrics, srv.base,
		    srv.snap->cfg->metrics.address, err, sizeof(err)) != 0)
			fatalx("cannot start: metrics.address %s: %s",
			    srv.snap->cfg->metrics.address, err);
		log_info("metrics on http://%s/metrics (also /healthz, "
		    "/readyz)", srv.snap->cfg->metrics.address);
	}
	if (start_workers(&srv, err, sizeof(err)) != 0)
		fatalx("cannot start: %s", err);
	metrics_add_writer(srv.metrics, write_server_gauges, &srv);
	metrics_add_writer(srv.metrics, write_dns_gauges, srv.dns);
	metrics_add_writer(srv.metrics, write_health_gauges, srv.health);
	metrics_add_writer(srv.metrics, write_dax_gauges, srv.dax);
	metrics_add_writer(srv.metrics, logwriter_write_metrics, srv.logs);
	metrics_set_ready(srv.metrics, true);
	log_serving(&srv);
	start_watchdog(&srv);
	sdnotify("READY=1\nSTATUS=serving %zu endpoint(s), generation %u",
	    srv.snap->cfg->nendpoints, srv.snap->generation);
	event_base_dispatch(srv.base);
	for (unsigned i = 0; i < srv.nworkers; i++) {
		worker_join(srv.workers[i]);
		worker_free(srv.workers[i]);
	}
	/* every line the workers handed over is written before we exit */
	logwriter_stop(srv.logs);
	for (int i = 0; i < 4; i++)
		event_free(sigs[i]);
	if (srv.watchdog != NULL)
		event_free(srv.watchdog);
	if (srv.drain_check != NULL)
		event_free(srv.drain_check);
	metrics_free(srv.metrics); /* its listener lives on srv.base */
	event_base_free(srv.base);
	snapshot_unref(srv.snap);
	logwriter_free(srv.logs);
	replay_free(srv.replay);
	dnscache_free(srv.dns);
	addrhealth_free(srv.health);
	daxmap_free(srv.dax);
	ares_library_cleanup();
	log_info("stopped");
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct snapshot *snap;
	char err[CONFIG_ERR_MAX + 256];
	int rc;

	if ((rc = parse_opts(argc, argv, usage_check, &o)) != 0)
		return rc > 0 ? 0 : 2;
	if (o.config == NULL) {
		fprintf(stderr, "ddbgate check: -c FILE is required\n%s",
		    usage_check);
		return 2;
	}
	log_init("ddbgate", LOG_LEVEL_WARNING);
	if ((snap = snapshot_load(o.config, 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	config_print(snap->cfg, stdout);
	snapshot_describe(snap, stdout);
	printf("%s: configuration is valid\n", o.config);
	snapshot_unref(snap);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_version, stdout);
		return 0;
	}
	if (argc > 1) {
		fputs(usage_version, stderr);
		return 2;
	}
	printf("ddbgate %s\n", PACKAGE_VERSION);
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libevent %s\n", event_get_version());
	printf("  c-ares %s\n", ares_version(NULL));
	printf("  libyaml %s\n", yaml_get_version_string());
	printf("  nghttp2 %s (built with %s)\n",
	    nghttp2_version(0)->version_str, NGHTTP2_VERSION);
	printf("  jansson %s\n", jansson_version_str());
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", cmd_run },
		{ "check", cmd_check },
		{ "version", cmd_version },
		{ "policy", policy_cli_main },
		{ "ca", ca_cli_main },
		{ "passwd", passwd_cli_main },
		{ "diag", diag_main },
	};

	if (argc < 2) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ddbgate: unknown command '%s'\n%s", argv[1],
	    usage_main);
	return 2;
}
