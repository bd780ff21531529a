/*
 * clienthello — reads the server name (SNI) from the first bytes a TLS
 * client sends, without consuming them: the transparent listener peeks
 * at the socket, learns the name the client wants, and only then lets
 * OpenSSL read the same bytes for the real handshake.
 *
 * Strict: the bytes must be TLS handshake records (content type 22,
 * record version 3.1 to 3.4) carrying one ClientHello (RFC 8446 4.1.2,
 * RFC 5246 7.4.1.2), possibly split over several records, and every
 * length field must agree with the ones around it. At most one
 * server_name extension, holding exactly one entry of type host_name
 * (RFC 6066 section 3); the name is 1..255 bytes of letters, digits,
 * '-' and '.', returned as written (the caller lower-cases and checks
 * it). Anything else is an error, never a guess. Pure: no I/O, no
 * allocation; fuzzed (tests/fuzz/fuzz_clienthello.c).
 */
#ifndef DDBGATE_CLIENTHELLO_H
#define DDBGATE_CLIENTHELLO_H

#include <stddef.h>

/* The most a ClientHello may take before we give up (the largest a
 * real client sends is a few kB; records are at most 16 kB + 5). */
#define CLIENTHELLO_MAX_BYTES (16384 + 5)

enum clienthello_status {
	CLIENTHELLO_OK,	     /* *name set: SNI present */
	CLIENTHELLO_NO_SNI,  /* a complete, valid ClientHello without SNI */
	CLIENTHELLO_PARTIAL, /* valid so far; more bytes are needed */
	CLIENTHELLO_ERROR,   /* not a valid ClientHello; *why says how */
};

/*
 * Parses buf[0..len). On CLIENTHELLO_OK, name[0..*name_len) is the SNI
 * host name copied into name (namecap >= 256), NUL-terminated. On
 * CLIENTHELLO_PARTIAL the caller reads more and calls again with all
 * the bytes so far (len is never larger than CLIENTHELLO_MAX_BYTES: a
 * hello still partial at that size is an error). *why, on error, is a
 * static string for logs.
 */
enum clienthello_status clienthello_sni(const unsigned char *buf, size_t len,
    char *name, size_t namecap, size_t *name_len, const char **why);

#endif
