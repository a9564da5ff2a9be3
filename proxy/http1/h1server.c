/* SPDX-License-Identifier: MIT */
/* h1server.c - HTTP/1 towards the client: the client's bytes become requests (llhttp through
 * http1.c), each request an exchange (exchange.c) that goes to its origin (origin.c), is
 * answered by the proxy itself (the CA page, a block rule, an error page) or is held whole
 * for the intercept.
 *
 * A request head is routed here: an absolute-form target names its origin; an origin-form
 * target is only valid inside a tunnel (which decides where requests go) or for the CA page;
 * on a reverse-proxy listener every request goes to that listener's server;
 * CONNECT goes to tunnel.c. The request head is rebuilt for the origin (origin.c); the body
 * is handed over raw (still framed) as an evbuffer range (origin_request_body()), without a
 * copy. Nothing here frees the connection: errors end in conn_close_after_flush(). */
#include "h1server.h"

#include "certforge.h"
#include "origin.h"
#include "proxyauth.h"
#include "tunnel.h"
#include "url.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

/* ---------------------------------------------------------------------------------------- */
/* Parser callbacks: record into the flow, tell the pumps what happened. */

static void on_req_head(void *arg, struct flow_msg *head)
{
	struct conn *c = arg;
	/* only a split CONNECT's set-up flow can still be there: it goes */
	struct flow *f = exchange_start(&c->x, c->client_addr, c->x.req_start);
	f->request = *head;
	memset(head, 0, sizeof *head);
	c->events |= EV_HEAD;
}

static void on_req_body(void *arg, const char *data, size_t len)
{
	struct conn *c = arg;
	if (c->x.flow)
		flow_msg_add_body(&c->x.flow->request, data, len, env_body_limit(conn_env(c)));
}

static void on_req_end(void *arg)
{
	struct conn *c = arg;
	c->events |= EV_END;
}

/* A chunked request's trailers: kept in the flow (its bytes are relayed as framed). */
static void on_req_trailers(void *arg, const struct flow_msg *trailers)
{
	struct conn *c = arg;
	if (c->x.flow)
		flow_msg_add_trailers(&c->x.flow->request, trailers);
}

struct http1_sink h1server_sink(struct conn *c)
{
	struct http1_sink s = {on_req_head, on_req_body, on_req_end, c, on_req_trailers};
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* Answers made by the proxy itself */

/* Escapes s for HTML text and attributes into a new string. */
static char *html_escape(const char *s)
{
	static const char *const entity[256] = {
	    ['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;", ['\''] = "&#39;",
	};
	size_t n = 0;
	for (const unsigned char *p = (const void *)s; *p; p++)
		n += entity[*p] ? strlen(entity[*p]) : 1;
	char *out = xmalloc(n + 1), *w = out;
	for (const unsigned char *p = (const void *)s; *p; p++) {
		const char *e = entity[*p];
		if (e) {
			size_t l = strlen(e);
			memcpy(w, e, l);
			w += l;
		} else {
			*w++ = *p < 0x20 ? '?' : (char)*p;
		}
	}
	*w = 0;
	return out;
}

static void write_page(struct conn *c, int status, const char *reason, const char *ctype,
		       const char *extra_headers, const void *body, size_t len, int close)
{
	struct evbuffer *out = bufferevent_get_output(c->client);
	int n = evbuffer_add_printf(out,
				    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				    "Cache-Control: no-store\r\n%s%s\r\n",
				    status, reason, ctype, len, extra_headers ? extra_headers : "",
				    close ? "Connection: close\r\n" : "");
	evbuffer_add(out, body, len);
	if (c->x.flow)
		c->x.flow->bytes_down += (uint64_t)(n > 0 ? n : 0) + len;
}

/* h1server_send_error() with extra header lines (may be NULL). */
static void error_page(struct conn *c, int status, const char *reason, const char *extra,
		       const char *msg)
{
	if (c->client && !c->x.resp_started && !c->close_reason) {
		char *esc = html_escape(msg);
		char *page = xasprintf("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
				       "<body><h1>%d %s</h1>\n<p>%s</p>\n<hr><p>flowscope</p>"
				       "</body></html>\n",
				       status, reason, status, reason, esc);
		write_page(c, status, reason, "text/html; charset=utf-8", extra, page, strlen(page),
			   1);
		free(page);
		free(esc);
		c->x.resp_started = 1;
	} else if (c->x.resp_started) {
		c->cut_short = 1; /* a response went out in part: the client must see it cut */
	}
	log_debug("%s: %d %s", c->client_addr, status, msg);
	exchange_fail(&c->x, msg);
	conn_close_after_flush(c, msg);
}

void h1server_send_error(struct conn *c, int status, const char *reason, const char *msg)
{
	error_page(c, status, reason, NULL, msg);
}

/* --proxyauth: a request to the proxy itself (not inside a tunnel, which its CONNECT opened)
 * must carry the credentials. Proxy-Authorization is the proxy's: it goes from every request
 * before the flow is seen or forwarded. Returns 1 when the request may go on; else it was
 * answered with 407. */
static int authorized(struct conn *c)
{
	struct flow_msg *m = &c->x.flow->request;
	const struct flow_header *h = flow_msg_header(m, "Proxy-Authorization");
	const char *auth = c->tun_host ? NULL : conn_proxyauth(c);
	int ok = !auth || (h && proxyauth_check_header(auth, h->value)), offered = h != NULL;
	exchange_remove_headers(m, "Proxy-Authorization");
	if (!ok)
		error_page(c, 407, "Proxy Authentication Required",
			   "Proxy-Authenticate: Basic realm=\"flowscope\"\r\n",
			   offered ? "wrong proxy credentials" : "proxy authentication required");
	return ok;
}

static void serve_cert(struct conn *c, const char *path)
{
	size_t len;
	struct certforge *cf = conn_env(c)->cf;
	if (strncmp(path, "/cert/pem", 9) == 0) {
		const char *pem = certforge_ca_pem(cf, &len);
		write_page(c, 200, "OK", "application/x-x509-ca-cert",
			   "Content-Disposition: attachment; filename=flowscope-ca.pem\r\n", pem,
			   len, 0);
	} else if (strncmp(path, "/cert/der", 9) == 0) {
		const unsigned char *der = certforge_ca_der(cf, &len);
		write_page(c, 200, "OK", "application/x-x509-ca-cert",
			   "Content-Disposition: attachment; filename=flowscope-ca.der\r\n", der,
			   len, 0);
	} else {
		static const char page[] =
		    "<!DOCTYPE html>\n<html><head><title>flowscope CA certificate</title>"
		    "</head><body><h1>flowscope CA certificate</h1>\n"
		    "<p>Install this certificate authority to let flowscope decrypt HTTPS "
		    "traffic from this device. Only do so for a proxy you run yourself.</p>\n"
		    "<ul><li><a href=\"/cert/pem\">PEM</a> (most systems, Firefox, curl)</li>\n"
		    "<li><a href=\"/cert/der\">DER</a> (Windows, Android)</li></ul>\n"
		    "</body></html>\n";
		write_page(c, 200, "OK", "text/html; charset=utf-8", NULL, page, sizeof page - 1,
			   0);
	}
	c->x.flow->response.present = 1;
	c->x.flow->response.status = 200;
	c->x.flow->response.version = 11;
	flow_msg_set_str(&c->x.flow->response, &c->x.flow->response.reason, "OK");
}

void h1server_timed_out(struct conn *c)
{
	int s = conn_env(c)->timeout_s;
	char *msg;
	if (c->discarding) {
		log_debug("%s: the rest of an answered request body took too long", c->client_addr);
		conn_close_after_flush(c, "discarding the request body took too long");
		return;
	}
	const struct flow *f = c->x.flow;
	const struct flow_header *ex = f ? flow_msg_header(&f->request, "Expect") : NULL;
	if (c->state == CONN_REQ_HEAD) {
		msg = xasprintf("client sent an incomplete request (no whole head within %d s)", s);
		if (!c->x.flow)
			c->x.flow = exchange_start(&c->x, c->client_addr, c->x.req_start);
	} else if (ex && c->state == CONN_EXCHANGE && !c->x.resp_started) {
		/* the client waits for the origin's 100 Continue: not its fault */
		msg = xasprintf("%s:%d sent no 100 Continue (nor an answer) within %d s", f->host,
				f->port, s);
		h1server_send_error(c, 504, "Gateway Timeout", msg);
		free(msg);
		return;
	} else {
		msg = xasprintf("client stopped sending the request body (nothing for %d s)", s);
	}
	h1server_send_error(c, 408, "Request Timeout", msg);
	free(msg);
}

static void on_head_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	conn_enter(c);
	if (((c->state == CONN_REQ_HEAD && http1_in_head(c->req)) || c->discarding) &&
	    !c->close_reason)
		h1server_timed_out(c);
	conn_leave(c);
}

/* The request head's deadline (nginx's client_header_timeout), and the bound on dropping the
 * rest of an answered request (nginx's lingering_time): on arms it, unless it runs already, for
 * the proxy's timeout; on expiry h1server_timed_out() answers. 0 disarms it. A byte a second
 * never leaves the idle read timeout expire: the head's deadline runs from its first byte. It
 * shares the common timeout of the read timeouts. */
static void head_deadline(struct conn *c, int on)
{
	if (!on) {
		if (c->head_timer)
			evtimer_del(c->head_timer);
		return;
	}
	if (!c->head_timer)
		c->head_timer = evtimer_new(c->w->base, on_head_deadline, c);
	if (c->head_timer && !evtimer_pending(c->head_timer, NULL))
		evtimer_add(c->head_timer, c->w->timeout_tv);
}

/* Answers 400 "malformed request: what" (a new flow when none is open) and closes. */
static void bad_request(struct conn *c, const char *what)
{
	char *msg = xasprintf("malformed request: %s", what);
	if (!c->x.flow)
		c->x.flow = exchange_start(&c->x, c->client_addr, c->x.req_start);
	h1server_send_error(c, 400, "Bad Request", msg);
	free(msg);
}

/* A block rule matched: answer with its status ourselves; the request body is swallowed as
 * for the certificate page, and the flow ends with this response (no upstream). */
static void answer_blocked(struct conn *c, int status)
{
	struct flow *f = c->x.flow;
	struct flow_msg *m = &f->response;
	const char *type, *body;
	size_t len;
	exchange_block_answer(&c->x, status, &type, &body, &len);
	write_page(c, m->status, m->reason, type, NULL, body, len, 0);
	log_debug("%s: %s %s://%s:%d%s blocked with %d", c->client_addr, f->request.method,
		  f->scheme, f->host, f->port, f->path, m->status);
	c->x.resp_started = 1;
	c->x.local_answer = 1;
	c->state = CONN_EXCHANGE;
	conn_want(c, CONN_WANT_CLIENT);
}

/* ---------------------------------------------------------------------------------------- */
/* Requests */

static void flow_take_client_tls(struct conn *c)
{
	struct flow *f = c->x.flow;
	if (!c->tun_split || !c->tun_tls)
		return;
	f->flags |= FLOW_F_TLS;
	flow_put_str(f, &f->tls.sni, c->sni[0] ? c->sni : NULL);
	flow_put_str(f, &f->tls.client_version, c->client_tls_version);
}

/* A reverse-proxy listener's request goes to its server, whatever Host the client sent; the
 * Host sent upstream is the server's authority (mitmproxy's default), or with keep_host_header
 * the client's own (*authority NULL: its Host header goes on as it is). */
static const char *route_reverse(struct conn *c, struct url_authority *host, int *tls, char **path,
				 char **authority)
{
	const struct proxy_listener *l = c->lst;
	const char *target = c->x.flow->request.target;
	if (target[0] != '/' && !(target[0] == '*' && target[1] == 0))
		return "this is a reverse proxy: the request target must be a path";
	snprintf(host->host, sizeof host->host, "%s", l->target_host);
	host->port = l->target_port;
	*tls = l->target_tls;
	*path = xstrdup(target);
	char a[URL_HOST_MAX + 16];
	url_format_authority(a, sizeof a, l->target_host, l->target_port, l->target_tls ? 443 : 80);
	int keep = conn_env(c)->cfg->keep_host_header &&
		   flow_msg_header(&c->x.flow->request, "Host") != NULL;
	*authority = keep ? NULL : xstrdup(a);
	return NULL;
}

/* Where the request in c->x.flow goes: fills host, *port, *tls and *path (owned) from its
 * target, and *authority (owned, NULL for origin-form) with the Host to send. Returns NULL, or
 * what is malformed (the caller answers 400). */
static const char *route(struct conn *c, struct url_authority *host, int *tls, char **path,
			 char **authority)
{
	const char *target = c->x.flow->request.target;
	if (c->lst->mode == PROXY_REVERSE && !c->tun_host)
		return route_reverse(c, host, tls, path, authority);
	if (target[0] == '/' || (target[0] == '*' && target[1] == 0)) {
		/* origin-form: only inside a tunnel, or asking for the CA page */
		const struct flow_header *h = flow_msg_header(&c->x.flow->request, "Host");
		const char *why;
		*path = xstrdup(target);
		if (c->tun_host)
			return NULL;
		if (h && url_split_authority(h->value, h->value_len, 80, 0, host, &why) == 0 &&
		    strcasecmp(host->host, CERT_HOST) == 0) {
			*tls = 0;
			return NULL;
		}
		return "this is a proxy: the request target must be an absolute URL "
		       "(http://host/path)";
	}
	/* absolute-form: scheme://authority[/path] */
	struct url u;
	const char *why;
	if (url_parse(target, strlen(target), 0, &u, &why) != 0) {
		if (why == url_err_absolute || !strstr(target, "://"))
			return "request target is neither a path nor an absolute URL";
		return why == url_err_scheme ? "unsupported URL scheme"
					     : "bad host or port in the request URL";
	}
	if (u.scheme != URL_HTTP && u.scheme != URL_HTTPS) {
		url_clear(&u);
		return "unsupported URL scheme";
	}
	if (u.had_userinfo) {
		url_clear(&u);
		return "credentials in the request URL";
	}
	*host = u.authority;
	*tls = u.tls;
	*path = u.path; /* taken over from u */
	*authority = xstrndup(u.authority_text, u.authority_text_len);
	return NULL;
}

/* The answer is ours (the CA page): swallow the request body, keep the connection. */
static void answer_cert(struct conn *c)
{
	c->x.resp_started = 1;
	c->x.local_answer = 1;
	serve_cert(c, c->x.flow->path);
	c->state = CONN_EXCHANGE;
	conn_want(c, CONN_WANT_CLIENT);
}

/* The exchange holds the request (its head is in c->x.flow, BEGIN emitted): its body is read
 * whole before the pause. */
static void hold_request(struct conn *c)
{
	struct flow *f = c->x.flow;
	c->state = CONN_HOLD_REQ;
	/* A client waiting for 100 Continue gets it from us: the body is needed before the
	 * upstream is asked anything, and the upstream then gets the request without Expect. */
	const struct flow_header *ex = flow_msg_header(&f->request, "Expect");
	if (ex && f->request.version == 11 && strcasecmp(ex->value, "100-continue") == 0) {
		evbuffer_add_printf(bufferevent_get_output(c->client),
				    "HTTP/1.1 100 Continue\r\n\r\n");
		exchange_remove_headers(&f->request, "Expect");
	}
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0); /* a stalled body times out */
	conn_want(c, CONN_WANT_CLIENT);
}

/* A plain request on c's transparent connection: host (the original address) becomes the
 * name in the request's Host header, when it has a valid one; the port stays the original
 * one. The connection goes to the original address all the same (c->tr_name pins it). */
static void transparent_name(struct conn *c, struct url_authority *host)
{
	const struct flow_header *h = flow_msg_header(&c->x.flow->request, "Host");
	struct url_authority a;
	const char *why;
	if (!h || url_split_authority(h->value, h->value_len, c->tr.port, 0, &a, &why) != 0)
		return;
	snprintf(host->host, sizeof host->host, "%s", a.host);
	snprintf(c->tr_name, sizeof c->tr_name, "%s", a.host);
}

/* The request is a CONNECT: pass it through, or decrypt it as the rules say (tunnel.c). */
static void connect_request(struct conn *c)
{
	struct flow *f = c->x.flow;
	struct url_authority a;
	const char *t = f->request.target, *why;
	if (url_split_authority(t, strlen(t), 0, 0, &a, &why) != 0)
		return bad_request(c, "CONNECT target must be host:port");
	const char *host = a.host;
	int port = a.port;
	/* the parser reports the end of the CONNECT message and stops: bytes after are the
	 * tunnel's */
	const char *err;
	c->events = 0;
	if (http1_feed(c->req, NULL, 0, &err) < 0)
		return bad_request(c, err);
	tunnel_open(c, host, port);
}

/* The connection's part of sending the current request up: what the upstream is for, and the
 * tunnel it came through (the SNI to reuse towards the same host). Before origin_request(). */
static void prepare_upstream(struct conn *c)
{
	c->purpose = UP_REQUEST;
	c->x.via_host = c->tun_host;
	c->x.via_sni = c->sni[0] ? c->sni : NULL;
}

/* The whole request was read: remember whether the client allows another. */
static void request_ended(struct conn *c)
{
	c->req_keep_alive = http1_keep_alive(c->req);
	origin_request_end(&c->x);
}

/* A request head was parsed (c->x.flow holds it): decide where it goes. */
static void start_request(struct conn *c)
{
	struct flow *f = c->x.flow;
	struct url_authority host = {"", 0};
	int tls = 0;
	char *path = NULL, *authority = NULL;

	c->x.req_done = c->x.resp_started = c->x.resp_final = c->x.local_answer = 0;
	c->x.hold = EXCHANGE_NONE;
	head_deadline(c, 0);
	/* the body must make progress (nginx's client_body_timeout); off once it is read */
	conn_set_client_timeout(c, 1, 0);
	exchange_strip_cookie(&f->request, conn_env(c)->cfg->token_cookie);
	if (!authorized(c))
		return;
	if (strcmp(f->request.method, "CONNECT") == 0) {
		if (c->tun_host)
			return bad_request(c, "CONNECT inside a tunnel");
		if (c->lst->mode == PROXY_REVERSE)
			return bad_request(c, "CONNECT to a reverse proxy");
		return connect_request(c);
	}
	const char *bad = route(c, &host, &tls, &path, &authority);
	if (bad) {
		free(path);
		return bad_request(c, bad);
	}
	if (c->tun_host) {
		/* inside a tunnel the tunnel decides where requests go */
		util_copy(host.host, sizeof host.host, c->tun_host);
		host.port = c->tun_port;
		tls = c->tun_tls;
		if (c->lst->mode == PROXY_TRANSPARENT && !tls)
			transparent_name(c, &host); /* the name, not the address */
	}
	flow_put_str(f, &f->scheme, tls ? "https" : "http");
	flow_put_str(f, &f->host, host.host);
	f->port = (uint16_t)host.port;
	free(f->path);
	f->path = path[0] == '/' || path[0] == '*' ? path : xasprintf("/%s", path);
	if (f->path != path)
		free(path);
	flow_take_client_tls(c);
	if ((!c->tun_host && strcasecmp(host.host, CERT_HOST) == 0) || c->pending_error) {
		free(authority);
		exchange_emit(&c->x, FLOW_EV_BEGIN);
		if (c->pending_error)
			return h1server_send_error(c, 502, "Bad Gateway", c->pending_error);
		return answer_cert(c);
	}
	prepare_upstream(c);
	int r = origin_request(&c->x, authority);
	if (r == ORIGIN_HELD)
		hold_request(c);
	else if (r != ORIGIN_SENT)
		answer_blocked(c, r);
}

/* ---------------------------------------------------------------------------------------- */
/* Reading the client's bytes */

static enum conn_step read_head(struct conn *c)
{
	const char *err = NULL;
	struct evbuffer *in = bufferevent_get_input(c->client);
	struct evbuffer_iovec v;
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return CONN_STEP_DRAINED;
	if (!http1_in_message(c->req))
		c->x.req_start = util_now_us();
	c->events = 0;
	ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
	if (r < 0) {
		bad_request(c, err);
		return CONN_STEP_STOP;
	}
	evbuffer_drain(in, (size_t)r);
	head_deadline(c, http1_in_head(c->req));
	if (c->events & EV_HEAD)
		start_request(c);
	return CONN_STEP_AGAIN;
}

/* The certificate page or a block rule's answer went out with the request: the exchange is
 * over once the request body was swallowed. */
static enum conn_step local_answer_done(struct conn *c)
{
	c->x.flow->t.end = util_now_us();
	exchange_emit(&c->x, FLOW_EV_END);
	if (!c->req_keep_alive) {
		conn_close_after_flush(c, "done");
		return CONN_STEP_STOP;
	}
	c->state = CONN_REQ_HEAD;
	c->x.resp_started = 0;
	return CONN_STEP_AGAIN;
}

void h1server_discard_rest(struct conn *c, unsigned how)
{
	log_debug("%s: answered before the request body was complete: dropping the rest",
		  c->client_addr);
	c->discarding = how & EXCHANGE_END_UNTIL_CLOSE ? DISCARD_CLOSE : DISCARD_KEEP;
	c->state = CONN_EXCHANGE;
	conn_set_client_timeout(c, 1, 0); /* the body must still make progress */
	head_deadline(c, 1);		  /* and end within the timeout */
	conn_want(c, CONN_WANT_CLIENT);
}

/* c->discarding: the rest of the request body is parsed and dropped; at its end the connection
 * waits for the next request, or closes. */
static enum conn_step discard_body(struct conn *c)
{
	const char *err = NULL;
	struct evbuffer *in = bufferevent_get_input(c->client);
	struct evbuffer_iovec v = {NULL, 0};
	evbuffer_peek(in, -1, NULL, &v, 1);
	c->events = 0;
	ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
	if (r < 0) {
		conn_close_after_flush(c, "malformed request body after the answer");
		return CONN_STEP_STOP;
	}
	evbuffer_drain(in, (size_t)r);
	if (!(c->events & EV_END))
		return r == 0 || v.iov_len == 0 ? CONN_STEP_DRAINED : CONN_STEP_AGAIN;
	int keep =
	    c->discarding == DISCARD_KEEP && http1_keep_alive(c->req) && !http1_upgraded(c->req);
	c->discarding = 0;
	head_deadline(c, 0);
	if (!keep) {
		conn_close_after_flush(c, "exchange done");
		return CONN_STEP_STOP;
	}
	c->state = CONN_REQ_HEAD;
	c->x.req_start = 0;
	c->x.resp_started = 0;
	return CONN_STEP_AGAIN;
}

/* CONN_EXCHANGE and CONN_HOLD_REQ: the request body goes raw (still framed) to the exchange
 * (to the upstream, or held whole for the intercept), or is swallowed when the proxy
 * answered. */
static enum conn_step read_body(struct conn *c)
{
	const char *err = NULL;
	struct evbuffer *in = bufferevent_get_input(c->client);
	if (c->discarding)
		return discard_body(c);
	if (c->x.req_done) {
		if (http1_upgraded(c->req) && !c->x.resp_final)
			return CONN_STEP_STOP; /* waiting for 101 before relaying more */
		return CONN_STEP_DRAINED;
	}
	int local = c->x.local_answer; /* answered by us (CA page) */
	if (!local && !origin_room(&c->x)) {
		if (c->up.bev)
			conn_block_on(c->up.bev, &c->blocked_up);
		return CONN_STEP_STOP;
	}
	struct evbuffer_iovec v = {NULL, 0};
	evbuffer_peek(in, -1, NULL, &v, 1);
	c->events = 0;
	ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
	if (r < 0) {
		bad_request(c, err);
		return CONN_STEP_STOP;
	}
	if (local) {
		evbuffer_drain(in, (size_t)r);
		if (c->x.flow)
			c->x.flow->bytes_up += (uint64_t)r;
	} else {
		origin_request_body(&c->x, in, (size_t)r);
	}
	if (c->events & EV_END) {
		if (!local)
			conn_set_client_timeout(c, 0, 0); /* waiting for the answer is fine */
		request_ended(c);
		return local ? local_answer_done(c) : CONN_STEP_AGAIN;
	}
	return r == 0 || v.iov_len == 0 ? CONN_STEP_DRAINED : CONN_STEP_AGAIN;
}

enum conn_step h1server_read(struct conn *c)
{
	switch (c->state) {
	case CONN_REQ_HEAD:
		return read_head(c);
	case CONN_EXCHANGE:
	case CONN_HOLD_REQ:
		return read_body(c);
	default:
		return CONN_STEP_STOP;
	}
}
