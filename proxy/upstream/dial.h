/* SPDX-License-Identifier: MIT */
/* dial.h - reaching an upstream by name: the name resolved (the names RFC 6761 reserves are
 * answered without asking DNS), then a non-blocking TCP connect to each address in turn until
 * one answers, refusing addresses that are flowscope itself. The upstream client (upstream.c),
 * which proxied requests and replays share, reaches its origins through here. */
#ifndef DIAL_H
#define DIAL_H

#include <stdint.h>

#include <event2/util.h>

struct env_worker;
struct dial;

enum dial_status {
	DIAL_CONNECTED, /* fd is a connected socket (TCP_NODELAY), now the callee's */
	DIAL_FAILED,	/* err says why: the DNS lookup, or the last connect, failed */
	DIAL_SELF,	/* an address is flowscope's own proxy or web port: nothing opened */
};

struct dial_result {
	enum dial_status status;
	evutil_socket_t fd; /* DIAL_CONNECTED; -1 otherwise */
	const char *err;    /* DIAL_FAILED: "DNS lookup of H failed: ...", "connection to H:P
			       failed: ..." */
	int64_t dns_done, connect_done; /* util_now_us() when each step ended; 0 if not */
	char addr[64];			/* the address connected (or tried last), "ip:port" */
};

/* Runs once per dial; r is valid for the call only. The dial is gone when it runs. */
typedef void (*dial_fn)(void *arg, const struct dial_result *r);

/* Dials host:port on w's thread with w's resolver; each connect attempt times out after w's
 * timeout. An outcome known at once (a name under .invalid, an address that is flowscope
 * itself, nothing to connect to) runs fn before dial_start() returns; it then returns NULL,
 * else the dial in progress. */
struct dial *dial_start(struct env_worker *w, const char *host, uint16_t port, dial_fn fn,
			void *arg);
/* An HTTP proxy that connections go through (--mode upstream:http://HOST:PORT). */
struct dial_via {
	const char *host; /* borrowed; NULL: none, dial directly */
	int port;
	const char *auth; /* borrowed "USER:PASS" sent as Proxy-Authorization: Basic; NULL: none */
	/* Without a proxy: connections to pin_name:pin_port go to pin_addr (an IP literal)
	 * instead of what DNS says (a transparent listener's original destination). Borrowed;
	 * NULL: none. */
	const char *pin_name, *pin_addr;
	int pin_port;
};

/* As dial_start(), but reaches via's proxy and asks it for a tunnel to host:port (CONNECT,
 * with via->auth); DIAL_CONNECTED once it answered 2xx, its answer read and nothing after it.
 * host NULL: only reaches the proxy (absolute-form requests go to it).
 * DIAL_FAILED's err names the proxy: unreachable, or its refusal ("upstream proxy H:P
 * refused CONNECT h:p: 407 Proxy Authentication Required"). via is copied. */
struct dial *dial_start_via(struct env_worker *w, const struct dial_via *via, const char *host,
			    uint16_t port, dial_fn fn, void *arg);
/* Stops a dial whose callback has not run; the callback then never runs. NULL is a no-op. */
void dial_cancel(struct dial *d);

#endif
