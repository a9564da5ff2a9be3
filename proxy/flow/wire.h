/* SPDX-License-Identifier: MIT */
/* wire.h - HTTP/1 head text, one rule set for every layer: which header names, methods, header
 * values and reason phrases may go on the wire (so that what the API or a HAR import accepts is
 * what replay and the proxy can send), and the writer of request and response heads.
 *
 * The rules:
 *   token        a header name or a method: 1 or more RFC 9110 tchars
 *                (A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~)
 *   field value  a header value or a reason phrase: any bytes but CR, LF and NUL, which would
 *                end the line or the string; other bytes are kept as recorded
 */
#ifndef WIRE_H
#define WIRE_H

#include "flow.h"

#include <stddef.h>

/* 1 when s[0..len) is a token (a valid header name or method), else 0. s may be NULL when
 * len is 0. */
int wire_is_token(const char *s, size_t len);

/* 1 when s[0..len) is a valid header value or reason phrase (no CR, LF or NUL), else 0. */
int wire_is_field_value(const char *s, size_t len);

/* Checks every header of m against the two rules above. Returns 0, or -1 with *bad (OUT) the
 * index of the first header whose name or value is refused. */
int wire_check_headers(const struct flow_msg *m, size_t *bad);

/* Appends "METHOD target HTTP/1.x\r\n" to b; version 10 writes HTTP/1.0, anything else 1.1. */
void wire_request_line(struct flow_buf *b, const char *method, const char *target, int version);

/* Appends "HTTP/1.x status reason\r\n" to b; reason NULL writes an empty reason. */
void wire_status_line(struct flow_buf *b, int version, int status, const char *reason);

/* Appends "name: value\r\n" to b, bytes as given (check them first). */
void wire_header(struct flow_buf *b, const char *name, size_t name_len, const char *value,
		 size_t value_len);

/* Appends the head of request m as sent upstream: the request line with target (m->method
 * and m->version), m's headers in order without Proxy-Connection, exactly one Host, and the
 * blank line. Host is the first Host header; when authority is not NULL, its value replaces
 * that header's value, or "Host: authority" is added after the others when m has none. */
void wire_request_head(struct flow_buf *b, const struct flow_msg *m, const char *target,
		       const char *authority);

/* Appends the head of response m: the status line (m->version, m->status, m->reason), m's
 * headers in order, and the blank line. */
void wire_response_head(struct flow_buf *b, const struct flow_msg *m);

/* Trailers. An HTTP/1.1 message carries them only in the chunked coding's last chunk: one with
 * a Content-Length, or an HTTP/1.0 one, cannot. A trailer goes on the wire when its name and
 * value pass the rules above and it does not frame the message (Content-Length,
 * Transfer-Encoding). */
int wire_trailer_ok(const struct flow_header *t);

/* 1 when request m is to go chunked to carry its trailers: it has one that may go, it is not
 * HTTP/1.0, and its headers do not frame the body with a Content-Length alone (Transfer-Encoding
 * or no framing header: chunked; an edit that names only a Content-Length chose a body of that
 * length, which leaves no place for trailers). 0: m goes without its trailers. */
int wire_sends_trailers(const struct flow_msg *m);

/* Appends m's body to b in the chunked coding: one chunk (none when the body is empty), then
 * the last chunk with m's trailers that may go (wire_trailer_ok()), in order. */
void wire_chunked_body(struct flow_buf *b, const struct flow_msg *m);

#endif
