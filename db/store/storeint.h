/* SPDX-License-Identifier: MIT */
/* storeint.h - the layout of struct store, shared by the files of db/store/ (types only; each
 * file's functions are in its own header). Not part of the public contract (store.h).
 *
 * Who touches what: the queue fields (under mu) belong to queue.c and the writer loop; the
 * "writer thread only" fields to writer.c, rows.c, bodies.c, indexer.c and tombs.c, which all
 * run on the writer thread; the atomics to anyone. */
#ifndef STOREINT_H
#define STOREINT_H

#include "schema.h"
#include "store.h"
#include "tombs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ev_type {
	EV_BEGIN,
	EV_END,
	EV_UPDATE,
	EV_DELETE,
	EV_CLEAR,
	EV_SETTING,
	EV_MESSAGES,
	EV_NOTE,
	EV_EDIT,
	EV_COPY_MESSAGES,
};

/* One queued event. */
struct ev {
	struct ev *next;
	enum ev_type type;
	struct flow *flow;	  /* owned; BEGIN/END/UPDATE */
	uint64_t id;		  /* DELETE; COPY_MESSAGES: the flow copied from */
	uint64_t to;		  /* COPY_MESSAGES: the flow copied to */
	char *key, *value;	  /* owned; SETTING (value NULL deletes) */
	struct wsmsg_batch *msgs; /* owned; MESSAGES (wsmsg.h) */
	struct flow *original;	  /* owned; EDIT: kept as flow's original unless it has one */
	int revert;		  /* EDIT: flow is the original back: forget the kept one */
	size_t bytes;		  /* body bytes held, for the queue bound */
	int superseded;		  /* writer: a later event of this flow in the batch replaces it */
	int fresh;     /* writer: this flow's BEGIN was superseded here: the row is new */
	int unbegun;   /* the flow's first event, no BEGIN before it (FLOW_EV_UNBEGUN): no row */
	uint64_t mark; /* its write mark: 1, 2, 3, ... in queue order */
};

/* A fresh body's row waiting for its group (bodies.c): the bytes are the flow's, which lives
 * until the batch is done; the decoded text is owned. */
struct body_wait {
	uint64_t id; /* bodies.id */
	const struct flow_msg *m;
	size_t len; /* of m's body, stored */
	char *text; /* owned; NULL: no text column */
	size_t tlen;
	int truncated;
	int listed; /* not indexable: listed in unindexed as checked with its row */
};

/* A buffer of the writer's that a statement may hold bound (rows.c). */
struct head_buf {
	char *data; /* owned */
	size_t len, cap;
};

/* A body row whose files may no longer be referenced once the batch commits. */
struct unref {
	uint64_t id; /* bodies.id */
	int mask;    /* its ext before the batch touched it */
};

struct store {
	char *path;	   /* owned */
	size_t body_limit; /* live: store_set_body_limit(); read with __atomic_load_n */
	size_t queue_max;  /* events */
	pthread_t thread;
	pthread_mutex_t mu;	/* guards the queue, the listener and the flags below */
	pthread_cond_t cond;	/* signalled when events arrive or on stop */
	pthread_cond_t room;	/* broadcast when a batch is done (producers wait on it) */
	size_t queue_bytes;	/* producers wait while the bytes not yet taken are over this */
	int waiting;		/* producers waiting on room */
	int stalled;		/* a wait ran out: no waiting until the writer caught up */
	size_t bytes_peak;	/* the most bytes_queued has been */
	uint64_t waits;		/* producers that waited */
	struct ev *head, *tail; /* the FIFO; owned */
	size_t num_queued, bytes_queued;
	size_t inflight;       /* events taken by the writer, not yet committed or dropped */
	size_t inflight_bytes; /* what they hold (counted in bytes_queued too) */
	int stopping;
	int gathering;	/* the writer waits for QUEUE_BATCH_MIN events: do not wake it for fewer */
	int queue_full; /* 1 while dropping for a full queue (logged once) */
	int shedding_bodies; /* 1 while queueing flows without bodies (logged once) */
	uint64_t last_mark;  /* the write mark of the event queued last */
	int hurry;	     /* store_write_mark() waits: commit without gathering a batch */
	store_listener_fn fn;
	void *fn_arg;
	store_done_fn done_fn;
	void *done_arg;
	store_messages_fn msg_fn; /* see store_set_messages_listener() */
	void *msg_arg;
	/* Writer thread only: */
	sqlite3 *db;		  /* owned; NULL while broken */
	sqlite3_stmt *st[ST_NUM]; /* owned */
	int ready;		  /* schema migrated and statements prepared */
	int page_size;		  /* the database's page size in bytes (checkpoint.c) */
	int failing;		  /* last batch failed (logged once per state change) */
	int64_t last_reopen_us;
	dev_t file_dev;	  /* the database file the writer opened, to notice it deleted or */
	ino_t file_ino;	  /* replaced under us (0: not known) */
	dev_t aux_dev[2]; /* its -wal and -shm as they were then (0 ino: not there) */
	ino_t aux_ino[2];
	/* the file changed: listeners hear STORE_RESET with the next commit */
	int file_reset;
	uint64_t fts_mark;    /* the indexer's watermark (a bodies.id); see schema_v2 */
	int index_pending;    /* bodies may wait for the indexer */
	size_t index_backlog; /* bodies written since the indexer last caught up (about) */
	/* Every body above fts_mark is listed in unindexed: the indexer caught up, and since
	 * then the writer wrote only fresh bodies that are not indexable, and listed them as it
	 * wrote them, moving the watermark over them in the batch (bodies.c). list_mark: the
	 * watermark as the open batch moved it (mark_moved), fts_mark once it commits. */
	int index_clean;
	int mark_moved;
	int mark_unwritten; /* list_mark moved since counts k=2 was last written (bodies.c) */
	uint64_t list_mark;
	/* fresh flows rows not inserted yet (rows.c), with their URLs (owned) */
	const struct flow *group[SCHEMA_GROUP_ROWS];
	char *group_url[SCHEMA_GROUP_ROWS];
	size_t num_group;
	/* what the group statements hold (schema.h), and the URLs ST_INSERT_GROUP's rows were
	 * bound to last (owned: compared, and read by the next run when the same) */
	struct schema_binds flows_binds, bodies_binds, heads_binds;
	char *bound_url[SCHEMA_GROUP_ROWS];
	/* the header and trailer blobs ST_HEADS_GROUP's rows hold (rows.c), and a spare */
	struct head_buf head_bound[SCHEMA_GROUP_ROWS][4], head_scratch;
	struct body_wait bgroup[SCHEMA_GROUP_ROWS]; /* fresh bodies rows not inserted yet */
	size_t num_bgroup;
	char **hosts; /* hosts known to be in table hosts (open addressing); owned */
	size_t hosts_cap, num_hosts;
	struct tombs gone; /* what is gone, so that late events do not store it again */
	uint64_t *ws_ids;  /* flows with messages in the batch, for the listener (wsstore.c) */
	size_t num_ws_ids, ws_ids_cap;
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
	/* The checkpointer (checkpoint.c): under ckpt_mu, except ckpt_running (set before the
	 * writer starts, read by it) */
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cond; /* signalled when a checkpoint is due or on stop */
	int ckpt_running;	  /* the thread runs */
	int ckpt_due, ckpt_stop;
	int ckpt_busy;	 /* a checkpoint runs (one at a time: SQLite refuses a second) */
	char *ckpt_file; /* owned; the database file, as the writer's connection names it */
	/* Any thread: */
	_Atomic uint64_t checkpoints; /* checkpoints run (by either thread) */
	_Atomic uint64_t max_id, stored, dropped, commits;
	_Atomic uint64_t done_mark;	 /* the writer is done with every event up to this mark */
	_Atomic uint64_t bodies_shed;	 /* flows queued without their bodies (writer behind) */
	_Atomic uint64_t file_gen;	 /* see store_file_generation() */
	const char *_Atomic last_error;	 /* static text */
	const char *_Atomic write_error; /* static text; see store_stats */
};

#endif
