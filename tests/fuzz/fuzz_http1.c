/* SPDX-License-Identifier: MIT */
/* fuzz_http1.c - the HTTP/1 glue under random input and random splits.
 *
 * Input: byte 0 picks the side (bit 0: response) and the request method a response answers
 * (bit 1: HEAD); byte 1 seeds the split sizes; the rest is the stream. Invariants checked:
 *   - a feed never consumes more than it was given;
 *   - fed whole or in random pieces, the stream gives the same heads, ends, body bytes and
 *     verdict (error or not);
 *   - a message that ends with a Content-Length (and a body: not CONNECT, not an answer to
 *     HEAD, not 1xx/204/304) reported exactly that many body bytes. */
#include "http1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct trace {
	uint64_t hash; /* of heads, ends and body bytes, in order */
	uint64_t body; /* body bytes of the current message */
	int64_t want;  /* Content-Length of the current message, -1 if none or no body */
	int response, head_method;
	unsigned ends;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211ull;
}

static void on_head(void *arg, struct flow_msg *m)
{
	struct trace *t = arg;
	mix(t, "H", 1);
	mix(t, &m->status, sizeof m->status);
	mix(t, &m->version, sizeof m->version);
	if (m->method)
		mix(t, m->method, strlen(m->method));
	if (m->target)
		mix(t, m->target, strlen(m->target));
	t->body = 0;
	t->want = -1;
	/* no body: answers to HEAD, 1xx, 204, 304; and CONNECT, whose bytes after the head
	 * belong to the tunnel even when it announces a length */
	int bodyless = (t->response && (t->head_method || (m->status >= 100 && m->status < 200) ||
					m->status == 204 || m->status == 304)) ||
		       (m->method && strcmp(m->method, "CONNECT") == 0);
	for (size_t i = 0; i < m->num_headers; i++) {
		mix(t, m->headers[i].name, m->headers[i].name_len);
		mix(t, m->headers[i].value, m->headers[i].value_len);
		if (strcasecmp(m->headers[i].name, "Content-Length") == 0 && !bodyless)
			t->want = strtoll(m->headers[i].value, NULL, 10);
		if (strcasecmp(m->headers[i].name, "Transfer-Encoding") == 0)
			t->want = -2; /* chunked wins (or the message is refused) */
	}
}

static void on_body(void *arg, const char *data, size_t len)
{
	struct trace *t = arg;
	mix(t, data, len);
	t->body += len;
}

static void on_end(void *arg)
{
	struct trace *t = arg;
	mix(t, "E", 1);
	t->ends++;
	if (t->want >= 0 && t->body != (uint64_t)t->want)
		abort();
}

/* Trailers, in the trace too: however the input is split, the same fields. */
static void on_trailers(void *arg, const struct flow_msg *m)
{
	struct trace *t = arg;
	mix(t, "T", 1);
	for (size_t i = 0; i < m->num_headers; i++) {
		mix(t, m->headers[i].name, m->headers[i].name_len);
		mix(t, m->headers[i].value, m->headers[i].value_len);
	}
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* Feeds data in pieces (max_piece 0: whole); returns 1 on error. */
static int run(const uint8_t *data, size_t size, int response, int head, uint32_t seed,
	       struct trace *t)
{
	memset(t, 0, sizeof *t);
	t->response = response;
	t->head_method = head;
	struct http1_sink sink = {on_head, on_body, on_end, t, on_trailers};
	struct http1 *p = http1_new(response ? HTTP1_RESPONSE : HTTP1_REQUEST, &sink);
	http1_set_request_method(p, head ? "HEAD" : "GET");
	const char *err = NULL;
	int failed = 0;
	size_t off = 0;
	while (off < size && !failed && !http1_upgraded(p)) {
		size_t piece = size - off;
		if (seed) {
			size_t r = 1 + rnd(&seed) % 64;
			if (r < piece)
				piece = r;
		}
		/* the piece is copied so that ASan catches reads past it */
		char *copy = malloc(piece);
		memcpy(copy, data + off, piece);
		size_t used = 0;
		while (used < piece) {
			ssize_t n = http1_feed(p, copy + used, piece - used, &err);
			if (n < 0) {
				failed = 1;
				break;
			}
			if ((size_t)n > piece - used)
				abort(); /* consumed more than it was given */
			used += (size_t)n;
			if (http1_upgraded(p))
				break;
		}
		free(copy);
		off += used;
		if (used < piece)
			break;
	}
	if (!failed && !http1_upgraded(p) && http1_feed(p, NULL, 0, &err) < 0)
		failed = 1;
	if (!failed && response && http1_finish(p, &err) != 0)
		failed = 1;
	if (failed && (!err || !*err))
		abort(); /* an error always has a name */
	mix(t, &failed, sizeof failed);
	http1_free(p);
	return failed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int response = data[0] & 1, head = (data[0] >> 1) & 1;
	uint32_t seed = data[1] | 0x100u;
	struct trace whole, split;
	int f1 = run(data + 2, size - 2, response, head, 0, &whole);
	int f2 = run(data + 2, size - 2, response, head, seed, &split);
	if (f1 != f2 || whole.hash != split.hash || whole.ends != split.ends)
		abort();
	return 0;
}
