/* SPDX-License-Identifier: MIT */
/* test_web_door.c - the web server's access checks: Host (DNS rebinding), Origin,
 * Sec-Fetch-Site, token sources and the static file path guard. */
#include "assets.h"
#include "door.h"
#include "harness.h"

#include <string.h>

/* Host headers: {the address the server is bound to, its port, Host, accepted}. */
static const struct {
	const char *bind;
	int port;
	const char *host;
	int accepted;
} hosts[] = {
	{"127.0.0.1", 8081, "127.0.0.1:8081", 1},
	{"127.0.0.1", 8081, "localhost:8081", 1},
	{"127.0.0.1", 8081, "LOCALHOST:8081", 1},
	{"127.0.0.1", 8081, "[::1]:8081", 1},
	{"127.0.0.1", 8081, NULL, 0},
	{"127.0.0.1", 8081, "127.0.0.1", 0},
	{"127.0.0.1", 8081, "127.0.0.1:8082", 0},
	{"127.0.0.1", 8081, "evil.example:8081", 0},
	{"127.0.0.1", 8081, "localhost.evil.example:8081", 0},
	{"127.0.0.1", 8081, "::1:8081", 0},
	{"127.0.0.1", 8081, "[localhost]:8081", 0},
	{"127.0.0.1", 8081, "10.0.0.1:8081", 0},
	{"127.0.0.1", 8081, "127.0.0.1:8081x", 0},
	/* url_split_authority()'s rules: digits only, no stray bytes */
	{"127.0.0.1", 8081, "127.0.0.1:+8081", 0},
	{"127.0.0.1", 8081, "127.0.0.1: 8081", 0},
	{"127.0.0.1", 8081, "127.0.0.1:0008081", 0},
	{"127.0.0.1", 8081, "[::1%lo]:8081", 0},
	{"127.0.0.1", 8081, "local host:8081", 0},
	{"0.0.0.0", 80, "10.0.0.1:80", 1},
	{"0.0.0.0", 80, "[fe80::1]:80", 1},
	{"0.0.0.0", 80, "rebind.example:80", 0},
	{"box.lan", 9000, "box.lan:9000", 1},
	{"box.lan", 9000, "BOX.lan:9000", 1},
	{"box.lan", 9000, "box.lan.evil:9000", 0},
};

static void host(void)
{
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		struct door d;
		door_init(&d, "tok", hosts[i].bind, hosts[i].port);
		ok(!!door_host_ok(&d, hosts[i].host) == hosts[i].accepted);
		door_clear(&d);
	}
	ok(door_is_loopback("127.0.0.1") && door_is_loopback("::1") &&
	   door_is_loopback("localhost"));
	ok(!door_is_loopback("0.0.0.0") && !door_is_loopback("10.1.1.1"));
}

static void origin(void)
{
	ok(door_origin_ok(NULL, "127.0.0.1:8081"));
	ok(door_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8081"));
	ok(!door_origin_ok("http://evil.example", "127.0.0.1:8081"));
	ok(!door_origin_ok("https://127.0.0.1:8081", "127.0.0.1:8081"));
	ok(!door_origin_ok("http://127.0.0.1:8081.evil", "127.0.0.1:8081"));
	ok(!door_origin_ok("null", "127.0.0.1:8081"));
	ok(!door_origin_ok("http://localhost:8081", "127.0.0.1:8081"));
	ok(door_fetch_site_ok(NULL));
	ok(door_fetch_site_ok("same-origin"));
	ok(door_fetch_site_ok("none"));
	ok(!door_fetch_site_ok("cross-site"));
}

static void token(void)
{
	struct door d;
	char out[64];
	door_init(&d, "s3cret", "127.0.0.1", 1);
	ok(door_token_ok(&d, "s3cret"));
	ok(!door_token_ok(&d, "s3cre"));
	ok(!door_token_ok(&d, "s3cret0"));
	ok(!door_token_ok(&d, "S3cret"));
	ok(!door_token_ok(&d, ""));
	ok(!door_token_ok(&d, NULL));
	ok(door_bearer("Bearer abc") && strcmp(door_bearer("Bearer abc"), "abc") == 0);
	ok(door_bearer("bearer  abc") && strcmp(door_bearer("bearer  abc"), "abc") == 0);
	ok(!door_bearer("Basic abc"));
	ok(!door_bearer("Bearer "));
	ok(!door_bearer(NULL));
	ok(door_cookie("a=1; flowscope_token=xyz; b=2", DOOR_COOKIE, out, sizeof out) == 0 &&
	   strcmp(out, "xyz") == 0);
	ok(door_cookie("flowscope_token=xyz", DOOR_COOKIE, out, sizeof out) == 0 &&
	   strcmp(out, "xyz") == 0);
	ok(door_cookie("xflowscope_token=xyz", DOOR_COOKIE, out, sizeof out) != 0);
	ok(door_cookie("a=1", DOOR_COOKIE, out, sizeof out) != 0);
	ok(door_cookie("flowscope_token=0123456789", DOOR_COOKIE, out, 4) != 0);
	/* cookie.h's reading: spaces and tabs around names and values trimmed, first pair wins */
	ok(door_cookie("a=1;\tflowscope_token = xyz ;b", DOOR_COOKIE, out, sizeof out) == 0 &&
	   strcmp(out, "xyz") == 0);
	ok(door_cookie("flowscope_token=one; flowscope_token=two", DOOR_COOKIE, out, sizeof out) ==
	       0 &&
	   strcmp(out, "one") == 0);
	ok(door_cookie(NULL, DOOR_COOKIE, out, sizeof out) != 0);
	door_clear(&d);
}

static void paths(void)
{
	ok(assets_path_ok("/index.html"));
	ok(assets_path_ok("/js/main.js"));
	ok(!assets_path_ok("/../etc/passwd"));
	ok(!assets_path_ok("/js/../../x"));
	ok(!assets_path_ok("/js//x"));
	ok(!assets_path_ok("/./x"));
	ok(!assets_path_ok("x"));
	ok(!assets_path_ok("/a b"));
	ok(!assets_path_ok("/a%2e"));
	ok(!assets_path_ok("/js/"));
	ok(strcmp(assets_mime("/a.js"), "text/javascript; charset=utf-8") == 0);
	ok(strcmp(assets_mime("/a"), "application/octet-stream") == 0);
	ok(assets_find("/index.html") != NULL);
	ok(assets_find("/nope.html") == NULL);
}

int main(void)
{
	subtest("host", host);
	subtest("origin", origin);
	subtest("token", token);
	subtest("paths", paths);
	return harness_done();
}
