/* SPDX-License-Identifier: MIT */
/* test_replay.c - proxy_replay() end to end: a real proxy (proxy_new on port 0, started) with a
 * collecting sink replays requests to an origin on 127.0.0.1 that runs in this process and
 * logs every request's bytes as received. The question: does the upstream see exactly the
 * request we meant (as-is, edited with Content-Length recomputed and Host consistent, binary
 * bodies), over HTTP and HTTPS (verified and failing verification), and is every outcome
 * recorded as a new flow (done, or an error: refused, DNS, timeout, shutdown) with the id
 * proxy_replay() returned, BEGIN before the return, and in call order for one host? The origin,
 * the sink and the proxy are replay_fixture.h's. */
#include "replay_fixture.h"

/* ---- cases ---- */

static void test_as_is(void)
{
	char err[256] = "", host[64], want[512];
	snprintf(host, sizeof host, "127.0.0.1:%d", plain.port);
	struct flow *r = request("http", "127.0.0.1", plain.port, "GET", "/hello?a=1");
	hdr(r, "Host", host);
	hdr(r, "User-Agent", "curl/7.88.1");
	hdr(r, "Accept", "*/*");
	hdr(r, "Proxy-Connection", "Keep-Alive");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	ok(id != 7);
	ok(was_begun(id)); /* BEGIN before the return */
	struct flow *f = wait_end(id, 10);
	ok(f != NULL);
	if (!f)
		return;
	ok(f->state == FLOW_DONE);
	ok(f->error == NULL);
	ok(f->flags == FLOW_F_REPLAY);
	ok(f->replay_of == 7);
	ok(f->response.status == 200);
	ok(f->response.body.len == 7 && memcmp(f->response.body.data, "hello\r\n", 7) == 0);
	ok(strcmp(f->scheme, "http") == 0 && strcmp(f->host, "127.0.0.1") == 0);
	ok(strcmp(f->path, "/hello?a=1") == 0);
	ok(f->t.start > 0 && f->t.dns_done >= f->t.start && f->t.connect_done >= f->t.dns_done);
	ok(f->t.request_sent > 0 && f->t.first_byte >= f->t.connect_done);
	ok(f->t.end >= f->t.first_byte);
	ok(f->t.tls_done == 0);
	ok(f->bytes_up > 0 && f->bytes_down > 7);
	ok(strncmp(f->server_addr, "127.0.0.1:", 10) == 0);
	ok(origin_count(&plain) == 1);
	/* what the proxy sends for such a request: Proxy-Connection dropped, the rest as is */
	int n = snprintf(want, sizeof want,
			 "GET /hello?a=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
			 "Accept: */*\r\n\r\n",
			 host);
	ok(logged_is(&plain, 0, want, (size_t)n));

	/* the same again: a second, identical request and a second new flow */
	r = request("http", "127.0.0.1", plain.port, "GET", "/hello?a=1");
	hdr(r, "Host", host);
	hdr(r, "User-Agent", "curl/7.88.1");
	hdr(r, "Accept", "*/*");
	uint64_t id2 = proxy_replay(px, r, err, sizeof err);
	ok(id2 > id);
	ok(wait_end(id2, 10) != NULL);
	ok(origin_count(&plain) == 2);
	ok(logged_is(&plain, 1, want, (size_t)n));
}

static void test_edited(void)
{
	char err[256] = "", want[512];
	/* edited: method, path, headers and body changed; stale framing headers and Host */
	struct flow *r = request("http", "127.0.0.1", plain.port, "POST", "/echo/new?x=2");
	hdr(r, "Host", "old.example:1");
	hdr(r, "Content-Type", "application/json");
	hdr(r, "Transfer-Encoding", "chunked");
	hdr(r, "Content-Length", "999");
	hdr(r, "X-Edited", "yes");
	const char *body = "{\"edited\":true}";
	flow_msg_add_body(&r->request, body, strlen(body), 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	int n = snprintf(want, sizeof want,
			 "POST /echo/new?x=2 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 "X-Edited: yes\r\n\r\n%s",
			 plain.port, strlen(body), body);
	ok(logged_is(&plain, 0, want, (size_t)n));
	/* the recorded request is the one sent */
	ok(f && flow_msg_header(&f->request, "Transfer-Encoding") == NULL);
	const struct flow_header *cl = f ? flow_msg_header(&f->request, "Content-Length") : NULL;
	ok(cl && strcmp(cl->value, "15") == 0);
	ok(f && f->request.body.len == strlen(body) && f->request.body_size == strlen(body));
	ok(f && f->response.body.len == strlen(body) &&
	   memcmp(f->response.body.data, body, strlen(body)) == 0);

	/* no Host at all: one is added first; an empty POST gets Content-Length: 0 */
	origin_reset(&plain);
	r = request("http", "localhost", plain.port, "POST", "/echo");
	hdr(r, "Accept", "x/y");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	n = snprintf(want, sizeof want,
		     "POST /echo HTTP/1.1\r\nHost: localhost:%d\r\nAccept: x/y\r\n"
		     "Content-Length: 0\r\n\r\n",
		     plain.port);
	ok(logged_is(&plain, 0, want, (size_t)n));

	/* a Host that already names host:port (other case) is kept as it was */
	origin_reset(&plain);
	char h[64];
	snprintf(h, sizeof h, "LOCALHOST:%d", plain.port);
	r = request("http", "localhost", plain.port, "GET", "/k");
	hdr(r, "Host", h);
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	n = snprintf(want, sizeof want, "GET /k HTTP/1.1\r\nHost: %s\r\n\r\n", h);
	ok(logged_is(&plain, 0, want, (size_t)n));
}

/* A chunked request's trailers go again, in the last chunk, and are recorded; an HTTP/1.0 one
 * (no chunked coding) and an edit that gives a Content-Length send the body whole, without
 * them, and record none. */
static void test_trailers(void)
{
	char err[256] = "", want[512];
	struct flow *r = request("http", "127.0.0.1", plain.port, "POST", "/echo/t");
	hdr(r, "Transfer-Encoding", "chunked");
	hdr(r, "Trailer", "X-Checksum");
	flow_msg_add_body(&r->request, "hello", 5, 1 << 20);
	flow_msg_add_trailer(&r->request, "X-Checksum", 10, "abc", 3);
	flow_msg_add_trailer(&r->request, "Content-Length", 14, "5", 1); /* never sent */
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	int n =
	    snprintf(want, sizeof want,
		     "POST /echo/t HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n"
		     "Trailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n",
		     plain.port);
	ok(logged_is(&plain, 0, want, (size_t)n));
	ok(f && f->request.num_trailers == 1 && strcmp(f->request.trailers[0].value, "abc") == 0);
	ok(f && f->request.body.len == 5);

	/* no body, no framing header (an h2 GET): chunked all the same, the last chunk only */
	origin_reset(&plain);
	r = request("http", "127.0.0.1", plain.port, "GET", "/t");
	flow_msg_add_trailer(&r->request, "X-Checksum", 10, "abc", 3);
	f = wait_end(proxy_replay(px, r, err, sizeof err), 10);
	n = snprintf(want, sizeof want,
		     "GET /t HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "0\r\nX-Checksum: abc\r\n\r\n",
		     plain.port);
	ok(logged_is(&plain, 0, want, (size_t)n));

	for (int edit = 0; edit < 2; edit++) {
		origin_reset(&plain);
		r = request("http", "127.0.0.1", plain.port, "POST", "/echo/t");
		r->request.version = edit ? 11 : 10;
		hdr(r, edit ? "Content-Length" : "Transfer-Encoding", edit ? "5" : "chunked");
		flow_msg_add_body(&r->request, "fixed", 5, 1 << 20);
		flow_msg_add_trailer(&r->request, "X-Checksum", 10, "abc", 3);
		f = wait_end(proxy_replay(px, r, err, sizeof err), 10);
		ok(f && f->state == FLOW_DONE && f->request.num_trailers == 0);
		n = snprintf(want, sizeof want,
			     "POST /echo/t HTTP/1.%d\r\nHost: 127.0.0.1:%d\r\nContent-Length: 5\r\n"
			     "\r\nfixed",
			     edit, plain.port);
		ok(logged_is(&plain, 0, want, (size_t)n));
	}
}

static void test_binary(void)
{
	char err[256] = "";
	unsigned char body[3000];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i * 7 + (i >> 8));
	memcpy(body + 10, "\r\n\r\n\0\0", 6);
	struct flow *r = request("http", "127.0.0.1", plain.port, "PUT", "/echo");
	hdr(r, "Content-Type", "application/octet-stream");
	hdr(r, "Content-Length", "3000");
	flow_msg_add_body(&r->request, (const char *)body, sizeof body, 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	pthread_mutex_lock(&plain.mu);
	int got = plain.num_log == 1 && plain.log_len[0] > sizeof body &&
		  memcmp(plain.log[0] + plain.log_len[0] - sizeof body, body, sizeof body) == 0 &&
		  strstr(plain.log[0], "\r\nContent-Length: 3000\r\n") != NULL;
	pthread_mutex_unlock(&plain.mu);
	ok(got);
	/* /echo answers PUT like the default: the upstream got the bytes, that is the point */
	ok(f && f->request.body.len == sizeof body &&
	   memcmp(f->request.body.data, body, sizeof body) == 0);

	/* POST: the echo comes back byte for byte */
	r = request("http", "127.0.0.1", plain.port, "POST", "/echo");
	flow_msg_add_body(&r->request, (const char *)body, sizeof body, 1 << 20);
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.body.len == sizeof body &&
	   memcmp(f->response.body.data, body, sizeof body) == 0);
}

static void test_https(void)
{
	char err[256] = "";
	/* verifying proxy, origin's certificate trusted through SSL_CERT_FILE */
	struct flow *r = request("https", "localhost", secure.port, "POST", "/echo");
	flow_msg_add_body(&r->request, "secret", 6, 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	if (!f)
		return;
	if (f->error)
		fprintf(stderr, "https replay error: %s\n", f->error);
	ok(strcmp(f->scheme, "https") == 0);
	ok(f->response.body.len == 6 && memcmp(f->response.body.data, "secret", 6) == 0);
	ok(f->tls.version && strncmp(f->tls.version, "TLS", 3) == 0);
	ok(f->tls.cert_subject && strstr(f->tls.cert_subject, "localhost"));
	ok(f->tls.cipher != NULL);
	ok(f->t.tls_done >= f->t.connect_done && f->t.connect_done > 0);
	ok(f->t.first_byte >= f->t.tls_done);
	ok(origin_count(&secure) == 1);
	char want[256];
	int n = snprintf(want, sizeof want,
			 "POST /echo HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: 6\r\n\r\n"
			 "secret",
			 secure.port);
	ok(logged_is(&secure, 0, want, (size_t)n));

	/* a proxy that does not trust the origin: a verification error, nothing sent */
	setenv("SSL_CERT_FILE", empty_path, 1);
	struct proxy *strict = start_proxy(0, 1);
	r = request("https", "localhost", secure.port, "GET", "/x");
	id = proxy_replay(strict, r, err, sizeof err);
	ok(id != 0);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "TLS handshake") &&
	   strstr(f->error, "verif"));
	if (f && f->error)
		fprintf(stderr, "  (error was: %s)\n", f->error);
	ok(origin_count(&secure) == 1);
	stop_proxy(strict);

	/* --ssl-insecure: the same origin is fine */
	struct proxy *lax = start_proxy(1, 1);
	r = request("https", "127.0.0.1", secure.port, "GET", "/x");
	id = proxy_replay(lax, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	stop_proxy(lax);
	setenv("SSL_CERT_FILE", cert_path, 1);
}

static void test_failures(void)
{
	char err[256] = "";
	/* upstream down: a port nobody listens on, held (bound, never listening) until the check
	 * is done, so that no other process can listen there meanwhile */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	int dead_port = ntohs(sa.sin_port);
	struct flow *r = request("http", "127.0.0.1", dead_port, "GET", "/");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	ok(was_begun(id));
	struct flow *f = wait_end(id, 10);
	close(fd);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "refused"));
	ok(f && f->replay_of == 7 && (f->flags & FLOW_F_REPLAY));

	/* DNS */
	r = request("http", "nothing.invalid", 80, "GET", "/");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "DNS lookup"));

	/* timeout (FLOWSCOPE_TIMEOUT=2 here) */
	r = request("http", "127.0.0.1", plain.port, "GET", "/hang");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "did not answer"));

	/* refused before any flow exists: bad requests */
	size_t before = num_begun;
	r = request("http", "127.0.0.1", plain.port, "GE T", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "method"));
	r = request("http", "127.0.0.1", plain.port, "GET", "/");
	hdr(r, "X-Evil", "a\r\nInjected: 1");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "header"));
	r = request("ftp", "127.0.0.1", plain.port, "GET", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "scheme"));
	r = request("http", "a b", 80, "GET", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "host"));
	r = request("http", "127.0.0.1", plain.port, "GET", "/a b");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "path"));
	r = request("http", "127.0.0.1", plain.port, "POST", "/");
	flow_msg_add_body(&r->request, "abcdef", 6, 3); /* cut at a limit of 3 */
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "body"));
	ok(num_begun == before);
}

static void test_responses(void)
{
	char err[256] = "";
	/* HEAD: Content-Length without a body */
	struct flow *r = request("http", "127.0.0.1", plain.port, "HEAD", "/h");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200 && f->response.body.len == 0);
	/* an interim 100, then a body until close */
	r = request("http", "127.0.0.1", plain.port, "GET", "/close");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	ok(f && f->response.body.len == 11 &&
	   memcmp(f->response.body.data, "until close", 11) == 0);
}

static void test_order(void)
{
	char err[256] = "";
	uint64_t ids[20];
	for (int i = 0; i < 20; i++) {
		char path[32];
		snprintf(path, sizeof path, "/seq/%02d", i);
		ids[i] = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", path),
				      err, sizeof err);
		ok(ids[i] != 0);
	}
	int done = 0;
	for (int i = 0; i < 20; i++) {
		struct flow *f = wait_end(ids[i], 20);
		done += f && f->state == FLOW_DONE;
	}
	ok(done == 20);
	ok(origin_count(&plain) == 20);
	int in_order = 1;
	pthread_mutex_lock(&plain.mu);
	for (size_t i = 0; i < plain.num_log && i < 20; i++) {
		char want[32];
		snprintf(want, sizeof want, "GET /seq/%02zu ", i);
		in_order &= strncmp(plain.log[i], want, strlen(want)) == 0;
	}
	pthread_mutex_unlock(&plain.mu);
	ok(in_order);
	for (int i = 1; i < 20; i++)
		ok(ids[i] > ids[i - 1]);
}

static void test_lanes(void)
{
	char err[256] = "";
	/* the next replay to a host starts once the previous one was answered (head), not
	 * only once its body is complete */
	uint64_t slow = proxy_replay(
	    px, request("http", "127.0.0.1", plain.port, "GET", "/slowbody"), err, sizeof err);
	uint64_t fast = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/fast"),
				     err, sizeof err);
	struct flow *fs = wait_end(slow, 10), *ff = wait_end(fast, 10);
	ok(fs && fs->state == FLOW_DONE && fs->response.body.len == 4);
	ok(ff && ff->state == FLOW_DONE);
	ok(end_rank(fast) >= 0 && end_rank(fast) < end_rank(slow));
	ok(was_updated(slow));	/* its head was reported before its body came */
	ok(!was_updated(fast)); /* a short answer ends at once: no UPDATE */

	/* an upstream that does not answer holds the lane: the next one waits for the timeout */
	origin_reset(&plain);
	uint64_t hang = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/hang"),
				     err, sizeof err);
	uint64_t after = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/after"),
				      err, sizeof err);
	for (int i = 0; i < 1000 && origin_count(&plain) < 1; i++) /* the hang reached it */
		usleep(10 * 1000);
	ok(origin_count(&plain) == 1);
	struct flow *fh = wait_end(hang, 10), *fa = wait_end(after, 10);
	ok(fh && fh->state == FLOW_ERROR);
	ok(fa && fa->state == FLOW_DONE);
	ok(end_rank(hang) >= 0 && end_rank(hang) < end_rank(after)); /* it waited for the hang */
	ok(origin_count(&plain) == 2);

	/* another host:port is its own lane */
	origin_reset(&plain);
	hang = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/hang"), err,
			    sizeof err);
	after = proxy_replay(px, request("http", "localhost", plain.port, "GET", "/other"), err,
			     sizeof err);
	/* it does not wait for the hang's timeout (2 s): it ends first, however slow the machine */
	fa = wait_end(after, 10);
	ok(fa && fa->state == FLOW_DONE);
	ok(wait_end(hang, 10) != NULL);
	ok(end_rank(after) >= 0 && end_rank(after) < end_rank(hang));

	/* the proxy itself is refused, as for proxied requests */
	uint64_t self = proxy_replay(px, request("http", "127.0.0.1", proxy_port(px), "GET", "/"),
				     err, sizeof err);
	struct flow *f = wait_end(self, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "flowscope itself"));
}

static void test_shutdown(void)
{
	char err[256] = "";
	/* replays still waiting when the proxy stops end with an error, nothing leaks */
	struct proxy *p = start_proxy(0, 2);
	uint64_t a = proxy_replay(p, request("http", "127.0.0.1", plain.port, "GET", "/hang"), err,
				  sizeof err);
	uint64_t b = proxy_replay(p, request("http", "127.0.0.1", plain.port, "GET", "/hang/2"),
				  err, sizeof err);
	ok(a && b);
	usleep(200 * 1000);
	proxy_stop(p);
	/* a replay after the stop: recorded and ended by the shutdown (whether it comes before the
	 * worker ran the stop or after), never run */
	uint64_t c = proxy_replay(p, request("http", "127.0.0.1", plain.port, "GET", "/late"), err,
				  sizeof err);
	ok(c != 0 && was_begun(c));
	proxy_free(p);
	struct flow *fa = wait_end(a, 5), *fb = wait_end(b, 5), *fc = wait_end(c, 5);
	ok(fa && fa->state == FLOW_ERROR && fa->error && strstr(fa->error, "shutting down"));
	ok(fb && fb->state == FLOW_ERROR && fb->error && strstr(fb->error, "shutting down"));
	ok(fc && fc->state == FLOW_ERROR && fc->error && strstr(fc->error, "shutting down"));
	ok(origin_count(&plain) <= 2); /* /late never reached the origin */
}

/* Each case on a clean sink and clean origin logs (run()), in this order. */
static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
    {"replay as-is", test_as_is},
    {"edited request", test_edited},
    {"binary body", test_binary},
    {"https", test_https},
    {"failures", test_failures},
    {"response shapes", test_responses},
    {"order of 20 replays", test_order},
    {"lanes: answered, hanging, other hosts, self", test_lanes},
    {"trailers: in the last chunk, or not at all", test_trailers},
    {"shutdown with replays running", test_shutdown},
};

int main(void)
{
	if (replay_fixture_start() != 0)
		return 2;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run(cases[i].name, cases[i].fn);
	replay_fixture_end();
	return harness_done();
}
