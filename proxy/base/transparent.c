/* SPDX-License-Identifier: MIT */
/* transparent.c - transparent listeners (see transparent.h), SSLsplit's NAT mode in the shape
 * of this proxy's CONNECT:
 *
 *   accept ── original destination (SO_ORIGINAL_DST), not ourselves ──► PEEK_HELLO
 *     ──ClientHello──► a tunnel to SNI:port, decrypted or passed as the rules say (tunnel.c)
 *     ──not TLS──────► REQ_HEAD: plain requests, each recorded under its Host's name
 *                      (h1server.c)
 *
 * This file reads the original destination and marks listeners; what follows the peek is
 * tunnel.c's, and a plain request's name h1server.c's.
 *
 * The name and the address part ways: the flow, the rules, the certificate forged and the
 * upstream's SNI and verification use the name; the TCP connection goes to the original
 * address (conn_via() pins c->tr_name to it), so no DNS answer can send it elsewhere.
 *
 * TPROXY leaves the connection's destination as it was: the accepted socket's own address is
 * the original destination (SO_ORIGINAL_DST says the same where connections are tracked); the
 * listener then needs IP_TRANSPARENT (transparent_listen()) for addresses not of this host.
 *
 * A connection whose original destination is a listener of flowscope (a client that
 * connected to the transparent port directly, or a redirect that catches the proxy's own
 * upstream connections) is refused at accept with a log line that says so: serving it would
 * connect back to itself. */
#include "transparent.h"

#include "env.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

int transparent_original_dst(const struct env *env, evutil_socket_t fd, const struct sockaddr *peer,
			     struct transparent_dst *dst)
{
	char client[64];
	env_addr_text(peer, client, sizeof client);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	int rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
	if (rc != 0) { /* an IPv4 connection (on an IPv4 or a dual-stack socket) */
		len = sizeof ss;
		rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
	}
	if (rc != 0) { /* no connection tracking: TPROXY keeps the destination as it was */
		len = sizeof ss;
		rc = getsockname(fd, (struct sockaddr *)&ss, &len);
	}
	if (rc != 0) {
		log_warn("transparent: refusing %s: the kernel knows no original destination "
			 "for it (%s)",
			 client, strerror(errno));
		return -1;
	}
	char text[64];
	env_addr_text((const struct sockaddr *)&ss, text, sizeof text);
	if (env_is_self(env, (const struct sockaddr *)&ss)) {
		log_warn("transparent: refusing %s: its original destination %s is flowscope "
			 "itself (a direct connection to the transparent listener, or a redirect "
			 "that catches the proxy's own traffic): it would loop",
			 client, text);
		return -1;
	}
	const void *a = ss.ss_family == AF_INET6
			    ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
			    : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	inet_ntop(ss.ss_family, a, dst->addr, sizeof dst->addr);
	dst->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	log_debug("transparent: %s was going to %s", client, text);
	return 0;
}

void transparent_listen(evutil_socket_t fd, const char *addr)
{
	int one = 1;
	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0 &&
	    setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one) != 0)
		log_debug("transparent: %s: no IP_TRANSPARENT (%s): REDIRECT and DNAT work, "
			  "TPROXY to addresses of other hosts does not",
			  addr, strerror(errno));
}
