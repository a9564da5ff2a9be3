/* SPDX-License-Identifier: MIT */
/* test_filter.c - mitmproxy's filter language: every operator, precedence, quoting, errors
 * with their position, and agreement of the two evaluators: flows generated here are stored,
 * then every expression (hand-written and random) is run as SQL through store_list() and with
 * filter_match() on the in-memory flows, and both must pick the same flows. */
#include "filter.h"
#include "filtersql.h"
#include "harness.h"
#include "store.h"

#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static int compiles(const char *expr)
{
	char err[256];
	struct filter *f = filter_compile(expr, err, sizeof err);
	if (!f)
		fprintf(stderr, "  '%s': %s\n", expr, err);
	filter_free(f);
	return f != NULL;
}

/* 1 when expr fails with an error starting "at POS:" and containing what. */
static int fails_at(const char *expr, int pos, const char *what)
{
	char err[256], want[32];
	struct filter *f = filter_compile(expr, err, sizeof err);
	if (f) {
		filter_free(f);
		fprintf(stderr, "  '%s' compiled\n", expr);
		return 0;
	}
	snprintf(want, sizeof want, "at %d: ", pos);
	int r = strncmp(err, want, strlen(want)) == 0 && strstr(err, what) != NULL;
	if (!r)
		fprintf(stderr, "  '%s': got '%s'\n", expr, err);
	return r;
}

static struct flow *http_flow(const char *method, const char *host, const char *path, int status)
{
	struct flow *f = flow_new();
	f->kind = FLOW_HTTP;
	f->state = status ? FLOW_DONE : FLOW_PENDING;
	f->scheme = xstrdup("https");
	f->host = xstrdup(host);
	f->port = 443;
	f->path = xstrdup(path);
	snprintf(f->client_addr, sizeof f->client_addr, "192.168.1.7:51000");
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup(method);
	f->request.target = xstrdup(path);
	flow_msg_add_header(&f->request, "Host", 4, host, strlen(host));
	if (status) {
		f->response.present = 1;
		f->response.version = 11;
		f->response.status = status;
		f->response.reason = xstrdup("X");
		snprintf(f->server_addr, sizeof f->server_addr, "93.184.216.34:443");
	}
	return f;
}

static void hdr(struct flow_msg *m, const char *n, const char *v)
{
	flow_msg_add_header(m, n, strlen(n), v, strlen(v));
}

static int m(const char *expr, const struct flow *fl)
{
	char err[256];
	struct filter *f = filter_compile(expr, err, sizeof err);
	if (!f) {
		fprintf(stderr, "  '%s': %s\n", expr, err);
		return -1;
	}
	int r = filter_match(f, fl);
	filter_free(f);
	return r;
}

/* An expression and what m() should say of it. */
struct probe {
	const char *expr;
	int want;
};

/* Whether m() gives each of the n probes (up to the first without expr) what it wants. */
static int all_match(const struct probe *p, size_t n, const struct flow *fl)
{
	int all = 1;
	for (size_t i = 0; i < n && p[i].expr; i++)
		all &= m(p[i].expr, fl) == p[i].want;
	return all;
}

static void test_operators(void)
{
	struct flow *f = http_flow("POST", "api.example.com", "/v1/items?id=5", 404);
	hdr(&f->request, "Content-Type", "application/json");
	hdr(&f->request, "X-Token", "secret-42");
	hdr(&f->response, "Content-Type", "image/png");
	hdr(&f->response, "Server", "nginx");
	flow_msg_add_body(&f->request, "{\"name\":\"widget\"}", 17, 1000);
	flow_msg_add_body(&f->response, "PNGDATA", 7, 1000);
	ok(m("~a", f) == 1);
	/* each row: expressions and whether f matches them; one check a row */
	static const struct probe rows[][3] = {
	    {{"~b widget", 1}, {"~b PNGDATA", 1}, {"~b nothing", 0}},
	    {{"~bq widget", 1}, {"~bq PNGDATA", 0}},
	    {{"~bs PNGDATA", 1}, {"~bs widget", 0}},
	    {{"~c 404", 1}, {"~c 200", 0}, {"~c 40", 0}},
	    {{"~d api.example", 1}, {"~d ^example", 0}, {"~d API", 1}},
	    {{"~dst 93.184", 1}, {"~dst :443$", 1}, {"~dst 10.0", 0}},
	    {{"~src 192.168", 1}, {"~src 10\\.", 0}},
	    {{"~mode .", 0}},
	    {{"~e", 0}},
	    {{"~h x-token", 1}, {"~h 'Server: nginx'", 1}},
	    {{"~hq x-token", 1}, {"~hq nginx", 0}},
	    {{"~hs nginx", 1}, {"~hs token", 0}},
	    {{"~http", 1}, {"~tcp", 0}, {"~websocket", 0}},
	    {{"~http2", 0}, {"!~http2", 1}},
	    {{"~m post", 1}, {"~m GET", 0}},
	    {{"~marked", 0}, {"~replay", 0}},
	    {{"~q", 0}, {"~s", 1}},
	    {{"~t json", 1}, {"~t png", 1}, {"~t html", 0}},
	    {{"~tq json", 1}, {"~tq png", 0}},
	    {{"~ts png", 1}, {"~ts json", 0}},
	    {{"~u /v1/items", 1}, {"~u ^https://api", 1}, {"~u :443", 0}},
	    {{"items", 1}, {"nomatch", 0}},
	    {{"~comment .", 0}, {"~all", 1}},
	    {{"", 1}, {"   ", 1}},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		ok(all_match(rows[i], 3, f));
	f->flags = FLOW_F_MARKED | FLOW_F_WEBSOCKET;
	ok(m("~marked", f) == 1 && m("~websocket", f) == 1);
	f->replay_of = 3;
	ok(m("~replay", f) == 1);
	f->request.version = 20;
	ok(m("~http2", f) == 1 && m("~http2 & ~http", f) == 1);
	f->request.version = 11;
	flow_set_error(f, "boom");
	ok(m("~e", f) == 1);
	flow_free(f);

	/* A request without response. */
	f = http_flow("GET", "x.org", "/", 0);
	ok(m("~q", f) == 1 && m("~s", f) == 0 && m("~c 200", f) == 0 && m("!~c 200", f) == 1);
	ok(m("~hs .", f) == 0 && m("~dst .", f) == 0 && m("~a", f) == 0);
	ok(m("~u http://x.org/", f) == 0 && m("~u ^https://x.org/$", f) == 1);
	flow_free(f);

	/* A tunnel. */
	f = flow_new();
	f->kind = FLOW_TUNNEL;
	f->host = xstrdup("tunnel.net");
	f->port = 8443;
	ok(m("~tcp", f) == 1 && m("~http", f) == 0 && m("~d tunnel", f) == 1);
	ok(m("~u ^tunnel.net:8443$", f) == 1 && m("~q", f) == 0 && m("~s", f) == 0);
	ok(m("~m .", f) == 0 && m("~h .", f) == 0 && m("~b .", f) == 0 && m("~t .", f) == 0);
	flow_free(f);
}

static void test_gzip_body(void)
{
	struct flow *f = http_flow("GET", "z.org", "/", 200);
	hdr(&f->response, "Content-Encoding", "gzip");
	const char *text = "the needle in a haystack";
	char out[256];
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)text;
	z.avail_in = strlen(text);
	z.next_out = (unsigned char *)out;
	z.avail_out = sizeof out;
	deflate(&z, Z_FINISH);
	flow_msg_add_body(&f->response, out, z.total_out, 1000);
	deflateEnd(&z);
	ok(m("~bs needle", f) == 1 && m("~b haystack$", f) == 1 && m("~bq needle", f) == 0);
	flow_free(f);
}

static void test_precedence(void)
{
	struct flow *f = http_flow("GET", "a.com", "/p", 200);
	/* ! binds tighter than &, & tighter than |, juxtaposition is the loosest and. */
	ok(m("!~d a.com & ~c 200", f) == 0);
	ok(m("!(~d a.com & ~c 404)", f) == 1);
	ok(m("~d b.com & ~c 200 | ~m GET", f) == 1); /* (b & c) | m */
	ok(m("~d b.com & (~c 200 | ~m GET)", f) == 0);
	ok(m("~m GET | ~d b.com & ~c 404", f) == 1); /* m | (b & c404) */
	ok(m("(~m GET | ~d b.com) & ~c 404", f) == 0);
	ok(m("~d a.com ~c 404 | ~m GET", f) == 1); /* a & (c404 | m) */
	ok(m("~d b.com ~c 404 | ~m GET", f) == 0);
	ok(m("!!~d a.com", f) == 1);
	ok(m("! ~d a.com | ~c 200", f) == 1); /* (!a) | c */
	ok(m("!(~d a.com | ~c 200)", f) == 0);
	ok(m("~d a.com&~c 200", f) == 0);   /* as in mitmproxy, the word is "a.com&" */
	ok(m("~d 'a.com'&~c 200", f) == 1); /* a quote ends it */
	ok(m("~c 200&~d a.com", f) == 1);   /* a number ends at its last digit */
	ok(m("~c 200|~c 404", f) == 1);
	ok(m("((((~d a.com))))", f) == 1);
	flow_free(f);
}

static void test_quoting(void)
{
	struct flow *f = http_flow("GET", "q.com", "/a b/it's \"x\"\t", 200);
	hdr(&f->response, "X-Note", "two words");
	ok(m("~h 'two words'", f) == 1);
	ok(m("~h \"two words\"", f) == 1);
	ok(m("~h two words", f) == 0); /* "words" alone is a ~u that fails */
	ok(m("'a b/it'", f) == 1);
	ok(m("\"it's\"", f) == 1);
	ok(m("'it\\'s'", f) == 1);
	ok(m("'\"x\"\\t'", f) == 1);	/* \t in quotes is a tab */
	ok(m("\"\\\"x\\\"\"", f) == 1); /* escaped double quotes */
	ok(m("~u 'a b' & ~c 200", f) == 1);
	ok(m("~u \"\"", f) == 1);  /* empty regex matches */
	ok(m("~d Q.COM", f) == 1); /* case-insensitive */
	ok(m("~d q\\.com$", f) == 1);
	ok(m("~d 'q\\\\.com$'", f) == 1); /* in quotes, \\ is one backslash */
	flow_free(f);
}

static void test_errors(void)
{
	ok(fails_at("~x", 0, "unknown operator ~x"));
	ok(fails_at("~d foo ~x", 7, "unknown operator ~x"));
	ok(fails_at("~dfoo", 0, "unknown operator"));
	ok(fails_at("~d", 2, "~d needs an argument"));
	ok(fails_at("~d   ", 5, "~d needs an argument"));
	ok(fails_at("~c abc", 3, "number"));
	ok(fails_at("~c -1", 3, "number"));
	ok(fails_at("(~d a", 5, "missing ')'"));
	ok(fails_at("~d a )", 5, "unexpected ')'"));
	ok(fails_at("~d a &", 6, "unexpected end"));
	ok(fails_at("~d a | | ~d b", 7, "unexpected '|'"));
	ok(fails_at("& ~d a", 0, "unexpected '&'"));
	ok(fails_at("~d '[a'", 3, "bad regex"));
	ok(fails_at("~u 'abc", 3, "unterminated"));
	ok(fails_at("!", 1, "unexpected end"));
	ok(fails_at("()", 1, "unexpected ')'"));
	ok(fails_at("[", 0, "bad regex"));
	char deep[1200];
	memset(deep, '(', 600);
	deep[600] = '\0';
	ok(fails_at(deep, 200, "nested"));
	memset(deep, '!', 1000);
	strcpy(deep + 1000, "~a");
	ok(fails_at(deep, 200, "nested"));
	/* Every operator compiles. */
	const char *all[] = {"~a",	   "~b x",    "~bq x",	 "~bs x",   "~c 200", "~d x",
			     "~dst x",	   "~e",      "~h x",	 "~hq x",   "~hs x",  "~http",
			     "~m x",	   "~marked", "~q",	 "~replay", "~s",     "~src x",
			     "~t x",	   "~tq x",   "~ts x",	 "~tcp",    "~u x",   "~websocket",
			     "~comment x", "~all",    "~mode x", "bare"};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ok(compiles(all[i]));
	struct filter *none = filter_compile(NULL, deep, sizeof deep); /* NULL: matches all */
	ok(none != NULL && filter_match(none, NULL) == 1);
	filter_free(none);
	filter_free(NULL);
}

/* ---- agreement of SQL and filter_match ---- */

enum { NFLOWS = 400 };
static struct flow *flows[NFLOWS];
static char dbpath[256];

static void gen_flows(void)
{
	static const char *hosts[] = {"example.com",	"api.example.com", "cdn.static.net",
				      "tracker.ads.io", "h\xff.bin",	   ""};
	static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "OPTIONS"};
	static const char *paths[] = {"/",
				      "/index.html",
				      "/api/v1/users?id=7",
				      "/img/logo.png",
				      "/static/app.js",
				      "/search?q=needle"};
	static const char *ctypes[] = {
	    "text/html; charset=utf-8", "application/json", "image/png", "text/css",
	    "application/javascript",	"font/woff2",	    NULL};
	static const int statuses[] = {0, 200, 200, 204, 301, 404, 500};
	unsigned seed = 12345;
	for (int i = 0; i < NFLOWS; i++) {
		seed = seed * 1103515245 + 12345;
		unsigned r = seed >> 4;
		struct flow *f;
		if (r % 17 == 0) {
			f = flow_new();
			f->kind = FLOW_TUNNEL;
			f->state = FLOW_DONE;
			f->host = xstrdup(hosts[r % 5]);
			f->port = 443;
			f->bytes_up = r % 1000;
		} else {
			f = http_flow(methods[r % 5], hosts[(r >> 3) % 6], paths[(r >> 6) % 6],
				      statuses[(r >> 9) % 7]);
			if ((r >> 12) % 3 == 0)
				f->port = 8443;
			if ((r >> 14) % 2)
				f->scheme[4] = '\0'; /* "http" */
			const char *ct = ctypes[(r >> 15) % 7];
			if (ct && (r >> 18) % 2)
				hdr(&f->request, "Content-Type", ct);
			if (f->response.present) {
				const char *rct = ctypes[(r >> 19) % 7];
				if (rct)
					hdr(&f->response, "content-type", rct);
				hdr(&f->response, "Server", (r >> 22) % 2 ? "nginx" : "Apache");
				if ((r >> 23) % 3)
					flow_msg_add_body(&f->response, "hello needle world", 18,
							  (r >> 25) % 2 ? 1000 : 8);
			}
			if ((r >> 24) % 4 == 0)
				flow_msg_add_body(&f->request, "q=needle&x=\x01\xff", 13, 1000);
			else if ((r >> 24) % 4 == 1) /* binary: not in the trigram index */
				flow_msg_add_body(&f->request, "\0\x01NEEDLE\0", 10, 1000);
			else if ((r >> 24) % 16 == 2) { /* too big for the index */
				char *big = xmalloc(300000);
				memset(big, 'x', 300000);
				memcpy(big + 299990, "needle", 6);
				flow_msg_add_body(&f->request, big, 300000, 1 << 20);
				free(big);
			}
			if ((r >> 26) % 5 == 0)
				hdr(&f->request, "X-Secret", "Token-ABC");
		}
		if (r % 13 == 0)
			flow_set_error(f, "connection refused");
		if (r % 11 == 0)
			f->flags |= FLOW_F_MARKED;
		if (r % 19 == 0)
			f->flags |= FLOW_F_WEBSOCKET;
		if (r % 23 == 0)
			f->replay_of = 1;
		if (r % 29 == 0)
			f->flags |= FLOW_F_REPLAY;
		if (r % 7 == 0)
			f->client_addr[0] = '\0';
		static const char *modes[] = {"regular@127.0.0.1:8080", "socks5@[::1]:1080",
					      "reverse:https://h:8443@0.0.0.0:8082", NULL};
		flow_set_str(&f->mode, modes[(r >> 5) % 4]);
		flows[i] = f;
	}
}

static void store_flows(void)
{
	char err[256];
	snprintf(dbpath, sizeof dbpath, "/tmp/test_filter.%d.db", (int)getpid());
	remove(dbpath);
	struct store *s = store_open(dbpath, NULL, err, sizeof err);
	struct flow_sink sink = store_sink(s);
	for (int i = 0; i < NFLOWS; i++)
		sink.emit(sink.arg, FLOW_EV_END, flow_dup(flows[i]));
	if (!getenv("TEST_FILTER_NO_INDEX")) {
		/* Let the writer index every body (it does when idle), so the trigram path is
		 * what the literal body filters take. Every flow must be stored first: on a busy
		 * machine the writer may go idle, and index, between two parts of the flows. */
		sqlite3 *db;
		sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
		char sql[200];
		snprintf(sql, sizeof sql,
			 "SELECT (SELECT count(*) FROM flows) = %d AND "
			 "(SELECT n FROM counts WHERE k=2) >= (SELECT max(id) FROM bodies)",
			 NFLOWS);
		for (int i = 0; i < 3000; i++) {
			sqlite3_stmt *st;
			int done = 0;
			if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
				done = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
				sqlite3_finalize(st);
			}
			if (done)
				break;
			usleep(10000);
		}
		sqlite3_close(db);
	}
	store_close(s);
}

struct idset {
	char seen[NFLOWS + 1000];
	uint64_t base;
	int n;
};

static void on_flow(void *arg, const struct flow *f)
{
	struct idset *s = arg;
	s->seen[f->id - s->base] = 1;
	s->n++;
}

static int agree(struct store_reader *r, const char *expr)
{
	char err[256];
	struct filter *f = filter_compile(expr, err, sizeof err);
	if (!f) {
		fprintf(stderr, "  '%s': %s\n", expr, err);
		return 0;
	}
	struct idset *s = calloc(1, sizeof *s);
	s->base = flows[0]->id;
	uint64_t total = 0;
	int ok_ = store_list(r, f, 0, NFLOWS + 10, on_flow, s, &total, err, sizeof err) == 0;
	if (!ok_)
		fprintf(stderr, "  '%s': store_list: %s\n", expr, err);
	int bad = 0, n = 0;
	for (int i = 0; i < NFLOWS && ok_; i++) {
		int want = filter_match(f, flows[i]);
		n += want;
		if (want != s->seen[flows[i]->id - s->base]) {
			if (bad++ < 3)
				fprintf(stderr, "  '%s': flow %d: match %d, sql %d\n", expr, i,
					want, !want);
		}
	}
	ok_ = ok_ && bad == 0 && (uint64_t)n == total && n == s->n;
	free(s);
	filter_free(f);
	return ok_;
}

static const char *atoms[] = {
    "~a",
    "~b needle",
    "~bq needle",
    "~bs needle",
    "~bs 'world$'",
    "~b '\\x01'",
    "~c 200",
    "~c 404",
    "~c 0",
    "~d example",
    "~d ^api\\.",
    "~d '^$'",
    "~d '\\xff'",
    "~dst 93\\.",
    "~dst .",
    "~e",
    "~h nginx",
    "~h 'server: apache'",
    "~hq secret",
    "~hq .",
    "~hs .",
    "~hs 'Content-Type: image'",
    "~http",
    "~m ^(get|post)$",
    "~m DELETE",
    "~marked",
    "~q",
    "~replay",
    "~s",
    "~src 192",
    "~src .",
    "~mode .",
    "~mode ^regular@",
    "~mode '^reverse:https://h:8443'",
    "~mode @\\[::1\\]",
    "~t json",
    "~t 'text/(html|css)'",
    "~tq json",
    "~ts png",
    "~ts ^$",
    "~tcp",
    "~u index",
    "~u ^http://",
    "~u :8443/",
    "~u tracker.ads.io:443",
    "~websocket",
    "~http2",
    "~comment x",
    "~all",
    "needle",
    "'/api/v1'",
    "~u ''",
    "~bq NEEDLE",
    "~b 'needle world'",
    "~bs 'LLO NEE'",
    "~b ne",
    "~b '\\0'",
    "~bq 'e&x'",
};

/* The help table (filter_op()) is the parser's own: every operator it lists compiles with an
 * argument of its kind (and one that takes an argument refuses to go without); every name the
 * parser accepts is listed: all names of one and two letters are tried, and the longer ones
 * the parser's code handles (mitmproxy's list and ours), with near misses that must fail. */
static void test_help_table(void)
{
	char err[256], expr[64];
	size_t num = 0;
	for (const struct filter_opinfo *op; (op = filter_op(num)); num++) {
		ok(op->name && *op->name &&
		   strspn(op->name, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(op->name));
		ok(op->help && *op->help && !strchr(op->help, '\n'));
		for (size_t k = 0; k < num; k++)
			ok(strcmp(filter_op(k)->name, op->name) != 0);
		const char *arg = op->arg == FILTER_ARG_INT	? " 200"
				  : op->arg == FILTER_ARG_REGEX ? " x"
								: "";
		snprintf(expr, sizeof expr, "~%s%s", op->name, arg);
		struct filter *f = filter_compile(expr, err, sizeof err);
		ok(f != NULL);
		if (!f)
			fprintf(stderr, "  %s: %s\n", expr, err);
		filter_free(f);
		if (op->arg != FILTER_ARG_NONE) {
			snprintf(expr, sizeof expr, "~%s", op->name);
			f = filter_compile(expr, err, sizeof err);
			ok(f == NULL && strstr(err, "needs an argument"));
			filter_free(f);
		}
	}
	ok(num == 31);
	/* every one- and two-letter name: accepted exactly when listed */
	for (int a = 'a'; a <= 'z'; a++) {
		for (int b = 0; b <= 'z'; b = b ? b + 1 : 'a') {
			char name[3] = {(char)a, (char)b, 0};
			int listed = 0;
			for (size_t k = 0; k < num; k++)
				listed |= strcmp(filter_op(k)->name, name) == 0;
			snprintf(expr, sizeof expr, "~%s 1", name);
			struct filter *f = filter_compile(expr, err, sizeof err);
			ok((f != NULL) == listed);
			if ((f != NULL) != listed)
				fprintf(stderr, "  ~%s: parser %d, table %d\n", name, f != NULL,
					listed);
			filter_free(f);
		}
	}
	/* the longer names the parser handles, each listed; near misses refused */
	static const char *const longer[] = {"all",   "comment", "dns",	   "dst",      "http",
					     "http2", "mark",	 "marked", "mode",     "replay",
					     "src",   "tcp",	 "udp",	   "websocket"};
	size_t num_longer = 0;
	for (size_t k = 0; k < num; k++)
		num_longer += strlen(filter_op(k)->name) > 2;
	ok(num_longer == sizeof longer / sizeof *longer);
	for (size_t i = 0; i < sizeof longer / sizeof *longer; i++) {
		int listed = 0;
		for (size_t k = 0; k < num; k++)
			listed |= strcmp(filter_op(k)->name, longer[i]) == 0;
		ok(listed);
	}
	static const char *const misses[] = {"~marks", "~websockets", "~replays", "~al",
					     "~src2",  "~Marked",     "~"};
	for (size_t i = 0; i < sizeof misses / sizeof *misses; i++) {
		snprintf(expr, sizeof expr, "%s x", misses[i]);
		struct filter *f = filter_compile(expr, err, sizeof err);
		ok(f == NULL);
		filter_free(f);
	}
}

static void test_agreement(void)
{
	char err[256];
	gen_flows();
	store_flows();
	struct store_reader *r = store_reader_open(dbpath, err, sizeof err);
	ok(r != NULL);
	if (!r)
		return;
	size_t na = sizeof atoms / sizeof atoms[0];
	int good = 0, total = 0;
	for (size_t i = 0; i < na; i++) {
		total++;
		good += agree(r, atoms[i]);
		char neg[128];
		snprintf(neg, sizeof neg, "!%s", atoms[i]);
		total++;
		good += agree(r, neg);
	}
	/* Random combinations. */
	unsigned seed = 777;
	for (int k = 0; k < 300; k++) {
		char expr[512] = "";
		int parts = 2 + k % 4;
		for (int j = 0; j < parts; j++) {
			seed = seed * 1103515245 + 12345;
			unsigned r = seed >> 8;
			static const char *ops[] = {" & ", " | ", " ", " & !", " | !"};
			if (j)
				strcat(expr, ops[r % 5]);
			if (r % 7 == 0)
				strcat(expr, "(");
			strcat(expr, atoms[(r >> 4) % na]);
			if (r % 7 == 0)
				strcat(expr, ")");
		}
		total++;
		good += agree(r, expr);
	}
	ok(good == total);
	/* The literal ones used the trigram index; and it holds the text bodies. */
	struct filter *lit = filter_compile("~b needle", NULL, 0);
	struct filter_sql q;
	filter_sql_build(lit, &q);
	ok(strstr(q.where, "body_fts MATCH") != NULL);
	sqlite3 *db;
	sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *st;
	int indexed = 0, listed = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM body_fts), (SELECT count(*) FROM "
			       "unindexed)",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		indexed = sqlite3_column_int(st, 0);
		listed = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fprintf(stderr, "  bodies: %d in the trigram index, %d listed as unindexed\n", indexed,
		listed);
	ok(getenv("TEST_FILTER_NO_INDEX") || (indexed > 100 && listed > 10));
	filter_sql_clear(&q);
	filter_free(lit);
	fprintf(stderr, "  %d of %d expressions agree over %d flows\n", good, total, NFLOWS);
	store_reader_close(r);
	for (int i = 0; i < NFLOWS; i++)
		flow_free(flows[i]);
	char wal[300];
	remove(dbpath);
	snprintf(wal, sizeof wal, "%s-wal", dbpath);
	remove(wal);
	snprintf(wal, sizeof wal, "%s-shm", dbpath);
	remove(wal);
}

int main(void)
{
	log_set_level(LOG_ERROR + 1);
	subtest("operators", test_operators);
	subtest("gzip_body", test_gzip_body);
	subtest("precedence", test_precedence);
	subtest("quoting", test_quoting);
	subtest("errors", test_errors);
	subtest("agreement", test_agreement);
	subtest("help table", test_help_table);
	return harness_done();
}
