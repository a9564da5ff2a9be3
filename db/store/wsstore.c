/* SPDX-License-Identifier: MIT */
/* wsstore.c - WebSocket messages beside their flow (see wsstore.h).
 *
 * A batch (wsmsg.h) comes through the writer's queue like a flow event and is written in the
 * same transaction as its neighbours: one ws_messages row per message (flow_id, idx unique, so
 * a batch written twice after a retry replaces itself), and the flow's ws_close row when the
 * batch carries its close. Messages never touch the flows row: an hours-long socket costs one
 * small insert per message, and the flow's own events stay what they were. A flow removed
 * while its socket was still open drops its late batches as its late events are dropped
 * (tombs.c). After each commit the messages listener hears of every flow with news once. */
#include "wsstore.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void remember(struct store *s, uint64_t id)
{
	for (size_t i = 0; i < s->num_ws_ids; i++)
		if (s->ws_ids[i] == id)
			return;
	if (s->num_ws_ids == s->ws_ids_cap) {
		s->ws_ids_cap = s->ws_ids_cap ? 2 * s->ws_ids_cap : 16;
		s->ws_ids = xrealloc(s->ws_ids, s->ws_ids_cap * sizeof *s->ws_ids);
	}
	s->ws_ids[s->num_ws_ids++] = id;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int write_close(struct store *s, const struct wsmsg_batch *b)
{
	const struct wsmsg_close *c = &b->close;
	sqlite3_stmt *st = s->st[ST_WS_CLOSE];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)b->flow_id);
	sqlite3_bind_int(st, 2, c->closed);
	if (c->closed) {
		sqlite3_bind_int(st, 3, c->closed_by_client);
		sqlite3_bind_int(st, 4, c->code);
	}
	bind_text_or_null(st, 5, c->reason);
	bind_text_or_null(st, 6, c->error);
	return schema_run(st);
}

int wsstore_write(struct store *s, const struct wsmsg_batch *b)
{
	if (tombs_is_gone(&s->gone, b->flow_id, 0))
		return SQLITE_OK;
	int rc = SQLITE_OK;
	sqlite3_stmt *st = s->st[ST_WS_MSG];
	size_t limit = __atomic_load_n(&s->body_limit, __ATOMIC_RELAXED); /* live (options) */
	for (size_t i = 0; i < b->num && rc == SQLITE_OK; i++) {
		const struct wsmsg *m = &b->msgs[i];
		size_t len = m->len < limit ? m->len : limit;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)b->flow_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)m->index);
		sqlite3_bind_int(st, 3, m->from_client);
		sqlite3_bind_int(st, 4, m->opcode);
		sqlite3_bind_int64(st, 5, m->ts);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)m->size);
		sqlite3_bind_int(st, 7, m->truncated || len < m->len);
		sqlite3_bind_blob64(st, 8, m->data ? m->data : "", len, SQLITE_STATIC);
		rc = schema_run(st);
	}
	if (rc == SQLITE_OK && b->has_close)
		rc = write_close(s, b);
	if (rc == SQLITE_OK && (b->num || b->has_close))
		remember(s, b->flow_id);
	return rc;
}

/* Runs sql with ?1 = from and ?2 = to; *changes gets the rows it wrote. */
static int copy_rows(struct store *s, const char *sql, uint64_t from, uint64_t to, int *changes)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
	rc = sqlite3_step(st);
	*changes = rc == SQLITE_DONE ? sqlite3_changes(s->db) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const char copy_msgs[] =
    "INSERT OR REPLACE INTO ws_messages(flow_id,idx,from_client,opcode,ts_us,size,truncated,"
    "content) SELECT ?2,idx,from_client,opcode,ts_us,size,truncated,content FROM ws_messages "
    "WHERE flow_id=?1";
static const char copy_close[] =
    "INSERT OR REPLACE INTO ws_close(flow_id,closed,closed_by_client,code,reason,error) "
    "SELECT ?2,closed,closed_by_client,code,reason,error FROM ws_close WHERE flow_id=?1";

int wsstore_copy(struct store *s, uint64_t from, uint64_t to)
{
	if (tombs_is_gone(&s->gone, to, 0))
		return SQLITE_OK;
	int msgs = 0, close = 0;
	int rc = copy_rows(s, copy_msgs, from, to, &msgs);
	if (rc == SQLITE_OK)
		rc = copy_rows(s, copy_close, from, to, &close);
	if (rc == SQLITE_OK && (msgs || close))
		remember(s, to);
	return rc;
}

int wsstore_delete_flow(struct store *s, uint64_t id)
{
	sqlite3_bind_int64(s->st[ST_WS_DEL_MSGS], 1, (sqlite3_int64)id);
	int rc = schema_run(s->st[ST_WS_DEL_MSGS]);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->st[ST_WS_DEL_CLOSE], 1, (sqlite3_int64)id);
		rc = schema_run(s->st[ST_WS_DEL_CLOSE]);
	}
	return rc;
}

int wsstore_clear(struct store *s)
{
	wsstore_forget(s);
	return sqlite3_exec(s->db, "DELETE FROM ws_messages; DELETE FROM ws_close", NULL, NULL,
			    NULL);
}

void wsstore_forget(struct store *s)
{
	s->num_ws_ids = 0;
}

void wsstore_notify(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	store_messages_fn fn = s->msg_fn;
	void *arg = s->msg_arg;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; fn && i < s->num_ws_ids; i++)
		fn(arg, s->ws_ids[i]);
	wsstore_forget(s);
}

void store_set_messages_listener(struct store *s, store_messages_fn fn, void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->msg_fn = fn;
	s->msg_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

/* ---- reading ---- */

static int read_close(sqlite3 *db, uint64_t id, struct wsmsg_close *c)
{
	sqlite3_stmt *st;
	int rc =
	    sqlite3_prepare_v2(db,
			       "SELECT closed,closed_by_client,code,reason,error FROM ws_close "
			       "WHERE flow_id=?",
			       -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->closed = sqlite3_column_int(st, 0);
		c->closed_by_client = sqlite3_column_int(st, 1);
		c->code = sqlite3_column_int(st, 2);
		const char *reason = (const char *)sqlite3_column_text(st, 3);
		const char *error = (const char *)sqlite3_column_text(st, 4);
		c->reason = reason ? xstrdup(reason) : NULL;
		c->error = error ? xstrdup(error) : NULL;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int count(sqlite3 *db, uint64_t id, uint64_t *total)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM ws_messages WHERE flow_id=?", -1, &st,
				    NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	*total = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int store_messages(struct store_reader *r, uint64_t id, int64_t after, int limit,
		   store_message_fn fn, void *arg, uint64_t *total, struct wsmsg_close *close,
		   char *err, size_t errlen)
{
	sqlite3 *db = reader_db(r);
	sqlite3_stmt *st = NULL;
	if (close)
		memset(close, 0, sizeof *close);
	int rc = total ? count(db, id, total) : SQLITE_OK;
	if (rc == SQLITE_OK && close)
		rc = read_close(db, id, close);
	if (rc == SQLITE_OK)
		rc =
		    sqlite3_prepare_v2(db,
				       "SELECT idx,from_client,opcode,ts_us,size,truncated,content "
				       "FROM ws_messages WHERE flow_id=? AND idx>? ORDER BY idx "
				       "LIMIT ?",
				       -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, after);
		sqlite3_bind_int(st, 3, limit);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct wsmsg m = {
			    .index = (uint64_t)sqlite3_column_int64(st, 0),
			    .from_client = sqlite3_column_int(st, 1),
			    .opcode = sqlite3_column_int(st, 2),
			    .ts = sqlite3_column_int64(st, 3),
			    .size = (uint64_t)sqlite3_column_int64(st, 4),
			    .truncated = sqlite3_column_int(st, 5),
			    .data = (char *)sqlite3_column_blob(st, 6),
			    .len = (size_t)sqlite3_column_bytes(st, 6),
			};
			if (fn(arg, &m) != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		if (close)
			wsmsg_close_clear(close);
		return -1;
	}
	return 0;
}
