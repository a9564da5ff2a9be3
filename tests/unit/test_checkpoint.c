/* SPDX-License-Identifier: MIT */
/* test_checkpoint.c - the checkpointer's page-cache bound (db/store/checkpoint.h,
 * checkpoint_drop_aged()): the first look only starts counting, each later one drops what aged
 * out of the newest bytes once, a file that shrank starts over; and on a real file the dropped
 * range leaves the page cache while the rest stays (mincore()), where the filesystem has a page
 * cache to leave (not tmpfs). */
#include "checkpoint.h"
#include "harness.h"

#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MIB ((off_t)1 << 20)
#define TMPFS_MAGIC 0x01021994

static void test_ranges(void)
{
	off_t upto = -1;
	ok(checkpoint_drop_aged(-1, 8 * MIB, 2 * MIB, &upto) == 0 && upto == 6 * MIB);
	ok(checkpoint_drop_aged(-1, 7 * MIB, 2 * MIB, &upto) == 0 && upto == 5 * MIB); /* shrank */
	ok(checkpoint_drop_aged(-1, 7 * MIB, 2 * MIB, &upto) == 0 && upto == 5 * MIB); /* same */
	upto = -1;
	ok(checkpoint_drop_aged(-1, MIB, 2 * MIB, &upto) == 0 && upto == 0); /* under the keep */
}

/* Pages of [from, to) of the mapping m that the page cache holds. */
static size_t resident(unsigned char *vec, off_t from, off_t to)
{
	size_t n = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	for (off_t o = from; o < to; o += (off_t)page)
		n += vec[o / (off_t)page] & 1;
	return n;
}

static void append(int fd, off_t bytes)
{
	char *b = xmalloc((size_t)MIB);
	memset(b, 'x', (size_t)MIB);
	for (off_t o = 0; o < bytes; o += MIB)
		ok(write(fd, b, (size_t)MIB) == (ssize_t)MIB);
	free(b);
	ok(fsync(fd) == 0); /* as a checkpoint leaves it: clean pages */
}

static void test_file(void)
{
	char path[] = "checkpoint-test-XXXXXX"; /* in the build tree: a disk, not /tmp */
	int fd = mkstemp(path);
	ok(fd >= 0);
	unlink(path);
	append(fd, 8 * MIB);
	off_t upto = -1;
	ok(checkpoint_drop_aged(fd, 8 * MIB, 2 * MIB, &upto) == 0 && upto == 6 * MIB);
	append(fd, 4 * MIB);
	ok(checkpoint_drop_aged(fd, 12 * MIB, 2 * MIB, &upto) == 4 * MIB && upto == 10 * MIB);
	struct statfs fs;
	if (fstatfs(fd, &fs) == 0 && fs.f_type != TMPFS_MAGIC) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (size_t)(12 * MIB) / page;
		void *m = mmap(NULL, (size_t)(12 * MIB), PROT_READ, MAP_SHARED, fd, 0);
		unsigned char *vec = xcalloc(pages, 1);
		ok(m != MAP_FAILED && mincore(m, (size_t)(12 * MIB), vec) == 0);
		ok(resident(vec, 6 * MIB, 10 * MIB) == 0); /* aged out: gone */
		ok(resident(vec, 10 * MIB, 12 * MIB) ==
		   (size_t)(2 * MIB) / page); /* newest: kept */
		free(vec);
		munmap(m, (size_t)(12 * MIB));
	}
	close(fd);
}

int main(void)
{
	log_set_level(LOG_ERROR + 1);
	subtest("ranges", test_ranges);
	subtest("file", test_file);
	return harness_done();
}
