/* SPDX-License-Identifier: MIT */
/* rulesjson.h - the live rules document (design.md, "rules") parsed once into a plain struct:
 *
 *   {"ignore_hosts": [regex, ...], "allow_hosts": [regex, ...], "intercept": "filter expr",
 *    "block": [{"filter": "filter expr", "status": N}, ...]}
 *
 * Parsing checks the shape only. The regexes and filters are compiled once, by whoever applies
 * the rules: the proxy, through web_control.set_rules (control.h; the wiring's livecontrol.c).
 * rulesjson_check() compiles them where nothing applies them (a web server without a proxy)
 * and words what an apply refused. Used by PUT /api/rules and by the wiring's start-up
 * seeding; a public header of web/. Any thread; nothing is shared. */
#ifndef RULESJSON_H
#define RULESJSON_H

#include <stddef.h>

struct rulesjson_block {
	char *filter; /* owned; a filter expression (db/filter.h), may be "" */
	int status;   /* 100 to 599; 403 when the document gave none */
};

struct rulesjson {
	char **ignore_hosts; /* owned; regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	char **allow_hosts; /* owned; regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	char *intercept;	       /* owned; a filter expression, "" for none */
	struct rulesjson_block *block; /* owned; num_block of them */
	size_t num_block;
};

/* Parses text (len bytes; NULL for none) into *out. Absent keys or null give empty lists,
 * "" and status 403; other keys are ignored. Returns 0 (rulesjson_clear() out when done), or
 * -1 with err naming the part that is not of the shape ("block[1].status: expected 100 to
 * 599") and out empty (nothing to clear). */
int rulesjson_parse(const char *text, size_t len, struct rulesjson *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Frees what r holds and empties it. */
void rulesjson_clear(struct rulesjson *r);
/* Replaces the host list *list (of *num regexes; ignore_hosts or allow_hosts of a struct
 * rulesjson) by copies of the num_hosts strings of hosts. */
void rulesjson_set_hosts(char ***list, size_t *num, const char *const *hosts, size_t num_hosts);
/* The normalized document as compact JSON text: every key present, in the order above.
 * malloc'd (the caller frees). */
char *rulesjson_dump(const struct rulesjson *r);
/* Compiles every regex (PCRE2) and filter once, and frees them. Returns 0, or -1 with err
 * naming the first bad one as the API words it ("ignore_hosts[0]: at 3: missing closing
 * parenthesis", "intercept: ...", "block[1].filter: ..."). */
int rulesjson_check(const struct rulesjson *r, char *err, size_t errlen);

#endif
