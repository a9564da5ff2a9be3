/* SPDX-License-Identifier: MIT */
/* positions.c - a list read at a position (store_list_at()) without OFFSET over the whole
 * list: the page asks for "the rows at position N" when its scrollbar is dragged anywhere in
 * hundreds of thousands of flows, and the store pages by id (keyset), so a position has to be
 * turned into an id first.
 *
 * Each reader keeps, for all flows and for the last filter it was asked about, a sparse index: the
 * id of every POSITIONS_STEP-th matching flow counted from the oldest (rank 0). Counting from the
 * oldest keeps it valid while flows are added, as they always are, above it (ids only grow): the
 * new ones are read and appended (a scan of the new ids alone). A position P from the newest is
 * rank total-1-P; the nearest kept id at or below that rank is found by division, the id at
 * the rank by reading at most POSITIONS_STEP ids upwards from it, and the page from there is
 * an ordinary keyset page (store_list() with before = that id + 1).
 *
 * The index is known to be current when the matching total equals what it indexed plus the
 * matching flows above its top: a delete, a clear or a flow that came to match (or stopped
 * matching) below its top changes that sum, and the index is built again by one scan of the
 * matching ids. (One flow that stops matching and another below the top that starts to in the
 * same interval leave the sum unchanged: the positions are then off by the difference, until
 * the next change. The rows returned are still real, consecutive rows of the list.) Everything
 * runs in one read transaction, so the count, the index and the page are one version.
 *
 * reader.c owns the connection and the two indexes (struct store_reader) and reads the page:
 * this file is handed both and knows nothing of the reader. */
#include "positions.h"

#include "filtersql.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct positions {
	char *key;     /* owned; the filter's text, "" for all flows */
	uint64_t *ids; /* owned; ids[k]: the matching id of rank k * POSITIONS_STEP */
	size_t num_ids, cap;
	uint64_t n;   /* matching flows indexed: ranks 0 .. n-1 */
	uint64_t top; /* the largest indexed id, 0 when none */
};

void positions_free(struct positions *p)
{
	if (!p)
		return;
	free(p->key);
	free(p->ids);
	free(p);
}

static void forget(struct positions *p)
{
	p->num_ids = 0;
	p->n = 0;
	p->top = 0;
}

/* Prepares "SELECT <what> FROM flows WHERE (q) AND id <op> ?N <tail>" with q bound. */
static int prepare(sqlite3 *db, const struct filter_sql *q, const char *what, const char *op,
		   const char *tail, sqlite3_stmt **st)
{
	char *sql = xasprintf("SELECT %s FROM flows WHERE (%s) AND flows.id %s ?%d %s", what,
			      q->where, op, q->num_params + 1, tail);
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	free(sql);
	if (rc == SQLITE_OK)
		rc = filter_sql_bind(q, *st);
	return rc;
}

/* *out = the number of flows matching q with id > above. */
static int count_above(sqlite3 *db, const struct filter_sql *q, uint64_t above, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = prepare(db, q, "count(*)", ">", "", &st);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, q->num_params + 1, (sqlite3_int64)above);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = (uint64_t)sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The total of an unfiltered list: the count the writer keeps. */
static int count_all(sqlite3 *db, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT n FROM counts WHERE k=1", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Appends the matching ids above p->top to the index, oldest first. */
static int extend(sqlite3 *db, const struct filter_sql *q, struct positions *p)
{
	sqlite3_stmt *st;
	int rc = prepare(db, q, "flows.id", ">", "ORDER BY flows.id ASC", &st);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, q->num_params + 1, (sqlite3_int64)p->top);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
			if (p->n % POSITIONS_STEP == 0) {
				if (p->num_ids == p->cap) {
					p->cap = p->cap ? 2 * p->cap : 1024;
					p->ids = xrealloc(p->ids, p->cap * sizeof *p->ids);
				}
				p->ids[p->num_ids++] = id;
			}
			p->n++;
			p->top = id;
		}
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* *out = the id of the matching flow of the given rank (from the oldest), which is < p->n. */
static int id_at_rank(sqlite3 *db, const struct filter_sql *q, const struct positions *p,
		      uint64_t rank, uint64_t *out)
{
	uint64_t k = rank / POSITIONS_STEP;
	sqlite3_stmt *st;
	char tail[64];
	/* at most POSITIONS_STEP ids are stepped over: the offset stays small */
	snprintf(tail, sizeof tail, "ORDER BY flows.id ASC LIMIT 1 OFFSET %llu",
		 (unsigned long long)(rank - k * POSITIONS_STEP));
	int rc = prepare(db, q, "flows.id", ">=", tail, &st);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, q->num_params + 1, (sqlite3_int64)p->ids[k]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = (uint64_t)sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = 0; /* cannot happen in one read transaction; an empty page then */
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Brings the reader's index for key up to date; *total gets the matching total. */
static int refresh(sqlite3 *db, const struct filter_sql *q, int unfiltered, const char *key,
		   struct positions *p, uint64_t *total)
{
	if (!p->key || strcmp(p->key, key) != 0) {
		free(p->key);
		p->key = xstrdup(key);
		forget(p);
	}
	if (p->n == 0 && !unfiltered) {
		/* built from nothing: the scan counts, a count(*) first would scan twice */
		int rc = extend(db, q, p);
		*total = p->n;
		return rc;
	}
	uint64_t above = 0;
	int rc = unfiltered ? count_all(db, total) : count_above(db, q, 0, total);
	if (rc == SQLITE_OK && p->top)
		rc = count_above(db, q, p->top, &above);
	if (rc != SQLITE_OK)
		return rc;
	if (*total != p->n + above)
		forget(p); /* something changed below the top: built again */
	if (*total != p->n)
		rc = extend(db, q, p);
	if (rc == SQLITE_OK && p->n != *total)
		*total = p->n; /* the writer's count disagrees with the rows: the rows win */
	return rc;
}

int positions_find(sqlite3 *db, struct positions *slots[2], const struct filter *filter,
		   const char *key, uint64_t position, int want_id, uint64_t *id, uint64_t *total,
		   char *err, size_t errlen)
{
	struct filter_sql q;
	filter_sql_build(filter, &q);
	int unfiltered = q.num_params == 0 && strcmp(q.where, "1") == 0;
	/* one index for all flows, one for the last filter: the page goes back and forth */
	struct positions **slot = &slots[unfiltered ? 0 : 1];
	if (!*slot)
		*slot = xcalloc(1, sizeof **slot);
	*id = 0;
	*total = 0;
	int rc = refresh(db, &q, unfiltered, key ? key : "", *slot, total);
	if (rc == SQLITE_OK && position < *total && want_id)
		rc = id_at_rank(db, &q, *slot, *total - 1 - position, id);
	filter_sql_clear(&q);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		forget(*slot);
		return -1;
	}
	return 0;
}
