/* SPDX-License-Identifier: MIT */
/* test_tombs.c - the writer's memory of removed flows (db/store/tombs.h): the clear watermark,
 * remembered deletes found until their END takes them, every other id still found after
 * removals in the middle of collision chains, and the set forgotten past its bound. */
#include "harness.h"
#include "tombs.h"

#include "util.h"

#include <stdint.h>

static void test_watermark(void)
{
	struct tombs t = {0};
	ok(tombs_is_gone(&t, 1, 0) == 0); /* nothing removed yet */
	t.gone_upto = 10;
	ok(tombs_is_gone(&t, 10, 1) == 1 && tombs_is_gone(&t, 1, 0) == 1);
	ok(tombs_is_gone(&t, 11, 1) == 0);
	tombs_clear(&t);
	ok(t.gone_upto == 10); /* a clear of the set keeps the watermark */
}

static void test_take(void)
{
	enum { N = 5000 };
	struct tombs t = {0};
	/* ids with a common stride crowd the same slots: long chains to delete from */
	for (uint64_t i = 1; i <= N; i++)
		tombs_add(&t, i * 1024, "test");
	tombs_add(&t, 1024, "test"); /* a second add of an id is no second entry */
	ok(t.num == N);
	int found = 0, stray = 0;
	for (uint64_t i = 1; i <= N; i++) {
		found += tombs_is_gone(&t, i * 1024, 0);
		stray += tombs_is_gone(&t, i * 1024 + 1, 0);
	}
	ok(found == N && stray == 0 && t.num == N);
	/* the END of every other flow comes: each is forgotten, the others stay findable */
	int took = 0;
	for (uint64_t i = 1; i <= N; i += 2)
		took += tombs_is_gone(&t, i * 1024, 1);
	ok(took == N / 2 && t.num == N / 2);
	found = 0;
	int left = 0;
	for (uint64_t i = 1; i <= N; i++) {
		int gone = tombs_is_gone(&t, i * 1024, 0);
		found += gone && i % 2 == 0;
		left += gone && i % 2 == 1;
	}
	ok(found == N / 2 && left == 0);
	for (uint64_t i = 2; i <= N; i += 2)
		tombs_is_gone(&t, i * 1024, 1);
	ok(t.num == 0 && tombs_is_gone(&t, 2048, 0) == 0);
	tombs_clear(&t);
}

static void test_bound(void)
{
	struct tombs t = {0};
	uint64_t n = 0;
	while (t.num == n) /* grows until the bound empties it */
		tombs_add(&t, ++n, "test");
	ok(n == 65537 && t.num == 1);
	ok(tombs_is_gone(&t, n, 0) == 1 && tombs_is_gone(&t, 1, 0) == 0);
	tombs_clear(&t);
	ok(t.num == 0 && t.ids == NULL);
}

int main(void)
{
	log_set_level(LOG_ERROR + 1);
	subtest("watermark", test_watermark);
	subtest("take", test_take);
	subtest("bound", test_bound);
	return harness_done();
}
