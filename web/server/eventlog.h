/* SPDX-License-Identifier: MIT */
/* eventlog.h - the page's event log (mitmweb's): what went wrong or was changed, as the
 * terminal hears it. The proxy's log lines of warning level and above (upstream failures,
 * store problems, refused input: log_set_hook()), flows that ended with an error, and changes
 * a user made (rules applied) go to a ring of the last EVENTLOG_KEEP entries, which
 * GET /api/log answers, and each is published on the event stream as
 * {"type":"log","entry":{...}} as it happens.
 *
 * Threads: eventlog_add() may be called from any thread (a mutex guards the ring). */
#ifndef EVENTLOG_H
#define EVENTLOG_H

#include "events.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>

#define EVENTLOG_KEEP 500

struct eventlog;

/* A log publishing to events (borrowed: it must outlive the log). Free with eventlog_free(). */
struct eventlog *eventlog_new(struct events *events);
void eventlog_free(struct eventlog *l); /* NULL is a no-op */
/* Adds an entry: lvl, where it comes from ("proxy", "flow", "rules", ...) and text (copied,
 * cut at 1000 bytes; bytes that are not UTF-8 are shown as latin-1). */
void eventlog_add(struct eventlog *l, enum log_level lvl, const char *source, const char *text);
/* The entries with a sequence number above after, oldest first: {"entries": [{"seq", "time"
 * (microseconds), "level" ("info", "warn", "error"), "source", "text"}...]}. New reference. */
json_t *eventlog_json(struct eventlog *l, uint64_t after);
/* log_set_hook()'s function: adds the proxy's log lines (arg: the struct eventlog). */
void eventlog_on_log(void *arg, enum log_level lvl, const char *msg);

#endif
