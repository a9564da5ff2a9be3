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

/* Relaying stops reading a side while the other side's output holds this much, and resumes
 * at half: memory per connection stays near 2 * BEVIO_HIGH_WATER whatever the body size. */
#define BEVIO_HIGH_WATER (1024 * 1024)

/* Reads up to max more bytes into bev's input: from its socket for a socket bufferevent, via
 * SSL_read for an OpenSSL socket bufferevent; nothing for a filter (it reads from the
 * bufferevent below it). Stops quietly at EAGAIN, end of stream or an error, leaving them for
 * libevent to report: the socket stays readable (level-triggered) until libevent has seen
 * them. Returns the number of bytes added. */
size_t bevio_fill(struct bufferevent *bev, size_t max);

/* The proxy's settings for a bufferevent that relays: input capped at BEVIO_HIGH_WATER,
 * reads of one TLS record at a time (bulk reads are bevio_fill_input()'s job), writes in
 * chunks of up to 256 KiB instead of libevent's 16 KiB. */
void bevio_tune(struct bufferevent *bev);
/* From a read callback: reads on past libevent's 4 KiB with bevio_fill(), up to the input's
 * high-water mark. Does nothing when libevent's own read left under 4 KiB (the socket is
 * drained: another read would only say EAGAIN). */
void bevio_fill_input(struct bufferevent *bev);

#endif
