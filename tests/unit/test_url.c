/* SPDX-License-Identifier: MIT */
/* test_url.c - url.h: authorities and absolute URLs. Every input is placed so that it ends
 * right before a PROT_NONE page, so a scan past len crashes instead of passing. */
#include "url.h"

#include "harness.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *page;
static size_t page_size;

/* A copy of s (no NUL) whose last byte is the last readable byte. */
static const char *guarded(const char *s)
{
	size_t len = strlen(s);
	char *p = page + page_size - len;
	memcpy(p, s, len);
	return p;
}

static int auth(const char *s, int def, unsigned flags, struct url_authority *a, const char **e)
{
	return url_split_authority(guarded(s), strlen(s), def, flags, a, e);
}

static int parse(const char *s, struct url *u, const char **e)
{
	return url_parse(guarded(s), strlen(s), 0, u, e);
}

static void test_authority(void)
{
	struct url_authority a;
	const char *e = NULL;
	ok(auth("example.com", 80, 0, &a, &e) == 0 && strcmp(a.host, "example.com") == 0 &&
	   a.port == 80);
	ok(auth("example.com:8443", 80, 0, &a, &e) == 0 && a.port == 8443);
	ok(auth("[::1]", 443, 0, &a, &e) == 0 && strcmp(a.host, "::1") == 0 && a.port == 443);
	ok(auth("[::1]:9", 0, 0, &a, &e) == 0 && strcmp(a.host, "::1") == 0 && a.port == 9);
	ok(auth("[::]:0", 0, URL_PORT_ZERO, &a, &e) == 0 && a.port == 0);
	ok(auth("h:65535", 0, 0, &a, &e) == 0 && a.port == 65535);
	ok(auth("h:00080", 0, 0, &a, &e) == 0 && a.port == 80);
	ok(auth("\xc3\xa9t\xc3\xa9.fr", 80, 0, &a, &e) == 0); /* raw IDN bytes are kept */
}

static void test_authority_refused(void)
{
	struct url_authority a;
	const char *e = NULL;
	ok(auth("example.com", 0, 0, &a, &e) == -1 && e == url_err_no_port);
	ok(auth("h:", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth("h:0", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth("h:65536", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth("h:100000", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth("h:8a", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth("h:+80", 80, 0, &a, &e) == -1 && e == url_err_port);
	ok(auth(":80", 80, 0, &a, &e) == -1 && e == url_err_no_host);
	ok(auth("", 80, 0, &a, &e) == -1 && e == url_err_no_host);
	ok(auth("::1", 80, 0, &a, &e) == -1 && e == url_err_host);
	ok(auth("::1:80", 0, 0, &a, &e) == -1 && e == url_err_host);
	ok(auth("[::1", 80, 0, &a, &e) == -1 && e == url_err_ipv6);
	ok(auth("[::1]80", 80, 0, &a, &e) == -1 && e == url_err_authority);
	ok(auth("[]:80", 80, 0, &a, &e) == -1 && e == url_err_ipv6);
	ok(auth("[example.com]:80", 80, 0, &a, &e) == -1 && e == url_err_ipv6);
	ok(auth("[fe80::1%eth0]:80", 80, 0, &a, &e) == -1 && e == url_err_host);
	const char *bad[] = {"a b", "a\tb", "a\r\nb", "a/b", "a?b", "a#b", "u@h",  "a\\b", "a\"b",
			     "a<b", "a'b",  "a`b",    "a{b", "a|b", "a^b", "a%41", "a]b",  "a\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(auth(bad[i], 80, 0, &a, &e) == -1 && e == url_err_host);
	char nul[] = "a\0b";
	ok(url_split_authority(nul, 3, 80, 0, &a, &e) == -1 && e == url_err_host);
	char longhost[URL_HOST_MAX + 2];
	memset(longhost, 'a', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	ok(auth(longhost, 80, 0, &a, &e) == -1 && e == url_err_host);
	longhost[URL_HOST_MAX] = '\0';
	ok(auth(longhost, 80, 0, &a, &e) == 0 && strlen(a.host) == URL_HOST_MAX);
	ok(auth("", 80, URL_EMPTY_HOST, &a, &e) == 0 && a.host[0] == '\0' && a.port == 80);
}

static void test_host_ok(void)
{
	ok(url_host_ok("example.com", 11));
	ok(url_host_ok("::1", 3));
	ok(url_host_ok("2001:db8::1", 11));
	ok(url_host_ok("10.0.0.1", 8));
	ok(url_host_ok("\xc3\xa9t\xc3\xa9.fr", 8));
	ok(!url_host_ok("", 0));
	ok(!url_host_ok("[::1]", 5));
	ok(!url_host_ok("a:b", 3));
	ok(!url_host_ok("h:80", 4));
	ok(!url_host_ok("fe80::1%eth0", 12));
	ok(!url_host_ok("a b", 3));
	ok(!url_host_ok("u@h", 3));
	ok(!url_host_ok("a\0b", 3));
	char longhost[URL_HOST_MAX + 1];
	memset(longhost, 'a', sizeof longhost);
	ok(url_host_ok(longhost, URL_HOST_MAX));
	ok(!url_host_ok(longhost, URL_HOST_MAX + 1));
	ok(url_host_ok(guarded("host"), 4)); /* no NUL needed */
}

static void test_parse(void)
{
	struct url u = {0};
	const char *e = NULL;
	ok(parse("http://example.com", &u, &e) == 0 && u.scheme == URL_HTTP && !u.tls &&
	   strcmp(u.authority.host, "example.com") == 0 && u.authority.port == 80 &&
	   strcmp(u.path, "/") == 0 && u.authority_text_len == 11 && !u.had_userinfo);
	url_clear(&u);
	ok(parse("HTTPS://example.com:8443/a/b?c=d#frag", &u, &e) == 0 && u.scheme == URL_HTTPS &&
	   u.tls && u.authority.port == 8443 && strcmp(u.path, "/a/b?c=d") == 0 &&
	   u.authority_text_len == 16 && memcmp(u.authority_text, "example.com:8443", 16) == 0);
	url_clear(&u);
	ok(parse("http://h?q=1", &u, &e) == 0 && strcmp(u.path, "/?q=1") == 0);
	url_clear(&u);
	ok(parse("http://h#x", &u, &e) == 0 && strcmp(u.path, "/") == 0);
	url_clear(&u);
	ok(parse("ws://h/chat", &u, &e) == 0 && u.scheme == URL_WS && u.authority.port == 80);
	url_clear(&u);
	ok(parse("wss://[2001:db8::1]/", &u, &e) == 0 && u.scheme == URL_WSS && u.tls &&
	   u.authority.port == 443 && strcmp(u.authority.host, "2001:db8::1") == 0);
	url_clear(&u);
	ok(parse("http://user:pw@host:81/p", &u, &e) == 0 && u.had_userinfo &&
	   strcmp(u.authority.host, "host") == 0 && u.authority.port == 81 &&
	   u.authority_text_len == 7);
	url_clear(&u);
	ok(parse("http://a@b@host/p", &u, &e) == 0 && strcmp(u.authority.host, "host") == 0);
	url_clear(&u);
	ok(parse("http://h/p\xff\xfe", &u, &e) == 0 && strcmp(u.path, "/p\xff\xfe") == 0);
	url_clear(&u);
	ok(url_parse(guarded("http:///x"), 9, URL_EMPTY_HOST, &u, &e) == 0 &&
	   u.authority.host[0] == '\0' && strcmp(u.path, "/x") == 0);
	url_clear(&u);
	url_clear(&u); /* twice is harmless */
	url_clear(NULL);
}

static void test_parse_refused(void)
{
	struct url u = {0};
	const char *e = NULL;
	ok(parse("ftp://h/", &u, &e) == -1 && e == url_err_scheme);
	ok(parse("about:blank", &u, &e) == -1 && e == url_err_scheme);
	ok(parse("/just/a/path", &u, &e) == -1 && e == url_err_absolute);
	ok(parse("http:/h", &u, &e) == -1 && e == url_err_absolute);
	ok(parse("http:", &u, &e) == -1 && e == url_err_absolute);
	ok(parse("", &u, &e) == -1 && e == url_err_absolute);
	ok(parse("http://", &u, &e) == -1 && e == url_err_no_host);
	ok(parse("http:///p", &u, &e) == -1 && e == url_err_no_host);
	ok(parse("http://h/a b", &u, &e) == -1 && e == url_err_control);
	ok(parse("http://h/\r\nX: y", &u, &e) == -1 && e == url_err_control);
	ok(parse("http://h/\x7f", &u, &e) == -1 && e == url_err_control);
	ok(parse("http://h:0/", &u, &e) == -1 && e == url_err_port);
	ok(parse("http://h:/", &u, &e) == -1 && e == url_err_port);
	ok(parse("http://h:99999/", &u, &e) == -1 && e == url_err_port);
	ok(parse("http://[::1/", &u, &e) == -1 && e == url_err_ipv6);
	ok(parse("http://a\\b/", &u, &e) == -1 && e == url_err_host);
	ok(u.path == NULL); /* nothing allocated on failure */
}

static void test_format(void)
{
	char buf[64];
	ok(url_format_authority(buf, sizeof buf, "example.com", 80, 80) == 11 &&
	   strcmp(buf, "example.com") == 0);
	ok(url_format_authority(buf, sizeof buf, "example.com", 8080, 80) == 16 &&
	   strcmp(buf, "example.com:8080") == 0);
	ok(url_format_authority(buf, sizeof buf, "::1", 443, -1) == 9 &&
	   strcmp(buf, "[::1]:443") == 0);
	ok(url_format_authority(buf, 4, "example.com", 8080, 80) == 16 && strcmp(buf, "exa") == 0);
	ok(url_format_authority(buf, 13, "example.com", 8080, 80) == 16 &&
	   strcmp(buf, "example.com:") == 0);
	ok(strcmp(url_scheme_name(URL_WSS), "wss") == 0 && url_scheme_port(URL_WS) == 80);
}

int main(void)
{
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	page =
	    mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || mprotect(page + page_size, page_size, PROT_NONE) != 0)
		return 2;
	subtest("authority", test_authority);
	subtest("authority refused", test_authority_refused);
	subtest("bare host", test_host_ok);
	subtest("absolute URL", test_parse);
	subtest("absolute URL refused", test_parse_refused);
	subtest("format authority", test_format);
	munmap(page, 2 * page_size);
	return harness_done();
}
