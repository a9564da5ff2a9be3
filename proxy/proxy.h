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

#include <stddef.h>

enum proxy_mode {
	PROXY_MITM = 0,    /* decrypt HTTPS where the decrypt rules say so */
	PROXY_FORWARD = 1, /* relay CONNECT tunnels, never decrypt */
};

struct proxy_config {
	const char *listen_host;  /* "127.0.0.1" */
	int listen_port;          /* 0 picks a free port; proxy_port() tells which */
	const char *confdir;      /* CA lives here; created if missing */
	enum proxy_mode mode;
	const char *const *ignore_hosts; /* regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	const char *const *allow_hosts;  /* regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	int ssl_insecure;         /* 1: do not verify upstream certificates */
	int threads;              /* workers; >= 1 */
	size_t body_limit;        /* stored bytes per body */
	const char *web_host;     /* the web UI's address, refused as a proxy target */
	int web_port;
	struct flow_sink sink;    /* copied; sink.emit is called from worker threads */
};

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
/* The port actually bound (useful with listen_port 0). */
int proxy_port(const struct proxy *p);
/* The CA certificate as PEM; borrowed, valid until proxy_free(). */
const char *proxy_ca_pem(const struct proxy *p, size_t *len);

#endif
