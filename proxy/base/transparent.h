/* SPDX-License-Identifier: MIT */
/* transparent.h - transparent listeners (--mode transparent, Linux): connections the kernel
 * redirected to the proxy (nftables/iptables REDIRECT or DNAT) are served as if the client had
 * asked for a tunnel to their original destination. The name recorded and used towards the
 * origin is the ClientHello's SNI (TLS) or the request's Host (plain HTTP); the connection
 * itself always goes to the original address. */
#ifndef TRANSPARENT_H
#define TRANSPARENT_H

#include <netinet/in.h>
#include <stddef.h>

#include <event2/util.h>

struct env;
struct sockaddr;

/* Where a redirected connection was going before the redirect. */
struct transparent_dst {
	char addr[INET6_ADDRSTRLEN]; /* an IP literal, without brackets */
	int port;
};

/* Reads the original destination of the accepted socket fd (SO_ORIGINAL_DST, or
 * IP6T_SO_ORIGINAL_DST for IPv6) into *dst. Returns 0, or -1 after logging why the connection
 * is refused: the kernel knows no original destination (not redirected), or it is one of
 * flowscope's own listeners (a loop). The caller closes fd then. client (the peer's address)
 * is named in the log line. */
int transparent_original_dst(const struct env *env, evutil_socket_t fd,
			     const struct sockaddr *client, struct transparent_dst *dst);
/* Marks the listening socket fd (of listen address addr, for the log) IP_TRANSPARENT, so
 * that TPROXY may hand it connections to addresses of other hosts. Best effort: without
 * CAP_NET_ADMIN it only logs (at debug level) that it could not. */
void transparent_listen(evutil_socket_t fd, const char *addr);

#endif
