/* SPDX-License-Identifier: MIT */
/* reader.c - reading the flow store: each reading thread opens its own read-only connection
 * (struct store_reader) with its statements prepared once. Lists go through the filter's SQL
 * (filtersql.h) with the ids first, then the rows; a whole flow is its flows row, its heads
 * and its bodies (from SQLite or from their files); a body is streamed in pieces, decoded on
 * the way when asked, inside one read transaction so that it is one version throughout. A
 * body file that went missing reads as an empty, truncated body (logged), never as an error. */
#include "reader.h"

#include "bodyfile.h"
#include "codec.h"
#include "dbrow.h"
#include "filtersql.h"
#include "positions.h"
#include "schema.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reader's statements. */
enum rd_stmt {
	RD_GET,	      /* one flow by id */
	RD_EXISTS,    /* is there a flow with this id */
	RD_BODY_EXT,  /* which parts of a body are in files */
	RD_COUNT_ALL, /* the number of flows */
	RD_SETTING,   /* one setting */
	RD_NUM
};

struct store_reader {
	sqlite3 *db;		  /* owned, read-only */
	sqlite3_stmt *st[RD_NUM]; /* owned; prepared at open (rd_sql) */
	char *bodies_dir;	  /* owned; NULL for an in-memory database */
	struct positions *pos[2]; /* owned; store_list_at()'s indexes (positions.h), or NULL */
};

sqlite3 *reader_db(struct store_reader *r)
{
	return r->db;
}

#define SELECT_FLOW                                                                                \
	"SELECT flows.id," SCHEMA_FLOW_COLS ",heads.req_headers,heads.resp_headers,"               \
	"heads.req_trailers,heads.resp_trailers,flows.mark,flows.comment "                         \
	"FROM flows LEFT JOIN heads ON heads.id=flows.id "

static const char *const rd_sql[RD_NUM] = {
    [RD_GET] = SELECT_FLOW "WHERE flows.id=?",
    [RD_EXISTS] = "SELECT 1 FROM flows WHERE id=?",
    [RD_BODY_EXT] = "SELECT ext FROM bodies WHERE id=?",
    [RD_COUNT_ALL] = "SELECT n FROM counts WHERE k=1",
    [RD_SETTING] = "SELECT value FROM settings WHERE key=?",
};

struct store_reader *store_reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r = xcalloc(1, sizeof *r);
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(r->db, 2000);
		rc = filter_sql_register(r->db);
	}
	if (rc == SQLITE_OK)
		rc = bodyfile_sql_register(r->db); /* fs_body(): FILTERSQL_BODY's large bodies */
	for (int i = 0; i < RD_NUM && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v3(r->db, rd_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i],
					NULL);
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
	for (int i = 0; i < RD_NUM; i++)
		sqlite3_finalize(r->st[i]);
	sqlite3_close(r->db);
	free(r->bodies_dir);
	positions_free(r->pos[0]);
	positions_free(r->pos[1]);
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
	for (int k = 0; k < SCHEMA_NUM_TLS; k++)
		*(char **)((char *)f + schema_tls_fields[k]) = col_str(st, i++);
	col_addr(st, i++, f->client_addr, sizeof f->client_addr);
	col_addr(st, i++, f->server_addr, sizeof f->server_addr);
	for (int k = 0; k < SCHEMA_NUM_TIMES; k++)
		*(int64_t *)((char *)f + schema_time_fields[k]) = sqlite3_column_int64(st, i++);
	f->bytes_up = (uint64_t)sqlite3_column_int64(st, i++);
	f->bytes_down = (uint64_t)sqlite3_column_int64(st, i++);
	f->error = col_str(st, i++);
	f->mode = col_str(st, i++);
	f->stream_id = (uint32_t)sqlite3_column_int64(st, i++);
	for (int side = 0; side < 2; side++, i++) {
		const void *blob = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		if (blob && n > 0)
			dbrow_headers_unpack(side ? rs : rq, blob, (size_t)n);
	}
	for (int side = 0; side < 2; side++, i++)
		schema_read_trailers(side ? rs : rq, st, i);
	f->mark = col_str(st, i++);
	f->comment = col_str(st, i++);
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
			st = r->st[RD_COUNT_ALL];
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
		if (st == r->st[RD_COUNT_ALL])
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

/* The index work is positions.c's; the page is an ordinary keyset page from the id found. One
 * read transaction throughout, so the count, the index and the page are one version. */
int store_list_at(struct store_reader *r, const struct filter *filter, const char *key,
		  uint64_t position, int limit, store_flow_fn fn, void *arg, uint64_t *total,
		  char *err, size_t errlen)
{
	uint64_t n = 0, id = 0;
	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	if (positions_find(r->db, r->pos, filter, key, position, limit > 0, &id, &n, err, errlen) !=
	    0) {
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
		return -1;
	}
	int ret = 0;
	if (id)
		ret = store_list(r, filter, id + 1, limit, fn, arg, NULL, err, errlen);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (total)
		*total = n;
	return ret;
}

int store_exists(struct store_reader *r, uint64_t id)
{
	sqlite3_stmt *st = r->st[RD_EXISTS];
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

/* Flow id without its bodies, or NULL when there is none. Caller flow_free()s. */
static struct flow *get_summary(struct store_reader *r, uint64_t id)
{
	sqlite3_stmt *st = r->st[RD_GET];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	struct flow *f = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		f = read_flow(st);
	sqlite3_reset(st);
	return f;
}

struct flow *store_get(struct store_reader *r, uint64_t id)
{
	struct flow *f = get_summary(r, id);
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
	struct codec *c = codec_new(enc, DBROW_DECODE_CAP, out, arg, err, errlen);
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
	sqlite3_stmt *st = r->st[RD_BODY_EXT];
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
	struct flow *f = get_summary(r, id);
	if (!f) {
		snprintf(err, errlen, "no such flow");
		return -1;
	}
	struct flow_msg *m = response ? &f->response : &f->request;
	const char *enc = decode ? dbrow_msg_cenc(m) : NULL;
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
	sqlite3_stmt *st = r->st[RD_SETTING];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = col_str(st, 0);
	sqlite3_reset(st);
	return v;
}
