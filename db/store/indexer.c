/* SPDX-License-Identifier: MIT */
/* indexer.c - body text into the trigram index (body_fts), off the proxy's path. The writer
 * never indexes what it writes; it calls indexer_step() once the queue stayed empty for
 * INDEXER_IDLE_US (the traffic paused), or while it keeps up with INDEXER_BACKLOG_MAX bodies
 * waiting, so that traffic does not pay for the index while it flows. Bodies with id <= the
 * watermark (s->fts_mark, counts k=2) have been looked at: each is in body_fts or listed in
 * unindexed as checked (binary, too large, in a file); a body rewritten below the watermark is
 * taken out of the index and listed unchecked (bodies.c), and looked at again here. Bodies
 * above the watermark that are not indexed (binary, too large, in a file: the proxy's 1 KiB
 * bodies are random bytes) are listed by one statement per chunk, after the walk over the
 * chunk, with the walk's own rule (fs_indexable()), instead of an insert each. Once the indexer
 * caught up, the writer lists the binary bodies of fresh flows itself as it writes them and
 * moves the watermark over them (bodies.c, s->index_clean): under the proxy's load the indexer
 * then has nothing to walk. */
#include "indexer.h"

#include <string.h>

int indexer_indexable(const char *t, size_t len)
{
	return t && len >= 3 && len <= SCHEMA_FTS_MAX_BYTES &&
	       !memchr(t, '\0', len < 1024 ? len : 1024);
}

static void fs_indexable(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *t = sqlite3_value_blob(argv[0]);
	sqlite3_result_int(ctx, indexer_indexable(t, (size_t)sqlite3_value_bytes(argv[0])));
}

int indexer_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "fs_indexable", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				       fs_indexable, NULL, NULL);
}

/* Runs the indexer's select sel (its parameters bound) over the bodies it returns (id, 1 when
 * the body is there, its text or NULL when too large or in a file: schema.c's IDX_TEXT): each
 * goes into body_fts when indexable, else it is listed in unindexed as checked: here one by
 * one when from_list (the rows come from unindexed: drop the listing when indexed), else
 * *passed is set and the caller lists them with ST_IDX_MARK_RANGE. Leaves sel reset.
 * Returns rows seen, -1 on error; *last gets the largest id. */
static int index_rows(struct store *s, sqlite3_stmt *sel, int from_list, uint64_t *last,
		      int *passed)
{
	sqlite3_stmt *ins = s->st[ST_IDX_INSERT], *mark = s->st[ST_IDX_MARK],
		     *unlist = s->st[ST_IDX_UNLIST];
	int n = 0, rc = SQLITE_OK, step;
	while (rc == SQLITE_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(sel, 0);
		int present = sqlite3_column_int(sel, 1);
		const char *t = (const char *)sqlite3_column_blob(sel, 2);
		size_t len = (size_t)sqlite3_column_bytes(sel, 2);
		n++;
		*last = (uint64_t)id;
		if (present && indexer_indexable(t, len)) {
			sqlite3_bind_int64(ins, 1, id);
			sqlite3_bind_text(ins, 2, t, (int)len, SQLITE_STATIC);
			rc = schema_run(ins);
			if (rc == SQLITE_OK && from_list) {
				sqlite3_bind_int64(unlist, 1, id);
				rc = schema_run(unlist);
			}
		} else if (present && !from_list) {
			*passed = 1;
		} else if (present) {
			sqlite3_bind_int64(mark, 1, id);
			rc = schema_run(mark);
		} else if (from_list) { /* the body is gone */
			sqlite3_bind_int64(unlist, 1, id);
			rc = schema_run(unlist);
		}
	}
	if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = step; /* the select itself failed */
	sqlite3_reset(sel);
	sqlite3_clear_bindings(sel);
	return rc == SQLITE_OK ? n : -1;
}

void indexer_open(struct store *s)
{
	sqlite3_stmt *st;
	s->index_clean = s->mark_moved = 0;
	if (sqlite3_prepare_v2(
		s->db,
		"SELECT n, NOT EXISTS (SELECT 1 FROM bodies WHERE id > n) FROM counts "
		"WHERE k=2",
		-1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->fts_mark = (uint64_t)sqlite3_column_int64(st, 0);
		s->index_clean = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
}

void indexer_step(struct store *s)
{
	if (!s->ready || schema_run(s->st[ST_BEGIN]) != SQLITE_OK) {
		s->index_pending = 0;
		return;
	}
	uint64_t last = 0, mark = s->fts_mark;
	int m = 0, rc = SQLITE_OK, passed = 0;
	sqlite3_stmt *sel = s->st[ST_IDX_SEL_LISTED];
	sqlite3_bind_int(sel, 1, INDEXER_CHUNK);
	int n = index_rows(s, sel, 1, &last, &passed);
	if (n >= 0 && n < INDEXER_CHUNK) {
		sel = s->st[ST_IDX_SEL_NEW];
		sqlite3_bind_int64(sel, 1, (sqlite3_int64)mark);
		sqlite3_bind_int(sel, 2, INDEXER_CHUNK - n);
		last = mark;
		m = index_rows(s, sel, 0, &last, &passed);
		if (m > 0)
			mark = last;
	}
	if (n < 0 || m < 0)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK && passed) {
		sqlite3_stmt *list = s->st[ST_IDX_MARK_RANGE];
		sqlite3_bind_int64(list, 1, (sqlite3_int64)s->fts_mark);
		sqlite3_bind_int64(list, 2, (sqlite3_int64)mark);
		rc = schema_run(list);
	}
	if (rc == SQLITE_OK && mark != s->fts_mark) {
		sqlite3_bind_int64(s->st[ST_IDX_WATERMARK], 1, (sqlite3_int64)mark);
		rc = schema_run(s->st[ST_IDX_WATERMARK]);
	}
	if (rc == SQLITE_OK)
		rc = schema_run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		schema_run(s->st[ST_ROLLBACK]);
		s->index_pending = 0; /* try again after the next batch */
		return;
	}
	s->fts_mark = mark;
	if (n + m < INDEXER_CHUNK) { /* caught up: no body above the mark */
		s->index_pending = 0;
		s->index_backlog = 0;
		s->index_clean = 1;
	} else {
		s->index_backlog -=
		    s->index_backlog < INDEXER_CHUNK ? s->index_backlog : INDEXER_CHUNK;
	}
}
