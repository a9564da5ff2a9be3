/* SPDX-License-Identifier: MIT */
/* schema.c - the store's tables, their forward migrations, and the writer's prepared
 * statements.
 *
 * Layout (schema version in PRAGMA user_version, migrated forward by schema_migrate()):
 *   flows    one row per flow: the summary columns the list and the filters read (mode:
 *            the listener it came through, since version 6; stream_id: an HTTP/2 flow's
 *            stream on the client's connection, since version 8)
 *   heads    id -> request and response header blobs (see dbrow.h), kept out of flows so
 *            that scans over flows stay narrow; and their trailer blobs, same format (NULL:
 *            none), since version 9
 *   bodies   id = flow id * 2 + side (0 request, 1 response) -> stored bytes, real size,
 *            truncated mark, and the decoded bytes when a Content-Encoding applied ("text"),
 *            which the body filters search; listing never touches this table. ext (bits of
 *            enum bodyfile_kind) marks the parts over SCHEMA_FTS_MAX_BYTES that live in files
 *            beside the database instead (bodyfile.h: "<db>-bodies/<id>", "<id>.text"); data
 *            is then empty, text NULL (bodies.c says when files are written and unlinked).
 *   body_fts trigram index (FTS5) over the text of bodies up to 256 KiB (rowid = bodies.id):
 *            body filters look up their literal part here, then check the regex
 *   unindexed bodies the indexer has passed but that are not in body_fts (binary, large,
 *            rewritten): searched by regex, like the bodies above the watermark (counts k=2);
 *            those still to be looked at (checked=0) by partial index, since version 10
 *   hosts    every host seen: ~d runs its regex over these, then looks flows up by index
 *   counts   k=1: the number of flows, kept by the writer, so an unfiltered total is one
 *            read; k=2: the indexer's watermark
 *   settings key -> value (the live rules)
 *   originals  what an edited flow held when it was captured (edits.c), until Revert
 *            (since version 7)
 *   ws_messages  a WebSocket flow's messages (flow_id, idx): direction, opcode, time, real
 *            size, truncated mark, stored content (wsstore.c); ws_close its close handshake
 */
#include "schema.h"

#include "dbrow.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_v1[] =
    "CREATE TABLE flows ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL, state TEXT NOT NULL, flags INTEGER NOT NULL DEFAULT 0,"
    " replay_of INTEGER, scheme TEXT, host TEXT NOT NULL DEFAULT '',"
    " port INTEGER NOT NULL DEFAULT 0, path TEXT, url TEXT NOT NULL DEFAULT '',"
    " method TEXT, target TEXT, req_present INTEGER NOT NULL DEFAULT 0, req_version INTEGER,"
    " resp_present INTEGER NOT NULL DEFAULT 0, resp_version INTEGER, status INTEGER,"
    " reason TEXT, req_ctype TEXT, resp_ctype TEXT,"
    " request_body_size INTEGER NOT NULL DEFAULT 0,"
    " response_body_size INTEGER NOT NULL DEFAULT 0,"
    " request_truncated INTEGER NOT NULL DEFAULT 0,"
    " response_truncated INTEGER NOT NULL DEFAULT 0,"
    " req_head_size INTEGER NOT NULL DEFAULT 0, resp_head_size INTEGER NOT NULL DEFAULT 0,"
    " tls_sni TEXT, tls_version TEXT, tls_cipher TEXT, tls_alpn TEXT,"
    " tls_cert_subject TEXT, tls_cert_issuer TEXT, tls_client_version TEXT,"
    " client_addr TEXT NOT NULL DEFAULT '', server_addr TEXT NOT NULL DEFAULT '',"
    " started_us INTEGER, dns_us INTEGER, connect_us INTEGER, tls_us INTEGER,"
    " request_sent_us INTEGER, first_byte_us INTEGER, ended_us INTEGER,"
    " bytes_up INTEGER NOT NULL DEFAULT 0, bytes_down INTEGER NOT NULL DEFAULT 0,"
    " error TEXT);"
    "CREATE INDEX flows_host ON flows(host);"
    "CREATE INDEX flows_status ON flows(status);"
    "CREATE TABLE heads (id INTEGER PRIMARY KEY, req_headers BLOB, resp_headers BLOB);"
    "CREATE TABLE bodies (id INTEGER PRIMARY KEY, flow_id INTEGER NOT NULL,"
    " side INTEGER NOT NULL, data BLOB NOT NULL, size INTEGER NOT NULL,"
    " truncated INTEGER NOT NULL, text BLOB);"
    "CREATE TABLE hosts (host TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE counts (k INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT INTO counts VALUES (1, 0);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);";

/* Version 2: a trigram index over body text, so that body filters with a literal part look
 * candidates up instead of running a regex over every body. The writer never indexes on its
 * hot path: while it keeps up it indexes bodies in chunks (indexer.c). Bodies with
 * id <= the watermark (counts row k=2) have been looked at: each is in body_fts or listed in
 * unindexed (binary, over 256 KiB, or rewritten after it was indexed); bodies above the
 * watermark are not looked at yet. Filters search body_fts + unindexed + above-watermark, and
 * the regex always has the last word. */
static const char schema_v2[] =
    "CREATE VIRTUAL TABLE body_fts USING fts5(text, tokenize='trigram', detail='none');"
    "CREATE TABLE unindexed (id INTEGER PRIMARY KEY, checked INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO counts VALUES (2, 0);";

/* Version 3: bodies over SCHEMA_FTS_MAX_BYTES kept as files (bodyfile.h); ext says which parts. Old
 * rows get 0: wholly in SQLite, as they were written. */
static const char schema_v3[] = "ALTER TABLE bodies ADD COLUMN ext INTEGER NOT NULL DEFAULT 0;";

/* Version 4: the user's notes on a flow, a colour mark and a comment (store_note()). Outside
 * SCHEMA_FLOW_COLS, so that the proxy's writes of a flow never reset them. */
static const char schema_v4[] = "ALTER TABLE flows ADD COLUMN mark TEXT NOT NULL DEFAULT '';"
				"ALTER TABLE flows ADD COLUMN comment TEXT NOT NULL DEFAULT '';";

/* Version 5: WebSocket messages beside their flow (wsstore.c), in wire order per flow, and how
 * each socket closed. */
static const char schema_v5[] =
    "CREATE TABLE ws_messages (id INTEGER PRIMARY KEY, flow_id INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, from_client INTEGER NOT NULL, opcode INTEGER NOT NULL,"
    " ts_us INTEGER NOT NULL, size INTEGER NOT NULL, truncated INTEGER NOT NULL,"
    " content BLOB NOT NULL);"
    "CREATE UNIQUE INDEX ws_messages_flow ON ws_messages(flow_id, idx);"
    "CREATE TABLE ws_close (flow_id INTEGER PRIMARY KEY, closed INTEGER NOT NULL,"
    " closed_by_client INTEGER, code INTEGER, reason TEXT, error TEXT);";

/* Version 6: the listener a flow came through (struct flow's mode: "regular@127.0.0.1:8080");
 * NULL for older rows and replays. */
static const char schema_v6[] = "ALTER TABLE flows ADD COLUMN mode TEXT;";
/* Version 7: a captured flow the user edited keeps what was captured here, one row per
 * flow, until Revert brings it back or the flow is deleted (edits.c). The parts an edit can
 * change: the request's URL, method, version, headers and body, the response's status, reason,
 * version, headers and body. */
static const char schema_v7[] =
    "CREATE TABLE originals (flow_id INTEGER PRIMARY KEY,"
    " scheme TEXT, host TEXT NOT NULL DEFAULT '', port INTEGER NOT NULL DEFAULT 0, path TEXT,"
    " method TEXT, target TEXT, req_present INTEGER NOT NULL, req_version INTEGER,"
    " req_headers BLOB, req_body BLOB NOT NULL, req_body_size INTEGER NOT NULL,"
    " req_truncated INTEGER NOT NULL,"
    " resp_present INTEGER NOT NULL, resp_version INTEGER, resp_headers BLOB,"
    " resp_body BLOB NOT NULL, resp_body_size INTEGER NOT NULL,"
    " resp_truncated INTEGER NOT NULL, status INTEGER, reason TEXT);";

/* Forward migrations: migrations[v] takes a store from version v to v + 1. A released
 * migration is never edited: stores out there were made by it (test_store builds its old
 * stores with these). */
/* Version 8: an HTTP/2 flow's stream id on the client's connection (0: none). */
static const char schema_v8[] =
    "ALTER TABLE flows ADD COLUMN stream_id INTEGER NOT NULL DEFAULT 0;";

/* Version 9: the trailers after each side's body (HTTP/2 trailing HEADERS, HTTP/1.1 chunked
 * trailers), packed as the headers are; NULL when there were none. */
static const char schema_v9[] = "ALTER TABLE heads ADD COLUMN req_trailers BLOB;"
				"ALTER TABLE heads ADD COLUMN resp_trailers BLOB;";

/* Version 10: the indexer's look for bodies listed unchecked (rewritten after they were indexed)
 * reads this partial index, a handful of rows, instead of scanning every listed body: binary
 * bodies stay listed (checked) for good, so that scan grew with the store and cost each
 * chunk of 500 bodies a pass over all of them. */
static const char schema_v10[] =
    "CREATE INDEX unindexed_unchecked ON unindexed(id) WHERE checked=0;";

static const char *const migrations[] = {schema_v1, schema_v2, schema_v3, schema_v4, schema_v5,
					 schema_v6, schema_v7, schema_v8, schema_v9, schema_v10};

#define STR(x) #x
#define XSTR(x) STR(x)
#define FTS_MAX XSTR(SCHEMA_FTS_MAX_BYTES)
/* The indexer's view of a bodies row (columns prefixed with p): the text it would index, or
 * NULL when that is over SCHEMA_FTS_MAX_BYTES or in a file. length() reads a blob's size from
 * the record header, so rows it skips cost no overflow-page reads. */
#define IDX_TEXT(p)                                                                                \
	"CASE WHEN " p "ext!=0 THEN NULL "                                                         \
	"WHEN length(" p "text) IS NULL THEN "                                                     \
	"(CASE WHEN length(" p "data)<=" FTS_MAX " THEN " p "data END) "                           \
	"WHEN length(" p "text)<=" FTS_MAX " THEN " p "text END"
#define IDX_TEXT_B IDX_TEXT("b.")
#define IDX_TEXT_ROW IDX_TEXT("")

const size_t schema_tls_fields[SCHEMA_NUM_TLS] = {
    offsetof(struct flow, tls.sni),	      offsetof(struct flow, tls.version),
    offsetof(struct flow, tls.cipher),	      offsetof(struct flow, tls.alpn),
    offsetof(struct flow, tls.cert_subject),  offsetof(struct flow, tls.cert_issuer),
    offsetof(struct flow, tls.client_version)};
const size_t schema_time_fields[SCHEMA_NUM_TIMES] = {
    offsetof(struct flow, t.start),	   offsetof(struct flow, t.dns_done),
    offsetof(struct flow, t.connect_done), offsetof(struct flow, t.tls_done),
    offsetof(struct flow, t.request_sent), offsetof(struct flow, t.first_byte),
    offsetof(struct flow, t.end)};

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int schema_pragma_int(sqlite3 *db, const char *sql, int dflt)
{
	sqlite3_stmt *st;
	int v = dflt;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int schema_migrate(sqlite3 *db, int version, char *err, size_t errlen)
{
	int v = 0;
	int rc = user_version(db, &v);
	if (rc != SQLITE_OK)
		return rc;
	if (v == version)
		return SQLITE_OK;
	if (v > version) {
		snprintf(err, errlen, "schema version %d is newer than this flowscope's (%d)", v,
			 version);
		return SQLITE_ERROR;
	}
	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return rc;
	/* Re-read under the write lock: another process may have migrated meanwhile. */
	rc = user_version(db, &v);
	for (; rc == SQLITE_OK && v < version; v++)
		rc = exec(db, migrations[v]);
	if (rc == SQLITE_OK) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", version);
		rc = exec(db, sql);
	}
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "migrating the schema: %s", sqlite3_errmsg(db));
		exec(db, "ROLLBACK");
	}
	return rc;
}

#define BODY_COLS "INTO bodies(id,flow_id,side,data,size,truncated,text,ext) "
#define BODY_INSERT "INSERT OR REPLACE " BODY_COLS
#define BODY_GROUP_COLS 7 /* ext is 0 */
#define HEADS_INSERT                                                                               \
	"INSERT OR REPLACE INTO heads(id,req_headers,resp_headers,req_trailers,resp_trailers) "    \
	"VALUES"

static const char *const stmt_sql[ST_NUM] = {
    /* ST_INSERT, ST_INSERT_GROUP, ST_INSERT_IGNORE, ST_UPDATE: built from SCHEMA_FLOW_COLS
     * (flow_sql()) */
    [ST_HEADS] = HEADS_INSERT "(?,?,?,?,?)",
    /* ST_HEADS_GROUP: the same with SCHEMA_GROUP_ROWS rows (no column has a constraint that
     * could fail half-way, so SQLite needs no statement journal) */
    [ST_BODY] = BODY_INSERT "VALUES(?1*2+?2,?1,?2,?3,?4,?5,?6,?7)",
    /* ST_BODY_GROUP: SCHEMA_GROUP_ROWS rows of (id,flow_id,side,data,size,truncated,text),
     * OR FAIL as ST_INSERT_GROUP (OR REPLACE, with NOT NULL columns that have no default,
     * made SQLite keep a statement journal of every page the group touched),
     * ext 0 (bodies.c's bodies_flush()) */
    [ST_BODY_EXT] = "SELECT ext FROM bodies WHERE id=?",
    /* a body that could be stored neither in a file nor in SQLite: stored empty */
    [ST_MARK_TRUNCATED] = "UPDATE flows SET request_truncated=request_truncated OR ?2=0,"
			  "response_truncated=response_truncated OR ?2=1 WHERE id=?1",
    [ST_FTS_DEL] = "DELETE FROM body_fts WHERE rowid=?1*2+?2",
    [ST_FTS_DEL_FLOW] = "DELETE FROM body_fts WHERE rowid IN (?1*2, ?1*2+1)",
    [ST_UNINDEXED] = "INSERT OR REPLACE INTO unindexed(id,checked) VALUES(?1*2+?2,0)",
    /* ST_UNINDEXED_GROUP: SCHEMA_GROUP_ROWS rows of (?,1), the binary bodies of a group
     * (bodies.c) */
    [ST_UNINDEXED_DEL_FLOW] = "DELETE FROM unindexed WHERE id IN (?1*2, ?1*2+1)",
    [ST_BODY_DEL] = "DELETE FROM bodies WHERE id=?1*2+?2 RETURNING id, ext",
    [ST_HOST] = "INSERT OR IGNORE INTO hosts(host) VALUES(?)",
    /* the state tells whether more events of the flow may come (see rows_delete_flow()) */
    [ST_DEL_FLOW] = "DELETE FROM flows WHERE id=? RETURNING state",
    [ST_DEL_HEADS] = "DELETE FROM heads WHERE id=?",
    /* the files of the rows are unlinked after the commit (bodies_release()) */
    [ST_DEL_BODIES] = "DELETE FROM bodies WHERE id IN (?1*2, ?1*2+1) RETURNING id, ext",
    [ST_SETTING] = "INSERT OR REPLACE INTO settings(key,value) VALUES(?,?)",
    [ST_SETTING_DEL] = "DELETE FROM settings WHERE key=?",
    [ST_COUNT_ADD] = "UPDATE counts SET n=n+? WHERE k=1",
    /* the indexer (indexer.c): bodies listed as unchecked, then bodies above the mark;
     * (id, the body is there, its text or NULL: see index_rows() there) */
    [ST_IDX_SEL_LISTED] = "SELECT u.id, b.id IS NOT NULL, " IDX_TEXT_B " FROM unindexed u "
			  "LEFT JOIN bodies b ON b.id=u.id WHERE u.checked=0 LIMIT ?",
    [ST_IDX_SEL_NEW] = "SELECT id, 1, " IDX_TEXT_ROW " FROM bodies WHERE id > ? "
		       "ORDER BY id LIMIT ?",
    [ST_IDX_INSERT] = "INSERT INTO body_fts(rowid,text) VALUES(?,?)",
    [ST_IDX_MARK] = "INSERT OR REPLACE INTO unindexed(id,checked) VALUES(?,1)",
    /* the writer's listing of a binary body it wrote above the watermark (bodies.c), which
     * has no listing (or one the indexer looks at again): OR IGNORE, since OR REPLACE (a
     * delete and an insert, the table having an index) made SQLite open a statement journal
     * for each run and copy every page the run touched into it (a 16 KiB copy a body) */
    [ST_LIST_CHECKED] = "INSERT OR IGNORE INTO unindexed(id,checked) VALUES(?,1)",
    /* the bodies above the mark up to ?2 that the indexer passed without indexing, in one
     * statement (fs_indexable(): indexer.c's rule, registered on the writer's connection) */
    [ST_IDX_MARK_RANGE] = "INSERT OR REPLACE INTO unindexed(id,checked) SELECT id,1 FROM bodies "
			  "WHERE id > ?1 AND id <= ?2 AND NOT fs_indexable(" IDX_TEXT_ROW ")",
    [ST_IDX_UNLIST] = "DELETE FROM unindexed WHERE id=?",
    [ST_IDX_WATERMARK] = "UPDATE counts SET n=? WHERE k=2",
    [ST_WS_MSG] = "INSERT OR REPLACE INTO ws_messages(flow_id,idx,from_client,opcode,ts_us,size,"
		  "truncated,content) VALUES(?,?,?,?,?,?,?,?)",
    [ST_WS_CLOSE] = "INSERT OR REPLACE INTO ws_close(flow_id,closed,closed_by_client,code,reason,"
		    "error) VALUES(?,?,?,?,?,?)",
    [ST_WS_DEL_MSGS] = "DELETE FROM ws_messages WHERE flow_id=?",
    [ST_WS_DEL_CLOSE] = "DELETE FROM ws_close WHERE flow_id=?",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

/* A memory stream to build a statement's SQL in: appending in place, where rebuilding the string
 * for each of a group statement's ~770 parameters copied it each time (~65M instructions at
 * every store open). */
static FILE *sql_stream(char **sql, size_t *len)
{
	FILE *f = open_memstream(sql, len);
	if (!f) {
		log_error("out of memory building the store's statements");
		exit(1);
	}
	return f;
}

/* Ends the stream f that sql_stream(sql, ...) opened: *sql is then the whole statement, malloc'd
 * (a stream that ran out of memory exits, as sql_stream()). */
static char *sql_close(FILE *f, char **sql)
{
	if (fclose(f) != 0) {
		log_error("out of memory building the store's statements");
		exit(1);
	}
	return *sql;
}

/* rows rows of ncols parameters each, "(?1,?2),(?3,?4)": row r's parameters follow row
 * r - 1's, and each row ends with tail ("" or constant columns, as ",0"). */
static void put_values(FILE *f, int ncols, int rows, const char *tail)
{
	for (int r = 0; r < rows; r++) {
		fputs(r ? ",(" : "(", f);
		for (int c = 1; c <= ncols; c++)
			fprintf(f, "%s?%d", c > 1 ? "," : "", r * ncols + c);
		fprintf(f, "%s)", tail);
	}
}

/* head followed by put_values(). malloc'd. */
static char *values_sql(const char *head, int ncols, int rows, const char *tail)
{
	char *sql;
	size_t len;
	FILE *f = sql_stream(&sql, &len);
	fputs(head, f);
	put_values(f, ncols, rows, tail);
	return sql_close(f, &sql);
}

/* The statements that write a whole flows row, all with the same positions: ?1 the id, then
 * SCHEMA_FLOW_COLS in order. "INSERT[ OR IGNORE] INTO flows(id,kind,...) VALUES(?1,?2,...)",
 * "UPDATE flows SET kind=?2,... WHERE id=?1"; ST_INSERT_GROUP: SCHEMA_GROUP_ROWS rows of
 * VALUES, row r's parameters following row r - 1's, OR FAIL: a row that fails keeps the rows
 * before it (so SQLite needs no statement journal, a temporary file of the pages the
 * statement changed, to take them back). malloc'd. */
static char *flow_sql(enum stmt_id which)
{
	char cols[] = SCHEMA_FLOW_COLS, *sql;
	size_t len;
	FILE *f = sql_stream(&sql, &len);
	if (which != ST_UPDATE) {
		int ncols = 2; /* the id, and one more than the commas */
		for (const char *p = cols; *p; p++)
			ncols += *p == ',';
		const char *how = which == ST_INSERT_IGNORE  ? " OR IGNORE"
				  : which == ST_INSERT_GROUP ? " OR FAIL"
							     : "";
		fprintf(f, "INSERT%s INTO flows(id,%s) VALUES", how, cols);
		put_values(f, ncols, which == ST_INSERT_GROUP ? SCHEMA_GROUP_ROWS : 1, "");
	} else {
		fputs("UPDATE flows SET ", f);
		int i = 2;
		char *save;
		for (char *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save), i++)
			fprintf(f, "%s%s=?%d", i > 2 ? "," : "", c, i);
		fputs(" WHERE id=?1", f);
	}
	return sql_close(f, &sql);
}

/* The SQL of statement i when it is built here rather than written out in stmt_sql: the group
 * statements (SCHEMA_GROUP_ROWS rows each; a bodies row's ext is 0, an unindexed row is checked)
 * and the flows statements. malloc'd. */
static char *generated_sql(int i)
{
	switch (i) {
	case ST_HEADS_GROUP:
		return values_sql(HEADS_INSERT, 5, SCHEMA_GROUP_ROWS, "");
	case ST_BODY_GROUP:
		return values_sql("INSERT OR FAIL " BODY_COLS "VALUES", BODY_GROUP_COLS,
				  SCHEMA_GROUP_ROWS, ",0");
	case ST_UNINDEXED_GROUP:
		return values_sql("INSERT OR IGNORE INTO unindexed(id,checked) VALUES", 1,
				  SCHEMA_GROUP_ROWS, ",1");
	default:
		return flow_sql((enum stmt_id)i);
	}
}

void schema_finalize(sqlite3_stmt *st[ST_NUM])
{
	for (int i = 0; i < ST_NUM; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}

int schema_prepare(sqlite3 *db, sqlite3_stmt *st[ST_NUM])
{
	int rc = SQLITE_OK;
	for (int i = 0; i < ST_NUM && rc == SQLITE_OK; i++) {
		char *gen = stmt_sql[i] ? NULL : generated_sql(i);
		rc = sqlite3_prepare_v3(db, gen ? gen : stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st[i], NULL);
		free(gen);
	}
	if (rc != SQLITE_OK)
		schema_finalize(st);
	return rc;
}

uint64_t schema_max_id(sqlite3 *db)
{
	sqlite3_stmt *st;
	uint64_t v = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM flows", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int schema_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int schema_run_kept(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void schema_binds_forget(struct schema_binds *c, sqlite3_stmt *st)
{
	int n = sqlite3_bind_parameter_count(st);
	if (n > c->n) {
		free(c->b);
		c->b = xcalloc((size_t)n, sizeof *c->b);
		c->n = n;
	}
	memset(c->b, 0, (size_t)c->n * sizeof *c->b);
}

void schema_binds_free(struct schema_binds *c)
{
	free(c->b);
	c->b = NULL;
	c->n = 0;
}

int schema_bind_null(struct schema_binds *c, sqlite3_stmt *st, int i)
{
	if (!c || c->b[i - 1].type == SQLITE_NULL)
		return 0;
	c->b[i - 1].type = SQLITE_NULL;
	sqlite3_bind_null(st, i);
	return 1;
}

int schema_bind_int(struct schema_binds *c, sqlite3_stmt *st, int i, int64_t v)
{
	if (c) {
		struct schema_bound *b = &c->b[i - 1];
		if (b->type == SQLITE_INTEGER && b->v.i == v)
			return 0;
		b->type = SQLITE_INTEGER;
		b->v.i = v;
	}
	sqlite3_bind_int64(st, i, v);
	return 1;
}

int schema_bind_text(struct schema_binds *c, sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return schema_bind_null(c, st, i);
	if (c) {
		struct schema_bound *b = &c->b[i - 1];
		if (b->type == SQLITE_TEXT && (b->v.p == s || strcmp(b->v.p, s) == 0))
			return 0;
		b->type = SQLITE_TEXT;
		b->v.p = s;
	}
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	return 1;
}

int schema_bind_blob(struct schema_binds *c, sqlite3_stmt *st, int i, const void *p, int len)
{
	if (!p)
		return schema_bind_null(c, st, i);
	if (c) {
		struct schema_bound *b = &c->b[i - 1];
		if (b->type == SQLITE_BLOB && b->len == len &&
		    (b->v.p == p || memcmp(b->v.p, p, (size_t)len) == 0))
			return 0;
		b->type = SQLITE_BLOB;
		b->len = len;
		b->v.p = p;
	}
	sqlite3_bind_blob(st, i, p, len, SQLITE_STATIC);
	return 1;
}

void schema_bind_blob_once(struct schema_binds *c, sqlite3_stmt *st, int i, const void *p,
			   int len)
{
	if (!p) {
		schema_bind_null(c, st, i);
		return;
	}
	if (c)
		c->b[i - 1].type = 0; /* not to be read again */
	sqlite3_bind_blob(st, i, p, len, SQLITE_STATIC);
}

void schema_read_trailers(struct flow_msg *m, sqlite3_stmt *st, int i)
{
	const void *blob = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!blob || n <= 0 || m->num_trailers)
		return;
	struct flow_msg t = {0};
	dbrow_headers_unpack(&t, blob, (size_t)n);
	m->trailers = t.headers;
	m->num_trailers = t.num_headers;
	m->cap_trailers = t.cap_headers;
}
