/* SPDX-License-Identifier: MIT */
/* conn.c - the services of one client connection that every protocol module uses (HTTP/1,
 * HTTP/2, tunnels): the enter/leave bracket around callbacks, asking the drive loop for work,
 * closing (at once or after a flush), timeouts, backpressure, the upstream connection's
 * making and dropping, the intercept's pause, the response bytes held back until a callback
 * ends (c->soon).
 *
 * The dispatcher above (client.c) owns the loop and the lifetime; this file reaches it only
 * through c->ops (struct conn_ops, conn-t.h), set once at accept: conn_leave() runs its drive
 * loop when there is work and frees the connection through it when asked to close. Nothing
 * here frees a connection itself. */
#include "conn-t.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

void conn_close(struct conn *c, const char *why)
{
	if (!c->close_reason)
		c->close_reason = why;
}

void conn_want(struct conn *c, unsigned what)
{
	c->want |= what;
}

void conn_leave(struct conn *c) /* the only caller of ops->free */
{
	if (c->depth == 1) {
		if (c->want)
			c->ops->drive(c);
		conn_flush_soon(c);
	}
	if (--c->depth == 0 && c->close_reason)
		c->ops->free(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers */

int conn_over(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_output(bev)) >= HIGH_WATER;
}

void conn_block_on(struct bufferevent *dst, int *flag)
{
	*flag = 1;
	bufferevent_setwatermark(dst, EV_WRITE, HIGH_WATER / 2, 0);
}

/* All connections share one timeout length, so libevent keeps them in a common-timeout queue
 * (O(1) per change) instead of its heap; they are set lazily (bevio_set_timeouts()). */
void conn_set_client_timeout(struct conn *c, int read_on, int write_on)
{
	if (c->client)
		bevio_set_timeouts(c->client, &c->client_to, c->w->timeout_tv, read_on, write_on);
}

/* Bytes not yet handed to the kernel (or to OpenSSL, which writes to the socket itself). */
size_t conn_unsent(struct bufferevent *bev)
{
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Moves what is held in c->soon to the client: written at once when nothing waits in the
 * client's output (no epoll_ctl to arm the write event and disarm it after a loop turn, the
 * whole small response in one TLS record), else queued behind what waits. */
void conn_flush_soon(struct conn *c)
{
	size_t n = c->soon ? evbuffer_get_length(c->soon) : 0;
	if (!n || !c->client || c->close_reason) /* closing now: unsent output goes unsent */
		return;
	if (bevio_send(c->client, c->soon, n) == n)
		return;
	struct evbuffer *out = bufferevent_get_output(c->client);
	evbuffer_add_buffer(out, c->soon);
	if (evbuffer_get_length(out) <= COALESCE_MAX && bufferevent_openssl_get_ssl(c->client))
		evbuffer_pullup(out, -1);
}

void conn_close_after_flush(struct conn *c, const char *why)
{
	conn_flush_soon(c); /* what is held back is part of what is flushed */
	c->state = CONN_CLOSING;
	c->orderly = 1;
	if (c->client)
		bufferevent_disable(c->client, EV_READ);
	if (c->up.bev)
		bufferevent_disable(c->up.bev, EV_READ);
	if (!conn_unsent(c->client) && !conn_unsent(c->up.bev)) {
		conn_close(c, why);
		return;
	}
	/* The write callbacks finish the job; a client that stops reading cannot hold us. */
	if (c->client) {
		bufferevent_setwatermark(c->client, EV_WRITE, 0, 0);
		conn_set_client_timeout(c, 0, conn_env(c)->timeout_s);
	}
	if (c->up.bev) {
		bufferevent_setwatermark(c->up.bev, EV_WRITE, 0, 0);
		upstream_set_timeouts(&c->up, 0, conn_env(c)->timeout_s);
	}
}

void conn_free_upstream(struct conn *c)
{
	upstream_close(&c->up);
	c->blocked_up = 0;
}

/* Connects to t_host:t_port (TLS if t_tls): DNS, TCP, then TLS (upstream.c); ends in
 * on_up_ready(). A CONNECT to decrypt stops after TCP: TLS waits for the ClientHello. */
void conn_start_connect(struct conn *c)
{
	conn_free_upstream(c);
	/* the client's SNI, unless an intercept edit sent the request elsewhere */
	int same = c->tun_host && strcasecmp(c->t_host, c->tun_host) == 0;
	c->state = CONN_CONNECTING;
	upstream_connect(&c->up, c->t_host, c->t_port, c->t_tls, c->sni[0] && same ? c->sni : NULL,
			 c->purpose == UP_SPLIT ? UPSTREAM_TCP_ONLY : 0);
}

void conn_relay_raw(struct bufferevent *from, struct bufferevent *to, int *blocked, uint64_t *count)
{
	struct evbuffer *in = bufferevent_get_input(from);
	size_t len = evbuffer_get_length(in);
	if (!len)
		return;
	size_t room = HIGH_WATER - evbuffer_get_length(bufferevent_get_output(to));
	if (len > room)
		len = room;
	evbuffer_remove_buffer(in, bufferevent_get_output(to), len);
	*count += len;
	if (conn_over(to))
		conn_block_on(to, blocked);
}

void conn_pause(struct conn *c, enum exchange_side side)
{
	c->state = CONN_PAUSED;
	/* no timeouts while the user thinks; read on only to notice a client that leaves */
	conn_set_client_timeout(c, 0, 0);
	bufferevent_enable(c->client, EV_READ);
	if (c->up.bev)
		upstream_set_timeouts(&c->up, 0, 0);
	exchange_pause(&c->x, side, c->w->base, c);
}

void conn_set_client(struct conn *c, struct bufferevent *bev)
{
	c->client = bev;
	bevio_timeouts_reset(&c->client_to);
	bufferevent_setcb(bev, c->ops->on_read, c->ops->on_write, c->ops->on_event, c);
	bevio_tune(bev);
}
