/* SPDX-License-Identifier: MIT */
/* bevio.h - bulk reads, immediate writes and lazily set timeouts for bufferevents.
 *
 * libevent 2.1 (Debian 12's) reads a socket bufferevent 4 KiB per wake-up whatever
 * bufferevent_set_max_single_read() says (EVBUFFER_MAX_READ; 2.2 made it settable), and an
 * OpenSSL socket bufferevent about two TLS records per wake-up. Relaying a large body then
 * costs a loop turn, two epoll_ctl calls and a small write for every 4 KiB. bevio_fill() is
 * called from a read callback and reads on from the same socket into the bufferevent's input
 * until the socket is drained or the budget is spent.
 *
 * Writing is the mirror image: bytes added to a bufferevent's output arm its write event
 * (epoll_ctl), wait a loop turn for the socket to say it is writable (it almost always is),
 * are written, and disarm it (epoll_ctl again). bevio_send() writes at once what fits in the
 * socket when nothing is queued before it, and leaves the rest to the bufferevent. */
#ifndef BEVIO_H
#define BEVIO_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct evbuffer;
struct timeval;

/* Relaying stops reading a side while the other side's output holds this much, and resumes
 * at half: memory per connection stays near 2 * BEVIO_HIGH_WATER whatever the body size. */
#define BEVIO_HIGH_WATER (1024 * 1024)

/* Reads up to max more bytes into bev's input: from its socket for a socket bufferevent, via
 * SSL_read for an OpenSSL socket bufferevent; nothing for a filter (it reads from the
 * bufferevent below it). Stops quietly at EAGAIN, end of stream or an error, leaving them for
 * libevent to report: the socket stays readable (level-triggered) until libevent has seen
 * them. Returns the number of bytes added. */
size_t bevio_fill(struct bufferevent *bev, size_t max);

/* Once its handshake is done, an OpenSSL socket bufferevent reads ahead: one read() takes
 * what the socket holds, several TLS records at times, where OpenSSL alone reads each record's
 * header, then the record (two read()s per record). Not during the handshake: bytes that
 * follow it (a TLS 1.3 client's first request comes with its Finished) stay in the socket,
 * which wakes libevent for them. Nothing for other bufferevents. The read callback must then
 * call bevio_fill_input() (or bevio_take_held()). */
void bevio_read_ahead(struct bufferevent *bev);

/* libevent's OpenSSL bufferevent reads one or two records per wake-up and then waits for the
 * socket, which may have nothing more to say while OpenSSL holds more records (read ahead):
 * they would wait for ever. Whoever gets bytes from such a bufferevent takes them all with
 * this: every complete record OpenSSL holds, decrypted into bev's input, whatever its
 * high-water mark (at most a read's worth). What stays behind is part of a record whose rest
 * is still to come: the socket wakes us for it. Returns the bytes added; 0 without TLS. */
size_t bevio_take_held(struct bufferevent *bev);

/* The proxy's settings for a bufferevent that relays: reads of one TLS record at a time
 * (bulk reads are bevio_fill_input()'s job), writes in chunks of up to 256 KiB instead of
 * libevent's 16 KiB. Its read callback must call bevio_fill_input(), which caps the input. */
void bevio_tune(struct bufferevent *bev);
/* From a read callback: once the input holds 4 KiB, caps it at BEVIO_HIGH_WATER for good
 * (libevent stops reading there; a small exchange never pays for the mark); reads on past
 * libevent's 4 KiB with bevio_fill(), up to that cap (not when libevent's own read left under
 * 4 KiB: the socket is drained, and another read would only say EAGAIN); then takes what
 * OpenSSL holds (bevio_take_held()). */
void bevio_fill_input(struct bufferevent *bev);

/* Writes up to n bytes from the front of src straight to bev's socket (SSL_write for an
 * OpenSSL socket bufferevent, one TLS record of up to 16 KiB, all or nothing; write() for a
 * socket bufferevent, as much as the socket takes) and drains them from src. Only when bev's
 * output is empty, bev is open (TLS handshake done) and writing is enabled; otherwise, and on
 * EAGAIN or an error, writes nothing: the caller adds what is left of the n bytes to bev's
 * output as before, where libevent retries the write (OpenSSL's rule that a retried write
 * starts with the same bytes holds) and reports any error. No write callback runs for what was
 * written here. Returns the number of bytes written. */
size_t bevio_send(struct bufferevent *bev, struct evbuffer *src, size_t n);

/* Read and write timeouts set lazily. A keep-alive exchange turned the client's read timeout
 * off while the upstream answered and on again after, and the upstream's on for the request
 * and off while idle: four re-adds of libevent events per request (and their common-timeout
 * queues). Turning a timeout off leaves it armed (bevio_timeout_wanted() then ignores it
 * when it fires); turning it back on leaves it alone when it was armed and left alone for
 * less than an eighth of the timeout (at most 1 s): the timeout then runs from the last
 * read or write before that, which is what libevent's own re-arming on each read does. */
struct bevio_timeouts {
	int armed;	    /* what libevent has: 1 read, 2 write; -1 unknown (new bufferevent) */
	int want;	    /* what the owner asked for last */
	int64_t lazy_since; /* us, monotonic: since when armed is more than want */
};

/* t describes a new bufferevent (or none): the next bevio_set_timeouts() sets both. */
void bevio_timeouts_reset(struct bevio_timeouts *t);
/* Read (read_on) and write (write_on) timeouts of bev: off, or tv (borrowed, the worker's
 * common timeout), as described above. */
void bevio_set_timeouts(struct bufferevent *bev, struct bevio_timeouts *t, const struct timeval *tv,
			int read_on, int write_on);
/* bev's timeout fired (what as given to the event callback): 1 when the owner asked for it;
 * 0 when it was only left armed, and the direction that timed out is enabled again (a socket
 * bufferevent disables it): the owner ignores the event. */
int bevio_timeout_wanted(struct bufferevent *bev, struct bevio_timeouts *t, short what);

#endif
