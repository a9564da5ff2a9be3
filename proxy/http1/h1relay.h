/* SPDX-License-Identifier: MIT */
/* h1relay.h - HTTP/1 as the exchange's downstream (h1relay.c): the response relayed back to the
 * client, raw tunnels after a 101, the connection's next state. Called by the dispatcher
 * (client.c); runs inside the connection's conn_enter()/conn_leave(). */
#ifndef H1RELAY_H
#define H1RELAY_H

#include "conn-t.h"

/* Makes HTTP/1 on c the downstream of c->x (x->up is c->up). Once, after exchange_init(). */
void h1relay_attach(struct conn *c);
/* CONN_TUNNEL: relays what the client sent (a WebSocket's messages read on the way). */
enum conn_step h1relay_tunnel_read(struct conn *c);
/* Relays what the upstream sent: the exchange's response (EXCHANGE), raw bytes (TUNNEL). */
void h1relay_pump(struct conn *c);
/* The upstream closed or failed with why (may be NULL) and its input is consumed. */
void h1relay_upstream_closed(struct conn *c, const char *why);

#endif
