/* SPDX-License-Identifier: MIT */
/* loadgen.c - a small HTTP/1.1 load generator on libevent and OpenSSL, for the benchmark.
 * wrk cannot send HTTPS through a proxy; this can: plain HTTP in absolute form to a proxy,
 * HTTPS through a proxy's CONNECT tunnel with TLS verified against a CA file, or either
 * directly to the origin.
 *
 * Two modes:
 *   keep-alive (default)  -c N connections spread over -t threads, each sending GETs one
 *                         after the other on one connection for -d seconds (or -n requests);
 *                         a sample is one request's latency, request written -> response end.
 *   --fresh               each sample is a new connection: TCP connect (+ CONNECT) + TLS
 *                         handshake + one GET; the sample is the time to the response's first
 *                         byte. With --sni-pattern 'h%d.localhost' every sample uses a new
 *                         name (SNI, certificate check, Host), defeating a forged-cert cache.
 *
 * Per connection the states are CONNECTING -> (PROXY_CONNECT) -> (TLS) -> SENT -> HEAD ->
 * BODY -> SENT ... ; one struct conn owns its bufferevent (CLOSE_ON_FREE, which also frees
 * the SSL). Behind a proxy, TLS starts on the same socket after the CONNECT's 200. Each thread owns
 * its event_base, its connections and its sample array; main merges the samples at the end.
 *
 * --h2 N (https only): ALPN h2, and each connection keeps N streams in flight (a new GET as
 * soon as one ends) over an nghttp2 client session; a sample is one stream's latency, HEADERS
 * submitted -> END_STREAM. -c 1 --h2 100 is one connection x 100 streams.
 *
 * Output: a human line and a machine line, `RESULT requests=N errors=E seconds=S rps=R
 * p50_ms=A p99_ms=B mbps=M served=V` (MB/s counts response body bytes, 1 MB = 2^20 bytes;
 * served counts every good response, warm-up included: divide a proxy's CPU over the whole run
 * by it, not by requests, which leaves out the warm-up the CPU was also spent on). */
#define _GNU_SOURCE
#include "loadgen.h"
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <nghttp2/nghttp2.h>


static long total_issued;
static pthread_mutex_t issued_lock = PTHREAD_MUTEX_INITIALIZER;
static int fresh_seq;

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(2);
}

static void start_conn(struct worker *w);
static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

int may_issue(struct worker *w)
{
	if (w->stopping || now_ns() >= w->t_end)
		return 0;
	if (w->cfg->max_requests <= 0)
		return 1;
	int yes = 0;
	pthread_mutex_lock(w->lock);
	if (*w->shared_issued < w->cfg->max_requests) {
		(*w->shared_issued)++;
		yes = 1;
	}
	pthread_mutex_unlock(w->lock);
	return yes;
}

void add_sample(struct worker *w, uint64_t ns)
{
	if (w->num_samples == w->cap_samples) {
		w->cap_samples = w->cap_samples ? w->cap_samples * 2 : 65536;
		w->samples = realloc(w->samples, w->cap_samples * sizeof *w->samples);
		if (!w->samples)
			die("out of memory");
	}
	w->samples[w->num_samples++] = (uint32_t)(ns / 1000);
}

int counting(const struct worker *w, uint64_t t)
{
	return t >= w->t0;
}

void conn_done(struct conn *c, int failed)
{
	struct worker *w = c->w;
	if (failed && counting(w, now_ns()))
		w->errors++;
	h2_end(c);
	bufferevent_free(c->bev);
	free(c);
	w->live--;
	int more = !w->stopping && now_ns() < w->t_end;
	if (more && w->cfg->max_requests > 0) {
		pthread_mutex_lock(w->lock);
		more = *w->shared_issued < w->cfg->max_requests;
		pthread_mutex_unlock(w->lock);
	}
	if (more)
		start_conn(w); /* counts its first request itself */
	else if (w->live == 0)
		event_base_loopexit(w->base, NULL);
}

static void send_request(struct conn *c)
{
	const struct config *cfg = c->w->cfg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int default_port = cfg->port == (cfg->tls ? 443 : 80);
	char hostport[300];
	if (default_port)
		snprintf(hostport, sizeof hostport, "%s", c->name);
	else
		snprintf(hostport, sizeof hostport, "%s:%d", c->name, cfg->port);
	if (cfg->proxy && !cfg->tls)
		evbuffer_add_printf(out, "GET http://%s%s HTTP/1.1\r\n", hostport, cfg->path);
	else
		evbuffer_add_printf(out, "GET %s HTTP/1.1\r\n", cfg->path);
	evbuffer_add_printf(out,
			    "Host: %s\r\nUser-Agent: flowscope-loadgen\r\nAccept: */*\r\n%s\r\n",
			    hostport, cfg->fresh ? "Connection: close\r\n" : "");
	if (!cfg->fresh)
		c->t_start = now_ns();
	c->state = ST_SENT;
	c->status = 0;
	c->chunked = 0;
	c->remaining = -1;
	c->chunk_state = 0;
	c->close_after = 0;
	c->got_first_byte = 0;
}

/* One response finished: record it, then send the next request or close. Returns 1 when c
 * was freed. */
static int response_done(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t t = now_ns();
	int good = c->status >= 200 && c->status < 400;
	w->served += good;
	if (counting(w, c->t_start)) {
		if (good) {
			w->requests++;
			add_sample(w, w->cfg->fresh ? c->ttfb - c->t_start : t - c->t_start);
		} else {
			w->errors++;
		}
	}
	if (w->cfg->fresh || c->close_after || !may_issue(w)) {
		conn_done(c, 0);
		return 1;
	}
	send_request(c);
	return 0;
}

/* Parses the response head in buf; returns 0 or -1. strtok_r: the workers parse at once. */
static int parse_head(struct conn *c, char *head)
{
	char *save = NULL;
	char *line = strtok_r(head, "\r\n", &save);
	if (!line || strncmp(line, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(line + 9);
	if (line[7] == '0')
		c->close_after = 1;
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "content-length") == 0)
			c->remaining = strtoll(v, NULL, 10);
		else if (strcasecmp(line, "transfer-encoding") == 0 && strcasestr(v, "chunked"))
			c->chunked = 1;
		else if (strcasecmp(line, "connection") == 0 && strcasestr(v, "close"))
			c->close_after = 1;
	}
	if (c->chunked)
		c->remaining = 0;
	else if (c->remaining < 0 && (c->status == 204 || c->status == 304))
		c->remaining = 0;
	return 0;
}

/* Consumes body bytes; returns 1 when the body ended, 0 for more, -1 on a framing error. */
static int read_body(struct conn *c, struct evbuffer *in)
{
	struct worker *w = c->w;
	int count = counting(w, c->t_start);
	if (!c->chunked) {
		size_t n = evbuffer_get_length(in);
		if (c->remaining >= 0 && (int64_t)n > c->remaining)
			n = (size_t)c->remaining;
		evbuffer_drain(in, n);
		if (count)
			w->body_bytes += n;
		if (c->remaining >= 0) {
			c->remaining -= (int64_t)n;
			return c->remaining == 0;
		}
		return 0; /* to EOF */
	}
	for (;;) {
		if (c->chunk_state == 0 || c->chunk_state == 2 || c->chunk_state == 3) {
			size_t len;
			char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
			if (!line)
				return 0;
			if (c->chunk_state == 0) {
				char *end;
				c->remaining = strtoll(line, &end, 16);
				free(line);
				if (end == line || c->remaining < 0)
					return -1;
				c->chunk_state = c->remaining == 0 ? 3 : 1;
			} else if (c->chunk_state == 2) {
				free(line);
				c->chunk_state = 0;
			} else {
				free(line);
				if (len == 0)
					return 1;
			}
		} else {
			size_t n = evbuffer_get_length(in);
			if (n == 0)
				return 0;
			if ((int64_t)n > c->remaining)
				n = (size_t)c->remaining;
			evbuffer_drain(in, n);
			if (count)
				w->body_bytes += n;
			c->remaining -= (int64_t)n;
			if (c->remaining == 0)
				c->chunk_state = 2;
		}
	}
}

/* Starts TLS straight on c's socket once the proxy said 200, as curl and browsers do. (A
 * filter bufferevent over the socket bufferevent would read 4 KiB per wake-up, libevent 2.1's
 * limit for sockets: it made this side of a download cost more behind a proxy than direct.) */
static int start_tls_on_socket(struct conn *c)
{
	const struct config *cfg = c->w->cfg;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return -1; /* the proxy may send nothing before the server's handshake */
	SSL *ssl = SSL_new(cfg->ssl_ctx);
	if (!ssl)
		return -1;
	SSL_set_tlsext_host_name(ssl, c->name);
	if (!cfg->insecure)
		SSL_set1_host(ssl, c->name);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_setfd(c->bev, -1); /* the fd goes to the TLS bufferevent */
	bufferevent_free(c->bev);
	c->bev = bufferevent_openssl_socket_new(c->w->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		die("cannot make a TLS bufferevent");
	bufferevent_set_max_single_read(c->bev, READ_CHUNK);
	c->state = ST_TLS;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}


/* Handles what c's input holds. Returns 1 when c was freed, 0 when it waits for more. */
static int handle_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	for (;;) {
		switch (c->state) {
		case ST_CONNECTING:
		case ST_TLS:
			return 0;
		case ST_PROXY_CONNECT: {
			struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (p.pos < 0)
				return 0;
			char head[64] = "";
			evbuffer_copyout(in, head, sizeof head - 1);
			evbuffer_drain(in, (size_t)p.pos + 4);
			if (strncmp(head, "HTTP/1.", 7) != 0 || atoi(head + 9) != 200 ||
			    start_tls_on_socket(c) != 0) {
				conn_done(c, 1);
				return 1;
			}
			return 0;
		}
		case ST_SENT:
			if (c->h2)
				return h2_input(c);
			if (evbuffer_get_length(in) == 0)
				return 0;
			if (!c->got_first_byte) {
				c->ttfb = now_ns();
				c->got_first_byte = 1;
			}
			c->state = ST_HEAD;
			/* fall through */
		case ST_HEAD: {
			struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (p.pos < 0) {
				if (evbuffer_get_length(in) <= 65536)
					return 0;
				conn_done(c, 1);
				return 1;
			}
			size_t n = (size_t)p.pos + 4;
			char *head = malloc(n + 1);
			if (!head)
				die("out of memory");
			evbuffer_remove(in, head, n);
			head[n] = '\0';
			int rc = parse_head(c, head);
			free(head);
			if (rc != 0) {
				conn_done(c, 1);
				return 1;
			}
			if (c->status == 100) { /* interim: the real head follows */
				c->state = ST_HEAD;
				continue;
			}
			c->state = ST_BODY;
			if (!c->chunked && c->remaining == 0) {
				if (response_done(c))
					return 1;
				continue; /* the next request was sent */
			}
			break;
		}
		case ST_BODY: {
			int rc = read_body(c, in);
			if (rc < 0) {
				conn_done(c, 1);
				return 1;
			}
			if (rc == 0)
				return 0;
			if (response_done(c))
				return 1;
			continue; /* the next request was sent */
		}
		}
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	handle_input(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		const struct config *cfg = c->w->cfg;
		/* A TLS bufferevent reports CONNECTED once its handshake is done (writes queued
		 * before that wait for it anyway). */
		if (c->state == ST_CONNECTING && cfg->proxy && cfg->tls) {
			evbuffer_add_printf(bufferevent_get_output(c->bev),
					    "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
					    cfg->host, cfg->port, cfg->host, cfg->port);
			c->state = ST_PROXY_CONNECT;
			return;
		}
		if (cfg->h2)
			h2_start(c);
		else
			send_request(c);
		return;
	}
	/* libevent's TLS bufferevent may report a close_notify before the bytes that came with
	 * it reached on_read(): handle those first. */
	if ((what & BEV_EVENT_EOF) && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 &&
	    handle_input(c))
		return;
	if ((what & BEV_EVENT_EOF) && c->state == ST_BODY && !c->chunked && c->remaining < 0) {
		c->close_after = 1;
		response_done(c); /* body delimited by close */
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e;
		static int shown; /* a few diagnostics are enough; races only misreport the count */
		while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
			if (shown++ < 3)
				fprintf(stderr, "loadgen: TLS: %s\n", ERR_error_string(e, NULL));
		if (shown < 3 && errno != 0 && c->state != ST_TLS) {
			shown++;
			fprintf(stderr, "loadgen: connection error: %s\n", strerror(errno));
		}
	}
	conn_done(c, 1);
}

static void start_conn(struct worker *w)
{
	const struct config *cfg = w->cfg;
	if (!may_issue(w)) { /* the first request of this connection */
		if (w->live == 0)
			event_base_loopexit(w->base, NULL);
		return;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		die("out of memory");
	c->w = w;
	c->state = ST_CONNECTING;
	if (cfg->sni_pattern) {
		int seq = __atomic_fetch_add(&fresh_seq, 1, __ATOMIC_RELAXED);
		snprintf(c->name, sizeof c->name, cfg->sni_pattern, seq);
	} else {
		snprintf(c->name, sizeof c->name, "%s", cfg->host);
	}
	if (cfg->tls && !cfg->proxy) {
		SSL *ssl = SSL_new(cfg->ssl_ctx);
		if (!ssl)
			die("SSL_new failed");
		SSL_set_tlsext_host_name(ssl, c->name);
		if (!cfg->insecure)
			SSL_set1_host(ssl, c->name);
		c->bev = bufferevent_openssl_socket_new(
		    w->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else {
		c->bev = bufferevent_socket_new(w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev)
		die("cannot make a bufferevent");
	/* libevent reads 16 KiB per callback by default, which caps a download's MB/s. */
	bufferevent_set_max_single_read(c->bev, READ_CHUNK);
	w->live++;
	c->t_start = now_ns();
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&cfg->dial, (int)cfg->dial_len) !=
	    0) {
		conn_done(c, 1);
		return;
	}
	/* Like curl and browsers: no Nagle delay on small writes (CONNECT, handshake, GET). */
	int one = 1;
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	w->stopping = 1;
	/* Connections still waiting for a response are abandoned: end the loop. */
	event_base_loopexit(w->base, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->nconns; i++)
		start_conn(w);
	struct timeval grace = {.tv_sec = (long)w->cfg->duration + 5, .tv_usec = 0};
	struct event *stop = evtimer_new(w->base, on_stop, w);
	uint64_t left = w->t_end - now_ns();
	struct timeval tv = {.tv_sec = (long)(left / 1000000000u),
			     .tv_usec = (long)(left % 1000000000u / 1000)};
	/* In -n mode the run ends when the count is reached; the timer is only a bound. */
	evtimer_add(stop, w->cfg->max_requests > 0 ? &grace : &tv);
	event_base_dispatch(w->base);
	event_free(stop);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void parse_url(struct config *cfg, const char *url)
{
	const char *p;
	if (strncmp(url, "http://", 7) == 0) {
		cfg->tls = 0;
		cfg->port = 80;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		cfg->tls = 1;
		cfg->port = 443;
		p = url + 8;
	} else {
		die("URL must start with http:// or https://");
	}
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof cfg->host)
		die("bad URL host");
	memcpy(cfg->host, p, hl);
	cfg->host[hl] = '\0';
	char *colon = strrchr(cfg->host, ':');
	if (colon) {
		*colon = '\0';
		cfg->port = atoi(colon + 1);
	}
	snprintf(cfg->path, sizeof cfg->path, "%s", slash ? slash : "/");
}

static void resolve(struct config *cfg, const char *host, int port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		die("cannot resolve the dial address");
	memcpy(&cfg->dial, res->ai_addr, res->ai_addrlen);
	cfg->dial_len = res->ai_addrlen;
	freeaddrinfo(res);
}

static void usage(void)
{
	fputs("usage: loadgen [-c CONNS] [-t THREADS] [-d SECS] [-n REQUESTS] [-w WARMUP_SECS]\n"
	      "               [-x PROXY_HOST:PORT] [--cacert FILE | --insecure]\n"
	      "               [--fresh] [--sni-pattern 'h%d.localhost'] [--h2 STREAMS] URL\n",
	      stderr);
	exit(2);
}

/* The short options (long ones map to a letter): each sets one field of struct config. */
static const struct {
	int key;
	/* what the argument is; OPT_SET takes none and sets the field to 1 */
	enum { OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_STR, OPT_SET } kind;
	size_t off;
} options[] = {
    {'c', OPT_INT, offsetof(struct config, conns)},
    {'t', OPT_INT, offsetof(struct config, threads)},
    {'d', OPT_DOUBLE, offsetof(struct config, duration)},
    {'n', OPT_LONG, offsetof(struct config, max_requests)},
    {'w', OPT_DOUBLE, offsetof(struct config, warmup)},
    {'x', OPT_STR, offsetof(struct config, proxy)},
    {'C', OPT_STR, offsetof(struct config, cafile)},	  /* --cacert */
    {'k', OPT_SET, offsetof(struct config, insecure)},	  /* --insecure */
    {'F', OPT_SET, offsetof(struct config, fresh)},	  /* --fresh */
    {'S', OPT_STR, offsetof(struct config, sni_pattern)}, /* --sni-pattern */
    {'H', OPT_INT, offsetof(struct config, h2)},	  /* --h2 */
};

/* Sets the field of option key from arg; -1 for an unknown key (getopt's '?'). */
static int set_option(struct config *cfg, int key, const char *arg)
{
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		if (options[i].key != key)
			continue;
		char *field = (char *)cfg + options[i].off;
		switch (options[i].kind) {
		case OPT_INT:
			*(int *)field = atoi(arg);
			break;
		case OPT_LONG:
			*(long *)field = atol(arg);
			break;
		case OPT_DOUBLE:
			*(double *)field = atof(arg);
			break;
		case OPT_STR:
			*(const char **)field = arg;
			break;
		case OPT_SET:
			*(int *)field = 1;
			break;
		}
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct config cfg = {.conns = 1, .threads = 1, .duration = 5, .warmup = -1};
	static const struct option longopts[] = {
	    {"cacert", required_argument, NULL, 'C'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"fresh", no_argument, NULL, 'F'},
	    {"sni-pattern", required_argument, NULL, 'S'},
	    {"h2", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:t:d:n:w:x:k", longopts, NULL)) != -1) {
		if (set_option(&cfg, opt, optarg) != 0)
			usage();
	}
	if (optind != argc - 1 || cfg.conns < 1 || cfg.threads < 1 || cfg.duration <= 0)
		usage();
	if (cfg.threads > cfg.conns)
		cfg.threads = cfg.conns;
	if (cfg.warmup < 0)
		cfg.warmup = cfg.fresh || cfg.max_requests > 0 ? 0 : 0.5;
	if (cfg.warmup >= cfg.duration)
		die("warm-up must be shorter than the duration");
	parse_url(&cfg, argv[optind]);
	if (cfg.proxy) {
		char ph[256];
		snprintf(ph, sizeof ph, "%s", cfg.proxy);
		char *colon = strrchr(ph, ':');
		if (!colon)
			die("-x wants HOST:PORT");
		*colon = '\0';
		resolve(&cfg, ph, atoi(colon + 1));
	} else {
		resolve(&cfg, cfg.host, cfg.port);
	}
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();

	if (cfg.tls) {
		cfg.ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (!cfg.ssl_ctx)
			die("SSL_CTX_new failed");
		if (cfg.insecure) {
			SSL_CTX_set_verify(cfg.ssl_ctx, SSL_VERIFY_NONE, NULL);
		} else {
			if (!cfg.cafile)
				die("https needs --cacert FILE or --insecure");
			if (SSL_CTX_load_verify_locations(cfg.ssl_ctx, cfg.cafile, NULL) != 1)
				die("cannot load the CA file");
			SSL_CTX_set_verify(cfg.ssl_ctx, SSL_VERIFY_PEER, NULL);
		}
		/* Every connection does a full handshake: no session tickets or cache. */
		SSL_CTX_set_session_cache_mode(cfg.ssl_ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(cfg.ssl_ctx, SSL_OP_NO_TICKET);
		if (cfg.h2)
			SSL_CTX_set_alpn_protos(cfg.ssl_ctx, (const unsigned char *)"\x02h2", 3);
	}

	struct worker *w = calloc((size_t)cfg.threads, sizeof *w);
	if (!w)
		die("out of memory");
	uint64_t start = now_ns();
	for (int i = 0; i < cfg.threads; i++) {
		w[i].base = event_base_new();
		if (!w[i].base)
			die("event_base_new failed");
		w[i].cfg = &cfg;
		w[i].id = i;
		w[i].nconns = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads);
		w[i].t0 = start + (uint64_t)(cfg.warmup * 1e9);
		w[i].t_end = start + (uint64_t)(cfg.duration * 1e9);
		w[i].shared_issued = &total_issued;
		w[i].lock = &issued_lock;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			die("pthread_create failed");
	}
	long requests = 0, errors = 0, served = 0;
	uint64_t bytes = 0;
	size_t ns = 0;
	for (int i = 0; i < cfg.threads; i++) {
		pthread_join(w[i].thread, NULL);
		requests += w[i].requests;
		served += w[i].served;
		errors += w[i].errors;
		bytes += w[i].body_bytes;
		ns += w[i].num_samples;
	}
	uint64_t end = now_ns();
	uint32_t *all = malloc((ns ? ns : 1) * sizeof *all);
	if (!all)
		die("out of memory");
	size_t k = 0;
	for (int i = 0; i < cfg.threads; i++) {
		memcpy(all + k, w[i].samples, w[i].num_samples * sizeof *all);
		k += w[i].num_samples;
		free(w[i].samples);
	}
	qsort(all, ns, sizeof *all, cmp_u32);
	double secs;
	if (cfg.max_requests > 0 || cfg.fresh)
		secs = (double)(end - start) / 1e9;
	else
		secs = cfg.duration - cfg.warmup;
	double p50 = ns ? all[ns / 2] / 1000.0 : 0;
	double p99 = ns ? all[(size_t)((double)(ns - 1) * 0.99)] / 1000.0 : 0;
	double mbps = (double)bytes / 1048576.0 / secs;
	printf("%ld requests, %ld errors in %.2f s: %.0f req/s, %s p50 %.3f ms, p99 %.3f ms, "
	       "%.1f MB/s\n",
	       requests, errors, secs, requests / secs,
	       cfg.fresh ? "time to first byte" : "latency", p50, p99, mbps);
	printf("RESULT requests=%ld errors=%ld seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f "
	       "mbps=%.1f served=%ld\n",
	       requests, errors, secs, requests / secs, p50, p99, mbps, served);
	free(all);
	for (int i = 0; i < cfg.threads; i++)
		event_base_free(w[i].base);
	free(w);
	if (cfg.ssl_ctx)
		SSL_CTX_free(cfg.ssl_ctx);
	return requests > 0 ? 0 : 1;
}
