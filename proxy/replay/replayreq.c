/* SPDX-License-Identifier: MIT */
/* replayreq.c - the request a replay sends (replay.c's first step, on the web thread): the
 * recorded request is checked (scheme, host, path, method, a body cut at the limit, header
 * syntax) and rebuilt as it goes out: one Host naming the target, one Content-Length for the
 * body sent whole where the old framing header was, no Proxy-Connection; to a plain-HTTP
 * upstream proxy in absolute-form with its credentials, as proxied requests go (origin.c).
 * The result is the replay's new flow (its request) and the wire bytes to send.
 *
 * Trailers go again as they went the first time: over HTTP/1.1 the request is sent chunked
 * (Transfer-Encoding: chunked where the old framing header was), its body one chunk and the
 * trailers in the last one; over h2 (h2once.c) in a trailing HEADERS frame, from the new flow's
 * request (h2once.c then drops Transfer-Encoding and the other headers of one HTTP/1.1 connection,
 * from the wire and from the record). Where they cannot go (wire_sends_trailers(): an HTTP/1.0
 * request has no chunked coding; an edit whose headers give a Content-Length and no
 * Transfer-Encoding asked for a body of that length), the body goes whole without them, rather
 * than the replay failing: the API has no way to remove trailers, so an error would leave the user
 * no way to send that request at all. The new flow then records no trailers, as it records what
 * was sent. */
#include "replayreq.h"

#include "flow.h"
#include "proxyauth.h"
#include "url.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether a Host value names host:port already (name case-insensitive, port defaulted). */
static int host_matches(const char *v, size_t len, const char *host, int port, int defport)
{
	struct url_authority a;
	const char *why;
	return url_split_authority(v, len, defport, 0, &a, &why) == 0 && a.port == port &&
	       strcasecmp(a.host, host) == 0;
}

/* Where req goes: fills host (bare: a stored "[v6]" loses its brackets), *port and *tls.
 * Returns 0, or -1 with err. */
static int check_target(const struct flow *req, char *host, size_t hostlen, int *port, int *tls,
			char *err, size_t errlen)
{
	const char *scheme = req->scheme ? req->scheme : "http";
	if (strcasecmp(scheme, "http") == 0) {
		*tls = 0;
	} else if (strcasecmp(scheme, "https") == 0) {
		*tls = 1;
	} else {
		snprintf(err, errlen, "cannot replay a request with scheme \"%s\"", scheme);
		return -1;
	}
	const char *h = req->host ? req->host : "";
	size_t hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(hl - 2), h + 1);
	else
		snprintf(host, hostlen, "%s", h);
	*port = req->port ? req->port : *tls ? 443 : 80;
	if (hl > URL_HOST_MAX + 2 || !url_host_ok(host, strlen(host))) {
		snprintf(err, errlen, "cannot replay: bad or missing host");
		return -1;
	}
	return 0;
}

/* What cannot be sent as it is: the path, the method, a cut body, the headers. Returns 0, or
 * -1 with err. */
static int check_message(const struct flow_msg *m, const char *path, const char *method, char *err,
			 size_t errlen)
{
	size_t bad;
	if (path[0] != '/' && strcmp(path, "*") != 0) {
		snprintf(err, errlen, "cannot replay: the path must start with /");
		return -1;
	}
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			snprintf(err, errlen,
				 "cannot replay: the path holds a space or a control "
				 "character");
			return -1;
		}
	if (!wire_is_token(method, strlen(method)) || strcasecmp(method, "CONNECT") == 0) {
		snprintf(err, errlen, "cannot replay: bad method");
		return -1;
	}
	if (m->body_truncated && m->body_size > m->body.len) {
		snprintf(err, errlen,
			 "cannot replay: the stored request body was cut at the body "
			 "limit");
		return -1;
	}
	if (wire_check_headers(m, &bad) != 0) {
		snprintf(err, errlen, "cannot replay: header %zu has a bad name or value", bad + 1);
		return -1;
	}
	return 0;
}

/* Whether anticache (the live option, as exchange.c applies it to proxied requests) drops the
 * header named name: the conditional ones, so the origin answers with the whole body. */
static int conditional(const char *name)
{
	return strcasecmp(name, "If-None-Match") == 0 || strcasecmp(name, "If-Modified-Since") == 0;
}

/* o's headers: m's as they go out (one Host naming host:port, one Content-Length for the body
 * sent whole, or Transfer-Encoding: chunked when chunked, where the old framing header was; no
 * Proxy-Connection; with anticache, no conditional header). */
static void copy_headers(struct flow_msg *o, const struct flow_msg *m, const char *host, int port,
			 int tls, int anticache, int chunked)
{
	int defport = tls ? 443 : 80;
	char authority[URL_HOST_MAX + 16];
	url_format_authority(authority, sizeof authority, host, port, defport);
	int need_cl = chunked || m->body.len > 0 || strcasecmp(o->method, "POST") == 0 ||
		      strcasecmp(o->method, "PUT") == 0 || strcasecmp(o->method, "PATCH") == 0;
	int have_host = 0, cl_done = 0;
	char cl[32];
	int cl_len = chunked ? snprintf(cl, sizeof cl, "chunked")
			     : snprintf(cl, sizeof cl, "%zu", m->body.len);
	const char *cl_name = chunked ? "Transfer-Encoding" : "Content-Length";
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *hd = &m->headers[i];
		if (strcasecmp(hd->name, "Proxy-Connection") == 0 ||
		    (anticache && conditional(hd->name)))
			continue;
		if (strcasecmp(hd->name, "Content-Length") == 0 ||
		    strcasecmp(hd->name, "Transfer-Encoding") == 0) {
			if (!cl_done)
				flow_msg_add_header(o, cl_name, strlen(cl_name), cl,
						    (size_t)cl_len);
			cl_done = 1;
			continue;
		}
		if (strcasecmp(hd->name, "Host") == 0) {
			if (have_host++)
				continue; /* one Host */
			if (!host_matches(hd->value, hd->value_len, host, port, defport)) {
				flow_msg_add_header(o, hd->name, hd->name_len, authority,
						    strlen(authority));
				continue;
			}
		}
		flow_msg_add_header(o, hd->name, hd->name_len, hd->value, hd->value_len);
	}
	if (!have_host) {
		/* Host leads when it was missing, as clients send it */
		flow_msg_add_header(o, "Host", 4, authority, strlen(authority));
		struct flow_header last = o->headers[o->num_headers - 1];
		memmove(o->headers + 1, o->headers, (o->num_headers - 1) * sizeof *o->headers);
		o->headers[0] = last;
	}
	if (need_cl && !cl_done)
		flow_msg_add_header(o, cl_name, strlen(cl_name), cl, (size_t)cl_len);
}

/* The head of o into b: to an upstream proxy (via; plain HTTP only, HTTPS goes through its
 * CONNECT) in absolute-form with its credentials, as proxied requests go (origin.c). */
static void put_head(struct flow_buf *b, const struct flow_msg *o, const struct flow *nf, int tls,
		     const struct dial_via *via)
{
	if (!via->host || tls) {
		wire_request_head(b, o, nf->path, NULL);
		return;
	}
	char a[URL_HOST_MAX + 16];
	url_format_authority(a, sizeof a, nf->host, nf->port, 80);
	char *abs = xasprintf("http://%s%s", a, nf->path);
	wire_request_head(b, o, abs, NULL);
	free(abs);
	if (via->auth && b->len >= 2) { /* before the head's final CRLF */
		char *v = proxyauth_basic(via->auth);
		char *line = xasprintf("Proxy-Authorization: %s\r\n\r\n", v);
		b->len -= 2;
		flow_buf_append(b, line, strlen(line));
		free(line);
		free(v);
	}
}

/* Checks req and fills nf (the replay's flow) with the request as it will be sent; *wire gets
 * the bytes to send (malloc'd), through via's proxy if it names one. Returns 0, or -1 with
 * err. */
int replayreq_build(struct flow *req, struct flow *nf, const struct dial_via *via, int anticache,
		    char **wire, size_t *wire_len, char *err, size_t errlen)
{
	struct flow_msg *m = &req->request;
	char host[URL_HOST_MAX + 3];
	int port, tls;
	if (check_target(req, host, sizeof host, &port, &tls, err, errlen) != 0)
		return -1;
	const char *path = req->path && req->path[0] ? req->path : "/";
	const char *method = m->method && m->method[0] ? m->method : "GET";
	if (check_message(m, path, method, err, errlen) != 0)
		return -1;

	/* the new flow's request: headers as they go out */
	flow_set_str(&nf->scheme, tls ? "https" : "http");
	flow_set_str(&nf->host, host);
	nf->port = (uint16_t)port;
	flow_set_str(&nf->path, path);
	struct flow_msg *o = &nf->request;
	o->present = 1;
	o->version = m->version == 10 || m->version == 20 ? m->version : 11; /* 20: h2 if it can */
	o->method = xstrdup(method);
	o->target = xstrdup(path);
	/* an HTTP/2 request keeps its trailers for h2 even with a Content-Length; replay.c drops
	 * them from the record if it goes over HTTP/1.1 without them */
	int chunked = wire_sends_trailers(m), keep = chunked || m->version == 20;
	copy_headers(o, m, host, port, tls, anticache, chunked);
	for (size_t i = 0; keep && i < m->num_trailers; i++)
		if (wire_trailer_ok(&m->trailers[i]))
			flow_msg_add_trailer(o, m->trailers[i].name, m->trailers[i].name_len,
					     m->trailers[i].value, m->trailers[i].value_len);
	if (m->num_trailers && !keep)
		log_info("replay of %s %s: its trailers are not sent (%s)", method, path,
			 m->version == 10 ? "HTTP/1.0" : "the body is framed by a Content-Length");
	/* the body moves over */
	o->body = m->body;
	memset(&m->body, 0, sizeof m->body);
	o->body_size = o->body.len;

	/* the wire bytes */
	struct flow_buf b = {0};
	put_head(&b, o, nf, tls, via);
	o->head_size = b.len;
	if (chunked)
		wire_chunked_body(&b, o);
	else
		flow_buf_append(&b, o->body.data, o->body.len);
	*wire = b.data;
	*wire_len = b.len;
	return 0;
}
