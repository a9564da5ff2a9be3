/* SPDX-License-Identifier: MIT */
/* rows.c - the writer's side of a flow's rows: flows (the summary columns), heads, hosts and
 * settings, and removing a flow or every flow. Its bodies are bodies.c's. Writer thread only,
 * inside the batch's transaction (writer.c).
 *
 * BEGIN inserts the row (state pending, ignored if the row exists); END/UPDATE write the whole
 * row, inserting it when there was no BEGIN; an event of a flow that is gone (tombs.c) makes
 * no row. A removed flow takes its heads, bodies and index entries with it.
 *
 * The flows rows of fresh flows (the batch had their BEGIN: nearly every flow under load) wait
 * in s->group and go in SCHEMA_GROUP_ROWS at a time by one INSERT OR FAIL, then their heads
 * rows by one INSERT OR REPLACE; their bodies wait in groups of their own (bodies.c), flushed
 * here too (no statement reads across the tables). rows_flush() inserts the rest, and the writer
 * calls it before any event other than a flow's write, which may read or change those rows, and
 * before the commit. */
#include "rows.h"

#include "bodies.h"
#include "dbrow.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* An integer column where 0 stands for NULL (replay_of, the times). */
static void bind_i64(struct schema_binds *c, sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		schema_bind_int(c, st, i, v);
	else
		schema_bind_null(c, st, i);
}

/* Binds ?i..?i+45 of the insert/update statements (SCHEMA_FLOW_COLS order; i is 1 but for the
 * later rows of a group). url is the derived URL. c: what the group statement holds (see
 * struct schema_binds), or NULL for a statement whose bindings were cleared (schema_run()).
 * Texts are bound static: every statement is reset before the flow goes. Returns the next
 * row's i. */
static int bind_flow(struct store *s, struct schema_binds *c, sqlite3_stmt *st,
		     const struct flow *f, const char *url, int i)
{
	const struct flow_msg *rq = &f->request, *rs = &f->response;
	schema_bind_int(c, st, i++, (int64_t)f->id);
	schema_bind_text(c, st, i++, flow_kind_name(f->kind));
	schema_bind_text(c, st, i++, flow_state_name(f->state));
	schema_bind_int(c, st, i++, f->flags);
	bind_i64(c, st, i++, (int64_t)f->replay_of);
	schema_bind_text(c, st, i++, f->scheme);
	schema_bind_text(c, st, i++, f->host ? f->host : "");
	schema_bind_int(c, st, i++, f->port);
	schema_bind_text(c, st, i++, f->path);
	schema_bind_text(c, st, i++, url);
	schema_bind_text(c, st, i++, rq->method);
	schema_bind_text(c, st, i++, rq->target);
	schema_bind_int(c, st, i++, rq->present != 0);
	if (rq->present)
		schema_bind_int(c, st, i, rq->version);
	else
		schema_bind_null(c, st, i);
	i++;
	schema_bind_int(c, st, i++, rs->present != 0);
	if (rs->present && f->kind == FLOW_HTTP) { /* ~c relies on NULL status elsewhere */
		schema_bind_int(c, st, i, rs->version);
		schema_bind_int(c, st, i + 1, rs->status);
	} else {
		schema_bind_null(c, st, i);
		schema_bind_null(c, st, i + 1);
	}
	i += 2;
	schema_bind_text(c, st, i++, rs->reason);
	schema_bind_text(c, st, i++, dbrow_msg_ctype(rq));
	schema_bind_text(c, st, i++, dbrow_msg_ctype(rs));
	schema_bind_int(c, st, i++, (int64_t)rq->body_size);
	schema_bind_int(c, st, i++, (int64_t)rs->body_size);
	schema_bind_int(c, st, i++,
			rq->body_truncated || rq->body.len > bodies_stored_len(s, rq));
	schema_bind_int(c, st, i++,
			rs->body_truncated || rs->body.len > bodies_stored_len(s, rs));
	schema_bind_int(c, st, i++, (int64_t)rq->head_size);
	schema_bind_int(c, st, i++, (int64_t)rs->head_size);
	for (int k = 0; k < SCHEMA_NUM_TLS; k++)
		schema_bind_text(c, st, i++,
				 *(char *const *)((const char *)f + schema_tls_fields[k]));
	schema_bind_text(c, st, i++, f->client_addr);
	schema_bind_text(c, st, i++, f->server_addr);
	for (int k = 0; k < SCHEMA_NUM_TIMES; k++)
		bind_i64(c, st, i++, *(const int64_t *)((const char *)f + schema_time_fields[k]));
	schema_bind_int(c, st, i++, (int64_t)f->bytes_up);
	schema_bind_int(c, st, i++, (int64_t)f->bytes_down);
	schema_bind_text(c, st, i++, f->error);
	schema_bind_text(c, st, i++, f->mode);
	schema_bind_int(c, st, i++, (int64_t)f->stream_id);
	return i;
}

/* Runs one of the statements that write the whole flows row (insert, insert or ignore,
 * update). */
static int put_flow(struct store *s, enum stmt_id which, const struct flow *f, const char *url)
{
	bind_flow(s, NULL, s->st[which], f, url, 1);
	return schema_run(s->st[which]);
}

static void bind_headers(sqlite3_stmt *st, int i, const struct flow_msg *m, char **blob)
{
	*blob = NULL;
	if (!m->present)
		return; /* NULL */
	size_t len;
	*blob = dbrow_headers_pack(m, &len);
	sqlite3_bind_blob(st, i, *blob, (int)len, SQLITE_STATIC); /* zero-length, not NULL */
}

/* m's trailers as a blob in the headers' format, or NULL (left unbound) when there are none. */
static void bind_trailers(sqlite3_stmt *st, int i, const struct flow_msg *m, char **blob)
{
	*blob = NULL;
	if (!m->num_trailers)
		return;
	struct flow_msg t = {.headers = m->trailers, .num_headers = m->num_trailers};
	size_t len;
	*blob = dbrow_headers_pack(&t, &len);
	sqlite3_bind_blob(st, i, *blob, (int)len, SQLITE_STATIC);
}

/* Binds ?i..?i+4 of a heads statement to f's id and header and trailer blobs; b gets the
 * blobs (malloc'd or NULL), to be freed after the run. Returns the next row's i. */
static int bind_heads(sqlite3_stmt *st, int i, const struct flow *f, char *b[4])
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)f->id);
	bind_headers(st, i + 1, &f->request, &b[0]);
	bind_headers(st, i + 2, &f->response, &b[1]);
	bind_trailers(st, i + 3, &f->request, &b[2]);
	bind_trailers(st, i + 4, &f->response, &b[3]);
	return i + 5;
}

/* Runs ST_HEADS for flow f. */
static int put_heads(struct store *s, const struct flow *f)
{
	char *b[4];
	sqlite3_stmt *st = s->st[ST_HEADS];
	bind_heads(st, 1, f, b);
	int rc = schema_run(st);
	for (int j = 0; j < 4; j++)
		free(b[j]);
	return rc;
}

/* Binds ?i of ST_HEADS_GROUP to the blob of m's headers, or NULL (m NULL). The blob is packed
 * into s->head_scratch; when it differs from the one the row's buffer (bound) holds, the two
 * buffers swap and the row's is bound: so a buffer bound is never written to nor freed, and
 * the flows that repeat their request headers (and, within a second, their response headers)
 * bind nothing. */
static void bind_head_blob(struct store *s, sqlite3_stmt *st, int i, struct head_buf *bound,
			   const struct flow_msg *m)
{
	if (!m) {
		schema_bind_null(&s->heads_binds, st, i);
		return;
	}
	struct head_buf *sc = &s->head_scratch;
	size_t n = dbrow_headers_packed_len(m);
	if (n >= sc->cap) {
		free(sc->data);
		sc->cap = n + 256;
		sc->data = xmalloc(sc->cap);
	}
	dbrow_headers_pack_to(m, sc->data);
	sc->len = n;
	if (!bound->data || bound->len != n || memcmp(bound->data, sc->data, n) != 0) {
		struct head_buf t = *bound;
		*bound = *sc;
		*sc = t;
	}
	schema_bind_blob(&s->heads_binds, st, i, bound->data, (int)n);
}

/* Runs ST_HEADS_GROUP over the group's flows (see bind_head_blob()). */
static int put_heads_group(struct store *s)
{
	sqlite3_stmt *st = s->st[ST_HEADS_GROUP];
	for (size_t k = 0; k < SCHEMA_GROUP_ROWS; k++) {
		const struct flow *f = s->group[k];
		struct head_buf *b = s->head_bound[k];
		const struct flow_msg *rq = &f->request, *rs = &f->response;
		struct flow_msg t[2] = {{.headers = rq->trailers, .num_headers = rq->num_trailers},
					{.headers = rs->trailers, .num_headers = rs->num_trailers}};
		int i = (int)k * 5 + 1;
		schema_bind_int(&s->heads_binds, st, i, (int64_t)f->id);
		bind_head_blob(s, st, i + 1, &b[0], rq->present ? rq : NULL);
		bind_head_blob(s, st, i + 2, &b[1], rs->present ? rs : NULL);
		bind_head_blob(s, st, i + 3, &b[2], t[0].num_headers ? &t[0] : NULL);
		bind_head_blob(s, st, i + 4, &b[3], t[1].num_headers ? &t[1] : NULL);
	}
	return schema_run_kept(st);
}

void rows_drop_group(struct store *s)
{
	for (size_t k = 0; k < s->num_group; k++)
		free(s->group_url[k]);
	s->num_group = 0;
	bodies_drop_group(s);
}

/* The URL of row k of the group, for the group statement, which may hold it already: the
 * URL bound there last (kept in s->bound_url[k] for as long as it may be compared or read)
 * when the same, else the new one, which replaces it: the one replaced goes to *old, to be
 * freed once the row is bound (the binding compares with it). */
static const char *keep_url(struct store *s, size_t k, char **old)
{
	char *url = s->group_url[k];
	s->group_url[k] = NULL;
	*old = NULL;
	if (s->bound_url[k] && strcmp(s->bound_url[k], url) == 0) {
		free(url);
	} else {
		*old = s->bound_url[k];
		s->bound_url[k] = url;
	}
	return s->bound_url[k];
}

void rows_begin_batch(struct store *s)
{
	schema_binds_forget(&s->flows_binds, s->st[ST_INSERT_GROUP]);
	schema_binds_forget(&s->heads_binds, s->st[ST_HEADS_GROUP]);
	bodies_begin_batch(s);
}

void rows_free_binds(struct store *s)
{
	schema_binds_free(&s->flows_binds);
	schema_binds_free(&s->heads_binds);
	for (size_t k = 0; k < SCHEMA_GROUP_ROWS; k++) {
		free(s->bound_url[k]);
		s->bound_url[k] = NULL;
		for (int j = 0; j < 4; j++)
			free(s->head_bound[k][j].data);
	}
	free(s->head_scratch.data);
	memset(s->head_bound, 0, sizeof s->head_bound);
	memset(&s->head_scratch, 0, sizeof s->head_scratch);
	bodies_free_binds(s);
}

/* Inserts the waiting flows and heads rows (the bodies wait for their own group). */
static int flush_flows(struct store *s, int64_t *delta)
{
	size_t n = s->num_group, k = 0;
	int rc = SQLITE_OK;
	if (n == SCHEMA_GROUP_ROWS) {
		sqlite3_stmt *st = s->st[ST_INSERT_GROUP];
		char *old[SCHEMA_GROUP_ROWS];
		for (int i = 1; k < n; k++) {
			i = bind_flow(s, &s->flows_binds, st, s->group[k], keep_url(s, k, &old[k]),
				      i);
			free(old[k]);
		}
		rc = schema_run_kept(st);
		/* OR FAIL: the rows before one that exists already are in */
		k = rc == SQLITE_CONSTRAINT ? (size_t)sqlite3_changes(s->db) : n;
		if (rc == SQLITE_CONSTRAINT)
			rc = SQLITE_OK;
	}
	for (; rc == SQLITE_OK && k < n; k++) { /* a short group, or past a row that exists */
		const struct flow *f = s->group[k];
		/* past a row that exists, the URL is the one keep_url() kept */
		const char *url = s->group_url[k] ? s->group_url[k] : s->bound_url[k];
		rc = put_flow(s, ST_INSERT, f, url);
		if (rc == SQLITE_CONSTRAINT) {
			rc = put_flow(s, ST_UPDATE, f, url);
			(*delta)--;
		}
	}
	/* their heads rows likewise (OR REPLACE: a flow written over has one) */
	if (rc == SQLITE_OK && n == SCHEMA_GROUP_ROWS)
		rc = put_heads_group(s);
	for (k = 0; rc == SQLITE_OK && n < SCHEMA_GROUP_ROWS && k < n; k++)
		rc = put_heads(s, s->group[k]);
	for (k = 0; k < n; k++)
		free(s->group_url[k]);
	s->num_group = 0;
	return rc;
}

int rows_flush(struct store *s, int64_t *delta)
{
	int rc = flush_flows(s, delta);
	if (rc == SQLITE_OK)
		rc = bodies_flush(s);
	if (rc == SQLITE_OK)
		rc = bodies_write_mark(s);
	if (rc != SQLITE_OK)
		rows_drop_group(s);
	return rc;
}

static size_t str_hash(const char *str)
{
	size_t h = 1469598103934665603ull;
	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 1099511628211ull;
	return h;
}

void rows_forget_hosts(struct store *s)
{
	for (size_t i = 0; i < s->hosts_cap; i++)
		free(s->hosts[i]);
	free(s->hosts);
	s->hosts = NULL;
	s->hosts_cap = s->num_hosts = 0;
}

/* 1 when host is known to be in table hosts already; else remembers it and returns 0. The
 * cache is dropped on a failed batch (its inserts were rolled back) and on a clear. */
static int hosts_known(struct store *s, const char *host)
{
	if (s->num_hosts * 2 >= s->hosts_cap) {
		if (s->hosts_cap >= 65536)
			rows_forget_hosts(
			    s); /* many hosts: start over rather than grow without end */
		size_t cap = s->hosts_cap ? s->hosts_cap * 2 : 1024;
		char **old = s->hosts;
		size_t old_cap = s->hosts_cap;
		s->hosts = xcalloc(cap, sizeof *s->hosts);
		s->hosts_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i]) {
				size_t h = str_hash(old[i]) & (cap - 1);
				while (s->hosts[h])
					h = (h + 1) & (cap - 1);
				s->hosts[h] = old[i];
			}
		free(old);
	}
	size_t h = str_hash(host) & (s->hosts_cap - 1);
	for (; s->hosts[h]; h = (h + 1) & (s->hosts_cap - 1))
		if (strcmp(s->hosts[h], host) == 0)
			return 1;
	s->hosts[h] = xstrdup(host);
	s->num_hosts++;
	return 0;
}

int rows_write_flow(struct store *s, struct flow *f, enum ev_type type, int fresh, int *added,
		    int *changed, int64_t *delta)
{
	*added = *changed = 0;
	int begin = type == EV_BEGIN, final = type == EV_END;
	char *url = NULL;
	int rc = SQLITE_CONSTRAINT;
	if (fresh || begin) {
		/* the only event that makes rows on the hot path: tombs_is_gone() is two compares
		 * here unless flows were deleted before their END */
		if (tombs_is_gone(&s->gone, f->id, final))
			return SQLITE_OK;
		url = dbrow_flow_url(f);
	}
	int grouped = fresh && !s->no_room;
	if (grouped) {
		/* The row and its heads wait for their group (see rows_flush()); counted as
		 * added. Not when retrying a batch that did not fit: bodies.c may mark the row
		 * truncated. */
		s->group[s->num_group] = f;
		s->group_url[s->num_group++] = url;
		url = NULL;
		*added = 1;
		rc = s->num_group == SCHEMA_GROUP_ROWS ? flush_flows(s, delta) : SQLITE_OK;
	} else if (fresh) {
		rc = put_flow(s, ST_INSERT, f, url);
		*added = rc == SQLITE_OK;
	}
	if (rc != SQLITE_CONSTRAINT) {
		/* inserted (or failed) above */
	} else if (begin) {
		rc = put_flow(s, ST_INSERT_IGNORE, f, url);
		*added = rc == SQLITE_OK && sqlite3_changes(s->db) > 0;
	} else {
		if (!url)
			url = dbrow_flow_url(f);
		rc = put_flow(s, ST_UPDATE, f, url);
		if (rc == SQLITE_OK && sqlite3_changes(s->db) == 0) {
			if (tombs_is_gone(&s->gone, f->id, final)) {
				free(url);
				return SQLITE_OK;
			}
			/* An END without a BEGIN (dropped, or never sent). */
			rc = put_flow(s, ST_INSERT, f, url);
			*added = rc == SQLITE_OK;
		}
	}
	free(url);
	if (rc != SQLITE_OK || (begin && !*added))
		return rc;
	*changed = 1;
	if (*added)
		(*delta)++;
	if (!grouped)
		rc = put_heads(s, f);
	if (rc == SQLITE_OK)
		rc = bodies_write(s, f, 0, *added);
	if (rc == SQLITE_OK)
		rc = bodies_write(s, f, 1, *added);
	if (rc == SQLITE_OK && !hosts_known(s, f->host ? f->host : "")) {
		sqlite3_stmt *st = s->st[ST_HOST];
		schema_bind_text(NULL, st, 1, f->host ? f->host : "");
		rc = schema_run(st);
	}
	return rc;
}

int rows_delete_flow(struct store *s, uint64_t id, int *changed, int64_t *delta)
{
	sqlite3_stmt *del = s->st[ST_DEL_FLOW];
	sqlite3_bind_int64(del, 1, (sqlite3_int64)id);
	/* with RETURNING, the row is deleted by the first step; a row back means there was one */
	int rc = sqlite3_step(del);
	*changed = rc == SQLITE_ROW;
	if (*changed) {
		const char *state = (const char *)sqlite3_column_text(del, 0);
		if (!state || (strcmp(state, flow_state_name(FLOW_DONE)) != 0 &&
			       strcmp(state, flow_state_name(FLOW_ERROR)) != 0))
			tombs_add(&s->gone, id,
				  s->path); /* pending or paused: its END is still to come */
		(*delta)--;
	}
	sqlite3_reset(del);
	sqlite3_clear_bindings(del);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	/* then what hangs off the flow's id: heads, bodies (their files go after the commit),
	 * index entries */
	static const enum stmt_id by_id[] = {ST_DEL_HEADS, ST_DEL_BODIES, ST_FTS_DEL_FLOW,
					     ST_UNINDEXED_DEL_FLOW};
	for (size_t k = 0; rc == SQLITE_OK && k < sizeof by_id / sizeof by_id[0]; k++) {
		sqlite3_stmt *st = s->st[by_id[k]];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		rc = by_id[k] == ST_DEL_BODIES ? bodies_run_delete(s, st) : schema_run(st);
	}
	return rc;
}

int rows_clear(struct store *s)
{
	rows_forget_hosts(s);
	/* No WHERE and no triggers: SQLite truncates these tables instead of deleting rows. The
	 * trigram index would delete row by row, so it is made anew. */
	return sqlite3_exec(s->db,
			    "DELETE FROM flows; DELETE FROM heads; DELETE FROM bodies;"
			    "DELETE FROM hosts; DELETE FROM unindexed; DROP TABLE body_fts;"
			    "CREATE VIRTUAL TABLE body_fts USING fts5(text, tokenize='trigram',"
			    " detail='none'); UPDATE counts SET n=0 WHERE k=1",
			    NULL, NULL, NULL);
}

int rows_end_unfinished(struct store *s, int *n)
{
	/* A partial index holds only the unfinished flows (a handful), so that this look-up
	 * costs nothing at each start of a large store; made once, outside the schema's
	 * versions (an older flowscope keeps it up to date without knowing it). */
	int rc = sqlite3_exec(s->db,
			      "CREATE INDEX IF NOT EXISTS flows_unfinished ON flows(id)"
			      " WHERE state IN ('pending','paused');"
			      "UPDATE flows SET state='error', error='" ROWS_STOPPED_ERROR "',"
			      " ended_us=NULL WHERE state IN ('pending','paused')",
			      NULL, NULL, NULL);
	*n = rc == SQLITE_OK ? sqlite3_changes(s->db) : 0;
	return rc;
}

int rows_put_setting(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = s->st[value ? ST_SETTING : ST_SETTING_DEL];
	schema_bind_text(NULL, st, 1, key);
	schema_bind_text(NULL, st, 2, value);
	return schema_run(st);
}
