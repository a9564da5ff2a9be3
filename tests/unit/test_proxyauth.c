/* SPDX-License-Identifier: MIT */
/* test_proxyauth.c - the proxy's credentials: SOCKS5 username/password and Basic headers
 * matched against --proxyauth, and the header sent to an upstream proxy. */
#include "proxyauth.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static void test_match(void)
{
	ok(proxyauth_match("alice:pw", "alice", 5, "pw", 2) == 1);
	ok(proxyauth_match("alice:pw", "alice", 5, "pX", 2) == 0);
	ok(proxyauth_match("alice:pw", "alice:pw", 8, "", 0) == 0); /* "alice:pw:" */
	ok(proxyauth_match("alice:pw", "alice", 5, "pw!", 3) == 0);
	ok(proxyauth_match("alice:pw", "", 0, "", 0) == 0);
	ok(proxyauth_match("a:b:c", "a", 1, "b:c", 3) == 1); /* a colon in the password */
}

static void test_header(void)
{
	/* base64("alice:pw") = YWxpY2U6cHc= */
	ok(proxyauth_check_header("alice:pw", "Basic YWxpY2U6cHc=") == 1);
	ok(proxyauth_check_header("alice:pw", "basic  YWxpY2U6cHc=") == 1);
	ok(proxyauth_check_header("alice:pw", "Basic YWxpY2U6cHg=") == 0); /* alice:px */
	ok(proxyauth_check_header("alice:pw", "Bearer YWxpY2U6cHc=") == 0);
	ok(proxyauth_check_header("alice:pw", "Basic !!!!") == 0);
	ok(proxyauth_check_header("alice:pw", "Basic ") == 0);
	ok(proxyauth_check_header("alice:pw", "Basic") == 0);
	ok(proxyauth_check_header("alice:pw", NULL) == 0);
	ok(proxyauth_check_header("alicepw", "Basic YWxpY2Vwdw==") == 0); /* no colon: never */
}

static void test_basic(void)
{
	char *h = proxyauth_basic("alice:pw");
	ok(strcmp(h, "Basic YWxpY2U6cHc=") == 0);
	ok(proxyauth_check_header("alice:pw", h) == 1);
	free(h);
}

int main(void)
{
	subtest("match", test_match);
	subtest("header", test_header);
	subtest("basic", test_basic);
	return harness_done();
}
