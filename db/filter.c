/* SPDX-License-Identifier: MIT */
/* filter.c - mitmproxy's filter language: parser, in-memory evaluator, SQL compiler.
 *
 * Grammar (mitmproxy's flowfilter.py precedence: "!" binds tightest, then "&", then "|", and
 * expressions written side by side are and-ed at the lowest level; we also allow that inside
 * parentheses):
 *
 *   seq     := or { or }              juxtaposition = and
 *   or      := and { "|" and }
 *   and     := unary { "&" unary }
 *   unary   := "!" unary | primary
 *   primary := "(" seq ")" | "~op" [arg] | arg      a bare arg means ~u arg
 *   arg     := word | 'quoted' | "quoted"           word: no space, ( ) ~ ' "
 *
 * In quotes a backslash escapes the next character; \t \n \r \f become those characters
 * (pyparsing's QuotedString). Regexes are PCRE2, caseless, compiled once at filter_compile()
 * so that a bad regex is reported with its position.
 *
 * Which flows operators look at, the same in both evaluators:
 *  - ~a ~b ~bq ~bs ~c ~h ~hq ~hs ~m ~q ~s ~t ~tq ~ts only ever match HTTP flows;
 *  - ~d matches the host of HTTP flows and tunnels; ~u the URL, "host:port" for a tunnel;
 *  - ~tcp matches tunnels (passed-through CONNECTs: the nearest thing to mitmproxy's TCP flows);
 *  - ~comment matches nothing: flows have no comment yet (its regex is still checked);
 *  - ~all matches everything; ~dns and ~udp match nothing (kept for compatibility).
 * Every operator is 0 or 1 in SQL (never NULL), so "!" means the same in both evaluators. */
#include "filter.h"

#include "bodyfile.h"
#include "codec.h"
#include "dbint.h"
#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* integer */
	OP_CODE,
};

enum argkind { ARG_NONE, ARG_REGEX, ARG_INT };

static const struct opdef {
	const char *name;
	enum op op;
	enum argkind arg;
} opdefs[] = {
    {"a", OP_ASSET, ARG_NONE},		{"all", OP_TRUE, ARG_NONE},
    {"b", OP_BODY, ARG_REGEX},		{"bq", OP_BODYQ, ARG_REGEX},
    {"bs", OP_BODYS, ARG_REGEX},	{"c", OP_CODE, ARG_INT},
    {"comment", OP_COMMENT, ARG_REGEX}, {"d", OP_DOMAIN, ARG_REGEX},
    {"dns", OP_FALSE, ARG_NONE},	{"dst", OP_DST, ARG_REGEX},
    {"e", OP_ERROR, ARG_NONE},		{"h", OP_HEAD, ARG_REGEX},
    {"hq", OP_HEADQ, ARG_REGEX},	{"hs", OP_HEADS, ARG_REGEX},
    {"http", OP_HTTP, ARG_NONE},	{"m", OP_METHOD, ARG_REGEX},
    {"marked", OP_MARKED, ARG_NONE},	{"q", OP_REQONLY, ARG_NONE},
    {"replay", OP_REPLAY, ARG_NONE},	{"s", OP_RESP, ARG_NONE},
    {"src", OP_SRC, ARG_REGEX},		{"t", OP_CTYPE, ARG_REGEX},
    {"tcp", OP_TCP, ARG_NONE},		{"tq", OP_CTYPEQ, ARG_REGEX},
    {"ts", OP_CTYPES, ARG_REGEX},	{"u", OP_URL, ARG_REGEX},
    {"udp", OP_FALSE, ARG_NONE},	{"websocket", OP_WEBSOCKET, ARG_NONE},
};

/* mitmproxy's ASSET_TYPES, as one regex over the response's Content-Type. */
static const char asset_re[] =
    "text/javascript|application/x-javascript|"
    "application/javascript|text/css|image/.*|font/.*|application/font.*";

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

static char *text_append(char *buf, size_t *len, size_t *cap, const char *s, size_t n);
static char *fts_query(const char *pat, size_t len);

struct parser {
	const char *s;
	size_t pos, len;
	char *err;
	size_t errlen;
	int failed;
	int depth;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	node_free(n->a);
	node_free(n->b);
	free(n->pattern);
	free(n->fts);
	pcre2_code_free(n->re);
	free(n);
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	free(f);
}

static void perr(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "at %zu: %s", pos, msg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

static int at_end(struct parser *p)
{
	skip_space(p);
	return p->pos >= p->len;
}

static struct node *mk(enum op op, struct node *a, struct node *b)
{
	struct node *n = xcalloc(1, sizeof *n);
	n->op = op;
	n->a = a;
	n->b = b;
	return n;
}

/* Reads an argument (word or quoted string) into a malloc'd buffer. NULL on error. */
static char *read_arg(struct parser *p, size_t *out_len, const char *opname)
{
	skip_space(p);
	size_t start = p->pos;
	if (p->pos >= p->len) {
		perr(p, start, "%s%s needs an argument", opname ? "~" : "",
		     opname ? opname : "expression");
		return NULL;
	}
	char q = p->s[p->pos];
	if (q == '\'' || q == '"') {
		char *out = xmalloc(p->len - p->pos + 1);
		size_t n = 0;
		p->pos++;
		for (;;) {
			if (p->pos >= p->len) {
				perr(p, start, "unterminated quoted string");
				free(out);
				return NULL;
			}
			char c = p->s[p->pos++];
			if (c == q)
				break;
			if (c == '\\' && p->pos < p->len) {
				c = p->s[p->pos++];
				c = c == 't'   ? '\t'
				    : c == 'n' ? '\n'
				    : c == 'r' ? '\r'
				    : c == 'f' ? '\f'
					       : c;
			}
			out[n++] = c;
		}
		out[n] = '\0';
		*out_len = n;
		return out;
	}
	while (p->pos < p->len && !is_space(p->s[p->pos]) && !strchr("()~'\"", p->s[p->pos]))
		p->pos++;
	if (p->pos == start) {
		if (opname)
			perr(p, start, "~%s needs an argument", opname);
		else
			perr(p, start, "unexpected '%c'", p->s[start]);
		return NULL;
	}
	*out_len = p->pos - start;
	return xstrndup(p->s + start, p->pos - start);
}

static pcre2_code *compile_re(const char *pat, size_t len, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_CASELESS, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "bad regex (%s at offset %zu)", (char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter on failure */
	return re;
}

static struct node *regex_node(struct parser *p, enum op op, size_t pos, char *pat, size_t len)
{
	char msg[200];
	struct node *n = mk(op, NULL, NULL);
	n->pattern = pat;
	n->pattern_len = len;
	n->re = compile_re(pat, len, msg, sizeof msg);
	if (op == OP_BODY || op == OP_BODYQ || op == OP_BODYS)
		n->fts = fts_query(pat, len);
	if (!n->re) {
		perr(p, pos, "%s", msg);
		node_free(n);
		return NULL;
	}
	return n;
}

/* For a regex that is a plain literal of 3 or more printable ASCII characters: an FTS5 query
 * matching bodies that contain all its trigrams ('"abc" AND "bcd" ...'), a superset of the
 * regex's matches (the trigram index folds case as the caseless regex does). NULL otherwise. */
static char *fts_query(const char *pat, size_t len)
{
	if (len < 3)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (pat[i] < 0x20 || pat[i] > 0x7e || strchr("\\^$.|?*+()[]{}", pat[i]))
			return NULL;
	char *q = NULL;
	size_t n = 0, cap = 0;
	q = text_append(q, &n, &cap, "", 0);
	size_t terms = len - 2, step = terms > 16 ? terms / 16 : 1; /* at most ~16 trigrams */
	for (size_t i = 0, k = 0; i < terms; i += step, k++) {
		if (k)
			q = text_append(q, &n, &cap, " AND ", 5);
		q = text_append(q, &n, &cap, "\"", 1);
		for (size_t j = i; j < i + 3; j++)
			q = text_append(q, &n, &cap, pat[j] == '"' ? "\"\"" : &pat[j],
					pat[j] == '"' ? 2 : 1);
		q = text_append(q, &n, &cap, "\"", 1);
	}
	return q;
}

static struct node *parse_seq(struct parser *p);

static struct node *parse_primary(struct parser *p)
{
	skip_space(p);
	size_t start = p->pos;
	if (p->pos >= p->len) {
		perr(p, start, "unexpected end of expression");
		return NULL;
	}
	char c = p->s[p->pos];
	if (c == '(') {
		if (++p->depth > 200) {
			perr(p, start, "too deeply nested");
			return NULL;
		}
		p->pos++;
		struct node *n = parse_seq(p);
		if (!n)
			return NULL;
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != ')') {
			perr(p, p->pos, "missing ')' for '(' at %zu", start);
			node_free(n);
			return NULL;
		}
		p->pos++;
		p->depth--;
		return n;
	}
	if (c == ')' || c == '&' || c == '|') {
		perr(p, start, "unexpected '%c'", c);
		return NULL;
	}
	if (c == '~') {
		size_t e = p->pos + 1;
		while (e < p->len &&
		       ((p->s[e] >= 'a' && p->s[e] <= 'z') || (p->s[e] >= 'A' && p->s[e] <= 'Z')))
			e++;
		size_t nlen = e - p->pos - 1;
		const struct opdef *d = NULL;
		for (size_t i = 0; i < sizeof opdefs / sizeof opdefs[0]; i++)
			if (strlen(opdefs[i].name) == nlen &&
			    memcmp(opdefs[i].name, p->s + p->pos + 1, nlen) == 0)
				d = &opdefs[i];
		if (!d || (e < p->len && !is_space(p->s[e]) && !strchr("()'\"", p->s[e]))) {
			size_t wl = e - p->pos;
			while (p->pos + wl < p->len && !is_space(p->s[p->pos + wl]) && wl < 30)
				wl++;
			perr(p, start, "unknown operator %.*s", (int)wl, p->s + p->pos);
			return NULL;
		}
		p->pos = e;
		if (d->op == OP_ASSET)
			return regex_node(p, OP_ASSET, start, xstrdup(asset_re), strlen(asset_re));
		if (d->arg == ARG_NONE)
			return mk(d->op, NULL, NULL);
		skip_space(p);
		size_t apos = p->pos;
		size_t alen;
		if (d->arg == ARG_INT) {
			/* Digits only, as pyparsing's Word(nums): "~c 200|~c 404" works. */
			while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
				p->pos++;
			size_t n = p->pos - apos;
			if (n == 0 && apos >= p->len) {
				perr(p, apos, "~%s needs an argument", d->name);
				return NULL;
			}
			if (n == 0 || n > 6) {
				size_t w = strcspn(p->s + apos, " \t\r\n()");
				perr(p, apos, "~%s needs a number, not '%.*s'", d->name,
				     (int)(w > 40 ? 40 : w), p->s + apos);
				return NULL;
			}
			struct node *nd = mk(d->op, NULL, NULL);
			nd->num = strtoll(p->s + apos, NULL, 10);
			return nd;
		}
		char *arg = read_arg(p, &alen, d->name);
		if (!arg)
			return NULL;
		return regex_node(p, d->op, apos, arg, alen);
	}
	size_t alen;
	char *arg = read_arg(p, &alen, NULL);
	if (!arg)
		return NULL;
	return regex_node(p, OP_URL, start, arg, alen);
}

static struct node *parse_unary(struct parser *p)
{
	skip_space(p);
	if (p->pos < p->len && p->s[p->pos] == '!') {
		if (++p->depth > 200) {
			perr(p, p->pos, "too deeply nested");
			return NULL;
		}
		p->pos++;
		struct node *a = parse_unary(p);
		p->depth--;
		return a ? mk(OP_NOT, a, NULL) : NULL;
	}
	return parse_primary(p);
}

/* A left-associative chain of next-level terms joined by the operator character ch. */
static struct node *parse_chain(struct parser *p, char ch, int op,
				struct node *(*next)(struct parser *p))
{
	struct node *n = next(p);
	while (n) {
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != ch)
			break;
		p->pos++;
		struct node *b = next(p);
		if (!b) {
			node_free(n);
			return NULL;
		}
		n = mk(op, n, b);
	}
	return n;
}

static struct node *parse_and(struct parser *p)
{
	return parse_chain(p, '&', OP_AND, parse_unary);
}

static struct node *parse_or(struct parser *p)
{
	return parse_chain(p, '|', OP_OR, parse_and);
}

static struct node *parse_seq(struct parser *p)
{
	struct node *n = parse_or(p);
	while (n && !at_end(p) && p->s[p->pos] != ')') {
		struct node *b = parse_or(p);
		if (!b) {
			node_free(n);
			return NULL;
		}
		n = mk(OP_AND, n, b);
	}
	return n;
}

struct filter *filter_compile(const char *expr, char *err, size_t errlen)
{
	struct parser p = {.s = expr ? expr : "", .err = err, .errlen = errlen};
	p.len = strlen(p.s);
	if (errlen)
		err[0] = '\0';
	struct filter *f = xcalloc(1, sizeof *f);
	if (at_end(&p))
		return f;
	f->root = parse_seq(&p);
	if (f->root && !at_end(&p))
		perr(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
	if (p.failed || !f->root) {
		if (!p.failed)
			perr(&p, p.pos, "invalid expression");
		filter_free(f);
		return NULL;
	}
	return f;
}

/* ---- shared derived values ---- */

static void put_u32(char *p, uint32_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)((v >> 24) & 0xff);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

char *db_headers_pack(const struct flow_msg *m, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < m->num_headers; i++)
		n += 8 + m->headers[i].name_len + m->headers[i].value_len;
	char *b = xmalloc(n ? n : 1), *p = b;
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		put_u32(p, (uint32_t)h->name_len);
		memcpy(p + 4, h->name, h->name_len);
		p += 4 + h->name_len;
		put_u32(p, (uint32_t)h->value_len);
		memcpy(p + 4, h->value, h->value_len);
		p += 4 + h->value_len;
	}
	*len = n;
	return b;
}

int db_headers_unpack(struct flow_msg *m, const void *blob, size_t len)
{
	const unsigned char *p = blob, *end = p + len;
	while (p < end) {
		if (end - p < 4)
			return -1;
		size_t nl = get_u32(p);
		if ((size_t)(end - p - 4) < nl + 4)
			return -1;
		const unsigned char *name = p + 4;
		size_t vl = get_u32(name + nl);
		if ((size_t)(end - (name + nl + 4)) < vl)
			return -1;
		const unsigned char *value = name + nl + 4;
		flow_msg_add_header(m, (const char *)name, nl, (const char *)value, vl);
		/* flow_msg_add_header copies with strndup: keep exact lengths even with NULs. */
		struct flow_header *h = &m->headers[m->num_headers - 1];
		free(h->name);
		free(h->value);
		h->name = xmalloc(nl + 1);
		memcpy(h->name, name, nl);
		h->name[nl] = '\0';
		h->value = xmalloc(vl + 1);
		memcpy(h->value, value, vl);
		h->value[vl] = '\0';
		p = value + vl;
	}
	return 0;
}

static char *text_append(char *buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 256;
		buf = xrealloc(buf, *cap);
	}
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return buf;
}

char *db_headers_text(const struct flow_msg *m, size_t *len)
{
	char *b = NULL;
	size_t n = 0, cap = 0;
	b = text_append(b, &n, &cap, "", 0);
	for (size_t i = 0; i < m->num_headers; i++) {
		b = text_append(b, &n, &cap, m->headers[i].name, m->headers[i].name_len);
		b = text_append(b, &n, &cap, ": ", 2);
		b = text_append(b, &n, &cap, m->headers[i].value, m->headers[i].value_len);
		b = text_append(b, &n, &cap, "\r\n", 2);
	}
	*len = n;
	return b;
}

char *db_headers_blob_text(const void *blob, size_t blen, size_t *len)
{
	struct flow_msg m = {0};
	if (db_headers_unpack(&m, blob, blen) != 0) {
		flow_msg_clear(&m);
		return NULL;
	}
	char *t = db_headers_text(&m, len);
	flow_msg_clear(&m);
	return t;
}

char *db_flow_url(const struct flow *f)
{
	const char *host = f->host ? f->host : "";
	int v6 = strchr(host, ':') != NULL;
	if (f->kind == FLOW_TUNNEL)
		return xasprintf("%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", f->port);
	const char *scheme = f->scheme ? f->scheme : "http";
	int dflt = (strcmp(scheme, "http") == 0 && f->port == 80) ||
		   (strcmp(scheme, "https") == 0 && f->port == 443) || f->port == 0;
	char port[16] = "";
	if (!dflt)
		snprintf(port, sizeof port, ":%u", f->port);
	return xasprintf("%s://%s%s%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port,
			 f->path ? f->path : "");
}

const char *db_msg_ctype(const struct flow_msg *m)
{
	const struct flow_header *h = flow_msg_header(m, "content-type");
	return h ? h->value : NULL;
}

const char *db_msg_cenc(const struct flow_msg *m)
{
	const struct flow_header *h = flow_msg_header(m, "content-encoding");
	return h ? h->value : NULL;
}

const char *db_body_text(const struct flow_msg *m, char **to_free, size_t *len)
{
	*to_free = NULL;
	*len = 0;
	if (!m->body.data || m->body.len == 0)
		return NULL;
	const char *enc = db_msg_cenc(m);
	if (codec_is_encoded(enc)) {
		char *out;
		size_t n;
		if (codec_decode_all(enc, m->body.data, m->body.len, m->body_truncated,
				     DB_DECODE_CAP, &out, &n) == 0) {
			*to_free = out;
			*len = n;
			return out;
		}
	}
	*len = m->body.len;
	return m->body.data;
}

/* ---- in-memory evaluation ---- */

static int re_search(const pcre2_code *re, const char *s, size_t len)
{
	if (!s)
		return 0;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int r = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return r >= 0;
}

static int re_str(const pcre2_code *re, const char *s)
{
	return s ? re_search(re, s, strlen(s)) : 0;
}

static int match_body(const pcre2_code *re, const struct flow_msg *m)
{
	char *tf;
	size_t len;
	const char *t = db_body_text(m, &tf, &len);
	int r = t ? re_search(re, t, len) : 0;
	free(tf);
	return r;
}

static int match_head(const pcre2_code *re, const struct flow_msg *m)
{
	if (!m->present)
		return 0;
	size_t len;
	char *t = db_headers_text(m, &len);
	int r = re_search(re, t, len);
	free(t);
	return r;
}

static int eval(const struct node *n, const struct flow *f)
{
	int http = f->kind == FLOW_HTTP;
	const struct flow_msg *rq = &f->request, *rs = &f->response;
	switch (n->op) {
	case OP_TRUE:
		return 1;
	case OP_FALSE:
	case OP_COMMENT:
		return 0;
	case OP_AND:
		return eval(n->a, f) && eval(n->b, f);
	case OP_OR:
		return eval(n->a, f) || eval(n->b, f);
	case OP_NOT:
		return !eval(n->a, f);
	case OP_ASSET:
		return http && rs->present && re_str(n->re, db_msg_ctype(rs));
	case OP_ERROR:
		return f->error != NULL;
	case OP_HTTP:
		return http;
	case OP_TCP:
		return f->kind == FLOW_TUNNEL;
	case OP_MARKED:
		return (f->flags & FLOW_F_MARKED) != 0;
	case OP_REPLAY:
		return (f->flags & FLOW_F_REPLAY) != 0 || f->replay_of != 0;
	case OP_WEBSOCKET:
		return (f->flags & FLOW_F_WEBSOCKET) != 0;
	case OP_REQONLY:
		return http && !rs->present;
	case OP_RESP:
		return http && rs->present;
	case OP_BODY:
		return http && (match_body(n->re, rq) || match_body(n->re, rs));
	case OP_BODYQ:
		return http && match_body(n->re, rq);
	case OP_BODYS:
		return http && match_body(n->re, rs);
	case OP_DOMAIN:
		return re_str(n->re, f->host ? f->host : "");
	case OP_DST:
		return f->server_addr[0] && re_str(n->re, f->server_addr);
	case OP_SRC:
		return f->client_addr[0] && re_str(n->re, f->client_addr);
	case OP_HEAD:
		return http && (match_head(n->re, rq) || match_head(n->re, rs));
	case OP_HEADQ:
		return http && match_head(n->re, rq);
	case OP_HEADS:
		return http && match_head(n->re, rs);
	case OP_METHOD:
		return http && re_str(n->re, rq->method);
	case OP_CTYPE:
		return http && (re_str(n->re, db_msg_ctype(rq)) ||
				(rs->present && re_str(n->re, db_msg_ctype(rs))));
	case OP_CTYPEQ:
		return http && re_str(n->re, db_msg_ctype(rq));
	case OP_CTYPES:
		return http && rs->present && re_str(n->re, db_msg_ctype(rs));
	case OP_URL: {
		char *u = db_flow_url(f);
		int r = re_str(n->re, u);
		free(u);
		return r;
	}
	case OP_CODE:
		return http && rs->present && rs->status == n->num;
	}
	return 0;
}

int filter_match(const struct filter *f, const struct flow *flow)
{
	if (!f || !f->root)
		return 1;
	return eval(f->root, flow);
}

/* ---- SQL ---- */

struct sqlb {
	char *s;
	size_t len, cap;
	struct filter_sql *q;
};

static void sput(struct sqlb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sput(struct sqlb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[1024];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	b->s = text_append(b->s, &b->len, &b->cap, tmp, (size_t)n);
}

static int param_str(struct sqlb *b, const char *s)
{
	struct filter_sql *q = b->q;
	q->params = xrealloc(q->params, (q->num_params + 1) * sizeof *q->params);
	q->params[q->num_params] = (struct filter_param){.s = s};
	return ++q->num_params;
}

static int param_int(struct sqlb *b, long long v)
{
	struct filter_sql *q = b->q;
	q->params = xrealloc(q->params, (q->num_params + 1) * sizeof *q->params);
	q->params[q->num_params] = (struct filter_param){.is_int = 1, .i = v};
	return ++q->num_params;
}

#define HTTP "flows.kind='http'"
/* Body operators: the flows whose bodies (of one side: " AND (id&1)=0|1") match. With a
 * literal, bodies the indexer has seen come from the trigram index, the rest from a regex scan
 * of those listed in unindexed and those above its watermark (see schema_v2 in store.c). The
 * regex always has the last word, so the index only ever narrows the candidates. */
static void body_sql(struct sqlb *b, const struct node *n, const char *side)
{
	int k = param_str(b, n->pattern);
	if (!n->fts) {
		sput(b,
		     "(flows.kind='http' AND flows.id IN (SELECT id>>1 FROM bodies WHERE "
		     "1%s AND regexp(?%d," DB_BODY_SQL ")))",
		     side, k);
		return;
	}
	int m = param_str(b, n->fts);
	sput(b,
	     "(flows.kind='http' AND flows.id IN (SELECT id>>1 FROM bodies WHERE id IN "
	     "(SELECT rowid FROM body_fts WHERE body_fts MATCH ?%d)%s AND "
	     "regexp(?%d," DB_BODY_SQL ") UNION ALL SELECT id>>1 FROM bodies WHERE "
	     "id > (SELECT n FROM counts WHERE k=2)%s AND regexp(?%d," DB_BODY_SQL ") "
	     "UNION ALL SELECT id>>1 FROM bodies WHERE id IN (SELECT id FROM unindexed)%s AND "
	     "regexp(?%d," DB_BODY_SQL ")))",
	     m, side, k, side, k, side, k);
}

#define HEAD_SQL "fs_hmatch(?%d,(SELECT %s FROM heads WHERE heads.id=flows.id))"

static void to_sql(struct sqlb *b, const struct node *n)
{
	int k;
	switch (n->op) {
	case OP_TRUE:
		sput(b, "1");
		return;
	case OP_FALSE:
	case OP_COMMENT:
		sput(b, "0");
		return;
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
	case OP_ASSET:
		k = param_str(b, asset_re);
		sput(b, "(" HTTP " AND flows.resp_present=1 AND regexp(?%d,flows.resp_ctype))", k);
		return;
	case OP_ERROR:
		sput(b, "(flows.error IS NOT NULL)");
		return;
	case OP_HTTP:
		sput(b, "(" HTTP ")");
		return;
	case OP_TCP:
		sput(b, "(flows.kind='tunnel')");
		return;
	case OP_MARKED:
		sput(b, "((flows.flags & %d) != 0)", FLOW_F_MARKED);
		return;
	case OP_REPLAY:
		sput(b, "((flows.flags & %d) != 0 OR flows.replay_of IS NOT NULL)", FLOW_F_REPLAY);
		return;
	case OP_WEBSOCKET:
		sput(b, "((flows.flags & %d) != 0)", FLOW_F_WEBSOCKET);
		return;
	case OP_REQONLY:
		sput(b, "(" HTTP " AND flows.resp_present=0)");
		return;
	case OP_RESP:
		sput(b, "(" HTTP " AND flows.resp_present=1)");
		return;
	case OP_BODY:
		body_sql(b, n, "");
		return;
	case OP_BODYQ:
	case OP_BODYS:
		body_sql(b, n, n->op == OP_BODYQ ? " AND (id&1)=0" : " AND (id&1)=1");
		return;
	case OP_DOMAIN:
		/* Regex over the distinct hosts, then an index lookup: far cheaper than running
		 * the regex on every row of a big store. */
		k = param_str(b, n->pattern);
		sput(b, "(flows.host IN (SELECT host FROM hosts WHERE regexp(?%d,host)))", k);
		return;
	case OP_DST:
		k = param_str(b, n->pattern);
		sput(b, "(flows.server_addr!='' AND regexp(?%d,flows.server_addr))", k);
		return;
	case OP_SRC:
		k = param_str(b, n->pattern);
		sput(b, "(flows.client_addr!='' AND regexp(?%d,flows.client_addr))", k);
		return;
	case OP_HEAD:
		k = param_str(b, n->pattern);
		sput(b, "(" HTTP " AND (" HEAD_SQL " OR " HEAD_SQL "))", k, "req_headers", k,
		     "resp_headers");
		return;
	case OP_HEADQ:
	case OP_HEADS:
		k = param_str(b, n->pattern);
		sput(b, "(" HTTP " AND " HEAD_SQL ")", k,
		     n->op == OP_HEADQ ? "req_headers" : "resp_headers");
		return;
	case OP_METHOD:
		k = param_str(b, n->pattern);
		sput(b, "(" HTTP " AND regexp(?%d,flows.method))", k);
		return;
	case OP_CTYPE:
		k = param_str(b, n->pattern);
		sput(b,
		     "(" HTTP " AND (regexp(?%d,flows.req_ctype) OR (flows.resp_present=1 AND "
		     "regexp(?%d,flows.resp_ctype))))",
		     k, k);
		return;
	case OP_CTYPEQ:
		k = param_str(b, n->pattern);
		sput(b, "(" HTTP " AND regexp(?%d,flows.req_ctype))", k);
		return;
	case OP_CTYPES:
		k = param_str(b, n->pattern);
		sput(b, "(" HTTP " AND flows.resp_present=1 AND regexp(?%d,flows.resp_ctype))", k);
		return;
	case OP_URL:
		k = param_str(b, n->pattern);
		sput(b, "regexp(?%d,flows.url)", k);
		return;
	case OP_CODE:
		/* status is NULL without a response and on tunnels (the writer makes sure), so
		 * IS is 0 there, never NULL; and the count needs only the status index. */
		k = param_int(b, n->num);
		sput(b, "(flows.status IS ?%d)", k);
		return;
	}
	sput(b, "0");
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
	pcre2_code *re = compile_re(pat, (size_t)sqlite3_value_bytes(argv[0]), err, sizeof err);
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
	tmp->re = compile_re(pat, (size_t)sqlite3_value_bytes(argv[0]), err, sizeof err);
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

static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	int t = sqlite3_value_type(argv[1]);
	if (t == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	struct sqlre tmp = {0};
	struct sqlre *r = sql_pattern(ctx, argv, &tmp);
	if (!r)
		return;
	const char *s = t == SQLITE_BLOB ? sqlite3_value_blob(argv[1])
					 : (const char *)sqlite3_value_text(argv[1]);
	size_t len = (size_t)sqlite3_value_bytes(argv[1]);
	sqlite3_result_int(ctx, sql_match(r, s ? s : "", len));
	tmp_clear(&tmp);
}

static void fn_hmatch(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	struct sqlre tmp = {0};
	struct sqlre *r = sql_pattern(ctx, argv, &tmp);
	if (!r)
		return;
	const void *blob = sqlite3_value_blob(argv[1]);
	size_t blen = (size_t)sqlite3_value_bytes(argv[1]);
	size_t len;
	char *t = db_headers_blob_text(blob ? blob : "", blen, &len);
	sqlite3_result_int(ctx, t ? sql_match(r, t, len) : 0);
	free(t);
	tmp_clear(&tmp);
}

int filter_sql_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function(db, "regexp", 2, flags, NULL, fn_regexp, NULL, NULL);
	if (rc == SQLITE_OK)
		rc =
		    sqlite3_create_function(db, "fs_hmatch", 2, flags, NULL, fn_hmatch, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = bodyfile_sql_register(db); /* DB_BODY_SQL reads large bodies through it */
	return rc;
}
