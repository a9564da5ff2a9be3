/* SPDX-License-Identifier: MIT */
/* fuzz_b64.c - base64 encoding and decoding. Invariants: encoding the input gives padded text
 * that decodes to the input; when the input itself decodes (whitespace, missing padding), the
 * bytes are NUL-terminated, re-encode, and that text decodes to the same bytes; when it does
 * not, nothing is left to free. */
#include "b64.h"

#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* bytes -> text -> the same bytes */
	size_t tlen, blen;
	char *text = b64_encode(data, size, &tlen);
	char *bytes;
	check(tlen % 4 == 0 && strlen(text) == tlen);
	check(b64_decode(text, tlen, &bytes, &blen) == 0);
	check(blen == size && memcmp(bytes, data, size) == 0);
	free(bytes);
	free(text);

	/* text -> bytes -> canonical text -> the same bytes */
	if (b64_decode((const char *)data, size, &bytes, &blen) != 0) {
		check(bytes == NULL);
		return 0;
	}
	check(bytes[blen] == '\0');
	char *again = b64_encode(bytes, blen, &tlen);
	char *back;
	size_t back_len;
	check(b64_decode(again, tlen, &back, &back_len) == 0);
	check(back_len == blen && memcmp(back, bytes, blen) == 0);
	free(back);
	free(again);
	free(bytes);
	return 0;
}
