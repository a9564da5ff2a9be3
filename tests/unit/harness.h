/* SPDX-License-Identifier: MIT */
/* harness.h - the unit-test harness: ok(expr) counts a check, subtest() runs a named group,
 * harness_done() prints "N passed, N failed" (read by CI) and gives the exit status.
 * Include it from exactly one .c file per test binary. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>

static int harness_passed, harness_failed;
static const char *harness_current = "";

#define ok(expr)                                                                       \
	do {                                                                           \
		if (expr) {                                                            \
			harness_passed++;                                              \
		} else {                                                               \
			harness_failed++;                                              \
			fprintf(stderr, "FAIL %s: %s:%d: %s\n", harness_current,       \
				__FILE__, __LINE__, #expr);                            \
		}                                                                      \
	} while (0)

static inline void subtest(const char *name, void (*fn)(void))
{
	int before = harness_failed;
	harness_current = name;
	fn();
	fprintf(stderr, "%s %s\n", harness_failed == before ? "ok  " : "FAIL", name);
}

static inline int harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
