/* SPDX-License-Identifier: MIT */
/* rules.c - the per-host decrypt filter. A rule set is a list of compiled PCRE2 patterns for
 * "ignore" and "allow", immutable after rules_new() and shared by reference count. The live
 * holder swaps sets under a mutex held only for a pointer copy and a reference count (taken
 * when a CONNECT is decided, once per request for the block and intercept matchers, and when
 * the web thread publishes new rules), so workers never see a half-built set and never wait
 * for a matcher. The same set carries the intercept matcher and block rules (main.c's
 * compiled filters), freed with the last reference. */
#include "rules.h"

#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rules {
	_Atomic unsigned refs;
	pcre2_code **ignore; /* owned, num_ignore compiled patterns */
	size_t num_ignore;
	pcre2_code **allow; /* owned */
	size_t num_allow;
	struct proxy_matcher intercept; /* owned m; match NULL: none */
	struct proxy_block_rule *block; /* owned array (and each matcher's m) */
	size_t num_block;
};

struct rules_live {
	pthread_mutex_t mu; /* guards cur */
	struct rules *cur;  /* owned reference */
};

static pcre2_code *compile(const char *re, const char *what, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c =
	    pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &code, &off, NULL);
	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "bad %s regex \"%s\" at offset %zu: %s", what, re,
			 (size_t)off, (char *)msg);
		return NULL;
	}
	/* JIT makes the match a few hundred nanoseconds; without it, it still works. */
	pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

static void free_list(pcre2_code **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcre2_code_free(list[i]);
	free(list);
}

struct rules *rules_new(const char *const *ignore_hosts, size_t num_ignore,
			const char *const *allow_hosts, size_t num_allow, char *err, size_t errlen)
{
	struct rules *r = xcalloc(1, sizeof *r);
	atomic_init(&r->refs, 1);
	r->ignore = xcalloc(num_ignore + 1, sizeof *r->ignore);
	r->allow = xcalloc(num_allow + 1, sizeof *r->allow);
	for (size_t i = 0; i < num_ignore; i++, r->num_ignore++)
		if (!(r->ignore[i] = compile(ignore_hosts[i], "ignore-hosts", err, errlen)))
			goto fail;
	for (size_t i = 0; i < num_allow; i++, r->num_allow++)
		if (!(r->allow[i] = compile(allow_hosts[i], "allow-hosts", err, errlen)))
			goto fail;
	return r;
fail:
	rules_unref(r);
	return NULL;
}

static int any_match(pcre2_code **list, size_t n, const char *subject, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(list[i], NULL);
		int rc = pcre2_match(list[i], (PCRE2_SPTR)subject, len, 0, 0, md, NULL);
		pcre2_match_data_free(md);
		if (rc >= 0)
			return 1;
	}
	return 0;
}

int rules_should_decrypt(const struct rules *r, const char *host, int port)
{
	char subject[512];
	int len = snprintf(subject, sizeof subject, "%s:%d", host, port);
	if (len < 0 || (size_t)len >= sizeof subject)
		len = (int)strlen(subject);
	if (any_match(r->ignore, r->num_ignore, subject, (size_t)len))
		return 0;
	if (r->num_allow && !any_match(r->allow, r->num_allow, subject, (size_t)len))
		return 0;
	return 1;
}

void rules_set_matchers(struct rules *r, const struct proxy_matcher *intercept,
			const struct proxy_block_rule *block, size_t num_block)
{
	if (intercept)
		r->intercept = *intercept;
	if (num_block) {
		r->block = xcalloc(num_block, sizeof *r->block);
		memcpy(r->block, block, num_block * sizeof *block);
		r->num_block = num_block;
	}
}

int rules_intercept(const struct rules *r, const struct flow *f)
{
	return r->intercept.match && r->intercept.match(r->intercept.m, f);
}

int rules_block(const struct rules *r, const struct flow *f)
{
	for (size_t i = 0; i < r->num_block; i++) {
		const struct proxy_matcher *m = &r->block[i].matcher;
		if (m->match && m->match(m->m, f))
			return r->block[i].status;
	}
	return 0;
}

static void free_matcher(struct proxy_matcher *m)
{
	if (m->free)
		m->free(m->m);
}

struct rules *rules_ref(struct rules *r)
{
	atomic_fetch_add(&r->refs, 1);
	return r;
}

void rules_unref(struct rules *r)
{
	if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	free_list(r->ignore, r->num_ignore);
	free_list(r->allow, r->num_allow);
	free_matcher(&r->intercept);
	for (size_t i = 0; i < r->num_block; i++)
		free_matcher(&r->block[i].matcher);
	free(r->block);
	free(r);
}

struct rules_live *rules_live_new(struct rules *initial)
{
	struct rules_live *l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	l->cur = initial;
	return l;
}

void rules_live_free(struct rules_live *l)
{
	if (!l)
		return;
	rules_unref(l->cur);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

struct rules *rules_live_get(struct rules_live *l)
{
	pthread_mutex_lock(&l->mu);
	struct rules *r = rules_ref(l->cur);
	pthread_mutex_unlock(&l->mu);
	return r;
}

void rules_live_set(struct rules_live *l, struct rules *r)
{
	pthread_mutex_lock(&l->mu);
	struct rules *old = l->cur;
	l->cur = r;
	pthread_mutex_unlock(&l->mu);
	rules_unref(old);
}

const char *rules_reason(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 410:
		return "Gone";
	case 418:
		return "I'm a teapot";
	case 429:
		return "Too Many Requests";
	case 451:
		return "Unavailable For Legal Reasons";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return status >= 200 && status < 300 ? "OK" : "Blocked";
	}
}

void rules_block_answer(struct flow_msg *m, int status, size_t body_limit)
{
	if (status < 100 || status > 999)
		status = 403;
	flow_msg_clear(m);
	m->present = 1;
	m->version = 11;
	m->status = status;
	flow_msg_set_str(m, &m->reason, rules_reason(status));
	flow_msg_add_header(m, "Content-Type", 12, RULES_BLOCK_TYPE, sizeof RULES_BLOCK_TYPE - 1);
	char len[16];
	int n = snprintf(len, sizeof len, "%zu", sizeof RULES_BLOCK_BODY - 1);
	flow_msg_add_header(m, "Content-Length", 14, len, (size_t)n);
	flow_msg_add_body(m, RULES_BLOCK_BODY, sizeof RULES_BLOCK_BODY - 1, body_limit);
}
