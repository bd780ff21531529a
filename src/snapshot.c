/*
 * snapshot — see snapshot.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "proxyauth.h"
#include "snapshot.h"
#include "tls_client.h"
#include "tls_server.h"
#include "xmalloc.h"

/* The domains the default CA may sign for: those of the default hosts. */
static const char *const default_ca_domains[] = { "amazonaws.com",
    "amazonaws.com.cn" };

/*
 * With no configuration file the gateway CA is created on first start,
 * so `ddbgate run` works out of the box; it says where, and how to trust it.
 */
static int
ensure_default_ca(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->tls.ca_cert == NULL || cfg->tls.ca_key == NULL ||
	    access(cfg->tls.ca_cert, F_OK) == 0 ||
	    access(cfg->tls.ca_key, F_OK) == 0)
		return 0;
	if (ca_create(cfg->state_dir, default_ca_domains,
	    sizeof(default_ca_domains) / sizeof(default_ca_domains[0]), err,
	    errlen) != 0)
		return -1;
	log_info("created the gateway CA %s (key %s); clients trust it with "
	    "AWS_CA_BUNDLE=%s or by adding it to their CA bundle",
	    cfg->tls.ca_cert, cfg->tls.ca_key, cfg->tls.ca_cert);
	return 0;
}

/*
 * A connect listener intercepts endpoints with intercept: true, and then
 * needs a certificate to present (the config module lets it pass, since
 * a connect listener that only tunnels needs none).
 */
static int
check_connect_certificates(const struct config *cfg, char *err,
    size_t errlen)
{
	const struct conf_endpoint *ep = NULL;

	if (cfg->tls.ncertificates > 0 || cfg->tls.ca_cert != NULL)
		return 0;
	for (size_t i = 0; i < cfg->nendpoints && ep == NULL; i++)
		if (cfg->endpoints[i].intercept)
			ep = &cfg->endpoints[i];
	for (size_t i = 0; ep != NULL && i < cfg->nlisteners; i++)
		if (cfg->listeners[i].mode == LISTENER_CONNECT) {
			snprintf(err, errlen, "%s: listeners[%zu] (%s): connect "
			    "mode intercepts endpoint %s and needs a "
			    "certificate: set tls.ca_cert and tls.ca_key (see "
			    "`ddbgate ca init`) or tls.certificates, or set "
			    "intercept: false", cfg->path, i,
			    cfg->listeners[i].address, ep->name);
			return -1;
		}
	return 0;
}

/* Each connect listener's proxy_auth_users file, loaded and checked. */
static int
load_proxy_auth(struct snapshot *snap, char *err, size_t errlen)
{
	const struct config *cfg = snap->cfg;
	char why[CONFIG_ERR_MAX];

	snap->proxy_auth = xcalloc(cfg->nlisteners, sizeof(*snap->proxy_auth));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const char *path = cfg->listeners[i].proxy_auth_users;

		if (path == NULL)
			continue;
		snap->proxy_auth[i] = proxyauth_load(path, why, sizeof(why));
		if (snap->proxy_auth[i] == NULL) {
			snprintf(err, errlen, "%s: listeners[%zu]."
			    "proxy_auth_users: %s", cfg->path, i, why);
			return -1;
		}
	}
	return 0;
}

/*
 * Keys AWS fills in for requests through an endpoint but the gateway
 * cannot know (spec 6.2): a policy that tests one would be evaluated on
 * an absent key, which IfExists and negated operators read as "passes".
 * Such a policy is refused at load, with the key named, never half-applied.
 */
static const char *const unknowable_keys[] = {
	"aws:ResourceTag/", "aws:PrincipalTag/", "aws:ResourceOrgID",
	"aws:ResourceOrgPaths", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
	"aws:PrincipalType", "aws:username", "aws:VpcSourceIp",
	"aws:SourceVpc", "aws:SourceVpcArn", "aws:VpceAccount",
	"aws:VpceOrgID", "aws:VpceOrgPaths", "aws:TokenIssueTime",
	"aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge",
	"aws:CalledVia", "aws:PrincipalIsAWSService", "aws:SourceAccount",
	"aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
	"aws:SourceIdentity", "aws:FederatedProvider",
};

static int
check_policy_keys(const struct policy *p, const struct conf_endpoint *ep,
    char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(unknowable_keys) /
	    sizeof(unknowable_keys[0]); i++) {
		const char *k = unknowable_keys[i];
		bool prefix = k[strlen(k) - 1] == '/'; /* a family of keys */

		if (!(prefix ? policy_uses_key_prefix(p, k) :
		    policy_uses_key(p, k)))
			continue;
		snprintf(why, len, "%s: the policy tests %s%s, which the "
		    "gateway cannot know for a request (docs/classify.md)",
		    ep->policy, k, prefix ? "..." : "");
		return -1;
	}
	if (ep->source_vpce == NULL &&
	    policy_uses_key(p, "aws:SourceVpce")) {
		snprintf(why, len, "%s: the policy tests aws:SourceVpce but the "
		    "endpoint sets no source_vpce", ep->policy);
		return -1;
	}
	return 0;
}

/* Each endpoint's policy, compiled once; without one, allow-all (audited). */
static int
load_policies(struct snapshot *snap, char *err, size_t errlen)
{
	const struct config *cfg = snap->cfg;
	char why[CONFIG_ERR_MAX];

	snap->policies = xcalloc(cfg->nendpoints, sizeof(*snap->policies));
	for (size_t i = 0; i < cfg->nendpoints; i++) {
		const struct conf_endpoint *ep = &cfg->endpoints[i];

		snap->policies[i] = ep->policy != NULL ?
		    policy_load_file(ep->policy, why, sizeof(why)) :
		    policy_allow_all();
		if (snap->policies[i] != NULL && ep->policy != NULL &&
		    check_policy_keys(snap->policies[i], ep, why,
		    sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: endpoints[%zu].policy "
			    "(endpoint %s): %s", cfg->path, i, ep->name, why);
			return -1;
		}
		if (snap->policies[i] == NULL) {
			snprintf(err, errlen, "%s: endpoints[%zu].policy "
			    "(endpoint %s): %s", cfg->path, i, ep->name, why);
			return -1;
		}
	}
	return 0;
}

static int
load_parts(struct snapshot *snap, bool defaults, char *err, size_t errlen)
{
	const struct config *cfg = snap->cfg;
	char why[CONFIG_ERR_MAX];

	if (check_connect_certificates(cfg, err, errlen) != 0 ||
	    load_proxy_auth(snap, err, errlen) != 0)
		return -1;
	if (defaults && ensure_default_ca(cfg, err, errlen) != 0)
		return -1;
	if (cfg->tls.ca_cert != NULL) {
		snap->ca = ca_load(cfg->tls.ca_cert, cfg->tls.ca_key, why,
		    sizeof(why));
		if (snap->ca == NULL) {
			snprintf(err, errlen, "%s: tls.ca_cert: %s", cfg->path,
			    why);
			return -1;
		}
	}
	snap->tls_server = tls_server_new(cfg, snap->ca, why, sizeof(why));
	if (snap->tls_server == NULL) {
		snprintf(err, errlen, "%s: tls.certificates: %s", cfg->path,
		    why);
		return -1;
	}
	if (load_policies(snap, err, errlen) != 0)
		return -1;
	snap->upstream_tls = xcalloc(cfg->nendpoints,
	    sizeof(*snap->upstream_tls));
	for (size_t i = 0; i < cfg->nendpoints; i++) {
		const struct conf_endpoint *ep = &cfg->endpoints[i];

		snap->upstream_tls[i] = tls_client_new(ep->ca_file, why,
		    sizeof(why));
		if (snap->upstream_tls[i] == NULL) {
			snprintf(err, errlen, "%s: endpoints[%zu].ca_file "
			    "(endpoint %s): %s", cfg->path, i, ep->name, why);
			return -1;
		}
	}
	return 0;
}

struct snapshot *
snapshot_load(const char *path, unsigned generation, char *err,
    size_t errlen)
{
	struct snapshot *snap = xcalloc(1, sizeof(*snap));

	atomic_init(&snap->refs, 1);
	snap->generation = generation;
	snap->cfg = path != NULL ? config_load_file(path, err, errlen) :
	    config_defaults(err, errlen);
	if (snap->cfg == NULL ||
	    load_parts(snap, path == NULL, err, errlen) != 0) {
		snapshot_unref(snap);
		return NULL;
	}
	return snap;
}

struct snapshot *
snapshot_ref(struct snapshot *snap)
{
	atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
	return snap;
}

void
snapshot_unref(struct snapshot *snap)
{
	if (snap == NULL ||
	    atomic_fetch_sub_explicit(&snap->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	if (snap->upstream_tls != NULL)
		for (size_t i = 0; i < snap->cfg->nendpoints; i++)
			tls_client_free(snap->upstream_tls[i]);
	free(snap->upstream_tls);
	if (snap->policies != NULL)
		for (size_t i = 0; i < snap->cfg->nendpoints; i++)
			policy_free(snap->policies[i]);
	free(snap->policies);
	if (snap->proxy_auth != NULL)
		for (size_t i = 0; i < snap->cfg->nlisteners; i++)
			proxyauth_free(snap->proxy_auth[i]);
	free(snap->proxy_auth);
	tls_server_free(snap->tls_server);
	ca_free(snap->ca);
	config_free(snap->cfg);
	free(snap);
}

void
snapshot_describe(const struct snapshot *snap, FILE *out)
{
	const struct config *cfg = snap->cfg;

	for (size_t i = 0; i < cfg->nendpoints; i++)
		fprintf(out, "endpoint %s: policy %s (%zu statement(s)), "
		    "enforcement %s\n", cfg->endpoints[i].name,
		    cfg->endpoints[i].policy ? cfg->endpoints[i].policy :
		    "allow-all (default)",
		    policy_statement_count(snap->policies[i]),
		    cfg->endpoints[i].enforcement == ENFORCEMENT_REPORT ?
		    "report" : "enforce");
	tls_server_describe(snap->tls_server, out);
	if (snap->ca != NULL)
		fprintf(out, "gateway CA %s: mints certificates for endpoint "
		    "hosts without a static certificate\n",
		    snap->cfg->tls.ca_cert);
}
