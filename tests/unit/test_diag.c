/*
 * Unit tests for diag's pure pieces: the exit code of a report (the
 * first failing layer in path order), the hints (word for word where
 * docs/diag.md quotes them), the answer that proves the service
 * answered, and both renderers.
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
		cmocka_unit_test(test_json_rendering),
		cmocka_unit_test(test_human_rendering),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
