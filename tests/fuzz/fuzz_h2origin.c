/* SPDX-License-Identifier: MIT */
/* fuzz_h2origin.c - the client side of HTTP/2 towards an origin (h2origin.c) under arbitrary
 * origin bytes.
 *
 * Input: byte 0 seeds the split sizes and what the caller does (consume at once or not,
 * cancel the second stream); the rest is what the origin sends, after three requests were
 * submitted (streams 1, 3 and 5; the second with a body). The session's output is drained
 * between feeds. Invariants checked:
 *   - a stream's head comes at most once, is final (status 200..999) and of version 20;
 *   - body bytes and the end come only after the head, the end at most once;
 *   - no callback runs for a stream after its close or its cancel, and each stream that was
 *     not cancelled is closed exactly once, by h2origin_free() at the latest. */
#include "check.h"
#include "h2origin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

struct st {
	struct h2origin *o;
	int32_t id;
	int heads, ends, closes, cancelled, consume;
	size_t body_left; /* request body still to give */
};

static void on_head(void *arg, struct flow_msg *head)
{
	struct st *s = arg;
	check(!s->closes && !s->cancelled && s->heads == 0);
	check(head->status >= 200 && head->status <= 999 && head->version == 20);
	s->heads++;
}

static void on_data(void *arg, const char *data, size_t len)
{
	struct st *s = arg;
	(void)data;
	check(!s->closes && !s->cancelled && s->heads == 1 && !s->ends);
	if (s->consume)
		h2origin_consume(s->o, s->id, len);
}

static void on_trailers(void *arg, const struct flow_msg *t)
{
	struct st *s = arg;
	(void)t;
	check(!s->closes && !s->cancelled && s->heads == 1);
}

static void on_end(void *arg)
{
	struct st *s = arg;
	check(!s->closes && !s->cancelled && s->heads == 1 && !s->ends);
	s->ends++;
}

static void on_close(void *arg, const char *why)
{
	struct st *s = arg;
	check(!s->closes && !s->cancelled);
	check(why || s->ends == 1);
	s->closes++;
}

static size_t on_read_body(void *arg, char *buf, size_t len, int *eof)
{
	struct st *s = arg;
	size_t n = s->body_left < len ? s->body_left : len;
	memset(buf, 'x', n);
	s->body_left -= n;
	*eof = s->body_left == 0;
	return n;
}

static const struct h2origin_ops ops = {on_head,  on_data,	on_trailers, on_end,
					on_close, on_read_body, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned seed = data[0];
	data++, size--;
	struct h2origin *o = h2origin_new(65535);
	struct st s[3] = {{0}};
	struct flow_msg req = {.method = "GET"};
	for (int i = 0; i < 3; i++) {
		s[i].o = o;
		s[i].consume = (seed & 1) != 0;
		s[i].body_left = i == 1 ? 100000 : 0;
		s[i].id =
		    h2origin_submit(o, &req, "https", "origin.test", "/", i == 1, &ops, &s[i]);
		check(s[i].id == 1 + 2 * i);
	}
	struct evbuffer *out = evbuffer_new();
	const char *err = NULL;
	size_t step = 1 + (seed >> 2) * 7;
	int broken = 0;
	for (size_t off = 0; off < size && !broken; off += step) {
		size_t n = size - off < step ? size - off : step;
		broken = h2origin_recv(o, (const char *)data + off, n, &err) != 0;
		if (h2origin_send(o, out, 1 << 20, &err) != 0)
			broken = 1;
		evbuffer_drain(out, evbuffer_get_length(out));
		if ((seed & 2) && off == 0 && !s[1].closes) {
			h2origin_cancel(o, s[1].id);
			s[1].cancelled = 1;
		}
	}
	h2origin_free(o, "end");
	for (int i = 0; i < 3; i++)
		check(s[i].cancelled ? s[i].closes == 0 : s[i].closes == 1);
	evbuffer_free(out);
	return 0;
}
