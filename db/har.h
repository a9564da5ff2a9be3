/* SPDX-License-Identifier: MIT */
/* har.h - HAR 1.2 (HTTP Archive) export of stored flows and import of HAR files as flows.
 *
 * Export streams a document in pieces (never the whole file in memory, at most one entry and
 * the ids of the matching flows), oldest first, as HAR viewers expect. Import parses a whole
 * document, checks every entry, and only then emits them all: a broken file imports nothing.
 *
 * Besides the HAR 1.2 fields, each exported entry carries "_flowscope_kind" ("http" or
 * "tunnel"), "response._error" for failures (Chrome's name) and a "_flowscope" object with
 * what HAR has no place for (exact microsecond timestamps, client and server addresses, TLS
 * details, tunnel byte counts, truncation marks). Import reads those when present, so
 * export -> import -> export gives the same entries. What does not survive: the flow id,
 * replay_of (and FLOW_F_REPLAY), FLOW_F_IMPORTED (every imported flow gets it), the state of
 * a pending or paused flow (imported as done), and header bytes that are not UTF-8 (exported
 * as the Latin-1 characters of the same values, imported as their UTF-8).
 */
#ifndef HAR_H
#define HAR_H

#include "filter.h"
#include "flow.h"
#include "store.h"

#include <stdatomic.h>
#include <stddef.h>

/* Receives the document in pieces; returns non-0 to abort the export. data is borrowed. */
typedef int (*har_write_fn)(void *arg, const char *data, size_t len);

/* Streams a HAR 1.2 document of the flows matching filter (NULL: all), oldest first (by start
 * time, then id), to write. Flows removed while the export runs are left out. Returns 0, or -1
 * with err filled (a store error, or "aborted" when write returned non-0; the document is
 * incomplete then). */
int har_export(struct store_reader *r, const struct filter *filter, har_write_fn write, void *arg,
	       char *err, size_t errlen);

/* The same export, pulled piece by piece (for an event loop that writes when the socket is
 * writable): har_export_new() collects the matching flows (16 bytes each; the filter is not
 * used afterwards and may be freed), har_export_next() hands out the next piece (the head,
 * then one entry each, then the tail) in *data, valid until the next call or the free.
 * r must stay open, and be used on its thread, until har_export_free().
 * har_export_new() returns NULL with err filled on a store error; har_export_next() returns
 * 1 with a piece, 0 when the document is complete. */
struct har_export;
struct har_export *har_export_new(struct store_reader *r, const struct filter *filter, char *err,
				  size_t errlen);
int har_export_next(struct har_export *x, const char **data /* OUT */, size_t *len /* OUT */);
void har_export_free(struct har_export *x); /* NULL is a no-op */

/* An entry that an import left out, and why. */
struct har_skip {
	size_t index;	  /* its position in log.entries, counted from 0 */
	char reason[160]; /* what could not be represented ("request.url: scheme \"data\" ...") */
};

/* The entries that an import left out: all counted, the first HAR_SKIPS_LISTED listed. */
#define HAR_SKIPS_LISTED 100
struct har_skipped {
	size_t num;	       /* entries skipped */
	struct har_skip *list; /* owned (har_skipped_clear()); min(num, HAR_SKIPS_LISTED) of them,
				* in file order; NULL when num is 0 */
};
void har_skipped_clear(struct har_skipped *s); /* frees the list; s is then empty */

/* Parses a whole HAR document (UTF-8, with or without a BOM) and, only if it is a HAR, emits
 * each entry it can represent as a flow into sink (FLOW_EV_END; FLOW_F_IMPORTED; fresh ids
 * from flow_next_id(); state done, or error when the entry records a failure: Chrome's and
 * mitmproxy's "_error", Playwright's "_failureText", Charles's "_charlesStatus" other than
 * COMPLETE; the text is kept as the flow's error). A response status of 0 or -1 (Playwright)
 * means no response. An entry is refused alone, "skipped", when it is valid HAR that flowscope
 * cannot represent: a URL that is not http(s) or ws(s) (data:, blob:, chrome-extension:) or does
 * not parse, a method, header or status text that HTTP/1 cannot carry, a status outside
 * 100..999, a date that is not ISO 8601, a body in an unknown encoding or bad base64; each is
 * listed in *skipped (may be NULL; filled on success only, the caller har_skipped_clear()s it).
 * The whole file is refused when it is not JSON, not a HAR (no log.entries array), or an entry
 * lacks what HAR requires or has it of the wrong type (not an object; request, response,
 * request.method, request.url, startedDateTime, response.status (an integer), the headers
 * arrays, their names and values (strings)): returns -1 with err naming what and where
 * ("entry 3: request.url missing", entries counted from 1; a UTF-16 file is refused with a
 * message saying so), and nothing was emitted. An entry is checked in order, and the first
 * problem found decides. Returns the number of flows emitted.
 * Memory: the file and the flows, plus one entry parsed at a time (the document is walked
 * entry by entry; jansson would need 5 to 10 times the file for all of it): 2 to 3 times the
 * file in all (a 60 MB file: 130 MB, 180 MB with 120000 small entries). The flows go to sink
 * in one burst: a sink that drops under load (store_sink() past its queue bound of 200000
 * events / 512 MB) loses flows, so callers collect them and feed a store in pieces. A
 * document with "log" or "log.entries" twice is refused (jansson would keep the last). */
long har_import(const char *data, size_t len, struct flow_sink sink,
		struct har_skipped *skipped /* OUT */, char *err, size_t errlen);

/* har_import() for a worker thread that hands over the file: data (malloc'd, may be NULL
 * when len is 0) is always taken and freed as soon as it is parsed, so the file and the flows
 * are never held together. cancel (NULL: never), when it becomes non-zero (set from any
 * thread), stops the parse or the checking of entries soon after: -1 with err "cancelled",
 * nothing emitted. */
long har_import_take(char *data, size_t len, const atomic_int *cancel, struct flow_sink sink,
		     struct har_skipped *skipped /* OUT */, char *err, size_t errlen);

#endif
