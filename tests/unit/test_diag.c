/*
 * Unit tests for diag's pure pieces: the exit code of a report (the
 * first failing layer in path order), the hints (word for word where
 * docs/diag.md quotes them), the answer that proves the service
 * answered, the reading of a DAX cluster's discovery answer and its
 * hints, and both renderers.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/x509_vfy.h>

#include "cbor.h"
#include "diag.h"

/* Appends a step to t (strings copied; hint may be NULL). */
static void
add_step(struct diag_target *t, enum diag_layer layer, enum diag_status st,
    const char *summary, const char *hint)
{
	struct diag_step *s = &t->steps[t->nsteps++];

	memset(s, 0, sizeof(*s));
	s->layer = layer;
	s->status = st;
	s->duration_ms = 3;
	s->summary = strdup(summary);
	s->hint = hint ? strdup(hint) : NULL;
	s->evidence = json_pack("{s:i}", "n", (int)layer);
}

static void
init_target(struct diag_target *t, const char *endpoint, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->endpoint = endpoint ? strdup(endpoint) : NULL;
	t->service = name ? strdup("dynamodb") : NULL;
	t->name = name ? strdup(name) : NULL;
	t->port = name ? 443 : 0;
}

static struct diag_report
report_new(size_t n)
{
	struct diag_report r = {
		.config = "test.yaml",
		.timeout_ms = 2000,
		.targets = calloc(n, sizeof(struct diag_target)),
		.ntargets = n,
	};

	return r;
}

static void
test_layer_codes_and_names(void **state)
{
	static const char *const names[] = { "config", "dns", "tcp", "tls",
	    "http", "policy", "via" };

	for (int l = 0; l < DIAG_NLAYERS; l++) {
		assert_int_equal(diag_layer_exit_code((enum diag_layer)l), 3 + l);
		assert_string_equal(diag_layer_name((enum diag_layer)l),
		    names[l]);
	}
	assert_string_equal(diag_status_name(DIAG_WARN), "warn");
	assert_string_equal(diag_dns_result_name(DIAG_DNS_NXDOMAIN), "nxdomain");
	assert_string_equal(diag_tcp_result_name(DIAG_TCP_NOT_CONTACTED),
	    "not_contacted");
	assert_string_equal(diag_tls_result_name(DIAG_TLS_VERIFY_FAILED),
	    "verify_failed");
	assert_string_equal(diag_http_result_name(DIAG_HTTP_AUTH_ERROR),
	    "auth_error");
}

/* Warnings and skips never fail; the smallest failing layer wins, across
 * targets and whatever their order. */
static void
test_exit_code_first_failing_layer(void **state)
{
	struct diag_report r = report_new(3);

	init_target(&r.targets[0], "a", "a.example");
	add_step(&r.targets[0], DIAG_CONFIG, DIAG_PASS, "ok", NULL);
	add_step(&r.targets[0], DIAG_TLS, DIAG_WARN, "expiring", "renew");
	add_step(&r.targets[0], DIAG_HTTP, DIAG_SKIP, "skipped", NULL);
	init_target(&r.targets[1], "b", "b.example");
	init_target(&r.targets[2], "c", "c.example");
	r.ntargets = 1;
	assert_int_equal(diag_exit_code(&r), 0);

	r.ntargets = 3;
	add_step(&r.targets[1], DIAG_HTTP, DIAG_FAIL, "other", "h");
	assert_int_equal(diag_exit_code(&r), 7);
	add_step(&r.targets[2], DIAG_TCP, DIAG_FAIL, "refused", "h");
	add_step(&r.targets[2], DIAG_VIA, DIAG_FAIL, "403", "h");
	assert_int_equal(diag_exit_code(&r), 5);
	add_step(&r.targets[1], DIAG_DNS, DIAG_FAIL, "timeout", "h");
	assert_int_equal(diag_exit_code(&r), 4);
	diag_report_free(&r);

	r = report_new(1);
	init_target(&r.targets[0], "a", "a.example");
	add_step(&r.targets[0], DIAG_VIA, DIAG_FAIL, "407", "h");
	add_step(&r.targets[0], DIAG_POLICY, DIAG_FAIL, "deny", "h");
	assert_int_equal(diag_exit_code(&r), 8);
	diag_report_free(&r);

	r = report_new(0);
	assert_int_equal(diag_exit_code(&r), 0);
	diag_report_free(&r);
}

static void
test_hints_dns(void **state)
{
	char buf[600];

	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_TIMEOUT, "10.0.0.2:53",
	    "vpce-1.dynamodb.us-east-1.vpce.amazonaws.com", NULL, 1000);
	assert_string_equal(buf, "no answer from 10.0.0.2 in 1000 ms: check "
	    "UDP/TCP 53 to the resolver over the VPN, and that the Route 53 "
	    "Resolver inbound endpoint's security group allows this host");
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_PUBLIC, "10.0.0.2:53",
	    "dynamodb.us-east-1.amazonaws.com", "52.94.0.10", 1000);
	assert_string_equal(buf, "dynamodb.us-east-1.amazonaws.com resolves "
	    "to a public address (52.94.0.10 at 10.0.0.2): traffic would leave "
	    "the private path; check that the name is an endpoint-specific "
	    "vpce name, or allow the prefix list (docs/routing.md)");
	/* a server on another port keeps it */
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_TIMEOUT, "127.0.0.1:5354",
	    "x", NULL, 400);
	assert_non_null(strstr(buf, "no answer from 127.0.0.1:5354 in 400 ms"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_NXDOMAIN, "10.0.0.2:53",
	    "vpce-x", NULL, 0);
	assert_non_null(strstr(buf, "10.0.0.2 says vpce-x does not exist "
	    "(NXDOMAIN)"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_REFUSED, "10.0.0.2:53", "n",
	    NULL, 0);
	assert_non_null(strstr(buf, "answered REFUSED"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_SERVFAIL, "10.0.0.2:53", "n",
	    NULL, 0);
	assert_non_null(strstr(buf, "answered SERVFAIL"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_UNREACHABLE, "10.0.0.9:53",
	    "n", NULL, 0);
	assert_non_null(strstr(buf, "nothing answers DNS at 10.0.0.9:53"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_NO_ROUTE, "10.0.0.9:53",
	    "n", NULL, 0);
	assert_non_null(strstr(buf, "cannot send to 10.0.0.9 (no route)"));
	diag_hint_dns(buf, sizeof(buf), DIAG_DNS_OK, "10.0.0.2:53", "n", NULL,
	    0);
	assert_string_equal(buf, "");
}

static void
test_hints_tcp(void **state)
{
	char buf[600];

	diag_hint_tcp(buf, sizeof(buf), DIAG_TCP_TIMEOUT, "10.0.1.5:443", 443,
	    2000, NULL);
	assert_string_equal(buf, "no SYN-ACK from 10.0.1.5:443 within 2000 ms: "
	    "check the route to this Availability Zone over Direct "
	    "Connect/VPN, and TCP 443 in the endpoint's security group");
	diag_hint_tcp(buf, sizeof(buf), DIAG_TCP_REFUSED, "10.0.1.5:443", 443,
	    2000, NULL);
	assert_string_equal(buf, "something answered 10.0.1.5:443 with RST: a "
	    "host without a listener on 443; is this the endpoint's network "
	    "interface (ENI)?");
	diag_hint_tcp(buf, sizeof(buf), DIAG_TCP_UNREACHABLE, "10.0.1.5:443",
	    443, 2000, "No route to host");
	assert_non_null(strstr(buf, "no route to 10.0.1.5:443 (No route to "
	    "host)"));
	diag_hint_tcp(buf, sizeof(buf), DIAG_TCP_CONNECTED, "a", 443, 1, NULL);
	assert_string_equal(buf, "");
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_hints_tls(void **state)
{
	struct diag_tls_facts f = {
		.result = DIAG_TLS_VERIFY_FAILED,
		.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		.address = "10.0.1.5:443",
		.name = "dynamodb.us-east-1.amazonaws.com",
		.ca_file = "/etc/ddbgate/aws-roots.pem",
		.issuer = "CN=Corp Inspection CA",
		.sans = "vpce-1.dynamodb.us-east-1.vpce.amazonaws.com",
	};
	char buf[900], small[16];

	diag_hint_tls(buf, sizeof(buf), &f);
	assert_true(starts(buf, "the CA bundle /etc/ddbgate/aws-roots.pem "
	    "lacks the issuer CN=Corp Inspection CA: "));
	f.via = true;
	f.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_non_null(strstr(buf, "the local trust bundle "
	    "/etc/ssl/certs/ca-certificates.crt does not trust the gateway's "
	    "CA (CN=Corp Inspection CA)"));
	f.via = false;
	f.verify_code = X509_V_ERR_HOSTNAME_MISMATCH;
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_true(starts(buf, "the certificate is for "
	    "vpce-1.dynamodb.us-east-1.vpce.amazonaws.com, not "
	    "dynamodb.us-east-1.amazonaws.com: "));
	f.verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
	f.subject = "CN=x";
	f.not_after = "2021-01-01T00:00:00Z";
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_non_null(strstr(buf, "expired on 2021-01-01T00:00:00Z"));
	f.verify_code = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_non_null(strstr(buf, "presents a self-signed certificate (CN=x)"));
	f.result = DIAG_TLS_EXPIRING;
	f.days = 12;
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_non_null(strstr(buf, "expires in 12 days"));
	f.result = DIAG_TLS_TIMEOUT;
	f.timeout_ms = 2000;
	diag_hint_tls(buf, sizeof(buf), &f);
	assert_non_null(strstr(buf, "no TLS answer from 10.0.1.5:443 within "
	    "2000 ms"));
	/* a short buffer is cut, never overrun */
	diag_hint_tls(small, sizeof(small), &f);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void
test_hints_http_and_connect(void **state)
{
	char buf[900];

	diag_hint_http(buf, sizeof(buf), DIAG_HTTP_OTHER, "10.0.1.5:443",
	    "DynamoDB", "HTTP/1.1 200 OK", "nginx", 2000, false);
	assert_string_equal(buf, "10.0.1.5:443 answered \"HTTP/1.1 200 OK\" "
	    "(Server: nginx) instead of DynamoDB's "
	    "MissingAuthenticationTokenException: something other than "
	    "DynamoDB is on this address (another service's endpoint, a load "
	    "balancer, a web server?)");
	diag_hint_http(buf, sizeof(buf), DIAG_HTTP_OTHER, "10.0.1.5:443",
	    "DAX", "HTTP/1.1 404 Not Found", NULL, 2000, false);
	assert_non_null(strstr(buf, "\"HTTP/1.1 404 Not Found\" instead of "
	    "DAX's"));
	diag_hint_http(buf, sizeof(buf), DIAG_HTTP_TIMEOUT, "10.0.1.5:443",
	    "DynamoDB", NULL, NULL, 500, false);
	assert_non_null(strstr(buf, "no HTTP answer from 10.0.1.5:443 within "
	    "500 ms"));

	diag_hint_connect(buf, sizeof(buf), 407, "http://gw:3128",
	    "dynamodb.us-east-1.amazonaws.com:443", NULL, NULL);
	assert_non_null(strstr(buf, "wants proxy credentials"));
	diag_hint_connect(buf, sizeof(buf), 403, "http://gw:3128", "x:443",
	    "not an endpoint", NULL);
	assert_non_null(strstr(buf, "refuses CONNECT x:443 (403: not an "
	    "endpoint)"));
	diag_hint_connect(buf, sizeof(buf), 0, "http://gw:3128", "x:443", NULL,
	    "Connection refused");
	assert_non_null(strstr(buf, "no answer to CONNECT from the gateway at "
	    "http://gw:3128 (Connection refused)"));
	diag_hint_connect(buf, sizeof(buf), 504, "http://gw:3128", "x:443",
	    "DnsTimeout", NULL);
	assert_non_null(strstr(buf, "run ddbgate diag on the gateway host"));
}

static void
test_auth_error_is_the_proof(void **state)
{
	assert_true(diag_is_auth_error(400,
	    "com.amazon.coral.service#MissingAuthenticationTokenException"));
	assert_true(diag_is_auth_error(400,
	    "com.amazon.coral.service#UnrecognizedClientException"));
	assert_true(diag_is_auth_error(400, "InvalidSignatureException"));
	assert_false(diag_is_auth_error(403,
	    "com.amazon.coral.service#MissingAuthenticationTokenException"));
	assert_false(diag_is_auth_error(400,
	    "com.amazon.coral.validate#ValidationException"));
	assert_false(diag_is_auth_error(400,
	    "MissingAuthenticationTokenExceptionX"));
	assert_false(diag_is_auth_error(400, NULL));
}

/* ---- DAX: the endpoints answer, the auth error, the hints ---------- */

struct cb {
	uint8_t b[4096];
	size_t n;
};

static void
cb_head(struct cb *c, enum cbor_major major, uint64_t v)
{
	c->n += cbor_put_head(c->b + c->n, major, v);
}

static void
cb_raw(struct cb *c, const void *p, size_t n)
{
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void
cb_text(struct cb *c, const char *s)
{
	cb_head(c, CBOR_TEXT, strlen(s));
	cb_raw(c, s, strlen(s));
}

/* One node map {0: id, 1: host, 2: addr, 3: port, 4: role, 5: zone}. */
static void
cb_node(struct cb *c, int id, const uint8_t ip[4], uint16_t port, int role)
{
	char host[32];

	snprintf(host, sizeof(host), "node%d.test", id);
	cb_head(c, CBOR_MAP, 6);
	cb_head(c, CBOR_UINT, 0);
	cb_head(c, CBOR_UINT, (uint64_t)id);
	cb_head(c, CBOR_UINT, 1);
	cb_text(c, host);
	cb_head(c, CBOR_UINT, 2);
	cb_head(c, CBOR_BYTES, 4);
	cb_raw(c, ip, 4);
	cb_head(c, CBOR_UINT, 3);
	cb_head(c, CBOR_UINT, port);
	cb_head(c, CBOR_UINT, 4);
	cb_head(c, CBOR_UINT, (uint64_t)role);
	cb_head(c, CBOR_UINT, 5);
	cb_text(c, "us-east-1a");
}

static void
test_dax_answer_nodes(void **state)
{
	static const uint8_t ip1[4] = { 10, 0, 1, 5 }, ip2[4] = { 10, 0, 2, 7 };
	struct diag_dax_answer *a = calloc(1, sizeof(*a));
	struct cb c = { .n = 0 };

	cb_head(&c, CBOR_ARRAY, 0);
	cb_head(&c, CBOR_ARRAY, 2);
	cb_node(&c, 1, ip1, 9111, 1);
	cb_node(&c, 2, ip2, 9111, 2);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_NODES);
	assert_int_equal(a->listed, 2);
	assert_int_equal(a->nnodes, 2);
	assert_string_equal(a->nodes[0].address, "10.0.1.5");
	assert_int_equal(a->nodes[0].port, 9111);
	assert_true(a->nodes[0].has_id);
	assert_int_equal(a->nodes[0].node_id, 1);
	assert_string_equal(a->nodes[0].hostname, "node1.test");
	assert_string_equal(diag_dax_role_name(a->nodes[0].role), "leader");
	assert_string_equal(diag_dax_role_name(a->nodes[1].role), "replica");
	assert_string_equal(a->nodes[1].address, "10.0.2.7");
	assert_string_equal(a->nodes[1].zone, "us-east-1a");
	assert_null(diag_dax_role_name(0));
	assert_null(diag_dax_role_name(7));

	/* indefinite array and map, an IPv6 node with only address and
	 * port, a key diag does not know */
	c.n = 0;
	cb_head(&c, CBOR_ARRAY, 0);
	cb_raw(&c, "\x9f\xbf", 2);
	cb_head(&c, CBOR_UINT, 9);
	cb_text(&c, "future");
	cb_head(&c, CBOR_UINT, 2);
	cb_head(&c, CBOR_BYTES, 16);
	cb_raw(&c, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x01", 16);
	cb_head(&c, CBOR_UINT, 3);
	cb_head(&c, CBOR_UINT, 8111);
	cb_raw(&c, "\xff\xff", 2);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_NODES);
	assert_int_equal(a->listed, 1);
	assert_string_equal(a->nodes[0].address, "fd00::1");
	assert_int_equal(a->nodes[0].port, 8111);
	assert_false(a->nodes[0].has_id);
	assert_string_equal(a->nodes[0].hostname, "");
	assert_int_equal(a->nodes[0].role, 0);

	/* more nodes than diag checks: the first 16 kept, all counted */
	c.n = 0;
	cb_head(&c, CBOR_ARRAY, 0);
	cb_head(&c, CBOR_ARRAY, DIAG_DAX_MAX_NODES + 2);
	for (int i = 0; i < DIAG_DAX_MAX_NODES + 2; i++) {
		uint8_t ip[4] = { 10, 0, 0, (uint8_t)(i + 1) };

		cb_node(&c, i + 1, ip, 9111, i ? 2 : 1);
	}
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_NODES);
	assert_int_equal(a->listed, DIAG_DAX_MAX_NODES + 2);
	assert_int_equal(a->nnodes, DIAG_DAX_MAX_NODES);
	assert_string_equal(a->nodes[15].address, "10.0.0.16");
	assert_int_equal(a->nodes[15].node_id, 16);

	/* no node at all */
	c.n = 0;
	cb_raw(&c, "\x80\x80", 2);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_NODES);
	assert_int_equal(a->listed, 0);
	free(a);
}

static void
test_dax_answer_errors(void **state)
{
	static const uint8_t ip[4] = { 10, 0, 1, 5 };
	struct diag_dax_answer *a = calloc(1, sizeof(*a));
	struct cb c = { .n = 0 };

	/* AuthenticationRequired: [4, 23, 31, 33], a message, error info */
	cb_head(&c, CBOR_ARRAY, 4);
	cb_head(&c, CBOR_UINT, 4);
	cb_head(&c, CBOR_UINT, 23);
	cb_head(&c, CBOR_UINT, 31);
	cb_head(&c, CBOR_UINT, 33);
	cb_text(&c, "Authentication required\n");
	cb_head(&c, CBOR_ARRAY, 3);
	cb_text(&c, "rid-1");
	cb_text(&c, "AuthenticationRequiredException");
	cb_head(&c, CBOR_UINT, 401);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_ERROR);
	assert_int_equal(a->ncodes, 4);
	assert_int_equal(a->codes[3], 33);
	assert_string_equal(a->message, "Authentication required?");
	assert_string_equal(a->error_code, "AuthenticationRequiredException");
	assert_true(diag_dax_is_auth_error(a->codes, a->ncodes));

	/* ResourceNotFound [4, 23, 24], error info null */
	c.n = 0;
	cb_head(&c, CBOR_ARRAY, 3);
	cb_head(&c, CBOR_UINT, 4);
	cb_head(&c, CBOR_UINT, 23);
	cb_head(&c, CBOR_UINT, 24);
	cb_text(&c, "not found");
	cb_raw(&c, "\xf6", 1);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_ERROR);
	assert_false(diag_dax_is_auth_error(a->codes, a->ncodes));
	assert_string_equal(a->message, "not found");
	assert_string_equal(a->error_code, "");
	{
		static const int64_t short_path[] = { 4, 23 };
		static const int64_t dynamo[] = { 4, 37, 38, 39, 43 };

		assert_false(diag_dax_is_auth_error(short_path, 2));
		assert_false(diag_dax_is_auth_error(dynamo, 5));
	}

	/* a node without a port: what the gateway refuses, diag refuses */
	c.n = 0;
	cb_head(&c, CBOR_ARRAY, 0);
	cb_head(&c, CBOR_ARRAY, 1);
	cb_head(&c, CBOR_MAP, 1);
	cb_head(&c, CBOR_UINT, 2);
	cb_head(&c, CBOR_BYTES, 4);
	cb_raw(&c, ip, 4);
	diag_dax_answer_read(c.b, c.n, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_MALFORMED);
	assert_non_null(strstr(a->err, "without an address or port"));
	assert_int_equal(a->nnodes, 0);

	/* not a code path at all */
	diag_dax_answer_read((const uint8_t *)"HTTP/1.1", 8, a);
	assert_int_equal(a->kind, DIAG_DAX_ANSWER_MALFORMED);
	free(a);
}

static void
test_hints_dax(void **state)
{
	const char *name = "orders.abc123.dax-clusters.us-east-1.amazonaws.com";
	struct diag_tls_facts f = {
		.result = DIAG_TLS_VERIFY_FAILED,
		.verify_code = X509_V_ERR_HOSTNAME_MISMATCH,
		.address = "10.0.2.7:9111",
		.name = name,
		.ca_file = "/etc/ssl/certs/ca-certificates.crt",
		.sans = "other.abc123.dax-clusters.us-east-1.amazonaws.com",
	};
	char buf[900];

	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_AUTH, "10.0.1.5:9111", NULL,
	    name, "orders", NULL, 2000, true);
	assert_true(starts(buf, "the nodes were not checked: 10.0.1.5:9111 "
	    "asks for authorizeConnection (SigV4) before endpoints, and diag "
	    "sends no credentials"));
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_OUTSIDE, "10.0.1.5:9111",
	    "192.0.2.9:9111", name, "orders", "10.0.0.0/8", 2000, true);
	assert_string_equal(buf, "discovery lists node 192.0.2.9:9111, "
	    "outside allowed_cidrs [10.0.0.0/8] of endpoint orders: neither "
	    "diag nor the gateway contacts it; if it is this cluster's node, "
	    "add its subnet to allowed_cidrs");
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_TIMEOUT, "10.0.1.5:9111",
	    NULL, name, NULL, NULL, 1500, true);
	assert_true(starts(buf, "no answer to endpoints from 10.0.1.5:9111 "
	    "within 1500 ms after the TLS handshake: "));
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_CLOSED, "10.0.1.5:8111",
	    NULL, name, NULL, NULL, 1500, false);
	assert_non_null(strstr(buf, "does plain TCP match the cluster"));
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_ERROR, "10.0.1.5:9111", NULL,
	    name, NULL, "[4, 23, 24]: not found", 1500, true);
	assert_non_null(strstr(buf, "with an error ([4, 23, 24]: not found)"));
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_NO_NODES, "10.0.1.5:9111",
	    NULL, name, NULL, NULL, 1500, true);
	assert_non_null(strstr(buf, "lists no node"));
	diag_hint_dax(buf, sizeof(buf), DIAG_DAX_TOO_MANY, "10.0.1.5:9111",
	    NULL, name, NULL, NULL, 1500, true);
	assert_non_null(strstr(buf, "checked the first 16 only"));

	diag_hint_dax_node_tls(buf, sizeof(buf), &f);
	assert_string_equal(buf, "node 10.0.2.7:9111 presents a certificate "
	    "for other.abc123.dax-clusters.us-east-1.amazonaws.com, not the "
	    "cluster name orders.abc123.dax-clusters.us-east-1.amazonaws.com: "
	    "DAX clients verify every node against the cluster name; is "
	    "10.0.2.7:9111 a node of this cluster (not another cluster's, not "
	    "a stale address)?");
	/* anything else: the tls layer's hint */
	f.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	f.issuer = "CN=Corp CA";
	diag_hint_dax_node_tls(buf, sizeof(buf), &f);
	assert_true(starts(buf, "the CA bundle "
	    "/etc/ssl/certs/ca-certificates.crt lacks the issuer CN=Corp CA"));
}

static void
test_json_rendering(void **state)
{
	struct diag_report r = report_new(2);
	json_t *j, *steps, *s0, *s1, *t1;

	r.via = "http://gw:3128";
	init_target(&r.targets[0], "ddb", "dynamodb.us-east-1.amazonaws.com");
	add_step(&r.targets[0], DIAG_CONFIG, DIAG_PASS, "loaded", NULL);
	add_step(&r.targets[0], DIAG_DNS, DIAG_FAIL, "timeout", "check 53");
	init_target(&r.targets[1], NULL, NULL);
	add_step(&r.targets[1], DIAG_CONFIG, DIAG_WARN, "w", "h");
	j = diag_report_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 4);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "fail");
	assert_string_equal(json_string_value(json_object_get(j, "via")),
	    "http://gw:3128");
	assert_int_equal(json_integer_value(json_object_get(j, "timeout_ms")),
	    2000);
	steps = json_object_get(json_array_get(json_object_get(j, "targets"),
	    0), "steps");
	s0 = json_array_get(steps, 0);
	s1 = json_array_get(steps, 1);
	assert_string_equal(json_string_value(json_object_get(s0, "step")),
	    "config");
	assert_true(json_is_null(json_object_get(s0, "hint")));
	assert_string_equal(json_string_value(json_object_get(s1, "hint")),
	    "check 53");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s1,
	    "evidence"), "n")), DIAG_DNS);
	assert_int_equal(json_integer_value(json_object_get(s1, "duration_ms")),
	    3);
	t1 = json_array_get(json_object_get(j, "targets"), 1);
	assert_true(json_is_null(json_object_get(t1, "name")));
	assert_true(json_is_null(json_object_get(t1, "port")));
	assert_true(json_is_null(json_object_get(t1, "endpoint")));
	assert_string_equal(json_string_value(json_object_get(t1, "status")),
	    "warn");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "targets"), 0), "status")), "fail");
	json_decref(j);
	diag_report_free(&r);
}

static void
test_human_rendering(void **state)
{
	struct diag_report r = report_new(1);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	init_target(&r.targets[0], "ddb", "dynamodb.us-east-1.amazonaws.com");
	add_step(&r.targets[0], DIAG_CONFIG, DIAG_PASS, "loaded", "unused");
	add_step(&r.targets[0], DIAG_DNS, DIAG_FAIL, "timeout", "check 53");
	add_step(&r.targets[0], DIAG_TCP, DIAG_SKIP, "no address", NULL);
	diag_print_human(&r, f);
	fclose(f);
	assert_non_null(strstr(text, "ddbgate diag: test.yaml, timeout 2000 "
	    "ms\n"));
	assert_non_null(strstr(text, "\nendpoint ddb: "
	    "dynamodb.us-east-1.amazonaws.com:443 (dynamodb)\n"));
	assert_non_null(strstr(text, "\n  PASS  config      3 ms  loaded\n"));
	assert_non_null(strstr(text, "\n  FAIL  dns         3 ms  timeout\n"
	    "        hint: check 53\n"));
	assert_non_null(strstr(text, "\n  SKIP  tcp         3 ms  no address\n"));
	/* no hint under a passing step */
	assert_null(strstr(text, "unused"));
	assert_non_null(strstr(text, "\nresult: FAIL, first failing layer: dns "
	    "(exit 4)\n"));
	free(text);
	diag_report_free(&r);
}

static void
test_usage_errors(void **state)
{
	char *bad_timeout[] = { "diag", "--timeout-ms", "5", NULL };
	char *bad_via[] = { "diag", "--via", "https://gw:3128", NULL };
	char *half_policy[] = { "diag", "--action", "dynamodb:GetItem", NULL };
	char *bad_service[] = { "diag", "--service", "s3", NULL };

	assert_int_equal(diag_main(3, bad_timeout), DIAG_EXIT_USAGE);
	assert_int_equal(diag_main(3, bad_via), DIAG_EXIT_USAGE);
	assert_int_equal(diag_main(3, half_policy), DIAG_EXIT_USAGE);
	assert_int_equal(diag_main(3, bad_service), DIAG_EXIT_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_codes_and_names),
		cmocka_unit_test(test_exit_code_first_failing_layer),
		cmocka_unit_test(test_hints_dns),
		cmocka_unit_test(test_hints_tcp),
		cmocka_unit_test(test_hints_tls),
		cmocka_unit_test(test_hints_http_and_connect),
		cmocka_unit_test(test_auth_error_is_the_proof),
		cmocka_unit_test(test_dax_answer_nodes),
		cmocka_unit_test(test_dax_answer_errors),
		cmocka_unit_test(test_hints_dax),
		cmocka_unit_test(test_json_rendering),
		cmocka_unit_test(test_human_rendering),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
