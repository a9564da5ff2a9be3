/* SPDX-License-Identifier: MIT */
/* test_socks.c - the SOCKS5 handshake parser (RFC 1928): greetings, username/password
 * (RFC 1929), CONNECT requests with each address type, partial input, and the reply codes of
 * what is refused. */
#include "socks.h"

#include "harness.h"

#include <string.h>

#define B(s) (const unsigned char *)(s), sizeof(s) - 1

static void test_greeting(void)
{
	ok(socks_parse_greeting(B(""), SOCKS_METHOD_NONE) == 0);
	ok(socks_parse_greeting(B("\x05"), SOCKS_METHOD_NONE) == 0);
	ok(socks_parse_greeting(B("\x05\x02\x02"), SOCKS_METHOD_NONE) ==
	   0); /* one method still to come */
	ok(socks_parse_greeting(B("\x05\x01\x00"), SOCKS_METHOD_NONE) == 3);
	ok(socks_parse_greeting(B("\x05\x02\x02\x00GET"), SOCKS_METHOD_NONE) == 4);
	ok(socks_parse_greeting(B("\x05\x01\x02"), SOCKS_METHOD_NONE) == SOCKS_NO_METHOD);
	ok(socks_parse_greeting(B("\x05\x00"), SOCKS_METHOD_NONE) == SOCKS_NO_METHOD);
	ok(socks_parse_greeting(B("\x04\x01\x00\x50"), SOCKS_METHOD_NONE) == SOCKS_NOT_SOCKS5);
	ok(socks_parse_greeting(B("GET / HTTP/1.1\r\n"), SOCKS_METHOD_NONE) == SOCKS_NOT_SOCKS5);
}

static void test_userpass(void)
{
	struct socks_userpass u;
	/* with --proxyauth the method is 2; a client offering only "none" is refused */
	ok(socks_parse_greeting(B("\x05\x02\x00\x02"), SOCKS_METHOD_USERPASS) == 4);
	ok(socks_parse_greeting(B("\x05\x01\x00"), SOCKS_METHOD_USERPASS) == SOCKS_NO_METHOD);
	ok(socks_parse_userpass(B("\x01\x03"
				  "bob"
				  "\x02"
				  "pw"
				  "GET"),
				&u) == 8);
	ok(u.user_len == 3 && memcmp(u.user, "bob", 3) == 0);
	ok(u.pass_len == 2 && memcmp(u.pass, "pw", 2) == 0);
	ok(socks_parse_userpass(B("\x01\x00\x00"), &u) == 3 && u.user_len == 0 && u.pass_len == 0);
	static const char whole[] = "\x01\x03"
				    "bob"
				    "\x02"
				    "pw";
	for (size_t n = 0; n < sizeof whole - 1; n++)
		ok(socks_parse_userpass((const unsigned char *)whole, n, &u) == 0);
	ok(socks_parse_userpass(B("\x05\x03"
				  "bob"),
				&u) == SOCKS_BAD_AUTH);
	unsigned char rep[SOCKS_AUTH_REPLY_LEN];
	socks_auth_reply(rep, 1);
	ok(rep[0] == 1 && rep[1] == 0);
	socks_auth_reply(rep, 0);
	ok(rep[0] == 1 && rep[1] == 1);
}

static void test_request(void)
{
	struct socks_request r;
	ok(socks_parse_request(B("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"), &r) == 10);
	ok(strcmp(r.host, "127.0.0.1") == 0 && r.port == 80);
	ok(socks_parse_request(B("\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
				 "\x00\x00\x00\x01\x01\xbb"),
			       &r) == 22);
	ok(strcmp(r.host, "::1") == 0 && r.port == 443);
	ok(socks_parse_request(B("\x05\x01\x00\x03\x0b"
				 "example.com\x1f\x90"),
			       &r) == 18);
	ok(strcmp(r.host, "example.com") == 0 && r.port == 8080);
	/* partial: more needed at every cut */
	static const char name[] = "\x05\x01\x00\x03\x0b"
				   "example.com\x1f\x90";
	for (size_t n = 0; n < sizeof name - 1; n++)
		ok(socks_parse_request((const unsigned char *)name, n, &r) == 0);
	/* refused, with the reply code to send */
	ok(socks_parse_request(B("\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50"), &r) ==
	   -SOCKS_REP_COMMAND);
	ok(socks_parse_request(B("\x05\x03\x00\x01"), &r) == -SOCKS_REP_COMMAND);
	ok(socks_parse_request(B("\x05\x01\x00\x09"), &r) == -SOCKS_REP_ADDRESS_TYPE);
	ok(socks_parse_request(B("\x04\x01\x00\x01"), &r) == -SOCKS_REP_FAILURE);
	ok(socks_parse_request(B("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x00"), &r) ==
	   -SOCKS_REP_FAILURE); /* port 0 */
	ok(socks_parse_request(B("\x05\x01\x00\x03\x00\x00\x50"), &r) == -SOCKS_REP_FAILURE);
	ok(socks_parse_request(B("\x05\x01\x00\x03\x03"
				 "a/b\x00\x50"),
			       &r) == -SOCKS_REP_FAILURE);
	ok(socks_parse_request(B("\x05\x01\x00\x03\x03"
				 "a\0b\x00\x50"),
			       &r) == -SOCKS_REP_FAILURE);
}

static void test_reply(void)
{
	unsigned char out[SOCKS_REPLY_LEN];
	socks_reply(out, SOCKS_REP_REFUSED);
	ok(memcmp(out, "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", SOCKS_REPLY_LEN) == 0);
}

int main(void)
{
	subtest("greeting", test_greeting);
	subtest("userpass", test_userpass);
	subtest("request", test_request);
	subtest("reply", test_reply);
	return harness_done();
}
