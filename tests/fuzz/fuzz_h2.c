/* SPDX-License-Identifier: MIT */
/* fuzz_h2.c - the server side of the HTTP/2 module (http2.c) under arbitrary client bytes.
 *
 * Input: byte 0 seeds the split sizes and how the sink answers (at once, after the request's
 * end, or with a reset); the rest is what the client sends (the connection preface is put in
 * front when the input does not start with it, so that mutations reach the frames). The
 * session's output is drained between feeds. Invariants checked:
 *   - every request that reaches the sink could go to an HTTP/1.1 origin as it is: a token
 *     method, a path starting with / (or *), lowercase token names, no CR, LF or NUL in any
 *     value, no connection-specific header, no te but "trailers", version 20;
 *   - body bytes never exceed the announced content-length, and a request that ends has
 *     exactly that many;
 *   - each stream is closed exactly once (on_close), and every stream that reached the sink
 *     is closed by http2_free() at the latest. */
#include "check.h"
#include "http2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

struct req {
	int64_t length; /* content-length, -1 if none */
	uint64_t got;
	int ended;
};

struct run {
	struct http2 *h;
	unsigned mode; /* 0: answer at the end, 1: answer at once, 2: reset at once */
	unsigned requests, closes;
};

static void check_head(const struct http2_stream *st, struct req *r)
{
	const struct flow_msg *m = &st->head;
	static const char *const banned[] = {"connection", "keep-alive", "proxy-connection",
					     "transfer-encoding", "upgrade"};
	check(m->version == 20 && m->method && m->method[0] && m->target);
	check(m->target[0] == '/' || strcmp(m->target, "*") == 0);
	for (const char *p = m->method; *p; p++)
		check(*p > 0x20 && *p < 0x7f);
	for (const char *p = m->target; *p; p++)
		check((unsigned char)*p > 0x20 && *p != 0x7f);
	r->length = -1;
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *hd = &m->headers[i];
		check(hd->name_len > 0 && strlen(hd->name) == hd->name_len);
		for (size_t k = 0; k < hd->name_len; k++)
			check(hd->name[k] > 0x20 && hd->name[k] < 0x7f && hd->name[k] != ':' &&
			      !(hd->name[k] >= 'A' && hd->name[k] <= 'Z'));
		check(!memchr(hd->value, '\r', hd->value_len) &&
		      !memchr(hd->value, '\n', hd->value_len) &&
		      strlen(hd->value) == hd->value_len);
		for (size_t k = 0; k < sizeof banned / sizeof *banned; k++)
			check(strcmp(hd->name, banned[k]) != 0);
		if (strcmp(hd->name, "te") == 0)
			check(strcasecmp(hd->value, "trailers") == 0);
		if (strcmp(hd->name, "content-length") == 0)
			r->length = strtoll(hd->value, NULL, 10);
	}
}

static void answer(struct run *run, struct http2_stream *st)
{
	struct flow_msg head = {.status = 200};
	flow_msg_add_header(&head, "Content-Type", 12, "text/plain", 10);
	flow_msg_add_header(&head, "Connection", 10, "close", 5); /* must not go out */
	http2_respond(run->h, st, &head, 0);
	flow_msg_clear(&head);
}

static void on_request(void *arg, struct http2_stream *st, int end)
{
	struct run *run = arg;
	struct req *r = calloc(1, sizeof *r);
	check(r && !st->user && !st->refused);
	st->user = r;
	run->requests++;
	check_head(st, r);
	r->ended = end;
	if (end)
		check(r->length <= 0);
	if (run->mode == 1 || (run->mode == 0 && end))
		answer(run, st);
	else if (run->mode == 2)
		http2_reset(run->h, st, NGHTTP2_CANCEL);
}

static void on_data(void *arg, struct http2_stream *st, const char *data, size_t len)
{
	struct run *run = arg;
	struct req *r = st->user;
	(void)data;
	check(r && !r->ended);
	r->got += len;
	check(r->length < 0 || r->got <= (uint64_t)r->length);
	http2_consume(run->h, st, len);
}

static void on_end(void *arg, struct http2_stream *st)
{
	struct run *run = arg;
	struct req *r = st->user;
	check(r && !r->ended);
	r->ended = 1;
	check(r->length < 0 || r->got == (uint64_t)r->length);
	if (run->mode == 0)
		answer(run, st);
}

static void on_close(void *arg, struct http2_stream *st, const char *why)
{
	struct run *run = arg;
	(void)why;
	if (st->user) {
		run->closes++;
		free(st->user);
		st->user = NULL;
	}
}

static size_t on_read_body(void *arg, struct http2_stream *st, char *buf, size_t len, int *eof)
{
	(void)arg;
	(void)st;
	static const char body[] = "hello\n";
	size_t n = len < sizeof body - 1 ? len : sizeof body - 1;
	memcpy(buf, body, n);
	*eof = 1;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	data++, size--;
	struct run run = {.mode = seed % 3};
	struct http2_sink sink = {on_request, on_data, on_end, on_close, on_read_body, &run};
	run.h = http2_new(&sink, 65535);
	struct evbuffer *out = evbuffer_new();
	const char *err = NULL;
	int broken = 0;
	if (size < sizeof preface - 1 || memcmp(data, preface, sizeof preface - 1) != 0)
		broken = http2_recv(run.h, preface, sizeof preface - 1, &err) != 0;
	size_t off = 0;
	while (off < size && !broken) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 97;
		if (n > size - off)
			n = size - off;
		broken = http2_recv(run.h, (const char *)data + off, n, &err) != 0;
		if (broken)
			check(err && *err);
		off += n;
		check(http2_send(run.h, out, 1 << 20, &err) == 0);
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	http2_free(run.h, "end of input");
	check(run.closes == run.requests);
	evbuffer_free(out);
	return 0;
}
