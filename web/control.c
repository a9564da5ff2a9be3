/* SPDX-License-Identifier: MIT */
/* control.c - the API's request and response JSON shapes turned into flows for replay and for
 * edits of paused flows (see control.h). JSON is read with jansson, URLs are cut up by
 * lws_parse_uri, base64 is decoded by OpenSSL. */
#include "control.h"

#include "util.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decodes base64 text into a new buffer; returns 0, or -1 when it is not base64. */
static int base64_decode(const char *in, size_t in_len, struct flow_buf *out)
{
	if (in_len % 4 != 0)
		return -1;
	unsigned char *buf = xmalloc(in_len / 4 * 3 + 1);
	int n = in_len ? EVP_DecodeBlock(buf, (const unsigned char *)in, (int)in_len) : 0;
	if (n < 0) {
		free(buf);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	for (size_t i = in_len; i > 0 && in[i - 1] == '='; i--)
		n--;
	flow_buf_clear(out);
	out->data = (char *)buf;
	out->len = out->cap = (size_t)n;
	return 0;
}

/* Sets m's body from "body" (text) or "body_base64". Returns 1 if one was given, 0 if none,
 * -1 on error. An empty body still gets data, so that "set to empty" differs from "keep". */
static int read_body(json_t *o, struct flow_msg *m, char *err, size_t errlen)
{
	json_t *text = json_object_get(o, "body"), *b64 = json_object_get(o, "body_base64");
	if (text && b64) {
		snprintf(err, errlen, "give either body or body_base64, not both");
		return -1;
	}
	if (b64) {
		if (!json_is_string(b64) ||
		    base64_decode(json_string_value(b64), json_string_length(b64), &m->body) != 0) {
			snprintf(err, errlen, "body_base64 is not valid base64");
			return -1;
		}
	} else if (text) {
		if (!json_is_string(text)) {
			snprintf(err, errlen, "body must be a string");
			return -1;
		}
		flow_buf_clear(&m->body);
		flow_buf_append(&m->body, json_string_value(text), json_string_length(text));
	} else {
		return 0;
	}
	if (!m->body.data)
		m->body.data = xmalloc(1);
	m->body_size = m->body.len;
	m->body_truncated = 0;
	return 1;
}

/* A header part must not be able to smuggle a second header or a second message. */
static int header_text_ok(const char *s, size_t len, int is_name)
{
	if (is_name && len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0')
			return 0;
		if (is_name && (c <= ' ' || c == ':' || c >= 0x7f))
			return 0;
	}
	return 1;
}

/* Replaces m's headers with the [[name, value], ...] array h. Returns 0 or -1. */
static int read_headers(json_t *h, struct flow_msg *m, char *err, size_t errlen)
{
	if (!json_is_array(h)) {
		snprintf(err, errlen, "headers must be an array of [name, value] pairs");
		return -1;
	}
	struct flow_msg fresh = {0};
	size_t i;
	json_t *pair;
	json_array_foreach(h, i, pair)
	{
		json_t *n = json_array_get(pair, 0), *v = json_array_get(pair, 1);
		if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(n) ||
		    !json_is_string(v) ||
		    !header_text_ok(json_string_value(n), json_string_length(n), 1) ||
		    !header_text_ok(json_string_value(v), json_string_length(v), 0)) {
			snprintf(err, errlen, "headers[%zu] is not a valid [name, value] pair", i);
			flow_msg_clear(&fresh);
			return -1;
		}
		flow_msg_add_header(&fresh, json_string_value(n), json_string_length(n),
				    json_string_value(v), json_string_length(v));
	}
	for (size_t k = 0; k < m->num_headers; k++) {
		free(m->headers[k].name);
		free(m->headers[k].value);
	}
	free(m->headers);
	m->headers = fresh.headers;
	m->num_headers = fresh.num_headers;
	m->cap_headers = fresh.cap_headers;
	return 0;
}

/* Cuts "http(s)://host[:port]/path?q" into f's scheme, host, port and path, and sets the
 * request target to the path. Returns 0 or -1. */
static int read_url(const char *url, struct flow *f, char *err, size_t errlen)
{
	char *copy = xstrdup(url);
	const char *prot, *host, *path;
	int port;
	int rc = -1;
	if (strncasecmp(copy, "http://", 7) != 0 && strncasecmp(copy, "https://", 8) != 0) {
		snprintf(err, errlen, "url must start with http:// or https://");
		goto end;
	}
	if (lws_parse_uri(copy, &prot, &host, &port, &path) != 0 || !host[0] || host[0] == '+' ||
	    port <= 0 || port > 65535) {
		snprintf(err, errlen, "url is not a valid http(s) URL");
		goto end;
	}
	for (const char *c = host; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '/' || *c == '@') {
			snprintf(err, errlen, "url has an invalid host");
			goto end;
		}
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f) {
			snprintf(err, errlen, "url path must not contain spaces or control bytes");
			goto end;
		}
	flow_set_str(&f->scheme, strcasecmp(prot, "https") == 0 ? "https" : "http");
	flow_set_str(&f->host, host);
	f->port = (uint16_t)port;
	free(f->path);
	f->path = path[0] == '/' ? xstrdup(path) : xasprintf("/%s", path);
	flow_set_str(&f->request.target, f->path);
	rc = 0;
end:
	free(copy);
	return rc;
}

/* Applies the request shape o to f's request side. Returns 0 or -1. */
static int apply_request(json_t *o, struct flow *f, char *err, size_t errlen)
{
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the request must be a JSON object");
		return -1;
	}
	json_t *method = json_object_get(o, "method"), *url = json_object_get(o, "url"),
	       *headers = json_object_get(o, "headers");
	if (method) {
		const char *m = json_string_value(method);
		if (!m || !m[0] || !header_text_ok(m, strlen(m), 1)) {
			snprintf(err, errlen, "method must be a token such as \"GET\"");
			return -1;
		}
		flow_set_str(&f->request.method, m);
	}
	if (url) {
		if (!json_is_string(url)) {
			snprintf(err, errlen, "url must be a string");
			return -1;
		}
		if (read_url(json_string_value(url), f, err, errlen) != 0)
			return -1;
	}
	if (headers && read_headers(headers, &f->request, err, errlen) != 0)
		return -1;
	if (read_body(o, &f->request, err, errlen) < 0)
		return -1;
	return 0;
}

static json_t *parse(const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(json, len, 0, &je);
	if (!j)
		snprintf(err, errlen, "invalid JSON at line %d: %s", je.line, je.text);
	return j;
}

/* Drops what a copied flow must not carry into a new exchange. */
static void reset_for_replay(struct flow *f)
{
	flow_msg_clear(&f->response);
	free(f->error);
	f->error = NULL;
	memset(&f->t, 0, sizeof f->t);
	f->bytes_up = f->bytes_down = 0;
	f->server_addr[0] = '\0';
	f->state = FLOW_PENDING;
	f->flags &= ~(unsigned)(FLOW_F_IMPORTED | FLOW_F_MARKED | FLOW_F_WEBSOCKET);
}

struct flow *control_replay_request(const struct flow *orig, const char *json, size_t len,
				    char *err, size_t errlen)
{
	if (orig->kind != FLOW_HTTP || !orig->request.present) {
		snprintf(err, errlen, "flow %llu has no HTTP request to replay",
			 (unsigned long long)orig->id);
		return NULL;
	}
	if (orig->request.body_truncated && !(json && len)) {
		snprintf(err, errlen,
			 "the stored request body of flow %llu was cut at the body limit; replay it "
			 "with an edited body",
			 (unsigned long long)orig->id);
		return NULL;
	}
	struct flow *f = flow_dup(orig);
	reset_for_replay(f);
	f->replay_of = orig->id;
	if (json && len) {
		json_t *j = parse(json, len, err, errlen);
		int rc = j ? apply_request(j, f, err, errlen) : -1;
		json_decref(j);
		if (rc != 0) {
			flow_free(f);
			return NULL;
		}
	}
	return f;
}

static int apply_response(json_t *o, struct flow *f, char *err, size_t errlen)
{
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the response must be a JSON object");
		return -1;
	}
	json_t *status = json_object_get(o, "status"), *reason = json_object_get(o, "reason"),
	       *headers = json_object_get(o, "headers");
	if (status) {
		json_int_t s = json_integer_value(status);
		if (!json_is_integer(status) || s < 100 || s > 999) {
			snprintf(err, errlen, "status must be a number from 100 to 999");
			return -1;
		}
		f->response.status = (int)s;
	}
	if (reason) {
		const char *r = json_string_value(reason);
		if (!r || !header_text_ok(r, strlen(r), 0)) {
			snprintf(err, errlen, "reason must be a string without line breaks");
			return -1;
		}
		flow_set_str(&f->response.reason, r);
	}
	if (headers && read_headers(headers, &f->response, err, errlen) != 0)
		return -1;
	return read_body(o, &f->response, err, errlen) < 0 ? -1 : 0;
}

struct flow *control_edit(const char *json, size_t len, char *err, size_t errlen)
{
	json_t *j = parse(json ? json : "", len, err, errlen);
	if (!j)
		return NULL;
	json_t *rq = json_object_get(j, "request"), *rs = json_object_get(j, "response");
	struct flow *f = xcalloc(1, sizeof *f); /* not flow_new(): an edit takes no id */
	int rc = -1;
	if (!json_is_object(j) || (!rq == !rs)) {
		snprintf(err, errlen, "give exactly one of \"request\" or \"response\"");
	} else if (rq) {
		f->request.present = 1;
		rc = apply_request(rq, f, err, errlen);
	} else {
		f->response.present = 1;
		rc = apply_response(rs, f, err, errlen);
	}
	json_decref(j);
	if (rc != 0) {
		flow_free(f);
		return NULL;
	}
	return f;
}
