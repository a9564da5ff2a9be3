/* SPDX-License-Identifier: MIT */
/* alpn.h - ALPN mirrored through the proxy: the upstream handshake (made before the client's,
 * to forge from its certificate) offers what the client offered, and the client is then given
 * what the upstream chose. A client that offered only the protocol the upstream did not pick
 * gets its own, and flowscope translates between HTTP/2 and HTTP/1.1 (proxy/http2/). */
#ifndef ALPN_H
#define ALPN_H

#include "tls.h"

#include <openssl/ssl.h>

/* The protocols flowscope speaks, as bits of an offer or as the one chosen. */
enum { ALPN_H2 = 1, ALPN_H1 = 2 };

/* The protocols of hello's ALPN list that flowscope speaks (ALPN_* bits; 0: none of them). */
int alpn_offer(const struct tls_hello *hello);
/* Offers exactly offer's protocols (h2 first) on the upstream ssl; offer 0 keeps the
 * context's ("http/1.1"). Returns 0, or -1 when OpenSSL refused. */
int alpn_upstream_offer(SSL *ssl, int offer);
/* What a finished handshake agreed to: ALPN_H2, ALPN_H1 (any other name counts as http/1.1),
 * or 0 when it agreed to none (ssl may be NULL: 0). */
int alpn_chosen(SSL *ssl);
/* The client's handshake on ssl follows the upstream's choice (ALPN_H2 or ALPN_H1): that one
 * when the client offered it, else the other one it offered. 0 (nothing to follow: no
 * upstream handshake, as on a reverse listener or with an unreachable upstream, or an origin
 * that agreed to no protocol, which says nothing of h2): h2 first, then http/1.1. */
void alpn_client_follow(SSL *ssl, int chosen);
/* The client context's ALPN select callback (SSL_CTX_set_alpn_select_cb, arg unused). */
int alpn_select(SSL *ssl, const unsigned char **sel, unsigned char *sel_len,
		const unsigned char *in, unsigned int in_len, void *arg);

#endif
