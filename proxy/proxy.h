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
	PROXY_MITM = 0,	   /* decrypt HTTPS where the decrypt rules say so */
	PROXY_FORWARD = 1, /* relay CONNECT tunnels, never decrypt */
	PROXY_REVERSE = 2, /* every request goes to one server (struct proxy_listener) */
	PROXY_SOCKS5 = 3,  /* SOCKS5 CONNECT, then decrypted or passed as for mitm's CONNECT */
	PROXY_UPSTREAM = 4, /* as mitm, but every upstream connection goes through an HTTP proxy
			       (struct proxy_listener's target): absolute-form or CONNECT */
	PROXY_TRANSPARENT = 5, /* Linux: connections redirected by nftables/iptables, served as
				  CONNECTs to their original destination */
};

/* One listener and the mode its connections are served in (--mode MODE[@[HOST:]PORT]). */
struct proxy_listener {
	enum proxy_mode mode;
	const char *host;	 /* NULL: the config's listen_host */
	int port;		 /* -1: the config's listen_port; 0 picks a free port */
	const char *name;	 /* the mode as typed ("reverse:http://h:1"); NULL: the mode's */
	const char *target_host; /* PROXY_REVERSE: the server requests go to; PROXY_UPSTREAM:
				    the proxy everything goes through */
	int target_port;
	int target_tls; /* PROXY_REVERSE: 1 for an https server */
	const char *label; /* as bound, what its flows record (struct flow's mode):
			      "NAME@HOST:PORT"; set by proxy_new(), ignored in a config */
};

struct proxy_config {
	const char *listen_host;  /* "127.0.0.1" */
	int listen_port;          /* 0 picks a free port; proxy_port() tells which */
	const char *confdir;      /* CA lives here; created if missing */
	enum proxy_mode mode;	  /* the one listener's mode when num_listeners is 0 */
	const struct proxy_listener *listeners; /* copied; NULL/0: one on listen_host:port */
	size_t num_listeners;
	const char *const *ignore_hosts; /* regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	const char *const *allow_hosts;  /* regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	int ssl_insecure;         /* 1: do not verify upstream certificates */
	int anticache;            /* 1: strip If-None-Match / If-Modified-Since from requests */
	int threads;              /* workers; >= 1 */
	size_t body_limit;        /* stored bytes per body */
	size_t intercept_budget;  /* bytes all paused flows may hold together; 0: 256 MiB */
	const char *web_host;     /* the web UI's address, refused as a proxy target */
	int web_port;
	const char *token_cookie; /* the web UI's token cookie, never recorded nor forwarded;
				     NULL or "": none */
	struct flow_sink sink;    /* copied; sink.emit is called from worker threads */
	/* Borrowed, must outlive the proxy; NULL: none. proxyauth ("USER:PASS"): the credentials
	 * regular, forward, upstream and socks5 listeners ask their clients for (reverse ones do
	 * not); upstream_auth ("USER:PASS"): sent to an upstream proxy (PROXY_UPSTREAM). */
	const char *proxyauth;
	const char *upstream_auth;
	/* 1: reverse listeners send the client's Host (HTTP/2: :authority) on instead of their
	 * server's (mitmproxy's keep_host_header); a request without one gets the server's. */
	int keep_host_header;
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
/* ---- live control (called from the web thread through main.c; never blocks) ---- */

/* A predicate on flows that the proxy evaluates without knowing db/ (main.c wraps the
 * store's filter language in it). match() is called on worker threads, concurrently. */
struct proxy_matcher {
	int (*match)(void *m, const struct flow *f); /* 1: matches */
	void (*free)(void *m);                       /* called once the proxy drops it */
	void *m;
};

struct proxy_block_rule {
	struct proxy_matcher matcher; /* requests matching it are answered by the proxy */
	int status;                   /* with this status, e.g. 403 */
};

struct proxy_rules {
	const char *const *ignore_hosts; /* regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	const char *const *allow_hosts;  /* regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	struct proxy_matcher intercept;  /* match == NULL: intercept nothing */
	struct proxy_block_rule *block;  /* array of num_block */
	size_t num_block;
};

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
