/* SPDX-License-Identifier: MIT */
/* tls.h - TLS plumbing for the proxy: reading a ClientHello before any handshake, the two
 * SSL_CTX roles (towards the client with a forged leaf, towards the upstream with
 * verification), and describing a finished handshake for the flow record. */
#ifndef TLS_H
#define TLS_H

#include "certforge.h"
#include "flow.h"

#include <stddef.h>

#include <openssl/ssl.h>

struct bufferevent;

/* num_alpn counts the entries of alpn: at most 8; names of 32 bytes or more, or with bytes
 * outside printable ASCII, are skipped. sni is printable ASCII (else the hello is refused). */
struct tls_hello {
	char sni[256];       /* server_name (host_name type), "" if absent */
	int num_alpn;        /* number of protocols offered */
	char alpn[8][32];    /* the first 8 offered ALPN protocols, NUL-terminated */
};

/* Reads a TLS ClientHello from the first bytes a client sent (the record layer included; the
 * hello may span several records). Returns 1 when a whole ClientHello was parsed (out filled),
 * 0 when more bytes are needed, -1 when the bytes are not a TLS ClientHello. Never reads
 * past buf+len. */
int tls_peek_hello(const unsigned char *buf, size_t len, struct tls_hello *out);

/* Context for connections to upstream servers: verifies against OpenSSL's default trust store
 * (so SSL_CERT_FILE works) unless insecure, offers ALPN "http/1.1" (alpn.h may offer the
 * client's protocols on one SSL instead). */
SSL_CTX *tls_upstream_ctx_new(int insecure, char *err, size_t errlen);
/* An SSL for one upstream connection: SNI set to host when it is a name, the certificate
 * checked against host (name or IP) when the context verifies, and the last session the
 * context was given for host:port offered for resumption. Caller owns the SSL. */
SSL *tls_upstream_ssl_new(SSL_CTX *ctx, const char *host, int port);
/* The handshake on ssl failed: its host:port's cached session is not offered again. */
void tls_upstream_failed(SSL *ssl);
/* (host may be "[v6]" or end in a root dot; a name over 255 bytes is verified but sent
 * without SNI. NULL, logged, when host is empty while verifying or OpenSSL fails.) */

/* Context for the client side: ALPN selection follows the upstream's choice (alpn.h), "h2"
 * or "http/1.1" (or no ALPN). The certificate is set per connection. */
SSL_CTX *tls_client_ctx_new(char *err, size_t errlen);
/* 1 when the client and the proxy agreed to HTTP/2 on ssl (may be NULL: 0). */
int tls_client_alpn_h2(SSL *ssl);
/* An SSL for one client connection that presents `leaf` (with the forge's shared key and its
 * CA in the chain). Caller owns the SSL; leaf is not consumed. */
SSL *tls_client_ssl_new(SSL_CTX *ctx, struct certforge *cf, X509 *leaf);

/* Gives ssl the socket fd for both directions, with the len bytes at prefix (those already
 * read from fd: the ClientHello the proxy looked at) read first. The fd stays open when the
 * SSL is freed. Returns 0, or -1 (logged) when OpenSSL fails. */
int tls_set_socket(SSL *ssl, int fd, const void *prefix, size_t len);
/* Once the handshake is done and the prefix tls_set_socket() gave was read whole, ssl reads
 * straight from the socket (a read BIO fewer on every record). A no-op for any other ssl
 * (NULL too). */
void tls_drop_prefix(SSL *ssl);

/* Fills the upstream fields of out (version, cipher, alpn, cert_subject, cert_issuer) from a
 * finished upstream handshake; replaces what was there. */
void tls_describe_upstream(SSL *ssl, struct flow_tls *out);
/* A short reason for the last TLS failure on ssl, e.g. "certificate verify failed:
 * self-signed certificate"; writes into buf and returns it. */
const char *tls_error_text(SSL *ssl, char *buf, size_t len);
/* The same, for when the error was already taken off OpenSSL's queue: bufferevent_openssl
 * moves queued errors into the bufferevent, so pass bufferevent_get_openssl_error(bev) as err
 * (0 falls back to the queue). A failed certificate verification still wins. */
const char *tls_error_text_err(SSL *ssl, unsigned long err, char *buf, size_t len);
/* The same for an OpenSSL bufferevent (its SSL and the error it took off the queue); NULL when
 * bev has no SSL. */
const char *tls_bev_error_text(struct bufferevent *bev, char *buf, size_t len);

#endif
