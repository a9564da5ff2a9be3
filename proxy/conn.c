/* SPDX-License-Identifier: MIT */
/* conn.c - one client connection of the proxy, and the upstream connections it makes.
 *
 * States (c->state):
 *
 *   REQ_HEAD ──head──► CONNECTING ──upstream ready──► EXCHANGE ──response end──► REQ_HEAD
 *      │                 (DNS, TCP, TLS)               (request body streams up,      │
 *      │                                                response streams down)      close
 *      └─CONNECT─► CONNECTING ──TCP up, "200"──┬─pass──► TUNNEL (raw relay) ──► close
 *                                              └─split─► PEEK_HELLO ──hello──► TLS_UPSTREAM
 *                              ──verified, leaf forged──► TLS_CLIENT ──handshake──► REQ_HEAD
 *   EXCHANGE ──101──► TUNNEL (WebSocket);  any ──fatal──► CLOSING (flush, then free)
 *
 * Bytes are parsed with http1 for framing but relayed as they came: the request head is
 * rebuilt (origin-form target, Proxy-Connection dropped), response heads and all bodies are
 * moved between evbuffers without copying (evbuffer_remove_buffer), and only the stored copy
 * of a body (capped at body_limit) is a copy. Backpressure: a side is not read while the other
 * side's output holds more than HIGH_WATER bytes, and is resumed once it drained to half.
 *
 * Ownership: struct conn owns the client bufferevent (BEV_OPT_CLOSE_ON_FREE, so the fd and SSL
 * go with it), the request parser, the current flow and the upstream connection (upstream.c:
 * dial, TLS, its bufferevent and response parser). Every libevent callback (and every
 * callback of the upstream) brackets its work in
 * enter()/leave(); inner code only calls conn_close(), and leave() is the only caller of
 * conn_free(), so a conn is freed exactly once, never under a callback that still uses it.
 *
 * TLS towards the client: after the CONNECT answer the ClientHello is read from the client
 * bufferevent's input (tls_peek_hello). Then the socket bufferevent is freed, leaving its fd
 * open, and an OpenSSL socket bufferevent takes the fd, its SSL reading first the bytes
 * already read (tls_set_socket). A filter bufferevent over the socket one would need no such
 * hand-over but costs a copy and a layer of callbacks for every byte. */
#include "conn.h"

#include "bevio.h"
#include "flow.h"
#include "http1.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#define HIGH_WATER BEVIO_HIGH_WATER
/* Served at http://flowscope.cert/ through the proxy. */
#define CERT_HOST "flowscope.cert"

enum conn_state {
	CONN_REQ_HEAD,	   /* waiting for (the rest of) a request head */
	CONN_CONNECTING,   /* resolving and connecting upstream for a request or CONNECT */
	CONN_EXCHANGE,	   /* request forwarded (body may still stream), response relayed */
	CONN_PEEK_HELLO,   /* split CONNECT answered: waiting for the whole ClientHello */
	CONN_TLS_UPSTREAM, /* TLS handshake with the upstream before the client's */
	CONN_TLS_CLIENT,   /* TLS handshake with the client, forged leaf */
	CONN_TUNNEL,	   /* raw relay both ways: passed-through CONNECT or WebSocket */
	CONN_CLOSING,	   /* flushing outputs; freed when empty */
	CONN_HOLD_REQ,	   /* intercepted request: reading its whole body before pausing */
	CONN_PAUSED,	   /* a flow paused by the intercept rule (c->paused says which side) */
};

/* What a split CONNECT's client sent first. */
enum { HELLO_TLS = 1, HELLO_PLAIN = 2 };

/* What an intercepted exchange holds (c->hold while buffering, c->paused once paused). */
enum { HOLD_NONE = 0, HOLD_REQ = 1, HOLD_RESP = 2 };

/* Why an upstream connection is being made. */
enum up_purpose {
	UP_REQUEST, /* a request goes to it (TLS as the request's scheme says) */
	UP_PASS,    /* a passed-through CONNECT: raw relay */
	UP_SPLIT,   /* a CONNECT to decrypt: TCP only; TLS once the ClientHello is read */
};

/* Events the parser callbacks report to the pumps. */
enum { EV_HEAD = 1, EV_END = 2 };

struct conn {
	struct conn_worker *w;	      /* borrowed */
	struct conn *prev, *next;     /* in w->conns */
	struct bufferevent *client;   /* owned; a TLS filter over the socket once decrypting */
	struct upstream up;	      /* the upstream connection; owns its bev and parser */
	struct http1 *req;	      /* owned parser: client->proxy */
	struct flow *flow;	      /* owned: the exchange (or tunnel) in progress */
	int begun;		      /* FLOW_EV_BEGIN was emitted for flow */
	int update_due;		 /* response head seen: emit FLOW_EV_UPDATE unless it ends now */
	int shutting_down;	 /* closed by proxy_stop() */
	int local_answer;	 /* the current request is answered by us (CA page) */
	enum up_purpose purpose; /* of the connection being made */
	enum conn_state state;
	const char *close_reason; /* non-NULL once closing was requested */
	unsigned depth;		  /* callbacks of this conn on the stack */
	unsigned events;	  /* EV_* reported by the parser during one feed */
	char client_addr[64];

	/* Where a CONNECT pointed; set for every request inside the tunnel. */
	char *tun_host; /* owned; NULL outside a tunnel */
	int tun_port;
	int tun_split;		  /* 1: decrypting (client side is TLS after the hello) */
	int tun_answered;	  /* split CONNECT: "200" sent (before the upstream is up) */
	int tun_hello;		  /* split CONNECT: 0 waiting, HELLO_TLS or HELLO_PLAIN */
	int tun_tls;		  /* 1: requests in the tunnel are https */
	char sni[256];		  /* from the ClientHello, "" if none */
	char *pending_error;	  /* owned: answer the next request with 502 and this */
	char *client_tls_version; /* owned: version agreed with the client */

	/* The current request's target. */
	char *t_host; /* owned */
	int t_port;
	int t_tls; /* upstream must be TLS */

	/* How the current request uses the upstream connection. */
	int reused;		 /* the current request went on a kept-alive connection */
	int retried;		 /* ... and was already sent again on a new one */
	char *t_authority;	 /* owned: Host for the rebuilt head (absolute-form), or NULL */
	struct evbuffer *head_out; /* owned: rebuilt request head waiting for the upstream */

	/* The exchange. */
	int64_t req_start;	/* first byte of the current request */
	int req_done;		/* the whole request went up */
	int req_keep_alive;	/* the client allows another request after this one */
	int resp_started;	/* response bytes reached the client: no 502 possible */
	/* How the client connection ends (see say_close_notify()): orderly is set when the proxy
	 * closes on purpose, cut_short when a response it relayed was cut short upstream. */
	int orderly, cut_short;
	int resp_final;		/* the final (non-1xx) response head was seen */
	int client_eof;		/* the client closed (its input may still hold bytes) */
	int blocked_up;		/* client->upstream waits for the upstream to drain */
	int blocked_down;	/* upstream->client waits for the client to drain */

	/* Intercept: the message being held, and the paused flow (registered in env->ic). */
	int hold;	       /* HOLD_RESP: the response is read into held, not relayed */
	int paused;	       /* HOLD_REQ or HOLD_RESP while state is CONN_PAUSED */
	uint64_t paused_id;    /* the registered flow id while paused */
	struct evbuffer *held; /* owned: raw (still framed) bytes of the held body */
	char *held_authority;  /* owned: the held request's authority (as t_authority) */
	const char *note;      /* why an intercept did not happen; recorded as the error */
};

static void conn_close(struct conn *c, const char *why)
{
	if (!c->close_reason)
		c->close_reason = why;
}

static void conn_free(struct conn *c);

static void enter(struct conn *c)
{
	c->depth++;
}

static void leave(struct conn *c) /* the only caller of conn_free() */
{
	if (--c->depth == 0 && c->close_reason)
		conn_free(c);
}

static void pump_client(struct conn *c);
static void pump_upstream(struct conn *c);
static void start_connect(struct conn *c);
static void send_error(struct conn *c, int status, const char *reason, const char *msg);
static void connect_established(struct conn *c);
static void request_ended(struct conn *c);
static void response_ended(struct conn *c);
static void check_response_hold(struct conn *c);
static void release_response(struct conn *c);
static void response_complete(struct conn *c);
static int hold_request_body(struct conn *c);

/* ---------------------------------------------------------------------------------------- */
/* Flows */

static const struct conn_env *env(const struct conn *c)
{
	return c->w->env;
}

static void emit(struct conn *c, enum flow_event ev)
{
	const struct flow_sink *s = &env(c)->cfg->sink;
	if (ev == FLOW_EV_END) {
		struct flow *f = c->flow;
		c->flow = NULL;
		c->update_due = 0;
		if (c->note && !f->error)
			f->error = xstrdup(c->note);
		c->note = NULL;
		if (!f->t.end)
			f->t.end = util_now_us();
		if (f->state == FLOW_PENDING)
			f->state = FLOW_DONE;
		if (s->emit)
			s->emit(s->arg, ev, f);
		else
			flow_free(f);
	} else {
		if (ev == FLOW_EV_BEGIN)
			c->begun = 1;
		if (s->emit)
			s->emit(s->arg, ev, flow_dup(c->flow));
	}
}

/* Ends the current flow with an error (no-op without a flow). */
static void fail_flow(struct conn *c, const char *msg)
{
	if (!c->flow)
		return;
	flow_set_error(c->flow, msg);
	if (!c->begun)
		emit(c, FLOW_EV_BEGIN);
	emit(c, FLOW_EV_END);
}

static struct flow *new_flow(struct conn *c)
{
	struct flow *f = flow_new();
	c->begun = 0;
	c->note = NULL;
	f->kind = FLOW_HTTP;
	f->state = FLOW_PENDING;
	memcpy(f->client_addr, c->client_addr, sizeof f->client_addr);
	f->t.start = c->req_start ? c->req_start : util_now_us();
	return f;
}

static void flow_take_client_tls(struct conn *c)
{
	struct flow *f = c->flow;
	if (!c->tun_split || !c->tun_tls)
		return;
	f->flags |= FLOW_F_TLS;
	flow_set_str(&f->tls.sni, c->sni[0] ? c->sni : NULL);
	flow_set_str(&f->tls.client_version, c->client_tls_version);
}

/* ---------------------------------------------------------------------------------------- */
/* Parser callbacks: record into the flow, tell the pumps what happened. */

static void on_req_head(void *arg, struct flow_msg *head)
{
	struct conn *c = arg;
	flow_free(c->flow); /* only a split CONNECT's set-up flow can still be here */
	c->flow = new_flow(c);
	c->flow->request = *head;
	memset(head, 0, sizeof *head);
	c->events |= EV_HEAD;
}

static void on_req_body(void *arg, const char *data, size_t len)
{
	struct conn *c = arg;
	if (c->flow)
		flow_msg_add_body(&c->flow->request, data, len, env(c)->cfg->body_limit);
}

static void on_req_end(void *arg)
{
	struct conn *c = arg;
	c->events |= EV_END;
}

static void on_resp_head(void *arg, struct flow_msg *head)
{
	struct conn *c = arg;
	c->events |= EV_HEAD;
	/* Interim 1xx answers (100 Continue) are relayed but not recorded; 101 is final. */
	if (head->status >= 100 && head->status < 200 && head->status != 101)
		return;
	c->resp_final = 1;
	c->update_due = 1;
	if (c->flow) {
		flow_msg_clear(&c->flow->response);
		c->flow->response = *head;
		memset(head, 0, sizeof *head);
		check_response_hold(c);
	}
}

static void on_resp_body(void *arg, const char *data, size_t len)
{
	struct conn *c = arg;
	if (c->flow)
		flow_msg_add_body(&c->flow->response, data, len, env(c)->cfg->body_limit);
}

static void on_resp_end(void *arg)
{
	struct conn *c = arg;
	c->events |= EV_END;
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers */

static int over(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_output(bev)) >= HIGH_WATER;
}

/* Backpressure: dst is full; resume when its output drained to half (its write callback). */
static void block_on(struct bufferevent *dst, int *flag)
{
	*flag = 1;
	bufferevent_setwatermark(dst, EV_WRITE, HIGH_WATER / 2, 0);
}

/* Read and write timeouts of bev, each either off (0) or the proxy's timeout (non-zero).
 * All connections share one timeout length, so libevent keeps them in a common-timeout queue
 * (O(1) per change) instead of its heap: they change several times per request. */
static void set_timeout(struct conn *c, struct bufferevent *bev, int read_on, int write_on)
{
	const struct timeval *tv = c->w->timeout_tv;
	bufferevent_set_timeouts(bev, read_on ? tv : NULL, write_on ? tv : NULL);
}

void conn_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		port = ntohs(s->sin_port);
		snprintf(out, len, "%s:%d", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		port = ntohs(s->sin6_port);
		snprintf(out, len, "[%s]:%d", ip, port);
	} else {
		snprintf(out, len, "?");
	}
}

static void nodelay(evutil_socket_t fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Escapes s for HTML text and attributes into a new string. */
static char *html_escape(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += strchr("<>&\"'", *p) ? 6 : 1;
	char *out = xmalloc(n + 1), *w = out;
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '<':
			w += sprintf(w, "&lt;");
			break;
		case '>':
			w += sprintf(w, "&gt;");
			break;
		case '&':
			w += sprintf(w, "&amp;");
			break;
		case '"':
			w += sprintf(w, "&quot;");
			break;
		case '\'':
			w += sprintf(w, "&#39;");
			break;
		default:
			*w++ = (unsigned char)*p < 0x20 ? '?' : *p;
		}
	}
	*w = 0;
	return out;
}

/* Splits "host:port" / "[v6]:port" (len bytes) into host (brackets removed) and port.
 * Without a port, *port = default_port (if > 0) else failure. Returns 0 or -1. */
static int split_authority(const char *s, size_t len, int default_port, char *host, size_t hostlen,
			   int *port)
{
	const char *end = s + len, *colon = NULL, *hs = s, *he;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb)
			return -1;
		hs = s + 1;
		he = rb;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		for (const char *q = end; q > s; q--)
			if (q[-1] == ':') {
				colon = q - 1;
				break;
			}
		he = colon ? colon : end;
		if (colon && memchr(s, ':', (size_t)(colon - s)))
			return -1; /* an unbracketed IPv6 literal is ambiguous */
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 || hl >= hostlen)
		return -1;
	for (const char *p = hs; p < he; p++)
		if ((unsigned char)*p <= ' ' || strchr("/?#@\\\"<>'`{}|^%", *p))
			return -1;
	memcpy(host, hs, hl);
	host[hl] = 0;
	if (!colon) {
		if (default_port <= 0)
			return -1;
		*port = default_port;
		return 0;
	}
	const char *ps = colon + 1;
	if (ps == end || end - ps > 5)
		return -1;
	int v = 0;
	for (const char *p = ps; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Answers made by the proxy itself */

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
	if (c->flow)
		c->flow->bytes_down += (uint64_t)(n > 0 ? n : 0) + len;
}

/* Bytes not yet handed to the kernel (or to OpenSSL, which writes to the socket itself). */
static size_t unsent(struct bufferevent *bev)
{
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Starts closing: stop reading; free once both outputs are flushed. */
static void close_after_flush(struct conn *c, const char *why)
{
	c->state = CONN_CLOSING;
	c->orderly = 1;
	if (c->client)
		bufferevent_disable(c->client, EV_READ);
	if (c->up.bev)
		bufferevent_disable(c->up.bev, EV_READ);
	if (!unsent(c->client) && !unsent(c->up.bev)) {
		conn_close(c, why);
		return;
	}
	/* The write callbacks finish the job; a client that stops reading cannot hold us. */
	if (c->client) {
		bufferevent_setwatermark(c->client, EV_WRITE, 0, 0);
		set_timeout(c, c->client, 0, env(c)->timeout_s);
	}
	if (c->up.bev) {
		bufferevent_setwatermark(c->up.bev, EV_WRITE, 0, 0);
		set_timeout(c, c->up.bev, 0, env(c)->timeout_s);
	}
}

/* An error answer (when nothing of a response reached the client yet) and a close. The flow,
 * if any, ends with msg as its error. */
static void send_error(struct conn *c, int status, const char *reason, const char *msg)
{
	if (c->client && !c->resp_started && !c->close_reason) {
		char *esc = html_escape(msg);
		char *page = xasprintf("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
				       "<body><h1>%d %s</h1>\n<p>%s</p>\n<hr><p>flowscope</p>"
				       "</body></html>\n",
				       status, reason, status, reason, esc);
		write_page(c, status, reason, "text/html; charset=utf-8", NULL, page, strlen(page),
			   1);
		free(page);
		free(esc);
		c->resp_started = 1;
	} else if (c->resp_started) {
		c->cut_short = 1; /* a response went out in part: the client must see it cut */
	}
	log_debug("%s: %d %s", c->client_addr, status, msg);
	fail_flow(c, msg);
	close_after_flush(c, msg);
}

static void serve_cert(struct conn *c, const char *path)
{
	size_t len;
	struct certforge *cf = env(c)->cf;
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
	c->flow->response.present = 1;
	c->flow->response.status = 200;
	c->flow->response.version = 11;
	flow_set_str(&c->flow->response.reason, "OK");
}

/* ---------------------------------------------------------------------------------------- */
/* Upstream connections */

static void free_upstream(struct conn *c)
{
	upstream_close(&c->up);
	c->blocked_up = 0;
}

int conn_env_is_self(const struct conn_env *e, const struct sockaddr *sa)
{
	int port = sa->sa_family == AF_INET
		       ? ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port)
		       : ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	if (port != e->proxy_port && !(e->cfg->web_port > 0 && port == e->cfg->web_port))
		return 0;
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
		if ((a >> 24) == 127 || a == 0)
			return 1;
		for (size_t i = 0; i < e->num_local_addrs; i++) {
			const struct sockaddr_in *l = (const void *)&e->local_addrs[i];
			if (l->sin_family == AF_INET && ntohl(l->sin_addr.s_addr) == a)
				return 1;
		}
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			uint32_t v4;
			memcpy(&v4, &a->s6_addr[12], 4);
			v4 = ntohl(v4);
			if ((v4 >> 24) == 127 || v4 == 0)
				return 1;
		}
		for (size_t i = 0; i < e->num_local_addrs; i++) {
			const struct sockaddr_in6 *l = (const void *)&e->local_addrs[i];
			if (l->sin6_family == AF_INET6 && memcmp(&l->sin6_addr, a, sizeof *a) == 0)
				return 1;
		}
	}
	return 0;
}


/* Answers a split CONNECT (once) and reads what the client sends first. */
static void answer_connect(struct conn *c)
{
	if (!c->tun_answered) {
		c->tun_answered = 1;
		evbuffer_add_printf(bufferevent_get_output(c->client),
				    "HTTP/1.1 200 Connection established\r\n\r\n");
		c->state = CONN_PEEK_HELLO;
		set_timeout(c, c->client, env(c)->timeout_s, 0);
	}
	pump_client(c);
}

/* Fails the attempt to reach the upstream: 502 for a request, or for the CONNECT. A CONNECT
 * that was to be decrypted is answered in-band instead, as mitmproxy does: browsers do not
 * show the body of a failed CONNECT, but they show a 502 page sent inside the TLS session
 * (forged for the name asked for) in answer to the first request. */
static void connect_failed(struct conn *c, const char *msg)
{
	free_upstream(c);
	if (c->purpose == UP_SPLIT && c->client &&
	    (c->state == CONN_CONNECTING || c->state == CONN_PEEK_HELLO)) {
		free(c->pending_error);
		c->pending_error = xstrdup(msg);
		answer_connect(c);
		return;
	}
	send_error(c, 502, "Bad Gateway", msg);
}

/* Connects to t_host:t_port (TLS if t_tls): DNS, TCP, then TLS (upstream.c); ends in
 * on_up_ready(). A CONNECT to decrypt stops after TCP: TLS waits for the ClientHello. */
static void start_connect(struct conn *c)
{
	free_upstream(c);
	/* the client's SNI, unless an intercept edit sent the request elsewhere */
	int same = c->tun_host && strcasecmp(c->t_host, c->tun_host) == 0;
	c->state = CONN_CONNECTING;
	upstream_connect(&c->up, c->t_host, c->t_port, c->t_tls, c->sni[0] && same ? c->sni : NULL,
			 c->purpose == UP_SPLIT ? UPSTREAM_TCP_ONLY : 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Requests */

/* Builds the head sent upstream (upstream_write_head): origin-form target, Host from an
 * absolute-form target. */
static void build_head(struct conn *c, const char *path, const char *authority)
{
	if (!c->head_out)
		c->head_out = evbuffer_new();
	upstream_write_head(c->head_out, &c->flow->request, path, authority);
}

static void bad_request(struct conn *c, const char *what)
{
	char *msg = xasprintf("malformed request: %s", what);
	if (!c->flow)
		c->flow = new_flow(c);
	send_error(c, 400, "Bad Request", msg);
	free(msg);
}

static void handle_connect(struct conn *c);
static void forward_request(struct conn *c, char *authority, struct evbuffer *body);
static void answer_blocked(struct conn *c, int status);
static void hold_request(struct conn *c, char *authority);
static void strip_token_cookie(struct flow_msg *m);

/* A request head was parsed (c->flow holds it): decide where it goes. */
static void start_request(struct conn *c)
{
	struct flow *f = c->flow;
	const char *target = f->request.target;
	char host[256];
	int port = 0, tls = 0;
	const char *path;
	char *authority = NULL;

	c->req_done = c->resp_started = c->resp_final = c->local_answer = 0;
	c->hold = HOLD_NONE;
	set_timeout(c, c->client, 0, 0);
	strip_token_cookie(&f->request);
	if (strcmp(f->request.method, "CONNECT") == 0) {
		if (c->tun_host)
			return bad_request(c, "CONNECT inside a tunnel");
		return handle_connect(c);
	}
	if (target[0] == '/' || (target[0] == '*' && target[1] == 0)) {
		/* origin-form: only inside a tunnel, or asking for the CA page */
		const struct flow_header *h = flow_msg_header(&f->request, "Host");
		path = target;
		if (c->tun_host) {
			snprintf(host, sizeof host, "%s", c->tun_host);
			port = c->tun_port;
			tls = c->tun_tls;
		} else if (h &&
			   split_authority(h->value, h->value_len, 80, host, sizeof host, &port) ==
			       0 &&
			   strcasecmp(host, CERT_HOST) == 0) {
			tls = 0;
		} else {
			return bad_request(c, "this is a proxy: the request target must be an "
					      "absolute URL (http://host/path)");
		}
	} else {
		/* absolute-form: scheme://authority[/path] */
		const char *sep = strstr(target, "://");
		if (!sep)
			return bad_request(c,
					   "request target is neither a path nor an absolute URL");
		size_t sl = (size_t)(sep - target);
		if (sl == 4 && strncasecmp(target, "http", 4) == 0)
			tls = 0;
		else if (sl == 5 && strncasecmp(target, "https", 5) == 0)
			tls = 1;
		else
			return bad_request(c, "unsupported URL scheme");
		const char *as = sep + 3, *ae = as + strcspn(as, "/?#");
		if (memchr(as, '@', (size_t)(ae - as)))
			return bad_request(c, "credentials in the request URL");
		if (split_authority(as, (size_t)(ae - as), tls ? 443 : 80, host, sizeof host,
				    &port) != 0)
			return bad_request(c, "bad host or port in the request URL");
		authority = xstrndup(as, (size_t)(ae - as));
		path = *ae == '/' ? ae : NULL;
		if (!path)
			path = *ae == '?' ? ae : "/";
		if (c->tun_host) {
			/* inside a tunnel the tunnel decides where requests go */
			snprintf(host, sizeof host, "%s", c->tun_host);
			port = c->tun_port;
			tls = c->tun_tls;
		}
	}

	flow_set_str(&f->scheme, tls ? "https" : "http");
	flow_set_str(&f->host, host);
	f->port = (uint16_t)port;
	char *p = path[0] == '/' || path[0] == '*' ? xstrdup(path) : xasprintf("/%s", path);
	free(f->path);
	f->path = p;
	flow_take_client_tls(c);
	int cert = !c->tun_host && strcasecmp(host, CERT_HOST) == 0;
	int block = 0, hold = 0;
	if (!cert && !c->pending_error) {
		/* the rule set of this moment decides, even if it changes while the request runs */
		struct rules *r = rules_live_get(env(c)->rules);
		block = rules_block(r, f);
		hold = !block && rules_intercept(r, f);
		rules_unref(r);
	}
	emit(c, FLOW_EV_BEGIN);

	if (cert) {
		free(authority);
		c->resp_started = 1;
		c->local_answer = 1;
		/* The answer is ours: swallow the request body, keep the connection. */
		serve_cert(c, f->path);
		c->state = CONN_EXCHANGE;
		pump_client(c);
		return;
	}
	if (c->pending_error) {
		free(authority);
		return send_error(c, 502, "Bad Gateway", c->pending_error);
	}

	if (block) {
		free(authority);
		return answer_blocked(c, block);
	}
	if (hold)
		return hold_request(c, authority);
	forward_request(c, authority, NULL);
}

/* Sends the current request (c->flow: method, headers, scheme, host, port, path) to its
 * upstream, reusing a kept-alive connection to the same place. authority (owned, may be NULL)
 * replaces the Host header; body (may be NULL) is moved after the head. */
static void forward_request(struct conn *c, char *authority, struct evbuffer *body)
{
	struct flow *f = c->flow;
	const char *host = f->host;
	int port = f->port, tls = f->scheme && strcmp(f->scheme, "https") == 0;
	build_head(c, f->path, authority);
	if (body)
		evbuffer_add_buffer(c->head_out, body);
	free(c->t_authority);
	c->t_authority = authority;
	c->retried = 0;
	http1_set_request_method(c->up.resp, f->request.method);
	free(c->t_host);
	c->t_host = xstrdup(host);
	c->t_port = port;
	c->t_tls = tls;
	c->purpose = UP_REQUEST;
	c->reused = upstream_reusable(&c->up, host, port, tls);
	if (c->reused) {
		connect_established(c); /* reuse the kept-alive connection */
		return;
	}
	start_connect(c);
}

/* The upstream is connected (and TLS is up when wanted): send what waits for it. */
static void connect_established(struct conn *c)
{
	if (c->purpose == UP_PASS) {
		c->flow->t.dns_done = c->up.t.dns_done;
		c->flow->t.connect_done = c->up.t.connect_done;
		memcpy(c->flow->server_addr, c->up.addr, sizeof c->flow->server_addr);
		evbuffer_add_printf(bufferevent_get_output(c->client),
				    "HTTP/1.1 200 Connection established\r\n\r\n");
		c->state = CONN_TUNNEL;
		set_timeout(c, c->client, 0, 0);
		set_timeout(c, c->up.bev, 0, 0);
		bufferevent_enable(c->up.bev, EV_READ | EV_WRITE);
		pump_client(c);
		pump_upstream(c);
		return;
	}
	/* a request: send its head, then the body as it comes */
	upstream_describe(&c->up, c->flow);
	c->state = CONN_EXCHANGE;
	c->flow->bytes_up += evbuffer_get_length(c->head_out);
	bufferevent_write_buffer(c->up.bev, c->head_out);
	set_timeout(c, c->up.bev, env(c)->timeout_s, env(c)->timeout_s);
	bufferevent_enable(c->up.bev, EV_READ | EV_WRITE);
	pump_client(c);
	pump_upstream(c);
}

static void handle_connect(struct conn *c)
{
	struct flow *f = c->flow;
	char host[256];
	int port;
	const char *t = f->request.target;
	if (split_authority(t, strlen(t), 0, host, sizeof host, &port) != 0)
		return bad_request(c, "CONNECT target must be host:port");
	/* the parser reports the end of the CONNECT message and stops: bytes after are the
	 * tunnel's */
	const char *err;
	c->events = 0;
	if (http1_feed(c->req, NULL, 0, &err) < 0)
		return bad_request(c, err);
	c->req_done = 1;
	flow_set_str(&f->host, host);
	f->port = (uint16_t)port;
	free(c->tun_host);
	c->tun_host = xstrdup(host);
	c->tun_port = port;
	int split = 0;
	if (env(c)->cfg->mode == PROXY_MITM) {
		struct rules *r = rules_live_get(env(c)->rules);
		split = rules_should_decrypt(r, host, port);
		rules_unref(r);
	}
	c->tun_split = split;
	c->tun_tls = 0;
	c->purpose = split ? UP_SPLIT : UP_PASS;
	if (!split) {
		f->kind = FLOW_TUNNEL;
		flow_set_str(&f->scheme, "https");
		emit(c, FLOW_EV_BEGIN);
	} else {
		/* Only shown if setting up the interception fails; requests inside get flows. */
		flow_set_str(&f->scheme, "https");
	}
	free(c->t_host);
	c->t_host = xstrdup(host);
	c->t_port = port;
	c->t_tls = 0;
	c->tun_answered = 0;
	c->tun_hello = 0;
	start_connect(c);
	/* A tunnel to decrypt is answered at once, as mitmproxy does: the client's hello is on
	 * its way while the upstream is reached (one round trip saved on a real network). */
	if (split && !c->close_reason && c->state == CONN_CONNECTING)
		answer_connect(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Intercept and block
 *
 * A request that matches the intercept rule is held: its body is read whole into the flow (up
 * to the body limit) without going anywhere, then the flow is paused. A matching response is
 * held the same way before any byte of it reaches the client. Paused, the connection has no
 * timeouts and reads only to notice a client that leaves; intercept.c's jobs resume, edit or
 * kill it (conn_command). A resumed message is sent from the flow, possibly edited, with its
 * body de-chunked and Content-Length recomputed. A body over the limit cannot be held: the
 * message goes on as it came (the raw bytes read so far are in c->held) and the flow records
 * why it was not intercepted. */

/* The web UI's API token cookie: never recorded, never forwarded. */
static const char token_cookie[] = "flowscope_token";

static void header_clear(struct flow_header *h)
{
	free(h->name);
	free(h->value);
}

/* Removes every header named name (case-insensitive) from m. */
static void remove_headers(struct flow_msg *m, const char *name)
{
	size_t j = 0;
	for (size_t i = 0; i < m->num_headers; i++) {
		if (strcasecmp(m->headers[i].name, name) == 0)
			header_clear(&m->headers[i]);
		else
			m->headers[j++] = m->headers[i];
	}
	m->num_headers = j;
}

/* Drops the cookie pair named flowscope_token from each Cookie header of m; a header left
 * empty goes. */
static void strip_token_cookie(struct flow_msg *m)
{
	const size_t tl = sizeof token_cookie - 1;
	for (size_t i = 0; i < m->num_headers; i++) {
		struct flow_header *h = &m->headers[i];
		if (strcasecmp(h->name, "Cookie") != 0 || !strstr(h->value, token_cookie))
			continue;
		char *out = xmalloc(h->value_len + 1);
		size_t n = 0;
		const char *p = h->value, *end = h->value + h->value_len;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *pe = semi ? semi : end;
			const char *s = p, *e = pe;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			const char *eq = memchr(s, '=', (size_t)(e - s));
			const char *ne = eq ? eq : e;
			while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			int drop = (size_t)(ne - s) == tl && memcmp(s, token_cookie, tl) == 0;
			if (!drop && e > s) {
				if (n) {
					memcpy(out + n, "; ", 2);
					n += 2;
				}
				memcpy(out + n, s, (size_t)(e - s));
				n += (size_t)(e - s);
			}
			p = semi ? semi + 1 : end;
		}
		out[n] = 0;
		free(h->value);
		h->value = out;
		h->value_len = n;
	}
	for (size_t i = 0; i < m->num_headers;) {
		struct flow_header *h = &m->headers[i];
		if (strcasecmp(h->name, "Cookie") == 0 && h->value_len == 0) {
			header_clear(h);
			memmove(h, h + 1, (m->num_headers - i - 1) * sizeof *h);
			m->num_headers--;
		} else {
			i++;
		}
	}
}

/* The message is sent whole from m: no Transfer-Encoding, Content-Length = the body. */
static void reframe(struct flow_msg *m)
{
	int framed =
	    flow_msg_header(m, "Content-Length") || flow_msg_header(m, "Transfer-Encoding");
	remove_headers(m, "Transfer-Encoding");
	remove_headers(m, "Content-Length");
	if (framed || m->body.len) {
		char v[32];
		int n = snprintf(v, sizeof v, "%zu", m->body.len);
		flow_msg_add_header(m, "Content-Length", 14, v, (size_t)n);
	}
	m->body_size = m->body.len;
	m->body_truncated = 0;
}

/* 1 when m announces a body larger than what may be held. */
static int too_big(const struct flow_msg *m, size_t limit)
{
	const struct flow_header *h = flow_msg_header(m, "Content-Length");
	return h && strtoull(h->value, NULL, 10) > limit;
}


/* A block rule matched: answer with its status ourselves; the request body is swallowed as
 * for the certificate page, and the flow ends with this response (no upstream). */
static void answer_blocked(struct conn *c, int status)
{
	struct flow *f = c->flow;
	struct flow_msg *m = &f->response;
	rules_block_answer(m, status, env(c)->cfg->body_limit);
	write_page(c, m->status, m->reason, RULES_BLOCK_TYPE, NULL, RULES_BLOCK_BODY,
		   sizeof RULES_BLOCK_BODY - 1, 0);
	log_debug("%s: %s %s://%s:%d%s blocked with %d", c->client_addr, f->request.method,
		  f->scheme, f->host, f->port, f->path, m->status);
	c->resp_started = 1;
	c->local_answer = 1;
	c->state = CONN_EXCHANGE;
	pump_client(c);
}

/* Pauses the current flow; the held side is c->hold (HOLD_REQ or HOLD_RESP). */
static void pause_flow(struct conn *c, int side)
{
	struct flow *f = c->flow;
	c->hold = HOLD_NONE;
	c->paused = side;
	c->paused_id = f->id;
	c->state = CONN_PAUSED;
	f->state = FLOW_PAUSED;
	/* no timeouts while the user thinks; read on only to notice a client that leaves */
	set_timeout(c, c->client, 0, 0);
	bufferevent_enable(c->client, EV_READ);
	if (c->up.bev)
		set_timeout(c, c->up.bev, 0, 0);
	intercept_add(env(c)->ic, f->id, c->w, c);
	log_info("flow %llu paused (%s): %s %s://%s:%d%s", (unsigned long long)f->id,
		 side == HOLD_REQ ? "request" : "response", f->request.method, f->scheme, f->host,
		 f->port, f->path);
	emit(c, FLOW_EV_UPDATE);
}

static void unpause(struct conn *c)
{
	if (!c->paused)
		return;
	intercept_remove(env(c)->ic, c->paused_id);
	c->paused = HOLD_NONE;
	if (c->flow && c->flow->state == FLOW_PAUSED)
		c->flow->state = FLOW_PENDING;
}

/* Starts holding an intercepted request (its head is in c->flow, BEGIN emitted). */
static void hold_request(struct conn *c, char *authority)
{
	if (too_big(&c->flow->request, env(c)->cfg->body_limit)) {
		log_info("flow %llu not intercepted: request body over the body limit",
			 (unsigned long long)c->flow->id);
		c->note = "not intercepted: the request body is larger than the body limit";
		return forward_request(c, authority, NULL);
	}
	free(c->held_authority);
	c->held_authority = authority;
	if (!c->held)
		c->held = evbuffer_new();
	evbuffer_drain(c->held, evbuffer_get_length(c->held));
	c->state = CONN_HOLD_REQ;
	/* A client waiting for 100 Continue gets it from us: the body is needed before the
	 * upstream is asked anything, and the upstream then gets the request without Expect. */
	const struct flow_header *ex = flow_msg_header(&c->flow->request, "Expect");
	if (ex && c->flow->request.version == 11 && strcasecmp(ex->value, "100-continue") == 0) {
		evbuffer_add_printf(bufferevent_get_output(c->client),
				    "HTTP/1.1 100 Continue\r\n\r\n");
		remove_headers(&c->flow->request, "Expect");
	}
	set_timeout(c, c->client, env(c)->timeout_s, 0); /* a stalled body times out */
	pump_client(c);
}

/* CONN_HOLD_REQ: reads request body bytes into the flow. Returns 1 when the state changed
 * (paused, or gave up and forwarded), 0 when it needs more bytes. */
static int hold_request_body(struct conn *c)
{
	const char *err = NULL;
	struct evbuffer *in = bufferevent_get_input(c->client);
	struct evbuffer_iovec v = {NULL, 0};
	evbuffer_peek(in, -1, NULL, &v, 1);
	c->events = 0;
	ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
	if (r < 0) {
		bad_request(c, err);
		return 1;
	}
	evbuffer_remove_buffer(in, c->held, (size_t)r);
	if (c->flow->request.body_truncated) {
		/* over the limit after all (chunked): send what came, as it came */
		log_info("flow %llu not intercepted: request body over the body limit",
			 (unsigned long long)c->flow->id);
		c->note = "not intercepted: the request body is larger than the body limit";
		if (c->events & EV_END)
			request_ended(c);
		char *a = c->held_authority;
		c->held_authority = NULL;
		forward_request(c, a, c->held);
		return 1;
	}
	if (c->events & EV_END) {
		request_ended(c);
		evbuffer_drain(c->held, evbuffer_get_length(c->held));
		pause_flow(c, HOLD_REQ);
		return 1;
	}
	return !(r == 0 || v.iov_len == 0) ? 2 : 0;
}

/* The final response head is in c->flow: hold the response if the intercept rule says so. */
static void check_response_hold(struct conn *c)
{
	struct flow *f = c->flow;
	if (!f || c->local_answer || f->response.status == 101 || f->response.status < 200)
		return;
	struct rules *r = rules_live_get(env(c)->rules);
	int hold = rules_intercept(r, f);
	rules_unref(r);
	if (!hold)
		return;
	if (too_big(&f->response, env(c)->cfg->body_limit)) {
		log_info("flow %llu not intercepted: response body over the body limit",
			 (unsigned long long)f->id);
		c->note = "not intercepted: the response body is larger than the body limit";
		return;
	}
	if (!c->held)
		c->held = evbuffer_new();
	evbuffer_drain(c->held, evbuffer_get_length(c->held));
	c->hold = HOLD_RESP;
}

/* A held response turned out larger than the limit: relay it as it came from here on. */
static void release_response(struct conn *c)
{
	log_info("flow %llu not intercepted: response body over the body limit",
		 (unsigned long long)c->flow->id);
	c->note = "not intercepted: the response body is larger than the body limit";
	c->hold = HOLD_NONE;
	c->resp_started = 1;
	c->flow->bytes_down += evbuffer_get_length(c->held);
	evbuffer_add_buffer(bufferevent_get_output(c->client), c->held);
}

/* The response is complete: pause it if held, else finish as usual. */
static void response_complete(struct conn *c)
{
	if (c->hold == HOLD_RESP) {
		evbuffer_drain(c->held, evbuffer_get_length(c->held));
		pause_flow(c, HOLD_RESP);
		return;
	}
	response_ended(c);
}

static void replace_headers(struct flow_msg *dst, const struct flow_msg *src)
{
	for (size_t i = 0; i < dst->num_headers; i++)
		header_clear(&dst->headers[i]);
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

/* "host", "host:port" or "[v6]:port" for a Host header, the port left out when default. */
static char *make_authority(const char *host, int port, int tls)
{
	int v6 = strchr(host, ':') != NULL;
	if (port == (tls ? 443 : 80))
		return v6 ? xasprintf("[%s]", host) : xstrdup(host);
	return v6 ? xasprintf("[%s]:%d", host, port) : xasprintf("%s:%d", host, port);
}

/* Applies edit to the paused side of the current flow (see proxy_resume in proxy.h and
 * control_edit in web/control.h): strings that are set (not NULL), a non-zero port or status,
 * the headers when it has any, the body exactly when body.data is set (an empty body then
 * empties it). A request target that is an absolute URL sets scheme, host, port and path; a
 * changed scheme, host or port sends the request there with a matching Host header. Returns
 * 0, or -1 with a message in err. */
static int apply_edit(struct conn *c, const struct flow *e, char *err, size_t errlen)
{
	struct flow *f = c->flow;
	if (c->paused == HOLD_RESP) {
		const struct flow_msg *em = &e->response;
		struct flow_msg *m = &f->response;
		if (em->status) {
			if (em->status < 100 || em->status > 999) {
				snprintf(err, errlen, "bad status %d", em->status);
				return -1;
			}
			m->status = em->status;
			if (!em->reason)
				flow_set_str(&m->reason, rules_reason(em->status));
		}
		if (em->reason)
			flow_set_str(&m->reason, em->reason);
		if (em->num_headers)
			replace_headers(m, em);
		if (em->body.data)
			replace_body(m, em);
		return 0;
	}
	const struct flow_msg *em = &e->request;
	struct flow_msg *m = &f->request;
	char host[256];
	int port = f->port, moved = 0;
	char *scheme = NULL, *path = NULL;
	if (em->target && strstr(em->target, "://")) {
		const char *t = em->target, *sep = strstr(t, "://");
		size_t sl = (size_t)(sep - t);
		int tls;
		if (sl == 4 && strncasecmp(t, "http", 4) == 0)
			tls = 0;
		else if (sl == 5 && strncasecmp(t, "https", 5) == 0)
			tls = 1;
		else {
			snprintf(err, errlen, "unsupported URL scheme in %s", t);
			return -1;
		}
		const char *as = sep + 3, *ae = as + strcspn(as, "/?#");
		if (split_authority(as, (size_t)(ae - as), tls ? 443 : 80, host, sizeof host,
				    &port) != 0) {
			snprintf(err, errlen, "bad host or port in %s", t);
			return -1;
		}
		scheme = xstrdup(tls ? "https" : "http");
		path = *ae == '/' ? xstrdup(ae) : xasprintf("/%s", ae);
		moved = 1;
	} else if (em->target && em->target[0]) {
		path = em->target[0] == '/' ? xstrdup(em->target) : xasprintf("/%s", em->target);
	}
	if (!moved) {
		snprintf(host, sizeof host, "%s", e->host ? e->host : f->host);
		if (e->scheme)
			scheme = xstrdup(strcasecmp(e->scheme, "https") == 0 ? "https" : "http");
		if (e->port)
			port = e->port;
		if (e->path && !path)
			path = xstrdup(e->path);
		moved = e->host || e->scheme || e->port;
	}
	if (em->method && !em->method[0]) {
		free(scheme), free(path);
		snprintf(err, errlen, "empty method");
		return -1;
	}
	if (em->method)
		flow_set_str(&m->method, em->method);
	if (scheme) {
		free(f->scheme);
		f->scheme = scheme;
	}
	if (path) {
		free(f->path);
		f->path = path;
		flow_set_str(&m->target, path);
	}
	if (moved) {
		flow_set_str(&f->host, host);
		f->port = (uint16_t)port;
		free(c->held_authority);
		c->held_authority =
		    make_authority(f->host, f->port, strcmp(f->scheme, "https") == 0);
	}
	if (em->num_headers)
		replace_headers(m, em);
	if (em->body.data)
		replace_body(m, em);
	strip_token_cookie(m);
	return 0;
}

static void resume_request(struct conn *c)
{
	struct flow *f = c->flow;
	unpause(c);
	reframe(&f->request);
	evbuffer_drain(c->held, evbuffer_get_length(c->held));
	evbuffer_add(c->held, f->request.body.data, f->request.body.len);
	emit(c, FLOW_EV_UPDATE); /* pending again, as it goes */
	char *a = c->held_authority;
	c->held_authority = NULL;
	forward_request(c, a, c->held);
}

static void resume_response(struct conn *c)
{
	struct flow *f = c->flow;
	struct flow_msg *m = &f->response;
	unpause(c);
	int bodyless = (f->request.method && strcmp(f->request.method, "HEAD") == 0) ||
		       m->status == 204 || m->status == 304;
	if (!bodyless)
		reframe(m);
	struct evbuffer *out = bufferevent_get_output(c->client);
	size_t before = evbuffer_get_length(out);
	evbuffer_add_printf(out, "HTTP/1.%d %d %s\r\n", m->version == 10 ? 0 : 1, m->status,
			    m->reason ? m->reason : "");
	for (size_t i = 0; i < m->num_headers; i++) {
		evbuffer_add(out, m->headers[i].name, m->headers[i].name_len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, m->headers[i].value, m->headers[i].value_len);
		evbuffer_add(out, "\r\n", 2);
	}
	evbuffer_add(out, "\r\n", 2);
	if (!bodyless)
		evbuffer_add(out, m->body.data, m->body.len);
	f->bytes_down += evbuffer_get_length(out) - before;
	c->resp_started = 1;
	c->state = CONN_EXCHANGE;
	if (c->up.bev)
		set_timeout(c, c->up.bev, 0, 0);
	response_ended(c);
}

void conn_command(struct conn *c, enum intercept_cmd cmd, struct flow *edit)
{
	enter(c);
	char err[256];
	if (c->state != CONN_PAUSED || !c->paused || !c->flow || c->close_reason) {
		flow_free(edit);
		leave(c);
		return;
	}
	if (edit && cmd != INTERCEPT_KILL) {
		if (apply_edit(c, edit, err, sizeof err) != 0)
			log_warn("flow %llu: edit refused: %s", (unsigned long long)c->flow->id,
				 err);
		else if (cmd == INTERCEPT_EDIT)
			emit(c, FLOW_EV_UPDATE);
	}
	flow_free(edit);
	if (cmd == INTERCEPT_RESUME) {
		if (c->paused == HOLD_REQ)
			resume_request(c);
		else
			resume_response(c);
	} else if (cmd == INTERCEPT_KILL) {
		unpause(c);
		log_info("flow %llu killed by the user", (unsigned long long)c->flow->id);
		flow_set_error(c->flow, "killed");
		free_upstream(c);
		send_error(c, 502, "Bad Gateway", "killed by the user");
	}
	leave(c);
}

/* ---------------------------------------------------------------------------------------- */
/* TLS interception */

static void on_client_read(struct bufferevent *bev, void *arg);
static void on_client_write(struct bufferevent *bev, void *arg);
static void on_client_event(struct bufferevent *bev, short what, void *arg);

static void client_tls_failed(struct conn *c, SSL *ssl)
{
	if (ssl)
		SSL_free(ssl);
	fail_flow(c, "could not set up TLS towards the client");
	conn_close(c, "client TLS setup failed");
}

/* Upstream TLS is up (or failed with pending_error): forge a leaf and handshake the client. */
static void start_client_tls(struct conn *c)
{
	X509 *peer = NULL;
	if (c->up.bev && !c->pending_error)
		peer = SSL_get1_peer_certificate(bufferevent_openssl_get_ssl(c->up.bev));
	const char *name = c->sni[0] ? c->sni : c->tun_host;
	X509 *leaf = certforge_issue(env(c)->cf, name, peer);
	X509_free(peer);
	if (!leaf) {
		fail_flow(c, "could not forge a certificate");
		conn_close(c, "forging failed");
		return;
	}
	SSL *ssl = tls_client_ssl_new(env(c)->client_ctx, env(c)->cf, leaf);
	X509_free(leaf);
	if (!ssl) {
		client_tls_failed(c, NULL);
		return;
	}
	/* OpenSSL takes the socket itself, reading first the bytes the socket bufferevent
	 * already read (the hello, and anything the client sent after it). */
	evutil_socket_t fd = bufferevent_getfd(c->client);
	struct evbuffer *in = bufferevent_get_input(c->client);
	size_t have = evbuffer_get_length(in);
	/* A client that sent its hello without waiting may not have the CONNECT's answer yet: a
	 * few dozen bytes on a fresh socket, they go out now, before any TLS. */
	struct evbuffer *out = bufferevent_get_output(c->client);
	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
	if (evbuffer_get_length(out) > 0 ||
	    tls_set_socket(ssl, fd, evbuffer_pullup(in, -1), have) != 0) {
		client_tls_failed(c, ssl);
		return;
	}
	bufferevent_setcb(c->client, NULL, NULL, NULL, NULL);
	bufferevent_setfd(c->client, -1); /* the fd is the TLS bufferevent's from here on */
	bufferevent_free(c->client);
	c->client = NULL;
	struct bufferevent *tlsbev =
	    bufferevent_openssl_socket_new(c->w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tlsbev) {
		evutil_closesocket(fd);
		client_tls_failed(c, ssl);
		return;
	}
	c->client = tlsbev;
	bufferevent_openssl_set_allow_dirty_shutdown(tlsbev, 1);
	bufferevent_setcb(tlsbev, on_client_read, on_client_write, on_client_event, c);
	bevio_tune(tlsbev);
	set_timeout(c, tlsbev, env(c)->timeout_s, env(c)->timeout_s);
	bufferevent_enable(tlsbev, EV_READ | EV_WRITE);
	c->state = CONN_TLS_CLIENT;
}

/* Plain HTTP inside the tunnel, as mitmproxy does: on the connected socket if there is one
 * (else the first request connects, and reports the failure). */
static void tunnel_plain(struct conn *c)
{
	c->tun_tls = 0;
	upstream_start_plain(&c->up);
	flow_free(c->flow);
	c->flow = NULL;
	c->state = CONN_REQ_HEAD;
	set_timeout(c, c->client, env(c)->timeout_s, 0);
	http1_reset(c->req);
	c->up.fresh = 1;
}

/* TLS towards the upstream on the connected socket, SNI = the client's (or the host). */
static void start_upstream_tls(struct conn *c)
{
	c->tun_tls = 1;
	c->state = CONN_TLS_UPSTREAM;
	bufferevent_disable(c->client, EV_READ);
	const char *name = c->sni[0] ? c->sni : c->tun_host;
	if (upstream_start_tls(&c->up, name) != 0) {
		fail_flow(c, "could not set up TLS towards the upstream");
		conn_close(c, "upstream TLS setup failed");
	}
}

/* A split CONNECT goes on once both halves are in: what the client sent first (ClientHello or
 * not TLS), and the upstream connection or its failure. They race: the CONNECT is answered
 * before the upstream is reached. */
static void tunnel_go(struct conn *c)
{
	if (!c->tun_hello || !(c->up.connected || c->pending_error))
		return;
	if (c->tun_hello == HELLO_PLAIN)
		tunnel_plain(c);
	else if (c->pending_error)
		start_client_tls(c); /* unreachable upstream: handshake only to tell the client */
	else
		start_upstream_tls(c);
}

/* Reads what the client sent first in a split tunnel: a whole ClientHello, or bytes that
 * are not TLS. */
static void peek_hello(struct conn *c)
{
	if (c->tun_hello) {
		tunnel_go(c);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(c->client);
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return;
	if (len > 65536)
		len = 65536;
	const unsigned char *data = evbuffer_pullup(in, (ev_ssize_t)len);
	struct tls_hello hello;
	int r = tls_peek_hello(data, len, &hello);
	if (r == 0) {
		if (len >= 65536)
			r = -1;
		else
			return; /* more bytes needed */
	}
	if (r < 0) {
		c->tun_hello = HELLO_PLAIN;
	} else {
		c->tun_hello = HELLO_TLS;
		c->tun_tls = 1;
		snprintf(c->sni, sizeof c->sni, "%s", hello.sni);
	}
	/* The client has said its part: from here a slow upstream is the connect timeout's
	 * to report, not the client's read timeout. */
	set_timeout(c, c->client, 0, 0);
	tunnel_go(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Pumps: move bytes while the state allows and the other side has room. */

static void relay_raw(struct conn *c, struct bufferevent *from, struct bufferevent *to,
		      int *blocked, uint64_t *count)
{
	struct evbuffer *in = bufferevent_get_input(from);
	size_t len = evbuffer_get_length(in);
	if (!len)
		return;
	size_t room = HIGH_WATER - evbuffer_get_length(bufferevent_get_output(to));
	if (len > room)
		len = room;
	evbuffer_remove_buffer(in, bufferevent_get_output(to), len);
	*count += len;
	if (over(to))
		block_on(to, blocked);
	(void)c;
}

/* A request ended: remember whether the client allows another. */
static void request_ended(struct conn *c)
{
	c->req_done = 1;
	c->req_keep_alive = http1_keep_alive(c->req);
	if (c->up.bev && evbuffer_get_length(bufferevent_get_output(c->up.bev)) == 0 &&
	    c->flow && !c->flow->t.request_sent)
		c->flow->t.request_sent = util_now_us();
}

static void pump_client(struct conn *c)
{
	const char *err = NULL;
	while (!c->close_reason && c->state != CONN_CLOSING && c->client) {
		struct evbuffer *in = bufferevent_get_input(c->client);
		switch (c->state) {
		case CONN_REQ_HEAD: {
			struct evbuffer_iovec v;
			if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
				goto drained;
			if (!http1_in_message(c->req))
				c->req_start = util_now_us();
			c->events = 0;
			ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
			if (r < 0)
				return bad_request(c, err);
			evbuffer_drain(in, (size_t)r);
			if (c->events & EV_HEAD)
				start_request(c);
			continue;
		}
		case CONN_EXCHANGE: {
			if (c->req_done) {
				if (http1_upgraded(c->req) && !c->resp_final)
					return; /* waiting for 101 before relaying more */
				goto drained;
			}
			int local = c->local_answer; /* answered by us (CA page) */
			if (!local && over(c->up.bev)) {
				block_on(c->up.bev, &c->blocked_up);
				return;
			}
			struct evbuffer_iovec v = {NULL, 0};
			evbuffer_peek(in, -1, NULL, &v, 1);
			c->events = 0;
			ssize_t r = http1_feed(c->req, v.iov_base, v.iov_len, &err);
			if (r < 0)
				return bad_request(c, err);
			if (local)
				evbuffer_drain(in, (size_t)r);
			else
				evbuffer_remove_buffer(in, bufferevent_get_output(c->up.bev),
						       (size_t)r);
			if (c->flow)
				c->flow->bytes_up += (uint64_t)r;
			if (c->events & EV_END) {
				request_ended(c);
				if (local) {
					/* the certificate page: the exchange is over */
					c->flow->t.end = util_now_us();
					emit(c, FLOW_EV_END);
					if (!c->req_keep_alive)
						return close_after_flush(c, "done");
					c->state = CONN_REQ_HEAD;
					c->resp_started = 0;
					continue;
				}
				continue;
			}
			if (r == 0 || v.iov_len == 0)
				goto drained;
			continue;
		}
		case CONN_HOLD_REQ:
			if (!hold_request_body(c))
				goto drained;
			continue;
		case CONN_PAUSED:
			/* nothing is read while paused; a client that left ends the flow */
			if (c->client_eof) {
				fail_flow(c, "client disconnected while paused");
				conn_close(c, "client left while paused");
			}
			return;
		case CONN_PEEK_HELLO:
			peek_hello(c);
			if (c->state == CONN_PEEK_HELLO)
				goto drained;
			continue;
		case CONN_TUNNEL:
			if (!c->up.bev)
				return;
			relay_raw(c, c->client, c->up.bev, &c->blocked_up,
				  c->flow ? &c->flow->bytes_up : &(uint64_t){0});
			if (c->blocked_up)
				return;
			goto drained;
		default:
			return; /* CONNECTING, TLS set-up: bytes wait in the input */
		}
	}
	return;
drained:
	/* The client closed and everything it sent was handled. */
	if (c->client_eof && evbuffer_get_length(bufferevent_get_input(c->client)) == 0) {
		if (c->state == CONN_TUNNEL)
			close_after_flush(c, "client closed the tunnel");
		else if (c->state == CONN_REQ_HEAD || c->state == CONN_PEEK_HELLO)
			close_after_flush(c, "client closed");
		else if ((c->state == CONN_EXCHANGE && !c->req_done) || c->state == CONN_HOLD_REQ) {
			fail_flow(c,
				  "client closed the connection before the request was complete");
			close_after_flush(c, "client closed");
		}
		/* EXCHANGE with the request done: the response still goes out, then close */
	}
}

/* The response is complete: finish the flow and decide what both connections do next. */
static void response_ended(struct conn *c)
{
	int upgraded = http1_upgraded(c->up.resp);
	int up_keep = http1_keep_alive(c->up.resp) && c->req_done && !upgraded;
	if (c->flow && c->flow->t.first_byte == 0)
		c->flow->t.first_byte = util_now_us();
	if (upgraded && c->flow && c->flow->response.status == 101) {
		/* WebSocket (or another protocol): relay raw; the flow ends when it closes. */
		c->flow->flags |= FLOW_F_WEBSOCKET;
		c->state = CONN_TUNNEL;
		set_timeout(c, c->client, 0, 0);
		set_timeout(c, c->up.bev, 0, 0);
		pump_client(c);
		pump_upstream(c);
		return;
	}
	if (c->flow)
		emit(c, FLOW_EV_END);
	if (http1_upgraded(c->req))
		http1_reset(c->req); /* the upgrade was refused: HTTP goes on */
	int client_keep =
	    c->req_done && c->req_keep_alive && !http1_body_until_close(c->up.resp) && !c->client_eof;
	if (!up_keep)
		free_upstream(c);
	if (!client_keep) {
		if (!c->req_done)
			log_debug("%s: response ended before the request", c->client_addr);
		close_after_flush(c, "exchange done");
		return;
	}
	c->state = CONN_REQ_HEAD;
	c->req_start = 0;
	set_timeout(c, c->client, env(c)->timeout_s, 0);
	if (c->up.bev)
		set_timeout(c, c->up.bev, 0, 0); /* idle keep-alive upstream: no read timeout */
	pump_client(c);
}

/* The upstream closed (and its input is consumed). */
static void upstream_closed(struct conn *c, const char *why)
{
	const char *err = NULL;
	if (c->state == CONN_TUNNEL) {
		close_after_flush(c, "upstream closed the tunnel");
		return;
	}
	if (c->state != CONN_EXCHANGE) {
		/* an idle keep-alive connection went away */
		free_upstream(c);
		return;
	}
	if (http1_in_message(c->up.resp) && c->resp_final && http1_finish(c->up.resp, &err) == 0) {
		/* a body that runs until close just ended */
		c->events = 0;
		response_complete(c);
		return;
	}
	const char *m = c->flow ? c->flow->request.method : "";
	if (c->reused && !c->retried && !c->resp_started && !http1_in_message(c->up.resp) &&
	    c->req_done && c->flow && c->flow->request.body_size == 0 &&
	    (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0)) {
		/* The server closed a kept-alive connection just as we sent on it (its idle
		 * timeout): send the request again, once, on a new connection, as browsers do. */
		log_debug("%s: %s:%d closed a kept-alive connection; retrying", c->client_addr,
			  c->up.host, c->up.port);
		c->retried = 1;
		c->reused = 0;
		free_upstream(c);
		evbuffer_drain(c->head_out, evbuffer_get_length(c->head_out));
		build_head(c, c->flow->path, c->t_authority);
		c->flow->bytes_up = 0;
		start_connect(c);
		return;
	}
	char *msg;
	if (!c->resp_final)
		msg = xasprintf("%s:%d closed the connection without answering%s%s", c->up.host,
				c->up.port, why ? ": " : "", why ? why : "");
	else
		msg = xasprintf("%s:%d closed the connection in the middle of the response "
				"body%s%s",
				c->up.host, c->up.port, why ? ": " : "", why ? why : "");
	free_upstream(c);
	send_error(c, 502, "Bad Gateway", msg); /* after response bytes: only closes */
	free(msg);
}

static void pump_response(struct conn *c);

/* Relays what the upstream sent. When a response head arrived but the response goes on (a
 * long body, a WebSocket), the store hears of the head now (FLOW_EV_UPDATE); short responses
 * end within the same call and cost no extra event. */
static void pump_upstream(struct conn *c)
{
	pump_response(c);
	if (c->update_due && c->flow && !c->close_reason &&
	    (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL)) {
		c->update_due = 0;
		emit(c, FLOW_EV_UPDATE);
	}
}

static void pump_response(struct conn *c)
{
	const char *err = NULL;
	while (!c->close_reason && c->state != CONN_CLOSING && c->up.bev) {
		struct evbuffer *in = bufferevent_get_input(c->up.bev);
		if (c->state == CONN_TUNNEL) {
			relay_raw(c, c->up.bev, c->client, &c->blocked_down,
				  c->flow ? &c->flow->bytes_down : &(uint64_t){0});
			if (c->blocked_down)
				return;
			break;
		}
		if (c->state != CONN_EXCHANGE) {
			if (c->state == CONN_REQ_HEAD && evbuffer_get_length(in)) {
				/* bytes from an idle upstream: it is not speaking HTTP to us */
				free_upstream(c);
				return;
			}
			break;
		}
		if (!c->hold && over(c->client)) {
			block_on(c->client, &c->blocked_down);
			return;
		}
		size_t avail;
		int64_t no_flow = 1; /* (no first byte to record) */
		c->events = 0;
		ssize_t r = upstream_feed(&c->up, c->flow ? &c->flow->t.first_byte : &no_flow,
					  &avail, &err);
		if (r < 0) {
			char *msg = xasprintf("invalid response from %s:%d: %s", c->up.host,
					      c->up.port, err);
			free_upstream(c);
			send_error(c, 502, "Bad Gateway", msg);
			free(msg);
			return;
		}
		if (r && c->hold == HOLD_RESP) {
			/* an intercepted response: kept until resumed (or found too large) */
			evbuffer_remove_buffer(in, c->held, (size_t)r);
			if (c->flow->response.body_truncated)
				release_response(c);
		} else if (r) {
			evbuffer_remove_buffer(in, bufferevent_get_output(c->client), (size_t)r);
			c->resp_started = 1;
			if (c->flow)
				c->flow->bytes_down += (uint64_t)r;
		}
		if (c->events & EV_END) {
			if (!c->resp_final)
				continue; /* an interim 1xx: the real response follows */
			response_complete(c);
			return;
		}
		if (r == 0 || avail == 0)
			break;
	}
	if (c->up.bev && c->up.eof && !c->close_reason &&
	    evbuffer_get_length(bufferevent_get_input(c->up.bev)) == 0)
		upstream_closed(c, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* libevent callbacks: each one enters, works, and leaves (which may free). */

static void on_client_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	enter(c);
	bevio_fill_input(bev);
	pump_client(c);
	leave(c);
}

static void on_up_read(void *arg)
{
	struct conn *c = arg;
	enter(c);
	pump_upstream(c);
	leave(c);
}

/* Output drained: finish a close, or resume the side that waited for room. */
static void on_write(struct conn *c, struct bufferevent *bev)
{
	if (c->state == CONN_CLOSING) {
		if (!unsent(c->client) && !unsent(c->up.bev))
			conn_close(c, "flushed");
		return;
	}
	if (bev == c->up.bev) {
		if (c->req_done && c->flow && !c->flow->t.request_sent)
			c->flow->t.request_sent = util_now_us();
		if (c->blocked_up) {
			c->blocked_up = 0;
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
			pump_client(c);
		}
	} else if (c->blocked_down) {
		c->blocked_down = 0;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		pump_upstream(c);
	}
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	enter(c);
	on_write(c, bev);
	leave(c);
}

static void on_up_write(void *arg)
{
	struct conn *c = arg;
	enter(c);
	on_write(c, c->up.bev);
	leave(c);
}

static const char *ssl_err(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (!ssl)
		return NULL;
	unsigned long e = bufferevent_get_openssl_error(bev);
	return tls_error_text_err(ssl, e, buf, len);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char buf[256];
	enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		/* the TLS handshake with the client is done */
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		flow_set_str(&c->client_tls_version, ssl ? SSL_get_version(ssl) : NULL);
		flow_free(c->flow); /* the CONNECT's set-up flow: not shown when all went well */
		c->flow = NULL;
		http1_reset(c->req);
		c->state = CONN_REQ_HEAD;
		set_timeout(c, bev, env(c)->timeout_s, 0);
		pump_client(c);
	} else if (what & BEV_EVENT_ERROR) {
		/* checked before EOF: a reset often comes as EOF|ERROR at once */
		const char *why =
		    c->state == CONN_TLS_CLIENT ? ssl_err(bev, buf, sizeof buf) : NULL;
		char *msg;
		if (c->state == CONN_TLS_CLIENT)
			msg = xasprintf("client TLS handshake failed: %s (the client probably does "
					"not trust the flowscope CA)",
					why ? why : "error");
		else if (c->state == CONN_PAUSED)
			msg = xstrdup("client disconnected while paused");
		else
			msg = xasprintf("client connection error: %s",
					why ? why
					    : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		fail_flow(c, msg);
		free(msg);
		conn_close(c, "client error");
	} else if (what & BEV_EVENT_EOF) {
		c->client_eof = 1;
		if (c->state == CONN_TLS_CLIENT) {
			fail_flow(c, "client closed the connection during the TLS handshake "
				     "(it probably does not trust the flowscope CA)");
			conn_close(c, "client left");
		} else if (c->state == CONN_CLOSING) {
			conn_close(c, "client left");
		} else if (c->state == CONN_EXCHANGE && c->req_done &&
			   bufferevent_openssl_get_ssl(bev)) {
			/* A plain client may half-close after its request and still read the
			 * answer; a TLS client that closes is gone. */
			fail_flow(c, "client closed the connection before the response was "
				     "complete");
			conn_close(c, "client left");
		} else {
			pump_client(c);
		}
	} else if (what & BEV_EVENT_TIMEOUT) {
		if (c->state == CONN_REQ_HEAD && !http1_in_message(c->req)) {
			c->orderly = 1;
			conn_close(c, "idle timeout");
		} else if (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL) {
			bufferevent_enable(bev, EV_READ); /* waiting on the upstream is fine */
		} else {
			char *msg = xasprintf("client timed out (%d s)", env(c)->timeout_s);
			fail_flow(c, msg);
			free(msg);
			conn_close(c, "client timeout");
		}
	}
	leave(c);
}

/* The upstream connection is up (TCP only for a CONNECT to decrypt), or could not be made. */
static void on_up_ready(void *arg, enum upstream_status st, const char *err)
{
	struct conn *c = arg;
	enter(c);
	if (st == UPSTREAM_OK) {
		if (c->state == CONN_TLS_UPSTREAM)
			start_client_tls(c);
		else if (c->purpose == UP_SPLIT)
			answer_connect(c); /* TCP is up; TLS starts once the ClientHello gave the SNI */
		else
			connect_established(c);
	} else if (st == UPSTREAM_SELF) {
		char *msg = xasprintf("refusing to proxy a request to %s:%d: that is "
				      "flowscope itself (its proxy or web address)",
				      c->up.host, c->up.port);
		free_upstream(c);
		if (c->tun_answered)
			connect_failed(c, msg); /* the CONNECT is answered already: say it in-band */
		else
			send_error(c, 403, "Forbidden", msg);
		free(msg);
	} else if (c->state == CONN_TLS_UPSTREAM) {
		/* Tell the client over TLS: forge for the name it asked for, then answer its first
		 * request with this error. */
		free(c->pending_error);
		c->pending_error = xstrdup(err);
		free_upstream(c);
		start_client_tls(c);
	} else {
		connect_failed(c, err);
	}
	leave(c);
}

/* The connected upstream closed, failed or timed out. */
static void on_up_event(void *arg, short what, const char *why)
{
	struct conn *c = arg;
	enter(c);
	if ((what & BEV_EVENT_TIMEOUT) && c->state == CONN_EXCHANGE && !c->req_done &&
	    (what & BEV_EVENT_READING)) {
		bufferevent_enable(c->up.bev, EV_READ); /* still uploading: no answer expected */
	} else if (what & BEV_EVENT_TIMEOUT) {
		char *msg = xasprintf("%s:%d did not answer within %d s", c->up.host, c->up.port,
				      env(c)->timeout_s);
		if (c->state == CONN_EXCHANGE) {
			free_upstream(c);
			send_error(c, 502, "Bad Gateway", msg);
		} else if (c->state == CONN_TUNNEL) {
			bufferevent_enable(c->up.bev, EV_READ);
		} else {
			free_upstream(c);
		}
		free(msg);
	} else if (what & BEV_EVENT_ERROR) {
		/* buffered input is still relayed; then the close counts as an error */
		if (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL)
			pump_upstream(c);
		if (c->up.bev && !c->close_reason)
			upstream_closed(c, why);
	} else {
		pump_upstream(c);
	}
	leave(c);
}

static const struct upstream_ops up_ops = {on_up_ready, on_up_read, on_up_write, on_up_event};

/* ---------------------------------------------------------------------------------------- */
/* Lifetime */

/* Ends the client's TLS session with a close_notify when the proxy closes on purpose. A body
 * that runs until the connection closes is complete only with one: strict clients (OpenSSL
 * 3's default, Python's without suppress_ragged_eofs) report an end without it as an error.
 * After a response was cut short upstream it is left out, so that the client sees the cut.
 * Never waits for the client's reply. */
static void say_close_notify(struct conn *c)
{
	SSL *ssl = c->client ? bufferevent_openssl_get_ssl(c->client) : NULL;
	if (!ssl || !c->orderly || c->cut_short || !SSL_is_init_finished(ssl))
		return;
	SSL_shutdown(ssl); /* non-blocking socket: sent now or not at all */
	ERR_clear_error();
}

static void conn_free(struct conn *c)
{
	unpause(c);
	if (c->flow) {
		if ((c->flow->kind == FLOW_TUNNEL || (c->flow->flags & FLOW_F_WEBSOCKET)) &&
		    !c->shutting_down && c->begun)
			emit(c, FLOW_EV_END); /* a tunnel's normal end */
		else
			fail_flow(c, c->pending_error ? c->pending_error : c->close_reason);
	}
	free_upstream(c);
	say_close_notify(c);
	if (c->client)
		bufferevent_free(c->client);
	http1_free(c->req);
	upstream_clear(&c->up);
	if (c->head_out)
		evbuffer_free(c->head_out);
	if (c->held)
		evbuffer_free(c->held);
	free(c->held_authority);
	free(c->tun_host);
	free(c->t_host);
	free(c->t_authority);
	free(c->pending_error);
	free(c->client_tls_version);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

void conn_accept(struct conn_worker *w, evutil_socket_t fd, const struct sockaddr *addr,
		 int addrlen)
{
	(void)addrlen;
	struct conn *c = xcalloc(1, sizeof *c);
	c->w = w;
	conn_addr_text(addr, c->client_addr, sizeof c->client_addr);
	nodelay(fd);
	c->client =
	    bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->client) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	struct http1_sink rs = {on_req_head, on_req_body, on_req_end, c};
	struct http1_sink ps = {on_resp_head, on_resp_body, on_resp_end, c};
	c->req = http1_new(HTTP1_REQUEST, &rs);
	upstream_init(&c->up, w, &up_ops, &ps, c);
	c->state = CONN_REQ_HEAD;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	bufferevent_setcb(c->client, on_client_read, on_client_write, on_client_event, c);
	bevio_tune(c->client);
	set_timeout(c, c->client, w->env->timeout_s, 0);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
}

void conn_close_all(struct conn_worker *w, const char *why)
{
	while (w->conns) {
		struct conn *c = w->conns;
		c->close_reason = why;
		c->shutting_down = 1;
		if (c->depth == 0)
			conn_free(c);
		else
			break; /* cannot happen from the stop event; avoid looping */
	}
}
