/*
 * policy_cli — see policy_cli.h. Nothing here adds context the caller did
 * not ask for (no clock, no source address), so a dry run is
 * reproducible; with --request the time is the request's own X-Amz-Date
 * unless --now says otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "config.h"
#include "enforce.h"
#include "http1.h"
#include "policy.h"
#include "policy_cli.h"
#include "xmalloc.h"

static const char usage_policy[] =
    "usage: ddbgate policy eval -p POLICY.json --action A --resource R\n"
    "                           [--principal ARN] [--context KEY=VALUE ...]\n"
    "       ddbgate policy eval -p POLICY.json --request FILE [-c CONFIG]\n"
    "                           [--endpoint NAME] [--now EPOCH]\n"
    "       ddbgate policy lint -p POLICY.json\n"
    "\n"
    "eval prints the decision, the deciding statement and what was asked.\n"
    "  --context KEY=VALUE adds VALUE to KEY (repeat for a multi-valued key);\n"
    "  KEY= makes KEY present with no values; a key never named is absent.\n"
    "  --request FILE classifies a raw HTTP request exactly as the gateway\n"
    "  does (endpoint chosen by its Host, or --endpoint), with the\n"
    "  configuration of -c (default: the built-in one).\n"
    "lint reports unknown actions and keys, statements that never match\n"
    "and wildcards broader than needed.\n"
    "\n"
    "Exit status: eval 0 allow, 1 deny; lint 0 clean, 1 findings; 2 error.\n";

#define MAX_CONTEXT 64
#define MAX_VALUES 64

struct context_arg {
	char *name;
	const char *values[MAX_VALUES];
	size_t nvalues;
};

struct eval_opts {
	const char *policy, *action, *resource, *principal;
	const char *request, *config, *endpoint;
	time_t now;
	bool have_now;
	struct context_arg ctx[MAX_CONTEXT];
	size_t nctx;
};

static int
add_context(struct eval_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct context_arg *c = NULL;

	if (eq == NULL || eq == arg) {
		fprintf(stderr, "ddbgate policy: --context wants KEY=VALUE, "
		    "not '%s'\n", arg);
		return -1;
	}
	for (size_t i = 0; i < o->nctx; i++)
		if (strncasecmp(o->ctx[i].name, arg, (size_t)(eq - arg)) == 0 &&
		    o->ctx[i].name[eq - arg] == '\0')
			c = &o->ctx[i];
	if (c == NULL) {
		if (o->nctx == MAX_CONTEXT)
			return -1;
		c = &o->ctx[o->nctx++];
		c->name = xstrndup(arg, (size_t)(eq - arg));
	}
	if (eq[1] != '\0') {
		if (c->nvalues == MAX_VALUES)
			return -1;
		c->values[c->nvalues++] = eq + 1;
	}
	return 0;
}

static void
print_result(const char *indent, const struct policy_result *r)
{
	printf("%sdecision: %s\n", indent, policy_decision_name(r->decision));
	if (r->statement >= 0)
		printf("%sstatement: %s (#%d)\n", indent,
		    r->sid ? r->sid : "(no Sid)", r->statement);
	else
		printf("%sstatement: none matched\n", indent);
}

static void
print_keys(const char *indent, const struct policy_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("%s%s =", indent, k[i].name);
		if (k[i].nvalues == 0)
			printf(" (empty set)");
		for (size_t j = 0; j < k[i].nvalues; j++)
			printf(" %s", k[i].values[j]);
		printf("\n");
	}
}

static int
eval_simple(const struct policy *p, const struct eval_opts *o)
{
	struct policy_key keys[MAX_CONTEXT];
	struct policy_request req = {
		.principal = o->principal,
		.action = o->action,
		.resource = o->resource,
		.keys = keys,
		.nkeys = o->nctx,
	};
	struct policy_result res;

	for (size_t i = 0; i < o->nctx; i++) {
		keys[i].name = o->ctx[i].name;
		keys[i].values = o->ctx[i].values;
		keys[i].nvalues = o->ctx[i].nvalues;
	}
	policy_evaluate(p, &req, &res);
	printf("principal: %s\naction: %s\nresource: %s\n",
	    o->principal ? o->principal : "(anonymous)", o->action,
	    o->resource);
	print_keys("key: ", keys, o->nctx);
	print_result("", &res);
	return res.decision == POLICY_ALLOW ? 0 : 1;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap, 1);
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* The request's X-Amz-Date, so evaluating a saved request is repeatable. */
static time_t
request_time(const struct http1_request *r)
{
	const struct http1_header *h = http1_header_find(r->headers,
	    r->nheaders, "x-amz-date");
	char v[32];
	struct tm tm = { 0 };

	if (h == NULL || h->value_len >= sizeof(v))
		return time(NULL);
	memcpy(v, h->value, h->value_len);
	v[h->value_len] = '\0';
	if (strptime(v, "%Y%m%dT%H%M%SZ", &tm) == NULL)
		return time(NULL);
	return timegm(&tm);
}

static const struct conf_endpoint *
pick_endpoint(const struct config *cfg, const struct eval_opts *o,
    const struct http1_request *r)
{
	if (o->endpoint != NULL) {
		for (size_t i = 0; i < cfg->nendpoints; i++)
			if (strcmp(cfg->endpoints[i].name, o->endpoint) == 0)
				return &cfg->endpoints[i];
		return NULL;
	}
	if (r->host == NULL)
		return NULL;
	size_t n = r->host_len;

	for (size_t i = 0; i < r->host_len; i++)
		if (r->host[i] == ':')
			n = i;
	return config_endpoint_for_host(cfg, r->host, n);
}

static int
classify_and_eval(const struct policy *p, const struct config *cfg,
    const struct eval_opts *o, const char *buf, size_t len)
{
	struct http1_request r;
	enum http1_error herr;
	struct classify_result c;
	struct classify_refusal why;
	const struct conf_endpoint *ep;
	int rc = 0;

	if (http1_parse_request(buf, len, len, &r, &herr) != HTTP1_OK) {
		fprintf(stderr, "ddbgate policy: %s: %s\n", o->request,
		    http1_error_str(herr));
		return 2;
	}
	if ((ep = pick_endpoint(cfg, o, &r)) == NULL) {
		fprintf(stderr, "ddbgate policy: %s: no endpoint of %s serves "
		    "this request (use --endpoint)\n", o->request, cfg->path);
		return 2;
	}
	struct classify_input in = {
		.service = ep->service, .cfg = cfg, .endpoint = ep,
		.secure_transport = true,
		.now = o->have_now ? o->now : request_time(&r),
		.headers = r.headers, .nheaders = r.nheaders,
		.body = buf + r.head_len,
		.body_len = r.body == HTTP1_BODY_LENGTH ?
		    (size_t)r.content_length : 0,
	};
	if (r.head_len + in.body_len > len) {
		fprintf(stderr, "ddbgate policy: %s: body shorter than its "
		    "Content-Length\n", o->request);
		return 2;
	}
	if (classify_request(&in, &c, &why) != CLASSIFY_OK) {
		printf("endpoint: %s\ndecision: refused (%s)\nreason: %s\n",
		    ep->name, why.type, why.message);
		return 1;
	}
	printf("endpoint: %s\noperation: %s\naccess key: %s\nprincipal: %s\n",
	    ep->name, c.operation, c.access_key_id,
	    c.principal ? c.principal : "(unknown)");
	print_keys("key: ", c.keys, c.nkeys);
	if (enforce_account_unknowable(p, &c, why.message,
	    sizeof(why.message))) {
		printf("decision: refused\nreason: %s\n", why.message);
		classify_result_free(&c);
		return 1;
	}
	for (size_t i = 0; i < c.nauthz; i++) {
		struct policy_key keys[256];
		struct policy_request req;
		struct policy_result res;

		if (c.nkeys + c.authz[i].nkeys > 256) {
			rc = 2;
			break;
		}
		printf("- action: %s\n  resource: %s\n", c.authz[i].action,
		    c.authz[i].resource);
		if (enforce_underivable(p, &c.authz[i], why.message,
		    sizeof(why.message))) {
			printf("  decision: refused\n  reason: %s\n",
			    why.message);
			rc = 1;
			continue;
		}
		classify_policy_request(&c, i, keys, &req);
		policy_evaluate(p, &req, &res);
		print_keys("  key: ", c.authz[i].keys, c.authz[i].nkeys);
		print_result("  ", &res);
		if (res.decision != POLICY_ALLOW)
			rc = 1;
	}
	printf("overall: %s\n", rc == 0 ? "allow" : "deny");
	classify_result_free(&c);
	return rc;
}

static int
eval_request(const struct policy *p, const struct eval_opts *o)
{
	char err[CONFIG_ERR_MAX];
	struct config *cfg = o->config ? config_load_file(o->config, err,
	    sizeof(err)) : config_defaults(err, sizeof(err));
	size_t len;
	char *buf;
	int rc;

	if (cfg == NULL) {
		fprintf(stderr, "ddbgate policy: %s\n", err);
		return 2;
	}
	if ((buf = read_file(o->request, &len)) == NULL) {
		fprintf(stderr, "ddbgate policy: %s: %s\n", o->request,
		    strerror(errno));
		config_free(cfg);
		return 2;
	}
	rc = classify_and_eval(p, cfg, o, buf, len);
	free(buf);
	config_free(cfg);
	return rc;
}

static const struct option eval_long[] = {
	{ "policy", required_argument, NULL, 'p' },
	{ "action", required_argument, NULL, 'a' },
	{ "resource", required_argument, NULL, 'r' },
	{ "principal", required_argument, NULL, 'P' },
	{ "context", required_argument, NULL, 'k' },
	{ "request", required_argument, NULL, 'q' },
	{ "config", required_argument, NULL, 'c' },
	{ "endpoint", required_argument, NULL, 'e' },
	{ "now", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_eval(int argc, char **argv, struct eval_opts *o)
{
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:c:h", eval_long, NULL)) != -1) {
		switch (ch) {
		case 'p': o->policy = optarg; break;
		case 'a': o->action = optarg; break;
		case 'r': o->resource = optarg; break;
		case 'P': o->principal = optarg; break;
		case 'q': o->request = optarg; break;
		case 'c': o->config = optarg; break;
		case 'e': o->endpoint = optarg; break;
		case 'n':
			o->now = (time_t)strtoll(optarg, NULL, 10);
			o->have_now = true;
			break;
		case 'k':
			if (add_context(o, optarg) != 0)
				return 2;
			break;
		case 'h':
			fputs(usage_policy, stdout);
			return 1;
		default:
			fputs(usage_policy, stderr);
			return 2;
		}
	}
	if (optind != argc || o->policy == NULL || (o->request == NULL &&
	    (o->action == NULL || o->resource == NULL))) {
		fputs(usage_policy, stderr);
		return 2;
	}
	return 0;
}

static int
cmd_eval(int argc, char **argv)
{
	struct eval_opts o = { 0 };
	struct policy *p;
	char err[512];
	int rc = parse_eval(argc, argv, &o);

	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if ((p = policy_load_file(o.policy, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ddbgate policy: %s\n", err);
		rc = 2;
	} else {
		rc = o.request ? eval_request(p, &o) : eval_simple(p, &o);
		policy_free(p);
	}
	for (size_t i = 0; i < o.nctx; i++)
		free(o.ctx[i].name);
	return rc;
}

static int
cmd_lint(int argc, char **argv)
{
	struct eval_opts o = { 0 };
	struct policy *p;
	char err[512];
	int ch, n;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "p:h", eval_long, NULL)) != -1) {
		if (ch == 'p') {
			o.policy = optarg;
		} else if (ch == 'h') {
			fputs(usage_policy, stdout);
			return 0;
		} else {
			fputs(usage_policy, stderr);
			return 2;
		}
	}
	if (o.policy == NULL || optind != argc) {
		fputs(usage_policy, stderr);
		return 2;
	}
	if ((p = policy_load_file(o.policy, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ddbgate policy: %s\n", err);
		return 2;
	}
	n = policy_lint(p, stdout);
	printf("%s: %d finding(s)\n", o.policy, n);
	policy_free(p);
	return n > 0 ? 1 : 0;
}

int
policy_cli_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "lint") == 0)
		return cmd_lint(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_policy, stdout);
		return 0;
	}
	fputs(usage_policy, stderr);
	return 2;
}
