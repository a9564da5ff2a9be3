/* SPDX-License-Identifier: MIT */
/* test_web_eventlog.c - the page's event log: entries kept in order, the oldest dropped past
 * EVENTLOG_KEEP, each published on the event stream as {"type":"log"}, text that is not UTF-8
 * shown as latin-1 and long text cut; log lines of warning level and above reach it through
 * log_set_hook(), info and debug lines do not. */
#define _GNU_SOURCE /* memmem() */
#include "eventlog.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ring(void)
{
	struct events *ev = events_new(4096);
	struct eventlog *l = eventlog_new(ev);
	uint64_t tail = events_head(ev);
	char text[32];
	for (int i = 1; i <= EVENTLOG_KEEP + 20; i++) {
		snprintf(text, sizeof text, "entry %d", i);
		eventlog_add(l, i % 2 ? LOG_WARN : LOG_ERROR, "test", text);
	}
	json_t *j = eventlog_json(l, 0);
	json_t *arr = json_object_get(j, "entries");
	ok(json_array_size(arr) == EVENTLOG_KEEP);
	json_t *first = json_array_get(arr, 0), *last = json_array_get(arr, EVENTLOG_KEEP - 1);
	ok(json_integer_value(json_object_get(first, "seq")) == 21);
	ok(strcmp(json_string_value(json_object_get(first, "text")), "entry 21") == 0);
	ok(json_integer_value(json_object_get(last, "seq")) == EVENTLOG_KEEP + 20);
	ok(strcmp(json_string_value(json_object_get(last, "level")), "error") == 0);
	ok(strcmp(json_string_value(json_object_get(last, "source")), "test") == 0);
	json_decref(j);
	j = eventlog_json(l, EVENTLOG_KEEP + 18);
	ok(json_array_size(json_object_get(j, "entries")) == 2);
	json_decref(j);
	/* each one on the event stream */
	char *buf = NULL;
	size_t cap = 0, n, count = 0;
	while ((n = events_next(ev, &tail, 0, &buf, &cap)) > 0)
		count += memmem(buf, n, "\"type\":\"log\"", 12) != NULL;
	ok(count == EVENTLOG_KEEP + 20);
	free(buf);
	eventlog_free(l);
	events_free(ev);
}

static void text(void)
{
	struct eventlog *l = eventlog_new(NULL);
	char big[3000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	eventlog_add(l, LOG_WARN, "test", big);
	eventlog_add(l, LOG_WARN, "test", "caf\xe9");
	json_t *j = eventlog_json(l, 0);
	json_t *arr = json_object_get(j, "entries");
	ok(strlen(json_string_value(json_object_get(json_array_get(arr, 0), "text"))) == 1000);
	ok(strcmp(json_string_value(json_object_get(json_array_get(arr, 1), "text")),
		  "caf\xc3\xa9") == 0);
	json_decref(j);
	eventlog_free(l);
}

static void hook(void)
{
	struct eventlog *l = eventlog_new(NULL);
	log_set_hook(eventlog_on_log, l);
	log_warn("upstream %s refused", "example.com:443");
	log_info("not for the page");
	log_error("store failing");
	log_set_hook(NULL, NULL);
	log_warn("after the hook is gone");
	json_t *j = eventlog_json(l, 0);
	json_t *arr = json_object_get(j, "entries");
	ok(json_array_size(arr) == 2);
	ok(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "text")),
		  "upstream example.com:443 refused") == 0);
	ok(strcmp(json_string_value(json_object_get(json_array_get(arr, 0), "source")), "proxy") ==
	   0);
	ok(strcmp(json_string_value(json_object_get(json_array_get(arr, 1), "level")), "error") ==
	   0);
	json_decref(j);
	eventlog_free(l);
}

int main(void)
{
	subtest("ring", ring);
	subtest("text", text);
	subtest("hook", hook);
	return harness_done();
}
