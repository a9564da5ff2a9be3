/* SPDX-License-Identifier: MIT */
/* tombs.c - what is gone.
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
#include "tombs.h"

#include "util.h"

#include <stdlib.h>

/* Flows deleted before their END, remembered until it comes: past this many (ENDs that never
 * came: dropped on a full queue, ...) the set is emptied rather than grown without end. */
#define TOMBS_MAX 65536 /* ids: at most 1 MiB of table */

static size_t slot(const struct tombs *t, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ull) & (t->cap - 1);
}

void tombs_clear(struct tombs *t)
{
	free(t->ids);
	t->ids = NULL;
	t->cap = t->num = 0;
}

void tombs_add(struct tombs *t, uint64_t id, const char *path)
{
	if (t->num >= TOMBS_MAX) {
		log_warn(
		    "flow store %s: %zu flows deleted before their end: forgetting them (a late "
		    "end may show one again)",
		    path, t->num);
		tombs_clear(t);
	}
	if (2 * (t->num + 1) > t->cap) {
		uint64_t *old = t->ids;
		size_t old_cap = t->cap;
		t->cap = old_cap ? 2 * old_cap : 16;
		t->ids = xcalloc(t->cap, sizeof *t->ids);
		for (size_t i = 0; i < old_cap; i++)
			if (old[i]) {
				size_t h = slot(t, old[i]);
				while (t->ids[h])
					h = (h + 1) & (t->cap - 1);
				t->ids[h] = old[i];
			}
		free(old);
	}
	size_t h = slot(t, id);
	for (; t->ids[h]; h = (h + 1) & (t->cap - 1))
		if (t->ids[h] == id)
			return;
	t->ids[h] = id;
	t->num++;
}

/* 1 when id is in the set; take != 0 also removes it (backward-shift deletion keeps every
 * other id reachable from its home slot without markers). */
static int find(struct tombs *t, uint64_t id, int take)
{
	size_t mask = t->cap - 1, h = slot(t, id);
	for (; t->ids[h] != id; h = (h + 1) & mask)
		if (!t->ids[h])
			return 0;
	if (!take)
		return 1;
	size_t hole = h;
	for (size_t j = (h + 1) & mask; t->ids[j]; j = (j + 1) & mask) {
		size_t home = slot(t, t->ids[j]);
		/* move j into the hole unless its home lies cyclically in (hole, j] */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			t->ids[hole] = t->ids[j];
			hole = j;
		}
	}
	t->ids[hole] = 0;
	t->num--;
	return 1;
}

int tombs_is_gone(struct tombs *t, uint64_t id, int final)
{
	int gone = id <= t->gone_upto;
	if (t->num && find(t, id, final))
		gone = 1;
	return gone;
}
