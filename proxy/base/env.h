/* SPDX-License-Identifier: MIT */
/* env.h - what the proxy's connections stand on: the environment every worker shares (the
 * configuration, TLS contexts, live rules, the intercept registry, the live options) and one
 * worker thread's state, both set up by proxy.c. Client connections (conn.c), exchanges,
 * upstream connections and replays read them; nothing here calls up into them. */
#ifndef ENV_H
#define ENV_H

#include "proxy-t.h"

#include <stddef.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

struct certforge;
struct intercept;
struct replay_worker;
struct rules_live;

/* Shared by every worker; immutable while the workers run (rules swap inside rules_live). */
struct env {
	const struct proxy_config *cfg; /* borrowed; strings owned by struct proxy */
	const int *proxy_ports;		/* every listener's bound port */
	size_t num_proxy_ports;
	struct certforge *cf;		      /* borrowed; thread-safe */
	SSL_CTX *upstream_ctx;		      /* borrowed; verifies */
	SSL_CTX *upstream_insecure_ctx;	      /* borrowed; does not (ssl_insecure) */
	SSL_CTX *client_ctx;		      /* borrowed; serves forged leaves */
	struct rules_live *rules;	      /* borrowed; live rules: decrypt, block, intercept */
	struct intercept *ic;		      /* borrowed; registry of paused flows */
	struct sockaddr_storage *local_addrs; /* borrowed; this host's interface addresses */
	size_t num_local_addrs;
	int timeout_s; /* connect, handshake, response and idle timeout */
	/* Live options (proxy_set_options(), with cfg->body_limit): read them with the
	 * env_*() calls below, atomic loads taken once per flow, chunk or connection. */
	int ssl_insecure;
	int anticache;
};

/* The live options of e as they are now. */
static inline size_t env_body_limit(const struct env *e)
{
	return __atomic_load_n(&e->cfg->body_limit, __ATOMIC_RELAXED);
}
static inline int env_anticache(const struct env *e)
{
	return __atomic_load_n(&e->anticache, __ATOMIC_RELAXED);
}
/* The context a new upstream TLS connection starts from: verifying, unless ssl_insecure. */
static inline SSL_CTX *env_upstream_ctx(const struct env *e)
{
	return __atomic_load_n(&e->ssl_insecure, __ATOMIC_RELAXED) ? e->upstream_insecure_ctx
								   : e->upstream_ctx;
}

/* One worker thread's state. Only that thread touches it (client_close_all included). */
struct env_worker {
	struct event_base *base;	  /* borrowed from the worker */
	struct evdns_base *dns;		  /* borrowed */
	const struct timeval *timeout_tv; /* env->timeout_s as a libevent common timeout */
	const struct env *env;
	struct conn *conns;	      /* live connections (a list owned by conn.c) */
	struct replay_worker *replay; /* owned by proxy.c: replays run here (replay.c) */
};

/* Whether sa is this proxy itself: its proxy or web port on a loopback, unspecified or local
 * interface address. Proxying or replaying there could loop (and would reach the API). */
int env_is_self(const struct env *e, const struct sockaddr *sa);
/* "ip:port" or "[ip6]:port" of sa into out. */
void env_addr_text(const struct sockaddr *sa, char *out, size_t len);

#endif
