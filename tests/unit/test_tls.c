/* SPDX-License-Identifier: MIT */
/* test_tls.c - the ClientHello peek on real hellos from an in-memory OpenSSL client (split at
 * every byte, re-framed into many records, each placed right before a PROT_NONE page so any
 * over-read crashes), on hand-built and broken hellos; then both SSL_CTX roles talking to each
 * other through memory BIOs: a forged leaf verified end to end with the hostname check, IP
 * hosts without SNI, ALPN, and the error texts. */
#include "tls.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>

/* ---- ClientHello material ---- */

/* The first flight of an OpenSSL client: SSL_do_handshake once, read what it wrote. */
static size_t real_hello(const char *sni, const char *alpn, size_t alpn_len, int max_version,
			 unsigned char *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rb, wb);
	SSL_set_connect_state(ssl);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (alpn)
		SSL_set_alpn_protos(ssl, (const unsigned char *)alpn, (unsigned)alpn_len);
	SSL_do_handshake(ssl);
	int n = BIO_read(wb, out, (int)cap);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return n > 0 ? (size_t)n : 0;
}

/* A ClientHello in one record with the given extensions block (NULL: none at all). */
static size_t built_hello(const unsigned char *exts, size_t exts_len, unsigned char *out)
{
	unsigned char body[4096];
	size_t n = 0;
	body[n++] = 3;
	body[n++] = 3;
	memset(body + n, 0xab, 32); /* random */
	n += 32;
	body[n++] = 0; /* session id */
	body[n++] = 0; /* cipher suites: one */
	body[n++] = 2;
	body[n++] = 0x13;
	body[n++] = 0x01;
	body[n++] = 1; /* compression: null */
	body[n++] = 0;
	if (exts) {
		body[n++] = (unsigned char)(exts_len >> 8);
		body[n++] = (unsigned char)exts_len;
		memcpy(body + n, exts, exts_len);
		n += exts_len;
	}
	size_t hs = n + 4;
	out[0] = 0x16;
	out[1] = 3;
	out[2] = 1;
	out[3] = (unsigned char)(hs >> 8);
	out[4] = (unsigned char)hs;
	out[5] = 1;
	out[6] = 0;
	out[7] = (unsigned char)(n >> 8);
	out[8] = (unsigned char)n;
	memcpy(out + 9, body, n);
	return 9 + n;
}

/* Re-frames a one-record hello into records carrying `chunk` handshake bytes each. */
static size_t reframe(const unsigned char *in, size_t len, size_t chunk, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 5; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		out[o++] = 0x16;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (unsigned char)(n >> 8);
		out[o++] = (unsigned char)n;
		memcpy(out + o, in + i, n);
		o += n;
	}
	return o;
}

/* A region whose end touches a PROT_NONE page. */
static unsigned char *guard_end;
static void *guard_map;
static size_t guard_map_len;

static int guard_setup(size_t max)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (max + pg - 1) / pg + 1;
	guard_map_len = pages * pg;
	guard_map =
	    mmap(NULL, guard_map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_map == MAP_FAILED)
		return -1;
	guard_end = (unsigned char *)guard_map + (pages - 1) * pg;
	return mprotect(guard_end, pg, PROT_NONE);
}

/* tls_peek_hello on data[0..len) copied to end exactly at the guard page. */
static int peek_guarded(const unsigned char *data, size_t len, struct tls_hello *h)
{
	memcpy(guard_end - len, data, len);
	return tls_peek_hello(guard_end - len, len, h);
}

/* Every proper prefix needs more, the whole parses; returns the whole's result. */
static int every_split(const unsigned char *data, size_t len, struct tls_hello *h)
{
	int bad = 0;
	for (size_t i = 0; i < len; i++) {
		struct tls_hello tmp;
		if (peek_guarded(data, i, &tmp) != 0) {
			fprintf(stderr, "prefix %zu of %zu did not return 0\n", i, len);
			bad++;
		}
	}
	int rc = peek_guarded(data, len, h);
	return bad ? -2 : rc;
}

static void test_real_hello(void)
{
	unsigned char buf[8192], framed[16384];
	struct tls_hello h;
	static const char alpn[] = "\x02h2\x08http/1.1";
	size_t len = real_hello("www.example.com", alpn, sizeof alpn - 1, 0, buf, sizeof buf);
	ok(len > 100);
	ok(every_split(buf, len, &h) == 1);
	ok(strcmp(h.sni, "www.example.com") == 0);
	ok(h.num_alpn == 2 && strcmp(h.alpn[0], "h2") == 0 && strcmp(h.alpn[1], "http/1.1") == 0);

	/* The same hello in records of 1, 2, 3, 7 and 100 handshake bytes. */
	size_t chunks[] = {1, 2, 3, 7, 100};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		size_t flen = reframe(buf, len, chunks[i], framed);
		memset(&h, 0, sizeof h);
		ok(every_split(framed, flen, &h) == 1);
		ok(strcmp(h.sni, "www.example.com") == 0 && h.num_alpn == 2);
	}

	/* Bytes after the hello (the client's next flight) do not matter. */
	memcpy(framed, buf, len);
	memcpy(framed + len, "\x17\x03\x03\x00\x05junk", 10);
	ok(peek_guarded(framed, len + 10, &h) == 1 && strcmp(h.sni, "www.example.com") == 0);

	/* A TLS 1.2-only client, and one without SNI or ALPN. */
	len = real_hello("tls12.example", NULL, 0, TLS1_2_VERSION, buf, sizeof buf);
	ok(every_split(buf, len, &h) == 1);
	ok(strcmp(h.sni, "tls12.example") == 0 && h.num_alpn == 0);
	len = real_hello(NULL, NULL, 0, 0, buf, sizeof buf);
	ok(every_split(buf, len, &h) == 1);
	ok(h.sni[0] == '\0' && h.num_alpn == 0);
}

static void test_built_hello(void)
{
	unsigned char buf[8192];
	struct tls_hello h;
	size_t len;

	/* No extensions block at all. */
	len = built_hello(NULL, 0, buf);
	ok(every_split(buf, len, &h) == 1 && h.sni[0] == '\0');

	/* SNI with an unknown name type first, then host_name. */
	static const unsigned char sni2[] = {0,	  0, 0, 13, 0,	 11,  7,   0,  1,
					     'z', 0, 0, 4,  'a', '.', 'b', 'c'};
	len = built_hello(sni2, sizeof sni2, buf);
	ok(peek_guarded(buf, len, &h) == 1 && strcmp(h.sni, "a.bc") == 0);

	/* A control character in the name, a name of length 0, two server_name extensions,
	 * two host_names: all refused. */
	static const unsigned char ctl[] = {0, 0, 0, 8, 0, 6, 0, 0, 3, 'a', '\n', 'b'};
	len = built_hello(ctl, sizeof ctl, buf);
	ok(peek_guarded(buf, len, &h) == -1);
	static const unsigned char empty[] = {0, 0, 0, 5, 0, 3, 0, 0, 0};
	len = built_hello(empty, sizeof empty, buf);
	ok(peek_guarded(buf, len, &h) == -1);
	static const unsigned char dup_ext[] = {0, 0, 0, 6, 0, 4, 0, 0, 1, 'a',
						0, 0, 0, 6, 0, 4, 0, 0, 1, 'b'};
	len = built_hello(dup_ext, sizeof dup_ext, buf);
	ok(peek_guarded(buf, len, &h) == -1);
	static const unsigned char dup_name[] = {0, 0, 0, 10, 0, 8, 0, 0, 1, 'a', 0, 0, 1, 'b'};
	len = built_hello(dup_name, sizeof dup_name, buf);
	ok(peek_guarded(buf, len, &h) == -1);

	/* ALPN: ten names keep the first eight; a 40-byte name and a GREASE-like one are
	 * skipped; an empty name is an error. */
	unsigned char alpn[512];
	size_t n = 6;
	for (int i = 0; i < 10; i++) {
		alpn[n++] = 2;
		alpn[n++] = 'p';
		alpn[n++] = (unsigned char)('0' + i);
	}
	alpn[n++] = 40;
	memset(alpn + n, 'x', 40);
	n += 40;
	alpn[n++] = 2;
	alpn[n++] = 0x0a;
	alpn[n++] = 0x0a;
	alpn[0] = 0;
	alpn[1] = 16;
	alpn[2] = (unsigned char)((n - 4) >> 8);
	alpn[3] = (unsigned char)(n - 4);
	alpn[4] = (unsigned char)((n - 6) >> 8);
	alpn[5] = (unsigned char)(n - 6);
	len = built_hello(alpn, n, buf);
	ok(peek_guarded(buf, len, &h) == 1);
	ok(h.num_alpn == 8 && strcmp(h.alpn[0], "p0") == 0 && strcmp(h.alpn[7], "p7") == 0);
	static const unsigned char alpn0[] = {0, 16, 0, 4, 0, 2, 1, 'a', 0};
	len = built_hello(alpn0, sizeof alpn0 - 1, buf);
	ok(peek_guarded(buf, len, &h) == 1 && h.num_alpn == 1);
	static const unsigned char alpn_empty[] = {0, 16, 0, 4, 0, 2, 0, 0};
	len = built_hello(alpn_empty, sizeof alpn_empty, buf);
	ok(peek_guarded(buf, len, &h) == -1);

	/* Extension lengths that overrun their container. */
	static const unsigned char overrun[] = {0, 0, 0, 9, 0, 6, 0, 0, 1, 'a'};
	len = built_hello(overrun, sizeof overrun, buf);
	ok(peek_guarded(buf, len, &h) == -1);
	static const unsigned char inner[] = {0, 0, 0, 6, 0, 9, 0, 0, 1, 'a'};
	len = built_hello(inner, sizeof inner, buf);
	ok(peek_guarded(buf, len, &h) == -1);
}

static void test_not_hello(void)
{
	struct tls_hello h;
	static const char get[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	ok(peek_guarded((const unsigned char *)get, strlen(get), &h) == -1);
	ok(peek_guarded((const unsigned char *)get, 1, &h) == -1);
	ok(peek_guarded((const unsigned char *)"", 0, &h) == 0);

	static const unsigned char zero_rec[] = {0x16, 3, 1, 0, 0};
	ok(peek_guarded(zero_rec, sizeof zero_rec, &h) == -1);
	static const unsigned char big_rec[] = {0x16, 3, 1, 0x40, 0x01, 1};
	ok(peek_guarded(big_rec, sizeof big_rec, &h) == -1);
	static const unsigned char bad_ver[] = {0x16, 2};
	ok(peek_guarded(bad_ver, sizeof bad_ver, &h) == -1);
	static const unsigned char server_hello[] = {0x16, 3, 3, 0, 4, 2};
	ok(peek_guarded(server_hello, sizeof server_hello, &h) == -1);
	static const unsigned char alert[] = {0x15, 3, 3, 0, 2, 2, 40};
	ok(peek_guarded(alert, sizeof alert, &h) == -1);
	static const unsigned char sslv2[] = {0x80, 0x2e, 0x01, 0x00, 0x02};
	ok(peek_guarded(sslv2, sizeof sslv2, &h) == -1);
	/* A handshake header claiming 16 MiB. */
	static const unsigned char huge[] = {0x16, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff};
	ok(peek_guarded(huge, sizeof huge, &h) == -1);
	/* Partial record header and partial handshake header: need more. */
	static const unsigned char part[] = {0x16, 3, 1, 0, 50, 1, 0};
	ok(peek_guarded(part, sizeof part, &h) == 0);

	/* A real hello with its body damaged (the extensions length off by one). */
	unsigned char buf[8192], bad[8192];
	size_t len = built_hello((const unsigned char *)"\0\0\0\6\0\4\0\0\1a", 10, buf);
	memcpy(bad, buf, len);
	bad[5 + 4 + 2 + 32 + 1 + 4 + 2 + 1]++;
	ok(peek_guarded(bad, len, &h) == -1);
	/* A record that ends inside the hello followed by a non-handshake record. */
	len = real_hello("x.example", NULL, 0, 0, buf, sizeof buf);
	size_t flen = reframe(buf, len, 50, bad);
	bad[55] = 0x17;
	ok(peek_guarded(bad, flen, &h) == -1);
}

/* ---- handshakes between the two roles ---- */

static char dir[] = "/tmp/test_tls.XXXXXX";

static void move_bytes(SSL *from, SSL *to)
{
	char buf[16384];
	int n;
	while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof buf)) > 0)
		BIO_write(SSL_get_rbio(to), buf, n);
}

static void attach_bios(SSL *ssl, int server)
{
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
}

/* Runs both handshakes to the end; 1 when both finished, -1 when the client failed, -2
 * when the server failed. */
static int handshake(SSL *client, SSL *server)
{
	for (int i = 0; i < 20; i++) {
		int rc = SSL_do_handshake(client);
		if (rc <= 0 && SSL_get_error(client, rc) != SSL_ERROR_WANT_READ)
			return -1;
		move_bytes(client, server);
		int rs = SSL_do_handshake(server);
		if (rs <= 0 && SSL_get_error(server, rs) != SSL_ERROR_WANT_READ)
			return -2;
		move_bytes(server, client);
		if (rc == 1 && rs == 1)
			return 1;
	}
	return 0;
}

struct pair {
	SSL_CTX *up_ctx;
	SSL_CTX *cl_ctx;
	SSL *client; /* the proxy's upstream side, playing the client */
	SSL *server; /* the proxy's client side, presenting the forged leaf */
	X509 *leaf;
};

static void pair_free(struct pair *p)
{
	SSL_free(p->client);
	SSL_free(p->server);
	SSL_CTX_free(p->up_ctx);
	SSL_CTX_free(p->cl_ctx);
	X509_free(p->leaf);
	memset(p, 0, sizeof *p);
}

/* Server presents a leaf forged for leaf_host; client connects to connect_host. */
static int pair_run(struct pair *p, struct certforge *cf, const char *leaf_host,
		    const char *connect_host, int trust, int insecure, const char *alpn,
		    size_t alpn_len)
{
	char err[256];
	memset(p, 0, sizeof *p);
	p->up_ctx = tls_upstream_ctx_new(insecure, err, sizeof err);
	p->cl_ctx = tls_client_ctx_new(err, sizeof err);
	if (!p->up_ctx || !p->cl_ctx)
		return 0;
	if (trust)
		X509_STORE_add_cert(SSL_CTX_get_cert_store(p->up_ctx), certforge_ca_cert(cf));
	p->leaf = certforge_issue(cf, leaf_host, NULL);
	p->server = p->leaf ? tls_client_ssl_new(p->cl_ctx, cf, p->leaf) : NULL;
	p->client = tls_upstream_ssl_new(p->up_ctx, connect_host, 443);
	if (!p->server || !p->client)
		return 0;
	if (alpn)
		SSL_set_alpn_protos(p->client, (const unsigned char *)alpn, (unsigned)alpn_len);
	attach_bios(p->client, 0);
	attach_bios(p->server, 1);
	return handshake(p->client, p->server);
}

static void test_handshake(void)
{
	char err[256], text[256];
	struct certforge *cf = certforge_open(dir, err, sizeof err);
	struct pair p = {0};
	struct flow_tls t = {0};
	ok(cf != NULL);
	if (!cf)
		return;

	/* Trusted CA, right name: chain and hostname verify, http/1.1 agreed, SNI sent. */
	ok(pair_run(&p, cf, "localhost", "localhost", 1, 0, NULL, 0) == 1);
	ok(p.client && SSL_get_verify_result(p.client) == X509_V_OK);
	ok(p.client && SSL_get0_peer_certificate(p.client) != NULL);
	ok(p.server && SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name) &&
	   strcmp(SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name), "localhost") == 0);
	if (p.client) {
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p.client);
		ok(sk_X509_num(chain) == 2); /* leaf and CA */
		tls_describe_upstream(p.client, &t);
		ok(t.version && strcmp(t.version, "TLSv1.3") == 0);
		ok(t.cipher && t.cipher[0] != '\0');
		ok(t.alpn && strcmp(t.alpn, "http/1.1") == 0);
		ok(t.cert_subject && strcmp(t.cert_subject, "CN=localhost") == 0);
		ok(t.cert_issuer && strcmp(t.cert_issuer, "CN=flowscope CA,O=flowscope") == 0);
		/* Describing again replaces (and frees) the previous strings. */
		tls_describe_upstream(p.client, &t);
		ok(t.version && strcmp(t.version, "TLSv1.3") == 0);
	}
	pair_free(&p);

	/* Wrong name: verification fails with a readable reason. */
	ok(pair_run(&p, cf, "localhost", "other.example", 1, 0, NULL, 0) == -1);
	ok(p.client && strcmp(tls_error_text(p.client, text, sizeof text),
			      "certificate verify failed: hostname mismatch") == 0);
	pair_free(&p);

	/* Untrusted CA (only the default store): unknown issuer. */
	ok(pair_run(&p, cf, "localhost", "localhost", 0, 0, NULL, 0) == -1);
	ok(p.client && strstr(tls_error_text(p.client, text, sizeof text),
			      "certificate verify failed: ") == text);
	pair_free(&p);

	/* Insecure: anything goes. */
	ok(pair_run(&p, cf, "localhost", "other.example", 0, 1, NULL, 0) == 1);
	pair_free(&p);

	/* IP literal: no SNI, IP SAN checked. */
	ok(pair_run(&p, cf, "127.0.0.1", "127.0.0.1", 1, 0, NULL, 0) == 1);
	ok(p.server && SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name) == NULL);
	pair_free(&p);
	ok(pair_run(&p, cf, "::1", "[::1]", 1, 0, NULL, 0) == 1);
	pair_free(&p);
	ok(pair_run(&p, cf, "127.0.0.1", "127.0.0.2", 1, 0, NULL, 0) == -1);
	ok(p.client && strstr(tls_error_text(p.client, text, sizeof text), "IP address") != NULL);
	pair_free(&p);

	/* h2 is agreed whenever offered (h2conn.c), else http/1.1; nothing else. */
	static const struct {
		const char *offer; /* the client's ALPN list, wire format */
		size_t offer_len;
		const char *want; /* what the server side selects; "" for none */
	} alpn[] = {
	    {"\x02h2", 3, "h2"},
	    {"\x02h2\x08http/1.1", 12, "h2"},
	    {"\x08http/1.1", 9, "http/1.1"},
	    {"\x06spdy/3", 7, ""},
	};
	for (size_t i = 0; i < sizeof alpn / sizeof alpn[0]; i++) {
		ok(pair_run(&p, cf, "localhost", "localhost", 1, 0, alpn[i].offer,
			    alpn[i].offer_len) == 1);
		if (p.server) {
			const unsigned char *sel = NULL;
			unsigned int sel_len = 0;
			SSL_get0_alpn_selected(p.server, &sel, &sel_len);
			ok(sel_len == strlen(alpn[i].want) &&
			   (sel_len == 0 || memcmp(sel, alpn[i].want, sel_len) == 0));
		}
		pair_free(&p);
	}

	free(t.version);
	free(t.cipher);
	free(t.alpn);
	free(t.cert_subject);
	free(t.cert_issuer);
	certforge_free(cf);
}

/* One handshake between a new upstream SSL for host:port and a server presenting leaf, both
 * from the given contexts; the client then reads what came after (TLS 1.3 tickets). Returns
 * SSL_session_reused() of the client, or -1 when the handshake failed. */
static int resume_run(SSL_CTX *up, SSL_CTX *cl, struct certforge *cf, X509 *leaf, int port,
		      int fail)
{
	SSL *client = tls_upstream_ssl_new(up, "localhost", port);
	SSL *server = tls_client_ssl_new(cl, cf, leaf);
	attach_bios(client, 0);
	attach_bios(server, 1);
	int r = handshake(client, server) == 1 ? SSL_session_reused(client) : -1;
	char buf[16];
	SSL_read(client, buf, sizeof buf); /* takes in the tickets; nothing else to read */
	if (fail)
		tls_upstream_failed(client);
	SSL_free(client);
	SSL_free(server);
	return r;
}

static void test_resumption(void)
{
	char err[256];
	struct certforge *cf = certforge_open(dir, err, sizeof err);
	ok(cf != NULL);
	if (!cf)
		return;
	SSL_CTX *up = tls_upstream_ctx_new(0, err, sizeof err);
	SSL_CTX *cl = tls_client_ctx_new(err, sizeof err);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(up), certforge_ca_cert(cf));
	X509 *leaf = certforge_issue(cf, "localhost", NULL);
	ok(resume_run(up, cl, cf, leaf, 443, 0) == 0);	/* first: full handshake */
	ok(resume_run(up, cl, cf, leaf, 443, 0) == 1);	/* same host and port: resumed */
	ok(resume_run(up, cl, cf, leaf, 8443, 0) == 0); /* another port: its own session */
	ok(resume_run(up, cl, cf, leaf, 443, 1) == 1);	/* resumed, then "failed" */
	ok(resume_run(up, cl, cf, leaf, 443, 0) == 0);	/* so not offered again */
	ok(resume_run(up, cl, cf, leaf, 443, 0) == 1);
	X509_free(leaf);
	SSL_CTX_free(up); /* frees the cache and the sessions in it (ASan checks) */
	SSL_CTX_free(cl);
	certforge_free(cf);
}

static void test_error_text(void)
{
	char err[256], text[256];
	SSL_CTX *ctx = tls_upstream_ctx_new(0, err, sizeof err);
	ok(ctx != NULL);
	if (!ctx)
		return;
	SSL *ssl = tls_upstream_ssl_new(ctx, "example.com", 443);
	ok(ssl != NULL);
	if (!ssl)
		goto end;
	ok(strcmp(tls_error_text(ssl, text, sizeof text), "TLS handshake failed") == 0);
	/* A server that answers in plain HTTP. */
	attach_bios(ssl, 0);
	SSL_do_handshake(ssl);
	static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	BIO_write(SSL_get_rbio(ssl), reply, sizeof reply - 1);
	int rc = SSL_do_handshake(ssl);
	ok(rc <= 0 && SSL_get_error(ssl, rc) == SSL_ERROR_SSL);
	unsigned long e = ERR_peek_error();
	ok(strstr(tls_error_text(ssl, text, sizeof text), "TLS error: ") == text);
	ok(ERR_peek_error() == 0); /* the queue is left clean */
	/* The same, with the code handed over as bufferevent_openssl would. */
	tls_error_text_err(ssl, e, text, sizeof text);
	ok(strstr(text, "TLS error: ") == text);
	SSL_free(ssl);
	/* An IP literal never becomes SNI; a name too long for SNI is still verified; an
	 * empty name would disable the check, so it is refused. */
	ssl = tls_upstream_ssl_new(ctx, "192.0.2.1", 443);
	ok(ssl && SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL);
	SSL_free(ssl);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ssl = tls_upstream_ssl_new(ctx, longname, 443);
	ok(ssl && SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL);
	SSL_free(ssl);
	ssl = tls_upstream_ssl_new(ctx, "", 443);
	ok(ssl == NULL);
	SSL_free(ssl);
	ssl = tls_upstream_ssl_new(ctx, "example.com.", 443);
	ok(ssl && strcmp(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "example.com") == 0);
end:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

int main(void)
{
	if (guard_setup(32768) != 0 || !mkdtemp(dir)) {
		perror("setup");
		return 1;
	}
	subtest("real hello", test_real_hello);
	subtest("built hello", test_built_hello);
	subtest("not a hello", test_not_hello);
	subtest("handshake", test_handshake);
	subtest("upstream session resumption", test_resumption);
	subtest("error text", test_error_text);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	munmap(guard_map, guard_map_len);
	return harness_done();
}
