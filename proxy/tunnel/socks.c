/* SPDX-License-Identifier: MIT */
/* socks.c - the SOCKS5 handshake's two client messages and the reply (see socks.h). A domain
 * name is taken only when every byte may appear in a host name (letters, digits, '-', '.',
 * '_'), so that what reaches DNS and the flow record is a plain name. */
#include "socks.h"

#include <arpa/inet.h>
#include <string.h>

enum { VER = 5, AUTH_VER = 1, CMD_CONNECT = 1, ATYP_V4 = 1, ATYP_NAME = 3, ATYP_V6 = 4 };

int socks_parse_greeting(const unsigned char *d, size_t len, int method)
{
	if (len < 1)
		return 0;
	if (d[0] != VER)
		return SOCKS_NOT_SOCKS5;
	if (len < 2 || len < 2 + (size_t)d[1])
		return 0;
	if (memchr(d + 2, method, d[1]) == NULL)
		return SOCKS_NO_METHOD;
	return 2 + d[1];
}

int socks_parse_userpass(const unsigned char *d, size_t len, struct socks_userpass *u)
{
	if (len < 1)
		return 0;
	if (d[0] != AUTH_VER)
		return SOCKS_BAD_AUTH;
	if (len < 2 || len < 2 + (size_t)d[1] + 1)
		return 0;
	size_t ulen = d[1], plen = d[2 + ulen];
	if (len < 3 + ulen + plen)
		return 0;
	u->user = d + 2;
	u->user_len = ulen;
	u->pass = d + 3 + ulen;
	u->pass_len = plen;
	return (int)(3 + ulen + plen);
}

void socks_auth_reply(unsigned char out[SOCKS_AUTH_REPLY_LEN], int ok)
{
	out[0] = AUTH_VER;
	out[1] = ok ? 0 : 1;
}

static int name_ok(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return 1;
}

int socks_parse_request(const unsigned char *d, size_t len, struct socks_request *r)
{
	if (len < 4)
		return 0;
	if (d[0] != VER)
		return -SOCKS_REP_FAILURE;
	if (d[1] != CMD_CONNECT)
		return -SOCKS_REP_COMMAND;
	size_t addrlen;
	if (d[3] == ATYP_V4)
		addrlen = 4;
	else if (d[3] == ATYP_V6)
		addrlen = 16;
	else if (d[3] == ATYP_NAME) {
		if (len < 5)
			return 0;
		addrlen = 1 + (size_t)d[4];
	} else
		return -SOCKS_REP_ADDRESS_TYPE;
	if (len < 4 + addrlen + 2)
		return 0;
	const unsigned char *a = d + 4;
	if (d[3] == ATYP_NAME) {
		if (!name_ok(a + 1, a[0]))
			return -SOCKS_REP_FAILURE;
		memcpy(r->host, a + 1, a[0]);
		r->host[a[0]] = 0;
	} else {
		inet_ntop(d[3] == ATYP_V4 ? AF_INET : AF_INET6, a, r->host, sizeof r->host);
	}
	r->port = a[addrlen] << 8 | a[addrlen + 1];
	if (r->port == 0)
		return -SOCKS_REP_FAILURE;
	return (int)(4 + addrlen + 2);
}

void socks_reply(unsigned char out[SOCKS_REPLY_LEN], int rep)
{
	static const unsigned char bound[] = {VER, 0, 0, ATYP_V4, 0, 0, 0, 0, 0, 0};
	memcpy(out, bound, sizeof bound);
	out[1] = (unsigned char)rep;
}
