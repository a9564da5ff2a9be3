/* SPDX-License-Identifier: MIT */
/* writer.c - the flow store's writer thread: SQLite in WAL mode on a connection of its own,
 * fed by the queue (queue.c); readers have their own connections (reader.c).
 *
 * The writer thread takes everything queued (up to QUEUE_BATCH_MAX events) and applies it in
 * one transaction (rows.c, bodies.c): so under load many events share a commit, and a lone
 * event waits at most 50 ms for company before it commits (queue.h); an event that a later
 * event of the same flow in the batch replaces (a BEGIN followed by its END) is skipped. After
 * COMMIT the listener hears of each changed flow once, in order, with its latest summary. A
 * removed flow stays removed: the writer remembers what is gone (tombs.c) and drops the events
 * of such flows that were still on their way, instead of storing them again. The writer
 * indexes body text in chunks (indexer.c) once the traffic pauses (or a large backlog waits),
 * so indexing neither slows the proxy's path nor adds to the CPU each flow costs under load. A
 * failed batch (disk full, read-only, locked, I/O error) is rolled back and its events are counted
 * as dropped; the error is logged once per change of state, and every later batch tries again
 * (reopening the connection after a read-only or I/O error), so storing resumes by itself. After
 * each batch, committed or not, the writer publishes the write mark of its last event
 * (store_done_mark()) and calls the done listener: the web thread answers a write call once the
 * mark it took after queueing the write is reached (read-your-writes). The WAL is copied back
 * into the database by a thread of its own (checkpoint.c), not after the writer's commits. */
#include "store.h"

#include "bodies.h"
#include "bodyfile.h"
#include "checkpoint.h"
#include "edits.h"
#include "indexer.h"
#include "notes.h"
#include "queue.h"
#include "rows.h"
#include "storeint.h"
#include "util.h"
#include "wsstore.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REOPEN_INTERVAL_US 1000000 /* retry a broken connection at most once a second */
/* The store's last error after its file was deleted or replaced under it (check_file()). */
#define DELETED_NOTICE                                                                             \
	"the database file was deleted while flowscope ran: the flows stored before it are "       \
	"gone; a fresh store was started at the same path and new flows are stored there"
#define REPLACED_NOTICE                                                                            \
	"the database file was replaced while flowscope ran: new flows are stored in the file "    \
	"now at that path"

static void make_private(const char *path);

static void close_db(struct store *s)
{
	schema_finalize(s->st);
	sqlite3_close(s->db);
	s->db = NULL;
	s->ready = 0;
}

/* The path of the database's -wal (i 0) or -shm (i 1), as SQLite names them. malloc'd. */
static char *aux_path(const struct store *s, size_t i)
{
	return xasprintf("%s%s", s->path, i ? "-shm" : "-wal");
}

/* Remembers which files the writer's connection uses: the database, its -wal and its -shm (a
 * connection in WAL mode keeps both open), to notice them deleted or replaced (check_file()). */
static void note_files(struct store *s)
{
	struct stat st;
	s->file_ino = 0;
	if (stat(s->path, &st) == 0) {
		s->file_dev = st.st_dev;
		s->file_ino = st.st_ino;
	}
	for (size_t i = 0; i < 2; i++) {
		char *aux = aux_path(s, i);
		s->aux_ino[i] = 0;
		if (stat(aux, &st) == 0) {
			s->aux_dev[i] = st.st_dev;
			s->aux_ino[i] = st.st_ino;
		}
		free(aux);
	}
}

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
	/* tests: simulate a full disk of this many 4 KiB pages (a store made under it keeps
	 * SQLite's default page size, so that the figure means what it did) */
	const char *maxp = getenv("FLOWSCOPE_DB_MAX_PAGES");
	/* A new store's page size (schema.h); only a new, empty file takes it, before its first
	 * write, which setting WAL is. */
	char sql[80];
	snprintf(sql, sizeof sql, "PRAGMA page_size=%d", maxp && *maxp ? 4096 : SCHEMA_PAGE_SIZE);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	/* WAL: readers never block the writer; NORMAL: a commit does not fsync (a power loss
	 * may lose the last commits, a crash of the process loses nothing committed). */
	sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	sqlite3_exec(s->db, "PRAGMA cache_size=-8000", NULL, NULL, NULL);
	s->page_size = schema_pragma_int(s->db, "PRAGMA page_size", 4096);
	checkpoint_wal_hook(s, s->db); /* checkpoints off the writer thread (checkpoint.c) */
	if (maxp && *maxp) {
		snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", atoll(maxp));
		sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	}
	int rc = schema_migrate(s->db, SCHEMA_VERSION, err, errlen);
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
	rc = indexer_register(s->db);
	if (rc == SQLITE_OK)
		rc = schema_prepare(s->db, s->st);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return rc;
	}
	indexer_open(s);
	s->ready = 1;
	s->index_pending = 1;
	note_files(s);
	free(s->bodies_dir);
	s->bodies_dir = bodyfile_dir(sqlite3_db_filename(s->db, "main"));
	bodies_sweep(s);
	return SQLITE_OK;
}

/* Raises s->max_id to m unless it is larger already (readers of it never wait). */
static void raise_max_id(struct store *s, uint64_t m)
{
	uint64_t cur = atomic_load(&s->max_id);
	while (m > cur && !atomic_compare_exchange_weak(&s->max_id, &cur, m))
		;
}

/* After the store could be (re)opened: never hand out ids that are already stored, or a new
 * flow would overwrite an old one (the program seeded ids from store_max_id() at start, which
 * may have been 0 if the file was unreadable then). */
static void reseed_ids(struct store *s)
{
	uint64_t m = schema_max_id(s->db);
	raise_max_id(s, m);
	if (flow_next_id() <= m)
		flow_seed_ids(m + 1);
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
		e->superseded = 0;
		e->fresh = e->unbegun; /* no row yet, unless an earlier event makes it */
		if (e->type == EV_DELETE || e->type == EV_CLEAR) {
			memset(b->seen, 0, b->nslots * sizeof *b->seen);
			continue;
		}
		/* a note writes only its own columns; an edit is the user's, after the proxy's */
		if (!e->flow || e->type == EV_NOTE || e->type == EV_EDIT)
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
		/* The event replacing a flow's first event finds no row: it inserts at once. */
		if (e->type == EV_BEGIN || e->unbegun)
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
	atomic_store(&s->write_error, msg);
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
	rows_begin_batch(s);
	int rc = schema_run(s->st[ST_BEGIN]);
	if (rc != SQLITE_OK)
		return rc;
	int64_t delta = 0;
	mark_superseded(b, evs);
	for (struct ev *e = evs; e && rc == SQLITE_OK; e = e->next) {
		int added = 0, changed = 0;
		/* the other events may read or change the rows waiting for their group */
		if (e->type != EV_BEGIN && e->type != EV_END && e->type != EV_UPDATE &&
		    (rc = rows_flush(s, &delta)) != SQLITE_OK)
			break;
		switch (e->type) {
		case EV_BEGIN:
		case EV_END:
		case EV_UPDATE:
			if (e->superseded) {
				/* A later event of this batch writes the whole flow anyway (and
				 * inserts it when this BEGIN was the only one). */
				break;
			}
			rc = rows_write_flow(s, e->flow, e->type, e->fresh, &added, &changed,
					     &delta);
			if (changed)
				note(b, added ? STORE_ADDED : STORE_UPDATED, e->flow, e->flow->id);
			if (e->flow->id > *max_id)
				*max_id = e->flow->id;
			break;
		case EV_DELETE:
			rc = rows_delete_flow(s, e->id, &changed, &delta);
			if (rc == SQLITE_OK)
				rc = wsstore_delete_flow(s, e->id);
			if (rc == SQLITE_OK)
				rc = edits_delete_flow(s, e->id);
			if (changed)
				note(b, STORE_REMOVED, NULL, e->id);
			break;
		case EV_CLEAR:
			rc = rows_clear(s);
			if (rc == SQLITE_OK)
				rc = wsstore_clear(s);
			if (rc == SQLITE_OK)
				rc = edits_clear(s);
			s->sweep_at_commit = 1; /* every body file goes, after the commit */
			/* every flow stored so far (this batch's too) is gone; see tombs.c */
			s->gone.gone_upto = atomic_load(&s->max_id);
			if (*max_id > s->gone.gone_upto)
				s->gone.gone_upto = *max_id;
			delta = 0;
			note(b, STORE_RESET, NULL, 0);
			break;
		case EV_SETTING:
			rc = rows_put_setting(s, e->key, e->value);
			break;
		case EV_MESSAGES:
			rc = wsstore_write(s, e->msgs);
			break;
		case EV_COPY_MESSAGES:
			rc = wsstore_copy(s, e->id, e->to);
			break;
		case EV_EDIT:
			rc = edits_write(s, e, &changed, &delta);
			if (changed)
				note(b, STORE_UPDATED, e->flow, e->flow->id);
			break;
		case EV_NOTE:
			rc = notes_write(s, e->flow, &changed);
			if (changed)
				note(b, STORE_UPDATED, e->flow, e->flow->id);
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = rows_flush(s, &delta);
	if (rc == SQLITE_OK && delta != 0) {
		sqlite3_bind_int64(s->st[ST_COUNT_ADD], 1, delta);
		rc = schema_run(s->st[ST_COUNT_ADD]);
	}
	if (rc == SQLITE_OK)
		rc = schema_run(s->st[ST_COMMIT]);
	if (rc != SQLITE_OK) {
		rows_drop_group(s);
		schema_run(s->st[ST_ROLLBACK]);
	}
	return rc;
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
	s->gone.gone_upto = gone_upto;
	s->num_unref = 0;
	s->sweep_at_commit = 0;
	rows_forget_hosts(s);
	wsstore_forget(s);
	b->num = 0;
	batch_reset_map(b);
}

/* Makes the writer connection ready when it is not: reopens it, at most once a
 * REOPEN_INTERVAL_US. Returns an SQLite code (err filled when opening failed). */
static int ensure_open(struct store *s, char *err, size_t errlen)
{
	if (s->ready)
		return SQLITE_OK;
	int64_t now = util_mono_us();
	if (s->last_reopen_us && now - s->last_reopen_us < REOPEN_INTERVAL_US)
		return SQLITE_CANTOPEN;
	s->last_reopen_us = now;
	int fatal;
	int rc = open_db(s, err, errlen, &fatal);
	if (rc == SQLITE_OK) {
		reseed_ids(s);
		atomic_fetch_add(&s->file_gen, 1); /* readers: open it again */
	}
	return rc;
}

/* Empties b for a batch of n events, its coalescing map at least twice that size. */
static void batch_prepare(struct batch *b, size_t n)
{
	b->num = 0;
	size_t want = 16;
	while (want < 2 * n)
		want *= 2;
	if (want > b->nslots) {
		b->slots = xrealloc(b->slots, want * sizeof *b->slots);
		b->nslots = want;
	}
	batch_reset_map(b);
}

/* After the commit of the n events evs: the counts, the files left unreferenced, the
 * listener. */
static void committed(struct store *s, struct ev *evs, size_t n, struct batch *b, uint64_t max_id)
{
	if (s->failing) {
		s->failing = 0;
		atomic_store(&s->last_error, (const char *)NULL);
		atomic_store(&s->write_error, (const char *)NULL);
		log_warn("flow store %s: storing flows again (%llu dropped so far)", s->path,
			 (unsigned long long)atomic_load(&s->dropped));
	}
	bodies_release(s);
	s->file_reset = 0;
	atomic_fetch_add(&s->stored, n);
	atomic_fetch_add(&s->commits, 1);
	s->index_pending = 1;
	raise_max_id(s, max_id);
	/* Listeners get summaries: bodies are not theirs to see. */
	for (struct ev *e = evs; e; e = e->next)
		if (e->flow) {
			flow_buf_clear(&e->flow->request.body);
			flow_buf_clear(&e->flow->response.body);
		}
	notify(s, b);
	wsstore_notify(s);
}

/* Removes the old file's -wal and -shm when they are still at the store's path: a new
 * database there would take the old one's WAL for its own. Files that another program put in
 * their place (a restore of all three) stay. */
static void drop_old_files(struct store *s)
{
	for (size_t i = 0; i < 2; i++) {
		char *aux = aux_path(s, i);
		struct stat st;
		if (s->aux_ino[i] && stat(aux, &st) == 0 && st.st_dev == s->aux_dev[i] &&
		    st.st_ino == s->aux_ino[i] && unlink(aux) != 0)
			log_warn("flow store %s: cannot remove the old %s: %s", s->path, aux,
				 strerror(errno));
		free(aux);
	}
}

/* The writer's file deleted or replaced while it runs (rm, a restore, another program): the
 * writer would go on storing into a file nobody can read, and lose every flow from then on at
 * the next start. Looked at before each batch (one stat(): nothing next to a commit). On a
 * change the store starts over at its path, as a user expects: said once in the log and kept
 * as the store's last error (GET /api/stats); the writer's and the checkpointer's connections
 * to the old file are closed (connections that write must not outlive it: the last to close
 * removes the -wal and -shm by name), so are its -wal and -shm if still there, and the batch
 * opens the path again (ensure_open()): a fresh store with the schema, or the file put in its
 * place. Readers see store_file_generation() change and open it again; listeners hear
 * STORE_RESET with the first batch committed there, as after a clear, and the page's list
 * starts over. */
static void check_file(struct store *s)
{
	if (!s->ready || !s->file_ino || s->path[0] == ':')
		return;
	struct stat st;
	int gone = stat(s->path, &st) != 0;
	if (!gone && st.st_dev == s->file_dev && st.st_ino == s->file_ino)
		return;
	if (gone)
		log_error("flow store %s: the file was deleted while flowscope runs: the flows "
			  "stored before it are gone. Starting a fresh store at %s: new flows are "
			  "stored there",
			  s->path, s->path);
	else
		log_error("flow store %s: the file was replaced while flowscope runs: new flows "
			  "are stored in the file now at %s",
			  s->path, s->path);
	atomic_store(&s->last_error, gone ? DELETED_NOTICE : REPLACED_NOTICE);
	checkpoint_stop(s);
	close_db(s);
	drop_old_files(s);
	/* A reader that opened the new file before this took the old -wal and -shm for its own
	 * (SQLite finds them by name, and shares them in a process): the writer's open then fails
	 * until that reader is closed. Readers close now; and again once the writer opened. */
	atomic_fetch_add(&s->file_gen, 1);
	rows_forget_hosts(s); /* what the old file held */
	s->fts_mark = 0;
	s->index_backlog = 0;
	s->file_reset = 1;
	s->file_ino = 0;
	s->last_reopen_us = 0; /* open it now, for this batch */
	make_private(s->path);
	if (checkpoint_start(s) != 0)
		log_warn("flow store %s: cannot start the checkpointer thread again: the writer "
			 "checkpoints itself",
			 s->path);
}

/* One batch: make sure the connection works, apply, notify; count drops on failure. */
static void process(struct store *s, struct ev *evs, size_t n, struct batch *b)
{
	char err[256] = "";
	check_file(s);
	int rc = ensure_open(s, err, sizeof err);
	uint64_t max_id = 0;
	batch_prepare(b, n);
	uint64_t gone_upto = s->gone.gone_upto;
	s->file_failed = 0;
	if (s->file_reset) /* the page's list starts over with the new file */
		note(b, STORE_RESET, NULL, 0);
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
	committed(s, evs, n, b, max_id);
}

/* The writer is done with every event up to mark: publish it, then tell the done listener. */
static void publish_done(struct store *s, uint64_t mark)
{
	atomic_store(&s->done_mark, mark);
	pthread_mutex_lock(&s->mu);
	store_done_fn fn = s->done_fn;
	void *arg = s->done_arg;
	pthread_mutex_unlock(&s->mu);
	if (fn)
		fn(arg);
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
			int64_t due = idle_since + INDEXER_IDLE_US;
			if (s->index_backlog >= INDEXER_BACKLOG_MAX || util_mono_us() >= due) {
				/* Idle: index a chunk of bodies, then look at the queue again. */
				pthread_mutex_unlock(&s->mu);
				indexer_step(s);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			queue_wait_until(s, due);
		}
		if (!s->head)
			break; /* stopping and drained */
		if (s->index_pending && s->ready && s->index_backlog >= INDEXER_BACKLOG_MAX &&
		    s->num_queued < QUEUE_BATCH_MIN && !s->stopping && !s->hurry && !s->waiting) {
			/* Traffic that never pauses: past the backlog bound, index a chunk while
			 * the next batch gathers, as long as the writer keeps up. */
			pthread_mutex_unlock(&s->mu);
			indexer_step(s);
			pthread_mutex_lock(&s->mu);
		} else {
			queue_gather(s);
		}
		size_t n, bytes;
		struct ev *batch = queue_take(s, &n, &bytes);
		pthread_mutex_unlock(&s->mu);

		process(s, batch, n, &b);
		uint64_t mark = 0;
		for (struct ev *e = batch; e; e = e->next)
			mark = e->mark;
		queue_free(batch);
		pthread_mutex_lock(&s->mu);
		queue_done(s, bytes);
		pthread_mutex_unlock(&s->mu);
		publish_done(s, mark);
		pthread_mutex_lock(&s->mu);
		idle_since = util_mono_us();
	}
	pthread_mutex_unlock(&s->mu);
	free(b.changes);
	free(b.slots);
	free(b.seen);
	return NULL;
}

/* No flow stays pending forever: those an earlier run left unfinished end with an error. */
static void end_unfinished(struct store *s)
{
	int n = 0;
	int rc = rows_end_unfinished(s, &n);
	if (rc != SQLITE_OK)
		log_warn("flow store %s: cannot end the flows an earlier run left unfinished: %s",
			 s->path, sqlite3_errmsg(s->db));
	else if (n > 0)
		log_info("flow store %s: %d flow(s) left unfinished by an earlier run marked "
			 "\"" ROWS_STOPPED_ERROR "\"",
			 s->path, n);
}

/* The store holds every captured cookie and token: its files are the user's alone, whatever
 * the umask and wherever --db puts them. SQLite would create the database 0644 minus the
 * umask and gives its -wal and -shm the database's mode, so the database is created (or an
 * older one tightened) 0600 here, before SQLite opens it; existing -wal and -shm files are
 * tightened too. Special names (":memory:", "file:" URIs, "") are left to SQLite. */
static void make_private(const char *path)
{
	if (!path[0] || path[0] == ':' || strncmp(path, "file:", 5) == 0)
		return;
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return; /* SQLite reports what is wrong */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
	    st.st_uid == geteuid() && fchmod(fd, st.st_mode & 0700) != 0)
		log_warn("flow store %s: cannot make it private (mode 0600): %s", path,
			 strerror(errno));
	close(fd);
	const char *sfx[] = {"-wal", "-shm"};
	for (size_t i = 0; i < 2; i++) {
		char *aux = xasprintf("%s%s", path, sfx[i]);
		if (lstat(aux, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
		    st.st_uid == geteuid())
			chmod(aux, st.st_mode & 0700);
		free(aux);
	}
}

void store_set_body_limit(struct store *s, size_t limit)
{
	__atomic_store_n(&s->body_limit, limit, __ATOMIC_RELAXED);
}

/* Before SQLite's first use (main() opens the store first): no memory statistics, whose global
 * mutex every sqlite3_malloc/free took for counts nothing reads (refused later: harmless). */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *store_open(const char *path, const struct store_options *opts, char *err,
			 size_t errlen)
{
	static pthread_once_t configured = PTHREAD_ONCE_INIT;
	pthread_once(&configured, configure_sqlite);
	struct store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->body_limit = opts && opts->body_limit ? opts->body_limit : (size_t)4 << 20;
	s->queue_max = opts && opts->queue_max ? opts->queue_max : QUEUE_MAX_EVENTS;
	s->queue_bytes = opts && opts->queue_bytes ? opts->queue_bytes : QUEUE_WAIT_BYTES;
	const char *fmax = getenv("FLOWSCOPE_DB_MAX_FILE_BYTES"); /* tests: see file_budget */
	if (fmax && *fmax)
		s->file_budget = strtoull(fmax, NULL, 10);
	pthread_mutex_init(&s->mu, NULL);
	/* the writer's timed waits count on util_mono_us()'s clock */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_cond_init(&s->room, &ca);
	pthread_condattr_destroy(&ca);
	if (errlen)
		err[0] = '\0';
	make_private(path);
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
		atomic_store(&s->write_error, sqlite3_errstr(rc));
		close_db(s);
		s->last_reopen_us = util_mono_us();
		/* The ids already stored may still be readable. */
		sqlite3 *ro = NULL;
		if (sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
			atomic_store(&s->max_id, schema_max_id(ro));
		sqlite3_close(ro);
	} else {
		atomic_store(&s->max_id, schema_max_id(s->db));
		end_unfinished(s);
	}
	if (checkpoint_start(s) != 0)
		log_warn("flow store %s: cannot start the checkpointer thread: the writer "
			 "checkpoints itself",
			 path);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		checkpoint_stop(s);
		close_db(s);
		goto fail;
	}
	return s;
fail:
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->room);
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
	pthread_cond_broadcast(&s->room);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (s->db && s->ready)
		sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
	log_info("flow store %s: %llu events stored, %llu dropped; at most %zu KiB queued for the "
		 "writer, producers waited for it %llu times; %llu checkpoints",
		 s->path, (unsigned long long)atomic_load(&s->stored),
		 (unsigned long long)atomic_load(&s->dropped), s->bytes_peak >> 10,
		 (unsigned long long)s->waits, (unsigned long long)atomic_load(&s->checkpoints));
	checkpoint_stop(s); /* the writer's close, the last, copies what the WAL still holds */
	close_db(s);
	rows_forget_hosts(s);
	rows_free_binds(s);
	tombs_clear(&s->gone);
	free(s->ws_ids);
	free(s->bodies_dir);
	free(s->unref);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->room);
	free(s->path);
	free(s);
}

uint64_t store_file_generation(struct store *s)
{
	return atomic_load(&s->file_gen);
}
