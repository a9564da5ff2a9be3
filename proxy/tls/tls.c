/* SPDX-License-Identifier: MIT */
/* tls.c - TLS plumbing: the ClientHello peek, the two SSL_CTX roles and handshake reports.
 *
 * tls_peek_hello() reads the client's first flight without consuming it, so the proxy can
 * decide (intercept, tunnel, refuse) before any handshake. It walks the record layer as a
 * stream: every header byte is checked as soon as it is present, and the ClientHello body is
 * parsed only once complete. A verdict about a prefix therefore never changes when more
 * bytes arrive: 0 ("need more") turns into 1 or -1 exactly once. The body is parsed in place
 * when it sits in one record (the usual case) and from a reassembled copy otherwise.
 *
 * Two contexts, both TLS 1.2+ with renegotiation off:
 *   upstream  TLS_client_method, verifies against OpenSSL's default paths (SSL_CERT_FILE),
 *             offers ALPN "http/1.1" unless alpn.c mirrors the client's offer on an SSL;
 *             each SSL gets SNI and a host or IP check.
 *   client    TLS_server_method, ALPN select callback (alpn.c) that follows the upstream's
 *             choice; the leaf is set per SSL.
 * Nothing here keeps state between calls; the contexts are shared by all worker threads
 * (SSL_CTX is thread-safe once configured).
 */
#include "tls.h"

#include "alpn.h"
#include "sslerr.h"
#include "url.h"
#include "util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Record layer: content type, version, 16-bit length; plaintext records carry at most 2^14. */
#define REC_HANDSHAKE 0x16
#define REC_HDR 5
#define REC_MAX 16384
#define HS_CLIENT_HELLO 1
#define HS_HDR 4
/* A ClientHello may legally reach 2^24 bytes; real ones (post-quantum key shares included)
 * stay under a few KiB. Anything over 64 KiB is treated as not a hello we serve. */
#define HELLO_MAX 65536

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16

/* A bounds-checked reader over one contiguous buffer. All getters fail (return -1) once a
 * read would pass `end`; the position never moves past it. */
struct rd {
	const unsigned char *p;
	const unsigned char *end;
};

static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static int rd_u8(struct rd *r, size_t *v)
{
	if (rd_left(r) < 1)
		return -1;
	*v = r->p[0];
	r->p += 1;
	return 0;
}

static int rd_u16(struct rd *r, size_t *v)
{
	if (rd_left(r) < 2)
		return -1;
	*v = (size_t)r->p[0] << 8 | r->p[1];
	r->p += 2;
	return 0;
}

/* Splits off the next n bytes as a sub-reader. */
static int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	if (rd_left(r) < n)
		return -1;
	sub->p = r->p;
	sub->end = r->p + n;
	r->p += n;
	return 0;
}

/* An extension body that is one non-empty list with a 16-bit length, filling it exactly. */
static int rd_list16(struct rd *ext, struct rd *list)
{
	size_t len;
	if (rd_u16(ext, &len) != 0 || rd_sub(ext, len, list) != 0 || rd_left(ext) != 0 || len == 0)
		return -1;
	return 0;
}

/* server_name extension (RFC 6066 3): a list of (type, name); we keep the first host_name.
 * The name ends up in logs, SQL and JSON, so anything but printable ASCII is refused. */
static int parse_sni(struct rd *ext, struct tls_hello *out)
{
	struct rd list;
	if (rd_list16(ext, &list) != 0)
		return -1;
	while (rd_left(&list) > 0) {
		size_t type, name_len;
		struct rd name;
		if (rd_u8(&list, &type) != 0 || rd_u16(&list, &name_len) != 0 ||
		    rd_sub(&list, name_len, &name) != 0)
			return -1;
		if (type != 0)
			continue; /* only host_name (0) is defined; skip the unknown */
		if (out->sni[0] != '\0')
			return -1; /* "MUST NOT contain more than one name of the same name_type" */
		if (name_len == 0 || name_len >= sizeof out->sni)
			return -1;
		for (size_t i = 0; i < name_len; i++)
			if (name.p[i] <= 0x20 || name.p[i] >= 0x7f)
				return -1;
		memcpy(out->sni, name.p, name_len);
		out->sni[name_len] = '\0';
	}
	return 0;
}

/* ALPN extension (RFC 7301 3.1): a non-empty list of non-empty protocol names. Names that do
 * not fit alpn[i] or are not printable ASCII (GREASE-style values) are skipped, not stored. */
static int parse_alpn(struct rd *ext, struct tls_hello *out)
{
	struct rd list;
	if (rd_list16(ext, &list) != 0)
		return -1;
	while (rd_left(&list) > 0) {
		size_t n;
		struct rd name;
		if (rd_u8(&list, &n) != 0 || n == 0 || rd_sub(&list, n, &name) != 0)
			return -1;
		int printable = 1;
		for (size_t i = 0; i < n; i++)
			if (name.p[i] <= 0x20 || name.p[i] >= 0x7f)
				printable = 0;
		if (!printable || n >= sizeof out->alpn[0] ||
		    out->num_alpn >= (int)(sizeof out->alpn / sizeof out->alpn[0]))
			continue;
		memcpy(out->alpn[out->num_alpn], name.p, n);
		out->alpn[out->num_alpn][n] = '\0';
		out->num_alpn++;
	}
	return 0;
}

/* The ClientHello body (RFC 8446 4.1.2, same layout in 1.2): version, random, session id,
 * cipher suites, compression methods, optional extensions filling the rest exactly. */
static int parse_body(const unsigned char *body, size_t len, struct tls_hello *out)
{
	struct rd r = {body, body + len}, skip, exts;
	size_t major, minor, n;
	memset(out, 0, sizeof *out);
	if (rd_u8(&r, &major) != 0 || rd_u8(&r, &minor) != 0 || major != 3 ||
	    rd_sub(&r, 32, &skip) != 0)
		return -1;
	if (rd_u8(&r, &n) != 0 || n > 32 || rd_sub(&r, n, &skip) != 0)
		return -1;
	if (rd_u16(&r, &n) != 0 || n < 2 || n % 2 != 0 || rd_sub(&r, n, &skip) != 0)
		return -1;
	if (rd_u8(&r, &n) != 0 || n < 1 || rd_sub(&r, n, &skip) != 0)
		return -1;
	if (rd_left(&r) == 0)
		return 0; /* no extensions at all: legal, and then there is no SNI */
	if (rd_u16(&r, &n) != 0 || rd_sub(&r, n, &exts) != 0 || rd_left(&r) != 0)
		return -1;
	int seen_sni = 0, seen_alpn = 0;
	while (rd_left(&exts) > 0) {
		size_t type, ext_len;
		struct rd ext;
		if (rd_u16(&exts, &type) != 0 || rd_u16(&exts, &ext_len) != 0 ||
		    rd_sub(&exts, ext_len, &ext) != 0)
			return -1;
		if (type == EXT_SERVER_NAME) {
			if (seen_sni++ || parse_sni(&ext, out) != 0)
				return -1;
		} else if (type == EXT_ALPN) {
			if (seen_alpn++ || parse_alpn(&ext, out) != 0)
				return -1;
		}
	}
	return 0;
}

/* Copies handshake bytes [from, from+n) out of the (already validated) records in buf. */
static void gather(const unsigned char *buf, size_t len, size_t from, size_t n, unsigned char *dst)
{
	size_t pos = 0, hs = 0; /* hs: handshake offset of the current fragment's first byte */
	while (n > 0 && pos + REC_HDR <= len) {
		size_t rlen = (size_t)buf[pos + 3] << 8 | buf[pos + 4];
		const unsigned char *frag = buf + pos + REC_HDR;
		size_t avail = len - pos - REC_HDR < rlen ? len - pos - REC_HDR : rlen;
		if (from < hs + avail) {
			size_t off = from - hs;
			size_t take = avail - off < n ? avail - off : n;
			memcpy(dst, frag + off, take);
			dst += take;
			from += take;
			n -= take;
		}
		hs += avail;
		pos += REC_HDR + rlen;
	}
}

int tls_peek_hello(const unsigned char *buf, size_t len, struct tls_hello *out)
{
	unsigned char hdr[HS_HDR]; /* the handshake header, possibly split across records */
	size_t hs = 0;		   /* handshake bytes present so far, over all records */
	size_t need = 0;	   /* HS_HDR + body length, once the header is complete */
	size_t first_avail = 0;	   /* handshake bytes present in the first record */
	size_t pos = 0;		   /* start of the current record in buf */

	while (pos < len) {
		/* Record header: each byte judged as soon as it is there. */
		if (buf[pos] != REC_HANDSHAKE)
			return -1;
		if (pos + 1 < len && buf[pos + 1] != 3)
			return -1;
		if (pos + 2 < len && buf[pos + 2] > 4)
			return -1;
		if (len - pos < REC_HDR)
			return 0;
		size_t rlen = (size_t)buf[pos + 3] << 8 | buf[pos + 4];
		if (rlen == 0 || rlen > REC_MAX)
			return -1; /* empty handshake records are forbidden (RFC 8446 5.1) */
		const unsigned char *frag = buf + pos + REC_HDR;
		size_t avail = len - pos - REC_HDR < rlen ? len - pos - REC_HDR : rlen;

		/* Handshake header bytes that fall into this fragment. */
		for (size_t i = 0; i < avail && hs + i < HS_HDR; i++) {
			hdr[hs + i] = frag[i];
			if (hs + i == 0 && hdr[0] != HS_CLIENT_HELLO)
				return -1;
			if (hs + i == HS_HDR - 1) {
				size_t body = (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
				if (body == 0 || body > HELLO_MAX)
					return -1;
				need = HS_HDR + body;
			}
		}
		hs += avail;
		if (pos == 0)
			first_avail = avail;
		/* Complete as soon as the hello's bytes are in, even if its record continues:
		 * what follows the hello is not ours to judge (and would make the verdict on a
		 * longer input differ from the verdict on this one). */
		if (need && hs >= need)
			break;
		if (avail < rlen)
			return 0;
		pos += REC_HDR + rlen;
	}
	if (!need || hs < need)
		return 0;

	struct tls_hello tmp;
	int rc;
	if (need <= first_avail) {
		rc = parse_body(buf + REC_HDR + HS_HDR, need - HS_HDR, &tmp);
	} else {
		unsigned char *copy = xmalloc(need - HS_HDR);
		gather(buf, len, HS_HDR, need - HS_HDR, copy);
		rc = parse_body(copy, need - HS_HDR, &tmp);
		free(copy);
	}
	if (rc != 0)
		return -1;
	*out = tmp;
	return 1;
}

/* Options shared by both roles. Renegotiation is off: bufferevent_openssl copes with it
 * badly and nothing legitimate needs it. IGNORE_UNEXPECTED_EOF makes a peer that closes
 * without close_notify (common for HTTP/1.0 servers and clients) an ordinary EOF instead of
 * an error; HTTP framing still notices a body cut short of its Content-Length.
 * SSL_MODE_RELEASE_BUFFERS is not set: it frees the record buffers (about 17 KiB each way)
 * whenever they are empty, so a keep-alive exchange allocated and freed four of them, about
 * 2,500 instructions per request; a TLS connection now keeps its two while it is open. */
static void common_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
				     SSL_OP_NO_COMPRESSION);
}

/* ---- upstream sessions, for resumption ----
 *
 * Each upstream (name, port) keeps the newest session it gave us; the next connection to it
 * offers that session, which skips the certificate exchange and, in TLS 1.2, a round trip.
 * The cache hangs off the upstream SSL_CTX (ex_data), is shared by the workers under a
 * mutex, and is simply emptied when it holds SESS_MAX entries. Each SSL carries its key. */
#define SESS_BUCKETS 1024
#define SESS_MAX 4096

struct sess_entry {
	char *key;
	SSL_SESSION *sess; /* one reference */
	struct sess_entry *next;
};

struct sess_cache {
	pthread_mutex_t mu;
	struct sess_entry *bucket[SESS_BUCKETS];
	size_t count;
};

static int ctx_cache_idx = -1, ssl_key_idx = -1;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static void sess_cache_clear(struct sess_cache *sc)
{
	for (size_t i = 0; i < SESS_BUCKETS; i++) {
		struct sess_entry *e = sc->bucket[i], *next;
		for (; e; e = next) {
			next = e->next;
			SSL_SESSION_free(e->sess);
			free(e->key);
			free(e);
		}
		sc->bucket[i] = NULL;
	}
	sc->count = 0;
}

static void free_cache_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			  void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	struct sess_cache *sc = ptr;
	if (!sc)
		return;
	sess_cache_clear(sc);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

static void free_key_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void make_indexes(void)
{
	ctx_cache_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_cache_ex);
	ssl_key_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_key_ex);
}

static struct sess_entry **sess_slot(struct sess_cache *sc, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct sess_entry **e = &sc->bucket[h % SESS_BUCKETS];
	while (*e && strcmp((*e)->key, key) != 0)
		e = &(*e)->next;
	return e;
}

static struct sess_cache *cache_of(SSL *ssl)
{
	return ctx_cache_idx < 0 ? NULL : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_cache_idx);
}

/* OpenSSL hands us each new session (TLS 1.3: each ticket, after the handshake). The cache
 * keeps a copy, and each connection gets a copy of that: OpenSSL marks a connection's own
 * session unusable when the connection is freed without a TLS shutdown, which is how the
 * proxy ends most of them. Returns 0: OpenSSL keeps its reference. */
static int on_new_session(SSL *ssl, SSL_SESSION *orig)
{
	struct sess_cache *sc = cache_of(ssl);
	const char *key = SSL_get_ex_data(ssl, ssl_key_idx);
	if (!sc || !key || !SSL_SESSION_is_resumable(orig))
		return 0;
	SSL_SESSION *sess = SSL_SESSION_dup(orig);
	if (!sess)
		return 0;
	pthread_mutex_lock(&sc->mu);
	struct sess_entry **slot = sess_slot(sc, key);
	if (*slot) {
		SSL_SESSION_free((*slot)->sess);
		(*slot)->sess = sess;
	} else {
		if (sc->count >= SESS_MAX) {
			sess_cache_clear(sc);
			slot = sess_slot(sc, key);
		}
		struct sess_entry *e = xcalloc(1, sizeof *e);
		e->key = xstrdup(key);
		e->sess = sess;
		*slot = e;
		sc->count++;
	}
	pthread_mutex_unlock(&sc->mu);
	return 0;
}

/* Offers the cached session for key on ssl, and remembers the key for the new one. */
static void sess_attach(SSL *ssl, const char *key)
{
	struct sess_cache *sc = cache_of(ssl);
	char *k = sc ? xstrdup(key) : NULL;
	if (!sc || SSL_set_ex_data(ssl, ssl_key_idx, k) != 1) {
		free(k);
		return;
	}
	pthread_mutex_lock(&sc->mu);
	struct sess_entry *e = *sess_slot(sc, key);
	SSL_SESSION *copy = e ? SSL_SESSION_dup(e->sess) : NULL;
	pthread_mutex_unlock(&sc->mu);
	if (copy) {
		SSL_set_session(ssl, copy); /* takes its own reference */
		SSL_SESSION_free(copy);
	}
}

void tls_upstream_failed(SSL *ssl)
{
	struct sess_cache *sc = cache_of(ssl);
	const char *key = ssl_key_idx < 0 ? NULL : SSL_get_ex_data(ssl, ssl_key_idx);
	if (!sc || !key)
		return;
	pthread_mutex_lock(&sc->mu);
	struct sess_entry **slot = sess_slot(sc, key), *e = *slot;
	if (e) {
		*slot = e->next;
		SSL_SESSION_free(e->sess);
		free(e->key);
		free(e);
		sc->count--;
	}
	pthread_mutex_unlock(&sc->mu);
}

/* Attaches an empty session cache to an upstream context. */
static int sess_cache_attach(SSL_CTX *ctx)
{
	pthread_once(&idx_once, make_indexes);
	if (ctx_cache_idx < 0 || ssl_key_idx < 0)
		return -1;
	struct sess_cache *sc = xcalloc(1, sizeof *sc);
	pthread_mutex_init(&sc->mu, NULL);
	if (SSL_CTX_set_ex_data(ctx, ctx_cache_idx, sc) != 1) {
		pthread_mutex_destroy(&sc->mu);
		free(sc);
		return -1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
						SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	return 0;
}

SSL_CTX *tls_upstream_ctx_new(int insecure, char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		sslerr_fill(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	common_setup(ctx);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		/* The defaults honour SSL_CERT_FILE / SSL_CERT_DIR, which tests rely on. */
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			sslerr_fill(err, errlen, "loading the default trust store");
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	/* Returns 0 on success, unlike nearly every other OpenSSL call. */
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
		sslerr_fill(err, errlen, "SSL_CTX_set_alpn_protos");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (sess_cache_attach(ctx) != 0) {
		sslerr_fill(err, errlen, "setting up the upstream session cache");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int is_ip_literal(const char *host)
{
	unsigned char addr[16];
	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

SSL *tls_upstream_ssl_new(SSL_CTX *ctx, const char *host, int port)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl) {
		log_error("tls: SSL_new failed for upstream %s", host);
		return NULL;
	}
	char *name = url_bare_host(host);
	int ip = is_ip_literal(name);
	int verify = SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER;
	/* SNI carries names only (RFC 6066 3: "Literal IPv4 and IPv6 addresses are not
	 * permitted"), and at most 255 bytes of them; a longer name is still verified. */
	if (!ip && name[0] != '\0' && strlen(name) <= 255 &&
	    SSL_set_tlsext_host_name(ssl, name) != 1)
		goto fail;
	if (verify) {
		/* An empty name would switch the host check off, not fail it. */
		if (name[0] == '\0')
			goto fail;
		if (ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1)
				goto fail;
		} else {
			SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(ssl, name) != 1)
				goto fail;
		}
	}
	char key[300];
	snprintf(key, sizeof key, "%s:%d", name, port);
	sess_attach(ssl, key);
	free(name);
	return ssl;
fail:
	log_error("tls: cannot set up the upstream SSL for %s", host);
	ERR_clear_error();
	free(name);
	SSL_free(ssl);
	return NULL;
}

int tls_client_alpn_h2(SSL *ssl)
{
	const unsigned char *p = NULL;
	unsigned int len = 0;
	if (ssl)
		SSL_get0_alpn_selected(ssl, &p, &len);
	return len == 2 && memcmp(p, "h2", 2) == 0;
}

SSL_CTX *tls_client_ctx_new(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		sslerr_fill(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	common_setup(ctx);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL); /* alpn.c: mirrors the upstream */
	/* Resumption by ticket works across our forged leaves; the server-side session cache
	 * would only grow, so it stays off. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* TLS 1.3 sends two tickets by default; a client resumes with one. Each costs an
	 * encryption and a write at the end of every handshake. */
	SSL_CTX_set_num_tickets(ctx, 1);
	return ctx;
}

SSL *tls_client_ssl_new(SSL_CTX *ctx, struct certforge *cf, X509 *leaf)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl) {
		log_error("tls: SSL_new failed for a client");
		return NULL;
	}
	/* The CA goes into the chain too: harmless for clients that trust it, and it lets a
	 * user see which CA to install. */
	if (SSL_use_certificate(ssl, leaf) != 1 ||
	    SSL_use_PrivateKey(ssl, certforge_leaf_key(cf)) != 1 ||
	    SSL_add1_chain_cert(ssl, certforge_ca_cert(cf)) != 1) {
		char buf[256];
		ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
		log_error("tls: cannot set the forged certificate: %s", buf);
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* A read BIO that serves bytes read from the socket earlier, then reads on from the BIO
 * after it (the socket): OpenSSL then reads a client whose ClientHello the proxy already took
 * off the socket. */
struct prefix {
	unsigned char *data;
	size_t len, off;
};

static int prefix_read(BIO *b, char *out, int outl)
{
	struct prefix *p = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (outl <= 0)
		return 0;
	if (p->off < p->len) {
		size_t n = p->len - p->off < (size_t)outl ? p->len - p->off : (size_t)outl;
		memcpy(out, p->data + p->off, n);
		p->off += n;
		return (int)n;
	}
	BIO *next = BIO_next(b);
	if (!next)
		return 0;
	int r = BIO_read(next, out, outl);
	BIO_copy_next_retry(b);
	return r;
}

static long prefix_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct prefix *p = BIO_get_data(b);
	BIO *next = BIO_next(b);
	long more = next ? BIO_ctrl(next, cmd, num, ptr) : 0;
	if (cmd == BIO_CTRL_PENDING)
		return (long)(p->len - p->off) + (more > 0 ? more : 0);
	return more;
}

static int prefix_free(BIO *b)
{
	struct prefix *p = BIO_get_data(b);
	if (p) {
		free(p->data);
		free(p);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static BIO_METHOD *prefix_meth; /* made once, kept for the life of the process */
static int prefix_type;

static void prefix_meth_init(void)
{
	prefix_type = BIO_get_new_index() | BIO_TYPE_FILTER;
	BIO_METHOD *m = BIO_meth_new(prefix_type, "flowscope prefix");
	if (m && (BIO_meth_set_read(m, prefix_read) != 1 ||
		  BIO_meth_set_ctrl(m, prefix_ctrl) != 1 ||
		  BIO_meth_set_destroy(m, prefix_free) != 1)) {
		BIO_meth_free(m);
		m = NULL;
	}
	prefix_meth = m;
}

int tls_set_socket(SSL *ssl, int fd, const void *prefix, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, prefix_meth_init);
	BIO *rbio = prefix_meth ? BIO_new(prefix_meth) : NULL;
	BIO *sock_r = BIO_new_socket(fd, BIO_NOCLOSE);
	BIO *sock_w = BIO_new_socket(fd, BIO_NOCLOSE);
	if (!rbio || !sock_r || !sock_w) {
		log_error("tls: cannot make the client's BIOs");
		BIO_free(rbio);
		BIO_free(sock_r);
		BIO_free(sock_w);
		ERR_clear_error();
		return -1;
	}
	struct prefix *p = xcalloc(1, sizeof *p);
	if (len) {
		p->data = xmalloc(len);
		memcpy(p->data, prefix, len);
		p->len = len;
	}
	BIO_set_data(rbio, p);
	BIO_set_init(rbio, 1);
	SSL_set_bio(ssl, BIO_push(rbio, sock_r), sock_w);
	return 0;
}

void tls_drop_prefix(SSL *ssl)
{
	BIO *rbio = ssl ? SSL_get_rbio(ssl) : NULL;
	if (!rbio || !prefix_meth || BIO_method_type(rbio) != prefix_type)
		return;
	struct prefix *p = BIO_get_data(rbio);
	if (!p || p->off < p->len || !BIO_next(rbio))
		return;
	SSL_set0_rbio(ssl, BIO_pop(rbio)); /* frees rbio, alone once popped */
}

static char *name_oneline(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return NULL;
	char *s = NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		s = xstrndup(data, n > 0 ? (size_t)n : 0);
	}
	BIO_free(b);
	return s;
}

static void replace(char **field, char *value)
{
	free(*field);
	*field = value;
}

void tls_describe_upstream(SSL *ssl, struct flow_tls *out)
{
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	const char *cipher = SSL_get_cipher_name(ssl);
	replace(&out->version, xstrdup(SSL_get_version(ssl)));
	replace(&out->cipher, cipher ? xstrdup(cipher) : NULL);
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	replace(&out->alpn, alpn_len ? xstrndup((const char *)alpn, alpn_len) : NULL);
	X509 *peer = SSL_get0_peer_certificate(ssl);
	replace(&out->cert_subject, peer ? name_oneline(X509_get_subject_name(peer)) : NULL);
	replace(&out->cert_issuer, peer ? name_oneline(X509_get_issuer_name(peer)) : NULL);
}

const char *tls_error_text_err(SSL *ssl, unsigned long err, char *buf, size_t len)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (len == 0)
		return buf;
	if (vr != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	} else if (err || (err = ERR_peek_error()) != 0) {
		const char *reason = ERR_reason_error_string(err);
		if (reason)
			snprintf(buf, len, "TLS error: %s", reason);
		else
			ERR_error_string_n(err, buf, len);
	} else {
		snprintf(buf, len, "TLS handshake failed");
	}
	ERR_clear_error();
	return buf;
}

const char *tls_error_text(SSL *ssl, char *buf, size_t len)
{
	return tls_error_text_err(ssl, 0, buf, len);
}

const char *tls_bev_error_text(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (!ssl)
		return NULL;
	return tls_error_text_err(ssl, bufferevent_get_openssl_error(bev), buf, len);
}
