/* SPDX-License-Identifier: MIT */
/* harwalk.c - walking a HAR document an entry at a time (see harwalk.h).
 *
 * jansson would need 5 to 10 times the file's size to hold a whole HAR document. The walker
 * reads the two outer objects itself ({"log": {..., "entries": [...]}}: only punctuation and
 * white space) and lets jansson parse one value at a time (JSON_DISABLE_EOF_CHECK says how
 * many bytes it took): each entry is parsed, handed over and freed before the next. So the
 * memory is the file and one entry. Every other value is parsed too, so a document that is not
 * JSON is refused as a whole, as jansson would; and a syntax error anywhere wins over an entry
 * that was refused, as when the whole document was parsed first.
 */
#include "harwalk.h"

#include <jansson.h>
#include <string.h>

struct walk {
	struct harctx *c;	  /* borrowed: where errors go */
	const char *data;	  /* borrowed: the document */
	size_t len, pos;	  /* pos: the next byte to read */
	const atomic_int *cancel; /* NULL: never */
	harwalk_entry_fn fn;	  /* called with each entry */
	void *arg;
	size_t entries; /* seen so far */
	int bad_entry;	/* fn refused an entry (its error is in c->err): call it no more */
	int num_logs, log_object, num_lists, list_array; /* what was found */
};

static int is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void skip_ws(struct walk *w)
{
	while (w->pos < w->len && is_ws(w->data[w->pos]))
		w->pos++;
}

/* "not JSON: line L column C: what", for byte offset at of the document (lines and columns
 * counted from 1, columns in bytes). */
static int syntax_error(struct walk *w, size_t at, const char *what)
{
	int line = 1, column = 1;
	for (size_t i = 0; i < at && i < w->len; i++) {
		if (w->data[i] == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	w->c->entry = 0;
	return harctx_fail(w->c, "not JSON: line %d column %d: %s", line, column, what);
}

/* Parses the value at pos with jansson and moves past it. NULL with err filled on failure. */
static json_t *next_value(struct walk *w)
{
	json_error_t jerr;
	json_t *v = json_loadb(w->data + w->pos, w->len - w->pos,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
	if (!v) {
		syntax_error(w, w->pos + (size_t)(jerr.position > 0 ? jerr.position : 0),
			     jerr.text);
		return NULL;
	}
	w->pos += (size_t)jerr.position;
	return v;
}

/* Checks (parses) the value at pos and drops it. */
static int skip_value(struct walk *w)
{
	json_t *v = next_value(w);
	json_decref(v);
	return v ? 0 : -1;
}

static int cancelled(struct walk *w)
{
	if (!w->cancel || !atomic_load(w->cancel))
		return 0;
	w->c->entry = 0;
	return harctx_fail(w->c, "cancelled");
}

/* The value at pos is an entry: handed to fn, unless fn refused an earlier one. */
static int take_entry(struct walk *w)
{
	json_t *e = next_value(w);
	if (!e)
		return -1;
	w->entries++;
	if (!w->bad_entry) {
		w->c->entry = w->entries;
		if (w->fn(w->arg, e) != 0)
			w->bad_entry = 1; /* reported once the whole document is known to be JSON */
		w->c->entry = 0;
	}
	json_decref(e);
	return 0;
}

/* After a member or element: skips a ',' (returns 0: another follows) or the closing
 * bracket (returns 1: done); anything else is a syntax error (-1). */
static int after_item(struct walk *w, char close, const char *expected)
{
	skip_ws(w);
	char ch = w->pos < w->len ? w->data[w->pos] : 0;
	if (ch != ',' && ch != close)
		return syntax_error(w, w->pos,
				    w->pos < w->len ? expected : "unexpected end of input");
	w->pos++;
	if (ch == close)
		return 1;
	skip_ws(w);
	return 0;
}

/* Moves past the bracket at pos and the white space after it; returns 1 (moved past that
 * too) when close follows: the array or object is empty. */
static int enter(struct walk *w, char close)
{
	w->pos++;
	skip_ws(w);
	if (w->pos < w->len && w->data[w->pos] == close) {
		w->pos++;
		return 1;
	}
	return 0;
}

/* Walks an array (pos at '['): each(w) must consume one element at pos. */
static int walk_array(struct walk *w, int (*each)(struct walk *w))
{
	if (enter(w, ']'))
		return 0;
	for (;;) {
		if (cancelled(w) || each(w) != 0)
			return -1;
		int end = after_item(w, ']', "',' or ']' expected");
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

/* Walks an object (pos at '{'): member(w, key) must consume the value at pos. */
static int walk_object(struct walk *w, int (*member)(struct walk *w, const char *key))
{
	if (enter(w, '}'))
		return 0;
	for (;;) {
		if (w->pos >= w->len || w->data[w->pos] != '"')
			return syntax_error(w, w->pos,
					    w->pos < w->len ? "string or '}' expected"
							    : "unexpected end of input");
		json_t *k = next_value(w);
		if (!k)
			return -1;
		if (strlen(json_string_value(k)) != json_string_length(k)) {
			json_decref(k);
			return syntax_error(w, w->pos, "NUL byte in object key not supported");
		}
		skip_ws(w);
		if (w->pos >= w->len || w->data[w->pos] != ':') {
			json_decref(k);
			return syntax_error(w, w->pos, "':' expected");
		}
		w->pos++;
		skip_ws(w);
		int rc = cancelled(w) ? -1 : member(w, json_string_value(k));
		json_decref(k);
		if (rc != 0)
			return -1;
		int end = after_item(w, '}', "',' or '}' expected");
		if (end != 0)
			return end < 0 ? -1 : 0;
	}
}

static int on_log_member(struct walk *w, const char *key);

/* The value at pos is the member "log" or "log.entries" (named by what): when it opens with
 * open ('{': log, '[': entries), *opened is set and it is walked, else it is checked and
 * dropped (the caller finds it missing). A second one is refused: jansson would keep the last
 * one, and the first is handed over already. */
static int walk_once(struct walk *w, const char *what, int *seen, char open, int *opened)
{
	if ((*seen)++) {
		w->c->entry = 0;
		return harctx_fail(w->c, "%s appears twice", what);
	}
	if (w->pos >= w->len || w->data[w->pos] != open)
		return skip_value(w);
	*opened = 1;
	return open == '[' ? walk_array(w, take_entry) : walk_object(w, on_log_member);
}

/* The members of log: "entries" walked, the others checked. */
static int on_log_member(struct walk *w, const char *key)
{
	if (strcmp(key, "entries") == 0)
		return walk_once(w, "log.entries", &w->num_lists, '[', &w->list_array);
	return skip_value(w);
}

/* The members of the document: "log" walked, the others checked. */
static int on_root_member(struct walk *w, const char *key)
{
	if (strcmp(key, "log") == 0)
		return walk_once(w, "log", &w->num_logs, '{', &w->log_object);
	return skip_value(w);
}

int harwalk_doc(const char *data, size_t len, const atomic_int *cancel, harwalk_entry_fn fn,
		void *arg, struct harctx *c)
{
	struct walk walk = {.c = c,
			    .data = data ? data : "",
			    .len = data ? len : 0,
			    .cancel = cancel,
			    .fn = fn,
			    .arg = arg};
	struct walk *w = &walk;
	if (w->len >= 2 &&
	    (memcmp(w->data, "\xff\xfe", 2) == 0 || memcmp(w->data, "\xfe\xff", 2) == 0))
		return harctx_fail(w->c,
				   "the file is UTF-16 (it starts with a UTF-16 byte order mark): "
				   "save it as UTF-8");
	if (w->len >= 3 && memcmp(w->data, "\xef\xbb\xbf", 3) == 0)
		w->pos = 3;
	skip_ws(w);
	if (w->pos < w->len && w->data[w->pos] == '[') {
		/* JSON (then not a HAR) or not: checked an element at a time, as entries are */
		if (walk_array(w, skip_value) != 0)
			return -1;
		skip_ws(w);
		if (w->pos < w->len)
			return syntax_error(w, w->pos, "end of file expected");
		return harctx_fail(w->c, "log missing or not an object");
	}
	if (w->pos >= w->len || w->data[w->pos] != '{') {
		/* not an object or array: not JSON for a document (jansson says why) */
		json_error_t jerr;
		json_t *root = json_loadb(w->data + w->pos, w->len - w->pos, JSON_ALLOW_NUL, &jerr);
		if (!root)
			return syntax_error(
			    w, w->pos + (size_t)(jerr.position > 0 ? jerr.position : 0), jerr.text);
		json_decref(root);
		return harctx_fail(w->c, "log missing or not an object");
	}
	if (walk_object(w, on_root_member) != 0)
		return -1;
	skip_ws(w);
	if (w->pos < w->len)
		return syntax_error(w, w->pos, "end of file expected");
	if (!w->log_object)
		return harctx_fail(w->c, "log missing or not an object");
	if (!w->list_array)
		return harctx_fail(w->c, "log.entries missing or not an array");
	return w->bad_entry ? -1 : 0;
}
