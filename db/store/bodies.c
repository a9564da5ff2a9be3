/* SPDX-License-Identifier: MIT */
/* bodies.c - the writer's side of stored bodies: one bodies row per side of a flow, and the
 * files beside the database for the parts over SCHEMA_FTS_MAX_BYTES (bodyfile.h does the file
 * calls; this file decides which files exist).
 *
 * A file is written before its row commits and unlinked only after the row that referenced it
 * is gone and that commit is done (bodies_release()); files that no row claims (a rolled-back
 * batch) are swept when the store opens. A new version is renamed over the old file before its
 * commit, so a rolled-back rewrite leaves the newer bytes under the older row (same flow, same
 * body, rare: accepted). A file that cannot be written leaves its part in SQLite; an
 * in-memory database keeps everything in SQLite.
 *
 * The common body, that of a fresh flow, small enough for SQLite and above the indexer's
 * watermark, waits in s->bgroup with its flow's rows (rows.c) and goes in SCHEMA_GROUP_ROWS at
 * a time by one INSERT OR FAIL (ST_BODY_GROUP; a row that exists already is written over on
 * its own): one statement per body cost the writer about as much as its flows row.
 * bodies_flush() inserts the rest; rows_flush() calls it.
 *
 * While s->index_clean (every body above the indexer's watermark is listed in unindexed), such
 * a body that the indexer would not index (binary: the proxy's 1 KiB bodies are random bytes)
 * is listed there as checked by the writer, by groups too, and the watermark moves over it in
 * the same transaction; the indexer's walk, which read each body again to find it binary, cost
 * more than the listing. Any other body written above the watermark ends that (the indexer
 * walks from the mark again, and resumes it once it caught up). */
#include "bodies.h"

#include "bodyfile.h"
#include "dbrow.h"
#include "indexer.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t bodies_stored_len(const struct store *s, const struct flow_msg *m)
{
	size_t limit = __atomic_load_n(&s->body_limit, __ATOMIC_RELAXED); /* live (options) */
	return m->body.len < limit ? m->body.len : limit;
}

/* Remembers that the files of body id (the ext bits in mask) may be unreferenced once this
 * batch commits; bodies_release() decides. */
static void unref_add(struct store *s, uint64_t id, int mask)
{
	if (!mask)
		return;
	if (s->num_unref == s->unref_cap) {
		s->unref_cap = s->unref_cap ? s->unref_cap * 2 : 16;
		s->unref = xrealloc(s->unref, s->unref_cap * sizeof *s->unref);
	}
	s->unref[s->num_unref++] = (struct unref){id, mask};
}

/* Looks body id up: SQLITE_ROW with its ext in *ext, SQLITE_DONE when there is no row, or
 * SQLite's error. */
static int look_up_body(struct store *s, uint64_t id, int *ext)
{
	sqlite3_stmt *st = s->st[ST_BODY_EXT];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	int rc = sqlite3_step(st);
	*ext = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The ext of body id as stored now: 0 when there is no row; every bit when it cannot be read,
 * so that a file is kept rather than lost. */
static int body_ext(struct store *s, uint64_t id)
{
	int ext;
	int rc = look_up_body(s, id, &ext);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ext : BODYFILE_DATA | BODYFILE_TEXT;
}

/* 0 when body id has no row (its flow had none for that side so far), else 1 (also when the
 * look-up fails). */
static int body_stored(struct store *s, uint64_t id)
{
	int ext;
	return look_up_body(s, id, &ext) != SQLITE_DONE;
}

static int on_keep(void *arg, uint64_t id)
{
	return body_ext(arg, id);
}

/* One read transaction, so the rows are one snapshot. */
void bodies_sweep(struct store *s)
{
	if (!s->bodies_dir)
		return;
	sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
	int n = bodyfile_sweep(s->bodies_dir, on_keep, s);
	int e = errno;
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (n < 0)
		log_warn("flow store %s: cannot read %s: %s", s->path, s->bodies_dir, strerror(e));
	else if (n > 0)
		log_debug("flow store %s: removed %d body files no flow refers to", s->path, n);
}

/* A later event of the batch may have written a file of the same id again: the row says. */
void bodies_release(struct store *s)
{
	if (s->mark_moved && s->list_mark > s->fts_mark)
		s->fts_mark = s->list_mark; /* committed */
	s->mark_moved = 0;
	for (size_t i = 0; s->bodies_dir && i < s->num_unref; i++) {
		const struct unref *u = &s->unref[i];
		int stale = u->mask & ~body_ext(s, u->id);
		if (stale)
			bodyfile_remove(s->bodies_dir, u->id, stale);
	}
	s->num_unref = 0;
	if (s->sweep_at_commit)
		bodies_sweep(s);
	s->sweep_at_commit = 0;
}

int bodies_run_delete(struct store *s, sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		unref_add(s, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Writes one part of body id to its file. Returns kind when written, 0 when that failed
 * (logged once per change of state; bodies_write() then keeps the part in SQLite). */
static int put_file(struct store *s, uint64_t id, enum bodyfile_kind kind, const char *data,
		    size_t len)
{
	int rc;
	if (s->file_budget && s->file_bytes + len > s->file_budget) {
		errno = ENOSPC; /* the test knob's simulated full disk */
		rc = -1;
	} else {
		rc = bodyfile_write(s->bodies_dir, id, kind, data, len);
	}
	if (rc != 0) {
		s->file_failed = 1;
		if (!s->files_failing) {
			s->files_failing = 1;
			log_error(
			    "flow store %s: writing a body file in %s: %s: large bodies are "
			    "kept in the database (or stored empty and marked truncated when it "
			    "is full too) until this is fixed",
			    s->path, s->bodies_dir, strerror(errno));
		}
		return 0;
	}
	s->file_bytes += len;
	if (s->files_failing) {
		s->files_failing = 0;
		log_warn("flow store %s: writing body files again", s->path);
	}
	return (int)kind;
}

/* One bodies row. data and text are what goes into the columns (text NULL: no text column);
 * the parts named in ext are in files and must be passed empty / NULL. */
struct body_row {
	const char *data;
	size_t len;
	const char *text;
	size_t tlen;
	int truncated;
	int ext;
};

/* Binds ?1 = the flow id and ?2 = the side to one of the body statements that take them. */
static sqlite3_stmt *bind_body(struct store *s, enum stmt_id which, const struct flow *f, int side)
{
	sqlite3_stmt *st = s->st[which];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	sqlite3_bind_int(st, 2, side);
	return st;
}

static int put_row(struct store *s, const struct flow *f, int side, const struct body_row *b)
{
	const struct flow_msg *m = side ? &f->response : &f->request;
	sqlite3_stmt *st = bind_body(s, ST_BODY, f, side);
	sqlite3_bind_blob(st, 3, b->len ? b->data : "", (int)b->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->body_size);
	sqlite3_bind_int(st, 5, b->truncated);
	if (b->text)
		sqlite3_bind_blob(st, 6, b->tlen ? b->text : "", (int)b->tlen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, b->ext);
	return schema_run(st);
}

/* The last resort for a body whose file could not be written and that does not fit in the
 * database either: the flow is kept, with this body empty and marked truncated (in its flows
 * row too, which rows_write_flow() wrote already, and in f, whose summary the listener hears). */
static int put_empty_row(struct store *s, struct flow *f, int side)
{
	struct body_row empty = {.truncated = 1};
	int rc = put_row(s, f, side, &empty);
	if (rc != SQLITE_OK)
		return rc;
	(side ? &f->response : &f->request)->body_truncated = 1;
	return schema_run(bind_body(s, ST_MARK_TRUNCATED, f, side));
}

void bodies_drop_group(struct store *s)
{
	for (size_t k = 0; k < s->num_bgroup; k++)
		free(s->bgroup[k].text);
	s->num_bgroup = 0;
	/* a rolled-back batch: the watermark stays where it was committed */
	s->mark_moved = s->mark_unwritten = 0;
	s->index_clean = 0;
}

/* The watermark as the open batch sees it. */
static uint64_t open_mark(const struct store *s)
{
	return s->mark_moved ? s->list_mark : s->fts_mark;
}

/* Lists the waiting bodies marked listed in unindexed (checked), and while s->index_clean
 * moves the watermark over them. */
static int list_group(struct store *s)
{
	size_t n = s->num_bgroup, nlisted = 0;
	uint64_t top = 0;
	for (size_t k = 0; k < n; k++)
		if (s->bgroup[k].listed) {
			nlisted++;
			top = s->bgroup[k].id > top ? s->bgroup[k].id : top;
		}
	int rc = SQLITE_OK;
	if (nlisted == SCHEMA_GROUP_ROWS) {
		sqlite3_stmt *st = s->st[ST_UNINDEXED_GROUP];
		for (size_t k = 0; k < n; k++)
			sqlite3_bind_int64(st, (int)k + 1, (sqlite3_int64)s->bgroup[k].id);
		rc = schema_run(st);
	}
	for (size_t k = 0; rc == SQLITE_OK && nlisted < SCHEMA_GROUP_ROWS && k < n; k++)
		if (s->bgroup[k].listed) {
			sqlite3_bind_int64(s->st[ST_LIST_CHECKED], 1,
					   (sqlite3_int64)s->bgroup[k].id);
			rc = schema_run(s->st[ST_LIST_CHECKED]);
		}
	if (rc == SQLITE_OK && s->index_clean && top > open_mark(s)) {
		s->list_mark = top;
		s->mark_moved = 1;
		s->mark_unwritten = 1; /* bodies_write_mark() */
	}
	return rc;
}

int bodies_write_mark(struct store *s)
{
	if (!s->mark_unwritten)
		return SQLITE_OK;
	s->mark_unwritten = 0;
	sqlite3_bind_int64(s->st[ST_IDX_WATERMARK], 1, (sqlite3_int64)s->list_mark);
	return schema_run(s->st[ST_IDX_WATERMARK]);
}

/* Binds ?i.. of ST_BODY_GROUP to w (BODY_INSERT's columns up to text), where they changed
 * since its last run (see struct schema_binds). Returns the next i. */
static int bind_wait(struct schema_binds *c, sqlite3_stmt *st, int i, const struct body_wait *w)
{
	schema_bind_int(c, st, i++, (int64_t)w->id);
	schema_bind_int(c, st, i++, (int64_t)(w->id >> 1));
	schema_bind_int(c, st, i++, (int64_t)(w->id & 1));
	/* bound every run: comparing a body that repeats would read it whole, where binding it
	 * (static) costs the same for any size */
	schema_bind_blob_once(c, st, i++, w->len ? w->m->body.data : "", (int)w->len);
	schema_bind_int(c, st, i++, (int64_t)w->m->body_size);
	schema_bind_int(c, st, i++, w->truncated);
	/* the text is freed after the run */
	schema_bind_blob_once(c, st, i, w->text ? (w->tlen ? w->text : "") : NULL, (int)w->tlen);
	return i + 1;
}

void bodies_begin_batch(struct store *s)
{
	schema_binds_forget(&s->bodies_binds, s->st[ST_BODY_GROUP]);
}

void bodies_free_binds(struct store *s)
{
	schema_binds_free(&s->bodies_binds);
}

int bodies_flush(struct store *s)
{
	size_t n = s->num_bgroup, k = 0;
	int rc = SQLITE_OK;
	if (n == SCHEMA_GROUP_ROWS) {
		sqlite3_stmt *st = s->st[ST_BODY_GROUP];
		for (size_t i = 1; k < n; k++)
			i = (size_t)bind_wait(&s->bodies_binds, st, (int)i, &s->bgroup[k]);
		rc = schema_run_kept(st);
		/* OR FAIL: the rows before one that exists already (its flow's row did) are in;
		 * that one and the rest are written over one by one */
		k = rc == SQLITE_CONSTRAINT ? (size_t)sqlite3_changes(s->db) : n;
		if (rc == SQLITE_CONSTRAINT)
			rc = SQLITE_OK;
	}
	for (; rc == SQLITE_OK && k < n; k++) {
		const struct body_wait *w = &s->bgroup[k];
		sqlite3_stmt *st = s->st[ST_BODY];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(w->id >> 1));
		sqlite3_bind_int(st, 2, (int)(w->id & 1));
		sqlite3_bind_blob(st, 3, w->len ? w->m->body.data : "", (int)w->len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)w->m->body_size);
		sqlite3_bind_int(st, 5, w->truncated);
		if (w->text)
			sqlite3_bind_blob(st, 6, w->tlen ? w->text : "", (int)w->tlen,
					  SQLITE_STATIC);
		sqlite3_bind_int(st, 7, 0);
		rc = schema_run(st);
	}
	if (rc == SQLITE_OK)
		rc = list_group(s);
	for (size_t k = 0; k < n; k++)
		free(s->bgroup[k].text);
	s->num_bgroup = 0;
	return rc;
}

/* Lists body bid in unindexed as not looked at yet: the indexer looks at it (again). */
static int list_unchecked(struct store *s, uint64_t bid)
{
	sqlite3_stmt *st = s->st[ST_UNINDEXED];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(bid >> 1));
	sqlite3_bind_int(st, 2, (int)(bid & 1));
	s->index_backlog++;
	return schema_run(st);
}

/* Queues the row of a fresh body (see the top of this file); takes text. A body the watermark
 * moved over in this batch already (flows end in another order than their ids) is listed
 * whatever s->index_clean says: as checked with its row when binary, else unchecked now. */
static int put_waiting(struct store *s, uint64_t bid, const struct flow_msg *m, size_t len,
		       char *text, size_t tlen, int truncated)
{
	/* what IDX_TEXT (schema.c) gives the indexer for this row */
	int bin = !indexer_indexable(text ? text : m->body.data, text ? tlen : len);
	int covered = bid <= open_mark(s), listed = bin && (covered || s->index_clean), rc;
	if (!listed && covered && (rc = list_unchecked(s, bid)) != SQLITE_OK) {
		free(text);
		return rc;
	}
	if (!listed && !covered) {
		s->index_clean = 0;
		s->index_backlog++;
	}
	s->bgroup[s->num_bgroup++] = (struct body_wait){bid, m, len, text, tlen, truncated, listed};
	return s->num_bgroup == SCHEMA_GROUP_ROWS ? bodies_flush(s) : SQLITE_OK;
}

/* A body written on its own above the watermark (row b, as stored): the indexer would have to
 * look at it, unless the writer lists it now, as checked, when the indexer would not index it
 * (IDX_TEXT in schema.c, then indexer_indexable()): under load the BEGIN and the END of a flow
 * are often in different batches, so its body is not fresh, and s->index_clean lasted one
 * batch; the indexer then walked every body written since, reading each again to find it
 * binary. */
static int list_above(struct store *s, uint64_t bid, const struct body_row *b, int *listed)
{
	int text = !b->ext && indexer_indexable(b->text ? b->text : b->data,
						 b->text ? b->tlen : b->len);
	if (text || !s->index_clean) {
		s->index_clean = 0; /* the indexer looks at this one */
		return SQLITE_OK;
	}
	*listed = 1; /* nothing for the indexer: not in its backlog */
	sqlite3_bind_int64(s->st[ST_LIST_CHECKED], 1, (sqlite3_int64)bid);
	return schema_run(s->st[ST_LIST_CHECKED]);
}

int bodies_write(struct store *s, struct flow *f, int side, int fresh)
{
	const struct flow_msg *m = side ? &f->response : &f->request;
	size_t len = bodies_stored_len(s, m);
	uint64_t bid = (uint64_t)f->id * 2 + (uint64_t)side, mark = open_mark(s);
	int rc;
	/* a fresh body between the committed mark and this batch's has no older version */
	int moved_over = fresh && bid > s->fts_mark && bid <= mark;
	if (bid <= mark && !moved_over) {
		/* Below the watermark: the indexer has seen an older version of this body. Take
		 * it out of the index and list it for regex search (and for indexing again). */
		if ((rc = schema_run(bind_body(s, ST_FTS_DEL, f, side))) != SQLITE_OK ||
		    (rc = schema_run(bind_body(s, ST_UNINDEXED, f, side))) != SQLITE_OK)
			return rc;
		s->index_backlog++;
	}
	if (len == 0) {
		/* Nothing to store. A flow written before (its BEGIN in an earlier batch: under
		 * load, every batch cuts a few) may have a row to remove; most have none (a GET's
		 * request), and looking costs a tenth of the DELETE ... RETURNING (whose rows
		 * SQLite gathers in a temporary table first). */
		if (fresh || !body_stored(s, bid))
			return SQLITE_OK;
		return bodies_run_delete(s, bind_body(s, ST_BODY_DEL, f, side));
	}
	/* A rewrite: the old version's files go once the batch commits, unless this one
	 * replaces them (bodies_release() looks at the row then). */
	if (!fresh && s->bodies_dir)
		unref_add(s, bid, body_ext(s, bid));
	/* The decoded bytes, for the body filters (see dbrow_body_text), when they differ. */
	struct flow_msg view = *m;
	view.body.len = len;
	view.body_truncated = m->body_truncated || len < m->body.len;
	char *tf;
	size_t tlen;
	dbrow_body_text(&view, &tf, &tlen);
	if (fresh && !s->no_room && bid > s->fts_mark &&
	    (!s->bodies_dir ||
	     (len <= SCHEMA_FTS_MAX_BYTES && (!tf || tlen <= SCHEMA_FTS_MAX_BYTES))))
		return put_waiting(s, bid, m, len, tf, tlen, view.body_truncated);
	struct body_row b = {m->body.data, len, tf, tlen, view.body_truncated, 0};
	/* Parts over SCHEMA_FTS_MAX_BYTES go to files: the indexer skips them anyway, and SQLite
	 * would write them twice (WAL, checkpoint). A part whose file fails stays in SQLite. */
	int want = 0;
	if (s->bodies_dir && len > SCHEMA_FTS_MAX_BYTES) {
		want |= BODYFILE_DATA;
		b.ext |= put_file(s, bid, BODYFILE_DATA, m->body.data, len);
	}
	if (s->bodies_dir && tf && tlen > SCHEMA_FTS_MAX_BYTES) {
		want |= BODYFILE_TEXT;
		b.ext |= put_file(s, bid, BODYFILE_TEXT, tf, tlen);
	}
	if (b.ext & BODYFILE_DATA)
		b.len = 0;
	if (b.ext & BODYFILE_TEXT)
		b.text = NULL;
	if (b.ext != want && s->no_room) {
		/* The second try of a batch that did not fit (see process() in writer.c): this body
		 * could get neither a file nor room in the database. */
		unref_add(s, bid, b.ext); /* a part that did get its file is not referenced */
		rc = put_empty_row(s, f, side);
	} else {
		rc = put_row(s, f, side, &b);
	}
	int listed = 0;
	if (rc == SQLITE_OK && bid > mark)
		rc = list_above(s, bid, &b, &listed);
	free(tf);
	if (!listed)
		s->index_backlog++;
	if (rc == SQLITE_OK && moved_over)
		rc = list_unchecked(s, bid);
	return rc;
}
