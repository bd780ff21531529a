/*
 * Unit tests for cidr: prefix parsing, matching (IPv4, IPv6, IPv4-mapped),
 * formatting, host:port and numeric socket address parsing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "cidr.h"

static struct cidr
parse_ok(const char *s)
{
	struct cidr c;
	const char *why = NULL;

	if (cidr_parse(s, &c, &why) != 0)
		fail_msg("cidr_parse(\"%s\") failed: %s", s, why);
	return c;
}

static void
parse_bad(const char *s)
{
	struct cidr c;
	const char *why = NULL;

	if (cidr_parse(s, &c, &why) == 0)
		fail_msg("cidr_parse(\"%s\") accepted", s);
	assert_non_null(why);
}

static struct sockaddr_storage
addr(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return ss;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		fail_msg("bad test address %s", ip);
	sin6->sin6_family = AF_INET6;
	return ss;
}

static bool
contains(const char *prefix, const char *ip)
{
	struct cidr c = parse_ok(prefix);
	struct sockaddr_storage ss = addr(ip);

	return cidr_contains(&c, (struct sockaddr *)&ss);
}

static void
format_is(const char *in, const char *out)
{
	struct cidr c = parse_ok(in);
	char buf[64];

	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), out);
}

static void
test_parse_ipv4(void **state)
{
	struct cidr c = parse_ok("10.0.0.0/8");
	const uint8_t want[4] = { 10, 0, 0, 0 };

	(void)state;
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_memory_equal(c.addr, want, 4);
	c = parse_ok("192.168.1.1");
	assert_int_equal(c.prefix, 32);
	c = parse_ok("0.0.0.0/0");
	assert_int_equal(c.prefix, 0);
	c = parse_ok("172.16.0.0/12");
	assert_int_equal(c.prefix, 12);
	c = parse_ok("255.255.255.255/32");
	assert_int_equal(c.prefix, 32);
}

static void
test_parse_ipv6(void **state)
{
	struct cidr c = parse_ok("fc00::/7");

	(void)state;
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 7);
	assert_int_equal(c.addr[0], 0xfc);
	c = parse_ok("::1");
	assert_int_equal(c.prefix, 128);
	c = parse_ok("::/0");
	assert_int_equal(c.prefix, 0);
	c = parse_ok("2001:db8::/32");
	assert_int_equal(c.prefix, 32);
	c = parse_ok("::ffff:10.0.0.0/104");
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 104);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	parse_bad("");
	parse_bad("/8");
	parse_bad("10.0.0.0/");
	parse_bad("10.0.0.0/33");
	parse_bad("10.0.0.0/-1");
	parse_bad("10.0.0.0/8x");
	parse_bad("10.0.0.0/ 8");
	parse_bad("10.0.0.0/8/8");
	parse_bad("10.0.0/8");
	parse_bad("010.0.0.0/8");
	parse_bad(" 10.0.0.0/8");
	parse_bad("10.0.0.0 /8");
	parse_bad("example.com/8");
	parse_bad("2001:db8::/129");
	parse_bad("fe80::1%eth0/64");
	parse_bad("10.0.0.0/123456");
	parse_bad("2001:db8:0:0:0:0:0:0:0/64");
}

static void
test_parse_host_bits(void **state)
{
	struct cidr c;
	const char *why = NULL;

	(void)state;
	assert_int_equal(cidr_parse("10.1.2.3/8", &c, &why), -1);
	assert_non_null(strstr(why, "prefix"));
	parse_bad("172.17.0.0/12");
	parse_bad("2001:db8::1/64");
	parse_bad("fd00::/7");
	parse_ok("10.1.2.3/32");
	parse_ok("172.16.0.0/12");
}

static void
test_contains_ipv4(void **state)
{
	(void)state;
	assert_true(contains("10.0.0.0/8", "10.255.1.2"));
	assert_false(contains("10.0.0.0/8", "11.0.0.1"));
	assert_true(contains("172.16.0.0/12", "172.31.255.255"));
	assert_false(contains("172.16.0.0/12", "172.32.0.0"));
	assert_false(contains("172.16.0.0/12", "172.15.255.255"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	assert_true(contains("192.168.1.1", "192.168.1.1"));
	assert_false(contains("192.168.1.1", "192.168.1.2"));
	assert_false(contains("10.0.0.0/8", "::1"));
}

static void
test_contains_ipv6(void **state)
{
	(void)state;
	assert_true(contains("fc00::/7", "fd12:3456::1"));
	assert_false(contains("fc00::/7", "fe80::1"));
	assert_true(contains("::/0", "2001:db8::1"));
	assert_true(contains("::1", "::1"));
	assert_false(contains("2001:db8::/32", "2001:db9::1"));
	assert_false(contains("fc00::/7", "10.0.0.1"));
}

static void
test_contains_mapped(void **state)
{
	(void)state;
	/* An IPv4-mapped client address is matched as IPv4. */
	assert_true(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_false(contains("10.0.0.0/8", "::ffff:11.1.2.3"));
	assert_true(contains("0.0.0.0/0", "::ffff:1.2.3.4"));
	/* A mapped prefix is the IPv4 prefix it maps. */
	assert_true(contains("::ffff:10.0.0.0/104", "10.9.9.9"));
	assert_true(contains("::ffff:10.0.0.0/104", "::ffff:10.9.9.9"));
	assert_false(contains("::ffff:10.0.0.0/104", "11.0.0.1"));
	assert_true(contains("::ffff:0:0/96", "198.51.100.1"));
	/* "::/0" is all of IPv6, not quietly all of IPv4 too. */
	assert_false(contains("::/0", "10.0.0.1"));
	assert_false(contains("::/0", "::ffff:10.0.0.1"));
}

static void
test_contains_other_family(void **state)
{
	struct cidr c = parse_ok("0.0.0.0/0");
	struct sockaddr_un sun;

	(void)state;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_false(cidr_contains(&c, (struct sockaddr *)&sun));
}

static void
test_list_contains(void **state)
{
	struct cidr v[2];
	struct sockaddr_storage a = addr("192.168.3.4"), b = addr("8.8.8.8");

	(void)state;
	v[0] = parse_ok("10.0.0.0/8");
	v[1] = parse_ok("192.168.0.0/16");
	assert_true(cidr_list_contains(v, 2, (struct sockaddr *)&a));
	assert_false(cidr_list_contains(v, 2, (struct sockaddr *)&b));
	assert_false(cidr_list_contains(v, 0, (struct sockaddr *)&a));
}

static void
test_format(void **state)
{
	(void)state;
	format_is("10.0.0.0/8", "10.0.0.0/8");
	format_is("192.168.1.1", "192.168.1.1/32");
	format_is("fc00::/7", "fc00::/7");
	format_is("2001:0db8:0000::/32", "2001:db8::/32");
	format_is("::/0", "::/0");
	format_is("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104");
}

static void
hostport_is(const char *s, uint16_t def, const char *host, uint16_t port)
{
	char *h = NULL;
	uint16_t p = 0;
	const char *why = NULL;

	if (hostport_parse(s, def, &h, &p, &why) != 0)
		fail_msg("hostport_parse(\"%s\") failed: %s", s, why);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
	free(h);
}

static void
hostport_bad(const char *s, uint16_t def)
{
	char *h = NULL;
	uint16_t p = 0;
	const char *why = NULL;

	if (hostport_parse(s, def, &h, &p, &why) == 0)
		fail_msg("hostport_parse(\"%s\") accepted: %s %u", s, h, p);
	assert_non_null(why);
	assert_null(h);
}

static void
test_hostport(void **state)
{
	(void)state;
	hostport_is("example.com", 443, "example.com", 443);
	hostport_is("example.com:8443", 443, "example.com", 8443);
	hostport_is("vpce-1-2.dynamodb.us-east-1.vpce.amazonaws.com:443", 1,
	    "vpce-1-2.dynamodb.us-east-1.vpce.amazonaws.com", 443);
	hostport_is("10.0.0.1:1", 443, "10.0.0.1", 1);
	hostport_is("10.0.0.1:65535", 443, "10.0.0.1", 65535);
	hostport_is("[::1]:443", 80, "::1", 443);
	hostport_is("[::1]", 80, "::1", 80);
	hostport_is("[2001:db8::1]:8443", 80, "2001:db8::1", 8443);
	/* Two or more colons and no brackets: an IPv6 literal, no port. */
	hostport_is("::1", 53, "::1", 53);
	hostport_is("2001:db8::53", 53, "2001:db8::53", 53);
	hostport_is("my_host", 7, "my_host", 7);
}

static void
test_hostport_errors(void **state)
{
	(void)state;
	hostport_bad("", 443);
	hostport_bad(":443", 443);
	hostport_bad("host:", 443);
	hostport_bad("host:0", 443);
	hostport_bad("host:65536", 443);
	hostport_bad("host:99999999", 443);
	hostport_bad("host:+1", 443);
	hostport_bad("host:-1", 443);
	hostport_bad("host: 1", 443);
	hostport_bad("host:1a", 443);
	hostport_bad("host:0x10", 443);
	hostport_bad("[::1]443", 443);
	hostport_bad("[::1", 443);
	hostport_bad("[::1]:", 443);
	hostport_bad("[]:443", 443);
	hostport_bad("[1.2.3.4]:80", 443);
	hostport_bad("[example.com]:80", 443);
	hostport_bad("2001:db8::zz", 443);
	hostport_bad("fe80::1%eth0", 443);
	hostport_bad("a b:1", 443);
	hostport_bad("user@host:1", 443);
	hostport_bad("host/path", 443);
	/* A default port of 0 means the port is required. */
	hostport_bad("host", 0);
	hostport_bad("::1", 0);
	hostport_bad("[::1]", 0);
	hostport_is("host:1", 0, "host", 1);
}

static void
sockaddr_is(const char *s, uint16_t def, const char *formatted)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const char *why = NULL;
	char buf[64];

	if (sockaddr_parse(s, def, &ss, &len, &why) != 0)
		fail_msg("sockaddr_parse(\"%s\") failed: %s", s, why);
	assert_string_equal(sockaddr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), formatted);
	assert_int_equal(len, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static void
sockaddr_bad(const char *s, uint16_t def)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const char *why = NULL;

	if (sockaddr_parse(s, def, &ss, &len, &why) == 0)
		fail_msg("sockaddr_parse(\"%s\") accepted", s);
	assert_non_null(why);
}

static void
test_sockaddr_parse(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;
	const char *why;

	(void)state;
	assert_int_equal(sockaddr_parse("127.0.0.1:8443", 0, &ss, &len,
	    &why), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 8443);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	sockaddr_is("0.0.0.0:443", 0, "0.0.0.0:443");
	sockaddr_is("[::]:443", 0, "[::]:443");
	sockaddr_is("[::1]:3128", 0, "[::1]:3128");
	sockaddr_is("10.0.0.2", 53, "10.0.0.2:53");
	sockaddr_is("10.0.1.2:5353", 53, "10.0.1.2:5353");
	sockaddr_is("2001:db8::53", 53, "[2001:db8::53]:53");
	sockaddr_is("[2001:db8::53]:5353", 53, "[2001:db8::53]:5353");
}

static void
test_sockaddr_parse_errors(void **state)
{
	(void)state;
	sockaddr_bad("localhost:80", 0);
	sockaddr_bad("example.com", 53);
	sockaddr_bad("1.2.3.4", 0);
	sockaddr_bad("1.2.3:80", 0);
	sockaddr_bad("1.2.3.4.5:80", 0);
	sockaddr_bad("256.0.0.1:80", 0);
	sockaddr_bad("1.2.3.4:0", 0);
	sockaddr_bad("::1", 0);
	sockaddr_bad("", 53);
}

static void
test_sockaddr_format(void **state)
{
	struct sockaddr_storage ss = addr("2001:db8::1");
	struct sockaddr_un sun;
	char buf[64];

	(void)state;
	((struct sockaddr_in6 *)&ss)->sin6_port = htons(443);
	assert_string_equal(sockaddr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[2001:db8::1]:443");
	assert_string_equal(sockaddr_format_ip((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "2001:db8::1");
	ss = addr("192.0.2.7");
	((struct sockaddr_in *)&ss)->sin_port = htons(80);
	assert_string_equal(sockaddr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.7:80");
	assert_string_equal(sockaddr_format_ip((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.7");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_string_equal(sockaddr_format((struct sockaddr *)&sun, buf,
	    sizeof(buf)), "?");
	/* A short buffer truncates, never overflows. */
	assert_string_equal(sockaddr_format((struct sockaddr *)&ss, buf, 5),
	    "192.");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_host_bits),
		cmocka_unit_test(test_contains_ipv4),
		cmocka_unit_test(test_contains_ipv6),
		cmocka_unit_test(test_contains_mapped),
		cmocka_unit_test(test_contains_other_family),
		cmocka_unit_test(test_list_contains),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_errors),
		cmocka_unit_test(test_sockaddr_parse),
		cmocka_unit_test(test_sockaddr_parse_errors),
		cmocka_unit_test(test_sockaddr_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
