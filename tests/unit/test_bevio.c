/* SPDX-License-Identifier: MIT */
/* test_bevio.c - bevio_fill() on real sockets: a plain socket bufferevent and an OpenSSL one
 * read on past libevent's 4 KiB with the bytes intact and in order, the budget holds, a
 * filter is left alone, and the end of stream still reaches the event callback. Timeouts
 * set lazily: one turned off stays armed but is swallowed when it fires (reading goes on), one
 * asked for is reported.
 *
 * The reader starts once the writer (a child process) has queued more than libevent reads at
 * once: on a loaded machine the writer could otherwise trail the reader, each wake-up finding
 * one write's worth, which libevent alone reads, leaving bevio_fill nothing to do. */
#include "bevio.h"

#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define TOTAL (600 * 1024)
#define QUEUED (64 * 1024) /* queued before the reader starts: many of libevent's reads */

struct state {
	size_t filled; /* bytes bevio_fill added, over all callbacks */
	size_t max;    /* budget passed to bevio_fill */
	int eof;
	int error;
	int first_len; /* input length libevent alone had read at the first callback */
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 11));
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct state *st = arg;
	if (st->first_len < 0)
		st->first_len = (int)evbuffer_get_length(bufferevent_get_input(bev));
	st->filled += bevio_fill(bev, st->max);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct state *st = arg;
	(void)bev;
	if (what & BEV_EVENT_EOF)
		st->eof = 1;
	if (what & BEV_EVENT_ERROR)
		st->error = 1;
}

/* The input holds 0..n-1 of the pattern. */
static int intact(struct evbuffer *in, size_t n)
{
	if (evbuffer_get_length(in) != n)
		return 0;
	const unsigned char *p = evbuffer_pullup(in, -1);
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(i))
			return 0;
	return 1;
}

static unsigned char *make_data(void)
{
	unsigned char *d = malloc(TOTAL);
	for (size_t i = 0; i < TOTAL; i++)
		d[i] = pattern(i);
	return d;
}

/* Writes all of data to a blocking fd from a child process, then closes it. */
static pid_t writer(int fd, const unsigned char *data, size_t len, SSL *ssl)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	size_t off = 0;
	while (off < len) {
		ssize_t n;
		if (ssl) {
			size_t w = 0;
			n = SSL_write_ex(ssl, data + off, len - off, &w) == 1 ? (ssize_t)w : -1;
		} else {
			n = write(fd, data + off, len - off);
		}
		if (n <= 0)
			_exit(1);
		off += (size_t)n;
	}
	if (ssl)
		SSL_shutdown(ssl);
	close(fd);
	_exit(0);
}

/* Waits (<= 10 s) until fd has at least n bytes queued to read; returns 1 once it has. */
static int queued(int fd, int n)
{
	for (int i = 0; i < 10000; i++) {
		int have = 0;
		if (ioctl(fd, FIONREAD, &have) == 0 && have >= n)
			return 1;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return 0;
}

static void run_until_eof(struct event_base *base, struct state *st)
{
	for (int i = 0; i < 10000 && !st->eof && !st->error; i++)
		event_base_loop(base, EVLOOP_ONCE);
}

static void test_plain(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	evutil_make_socket_nonblocking(sv[0]);
	unsigned char *data = make_data();
	struct event_base *base = event_base_new();
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	struct state st = {.max = 256 * 1024, .first_len = -1};
	bufferevent_setcb(bev, on_read, NULL, on_event, &st);
	bufferevent_enable(bev, EV_READ);
	pid_t pid = writer(sv[1], data, TOTAL, NULL);
	close(sv[1]);
	ok(queued(sv[0], QUEUED));
	run_until_eof(base, &st);
	ok(st.eof && !st.error);
	ok(st.filled > 0);
	ok(st.filled > (size_t)st.first_len); /* most bytes came through the bulk reads */
	ok(intact(bufferevent_get_input(bev), TOTAL));
	/* the input is frozen again for libevent's own rules: users may not add at the end */
	ok(evbuffer_add(bufferevent_get_input(bev), "x", 1) == -1);
	waitpid(pid, NULL, 0);
	bufferevent_free(bev);
	event_base_free(base);
	free(data);
}

static void test_budget(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	char buf[20000];
	memset(buf, 'a', sizeof buf);
	ok(write(sv[1], buf, sizeof buf) == (ssize_t)sizeof buf);
	struct event_base *base = event_base_new();
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	ok(bevio_fill(bev, 1000) == 1000);
	ok(evbuffer_get_length(bufferevent_get_input(bev)) == 1000);
	ok(bevio_fill(bev, 1 << 20) == sizeof buf - 1000); /* then stops at EAGAIN */
	ok(bevio_fill(bev, 1 << 20) == 0);
	close(sv[1]);
	ok(bevio_fill(bev, 1 << 20) == 0); /* end of stream: nothing, left to libevent */
	bufferevent_free(bev);
	event_base_free(base);
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"bevio test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void test_tls(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = self_signed(key);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(sctx, cert);
	SSL_CTX_use_PrivateKey(sctx, key);
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	unsigned char *data = make_data();

	/* The server side handshakes and writes from a child; the client side is ours. */
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		SSL *s = SSL_new(sctx);
		SSL_set_fd(s, sv[1]);
		if (SSL_accept(s) != 1)
			_exit(1);
		writer(sv[1], data, TOTAL, s); /* forks again; wait for it */
		int status = 0;
		wait(&status);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(sv[1]);
	/* The handshake first (blocking), so that the writer can queue its records ahead. */
	SSL *ssl = SSL_new(cctx);
	SSL_set_fd(ssl, sv[0]);
	ok(SSL_connect(ssl) == 1);
	ok(queued(sv[0], QUEUED));
	evutil_make_socket_nonblocking(sv[0]);
	struct event_base *base = event_base_new();
	struct bufferevent *bev = bufferevent_openssl_socket_new(
	    base, sv[0], ssl, BUFFEREVENT_SSL_OPEN, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_set_max_single_read(bev, 16 * 1024);
	struct state st = {.max = 256 * 1024, .first_len = -1};
	bufferevent_setcb(bev, on_read, NULL, on_event, &st);
	bufferevent_enable(bev, EV_READ);
	run_until_eof(base, &st);
	ok(st.eof && !st.error);
	ok(st.filled > 0);
	ok(intact(bufferevent_get_input(bev), TOTAL));
	int status = 1;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	bufferevent_free(bev);
	event_base_free(base);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(data);
}

static void test_filter(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct event_base *base = event_base_new();
	struct bufferevent *under = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct bufferevent *f = bufferevent_openssl_filter_new(
	    base, under, SSL_new(ctx), BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	ok(write(sv[1], "hello", 5) == 5);
	ok(bevio_fill(f, 1 << 20) == 0); /* a filter reads from below: not ours to read */
	bufferevent_free(f);
	close(sv[1]);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	SSL_CTX_free(ctx);
}

/* ---- timeouts set lazily ---- */

struct tostate {
	struct bevio_timeouts t;
	int wanted, swallowed;
};

static void on_to_event(struct bufferevent *bev, short what, void *arg)
{
	struct tostate *ts = arg;
	if (!(what & BEV_EVENT_TIMEOUT))
		return;
	if (bevio_timeout_wanted(bev, &ts->t, what))
		ts->wanted++;
	else
		ts->swallowed++;
}

/* Runs base until *count reaches n (<= 10 s). */
static void run_until(struct event_base *base, const int *count, int n)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (*count < n && t1.tv_sec - t0.tv_sec < 10);
}

static void test_timeouts(void)
{
	int sv[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	struct event_base *base = event_base_new();
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	struct tostate ts = {.wanted = 0};
	bevio_timeouts_reset(&ts.t);
	bufferevent_setcb(bev, NULL, NULL, on_to_event, &ts);
	bufferevent_enable(bev, EV_READ);
	const struct timeval tv = {0, 100000};

	bevio_set_timeouts(bev, &ts.t, &tv, 1, 0); /* a new bufferevent: set */
	ok(ts.t.armed == 1 && ts.t.want == 1);
	bevio_set_timeouts(bev, &ts.t, &tv, 0, 0); /* off: left armed */
	ok(ts.t.armed == 1 && ts.t.want == 0);
	run_until(base, &ts.swallowed, 1);
	ok(ts.swallowed >= 1 && ts.wanted == 0);
	ok(bufferevent_get_enabled(bev) & EV_READ); /* the socket bufferevent reads on */

	/* back on long after it was left armed: set again, and reported when it fires */
	bevio_set_timeouts(bev, &ts.t, &tv, 1, 0);
	ok(ts.t.armed == 1 && ts.t.want == 1);
	run_until(base, &ts.wanted, 1);
	ok(ts.wanted == 1);

	/* a write timeout asked for while only the read one is armed: both set */
	bevio_set_timeouts(bev, &ts.t, &tv, 1, 1);
	ok(ts.t.armed == 3 && ts.t.want == 3);
	bufferevent_free(bev);
	close(sv[1]);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	subtest("plain socket: bulk reads, intact, EOF reported", test_plain);
	subtest("budget and EAGAIN", test_budget);
	subtest("TLS socket: bulk SSL reads, intact, close_notify reported", test_tls);
	subtest("filter left alone", test_filter);
	subtest("timeouts set lazily: unasked ones swallowed, asked ones reported", test_timeouts);
	return harness_done();
}
