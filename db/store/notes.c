/* SPDX-License-Identifier: MIT */
/* notes.c - the user's notes on a flow: a colour mark and a free-text comment (schema v4's
 * columns mark and comment of flows). They are queued like every write (store_note(), in
 * queue.c) and written here by the writer thread, apart from the columns the proxy writes, so
 * that neither undoes the other. The marks are a fixed set of colour names, as the page
 * offers them and HAR files carry them (_flowscope.mark). */
#include "notes.h"

#include <string.h>

static const char *const colours[] = {"red", "orange", "yellow", "green", "blue", "purple", "grey"};

int store_note_mark_valid(const char *mark)
{
	if (!mark || !*mark)
		return 1;
	for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
		if (strcmp(mark, colours[i]) == 0)
			return 1;
	return 0;
}

int notes_write(struct store *s, const struct flow *f, int *changed)
{
	sqlite3_stmt *st;
	*changed = 0;
	int rc = sqlite3_prepare_v2(s->db, "UPDATE flows SET mark=?2, comment=?3 WHERE id=?1", -1,
				    &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->id);
	sqlite3_bind_text(st, 2, f->mark ? f->mark : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->comment ? f->comment : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*changed = sqlite3_changes(s->db) > 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}
