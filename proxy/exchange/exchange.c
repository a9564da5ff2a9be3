/* SPDX-License-Identifier: MIT */
/* exchange.c - one request/response as one flow (see exchange.h).
 *
 * Intercept: a request that matches the intercept rule is held: its body is read whole into
 * the flow (up to the body limit) without going anywhere, then the flow is paused. A matching
 * response is held the same way before any byte of it reaches the client. Paused, intercept.c's
 * jobs resume, edit or kill it (origin_command()). A resumed message is sent from the flow,
 * possibly edited, with its body de-chunked and Content-Length recomputed (a request with
 * trailers goes chunked to keep them: origin.c's resume_request()). A body over the
 * limit cannot be held: the message goes on as it came and the flow records why it was not
 * intercepted (x->note).
 *
 * Ownership: x owns its flow until END hands it to the sink, and the held request's
 * authority. The sink gets snapshots (flow_snapshot(): one allocation each) for BEGIN and
 * UPDATE, and at END one that took the flow's large bodies over; the flow itself, emptied,
 * is kept for the next request (x->spare). */
#include "exchange.h"

#include "cookie.h"
#include "env.h"
#include "intercept.h"
#include "rules.h"
#include "url.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

void exchange_init(struct exchange *x, const struct env *env)
{
	memset(x, 0, sizeof *x);
	x->env = env;
}

/* The BEGIN put off for x falls due (begins.h calls this, the wait taken off its list). */
static void begin_due(struct begin_wait *w)
{
	struct exchange *x = (struct exchange *)((char *)w - offsetof(struct exchange, begin));
	if (x->flow)
		exchange_emit(x, FLOW_EV_BEGIN);
}

/* The BEGIN put off for x now, if it still waits: for a flow that goes without an END. */
static void begin_now(struct exchange *x)
{
	if (begins_cancel(&x->begin))
		begin_due(&x->begin);
}

void exchange_clear(struct exchange *x)
{
	begin_now(x);
	exchange_unpause(x);
	exchange_uncharge(x);
	flow_free(x->flow);
	x->flow = NULL;
	flow_free(x->spare);
	x->spare = NULL;
	free(x->authority);
	x->authority = NULL;
	if (x->held)
		evbuffer_free(x->held);
	x->held = NULL;
	if (x->head_out)
		evbuffer_free(x->head_out);
	x->head_out = NULL;
	if (x->resp_head)
		evbuffer_free(x->resp_head);
	x->resp_head = NULL;
	flow_buf_clear(&x->head_text);
}

struct flow *exchange_start(struct exchange *x, const char *client_addr, int64_t start)
{
	/* a kept-alive connection's flows reuse one allocation, emptied at each END */
	struct flow *f = x->spare;
	if (f) {
		x->spare = NULL;
		f->id = flow_next_id();
	} else {
		f = flow_new();
	}
	begin_now(x);
	exchange_uncharge(x);
	flow_free(x->flow);
	x->flow = f;
	x->begun = 0;
	x->note = NULL;
	f->kind = FLOW_HTTP;
	f->state = FLOW_PENDING;
	util_copy(f->client_addr, sizeof f->client_addr, client_addr);
	flow_put_str(f, &f->mode, x->mode);
	f->t.start = start ? start : util_now_us();
	return f;
}

void exchange_emit(struct exchange *x, enum flow_event ev)
{
	const struct flow_sink *s = &x->env->cfg->sink;
	/* An UPDATE or END that comes before the BEGIN put off writes the whole flow: the BEGIN
	 * is not sent at all, and the sink hears that this event is the flow's first. */
	enum flow_event first = ev;
	if (begins_cancel(&x->begin) && ev != FLOW_EV_BEGIN)
		first = (enum flow_event)(ev | FLOW_EV_UNBEGUN);
	if (ev == FLOW_EV_END) {
		struct flow *f = x->flow;
		x->flow = NULL;
		x->update_due = 0;
		if (x->note && !f->error)
			f->error = xstrdup(x->note);
		x->note = NULL;
		if (!f->t.end)
			f->t.end = util_now_us();
		if (f->state == FLOW_PENDING)
			f->state = FLOW_DONE;
		if (s->emit && !x->spare) { /* f's parts are freed here, not by the writer */
			s->emit(s->arg, first, flow_snapshot_clear(f));
			x->spare = f;
		} else if (s->emit) {
			s->emit(s->arg, first, flow_snapshot_take(f));
		} else {
			flow_free(f);
		}
	} else {
		if (ev == FLOW_EV_BEGIN)
			x->begun = 1;
		if (s->emit)
			s->emit(s->arg, first, flow_snapshot(x->flow));
	}
}

void exchange_begin_soon(struct exchange *x)
{
	x->begun = 1;
	if (!begins_defer(&x->begin, begin_due))
		exchange_emit(x, FLOW_EV_BEGIN);
}

void exchange_fail(struct exchange *x, const char *msg)
{
	if (!x->flow)
		return;
	flow_set_error(x->flow, msg);
	if (!x->begun)
		exchange_emit(x, FLOW_EV_BEGIN);
	exchange_emit(x, FLOW_EV_END);
}

/* ---------------------------------------------------------------------------------------- */
/* Rules */

/* anticache (mitmproxy's option of the name): the request's conditional headers go, so the
 * origin answers with the whole body instead of 304 Not Modified. The flow records the request
 * as sent. */
static void strip_conditionals(struct flow_msg *m)
{
	size_t keep = 0;
	for (size_t i = 0; i < m->num_headers; i++) {
		struct flow_header *h = &m->headers[i];
		if (FLOW_HEADER_IS(h, "If-None-Match") || FLOW_HEADER_IS(h, "If-Modified-Since")) {
			flow_msg_free_header(m, h);
		} else {
			m->headers[keep++] = *h;
		}
	}
	m->num_headers = keep;
}

int exchange_decide(struct exchange *x, int *hold)
{
	if (env_anticache(x->env))
		strip_conditionals(&x->flow->request);
	/* the rule set of this moment decides, even if it changes while the request runs */
	struct rules *r = rules_live_get(x->env->rules);
	int block = rules_block(r, x->flow);
	*hold = !block && rules_intercept(r, x->flow);
	rules_unref(r);
	return block;
}

void exchange_block_answer(struct exchange *x, int status, const char **type, const char **body,
			   size_t *len)
{
	rules_block_answer(&x->flow->response, status, env_body_limit(x->env));
	*type = RULES_BLOCK_TYPE;
	*body = RULES_BLOCK_BODY;
	*len = sizeof RULES_BLOCK_BODY - 1;
}

/* 1 when m announces a body larger than what may be held. */
static int too_big(const struct flow_msg *m, size_t limit)
{
	const struct flow_header *h = flow_msg_header(m, "Content-Length");
	return h && strtoull(h->value, NULL, 10) > limit;
}

int exchange_request_too_big(const struct exchange *x)
{
	return too_big(&x->flow->request, env_body_limit(x->env));
}

void exchange_not_held(struct exchange *x, enum exchange_side side)
{
	int req = side == EXCHANGE_REQUEST;
	log_info("flow %llu not intercepted: %s body over the body limit",
		 (unsigned long long)x->flow->id, req ? "request" : "response");
	x->note = req ? "not intercepted: the request body is larger than the body limit"
		      : "not intercepted: the response body is larger than the body limit";
}

int exchange_charge(struct exchange *x, size_t n)
{
	if (intercept_charge(x->env->ic, n) != 0)
		return -1;
	x->charged += n;
	return 0;
}

void exchange_uncharge(struct exchange *x)
{
	if (x->charged)
		intercept_uncharge(x->env->ic, x->charged);
	x->charged = 0;
}

void exchange_over_budget(struct exchange *x, enum exchange_side side)
{
	int req = side == EXCHANGE_REQUEST;
	exchange_uncharge(x);
	log_info("flow %llu not intercepted: the intercept budget (%zu bytes) is used up",
		 (unsigned long long)x->flow->id, intercept_budget(x->env->ic));
	x->note = req ? "not intercepted: the intercept budget (--intercept-budget) for held "
			"and paused flows is used up (request)"
		      : "not intercepted: the intercept budget (--intercept-budget) for held "
			"and paused flows is used up (response)";
}

void exchange_check_response_hold(struct exchange *x)
{
	struct flow *f = x->flow;
	struct rules *r = rules_live_get(x->env->rules);
	int hold = rules_intercept(r, f);
	rules_unref(r);
	if (!hold)
		return;
	if (too_big(&f->response, env_body_limit(x->env))) {
		exchange_not_held(x, EXCHANGE_RESPONSE);
		return;
	}
	/* a held message costs its head at least, whatever its body */
	if (exchange_charge(x, f->response.head_size) != 0) {
		exchange_over_budget(x, EXCHANGE_RESPONSE);
		return;
	}
	x->hold = EXCHANGE_RESPONSE;
}

/* ---------------------------------------------------------------------------------------- */
/* Pause */

void exchange_pause(struct exchange *x, enum exchange_side side, struct event_base *base,
		    void *owner)
{
	struct flow *f = x->flow;
	x->hold = EXCHANGE_NONE;
	x->paused = side;
	x->paused_id = f->id;
	f->state = FLOW_PAUSED;
	intercept_add(x->env->ic, f->id, base, owner);
	log_info("flow %llu paused (%s): %s %s://%s:%d%s", (unsigned long long)f->id,
		 side == EXCHANGE_REQUEST ? "request" : "response", f->request.method, f->scheme,
		 f->host, f->port, f->path);
	exchange_emit(x, FLOW_EV_UPDATE);
}

void exchange_unpause(struct exchange *x)
{
	exchange_uncharge(x);
	if (!x->paused)
		return;
	intercept_remove(x->env->ic, x->paused_id);
	x->paused = EXCHANGE_NONE;
	if (x->flow && x->flow->state == FLOW_PAUSED)
		x->flow->state = FLOW_PENDING;
}

/* ---------------------------------------------------------------------------------------- */
/* Editing messages */

void exchange_remove_headers(struct flow_msg *m, const char *name)
{
	size_t j = 0, len = strlen(name);
	for (size_t i = 0; i < m->num_headers; i++) {
		if (flow_header_is(&m->headers[i], name, len))
			flow_msg_free_header(m, &m->headers[i]);
		else
			m->headers[j++] = m->headers[i];
	}
	m->num_headers = j;
}

void exchange_strip_cookie(struct flow_msg *m, const char *name)
{
	if (!name || !*name)
		return;
	for (size_t i = 0; i < m->num_headers; i++) {
		struct flow_header *h = &m->headers[i];
		if (!FLOW_HEADER_IS(h, "Cookie") || !strstr(h->value, name))
			continue;
		size_t n;
		char *out = cookie_remove(h->value, h->value_len, name, &n);
		flow_msg_set_value(m, h, out, n);
	}
	for (size_t i = 0; i < m->num_headers;) {
		struct flow_header *h = &m->headers[i];
		if (h->value_len == 0 && FLOW_HEADER_IS(h, "Cookie")) {
			flow_msg_free_header(m, h);
			memmove(h, h + 1, (m->num_headers - i - 1) * sizeof *h);
			m->num_headers--;
		} else {
			i++;
		}
	}
}

void exchange_reframe(struct flow_msg *m)
{
	int framed =
	    flow_msg_header(m, "Content-Length") || flow_msg_header(m, "Transfer-Encoding");
	exchange_remove_headers(m, "Transfer-Encoding");
	exchange_remove_headers(m, "Content-Length");
	if (framed || m->body.len) {
		char v[32];
		int n = snprintf(v, sizeof v, "%zu", m->body.len);
		flow_msg_add_header(m, "Content-Length", 14, v, (size_t)n);
	}
	m->body_size = m->body.len;
	m->body_truncated = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The user's edit */

static void replace_headers(struct flow_msg *dst, const struct flow_msg *src)
{
	for (size_t i = 0; i < dst->num_headers; i++)
		flow_msg_free_header(dst, &dst->headers[i]);
	dst->num_headers = 0;
	for (size_t i = 0; i < src->num_headers; i++)
		flow_msg_add_header(dst, src->headers[i].name, src->headers[i].name_len,
				    src->headers[i].value, src->headers[i].value_len);
}

static void replace_body(struct flow_msg *dst, const struct flow_msg *src)
{
	flow_buf_clear(&dst->body);
	flow_buf_append(&dst->body, src->body.data, src->body.len);
	dst->body_size = dst->body.len;
	dst->body_truncated = 0;
}

static int edit_response(struct flow_msg *m, const struct flow_msg *em, char *err, size_t errlen)
{
	if (em->status) {
		if (em->status < 100 || em->status > 999) {
			snprintf(err, errlen, "bad status %d", em->status);
			return -1;
		}
		m->status = em->status;
		if (!em->reason)
			flow_msg_set_str(m, &m->reason, rules_reason(em->status));
	}
	if (em->reason)
		flow_msg_set_str(m, &m->reason, em->reason);
	if (em->num_headers)
		replace_headers(m, em);
	if (em->body.data)
		replace_body(m, em);
	return 0;
}

/* Where an edited request goes: an absolute URL as its target, else the edit's scheme, host,
 * port and path over the flow's. Fills host, *port, *scheme and *path (owned, may stay NULL)
 * and returns 1 when the request moves elsewhere, 0 when not, -1 with err. */
static int edit_target(const struct flow *f, const struct flow *e, char *host, size_t hostlen,
		       int *port, char **scheme, char **path, char *err, size_t errlen)
{
	const char *t = e->request.target;
	if (t && strstr(t, "://")) {
		struct url u;
		const char *why = NULL;
		int r = url_parse(t, strlen(t), 0, &u, &why);
		if (r == 0 && (u.scheme > URL_HTTPS || u.had_userinfo)) {
			why = u.had_userinfo ? url_err_host : url_err_scheme;
			url_clear(&u);
			r = -1;
		}
		if (r != 0) {
			snprintf(err, errlen, "%s in %s",
				 why == url_err_scheme ? "unsupported URL scheme"
						       : "bad host or port",
				 t);
			return -1;
		}
		snprintf(host, hostlen, "%s", u.authority.host);
		*port = u.authority.port;
		*scheme = xstrdup(url_scheme_name(u.scheme));
		*path = u.path; /* taken over from u */
		return 1;
	}
	if (t && t[0])
		*path = t[0] == '/' ? xstrdup(t) : xasprintf("/%s", t);
	snprintf(host, hostlen, "%s", e->host ? e->host : f->host);
	if (e->scheme)
		*scheme = xstrdup(strcasecmp(e->scheme, "https") == 0 ? "https" : "http");
	if (e->port)
		*port = e->port;
	if (e->path && !*path)
		*path = xstrdup(e->path);
	return e->host || e->scheme || e->port;
}

int exchange_apply_edit(struct exchange *x, const struct flow *e, char *err, size_t errlen)
{
	struct flow *f = x->flow;
	if (x->paused == EXCHANGE_RESPONSE)
		return edit_response(&f->response, &e->response, err, errlen);
	const struct flow_msg *em = &e->request;
	struct flow_msg *m = &f->request;
	char host[URL_HOST_MAX + 1];
	int port = f->port;
	char *scheme = NULL, *path = NULL;
	int moved = edit_target(f, e, host, sizeof host, &port, &scheme, &path, err, errlen);
	if (moved < 0)
		return -1;
	if (em->method && !em->method[0]) {
		free(scheme), free(path);
		snprintf(err, errlen, "empty method");
		return -1;
	}
	if (em->method)
		flow_msg_set_str(m, &m->method, em->method);
	if (scheme) {
		flow_put_str(f, &f->scheme, scheme);
		free(scheme);
	}
	if (path) {
		free(f->path);
		f->path = path;
		flow_msg_set_str(m, &m->target, path);
	}
	if (moved) {
		char a[URL_HOST_MAX + 16];
		flow_put_str(f, &f->host, host);
		f->port = (uint16_t)port;
		int tls = strcmp(f->scheme, "https") == 0;
		url_format_authority(a, sizeof a, f->host, f->port, tls ? 443 : 80);
		flow_set_str(&x->authority, a);
	}
	if (em->num_headers)
		replace_headers(m, em);
	if (em->body.data)
		replace_body(m, em);
	exchange_strip_cookie(m, x->env->cfg->token_cookie);
	return 0;
}
