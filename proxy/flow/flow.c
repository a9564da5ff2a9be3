/* SPDX-License-Identifier: MIT */
/* flow.c - the flow record: allocation, deep copy, headers and capped bodies. */
#include "flow.h"

#include "snappool.h"
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

/* Bytes of room for strings that flow_new() allocates with each flow: a listener's label, the
 * scheme and host, the upstream's TLS version, cipher, ALPN, certificate subject and issuer
 * fit in it as a rule; what does not goes to malloc as before. */
#define ARENA_SIZE 512

struct flow *flow_new(void)
{
	struct flow *f = xmalloc(sizeof *f + ARENA_SIZE);
	memset(f, 0, sizeof *f);
	f->_arena = (char *)(f + 1);
	f->id = flow_next_id();
	return f;
}

/* 1 when s lies in f's arena. */
static int in_arena(const struct flow *f, const char *s)
{
	uintptr_t a = (uintptr_t)f->_arena, p = (uintptr_t)s;
	return f->_arena && p >= a && p < a + ARENA_SIZE;
}

/* Frees s, one of f's own strings, unless it lies in f's arena. */
static void str_free(const struct flow *f, char *s)
{
	if (s && !in_arena(f, s))
		free(s);
}

void flow_put_str(struct flow *f, char **field, const char *src)
{
	str_free(f, *field);
	*field = NULL;
	if (!src)
		return;
	size_t n = strlen(src) + 1;
	if (f->_arena && n <= ARENA_SIZE - f->_arena_used) {
		*field = memcpy(f->_arena + f->_arena_used, src, n);
		f->_arena_used += n; /* a replaced string's bytes are not reused: rare */
	} else {
		*field = xstrdup(src);
	}
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
	if (b->pooled != FLOW_BUF_BORROWED)
		free(b->data);
	b->data = p;
	b->cap = cap;
	b->pooled = FLOW_BUF_POOLED;
}

char *flow_buf_grow(struct flow_buf *b, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		if (b->pooled == FLOW_BUF_BORROWED) {
			char *p = xmalloc(cap);
			memcpy(p, b->data, b->len);
			b->data = p;
		} else {
			b->data = xrealloc(b->data, cap);
		}
		b->cap = cap;
		b->pooled = 0; /* no longer the pool's size */
	}
	b->len += len;
	return b->data + b->len - len;
}

void flow_buf_append(struct flow_buf *b, const char *data, size_t len)
{
	if (len)
		memcpy(flow_buf_grow(b, len), data, len);
}

void flow_buf_clear(struct flow_buf *b)
{
	if (b->pooled == FLOW_BUF_POOLED)
		pool_give(b->data, b->cap);
	else if (b->pooled != FLOW_BUF_BORROWED)
		free(b->data);
	memset(b, 0, sizeof *b);
}

/* Where flow_msg_take_headers() puts the header array in a block of len string bytes. */
static size_t array_at(size_t len)
{
	size_t a = _Alignof(struct flow_header);
	return (len + a - 1) / a * a;
}

size_t flow_head_block_size(size_t len, size_t n)
{
	return array_at(len) + n * sizeof(struct flow_header);
}

/* 1 when m's header array lies in its header block (flow_msg_take_headers()). */
static int array_in_block(const struct flow_msg *m)
{
	return m->header_block &&
	       (char *)m->headers == m->header_block + array_at(m->header_block_len);
}

/* Appends name: value to the array *arr of *n entries (room for *cap); fixed: *arr lies in a
 * header block, it moves to the heap when it grows. */
static void add_to(struct flow_header **arr, size_t *n, size_t *cap, int fixed, const char *name,
		   size_t name_len, const char *value, size_t value_len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if (fixed) {
			struct flow_header *a = xmalloc(*cap * sizeof **arr);
			memcpy(a, *arr, *n * sizeof **arr);
			*arr = a;
		} else {
			*arr = xrealloc(*arr, *cap * sizeof **arr);
		}
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
	add_to(&m->headers, &m->num_headers, &m->cap_headers, array_in_block(m), name, name_len,
	       value, value_len);
}

void flow_msg_add_trailer(struct flow_msg *m, const char *name, size_t name_len, const char *value,
			  size_t value_len)
{
	add_to(&m->trailers, &m->num_trailers, &m->cap_trailers, 0, name, name_len, value,
	       value_len);
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
	free(m->headers); /* none yet: an empty array at most */
	m->headers = (struct flow_header *)(block + array_at(len));
	m->cap_headers = n;
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

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
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

void flow_msg_set_str(struct flow_msg *m, char **field, const char *src)
{
	if (!in_block(m, *field))
		free(*field);
	*field = dup_or_null(src);
}

void flow_msg_set_value(struct flow_msg *m, struct flow_header *h, char *value, size_t len)
{
	if (!in_block(m, h->value))
		free(h->value);
	h->value = value;
	h->value_len = len;
}

int flow_header_is(const struct flow_header *h, const char *name, size_t len)
{
	return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

const struct flow_header *flow_msg_header(const struct flow_msg *m, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < m->num_headers; i++)
		if (flow_header_is(&m->headers[i], name, len))
			return &m->headers[i];
	return NULL;
}

void flow_msg_add_body(struct flow_msg *m, const char *data, size_t len, size_t limit)
{
	size_t room = m->body.len < limit ? limit - m->body.len : 0;
	size_t take = len < room ? len : room;
	if (m->body.pooled != FLOW_BUF_POOLED && limit <= FLOW_POOL_MAX &&
	    m->body.len + take > FLOW_POOL_MIN)
		buf_move_to_pool(&m->body, limit); /* limit > FLOW_POOL_MIN here */
	flow_buf_append(&m->body, data, take);
	m->body_size += len;
	if (m->body_size > m->body.len)
		m->body_truncated = 1;
}

/* Frees the strings of the n entries of arr that do not lie in m's header block: one compare
 * per string (an address below the block wraps around to a large offset). */
static void free_loose(const struct flow_msg *m, struct flow_header *arr, size_t n)
{
	uintptr_t b = (uintptr_t)m->header_block;
	size_t len = m->header_block ? m->header_block_len : 0;
	for (size_t i = 0; i < n; i++) {
		if ((uintptr_t)arr[i].name - b >= len)
			free(arr[i].name);
		if ((uintptr_t)arr[i].value - b >= len)
			free(arr[i].value);
	}
}

/* 1 when m owns nothing: a parser's message after its head was handed over, a new flow's
 * response. Most of flow_msg_clear()'s calls (about five per request) find one. */
static int msg_empty(const struct flow_msg *m)
{
	return !m->method && !m->target && !m->reason && !m->headers && !m->trailers &&
	       !m->header_block && !m->body.data;
}

void flow_msg_clear(struct flow_msg *m)
{
	if (msg_empty(m)) {
		memset(m, 0, sizeof *m);
		return;
	}
	flow_msg_set_str(m, &m->method, NULL);
	flow_msg_set_str(m, &m->target, NULL);
	flow_msg_set_str(m, &m->reason, NULL);
	free_loose(m, m->headers, m->num_headers);
	if (!array_in_block(m))
		free(m->headers);
	free_loose(m, m->trailers, m->num_trailers);
	free(m->trailers);
	free(m->header_block);
	flow_buf_clear(&m->body);
	memset(m, 0, sizeof *m);
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

static void tls_clear(const struct flow *f, struct flow_tls *t)
{
	str_free(f, t->sni);
	str_free(f, t->version);
	str_free(f, t->cipher);
	str_free(f, t->alpn);
	str_free(f, t->cert_subject);
	str_free(f, t->cert_issuer);
	str_free(f, t->client_version);
	memset(t, 0, sizeof *t);
}

struct flow *flow_dup(const struct flow *f)
{
	struct flow *d = xmalloc(sizeof *d);
	*d = *f;
	d->_packed = 0;
	d->_arena = NULL;
	d->_arena_used = 0;
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

/* ---- snapshots: one allocation for the flow, its strings and its headers ----
 *
 * Each string's length is taken once (strlen) while sizing the block and used again to pack
 * it. */

/* The strings a flow holds outside its messages, in packing order. */
#define FLOW_STRS 14

static void flow_strs(struct flow *f, char **s[FLOW_STRS])
{
	char **all[FLOW_STRS] = {&f->scheme,
				 &f->host,
				 &f->path,
				 &f->error,
				 &f->mode,
				 &f->mark,
				 &f->comment,
				 &f->tls.sni,
				 &f->tls.version,
				 &f->tls.cipher,
				 &f->tls.alpn,
				 &f->tls.cert_subject,
				 &f->tls.cert_issuer,
				 &f->tls.client_version};
	memcpy(s, all, sizeof all);
}

/* The start line's strings of a message, in packing order. */
#define MSG_STRS 3

/* A body up to this size travels inside its snapshot's allocation (FLOW_BUF_BORROWED): for a
 * small response that is one malloc on the worker and one free on the store's writer fewer,
 * and the live buffer is freed by the thread that allocated it, where glibc recycles it at
 * once (a buffer freed on another thread leaves the worker's cache empty: the next malloc of
 * its size takes the slow path). Copying 16 KiB costs less than that malloc and free. */
#define SNAP_BODY_INLINE (16 * 1024)

/* 1 when b travels inside a snapshot. */
static int body_inline(const struct flow_buf *b)
{
	return b->len && b->len <= SNAP_BODY_INLINE && b->pooled != FLOW_BUF_POOLED;
}

/* How a message goes into a snapshot (msg_size() plans, msg_pack() follows). */
struct msg_plan {
	size_t lens[MSG_STRS]; /* the start line's strings' lengths; IN_BLOCK: in the block */
	int whole;	       /* every header lies in the header block: it is copied whole */
};
#define IN_BLOCK SIZE_MAX

/* 1 when every header of m lies in its header block (a parsed head, not edited since, but for
 * headers removed): a snapshot then copies the block in one go and moves the pointers, instead
 * of copying the strings one by one. */
static int block_whole(const struct flow_msg *m)
{
	if (!m->header_block)
		return 0;
	for (size_t i = 0; i < m->num_headers; i++)
		if (!in_block(m, m->headers[i].name) || !in_block(m, m->headers[i].value))
			return 0;
	return 1;
}

/* Bytes m's strings and headers take in a snapshot, planned in *pl. */
static size_t msg_size(const struct flow_msg *m, struct msg_plan *pl)
{
	const char *s[MSG_STRS] = {m->method, m->target, m->reason};
	size_t n = (m->num_headers + m->num_trailers) * sizeof *m->headers;
	pl->whole = block_whole(m);
	for (int i = 0; i < MSG_STRS; i++) {
		if (pl->whole && in_block(m, s[i])) {
			pl->lens[i] = IN_BLOCK;
			continue;
		}
		pl->lens[i] = s[i] ? strlen(s[i]) : 0;
		n += s[i] ? pl->lens[i] + 1 : 0;
	}
	if (pl->whole)
		n += m->header_block_len;
	else
		for (size_t i = 0; i < m->num_headers; i++)
			n += m->headers[i].name_len + m->headers[i].value_len + 2;
	for (size_t i = 0; i < m->num_trailers; i++)
		n += m->trailers[i].name_len + m->trailers[i].value_len + 2;
	if (body_inline(&m->body))
		n += m->body.len;
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

/* The headers of src, whose header block is copied whole at *p (moves on), rebased into that
 * copy at *harr (moves on); the start line's strings in the block follow (lens IN_BLOCK). */
static struct flow_header *pack_block(struct flow_msg *dst, const struct flow_msg *src,
				      const size_t lens[MSG_STRS], struct flow_header **harr,
				      char **p)
{
	char *copy = memcpy(*p, src->header_block, src->header_block_len);
	*p += src->header_block_len;
	char **strs[MSG_STRS] = {&dst->method, &dst->target, &dst->reason};
	for (int i = 0; i < MSG_STRS; i++)
		if (lens[i] == IN_BLOCK)
			*strs[i] = copy + (*strs[i] - src->header_block);
	struct flow_header *d = src->num_headers ? *harr : NULL;
	*harr += src->num_headers;
	for (size_t i = 0; i < src->num_headers; i++) {
		const struct flow_header *h = &src->headers[i];
		d[i] = (struct flow_header){copy + (h->name - src->header_block),
					    copy + (h->value - src->header_block), h->name_len,
					    h->value_len};
	}
	return d;
}

/* dst = src with its header arrays at *harr (moves on) and its strings (as planned by
 * msg_size()) at *p (moves on). */
static void msg_pack(struct flow_msg *dst, const struct flow_msg *src,
		     const struct msg_plan *pl, struct flow_header **harr, char **p)
{
	const size_t *lens = pl->lens;
	*dst = *src;
	if (lens[0] != IN_BLOCK)
		dst->method = put_bytes(p, src->method, lens[0]);
	if (lens[1] != IN_BLOCK)
		dst->target = put_bytes(p, src->target, lens[1]);
	if (lens[2] != IN_BLOCK)
		dst->reason = put_bytes(p, src->reason, lens[2]);
	if (pl->whole)
		dst->headers = pack_block(dst, src, lens, harr, p);
	else
		dst->headers = pack_headers(src->headers, src->num_headers, harr, p);
	dst->cap_headers = src->num_headers;
	dst->trailers = pack_headers(src->trailers, src->num_trailers, harr, p);
	dst->cap_trailers = src->num_trailers;
	dst->header_block = NULL; /* the snapshot's own allocation holds every string */
	dst->header_block_len = 0;
	memset(&dst->body, 0, sizeof dst->body);
	if (body_inline(&src->body)) {
		size_t n = src->body.len;
		dst->body =
		    (struct flow_buf){memcpy(*p, src->body.data, n), n, n, FLOW_BUF_BORROWED};
		*p += n;
	} else {
		flow_buf_append(&dst->body, src->body.data, src->body.len);
	}
}

struct flow *flow_snapshot(const struct flow *f)
{
	char **src[FLOW_STRS], **dst[FLOW_STRS];
	size_t lens[FLOW_STRS];
	struct msg_plan rq_plan, rs_plan;
	size_t nhdr = f->request.num_headers + f->response.num_headers + f->request.num_trailers +
		      f->response.num_trailers;
	size_t size = sizeof *f + msg_size(&f->request, &rq_plan) +
		      msg_size(&f->response, &rs_plan);
	flow_strs((struct flow *)f, src); /* only read */
	for (int i = 0; i < FLOW_STRS; i++) {
		lens[i] = *src[i] ? strlen(*src[i]) : 0;
		size += *src[i] ? lens[i] + 1 : 0;
	}
	int k;
	char *block = snappool_alloc(size, &k); /* recycled: see snappool.c */
	struct flow *d = (struct flow *)block;
	struct flow_header *harr = (struct flow_header *)(block + sizeof *f);
	char *p = (char *)(harr + nhdr);
	*d = *f;
	d->_packed = 2 + k; /* 1: malloc'd, 2 + k: of snapshot class k */
	d->_arena = NULL;
	d->_arena_used = 0;
	flow_strs(d, dst);
	for (int i = 0; i < FLOW_STRS; i++)
		*dst[i] = put_bytes(&p, *src[i], lens[i]);
	msg_pack(&d->request, &f->request, &rq_plan, &harr, &p);
	msg_pack(&d->response, &f->response, &rs_plan, &harr, &p);
	return d;
}

/* Moves *b out to *to unless it travels inside a snapshot; returns 1 when it moved. */
static int body_move(struct flow_buf *b, struct flow_buf *to)
{
	if (body_inline(b))
		return 0;
	*to = *b;
	memset(b, 0, sizeof *b);
	return 1;
}

/* flow_snapshot() of f with its large bodies moved out of f. */
static struct flow *snapshot_taking(struct flow *f)
{
	struct flow_buf rq, rs;
	int rq_moved = body_move(&f->request.body, &rq);
	int rs_moved = body_move(&f->response.body, &rs);
	struct flow *d = flow_snapshot(f);
	if (rq_moved)
		d->request.body = rq;
	if (rs_moved)
		d->response.body = rs;
	return d;
}

struct flow *flow_snapshot_take(struct flow *f)
{
	struct flow *d = snapshot_taking(f);
	flow_free(f); /* with the small bodies, copied into d */
	return d;
}

struct flow *flow_snapshot_clear(struct flow *f)
{
	struct flow *d = snapshot_taking(f);
	flow_clear(f);
	return d;
}

/* Frees what f, not a snapshot, owns (not f itself). */
static void release(struct flow *f)
{
	str_free(f, f->scheme);
	str_free(f, f->host);
	str_free(f, f->path);
	str_free(f, f->error);
	str_free(f, f->mode);
	str_free(f, f->mark);
	str_free(f, f->comment);
	flow_msg_clear(&f->request);
	flow_msg_clear(&f->response);
	tls_clear(f, &f->tls);
}

void flow_clear(struct flow *f)
{
	release(f);
	char *arena = f->_arena;
	memset(f, 0, sizeof *f);
	f->_arena = arena;
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	if (f->_packed) { /* everything but the bodies is in f's own allocation */
		flow_buf_clear(&f->request.body);
		flow_buf_clear(&f->response.body);
		snappool_free(f, f->_packed - 2);
		return;
	}
	release(f);
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
