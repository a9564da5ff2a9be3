/* SPDX-License-Identifier: MIT */
/* livecontrol.c - see livecontrol.h. A rules document is parsed by web/'s rulesjson.h (the
 * one parser of it, for the API and for start-up alike) and compiled here, once and whole,
 * before anything is published, so a bad part leaves the old rules in force. */
#include "livecontrol.h"

#include "filter.h"
#include "rulesjson.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int match_filter(void *m, const struct flow *f)
{
	return filter_match(m, f);
}

static void free_filter(void *m)
{
	filter_free(m);
}

/* A matcher for expr; an empty expr gives the empty matcher (match == NULL). */
static int compile_matcher(const char *expr, struct proxy_matcher *out, const char *what, char *err,
			   size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!expr || !expr[0])
		return 0;
	char ferr[400];
	struct filter *f = filter_compile(expr, ferr, sizeof ferr);
	if (!f) {
		snprintf(err, errlen, "%s: %s", what, ferr);
		return -1;
	}
	*out = (struct proxy_matcher){.match = match_filter, .free = free_filter, .m = f};
	return 0;
}

static void drop_matcher(struct proxy_matcher *m)
{
	if (m->free)
		m->free(m->m);
	memset(m, 0, sizeof *m);
}

/* Compiles the filters of rj into matchers and hands everything to the proxy, which compiles
 * the host regexes: the rules' one compile. 0, or -1 with err (the old rules stay). */
static int apply(struct proxy *p, const struct rulesjson *rj, char *err, size_t errlen)
{
	struct proxy_rules r = {
	    .ignore_hosts = (const char *const *)rj->ignore_hosts,
	    .num_ignore_hosts = rj->num_ignore_hosts,
	    .allow_hosts = (const char *const *)rj->allow_hosts,
	    .num_allow_hosts = rj->num_allow_hosts,
	    .block = xcalloc(rj->num_block + 1, sizeof *r.block),
	};
	int rc = -1;
	if (compile_matcher(rj->intercept, &r.intercept, "intercept", err, errlen) != 0)
		goto end;
	for (size_t i = 0; i < rj->num_block; i++) {
		char what[32];
		snprintf(what, sizeof what, "block[%zu]", i);
		if (!rj->block[i].filter[0]) {
			snprintf(err, errlen, "%s needs a filter and a status from 100 to 599",
				 what);
			goto end;
		}
		if (compile_matcher(rj->block[i].filter, &r.block[i].matcher, what, err, errlen) !=
		    0)
			goto end;
		r.block[r.num_block++].status = rj->block[i].status;
	}
	rc = proxy_set_rules(p, &r, err, errlen);
end:
	if (rc != 0) { /* on success the matchers belong to the proxy */
		drop_matcher(&r.intercept);
		for (size_t k = 0; k < r.num_block; k++)
			drop_matcher(&r.block[k].matcher);
	}
	free(r.block);
	return rc;
}

int livecontrol_apply_rules(struct proxy *p, const char *json, char *err, size_t errlen)
{
	struct rulesjson rj;
	if (rulesjson_parse(json, json ? strlen(json) : 0, &rj, err, errlen) != 0)
		return -1;
	int rc = apply(p, &rj, err, errlen);
	rulesjson_clear(&rj);
	return rc;
}

char *livecontrol_seed_rules(const char *stored, const char *const *ignore, size_t num_ignore,
			     const char *const *allow, size_t num_allow)
{
	char err[512];
	struct rulesjson rj = {0};
	if (stored && rulesjson_parse(stored, strlen(stored), &rj, err, sizeof err) != 0)
		log_warn("stored rules not used (%s)", err);
	if (num_ignore)
		rulesjson_set_hosts(&rj.ignore_hosts, &rj.num_ignore_hosts, ignore, num_ignore);
	if (num_allow)
		rulesjson_set_hosts(&rj.allow_hosts, &rj.num_allow_hosts, allow, num_allow);
	char *text = rulesjson_dump(&rj);
	rulesjson_clear(&rj);
	return text;
}

char *livecontrol_seed_options(const char *stored, const struct options *opts, struct liveopts *out)
{
	char err[300];
	liveopts_defaults(out);
	if (stored && liveopts_parse(stored, strlen(stored), out, err, sizeof err) != 0)
		log_warn("stored options not used (%s)", err);
	if (opts->ssl_insecure)
		out->ssl_insecure = 1;
	if (opts->anticache)
		out->anticache = 1;
	if (opts->body_limit_given)
		out->body_limit = opts->body_limit;
	if (opts->intercept_budget_given)
		out->intercept_budget = opts->intercept_budget;
	return liveopts_dump(out);
}

void livecontrol_apply_options(struct proxy *p, const struct liveopts *o)
{
	struct proxy_options po = {
	    .ssl_insecure = o->ssl_insecure,
	    .anticache = o->anticache,
	    .body_limit = o->body_limit,
	    .intercept_budget = o->intercept_budget,
	};
	proxy_set_options(p, &po);
}

static void do_set_options(void *arg, const struct liveopts *o)
{
	livecontrol_apply_options(arg, o);
}

static uint64_t do_replay(void *arg, struct flow *req, char *err, size_t errlen)
{
	return proxy_replay(arg, req, err, errlen);
}

static int do_resume(void *arg, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	return proxy_resume(arg, id, edit, err, errlen);
}

static int do_edit(void *arg, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	return proxy_edit(arg, id, edit, err, errlen);
}

static int do_kill(void *arg, uint64_t id, char *err, size_t errlen)
{
	return proxy_kill(arg, id, err, errlen);
}

static int do_set_rules(void *arg, const struct rulesjson *rules, char *err, size_t errlen)
{
	return apply(arg, rules, err, errlen);
}

struct web_control livecontrol_for(struct proxy *p)
{
	return (struct web_control){
	    .replay = do_replay,
	    .resume = do_resume,
	    .edit = do_edit,
	    .kill = do_kill,
	    .set_rules = do_set_rules,
	    .set_options = do_set_options,
	    .arg = p,
	};
}
