/* SPDX-License-Identifier: MIT */
/* h2conn-t.h - what the files of one HTTP/2 client connection share (types, and a kick):
 *
 *   h2conn.c   the client's session (http2.c): each stream one exchange, HTTP/1.1 upstreams
 *              from a pool of slots (origin.c drives them), the exchange's downstream
 *   h2up.c     an h2 origin (ALPN h2 on the tunnel's upstream): the streams whose origin it
 *              is go to it as streams of one connection (h2origin.c)
 *
 * Internal to proxy/http2. */
#ifndef H2CONN_T_H
#define H2CONN_T_H

#include "conn-t.h"

#define STREAM_WINDOW (256 * 1024) /* each stream's receive window */
#define STREAM_BUF (256 * 1024)	   /* response bytes a stream keeps before the origin waits */
#define MAX_IDLE 100 /* idle upstreams kept per client connection: one per stream allowed */

struct h2s;
struct h2up;

/* An upstream connection of this client connection. */
struct slot {
	struct upstream u;	/* its parser's events go to sink, the current exchange's */
	struct h2conn *h;	/* borrowed: the owner */
	struct h2s *s;		/* the stream using it, NULL when idle */
	struct http1_sink sink; /* origin_sink() of s's exchange */
	struct slot *next;
};

/* One stream as one exchange. */
struct h2s {
	struct exchange x;	 /* the flow; x.up is s->slot's upstream */
	struct h2conn *h;	 /* borrowed */
	struct http2_stream *st; /* borrowed from http2.c until on_close */
	struct slot *slot;	 /* the upstream in use, NULL when none */
	struct evbuffer *req;	 /* owned: request body not yet taken by the exchange */
	struct evbuffer *resp;	 /* owned: response body not yet sent */
	int req_ended;		 /* the client's END_STREAM came */
	int req_sent;		 /* ... and origin_request_end() was called */
	int chunked;		 /* the request body goes up chunked (no content-length) */
	int resp_done;		 /* nothing more comes into resp */
	int over;		 /* the exchange ended (answered, failed): body is dropped */
	int want;		 /* h2conn_pump() looks at it */
	int blocked_down;	 /* is_full() said so: pump again once there is room */
	int blocked_up;		 /* the upstream's output is full: pump on its drain */
	int up_ready;		 /* the request head went up: its body may follow */
	int bodyless;		 /* HEAD, 204 or 304: no DATA, whatever the origin sends */
	/* On the h2 origin (h2up.c) once it took the request: */
	int32_t up_id;		  /* its stream id there, 0 when none */
	struct h2up *up2;	  /* borrowed: that origin connection (valid while up_id) */
	struct evbuffer *up_body; /* owned: request body taken from req, not yet sent (NULL) */
	int up_retried;		  /* sent again after the origin refused it unprocessed */
	int up_sent;		  /* body bytes went to the origin's stream */
	size_t unacked;		  /* response bytes in resp not yet given back to the origin */
	struct event *up_timer;	  /* owned: no progress from the origin for the timeout (NULL) */
	struct h2s *prev, *next;  /* in h->streams */
};

struct h2conn {
	struct conn *c;	       /* borrowed: the client connection */
	struct http2 *session; /* owned */
	struct h2s *streams;   /* live streams */
	struct slot *slots;    /* every upstream slot (idle or in use) */
	struct h2up *up2;      /* owned: the h2 origins (h2up.c), newest first, or NULL */
};

/* Asks h2conn_pump() to look at s (its request body, its upstream). h2up.c, below h2conn.c,
 * fails a stream through its exchange's downstream (s->x.down->on_error_page). */
static inline void h2conn_kick(struct h2s *s)
{
	s->want = 1;
	conn_want(s->h->c, CONN_WANT_UPSTREAM);
}

#endif
