/* SPDX-License-Identifier: MIT */
/* wire.c - header validity and head writing (see wire.h). The writer only concatenates: the
 * bytes it is given were checked where they entered (llhttp for the wire, wire_is_token and
 * wire_is_field_value for the API and HAR import), so a head never gains a line it did not
 * have. */
#include "wire.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int wire_is_token(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

int wire_is_field_value(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 0;
	return 1;
}

int wire_check_headers(const struct flow_msg *m, size_t *bad)
{
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		if (!wire_is_token(h->name, h->name_len) ||
		    !wire_is_field_value(h->value, h->value_len)) {
			*bad = i;
			return -1;
		}
	}
	return 0;
}

static void add_str(struct flow_buf *b, const char *s)
{
	flow_buf_append(b, s, strlen(s));
}

void wire_request_line(struct flow_buf *b, const char *method, const char *target, int version)
{
	static const char v10[] = " HTTP/1.0\r\n", v11[] = " HTTP/1.1\r\n";
	size_t ml = strlen(method), tl = strlen(target);
	char *p = flow_buf_grow(b, ml + 1 + tl + sizeof v11 - 1);
	memcpy(p, method, ml);
	p[ml] = ' ';
	memcpy(p + ml + 1, target, tl);
	memcpy(p + ml + 1 + tl, version == 10 ? v10 : v11, sizeof v11 - 1);
}

void wire_status_line(struct flow_buf *b, int version, int status, const char *reason)
{
	char code[16];
	int n = snprintf(code, sizeof code, " %d ", status);
	add_str(b, version == 10 ? "HTTP/1.0" : "HTTP/1.1");
	flow_buf_append(b, code, (size_t)n);
	add_str(b, reason ? reason : "");
	flow_buf_append(b, "\r\n", 2);
}

void wire_header(struct flow_buf *b, const char *name, size_t name_len, const char *value,
		 size_t value_len)
{
	char *p = flow_buf_grow(b, name_len + value_len + 4); /* "name: value\r\n" */
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = ':';
	*p++ = ' ';
	if (value_len) /* a value may be "" or NULL with no bytes */
		memcpy(p, value, value_len);
	p += value_len;
	*p++ = '\r';
	*p = '\n';
}

void wire_request_head(struct flow_buf *b, const struct flow_msg *m, const char *target,
		       const char *authority)
{
	wire_request_line(b, m->method, target, m->version);
	int have_host = 0;
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		if (FLOW_HEADER_IS(h, "Proxy-Connection"))
			continue;
		if (FLOW_HEADER_IS(h, "Host")) {
			if (have_host++)
				continue; /* llhttp lets a second Host through; send one */
			if (authority) {
				wire_header(b, h->name, h->name_len, authority, strlen(authority));
				continue;
			}
		}
		wire_header(b, h->name, h->name_len, h->value, h->value_len);
	}
	if (!have_host && authority)
		wire_header(b, "Host", 4, authority, strlen(authority));
	flow_buf_append(b, "\r\n", 2);
}

void wire_response_head(struct flow_buf *b, const struct flow_msg *m)
{
	wire_status_line(b, m->version, m->status, m->reason);
	for (size_t i = 0; i < m->num_headers; i++)
		wire_header(b, m->headers[i].name, m->headers[i].name_len, m->headers[i].value,
			    m->headers[i].value_len);
	flow_buf_append(b, "\r\n", 2);
}

int wire_trailer_ok(const struct flow_header *t)
{
	return wire_is_token(t->name, t->name_len) && wire_is_field_value(t->value, t->value_len) &&
	       !FLOW_HEADER_IS(t, "Content-Length") && !FLOW_HEADER_IS(t, "Transfer-Encoding");
}

int wire_sends_trailers(const struct flow_msg *m)
{
	int any = 0;
	for (size_t i = 0; i < m->num_trailers && !any; i++)
		any = wire_trailer_ok(&m->trailers[i]);
	if (!any || m->version == 10)
		return 0;
	return flow_msg_header(m, "Transfer-Encoding") || !flow_msg_header(m, "Content-Length");
}

void wire_chunked_body(struct flow_buf *b, const struct flow_msg *m)
{
	if (m->body.len) {
		char size[32];
		int n = snprintf(size, sizeof size, "%zx\r\n", m->body.len);
		flow_buf_append(b, size, (size_t)n);
		flow_buf_append(b, m->body.data, m->body.len);
		flow_buf_append(b, "\r\n", 2);
	}
	flow_buf_append(b, "0\r\n", 3);
	for (size_t i = 0; i < m->num_trailers; i++) {
		const struct flow_header *t = &m->trailers[i];
		if (wire_trailer_ok(t))
			wire_header(b, t->name, t->name_len, t->value, t->value_len);
	}
	flow_buf_append(b, "\r\n", 2);
}
