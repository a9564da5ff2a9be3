/* SPDX-License-Identifier: MIT */
/* harimport.c - the HAR import (see har.h for the contract).
 *
 * The document is walked entry by entry (harwalk.c: jansson parses one entry at a time, never
 * the whole document); every entry is checked and turned into a flow in an array first; only
 * when the whole file is JSON and a HAR are they emitted (FLOW_EV_END). Two kinds of fault:
 * what makes the file not a HAR (a required member missing or of the wrong type:
 * harctx_fail()) refuses it whole; a valid entry flowscope cannot represent (harctx_skip():
 * a data: URL, a header HTTP/1 cannot carry, ...) is left out and listed with its reason, and
 * the others are imported. Each tool's way of recording a failed request (status 0 or -1 with
 * _error, _failureText or _charlesStatus) makes an error flow. Bodies arrive
 * decoded in HAR files, while the store keeps wire bytes (the body that the Content-Encoding
 * header describes): so a body is encoded again (codec_encode_all(): gzip, deflate, br, zstd)
 * as its headers say, and store_body(decode=1) gives the same text back. Timestamps come from
 * _flowscope.t when present (our own files, harext.c), else from startedDateTime and the
 * phases (blocked has no timestamp of its own: it is added to the start of what follows).
 * HTTP/2 pseudo-headers (Chrome) are dropped, ":authority" becoming Host.
 */
#include "har.h"

#include "b64.h"
#include "codec.h"
#include "harctx.h"
#include "harext.h"
#include "harjson.h"
#include "harwalk.h"
#include "harws.h"
#include "url.h"
#include "util.h"
#include "wire.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- reading entries ---- */

static int parse_version(const char *v)
{
	if (v && (strcasecmp(v, "h2") == 0 || strcasecmp(v, "HTTP/2") == 0 ||
		  strcasecmp(v, "HTTP/2.0") == 0))
		return 20; /* Chrome writes "h2" or "http/2.0" */
	return v && strcasecmp(v, "HTTP/1.0") == 0 ? 10 : 11;
}

/* Reads a headers array ("request.headers") into m. HTTP/2 pseudo-headers (":path", ...) are
 * left out; ":authority" becomes Host when there is no Host header. */
static int read_headers(struct harctx *c, json_t *arr, const char *what, struct flow_msg *m)
{
	if (!json_is_array(arr))
		return harctx_fail(c, "%s missing or not an array", what);
	const char *authority = NULL;
	size_t alen = 0;
	int has_host = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *h = json_array_get(arr, i);
		size_t nlen = 0, vlen = 0;
		const char *name = harjson_get_str(h, "name", &nlen),
			   *value = harjson_get_str(h, "value", &vlen);
		if (!name || !value)
			return harctx_fail(c, "%s[%zu]: name or value missing", what, i);
		/* valid HAR from here: what flowscope cannot store skips the entry */
		if (nlen > 1 && name[0] == ':') {
			if (strcmp(name, ":authority") == 0) {
				authority = value;
				alen = vlen;
			}
			continue;
		}
		if (!wire_is_token(name, nlen))
			return harctx_skip(c, "%s[%zu].name is not a valid header name", what, i);
		if (!wire_is_field_value(value, vlen))
			return harctx_skip(c, "%s[%zu].value contains CR, LF or NUL", what, i);
		if (strcasecmp(name, "host") == 0)
			has_host = 1;
		flow_msg_add_header(m, name, nlen, value, vlen);
	}
	if (authority && !has_host) {
		if (!wire_is_field_value(authority, alen))
			return harctx_skip(c, "%s: :authority contains CR, LF or NUL", what);
		/* Host goes first, where an HTTP/1.1 client puts it. */
		flow_msg_add_header(m, "Host", 4, authority, alen);
		struct flow_header host = m->headers[m->num_headers - 1];
		memmove(m->headers + 1, m->headers, (m->num_headers - 1) * sizeof *m->headers);
		m->headers[0] = host;
	}
	return 0;
}

/* Reads the trailers of obj (flowscope's "_trailers", an array as headers; absent: none) into
 * m's trailers. Returns 0, or -1 as read_headers(). */
static int read_trailers(struct harctx *c, json_t *obj, const char *what, struct flow_msg *m)
{
	json_t *arr = json_object_get(obj, "_trailers");
	if (!arr)
		return 0;
	struct flow_msg t = {0};
	int rc = read_headers(c, arr, what, &t);
	m->trailers = t.headers;
	m->num_trailers = t.num_headers;
	m->cap_trailers = t.cap_headers;
	return rc;
}

/* Splits an absolute URL into f's scheme, host, port and path (url_parse(): the one rule set
 * of every layer; an empty host only when lenient). Returns 0, or -1 with the entry skipped
 * (a scheme we do not record, such as data: or blob:, or a URL we cannot parse). */
static int parse_url(struct harctx *c, const char *url, size_t len, int tunnel, int lenient,
		     struct flow *f)
{
	/* url_parse()'s errors in the words of this importer's messages */
	static const struct {
		const char *err, *what;
	} says[] = {
	    {url_err_absolute, "is not an absolute URL"},
	    {url_err_control, "contains a space or control character"},
	    {url_err_no_host, "has no host"},
	    {url_err_host, "has a bad host"},
	    {url_err_ipv6, "has a bad IPv6 address"},
	    {url_err_authority, "has a bad authority"},
	    {url_err_port, "has a bad port"},
	};
	if (strlen(url) != len)
		return harctx_skip(c, "request.url contains NUL");
	struct url u;
	const char *err;
	if (url_parse(url, len, lenient ? URL_EMPTY_HOST : 0, &u, &err) != 0) {
		if (err == url_err_scheme) {
			int slen = (int)strcspn(url, ":/?#");
			return harctx_skip(c,
					   "request.url: scheme \"%.*s\" is not http(s) or ws(s)",
					   slen > 24 ? 24 : slen, url);
		}
		for (size_t i = 0; i < sizeof says / sizeof *says; i++)
			if (err == says[i].err)
				return harctx_skip(c, "request.url %s", says[i].what);
		return harctx_skip(c, "request.url: %s", err);
	}
	if (u.scheme == URL_WS || u.scheme == URL_WSS)
		f->flags |= FLOW_F_WEBSOCKET;
	flow_set_str(&f->scheme, u.tls ? "https" : "http");
	f->host = xstrdup(u.authority.host);
	f->port = (uint16_t)u.authority.port;
	if (!tunnel) {
		f->path = u.path; /* the fragment is not sent, nor is userinfo */
		u.path = NULL;
	}
	url_clear(&u);
	return 0;
}

/* Percent-encodes a form value for a body built from postData.params. */
static void form_append(struct flow_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char enc[3];
		if (isalnum(ch) || strchr("-._~", ch)) {
			flow_buf_append(b, (const char *)&ch, 1);
		} else if (ch == ' ') {
			flow_buf_append(b, "+", 1);
		} else {
			enc[0] = '%';
			enc[1] = hex[ch >> 4];
			enc[2] = hex[ch & 15];
			flow_buf_append(b, enc, 3);
		}
	}
}

/* A body from text (+ base64 when enc_key says so) into m. */
static int read_text(struct harctx *c, json_t *obj, const char *what, const char *const *enc_keys,
		     struct flow_msg *m, int *has)
{
	*has = 0;
	json_t *t = json_object_get(obj, "text");
	if (!t || json_is_null(t))
		return 0;
	if (!json_is_string(t))
		return harctx_fail(c, "%s.text is not a string", what);
	const char *enc = NULL;
	for (; *enc_keys && !enc; enc_keys++)
		enc = harjson_get_str(obj, *enc_keys, NULL);
	const char *text = json_string_value(t);
	size_t len = json_string_length(t);
	*has = 1;
	if (enc && *enc) {
		if (strcasecmp(enc, "base64") != 0)
			return harctx_skip(c, "%s: unknown encoding \"%.40s\"", what, enc);
		char *bytes;
		size_t blen;
		if (b64_decode(text, len, &bytes, &blen) != 0)
			return harctx_skip(c, "%s.text is not valid base64", what);
		flow_buf_append(&m->body, bytes, blen);
		free(bytes);
	} else {
		flow_buf_append(&m->body, text, len);
	}
	return 0;
}

static int read_post(struct harctx *c, json_t *pd, struct flow_msg *m)
{
	if (!pd || json_is_null(pd))
		return 0;
	if (!json_is_object(pd))
		return harctx_fail(c, "request.postData is not an object");
	static const char *const keys[] = {"_encoding", "encoding", NULL};
	int has;
	if (read_text(c, pd, "request.postData", keys, m, &has) != 0)
		return -1;
	json_t *params = json_object_get(pd, "params");
	if (has || !json_is_array(params))
		return 0;
	for (size_t i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		size_t nlen = 0, vlen = 0;
		const char *name = harjson_get_str(p, "name", &nlen),
			   *value = harjson_get_str(p, "value", &vlen);
		if (!name)
			return harctx_fail(c, "request.postData.params[%zu].name missing", i);
		if (i)
			flow_buf_append(&m->body, "&", 1);
		form_append(&m->body, name, nlen);
		flow_buf_append(&m->body, "=", 1);
		form_append(&m->body, value ? value : "", vlen);
	}
	return 0;
}

/* A phase in milliseconds as microseconds; -1 for negative or absurd values. */
static int64_t ms_to_us(double ms)
{
	if (!(ms >= 0 && ms < 1e12))
		return -1;
	return (int64_t)(ms * 1000.0 + 0.5);
}

/* Timestamps from startedDateTime and the phases (files from browsers). */
static void timings_from_phases(json_t *e, int64_t start, struct flow_timing *t)
{
	json_t *tm = json_object_get(e, "timings");
	t->start = start;
	int64_t cur = start;
#define PHASE(key) ms_to_us(harjson_get_num(tm, key, -1))
	int64_t blocked = PHASE("blocked"), dns = PHASE("dns"), connect = PHASE("connect"),
		ssl = PHASE("ssl"), send = PHASE("send"), wait = PHASE("wait"),
		receive = PHASE("receive");
#undef PHASE
	if (!json_is_object(tm)) {
		int64_t total = ms_to_us(harjson_get_num(e, "time", -1));
		if (total >= 0)
			t->end = start + total;
		return;
	}
	if (blocked > 0)
		cur += blocked;
	if (dns >= 0)
		t->dns_done = cur += dns;
	if (connect >= 0) {
		if (ssl >= 0 && ssl <= connect) {
			t->connect_done = cur + connect - ssl;
			t->tls_done = cur + connect;
		} else {
			t->connect_done = cur + connect;
		}
		cur += connect;
	}
	t->request_sent = cur += send > 0 ? send : 0;
	t->first_byte = cur += wait > 0 ? wait : 0;
	t->end = cur += receive > 0 ? receive : 0;
}

static const char *header_value(const struct flow_msg *m, const char *name)
{
	const struct flow_header *h = m->present ? flow_msg_header(m, name) : NULL;
	return h ? h->value : NULL;
}

/* The store keeps wire bytes: m's body (the decoded text of the file) is encoded again as its
 * Content-Encoding says, unless raw (it went out as stored: it did not decode). A coding we do
 * not know leaves the body as it is (then it cannot be decoded on export either, and goes out
 * as stored). Then body_size is the HAR bodySize of obj (the wire size) when given, raised to
 * what we hold, and head_size its headersSize. */
static void as_stored(struct flow_msg *m, json_t *obj, int raw)
{
	const char *enc = header_value(m, "Content-Encoding");
	char *out;
	size_t out_len;
	if (!raw && enc && m->body.len &&
	    codec_encode_all(enc, m->body.data, m->body.len, &out, &out_len) == 0) {
		flow_buf_clear(&m->body);
		flow_buf_append(&m->body, out, out_len);
		free(out);
	}
	if (m->present) {
		double bs = harjson_get_num(obj, "bodySize", -1);
		m->body_size = bs >= 0 && bs <= 1e15 ? (uint64_t)bs : 0;
		double hs = harjson_get_num(obj, "headersSize", -1);
		m->head_size = hs > 0 && hs <= 1e15 ? (uint64_t)hs : 0;
	}
	if (m->body_size < m->body.len)
		m->body_size = m->body.len;
}

/* What read_entry() checks before it makes a flow. */
struct entry {
	json_t *req, *resp;	  /* borrowed from the entry: request, response */
	const char *method, *url; /* borrowed; may hold NUL bytes */
	size_t method_len, url_len;
	const char *error; /* the failure the entry records, or NULL; borrowed or error_buf */
	char error_buf[80];
	int tunnel;	   /* "_flowscope_kind": "tunnel", or a CONNECT from another tool */
	int64_t start;	   /* startedDateTime, microseconds */
	json_int_t status; /* 0: no response (the file says 0 or -1) */
};

/* A non-empty string member key of obj, or NULL. */
static const char *nonempty(json_t *obj, const char *key)
{
	const char *s = harjson_get_str(obj, key, NULL);
	return s && *s ? s : NULL;
}

/* The failure an entry records, in each tool's words: Chrome's (and mitmproxy's and ours)
 * "response._error", the same on the entry, Playwright's "response._failureText", and Charles's
 * "response._charlesStatus" when it is not COMPLETE. NULL when it records none. */
static const char *failure(json_t *e, json_t *resp, char *buf, size_t buflen)
{
	const char *s = nonempty(resp, "_error");
	if (!s)
		s = nonempty(e, "_error");
	if (!s)
		s = nonempty(resp, "_failureText");
	if (s)
		return s;
	s = nonempty(resp, "_charlesStatus");
	if (!s || strcasecmp(s, "COMPLETE") == 0)
		return NULL;
	snprintf(buf, buflen, "Charles status %.40s", s);
	return buf;
}

/* Checks what every flow needs of entry e, into *en. Returns 0, or -1 with the error set (a
 * member HAR requires is missing or of the wrong type: the file is refused) or the entry
 * skipped (a value flowscope cannot represent). */
static int check_entry(struct harctx *c, json_t *e, struct entry *en)
{
	if (!json_is_object(e))
		return harctx_fail(c, "not an object");
	en->req = json_object_get(e, "request");
	en->resp = json_object_get(e, "response");
	if (!json_is_object(en->req))
		return harctx_fail(c, "request missing or not an object");
	if (!json_is_object(en->resp))
		return harctx_fail(c, "response missing or not an object");
	en->error = failure(e, en->resp, en->error_buf, sizeof en->error_buf);
	en->method = harjson_get_str(en->req, "method", &en->method_len);
	en->url = harjson_get_str(en->req, "url", &en->url_len);
	if (!en->method)
		return harctx_fail(c, "request.method missing");
	if (!en->url)
		return harctx_fail(c, "request.url missing");
	const char *kind = harjson_get_str(e, "_flowscope_kind", NULL);
	en->tunnel = kind ? strcmp(kind, "tunnel") == 0
			  : en->method_len == 7 && memcmp(en->method, "CONNECT", 7) == 0;
	const char *started = harjson_get_str(e, "startedDateTime", NULL);
	if (!started)
		return harctx_fail(c, "startedDateTime missing");
	json_t *status = json_object_get(en->resp, "status");
	if (!json_is_integer(status))
		return harctx_fail(c, "response.status missing or not an integer");
	/* An empty method is what a malformed request that failed exports as. */
	if (!(en->method_len == 0 && en->error) && !wire_is_token(en->method, en->method_len))
		return harctx_skip(c, "request.method is not a valid method");
	if (harjson_parse_iso(started, &en->start) != 0)
		return harctx_skip(c, "startedDateTime is not an ISO 8601 date");
	en->status = json_integer_value(status);
	/* No response: 0 (HAR's word for it), -1 (Playwright's, for a request that failed or
	 * was still waiting when the recording stopped). */
	if (en->status == -1)
		en->status = 0;
	if (en->status != 0 && (en->status < 100 || en->status > 999))
		return harctx_skip(c, "response.status %lld is out of range",
				   (long long)en->status);
	return 0;
}

/* serverIPAddress ("192.0.2.1", "2001:db8::1", or Chrome's "[2001:db8::1]") with f's port as
 * f->server_addr, unless _flowscope gave one. */
static void set_server_addr(struct flow *f, const char *ip)
{
	if (f->server_addr[0] || !ip || !*ip || strlen(ip) >= 48)
		return;
	if (!strpbrk(ip, "[] \r\n")) {
		if (strchr(ip, ':'))
			snprintf(f->server_addr, sizeof f->server_addr, "[%s]:%u", ip,
				 (unsigned)f->port);
		else
			snprintf(f->server_addr, sizeof f->server_addr, "%s:%u", ip,
				 (unsigned)f->port);
	} else if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
		snprintf(f->server_addr, sizeof f->server_addr, "%s:%u", ip, (unsigned)f->port);
	}
}

/* The response's head and body into rs. */
static int read_response(struct harctx *c, const struct entry *en, struct flow_msg *rs)
{
	if (en->status > 0) {
		rs->present = 1;
		rs->status = (int)en->status;
		rs->version = parse_version(harjson_get_str(en->resp, "httpVersion", NULL));
		size_t rlen = 0;
		const char *reason = harjson_get_str(en->resp, "statusText", &rlen);
		rs->reason = xstrdup(reason && strlen(reason) == rlen ? reason : "");
		if (!wire_is_field_value(rs->reason, strlen(rs->reason)))
			return harctx_skip(c, "response.statusText contains CR or LF");
	}
	if (read_headers(c, json_object_get(en->resp, "headers"), "response.headers", rs) != 0 ||
	    read_trailers(c, en->resp, "response._trailers", rs) != 0)
		return -1;
	json_t *content = json_object_get(en->resp, "content");
	if (content && !json_is_object(content))
		return harctx_fail(c, "response.content is not an object");
	if (content) {
		static const char *const keys[] = {"encoding", "_encoding", NULL};
		int has;
		if (read_text(c, content, "response.content", keys, rs, &has) != 0)
			return -1;
	}
	if (!rs->present && rs->body.len)
		return harctx_skip(c, "response.content has a body but no response.status");
	return 0;
}

/* What other tools record that flowscope keeps too, unless _flowscope gave it: Playwright's
 * "_securityDetails" (the TLS version and the server certificate's names) and "_serverPort"
 * (the port serverIPAddress was reached on, when it is not the URL's). */
static void read_foreign(json_t *e, struct flow *f)
{
	json_t *sd = json_object_get(e, "_securityDetails");
	const char *s;
	if (json_is_object(sd)) {
		if (!f->tls.version && (s = nonempty(sd, "protocol")))
			flow_set_str(&f->tls.version, s);
		if (!f->tls.cert_subject && (s = nonempty(sd, "subjectName")))
			flow_set_str(&f->tls.cert_subject, s);
		if (!f->tls.cert_issuer && (s = nonempty(sd, "issuer")))
			flow_set_str(&f->tls.cert_issuer, s);
	}
	double port = harjson_get_num(e, "_serverPort", 0);
	uint16_t url_port = f->port;
	if (!f->server_addr[0] && port >= 1 && port <= 65535 && port == (int)port)
		f->port = (uint16_t)port;
	set_server_addr(f, harjson_get_str(e, "serverIPAddress", NULL));
	f->port = url_port;
}

/* One entry into a new flow (*out). Returns -1 with the error set, or with c->skip set when the
 * entry is skipped. */
static int read_entry(struct harctx *c, json_t *e, struct flow **out)
{
	struct entry en;
	*out = NULL;
	if (check_entry(c, e, &en) != 0)
		return -1;
	struct flow *f = flow_new();
	/* A CONNECT from another tool may give its authority alone ("example.com:443"). */
	char *url = en.tunnel && strlen(en.url) == en.url_len && !strstr(en.url, "://")
			? xasprintf("http://%.*s", (int)en.url_len, en.url)
			: NULL;
	int rc = url ? parse_url(c, url, strlen(url), 1, 0, f)
		     : parse_url(c, en.url, en.url_len, en.tunnel, en.error != NULL, f);
	free(url);
	if (rc != 0) {
		flow_free(f);
		return -1;
	}
	f->kind = en.tunnel ? FLOW_TUNNEL : FLOW_HTTP;
	f->flags |= FLOW_F_IMPORTED;
	if (strcmp(f->scheme, "https") == 0 && !en.tunnel)
		f->flags |= FLOW_F_TLS;
	struct flow_msg *rq = &f->request, *rs = &f->response;
	/* No method: a request that failed before its head was read (what we export then). */
	rq->present = en.method_len > 0;
	rq->method = xstrndup(en.method, en.method_len);
	rq->version = rq->present ? parse_version(harjson_get_str(en.req, "httpVersion", NULL)) : 0;
	int raw_req = 0, raw_resp = 0;
	harext_read(json_object_get(e, "_flowscope"), f, &raw_req, &raw_resp);
	if (!f->t.start)
		timings_from_phases(e, en.start, &f->t);
	read_foreign(e, f);
	if (!rq->target && rq->present)
		rq->target =
		    en.tunnel ? xasprintf("%s:%u", f->host, (unsigned)f->port) : xstrdup(f->path);
	/* A tunnel has no response of its own: the "200 Connection established" another tool
	 * may record is the proxy's (flowscope stores none for its tunnels). */
	if (read_headers(c, json_object_get(en.req, "headers"), "request.headers", rq) != 0 ||
	    read_trailers(c, en.req, "request._trailers", rq) != 0 ||
	    read_post(c, json_object_get(en.req, "postData"), rq) != 0 ||
	    (!en.tunnel && read_response(c, &en, rs) != 0)) {
		flow_free(f);
		return -1;
	}
	as_stored(rq, en.req, raw_req);
	as_stored(rs, en.resp, raw_resp);
	f->state = FLOW_DONE;
	if (en.error)
		flow_set_error(f, en.error);
	*out = f;
	return 0;
}

/* ---- the import ---- */

struct import {
	struct harctx *c;	   /* borrowed: where errors go */
	struct flow **flows;	   /* owned; the converted entries */
	struct wsmsg_batch **msgs; /* owned; each flow's WebSocket messages, or NULL */
	size_t num, cap;
	struct har_skipped skipped; /* the entries left out, and why */
};

/* Notes that the entry being read (c->entry) is skipped, why (c->skip), and clears c->skip. */
static void note_skip(struct import *im)
{
	struct har_skipped *sk = &im->skipped;
	if (sk->num < HAR_SKIPS_LISTED) {
		sk->list = xrealloc(sk->list, (sk->num + 1) * sizeof *sk->list);
		struct har_skip *s = &sk->list[sk->num];
		s->index = im->c->entry - 1;
		snprintf(s->reason, sizeof s->reason, "%s", im->c->skip);
		/* quoted bits of the file may be any bytes: the reason stays printable ASCII */
		for (char *p = s->reason; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
	}
	sk->num++;
	im->c->skip[0] = 0;
}

/* harwalk_entry_fn: one entry of the walk into a flow. */
static int on_entry(void *arg, json_t *e)
{
	struct import *im = arg;
	if (im->num == im->cap) {
		im->cap = im->cap ? 2 * im->cap : 256;
		im->flows = xrealloc(im->flows, im->cap * sizeof *im->flows);
		im->msgs = xrealloc(im->msgs, im->cap * sizeof *im->msgs);
	}
	if (read_entry(im->c, e, &im->flows[im->num]) == 0) {
		im->msgs[im->num] = harws_import(e);
		if (im->msgs[im->num])
			im->flows[im->num]->flags |= FLOW_F_WEBSOCKET;
		im->num++;
	} else if (im->c->skip[0])
		note_skip(im);
	else
		return -1;
	return 0;
}

/* The import behind both entry points: walks data, then emits every flow or none. */
static long import(const char *data, size_t len, char *to_free, const atomic_int *cancel,
		   struct flow_sink sink, struct har_skipped *skipped, char *err, size_t errlen)
{
	struct harctx c = {.err = err, .errlen = errlen};
	struct import im = {.c = &c};
	if (skipped)
		*skipped = (struct har_skipped){0};
	int rc = harwalk_doc(data, len, cancel, on_entry, &im, &c);
	free(to_free); /* walked: the flows hold everything from here */
	if (rc != 0) {
		for (size_t i = 0; i < im.num; i++) {
			flow_free(im.flows[i]);
			wsmsg_batch_free(im.msgs[i]);
		}
		free(im.flows);
		free(im.msgs);
		har_skipped_clear(&im.skipped);
		return -1;
	}
	for (size_t i = 0; i < im.num; i++) {
		uint64_t id = im.flows[i]->id;
		sink.emit(sink.arg, FLOW_EV_END, im.flows[i]);
		if (im.msgs[i] && sink.emit_messages) {
			im.msgs[i]->flow_id = id; /* after its flow: the queue keeps the order */
			sink.emit_messages(sink.arg, im.msgs[i]);
		} else {
			wsmsg_batch_free(im.msgs[i]);
		}
	}
	free(im.flows);
	free(im.msgs);
	if (skipped)
		*skipped = im.skipped;
	else
		har_skipped_clear(&im.skipped);
	return (long)im.num;
}

void har_skipped_clear(struct har_skipped *s)
{
	free(s->list);
	*s = (struct har_skipped){0};
}

long har_import(const char *data, size_t len, struct flow_sink sink, struct har_skipped *skipped,
		char *err, size_t errlen)
{
	return import(data, len, NULL, NULL, sink, skipped, err, errlen);
}

long har_import_take(char *data, size_t len, const atomic_int *cancel, struct flow_sink sink,
		     struct har_skipped *skipped, char *err, size_t errlen)
{
	return import(data, len, data, cancel, sink, skipped, err, errlen);
}
