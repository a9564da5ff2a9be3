/* SPDX-License-Identifier: MIT */
/* socks.h - SOCKS5 (RFC 1928), without authentication or with username/password (RFC 1929):
 * the client's greeting, sub-negotiation and request parsed from bytes, and the server's
 * replies. No I/O and no state (tunnel.c drives it;
 * tests/fuzz/fuzz_socks.c fuzzes it). */
#ifndef SOCKS_H
#define SOCKS_H

#include <stddef.h>

/* Reply codes (RFC 1928, 6). */
enum {
	SOCKS_REP_OK = 0,
	SOCKS_REP_FAILURE = 1,
	SOCKS_REP_HOST_UNREACHABLE = 4,
	SOCKS_REP_REFUSED = 5,
	SOCKS_REP_COMMAND = 7,
	SOCKS_REP_ADDRESS_TYPE = 8,
};

/* Authentication methods (RFC 1928, 3). */
enum { SOCKS_METHOD_NONE = 0, SOCKS_METHOD_USERPASS = 2 };

/* What socks_parse_greeting() and socks_parse_userpass() found wrong. */
enum { SOCKS_NOT_SOCKS5 = -1, SOCKS_NO_METHOD = -2, SOCKS_BAD_AUTH = -3 };

/* The greeting (VER NMETHODS METHODS...) at the front of d. Returns its length when it is
 * whole and offers method (SOCKS_METHOD_*), 0 when more bytes are needed, SOCKS_NOT_SOCKS5
 * (close without a word) or SOCKS_NO_METHOD (answer 0xFF, then close). */
int socks_parse_greeting(const unsigned char *d, size_t len, int method);

/* The username/password request of RFC 1929 (VER=1 ULEN UNAME PLEN PASSWD): pointers into
 * the parsed bytes (borrowed, not NUL-terminated). */
struct socks_userpass {
	const unsigned char *user, *pass;
	size_t user_len, pass_len;
};

/* The username/password request at the front of d, filling *u. Returns its length when
 * whole, 0 when more bytes are needed, or SOCKS_BAD_AUTH (not version 1: answer failure and
 * close). Empty names and passwords are taken (the comparison refuses them). */
int socks_parse_userpass(const unsigned char *d, size_t len, struct socks_userpass *u);

#define SOCKS_AUTH_REPLY_LEN 2
/* RFC 1929's answer: status 0 (ok) or 1 (failure) into out. */
void socks_auth_reply(unsigned char out[SOCKS_AUTH_REPLY_LEN], int ok);

struct socks_request {
	char host[256]; /* a domain name as sent, or an IPv4/IPv6 literal (no brackets) */
	int port;	/* 1-65535 */
};

/* The request (VER CMD RSV ATYP DST.ADDR DST.PORT) at the front of d, filling *r. Returns its
 * length when whole and a CONNECT, 0 when more bytes are needed, or minus the reply code to
 * answer before closing: -SOCKS_REP_COMMAND (not CONNECT), -SOCKS_REP_ADDRESS_TYPE, or
 * -SOCKS_REP_FAILURE (not SOCKS5, port 0, a name that is not a host name). */
int socks_parse_request(const unsigned char *d, size_t len, struct socks_request *r);

#define SOCKS_REPLY_LEN 10
/* The reply with code rep and the bound address 0.0.0.0:0 into out. */
void socks_reply(unsigned char out[SOCKS_REPLY_LEN], int rep);

#endif
