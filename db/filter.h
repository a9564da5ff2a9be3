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

/* What an operator takes after it. */
enum filter_arg {
	FILTER_ARG_NONE,  /* nothing: ~e */
	FILTER_ARG_REGEX, /* a regex, quoted or a word: ~d example\.com */
	FILTER_ARG_INT,	  /* a number: ~c 404 */
};

/* One operator of the language, as filter_compile() reads it and the help describes it. */
struct filter_opinfo {
	const char *name; /* without the "~": "d", "websocket" */
	enum filter_arg arg;
	const char *help; /* one line of help */
};

/* The i-th operator filter_compile() accepts (from 0, in the order of the help: the common ones
 * first), or NULL past the last. Static data, never freed; the parser's own table, so that
 * the help cannot list what the parser does not take, nor leave out what it does. */
const struct filter_opinfo *filter_op(size_t i);

#endif
