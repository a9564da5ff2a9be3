/* SPDX-License-Identifier: MIT */
/* har.c - HAR 1.2 export and import (see har.h for the contract).
 *
 * Export. store_list() pages newest first, so har_export_new() first collects (start time,
 * id) pairs of the matching flows page by page (16 bytes a flow: 16 MB for a million) and
 * sorts them oldest first; each har_export_next() then reads one whole flow (store_get),
 * builds its entry with jansson, serializes it and frees the tree: one entry in memory at a
 * time. The surrounding document ("log", "creator", the "entries" brackets and commas) is
 * written by hand. har_export() is the push form of the same loop.
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
 *   strings                 headers, cookies and query values that are not UTF-8 are mapped
 *                           byte by byte to U+0080..U+00FF (Latin-1), as browsers show them
 *
 * Import. The document is walked entry by entry (see walk_doc(): jansson parses one entry at
 * a time, never the whole document); every entry is checked and turned into a flow in an array
 * first; only when all are valid (and the whole file is JSON) are they emitted (FLOW_EV_END).
 * Bodies arrive decoded in HAR files, while the store keeps wire bytes (the body that the
 * Content-Encoding header describes): so a body is encoded again (gzip, deflate, br, zstd)
 * as its headers say, and store_body(decode=1) gives the same text back. Timestamps come from
 * _flowscope.t when present (our own files), else from startedDateTime and the phases
 * (blocked has no timestamp of its own: it is added to the start of what follows). HTTP/2
 * pseudo-headers (Chrome) are dropped, ":authority" becoming Host.
 */
#define _GNU_SOURCE /* strptime() */
#include "har.h"

#include "util.h"

#include <brotli/encode.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#define CREATOR_NAME "flowscope"
#define CREATOR_VERSION "0.1"
#define LIST_PAGE 2000 /* flows per store_list() call while collecting ids */
/* Integral JSON reals print as "12.0"; 15 significant digits keep 12.345 from printing as
 * 12.345000000000001 and still hold microseconds of an 11-day duration. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))
/* Flags that survive a round trip (REPLAY is dropped with replay_of; IMPORTED is added). */
#define KEPT_FLAGS (FLOW_F_TLS | FLOW_F_WEBSOCKET | FLOW_F_MARKED)

/* ---- strings ---- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if none starts there. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string of the bytes: as they are when UTF-8, else with each byte that is not part
 * of a valid sequence mapped to the code point of the same value (Latin-1). */
static json_t *jstr(const char *data, size_t len)
{
	if (!data)
		return json_string("");
	json_t *j = json_stringn(data, len);
	if (j)
		return j;
	char *out = xmalloc(len * 2 + 1);
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)data;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);
		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			out[o++] = (char)(0xc0 | (s[i] >> 6));
			out[o++] = (char)(0x80 | (s[i] & 0x3f));
			i++;
		}
	}
	j = json_stringn(out, o);
	free(out);
	return j ? j : json_string("");
}

static json_t *jcstr(const char *s)
{
	return jstr(s, s ? strlen(s) : 0);
}

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
	json_t *j = jstr(out, o);
	free(out);
	return j;
}

/* ---- base64 (OpenSSL's EVP block functions) ---- */

static json_t *jbase64(const char *data, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return json_string(""); /* bodies are capped far below this */
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	json_t *j = json_stringn(out, (size_t)n);
	free(out);
	return j;
}

/* Decodes base64 text (whitespace ignored, padding optional) into a malloc'd *out. Returns 0,
 * or -1 when it is not base64. */
static int unbase64(const char *in, size_t len, char **out, size_t *out_len)
{
	if (len > (size_t)INT32_MAX / 2)
		return -1;
	char *clean = xmalloc(len + 4);
	size_t n = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			free(clean);
			return -1; /* a character after padding, or not of the alphabet */
		}
		clean[n++] = (char)c;
	}
	if (pad > 2 || n % 4 == 1) {
		free(clean);
		return -1;
	}
	while (n % 4) {
		clean[n++] = '=';
		pad++;
	}
	*out = xmalloc(n / 4 * 3 + 1);
	int got = n ? EVP_DecodeBlock((unsigned char *)*out, (unsigned char *)clean, (int)n) : 0;
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*out_len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	return 0;
}

/* ---- time ---- */

static json_t *jiso(int64_t us)
{
	if (us < 0)
		us = 0;
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(us % 1000000 / 1000));
	return json_string(buf);
}

static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|+HHMM]" (no zone: UTC) into
 * microseconds since the epoch. Returns 0 or -1. */
static int parse_iso(const char *s, int64_t *us)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, se;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
		return -1;
	int64_t frac = 0;
	if (*p == '.' || *p == ',') {
		p++;
		int n = 0;
		for (; isdigit((unsigned char)*p); p++, n++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		if (n == 0)
			return -1;
		for (; n < 6; n++)
			frac *= 10;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*us = ((int64_t)t - off) * 1000000 + frac;
	return 0;
}

/* ---- export: pieces of an entry ---- */

/* The TLS details of f, in the order of tls_names (the members of _flowscope.tls). */
#define NUM_TLS 7
/* clang-format off */
static const char *const tls_names[NUM_TLS] = {
	"sni", "version", "cipher", "alpn", "subject", "issuer", "client_version"};
/* clang-format on */

static void tls_fields(struct flow *f, char **out[NUM_TLS])
{
	out[0] = &f->tls.sni;
	out[1] = &f->tls.version;
	out[2] = &f->tls.cipher;
	out[3] = &f->tls.alpn;
	out[4] = &f->tls.cert_subject;
	out[5] = &f->tls.cert_issuer;
	out[6] = &f->tls.client_version;
}

static json_t *jheaders(const struct flow_msg *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		json_array_append_new(a, json_pack("{s:o,s:o}", "name", jstr(h->name, h->name_len),
						   "value", jstr(h->value, h->value_len)));
	}
	return a;
}

static json_t *jms(int64_t us)
{
	return us < 0 ? json_integer(-1) : json_real((double)us / 1000.0);
}

/* "a=b; c=d" of each Cookie header. */
static json_t *request_cookies(const struct flow_msg *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		if (strcasecmp(h->name, "cookie") != 0)
			continue;
		const char *p = h->value, *end = h->value + h->value_len;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			if (!semi)
				semi = end;
			const char *eq = memchr(p, '=', (size_t)(semi - p));
			const char *name = p, *val = eq ? eq + 1 : semi;
			size_t nlen = (size_t)((eq ? eq : semi) - p), vlen = (size_t)(semi - val);
			trim(&name, &nlen);
			trim(&val, &vlen);
			if (nlen)
				json_array_append_new(a, json_pack("{s:o,s:o}", "name",
								   jstr(name, nlen), "value",
								   jstr(val, vlen)));
			p = semi + 1;
		}
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
				return jiso((int64_t)t * 1000000);
		}
	}
	return NULL;
}

/* Each Set-Cookie header: name, value and the attributes HAR names. */
static json_t *response_cookies(const struct flow_msg *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		if (strcasecmp(h->name, "set-cookie") != 0)
			continue;
		json_t *c = NULL;
		const char *p = h->value, *end = h->value + h->value_len;
		while (p <= end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			if (!semi)
				semi = end;
			const char *eq = memchr(p, '=', (size_t)(semi - p));
			const char *name = p, *val = eq ? eq + 1 : semi;
			size_t nlen = (size_t)((eq ? eq : semi) - p), vlen = (size_t)(semi - val);
			trim(&name, &nlen);
			trim(&val, &vlen);
			if (!c) {
				if (!nlen && !eq)
					break; /* not a cookie */
				c = json_pack("{s:o,s:o}", "name", jstr(name, nlen), "value",
					      jstr(val, vlen));
			} else if (nlen == 4 && strncasecmp(name, "path", 4) == 0) {
				json_object_set_new(c, "path", jstr(val, vlen));
			} else if (nlen == 6 && strncasecmp(name, "domain", 6) == 0) {
				json_object_set_new(c, "domain", jstr(val, vlen));
			} else if (nlen == 7 && strncasecmp(name, "expires", 7) == 0) {
				json_t *iso = http_date_iso(val, vlen);
				if (iso)
					json_object_set_new(c, "expires", iso);
			} else if (nlen == 8 && strncasecmp(name, "httponly", 8) == 0) {
				json_object_set_new(c, "httpOnly", json_true());
			} else if (nlen == 6 && strncasecmp(name, "secure", 6) == 0) {
				json_object_set_new(c, "secure", json_true());
			} else if (nlen == 8 && strncasecmp(name, "samesite", 8) == 0) {
				json_object_set_new(c, "sameSite", jstr(val, vlen));
			}
			p = semi + 1;
		}
		if (c)
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
	json_t *t = json_stringn(data, len);
	if (t) {
		json_object_set_new(obj, "text", t);
	} else {
		json_object_set_new(obj, "text", jbase64(data, len));
		json_object_set_new(obj, enc_key, json_string("base64"));
	}
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
	return m->version == 10 ? "HTTP/1.0" : "HTTP/1.1";
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
	json_t *req = json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:I,s:I}", "method", jcstr(method), "url",
				jcstr(url), "httpVersion", version_name(m), "cookies",
				request_cookies(m), "headers", jheaders(m), "queryString",
				q ? url_params(q + 1, strcspn(q + 1, "#")) : json_array(),
				"headersSize", m->head_size ? (json_int_t)m->head_size : -1,
				"bodySize", m->present ? (json_int_t)m->body_size : -1);
	free(url);
	if (m->body.len || m->body_size) {
		struct flow_buf tmp = {0};
		size_t len;
		const char *body = body_text(r, f, 0, &tmp, &len, raw);
		const char *ctype = header_value(m, "Content-Type");
		json_t *pd = json_pack("{s:o}", "mimeType", jcstr(ctype ? ctype : ""));
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
	    json_pack("{s:I,s:o}", "size", size, "mimeType", jcstr(ctype ? ctype : ""));
	if (is_encoded(m) && !*raw && size >= (json_int_t)m->body_size && !m->body_truncated)
		json_object_set_new(content, "compression",
				    json_integer(size - (json_int_t)m->body_size));
	if (len)
		set_text(content, body, len, "encoding");
	flow_buf_clear(&tmp);
	json_t *resp = json_pack(
	    "{s:i,s:o,s:s,s:o,s:o,s:o,s:o,s:I,s:I}", "status", m->present ? m->status : 0,
	    "statusText", jcstr(m->reason), "httpVersion", version_name(m), "cookies",
	    response_cookies(m), "headers", jheaders(m), "content", content, "redirectURL",
	    jcstr(loc ? loc : ""), "headersSize", m->head_size ? (json_int_t)m->head_size : -1,
	    "bodySize", m->present ? (json_int_t)m->body_size : -1);
	if (f->error)
		json_object_set_new(resp, "_error", jcstr(f->error));
	return resp;
}

/* What HAR has no field for, so that our own files import back exactly. */
static json_t *build_private(const struct flow *f, int raw_req, int raw_resp)
{
	const struct flow_timing *t = &f->t;
	json_t *p = json_object();
	json_object_set_new(p, "t",
			    json_pack("[I,I,I,I,I,I,I]", (json_int_t)t->start,
				      (json_int_t)t->dns_done, (json_int_t)t->connect_done,
				      (json_int_t)t->tls_done, (json_int_t)t->request_sent,
				      (json_int_t)t->first_byte, (json_int_t)t->end));
	if (f->client_addr[0])
		json_object_set_new(p, "client", jcstr(f->client_addr));
	if (f->server_addr[0])
		json_object_set_new(p, "server", jcstr(f->server_addr));
	if (f->request.target)
		json_object_set_new(p, "target", jcstr(f->request.target));
	char **vals[NUM_TLS];
	tls_fields((struct flow *)f, vals);
	json_t *tls = json_object();
	for (size_t i = 0; i < NUM_TLS; i++)
		if (*vals[i])
			json_object_set_new(tls, tls_names[i], jcstr(*vals[i]));
	if (json_object_size(tls))
		json_object_set_new(p, "tls", tls);
	else
		json_decref(tls);
	if (f->bytes_up || f->bytes_down)
		json_object_set_new(
		    p, "bytes",
		    json_pack("[I,I]", (json_int_t)f->bytes_up, (json_int_t)f->bytes_down));
	if (f->flags & KEPT_FLAGS)
		json_object_set_new(p, "flags", json_integer(f->flags & KEPT_FLAGS));
	if (f->request.body_truncated || f->response.body_truncated)
		json_object_set_new(p, "truncated",
				    json_pack("[b,b]", f->request.body_truncated != 0,
					      f->response.body_truncated != 0));
	if (raw_req || raw_resp)
		json_object_set_new(p, "encoded", json_pack("[b,b]", raw_req, raw_resp));
	return p;
}

static json_t *build_entry(struct store_reader *r, const struct flow *f)
{
	int raw_req = 0, raw_resp = 0;
	int64_t total;
	json_t *timings = build_timings(f, &total);
	json_t *e =
	    json_pack("{s:o,s:o,s:o,s:o,s:{},s:o}", "startedDateTime", jiso(f->t.start), "time",
		      jms(total), "request", build_request(r, f, &raw_req), "response",
		      build_response(r, f, &raw_resp), "cache", "timings", timings);
	char ip[64];
	addr_ip(f->server_addr, ip, sizeof ip);
	if (ip[0])
		json_object_set_new(e, "serverIPAddress", json_string(ip));
	const char *port = addr_port(f->client_addr);
	if (port)
		json_object_set_new(e, "connection", jcstr(port));
	json_object_set_new(e, "_flowscope_kind", json_string(flow_kind_name(f->kind)));
	json_object_set_new(e, "_flowscope", build_private(f, raw_req, raw_resp));
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

/* ---- import: encoding bodies again ---- */

static int zlib_encode(const char *in, size_t len, int wbits, char **out, size_t *olen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, (uLong)len) + 16;
	*out = xmalloc(cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*olen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		return -1;
	}
	return 0;
}

/* Encodes in with one coding into a malloc'd *out. Returns 0, 1 when the coding is unknown
 * (or identity: nothing to do), -1 on failure. */
static int encode_one(const char *coding, size_t clen, const char *in, size_t len, char **out,
		      size_t *olen)
{
#define IS(s) (clen == sizeof s - 1 && strncasecmp(coding, s, clen) == 0)
	if (len > UINT32_MAX)
		return -1;
	if (IS("gzip") || IS("x-gzip"))
		return zlib_encode(in, len, 31, out, olen);
	if (IS("deflate"))
		return zlib_encode(in, len, 15, out, olen);
	if (IS("br")) {
		size_t cap = BrotliEncoderMaxCompressedSize(len);
		if (!cap)
			cap = len + 1024;
		*out = xmalloc(cap);
		*olen = cap;
		if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len,
					   (const uint8_t *)in, olen, (uint8_t *)*out)) {
			free(*out);
			return -1;
		}
		return 0;
	}
	if (IS("zstd")) {
		size_t cap = ZSTD_compressBound(len);
		*out = xmalloc(cap);
		*olen = ZSTD_compress(*out, cap, in, len, 3);
		if (ZSTD_isError(*olen)) {
			free(*out);
			return -1;
		}
		return 0;
	}
	return 1;
#undef IS
}

/* Encodes m's body as its Content-Encoding says ("gzip, br": gzip first). A coding we do not
 * know leaves the body as it is (then it cannot be decoded on export either, and goes out as
 * stored). */
static void encode_body(struct flow_msg *m)
{
	const char *enc = header_value(m, "Content-Encoding");
	if (!enc || !m->body.len)
		return;
	char *cur = xmalloc(m->body.len);
	size_t cur_len = m->body.len;
	memcpy(cur, m->body.data, cur_len);
	for (const char *p = enc; *p;) {
		size_t n = strcspn(p, ",");
		const char *tok = p;
		size_t tlen = n;
		trim(&tok, &tlen);
		p += n;
		if (*p)
			p++;
		if (!tlen || (tlen == 8 && strncasecmp(tok, "identity", 8) == 0))
			continue;
		char *next;
		size_t next_len;
		if (encode_one(tok, tlen, cur, cur_len, &next, &next_len) != 0) {
			free(cur);
			return; /* unknown coding: keep the body as it came */
		}
		free(cur);
		cur = next;
		cur_len = next_len;
	}
	flow_buf_clear(&m->body);
	flow_buf_append(&m->body, cur, cur_len);
	free(cur);
}

/* ---- import: reading entries ---- */

struct ctx {
	char *err;
	size_t errlen;
	size_t entry; /* 1-based, for messages */
};

__attribute__((format(printf, 2, 3))) static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->entry)
		snprintf(c->err, c->errlen, "entry %zu: %s", c->entry, msg);
	else
		snprintf(c->err, c->errlen, "%s", msg);
	return -1;
}

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The string member key of obj; NULL when missing or not a string. */
static const char *get_str(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

/* A number member (integer or real); def when missing or not a number. */
static double get_num(json_t *obj, const char *key, double def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

static int parse_version(const char *v)
{
	return v && strcasecmp(v, "HTTP/1.0") == 0 ? 10 : 11;
}

/* Reads a headers array ("request.headers") into m. HTTP/2 pseudo-headers (":path", ...) are
 * left out; ":authority" becomes Host when there is no Host header. */
static int read_headers(struct ctx *c, json_t *arr, const char *what, struct flow_msg *m)
{
	if (!json_is_array(arr))
		return fail(c, "%s missing or not an array", what);
	const char *authority = NULL;
	size_t alen = 0;
	int has_host = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *h = json_array_get(arr, i);
		size_t nlen = 0, vlen = 0;
		const char *name = get_str(h, "name", &nlen), *value = get_str(h, "value", &vlen);
		if (!name || !value)
			return fail(c, "%s[%zu]: name or value missing", what, i);
		if (nlen > 1 && name[0] == ':') {
			if (strcmp(name, ":authority") == 0) {
				authority = value;
				alen = vlen;
			}
			continue;
		}
		if (!is_token(name, nlen))
			return fail(c, "%s[%zu].name is not a valid header name", what, i);
		for (size_t k = 0; k < vlen; k++)
			if (value[k] == '\r' || value[k] == '\n' || value[k] == '\0')
				return fail(c, "%s[%zu].value contains CR, LF or NUL", what, i);
		if (strcasecmp(name, "host") == 0)
			has_host = 1;
		flow_msg_add_header(m, name, nlen, value, vlen);
	}
	if (authority && !has_host) {
		for (size_t k = 0; k < alen; k++)
			if (authority[k] == '\r' || authority[k] == '\n' || authority[k] == '\0')
				return fail(c, "%s: :authority contains CR, LF or NUL", what);
		/* Host goes first, where an HTTP/1.1 client puts it. */
		flow_msg_add_header(m, "Host", 4, authority, alen);
		struct flow_header host = m->headers[m->num_headers - 1];
		memmove(m->headers + 1, m->headers, (m->num_headers - 1) * sizeof *m->headers);
		m->headers[0] = host;
	}
	return 0;
}

/* Splits an absolute URL into f's scheme, host, port and path. Returns 0, 1 when the scheme is
 * not one we record (the entry is skipped), -1 with the error set. */
static int parse_url(struct ctx *c, const char *url, size_t len, int tunnel, int lenient,
		     struct flow *f)
{
	if (strlen(url) != len)
		return fail(c, "request.url contains NUL");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return fail(c, "request.url contains a space or control character");
	const char *colon = strchr(url, ':');
	if (!colon || colon == url)
		return fail(c, "request.url is not an absolute URL");
	size_t slen = (size_t)(colon - url);
	const char *scheme;
	if (slen == 4 && strncasecmp(url, "http", 4) == 0)
		scheme = "http";
	else if (slen == 5 && strncasecmp(url, "https", 5) == 0)
		scheme = "https";
	else if (slen == 2 && strncasecmp(url, "ws", 2) == 0)
		scheme = "http", f->flags |= FLOW_F_WEBSOCKET;
	else if (slen == 3 && strncasecmp(url, "wss", 3) == 0)
		scheme = "https", f->flags |= FLOW_F_WEBSOCKET;
	else
		return 1;
	if (strncmp(colon, "://", 3) != 0)
		return fail(c, "request.url is not an absolute URL");
	const char *auth = colon + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *rest = auth + alen;
	const char *at = memchr(auth, '@', alen);
	if (at) { /* userinfo is not sent on the wire */
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	const char *host = auth, *port = NULL;
	size_t hlen;
	if (*auth == '[') {
		const char *close = memchr(auth, ']', alen);
		if (!close)
			return fail(c, "request.url has an unclosed IPv6 address");
		host = auth + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < auth + alen) {
			if (close[1] != ':')
				return fail(c, "request.url has a bad authority");
			port = close + 2;
		}
	} else {
		const char *pc = memchr(auth, ':', alen);
		hlen = pc ? (size_t)(pc - auth) : alen;
		port = pc ? pc + 1 : NULL;
	}
	if (!hlen && !lenient)
		return fail(c, "request.url has no host");
	long pn = strcmp(scheme, "https") == 0 ? 443 : 80;
	if (port && port < auth + alen) {
		pn = 0;
		for (const char *p = port; p < auth + alen; p++) {
			if (!isdigit((unsigned char)*p) || pn > 65535)
				return fail(c, "request.url has a bad port");
			pn = pn * 10 + (*p - '0');
		}
		if (pn < 1 || pn > 65535)
			return fail(c, "request.url has a bad port");
	}
	flow_set_str(&f->scheme, scheme);
	f->host = xstrndup(host, hlen);
	f->port = (uint16_t)pn;
	if (!tunnel) {
		size_t plen = strcspn(rest, "#"); /* the fragment is not sent either */
		if (rest[0] == '/')
			f->path = xstrndup(rest, plen);
		else
			f->path = xasprintf("/%.*s", (int)plen, rest);
	}
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
static int read_text(struct ctx *c, json_t *obj, const char *what, const char *const *enc_keys,
		     struct flow_msg *m, int *has)
{
	*has = 0;
	json_t *t = json_object_get(obj, "text");
	if (!t || json_is_null(t))
		return 0;
	if (!json_is_string(t))
		return fail(c, "%s.text is not a string", what);
	const char *enc = NULL;
	for (; *enc_keys && !enc; enc_keys++)
		enc = get_str(obj, *enc_keys, NULL);
	const char *text = json_string_value(t);
	size_t len = json_string_length(t);
	*has = 1;
	if (enc && *enc) {
		if (strcasecmp(enc, "base64") != 0)
			return fail(c, "%s: unknown encoding \"%.40s\"", what, enc);
		char *bytes;
		size_t blen;
		if (unbase64(text, len, &bytes, &blen) != 0)
			return fail(c, "%s.text is not valid base64", what);
		flow_buf_append(&m->body, bytes, blen);
		free(bytes);
	} else {
		flow_buf_append(&m->body, text, len);
	}
	return 0;
}

static int read_post(struct ctx *c, json_t *pd, struct flow_msg *m)
{
	if (!pd || json_is_null(pd))
		return 0;
	if (!json_is_object(pd))
		return fail(c, "request.postData is not an object");
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
		const char *name = get_str(p, "name", &nlen), *value = get_str(p, "value", &vlen);
		if (!name)
			return fail(c, "request.postData.params[%zu].name missing", i);
		if (i)
			flow_buf_append(&m->body, "&", 1);
		form_append(&m->body, name, nlen);
		flow_buf_append(&m->body, "=", 1);
		form_append(&m->body, value ? value : "", vlen);
	}
	return 0;
}

/* Timestamps from _flowscope.t beyond this (year 33658) are not taken, so that the sums of
 * differences made on export cannot overflow (7 * 1e18 < INT64_MAX); startedDateTime (year
 * 9999 at most) plus phases (each under 1e12 ms, 31 years) stays below it too. */
#define MAX_US ((json_int_t)1000000000000000000LL)

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
#define PHASE(key) ms_to_us(get_num(tm, key, -1))
	int64_t blocked = PHASE("blocked"), dns = PHASE("dns"), connect = PHASE("connect"),
		ssl = PHASE("ssl"), send = PHASE("send"), wait = PHASE("wait"),
		receive = PHASE("receive");
#undef PHASE
	if (!json_is_object(tm)) {
		int64_t total = ms_to_us(get_num(e, "time", -1));
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

/* _flowscope: what our own export adds. Wrong types are ignored (it is a hint). */
static void read_private(json_t *p, struct flow *f, int *raw_req, int *raw_resp)
{
	if (!json_is_object(p))
		return;
	json_t *t = json_object_get(p, "t");
	if (json_is_array(t) && json_array_size(t) == 7) {
		int64_t *dst[] = {&f->t.start,	  &f->t.dns_done,     &f->t.connect_done,
				  &f->t.tls_done, &f->t.request_sent, &f->t.first_byte,
				  &f->t.end};
		for (size_t i = 0; i < 7; i++) {
			json_t *v = json_array_get(t, i);
			json_int_t us = json_is_integer(v) ? json_integer_value(v) : 0;
			*dst[i] = us > 0 && us < MAX_US ? (int64_t)us : 0;
		}
	}
	const char *s;
	if ((s = get_str(p, "client", NULL)))
		snprintf(f->client_addr, sizeof f->client_addr, "%s", s);
	if ((s = get_str(p, "server", NULL)))
		snprintf(f->server_addr, sizeof f->server_addr, "%s", s);
	if ((s = get_str(p, "target", NULL)) &&
	    strlen(s) == json_string_length(json_object_get(p, "target"))) {
		int ok = 1;
		for (const char *q = s; *q; q++)
			if ((unsigned char)*q <= ' ' || *q == 0x7f)
				ok = 0;
		if (ok && *s)
			flow_set_str(&f->request.target, s);
	}
	json_t *tls = json_object_get(p, "tls");
	if (json_is_object(tls)) {
		char **dst[NUM_TLS];
		tls_fields(f, dst);
		for (size_t i = 0; i < NUM_TLS; i++)
			if ((s = get_str(tls, tls_names[i], NULL)))
				flow_set_str(dst[i], s);
	}
	json_t *b = json_object_get(p, "bytes");
	if (json_is_array(b) && json_array_size(b) == 2) {
		json_int_t up = json_integer_value(json_array_get(b, 0));
		json_int_t down = json_integer_value(json_array_get(b, 1));
		f->bytes_up = up > 0 ? (uint64_t)up : 0;
		f->bytes_down = down > 0 ? (uint64_t)down : 0;
	}
	/* Our own entry: its flags are all there is (none when the member is missing). */
	json_t *fl = json_object_get(p, "flags");
	f->flags = (f->flags & ~(unsigned)KEPT_FLAGS) |
		   (json_is_integer(fl) ? (unsigned)json_integer_value(fl) & KEPT_FLAGS : 0);
	json_t *tr = json_object_get(p, "truncated");
	if (json_is_array(tr)) {
		f->request.body_truncated = json_is_true(json_array_get(tr, 0));
		f->response.body_truncated = json_is_true(json_array_get(tr, 1));
	}
	json_t *enc = json_object_get(p, "encoded");
	if (json_is_array(enc)) {
		*raw_req = json_is_true(json_array_get(enc, 0));
		*raw_resp = json_is_true(json_array_get(enc, 1));
	}
}

/* body_size from a HAR bodySize (the wire size) when given (raised to what we hold by the
 * caller), and head_size from headersSize. */
static void set_body_size(struct flow_msg *m, json_t *obj)
{
	double bs = get_num(obj, "bodySize", -1);
	m->body_size = bs >= 0 && bs <= 1e15 ? (uint64_t)bs : 0;
	double hs = get_num(obj, "headersSize", -1);
	m->head_size = hs > 0 && hs <= 1e15 ? (uint64_t)hs : 0;
}

/* One entry into a new flow (*out), or 1 when it is skipped. Returns -1 with the error set. */
static int read_entry(struct ctx *c, json_t *e, struct flow **out)
{
	*out = NULL;
	if (!json_is_object(e))
		return fail(c, "not an object");
	json_t *req = json_object_get(e, "request"), *resp = json_object_get(e, "response");
	if (!json_is_object(req))
		return fail(c, "request missing or not an object");
	if (!json_is_object(resp))
		return fail(c, "response missing or not an object");
	const char *kind = get_str(e, "_flowscope_kind", NULL);
	int tunnel = kind && strcmp(kind, "tunnel") == 0;
	/* A failure: Chrome puts _error in the response; accept it on the entry too. */
	const char *error = get_str(resp, "_error", NULL);
	if (!error || !*error)
		error = get_str(e, "_error", NULL);
	if (error && !*error)
		error = NULL;

	size_t mlen = 0, ulen = 0;
	const char *method = get_str(req, "method", &mlen);
	const char *url = get_str(req, "url", &ulen);
	if (!method)
		return fail(c, "request.method missing");
	if (!url)
		return fail(c, "request.url missing");
	/* An empty method is what a malformed request that failed exports as. */
	if (!(mlen == 0 && error) && !is_token(method, mlen))
		return fail(c, "request.method is not a valid method");
	const char *started = get_str(e, "startedDateTime", NULL);
	int64_t start = 0;
	if (!started)
		return fail(c, "startedDateTime missing");
	if (parse_iso(started, &start) != 0)
		return fail(c, "startedDateTime is not an ISO 8601 date");
	json_t *status = json_object_get(resp, "status");
	if (!json_is_integer(status))
		return fail(c, "response.status missing or not an integer");
	json_int_t st = json_integer_value(status);
	if (st != 0 && (st < 100 || st > 999))
		return fail(c, "response.status %lld is out of range", (long long)st);

	struct flow *f = flow_new();
	int rc = parse_url(c, url, ulen, tunnel, error != NULL, f);
	if (rc != 0) {
		flow_free(f);
		return rc;
	}
	f->kind = tunnel ? FLOW_TUNNEL : FLOW_HTTP;
	f->flags |= FLOW_F_IMPORTED;
	if (strcmp(f->scheme, "https") == 0 && !tunnel)
		f->flags |= FLOW_F_TLS;
	struct flow_msg *rq = &f->request, *rs = &f->response;
	/* No method: a request that failed before its head was read (what we export then). */
	rq->present = mlen > 0;
	rq->method = xstrndup(method, mlen);
	rq->version = rq->present ? parse_version(get_str(req, "httpVersion", NULL)) : 0;
	int raw_req = 0, raw_resp = 0;
	read_private(json_object_get(e, "_flowscope"), f, &raw_req, &raw_resp);
	if (!f->t.start)
		timings_from_phases(e, start, &f->t);
	const char *ip = get_str(e, "serverIPAddress", NULL);
	if (!f->server_addr[0] && ip && *ip && strlen(ip) < 48 && !strpbrk(ip, "[] \r\n")) {
		if (strchr(ip, ':'))
			snprintf(f->server_addr, sizeof f->server_addr, "[%s]:%u", ip,
				 (unsigned)f->port);
		else
			snprintf(f->server_addr, sizeof f->server_addr, "%s:%u", ip,
				 (unsigned)f->port);
	} else if (!f->server_addr[0] && ip && ip[0] == '[' && strlen(ip) < 48 &&
		   ip[strlen(ip) - 1] == ']') { /* Chrome writes IPv6 in brackets */
		snprintf(f->server_addr, sizeof f->server_addr, "%s:%u", ip, (unsigned)f->port);
	}
	if (!rq->target && rq->present)
		rq->target =
		    tunnel ? xasprintf("%s:%u", f->host, (unsigned)f->port) : xstrdup(f->path);
	if (read_headers(c, json_object_get(req, "headers"), "request.headers", rq) != 0 ||
	    read_post(c, json_object_get(req, "postData"), rq) != 0)
		goto bad;
	if (st > 0) {
		rs->present = 1;
		rs->status = (int)st;
		rs->version = parse_version(get_str(resp, "httpVersion", NULL));
		const char *reason = get_str(resp, "statusText", NULL);
		if (reason &&
		    strlen(reason) == json_string_length(json_object_get(resp, "statusText")))
			rs->reason = xstrdup(reason);
		else
			rs->reason = xstrdup("");
		for (const char *p = rs->reason; *p; p++)
			if (*p == '\r' || *p == '\n') {
				fail(c, "response.statusText contains CR or LF");
				goto bad;
			}
	}
	if (read_headers(c, json_object_get(resp, "headers"), "response.headers", rs) != 0)
		goto bad;
	json_t *content = json_object_get(resp, "content");
	if (content && !json_is_object(content)) {
		fail(c, "response.content is not an object");
		goto bad;
	}
	if (content) {
		static const char *const keys[] = {"encoding", "_encoding", NULL};
		int has;
		if (read_text(c, content, "response.content", keys, rs, &has) != 0)
			goto bad;
	}
	if (!rs->present && rs->body.len) {
		fail(c, "response.content has a body but response.status is 0");
		goto bad;
	}
	/* The store keeps wire bytes: encode the decoded text again, then take bodySize (the
	 * wire size) when given, else the length of what we now hold. */
	if (!raw_req)
		encode_body(rq);
	if (!raw_resp)
		encode_body(rs);
	if (rq->present)
		set_body_size(rq, req);
	if (rs->present)
		set_body_size(rs, resp);
	if (rq->body_size < rq->body.len)
		rq->body_size = rq->body.len;
	if (rs->body_size < rs->body.len)
		rs->body_size = rs->body.len;
	f->state = FLOW_DONE;
	if (error)
		flow_set_error(f, error);
	*out = f;
	return 0;
bad:
	flow_free(f);
	return -1;
}

/* ---- import: walking the document ----
 *
 * jansson would need 5 to 10 times the file's size to hold a whole HAR document. The import
 * walks the two outer objects itself ({"log": {..., "entries": [...]}}: only punctuation and
 * white space) and lets jansson parse one value at a time (JSON_DISABLE_EOF_CHECK says how
 * many bytes it took): each entry is parsed, turned into a flow and freed before the next. So
 * the memory is the file, the flows and one entry. Every other value is parsed too, so a
 * document that is not JSON is refused as a whole, as before; and a syntax error anywhere
 * wins over an invalid entry, as when the document was parsed first. */

struct walk {
	struct ctx *c;
	const char *data;
	size_t len, pos;
	const atomic_int *cancel; /* NULL: never */
	struct flow **flows;	  /* owned; the converted entries */
	size_t num, cap, skip;
	size_t entries; /* seen so far */
	int bad_entry;	/* an entry was invalid (its error is in c->err): convert no more */
	int num_logs, log_object, num_lists, list_array; /* what was found */
};

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void skip_ws(struct walk *w)
{
	while (w->pos < w->len && is_ws(w->data[w->pos]))
		w->pos++;
}

/* "not JSON: line L column C: what", for byte offset at of the document (lines and columns
 * counted from 1, columns in bytes). */
static int syntax_error(struct walk *w, size_t at, const char *what)
{
	int line = 1, column = 1;
	for (size_t i = 0; i < at && i < w->len; i++) {
		if (w->data[i] == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	w->c->entry = 0;
	return fail(w->c, "not JSON: line %d column %d: %s", line, column, what);
}

/* Parses the value at pos with jansson and moves past it. NULL with err filled on failure. */
static json_t *next_value(struct walk *w)
{
	json_error_t jerr;
	json_t *v = json_loadb(w->data + w->pos, w->len - w->pos,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
	if (!v) {
		syntax_error(w, w->pos + (size_t)(jerr.position > 0 ? jerr.position : 0),
			     jerr.text);
		return NULL;
	}
	w->pos += (size_t)jerr.position;
	return v;
}

/* Checks (parses) the value at pos and drops it. */
static int skip_value(struct walk *w)
{
	json_t *v = next_value(w);
	json_decref(v);
	return v ? 0 : -1;
}

static int cancelled(struct walk *w)
{
	if (!w->cancel || !atomic_load(w->cancel))
		return 0;
	w->c->entry = 0;
	return fail(w->c, "cancelled");
}

/* The value at pos is an entry: converted to a flow, unless an earlier entry was invalid. */
static int take_entry(struct walk *w)
{
	json_t *e = next_value(w);
	if (!e)
		return -1;
	w->entries++;
	if (!w->bad_entry) {
		if (w->num == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 256;
			w->flows = xrealloc(w->flows, w->cap * sizeof *w->flows);
		}
		w->c->entry = w->entries;
		int rc = read_entry(w->c, e, &w->flows[w->num]);
		w->c->entry = 0;
		if (rc < 0)
			w->bad_entry = 1; /* reported once the whole document is known to be JSON */
		else if (rc == 1)
			w->skip++;
		else
			w->num++;
	}
	json_decref(e);
	return 0;
}

/* After a member or element: skips a ',' (returns 0: another follows) or the closing
 * bracket (returns 1: done); anything else is a syntax error (-1). */
static int after_item(struct walk *w, char close, const char *expected)
{
	skip_ws(w);
	char ch = w->pos < w->len ? w->data[w->pos] : 0;
	if (ch != ',' && ch != close)
		return syntax_error(w, w->pos,
				    w->pos < w->len ? expected : "unexpected end of input");
	w->pos++;
	if (ch == close)
		return 1;
	skip_ws(w);
	return 0;
}

/* Walks an array (pos at '['): each(w) must consume one element at pos. */
static int walk_array(struct walk *w, int (*each)(struct walk *w))
{
	w->pos++;
	skip_ws(w);
	if (w->pos < w->len && w->data[w->pos] == ']') {
		w->pos++;
		return 0;
	}
	for (;;) {
		if (cancelled(w) || each(w) != 0)
			return -1;
		int end = after_item(w, ']', "',' or ']' expected");
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

/* Walks an object (pos at '{'): member(w, key) must consume the value at pos. */
static int walk_object(struct walk *w, int (*member)(struct walk *w, const char *key))
{
	w->pos++;
	skip_ws(w);
	if (w->pos < w->len && w->data[w->pos] == '}') {
		w->pos++;
		return 0;
	}
	for (;;) {
		if (w->pos >= w->len || w->data[w->pos] != '"')
			return syntax_error(w, w->pos,
					    w->pos < w->len ? "string or '}' expected"
							    : "unexpected end of input");
		json_t *k = next_value(w);
		if (!k)
			return -1;
		if (strlen(json_string_value(k)) != json_string_length(k)) {
			json_decref(k);
			return syntax_error(w, w->pos, "NUL byte in object key not supported");
		}
		skip_ws(w);
		if (w->pos >= w->len || w->data[w->pos] != ':') {
			json_decref(k);
			return syntax_error(w, w->pos, "':' expected");
		}
		w->pos++;
		skip_ws(w);
		int rc = cancelled(w) ? -1 : member(w, json_string_value(k));
		json_decref(k);
		if (rc != 0)
			return -1;
		int end = after_item(w, '}', "',' or '}' expected");
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

static int on_log_member(struct walk *w, const char *key)
{
	if (strcmp(key, "entries") != 0)
		return skip_value(w);
	if (w->num_lists++) { /* jansson would keep the last one; the first is converted already */
		w->c->entry = 0;
		return fail(w->c, "log.entries appears twice");
	}
	if (w->pos < w->len && w->data[w->pos] == '[') {
		w->list_array = 1;
		return walk_array(w, take_entry);
	}
	return skip_value(w);
}

static int on_root_member(struct walk *w, const char *key)
{
	if (strcmp(key, "log") != 0)
		return skip_value(w);
	if (w->num_logs++) {
		w->c->entry = 0;
		return fail(w->c, "log appears twice");
	}
	if (w->pos < w->len && w->data[w->pos] == '{') {
		w->log_object = 1;
		return walk_object(w, on_log_member);
	}
	return skip_value(w);
}

/* Walks the whole document: the flows of every entry in w->flows. Returns 0, or -1 with the
 * error (the first of: not JSON, not a HAR, the first invalid entry) in w->c. */
static int walk_doc(struct walk *w)
{
	if (w->len >= 2 &&
	    (memcmp(w->data, "\xff\xfe", 2) == 0 || memcmp(w->data, "\xfe\xff", 2) == 0))
		return fail(w->c, "the file is UTF-16 (it starts with a UTF-16 byte order mark): "
				  "save it as UTF-8");
	if (w->len >= 3 && memcmp(w->data, "\xef\xbb\xbf", 3) == 0)
		w->pos = 3;
	skip_ws(w);
	if (w->pos < w->len && w->data[w->pos] == '[') {
		/* JSON (then not a HAR) or not: checked an element at a time, as entries are */
		if (walk_array(w, skip_value) != 0)
			return -1;
		skip_ws(w);
		if (w->pos < w->len)
			return syntax_error(w, w->pos, "end of file expected");
		return fail(w->c, "log missing or not an object");
	}
	if (w->pos >= w->len || w->data[w->pos] != '{') {
		/* not an object or array: not JSON for a document (jansson says why) */
		json_error_t jerr;
		json_t *root = json_loadb(w->data + w->pos, w->len - w->pos, JSON_ALLOW_NUL, &jerr);
		if (!root)
			return syntax_error(
			    w, w->pos + (size_t)(jerr.position > 0 ? jerr.position : 0), jerr.text);
		json_decref(root);
		return fail(w->c, "log missing or not an object");
	}
	if (walk_object(w, on_root_member) != 0)
		return -1;
	skip_ws(w);
	if (w->pos < w->len)
		return syntax_error(w, w->pos, "end of file expected");
	if (!w->log_object)
		return fail(w->c, "log missing or not an object");
	if (!w->list_array)
		return fail(w->c, "log.entries missing or not an array");
	return w->bad_entry ? -1 : 0;
}

/* The import behind both entry points: walks data, then emits every flow or none. */
static long import(const char *data, size_t len, char *to_free, const atomic_int *cancel,
		   struct flow_sink sink, size_t *skipped, char *err, size_t errlen)
{
	struct ctx c = {err, errlen, 0};
	struct walk w = {
	    .c = &c, .data = data ? data : "", .len = data ? len : 0, .cancel = cancel};
	if (skipped)
		*skipped = 0;
	int rc = walk_doc(&w);
	free(to_free); /* walked: the flows hold everything from here */
	if (rc != 0) {
		for (size_t i = 0; i < w.num; i++)
			flow_free(w.flows[i]);
		free(w.flows);
		return -1;
	}
	for (size_t i = 0; i < w.num; i++)
		sink.emit(sink.arg, FLOW_EV_END, w.flows[i]);
	free(w.flows);
	if (skipped)
		*skipped = w.skip;
	return (long)w.num;
}

long har_import(const char *data, size_t len, struct flow_sink sink, size_t *skipped, char *err,
		size_t errlen)
{
	return import(data, len, NULL, NULL, sink, skipped, err, errlen);
}

long har_import_take(char *data, size_t len, const atomic_int *cancel, struct flow_sink sink,
		     size_t *skipped, char *err, size_t errlen)
{
	return import(data, len, data, cancel, sink, skipped, err, errlen);
}
