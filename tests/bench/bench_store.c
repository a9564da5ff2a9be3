/* SPDX-License-Identifier: MIT */
/* bench_store.c - how fast the flow store writes and reads.
 *
 *   bench_store [--ingest N] [--rate R] [--binary] [--hosts N] [--deleted N] [--flows N]
 *               [--dir DIR] [--keep]
 *
 * 1. Ingest: N flows (BEGIN then END, snapshots as the proxy emits them) through store_sink() from
 * two producer threads; flows stored per second, from the first emit until store_close() has
 *    committed the last one. --rate R paces the producers to R flows/s in all, as a proxy
 *    under steady load does: the writer then wakes for many small batches (and goes idle in
 *    between), which is what its CPU per flow looks like in real use; unpaced, it sees a few
 *    huge batches. --deleted N first stores N pending flows and deletes them, so
 *    that the writer remembers N deleted ids (to drop their late ENDs) during the run: every
 *    BEGIN then looks its id up in that set, the writer's worst case. --binary: each response
 *    body is 1 KiB of random bytes (the proxy bench's nginx /1k) instead of small JSON, so the
 *    indexer lists it instead of indexing its text, and the flow has an intercepted HTTPS
 *    flow's TLS strings; --hosts N: the ingested flows go to N hosts
 *    (default 2,000; 1 is the proxy bench's single origin, whose flows append to one end of
 *    the host index instead of dirtying a page per host in each commit); a run of more than
 * INDEXER_BACKLOG_MAX flows (50,000) without a pause makes the writer index while flows arrive, so
 * the figures then hold the indexer's steady-state cost. The CPU of the writer thread (fs-store) is
 *    read from /proc, and that of every store thread (the writer and its helpers).
 * 2. Queries on a store of --flows generated rows (written in one direct transaction with the
 *    store's own formats: realistic hosts with a skewed popularity, paths, statuses, content
 *    types, small bodies): the first page of 50, the next page, ~d somehost, ~c 404 and a body
 *    search ~b needle, each as a page alone and as a page plus its total count.
 * 3. --floor BYTES: what SQLite itself costs per flow on this machine, whatever the store does: N
 *    rows (--ingest's N, 200,000 when 0) of one blob of BYTES (the proxy bench's flow takes about
 *    1,800: its flows, heads and body rows' payload) into a table with no index, 850 rows per
 *    commit (the proxy bench's batches), in WAL mode with the store's page size, sync level and
 *    checkpoint interval, checkpointed on the same thread. Prints CPU per row, user and system:
 *    the system part is the kernel copying each byte three times (into the WAL, out of it and
 *    into the database file), which no schema of the store can avoid.
 * Prints a small table. */
#include "dbrow.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *paths[] = {
    "/",	  "/index.html",     "/api/v1/users?id=", "/img/logo.png", "/static/app.js",
    "/search?q=", "/api/v2/orders/", "/css/site.css",	  "/favicon.ico",  "/track?event=view&id="};
static const char *ctypes[] = {"text/html; charset=utf-8", "application/json", "image/png",
			       "application/javascript",   "text/css",	       "image/x-icon"};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static char *host_name(unsigned i)
{
	static const char *tld[] = {"com", "net", "org", "io", "de"};
	return xasprintf("%s%u.%s%u.%s", i % 3 ? "www" : "api", i, "site", i * 7 % 1000,
			 tld[i % 5]);
}

/* Host index with a skewed popularity: a few hosts get most flows. */
static unsigned pick_host(unsigned *s, unsigned nhosts)
{
	unsigned r = rnd(s) % 1000;
	if (nhosts <= 20)
		return rnd(s) % nhosts;
	if (r < 500)
		return rnd(s) % 20;
	if (r < 800)
		return rnd(s) % 200;
	return rnd(s) % nhosts;
}

static int pick_status(unsigned *s)
{
	unsigned r = rnd(s) % 100;
	return r < 78 ? 200 : r < 85 ? 304 : r < 90 ? 404 : r < 93 ? 301 : r < 95 ? 500 : 204;
}

static int binary_bodies;	     /* --binary */
static unsigned ingest_hosts = 2000; /* --hosts */

static struct flow *gen_flow(unsigned *s, unsigned nhosts, int with_response)
{
	struct flow *f = flow_new();
	f->kind = FLOW_HTTP;
	f->state = with_response ? FLOW_DONE : FLOW_PENDING;
	f->scheme = xstrdup(rnd(s) % 4 ? "https" : "http");
	f->host = host_name(pick_host(s, nhosts));
	f->port = f->scheme[4] ? 443 : 80;
	unsigned pi = rnd(s) % 10;
	f->path = xasprintf("%s%u", paths[pi], rnd(s) % 100000);
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:%u", 30000 + rnd(s) % 30000);
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup(rnd(s) % 5 ? "GET" : "POST");
	f->request.target = xstrdup(f->path);
	flow_msg_add_header(&f->request, "Host", 4, f->host, strlen(f->host));
	flow_msg_add_header(&f->request, "User-Agent", 10, "Mozilla/5.0 (X11; Linux x86_64)", 31);
	flow_msg_add_header(&f->request, "Accept", 6, "*/*", 3);
	f->t.start = util_now_us();
	if (!with_response)
		return f;
	f->response.present = 1;
	f->response.version = 11;
	f->response.status = pick_status(s);
	f->response.reason = xstrdup("OK");
	const char *ct = ctypes[pi % 6];
	flow_msg_add_header(&f->response, "Content-Type", 12, ct, strlen(ct));
	flow_msg_add_header(&f->response, "Server", 6, "nginx/1.22.1", 12);
	flow_msg_add_header(&f->response, "Date", 4, "Sun, 22 Nov 2026 14:00:00 GMT", 29);
	char body[400];
	int n =
	    snprintf(body, sizeof body,
		     "{\"id\":%u,\"name\":\"item %u\",\"tags\":[\"alpha\",\"beta\"],"
		     "\"text\":\"lorem ipsum dolor sit amet %u consectetur\"%s}",
		     rnd(s), rnd(s) % 1000, rnd(s), rnd(s) % 1000 == 0 ? ",\"x\":\"needle\"" : "");
	if (binary_bodies) {
		char bin[1024];
		for (size_t i = 0; i < sizeof bin; i++)
			bin[i] = (char)(rnd(s) >> 3);
		bin[7] = '\0'; /* as random bytes have, early on */
		flow_msg_add_body(&f->response, bin, sizeof bin, 1 << 20);
		n = (int)sizeof bin;
		/* and the TLS strings of an intercepted HTTPS flow, as the proxy bench's */
		f->tls.sni = xstrdup("localhost");
		f->tls.version = xstrdup("TLSv1.3");
		f->tls.cipher = xstrdup("TLS_AES_256_GCM_SHA384");
		f->tls.alpn = xstrdup("http/1.1");
		f->tls.cert_subject = xstrdup("CN=localhost,O=flowscope bench origin");
		f->tls.cert_issuer = xstrdup("CN=flowscope bench CA,O=flowscope");
		f->tls.client_version = xstrdup("TLSv1.3");
	} else {
		flow_msg_add_body(&f->response, body, (size_t)n, 1 << 20);
	}
	strcpy(f->server_addr, "10.1.2.3:443");
	f->t.end = f->t.start + 1000 + rnd(s) % 100000;
	f->bytes_down = (uint64_t)n + 200;
	return f;
}

/* ---- 1. ingest ---- */

struct producer {
	struct flow_sink sink;
	uint64_t first_id;
	unsigned n;
	unsigned seed;
	double rate; /* flows/s of this thread; 0: as fast as it can */
	double cpu;  /* this thread's CPU seconds */
};

/* CPU seconds on clock id: CLOCK_THREAD_CPUTIME_ID (this thread), CLOCK_PROCESS_CPUTIME_ID. */
static double cpu_s(clockid_t id)
{
	struct timespec ts;
	return clock_gettime(id, &ts) == 0 ? (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 : 0;
}

static void pace(double t0, double rate, unsigned i);

/* CPU seconds of this process's threads named name (prefix), from /proc/self/task; *wchar
 * (when not NULL) gets the bytes they wrote (write, pwrite). */
static double threads_cpu_s(const char *name, unsigned long long *wchar)
{
	double sum = 0;
	if (wchar)
		*wchar = 0;
	long hz = sysconf(_SC_CLK_TCK);
	DIR *d = opendir("/proc/self/task");
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		char p[300], buf[512];
		snprintf(p, sizeof p, "/proc/self/task/%s/stat", de->d_name);
		FILE *fp = fopen(p, "r");
		if (!fp)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		buf[len] = '\0';
		char *open = strchr(buf, '('), *close = strrchr(buf, ')');
		if (!open || !close || strncmp(open + 1, name, strlen(name)) != 0)
			continue;
		unsigned long ut = 0, st = 0;
		/* after ") ": state, then fields 4..13; utime and stime are fields 14 and 15 */
		if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			   &st) == 2)
			sum += (double)(ut + st) / (double)hz;
		snprintf(p, sizeof p, "/proc/self/task/%s/io", de->d_name);
		unsigned long long w = 0;
		if (wchar && (fp = fopen(p, "r"))) {
			while (fgets(buf, sizeof buf, fp))
				if (sscanf(buf, "wchar: %llu", &w) == 1)
					*wchar += w;
			fclose(fp);
		}
	}
	if (d)
		closedir(d);
	return sum;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	double t0 = (double)util_mono_us() / 1e6;
	for (unsigned i = 0; i < p->n; i++) {
		if (p->rate > 0)
			pace(t0, p->rate, i);
		/* as the proxy's exchange_emit() does: a snapshot of the request for BEGIN, and
		 * for END a snapshot that takes the bodies over, the flow freed here */
		struct flow *f = gen_flow(&p->seed, ingest_hosts, 1);
		struct flow_msg rs = f->response;
		memset(&f->response, 0, sizeof rs);
		f->state = FLOW_PENDING;
		p->sink.emit(p->sink.arg, FLOW_EV_BEGIN, flow_snapshot(f));
		f->response = rs;
		f->state = FLOW_DONE;
		p->sink.emit(p->sink.arg, FLOW_EV_END, flow_snapshot_take(f));
	}
	p->cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static double now_s(void)
{
	return (double)util_mono_us() / 1e6;
}

/* Sleeps until flow i of a thread emitting rate flows/s from t0 is due; sleeps of less than a
 * millisecond are skipped, so flows come in small bursts, as from a busy proxy. */
static void pace(double t0, double rate, unsigned i)
{
	double ahead = t0 + i / rate - now_s();
	if (ahead >= 0.001)
		usleep((useconds_t)(ahead * 1e6));
}

/* Removes the database at path with its WAL and shared-memory files. */
static void rm_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		remove(p);
		free(p);
	}
}

/* Stores n pending flows and deletes them: the writer remembers their ids (their ENDs are
 * still to come), as after a user deleted flows that were in flight. */
static void delete_pending(struct store *s, unsigned n)
{
	struct flow_sink sink = store_sink(s);
	unsigned seed = 7;
	uint64_t first = 0;
	for (unsigned i = 0; i < n; i++) {
		struct flow *f = gen_flow(&seed, 2000, 0);
		if (!first)
			first = f->id;
		sink.emit(sink.arg, FLOW_EV_BEGIN, f);
	}
	for (unsigned i = 0; i < n; i++)
		store_delete(s, first + i);
	struct store_stats st;
	do {
		usleep(1000);
		store_get_stats(s, &st);
	} while (st.queued);
}

static int on_int(void *arg, int ncols, char **vals, char **names)
{
	(void)names;
	*(int *)arg = ncols > 0 && vals[0] ? atoi(vals[0]) : 0;
	return 0;
}

/* 1 once the writer has indexed every body: its watermark (counts k=2) is past the last one. */
static int indexed_all(sqlite3 *db)
{
	int done = 0;
	sqlite3_exec(db, "SELECT (SELECT n FROM counts WHERE k=2) >= (SELECT max(id) FROM bodies)",
		     on_int, &done, NULL);
	return done;
}

static void bench_ingest(const char *dir, unsigned n, double rate, unsigned deleted)
{
	char *path = xasprintf("%s/ingest.db", dir), err[256];
	rm_db(path);
	struct store_options o = {.body_limit = 1 << 20, .queue_max = 4 * (size_t)n};
	struct store *s = store_open(path, &o, err, sizeof err);
	if (!s) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	if (deleted)
		delete_pending(s, deleted);
	struct producer p[2];
	pthread_t t[2];
	double t0 = now_s(), cpu0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < 2; i++) {
		p[i] = (struct producer){store_sink(s), 0, n / 2, 1000u + (unsigned)i, rate / 2, 0};
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	double t1 = now_s();
	struct store_stats st;
	store_get_stats(s, &st);
	uint64_t queued_at_end = st.queued;
	/* store_close() drains; stats must be read before it frees. */
	for (;;) {
		store_get_stats(s, &st);
		if (st.queued == 0)
			break;
		usleep(1000);
	}
	double t2 = now_s();
	double writer_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0 - p[0].cpu - p[1].cpu;
	unsigned long long wrote;
	double fs_store = threads_cpu_s("fs-store", &wrote);
	/* The writer indexes body text for ~b when idle: time the catch-up. */
	sqlite3 *db;
	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	int seen = 0; /* bodies the indexer had passed while flows arrived */
	sqlite3_exec(db, "SELECT count(*) FROM bodies WHERE id <= (SELECT n FROM counts WHERE k=2)",
		     on_int, &seen, NULL);
	double cpu_i = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	while (!indexed_all(db))
		usleep(20000);
	sqlite3_close(db);
	double t_idx = now_s() - t2, cpu_idx = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_i;
	store_close(s);
	double t3 = now_s() - t_idx;
	printf("ingest: %u flows (%u events) through store_sink from 2 threads", n, 2 * n);
	if (rate > 0)
		printf(" paced to %.0f flows/s", rate);
	printf("\n");
	if (deleted)
		printf("  with %u flows deleted while pending remembered by the writer\n", deleted);
	printf("  emitting took %.2f s (%.0f flows/s; %llu events still queued then)\n", t1 - t0,
	       n / (t1 - t0), (unsigned long long)queued_at_end);
	printf("  all committed after %.2f s: %.0f flows/s stored (%llu commits, %llu dropped); "
	       "close %.2f s\n",
	       t2 - t0, n / (t2 - t0), (unsigned long long)st.commits,
	       (unsigned long long)st.dropped, t3 - t2);
	printf("  queue: at most %llu KiB waiting for the writer; producers waited for it %llu "
	       "times (backpressure)\n",
	       (unsigned long long)st.queued_bytes_peak >> 10, (unsigned long long)st.waits);
	printf(
	    "  store threads' CPU: %.2f s, i.e. %.0f flows per CPU-second, %.1f us per flow (the "
	    "figure that does not depend on other load on the machine); the writer thread "
	    "alone: %.2f s, %.1f us per flow\n",
	    writer_cpu, n / writer_cpu, writer_cpu * 1e6 / n, fs_store, fs_store * 1e6 / n);
	printf("  the writer thread wrote %.0f bytes per flow (WAL frames, body files)\n",
	       (double)wrote / n);
	printf("  the indexer had looked at %d of the %s bodies while flows arrived\n", seen,
	       binary_bodies ? "binary" : "text");
	printf("  then the idle writer indexed (or listed) the rest in %.2f s (%.2f CPU s: %.0f "
	       "bodies per CPU-second)\n",
	       t_idx, cpu_idx, (n - seen) / cpu_idx);
	printf("  writer CPU with all indexing done: %.2f s, i.e. %.0f flows per CPU-second\n",
	       writer_cpu + cpu_idx, n / (writer_cpu + cpu_idx));
	rm_db(path);
	free(path);
}

/* ---- 2. a big store ---- */

static void generate(const char *path, unsigned n)
{
	char err[256];
	rm_db(path);
	struct store *s = store_open(path, NULL, err, sizeof err); /* creates the schema */
	store_close(s);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-200000; BEGIN", NULL, NULL,
		     NULL);
	sqlite3_stmt *ins, *head, *body, *host;
	sqlite3_prepare_v2(db,
			   "INSERT INTO flows(id,kind,state,scheme,host,port,path,url,method,"
			   "target,req_present,req_version,resp_present,resp_version,status,"
			   "reason,resp_ctype,request_body_size,response_body_size,client_addr,"
			   "server_addr,started_us,ended_us,bytes_down) VALUES(?,'http',?,?,?,?,"
			   "?,?,?,?,1,11,?,11,?,?,?,0,?,?,?,?,?,?)",
			   -1, &ins, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO heads(id,req_headers,resp_headers) VALUES(?,?,?)", -1,
			   &head, NULL);
	sqlite3_prepare_v2(db,
			   "INSERT INTO bodies(id,flow_id,side,data,size,truncated) "
			   "VALUES(?*2+1,?,1,?,?,0)",
			   -1, &body, NULL);
	sqlite3_stmt *fts;
	sqlite3_prepare_v2(db, "INSERT INTO body_fts(rowid,text) VALUES(?*2+1,?)", -1, &fts, NULL);
	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO hosts VALUES(?)", -1, &host, NULL);
	unsigned seed = 42;
	double t0 = now_s();
	for (unsigned i = 1; i <= n; i++) {
		struct flow *f = gen_flow(&seed, 2000, rnd(&seed) % 50 != 0);
		f->id = i;
		char *url = dbrow_flow_url(f);
		int k = 1, rs = f->response.present;
		sqlite3_bind_int64(ins, k++, i);
		sqlite3_bind_text(ins, k++, rs ? "done" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, f->scheme, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, f->host, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, k++, f->port);
		sqlite3_bind_text(ins, k++, f->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, f->request.method, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, f->request.target, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, k++, rs);
		if (rs) {
			sqlite3_bind_int(ins, k++, f->response.status);
			sqlite3_bind_text(ins, k++, f->response.reason, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, k++, dbrow_msg_ctype(&f->response), -1,
					  SQLITE_STATIC);
		} else {
			k += 3;
		}
		sqlite3_bind_int64(ins, k++, (sqlite3_int64)f->response.body_size);
		sqlite3_bind_text(ins, k++, f->client_addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, k++, f->server_addr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, k++, f->t.start);
		sqlite3_bind_int64(ins, k++, f->t.end);
		sqlite3_bind_int64(ins, k++, (sqlite3_int64)f->bytes_down);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		size_t l1, l2;
		char *h1 = dbrow_headers_pack(&f->request, &l1),
		     *h2 = dbrow_headers_pack(&f->response, &l2);
		sqlite3_bind_int64(head, 1, i);
		sqlite3_bind_blob(head, 2, h1, (int)l1, SQLITE_STATIC);
		if (rs)
			sqlite3_bind_blob(head, 3, h2, (int)l2, SQLITE_STATIC);
		sqlite3_step(head);
		sqlite3_reset(head);
		sqlite3_clear_bindings(head);
		free(h1);
		free(h2);
		if (rs) {
			sqlite3_bind_int64(body, 1, i);
			sqlite3_bind_int64(body, 2, i);
			sqlite3_bind_blob(body, 3, f->response.body.data, (int)f->response.body.len,
					  SQLITE_STATIC);
			sqlite3_bind_int64(body, 4, (sqlite3_int64)f->response.body.len);
			sqlite3_step(body);
			sqlite3_reset(body);
			sqlite3_bind_int64(fts, 1, i);
			sqlite3_bind_text(fts, 2, f->response.body.data, (int)f->response.body.len,
					  SQLITE_STATIC);
			sqlite3_step(fts);
			sqlite3_reset(fts);
		}
		sqlite3_bind_text(host, 1, f->host, -1, SQLITE_STATIC);
		sqlite3_step(host);
		sqlite3_reset(host);
		free(url);
		flow_free(f);
	}
	char sql[200];
	/* Every body is in the trigram index: the watermark is past the last one. */
	snprintf(sql, sizeof sql,
		 "UPDATE counts SET n=%u WHERE k=1; UPDATE counts SET n=%u "
		 "WHERE k=2; COMMIT; PRAGMA wal_checkpoint(TRUNCATE)",
		 n, 2 * n + 1);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_finalize(ins);
	sqlite3_finalize(head);
	sqlite3_finalize(body);
	sqlite3_finalize(host);
	sqlite3_finalize(fts);
	sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("generated %u flows in %.1f s\n", n, now_s() - t0);
}

/* --floor (see the top): user and system CPU seconds of the process so far. */
static void rusage_s(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void bench_floor(const char *dir, unsigned n, int bytes)
{
	enum { PER_COMMIT = 850 };
	char *path = xasprintf("%s/bench_floor.db", dir);
	rm_db(path);
	sqlite3 *db;
	sqlite3_stmt *ins;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; "
			 "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=250; "
			 "CREATE TABLE f (id INTEGER PRIMARY KEY, d BLOB NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO f VALUES (?1, ?2)", -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	unsigned char *blob = xmalloc((size_t)bytes);
	unsigned seed = 1;
	for (int i = 0; i < bytes; i++)
		blob[i] = (unsigned char)(rnd(&seed) >> 3);
	double u0, s0, u1, s1, t0 = now_s();
	rusage_s(&u0, &s0);
	int rc = SQLITE_OK;
	for (unsigned i = 0; i < n && rc == SQLITE_OK;) {
		rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (unsigned k = 0; k < PER_COMMIT && i < n && rc == SQLITE_OK; k++, i++) {
			blob[0] = (unsigned char)i; /* each row its own bytes */
			sqlite3_bind_int64(ins, 1, i + 1);
			sqlite3_bind_blob(ins, 2, blob, bytes, SQLITE_STATIC);
			rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
			sqlite3_reset(ins);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) { /* a figure of rows not written would mislead */
		fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	rusage_s(&u1, &s1);
	double t = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("floor: %u rows of one %d-byte blob (no index), %d per commit, in %.2f s: "
	       "%.2f us of CPU per row (user %.2f, system %.2f)\n",
	       n, bytes, PER_COMMIT, t, ((u1 - u0) + (s1 - s0)) * 1e6 / n, (u1 - u0) * 1e6 / n,
	       (s1 - s0) * 1e6 / n);
	free(blob);
	rm_db(path);
	free(path);
}

struct page {
	int n;
	uint64_t last;
};

static void on_flow(void *arg, const struct flow *f)
{
	struct page *p = arg;
	p->n++;
	p->last = f->id;
}

/* Times store_list (best of 3 runs, fresh reader so the first run is a cold-ish cache too). */
static void timed(struct store_reader *r, const char *label, const char *expr, uint64_t before,
		  int with_total, uint64_t *last)
{
	char err[256];
	struct filter *f = expr ? filter_compile(expr, err, sizeof err) : NULL;
	double best = 1e9, first = 0;
	struct page p = {0};
	uint64_t total = 0;
	for (int i = 0; i < 3; i++) {
		p = (struct page){0};
		double t0 = now_s();
		if (store_list(r, f, before, 50, on_flow, &p, with_total ? &total : NULL, err,
			       sizeof err) != 0)
			fprintf(stderr, "%s: %s\n", label, err);
		double t = now_s() - t0;
		if (i == 0)
			first = t;
		if (t < best)
			best = t;
	}
	if (last)
		*last = p.last;
	char tot[32] = "-";
	if (with_total)
		snprintf(tot, sizeof tot, "%llu", (unsigned long long)total);
	printf("| %-28s | %-9s | %5d | %10s | %9.2f | %9.2f |\n", label, with_total ? "yes" : "no",
	       p.n, tot, first * 1000, best * 1000);
	filter_free(f);
}

int main(int argc, char **argv)
{
	unsigned ingest = 200000, nflows = 1000000, deleted = 0;
	double rate = 0;
	const char *dir = "/tmp";
	int keep = 0, floor_bytes = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ingest") == 0 && i + 1 < argc)
			ingest = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (strcmp(argv[i], "--binary") == 0)
			binary_bodies = 1;
		else if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc)
			ingest_hosts = (unsigned)atoi(argv[++i]) > 1 ? (unsigned)atoi(argv[i]) : 1;
		else if (strcmp(argv[i], "--deleted") == 0 && i + 1 < argc)
			deleted = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--flows") == 0 && i + 1 < argc)
			nflows = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--keep") == 0)
			keep = 1;
		else if (strcmp(argv[i], "--floor") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
			floor_bytes = atoi(argv[++i]);
		else {
			fprintf(stderr,
				"usage: %s [--ingest N] [--rate R] [--binary] [--hosts N] "
				"[--deleted N] "
				"[--flows N] "
				"[--dir DIR] "
				"[--keep] [--floor BYTES]\n",
				argv[0]);
			return 2;
		}
	}
	if (ingest)
		bench_ingest(dir, ingest, rate, deleted);
	if (floor_bytes)
		bench_floor(dir, ingest ? ingest : 200000, floor_bytes);
	binary_bodies = 0; /* the big store's bodies are text, for ~b */
	if (!nflows)
		return 0;
	char *path = xasprintf("%s/bench_store.db", dir), err[256];
	if (!keep || access(path, F_OK) != 0)
		generate(path, nflows);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "reader: %s\n", err);
		return 1;
	}
	char *somehost = host_name(150);
	char *dexpr = xasprintf("~d %s", somehost);
	printf("\nqueries on %u flows (times in ms: first run, best of 3)\n", nflows);
	printf("| %-28s | %-9s | %5s | %10s | %9s | %9s |\n", "query", "count", "rows", "total",
	       "first", "best");
	printf("|------------------------------|-----------|-------|------------|-----------|"
	       "-----------|\n");
	uint64_t last = 0;
	timed(r, "first page", NULL, 0, 1, &last);
	timed(r, "next page", NULL, last, 1, NULL);
	timed(r, "deep page (id < n/2)", NULL, nflows / 2, 1, NULL);
	timed(r, dexpr, dexpr, 0, 0, NULL);
	timed(r, dexpr, dexpr, 0, 1, NULL);
	timed(r, "~d www1\\. (popular)", "~d www1\\.", 0, 1, NULL);
	timed(r, "~c 404", "~c 404", 0, 0, NULL);
	timed(r, "~c 404", "~c 404", 0, 1, NULL);
	timed(r, "~b needle", "~b needle", 0, 0, NULL);
	timed(r, "~b needle", "~b needle", 0, 1, NULL);
	timed(r, "~b 'needle\"}$' (regex, scan)", "~b 'needle\"}$'", 0, 1, NULL);
	timed(r, "~bs 'item 42\"' & ~c 200", "~bs 'item 42\"' & ~c 200", 0, 1, NULL);
	timed(r, "~u /api/v2 & ~m POST", "~u /api/v2 & ~m POST", 0, 1, NULL);
	timed(r, "~h nginx & !~c 200", "~h nginx & !~c 200", 0, 0, NULL);
	store_reader_close(r);
	free(somehost);
	free(dexpr);
	if (!keep)
		rm_db(path);
	free(path);
	return 0;
}
