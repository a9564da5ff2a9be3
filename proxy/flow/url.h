/* SPDX-License-Identifier: MIT */
/* url.h - the one parser of authorities (host:port, [v6]:port) and absolute http, https, ws and
 * wss URLs, for every layer: a proxy request target, a CONNECT target, a Host header, a HAR
 * entry's url, the API's replay url and a --listen address all go through these two functions.
 *
 * The rules (one set, strict, written down once):
 *   host    1 to URL_HOST_MAX bytes. Refused anywhere in it: bytes 0x00-0x20 and 0x7f, and
 *           / ? # @ \ " < > ' ` { } | ^ % [ ]. An IPv6 literal is written in brackets and must
 *           be one that inet_pton() reads (no zone id); an unbracketed host with a ':' is
 *           refused as ambiguous. Bytes 0x80-0xff are kept as they are (raw IDN).
 *   port    1 to 5 decimal digits, 1-65535 (0 only with URL_PORT_ZERO); "host:" is refused.
 *   URL     scheme "://" [userinfo "@"] authority [path] [?query] [#fragment]; the scheme is
 *           matched without regard to case; userinfo (up to the last '@') is dropped and
 *           reported; the fragment is dropped; bytes 0x00-0x20 and 0x7f anywhere refuse it.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

enum { URL_HOST_MAX = 255 }; /* bytes of a host, brackets not counted */

/* Flag bits for the flags arguments. */
enum {
	URL_PORT_ZERO = 1u << 0,  /* accept port 0 (a listen address: "any free port") */
	URL_EMPTY_HOST = 1u << 1, /* accept an empty host (a HAR entry of a failed request) */
};

enum url_scheme { URL_HTTP = 0, URL_HTTPS, URL_WS, URL_WSS };

struct url_authority {
	char host[URL_HOST_MAX + 1]; /* NUL-terminated, without brackets */
	int port;		     /* 0-65535 */
};

struct url {
	enum url_scheme scheme;
	int tls;			/* 1 for https and wss */
	int had_userinfo;		/* 1 when "user@" was given (and dropped) */
	struct url_authority authority; /* host, and the port or the scheme's default */
	const char *authority_text;	/* borrowed from the input: the authority as written, */
	size_t authority_text_len;	/* without userinfo */
	char *path;			/* owned: origin-form path[?query], "/" when empty */
};

/* Errors: the functions set *err to one of these; compare the pointer, print the text. */
extern const char url_err_absolute[];  /* "not an absolute URL (scheme://host/path)" */
extern const char url_err_scheme[];    /* "unsupported URL scheme" */
extern const char url_err_control[];   /* "a space or control byte in the URL" */
extern const char url_err_no_host[];   /* "no host" */
extern const char url_err_host[];      /* "bad host" */
extern const char url_err_ipv6[];      /* "bad IPv6 address in brackets" */
extern const char url_err_authority[]; /* "bad authority" (junk after ']') */
extern const char url_err_port[];      /* "bad port" */
extern const char url_err_no_port[];   /* "port required" */

/* Splits the authority s[0..len) (no NUL needed) into out's host and port. default_port is the
 * port when none is written; 0 means a port is required. flags: URL_PORT_ZERO, URL_EMPTY_HOST.
 * Returns 0, or -1 with *err set (out is then unspecified). */
int url_split_authority(const char *s, size_t len, int default_port, unsigned flags,
			struct url_authority *out, const char **err)
    __attribute__((warn_unused_result));

/* 1 when host[0..len) is a host as a flow stores it (no brackets, no port) that the rules above
 * accept: 1 to URL_HOST_MAX bytes, none refused, and when it holds a ':' an IPv6 literal that
 * inet_pton() reads. Else 0. */
int url_host_ok(const char *host, size_t len);

/* host as names are compared (certificates, SNI): without the brackets of "[v6]" and without
 * a trailing root dot ("a.example." is "a.example"). Returns a new string; the caller frees. */
char *url_bare_host(const char *host);

/* Parses the absolute URL s[0..len) (no NUL needed) into *out. flags: URL_EMPTY_HOST.
 * Returns 0 with out->path allocated (free it with url_clear()), or -1 with *err set and
 * nothing to free. */
int url_parse(const char *s, size_t len, unsigned flags, struct url *out, const char **err)
    __attribute__((warn_unused_result));

/* Frees u->path; u may be NULL or already cleared. */
void url_clear(struct url *u);

/* "http", "https", "ws" or "wss". */
const char *url_scheme_name(enum url_scheme s);

/* The scheme's default port: 80 for http and ws, 443 for https and wss. */
int url_scheme_port(enum url_scheme s);

/* Writes host and port as an authority into buf (size bytes, NUL-terminated): an IPv6 literal
 * (a host with a ':') gets brackets, and ":port" is left out when port == omit_port (pass -1
 * to always write it). Returns the length it needed, as snprintf does. */
int url_format_authority(char *buf, size_t size, const char *host, int port, int omit_port);

#endif
