/* SPDX-License-Identifier: MIT */
/* b64.c - base64 over EVP_EncodeBlock / EVP_DecodeBlock (see b64.h). EVP_DecodeBlock wants
 * whole quanta and counts padding as zero bytes, so decoding first copies the input without
 * whitespace, pads it to a multiple of 4, and subtracts the padding from the result. */
#include "b64.h"

#include "util.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>

/* EVP's block functions count in int; bodies are capped far below this. */
#define B64_MAX ((size_t)INT32_MAX / 2)

char *b64_encode(const void *data, size_t len, size_t *out_len)
{
	if (len > B64_MAX)
		abort(); /* out of the range of any body we hold: a caller bug */
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = len ? EVP_EncodeBlock((unsigned char *)out, data, (int)len) : 0;
	out[n] = '\0';
	if (out_len)
		*out_len = (size_t)n;
	return out;
}

static int in_alphabet(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int b64_decode(const char *in, size_t len, char **out, size_t *out_len)
{
	*out = NULL;
	if (len > B64_MAX)
		return -1;
	char *clean = xmalloc(len + 4);
	size_t n = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=')
			pad++;
		else if (pad || !in_alphabet(c))
			goto bad; /* a character after padding, or not of the alphabet */
		clean[n++] = (char)c;
	}
	if (pad > 2 || n % 4 == 1)
		goto bad;
	while (n % 4) {
		clean[n++] = '=';
		pad++;
	}
	if (pad > 2)
		goto bad; /* "QQ=" padded to "QQ==" is fine, "Q===" is not */
	char *buf = xmalloc(n / 4 * 3 + 1);
	int got = n ? EVP_DecodeBlock((unsigned char *)buf, (unsigned char *)clean, (int)n) : 0;
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out_len = (size_t)got - pad;
	buf[*out_len] = '\0';
	*out = buf;
	return 0;
bad:
	free(clean);
	return -1;
}
