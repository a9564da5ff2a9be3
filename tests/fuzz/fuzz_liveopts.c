/* SPDX-License-Identifier: MIT */
/* fuzz_liveopts.c - the live options document (liveopts.h). Invariants: a refused document
 * leaves the options as they were and says why; an accepted one gives sizes within their
 * bounds and booleans 0 or 1, and its dump reads back to the same options over any start. */
#include "liveopts.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300] = "";
	struct liveopts o, before;
	liveopts_defaults(&o);
	o.anticache = 1; /* a start other than the defaults */
	before = o;
	if (liveopts_parse((const char *)data, size, &o, err, sizeof err) != 0) {
		check(memcmp(&o, &before, sizeof o) == 0);
		check(err[0] != '\0');
		return 0;
	}
	check(o.ssl_insecure == 0 || o.ssl_insecure == 1);
	check(o.anticache == 0 || o.anticache == 1);
	check(o.body_limit <= LIVEOPTS_SIZE_MAX);
	check(o.intercept_budget >= 1 && o.intercept_budget <= LIVEOPTS_SIZE_MAX);
	char *text = liveopts_dump(&o);
	struct liveopts again;
	liveopts_defaults(&again);
	check(liveopts_parse(text, strlen(text), &again, err, sizeof err) == 0);
	check(memcmp(&o, &again, sizeof o) == 0);
	free(text);
	return 0;
}
