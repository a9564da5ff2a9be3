/* SPDX-License-Identifier: MIT */
/* rules.h - the decrypt decision: which CONNECT targets are split (decrypted) and which are
 * passed through, from mitmproxy-style ignore/allow host regexes.
 *
 * A struct rules is immutable once built, so worker threads read it without locks. A struct
 * rules_live holds the current set; rules_live_set() publishes a new one from any thread (the
 * web thread, when the user edits the rules) and readers keep the set they took until they
 * release it. */
#ifndef RULES_H
#define RULES_H

#include "proxy-t.h"

#include <stddef.h>

struct rules;

/* Compiles the regexes (PCRE2, case-insensitive, unanchored search as Python's re.search),
 * matched against "host:port". Returns NULL with a message naming the bad regex in err. The
 * strings are copied. The new set has one reference, owned by the caller. */
struct rules *rules_new(const char *const *ignore_hosts, size_t num_ignore,
			const char *const *allow_hosts, size_t num_allow, char *err, size_t errlen);
/* 1: decrypt (split) host:port, 0: pass it through. An ignore match wins; with a non-empty
 * allow list only matching targets are decrypted. Thread-safe. */
int rules_should_decrypt(const struct rules *r, const char *host, int port);
/* Gives r the intercept matcher and the block rules of a live rule set (copied structs; the
 * matchers' m then belong to r and are freed with it). Call before r is shared. */
void rules_set_matchers(struct rules *r, const struct proxy_matcher *intercept,
			const struct proxy_block_rule *block, size_t num_block);
/* 1 when the intercept matcher matches f. Thread-safe. */
int rules_intercept(const struct rules *r, const struct flow *f);
/* The status of the first block rule matching f, or 0. Thread-safe. */
int rules_block(const struct rules *r, const struct flow *f);
/* The answer to a blocked request, as its flow records it: status (403 when out of range),
 * a reason phrase, and RULES_BLOCK_BODY (capped at body_limit) of type RULES_BLOCK_TYPE. */
#define RULES_BLOCK_BODY "blocked by a flowscope rule\n"
#define RULES_BLOCK_TYPE "text/plain; charset=utf-8"
void rules_block_answer(struct flow_msg *m, int status, size_t body_limit);
/* The reason phrase for a status the proxy answers with itself (blocks, intercept edits). */
const char *rules_reason(int status);
struct rules *rules_ref(struct rules *r); /* one more reference; returns r */
void rules_unref(struct rules *r);	  /* drops one; frees at zero; NULL is a no-op */

struct rules_live;
/* Holds initial (takes the caller's reference). */
struct rules_live *rules_live_new(struct rules *initial);
void rules_live_free(struct rules_live *l); /* NULL is a no-op */
/* The current set with a reference for the caller: rules_unref() it when done. */
struct rules *rules_live_get(struct rules_live *l);
/* Replaces the current set by r (takes the caller's reference). Thread-safe. */
void rules_live_set(struct rules_live *l, struct rules *r);

#endif
