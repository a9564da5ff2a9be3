/* SPDX-License-Identifier: MIT */
/* sslerr.h - an OpenSSL failure as one line of text, for the messages of the modules that
 * call OpenSSL (certforge.c, tls.c). */
#ifndef SSLERR_H
#define SSLERR_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/err.h>

/* Fills err with what and the first queued OpenSSL error ("what: reason"), or what alone when
 * none is queued, then clears the queue. err may be NULL (the queue is still cleared). */
static inline void sslerr_fill(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	if (err && errlen) {
		if (e) {
			char buf[256];
			ERR_error_string_n(e, buf, sizeof buf);
			snprintf(err, errlen, "%s: %s", what, buf);
		} else {
			snprintf(err, errlen, "%s", what);
		}
	}
	ERR_clear_error();
}

#endif
