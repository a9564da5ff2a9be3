/* SPDX-License-Identifier: MIT */
/* filternode.h - the parsed filter: a tree of operator nodes, built by filter_compile()
 * (filter.c), read by the in-memory evaluator beside it and by the SQL compiler
 * (filtersql.c). Internal to db/; types only, plus the two regex helpers both sides use. */
#ifndef FILTERNODE_H
#define FILTERNODE_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

enum op {
	OP_TRUE,
	OP_FALSE,
	OP_AND,
	OP_OR,
	OP_NOT,
	/* no argument */
	OP_ASSET,
	OP_ERROR,
	OP_HTTP,
	OP_HTTP2,
	OP_MARKED,
	OP_REQONLY,
	OP_REPLAY,
	OP_RESP,
	OP_TCP,
	OP_WEBSOCKET,
	/* regex */
	OP_BODY,
	OP_BODYQ,
	OP_BODYS,
	OP_DOMAIN,
	OP_DST,
	OP_HEAD,
	OP_HEADQ,
	OP_HEADS,
	OP_METHOD,
	OP_SRC,
	OP_CTYPE,
	OP_CTYPEQ,
	OP_CTYPES,
	OP_URL,
	OP_COMMENT,
	OP_MARK,
	OP_MODE,
	/* integer */
	OP_CODE,
};
#define FILTERNODE_NUM_OPS (OP_CODE + 1)

struct node {
	enum op op;
	struct node *a, *b; /* owned; operands of AND/OR (a, b) and NOT (a) */
	char *pattern;	    /* owned; regex text */
	size_t pattern_len;
	pcre2_code *re; /* owned */
	long long num;	/* ~c */
	char *fts;	/* owned; body operators: an FTS5 query for the trigrams of a regex
			 * that is a plain literal, or NULL */
};

struct filter {
	struct node *root; /* owned; NULL matches everything */
};

/* mitmproxy's ASSET_TYPES, as one regex over the response's Content-Type (~a). */
extern const char filter_asset_re[];

/* Compiles pat (len bytes) as our filters do: PCRE2, caseless, JIT when it can. Returns the
 * code (caller pcre2_code_free()s), or NULL with a message in err. */
pcre2_code *filter_compile_re(const char *pat, size_t len, char *err, size_t errlen);

#endif
