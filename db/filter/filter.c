/* SPDX-License-Identifier: MIT */
/* filter.c - mitmproxy's filter language: the parser and the in-memory evaluator (live rules:
 * intercept, block). The SQL compiler for stored flows is filtersql.c, over the same tree
 * (filternode.h).
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

#include "dbrow.h"
#include "filternode.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The operators: the parser reads this table, and the page's help is made from it
 * (filter_op(), GET /api/filter-help), so that the two cannot disagree. In the order of the
 * help: the common ones first, as mitmproxy's help lists them. */
static const struct opdef {
	struct filter_opinfo info;
	enum op op;
} opdefs[] = {
    {{"d", FILTER_ARG_REGEX, "domain: the host (of HTTP flows and tunnels)"}, OP_DOMAIN},
    {{"u", FILTER_ARG_REGEX, "URL (host:port for a tunnel); a bare word means ~u word"}, OP_URL},
    {{"m", FILTER_ARG_REGEX, "request method"}, OP_METHOD},
    {{"c", FILTER_ARG_INT, "response status code"}, OP_CODE},
    {{"h", FILTER_ARG_REGEX, "a request or response header (\"Name: value\")"}, OP_HEAD},
    {{"hq", FILTER_ARG_REGEX, "a request header"}, OP_HEADQ},
    {{"hs", FILTER_ARG_REGEX, "a response header"}, OP_HEADS},
    {{"b", FILTER_ARG_REGEX, "request or response body, or a WebSocket message"}, OP_BODY},
    {{"bq", FILTER_ARG_REGEX, "request body, or a client's WebSocket message"}, OP_BODYQ},
    {{"bs", FILTER_ARG_REGEX, "response body, or a server's WebSocket message"}, OP_BODYS},
    {{"t", FILTER_ARG_REGEX, "content type of the request or response"}, OP_CTYPE},
    {{"tq", FILTER_ARG_REGEX, "content type of the request"}, OP_CTYPEQ},
    {{"ts", FILTER_ARG_REGEX, "content type of the response"}, OP_CTYPES},
    {{"a", FILTER_ARG_NONE, "asset: a response of JavaScript, CSS, an image or a font"}, OP_ASSET},
    {{"q", FILTER_ARG_NONE, "a request with no response"}, OP_REQONLY},
    {{"s", FILTER_ARG_NONE, "has a response"}, OP_RESP},
    {{"e", FILTER_ARG_NONE, "has an error"}, OP_ERROR},
    {{"marked", FILTER_ARG_NONE, "marked flows (any colour)"}, OP_MARKED},
    {{"mark", FILTER_ARG_REGEX, "the colour of the mark (red, orange, yellow, green, blue, purple, grey)"}, OP_MARK},
    {{"replay", FILTER_ARG_NONE, "replays"}, OP_REPLAY},
    {{"websocket", FILTER_ARG_NONE, "WebSocket flows"}, OP_WEBSOCKET},
    {{"http", FILTER_ARG_NONE, "HTTP flows"}, OP_HTTP},
    {{"http2", FILTER_ARG_NONE, "HTTP/2 flows (the client spoke HTTP/2)"}, OP_HTTP2},
    {{"tcp", FILTER_ARG_NONE, "tunnels (CONNECTs passed through)"}, OP_TCP},
    {{"src", FILTER_ARG_REGEX, "client address (host:port)"}, OP_SRC},
    {{"dst", FILTER_ARG_REGEX, "server address (host:port)"}, OP_DST},
    {{"mode", FILTER_ARG_REGEX, "the listener it came through: mode@host:port (\"regular@127.0.0.1:8080\", \"reverse:http://h:3000@...\")"}, OP_MODE},
    {{"comment", FILTER_ARG_REGEX, "the flow's comment"}, OP_COMMENT},
    {{"all", FILTER_ARG_NONE, "every flow"}, OP_TRUE},
    {{"dns", FILTER_ARG_NONE, "DNS flows (not recorded: matches nothing)"}, OP_FALSE},
    {{"udp", FILTER_ARG_NONE, "UDP flows (not recorded: matches nothing)"}, OP_FALSE},
};

const struct filter_opinfo *filter_op(size_t i)
{
	return i < sizeof opdefs / sizeof opdefs[0] ? &opdefs[i].info : NULL;
}

const char filter_asset_re[] =
    "text/javascript|application/x-javascript|"
    "application/javascript|text/css|image/.*|font/.*|application/font.*";

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

pcre2_code *filter_compile_re(const char *pat, size_t len, char *err, size_t errlen)
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
	n->re = filter_compile_re(pat, len, msg, sizeof msg);
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
	size_t terms = len - 2, step = terms > 16 ? terms / 16 : 1; /* at most ~16 trigrams */
	/* each term at most ' AND "' + 3 doubled quotes + '"' */
	char *q = xmalloc((terms / step + 1) * 13 + 1), *o = q;
	for (size_t i = 0, k = 0; i < terms; i += step, k++) {
		if (k)
			o += sprintf(o, " AND ");
		*o++ = '"';
		for (size_t j = i; j < i + 3; j++) {
			if (pat[j] == '"')
				*o++ = '"';
			*o++ = pat[j];
		}
		*o++ = '"';
	}
	*o = '\0';
	return q;
}

static struct node *parse_seq(struct parser *p);

/* The number argument of operator d (~c), the operator's name and spaces read. */
static struct node *parse_num(struct parser *p, const struct opdef *d)
{
	size_t apos = p->pos;
	/* Digits only, as pyparsing's Word(nums): "~c 200|~c 404" works. */
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	size_t n = p->pos - apos;
	if (n == 0 && apos >= p->len) {
		perr(p, apos, "~%s needs an argument", d->info.name);
		return NULL;
	}
	if (n == 0 || n > 6) {
		size_t w = strcspn(p->s + apos, " \t\r\n()");
		perr(p, apos, "~%s needs a number, not '%.*s'", d->info.name,
		     (int)(w > 40 ? 40 : w), p->s + apos);
		return NULL;
	}
	struct node *nd = mk(d->op, NULL, NULL);
	nd->num = strtoll(p->s + apos, NULL, 10);
	return nd;
}

/* "~op [arg]" at p->pos. */
static struct node *parse_op(struct parser *p)
{
	size_t start = p->pos;
	size_t e = p->pos + 1;
	/* a name is letters, then maybe digits ("http2") */
	while (e < p->len &&
	       ((p->s[e] >= 'a' && p->s[e] <= 'z') || (p->s[e] >= 'A' && p->s[e] <= 'Z') ||
		(e > p->pos + 1 && p->s[e] >= '0' && p->s[e] <= '9')))
		e++;
	size_t nlen = e - p->pos - 1;
	const struct opdef *d = NULL;
	for (size_t i = 0; i < sizeof opdefs / sizeof opdefs[0]; i++)
		if (strlen(opdefs[i].info.name) == nlen &&
		    memcmp(opdefs[i].info.name, p->s + p->pos + 1, nlen) == 0)
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
		return regex_node(p, OP_ASSET, start, xstrdup(filter_asset_re),
				  strlen(filter_asset_re));
	if (d->info.arg == FILTER_ARG_NONE)
		return mk(d->op, NULL, NULL);
	skip_space(p);
	size_t apos = p->pos, alen;
	if (d->info.arg == FILTER_ARG_INT)
		return parse_num(p, d);
	char *arg = read_arg(p, &alen, d->info.name);
	if (!arg)
		return NULL;
	return regex_node(p, d->op, apos, arg, alen);
}

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
	if (c == '~')
		return parse_op(p);
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

/* A left-associative chain of next-level terms joined by the operator character ch, or with
 * ch 0 written side by side (up to the end or a ')'), each pair made a node of op. */
static struct node *parse_chain(struct parser *p, char ch, int op,
				struct node *(*next)(struct parser *p))
{
	struct node *n = next(p);
	while (n) {
		skip_space(p);
		if (p->pos >= p->len || (ch ? p->s[p->pos] != ch : p->s[p->pos] == ')'))
			break;
		if (ch)
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
	return parse_chain(p, 0, OP_AND, parse_or);
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
	const char *t = dbrow_body_text(m, &tf, &len);
	int r = t ? re_search(re, t, len) : 0;
	free(tf);
	return r;
}

static int match_head(const pcre2_code *re, const struct flow_msg *m)
{
	if (!m->present)
		return 0;
	size_t len;
	char *t = dbrow_headers_text(m, &len);
	int r = re_search(re, t, len);
	free(t);
	return r;
}

/* A ~b or ~h operator: over the request (~bq ~hq), the response (~bs ~hs), or either (the
 * request first). */
static int match_sides(const struct node *n, const struct flow *f,
		       int (*match)(const pcre2_code *re, const struct flow_msg *m))
{
	int req_only = n->op == OP_BODYQ || n->op == OP_HEADQ;
	int resp_only = n->op == OP_BODYS || n->op == OP_HEADS;
	return (!resp_only && match(n->re, &f->request)) ||
	       (!req_only && match(n->re, &f->response));
}

static int eval(const struct node *n, const struct flow *f)
{
	int http = f->kind == FLOW_HTTP;
	const struct flow_msg *rq = &f->request, *rs = &f->response;
	switch (n->op) {
	case OP_TRUE:
		return 1;
	case OP_FALSE:
		return 0;
	case OP_COMMENT:
		return f->comment && f->comment[0] && re_str(n->re, f->comment);
	case OP_MARK:
		return f->mark && f->mark[0] && re_str(n->re, f->mark);
	case OP_AND:
		return eval(n->a, f) && eval(n->b, f);
	case OP_OR:
		return eval(n->a, f) || eval(n->b, f);
	case OP_NOT:
		return !eval(n->a, f);
	case OP_ASSET:
		return http && rs->present && re_str(n->re, dbrow_msg_ctype(rs));
	case OP_ERROR:
		return f->error != NULL;
	case OP_HTTP:
		return http;
	case OP_HTTP2:
		return http && f->request.version == 20;
	case OP_TCP:
		return f->kind == FLOW_TUNNEL;
	case OP_MARKED:
		return (f->flags & FLOW_F_MARKED) != 0 || (f->mark && f->mark[0]);
	case OP_REPLAY:
		return (f->flags & FLOW_F_REPLAY) != 0 || f->replay_of != 0;
	case OP_WEBSOCKET:
		return (f->flags & FLOW_F_WEBSOCKET) != 0;
	case OP_REQONLY:
		return http && !rs->present;
	case OP_RESP:
		return http && rs->present;
	case OP_BODY:
	case OP_BODYQ:
	case OP_BODYS:
		return http && match_sides(n, f, match_body);
	case OP_DOMAIN:
		return re_str(n->re, f->host ? f->host : "");
	case OP_DST:
		return f->server_addr[0] && re_str(n->re, f->server_addr);
	case OP_SRC:
		return f->client_addr[0] && re_str(n->re, f->client_addr);
	case OP_MODE:
		return f->mode && re_str(n->re, f->mode);
	case OP_HEAD:
	case OP_HEADQ:
	case OP_HEADS:
		return http && match_sides(n, f, match_head);
	case OP_METHOD:
		return http && re_str(n->re, rq->method);
	case OP_CTYPE:
		return http && (re_str(n->re, dbrow_msg_ctype(rq)) ||
				(rs->present && re_str(n->re, dbrow_msg_ctype(rs))));
	case OP_CTYPEQ:
		return http && re_str(n->re, dbrow_msg_ctype(rq));
	case OP_CTYPES:
		return http && rs->present && re_str(n->re, dbrow_msg_ctype(rs));
	case OP_URL: {
		char *u = dbrow_flow_url(f);
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
