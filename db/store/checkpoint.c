/* SPDX-License-Identifier: MIT */
/* checkpoint.c - the store's checkpointer thread (fs-ckpt).
 *
 * SQLite's auto-checkpoint runs in the connection that commits: the writer thread copied its
 * WAL back into the database after every ~1,000 pages, with the database file's fdatasync,
 * on the path of the flows it stores (a fifth of its CPU with 1 KiB bodies). Here the writer's
 * connection has a WAL hook instead of the auto-checkpoint: after a commit that leaves the WAL
 * at CHECKPOINT_BYTES or more, it wakes this thread, which runs a PASSIVE checkpoint on
 * a connection of its own to the same file (the writer keeps appending meanwhile; a PASSIVE
 * checkpoint never waits for it and never stops it). The writer's next transaction starts the
 * WAL over once every frame was copied. A writer that never pauses can outrun that (each
 * checkpoint ends with newer frames not yet copied), so past CHECKPOINT_BYTES_MAX the writer
 * waits for the checkpointer's run to end and copies the rest itself after its commit, as
 * SQLite did: the WAL stays bounded either way. One checkpoint runs at a time (ckpt_busy):
 * SQLite would refuse a second.
 *
 * The checkpointer opens its connection when first woken, with the writer's file name as the
 * writer's connection reports it (an in-memory or temporary database has no WAL and never
 * wakes it). A failed open or checkpoint is retried at the next wake-up; the writer's fallback
 * keeps the WAL bounded meanwhile. After each checkpoint, the pages it appended that aged out of
 * the file's newest CHECKPOINT_CACHE_KEEP bytes leave the page cache (checkpoint.h). */
#include "checkpoint.h"

#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The checkpointer's connection to file, or NULL (logged). A read makes it see the WAL: a
 * connection that has read nothing does not know that the database is in WAL mode, and its
 * checkpoint does nothing. */
static sqlite3 *open_file(struct store *s, const char *file)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA schema_version", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_debug("flow store %s: checkpointer: %s", s->path,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

off_t checkpoint_drop_aged(int fd, off_t size, off_t keep, off_t *upto)
{
	off_t end = size > keep ? size - keep : 0;
	if (*upto < 0 || end < *upto) { /* the first look, or a file that shrank */
		*upto = end;
		return 0;
	}
	if (end == *upto)
		return 0;
	off_t from = *upto;
	*upto = end;
	/* the checkpoint synced the file: its pages are clean, and clean pages go */
	return posix_fadvise(fd, from, end - from, POSIX_FADV_DONTNEED) == 0 ? end - from : 0;
}

/* The cache of file after a checkpoint (see checkpoint.h): *fd is the checkpointer's own
 * descriptor of it, opened again when the path names another file (the store was replaced). */
static void drop_aged(const char *file, int *fd, off_t *upto)
{
	struct stat path_st, fd_st;
	if (stat(file, &path_st) != 0)
		return;
	if (*fd >= 0 && (fstat(*fd, &fd_st) != 0 || fd_st.st_ino != path_st.st_ino ||
			 fd_st.st_dev != path_st.st_dev)) {
		close(*fd);
		*fd = -1;
	}
	if (*fd < 0) {
		*fd = open(file, O_RDONLY | O_CLOEXEC);
		*upto = -1;
		if (*fd < 0)
			return;
	}
	checkpoint_drop_aged(*fd, path_st.st_size, CHECKPOINT_CACHE_KEEP, upto);
}

static void *ckpt_main(void *arg)
{
	struct store *s = arg;
	util_name_thread("fs-ckpt");
	sqlite3 *db = NULL;
	int fd = -1;	 /* the database file, for drop_aged() */
	off_t upto = -1; /* where drop_aged() is */
	pthread_mutex_lock(&s->ckpt_mu);
	for (;;) {
		while ((!s->ckpt_due || s->ckpt_busy) && !s->ckpt_stop)
			pthread_cond_wait(&s->ckpt_cond, &s->ckpt_mu);
		if (s->ckpt_stop)
			break;
		s->ckpt_due = 0;
		s->ckpt_busy = 1;
		char *file = s->ckpt_file ? xstrdup(s->ckpt_file) : NULL;
		pthread_mutex_unlock(&s->ckpt_mu);
		if (file && !db)
			db = open_file(s, file);
		if (db) {
			int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
							   NULL, NULL);
			if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
				log_debug("flow store %s: checkpoint: %s", s->path,
					  sqlite3_errmsg(db));
				sqlite3_close(db); /* opened again at the next wake-up */
				db = NULL;
			} else if (rc == SQLITE_OK && file) {
				drop_aged(file, &fd, &upto);
			}
			atomic_fetch_add(&s->checkpoints, 1);
		}
		free(file);
		pthread_mutex_lock(&s->ckpt_mu);
		s->ckpt_busy = 0;
		pthread_cond_broadcast(&s->ckpt_cond);
	}
	pthread_mutex_unlock(&s->ckpt_mu);
	sqlite3_close(db);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A checkpoint on the writer's connection, after its commit (as SQLite's auto-checkpoint). */
static void checkpoint_here(struct store *s, sqlite3 *db, const char *name)
{
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	atomic_fetch_add(&s->checkpoints, 1);
}

/* The writer's connection after each commit: the WAL holds frames pages now. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;
	size_t n = (size_t)frames * (size_t)s->page_size;
	if (n < CHECKPOINT_BYTES)
		return SQLITE_OK;
	if (!s->ckpt_running) { /* still opening, or no thread */
		checkpoint_here(s, db, name);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&s->ckpt_mu);
	if (n >= CHECKPOINT_BYTES_MAX) {
		/* The checkpointer has not kept up: once its run ends (a second checkpoint would
		 * only be refused meanwhile), copy the rest here, before the next transaction. */
		while (s->ckpt_busy)
			pthread_cond_wait(&s->ckpt_cond, &s->ckpt_mu);
		s->ckpt_busy = 1;
		pthread_mutex_unlock(&s->ckpt_mu);
		checkpoint_here(s, db, name);
		pthread_mutex_lock(&s->ckpt_mu);
		s->ckpt_busy = 0;
	} else {
		const char *file = sqlite3_db_filename(db, name);
		if (!s->ckpt_file || strcmp(s->ckpt_file, file) != 0) {
			free(s->ckpt_file);
			s->ckpt_file = xstrdup(file);
		}
		s->ckpt_due = 1;
	}
	pthread_cond_broadcast(&s->ckpt_cond);
	pthread_mutex_unlock(&s->ckpt_mu);
	return SQLITE_OK;
}

void checkpoint_wal_hook(struct store *s, sqlite3 *db)
{
	sqlite3_wal_hook(db, on_wal, s);
}

int checkpoint_start(struct store *s)
{
	pthread_mutex_init(&s->ckpt_mu, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	s->ckpt_due = s->ckpt_stop = s->ckpt_busy = 0; /* started again after a stop */
	s->ckpt_running = pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) == 0;
	return s->ckpt_running ? 0 : -1;
}

void checkpoint_stop(struct store *s)
{
	if (s->ckpt_running) {
		pthread_mutex_lock(&s->ckpt_mu);
		s->ckpt_stop = 1;
		pthread_cond_broadcast(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_mu);
		pthread_join(s->ckpt_thread, NULL);
		s->ckpt_running = 0;
	}
	pthread_mutex_destroy(&s->ckpt_mu);
	pthread_cond_destroy(&s->ckpt_cond);
	free(s->ckpt_file);
	s->ckpt_file = NULL;
}
