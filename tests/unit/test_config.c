/*
 * Unit tests for config: the example file, defaults (built-in and from
 * the environment), every validation rule, YAML features that are
 * refused, error positions, endpoint lookup and config_print.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* A valid file to which tests append keys. */
#define LISTENER                                                          \
	"listeners:\n"                                                    \
	"  - address: 127.0.0.1:3128\n"                                   \
	"    mode: connect\n"
#define ENDPOINT                                                          \
	"endpoints:\n"                                                    \
	"  - name: ddb\n"                                                 \
	"    service: dynamodb\n"                                         \
	"    hosts: [dynamodb.us-east-1.amazonaws.com]\n"
#define MINIMAL LISTENER ENDPOINT

static char err[CONFIG_ERR_MAX];

static struct config *
load(const char *yaml)
{
	return config_load_buffer("t.yaml", yaml, strlen(yaml), err,
	    sizeof(err));
}

static struct config *
load_ok(const char *yaml)
{
	struct config *cfg = load(yaml);

	if (cfg == NULL)
		fail_msg("unexpected error: %s\n--- input:\n%s", err, yaml);
	return cfg;
}

/* The load fails and the message starts with prefix. */
static void
error_starts(const char *yaml, const char *prefix)
{
	struct config *cfg = load(yaml);

	if (cfg != NULL) {
		config_free(cfg);
		fail_msg("accepted:\n%s", yaml);
	}
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\"\n does not start with \"%s\"", err,
		    prefix);
}

/* The load fails and the message contains part. */
static void
error_has(const char *yaml, const char *part)
{
	struct config *cfg = load(yaml);

	if (cfg != NULL) {
		config_free(cfg);
		fail_msg("accepted:\n%s", yaml);
	}
	if (strstr(err, part) == NULL)
		fail_msg("error \"%s\"\n does not contain \"%s\"", err, part);
}

/* MINIMAL followed by extra must fail with a message starting prefix. */
static void
extra_error_starts(const char *extra, const char *prefix)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s", MINIMAL, extra);
	error_starts(yaml, prefix);
}

static void
extra_ok(const char *extra)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s", MINIMAL, extra);
	config_free(load_ok(yaml));
}

/* A config printed to a string (caller frees). */
static char *
printed(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print(cfg, f);
	fclose(f);
	return buf;
}

static const char *
cidr_text(const struct cidr *c, char *buf)
{
	return cidr_format(c, buf, 64);
}

static int
clean_env(void **state)
{
	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	return 0;
}

/* ---- the example file ---------------------------------------------- */

static void
test_example_file(void **state)
{
	const char *srcdir = getenv("srcdir");
	char path[4096], buf[64];
	struct config *cfg;
	const struct conf_endpoint *e;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/ddbgate.yaml",
	    srcdir != NULL ? srcdir : ".");
	cfg = config_load_file(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->region, "us-east-1");
	assert_string_equal(cfg->account, "111122223333");
	assert_int_equal(cfg->nlisteners, 2);
	assert_int_equal(cfg->listeners[1].mode, LISTENER_CONNECT);
	assert_int_equal(cfg->listeners[0].mode, LISTENER_SNI);
	assert_int_equal(cfg->listeners[0].addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)
	    &cfg->listeners[0].addr)->sin_port), 443);
	assert_int_equal(cfg->listeners[0].addrlen,
	    sizeof(struct sockaddr_in));
	assert_int_equal(cfg->listeners[0].nallow_clients, 2);
	assert_string_equal(cidr_text(&cfg->listeners[0].allow_clients[1], buf),
	    "192.168.10.0/24");
	assert_non_null(cfg->tls.ca_cert);
	assert_int_equal(cfg->tls.ncertificates, 1);
	assert_int_equal(cfg->resolver.nservers, 2);
	assert_string_equal(cfg->resolver.servers[0], "10.0.0.2");
	assert_string_equal(cfg->resolver.servers[1], "10.0.1.2:53");
	assert_int_equal(cfg->nendpoints, 2);
	e = &cfg->endpoints[0];
	assert_int_equal(e->service, SERVICE_DYNAMODB);
	assert_int_equal(e->nupstreams, 1);
	assert_string_equal(e->upstreams[0].host, "vpce-0abc1234def567890-"
	    "12345678.dynamodb.us-east-1.vpce.amazonaws.com");
	assert_int_equal(e->upstreams[0].port, 443);
	assert_false(e->upstreams[0].literal);
	assert_int_equal(cfg->endpoints[1].service, SERVICE_STREAMS);
	assert_int_equal(cfg->endpoints[1].enforcement, ENFORCEMENT_REPORT);
	assert_int_equal(cfg->nprincipals, 2);
	assert_int_equal(cfg->ntables, 2);
	assert_string_equal(cfg->tables[0].sort_key, "orderId");
	assert_null(cfg->tables[1].sort_key);
	assert_string_equal(cfg->audit.path, "/var/log/ddbgate/audit.jsonl");
	assert_string_equal(cfg->metrics.address, "127.0.0.1:9145");
	assert_int_equal(cfg->limits.max_body_bytes, 16777216);
	config_free(cfg);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_null(config_load_file("/nonexistent/ddbgate.yaml", err,
	    sizeof(err)));
	assert_string_equal(err,
	    "/nonexistent/ddbgate.yaml: No such file or directory");
}

/* ---- defaults ------------------------------------------------------- */

static void
test_minimal_defaults(void **state)
{
	struct config *cfg = load_ok(MINIMAL);
	const struct conf_endpoint *e = &cfg->endpoints[0];
	char buf[64];

	(void)state;
	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->region, "us-east-1");
	assert_null(cfg->account);
	assert_int_equal(cfg->workers, 0);
	assert_null(cfg->listeners[0].allow_clients);
	assert_int_equal(cfg->listeners[0].nallow_clients, 0);
	assert_null(cfg->tls.ca_cert);
	assert_null(cfg->tls.ca_key);
	assert_int_equal(cfg->tls.ncertificates, 0);
	assert_int_equal(cfg->resolver.nservers, 0);
	assert_int_equal(cfg->resolver.timeout_ms, 1000);
	assert_null(e->upstreams);
	assert_int_equal(e->nupstreams, 0);
	assert_int_equal(e->health_check_interval_s, 0);
	assert_int_equal(e->health_check_timeout_ms, 2000);
	assert_int_equal(cfg->resolver.min_ttl_s, 1);
	assert_int_equal(cfg->resolver.max_ttl_s, 300);
	assert_int_equal(cfg->resolver.negative_ttl_s, 5);
	assert_int_equal(cfg->resolver.serve_stale_s, 0);
	assert_int_equal(cfg->limits.upstream_backoff_ms, 1000);
	assert_int_equal(cfg->limits.upstream_backoff_max_ms, 30000);
	assert_string_equal(e->ca_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_int_equal(e->nallowed_cidrs, 4);
	assert_string_equal(cidr_text(&e->allowed_cidrs[0], buf), "10.0.0.0/8");
	assert_string_equal(cidr_text(&e->allowed_cidrs[1], buf),
	    "172.16.0.0/12");
	assert_string_equal(cidr_text(&e->allowed_cidrs[2], buf),
	    "192.168.0.0/16");
	assert_string_equal(cidr_text(&e->allowed_cidrs[3], buf), "fc00::/7");
	assert_null(e->policy);
	assert_int_equal(e->enforcement, ENFORCEMENT_ENFORCE);
	assert_true(e->intercept);
	assert_int_equal(cfg->nprincipals, 0);
	assert_int_equal(cfg->ntables, 0);
	assert_string_equal(cfg->audit.path, "-");
	assert_string_equal(cfg->access_log.path, "-");
	assert_string_equal(cfg->metrics.address, "127.0.0.1:9145");
	assert_int_equal(cfg->limits.max_connections, 10000);
	assert_int_equal(cfg->limits.max_header_bytes, 16384);
	assert_int_equal(cfg->limits.max_body_bytes, 16777216);
	assert_int_equal(cfg->limits.client_idle_timeout_s, 60);
	assert_int_equal(cfg->limits.upstream_timeout_s, 30);
	assert_int_equal(cfg->limits.upstream_connect_timeout_ms, 5000);
	assert_int_equal(cfg->limits.upstream_idle_timeout_s, 30);
	assert_int_equal(cfg->limits.upstream_pool_size, 64);
	config_free(cfg);
}

static void
check_builtin(const struct config *cfg, const char *region,
    const char *suffix)
{
	char want[128];
	size_t i;
	static const char *const names[] = { "dynamodb", "streams", "dax" };
	static const char *const hosts[] = { "dynamodb", "streams.dynamodb",
		"dax" };

	assert_string_equal(cfg->region, region);
	assert_int_equal(cfg->nlisteners, 1);
	assert_string_equal(cfg->listeners[0].address, "127.0.0.1:3128");
	assert_int_equal(cfg->listeners[0].mode, LISTENER_CONNECT);
	assert_int_equal(cfg->nendpoints, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(cfg->endpoints[i].name, names[i]);
		assert_int_equal(cfg->endpoints[i].service, (int)i);
		assert_int_equal(cfg->endpoints[i].nhosts, 1);
		snprintf(want, sizeof(want), "%s.%s.%s", hosts[i], region,
		    suffix);
		assert_string_equal(cfg->endpoints[i].hosts[0], want);
		assert_true(cfg->endpoints[i].intercept);
	}
	assert_int_equal(cfg->limits.max_body_bytes, 16777216);
}

static void
test_builtin_defaults(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("STATE_DIRECTORY", "/tmp/ddbgate-state:/tmp/other", 1);
	cfg = config_defaults(err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, "(built-in defaults)");
	check_builtin(cfg, "us-east-1", "amazonaws.com");
	assert_string_equal(cfg->state_dir, "/tmp/ddbgate-state");
	assert_string_equal(cfg->tls.ca_cert, "/tmp/ddbgate-state/ca.pem");
	assert_string_equal(cfg->tls.ca_key, "/tmp/ddbgate-state/ca.key");
	config_free(cfg);
}

static void
test_builtin_region_env(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("AWS_REGION", "eu-west-2", 1);
	cfg = config_defaults(err, sizeof(err));
	assert_non_null(cfg);
	check_builtin(cfg, "eu-west-2", "amazonaws.com");
	config_free(cfg);
	/* China regions live under amazonaws.com.cn. */
	setenv("AWS_REGION", "cn-north-1", 1);
	cfg = config_defaults(err, sizeof(err));
	assert_non_null(cfg);
	check_builtin(cfg, "cn-north-1", "amazonaws.com.cn");
	config_free(cfg);
	setenv("AWS_REGION", "", 1);
	cfg = config_defaults(err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->region, "us-east-1");
	config_free(cfg);
}

static void
test_builtin_bad_region_env(void **state)
{
	(void)state;
	setenv("AWS_REGION", "Moon-Base\"1", 1);
	assert_null(config_defaults(err, sizeof(err)));
	assert_string_equal(err, "(built-in defaults):1:9: region: "
	    "\"Moon-Base\"1\": not a region name like us-east-1");
	/* A file without region takes the same default, and fails alike. */
	assert_null(load(MINIMAL));
	assert_string_equal(err, "t.yaml:1:1: region: \"Moon-Base\"1\": not a "
	    "region name like us-east-1 (default value)");
	/* A region in the file wins over the environment. */
	config_free(load_ok("region: eu-central-1\n" MINIMAL));
}

static void
test_region_from_env(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("AWS_REGION", "ap-southeast-2", 1);
	cfg = load_ok(MINIMAL);
	assert_string_equal(cfg->region, "ap-southeast-2");
	config_free(cfg);
	cfg = load_ok("region: us-gov-west-1\n" MINIMAL);
	assert_string_equal(cfg->region, "us-gov-west-1");
	config_free(cfg);
}

static void
test_state_dir_env(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("STATE_DIRECTORY", "/run/state/ddbgate", 1);
	cfg = load_ok(MINIMAL);
	assert_string_equal(cfg->state_dir, "/run/state/ddbgate");
	config_free(cfg);
	unsetenv("STATE_DIRECTORY");
	setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
	cfg = load_ok(MINIMAL);
	if (geteuid() == 0)
		assert_string_equal(cfg->state_dir, "/var/lib/ddbgate");
	else
		assert_string_equal(cfg->state_dir, "/tmp/xdg/ddbgate");
	config_free(cfg);
	cfg = load_ok("state_dir: /srv/ddbgate\n" MINIMAL);
	assert_string_equal(cfg->state_dir, "/srv/ddbgate");
	config_free(cfg);
}

static void
test_user_group(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("user: ddbgate\ngroup: ddbgate\n" MINIMAL);
	assert_string_equal(cfg->user, "ddbgate");
	assert_string_equal(cfg->group, "ddbgate");
	config_free(cfg);
	cfg = load_ok(MINIMAL);
	assert_null(cfg->user);
	assert_null(cfg->group);
	config_free(cfg);
	error_starts("group: ddbgate\n" MINIMAL,
	    "t.yaml:1:8: group: needs user");
	error_starts("user: \"-x\"\n" MINIMAL,
	    "t.yaml:1:7: user: \"-x\": a user or group name is at most 32");
}

static void
test_state_dir_home(void **state)
{
	const char *home = getenv("HOME");
	char *saved = home != NULL ? strdup(home) : NULL;
	struct config *cfg;

	(void)state;
	if (geteuid() == 0) {
		free(saved);
		skip();
	}
	setenv("HOME", "/home/tester", 1);
	cfg = load_ok(MINIMAL);
	assert_string_equal(cfg->state_dir, "/home/tester/.local/state/ddbgate");
	config_free(cfg);
	if (saved != NULL)
		setenv("HOME", saved, 1);
	free(saved);
}

/* An empty document means the built-in defaults. */
static void
test_empty_file(void **state)
{
	static const char *const empty[] = { "", "# nothing here\n", "---\n",
		"~\n", "--- # still nothing\n...\n" };
	struct config *cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		cfg = load_ok(empty[i]);
		assert_string_equal(cfg->path, "t.yaml");
		check_builtin(cfg, "us-east-1", "amazonaws.com");
		config_free(cfg);
	}
}

/* ---- values ----------------------------------------------------------- */

static void
test_account(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("account: 111122223333\n" MINIMAL);
	assert_string_equal(cfg->account, "111122223333");
	config_free(cfg);
	cfg = load_ok("account: 012345678901\n" MINIMAL);
	assert_string_equal(cfg->account, "012345678901");
	config_free(cfg);
	cfg = load_ok("account: '000000000001'\n" MINIMAL);
	assert_string_equal(cfg->account, "000000000001");
	config_free(cfg);
	error_starts("account: 11112222333\n" MINIMAL,
	    "t.yaml:1:10: account: \"11112222333\": an account id is exactly "
	    "12 digits");
	error_has("account: 1111222233334\n" MINIMAL, "12 digits");
	error_has("account: 1.1e+11\n" MINIMAL, "12 digits");
	error_has("account: -11112222333\n" MINIMAL, "12 digits");
}

static void
test_region_values(void **state)
{
	static const char *const good[] = { "us-east-1", "eu-central-1",
		"us-gov-west-1", "ap-southeast-4", "il-central-1",
		"us-isob-east-1" };
	static const char *const bad[] = { "us-east", "US-EAST-1", "useast1",
		"us-east-1a", "u-east-1", "use-east-1", "us--1", "us-1",
		"us-east-", "-us-east-1", "us_east_1", "us-east-1 " };
	char yaml[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml), "region: %s\n" MINIMAL, good[i]);
		config_free(load_ok(yaml));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "region: \"%s\"\n" MINIMAL,
		    bad[i]);
		error_has(yaml, "region: ");
		error_has(yaml, "not a region name");
	}
}

struct range_case {
	const char *key;	/* "limits.max_body_bytes" */
	unsigned long long min, max;
	size_t off;
	size_t size;
};

#define RANGE(k, m, lo, hi) \
	{ k, lo, hi, offsetof(struct config, m), \
	  sizeof(((struct config *)0)->m) }

static const struct range_case ranges[] = {
	RANGE("workers", workers, 0, 256),
	RANGE("resolver.timeout_ms", resolver.timeout_ms, 50, 60000),
	RANGE("limits.max_connections", limits.max_connections, 1, 1000000),
	RANGE("limits.max_header_bytes", limits.max_header_bytes, 1024,
	    1048576),
	RANGE("limits.max_body_bytes", limits.max_body_bytes, 1024,
	    1073741824),
	RANGE("limits.client_idle_timeout_s", limits.client_idle_timeout_s, 1,
	    3600),
	RANGE("limits.upstream_timeout_s", limits.upstream_timeout_s, 1, 3600),
	RANGE("limits.upstream_connect_timeout_ms",
	    limits.upstream_connect_timeout_ms, 100, 60000),
	RANGE("limits.upstream_idle_timeout_s", limits.upstream_idle_timeout_s,
	    1, 3600),
	RANGE("limits.upstream_pool_size", limits.upstream_pool_size, 0,
	    10000),
};

/* "limits.x: 5" as YAML: "limits:\n  x: 5\n". */
static void
range_yaml(const struct range_case *c, unsigned long long v, char *buf,
    size_t len)
{
	const char *dot = strchr(c->key, '.');

	if (dot == NULL)
		snprintf(buf, len, MINIMAL "%s: %llu\n", c->key, v);
	else
		snprintf(buf, len, MINIMAL "%.*s:\n  %s: %llu\n",
		    (int)(dot - c->key), c->key, dot + 1, v);
}

static unsigned long long
range_value(const struct config *cfg, const struct range_case *c)
{
	const char *p = (const char *)cfg + c->off;

	if (c->size == sizeof(uint64_t)) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	} else {
		unsigned v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
}

static void
test_number_ranges(void **state)
{
	const struct range_case *c;
	struct config *cfg;
	char yaml[1024], want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		c = &ranges[i];
		range_yaml(c, c->min, yaml, sizeof(yaml));
		cfg = load_ok(yaml);
		assert_int_equal(range_value(cfg, c), c->min);
		config_free(cfg);
		range_yaml(c, c->max, yaml, sizeof(yaml));
		cfg = load_ok(yaml);
		assert_int_equal(range_value(cfg, c), c->max);
		config_free(cfg);
		snprintf(want, sizeof(want), "%s: %llu is out of range "
		    "(%llu..%llu)", c->key, c->max + 1, c->min, c->max);
		range_yaml(c, c->max + 1, yaml, sizeof(yaml));
		error_has(yaml, want);
		if (c->min > 0) {
			range_yaml(c, c->min - 1, yaml, sizeof(yaml));
			error_has(yaml, "is out of range");
		}
	}
}

static void
test_number_syntax(void **state)
{
	(void)state;
	extra_error_starts("workers: \"4\"\n", "t.yaml:8:10: workers: expected "
	    "a number, not a quoted string");
	extra_error_starts("workers: -1\n", "t.yaml:8:10: workers: expected a "
	    "whole number");
	extra_error_starts("workers: 0x10\n", "t.yaml:8:10: workers: ");
	extra_error_starts("workers: 4.0\n", "t.yaml:8:10: workers: ");
	extra_error_starts("workers: +4\n", "t.yaml:8:10: workers: ");
	extra_error_starts("workers: 1_0\n", "t.yaml:8:10: workers: ");
	extra_error_starts("workers: 99999999999999999999999999\n",
	    "t.yaml:8:10: workers: 99999999999999999999999999 is out of range");
	extra_error_starts("workers:\n", "t.yaml:8:9: workers: expected a "
	    "number, got an empty value");
	extra_error_starts("workers: [1]\n", "t.yaml:8:10: workers: expected a "
	    "number, got a list");
	extra_ok("workers: 012\n");
}

static void
test_bool(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], intercept: false}\n"
	    "  - {name: b, service: dynamodb, hosts: [c.d], intercept: True}\n");
	assert_false(cfg->endpoints[0].intercept);
	assert_true(cfg->endpoints[1].intercept);
	config_free(cfg);
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], intercept: yes}\n",
	    "t.yaml:5:59: endpoints[0].intercept: expected true or false");
	error_has(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "intercept: \"true\"}\n", "expected true or false");
}

static void
test_strings(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "audit: {path: '/var/log/a b.jsonl'}\n"
	    "access_log:\n  path: off\n");
	assert_string_equal(cfg->audit.path, "/var/log/a b.jsonl");
	assert_string_equal(cfg->access_log.path, "off");
	config_free(cfg);
	extra_error_starts("audit:\n  path: \"\"\n",
	    "t.yaml:9:9: audit.path: must not be empty");
	extra_error_starts("audit:\n  path: \"a\\0b\"\n",
	    "t.yaml:9:9: audit.path: contains a NUL character");
	extra_error_starts("audit:\n  path: \"a\\nb\"\n",
	    "t.yaml:9:9: audit.path: contains a control character");
	extra_error_starts("audit:\n  path: [a]\n",
	    "t.yaml:9:9: audit.path: expected a string, got a list");
	extra_error_starts("audit:\n  path: {a: b}\n",
	    "t.yaml:9:9: audit.path: expected a string, got a mapping");
	extra_error_starts("audit:\n  path:\n",
	    "t.yaml:9:8: audit.path: expected a string, got an empty value");
	extra_error_starts("audit: /var/log/audit\n",
	    "t.yaml:8:8: audit: expected a mapping of keys, got a scalar");
	extra_error_starts("limits:\n",
	    "t.yaml:8:8: limits: expected a mapping of keys, got an empty value");
	/* Block scalars are strings too. */
	cfg = load_ok(MINIMAL "audit:\n  path: >-\n    /var/log/x\n");
	assert_string_equal(cfg->audit.path, "/var/log/x");
	config_free(cfg);
}

static void
test_metrics_address(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "metrics:\n  address: off\n");
	assert_null(cfg->metrics.address);
	config_free(cfg);
	cfg = load_ok(MINIMAL "metrics:\n  address: \"[::1]:9145\"\n");
	assert_string_equal(cfg->metrics.address, "[::1]:9145");
	config_free(cfg);
	extra_error_starts("metrics:\n  address: localhost:9145\n",
	    "t.yaml:9:12: metrics.address: \"localhost:9145\": not a numeric IP "
	    "address");
	extra_error_starts("metrics:\n  address: 127.0.0.1\n",
	    "t.yaml:9:12: metrics.address: \"127.0.0.1\": a port is required");
	extra_error_starts("metrics:\n  address: 127.0.0.1:3128\n",
	    "t.yaml:9:12: metrics.address: 127.0.0.1:3128 is already used by "
	    "listeners[0]");
}

/* ---- listeners ------------------------------------------------------ */

static void
test_listeners(void **state)
{
	struct config *cfg;
	struct sockaddr_in6 *sin6;
	char buf[64];

	(void)state;
	cfg = load_ok("listeners:\n"
	    "  - address: \"[::]:443\"\n"
	    "    mode: transparent\n"
	    "    allow_clients: [\"::ffff:10.0.0.0/104\", 2001:db8::/32]\n"
	    "  - address: 0.0.0.0:443\n"
	    "    mode: sni\n"
	    "tls:\n  certificates:\n    - {cert: /c.pem, key: /c.key}\n"
	    ENDPOINT);
	assert_int_equal(cfg->nlisteners, 2);
	assert_int_equal(cfg->listeners[0].mode, LISTENER_TRANSPARENT);
	sin6 = (struct sockaddr_in6 *)&cfg->listeners[0].addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 443);
	assert_int_equal(cfg->listeners[0].addrlen, sizeof(*sin6));
	assert_int_equal(cfg->listeners[0].nallow_clients, 2);
	assert_string_equal(cidr_text(&cfg->listeners[0].allow_clients[1], buf),
	    "2001:db8::/32");
	assert_string_equal(config_mode_name(cfg->listeners[1].mode), "sni");
	config_free(cfg);
	/* Different addresses on one port are different listeners. */
	config_free(load_ok("listeners:\n"
	    "  - {address: \"[::]:3128\", mode: connect}\n"
	    "  - {address: \"[::1]:3128\", mode: connect}\n"
	    "  - {address: 0.0.0.0:3128, mode: connect}\n"
	    "  - {address: \"[::]:3129\", mode: connect}\n" ENDPOINT));
	error_starts("listeners:\n"
	    "  - {address: \"[::]:3128\", mode: connect}\n"
	    "  - {address: \"[0::0]:3128\", mode: connect}\n" ENDPOINT,
	    "t.yaml:3:15: listeners[1].address: [0::0]:3128 is already used by "
	    "listeners[0]");
}

static void
test_listener_errors(void **state)
{
	(void)state;
	error_starts("region: us-east-1\n" ENDPOINT,
	    "t.yaml:1:1: listeners: required key is missing");
	error_starts("listeners: []\n" ENDPOINT,
	    "t.yaml:1:12: listeners: must not be empty");
	error_starts("listeners: {address: 1.2.3.4:5}\n" ENDPOINT,
	    "t.yaml:1:12: listeners: expected a list, got a mapping");
	error_starts("listeners:\n  - 127.0.0.1:3128\n" ENDPOINT,
	    "t.yaml:2:5: listeners[0]: expected a mapping of keys, got a "
	    "scalar");
	error_starts("listeners:\n  - mode: connect\n" ENDPOINT,
	    "t.yaml:2:5: listeners[0].address: required key is missing");
	error_starts("listeners:\n  - address: 127.0.0.1:1\n" ENDPOINT,
	    "t.yaml:2:5: listeners[0].mode: required key is missing");
	error_starts("listeners:\n  - address: 127.0.0.1:1\n    mode: socks\n"
	    ENDPOINT, "t.yaml:3:11: listeners[0].mode: \"socks\" is not "
	    "connect, sni, transparent or dax");
	error_starts("listeners:\n  - address: 127.0.0.1\n    mode: connect\n"
	    ENDPOINT, "t.yaml:2:14: listeners[0].address: \"127.0.0.1\": a port "
	    "is required");
	error_starts("listeners:\n  - address: gateway:3128\n    mode: connect\n"
	    ENDPOINT, "t.yaml:2:14: listeners[0].address: \"gateway:3128\": not "
	    "a numeric IP address");
	error_starts("listeners:\n  - address: \"::1\"\n    mode: connect\n"
	    ENDPOINT, "t.yaml:2:14: listeners[0].address: ");
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect}\n"
	    "  - {address: 127.0.0.1:3128, mode: connect}\n" ENDPOINT,
	    "t.yaml:3:15: listeners[1].address: 127.0.0.1:3128 is already used "
	    "by listeners[0]");
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect,"
	    " allow_clients: [10.0.0.0/8, 10.1.0.0/8]}\n" ENDPOINT,
	    "t.yaml:2:74: listeners[0].allow_clients[1]: \"10.1.0.0/8\": "
	    "address has bits set past the prefix length");
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect, allow_clients: []}\n"
	    ENDPOINT, "t.yaml:2:61: listeners[0].allow_clients: must not be "
	    "empty");
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect, allow_clients: [x]}\n"
	    ENDPOINT, "t.yaml:2:62: listeners[0].allow_clients[0]: \"x\": not "
	    "an IPv4 or IPv6 address");
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect, port: 1}\n" ENDPOINT,
	    "t.yaml:2:46: listeners[0].port: unknown key (expected address, "
	    "mode, allow_clients, proxy_auth_users, http2, endpoint, tls, "
	    "node_ports, advertise)");
}

/* ---- tls ------------------------------------------------------------- */

static void
test_tls(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "tls:\n  ca_cert: /ca.pem\n  ca_key: /ca.key\n"
	    "  certificates:\n    - cert: /a.pem\n      key: /a.key\n"
	    "    - {cert: /b.pem, key: /b.key}\n");
	assert_string_equal(cfg->tls.ca_cert, "/ca.pem");
	assert_string_equal(cfg->tls.ca_key, "/ca.key");
	assert_int_equal(cfg->tls.ncertificates, 2);
	assert_string_equal(cfg->tls.certificates[1].key, "/b.key");
	config_free(cfg);
	extra_error_starts("tls:\n  ca_cert: /ca.pem\n",
	    "t.yaml:9:3: tls.ca_key: required when tls.ca_cert is set");
	extra_error_starts("tls:\n  ca_key: /ca.key\n",
	    "t.yaml:9:3: tls.ca_cert: required when tls.ca_key is set");
	extra_error_starts("tls:\n  certificates:\n    - cert: /a.pem\n",
	    "t.yaml:10:7: tls.certificates[0].key: required key is missing");
	extra_error_starts("tls:\n  certificates:\n    - key: /a.key\n",
	    "t.yaml:10:7: tls.certificates[0].cert: required key is missing");
	extra_ok("tls:\n  certificates: []\n");
}

static void
test_tls_needed(void **state)
{
	(void)state;
	error_starts("listeners:\n"
	    "  - {address: 127.0.0.1:3128, mode: connect}\n"
	    "  - {address: 0.0.0.0:443, mode: sni}\n" ENDPOINT,
	    "t.yaml:3:34: listeners[1].mode: sni mode needs a certificate: set "
	    "tls.certificates or tls.ca_cert");
	error_has("listeners:\n  - {address: 0.0.0.0:443, mode: transparent}\n"
	    ENDPOINT, "listeners[0].mode: transparent mode needs a certificate");
	config_free(load_ok("listeners:\n  - {address: 0.0.0.0:443, mode: sni}\n"
	    "tls: {ca_cert: /c, ca_key: /k}\n" ENDPOINT));
	config_free(load_ok("listeners:\n  - {address: 0.0.0.0:443, mode: sni}\n"
	    "tls: {certificates: [{cert: /c, key: /k}]}\n" ENDPOINT));
}

static void
test_proxy_auth_users(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("listeners:\n  - {address: 127.0.0.1:3128, mode: "
	    "connect, proxy_auth_users: /etc/ddbgate/users}\n" ENDPOINT);
	assert_string_equal(cfg->listeners[0].proxy_auth_users,
	    "/etc/ddbgate/users");
	config_free(cfg);
	cfg = load_ok(MINIMAL);
	assert_null(cfg->listeners[0].proxy_auth_users);
	config_free(cfg);
	error_starts("listeners:\n  - {address: 0.0.0.0:443, mode: sni, "
	    "proxy_auth_users: /u}\ntls: {ca_cert: /c, ca_key: /k}\n" ENDPOINT,
	    "t.yaml:2:57: listeners[0].proxy_auth_users: only connect "
	    "listeners authenticate clients; this one is sni");
}

/* ---- resolver -------------------------------------------------------- */

static void
test_resolver(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "resolver:\n  servers: [10.0.0.2, \"10.0.1.2:53\","
	    " \"[2001:db8::53]:5353\", \"2001:db8::54\"]\n  timeout_ms: 250\n");
	assert_int_equal(cfg->resolver.nservers, 4);
	assert_string_equal(cfg->resolver.servers[0], "10.0.0.2");
	assert_string_equal(cfg->resolver.servers[2], "[2001:db8::53]:5353");
	assert_string_equal(cfg->resolver.servers[3], "2001:db8::54");
	assert_int_equal(cfg->resolver.timeout_ms, 250);
	config_free(cfg);
	extra_ok("resolver:\n  servers: []\n");
	extra_error_starts("resolver:\n  servers: [10.0.0.2, dns.example]\n",
	    "t.yaml:9:23: resolver.servers[1]: \"dns.example\": not a numeric "
	    "IP address");
	extra_error_starts("resolver:\n  servers: [\"10.0.0.2:0\"]\n",
	    "t.yaml:9:13: resolver.servers[0]: \"10.0.0.2:0\": port must be");
	extra_error_starts("resolver:\n  servers: 10.0.0.2\n",
	    "t.yaml:9:12: resolver.servers: expected a list, got a scalar");
	extra_error_starts("resolver:\n  timeout_ms: 49\n",
	    "t.yaml:9:15: resolver.timeout_ms: 49 is out of range (50..60000)");
}

static void
test_resolver_cache(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "resolver:\n  min_ttl_s: 0\n  max_ttl_s: 60\n"
	    "  negative_ttl_s: 0\n  serve_stale_s: 600\n"
	    "limits:\n  upstream_backoff_ms: 250\n"
	    "  upstream_backoff_max_ms: 250\n");
	assert_int_equal(cfg->resolver.min_ttl_s, 0);
	assert_int_equal(cfg->resolver.max_ttl_s, 60);
	assert_int_equal(cfg->resolver.negative_ttl_s, 0);
	assert_int_equal(cfg->resolver.serve_stale_s, 600);
	assert_int_equal(cfg->limits.upstream_backoff_ms, 250);
	assert_int_equal(cfg->limits.upstream_backoff_max_ms, 250);
	config_free(cfg);
	extra_error_starts("resolver:\n  min_ttl_s: 120\n  max_ttl_s: 60\n",
	    "t.yaml:9:14: resolver.min_ttl_s: 120 is above resolver.max_ttl_s "
	    "(60)");
	/* Against a default upper bound, the written key is named. */
	extra_error_starts("resolver:\n  min_ttl_s: 301\n",
	    "t.yaml:9:14: resolver.min_ttl_s: 301 is above resolver.max_ttl_s "
	    "(300)");
	extra_error_starts("resolver:\n  max_ttl_s: 0\n",
	    "t.yaml:9:14: resolver.max_ttl_s: 0 is out of range (1..86400)");
	extra_error_starts("limits:\n  upstream_backoff_max_ms: 500\n",
	    "t.yaml:9:28: limits.upstream_backoff_ms: 1000 is above "
	    "limits.upstream_backoff_max_ms (500)");
}

/* ---- endpoints ------------------------------------------------------- */

static void
test_endpoint_values(void **state)
{
	struct config *cfg;
	const struct conf_endpoint *e;
	char buf[64];

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - name: Orders_DB.1\n"
	    "    service: dax-cluster\n"
	    "    hosts: [DynamoDB.US-East-1.AmazonAWS.com., x-1.example]\n"
	    "    upstream: \"[2001:db8::1]:8443\"\n"
	    "    ca_file: /etc/ddbgate/ca.pem\n"
	    "    allowed_cidrs: [0.0.0.0/0, \"::/0\"]\n"
	    "    policy: /etc/ddbgate/p.json\n"
	    "    enforcement: report\n"
	    "    intercept: false\n"
	    "  - name: s\n"
	    "    service: streams\n"
	    "    hosts: [streams.dynamodb.us-east-1.amazonaws.com]\n"
	    "    upstream: VPCE-1.Example.COM\n"
	    "  - name: d\n"
	    "    service: dax\n"
	    "    hosts: [dax.us-east-1.amazonaws.com]\n"
	    "    upstream: 10.1.2.3:444\n");
	e = &cfg->endpoints[0];
	assert_string_equal(e->name, "Orders_DB.1");
	assert_int_equal(e->service, SERVICE_DAX_CLUSTER);
	assert_string_equal(e->hosts[0], "dynamodb.us-east-1.amazonaws.com");
	assert_string_equal(e->hosts[1], "x-1.example");
	assert_string_equal(e->upstreams[0].host, "2001:db8::1");
	assert_int_equal(e->upstreams[0].port, 8443);
	assert_string_equal(e->ca_file, "/etc/ddbgate/ca.pem");
	assert_int_equal(e->nallowed_cidrs, 2);
	assert_string_equal(cidr_text(&e->allowed_cidrs[1], buf), "::/0");
	assert_string_equal(e->policy, "/etc/ddbgate/p.json");
	assert_int_equal(e->enforcement, ENFORCEMENT_REPORT);
	assert_false(e->intercept);
	assert_string_equal(cfg->endpoints[1].upstreams[0].host, "vpce-1.example.com");
	assert_int_equal(cfg->endpoints[1].upstreams[0].port, 443);
	assert_string_equal(cfg->endpoints[2].upstreams[0].host, "10.1.2.3");
	assert_int_equal(cfg->endpoints[2].upstreams[0].port, 444);
	config_free(cfg);
	/* Unbracketed, two or more colons: an IPv6 address, no port. */
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: '2001:db8::1:443', allowed_cidrs: ['::/0']}\n");
	assert_string_equal(cfg->endpoints[0].upstreams[0].host, "2001:db8::1:443");
	assert_int_equal(cfg->endpoints[0].upstreams[0].port, 443);
	config_free(cfg);
}

#define DAX_TLS "tls:\n  certificates:\n    - {cert: /c.pem, key: /c.key}\n"
#define DAX_EP                                                            \
	"endpoints:\n"                                                    \
	"  - name: orders\n"                                              \
	"    service: dax-cluster\n"                                      \
	"    hosts: [orders.abc123.dax-clusters.us-east-1.amazonaws.com]\n"

static void
test_dax(void **state)
{
	struct config *cfg;
	const struct conf_listener *l;

	(void)state;
	/* a dax listener makes one node listener per port */
	cfg = load_ok(DAX_TLS "listeners:\n"
	    "  - {address: 127.0.0.1:9111, mode: dax, endpoint: orders, "
	    "node_ports: 9112-9114}\n"
	    "  - {address: 0.0.0.0:8111, mode: dax, endpoint: orders, "
	    "node_ports: 8112-8113, tls: false, advertise: 10.1.2.3}\n"
	    DAX_EP "    upstream: [10.0.0.5, \"10.0.0.6:9999\"]\n");
	assert_int_equal(cfg->nlisteners, 2 + 3 + 2);
	l = &cfg->listeners[2];
	assert_int_equal(l->mode, LISTENER_DAX_NODE);
	assert_string_equal(l->address, "127.0.0.1:9112");
	assert_int_equal(l->dax_seed, 0);
	assert_int_equal(l->dax_slot, 0);
	assert_string_equal(config_mode_name(l->mode), "dax-node");
	assert_string_equal(cfg->listeners[4].address, "127.0.0.1:9114");
	assert_int_equal(cfg->listeners[4].dax_slot, 2);
	assert_string_equal(cfg->listeners[6].address, "0.0.0.0:8113");
	assert_false(cfg->listeners[6].tls);
	assert_int_equal(cfg->listeners[6].dax_seed, 1);
	assert_int_equal(cfg->listeners[0].dax_seed, -1);
	assert_int_equal(cfg->listeners[0].endpoint_index, 0);
	/* a port left out is the cluster's, not 443 */
	assert_int_equal(cfg->endpoints[0].upstreams[0].port, 9111);
	assert_int_equal(cfg->endpoints[0].upstreams[1].port, 9999);
	assert_true(cfg->endpoints[0].upstream_tls);
	config_free(cfg);
	cfg = load_ok(LISTENER DAX_EP "    upstream: 10.0.0.5\n"
	    "    upstream_tls: false\n");
	assert_int_equal(cfg->endpoints[0].upstreams[0].port, 8111);
	config_free(cfg);

	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, node_ports: 9112-9114}\n" DAX_EP,
	    "t.yaml:5:5: listeners[0].endpoint: required in dax mode");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: orders}\n" DAX_EP,
	    "t.yaml:5:5: listeners[0].node_ports: required in dax mode");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: orders, node_ports: 9110-9112}\n" DAX_EP,
	    "t.yaml:5:72: listeners[0].node_ports: 9110-9112 includes the "
	    "listener's own port 9111");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: orders, node_ports: 9200-9100}\n" DAX_EP,
	    "t.yaml:5:72: listeners[0].node_ports: \"9200-9100\": not "
	    "first-last");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: orders, node_ports: 9112-9212}\n" DAX_EP,
	    "t.yaml:5:72: listeners[0].node_ports: \"9112-9212\": not "
	    "first-last");
	error_starts(DAX_TLS "listeners:\n  - {address: 0.0.0.0:9111, "
	    "mode: dax, endpoint: orders, node_ports: 9112-9113}\n" DAX_EP,
	    "t.yaml:5:5: listeners[0].advertise: required when a dax "
	    "listener's address is a wildcard");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: ddb, node_ports: 9112-9113}\n" ENDPOINT,
	    "t.yaml:5:52: listeners[0].endpoint: endpoint ddb is a dynamodb "
	    "endpoint; dax listeners serve dax-cluster endpoints");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: nope, node_ports: 9112-9113}\n" DAX_EP,
	    "t.yaml:5:52: listeners[0].endpoint: no endpoint is named "
	    "\"nope\"");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:443, "
	    "mode: sni, node_ports: 9112-9113}\n" DAX_EP,
	    "t.yaml:5:53: listeners[0].node_ports: only dax listeners take "
	    "this key; this one is sni");
	error_starts(DAX_TLS "listeners:\n  - {address: 127.0.0.1:9111, "
	    "mode: dax, endpoint: orders, node_ports: 9112-9113}\n"
	    "  - {address: 127.0.0.1:9113, mode: sni}\n" DAX_EP,
	    "t.yaml:5:72: listeners[0].node_ports: 127.0.0.1:9113 is "
	    "already used by another listener");
	error_starts("listeners:\n  - {address: 127.0.0.1:9111, mode: dax, "
	    "endpoint: orders, node_ports: 9112-9113}\n" DAX_EP,
	    "t.yaml:2:37: listeners[0].mode: dax mode needs a certificate");
	error_starts(LISTENER DAX_EP "    upstream_tls: false\n"
	    "    health_check_interval_s: 5\n",
	    "t.yaml:9:30: endpoints[0].health_check_interval_s: a health "
	    "check is a verified TLS handshake");
	error_starts(LISTENER ENDPOINT "    upstream_tls: false\n",
	    "t.yaml:8:19: endpoints[0].upstream_tls: only dax-cluster "
	    "endpoints take this key");
	error_starts(LISTENER DAX_EP "    cluster_arn: arn:aws:dax:us-east-1:1:"
	    "cache/x\n", "t.yaml:8:18: endpoints[0].cluster_arn: ");
	error_starts(LISTENER DAX_EP "    cluster_arn: arn:aws:dax::"
	    "111122223333:cache/x\n", "t.yaml:8:18: endpoints[0].cluster_arn: ");
	error_starts(LISTENER DAX_EP "    cluster_arn: arn:aws:dax:us-east-1:"
	    "11112222333x:cache/x\n", "t.yaml:8:18: endpoints[0].cluster_arn: ");
	cfg = load_ok(LISTENER DAX_EP "    cluster_arn: arn:aws:dax:us-east-1:"
	    "111122223333:cache/orders-1\n");
	config_free(cfg);
}

static void
test_endpoint_upstream_lists(void **state)
{
	const struct conf_endpoint *e;
	struct config *cfg;

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - name: a\n    service: dynamodb\n    hosts: [a.b]\n"
	    "    upstream:\n"
	    "      - vpce-1a2b3c4d-5e6f-us-east-1a.dynamodb.us-east-1."
	    "vpce.amazonaws.com\n"
	    "      - 10.0.1.5:8443\n"
	    "      - \"[fd00::5]\"\n"
	    "    health_check_interval_s: 10\n"
	    "    health_check_timeout_ms: 500\n");
	e = &cfg->endpoints[0];
	assert_int_equal(e->nupstreams, 3);
	assert_string_equal(e->upstreams[0].host, "vpce-1a2b3c4d-5e6f-us-east-"
	    "1a.dynamodb.us-east-1.vpce.amazonaws.com");
	assert_int_equal(e->upstreams[0].port, 443);
	assert_false(e->upstreams[0].literal);
	assert_string_equal(e->upstreams[1].host, "10.0.1.5");
	assert_int_equal(e->upstreams[1].port, 8443);
	assert_true(e->upstreams[1].literal);
	assert_string_equal(e->upstreams[2].host, "fd00::5");
	assert_int_equal(e->upstreams[2].port, 443);
	assert_true(e->upstreams[2].literal);
	assert_int_equal(e->health_check_interval_s, 10);
	assert_int_equal(e->health_check_timeout_ms, 500);
	config_free(cfg);
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: []}\n",
	    "t.yaml:5:58: endpoints[0].upstream: must not be empty");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: [10.0.0.1, '10.0.0.1:443']}\n",
	    "t.yaml:5:69: endpoints[0].upstream[1]: 10.0.0.1:443 is listed "
	    "twice");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: [10.0.0.1, 'bad name']}\n",
	    "t.yaml:5:69: endpoints[0].upstream[1]: \"bad name\": ");
	/* The egress guard would refuse a fixed address: say so now. */
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: [10.0.0.1, 52.94.0.10]}\n",
	    "t.yaml:5:69: endpoints[0].upstream[1]: 52.94.0.10 is outside "
	    "allowed_cidrs");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: '[2001:db8::1]:443'}\n",
	    "t.yaml:5:58: endpoints[0].upstream: 2001:db8::1 is outside "
	    "allowed_cidrs");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "health_check_timeout_ms: 10}\n",
	    "t.yaml:5:73: endpoints[0].health_check_timeout_ms: 10 is out of "
	    "range (50..60000)");
}

static void
test_endpoint_errors(void **state)
{
	(void)state;
	error_starts(LISTENER, "t.yaml:1:1: endpoints: required key is missing");
	error_starts(LISTENER "endpoints: []\n",
	    "t.yaml:4:12: endpoints: must not be empty");
	error_starts(LISTENER "endpoints:\n  - service: dynamodb\n"
	    "    hosts: [a.b]\n",
	    "t.yaml:5:5: endpoints[0].name: required key is missing");
	error_starts(LISTENER "endpoints:\n  - name: a\n    hosts: [a.b]\n",
	    "t.yaml:5:5: endpoints[0].service: required key is missing");
	error_starts(LISTENER "endpoints:\n  - name: a\n    service: dynamodb\n",
	    "t.yaml:5:5: endpoints[0].hosts: required key is missing");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: 'a b', service: dynamodb, hosts: [a.b]}\n",
	    "t.yaml:5:12: endpoints[0].name: \"a b\": names use only");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamo, hosts: [a.b]}\n",
	    "t.yaml:5:24: endpoints[0].service: \"dynamo\" is not dynamodb, "
	    "streams, dax or dax-cluster");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: []}\n",
	    "t.yaml:5:41: endpoints[0].hosts: must not be empty");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: a.b}\n",
	    "t.yaml:5:41: endpoints[0].hosts: expected a list, got a scalar");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b]}\n"
	    "  - {name: a, service: streams, hosts: [c.d]}\n",
	    "t.yaml:6:12: endpoints[1].name: \"a\" is already the name of "
	    "endpoints[0]");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b, c.d, A.B]}\n",
	    "t.yaml:5:52: endpoints[0].hosts[2]: a.b is listed twice");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b]}\n"
	    "  - {name: b, service: streams, hosts: [c.d, A.B.]}\n",
	    "t.yaml:6:46: endpoints[1].hosts[1]: a.b is already a host of "
	    "endpoints[0] (a)");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], upstream: "
	    "'h:99999'}\n",
	    "t.yaml:5:58: endpoints[0].upstream: \"h:99999\": port must be a "
	    "number 1..65535");
	error_has(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], upstream: "
	    "'bad_host.example'}\n", "endpoints[0].upstream: "
	    "\"bad_host.example\": not a DNS name");
	error_has(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], upstream: "
	    "'2001:db8::1::443'}\n", "endpoints[0].upstream: "
	    "\"2001:db8::1::443\": not an IPv6 address (write [address]:port)");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "allowed_cidrs: []}\n",
	    "t.yaml:5:63: endpoints[0].allowed_cidrs: must not be empty");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "enforcement: audit}\n",
	    "t.yaml:5:61: endpoints[0].enforcement: \"audit\" is not enforce or "
	    "report");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], policy: ''}\n",
	    "t.yaml:5:56: endpoints[0].policy: must not be empty");
}

static void
host_bad(const char *host, const char *why)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [\"%s\"]}\n", host);
	error_has(yaml, "endpoints[0].hosts[0]: ");
	error_has(yaml, why);
}

static void
test_dns_names(void **state)
{
	char label63[64], label64[65], yaml[2048], name[300];
	struct config *cfg;

	(void)state;
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	snprintf(yaml, sizeof(yaml), LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [%s.example, "
	    "localhost, 0-a.b-0, 123.example]}\n", label63);
	cfg = load_ok(yaml);
	assert_int_equal(cfg->endpoints[0].nhosts, 4);
	config_free(cfg);
	snprintf(name, sizeof(name), "%s.example", label64);
	host_bad(name, "not a DNS name");
	host_bad("", "empty DNS name");
	host_bad(".", "empty DNS name");
	host_bad("a..b", "not a DNS name");
	host_bad(".a.b", "not a DNS name");
	host_bad("a.b..", "not a DNS name");
	host_bad("-a.b", "not a DNS name");
	host_bad("a-.b", "not a DNS name");
	host_bad("a.-b", "not a DNS name");
	host_bad("a_b.c", "not a DNS name");
	host_bad("*.amazonaws.com", "not a DNS name");
	host_bad("a b.c", "not a DNS name");
	host_bad("dynamodb.us-east-1.amazonaws.com:443", "not a DNS name");
	/* 4 x 63 + 3 dots = 255 characters: too long. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label63, label63, label63,
	    label63);
	host_bad(name, "DNS name over 253 characters");
	/* 253 characters is the limit. */
	name[253] = '\0';
	name[252] = 'a';
	snprintf(yaml, sizeof(yaml), LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [%s]}\n", name);
	config_free(load_ok(yaml));
}

/* ---- principals and tables --------------------------------------------- */

static void
test_principals(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "principals:\n"
	    "  - access_key_id: AKIAIOSFODNN7EXAMPLE\n"
	    "    arn: arn:aws:iam::111122223333:role/orders-app\n"
	    "  - {access_key_id: ASIA0123456789ABCDEF, arn: 'arn:aws:sts::1:x'}\n");
	assert_int_equal(cfg->nprincipals, 2);
	assert_string_equal(cfg->principals[0].access_key_id,
	    "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(cfg->principals[1].arn, "arn:aws:sts::1:x");
	config_free(cfg);
	extra_error_starts("principals:\n  - {access_key_id: akiaiosfodnn7example,"
	    " arn: 'arn:aws:iam::1:u'}\n", "t.yaml:9:21: principals[0]"
	    ".access_key_id: \"akiaiosfodnn7example\": an access key id is");
	extra_error_starts("principals:\n  - {access_key_id: AKIA123,"
	    " arn: 'arn:aws:iam::1:u'}\n", "t.yaml:9:21: principals[0]"
	    ".access_key_id: \"AKIA123\": an access key id is 16 to 128");
	extra_error_starts("principals:\n  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
	    " arn: 'iam::1:u'}\n", "t.yaml:9:48: principals[0].arn: "
	    "\"iam::1:u\": not an ARN");
	extra_error_starts("principals:\n  - {access_key_id: AKIAIOSFODNN7EXAMPLE}\n",
	    "t.yaml:9:5: principals[0].arn: required key is missing");
	extra_error_starts("principals:\n  - {arn: 'arn:aws:iam::1:u'}\n",
	    "t.yaml:9:5: principals[0].access_key_id: required key is missing");
	extra_error_starts("principals:\n"
	    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE, arn: 'arn:a'}\n"
	    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE, arn: 'arn:b'}\n",
	    "t.yaml:10:21: principals[1].access_key_id: already listed in "
	    "principals[0]");
}

/* Attribute names are at most 255 bytes. */
static void
attribute_too_long(void)
{
	char yaml[2048], name[300];
	struct config *cfg;

	memset(name, 'k', 256);
	name[256] = '\0';
	snprintf(yaml, sizeof(yaml), MINIMAL "tables:\n  - arn: arn:aws:"
	    "dynamodb:us-east-1:111122223333:table/Orders\n"
	    "    partition_key: %s\n", name);
	error_has(yaml, "tables[0].partition_key: \"kkkk");
	error_has(yaml, "attribute names are at most 255 bytes");
	name[255] = '\0';
	snprintf(yaml, sizeof(yaml), MINIMAL "tables:\n  - arn: arn:aws:"
	    "dynamodb:us-east-1:111122223333:table/Orders\n"
	    "    partition_key: %s\n", name);
	cfg = load_ok(yaml);
	assert_int_equal(strlen(cfg->tables[0].partition_key), 255);
	config_free(cfg);
}

static void
test_tables(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "tables:\n"
	    "  - arn: arn:aws:dynamodb:us-east-1:111122223333:table/Orders\n"
	    "    partition_key: customerId\n"
	    "    sort_key: orderId\n"
	    "  - arn: arn:aws-cn:dynamodb:cn-north-1:111122223333:table/a.b_c-d\n"
	    "    partition_key: pk\n");
	assert_int_equal(cfg->ntables, 2);
	assert_string_equal(cfg->tables[0].partition_key, "customerId");
	assert_string_equal(cfg->tables[0].sort_key, "orderId");
	assert_null(cfg->tables[1].sort_key);
	config_free(cfg);
	extra_error_starts("tables:\n  - arn: arn:aws:dynamodb:us-east-1:1:"
	    "table/Orders\n    partition_key: k\n", "t.yaml:9:10: tables[0].arn:"
	    " \"arn:aws:dynamodb:us-east-1:1:table/Orders\": not a table ARN");
	extra_error_starts("tables:\n  - arn: arn:aws:s3:us-east-1:111122223333:"
	    "table/Orders\n    partition_key: k\n", "t.yaml:9:10: tables[0].arn:");
	extra_error_starts("tables:\n  - arn: arn:aws:dynamodb:us-east-1:"
	    "111122223333:table/Orders/stream/x\n    partition_key: k\n",
	    "t.yaml:9:10: tables[0].arn:");
	extra_error_starts("tables:\n  - arn: arn:aws:dynamodb:us-east-1:"
	    "111122223333:table/ab\n    partition_key: k\n",
	    "t.yaml:9:10: tables[0].arn:");
	extra_error_starts("tables:\n  - arn: arn:aws:dynamodb::"
	    "111122223333:table/abc\n    partition_key: k\n",
	    "t.yaml:9:10: tables[0].arn:");
	extra_error_starts("tables:\n  - arn: arn:aws:dynamodb:us-east-1:"
	    "111122223333:table/Orders\n", "t.yaml:9:5: tables[0].partition_key:"
	    " required key is missing");
	attribute_too_long();
	extra_error_starts("tables:\n"
	    "  - {arn: 'arn:aws:dynamodb:us-east-1:111122223333:table/Tab1', "
	    "partition_key: a}\n"
	    "  - {arn: 'arn:aws:dynamodb:us-east-1:111122223333:table/Tab1', "
	    "partition_key: b}\n",
	    "t.yaml:10:11: tables[1].arn: already listed in tables[0]");
}

/* ---- YAML features and syntax ----------------------------------------- */

static void
test_unknown_keys(void **state)
{
	(void)state;
	extra_error_starts("regoin: us-east-1\n", "t.yaml:8:1: regoin: unknown "
	    "key (expected region, account, workers, state_dir, user, group, sandbox, listeners, ");
	extra_error_starts("limits:\n  max_body: 5\n",
	    "t.yaml:9:3: limits.max_body: unknown key (expected max_connections,");
	extra_error_starts("max_body_bytes: 2048\n", "t.yaml:8:1: "
	    "max_body_bytes: unknown key (did you mean limits.max_body_bytes?)");
	/* Dotted keys are not a shorthand for nesting. */
	extra_error_starts("limits.max_body_bytes: 2048\n",
	    "t.yaml:8:1: limits.max_body_bytes: unknown key");
	extra_error_starts("\"endpoints[].name\": x\n",
	    "t.yaml:8:1: endpoints[].name: unknown key");
	extra_error_starts("? [a]\n: b\n",
	    "t.yaml:8:3: ?: a key must be a name, not a list");
	extra_error_starts("Region: us-east-1\n", "t.yaml:8:1: Region: unknown");
	extra_error_starts("\"work\\0ers\": 1\n", "t.yaml:8:1: work?ers: "
	    "unknown key");
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	extra_error_starts("workers: 1\nworkers: 2\n",
	    "t.yaml:9:1: workers: duplicate key (first at line 8, column 1)");
	error_starts(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], name: b}\n",
	    "t.yaml:5:48: endpoints[0].name: duplicate key (first at line 5, "
	    "column 6)");
	extra_error_starts("limits:\n  max_connections: 5\nlimits:\n"
	    "  max_connections: 6\n", "t.yaml:10:1: limits: duplicate key");
	extra_error_starts("'workers': 1\n\"workers\": 2\n",
	    "t.yaml:9:1: workers: duplicate key");
}

static void
test_aliases_and_tags(void **state)
{
	(void)state;
	error_starts("listeners:\n  - &l {address: 127.0.0.1:1, mode: connect}\n"
	    "  - *l\n" ENDPOINT, "t.yaml:2:5: listeners[0]: anchors and aliases "
	    "are not allowed");
	/* An alias to an anchor libyaml never saw is still an alias. */
	extra_error_starts("region: *r\n",
	    "t.yaml:8:9: region: aliases are not allowed");
	extra_error_starts("workers: !!int 4\n",
	    "t.yaml:8:10: workers: tags (such as !!str) are not allowed");
	extra_error_starts("account: !!str 111122223333\n",
	    "t.yaml:8:10: account: tags");
	extra_error_starts("limits: !custom {max_connections: 5}\n",
	    "t.yaml:8:9: limits: tags");
	extra_error_starts("audit: {path: ! x}\n", "t.yaml:8:15: audit.path: "
	    "tags");
	extra_error_starts("<<: {workers: 4}\n", "t.yaml:8:1: <<: unknown key");
}

static void
test_multiple_documents(void **state)
{
	(void)state;
	error_starts(MINIMAL "---\n" MINIMAL,
	    "t.yaml:8:1: only one document is allowed");
	error_starts(MINIMAL "...\n---\nworkers: 1\n",
	    "t.yaml:9:1: only one document is allowed");
	config_free(load_ok("%YAML 1.1\n---\n" MINIMAL "...\n"));
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	error_starts("workers: 1\nlimits:\n  max_connections: 5\n bad: 1\n",
	    "t.yaml:4:2: YAML syntax error: did not find expected key (while "
	    "parsing a block mapping at line 1, column 1)");
	error_starts("listeners: [a, b\n", "t.yaml:2:1: listeners[2]: YAML "
	    "syntax error: did not find expected ',' or ']'");
	error_starts("region: \"us-east-1\n", "t.yaml:2:1: region: YAML syntax "
	    "error: found unexpected end of stream");
	error_starts("a: b: c\n", "t.yaml:1:5: YAML syntax error: mapping "
	    "values are not allowed in this context");
	error_starts("workers: 1\n\tlimits: {}\n", "t.yaml:2:1: workers: YAML "
	    "syntax error: found a tab character that violates indentation");
	error_starts("workers: @1\n", "t.yaml:1:10: workers: YAML syntax "
	    "error: found character that cannot start any token");
	error_starts("region: \xff\n", "t.yaml:1:9: invalid input: invalid "
	    "leading UTF-8 octet");
	error_starts("workers: 1\nregion: x\xc3\n", "t.yaml:2:11: invalid input: "
	    "invalid trailing UTF-8 octet");
	error_starts("workers: 1\x01\n", "t.yaml:1:11: invalid input: control "
	    "characters are not allowed");
}

static void
test_nesting_limit(void **state)
{
	char yaml[256];
	size_t i, n = 40;

	(void)state;
	for (i = 0; i < n; i++)
		yaml[i] = '[';
	for (i = 0; i < n; i++)
		yaml[n + i] = ']';
	yaml[2 * n] = '\0';
	error_has(yaml, "nested more than 32 levels deep");
}

static void
test_top_level(void **state)
{
	(void)state;
	error_starts("- a\n- b\n", "t.yaml:1:1: expected a mapping of keys at the "
	    "top level, got a list");
	error_starts("hello\n", "t.yaml:1:1: expected a mapping of keys at the "
	    "top level, got a scalar");
}

/* ---- lookups and names ------------------------------------------------ */

static void
test_endpoint_for_host(void **state)
{
	struct config *cfg;
	const char *name = "DynamoDB.US-EAST-1.amazonaws.com.xyz";

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [dynamodb.us-east-1."
	    "amazonaws.com]}\n"
	    "  - {name: b, service: streams, hosts: [x.example, streams."
	    "dynamodb.us-east-1.amazonaws.com]}\n");
	assert_ptr_equal(config_endpoint_for_host(cfg,
	    "dynamodb.us-east-1.amazonaws.com", 32), &cfg->endpoints[0]);
	/* Not NUL-terminated at len: only len bytes count. */
	assert_ptr_equal(config_endpoint_for_host(cfg, name, 32),
	    &cfg->endpoints[0]);
	assert_ptr_equal(config_endpoint_for_host(cfg, name, 33),
	    &cfg->endpoints[0]);
	assert_null(config_endpoint_for_host(cfg, name, 34));
	assert_null(config_endpoint_for_host(cfg, name, 31));
	assert_ptr_equal(config_endpoint_for_host(cfg,
	    "STREAMS.dynamodb.us-east-1.amazonaws.com.", 41),
	    &cfg->endpoints[1]);
	assert_ptr_equal(config_endpoint_for_host(cfg, "X.Example", 9),
	    &cfg->endpoints[1]);
	assert_null(config_endpoint_for_host(cfg, "x.example..", 11));
	assert_null(config_endpoint_for_host(cfg, "example", 7));
	assert_null(config_endpoint_for_host(cfg, ".", 1));
	assert_null(config_endpoint_for_host(cfg, "", 0));
	config_free(cfg);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(config_mode_name(LISTENER_CONNECT), "connect");
	assert_string_equal(config_mode_name(LISTENER_SNI), "sni");
	assert_string_equal(config_mode_name(LISTENER_TRANSPARENT),
	    "transparent");
	assert_string_equal(config_mode_name((enum listener_mode)42), "?");
	assert_string_equal(config_service_name(SERVICE_DYNAMODB), "dynamodb");
	assert_string_equal(config_service_name(SERVICE_STREAMS), "streams");
	assert_string_equal(config_service_name(SERVICE_DAX), "dax");
	assert_string_equal(config_service_name(SERVICE_DAX_CLUSTER),
	    "dax-cluster");
	assert_string_equal(config_service_name((enum endpoint_service)9), "?");
	config_free(NULL);
}

/* ---- config_print ------------------------------------------------------ */

static void
has_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("line \"%s\" not in:\n%s", line, text);
}

static void
test_print(void **state)
{
	struct config *cfg;
	char *text;

	(void)state;
	cfg = load_ok(MINIMAL "workers: 4\nmetrics: {address: off}\n"
	    "limits: {max_body_bytes: 1048576}\n"
	    "resolver: {servers: [10.0.0.2]}\n");
	text = printed(cfg);
	assert_true(strncmp(text, "# ddbgate configuration: t.yaml\n", 32) == 0);
	has_line(text, "region = us-east-1 (default)");
	has_line(text, "account = (not set) (default)");
	has_line(text, "workers = 4");
	has_line(text, "limits.max_body_bytes = 1048576");
	has_line(text, "limits.max_header_bytes = 16384 (default)");
	has_line(text, "limits.upstream_pool_size = 64 (default)");
	has_line(text, "metrics.address = off");
	has_line(text, "audit.path = - (default)");
	has_line(text, "resolver.servers = [10.0.0.2]");
	has_line(text, "listeners[0]:");
	has_line(text, "  address = 127.0.0.1:3128");
	has_line(text, "  mode = connect");
	has_line(text, "  allow_clients = (any client) (default)");
	has_line(text, "endpoints[0]:");
	has_line(text, "  name = ddb");
	has_line(text, "  hosts = [dynamodb.us-east-1.amazonaws.com]");
	has_line(text, "  upstream = (the requested host) (default)");
	has_line(text, "  allowed_cidrs = [10.0.0.0/8, 172.16.0.0/12, "
	    "192.168.0.0/16, fc00::/7] (default)");
	has_line(text, "  intercept = true (default)");
	has_line(text, "tls.certificates = (none)");
	has_line(text, "principals = (none)");
	free(text);
	config_free(cfg);
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "upstream: '[fd00::1]:8443', enforcement: report}\n"
	    "  - {name: b, service: dynamodb, hosts: [c.d], "
	    "upstream: 'Vpce.Example', intercept: false}\n"
	    "  - {name: c, service: dynamodb, hosts: [e.f], "
	    "upstream: [10.0.0.1, 'vpce-a.example:8443']}\n");
	text = printed(cfg);
	has_line(text, "  upstream = [fd00::1]:8443");
	has_line(text, "  upstream = [10.0.0.1:443, vpce-a.example:8443]");
	has_line(text, "  enforcement = report");
	has_line(text, "  upstream = vpce.example:443");
	has_line(text, "  intercept = false");
	free(text);
	config_free(cfg);
}

static void
test_print_builtin(void **state)
{
	struct config *cfg;
	char *text;

	(void)state;
	setenv("STATE_DIRECTORY", "/tmp/st", 1);
	cfg = config_defaults(err, sizeof(err));
	assert_non_null(cfg);
	text = printed(cfg);
	has_line(text, "state_dir = /tmp/st (default)");
	has_line(text, "tls.ca_cert = /tmp/st/ca.pem");
	has_line(text, "  upstream = (the requested host) (default)");
	has_line(text, "endpoints[2]:");
	has_line(text, "  hosts = [dax.us-east-1.amazonaws.com]");
	free(text);
	config_free(cfg);
}

/* ---- principals[].userid, endpoints[].source_vpce, deny_replays --------- */

static void
test_principal_userid(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(MINIMAL "principals:\n"
	    "  - access_key_id: AKIAIOSFODNN7EXAMPLE\n"
	    "    arn: arn:aws:iam::111122223333:role/orders-app\n"
	    "    userid: AROAEXAMPLEROLEID0001:orders-app\n"
	    "  - {access_key_id: AKIAI44QH8DHBEXAMPLE, arn: 'arn:aws:iam::1:u',"
	    " userid: 'AIDA+=,.@_-x'}\n"
	    "  - {access_key_id: AKIAI44QH8DHBEXAMPL2, arn: 'arn:aws:iam::1:v'}\n");
	assert_string_equal(cfg->principals[0].userid,
	    "AROAEXAMPLEROLEID0001:orders-app");
	assert_string_equal(cfg->principals[1].userid, "AIDA+=,.@_-x");
	assert_null(cfg->principals[2].userid);
	config_free(cfg);
	extra_error_starts("principals:\n  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
	    " arn: 'arn:aws:iam::1:u', userid: 'a b'}\n", "t.yaml:9:76: "
	    "principals[0].userid: \"a b\": a user id is at most 256");
	extra_error_starts("principals:\n  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
	    " arn: 'arn:aws:iam::1:u', userid: ''}\n", "t.yaml:9:76: "
	    "principals[0].userid: must not be empty");
	extra_error_starts("principals:\n  - {access_key_id: AKIAIOSFODNN7EXAMPLE,"
	    " arn: 'arn:aws:iam::1:u', userid: [a]}\n", "t.yaml:9:76: "
	    "principals[0].userid: expected a string, got a list");
}

static void
userid_too_long(void)
{
	char yaml[2048], id[300];
	struct config *cfg;

	memset(id, 'A', 257);
	id[257] = '\0';
	snprintf(yaml, sizeof(yaml), MINIMAL "principals:\n"
	    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE, arn: 'arn:aws:iam::1:u',"
	    " userid: %s}\n", id);
	error_has(yaml, "a user id is at most 256");
	id[256] = '\0';
	snprintf(yaml, sizeof(yaml), MINIMAL "principals:\n"
	    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE, arn: 'arn:aws:iam::1:u',"
	    " userid: %s}\n", id);
	cfg = load_ok(yaml);
	assert_int_equal(strlen(cfg->principals[0].userid), 256);
	config_free(cfg);
}

static void
test_principal_userid_length(void **state)
{
	(void)state;
	userid_too_long();
}

static void
test_endpoint_source_vpce(void **state)
{
	static const char *const bad[] = {
		"vpce-0abc123", "vpce-0abc1234def5678901", "vpce-0ABC1234",
		"vpc-0abc1234", "vpce-0abc1234-5678", "vpce-", "0abc1234def",
		"vpce-0abc1234g",
	};
	struct config *cfg;
	char yaml[1024];
	size_t i;

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], "
	    "source_vpce: vpce-0abc1234def567890}\n"
	    "  - {name: b, service: dynamodb, hosts: [c.d], "
	    "source_vpce: vpce-1a2b3c4d}\n"
	    "  - {name: c, service: streams, hosts: [e.f]}\n");
	assert_string_equal(cfg->endpoints[0].source_vpce,
	    "vpce-0abc1234def567890");
	assert_string_equal(cfg->endpoints[1].source_vpce, "vpce-1a2b3c4d");
	assert_null(cfg->endpoints[2].source_vpce);
	config_free(cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), LISTENER "endpoints:\n"
		    "  - {name: a, service: dynamodb, hosts: [a.b], "
		    "source_vpce: '%s'}\n", bad[i]);
		error_has(yaml, "endpoints[0].source_vpce: \"");
		error_has(yaml, "a VPC endpoint id is vpce- and 8 to 17 "
		    "lower-case hex digits");
	}
}

static void
test_endpoint_deny_replays(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], deny_replays: true}\n"
	    "  - {name: b, service: dynamodb, hosts: [c.d], deny_replays: false}\n"
	    "  - {name: c, service: streams, hosts: [e.f]}\n");
	assert_true(cfg->endpoints[0].deny_replays);
	assert_false(cfg->endpoints[1].deny_replays);
	assert_false(cfg->endpoints[2].deny_replays);
	config_free(cfg);
	error_has(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], deny_replays: yes}\n",
	    "endpoints[0].deny_replays: expected true or false");
	error_has(LISTENER "endpoints:\n"
	    "  - {name: a, service: dynamodb, hosts: [a.b], deny_replays: 'true'}\n",
	    "endpoints[0].deny_replays: expected true or false");
}

static void
test_new_keys_printed_and_example(void **state)
{
	const char *srcdir = getenv("srcdir");
	struct config *cfg;
	char path[4096], *text;

	(void)state;
	cfg = load_ok(MINIMAL "principals:\n"
	    "  - {access_key_id: AKIAIOSFODNN7EXAMPLE, arn: 'arn:aws:iam::1:u',"
	    " userid: AIDAEXAMPLE}\n");
	text = printed(cfg);
	has_line(text, "  source_vpce = (not set) (default)");
	has_line(text, "  deny_replays = false (default)");
	has_line(text, "  userid = AIDAEXAMPLE");
	free(text);
	config_free(cfg);
	snprintf(path, sizeof(path), "%s/etc/ddbgate.yaml",
	    srcdir != NULL ? srcdir : ".");
	cfg = config_load_file(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->endpoints[0].source_vpce,
	    "vpce-0abc1234def567890");
	assert_false(cfg->endpoints[0].deny_replays);
	assert_null(cfg->endpoints[1].source_vpce);
	assert_string_equal(cfg->principals[0].userid,
	    "AROAEXAMPLEROLEID0001:orders-app");
	assert_null(cfg->principals[1].userid);
	config_free(cfg);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, clean_env, clean_env)
	const struct CMUnitTest tests[] = {
		T(test_example_file),
		T(test_missing_file),
		T(test_minimal_defaults),
		T(test_builtin_defaults),
		T(test_builtin_region_env),
		T(test_builtin_bad_region_env),
		T(test_region_from_env),
		T(test_state_dir_env),
		T(test_state_dir_home),
		T(test_user_group),
		T(test_empty_file),
		T(test_account),
		T(test_region_values),
		T(test_number_ranges),
		T(test_number_syntax),
		T(test_bool),
		T(test_strings),
		T(test_metrics_address),
		T(test_listeners),
		T(test_listener_errors),
		T(test_tls),
		T(test_tls_needed),
		T(test_proxy_auth_users),
		T(test_resolver),
		T(test_resolver_cache),
		T(test_endpoint_values),
		T(test_dax),
		T(test_endpoint_upstream_lists),
		T(test_endpoint_errors),
		T(test_dns_names),
		T(test_principals),
		T(test_tables),
		T(test_unknown_keys),
		T(test_duplicate_keys),
		T(test_aliases_and_tags),
		T(test_multiple_documents),
		T(test_syntax_errors),
		T(test_nesting_limit),
		T(test_top_level),
		T(test_endpoint_for_host),
		T(test_names),
		T(test_print),
		T(test_print_builtin),
		T(test_principal_userid),
		T(test_principal_userid_length),
		T(test_endpoint_source_vpce),
		T(test_endpoint_deny_replays),
		T(test_new_keys_printed_and_example),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
