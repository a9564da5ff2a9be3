/* SPDX-License-Identifier: MIT */
/* http1.c - glue over llhttp: turns its span callbacks into whole heads (a struct flow_msg),
 * body chunks and ends, for one direction of one connection.
 *
 * llhttp reports names, values, the target and the reason in pieces when the input is split;
 * they are collected in one scratch buffer (`scratch`) until their *_complete callback. The
 * head's strings stay there one after the other, each NUL-terminated (the target or reason,
 * then the headers), and become one allocation when the head is complete
 * (flow_msg_take_headers(); the method joins them) instead of one per string; a trailer
 * (after a chunked body) is added to the message on its own. The
 * parser pauses (HPE_PAUSED) after on_headers_complete and after on_message_complete, so
 * http1_feed() returns how far it got and the caller sees exact message boundaries. llhttp runs
 * in strict mode (no lenient flags): CL+TE, bad chunk sizes and invalid header characters are
 * errors. llhttp 8 still joins obs-fold (a header line that starts with SP or HTAB) to the value
 * before it, even in Transfer-Encoding after an empty first line, so the head's bytes are
 * scanned for line starts before llhttp sees them (scan_fold()): a fold in any header is an
 * error. Lengths no body could have (a chunk size or Content-Length over 2^62) are errors too,
 * not numbers to trust. Owns the llhttp state and the head being built. */
#include "http1.h"

#include "util.h"

#include "llhttp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Heads bigger than this are refused: a client cannot make us buffer unbounded headers. */
#define HTTP1_MAX_HEAD (64 * 1024)
#define HTTP1_MAX_HEADERS 256
/* Larger chunk sizes and Content-Lengths are refused: no body is 4 EiB long, and a size near
 * 2^64 only serves to overflow whoever adds to it. */
#define HTTP1_MAX_BODY_LEN (1ULL << 62)

/* Where the head scan is (struct http1.fold). */
enum {
	FOLD_BEFORE = 0, /* before a message: CR and LF are skipped (llhttp allows them) */
	FOLD_IN_LINE,	 /* inside a line of the head */
	FOLD_LINE_START, /* right after the LF that ended a line */
	FOLD_LINE_CR,	 /* a line that starts with CR: the head's end, if LF follows */
	FOLD_DONE,	 /* the head ended: body bytes are not scanned */
};

struct http1 {
	llhttp_t ll; /* llhttp's state; ll.data points back here */
	enum http1_side side;
	struct http1_sink sink;	 /* copied */
	struct flow_msg msg;	 /* the head (then the trailers) being built, for the sink */
	struct flow_buf scratch; /* owned; the target or reason pieces, or the head's headers */
	size_t line_len;	 /* bytes of the target or reason in scratch (NUL included) */
	size_t name_at;		 /* where the current header's name starts in scratch */
	size_t name_len;	 /* its length */
	size_t *lens;		 /* owned; the head's name and value lengths so far, in order */
	size_t num_lens, cap_lens;
	size_t head_bytes;   /* bytes of the current head seen so far */
	int in_message;	     /* a message began and has not ended */
	int in_head;	     /* its head is not complete yet */
	int upgraded;	     /* the last message switched protocols */
	int keep_alive;	     /* the last message allows another one after it */
	int until_close;     /* the current body runs until EOF */
	int failed;	     /* malformed input seen; err names it */
	int head_request;    /* response parser: the request was HEAD */
	int fold;	     /* FOLD_*: the head scan's state (scan_fold()) */
	const char *own_err; /* our reason when a callback failed, a constant string */
	const char *err;     /* constant string, set once failed */
};

static const char err_head_too_large[] = "message head too large";
static const char err_too_many_headers[] = "too many header fields";
static const char err_obs_fold[] = "obs-fold (folded header line) is not allowed";
static const char err_version[] = "unsupported HTTP version";
static const char err_space_colon[] = "whitespace between header name and colon";
static const char err_closed[] = "connection closed before the message was complete";
static const char err_chunk_size[] = "chunk size too large";
static const char err_length[] = "Content-Length too large";

static llhttp_settings_t settings_for[2]; /* [side]; filled once by init_settings() */

static int fail(struct http1 *p, const char *why)
{
	p->own_err = why;
	return HPE_USER;
}

static int append(struct http1 *p, const char *at, size_t len)
{
	p->head_bytes += len;
	if (p->head_bytes > HTTP1_MAX_HEAD)
		return -1;
	if (!len) /* llhttp may hand an empty span; scratch's data is NULL until it grows */
		return 0;
	struct flow_buf *b = &p->scratch;
	if (b->len + len <= b->cap) { /* the rule once scratch grew: no call into flow.c */
		memcpy(b->data + b->len, at, len);
		b->len += len;
	} else {
		flow_buf_append(b, at, len);
	}
	return 0;
}

/* Ends the string being collected in scratch with a NUL. */
static void end_string(struct http1 *p)
{
	if (p->scratch.len < p->scratch.cap)
		p->scratch.data[p->scratch.len++] = '\0';
	else
		flow_buf_append(&p->scratch, "", 1);
}

static int on_message_begin(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	flow_msg_clear(&p->msg);
	p->scratch.len = p->name_at = p->name_len = p->num_lens = p->head_bytes = 0;
	p->line_len = 0;
	p->in_message = p->in_head = 1;
	p->until_close = 0;
	return 0;
}

static int on_span(llhttp_t *ll, const char *at, size_t len)
{
	struct http1 *p = ll->data;
	if (append(p, at, len) != 0)
		return fail(p, err_head_too_large);
	return 0;
}

/* The target (request) or reason (response) is complete: it stays at the front of scratch,
 * the headers follow it. */
static int on_line_complete(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	end_string(p);
	p->line_len = p->name_at = p->scratch.len;
	return 0;
}

static int on_header_field_complete(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	p->name_len = p->scratch.len - p->name_at;
	if (p->name_len && (p->scratch.data[p->scratch.len - 1] == ' ' ||
			    p->scratch.data[p->scratch.len - 1] == '\t'))
		return fail(p, err_space_colon);
	end_string(p); /* the value follows the name's NUL */
	return 0;
}

static int on_header_value_complete(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	const char *name = p->scratch.data + p->name_at, *value = name + p->name_len + 1;
	size_t value_len = p->scratch.len - (p->name_at + p->name_len + 1);
	if (p->msg.num_headers + p->num_lens / 2 >= HTTP1_MAX_HEADERS)
		return fail(p, err_too_many_headers);
	if (!p->in_head) { /* a trailer */
		flow_msg_add_header(&p->msg, name, p->name_len, value, value_len);
		p->scratch.len = p->name_at = p->name_len = 0;
		return 0;
	}
	if (p->num_lens == p->cap_lens) {
		p->cap_lens = p->cap_lens ? 2 * p->cap_lens : 32;
		p->lens = xrealloc(p->lens, p->cap_lens * sizeof *p->lens);
	}
	p->lens[p->num_lens++] = p->name_len;
	p->lens[p->num_lens++] = value_len;
	end_string(p);
	p->name_at = p->scratch.len;
	return 0;
}

/* The head's strings, collected in scratch, become m's in one block: the headers, then the
 * target or reason ("" when there was none), then the method (a request's). */
static void take_head(struct http1 *p, struct flow_msg *m, const char *method)
{
	const char *line = p->line_len ? p->scratch.data : "";
	size_t line_len = p->line_len ? p->line_len : 1, hdr_len = p->scratch.len - p->line_len;
	size_t method_len = method ? strlen(method) + 1 : 0;
	size_t len = hdr_len + line_len + method_len;
	char *block = xmalloc(flow_head_block_size(len, p->num_lens / 2));
	memcpy(block, p->scratch.data + p->line_len, hdr_len);
	memcpy(block + hdr_len, line, line_len);
	if (method)
		memcpy(block + hdr_len + line_len, method, method_len);
	flow_msg_take_headers(m, block, len, p->lens, p->num_lens / 2);
	if (method) {
		m->target = block + hdr_len;
		m->method = block + hdr_len + line_len;
		m->head_size = method_len + line_len + 10; /* "M T HTTP/1.1\r\n" */
	} else {
		m->reason = block + hdr_len;
		m->head_size = line_len + 14; /* "HTTP/1.1 200 R\r\n" */
	}
	p->scratch.len = p->name_at = p->num_lens = p->line_len = 0;
}

static int on_headers_complete(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	p->fold = FOLD_DONE; /* llhttp's word on where the head ends, however the bytes came */
	if (ll->http_major != 1 || ll->http_minor > 1)
		return fail(p, err_version);
	if ((ll->flags & F_CONTENT_LENGTH) && ll->content_length > HTTP1_MAX_BODY_LEN)
		return fail(p, err_length);
	struct flow_msg *m = &p->msg;
	int req = p->side == HTTP1_REQUEST;
	take_head(p, m, req ? llhttp_method_name(ll->method) : NULL);
	m->present = 1;
	m->version = 10 + ll->http_minor;
	if (!req)
		m->status = ll->status_code;
	for (size_t i = 0; i < m->num_headers; i++)
		m->head_size += m->headers[i].name_len + m->headers[i].value_len + 4;
	m->head_size += 2;
	p->in_head = 0;
	/* A response to HEAD has no body whatever it announces; interim 1xx, 204 and 304
	 * responses are known to llhttp already. Setting F_SKIPBODY is what returning 1 from
	 * this callback would do, but we return HPE_PAUSED to stop after the head. */
	if (p->side == HTTP1_RESPONSE && p->head_request && m->status >= 200)
		ll->flags |= F_SKIPBODY;
	if (p->side == HTTP1_RESPONSE &&
	    !(ll->flags & (F_SKIPBODY | F_CHUNKED | F_CONTENT_LENGTH)) &&
	    llhttp_message_needs_eof(ll) && !(m->status >= 100 && m->status < 200) &&
	    m->status != 204 && m->status != 304)
		p->until_close = 1;
	if (p->sink.on_head)
		p->sink.on_head(p->sink.arg, m);
	flow_msg_clear(m);
	return HPE_PAUSED;
}

static int on_body(llhttp_t *ll, const char *at, size_t len)
{
	struct http1 *p = ll->data;
	if (p->sink.on_body)
		p->sink.on_body(p->sink.arg, at, len);
	return 0;
}

static int on_chunk_header(llhttp_t *ll)
{
	if (ll->content_length > HTTP1_MAX_BODY_LEN)
		return fail(ll->data, err_chunk_size);
	return 0;
}

/* llhttp reports a chunked message's trailer fields as header fields after the body
 * (F_TRAILING): on_header_value_complete() collected them in p->msg, which the head left
 * empty. They go to the sink before the message's end. */
static void pass_trailers(struct http1 *p)
{
	if (!p->msg.num_headers)
		return;
	if (p->sink.on_trailers)
		p->sink.on_trailers(p->sink.arg, &p->msg);
	flow_msg_clear(&p->msg);
}

static int on_message_complete(llhttp_t *ll)
{
	struct http1 *p = ll->data;
	pass_trailers(p);
	p->in_message = 0;
	p->fold = FOLD_BEFORE;
	p->upgraded = ll->upgrade != 0;
	p->keep_alive = llhttp_should_keep_alive(ll) && !p->until_close;
	if (p->sink.on_end)
		p->sink.on_end(p->sink.arg);
	return HPE_PAUSED;
}

static void init_settings(llhttp_settings_t *s)
{
	llhttp_settings_init(s);
	s->on_message_begin = on_message_begin;
	s->on_url = on_span;
	s->on_status = on_span;
	s->on_header_field = on_span;
	s->on_header_value = on_span;
	s->on_url_complete = on_line_complete;
	s->on_status_complete = on_line_complete;
	s->on_header_field_complete = on_header_field_complete;
	s->on_header_value_complete = on_header_value_complete;
	s->on_headers_complete = on_headers_complete;
	s->on_body = on_body;
	s->on_chunk_header = on_chunk_header;
	s->on_message_complete = on_message_complete;
}

static void setup(struct http1 *p)
{
	/* The settings are the same for every parser; filling them twice from two threads
	 * writes identical values, so no lock is needed, but do it once per process anyway. */
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		init_settings(&settings_for[0]);
		init_settings(&settings_for[1]);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	llhttp_init(&p->ll, p->side == HTTP1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE,
		    &settings_for[p->side]);
	p->ll.data = p;
}

struct http1 *http1_new(enum http1_side side, const struct http1_sink *sink)
{
	struct http1 *p = xcalloc(1, sizeof *p);
	p->side = side;
	p->sink = *sink;
	setup(p);
	return p;
}

void http1_free(struct http1 *p)
{
	if (!p)
		return;
	flow_msg_clear(&p->msg);
	flow_buf_clear(&p->scratch);
	free(p->lens);
	free(p);
}

void http1_reset(struct http1 *p)
{
	flow_msg_clear(&p->msg);
	p->scratch.len = p->name_at = p->name_len = p->num_lens = p->head_bytes = 0;
	p->line_len = 0;
	p->in_message = p->in_head = p->upgraded = p->until_close = p->failed = 0;
	p->keep_alive = 0;
	p->fold = FOLD_BEFORE;
	p->err = p->own_err = NULL;
	setup(p);
}

void http1_set_request_method(struct http1 *p, const char *method)
{
	p->head_request = method && strcasecmp(method, "HEAD") == 0;
}

static ssize_t failed(struct http1 *p, const char **err)
{
	if (!p->failed) {
		p->failed = 1;
		p->err = p->own_err ? p->own_err : llhttp_get_error_reason(&p->ll);
		if (!p->err)
			p->err = llhttp_errno_name(llhttp_get_errno(&p->ll));
	}
	if (err)
		*err = p->err;
	return -1;
}

/* Scans the head's bytes in data for a line that starts with SP or HTAB (obs-fold), keeping
 * its place across feeds in p->fold. Returns the offset of the fold, or len when there is
 * none in data. Stops at the empty line that ends the head. Inside a line only its LF
 * matters: memchr() finds it, rather than a look at every byte. */
static size_t scan_fold(struct http1 *p, const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && p->fold != FOLD_DONE) {
		char ch = data[i];
		switch (p->fold) {
		case FOLD_BEFORE:
			if (ch != '\r' && ch != '\n')
				p->fold = FOLD_IN_LINE;
			break;
		case FOLD_IN_LINE: {
			const char *lf = memchr(data + i, '\n', len - i);
			if (!lf)
				return len;
			i = (size_t)(lf - data) + 1;
			p->fold = FOLD_LINE_START;
			continue;
		}
		case FOLD_LINE_START:
			if (ch == ' ' || ch == '\t')
				return i;
			p->fold = ch == '\n' ? FOLD_DONE : ch == '\r' ? FOLD_LINE_CR : FOLD_IN_LINE;
			break;
		default: /* FOLD_LINE_CR */
			p->fold = ch == '\n' ? FOLD_DONE : FOLD_IN_LINE;
			break;
		}
		i++;
	}
	return len;
}

ssize_t http1_feed(struct http1 *p, const char *data, size_t len, const char **err)
{
	if (p->failed)
		return failed(p, err);
	if (p->upgraded)
		return 0;
	if (llhttp_get_errno(&p->ll) == HPE_PAUSED)
		llhttp_resume(&p->ll);
	if (!data)
		data = "";
	/* llhttp parses up to a fold, which it would join to the value: the fold is refused */
	size_t fold = scan_fold(p, data, len);
	llhttp_errno_t e = llhttp_execute(&p->ll, data, fold);
	if (e == HPE_OK && fold < len) {
		p->own_err = err_obs_fold;
		return failed(p, err);
	}
	if (e == HPE_OK)
		return (ssize_t)len;
	if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
		if (e == HPE_PAUSED_UPGRADE)
			p->upgraded = 1;
		return llhttp_get_error_pos(&p->ll) - data;
	}
	return failed(p, err);
}

int http1_finish(struct http1 *p, const char **err)
{
	if (p->failed)
		return (int)failed(p, err);
	if (!p->in_message)
		return 0;
	/* A head may have just paused the parser before it learned how the body is framed. */
	if (llhttp_get_errno(&p->ll) == HPE_PAUSED) {
		if (http1_feed(p, NULL, 0, err) < 0)
			return -1;
		if (!p->in_message)
			return 0;
		if (llhttp_get_errno(&p->ll) == HPE_PAUSED)
			llhttp_resume(&p->ll);
	}
	llhttp_errno_t e = llhttp_finish(&p->ll);
	if ((e == HPE_OK || e == HPE_PAUSED) && !p->in_message)
		return 0;
	p->failed = 1;
	p->err = err_closed;
	if (err)
		*err = p->err;
	return -1;
}

int http1_in_head(const struct http1 *p)
{
	return p->in_message && p->in_head;
}

int http1_in_message(const struct http1 *p)
{
	return p->in_message;
}

int http1_upgraded(const struct http1 *p)
{
	return p->upgraded;
}

int http1_keep_alive(const struct http1 *p)
{
	return p->keep_alive;
}

int http1_body_until_close(const struct http1 *p)
{
	return p->until_close;
}
