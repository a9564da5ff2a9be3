/* SPDX-License-Identifier: MIT */
/* bodyfile.h - large bodies kept as files beside the database, in "<db file>-bodies/".
 *
 * Why files: SQLite writes a large blob twice (WAL frames, then the checkpoint, which reads
 * them back and fsyncs), and every later read walks its overflow pages; a single write() to a
 * file costs a fraction of that (SQLite's own advice: blobs over ~100 KiB are better external,
 * https://www.sqlite.org/intern-v-extern-blob.html). The bodies row stays in SQLite; its ext
 * column says which of its parts live here (the bits of enum bodyfile_kind).
 *
 * Names: "<id>" holds the stored bytes of the bodies row id, "<id>.text" its decoded text. A
 * new version goes to "<name>.tmp" first and is renamed over the old one, so a reader that
 * opened the old version keeps reading it whole. No fsync: as with SQLite's synchronous=NORMAL,
 * a crash of the process loses nothing written, a power loss may. This module only handles
 * files; which files are referenced is bodies.c's business (bodies.ext).
 */
#ifndef BODYFILE_H
#define BODYFILE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

enum bodyfile_kind {
	BODYFILE_DATA = 1, /* the stored bytes ("<id>"); bodies.data is then empty */
	BODYFILE_TEXT = 2, /* the decoded text ("<id>.text"); bodies.text is then NULL */
};

/* "<db_file>-bodies", malloc'd; NULL when db_file is NULL or "" (an in-memory or temporary
 * database: its bodies all stay in SQLite). */
char *bodyfile_dir(const char *db_file);

/* Writes len bytes as the file of (id, kind) in dir (created when missing): "<name>.tmp", then
 * renamed over "<name>". Returns 0, or -1 with errno set (nothing replaced then). */
int bodyfile_write(const char *dir, uint64_t id, enum bodyfile_kind kind, const void *data,
		   size_t len) __attribute__((warn_unused_result));

/* Opens the file of (id, kind) for reading: an fd the caller closes, or -1 with errno set. */
int bodyfile_open(const char *dir, uint64_t id, enum bodyfile_kind kind);

/* Reads the whole file of (id, kind): 0 with *out malloc'd (caller frees; never NULL) and *len
 * set, or -1 with errno set. */
int bodyfile_read(const char *dir, uint64_t id, enum bodyfile_kind kind, char **out /* OUT */,
		  size_t *len /* OUT */);

/* Unlinks the files of id whose kinds are in mask; missing ones are no error. */
void bodyfile_remove(const char *dir, uint64_t id, int mask);

/* keep(arg, id): the kinds of id's files that are still referenced (a mask, 0: none). */
typedef int (*bodyfile_keep_fn)(void *arg, uint64_t id);
/* Unlinks every body file in dir that keep() does not claim, and every "*.tmp" left over from
 * an interrupted write. Other names are left alone. Returns the number of files removed (0
 * when dir does not exist), -1 when dir cannot be read. */
int bodyfile_sweep(const char *dir, bodyfile_keep_fn keep, void *arg);

/* Registers fs_body(id, ext, text) on db: the bytes the body filters search for a bodies row
 * with ext != 0 (its "<id>.text" file, else its text column when not NULL, else its "<id>"
 * file). A missing or unreadable file gives an empty blob (logged), never an error. The
 * directory is db's own ("<db file>-bodies"). Returns an SQLite result code. */
int bodyfile_sql_register(sqlite3 *db);

#endif
