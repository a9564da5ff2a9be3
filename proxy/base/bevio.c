/* SPDX-License-Identifier: MIT */
/* bevio.c - bulk reads, immediate writes and lazy timeouts for bufferevents; bevio.h says why. */
#include "bevio.h"

#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Bytes asked of the kernel or OpenSSL per step. */
#define STEP (64 * 1024)
#define MAX_IO (256 * 1024)
#define MAX_SSL_READ (16 * 1024) /* one TLS record */

/* One readv() into reserved space; returns bytes read, 0 when none (EAGAIN, EOF, error). */
static size_t read_socket(evutil_socket_t fd, struct evbuffer_iovec *v, int n)
{
	struct iovec iov[2];
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	ssize_t r;
	do
		r = readv(fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r > 0 ? (size_t)r : 0;
}

/* SSL_read into the reserved vectors, each filled before the next (the committed bytes must
 * be contiguous); returns bytes read. A failure is left in the SSL object: OpenSSL repeats it
 * (end of stream, fatal alert) when libevent next reads. */
static size_t read_ssl(SSL *ssl, struct evbuffer_iovec *v, int n, int *more, int held_only)
{
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		size_t off = 0;
		while (off < v[i].iov_len) {
			size_t got = 0;
			if (held_only && !SSL_has_pending(ssl)) {
				*more = 0;
				return total + off;
			}
			if (SSL_read_ex(ssl, (char *)v[i].iov_base + off, v[i].iov_len - off,
					&got) != 1) {
				*more = 0;
				ERR_clear_error(); /* no stale entries for the next caller */
				return total + off;
			}
			off += got;
		}
		total += off;
	}
	return total;
}

/* Sets the vectors' lengths to hold exactly len bytes; returns how many vectors are used. */
static int trim(struct evbuffer_iovec *v, int n, size_t len)
{
	int used = 0;
	for (int i = 0; i < n && len > 0; i++, used++) {
		if (v[i].iov_len > len)
			v[i].iov_len = len;
		len -= v[i].iov_len;
	}
	return used;
}

/* bevio_fill(), or with held_only what OpenSSL holds already (no read from the socket unless
 * to complete a record it holds part of). */
static size_t fill(struct bufferevent *bev, size_t max, int held_only)
{
	if (bufferevent_get_underlying(bev))
		return 0;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0)
		return 0;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (held_only && (!ssl || !SSL_has_pending(ssl)))
		return 0;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t total = 0;
	int more = 1, frozen = 0;
	while (more && total < max) {
		size_t want = max - total < STEP ? max - total : STEP;
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
		if (n <= 0 && !frozen) {
			/* A socket bufferevent freezes its input's end between its own reads (so
			 * that users only drain it); thaw it as libevent's read does. */
			frozen = 1;
			evbuffer_unfreeze(in, 0);
			n = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
		}
		if (n <= 0)
			break;
		n = trim(v, n, want);
		size_t got = ssl ? read_ssl(ssl, v, n, &more, held_only) : read_socket(fd, v, n);
		/* a short read drained the socket: asking again would only meet EAGAIN */
		if (!ssl && got < want)
			more = 0;
		evbuffer_commit_space(in, v, trim(v, n, got));
		total += got;
	}
	if (frozen)
		evbuffer_freeze(in, 0);
	return total;
}

size_t bevio_fill(struct bufferevent *bev, size_t max)
{
	return fill(bev, max, 0);
}

void bevio_read_ahead(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_get_underlying(bev) ? NULL : bufferevent_openssl_get_ssl(bev);
	if (ssl)
		SSL_set_read_ahead(ssl, 1);
}

size_t bevio_take_held(struct bufferevent *bev)
{
	return fill(bev, SIZE_MAX, 1);
}

/* Reads and writes go in chunks of up to MAX_IO instead of libevent's 16 KiB, which costs a
 * callback per 16 KiB. The input's cap (its read high-water mark) waits for the first read
 * callback that finds CAP_FROM bytes in the input (bevio_fill_input()): while a mark is set,
 * libevent re-enables reading (event_add(), its timeout rescheduled) on every change to the
 * input, five times per small keep-alive exchange, which never needs the cap. */
#define CAP_FROM 4096

void bevio_tune(struct bufferevent *bev)
{
	/* An OpenSSL bufferevent reserves this much input space per read: more would be a fresh
	 * mmap'd chain for every small message. Bulk reads are bevio_fill_input()'s job. */
	bufferevent_set_max_single_read(bev, MAX_SSL_READ);
	bufferevent_set_max_single_write(bev, MAX_IO);
}

void bevio_fill_input(struct bufferevent *bev)
{
	size_t have = evbuffer_get_length(bufferevent_get_input(bev)), high = 0;
	if (have >= CAP_FROM && bufferevent_getwatermark(bev, EV_READ, NULL, &high) == 0 &&
	    high == 0)
		bufferevent_setwatermark(bev, EV_READ, 0, BEVIO_HIGH_WATER);
	if (have >= 4096 && have < BEVIO_HIGH_WATER)
		bevio_fill(bev,
			   BEVIO_HIGH_WATER - have < MAX_IO ? BEVIO_HIGH_WATER - have : MAX_IO);
	bevio_take_held(bev); /* past the budget too: nothing would wake us for them */
}

size_t bevio_send(struct bufferevent *bev, struct evbuffer *src, size_t n)
{
	if (n == 0 || bufferevent_get_underlying(bev) ||
	    !(bufferevent_get_enabled(bev) & EV_WRITE) ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return 0;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0)
		return 0;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (!ssl) {
		int w = evbuffer_write_atmost(src, fd, (ev_ssize_t)n);
		return w > 0 ? (size_t)w : 0;
	}
	/* One record. Bytes that span chunks (a response's head and body) are copied out rather
	 * than pulled up, which would allocate a chunk and free two. A failed write is retried by
	 * libevent with the same first bytes (OpenSSL accepts them at another address: libevent
	 * sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, but not fewer of them), so they are then made
	 * contiguous in src, as they would be in the output. */
	if (n > MAX_SSL_READ || !SSL_is_init_finished(ssl))
		return 0;
	unsigned char copy[MAX_SSL_READ];
	const void *p = copy;
	struct evbuffer_iovec v;
	if (evbuffer_peek(src, (ev_ssize_t)n, NULL, &v, 1) == 1)
		p = v.iov_base;
	else if (evbuffer_copyout(src, copy, n) != (ev_ssize_t)n)
		return 0;
	size_t done = 0;
	if (SSL_write_ex(ssl, p, n, &done) != 1) {
		ERR_clear_error(); /* libevent meets the same error when it retries */
		if (p == copy)
			evbuffer_pullup(src, (ev_ssize_t)n);
		return 0;
	}
	evbuffer_drain(src, done);
	return done;
}

void bevio_timeouts_reset(struct bevio_timeouts *t)
{
	t->armed = t->want = -1;
	t->lazy_since = 0;
}

/* The timeouts were left armed (lazily) for less than an eighth of their length, at most 1 s. */
static int within_slack(const struct bevio_timeouts *t, const struct timeval *tv)
{
	int64_t slack = ((int64_t)tv->tv_sec * 1000000 + tv->tv_usec) / 8;
	int64_t idle = util_mono_us() - t->lazy_since;
	return idle >= 0 && idle < slack && idle < 1000000;
}

void bevio_set_timeouts(struct bufferevent *bev, struct bevio_timeouts *t, const struct timeval *tv,
			int read_on, int write_on)
{
	int want = (read_on ? 1 : 0) | (write_on ? 2 : 0);
	if (t->armed >= 0 && (want & ~t->armed) == 0) {
		int lazy = t->want != t->armed;
		if (!lazy && want != t->armed)
			t->lazy_since = util_mono_us(); /* armed from here on without being asked */
		t->want = want;
		if (!lazy || want != t->armed || within_slack(t, tv))
			return;
	}
	t->armed = t->want = want; /* new, or back on after a while: from now */
	bufferevent_set_timeouts(bev, read_on ? tv : NULL, write_on ? tv : NULL);
}

int bevio_timeout_wanted(struct bufferevent *bev, struct bevio_timeouts *t, short what)
{
	short dir = what & BEV_EVENT_READING ? EV_READ : EV_WRITE;
	int bit = dir == EV_READ ? 1 : 2;
	if (t->armed < 0 || (t->want & bit) || !(t->armed & bit))
		return 1;
	bufferevent_enable(bev, dir);
	return 0;
}
