/* SPDX-License-Identifier: MIT */
/* errclear.c - ERR_clear_error() that returns at once when the thread's OpenSSL error queue is
 * empty.
 *
 * libevent's OpenSSL bufferevent calls ERR_clear_error() before each SSL_read() and
 * SSL_write() it makes: once per TLS read of every request, on the client's and the origin's
 * side. OpenSSL 3's clears all 16 slots of the queue every time, with two free() calls per
 * slot: about 840 instructions, 1,700 per request, 2.5 % of a worker's, for a queue that is
 * almost always empty already. This definition in the program comes first in the dynamic
 * symbol lookup for every caller outside libcrypto (ELF interposition, as an allocator
 * replaces malloc): an empty queue (ERR_peek_error(), which also drops entries already
 * marked cleared) is left as it is; anything else goes to libcrypto's ERR_clear_error(),
 * found once with dlsym(RTLD_NEXT). A queue that ERR_peek_error() finds empty holds nothing
 * that clearing would change: no error, no mark (marks sit on errors), no data that a later
 * call could report. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <stdatomic.h>

#include <openssl/err.h>

typedef void (*clear_fn)(void);

static _Atomic(clear_fn) libcrypto_clear;

void ERR_clear_error(void)
{
	if (ERR_peek_error() == 0)
		return;
	clear_fn f = atomic_load_explicit(&libcrypto_clear, memory_order_acquire);
	if (!f) {
		void *sym = dlsym(RTLD_NEXT, "ERR_clear_error");
		f = (clear_fn)(sym); /* POSIX: a function pointer fits in a void * */
		atomic_store_explicit(&libcrypto_clear, f, memory_order_release);
	}
	if (f)
		f();
	else /* no libcrypto behind us (cannot happen with a shared libcrypto): empty it by hand */
		while (ERR_get_error() != 0)
			;
}
