/* SPDX-License-Identifier: MIT */
/* test_har_import.c - HAR import: the files of tests/integration/data/har (Chrome, Firefox and
 * the other tools) import into flows with their fields; broken files import nothing and say
 * why; entries skipped or failed are counted and named; the walk and take steps alone. */
#define _GNU_SOURCE /* nftw() */
#include "har_fixture.h"

struct got {
	struct flow *v[64];
	int num;
};

static void on_emit(void *arg, enum flow_event ev, struct flow *f)
{
	struct got *g = arg;
	(void)ev;
	if (g->num < 64)
		g->v[g->num++] = f;
	else
		flow_free(f);
}

static void got_clear(struct got *g)
{
	for (int i = 0; i < g->num; i++)
		flow_free(g->v[i]);
	g->num = 0;
}

static long import_file(const char *name, struct got *g, struct har_skipped *skipped, char *err,
			size_t errlen)
{
	char *p = data_path(name);
	size_t len = 0;
	char *data = read_all(p, &len);
	free(p);
	if (!data) {
		snprintf(err, errlen, "cannot read %s", name);
		return -1;
	}
	long n = har_import(data, len, (struct flow_sink){.emit = on_emit, .arg = g}, skipped, err,
			    errlen);
	free(data);
	return n;
}

/* Imports the NUL-terminated doc into g, nothing skipped; returns har_import()'s count. */
static long import_doc(const char *doc, struct got *g)
{
	char err[256] = "";
	long n = har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = g}, NULL,
			    err, sizeof err);
	if (n < 0)
		fprintf(stderr, "har_import: %s\n", err);
	return n;
}

static const char *h(const struct flow_msg *m, const char *name)
{
	const struct flow_header *x = flow_msg_header(m, name);
	return x ? x->value : NULL;
}

static void test_import_chrome(void)
{
	struct got g = {0};
	char err[256] = "";
	struct har_skipped skipped = {99, NULL};
	long n = import_file("chrome.har", &g, &skipped, err, sizeof err);
	if (n < 0)
		fprintf(stderr, "chrome.har: %s\n", err);
	ok(n == 5);
	ok(skipped.num == 1); /* the data: URL */
	ok(skipped.list && strstr(skipped.list[0].reason, "scheme \"data\"") != NULL);
	har_skipped_clear(&skipped);
	ok(g.num == 5);
	if (g.num != 5)
		goto end;
	struct flow *f = g.v[0];
	ok(f->flags & FLOW_F_IMPORTED);
	ok(f->flags & FLOW_F_TLS);
	ok(f->state == FLOW_DONE);
	ok(f->kind == FLOW_HTTP);
	ok(strcmp(f->scheme, "https") == 0);
	ok(strcmp(f->host, "shop.example.com") == 0);
	ok(f->port == 443);
	ok(strcmp(f->path, "/?q=flow%20scope&lang=en") == 0);
	ok(strcmp(f->request.method, "GET") == 0);
	ok(strcmp(f->request.target, f->path) == 0);
	/* pseudo-headers dropped, :authority became Host, first */
	ok(strcmp(f->request.headers[0].name, "Host") == 0);
	ok(strcmp(f->request.headers[0].value, "shop.example.com") == 0);
	ok(h(&f->request, ":path") == NULL);
	ok(strcmp(h(&f->request, "cookie"), "sid=abc123; theme=dark") == 0);
	ok(f->response.present && f->response.status == 200);
	/* the body is gzip again, as its header says */
	ok(f->response.body.len >= 18 && (unsigned char)f->response.body.data[0] == 0x1f &&
	   (unsigned char)f->response.body.data[1] == 0x8b);
	ok(f->response.body_size == 110);
	/* timings: start .120, blocked 2.1, dns 12.5, connect 55.8 with ssl 30.2 */
	int64_t start = 1709633730120000LL;
	ok(f->t.start == start);
	ok(f->t.dns_done == start + 2100 + 12500);
	ok(f->t.connect_done == start + 2100 + 12500 + 55800 - 30200);
	ok(f->t.tls_done == start + 2100 + 12500 + 55800);
	ok(f->t.request_sent == f->t.tls_done + 300);
	ok(f->t.first_byte == f->t.request_sent + 150400);
	ok(f->t.end == f->t.first_byte + 33221);
	ok(strcmp(f->server_addr, "93.184.216.34:443") == 0);

	f = g.v[1];
	ok(strcmp(f->request.method, "POST") == 0);
	ok(f->request.body.len == 26 && memcmp(f->request.body.data, "{\"item\"", 7) == 0);
	ok(f->t.dns_done == 0 && f->t.connect_done == 0);
	ok(f->response.status == 201);
	ok(f->response.body.len > 0); /* brotli */

	f = g.v[2];
	ok(f->port == 8443);
	ok(f->response.body.len == 68 && memcmp(f->response.body.data, "\x89PNG", 4) == 0);
	ok(strcmp(f->server_addr, "[2001:db8::7]:8443") == 0);

	f = g.v[3];
	ok(f->state == FLOW_ERROR);
	ok(f->error && strcmp(f->error, "net::ERR_NAME_NOT_RESOLVED") == 0);
	ok(!f->response.present);
	ok(strcmp(f->host, "tracker.invalid") == 0);

	f = g.v[4];
	ok(f->flags & FLOW_F_WEBSOCKET);
	ok(strcmp(f->scheme, "https") == 0);
	ok(f->response.status == 101);
end:
	got_clear(&g);
}

static void test_import_firefox(void)
{
	const char *files[] = {"firefox.har", "firefox-bom.har"};
	for (int k = 0; k < 2; k++) {
		struct got g = {0};
		char err[256] = "";
		long n = import_file(files[k], &g, NULL, err, sizeof err);
		if (n < 0)
			fprintf(stderr, "%s: %s\n", files[k], err);
		ok(n == 5);
		if (g.num != 5) {
			got_clear(&g);
			continue;
		}
		struct flow *f = g.v[0];
		ok(strcmp(f->host, "intranet.example.org") == 0);
		ok(f->port == 8080);
		ok(strcmp(f->scheme, "http") == 0);
		ok(!(f->flags & FLOW_F_TLS));
		/* +01:00: 11:20:01.250+01:00 is 10:20:01.250Z */
		ok(f->t.start == 1709634001250000LL);
		ok(f->request.head_size == 371);
		ok(f->response.head_size == 214);
		ok(f->response.body.len > 0 && f->response.body.data[0] == 0x78); /* zlib */
		ok(f->response.body_size == f->response.body.len); /* bodySize -1: what we hold */
		f = g.v[1];
		ok(f->request.body.len == 37 &&
		   memcmp(f->request.body.data, "user=ann+smith&pass=caf%C3%A9%26co&x=", 37) == 0);
		ok(f->response.status == 302);
		ok(strcmp(h(&f->response, "Location"), "/home") == 0);
		f = g.v[2];
		ok(strcmp(f->path, "/logo.svg") == 0); /* fragment dropped */
		ok(f->response.status == 304 && f->response.body.len == 0);
		ok(strcmp(f->server_addr, "[2001:db8::1]:443") == 0);
		f = g.v[3];
		ok(f->response.body.len == 8 && memcmp(f->response.body.data, "wOF2", 4) == 0);
		f = g.v[4];
		ok(!f->response.present);
		ok(f->state == FLOW_DONE);
		got_clear(&g);
	}
	/* form params without text: the body is built from them */
	const char *doc =
	    "{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\","
	    "\"request\":{\"method\":\"POST\",\"url\":\"http://a.test/f\",\"headers\":[],"
	    "\"postData\":{\"mimeType\":\"application/x-www-form-urlencoded\",\"params\":["
	    "{\"name\":\"a b\",\"value\":\"\xc3\xa9&\"},{\"name\":\"c\"}]}},"
	    "\"response\":{\"status\":200,\"headers\":[]},\"time\":5}]}}";
	struct got g = {0};
	ok(import_doc(doc, &g) == 1);
	if (g.num == 1) {
		struct flow *f = g.v[0];
		ok(f->request.body.len == 16 &&
		   memcmp(f->request.body.data, "a+b=%C3%A9%26&c=", 16) == 0);
		ok(f->t.end == f->t.start + 5000); /* from "time" alone */
	}
	got_clear(&g);
}

static void test_import_broken(void)
{
	static const struct {
		const char *doc;
		const char *err;
	} cases[] = {
	    {"", "not JSON"},
	    {"{\"log\":{\"entries\":[", "not JSON"},
	    {"[]", "log missing"},
	    {"{\"log\":{}}", "log.entries missing"},
	    {"{\"log\":{\"entries\":{}}}", "log.entries missing or not an array"},
	    {"{\"log\":{\"entries\":[1]}}", "entry 1: not an object"},
#define OKE                                                                                        \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{\"method\":\"GET\","           \
	"\"url\":\"http://a.test/\",\"headers\":[]},\"response\":{\"status\":200,"                 \
	"\"headers\":[]}}"
	    {"{\"log\":{\"entries\":[" OKE "," OKE ",{\"startedDateTime\":\"2024-01-01T00:00:00Z\","
	     "\"request\":{\"method\":\"GET\",\"headers\":[]},\"response\":{\"status\":200,"
	     "\"headers\":[]}}]}}",
	     "entry 3: request.url missing"},
	    {"{\"log\":{\"entries\":[" OKE
	     ",{\"request\":{\"method\":\"GET\",\"url\":\"http://a/\","
	     "\"headers\":[]},\"response\":{\"status\":200,\"headers\":[]}}]}}",
	     "entry 2: startedDateTime missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"url\":\"http://a/"
	     "\",\"headers\":[]},\"response\":{\"status\":200,\"headers\":[]}}]}}",
	     "entry 1: request.method missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\"},\"response\":{\"status\":200,\"headers\":"
	     "[]}}]}}",
	     "entry 1: request.headers missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]},\"response\":{"
	     "\"status\":\"200\",\"headers\":[]}}]}}",
	     "entry 1: response.status missing or not an integer"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]},\"response\":{"
	     "\"status\":200}}]}}",
	     "entry 1: response.headers missing"},
	    {"\xff\xfe{\0", "UTF-16"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct got g = {0};
		char err[256] = "";
		size_t len = strlen(cases[i].doc);
		if (cases[i].doc[0] == '\xff')
			len = 4;
		long n =
		    har_import(cases[i].doc, len, (struct flow_sink){.emit = on_emit, .arg = &g},
			       NULL, err, sizeof err);
		ok(n == -1);
		ok(g.num == 0);
		ok(strstr(err, cases[i].err) != NULL);
		if (!strstr(err, cases[i].err))
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err,
				cases[i].err);
		got_clear(&g);
	}
	/* the UTF-16 sample file */
	struct got g = {0};
	char err[256] = "";
	ok(import_file("chrome-utf16.har", &g, NULL, err, sizeof err) == -1);
	ok(strstr(err, "UTF-16") != NULL);
	ok(g.num == 0);
	/* an empty log imports nothing, successfully */
	ok(har_import("{\"log\":{\"entries\":[]}}", 22,
		      (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err, sizeof err) == 0);
}

/* An entry flowscope cannot represent is skipped, with its position (from 0) and why, and
 * the entries around it are imported. */
static void test_import_skipped(void)
{
#define ENTRY(req, resp)                                                                           \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{" req "},\"response\":{" resp  \
	"}}"
#define GOODREQ "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]"
#define GOODRESP "\"status\":200,\"headers\":[]"
	static const struct {
		const char *entry;
		const char *reason;
	} cases[] = {
	    {ENTRY("\"method\":\"G T\",\"url\":\"http://a/\",\"headers\":[]", GOODRESP),
	     "request.method is not a valid method"},
	    {"{\"startedDateTime\":\"yesterday\",\"request\":{" GOODREQ "},\"response\":{" GOODRESP
	     "}}",
	     "startedDateTime is not an ISO 8601 date"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"name\":\"X\","
		   "\"value\":\"a\\r\\nEvil: 1\"}]",
		   GOODRESP),
	     "request.headers[0].value contains CR, LF or NUL"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"name\":\"a b\","
		   "\"value\":\"1\"}]",
		   GOODRESP),
	     "request.headers[0].name is not a valid header name"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a:99999/\",\"headers\":[]", GOODRESP),
	     "request.url has a bad port"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http:///\",\"headers\":[]", GOODRESP),
	     "request.url has no host"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"/relative\",\"headers\":[]", GOODRESP),
	     "request.url is not an absolute URL"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"blob:https://a/1\",\"headers\":[]", GOODRESP),
	     "request.url: scheme \"blob\" is not http(s) or ws(s)"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"\xc3\xa9x:y\",\"headers\":[]", GOODRESP),
	     "request.url: scheme \"??x\""},
	    {ENTRY(GOODREQ, "\"status\":200,\"headers\":[],\"content\":{\"text\":\"!!!\","
			    "\"encoding\":\"base64\"}"),
	     "response.content.text is not valid base64"},
	    {ENTRY(GOODREQ, "\"status\":200,\"headers\":[],\"content\":{\"text\":\"x\","
			    "\"encoding\":\"rot13\"}"),
	     "response.content: unknown encoding \"rot13\""},
	    {ENTRY(GOODREQ, "\"status\":42,\"headers\":[]"), "response.status 42 is out of range"},
	    {ENTRY(GOODREQ, "\"status\":-2,\"headers\":[]"), "response.status -2 is out of range"},
	    {ENTRY(GOODREQ, "\"status\":200,\"statusText\":\"OK\\r\\nX: 1\",\"headers\":[]"),
	     "response.statusText contains CR or LF"},
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"content\":{\"text\":\"hi\"}"),
	     "response.content has a body but no response.status"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *doc =
		    xasprintf("{\"log\":{\"entries\":[%s,%s,%s]}}", ENTRY(GOODREQ, GOODRESP),
			      cases[i].entry, ENTRY(GOODREQ, GOODRESP));
		struct got g = {0};
		struct har_skipped sk = {0};
		char err[256] = "";
		long n =
		    har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g},
			       &sk, err, sizeof err);
		ok(n == 2 && g.num == 2);
		ok(sk.num == 1 && sk.list && sk.list[0].index == 1);
		ok(sk.list && strstr(sk.list[0].reason, cases[i].reason) != NULL);
		if (n != 2 || !sk.list || !strstr(sk.list[0].reason, cases[i].reason))
			fprintf(stderr, "case %zu: got %ld \"%s\" \"%s\"\n", i, n, err,
				sk.list ? sk.list[0].reason : "");
		har_skipped_clear(&sk);
		got_clear(&g);
		free(doc);
	}
	/* more than HAR_SKIPS_LISTED: all counted, the first listed, in order */
	struct flow_buf b = {0};
	flow_buf_append(&b, "{\"log\":{\"entries\":[", 19);
	for (int i = 0; i < HAR_SKIPS_LISTED + 20; i++) {
		const char *e =
		    ENTRY("\"method\":\"GET\",\"url\":\"data:,x\",\"headers\":[]", GOODRESP);
		if (i)
			flow_buf_append(&b, ",", 1);
		flow_buf_append(&b, e, strlen(e));
	}
	flow_buf_append(&b, "]}}", 3);
	struct got g = {0};
	struct har_skipped sk = {0};
	char err[256] = "";
	ok(har_import(b.data, b.len, (struct flow_sink){.emit = on_emit, .arg = &g}, &sk, err,
		      sizeof err) == 0);
	ok(sk.num == HAR_SKIPS_LISTED + 20);
	ok(sk.list && sk.list[HAR_SKIPS_LISTED - 1].index == HAR_SKIPS_LISTED - 1);
	har_skipped_clear(&sk);
	ok(sk.num == 0 && !sk.list);
	flow_buf_clear(&b);
	/* a structural fault after a skipped entry still refuses the file, and lists nothing */
	const char *doc = "{\"log\":{\"entries\":[" ENTRY(
	    "\"method\":\"GET\",\"url\":\"data:,x\",\"headers\":[]",
	    GOODRESP) "," ENTRY("\"method\":\"GET\",\"headers\":[]", GOODRESP) "]}}";
	sk.num = 7;
	ok(har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g}, &sk, err,
		      sizeof err) == -1);
	ok(strstr(err, "entry 2: request.url missing") != NULL);
	ok(sk.num == 0 && !sk.list && g.num == 0);
}

/* A request that failed, as each tool records it, becomes an error flow with its text; no
 * response without a failure is a request still waiting (done, no response). */
static void test_import_failed(void)
{
	static const struct {
		const char *entry;
		int state;
		const char *error;
	} cases[] = {
	    /* Playwright: status -1 and _failureText */
	    {ENTRY(GOODREQ, "\"status\":-1,\"headers\":[],\"_failureText\":"
			    "\"net::ERR_CONNECTION_REFUSED\""),
	     FLOW_ERROR, "net::ERR_CONNECTION_REFUSED"},
	    /* Playwright: still waiting when the recording stopped */
	    {ENTRY(GOODREQ, "\"status\":-1,\"headers\":[]"), FLOW_DONE, NULL},
	    /* Chrome, mitmproxy */
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"_error\":\"net::ERR_FAILED\""),
	     FLOW_ERROR, "net::ERR_FAILED"},
	    /* mitmproxy without an error: "_error": null */
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"_error\":null"), FLOW_DONE, NULL},
	    /* the failure on the entry */
	    {"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"_error\":\"reset\",\"request\":"
	     "{" GOODREQ "},\"response\":{\"status\":0,\"headers\":[]}}",
	     FLOW_ERROR, "reset"},
	    /* Charles */
	    {ENTRY(GOODREQ, "\"_charlesStatus\":\"FAILED\",\"status\":0,\"headers\":[]"),
	     FLOW_ERROR, "Charles status FAILED"},
	    {ENTRY(GOODREQ, "\"_charlesStatus\":\"COMPLETE\",\"status\":200,\"statusText\":null,"
			    "\"headers\":[]"),
	     FLOW_DONE, NULL},
	    /* a failure with a malformed URL: its host may be empty */
	    {ENTRY("\"method\":\"GET\",\"url\":\"http:///x\",\"headers\":[]",
		   "\"status\":0,\"headers\":[],\"_error\":\"bad URL\""),
	     FLOW_ERROR, "bad URL"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *doc = xasprintf("{\"log\":{\"entries\":[%s]}}", cases[i].entry);
		struct got g = {0};
		char err[256] = "";
		long n =
		    har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g},
			       NULL, err, sizeof err);
		ok(n == 1 && g.num == 1);
		if (g.num == 1) {
			struct flow *f = g.v[0];
			ok((int)f->state == cases[i].state);
			ok(cases[i].error ? f->error && strcmp(f->error, cases[i].error) == 0
					  : f->error == NULL);
			ok(f->response.present ==
			   (strstr(cases[i].entry, "\"status\":200") != NULL));
		} else {
			fprintf(stderr, "case %zu: got %ld \"%s\"\n", i, n, err);
		}
		got_clear(&g);
		free(doc);
	}
	/* a CONNECT from another tool, in authority form, is a tunnel; Playwright's TLS details */
	static const char tunnel[] = ENTRY(
	    "\"method\":\"CONNECT\",\"url\":\"www.example.net:443\",\"headers\":[]", GOODRESP);
	static const char pw[] =
	    "{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"serverIPAddress\":\"192.0.2.9\","
	    "\"_serverPort\":8443,\"_securityDetails\":{\"protocol\":\"TLS 1.3\","
	    "\"subjectName\":\"a.test\",\"issuer\":\"Test CA\"},\"request\":{\"method\":"
	    "\"GET\",\"url\":\"https://a.test/\",\"headers\":[]},\"response\":{" GOODRESP "}}";
	char *doc = xasprintf("{\"log\":{\"entries\":[%s,%s]}}", tunnel, pw);
	struct got g = {0};
	ok(import_doc(doc, &g) == 2);
	if (g.num == 2) {
		struct flow *f = g.v[0];
		ok(f->kind == FLOW_TUNNEL);
		ok(strcmp(f->host, "www.example.net") == 0 && f->port == 443);
		ok(strcmp(f->request.target, "www.example.net:443") == 0);
		f = g.v[1];
		ok(f->tls.version && strcmp(f->tls.version, "TLS 1.3") == 0);
		ok(f->tls.cert_subject && strcmp(f->tls.cert_subject, "a.test") == 0);
		ok(f->tls.cert_issuer && strcmp(f->tls.cert_issuer, "Test CA") == 0);
		ok(strcmp(f->server_addr, "192.0.2.9:8443") == 0);
		ok(f->port == 443);
	}
	got_clear(&g);
	free(doc);
#undef ENTRY
#undef GOODREQ
#undef GOODRESP
}

/* What each tool writes (hand-made files in each one's shape, tests/integration/data/har):
 * every file imports, failed requests as error flows, what cannot be represented skipped. */
static void test_import_tools(void)
{
	static const struct {
		const char *file;
		long n;		    /* flows */
		size_t skipped;	    /* entries skipped */
		int error_at;	    /* the flow that failed, or -1 */
		const char *error;  /* its text */
		int no_response_at; /* a flow without response and error, or -1 */
	} files[] = {
	    {"playwright-chromium.har", 4, 0, 2, "net::ERR_CONNECTION_REFUSED", 3},
	    {"safari.har", 3, 1, -1, NULL, 2},
	    {"charles.har", 5, 0, 3, "Charles status FAILED", 2},
	    {"fiddler.har", 4, 0, -1, NULL, 1},
	    {"httptoolkit.har", 4, 0, -1, NULL, 2},
	    {"mitmproxy-savehar.har", 4, 0, 2, "Connection refused", -1},
	};
	for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
		struct got g = {0};
		struct har_skipped sk = {0};
		char err[256] = "";
		long n = import_file(files[k].file, &g, &sk, err, sizeof err);
		if (n != files[k].n)
			fprintf(stderr, "%s: %ld %s\n", files[k].file, n, err);
		ok(n == files[k].n && g.num == n);
		ok(sk.num == files[k].skipped);
		for (int i = 0; i < g.num; i++) {
			struct flow *f = g.v[i];
			ok((f->state == FLOW_ERROR) == (i == files[k].error_at));
			if (i == files[k].error_at)
				ok(f->error && strcmp(f->error, files[k].error) == 0 &&
				   !f->response.present);
			ok(f->response.present ==
			   (i != files[k].error_at && i != files[k].no_response_at));
		}
		har_skipped_clear(&sk);
		got_clear(&g);
	}
	/* details of a few */
	struct got g = {0};
	struct har_skipped sk = {0};
	char err[256] = "";
	if (import_file("playwright-chromium.har", &g, NULL, err, sizeof err) == 4) {
		struct flow *f = g.v[0];
		ok(strcmp(f->tls.version, "TLS 1.3") == 0);
		ok(strcmp(f->tls.cert_subject, "app.example.test") == 0);
		ok(strcmp(f->server_addr, "203.0.113.10:443") == 0);
		ok(strcmp(f->request.headers[0].name, "Host") == 0); /* from :authority */
		ok(strcmp(g.v[1]->request.method, "POST") == 0 && g.v[1]->request.body.len == 22);
	}
	got_clear(&g);
	if (import_file("safari.har", &g, &sk, err, sizeof err) == 3) {
		ok(sk.num == 1 && sk.list[0].index == 2 && strstr(sk.list[0].reason, "\"data\""));
		ok(g.v[1]->response.body.len == 70 &&
		   memcmp(g.v[1]->response.body.data, "\x89PNG", 4) == 0);
		/* gzip again, as its header says */
		ok((unsigned char)g.v[0]->response.body.data[0] == 0x1f);
	}
	har_skipped_clear(&sk);
	got_clear(&g);
	if (import_file("charles.har", &g, NULL, err, sizeof err) == 5) {
		ok(g.v[0]->response.status == 200 && strcmp(g.v[0]->response.reason, "") == 0);
		ok(h(&g.v[0]->response, ":status") == NULL);
		ok(g.v[1]->request.body.len == 23 &&
		   memcmp(g.v[1]->request.body.data, "user=demo&pass=hunter+2", 23) == 0);
		ok(g.v[2]->kind == FLOW_TUNNEL && strcmp(g.v[2]->host, "pinned.example.test") == 0);
		/* 11:00:00.123+01:00 */
		ok(g.v[0]->t.start == 1772445600123000LL);
	}
	got_clear(&g);
	if (import_file("fiddler.har", &g, NULL, err, sizeof err) == 4) {
		/* seven digits of fraction: microseconds kept, the rest dropped */
		ok(g.v[0]->t.start == 1772452800123456LL);
		ok(g.v[1]->kind == FLOW_TUNNEL && g.v[1]->port == 443);
		ok(g.v[2]->response.status == 502 && g.v[2]->state == FLOW_DONE);
	}
	got_clear(&g);
	if (import_file("httptoolkit.har", &g, NULL, err, sizeof err) == 4) {
		ok(g.v[1]->response.body.len == 0 && g.v[1]->response.body_size == 512000);
		ok(g.v[2]->request.body.len == 11);
		ok(g.v[3]->flags & FLOW_F_WEBSOCKET);
	}
	got_clear(&g);
	if (import_file("mitmproxy-savehar.har", &g, NULL, err, sizeof err) == 4) {
		ok(g.v[0]->request.body.len == 19); /* the text, not the params again */
		ok(g.v[0]->t.start == 1772460000123456LL);
		ok(strcmp(g.v[2]->host, "refused.example.test") == 0 && g.v[2]->port == 8081);
		ok(strcmp(g.v[3]->scheme, "https") == 0 && g.v[3]->response.status == 101);
	}
	got_clear(&g);
}

/* The document is walked entry by entry: the outer objects in any layout, every other value
 * still checked as JSON, a syntax error anywhere winning over an invalid entry (the file is
 * not JSON, whatever its entries), positions counted from the start of the file. */
static void test_import_walk(void)
{
#define OK1                                                                                        \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{\"method\":\"GET\","           \
	"\"url\":\"http://a.test/\",\"headers\":[]},\"response\":{\"status\":200,"                 \
	"\"headers\":[]}}"
	static const struct {
		const char *doc;
		long n;		 /* flows, or -1 */
		const char *err; /* part of the error when n is -1 */
	} cases[] = {
	    {"{\"log\":{\"entries\":[" OK1 "," OK1 "]}}", 2, NULL},
	    {" \r\n\t{ \"x\" : [1, {\"y\": null}] , \"log\" :\n{\"pages\": [{}], \"entries\" "
	     ":\n[ " OK1 " ] , \"z\": \"\\u00e9\" } }\n ",
	     1, NULL},
	    {"\xef\xbb\xbf{\"log\":{\"entries\":[]}}", 0, NULL},
	    {"{\"log\":{\"pages\":[1,],\"entries\":[" OK1 "]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 "]}} x", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 "]}}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 " " OK1 "]}}", -1, "not JSON"},
	    {"{\"log\" {\"entries\":[]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[]},}", -1, "not JSON"},
	    {"{\"a\\u0000b\":1,\"log\":{\"entries\":[]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[{}]}, \"tail\": tru}", -1, "not JSON"},
	    {"{\n\"log\":\n{\"entries\": [1 x]}}", -1, "not JSON: line 3"},
	    {"[{\"log\":{\"entries\":[]}}]", -1, "log missing or not an object"},
	    {"[1,", -1, "not JSON"},
	    {"\"log\"", -1, "not JSON"},
	    {"{\"log\":[]}", -1, "log missing or not an object"},
	    {"{\"log\":{\"entries\":[]},\"log\":{\"entries\":[]}}", -1, "log appears twice"},
	    {"{\"log\":{\"entries\":[],\"entries\":[]}}", -1, "log.entries appears twice"},
	    {"{\"log\":{\"entries\":[" OK1 ",{}," OK1 "]}}", -1, "entry 2: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct got g = {0};
		char err[256] = "";
		long n = har_import(cases[i].doc, strlen(cases[i].doc),
				    (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
				    sizeof err);
		ok(n == cases[i].n);
		ok(g.num == (n < 0 ? 0 : n));
		if (cases[i].err)
			ok(strstr(err, cases[i].err) != NULL);
		if (n != cases[i].n || (cases[i].err && !strstr(err, cases[i].err)))
			fprintf(stderr, "case %zu: got %ld \"%s\"\n", i, n, err);
		got_clear(&g);
	}
}

/* har_import_take(): the same import from a buffer it frees (ASan checks that it does, on
 * every path), and a cancel stops it with nothing emitted. */
static void test_import_take(void)
{
	static const char doc[] = "{\"log\":{\"entries\":[" OK1 "," OK1 "]}}";
	struct got g = {0};
	char err[256] = "";
	struct har_skipped skipped = {9, NULL};
	atomic_int cancel = 0;
	ok(har_import_take(xstrdup(doc), strlen(doc), &cancel,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, &skipped, err,
			   sizeof err) == 2);
	ok(g.num == 2 && skipped.num == 0 && !skipped.list);
	got_clear(&g);
	ok(har_import_take(xstrdup("{\"log\":5}"), 9, NULL,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strstr(err, "log missing") != NULL);
	ok(har_import_take(NULL, 0, NULL, (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strstr(err, "not JSON") != NULL);
	atomic_store(&cancel, 1);
	ok(har_import_take(xstrdup(doc), strlen(doc), &cancel,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strcmp(err, "cancelled") == 0);
	ok(g.num == 0);
#undef OK1
}

int main(void)
{
	if (har_fixture_start() != 0)
		return 1;
	subtest("import chrome", test_import_chrome);
	subtest("import firefox", test_import_firefox);
	subtest("import broken", test_import_broken);
	subtest("import skipped", test_import_skipped);
	subtest("import failed", test_import_failed);
	subtest("import each tool's file", test_import_tools);
	subtest("import walk", test_import_walk);
	subtest("import take", test_import_take);
	return har_fixture_end();
}
