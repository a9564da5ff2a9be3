/* SPDX-License-Identifier: MIT */
/* harctx.c - the error of a HAR import, and why an entry is skipped (see harctx.h). */
#include "harctx.h"

#include <stdarg.h>
#include <stdio.h>

int harctx_fail(struct harctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->entry)
		snprintf(c->err, c->errlen, "entry %zu: %s", c->entry, msg);
	else
		snprintf(c->err, c->errlen, "%s", msg);
	return -1;
}

int harctx_skip(struct harctx *c, const char *fmt, ...)
{
	if (c->skip[0])
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->skip, sizeof c->skip, fmt, ap);
	va_end(ap);
	if (!c->skip[0])
		snprintf(c->skip, sizeof c->skip, "cannot be represented");
	return -1;
}
