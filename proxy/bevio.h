/* SPDX-License-Identifier: MIT */
/* bevio.h - bulk reads for bufferevents.
 *
 * libevent 2.1 (Debian 12's) reads a socket bufferevent 4 KiB per wake-up whatever
 * bufferevent_set_max_single_read() says (EVBUFFER_MAX_READ; 2.2 made it settable), and an
 * OpenSSL socket bufferevent about two TLS records per wake-up. Relaying a large body then
 * costs a loop turn, two epoll_ctl calls and a small write for every 4 KiB. bevio_fill() is
 * called from a read callback and reads on from the same socket into the bufferevent's input
 * until the socket is drained or the budget is spent. */
#ifndef BEVIO_H
#define BEVIO_H

#include <stddef.h>

struct bufferevent;

/* Reads up to max more bytes into bev's input: from its socket for a socket bufferevent, via
 * SSL_read for an OpenSSL socket bufferevent; nothing for a filter (it reads from the
 * bufferevent below it). Stops quietly at EAGAIN, end of stream or an error, leaving them for
 * libevent to report: the socket stays readable (level-triggered) until libevent has seen
 * them. Returns the number of bytes added. */
size_t bevio_fill(struct bufferevent *bev, size_t max);

#endif
