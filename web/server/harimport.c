/* SPDX-License-Identifier: MIT */
/* harimport.c - see harimport.h. The worker checks the whole file with har_import_take() into a
 * list (nothing is stored unless every entry is valid), then hands the flows to the store in
 * pieces, each only while the store's queue is short, so a big import loses nothing (the store
 * drops what does not fit its queue) and never floods out the proxy's own flows. Then it leaves
 * the answer in its struct harimport and wakes the web thread, which takes it. The pieces are
 * small slices (IMPORT_PIECE), so that the proxy's flows recorded meanwhile wait behind a slice
 * or two in the queue, not behind the import.
 *
 *   web thread                         worker
 *   harimport_start: thread ─────────► wait for import_mu, parse + check (cancel: stop)
 *   (serves other calls)               feed the store piece by piece (cancel: stop)
 *   harimport_done ◄────── wake() ──── status/body set, done = 1
 *   harimport_take_answer, harimport_free (joins)
 *
 * One import works at a time (import_mu), as each may hold a few times its file in memory;
 * the others wait with their uploads. */
#include "harimport.h"

#include "har.h"
#include "util.h"
#include "webjson.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* The import goes to the store's queue in slices, each only while the queue is short: a flow
 * the proxy records meanwhile is queued behind what waits then, at most IMPORT_QUEUE_LOW +
 * IMPORT_PIECE events (about 15 ms of the writer's work on small flows), not behind the rest
 * of the import. With twice a slice allowed to wait, the next slice is queued while the writer
 * writes the one before, so the writer is not left idle between slices. */
#define IMPORT_PIECE 500		    /* flows per slice at most */
#define IMPORT_QUEUE_LOW (2 * IMPORT_PIECE) /* hand a slice over only while fewer events wait */
#define IMPORT_PIECE_BYTES (2u << 20)	    /* body bytes per slice at most (but one flow always) */
#define IMPORT_QUEUE_LOW_BYTES (2 * IMPORT_PIECE_BYTES) /* ... and while they hold fewer */
#define IMPORT_POLL_US 1000 /* how often a waiting import looks at the store's queue */

/* Shared by the web thread and the worker; the comments say who writes what. */
struct harimport {
	pthread_t thread;
	int joined;	     /* web thread: the worker was joined */
	struct store *store; /* borrowed */
	char *data;	     /* owned by the worker; the upload, freed once parsed */
	size_t len;
	void (*wake)(void *arg); /* called by the worker once done; may be NULL */
	void *wake_arg;
	atomic_int cancel; /* web thread -> worker: stop (the client left, or shutdown) */
	atomic_int done;   /* worker -> web thread: the answer below is set; it ends */
	int status;	   /* the answer: written by the worker before done */
	char *body;	   /* owned */
	size_t body_len;
};

/* Held by the worker that is importing: one import at a time in the process. */
static pthread_mutex_t import_mu = PTHREAD_MUTEX_INITIALIZER;

/* har_import_take()'s sink: keeps the flows (they arrive only once the whole file was valid). */
struct collected {
	struct flow **flows;	   /* owned */
	struct wsmsg_batch **msgs; /* owned; msgs[i]: the WebSocket messages of flows[i], or NULL */
	size_t n, cap;
};

static void on_imported(void *arg, enum flow_event ev, struct flow *f)
{
	struct collected *col = arg;
	(void)ev;
	if (col->n == col->cap) {
		col->cap = col->cap ? col->cap * 2 : 256;
		col->flows = xrealloc(col->flows, col->cap * sizeof *col->flows);
		col->msgs = xrealloc(col->msgs, col->cap * sizeof *col->msgs);
	}
	col->msgs[col->n] = NULL;
	col->flows[col->n++] = f;
}

/* The messages of the flow emitted just before (har_import() keeps that order). */
static void on_imported_messages(void *arg, struct wsmsg_batch *b)
{
	struct collected *col = arg;
	if (col->n && !col->msgs[col->n - 1])
		col->msgs[col->n - 1] = b;
	else
		wsmsg_batch_free(b);
}

/* Hands the flows to the store in slices, each only while its queue is short. A cancel stops
 * it: the flows not handed over are freed, those handed over stay. */
static void feed_store(struct harimport *imp, struct collected *col)
{
	struct flow_sink sink = store_sink(imp->store);
	struct store_stats st;
	store_get_stats(imp->store, &st);
	uint64_t dropped0 = st.dropped;
	size_t next = 0;
	while (next < col->n && !atomic_load(&imp->cancel)) {
		store_get_stats(imp->store, &st);
		if (st.queued >= IMPORT_QUEUE_LOW || st.queued_bytes >= IMPORT_QUEUE_LOW_BYTES) {
			usleep(IMPORT_POLL_US);
			continue;
		}
		size_t bytes = 0, count = 0;
		while (next < col->n && count < IMPORT_PIECE &&
		       (count == 0 || bytes < IMPORT_PIECE_BYTES)) {
			struct flow *f = col->flows[next++];
			bytes += f->request.body.len + f->response.body.len;
			count++;
			/* A fresh id as it goes: a clear in the middle removes every id up to the
			 * largest stored by then (the proxy's flows meanwhile included), so ids
			 * taken at parse time would make it remove the flows still to come. */
			f->id = flow_next_id();
			/* its notes (_flowscope.mark, comment) are written apart: after it */
			struct flow *notes = f->mark || f->comment ? flow_dup(f) : NULL;
			struct wsmsg_batch *b = col->msgs[next - 1];
			col->msgs[next - 1] = NULL;
			if (b)
				b->flow_id = f->id; /* its messages follow it through the queue */
			sink.emit(sink.arg, FLOW_EV_END, f);
			if (b)
				sink.emit_messages(sink.arg, b);
			if (notes)
				store_note(imp->store, notes);
		}
		/* a slice is no batch to gather: the writer takes it at once (an API write) */
		store_write_mark(imp->store);
	}
	for (; next < col->n; next++) {
		flow_free(col->flows[next]);
		wsmsg_batch_free(col->msgs[next]);
	}
	store_get_stats(imp->store, &st);
	if (st.dropped > dropped0)
		log_warn("web: the store dropped %llu flows while a HAR import was queued",
			 (unsigned long long)(st.dropped - dropped0));
}

/* The answer to an import of n flows: {"imported": n, "skipped": count}, and when entries were
 * skipped, "skipped_entries": [{"index": i, "reason": "..."}] (the first HAR_SKIPS_LISTED). */
static json_t *answer(long n, const struct har_skipped *sk)
{
	json_t *o = json_object();
	json_object_set_new(o, "imported", json_integer((json_int_t)n));
	json_object_set_new(o, "skipped", json_integer((json_int_t)sk->num));
	if (sk->num) {
		json_t *list = json_array();
		for (size_t i = 0; i < sk->num && i < HAR_SKIPS_LISTED; i++)
			json_array_append_new(list, json_pack("{s:I,s:s}", "index",
							      (json_int_t)sk->list[i].index,
							      "reason", sk->list[i].reason));
		json_object_set_new(o, "skipped_entries", list);
	}
	return o;
}

static void *import_main(void *arg)
{
	struct harimport *imp = arg;
	char err[512];
	util_name_thread("fs-import");
	struct har_skipped skipped = {0};
	struct collected col = {0};
	pthread_mutex_lock(&import_mu);
	long n = har_import_take(imp->data, imp->len, &imp->cancel,
				 (struct flow_sink){.emit = on_imported,
						    .arg = &col,
						    .emit_messages = on_imported_messages},
				 &skipped, err, sizeof err);
	imp->data = NULL; /* freed */
	if (n >= 0)
		feed_store(imp, &col);
	pthread_mutex_unlock(&import_mu);
	free(col.flows);
	free(col.msgs);
	if (n < 0) {
		imp->status = 400;
		imp->body = webjson_error(err, &imp->body_len);
	} else {
		imp->status = 200;
		imp->body = webjson_dump(answer(n, &skipped), &imp->body_len);
	}
	har_skipped_clear(&skipped);
	atomic_store(&imp->done, 1);
	if (imp->wake)
		imp->wake(imp->wake_arg);
	return NULL;
}

struct harimport *harimport_start(struct store *store, char *data, size_t len,
				  void (*wake)(void *arg), void *wake_arg)
{
	struct harimport *imp = xcalloc(1, sizeof *imp);
	imp->store = store;
	imp->data = data;
	imp->len = len;
	imp->wake = wake;
	imp->wake_arg = wake_arg;
	if (pthread_create(&imp->thread, NULL, import_main, imp) != 0) {
		free(imp->data);
		free(imp);
		return NULL;
	}
	return imp;
}

void harimport_cancel(struct harimport *imp)
{
	atomic_store(&imp->cancel, 1);
}

int harimport_done(struct harimport *imp)
{
	return atomic_load(&imp->done);
}

int harimport_take_answer(struct harimport *imp, char **body, size_t *len)
{
	*body = imp->body;
	*len = imp->body_len;
	imp->body = NULL;
	return imp->status;
}

void harimport_join(struct harimport *imp)
{
	if (!imp->joined) {
		pthread_join(imp->thread, NULL);
		imp->joined = 1;
	}
}

void harimport_free(struct harimport *imp)
{
	if (!imp)
		return;
	harimport_join(imp);
	free(imp->data);
	free(imp->body);
	free(imp);
}
