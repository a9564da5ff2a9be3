/* SPDX-License-Identifier: MIT */
/* test_errclear.c - the program's ERR_clear_error() (errclear.c): it is the one every library
 * finds, it clears a queue that holds errors (marks and all), and on an empty queue it does
 * nothing that ERR_get_error() or ERR_pop_to_mark() could see. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static void interposed(void)
{
	/* the lookup libevent_openssl's call goes through finds this program's definition */
	void *global = dlsym(RTLD_DEFAULT, "ERR_clear_error");
	ok(global != NULL);
	ok(global == (void *)ERR_clear_error);
	ok(dlsym(RTLD_NEXT, "ERR_clear_error") != global); /* libcrypto's own, called on */
}

static void clears(void)
{
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET);
	ok(ERR_peek_error() != 0);
	ERR_clear_error();
	ok(ERR_peek_error() == 0 && ERR_get_error() == 0);

	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ok(ERR_set_mark() == 1);
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET);
	ERR_clear_error(); /* marks go with their errors */
	ok(ERR_pop_to_mark() == 0 && ERR_peek_error() == 0);
}

static void empty(void)
{
	ERR_clear_error();
	ERR_clear_error();
	ok(ERR_peek_error() == 0 && ERR_get_error() == 0);
	/* errors taken off one by one leave the queue as new */
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ok(ERR_get_error() != 0);
	ERR_clear_error();
	ok(ERR_peek_error() == 0);
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET);
	ok(ERR_GET_REASON(ERR_get_error()) == SSL_R_BAD_PACKET && ERR_get_error() == 0);
	/* and an error after an empty clear is still reported and cleared */
	ERR_clear_error();
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	ok(ERR_GET_REASON(ERR_peek_error()) == SSL_R_BAD_LENGTH);
	ERR_clear_error();
	ok(ERR_peek_error() == 0);
}

int main(void)
{
	subtest("interposed", interposed);
	subtest("clears", clears);
	subtest("empty", empty);
	return harness_done();
}
