/* SPDX-License-Identifier: MIT */
/* livecontrol.h - the program's glue between the web API's controls and the proxy: rules as
 * JSON (design.md, "rules") compiled into the proxy's rule set, with the store's filter
 * language behind intercept and block; the live options (liveopts.h) handed to the proxy;
 * replay and paused-flow calls passed through. Like
 * main.c, it knows every layer; proxy/, db/ and web/ stay unaware of each other. */
#ifndef LIVECONTROL_H
#define LIVECONTROL_H

#include "control.h"
#include "liveopts.h"
#include "options.h"
#include "proxy.h"

#include <stddef.h>

/* The web API's controls, acting on p (borrowed; must outlive the web server). */
struct web_control livecontrol_for(struct proxy *p);

/* Parses rules JSON (rulesjson.h), compiles it and publishes it to p. Returns 0, or -1 with
 * err (old rules kept). */
int livecontrol_apply_rules(struct proxy *p, const char *json, char *err, size_t errlen);

/* The rules to start with: stored (JSON text, may be NULL; when it does not parse, a warning
 * and no rules) with the command line's host lists, when given, in place of the stored ones.
 * Returns the normalized JSON text, malloc'd (the caller frees). */
char *livecontrol_seed_rules(const char *stored, const char *const *ignore, size_t num_ignore,
			     const char *const *allow, size_t num_allow);

/* The live options to start with: stored (JSON text, may be NULL; when it does not parse, a
 * warning and the defaults), with those the command line gave (opts) in place of the stored
 * ones, into *out. Returns the normalized JSON text, malloc'd (the caller frees). */
char *livecontrol_seed_options(const char *stored, const struct options *opts,
			       struct liveopts *out);
/* Hands o (borrowed) to p: the next flows and upstream connections take it. */
void livecontrol_apply_options(struct proxy *p, const struct liveopts *o);

#endif
