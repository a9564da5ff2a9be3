/* SPDX-License-Identifier: MIT */
/* codec.c - incremental Content-Encoding decoders chained in a pipeline, and the one-shot
 * encoders that do the reverse.
 *
 * "gzip, br" means gzip was applied first, so stage 0 undoes br and feeds stage 1 (gzip),
 * whose output goes to the caller's function. Each stage decodes into a 64 KiB stack buffer
 * and pushes it on at once, so memory stays bounded whatever the ratio. Output past the cap
 * fails the whole decode: a small body must not inflate into gigabytes.
 *
 * Encoding is for the HAR import: HAR files hold bodies decoded while the store keeps wire
 * bytes, so an imported body is encoded again as its Content-Encoding says, in header order,
 * a whole buffer at a time (imported bodies are in memory already). */
#include "codec.h"

#include "flow.h"
#include "util.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

enum kind { K_GZIP, K_DEFLATE, K_BR, K_ZSTD };

struct stage {
	enum kind kind;
	int started;		/* the underlying decoder was initialised */
	int ended;		/* the current stream/member ended and nothing followed yet */
	unsigned char stash[1]; /* deflate: first byte, until the second tells the wrapping */
	size_t stashed;
	z_stream z;
	BrotliDecoderState *br;
	ZSTD_DCtx *zs;
};

struct codec {
	struct stage *stages; /* owned; stages[0] gets the encoded bytes */
	size_t num_stages;
	size_t cap, out_total;
	codec_out_fn fn;
	void *arg;
	char err[128]; /* the first error, set by any stage */
};

#define CHUNK 65536

int codec_is_encoded(const char *enc)
{
	if (!enc)
		return 0;
	for (const char *p = enc; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == ',')
			continue;
		size_t n = strcspn(p, " \t,");
		if (!(n == 8 && strncasecmp(p, "identity", 8) == 0))
			return 1;
		p += n - 1;
	}
	return 0;
}

static void stage_free(struct stage *st)
{
	if (!st->started)
		return;
	if (st->kind == K_GZIP || st->kind == K_DEFLATE)
		inflateEnd(&st->z);
	else if (st->kind == K_BR)
		BrotliDecoderDestroyInstance(st->br);
	else
		ZSTD_freeDCtx(st->zs);
	st->started = 0;
}

void codec_free(struct codec *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->num_stages; i++)
		stage_free(&c->stages[i]);
	free(c->stages);
	free(c);
}

struct codec *codec_new(const char *enc, size_t cap, codec_out_fn fn, void *arg, char *err,
			size_t errlen)
{
	struct codec *c = xcalloc(1, sizeof *c);
	c->cap = cap;
	c->fn = fn;
	c->arg = arg;
	/* Collect the codings in header order, then reverse them into stages. */
	enum kind kinds[16];
	size_t n = 0;
	for (const char *p = enc ? enc : ""; *p;) {
		if (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
			continue;
		}
		size_t len = strcspn(p, " \t,");
		enum kind k;
		if ((len == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (len == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			k = K_GZIP;
		else if (len == 7 && strncasecmp(p, "deflate", 7) == 0)
			k = K_DEFLATE;
		else if (len == 2 && strncasecmp(p, "br", 2) == 0)
			k = K_BR;
		else if (len == 4 && strncasecmp(p, "zstd", 4) == 0)
			k = K_ZSTD;
		else if (len == 8 && strncasecmp(p, "identity", 8) == 0) {
			p += len;
			continue;
		} else {
			snprintf(err, errlen, "unsupported content-encoding %.*s",
				 (int)(len > 40 ? 40 : len), p);
			codec_free(c);
			return NULL;
		}
		if (n == sizeof kinds / sizeof kinds[0]) {
			snprintf(err, errlen, "too many content-encodings");
			codec_free(c);
			return NULL;
		}
		kinds[n++] = k;
		p += len;
	}
	c->stages = xcalloc(n ? n : 1, sizeof *c->stages);
	c->num_stages = n;
	for (size_t i = 0; i < n; i++)
		c->stages[i].kind = kinds[n - 1 - i];
	return c;
}

static int push(struct codec *c, size_t i, const unsigned char *data, size_t len);

/* Hands decoded bytes of stage i to the next stage or to the caller. */
static int emit(struct codec *c, size_t i, const unsigned char *data, size_t len)
{
	if (len == 0)
		return 0;
	if (i + 1 < c->num_stages)
		return push(c, i + 1, data, len);
	if (len > c->cap - c->out_total) {
		snprintf(c->err, sizeof c->err, "decoded body larger than %zu bytes", c->cap);
		return -1;
	}
	c->out_total += len;
	if (c->fn(c->arg, (const char *)data, len) != 0) {
		snprintf(c->err, sizeof c->err, "stopped");
		return -1;
	}
	return 0;
}

static const char *kind_name(enum kind k)
{
	return k == K_GZIP ? "gzip" : k == K_DEFLATE ? "deflate" : k == K_BR ? "br" : "zstd";
}

static int fail(struct codec *c, struct stage *st)
{
	if (!c->err[0])
		snprintf(c->err, sizeof c->err, "corrupt %s data", kind_name(st->kind));
	return -1;
}

static int zlib_push(struct codec *c, size_t i, struct stage *st, const unsigned char *data,
		     size_t len)
{
	unsigned char out[CHUNK];
	if (!st->started) {
		int wbits = 15 + 16; /* gzip */
		if (st->kind == K_DEFLATE) {
			/* "deflate" is zlib-wrapped by the RFC, raw by many servers: the
			 * zlib header's check bits tell them apart. */
			if (st->stashed + len < 2) {
				st->stash[0] = data[0];
				st->stashed = 1;
				return 0;
			}
			unsigned b0 = st->stashed ? st->stash[0] : data[0];
			unsigned b1 = st->stashed ? data[0] : data[1];
			wbits = ((b0 & 0x0f) == 8 && (b0 * 256 + b1) % 31 == 0) ? 15 : -15;
		}
		if (inflateInit2(&st->z, wbits) != Z_OK)
			return fail(c, st);
		st->started = 1;
		if (st->stashed) {
			st->stashed = 0;
			if (zlib_push(c, i, st, st->stash, 1) != 0)
				return -1;
		}
	}
	st->z.next_in = (unsigned char *)data;
	st->z.avail_in = len;
	while (st->z.avail_in > 0 || !st->ended) {
		if (st->ended) {
			/* Bytes after the end: another gzip member, or garbage. */
			if (st->kind != K_GZIP || inflateReset(&st->z) != Z_OK)
				return fail(c, st);
			st->ended = 0;
		}
		st->z.next_out = out;
		st->z.avail_out = sizeof out;
		int r = inflate(&st->z, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return fail(c, st);
		if (emit(c, i, out, sizeof out - st->z.avail_out) != 0)
			return -1;
		if (r == Z_STREAM_END)
			st->ended = 1;
		else if (st->z.avail_out != 0)
			break; /* needs more input */
	}
	return 0;
}

static int br_push(struct codec *c, size_t i, struct stage *st, const unsigned char *data,
		   size_t len)
{
	unsigned char out[CHUNK];
	if (!st->started) {
		st->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
		if (!st->br)
			return fail(c, st);
		st->started = 1;
	}
	if (st->ended && len > 0)
		return fail(c, st);
	const uint8_t *in = data;
	size_t avail_in = len;
	for (;;) {
		uint8_t *next_out = out;
		size_t avail_out = sizeof out;
		BrotliDecoderResult r = BrotliDecoderDecompressStream(st->br, &avail_in, &in,
								      &avail_out, &next_out, NULL);
		if (r == BROTLI_DECODER_RESULT_ERROR)
			return fail(c, st);
		if (emit(c, i, out, sizeof out - avail_out) != 0)
			return -1;
		if (r == BROTLI_DECODER_RESULT_SUCCESS) {
			st->ended = 1;
			return avail_in ? fail(c, st) : 0;
		}
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
			return 0;
	}
}

static int zstd_push(struct codec *c, size_t i, struct stage *st, const unsigned char *data,
		     size_t len)
{
	unsigned char out[CHUNK];
	if (!st->started) {
		st->zs = ZSTD_createDCtx();
		if (!st->zs)
			return fail(c, st);
		st->started = 1;
		st->ended = 1; /* between frames: nothing pending */
	}
	ZSTD_inBuffer in = {data, len, 0};
	for (;;) {
		ZSTD_outBuffer ob = {out, sizeof out, 0};
		size_t r = ZSTD_decompressStream(st->zs, &ob, &in);
		if (ZSTD_isError(r))
			return fail(c, st);
		if (emit(c, i, out, ob.pos) != 0)
			return -1;
		st->ended = (r == 0);
		if (in.pos == in.size && ob.pos < ob.size)
			return 0;
	}
}

static int push(struct codec *c, size_t i, const unsigned char *data, size_t len)
{
	struct stage *st = &c->stages[i];
	switch (st->kind) {
	case K_GZIP:
	case K_DEFLATE:
		return zlib_push(c, i, st, data, len);
	case K_BR:
		return br_push(c, i, st, data, len);
	case K_ZSTD:
		return zstd_push(c, i, st, data, len);
	}
	return -1;
}

int codec_feed(struct codec *c, const char *data, size_t len, char *err, size_t errlen)
{
	if (c->err[0]) {
		snprintf(err, errlen, "%s", c->err);
		return -1;
	}
	int r = 0;
	if (len == 0)
		return 0;
	if (c->num_stages == 0)
		r = emit(c, (size_t)-1, (const unsigned char *)data, len);
	else
		r = push(c, 0, (const unsigned char *)data, len);
	if (r != 0) {
		if (!c->err[0])
			snprintf(c->err, sizeof c->err, "decoding failed");
		snprintf(err, errlen, "%s", c->err);
	}
	return r;
}

int codec_finish(struct codec *c, int complete, char *err, size_t errlen)
{
	if (c->err[0]) {
		snprintf(err, errlen, "%s", c->err);
		return -1;
	}
	for (size_t i = 0; i < c->num_stages; i++) {
		struct stage *st = &c->stages[i];
		if (st->stashed && !st->started) {
			/* A one-byte deflate body: decide on what we have. */
			st->stashed = 0;
			if (st->started == 0 && inflateInit2(&st->z, -15) == Z_OK) {
				st->started = 1;
				unsigned char b = st->stash[0];
				if (zlib_push(c, i, st, &b, 1) != 0) {
					snprintf(err, errlen, "%s", c->err);
					return -1;
				}
			}
		}
		if (complete && !st->ended) {
			snprintf(err, errlen, "truncated %s data", kind_name(st->kind));
			return -1;
		}
	}
	return 0;
}

static int on_collect(void *arg, const char *data, size_t len)
{
	flow_buf_append(arg, data, len);
	return 0;
}

int codec_decode_all(const char *enc, const char *data, size_t len, int truncated, size_t cap,
		     char **out, size_t *out_len)
{
	char err[160];
	struct flow_buf b = {0};
	struct codec *c = codec_new(enc, cap, on_collect, &b, err, sizeof err);
	if (!c)
		return -1;
	int r = codec_feed(c, data, len, err, sizeof err);
	if (r == 0)
		r = codec_finish(c, !truncated, err, sizeof err);
	codec_free(c);
	if (r != 0) {
		free(b.data);
		return -1;
	}
	if (!b.data)
		b.data = xmalloc(1);
	*out = b.data;
	*out_len = b.len;
	return 0;
}

/* ---- encoding ---- */

static int zlib_encode(const char *in, size_t len, int wbits, char **out, size_t *olen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, (uLong)len) + 16;
	*out = xmalloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*olen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		return -1;
	}
	return 0;
}

static int br_encode(const char *in, size_t len, char **out, size_t *olen)
{
	size_t cap = BrotliEncoderMaxCompressedSize(len);
	if (!cap)
		cap = len + 1024;
	*out = xmalloc(cap);
	*olen = cap;
	if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len,
				   (const uint8_t *)in, olen, (uint8_t *)*out)) {
		free(*out);
		return -1;
	}
	return 0;
}

static int zstd_encode(const char *in, size_t len, char **out, size_t *olen)
{
	size_t cap = ZSTD_compressBound(len);
	*out = xmalloc(cap);
	*olen = ZSTD_compress(*out, cap, in, len, 3);
	if (ZSTD_isError(*olen)) {
		free(*out);
		return -1;
	}
	return 0;
}

/* Encodes in with the coding named by the len bytes at name into a malloc'd *out. Returns 0,
 * or -1 (nothing allocated) on failure or when the coding is unknown. */
static int encode_one(const char *name, size_t len, const char *in, size_t in_len, char **out,
		      size_t *olen)
{
#define IS(s) (len == sizeof s - 1 && strncasecmp(name, s, len) == 0)
	if (in_len > UINT32_MAX)
		return -1;
	if (IS("gzip") || IS("x-gzip"))
		return zlib_encode(in, in_len, 15 + 16, out, olen);
	if (IS("deflate"))
		return zlib_encode(in, in_len, 15, out, olen); /* zlib-wrapped, as the RFC says */
	if (IS("br"))
		return br_encode(in, in_len, out, olen);
	if (IS("zstd"))
		return zstd_encode(in, in_len, out, olen);
	return -1;
#undef IS
}

int codec_encode_all(const char *enc, const char *data, size_t len, char **out, size_t *out_len)
{
	const char *cur = data;
	size_t cur_len = len;
	char *owned = NULL; /* cur once a coding was applied */
	for (const char *p = enc ? enc : ""; *p;) {
		/* The codings are separated by commas, each trimmed of spaces and tabs. */
		const char *name = p;
		size_t n = strcspn(p, ",");
		p += n;
		if (*p)
			p++;
		while (n && (*name == ' ' || *name == '\t'))
			name++, n--;
		while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			n--;
		if (!n || (n == 8 && strncasecmp(name, "identity", 8) == 0))
			continue;
		char *next;
		size_t next_len;
		int rc = encode_one(name, n, cur, cur_len, &next, &next_len);
		free(owned);
		if (rc != 0)
			return -1;
		cur = owned = next;
		cur_len = next_len;
	}
	if (!owned) {
		owned = xmalloc(cur_len ? cur_len : 1);
		memcpy(owned, cur, cur_len);
	}
	*out = owned;
	*out_len = cur_len;
	return 0;
}
