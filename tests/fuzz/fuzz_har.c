/* SPDX-License-Identifier: MIT */
/* fuzz_har.c - HAR import. Invariant: har_import() either returns -1 with a non-empty error
 * and emits nothing, or returns n >= 0 and emits exactly n flows, each final (done or error),
 * marked imported, with method, host, scheme and (unless a tunnel) path set; WebSocket
 * messages come right after their flow (its id, flagged WebSocket), indexed from 0, text or
 * binary, their size their length; and importing the same bytes twice gives the same outcome
 * and the same error. */
#include "flow.h"
#include "har.h"
#include "wsmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct count {
	long n;
	uint64_t last_id; /* the flow emitted last */
	unsigned last_flags;
	long batches;
};

static void on_messages(void *arg, struct wsmsg_batch *b)
{
	struct count *c = arg;
	c->batches++;
	if (!c->n || b->flow_id != c->last_id || !(c->last_flags & FLOW_F_WEBSOCKET))
		abort();
	for (size_t i = 0; i < b->num; i++)
		if (b->msgs[i].index != i || b->msgs[i].len != b->msgs[i].size ||
		    !wsmsg_type_name(b->msgs[i].opcode) || (b->msgs[i].len && !b->msgs[i].data))
			abort();
	wsmsg_batch_free(b);
}

static void on_emit(void *arg, enum flow_event ev, struct flow *f)
{
	struct count *c = arg;
	c->n++;
	if (ev != FLOW_EV_END || !f->request.method || !f->host || !f->scheme ||
	    (f->kind == FLOW_HTTP && !f->path) || !(f->flags & FLOW_F_IMPORTED) ||
	    (f->state != FLOW_DONE && f->state != FLOW_ERROR) ||
	    (f->state == FLOW_ERROR && !f->error))
		abort();
	if (f->response.body.len > 0 && !f->response.present)
		abort();
	c->last_id = f->id;
	c->last_flags = f->flags;
	flow_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1 << 20))
		return 0;
	struct count c1 = {0}, c2 = {0};
	char err1[256] = "", err2[256] = "";
	struct har_skipped skipped;
	long n1 = har_import(
	    (const char *)data, size,
	    (struct flow_sink){.emit = on_emit, .arg = &c1, .emit_messages = on_messages}, &skipped,
	    err1, sizeof err1);
	long n2 = har_import(
	    (const char *)data, size,
	    (struct flow_sink){.emit = on_emit, .arg = &c2, .emit_messages = on_messages}, NULL,
	    err2, sizeof err2);
	if (n1 < 0 && (n1 != -1 || !err1[0] || c1.n != 0))
		abort();
	if (n1 >= 0 && c1.n != n1)
		abort();
	if (n1 != n2 || c2.n != c1.n || c2.batches != c1.batches || strcmp(err1, err2) != 0)
		abort();
	har_skipped_clear(&skipped);
	return 0;
}
