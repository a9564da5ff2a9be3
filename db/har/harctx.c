/* SPDX-License-Identifier: MIT */
/* harctx.c - the error of a HAR import (see harctx.h). */
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
