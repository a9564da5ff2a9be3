/* SPDX-License-Identifier: MIT */
/* door.h - the web server's access checks, as pure functions over header values so that they
 * can be tested without a socket (learned from mitmweb's CVE-2018-14505 and CVE-2025-23217):
 *
 *   Host     must name the address we are bound to (DNS rebinding)
 *   token    Authorization: Bearer T, the flowscope_token cookie, or ?token=T; compared in
 *            constant time
 *   Origin   absent or our own origin, on the WebSocket and on every state-changing call
 *   Sec-Fetch-Site: cross-site   refused on state-changing calls
 */
#ifndef DOOR_H
#define DOOR_H

#include <stddef.h>

#define DOOR_COOKIE "flowscope_token"

struct door {
	char *token;	  /* owned; never empty */
	char *bound_host; /* owned; the configured host, e.g. "127.0.0.1", "::1", "0.0.0.0" */
	int port;	  /* the port actually bound */
};

/* Fills d (copies token and host). */
void door_init(struct door *d, const char *token, const char *host, int port);
void door_clear(struct door *d);

/* 1 when host_hdr (the Host header value; NULL when absent; read by url_split_authority() with
 * the port required) names our address: one of
 * 127.0.0.1:PORT, localhost:PORT, [::1]:PORT or the configured host with PORT (any IP literal
 * with PORT when bound to a wildcard address, since rebinding needs a DNS name). */
int door_host_ok(const struct door *d, const char *host_hdr);
/* 1 when origin (NULL when absent) is absent or "http://" + host_hdr. */
int door_origin_ok(const char *origin, const char *host_hdr);
/* 1 when sec_fetch_site (NULL when absent) is not "cross-site". */
int door_fetch_site_ok(const char *sec_fetch_site);
/* 1 when candidate (NULL allowed) equals the token; constant time in the token's content. */
int door_token_ok(const struct door *d, const char *candidate);
/* The bearer token of an Authorization header value ("Bearer T"), or NULL. Borrowed from
 * auth. */
const char *door_bearer(const char *auth);
/* Copies the value of the first cookie named name out of a Cookie header value (NULL allowed;
 * pairs read as cookie.h does) into out (NUL-terminated). Returns 0, or -1 when absent or
 * longer than outlen - 1. */
int door_cookie(const char *cookie_hdr, const char *name, char *out, size_t outlen);
/* 1 when host (a bare host, no port) is a loopback address or "localhost". */
int door_is_loopback(const char *host);

#endif
