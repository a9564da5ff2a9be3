/* SPDX-License-Identifier: MIT */
/* env.c - the questions about the shared environment that need more than a field (env.h). */
#include "env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void env_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		port = ntohs(s->sin_port);
		snprintf(out, len, "%s:%d", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		port = ntohs(s->sin6_port);
		snprintf(out, len, "[%s]:%d", ip, port);
	} else {
		snprintf(out, len, "?");
	}
}

int env_is_self(const struct env *e, const struct sockaddr *sa)
{
	int port = sa->sa_family == AF_INET
		       ? ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port)
		       : ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	int ours = e->cfg->web_port > 0 && port == e->cfg->web_port;
	for (size_t i = 0; !ours && i < e->num_proxy_ports; i++)
		ours = port == e->proxy_ports[i];
	if (!ours)
		return 0;
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
		if ((a >> 24) == 127 || a == 0)
			return 1;
		for (size_t i = 0; i < e->num_local_addrs; i++) {
			const struct sockaddr_in *l = (const void *)&e->local_addrs[i];
			if (l->sin_family == AF_INET && ntohl(l->sin_addr.s_addr) == a)
				return 1;
		}
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			uint32_t v4;
			memcpy(&v4, &a->s6_addr[12], 4);
			v4 = ntohl(v4);
			if ((v4 >> 24) == 127 || v4 == 0)
				return 1;
		}
		for (size_t i = 0; i < e->num_local_addrs; i++) {
			const struct sockaddr_in6 *l = (const void *)&e->local_addrs[i];
			if (l->sin6_family == AF_INET6 && memcmp(&l->sin6_addr, a, sizeof *a) == 0)
				return 1;
		}
	}
	return 0;
}
