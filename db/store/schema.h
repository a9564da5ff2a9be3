/* SPDX-License-Identifier: MIT */
/* schema.h - the store's tables (created and migrated forward at open) and the writer's
 * prepared statements. Internal to db/store/; the layout is described in schema.c. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include "flow.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies with more text are searched by regex, not indexed; a body (or its text) with more
 * bytes is kept in a file (bodyfile.h). Also used as SQL text, so a plain number. */
#define SCHEMA_FTS_MAX_BYTES (256 * 1024)

/* The page size of a new store (SQLite's default is 4 KiB; an existing store keeps the size
 * it was made with). A flow's rows take ~2 KB (flows, heads and a 1 KiB body): larger pages
 * mean fewer WAL frames per commit (SQLite writes each with two pwrite calls, and the
 * checkpointer reads and writes each again), fewer leaf splits, less of each page left
 * empty by rows that do not fit, and shallower B-trees. */
#define SCHEMA_PAGE_SIZE 16384

/* The flows columns after id, in bind order (rows.c binds them, reader.c reads them). */
#define SCHEMA_FLOW_COLS                                                                           \
	"kind,state,flags,replay_of,scheme,host,port,path,url,method,target,req_present,"          \
	"req_version,resp_present,resp_version,status,reason,req_ctype,resp_ctype,"                \
	"request_body_size,response_body_size,request_truncated,response_truncated,"               \
	"req_head_size,resp_head_size,tls_sni,tls_version,tls_cipher,tls_alpn,"                    \
	"tls_cert_subject,tls_cert_issuer,tls_client_version,client_addr,server_addr,"             \
	"started_us,dns_us,connect_us,tls_us,request_sent_us,first_byte_us,ended_us,"              \
	"bytes_up,bytes_down,error,mode,stream_id"

/* The columns tls_sni..tls_client_version and started_us..ended_us follow struct flow_tls and
 * struct flow_timing field by field: the offsets of those fields in struct flow, in column
 * order (char * and int64_t fields). */
#define SCHEMA_NUM_TLS 7
#define SCHEMA_NUM_TIMES 7
extern const size_t schema_tls_fields[SCHEMA_NUM_TLS];
extern const size_t schema_time_fields[SCHEMA_NUM_TIMES];

/* New flows rows go in by SCHEMA_GROUP_ROWS in one multi-row INSERT (ST_INSERT_GROUP, rows.c):
 * one statement keeps its cursors on the table and its indexes open from row to row, and the
 * rows of a batch append at the end of each B-tree, so SQLite skips the seeks it makes for a
 * statement of one row. */
#define SCHEMA_GROUP_ROWS 16

/* The writer's statements, prepared once per connection (schema_prepare()). */
enum stmt_id {
	ST_INSERT,
	ST_INSERT_GROUP,
	ST_INSERT_IGNORE,
	ST_UPDATE,
	ST_HEADS,
	ST_HEADS_GROUP,
	ST_BODY,
	ST_BODY_GROUP,
	ST_BODY_EXT,
	ST_MARK_TRUNCATED,
	ST_BODY_DEL,
	ST_HOST,
	ST_FTS_DEL,
	ST_FTS_DEL_FLOW,
	ST_UNINDEXED,
	ST_UNINDEXED_GROUP,
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
	ST_LIST_CHECKED,
	ST_IDX_MARK_RANGE,
	ST_IDX_UNLIST,
	ST_IDX_WATERMARK,
	ST_WS_MSG,
	ST_WS_CLOSE,
	ST_WS_DEL_MSGS,
	ST_WS_DEL_CLOSE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_NUM
};

#define SCHEMA_VERSION 10 /* kept in PRAGMA user_version */

/* Brings the schema of db to version (SCHEMA_VERSION; tests build older stores) in one
 * transaction. Returns an SQLite code; a store of a later version gives SQLITE_ERROR with err
 * filled (err is filled on any other failure of the migration itself too). */
int schema_migrate(sqlite3 *db, int version, char *err, size_t errlen);

/* The integer the one-value statement sql (such as a PRAGMA) returns, or dflt when it fails or
 * returns no row. */
int schema_pragma_int(sqlite3 *db, const char *sql, int dflt);

/* Prepares every statement of enum stmt_id on db into st (persistent). Returns SQLITE_OK, or
 * an SQLite code with st all NULL. */
int schema_prepare(sqlite3 *db, sqlite3_stmt *st[ST_NUM]);
/* Finalizes st (NULL entries are fine) and sets every entry to NULL. */
void schema_finalize(sqlite3_stmt *st[ST_NUM]);

/* Steps a one-shot statement to its first row or its end, then resets it and clears its
 * bindings. Returns SQLITE_OK or the error code. */
int schema_run(sqlite3_stmt *st);

/* What the writer last bound to each parameter of one of its group statements (rows.c,
 * bodies.c), so that a run binds only the parameters whose value changed: a bind call costs
 * SQLite ~90 (integer) to ~200 (text) instructions and clearing the bindings ~20 per
 * parameter, while consecutive flows repeat most of their ~47 columns (kind, state, scheme,
 * host, method, status, TLS strings...). A text or blob is compared with the bytes bound
 * before, which must still be readable: every value bound through here must live until the
 * batch ends, and schema_binds_forget() must run at the start of each batch (and whenever the
 * statement was prepared anew), before which nothing is compared. */
struct schema_bound {
	int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB; 0: not known */
	int len;  /* a blob's bytes */
	union {
		int64_t i;
		const void *p;
	} v;
};
struct schema_binds {
	struct schema_bound *b; /* parameter i at b[i - 1]; owned */
	int n;
};
/* Nothing is known of st's parameters: the next binds all go through. */
void schema_binds_forget(struct schema_binds *c, sqlite3_stmt *st);
void schema_binds_free(struct schema_binds *c);
/* Bind ?i of st unless it holds that value already (c NULL: st's bindings were cleared, so
 * only non-NULL values are bound). A NULL text or blob pointer binds NULL. Texts and blobs are
 * bound SQLITE_STATIC. Each returns 1 when it called SQLite, 0 when ?i held the value. */
int schema_bind_null(struct schema_binds *c, sqlite3_stmt *st, int i);
int schema_bind_int(struct schema_binds *c, sqlite3_stmt *st, int i, int64_t v);
int schema_bind_text(struct schema_binds *c, sqlite3_stmt *st, int i, const char *s);
int schema_bind_blob(struct schema_binds *c, sqlite3_stmt *st, int i, const void *p, int len);
/* Binds a blob that will not outlive the statement's run (freed after it): bound every time. */
void schema_bind_blob_once(struct schema_binds *c, sqlite3_stmt *st, int i, const void *p,
			   int len);
/* Steps a statement bound with schema_bind_*() to its first row or its end and resets it,
 * keeping its bindings. Returns SQLITE_OK or the error code. */
int schema_run_kept(sqlite3_stmt *st);

/* The largest flow id in db, 0 when empty or unreadable. */
uint64_t schema_max_id(sqlite3 *db);

/* The trailers in column i of st (heads.req_trailers or resp_trailers: a headers blob, NULL
 * when none) into m's trailers, which must be empty (else nothing is done). */
void schema_read_trailers(struct flow_msg *m, sqlite3_stmt *st, int i);

#endif
