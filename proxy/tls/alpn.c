/* SPDX-License-Identifier: MIT */
/* alpn.c - ALPN mirrored through the proxy (see alpn.h). The upstream's choice is kept on the
 * client's SSL (ex_data, a small integer, nothing to free) for the select callback, which runs
 * during the client's handshake on the worker's thread. */
#include "alpn.h"

#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static int follow_idx = -1;
static pthread_once_t follow_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
	follow_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int alpn_offer(const struct tls_hello *hello)
{
	int offer = 0;
	for (int i = 0; i < hello->num_alpn; i++) {
		if (strcmp(hello->alpn[i], "h2") == 0)
			offer |= ALPN_H2;
		else if (strcmp(hello->alpn[i], "http/1.1") == 0)
			offer |= ALPN_H1;
	}
	return offer;
}

int alpn_upstream_offer(SSL *ssl, int offer)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	if (offer == 0)
		return 0;
	const unsigned char *p = both;
	unsigned int len = sizeof both - 1;
	if (offer == ALPN_H2)
		len = 3;
	else if (offer == ALPN_H1)
		p += 3, len -= 3;
	return SSL_set_alpn_protos(ssl, p, len) == 0 ? 0 : -1; /* 0 on success, unlike most */
}

int alpn_chosen(SSL *ssl)
{
	const unsigned char *p = NULL;
	unsigned int len = 0;
	if (ssl)
		SSL_get0_alpn_selected(ssl, &p, &len);
	if (len == 0)
		return 0;
	return len == 2 && memcmp(p, "h2", 2) == 0 ? ALPN_H2 : ALPN_H1;
}

void alpn_client_follow(SSL *ssl, int chosen)
{
	pthread_once(&follow_once, make_index);
	if (follow_idx >= 0)
		SSL_set_ex_data(ssl, follow_idx, (void *)(intptr_t)chosen);
}

/* Points *sel at name in the client's list in (RFC 7301 wire form). Returns 1 when found. */
static int pick(const unsigned char *in, unsigned int in_len, const char *name,
		const unsigned char **sel, unsigned char *sel_len)
{
	size_t want = strlen(name);
	for (unsigned int i = 0, n; i < in_len; i += 1 + n) {
		n = in[i];
		if (n == 0 || n > in_len - i - 1)
			return 0;
		if (n == want && memcmp(in + i + 1, name, n) == 0) {
			*sel = in + i + 1;
			*sel_len = (unsigned char)n;
			return 1;
		}
	}
	return 0;
}

int alpn_select(SSL *ssl, const unsigned char **sel, unsigned char *sel_len,
		const unsigned char *in, unsigned int in_len, void *arg)
{
	(void)arg;
	pthread_once(&follow_once, make_index);
	int chosen = follow_idx >= 0 ? (int)(intptr_t)SSL_get_ex_data(ssl, follow_idx) : 0;
	const char *first = chosen == ALPN_H1 ? "http/1.1" : "h2";
	const char *second = chosen == ALPN_H1 ? "h2" : "http/1.1";
	if (pick(in, in_len, first, sel, sel_len) || pick(in, in_len, second, sel, sel_len))
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_NOACK;
}
