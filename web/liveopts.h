/* SPDX-License-Identifier: MIT */
/* liveopts.h - the options a user changes while working (design.md, "options"), parsed once
 * into a plain struct:
 *
 *   {"ssl_insecure": bool, "anticache": bool, "body_limit": BYTES, "intercept_budget": BYTES}
 *
 * Each is also a command-line option of the same name (--ssl-insecure, --anticache,
 * --body-limit, --intercept-budget). The document is applied whole by the proxy through
 * web_control.set_options (control.h; the wiring's livecontrol.c) and kept in the store's
 * setting "options". Used by GET/PUT /api/options and by the wiring's start-up; a public header
 * of web/. Any thread; nothing is shared. */
#ifndef LIVEOPTS_H
#define LIVEOPTS_H

#include <stddef.h>

#define LIVEOPTS_BODY_LIMIT (4u << 20)		      /* the default body limit */
#define LIVEOPTS_INTERCEPT_BUDGET ((size_t)256 << 20) /* the default intercept budget */
#define LIVEOPTS_SIZE_MAX ((size_t)1 << 40)	      /* the largest size either may be */

struct liveopts {
	int ssl_insecure;	 /* 1: upstream certificates are not verified */
	int anticache;		 /* 1: If-None-Match / If-Modified-Since are taken off requests */
	size_t body_limit;	 /* stored bytes per body, 0 to LIVEOPTS_SIZE_MAX */
	size_t intercept_budget; /* bytes held and paused flows take together, 1 to the max */
};

/* The defaults: verification on, anticache off, 4 MiB, 256 MiB. */
void liveopts_defaults(struct liveopts *o);
/* Parses text (len bytes) over *o: each key present replaces that option, an absent one keeps
 * it. Returns 0, or -1 with err naming the bad part ("body_limit: expected a number of bytes
 * from 0 to 1099511627776", "unknown option 'x'") and *o unchanged. */
int liveopts_parse(const char *text, size_t len, struct liveopts *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The whole document as compact JSON text, every key in the order above; malloc'd (the caller
 * frees). */
char *liveopts_dump(const struct liveopts *o);

#endif
