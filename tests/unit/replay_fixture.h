/* SPDX-License-Identifier: MIT */
/* replay_fixture.h - what test_replay.c stands on: a collecting sink (every BEGIN and UPDATE id,
 * every END flow, waited for with wait_end), an origin on 127.0.0.1 that runs in this process
 * (plain or TLS with a self-signed certificate for localhost) and logs each request's bytes as
 * received (logged_is, origin_count; /hang, /echo, /close, /slowbody and HEAD answer specially),
 * a proxy started on port 0 with that sink (start_proxy), and request(): a flow to replay as
 * the web glue makes it. replay_fixture_start() starts the origins plain and secure and the
 * proxy px; run() runs a subtest on a clean sink and origin logs; replay_fixture_end() stops
 * them all. Include it (it includes harness.h) from test_replay.c only, first. */
#ifndef REPLAY_FIXTURE_H
#define REPLAY_FIXTURE_H

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
	int chunked = 0;
	for (;;) {
		ssize_t n = orecv(ssl, fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		if (!eoh && (eoh = memmem(buf, len, "\r\n\r\n", 4))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			const char *te = strcasestr(buf, "\r\nTransfer-Encoding: chunked");
			need = (size_t)(eoh + 4 - buf) +
			       (cl && cl < eoh ? strtoul(cl + 17, 0, 10) : 0);
			chunked = te && te < eoh;
		}
		/* a chunked body (the tests' hold no blank line) ends with its trailer section */
		if (eoh && len >= need &&
		    (!chunked || (len > need && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)))
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

/* Starts the origins plain and secure (its certificate trusted through SSL_CERT_FILE) and the
 * proxy px with 3 threads and an upstream timeout of 2 s. Returns 0, or -1 if the temporary
 * folder could not be made. */
static int replay_fixture_start(void)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cert_path, sizeof cert_path, "%s/origin.pem", tmpdir);
	snprintf(empty_path, sizeof empty_path, "%s/empty.pem", tmpdir);
	fclose(fopen(empty_path, "w"));
	setenv("FLOWSCOPE_TIMEOUT", "2", 1);
	origin_start(&plain, NULL);
	origin_start(&secure, origin_tls(cert_path));
	setenv("SSL_CERT_FILE", cert_path, 1);
	px = start_proxy(0, 3);
	return 0;
}

static void run(const char *name, void (*fn)(void))
{
	sink_clear();
	origin_reset(&plain);
	origin_reset(&secure);
	subtest(name, fn);
}

/* Stops the proxy and the origins, frees what the sink kept, removes the temporary folder. */
static void replay_fixture_end(void)
{
	stop_proxy(px);
	sink_clear();
	origin_stop(&plain);
	origin_stop(&secure);
	SSL_CTX_free(secure.tls);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

#endif
