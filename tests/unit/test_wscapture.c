/* SPDX-License-Identifier: MIT */
/* test_wscapture.c - WebSocket capture (wscapture.h over wsframe.h): messages of both
 * directions with their content, fragments with a control frame between them fed at every
 * split, permessage-deflate with and without context takeover, the close, the cap, each
 * malformed frame, and the evbuffer tap. Inputs end right before a PROT_NONE page, so a parser
 * that reads one byte too far crashes. */
#include "wscapture.h"

#include "harness.h"
#include "wsframe.h"
#include "wsmsg.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <zlib.h>

/* What the sink received. */
static struct wsmsg msgs[64];
static size_t num_msgs;
static struct wsmsg_close closed;

static void on_messages(void *arg, struct wsmsg_batch *b)
{
	(void)arg;
	for (size_t i = 0; i < b->num && num_msgs < 64; i++) {
		msgs[num_msgs] = b->msgs[i];
		b->msgs[i].data = NULL; /* kept here */
		num_msgs++;
	}
	if (b->has_close) {
		wsmsg_close_clear(&closed);
		closed = b->close;
		memset(&b->close, 0, sizeof b->close);
	}
	wsmsg_batch_free(b);
}

static void reset(void)
{
	for (size_t i = 0; i < num_msgs; i++)
		free(msgs[i].data);
	num_msgs = 0;
	wsmsg_close_clear(&closed);
}

static int msg_is(size_t i, int from_client, int opcode, const char *text, size_t len)
{
	return i < num_msgs && msgs[i].index == i && msgs[i].from_client == from_client &&
	       msgs[i].opcode == opcode && msgs[i].len == len && msgs[i].size == len &&
	       !msgs[i].truncated && (len == 0 || memcmp(msgs[i].data, text, len) == 0);
}

/* A frame into out (returns its length): fin, rsv1, opcode, payload, masked when mask. */
static size_t frame(unsigned char *out, int fin, int rsv1, int op, const void *data, size_t len,
		    int mask)
{
	static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
	size_t n = 0;
	out[n++] = (unsigned char)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op);
	unsigned char m = mask ? 0x80 : 0;
	if (len < 126) {
		out[n++] = (unsigned char)(m | len);
	} else if (len < 65536) {
		out[n++] = m | 126;
		out[n++] = (unsigned char)(len >> 8);
		out[n++] = (unsigned char)len;
	} else {
		out[n++] = m | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, key, 4);
		n += 4;
	}
	for (size_t i = 0; i < len; i++)
		out[n + i] = ((const unsigned char *)data)[i] ^ (mask ? key[i & 3] : 0);
	return n + len;
}

/* data copied to the end of a page that a PROT_NONE page follows. */
static unsigned char *guarded(const unsigned char *data, size_t len, void **map, size_t *maplen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;
	*maplen = (pages + 1) * page;
	unsigned char *p =
	    mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p + pages * page, page, PROT_NONE);
	*map = p;
	unsigned char *at = p + pages * page - len;
	memcpy(at, data, len);
	return at;
}

static struct wscapture *capture(const char *extensions, size_t limit)
{
	static struct flow f;
	flow_msg_clear(&f.response);
	f.id = 7;
	if (extensions)
		flow_msg_add_header(&f.response, "Sec-WebSocket-Extensions", 24, extensions,
				    strlen(extensions));
	struct flow_sink sink = {.emit_messages = on_messages};
	struct wscapture *w = wscapture_new(&f, limit, &sink);
	flow_msg_clear(&f.response);
	return w;
}

static void test_messages(void)
{
	unsigned char buf[1024];
	struct wscapture *w = capture(NULL, 1 << 20);
	size_t n = frame(buf, 1, 0, WSFRAME_TEXT, "hello", 5, 1);
	ok(wscapture_feed(w, 1, buf, n) == 0);
	n = frame(buf, 1, 0, WSFRAME_BINARY, "\0\1\2", 3, 0);
	n += frame(buf + n, 1, 0, WSFRAME_TEXT, "", 0, 0);
	ok(wscapture_feed(w, 0, buf, n) == 0);
	wscapture_flush(w);
	ok(num_msgs == 3);
	ok(msg_is(0, 1, WSMSG_TEXT, "hello", 5));
	ok(msg_is(1, 0, WSMSG_BINARY, "\0\1\2", 3));
	ok(msg_is(2, 0, WSMSG_TEXT, "", 0));
	ok(wscapture_error(w) == NULL);
	wscapture_free(w);
	reset();
}

/* A text in three fragments, a ping between the first two, fed in two parts cut at each byte:
 * always the same message. */
static void test_fragments_every_split(void)
{
	unsigned char buf[256];
	size_t n = frame(buf, 0, 0, WSFRAME_TEXT, "frag-", 5, 1);
	n += frame(buf + n, 1, 0, WSFRAME_PING, "p", 1, 1);
	n += frame(buf + n, 0, 0, WSFRAME_CONT, "ment-", 5, 1);
	n += frame(buf + n, 1, 0, WSFRAME_CONT, "ed", 2, 1);
	int all = 1;
	for (size_t cut = 0; cut <= n; cut++) {
		struct wscapture *w = capture(NULL, 1 << 20);
		void *map;
		size_t maplen;
		unsigned char *a = guarded(buf, cut, &map, &maplen);
		int rc = wscapture_feed(w, 1, a, cut);
		munmap(map, maplen);
		unsigned char *b = guarded(buf + cut, n - cut, &map, &maplen);
		rc |= wscapture_feed(w, 1, b, n - cut);
		munmap(map, maplen);
		wscapture_free(w);
		all &= rc == 0 && num_msgs == 1 && msg_is(0, 1, WSMSG_TEXT, "frag-ment-ed", 12);
		reset();
	}
	ok(all);
}

/* Raw deflate of each text in turn (one stream unless fresh), the 00 00 ff ff tail cut. */
static size_t deflate_all(const char *const *texts, size_t num, int fresh, unsigned char *out,
			  int mask)
{
	size_t n = 0;
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	for (size_t i = 0; i < num; i++) {
		unsigned char tmp[512];
		if (fresh)
			deflateReset(&z);
		z.next_in = (unsigned char *)texts[i];
		z.avail_in = (uInt)strlen(texts[i]);
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		deflate(&z, Z_SYNC_FLUSH);
		size_t len = sizeof tmp - z.avail_out - 4;
		n += frame(out + n, 1, 1, WSFRAME_TEXT, tmp, len, mask);
	}
	deflateEnd(&z);
	return n;
}

static void test_deflate(void)
{
	static const char *const texts[] = {"hello hello hello hello", "hello hello again",
					    "{\"a\": \"hello hello\"}"};
	unsigned char buf[2048];
	/* context takeover: later messages refer back to earlier ones */
	size_t n = deflate_all(texts, 3, 0, buf, 0);
	struct wscapture *w = capture("permessage-deflate; client_max_window_bits", 1 << 20);
	ok(wscapture_feed(w, 0, buf, n) == 0);
	wscapture_free(w);
	ok(num_msgs == 3);
	for (size_t i = 0; i < 3; i++)
		ok(msg_is(i, 0, WSMSG_TEXT, texts[i], strlen(texts[i])));
	reset();
	/* no context takeover for the client: its compressor starts afresh each message */
	n = deflate_all(texts, 3, 1, buf, 1);
	w = capture("x-other, permessage-deflate; client_no_context_takeover", 1 << 20);
	ok(wscapture_feed(w, 1, buf, n) == 0);
	wscapture_free(w);
	ok(num_msgs == 3 && msg_is(2, 1, WSMSG_TEXT, texts[2], strlen(texts[2])));
	reset();
	/* compressed but not agreed: RSV1 is an error */
	w = capture(NULL, 1 << 20);
	ok(wscapture_feed(w, 0, buf, n) == -1);
	wscapture_free(w);
	reset();
	int cnt, snt;
	struct flow_msg m = {0};
	flow_msg_add_header(&m, "Sec-WebSocket-Extensions", 24, "permessage-deflatex", 19);
	ok(wscapture_deflate_params(&m, &cnt, &snt) == 0);
	flow_msg_clear(&m);
}

static void test_close(void)
{
	unsigned char buf[64];
	struct wscapture *w = capture(NULL, 1 << 20);
	size_t n = frame(buf, 1, 0, WSFRAME_CLOSE,
			 "\x03\xe8"
			 "bye",
			 5, 0);
	ok(wscapture_feed(w, 0, buf, n) == 0);
	n = frame(buf, 1, 0, WSFRAME_CLOSE, "\x03\xe8", 2, 1); /* the reply: not who closed */
	ok(wscapture_feed(w, 1, buf, n) == 0);
	wscapture_free(w);
	ok(closed.closed && !closed.closed_by_client && closed.code == 1000);
	ok(closed.reason && strcmp(closed.reason, "bye") == 0);
	reset();
	w = capture(NULL, 1 << 20);
	n = frame(buf, 1, 0, WSFRAME_CLOSE, "", 0, 1);
	ok(wscapture_feed(w, 1, buf, n) == 0);
	wscapture_free(w);
	ok(closed.closed && closed.closed_by_client && closed.code == 1005 && !closed.reason);
	reset();
}

static void test_cap(void)
{
	unsigned char buf[256];
	struct wscapture *w = capture(NULL, 8);
	size_t n = frame(buf, 1, 0, WSFRAME_TEXT, "0123456789abcdef", 16, 0);
	ok(wscapture_feed(w, 0, buf, n) == 0);
	wscapture_free(w);
	ok(num_msgs == 1 && msgs[0].len == 8 && msgs[0].size == 16 && msgs[0].truncated);
	ok(memcmp(msgs[0].data, "01234567", 8) == 0);
	reset();
}

static void test_errors(void)
{
	static const struct {
		int from_client;
		const char *bytes;
		size_t len;
		const char *err;
	} cases[] = {
	    {1, "\x81\x01x", 3, wsframe_err_mask},	      /* a client frame not masked */
	    {0, "\x81\x81\0\0\0\0x", 7, wsframe_err_mask},    /* a server frame masked */
	    {0, "\x83\x00", 2, wsframe_err_opcode},	      /* reserved data opcode */
	    {0, "\x8b\x00", 2, wsframe_err_opcode},	      /* reserved control opcode */
	    {0, "\xa1\x00", 2, wsframe_err_rsv},	      /* RSV2 */
	    {0, "\x09\x00", 2, wsframe_err_control},	      /* a fragmented ping */
	    {0, "\x89\x7e\x00\x7e", 4, wsframe_err_control},  /* a ping over 125 bytes */
	    {0, "\x80\x00", 2, wsframe_err_sequence},	      /* continuation of nothing */
	    {0, "\x01\x00\x81\x00", 4, wsframe_err_sequence}, /* a message inside one */
	    {0, "\x82\x7e\x00\x10", 4, wsframe_err_length},   /* 16 bits for a small length */
	    {0, "\x82\x7f\x80\0\0\0\0\0\0\0", 10, wsframe_err_length}, /* the top bit set */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wscapture *w = capture(NULL, 1 << 20);
		int rc = wscapture_feed(w, cases[i].from_client,
					(const unsigned char *)cases[i].bytes, cases[i].len);
		const char *e = wscapture_error(w);
		ok(rc == -1 && e && strstr(e, cases[i].err) &&
		   strncmp(e, cases[i].from_client ? "client: " : "server: ", 8) == 0);
		/* once failed, it stays failed */
		ok(wscapture_feed(w, 0, (const unsigned char *)"\x81\x00", 2) == -1);
		wscapture_free(w);
		ok(closed.error != NULL); /* the store hears of it */
		reset();
	}
	struct wscapture *w = capture(NULL, 1 << 20);
	ok(wscapture_feed(w, 0, (const unsigned char *)"\x88\x01x", 3) == -1); /* 1-byte close */
	wscapture_free(w);
	reset();
}

static void test_tap(void)
{
	unsigned char buf[128];
	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, "already there", 13);
	struct wscapture *w = capture(NULL, 1 << 20);
	size_t n = frame(buf, 1, 0, WSFRAME_TEXT, "tapped", 6, 0);
	evbuffer_add(out, buf, 3);
	evbuffer_add(out, buf + 3, n - 3); /* two chains */
	ok(wscapture_tap(w, 0, out, n) == 0);
	ok(evbuffer_get_length(out) == 13 + n); /* peeked, not removed */
	wscapture_free(w);
	ok(num_msgs == 1 && msg_is(0, 0, WSMSG_TEXT, "tapped", 6));
	evbuffer_free(out);
	reset();
}

int main(void)
{
	subtest("messages", test_messages);
	subtest("fragments at every split", test_fragments_every_split);
	subtest("permessage-deflate", test_deflate);
	subtest("close", test_close);
	subtest("cap", test_cap);
	subtest("malformed frames", test_errors);
	subtest("evbuffer tap", test_tap);
	return harness_done();
}
