/* SPDX-License-Identifier: MIT */
/* filtersql.h - a filter compiled to an SQL boolean expression over table flows, for the
 * store's reader (store_list()), and the SQL functions that expression calls. Internal to db/:
 * filter_match() (filter.h) gives the same answers on an in-memory flow. */
#ifndef FILTERSQL_H
#define FILTERSQL_H

#include "filter.h"

#include <sqlite3.h>

/* What the body filters search, as an SQL expression over a row of table bodies: the decoded
 * text when there is one, else the stored bytes. Parts kept in files (ext != 0, see bodyfile.h)
 * are read through fs_body(); rows wholly in SQLite never call it, so coalesce() still loads
 * only the blob it returns. */
#define FILTERSQL_BODY "CASE WHEN ext=0 THEN coalesce(text,data) ELSE fs_body(id,ext,text) END"

/* One parameter of the expression: an integer or a text. */
struct filter_param {
	int is_int;
	long long i;
	const char *s; /* borrowed from the filter */
};
/* A filter as an SQL boolean expression over table flows, never NULL-valued, using parameters
 * ?1..?num_params. */
struct filter_sql {
	char *where;		     /* owned */
	struct filter_param *params; /* owned array */
	int num_params;
};
/* Fills q from f (NULL f, or one that matches everything: "1"). q's texts borrow from f, which
 * must outlive q. Free with filter_sql_clear(). */
void filter_sql_build(const struct filter *f, struct filter_sql *q /* OUT */);
void filter_sql_clear(struct filter_sql *q);
/* Binds q's parameters to st (positions 1..num_params). Returns an SQLite result code. */
int filter_sql_bind(const struct filter_sql *q, sqlite3_stmt *st);
/* Registers regexp(pattern, subject) and fs_hmatch(pattern, headers_blob) on db: PCRE2,
 * caseless, JIT, the compiled pattern cached per statement. Both return 0 or 1, never NULL.
 * FILTERSQL_BODY also calls fs_body(), which the store registers (bodyfile_sql_register()).
 * Returns an SQLite result code. */
int filter_sql_register(sqlite3 *db);

#endif
