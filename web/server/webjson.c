/* SPDX-License-Identifier: MIT */
/* webjson.c - struct flow to JSON; see webjson.h. Times are microseconds since the epoch, null
 * when the step did not happen (0 in struct flow). Strings follow jsontext.h's policy. */
#include "webjson.h"

#include "jsontext.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

json_t *webjson_string(const char *s, size_t len, int *latin1)
{
	return jsontext_string(s, len, latin1);
}

static json_t *str(const char *s, int *latin1)
{
	return webjson_string(s, s ? strlen(s) : 0, latin1);
}

static json_t *time_us(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *timings(const struct flow_timing *t)
{
	json_t *o = json_object();
	set(o, "start", time_us(t->start));
	set(o, "dns_done", time_us(t->dns_done));
	set(o, "connect_done", time_us(t->connect_done));
	set(o, "tls_done", time_us(t->tls_done));
	set(o, "request_sent", time_us(t->request_sent));
	set(o, "first_byte", time_us(t->first_byte));
	set(o, "end", time_us(t->end));
	set(o, "duration", t->start && t->end ? json_integer(t->end - t->start) : json_null());
	return o;
}

static json_t *summary(const struct flow *f, int *latin1)
{
	json_t *o = json_object();
	const struct flow_header *ct = flow_msg_header(&f->response, "content-type");
	set(o, "id", json_integer((json_int_t)f->id));
	set(o, "kind", json_string(flow_kind_name(f->kind)));
	set(o, "state", json_string(flow_state_name(f->state)));
	set(o, "method", str(f->request.method, latin1));
	set(o, "scheme", str(f->scheme, latin1));
	set(o, "host", str(f->host, latin1));
	set(o, "port", json_integer(f->port));
	set(o, "path", str(f->path, latin1));
	set(o, "status",
	    f->response.present && f->response.status ? json_integer(f->response.status)
						      : json_null());
	set(o, "reason", str(f->response.reason, latin1));
	set(o, "content_type", ct ? webjson_string(ct->value, ct->value_len, latin1) : json_null());
	set(o, "request_body_size", json_integer((json_int_t)f->request.body_size));
	set(o, "response_body_size", json_integer((json_int_t)f->response.body_size));
	set(o, "request_truncated", json_boolean(f->request.body_truncated));
	set(o, "response_truncated", json_boolean(f->response.body_truncated));
	set(o, "timings", timings(&f->t));
	set(o, "error", str(f->error, latin1));
	set(o, "tls", json_boolean(f->flags & FLOW_F_TLS));
	set(o, "websocket", json_boolean(f->flags & FLOW_F_WEBSOCKET));
	set(o, "replay", json_boolean(f->flags & FLOW_F_REPLAY));
	set(o, "imported", json_boolean(f->flags & FLOW_F_IMPORTED));
	set(o, "modified", json_boolean(f->flags & FLOW_F_MODIFIED));
	set(o, "duplicate", json_boolean(f->flags & FLOW_F_DUPLICATE));
	set(o, "marked", json_boolean((f->flags & FLOW_F_MARKED) || (f->mark && f->mark[0])));
	if (f->mark) { /* read from the store: the notes are known (the proxy's flows leave them
			  out) */
		set(o, "mark", str(f->mark, 0));
		set(o, "comment", str(f->comment ? f->comment : "", 0));
	}
	set(o, "replay_of", f->replay_of ? json_integer((json_int_t)f->replay_of) : json_null());
	set(o, "client_addr", str(f->client_addr, latin1));
	set(o, "server_addr", f->server_addr[0] ? str(f->server_addr, latin1) : json_null());
	/* the listener: "reverse:http://h:3000" and "127.0.0.1:8082" from the flow's
	 * "reverse:http://h:3000@127.0.0.1:8082" (a mode holds no '@' of its own) */
	const char *at = f->mode ? strrchr(f->mode, '@') : NULL;
	set(o, "mode",
	    f->mode ? webjson_string(f->mode, at ? (size_t)(at - f->mode) : strlen(f->mode), latin1)
		    : json_null());
	set(o, "listener", at ? str(at + 1, latin1) : json_null());
	set(o, "bytes_up", json_integer((json_int_t)f->bytes_up));
	set(o, "bytes_down", json_integer((json_int_t)f->bytes_down));
	if (f->stream_id)
		set(o, "stream_id", json_integer((json_int_t)f->stream_id));
	return o;
}

json_t *webjson_summary(const struct flow *f)
{
	int latin1 = 0;
	json_t *o = summary(f, &latin1);
	if (latin1)
		set(o, "latin1", json_true());
	return o;
}

/* [[name, value], ...] of the n entries of hs. */
static json_t *pairs(const struct flow_header *hs, size_t n, int *latin1)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *pair = json_array();
		json_array_append_new(pair, webjson_string(hs[i].name, hs[i].name_len, latin1));
		json_array_append_new(pair, webjson_string(hs[i].value, hs[i].value_len, latin1));
		json_array_append_new(a, pair);
	}
	return a;
}

static json_t *message(const struct flow_msg *m, int request)
{
	if (!m->present)
		return json_null();
	int latin1 = 0;
	json_t *o = json_object();
	if (request) {
		set(o, "method", str(m->method, &latin1));
		set(o, "target", str(m->target, &latin1));
	} else {
		set(o, "status", json_integer(m->status));
		set(o, "reason", str(m->reason, &latin1));
	}
	set(o, "version",
	    json_string(m->version == 20   ? "HTTP/2.0"
			: m->version == 10 ? "HTTP/1.0"
					   : "HTTP/1.1"));
	set(o, "headers", pairs(m->headers, m->num_headers, &latin1));
	if (m->num_trailers)
		set(o, "trailers", pairs(m->trailers, m->num_trailers, &latin1));
	set(o, "head_size", json_integer((json_int_t)m->head_size));
	set(o, "body_size", json_integer((json_int_t)m->body_size));
	set(o, "body_stored", json_integer((json_int_t)m->body.len));
	set(o, "truncated", json_boolean(m->body_truncated));
	if (latin1)
		set(o, "latin1", json_true());
	return o;
}

static json_t *tls(const struct flow_tls *t)
{
	if (!t->sni && !t->version && !t->client_version && !t->cert_subject)
		return json_null();
	int latin1 = 0;
	json_t *o = json_object();
	set(o, "sni", str(t->sni, &latin1));
	set(o, "version", str(t->version, &latin1));
	set(o, "cipher", str(t->cipher, &latin1));
	set(o, "alpn", str(t->alpn, &latin1));
	set(o, "cert_subject", str(t->cert_subject, &latin1));
	set(o, "cert_issuer", str(t->cert_issuer, &latin1));
	set(o, "client_version", str(t->client_version, &latin1));
	if (latin1)
		set(o, "latin1", json_true());
	return o;
}

json_t *webjson_flow(const struct flow *f)
{
	int latin1 = 0;
	json_t *o = summary(f, &latin1);
	set(o, "request", message(&f->request, 1));
	set(o, "response", message(&f->response, 0));
	set(o, "tls_info", tls(&f->tls));
	if (latin1)
		set(o, "latin1", json_true());
	return o;
}

char *webjson_dump(json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s) {
		/* only out of memory makes jansson fail on a tree we built */
		s = xstrdup("{\"error\":\"cannot serialize\"}");
	}
	*len = strlen(s);
	return s;
}

char *webjson_event(enum store_change change, const struct flow *f, size_t *len)
{
	static const char *const actions[] = {"add", "update", "remove"};
	json_t *o = json_object();
	if (change == STORE_RESET || !f) {
		set(o, "type", json_string("reset"));
		return webjson_dump(o, len);
	}
	set(o, "type", json_string("flow"));
	set(o, "action", json_string(actions[change]));
	if (change == STORE_REMOVED) {
		json_t *fo = json_object();
		set(fo, "id", json_integer((json_int_t)f->id));
		set(o, "flow", fo);
	} else {
		set(o, "flow", webjson_summary(f));
	}
	return webjson_dump(o, len);
}

char *webjson_store_event(const char *error, size_t *len)
{
	json_t *o = json_object();
	set(o, "type", json_string("store"));
	set(o, "error", error ? str(error, NULL) : json_null());
	return webjson_dump(o, len);
}

char *webjson_error(const char *msg, size_t *len)
{
	json_t *o = json_object();
	set(o, "error", str(msg, NULL));
	return webjson_dump(o, len);
}
