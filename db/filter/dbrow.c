/* SPDX-License-Identifier: MIT */
/* dbrow.c - the values a flow's stored row is made of and that both filter evaluators look
 * at: the header blob, the URL, the content type and encoding, the searchable body text (see
 * dbrow.h). The writer stores them, the reader reads them back, filter_match() and the SQL
 * functions compare against them: one definition, so both evaluators give the same answers. */
#include "dbrow.h"

#include "codec.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_u32(char *p, uint32_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)((v >> 24) & 0xff);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t dbrow_headers_packed_len(const struct flow_msg *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->num_headers; i++)
		n += 8 + m->headers[i].name_len + m->headers[i].value_len;
	return n;
}

void dbrow_headers_pack_to(const struct flow_msg *m, char *p)
{
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		put_u32(p, (uint32_t)h->name_len);
		memcpy(p + 4, h->name, h->name_len);
		p += 4 + h->name_len;
		put_u32(p, (uint32_t)h->value_len);
		memcpy(p + 4, h->value, h->value_len);
		p += 4 + h->value_len;
	}
}

char *dbrow_headers_pack(const struct flow_msg *m, size_t *len)
{
	size_t n = dbrow_headers_packed_len(m);
	char *b = xmalloc(n ? n : 1);
	dbrow_headers_pack_to(m, b);
	*len = n;
	return b;
}

int dbrow_headers_unpack(struct flow_msg *m, const void *blob, size_t len)
{
	const unsigned char *p = blob, *end = p + len;
	while (p < end) {
		if (end - p < 4)
			return -1;
		size_t nl = get_u32(p);
		if ((size_t)(end - p - 4) < nl + 4)
			return -1;
		const unsigned char *name = p + 4;
		size_t vl = get_u32(name + nl);
		if ((size_t)(end - (name + nl + 4)) < vl)
			return -1;
		const unsigned char *value = name + nl + 4;
		flow_msg_add_header(m, (const char *)name, nl, (const char *)value, vl);
		/* flow_msg_add_header copies with strndup: keep exact lengths even with NULs. */
		struct flow_header *h = &m->headers[m->num_headers - 1];
		free(h->name);
		free(h->value);
		h->name = xmalloc(nl + 1);
		memcpy(h->name, name, nl);
		h->name[nl] = '\0';
		h->value = xmalloc(vl + 1);
		memcpy(h->value, value, vl);
		h->value[vl] = '\0';
		p = value + vl;
	}
	return 0;
}

char *dbrow_headers_text(const struct flow_msg *m, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < m->num_headers; i++)
		n += m->headers[i].name_len + m->headers[i].value_len + 4;
	char *b = xmalloc(n + 1), *p = b;
	for (size_t i = 0; i < m->num_headers; i++) {
		const struct flow_header *h = &m->headers[i];
		memcpy(p, h->name, h->name_len);
		memcpy(p + h->name_len, ": ", 2);
		p += h->name_len + 2;
		memcpy(p, h->value, h->value_len);
		memcpy(p + h->value_len, "\r\n", 2);
		p += h->value_len + 2;
	}
	*p = '\0';
	*len = n;
	return b;
}

char *dbrow_headers_blob_text(const void *blob, size_t blen, size_t *len)
{
	struct flow_msg m = {0};
	if (dbrow_headers_unpack(&m, blob, blen) != 0) {
		flow_msg_clear(&m);
		return NULL;
	}
	char *t = dbrow_headers_text(&m, len);
	flow_msg_clear(&m);
	return t;
}

/* Appends the n bytes of src at *p. */
static void put(char **p, const char *src, size_t n)
{
	memcpy(*p, src, n);
	*p += n;
}

/* Built by hand rather than with a printf: the writer makes one for every flow it stores. */
char *dbrow_flow_url(const struct flow *f)
{
	const char *host = f->host ? f->host : "";
	int v6 = strchr(host, ':') != NULL;
	const char *scheme = f->kind == FLOW_TUNNEL ? "" : f->scheme ? f->scheme : "http";
	const char *path = f->kind == FLOW_TUNNEL || !f->path ? "" : f->path;
	int dflt = f->kind != FLOW_TUNNEL &&
		   ((strcmp(scheme, "http") == 0 && f->port == 80) ||
		    (strcmp(scheme, "https") == 0 && f->port == 443) || f->port == 0);
	char port[16] = "";
	int plen = dflt ? 0 : snprintf(port, sizeof port, ":%u", f->port);
	size_t slen = strlen(scheme), hlen = strlen(host), pathlen = strlen(path);
	char *url = xmalloc(slen + 3 + hlen + 2 + (size_t)plen + pathlen + 1), *p = url;
	if (slen) {
		put(&p, scheme, slen);
		put(&p, "://", 3);
	}
	if (v6)
		*p++ = '[';
	put(&p, host, hlen);
	if (v6)
		*p++ = ']';
	put(&p, port, (size_t)plen);
	put(&p, path, pathlen);
	*p = '\0';
	return url;
}

const char *dbrow_msg_ctype(const struct flow_msg *m)
{
	const struct flow_header *h = flow_msg_header(m, "content-type");
	return h ? h->value : NULL;
}

const char *dbrow_msg_cenc(const struct flow_msg *m)
{
	const struct flow_header *h = flow_msg_header(m, "content-encoding");
	return h ? h->value : NULL;
}

const char *dbrow_body_text(const struct flow_msg *m, char **to_free, size_t *len)
{
	*to_free = NULL;
	*len = 0;
	if (!m->body.data || m->body.len == 0)
		return NULL;
	const char *enc = dbrow_msg_cenc(m);
	if (codec_is_encoded(enc)) {
		char *out;
		size_t n;
		if (codec_decode_all(enc, m->body.data, m->body.len, m->body_truncated,
				     DBROW_DECODE_CAP, &out, &n) == 0) {
			*to_free = out;
			*len = n;
			return out;
		}
	}
	*len = m->body.len;
	return m->body.data;
}
