/* SPDX-License-Identifier: MIT */
/* test_rules.c - the decrypt decision: ignore wins, allow restricts, case-insensitive search
 * on "host:port", bad regexes named, and live swapping keeps taken sets valid. */
#include "rules.h"

#include "harness.h"

#include <string.h>

static void test_empty(void)
{
	char err[256];
	struct rules *r = rules_new(NULL, 0, NULL, 0, err, sizeof err);
	ok(r != NULL);
	ok(rules_should_decrypt(r, "example.com", 443) == 1);
	rules_unref(r);
}

static void test_ignore(void)
{
	char err[256];
	const char *ign[] = {"^example\\.com:", "bank"};
	struct rules *r = rules_new(ign, 2, NULL, 0, err, sizeof err);
	ok(r != NULL);
	ok(rules_should_decrypt(r, "example.com", 443) == 0);
	ok(rules_should_decrypt(r, "EXAMPLE.COM", 443) == 0); /* case-insensitive */
	ok(rules_should_decrypt(r, "www.example.com", 443) == 1);
	ok(rules_should_decrypt(r, "mybank.org", 8443) == 0); /* unanchored search */
	ok(rules_should_decrypt(r, "other.org", 443) == 1);
	rules_unref(r);
}

static void test_port(void)
{
	char err[256];
	const char *ign[] = {":8443$"};
	struct rules *r = rules_new(ign, 1, NULL, 0, err, sizeof err);
	ok(rules_should_decrypt(r, "a.com", 8443) == 0);
	ok(rules_should_decrypt(r, "a.com", 443) == 1);
	rules_unref(r);
}

static void test_allow(void)
{
	char err[256];
	const char *allow[] = {"example\\.com"};
	const char *ign[] = {"^secret\\.example\\.com"};
	struct rules *r = rules_new(ign, 1, allow, 1, err, sizeof err);
	ok(r != NULL);
	ok(rules_should_decrypt(r, "www.example.com", 443) == 1);
	ok(rules_should_decrypt(r, "other.org", 443) == 0);
	ok(rules_should_decrypt(r, "secret.example.com", 443) == 0); /* ignore wins */
	rules_unref(r);
}

static void test_bad_regex(void)
{
	char err[256] = "";
	const char *ign[] = {"good", "(unclosed"};
	struct rules *r = rules_new(ign, 2, NULL, 0, err, sizeof err);
	ok(r == NULL);
	ok(strstr(err, "(unclosed") != NULL);
	ok(strstr(err, "ignore-hosts") != NULL);
	const char *allow[] = {"[z-a]"};
	r = rules_new(NULL, 0, allow, 1, err, sizeof err);
	ok(r == NULL && strstr(err, "allow-hosts") != NULL);
}

static void test_live(void)
{
	char err[256];
	const char *ign[] = {"a\\.com"};
	struct rules_live *l = rules_live_new(rules_new(NULL, 0, NULL, 0, err, sizeof err));
	struct rules *taken = rules_live_get(l);
	ok(rules_should_decrypt(taken, "a.com", 443) == 1);
	rules_live_set(l, rules_new(ign, 1, NULL, 0, err, sizeof err));
	struct rules *now = rules_live_get(l);
	ok(rules_should_decrypt(now, "a.com", 443) == 0);
	ok(rules_should_decrypt(taken, "a.com", 443) == 1); /* the old set is still valid */
	rules_unref(taken);
	rules_unref(now);
	rules_live_free(l);
	rules_live_free(NULL);
	rules_unref(NULL);
}

int main(void)
{
	subtest("empty", test_empty);
	subtest("ignore", test_ignore);
	subtest("port", test_port);
	subtest("allow", test_allow);
	subtest("bad regex", test_bad_regex);
	subtest("live", test_live);
	return harness_done();
}
