/* SPDX-License-Identifier: MIT */
/* conn.h - one client connection of the proxy, from accept to close, and the per-worker and
 * per-proxy state connections share. proxy.c owns the workers and creates connections with
 * conn_accept(); everything after that happens in conn.c on the worker's thread. */
#ifndef CONN_H
#define CONN_H

#include "certforge.h"
#include "proxy.h"
#include "rules.h"

#include <stddef.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

/* Shared by every worker; immutable while the workers run (rules swap inside rules_live). */
struct conn_env {
	const struct proxy_config *cfg;	      /* borrowed; strings owned by struct proxy */
	int proxy_port;			      /* the port actually bound */
	struct certforge *cf;		      /* borrowed; thread-safe */
	SSL_CTX *upstream_ctx;		      /* borrowed; verifies unless cfg->ssl_insecure */
	SSL_CTX *client_ctx;		      /* borrowed; serves forged leaves */
	struct rules_live *rules;	      /* borrowed; the live decrypt rules */
	struct sockaddr_storage *local_addrs; /* borrowed; this host's interface addresses */
	size_t num_local_addrs;
	int timeout_s; /* connect, handshake, response and idle timeout */
};

/* One worker thread's state. Only that thread touches it (conn_close_all included). */
struct conn_worker {
	struct event_base *base;	  /* borrowed from the worker */
	struct evdns_base *dns;		  /* borrowed */
	const struct timeval *timeout_tv; /* env->timeout_s as a libevent common timeout */
	const struct conn_env *env;
	struct conn *conns; /* live connections (a list owned by conn.c) */
};

/* Takes over an accepted client socket (closes it on failure). */
void conn_accept(struct conn_worker *w, evutil_socket_t fd, const struct sockaddr *addr,
		 int addrlen);
/* Closes every connection of w, ending open flows with error `why` (shutdown). */
void conn_close_all(struct conn_worker *w, const char *why);

#endif
