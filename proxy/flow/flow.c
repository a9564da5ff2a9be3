/* SPDX-License-Identifier: MIT */
/* flow.c - the flow record: allocation, deep copy, headers and capped bodies. */
#include "flow.h"

#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static _Atomic uint64_t next_id = 1;

void flow_seed_ids(uint64_t next)
{
	atomic_store(&next_id, next ? next : 1);
}

uint64_t flow_next_id(void)
{
	return atomic_fetch_add(&next_id, 1);
}

struct flow *flow_new(void)
{
	struct flow *f = xcalloc(1, sizeof *f);
	f->id = flow_next_id();
	return f;
}

/* ---- the pool of large body buffers ----
 *
 * main.c has glibc mmap every buffer over 256 KiB and unmap it on free, so that memory goes
 * back to the system after a burst of large bodies. The price was that every large body
 * page-faulted its buffer in afresh: about 1,000 faults per 4 MiB captured, near a tenth of
 * a worker's CPU on a download. Bodies over FLOW_POOL_MIN therefore move into buffers of
 * exactly the body limit, and up to POOL_KEEP of those stay mapped for the next large body
 * (two cover one download in flight plus the one the store is writing). Workers take from
 * the pool and the store's writer gives back, hence the lock. The buffers start on a page
 * boundary so that the store can write them to a file without the page cache (O_DIRECT).
 * Only limits up to FLOW_POOL_MAX take part: a buffer of a larger limit would be allocated
 * whole for every large body and keep that much resident while kept; those bodies grow by
 * doubling as small ones do. */
#define POOL_KEEP 2
#define POOL_ALIGN 4096

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static char *pool_data[POOL_KEEP];
static size_t pool_cap[POOL_KEEP];
static int pool_len;

/* A buffer of cap bytes: a kept one of that size, else a new one. */
static char *pool_take(size_t cap)
{
	char *p = NULL;
	pthread_mutex_lock(&pool_mu);
	for (int i = pool_len - 1; i >= 0 && !p; i--) {
		if (pool_cap[i] == cap) {
			p = pool_data[i];
			pool_data[i] = pool_data[--pool_len];
			pool_cap[i] = pool_cap[pool_len];
		}
	}
	pthread_mutex_unlock(&pool_mu);
	return p ? p : xmalloc_aligned(POOL_ALIGN, cap);
}

/* Keeps p for reuse while the pool has room, else frees it. */
static void pool_give(char *p, size_t cap)
{
	pthread_mutex_lock(&pool_mu);
	if (pool_len < POOL_KEEP) {
		pool_data[pool_len] = p;
		pool_cap[pool_len++] = cap;
		p = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	free(p);
}

/* Moves b's bytes into a pooled buffer of cap bytes. */
static void buf_move_to_pool(struct flow_buf *b, size_t cap)
{
	char *p = pool_take(cap);
	if (b->len)
		memcpy(p, b->data, b->len);
	free(b->data);
	b->data = p;
	b->cap = cap;
	b->pooled = 1;
}

void flow_buf_append(struct flow_buf *b, const char *data, size_t len)
{
	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
		b->pooled = 0; /* no longer the pool's size */
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void flow_buf_clear(struct flow_buf *b)
{
	if (b->pooled)
		pool_give(b->data, b->cap);
	else
		free(b->data);
	memset(b, 0, sizeof *b);
}

/* Appends name: value to the array *arr of *n entries (room for *cap). */
static void add_to(struct flow_header **arr, size_t *n, size_t *cap, const char *name,
		   size_t name_len, const char *value, size_t value_len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = xrealloc(*arr, *cap * sizeof **arr);
	}
	struct flow_header *h = &(*arr)[(*n)++];
	h->name = xstrndup(name, name_len);
	h->name_len = name_len;
	h->value = xstrndup(value, value_len);
	h->value_len = value_len;
}

void flow_msg_add_header(struct flow_msg *m, const char *name, size_t name_len, const char *value,
			 size_t value_len)
{
	add_to(&m->headers, &m->num_headers, &m->cap_headers, name, name_len, value, value_len);
}

void flow_msg_add_trailer(struct flow_msg *m, const char *name, size_t name_len, const char *value,
			  size_t value_len)
{
	add_to(&m->trailers, &m->num_trailers, &m->cap_trailers, name, name_len, value, value_len);
}

void flow_msg_add_trailers(struct flow_msg *m, const struct flow_msg *from)
{
	for (size_t i = 0; i < from->num_headers; i++)
		flow_msg_add_trailer(m, from->headers[i].name, from->headers[i].name_len,
				     from->headers[i].value, from->headers[i].value_len);
}

void flow_msg_take_headers(struct flow_msg *m, char *block, size_t len, const size_t *lens,
			   size_t n)
{
	if (m->cap_headers < n) {
		m->headers = xrealloc(m->headers, n * sizeof *m->headers);
		m->cap_headers = n;
	}
	char *at = block;
	for (size_t i = 0; i < n; i++) {
		struct flow_header *h = &m->headers[i];
		h->name = at;
		h->name_len = lens[2 * i];
		h->value = at + h->name_len + 1;
		h->value_len = lens[2 * i + 1];
		at = h->value + h->value_len + 1;
	}
	m->num_headers = n;
	m->header_block = block;
	m->header_block_len = len;
}

/* 1 when s lies in m's header block. */
static int in_block(const struct flow_msg *m, const char *s)
{
	uintptr_t b = (uintptr_t)m->header_block, p = (uintptr_t)s;
	return m->header_block && p >= b && p < b + m->header_block_len;
}

void flow_msg_free_header(const struct flow_msg *m, struct flow_header *h)
{
	if (!in_block(m, h->name))
		free(h->name);
	if (!in_block(m, h->value))
		free(h->value);
}

void flow_msg_set_value(struct flow_msg *m, struct flow_header *h, char *value, size_t len)
{
	if (!in_block(m, h->value))
		free(h->value);
	h->value = value;
	h->value_len = len;
}

const struct flow_header *flow_msg_header(const struct flow_msg *m, const char *name)
{
	for (size_t i = 0; i < m->num_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return &m->headers[i];
	return NULL;
}

void flow_msg_add_body(struct flow_msg *m, const char *data, size_t len, size_t limit)
{
	size_t room = m->body.len < limit ? limit - m->body.len : 0;
	size_t take = len < room ? len : room;
	if (!m->body.pooled && limit <= FLOW_POOL_MAX && m->body.len + take > FLOW_POOL_MIN)
		buf_move_to_pool(&m->body, limit); /* limit > FLOW_POOL_MIN here */
	flow_buf_append(&m->body, data, take);
	m->body_size += len;
	if (m->body_size > m->body.len)
		m->body_truncated = 1;
}

void flow_msg_clear(struct flow_msg *m)
{
	free(m->method);
	free(m->target);
	free(m->reason);
	for (size_t i = 0; i < m->num_headers; i++)
		flow_msg_free_header(m, &m->headers[i]);
	free(m->headers);
	for (size_t i = 0; i < m->num_trailers; i++)
		flow_msg_free_header(m, &m->trailers[i]);
	free(m->trailers);
	free(m->header_block);
	flow_buf_clear(&m->body);
	memset(m, 0, sizeof *m);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void msg_copy(struct flow_msg *dst, const struct flow_msg *src)
{
	*dst = *src;
	dst->method = dup_or_null(src->method);
	dst->target = dup_or_null(src->target);
	dst->reason = dup_or_null(src->reason);
	dst->headers = dst->trailers = NULL;
	dst->num_headers = dst->cap_headers = dst->num_trailers = dst->cap_trailers = 0;
	dst->header_block = NULL;
	dst->header_block_len = 0;
	for (size_t i = 0; i < src->num_headers; i++)
		flow_msg_add_header(dst, src->headers[i].name, src->headers[i].name_len,
				    src->headers[i].value, src->headers[i].value_len);
	for (size_t i = 0; i < src->num_trailers; i++)
		flow_msg_add_trailer(dst, src->trailers[i].name, src->trailers[i].name_len,
				     src->trailers[i].value, src->trailers[i].value_len);
	memset(&dst->body, 0, sizeof dst->body);
	flow_buf_append(&dst->body, src->body.data, src->body.len);
}

static void tls_copy(struct flow_tls *dst, const struct flow_tls *src)
{
	dst->sni = dup_or_null(src->sni);
	dst->version = dup_or_null(src->version);
	dst->cipher = dup_or_null(src->cipher);
	dst->alpn = dup_or_null(src->alpn);
	dst->cert_subject = dup_or_null(src->cert_subject);
	dst->cert_issuer = dup_or_null(src->cert_issuer);
	dst->client_version = dup_or_null(src->client_version);
}

static void tls_clear(struct flow_tls *t)
{
	free(t->sni);
	free(t->version);
	free(t->cipher);
	free(t->alpn);
	free(t->cert_subject);
	free(t->cert_issuer);
	free(t->client_version);
	memset(t, 0, sizeof *t);
}

struct flow *flow_dup(const struct flow *f)
{
	struct flow *d = xmalloc(sizeof *d);
	*d = *f;
	d->_packed = 0;
	d->scheme = dup_or_null(f->scheme);
	d->host = dup_or_null(f->host);
	d->path = dup_or_null(f->path);
	d->error = dup_or_null(f->error);
	d->mode = dup_or_null(f->mode);
	d->mark = dup_or_null(f->mark);
	d->comment = dup_or_null(f->comment);
	msg_copy(&d->request, &f->request);
	msg_copy(&d->response, &f->response);
	tls_copy(&d->tls, &f->tls);
	return d;
}

/* ---- snapshots: one allocation for the flow, its strings and its headers ---- */

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static size_t msg_size(const struct flow_msg *m)
{
	size_t n = (m->num_headers + m->num_trailers) * sizeof *m->headers + str_size(m->method) +
		   str_size(m->target) + str_size(m->reason);
	for (size_t i = 0; i < m->num_headers; i++)
		n += m->headers[i].name_len + m->headers[i].value_len + 2;
	for (size_t i = 0; i < m->num_trailers; i++)
		n += m->trailers[i].name_len + m->trailers[i].value_len + 2;
	return n;
}

/* Copies len bytes of s and a NUL at *p, which moves on; NULL stays NULL. */
static char *put_bytes(char **p, const char *s, size_t len)
{
	if (!s)
		return NULL;
	char *d = *p;
	memcpy(d, s, len);
	d[len] = '\0';
	*p += len + 1;
	return d;
}

static char *put_str(char **p, const char *s)
{
	return s ? put_bytes(p, s, strlen(s)) : NULL;
}

/* The n entries of src packed at *harr (moves on), their strings at *p (moves on); NULL when
 * none. */
static struct flow_header *pack_headers(const struct flow_header *src, size_t n,
					struct flow_header **harr, char **p)
{
	struct flow_header *d = n ? *harr : NULL;
	*harr += n;
	for (size_t i = 0; i < n; i++)
		d[i] = (struct flow_header){put_bytes(p, src[i].name, src[i].name_len),
					    put_bytes(p, src[i].value, src[i].value_len),
					    src[i].name_len, src[i].value_len};
	return d;
}

/* dst = src with its header arrays at *harr (moves on) and its strings at *p (moves on). */
static void msg_pack(struct flow_msg *dst, const struct flow_msg *src, struct flow_header **harr,
		     char **p)
{
	*dst = *src;
	dst->method = put_str(p, src->method);
	dst->target = put_str(p, src->target);
	dst->reason = put_str(p, src->reason);
	dst->headers = pack_headers(src->headers, src->num_headers, harr, p);
	dst->cap_headers = src->num_headers;
	dst->trailers = pack_headers(src->trailers, src->num_trailers, harr, p);
	dst->cap_trailers = src->num_trailers;
	dst->header_block = NULL; /* the snapshot's own allocation holds every string */
	dst->header_block_len = 0;
	memset(&dst->body, 0, sizeof dst->body);
	flow_buf_append(&dst->body, src->body.data, src->body.len);
}

struct flow *flow_snapshot(const struct flow *f)
{
	const struct flow_tls *t = &f->tls;
	size_t nhdr = f->request.num_headers + f->response.num_headers + f->request.num_trailers +
		      f->response.num_trailers;
	size_t nstr = str_size(f->scheme) + str_size(f->host) + str_size(f->path) +
		      str_size(f->error) + str_size(t->sni) + str_size(t->version) +
		      str_size(t->cipher) + str_size(t->alpn) + str_size(t->cert_subject) +
		      str_size(t->cert_issuer) + str_size(t->client_version) + str_size(f->mark) +
		      str_size(f->comment) + str_size(f->mode);
	nstr += msg_size(&f->request) + msg_size(&f->response) - nhdr * sizeof(struct flow_header);
	char *block = xmalloc(sizeof *f + nhdr * sizeof(struct flow_header) + nstr);
	struct flow *d = (struct flow *)block;
	struct flow_header *harr = (struct flow_header *)(block + sizeof *f);
	char *p = (char *)(harr + nhdr);
	*d = *f;
	d->_packed = 1;
	d->scheme = put_str(&p, f->scheme);
	d->host = put_str(&p, f->host);
	d->path = put_str(&p, f->path);
	d->error = put_str(&p, f->error);
	d->mode = put_str(&p, f->mode);
	d->mark = put_str(&p, f->mark);
	d->comment = put_str(&p, f->comment);
	d->tls = (struct flow_tls){put_str(&p, t->sni),		  put_str(&p, t->version),
				   put_str(&p, t->cipher),	  put_str(&p, t->alpn),
				   put_str(&p, t->cert_subject),  put_str(&p, t->cert_issuer),
				   put_str(&p, t->client_version)};
	msg_pack(&d->request, &f->request, &harr, &p);
	msg_pack(&d->response, &f->response, &harr, &p);
	return d;
}

struct flow *flow_snapshot_take(struct flow *f)
{
	struct flow_buf rq = f->request.body, rs = f->response.body;
	memset(&f->request.body, 0, sizeof rq);
	memset(&f->response.body, 0, sizeof rs);
	struct flow *d = flow_snapshot(f);
	d->request.body = rq;
	d->response.body = rs;
	flow_free(f);
	return d;
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	if (f->_packed) { /* everything but the bodies is in f's own allocation */
		flow_buf_clear(&f->request.body);
		flow_buf_clear(&f->response.body);
		free(f);
		return;
	}
	free(f->scheme);
	free(f->host);
	free(f->path);
	free(f->error);
	free(f->mode);
	free(f->mark);
	free(f->comment);
	flow_msg_clear(&f->request);
	flow_msg_clear(&f->response);
	tls_clear(&f->tls);
	free(f);
}

void flow_set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = dup_or_null(src);
}

void flow_set_error(struct flow *f, const char *msg)
{
	if (!f->error)
		f->error = xstrdup(msg);
	f->state = FLOW_ERROR;
}

const char *flow_state_name(enum flow_state s)
{
	switch (s) {
	case FLOW_PENDING:
		return "pending";
	case FLOW_DONE:
		return "done";
	case FLOW_ERROR:
		return "error";
	case FLOW_PAUSED:
		return "paused";
	}
	return "unknown";
}

const char *flow_kind_name(enum flow_kind k)
{
	return k == FLOW_TUNNEL ? "tunnel" : "http";
}
