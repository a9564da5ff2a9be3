/* SPDX-License-Identifier: MIT */
/* test_web_liveopts.c - the live options document through liveopts.h: the defaults, keys
 * given over the current values (the rest kept), the whole text dumped, and each refusal named
 * with the values left as they were. */
#include "liveopts.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, struct liveopts *o, char *err, size_t errlen)
{
	return liveopts_parse(text, strlen(text), o, err, errlen);
}

static void defaults(void)
{
	struct liveopts o;
	liveopts_defaults(&o);
	char *text = liveopts_dump(&o);
	ok(strcmp(text, "{\"ssl_insecure\":false,\"anticache\":false,\"body_limit\":4194304,"
			"\"intercept_budget\":268435456}") == 0);
	free(text);
}

static void over_current(void)
{
	char err[300];
	struct liveopts o;
	liveopts_defaults(&o);
	ok(parse("{\"anticache\":true}", &o, err, sizeof err) == 0);
	ok(o.anticache == 1 && o.ssl_insecure == 0 && o.body_limit == LIVEOPTS_BODY_LIMIT);
	ok(parse("{\"ssl_insecure\":true,\"body_limit\":0,\"intercept_budget\":1}", &o, err,
		 sizeof err) == 0);
	ok(o.anticache == 1 && o.ssl_insecure == 1 && o.body_limit == 0 && o.intercept_budget == 1);
	ok(parse("{}", &o, err, sizeof err) == 0 && o.anticache == 1);
	char *text = liveopts_dump(&o);
	ok(strcmp(text, "{\"ssl_insecure\":true,\"anticache\":true,\"body_limit\":0,"
			"\"intercept_budget\":1}") == 0);
	free(text);
}

/* text is refused with an error that contains want, and o is unchanged. */
static void refused_as(const char *text, const char *want)
{
	char err[300] = "";
	struct liveopts o, before;
	liveopts_defaults(&o);
	before = o;
	ok(parse(text, &o, err, sizeof err) == -1);
	ok(strstr(err, want) != NULL);
	ok(memcmp(&o, &before, sizeof o) == 0);
}

static void refused(void)
{
	refused_as("anticache", "not JSON");
	refused_as("[true]", "expected an object");
	refused_as("{\"anticahce\":true}", "unknown option 'anticahce'");
	refused_as("{\"anticache\":1}", "anticache: expected true or false");
	refused_as("{\"ssl_insecure\":\"yes\"}", "ssl_insecure: expected true or false");
	refused_as("{\"body_limit\":-1}", "body_limit: expected a number of bytes from 0 to");
	refused_as("{\"body_limit\":1.5}", "body_limit: expected");
	refused_as("{\"body_limit\":1099511627777}", "body_limit: expected");
	refused_as("{\"intercept_budget\":0}",
		   "intercept_budget: expected a number of bytes from 1");
	refused_as("{\"anticache\":true,\"x\":1}", "unknown option 'x'");
	refused_as("{\"anticache\":true,\"anticache\":false}", "not JSON");
}

int main(void)
{
	subtest("defaults", defaults);
	subtest("over_current", over_current);
	subtest("refused", refused);
	return harness_done();
}
