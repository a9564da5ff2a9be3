/* SPDX-License-Identifier: MIT */
/* cookie.h - the pairs of a Cookie request header value (RFC 6265 section 5.4's
 * "name=value; name2=value2"), one reading for the web server's token cookie and the proxy's
 * removal of that cookie before a request goes upstream.
 *
 * The reading: pieces are separated by ';'; spaces and tabs around a name and a value are
 * trimmed; an empty piece is skipped; a piece without '=' is a name with an empty value.
 * Names compare byte for byte (case counts); values are not unquoted. */
#ifndef COOKIE_H
#define COOKIE_H

#include <stddef.h>

struct cookie_pair {
	const char *name; /* borrowed from the header value */
	size_t name_len;
	const char *value; /* borrowed; empty (not NULL) when there was no '=' */
	size_t value_len;
};

/* Reads the pair at *pos (start with 0) of s[0..len). Returns 1 with *out filled and *pos moved
 * past it, or 0 when no pair is left. */
int cookie_next(const char *s, size_t len, size_t *pos, struct cookie_pair *out);

/* The value of the first pair named name in s[0..len): borrowed from s, its length in
 * *value_len (OUT); NULL when there is none. */
const char *cookie_find(const char *s, size_t len, const char *name, size_t *value_len);

/* s[0..len) without the pairs named name, the others joined by "; " as trimmed pairs.
 * Returns a malloc'd NUL-terminated string (empty when nothing is left), its length in
 * *out_len (OUT). */
char *cookie_remove(const char *s, size_t len, const char *name, size_t *out_len);

#endif
