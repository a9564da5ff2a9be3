/* SPDX-License-Identifier: MIT */
/* livecontrol.c - see livecontrol.h. A rules document is compiled whole before anything is
 * published, so a bad part leaves the old rules in force. */
#include "livecontrol.h"

#include "filter.h"
#include "util.h"

#include <jansson.h>
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
static int compile_matcher(const char *expr, struct proxy_matcher *out, const char *what,
			   char *err, size_t errlen)
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

/* The strings of a JSON array of strings, borrowed from it; NULL with err if it is not one. */
static const char **strings(json_t *arr, const char *what, size_t *num, char *err, size_t errlen)
{
	*num = 0;
	if (!arr)
		return xcalloc(1, sizeof(char *));
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s must be an array of strings", what);
		return NULL;
	}
	const char **out = xcalloc(json_array_size(arr) + 1, sizeof *out);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s[%zu] must be a string", what, i);
			free(out);
			return NULL;
		}
		out[(*num)++] = json_string_value(v);
	}
	return out;
}

int livecontrol_apply_rules(struct proxy *p, const char *json, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "rules are not a JSON object");
		json_decref(j);
		return -1;
	}
	struct proxy_rules r = {0};
	int rc = -1;
	const char **ignore = strings(json_object_get(j, "ignore_hosts"), "ignore_hosts",
				      &r.num_ignore_hosts, err, errlen);
	const char **allow = strings(json_object_get(j, "allow_hosts"), "allow_hosts",
				     &r.num_allow_hosts, err, errlen);
	if (!ignore || !allow)
		goto end;
	r.ignore_hosts = ignore;
	r.allow_hosts = allow;
	json_t *icpt = json_object_get(j, "intercept");
	if (icpt && !json_is_string(icpt)) {
		snprintf(err, errlen, "intercept must be a filter expression (a string)");
		goto end;
	}
	if (compile_matcher(json_string_value(icpt), &r.intercept, "intercept", err, errlen) != 0)
		goto end;
	json_t *block = json_object_get(j, "block");
	if (block && !json_is_array(block)) {
		snprintf(err, errlen, "block must be an array of {\"filter\", \"status\"}");
		goto end;
	}
	r.block = xcalloc(json_array_size(block) + 1, sizeof *r.block);
	size_t i;
	json_t *b;
	json_array_foreach(block, i, b)
	{
		const char *expr = json_string_value(json_object_get(b, "filter"));
		json_t *st = json_object_get(b, "status");
		json_int_t status = st ? json_integer_value(st) : 403;
		char what[32];
		snprintf(what, sizeof what, "block[%zu]", i);
		if (!expr || !expr[0] || (st && !json_is_integer(st)) || status < 100 ||
		    status > 599) {
			snprintf(err, errlen, "%s needs a filter and a status from 100 to 599", what);
			goto end;
		}
		if (compile_matcher(expr, &r.block[r.num_block].matcher, what, err, errlen) != 0)
			goto end;
		r.block[r.num_block++].status = (int)status;
	}
	rc = proxy_set_rules(p, &r, err, errlen);
end:
	if (rc != 0) { /* on success the matchers belong to the proxy */
		drop_matcher(&r.intercept);
		for (size_t k = 0; k < r.num_block; k++)
			drop_matcher(&r.block[k].matcher);
	}
	free(r.block);
	free(ignore);
	free(allow);
	json_decref(j);
	return rc;
}

char *livecontrol_seed_rules(const char *stored, const char *const *ignore, size_t num_ignore,
			     const char *const *allow, size_t num_allow)
{
	json_t *j = stored ? json_loads(stored, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	const char *const *lists[2] = {ignore, allow};
	size_t nums[2] = {num_ignore, num_allow};
	const char *keys[2] = {"ignore_hosts", "allow_hosts"};
	for (int k = 0; k < 2; k++) {
		if (!nums[k] && json_object_get(j, keys[k]))
			continue;
		json_t *arr = json_array();
		for (size_t i = 0; i < nums[k]; i++)
			json_array_append_new(arr, json_string(lists[k][i]));
		json_object_set_new(j, keys[k], arr);
	}
	if (!json_object_get(j, "intercept"))
		json_object_set_new(j, "intercept", json_string(""));
	if (!json_object_get(j, "block"))
		json_object_set_new(j, "block", json_array());
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort(); /* jansson fails only when out of memory */
	return text;
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

static int do_set_rules(void *arg, const char *json, char *err, size_t errlen)
{
	return livecontrol_apply_rules(arg, json, err, errlen);
}

struct web_control livecontrol_for(struct proxy *p)
{
	return (struct web_control){
		.replay = do_replay,
		.resume = do_resume,
		.edit = do_edit,
		.kill = do_kill,
		.set_rules = do_set_rules,
		.arg = p,
	};
}
