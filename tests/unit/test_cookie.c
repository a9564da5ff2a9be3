/* SPDX-License-Identifier: MIT */
/* test_cookie.c - cookie.h: pairs, lookup and removal in a Cookie header value. */
#include "cookie.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static int found(const char *hdr, const char *name, const char *want)
{
	size_t n = 0;
	const char *v = cookie_find(hdr, strlen(hdr), name, &n);
	if (!want)
		return v == NULL;
	return v && n == strlen(want) && memcmp(v, want, n) == 0;
}

static int removed(const char *hdr, const char *name, const char *want)
{
	size_t n = 99;
	char *out = cookie_remove(hdr, strlen(hdr), name, &n);
	int same = n == strlen(want) && strcmp(out, want) == 0;
	if (!same)
		fprintf(stderr, "got: '%s'\n", out);
	free(out);
	return same;
}

static void test_next(void)
{
	const char *h = " a=1;;b = two words ; c;\t=e ;";
	size_t pos = 0;
	struct cookie_pair c;
	ok(cookie_next(h, strlen(h), &pos, &c) == 1 && c.name_len == 1 && c.name[0] == 'a' &&
	   c.value_len == 1 && c.value[0] == '1');
	ok(cookie_next(h, strlen(h), &pos, &c) == 1 && c.name_len == 1 && c.name[0] == 'b' &&
	   c.value_len == 9 && memcmp(c.value, "two words", 9) == 0);
	ok(cookie_next(h, strlen(h), &pos, &c) == 1 && c.name_len == 1 && c.name[0] == 'c' &&
	   c.value_len == 0 && c.value != NULL);
	ok(cookie_next(h, strlen(h), &pos, &c) == 1 && c.name_len == 0 && c.value_len == 1);
	ok(cookie_next(h, strlen(h), &pos, &c) == 0);
	ok(cookie_next(h, strlen(h), &pos, &c) == 0);
	pos = 0;
	ok(cookie_next("", 0, &pos, &c) == 0);
}

static void test_find(void)
{
	ok(found("flowscope_token=abc", "flowscope_token", "abc"));
	ok(found("a=1; flowscope_token=abc ; b=2", "flowscope_token", "abc"));
	ok(found("a=1;flowscope_token = abc", "flowscope_token", "abc"));
	ok(found("x_flowscope_token=no; flowscope_token=yes", "flowscope_token", "yes"));
	ok(found("flowscope_token=first; flowscope_token=second", "flowscope_token", "first"));
	ok(found("flowscope_token=", "flowscope_token", ""));
	ok(found("Flowscope_token=abc", "flowscope_token", NULL)); /* names are case-sensitive */
	ok(found("flowscope_tokenx=abc", "flowscope_token", NULL));
	ok(found("", "flowscope_token", NULL));
	ok(found("a=\"q\"", "a", "\"q\"")); /* values are not unquoted */
	char bounded[] = "a=1; t=secret";
	size_t n;
	ok(cookie_find(bounded, 4, "t", &n) == NULL); /* len bounds the scan */
}

static void test_remove(void)
{
	ok(removed("flowscope_token=abc", "flowscope_token", ""));
	ok(removed("a=1; flowscope_token=abc; b=2", "flowscope_token", "a=1; b=2"));
	ok(removed(" a = 1 ;flowscope_token=x;b", "flowscope_token", "a = 1; b"));
	ok(removed("a=1", "flowscope_token", "a=1"));
	ok(removed("a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;r;s;t;u;v;w;x;y;z;t", "t",
		   "a; b; c; d; e; f; g; h; i; j; k; l; m; n; o; p; q; r; s; u; v; w; x; y; z"));
	ok(removed(";;;", "t", ""));
	ok(removed("flowscope_token = a; flowscope_token=b", "flowscope_token", ""));
}

int main(void)
{
	subtest("pairs", test_next);
	subtest("find", test_find);
	subtest("remove", test_remove);
	return harness_done();
}
