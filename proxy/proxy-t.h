/* SPDX-License-Identifier: MIT */
/* proxy-t.h - the types of proxy.h's calls: the configuration, the listeners and their modes,
 * the rules' matchers. Apart from the calls so that the core's layers below proxy.c (the
 * shared environment, the rules) can read them without seeing proxy.c's functions. */
#ifndef PROXY_T_H
#define PROXY_T_H

#include "flow.h"

#include <stddef.h>

enum proxy_mode {
	PROXY_MITM = 0,	       /* decrypt HTTPS where the decrypt rules say so */
	PROXY_FORWARD = 1,     /* relay CONNECT tunnels, never decrypt */
	PROXY_REVERSE = 2,     /* every request goes to one server (struct proxy_listener) */
	PROXY_SOCKS5 = 3,      /* SOCKS5 CONNECT, then decrypted or passed as for mitm's CONNECT */
	PROXY_UPSTREAM = 4,    /* as mitm, but every upstream connection goes through an HTTP proxy
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
	int target_tls;	   /* PROXY_REVERSE: 1 for an https server */
	const char *label; /* as bound, what its flows record (struct flow's mode):
			      "NAME@HOST:PORT"; set by proxy_new(), ignored in a config */
};

struct proxy_config {
	const char *listen_host; /* "127.0.0.1" */
	int listen_port;	 /* 0 picks a free port; proxy_port() tells which */
	const char *confdir;	 /* CA lives here; created if missing */
	enum proxy_mode mode;	 /* the one listener's mode when num_listeners is 0 */
	const struct proxy_listener *listeners; /* copied; NULL/0: one on listen_host:port */
	size_t num_listeners;
	const char *const *ignore_hosts; /* regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	const char *const *allow_hosts; /* regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	int ssl_insecure;	 /* 1: do not verify upstream certificates */
	int anticache;		 /* 1: strip If-None-Match / If-Modified-Since from requests */
	int threads;		 /* workers; >= 1 */
	size_t body_limit;	 /* stored bytes per body */
	size_t intercept_budget; /* bytes all paused flows may hold together; 0: 256 MiB */
	const char *web_host;	 /* the web UI's address, refused as a proxy target */
	int web_port;
	const char *token_cookie; /* the web UI's token cookie, never recorded nor forwarded;
				     NULL or "": none */
	struct flow_sink sink;	  /* copied; sink.emit is called from worker threads */
	/* Borrowed, must outlive the proxy; NULL: none. proxyauth ("USER:PASS"): the credentials
	 * regular, forward, upstream and socks5 listeners ask their clients for (reverse ones do
	 * not); upstream_auth ("USER:PASS"): sent to an upstream proxy (PROXY_UPSTREAM). */
	const char *proxyauth;
	const char *upstream_auth;
	/* 1: reverse listeners send the client's Host (HTTP/2: :authority) on instead of their
	 * server's (mitmproxy's keep_host_header); a request without one gets the server's. */
	int keep_host_header;
};

/* ---- live control: the rules (proxy_set_rules()) ---- */

/* A predicate on flows that the proxy evaluates without knowing db/ (main.c wraps the
 * store's filter language in it). match() is called on worker threads, concurrently. */
struct proxy_matcher {
	int (*match)(void *m, const struct flow *f); /* 1: matches */
	void (*free)(void *m);			     /* called once the proxy drops it */
	void *m;
};

struct proxy_block_rule {
	struct proxy_matcher matcher; /* requests matching it are answered by the proxy */
	int status;		      /* with this status, e.g. 403 */
};

struct proxy_rules {
	const char *const *ignore_hosts; /* regexes on "host:port": pass these through */
	size_t num_ignore_hosts;
	const char *const *allow_hosts; /* regexes on "host:port": decrypt only these */
	size_t num_allow_hosts;
	struct proxy_matcher intercept; /* match == NULL: intercept nothing */
	struct proxy_block_rule *block; /* array of num_block */
	size_t num_block;
};

#endif
