/*
 * diag — see diag.h and docs/diag.md.
 *
 * How a run goes. The configuration is loaded (a file, or the built-in
 * defaults) and turned into targets: one per endpoint (the name clients
 * ask for, its routing entries and its port), or the one target asked
 * for. Each target then goes through the layers in path order, each
 * ending as one step with a status, a duration, a one-line summary, a
 * hint when something needs checking, and its evidence as a JSON object:
 *
 *   config  the endpoint's CA file, policy and the resolvers load;
 *   dns     every routing name (and the asked-for name, for the record)
 *           asked of every resolver separately: one c-ares channel per
 *           resolver with exactly that server, one try, no search
 *           domains, all channels on one private event_base at once,
 *           each query beside a probe query of diag's own that tells an
 *           unreachable port, SERVFAIL and REFUSED apart (c-ares 1.18
 *           blurs them);
 *   tcp     a nonblocking connect to every address inside allowed_cidrs,
 *           all at once under one poll() deadline;
 *   tls     a handshake on each connected socket with OpenSSL directly:
 *           SNI and name check on the asked-for name, verification
 *           against the endpoint's ca_file, but the handshake is let
 *           through whatever the verdict so the chain can be reported
 *           (the first verification error is kept with its depth);
 *   http    on each verified connection an unsigned POST that only the
 *           real service answers with its missing-authentication error;
 *           a DAX cluster instead: the preamble and `endpoints` on the
 *           first verified session (plain dax://: connection), then a
 *           TCP connect and a TLS handshake verified against the
 *           cluster name to every node the answer lists;
 *   policy  (when asked) the endpoint policy on one action and resource;
 *   via     (when asked) CONNECT through a gateway, TLS against the local
 *           trust bundle, and the same unsigned request in the tunnel.
 *
 * A later layer runs on what the earlier ones left (addresses that
 * resolved, sockets that connected, sessions that verified); a layer
 * with nothing to run on is skipped. Every network wait is bounded by
 * --timeout-ms and, over the whole run, by --total-timeout-ms; an alarm
 * a little after that is the backstop, so diag never hangs.
 *
 * The exit code is that of the first failing layer in path order over
 * all targets (diag_exit_code). Rendering is separate from running: the
 * report is plain data that both renderers read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cbor.h"
#include "cidr.h"
#include "config.h"
#include "daxproto.h"
#include "diag.h"
#include "dnscache.h"
#include "http1.h"
#include "policy.h"
#include "resolver.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TOTAL_MS 60000
#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define DEFAULT_PROXY_PORT 3128
#define MAX_ROUTES 17		/* 16 upstream entries, or the host */
#define MAX_SOURCES 16		/* resolvers asked (the first ones) */
#define MAX_NAMES (MAX_ROUTES + 1)
#define MAX_ADDRS 64		/* addresses probed per target */
#define MAX_ALLOW 16
#define RESP_MAX 65536		/* bytes of an HTTP answer kept */
#define HEAD_MAX 16384

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Names, exit codes                                                   */
/* ------------------------------------------------------------------ */

static const char *const layer_names[DIAG_NLAYERS] = {
	"config", "dns", "tcp", "tls", "http", "policy", "via",
};

const char *
diag_layer_name(enum diag_layer layer)
{
	return (size_t)layer < DIAG_NLAYERS ? layer_names[layer] : "?";
}

const char *
diag_status_name(enum diag_status status)
{
	static const char *const names[] = { "pass", "warn", "fail", "skip" };

	return (size_t)status < nitems(names) ? names[status] : "?";
}

int
diag_layer_exit_code(enum diag_layer layer)
{
	return 3 + (int)layer;
}

int
diag_exit_code(const struct diag_report *r)
{
	int code = DIAG_EXIT_OK;

	for (size_t i = 0; i < r->ntargets; i++)
		for (size_t j = 0; j < r->targets[i].nsteps; j++) {
			const struct diag_step *s = &r->targets[i].steps[j];
			int c = diag_layer_exit_code(s->layer);

			if (s->status == DIAG_FAIL && (code == DIAG_EXIT_OK ||
			    c < code))
				code = c;
		}
	return code;
}

const char *
diag_dns_result_name(enum diag_dns_result r)
{
	static const char *const names[] = { "ok", "public", "nxdomain",
	    "nodata", "servfail", "refused", "timeout", "unreachable",
	    "no_route", "error" };

	return (size_t)r < nitems(names) ? names[r] : "?";
}

const char *
diag_tcp_result_name(enum diag_tcp_result r)
{
	static const char *const names[] = { "connected", "refused",
	    "timeout", "unreachable", "error", "not_contacted" };

	return (size_t)r < nitems(names) ? names[r] : "?";
}

const char *
diag_tls_result_name(enum diag_tls_result r)
{
	static const char *const names[] = { "ok", "expiring",
	    "verify_failed", "handshake_failed", "timeout" };

	return (size_t)r < nitems(names) ? names[r] : "?";
}

const char *
diag_http_result_name(enum diag_http_result r)
{
	static const char *const names[] = { "auth_error", "other",
	    "timeout", "closed", "malformed" };

	return (size_t)r < nitems(names) ? names[r] : "?";
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool
diag_is_auth_error(int status, const char *type)
{
	return status == 400 && type != NULL &&
	    (ends_with(type, "MissingAuthenticationTokenException") ||
	    ends_with(type, "UnrecognizedClientException") ||
	    ends_with(type, "InvalidSignatureException"));
}

/* ------------------------------------------------------------------ */
/* Hints                                                               */
/* ------------------------------------------------------------------ */

/* "10.0.0.2:53" -> "10.0.0.2" when the port is 53, for friendlier text. */
static const char *
server_host(const char *server, char *buf, size_t len)
{
	size_t n = strlen(server);

	if (n > 3 && strcmp(server + n - 3, ":53") == 0 && n - 3 < len) {
		memcpy(buf, server, n - 3);
		buf[n - 3] = '\0';
		return buf;
	}
	return server;
}

void
diag_hint_dns(char *buf, size_t len, enum diag_dns_result r,
    const char *server, const char *name, const char *address,
    unsigned timeout_ms)
{
	char h[96];
	const char *s = server_host(server, h, sizeof(h));

	switch (r) {
	case DIAG_DNS_OK:
		snprintf(buf, len, "%s", "");
		break;
	case DIAG_DNS_PUBLIC:
		snprintf(buf, len, "%s resolves to a public address (%s at "
		    "%s): traffic would leave the private path; check that the "
		    "name is an endpoint-specific vpce name, or allow the "
		    "prefix list (docs/routing.md)", name,
		    address ? address : "?", s);
		break;
	case DIAG_DNS_NXDOMAIN:
		snprintf(buf, len, "%s says %s does not exist (NXDOMAIN): "
		    "check the name against the endpoint's DNS names (aws ec2 "
		    "describe-vpc-endpoints), and that %s forwards "
		    "vpce.amazonaws.com to the Route 53 Resolver", s, name, s);
		break;
	case DIAG_DNS_NODATA:
		snprintf(buf, len, "%s knows %s but has no A/AAAA records for "
		    "it: is it the endpoint's DNS name, or a name of another "
		    "record type?", s, name);
		break;
	case DIAG_DNS_SERVFAIL:
		snprintf(buf, len, "%s answered SERVFAIL for %s: the resolver "
		    "could not get an answer itself; check its forwarding rule "
		    "for amazonaws.com and its own path to the Route 53 "
		    "Resolver", s, name);
		break;
	case DIAG_DNS_REFUSED:
		snprintf(buf, len, "%s answered REFUSED for %s: it does not "
		    "serve this host or this zone; allow this host in the "
		    "resolver's access control, or use the Route 53 Resolver "
		    "inbound endpoint's addresses", s, name);
		break;
	case DIAG_DNS_TIMEOUT:
		snprintf(buf, len, "no answer from %s in %u ms: check UDP/TCP "
		    "53 to the resolver over the VPN, and that the Route 53 "
		    "Resolver inbound endpoint's security group allows this "
		    "host", s, timeout_ms);
		break;
	case DIAG_DNS_UNREACHABLE:
		snprintf(buf, len, "nothing answers DNS at %s (port "
		    "unreachable or connection refused): is %s the address of "
		    "a running resolver (the Route 53 Resolver inbound "
		    "endpoint)?", server, s);
		break;
	case DIAG_DNS_NO_ROUTE:
		snprintf(buf, len, "this host cannot send to %s (no route): "
		    "check the routes over the VPN/Direct Connect to the Route "
		    "53 Resolver inbound endpoint, and this host's own routing "
		    "table", s);
		break;
	case DIAG_DNS_ERROR:
		snprintf(buf, len, "%s gave no usable answer for %s: ask it by "
		    "hand (dig @%s %s) and check what it returns", s, name, s,
		    name);
		break;
	}
}

void
diag_hint_tcp(char *buf, size_t len, enum diag_tcp_result r,
    const char *address, unsigned port, unsigned timeout_ms,
    const char *why)
{
	switch (r) {
	case DIAG_TCP_CONNECTED:
	case DIAG_TCP_NOT_CONTACTED:
		snprintf(buf, len, "%s", "");
		break;
	case DIAG_TCP_TIMEOUT:
		snprintf(buf, len, "no SYN-ACK from %s within %u ms: check the "
		    "route to this Availability Zone over Direct Connect/VPN, "
		    "and TCP %u in the endpoint's security group", address,
		    timeout_ms, port);
		break;
	case DIAG_TCP_REFUSED:
		snprintf(buf, len, "something answered %s with RST: a host "
		    "without a listener on %u; is this the endpoint's network "
		    "interface (ENI)?", address, port);
		break;
	case DIAG_TCP_UNREACHABLE:
		snprintf(buf, len, "no route to %s (%s): this host has no "
		    "route to the endpoint's subnet; check the VPN/Direct "
		    "Connect routes and this host's routing table", address,
		    why ? why : "unreachable");
		break;
	case DIAG_TCP_ERROR:
		snprintf(buf, len, "connecting to %s failed (%s): check this "
		    "host's firewall and the address", address,
		    why ? why : "error");
		break;
	}
}

static bool
unknown_issuer(long code)
{
	return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
	    code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
}

static void
hint_verify(char *buf, size_t len, const struct diag_tls_facts *f)
{
	const char *addr = f->address ? f->address : "the server";
	const char *issuer = f->issuer ? f->issuer : "(unknown)";
	const char *sans = f->sans && f->sans[0] ? f->sans : "other names";
	const char *name = f->name ? f->name : "?";

	if (unknown_issuer(f->verify_code) && f->via)
		snprintf(buf, len, "the local trust bundle %s does not trust "
		    "the gateway's CA (%s): clients on this host will refuse "
		    "it too; trust it (AWS_CA_BUNDLE, or "
		    "/usr/local/share/ca-certificates/ + "
		    "update-ca-certificates; docs/modes.md), or name the "
		    "bundle with --ca-bundle", f->ca_file ? f->ca_file : "?",
		    issuer);
	else if (unknown_issuer(f->verify_code))
		snprintf(buf, len, "the CA bundle %s lacks the issuer %s: add "
		    "the CA that issued the endpoint's certificate to ca_file "
		    "(for AWS: Amazon Root CA 1, Starfield Services Root G2), "
		    "or find out what else presents a certificate from it on "
		    "%s (a TLS-inspecting firewall?)",
		    f->ca_file ? f->ca_file : "?", issuer, addr);
	else if (f->verify_code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
		snprintf(buf, len, "%s presents a self-signed certificate "
		    "(%s): no AWS endpoint%s does; what else listens on this "
		    "address?", addr, f->subject ? f->subject : "?",
		    f->via ? " or ddbgate gateway" : "");
	else if ((f->verify_code == X509_V_ERR_HOSTNAME_MISMATCH ||
	    f->verify_code == X509_V_ERR_IP_ADDRESS_MISMATCH) && f->via)
		snprintf(buf, len, "the gateway presented a certificate for "
		    "%s, not %s: check the gateway's tls.certificates and that "
		    "the name is one of its endpoints' hosts", sans, name);
	else if (f->verify_code == X509_V_ERR_HOSTNAME_MISMATCH ||
	    f->verify_code == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(buf, len, "the certificate is for %s, not %s: clients "
		    "verify the name they ask for; is %s an address of this "
		    "endpoint's service, not of another service's endpoint?",
		    sans, name, addr);
	else if (f->verify_code == X509_V_ERR_CERT_HAS_EXPIRED)
		snprintf(buf, len, "the certificate of %s (%s) expired on %s: "
		    "it must be renewed; if it is AWS's, check this host's "
		    "clock (NTP)", addr, f->subject ? f->subject : "?",
		    f->not_after ? f->not_after : "?");
	else if (f->verify_code == X509_V_ERR_CERT_NOT_YET_VALID)
		snprintf(buf, len, "the certificate of %s (%s) is valid only "
		    "from %s: check this host's clock (NTP)", addr,
		    f->subject ? f->subject : "?",
		    f->not_before ? f->not_before : "?");
	else
		snprintf(buf, len, "the certificate of %s does not verify "
		    "against %s (%s): check the chain it presents (openssl "
		    "s_client -showcerts -servername %s)", addr,
		    f->ca_file ? f->ca_file : "?", f->reason ? f->reason : "?",
		    f->name ? f->name : "?");
}

void
diag_hint_tls(char *buf, size_t len, const struct diag_tls_facts *f)
{
	const char *addr = f->address ? f->address : "the server";

	switch (f->result) {
	case DIAG_TLS_OK:
		snprintf(buf, len, "%s", "");
		break;
	case DIAG_TLS_EXPIRING:
		snprintf(buf, len, "a certificate presented by %s (%s) expires "
		    "in %ld days, on %s: make sure it is renewed before then",
		    addr, f->subject ? f->subject : "?", f->days,
		    f->not_after ? f->not_after : "?");
		break;
	case DIAG_TLS_TIMEOUT:
		snprintf(buf, len, "no TLS answer from %s within %u ms: "
		    "something accepted the TCP connection but does not speak "
		    "TLS (a proxy, a firewall holding connections?)", addr,
		    f->timeout_ms);
		break;
	case DIAG_TLS_HANDSHAKE_FAILED:
		snprintf(buf, len, "the TLS handshake with %s failed (%s): is "
		    "this a TLS port of the endpoint? AWS endpoints need TLS "
		    "1.2 or later and SNI %s", addr,
		    f->reason ? f->reason : "?", f->name ? f->name : "?");
		break;
	case DIAG_TLS_VERIFY_FAILED:
		hint_verify(buf, len, f);
		break;
	}
}

void
diag_hint_http(char *buf, size_t len, enum diag_http_result r,
    const char *address, const char *service, const char *status_line,
    const char *server, unsigned timeout_ms, bool via)
{
	const char *who = via ? "through the gateway, the tunnel" : address;
	char srv[160] = "";

	switch (r) {
	case DIAG_HTTP_AUTH_ERROR:
		snprintf(buf, len, "%s", "");
		break;
	case DIAG_HTTP_OTHER:
		if (server != NULL)
			snprintf(srv, sizeof(srv), " (Server: %s)", server);
		snprintf(buf, len, "%s answered \"%s\"%s instead of %s's "
		    "MissingAuthenticationTokenException: something other than "
		    "%s is on this %s (another service's endpoint, a load "
		    "balancer, a web server?)", via ? "through the gateway, "
		    "the upstream" : address, status_line ? status_line : "?",
		    srv, service, service, via ? "path" : "address");
		break;
	case DIAG_HTTP_TIMEOUT:
		snprintf(buf, len, "no HTTP answer from %s within %u ms after "
		    "the TLS handshake: the server took the connection but not "
		    "the request; is it %s?", who, timeout_ms, service);
		break;
	case DIAG_HTTP_CLOSED:
		snprintf(buf, len, "%s closed the connection without an HTTP "
		    "answer: not an HTTP/1.1 %s endpoint?", who, service);
		break;
	case DIAG_HTTP_MALFORMED:
		snprintf(buf, len, "%s answered something that is not HTTP/1.1 "
		    "(%s): not a %s endpoint", who,
		    status_line ? status_line : "?", service);
		break;
	}
}

void
diag_hint_connect(char *buf, size_t len, int status, const char *proxy,
    const char *target, const char *message, const char *why)
{
	const char *m = message ? message : "";

	if (status == 0)
		snprintf(buf, len, "no answer to CONNECT from the gateway at "
		    "%s (%s): is ddbgate running with a connect listener "
		    "there, is its port open from this host, and is this host "
		    "in the listener's allow_clients?", proxy, why ? why : "?");
	else if (status == 403)
		snprintf(buf, len, "the gateway refuses CONNECT %s (403%s%s): "
		    "the name is not in any endpoint's hosts of the gateway's "
		    "configuration; add it there, or ask for a name it serves",
		    target, m[0] ? ": " : "", m);
	else if (status == 407)
		snprintf(buf, len, "the gateway wants proxy credentials for "
		    "CONNECT %s (407): give them in the proxy URL (--via "
		    "http://USER:PASSWORD@HOST:PORT, as in HTTPS_PROXY); the "
		    "users file lines come from ddbgate passwd", target);
	else if (status == 405 || status == 400)
		snprintf(buf, len, "the gateway did not take CONNECT %s "
		    "(%d%s%s): is %s a connect listener (mode: connect), not "
		    "an sni or transparent one?", target, status,
		    m[0] ? ": " : "", m, proxy);
	else if (status == 502 || status == 503 || status == 504)
		snprintf(buf, len, "the gateway answered %d to CONNECT %s "
		    "(%s): it could not reach the upstream for this name; run "
		    "ddbgate diag on the gateway host for the layer that fails",
		    status, target, m[0] ? m : "no message");
	else
		snprintf(buf, len, "the gateway answered %d to CONNECT %s%s%s: "
		    "is %s a ddbgate connect listener?", status, target,
		    m[0] ? ": " : "", m, proxy);
}

const char *
diag_dax_role_name(int64_t role)
{
	return role == 1 ? "leader" : role == 2 ? "replica" : NULL;
}

bool
diag_dax_is_auth_error(const int64_t *codes, size_t n)
{
	return n >= 3 && codes[1] == 23 && codes[2] == 31;
}

void
diag_hint_dax(char *buf, size_t len, enum diag_dax_problem p,
    const char *seed, const char *node, const char *name,
    const char *endpoint, const char *detail, unsigned timeout_ms, bool tls)
{
	const char *d = detail != NULL && detail[0] != '\0' ? detail : "?";

	switch (p) {
	case DIAG_DAX_TIMEOUT:
		snprintf(buf, len, "no answer to endpoints from %s within %u "
		    "ms%s: something took the connection but does not speak "
		    "DAX; is %s a node of the cluster %s (port 9111 for daxs, "
		    "8111 for dax)?", seed, timeout_ms, tls ? " after the TLS "
		    "handshake" : "", seed, name);
		break;
	case DIAG_DAX_CLOSED:
		snprintf(buf, len, "%s closed the connection without answering "
		    "endpoints: is it a DAX node, and does %s match the "
		    "cluster (encrypted clusters take only TLS, on 9111; "
		    "upstream_tls: false is for unencrypted ones, on 8111)?",
		    seed, tls ? "TLS" : "plain TCP");
		break;
	case DIAG_DAX_MALFORMED:
		snprintf(buf, len, "%s answered something that is not a DAX "
		    "endpoints answer (%s): is it a DAX node of %s, not "
		    "another service on this address?", seed, d, name);
		break;
	case DIAG_DAX_ERROR:
		snprintf(buf, len, "the DAX node %s answered endpoints with an "
		    "error (%s): check the cluster's state (aws dax "
		    "describe-clusters) and its events", seed, d);
		break;
	case DIAG_DAX_AUTH:
		snprintf(buf, len, "the nodes were not checked: %s asks for "
		    "authorizeConnection (SigV4) before endpoints, and diag "
		    "sends no credentials; a DAX client with credentials "
		    "through the gateway shows whether discovery works", seed);
		break;
	case DIAG_DAX_NO_NODES:
		snprintf(buf, len, "the endpoints answer of %s lists no node: "
		    "the cluster has no node in service (aws dax "
		    "describe-clusters: NodeStatus); clients have nowhere to "
		    "go", seed);
		break;
	case DIAG_DAX_OUTSIDE:
		snprintf(buf, len, "discovery lists node %s, outside "
		    "allowed_cidrs [%s]%s%s: neither diag nor the gateway "
		    "contacts it; if it is this cluster's node, add its "
		    "subnet to allowed_cidrs", node ? node : "?", d,
		    endpoint ? " of endpoint " : "", endpoint ? endpoint : "");
		break;
	case DIAG_DAX_TOO_MANY:
		snprintf(buf, len, "discovery lists more than %d nodes; diag "
		    "checked the first %d only: check the others with "
		    "--endpoint NODE_IP:PORT --service dax-cluster",
		    DIAG_DAX_MAX_NODES, DIAG_DAX_MAX_NODES);
		break;
	}
}

void
diag_hint_dax_node_tls(char *buf, size_t len, const struct diag_tls_facts *f)
{
	if (f->result == DIAG_TLS_VERIFY_FAILED &&
	    (f->verify_code == X509_V_ERR_HOSTNAME_MISMATCH ||
	    f->verify_code == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
		snprintf(buf, len, "node %s presents a certificate for %s, not "
		    "the cluster name %s: DAX clients verify every node "
		    "against the cluster name; is %s a node of this cluster "
		    "(not another cluster's, not a stale address)?",
		    f->address ? f->address : "?", f->sans && f->sans[0] ?
		    f->sans : "other names", f->name ? f->name : "?",
		    f->address ? f->address : "?");
		return;
	}
	diag_hint_tls(buf, len, f);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Copies at most len - 1 bytes of s[0..n), control and non-ASCII bytes
 * as '?', so what a peer sent can go into text and JSON as it is. */
static void
copy_clean(char *dst, size_t len, const char *s, size_t n)
{
	size_t i;

	if (len == 0)
		return;
	for (i = 0; i < n && i + 1 < len && s[i] != '\0'; i++)
		dst[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	dst[i] = '\0';
}

/* A JSON string of s (NULL: null); bytes jansson would refuse become '?'. */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	c = xstrdup(s);
	for (char *p = c; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j != NULL ? j : json_string("");
}

static void
jset(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v != NULL ? v : json_null());
}

static char *vfmt(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		s = xstrdup("(out of memory)");
	return s;
}

static bool
is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

static socklen_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static void
ss_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
}

static unsigned
ms_since(uint64_t start)
{
	uint64_t now = monotonic_ms();

	return now > start ? (unsigned)(now - start) : 0;
}

/* ------------------------------------------------------------------ */
/* DAX: the answer to `endpoints`                                      */
/* ------------------------------------------------------------------ */

/* dax_endpoints_read's callback: keeps the first nodes' addresses. */
static int
dax_node_keep(void *arg, const struct dax_node_addr *node,
    struct dax_node_addr *out)
{
	struct diag_dax_answer *a = arg;
	struct diag_dax_node *nd;

	(void)out;
	if (a->nnodes < DIAG_DAX_MAX_NODES) {
		nd = &a->nodes[a->nnodes++];
		memcpy(nd->addr, node->addr, node->addrlen);
		nd->addrlen = node->addrlen;
		nd->port = node->port;
		inet_ntop(node->addrlen == 4 ? AF_INET : AF_INET6, node->addr,
		    nd->address, sizeof(nd->address));
	}
	a->listed++;
	return 0;
}

/* A definite text string copied (cleaned) into out, else the item skipped. */
static bool
dax_text(struct cbor_reader *rd, char *out, size_t len)
{
	struct cbor_head h;
	const uint8_t *p;
	size_t n;

	if (cbor_peek(rd, &h) == CBOR_OK && h.major == CBOR_TEXT &&
	    !h.indefinite && cbor_read_string(rd, CBOR_TEXT, &p, &n) ==
	    CBOR_OK) {
		copy_clean(out, len, (const char *)p, n);
		return true;
	}
	(void)cbor_skip_item(rd);
	return false;
}

/* The id, host name, role and zone of the nodes already kept (their
 * addresses came from dax_endpoints_read, which checked the answer). */
static void
dax_node_extras(const uint8_t *buf, size_t n, struct diag_dax_answer *a)
{
	struct cbor_reader rd;
	struct cbor_head h;
	size_t count, i;

	cbor_reader_init(&rd, buf, n);
	if (cbor_read_head(&rd, &h) != CBOR_OK ||
	    cbor_read_container(&rd, CBOR_ARRAY, &count) != CBOR_OK)
		return;
	for (i = 0; i < a->nnodes && !cbor_container_end(&rd, count, i); i++) {
		struct diag_dax_node *nd = &a->nodes[i];
		size_t npairs, k;

		if (cbor_read_container(&rd, CBOR_MAP, &npairs) != CBOR_OK)
			return;
		for (k = 0; !cbor_container_end(&rd, npairs, k); k++) {
			int64_t key, v;
			struct cbor_head vh;

			if (cbor_read_int(&rd, &key) != CBOR_OK ||
			    cbor_peek(&rd, &vh) != CBOR_OK)
				return;
			if ((key == 0 || key == 4) && (vh.major == CBOR_UINT ||
			    vh.major == CBOR_NEGINT)) {
				if (cbor_read_int(&rd, &v) != CBOR_OK)
					return;
				if (key == 0) {
					nd->has_id = true;
					nd->node_id = v;
				} else {
					nd->role = v;
				}
			} else if (key == 1) {
				(void)dax_text(&rd, nd->hostname,
				    sizeof(nd->hostname));
			} else if (key == 5) {
				(void)dax_text(&rd, nd->zone, sizeof(nd->zone));
			} else if (cbor_skip_item(&rd) != CBOR_OK) {
				return;
			}
		}
	}
}

/* An error answer: the code path, the message, the error-info array's
 * errorCode ([requestId, errorCode, status, ...]). */
static void
dax_error_read(struct cbor_reader *rd, size_t ncodes,
    struct diag_dax_answer *a)
{
	size_t count;

	a->kind = DIAG_DAX_ANSWER_ERROR;
	a->codes_total = ncodes;
	for (size_t i = 0; i < ncodes; i++) {
		int64_t c;

		if (cbor_read_int(rd, &c) != CBOR_OK) {
			a->kind = DIAG_DAX_ANSWER_MALFORMED;
			snprintf(a->err, sizeof(a->err), "an error code path "
			    "of something other than integers");
			return;
		}
		if (a->ncodes < DIAG_DAX_MAX_CODES)
			a->codes[a->ncodes++] = c;
	}
	if (!dax_text(rd, a->message, sizeof(a->message)))
		a->message[0] = '\0';
	if (cbor_read_container(rd, CBOR_ARRAY, &count) == CBOR_OK &&
	    !cbor_container_end(rd, count, 0) &&
	    cbor_skip_item(rd) == CBOR_OK && !cbor_container_end(rd, count, 1))
		(void)dax_text(rd, a->error_code, sizeof(a->error_code));
}

void
diag_dax_answer_read(const uint8_t *buf, size_t n, struct diag_dax_answer *a)
{
	struct cbor_reader rd;
	struct cbor_head h;

	memset(a, 0, sizeof(*a));
	cbor_reader_init(&rd, buf, n);
	if (cbor_read_head(&rd, &h) != CBOR_OK || h.major != CBOR_ARRAY ||
	    h.indefinite) {
		a->kind = DIAG_DAX_ANSWER_MALFORMED;
		snprintf(a->err, sizeof(a->err), "no code-path array");
		return;
	}
	if (h.value > 0) {
		dax_error_read(&rd, (size_t)h.value, a);
		return;
	}
	a->kind = DIAG_DAX_ANSWER_NODES;
	if (dax_endpoints_read(buf, n, dax_node_keep, a, a->err,
	    sizeof(a->err)) < 0) {
		a->kind = DIAG_DAX_ANSWER_MALFORMED;
		a->nnodes = a->listed = 0;
		return;
	}
	dax_node_extras(buf, n, a);
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

static struct diag_step *
step_begin(struct diag_target *t, enum diag_layer layer)
{
	struct diag_step *s = &t->steps[t->nsteps++];

	memset(s, 0, sizeof(*s));
	s->layer = layer;
	s->status = DIAG_SKIP;
	s->started_ms = monotonic_ms();
	s->evidence = json_object();
	return s;
}

static void step_end(struct diag_step *s, enum diag_status status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
step_end(struct diag_step *s, enum diag_status status, const char *fmt, ...)
{
	va_list ap;

	s->status = status;
	s->duration_ms = ms_since(s->started_ms);
	free(s->summary);
	va_start(ap, fmt);
	s->summary = vfmt(fmt, ap);
	va_end(ap);
}

/* The first hint of a step is the one shown: the first problem found. */
static void
step_hint(struct diag_step *s, const char *hint)
{
	if (s->hint == NULL && hint != NULL && hint[0] != '\0')
		s->hint = xstrdup(hint);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* A target's verdict: the worst of its steps (skips count for nothing). */
static enum diag_status
target_status(const struct diag_target *t)
{
	enum diag_status st = DIAG_SKIP;

	for (size_t i = 0; i < t->nsteps; i++) {
		enum diag_status s = t->steps[i].status;

		if (s == DIAG_FAIL)
			return DIAG_FAIL;
		if (s == DIAG_WARN || (s == DIAG_PASS && st == DIAG_SKIP))
			st = s;
	}
	return st;
}

static enum diag_status
report_status(const struct diag_report *r)
{
	enum diag_status st = DIAG_PASS;

	for (size_t i = 0; i < r->ntargets; i++) {
		enum diag_status s = target_status(&r->targets[i]);

		if (s == DIAG_FAIL)
			return DIAG_FAIL;
		if (s == DIAG_WARN)
			st = DIAG_WARN;
	}
	return st;
}

static json_t *
step_json(const struct diag_step *s)
{
	json_t *o = json_object();

	jset(o, "step", json_string(diag_layer_name(s->layer)));
	jset(o, "status", json_string(diag_status_name(s->status)));
	jset(o, "duration_ms", json_integer(s->duration_ms));
	jset(o, "summary", jstr(s->summary != NULL ? s->summary : ""));
	jset(o, "hint", jstr(s->hint));
	if (s->evidence != NULL)
		json_object_set(o, "evidence", s->evidence);
	else
		jset(o, "evidence", json_object());
	return o;
}

json_t *
diag_report_json(const struct diag_report *r)
{
	json_t *root = json_object(), *targets = json_array();
	int code = diag_exit_code(r);

	jset(root, "version", json_integer(DIAG_JSON_VERSION));
	jset(root, "ddbgate_version", json_string(PACKAGE_VERSION));
	jset(root, "config", jstr(r->config));
	jset(root, "timeout_ms", json_integer(r->timeout_ms));
	jset(root, "via", jstr(r->via));
	jset(root, "status", json_string(diag_status_name(code != 0 ?
	    DIAG_FAIL : report_status(r))));
	jset(root, "exit_code", json_integer(code));
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct diag_target *t = &r->targets[i];
		json_t *o = json_object(), *steps = json_array();

		jset(o, "endpoint", jstr(t->endpoint));
		jset(o, "service", jstr(t->service));
		jset(o, "name", jstr(t->name));
		jset(o, "port", t->name != NULL ? json_integer(t->port) :
		    json_null());
		jset(o, "status", json_string(diag_status_name(
		    target_status(t))));
		for (size_t j = 0; j < t->nsteps; j++)
			json_array_append_new(steps, step_json(&t->steps[j]));
		jset(o, "steps", steps);
		json_array_append_new(targets, o);
	}
	jset(root, "targets", targets);
	return root;
}

void
diag_print_human(const struct diag_report *r, FILE *out)
{
	static const char *const upper[] = { "PASS", "WARN", "FAIL", "SKIP" };
	int code = diag_exit_code(r);

	fprintf(out, "ddbgate diag: %s, timeout %u ms%s%s\n", r->config,
	    r->timeout_ms, r->via ? ", via " : "", r->via ? r->via : "");
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct diag_target *t = &r->targets[i];

		if (t->name == NULL)
			fprintf(out, "\nconfiguration %s\n", r->config);
		else if (t->endpoint != NULL)
			fprintf(out, "\nendpoint %s: %s:%u (%s)\n", t->endpoint,
			    t->name, t->port, t->service ? t->service : "?");
		else
			fprintf(out, "\ntarget %s:%u (%s)\n", t->name, t->port,
			    t->service ? t->service : "?");
		for (size_t j = 0; j < t->nsteps; j++) {
			const struct diag_step *s = &t->steps[j];

			fprintf(out, "  %s  %-6s %6u ms  %s\n",
			    upper[s->status], diag_layer_name(s->layer),
			    s->duration_ms, s->summary ? s->summary : "");
			if (s->hint != NULL && (s->status == DIAG_FAIL ||
			    s->status == DIAG_WARN))
				fprintf(out, "        hint: %s\n", s->hint);
		}
	}
	if (code != 0) {
		enum diag_layer first = (enum diag_layer)(code - 3);

		fprintf(out, "\nresult: FAIL, first failing layer: %s (exit "
		    "%d)\n", diag_layer_name(first), code);
	} else {
		fprintf(out, "\nresult: %s (exit 0)\n",
		    report_status(r) == DIAG_WARN ? "pass with warnings" :
		    "pass");
	}
}

void
diag_report_free(struct diag_report *r)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		struct diag_target *t = &r->targets[i];

		for (size_t j = 0; j < t->nsteps; j++) {
			free(t->steps[j].summary);
			free(t->steps[j].hint);
			json_decref(t->steps[j].evidence);
		}
		free(t->endpoint);
		free(t->service);
		free(t->name);
	}
	free(r->targets);
	r->targets = NULL;
	r->ntargets = 0;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

struct diag_opts {
	const char *config;	/* NULL: the built-in defaults */
	bool json;
	const char *target;	/* --endpoint NAME, or HOST[:PORT] */
	const char *via;	/* the proxy URL as given */
	unsigned timeout_ms;
	unsigned total_ms;
	const char *ca_bundle;	/* --via: the local trust bundle */
	const char *ca_file;	/* HOST[:PORT]: verification bundle */
	const char *service;	/* HOST[:PORT]: which API */
	struct cidr allow[MAX_ALLOW]; /* HOST[:PORT]: allowed_cidrs */
	size_t nallow;
	const char *access_key_id, *action, *resource;
	bool direct;		/* with --via, the direct layers too */
};

enum src_kind {
	SRC_SERVER,	/* one DNS server */
	SRC_FILES,	/* the hosts file, which c-ares reads first when no
			   server is configured, as the gateway does */
	SRC_SYSTEM,	/* the hosts file and resolv.conf (the proxy name) */
};

struct dns_src {
	enum src_kind kind;
	char label[96];		/* "10.0.0.2:53", "/etc/hosts" */
};

struct via_proxy {
	char label[320];	/* http://host:port, never the credentials */
	char host[DNS_NAME_MAX + 1];
	uint16_t port;
	char auth[700];		/* base64 of user:password, or "" */
	struct sockaddr_storage ss;
	bool resolved;
	char why[440];		/* why it did not resolve */
	const char *bundle;	/* the local trust bundle */
	SSL_CTX *ctx;		/* NULL when the bundle did not load */
	char ctx_err[256];
};

/* One address of a target, as far as it got. */
struct probe {
	struct sockaddr_storage ss;	/* with the port */
	char text[64];			/* "10.0.1.5:443" */
	const char *from;		/* the routing name, or "literal" */
	bool allowed;			/* inside allowed_cidrs */
	enum diag_tcp_result tcp;
	unsigned tcp_ms;
	char tcp_why[96];
	int fd;				/* connected, until the end */
	SSL *ssl;			/* a verified session, for http */
};

struct target {
	struct diag_target *out;
	const struct conf_endpoint *ep;	/* NULL: HOST[:PORT] */
	enum endpoint_service service;
	char name[DNS_NAME_MAX + 1];	/* asked for: SNI, verified, Host */
	uint16_t port;			/* asked for */
	const char *ca_file;
	const struct cidr *allowed;
	size_t nallowed;
	struct conf_upstream routes[MAX_ROUTES]; /* hosts borrowed */
	size_t nroutes;
	SSL_CTX *ctx;			/* NULL: ca_file did not load */
	struct policy *policy;		/* NULL: did not load */
	struct probe probes[MAX_ADDRS];
	size_t nprobes;
	bool dax_tls;			/* dax-cluster: daxs (else dax://) */
};

struct diag_run {
	const struct diag_opts *o;
	struct config *cfg;
	uint64_t end_ms;		/* the whole run's ceiling */
	struct dns_src srcs[MAX_SOURCES];
	size_t nsrcs;
	char srcs_err[200];		/* why none could be listed */
	bool system_srcs;		/* from resolv.conf */
	struct via_proxy via;
	struct cidr private_cidrs[4];	/* allowed_cidrs' default */
	struct diag_report report;
};

/* How long the next network wait may take: --timeout-ms, less when the
 * whole run's ceiling is nearer. 0 once the ceiling has passed. */
static unsigned
budget(const struct diag_run *d)
{
	uint64_t now = monotonic_ms();

	if (now >= d->end_ms)
		return 0;
	return d->end_ms - now < d->o->timeout_ms ?
	    (unsigned)(d->end_ms - now) : d->o->timeout_ms;
}

static const char out_of_time[] = "not started: the run's time limit "
    "(--total-timeout-ms) is used up";

/* Ends s as failed: the run's ceiling passed before its checks could be
 * made, so it cannot pass. */
static void
step_out_of_time(const struct diag_run *d, struct diag_step *s)
{
	char hint[300];

	snprintf(hint, sizeof(hint), "the whole run's time limit "
	    "(--total-timeout-ms %u) ran out before this check: raise it, or "
	    "check one endpoint at a time (--endpoint NAME)", d->o->total_ms);
	free(s->hint);
	s->hint = NULL;
	step_hint(s, hint);
	step_end(s, DIAG_FAIL, "%s", out_of_time);
}

/* ------------------------------------------------------------------ */
/* DNS: every resolver asked separately (c-ares on a private loop)      */
/* ------------------------------------------------------------------ */

struct dns_addr {
	struct sockaddr_storage ss;	/* port 0 */
	int ttl;
};

struct dns_cname {
	char name[DNS_NAME_MAX + 1];
	int ttl;
};

struct dns_batch {
	struct event_base *base;
	size_t pending;			/* answers c-ares still owes */
	unsigned timeout_ms;
};

struct dns_chan;

/* One name asked of one source. */
struct dns_rec {
	struct dns_batch *b;
	struct dns_chan *chan;
	enum src_kind kind;
	enum diag_dns_result result;
	char message[160];
	uint64_t start_ms;
	unsigned duration_ms;
	struct dns_addr addrs[DNS_MAX_ADDRS];
	size_t naddrs;
	struct dns_cname cnames[4];
	size_t ncnames;
	/* diag's own A query for the name, on a socket of its own */
	int probe_fd;
	struct event *probe_ev;
	int probe_rcode;	/* of its answer; -1: none (yet) */
	bool probe_refused;	/* ICMP port unreachable */
	int probe_errno;	/* it could not be sent: no route ... */
};

struct sock_ev {
	ares_socket_t fd;
	struct event *ev;
};

/*
 * One c-ares channel: exactly one source. Beside each of its queries,
 * for a DNS server, diag sends one A query of its own on a socket of its
 * own (a probe), because c-ares 1.18 does not say everything: it sends A
 * and AAAA on one socket, so the port-unreachable error of the first is
 * taken by the second send and the first just times out, and it reports
 * SERVFAIL and REFUSED as "connection refused". The probe's answer (or
 * ICMP error) tells these apart.
 */
struct dns_chan {
	struct dns_batch *b;
	ares_channel ares;
	bool open;
	struct event *timer;
	struct sock_ev socks[16];
};

static void
chan_schedule(struct dns_chan *c)
{
	struct timeval tv;

	if (ares_timeout(c->ares, NULL, &tv) != NULL)
		evtimer_add(c->timer, &tv);
	else
		evtimer_del(c->timer);
}

static void
on_chan_io(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;

	ares_process_fd(c->ares,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	chan_schedule(c);
}

static void
on_chan_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;

	ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	chan_schedule(c);
}

/* c-ares opens, closes and changes interest in its sockets here. */
static void
on_chan_sock(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan *c = data;
	struct sock_ev *slot = NULL, *unused = NULL;
	short what = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (size_t i = 0; i < nitems(c->socks); i++) {
		if (c->socks[i].ev != NULL && c->socks[i].fd == fd)
			slot = &c->socks[i];
		else if (c->socks[i].ev == NULL && unused == NULL)
			unused = &c->socks[i];
	}
	if (slot != NULL) {
		event_free(slot->ev);
		slot->ev = NULL;
	}
	if (what == 0)
		return;
	if (slot == NULL && (slot = unused) == NULL)
		return; /* c-ares times the query out */
	slot->fd = fd;
	slot->ev = event_new(c->b->base, fd, what | EV_PERSIST, on_chan_io, c);
	if (slot->ev != NULL)
		event_add(slot->ev, NULL);
}

static enum diag_dns_result
dns_result_of(int status, size_t naddrs)
{
	switch (status) {
	case ARES_SUCCESS:
		return naddrs > 0 ? DIAG_DNS_OK : DIAG_DNS_NODATA;
	case ARES_ENOTFOUND:
		return DIAG_DNS_NXDOMAIN;
	case ARES_ENODATA:
		return DIAG_DNS_NODATA;
	case ARES_ESERVFAIL:
		return DIAG_DNS_SERVFAIL;
	case ARES_EREFUSED:
		return DIAG_DNS_REFUSED;
	case ARES_ETIMEOUT:
	case ARES_EDESTRUCTION: /* diag's own deadline */
	case ARES_ECANCELLED:
		return DIAG_DNS_TIMEOUT;
	case ARES_ECONNREFUSED:
		return DIAG_DNS_UNREACHABLE;
	}
	return DIAG_DNS_ERROR;
}

static void
rec_fill(struct dns_rec *rec, const struct ares_addrinfo *ai)
{
	for (const struct ares_addrinfo_node *n = ai->nodes; n != NULL;
	    n = n->ai_next) {
		struct dns_addr *a;

		if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
		    rec->naddrs == DNS_MAX_ADDRS ||
		    (size_t)n->ai_addrlen > sizeof(a->ss))
			continue;
		a = &rec->addrs[rec->naddrs++];
		memset(&a->ss, 0, sizeof(a->ss));
		memcpy(&a->ss, n->ai_addr, (size_t)n->ai_addrlen);
		ss_set_port(&a->ss, 0);
		a->ttl = n->ai_ttl;
	}
	for (const struct ares_addrinfo_cname *c = ai->cnames; c != NULL &&
	    rec->ncnames < nitems(rec->cnames); c = c->next) {
		snprintf(rec->cnames[rec->ncnames].name,
		    sizeof(rec->cnames[0].name), "%s",
		    c->alias ? c->alias : "");
		rec->cnames[rec->ncnames++].ttl = c->ttl;
	}
}

static void
on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_rec *rec = arg;

	rec->duration_ms = ms_since(rec->start_ms);
	rec->b->pending--;
	if (status == ARES_SUCCESS && ai != NULL)
		rec_fill(rec, ai);
	rec->result = dns_result_of(status, rec->naddrs);
	/* c-ares says "connection refused" for a name the file lacks */
	if (rec->kind == SRC_FILES && rec->result != DIAG_DNS_OK)
		rec->result = DIAG_DNS_NXDOMAIN;
	switch (rec->result) {
	case DIAG_DNS_OK:
		rec->message[0] = '\0';
		break;
	case DIAG_DNS_TIMEOUT:
		snprintf(rec->message, sizeof(rec->message),
		    "no answer in %u ms", rec->b->timeout_ms);
		break;
	case DIAG_DNS_NXDOMAIN:
		snprintf(rec->message, sizeof(rec->message), "%s",
		    rec->kind == SRC_FILES ? "not in the hosts file" :
		    "NXDOMAIN: no such name");
		break;
	case DIAG_DNS_NODATA:
		snprintf(rec->message, sizeof(rec->message),
		    "no A or AAAA records");
		break;
	case DIAG_DNS_UNREACHABLE:
		snprintf(rec->message, sizeof(rec->message), "could not "
		    "contact the server (port unreachable or connection "
		    "refused)");
		break;
	default:
		snprintf(rec->message, sizeof(rec->message), "%s",
		    ares_strerror(status));
		break;
	}
	ares_freeaddrinfo(ai);
}

static int
chan_open(struct dns_chan *c, struct dns_batch *b,
    const struct dns_src *src, char *err, size_t errlen)
{
	struct ares_options opts = {
		.sock_state_cb = on_chan_sock,
		.sock_state_cb_data = c,
		.timeout = (int)b->timeout_ms,
		.tries = 1,
		/* upstream names are absolute; a proxy's may be short */
		.flags = src->kind == SRC_SYSTEM ? 0 : ARES_FLAG_NOSEARCH,
		.lookups = src->kind == SRC_FILES ? "f" :
		    src->kind == SRC_SYSTEM ? "fb" : "b",
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS;
	int rc;

#ifdef ARES_OPT_QUERY_CACHE
	opts.qcache_max_ttl = 0; /* every answer fresh from the server */
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	c->b = b;
	if ((rc = ares_init_options(&c->ares, &opts, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	c->open = true;
	if ((c->timer = evtimer_new(b->base, on_chan_timer, c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (src->kind == SRC_SERVER && (rc = ares_set_servers_ports_csv(
	    c->ares, src->label)) != ARES_SUCCESS) {
		snprintf(err, errlen, "resolver %s: %s", src->label,
		    ares_strerror(rc));
		return -1;
	}
	return 0;
}

static void
chan_close(struct dns_chan *c)
{
	if (c->open)
		ares_destroy(c->ares); /* answers still owed: EDESTRUCTION */
	for (size_t i = 0; i < nitems(c->socks); i++)
		if (c->socks[i].ev != NULL)
			event_free(c->socks[i].ev);
	if (c->timer != NULL)
		event_free(c->timer);
	memset(c, 0, sizeof(*c));
}

static void
on_dns_deadline(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void
on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct dns_rec *rec = arg;
	unsigned char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n >= 4 && buf[0] == 0x5d && buf[1] == 0x1a) {
		rec->probe_rcode = buf[3] & 0x0f;
	} else if (n < 0 && errno == ECONNREFUSED) {
		/* nothing listens: c-ares would wait for its timeout */
		rec->probe_refused = true;
		if (rec->chan != NULL && rec->chan->open)
			ares_cancel(rec->chan->ares);
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	event_del(rec->probe_ev);
}

/* Sends one A query for name to the server of label on a socket of its
 * own; on_probe() reads the answer's rcode or the ICMP error. */
static void
probe_start(struct dns_rec *rec, const char *label, const char *name)
{
	unsigned char q[DNS_NAME_MAX + 18] = { 0x5d, 0x1a, 0x01, 0x00, 0, 1 };
	size_t n = 12;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why, *p = name;

	if (sockaddr_parse(label, 53, &ss, &len, &why) != 0)
		return;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || n + l + 6 > sizeof(q))
			return;
		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	memcpy(q + n, "\0\0\1\0\1", 5);
	n += 5;
	rec->probe_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (rec->probe_fd < 0)
		return;
	if (connect(rec->probe_fd, (struct sockaddr *)&ss, len) != 0 ||
	    send(rec->probe_fd, q, n, 0) < 0) {
		rec->probe_refused = errno == ECONNREFUSED;
		rec->probe_errno = errno;
		close(rec->probe_fd);
		rec->probe_fd = -1;
		return;
	}
	if ((rec->probe_ev = event_new(rec->b->base, rec->probe_fd, EV_READ |
	    EV_PERSIST, on_probe, rec)) != NULL)
		event_add(rec->probe_ev, NULL);
}

/* Whether a failed answer still waits for its probe to say why. */
static bool
probes_owed(const struct dns_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((recs[i].result == DIAG_DNS_UNREACHABLE ||
		    recs[i].result == DIAG_DNS_ERROR) &&
		    recs[i].probe_fd >= 0 && recs[i].probe_rcode < 0 &&
		    !recs[i].probe_refused)
			return true;
	return false;
}

/* What c-ares could not say, from the probe; then frees the probe. */
static void
probe_finish(struct dns_rec *rec)
{
	bool failed = rec->result == DIAG_DNS_TIMEOUT ||
	    rec->result == DIAG_DNS_UNREACHABLE ||
	    rec->result == DIAG_DNS_ERROR;

	if (failed && rec->probe_refused) {
		rec->result = DIAG_DNS_UNREACHABLE;
		snprintf(rec->message, sizeof(rec->message), "port "
		    "unreachable: nothing listens there");
	} else if (failed && rec->probe_errno != 0) {
		rec->result = DIAG_DNS_NO_ROUTE;
		snprintf(rec->message, sizeof(rec->message), "cannot send to "
		    "the server: %s", strerror(rec->probe_errno));
	} else if (rec->result == DIAG_DNS_UNREACHABLE &&
	    rec->probe_rcode >= 0) {
		/* c-ares 1.18 says "connection refused" for an rcode */
		rec->result = rec->probe_rcode == 2 ? DIAG_DNS_SERVFAIL :
		    rec->probe_rcode == 5 ? DIAG_DNS_REFUSED :
		    rec->probe_rcode == 3 ? DIAG_DNS_NXDOMAIN : DIAG_DNS_ERROR;
		snprintf(rec->message, sizeof(rec->message), "%s",
		    rec->result == DIAG_DNS_SERVFAIL ? "SERVFAIL" :
		    rec->result == DIAG_DNS_REFUSED ? "REFUSED" :
		    rec->result == DIAG_DNS_NXDOMAIN ?
		    "NXDOMAIN: no such name" :
		    "the server's answers could not be used");
	} else if (rec->result == DIAG_DNS_UNREACHABLE) {
		rec->result = DIAG_DNS_ERROR;
		snprintf(rec->message, sizeof(rec->message), "every attempt "
		    "failed (c-ares: could not contact the server)");
	}
	if (rec->probe_ev != NULL)
		event_free(rec->probe_ev);
	if (rec->probe_fd >= 0)
		close(rec->probe_fd);
	rec->probe_ev = NULL;
	rec->probe_fd = -1;
}

/*
 * Asks each of names[] of each of srcs[] at once, every source on its
 * own channel, and waits at most timeout_ms (plus a margin for c-ares'
 * own timer). recs has nnames x nsrcs entries, by name then source.
 */
static void
dns_ask(const struct dns_src *srcs, size_t nsrcs,
    const char *const *names, size_t nnames, unsigned timeout_ms,
    struct dns_rec *recs)
{
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
	    .ai_flags = ARES_AI_NOSORT };
	struct dns_batch b = { .timeout_ms = timeout_ms };
	struct dns_chan chans[MAX_SOURCES];
	struct timeval tv;
	struct event *deadline = NULL;
	char err[160];

	memset(chans, 0, sizeof(chans));
	for (size_t i = 0; i < nnames * nsrcs; i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].b = &b;
		recs[i].probe_fd = -1;
		recs[i].probe_rcode = -1;
		recs[i].kind = srcs[i % nsrcs].kind;
		recs[i].result = DIAG_DNS_TIMEOUT;
		snprintf(recs[i].message, sizeof(recs[i].message), "%s",
		    out_of_time);
	}
	if (timeout_ms == 0 || (b.base = event_base_new()) == NULL)
		return;
	for (size_t j = 0; j < nsrcs && j < MAX_SOURCES; j++) {
		if (chan_open(&chans[j], &b, &srcs[j], err, sizeof(err)) != 0) {
			for (size_t i = 0; i < nnames; i++) {
				recs[i * nsrcs + j].result = DIAG_DNS_ERROR;
				snprintf(recs[i * nsrcs + j].message,
				    sizeof(recs[0].message), "%s", err);
			}
			continue;
		}
		for (size_t i = 0; i < nnames; i++) {
			struct dns_rec *rec = &recs[i * nsrcs + j];

			rec->chan = &chans[j];
			if (srcs[j].kind == SRC_SERVER)
				probe_start(rec, srcs[j].label, names[i]);
			rec->start_ms = monotonic_ms();
			b.pending++;
			/* may answer at once (the hosts file) */
			ares_getaddrinfo(chans[j].ares, names[i], NULL, &hints,
			    on_answer, rec);
		}
		chan_schedule(&chans[j]);
	}
	tv.tv_sec = (timeout_ms + 250) / 1000;
	tv.tv_usec = (suseconds_t)((timeout_ms + 250) % 1000) * 1000;
	if ((deadline = evtimer_new(b.base, on_dns_deadline, b.base)) != NULL)
		evtimer_add(deadline, &tv);
	while (deadline != NULL && (b.pending > 0 || probes_owed(recs,
	    nnames * nsrcs)) && !event_base_got_break(b.base))
		if (event_base_loop(b.base, EVLOOP_ONCE) < 0)
			break;
	for (size_t j = 0; j < nsrcs && j < MAX_SOURCES; j++)
		chan_close(&chans[j]);
	for (size_t i = 0; i < nnames * nsrcs; i++)
		probe_finish(&recs[i]);
	if (deadline != NULL)
		event_free(deadline);
	event_base_free(b.base);
}

/* The resolvers to ask: the configured servers, else the hosts file and
 * every server of /etc/resolv.conf, as the gateway would use them. */
static void
sources_init(struct diag_run *d)
{
	const struct config *cfg = d->cfg;
	struct ares_addr_port_node *servers = NULL;
	struct ares_options opts = { .flags = ARES_FLAG_NOSEARCH };
	ares_channel ch;
	int rc;

	for (size_t i = 0; i < cfg->resolver.nservers && d->nsrcs <
	    MAX_SOURCES; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *why;
		struct dns_src *s = &d->srcs[d->nsrcs];

		if (sockaddr_parse(cfg->resolver.servers[i], 53, &ss, &len,
		    &why) != 0) {
			snprintf(d->srcs_err, sizeof(d->srcs_err), "resolver "
			    "%s: %s", cfg->resolver.servers[i], why);
			continue;
		}
		s->kind = SRC_SERVER;
		sockaddr_format((struct sockaddr *)&ss, s->label,
		    sizeof(s->label));
		d->nsrcs++;
	}
	if (cfg->resolver.nservers > 0)
		return;
	d->system_srcs = true;
	d->srcs[d->nsrcs].kind = SRC_FILES;
	snprintf(d->srcs[d->nsrcs++].label, sizeof(d->srcs[0].label),
	    "/etc/hosts");
	if ((rc = ares_init_options(&ch, &opts, ARES_OPT_FLAGS)) !=
	    ARES_SUCCESS) {
		snprintf(d->srcs_err, sizeof(d->srcs_err), "reading "
		    "/etc/resolv.conf: %s", ares_strerror(rc));
		return;
	}
	if (ares_get_servers_ports(ch, &servers) == ARES_SUCCESS)
		for (struct ares_addr_port_node *n = servers; n != NULL &&
		    d->nsrcs < MAX_SOURCES; n = n->next) {
			struct sockaddr_storage ss = { .ss_family =
			    (sa_family_t)n->family };
			unsigned port = n->udp_port ? (unsigned)n->udp_port :
			    53;

			if (n->family == AF_INET)
				memcpy(&((struct sockaddr_in *)(void *)&ss)->
				    sin_addr, &n->addr.addr4, 4);
			else if (n->family == AF_INET6)
				memcpy(&((struct sockaddr_in6 *)(void *)&ss)->
				    sin6_addr, &n->addr.addr6, 16);
			else
				continue;
			ss_set_port(&ss, (uint16_t)port);
			d->srcs[d->nsrcs].kind = SRC_SERVER;
			sockaddr_format((struct sockaddr *)&ss,
			    d->srcs[d->nsrcs++].label,
			    sizeof(d->srcs[0].label));
		}
	ares_free_data(servers);
	ares_destroy(ch);
}

/* ------------------------------------------------------------------ */
/* TCP: nonblocking connects, all at once, under one deadline          */
/* ------------------------------------------------------------------ */

static enum diag_tcp_result
tcp_result_of(int err)
{
	switch (err) {
	case 0:
		return DIAG_TCP_CONNECTED;
	case ECONNREFUSED:
		return DIAG_TCP_REFUSED;
	case ETIMEDOUT:
		return DIAG_TCP_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return DIAG_TCP_UNREACHABLE;
	}
	return DIAG_TCP_ERROR;
}

static void
probe_result(struct probe *p, int err, unsigned ms)
{
	p->tcp = tcp_result_of(err);
	p->tcp_ms = ms;
	if (err != 0) {
		snprintf(p->tcp_why, sizeof(p->tcp_why), "%s", strerror(err));
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
	}
}

/* Connects every allowed probe; the connected ones keep their socket. */
static void
tcp_connect_all(struct probe *ps, size_t n, unsigned timeout_ms)
{
	struct pollfd pfd[MAX_ADDRS];
	size_t idx[MAX_ADDRS], npending;
	uint64_t start = monotonic_ms(), deadline = start + timeout_ms;

	for (size_t i = 0; i < n; i++) {
		struct probe *p = &ps[i];

		p->fd = -1;
		if (!p->allowed) {
			p->tcp = DIAG_TCP_NOT_CONTACTED;
			continue;
		}
		if (timeout_ms == 0) {
			p->tcp = DIAG_TCP_TIMEOUT;
			snprintf(p->tcp_why, sizeof(p->tcp_why), "%s",
			    out_of_time);
			continue;
		}
		p->fd = socket(p->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (p->fd < 0) {
			probe_result(p, errno, 0);
			continue;
		}
		if (connect(p->fd, (struct sockaddr *)&p->ss,
		    ss_len(&p->ss)) == 0)
			probe_result(p, 0, ms_since(start));
		else if (errno == EINPROGRESS)
			p->tcp = DIAG_TCP_TIMEOUT; /* until it answers */
		else
			probe_result(p, errno, ms_since(start));
	}
	for (;;) {
		uint64_t now = monotonic_ms();
		int r;

		npending = 0;
		for (size_t i = 0; i < n; i++)
			if (ps[i].fd >= 0 && ps[i].tcp == DIAG_TCP_TIMEOUT) {
				pfd[npending] = (struct pollfd){ .fd = ps[i].fd,
				    .events = POLLOUT };
				idx[npending++] = i;
			}
		if (npending == 0 || now >= deadline)
			break;
		r = poll(pfd, (nfds_t)npending, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			break;
		for (size_t k = 0; r > 0 && k < npending; k++) {
			struct probe *p = &ps[idx[k]];
			int err = 0;
			socklen_t len = sizeof(err);

			if (pfd[k].revents == 0)
				continue;
			if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) < 0)
				err = errno;
			probe_result(p, err, ms_since(start));
		}
	}
	for (size_t k = 0; k < npending; k++) {
		struct probe *p = &ps[idx[k]];

		probe_result(p, ETIMEDOUT, timeout_ms);
		snprintf(p->tcp_why, sizeof(p->tcp_why), "no answer in %u ms",
		    timeout_ms);
	}
}

/* ------------------------------------------------------------------ */
/* Bounded I/O on a nonblocking socket, plain or TLS                   */
/* ------------------------------------------------------------------ */

/* 1: ready, 0: the deadline passed, -1: error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = monotonic_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (now >= deadline)
			return 0;
		r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

struct io {
	int fd;
	SSL *ssl; /* NULL: plain */
};

#define IO_ERROR (-1)
#define IO_TIMEOUT (-2)

/* What an SSL call wants before it can go on: POLLIN, POLLOUT, or 0. */
static short
ssl_wants(SSL *ssl, int ret)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	}
	return 0;
}

/* 0, IO_ERROR or IO_TIMEOUT. */
static int
io_write(struct io *io, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		short want = POLLOUT;
		int w;

		if (io->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_write(io->ssl, buf + off, (int)(len - off));
			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			if ((want = ssl_wants(io->ssl, r)) == 0)
				return IO_ERROR;
		} else {
			ssize_t r = send(io->fd, buf + off, len - off,
			    MSG_NOSIGNAL);

			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return IO_ERROR;
		}
		if ((w = wait_fd(io->fd, want, deadline)) <= 0)
			return w == 0 ? IO_TIMEOUT : IO_ERROR;
	}
	return 0;
}

/* Bytes read (> 0), 0 at the end of the stream, IO_ERROR, IO_TIMEOUT. */
static int
io_read(struct io *io, char *buf, size_t len, uint64_t deadline)
{
	for (;;) {
		short want = POLLIN;
		int w;

		if (io->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_read(io->ssl, buf, (int)len);
			if (r > 0)
				return r;
			if (SSL_get_error(io->ssl, r) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if ((want = ssl_wants(io->ssl, r)) == 0)
				return IO_ERROR;
		} else {
			ssize_t r = recv(io->fd, buf, len, 0);

			if (r >= 0)
				return (int)r;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return IO_ERROR;
		}
		if ((w = wait_fd(io->fd, want, deadline)) <= 0)
			return w == 0 ? IO_TIMEOUT : IO_ERROR;
	}
}

/* ------------------------------------------------------------------ */
/* HTTP answers                                                        */
/* ------------------------------------------------------------------ */

enum answer_end {
	ANS_COMPLETE,
	ANS_EOF,
	ANS_TIMEOUT,
	ANS_ERROR,
	ANS_MALFORMED,
};

struct answer {
	char *buf;		/* RESP_MAX bytes, owned */
	size_t len;
	size_t skip;		/* bytes of 1xx heads before the final one */
	bool have_head;
	struct http1_response head;
	enum http1_error herr;
	enum answer_end end;
};

static void
answer_parse(struct answer *a)
{
	for (;;) {
		enum http1_status st = http1_parse_response(a->buf + a->skip,
		    a->len - a->skip, HEAD_MAX, false, &a->head, &a->herr);

		if (st == HTTP1_AGAIN)
			return;
		if (st == HTTP1_ERROR) {
			a->end = ANS_MALFORMED;
			return;
		}
		if (a->head.status >= 100 && a->head.status < 200) {
			a->skip += a->head.head_len;
			continue;
		}
		a->have_head = true;
		return;
	}
}

/* Whether the whole answer is in (a CONNECT's 2xx has no body). */
static bool
answer_whole(const struct answer *a, bool connect)
{
	size_t start = a->skip + a->head.head_len, have = a->len - start;

	if (connect && a->head.status / 100 == 2)
		return true;
	switch (a->head.body) {
	case HTTP1_BODY_NONE:
		return true;
	case HTTP1_BODY_LENGTH:
		return have >= a->head.content_length;
	case HTTP1_BODY_CHUNKED:
		return have >= 5 && memcmp(a->buf + a->len - 5, "0\r\n\r\n",
		    5) == 0;
	case HTTP1_BODY_CLOSE:
		break;
	}
	return false;
}

static void
answer_read(struct io *io, uint64_t deadline, bool connect, struct answer *a)
{
	a->buf = xmalloc(RESP_MAX + 1);
	a->end = ANS_COMPLETE;
	for (;;) {
		int n;

		if (!a->have_head)
			answer_parse(a);
		if (a->end == ANS_MALFORMED)
			break;
		if (a->have_head && answer_whole(a, connect))
			break;
		if (a->len == RESP_MAX) {
			if (!a->have_head)
				a->end = ANS_MALFORMED;
			break;
		}
		n = io_read(io, a->buf + a->len, RESP_MAX - a->len, deadline);
		if (n > 0) {
			a->len += (size_t)n;
			continue;
		}
		a->end = n == 0 ? ANS_EOF : n == IO_TIMEOUT ? ANS_TIMEOUT :
		    ANS_ERROR;
		break;
	}
	a->buf[a->len] = '\0';
}

/* The first line of the final answer, cleaned, without CRLF. */
static void
answer_status_line(const struct answer *a, char *out, size_t len)
{
	const char *s = a->buf + a->skip;
	size_t n = 0, max = a->len - a->skip;

	while (n < max && s[n] != '\r' && s[n] != '\n')
		n++;
	copy_clean(out, len, s, n);
}

static void
answer_header(const struct answer *a, const char *name, char *out,
    size_t len)
{
	const struct http1_header *h = http1_header_find(a->head.headers,
	    a->head.nheaders, name);

	out[0] = '\0';
	if (h != NULL)
		copy_clean(out, len, h->value, h->value_len);
}

/* The string value of "key" in a JSON text, found by scanning (the body
 * may be chunked, cut short or not JSON at all). */
static bool
json_field(const char *s, size_t n, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *end = s + n;
	size_t o = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if (len == 0 || (p = memmem(s, n, pat, strlen(pat))) == NULL)
		return false;
	p += strlen(pat);
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p >= end || *p++ != ':')
		return false;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p >= end || *p++ != '"')
		return false;
	while (p < end && *p != '"' && o + 1 < len) {
		if (*p == '\\' && p + 1 < end)
			p++;
		out[o++] = (unsigned char)*p < 0x20 ||
		    (unsigned char)*p >= 0x7f ? '?' : *p;
		p++;
	}
	out[o] = '\0';
	return true;
}

static void
answer_free(struct answer *a)
{
	free(a->buf);
	a->buf = NULL;
}

/* ------------------------------------------------------------------ */
/* The services' unsigned request                                      */
/* ------------------------------------------------------------------ */

static const char *
svc_target(enum endpoint_service s)
{
	switch (s) {
	case SERVICE_STREAMS:
		return "DynamoDBStreams_20120810.ListStreams";
	case SERVICE_DAX:
	case SERVICE_DAX_CLUSTER:
		return "AmazonDAXV3.DescribeClusters";
	case SERVICE_DYNAMODB:
		break;
	}
	return "DynamoDB_20120810.ListTables";
}

static const char *
svc_content_type(enum endpoint_service s)
{
	return s == SERVICE_DAX || s == SERVICE_DAX_CLUSTER ?
	    "application/x-amz-json-1.1" : "application/x-amz-json-1.0";
}

static const char *
svc_label(enum endpoint_service s)
{
	switch (s) {
	case SERVICE_STREAMS:
		return "DynamoDB Streams";
	case SERVICE_DAX:
		return "DAX";
	case SERVICE_DAX_CLUSTER:
		return "the DAX cluster";
	case SERVICE_DYNAMODB:
		break;
	}
	return "DynamoDB";
}

struct http_result {
	enum diag_http_result result;
	unsigned duration_ms;
	int status;			/* 0: none */
	char status_line[160];
	char server[128];
	char request_id[128];
	char content_type[96];
	char type[160];			/* __type */
	char message[256];
	bool by_gateway;		/* x-amzn-RequestId ddbgate-... */
};

/* Sends the unsigned request on io and reads the answer. */
static void
http_run(struct io *io, const struct target *t, unsigned timeout_ms,
    struct http_result *r)
{
	char req[1024], host[DNS_NAME_MAX + 16];
	uint64_t start = monotonic_ms(), deadline = start + timeout_ms;
	struct answer a = { 0 };
	int n, w;

	memset(r, 0, sizeof(*r));
	if (t->port == 443)
		snprintf(host, sizeof(host), "%s", t->name);
	else if (strchr(t->name, ':') != NULL)
		snprintf(host, sizeof(host), "[%s]:%u", t->name, t->port);
	else
		snprintf(host, sizeof(host), "%s:%u", t->name, t->port);
	n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "X-Amz-Target: %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: 2\r\n"
	    "User-Agent: ddbgate-diag/%s\r\n"
	    "Accept-Encoding: identity\r\n"
	    "Connection: close\r\n"
	    "\r\n{}", host, svc_target(t->service),
	    svc_content_type(t->service), PACKAGE_VERSION);
	w = n > 0 && (size_t)n < sizeof(req) ? io_write(io, req, (size_t)n,
	    deadline) : IO_ERROR;
	if (w != 0) {
		r->result = w == IO_TIMEOUT ? DIAG_HTTP_TIMEOUT :
		    DIAG_HTTP_CLOSED;
		r->duration_ms = ms_since(start);
		return;
	}
	answer_read(io, deadline, false, &a);
	r->duration_ms = ms_since(start);
	if (!a.have_head) {
		r->result = a.end == ANS_TIMEOUT ? DIAG_HTTP_TIMEOUT :
		    a.end == ANS_MALFORMED ? DIAG_HTTP_MALFORMED :
		    a.len > 0 ? DIAG_HTTP_MALFORMED : DIAG_HTTP_CLOSED;
		answer_status_line(&a, r->status_line, sizeof(r->status_line));
		answer_free(&a);
		return;
	}
	r->status = a.head.status;
	answer_status_line(&a, r->status_line, sizeof(r->status_line));
	answer_header(&a, "server", r->server, sizeof(r->server));
	answer_header(&a, "x-amzn-requestid", r->request_id,
	    sizeof(r->request_id));
	answer_header(&a, "content-type", r->content_type,
	    sizeof(r->content_type));
	{
		const char *body = a.buf + a.skip + a.head.head_len;
		size_t blen = a.len - a.skip - a.head.head_len;

		json_field(body, blen, "__type", r->type, sizeof(r->type));
		if (!json_field(body, blen, "message", r->message,
		    sizeof(r->message)))
			json_field(body, blen, "Message", r->message,
			    sizeof(r->message));
	}
	r->by_gateway = strncmp(r->request_id, "ddbgate-", 8) == 0;
	r->result = diag_is_auth_error(r->status, r->type) ?
	    DIAG_HTTP_AUTH_ERROR : DIAG_HTTP_OTHER;
	answer_free(&a);
}

static json_t *
http_json(const struct http_result *r, const char *address)
{
	json_t *o = json_object();

	jset(o, "address", jstr(address));
	jset(o, "result", json_string(diag_http_result_name(r->result)));
	jset(o, "duration_ms", json_integer(r->duration_ms));
	jset(o, "status", r->status ? json_integer(r->status) : json_null());
	jset(o, "status_line", jstr(r->status_line[0] ? r->status_line :
	    NULL));
	jset(o, "server", jstr(r->server[0] ? r->server : NULL));
	jset(o, "request_id", jstr(r->request_id[0] ? r->request_id : NULL));
	jset(o, "content_type", jstr(r->content_type[0] ? r->content_type :
	    NULL));
	jset(o, "error_type", jstr(r->type[0] ? r->type : NULL));
	jset(o, "message", jstr(r->message[0] ? r->message : NULL));
	jset(o, "answered_by", json_string(r->status == 0 ? "none" :
	    r->by_gateway ? "gateway" : "upstream"));
	return o;
}

/* "MissingAuthenticationTokenException" out of a full __type. */
static const char *
type_short(const char *type)
{
	const char *h = strrchr(type, '#');

	return h != NULL ? h + 1 : type;
}

/* ------------------------------------------------------------------ */
/* TLS: handshake, chain, verification verdict                          */
/* ------------------------------------------------------------------ */

/* The first verification error of a handshake and the certificate it
 * is about; the handshake itself is let through so the chain can be
 * reported. */
struct verify_rec {
	long code;		/* X509_V_OK: none */
	int depth;
	char subject[256], issuer[256];
	char not_before[32], not_after[32];
};

struct tls_result {
	enum diag_tls_result result;
	unsigned duration_ms;
	struct verify_rec v;
	char reason[256];	/* OpenSSL's */
	char sans[512];		/* the leaf's names */
	bool name_match;
	long min_days;		/* nearest expiry in the chain */
	char min_subject[256], min_not_after[32];
	json_t *ev;		/* the handshake's evidence, owned */
};

static void
name_text(const X509_NAME *n, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long m;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (m = BIO_get_mem_data(b, &p)) > 0)
		copy_clean(out, len, p, (size_t)m);
	BIO_free(b);
}

static void
time_text(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	out[0] = '\0';
	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whole days from now to notAfter, rounded down (negative: expired). */
static long
days_left(const X509 *c)
{
	int day = 0, sec = 0;
	long long total;

	if (ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(c)) != 1)
		return 0;
	total = (long long)day * 86400 + sec;
	return total >= 0 ? (long)(total / 86400) :
	    -(long)((-total + 86399) / 86400);
}

/* Issued for less than the warning window in all (the gateway's minted
 * 7-day leaves): renewed by design, so its expiry is no warning. */
static bool
short_lived(const X509 *c)
{
	int day = 0, sec = 0;

	return ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(c),
	    X509_get0_notAfter(c)) == 1 && day < DIAG_EXPIRY_WARN_DAYS;
}

static int
on_verify(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct verify_rec *v = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *c = X509_STORE_CTX_get_current_cert(x);

	if (!ok && v != NULL && v->code == X509_V_OK) {
		v->code = X509_STORE_CTX_get_error(x);
		v->depth = X509_STORE_CTX_get_error_depth(x);
		if (c != NULL) {
			name_text(X509_get_subject_name(c), v->subject,
			    sizeof(v->subject));
			name_text(X509_get_issuer_name(c), v->issuer,
			    sizeof(v->issuer));
			time_text(X509_get0_notBefore(c), v->not_before,
			    sizeof(v->not_before));
			time_text(X509_get0_notAfter(c), v->not_after,
			    sizeof(v->not_after));
		}
	}
	return 1; /* go on: the verdict is read after the handshake */
}

/* A verifying client context trusting bundle, or NULL with err. */
static SSL_CTX *
tls_ctx_new(const char *bundle, int *ncerts, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const STACK_OF(X509_OBJECT) *objs;

	*ncerts = 0;
	if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx,
	    TLS1_2_VERSION) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
		snprintf(err, errlen, "TLS client context: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	if (SSL_CTX_load_verify_locations(ctx, bundle, NULL) != 1) {
		unsigned long e = ERR_peek_last_error();

		snprintf(err, errlen, "%s: cannot load CA bundle: %s", bundle,
		    e ? ERR_reason_error_string(e) : "no certificates");
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_verify);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) ==
		    X509_LU_X509)
			(*ncerts)++;
	return ctx;
}

/* The leaf's DNS and IP names, into a JSON array and "a, b" text. */
static json_t *
sans_of(X509 *c, char *text, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL,
	    NULL);
	json_t *arr = json_array();
	size_t used = 0;

	if (text != NULL && len > 0)
		text[0] = '\0';
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char v[256] = "";

		if (g->type == GEN_DNS)
			copy_clean(v, sizeof(v),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			    (size_t)ASN1_STRING_length(g->d.dNSName));
		else if (g->type == GEN_IPADD && g->d.iPAddress->length == 4)
			inet_ntop(AF_INET, g->d.iPAddress->data, v, sizeof(v));
		else if (g->type == GEN_IPADD && g->d.iPAddress->length == 16)
			inet_ntop(AF_INET6, g->d.iPAddress->data, v, sizeof(v));
		if (v[0] == '\0')
			continue;
		json_array_append_new(arr, jstr(v));
		if (text != NULL && used < len) {
			int n = snprintf(text + used, len - used, "%s%s",
			    used ? ", " : "", v);

			used += n > 0 ? (size_t)n : 0;
		}
	}
	GENERAL_NAMES_free(gens);
	return arr;
}

static json_t *
cert_json(X509 *c, long *days)
{
	json_t *o = json_object();
	char buf[256];

	name_text(X509_get_subject_name(c), buf, sizeof(buf));
	jset(o, "subject", jstr(buf));
	name_text(X509_get_issuer_name(c), buf, sizeof(buf));
	jset(o, "issuer", jstr(buf));
	jset(o, "sans", sans_of(c, NULL, 0));
	time_text(X509_get0_notBefore(c), buf, sizeof(buf));
	jset(o, "not_before", jstr(buf));
	time_text(X509_get0_notAfter(c), buf, sizeof(buf));
	jset(o, "not_after", jstr(buf));
	*days = days_left(c);
	jset(o, "days_to_expiry", json_integer(*days));
	return o;
}

static void
tls_error_text(int e, int saved_errno, char *out, size_t len)
{
	unsigned long err = ERR_peek_last_error();
	const char *r = err ? ERR_reason_error_string(err) : NULL;

	if (r != NULL)
		snprintf(out, len, "%s", r);
	else if (e == SSL_ERROR_SYSCALL && saved_errno != 0)
		snprintf(out, len, "%s", strerror(saved_errno));
	else
		snprintf(out, len, "the connection closed during the "
		    "handshake");
	ERR_clear_error();
}

/* Fills the evidence and the chain facts of a finished handshake. */
static void
tls_describe(SSL *ssl, const char *name, struct tls_result *r)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	json_t *certs = json_array(), *verify = json_object();
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	char alpn_text[64] = "";

	jset(r->ev, "protocol", json_string(SSL_get_version(ssl)));
	jset(r->ev, "cipher", jstr(SSL_get_cipher_name(ssl)));
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn != NULL)
		copy_clean(alpn_text, sizeof(alpn_text), (const char *)alpn,
		    alpn_len);
	jset(r->ev, "alpn", jstr(alpn_text[0] ? alpn_text : NULL));
	r->min_days = LONG_MAX;
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		long days;

		json_array_append_new(certs, cert_json(c, &days));
		if (days < r->min_days && !short_lived(c)) {
			r->min_days = days;
			name_text(X509_get_subject_name(c), r->min_subject,
			    sizeof(r->min_subject));
			time_text(X509_get0_notAfter(c), r->min_not_after,
			    sizeof(r->min_not_after));
		}
	}
	if (leaf != NULL) {
		json_decref(sans_of(leaf, r->sans, sizeof(r->sans)));
		r->name_match = is_ip_literal(name) ?
		    X509_check_ip_asc(leaf, name, 0) == 1 :
		    X509_check_host(leaf, name, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	} else if (r->v.code == X509_V_OK) {
		r->v.code = X509_V_ERR_UNSPECIFIED;
	}
	jset(verify, "ok", json_boolean(r->v.code == X509_V_OK));
	jset(verify, "code", json_integer(r->v.code));
	jset(verify, "reason", json_string(X509_verify_cert_error_string(
	    r->v.code)));
	jset(verify, "depth", r->v.code == X509_V_OK ? json_null() :
	    json_integer(r->v.depth));
	jset(r->ev, "verify", verify);
	jset(r->ev, "name_match", json_boolean(r->name_match));
	jset(r->ev, "chain", certs);
}

/*
 * A TLS handshake on the connected socket fd, asking for and verifying
 * name, within timeout_ms. A session that verified is left in *keep
 * (for the HTTP step); any other is freed.
 */
static void
tls_run(SSL_CTX *ctx, int fd, const char *name, const char *address,
    unsigned timeout_ms, struct tls_result *r, SSL **keep)
{
	uint64_t start = monotonic_ms(), deadline = start + timeout_ms;
	SSL *ssl = SSL_new(ctx);
	bool ip = is_ip_literal(name);

	memset(r, 0, sizeof(*r));
	*keep = NULL;
	r->v.code = X509_V_OK;
	r->ev = json_object();
	jset(r->ev, "address", jstr(address));
	jset(r->ev, "sni", ip ? json_null() : jstr(name));
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || (ip ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 :
	    (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1))) {
		r->result = DIAG_TLS_HANDSHAKE_FAILED;
		tls_error_text(0, 0, r->reason, sizeof(r->reason));
		goto out;
	}
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_set_app_data(ssl, &r->v);
	for (;;) {
		int ret, e, saved, w;
		short want;

		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_connect(ssl)) == 1)
			break;
		saved = errno;
		e = SSL_get_error(ssl, ret);
		want = e == SSL_ERROR_WANT_READ ? POLLIN :
		    e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
		if (want == 0) {
			r->result = DIAG_TLS_HANDSHAKE_FAILED;
			tls_error_text(e, saved, r->reason, sizeof(r->reason));
			goto out;
		}
		if ((w = wait_fd(fd, want, deadline)) <= 0) {
			r->result = w == 0 ? DIAG_TLS_TIMEOUT :
			    DIAG_TLS_HANDSHAKE_FAILED;
			snprintf(r->reason, sizeof(r->reason), w == 0 ?
			    "no handshake within %u ms" : "poll failed",
			    timeout_ms);
			goto out;
		}
	}
	tls_describe(ssl, name, r);
	if (r->v.code != X509_V_OK) {
		r->result = DIAG_TLS_VERIFY_FAILED;
		snprintf(r->reason, sizeof(r->reason), "%s",
		    X509_verify_cert_error_string(r->v.code));
	} else if (r->min_days < DIAG_EXPIRY_WARN_DAYS) {
		r->result = DIAG_TLS_EXPIRING;
		*keep = ssl;
	} else {
		r->result = DIAG_TLS_OK;
		*keep = ssl;
	}
out:
	r->duration_ms = ms_since(start);
	jset(r->ev, "result", json_string(diag_tls_result_name(r->result)));
	jset(r->ev, "duration_ms", json_integer(r->duration_ms));
	jset(r->ev, "message", jstr(r->result == DIAG_TLS_OK ||
	    r->result == DIAG_TLS_EXPIRING ? NULL : r->reason));
	if (*keep == NULL)
		SSL_free(ssl);
}

/* The hint facts of a TLS result. */
static void
tls_facts(const struct tls_result *r, const char *address, const char *name,
    const char *bundle, unsigned timeout_ms, bool via,
    struct diag_tls_facts *f)
{
	bool expiring = r->result == DIAG_TLS_EXPIRING;

	*f = (struct diag_tls_facts){
		.result = r->result,
		.verify_code = r->v.code,
		.reason = r->reason,
		.address = address,
		.name = name,
		.ca_file = bundle,
		.issuer = r->v.issuer[0] ? r->v.issuer : NULL,
		.subject = expiring ? r->min_subject : r->v.subject[0] ?
		    r->v.subject : NULL,
		.sans = r->sans,
		.not_before = r->v.not_before[0] ? r->v.not_before : NULL,
		.not_after = expiring ? r->min_not_after :
		    r->v.not_after[0] ? r->v.not_after : NULL,
		.days = r->min_days,
		.timeout_ms = timeout_ms,
		.via = via,
	};
}

/* ------------------------------------------------------------------ */
/* Layer: config                                                       */
/* ------------------------------------------------------------------ */

static json_t *
cidrs_json(const struct cidr *c, size_t n)
{
	json_t *a = json_array();
	char buf[64];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(cidr_format(&c[i], buf,
		    sizeof(buf))));
	return a;
}

static void
route_text(const struct conf_upstream *u, char *buf, size_t len)
{
	if (strchr(u->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", u->host, u->port);
	else
		snprintf(buf, len, "%s:%u", u->host, u->port);
}

static void
layer_config(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_CONFIG);
	json_t *ev = s->evidence, *hosts = json_array(), *routes = json_array();
	json_t *resolvers = json_array(), *errors = json_array();
	char err[512], buf[300], hint[600] = "";
	int ncerts = 0;

	jset(ev, "config", jstr(d->report.config));
	jset(ev, "endpoint", jstr(t->ep ? t->ep->name : NULL));
	jset(ev, "service", json_string(config_service_name(t->service)));
	for (size_t i = 0; t->ep != NULL && i < t->ep->nhosts; i++)
		json_array_append_new(hosts, jstr(t->ep->hosts[i]));
	if (t->ep == NULL)
		json_array_append_new(hosts, jstr(t->name));
	jset(ev, "hosts", hosts);
	for (size_t i = 0; i < t->nroutes; i++) {
		route_text(&t->routes[i], buf, sizeof(buf));
		json_array_append_new(routes, jstr(buf));
	}
	jset(ev, "routes", routes);
	for (size_t i = 0; i < d->nsrcs; i++)
		json_array_append_new(resolvers, jstr(d->srcs[i].label));
	jset(ev, "resolvers", resolvers);
	jset(ev, "resolver_source", json_string(d->system_srcs ?
	    "/etc/resolv.conf" : "configuration"));
	jset(ev, "ca_file", jstr(t->ca_file));
	jset(ev, "allowed_cidrs", cidrs_json(t->allowed, t->nallowed));
	jset(ev, "policy", jstr(t->ep ? t->ep->policy : NULL));

	if (d->srcs_err[0] != '\0') {
		json_array_append_new(errors, jstr(d->srcs_err));
		snprintf(hint, sizeof(hint), "fix resolver.servers (%s)",
		    d->srcs_err);
	}
	if ((t->ctx = tls_ctx_new(t->ca_file, &ncerts, err,
	    sizeof(err))) == NULL) {
		json_array_append_new(errors, jstr(err));
		if (hint[0] == '\0')
			snprintf(hint, sizeof(hint), "ca_file %s must be a "
			    "PEM bundle this user can read (the default "
			    "%s comes from the ca-certificates package)",
			    t->ca_file, SYSTEM_BUNDLE);
	}
	/* DAX nodes are not HTTP: no ALPN, as the DAX clients offer none */
	if (t->ctx != NULL && t->service == SERVICE_DAX_CLUSTER)
		(void)SSL_CTX_set_alpn_protos(t->ctx, NULL, 0);
	jset(ev, "ca_certificates", t->ctx ? json_integer(ncerts) :
	    json_null());
	if (t->ep != NULL && t->ep->policy != NULL) {
		t->policy = policy_load_file(t->ep->policy, err, sizeof(err));
		if (t->policy == NULL) {
			json_array_append_new(errors, jstr(err));
			if (hint[0] == '\0')
				snprintf(hint, sizeof(hint), "fix the endpoint "
				    "policy (ddbgate policy lint -p %s)",
				    t->ep->policy);
		}
	} else if (t->ep != NULL) {
		t->policy = policy_allow_all();
	}
	jset(ev, "policy_statements", t->policy && t->ep->policy ?
	    json_integer((json_int_t)policy_statement_count(t->policy)) :
	    json_null());
	jset(ev, "errors", errors);
	step_hint(s, hint);
	if (json_array_size(errors) > 0) {
		step_end(s, DIAG_FAIL, "%s", json_string_value(
		    json_array_get(errors, 0)));
		return;
	}
	route_text(&t->routes[0], buf, sizeof(buf));
	if (t->nroutes > 1)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    " (+%zu more)", t->nroutes - 1);
	step_end(s, DIAG_PASS, "%s %s; %zu resolver%s%s; ca_file %s (%d "
	    "certificate%s); %s%s", t->ep && t->ep->nupstreams ? "upstream" :
	    "connects to", buf, d->nsrcs, d->nsrcs == 1 ? "" : "s",
	    d->system_srcs ? " (resolv.conf)" : "", t->ca_file, ncerts,
	    ncerts == 1 ? "" : "s", t->ep == NULL ? "no endpoint: no policy" :
	    t->ep->policy ? "policy " : "no policy (allow all)",
	    t->ep && t->ep->policy ? t->ep->policy : "");
}

/* ------------------------------------------------------------------ */
/* Layer: dns                                                          */
/* ------------------------------------------------------------------ */

static bool
is_vpce_name(const char *name)
{
	return strncmp(name, "vpce-", 5) == 0 &&
	    ends_with(name, ".vpce.amazonaws.com");
}

/* Adds an address to probe, once. */
static void
probe_add(struct target *t, const struct sockaddr_storage *ss,
    uint16_t port, const char *from, bool allowed)
{
	struct probe *p;
	struct sockaddr_storage a = *ss;

	ss_set_port(&a, port);
	for (size_t i = 0; i < t->nprobes; i++)
		if (sockaddr_same((struct sockaddr *)&t->probes[i].ss,
		    (struct sockaddr *)&a))
			return;
	if (t->nprobes == MAX_ADDRS)
		return;
	p = &t->probes[t->nprobes++];
	memset(p, 0, sizeof(*p));
	p->ss = a;
	p->fd = -1;
	p->from = from;
	p->allowed = allowed;
	sockaddr_format((struct sockaddr *)&a, p->text, sizeof(p->text));
}

/* The literal routes are probed as they are. */
static void
add_literals(struct target *t)
{
	for (size_t i = 0; i < t->nroutes; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *why;

		if (t->routes[i].literal && sockaddr_parse(t->routes[i].host,
		    t->routes[i].port, &ss, &len, &why) == 0)
			probe_add(t, &ss, t->routes[i].port, "literal",
			    cidr_list_contains(t->allowed, t->nallowed,
			    (struct sockaddr *)&ss));
	}
}

static bool
same_addr_sets(const struct dns_rec *a, const struct dns_rec *b)
{
	if (a->naddrs != b->naddrs)
		return false;
	for (size_t i = 0; i < a->naddrs; i++) {
		bool found = false;

		for (size_t j = 0; j < b->naddrs && !found; j++)
			found = sockaddr_same(
			    (const struct sockaddr *)&a->addrs[i].ss,
			    (const struct sockaddr *)&b->addrs[j].ss);
		if (!found)
			return false;
	}
	return true;
}

struct dns_name {
	const char *name;
	uint16_t port;		/* of its route */
	bool routing, asked;
};

/* Lists the names to ask: each routing name once, then the asked-for
 * name if it routes nowhere itself. Returns how many route. */
static size_t
dns_names(const struct target *t, struct dns_name *names, size_t *n)
{
	size_t nrouting = 0;

	*n = 0;
	for (size_t i = 0; i < t->nroutes; i++) {
		bool dup = false;

		if (t->routes[i].literal)
			continue;
		for (size_t j = 0; j < *n; j++)
			dup = dup || (names[j].port == t->routes[i].port &&
			    strcmp(names[j].name, t->routes[i].host) == 0);
		if (dup)
			continue;
		names[*n] = (struct dns_name){ .name = t->routes[i].host,
		    .port = t->routes[i].port, .routing = true,
		    .asked = strcasecmp(t->routes[i].host, t->name) == 0 };
		(*n)++;
		nrouting++;
	}
	for (size_t j = 0; j < *n; j++)
		if (names[j].asked)
			return nrouting;
	if (!is_ip_literal(t->name))
		names[(*n)++] = (struct dns_name){ .name = t->name,
		    .asked = true };
	return nrouting;
}

static json_t *
dns_rec_json(const struct dns_rec *rec, const char *label,
    const struct target *t)
{
	json_t *o = json_object(), *addrs = json_array(), *cn = json_array();
	char ip[64];

	jset(o, "resolver", jstr(label));
	jset(o, "status", json_string(diag_dns_result_name(rec->result)));
	jset(o, "duration_ms", json_integer(rec->duration_ms));
	jset(o, "message", jstr(rec->message[0] ? rec->message : NULL));
	for (size_t k = 0; k < rec->naddrs; k++) {
		json_t *a = json_object();
		const struct sockaddr *sa =
		    (const struct sockaddr *)&rec->addrs[k].ss;

		jset(a, "address", jstr(sockaddr_format_ip(sa, ip,
		    sizeof(ip))));
		jset(a, "ttl", json_integer(rec->addrs[k].ttl));
		jset(a, "allowed", json_boolean(cidr_list_contains(t->allowed,
		    t->nallowed, sa)));
		json_array_append_new(addrs, a);
	}
	for (size_t k = 0; k < rec->ncnames; k++) {
		json_t *c = json_object();

		jset(c, "name", jstr(rec->cnames[k].name));
		jset(c, "ttl", json_integer(rec->cnames[k].ttl));
		json_array_append_new(cn, c);
	}
	jset(o, "addresses", addrs);
	jset(o, "cnames", cn);
	return o;
}

/* Marks an answer with an address outside allowed_cidrs as PUBLIC; the
 * first such address goes to bad. */
static void
dns_guard(struct dns_rec *rec, const struct target *t, char *bad,
    size_t len)
{
	for (size_t k = 0; rec->result == DIAG_DNS_OK && k < rec->naddrs;
	    k++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&rec->addrs[k].ss;

		if (!cidr_list_contains(t->allowed, t->nallowed, sa)) {
			rec->result = DIAG_DNS_PUBLIC;
			sockaddr_format_ip(sa, bad, len);
			snprintf(rec->message, sizeof(rec->message), "%s is "
			    "outside allowed_cidrs", bad);
		}
	}
}

/* Appends "a, b (ttl N)" of an answer to a memstream. */
static void
addrs_text(FILE *f, const struct dns_rec *rec)
{
	char ip[64];
	int ttl = INT_MAX;

	for (size_t k = 0; k < rec->naddrs; k++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&rec->addrs[k].ss;

		fprintf(f, "%s%s", k ? ", " : "", sockaddr_format_ip(sa, ip,
		    sizeof(ip)));
		if (rec->addrs[k].ttl < ttl)
			ttl = rec->addrs[k].ttl;
	}
	if (rec->naddrs > 0)
		fprintf(f, " (ttl %d)", ttl);
}

static void
layer_dns(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_DNS);
	struct dns_name names[MAX_NAMES];
	const char *qnames[MAX_NAMES] = { 0 };
	size_t nnames, nrouting = dns_names(t, names, &nnames);
	size_t nsrcs = d->nsrcs, failures = 0;
	struct dns_rec *recs;
	json_t *jnames = json_array(), *jres = json_array();
	json_t *private_dns = json_null();
	bool disagree = false;
	char hint[700] = "", *text = NULL;
	size_t textlen = 0;
	FILE *sum;
	unsigned tmo = budget(d);

	add_literals(t);
	for (size_t j = 0; j < nsrcs; j++)
		json_array_append_new(jres, jstr(d->srcs[j].label));
	jset(s->evidence, "timeout_ms", json_integer(tmo));
	jset(s->evidence, "resolvers", jres);
	if (nrouting == 0 || nsrcs == 0) {
		jset(s->evidence, "names", jnames);
		jset(s->evidence, "private_dns", private_dns);
		step_end(s, DIAG_SKIP, "%s", nsrcs == 0 ? "no resolver to ask "
		    "(see config)" : "upstream is fixed addresses: nothing to "
		    "resolve");
		return;
	}
	if (tmo == 0) {
		jset(s->evidence, "names", jnames);
		jset(s->evidence, "private_dns", private_dns);
		step_out_of_time(d, s);
		return;
	}
	for (size_t i = 0; i < nnames; i++)
		qnames[i] = names[i].name;
	recs = xcalloc(nnames * nsrcs, sizeof(*recs));
	dns_ask(d->srcs, nsrcs, qnames, nnames, tmo, recs);
	if ((sum = open_memstream(&text, &textlen)) == NULL)
		abort();
	for (size_t i = 0; i < nnames; i++) {
		json_t *jn = json_object(), *answers = json_array();
		const struct dns_rec *first_ok = NULL;
		bool agree = true;
		size_t shown = 0, usable = 0, failed0 = failures;

		jset(jn, "name", jstr(names[i].name));
		jset(jn, "routing", json_boolean(names[i].routing));
		jset(jn, "asked", json_boolean(names[i].asked));
		jset(jn, "vpce", json_boolean(is_vpce_name(names[i].name)));
		if (names[i].routing)
			fprintf(sum, "%s%s:", i ? "; " : "", names[i].name);
		for (size_t j = 0; j < nsrcs; j++) {
			struct dns_rec *rec = &recs[i * nsrcs + j];
			char bad[64] = "";

			dns_guard(rec, t, bad, sizeof(bad));
			json_array_append_new(answers, dns_rec_json(rec,
			    d->srcs[j].label, t));
			if (names[i].asked && rec->naddrs > 0 &&
			    json_is_null(private_dns)) {
				json_decref(private_dns);
				private_dns = json_boolean(rec->result ==
				    DIAG_DNS_OK);
			} else if (names[i].asked &&
			    rec->result == DIAG_DNS_PUBLIC) {
				json_decref(private_dns);
				private_dns = json_false();
			}
			if (!names[i].routing)
				continue;
			for (size_t k = 0; k < rec->naddrs; k++)
				probe_add(t, &rec->addrs[k].ss, names[i].port,
				    names[i].name, cidr_list_contains(
				    t->allowed, t->nallowed,
				    (struct sockaddr *)&rec->addrs[k].ss));
			/* a name the hosts file lacks is asked of DNS */
			if (rec->kind == SRC_FILES &&
			    rec->result == DIAG_DNS_NXDOMAIN)
				continue;
			if (rec->kind == SRC_SERVER && rec->naddrs > 0) {
				if (first_ok == NULL)
					first_ok = rec;
				else if (!same_addr_sets(first_ok, rec))
					agree = false;
			}
			fprintf(sum, "%s %s ", shown++ ? "," : "",
			    d->srcs[j].label);
			if (rec->result == DIAG_DNS_OK) {
				addrs_text(sum, rec);
				usable++;
				continue;
			}
			fprintf(sum, "%s", diag_dns_result_name(rec->result));
			if (rec->result == DIAG_DNS_PUBLIC) {
				fputs(" ", sum);
				addrs_text(sum, rec);
			}
			if (failures++ == 0)
				diag_hint_dns(hint, sizeof(hint), rec->result,
				    d->srcs[j].label, names[i].name,
				    bad[0] ? bad : NULL, tmo);
		}
		if (names[i].routing && usable == 0 && failures == failed0) {
			/* only the hosts file was asked, and it lacks it */
			fprintf(sum, " not resolved");
			if (failures++ == 0)
				snprintf(hint, sizeof(hint), "no resolver gave "
				    "an address for %s: list the Route 53 "
				    "Resolver inbound endpoints in "
				    "resolver.servers", names[i].name);
		}
		jset(jn, "answers", answers);
		jset(jn, "agree", json_boolean(agree));
		json_array_append_new(jnames, jn);
		if (!agree && !disagree && names[i].routing) {
			disagree = true;
			if (failures == 0)
				snprintf(hint, sizeof(hint), "the resolvers "
				    "disagree about %s: fine for zonal or "
				    "rotating answers, else check that every "
				    "resolver forwards to the same Route 53 "
				    "Resolver", names[i].name);
		}
	}
	for (size_t i = 0; i < nnames; i++)
		if (names[i].asked && !names[i].routing)
			fprintf(sum, "; %s (asked for) %s", names[i].name,
			    json_is_true(private_dns) ?
			    "resolves privately (private DNS in effect)" :
			    json_is_false(private_dns) ?
			    "resolves publicly (no private DNS)" :
			    "does not resolve");
	fclose(sum);
	jset(s->evidence, "names", jnames);
	jset(s->evidence, "private_dns", private_dns);
	step_hint(s, hint);
	step_end(s, failures > 0 ? DIAG_FAIL : disagree ? DIAG_WARN :
	    DIAG_PASS, "%s", text);
	free(text);
	free(recs);
}

/* ------------------------------------------------------------------ */
/* Layers: tcp, tls, http                                              */
/* ------------------------------------------------------------------ */

/* The evidence of a handshake (http: a response) never started because
 * the run's ceiling had passed. */
static json_t *
late_json(const char *address, const char *name, bool http)
{
	json_t *o = json_object();

	jset(o, "address", jstr(address));
	if (!http)
		jset(o, "sni", is_ip_literal(name) ? json_null() : jstr(name));
	jset(o, "result", json_string("timeout"));
	jset(o, "duration_ms", json_integer(0));
	jset(o, "message", json_string(out_of_time));
	if (http) {
		static const char *const nulls[] = { "status", "status_line",
		    "server", "request_id", "content_type", "error_type" };

		for (size_t i = 0; i < nitems(nulls); i++)
			jset(o, nulls[i], json_null());
		jset(o, "answered_by", json_string("none"));
	}
	return o;
}

static void
layer_tcp(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_TCP);
	json_t *addrs = json_array();
	unsigned tmo = budget(d);
	size_t nallowed = 0, nok = 0, nfail = 0;
	char hint[600] = "", *text = NULL;
	size_t textlen = 0;
	FILE *sum;

	jset(s->evidence, "timeout_ms", json_integer(tmo));
	tcp_connect_all(t->probes, t->nprobes, tmo);
	if ((sum = open_memstream(&text, &textlen)) == NULL)
		abort();
	for (size_t i = 0; i < t->nprobes; i++) {
		const struct probe *p = &t->probes[i];
		json_t *o = json_object();
		uint16_t port = ntohs(p->ss.ss_family == AF_INET6 ?
		    ((const struct sockaddr_in6 *)(const void *)&p->ss)->
		    sin6_port : ((const struct sockaddr_in *)(const void *)
		    &p->ss)->sin_port);

		jset(o, "address", jstr(p->text));
		jset(o, "name", jstr(p->from));
		jset(o, "result", json_string(diag_tcp_result_name(p->tcp)));
		jset(o, "duration_ms", p->tcp == DIAG_TCP_NOT_CONTACTED ?
		    json_null() : json_integer(p->tcp_ms));
		jset(o, "message", jstr(p->tcp == DIAG_TCP_NOT_CONTACTED ?
		    "outside allowed_cidrs: no packet sent" : p->tcp_why[0] ?
		    p->tcp_why : NULL));
		json_array_append_new(addrs, o);
		if (p->tcp == DIAG_TCP_NOT_CONTACTED)
			continue;
		nallowed++;
		if (p->tcp == DIAG_TCP_CONNECTED) {
			nok++;
			fprintf(sum, "%s%s %u ms", nok + nfail > 1 ? ", " : "",
			    p->text, p->tcp_ms);
			continue;
		}
		fprintf(sum, "%s%s %s", nok + nfail++ > 0 ? ", " : "", p->text,
		    diag_tcp_result_name(p->tcp));
		if (hint[0] == '\0')
			diag_hint_tcp(hint, sizeof(hint), p->tcp, p->text, port,
			    tmo, p->tcp_why);
	}
	fclose(sum);
	jset(s->evidence, "addresses", addrs);
	step_hint(s, hint);
	if (nallowed == 0)
		step_end(s, DIAG_SKIP, "%s", t->nprobes == 0 ? "no address to "
		    "connect to (see dns)" : "no address inside allowed_cidrs "
		    "(see dns)");
	else if (tmo == 0)
		step_out_of_time(d, s);
	else
		step_end(s, nfail > 0 ? DIAG_FAIL : DIAG_PASS, "%zu/%zu "
		    "connected: %s", nok, nallowed, text);
	free(text);
}

static void
layer_tls(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_TLS);
	json_t *hs = json_array();
	size_t n = 0, nok = 0, nfail = 0, nwarn = 0, late = 0;
	const char *proto = NULL;
	char hint[900] = "", first[400] = "";

	jset(s->evidence, "name", jstr(t->name));
	jset(s->evidence, "ca_file", jstr(t->ca_file));
	if (t->service == SERVICE_DAX_CLUSTER && !t->dax_tls) {
		jset(s->evidence, "handshakes", hs);
		step_end(s, DIAG_SKIP, "plain dax:// (%s): the cluster is not "
		    "encrypted in transit, no TLS to check", t->ep != NULL ?
		    "upstream_tls: false" : "port 8111");
		return;
	}
	for (size_t i = 0; i < t->nprobes; i++) {
		struct probe *p = &t->probes[i];
		struct tls_result r;
		unsigned tmo;

		if (p->fd < 0 || t->ctx == NULL)
			continue;
		n++;
		if ((tmo = budget(d)) == 0) {
			json_array_append_new(hs, late_json(p->text, t->name,
			    false));
			late++;
			continue;
		}
		tls_run(t->ctx, p->fd, t->name, p->text, tmo, &r, &p->ssl);
		json_array_append_new(hs, r.ev);
		if (r.result == DIAG_TLS_OK || r.result == DIAG_TLS_EXPIRING) {
			nok++;
			if (proto == NULL)
				proto = SSL_get_version(p->ssl);
		}
		if (r.result == DIAG_TLS_OK)
			continue;
		if (r.result == DIAG_TLS_EXPIRING)
			nwarn++;
		else
			nfail++;
		if (hint[0] == '\0' || (r.result != DIAG_TLS_EXPIRING &&
		    nfail == 1)) {
			struct diag_tls_facts f;

			tls_facts(&r, p->text, t->name, t->ca_file, tmo, false,
			    &f);
			diag_hint_tls(hint, sizeof(hint), &f);
			snprintf(first, sizeof(first), "%s: %s%s", p->text,
			    r.result == DIAG_TLS_EXPIRING ? "expires in " :
			    r.reason, r.result == DIAG_TLS_EXPIRING ? "" :
			    r.name_match ||
			    r.result != DIAG_TLS_VERIFY_FAILED ||
			    r.v.code == X509_V_ERR_HOSTNAME_MISMATCH ? "" :
			    " (and the name does not match)");
			if (r.result == DIAG_TLS_EXPIRING)
				snprintf(first + strlen(first), sizeof(first) -
				    strlen(first), "%ld days", r.min_days);
		}
	}
	jset(s->evidence, "handshakes", hs);
	step_hint(s, hint);
	if (late > 0 && nfail == 0)
		step_out_of_time(d, s);
	else if (t->ctx == NULL)
		step_end(s, DIAG_SKIP, "ca_file did not load (see config)");
	else if (n == 0)
		step_end(s, DIAG_SKIP, "no connected address (see tcp)");
	else if (nfail > 0)
		step_end(s, DIAG_FAIL, "%zu/%zu verified for %s; %s", nok, n,
		    t->name, first);
	else
		step_end(s, nwarn ? DIAG_WARN : DIAG_PASS, "%zu/%zu verified "
		    "for %s (%s, against %s)%s%s", nok, n, t->name,
		    proto ? proto : "?", t->ca_file, nwarn ? "; " : "", first);
}

static void
layer_http(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_HTTP);
	json_t *rs = json_array(), *req = json_object();
	size_t n = 0, nok = 0, late = 0;
	char hint[700] = "", first[600] = "", what[200] = "";

	jset(req, "method", json_string("POST"));
	jset(req, "x_amz_target", json_string(svc_target(t->service)));
	jset(req, "content_type", json_string(svc_content_type(t->service)));
	jset(s->evidence, "request", req);
	for (size_t i = 0; i < t->nprobes; i++) {
		struct probe *p = &t->probes[i];
		struct io io = { .fd = p->fd, .ssl = p->ssl };
		struct http_result r;
		unsigned tmo;

		if (p->ssl == NULL)
			continue;
		n++;
		if ((tmo = budget(d)) == 0) {
			json_array_append_new(rs, late_json(p->text, NULL,
			    true));
			late++;
			continue;
		}
		http_run(&io, t, tmo, &r);
		json_array_append_new(rs, http_json(&r, p->text));
		if (r.result == DIAG_HTTP_AUTH_ERROR) {
			nok++;
			if (what[0] == '\0')
				snprintf(what, sizeof(what), "%d %s", r.status,
				    type_short(r.type));
			continue;
		}
		if (hint[0] != '\0')
			continue;
		diag_hint_http(hint, sizeof(hint), r.result, p->text,
		    svc_label(t->service), r.status_line[0] ? r.status_line :
		    NULL, r.server[0] ? r.server : NULL, tmo, false);
		snprintf(first, sizeof(first), "%s: %s%s%s", p->text,
		    r.result == DIAG_HTTP_OTHER ? r.status_line :
		    diag_http_result_name(r.result), r.type[0] ? " " : "",
		    r.type[0] ? type_short(r.type) : "");
	}
	jset(s->evidence, "responses", rs);
	step_hint(s, hint);
	if (late > 0 && nok + late == n)
		step_out_of_time(d, s);
	else if (n == 0)
		step_end(s, DIAG_SKIP, "no verified TLS session (see tls)");
	else if (nok < n)
		step_end(s, DIAG_FAIL, "%zu/%zu answered like %s; %s", nok, n,
		    svc_label(t->service), first);
	else
		step_end(s, DIAG_PASS, "%zu/%zu answered %s: %s answered", nok,
		    n, what, svc_label(t->service));
}

/* ------------------------------------------------------------------ */
/* Layer: a DAX cluster (the http slot): discovery, then every node     */
/* ------------------------------------------------------------------ */

#define DAX_ANSWER_MAX (1u << 20)	/* bytes of an endpoints answer */
#define DAX_ENDPOINTS_ID 455855874

enum dax_discovery {
	DAXD_OK,
	DAXD_ERROR,
	DAXD_AUTH,
	DAXD_TIMEOUT,
	DAXD_CLOSED,
	DAXD_MALFORMED,
};

static const char *const dax_discovery_names[] = { "ok", "error",
    "auth_required", "timeout", "closed", "malformed" };

/*
 * Sends the preamble and an `endpoints` request on io, as a DAX client
 * opens a connection, and reads the whole answer (framed by the
 * gateway's own response framer) into *out within timeout_ms. DAXD_OK
 * (the answer is still to be read), or a failure with why.
 */
static enum dax_discovery
dax_discover(struct io *io, unsigned timeout_ms, uint8_t **out,
    size_t *outlen, char *why, size_t whylen)
{
	const struct dax_method *m = dax_method_find(DAX_ENDPOINTS_ID);
	uint64_t deadline = monotonic_ms() + timeout_ms;
	struct dax_response_scan scan;
	uint8_t req[256], *buf = NULL;
	char ua[64], chunk[4096];
	size_t n, k, len = 0;
	int w;

	*out = NULL;
	*outlen = 0;
	snprintf(ua, sizeof(ua), "ddbgate-diag/%s", PACKAGE_VERSION);
	n = dax_preamble_encode(req, sizeof(req), ua);
	k = n > 0 ? dax_endpoints_request_encode(req + n, sizeof(req) - n) :
	    0;
	if (k == 0 || m == NULL) {
		snprintf(why, whylen, "internal: no endpoints request");
		return DAXD_MALFORMED;
	}
	if ((w = io_write(io, (const char *)req, n + k, deadline)) != 0) {
		snprintf(why, whylen, "%s", w == IO_TIMEOUT ? "the request "
		    "could not be sent in time" : "the connection closed "
		    "before the request was sent");
		return w == IO_TIMEOUT ? DAXD_TIMEOUT : DAXD_CLOSED;
	}
	dax_response_init(&scan, m, DAX_ANSWER_MAX);
	for (;;) {
		int r = io_read(io, chunk, sizeof(chunk), deadline);
		enum dax_status st;
		size_t used = 0;

		if (r == IO_TIMEOUT || r == 0 || r == IO_ERROR) {
			if (r == IO_TIMEOUT)
				snprintf(why, whylen, "no whole answer within "
				    "%u ms (%zu bytes read)", timeout_ms, len);
			else
				snprintf(why, whylen, "the connection closed "
				    "after %zu bytes of the answer", len);
			free(buf);
			return r == IO_TIMEOUT ? DAXD_TIMEOUT : DAXD_CLOSED;
		}
		st = dax_response_feed(&scan, (const uint8_t *)chunk,
		    (size_t)r, &used);
		buf = xreallocarray(buf, len + used + 1, 1);
		memcpy(buf + len, chunk, used);
		len += used;
		if (st == DAX_ERROR) {
			snprintf(why, whylen, "%s", scan.err);
			free(buf);
			return DAXD_MALFORMED;
		}
		if (st == DAX_FRAME)
			break;
	}
	*out = buf;
	*outlen = len;
	return DAXD_OK;
}

static json_t *
dax_node_json(const struct diag_dax_node *nd)
{
	json_t *o = json_object();

	jset(o, "node_id", nd->has_id ? json_integer(nd->node_id) :
	    json_null());
	jset(o, "hostname", jstr(nd->hostname[0] ? nd->hostname : NULL));
	jset(o, "address", jstr(nd->address));
	jset(o, "port", json_integer(nd->port));
	jset(o, "role", jstr(diag_dax_role_name(nd->role)));
	jset(o, "availability_zone", jstr(nd->zone[0] ? nd->zone : NULL));
	return o;
}

/* "[4, 23, 24]" (the first codes kept; "..." when there were more). */
static void
dax_codes_text(const struct diag_dax_answer *a, char *out, size_t len)
{
	size_t used = 0;

	used += (size_t)snprintf(out, len, "[");
	for (size_t i = 0; i < a->ncodes && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%lld",
		    i ? ", " : "", (long long)a->codes[i]);
	if (used < len)
		snprintf(out + used, len - used, "%s]", a->codes_total >
		    a->ncodes ? ", ..." : "");
}

/* The nodes of a discovery answer, as probes (the port set). */
static size_t
dax_probes(const struct target *t, const struct diag_dax_answer *a,
    struct probe *ps)
{
	for (size_t i = 0; i < a->nnodes; i++) {
		const struct diag_dax_node *nd = &a->nodes[i];
		struct probe *p = &ps[i];

		memset(p, 0, sizeof(*p));
		if (nd->addrlen == 4) {
			struct sockaddr_in *sin =
			    (struct sockaddr_in *)(void *)&p->ss;

			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, nd->addr, 4);
		} else {
			struct sockaddr_in6 *sin6 =
			    (struct sockaddr_in6 *)(void *)&p->ss;

			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, nd->addr, 16);
		}
		ss_set_port(&p->ss, nd->port);
		p->fd = -1;
		p->from = "discovery";
		p->allowed = cidr_list_contains(t->allowed, t->nallowed,
		    (const struct sockaddr *)&p->ss);
		sockaddr_format((const struct sockaddr *)&p->ss, p->text,
		    sizeof(p->text));
	}
	return a->nnodes;
}

/* "10.0.0.0/8, 172.16.0.0/12" */
static void
cidrs_text(const struct cidr *c, size_t n, char *out, size_t len)
{
	size_t used = 0;
	char buf[64];

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    i ? ", " : "", cidr_format(&c[i], buf, sizeof(buf)));
}

struct dax_tally {
	size_t nok, nfail, nwarn;
	char first[400];	/* the first broken node and its step */
	char warn[200];		/* the first expiring certificate */
	char hint[900];
	char warn_hint[900];
};

/* Connects to every node, and for daxs verifies each against the
 * cluster name, as the DAX clients do; the evidence goes to checks. */
static void
dax_check_nodes(struct diag_run *d, struct target *t,
    const struct diag_dax_answer *a, json_t *checks, struct dax_tally *y)
{
	struct probe ps[DIAG_DAX_MAX_NODES];
	size_t n = dax_probes(t, a, ps);
	unsigned tmo = budget(d);
	char cidrs[400];

	cidrs_text(t->allowed, t->nallowed, cidrs, sizeof(cidrs));
	tcp_connect_all(ps, n, tmo);
	for (size_t i = 0; i < n; i++) {
		struct probe *p = &ps[i];
		json_t *o = json_object(), *hs = json_null();
		const char *result = "ok";
		char reason[400] = "", hint[900] = "";
		bool warn = false;

		jset(o, "address", jstr(p->text));
		jset(o, "role", jstr(diag_dax_role_name(a->nodes[i].role)));
		jset(o, "allowed", json_boolean(p->allowed));
		jset(o, "tcp", json_string(diag_tcp_result_name(p->tcp)));
		jset(o, "tcp_ms", p->tcp == DIAG_TCP_NOT_CONTACTED ?
		    json_null() : json_integer(p->tcp_ms));
		if (!p->allowed) {
			result = "not_contacted";
			snprintf(reason, sizeof(reason), "outside "
			    "allowed_cidrs, not contacted");
			diag_hint_dax(hint, sizeof(hint), DIAG_DAX_OUTSIDE,
			    NULL, p->text, t->name, t->ep ? t->ep->name : NULL,
			    cidrs, tmo, t->dax_tls);
		} else if (p->tcp != DIAG_TCP_CONNECTED) {
			result = "fail";
			snprintf(reason, sizeof(reason), "TCP %s%s%s%s",
			    diag_tcp_result_name(p->tcp), p->tcp_why[0] ?
			    " (" : "", p->tcp_why, p->tcp_why[0] ? ")" : "");
			diag_hint_tcp(hint, sizeof(hint), p->tcp, p->text,
			    a->nodes[i].port, tmo, p->tcp_why);
		} else if (t->dax_tls) {
			struct tls_result r;
			struct diag_tls_facts f;
			SSL *ssl = NULL;
			unsigned ttmo = budget(d);

			if (ttmo == 0) {
				hs = late_json(p->text, t->name, false);
				result = "fail";
				snprintf(reason, sizeof(reason), "TLS %s",
				    out_of_time);
			} else {
				tls_run(t->ctx, p->fd, t->name, p->text, ttmo,
				    &r, &ssl);
				hs = r.ev;
				SSL_free(ssl);
				tls_facts(&r, p->text, t->name, t->ca_file,
				    ttmo, false, &f);
				if (r.result == DIAG_TLS_EXPIRING) {
					warn = true;
					result = "expiring";
					snprintf(reason, sizeof(reason), "a "
					    "certificate expires in %ld days",
					    r.min_days);
				} else if (r.result != DIAG_TLS_OK) {
					result = "fail";
					snprintf(reason, sizeof(reason),
					    "TLS %s: %s", r.result ==
					    DIAG_TLS_VERIFY_FAILED ?
					    "certificate verification failed" :
					    r.result == DIAG_TLS_TIMEOUT ?
					    "timeout" : "handshake failed",
					    r.reason);
				}
				if (r.result != DIAG_TLS_OK)
					diag_hint_dax_node_tls(hint,
					    sizeof(hint), &f);
			}
		}
		jset(o, "tls", !t->dax_tls || json_is_null(hs) ? json_null() :
		    json_string(json_string_value(json_object_get(hs,
		    "result"))));
		jset(o, "handshake", hs);
		jset(o, "result", json_string(result));
		jset(o, "reason", jstr(reason[0] ? reason : NULL));
		json_array_append_new(checks, o);
		if (p->fd >= 0)
			close(p->fd);
		if (strcmp(result, "ok") == 0 || warn) {
			y->nok++;
			if (warn && y->nwarn++ == 0) {
				snprintf(y->warn, sizeof(y->warn), "node %s: "
				    "%s", p->text, reason);
				snprintf(y->warn_hint, sizeof(y->warn_hint),
				    "%s", hint);
			}
			continue;
		}
		if (y->nfail++ == 0) {
			snprintf(y->first, sizeof(y->first), "node %s: %s",
			    p->text, reason);
			snprintf(y->hint, sizeof(y->hint), "%s", hint);
		}
	}
}

static void
layer_dax(struct diag_run *d, struct target *t)
{
	struct diag_step *s = step_begin(t->out, DIAG_HTTP);
	json_t *dx = json_object(), *disc, *nodes = json_array();
	json_t *checks = json_array();
	struct probe *seed = NULL;
	struct diag_dax_answer *a;
	struct dax_tally y = { 0 };
	struct io io;
	enum dax_discovery res;
	uint8_t *ans = NULL;
	size_t anslen = 0;
	char why[300] = "", hint[900] = "", ua[64], codes[120], list[900];
	const char *via = t->dax_tls ? "TLS" : "plain dax://";
	uint64_t start;
	unsigned tmo;

	snprintf(ua, sizeof(ua), "ddbgate-diag/%s", PACKAGE_VERSION);
	jset(s->evidence, "dax", dx);
	jset(dx, "name", jstr(t->name));
	jset(dx, "transport", json_string(t->dax_tls ? "tls" : "plain"));
	jset(dx, "user_agent", jstr(ua));
	for (size_t i = 0; i < t->nprobes && seed == NULL; i++)
		if (t->dax_tls ? t->probes[i].ssl != NULL :
		    t->probes[i].fd >= 0)
			seed = &t->probes[i];
	jset(dx, "seed", seed ? jstr(seed->text) : json_null());
	jset(dx, "discovery", json_null());
	jset(dx, "nodes", nodes);
	jset(dx, "nodes_listed", json_null());
	jset(dx, "checks", checks);
	if (seed == NULL) {
		step_end(s, DIAG_SKIP, "%s", !t->dax_tls ? "no connected "
		    "address (see tcp)" : t->ctx == NULL ? "ca_file did not "
		    "load (see config)" : "no verified TLS session (see tls)");
		return;
	}
	if ((tmo = budget(d)) == 0) {
		step_out_of_time(d, s);
		return;
	}
	io = (struct io){ .fd = seed->fd, .ssl = seed->ssl };
	start = monotonic_ms();
	res = dax_discover(&io, tmo, &ans, &anslen, why, sizeof(why));
	a = xcalloc(1, sizeof(*a));
	if (res == DAXD_OK) {
		diag_dax_answer_read(ans, anslen, a);
		if (a->kind == DIAG_DAX_ANSWER_MALFORMED) {
			res = DAXD_MALFORMED;
			snprintf(why, sizeof(why), "%s", a->err);
		} else if (a->kind == DIAG_DAX_ANSWER_ERROR) {
			res = diag_dax_is_auth_error(a->codes, a->ncodes) ?
			    DAXD_AUTH : DAXD_ERROR;
		}
	}
	free(ans);
	disc = json_object();
	jset(disc, "result", json_string(dax_discovery_names[res]));
	jset(disc, "duration_ms", json_integer(ms_since(start)));
	codes[0] = '\0';
	if (res == DAXD_ERROR || res == DAXD_AUTH) {
		json_t *cp = json_array();

		for (size_t i = 0; i < a->ncodes; i++)
			json_array_append_new(cp, json_integer(a->codes[i]));
		jset(disc, "code_path", cp);
		jset(disc, "message", jstr(a->message[0] ? a->message : NULL));
		jset(disc, "error_code", jstr(a->error_code[0] ?
		    a->error_code : NULL));
		dax_codes_text(a, codes, sizeof(codes));
	} else {
		jset(disc, "code_path", json_null());
		jset(disc, "message", jstr(why[0] ? why : NULL));
		jset(disc, "error_code", json_null());
	}
	jset(dx, "discovery", disc);

	switch (res) {
	case DAXD_OK:
		break;
	case DAXD_AUTH:
		diag_hint_dax(hint, sizeof(hint), DIAG_DAX_AUTH, seed->text,
		    NULL, t->name, NULL, NULL, tmo, t->dax_tls);
		step_hint(s, hint);
		step_end(s, DIAG_WARN, "DAX endpoints on %s (%s): the node "
		    "wants authorizeConnection before endpoints; diag holds no "
		    "credentials (%s%s%s)", seed->text, via, codes,
		    a->message[0] ? " " : "", a->message);
		free(a);
		return;
	case DAXD_ERROR: {
		char detail[500];

		snprintf(detail, sizeof(detail), "%s%s%s%s%s", codes,
		    a->error_code[0] ? " " : "", a->error_code,
		    a->message[0] ? ": " : "", a->message);
		diag_hint_dax(hint, sizeof(hint), DIAG_DAX_ERROR, seed->text,
		    NULL, t->name, NULL, detail, tmo, t->dax_tls);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "DAX endpoints on %s (%s): error %s",
		    seed->text, via, detail);
		free(a);
		return;
	}
	case DAXD_TIMEOUT:
	case DAXD_CLOSED:
	case DAXD_MALFORMED:
		diag_hint_dax(hint, sizeof(hint), res == DAXD_TIMEOUT ?
		    DIAG_DAX_TIMEOUT : res == DAXD_CLOSED ? DIAG_DAX_CLOSED :
		    DIAG_DAX_MALFORMED, seed->text, NULL, t->name, NULL, why,
		    tmo, t->dax_tls);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "DAX endpoints on %s (%s): %s%s",
		    seed->text, via, res == DAXD_MALFORMED ? "not a DAX "
		    "answer: " : "", why);
		free(a);
		return;
	}

	for (size_t i = 0; i < a->nnodes; i++)
		json_array_append_new(nodes, dax_node_json(&a->nodes[i]));
	jset(dx, "nodes_listed", json_integer((json_int_t)a->listed));
	if (a->listed == 0) {
		diag_hint_dax(hint, sizeof(hint), DIAG_DAX_NO_NODES,
		    seed->text, NULL, t->name, NULL, NULL, tmo, t->dax_tls);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "DAX endpoints on %s (%s): an answer "
		    "without a node", seed->text, via);
		free(a);
		return;
	}
	dax_check_nodes(d, t, a, checks, &y);
	list[0] = '\0';
	for (size_t i = 0, used = 0; i < a->nnodes && used < sizeof(list);
	    i++) {
		const char *role = diag_dax_role_name(a->nodes[i].role);
		const json_t *c = json_array_get(checks, i);

		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s%s%s", i ? ", " : "", json_string_value(
		    json_object_get(c, "address")), role ? " " : "",
		    role ? role : "");
	}
	if (y.nfail > 0) {
		step_hint(s, y.hint);
		step_end(s, DIAG_FAIL, "DAX endpoints on %s (%s): %zu node%s; "
		    "%zu/%zu reachable%s; %s", seed->text, via, a->listed,
		    a->listed == 1 ? "" : "s", y.nok, a->nnodes, t->dax_tls ?
		    " and verified" : "", y.first);
	} else {
		char more[120] = "";

		if (a->listed > a->nnodes) {
			snprintf(more, sizeof(more), "; only the first %zu "
			    "checked", a->nnodes);
			diag_hint_dax(hint, sizeof(hint), DIAG_DAX_TOO_MANY,
			    seed->text, NULL, t->name, NULL, NULL, tmo,
			    t->dax_tls);
		}
		step_hint(s, y.nwarn ? y.warn_hint : hint);
		step_end(s, y.nwarn || more[0] ? DIAG_WARN : DIAG_PASS, "DAX "
		    "endpoints on %s (%s): %zu node%s; %zu/%zu reachable%s%s: "
		    "%s%s%s%s", seed->text, via, a->listed, a->listed == 1 ?
		    "" : "s", y.nok, a->nnodes, t->dax_tls ? " and verified "
		    "for " : "", t->dax_tls ? t->name : "", list, more,
		    y.nwarn ? "; " : "", y.warn);
	}
	free(a);
}

/* ------------------------------------------------------------------ */
/* Layer: policy                                                       */
/* ------------------------------------------------------------------ */

static const struct conf_principal *
principal_of(const struct config *cfg, const char *akid)
{
	for (size_t i = 0; i < cfg->nprincipals; i++)
		if (strcmp(cfg->principals[i].access_key_id, akid) == 0)
			return &cfg->principals[i];
	return NULL;
}

/* The account field of an ARN ("arn:aws:iam::ACCOUNT:..."), or "". */
static void
arn_account(const char *arn, char *out, size_t len)
{
	const char *p = arn;

	out[0] = '\0';
	for (int field = 0; field < 4 && p != NULL; field++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p != NULL && strchr(p, ':') != NULL)
		copy_clean(out, len, p, (size_t)(strchr(p, ':') - p));
}

static void
layer_policy(struct diag_run *d, struct target *t)
{
	const struct diag_opts *o = d->o;
	struct diag_step *s = step_begin(t->out, DIAG_POLICY);
	const struct conf_principal *pr = principal_of(d->cfg,
	    o->access_key_id);
	const char *arn[1], *acct[1], *uid[1], *vpce[1], *tls[1] = { "true" };
	const char *region[1] = { d->cfg->region };
	struct policy_key keys[6];
	struct policy_request req = { .principal = pr ? pr->arn : NULL,
	    .action = o->action, .resource = o->resource, .keys = keys };
	struct policy_result res;
	json_t *ctx = json_object();
	char account[16], hint[600], stmt[200];
	const char *who;

	jset(s->evidence, "policy", jstr(t->ep ? t->ep->policy : NULL));
	jset(s->evidence, "access_key_id", jstr(o->access_key_id));
	jset(s->evidence, "principal", jstr(req.principal));
	jset(s->evidence, "action", jstr(o->action));
	jset(s->evidence, "resource", jstr(o->resource));
	if (t->ep == NULL || t->policy == NULL) {
		jset(s->evidence, "decision", json_null());
		jset(s->evidence, "statement", json_null());
		jset(s->evidence, "sid", json_null());
		jset(s->evidence, "context", ctx);
		step_end(s, DIAG_SKIP, "%s", t->ep == NULL ? "a HOST[:PORT] "
		    "target has no endpoint policy" : "the policy did not load "
		    "(see config)");
		return;
	}
	keys[req.nkeys++] = (struct policy_key){ "aws:SecureTransport", tls,
	    1 };
	keys[req.nkeys++] = (struct policy_key){ "aws:RequestedRegion", region,
	    1 };
	if (t->ep->source_vpce != NULL) {
		vpce[0] = t->ep->source_vpce;
		keys[req.nkeys++] = (struct policy_key){ "aws:SourceVpce", vpce,
		    1 };
	}
	if (pr != NULL) {
		arn[0] = pr->arn;
		keys[req.nkeys++] = (struct policy_key){ "aws:PrincipalArn",
		    arn, 1 };
		arn_account(pr->arn, account, sizeof(account));
		acct[0] = account;
		if (account[0] != '\0')
			keys[req.nkeys++] = (struct policy_key){
			    "aws:PrincipalAccount", acct, 1 };
		uid[0] = pr->userid;
		if (pr->userid != NULL)
			keys[req.nkeys++] = (struct policy_key){ "aws:userid",
			    uid, 1 };
	}
	for (size_t i = 0; i < req.nkeys; i++)
		jset(ctx, keys[i].name, jstr(keys[i].values[0]));
	policy_evaluate(t->policy, &req, &res);
	jset(s->evidence, "decision", json_string(policy_decision_name(
	    res.decision)));
	jset(s->evidence, "statement", res.statement >= 0 ?
	    json_integer(res.statement) : json_null());
	jset(s->evidence, "sid", jstr(res.sid));
	jset(s->evidence, "context", ctx);
	who = pr ? pr->arn : "an unmapped key";
	if (res.statement >= 0)
		snprintf(stmt, sizeof(stmt), "statement %s (#%d)",
		    res.sid ? res.sid : "(no Sid)", res.statement);
	else
		snprintf(stmt, sizeof(stmt), "no statement matched");
	if (res.decision == POLICY_ALLOW) {
		step_end(s, DIAG_PASS, "allow %s on %s for %s: %s", o->action,
		    o->resource, who, t->ep->policy ? stmt :
		    "no policy (allow all)");
		return;
	}
	if (res.decision == POLICY_DENY_EXPLICIT)
		snprintf(hint, sizeof(hint), "statement %s (#%d) of %s denies "
		    "%s on %s: change that Deny, or use another action or "
		    "resource", res.sid ? res.sid : "(no Sid)", res.statement,
		    t->ep->policy, o->action, o->resource);
	else
		snprintf(hint, sizeof(hint), "no statement of %s allows %s on "
		    "%s for %s: add an Allow, or map the access key id to its "
		    "principal in principals", t->ep->policy, o->action,
		    o->resource, pr ? pr->arn : "an unmapped key (it matches "
		    "only Principal \"*\")");
	step_hint(s, hint);
	step_end(s, DIAG_FAIL, "%s %s on %s for %s: %s",
	    policy_decision_name(res.decision), o->action, o->resource, who,
	    stmt);
}

/* ------------------------------------------------------------------ */
/* Layer: via (CONNECT through a gateway)                              */
/* ------------------------------------------------------------------ */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out (at least n + 1 bytes). */
static void
pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 +
			    hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* Parses http://[USER:PASSWORD@]HOST[:PORT][/]; the label drops the
 * credentials. Returns 0, or -1 with why. */
static int
via_parse(const char *url, struct via_proxy *v, const char **why)
{
	const char *p = url + 7, *slash, *at;
	char auth[300], plain[300], hostpart[300];
	char *host = NULL;
	size_t n;

	if (strncasecmp(url, "http://", 7) != 0) {
		*why = "the proxy URL must start with http://";
		return -1;
	}
	n = (slash = strchr(p, '/')) != NULL ? (size_t)(slash - p) : strlen(p);
	if ((slash != NULL && strcmp(slash, "/") != 0) || n == 0 ||
	    n >= sizeof(auth)) {
		*why = "the proxy URL must be "
		    "http://[USER:PASSWORD@]HOST[:PORT]";
		return -1;
	}
	memcpy(auth, p, n);
	auth[n] = '\0';
	if ((at = strrchr(auth, '@')) != NULL) {
		unsigned char b64[sizeof(v->auth)];

		pct_decode(auth, (size_t)(at - auth), plain);
		if (strchr(plain, ':') == NULL) {
			*why = "the proxy URL's credentials must be "
			    "USER:PASSWORD";
			return -1;
		}
		EVP_EncodeBlock(b64, (const unsigned char *)plain,
		    (int)strlen(plain));
		snprintf(v->auth, sizeof(v->auth), "%s", (char *)b64);
		explicit_bzero(plain, sizeof(plain));
	}
	snprintf(hostpart, sizeof(hostpart), "%s", at ? at + 1 : auth);
	if (hostport_parse(hostpart, DEFAULT_PROXY_PORT, &host, &v->port,
	    why) != 0)
		return -1;
	snprintf(v->host, sizeof(v->host), "%s", host);
	snprintf(v->label, sizeof(v->label), strchr(host, ':') ?
	    "http://[%s]:%u" : "http://%s:%u", host, v->port);
	free(host);
	explicit_bzero(auth, sizeof(auth));
	return 0;
}

/* The proxy's address (the system's resolver for a name) and the local
 * trust bundle, once per run. */
static void
via_prepare(struct diag_run *d)
{
	struct via_proxy *v = &d->via;
	const char *env = getenv("AWS_CA_BUNDLE");
	socklen_t len;
	const char *why;
	int ncerts;

	v->bundle = d->o->ca_bundle ? d->o->ca_bundle : env && env[0] ? env :
	    SYSTEM_BUNDLE;
	v->ctx = tls_ctx_new(v->bundle, &ncerts, v->ctx_err,
	    sizeof(v->ctx_err));
	if (is_ip_literal(v->host)) {
		v->resolved = sockaddr_parse(v->host, v->port, &v->ss, &len,
		    &why) == 0;
		if (!v->resolved)
			snprintf(v->why, sizeof(v->why), "%s", why);
	} else {
		struct dns_src src = { .kind = SRC_SYSTEM };
		const char *name = v->host;
		struct dns_rec *rec = xcalloc(1, sizeof(*rec));

		dns_ask(&src, 1, &name, 1, budget(d), rec);
		if (rec->naddrs > 0) {
			v->ss = rec->addrs[0].ss;
			ss_set_port(&v->ss, v->port);
			v->resolved = true;
		} else {
			snprintf(v->why, sizeof(v->why),
			    "cannot resolve %s: %s", v->host, rec->message);
		}
		free(rec);
	}
}

static void
via_connect_json(json_t *conn, const char *result, const struct answer *a,
    unsigned ms, const char *type, const char *msg)
{
	char sl[160] = "";

	if (a != NULL && a->have_head)
		answer_status_line(a, sl, sizeof(sl));
	jset(conn, "result", json_string(result));
	jset(conn, "duration_ms", json_integer(ms));
	jset(conn, "status", a && a->have_head ?
	    json_integer(a->head.status) : json_null());
	jset(conn, "status_line", jstr(sl[0] ? sl : NULL));
	jset(conn, "error_type", jstr(type && type[0] ? type : NULL));
	jset(conn, "message", jstr(msg && msg[0] ? msg : NULL));
}

/* CONNECT, the gateway's answer; returns the connected socket after a
 * 2xx, else -1 with the step ended. */
static int
via_tunnel(struct diag_run *d, struct target *t, struct diag_step *s,
    const char *target, json_t *conn)
{
	struct via_proxy *v = &d->via;
	struct probe p = { .ss = v->ss, .allowed = true };
	struct answer a = { 0 };
	char req[1200], hint[1400], type[160] = "", msg[256] = "", why[256];
	uint64_t start;
	struct io io;
	unsigned tmo = budget(d);
	int n;

	sockaddr_format((struct sockaddr *)&p.ss, p.text, sizeof(p.text));
	jset(s->evidence, "proxy_address", jstr(p.text));
	tcp_connect_all(&p, 1, tmo);
	if (p.tcp != DIAG_TCP_CONNECTED) {
		snprintf(why, sizeof(why), "TCP connect to %s: %s", p.text,
		    p.tcp_why);
		via_connect_json(conn, "tcp_failed", NULL, p.tcp_ms, NULL, why);
		diag_hint_connect(hint, sizeof(hint), 0, v->label, target, NULL,
		    why);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "cannot connect to the gateway at "
		    "%s: %s", p.text, diag_tcp_result_name(p.tcp));
		return -1;
	}
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "%s%s%sUser-Agent: ddbgate-diag/%s\r\n\r\n", target, target,
	    v->auth[0] ? "Proxy-Authorization: Basic " : "", v->auth,
	    v->auth[0] ? "\r\n" : "", PACKAGE_VERSION);
	io = (struct io){ .fd = p.fd };
	start = monotonic_ms();
	tmo = budget(d);
	if (n > 0 && (size_t)n < sizeof(req) &&
	    io_write(&io, req, (size_t)n, start + tmo) == 0)
		answer_read(&io, start + tmo, true, &a);
	else
		a.end = ANS_ERROR;
	explicit_bzero(req, sizeof(req));
	if (a.have_head) {
		const char *body = a.buf + a.skip + a.head.head_len;
		size_t blen = a.len - a.skip - a.head.head_len;

		json_field(body, blen, "__type", type, sizeof(type));
		json_field(body, blen, "message", msg, sizeof(msg));
	}
	if (a.have_head && a.head.status / 100 == 2) {
		via_connect_json(conn, "established", &a, ms_since(start), NULL,
		    NULL);
		answer_free(&a);
		return p.fd;
	}
	snprintf(why, sizeof(why), "%s", a.end == ANS_TIMEOUT ?
	    "no answer in time" : a.end == ANS_MALFORMED ? "not an HTTP "
	    "answer" : "the connection closed without an answer");
	via_connect_json(conn, a.have_head ? "refused" : "no_answer", &a,
	    ms_since(start), type, a.have_head ? msg : why);
	diag_hint_connect(hint, sizeof(hint), a.have_head ? a.head.status : 0,
	    v->label, target, msg, why);
	step_hint(s, hint);
	if (a.have_head) {
		char sl[160];

		answer_status_line(&a, sl, sizeof(sl));
		step_end(s, DIAG_FAIL, "CONNECT %s: %s%s%s", target, sl,
		    type[0] ? " " : "", type[0] ? type : "");
	} else {
		step_end(s, DIAG_FAIL, "CONNECT %s: %s", target, why);
	}
	answer_free(&a);
	close(p.fd);
	return -1;
}

static void
layer_via(struct diag_run *d, struct target *t)
{
	struct via_proxy *v = &d->via;
	struct diag_step *s = step_begin(t->out, DIAG_VIA);
	json_t *conn = json_object();
	struct tls_result tr;
	struct http_result hr;
	struct diag_tls_facts f;
	char target[DNS_NAME_MAX + 16], hint[1400] = "";
	SSL *ssl = NULL;
	unsigned tmo;
	int fd;

	snprintf(target, sizeof(target), strchr(t->name, ':') ? "[%s]:%u" :
	    "%s:%u", t->name, t->port);
	jset(s->evidence, "proxy", jstr(v->label));
	jset(s->evidence, "target", jstr(target));
	jset(s->evidence, "ca_bundle", jstr(v->bundle));
	jset(s->evidence, "connect", conn);
	jset(s->evidence, "tls", json_null());
	jset(s->evidence, "gateway_ca_trusted", json_null());
	jset(s->evidence, "http", json_null());
	if (budget(d) == 0) {
		step_out_of_time(d, s);
		return;
	}
	if (!v->resolved) {
		via_connect_json(conn, "unresolved", NULL, 0, NULL, v->why);
		diag_hint_connect(hint, sizeof(hint), 0, v->label, target, NULL,
		    v->why);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "%s", v->why);
		return;
	}
	if ((fd = via_tunnel(d, t, s, target, conn)) < 0)
		return;
	if (v->ctx == NULL) {
		snprintf(hint, sizeof(hint), "the local trust bundle does not "
		    "load (%s): name a PEM bundle with --ca-bundle or "
		    "AWS_CA_BUNDLE", v->ctx_err);
		step_hint(s, hint);
		step_end(s, DIAG_FAIL, "CONNECT %s: 200; %s", target,
		    v->ctx_err);
		close(fd);
		return;
	}
	tmo = budget(d);
	tls_run(v->ctx, fd, t->name, v->label, tmo, &tr, &ssl);
	jset(s->evidence, "tls", tr.ev);
	if (tr.result != DIAG_TLS_HANDSHAKE_FAILED &&
	    tr.result != DIAG_TLS_TIMEOUT)
		jset(s->evidence, "gateway_ca_trusted", json_boolean(
		    !unknown_issuer(tr.v.code) &&
		    tr.v.code != X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
	tls_facts(&tr, v->label, t->name, v->bundle, tmo, true, &f);
	diag_hint_tls(hint, sizeof(hint), &f);
	step_hint(s, hint);
	if (ssl == NULL) {
		step_end(s, DIAG_FAIL, "CONNECT %s: 200; TLS through the "
		    "tunnel: %s", target, tr.reason);
		close(fd);
		return;
	}
	if (t->service == SERVICE_DAX_CLUSTER) {
		step_end(s, tr.result == DIAG_TLS_EXPIRING ? DIAG_WARN :
		    DIAG_PASS, "CONNECT %s: 200; TLS verified against %s",
		    target, v->bundle);
	} else {
		struct io io = { .fd = fd, .ssl = ssl };

		http_run(&io, t, budget(d), &hr);
		jset(s->evidence, "http", http_json(&hr, v->label));
		if (hr.result != DIAG_HTTP_AUTH_ERROR) {
			diag_hint_http(hint, sizeof(hint), hr.result, v->label,
			    svc_label(t->service), hr.status_line[0] ?
			    hr.status_line : NULL, hr.server[0] ? hr.server :
			    NULL, tmo, true);
			free(s->hint);
			s->hint = xstrdup(hint);
			step_end(s, DIAG_FAIL, "CONNECT %s: 200; TLS verified; "
			    "answered %s", target, hr.status_line[0] ?
			    hr.status_line : diag_http_result_name(hr.result));
		} else {
			step_end(s, tr.result == DIAG_TLS_EXPIRING ? DIAG_WARN :
			    DIAG_PASS, "CONNECT %s: 200; TLS verified against "
			    "%s; answered %d %s (by the %s)", target, v->bundle,
			    hr.status, type_short(hr.type), hr.by_gateway ?
			    "gateway: it refuses unsigned requests itself" :
			    "upstream");
		}
	}
	SSL_free(ssl);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */
/* ------------------------------------------------------------------ */

static bool
service_parse(const char *s, enum endpoint_service *out)
{
	for (int i = SERVICE_DYNAMODB; i <= SERVICE_DAX_CLUSTER; i++)
		if (strcmp(s, config_service_name((enum endpoint_service)i)) ==
		    0) {
			*out = (enum endpoint_service)i;
			return true;
		}
	return false;
}

/* The API of an arbitrary name, from the AWS naming patterns. */
static enum endpoint_service
service_guess(const char *name)
{
	if (strstr(name, ".dax-clusters.") != NULL)
		return SERVICE_DAX_CLUSTER;
	if (strncmp(name, "dax.", 4) == 0 || strstr(name, ".dax.") != NULL)
		return SERVICE_DAX;
	if (strncmp(name, "streams.dynamodb.", 17) == 0 ||
	    strstr(name, ".streams.dynamodb.") != NULL ||
	    strstr(name, "streams.dynamodb.") != NULL)
		return SERVICE_STREAMS;
	return SERVICE_DYNAMODB;
}

/*
 * A target. A dax-cluster is asked for on its cluster port unless one was
 * given (9111, or 8111 for an endpoint with upstream_tls: false), and
 * routed there without upstream entries, as the gateway routes it; a
 * HOST[:PORT] cluster target is daxs unless its port is 8111.
 */
static void
target_init(struct diag_run *d, struct target *t, struct diag_target *out,
    const struct conf_endpoint *ep, const char *name, uint16_t port,
    bool port_given)
{
	const struct diag_opts *o = d->o;

	memset(t, 0, sizeof(*t));
	t->out = out;
	t->ep = ep;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->port = port;
	if (ep != NULL) {
		t->service = ep->service;
		t->ca_file = ep->ca_file;
		t->allowed = ep->allowed_cidrs;
		t->nallowed = ep->nallowed_cidrs;
		for (size_t i = 0; i < ep->nupstreams && i < MAX_ROUTES; i++)
			t->routes[t->nroutes++] = ep->upstreams[i];
	} else {
		if (o->service == NULL || !service_parse(o->service,
		    &t->service))
			t->service = service_guess(name);
		t->ca_file = o->ca_file ? o->ca_file : SYSTEM_BUNDLE;
		t->allowed = o->nallow ? o->allow : d->private_cidrs;
		t->nallowed = o->nallow ? o->nallow : nitems(d->private_cidrs);
	}
	if (t->service == SERVICE_DAX_CLUSTER) {
		t->dax_tls = ep != NULL ? ep->upstream_tls : !port_given ||
		    port != 8111;
		if (!port_given)
			port = t->port = t->dax_tls ? 9111 : 8111;
	}
	if (t->nroutes == 0)
		t->routes[t->nroutes++] = (struct conf_upstream){
		    .host = t->name, .port = t->service ==
		    SERVICE_DAX_CLUSTER && ep != NULL ? (t->dax_tls ? 9111 :
		    8111) : port, .literal = is_ip_literal(t->name) };
	out->endpoint = ep ? xstrdup(ep->name) : NULL;
	out->service = xstrdup(config_service_name(t->service));
	out->name = xstrdup(t->name);
	out->port = port;
}

/* One target per endpoint, or the one asked for. Returns how many, or
 * 0 with a usage error in err. */
static size_t
targets_make(struct diag_run *d, struct target **out, char *err,
    size_t errlen)
{
	const struct config *cfg = d->cfg;
	const char *arg = d->o->target, *why;
	const struct conf_endpoint *ep = NULL;
	struct diag_report *r = &d->report;
	struct target *t;
	char *host = NULL;
	uint16_t port = 443;
	bool port_given = false;

	if (arg == NULL) {
		if (cfg->nendpoints == 0) {
			snprintf(err, errlen, "%s has no endpoints", cfg->path);
			return 0;
		}
		t = xcalloc(cfg->nendpoints, sizeof(*t));
		r->targets = xcalloc(cfg->nendpoints, sizeof(*r->targets));
		for (size_t i = 0; i < cfg->nendpoints; i++)
			target_init(d, &t[i], &r->targets[i],
			    &cfg->endpoints[i], cfg->endpoints[i].hosts[0],
			    443, false);
		r->ntargets = cfg->nendpoints;
		*out = t;
		return r->ntargets;
	}
	for (size_t i = 0; i < cfg->nendpoints && ep == NULL; i++)
		if (strcmp(cfg->endpoints[i].name, arg) == 0)
			ep = &cfg->endpoints[i];
	if (ep == NULL) {
		/* without a port of its own, 443 (a DAX cluster: its port) */
		port_given = hostport_parse(arg, 0, &host, &port, &why) == 0;
		if ((!port_given && hostport_parse(arg, 443, &host, &port,
		    &why) != 0) ||
		    (strchr(host, '.') == NULL && !is_ip_literal(host))) {
			size_t used = (size_t)snprintf(err, errlen, "%s is "
			    "no endpoint of %s and no HOST[:PORT] (endpoints:",
			    arg, cfg->path);

			for (size_t i = 0; i < cfg->nendpoints && used < errlen;
			    i++)
				used += (size_t)snprintf(err + used,
				    errlen - used, " %s",
				    cfg->endpoints[i].name);
			if (used < errlen)
				snprintf(err + used, errlen - used, ")");
			free(host);
			return 0;
		}
		if (strlen(host) > DNS_NAME_MAX) {
			snprintf(err, errlen, "%s: name too long", arg);
			free(host);
			return 0;
		}
		ep = config_endpoint_for_host(cfg, host, strlen(host));
	}
	t = xcalloc(1, sizeof(*t));
	r->targets = xcalloc(1, sizeof(*r->targets));
	r->ntargets = 1;
	target_init(d, t, &r->targets[0], ep, host ? host : ep->hosts[0],
	    port, port_given);
	free(host);
	*out = t;
	return 1;
}

static void
target_done(struct target *t)
{
	for (size_t i = 0; i < t->nprobes; i++) {
		SSL_free(t->probes[i].ssl);
		if (t->probes[i].fd >= 0)
			close(t->probes[i].fd);
	}
	SSL_CTX_free(t->ctx);
	policy_free(t->policy);
}

static void
skip_step(struct diag_target *out, enum diag_layer layer, const char *why)
{
	step_end(step_begin(out, layer), DIAG_SKIP, "%s", why);
}

static void
target_run(struct diag_run *d, struct target *t)
{
	const struct diag_opts *o = d->o;

	layer_config(d, t);
	if (o->via == NULL || o->direct) {
		layer_dns(d, t);
		layer_tcp(d, t);
		layer_tls(d, t);
		if (t->service == SERVICE_DAX_CLUSTER)
			layer_dax(d, t);
		else
			layer_http(d, t);
	} else {
		static const char why[] = "not run: --via checks the path "
		    "through the gateway (add --direct for this host's own)";

		for (int l = DIAG_DNS; l <= DIAG_HTTP; l++)
			skip_step(t->out, (enum diag_layer)l, why);
	}
	if (o->action != NULL)
		layer_policy(d, t);
	if (o->via != NULL)
		layer_via(d, t);
	target_done(t);
}

static void
report_config_failure(struct diag_run *d, const char *err)
{
	struct diag_target *t;
	struct diag_step *s;
	json_t *errors = json_array();

	d->report.targets = t = xcalloc(1, sizeof(*t));
	d->report.ntargets = 1;
	s = step_begin(t, DIAG_CONFIG);
	json_array_append_new(errors, jstr(err));
	jset(s->evidence, "config", jstr(d->report.config));
	jset(s->evidence, "errors", errors);
	step_hint(s, "fix what the message names (file:line:column and the "
	    "key); ddbgate check -c FILE says the same");
	step_end(s, DIAG_FAIL, "the configuration does not load: %s", err);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static const char usage_diag[] =
    "usage: ddbgate diag [-c FILE] [--json] [--endpoint NAME | HOST[:PORT]]\n"
    "                    [--via http://[USER:PASSWORD@]GATEWAY[:PORT]]\n"
    "                    [--direct] [--timeout-ms N] [--total-timeout-ms N]\n"
    "                    [--access-key-id ID --action A --resource R]\n"
    "                    [--ca-bundle FILE] [--ca-file FILE] [--service S]\n"
    "                    [--allow CIDR ...]\n"
    "\n"
    "Check the path to each endpoint of the configuration (or the one\n"
    "named), layer by layer: config, dns (every resolver separately), tcp\n"
    "(every address), tls (chain, expiry, verification, name), http (an\n"
    "unsigned request only the real service answers with its\n"
    "missing-authentication error; a DAX cluster: discovery, then TCP and\n"
    "TLS to every node), policy (with --access-key-id, --action\n"
    "and --resource) and via (the same through a running gateway, CONNECT).\n"
    "\n"
    "  -c, --config FILE      configuration (default: the built-in defaults)\n"
    "      --json             the JSON document of docs/diag.md, not text\n"
    "      --endpoint X       one endpoint by name, or HOST[:PORT]: any name,\n"
    "                         asked of the configuration's resolvers\n"
    "      --via URL          through a gateway's connect listener (port\n"
    "                         3128 unless given); dns/tcp/tls/http are then\n"
    "                         skipped unless --direct\n"
    "      --timeout-ms N     bound on each network wait (default 2000)\n"
    "      --total-timeout-ms N  bound on the whole run (default 60000)\n"
    "      --ca-bundle FILE   --via: the local trust bundle (default\n"
    "                         $AWS_CA_BUNDLE, else\n"
    "                         " SYSTEM_BUNDLE ")\n"
    "      --ca-file FILE     HOST[:PORT]: the bundle to verify against\n"
    "      --service S        HOST[:PORT]: dynamodb, streams, dax or\n"
    "                         dax-cluster\n"
    "      --allow CIDR       HOST[:PORT]: allowed_cidrs (repeat; default\n"
    "                         RFC 1918 and fc00::/7)\n"
    "\n"
    "Exit status: 0 all passed (warnings allowed); 2 usage; else the first\n"
    "failing layer in path order: 3 config, 4 dns, 5 tcp, 6 tls, 7 http,\n"
    "8 policy denied, 9 via.\n";

static const struct option diag_long[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "endpoint", required_argument, NULL, 'e' },
	{ "via", required_argument, NULL, 'v' },
	{ "direct", no_argument, NULL, 'd' },
	{ "timeout-ms", required_argument, NULL, 't' },
	{ "total-timeout-ms", required_argument, NULL, 'T' },
	{ "ca-bundle", required_argument, NULL, 'b' },
	{ "ca-file", required_argument, NULL, 'f' },
	{ "service", required_argument, NULL, 's' },
	{ "allow", required_argument, NULL, 'a' },
	{ "access-key-id", required_argument, NULL, 'k' },
	{ "action", required_argument, NULL, 'A' },
	{ "resource", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_ms(const char *arg, const char *opt, unsigned lo, unsigned hi,
    unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "ddbgate diag: %s wants %u..%u, not '%s'\n",
		    opt, lo, hi, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* 0, 1 after --help, -1 on a usage error (already reported). */
static int
parse_opts(int argc, char **argv, struct diag_opts *o)
{
	enum endpoint_service svc;
	const char *why;
	int ch;

	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->total_ms = DEFAULT_TOTAL_MS;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", diag_long, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'j': o->json = true; break;
		case 'e': o->target = optarg; break;
		case 'v': o->via = optarg; break;
		case 'd': o->direct = true; break;
		case 'b': o->ca_bundle = optarg; break;
		case 'f': o->ca_file = optarg; break;
		case 'k': o->access_key_id = optarg; break;
		case 'A': o->action = optarg; break;
		case 'r': o->resource = optarg; break;
		case 't':
			if (parse_ms(optarg, "--timeout-ms", 50, 60000,
			    &o->timeout_ms) != 0)
				return -1;
			break;
		case 'T':
			if (parse_ms(optarg, "--total-timeout-ms", 1000, 600000,
			    &o->total_ms) != 0)
				return -1;
			break;
		case 's':
			if (!service_parse(optarg, &svc)) {
				fprintf(stderr, "ddbgate diag: --service wants "
				    "dynamodb, streams, dax or dax-cluster\n");
				return -1;
			}
			o->service = optarg;
			break;
		case 'a':
			if (o->nallow == MAX_ALLOW || cidr_parse(optarg,
			    &o->allow[o->nallow], &why) != 0) {
				fprintf(stderr, "ddbgate diag: --allow %s: "
				    "%s\n", optarg, o->nallow == MAX_ALLOW ?
				    "too many" : why);
				return -1;
			}
			o->nallow++;
			break;
		case 'h':
			fputs(usage_diag, stdout);
			return 1;
		default:
			fputs(usage_diag, stderr);
			return -1;
		}
	}
	if (optind < argc && o->target == NULL)
		o->target = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "ddbgate diag: unexpected argument '%s'\n%s",
		    argv[optind], usage_diag);
		return -1;
	}
	if ((o->access_key_id != NULL) != (o->action != NULL) ||
	    (o->action != NULL) != (o->resource != NULL)) {
		fprintf(stderr, "ddbgate diag: --access-key-id, --action and "
		    "--resource go together\n");
		return -1;
	}
	if (o->direct && o->via == NULL) {
		fprintf(stderr, "ddbgate diag: --direct goes with --via\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* diag_main                                                           */
/* ------------------------------------------------------------------ */

/* The backstop: every wait is bounded, so this firing is a bug. */
static void
on_alarm(int sig)
{
	static const char msg[] = "ddbgate diag: the run overran its time "
	    "limit; stopped\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(DIAG_EXIT_INTERNAL);
}

static void
render(const struct diag_run *d)
{
	if (d->o->json) {
		json_t *j = diag_report_json(&d->report);

		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		diag_print_human(&d->report, stdout);
	}
	fflush(stdout);
}

int
diag_main(int argc, char **argv)
{
	static const char *const private[] = { "10.0.0.0/8", "172.16.0.0/12",
	    "192.168.0.0/16", "fc00::/7" };
	struct diag_opts o = { 0 };
	struct diag_run d = { .o = &o };
	struct target *targets = NULL;
	char err[CONFIG_ERR_MAX];
	const char *why;
	size_t n;
	int rc = parse_opts(argc, argv, &o), code;

	if (rc != 0)
		return rc == 1 ? 0 : DIAG_EXIT_USAGE;
	if (o.via != NULL && via_parse(o.via, &d.via, &why) != 0) {
		fprintf(stderr, "ddbgate diag: --via %s: %s\n", o.via, why);
		return DIAG_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((o.total_ms + 5000 + 999) / 1000);
	d.end_ms = monotonic_ms() + o.total_ms;
	for (size_t i = 0; i < nitems(private); i++)
		(void)cidr_parse(private[i], &d.private_cidrs[i], &why);
	d.report.timeout_ms = o.timeout_ms;
	d.report.via = o.via ? d.via.label : NULL;
	d.cfg = o.config ? config_load_file(o.config, err, sizeof(err)) :
	    config_defaults(err, sizeof(err));
	d.report.config = d.cfg ? d.cfg->path : o.config ? o.config :
	    "(built-in defaults)";
	if (d.cfg == NULL) {
		report_config_failure(&d, err);
		render(&d);
		code = diag_exit_code(&d.report);
		diag_report_free(&d.report);
		return code;
	}
	if ((n = targets_make(&d, &targets, err, sizeof(err))) == 0) {
		fprintf(stderr, "ddbgate diag: %s\n", err);
		config_free(d.cfg);
		return DIAG_EXIT_USAGE;
	}
	ares_library_init(ARES_LIB_INIT_ALL);
	sources_init(&d);
	if (o.via != NULL)
		via_prepare(&d);
	for (size_t i = 0; i < n; i++)
		target_run(&d, &targets[i]);
	render(&d);
	code = diag_exit_code(&d.report);
	SSL_CTX_free(d.via.ctx);
	explicit_bzero(d.via.auth, sizeof(d.via.auth));
	free(targets);
	diag_report_free(&d.report);
	config_free(d.cfg);
	ares_library_cleanup();
	alarm(0);
	return code;
}
