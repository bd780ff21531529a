/*
 * cidr — IPv4/IPv6 prefixes and socket addresses as text. Pure.
 */
#ifndef DDBGATE_CIDR_H
#define DDBGATE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; host bits are zero */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/*
 * Parses "a.b.c.d/n", "x:y::z/n", or a bare address (a host prefix).
 * Rejects host bits set below the prefix ("10.1.2.3/8"), since such a
 * rule is almost always a typo. Returns 0, or -1 with a reason in *why.
 */
int cidr_parse(const char *s, struct cidr *out, const char **why);

/* Whether the address (sockaddr_in or sockaddr_in6) lies in c.
 * IPv4-mapped IPv6 addresses are matched as IPv4. */
bool cidr_contains(const struct cidr *c, const struct sockaddr *sa);

/* Whether any of the n prefixes contains sa. */
bool cidr_list_contains(const struct cidr *v, size_t n,
    const struct sockaddr *sa);

/* Writes "a.b.c.d/n" or "x::y/n" into buf (at least 64 bytes). */
const char *cidr_format(const struct cidr *c, char *buf, size_t len);

/*
 * Parses "host:port", "[v6]:port", or "host" (then *port = default_port)
 * into a newly allocated host string without brackets. Returns 0, or -1
 * with a reason in *why. The port must be 1..65535.
 */
int hostport_parse(const char *s, uint16_t default_port, char **host,
    uint16_t *port, const char **why);

/* Parses a numeric "ip:port" / "[ip]:port" into a socket address. */
int sockaddr_parse(const char *s, uint16_t default_port,
    struct sockaddr_storage *ss, socklen_t *sslen, const char **why);

/*
 * Two socket addresses are the same IPv4 or IPv6 address, port and (IPv6)
 * scope; padding, sin_zero and the flow label do not count. Anything
 * else, and NULL, is never the same.
 */
bool sockaddr_same(const struct sockaddr *a, const struct sockaddr *b);

/* Writes an address as "1.2.3.4:443" or "[::1]:443" (at least 64 bytes). */
const char *sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

/* Writes an address without the port (at least 48 bytes). */
const char *sockaddr_format_ip(const struct sockaddr *sa, char *buf,
    size_t len);

#endif
