/* SPDX-License-Identifier: MIT */
/* harext.c - the "_flowscope" member of an exported entry (see harext.h):
 *
 *   t          [start, dns_done, connect_done, tls_done, request_sent, first_byte, end] in
 *              microseconds (0: did not happen)
 *   client, server, target     the addresses and the request target as stored
 *   tls        {sni, version, cipher, alpn, subject, issuer, client_version}, those set
 *   bytes      [up, down] of a tunnel
 *   flags      the flags that survive a round trip (KEPT_FLAGS)
 *   truncated  [request, response]: the body was cut at the store's limit
 *   encoded    [request, response]: the body did not decode and went out as stored
 *   mark, comment  the user's notes (store_note()), when set
 *   modified, duplicate  true when the user edited the flow (FLOW_F_MODIFIED; the original it
 *              replaced is not exported, so an imported flow has nothing to revert to) or made
 *              it as a copy of another (FLOW_F_DUPLICATE), as the web API's flow JSON says
 *   mode       the listener the flow came through ("regular@127.0.0.1:8080"), when known
 */
#include "harext.h"

#include "harjson.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Flags that survive a round trip (REPLAY is dropped with replay_of; IMPORTED is added). */
#define KEPT_FLAGS (FLOW_F_TLS | FLOW_F_WEBSOCKET | FLOW_F_MARKED)

/* The user's edit marks, each a boolean member of its own (not in "flags"). */
#define NUM_MARKS 2
static const struct {
	const char *name;
	unsigned flag;
} marks[NUM_MARKS] = {{"modified", FLOW_F_MODIFIED}, {"duplicate", FLOW_F_DUPLICATE}};

/* Timestamps from _flowscope.t beyond this (year 33658) are not taken, so that the sums of
 * differences made on export cannot overflow (7 * 1e18 < INT64_MAX); startedDateTime (year
 * 9999 at most) plus phases (each under 1e12 ms, 31 years) stays below it too. */
#define MAX_US ((json_int_t)1000000000000000000LL)

/* The TLS details of f, in the order of tls_names (the members of _flowscope.tls). */
#define NUM_TLS 7
/* clang-format off */
static const char *const tls_names[NUM_TLS] = {
	"sni", "version", "cipher", "alpn", "subject", "issuer", "client_version"};
/* clang-format on */

static void tls_fields(struct flow *f, char **out[NUM_TLS])
{
	out[0] = &f->tls.sni;
	out[1] = &f->tls.version;
	out[2] = &f->tls.cipher;
	out[3] = &f->tls.alpn;
	out[4] = &f->tls.cert_subject;
	out[5] = &f->tls.cert_issuer;
	out[6] = &f->tls.client_version;
}

json_t *harext_build(const struct flow *f, int raw_req, int raw_resp)
{
	const struct flow_timing *t = &f->t;
	json_t *p = json_object();
	json_object_set_new(p, "t",
			    json_pack("[I,I,I,I,I,I,I]", (json_int_t)t->start,
				      (json_int_t)t->dns_done, (json_int_t)t->connect_done,
				      (json_int_t)t->tls_done, (json_int_t)t->request_sent,
				      (json_int_t)t->first_byte, (json_int_t)t->end));
	if (f->client_addr[0])
		json_object_set_new(p, "client", harjson_cstr(f->client_addr));
	if (f->server_addr[0])
		json_object_set_new(p, "server", harjson_cstr(f->server_addr));
	if (f->request.target)
		json_object_set_new(p, "target", harjson_cstr(f->request.target));
	if (f->mode)
		json_object_set_new(p, "mode", harjson_cstr(f->mode));
	if (f->mark && f->mark[0])
		json_object_set_new(p, "mark", harjson_cstr(f->mark));
	if (f->comment && f->comment[0])
		json_object_set_new(p, "comment", harjson_cstr(f->comment));
	char **vals[NUM_TLS];
	tls_fields((struct flow *)f, vals);
	json_t *tls = json_object();
	for (size_t i = 0; i < NUM_TLS; i++)
		if (*vals[i])
			json_object_set_new(tls, tls_names[i], harjson_cstr(*vals[i]));
	if (json_object_size(tls))
		json_object_set_new(p, "tls", tls);
	else
		json_decref(tls);
	if (f->bytes_up || f->bytes_down)
		json_object_set_new(
		    p, "bytes",
		    json_pack("[I,I]", (json_int_t)f->bytes_up, (json_int_t)f->bytes_down));
	if (f->flags & KEPT_FLAGS)
		json_object_set_new(p, "flags", json_integer(f->flags & KEPT_FLAGS));
	for (size_t i = 0; i < NUM_MARKS; i++)
		if (f->flags & marks[i].flag)
			json_object_set_new(p, marks[i].name, json_true());
	if (f->request.body_truncated || f->response.body_truncated)
		json_object_set_new(p, "truncated",
				    json_pack("[b,b]", f->request.body_truncated != 0,
					      f->response.body_truncated != 0));
	if (raw_req || raw_resp)
		json_object_set_new(p, "encoded", json_pack("[b,b]", raw_req, raw_resp));
	return p;
}

/* The string member key of p when it is one word: 1 to max bytes, none of them a control
 * byte, a space or a NUL (a target, a mode); else NULL. Borrowed from p. */
static const char *word(json_t *p, const char *key, size_t max)
{
	size_t len;
	const char *s = harjson_get_str(p, key, &len);
	if (!s || !*s || strlen(s) != len || len > max)
		return NULL;
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return NULL;
	return s;
}

void harext_read(json_t *p, struct flow *f, int *raw_req, int *raw_resp)
{
	if (!json_is_object(p))
		return;
	json_t *t = json_object_get(p, "t");
	if (json_is_array(t) && json_array_size(t) == 7) {
		int64_t *dst[] = {&f->t.start,	  &f->t.dns_done,     &f->t.connect_done,
				  &f->t.tls_done, &f->t.request_sent, &f->t.first_byte,
				  &f->t.end};
		for (size_t i = 0; i < 7; i++) {
			json_t *v = json_array_get(t, i);
			json_int_t us = json_is_integer(v) ? json_integer_value(v) : 0;
			*dst[i] = us > 0 && us < MAX_US ? (int64_t)us : 0;
		}
	}
	const char *s;
	if ((s = harjson_get_str(p, "client", NULL)))
		snprintf(f->client_addr, sizeof f->client_addr, "%s", s);
	if ((s = harjson_get_str(p, "server", NULL)))
		snprintf(f->server_addr, sizeof f->server_addr, "%s", s);
	if ((s = word(p, "target", SIZE_MAX)))
		flow_set_str(&f->request.target, s);
	if ((s = word(p, "mode", 1024)))
		flow_set_str(&f->mode, s);
	if ((s = harjson_get_str(p, "mark", NULL)) && store_note_mark_valid(s))
		flow_set_str(&f->mark, s);
	if ((s = harjson_get_str(p, "comment", NULL)) && strlen(s) <= 10000)
		flow_set_str(&f->comment, s);
	json_t *tls = json_object_get(p, "tls");
	if (json_is_object(tls)) {
		char **dst[NUM_TLS];
		tls_fields(f, dst);
		for (size_t i = 0; i < NUM_TLS; i++)
			if ((s = harjson_get_str(tls, tls_names[i], NULL)))
				flow_set_str(dst[i], s);
	}
	json_t *b = json_object_get(p, "bytes");
	if (json_is_array(b) && json_array_size(b) == 2) {
		json_int_t up = json_integer_value(json_array_get(b, 0));
		json_int_t down = json_integer_value(json_array_get(b, 1));
		f->bytes_up = up > 0 ? (uint64_t)up : 0;
		f->bytes_down = down > 0 ? (uint64_t)down : 0;
	}
	/* Our own entry: its flags are all there is (none when the member is missing). */
	json_t *fl = json_object_get(p, "flags");
	f->flags = (f->flags & ~(unsigned)KEPT_FLAGS) |
		   (json_is_integer(fl) ? (unsigned)json_integer_value(fl) & KEPT_FLAGS : 0);
	for (size_t i = 0; i < NUM_MARKS; i++)
		if (json_is_true(json_object_get(p, marks[i].name)))
			f->flags |= marks[i].flag;
		else
			f->flags &= ~marks[i].flag;
	json_t *tr = json_object_get(p, "truncated");
	if (json_is_array(tr)) {
		f->request.body_truncated = json_is_true(json_array_get(tr, 0));
		f->response.body_truncated = json_is_true(json_array_get(tr, 1));
	}
	json_t *enc = json_object_get(p, "encoded");
	if (json_is_array(enc)) {
		*raw_req = json_is_true(json_array_get(enc, 0));
		*raw_resp = json_is_true(json_array_get(enc, 1));
	}
}
