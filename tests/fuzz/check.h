/* SPDX-License-Identifier: MIT */
/* check.h - check(expr) for fuzz targets: an invariant that does not hold prints itself and
 * aborts, which libFuzzer and the corpus replay both report as a failure. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define check(expr)                                                                                \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#expr);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
