/* SPDX-License-Identifier: MIT */
/* url.c - authorities and absolute URLs cut into parts (see url.h for the rules).
 *
 * The input is never NUL-terminated by contract (a header value, a slice of a request target),
 * so every scan is bounded by len. The host is checked byte by byte against one refusal set,
 * so that whatever reaches a Host header, a DNS lookup or a stored row cannot carry a second
 * authority, a path or a line break. IPv6 literals are checked by inet_pton(). */
#include "url.h"

#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char url_err_absolute[] = "not an absolute URL (scheme://host/path)";
const char url_err_scheme[] = "unsupported URL scheme";
const char url_err_control[] = "a space or control byte in the URL";
const char url_err_no_host[] = "no host";
const char url_err_host[] = "bad host";
const char url_err_ipv6[] = "bad IPv6 address in brackets";
const char url_err_authority[] = "bad authority";
const char url_err_port[] = "bad port";
const char url_err_no_port[] = "port required";

/* Bytes a host never contains: delimiters of the other URL parts, quoting and escaping
 * characters, and '%' (no percent-encoded or zone-id hosts). */
static const char refused[] = "/?#@\\\"<>'`{}|^%[]";

static int host_byte_ok(unsigned char c)
{
	return c > ' ' && c != 0x7f && !memchr(refused, c, sizeof refused - 1);
}

/* Checks the bytes of a host; *colon (OUT) tells whether one was a ':'. */
static int host_bytes_ok(const char *h, size_t len, int *colon)
{
	*colon = 0;
	for (size_t i = 0; i < len; i++) {
		if (!host_byte_ok((unsigned char)h[i]))
			return 0;
		*colon |= h[i] == ':';
	}
	return 1;
}

/* Whether the NUL-terminated s is an IPv6 literal. */
static int is_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

char *url_bare_host(const char *host)
{
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n > 1 && host[n - 1] == '.')
		n--;
	return xstrndup(host, n);
}

int url_host_ok(const char *host, size_t len)
{
	int colon;
	if (len == 0 || len > URL_HOST_MAX || !host_bytes_ok(host, len, &colon))
		return 0;
	if (!colon)
		return 1;
	char v6[URL_HOST_MAX + 1];
	memcpy(v6, host, len);
	v6[len] = '\0';
	return is_ipv6(v6);
}

/* Parses the port digits p[0..len); returns the port or -1. */
static int parse_port(const char *p, size_t len, unsigned flags)
{
	if (len == 0 || len > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v > 65535 || (v == 0 && !(flags & URL_PORT_ZERO)))
		return -1;
	return v;
}

int url_split_authority(const char *s, size_t len, int default_port, unsigned flags,
			struct url_authority *out, const char **err)
{
	const char *end = s + len, *hs = s, *he, *colon = NULL;
	int bracketed = len && s[0] == '[';
	if (bracketed) {
		const char *rb = memchr(s, ']', len);
		if (!rb) {
			*err = url_err_ipv6;
			return -1;
		}
		hs = s + 1;
		he = rb;
		if (rb + 1 < end) {
			if (rb[1] != ':') {
				*err = url_err_authority;
				return -1;
			}
			colon = rb + 1;
		}
	} else {
		colon = len ? memchr(s, ':', len) : NULL;
		he = colon ? colon : end;
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			*err = url_err_host; /* an unbracketed IPv6 literal is ambiguous */
			return -1;
		}
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 && !(bracketed || (flags & URL_EMPTY_HOST))) {
		*err = url_err_no_host;
		return -1;
	}
	if (hl > URL_HOST_MAX) {
		*err = url_err_host;
		return -1;
	}
	int colon_in_host;
	if (!host_bytes_ok(hs, hl, &colon_in_host)) {
		*err = url_err_host;
		return -1;
	}
	memcpy(out->host, hs, hl);
	out->host[hl] = '\0';
	if (bracketed && !is_ipv6(out->host)) {
		*err = url_err_ipv6;
		return -1;
	}
	if (!colon) {
		if (default_port <= 0) {
			*err = url_err_no_port;
			return -1;
		}
		out->port = default_port;
		return 0;
	}
	out->port = parse_port(colon + 1, (size_t)(end - colon - 1), flags);
	if (out->port < 0) {
		*err = url_err_port;
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	size_t len;
	enum url_scheme scheme;
} schemes[] = {
	{"http", 4, URL_HTTP},
	{"https", 5, URL_HTTPS},
	{"ws", 2, URL_WS},
	{"wss", 3, URL_WSS},
};

const char *url_scheme_name(enum url_scheme s)
{
	return schemes[s].name;
}

int url_scheme_port(enum url_scheme s)
{
	return s == URL_HTTPS || s == URL_WSS ? 443 : 80;
}

int url_parse(const char *s, size_t len, unsigned flags, struct url *out, const char **err)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
			*err = url_err_control;
			return -1;
		}
	const char *end = s + len, *colon = memchr(s, ':', len);
	if (!colon || colon == s) {
		*err = url_err_absolute;
		return -1;
	}
	/* the scheme first, so that "about:blank" or "data:..." says "unsupported scheme" */
	size_t sl = (size_t)(colon - s), k;
	for (k = 0; k < sizeof schemes / sizeof schemes[0]; k++)
		if (schemes[k].len == sl && strncasecmp(s, schemes[k].name, sl) == 0)
			break;
	if (k == sizeof schemes / sizeof schemes[0]) {
		*err = url_err_scheme;
		return -1;
	}
	if (end - colon < 3 || memcmp(colon, "://", 3) != 0) {
		*err = url_err_absolute;
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->scheme = schemes[k].scheme;
	out->tls = out->scheme == URL_HTTPS || out->scheme == URL_WSS;

	/* the authority runs to the first '/', '?' or '#'; userinfo to its last '@' */
	const char *as = colon + 3, *ae = as;
	while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
		ae++;
	for (const char *p = ae; p > as; p--)
		if (p[-1] == '@') {
			out->had_userinfo = 1;
			as = p;
			break;
		}
	if (url_split_authority(as, (size_t)(ae - as), url_scheme_port(out->scheme),
				flags & URL_EMPTY_HOST, &out->authority, err) != 0)
		return -1;
	out->authority_text = as;
	out->authority_text_len = (size_t)(ae - as);

	/* origin-form: path and query, without the fragment; "/" in front when missing */
	const char *pe = memchr(ae, '#', (size_t)(end - ae));
	if (!pe)
		pe = end;
	size_t pl = (size_t)(pe - ae);
	if (pl && ae[0] == '/') {
		out->path = xstrndup(ae, pl);
	} else {
		out->path = xmalloc(pl + 2);
		out->path[0] = '/';
		memcpy(out->path + 1, ae, pl);
		out->path[pl + 1] = '\0';
	}
	return 0;
}

void url_clear(struct url *u)
{
	if (!u)
		return;
	free(u->path);
	u->path = NULL;
}

int url_format_authority(char *buf, size_t size, const char *host, int port, int omit_port)
{
	const char *fmt = strchr(host, ':') ? "[%s]" : "%s";
	int n = snprintf(buf, size, fmt, host);
	if (n < 0 || port == omit_port)
		return n;
	int m = snprintf((size_t)n < size ? buf + n : NULL, (size_t)n < size ? size - (size_t)n : 0,
			 ":%d", port);
	return m < 0 ? m : n + m;
}
