/* SPDX-License-Identifier: MIT */
/* upstream.h - the proxy's client towards origin servers, shared by proxied exchanges
 * (client.c, h2conn.c) and replays (replay.c): reaching host:port (dial.c: DNS, TCP, next
 * address), TLS with verification and session resumption (tls.c), keeping the connection for
 * the next request to the same place, and HTTP/1 towards the origin (the response framed by an
 * http1 parser; the caller writes the request, its head with wire.h).
 *
 *   upstream_init(&u, w, &ops, &sink, owner)      once; sink gets the response's events
 *   upstream_connect(&u, host, port, tls, ...)    ops->on_ready(owner, UPSTREAM_OK | ...)
 *   bufferevent_write(u.bev, ...)                 the request (wire.h writes its head);
 *                                                 ops->on_read: upstream_feed()
 *   upstream_reusable(&u, host, port, tls)        the next request to the same place
 *   upstream_close(&u)                            drop the connection; u is ready again
 *   upstream_clear(&u)                            at the owner's end
 *
 * The callbacks run from libevent callbacks of u's bufferevent, dial or handshake: the owner
 * brackets them in its own enter()/leave(), and may call upstream_close() (not
 * upstream_clear()) inside them; u is not touched after a callback returns. */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include "bevio.h"
#include "dial.h"
#include "flow.h"
#include "http1.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/util.h>

struct bufferevent;
struct env_worker;
struct dial;
struct evbuffer;

enum upstream_status {
	UPSTREAM_OK,	 /* connected: TLS up when asked for; only TCP with UPSTREAM_TCP_ONLY */
	UPSTREAM_SELF,	 /* the address is flowscope itself (dial.c): nothing opened */
	UPSTREAM_FAILED, /* err says why: DNS, connect, TLS set-up or TLS handshake */
};

struct upstream_ops {
	/* The connection attempt ended. err (UPSTREAM_FAILED) is borrowed for the call. After
	 * a failure the owner calls upstream_close(). */
	void (*on_ready)(void *arg, enum upstream_status st, const char *err);
	void (*on_read)(void *arg);  /* bytes wait in u->bev's input (already bulk-read) */
	void (*on_write)(void *arg); /* u->bev's output drained to its low-water mark */
	/* BEV_EVENT_EOF / _ERROR / _TIMEOUT once ready; why names the error or the timeout
	 * ("timed out"), NULL for a plain EOF. u->eof is set already for EOF and ERROR. */
	void (*on_event)(void *arg, short what, const char *why);
};

/* One upstream connection (or the attempt to make one). Embedded in its owner; the owner
 * reads the fields and never writes them. */
struct upstream {
	struct env_worker *w;		/* borrowed */
	const struct upstream_ops *ops; /* borrowed */
	void *arg;			/* passed to ops */
	struct http1 *resp;		/* owned: the response parser, reset by upstream_close() */
	struct bufferevent *bev;	/* owned (fd and SSL go with it); NULL until wrapped */
	struct dial *_dial;		/* owned: reaching host:port; NULL when not dialing */
	evutil_socket_t _fd;		/* UPSTREAM_TCP_ONLY: the connected socket until wrapped */
	char *_tls_name;		/* owned: SNI and name to verify (NULL: host) */
	int _tcp_only;			/* stop after TCP (a CONNECT to decrypt) */
	int _handshaking;		/* the TLS handshake runs */
	char *host;			/* owned: where it goes; NULL when closed */
	int port, tls;
	int connected;	      /* TCP (and TLS when asked) is up */
	int eof;	      /* the origin closed (its input may still hold bytes) */
	int fresh;	      /* the next request is the first on this connection */
	char addr[64];	      /* "ip:port" connected (or tried last) */
	struct flow_tls info; /* owned strings: the TLS handshake's details */
	/* Set by the owner (after upstream_init): an HTTP proxy every connection goes through,
	 * a CONNECT tunnel to host:port (dial_start_via). via.host NULL: direct. */
	struct dial_via via;
	int absolute;	      /* plain HTTP straight to via's proxy: requests in absolute-form, with
				 Proxy-Authorization from via.auth (upstream_proxy_head()) */
	struct flow_timing t; /* start, dns_done, connect_done, tls_done */
	int alpn;	      /* the ALPN_* protocols (alpn.h) TLS offers; 0: the context's
				 "http/1.1". From upstream_connect()'s UPSTREAM_ALPN(); with
				 UPSTREAM_TCP_ONLY the owner may set it before upstream_start_tls() */
	struct bevio_timeouts _timeouts; /* bev's, as upstream_set_timeouts() set them */
};

/* Sets up u for owner arg on w's thread: ops is borrowed, sink copied (the response parser's
 * events go to it). Never fails. */
void upstream_init(struct upstream *u, struct env_worker *w, const struct upstream_ops *ops,
		   const struct http1_sink *sink, void *arg);
/* Closes the connection and frees the parser. u may be used again only after
 * upstream_init(). */
void upstream_clear(struct upstream *u);
/* Drops the connection or the attempt (no callback runs for it afterwards), forgets where it
 * went and resets the parser. A no-op on a closed u. */
void upstream_close(struct upstream *u);

/* upstream_connect()'s flags */
#define UPSTREAM_TCP_ONLY 1 /* stop once TCP is up */
/* offer the ALPN_* protocols (alpn.h) of offer in TLS; without it "http/1.1" */
#define UPSTREAM_ALPN(offer) ((offer) << 8)

/* Closes what u had and starts reaching host:port, then TLS (SNI and verification against
 * tls_name, or host when tls_name is NULL, offering UPSTREAM_ALPN()'s protocols of flags) when
 * tls. With UPSTREAM_TCP_ONLY in flags the socket waits for upstream_start_tls() or
 * upstream_start_plain(). ops->on_ready tells the outcome; it may run before this returns. */
void upstream_connect(struct upstream *u, const char *host, int port, int tls, const char *tls_name,
		      int flags);
/* UPSTREAM_TCP_ONLY and TCP up: starts TLS (SNI and verification against name); the outcome
 * comes to ops->on_ready. Returns 0, or -1 (nothing called) when TLS could not be set up. */
int upstream_start_tls(struct upstream *u, const char *name);
/* UPSTREAM_TCP_ONLY: the connected socket (if TCP is up) is used as it is, reading on.
 * A no-op when TCP is not up. */
void upstream_start_plain(struct upstream *u);

/* Moves src's connection (connected, TLS done) to dst (closed first), whose owner gets its
 * callbacks from now on; src is left closed. A src that is not connected is only closed. */
void upstream_move(struct upstream *dst, struct upstream *src);
/* 1 when u is connected to host:port (name case-insensitive) with the same TLS and the origin
 * did not close it: a request may go on it. */
int upstream_reusable(const struct upstream *u, const char *host, int port, int tls);
/* 1 when a request for host (tls or not) on u goes to u's proxy in absolute-form: u is such
 * a connection (reused), or a new one would be (plain HTTP with a via). */
int upstream_absolute(const struct upstream *u, int reused, int tls);
/* The Proxy-Authorization header line (with its CRLF) for absolute-form requests to u's
 * proxy; malloc'd, the caller frees; NULL when there are no credentials. */
char *upstream_proxy_auth_line(const struct upstream *u);
/* Read and write timeouts of u's bufferevent: off (0) or the proxy's timeout, set lazily
 * (bevio_set_timeouts(); a timeout left armed is not reported to ops->on_event). */
void upstream_set_timeouts(struct upstream *u, int read_on, int write_on);

/* Copies into f what is known of the connection: the server address, the TLS details and,
 * for the first request on it, the timings of DNS, connect and TLS (f->t.start moves back to
 * the connection's start when that was earlier). */
void upstream_describe(struct upstream *u, struct flow *f);

/* One step of reading a response: feeds the first contiguous chunk of u's input to the
 * parser (its sink runs), sets *first_byte to now when bytes came and it is still 0. The
 * consumed bytes stay in the input for the caller to move or drop. Returns the number
 * consumed (0 when parsing stopped or nothing waits), -1 with *err (constant) on a
 * malformed response. *avail gets the chunk's length. */
ssize_t upstream_feed(struct upstream *u, int64_t *first_byte, size_t *avail, const char **err);

#endif
