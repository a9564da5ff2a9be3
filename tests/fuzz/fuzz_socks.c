/* SPDX-License-Identifier: MIT */
/* fuzz_socks.c - the SOCKS5 handshake parser (socks.c) on arbitrary bytes: the first byte
 * chooses the message (its two low bits: 0 greeting without authentication, 1 request, 2
 * greeting with username/password, 3 RFC 1929's username/password), the rest is the client's
 * bytes. Besides
 * not crashing (each call gets an exact-size copy, so ASan sees any over-read), it checks:
 *   - a result is a length within the input, 0 (more needed) or one of the documented errors;
 *   - a parsed request is clean: a NUL-terminated host of host-name bytes, IPv4 or IPv6
 *     characters only, and a port from 1 to 65535;
 *   - verdicts are final: once a prefix gets a length or an error, every longer prefix gets
 *     the same (and the same request), as tunnel.c parses again as bytes arrive. */
#include "socks.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { GREETING = 0, REQUEST = 1, GREETING_AUTH = 2, USERPASS = 3 };

/* RFC 1929's request: the credentials lie inside the input, and the length adds up. */
static int userpass(const uint8_t *copy, size_t len)
{
	struct socks_userpass u;
	int rc = socks_parse_userpass(copy, len, &u);
	check(rc >= 0 || rc == SOCKS_BAD_AUTH);
	if (rc > 0) {
		check(u.user == copy + 2 && u.pass == u.user + u.user_len + 1);
		check((size_t)rc == 3 + u.user_len + u.pass_len && u.pass_len <= 255);
	}
	return rc;
}

static int parse(int kind, const uint8_t *data, size_t len, struct socks_request *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	memset(r, 0x5a, sizeof *r);
	int rc = kind == REQUEST ? socks_parse_request(copy, len, r)
		 : kind == USERPASS
		     ? userpass(copy, len)
		     : socks_parse_greeting(
			   copy, len, kind == GREETING ? SOCKS_METHOD_NONE : SOCKS_METHOD_USERPASS);
	free(copy);
	check(rc <= (int)len);
	if (kind == USERPASS)
		return rc;
	if (kind != REQUEST) {
		check(rc >= 0 || rc == SOCKS_NOT_SOCKS5 || rc == SOCKS_NO_METHOD);
		return rc;
	}
	check(rc >= 0 || rc == -SOCKS_REP_FAILURE || rc == -SOCKS_REP_COMMAND ||
	      rc == -SOCKS_REP_ADDRESS_TYPE);
	if (rc > 0) {
		size_t n = strnlen(r->host, sizeof r->host);
		check(n > 0 && n < sizeof r->host);
		check(strspn(r->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789-._:") == n);
		check(r->port >= 1 && r->port <= 65535);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int kind = data[0] & 3;
	data++;
	size--;
	struct socks_request whole, part;
	int final = parse(kind, data, size, &whole);
	for (size_t n = 0; n < size; n++) {
		int rc = parse(kind, data, n, &part);
		if (rc == 0)
			continue;
		check(rc == final);
		if (kind == REQUEST && rc > 0)
			check(strcmp(part.host, whole.host) == 0 && part.port == whole.port);
		break;
	}
	return 0;
}
