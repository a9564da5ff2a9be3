/* SPDX-License-Identifier: MIT */
/* bench_har.c - HAR export of many stored flows: time and peak memory.
 *
 *   bench_har [N [DIR]]   stores N generated flows (default 100000) in DIR/bench_har.db (DIR
 *                         default /tmp), then runs the export in a fresh process (this program
 *                         again, "--export DB"), so that the peak RSS measured is the export's
 *                         own and not the generator's (VmHWM from /proc: getrusage's
 *                         ru_maxrss survives execve() and would show the generator's peak).
 *   bench_har --export DB [OUT]  only the export, of an existing store (to file OUT when
 *                         given); run from a shell, its getrusage ru_maxrss is printed too.
 *   bench_har --import FILE  times har_import() of a HAR file (flows freed, not stored).
 *
 * The flows look like browsing traffic: ~10 request headers, ~8 response headers; bodies of
 * 1-4 KB, one in four gzip-compressed JSON (decoded for the HAR), one in eight binary (base64),
 * one in ten POST with a form body. The export goes to a writer that only counts bytes.
 */
#include "filter.h"
#include "flow.h"
#include "har.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Peak RSS of this process's own memory (kB), from /proc: unlike ru_maxrss, it starts anew at
 * execve() (ru_maxrss keeps the peak of the program that exec'd us). */
static long vmhwm_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (fp && fgets(line, sizeof line, fp))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (fp)
		fclose(fp);
	return kb;
}

static void hdr(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_header(m, name, strlen(name), value, strlen(value));
}

static struct flow *gen_flow(unsigned i, const char *gz, size_t gz_len, const char *text,
			     size_t text_len)
{
	struct flow *f = flow_new();
	char buf[256];
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	int tls = i % 3 != 0;
	f->flags = tls ? FLOW_F_TLS : 0;
	f->scheme = xstrdup(tls ? "https" : "http");
	snprintf(buf, sizeof buf, "host%u.example.com", i % 97);
	f->host = xstrdup(buf);
	f->port = tls ? 443 : 80;
	snprintf(buf, sizeof buf, "/api/v1/items/%u?page=%u&sort=name&q=flow%%20scope", i, i % 50);
	f->path = xstrdup(buf);
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:%u", 30000 + i % 30000);
	snprintf(f->server_addr, sizeof f->server_addr, "10.0.%u.%u:%u", i % 250, i % 200 + 1,
		 (unsigned)f->port);
	struct flow_msg *rq = &f->request, *rs = &f->response;
	rq->present = rs->present = 1;
	rq->version = rs->version = 11;
	int post = i % 10 == 0;
	rq->method = xstrdup(post ? "POST" : "GET");
	rq->target = xstrdup(f->path);
	hdr(rq, "Host", f->host);
	hdr(rq, "User-Agent",
	    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123");
	hdr(rq, "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
	hdr(rq, "Accept-Language", "en-US,en;q=0.5");
	hdr(rq, "Accept-Encoding", "gzip, deflate, br");
	hdr(rq, "Referer", "https://www.example.com/start");
	hdr(rq, "Cookie", "session=0123456789abcdef; theme=dark; consent=yes");
	hdr(rq, "Connection", "keep-alive");
	hdr(rq, "Sec-Fetch-Mode", "cors");
	if (post) {
		hdr(rq, "Content-Type", "application/x-www-form-urlencoded");
		const char *form = "name=ann+smith&email=ann%40example.com&comment=hello+world";
		flow_msg_add_body(rq, form, strlen(form), 1 << 20);
	}
	rq->head_size = 520;
	rs->status = i % 20 == 0 ? 404 : 200;
	rs->reason = xstrdup(rs->status == 200 ? "OK" : "Not Found");
	hdr(rs, "Server", "nginx/1.22.1");
	hdr(rs, "Date", "Sun, 22 Nov 2026 14:00:00 GMT");
	hdr(rs, "Cache-Control", "no-cache");
	hdr(rs, "Set-Cookie", "last=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly");
	hdr(rs, "X-Request-Id", "5f3c2a1b-9d8e-4f7a-b6c5-d4e3f2a1b0c9");
	if (i % 4 == 0) {
		hdr(rs, "Content-Type", "application/json");
		hdr(rs, "Content-Encoding", "gzip");
		flow_msg_add_body(rs, gz, gz_len, 1 << 20);
	} else if (i % 8 == 1) {
		hdr(rs, "Content-Type", "image/png");
		char bin[1024];
		for (size_t k = 0; k < sizeof bin; k++)
			bin[k] = (char)((k * 131 + i) & 0xff);
		flow_msg_add_body(rs, bin, sizeof bin, 1 << 20);
	} else {
		hdr(rs, "Content-Type", "text/html; charset=utf-8");
		size_t n = 1024 + (i % 4) * 1024;
		flow_msg_add_body(rs, text, n < text_len ? n : text_len, 1 << 20);
	}
	rs->head_size = 310;
	int64_t t0 = 1767225600000000LL + (int64_t)i * 1000;
	f->t.start = t0;
	if (i % 5 == 0) {
		f->t.dns_done = t0 + 1200;
		f->t.connect_done = t0 + 3400;
		if (tls)
			f->t.tls_done = t0 + 9800;
	}
	f->t.request_sent = t0 + 10000;
	f->t.first_byte = t0 + 35000;
	f->t.end = t0 + 36500;
	return f;
}

struct out {
	size_t bytes;
	FILE *fp; /* NULL: only count */
};

static int on_count(void *arg, const char *data, size_t len)
{
	struct out *o = arg;
	o->bytes += len;
	return o->fp && fwrite(data, 1, len, o->fp) != len;
}

static void on_flow(void *arg, enum flow_event ev, struct flow *f)
{
	(void)ev;
	++*(long *)arg;
	flow_free(f);
}

/* Times har_import() of a file into a sink that frees each flow. */
static int run_import(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		return 1;
	}
	struct flow_buf b = {0};
	char chunk[1 << 16];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		flow_buf_append(&b, chunk, n);
	fclose(fp);
	long hwm0 = vmhwm_kb(), flows = 0;
	char err[256] = "";
	double t0 = now_s(), c0 = cpu_s();
	long got = har_import(b.data, b.len, (struct flow_sink){.emit = on_flow, .arg = &flows},
			      NULL, err, sizeof err);
	double dt = now_s() - t0, dc = cpu_s() - c0;
	if (got < 0) {
		fprintf(stderr, "bench_har: import: %s\n", err);
		return 1;
	}
	printf("import: %ld flows from %.1f MB in %.2f s wall, %.2f s CPU; peak RSS %ld MB "
	       "(%ld MB with the file read)\n",
	       got, (double)b.len / 1e6, dt, dc, vmhwm_kb() / 1024, hwm0 / 1024);
	flow_buf_clear(&b);
	return 0;
}

static int run_export(const char *db, const char *out_path, int exec_d)
{
	char err[256] = "";
	long hwm0 = vmhwm_kb();
	struct store_reader *r = store_reader_open(db, err, sizeof err);
	if (!r) {
		fprintf(stderr, "bench_har: %s\n", err);
		return 1;
	}
	struct out o = {0, out_path ? fopen(out_path, "wb") : NULL};
	double t0 = now_s(), c0 = cpu_s();
	int rc = har_export(r, NULL, on_count, &o, err, sizeof err);
	size_t bytes = o.bytes;
	if (o.fp)
		fclose(o.fp);
	double dt = now_s() - t0, dc = cpu_s() - c0;
	store_reader_close(r);
	if (rc != 0) {
		fprintf(stderr, "bench_har: export: %s\n", err);
		return 1;
	}
	printf("export: %.2f s wall, %.2f s CPU, %.1f MB of HAR (%.1f MB/s of CPU)\n", dt, dc,
	       (double)bytes / 1e6, (double)bytes / 1e6 / dc);
	printf("export: peak RSS %ld MB (VmHWM; %ld MB at start)", vmhwm_kb() / 1024, hwm0 / 1024);
	if (exec_d)
		printf("\n");
	else
		printf(", getrusage ru_maxrss %ld MB\n", maxrss_kb() / 1024);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--export") == 0)
		return run_export(argv[2], argc > 3 && strcmp(argv[3], "-") ? argv[3] : NULL,
				  argc > 4);
	if (argc == 3 && strcmp(argv[1], "--import") == 0)
		return run_import(argv[2]);
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char *db = xasprintf("%s/bench_har.db", dir);
	char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
	unlink(db);
	unlink(wal);
	unlink(shm);

	/* Bodies shared by all flows. */
	size_t text_len = 4096;
	char *text = xmalloc(text_len);
	for (size_t k = 0; k < text_len; k++)
		text[k] = "<p>flowscope har bench \xc3\xa9t\xc3\xa9</p>\n"[k % 33];
	char json[2048];
	size_t jl = 0;
	jl += (size_t)snprintf(json + jl, sizeof json - jl, "{\"items\":[");
	for (int k = 0; k < 40; k++)
		jl += (size_t)snprintf(json + jl, sizeof json - jl,
				       "%s{\"id\":%d,\"name\":\"item\"}", k ? "," : "", k);
	jl += (size_t)snprintf(json + jl, sizeof json - jl, "]}");
	uLongf gz_cap = compressBound((uLong)jl) + 32;
	char *gz = xmalloc(gz_cap);
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)json;
	z.avail_in = (uInt)jl;
	z.next_out = (Bytef *)gz;
	z.avail_out = (uInt)gz_cap;
	deflate(&z, Z_FINISH);
	size_t gz_len = z.total_out;
	deflateEnd(&z);

	char err[256] = "";
	struct store *s = store_open(db, NULL, err, sizeof err);
	if (!s) {
		fprintf(stderr, "bench_har: %s\n", err);
		return 1;
	}
	struct flow_sink sink = store_sink(s);
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		sink.emit(sink.arg, FLOW_EV_END, gen_flow(i, gz, gz_len, text, text_len));
		if (i % 5000 == 4999) {
			struct store_stats st;
			for (store_get_stats(s, &st); st.queued > 20000; store_get_stats(s, &st))
				usleep(2000);
		}
	}
	store_close(s); /* commits what is queued */
	printf("stored %u flows in %.2f s\n", n, now_s() - t0);
	free(text);
	free(gz);
	fflush(stdout);

	char *self = xasprintf("/proc/%d/exe", (int)getpid());
	execl(self, argv[0], "--export", db, "-", "exec", (char *)NULL);
	perror("bench_har: exec");
	return 1;
}
