/* SPDX-License-Identifier: MIT */
/* cookie.c - Cookie header pairs (see cookie.h). Bounded by len throughout: header values come
 * from the wire and from stored flows. */
#include "cookie.h"

#include "util.h"

#include <string.h>

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims spaces and tabs from both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

int cookie_next(const char *s, size_t len, size_t *pos, struct cookie_pair *out)
{
	const char *end = s + len;
	while (*pos < len) {
		const char *p = s + *pos, *semi = memchr(p, ';', (size_t)(end - p));
		const char *ps = p, *pe = semi ? semi : end;
		*pos = (size_t)(pe - s) + (semi ? 1 : 0);
		trim(&ps, &pe);
		if (ps == pe)
			continue; /* an empty piece: "a=1;; b=2" */
		const char *eq = memchr(ps, '=', (size_t)(pe - ps));
		const char *ns = ps, *ne = eq ? eq : pe, *vs = eq ? eq + 1 : pe, *ve = pe;
		trim(&ns, &ne);
		trim(&vs, &ve);
		out->name = ns;
		out->name_len = (size_t)(ne - ns);
		out->value = vs;
		out->value_len = (size_t)(ve - vs);
		return 1;
	}
	return 0;
}

const char *cookie_find(const char *s, size_t len, const char *name, size_t *value_len)
{
	size_t pos = 0, nlen = strlen(name);
	struct cookie_pair c;
	while (cookie_next(s, len, &pos, &c))
		if (c.name_len == nlen && memcmp(c.name, name, nlen) == 0) {
			*value_len = c.value_len;
			return c.value;
		}
	return NULL;
}

char *cookie_remove(const char *s, size_t len, const char *name, size_t *out_len)
{
	/* each "; " written stands for one ';' read: at most len more bytes than were read */
	char *out = xmalloc(2 * len + 1);
	size_t n = 0, pos = 0, nlen = strlen(name);
	struct cookie_pair c;
	while (cookie_next(s, len, &pos, &c)) {
		if (c.name_len == nlen && memcmp(c.name, name, nlen) == 0)
			continue;
		/* the pair as it stood, from its name to the end of its value */
		const char *ps = c.name, *pe = c.value + c.value_len;
		if (n) {
			memcpy(out + n, "; ", 2);
			n += 2;
		}
		memcpy(out + n, ps, (size_t)(pe - ps));
		n += (size_t)(pe - ps);
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}
