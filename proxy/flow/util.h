/* SPDX-License-Identifier: MIT */
/* util.h - allocation that never returns NULL, clocks and logging, shared by every layer. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Out of memory is not an error we handle: these print a line and abort(). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* size bytes starting at a multiple of align (a power of two, at least sizeof(void *));
 * free() and realloc() take it like any other block. */
void *xmalloc_aligned(size_t align, size_t size);
char *xstrdup(const char *s);
/* Copies src into dst (size bytes, at least 1), cut to size - 1 bytes, NUL-terminated; returns
 * the bytes copied. What snprintf(dst, size, "%s", src) does, without parsing a format. */
size_t util_copy(char *dst, size_t size, const char *src);
char *xstrndup(const char *s, size_t len);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Names the calling thread ("fs-..."; at most 15 characters), as top -H, perf and gdb show it. */
void util_name_thread(const char *name);

int64_t util_now_us(void);  /* wall clock, microseconds since the epoch */
int64_t util_mono_us(void); /* monotonic clock, microseconds */

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
/* Messages below this level are dropped; default LOG_INFO, FLOWSCOPE_LOG=debug lowers it. */
void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Also hands each line of LOG_WARN and above (the text without time and level; borrowed for
 * the call) to fn, on the thread that logs: the page's event log. fn must not log. Set once
 * before threads start and removed (NULL) after they stopped. */
typedef void (*log_hook_fn)(void *arg, enum log_level lvl, const char *msg);
void log_set_hook(log_hook_fn fn, void *arg);
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
