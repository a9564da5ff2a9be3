/* SPDX-License-Identifier: MIT */
/* store.c - the flow store: SQLite in WAL mode, one writer thread, readers on their own
 * connections.
 *
 * Writing. store_sink().emit (any proxy worker) appends an owned event to a bounded FIFO
 * (mutex + condvar) and returns; when the FIFO is over its bound the event is dropped and
 * counted, never waited for. The writer thread takes everything queued (up to BATCH_MAX
 * events) and applies it in one transaction: BEGIN inserts the row (state pending, ignored if
 * the row exists), END/UPDATE write the whole row (insert when there was no BEGIN), DELETE and
 * CLEAR remove. So under load many events share a commit, and a lone event waits at most
 * BATCH_GATHER_US for company before it commits; an event that a later event of the same
 * flow in the batch replaces (a BEGIN followed by its END) is skipped. After COMMIT the
 * listener hears of each changed flow once, in order, with its latest summary. A removed
 * flow stays removed: the writer remembers what is gone (see is_gone()) and drops the events
 * of such flows that were still on their way, instead of storing them again. The writer
 * indexes body text in chunks (index_some()) only while it keeps up (the queue empty or a
 * batch still gathering), so indexing never slows the proxy's path: once INDEX_CHUNK bodies
 * wait, or after the queue stayed empty for INDEX_IDLE_US, so that steady traffic does not
 * pay an indexing transaction per small batch. A failed batch
 * (disk full, read-only, locked, I/O error) is rolled back and its events are counted as
 * dropped; the error is logged once per change of state, and every later batch tries again
 * (reopening the connection after a read-only or I/O error), so storing resumes by itself.
 *
 * Layout (schema version in PRAGMA user_version, migrated forward by migrate()):
 *   flows    one row per flow: the summary columns the list and the filters read
 *   heads    id -> request and response header blobs (see dbint.h), kept out of flows so
 *            that scans over flows stay narrow
 *   bodies   id = flow id * 2 + side (0 request, 1 response) -> stored bytes, real size,
 *            truncated mark, and the decoded bytes when a Content-Encoding applied ("text"),
 *            which the body filters search; listing never touches this table. ext (bits of
 *            enum bodyfile_kind) marks the parts over FTS_MAX_BYTES that live in files beside
 *            the database instead (bodyfile.h: "<db>-bodies/<id>", "<id>.text"); data is then
 *            empty, text NULL. A file is written before its row commits and unlinked only
 *            after the row that referenced it is gone and that commit is done
 *            (release_files()); files that no row claims (a rolled-back batch) are swept when
 *            the store opens. A new version is renamed over the old file before its commit,
 *            so a rolled-back rewrite leaves the newer bytes under the older row (same flow,
 *            same body, rare: accepted). An in-memory database keeps everything in SQLite.
 *   body_fts trigram index (FTS5) over the text of bodies up to 256 KiB (rowid = bodies.id):
 *            body filters look up their literal part here, then check the regex
 *   unindexed bodies the indexer has passed but that are not in body_fts (binary, large,
 *            rewritten): searched by regex, like the bodies above the watermark (counts k=2)
 *   hosts    every host seen: ~d runs its regex over these, then looks flows up by index
 *   counts   k=1: the number of flows, kept by the writer, so an unfiltered total is one
 *            read; k=2: the indexer's watermark
 *   settings key -> value (the live rules)
 */
#include "store.h"

#include "bodyfile.h"
#include "codec.h"
#include "dbint.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 3
#define QUEUE_MAX_EVENTS 200000		    /* events waiting for the writer */
#define QUEUE_MAX_BYTES ((size_t)512 << 20) /* bytes waiting for the writer, at most */
/* Past this many body bytes waiting, new flows are queued without their bodies (marked
 * truncated): under a burst of large downloads the proxy's memory stays bounded and the flows
 * themselves are still recorded. */
#define QUEUE_BODY_BYTES ((size_t)64 << 20)
#define BATCH_MAX 20000			    /* events per transaction at most */
/* A batch of fewer events than BATCH_MIN waits up to BATCH_GATHER_US for more before it is
 * written: under steady traffic the writer would otherwise wake for every few events, and a
 * commit costs about the same (the WAL frames of every page it touched) for 5 events as for
 * 100; a flow's BEGIN and END then also often share a batch and cost one write. */
#define BATCH_MIN 256
#define BATCH_GATHER_US 5000
#define REOPEN_INTERVAL_US 1000000	    /* retry a broken connection at most once a second */
/* Flows deleted before their END, remembered until it comes: past this many (ENDs that never
 * came: dropped on a full queue, ...) the set is emptied rather than grown without end. */
#define TOMBS_MAX 65536 /* ids: at most 1 MiB of table */

enum ev_type { EV_BEGIN, EV_END, EV_UPDATE, EV_DELETE, EV_CLEAR, EV_SETTING };

struct ev {
	struct ev *next;
	enum ev_type type;
	struct flow *flow; /* owned; BEGIN/END/UPDATE */
	uint64_t id;	   /* DELETE */
	char *key, *value; /* owned; SETTING (value NULL deletes) */
	size_t bytes;	   /* body bytes held, for the queue bound */
	int superseded;	   /* writer: a later event of this flow in the batch replaces it */
	int fresh;	   /* writer: this flow's BEGIN was superseded here: the row is new */
};

/* A body row whose files may no longer be referenced once the batch commits. */
struct unref {
	uint64_t id; /* bodies.id */
	int mask;    /* its ext before the batch touched it */
};

enum stmt_id {
	ST_INSERT,
	ST_INSERT_IGNORE,
	ST_UPDATE,
	ST_HEADS,
	ST_BODY,
	ST_BODY_EXT,
	ST_MARK_TRUNCATED,
	ST_BODY_DEL,
	ST_HOST,
	ST_FTS_DEL,
	ST_FTS_DEL_FLOW,
	ST_UNINDEXED,
	ST_UNINDEXED_DEL_FLOW,
	ST_DEL_FLOW,
	ST_DEL_HEADS,
	ST_DEL_BODIES,
	ST_SETTING,
	ST_SETTING_DEL,
	ST_COUNT_ADD,
	ST_IDX_SEL_LISTED,
	ST_IDX_SEL_NEW,
	ST_IDX_INSERT,
	ST_IDX_MARK,
	ST_IDX_UNLIST,
	ST_IDX_WATERMARK,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_NUM
};

struct store {
	char *path; /* owned */
	size_t body_limit;
	size_t queue_max; /* events */
	pthread_t thread;
	pthread_mutex_t mu;	/* guards the queue, the listener and the flags below */
	pthread_cond_t cond;	/* signalled when events arrive or on stop */
	struct ev *head, *tail; /* the FIFO; owned */
	size_t num_queued, bytes_queued;
	size_t inflight; /* events taken by the writer, not yet committed or dropped */
	int stopping;
	int gathering; /* the writer waits for BATCH_MIN events: do not wake it for fewer */
	int queue_full; /* 1 while dropping for a full queue (logged once) */
	int shedding_bodies; /* 1 while queueing flows without bodies (logged once) */
	store_listener_fn fn;
	void *fn_arg;
	/* Writer thread only: */
	sqlite3 *db;		  /* owned; NULL while broken */
	sqlite3_stmt *st[ST_NUM]; /* owned */
	int ready;		  /* schema migrated and statements prepared */
	int failing;		  /* last batch failed (logged once per state change) */
	int64_t last_reopen_us;
	uint64_t fts_mark; /* the indexer's watermark (a bodies.id); see schema_v2 */
	int index_pending; /* bodies may wait for the indexer */
	size_t index_backlog; /* bodies written since the indexer last caught up (about) */
	char **hosts;	   /* hosts known to be in table hosts (open addressing); owned */
	size_t hosts_cap, num_hosts;
	/* What is gone, so that late events do not store it again (is_gone()): */
	uint64_t gone_upto; /* a clear: every id up to this one without a row is gone */
	uint64_t *tombs;    /* ids deleted before their END (open addressing, 0 free); owned */
	size_t tombs_cap, num_tombs;
	/* Body files (writer thread only): */
	char *bodies_dir;    /* owned; NULL: every body stays in SQLite (in-memory database) */
	struct unref *unref; /* owned; files whose rows this batch rewrote or removed */
	size_t num_unref, unref_cap;
	int sweep_at_commit; /* the batch cleared the store: sweep the directory after it */
	int files_failing;   /* last body file write failed (logged once per state change) */
	int file_failed;     /* a body file write failed in this batch (its body went to SQLite) */
	int no_room;	     /* retrying a batch: bodies whose file fails are stored empty */
	/* Tests: FLOWSCOPE_DB_MAX_FILE_BYTES caps the bytes written to body files (a full disk
	 * for files where no small filesystem can be mounted); 0: no cap. */
	uint64_t file_budget, file_bytes;
	/* Any thread: */
	_Atomic uint64_t max_id, stored, dropped, commits;
	_Atomic uint64_t bodies_shed; /* flows queued without their bodies (writer behind) */
	const char *_Atomic last_error; /* static text */
};

/* ---- schema ---- */

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
 * hot path: while it keeps up it indexes bodies in chunks (index_some()). Bodies with
 * id <= the watermark (counts row k=2) have been looked at: each is in body_fts or listed in
 * unindexed (binary, over 256 KiB, or rewritten after it was indexed); bodies above the
 * watermark are not looked at yet. Filters search body_fts + unindexed + above-watermark, and
 * the regex always has the last word. */
static const char schema_v2[] =
    "CREATE VIRTUAL TABLE body_fts USING fts5(text, tokenize='trigram', detail='none');"
    "CREATE TABLE unindexed (id INTEGER PRIMARY KEY, checked INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO counts VALUES (2, 0);";

/* Version 3: bodies over FTS_MAX_BYTES kept as files (bodyfile.h); ext says which parts. Old
 * rows get 0: wholly in SQLite, as they were written. */
static const char schema_v3[] = "ALTER TABLE bodies ADD COLUMN ext INTEGER NOT NULL DEFAULT 0;";

/* Forward migrations: migrations[v] takes a store from version v to v + 1. */
static const char *const migrations[] = {schema_v1, schema_v2, schema_v3};

/* Bodies with more text are searched by regex, not indexed; a body (or its text) with more
 * bytes is kept in a file (bodyfile.h). Also used as SQL text (XSTR). */
#define FTS_MAX_BYTES (256 * 1024)
#define STR(x) #x
#define XSTR(x) STR(x)
/* The indexer's view of a bodies row (columns prefixed with p): the text it would index, or
 * NULL when that is over FTS_MAX_BYTES or in a file. length() reads a blob's size from the
 * record header, so rows it skips cost no overflow-page reads. */
#define IDX_TEXT(p)                                                                                \
	"CASE WHEN " p "ext!=0 THEN NULL WHEN length(" p "text) IS NULL THEN (CASE WHEN "          \
	"length(" p "data)<=" XSTR(FTS_MAX_BYTES) " THEN " p "data END) WHEN length(" p "text)<="  \
	XSTR(FTS_MAX_BYTES) " THEN " p "text END"
#define INDEX_CHUNK 500		   /* bodies indexed per transaction when idle */
/* The indexer waits for this long an empty queue, or for INDEX_CHUNK bodies, before it runs:
 * under steady load the queue empties after every small batch, and a chunk of a few bodies
 * costs almost as much as a full one (a transaction, a commit, an FTS5 segment). */
#define INDEX_IDLE_US 30000

/* The flows columns after id, in bind order (bind_flow and read_flow follow it). */
#define FLOW_COLS                                                                                  \
	"kind,state,flags,replay_of,scheme,host,port,path,url,method,target,req_present,"          \
	"req_version,resp_present,resp_version,status,reason,req_ctype,resp_ctype,"                \
	"request_body_size,response_body_size,request_truncated,response_truncated,"               \
	"req_head_size,resp_head_size,tls_sni,tls_version,tls_cipher,tls_alpn,"                    \
	"tls_cert_subject,tls_cert_issuer,tls_client_version,client_addr,server_addr,"             \
	"started_us,dns_us,connect_us,tls_us,request_sent_us,first_byte_us,ended_us,"              \
	"bytes_up,bytes_down,error"
#define NUM_FLOW_COLS 44

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
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

/* Brings the schema to SCHEMA_VERSION in one transaction. Returns an SQLite code; a store from
 * a newer flowscope gives SQLITE_ERROR with err filled. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int v = 0;
	int rc = user_version(db, &v);
	if (rc != SQLITE_OK)
		return rc;
	if (v == SCHEMA_VERSION)
		return SQLITE_OK;
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %d is newer than this flowscope's (%d)", v,
			 SCHEMA_VERSION);
		return SQLITE_ERROR;
	}
	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return rc;
	/* Re-read under the write lock: another process may have migrated meanwhile. */
	rc = user_version(db, &v);
	for (; rc == SQLITE_OK && v < SCHEMA_VERSION; v++)
		rc = exec(db, migrations[v]);
	if (rc == SQLITE_OK) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
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

static const char *const stmt_sql[ST_NUM] = {
    [ST_INSERT] = "INSERT INTO flows(id," FLOW_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
		  "?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,"
		  "?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?41,?42,?43,?44,?45)",
    [ST_INSERT_IGNORE] = "INSERT OR IGNORE INTO flows(id," FLOW_COLS ") VALUES(?1,?2,?3,?4,"
			 "?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
			 "?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,"
			 "?40,?41,?42,?43,?44,?45)",
    [ST_UPDATE] = NULL, /* built from FLOW_COLS in prepare_all() */
    [ST_HEADS] = "INSERT OR REPLACE INTO heads(id,req_headers,resp_headers) VALUES(?,?,?)",
    [ST_BODY] = "INSERT OR REPLACE INTO bodies(id,flow_id,side,data,size,truncated,text,ext) "
		"VALUES(?1*2+?2,?1,?2,?3,?4,?5,?6,?7)",
    [ST_BODY_EXT] = "SELECT ext FROM bodies WHERE id=?",
    /* a body that could be stored neither in a file nor in SQLite: stored empty */
    [ST_MARK_TRUNCATED] = "UPDATE flows SET request_truncated=request_truncated OR ?2=0,"
			  "response_truncated=response_truncated OR ?2=1 WHERE id=?1",
    [ST_FTS_DEL] = "DELETE FROM body_fts WHERE rowid=?1*2+?2",
    [ST_FTS_DEL_FLOW] = "DELETE FROM body_fts WHERE rowid IN (?1*2, ?1*2+1)",
    [ST_UNINDEXED] = "INSERT OR REPLACE INTO unindexed(id,checked) VALUES(?1*2+?2,0)",
    [ST_UNINDEXED_DEL_FLOW] = "DELETE FROM unindexed WHERE id IN (?1*2, ?1*2+1)",
    [ST_BODY_DEL] = "DELETE FROM bodies WHERE id=?1*2+?2 RETURNING id, ext",
    [ST_HOST] = "INSERT OR IGNORE INTO hosts(host) VALUES(?)",
    /* the state tells whether more events of the flow may come (see delete_flow) */
    [ST_DEL_FLOW] = "DELETE FROM flows WHERE id=? RETURNING state",
    [ST_DEL_HEADS] = "DELETE FROM heads WHERE id=?",
    /* the files of the rows are unlinked after the commit (release_files()) */
    [ST_DEL_BODIES] = "DELETE FROM bodies WHERE id IN (?1*2, ?1*2+1) RETURNING id, ext",
    [ST_SETTING] = "INSERT OR REPLACE INTO settings(key,value) VALUES(?,?)",
    [ST_SETTING_DEL] = "DELETE FROM settings WHERE key=?",
    [ST_COUNT_ADD] = "UPDATE counts SET n=n+? WHERE k=1",
    /* the indexer (index_some()): bodies listed as unchecked, then bodies above the mark;
     * (id, the body is there, its text or NULL: see index_rows()) */
    [ST_IDX_SEL_LISTED] = "SELECT u.id, b.id IS NOT NULL, " IDX_TEXT("b.") " FROM unindexed u "
			  "LEFT JOIN bodies b ON b.id=u.id WHERE u.checked=0 LIMIT ?",
    [ST_IDX_SEL_NEW] = "SELECT id, 1, " IDX_TEXT("") " FROM bodies WHERE id > ? "
		       "ORDER BY id LIMIT ?",
    [ST_IDX_INSERT] = "INSERT INTO body_fts(rowid,text) VALUES(?,?)",
    [ST_IDX_MARK] = "INSERT OR REPLACE INTO unindexed(id,checked) VALUES(?,1)",
    [ST_IDX_UNLIST] = "DELETE FROM unindexed WHERE id=?",
    [ST_IDX_WATERMARK] = "UPDATE counts SET n=? WHERE k=2",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

static char *update_sql(void)
{
	/* "UPDATE flows SET kind=?2,state=?3,... WHERE id=?1": same positions as the insert. */
	char cols[] = FLOW_COLS;
	char *sql = xstrdup("UPDATE flows SET ");
	int i = 2;
	for (char *save, *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *n = xasprintf("%s%s%s=?%d", sql, i > 2 ? "," : "", c, i);
		free(sql);
		sql = n;
		i++;
	}
	char *n = xasprintf("%s WHERE id=?1", sql);
	free(sql);
	return n;
}

static void finalize_all(struct store *s)
{
	for (int i = 0; i < ST_NUM; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
}

static int prepare_all(struct store *s)
{
	char *upd = update_sql();
	int rc = SQLITE_OK;
	for (int i = 0; i < ST_NUM && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v3(s->db, i == ST_UPDATE ? upd : stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
	free(upd);
	if (rc != SQLITE_OK)
		finalize_all(s);
	return rc;
}

static void close_db(struct store *s)
{
	finalize_all(s);
	sqlite3_close(s->db);
	s->db = NULL;
	s->ready = 0;
}

static void sweep_files(struct store *s); /* body files: see below */

/* Opens (or reopens) the writer connection and makes it ready. Returns an SQLite code; on a
 * fatal problem (not a database, newer schema) fatal is set. */
static int open_db(struct store *s, char *err, size_t errlen, int *fatal)
{
	*fatal = 0;
	if (!s->db) {
		int rc = sqlite3_open_v2(
		    s->path, &s->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s",
				 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
			sqlite3_close(s->db);
			s->db = NULL;
			return rc;
		}
		sqlite3_extended_result_codes(s->db, 0);
		sqlite3_busy_timeout(s->db, 2000);
	}
	/* WAL: readers never block the writer; NORMAL: a commit does not fsync (a power loss
	 * may lose the last commits, a crash of the process loses nothing committed). */
	exec(s->db, "PRAGMA journal_mode=WAL");
	exec(s->db, "PRAGMA synchronous=NORMAL");
	exec(s->db, "PRAGMA cache_size=-32000");
	const char *maxp = getenv("FLOWSCOPE_DB_MAX_PAGES"); /* tests: simulate a full disk */
	if (maxp && *maxp) {
		char sql[80];
		snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", atoll(maxp));
		exec(s->db, sql);
	}
	int rc = migrate(s->db, err, errlen);
	if (rc == SQLITE_ERROR || rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		*fatal = 1;
		if (!err[0])
			snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	if (rc != SQLITE_OK) {
		if (!err[0])
			snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	rc = prepare_all(s);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT n FROM counts WHERE k=2", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			s->fts_mark = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	s->ready = 1;
	s->index_pending = 1;
	free(s->bodies_dir);
	s->bodies_dir = bodyfile_dir(sqlite3_db_filename(s->db, "main"));
	sweep_files(s);
	return SQLITE_OK;
}

/* The largest flow id in db, 0 when empty or unreadable. */
static uint64_t read_max_id(sqlite3 *db)
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

/* After the store could be (re)opened: never hand out ids that are already stored, or a new
 * flow would overwrite an old one (the program seeded ids from store_max_id() at start, which
 * may have been 0 if the file was unreadable then). */
static void reseed_ids(struct store *s)
{
	uint64_t m = read_max_id(s->db);
	uint64_t cur = atomic_load(&s->max_id);
	while (m > cur && !atomic_compare_exchange_weak(&s->max_id, &cur, m))
		;
	if (flow_next_id() <= m)
		flow_seed_ids(m + 1);
}

/* ---- writing ---- */

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s) /* static: every statement is reset before the flow goes */
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static size_t stored_len(const struct store *s, const struct flow_msg *m)
{
	return m->body.len < s->body_limit ? m->body.len : s->body_limit;
}

/* Binds ?1..?45 of the insert/update statements. url is the derived URL. */
static void bind_flow(struct store *s, sqlite3_stmt *st, const struct flow *f, const char *url)
{
	const struct flow_msg *rq = &f->request, *rs = &f->response;
	int i = 1;
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->id);
	sqlite3_bind_text(st, i++, flow_kind_name(f->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, flow_state_name(f->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, f->flags);
	bind_i64(st, i++, (int64_t)f->replay_of);
	bind_text(st, i++, f->scheme);
	bind_text(st, i++, f->host ? f->host : "");
	sqlite3_bind_int(st, i++, f->port);
	bind_text(st, i++, f->path);
	bind_text(st, i++, url);
	bind_text(st, i++, rq->method);
	bind_text(st, i++, rq->target);
	sqlite3_bind_int(st, i++, rq->present != 0);
	if (rq->present)
		sqlite3_bind_int(st, i++, rq->version);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_int(st, i++, rs->present != 0);
	if (rs->present && f->kind == FLOW_HTTP) { /* ~c relies on NULL status elsewhere */
		sqlite3_bind_int(st, i++, rs->version);
		sqlite3_bind_int(st, i++, rs->status);
	} else {
		sqlite3_bind_null(st, i++);
		sqlite3_bind_null(st, i++);
	}
	bind_text(st, i++, rs->reason);
	bind_text(st, i++, db_msg_ctype(rq));
	bind_text(st, i++, db_msg_ctype(rs));
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rq->body_size);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rs->body_size);
	sqlite3_bind_int(st, i++, rq->body_truncated || rq->body.len > stored_len(s, rq));
	sqlite3_bind_int(st, i++, rs->body_truncated || rs->body.len > stored_len(s, rs));
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rq->head_size);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rs->head_size);
	bind_text(st, i++, f->tls.sni);
	bind_text(st, i++, f->tls.version);
	bind_text(st, i++, f->tls.cipher);
	bind_text(st, i++, f->tls.alpn);
	bind_text(st, i++, f->tls.cert_subject);
	bind_text(st, i++, f->tls.cert_issuer);
	bind_text(st, i++, f->tls.client_version);
	bind_text(st, i++, f->client_addr);
	bind_text(st, i++, f->server_addr);
	bind_i64(st, i++, f->t.start);
	bind_i64(st, i++, f->t.dns_done);
	bind_i64(st, i++, f->t.connect_done);
	bind_i64(st, i++, f->t.tls_done);
	bind_i64(st, i++, f->t.request_sent);
	bind_i64(st, i++, f->t.first_byte);
	bind_i64(st, i++, f->t.end);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->bytes_up);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)f->bytes_down);
	bind_text(st, i++, f->error);
}

/* Steps a one-shot statement and resets it. Returns SQLITE_OK or the error code. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Text worth a trigram index: not too long, and no NUL near the start (binary). */
static int indexable(const char *t, size_t len)
{
	return t && len >= 3 && len <= FTS_MAX_BYTES && !memchr(t, '\0', len < 1024 ? len : 1024);
}

/* ---- body files (bodyfile.h) ---- */

/* Remembers that the files of body id (the ext bits in mask) may be unreferenced once this
 * batch commits; release_files() decides. */
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

/* The ext of body id as stored now: 0 when there is no row; every bit when it cannot be read,
 * so that a file is kept rather than lost. */
static int body_ext(struct store *s, uint64_t id)
{
	sqlite3_stmt *st = s->st[ST_BODY_EXT];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	int rc = sqlite3_step(st);
	int ext = rc == SQLITE_ROW    ? sqlite3_column_int(st, 0)
		  : rc == SQLITE_DONE ? 0
				      : BODYFILE_DATA | BODYFILE_TEXT;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ext;
}

static int on_keep(void *arg, uint64_t id)
{
	return body_ext(arg, id);
}

/* Unlinks the body files no row refers to (left by a rolled-back batch or a crash, or all of
 * them after a clear). One read transaction, so the rows are one snapshot. */
static void sweep_files(struct store *s)
{
	if (!s->bodies_dir)
		return;
	exec(s->db, "BEGIN");
	int n = bodyfile_sweep(s->bodies_dir, on_keep, s);
	int e = errno;
	exec(s->db, "COMMIT");
	if (n < 0)
		log_warn("flow store %s: cannot read %s: %s", s->path, s->bodies_dir, strerror(e));
	else if (n > 0)
		log_debug("flow store %s: removed %d body files no flow refers to", s->path, n);
}

/* After a commit: unlinks the files that the batch's rewrites and deletes left unreferenced (a
 * later event of the batch may have written a file of the same id again: the row says), and
 * after a clear every file no row claims. Never before the commit: a batch that rolls back
 * still needs them. */
static void release_files(struct store *s)
{
	for (size_t i = 0; s->bodies_dir && i < s->num_unref; i++) {
		const struct unref *u = &s->unref[i];
		int stale = u->mask & ~body_ext(s, u->id);
		if (stale)
			bodyfile_remove(s->bodies_dir, u->id, stale);
	}
	s->num_unref = 0;
	if (s->sweep_at_commit)
		sweep_files(s);
	s->sweep_at_commit = 0;
}

/* Steps a "DELETE ... RETURNING id, ext" to its end and remembers the removed rows' files. */
static int run_unref(struct store *s, sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		unref_add(s, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Writes one part of body id to its file. Returns kind when written, 0 when that failed
 * (logged once per change of state; write_body() then keeps the part in SQLite). */
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

static int put_row(struct store *s, const struct flow *f, int side, const struct body_row *b)
{
	const struct flow_msg *m = side ? &f->response : &f->request;
	sqlite3_stmt *st = s->st[ST_BODY];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	sqlite3_bind_int(st, 2, side);
	sqlite3_bind_blob(st, 3, b->len ? b->data : "", (int)b->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->body_size);
	sqlite3_bind_int(st, 5, b->truncated);
	if (b->text)
		sqlite3_bind_blob(st, 6, b->tlen ? b->text : "", (int)b->tlen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, b->ext);
	return run(st);
}

/* The last resort for a body whose file could not be written and that does not fit in the
 * database either: the flow is kept, with this body empty and marked truncated (in its flows
 * row too, which write_flow() wrote already, and in f, whose summary the listener hears). */
static int put_empty_row(struct store *s, struct flow *f, int side)
{
	struct body_row empty = {.truncated = 1};
	int rc = put_row(s, f, side, &empty);
	if (rc != SQLITE_OK)
		return rc;
	(side ? &f->response : &f->request)->body_truncated = 1;
	sqlite3_stmt *st = s->st[ST_MARK_TRUNCATED];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	sqlite3_bind_int(st, 2, side);
	return run(st);
}

static int write_body(struct store *s, struct flow *f, int side, int fresh)
{
	const struct flow_msg *m = side ? &f->response : &f->request;
	size_t len = stored_len(s, m);
	uint64_t bid = (uint64_t)f->id * 2 + (uint64_t)side;
	int rc;
	if (bid <= s->fts_mark) {
		/* Below the watermark: the indexer has seen an older version of this body. Take
		 * it out of the index and list it for regex search (and for indexing again). */
		sqlite3_stmt *st = s->st[ST_FTS_DEL];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
		sqlite3_bind_int(st, 2, side);
		if ((rc = run(st)) != SQLITE_OK)
			return rc;
		st = s->st[ST_UNINDEXED];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
		sqlite3_bind_int(st, 2, side);
		if ((rc = run(st)) != SQLITE_OK)
			return rc;
		s->index_backlog++;
	}
	if (len == 0) {
		if (fresh)
			return SQLITE_OK;
		sqlite3_stmt *st = s->st[ST_BODY_DEL];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
		sqlite3_bind_int(st, 2, side);
		return run_unref(s, st);
	}
	/* A rewrite: the old version's files go once the batch commits, unless this one
	 * replaces them (release_files() looks at the row then). */
	if (!fresh && s->bodies_dir)
		unref_add(s, bid, body_ext(s, bid));
	/* The decoded bytes, for the body filters (see db_body_text), when they differ. */
	struct flow_msg view = *m;
	view.body.len = len;
	view.body_truncated = m->body_truncated || len < m->body.len;
	char *tf;
	size_t tlen;
	db_body_text(&view, &tf, &tlen);
	struct body_row b = {m->body.data, len, tf, tlen, view.body_truncated, 0};
	/* Parts over FTS_MAX_BYTES go to files: the indexer skips them anyway, and SQLite would
	 * write them twice (WAL, checkpoint). A part whose file fails stays in SQLite. */
	int want = 0;
	if (s->bodies_dir && len > FTS_MAX_BYTES) {
		want |= BODYFILE_DATA;
		b.ext |= put_file(s, bid, BODYFILE_DATA, m->body.data, len);
	}
	if (s->bodies_dir && tf && tlen > FTS_MAX_BYTES) {
		want |= BODYFILE_TEXT;
		b.ext |= put_file(s, bid, BODYFILE_TEXT, tf, tlen);
	}
	if (b.ext & BODYFILE_DATA)
		b.len = 0;
	if (b.ext & BODYFILE_TEXT)
		b.text = NULL;
	if (b.ext != want && s->no_room) {
		/* The second try of a batch that did not fit (see process()): this body could
		 * get neither a file nor room in the database. */
		unref_add(s, bid, b.ext); /* a part that did get its file is not referenced */
		rc = put_empty_row(s, f, side);
	} else {
		rc = put_row(s, f, side, &b);
	}
	free(tf);
	s->index_backlog++;
	return rc;
}

static void bind_headers(sqlite3_stmt *st, int i, const struct flow_msg *m, char **blob)
{
	*blob = NULL;
	if (!m->present) {
		sqlite3_bind_null(st, i);
		return;
	}
	size_t len;
	*blob = db_headers_pack(m, &len);
	sqlite3_bind_blob(st, i, *blob, (int)len, SQLITE_STATIC); /* zero-length, not NULL */
}

static size_t str_hash(const char *str)
{
	size_t h = 1469598103934665603ull;
	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 1099511628211ull;
	return h;
}

static void hosts_reset(struct store *s)
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
			hosts_reset(s); /* many hosts: start over rather than grow without end */
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

/* ---- what is gone ----
 *
 * An event can reach the writer after its flow was removed: the END of a flow deleted while
 * pending, an event of any flow that was in flight at a clear. Each END/UPDATE writes the
 * whole row (inserting it when there is none), so such an event would bring the flow back.
 * The writer remembers what is gone and drops those events:
 *   a clear      gone_upto = the largest id stored then: an id up to it without a row is gone
 *                (ids only grow, so later flows are never caught by it)
 *   a delete     of a flow not final yet (pending, paused): its id goes into a small set until
 *                its END comes (nothing follows an END); a final flow has no events to come
 * Only the paths that would make a row ask (a BEGIN, or an END/UPDATE that found no row), so
 * the common path pays two compares. Nothing of this is kept across a restart: events do not
 * survive one either. */

static size_t tomb_slot(const struct store *s, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ull) & (s->tombs_cap - 1);
}

static void tombs_reset(struct store *s)
{
	free(s->tombs);
	s->tombs = NULL;
	s->tombs_cap = s->num_tombs = 0;
}

static void tomb_add(struct store *s, uint64_t id)
{
	if (s->num_tombs >= TOMBS_MAX) {
		log_warn(
		    "flow store %s: %zu flows deleted before their end: forgetting them (a late "
		    "end may show one again)",
		    s->path, s->num_tombs);
		tombs_reset(s);
	}
	if (2 * (s->num_tombs + 1) > s->tombs_cap) {
		uint64_t *old = s->tombs;
		size_t old_cap = s->tombs_cap;
		s->tombs_cap = old_cap ? 2 * old_cap : 16;
		s->tombs = xcalloc(s->tombs_cap, sizeof *s->tombs);
		for (size_t i = 0; i < old_cap; i++)
			if (old[i]) {
				size_t h = tomb_slot(s, old[i]);
				while (s->tombs[h])
					h = (h + 1) & (s->tombs_cap - 1);
				s->tombs[h] = old[i];
			}
		free(old);
	}
	size_t h = tomb_slot(s, id);
	for (; s->tombs[h]; h = (h + 1) & (s->tombs_cap - 1))
		if (s->tombs[h] == id)
			return;
	s->tombs[h] = id;
	s->num_tombs++;
}

/* 1 when id is in the set; take != 0 also removes it (backward-shift deletion keeps every
 * other id reachable from its home slot without markers). */
static int tomb_find(struct store *s, uint64_t id, int take)
{
	size_t mask = s->tombs_cap - 1, h = tomb_slot(s, id);
	for (; s->tombs[h] != id; h = (h + 1) & mask)
		if (!s->tombs[h])
			return 0;
	if (!take)
		return 1;
	size_t hole = h;
	for (size_t j = (h + 1) & mask; s->tombs[j]; j = (j + 1) & mask) {
		size_t home = tomb_slot(s, s->tombs[j]);
		/* move j into the hole unless its home lies cyclically in (hole, j] */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			s->tombs[hole] = s->tombs[j];
			hole = j;
		}
	}
	s->tombs[hole] = 0;
	s->num_tombs--;
	return 1;
}

/* 1 when an event of flow id must not make a row: the flow was removed. final: the event is
 * the flow's END, after which none comes, so a remembered delete is forgotten. */
static int is_gone(struct store *s, uint64_t id, int final)
{
	int gone = id <= s->gone_upto;
	if (s->num_tombs && tomb_find(s, id, final))
		gone = 1;
	return gone;
}

/* Writes a flow (type: EV_BEGIN, EV_END or EV_UPDATE). Sets *added when a new row was made,
 * *changed when anything was written. A flow that is gone (is_gone()) gets no new row: its
 * event is dropped. */
static int write_flow(struct store *s, struct flow *f, enum ev_type type, int fresh,
		      int *added, int *changed, int64_t *delta)
{
	*added = *changed = 0;
	int begin = type == EV_BEGIN, final = type == EV_END;
	char *url = NULL;
	int rc = SQLITE_CONSTRAINT;
	if (fresh || begin) {
		/* the only event that makes rows on the hot path: is_gone() is two compares here
		 * unless flows were deleted before their END */
		if (is_gone(s, f->id, final))
			return SQLITE_OK;
		url = db_flow_url(f);
	}
	if (fresh) {
		sqlite3_stmt *st = s->st[ST_INSERT];
		bind_flow(s, st, f, url);
		rc = run(st);
		*added = rc == SQLITE_OK;
	}
	if (rc != SQLITE_CONSTRAINT) {
		/* inserted (or failed) above */
	} else if (begin) {
		sqlite3_stmt *st = s->st[ST_INSERT_IGNORE];
		bind_flow(s, st, f, url);
		rc = run(st);
		*added = rc == SQLITE_OK && sqlite3_changes(s->db) > 0;
	} else {
		if (!url)
			url = db_flow_url(f);
		sqlite3_stmt *st = s->st[ST_UPDATE];
		bind_flow(s, st, f, url);
		rc = run(st);
		if (rc == SQLITE_OK && sqlite3_changes(s->db) == 0) {
			if (is_gone(s, f->id, final)) {
				free(url);
				return SQLITE_OK;
			}
			/* An END without a BEGIN (dropped, or never sent). */
			st = s->st[ST_INSERT];
			bind_flow(s, st, f, url);
			rc = run(st);
			*added = rc == SQLITE_OK;
		}
	}
	free(url);
	if (rc != SQLITE_OK || (begin && !*added))
		return rc;
	*changed = 1;
	if (*added)
		(*delta)++;
	char *b1, *b2;
	sqlite3_stmt *st = s->st[ST_HEADS];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	bind_headers(st, 2, &f->request, &b1);
	bind_headers(st, 3, &f->response, &b2);
	rc = run(st);
	free(b1);
	free(b2);
	if (rc == SQLITE_OK)
		rc = write_body(s, f, 0, *added);
	if (rc == SQLITE_OK)
		rc = write_body(s, f, 1, *added);
	if (rc == SQLITE_OK && !hosts_known(s, f->host ? f->host : "")) {
		st = s->st[ST_HOST];
		bind_text(st, 1, f->host ? f->host : "");
		rc = run(st);
	}
	return rc;
}

static int delete_flow(struct store *s, uint64_t id, int *changed, int64_t *delta)
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
			tomb_add(s, id); /* pending or paused: its END is still to come */
		(*delta)--;
	}
	sqlite3_reset(del);
	sqlite3_clear_bindings(del);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->st[ST_DEL_HEADS], 1, (sqlite3_int64)id);
		rc = run(s->st[ST_DEL_HEADS]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->st[ST_DEL_BODIES], 1, (sqlite3_int64)id);
		rc = run_unref(s, s->st[ST_DEL_BODIES]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->st[ST_FTS_DEL_FLOW], 1, (sqlite3_int64)id);
		rc = run(s->st[ST_FTS_DEL_FLOW]);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->st[ST_UNINDEXED_DEL_FLOW], 1, (sqlite3_int64)id);
		rc = run(s->st[ST_UNINDEXED_DEL_FLOW]);
	}
	return rc;
}

static int clear_all(struct store *s)
{
	/* No WHERE and no triggers: SQLite truncates these tables instead of deleting rows. The
	 * trigram index would delete row by row, so it is made anew. */
	return exec(s->db, "DELETE FROM flows; DELETE FROM heads; DELETE FROM bodies;"
			   "DELETE FROM hosts; DELETE FROM unindexed; DROP TABLE body_fts;"
			   "CREATE VIRTUAL TABLE body_fts USING fts5(text, tokenize='trigram',"
			   " detail='none'); UPDATE counts SET n=0 WHERE k=1");
}

/* One listener notice of a batch. */
struct change {
	enum store_change ch;
	const struct flow *f; /* borrowed from the batch's events */
	uint64_t id;
};

struct batch {
	struct change *changes;
	size_t num, cap;
	size_t *slots; /* open-addressing map id -> changes index + 1, for coalescing */
	size_t nslots;
	struct ev **seen; /* mark_superseded(): open-addressing map flow id -> last event */
};

/* Marks the flow events that a later event of the same flow in this batch replaces (each
 * END/UPDATE writes the whole flow), so that under load a BEGIN and its END cost one write.
 * A DELETE or CLEAR is a barrier: events before it are kept. */
static void mark_superseded(struct batch *b, struct ev *evs)
{
	size_t n = 0;
	for (struct ev *e = evs; e; e = e->next)
		n++;
	struct ev **arr = xmalloc((n ? n : 1) * sizeof *arr);
	n = 0;
	for (struct ev *e = evs; e; e = e->next)
		arr[n++] = e;
	size_t mask = b->nslots - 1;
	b->seen = xrealloc(b->seen, b->nslots * sizeof *b->seen);
	memset(b->seen, 0, b->nslots * sizeof *b->seen);
	for (size_t i = n; i-- > 0;) {
		struct ev *e = arr[i];
		e->superseded = e->fresh = 0;
		if (e->type == EV_DELETE || e->type == EV_CLEAR) {
			memset(b->seen, 0, b->nslots * sizeof *b->seen);
			continue;
		}
		if (!e->flow)
			continue;
		uint64_t id = e->flow->id;
		size_t h = (size_t)(id * 0x9E3779B97F4A7C15ull) & mask;
		for (; b->seen[h] && b->seen[h]->flow->id != id; h = (h + 1) & mask)
			;
		if (!b->seen[h]) {
			b->seen[h] = e; /* the last event of this flow: the one applied */
			continue;
		}
		e->superseded = 1;
		/* The event that replaces a BEGIN finds no row: it can insert at once. */
		if (e->type == EV_BEGIN)
			b->seen[h]->fresh = 1;
	}
	free(arr);
}

static void batch_reset_map(struct batch *b)
{
	memset(b->slots, 0, b->nslots * sizeof *b->slots);
}

static void note(struct batch *b, enum store_change ch, const struct flow *f, uint64_t id)
{
	if (ch == STORE_ADDED || ch == STORE_UPDATED) {
		size_t mask = b->nslots - 1, h = (size_t)(id * 0x9E3779B97F4A7C15ull) & mask;
		for (; b->slots[h]; h = (h + 1) & mask) {
			struct change *c = &b->changes[b->slots[h] - 1];
			if (c->id == id) {
				c->f = f; /* the latest state; an ADDED stays ADDED */
				return;
			}
		}
		b->slots[h] = b->num + 1;
	} else {
		batch_reset_map(b); /* later changes of a removed or cleared flow are new */
	}
	if (b->num == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->changes = xrealloc(b->changes, b->cap * sizeof *b->changes);
	}
	b->changes[b->num++] = (struct change){ch, f, id};
}

static void set_error(struct store *s, int rc, const char *what)
{
	const char *msg = sqlite3_errstr(rc); /* static text */
	atomic_store(&s->last_error, msg);
	if (!s->failing) {
		s->failing = 1;
		log_error(
		    "flow store %s: %s (%s): flows are NOT being stored; the proxy goes on and "
		    "counts them as dropped; retrying with each new flow",
		    s->path, msg, what);
	}
}

static void count_dropped(struct store *s, uint64_t n)
{
	atomic_fetch_add(&s->dropped, n);
}

static int is_conn_broken(int rc)
{
	return rc == SQLITE_READONLY || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN ||
	       rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Applies the events of a batch in one transaction. Returns SQLITE_OK after the commit. */
static int apply_batch(struct store *s, struct ev *evs, struct batch *b, uint64_t *max_id)
{
	int rc = run(s->st[ST_BEGIN]);
	if (rc != SQLITE_OK)
		return rc;
	int64_t delta = 0;
	mark_superseded(b, evs);
	for (struct ev *e = evs; e && rc == SQLITE_OK; e = e->next) {
		int added = 0, changed = 0;
		switch (e->type) {
		case EV_BEGIN:
		case EV_END:
		case EV_UPDATE:
			if (e->superseded) {
				/* A later event of this batch writes the whole flow anyway (and
				 * inserts it when this BEGIN was the only one). */
				break;
			}
			rc = write_flow(s, e->flow, e->type, e->fresh, &added, &changed, &delta);
			if (changed)
				note(b, added ? STORE_ADDED : STORE_UPDATED, e->flow, e->flow->id);
			if (e->flow->id > *max_id)
				*max_id = e->flow->id;
			break;
		case EV_DELETE:
			rc = delete_flow(s, e->id, &changed, &delta);
			if (changed)
				note(b, STORE_REMOVED, NULL, e->id);
			break;
		case EV_CLEAR:
			hosts_reset(s);
			rc = clear_all(s);
			s->sweep_at_commit = 1; /* every body file goes, after the commit */
			/* every flow stored so far (this batch's too) is gone; see is_gone() */
			s->gone_upto = atomic_load(&s->max_id);
			if (*max_id > s->gone_upto)
				s->gone_upto = *max_id;
			delta = 0;
			note(b, STORE_RESET, NULL, 0);
			break;
		case EV_SETTING:
			if (e->value) {
				bind_text(s->st[ST_SETTING], 1, e->key);
				bind_text(s->st[ST_SETTING], 2, e->value);
				rc = run(s->st[ST_SETTING]);
			} else {
				bind_text(s->st[ST_SETTING_DEL], 1, e->key);
				rc = run(s->st[ST_SETTING_DEL]);
			}
			break;
		}
	}
	if (rc == SQLITE_OK && delta != 0) {
		sqlite3_bind_int64(s->st[ST_COUNT_ADD], 1, delta);
		rc = run(s->st[ST_COUNT_ADD]);
	}
	if (rc == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK)
		run(s->st[ST_ROLLBACK]);
	return rc;
}

static void ev_free(struct ev *e)
{
	flow_free(e->flow);
	free(e->key);
	free(e->value);
	free(e);
}

static void notify(struct store *s, struct batch *b)
{
	pthread_mutex_lock(&s->mu);
	store_listener_fn fn = s->fn;
	void *arg = s->fn_arg;
	pthread_mutex_unlock(&s->mu);
	if (!fn)
		return;
	for (size_t i = 0; i < b->num; i++) {
		struct change *c = &b->changes[i];
		if (c->ch == STORE_REMOVED) {
			struct flow gone = {.id = c->id};
			fn(arg, c->ch, &gone);
		} else {
			fn(arg, c->ch, c->f);
		}
	}
}

/* Undoes what a rolled-back batch left in memory. A failed batch's clear did not happen (its
 * deletes' remembered ids may stay: they only stop a flow from being inserted again, and those
 * rows are still there). The rows still refer to their files; files the batch wrote are
 * orphans, swept when the store next opens. */
static void forget_batch(struct store *s, struct batch *b, uint64_t gone_upto)
{
	s->gone_upto = gone_upto;
	s->num_unref = 0;
	s->sweep_at_commit = 0;
	hosts_reset(s);
	b->num = 0;
	batch_reset_map(b);
}

/* One batch: make sure the connection works, apply, notify; count drops on failure. */
static void process(struct store *s, struct ev *evs, size_t n, struct batch *b)
{
	char err[256] = "";
	int fatal = 0, rc = SQLITE_OK;
	if (!s->ready) {
		int64_t now = util_mono_us();
		if (s->last_reopen_us && now - s->last_reopen_us < REOPEN_INTERVAL_US)
			rc = SQLITE_CANTOPEN;
		else {
			s->last_reopen_us = now;
			rc = open_db(s, err, sizeof err, &fatal);
			if (rc == SQLITE_OK)
				reseed_ids(s);
		}
	}
	uint64_t max_id = 0;
	b->num = 0;
	size_t want = 16;
	while (want < 2 * n)
		want *= 2;
	if (want > b->nslots) {
		b->slots = xrealloc(b->slots, want * sizeof *b->slots);
		b->nslots = want;
	}
	batch_reset_map(b);
	uint64_t gone_upto = s->gone_upto;
	s->file_failed = 0;
	if (rc == SQLITE_OK)
		rc = apply_batch(s, evs, b, &max_id);
	if (rc == SQLITE_FULL && s->file_failed) {
		/* Bodies whose files could not be written went to SQLite, and the database is
		 * full too (SQLite rolled the whole batch back): once more, with those bodies
		 * stored empty and marked truncated, so that their flows are kept. */
		forget_batch(s, b, gone_upto);
		max_id = 0;
		s->no_room = 1;
		rc = apply_batch(s, evs, b, &max_id);
		s->no_room = 0;
	}
	if (rc != SQLITE_OK) {
		forget_batch(s, b, gone_upto);
		count_dropped(s, n);
		set_error(s, rc, err[0] ? err : s->db ? sqlite3_errmsg(s->db) : "cannot open");
		if (s->db && is_conn_broken(rc)) {
			/* A read-only or broken connection stays so: reopen it next time. */
			close_db(s);
		}
		return;
	}
	if (s->failing) {
		s->failing = 0;
		atomic_store(&s->last_error, (const char *)NULL);
		log_warn("flow store %s: storing flows again (%llu dropped so far)", s->path,
			 (unsigned long long)atomic_load(&s->dropped));
	}
	release_files(s);
	atomic_fetch_add(&s->stored, n);
	atomic_fetch_add(&s->commits, 1);
	s->index_pending = 1;
	uint64_t cur = atomic_load(&s->max_id);
	while (max_id > cur && !atomic_compare_exchange_weak(&s->max_id, &cur, max_id))
		;
	/* Listeners get summaries: bodies are not theirs to see. */
	for (struct ev *e = evs; e; e = e->next)
		if (e->flow) {
			flow_buf_clear(&e->flow->request.body);
			flow_buf_clear(&e->flow->response.body);
		}
	notify(s, b);
}

/* Runs the indexer's select sel (its parameters bound) over the bodies it returns (id, 1 when
 * the body is there, its text or NULL when too large or in a file: IDX_TEXT): each goes into
 * body_fts when indexable, else it is listed in unindexed as checked.
 * from_list: the rows come from unindexed (drop the listing when indexed). Leaves sel reset.
 * Returns rows seen, -1 on error; *last gets the largest id. */
static int index_rows(struct store *s, sqlite3_stmt *sel, int from_list, uint64_t *last)
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
		if (present && indexable(t, len)) {
			sqlite3_bind_int64(ins, 1, id);
			sqlite3_bind_text(ins, 2, t, (int)len, SQLITE_STATIC);
			rc = run(ins);
			if (rc == SQLITE_OK && from_list) {
				sqlite3_bind_int64(unlist, 1, id);
				rc = run(unlist);
			}
		} else if (present) {
			sqlite3_bind_int64(mark, 1, id);
			rc = run(mark);
		} else if (from_list) { /* the body is gone */
			sqlite3_bind_int64(unlist, 1, id);
			rc = run(unlist);
		}
	}
	if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = step; /* the select itself failed */
	sqlite3_reset(sel);
	sqlite3_clear_bindings(sel);
	return rc == SQLITE_OK ? n : -1;
}

/* One chunk of background indexing, run by the writer while it keeps up (see writer_main()):
 * first bodies listed as unchecked (rewritten below the watermark), then bodies above the
 * watermark, which then moves up. Clears index_pending when there is nothing left. */
static void index_some(struct store *s)
{
	if (!s->ready || run(s->st[ST_BEGIN]) != SQLITE_OK) {
		s->index_pending = 0;
		return;
	}
	uint64_t last = 0, mark = s->fts_mark;
	int m = 0, rc = SQLITE_OK;
	sqlite3_stmt *sel = s->st[ST_IDX_SEL_LISTED];
	sqlite3_bind_int(sel, 1, INDEX_CHUNK);
	int n = index_rows(s, sel, 1, &last);
	if (n >= 0 && n < INDEX_CHUNK) {
		sel = s->st[ST_IDX_SEL_NEW];
		sqlite3_bind_int64(sel, 1, (sqlite3_int64)mark);
		sqlite3_bind_int(sel, 2, INDEX_CHUNK - n);
		last = mark;
		m = index_rows(s, sel, 0, &last);
		if (m > 0)
			mark = last;
	}
	if (n < 0 || m < 0)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK && mark != s->fts_mark) {
		sqlite3_bind_int64(s->st[ST_IDX_WATERMARK], 1, (sqlite3_int64)mark);
		rc = run(s->st[ST_IDX_WATERMARK]);
	}
	if (rc == SQLITE_OK)
		rc = run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		run(s->st[ST_ROLLBACK]);
		s->index_pending = 0; /* try again after the next batch */
		return;
	}
	s->fts_mark = mark;
	if (n + m < INDEX_CHUNK) { /* caught up */
		s->index_pending = 0;
		s->index_backlog = 0;
	} else {
		s->index_backlog -= s->index_backlog < INDEX_CHUNK ? s->index_backlog : INDEX_CHUNK;
	}
}

/* Waits on s->cond (s->mu held) until signalled or until due (util_mono_us() time). */
static void wait_until(struct store *s, int64_t due)
{
	struct timespec ts = {.tv_sec = (time_t)(due / 1000000),
			      .tv_nsec = (long)(due % 1000000) * 1000};
	pthread_cond_timedwait(&s->cond, &s->mu, &ts);
}

/* With s->mu held and events queued: lets a small batch grow for a moment (see BATCH_MIN). */
static void gather(struct store *s)
{
	if (s->stopping || s->num_queued >= BATCH_MIN)
		return;
	int64_t due = util_mono_us() + BATCH_GATHER_US;
	s->gathering = 1;
	while (!s->stopping && s->num_queued < BATCH_MIN && util_mono_us() < due)
		wait_until(s, due);
	s->gathering = 0;
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	struct batch b = {0};
	util_name_thread("fs-store");
	pthread_mutex_lock(&s->mu);
	int64_t idle_since = 0;
	for (;;) {
		while (!s->head && !s->stopping) {
			if (!s->index_pending || !s->ready) {
				pthread_cond_wait(&s->cond, &s->mu);
				continue;
			}
			int64_t due = idle_since + INDEX_IDLE_US;
			if (s->index_backlog >= INDEX_CHUNK || util_mono_us() >= due) {
				/* Idle: index a chunk of bodies, then look at the queue again. */
				pthread_mutex_unlock(&s->mu);
				index_some(s);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			wait_until(s, due);
		}
		if (!s->head)
			break; /* stopping and drained */
		if (s->index_pending && s->ready && s->index_backlog >= INDEX_CHUNK &&
		    s->num_queued < BATCH_MIN && !s->stopping) {
			/* Under steady load the queue is seldom empty once batches gather: index
			 * a chunk while the next batch gathers, as long as the writer keeps up. */
			pthread_mutex_unlock(&s->mu);
			index_some(s);
			pthread_mutex_lock(&s->mu);
		} else {
			gather(s);
		}
		/* Take up to BATCH_MAX events off the front. */
		struct ev *first = s->head, *last = first;
		size_t n = 1, bytes = first->bytes;
		while (last->next && n < BATCH_MAX) {
			last = last->next;
			bytes += last->bytes;
			n++;
		}
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		last->next = NULL;
		s->num_queued -= n;
		s->inflight = n;
		pthread_mutex_unlock(&s->mu);

		process(s, first, n, &b);
		while (first) {
			struct ev *next = first->next;
			ev_free(first);
			first = next;
		}
		pthread_mutex_lock(&s->mu);
		/* The batch's bodies counted as queued until now: the body budget bounds what the
		 * store holds, the batch being written included. */
		s->bytes_queued -= bytes;
		s->inflight = 0;
		idle_since = util_mono_us();
	}
	pthread_mutex_unlock(&s->mu);
	free(b.changes);
	free(b.slots);
	free(b.seen);
	return NULL;
}

/* Bytes an event holds, for the queue's bounds: bodies by length, since a large body sits in
 * a buffer of the whole body limit of which only what was written is resident. */
static size_t ev_bytes(const struct flow *f)
{
	return f ? f->request.body.len + f->response.body.len + 512 : 512;
}

/* Empties the stored bodies of f, keeping their real sizes and marking them truncated. */
static void shed_bodies(struct flow *f)
{
	struct flow_msg *m[2] = {&f->request, &f->response};
	for (int i = 0; i < 2; i++) {
		if (m[i]->body.len)
			m[i]->body_truncated = 1;
		flow_buf_clear(&m[i]->body);
	}
}

/* Queues e, or drops it (freed, counted) when the queue is full; sheds its bodies when the
 * writer is far behind on bodies. */
static void enqueue(struct store *s, struct ev *e)
{
	pthread_mutex_lock(&s->mu);
	if (e->flow && e->bytes > 512 && s->bytes_queued + e->bytes > QUEUE_BODY_BYTES) {
		shed_bodies(e->flow);
		e->bytes = ev_bytes(e->flow);
		atomic_fetch_add(&s->bodies_shed, 1);
		if (!s->shedding_bodies) {
			s->shedding_bodies = 1;
			log_warn("flow store %s: writer behind by %zu MiB of bodies: storing new flows "
				 "without their bodies until it catches up",
				 s->path, s->bytes_queued >> 20);
		}
	} else if (s->shedding_bodies && s->bytes_queued < QUEUE_BODY_BYTES / 2) {
		s->shedding_bodies = 0;
		log_warn("flow store %s: writer caught up, storing bodies again", s->path);
	}
	if (s->stopping || s->num_queued >= s->queue_max ||
	    s->bytes_queued + e->bytes > QUEUE_MAX_BYTES) {
		int first = !s->queue_full;
		s->queue_full = 1;
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->dropped, 1);
		atomic_store(&s->last_error, "flow store queue full: writer too slow");
		if (first)
			log_error(
			    "flow store %s: writer queue full (%zu events): dropping flows until "
			    "it drains",
			    s->path, s->queue_max);
		ev_free(e);
		return;
	}
	if (s->queue_full && s->num_queued < s->queue_max / 2) {
		s->queue_full = 0;
		log_warn("flow store %s: writer queue drained, queueing flows again", s->path);
	}
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->num_queued++;
	s->bytes_queued += e->bytes;
	if (!s->gathering || s->num_queued >= BATCH_MIN)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void on_emit(void *arg, enum flow_event ev, struct flow *f)
{
	struct store *s = arg;
	struct ev *e = xcalloc(1, sizeof *e);
	e->type = ev == FLOW_EV_BEGIN ? EV_BEGIN : ev == FLOW_EV_END ? EV_END : EV_UPDATE;
	e->flow = f;
	e->bytes = ev_bytes(f);
	enqueue(s, e);
}

struct flow_sink store_sink(struct store *s)
{
	return (struct flow_sink){.emit = on_emit, .arg = s};
}

void store_delete(struct store *s, uint64_t id)
{
	struct ev *e = xcalloc(1, sizeof *e);
	e->type = EV_DELETE;
	e->id = id;
	enqueue(s, e);
}

void store_clear(struct store *s)
{
	struct ev *e = xcalloc(1, sizeof *e);
	e->type = EV_CLEAR;
	enqueue(s, e);
}

void store_set_setting(struct store *s, const char *key, const char *value)
{
	struct ev *e = xcalloc(1, sizeof *e);
	e->type = EV_SETTING;
	e->key = xstrdup(key);
	e->value = value ? xstrdup(value) : NULL;
	e->bytes = strlen(key) + (value ? strlen(value) : 0);
	enqueue(s, e);
}

void store_set_listener(struct store *s, store_listener_fn fn, void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->fn = fn;
	s->fn_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->queued = s->num_queued + s->inflight;
	pthread_mutex_unlock(&s->mu);
	out->stored = atomic_load(&s->stored);
	out->dropped = atomic_load(&s->dropped);
	out->bodies_shed = atomic_load(&s->bodies_shed);
	out->last_error = atomic_load(&s->last_error);
	out->commits = atomic_load(&s->commits);
}

uint64_t store_max_id(struct store *s)
{
	return atomic_load(&s->max_id);
}

struct store *store_open(const char *path, const struct store_options *opts, char *err,
			 size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->body_limit = opts && opts->body_limit ? opts->body_limit : (size_t)4 << 20;
	s->queue_max = opts && opts->queue_max ? opts->queue_max : QUEUE_MAX_EVENTS;
	const char *fmax = getenv("FLOWSCOPE_DB_MAX_FILE_BYTES"); /* tests: see file_budget */
	if (fmax && *fmax)
		s->file_budget = strtoull(fmax, NULL, 10);
	pthread_mutex_init(&s->mu, NULL);
	/* the writer's timed waits count on util_mono_us()'s clock */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (errlen)
		err[0] = '\0';
	int fatal = 0;
	int rc = open_db(s, err, errlen, &fatal);
	if (rc != SQLITE_OK && (fatal || !s->db)) {
		close_db(s);
		goto fail;
	}
	if (rc != SQLITE_OK) {
		/* Read-only, locked, full: run degraded; every batch retries. */
		log_error("flow store %s: %s: flows are NOT being stored until this is fixed", path,
			  err[0] ? err : sqlite3_errstr(rc));
		s->failing = 1;
		atomic_store(&s->last_error, sqlite3_errstr(rc));
		close_db(s);
		s->last_reopen_us = util_mono_us();
		/* The ids already stored may still be readable. */
		sqlite3 *ro = NULL;
		if (sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
			atomic_store(&s->max_id, read_max_id(ro));
		sqlite3_close(ro);
	} else {
		atomic_store(&s->max_id, read_max_id(s->db));
	}
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		close_db(s);
		goto fail;
	}
	return s;
fail:
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s->bodies_dir);
	free(s->path);
	free(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (s->db && s->ready)
		exec(s->db, "PRAGMA optimize");
	close_db(s);
	hosts_reset(s);
	tombs_reset(s);
	free(s->bodies_dir);
	free(s->unref);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s->path);
	free(s);
}

/* ---- reading ---- */

struct store_reader {
	sqlite3 *db;		/* owned, read-only */
	sqlite3_stmt *get;	/* owned; one flow by id */
	sqlite3_stmt *exists;	/* owned; is there a flow with this id */
	sqlite3_stmt *body_ext; /* owned; which parts of a body are in files */
	sqlite3_stmt *count_all;
	sqlite3_stmt *setting;
	char *bodies_dir; /* owned; NULL for an in-memory database */
};

#define SELECT_FLOW                                                                                \
	"SELECT flows.id," FLOW_COLS ",heads.req_headers,heads.resp_headers "                      \
	"FROM flows LEFT JOIN heads ON heads.id=flows.id "

struct store_reader *store_reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r = xcalloc(1, sizeof *r);
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(r->db, 2000);
		rc = filter_sql_register(r->db);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(r->db, SELECT_FLOW "WHERE flows.id=?", -1,
					SQLITE_PREPARE_PERSISTENT, &r->get, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(r->db, "SELECT 1 FROM flows WHERE id=?", -1,
					SQLITE_PREPARE_PERSISTENT, &r->exists, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(r->db, "SELECT ext FROM bodies WHERE id=?", -1,
					SQLITE_PREPARE_PERSISTENT, &r->body_ext, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(r->db, "SELECT n FROM counts WHERE k=1", -1,
					SQLITE_PREPARE_PERSISTENT, &r->count_all, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(r->db, "SELECT value FROM settings WHERE key=?", -1,
					SQLITE_PREPARE_PERSISTENT, &r->setting, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		store_reader_close(r);
		return NULL;
	}
	r->bodies_dir = bodyfile_dir(sqlite3_db_filename(r->db, "main"));
	return r;
}

void store_reader_close(struct store_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->get);
	sqlite3_finalize(r->exists);
	sqlite3_finalize(r->body_ext);
	sqlite3_finalize(r->count_all);
	sqlite3_finalize(r->setting);
	sqlite3_close(r->db);
	free(r->bodies_dir);
	free(r);
}

static char *col_str(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	const char *t = (const char *)sqlite3_column_text(st, i);
	return xstrndup(t ? t : "", (size_t)sqlite3_column_bytes(st, i));
}

static void col_addr(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", t ? t : "");
}

static enum flow_state state_of(const char *s)
{
	if (!s)
		return FLOW_PENDING;
	if (strcmp(s, "done") == 0)
		return FLOW_DONE;
	if (strcmp(s, "error") == 0)
		return FLOW_ERROR;
	if (strcmp(s, "paused") == 0)
		return FLOW_PAUSED;
	return FLOW_PENDING;
}

/* A flow from a row of SELECT_FLOW (bodies empty). Caller flow_free()s. */
static struct flow *read_flow(sqlite3_stmt *st)
{
	struct flow *f = xcalloc(1, sizeof *f);
	struct flow_msg *rq = &f->request, *rs = &f->response;
	int i = 0;
	f->id = (uint64_t)sqlite3_column_int64(st, i++);
	const char *kind = (const char *)sqlite3_column_text(st, i++);
	f->kind = kind && strcmp(kind, "tunnel") == 0 ? FLOW_TUNNEL : FLOW_HTTP;
	f->state = state_of((const char *)sqlite3_column_text(st, i++));
	f->flags = (unsigned)sqlite3_column_int64(st, i++);
	f->replay_of = (uint64_t)sqlite3_column_int64(st, i++);
	f->scheme = col_str(st, i++);
	f->host = col_str(st, i++);
	f->port = (uint16_t)sqlite3_column_int(st, i++);
	f->path = col_str(st, i++);
	i++; /* url: derived */
	rq->method = col_str(st, i++);
	rq->target = col_str(st, i++);
	rq->present = sqlite3_column_int(st, i++);
	rq->version = sqlite3_column_int(st, i++);
	rs->present = sqlite3_column_int(st, i++);
	rs->version = sqlite3_column_int(st, i++);
	rs->status = sqlite3_column_int(st, i++);
	rs->reason = col_str(st, i++);
	i += 2; /* content types: derived from the headers */
	rq->body_size = (uint64_t)sqlite3_column_int64(st, i++);
	rs->body_size = (uint64_t)sqlite3_column_int64(st, i++);
	rq->body_truncated = sqlite3_column_int(st, i++);
	rs->body_truncated = sqlite3_column_int(st, i++);
	rq->head_size = (uint64_t)sqlite3_column_int64(st, i++);
	rs->head_size = (uint64_t)sqlite3_column_int64(st, i++);
	f->tls.sni = col_str(st, i++);
	f->tls.version = col_str(st, i++);
	f->tls.cipher = col_str(st, i++);
	f->tls.alpn = col_str(st, i++);
	f->tls.cert_subject = col_str(st, i++);
	f->tls.cert_issuer = col_str(st, i++);
	f->tls.client_version = col_str(st, i++);
	col_addr(st, i++, f->client_addr, sizeof f->client_addr);
	col_addr(st, i++, f->server_addr, sizeof f->server_addr);
	f->t.start = sqlite3_column_int64(st, i++);
	f->t.dns_done = sqlite3_column_int64(st, i++);
	f->t.connect_done = sqlite3_column_int64(st, i++);
	f->t.tls_done = sqlite3_column_int64(st, i++);
	f->t.request_sent = sqlite3_column_int64(st, i++);
	f->t.first_byte = sqlite3_column_int64(st, i++);
	f->t.end = sqlite3_column_int64(st, i++);
	f->bytes_up = (uint64_t)sqlite3_column_int64(st, i++);
	f->bytes_down = (uint64_t)sqlite3_column_int64(st, i++);
	f->error = col_str(st, i++);
	for (int side = 0; side < 2; side++, i++) {
		const void *blob = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		if (blob && n > 0)
			db_headers_unpack(side ? rs : rq, blob, (size_t)n);
	}
	return f;
}

int store_list(struct store_reader *r, const struct filter *filter, uint64_t before, int limit,
	       store_flow_fn fn, void *arg, uint64_t *total, char *err, size_t errlen)
{
	struct filter_sql q;
	filter_sql_build(filter, &q);
	int unfiltered = q.num_params == 0 && strcmp(q.where, "1") == 0;
	int rc = SQLITE_OK;
	sqlite3_stmt *st = NULL;
	/* Count first: a reader sees one snapshot per statement, and the count is cheaper to be
	 * a little older than the page than the other way round. */
	if (total) {
		if (unfiltered) {
			st = r->count_all;
		} else {
			char *sql = xasprintf("SELECT count(*) FROM flows WHERE %s", q.where);
			rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
			free(sql);
			if (rc == SQLITE_OK)
				rc = filter_sql_bind(&q, st);
		}
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				*total = (uint64_t)sqlite3_column_int64(st, 0);
				rc = SQLITE_OK;
			}
		}
		if (st == r->count_all)
			sqlite3_reset(st);
		else
			sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == SQLITE_OK && limit > 0) {
		/* Ids first, then the rows: the inner query touches only what the filter needs
		 * (often just an index), so a filter matching many flows does not fetch and sort
		 * all their rows to return 50. */
		char *sql =
		    xasprintf(SELECT_FLOW "WHERE flows.id IN (SELECT flows.id FROM flows "
					  "WHERE (%s) AND flows.id < ?%d ORDER BY flows.id DESC "
					  "LIMIT ?%d) ORDER BY flows.id DESC",
			      q.where, q.num_params + 1, q.num_params + 2);
		rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
		free(sql);
		if (rc == SQLITE_OK)
			rc = filter_sql_bind(&q, st);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, q.num_params + 1,
					   before && before < INT64_MAX ? (sqlite3_int64)before
									: INT64_MAX);
			sqlite3_bind_int(st, q.num_params + 2, limit);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				struct flow *f = read_flow(st);
				fn(arg, f);
				flow_free(f);
			}
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s", sqlite3_errmsg(r->db));
	filter_sql_clear(&q);
	return rc == SQLITE_OK ? 0 : -1;
}

int store_exists(struct store_reader *r, uint64_t id)
{
	sqlite3_stmt *st = r->exists;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A body file that cannot be read: the body reads as empty and truncated, never as an error
 * (the flow itself is still worth showing). */
static void log_unreadable(struct store_reader *r, uint64_t bid, int e)
{
	log_warn("flow store: body file %s/%llu: %s: served as an empty, truncated body",
		 r->bodies_dir ? r->bodies_dir : "(none)", (unsigned long long)bid, strerror(e));
}

/* Loads the stored bytes of body bid from its file into m's body. */
static void load_file(struct store_reader *r, uint64_t bid, struct flow_msg *m)
{
	char *data;
	size_t len;
	if (!r->bodies_dir || bodyfile_read(r->bodies_dir, bid, BODYFILE_DATA, &data, &len) != 0) {
		log_unreadable(r, bid, r->bodies_dir ? errno : ENOENT);
		m->body_truncated = 1;
		return;
	}
	flow_buf_clear(&m->body);
	if (len == 0) { /* an empty buffer is NULL (flow.h) */
		free(data);
		return;
	}
	m->body.data = data;
	m->body.len = m->body.cap = len;
}

struct flow *store_get(struct store_reader *r, uint64_t id)
{
	sqlite3_stmt *st = r->get;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	struct flow *f = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		f = read_flow(st);
	sqlite3_reset(st);
	if (!f)
		return NULL;
	sqlite3_stmt *b;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT side, data, ext FROM bodies WHERE id IN (?1*2, ?1*2+1)", -1,
			       &b, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(b, 1, (sqlite3_int64)id);
		while (sqlite3_step(b) == SQLITE_ROW) {
			int side = sqlite3_column_int(b, 0);
			struct flow_msg *m = side ? &f->response : &f->request;
			if (sqlite3_column_int(b, 2) & BODYFILE_DATA)
				load_file(r, id * 2 + (uint64_t)side, m);
			else
				flow_buf_append(&m->body, sqlite3_column_blob(b, 1),
						(size_t)sqlite3_column_bytes(b, 1));
		}
		sqlite3_finalize(b);
	}
	return f;
}

struct discard {
	int unused;
};

static int on_discard(void *arg, const char *data, size_t len)
{
	(void)arg, (void)data, (void)len;
	return 0;
}

struct relay {
	store_chunk_fn fn;
	void *arg;
	int stopped;
};

static int on_relay(void *arg, const char *data, size_t len)
{
	struct relay *rl = arg;
	if (rl->fn(rl->arg, data, len) != 0) {
		rl->stopped = 1;
		return 1;
	}
	return 0;
}

/* Where a stored body's bytes are read from: its blob in SQLite or its file. */
struct body_src {
	sqlite3_blob *blob; /* NULL: read fd */
	int fd;
	size_t len;
};

/* Reads n bytes at off. Returns 0, or -1 (a file cut short meanwhile counts as an error). */
static int src_read(const struct body_src *src, char *buf, size_t n, size_t off)
{
	if (src->blob)
		return sqlite3_blob_read(src->blob, buf, (int)n, (int)off) == SQLITE_OK ? 0 : -1;
	while (n > 0) {
		ssize_t got = pread(src->fd, buf, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		buf += got;
		n -= (size_t)got;
		off += (size_t)got;
	}
	return 0;
}

/* Streams the source through a decoder (enc NULL: as is) to out. Returns 0 or -1 with err. */
static int stream_src(const struct body_src *src, const char *enc, int truncated, codec_out_fn out,
		      void *arg, char *err, size_t errlen)
{
	struct codec *c = codec_new(enc, DB_DECODE_CAP, out, arg, err, errlen);
	if (!c)
		return -1;
	int rc = 0;
	char *buf = xmalloc(65536);
	for (size_t off = 0; off < src->len && rc == 0; off += 65536) {
		size_t n = src->len - off < 65536 ? src->len - off : 65536;
		if (src_read(src, buf, n, off) != 0) {
			snprintf(err, errlen, "reading the body failed");
			rc = -1;
		} else {
			rc = codec_feed(c, buf, n, err, errlen);
		}
	}
	if (rc == 0)
		rc = codec_finish(c, !truncated, err, errlen);
	free(buf);
	codec_free(c);
	return rc;
}

/* Opens the bytes of body bid: from its file when ext says so (an unreadable file reads as no
 * body, logged), else its blob. Returns 1 when src is open (close with close_src()), 0 when
 * there is no stored body; *lost is set when a file was expected but could not be opened. */
static int open_src(struct store_reader *r, uint64_t bid, struct body_src *src, int *lost)
{
	*src = (struct body_src){.fd = -1};
	*lost = 0;
	sqlite3_stmt *st = r->body_ext;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)bid);
	int ext = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (!(ext & BODYFILE_DATA)) {
		if (sqlite3_blob_open(r->db, "main", "bodies", "data", (sqlite3_int64)bid, 0,
				      &src->blob) != SQLITE_OK) {
			src->blob = NULL; /* no stored body: an empty one */
			return 0;
		}
		src->len = (size_t)sqlite3_blob_bytes(src->blob);
		return 1;
	}
	struct stat sb;
	src->fd = r->bodies_dir ? bodyfile_open(r->bodies_dir, bid, BODYFILE_DATA) : -1;
	if (src->fd < 0 || fstat(src->fd, &sb) != 0) {
		log_unreadable(r, bid, r->bodies_dir ? errno : ENOENT);
		if (src->fd >= 0)
			close(src->fd);
		*lost = 1;
		return 0;
	}
	src->len = (size_t)sb.st_size;
	return 1;
}

static void close_src(struct body_src *src)
{
	if (src->blob)
		sqlite3_blob_close(src->blob);
	if (src->fd >= 0)
		close(src->fd);
}

int store_body(struct store_reader *r, uint64_t id, int response, int decode, store_chunk_fn fn,
	       void *arg, char *err, size_t errlen)
{
	struct flow *f = NULL;
	sqlite3_stmt *st = r->get;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (sqlite3_step(st) == SQLITE_ROW)
		f = read_flow(st);
	sqlite3_reset(st);
	if (!f) {
		snprintf(err, errlen, "no such flow");
		return -1;
	}
	struct flow_msg *m = response ? &f->response : &f->request;
	const char *enc = decode ? db_msg_cenc(m) : NULL;
	int truncated = m->body_truncated, rc = 0, lost;
	/* The read transaction spans the whole body, so it is one consistent version (a body
	 * file open here stays that version even when a newer one is renamed over it). */
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	struct body_src src;
	if (open_src(r, id * 2 + (response ? 1 : 0), &src, &lost)) {
		struct relay rl = {fn, arg, 0};
		if (codec_is_encoded(enc)) {
			/* Decode once to check it all decodes: on failure nothing reaches fn. */
			rc = stream_src(&src, enc, truncated, on_discard, NULL, err, errlen);
		}
		if (rc == 0) {
			rc = stream_src(&src, codec_is_encoded(enc) ? enc : NULL, truncated,
					on_relay, &rl, err, errlen);
			if (rl.stopped)
				rc = 0; /* the caller asked to stop */
		}
		close_src(&src);
	}
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	flow_free(f);
	return rc;
}

char *store_reader_setting(struct store_reader *r, const char *key)
{
	sqlite3_stmt *st = r->setting;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = col_str(st, 0);
	sqlite3_reset(st);
	return v;
}
