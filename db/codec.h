/* SPDX-License-Identifier: MIT */
/* codec.h - undoing Content-Encoding (gzip, x-gzip, deflate raw or zlib-wrapped, br, zstd,
 * identity; a chain such as "gzip, br" is undone in reverse order), incrementally, and doing
 * it again. The store uses the decoders to stream decoded bodies and to index decoded text,
 * the filter to search decoded bodies in memory (both through codec_decode_all() so that they
 * agree); the HAR export reads decoded bodies, the HAR import encodes them again. */
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>

/* Output of a decoder; returns non-0 to stop (codec_feed then returns -1 with err "stopped"). */
typedef int (*codec_out_fn)(void *arg, const char *data, size_t len);

struct codec;

/* A decoder for the Content-Encoding header value enc (NULL or "" or "identity": copies).
 * Decoded output beyond cap bytes is an error (a decompression bomb guard).
 * NULL with err filled when enc names an unsupported coding. */
struct codec *codec_new(const char *enc, size_t cap, codec_out_fn fn, void *arg, char *err,
			size_t errlen);
/* Feeds encoded bytes. Returns 0, or -1 with err filled (corrupt data, over cap, stopped). */
int codec_feed(struct codec *c, const char *data, size_t len, char *err, size_t errlen);
/* End of input. complete != 0 demands that every stream ended; 0 accepts a cut-off stream
 * (a truncated stored body). Returns 0 or -1 with err filled. */
int codec_finish(struct codec *c, int complete, char *err, size_t errlen);
void codec_free(struct codec *c); /* NULL is a no-op */

/* 1 when enc needs decoding (anything but empty/identity). */
int codec_is_encoded(const char *enc);

/* Decodes a whole buffer into a malloc'd *out (caller frees) of *out_len bytes, accepting a
 * cut-off stream when truncated != 0. Returns 0, or -1 (nothing allocated). */
int codec_decode_all(const char *enc, const char *data, size_t len, int truncated, size_t cap,
		     char **out, size_t *out_len);

/* Encodes a whole buffer as the Content-Encoding value enc says (NULL or "": nothing to do),
 * the codings applied in header order ("gzip, br": gzip first, then br; "deflate" is
 * zlib-wrapped; empty and identity codings are skipped), into a malloc'd *out (caller frees)
 * of *out_len bytes: a copy of data when there was nothing to apply. Returns 0, or -1
 * (nothing allocated) when a coding is unknown, such as a comma-less "gzip br", or an encoder
 * failed. */
int codec_encode_all(const char *enc, const char *data, size_t len, char **out, size_t *out_len);

#endif
