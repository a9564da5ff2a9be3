/* SPDX-License-Identifier: MIT */
/* tunnel.c - CONNECT: a tunnel passed through as it is, or decrypted. A SOCKS5 listener's
 * CONNECT (socks.c parses it) opens the same tunnel, answered in SOCKS instead of HTTP.
 *
 *   CONNECT ──► CONNECTING ──TCP up, "200"──┬─pass──► TUNNEL (raw relay) ──► close
 *                                           └─split─► PEEK_HELLO ──hello──► TLS_UPSTREAM
 *                         ──verified, leaf forged──► TLS_CLIENT ──handshake──► REQ_HEAD
 *
 * TLS towards the client: after the CONNECT answer the ClientHello is read from the client
 * bufferevent's input (tls_peek_hello). Then the socket bufferevent is freed, leaving its fd
 * open, and an OpenSSL socket bufferevent takes the fd, its SSL reading first the bytes
 * already read (tls_set_socket). A filter bufferevent over the socket one would need no such
 * hand-over but costs a copy and a layer of callbacks for every byte.
 *
 * A reverse listener's connection starts in PEEK_HELLO: TLS (forged leaf, no upstream yet: the
 * requests inside go to the listener's server) or plain HTTP, by the client's first bytes. So
 * does a transparent listener's: then a tunnel to its original destination (transparent.h), as
 * for a CONNECT, or its plain requests recorded as they come.
 *
 * A CONNECT that fails to reach its upstream while it was to be decrypted is answered in-band,
 * as mitmproxy does (see tunnel_connect_failed). Nothing here frees the connection: failures
 * call conn_close(). */
#include "tunnel.h"

#include "alpn.h"
#include "proxyauth.h"
#include "rules.h"
#include "socks.h"
#include "tls.h"
#include "url.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* The tunnel is open: "200" to an HTTP CONNECT, the success reply to a SOCKS5 one, nothing to
 * a transparent listener's client (it thinks it talks to its server already). */
static void say_established(struct conn *c)
{
	if (c->lst->mode == PROXY_TRANSPARENT)
		return;
	if (c->lst->mode == PROXY_SOCKS5) {
		unsigned char rep[SOCKS_REPLY_LEN];
		socks_reply(rep, SOCKS_REP_OK);
		bufferevent_write(c->client, rep, sizeof rep);
		return;
	}
	evbuffer_add_printf(bufferevent_get_output(c->client),
			    "HTTP/1.1 200 Connection established\r\n\r\n");
}

/* Answers a split CONNECT (once) and reads what the client sends first. */
void tunnel_answer(struct conn *c)
{
	if (!c->tun_answered) {
		c->tun_answered = 1;
		say_established(c);
		c->state = CONN_PEEK_HELLO;
		conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	}
	conn_want(c, CONN_WANT_CLIENT);
}

/* Fails the attempt to reach the upstream: 502 for a request, or for the CONNECT (the caller's
 * to send: HTTP/1 sits above the tunnel). A CONNECT that was to be decrypted is answered
 * in-band instead, as mitmproxy does: browsers do not show the body of a failed CONNECT, but
 * they show a 502 page sent inside the TLS session (forged for the name asked for) in answer
 * to the first request. */
int tunnel_connect_failed(struct conn *c, const char *msg)
{
	conn_free_upstream(c);
	if (c->purpose == UP_SPLIT && c->client &&
	    (c->state == CONN_CONNECTING || c->state == CONN_PEEK_HELLO)) {
		free(c->pending_error);
		c->pending_error = xstrdup(msg);
		tunnel_answer(c);
		return 0;
	}
	if (c->lst->mode == PROXY_TRANSPARENT && c->purpose == UP_PASS) {
		exchange_fail(&c->x, msg); /* its client expects its server's bytes: no page */
		conn_close(c, msg);
		return 0;
	}
	if (c->lst->mode == PROXY_SOCKS5 && c->purpose == UP_PASS && c->state == CONN_CONNECTING) {
		/* a passed-through SOCKS5 CONNECT: its reply says it failed */
		unsigned char rep[SOCKS_REPLY_LEN];
		socks_reply(rep, strstr(msg, "refused") ? SOCKS_REP_REFUSED
							: SOCKS_REP_HOST_UNREACHABLE);
		bufferevent_write(c->client, rep, sizeof rep);
		exchange_fail(&c->x, msg);
		conn_close_after_flush(c, msg);
		return 0;
	}
	return -1;
}

/* Replies rep (if >= 0) to a SOCKS5 client and closes. */
static enum conn_step socks_refuse(struct conn *c, int rep, const char *why)
{
	if (rep >= 0) {
		unsigned char out[SOCKS_REPLY_LEN];
		socks_reply(out, rep);
		bufferevent_write(c->client, out, sizeof out);
	}
	log_debug("%s: SOCKS5: %s", c->client_addr, why);
	conn_close_after_flush(c, why);
	return CONN_STEP_STOP;
}

/* The greeting: "no authentication" is agreed, or username/password with --proxyauth. */
static enum conn_step socks_greeting(struct conn *c, const unsigned char *d, size_t len)
{
	const char *auth = conn_proxyauth(c);
	int r = socks_parse_greeting(d, len, auth ? SOCKS_METHOD_USERPASS : SOCKS_METHOD_NONE);
	if (r == SOCKS_NOT_SOCKS5)
		return socks_refuse(c, -1, "not a SOCKS5 client");
	if (r == SOCKS_NO_METHOD) {
		static const unsigned char none[] = {5, 0xff};
		bufferevent_write(c->client, none, sizeof none);
		return socks_refuse(c, -1, "no acceptable authentication method");
	}
	if (r == 0)
		return c->client_eof ? socks_refuse(c, -1, "client left") : CONN_STEP_DRAINED;
	evbuffer_drain(bufferevent_get_input(c->client), (size_t)r);
	unsigned char chosen[] = {5, auth ? SOCKS_METHOD_USERPASS : SOCKS_METHOD_NONE};
	bufferevent_write(c->client, chosen, sizeof chosen);
	c->socks_greeted = auth ? 1 : 2;
	return CONN_STEP_AGAIN;
}

/* RFC 1929's sub-negotiation: the credentials match --proxyauth, or failure and close. */
static enum conn_step socks_userpass(struct conn *c, const unsigned char *d, size_t len)
{
	struct socks_userpass u;
	unsigned char rep[SOCKS_AUTH_REPLY_LEN];
	int r = socks_parse_userpass(d, len, &u);
	if (r == 0)
		return c->client_eof ? socks_refuse(c, -1, "client left") : CONN_STEP_DRAINED;
	int ok = r > 0 && proxyauth_match(conn_proxyauth(c), (const char *)u.user, u.user_len,
					  (const char *)u.pass, u.pass_len);
	socks_auth_reply(rep, ok);
	bufferevent_write(c->client, rep, sizeof rep);
	if (!ok)
		return socks_refuse(c, -1,
				    r < 0 ? "malformed username/password request"
					  : "wrong username or password");
	evbuffer_drain(bufferevent_get_input(c->client), (size_t)r);
	c->socks_greeted = 2;
	return CONN_STEP_AGAIN;
}

enum conn_step tunnel_socks_read(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->client);
	size_t len = evbuffer_get_length(in);
	if (len > 520) /* longer than any of the messages can be */
		len = 520;
	if (len == 0)
		return CONN_STEP_DRAINED;
	const unsigned char *d = evbuffer_pullup(in, (ev_ssize_t)len);
	if (c->socks_greeted == 0)
		return socks_greeting(c, d, len);
	if (c->socks_greeted == 1)
		return socks_userpass(c, d, len);
	struct socks_request rq;
	int r = socks_parse_request(d, len, &rq);
	if (r < 0)
		return socks_refuse(c, -r, "request refused");
	if (r == 0)
		return c->client_eof ? socks_refuse(c, -1, "client left") : CONN_STEP_DRAINED;
	evbuffer_drain(in, (size_t)r);
	/* the tunnel's flow, as an HTTP CONNECT's: method CONNECT, target host:port */
	struct flow *f = exchange_start(&c->x, c->client_addr, util_now_us());
	char target[URL_HOST_MAX + 16];
	url_format_authority(target, sizeof target, rq.host, rq.port, -1);
	flow_set_str(&f->request.method, "CONNECT");
	flow_set_str(&f->request.target, target);
	f->request.present = 1;
	f->request.version = 11;
	tunnel_open(c, rq.host, rq.port);
	return CONN_STEP_AGAIN;
}

void tunnel_open(struct conn *c, const char *host, int port)
{
	struct flow *f = c->x.flow;
	c->x.req_done = 1;
	flow_put_str(f, &f->host, host);
	f->port = (uint16_t)port;
	free(c->tun_host);
	c->tun_host = xstrdup(host);
	c->tun_port = port;
	int split = 0;
	if (c->lst->mode != PROXY_FORWARD) { /* mitm, upstream, socks5 */
		struct rules *r = rules_live_get(conn_env(c)->rules);
		split = rules_should_decrypt(r, host, port);
		rules_unref(r);
	}
	c->tun_split = split;
	c->tun_tls = 0;
	c->purpose = split ? UP_SPLIT : UP_PASS;
	if (!split) {
		f->kind = FLOW_TUNNEL;
		flow_put_str(f, &f->scheme, "https");
		exchange_emit(&c->x, FLOW_EV_BEGIN);
	} else {
		/* Only shown if setting up the interception fails; requests inside get flows. */
		flow_put_str(f, &f->scheme, "https");
	}
	free(c->t_host);
	c->t_host = xstrdup(host);
	c->t_port = port;
	c->t_tls = 0;
	c->tun_answered = 0;
	if (c->lst->mode != PROXY_TRANSPARENT)
		c->tun_hello = 0; /* a transparent client's hello was read already */
	conn_start_connect(c);
	/* A tunnel to decrypt is answered at once, as mitmproxy does: the client's hello is on
	 * its way while the upstream is reached (one round trip saved on a real network). */
	if (split && !c->close_reason && c->state == CONN_CONNECTING)
		tunnel_answer(c);
}

static void client_tls_failed(struct conn *c, SSL *ssl)
{
	if (ssl)
		SSL_free(ssl);
	exchange_fail(&c->x, "could not set up TLS towards the client");
	conn_close(c, "client TLS setup failed");
}

void tunnel_start_client_tls(struct conn *c)
{
	X509 *peer = NULL;
	if (c->up.bev && !c->pending_error)
		peer = SSL_get1_peer_certificate(bufferevent_openssl_get_ssl(c->up.bev));
	const char *name = c->sni[0] ? c->sni : c->tun_host;
	if (!name)
		name = c->lst->target_host; /* a reverse listener's client without SNI */
	X509 *leaf = certforge_issue(conn_env(c)->cf, name, peer);
	X509_free(peer);
	if (!leaf) {
		exchange_fail(&c->x, "could not forge a certificate");
		conn_close(c, "forging failed");
		return;
	}
	SSL *ssl = tls_client_ssl_new(conn_env(c)->client_ctx, conn_env(c)->cf, leaf);
	X509_free(leaf);
	if (!ssl) {
		client_tls_failed(c, NULL);
		return;
	}
	if (c->up.bev && c->up.tls && c->up.connected && !c->pending_error)
		alpn_client_follow(ssl, alpn_chosen(bufferevent_openssl_get_ssl(c->up.bev)));
	/* OpenSSL takes the socket itself, reading first the bytes the socket bufferevent
	 * already read (the hello, and anything the client sent after it). */
	evutil_socket_t fd = bufferevent_getfd(c->client);
	struct evbuffer *in = bufferevent_get_input(c->client);
	size_t have = evbuffer_get_length(in);
	/* A client that sent its hello without waiting may not have the CONNECT's answer yet: a
	 * few dozen bytes on a fresh socket, they go out now, before any TLS. */
	struct evbuffer *out = bufferevent_get_output(c->client);
	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
	if (evbuffer_get_length(out) > 0 ||
	    tls_set_socket(ssl, fd, evbuffer_pullup(in, -1), have) != 0) {
		client_tls_failed(c, ssl);
		return;
	}
	bufferevent_setcb(c->client, NULL, NULL, NULL, NULL);
	bufferevent_setfd(c->client, -1); /* the fd is the TLS bufferevent's from here on */
	bufferevent_free(c->client);
	c->client = NULL;
	struct bufferevent *tlsbev =
	    bufferevent_openssl_socket_new(c->w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tlsbev) {
		evutil_closesocket(fd);
		client_tls_failed(c, ssl);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tlsbev, 1);
	conn_set_client(c, tlsbev);
	conn_set_client_timeout(c, conn_env(c)->timeout_s, conn_env(c)->timeout_s);
	bufferevent_enable(tlsbev, EV_READ | EV_WRITE);
	c->state = CONN_TLS_CLIENT;
}

/* Plain HTTP inside the tunnel, as mitmproxy does: on the connected socket if there is one
 * (else the first request connects, and reports the failure). */
static void tunnel_plain(struct conn *c)
{
	c->tun_tls = 0;
	upstream_start_plain(&c->up);
	flow_free(c->x.flow);
	c->x.flow = NULL;
	c->state = CONN_REQ_HEAD;
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	http1_reset(c->req);
	c->up.fresh = 1;
}

/* TLS towards the upstream on the connected socket, SNI = the client's (or the host). */
static void start_upstream_tls(struct conn *c)
{
	c->tun_tls = 1;
	c->state = CONN_TLS_UPSTREAM;
	bufferevent_disable(c->client, EV_READ);
	const char *name = c->sni[0] ? c->sni : c->tun_host;
	if (upstream_start_tls(&c->up, name) != 0) {
		exchange_fail(&c->x, "could not set up TLS towards the upstream");
		conn_close(c, "upstream TLS setup failed");
	}
}

/* A reverse listener's client said first whether it speaks TLS: then the handshake with a
 * certificate forged for its SNI (or the server's name), else plain HTTP right away. */
static void reverse_go(struct conn *c)
{
	if (c->tun_hello == HELLO_TLS) {
		c->tun_split = 1; /* the client side is TLS: its requests record it */
		tunnel_start_client_tls(c);
		return;
	}
	c->tun_tls = 0;
	c->state = CONN_REQ_HEAD;
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	conn_want(c, CONN_WANT_CLIENT);
}

/* Plain HTTP to be recorded: served at once, every request going to the original address. */
static void serve_plain(struct conn *c)
{
	free(c->tun_host);
	c->tun_host = xstrdup(c->tr.addr);
	c->tun_port = c->tr.port;
	c->tun_tls = 0;
	c->state = CONN_REQ_HEAD;
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	conn_want(c, CONN_WANT_CLIENT);
}

/* The client of c (a transparent listener's, in PEEK_HELLO) said whether it speaks TLS:
 * opens the tunnel to the original destination under the SNI's name (decrypted or passed as
 * for a CONNECT), or serves plain HTTP right away. */
static void go_transparent(struct conn *c)
{
	const char *name = c->tun_hello == HELLO_TLS && c->sni[0] ? c->sni : c->tr.addr;
	snprintf(c->tr_name, sizeof c->tr_name, "%s", name);
	if (c->tun_hello == HELLO_PLAIN) {
		struct rules *r = rules_live_get(conn_env(c)->rules);
		int record = rules_should_decrypt(r, c->tr.addr, c->tr.port);
		rules_unref(r);
		if (record)
			return serve_plain(c);
	}
	/* the tunnel's flow, as a CONNECT's: shown when it is passed through or fails */
	struct flow *f = exchange_start(&c->x, c->client_addr, util_now_us());
	char target[URL_HOST_MAX + 16];
	url_format_authority(target, sizeof target, name, c->tr.port, -1);
	flow_set_str(&f->request.method, "CONNECT");
	flow_set_str(&f->request.target, target);
	f->request.present = 1;
	f->request.version = 11;
	tunnel_open(c, name, c->tr.port);
}

/* A split CONNECT goes on once both halves are in: what the client sent first (ClientHello or
 * not TLS), and the upstream connection or its failure. They race: the CONNECT is answered
 * before the upstream is reached. */
static void tunnel_go(struct conn *c)
{
	if (c->lst->mode == PROXY_REVERSE) {
		reverse_go(c);
		return;
	}
	if (c->lst->mode == PROXY_TRANSPARENT && !c->tun_host) {
		go_transparent(c);
		return;
	}
	if (!c->tun_hello || !(c->up.connected || c->pending_error))
		return;
	if (c->tun_hello == HELLO_PLAIN)
		tunnel_plain(c);
	else if (c->pending_error)
		tunnel_start_client_tls(
		    c); /* unreachable upstream: handshake only to tell the client */
	else
		start_upstream_tls(c);
}

/* Reads what the client sent first in a split tunnel or on a reverse listener: a whole
 * ClientHello, or bytes that are not TLS. */
void tunnel_peek_hello(struct conn *c)
{
	if (c->tun_hello) {
		tunnel_go(c);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(c->client);
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return;
	if (len > 65536)
		len = 65536;
	const unsigned char *data = evbuffer_pullup(in, (ev_ssize_t)len);
	struct tls_hello hello;
	int r = tls_peek_hello(data, len, &hello);
	if (r == 0) {
		if (len >= 65536)
			r = -1;
		else if (c->client_eof &&
			 (c->lst->mode == PROXY_REVERSE || c->lst->mode == PROXY_TRANSPARENT))
			return conn_close(c, "client left during its TLS hello");
		else
			return; /* more bytes needed */
	}
	if (r < 0) {
		c->tun_hello = HELLO_PLAIN;
	} else {
		c->tun_hello = HELLO_TLS;
		c->tun_tls = 1;
		snprintf(c->sni, sizeof c->sni, "%s", hello.sni);
		c->up.alpn = alpn_offer(&hello); /* the upstream is offered what the client was */
	}
	/* The client has said its part: from here a slow upstream is the connect timeout's
	 * to report, not the client's read timeout. */
	conn_set_client_timeout(c, 0, 0);
	tunnel_go(c);
}

void tunnel_client_ready(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->client);
	flow_set_str(&c->client_tls_version, ssl ? SSL_get_version(ssl) : NULL);
	flow_free(c->x.flow); /* the CONNECT's set-up flow: not shown when all went well */
	c->x.flow = NULL;
	http1_reset(c->req);
	c->state = CONN_REQ_HEAD;
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	conn_want(c, CONN_WANT_CLIENT);
}

void tunnel_passed(struct conn *c)
{
	struct flow *f = c->x.flow;
	f->t.dns_done = c->up.t.dns_done;
	f->t.connect_done = c->up.t.connect_done;
	memcpy(f->server_addr, c->up.addr, sizeof f->server_addr);
	say_established(c);
	c->state = CONN_TUNNEL;
	conn_set_client_timeout(c, 0, 0);
	upstream_set_timeouts(&c->up, 0, 0);
	bufferevent_enable(c->up.bev, EV_READ | EV_WRITE);
	conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
}
