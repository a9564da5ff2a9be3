/* SPDX-License-Identifier: MIT */
/* proxyauth.h - the proxy's own credentials (--proxyauth USER:PASS): checking what a client
 * offers (Proxy-Authorization: Basic, or SOCKS5 username/password), and the Basic header
 * sent to an upstream proxy (--upstream-auth). No I/O. */
#ifndef PROXYAUTH_H
#define PROXYAUTH_H

#include <stddef.h>

/* 1 when user[0..ulen) ":" pass[0..plen) is expected ("USER:PASS"), else 0. The comparison
 * takes the same time wherever the two differ (digests compared with CRYPTO_memcmp). */
int proxyauth_match(const char *expected, const char *user, size_t ulen, const char *pass,
		    size_t plen);
/* 1 when value (a Proxy-Authorization header's value, may be NULL) is "Basic" and the
 * base64 of expected ("USER:PASS"), compared as proxyauth_match() does; else 0. */
int proxyauth_check_header(const char *expected, const char *value);
/* "Basic " and the base64 of userpass: malloc'd, the caller frees. */
char *proxyauth_basic(const char *userpass);

#endif
