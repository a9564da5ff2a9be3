/* SPDX-License-Identifier: MIT */
/* control.c - the API's request and response JSON shapes turned into flows for replay and for
 * edits of paused flows (see control.h). JSON is read with jansson; URLs, header names and
 * values and base64 are checked by the flow library's wire-text toolkit (url.h, wire.h, b64.h),
 * so that an edit accepted here is one replay and the proxy can send. */
#include "control.h"

#include "b64.h"
#include "url.h"
#include "util.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes base64 text into out (replacing what it held); returns 0, or -1 when it is not
 * base64. */
static int base64_decode(const char *in, size_t in_len, struct flow_buf *out)
{
	char *bytes;
	size_t n;
	if (b64_decode(in, in_len, &bytes, &n) != 0)
		return -1;
	flow_buf_clear(out);
	out->data = bytes;
	out->len = out->cap = n;
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
		    !wire_is_token(json_string_value(n), json_string_length(n)) ||
		    !wire_is_field_value(json_string_value(v), json_string_length(v))) {
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
static int read_url(const char *url, size_t len, struct flow *f, char *err, size_t errlen)
{
	struct url u;
	const char *why;
	if (url_parse(url, len, 0, &u, &why) != 0) {
		if (why == url_err_scheme || why == url_err_absolute)
			snprintf(err, errlen, "url must start with http:// or https://");
		else if (why == url_err_control)
			snprintf(err, errlen, "url must not contain spaces or control bytes");
		else
			snprintf(err, errlen, "url is not a valid http(s) URL: %s", why);
		return -1;
	}
	int rc = -1;
	if (u.scheme != URL_HTTP && u.scheme != URL_HTTPS) {
		snprintf(err, errlen, "url must start with http:// or https://");
	} else if (u.had_userinfo) {
		/* replay does not send credentials from the URL: say so rather than drop them */
		snprintf(err, errlen, "url must not carry user:password@");
	} else {
		flow_set_str(&f->scheme, url_scheme_name(u.scheme));
		flow_set_str(&f->host, u.authority.host);
		f->port = (uint16_t)u.authority.port;
		free(f->path);
		f->path = u.path;
		u.path = NULL;
		flow_set_str(&f->request.target, f->path);
		rc = 0;
	}
	url_clear(&u);
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
		if (!m || !wire_is_token(m, json_string_length(method))) {
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
		if (read_url(json_string_value(url), json_string_length(url), f, err, errlen) != 0)
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
				    int *body_given, char *err, size_t errlen)
{
	if (body_given)
		*body_given = 0;
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
		if (rc == 0 && body_given)
			*body_given =
			    json_object_get(j, "body") || json_object_get(j, "body_base64");
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
		if (!r || !wire_is_field_value(r, json_string_length(reason))) {
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
