/* SPDX-License-Identifier: MIT */
/* apirules.c - GET/PUT /api/rules and GET /api/filter-help.
 *
 * Rules are kept as JSON text in the setting "rules". A PUT is parsed once (rulesjson.h), its
 * regexes and filters compiled once, by the proxy that applies them (web_control.set_rules),
 * and stored normalized only when all of it was taken; the last accepted text is also kept
 * in struct api, so a GET right after a PUT sees it before the writer has committed. */
#include "apirules.h"

#include "eventlog.h"
#include "filter.h"
#include "reply.h"
#include "rulesjson.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char default_rules[] =
    "{\"ignore_hosts\":[],\"allow_hosts\":[],\"intercept\":\"\",\"block\":[]}";

void apirules_get(struct api *a, struct store_reader *rd, struct api_reply *r)
{
	char *text = a->rules ? xstrdup(a->rules) : store_reader_setting(rd, "rules");
	json_t *j = json_loads(text ? text : default_rules, 0, NULL);
	free(text);
	if (!j)
		j = json_loads(default_rules, 0, NULL);
	reply_json(r, 200, j);
}

/* The rules' single compile: the proxy's, when one is behind the API (what it refuses is
 * worded by rulesjson_check() when that finds it, as the API has always named a bad part,
 * else in the proxy's words); without one, rulesjson_check()'s. 0, or -1 with msg. */
static int apply_rules(struct api *a, const struct rulesjson *rules, char *msg, size_t msglen)
{
	const struct web_control *c = a->control;
	char why[600];
	if (!c || !c->set_rules)
		return rulesjson_check(rules, msg, msglen);
	if (c->set_rules(c->arg, rules, msg, msglen) == 0)
		return 0;
	if (rulesjson_check(rules, why, sizeof why) != 0)
		snprintf(msg, msglen, "%s", why);
	return -1;
}

void apirules_put(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	char msg[600];
	struct rulesjson rules;
	if (rulesjson_parse(rq->body, rq->body_len, &rules, msg, sizeof msg) != 0) {
		reply_error(r, 400, msg);
		return;
	}
	int rc = apply_rules(a, &rules, msg, sizeof msg);
	char *text = rc == 0 ? rulesjson_dump(&rules) : NULL;
	rulesjson_clear(&rules);
	if (rc != 0) {
		reply_error(r, 400, msg);
		return;
	}
	store_set_setting(a->store, "rules", text);
	char *line = xasprintf("rules applied: %s", text);
	eventlog_add(a->log, LOG_INFO, "rules", line);
	free(line);
	r->mark = store_write_mark(a->store);
	free(a->rules);
	a->rules = text;
	reply_json_text(r, text);
}

/* The filter operators, from the parser's own table: {"operators": [{"name": "d", "arg":
 * "regex", "help": "..."}, ...]}, "arg" one of "regex", "number" or null. */
void apirules_filter_help(struct api_reply *r)
{
	json_t *ops = json_array();
	const struct filter_opinfo *op;
	for (size_t i = 0; (op = filter_op(i)); i++) {
		json_t *arg = op->arg == FILTER_ARG_REGEX ? json_string("regex")
			      : op->arg == FILTER_ARG_INT ? json_string("number")
							  : json_null();
		json_array_append_new(ops, json_pack("{s:s,s:o,s:s}", "name", op->name, "arg", arg,
						     "help", op->help));
	}
	reply_one(r, "operators", ops);
}
