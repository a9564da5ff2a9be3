/* SPDX-License-Identifier: MIT */
/* test_har_roundtrip.c - bodies encoded for HAR, and export -> import into an empty store ->
 * export giving the same entries, for the test flows and for the browsers' files. With
 * HAR_EXPORT_FILE set, the exports of the imported browser files are written beside it
 * (FILE.from-chrome.har, FILE.from-firefox.har), for tests/integration/data/har/validate.mjs. */
#define _GNU_SOURCE /* nftw() */
#include "har_fixture.h"

/* codec_encode_all(), which the import uses to store bodies as their Content-Encoding says:
 * what it writes decodes back (codec_decode_all()), chains applied in header order; an
 * unknown coding, or two without a comma, is refused. */
static void test_encode(void)
{
	static const char *const encs[] = {
	    "gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br", " identity ,zstd ,", "", NULL};
	size_t len = strlen(html);
	for (size_t i = 0; i < sizeof encs / sizeof *encs; i++) {
		char *out = NULL, *back = NULL;
		size_t out_len = 0, back_len = 0;
		ok(codec_encode_all(encs[i], html, len, &out, &out_len) == 0);
		ok(out &&
		   codec_decode_all(encs[i], out, out_len, 0, 1 << 20, &back, &back_len) == 0);
		ok(back && back_len == len && memcmp(back, html, len) == 0);
		free(out);
		free(back);
	}
	char *out = NULL;
	size_t out_len;
	ok(codec_encode_all("gzip br", html, len, &out, &out_len) == -1 && !out);
	ok(codec_encode_all("compress", html, len, &out, &out_len) == -1 && !out);
}

/* ---- round trip ---- */

static void test_round_trip(void)
{
	char *p1;
	int n;
	struct store *s1 = stored_flows("rt1.db", &p1, &n);
	json_t *d1, *d2;
	round_trip(p1, "rt2.db", n, NULL, &d1, &d2);
	ok(d1 && d2);
	json_t *e1 = entries_of(d1), *e2 = entries_of(d2);
	ok(json_array_size(e1) == json_array_size(e2));
	for (size_t i = 0; i < json_array_size(e1) && i < json_array_size(e2); i++) {
		int same = json_equal(json_array_get(e1, i), json_array_get(e2, i));
		ok(same);
		if (!same) {
			char *a = json_dumps(json_array_get(e1, i), JSON_COMPACT);
			char *b = json_dumps(json_array_get(e2, i), JSON_COMPACT);
			fprintf(stderr, "entry %zu differs:\n%s\n%s\n", i, a, b);
			free(a);
			free(b);
		}
	}
	json_decref(d1);
	json_decref(d2);
	store_close(s1);
	free(p1);
}

/* A browser's file: import, export (generation 1), import that, export (generation 2): the
 * two exports have the same entries. Returns generation 1 (caller json_decref()s). */
static json_t *browser_round_trip(const char *file, size_t want)
{
	char *p1;
	char *fp = data_path(file);
	size_t len;
	long n;
	char *data = read_all(fp, &len);
	free(fp);
	struct store *s1 = import_into("b1.db", &p1, data, len, (long)want, &n);
	free(data);
	json_t *d1, *d2;
	round_trip(p1, "b2.db", n,
		   strstr(file, "chrome") ? ".from-chrome.har" : ".from-firefox.har", &d1, &d2);
	ok(d1 && d2 && json_equal(entries_of(d1), entries_of(d2)));
	ok(json_array_size(entries_of(d1)) == want);
	json_decref(d2);
	store_close(s1);
	unlink(p1);
	free(p1);
	return d1;
}

static void test_round_trip_browsers(void)
{
	json_t *d = browser_round_trip("chrome.har", 5);
	if (d && json_array_size(entries_of(d)) == 5) {
		json_t *e = json_array_get(entries_of(d), 0);
		ok(strcmp(
		       sget(e, "response.content.text"),
		       "<!doctype html>\n<html><head><title>Shop \xc3\xa9t\xc3\xa9</title></head>"
		       "<body><p>Hello</p></body></html>\n") == 0);
		ok(strcmp(sget(e, "request.url"),
			  "https://shop.example.com/?q=flow%20scope&lang=en") == 0);
		ok(strcmp(hget(jget(e, "request.headers"), "Host"), "shop.example.com") == 0);
		ok(num(e, "timings.connect") == 55.8);
		ok(num(e, "timings.ssl") == 30.2);
		ok(num(e, "timings.dns") == 14.6); /* blocked has no field: it joins dns */
		ok(strcmp(sget(e, "serverIPAddress"), "93.184.216.34") == 0);
		e = json_array_get(entries_of(d), 2);
		ok(strcmp(sget(e, "serverIPAddress"), "2001:db8::7") == 0);
		ok(strcmp(sget(e, "response.content.encoding"), "base64") == 0);
		e = json_array_get(entries_of(d), 3);
		ok(strcmp(sget(e, "response._error"), "net::ERR_NAME_NOT_RESOLVED") == 0);
		e = json_array_get(entries_of(d), 4);
		ok(strcmp(sget(e, "request.url"), "wss://shop.example.com/live") == 0);
	}
	json_decref(d);
	/* each tool's file: what was imported exports and imports again the same */
	static const struct {
		const char *file;
		size_t n;
	} tools[] = {{"playwright-chromium.har", 4},
		     {"safari.har", 3},
		     {"charles.har", 5},
		     {"fiddler.har", 4},
		     {"httptoolkit.har", 4},
		     {"mitmproxy-savehar.har", 4}};
	for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
		json_decref(browser_round_trip(tools[i].file, tools[i].n));
	d = browser_round_trip("firefox.har", 5);
	if (d && json_array_size(entries_of(d)) == 5) {
		json_t *e = json_array_get(entries_of(d), 0);
		ok(strcmp(sget(e, "startedDateTime"), "2024-03-05T10:20:01.250Z") == 0);
		ok(strcmp(sget(e, "response.content.text"),
			  "<html><body><h1>Intranet</h1><p>Caf\xc3\xa9 menu</p></body></html>\n") ==
		   0);
		e = json_array_get(entries_of(d), 1);
		ok(strcmp(sget(e, "request.postData.text"),
			  "user=ann+smith&pass=caf%C3%A9%26co&x=") == 0);
		ok(strcmp(sget(e, "response.redirectURL"), "/home") == 0);
	}
	json_decref(d);
}

int main(void)
{
	if (har_fixture_start() != 0)
		return 1;
	subtest("body encoding", test_encode);
	subtest("round trip", test_round_trip);
	subtest("round trip of browser files", test_round_trip_browsers);
	return har_fixture_end();
}
