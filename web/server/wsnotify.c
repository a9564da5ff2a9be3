/* SPDX-License-Identifier: MIT */
/* wsnotify.c - at most one "messages" notice per flow per WSNOTIFY_US (see wsnotify.h). */
#include "wsnotify.h"

#include "util.h"

#include <stdio.h>
#include <string.h>

void wsnotify_init(struct wsnotify *n)
{
	memset(n, 0, sizeof *n);
	pthread_mutex_init(&n->mu, NULL);
}

void wsnotify_clear(struct wsnotify *n)
{
	pthread_mutex_destroy(&n->mu);
}

static void publish(struct events *ev, uint64_t id)
{
	char msg[64];
	int len = snprintf(msg, sizeof msg, "{\"type\":\"messages\",\"id\":%llu}",
			   (unsigned long long)id);
	events_publish(ev, msg, (size_t)len);
}

int wsnotify_changed(struct wsnotify *n, struct events *ev, uint64_t id)
{
	int64_t now = util_mono_us();
	int became_pending = 0;
	pthread_mutex_lock(&n->mu);
	struct wsnotify_slot *s = &n->slots[(id * 0x9E3779B97F4A7C15ull) >> 56];
	if (s->id != id) {
		if (s->pending)
			publish(ev,
				s->id); /* evicted: its page hears of it now rather than never */
		*s = (struct wsnotify_slot){.id = id};
	}
	if (!s->pending && now - s->last_us >= WSNOTIFY_US) {
		publish(ev, id);
		s->last_us = now;
	} else if (!s->pending) {
		s->pending = became_pending = 1;
	}
	pthread_mutex_unlock(&n->mu);
	return became_pending;
}

int64_t wsnotify_flush(struct wsnotify *n, struct events *ev)
{
	int64_t now = util_mono_us(), next = 0;
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < WSNOTIFY_SLOTS; i++) {
		struct wsnotify_slot *s = &n->slots[i];
		if (!s->pending)
			continue;
		int64_t wait = s->last_us + WSNOTIFY_US - now;
		if (wait <= 0) {
			publish(ev, s->id);
			s->last_us = now;
			s->pending = 0;
		} else if (!next || wait < next) {
			next = wait;
		}
	}
	pthread_mutex_unlock(&n->mu);
	return next;
}
