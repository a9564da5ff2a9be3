/* SPDX-License-Identifier: MIT */
/* loadgen.h - what loadgen.c (connections, HTTP/1.1, the run) and loadgen_h2.c (--h2's
 * streams) share: a connection, its worker and the run's configuration. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#define READ_CHUNK (256 * 1024) /* bytes per read callback */

enum state {
	ST_CONNECTING,	  /* TCP connect under way */
	ST_PROXY_CONNECT, /* CONNECT sent, waiting for the proxy's answer */
	ST_TLS,		  /* TLS handshake under way */
	ST_SENT,	  /* request written, nothing read yet */
	ST_HEAD,	  /* reading the response head */
	ST_BODY,	  /* reading the body */
};

struct config {
	int tls;		      /* https URL */
	char host[256];		      /* URL host: Host header, SNI, CONNECT authority */
	int port;		      /* URL port */
	char path[2048];	      /* URL path (and query) */
	const char *proxy;	      /* "HOST:PORT" or NULL */
	struct sockaddr_storage dial; /* where TCP connects: proxy or origin */
	socklen_t dial_len;
	const char *cafile;	 /* verify against this CA file; NULL and insecure: no checks */
	int insecure;		 /* do not verify the server certificate */
	int conns;		 /* -c */
	int threads;		 /* -t */
	double duration;	 /* -d seconds */
	double warmup;		 /* seconds not counted at the start (keep-alive mode) */
	long max_requests;	 /* -n; 0: until duration */
	int fresh;		 /* --fresh: one request per new connection, sample = TTFB */
	const char *sni_pattern; /* --sni-pattern, printf format with one %d; NULL: URL host */
	int h2;			 /* --h2 N: HTTP/2 with N streams in flight per connection; 0: h1 */
	SSL_CTX *ssl_ctx;	 /* shared, read-only after setup */
};

struct worker;
struct h2stream;

struct conn {
	struct worker *w;	 /* borrowed: the thread owning this connection */
	struct bufferevent *bev; /* owned; CLOSE_ON_FREE */
	enum state state;
	char name[256];		     /* Host, SNI and verified name for this connection */
	uint64_t t_start;	     /* ns: request written (keep-alive) or connect (fresh) */
	int got_first_byte;	     /* fresh mode: TTFB already taken */
	uint64_t ttfb;		     /* ns of the first response byte */
	int status;		     /* response status */
	int chunked;		     /* body is chunked */
	int64_t remaining;	     /* Content-Length left, or current chunk left; -1: to EOF */
	int chunk_state;	     /* 0: size line, 1: data, 2: CRLF after data, 3: trailers */
	int close_after;	     /* server said Connection: close / HTTP/1.0 */
	nghttp2_session *h2;	     /* owned: --h2's client session, NULL in HTTP/1.1 */
	int h2_open;		     /* streams in flight */
	struct h2stream *h2_streams; /* owned: their records (loadgen_h2.c) */
};

struct worker {
	pthread_t thread;
	struct event_base *base;
	const struct config *cfg;
	int id;
	int nconns;	   /* connections this worker keeps */
	uint32_t *samples; /* owned: latencies in microseconds */
	size_t num_samples, cap_samples;
	long requests; /* completed and counted */
	long served;   /* completed well, warm-up included: what the proxy's CPU was spent on */
	long errors;
	uint64_t body_bytes;   /* counted body bytes */
	uint64_t t0;	       /* ns, counting starts (after warmup) */
	uint64_t t_end;	       /* ns, stop issuing at this time */
	long *shared_issued;   /* borrowed: total issued over threads (-n / fresh) */
	pthread_mutex_t *lock; /* borrowed: guards shared_issued */
	int stopping;
	int live; /* open connections */
};

/* Monotonic time in ns. */
uint64_t now_ns(void);
/* Prints msg and exits with status 2. */
void die(const char *msg);
/* May another request (or fresh connection) start? Counts it when yes. */
int may_issue(struct worker *w);
/* Adds one latency sample (ns) to w's samples. */
void add_sample(struct worker *w, uint64_t ns);
/* 1 when something that started at t counts (after the warm-up). */
int counting(const struct worker *w, uint64_t t);
/* Frees c (its session, its bufferevent) and, while the run goes on, starts a new one. */
void conn_done(struct conn *c, int failed);

/* TLS is up with ALPN h2 on c: its nghttp2 client session, and --h2 streams at once. */
void h2_start(struct conn *c);
/* Feeds c's input to its session. Returns 1 when c was freed. */
int h2_input(struct conn *c);
/* Frees c's session and the records of its streams still open; a no-op without a session. */
void h2_end(struct conn *c);

#endif
