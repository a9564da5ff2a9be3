/* SPDX-License-Identifier: MIT */
/* wscapture.c - WebSocket messages from a copy of the relayed bytes (see wscapture.h).
 *
 * One struct side per direction: its frame parser (wsframe.c) calls back here, where a
 * message's payload is inflated when it was compressed (one raw-inflate stream per direction,
 * kept across messages unless that side's no_context_takeover was agreed: RFC 7692 7.2.2
 * appends 00 00 ff ff to each message's data before the last inflate), and appended to the
 * message's buffer up to the cap. At the message's end the buffer moves into the batch. The
 * batch goes to the sink at each flush (the relay flushes after every read), so the proxy
 * holds no more than one read's messages plus one open message per direction. */
#include "wscapture.h"

#include "util.h"
#include "wsframe.h"
#include "wsmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <zlib.h>

struct side {
	struct wscapture *w;
	int from_client;
	struct wsframe fr;
	z_stream z; /* raw inflate; ready once z_ready */
	int z_ready;
	int no_takeover; /* this side resets its compressor at each message */
	/* The message being put together: */
	int opcode, compressed;
	char *buf; /* owned; at most cap bytes */
	size_t len, cap;
	uint64_t size;
	int truncated;
};

struct wscapture {
	struct flow_sink sink;
	uint64_t flow_id;
	size_t limit;  /* per message */
	uint64_t room; /* content bytes the flow may still store */
	uint64_t next_index;
	struct side side[2];	   /* [1]: from the client */
	struct wsmsg_batch *batch; /* owned; NULL while empty */
	struct wsmsg_close close;  /* owned strings; what the batch gets once */
	int close_new;		   /* close changed since the last flush */
	char *error;		   /* owned; the first malformed frame, "client: ..." */
};

static struct wsmsg_batch *batch(struct wscapture *w)
{
	if (!w->batch)
		w->batch = wsmsg_batch_new(w->flow_id);
	return w->batch;
}

static void set_error(struct wscapture *w, int from_client, const char *what)
{
	if (w->error)
		return;
	w->error = xasprintf("%s: %s", from_client ? "client" : "server", what);
	free(w->close.error);
	w->close.error = xstrdup(w->error);
	w->close_new = 1;
}

/* Keeps what fits of data in the open message of s. */
static void keep(struct side *s, const unsigned char *data, size_t len)
{
	s->size += len;
	size_t cap = s->w->limit;
	if (cap > s->w->room)
		cap = (size_t)s->w->room;
	size_t n = s->len >= cap ? 0 : cap - s->len < len ? cap - s->len : len;
	if (n < len)
		s->truncated = 1;
	if (!n)
		return;
	if (s->len + n > s->cap) {
		size_t c = s->cap ? s->cap : 256;
		while (c < s->len + n)
			c *= 2;
		s->cap = c > cap ? cap : c;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
}

/* Inflates len bytes of the open compressed message of s. Returns 0, or -1 on bad data. */
static int inflate_some(struct side *s, const unsigned char *data, size_t len)
{
	unsigned char out[16384];
	if (!s->z_ready) {
		if (inflateInit2(&s->z, -15) != Z_OK)
			return -1;
		s->z_ready = 1;
	}
	s->z.next_in = (unsigned char *)data;
	s->z.avail_in = (uInt)len;
	do {
		s->z.next_out = out;
		s->z.avail_out = sizeof out;
		int rc = inflate(&s->z, Z_SYNC_FLUSH);
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
			return -1;
		keep(s, out, sizeof out - s->z.avail_out);
		if (rc == Z_BUF_ERROR || rc == Z_STREAM_END)
			break;
	} while (s->z.avail_in > 0 || s->z.avail_out == 0);
	return 0;
}

static void on_begin(void *arg, int opcode, int compressed)
{
	struct side *s = arg;
	free(s->buf); /* a message left open by an error in the same read */
	s->opcode = opcode;
	s->compressed = compressed;
	s->len = s->cap = 0;
	s->size = 0;
	s->truncated = 0;
	s->buf = NULL;
}

static void on_data(void *arg, const unsigned char *data, size_t len)
{
	struct side *s = arg;
	if (!len || s->w->error)
		return;
	if (!s->compressed)
		keep(s, data, len);
	else if (inflate_some(s, data, len) != 0)
		set_error(s->w, s->from_client, "permessage-deflate data not valid");
}

static void on_end(void *arg)
{
	struct side *s = arg;
	struct wscapture *w = s->w;
	if (s->compressed) {
		static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
		if (inflate_some(s, tail, sizeof tail) != 0)
			set_error(w, s->from_client, "permessage-deflate data not valid");
		else if (s->no_takeover)
			inflateReset(&s->z);
	}
	if (w->error) {
		free(s->buf);
		s->buf = NULL;
		return;
	}
	struct wsmsg m = {.index = w->next_index++,
			  .from_client = s->from_client,
			  .opcode = s->opcode,
			  .ts = util_now_us(),
			  .size = s->size,
			  .truncated = s->truncated,
			  .data = s->buf,
			  .len = s->len};
	w->room -= s->len;
	wsmsg_batch_add(batch(w), &m);
	s->buf = NULL;
	s->len = s->cap = 0;
}

static void on_control(void *arg, int opcode, const unsigned char *data, size_t len)
{
	struct side *s = arg;
	struct wscapture *w = s->w;
	if (opcode != WSFRAME_CLOSE || w->close.closed || w->error)
		return; /* pings and pongs are not messages; the first Close tells who closed */
	if (len == 1) {
		set_error(w, s->from_client, "WebSocket Close frame with a 1-byte payload");
		return;
	}
	w->close.closed = 1;
	w->close.closed_by_client = s->from_client;
	w->close.code = len >= 2 ? data[0] << 8 | data[1] : 1005;
	if (len > 2)
		w->close.reason = xstrndup((const char *)data + 2, len - 2);
	w->close_new = 1;
}

/* Whether the comma-separated extension list in v agrees permessage-deflate; its parameters
 * set the flags. */
static int parse_extensions(const char *v, int *cnt, int *snt)
{
	char *copy = xstrdup(v), *save = NULL;
	int found = 0;
	for (char *ext = strtok_r(copy, ",", &save); ext && !found;
	     ext = strtok_r(NULL, ",", &save)) {
		char *psave = NULL;
		char *name = strtok_r(ext, ";", &psave);
		name += strspn(name ? name : "", " \t");
		if (!name || strncasecmp(name, "permessage-deflate", 18) != 0 ||
		    name[18 + strspn(name + 18, " \t")] != '\0')
			continue;
		found = 1;
		for (char *p = strtok_r(NULL, ";", &psave); p; p = strtok_r(NULL, ";", &psave)) {
			p += strspn(p, " \t");
			if (strncasecmp(p, "client_no_context_takeover", 26) == 0)
				*cnt = 1;
			else if (strncasecmp(p, "server_no_context_takeover", 26) == 0)
				*snt = 1;
		}
	}
	free(copy);
	return found;
}

int wscapture_deflate_params(const struct flow_msg *m, int *client_no_takeover,
			     int *server_no_takeover)
{
	*client_no_takeover = *server_no_takeover = 0;
	for (size_t i = 0; i < m->num_headers; i++)
		if (strcasecmp(m->headers[i].name, "Sec-WebSocket-Extensions") == 0 &&
		    parse_extensions(m->headers[i].value, client_no_takeover, server_no_takeover))
			return 1;
	return 0;
}

struct wscapture *wscapture_new(const struct flow *f, size_t limit, const struct flow_sink *sink)
{
	struct wscapture *w = xcalloc(1, sizeof *w);
	w->sink = *sink;
	w->flow_id = f->id;
	w->limit = limit;
	w->room = (uint64_t)limit * WSCAPTURE_FLOW_CAP_FACTOR;
	int cnt, snt;
	int deflate = wscapture_deflate_params(&f->response, &cnt, &snt);
	for (int i = 0; i < 2; i++) {
		struct side *s = &w->side[i];
		s->w = w;
		s->from_client = i;
		s->no_takeover = i ? cnt : snt;
		struct wsframe_sink fs = {on_begin, on_data, on_end, on_control, s};
		wsframe_init(&s->fr, i, deflate, &fs);
	}
	return w;
}

int wscapture_feed(struct wscapture *w, int from_client, const unsigned char *data, size_t len)
{
	const char *err;
	if (w->error)
		return -1;
	struct side *s = &w->side[from_client ? 1 : 0];
	if (wsframe_feed(&s->fr, data, len, &err) != 0)
		set_error(w, s->from_client, err);
	return w->error ? -1 : 0;
}

int wscapture_tap(struct wscapture *w, int from_client, struct evbuffer *buf, size_t n)
{
	size_t total = evbuffer_get_length(buf);
	struct evbuffer_ptr at;
	if (!n || w->error)
		return w->error ? -1 : 0;
	if (n > total || evbuffer_ptr_set(buf, &at, total - n, EVBUFFER_PTR_SET) != 0)
		return -1;
	int nv = evbuffer_peek(buf, (ev_ssize_t)n, &at, NULL, 0);
	struct evbuffer_iovec *v = xmalloc((size_t)(nv > 0 ? nv : 1) * sizeof *v);
	nv = evbuffer_peek(buf, (ev_ssize_t)n, &at, v, nv);
	int rc = 0;
	for (int i = 0; i < nv && n && rc == 0; i++) {
		size_t k = v[i].iov_len < n ? v[i].iov_len : n;
		rc = wscapture_feed(w, from_client, v[i].iov_base, k);
		n -= k;
	}
	free(v);
	return rc;
}

void wscapture_flush(struct wscapture *w)
{
	if (w->close_new) {
		struct wsmsg_batch *b = batch(w);
		wsmsg_close_clear(&b->close);
		b->has_close = 1;
		b->close.closed = w->close.closed;
		b->close.closed_by_client = w->close.closed_by_client;
		b->close.code = w->close.code;
		b->close.reason = w->close.reason ? xstrdup(w->close.reason) : NULL;
		b->close.error = w->close.error ? xstrdup(w->close.error) : NULL;
		w->close_new = 0;
	}
	if (!w->batch)
		return;
	if (w->sink.emit_messages)
		w->sink.emit_messages(w->sink.arg, w->batch);
	else
		wsmsg_batch_free(w->batch);
	w->batch = NULL;
}

const char *wscapture_error(const struct wscapture *w)
{
	return w->error;
}

void wscapture_free(struct wscapture *w)
{
	if (!w)
		return;
	wscapture_flush(w);
	for (int i = 0; i < 2; i++) {
		free(w->side[i].buf);
		if (w->side[i].z_ready)
			inflateEnd(&w->side[i].z);
	}
	wsmsg_close_clear(&w->close);
	free(w->error);
	free(w);
}
