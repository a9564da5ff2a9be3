/* SPDX-License-Identifier: MIT */
/* edits.h - a captured flow edited where it stands: the writer's side of store_edit() and of
 * the kept originals (table originals); store_original() reads them back. Internal to
 * db/store/. Each returns an SQLite code. */
#ifndef EDITS_H
#define EDITS_H

#include "storeint.h"

/* EV_EDIT e: keeps e->original unless the flow has a kept one (or forgets the kept one when
 * e->revert), then writes e->flow over the stored flow as rows_write_flow() does. A flow that
 * is no longer stored stays gone: nothing is written and *changed stays 0. Writer thread. */
int edits_write(struct store *s, struct ev *e, int *changed /* OUT */, int64_t *delta);
/* Forgets the kept original of flow id (its flow is being deleted), or every one. */
int edits_delete_flow(struct store *s, uint64_t id);
int edits_clear(struct store *s);

#endif
