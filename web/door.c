/* SPDX-License-Identifier: MIT */
/* door.c - access checks of the web server; see door.h. No lws here: webui.c reads the headers
 * and asks these functions. */
#include "door.h"

#include "cookie.h"
#include "url.h"
#include "util.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void door_init(struct door *d, const char *token, const char *host, int port)
{
	d->token = xstrdup(token);
	d->bound_host = xstrdup(host);
	d->port = port;
}

void door_clear(struct door *d)
{
	if (d->token)
		OPENSSL_cleanse(d->token, strlen(d->token));
	free(d->token);
	free(d->bound_host);
	memset(d, 0, sizeof *d);
}

static int is_ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

static int is_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

static int is_wildcard(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || host[0] == '\0';
}

int door_is_loopback(const char *host)
{
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return 1;
	return is_ipv4(host) && strncmp(host, "127.", 4) == 0;
}

int door_host_ok(const struct door *d, const char *host_hdr)
{
	struct url_authority a;
	const char *why;
	/* the port is required; a v6 literal must come in brackets (the parser refuses an
	 * unbracketed ':' and anything but a v6 literal inside brackets) */
	if (!host_hdr || url_split_authority(host_hdr, strlen(host_hdr), 0, 0, &a, &why) != 0 ||
	    a.port != d->port)
		return 0;
	const char *name = a.host;
	if (strcmp(name, "127.0.0.1") == 0 || strcasecmp(name, "localhost") == 0 ||
	    strcmp(name, "::1") == 0)
		return 1;
	if (strcasecmp(name, d->bound_host) == 0)
		return 1;
	return is_wildcard(d->bound_host) && (is_ipv4(name) || is_ipv6(name));
}

int door_origin_ok(const char *origin, const char *host_hdr)
{
	if (!origin)
		return 1;
	if (!host_hdr || strncasecmp(origin, "http://", 7) != 0)
		return 0;
	return strcasecmp(origin + 7, host_hdr) == 0;
}

int door_fetch_site_ok(const char *sec_fetch_site)
{
	return !sec_fetch_site || strcasecmp(sec_fetch_site, "cross-site") != 0;
}

int door_token_ok(const struct door *d, const char *candidate)
{
	if (!candidate)
		return 0;
	size_t want = strlen(d->token), got = strlen(candidate);
	/* the length of our token is not the secret; its bytes are */
	if (got != want)
		return 0;
	return CRYPTO_memcmp(d->token, candidate, want) == 0;
}

const char *door_bearer(const char *auth)
{
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	return *auth ? auth : NULL;
}

int door_cookie(const char *cookie_hdr, const char *name, char *out, size_t outlen)
{
	size_t vlen;
	const char *v =
	    cookie_hdr ? cookie_find(cookie_hdr, strlen(cookie_hdr), name, &vlen) : NULL;
	if (!v || vlen >= outlen)
		return -1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}
