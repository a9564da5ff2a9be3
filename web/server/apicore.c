/* SPDX-License-Identifier: MIT */
/* apicore.c - what the REST calls share (apicore.h): the web thread's own read-only store
 * connection, opened the first time a call needs one and kept until api_clear() or until the
 * writer opens the store's file again (store_file_generation(): it was deleted or replaced); a
 * filter argument compiled beside it; the store's write error as the page's status line says it;
 * and GET /api/stats, the store writer's counters with that error. */
#include "apicore.h"

#include "filter.h"
#include "reply.h"
#include "util.h"

#include <stdio.h>

struct store_reader *apicore_reader(struct api *a, struct api_reply *r)
{
	char err[256];
	uint64_t gen = a->store ? store_file_generation(a->store) : 0;
	if (a->reader && gen != a->reader_gen) {
		/* the writer opened the store's file again (it was deleted or replaced) */
		store_reader_close(a->reader);
		a->reader = NULL;
	}
	if (a->reader)
		return a->reader;
	a->reader_gen = gen;
	if (!a->db_path) {
		reply_error(r, 503, "no flow store");
		return NULL;
	}
	a->reader = store_reader_open(a->db_path, err, sizeof err);
	if (!a->reader)
		reply_errorf(r, 503, "cannot read the flow store: %s%s", err, "");
	return a->reader;
}

struct store_reader *apicore_filtered_reader(struct api *a, const struct api_request *rq,
					     struct api_reply *r, struct filter **filter)
{
	char err[512];
	*filter = NULL;
	if (rq->filter && rq->filter[0]) {
		*filter = filter_compile(rq->filter, err, sizeof err);
		if (!*filter) {
			reply_errorf(r, 400, "filter: %s%s", err, "");
			return NULL;
		}
	}
	struct store_reader *rd = apicore_reader(a, r);
	if (!rd) {
		filter_free(*filter);
		*filter = NULL;
	}
	return rd;
}

const char *apicore_store_error(struct api *a)
{
	static const char what[] = " (see flowscope's log for what to do)";
	static __thread char msg[256];
	if (!a->store)
		return NULL;
	struct store_stats st;
	store_get_stats(a->store, &st);
	if (!st.write_error)
		return NULL;
	snprintf(msg, sizeof msg, "Flows are not being stored: %s%s", st.write_error, what);
	return msg;
}

void apicore_stats(struct api *a, struct api_reply *r)
{
	if (!a->store) {
		reply_error(r, 503, "no flow store");
		return;
	}
	struct store_stats st;
	store_get_stats(a->store, &st);
	const char *error = apicore_store_error(a);
	json_t *o = json_object();
	json_object_set_new(o, "stored", json_integer((json_int_t)st.stored));
	json_object_set_new(o, "dropped", json_integer((json_int_t)st.dropped));
	json_object_set_new(o, "queued", json_integer((json_int_t)st.queued));
	json_object_set_new(o, "queued_bytes", json_integer((json_int_t)st.queued_bytes));
	json_object_set_new(o, "queued_bytes_peak", json_integer((json_int_t)st.queued_bytes_peak));
	json_object_set_new(o, "commits", json_integer((json_int_t)st.commits));
	json_object_set_new(o, "bodies_shed", json_integer((json_int_t)st.bodies_shed));
	json_object_set_new(o, "waits", json_integer((json_int_t)st.waits));
	if (!error)
		error = st.last_error; /* storing, after an error: what happened last */
	json_object_set_new(o, "error", error ? json_string(error) : json_null());
	reply_json(r, 200, o);
}
