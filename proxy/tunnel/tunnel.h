/* SPDX-License-Identifier: MIT */
/* tunnel.h - CONNECT and SOCKS5 tunnels of a client connection (tunnel.c): passed through, or
 * decrypted (ClientHello peek, forged leaf, TLS), and the TLS-or-not peek of reverse and
 * transparent listeners. Runs inside the connection's conn_enter()/conn_leave(); below HTTP/1
 * (h1server.c opens tunnels) and the dispatcher (client.c), above conn.c. */
#ifndef TUNNEL_H
#define TUNNEL_H

#include "conn-t.h"

/* The tunnel to host:port asked for (by an HTTP CONNECT, SOCKS5 or a transparent listener's
 * redirect) in c->x.flow: passed through, or decrypted as the rules say. */
void tunnel_open(struct conn *c, const char *host, int port);
/* A split CONNECT's first client bytes: waits for a whole ClientHello, then goes on. */
void tunnel_peek_hello(struct conn *c);
/* The upstream of a split CONNECT: TCP is up (or failed with c->pending_error set). */
void tunnel_answer(struct conn *c);
/* TLS with the upstream is up, or failed (c->pending_error): forge a leaf and handshake the
 * client. */
void tunnel_start_client_tls(struct conn *c);
/* The TLS handshake with the client is done. */
void tunnel_client_ready(struct conn *c);
/* A CONNECT passed through: its upstream is connected; answer and relay. */
void tunnel_passed(struct conn *c);
/* Reaching the upstream failed with msg: answered in-band for a CONNECT to decrypt, in SOCKS's
 * terms, or by closing a transparent client's tunnel. Returns 0 then, or -1: the caller answers
 * 502 in HTTP (h1server_send_error()); the upstream is dropped either way. */
int tunnel_connect_failed(struct conn *c, const char *msg);
/* CONN_SOCKS: reads the SOCKS5 greeting and request; a CONNECT goes on as an HTTP CONNECT
 * does (answered in SOCKS), anything else is answered with its reply code and closed. */
enum conn_step tunnel_socks_read(struct conn *c);

#endif
