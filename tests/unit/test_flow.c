/* SPDX-License-Identifier: MIT */
/* test_flow.c - the flow record: ids, headers in order, the body cap, deep copies. */
#include "flow.h"

#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_ids(void)
{
	flow_seed_ids(41);
	struct flow *a = flow_new(), *b = flow_new();
	ok(a->id == 41 && b->id == 42);
	flow_free(a);
	flow_free(b);
	flow_free(NULL);
}

static void test_headers(void)
{
	struct flow_msg m = {0};
	for (int i = 0; i < 40; i++)
		flow_msg_add_header(&m, "X-N", 3, "v", 1);
	flow_msg_add_header(&m, "Content-Type", 12, "text/plain\0x", 12);
	ok(m.num_headers == 41);
	const struct flow_header *h = flow_msg_header(&m, "content-type");
	ok(h && h->value_len == 12 && memcmp(h->value, "text/plain\0x", 12) == 0);
	ok(strcmp(h->name, "Content-Type") == 0);
	ok(flow_msg_header(&m, "missing") == NULL);
	flow_msg_clear(&m);
	ok(m.num_headers == 0 && m.headers == NULL);
}

/* A parsed head's headers share one block; edits free only what is not in it. */
static void test_header_block(void)
{
	static const char strings[] = "Host\0a\0Cookie\0x=1\0X-Empty\0";
	char *block = malloc(flow_head_block_size(sizeof strings, 3));
	memcpy(block, strings, sizeof strings);
	static const size_t lens[] = {4, 1, 6, 3, 7, 0};
	struct flow_msg m = {0};
	flow_msg_take_headers(&m, block, sizeof strings, lens, 3);
	ok(m.num_headers == 3 && m.header_block == block);
	ok(strcmp(m.headers[1].name, "Cookie") == 0 && strcmp(m.headers[1].value, "x=1") == 0);
	ok(m.headers[2].value_len == 0 && m.headers[2].value[0] == 0);
	flow_msg_set_value(&m, &m.headers[0], strdup("b"), 1);
	flow_msg_add_header(&m, "X-Late", 6, "1", 1);
	ok(flow_msg_header(&m, "host")->value[0] == 'b' && m.num_headers == 4);
	struct flow *f = flow_new();
	f->request = m;
	struct flow *d = flow_dup(f), *s = flow_snapshot(f);
	ok(d->request.header_block == NULL && s->request.header_block == NULL);
	ok(strcmp(d->request.headers[1].value, "x=1") == 0 &&
	   strcmp(s->request.headers[3].name, "X-Late") == 0);
	flow_msg_free_header(&f->request, &f->request.headers[1]); /* in the block: kept */
	f->request.headers[1] = f->request.headers[3];
	f->request.num_headers = 3;
	flow_free(d);
	flow_free(s);
	flow_free(f); /* the block, the new value and X-Late once each (ASan checks) */
}

/* A parsed head's target and method may lie in its block after the headers: replacing one
 * frees only what is not in the block. */
/* Drops m's last header as exchange_remove_headers() would: its bytes stay in the block. */
static void exchange_like_remove_last(struct flow_msg *m)
{
	flow_msg_free_header(m, &m->headers[--m->num_headers]);
}

static void test_start_line_in_block(void)
{
	static const char strings[] = "Host\0a\0/p?q\0GET\0";
	char *block = malloc(flow_head_block_size(sizeof strings, 1));
	memcpy(block, strings, sizeof strings);
	static const size_t lens[] = {4, 1};
	struct flow_msg m = {0};
	flow_msg_take_headers(&m, block, sizeof strings, lens, 1);
	m.target = block + 7;
	m.method = block + 12;
	ok(strcmp(m.target, "/p?q") == 0 && strcmp(m.method, "GET") == 0);
	ok(FLOW_HEADER_IS(&m.headers[0], "HOST") && !FLOW_HEADER_IS(&m.headers[0], "Hos"));
	flow_msg_set_str(&m, &m.method, "PUT");	 /* the block's "GET" stays */
	flow_msg_set_str(&m, &m.method, "POST"); /* "PUT" is freed */
	struct flow *f = flow_new();
	f->request = m;
	struct flow *s = flow_snapshot(f);
	ok(strcmp(s->request.method, "POST") == 0 && strcmp(s->request.target, "/p?q") == 0);
	flow_free(s);
	flow_free(f); /* the block and "POST" once each (ASan checks) */
}

/* A snapshot copies a parsed head's block whole when every header lies in it, and string by
 * string once one was edited; either way it holds the same head. */
static void test_snapshot_block(void)
{
	static const char strings[] = "Host\0a.example\0Accept\0*/*\0X-Gone\0y\0/p\0GET\0";
	char *block = malloc(flow_head_block_size(sizeof strings, 3));
	memcpy(block, strings, sizeof strings);
	static const size_t lens[] = {4, 9, 6, 3, 6, 1};
	struct flow *f = flow_new();
	struct flow_msg *m = &f->request;
	flow_msg_take_headers(m, block, sizeof strings, lens, 3);
	m->target = block + 35;
	m->method = block + 38;
	exchange_like_remove_last(m);
	struct flow *s = flow_snapshot(f);
	ok(s->request.num_headers == 2 && strcmp(s->request.headers[1].value, "*/*") == 0 &&
	   strcmp(s->request.headers[0].value, "a.example") == 0 &&
	   s->request.headers[0].name != m->headers[0].name);
	ok(strcmp(s->request.method, "GET") == 0 && strcmp(s->request.target, "/p") == 0 &&
	   s->request.target != m->target);
	flow_free(s);
	char *v = malloc(4);
	memcpy(v, "b.ex", 4);
	v[3] = '\0';
	flow_msg_set_value(m, &m->headers[0], v, 3); /* one header outside the block */
	flow_msg_set_str(m, &m->target, "/q");
	s = flow_snapshot(f);
	ok(strcmp(s->request.headers[0].value, "b.e") == 0 &&
	   strcmp(s->request.headers[1].name, "Accept") == 0 &&
	   strcmp(s->request.target, "/q") == 0 && strcmp(s->request.method, "GET") == 0);
	flow_free(s);
	flow_free(f);
}

static void test_body_cap(void)
{
	struct flow_msg m = {0};
	flow_msg_add_body(&m, "hello", 5, 8);
	ok(m.body.len == 5 && !m.body_truncated);
	flow_msg_add_body(&m, "world", 5, 8);
	ok(m.body.len == 8 && m.body_size == 10 && m.body_truncated);
	ok(memcmp(m.body.data, "hellowor", 8) == 0);
	flow_msg_add_body(&m, "!", 1, 8);
	ok(m.body.len == 8 && m.body_size == 11);
	flow_msg_clear(&m);
	flow_msg_add_body(&m, "abc", 3, 0);
	ok(m.body.len == 0 && m.body_size == 3 && m.body_truncated);
	flow_msg_clear(&m);
}

static void test_dup(void)
{
	struct flow *f = flow_new();
	flow_set_str(&f->host, "example.com");
	flow_set_str(&f->request.method, "POST");
	flow_msg_add_header(&f->request, "A", 1, "b", 1);
	flow_msg_add_body(&f->request, "xyz", 3, 100);
	flow_set_str(&f->tls.sni, "example.com");
	flow_set_error(f, "first");
	flow_set_error(f, "second");
	struct flow *d = flow_dup(f);
	flow_free(f);
	ok(strcmp(d->host, "example.com") == 0 && strcmp(d->request.method, "POST") == 0);
	ok(d->request.num_headers == 1 && strcmp(d->request.headers[0].value, "b") == 0);
	ok(d->request.body.len == 3 && memcmp(d->request.body.data, "xyz", 3) == 0);
	ok(strcmp(d->tls.sni, "example.com") == 0);
	ok(strcmp(d->error, "first") == 0 && d->state == FLOW_ERROR);
	ok(strcmp(flow_state_name(d->state), "error") == 0);
	flow_free(d);
}

/* A snapshot is one block but for its bodies: every string and header copied byte for byte
 * (NULs in values kept), NULL strings NULL; its bodies are its own; a dup of it is an ordinary
 * flow that can be edited; flow_free() of either (ASan checks the frees). */
static void test_snapshot(void)
{
	struct flow *f = flow_new();
	flow_set_str(&f->scheme, "https");
	flow_set_str(&f->host, "example.com");
	flow_set_str(&f->path, "/a?b=1");
	flow_set_str(&f->request.method, "GET");
	flow_set_str(&f->request.target, "/a?b=1");
	flow_msg_add_header(&f->request, "Host", 4, "example.com", 11);
	flow_msg_add_header(&f->request, "X-Bin", 5, "a\0b", 3);
	f->response.present = 1;
	flow_set_str(&f->response.reason, "OK");
	for (int i = 0; i < 20; i++)
		flow_msg_add_header(&f->response, "X-N", 3, "v", 1);
	flow_msg_add_body(&f->response, "hello", 5, 100);
	flow_set_str(&f->tls.cert_subject, "CN=example.com");
	flow_set_str(&f->mark, "red"); /* the user's notes (a HAR import's) travel too */
	flow_set_str(&f->comment, "seen");
	struct flow *s = flow_snapshot(f);
	ok(s->mark != f->mark && strcmp(s->mark, "red") == 0 && strcmp(s->comment, "seen") == 0);
	ok(s->id == f->id && strcmp(s->host, "example.com") == 0 && strcmp(s->path, "/a?b=1") == 0);
	ok(s->error == NULL && s->tls.sni == NULL &&
	   strcmp(s->tls.cert_subject, "CN=example.com") == 0);
	ok(strcmp(s->request.method, "GET") == 0 && s->response.method == NULL);
	ok(s->request.num_headers == 2 && s->request.headers[1].value_len == 3 &&
	   memcmp(s->request.headers[1].value, "a\0b", 4) == 0);
	ok(s->response.num_headers == 20 && strcmp(s->response.headers[19].name, "X-N") == 0);
	ok(s->response.body.len == 5 && s->response.body.data != f->response.body.data);
	flow_free(f);
	ok(memcmp(s->response.body.data, "hello", 5) == 0);
	flow_msg_add_body(&s->response, " world", 6, 100);
	ok(s->response.body.len == 11);
	struct flow *d = flow_dup(s);
	flow_free(s);
	flow_set_str(&d->host, "other.example");
	flow_msg_add_header(&d->request, "A", 1, "b", 1);
	ok(strcmp(d->host, "other.example") == 0 && d->request.num_headers == 3);
	flow_free(d);
	struct flow *e = flow_new(), *es = flow_snapshot(e);
	ok(es->host == NULL && es->request.headers == NULL && es->response.body.data == NULL);
	flow_free(es);
	flow_free(e);
	/* take: a large body moves (no copy), a small one is copied into the snapshot's own
	 * allocation; the flow is freed */
	struct flow *t = flow_new();
	flow_set_str(&t->host, "example.com");
	static char big[20000];
	memset(big, 'b', sizeof big);
	flow_msg_add_body(&t->request, big, sizeof big, sizeof big);
	flow_msg_add_body(&t->response, "abc", 3, 100);
	const char *data = t->request.body.data;
	struct flow *ts = flow_snapshot_take(t);
	ok(ts->request.body.data == data && ts->request.body.len == sizeof big);
	ok(ts->response.body.len == 3 && memcmp(ts->response.body.data, "abc", 3) == 0 &&
	   ts->response.body.pooled == FLOW_BUF_BORROWED);
	ok(strcmp(ts->host, "example.com") == 0);
	flow_buf_clear(&ts->response.body); /* the store's writer does, once the body is written */
	ok(ts->response.body.data == NULL && ts->response.body.len == 0);
	flow_free(ts);
}

/* flow_snapshot_clear(): the snapshot holds the flow, the flow is emptied (no id, no strings,
 * no headers, no body) and takes strings in its room again. */
static void test_snapshot_clear(void)
{
	struct flow *f = flow_new();
	for (int round = 0; round < 3; round++) {
		flow_put_str(f, &f->host, "example.com");
		flow_set_str(&f->path, "/p");
		flow_msg_add_header(&f->response, "X-A", 3, "1", 1);
		flow_msg_add_body(&f->response, "body", 4, 100);
		f->t.start = 7;
		struct flow *s = flow_snapshot_clear(f);
		ok(strcmp(s->host, "example.com") == 0 && strcmp(s->path, "/p") == 0 &&
		   s->response.num_headers == 1 && s->response.body.len == 4 && s->t.start == 7);
		ok(f->id == 0 && f->host == NULL && f->path == NULL && f->response.num_headers == 0 &&
		   f->response.body.data == NULL && f->t.start == 0 && f->_arena != NULL &&
		   f->_arena_used == 0);
		flow_free(s);
		f->id = flow_next_id();
	}
	flow_free(f);
}

/* Snapshots of the recycled sizes and beyond (a 16 KiB body inside, then a head of 40 KiB):
 * made, freed and made again, each holds its own flow. */
static void test_snapshot_classes(void)
{
	static char body[16 * 1024], value[1024];
	memset(body, 'x', sizeof body);
	memset(value, 'v', sizeof value);
	int good = 1;
	for (int round = 0; round < 3; round++) {
		struct flow *f = flow_new(), *s[6];
		for (int i = 0; i < 6; i++) {
			size_t n = i == 5 ? sizeof body : (size_t)1 << (9 + i);
			flow_msg_add_body(&f->response, body, n - f->response.body.len, sizeof body);
			if (i == 5)
				for (int j = 0; j < 40; j++)
					flow_msg_add_header(&f->response, "X-Big", 5, value, sizeof value);
			s[i] = flow_snapshot(f);
		}
		for (int i = 0; i < 6; i++) {
			size_t n = i == 5 ? sizeof body : (size_t)1 << (9 + i);
			good &= s[i]->response.body.len == n && s[i]->response.body.data[n - 1] == 'x' &&
				s[i]->response.num_headers == (i == 5 ? 40u : 0u);
			flow_free(s[i]);
		}
		flow_free(f);
	}
	ok(good);
}

/* flow_put_str(): small strings in the room flow_new() gives, larger ones and those of other
 * flows on the heap; replaced, copied and freed alike. */
static void test_put_str(void)
{
	struct flow *f = flow_new();
	flow_put_str(f, &f->scheme, "https");
	flow_put_str(f, &f->host, "example.com");
	char long_name[600];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	flow_put_str(f, &f->tls.cert_subject, long_name); /* does not fit: malloc */
	flow_put_str(f, &f->tls.cipher, "TLS_AES_128_GCM_SHA256");
	ok(strcmp(f->scheme, "https") == 0 && strcmp(f->host, "example.com") == 0 &&
	   strlen(f->tls.cert_subject) == 599 &&
	   strcmp(f->tls.cipher, "TLS_AES_128_GCM_SHA256") == 0);
	flow_put_str(f, &f->host, "other.example"); /* replaced in the arena */
	flow_put_str(f, &f->tls.cert_subject, "CN=x"); /* the heap copy freed */
	flow_put_str(f, &f->scheme, NULL);
	ok(strcmp(f->host, "other.example") == 0 && strcmp(f->tls.cert_subject, "CN=x") == 0 &&
	   f->scheme == NULL);
	struct flow *d = flow_dup(f), *s = flow_snapshot(f);
	ok(strcmp(d->host, "other.example") == 0 && d->host != f->host && d->_arena == NULL);
	flow_set_str(&d->host, "dup.example"); /* a dup's strings are ordinary */
	ok(strcmp(s->host, "other.example") == 0 && strcmp(d->host, "dup.example") == 0);
	/* a flow not from flow_new() puts every string on the heap */
	struct flow *z = calloc(1, sizeof *z);
	flow_put_str(z, &z->host, "heap.example");
	ok(strcmp(z->host, "heap.example") == 0);
	flow_free(z);
	flow_free(s);
	flow_free(d);
	flow_free(f);
}

/* Snapshots of many sizes, made and freed over and over: each holds the flow it was made of. */
static void test_snapshot_recycle(void)
{
	struct flow *f = flow_new();
	flow_set_str(&f->host, "example.com");
	int good = 1;
	for (int round = 0; round < 3; round++) {
		struct flow *s[40];
		for (int i = 0; i < 40; i++) {
			flow_msg_add_header(&f->request, "X-Pad", 5, "0123456789abcdefghij", 20);
			s[i] = flow_snapshot(f);
		}
		for (int i = 0; i < 40; i++) {
			good &=
			    s[i]->request.num_headers == (size_t)(40 * round + i + 1) &&
			    strcmp(s[i]->host, "example.com") == 0 &&
			    memcmp(s[i]->request.headers[i].value, "0123456789abcdefghij", 21) == 0;
			flow_free(s[i]);
		}
	}
	ok(good);
	flow_free(f);
}

/* A body past FLOW_POOL_MIN moves into a page-aligned buffer of the whole limit, taken from
 * the pool and given back by flow_msg_clear(); smaller bodies and copies stay plain. */
static void test_pool(void)
{
	size_t limit = 1 << 20;
	char chunk[16384];
	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)(i * 7);
	struct flow_msg m = {0};
	for (size_t n = 0; n < FLOW_POOL_MIN; n += sizeof chunk)
		flow_msg_add_body(&m, chunk, sizeof chunk, limit);
	ok(m.body.len == FLOW_POOL_MIN && !m.body.pooled); /* at the threshold: not yet */
	flow_msg_add_body(&m, chunk, 1, limit);
	ok(m.body.pooled && m.body.cap == limit && (uintptr_t)m.body.data % 4096 == 0);
	ok(memcmp(m.body.data + 16384, chunk, sizeof chunk) == 0 &&
	   m.body.data[FLOW_POOL_MIN] == 0);
	for (int i = 0; i < 100; i++) /* up to the limit, then counted only */
		flow_msg_add_body(&m, chunk, sizeof chunk, limit);
	ok(m.body.len == limit && m.body_truncated && m.body.cap == limit);
	ok(memcmp(m.body.data + limit - 100, chunk + (limit - FLOW_POOL_MIN - 1 - 100) % 16384,
		  100) == 0);

	struct flow *f = flow_new();
	f->response = m;
	struct flow *d = flow_dup(f);
	ok(!d->response.body.pooled && d->response.body.len == limit &&
	   memcmp(d->response.body.data, m.body.data, limit) == 0);
	flow_free(d);
	char *was = f->response.body.data;
	flow_free(f); /* gives the buffer back... */
	memset(&m, 0, sizeof m);
	char *big = calloc(1, limit);
	flow_msg_add_body(&m, big, FLOW_POOL_MIN + 1, limit);
	ok(m.body.pooled && m.body.data == was); /* ...and the next large body gets it */
	/* appending past a pooled buffer's end makes it a plain one */
	flow_msg_add_body(&m, big, limit - m.body.len, limit);
	flow_buf_append(&m.body, "x", 1);
	ok(!m.body.pooled && m.body.len == limit + 1 && m.body.data[limit] == 'x');
	flow_msg_clear(&m);
	/* a different limit does not take a kept buffer of another size */
	flow_msg_add_body(&m, big, FLOW_POOL_MIN + 1, limit);
	was = m.body.data;
	flow_msg_clear(&m);
	flow_msg_add_body(&m, big, FLOW_POOL_MIN + 1, limit * 2);
	ok(m.body.pooled && m.body.cap == limit * 2 && m.body.data != was);
	flow_msg_clear(&m);
	free(big);
	/* a limit over FLOW_POOL_MAX: the body grows as it comes, nothing is kept */
	char chunk2[4096] = {0};
	for (size_t n = 0; n <= FLOW_POOL_MIN; n += sizeof chunk2)
		flow_msg_add_body(&m, chunk2, sizeof chunk2, FLOW_POOL_MAX + 1);
	ok(!m.body.pooled && m.body.cap < 2 * (FLOW_POOL_MIN + sizeof chunk2));
	flow_msg_clear(&m);
}

int main(void)
{
	subtest("ids", test_ids);
	subtest("headers", test_headers);
	subtest("header block", test_header_block);
	subtest("start line in the block", test_start_line_in_block);
	subtest("snapshot of a block", test_snapshot_block);
	subtest("body cap", test_body_cap);
	subtest("dup", test_dup);
	subtest("snapshot", test_snapshot);
	subtest("snapshot recycle", test_snapshot_recycle);
	subtest("put_str", test_put_str);
	subtest("snapshot clear", test_snapshot_clear);
	subtest("snapshot classes", test_snapshot_classes);
	subtest("pool", test_pool);
	return harness_done();
}
