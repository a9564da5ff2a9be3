/* SPDX-License-Identifier: MIT */
/* dbrow.h - the derived values of a flow that the store keeps in its rows and that both filter
 * evaluators look at: the header blob format, the URL, the content type and encoding, the body
 * text that body filters search. Internal to db/: the writer and reader (store/) and the filter
 * (filter.c, filtersql.c) share them, which is what makes filter_match() and the SQL path give
 * the same answers. */
#ifndef DBROW_H
#define DBROW_H

#include "flow.h"

#include <stddef.h>

/* Decoded output is capped here, for stored search text and for streamed bodies. */
#define DBROW_DECODE_CAP ((size_t)64 << 20)

/* Headers as a blob: per header a u32 little-endian name length, the name, a u32 value length,
 * the value. Keeps order, case and any bytes. Returns a malloc'd blob (never NULL, may be
 * zero-length) of *len bytes. */
char *dbrow_headers_pack(const struct flow_msg *m, size_t *len /* OUT */);
/* The same into a buffer of the caller's (the store's writer reuses its own): the blob's
 * length, then the blob written to out, which must have room for that many bytes. */
size_t dbrow_headers_packed_len(const struct flow_msg *m);
void dbrow_headers_pack_to(const struct flow_msg *m, char *out);
/* Appends the headers of a blob to m. Returns 0, or -1 if the blob is malformed (the headers
 * before the bad one are appended). */
int dbrow_headers_unpack(struct flow_msg *m, const void *blob, size_t len);
/* "Name: value\r\n" for each header, as mitmproxy's bytes(headers): malloc'd (never NULL,
 * NUL-terminated), *len bytes. */
char *dbrow_headers_text(const struct flow_msg *m, size_t *len /* OUT */);
/* The same text from a packed blob (malloc'd); NULL if the blob is malformed. */
char *dbrow_headers_blob_text(const void *blob, size_t blen, size_t *len /* OUT */);

/* The URL the filter's ~u looks at: "scheme://host[:port]/path" (port left out when it is the
 * scheme's default), "host:port" for a tunnel. malloc'd, never NULL. */
char *dbrow_flow_url(const struct flow *f);
/* The first Content-Type / Content-Encoding value of m, or NULL (borrowed from m). */
const char *dbrow_msg_ctype(const struct flow_msg *m);
const char *dbrow_msg_cenc(const struct flow_msg *m);
/* What body operators search: the decoded body when m has a Content-Encoding that decodes,
 * else the stored bytes. *to_free gets a malloc'd buffer to free (or NULL). Returns the bytes,
 * borrowed from m or *to_free (NULL with *len 0 when the body is empty). */
const char *dbrow_body_text(const struct flow_msg *m, char **to_free /* OUT */,
			    size_t *len /* OUT */);

#endif
