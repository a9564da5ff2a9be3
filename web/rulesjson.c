/* SPDX-License-Identifier: MIT */
/* rulesjson.c - see rulesjson.h. jansson reads the document (duplicate keys refused) and
 * writes the normalized one; PCRE2 and filter_compile() serve rulesjson_check() alone. */
#include "rulesjson.h"

#include "filter.h"
#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BLOCK_STATUS 403

/* A list of regexes (absent: empty) into *out, *num. -1 with err when it is not one. */
static int parse_hosts(json_t *list, const char *field, char ***out, size_t *num, char *err,
		       size_t errlen)
{
	*out = xcalloc(json_array_size(list) + 1, sizeof **out);
	*num = 0;
	if (!list)
		return 0;
	if (!json_is_array(list)) {
		snprintf(err, errlen, "%s: expected an array of regexes", field);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s[%zu]: expected a string", field, i);
			return -1;
		}
		(*out)[(*num)++] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* The block rules (absent: none) into r. -1 with err when they are not of the shape. */
static int parse_block(json_t *bl, struct rulesjson *r, char *err, size_t errlen)
{
	r->block = xcalloc(json_array_size(bl) + 1, sizeof *r->block);
	if (bl && !json_is_array(bl)) {
		snprintf(err, errlen, "block: expected an array of {filter, status}");
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(bl, i, v)
	{
		json_t *f = json_object_get(v, "filter"), *st = json_object_get(v, "status");
		if (!json_is_object(v) || !json_is_string(f)) {
			snprintf(err, errlen,
				 "block[%zu]: expected {\"filter\": expr, \"status\": N}", i);
			return -1;
		}
		json_int_t status = DEFAULT_BLOCK_STATUS;
		if (st && !json_is_null(st)) {
			if (!json_is_integer(st) || json_integer_value(st) < 100 ||
			    json_integer_value(st) > 599) {
				snprintf(err, errlen, "block[%zu].status: expected 100 to 599", i);
				return -1;
			}
			status = json_integer_value(st);
		}
		r->block[r->num_block].filter = xstrdup(json_string_value(f));
		r->block[r->num_block++].status = (int)status;
	}
	return 0;
}

int rulesjson_parse(const char *text, size_t len, struct rulesjson *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	json_t *in = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			 jerr.column);
		return -1;
	}
	int rc = -1;
	json_t *icpt = json_object_get(in, "intercept");
	if (!json_is_object(in)) {
		snprintf(err, errlen, "expected an object");
	} else if (parse_hosts(json_object_get(in, "ignore_hosts"), "ignore_hosts",
			       &out->ignore_hosts, &out->num_ignore_hosts, err, errlen) == 0 &&
		   parse_hosts(json_object_get(in, "allow_hosts"), "allow_hosts", &out->allow_hosts,
			       &out->num_allow_hosts, err, errlen) == 0) {
		if (icpt && !json_is_null(icpt) && !json_is_string(icpt)) {
			snprintf(err, errlen, "intercept: expected a filter expression");
		} else {
			out->intercept =
			    xstrdup(json_is_string(icpt) ? json_string_value(icpt) : "");
			rc = parse_block(json_object_get(in, "block"), out, err, errlen);
		}
	}
	json_decref(in);
	if (rc != 0)
		rulesjson_clear(out);
	return rc;
}

static void free_list(char **list, size_t num)
{
	for (size_t i = 0; i < num; i++)
		free(list[i]);
	free(list);
}

void rulesjson_clear(struct rulesjson *r)
{
	free_list(r->ignore_hosts, r->num_ignore_hosts);
	free_list(r->allow_hosts, r->num_allow_hosts);
	free(r->intercept);
	for (size_t i = 0; i < r->num_block; i++)
		free(r->block[i].filter);
	free(r->block);
	memset(r, 0, sizeof *r);
}

void rulesjson_set_hosts(char ***list, size_t *num, const char *const *hosts, size_t num_hosts)
{
	free_list(*list, *num);
	*list = xcalloc(num_hosts + 1, sizeof **list);
	for (size_t i = 0; i < num_hosts; i++)
		(*list)[i] = xstrdup(hosts[i]);
	*num = num_hosts;
}

static json_t *strings(char *const *list, size_t num)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < num; i++)
		json_array_append_new(arr, json_string(list[i]));
	return arr;
}

char *rulesjson_dump(const struct rulesjson *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "ignore_hosts", strings(r->ignore_hosts, r->num_ignore_hosts));
	json_object_set_new(o, "allow_hosts", strings(r->allow_hosts, r->num_allow_hosts));
	json_object_set_new(o, "intercept", json_string(r->intercept ? r->intercept : ""));
	json_t *block = json_array();
	for (size_t i = 0; i < r->num_block; i++)
		json_array_append_new(block, json_pack("{s:s, s:i}", "filter", r->block[i].filter,
						       "status", r->block[i].status));
	json_object_set_new(o, "block", block);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		abort(); /* jansson fails only when out of memory on a tree it built */
	return text;
}

static int check_regexes(char *const *list, size_t num, const char *field, char *err, size_t errlen)
{
	for (size_t i = 0; i < num; i++) {
		int code;
		PCRE2_SIZE off;
		pcre2_code *re =
		    pcre2_compile((PCRE2_SPTR)list[i], PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
		if (!re) {
			PCRE2_UCHAR text[160];
			pcre2_get_error_message(code, text, sizeof text);
			snprintf(err, errlen, "%s[%zu]: at %zu: %s", field, i, (size_t)off,
				 (const char *)text);
			return -1;
		}
		pcre2_code_free(re);
	}
	return 0;
}

static int check_filter(const char *expr, const char *field, char *err, size_t errlen)
{
	char ferr[400];
	struct filter *f = filter_compile(expr, ferr, sizeof ferr);
	if (!f) {
		snprintf(err, errlen, "%s: %s", field, ferr);
		return -1;
	}
	filter_free(f);
	return 0;
}

int rulesjson_check(const struct rulesjson *r, char *err, size_t errlen)
{
	if (check_regexes(r->ignore_hosts, r->num_ignore_hosts, "ignore_hosts", err, errlen) != 0 ||
	    check_regexes(r->allow_hosts, r->num_allow_hosts, "allow_hosts", err, errlen) != 0 ||
	    check_filter(r->intercept, "intercept", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < r->num_block; i++) {
		char field[48];
		snprintf(field, sizeof field, "block[%zu].filter", i);
		if (check_filter(r->block[i].filter, field, err, errlen) != 0)
			return -1;
	}
	return 0;
}
