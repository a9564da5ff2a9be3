/* SPDX-License-Identifier: MIT */
/* liveopts.c - see liveopts.h. jansson reads the document (duplicate keys refused) into a copy,
 * which replaces the caller's only once every key was taken. */
#include "liveopts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void liveopts_defaults(struct liveopts *o)
{
	*o = (struct liveopts){
	    .body_limit = LIVEOPTS_BODY_LIMIT,
	    .intercept_budget = LIVEOPTS_INTERCEPT_BUDGET,
	};
}

static int take_bool(json_t *v, const char *key, int *out, char *err, size_t errlen)
{
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "%s: expected true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int take_size(json_t *v, const char *key, size_t min, size_t *out, char *err, size_t errlen)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n < (json_int_t)min || (unsigned long long)n > LIVEOPTS_SIZE_MAX) {
		snprintf(err, errlen, "%s: expected a number of bytes from %zu to %zu", key, min,
			 LIVEOPTS_SIZE_MAX);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

/* One key of the document into o. 0, or -1 with err. */
static int take(struct liveopts *o, const char *key, json_t *v, char *err, size_t errlen)
{
	if (strcmp(key, "ssl_insecure") == 0)
		return take_bool(v, key, &o->ssl_insecure, err, errlen);
	if (strcmp(key, "anticache") == 0)
		return take_bool(v, key, &o->anticache, err, errlen);
	if (strcmp(key, "body_limit") == 0)
		return take_size(v, key, 0, &o->body_limit, err, errlen);
	if (strcmp(key, "intercept_budget") == 0)
		return take_size(v, key, 1, &o->intercept_budget, err, errlen);
	snprintf(err, errlen,
		 "unknown option '%.64s' (known: ssl_insecure, anticache, body_limit, "
		 "intercept_budget)",
		 key);
	return -1;
}

int liveopts_parse(const char *text, size_t len, struct liveopts *o, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *in = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if (!in) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			 jerr.column);
		return -1;
	}
	int rc = 0;
	struct liveopts n = *o;
	const char *key;
	json_t *v;
	if (!json_is_object(in)) {
		snprintf(err, errlen, "expected an object of options");
		rc = -1;
	} else {
		json_object_foreach(in, key, v)
		{
			if (take(&n, key, v, err, errlen) != 0) {
				rc = -1;
				break;
			}
		}
	}
	json_decref(in);
	if (rc == 0)
		*o = n;
	return rc;
}

char *liveopts_dump(const struct liveopts *o)
{
	json_t *j = json_pack("{s:b, s:b, s:I, s:I}", "ssl_insecure", o->ssl_insecure, "anticache",
			      o->anticache, "body_limit", (json_int_t)o->body_limit,
			      "intercept_budget", (json_int_t)o->intercept_budget);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		abort(); /* jansson fails only when out of memory on a tree it built */
	return text;
}
