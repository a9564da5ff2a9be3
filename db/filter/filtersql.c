/* SPDX-License-Identifier: MIT */
/* filtersql.c - a parsed filter as an SQL WHERE clause over table flows, and the SQL functions
 * that clause calls (regexp, fs_hmatch; fs_body is bodyfile.c's). Every operator is 0 or 1 in
 * SQL (never NULL), so "!" means the same here as in filter_match(). Which rows each operator
 * looks at follows filter.c's design comment; the schema is store/schema.c's.
 *
 * Most operators are one template over the flows row (opsql[]); body operators look their
 * literal up in the trigram index first (body_sql()), and also match WebSocket messages
 * (messages_sql()). */
#include "filtersql.h"

#include "dbrow.h"
#include "filternode.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sqlb {
	char *s; /* the WHERE text so far; owned until handed to the filter_sql */
	size_t len, cap;
	struct filter_sql *q;
};

static void sput(struct sqlb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sput(struct sqlb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		while (b->len + (size_t)n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends a parameter; returns its position (?N). */
static int param(struct sqlb *b, struct filter_param p)
{
	struct filter_sql *q = b->q;
	q->params = xrealloc(q->params, (q->num_params + 1) * sizeof *q->params);
	q->params[q->num_params] = p;
	return ++q->num_params;
}

static int param_str(struct sqlb *b, const char *s)
{
	return param(b, (struct filter_param){.s = s});
}

#define HTTP "flows.kind='http'"
#define HEAD_SQL(col) "fs_hmatch(?%d,(SELECT " col " FROM heads WHERE heads.id=flows.id))"

/* What an operator's template is printed with. */
enum sqlarg {
	SQL_NONE,    /* nothing: the template as it is */
	SQL_FLAG,    /* %d: the FLOW_F_* bit in flag */
	SQL_PATTERN, /* ?%d (once or twice): the node's regex */
	SQL_ASSET,   /* ?%d: filter_asset_re */
	SQL_NUM,     /* ?%d: the node's number */
};

/* The operators that are one template over the flows row. */
static const struct opsql {
	enum sqlarg arg;
	int flag;
	const char *sql;
} opsql[FILTERNODE_NUM_OPS] = {
    [OP_TRUE] = {SQL_NONE, 0, "1"},
    [OP_FALSE] = {SQL_NONE, 0, "0"},
    [OP_ASSET] = {SQL_ASSET, 0,
		  "(" HTTP " AND flows.resp_present=1 AND regexp(?%d,flows.resp_ctype))"},
    [OP_ERROR] = {SQL_NONE, 0, "(flows.error IS NOT NULL)"},
    [OP_HTTP] = {SQL_NONE, 0, "(" HTTP ")"},
    [OP_HTTP2] = {SQL_NONE, 0, "(" HTTP " AND flows.req_version=20)"},
    [OP_TCP] = {SQL_NONE, 0, "(flows.kind='tunnel')"},
    [OP_MARKED] = {SQL_FLAG, FLOW_F_MARKED, "((flows.flags & %d) != 0 OR flows.mark!='')"},
    [OP_REPLAY] = {SQL_FLAG, FLOW_F_REPLAY,
		   "((flows.flags & %d) != 0 OR flows.replay_of IS NOT NULL)"},
    [OP_WEBSOCKET] = {SQL_FLAG, FLOW_F_WEBSOCKET, "((flows.flags & %d) != 0)"},
    [OP_REQONLY] = {SQL_NONE, 0, "(" HTTP " AND flows.resp_present=0)"},
    [OP_RESP] = {SQL_NONE, 0, "(" HTTP " AND flows.resp_present=1)"},
    /* ~d: the regex over the distinct hosts, then an index lookup: far cheaper than running
     * the regex on every row of a big store. */
    [OP_DOMAIN] = {SQL_PATTERN, 0,
		   "(flows.host IN (SELECT host FROM hosts WHERE regexp(?%d,host)))"},
    [OP_DST] = {SQL_PATTERN, 0, "(flows.server_addr!='' AND regexp(?%d,flows.server_addr))"},
    [OP_SRC] = {SQL_PATTERN, 0, "(flows.client_addr!='' AND regexp(?%d,flows.client_addr))"},
    [OP_COMMENT] = {SQL_PATTERN, 0, "(flows.comment!='' AND regexp(?%d,flows.comment))"},
    [OP_MARK] = {SQL_PATTERN, 0, "(flows.mark!='' AND regexp(?%d,flows.mark))"},
    [OP_MODE] = {SQL_PATTERN, 0, "(flows.mode IS NOT NULL AND regexp(?%d,flows.mode))"},
    [OP_HEAD] = {SQL_PATTERN, 0,
		 "(" HTTP " AND (" HEAD_SQL("req_headers") " OR " HEAD_SQL("resp_headers") "))"},
    [OP_HEADQ] = {SQL_PATTERN, 0, "(" HTTP " AND " HEAD_SQL("req_headers") ")"},
    [OP_HEADS] = {SQL_PATTERN, 0, "(" HTTP " AND " HEAD_SQL("resp_headers") ")"},
    [OP_METHOD] = {SQL_PATTERN, 0, "(" HTTP " AND regexp(?%d,flows.method))"},
    [OP_CTYPE] = {SQL_PATTERN, 0,
		  "(" HTTP " AND (regexp(?%d,flows.req_ctype) OR (flows.resp_present=1 AND "
		  "regexp(?%d,flows.resp_ctype))))"},
    [OP_CTYPEQ] = {SQL_PATTERN, 0, "(" HTTP " AND regexp(?%d,flows.req_ctype))"},
    [OP_CTYPES] = {SQL_PATTERN, 0,
		   "(" HTTP " AND flows.resp_present=1 AND regexp(?%d,flows.resp_ctype))"},
    [OP_URL] = {SQL_PATTERN, 0, "regexp(?%d,flows.url)"},
    /* status is NULL without a response and on tunnels (the writer makes sure), so IS is 0
     * there, never NULL; and the count needs only the status index. */
    [OP_CODE] = {SQL_NUM, 0, "(flows.status IS ?%d)"},
};

/* Body operators: the flows whose bodies (of one side: " AND (id&1)=0|1") match. With a
 * literal, bodies the indexer has seen come from the trigram index, the rest from a regex scan
 * of those listed in unindexed and those above its watermark (see schema_v2 in store/schema.c).
 * The regex always has the last word, so the index only ever narrows the candidates. */
static void body_sql(struct sqlb *b, const struct node *n, const char *side)
{
	int k = param_str(b, n->pattern);
	if (!n->fts) {
		sput(b,
		     "(flows.kind='http' AND flows.id IN (SELECT id>>1 FROM bodies WHERE "
		     "1%s AND regexp(?%d," FILTERSQL_BODY ")))",
		     side, k);
		return;
	}
	int m = param_str(b, n->fts);
	sput(b,
	     "(flows.kind='http' AND flows.id IN (SELECT id>>1 FROM bodies WHERE id IN "
	     "(SELECT rowid FROM body_fts WHERE body_fts MATCH ?%d)%s AND "
	     "regexp(?%d," FILTERSQL_BODY ") UNION ALL SELECT id>>1 FROM bodies WHERE "
	     "id > (SELECT n FROM counts WHERE k=2)%s AND regexp(?%d," FILTERSQL_BODY ") "
	     "UNION ALL SELECT id>>1 FROM bodies WHERE id IN (SELECT id FROM unindexed)%s AND "
	     "regexp(?%d," FILTERSQL_BODY ")))",
	     m, side, k, side, k, side, k);
}

/* Body operators over WebSocket messages, as mitmproxy's: ~b any message, ~bq the client's,
 * ~bs the server's (schema_v4 in store/schema.c). */
static void messages_sql(struct sqlb *b, const struct node *n)
{
	int k = param_str(b, n->pattern);
	sput(b, "flows.id IN (SELECT flow_id FROM ws_messages WHERE regexp(?%d,content)%s)", k,
	     n->op == OP_BODY	 ? ""
	     : n->op == OP_BODYQ ? " AND from_client=1"
				 : " AND from_client=0");
}

static void to_sql(struct sqlb *b, const struct node *n)
{
	switch (n->op) {
	case OP_AND:
	case OP_OR:
		sput(b, "(");
		to_sql(b, n->a);
		sput(b, n->op == OP_AND ? " AND " : " OR ");
		to_sql(b, n->b);
		sput(b, ")");
		return;
	case OP_NOT:
		sput(b, "(NOT ");
		to_sql(b, n->a);
		sput(b, ")");
		return;
	case OP_BODY:
	case OP_BODYQ:
	case OP_BODYS:
		sput(b, "(");
		body_sql(b, n,
			 n->op == OP_BODY    ? ""
			 : n->op == OP_BODYQ ? " AND (id&1)=0"
					     : " AND (id&1)=1");
		sput(b, " OR ");
		messages_sql(b, n);
		sput(b, ")");
		return;
	default:
		break;
	}
	const struct opsql *d = (unsigned)n->op < FILTERNODE_NUM_OPS ? &opsql[n->op] : NULL;
	if (!d || !d->sql) {
		sput(b, "0");
		return;
	}
	int k = 0;
	if (d->arg == SQL_FLAG)
		k = d->flag;
	else if (d->arg == SQL_PATTERN)
		k = param_str(b, n->pattern);
	else if (d->arg == SQL_ASSET)
		k = param_str(b, filter_asset_re);
	else if (d->arg == SQL_NUM)
		k = param(b, (struct filter_param){.is_int = 1, .i = n->num});
	sput(b, d->sql, k, k); /* a template that names ?%d twice means the same parameter */
}

void filter_sql_build(const struct filter *f, struct filter_sql *q)
{
	memset(q, 0, sizeof *q);
	struct sqlb b = {.q = q};
	if (!f || !f->root)
		sput(&b, "1");
	else
		to_sql(&b, f->root);
	q->where = b.s;
}

void filter_sql_clear(struct filter_sql *q)
{
	free(q->where);
	free(q->params);
	memset(q, 0, sizeof *q);
}

int filter_sql_bind(const struct filter_sql *q, sqlite3_stmt *st)
{
	for (int i = 0; i < q->num_params; i++) {
		const struct filter_param *p = &q->params[i];
		int rc = p->is_int ? sqlite3_bind_int64(st, i + 1, p->i)
				   : sqlite3_bind_text(st, i + 1, p->s, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* A compiled pattern kept as the statement's auxdata for argument 0. */
struct sqlre {
	pcre2_code *re;
	pcre2_match_data *md;
};

static void sqlre_free(void *p)
{
	struct sqlre *r = p;
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	free(r);
}

/* The compiled pattern of argv[0]: the statement's cached one, or a fresh one in *tmp when
 * SQLite does not keep auxdata (a non-constant pattern). NULL with the error set. */
static struct sqlre *sql_pattern(sqlite3_context *ctx, sqlite3_value **argv, struct sqlre *tmp)
{
	struct sqlre *r = sqlite3_get_auxdata(ctx, 0);
	if (r)
		return r;
	const char *pat = (const char *)sqlite3_value_text(argv[0]);
	if (!pat) {
		sqlite3_result_error(ctx, "regexp: NULL pattern", -1);
		return NULL;
	}
	char err[200];
	pcre2_code *re =
	    filter_compile_re(pat, (size_t)sqlite3_value_bytes(argv[0]), err, sizeof err);
	if (!re) {
		sqlite3_result_error(ctx, err, -1);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->re = re;
	r->md = pcre2_match_data_create_from_pattern(re, NULL);
	sqlite3_set_auxdata(ctx, 0, r, sqlre_free);
	struct sqlre *kept = sqlite3_get_auxdata(ctx, 0);
	if (kept)
		return kept;
	/* set_auxdata freed r already: compile a temporary one for this call. */
	tmp->re = filter_compile_re(pat, (size_t)sqlite3_value_bytes(argv[0]), err, sizeof err);
	tmp->md = pcre2_match_data_create_from_pattern(tmp->re, NULL);
	return tmp;
}

static void tmp_clear(struct sqlre *tmp)
{
	pcre2_match_data_free(tmp->md);
	pcre2_code_free(tmp->re);
}

static int sql_match(struct sqlre *r, const char *s, size_t len)
{
	return pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, 0, r->md, NULL) >= 0;
}

/* What regexp() and fs_hmatch() share: 0 for a NULL subject argv[1], else match(r, type,
 * subject) with the pattern of argv[0] (sql_pattern()) and the subject's type (read once). Called
 * once per row a filter scans: nothing is allocated but what match() allocates. */
static void regexp_call(sqlite3_context *ctx, sqlite3_value **argv,
			int (*match)(struct sqlre *r, int type, sqlite3_value *subject))
{
	int t = sqlite3_value_type(argv[1]);
	if (t == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	struct sqlre tmp = {0};
	struct sqlre *r = sql_pattern(ctx, argv, &tmp);
	if (!r)
		return;
	sqlite3_result_int(ctx, match(r, t, argv[1]));
	tmp_clear(&tmp);
}

/* A text or blob subject as it is. */
static int match_value(struct sqlre *r, int type, sqlite3_value *v)
{
	const char *s =
	    type == SQLITE_BLOB ? sqlite3_value_blob(v) : (const char *)sqlite3_value_text(v);
	size_t len = (size_t)sqlite3_value_bytes(v);
	return sql_match(r, s ? s : "", len);
}

/* A headers blob (dbrow.h) as its "Name: value" text; 0 for a malformed one. */
static int match_headers(struct sqlre *r, int type, sqlite3_value *v)
{
	(void)type;
	const void *blob = sqlite3_value_blob(v);
	size_t blen = (size_t)sqlite3_value_bytes(v);
	size_t len;
	char *t = dbrow_headers_blob_text(blob ? blob : "", blen, &len);
	int m = t ? sql_match(r, t, len) : 0;
	free(t);
	return m;
}

/* regexp(pattern, subject): 0 for a NULL subject. */
static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	regexp_call(ctx, argv, match_value);
}

/* fs_hmatch(pattern, headers_blob): the blob (dbrow.h) matched as its "Name: value" text; 0
 * for a NULL or malformed blob. */
static void fn_hmatch(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	regexp_call(ctx, argv, match_headers);
}

int filter_sql_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function(db, "regexp", 2, flags, NULL, fn_regexp, NULL, NULL);
	if (rc == SQLITE_OK)
		rc =
		    sqlite3_create_function(db, "fs_hmatch", 2, flags, NULL, fn_hmatch, NULL, NULL);
	return rc;
}
