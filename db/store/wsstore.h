/* SPDX-License-Identifier: MIT */
/* wsstore.h - WebSocket messages in the store (tables ws_messages and ws_close, schema.c):
 * the writer's side (writer thread, inside the batch's transaction) and the reading of
 * store.h's store_messages(). Internal to db/store/. */
#ifndef WSSTORE_H
#define WSSTORE_H

#include "storeint.h"
#include "wsmsg.h"

/* Writes b's messages (content cut to the store's body limit) and its close; a flow that is
 * gone (tombs.h) is skipped. Remembers the flow for wsstore_notify(). Returns an SQLite code. */
int wsstore_write(struct store *s, const struct wsmsg_batch *b);
/* Copies flow from's messages and close, as stored, to flow to (a duplicate), unless to is
 * gone; remembers to for wsstore_notify() when there were any. Returns an SQLite code. */
int wsstore_copy(struct store *s, uint64_t from, uint64_t to);
/* Removes what flow id has here / everything. Return an SQLite code. */
int wsstore_delete_flow(struct store *s, uint64_t id);
int wsstore_clear(struct store *s);
/* After the commit: the messages listener hears of each remembered flow once; then, as after
 * a rollback (wsstore_forget()), nothing is remembered. */
void wsstore_notify(struct store *s);
void wsstore_forget(struct store *s);

/* reader.c: the read-only connection of r (borrowed). */
sqlite3 *reader_db(struct store_reader *r);

#endif
