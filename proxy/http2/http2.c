/* SPDX-License-Identifier: MIT */
/* http2.c - the server side of an HTTP/2 session towards the client (see http2.h), glue over
 * nghttp2 1.52 (framing, HPACK, stream states, flow-control accounting).
 *
 * A stream: HEADERS (on_begin_headers: a struct http2_stream, nghttp2's stream user data)
 * -> its headers checked one by one (on_header; nghttp2's own checks report through
 * on_invalid_header) -> the head complete (on_frame_recv: sink->on_request) -> DATA
 * (sink->on_data) -> END_STREAM (sink->on_end) -> closed (on_stream_close: sink->on_close, the
 * stream freed). A refused stream gets RST_STREAM(PROTOCOL_ERROR) at once and never reaches
 * on_request; its reason is kept for on_close, so the caller can record it.
 *
 * Why this file checks the HTTP rules itself (nghttp2's HTTP messaging checks are off): the
 * translation to HTTP/1.1 must never pass on a request an HTTP/1.1 origin could frame
 * differently, so the rules are written down here as the contract, whatever nghttp2 version is
 * linked, and each refusal tells the user which rule the request broke.
 * Body bytes beyond the content-length are never delivered: on HTTP/1.1 they would be a second
 * request.
 *
 * nghttp2's session never frees our streams itself (nghttp2_session_del() calls no callback):
 * the live ones are kept in a list so that http2_free() can close them. */
#include "http2.h"

#include "h2wire.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#define MAX_HEAD_BYTES (64 * 1024) /* names and values of one request head */
#define MAX_RESETS 200		   /* client resets tolerated beyond half the streams */

struct node {
	struct http2_stream st; /* first: a stream pointer is a node pointer */
	struct node *prev, *next;
	int started;		  /* on_request ran */
	int ended;		  /* on_end ran */
	int64_t length;		  /* content-length, -1 when none */
	int peer_reset;		  /* the client sent RST_STREAM */
	int regular_seen;	  /* a regular header came: no pseudo-header may follow */
	uint64_t received;	  /* body bytes delivered */
	struct flow_msg trailers; /* the response's trailers to send after its body, if any */
};

struct http2 {
	nghttp2_session *session;
	struct http2_sink sink;
	struct node *streams;		  /* live streams */
	uint64_t num_streams, num_resets; /* streams begun; of those, reset by the client */
	int calm;			  /* too many resets: the session is being ended */
	char why[160];			  /* the reason passed to on_close, built per call */
};

/* ---------------------------------------------------------------------------------------- */
/* What an HTTP/1.1 origin must never see */

static int is_token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* Why the regular header name: value cannot be translated to HTTP/1.1, or NULL. */
static const char *bad_header(const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (nlen == 0)
		return "empty header name";
	for (size_t i = 0; i < nlen; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch >= 'A' && ch <= 'Z')
			return "uppercase header name";
		if (!is_token_char(ch))
			return "invalid character in a header name (CR, LF, NUL, space or "
			       "separator)";
	}
	for (size_t i = 0; i < vlen; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
			return "CR, LF or NUL in a header value";
	static const char *const conn_specific[] = {"connection", "keep-alive", "proxy-connection",
						    "transfer-encoding", "upgrade"};
	for (size_t i = 0; i < sizeof conn_specific / sizeof *conn_specific; i++)
		if (strlen(conn_specific[i]) == nlen && memcmp(name, conn_specific[i], nlen) == 0)
			return "connection-specific header (not allowed in HTTP/2)";
	if (nlen == 2 && memcmp(name, "te", 2) == 0 &&
	    !(vlen == 8 && strncasecmp(value, "trailers", 8) == 0))
		return "te header other than \"trailers\"";
	if (nlen == 14 && memcmp(name, "content-length", 14) == 0) {
		if (vlen == 0 || vlen > 18)
			return "invalid content-length";
		for (size_t i = 0; i < vlen; i++)
			if (value[i] < '0' || value[i] > '9')
				return "invalid content-length";
	}
	return NULL;
}

/* Why the finished head of st cannot go on, or NULL. */
static const char *bad_head(const struct http2_stream *st)
{
	const struct flow_msg *m = &st->head;
	if (!m->method || !*m->method)
		return "no :method";
	for (const char *p = m->method; *p; p++)
		if (!is_token_char((unsigned char)*p))
			return "invalid :method";
	if (strcmp(m->method, "CONNECT") == 0)
		return "CONNECT over HTTP/2 is not supported";
	if (!st->scheme || (strcmp(st->scheme, "https") != 0 && strcmp(st->scheme, "http") != 0))
		return "no :scheme, or not http(s)";
	if (!m->target || !*m->target)
		return "no :path";
	if (m->target[0] != '/' && strcmp(m->target, "*") != 0)
		return ":path must start with /";
	for (const unsigned char *p = (const void *)m->target; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return "space or control character in :path";
	if (st->authority)
		for (const unsigned char *p = (const void *)st->authority; *p; p++)
			if (*p <= 0x20 || *p == 0x7f || *p == '/' || *p == '@')
				return "invalid :authority";
	return NULL;
}

/* Refuses st: the reason is kept (the first one), the stream reset. */
static void refuse(struct http2 *h, struct http2_stream *st, const char *why)
{
	if (st->refused)
		return;
	st->refused = xasprintf("malformed HTTP/2 request: %s", why);
	nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
}

/* ---------------------------------------------------------------------------------------- */
/* nghttp2 callbacks */

static struct http2_stream *stream_of(nghttp2_session *s, int32_t id)
{
	return nghttp2_session_get_stream_user_data(s, id);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct http2 *h = arg;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct node *n = xcalloc(1, sizeof *n);
	n->st.id = frame->hd.stream_id;
	n->st.start = util_now_us();
	n->length = -1;
	h->num_streams++;
	n->next = h->streams;
	if (h->streams)
		h->streams->prev = n;
	h->streams = n;
	nghttp2_session_set_stream_user_data(s, n->st.id, n);
	return 0;
}

static void set_pseudo(struct http2 *h, struct http2_stream *st, const char *name,
		       const char *value, size_t vlen)
{
	char **dst = strcmp(name, ":method") == 0      ? &st->head.method
		     : strcmp(name, ":path") == 0      ? &st->head.target
		     : strcmp(name, ":authority") == 0 ? &st->authority
		     : strcmp(name, ":scheme") == 0    ? &st->scheme
						       : NULL;
	if (!dst)
		return refuse(h, st, "unknown pseudo-header");
	if (*dst)
		return refuse(h, st, "repeated pseudo-header");
	if (memchr(value, '\0', vlen) || memchr(value, '\r', vlen) || memchr(value, '\n', vlen))
		return refuse(h, st, "CR, LF or NUL in a pseudo-header");
	*dst = xstrndup(value, vlen);
}

/* A regular header: kept in order; cookies joined into one, as HTTP/1.1 wants them. */
static void add_header(struct http2 *h, struct node *n, const char *name, size_t nlen,
		       const char *value, size_t vlen)
{
	struct flow_msg *m = &n->st.head;
	const char *why = bad_header(name, nlen, value, vlen);
	if (why)
		return refuse(h, &n->st, why);
	if (nlen == 14 && memcmp(name, "content-length", 14) == 0) {
		int64_t len = strtoll(value, NULL, 10);
		if (n->length >= 0 && n->length != len)
			return refuse(h, &n->st, "content-length given twice, differently");
		n->length = len;
	}
	if (nlen == 4 && memcmp(name, "host", 4) == 0 && !n->st.authority)
		n->st.authority = xstrndup(value, vlen);
	struct flow_header *cookie = nlen == 6 && memcmp(name, "cookie", 6) == 0
					 ? (struct flow_header *)flow_msg_header(m, "cookie")
					 : NULL;
	if (!cookie) {
		flow_msg_add_header(m, name, nlen, value, vlen);
		return;
	}
	char *joined = xasprintf("%s; %.*s", cookie->value, (int)vlen, value);
	free(cookie->value);
	cookie->value = joined;
	cookie->value_len = strlen(joined);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
	struct http2 *h = arg;
	struct node *n = (struct node *)stream_of(s, frame->hd.stream_id);
	(void)flags;
	if (!n || n->st.refused || (frame->headers.cat != NGHTTP2_HCAT_REQUEST && !n->started))
		return 0;
	n->st.head_bytes += nlen + vlen;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) { /* trailers: kept, not passed on */
		if (n->st.head_bytes > MAX_HEAD_BYTES)
			refuse(h, &n->st, "request trailers over 64 KiB");
		else if (nlen && name[0] != ':')
			flow_msg_add_trailer(&n->st.head, (const char *)name, nlen,
					     (const char *)value, vlen);
		return 0;
	}
	if (n->st.head_bytes > MAX_HEAD_BYTES) {
		refuse(h, &n->st, "request head over 64 KiB");
		return 0;
	}
	if (nlen && name[0] == ':' && n->regular_seen)
		refuse(h, &n->st, "pseudo-header after a regular header");
	else if (nlen && name[0] == ':')
		set_pseudo(h, &n->st, (const char *)name, (const char *)value, vlen);
	else
		add_header(h, n, (const char *)name, nlen, (const char *)value, vlen);
	n->regular_seen |= !(nlen && name[0] == ':');
	return 0;
}

/* nghttp2 found a header invalid: the stream is refused with the precise reason. */
static int on_invalid_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
			     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags,
			     void *arg)
{
	struct http2 *h = arg;
	struct http2_stream *st = stream_of(s, frame->hd.stream_id);
	(void)flags;
	if (!st)
		return 0;
	const char *why = nlen && name[0] == ':'
			      ? "invalid pseudo-header"
			      : bad_header((const char *)name, nlen, (const char *)value, vlen);
	refuse(h, st, why ? why : "invalid header field");
	return 0;
}

static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *frame, int lib_error,
			    void *arg)
{
	struct http2_stream *st = frame->hd.stream_id ? stream_of(s, frame->hd.stream_id) : NULL;
	(void)arg;
	if (st && !st->refused)
		st->refused =
		    xasprintf("malformed HTTP/2 request: %s", nghttp2_strerror(lib_error));
	return 0;
}

static void request_ended(struct http2 *h, struct node *n)
{
	if (n->ended || !n->started || n->st.refused)
		return;
	if (n->length >= 0 && (uint64_t)n->length != n->received)
		return refuse(h, &n->st, "content-length disagrees with the DATA");
	n->ended = 1;
	h->sink.on_end(h->sink.arg, &n->st);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct http2 *h = arg;
	struct node *n = (struct node *)stream_of(s, frame->hd.stream_id);
	if (n && frame->hd.type == NGHTTP2_RST_STREAM) {
		n->peer_reset = 1;
		/* Opening and resetting streams costs the client nothing and the proxy an upstream
		 * request each (CVE-2023-44487, "rapid reset"; nghttp2 1.52 predates its fix). */
		if (++h->num_resets > MAX_RESETS && h->num_resets * 2 > h->num_streams &&
		    !h->calm) {
			h->calm = 1;
			nghttp2_session_terminate_session(s, NGHTTP2_ENHANCE_YOUR_CALM);
		}
	}
	if (!n || n->st.refused)
		return 0;
	int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		const char *why = bad_head(&n->st);
		if (why)
			return refuse(h, &n->st, why), 0;
		if (end && n->length > 0)
			return refuse(h, &n->st, "content-length disagrees with the DATA"), 0;
		n->st.head.present = 1;
		n->st.head.version = 20;
		n->started = 1;
		h->sink.on_request(h->sink.arg, &n->st, end);
		if (end && !n->st.refused)
			n->ended = 1;
		return 0;
	}
	if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end)
		request_ended(h, n);
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *arg)
{
	struct http2 *h = arg;
	struct node *n = (struct node *)stream_of(s, id);
	(void)flags;
	if (n && !n->st.refused && n->started && n->length >= 0 &&
	    n->received + len > (uint64_t)n->length)
		refuse(h, &n->st, "content-length disagrees with the DATA");
	if (!n || n->st.refused || !n->started || n->ended) {
		nghttp2_session_consume(s, id, len); /* dropped: the window goes back at once */
		return 0;
	}
	n->received += len;
	h->sink.on_data(h->sink.arg, &n->st, (const char *)data, len);
	return 0;
}

static void unlink_free(struct http2 *h, struct node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		h->streams = n->next;
	if (n->next)
		n->next->prev = n->prev;
	flow_msg_clear(&n->st.head);
	flow_msg_clear(&n->trailers);
	free(n->st.authority);
	free(n->st.scheme);
	free(n->st.refused);
	free(n);
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct http2 *h = arg;
	struct node *n = (struct node *)stream_of(s, id);
	if (!n)
		return 0;
	const char *why = n->st.refused;
	if (!why && code != NGHTTP2_NO_ERROR) {
		snprintf(h->why, sizeof h->why, "%s (%s)",
			 n->peer_reset ? "the client reset the HTTP/2 stream"
				       : "HTTP/2 stream reset",
			 nghttp2_http2_strerror(code));
		why = h->why;
	}
	nghttp2_session_set_stream_user_data(s, id, NULL);
	h->sink.on_close(h->sink.arg, &n->st, why);
	unlink_free(h, n);
	return 0;
}

static int hop_by_hop(const char *name);
static const char *bad_header(const char *name, size_t nlen, const char *value, size_t vlen);

/* Submits n's trailers (those that may go in HTTP/2). Returns 0, or -1 when there are none. */
static int send_trailers(struct http2 *h, struct node *n)
{
	const struct flow_msg *t = &n->trailers;
	nghttp2_nv *nv = xcalloc(t->num_headers + 1, sizeof *nv);
	size_t num = 0;
	for (size_t i = 0; i < t->num_headers; i++) {
		const struct flow_header *hd = &t->headers[i];
		if (hop_by_hop(hd->name) || strcasecmp(hd->name, "content-length") == 0 ||
		    bad_header(hd->name, hd->name_len, hd->value, hd->value_len))
			continue; /* (nghttp2 lowercases the names it copies) */
		nv[num++] = (nghttp2_nv){(uint8_t *)hd->name, (uint8_t *)hd->value, hd->name_len,
					 hd->value_len, 0};
	}
	int rv = num ? nghttp2_submit_trailer(h->session, n->st.id, nv, num) : -1;
	free(nv);
	return rv == 0 ? 0 : -1;
}

static ssize_t on_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct http2 *h = arg;
	struct http2_stream *st = src->ptr;
	int eof = 0;
	(void)s;
	(void)id;
	size_t n = h->sink.on_read_body(h->sink.arg, st, (char *)buf, len, &eof);
	if (!eof && n == 0)
		return NGHTTP2_ERR_DEFERRED;
	if (eof)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	if (eof && send_trailers(h, (struct node *)st) == 0)
		*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM; /* the trailers end the stream */
	return (ssize_t)n;
}

/* ---------------------------------------------------------------------------------------- */
/* The session */

struct http2 *http2_new(const struct http2_sink *sink, uint32_t window)
{
	struct http2 *h = xcalloc(1, sizeof *h);
	h->sink = *sink;
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		abort(); /* out of memory */
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_invalid_header_callback(cb, on_invalid_header);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	/* the window is given back as the caller takes the bytes (http2_consume) */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	/* every HTTP-level rule is checked here (bad_header, bad_head, content-length), so that
	 * each refusal says what was wrong */
	nghttp2_option_set_no_http_messaging(opt, 1);
	if (nghttp2_session_server_new2(&h->session, cb, h, opt) != 0)
		abort();
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	h2wire_settings(h->session, window);
	return h;
}

void http2_free(struct http2 *h, const char *why)
{
	if (!h)
		return;
	while (h->streams) {
		struct node *n = h->streams;
		nghttp2_session_set_stream_user_data(h->session, n->st.id, NULL);
		h->sink.on_close(h->sink.arg, &n->st, n->st.refused ? n->st.refused : why);
		unlink_free(h, n);
	}
	nghttp2_session_del(h->session);
	free(h);
}

int http2_recv(struct http2 *h, const char *data, size_t len, const char **err)
{
	ssize_t r = nghttp2_session_mem_recv(h->session, (const uint8_t *)data, len);
	if (r < 0) {
		*err = nghttp2_strerror((int)r);
		return -1;
	}
	if (h->calm) {
		*err = "the client reset most of its streams (rapid reset): GOAWAY";
		return -1;
	}
	return 0;
}

int http2_send(struct http2 *h, struct evbuffer *out, size_t limit, const char **err)
{
	return h2wire_send(h->session, out, limit, err);
}

int http2_done(const struct http2 *h)
{
	return !nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session);
}

int http2_want_write(const struct http2 *h)
{
	return nghttp2_session_want_write(h->session);
}

/* Headers that mean something only to one HTTP/1.1 connection (RFC 9113 8.2.2). */
static int hop_by_hop(const char *name)
{
	static const char *const names[] = {"connection",	 "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade",    "http2-settings"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* 1 when a Connection header of m names name (its other hop-by-hop headers). */
static int named_by_connection(const struct flow_msg *m, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < m->num_headers; i++) {
		if (strcasecmp(m->headers[i].name, "connection") != 0)
			continue;
		for (const char *p = m->headers[i].value; *p;) {
			p += strspn(p, " \t,");
			size_t n = strcspn(p, " \t,");
			if (n == len && strncasecmp(p, name, n) == 0)
				return 1;
			p += n;
		}
	}
	return 0;
}

void http2_respond(struct http2 *h, struct http2_stream *st, const struct flow_msg *head,
		   int bodyless)
{
	size_t num = 0;
	nghttp2_nv *nv = xcalloc(head->num_headers + 1, sizeof *nv);
	char status[8];
	snprintf(status, sizeof status, "%03d", head->status % 1000);
	nv[num++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7, strlen(status), 0};
	char **lower = xcalloc(head->num_headers + 1, sizeof *lower);
	for (size_t i = 0; i < head->num_headers; i++) {
		const struct flow_header *hd = &head->headers[i];
		char *name = xstrndup(hd->name, hd->name_len);
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		lower[i] = name;
		if (hop_by_hop(name) || named_by_connection(head, name) ||
		    bad_header(name, hd->name_len, hd->value, hd->value_len))
			continue;
		/* a 204 or 1xx has no body: a length there is an error in HTTP/2 (RFC 9110 8.6) */
		if ((head->status == 204 || head->status < 200) &&
		    strcmp(name, "content-length") == 0)
			continue;
		nv[num++] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)hd->value, hd->name_len,
					 hd->value_len, 0};
	}
	nghttp2_data_provider dp = {.source.ptr = st, .read_callback = on_read_body};
	st->responded = 1;
	int rv = nghttp2_submit_response(h->session, st->id, nv, num, bodyless ? NULL : &dp);
	if (rv != 0)
		log_warn("stream %d: no response sent: %s", st->id, nghttp2_strerror(rv));
	for (size_t i = 0; i < head->num_headers; i++)
		free(lower[i]);
	free(lower);
	free(nv);
}

void http2_trailers(struct http2_stream *st, const struct flow_msg *trailers)
{
	struct node *n = (struct node *)st;
	for (size_t i = 0; i < trailers->num_headers; i++) {
		flow_msg_add_header(&n->trailers, trailers->headers[i].name,
				    trailers->headers[i].name_len, trailers->headers[i].value,
				    trailers->headers[i].value_len);
		/* an HTTP/1.1 origin's names keep their case: HTTP/2 wants them lowercase */
		for (char *p = n->trailers.headers[n->trailers.num_headers - 1].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
}

void http2_continue(struct http2 *h, struct http2_stream *st)
{
	nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)"100", 7, 3, 0};
	nghttp2_submit_headers(h->session, NGHTTP2_FLAG_NONE, st->id, NULL, &nv, 1, NULL);
}

void http2_resume(struct http2 *h, struct http2_stream *st)
{
	nghttp2_session_resume_data(h->session, st->id);
}

void http2_reset(struct http2 *h, struct http2_stream *st, uint32_t code)
{
	nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, code);
}

void http2_consume(struct http2 *h, struct http2_stream *st, size_t n)
{
	if (st && nghttp2_session_consume(h->session, st->id, n) == 0)
		return;
	nghttp2_session_consume_connection(h->session, n);
}

void http2_goaway(struct http2 *h)
{
	nghttp2_session_terminate_session(h->session, NGHTTP2_NO_ERROR);
}
