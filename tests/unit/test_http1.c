/* SPDX-License-Identifier: MIT */
/* test_http1.c - the HTTP/1 glue: heads with case and order kept, bodies de-chunked, message
 * boundaries, upgrades, and smuggling shapes refused. Every message is also fed split at every
 * byte and must give the same events; the input ends right before a PROT_NONE page. */
#include "http1.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Records events as text: "H(...)", "B" merged per run of body bytes, "T(...)" (trailers),
 * "E". */
struct rec {
	char log[8192];
	size_t len;
	char body[8192];
	size_t body_len;
};

static void add(struct rec *r, const char *s)
{
	size_t n = strlen(s);
	if (r->len + n < sizeof r->log) {
		memcpy(r->log + r->len, s, n);
		r->len += n;
		r->log[r->len] = 0;
	}
}

static void on_head(void *arg, struct flow_msg *m)
{
	struct rec *r = arg;
	char buf[1024];
	if (m->method)
		snprintf(buf, sizeof buf, "H(%s %s %d", m->method, m->target, m->version);
	else
		snprintf(buf, sizeof buf, "H(%d %s %d", m->status, m->reason, m->version);
	add(r, buf);
	for (size_t i = 0; i < m->num_headers; i++) {
		snprintf(buf, sizeof buf, "|%s=%s", m->headers[i].name, m->headers[i].value);
		add(r, buf);
	}
	add(r, ")");
}

static void on_body(void *arg, const char *data, size_t len)
{
	struct rec *r = arg;
	if (r->body_len + len <= sizeof r->body) {
		memcpy(r->body + r->body_len, data, len);
		r->body_len += len;
	}
	add(r, "B");
}

static void on_end(void *arg)
{
	add(arg, "E");
}

static void on_trailers(void *arg, const struct flow_msg *t)
{
	char buf[1024];
	add(arg, "T(");
	for (size_t i = 0; i < t->num_headers; i++) {
		snprintf(buf, sizeof buf, "|%s=%s", t->headers[i].name, t->headers[i].value);
		add(arg, buf);
	}
	add(arg, ")");
}

#define GUARDED_SIZE (256 * 1024) /* readable bytes before the PROT_NONE page */
static char *guarded;		  /* GUARDED_SIZE bytes, then a PROT_NONE page */

static void guard_init(void)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	guarded = mmap(NULL, GUARDED_SIZE + pagesize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(guarded + GUARDED_SIZE, pagesize, PROT_NONE);
}

/* Copies s so that its last byte is the last readable byte. */
static const char *place(const char *s, size_t len)
{
	if (len > GUARDED_SIZE)
		abort();
	char *dst = guarded + GUARDED_SIZE - len;
	memcpy(dst, s, len);
	return dst;
}

struct result {
	struct rec rec;
	int error; /* -1 seen */
	const char *err;
	size_t consumed; /* bytes consumed before an upgrade or error */
	int upgraded;
	int keep_alive;
};

/* Feeds data in pieces cut at split (0: one piece), looping past stops as a caller would, then
 * a final empty feed and, for responses, finish when eof is set. Collapses "BB" runs so that
 * the log does not depend on the split. */
static void run(enum http1_side side, const char *method, const char *msg, size_t len, size_t split,
		int eof, struct result *res)
{
	memset(res, 0, sizeof *res);
	struct http1_sink sink = {on_head, on_body, on_end, &res->rec, on_trailers};
	struct http1 *p = http1_new(side, &sink);
	http1_set_request_method(p, method);
	size_t cuts[3] = {0, split ? split : len, len};
	for (int part = 0; part < 2 && !res->error && !res->upgraded; part++) {
		const char *piece = place(msg + cuts[part], cuts[part + 1] - cuts[part]);
		size_t plen = cuts[part + 1] - cuts[part], off = 0;
		while (off < plen) {
			ssize_t r = http1_feed(p, piece + off, plen - off, &res->err);
			if (r < 0) {
				res->error = 1;
				break;
			}
			off += (size_t)r;
			res->consumed += (size_t)r;
			if (http1_upgraded(p)) {
				res->upgraded = 1;
				break;
			}
		}
	}
	if (!res->error && !res->upgraded) {
		if (http1_feed(p, NULL, 0, &res->err) < 0)
			res->error = 1;
		res->upgraded = http1_upgraded(p);
	}
	if (!res->error && eof && http1_finish(p, &res->err) != 0)
		res->error = 1;
	res->keep_alive = http1_keep_alive(p);
	http1_free(p);
	/* Body callbacks come in as many pieces as the split makes: merge them. */
	char *w = res->rec.log;
	for (char *s = res->rec.log; *s; s++)
		if (!(*s == 'B' && w > res->rec.log && w[-1] == 'B'))
			*w++ = *s;
	*w = 0;
}

/* Runs msg unsplit, then split at every byte; every run must match the unsplit one. Returns
 * the unsplit result in *out. */
static int same_at_every_split(enum http1_side side, const char *method, const char *msg, int eof,
			       struct result *out)
{
	size_t len = strlen(msg);
	run(side, method, msg, len, 0, eof, out);
	int same = 1;
	for (size_t k = 1; k < len; k++) {
		struct result r;
		run(side, method, msg, len, k, eof, &r);
		if (strcmp(r.rec.log, out->rec.log) != 0 || r.rec.body_len != out->rec.body_len ||
		    memcmp(r.rec.body, out->rec.body, r.rec.body_len) != 0 ||
		    r.error != out->error || r.upgraded != out->upgraded ||
		    (r.upgraded && r.consumed != out->consumed)) {
			fprintf(stderr, "split %zu differs:\n  %s\n  %s\n", k, r.rec.log,
				out->rec.log);
			same = 0;
		}
	}
	return same;
}

/* A request message, without a method hint nor flags, through same_at_every_split(). */
static int request_splits(const char *msg, struct result *r)
{
	return same_at_every_split(HTTP1_REQUEST, NULL, msg, 0, r);
}

/* Whether the body the sink got is want. */
static int body_is(const struct result *r, const char *want)
{
	return r->rec.body_len == strlen(want) && memcmp(r->rec.body, want, r->rec.body_len) == 0;
}

static void test_get(void)
{
	struct result r;
	ok(request_splits("GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\n"
			  "X-MiXed-Case:  v a l \r\nEmpty:\r\nhost: dup\r\n\r\n",
			  &r));
	ok(!r.error);
	ok(strcmp(r.rec.log, "H(GET http://example.com/a?b=1 11|Host=example.com|"
			     "X-MiXed-Case=v a l |Empty=|host=dup)E") == 0);
	ok(r.keep_alive);
}

static void test_post_length(void)
{
	struct result r;
	ok(request_splits("POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", &r));
	ok(strcmp(r.rec.log, "H(POST /x 11|Content-Length=11)BE") == 0);
	ok(body_is(&r, "hello world"));
}

static void test_chunked(void)
{
	struct result r;
	ok(request_splits("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5;ext=1\r\nhello\r\n1\r\n \r\na\r\n0123456789\r\n0\r\n"
			  "Trailer: x\r\n\r\n",
			  &r));
	ok(!r.error);
	ok(strcmp(r.rec.log, "H(POST / 11|Transfer-Encoding=chunked)BT(|Trailer=x)E") == 0);
	ok(body_is(&r, "hello 0123456789"));
}

static void test_trailers(void)
{
	struct result r;
	/* each message's own trailers, case and order kept; none: no call */
	ok(request_splits("POST /1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "2\r\nab\r\n0\r\nGrpc-Status: 0\r\nX-Sum:  d41d8 \r\n\r\n"
			  "POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
			  "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "1\r\nc\r\n0\r\nx-one: 1\r\n\r\n",
			  &r));
	ok(!r.error);
	ok(strcmp(r.rec.log, "H(POST /1 11|Transfer-Encoding=chunked)BT(|Grpc-Status=0|"
			     "X-Sum=d41d8 )EH(POST /2 11|Transfer-Encoding=chunked)E"
			     "H(POST /3 11|Transfer-Encoding=chunked)BT(|x-one=1)E") == 0);
	struct result rs;
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "3\r\nabc\r\n0\r\nExpires: never\r\n\r\n";
	for (size_t split = 0; split < strlen(resp); split++) {
		run(HTTP1_RESPONSE, "GET", resp, strlen(resp), split, 0, &rs);
		ok(!rs.error && strcmp(rs.rec.log, "H(200 OK 11|Transfer-Encoding=chunked)B"
						   "T(|Expires=never)E") == 0);
	}
	/* a trailer line that is not a field is malformed */
	const char *bad =
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n";
	run(HTTP1_REQUEST, NULL, bad, strlen(bad), 0, 0, &rs);
	ok(rs.error);
}

static void test_pipelined(void)
{
	struct result r;
	ok(request_splits("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"
			  "GET /3 HTTP/1.0\r\n\r\n",
			  &r));
	ok(strcmp(r.rec.log, "H(GET /1 11|Host=a)EH(POST /2 11|Host=a|Content-Length=2)BE"
			     "H(GET /3 10)E") == 0);
	ok(!r.keep_alive); /* HTTP/1.0 without keep-alive */
}

static void test_responses(void)
{
	struct result r;
	ok(same_at_every_split(HTTP1_RESPONSE, "GET",
			       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 0, &r));
	ok(strcmp(r.rec.log, "H(200 OK 11|Content-Length=3)BE") == 0);
	ok(r.keep_alive);

	ok(same_at_every_split(HTTP1_RESPONSE, "GET",
			       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "3\r\nabc\r\n0\r\n\r\n",
			       0, &r));
	ok(strcmp(r.rec.log, "H(200 OK 11|Transfer-Encoding=chunked)BE") == 0);

	/* HTTP/1.0 body until close: ends at finish(), never reusable. */
	ok(same_at_every_split(HTTP1_RESPONSE, "GET",
			       "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil eof", 1, &r));
	ok(!r.error);
	ok(strcmp(r.rec.log, "H(200 OK 10|Server=x)BE") == 0);
	ok(r.rec.body_len == 9);
	ok(!r.keep_alive);

	/* HEAD: no body whatever Content-Length says; the next response parses. */
	ok(same_at_every_split(HTTP1_RESPONSE, "HEAD",
			       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0, &r));
	ok(strcmp(r.rec.log, "H(200 OK 11|Content-Length=100)E") == 0);
	ok(r.keep_alive);

	ok(same_at_every_split(HTTP1_RESPONSE, "GET", "HTTP/1.1 204 No Content\r\n\r\n", 0, &r));
	ok(strcmp(r.rec.log, "H(204 No Content 11)E") == 0);
	ok(same_at_every_split(HTTP1_RESPONSE, "GET",
			       "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", 0, &r));
	ok(strcmp(r.rec.log, "H(304 Not Modified 11|ETag=x)E") == 0);

	/* Expect: 100-continue: an interim response, then the real one. */
	ok(same_at_every_split(HTTP1_RESPONSE, "POST",
			       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
			       "Content-Length: 0\r\n\r\n",
			       0, &r));
	ok(strcmp(r.rec.log, "H(100 Continue 11)EH(201 Created 11|Content-Length=0)E") == 0);

	/* Cut short: finish() reports it. */
	run(HTTP1_RESPONSE, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 41, 0, 1,
	    &r);
	ok(r.error && r.err && strstr(r.err, "closed"));
}

static void test_upgrades(void)
{
	struct result r;
	const char *connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
			      "\x16\x03\x01 tls bytes";
	ok(request_splits(connect, &r));
	ok(r.upgraded);
	ok(strcmp(r.rec.log, "H(CONNECT example.com:443 11|Host=example.com:443)E") == 0);
	ok(r.consumed == strlen(connect) - strlen("\x16\x03\x01 tls bytes"));

	const char *ws_req = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
			     "Connection: Upgrade\r\n\r\n";
	ok(request_splits(ws_req, &r));
	ok(r.upgraded);
	const char *ws_resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			      "Connection: Upgrade\r\n\r\n\x81\x02hi";
	ok(same_at_every_split(HTTP1_RESPONSE, "GET", ws_resp, 0, &r));
	ok(r.upgraded);
	ok(r.consumed == strlen(ws_resp) - 4);
	ok(strstr(r.rec.log, "H(101 Switching Protocols") != NULL);
}

static int refused(enum http1_side side, const char *msg, const char **err)
{
	struct result r;
	int ok_all = same_at_every_split(side, "GET", msg, 0, &r);
	*err = r.err;
	if (r.error && r.err)
		fprintf(stderr, "  refused as: %s\n", r.err);
	return ok_all && r.error && r.err && *r.err;
}

static void test_bad(void)
{
	static const struct {
		enum http1_side side;
		const char *msg;
	} bad[] = {
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 5\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "zz\r\nhello\r\n0\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"},
	    /* obs-fold after an empty first line, in every header, with SP or HTAB */
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
			    "0\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A:\r\n\tv\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A: \r\n v\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\nX-A: v\r\n \r\n\r\n"},
	    {HTTP1_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
			     "0\r\n\r\n"},
	    /* chunk sizes no body could have */
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "ffffffffffffffff\r\nhello\r\n0\r\n\r\n"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "4000000000000001\r\nhello\r\n0\r\n\r\n"},
	    {HTTP1_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "ffffffffffffffff\r\nhello\r\n"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A\x01: v\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A : v\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/1.1\r\nX-A: v\x7f\r\n\r\n"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
			    "\r\nab"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"},
	    {HTTP1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"},
	    {HTTP1_REQUEST, "GET / HTTP/2.0\r\n\r\n"},
	    {HTTP1_REQUEST, "BREW / HTTP/1.1\r\n\r\n"},
	    {HTTP1_REQUEST, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"},
	    {HTTP1_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "5\r\nhelloXX\r\n"},
	    {HTTP1_RESPONSE, "HTTP/1.1 2000 OK\r\n\r\n"},
	};
	const char *err;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(refused(bad[i].side, bad[i].msg, &err));
	/* A huge head is refused instead of buffered. */
	size_t n = 70 * 1024;
	char *big = malloc(n + 64);
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'a', n);
	strcpy(big + 19 + n, "\r\n\r\n");
	struct result r;
	run(HTTP1_REQUEST, NULL, big, strlen(big), 0, 0, &r);
	ok(r.error && r.err && strstr(r.err, "too large"));
	free(big);
}

static void test_reset(void)
{
	/* After a refused upgrade the caller resets and parses the next request. */
	struct rec rec = {0};
	struct http1_sink sink = {on_head, on_body, on_end, &rec, on_trailers};
	struct http1 *p = http1_new(HTTP1_REQUEST, &sink);
	const char *err = NULL;
	const char *ws = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	ssize_t r = http1_feed(p, ws, strlen(ws), &err);
	ok(r == (ssize_t)strlen(ws) && http1_in_message(p) && !http1_in_head(p));
	ok(http1_feed(p, NULL, 0, &err) == 0 && http1_upgraded(p));
	ok(http1_feed(p, "GET", 3, &err) == 0);
	http1_reset(p);
	ok(!http1_upgraded(p));
	ok(http1_feed(p, "GET /2 HTTP/1.1\r\n\r\n", 19, &err) == 19);
	ok(strstr(rec.log, "H(GET /2 11)") != NULL);
	http1_free(p);
	http1_free(NULL);
}

int main(void)
{
	guard_init();
	subtest("get", test_get);
	subtest("post with length", test_post_length);
	subtest("chunked", test_chunked);
	subtest("trailers", test_trailers);
	subtest("pipelined", test_pipelined);
	subtest("responses", test_responses);
	subtest("upgrades", test_upgrades);
	subtest("bad input", test_bad);
	subtest("reset", test_reset);
	return harness_done();
}
