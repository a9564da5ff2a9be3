/* SPDX-License-Identifier: MIT */
/* fuzz_filter.c - the filter-expression compiler. Invariant: filter_compile() either fails with
 * a non-empty message naming a position ("at N: ...", N within the input) or returns a filter
 * that filter_match() and the SQL compiler handle on fixed flows; compiling the same text twice
 * gives the same outcome, the same message and the same answers. */
#include "filter.h"
#include "filtersql.h"
#include "flow.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct flow *fixed[2];

static void setup(void)
{
	struct flow *f = flow_new();
	f->kind = FLOW_HTTP;
	f->scheme = xstrdup("https");
	f->host = xstrdup("example.com");
	f->port = 443;
	f->path = xstrdup("/a?b=c");
	strcpy(f->client_addr, "127.0.0.1:1234");
	strcpy(f->server_addr, "93.184.216.34:443");
	f->request.present = 1;
	f->request.method = xstrdup("GET");
	flow_msg_add_header(&f->request, "Host", 4, "example.com", 11);
	flow_msg_add_body(&f->request, "needle", 6, 100);
	f->response.present = 1;
	f->response.status = 200;
	flow_msg_add_header(&f->response, "Content-Type", 12, "text/html", 9);
	flow_msg_add_header(&f->response, "Content-Encoding", 16, "gzip", 4);
	flow_msg_add_body(&f->response, "\x1f\x8b garbage", 10, 100);
	fixed[0] = f;
	struct flow *t = flow_new();
	t->kind = FLOW_TUNNEL;
	t->host = xstrdup("tunnel.example");
	t->port = 443;
	t->error = xstrdup("reset");
	fixed[1] = t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fixed[0])
		setup();
	if (size > 4096)
		return 0;
	char *expr = malloc(size + 1);
	memcpy(expr, data, size);
	expr[size] = '\0';
	size_t len = strlen(expr); /* the expression ends at a NUL */
	char err1[256] = "", err2[256] = "";
	struct filter *a = filter_compile(expr, err1, sizeof err1);
	struct filter *b = filter_compile(expr, err2, sizeof err2);
	if (!a != !b)
		abort();
	if (!a) {
		unsigned long pos;
		if (!err1[0] || strcmp(err1, err2) != 0 || sscanf(err1, "at %lu:", &pos) != 1 ||
		    pos > len)
			abort();
	} else {
		for (int i = 0; i < 2; i++)
			if (filter_match(a, fixed[i]) != filter_match(b, fixed[i]))
				abort();
		struct filter_sql q1, q2;
		filter_sql_build(a, &q1);
		filter_sql_build(b, &q2);
		if (!q1.where || strcmp(q1.where, q2.where) != 0 || q1.num_params != q2.num_params)
			abort();
		filter_sql_clear(&q1);
		filter_sql_clear(&q2);
	}
	filter_free(a);
	filter_free(b);
	free(expr);
	return 0;
}
