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

static void test_intercept_budget(void)
{
	static const struct {
		const char *arg;
		size_t want; /* 0: refused */
	} cases[] = {
	    {"1048576", 1048576},
	    {"64k", 64 << 10},
	    {"256m", (size_t)256 << 20},
	    {"2G", (size_t)2 << 30},
	    {"0", 0},
	    {"-1", 0},
	    {"m", 0},
	    {"12x", 0},
	    {"", 0},
	    {"99999999999999999999g", 0},
	};
	struct options o;
	char err[256];
	ok(parse(&o, err, sizeof err, 1) == 0 && o.intercept_budget == (size_t)256 << 20);
	options_clear(&o);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = parse(&o, err, sizeof err, 3, "--intercept-budget", cases[i].arg);
		ok(cases[i].want ? r == 0 && o.intercept_budget == cases[i].want
				 : r == -1 && strstr(err, "--intercept-budget") != NULL);
		options_clear(&o);
	}
	/* the environment sets it, the command line wins */
	setenv("FLOWSCOPE_INTERCEPT_BUDGET", "2m", 1);
	ok(parse(&o, err, sizeof err, 1) == 0 && o.intercept_budget == (size_t)2 << 20);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--intercept-budget", "3m") == 0 &&
	   o.intercept_budget == (size_t)3 << 20);
	options_clear(&o);
	setenv("FLOWSCOPE_INTERCEPT_BUDGET", "lots", 1);
	ok(parse(&o, err, sizeof err, 1) == -1 && strstr(err, "FLOWSCOPE_INTERCEPT_BUDGET"));
	options_clear(&o);
	unsetenv("FLOWSCOPE_INTERCEPT_BUDGET");
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

static void test_modes(void)
{
	struct options o;
	char err[256];
	/* no --mode: one mitm listener on --listen */
	ok(parse(&o, err, sizeof err, 1) == 0);
	ok(o.num_modes == 1 && o.modes[0].mode == PROXY_MITM && !o.modes[0].has_addr);
	ok(o.modes[0].port == -1 && strcmp(o.modes[0].name, "mitm") == 0);
	options_clear(&o);
	/* repeatable, each with or without an address */
	ok(parse(&o, err, sizeof err, 7, "--mode", "regular", "--mode",
		 "reverse:http://127.0.0.1:3000@8082", "--mode", "forward@[::1]:0") == 0);
	ok(o.num_modes == 3 && o.mode == PROXY_MITM);
	ok(o.modes[0].mode == PROXY_MITM && !o.modes[0].has_addr);
	ok(strcmp(o.modes[0].name, "regular") == 0);
	const struct options_mode *r = &o.modes[1];
	ok(r->mode == PROXY_REVERSE && r->has_addr && r->host[0] == 0 && r->port == 8082);
	ok(strcmp(r->target_host, "127.0.0.1") == 0 && r->target_port == 3000 && !r->target_tls);
	ok(strcmp(r->name, "reverse:http://127.0.0.1:3000") == 0);
	ok(o.modes[2].mode == PROXY_FORWARD && strcmp(o.modes[2].host, "::1") == 0);
	ok(o.modes[2].port == 0);
	options_clear(&o);
	struct options_mode m;
	ok(options_parse_mode("reverse:https://example.com", &m, err, sizeof err) == 0);
	ok(m.target_tls && m.target_port == 443 && strcmp(m.target_host, "example.com") == 0);
	ok(options_parse_mode("reverse:https://[::1]:8443/@localhost:9", &m, err, sizeof err) == 0);
	ok(strcmp(m.target_host, "::1") == 0 && m.target_port == 8443);
	ok(strcmp(m.host, "localhost") == 0 && m.port == 9);
}

static void test_mode_errors(void)
{
	struct options o;
	struct options_mode m;
	char err[256];
	static const char *const bad[] = {
	    "spy",
	    "mitm@",
	    "mitm@x",
	    "mitm@70000",
	    "mitm@h:",
	    "mitm@-1",
	    "reverse:",
	    "reverse:ftp://h",
	    "reverse:http://",
	    "reverse:http://h/api",
	    "reverse:http://u:p@h@80",
	    "reverse:h:80",
	    "reverse:http://h:99999",
	    "Mitm",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		ok(options_parse_mode(bad[i], &m, err, sizeof err) == -1);
		ok(strstr(err, "--mode") != NULL);
	}
	ok(options_parse_mode("socks4", &m, err, sizeof err) == -1);
	ok(strstr(err, "mitm or forward") && strstr(err, "'socks4'"));
	ok(options_parse_mode("socks5@1080", &m, err, sizeof err) == 0);
	ok(m.mode == PROXY_SOCKS5 && m.port == 1080 && m.host[0] == 0);
	ok(options_parse_mode("transparent@0.0.0.0:8085", &m, err, sizeof err) == 0);
	ok(m.mode == PROXY_TRANSPARENT && m.port == 8085 && strcmp(m.host, "0.0.0.0") == 0);
	ok(options_parse_mode("transparent:x", &m, err, sizeof err) == -1);
	/* --keep-host-header: off by default */
	ok(parse(&o, err, sizeof err, 2, "--keep-host-header") == 0 && o.keep_host_header == 1);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 1) == 0 && o.keep_host_header == 0);
	options_clear(&o);
	ok(options_parse_mode("reverse:http://h/api", &m, err, sizeof err) == -1);
	ok(strstr(err, "path") != NULL);
	/* two listeners on one address: refused, also through --listen */
	ok(parse(&o, err, sizeof err, 5, "--mode", "mitm", "--mode", "forward") == -1);
	ok(strstr(err, "both listen on 127.0.0.1:8080") != NULL);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 7, "--listen", "127.0.0.1:9000", "--mode", "mitm", "--mode",
		 "forward@9000") == -1);
	options_clear(&o);
	/* port 0 is a free port each time: no clash */
	ok(parse(&o, err, sizeof err, 5, "--mode", "mitm@0", "--mode", "forward@0") == 0);
	options_clear(&o);
}

static void test_upstream_and_auth(void)
{
	struct options o;
	struct options_mode m;
	char err[256];
	ok(options_parse_mode("upstream:http://proxy.corp:3128@8090", &m, err, sizeof err) == 0);
	ok(m.mode == PROXY_UPSTREAM && strcmp(m.target_host, "proxy.corp") == 0);
	ok(m.target_port == 3128 && !m.target_tls && m.port == 8090);
	ok(strcmp(m.name, "upstream:http://proxy.corp:3128") == 0);
	static const char *const bad[] = {
	    "upstream:",
	    "upstream:https://h:3128",
	    "upstream:http://h",
	    "upstream:http://u:p@h:1",
	    "upstream:http://h:1/x",
	    "upstream:socks5://h:1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		ok(options_parse_mode(bad[i], &m, err, sizeof err) == -1);
		ok(strstr(err, "--mode") != NULL);
	}
	ok(parse(&o, err, sizeof err, 5, "--proxyauth", "alice:s:e", "--upstream-auth", "up:") ==
	   0);
	ok(strcmp(o.proxyauth, "alice:s:e") == 0 && strcmp(o.upstream_auth, "up:") == 0);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 1) == 0 && !o.proxyauth && !o.upstream_auth);
	options_clear(&o);
	ok(parse(&o, err, sizeof err, 3, "--proxyauth", "nocolon") == -1);
	ok(strstr(err, "--proxyauth") && strstr(err, "USER:PASS"));
	ok(parse(&o, err, sizeof err, 3, "--upstream-auth", ":pw") == -1);
	ok(strstr(err, "--upstream-auth") != NULL);
	ok(parse(&o, err, sizeof err, 3, "--proxyauth", "a:b\r\nX: y") == -1);
}

int main(void)
{
	subtest("defaults", test_defaults);
	subtest("all options", test_all_options);
	subtest("errors", test_errors);
	subtest("intercept budget", test_intercept_budget);
	subtest("host:port", test_hostport);
	subtest("modes", test_modes);
	subtest("mode errors", test_mode_errors);
	subtest("upstream mode, --proxyauth, --upstream-auth", test_upstream_and_auth);
	return harness_done();
}
