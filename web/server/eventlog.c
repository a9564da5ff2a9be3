/* SPDX-License-Identifier: MIT */
/* eventlog.c - see eventlog.h. A fixed ring of entries under a mutex; each entry is also
 * published to the event stream at once as a JSON message, so that an open page shows it
 * without asking. */
#include "eventlog.h"

#include "jsontext.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	uint64_t seq; /* 0: free */
	int64_t time;
	enum log_level level;
	char source[16];
	char *text; /* owned */
};

struct eventlog {
	struct events *events; /* borrowed */
	pthread_mutex_t mu;
	struct entry ring[EVENTLOG_KEEP];
	uint64_t seq; /* the last entry's */
};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

struct eventlog *eventlog_new(struct events *events)
{
	struct eventlog *l = xcalloc(1, sizeof *l);
	l->events = events;
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void eventlog_free(struct eventlog *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < EVENTLOG_KEEP; i++)
		free(l->ring[i].text);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static json_t *entry_json(const struct entry *e)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:o}", "seq", (json_int_t)e->seq, "time",
			 (json_int_t)e->time, "level", level_names[e->level], "source", e->source,
			 "text", jsontext_string(e->text, strlen(e->text), NULL));
}

void eventlog_add(struct eventlog *l, enum log_level lvl, const char *source, const char *text)
{
	if (!l)
		return;
	size_t n = strnlen(text, 1000);
	pthread_mutex_lock(&l->mu);
	struct entry *e = &l->ring[l->seq % EVENTLOG_KEEP];
	free(e->text);
	e->seq = ++l->seq;
	e->time = util_now_us();
	e->level = lvl >= LOG_DEBUG && lvl <= LOG_ERROR ? lvl : LOG_ERROR;
	snprintf(e->source, sizeof e->source, "%s", source);
	e->text = xstrndup(text, n);
	json_t *msg = json_pack("{s:s,s:o}", "type", "log", "entry", entry_json(e));
	pthread_mutex_unlock(&l->mu);
	char *s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (s && l->events)
		events_publish(l->events, s, strlen(s));
	free(s);
}

json_t *eventlog_json(struct eventlog *l, uint64_t after)
{
	json_t *arr = json_array();
	pthread_mutex_lock(&l->mu);
	uint64_t first = l->seq > EVENTLOG_KEEP ? l->seq - EVENTLOG_KEEP + 1 : 1;
	for (uint64_t s = first > after + 1 ? first : after + 1; s <= l->seq; s++)
		json_array_append_new(arr, entry_json(&l->ring[(s - 1) % EVENTLOG_KEEP]));
	pthread_mutex_unlock(&l->mu);
	return json_pack("{s:o}", "entries", arr);
}

void eventlog_on_log(void *arg, enum log_level lvl, const char *msg)
{
	eventlog_add(arg, lvl, "proxy", msg);
}
