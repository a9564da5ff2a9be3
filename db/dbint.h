/* SPDX-License-Identifier: MIT */
/* dbint.h - what store.c and filter.c share inside db/ (not part of the public contract):
 * the header blob format, the derived values both filter evaluators look at (URL, body text,
 * header text), and the filter's SQL compiler with the SQL functions it calls. Keeping these in
 * one place is what makes filter_match() and the SQL path give the same answers. */
#ifndef DBINT_H
#define DBINT_H

#include "filter.h"
#include "flow.h"

#include <sqlite3.h>
#include <stddef.h>

/* Decoded output is capped here, for stored search text and for streamed bodies. */
#define DB_DECODE_CAP ((size_t)64 << 20)

/* Headers as a blob: per header a u32 little-endian name length, the name, a u32 value length,
 * the value. Keeps order, case and any bytes. Returns a malloc'd blob (never NULL, may be
 * zero-length) of *len bytes. */
char *db_headers_pack(const struct flow_msg *m, size_t *len);
/* Appends the headers of a blob to m. Returns 0, or -1 if the blob is malformed. */
int db_headers_unpack(struct flow_msg *m, const void *blob, size_t len);
/* "Name: value\r\n" for each header, as mitmproxy's bytes(headers): malloc'd, *len bytes. */
char *db_headers_text(const struct flow_msg *m, size_t *len);
/* The same text from a packed blob; NULL if malformed. */
char *db_headers_blob_text(const void *blob, size_t blen, size_t *len);

/* The URL the filter's ~u looks at: "scheme://host[:port]/path" (port left out when it is the
 * scheme's default), "host:port" for a tunnel. malloc'd. */
char *db_flow_url(const struct flow *f);
/* The first Content-Type / Content-Encoding value of m, or NULL (borrowed). */
const char *db_msg_ctype(const struct flow_msg *m);
const char *db_msg_cenc(const struct flow_msg *m);
/* What body operators search: the decoded body when m has a Content-Encoding that decodes,
 * else the stored bytes. *to_free gets a malloc'd buffer to free (or NULL). Returns the bytes
 * (NULL with *len 0 when the body is empty). */
const char *db_body_text(const struct flow_msg *m, char **to_free, size_t *len);

/* What the body filters search, as an SQL expression over a row of table bodies: the decoded
 * text when there is one, else the stored bytes. Parts kept in files (ext != 0, see bodyfile.h)
 * are read through fs_body(); rows wholly in SQLite never call it, so coalesce() still loads
 * only the blob it returns. */
#define DB_BODY_SQL "CASE WHEN ext=0 THEN coalesce(text,data) ELSE fs_body(id,ext,text) END"

/* A filter as an SQL boolean expression over table flows, never NULL-valued, using parameters
 * ?1..?num_params. */
struct filter_param {
	int is_int;
	long long i;
	const char *s; /* borrowed from the filter */
};
struct filter_sql {
	char *where;		     /* owned */
	struct filter_param *params; /* owned array */
	int num_params;
};
/* Fills q from f (NULL f: "1"). Free with filter_sql_clear(). */
void filter_sql_build(const struct filter *f, struct filter_sql *q);
void filter_sql_clear(struct filter_sql *q);
/* Binds q's parameters to st (positions 1..num_params). Returns an SQLite result code. */
int filter_sql_bind(const struct filter_sql *q, sqlite3_stmt *st);
/* Registers regexp(pattern, subject) and fs_hmatch(pattern, headers_blob) on db: PCRE2,
 * caseless, JIT, the compiled pattern cached per statement. Both return 0 or 1, never NULL.
 * Also fs_body() (bodyfile.h), which DB_BODY_SQL calls. */
int filter_sql_register(sqlite3 *db);

#endif
