/* SPDX-License-Identifier: MIT */
/* store.h - the flow store: one SQLite file in WAL mode.
 *
 * Writing: the proxy's workers hand flows to store_sink(); a single writer thread owns the
 * write connection and commits queued events in batches (many per transaction). After each
 * COMMIT it tells the listener (the web layer) which flows were added, updated or removed, so
 * that every flow a browser hears of can be read back. Deletes and clears go through the same
 * queue, so they are ordered with the writes.
 *
 * Reading: each reading thread opens its own struct store_reader (a read-only connection).
 *
 * Large bodies: a body (or its decoded text) over 256 KiB is kept as a file in
 * "<path>-bodies/" beside the database (see bodyfile.h), except for an in-memory or temporary
 * database; small ones stay in SQLite. Every reader below serves both alike. A body file that
 * went missing reads as an empty, truncated body (logged), never as an error.
 *
 * Threads: store_sink().emit, store_delete(), store_clear() may be called from any thread;
 * the listener runs on the writer thread and must not block; a store_reader belongs to the one
 * thread that opened it.
 */
#ifndef STORE_H
#define STORE_H

#include "filter.h"
#include "flow.h"
#include "wsmsg.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_reader;

struct store_options {
	size_t body_limit; /* stored bytes per body (the proxy caps too; this is the backstop) */
	size_t queue_max;  /* events waiting for the writer at most; 0: the default (200000) */
	/* Bytes of flows waiting for the writer (not yet in its hands) past which the sink's
	 * emit waits for it (backpressure, see store_sink()); 0: the default (8 MiB). */
	size_t queue_bytes;
};

/* Opens the store at path (creating and migrating it) and starts its writer thread.
 * NULL with err filled on failure. */
struct store *store_open(const char *path, const struct store_options *opts, char *err,
			 size_t errlen);
/* Commits what is queued, stops the writer thread and closes. NULL is a no-op. */
void store_close(struct store *s);
/* The largest flow id stored, 0 when empty (main seeds flow ids with it + 1). */
uint64_t store_max_id(struct store *s);
/* Counts the times the writer opened its file again while running (after its file was
 * deleted or replaced, or its connection broke): a store_reader opened before the count last
 * changed may read a file that is no longer the store's; open a new one. Any thread. */
uint64_t store_file_generation(struct store *s);
/* The sink that the proxy emits flows to: queues them for the writer thread. While the flows
 * waiting hold more than store_options.queue_bytes, emit waits until the writer takes them
 * (backpressure: the worker that emits stops reading from its clients meanwhile), so that a
 * writer that falls behind bounds the proxy's memory (the queue and the writer's batch in hand
 * hold at most about twice the bound) and loses no flow. A wait that lasts over 2 s (a writer stuck
 * on its disk) ends it: the sink then stops waiting until the writer has caught up (logged), and
 * past the hard bounds (queue_max events, 64 MiB of bodies, 512 MiB in all) bodies are shed and
 * flows dropped and counted rather than waited for. Never waits on the writer's own thread. */
struct flow_sink store_sink(struct store *s);

enum store_change {
	STORE_ADDED = 0,   /* flow: a summary (no bodies) */
	STORE_UPDATED = 1, /* flow: a summary (no bodies) */
	STORE_REMOVED = 2, /* flow: only id is set */
	STORE_RESET = 3,   /* flow: NULL; the store was cleared (or its file deleted or replaced) */
};
/* Called on the writer thread after each commit, once per changed flow, in commit order. The
 * flow is borrowed for the call only. Set before traffic starts; NULL fn removes it. */
typedef void (*store_listener_fn)(void *arg, enum store_change change, const struct flow *f);
void store_set_listener(struct store *s, store_listener_fn fn, void *arg);

/* Queue a removal / a clear of every flow. Listeners hear REMOVED / RESET after the commit.
 * A removed flow stays removed: events of it still on their way (the END of a flow deleted
 * while pending, any event of a flow with an id up to the largest stored at a clear) are
 * dropped instead of storing the flow again. */
void store_delete(struct store *s, uint64_t id);
void store_clear(struct store *s);
/* Queues copying the WebSocket messages and close of flow from, as stored when the writer
 * comes to them, to flow to (its duplicate, queued before): the messages listener hears of to
 * once committed. Nothing happens when from has none or to is gone. */
void store_copy_messages(struct store *s, uint64_t from, uint64_t to);

/* The user's notes on a flow: queues writing f->mark and f->comment (each NULL: "") to the
 * stored flow f->id, and nothing else of f. f is owned, a summary as store_list() or
 * store_get() read it, with the new notes: listeners hear STORE_UPDATED with it once it is
 * committed (nothing when the flow is gone). The caller checks the mark with
 * store_note_mark_valid(). */
void store_note(struct store *s, struct flow *f);
/* 1 when mark is "" or one of the colours a flow may be marked with: red, orange, yellow,
 * green, blue, purple, grey. */
int store_note_mark_valid(const char *mark);

/* Write marks, for callers that answer a write only once it is readable: every event queued
 * (a flow event, a delete, a clear, a setting) gets the next mark, 1, 2, 3, ... in queue
 * order. store_write_mark() returns the mark of the event queued last (0: none yet) and has
 * the writer take it without waiting for a batch to gather; once store_done_mark() is at
 * least that mark, the writer is done with it and every event before it: committed (and the
 * listener told), or failed and counted as dropped (store_get_stats() says why). Any thread;
 * neither blocks. */
uint64_t store_write_mark(struct store *s);
uint64_t store_done_mark(struct store *s);
/* Called on the writer thread each time store_done_mark() grew, after the listener heard of
 * the batch's changes; must not block. Set before traffic starts; NULL fn removes it. */
typedef void (*store_done_fn)(void *arg);
void store_set_done_listener(struct store *s, store_done_fn fn, void *arg);

struct store_stats {
	uint64_t stored;	/* flow events committed since start */
	uint64_t dropped;	/* events that could not be stored (queue full, disk full, ...) */
	uint64_t queued;	/* events waiting for the writer now (queued or being written) */
	const char *last_error; /* NULL, or the last storage error (static storage) */
	uint64_t commits;	/* transactions committed since start (batches) */
	uint64_t bodies_shed;	/* flows stored without bodies because the writer was behind */
	/* NULL while the store writes; else why it cannot (static text): the writer's last
	 * batch failed (read-only, disk full, ...), or the database file was deleted or
	 * replaced under it (until restart). Each change is logged once with what to do. */
	const char *write_error;
	uint64_t queued_bytes;	    /* bytes the events counted in queued hold now (about) */
	uint64_t queued_bytes_peak; /* the most queued_bytes has been since start */
	uint64_t waits;		    /* times an emit waited for the writer (backpressure) */
};
void store_get_stats(struct store *s, struct store_stats *out);

/* ---- reading ---- */

/* A read-only connection for the calling thread. NULL with err filled on failure. */
struct store_reader *store_reader_open(const char *path, char *err, size_t errlen);
void store_reader_close(struct store_reader *r); /* NULL is a no-op */

/* Calls fn for each flow summary (every field of struct flow but the bodies, which are
 * empty; body_size and body_truncated are set) matching filter (NULL: all), newest first,
 * with id < before (0: from the newest), at most limit of them. *total (if not NULL) gets the
 * number of matching flows. Returns 0, or -1 with err filled. */
typedef void (*store_flow_fn)(void *arg, const struct flow *f);
int store_list(struct store_reader *r, const struct filter *filter, uint64_t before, int limit,
	       store_flow_fn fn, void *arg, uint64_t *total, char *err, size_t errlen);

/* The flows at positions position .. position+limit-1 of the list store_list() gives from the
 * newest (position 0 is the newest matching flow), the same summaries, newest first; none when
 * position >= the total. key is filter's text (NULL or "": all flows): the reader keeps an
 * index of positions for all flows and for the last key it was asked about, so that no call steps
 * over more than a few hundred rows once the index is built, however deep the position.
 * *total (if not NULL) gets the number of matching flows. Returns 0, or -1 with err filled. */
int store_list_at(struct store_reader *r, const struct filter *filter, const char *key,
		  uint64_t position, int limit, store_flow_fn fn, void *arg, uint64_t *total,
		  char *err, size_t errlen);

/* 1 when a flow with this id is stored, 0 when there is none, -1 when the store could not be
 * read. One lookup by primary key: no row, header or body is loaded. */
int store_exists(struct store_reader *r, uint64_t id);

/* The whole flow with its stored bodies (body files read whole); NULL if there is no such
 * flow. Caller flow_free()s. */
struct flow *store_get(struct store_reader *r, uint64_t id);

/* Streams a stored body (response != 0: the response's) to fn in pieces, without copying it
 * whole (from SQLite or from its file; once open, a file is read to its end in that version
 * even when a newer one replaces it meanwhile). decode != 0 undoes Content-Encoding (gzip, deflate,
 * br, zstd; a chain of them). Returns 0; -1 when there is no such flow (err "no such flow"), or
 * decoding failed (err says why; nothing was passed to fn then). */
typedef int (*store_chunk_fn)(void *arg, const char *data, size_t len); /* non-0 stops */
int store_body(struct store_reader *r, uint64_t id, int response, int decode, store_chunk_fn fn,
	       void *arg, char *err, size_t errlen);

/* ---- WebSocket messages (wsmsg.h): store_sink().emit_messages queues them like flows ---- */

/* Called on the writer thread after each commit, once per flow that got new messages (or its
 * close) in it, after the flow listener; must not block. Set before traffic starts; NULL fn
 * removes it. */
typedef void (*store_messages_fn)(void *arg, uint64_t flow_id);
void store_set_messages_listener(struct store *s, store_messages_fn fn, void *arg);

/* Calls fn for the messages of flow id whose index is above after (-1: from the first), in
 * order, at most limit of them (m and its data are borrowed for the call; fn returns non-0 to
 * stop). *total (may be NULL) gets the flow's number of messages; *close (may be NULL) its
 * close (strings owned by the caller: wsmsg_close_clear()), zeroed when none was stored.
 * Returns 0 (also for a flow without messages), or -1 with err filled. */
typedef int (*store_message_fn)(void *arg, const struct wsmsg *m);
int store_messages(struct store_reader *r, uint64_t id, int64_t after, int limit,
		   store_message_fn fn, void *arg, uint64_t *total, struct wsmsg_close *close,
		   char *err, size_t errlen);

/* Key/value settings kept in the store (the live rules are one, as JSON text). Returns a
 * malloc'd copy or NULL when unset. store_set_setting() writes through the writer queue. */
char *store_reader_setting(struct store_reader *r, const char *key);
void store_set_setting(struct store *s, const char *key, const char *value);
/* ---- a captured flow edited where it stands (edits.c) ---- */

/* Writes f (owned) over the stored flow f->id, the user's edit of it. original (owned, may be
 * NULL): what was captured, kept unless the flow already has a kept original (the first edit's
 * stays). revert: f is the kept original brought back; the kept one is forgotten. A flow
 * deleted meanwhile stays deleted. Through the writer queue, as store_note(). */
void store_edit(struct store *s, struct flow *f, struct flow *original, int revert);
/* The kept original of flow id (its URL, request and response; the rest empty), or NULL when
 * there is none (never edited, or reverted) or it could not be read. Caller flow_free()s. */
struct flow *store_original(struct store_reader *r, uint64_t id);

/* Replaces the stored bytes per body (store_options.body_limit) for what is written next; any
 * thread (the live options). */
void store_set_body_limit(struct store *s, size_t limit);

#endif
