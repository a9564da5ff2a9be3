/* SPDX-License-Identifier: MIT */
/* rows.h - the writer's side of a flow's rows other than its bodies: flows, heads, hosts,
 * settings (see rows.c). Writer thread only, inside the batch's transaction. Each returns an
 * SQLite code. Internal to db/store/. */
#ifndef ROWS_H
#define ROWS_H

#include "storeint.h"

/* Writes flow f for an event of type EV_BEGIN, EV_END or EV_UPDATE, with its heads, bodies and
 * host. fresh: the batch replaced this flow's BEGIN, so there is no row yet. Sets *added when
 * a new row was made (and adds it to *delta, the change of the flow count), *changed when
 * anything was written. A flow that is gone (tombs_is_gone()) gets no new row: its event is
 * dropped. f's body flags may change (bodies_write()). */
int rows_write_flow(struct store *s, struct flow *f, enum ev_type type, int fresh,
		    int *added /* OUT */, int *changed /* OUT */, int64_t *delta);
/* rows_write_flow() inserts the rows of fresh flows by groups (SCHEMA_GROUP_ROWS, schema.h):
 * a row may wait for its group until rows_flush(), which the writer calls before an event
 * that is not such a write, and before the commit. A fresh row that turns out to exist
 * already is written over (taken back from *delta). Returns an SQLite code. */
int rows_flush(struct store *s, int64_t *delta);
/* Forgets the waiting rows (a rolled-back batch). */
void rows_drop_group(struct store *s);
/* Before each batch: the group statements' bindings are not known any more (see struct
 * schema_binds): what they point to was freed with the last batch. */
void rows_begin_batch(struct store *s);
/* Frees what the group statements' bindings kept (the store closes). */
void rows_free_binds(struct store *s);
/* Removes flow id and all of its rows. Sets *changed when there was such a flow (and takes it
 * from *delta); a flow removed before its END is remembered in s->gone. */
int rows_delete_flow(struct store *s, uint64_t id, int *changed /* OUT */, int64_t *delta);
/* Removes every flow, and forgets the hosts cache. */
int rows_clear(struct store *s);
/* At start, before any traffic: ends every flow an earlier run left pending or paused (a
 * crash, a power loss) with the error ROWS_STOPPED_ERROR and no end time. Returns an SQLite
 * code; *n gets the number of flows ended. */
#define ROWS_STOPPED_ERROR "flowscope stopped before this flow ended"
int rows_end_unfinished(struct store *s, int *n /* OUT */);
/* Sets a setting; value NULL removes it. */
int rows_put_setting(struct store *s, const char *key, const char *value);
/* Forgets which hosts are known to be in table hosts (after a rolled-back batch). */
void rows_forget_hosts(struct store *s);

#endif
