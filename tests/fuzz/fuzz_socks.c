/* SPDX-License-Identifier: MIT */
/* fuzz_socks.c - the SOCKS5 handshake parser (socks.c) on arbitrary bytes: the first byte
 * chooses the message (even: greeting, odd: request), the rest is the client's bytes. Besides
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

static int parse(int request, const uint8_t *data, size_t len, struct socks_request *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	memset(r, 0x5a, sizeof *r);
	int rc = request ? socks_parse_request(copy, len, r) : socks_parse_greeting(copy, len);
	free(copy);
	check(rc <= (int)len);
	if (!request) {
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
	int request = data[0] & 1;
	data++;
	size--;
	struct socks_request whole, part;
	int final = parse(request, data, size, &whole);
	for (size_t n = 0; n < size; n++) {
		int rc = parse(request, data, n, &part);
		if (rc == 0)
			continue;
		check(rc == final);
		if (request && rc > 0)
			check(strcmp(part.host, whole.host) == 0 && part.port == whole.port);
		break;
	}
	return 0;
}
