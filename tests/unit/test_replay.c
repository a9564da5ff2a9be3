/* SPDX-License-Identifier: MIT */
/* test_replay.c - proxy_replay() end to end: a real proxy (proxy_new on port 0, started) with a
 * collecting sink replays requests to an origin on 127.0.0.1 that runs in this process and
 * logs every request's bytes as received. The question: does the upstream see exactly the
 * request we meant (as-is, edited with Content-Length recomputed and Host consistent, binary
 * bodies), over HTTP and HTTPS (verified and failing verification), and is every outcome
 * recorded as a new flow (done, or an error: refused, DNS, timeout, shutdown) with the id
 * proxy_replay() returned, BEGIN before the return, and in call order for one host? */
#define _GNU_SOURCE
#include "proxy.h"

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* ---- a collecting sink ---- */

#define MAX_FLOWS 256

static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sink_cv = PTHREAD_COND_INITIALIZER;
static uint64_t begun[MAX_FLOWS];
static size_t num_begun;
static uint64_t updated[MAX_FLOWS];
static size_t num_updated;
static struct flow *ended[MAX_FLOWS];
static size_t num_ended;

static void sink_emit(void *arg, enum flow_event ev, struct flow *f)
{
	(void)arg;
	pthread_mutex_lock(&sink_mu);
	if (ev == FLOW_EV_BEGIN && num_begun < MAX_FLOWS) {
		begun[num_begun++] = f->id;
		flow_free(f);
	} else if (ev == FLOW_EV_UPDATE && num_updated < MAX_FLOWS) {
		updated[num_updated++] = f->id;
		flow_free(f);
	} else if (ev == FLOW_EV_END && num_ended < MAX_FLOWS) {
		ended[num_ended++] = f;
	} else {
		flow_free(f);
	}
	pthread_cond_broadcast(&sink_cv);
	pthread_mutex_unlock(&sink_mu);
}

/* Whether id is among the first n of ids, read under sink_mu. */
static int seen(const uint64_t *ids, const size_t *n, uint64_t id)
{
	int found = 0;
	pthread_mutex_lock(&sink_mu);
	for (size_t i = 0; i < *n; i++)
		found |= ids[i] == id;
	pthread_mutex_unlock(&sink_mu);
	return found;
}

static int was_begun(uint64_t id)
{
	return seen(begun, &num_begun, id);
}

static int was_updated(uint64_t id)
{
	return seen(updated, &num_updated, id);
}

/* The END of flow id, waiting up to secs; borrowed (freed at exit). */
static struct flow *wait_end(uint64_t id, int secs)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += secs;
	struct flow *f = NULL;
	pthread_mutex_lock(&sink_mu);
	while (!f) {
		for (size_t i = 0; i < num_ended && !f; i++)
			if (ended[i]->id == id)
				f = ended[i];
		if (!f && pthread_cond_timedwait(&sink_cv, &sink_mu, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&sink_mu);
	return f;
}

static void sink_clear(void)
{
	pthread_mutex_lock(&sink_mu);
	for (size_t i = 0; i < num_ended; i++)
		flow_free(ended[i]);
	num_ended = num_begun = num_updated = 0;
	pthread_mutex_unlock(&sink_mu);
}

/* ---- the origin: one thread per connection, one request per connection, logged ---- */

#define MAX_LOG 64

struct origin {
	int fd, port;
	SSL_CTX *tls; /* NULL: plain HTTP */
	pthread_t thread;
	pthread_mutex_t mu;
	char *log[MAX_LOG]; /* owned: each request's bytes (head and body) */
	size_t log_len[MAX_LOG];
	size_t num_log;
	int hang_fds[8]; /* connections left unanswered (/hang) */
	size_t num_hang;
};

struct oconn {
	struct origin *o;
	int fd;
};

static ssize_t orecv(SSL *ssl, int fd, char *buf, size_t len)
{
	return ssl ? SSL_read(ssl, buf, (int)len) : recv(fd, buf, len, 0);
}

static void osend(SSL *ssl, int fd, const char *buf, size_t len)
{
	if (ssl)
		SSL_write(ssl, buf, (int)len);
	else
		send(fd, buf, len, MSG_NOSIGNAL);
}

static void *oconn_main(void *arg)
{
	struct oconn *oc = arg;
	struct origin *o = oc->o;
	int fd = oc->fd;
	free(oc);
	SSL *ssl = NULL;
	if (o->tls) {
		ssl = SSL_new(o->tls);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto out;
	}
	size_t cap = 1 << 20, len = 0, need = 0;
	char *buf = malloc(cap + 1);
	char *eoh = NULL;
	for (;;) {
		ssize_t n = orecv(ssl, fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		if (!eoh && (eoh = memmem(buf, len, "\r\n\r\n", 4))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(eoh + 4 - buf) +
			       (cl && cl < eoh ? strtoul(cl + 17, 0, 10) : 0);
		}
		if (eoh && len >= need)
			break;
	}
	if (!eoh) {
		free(buf);
		goto out;
	}
	pthread_mutex_lock(&o->mu);
	size_t seen = o->num_log + 1;
	if (o->num_log < MAX_LOG) {
		o->log[o->num_log] = malloc(len + 1);
		memcpy(o->log[o->num_log], buf, len + 1);
		o->log_len[o->num_log++] = len;
	}
	pthread_mutex_unlock(&o->mu);
	const char *req = buf;
	size_t hl = (size_t)(eoh + 4 - buf);
	char resp[512];
	if (strncmp(req, "GET /hang", 9) == 0) {
		pthread_mutex_lock(&o->mu);
		if (o->num_hang < 8) {
			o->hang_fds[o->num_hang++] = fd;
			fd = -1;
		}
		pthread_mutex_unlock(&o->mu);
	} else if (strncmp(req, "POST /echo", 10) == 0) {
		int n = snprintf(resp, sizeof resp,
				 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				 len - hl);
		osend(ssl, fd, resp, (size_t)n);
		osend(ssl, fd, req + hl, len - hl);
	} else if (strncmp(req, "GET /close", 10) == 0) {
		/* a body that runs until the connection closes, after an interim 100 */
		static const char r[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
					"Connection: close\r\n\r\nuntil close";
		osend(ssl, fd, r, sizeof r - 1);
	} else if (strncmp(req, "GET /slowbody", 13) == 0) {
		/* the head at once, the body a second later */
		static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
		osend(ssl, fd, r, sizeof r - 1);
		sleep(1);
		osend(ssl, fd, "slow", 4);
	} else if (strncmp(req, "HEAD ", 5) == 0) {
		static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
		osend(ssl, fd, r, sizeof r - 1);
	} else {
		int n =
		    snprintf(resp, sizeof resp,
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n"
			     "X-Seen: %zu\r\n\r\nhello\r\n",
			     seen);
		osend(ssl, fd, resp, (size_t)n);
	}
	free(buf);
out:
	if (ssl) {
		if (fd >= 0)
			SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *origin_main(void *arg)
{
	struct origin *o = arg;
	for (;;) {
		int fd = accept(o->fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		struct oconn *oc = malloc(sizeof *oc);
		oc->o = o;
		oc->fd = fd;
		pthread_t t;
		pthread_create(&t, NULL, oconn_main, oc);
		pthread_detach(t);
	}
}

static int listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0)
		abort();
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void origin_start(struct origin *o, SSL_CTX *tls)
{
	memset(o, 0, sizeof *o);
	pthread_mutex_init(&o->mu, NULL);
	o->tls = tls;
	o->fd = listen_any(&o->port);
	pthread_create(&o->thread, NULL, origin_main, o);
}

static void origin_reset(struct origin *o)
{
	pthread_mutex_lock(&o->mu);
	for (size_t i = 0; i < o->num_log; i++)
		free(o->log[i]);
	o->num_log = 0;
	for (size_t i = 0; i < o->num_hang; i++)
		close(o->hang_fds[i]);
	o->num_hang = 0;
	pthread_mutex_unlock(&o->mu);
}

static size_t origin_count(struct origin *o)
{
	pthread_mutex_lock(&o->mu);
	size_t n = o->num_log;
	pthread_mutex_unlock(&o->mu);
	return n;
}

static void origin_stop(struct origin *o)
{
	shutdown(o->fd, SHUT_RDWR);
	close(o->fd);
	pthread_join(o->thread, NULL);
	usleep(100 * 1000); /* let connection threads finish */
	origin_reset(o);
}

/* ---- a self-signed certificate for localhost / 127.0.0.1 ---- */

static SSL_CTX *origin_tls(const char *pem_path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext =
	    X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	FILE *fp = fopen(pem_path, "w");
	PEM_write_X509(fp, x);
	fclose(fp);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(ctx, x);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* ---- the proxy ---- */

static char tmpdir[] = "/tmp/test_replay.XXXXXX";

static struct proxy *start_proxy(int insecure, int threads)
{
	struct proxy_config cfg = {0};
	cfg.listen_host = "127.0.0.1";
	cfg.confdir = tmpdir;
	cfg.threads = threads;
	cfg.body_limit = 1 << 20;
	cfg.ssl_insecure = insecure;
	cfg.sink.emit = sink_emit;
	char err[256];
	struct proxy *p = proxy_new(&cfg, err, sizeof err);
	if (!p) {
		fprintf(stderr, "proxy_new: %s\n", err);
		exit(2);
	}
	proxy_start(p);
	return p;
}

static void stop_proxy(struct proxy *p)
{
	proxy_stop(p);
	proxy_free(p);
}

/* A request to replay, as the web glue makes it (a copy of a stored flow). */
static struct flow *request(const char *scheme, const char *host, int port, const char *method,
			    const char *path)
{
	struct flow *f = flow_new();
	f->replay_of = 7;
	f->scheme = strdup(scheme);
	f->host = strdup(host);
	f->port = (uint16_t)port;
	f->path = strdup(path);
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = strdup(method);
	f->request.target = strdup(path);
	f->flags = FLOW_F_TLS | FLOW_F_MARKED; /* not carried over */
	return f;
}

static void hdr(struct flow *f, const char *n, const char *v)
{
	flow_msg_add_header(&f->request, n, strlen(n), v, strlen(v));
}

static struct origin plain, secure;
static struct proxy *px;
static char cert_path[256], empty_path[256];

static int logged_is(struct origin *o, size_t i, const char *want, size_t want_len)
{
	pthread_mutex_lock(&o->mu);
	int r =
	    i < o->num_log && o->log_len[i] == want_len && memcmp(o->log[i], want, want_len) == 0;
	if (!r && i < o->num_log)
		fprintf(stderr, "origin got [%.*s]\nwanted     [%.*s]\n", (int)o->log_len[i],
			o->log[i], (int)want_len, want);
	pthread_mutex_unlock(&o->mu);
	return r;
}

/* ---- cases ---- */

static void test_as_is(void)
{
	char err[256] = "", host[64], want[512];
	snprintf(host, sizeof host, "127.0.0.1:%d", plain.port);
	struct flow *r = request("http", "127.0.0.1", plain.port, "GET", "/hello?a=1");
	hdr(r, "Host", host);
	hdr(r, "User-Agent", "curl/7.88.1");
	hdr(r, "Accept", "*/*");
	hdr(r, "Proxy-Connection", "Keep-Alive");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	ok(id != 7);
	ok(was_begun(id)); /* BEGIN before the return */
	struct flow *f = wait_end(id, 10);
	ok(f != NULL);
	if (!f)
		return;
	ok(f->state == FLOW_DONE);
	ok(f->error == NULL);
	ok(f->flags == FLOW_F_REPLAY);
	ok(f->replay_of == 7);
	ok(f->response.status == 200);
	ok(f->response.body.len == 7 && memcmp(f->response.body.data, "hello\r\n", 7) == 0);
	ok(strcmp(f->scheme, "http") == 0 && strcmp(f->host, "127.0.0.1") == 0);
	ok(strcmp(f->path, "/hello?a=1") == 0);
	ok(f->t.start > 0 && f->t.dns_done >= f->t.start && f->t.connect_done >= f->t.dns_done);
	ok(f->t.request_sent > 0 && f->t.first_byte >= f->t.connect_done);
	ok(f->t.end >= f->t.first_byte);
	ok(f->t.tls_done == 0);
	ok(f->bytes_up > 0 && f->bytes_down > 7);
	ok(strncmp(f->server_addr, "127.0.0.1:", 10) == 0);
	ok(origin_count(&plain) == 1);
	/* what the proxy sends for such a request: Proxy-Connection dropped, the rest as is */
	int n = snprintf(want, sizeof want,
			 "GET /hello?a=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
			 "Accept: */*\r\n\r\n",
			 host);
	ok(logged_is(&plain, 0, want, (size_t)n));

	/* the same again: a second, identical request and a second new flow */
	r = request("http", "127.0.0.1", plain.port, "GET", "/hello?a=1");
	hdr(r, "Host", host);
	hdr(r, "User-Agent", "curl/7.88.1");
	hdr(r, "Accept", "*/*");
	uint64_t id2 = proxy_replay(px, r, err, sizeof err);
	ok(id2 > id);
	ok(wait_end(id2, 10) != NULL);
	ok(origin_count(&plain) == 2);
	ok(logged_is(&plain, 1, want, (size_t)n));
}

static void test_edited(void)
{
	char err[256] = "", want[512];
	/* edited: method, path, headers and body changed; stale framing headers and Host */
	struct flow *r = request("http", "127.0.0.1", plain.port, "POST", "/echo/new?x=2");
	hdr(r, "Host", "old.example:1");
	hdr(r, "Content-Type", "application/json");
	hdr(r, "Transfer-Encoding", "chunked");
	hdr(r, "Content-Length", "999");
	hdr(r, "X-Edited", "yes");
	const char *body = "{\"edited\":true}";
	flow_msg_add_body(&r->request, body, strlen(body), 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	int n = snprintf(want, sizeof want,
			 "POST /echo/new?x=2 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 "X-Edited: yes\r\n\r\n%s",
			 plain.port, strlen(body), body);
	ok(logged_is(&plain, 0, want, (size_t)n));
	/* the recorded request is the one sent */
	ok(f && flow_msg_header(&f->request, "Transfer-Encoding") == NULL);
	const struct flow_header *cl = f ? flow_msg_header(&f->request, "Content-Length") : NULL;
	ok(cl && strcmp(cl->value, "15") == 0);
	ok(f && f->request.body.len == strlen(body) && f->request.body_size == strlen(body));
	ok(f && f->response.body.len == strlen(body) &&
	   memcmp(f->response.body.data, body, strlen(body)) == 0);

	/* no Host at all: one is added first; an empty POST gets Content-Length: 0 */
	origin_reset(&plain);
	r = request("http", "localhost", plain.port, "POST", "/echo");
	hdr(r, "Accept", "x/y");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	n = snprintf(want, sizeof want,
		     "POST /echo HTTP/1.1\r\nHost: localhost:%d\r\nAccept: x/y\r\n"
		     "Content-Length: 0\r\n\r\n",
		     plain.port);
	ok(logged_is(&plain, 0, want, (size_t)n));

	/* a Host that already names host:port (other case) is kept as it was */
	origin_reset(&plain);
	char h[64];
	snprintf(h, sizeof h, "LOCALHOST:%d", plain.port);
	r = request("http", "localhost", plain.port, "GET", "/k");
	hdr(r, "Host", h);
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	n = snprintf(want, sizeof want, "GET /k HTTP/1.1\r\nHost: %s\r\n\r\n", h);
	ok(logged_is(&plain, 0, want, (size_t)n));
}

static void test_binary(void)
{
	char err[256] = "";
	unsigned char body[3000];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i * 7 + (i >> 8));
	memcpy(body + 10, "\r\n\r\n\0\0", 6);
	struct flow *r = request("http", "127.0.0.1", plain.port, "PUT", "/echo");
	hdr(r, "Content-Type", "application/octet-stream");
	hdr(r, "Content-Length", "3000");
	flow_msg_add_body(&r->request, (const char *)body, sizeof body, 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	pthread_mutex_lock(&plain.mu);
	int got = plain.num_log == 1 && plain.log_len[0] > sizeof body &&
		  memcmp(plain.log[0] + plain.log_len[0] - sizeof body, body, sizeof body) == 0 &&
		  strstr(plain.log[0], "\r\nContent-Length: 3000\r\n") != NULL;
	pthread_mutex_unlock(&plain.mu);
	ok(got);
	/* /echo answers PUT like the default: the upstream got the bytes, that is the point */
	ok(f && f->request.body.len == sizeof body &&
	   memcmp(f->request.body.data, body, sizeof body) == 0);

	/* POST: the echo comes back byte for byte */
	r = request("http", "127.0.0.1", plain.port, "POST", "/echo");
	flow_msg_add_body(&r->request, (const char *)body, sizeof body, 1 << 20);
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.body.len == sizeof body &&
	   memcmp(f->response.body.data, body, sizeof body) == 0);
}

static void test_https(void)
{
	char err[256] = "";
	/* verifying proxy, origin's certificate trusted through SSL_CERT_FILE */
	struct flow *r = request("https", "localhost", secure.port, "POST", "/echo");
	flow_msg_add_body(&r->request, "secret", 6, 1 << 20);
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE);
	if (!f)
		return;
	if (f->error)
		fprintf(stderr, "https replay error: %s\n", f->error);
	ok(strcmp(f->scheme, "https") == 0);
	ok(f->response.body.len == 6 && memcmp(f->response.body.data, "secret", 6) == 0);
	ok(f->tls.version && strncmp(f->tls.version, "TLS", 3) == 0);
	ok(f->tls.cert_subject && strstr(f->tls.cert_subject, "localhost"));
	ok(f->tls.cipher != NULL);
	ok(f->t.tls_done >= f->t.connect_done && f->t.connect_done > 0);
	ok(f->t.first_byte >= f->t.tls_done);
	ok(origin_count(&secure) == 1);
	char want[256];
	int n = snprintf(want, sizeof want,
			 "POST /echo HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: 6\r\n\r\n"
			 "secret",
			 secure.port);
	ok(logged_is(&secure, 0, want, (size_t)n));

	/* a proxy that does not trust the origin: a verification error, nothing sent */
	setenv("SSL_CERT_FILE", empty_path, 1);
	struct proxy *strict = start_proxy(0, 1);
	r = request("https", "localhost", secure.port, "GET", "/x");
	id = proxy_replay(strict, r, err, sizeof err);
	ok(id != 0);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "TLS handshake") &&
	   strstr(f->error, "verif"));
	if (f && f->error)
		fprintf(stderr, "  (error was: %s)\n", f->error);
	ok(origin_count(&secure) == 1);
	stop_proxy(strict);

	/* --ssl-insecure: the same origin is fine */
	struct proxy *lax = start_proxy(1, 1);
	r = request("https", "127.0.0.1", secure.port, "GET", "/x");
	id = proxy_replay(lax, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	stop_proxy(lax);
	setenv("SSL_CERT_FILE", cert_path, 1);
}

static void test_failures(void)
{
	char err[256] = "";
	/* upstream down: a port nobody listens on, held (bound, never listening) until the check
	 * is done, so that no other process can listen there meanwhile */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	int dead_port = ntohs(sa.sin_port);
	struct flow *r = request("http", "127.0.0.1", dead_port, "GET", "/");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	ok(id != 0);
	ok(was_begun(id));
	struct flow *f = wait_end(id, 10);
	close(fd);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "refused"));
	ok(f && f->replay_of == 7 && (f->flags & FLOW_F_REPLAY));

	/* DNS */
	r = request("http", "nothing.invalid", 80, "GET", "/");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "DNS lookup"));

	/* timeout (FLOWSCOPE_TIMEOUT=2 here) */
	r = request("http", "127.0.0.1", plain.port, "GET", "/hang");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "did not answer"));

	/* refused before any flow exists: bad requests */
	size_t before = num_begun;
	r = request("http", "127.0.0.1", plain.port, "GE T", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "method"));
	r = request("http", "127.0.0.1", plain.port, "GET", "/");
	hdr(r, "X-Evil", "a\r\nInjected: 1");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "header"));
	r = request("ftp", "127.0.0.1", plain.port, "GET", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "scheme"));
	r = request("http", "a b", 80, "GET", "/");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "host"));
	r = request("http", "127.0.0.1", plain.port, "GET", "/a b");
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "path"));
	r = request("http", "127.0.0.1", plain.port, "POST", "/");
	flow_msg_add_body(&r->request, "abcdef", 6, 3); /* cut at a limit of 3 */
	ok(proxy_replay(px, r, err, sizeof err) == 0 && strstr(err, "body"));
	ok(num_begun == before);
}

static void test_responses(void)
{
	char err[256] = "";
	/* HEAD: Content-Length without a body */
	struct flow *r = request("http", "127.0.0.1", plain.port, "HEAD", "/h");
	uint64_t id = proxy_replay(px, r, err, sizeof err);
	struct flow *f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200 && f->response.body.len == 0);
	/* an interim 100, then a body until close */
	r = request("http", "127.0.0.1", plain.port, "GET", "/close");
	id = proxy_replay(px, r, err, sizeof err);
	f = wait_end(id, 10);
	ok(f && f->state == FLOW_DONE && f->response.status == 200);
	ok(f && f->response.body.len == 11 &&
	   memcmp(f->response.body.data, "until close", 11) == 0);
}

static void test_order(void)
{
	char err[256] = "";
	uint64_t ids[20];
	for (int i = 0; i < 20; i++) {
		char path[32];
		snprintf(path, sizeof path, "/seq/%02d", i);
		ids[i] = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", path),
				      err, sizeof err);
		ok(ids[i] != 0);
	}
	int done = 0;
	for (int i = 0; i < 20; i++) {
		struct flow *f = wait_end(ids[i], 20);
		done += f && f->state == FLOW_DONE;
	}
	ok(done == 20);
	ok(origin_count(&plain) == 20);
	int in_order = 1;
	pthread_mutex_lock(&plain.mu);
	for (size_t i = 0; i < plain.num_log && i < 20; i++) {
		char want[32];
		snprintf(want, sizeof want, "GET /seq/%02zu ", i);
		in_order &= strncmp(plain.log[i], want, strlen(want)) == 0;
	}
	pthread_mutex_unlock(&plain.mu);
	ok(in_order);
	for (int i = 1; i < 20; i++)
		ok(ids[i] > ids[i - 1]);
}

/* ended[] position of flow id, or -1 */
static int end_rank(uint64_t id)
{
	int rank = -1;
	pthread_mutex_lock(&sink_mu);
	for (size_t i = 0; i < num_ended; i++)
		if (ended[i]->id == id)
			rank = (int)i;
	pthread_mutex_unlock(&sink_mu);
	return rank;
}

static void test_lanes(void)
{
	char err[256] = "";
	/* the next replay to a host starts once the previous one was answered (head), not
	 * only once its body is complete */
	uint64_t slow = proxy_replay(
	    px, request("http", "127.0.0.1", plain.port, "GET", "/slowbody"), err, sizeof err);
	uint64_t fast = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/fast"),
				     err, sizeof err);
	struct flow *fs = wait_end(slow, 10), *ff = wait_end(fast, 10);
	ok(fs && fs->state == FLOW_DONE && fs->response.body.len == 4);
	ok(ff && ff->state == FLOW_DONE);
	ok(end_rank(fast) >= 0 && end_rank(fast) < end_rank(slow));
	ok(was_updated(slow));	/* its head was reported before its body came */
	ok(!was_updated(fast)); /* a short answer ends at once: no UPDATE */

	/* an upstream that does not answer holds the lane: the next one waits for the timeout */
	origin_reset(&plain);
	uint64_t hang = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/hang"),
				     err, sizeof err);
	uint64_t after = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/after"),
				      err, sizeof err);
	for (int i = 0; i < 1000 && origin_count(&plain) < 1; i++) /* the hang reached it */
		usleep(10 * 1000);
	ok(origin_count(&plain) == 1);
	struct flow *fh = wait_end(hang, 10), *fa = wait_end(after, 10);
	ok(fh && fh->state == FLOW_ERROR);
	ok(fa && fa->state == FLOW_DONE);
	ok(end_rank(hang) >= 0 && end_rank(hang) < end_rank(after)); /* it waited for the hang */
	ok(origin_count(&plain) == 2);

	/* another host:port is its own lane */
	origin_reset(&plain);
	hang = proxy_replay(px, request("http", "127.0.0.1", plain.port, "GET", "/hang"), err,
			    sizeof err);
	after = proxy_replay(px, request("http", "localhost", plain.port, "GET", "/other"), err,
			     sizeof err);
	/* it does not wait for the hang's timeout (2 s): it ends first, however slow the machine */
	fa = wait_end(after, 10);
	ok(fa && fa->state == FLOW_DONE);
	ok(wait_end(hang, 10) != NULL);
	ok(end_rank(after) >= 0 && end_rank(after) < end_rank(hang));

	/* the proxy itself is refused, as for proxied requests */
	uint64_t self = proxy_replay(px, request("http", "127.0.0.1", proxy_port(px), "GET", "/"),
				     err, sizeof err);
	struct flow *f = wait_end(self, 10);
	ok(f && f->state == FLOW_ERROR && f->error && strstr(f->error, "flowscope itself"));
}

static void test_shutdown(void)
{
	char err[256] = "";
	/* replays still waiting when the proxy stops end with an error, nothing leaks */
	struct proxy *p = start_proxy(0, 2);
	uint64_t a = proxy_replay(p, request("http", "127.0.0.1", plain.port, "GET", "/hang"), err,
				  sizeof err);
	uint64_t b = proxy_replay(p, request("http", "127.0.0.1", plain.port, "GET", "/hang/2"),
				  err, sizeof err);
	ok(a && b);
	usleep(200 * 1000);
	stop_proxy(p);
	struct flow *fa = wait_end(a, 5), *fb = wait_end(b, 5);
	ok(fa && fa->state == FLOW_ERROR && fa->error && strstr(fa->error, "shutting down"));
	ok(fb && fb->state == FLOW_ERROR && fb->error && strstr(fb->error, "shutting down"));
}

static void run(const char *name, void (*fn)(void))
{
	sink_clear();
	origin_reset(&plain);
	origin_reset(&secure);
	subtest(name, fn);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 2;
	snprintf(cert_path, sizeof cert_path, "%s/origin.pem", tmpdir);
	snprintf(empty_path, sizeof empty_path, "%s/empty.pem", tmpdir);
	fclose(fopen(empty_path, "w"));
	setenv("FLOWSCOPE_TIMEOUT", "2", 1);
	origin_start(&plain, NULL);
	origin_start(&secure, origin_tls(cert_path));
	setenv("SSL_CERT_FILE", cert_path, 1);
	px = start_proxy(0, 3);

	run("replay as-is", test_as_is);
	run("edited request", test_edited);
	run("binary body", test_binary);
	run("https", test_https);
	run("failures", test_failures);
	run("response shapes", test_responses);
	run("order of 20 replays", test_order);
	run("lanes: answered, hanging, other hosts, self", test_lanes);
	run("shutdown with replays running", test_shutdown);

	stop_proxy(px);
	sink_clear();
	origin_stop(&plain);
	origin_stop(&secure);
	SSL_CTX_free(secure.tls);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
