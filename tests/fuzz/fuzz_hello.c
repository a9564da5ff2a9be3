/* SPDX-License-Identifier: MIT */
/* fuzz_hello.c - tls_peek_hello() on arbitrary bytes. Besides not crashing (each call gets an
 * exact-size copy, so ASan sees any over-read), it checks:
 *   - the result is -1, 0 or 1, and a parsed hello is clean: sni NUL-terminated, printable
 *     ASCII; 0 <= num_alpn <= 8, each name non-empty, NUL-terminated and printable;
 *   - verdicts are final: once a prefix of the input gets 1 or -1, every longer prefix (the
 *     whole input included) gets the same verdict, and for 1 the same parsed hello. A proxy
 *     that peeks as bytes arrive relies on this. */
#include "tls.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	if (n == max)
		return 0; /* not NUL-terminated inside its array */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int peek_copy(const uint8_t *data, size_t len, struct tls_hello *h)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	memset(h, 0x5a, sizeof *h); /* garbage in, so a missing write shows */
	int rc = tls_peek_hello(copy, len, h);
	free(copy);
	CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == 1) {
		CHECK(printable(h->sni, sizeof h->sni));
		CHECK(h->num_alpn >= 0 && h->num_alpn <= 8);
		for (int i = 0; i < h->num_alpn; i++) {
			CHECK(h->alpn[i][0] != '\0');
			CHECK(printable(h->alpn[i], sizeof h->alpn[i]));
		}
	}
	return rc;
}

/* Prefix lengths to try: all of them for small inputs, a spread for big ones. */
static size_t next_prefix(size_t i, size_t size)
{
	if (size <= 2048)
		return i + 1;
	size_t step = size / 64;
	return i < 64 ? i + 1 : i + step;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello whole, part;
	int rc = peek_copy(data, size, &whole);
	int decided = 0;
	for (size_t i = 0; i < size; i = next_prefix(i, size)) {
		int prc = peek_copy(data, i, &part);
		if (prc == 0) {
			CHECK(!decided); /* a verdict, once given, is never taken back */
			continue;
		}
		decided = 1;
		CHECK(prc == rc); /* and the whole input gets the same verdict */
		if (prc == 1) {
			CHECK(strcmp(part.sni, whole.sni) == 0);
			CHECK(part.num_alpn == whole.num_alpn);
			for (int k = 0; k < part.num_alpn; k++)
				CHECK(strcmp(part.alpn[k], whole.alpn[k]) == 0);
		}
	}
	return 0;
}
