/* SPDX-License-Identifier: MIT */
/* dial.c - resolve, then connect to each address in turn (see dial.h).
 *
 * Lifetime: a dial lives until its callback has run or it is cancelled. A pending DNS lookup
 * is the one thing that may outlive it: libevent calls the lookup's callback even after a
 * cancel, so the lookup holds a small struct lookup that the dial lets go of (lookup->d =
 * NULL) and the callback frees.
 *
 * Through an upstream proxy (dial_start_via) the dial reaches the proxy, writes a CONNECT and
 * reads its answer head with MSG_PEEK first, then only the head's bytes: what follows is the
 * tunnel's (the origin's TLS or HTTP), left in the socket for the callee. */
#include "dial.h"

#include "proxyauth.h"
#include "url.h"

#include "env.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

struct lookup {
	struct dial *d; /* NULL once the dial is gone: the callback then only frees this */
};

struct dial {
	struct env_worker *w; /* borrowed */
	char *host;	      /* owned */
	uint16_t port;
	dial_fn fn;
	void *arg;
	struct lookup *lookup;			   /* owned until its callback; NULL if none */
	struct evdns_getaddrinfo_request *dns_req; /* valid while lookup is pending */
	struct evutil_addrinfo *ai, *ai_next;	   /* owned: resolved addresses; next to try */
	struct event *ev;			   /* owned: connect completion / timeout */
	int starting;				   /* inside dial_start() */
	int ended;				   /* the result is known (r, err) */
	struct dial_result r;
	char err[256];
	char connect_err[160]; /* the last connect failure */
	char *target;	       /* owned: dial_start_via()'s "host:port" to CONNECT to; or NULL */
	char *auth;	       /* owned: its Proxy-Authorization value, or NULL */
	int via;	       /* dial_start_via(): host:port is the upstream proxy */
};

static void dial_free(struct dial *d)
{
	if (d->lookup) {
		d->lookup->d = NULL; /* the callback frees it */
		if (d->dns_req)
			evdns_getaddrinfo_cancel(d->dns_req);
	}
	if (d->ev)
		event_free(d->ev);
	if (d->r.fd >= 0)
		evutil_closesocket(d->r.fd);
	if (d->ai)
		evutil_freeaddrinfo(d->ai);
	free(d->host);
	free(d->target);
	free(d->auth);
	free(d);
}

void dial_cancel(struct dial *d)
{
	if (d)
		dial_free(d);
}

/* Hands the result over and frees the dial (the socket, if any, is the callee's now). */
static void report(struct dial *d)
{
	struct dial_result r = d->r;
	char err[sizeof d->err];
	memcpy(err, d->err, sizeof err);
	r.err = r.status == DIAL_FAILED ? err : NULL;
	d->r.fd = -1;
	dial_fn fn = d->fn;
	void *arg = d->arg;
	dial_free(d);
	fn(arg, &r);
}

/* Ends the dial with status. Inside dial_start() the report waits for dial_start() to
 * finish (see there), so that nothing of the dial is touched after it is freed. */
static void end(struct dial *d, enum dial_status status)
{
	d->r.status = status;
	d->ended = 1;
	if (!d->starting)
		report(d);
}

static void dns_failed(struct dial *d, const char *why)
{
	snprintf(d->err, sizeof d->err, "DNS lookup of %s failed: %s", d->host, why);
	end(d, DIAL_FAILED);
}

static void connect_next(struct dial *d);
static void send_connect(struct dial *d);

static void on_connect_done(evutil_socket_t fd, short what, void *arg)
{
	struct dial *d = arg;
	int err = 0;
	socklen_t len = sizeof err;
	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	event_free(d->ev);
	d->ev = NULL;
	if (err) {
		snprintf(d->connect_err, sizeof d->connect_err, "%s", strerror(err));
		evutil_closesocket(d->r.fd);
		d->r.fd = -1;
		connect_next(d);
		return;
	}
	d->r.connect_done = util_now_us();
	if (d->target)
		send_connect(d);
	else
		end(d, DIAL_CONNECTED);
}

static void via_failed(struct dial *d, const char *why, int len)
{
	snprintf(d->err, sizeof d->err, "upstream proxy %s:%d refused CONNECT %s: %.*s", d->host,
		 d->port, d->target, len, why);
	end(d, DIAL_FAILED);
}

/* The upstream proxy's answer to the CONNECT: a head, 2xx or a refusal. */
static void on_connect_answer(evutil_socket_t fd, short what, void *arg)
{
	struct dial *d = arg;
	char buf[4096];
	if (what & EV_TIMEOUT)
		return via_failed(d, "no answer", 9);
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_PEEK);
	if (n <= 0)
		return via_failed(d, n == 0 ? "closed" : strerror(errno), -1);
	buf[n] = 0;
	char *eoh = strstr(buf, "\r\n\r\n");
	if (!eoh) {
		if (n == (ssize_t)sizeof buf - 1 || memchr(buf, 0, (size_t)n))
			return via_failed(d, "answer head too long", -1);
		event_add(d->ev, d->w->timeout_tv);
		return;
	}
	size_t headlen = (size_t)(eoh + 4 - buf);
	if (recv(fd, buf, headlen, 0) != (ssize_t)headlen)
		return via_failed(d, "answer lost", -1);
	size_t line = strcspn(buf, "\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || line < 12 || buf[9] != '2')
		return via_failed(d, buf, line > 200 ? 200 : (int)line);
	event_free(d->ev);
	d->ev = NULL;
	end(d, DIAL_CONNECTED);
}

/* TCP to the upstream proxy is up: ask it for the tunnel. */
static void send_connect(struct dial *d)
{
	char *req = xasprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", d->target, d->target,
			      d->auth ? "Proxy-Authorization: " : "", d->auth ? d->auth : "",
			      d->auth ? "\r\n" : "");
	size_t len = strlen(req);
	ssize_t n = send(d->r.fd, req, len, MSG_NOSIGNAL);
	free(req);
	if (n != (ssize_t)len) { /* a fresh socket takes a few hundred bytes at once */
		snprintf(d->err, sizeof d->err, "upstream proxy %s:%d: sending CONNECT failed",
			 d->host, d->port);
		end(d, DIAL_FAILED);
		return;
	}
	d->ev = event_new(d->w->base, d->r.fd, EV_READ, on_connect_answer, d);
	event_add(d->ev, d->w->timeout_tv);
}

/* Starts a connect to the next usable address; ends the dial when none is left. */
static void connect_next(struct dial *d)
{
	while (d->ai_next) {
		struct evutil_addrinfo *ai = d->ai_next;
		d->ai_next = ai->ai_next;
		if (ai->ai_family == AF_INET)
			((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = htons(d->port);
		else if (ai->ai_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port = htons(d->port);
		else
			continue;
		if (env_is_self(d->w->env, ai->ai_addr)) {
			end(d, DIAL_SELF);
			return;
		}
		env_addr_text(ai->ai_addr, d->r.addr, sizeof d->r.addr);
		evutil_socket_t fd =
		    socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(d->connect_err, sizeof d->connect_err, "%s", strerror(errno));
			continue;
		}
		int one = 1; /* requests and small answers go out at once, as curl's do */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			snprintf(d->connect_err, sizeof d->connect_err, "%s", strerror(errno));
			evutil_closesocket(fd);
			continue;
		}
		d->r.fd = fd;
		d->ev = event_new(d->w->base, fd, EV_WRITE, on_connect_done, d);
		event_add(d->ev, d->w->timeout_tv);
		return;
	}
	snprintf(d->err, sizeof d->err, "connection to %s%s:%d failed: %s",
		 d->via ? "upstream proxy " : "", d->host, d->port,
		 d->connect_err[0] ? d->connect_err : "no usable address");
	end(d, DIAL_FAILED);
}

static void resolved(struct dial *d, int err, struct evutil_addrinfo *res)
{
	if (err) {
		if (res)
			evutil_freeaddrinfo(res);
		dns_failed(d, evutil_gai_strerror(err));
		return;
	}
	d->r.dns_done = util_now_us();
	d->ai = d->ai_next = res;
	connect_next(d);
}

static void on_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct lookup *l = arg;
	struct dial *d = l->d;
	free(l);
	if (!d) {
		if (res)
			evutil_freeaddrinfo(res);
		return;
	}
	d->lookup = NULL;
	d->dns_req = NULL;
	resolved(d, err, res);
}

/* RFC 6761: names under .invalid never resolve; localhost and *.localhost are the loopback
 * (as curl and browsers do: /etc/hosts rarely lists the subdomains). */
static int is_suffix(const char *host, const char *label)
{
	size_t hl = strlen(host), ll = strlen(label);
	return strcasecmp(host, label) == 0 ||
	       (hl > ll && host[hl - ll - 1] == '.' && strcasecmp(host + hl - ll, label) == 0);
}

/* Resolves (the lookup may answer at once: IP literals, /etc/hosts) and connects. */
static void start(struct dial *d)
{
	if (is_suffix(d->host, "invalid")) {
		dns_failed(d, "name does not exist (.invalid)");
		return;
	}
	struct evutil_addrinfo hints = {0};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (is_suffix(d->host, "localhost")) {
		struct evutil_addrinfo *res = NULL;
		hints.ai_flags = EVUTIL_AI_NUMERICHOST;
		if (evutil_getaddrinfo("127.0.0.1", NULL, &hints, &res) == 0 && res) {
			resolved(d, 0, res);
			return;
		}
	}
	struct lookup *l = xcalloc(1, sizeof *l);
	l->d = d;
	d->lookup = l;
	struct evdns_getaddrinfo_request *req =
	    evdns_getaddrinfo(d->w->dns, d->host, NULL, &hints, on_resolved, l);
	if (d->lookup == l) /* its callback has not run already */
		d->dns_req = req;
}

static struct dial *begin(struct env_worker *w, const char *host, uint16_t port, dial_fn fn,
			  void *arg, struct dial *d)
{
	d->w = w;
	d->host = xstrdup(host);
	d->port = port;
	d->fn = fn;
	d->arg = arg;
	d->r.fd = -1;
	d->starting = 1;
	start(d);
	d->starting = 0;
	if (d->ended) { /* known at once: .invalid, flowscope itself, nothing to connect to */
		report(d);
		return NULL;
	}
	return d;
}

struct dial *dial_start(struct env_worker *w, const char *host, uint16_t port, dial_fn fn,
			void *arg)
{
	return begin(w, host, port, fn, arg, xcalloc(1, sizeof(struct dial)));
}

struct dial *dial_start_via(struct env_worker *w, const struct dial_via *via, const char *host,
			    uint16_t port, dial_fn fn, void *arg)
{
	struct dial *d = xcalloc(1, sizeof *d);
	d->via = 1;
	if (host) {
		char target[300];
		url_format_authority(target, sizeof target, host, port, -1);
		d->target = xstrdup(target);
		d->auth = via->auth ? proxyauth_basic(via->auth) : NULL;
	}
	return begin(w, via->host, (uint16_t)via->port, fn, arg, d);
}
