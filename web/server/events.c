/* SPDX-License-Identifier: MIT */
/* events.c - see events.h. Message i (a sequence number counted from 0) lives in slot
 * i % capacity while head - capacity <= i < head. Readers copy out under the lock and write
 * to their socket after releasing it, so a slow socket never holds the writer up. */
#include "events.h"

#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char events_reset_msg[] = "{\"type\":\"reset\"}";

struct msg {
	char *data; /* owned */
	size_t len;
};

struct events {
	pthread_mutex_t lock;
	struct msg *slots; /* owned array of capacity; guarded by lock */
	size_t capacity;
	uint64_t head;	     /* sequence number of the next message; guarded by lock */
	events_wake_fn wake; /* guarded by lock */
	void *wake_arg;
};

struct events *events_new(size_t capacity)
{
	struct events *e = xcalloc(1, sizeof *e);
	pthread_mutex_init(&e->lock, NULL);
	e->capacity = capacity < 2 ? 2 : capacity;
	e->slots = xcalloc(e->capacity, sizeof *e->slots);
	return e;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->capacity; i++)
		free(e->slots[i].data);
	free(e->slots);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void events_set_wake(struct events *e, events_wake_fn wake, void *arg)
{
	pthread_mutex_lock(&e->lock);
	e->wake = wake;
	e->wake_arg = arg;
	pthread_mutex_unlock(&e->lock);
}

void events_publish(struct events *e, const char *msg, size_t len)
{
	char *copy = xmalloc(len);
	memcpy(copy, msg, len);
	pthread_mutex_lock(&e->lock);
	struct msg *slot = &e->slots[e->head % e->capacity];
	free(slot->data);
	slot->data = copy;
	slot->len = len;
	e->head++;
	if (e->wake)
		e->wake(e->wake_arg);
	pthread_mutex_unlock(&e->lock);
}

uint64_t events_head(struct events *e)
{
	pthread_mutex_lock(&e->lock);
	uint64_t h = e->head;
	pthread_mutex_unlock(&e->lock);
	return h;
}

int events_pending(struct events *e, uint64_t tail)
{
	pthread_mutex_lock(&e->lock);
	int p = tail != e->head;
	pthread_mutex_unlock(&e->lock);
	return p;
}

static void copy_out(const char *data, size_t len, size_t pre, char **buf, size_t *cap)
{
	if (*cap < pre + len) {
		*cap = pre + len;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + pre, data, len);
}

size_t events_next(struct events *e, uint64_t *tail, size_t pre, char **buf, size_t *cap)
{
	size_t len = 0;
	pthread_mutex_lock(&e->lock);
	if (*tail == e->head) {
		len = 0;
	} else if (*tail > e->head || e->head - *tail > e->capacity) {
		/* fell off the ring (or a tail from before a restart): start over at the head */
		len = sizeof events_reset_msg - 1;
		copy_out(events_reset_msg, len, pre, buf, cap);
		*tail = e->head;
	} else {
		const struct msg *m = &e->slots[*tail % e->capacity];
		len = m->len;
		copy_out(m->data, len, pre, buf, cap);
		(*tail)++;
	}
	pthread_mutex_unlock(&e->lock);
	return len;
}
