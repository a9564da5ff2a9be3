/* SPDX-License-Identifier: MIT */
/* conn-t.h - struct conn, one client connection, and the services of conn.c that the files
 * driving it share. From the top down:
 *
 *   client.c    the dispatcher: accept, libevent callbacks, the drive loop, lifetime (on top:
 *               nothing below calls it but through c->ops, struct conn_ops)
 *   h1server.c  HTTP/1 towards the client: request heads, routing, the proxy's own pages,
 *   h1relay.c   request bodies to the exchange; the exchange's downstream (response relayed
 *               back, the connection's next state)
 *   h2conn.c    HTTP/2 towards the client (proxy/http2/): each stream one exchange with an
 *               upstream of its own (a pool per connection), the exchange's downstream
 *   tunnel.c    CONNECT and SOCKS5: pass through or decrypt (ClientHello peek, forged leaf,
 *               TLS), reverse and transparent listeners' peek
 *   conn.c      what they all use: closing, timeouts, backpressure, the enter/leave bracket,
 *               the upstream's making, the intercept's pause (this header)
 *
 * Each module's calls are in its own header (h1server.h, h1relay.h, h2conn.h, tunnel.h). The
 * flow's life is exchange.c's (c->x), driving the upstream origin.c's, the upstream connection
 * upstream.c's (c->up). Internal to the proxy core. */
#ifndef CONN_T_H
#define CONN_T_H

#include "bevio.h"
#include "env.h"
#include "exchange.h"
#include "http1.h"
#include "transparent.h"
#include "upstream.h"

#include <stddef.h>
#include <stdint.h>

struct wscapture;

#define HIGH_WATER BEVIO_HIGH_WATER
/* Output up to this size towards a TLS client is made one contiguous chunk: libevent's
 * OpenSSL bufferevent calls SSL_write() once per chunk, so a small response whose head and
 * body arrived in two chunks went out as two TLS records and two write()s. */
#define COALESCE_MAX (16 * 1024)
/* Served at http://flowscope.cert/ through the proxy. */
#define CERT_HOST "flowscope.cert"

enum conn_state {
	CONN_REQ_HEAD,	   /* waiting for (the rest of) a request head */
	CONN_CONNECTING,   /* resolving and connecting upstream for a request or CONNECT */
	CONN_EXCHANGE,	   /* request forwarded (body may still stream), response relayed */
	CONN_PEEK_HELLO,   /* split CONNECT answered, or a reverse listener's new client: waiting
			      for the whole ClientHello (or bytes that are not TLS) */
	CONN_TLS_UPSTREAM, /* TLS handshake with the upstream before the client's */
	CONN_TLS_CLIENT,   /* TLS handshake with the client, forged leaf */
	CONN_TUNNEL,	   /* raw relay both ways: passed-through CONNECT or WebSocket */
	CONN_CLOSING,	   /* flushing outputs; freed when empty */
	CONN_HOLD_REQ,	   /* intercepted request: reading its whole body before pausing */
	CONN_PAUSED,	   /* a flow paused by the intercept rule (c->x.paused says which side) */
	CONN_SOCKS,	   /* a SOCKS5 listener's client: greeting, then its CONNECT request */
	CONN_H2,	   /* HTTP/2 with the client (ALPN h2): c->h2 drives it (h2conn.c) */
};

/* What a split CONNECT's client sent first. */
enum { HELLO_TLS = 1, HELLO_PLAIN = 2 };

/* Why an upstream connection is being made. */
enum up_purpose {
	UP_REQUEST, /* a request goes to it (TLS as the request's scheme says) */
	UP_PASS,    /* a passed-through CONNECT: raw relay */
	UP_SPLIT,   /* a CONNECT to decrypt: TCP only; TLS once the ClientHello is read */
};

/* Events the request parser's callbacks report to h1server.c (c->events). */
enum { EV_HEAD = 1, EV_END = 2 };

/* What the drive loop has to look at (c->want). */
enum { CONN_WANT_CLIENT = 1, CONN_WANT_UPSTREAM = 2 };

/* The response ended before its request (an early 401 or 413): the rest of the request body is
 * read and dropped (c->discarding), then the connection goes on or closes. */
enum { DISCARD_KEEP = 1, DISCARD_CLOSE = 2 };

/* What one step of reading the client's bytes left: go on, input used up, or stop. */
enum conn_step { CONN_STEP_AGAIN, CONN_STEP_DRAINED, CONN_STEP_STOP };

/* What the dispatcher above (client.c) lends the connection's services below it, the one way
 * down there reach up: set at accept, the same table for every connection. */
struct conn_ops {
	void (*drive)(struct conn *c); /* runs what conn_want() asked for (c->want is not 0) */
	void (*free)(struct conn *c);  /* frees c: called by conn_leave() only, once */
	/* the client bufferevent's callbacks (conn_set_client()), arg c */
	void (*on_read)(struct bufferevent *bev, void *arg);
	void (*on_write)(struct bufferevent *bev, void *arg);
	void (*on_event)(struct bufferevent *bev, short what, void *arg);
};

struct conn {
	const struct conn_ops *ops;	  /* borrowed: client.c's */
	struct env_worker *w;		  /* borrowed */
	const struct proxy_listener *lst; /* borrowed: the listener it came through */
	struct conn *prev, *next;	  /* in w->conns */
	struct bufferevent *client;	  /* owned; an OpenSSL socket bufferevent once decrypting */
	struct bevio_timeouts client_to;  /* the client's timeouts (conn_set_client_timeout()) */
	struct upstream up;		  /* the upstream connection; owns its bev and parser */
	struct http1 *req;		  /* owned parser: client->proxy */
	struct exchange x;		  /* the flow in progress (owns it) */
	struct h2conn *h2;	 /* owned: the HTTP/2 session in state CONN_H2, else NULL */
	struct wscapture *ws;	 /* owned: a WebSocket's messages after its 101, or NULL */
	int shutting_down;	 /* closed by proxy_stop() */
	enum up_purpose purpose; /* of the connection being made */
	enum conn_state state;
	const char *close_reason; /* non-NULL once closing was requested */
	unsigned depth;		  /* callbacks of this conn on the stack */
	unsigned want;		  /* CONN_WANT_*: for the drive loop */
	unsigned events;	  /* EV_* reported by the parser during one feed */
	char client_addr[64];

	/* Where a CONNECT pointed; set for every request inside the tunnel. */
	char *tun_host; /* owned; NULL outside a tunnel */
	int tun_port;
	int tun_split;		  /* 1: decrypting (client side is TLS after the hello) */
	int tun_answered;	  /* split CONNECT: "200" sent (before the upstream is up) */
	int tun_hello;		  /* split CONNECT: 0 waiting, HELLO_TLS or HELLO_PLAIN */
	int tun_tls;		  /* 1: requests in the tunnel are https */
	int socks_greeted;	  /* SOCKS5: 0 greeting, 1 username/password, 2 the request */
	char sni[256];		  /* from the ClientHello, "" if none */
	char *pending_error;	  /* owned: answer the next request with 502 and this */
	char *client_tls_version; /* owned: version agreed with the client */

	/* Where the upstream connection being made goes (the current request's or CONNECT's). */
	char *t_host; /* owned */
	int t_port;
	int t_tls; /* upstream must be TLS */

	/* A transparent listener's connection: where its client was going, and the name it
	 * asked for there (SNI or Host; "" until known), pinned to that address (conn_via()). */
	struct transparent_dst tr;
	char tr_name[256];

	int req_keep_alive; /* the client allows another request after this one */
	/* How the client connection ends (see say_close_notify()): orderly is set when the proxy
	 * closes on purpose, cut_short when a response it relayed was cut short upstream. */
	int orderly, cut_short;
	int client_eof;		  /* the client closed (its input may still hold bytes) */
	int blocked_up;		  /* client->upstream waits for the upstream to drain */
	int blocked_down;	  /* upstream->client waits for the client to drain */
	int discarding;		  /* 0, or DISCARD_*: dropping the rest of an answered request */
	struct event *head_timer; /* owned, made on first use: the request head's deadline */
	struct evbuffer *soon;	  /* owned, made on first use: response bytes for the client
				   * that go out when the callback ends (conn_flush_soon()) */
};

static inline const struct env *conn_env(const struct conn *c)
{
	return c->w->env;
}

/* The credentials c's client must give (--proxyauth "USER:PASS"), or NULL: none are asked
 * for (none set, or a reverse or transparent listener). */
static inline const char *conn_proxyauth(const struct conn *c)
{
	const char *a = conn_env(c)->cfg->proxyauth;
	enum proxy_mode m = c->lst->mode;
	return a && a[0] && m != PROXY_REVERSE && m != PROXY_TRANSPARENT ? a : NULL;
}

/* The upstream proxy c's connections go through (an upstream: listener's), else none; a
 * transparent listener's connections to the name its client asked for go to the original
 * address (c->tr_name and c->tr live as long as c). */
static inline struct dial_via conn_via(const struct conn *c)
{
	struct dial_via v = {NULL, 0, NULL, NULL, NULL, 0};
	if (c->lst->mode == PROXY_TRANSPARENT) {
		v.pin_name = c->tr_name;
		v.pin_addr = c->tr.addr;
		v.pin_port = c->tr.port;
	} else if (c->lst->mode == PROXY_UPSTREAM) {
		v.host = c->lst->target_host;
		v.port = c->lst->target_port;
		v.auth = conn_env(c)->cfg->upstream_auth;
	}
	return v;
}

/* ---- conn.c ---- */

/* Asks for c to close with why (the first reason stays); conn_leave() frees it. */
void conn_close(struct conn *c, const char *why);
/* Brackets every callback of c (libevent's, an upstream's, a timer's): conn_leave() runs the
 * drive loop (c->ops->drive) when the outermost callback ends and work was asked for, sends
 * what c->soon holds, and frees c (c->ops->free) when it was asked to close. */
static inline void conn_enter(struct conn *c)
{
	c->depth++;
}
void conn_leave(struct conn *c);
/* Asks the drive loop to look at the client's input (CONN_WANT_CLIENT) and/or the upstream's
 * (CONN_WANT_UPSTREAM) before the callback returns. Never moves bytes itself. */
void conn_want(struct conn *c, unsigned what);
/* The client's read and write timeouts: off (0) or the proxy's timeout, set lazily
 * (bevio_set_timeouts()): a read timeout that is on runs from the last read, or from shortly
 * before it was turned on. The upstream's are upstream_set_timeouts()'s. */
void conn_set_client_timeout(struct conn *c, int read_on, int write_on);
/* 1 when bev's output holds HIGH_WATER bytes or more. */
int conn_over(struct bufferevent *bev);
/* Backpressure: dst is full; *flag is set until its output drained to half. */
void conn_block_on(struct bufferevent *dst, int *flag);
/* Bytes of bev's output not handed to the kernel yet; 0 for NULL. */
size_t conn_unsent(struct bufferevent *bev);
/* Sends the response bytes held back in c->soon (written at once when the client's output is
 * empty, else queued behind it). Called as every callback of c ends, and before anything else
 * is written to the client or waits for its output to drain. */
void conn_flush_soon(struct conn *c);
/* Starts closing: stop reading; c is freed once both outputs are flushed. */
void conn_close_after_flush(struct conn *c, const char *why);
/* Makes bev (owned) the client's bufferevent, with the dispatcher's callbacks (c->ops) and the
 * relay tuning. */
void conn_set_client(struct conn *c, struct bufferevent *bev);
/* Drops the upstream connection (and its backpressure). */
void conn_free_upstream(struct conn *c);
/* Connects to t_host:t_port for c->purpose; on_up_ready() goes on. */
void conn_start_connect(struct conn *c);
/* Pauses the flow of c for the intercept: the held side is read whole; no timeouts while the
 * user thinks, and the client is read only to notice that it leaves. */
void conn_pause(struct conn *c, enum exchange_side side);
/* Moves up to HIGH_WATER bytes from's input to to's output, counting them in *count. */
void conn_relay_raw(struct bufferevent *from, struct bufferevent *to, int *blocked,
		    uint64_t *count);

#endif
