/* SPDX-License-Identifier: MIT */
/* test_jsontext.c - jsontext.h: UTF-8 as is, other strings widened from Latin-1 with a mark,
 * other bodies as base64. */
#include "jsontext.h"

#include "harness.h"

#include <string.h>

static int text_is(json_t *j, const char *want, size_t want_len)
{
	int same = json_is_string(j) && json_string_length(j) == want_len &&
		   memcmp(json_string_value(j), want, want_len) == 0;
	json_decref(j);
	return same;
}

static void test_string(void)
{
	int l = 0;
	ok(text_is(jsontext_string("caf\xc3\xa9", 5, &l), "caf\xc3\xa9", 5) && l == 0);
	ok(text_is(jsontext_string("", 0, &l), "", 0) && l == 0);
	ok(text_is(jsontext_string("a\0b", 3, &l), "a\0b", 3) && l == 0);
	ok(text_is(jsontext_string("caf\xe9", 4, &l), "caf\xc3\xa9", 5) && l == 1);
	l = 0;
	/* the whole string is read as Latin-1, a valid sequence in it too */
	ok(text_is(jsontext_string("\xc3\xa9\xff", 3, &l), "\xc3\x83\xc2\xa9\xc3\xbf", 6) &&
	   l == 1);
	ok(text_is(jsontext_string("\xff", 1, NULL), "\xc3\xbf", 2));
	json_t *n = jsontext_string(NULL, 0, &l);
	ok(json_is_null(n));
	json_decref(n);
	l = 7;
	ok(text_is(jsontext_string("ok", 2, &l), "ok", 2) && l == 7); /* left alone */
}

static void test_body(void)
{
	int b = 9;
	ok(text_is(jsontext_body("<p>caf\xc3\xa9</p>", 12, &b), "<p>caf\xc3\xa9</p>", 12) &&
	   b == 0);
	ok(text_is(jsontext_body(NULL, 0, &b), "", 0) && b == 0);
	ok(text_is(jsontext_body("\x89PNG", 4, &b), "iVBORw==", 8) && b == 1);
	ok(text_is(jsontext_body("caf\xe9", 4, &b), "Y2Fm6Q==", 8) && b == 1);
}

int main(void)
{
	subtest("strings", test_string);
	subtest("bodies", test_body);
	return harness_done();
}
