/* SPDX-License-Identifier: MIT */
/* proxy.h - the proxy core as main.c sees it: N worker threads, each with its own event_base
 * and SO_REUSEPORT listener, turning client connections into flows for a sink.
 *
 *   struct proxy *p = proxy_new(&cfg, err, sizeof err);   binds the listeners, loads the CA
 *   proxy_start(p);                                        starts the workers
 *   ... proxy_stop(p) from any thread ...                  workers finish and exit
 *   proxy_free(p);                                         joins them; emits END for open flows
 */
#ifndef PROXY_H
#define PROXY_H

#include "flow.h"
#include "proxy-t.h" /* the configuration, listeners and rules */

#include <stddef.h>

/* Sets up what must come before any libevent call: libevent's allocator (evmem.h). Once, first
 * thing in main(); a proxy works without it, with plain malloc. */
void proxy_preinit(void);
/* Creates the proxy: loads or creates the CA in confdir, compiles the host regexes and binds
 * every worker's listener. Returns NULL with a message in err on failure. */
struct proxy *proxy_new(const struct proxy_config *cfg, char *err, size_t errlen);
/* Starts the worker threads. Returns 0, or -1 if a thread could not start. */
int proxy_start(struct proxy *p);
/* Asks every worker to stop: listeners close, open connections are closed and their flows
 * ended with an error. Safe from any thread, not from a signal handler. */
void proxy_stop(struct proxy *p);
/* Waits for the workers and frees everything. NULL is a no-op. */
void proxy_free(struct proxy *p);

/* ---- live control (called from the web thread through main.c; never blocks) ---- */

/* Publishes a new rule set for every connection and request that starts after the call (and
 * for the intercept check of requests/responses not yet checked). The regexes are compiled
 * here; on failure it returns -1 with err and keeps the old rules. On success the matchers
 * (intercept and block) belong to the proxy; on failure they stay the caller's. */
int proxy_set_rules(struct proxy *p, const struct proxy_rules *r, char *err, size_t errlen);

/* What changes live (the Options page): the config's fields of the same names. */
struct proxy_options {
	int ssl_insecure;	 /* for the next upstream TLS connection */
	int anticache;		 /* for the next request */
	size_t body_limit;	 /* for what is recorded from now on */
	size_t intercept_budget; /* 0: 256 MiB; for the next hold */
};

/* Publishes o for every worker: plain atomic stores, read without a lock. Any thread. */
void proxy_set_options(struct proxy *p, const struct proxy_options *o);

/* Sends req upstream from the proxy's own client (same TLS verification and timeouts as proxied
 * traffic) and records the exchange as a new flow with FLOW_F_REPLAY and replay_of set as in
 * req. req gives scheme, host, port, path and the request part (method, version, headers in
 * order, body); Content-Length is recomputed when a body is present. Takes ownership of req.
 * Returns the new flow's id (its BEGIN is emitted before this returns) or 0 with err. */
uint64_t proxy_replay(struct proxy *p, struct flow *req, char *err, size_t errlen);

/* A flow paused by the intercept rule goes on. edit (owned; may be NULL) replaces what it
 * sets: on a paused request its request part (method, target/path, scheme, host, port,
 * headers, body), on a paused response its response part (status, reason, headers, body).
 * Returns 0, or -1 with err ("flow 12 is not paused"). */
int proxy_resume(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen);
/* Changes a paused flow without resuming it (same edit rules); the change is emitted as an
 * UPDATE. Returns 0, or -1 with err. */
int proxy_edit(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen);
/* Ends a paused flow: its client gets a clear error, the flow is recorded as killed. */
int proxy_kill(struct proxy *p, uint64_t id, char *err, size_t errlen);

/* The port actually bound by the first listener (useful with listen_port 0). */
int proxy_port(const struct proxy *p);
/* The number of listeners, and the i-th one as bound (port resolved, host filled in);
 * borrowed, valid until proxy_free(); NULL when i is out of range. */
size_t proxy_num_listeners(const struct proxy *p);
const struct proxy_listener *proxy_listener(const struct proxy *p, size_t i);
/* The CA certificate as PEM; borrowed, valid until proxy_free(). */
const char *proxy_ca_pem(const struct proxy *p, size_t *len);

#endif
