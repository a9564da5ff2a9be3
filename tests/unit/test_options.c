/* SPDX-License-Identifier: MIT */
/* test_options.c - the command line: defaults, every option, and clear errors. */
#include "options.h"

#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int parse(struct options *o, char *err, size_t errlen, int argc, ...)
{
	char *argv[32];
	va_list ap;
	va_start(ap, argc);
	argv[0] = "flowscope";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	return options_parse(o, argc, argv, err, errlen);
}

static void test_defaults(void)
{
	struct options o;
	char err[256];
	setenv("HOME", "/home/u", 1);
	ok(parse(&o, err, sizeof err, 1) == 0);
	ok(strcmp(o.listen_host, "127.0.0.1") == 0 && o.listen_port == 8080);
	ok(strcmp(o.web_host, "127.0.0.1") == 0 && o.web_port == 8081);
	ok(strcmp(o.confdir, "/home/u/.flowscope") == 0);
	ok(strcmp(o.db, "/home/u/.flowscope/flows.db") == 0);
	ok(o.mode == PROXY_MITM && !o.ssl_insecure && o.threads >= 1);
	ok(o.body_limit == 4u << 20 && o.web_token == NULL);
	options_clear(&o);
}

static void test_all_options(void)
{
	struct options o;
	char err[256];
	ok(parse(&o, err, sizeof err, 21, "--listen", "0.0.0.0:9000", "--web", "[::1]:9001",
		 "--confdir", "/c", "--mode", "forward", "--ignore-hosts", "a\\.com",
		 "--ignore-hosts", "b", "--allow-hosts", "c", "--ssl-insecure", "--web-token",
		 "tok", "--threads", "3", "--body-limit=100") == 0);
	ok(strcmp(o.listen_host, "0.0.0.0") == 0 && o.listen_port == 9000);
	ok(strcmp(o.web_host, "::1") == 0 && o.web_port == 9001);
	ok(strcmp(o.confdir, "/c") == 0 && strcmp(o.db, "/c/flows.db") == 0);
	ok(o.mode == PROXY_FORWARD && o.ssl_insecure && o.threads == 3);
	ok(o.num_ignore_hosts == 2 && strcmp(o.ignore_hosts[0], "a\\.com") == 0);
	ok(o.num_allow_hosts == 1 && strcmp(o.allow_hosts[0], "c") == 0);
	ok(strcmp(o.web_token, "tok") == 0 && o.body_limit == 100);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 5, "--confdir", "/c", "--db", "/x.db") == 0);
	ok(strcmp(o.db, "/x.db") == 0);
	options_clear(&o);
}

static void test_errors(void)
{
	struct options o;
	char err[256];
	ok(parse(&o, err, sizeof err, 3, "--listen", "nope") == -1);
	ok(strstr(err, "--listen") != NULL);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--listen", "h:70000") == -1);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--mode", "spy") == -1);
	ok(strstr(err, "mitm or forward") != NULL);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--threads", "0") == -1);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--body-limit", "-5") == -1);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 2, "--bogus") == -1);
	ok(strstr(err, "--bogus") != NULL);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 2, "--listen") == -1);
	ok(strstr(err, "needs a value") != NULL);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 2, "stray") == -1);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--web-token", "") == -1);
	options_clear(&o);
}

static void test_hostport(void)
{
	char h[64];
	int p;
	ok(options_split_hostport("localhost:0", h, sizeof h, &p) == 0 && p == 0);
	ok(options_split_hostport("[::]:80", h, sizeof h, &p) == 0 && strcmp(h, "::") == 0);
	ok(options_split_hostport(":80", h, sizeof h, &p) == -1);
	ok(options_split_hostport("[::1]80", h, sizeof h, &p) == -1);
	ok(options_split_hostport("h:", h, sizeof h, &p) == -1);
	/* url_split_authority()'s rules */
	ok(options_split_hostport("[::1]:0", h, sizeof h, &p) == 0 && strcmp(h, "::1") == 0);
	ok(options_split_hostport("0.0.0.0:65535", h, sizeof h, &p) == 0 && p == 65535);
	ok(options_split_hostport("::1:80", h, sizeof h, &p) == -1); /* v6 needs brackets */
	ok(options_split_hostport("h:+80", h, sizeof h, &p) == -1);
	ok(options_split_hostport("h: 80", h, sizeof h, &p) == -1);
	ok(options_split_hostport("h:65536", h, sizeof h, &p) == -1);
	ok(options_split_hostport("a b:80", h, sizeof h, &p) == -1);
	ok(options_split_hostport("localhost", h, sizeof h, &p) == -1);
	ok(options_split_hostport("0123456789:80", h, 10, &p) == -1); /* too long for host */
	ok(options_split_hostport("012345678:80", h, 10, &p) == 0 && strcmp(h, "012345678") == 0);
}

int main(void)
{
	subtest("defaults", test_defaults);
	subtest("all options", test_all_options);
	subtest("errors", test_errors);
	subtest("host:port", test_hostport);
	return harness_done();
}
