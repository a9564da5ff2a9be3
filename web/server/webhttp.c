/* SPDX-License-Identifier: MIT */
/* webhttp.c - the HTTP side of the web server: a request's door checks (door.h), its body, and
 * the answer written from HTTP_WRITEABLE: the REST calls' replies (api.h), stored bodies
 * streamed piecewise, HAR exports sent chunked, the UI's files; and the refusal of a WebSocket
 * upgrade that fails the door. webui.c owns the context and the event stream and calls in here.
 *
 *   LWS_CALLBACK_HTTP ───────────► webhttp_on_request: door, then static file or api_handle()
 *   HTTP_BODY / BODY_COMPLETION ─► webhttp_on_body / webhttp_on_body_done: api_handle()
 *   HTTP_WRITEABLE ──────────────► webhttp_on_writeable: up to CHUNK bytes of the answer
 *
 * HAR: an export is pulled from har_export_next() in HTTP_WRITEABLE, up to CHUNK bytes of
 * pieces per call, and sent with Transfer-Encoding: chunked (its length is not known ahead);
 * a client that hangs up frees the exporter with the connection. An import's body (up to
 * MAX_HAR_UPLOAD, allocated once from Content-Length) is handed to the api, which imports it
 * on a worker thread (harimport.c) while this thread goes on serving; the worker wakes this
 * thread (lws_cancel_service()) when it is done, EVENT_WAIT_CANCELLED asks api_import_poll()
 * which connection's answer is ready and makes it writable (webhttp_on_import_ready()), and
 * HTTP_WRITEABLE sends it.
 *
 * Threads: everything here runs on the web thread. */
#include "webhttp.h"

#include "assets.h"
#include "har.h"
#include "util.h"
#include "web.h"
#include "webjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUEST_BODY (8u << 20) /* rules, edits */
#define MAX_HAR_UPLOAD (256u << 20) /* POST /api/har; importing takes about 3 times this */
#define PROGRESS_SECS 30	    /* a streamed answer may take this long per step */
#define MAX_STATIC_FILE (16u << 20)
#define CHUNK (64u << 10)    /* bytes written per HTTP_WRITEABLE */
#define MAX_CHUNK (2u << 20) /* decoded bodies: chunks grow up to this (see write_stream) */
#define ARG_MAX_LEN 8192
#define CHUNK_HEAD 16 /* room for a chunk's "SIZE\r\n" before its data */

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' blob: data:; connect-src 'self'; frame-ancestors "
			  "'none'; object-src 'none'; base-uri 'none'";

static void unhold(struct conn *c);
static int answer(struct lws *wsi, struct web *w, struct conn *c);

static void end_request(struct conn *c)
{
	unhold(c);
	free(c->path);
	for (size_t i = 0; i < sizeof c->args / sizeof c->args[0]; i++)
		free(c->args[i]);
	free(c->body);
	api_reply_clear(&c->reply);
	free(c->file_data);
	c->path = NULL;
	memset(c->args, 0, sizeof c->args);
	c->body = NULL;
	c->body_len = c->body_cap = c->body_max = 0;
	c->body_too_big = 0;
	c->awaiting_body = 0;
	c->file_data = NULL;
	c->out = NULL;
	c->out_len = c->sent = 0;
	c->responding = 0;
	c->close_after = 0;
}

void webhttp_conn_clear(struct conn *c)
{
	end_request(c);
	free(c->wbuf);
	c->wbuf = NULL;
	c->wcap = 0;
}

static void wbuf_reserve(struct conn *c, size_t len)
{
	if (c->wcap < LWS_PRE + len) {
		c->wcap = LWS_PRE + len;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
}

/* ---- reading the request ---- */

/* A copy of header h, or NULL when absent or too long. */
static char *hdr(struct lws *wsi, enum lws_token_indexes h)
{
	int len = lws_hdr_total_length(wsi, h);
	if (len <= 0 || len > ARG_MAX_LEN)
		return NULL;
	char *s = xmalloc((size_t)len + 1);
	if (lws_hdr_copy(wsi, s, len + 1, h) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static char *custom_hdr(struct lws *wsi, const char *name)
{
	int nlen = (int)strlen(name);
	int len = lws_hdr_custom_length(wsi, name, nlen);
	if (len < 0 || len > ARG_MAX_LEN)
		return NULL;
	char *s = xmalloc((size_t)len + 1);
	if (lws_hdr_custom_copy(wsi, s, len + 1, name, nlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* A copy of query argument name ("token="), or NULL. */
static char *urlarg(struct lws *wsi, const char *name)
{
	char buf[ARG_MAX_LEN];
	const char *v = lws_get_urlarg_by_name(wsi, name, buf, sizeof buf);
	return v ? xstrdup(v) : NULL;
}

struct door_view {
	char *host, *origin, *fetch_site, *auth, *cookie, *token_arg; /* owned */
};

static void view_read(struct lws *wsi, struct door_view *v)
{
	v->host = hdr(wsi, WSI_TOKEN_HOST);
	v->origin = hdr(wsi, WSI_TOKEN_ORIGIN);
	v->fetch_site = custom_hdr(wsi, "sec-fetch-site:");
	v->auth = hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	v->cookie = hdr(wsi, WSI_TOKEN_HTTP_COOKIE);
	v->token_arg = urlarg(wsi, "token=");
}

static void view_clear(struct door_view *v)
{
	char *all[] = {v->host, v->origin, v->fetch_site, v->auth, v->cookie, v->token_arg};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]);
}

static int view_token_ok(const struct door *d, const struct door_view *v)
{
	char cookie[512];
	if (door_token_ok(d, door_bearer(v->auth)))
		return 1;
	if (v->cookie && door_cookie(v->cookie, WEB_TOKEN_COOKIE, cookie, sizeof cookie) == 0 &&
	    door_token_ok(d, cookie))
		return 1;
	return door_token_ok(d, v->token_arg);
}

/* The door for a request: 0 when it may pass, else the status to refuse it with and *why. */
static int door_check(const struct door *d, const struct door_view *v, int needs_token, int writes,
		      const char **why)
{
	if (!door_host_ok(d, v->host)) {
		*why = "Host header does not name this server";
		return 403;
	}
	if (needs_token && !view_token_ok(d, v)) {
		*why = "missing or wrong token";
		return 401;
	}
	if (writes && !door_origin_ok(v->origin, v->host)) {
		*why = "foreign Origin";
		return 403;
	}
	if (writes && !door_fetch_site_ok(v->fetch_site)) {
		*why = "cross-site request refused";
		return 403;
	}
	return 0;
}

/* ---- writing the answer ---- */

struct head {
	int status;
	const char *content_type;
	uint64_t len;
	const char *disposition; /* NULL: none */
	const char *location;	 /* NULL: none */
	const char *set_cookie;	 /* NULL: none */
	int sandbox;		 /* a stored body: never runs in our origin */
	int cacheable;		 /* UI files: no-cache, else no-store */
	int chunked;		 /* length unknown: Transfer-Encoding: chunked, len unused */
	int close;		 /* the connection ends after this answer */
};

#define ADD(name, value)                                                                           \
	do {                                                                                       \
		const char *v_ = (value);                                                          \
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,                  \
						(const unsigned char *)v_, (int)strlen(v_), &p,    \
						end))                                              \
			return -1;                                                                 \
	} while (0)

static int write_head(struct lws *wsi, const struct head *h)
{
	unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof buf - 1;
	char policy[sizeof csp + 16];
	if (h->chunked) {
		/* lws_add_http_common_headers() would mark a response without a length
		 * "connection: close"; we frame the chunks ourselves and keep the connection */
		if (lws_add_http_header_status(
			wsi, (unsigned)h->status | LWSAHH_FLAG_NO_SERVER_NAME, &p, end))
			return -1;
		ADD("content-type:", h->content_type);
		ADD("transfer-encoding:", "chunked");
	} else if (lws_add_http_common_headers(wsi,
					       (unsigned)h->status | LWSAHH_FLAG_NO_SERVER_NAME,
					       h->content_type, h->len, &p, end)) {
		return -1;
	}
	snprintf(policy, sizeof policy, "%s%s", csp, h->sandbox ? "; sandbox" : "");
	ADD("content-security-policy:", policy);
	ADD("x-frame-options:", "DENY");
	ADD("x-content-type-options:", "nosniff");
	ADD("referrer-policy:", "no-referrer");
	ADD("cross-origin-resource-policy:", "same-origin");
	ADD("cache-control:", h->cacheable ? "no-cache" : "no-store");
	if (h->disposition)
		ADD("content-disposition:", h->disposition);
	if (h->location)
		ADD("location:", h->location);
	if (h->set_cookie)
		ADD("set-cookie:", h->set_cookie);
	if (h->close)
		ADD("connection:", "close");
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

/* Sends the head now and the body (c->out, c->out_len) from HTTP_WRITEABLE. */
static int respond(struct lws *wsi, struct conn *c, const struct head *h)
{
	struct head hc = *h;
	hc.close = c->close_after;
	if (write_head(wsi, &hc) != 0)
		return -1;
	c->responding = 1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_reply(struct lws *wsi, struct conn *c)
{
	struct api_reply *r = &c->reply;
	struct head h = {
	    .status = r->status,
	    .content_type = r->content_type,
	    .disposition = r->disposition[0] ? r->disposition : NULL,
	    .sandbox = r->stream,
	    .chunked = r->har != NULL,
	};
	if (r->har) {
		c->out_len = 0;
		return respond(wsi, c, &h);
	}
	if (r->stream) {
		h.len = r->stream_len;
	} else {
		h.len = r->len;
		c->out = (const unsigned char *)r->body;
	}
	c->out_len = h.len;
	return respond(wsi, c, &h);
}

static int respond_error(struct lws *wsi, struct conn *c, int status, const char *msg)
{
	api_reply_clear(&c->reply);
	c->reply.status = status;
	c->reply.content_type = "application/json";
	c->reply.body = webjson_error(msg, &c->reply.len);
	return respond_reply(wsi, c);
}

/* Writes the next piece of a streamed stored body. Decoded bodies are produced from the start
 * on every call (the store streams them, it cannot resume), so their pieces grow with the
 * offset: the work stays a small multiple of the body while memory stays bounded. */
static int write_stream(struct web *w, struct conn *c)
{
	size_t want = CHUNK;
	if (c->reply.decode && c->sent / 2 > want)
		want = c->sent / 2 < MAX_CHUNK ? (size_t)(c->sent / 2) : MAX_CHUNK;
	if (want > c->out_len - c->sent)
		want = (size_t)(c->out_len - c->sent);
	wbuf_reserve(c, want);
	ssize_t n = api_body_read(&w->api, c->reply.id, c->reply.response, c->reply.decode, c->sent,
				  c->wbuf + LWS_PRE, want);
	if (n <= 0)
		return -1; /* the flow went away mid-stream: Content-Length cannot be met, hang up
			    */
	return (int)n;
}

/* Writes the next chunk of a HAR export: pieces pulled from the exporter until CHUNK bytes or
 * the document's end, framed as one HTTP/1.1 chunk ("SIZE\r\n" DATA "\r\n"; the end adds the
 * last chunk "0\r\n\r\n"). Returns 1 when the document is complete, 0 when more follows, -1
 * when the connection failed. Memory: CHUNK plus one piece (one entry). */
static int write_har(struct lws *wsi, struct conn *c)
{
	size_t used = 0;
	int done = 0;
	while (used < CHUNK) {
		const char *d;
		size_t n;
		if (!har_export_next(c->reply.har, &d, &n)) {
			done = 1;
			break;
		}
		wbuf_reserve(c, CHUNK_HEAD + used + n + 8);
		memcpy(c->wbuf + LWS_PRE + CHUNK_HEAD + used, d, n);
		used += n;
	}
	wbuf_reserve(c, CHUNK_HEAD + used + 8);
	char *data = c->wbuf + LWS_PRE + CHUNK_HEAD, head[CHUNK_HEAD];
	size_t tail = 0;
	int hl = 0;
	if (used) {
		hl = snprintf(head, sizeof head, "%zx\r\n", used);
		memcpy(data + used, "\r\n", 2);
		tail = 2;
	}
	if (done) {
		memcpy(data + used + tail, "0\r\n\r\n", 5);
		tail += 5;
	}
	char *start = data - hl;
	memcpy(start, head, (size_t)hl);
	size_t total = (size_t)hl + used + tail;
	if (lws_write(wsi, (unsigned char *)start, total,
		      done ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)total)
		return -1;
	c->sent += used;
	return done;
}

int webhttp_on_writeable(struct lws *wsi, struct web *w, struct conn *c)
{
	if (c->reply.import) /* made writable when the import's answer is ready */
		return api_import_finish(&w->api, &c->reply) ? answer(wsi, w, c) : 0;
	if (c->held_by)
		return answer(wsi, w, c);
	if (!c->responding)
		return 0;
	/* lws hangs up on a transaction after a few seconds (keepalive_timeout) unless told
	 * otherwise: a long answer that makes progress gets PROGRESS_SECS more per piece, so
	 * only a client that stops reading is dropped (freeing what it held) */
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, PROGRESS_SECS);
	if (c->reply.har) {
		int rc = write_har(wsi, c);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else if (c->sent < c->out_len) {
		int n;
		if (c->reply.stream) {
			n = write_stream(w, c);
			if (n < 0)
				return -1;
		} else {
			uint64_t left = c->out_len - c->sent;
			n = (int)(left < CHUNK ? left : CHUNK);
			wbuf_reserve(c, (size_t)n);
			memcpy(c->wbuf + LWS_PRE, c->out + c->sent, (size_t)n);
		}
		int final = c->sent + (uint64_t)n == c->out_len;
		if (lws_write(wsi, (unsigned char *)c->wbuf + LWS_PRE, (size_t)n,
			      final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != n)
			return -1;
		c->sent += (uint64_t)n;
		if (!final) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (c->close_after)
		return -1; /* the request's body was never read: the connection cannot go on */
	end_request(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- answering ---- */

static int serve_static(struct lws *wsi, struct web *w, struct conn *c, const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	struct head h = {.status = 200, .content_type = assets_mime(path), .cacheable = 1};
	if (w->static_dir) {
		size_t len;
		c->file_data = assets_read_file(w->static_dir, path, MAX_STATIC_FILE, &len);
		if (!c->file_data)
			return respond_error(wsi, c, 404, "not found");
		c->out = c->file_data;
		c->out_len = len;
	} else {
		const struct asset *a = assets_path_ok(path) ? assets_find(path) : NULL;
		if (!a)
			return respond_error(wsi, c, 404, "not found");
		c->out = a->data;
		c->out_len = a->len;
	}
	h.len = c->out_len;
	return respond(wsi, c, &h);
}

/* /?token=T: trade the token for a cookie and drop it from the address bar. */
static int trade_token(struct lws *wsi, struct web *w, struct conn *c, const struct door_view *v)
{
	if (!door_token_ok(&w->door, v->token_arg))
		return respond_error(wsi, c, 401, "wrong token");
	char *cookie =
	    xasprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/", WEB_TOKEN_COOKIE, w->door.token);
	struct head h = {
	    .status = 302, .content_type = "text/plain", .location = "/", .set_cookie = cookie};
	int rc = respond(wsi, c, &h);
	free(cookie);
	return rc;
}

static void dispatch_api(struct lws *wsi, struct web *w, struct conn *c)
{
	struct api_request rq = {
	    .method = c->method,
	    .path = c->path,
	    .filter = c->args[0],
	    .limit = c->args[1],
	    .before = c->args[2],
	    .decode = c->args[3],
	    .type = c->args[4],
	    .after = c->args[5],
	    .position = c->args[6],
	    .body = c->body,
	    .body_len = c->body_len,
	    .take_body = &c->body,
	    .owner = wsi,
	};
	api_handle(&w->api, &rq, &c->reply);
}

static const char *method_name(struct lws *wsi)
{
	char *uri;
	int len;
	switch (lws_http_get_uri_and_method(wsi, &uri, &len)) {
	case LWSHUMETH_GET:
		return "GET";
	case LWSHUMETH_POST:
		return "POST";
	case LWSHUMETH_OPTIONS:
		return "OPTIONS";
	case LWSHUMETH_PUT:
		return "PUT";
	case LWSHUMETH_PATCH:
		return "PATCH";
	case LWSHUMETH_DELETE:
		return "DELETE";
	case LWSHUMETH_HEAD:
		return "HEAD";
	default:
		return "OTHER";
	}
}

/* ---- answers held until the store has what the call wrote ---- */

static void unhold(struct conn *c)
{
	if (!c->held_by)
		return;
	*c->held_pprev = c->held_next;
	if (c->held_next)
		c->held_next->held_pprev = c->held_pprev;
	atomic_fetch_sub(&c->held_by->holding, 1);
	c->held_by = NULL;
	c->held_next = NULL;
	c->held_pprev = NULL;
}

static void hold(struct lws *wsi, struct web *w, struct conn *c)
{
	c->wsi = wsi;
	c->held_by = w;
	c->held_next = w->held;
	if (w->held)
		w->held->held_pprev = &c->held_next;
	w->held = c;
	c->held_pprev = &w->held;
	atomic_fetch_add(&w->holding, 1); /* before the check below: see webui.c's on_done */
	/* the store's writer always gets to the mark (committed or failed): no timeout */
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	if (c->reply.watch) {
		int64_t left = c->reply.watch_until - util_mono_us();
		lws_set_timer_usecs(wsi, left > 0 ? left : 1);
	}
}

/* Sends the API's answer once the store has what the call wrote; until then holds it (woken
 * through webhttp_wake_held() or the watch's timer). */
static int answer(struct lws *wsi, struct web *w, struct conn *c)
{
	if (!api_reply_ready(&w->api, &c->reply)) {
		if (!c->held_by)
			hold(wsi, w, c);
		/* the writer may have got there between the check and the hold */
		if (!api_reply_ready(&w->api, &c->reply))
			return 0;
	}
	unhold(c);
	return respond_reply(wsi, c);
}

void webhttp_wake_held(struct web *w)
{
	for (struct conn *c = w->held; c; c = c->held_next)
		lws_callback_on_writable(c->wsi);
}

/* An import runs on its worker: the answer comes when it is done (webhttp_on_import_ready()). lws
 * would hang up on a request left unanswered for a few seconds; the worker's work is bounded
 * (and cancelled when the client leaves), so no timeout applies meanwhile. */
static int await_import(struct lws *wsi)
{
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	return 0;
}

int webhttp_on_request(struct lws *wsi, struct web *w, struct conn *c, const char *path)
{
	struct door_view v = {0};
	int rc = 0;
	end_request(c);
	snprintf(c->method, sizeof c->method, "%s", method_name(wsi));
	view_read(wsi, &v);
	int is_api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
	int writes = strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0;
	const char *why = NULL;
	int refuse = door_check(&w->door, &v, is_api, writes, &why);
	if (refuse) {
		rc = respond_error(wsi, c, refuse, why);
		goto end;
	}
	if (!is_api) {
		if (strcmp(c->method, "GET") != 0)
			rc = respond_error(wsi, c, 405, "method not allowed");
		else if (strcmp(path, "/") == 0 && v.token_arg)
			rc = trade_token(wsi, w, c, &v);
		else
			rc = serve_static(wsi, w, c, path);
		goto end;
	}
	c->path = xstrdup(path);
	c->args[0] = urlarg(wsi, "filter=");
	c->args[1] = urlarg(wsi, "limit=");
	c->args[2] = urlarg(wsi, "before=");
	c->args[3] = urlarg(wsi, "decode=");
	c->args[4] = urlarg(wsi, "type=");
	c->args[5] = urlarg(wsi, "after=");
	c->args[6] = urlarg(wsi, "position=");
	if (strcmp(c->method, "POST") == 0 || strcmp(c->method, "PUT") == 0 ||
	    strcmp(c->method, "PATCH") == 0) {
		char *cl = hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
		char *te = hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
		/* Neither header: the body is empty (RFC 9112 6.3), as `curl -X POST` sends it. */
		long long len = cl ? atoll(cl) : te ? -1 : 0;
		/* lws itself takes a POST, PUT or PATCH without Content-Length to have a body
		 * of up to 100 MB and would swallow the next request as that body: this
		 * connection ends with the answer (a client sends its next request on a new one) */
		if (!cl && !te)
			c->close_after = 1;
		free(cl);
		free(te);
		if (len < 0) {
			/* lws would wait for a body of unknown size; we take none */
			c->close_after = 1;
			rc = respond_error(wsi, c, 411, "Content-Length required");
			goto end;
		}
		if (len > 0) {
			c->awaiting_body = 1;
			c->body_max = MAX_REQUEST_BODY;
			if (strcmp(path, "/api/har") == 0 && strcmp(c->method, "POST") == 0) {
				c->body_max = MAX_HAR_UPLOAD;
				if ((unsigned long long)len <= MAX_HAR_UPLOAD) {
					/* one allocation for the whole upload, no copies */
					c->body_cap = (size_t)len;
					c->body = xmalloc(c->body_cap + 1);
				}
			}
			goto end; /* answered at HTTP_BODY_COMPLETION */
		}
	}
	dispatch_api(wsi, w, c);
	rc = c->reply.import ? await_import(wsi) : answer(wsi, w, c);
end:
	view_clear(&v);
	return rc;
}

int webhttp_on_body(struct conn *c, const char *data, size_t len)
{
	if (!c->awaiting_body || len == 0)
		return 0;
	if (c->body_too_big || c->body_len + len > c->body_max) {
		c->body_too_big = 1;
		free(c->body); /* keep nothing of a refused upload */
		c->body = NULL;
		c->body_len = c->body_cap = 0;
		return 0;
	}
	if (c->body_len + len > c->body_cap) {
		c->body_cap =
		    c->body_len + len > 2 * c->body_cap ? c->body_len + len : 2 * c->body_cap;
		if (c->body_cap > c->body_max)
			c->body_cap = c->body_max;
		c->body = xrealloc(c->body, c->body_cap + 1);
	}
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return 0;
}

void webhttp_on_import_ready(void *arg, void *owner)
{
	(void)arg;
	lws_callback_on_writable(owner); /* owner: the wsi of the import's request */
}

int webhttp_on_body_done(struct lws *wsi, struct web *w, struct conn *c)
{
	/* lws also reports completion for an explicit Content-Length: 0, answered already */
	if (!c->awaiting_body)
		return 0;
	c->awaiting_body = 0;
	if (c->body_too_big) {
		char msg[80];
		snprintf(msg, sizeof msg, "request body too large (at most %zu MiB here)",
			 c->body_max >> 20);
		return respond_error(wsi, c, 413, msg);
	}
	dispatch_api(wsi, w, c);
	/* the body has been used (a HAR import took it: c->body is NULL then) */
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	if (c->reply.import)
		return await_import(wsi);
	return answer(wsi, w, c);
}

/* ---- the WebSocket upgrade's door ---- */

/* The door for an upgrade: only /api/events, with token, Host and Origin checked. */
int webhttp_upgrade_refusal(struct lws *wsi, struct web *w, const char **why)
{
	struct door_view v = {0};
	view_read(wsi, &v);
	char *uri = hdr(wsi, WSI_TOKEN_GET_URI);
	int status = 0;
	if (!uri || strcmp(uri, "/api/events") != 0) {
		*why = "no such WebSocket";
		status = 404;
	} else {
		status = door_check(&w->door, &v, 1, 1, why);
	}
	free(uri);
	view_clear(&v);
	return status;
}

/* Refuses an upgrade with a JSON answer written right away (lws closes after it). */
int webhttp_refuse_upgrade(struct lws *wsi, int status, const char *why)
{
	size_t len;
	char *body = webjson_error(why, &len);
	struct head h = {.status = status, .content_type = "application/json", .len = len};
	int rc = write_head(wsi, &h);
	if (rc == 0) {
		unsigned char *buf = xmalloc(LWS_PRE + len);
		memcpy(buf + LWS_PRE, body, len);
		if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
			rc = -1;
		free(buf);
	}
	free(body);
	return rc == 0 ? 1 : -1;
}
