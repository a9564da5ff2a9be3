/* SPDX-License-Identifier: MIT */
/* util.c - see util.h. Logging writes whole lines to stderr with one write() each, so lines
 * from different threads never interleave. */
#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t size)
{
	fprintf(stderr, "flowscope: out of memory (%zu bytes)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

/* Up to this many bytes xcalloc() is malloc() and memset(): glibc's calloc() skips the
 * per-thread cache that makes a small malloc() cheap. */
#define CALLOC_SMALL 1024

void *xcalloc(size_t n, size_t size)
{
	if (n && size && n <= CALLOC_SMALL / size)
		return memset(xmalloc(n * size), 0, n * size);
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		oom(size);
	return q;
}

void *xmalloc_aligned(size_t align, size_t size)
{
	void *p = NULL;
	if (posix_memalign(&p, align, size ? size : 1) != 0)
		oom(size);
	return p;
}

void util_name_thread(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

size_t util_copy(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return len;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
	char *d = xmalloc(len + 1);
	if (len) /* s may be NULL when len is 0 */
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	char *s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

int64_t util_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

static enum log_level min_level = LOG_INFO;
/* atomics: the store's writer thread may already log while main sets the hook */
static _Atomic(log_hook_fn) hook;
static void *_Atomic hook_arg;

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void log_set_hook(log_hook_fn fn, void *arg)
{
	if (!fn)
		atomic_store(&hook, NULL);
	atomic_store(&hook_arg, arg);
	atomic_store(&hook, fn);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (lvl < min_level)
		return;
	char line[1024];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	size_t n = strftime(line, sizeof line, "%H:%M:%S ", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, "%s: ", names[lvl]);
	size_t msg_at = n;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m > 0)
		n = n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2;
	log_hook_fn fn = lvl >= LOG_WARN ? atomic_load(&hook) : NULL;
	if (fn) {
		line[n] = '\0';
		fn(atomic_load(&hook_arg), lvl, line + msg_at);
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w; /* nothing useful to do if stderr is gone */
}
