/* SPDX-License-Identifier: MIT */
/* queue.c - the writer's queue: store_sink().emit (any proxy worker), store_delete(),
 * store_clear() and store_set_setting() append an owned event to a bounded FIFO (mutex +
 * condvar) and return. The sink's events carry backpressure: while the events waiting (not yet
 * taken by the writer) hold more than s->queue_bytes, an emit waits for the writer to take
 * them (so a writer behind during a checkpoint or a burst bounds the proxy's memory, at twice
 * the bound with the batch in the writer's hands, and every flow is still recorded). Waiting
 * for the take rather than the commit keeps the two sides overlapping: the workers fill the
 * queue again while the writer writes. A wait that runs out (the writer stuck) stops
 * the waiting until the writer has caught up; then, as for every other caller, the hard
 * bounds apply: past QUEUE_BODY_BYTES of bodies waiting, new flows are queued without their
 * bodies, and past the FIFO's bounds an event is dropped and counted. The writer thread
 * (writer.c) takes the front with queue_take(), letting a small batch gather first, and calls
 * queue_done() once it is written. Also here: the listener and the stats, which share the
 * queue's lock. Each queued event gets the next write mark; store_write_mark() hands out the
 * last one and stops the writer from gathering, so that a caller waiting for its write to be
 * committed waits for one commit, not for company. */
#include "queue.h"

#include "snappool.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX_BYTES ((size_t)512 << 20) /* bytes waiting for the writer, at most */
/* Past this many body bytes waiting, new flows are queued without their bodies (marked
 * truncated): under a burst of large downloads the proxy's memory stays bounded and the flows
 * themselves are still recorded. */
#define QUEUE_BODY_BYTES ((size_t)64 << 20)
#define BATCH_GATHER_US 50000 /* how long a small batch waits for company */
/* A batch holding this many bytes does not wait: large bodies waiting are memory, and a
 * commit per body is cheap next to writing it. */
#define BATCH_GATHER_BYTES ((size_t)4 << 20)
/* How long an emit waits for room at most: past it the writer counts as stuck (logged). */
#define QUEUE_WAIT_MAX_US 2000000

static struct ev *ev_new(enum ev_type type)
{
	struct ev *e = xcalloc(1, sizeof *e);
	e->type = type;
	return e;
}

static void ev_free(struct ev *e)
{
	flow_free(e->flow);
	flow_free(e->original);
	wsmsg_batch_free(e->msgs);
	free(e->key);
	free(e->value);
	free(e);
}

void queue_free(struct ev *list)
{
	snappool_hold(); /* the snapshots of the list go back under one lock */
	while (list) {
		struct ev *next = list->next;
		ev_free(list);
		list = next;
	}
	snappool_release();
}

void queue_wait_until(struct store *s, int64_t due)
{
	struct timespec ts = {.tv_sec = (time_t)(due / 1000000),
			      .tv_nsec = (long)(due % 1000000) * 1000};
	pthread_cond_timedwait(&s->cond, &s->mu, &ts);
}

void queue_gather(struct store *s)
{
	int64_t due = util_mono_us() + BATCH_GATHER_US;
	s->gathering = 1;
	while (!s->stopping && !s->hurry && !s->waiting && s->num_queued < QUEUE_BATCH_MIN &&
	       s->bytes_queued < BATCH_GATHER_BYTES && util_mono_us() < due)
		queue_wait_until(s, due);
	s->gathering = 0;
}

struct ev *queue_take(struct store *s, size_t *n, size_t *bytes)
{
	struct ev *first = s->head, *last = first;
	size_t num = 1, sum = first->bytes;
	while (last->next && num < QUEUE_BATCH_MAX) {
		last = last->next;
		sum += last->bytes;
		num++;
	}
	s->head = last->next;
	if (!s->head) {
		s->tail = NULL;
		s->hurry = 0; /* whoever hurried the writer waits for this batch at most */
	}
	last->next = NULL;
	s->num_queued -= num;
	s->inflight = num;
	s->inflight_bytes = sum;
	if (s->waiting)
		pthread_cond_broadcast(&s->room); /* what was waiting is the writer's now */
	*n = num;
	*bytes = sum;
	return first;
}

void queue_done(struct store *s, size_t bytes)
{
	/* The batch's bodies counted as queued until now: the body budget bounds what the store
	 * holds, the batch being written included. */
	s->bytes_queued -= bytes;
	s->inflight = 0;
	s->inflight_bytes = 0;
	if (s->stalled && s->bytes_queued < s->queue_bytes / 2) {
		s->stalled = 0;
		log_warn("flow store %s: writer caught up: the proxy waits for it again when it "
			 "falls behind",
			 s->path);
	}
}

static size_t msg_bytes(const struct flow_msg *m)
{
	size_t n = m->body.len + (m->num_headers + m->num_trailers) * sizeof(struct flow_header);
	for (size_t i = 0; i < m->num_headers; i++)
		n += m->headers[i].name_len + m->headers[i].value_len + 2;
	for (size_t i = 0; i < m->num_trailers; i++)
		n += m->trailers[i].name_len + m->trailers[i].value_len + 2;
	return n;
}

/* Bytes an event of flow f holds, for the queue's bounds (about: the other strings count as
 * 256): bodies by length, since a large body sits in a buffer of the whole body limit of which
 * only what was written is resident. */
static size_t ev_bytes(const struct flow *f)
{
	size_t n = sizeof(struct ev);
	if (f)
		n += sizeof *f + 256 + msg_bytes(&f->request) + msg_bytes(&f->response);
	return n;
}

/* Empties the stored bodies of f, keeping their real sizes and marking them truncated. */
static void shed_bodies(struct flow *f)
{
	struct flow_msg *m[2] = {&f->request, &f->response};
	for (int i = 0; i < 2; i++) {
		if (m[i]->body.len)
			m[i]->body_truncated = 1;
		flow_buf_clear(&m[i]->body);
	}
}

/* Waits (s->mu held) while the events queued and not yet taken by the writer hold more than
 * s->queue_bytes, at most QUEUE_WAIT_MAX_US; a wait that runs out sets s->stalled, which ends
 * every wait until the writer caught up (queue_done()). The writer's own thread never waits
 * for itself. */
static void wait_for_room(struct store *s)
{
	if (s->bytes_queued - s->inflight_bytes < s->queue_bytes || s->stalled || s->stopping ||
	    pthread_equal(pthread_self(), s->thread))
		return;
	int64_t due = util_mono_us() + QUEUE_WAIT_MAX_US;
	s->waiting++;
	s->waits++;
	if (s->gathering)
		pthread_cond_signal(&s->cond); /* no company to wait for: write what is there */
	while (s->bytes_queued - s->inflight_bytes >= s->queue_bytes && !s->stalled &&
	       !s->stopping) {
		if (util_mono_us() >= due) {
			s->stalled = 1;
			log_warn("flow store %s: writer stuck for %d s with %zu MiB waiting: the "
				 "proxy no longer waits for it until it catches up",
				 s->path, QUEUE_WAIT_MAX_US / 1000000, s->bytes_queued >> 20);
			break;
		}
		struct timespec ts = {.tv_sec = (time_t)(due / 1000000),
				      .tv_nsec = (long)(due % 1000000) * 1000};
		pthread_cond_timedwait(&s->room, &s->mu, &ts);
	}
	s->waiting--;
}

/* Queues e, or drops it (freed, counted) when the queue is full; sheds its bodies when the
 * writer is far behind on bodies. wait: an event of the sink, which waits for room first. */
static void enqueue(struct store *s, struct ev *e, int wait)
{
	pthread_mutex_lock(&s->mu);
	if (wait)
		wait_for_room(s);
	if (e->flow && (e->flow->request.body.len || e->flow->response.body.len) &&
	    s->bytes_queued + e->bytes > QUEUE_BODY_BYTES) {
		shed_bodies(e->flow);
		e->bytes = ev_bytes(e->flow);
		atomic_fetch_add(&s->bodies_shed, 1);
		if (!s->shedding_bodies) {
			s->shedding_bodies = 1;
			log_warn(
			    "flow store %s: writer behind by %zu MiB of bodies: storing new flows "
			    "without their bodies until it catches up",
			    s->path, s->bytes_queued >> 20);
		}
	} else if (s->shedding_bodies && s->bytes_queued < QUEUE_BODY_BYTES / 2) {
		s->shedding_bodies = 0;
		log_warn("flow store %s: writer caught up, storing bodies again", s->path);
	}
	if (s->stopping || s->num_queued >= s->queue_max ||
	    s->bytes_queued + e->bytes > QUEUE_MAX_BYTES) {
		int first = !s->queue_full;
		s->queue_full = 1;
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->dropped, 1);
		atomic_store(&s->last_error, "flow store queue full: writer too slow");
		if (first)
			log_error(
			    "flow store %s: writer queue full (%zu events): dropping flows until "
			    "it drains",
			    s->path, s->queue_max);
		ev_free(e);
		return;
	}
	if (s->queue_full && s->num_queued < s->queue_max / 2) {
		s->queue_full = 0;
		log_warn("flow store %s: writer queue drained, queueing flows again", s->path);
	}
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	e->mark = ++s->last_mark;
	s->num_queued++;
	s->bytes_queued += e->bytes;
	if (s->bytes_queued > s->bytes_peak)
		s->bytes_peak = s->bytes_queued;
	if (!s->gathering || s->num_queued >= QUEUE_BATCH_MIN ||
	    s->bytes_queued >= BATCH_GATHER_BYTES)
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void on_emit(void *arg, enum flow_event ev, struct flow *f)
{
	struct store *s = arg;
	int unbegun = (ev & FLOW_EV_UNBEGUN) != 0;
	ev = (enum flow_event)(ev & ~FLOW_EV_UNBEGUN);
	struct ev *e = ev_new(ev == FLOW_EV_BEGIN ? EV_BEGIN
			      : ev == FLOW_EV_END ? EV_END
						  : EV_UPDATE);
	e->unbegun = unbegun;
	e->flow = f;
	e->bytes = ev_bytes(f);
	enqueue(s, e, 1);
}

/* A WebSocket's messages travel as one event per batch, bounded like flows by their bytes. */
static void on_emit_messages(void *arg, struct wsmsg_batch *b)
{
	struct store *s = arg;
	struct ev *e = ev_new(EV_MESSAGES);
	e->msgs = b;
	e->bytes = b->bytes + 64 * b->num + 512;
	enqueue(s, e, 1);
}

struct flow_sink store_sink(struct store *s)
{
	return (struct flow_sink){.emit = on_emit, .arg = s, .emit_messages = on_emit_messages};
}

void store_delete(struct store *s, uint64_t id)
{
	struct ev *e = ev_new(EV_DELETE);
	e->id = id;
	enqueue(s, e, 0);
}

void store_copy_messages(struct store *s, uint64_t from, uint64_t to)
{
	struct ev *e = ev_new(EV_COPY_MESSAGES);
	e->id = from;
	e->to = to;
	enqueue(s, e, 0);
}

void store_clear(struct store *s)
{
	struct ev *e = ev_new(EV_CLEAR);
	enqueue(s, e, 0);
}

void store_set_setting(struct store *s, const char *key, const char *value)
{
	struct ev *e = ev_new(EV_SETTING);
	e->key = xstrdup(key);
	e->value = value ? xstrdup(value) : NULL;
	e->bytes = strlen(key) + (value ? strlen(value) : 0);
	enqueue(s, e, 0);
}

void store_note(struct store *s, struct flow *f)
{
	struct ev *e = ev_new(EV_NOTE);
	e->flow = f;
	e->bytes = (f->mark ? strlen(f->mark) : 0) + (f->comment ? strlen(f->comment) : 0);
	enqueue(s, e, 0);
}

void store_edit(struct store *s, struct flow *f, struct flow *original, int revert)
{
	struct ev *e = ev_new(EV_EDIT);
	e->flow = f;
	e->original = original;
	e->revert = revert;
	e->bytes = f->request.body.len + f->response.body.len +
		   (original ? original->request.body.len + original->response.body.len : 0);
	enqueue(s, e, 0);
}

uint64_t store_write_mark(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	uint64_t mark = s->last_mark;
	if (s->head && !s->hurry) {
		s->hurry = 1;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->mu);
	return mark;
}

uint64_t store_done_mark(struct store *s)
{
	return atomic_load(&s->done_mark);
}

void store_set_done_listener(struct store *s, store_done_fn fn, void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->done_fn = fn;
	s->done_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void store_set_listener(struct store *s, store_listener_fn fn, void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->fn = fn;
	s->fn_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->queued = s->num_queued + s->inflight;
	out->queued_bytes = s->bytes_queued;
	out->queued_bytes_peak = s->bytes_peak;
	out->waits = s->waits;
	pthread_mutex_unlock(&s->mu);
	out->stored = atomic_load(&s->stored);
	out->dropped = atomic_load(&s->dropped);
	out->bodies_shed = atomic_load(&s->bodies_shed);
	out->last_error = atomic_load(&s->last_error);
	out->write_error = atomic_load(&s->write_error);
	out->commits = atomic_load(&s->commits);
}

uint64_t store_max_id(struct store *s)
{
	return atomic_load(&s->max_id);
}
