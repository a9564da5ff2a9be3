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

void flow_msg_add_header(struct flow_msg *m, const char *name, size_t name_len,
			 const char *value, size_t value_len)
{
	if (m->num_headers == m->cap_headers) {
		m->cap_headers = m->cap_headers ? m->cap_headers * 2 : 16;
		m->headers = xrealloc(m->headers, m->cap_headers * sizeof *m->headers);
	}
	struct flow_header *h = &m->headers[m->num_headers++];
	h->name = xstrndup(name, name_len);
	h->name_len = name_len;
	h->value = xstrndup(value, value_len);
	h->value_len = value_len;
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
	for (size_t i = 0; i < m->num_headers; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
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
	dst->headers = NULL;
	dst->num_headers = dst->cap_headers = 0;
	for (size_t i = 0; i < src->num_headers; i++)
		flow_msg_add_header(dst, src->headers[i].name, src->headers[i].name_len,
				    src->headers[i].value, src->headers[i].value_len);
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
	d->scheme = dup_or_null(f->scheme);
	d->host = dup_or_null(f->host);
	d->path = dup_or_null(f->path);
	d->error = dup_or_null(f->error);
	d->mark = dup_or_null(f->mark);
	d->comment = dup_or_null(f->comment);
	msg_copy(&d->request, &f->request);
	msg_copy(&d->response, &f->response);
	tls_copy(&d->tls, &f->tls);
	return d;
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	free(f->scheme);
	free(f->host);
	free(f->path);
	free(f->error);
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
