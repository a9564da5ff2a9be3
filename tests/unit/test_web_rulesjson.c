/* SPDX-License-Identifier: MIT */
/* test_web_rulesjson.c - the live rules document through rulesjson.h: a full document and the
 * defaults of absent parts, the normalized text, each shape error named, the compile check's
 * wording, and the host lists replaced for start-up seeding. */
#include "rulesjson.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, struct rulesjson *r, char *err, size_t errlen)
{
	return rulesjson_parse(text, strlen(text), r, err, errlen);
}

static void full(void)
{
	char err[256];
	struct rulesjson r;
	const char *doc = "{\"ignore_hosts\":[\"^a:\",\"b\"],\"allow_hosts\":[\"c\"],"
			  "\"intercept\":\"~d x\",\"block\":[{\"filter\":\"~u ads\",\"status\":"
			  "404},{\"filter\":\"~u t\"}],\"other\":1}";
	ok(parse(doc, &r, err, sizeof err) == 0);
	ok(r.num_ignore_hosts == 2 && strcmp(r.ignore_hosts[1], "b") == 0);
	ok(r.num_allow_hosts == 1 && strcmp(r.allow_hosts[0], "c") == 0);
	ok(strcmp(r.intercept, "~d x") == 0);
	ok(r.num_block == 2 && r.block[0].status == 404 && r.block[1].status == 403);
	ok(rulesjson_check(&r, err, sizeof err) == 0);
	char *text = rulesjson_dump(&r);
	ok(strcmp(text, "{\"ignore_hosts\":[\"^a:\",\"b\"],\"allow_hosts\":[\"c\"],\"intercept\":"
			"\"~d x\",\"block\":[{\"filter\":\"~u ads\",\"status\":404},{\"filter\":"
			"\"~u t\",\"status\":403}]}") == 0);
	free(text);
	rulesjson_clear(&r);
	ok(r.ignore_hosts == NULL && r.num_block == 0);
}

static void defaults(void)
{
	char err[256];
	struct rulesjson r;
	ok(parse("{\"intercept\":null}", &r, err, sizeof err) == 0);
	char *text = rulesjson_dump(&r);
	ok(strcmp(text,
		  "{\"ignore_hosts\":[],\"allow_hosts\":[],\"intercept\":\"\",\"block\":[]}") == 0);
	free(text);
	rulesjson_clear(&r);
}

/* Each document is refused, by the parse (check == 0) or by the compile check, with err
 * starting with the text given. */
struct refusal {
	const char *doc, *err;
	int check;
};

static const struct refusal refusals[] = {
    {"nope", "not JSON", 0},
    {"{\"a\":1,\"a\":2}", "not JSON", 0},
    {"[]", "expected an object", 0},
    {"{\"ignore_hosts\":\"x\"}", "ignore_hosts: expected an array", 0},
    {"{\"allow_hosts\":[1]}", "allow_hosts[0]: expected a string", 0},
    {"{\"ignore_hosts\":null}", "ignore_hosts: expected an array", 0},
    {"{\"intercept\":3}", "intercept: expected a filter expression", 0},
    {"{\"block\":{}}", "block: expected an array", 0},
    {"{\"block\":[{\"status\":403}]}", "block[0]: expected {", 0},
    {"{\"block\":[{\"filter\":\"\",\"status\":99}]}", "block[0].status: expected 100", 0},
    {"{\"block\":[{\"filter\":\"\",\"status\":\"403\"}]}", "block[0].status", 0},
    {"{\"ignore_hosts\":[\"ok\",\"(\"]}", "ignore_hosts[1]: at 1: ", 1},
    {"{\"allow_hosts\":[\"[\"]}", "allow_hosts[0]: at ", 1},
    {"{\"intercept\":\"~x y\"}", "intercept: ", 1},
    {"{\"block\":[{\"filter\":\"~u a\"},{\"filter\":\"(\"}]}", "block[1].filter: ", 1},
};

static void refused(void)
{
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *t = &refusals[i];
		char err[256] = "";
		struct rulesjson r;
		int parsed = parse(t->doc, &r, err, sizeof err);
		ok(parsed == (t->check ? 0 : -1));
		if (parsed == 0) {
			ok(rulesjson_check(&r, err, sizeof err) == -1);
			rulesjson_clear(&r);
		}
		ok(strstr(err, t->err) == err);
		ok(r.ignore_hosts == NULL && r.intercept == NULL && r.block == NULL);
	}
	char err[256];
	struct rulesjson r;
	ok(rulesjson_parse(NULL, 0, &r, err, sizeof err) == -1);
}

static void seed_hosts(void)
{
	char err[256];
	struct rulesjson r;
	const char *const hosts[] = {"^x:", "^y:"};
	ok(parse("{\"ignore_hosts\":[\"old\"],\"intercept\":\"~d a\"}", &r, err, sizeof err) == 0);
	rulesjson_set_hosts(&r.ignore_hosts, &r.num_ignore_hosts, hosts, 2);
	rulesjson_set_hosts(&r.allow_hosts, &r.num_allow_hosts, hosts + 1, 1);
	char *text = rulesjson_dump(&r);
	ok(strcmp(text, "{\"ignore_hosts\":[\"^x:\",\"^y:\"],\"allow_hosts\":[\"^y:\"],"
			"\"intercept\":\"~d a\",\"block\":[]}") == 0);
	free(text);
	rulesjson_clear(&r);
}

int main(void)
{
	subtest("full", full);
	subtest("defaults", defaults);
	subtest("refused", refused);
	subtest("seed_hosts", seed_hosts);
	return harness_done();
}
