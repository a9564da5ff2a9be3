/* SPDX-License-Identifier: MIT */
/* test_intercept.c - live rules on a running proxy: intercepted requests and responses are
 * paused, edited, resumed or killed from another thread; a client that leaves frees its paused
 * flow; block rules answer by themselves; bad regexes keep the old rules; ignore-hosts changes
 * apply to the next CONNECT; the web UI's token cookie never reaches the upstream.
 *
 * The proxy runs on port 0 with a collecting sink; the origin is a small thread in this file
 * that records each request it gets and answers "hello" (Connection: close). Clients are
 * blocking sockets with a receive timeout. */
#define _GNU_SOURCE /* strcasestr */
#include "proxy.h"

#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- the sink: every event kept, in order ---- */

struct event_rec {
	enum flow_event ev;
	struct flow *f;
};

static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
static struct event_rec events[4096];
static size_t num_events;

static void sink_emit(void *arg, enum flow_event ev, struct flow *f)
{
	(void)arg;
	pthread_mutex_lock(&sink_mu);
	if (num_events < sizeof events / sizeof events[0])
		events[num_events++] =
		    (struct event_rec){(enum flow_event)(ev & ~FLOW_EV_UNBEGUN), f};
	else
		flow_free(f);
	pthread_mutex_unlock(&sink_mu);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Waits (up to 5 s) for an event ev of a flow whose path contains path (and state, if >= 0);
 * returns a copy of that flow (the caller frees it) or NULL. */
static struct flow *wait_event(enum flow_event ev, const char *path, int state)
{
	for (int i = 0; i < 500; i++) {
		struct flow *found = NULL;
		pthread_mutex_lock(&sink_mu);
		for (size_t j = 0; j < num_events && !found; j++) {
			struct flow *f = events[j].f;
			if (events[j].ev == ev && f->path && strstr(f->path, path) &&
			    (state < 0 || (int)f->state == state))
				found = flow_dup(f);
		}
		pthread_mutex_unlock(&sink_mu);
		if (found)
			return found;
		sleep_ms(10);
	}
	return NULL;
}

/* Same for a tunnel or http flow to host:port without a path (CONNECT). */
static struct flow *wait_kind(enum flow_event ev, enum flow_kind kind, int port)
{
	for (int i = 0; i < 500; i++) {
		struct flow *found = NULL;
		pthread_mutex_lock(&sink_mu);
		for (size_t j = 0; j < num_events && !found; j++)
			if (events[j].ev == ev && events[j].f->kind == kind &&
			    events[j].f->port == port)
				found = flow_dup(events[j].f);
		pthread_mutex_unlock(&sink_mu);
		if (found)
			return found;
		sleep_ms(10);
	}
	return NULL;
}

static void sink_clear(void)
{
	pthread_mutex_lock(&sink_mu);
	for (size_t i = 0; i < num_events; i++)
		flow_free(events[i].f);
	num_events = 0;
	pthread_mutex_unlock(&sink_mu);
}

/* ---- the origin ---- */

static int origin_fd, origin_port;
static pthread_mutex_t origin_mu = PTHREAD_MUTEX_INITIALIZER;
static char origin_last[8192]; /* the last request received, head and body */
static _Atomic int origin_count;

static _Atomic size_t origin_last_len; /* bytes of the last request, head and body */

static int chunked_done(const char *buf, size_t n)
{
	return n >= 5 && memcmp(buf + n - 5, "0\r\n\r\n", 5) == 0 && (n == 5 || buf[n - 6] == '\n');
}

/* Answers by path: /bigresp a 200000-byte body, /bigchunk the same chunked, else "hello". */
static void origin_answer(int fd, const char *path)
{
	static char big[200000];
	memset(big, 'x', sizeof big);
	char head[256];
	if (strncmp(path, "/presp/bigresp", 14) == 0) {
		int n =
		    snprintf(head, sizeof head,
			     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			     sizeof big);
		if (write(fd, head, (size_t)n) < 0 || write(fd, big, sizeof big) < 0)
			perror("origin write");
		return;
	}
	if (strncmp(path, "/presp/bigchunk", 15) == 0) {
		static const char h[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
					"Connection: close\r\n\r\n";
		if (write(fd, h, sizeof h - 1) < 0)
			perror("origin write");
		for (int i = 0; i < 20; i++) {
			int n = snprintf(head, sizeof head, "%x\r\n", 10000);
			if (write(fd, head, (size_t)n) < 0 || write(fd, big, 10000) < 0 ||
			    write(fd, "\r\n", 2) < 0)
				perror("origin write");
		}
		if (write(fd, "0\r\n\r\n", 5) < 0)
			perror("origin write");
		return;
	}
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
				   "Content-Type: text/plain\r\nConnection: close\r\n"
				   "\r\nhello";
	if (write(fd, resp, sizeof resp - 1) < 0)
		perror("origin write");
}

static void *origin_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(origin_fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		size_t cap = 1 << 20, n = 0;
		char *buf = malloc(cap + 1);
		char *end = NULL;
		while (n < cap && !end) {
			ssize_t r = read(fd, buf + n, cap - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			buf[n] = 0;
			end = strstr(buf, "\r\n\r\n");
		}
		if (end) {
			size_t head_len = (size_t)(end + 4 - buf);
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			int chunked = strcasestr(buf, "\r\nTransfer-Encoding: chunked") != NULL;
			size_t want = head_len + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
			while (n < cap &&
			       (chunked ? !chunked_done(buf + head_len, n - head_len) : n < want)) {
				ssize_t r = read(fd, buf + n, cap - n);
				if (r <= 0)
					break;
				n += (size_t)r;
			}
			buf[n] = 0;
			pthread_mutex_lock(&origin_mu);
			snprintf(origin_last, sizeof origin_last, "%s", buf);
			pthread_mutex_unlock(&origin_mu);
			atomic_store(&origin_last_len, n);
			atomic_fetch_add(&origin_count, 1);
			char path[256] = "";
			sscanf(buf, "%*s %255s", path);
			origin_answer(fd, path);
		}
		free(buf);
		close(fd);
	}
}

static int origin_has(const char *s)
{
	pthread_mutex_lock(&origin_mu);
	int r = strstr(origin_last, s) != NULL;
	pthread_mutex_unlock(&origin_mu);
	return r;
}

/* ---- clients ---- */

static struct proxy *px;

static int client_send(const char *req)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(proxy_port(px))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	if (req && write(fd, req, strlen(req)) < 0)
		perror("client write");
	return fd;
}

/* Reads until the peer closes (or the timeout); returns a malloc'ed string. */
static char *client_read_all(int fd)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	buf[n] = 0;
	return buf;
}

static char *get(const char *path, const char *extra_headers)
{
	char req[1024];
	snprintf(req, sizeof req,
		 "GET http://127.0.0.1:%d%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: "
		 "close\r\n\r\n",
		 origin_port, path, origin_port, extra_headers ? extra_headers : "");
	int fd = client_send(req);
	char *r = client_read_all(fd);
	close(fd);
	return r;
}

/* Sends "GET <path>" (Connection: close) without reading; returns the client fd. */
static int send_get(const char *path)
{
	char req[512];
	snprintf(req, sizeof req,
		 "GET http://127.0.0.1:%d%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		 origin_port, path);
	return client_send(req);
}

/* send_get(), then checks that the flow of path pauses; returns it (NULL if it does not). */
static struct flow *send_paused(const char *path, int *fd)
{
	*fd = send_get(path);
	struct flow *p = wait_event(FLOW_EV_UPDATE, path, FLOW_PAUSED);
	ok(p != NULL);
	return p;
}

/* ---- matchers ---- */

static _Atomic int matchers_freed;

/* Intercepts requests whose path has "/preq" and responses whose path has "/presp". */
static int match_pause(void *m, const struct flow *f)
{
	(void)m;
	if (!f->path)
		return 0;
	if (!f->response.present)
		return strstr(f->path, "/preq") != NULL;
	return strstr(f->path, "/presp") != NULL;
}

static int match_blocked(void *m, const struct flow *f)
{
	(void)m;
	return f->path && strstr(f->path, "/blocked") != NULL;
}

static void matcher_free(void *m)
{
	(void)m;
	atomic_fetch_add(&matchers_freed, 1);
}

static int set_rules(const char *ignore, int with_matchers, char *err, size_t errlen)
{
	const char *ign[] = {ignore};
	struct proxy_block_rule block = {{match_blocked, matcher_free, NULL}, 451};
	struct proxy_rules r = {0};
	r.ignore_hosts = ign;
	r.num_ignore_hosts = ignore ? 1 : 0;
	if (with_matchers) {
		r.intercept = (struct proxy_matcher){match_pause, matcher_free, NULL};
		r.block = &block;
		r.num_block = 1;
	}
	return proxy_set_rules(px, &r, err, errlen);
}

/* Checks that the paused p resumes with the edit e (taken), then reads the client's answer
 * to the end and closes fd; returns the answer (malloc'ed). */
static char *resume_read(const struct flow *p, struct flow *e, int fd)
{
	char err[256];
	ok(proxy_resume(px, p->id, e, err, sizeof err) == 0);
	char *resp = client_read_all(fd);
	close(fd);
	return resp;
}

/* ---- tests ---- */

static void test_request_edit(void)
{
	char req[1024];
	snprintf(req, sizeof req,
		 "POST http://127.0.0.1:%d/preq/a HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Content-Length: 8\r\nConnection: close\r\n\r\noriginal",
		 origin_port, origin_port);
	int before = atomic_load(&origin_count);
	int fd = client_send(req);
	struct flow *p = wait_event(FLOW_EV_UPDATE, "/preq/a", FLOW_PAUSED);
	ok(p != NULL);
	if (!p) {
		close(fd);
		return;
	}
	ok(p->request.body.len == 8 && memcmp(p->request.body.data, "original", 8) == 0);
	sleep_ms(100);
	ok(atomic_load(&origin_count) == before); /* nothing went upstream while paused */

	char err[256];
	/* an edit without resuming, then a resume with another edit */
	struct flow *e = flow_new();
	flow_set_str(&e->request.method, "PUT");
	ok(proxy_edit(px, p->id, e, err, sizeof err) == 0);
	e = flow_new();
	flow_set_str(&e->request.target, "/preq/edited?x=1");
	flow_msg_add_header(&e->request, "Host", 4, "127.0.0.1", 9);
	flow_msg_add_header(&e->request, "X-Edited", 8, "yes", 3);
	flow_buf_append(&e->request.body, "EDITED-BODY", 11);
	char *resp = resume_read(p, e, fd);
	ok(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	ok(strstr(resp, "hello") != NULL);
	ok(origin_has("PUT /preq/edited?x=1 HTTP/1.1\r\n"));
	ok(origin_has("X-Edited: yes\r\n"));
	ok(origin_has("Content-Length: 11\r\n"));
	ok(origin_has("\r\n\r\nEDITED-BODY"));
	free(resp);
	struct flow *end = wait_event(FLOW_EV_END, "/preq/edited", -1);
	ok(end && end->state == FLOW_DONE && end->response.status == 200);
	ok(end && strcmp(end->request.method, "PUT") == 0);
	flow_free(end);
	/* no longer paused */
	ok(proxy_resume(px, p->id, NULL, err, sizeof err) == -1);
	ok(strstr(err, "is not paused") != NULL);
	flow_free(p);
}

static void test_response_edit(void)
{
	const char *path = "/presp/b";
	int fd;
	struct flow *p = send_paused(path, &fd);
	if (!p) {
		close(fd);
		return;
	}
	ok(p->response.present && p->response.status == 200);
	ok(p->response.body.len == 5);
	struct flow *e = flow_new();
	e->response.status = 201;
	flow_buf_append(&e->response.body, "changed body", 12);
	char *resp = resume_read(p, e, fd);
	ok(strncmp(resp, "HTTP/1.1 201 ", 13) == 0);
	ok(strstr(resp, "Content-Length: 12\r\n") != NULL);
	ok(strstr(resp, "\r\n\r\nchanged body") != NULL);
	free(resp);
	struct flow *end = wait_event(FLOW_EV_END, path, -1);
	ok(end && end->state == FLOW_DONE && end->response.status == 201);
	flow_free(end);
	flow_free(p);
}

/* Kills the flow paused at path: a 502 for the client, the flow ends "killed"; a paused
 * response (is_resp) must not leak the origin's body. */
static void kill_paused(const char *path, int is_resp)
{
	char err[256];
	int fd;
	struct flow *p = send_paused(path, &fd);
	if (p) {
		ok(proxy_kill(px, p->id, err, sizeof err) == 0);
		char *resp = client_read_all(fd);
		ok(strncmp(resp, "HTTP/1.1 502", 12) == 0);
		ok(strstr(resp, "killed by the user") != NULL);
		if (is_resp)
			ok(strstr(resp, "hello") == NULL);
		free(resp);
		struct flow *end = wait_event(FLOW_EV_END, path, -1);
		ok(end && end->state == FLOW_ERROR && end->error &&
		   strcmp(end->error, "killed") == 0);
		flow_free(end);
		if (!is_resp) /* a second kill finds nothing */
			ok(proxy_kill(px, p->id, err, sizeof err) == -1);
	}
	close(fd);
	flow_free(p);
}

static void test_kill(void)
{
	kill_paused("/preq/kill", 0);  /* a paused request */
	kill_paused("/presp/kill", 1); /* a paused response */
}

static void test_disconnect(void)
{
	char req[512];
	snprintf(req, sizeof req, "GET http://127.0.0.1:%d/preq/gone HTTP/1.1\r\nHost: x\r\n\r\n",
		 origin_port);
	int fd = client_send(req);
	struct flow *p = wait_event(FLOW_EV_UPDATE, "/preq/gone", FLOW_PAUSED);
	ok(p != NULL);
	close(fd);
	struct flow *end = wait_event(FLOW_EV_END, "/preq/gone", -1);
	ok(end && end->state == FLOW_ERROR && end->error &&
	   strcmp(end->error, "client disconnected while paused") == 0);
	char err[256];
	ok(p && proxy_resume(px, p->id, NULL, err, sizeof err) == -1);
	flow_free(end);
	flow_free(p);
}

/* How long 20 requests that are not intercepted take, in ms; *good gets how many got a 200. */
static int64_t twenty_ms(int *good)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	*good = 0;
	for (int i = 0; i < 20; i++) {
		char *r = get("/other", NULL);
		*good += strncmp(r, "HTTP/1.1 200", 12) == 0;
		free(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
}

static void test_many_paused(void)
{
	/* a hundred paused flows; other requests still go through at once */
	enum { N = 100 };
	int fds[N];
	char path[64];
	int good = 0;
	int64_t base = twenty_ms(&good); /* with none paused, on this machine as loaded now */
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof path, "/preq/many%d/", i);
		fds[i] = send_get(path);
	}
	struct flow *last = wait_event(FLOW_EV_UPDATE, "/preq/many99/", FLOW_PAUSED);
	ok(last != NULL);
	flow_free(last);
	/* Measured again (up to 3 times) while slower than the bound: a load spike on a busy
	 * machine slows one run, paused flows that held up other traffic would slow every run. */
	int64_t ms = 0;
	for (int try = 0; try < 3; try++) {
		ms = twenty_ms(&good);
		if (ms < base * 2 + 1000)
			break;
		fprintf(stderr, "  20 requests took %lld ms (%lld with none paused); again\n",
			(long long)ms, (long long)base);
	}
	ok(good == 20);
	ok(ms < base * 2 + 1000);
	/* resume them all */
	int resumed = 0;
	for (int i = 0; i < N; i++) {
		char path[32], err[256];
		snprintf(path, sizeof path, "/preq/many%d/", i);
		struct flow *p = wait_event(FLOW_EV_UPDATE, path, FLOW_PAUSED);
		resumed += p && proxy_resume(px, p->id, NULL, err, sizeof err) == 0;
		flow_free(p);
	}
	ok(resumed == N);
	int answered = 0;
	for (int i = 0; i < N; i++) {
		char *r = client_read_all(fds[i]);
		answered += strstr(r, "hello") != NULL;
		free(r);
		close(fds[i]);
	}
	ok(answered == N);
}

/* Bodies over the limit (64 KiB here) are not held: they go on, and the flow says why. */
static void test_over_limit(void)
{
	static char body[200000];
	memset(body, 'y', sizeof body);
	char head[512];
	/* a request that announces its size */
	snprintf(
	    head, sizeof head,
	    "POST http://127.0.0.1:%d/preq/bigcl HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    origin_port, sizeof body);
	int fd = client_send(head);
	ok(write(fd, body, sizeof body) == (ssize_t)sizeof body);
	char *r = client_read_all(fd);
	close(fd);
	ok(strstr(r, "hello") != NULL);
	free(r);
	struct flow *end = wait_event(FLOW_EV_END, "/preq/bigcl", -1);
	ok(end && end->state == FLOW_DONE && end->error && strstr(end->error, "not intercepted"));
	ok(end && end->request.body_size == sizeof body);
	flow_free(end);
	ok(wait_event(FLOW_EV_UPDATE, "/preq/bigcl", FLOW_PAUSED) == NULL);

	/* a chunked one: held until it crosses the limit, then sent on as it came */
	snprintf(head, sizeof head,
		 "POST http://127.0.0.1:%d/preq/bigchunked HTTP/1.1\r\nHost: x\r\n"
		 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
		 origin_port);
	fd = client_send(head);
	size_t sent = 0;
	for (int i = 0; i < 20; i++) {
		char ch[16];
		int n = snprintf(ch, sizeof ch, "%x\r\n", 10000);
		sent += write(fd, ch, (size_t)n) == n;
		sent += write(fd, body, 10000) == 10000;
		sent += write(fd, "\r\n", 2) == 2;
	}
	sent += write(fd, "0\r\n\r\n", 5) == 5;
	ok(sent == 61);
	r = client_read_all(fd);
	close(fd);
	ok(strstr(r, "hello") != NULL);
	free(r);
	end = wait_event(FLOW_EV_END, "/preq/bigchunked", -1);
	ok(end && end->state == FLOW_DONE && end->error && strstr(end->error, "not intercepted"));
	ok(end && end->request.body_size == 200000);
	flow_free(end);
	ok(origin_has("Transfer-Encoding: chunked"));
	ok(atomic_load(&origin_last_len) > 200000);

	/* responses: one announcing its size, one chunked */
	r = get("/presp/bigresp", NULL);
	ok(strlen(r) > 200000);
	free(r);
	end = wait_event(FLOW_EV_END, "/presp/bigresp", -1);
	ok(end && end->state == FLOW_DONE && end->error && strstr(end->error, "not intercepted"));
	ok(end && end->response.body_size == 200000);
	flow_free(end);
	r = get("/presp/bigchunk", NULL);
	size_t xs = 0;
	for (const char *p = r; *p; p++)
		xs += *p == 'x';
	ok(xs == 200000);
	ok(strlen(r) > 5 && strcmp(r + strlen(r) - 5, "0\r\n\r\n") == 0);
	free(r);
	end = wait_event(FLOW_EV_END, "/presp/bigchunk", -1);
	ok(end && end->state == FLOW_DONE && end->error && strstr(end->error, "not intercepted"));
	ok(end && end->response.body_size == 200000);
	flow_free(end);
}

/* A paused flow outlives the proxy's timeout (2 s here). */
static void test_no_timeout(void)
{
	char err[256];
	int fd1 = send_get("/preq/slow");
	int fd2 = send_get("/presp/slow");
	struct flow *p1 = wait_event(FLOW_EV_UPDATE, "/preq/slow", FLOW_PAUSED);
	struct flow *p2 = wait_event(FLOW_EV_UPDATE, "/presp/slow", FLOW_PAUSED);
	ok(p1 && p2);
	sleep_ms(3500);
	ok(p1 && proxy_resume(px, p1->id, NULL, err, sizeof err) == 0);
	ok(p2 && proxy_resume(px, p2->id, NULL, err, sizeof err) == 0);
	char *r = client_read_all(fd1);
	ok(strncmp(r, "HTTP/1.1 200", 12) == 0 && strstr(r, "hello"));
	free(r);
	r = client_read_all(fd2);
	ok(strncmp(r, "HTTP/1.1 200", 12) == 0 && strstr(r, "hello"));
	free(r);
	close(fd1);
	close(fd2);
	flow_free(p1);
	flow_free(p2);
}

static void test_block(void)
{
	int before = atomic_load(&origin_count);
	char *r = get("/blocked/x", NULL);
	ok(strncmp(r, "HTTP/1.1 451 ", 13) == 0);
	ok(strstr(r, "blocked by a flowscope rule") != NULL);
	free(r);
	ok(atomic_load(&origin_count) == before);
	struct flow *end = wait_event(FLOW_EV_END, "/blocked/x", -1);
	ok(end && end->state == FLOW_DONE && end->response.status == 451);
	ok(end && end->server_addr[0] == 0);
	flow_free(end);
}

static void test_cookie(void)
{
	char *r = get("/cookie", "Cookie: a=1; flowscope_token=secret; b=2\r\n");
	ok(strstr(r, "hello") != NULL);
	free(r);
	ok(origin_has("Cookie: a=1; b=2\r\n"));
	ok(!origin_has("secret"));
	struct flow *end = wait_event(FLOW_EV_END, "/cookie", -1);
	const struct flow_header *h = end ? flow_msg_header(&end->request, "Cookie") : NULL;
	ok(h && strcmp(h->value, "a=1; b=2") == 0);
	flow_free(end);
	r = get("/cookie2", "Cookie: flowscope_token=secret\r\n");
	free(r);
	ok(!origin_has("Cookie"));
	end = wait_event(FLOW_EV_END, "/cookie2", -1);
	ok(end && flow_msg_header(&end->request, "Cookie") == NULL);
	flow_free(end);
}

static void test_bad_regex(void)
{
	char err[256] = "";
	int freed = atomic_load(&matchers_freed);
	ok(set_rules("(unclosed", 1, err, sizeof err) == -1);
	ok(strstr(err, "(unclosed") != NULL);
	ok(atomic_load(&matchers_freed) == freed); /* stay the caller's; not freed */
	/* the old rules still intercept */
	int fd;
	struct flow *p = send_paused("/preq/still", &fd);
	ok(p && proxy_resume(px, p->id, NULL, err, sizeof err) == 0);
	char *r = client_read_all(fd);
	ok(strstr(r, "hello") != NULL);
	free(r);
	close(fd);
	flow_free(p);
}

/* CONNECT to the origin, then plain HTTP through it: passed through (a tunnel flow) or split
 * (plain HTTP inside a decrypted tunnel, an http flow). Returns whether the answer came. */
static int connect_through(void)
{
	char req[512];
	snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n", origin_port);
	int fd = client_send(req);
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1); /* "HTTP/1.1 200 Connection established" */
	int got = n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
	static const char inner[] =
	    "GET /inside HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	if (write(fd, inner, sizeof inner - 1) < 0)
		perror("write");
	char *r = client_read_all(fd);
	got = got && strstr(r, "hello") != NULL;
	free(r);
	close(fd);
	return got;
}

static void test_ignore_hosts_live(void)
{
	char err[256];
	sink_clear();
	ok(set_rules("^127\\.0\\.0\\.1:", 0, err, sizeof err) == 0);
	ok(connect_through());
	struct flow *f = wait_kind(FLOW_EV_END, FLOW_TUNNEL, origin_port);
	ok(f != NULL); /* passed through */
	flow_free(f);
	sink_clear();
	ok(set_rules(NULL, 0, err, sizeof err) == 0);
	ok(connect_through());
	f = wait_event(FLOW_EV_END, "/inside", -1);
	ok(f && f->kind == FLOW_HTTP); /* split: the request inside was seen */
	flow_free(f);
	ok(wait_kind(FLOW_EV_END, FLOW_TUNNEL, origin_port) == NULL);
	/* the matchers of replaced sets were freed */
	ok(atomic_load(&matchers_freed) >= 2);
}

int main(void)
{
	setenv("FLOWSCOPE_TIMEOUT", "2", 1);
	origin_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(origin_fd, (struct sockaddr *)&sa, sizeof sa);
	socklen_t sl = sizeof sa;
	getsockname(origin_fd, (struct sockaddr *)&sa, &sl);
	origin_port = ntohs(sa.sin_port);
	listen(origin_fd, 256);
	pthread_t ot;
	pthread_create(&ot, NULL, origin_main, NULL);

	char dir[] = "/tmp/test_intercept.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct proxy_config cfg = {0};
	cfg.listen_host = "127.0.0.1";
	cfg.confdir = dir;
	cfg.threads = 2;
	cfg.body_limit = 65536;
	cfg.token_cookie = "flowscope_token";
	cfg.sink.emit = sink_emit;
	char err[256];
	px = proxy_new(&cfg, err, sizeof err);
	ok(px != NULL);
	if (!px) {
		fprintf(stderr, "proxy_new: %s\n", err);
		return harness_done();
	}
	proxy_start(px);
	ok(set_rules(NULL, 1, err, sizeof err) == 0);

	subtest("request paused, edited, resumed", test_request_edit);
	subtest("response paused, edited, resumed", test_response_edit);
	subtest("kill a paused request and response", test_kill);
	subtest("client disconnects while paused", test_disconnect);
	subtest("a hundred paused flows", test_many_paused);
	subtest("bodies over the limit are not held", test_over_limit);
	subtest("paused flows have no timeout", test_no_timeout);
	subtest("block rule", test_block);
	subtest("token cookie stripped", test_cookie);
	subtest("bad regex keeps the old rules", test_bad_regex);
	subtest("ignore-hosts change applies to the next CONNECT", test_ignore_hosts_live);

	proxy_stop(px);
	proxy_free(px);
	sink_clear();
	shutdown(origin_fd, SHUT_RDWR);
	close(origin_fd);
	pthread_join(ot, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		perror("rm");
	return harness_done();
}
