/* SPDX-License-Identifier: MIT */
/* b64.h - base64 (RFC 4648, standard alphabet) over OpenSSL's EVP block functions, one copy
 * for HAR bodies and the API's body_base64.
 *
 * Decoding accepts what people paste and what HAR writers emit: spaces, tabs, CR and LF
 * anywhere are ignored, and the '=' padding may be left out. Anything else outside the
 * alphabet, a character after padding, more than two '=' or a length that no encoding has
 * (4n+1 characters) is refused. */
#ifndef B64_H
#define B64_H

#include <stddef.h>

/* The padded base64 of data[0..len) as a malloc'd NUL-terminated string; its length in
 * *out_len (OUT, may be NULL). data may be NULL when len is 0. */
char *b64_encode(const void *data, size_t len, size_t *out_len);

/* Decodes in[0..len). Returns 0 with *out (OUT: malloc'd, caller frees, NUL-terminated after
 * *out_len bytes so text can be used as a string), or -1 when in is not base64 (nothing to
 * free, *out set to NULL). */
int b64_decode(const char *in, size_t len, char **out, size_t *out_len)
    __attribute__((warn_unused_result));

#endif
