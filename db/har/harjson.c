/* SPDX-License-Identifier: MIT */
/* harjson.c - HAR's encodings of values (see harjson.h). Strings: jansson refuses bytes that
 * are not UTF-8, and HTTP headers may hold any byte, so such bytes become the Latin-1 code
 * points of the same values, as browsers show them. Base64 is OpenSSL's EVP block functions,
 * which want the padding and know no white space: the decoder cleans the text first. */
#include "harjson.h"

#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if none starts there. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *harjson_str(const char *data, size_t len)
{
	if (!data)
		return json_string("");
	json_t *j = json_stringn(data, len);
	if (j)
		return j;
	char *out = xmalloc(len * 2 + 1);
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)data;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);
		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			out[o++] = (char)(0xc0 | (s[i] >> 6));
			out[o++] = (char)(0x80 | (s[i] & 0x3f));
			i++;
		}
	}
	j = json_stringn(out, o);
	free(out);
	return j ? j : json_string("");
}

json_t *harjson_cstr(const char *s)
{
	return harjson_str(s, s ? strlen(s) : 0);
}

json_t *harjson_base64(const char *data, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return json_string(""); /* bodies are capped far below this */
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	json_t *j = json_stringn(out, (size_t)n);
	free(out);
	return j;
}

int harjson_unbase64(const char *in, size_t len, char **out, size_t *out_len)
{
	if (len > (size_t)INT32_MAX / 2)
		return -1;
	char *clean = xmalloc(len + 4);
	size_t n = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			free(clean);
			return -1; /* a character after padding, or not of the alphabet */
		}
		clean[n++] = (char)c;
	}
	if (pad > 2 || n % 4 == 1) {
		free(clean);
		return -1;
	}
	while (n % 4) {
		clean[n++] = '=';
		pad++;
	}
	*out = xmalloc(n / 4 * 3 + 1);
	int got = n ? EVP_DecodeBlock((unsigned char *)*out, (unsigned char *)clean, (int)n) : 0;
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*out_len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	return 0;
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
