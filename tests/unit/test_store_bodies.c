/* SPDX-License-Identifier: MIT */
/* test_store_bodies.c - bodies in the store: streamed and decoded (every coding, chains,
 * corrupt data, bombs), the body limit, and large bodies kept as files beside the database
 * (round trips, removal, the sweep of orphans, a missing file, a failing file write, direct
 * I/O past the page cache). */
#define _GNU_SOURCE /* O_DIRECT, mincore() */
#include "store_fixture.h"

#include "bodyfile.h"

#include <brotli/encode.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

struct sink {
	char *data;
	size_t len;
	int calls, stop_after;
};

static int on_chunk(void *arg, const char *data, size_t len)
{
	struct sink *k = arg;
	k->data = xrealloc(k->data, k->len + len + 1);
	memcpy(k->data + k->len, data, len);
	k->len += len;
	k->calls++;
	return k->stop_after && k->calls >= k->stop_after;
}

static size_t gz(const char *in, size_t len, char *out, size_t cap, int wbits)
{
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)in;
	z.avail_in = len;
	z.next_out = (unsigned char *)out;
	z.avail_out = cap;
	deflate(&z, Z_FINISH);
	size_t n = z.total_out;
	deflateEnd(&z);
	return n;
}

static void test_bodies(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 26};
	struct store *s = store_open(p, &o, err, sizeof err);
	/* A text that compresses, long enough to span several 64 KiB chunks once decoded. */
	size_t plen = 300000;
	char *plain = xmalloc(plen);
	for (size_t i = 0; i < plen; i++)
		plain[i] = "abcdefghij klmnop\n"[i % 18] + (char)(i % 1000 == 0);
	size_t cap = plen + 1000;
	char *g = xmalloc(cap), *d = xmalloc(cap), *dz = xmalloc(cap), *b = xmalloc(cap),
	     *z = xmalloc(cap), *gb = xmalloc(cap), *bomb = xmalloc(1 << 20);
	size_t glen = gz(plain, plen, g, cap, 15 + 16);
	size_t dlen = gz(plain, plen, d, cap, -15);
	size_t dzlen = gz(plain, plen, dz, cap, 15);
	size_t blen = cap;
	BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, plen, (const uint8_t *)plain, &blen,
			      (uint8_t *)b);
	size_t zlen = ZSTD_compress(z, cap, plain, plen, 3);
	/* "gzip, br": gzip first, then br over it. */
	size_t gblen = cap;
	BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, glen, (const uint8_t *)g, &gblen,
			      (uint8_t *)gb);
	/* 100 MiB of zeros in ~100 KiB of gzip. */
	char *zeros = xcalloc(1, 100 << 20);
	size_t bomblen = gz(zeros, 100 << 20, bomb, 1 << 20, 15 + 16);
	free(zeros);

	emit(s, FLOW_EV_END, body_flow(1, "gzip", g, glen, 0));
	emit(s, FLOW_EV_END, body_flow(2, "deflate", d, dlen, 0));
	emit(s, FLOW_EV_END, body_flow(3, "deflate", dz, dzlen, 0));
	emit(s, FLOW_EV_END, body_flow(4, "br", b, blen, 0));
	emit(s, FLOW_EV_END, body_flow(5, "zstd", z, zlen, 0));
	emit(s, FLOW_EV_END, body_flow(6, "gzip, br", gb, gblen, 0));
	emit(s, FLOW_EV_END, body_flow(7, "gzip", "not gzip at all", 15, 0));
	emit(s, FLOW_EV_END, body_flow(8, "gzip", bomb, bomblen, 0));
	emit(s, FLOW_EV_END, body_flow(9, "gzip", g, glen / 2, 1));  /* cut off, marked truncated */
	emit(s, FLOW_EV_END, body_flow(10, "gzip", g, glen / 2, 0)); /* cut off, not marked */
	emit(s, FLOW_EV_END, body_flow(11, "compress", "x", 1, 0));
	emit(s, FLOW_EV_END, body_flow(12, "identity", "plain", 5, 0));
	emit(s, FLOW_EV_END, body_flow(13, NULL, "", 0, 0));
	store_close(s);

	struct store_reader *r = store_reader_open(p, err, sizeof err);
	for (uint64_t id = 1; id <= 6; id++) {
		struct sink k = {0};
		int rc = store_body(r, id, 1, 1, on_chunk, &k, err, sizeof err);
		ok(rc == 0 && k.len == plen && memcmp(k.data, plain, plen) == 0);
		if (rc != 0)
			fprintf(stderr, "  flow %llu: %s\n", (unsigned long long)id, err);
		ok(k.calls >= 2); /* streamed in pieces */
		free(k.data);
	}
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.len == glen &&
	   memcmp(k.data, g, glen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 7, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(strstr(err, "gzip") != NULL);
	ok(store_body(r, 8, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(strstr(err, "larger") != NULL);
	ok(store_body(r, 9, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.len > 0 &&
	   memcmp(k.data, plain, k.len) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 10, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(store_body(r, 11, 1, 1, on_chunk, &k, err, sizeof err) == -1 && strstr(err, "compress"));
	ok(store_body(r, 12, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.len == 5);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 13, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 13, 0, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 99, 1, 0, on_chunk, &k, err, sizeof err) == -1 &&
	   strcmp(err, "no such flow") == 0);
	/* The consumer can stop early. */
	k.stop_after = 1;
	ok(store_body(r, 1, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 1);
	free(k.data);
	/* The decoded text is what body filters search. */
	struct filter *flt = filter_compile("~bs 'klmnop'", err, sizeof err);
	uint64_t total = 0;
	struct collect c = {0};
	ok(store_list(r, flt, 0, 50, on_flow, &c, &total, err, sizeof err) == 0);
	ok(total == 7); /* 1-6 and the cut-off 9; not 10 (fails, raw bytes searched) */
	filter_free(flt);
	store_reader_close(r);
	free(plain), free(g), free(d), free(dz), free(b), free(z), free(gb), free(bomb);
	free(p);
}

static void test_body_limit(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 10};
	struct store *s = store_open(p, &o, err, sizeof err);
	emit(s, FLOW_EV_END, body_flow(1, NULL, "0123456789abcdef", 16, 0));
	store_close(s);
	ok(q1(p, "SELECT response_truncated FROM flows WHERE id=1") == 1);
	ok(q1(p, "SELECT response_body_size FROM flows WHERE id=1") == 16);
	ok(q1(p, "SELECT length(data) FROM bodies WHERE id=3") == 10);
	free(p);
}

/* ---- large bodies as files beside the database ---- */

static int file_exists(const char *p, const char *name)
{
	char *f = xasprintf("%s-bodies/%s", p, name);
	struct stat st;
	int r = stat(f, &st) == 0;
	free(f);
	return r;
}

/* Body files in the store's directory (names starting with a digit). */
static int num_files(const char *p)
{
	char *d = xasprintf("%s-bodies", p);
	DIR *dp = opendir(d);
	free(d);
	int n = 0;
	for (struct dirent *de; dp && (de = readdir(dp));)
		n += de->d_name[0] >= '0' && de->d_name[0] <= '9';
	if (dp)
		closedir(dp);
	return n;
}

static void touch(const char *p, const char *name)
{
	char *f = xasprintf("%s-bodies/%s", p, name);
	FILE *fp = fopen(f, "w");
	if (fp) {
		fputs("orphan", fp);
		fclose(fp);
	}
	free(f);
}

/* A 1 MiB body and a content-encoded one over 300 KiB: kept as files, read back byte for
 * byte through store_get and store_body, searched by the body filters, skipped by the
 * indexer, removed with a rewrite, a delete and a clear. Small bodies stay in SQLite. */
static void test_body_files(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	struct store *s = store_open(p, &o, err, sizeof err);
	size_t blen = 1 << 20;
	char *big = noise(blen, 1);
	memcpy(big + 700000, "needle-in-a-file", 16);
	/* hex text compresses to about half: over 300 KiB stored, more decoded */
	size_t plen = 720000, cap = plen + 1000;
	char *plain = xmalloc(plen), *g = xmalloc(cap);
	char *hex = noise(plen, 3);
	for (size_t i = 0; i < plen; i++)
		plain[i] = "0123456789abcdef"[(unsigned char)hex[i] & 15];
	free(hex);
	memcpy(plain + 500000, "gz-needle-xyz", 13);
	size_t glen = gz(plain, plen, g, cap, 15 + 16);
	ok(glen > 300 * 1024);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, blen, 0));
	emit(s, FLOW_EV_END, body_flow(2, "gzip", g, glen, 0));
	emit(s, FLOW_EV_END, mkflow(3, "small.example", 200));
	wait_idle(s);

	/* where the bytes are */
	ok(file_exists(p, "3") && !file_exists(p, "3.text"));
	ok(file_exists(p, "5") && file_exists(p, "5.text"));
	ok(!file_exists(p, "7") && num_files(p) == 3);
	ok(q1(p, "SELECT ext*10+length(data) FROM bodies WHERE id=3") == 10);
	ok(q1(p, "SELECT ext*10+length(data)+(text IS NULL) FROM bodies WHERE id=5") == 31);
	ok(q1(p, "SELECT ext*1000000+length(data) FROM bodies WHERE id=7") == 18);
	ok(q1(p, "SELECT size FROM bodies WHERE id=3") == (long long)blen);

	/* store_get and store_body give the same bytes */
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == blen && memcmp(f->response.body.data, big, blen) == 0);
	ok(f && !f->response.body_truncated);
	flow_free(f);
	f = store_get(r, 2);
	ok(f && f->response.body.len == glen && memcmp(f->response.body.data, g, glen) == 0);
	flow_free(f);
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == blen && memcmp(k.data, big, blen) == 0 && k.calls >= 2); /* in pieces */
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 2, 1, 0, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == glen && memcmp(k.data, g, glen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 2, 1, 1, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == plen && memcmp(k.data, plain, plen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	k.stop_after = 1; /* the consumer can stop early */
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 1);
	free(k.data);
	store_reader_close(r);

	/* the body filters search the files: raw bytes, and the decoded text of flow 2 */
	ok(count_of(p, "~bs needle-in-a-file") == 1);
	ok(count_of(p, "~bs 'needle-in-a-f.le'") == 1);
	ok(count_of(p, "~bs 'gz-needle-x'") == 1);
	ok(count_of(p, "~b gz-needle & ~d body.example") == 1);
	ok(count_of(p, "~bq needle-in-a-file") == 0); /* requests have no body */
	ok(count_of(p, "~bs hello") == 1);	      /* the small one, in SQLite */

	/* the indexer lists the file bodies as checked, never indexes them */
	for (int i = 0; i < 500 && q1(p, "SELECT n FROM counts WHERE k=2") < 7; i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1 AND id IN (3,5)") == 2);
	ok(q1(p, "SELECT count(*) FROM body_fts WHERE rowid IN (3,5)") == 0);
	ok(q1(p, "SELECT count(*) FROM body_fts WHERE rowid=7") == 1);

	/* a large body rewritten with a small one: its file goes */
	struct flow *small = body_flow(1, NULL, "tiny", 4, 0);
	emit(s, FLOW_EV_END, small);
	wait_idle(s);
	ok(!file_exists(p, "3"));
	ok(streq_free(qs(p, "SELECT data FROM bodies WHERE id=3"), "tiny"));
	ok(q1(p, "SELECT ext FROM bodies WHERE id=3") == 0);
	ok(count_of(p, "~bs needle-in-a-file") == 0);
	/* a large body rewritten with another large one: one file, the new bytes */
	big[0] ^= 1;
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "3") && num_files(p) == 3);
	r = store_reader_open(p, err, sizeof err);
	f = store_get(r, 1);
	ok(f && f->response.body.len == blen && memcmp(f->response.body.data, big, blen) == 0);
	flow_free(f);
	store_reader_close(r);

	/* delete: both files of flow 2 go; the others stay */
	store_delete(s, 2);
	wait_idle(s);
	ok(!file_exists(p, "5") && !file_exists(p, "5.text") && file_exists(p, "3"));
	/* clear: every file goes */
	emit(s, FLOW_EV_END, body_flow(4, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "9"));
	store_clear(s);
	wait_idle(s);
	ok(num_files(p) == 0);
	/* flows after the clear get files again */
	emit(s, FLOW_EV_END, body_flow(20, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "41") && num_files(p) == 1);
	store_close(s);
	ok(streq_free(qs(p, "PRAGMA integrity_check"), "ok"));
	free(big), free(plain), free(g);
	free(p);
}

/* A store at p holding flow 1 with a 300000-byte response body of noise(seed), in its file
 * "3". Returns the body (caller frees). */
static char *one_big_body(const char *p, unsigned seed)
{
	char err[256];
	struct store_options o = {.body_limit = 1 << 22};
	struct store *s = store_open(p, &o, err, sizeof err);
	char *big = noise(300000, seed);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 300000, 0));
	store_close(s);
	return big;
}

/* Files no row refers to (a rolled-back batch, a crash mid-write) are swept at open; files
 * that rows refer to, and names that are not body files, stay. */
static void test_body_file_orphans(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	char *big = one_big_body(p, 4);
	ok(file_exists(p, "3"));
	touch(p, "99");
	touch(p, "3.text"); /* flow 1's body has no text: not referenced */
	touch(p, "41.text");
	touch(p, "5.tmp");
	touch(p, "keep-me");
	struct store *s = store_open(p, &o, err, sizeof err);
	ok(s != NULL);
	ok(file_exists(p, "3") && file_exists(p, "keep-me"));
	ok(!file_exists(p, "99") && !file_exists(p, "3.text") && !file_exists(p, "41.text"));
	ok(!file_exists(p, "5.tmp") && num_files(p) == 1);
	store_close(s);
	free(big);
	free(p);
}

/* A body file gone missing: the flow still reads, its body empty and truncated; filters and
 * streaming do not fail. */
static void test_body_file_missing(void)
{
	char *p = new_path(), err[256];
	char *big = one_big_body(p, 5);
	char *f3 = xasprintf("%s-bodies/3", p);
	ok(unlink(f3) == 0);
	free(f3);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == 0 && f->response.body_truncated);
	ok(f && f->response.body_size == 300000);
	flow_free(f);
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 1, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	store_reader_close(r);
	ok(count_of(p, "~bs x") == 0);
	ok(count_of(p, "~d body.example") == 1);
	free(big);
	free(p);
}

/* A body file that cannot be written (FLOWSCOPE_DB_MAX_FILE_BYTES stands in for a full disk)
 * never loses the flow: the body is kept in SQLite when it fits there, else stored empty and
 * marked truncated. */
static void test_body_file_write_fails(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	setenv("FLOWSCOPE_DB_MAX_FILE_BYTES", "1", 1);
	struct store *s = store_open(p, &o, err, sizeof err);
	char *big = noise(1 << 20, 6);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 1 << 20, 0));
	wait_idle(s);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.stored == 1 && st.dropped == 0);
	store_close(s);
	ok(num_files(p) == 0);
	ok(q1(p, "SELECT ext*10000000+length(data) FROM bodies WHERE id=3") == 1 << 20);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == 1 << 20 &&
	   memcmp(f->response.body.data, big, 1 << 20) == 0);
	flow_free(f);
	store_reader_close(r);

	/* No room in the database either: the flow is kept, its body empty and truncated. */
	char *p2 = new_path();
	setenv("FLOWSCOPE_DB_MAX_PAGES", "60", 1);
	s = store_open(p2, &o, err, sizeof err);
	unsetenv("FLOWSCOPE_DB_MAX_PAGES");
	unsetenv("FLOWSCOPE_DB_MAX_FILE_BYTES");
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 1 << 20, 0));
	emit(s, FLOW_EV_END, mkflow(2, "after.example", 200));
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 2 && st.dropped == 0 && st.last_error == NULL);
	/* the listener hears the summary as stored: that body is cut */
	ok(rec.n >= 1 && rec.id[0] == 1 && rec.truncated[0] == 1);
	store_close(s);
	ok(q1(p2, "SELECT count(*) FROM flows") == 2);
	ok(q1(p2, "SELECT response_truncated*10+response_body_size FROM flows WHERE id=1") ==
	   10 + (1 << 20));
	ok(q1(p2, "SELECT length(data)*10+truncated FROM bodies WHERE id=3") == 1);
	ok(streq_free(qs(p2, "PRAGMA integrity_check"), "ok"));
	free(p2);
	free(big);
	free(p);
}

/* Pages of the file name in dir that are in the page cache. */
static size_t cached_pages(const char *dir, const char *name)
{
	char *f = xasprintf("%s/%s", dir, name);
	int fd = open(f, O_RDONLY);
	free(f);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0)
		return fd >= 0 ? (close(fd), 0) : (size_t)-1;
	size_t pages = ((size_t)st.st_size + 4095) / 4096, n = 0;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	unsigned char *vec = xmalloc(pages);
	if (map != MAP_FAILED && mincore(map, (size_t)st.st_size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	free(vec);
	close(fd);
	return n;
}

/* A body that starts on a page boundary goes to its file past the page cache, all but its
 * last partial page, where the filesystem has direct I/O; any other goes through the cache.
 * Each reads back exact. */
static void test_body_file_direct(void)
{
	char *p = new_path(), *bdir = bodyfile_dir(p);
	size_t len = (1 << 20) + 123;
	char *src = noise(len + 1, 9), *al = xmalloc_aligned(4096, len + 1);
	memcpy(al, src, len + 1);
	ok(bodyfile_write(bdir, 1, BODYFILE_DATA, al, len) == 0);	   /* direct, then tail */
	ok(bodyfile_write(bdir, 2, BODYFILE_DATA, al, 1 << 20) == 0);	   /* direct only */
	ok(bodyfile_write(bdir, 3, BODYFILE_DATA, al + 1, len) == 0);	   /* not aligned */
	ok(bodyfile_write(bdir, 4, BODYFILE_TEXT, al, 3 * 4096 + 5) == 0); /* too small */

	/* Does this filesystem honour O_DIRECT? (tmpfs refuses it; ext4 with data=journal takes
	 * it and still goes through the cache.) */
	char *probe = xasprintf("%s/probe", bdir);
	int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0600);
	int direct_io = fd >= 0 && write(fd, al, 4096) == 4096;
	if (fd >= 0)
		close(fd);
	direct_io = direct_io && cached_pages(bdir, "probe") == 0;
	unlink(probe);
	free(probe);
	if (direct_io) {
		ok(cached_pages(bdir, "1") == 1); /* the tail page */
		ok(cached_pages(bdir, "2") == 0);
		ok(cached_pages(bdir, "3") == 257);
		ok(cached_pages(bdir, "4.text") == 4);
	} else {
		fprintf(stderr, "# %s has no direct I/O: every body goes through the cache\n",
			bdir);
	}

	struct {
		uint64_t id;
		enum bodyfile_kind kind;
		const char *want;
		size_t len;
	} back[] = {{1, BODYFILE_DATA, src, len},
		    {2, BODYFILE_DATA, src, 1 << 20},
		    {3, BODYFILE_DATA, src + 1, len},
		    {4, BODYFILE_TEXT, src, 3 * 4096 + 5}};
	for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
		char *got = NULL;
		size_t got_len = 0;
		ok(bodyfile_read(bdir, back[i].id, back[i].kind, &got, &got_len) == 0 &&
		   got_len == back[i].len && memcmp(got, back[i].want, got_len) == 0);
		free(got);
	}
	free(src), free(al), free(bdir), free(p);
}

/* Fresh bodies go in by groups (bodies.c): 40 flows in one batch, with a request body on some,
 * decoded text on others, a file for one, and a delete in between (a flush point); every body
 * reads back whole and the body filters find what the groups wrote. */
static void test_body_groups(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 26};
	struct store *s = store_open(p, &o, err, sizeof err);
	size_t plen = 2000, cap = 4000, big = (256 << 10) + 10; /* over SCHEMA_FTS_MAX_BYTES */
	char *plain = xmalloc(plen), *g = xmalloc(cap), *large = noise(big, 7);
	for (size_t i = 0; i < plen; i++)
		plain[i] = "group text qrstuv "[i % 18];
	size_t glen = gz(plain, plen, g, cap, 15 + 16);
	char body[64];
	for (uint64_t id = 1; id <= 40; id++) {
		struct flow *f;
		if (id == 7)
			f = body_flow(id, NULL, large, big, 0); /* a file */
		else if (id % 5 == 0)
			f = body_flow(id, "gzip", g, glen, 0); /* with its text */
		else {
			int n = snprintf(body, sizeof body, "body of flow %llu",
					 (unsigned long long)id);
			f = body_flow(id, NULL, body, (size_t)n, 0);
		}
		if (id % 3 == 0)
			flow_msg_add_body(&f->request, "request side", 12, 1 << 20);
		emit(s, FLOW_EV_BEGIN, mkflow(id, "body.example", 0));
		emit(s, FLOW_EV_END, f);
		if (id == 25)
			store_delete(s, 24);
	}
	store_close(s);

	ok(q1(p, "SELECT count(*) FROM flows") == 39);
	ok(q1(p, "SELECT count(*) FROM bodies") == 39 + 13 - 1);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE text IS NOT NULL") == 8);
	ok(q1(p, "SELECT ext FROM bodies WHERE id=15") == 1);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	for (uint64_t id = 1; id <= 40; id++) {
		struct sink k = {0};
		int rc = store_body(r, id, 1, 1, on_chunk, &k, err, sizeof err);
		int n = snprintf(body, sizeof body, "body of flow %llu", (unsigned long long)id);
		if (id == 24)
			ok(rc == -1);
		else if (id == 7)
			ok(rc == 0 && k.len == big && memcmp(k.data, large, big) == 0);
		else if (id % 5 == 0)
			ok(rc == 0 && k.len == plen && memcmp(k.data, plain, plen) == 0);
		else
			ok(rc == 0 && k.len == (size_t)n && memcmp(k.data, body, (size_t)n) == 0);
		free(k.data);
		memset(&k, 0, sizeof k);
		rc = store_body(r, id, 0, 0, on_chunk, &k, err, sizeof err);
		ok(id == 24 ? rc == -1 : rc == 0 && k.len == (id % 3 == 0 ? 12 : 0));
		free(k.data);
	}
	store_reader_close(r);
	ok(count_of(p, "~bs qrstuv") == 8);
	ok(count_of(p, "~bq 'request side'") == 12);
	ok(count_of(p, "~bs 'of flow 3[0-9]'") == 8);
	free(plain), free(g), free(large), free(p);
}

/* A flow written again without a body on one side (its BEGIN committed in an earlier batch):
 * a body stored before for that side goes; none is made when there was none. */
static void test_body_emptied(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct flow *a = mkflow(1, "empty.example", 0);
	flow_msg_add_body(&a->request, "first=1", 7, 1 << 20);
	emit(s, FLOW_EV_BEGIN, a);
	emit(s, FLOW_EV_BEGIN, mkflow(2, "empty.example", 0));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE id=2") == 1);
	struct flow *b = mkflow(1, "empty.example", 200);
	flow_buf_clear(&b->response.body);
	emit(s, FLOW_EV_END, b); /* both sides empty now */
	emit(s, FLOW_EV_END, mkflow(2, "empty.example", 200));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id=1") == 0);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id=2") == 1); /* the response's */
	ok(q1(p, "SELECT count(*) FROM bodies WHERE id=4") == 0);
	ok(q1(p, "SELECT request_body_size FROM flows WHERE id=1") == 0);
	store_close(s);
	free(p);
}

static const struct store_subtest subtests[] = {
    {"bodies", test_bodies},
    {"body_groups", test_body_groups},
    {"body_limit", test_body_limit},
    {"body_files", test_body_files},
    {"body_file_orphans", test_body_file_orphans},
    {"body_file_missing", test_body_file_missing},
    {"body_file_write_fails", test_body_file_write_fails},
    {"body_file_direct", test_body_file_direct},
    {"body_emptied", test_body_emptied},
};

int main(void)
{
	return store_fixture_run(subtests, sizeof subtests / sizeof subtests[0]);
}
