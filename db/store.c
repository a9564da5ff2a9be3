/* SPDX-License-Identifier: MIT */
/* store.c - PLACEHOLDER until issue 3 lands: drops every flow. */
#include "store.h"

#include "util.h"

#include <stdlib.h>

struct store {
	int unused;
};

struct store *store_open(const char *path, const struct store_options *opts, char *err,
			 size_t errlen)
{
	(void)path, (void)opts, (void)err, (void)errlen;
	return xcalloc(1, sizeof(struct store));
}

uint64_t store_max_id(struct store *s)
{
	(void)s;
	return 0;
}

static void drop(void *arg, enum flow_event ev, struct flow *f)
{
	(void)arg;
	log_debug("flow %llu %s %s %s://%s:%u%s -> %d%s%s", (unsigned long long)f->id,
		  ev == FLOW_EV_BEGIN ? "begin" : ev == FLOW_EV_END ? "end" : "update",
		  f->request.method ? f->request.method : "-", f->scheme ? f->scheme : "-",
		  f->host ? f->host : "-", f->port, f->path ? f->path : "", f->response.status,
		  f->error ? " error: " : "", f->error ? f->error : "");
	flow_free(f);
}

struct flow_sink store_sink(struct store *s)
{
	return (struct flow_sink){.emit = drop, .arg = s};
}

void store_close(struct store *s)
{
	free(s);
}
