/*
 * ca — the gateway certificate authority: create it, load it, and mint
 * short-lived leaf certificates for intercepted names.
 *
 * Keys are ECDSA P-256. The CA carries X.509 name constraints (RFC 5280
 * section 4.2.1.10) limited to the DNS domains it may sign for, so a
 * stolen CA key cannot impersonate anything else. Leaf certificates are
 * valid for a short time, carry one DNS SAN (the name), and are cached
 * per name by the caller-owned struct ca.
 */
#ifndef DDBGATE_CA_H
#define DDBGATE_CA_H

#include <stddef.h>
#include <openssl/ssl.h>

struct ca;

/*
 * Creates a new CA in dir (mode 0700 if it must be made): dir/ca.pem
 * (certificate, 0644) and dir/ca.key (private key, 0600). permitted is
 * the list of DNS name-constraint subtrees (e.g. "amazonaws.com"); n may
 * be 0 for an unconstrained CA. Existing files are not overwritten:
 * returns -1 with a reason in err. Returns 0 on success.
 */
int ca_create(const char *dir, const char *const *permitted, size_t n,
    char *err, size_t errlen);

/*
 * Loads a CA certificate and key (PEM files) and checks that they belong
 * together and that the certificate is a CA. Returns a new struct ca
 * owned by the caller (ca_free), or NULL with a reason in err.
 */
struct ca *ca_load(const char *cert_path, const char *key_path, char *err,
    size_t errlen);

void ca_free(struct ca *ca);

/*
 * Returns the certificate and key for name, minting them on first use
 * (thread-safe: concurrent first callers get the one certificate). The
 * returned objects are owned by ca and live as long as it does. Returns
 * -1 with a reason in err if name is not a valid DNS name or minting fails.
 */
int ca_leaf(struct ca *ca, const char *name, X509 **cert, EVP_PKEY **key,
    char *err, size_t errlen);

/* The CA certificate (owned by ca), to append to served chains. */
X509 *ca_certificate(const struct ca *ca);

/* How many leaf certificates have been minted (for tests and metrics). */
unsigned long ca_minted_count(const struct ca *ca);

#endif
