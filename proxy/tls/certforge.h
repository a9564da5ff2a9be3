/* SPDX-License-Identifier: MIT */
/* certforge.h - the local CA and the leaf certificates forged with it.
 *
 * The CA is created on first use in the config directory (ca.key mode 0600, ca.pem, ca.der)
 * and loaded from there afterwards. Every forged leaf uses one shared EC P-256 key and is
 * cached by the names it carries, so a host costs one signature per run. Thread-safe.
 */
#ifndef CERTFORGE_H
#define CERTFORGE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct certforge;

/* Loads the CA from dir (creating dir and the CA if missing). NULL with err filled on
 * failure (unreadable key, bad permissions on dir, ...). */
struct certforge *certforge_open(const char *dir, char *err, size_t errlen);
void certforge_free(struct certforge *cf); /* NULL is a no-op */

/* A leaf for serving `host` (a DNS name or an IP literal) to the client. The subject CN and
 * the subjectAltNames are copied from `upstream` (the real server's leaf, may be NULL), and
 * `host` is added as a DNS or IP SAN when not already covered. Valid from one hour ago for
 * less than 200 days, EKU serverAuth, signed by the CA. Returns a new reference: the caller
 * X509_free()s it. Never NULL except when OpenSSL itself fails (then logged). */
X509 *certforge_issue(struct certforge *cf, const char *host, X509 *upstream);

/* Bounds the forged-certificate cache to max entries (at least 1; default 4096), evicting
 * the least recently used ones now if needed. */
void certforge_set_cache_limit(struct certforge *cf, size_t max);

EVP_PKEY *certforge_leaf_key(struct certforge *cf); /* borrowed: the shared leaf key */
X509 *certforge_ca_cert(struct certforge *cf);      /* borrowed */
/* The CA certificate encoded as PEM / DER; borrowed, valid until certforge_free(). */
const char *certforge_ca_pem(const struct certforge *cf, size_t *len);
const unsigned char *certforge_ca_der(const struct certforge *cf, size_t *len);

#endif
