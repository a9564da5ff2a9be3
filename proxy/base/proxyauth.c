/* SPDX-License-Identifier: MIT */
/* proxyauth.c - credentials of the proxy (see proxyauth.h). Both sides of a comparison are
 * hashed first (SHA-256) and the digests compared with CRYPTO_memcmp: neither where the
 * strings differ nor their lengths change how long it takes. */
#include "proxyauth.h"

#include "b64.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static void digest(const char *a, size_t alen, const char *b, size_t blen, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 || (b && EVP_DigestUpdate(ctx, ":", 1) != 1) ||
	    (b && EVP_DigestUpdate(ctx, b, blen) != 1) || EVP_DigestFinal_ex(ctx, out, &n) != 1)
		memset(out, 0, 32); /* cannot match: the other side is hashed the same way */
	EVP_MD_CTX_free(ctx);
}

static int same(const char *expected, const char *got, size_t gotlen, const char *pass, size_t plen)
{
	unsigned char want[32], have[32];
	digest(expected, strlen(expected), NULL, 0, want);
	digest(got, gotlen, pass, plen, have);
	if (CRYPTO_memcmp(want, have, sizeof want) != 0)
		return 0;
	/* a digest of all zeros was a failure, not a match */
	static const unsigned char zero[32];
	return CRYPTO_memcmp(want, zero, sizeof zero) != 0;
}

int proxyauth_match(const char *expected, const char *user, size_t ulen, const char *pass,
		    size_t plen)
{
	return same(expected, user, ulen, pass ? pass : "", plen);
}

int proxyauth_check_header(const char *expected, const char *value)
{
	if (!value || strncasecmp(value, "Basic ", 6) != 0)
		return 0;
	const char *b = value + 6;
	while (*b == ' ')
		b++;
	char *plain;
	size_t len;
	if (b64_decode(b, strlen(b), &plain, &len) != 0)
		return 0;
	int ok = memchr(plain, ':', len) && same(expected, plain, len, NULL, 0);
	OPENSSL_cleanse(plain, len);
	free(plain);
	return ok;
}

char *proxyauth_basic(const char *userpass)
{
	char *b = b64_encode(userpass, strlen(userpass), NULL);
	char *h = xasprintf("Basic %s", b);
	free(b);
	return h;
}
