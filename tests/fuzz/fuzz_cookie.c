/* SPDX-License-Identifier: MIT */
/* fuzz_cookie.c - the Cookie header reader. Invariants: every pair cookie_next() gives lies
 * inside the input, has no ';' and no leading or trailing space or tab in its name or value,
 * and the reading ends; cookie_find() gives the first pair of that name; cookie_remove() leaves
 * no pair of that name and keeps the other pairs, in order and byte for byte (read again from
 * its output). The first byte of the input picks the name's length, the rest is the header. */
#include "cookie.h"

#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int trimmed(const char *s, size_t len)
{
	return len == 0 || (s[0] != ' ' && s[0] != '\t' && s[len - 1] != ' ' && s[len - 1] != '\t');
}

static int named(const struct cookie_pair *c, const char *name, size_t nlen)
{
	return c->name_len == nlen && memcmp(c->name, name, nlen) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *s = (const char *)data + 1;
	size_t len = size - 1;

	/* the pairs, and the name to look for: the first pair's name cut to data[0] % 8 bytes */
	size_t pos = 0, last = 0, num = 0;
	struct cookie_pair c, first = {0};
	while (cookie_next(s, len, &pos, &c)) {
		check(pos > last && pos <= len);
		last = pos;
		check(c.name >= s && c.name + c.name_len <= s + len);
		check(c.value >= s && c.value + c.value_len <= s + len);
		check(!memchr(c.name, ';', c.name_len) && !memchr(c.value, ';', c.value_len));
		check(!memchr(c.name, '=', c.name_len));
		check(trimmed(c.name, c.name_len) && trimmed(c.value, c.value_len));
		if (num++ == 0)
			first = c;
	}
	size_t nlen = first.name_len < (size_t)(data[0] % 8) ? first.name_len : data[0] % 8;
	char name[8];
	memcpy(name, first.name ? first.name : "", nlen);
	name[nlen] = '\0';
	if (memchr(name, '\0', nlen))
		return 0; /* names are C strings */

	size_t vlen = 0;
	const char *v = cookie_find(s, len, name, &vlen);
	int found = 0;
	pos = 0;
	while (!found && cookie_next(s, len, &pos, &c))
		found = named(&c, name, nlen);
	check(found == (v != NULL));
	if (v)
		check(v == c.value && vlen == c.value_len);

	size_t out_len;
	char *out = cookie_remove(s, len, name, &out_len);
	check(out[out_len] == '\0' && out_len <= 2 * len);
	size_t p_in = 0, p_out = 0;
	struct cookie_pair k;
	for (;;) {
		int more_in;
		while ((more_in = cookie_next(s, len, &p_in, &c)) && named(&c, name, nlen))
			;
		int more_out = cookie_next(out, out_len, &p_out, &k);
		check(more_in == more_out);
		if (!more_in)
			break;
		check(!named(&k, name, nlen));
		check(k.name_len == c.name_len && memcmp(k.name, c.name, c.name_len) == 0);
		check(k.value_len == c.value_len && memcmp(k.value, c.value, c.value_len) == 0);
	}
	free(out);
	return 0;
}
