/*
 * cidr — IPv4/IPv6 prefixes (RFC 4632, RFC 4291 section 2.3) and socket
 * addresses as text. Pure: no name resolution, no I/O.
 *
 * Addresses are parsed with inet_pton(3), so only the strict forms are
 * accepted: dotted quads without leading-zero octal tricks or shorthand,
 * and RFC 4291 IPv6 text without zone identifiers. IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) are matched as
 * the IPv4 address they carry.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xmalloc.h"

/* Longest address text we hand to inet_pton: an IPv6 with an IPv4 tail. */
#define ADDR_TEXT_MAX 64

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static unsigned
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/*
 * Parses 1..digits decimal digits of s (all of it) into a value no
 * larger than max. Returns 0, or -1 if s is empty, has other characters,
 * or is out of range.
 */
static int
parse_decimal(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * Parses the address text s[0..len) as IPv4 or IPv6 into addr (16
 * bytes, IPv4 in the first 4). Returns the family, or AF_UNSPEC.
 */
static int
parse_ip(const char *s, size_t len, uint8_t *addr)
{
	char text[ADDR_TEXT_MAX];

	if (len == 0 || len >= sizeof(text))
		return AF_UNSPEC;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

/* Whether the bits of addr past prefix are all zero. */
static bool
host_bits_clear(const uint8_t *addr, unsigned prefix, unsigned bits)
{
	unsigned i;

	for (i = prefix; i < bits; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	}
	return true;
}

int
cidr_parse(const char *s, struct cidr *out, const char **why)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned prefix;

	memset(out, 0, sizeof(*out));
	out->family = parse_ip(s, alen, out->addr);
	if (out->family == AF_UNSPEC) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	prefix = family_bits(out->family);
	if (slash != NULL && parse_decimal(slash + 1, strlen(slash + 1),
	    family_bits(out->family), &prefix) == -1) {
		*why = out->family == AF_INET ?
		    "prefix length must be 0..32" :
		    "prefix length must be 0..128";
		return -1;
	}
	if (!host_bits_clear(out->addr, prefix, family_bits(out->family))) {
		*why = "address has bits set past the prefix length";
		return -1;
	}
	out->prefix = prefix;
	return 0;
}

/*
 * Reduces an address to the form prefixes are compared in: an
 * IPv4-mapped IPv6 address becomes IPv4. Returns the family (AF_INET,
 * AF_INET6) with the address in addr, or AF_UNSPEC.
 */
static int
canonical_addr(const struct sockaddr *sa, uint8_t *addr)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(addr, 0, 16);
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(addr, &sin->sin_addr, 4);
		return AF_INET;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (memcmp(&sin6->sin6_addr, v4mapped_prefix, 12) == 0) {
			memcpy(addr, (const uint8_t *)&sin6->sin6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(addr, &sin6->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

/*
 * Same for a prefix: one inside ::ffff:0:0/96 is the IPv4 prefix it
 * maps, so "::ffff:10.0.0.0/104" and "10.0.0.0/8" are the same rule
 * while "::/0" does not quietly admit every IPv4 client.
 */
static int
canonical_prefix(const struct cidr *c, uint8_t *addr, unsigned *prefix)
{
	memcpy(addr, c->addr, 16);
	*prefix = c->prefix;
	if (c->family == AF_INET6 && c->prefix >= 96 &&
	    memcmp(c->addr, v4mapped_prefix, 12) == 0) {
		memset(addr, 0, 16);
		memcpy(addr, c->addr + 12, 4);
		*prefix = c->prefix - 96;
		return AF_INET;
	}
	return c->family;
}

/* Whether the first prefix bits of a and b agree. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool
cidr_contains(const struct cidr *c, const struct sockaddr *sa)
{
	uint8_t a[16], p[16];
	unsigned prefix;
	int af;

	af = canonical_addr(sa, a);
	if (af == AF_UNSPEC)
		return false;
	if (canonical_prefix(c, p, &prefix) != af)
		return false;
	return prefix_equal(a, p, prefix);
}

bool
cidr_list_contains(const struct cidr *v, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cidr_contains(&v[i], sa))
			return true;
	}
	return false;
}

const char *
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	snprintf(buf, len, "%s/%u", text, c->prefix);
	return buf;
}

/* Characters a host name or address literal may contain. */
static bool
is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
}

static bool
is_host_text(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_host_char(s[i]))
			return false;
	}
	return true;
}

/*
 * Parses the port text after a colon, or applies the default when there
 * is none (p == NULL). A default of 0 means the port is required.
 */
static int
parse_port(const char *p, uint16_t default_port, uint16_t *port,
    const char **why)
{
	unsigned v;

	if (p == NULL) {
		if (default_port == 0) {
			*why = "a port is required";
			return -1;
		}
		*port = default_port;
		return 0;
	}
	if (parse_decimal(p, strlen(p), 65535, &v) == -1 || v == 0) {
		*why = "port must be a number 1..65535";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* "[v6]" or "[v6]:port". */
static int
split_bracketed(const char *s, const char **host, size_t *hlen,
    const char **port, const char **why)
{
	const char *end = strchr(s, ']');
	uint8_t addr[16];

	if (end == NULL) {
		*why = "missing ']' after an IPv6 address";
		return -1;
	}
	*host = s + 1;
	*hlen = (size_t)(end - s - 1);
	if (parse_ip(*host, *hlen, addr) != AF_INET6) {
		*why = "not an IPv6 address inside [ ]";
		return -1;
	}
	if (end[1] == '\0')
		*port = NULL;
	else if (end[1] == ':')
		*port = end + 2;
	else {
		*why = "unexpected text after ']'";
		return -1;
	}
	return 0;
}

/* "host", "host:port", or an unbracketed IPv6 literal (no port). */
static int
split_plain(const char *s, const char **host, size_t *hlen,
    const char **port, const char **why)
{
	const char *colon = strchr(s, ':');
	uint8_t addr[16];

	*host = s;
	*port = NULL;
	if (colon == NULL) {
		*hlen = strlen(s);
	} else if (strchr(colon + 1, ':') == NULL) {
		*hlen = (size_t)(colon - s);
		*port = colon + 1;
	} else {
		*hlen = strlen(s);
		if (parse_ip(s, *hlen, addr) != AF_INET6) {
			*why = "not an IPv6 address (write [address]:port)";
			return -1;
		}
		return 0;
	}
	if (!is_host_text(*host, *hlen)) {
		*why = *hlen == 0 ? "empty host" :
		    "host contains characters not allowed in a name";
		return -1;
	}
	return 0;
}

/*
 * hostport_parse: a default_port of 0 makes the port mandatory. An
 * unbracketed text with two or more colons is an IPv6 literal without a
 * port. On success *host is owned by the caller (free).
 */
int
hostport_parse(const char *s, uint16_t default_port, char **host,
    uint16_t *port, const char **why)
{
	const char *h, *p;
	size_t hlen;
	int rv;

	if (s[0] == '\0') {
		*why = "empty address";
		return -1;
	}
	if (s[0] == '[')
		rv = split_bracketed(s, &h, &hlen, &p, why);
	else
		rv = split_plain(s, &h, &hlen, &p, why);
	if (rv == -1 || parse_port(p, default_port, port, why) == -1)
		return -1;
	*host = xstrndup(h, hlen);
	return 0;
}

/* Fills ss from a family, a 16-byte address buffer and a port. */
static socklen_t
fill_sockaddr(struct sockaddr_storage *ss, int family, const uint8_t *addr,
    uint16_t port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)(void *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		return sizeof(*sin);
	}
	sin6 = (struct sockaddr_in6 *)(void *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr, 16);
	return sizeof(*sin6);
}

/*
 * sockaddr_parse: as hostport_parse (default_port 0 = port required),
 * but the host must be a numeric address: no name is ever resolved.
 */
int
sockaddr_parse(const char *s, uint16_t default_port,
    struct sockaddr_storage *ss, socklen_t *sslen, const char **why)
{
	uint8_t addr[16];
	uint16_t port;
	char *host;
	int family;

	if (hostport_parse(s, default_port, &host, &port, why) == -1)
		return -1;
	family = parse_ip(host, strlen(host), addr);
	free(host);
	if (family == AF_UNSPEC) {
		*why = "not a numeric IP address";
		return -1;
	}
	*sslen = fill_sockaddr(ss, family, addr, port);
	return 0;
}

const char *
sockaddr_format_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char text[INET6_ADDRSTRLEN];
	const char *ok = NULL;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		ok = inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		ok = inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	}
	snprintf(buf, len, "%s", ok != NULL ? text : "?");
	return buf;
}

bool
sockaddr_same(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a == NULL || b == NULL || a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->sa_family != AF_INET6)
		return false;
	a6 = (const struct sockaddr_in6 *)(const void *)a;
	b6 = (const struct sockaddr_in6 *)(const void *)b;
	return a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

const char *
sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char ip[INET6_ADDRSTRLEN];

	sockaddr_format_ip(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "?");
	return buf;
}
