/* SPDX-License-Identifier: MIT */
/* bodyfile.c - large bodies as files beside the database (see bodyfile.h for why and the
 * names). Plain POSIX file calls; the only SQLite part is the fs_body() function that lets
 * the body filters' SQL read these files on a reader connection. */
#define _GNU_SOURCE /* sync_file_range(), O_DIRECT */
#include "bodyfile.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *bodyfile_dir(const char *db_file)
{
	if (!db_file || !*db_file)
		return NULL;
	return xasprintf("%s-bodies", db_file);
}

/* "<dir>/<id>[.text][.tmp]" into buf. Returns 0, or -1 with errno ENAMETOOLONG. */
static int file_name(char *buf, size_t cap, const char *dir, uint64_t id, enum bodyfile_kind kind,
		     int tmp)
{
	int n = snprintf(buf, cap, "%s/%llu%s%s", dir, (unsigned long long)id,
			 kind == BODYFILE_TEXT ? ".text" : "", tmp ? ".tmp" : "");
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Writes all of data to fd, looping on short writes (one write() call in the common case). */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Direct I/O: a body that starts on a page boundary (the proxy's large capture buffers do) is
 * written with O_DIRECT, all but its last partial page, so that the device reads it from our
 * memory. Through the page cache, the kernel first copies it into freshly allocated pages:
 * that copy was three quarters of the store writer's CPU during large downloads (about 5 ms
 * per 4 MiB on the bench machine, against 0.3 ms direct), and the flusher then spends more
 * writing those pages out. A filesystem without direct I/O (tmpfs) refuses the flag, and any
 * refusal on the way just sends the rest through the page cache. */
#define DIRECT_ALIGN 4096
#define DIRECT_MIN (64 * 1024)

/* Writes the first len bytes of data (a multiple of DIRECT_ALIGN) with O_DIRECT when fd
 * allows it. Returns the bytes written; the rest is the caller's to write as usual. */
static size_t write_direct(int fd, const char *data, size_t len)
{
	if (fcntl(fd, F_SETFL, O_DIRECT) != 0)
		return 0;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a real error shows again on the buffered write */
		done += (size_t)n;
	}
	fcntl(fd, F_SETFL, 0);
	return done;
}

/* Writes data to fd: the aligned bulk directly when it can, the rest through the cache. */
static int write_body(int fd, const char *data, size_t len)
{
	size_t bulk = len / DIRECT_ALIGN * DIRECT_ALIGN, done = 0;
	if ((uintptr_t)data % DIRECT_ALIGN == 0 && bulk >= DIRECT_MIN)
		done = write_direct(fd, data, bulk);
	return write_all(fd, data + done, len - done);
}

/* Creates path for writing; makes dir first when it is missing (the first large body). */
static int create_file(const char *dir, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && (mkdir(dir, 0700) == 0 || errno == EEXIST))
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd;
}

int bodyfile_write(const char *dir, uint64_t id, enum bodyfile_kind kind, const void *data,
		   size_t len)
{
	char tmp[PATH_MAX], name[PATH_MAX];
	if (file_name(tmp, sizeof tmp, dir, id, kind, 1) != 0 ||
	    file_name(name, sizeof name, dir, id, kind, 0) != 0)
		return -1;
	int fd = create_file(dir, tmp);
	if (fd < 0)
		return -1;
	int rc = write_body(fd, data, len);
	/* Start writing out what went through the cache now, without waiting: left to the
	 * kernel's flusher, the dirty pages of a run of large downloads pile up (a GiB in seconds)
	 * and are written out later in one burst that stalls the proxy's CPUs. Only a hint: a
	 * failure changes nothing. */
	if (rc == 0)
		sync_file_range(fd, 0, (off_t)len, SYNC_FILE_RANGE_WRITE);
	/* close() can report a deferred write error (NFS, quotas): it counts as one */
	if (close(fd) != 0 && rc == 0)
		rc = -1;
	if (rc == 0 && rename(tmp, name) != 0)
		rc = -1;
	if (rc != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
	}
	return rc;
}

int bodyfile_open(const char *dir, uint64_t id, enum bodyfile_kind kind)
{
	char name[PATH_MAX];
	if (file_name(name, sizeof name, dir, id, kind, 0) != 0)
		return -1;
	return open(name, O_RDONLY | O_CLOEXEC);
}

int bodyfile_read(const char *dir, uint64_t id, enum bodyfile_kind kind, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd = bodyfile_open(dir, id, kind);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = xmalloc(size ? size : 1);
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO; /* shorter than its size: cut meanwhile */
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = size;
	return 0;
}

void bodyfile_remove(const char *dir, uint64_t id, int mask)
{
	char name[PATH_MAX];
	for (int kind = BODYFILE_DATA; kind <= BODYFILE_TEXT; kind <<= 1)
		if ((mask & kind) && file_name(name, sizeof name, dir, id, kind, 0) == 0)
			unlink(name);
}

/* Parses "<id>", "<id>.text", each optionally with ".tmp". Returns 0, or -1 for a name that
 * is not a body file. */
static int parse_name(const char *name, uint64_t *id, enum bodyfile_kind *kind, int *tmp)
{
	if (*name < '0' || *name > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(name, &end, 10);
	if (errno != 0)
		return -1;
	*id = v;
	*kind = BODYFILE_DATA;
	if (strncmp(end, ".text", 5) == 0) {
		*kind = BODYFILE_TEXT;
		end += 5;
	}
	*tmp = strcmp(end, ".tmp") == 0;
	return *tmp || *end == '\0' ? 0 : -1;
}

int bodyfile_sweep(const char *dir, bodyfile_keep_fn keep, void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	int removed = 0;
	char path[PATH_MAX];
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t id;
		enum bodyfile_kind kind;
		int tmp;
		if (parse_name(de->d_name, &id, &kind, &tmp) != 0)
			continue;
		if (!tmp && (keep(arg, id) & (int)kind))
			continue;
		int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (n > 0 && (size_t)n < sizeof path && unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* ---- fs_body() for the body filters ---- */

/* The last body file found missing, + 1: a filter runs over many rows and maybe many times,
 * so the same missing file is logged once, not once per scan. */
static _Atomic uint64_t last_missing;

static void log_missing(const char *dir, uint64_t id, enum bodyfile_kind kind)
{
	int e = errno;
	if (atomic_exchange(&last_missing, id * 4 + (uint64_t)kind + 1) == id * 4 + kind + 1)
		return;
	log_warn("body file %s/%llu%s: %s: searched as an empty body", dir, (unsigned long long)id,
		 kind == BODYFILE_TEXT ? ".text" : "", strerror(e));
}

/* fs_body(id, ext, text); the function's user data is the directory (owned by SQLite). */
static void fn_body(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *dir = sqlite3_user_data(ctx);
	uint64_t id = (uint64_t)sqlite3_value_int64(argv[0]);
	int ext = sqlite3_value_int(argv[1]);
	enum bodyfile_kind kind = BODYFILE_DATA;
	if (ext & BODYFILE_TEXT) {
		kind = BODYFILE_TEXT;
	} else if (sqlite3_value_type(argv[2]) != SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[2]);
		return;
	}
	char *data;
	size_t len;
	if (!dir || !(ext & kind) || bodyfile_read(dir, id, kind, &data, &len) != 0) {
		if (dir && (ext & kind))
			log_missing(dir, id, kind);
		sqlite3_result_zeroblob(ctx, 0);
		return;
	}
	sqlite3_result_blob64(ctx, data, len, free);
}

int bodyfile_sql_register(sqlite3 *db)
{
	char *dir = bodyfile_dir(sqlite3_db_filename(db, "main"));
	/* not DETERMINISTIC: the file's bytes change with the store, unseen by SQLite */
	return sqlite3_create_function_v2(db, "fs_body", 3, SQLITE_UTF8, dir, fn_body, NULL, NULL,
					  free);
}
