/* SPDX-License-Identifier: MIT */
/* fuzz_url.c - the URL and authority parser. Invariants: a failure names one of url.h's
 * error strings; a parsed host is 0-255 bytes of which none is refused (controls, space, DEL,
 * the delimiters url.h lists; ':' only in a valid bracketed IPv6 literal) and passes
 * url_host_ok(), and a host url_host_ok() passes survives a round trip; a parsed URL's path
 * starts with '/' and has no '#' or control byte; and the parts written back out (scheme "://"
 * authority path) parse again to the same parts, without userinfo. The input is tried as an
 * authority (with and without a default port) and as a URL. */
#include "url.h"

#include "check.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int known_error(const char *e)
{
	return e == url_err_absolute || e == url_err_scheme || e == url_err_control ||
	       e == url_err_no_host || e == url_err_host || e == url_err_ipv6 ||
	       e == url_err_authority || e == url_err_port || e == url_err_no_port;
}

static void check_host(const char *host)
{
	size_t len = strlen(host);
	check(len <= URL_HOST_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];
		check(c > ' ' && c != 0x7f && !strchr("/?#@\\\"<>'`{}|^%[]", c));
	}
	if (strchr(host, ':')) {
		struct in6_addr a;
		check(inet_pton(AF_INET6, host, &a) == 1);
	}
	check(len == 0 || url_host_ok(host, len));
}

static void authority(const char *s, size_t len, int def, unsigned flags)
{
	struct url_authority a, b;
	const char *e = NULL;
	if (url_split_authority(s, len, def, flags, &a, &e) != 0) {
		check(known_error(e));
		return;
	}
	check_host(a.host);
	check(a.port >= 0 && a.port <= 65535);
	check(a.port > 0 || (flags & URL_PORT_ZERO));
	check(a.host[0] || (flags & URL_EMPTY_HOST));
	char buf[URL_HOST_MAX + 16];
	int n = url_format_authority(buf, sizeof buf, a.host, a.port, -1);
	check(n > 0 && (size_t)n < sizeof buf);
	check(url_split_authority(buf, (size_t)n, 0, flags, &b, &e) == 0);
	check(strcmp(a.host, b.host) == 0 && a.port == b.port);
}

static void absolute(const char *s, size_t len, unsigned flags)
{
	struct url u, v;
	const char *e = NULL;
	if (url_parse(s, len, flags, &u, &e) != 0) {
		check(known_error(e));
		return;
	}
	check_host(u.authority.host);
	check(u.authority.port >= 1 && u.authority.port <= 65535);
	check(u.path[0] == '/');
	for (const char *p = u.path; *p; p++)
		check((unsigned char)*p > ' ' && *p != 0x7f && *p != '#');
	check(u.authority_text >= s && u.authority_text + u.authority_text_len <= s + len);
	check(u.tls == (u.scheme == URL_HTTPS || u.scheme == URL_WSS));

	char auth[URL_HOST_MAX + 16];
	int n = url_format_authority(auth, sizeof auth, u.authority.host, u.authority.port,
				     url_scheme_port(u.scheme));
	check(n >= 0 && (size_t)n < sizeof auth);
	size_t cap = strlen(u.path) + (size_t)n + 16;
	char *again = malloc(cap);
	check(again);
	int m = snprintf(again, cap, "%s://%s%s", url_scheme_name(u.scheme), auth, u.path);
	check(m > 0 && (size_t)m < cap);
	check(url_parse(again, (size_t)m, flags, &v, &e) == 0);
	check(v.scheme == u.scheme && v.tls == u.tls && !v.had_userinfo);
	check(strcmp(v.authority.host, u.authority.host) == 0);
	check(v.authority.port == u.authority.port);
	check(strcmp(v.path, u.path) == 0);
	url_clear(&v);
	url_clear(&u);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	/* a bare host that passes is one a Host header carries back unchanged */
	if (url_host_ok(s, size)) {
		struct url_authority a;
		const char *e;
		char buf[URL_HOST_MAX + 16];
		char *host = strndup(s, size);
		check(host);
		int n = url_format_authority(buf, sizeof buf, host, 80, -1);
		check(n > 0 && (size_t)n < sizeof buf);
		check(url_split_authority(buf, (size_t)n, 0, 0, &a, &e) == 0);
		check(strcmp(a.host, host) == 0 && a.port == 80);
		free(host);
	}
	authority(s, size, 80, 0);
	authority(s, size, 0, URL_PORT_ZERO);
	authority(s, size, 443, URL_EMPTY_HOST);
	absolute(s, size, 0);
	absolute(s, size, URL_EMPTY_HOST);
	return 0;
}
