/* SPDX-License-Identifier: MIT */
/* harctx.h - where a HAR import's error goes: the caller's buffer, and the number of the entry
 * being read so that the message says where ("entry 3: request.url missing"). Shared by the
 * walker (syntax errors, cancel) and the reading of entries. An entry can also be refused
 * alone (harctx_skip()): it is valid HAR that flowscope cannot represent, so the import goes on
 * without it and reports why. Internal to db/. */
#ifndef HARCTX_H
#define HARCTX_H

#include <stddef.h>

struct harctx {
	char *err; /* borrowed: the caller's buffer of errlen bytes */
	size_t errlen;
	size_t entry;	/* 1-based number of the entry being read; 0: none (no "entry N: ") */
	char skip[160]; /* non-empty: why the entry being read is skipped (harctx_skip()) */
};

/* Formats the error into c->err, prefixed "entry N: " while an entry is read. Returns -1, so
 * that a reader can `return harctx_fail(c, ...)`. */
__attribute__((format(printf, 2, 3))) int harctx_fail(struct harctx *c, const char *fmt, ...);

/* The entry being read is skipped, not the file refused: formats why into c->skip (no
 * "entry N: " prefix; the first reason given wins) and returns -1, as harctx_fail() does, so
 * that the readers' error paths carry it out; whoever reads entries tells the two apart by
 * c->skip and clears it. */
__attribute__((format(printf, 2, 3))) int harctx_skip(struct harctx *c, const char *fmt, ...);

#endif
