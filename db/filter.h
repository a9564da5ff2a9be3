/* SPDX-License-Identifier: MIT */
/* filter.h - mitmproxy's filter language (~d example.com & ~c 404, !~t json, ...), parsed once
 * into a tree that can be compiled to an SQL WHERE clause for the store, or evaluated directly
 * on an in-memory flow for live rules (intercept, block). Both give the same answer. */
#ifndef FILTER_H
#define FILTER_H

#include "flow.h"

#include <stddef.h>

struct filter;

/* Parses expr. NULL with a message naming the position ("at 7: unknown operator ~x") in err
 * when it is not valid. An empty or all-space expr matches everything. */
struct filter *filter_compile(const char *expr, char *err, size_t errlen);
void filter_free(struct filter *f); /* NULL is a no-op */

/* 1 when f matches flow, else 0. Body operators look at the stored (decoded) bodies. */
int filter_match(const struct filter *f, const struct flow *flow);

#endif
