/* SPDX-License-Identifier: MIT */
/* harexport.c - the HAR 1.2 export (see har.h for the contract).
 *
 * store_list() pages newest first, so har_export_new() first collects (start time, id) pairs
 * of the matching flows page by page (16 bytes a flow: 16 MB for a million) and sorts them
 * oldest first; each har_export_next() then reads one whole flow (store_get), builds its entry
 * with jansson, serializes it and frees the tree: one entry in memory at a time. The
 * surrounding document ("log", "creator", the "entries" brackets and commas) is written by
 * hand. har_export() is the push form of the same loop.
 *
 *   entry.startedDateTime   t.start as ISO 8601, UTC, milliseconds
 *   entry.timings           from the flow's timestamps: blocked -1 (not measured); dns, connect
 *                           (TLS included, as the spec says) and ssl -1 when the flow reused a
 *                           connection; send/wait/receive never -1 (0 when they did not happen,
 *                           and the rest of a failed flow's duration goes to the phase it
 *                           failed in); time = the sum of the non-negative ones but ssl
 *   content.text            the body with Content-Encoding undone (store_body decode=1); UTF-8
 *                           as text, anything else base64 with "encoding": "base64"; a body that
 *                           does not decode goes out as stored, marked in _flowscope.encoded
 *   postData                the same for the request body ("_encoding": "base64" for bytes,
 *                           HAR 1.2 has no field for it); params as well for url-encoded forms
 *   strings                 headers, cookies and query values that are not UTF-8 are read
 *                           as Latin-1 (jsontext.h's policy, the web API's too)
 *   _flowscope              what HAR has no field for (harext.c)
 *   _trailers               request's and response's trailers, an array as "headers" (absent
 *                           when none); the import reads them back
 */
#define _GNU_SOURCE /* strptime() */
#include "har.h"

#include "cookie.h"
#include "harext.h"
#include "harjson.h"
#include "harws.h"
#include "jsontext.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CREATOR_NAME "flowscope"
#define CREATOR_VERSION "0.1"
#define LIST_PAGE 2000 /* flows per store_list() call while collecting ids */
/* Integral JSON reals print as "12.0"; 15 significant digits keep 12.345 from printing as
 * 12.345000000000001 and still hold microseconds of an 11-day duration. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* ---- strings ---- */

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decodes (%XX, and '+' as space) into a new JSON string. */
static json_t *jurldecode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
			   (lo = hexval(s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	json_t *j = harjson_str(out, o);
	free(out);
	return j;
}

/* ---- pieces of an entry ---- */

static json_t *jheaders(const struct flow_msg *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		json_array_append_new(a, json_pack("{s:o,s:o}", "name",
						   harjson_str(h->name, h->name_len), "value",
						   harjson_str(h->value, h->value_len)));
	}
	return a;
}

/* o's "_trailers" (flowscope's: an array as "headers") when m has trailers. */
static void set_trailers(json_t *o, const struct flow_msg *m)
{
	struct flow_msg t = {.headers = m->trailers, .num_headers = m->num_trailers};
	if (m->num_trailers)
		json_object_set_new(o, "_trailers", jheaders(&t));
}

static json_t *jms(int64_t us)
{
	return us < 0 ? json_integer(-1) : json_real((double)us / 1000.0);
}

/* The next header of m named name (any case) from index *i on, *i moved past it; NULL when
 * there is none. */
static const struct flow_header *next_named(const struct flow_msg *m, const char *name, size_t *i)
{
	while (*i < m->num_headers) {
		const struct flow_header *h = &m->headers[(*i)++];
		if (strcasecmp(h->name, name) == 0)
			return h;
	}
	return NULL;
}

static json_t *cookie_json(const struct cookie_pair *p)
{
	return json_pack("{s:o,s:o}", "name", harjson_str(p->name, p->name_len), "value",
			 harjson_str(p->value, p->value_len));
}

/* The pairs of each Cookie header (cookie_next(): the one reading of them). */
static json_t *request_cookies(const struct flow_msg *m)
{
	json_t *a = json_array();
	const struct flow_header *h;
	for (size_t i = 0; (h = next_named(m, "cookie", &i));) {
		size_t pos = 0;
		struct cookie_pair p;
		while (cookie_next(h->value, h->value_len, &pos, &p))
			if (p.name_len)
				json_array_append_new(a, cookie_json(&p));
	}
	return a;
}

/* An HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT", or with dashes) as ISO 8601, or NULL. */
static json_t *http_date_iso(const char *s, size_t len)
{
	char buf[64];
	if (len >= sizeof buf)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%a, %d-%b-%Y %H:%M:%S GMT",
					   "%A, %d-%b-%y %H:%M:%S GMT"};
	for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
		struct tm tm = {0};
		const char *end = strptime(buf, fmts[i], &tm);
		if (end && *end == '\0') {
			time_t t = timegm(&tm);
			if (t != (time_t)-1 && t >= 0)
				return harjson_iso((int64_t)t * 1000000);
		}
	}
	return NULL;
}

/* An attribute of a Set-Cookie ("Path=/", "HttpOnly") into c, when HAR has a field for it. */
static void set_attribute(json_t *c, const struct cookie_pair *p)
{
#define IS(s) (p->name_len == sizeof s - 1 && strncasecmp(p->name, s, p->name_len) == 0)
	if (IS("path")) {
		json_object_set_new(c, "path", harjson_str(p->value, p->value_len));
	} else if (IS("domain")) {
		json_object_set_new(c, "domain", harjson_str(p->value, p->value_len));
	} else if (IS("expires")) {
		json_t *iso = http_date_iso(p->value, p->value_len);
		if (iso)
			json_object_set_new(c, "expires", iso);
	} else if (IS("httponly")) {
		json_object_set_new(c, "httpOnly", json_true());
	} else if (IS("secure")) {
		json_object_set_new(c, "secure", json_true());
	} else if (IS("samesite")) {
		json_object_set_new(c, "sameSite", harjson_str(p->value, p->value_len));
	}
#undef IS
}

/* Each Set-Cookie header: its first pair, then the attributes HAR names. A header whose first
 * piece (up to the first ';') is blank is not a cookie. */
static json_t *response_cookies(const struct flow_msg *m)
{
	json_t *a = json_array();
	const struct flow_header *h;
	for (size_t i = 0; (h = next_named(m, "set-cookie", &i));) {
		const char *semi = memchr(h->value, ';', h->value_len);
		size_t pos = 0;
		struct cookie_pair p;
		if (!cookie_next(h->value, h->value_len, &pos, &p) || (semi && p.name > semi))
			continue;
		json_t *c = cookie_json(&p);
		while (cookie_next(h->value, h->value_len, &pos, &p))
			set_attribute(c, &p);
		json_array_append_new(a, c);
	}
	return a;
}

/* name/value pairs of a query or a url-encoded form, URL-decoded. */
static json_t *url_params(const char *q, size_t len)
{
	json_t *a = json_array();
	const char *p = q, *end = q + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		if (!amp)
			amp = end;
		if (amp > p) {
			const char *eq = memchr(p, '=', (size_t)(amp - p));
			const char *val = eq ? eq + 1 : amp;
			json_array_append_new(
			    a, json_pack("{s:o,s:o}", "name",
					 jurldecode(p, (size_t)((eq ? eq : amp) - p)), "value",
					 jurldecode(val, (size_t)(amp - val))));
		}
		p = amp + 1;
	}
	return a;
}

static const char *header_value(const struct flow_msg *m, const char *name)
{
	const struct flow_header *h = m->present ? flow_msg_header(m, name) : NULL;
	return h ? h->value : NULL;
}

/* 1 when m's Content-Encoding asks for decoding (anything but empty or identity). */
static int is_encoded(const struct flow_msg *m)
{
	const char *enc = header_value(m, "Content-Encoding");
	if (!enc)
		return 0;
	for (const char *p = enc; *p;) {
		size_t n = strcspn(p, ",");
		const char *tok = p;
		trim(&tok, &n);
		if (n && !(n == 8 && strncasecmp(tok, "identity", 8) == 0))
			return 1;
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	return 0;
}

static int on_chunk(void *arg, const char *data, size_t len)
{
	flow_buf_append(arg, data, len);
	return 0;
}

/* The body of one side as HAR wants it (Content-Encoding undone). Returns the bytes, which
 * are either m's own or in *tmp (clear it after); *raw is set when decoding failed and the
 * stored bytes are given instead. */
static const char *body_text(struct store_reader *r, const struct flow *f, int side,
			     struct flow_buf *tmp, size_t *len, int *raw)
{
	const struct flow_msg *m = side ? &f->response : &f->request;
	*raw = 0;
	if (m->body.len && is_encoded(m)) {
		char err[128];
		if (store_body(r, f->id, side, 1, on_chunk, tmp, err, sizeof err) == 0) {
			*len = tmp->len;
			return tmp->data ? tmp->data : "";
		}
		flow_buf_clear(tmp);
		*raw = 1;
	}
	*len = m->body.len;
	return m->body.data ? m->body.data : "";
}

/* The text (and "encoding"/"_encoding" when base64) of a body into obj. */
static void set_text(json_t *obj, const char *data, size_t len, const char *enc_key)
{
	int base64;
	json_object_set_new(obj, "text", jsontext_body(data, len, &base64));
	if (base64)
		json_object_set_new(obj, enc_key, json_string("base64"));
}

static char *flow_url(const struct flow *f)
{
	const char *scheme = f->scheme ? f->scheme : "http";
	if (f->flags & FLOW_F_WEBSOCKET)
		scheme = strcmp(scheme, "https") == 0 ? "wss" : "ws";
	int def = (strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0) ? 443 : 80;
	const char *host = f->host ? f->host : "";
	int v6 = strchr(host, ':') != NULL;
	char port[16] = "";
	if (f->port && f->port != def)
		snprintf(port, sizeof port, ":%u", (unsigned)f->port);
	const char *path = f->kind == FLOW_TUNNEL ? "" : f->path && *f->path ? f->path : "/";
	return xasprintf("%s://%s%s%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port, path);
}

/* The ip of "ip:port" or "[v6]:port" into out, "" when there is none. */
static void addr_ip(const char *addr, char *out, size_t cap)
{
	out[0] = '\0';
	if (addr[0] == '[') {
		const char *e = strchr(addr, ']');
		if (e)
			snprintf(out, cap, "%.*s", (int)(e - addr - 1), addr + 1);
	} else {
		const char *c = strrchr(addr, ':');
		if (c && c > addr)
			snprintf(out, cap, "%.*s", (int)(c - addr), addr);
	}
	if (strcmp(out, "?") == 0)
		out[0] = '\0';
}

static const char *addr_port(const char *addr)
{
	const char *c = strrchr(addr, ':');
	return c && c[1] && addr[0] && strcmp(addr, "?") != 0 ? c + 1 : NULL;
}

static const char *version_name(const struct flow_msg *m)
{
	if (!m->present)
		return "";
	return m->version == 20 ? "HTTP/2.0" : m->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

static json_t *build_timings(const struct flow *f, int64_t *total)
{
	const struct flow_timing *t = &f->t;
	int64_t cur = t->start, dns = -1, connect = -1, ssl = -1, send = 0, wait = 0, receive = 0;
#define SPAN(to) ((to) > cur ? (to)-cur : 0)
	if (t->dns_done) {
		dns = SPAN(t->dns_done);
		cur = t->dns_done > cur ? t->dns_done : cur;
	}
	if (t->connect_done) {
		int64_t done = t->tls_done > t->connect_done ? t->tls_done : t->connect_done;
		connect = SPAN(done);
		if (t->tls_done)
			ssl = t->tls_done > t->connect_done ? t->tls_done - t->connect_done : 0;
		cur = done > cur ? done : cur;
	}
	if (t->request_sent) {
		send = SPAN(t->request_sent);
		cur = t->request_sent > cur ? t->request_sent : cur;
		if (t->first_byte) {
			wait = SPAN(t->first_byte);
			cur = t->first_byte > cur ? t->first_byte : cur;
			if (t->end)
				receive = SPAN(t->end);
		} else if (t->end) {
			wait = SPAN(t->end); /* waited for an answer that never came */
		}
	} else if (t->end) {
		send = SPAN(t->end); /* ended before the request was sent (failure, tunnel) */
	}
#undef SPAN
	if (ssl > connect) /* HAR: ssl is part of connect; a TLS phase that began before start */
		ssl = connect;
	*total = (dns > 0 ? dns : 0) + (connect > 0 ? connect : 0) + send + wait + receive;
	return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "blocked", -1, "dns", jms(dns), "connect",
			 jms(connect), "ssl", jms(ssl), "send", jms(send), "wait", jms(wait),
			 "receive", jms(receive));
}

static json_t *build_request(struct store_reader *r, const struct flow *f, int *raw)
{
	const struct flow_msg *m = &f->request;
	char *url = flow_url(f);
	const char *method = m->method ? m->method : f->kind == FLOW_TUNNEL ? "CONNECT" : "";
	const char *q = f->kind == FLOW_HTTP && f->path ? strchr(f->path, '?') : NULL;
	json_t *req = json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:I,s:I}", "method", harjson_cstr(method),
				"url", harjson_cstr(url), "httpVersion", version_name(m), "cookies",
				request_cookies(m), "headers", jheaders(m), "queryString",
				q ? url_params(q + 1, strcspn(q + 1, "#")) : json_array(),
				"headersSize", m->head_size ? (json_int_t)m->head_size : -1,
				"bodySize", m->present ? (json_int_t)m->body_size : -1);
	free(url);
	set_trailers(req, m);
	if (m->body.len || m->body_size) {
		struct flow_buf tmp = {0};
		size_t len;
		const char *body = body_text(r, f, 0, &tmp, &len, raw);
		const char *ctype = header_value(m, "Content-Type");
		json_t *pd = json_pack("{s:o}", "mimeType", harjson_cstr(ctype ? ctype : ""));
		set_text(pd, body, len, "_encoding");
		if (ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
			json_object_set_new(pd, "params", url_params(body, len));
		json_object_set_new(req, "postData", pd);
		flow_buf_clear(&tmp);
	}
	return req;
}

static json_t *build_response(struct store_reader *r, const struct flow *f, int *raw)
{
	const struct flow_msg *m = &f->response;
	const char *ctype = header_value(m, "Content-Type");
	const char *loc = header_value(m, "Location");
	struct flow_buf tmp = {0};
	size_t len = 0;
	const char *body = m->present ? body_text(r, f, 1, &tmp, &len, raw) : "";
	/* The content's size is that of the decoded body; of a cut-off plain one, the real size */
	json_int_t size = (json_int_t)len;
	if (m->body_truncated && !is_encoded(m))
		size = (json_int_t)m->body_size;
	json_t *content =
	    json_pack("{s:I,s:o}", "size", size, "mimeType", harjson_cstr(ctype ? ctype : ""));
	if (is_encoded(m) && !*raw && size >= (json_int_t)m->body_size && !m->body_truncated)
		json_object_set_new(content, "compression",
				    json_integer(size - (json_int_t)m->body_size));
	if (len)
		set_text(content, body, len, "encoding");
	flow_buf_clear(&tmp);
	json_t *resp =
	    json_pack("{s:i,s:o,s:s,s:o,s:o,s:o,s:o,s:I,s:I}", "status", m->present ? m->status : 0,
		      "statusText", harjson_cstr(m->reason), "httpVersion", version_name(m),
		      "cookies", response_cookies(m), "headers", jheaders(m), "content", content,
		      "redirectURL", harjson_cstr(loc ? loc : ""), "headersSize",
		      m->head_size ? (json_int_t)m->head_size : -1, "bodySize",
		      m->present ? (json_int_t)m->body_size : -1);
	set_trailers(resp, m);
	if (f->error)
		json_object_set_new(resp, "_error", harjson_cstr(f->error));
	return resp;
}

static json_t *build_entry(struct store_reader *r, const struct flow *f)
{
	int raw_req = 0, raw_resp = 0;
	int64_t total;
	json_t *timings = build_timings(f, &total);
	json_t *e =
	    json_pack("{s:o,s:o,s:o,s:o,s:{},s:o}", "startedDateTime", harjson_iso(f->t.start),
		      "time", jms(total), "request", build_request(r, f, &raw_req), "response",
		      build_response(r, f, &raw_resp), "cache", "timings", timings);
	char ip[64];
	addr_ip(f->server_addr, ip, sizeof ip);
	if (ip[0])
		json_object_set_new(e, "serverIPAddress", json_string(ip));
	const char *port = addr_port(f->client_addr);
	if (port)
		json_object_set_new(e, "connection", harjson_cstr(port));
	json_object_set_new(e, "_flowscope_kind", json_string(flow_kind_name(f->kind)));
	json_object_set_new(e, "_flowscope", harext_build(f, raw_req, raw_resp));
	harws_export(r, f, e);
	return e;
}

/* ---- export ---- */

struct key {
	int64_t start;
	uint64_t id;
};

struct collect {
	struct key *v;
	size_t num, cap;
	uint64_t last; /* smallest id seen: the next page's "before" */
	int page;      /* flows of the current page */
};

static void on_summary(void *arg, const struct flow *f)
{
	struct collect *c = arg;
	if (c->num == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->num++] = (struct key){f->t.start, f->id};
	c->last = f->id;
	c->page++;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct har_export {
	struct store_reader *r; /* borrowed */
	struct key *keys;	/* owned; the matching flows, oldest first */
	size_t num_keys, next;	/* next: index of the next flow to write */
	int stage;		/* 0: head next, 1: entries, 2: tail written */
	int wrote_entry;	/* an entry went out: the next one needs a comma */
	char *piece;		/* owned; the last piece handed out */
};

struct har_export *har_export_new(struct store_reader *r, const struct filter *filter, char *err,
				  size_t errlen)
{
	struct collect c = {0};
	int rc = 0;
	do {
		c.page = 0;
		rc = store_list(r, filter, c.last, LIST_PAGE, on_summary, &c, NULL, err, errlen);
	} while (rc == 0 && c.page == LIST_PAGE);
	if (rc != 0) {
		free(c.v);
		return NULL;
	}
	if (c.num)
		qsort(c.v, c.num, sizeof *c.v, key_cmp);
	struct har_export *x = xcalloc(1, sizeof *x);
	x->r = r;
	x->keys = c.v;
	x->num_keys = c.num;
	return x;
}

int har_export_next(struct har_export *x, const char **data, size_t *len)
{
	static const char head[] =
	    "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"" CREATOR_NAME
	    "\",\"version\":\"" CREATOR_VERSION "\"},\"entries\":[";
	static const char tail[] = "\n]}}\n";
	free(x->piece);
	x->piece = NULL;
	if (x->stage == 0) {
		x->stage = 1;
		*data = head;
		*len = sizeof head - 1;
		return 1;
	}
	while (x->stage == 1 && x->next < x->num_keys) {
		uint64_t id = x->keys[x->next++].id;
		struct flow *f = store_get(x->r, id);
		if (!f)
			continue; /* removed meanwhile */
		json_t *e = build_entry(x->r, f);
		flow_free(f);
		char *text = json_dumps(e, DUMP_FLAGS);
		json_decref(e);
		if (!text) { /* only out of memory makes jansson fail on a tree we built */
			log_error("HAR export: flow %llu could not be serialized",
				  (unsigned long long)id);
			continue;
		}
		x->piece = xasprintf("%s%s", x->wrote_entry ? ",\n" : "\n", text);
		free(text);
		x->wrote_entry = 1;
		*data = x->piece;
		*len = strlen(x->piece);
		return 1;
	}
	if (x->stage == 1) {
		x->stage = 2;
		*data = tail;
		*len = sizeof tail - 1;
		return 1;
	}
	*data = NULL;
	*len = 0;
	return 0;
}

void har_export_free(struct har_export *x)
{
	if (!x)
		return;
	free(x->keys);
	free(x->piece);
	free(x);
}

int har_export(struct store_reader *r, const struct filter *filter, har_write_fn write, void *arg,
	       char *err, size_t errlen)
{
	struct har_export *x = har_export_new(r, filter, err, errlen);
	if (!x)
		return -1;
	const char *data;
	size_t len;
	int rc = 0;
	while (rc == 0 && har_export_next(x, &data, &len))
		if (write(arg, data, len) != 0) {
			snprintf(err, errlen, "aborted");
			rc = -1;
		}
	har_export_free(x);
	return rc;
}
