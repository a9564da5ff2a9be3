/* SPDX-License-Identifier: MIT */
/* upstream.c - one connection towards an origin server (see upstream.h).
 *
 *   closed ──connect──► DIALING (dial.c) ──TCP──┬─plain──────────────► READY
 *                                               ├─tls──► HANDSHAKE ──► READY
 *                                               └─TCP only: _fd kept ──start_tls/plain──► ...
 *
 * Every failure before READY goes to ops->on_ready(UPSTREAM_FAILED) with a message; after
 * READY, EOF, errors and timeouts go to ops->on_event with a reason. The owner decides what
 * they mean for its exchange (a 502, an in-band error, a retry, a replay's error).
 *
 * Ownership: u owns the bufferevent (BEV_OPT_CLOSE_ON_FREE: fd and SSL go with it), the dial,
 * a connected socket not yet wrapped, and the parser. u never frees its owner and never
 * touches itself after calling one of the owner's callbacks. */
#include "upstream.h"

#include "proxyauth.h"

#include "alpn.h"
#include "bevio.h"
#include "dial.h"
#include "env.h"
#include "tls.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

static const int bev_opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

void upstream_init(struct upstream *u, struct env_worker *w, const struct upstream_ops *ops,
		   const struct http1_sink *sink, void *arg)
{
	memset(u, 0, sizeof *u);
	u->w = w;
	u->ops = ops;
	u->arg = arg;
	u->_fd = -1;
	bevio_timeouts_reset(&u->_timeouts);
	u->resp = http1_new(HTTP1_RESPONSE, sink);
}

static void info_clear(struct flow_tls *t)
{
	free(t->version), free(t->cipher), free(t->alpn), free(t->cert_subject);
	free(t->cert_issuer), free(t->sni), free(t->client_version);
	memset(t, 0, sizeof *t);
}

void upstream_close(struct upstream *u)
{
	if (u->bev) {
		bufferevent_free(u->bev);
		u->bev = NULL;
		bevio_timeouts_reset(&u->_timeouts);
	}
	dial_cancel(u->_dial);
	u->_dial = NULL;
	if (u->_fd >= 0) {
		evutil_closesocket(u->_fd);
		u->_fd = -1;
	}
	free(u->host);
	u->host = NULL;
	free(u->_tls_name);
	u->_tls_name = NULL;
	u->connected = u->eof = u->_handshaking = 0;
	http1_reset(u->resp);
	memset(u->addr, 0, sizeof u->addr);
	info_clear(&u->info);
}

void upstream_clear(struct upstream *u)
{
	upstream_close(u);
	http1_free(u->resp);
	u->resp = NULL;
}

void upstream_set_timeouts(struct upstream *u, int read_on, int write_on)
{
	bevio_set_timeouts(u->bev, &u->_timeouts, u->w->timeout_tv, read_on, write_on);
}

/* ---------------------------------------------------------------------------------------- */
/* libevent callbacks: pass on to the owner (who enters and leaves) */

static void on_read(struct bufferevent *bev, void *arg)
{
	struct upstream *u = arg;
	bevio_fill_input(bev);
	u->ops->on_read(u->arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct upstream *u = arg;
	(void)bev;
	u->ops->on_write(u->arg);
}

static void handshake_done(struct upstream *u, struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	u->_handshaking = 0;
	u->connected = 1;
	u->t.tls_done = util_now_us();
	tls_describe_upstream(ssl, &u->info);
	log_debug("upstream TLS with %s:%d: %s handshake", u->host, u->port,
		  SSL_session_reused(ssl) ? "resumed" : "full");
	bevio_tune(bev);
	bevio_read_ahead(bev);
	u->ops->on_ready(u->arg, UPSTREAM_OK, NULL);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct upstream *u = arg;
	char buf[256];
	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(u, bev);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	if ((what & BEV_EVENT_TIMEOUT) && !bevio_timeout_wanted(bev, &u->_timeouts, what))
		return; /* left armed, not asked for (an idle keep-alive upstream's) */
	const char *why = NULL;
	if (what & BEV_EVENT_TIMEOUT)
		why = "timed out";
	else if (what & BEV_EVENT_ERROR)
		why = tls_bev_error_text(bev, buf, sizeof buf);
	if ((what & BEV_EVENT_ERROR) && !why)
		why = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
	if (u->_handshaking) {
		tls_upstream_failed(bufferevent_openssl_get_ssl(bev));
		char *msg = xasprintf("TLS handshake with %s:%d failed: %s", u->host, u->port,
				      why ? why : "connection closed");
		u->_handshaking = 0;
		u->ops->on_ready(u->arg, UPSTREAM_FAILED, msg);
		free(msg);
		return;
	}
	/* A write failed: the origin closed or reset the connection while the request went up.
	 * What it answered first (an early 401 or 413) may still wait in the socket: read it, so
	 * that the answer is relayed rather than an error. */
	if ((what & BEV_EVENT_ERROR) && (what & BEV_EVENT_WRITING))
		bevio_fill(bev, BEVIO_HIGH_WATER);
	if (!(what & BEV_EVENT_TIMEOUT))
		u->eof = 1;
	u->ops->on_event(u->arg, what, why);
}

/* ---------------------------------------------------------------------------------------- */
/* Connecting */

/* Wraps fd in an OpenSSL bufferevent and starts the handshake. Returns 0, or -1 with fd
 * closed. */
static int wrap_tls(struct upstream *u, evutil_socket_t fd, const char *name)
{
	SSL *ssl = tls_upstream_ssl_new(env_upstream_ctx(u->w->env), name, u->port);
	if (ssl && alpn_upstream_offer(ssl, u->alpn) != 0) {
		SSL_free(ssl);
		ssl = NULL;
	}
	u->bev = ssl ? bufferevent_openssl_socket_new(u->w->base, fd, ssl,
						      BUFFEREVENT_SSL_CONNECTING, bev_opts)
		     : NULL;
	if (!u->bev) {
		if (ssl)
			SSL_free(ssl);
		evutil_closesocket(fd);
		return -1;
	}
	bevio_timeouts_reset(&u->_timeouts);
	u->tls = 1;
	u->_handshaking = 1;
	bufferevent_openssl_set_allow_dirty_shutdown(u->bev, 1);
	upstream_set_timeouts(u, 1, 1);
	bufferevent_setcb(u->bev, on_read, on_write, on_event, u);
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	return 0; /* on_event(CONNECTED) goes on */
}

static int wrap_plain(struct upstream *u, evutil_socket_t fd)
{
	u->bev = bufferevent_socket_new(u->w->base, fd, bev_opts);
	if (!u->bev) {
		evutil_closesocket(fd);
		return -1;
	}
	bevio_timeouts_reset(&u->_timeouts);
	bufferevent_setcb(u->bev, on_read, on_write, on_event, u);
	bevio_tune(u->bev);
	return 0;
}

/* The dial's outcome: wrap the socket (TLS when asked), or tell why there is none. */
static void on_dialed(void *arg, const struct dial_result *r)
{
	struct upstream *u = arg;
	u->_dial = NULL;
	u->t.dns_done = r->dns_done;
	memcpy(u->addr, r->addr, sizeof u->addr);
	if (r->status == DIAL_SELF) {
		u->ops->on_ready(u->arg, UPSTREAM_SELF, NULL);
		return;
	}
	if (r->status != DIAL_CONNECTED) {
		u->ops->on_ready(u->arg, UPSTREAM_FAILED, r->err);
		return;
	}
	u->t.connect_done = r->connect_done;
	if (u->_tcp_only) {
		u->_fd = r->fd; /* TLS or not is decided once the client said its first bytes */
		u->connected = 1;
		u->ops->on_ready(u->arg, UPSTREAM_OK, NULL);
		return;
	}
	if (u->tls) {
		if (wrap_tls(u, r->fd, u->_tls_name ? u->_tls_name : u->host) != 0)
			u->ops->on_ready(u->arg, UPSTREAM_FAILED,
					 "could not set up TLS towards the upstream");
		return;
	}
	if (wrap_plain(u, r->fd) != 0) {
		u->ops->on_ready(u->arg, UPSTREAM_FAILED,
				 "could not set up the upstream connection");
		return;
	}
	u->connected = 1;
	u->ops->on_ready(u->arg, UPSTREAM_OK, NULL);
}

void upstream_connect(struct upstream *u, const char *host, int port, int tls, const char *tls_name,
		      int flags)
{
	upstream_close(u);
	u->host = xstrdup(host);
	u->port = port;
	u->tls = tls;
	u->_tls_name = tls_name ? xstrdup(tls_name) : NULL;
	u->_tcp_only = (flags & UPSTREAM_TCP_ONLY) != 0;
	u->fresh = 1;
	u->alpn = flags >> 8; /* UPSTREAM_ALPN(); 0: http/1.1 */
	memset(&u->t, 0, sizeof u->t);
	u->t.start = util_now_us();
	/* through an upstream proxy: plain HTTP goes to it, the rest through its CONNECT */
	u->absolute = u->via.host && !tls && !u->_tcp_only;
	const struct dial_via *v = &u->via;
	const char *to = v->pin_addr && port == v->pin_port && strcasecmp(host, v->pin_name) == 0
			     ? v->pin_addr
			     : host;
	u->_dial = !u->via.host ? dial_start(u->w, to, (uint16_t)port, on_dialed, u)
				: dial_start_via(u->w, &u->via, u->absolute ? NULL : host,
						 (uint16_t)port, on_dialed, u);
}

int upstream_absolute(const struct upstream *u, int reused, int tls)
{
	return reused ? u->absolute : u->via.host && !tls;
}

char *upstream_proxy_auth_line(const struct upstream *u)
{
	if (!u->via.auth)
		return NULL;
	char *b = proxyauth_basic(u->via.auth);
	char *line = xasprintf("Proxy-Authorization: %s\r\n", b);
	free(b);
	return line;
}

int upstream_start_tls(struct upstream *u, const char *name)
{
	evutil_socket_t fd = u->_fd;
	u->_fd = -1;
	u->connected = 0;
	return wrap_tls(u, fd, name);
}

void upstream_start_plain(struct upstream *u)
{
	u->tls = 0;
	if (u->_fd < 0 || !u->connected)
		return;
	evutil_socket_t fd = u->_fd;
	u->_fd = -1;
	if (wrap_plain(u, fd) != 0) {
		u->connected = 0;
		return;
	}
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
}

void upstream_move(struct upstream *dst, struct upstream *src)
{
	upstream_close(dst);
	if (!src->bev || !src->connected || src->_handshaking) {
		upstream_close(src);
		return;
	}
	dst->bev = src->bev;
	dst->_timeouts = src->_timeouts;
	dst->host = src->host;
	dst->_tls_name = src->_tls_name;
	dst->port = src->port;
	dst->tls = src->tls;
	dst->absolute = src->absolute;
	dst->connected = 1;
	dst->eof = src->eof;
	dst->fresh = src->fresh;
	memcpy(dst->addr, src->addr, sizeof dst->addr);
	dst->info = src->info;
	dst->t = src->t;
	bufferevent_setcb(dst->bev, on_read, on_write, on_event, dst);
	src->bev = NULL;
	src->host = src->_tls_name = NULL;
	memset(&src->info, 0, sizeof src->info);
	upstream_close(src);
}

int upstream_reusable(const struct upstream *u, const char *host, int port, int tls)
{
	return u->bev && u->host && !u->eof && u->port == port && u->tls == tls &&
	       strcasecmp(u->host, host) == 0;
}

/* ---------------------------------------------------------------------------------------- */
/* HTTP/1 towards the origin */

void upstream_describe(struct upstream *u, struct flow *f)
{
	memcpy(f->server_addr, u->addr, sizeof f->server_addr);
	if (u->fresh) {
		/* In a decrypted tunnel the upstream connection is made before the first request
		 * arrives (right after CONNECT): that request started when its connection did, so
		 * that every phase (DNS, connect, TLS) lies within the flow, as HAR expects. */
		if (u->t.start && u->t.start < f->t.start)
			f->t.start = u->t.start;
		f->t.dns_done = u->t.dns_done;
		f->t.connect_done = u->t.connect_done;
		f->t.tls_done = u->t.tls_done;
		u->fresh = 0;
	}
	if (u->tls) {
		flow_put_str(f, &f->tls.version, u->info.version);
		flow_put_str(f, &f->tls.cipher, u->info.cipher);
		flow_put_str(f, &f->tls.alpn, u->info.alpn);
		flow_put_str(f, &f->tls.cert_subject, u->info.cert_subject);
		flow_put_str(f, &f->tls.cert_issuer, u->info.cert_issuer);
	}
}

ssize_t upstream_feed(struct upstream *u, int64_t *first_byte, size_t *avail, const char **err)
{
	struct evbuffer_iovec v = {NULL, 0};
	evbuffer_peek(bufferevent_get_input(u->bev), -1, NULL, &v, 1);
	*avail = v.iov_len;
	if (v.iov_len && !*first_byte)
		*first_byte = util_now_us();
	if (v.iov_len == 0 && !http1_in_message(u->resp))
		return 0;
	return http1_feed(u->resp, v.iov_base, v.iov_len, err);
}
