/* SPDX-License-Identifier: MIT */
/* test_b64.c - b64.h: encoding, and decoding with whitespace, optional padding and refusals. */
#include "b64.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static int decodes(const char *in, const char *want, size_t want_len)
{
	char *out = (char *)1;
	size_t n = 0;
	int rc = b64_decode(in, strlen(in), &out, &n);
	int same = rc == 0 && n == want_len && memcmp(out, want, n) == 0 && out[n] == '\0';
	free(out);
	return same;
}

static int refused(const char *in)
{
	char *out = (char *)1;
	size_t n = 0;
	return b64_decode(in, strlen(in), &out, &n) == -1 && out == NULL;
}

static void test_encode(void)
{
	size_t n = 99;
	char *s = b64_encode("", 0, &n);
	ok(n == 0 && strcmp(s, "") == 0);
	free(s);
	s = b64_encode(NULL, 0, NULL);
	ok(strcmp(s, "") == 0);
	free(s);
	const char *plain[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *coded[] = {"Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 6; i++) {
		s = b64_encode(plain[i], strlen(plain[i]), &n);
		ok(strcmp(s, coded[i]) == 0 && n == strlen(coded[i]));
		free(s);
		ok(decodes(coded[i], plain[i], strlen(plain[i])));
	}
	s = b64_encode("A\0B\r\n\xff", 6, &n);
	ok(strcmp(s, "QQBCDQr/") == 0);
	ok(decodes(s, "A\0B\r\n\xff", 6));
	free(s);
}

static void test_decode_lenient(void)
{
	ok(decodes("", "", 0));
	ok(decodes("Zg", "f", 1)); /* padding left out */
	ok(decodes("Zm8", "fo", 2));
	ok(decodes("Zg=", "f", 1));
	ok(decodes(" Zm9v\r\nYmFy\t", "foobar", 6));
	ok(decodes("Zm9v YmE=\n", "fooba", 5));
}

static void test_decode_refused(void)
{
	ok(refused("Z")); /* 4n+1 characters */
	ok(refused("Zm9vY"));
	ok(refused("Zg===")); /* three '=' */
	ok(refused("Z==="));
	ok(refused("Z="));	 /* padded to Z=== */
	ok(refused("Zg==Zg==")); /* data after padding */
	ok(refused("Zm9v*A=="));
	ok(refused("Zm9v-_8=")); /* the URL-safe alphabet is another encoding */
	ok(refused("===="));
	char nul[] = "Zm\0v";
	char *out;
	size_t n;
	ok(b64_decode(nul, 4, &out, &n) == -1);
}

int main(void)
{
	subtest("encode", test_encode);
	subtest("decode: whitespace and missing padding", test_decode_lenient);
	subtest("decode: refused", test_decode_refused);
	return harness_done();
}
