/* SPDX-License-Identifier: MIT */
/* harjson.c - HAR's encodings of values (see harjson.h). Strings follow jsontext.h, the policy
 * the web API follows too: bytes that are not UTF-8 are read as Latin-1, as browsers show
 * them in headers. */
#include "harjson.h"

#include "jsontext.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

json_t *harjson_str(const char *data, size_t len)
{
	return jsontext_string(data ? data : "", data ? len : 0, NULL);
}

json_t *harjson_cstr(const char *s)
{
	return harjson_str(s, s ? strlen(s) : 0);
}

json_t *harjson_iso(int64_t us)
{
	if (us < 0)
		us = 0;
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(us % 1000000 / 1000));
	return json_string(buf);
}

static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

int harjson_parse_iso(const char *s, int64_t *us)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, se;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
		return -1;
	int64_t frac = 0;
	if (*p == '.' || *p == ',') {
		p++;
		int n = 0;
		for (; isdigit((unsigned char)*p); p++, n++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		if (n == 0)
			return -1;
		for (; n < 6; n++)
			frac *= 10;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*us = ((int64_t)t - off) * 1000000 + frac;
	return 0;
}

const char *harjson_get_str(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

double harjson_get_num(json_t *obj, const char *key, double def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : def;
}
