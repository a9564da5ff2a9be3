/* SPDX-License-Identifier: MIT */
/* edits.c - a captured flow edited where it stands (mitmweb's edit), with Revert.
 *
 * The web API reads the stored flow, applies the user's edit to a copy and queues it with
 * store_edit() (queue.c), handing over the flow as read too. Here, on the writer thread and in
 * the batch's transaction, the first edit of a flow keeps that unedited copy in the table
 * originals (the parts an edit can change: URL, request, response), later edits leave it as it
 * is, and the edited flow is written over the stored one by rows_write_flow(), so that its
 * summary, heads, bodies, body index and hosts stay what every other write makes them. Revert
 * queues the kept original merged back into the flow, with revert set: the row goes. A delete
 * or a clear of flows takes their originals along (writer.c calls edits_delete_flow() and
 * edits_clear() beside the other tables). */
#include "edits.h"

#include "dbrow.h"
#include "reader.h" /* reader_db() */
#include "rows.h"
#include "schema.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The columns of one side, in this order, follow each other in both statements. */
#define SIDE(p) p "present, " p "version, " p "headers, " p "body, " p "body_size, " p "truncated"
#define URL_COLS "scheme, host, port, path, method, target, "
#define COLS URL_COLS SIDE("req_") ", " SIDE("resp_") ", status, reason"

static const char insert_sql[] = "INSERT OR IGNORE INTO originals (flow_id, " COLS ") VALUES "
				 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
				 "?15, ?16, ?17, ?18, ?19, ?20, ?21)";
/* An edit never changes the trailers: the original's are those stored with the flow. */
static const char select_sql[] =
    "SELECT " COLS ",(SELECT req_trailers FROM heads WHERE id=?1),"
    "(SELECT resp_trailers FROM heads WHERE id=?1) FROM originals WHERE flow_id=?1";

/* Runs sql with id bound to ?1 and no result rows wanted. */
static int run_id(sqlite3 *db, const char *sql, uint64_t id)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Binds one side of a flow from parameter n on (present, version, headers, body, size, truncated).
 */
static void bind_msg(sqlite3_stmt *st, int n, const struct flow_msg *m)
{
	size_t hlen;
	char *heads = dbrow_headers_pack(m, &hlen);
	sqlite3_bind_int(st, n, m->present);
	sqlite3_bind_int(st, n + 1, m->version);
	sqlite3_bind_blob(st, n + 2, heads, (int)hlen, free);
	sqlite3_bind_blob(st, n + 3, m->body.data ? m->body.data : "", (int)m->body.len,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, n + 4, (sqlite3_int64)m->body_size);
	sqlite3_bind_int(st, n + 5, m->body_truncated);
}

static int keep_original(struct store *s, const struct flow *o)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, insert_sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
	sqlite3_bind_text(st, 2, o->scheme, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->host ? o->host : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, o->port);
	sqlite3_bind_text(st, 5, o->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, o->request.method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, o->request.target, -1, SQLITE_STATIC);
	bind_msg(st, 8, &o->request);
	bind_msg(st, 14, &o->response);
	sqlite3_bind_int(st, 20, o->response.status);
	sqlite3_bind_text(st, 21, o->response.reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int edits_write(struct store *s, struct ev *e, int *changed, int64_t *delta)
{
	*changed = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM flows WHERE id=?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->flow->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_OK : rc; /* deleted meanwhile: stays deleted */
	if (e->revert)
		rc = run_id(s->db, "DELETE FROM originals WHERE flow_id=?1", e->flow->id);
	else if (e->original)
		rc = keep_original(s, e->original);
	else
		rc = SQLITE_OK;
	int added = 0;
	if (rc == SQLITE_OK)
		rc = rows_write_flow(s, e->flow, EV_END, 0, &added, changed, delta);
	return rc;
}

int edits_delete_flow(struct store *s, uint64_t id)
{
	return run_id(s->db, "DELETE FROM originals WHERE flow_id=?1", id);
}

int edits_clear(struct store *s)
{
	return run_id(s->db, "DELETE FROM originals", 0);
}

static char *column_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* Reads one side from column n on (present, version, headers, body, size, truncated). */
static int read_msg(sqlite3_stmt *st, int n, struct flow_msg *m)
{
	m->present = sqlite3_column_int(st, n);
	m->version = sqlite3_column_int(st, n + 1);
	const void *h = sqlite3_column_blob(st, n + 2);
	if (h && dbrow_headers_unpack(m, h, (size_t)sqlite3_column_bytes(st, n + 2)) != 0)
		return -1;
	const void *b = sqlite3_column_blob(st, n + 3);
	size_t blen = (size_t)sqlite3_column_bytes(st, n + 3);
	if (blen)
		flow_buf_append(&m->body, b, blen);
	m->body_size = (uint64_t)sqlite3_column_int64(st, n + 4);
	m->body_truncated = sqlite3_column_int(st, n + 5);
	return 0;
}

struct flow *store_original(struct store_reader *r, uint64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reader_db(r), select_sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	struct flow *f = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		f = xcalloc(1, sizeof *f); /* not flow_new(): it takes no id of its own */
		f->id = id;
		f->scheme = column_str(st, 0);
		f->host = column_str(st, 1);
		f->port = (uint16_t)sqlite3_column_int(st, 2);
		f->path = column_str(st, 3);
		f->request.method = column_str(st, 4);
		f->request.target = column_str(st, 5);
		f->response.status = sqlite3_column_int(st, 18);
		f->response.reason = column_str(st, 19);
		if (read_msg(st, 6, &f->request) != 0 || read_msg(st, 12, &f->response) != 0) {
			flow_free(f);
			return sqlite3_finalize(st), NULL;
		}
		schema_read_trailers(&f->request, st, 20);
		schema_read_trailers(&f->response, st, 21);
	}
	sqlite3_finalize(st);
	return f;
}
