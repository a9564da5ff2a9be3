/* SPDX-License-Identifier: MIT */
/* test_har_flags.c - the user's edit marks in HAR: a flow edited by the user (FLOW_F_MODIFIED)
 * or made as a copy (FLOW_F_DUPLICATE) is exported with _flowscope.modified / .duplicate true,
 * and an import gives them back (to the stored flow, so a second export says the same); a flow
 * with neither has neither member; "false" or a value that is not a boolean is no mark. */
#define _GNU_SOURCE /* nftw() */
#include "har_fixture.h"

#include "harext.h"

/* The entry of doc whose request URL ends with path, or NULL. */
static json_t *entry_for(json_t *doc, const char *path)
{
	json_t *es = entries_of(doc);
	for (size_t i = 0; i < json_array_size(es); i++) {
		const char *url = sget(json_array_get(es, i), "request.url");
		size_t ul = url ? strlen(url) : 0, pl = strlen(path);
		if (ul >= pl && strcmp(url + ul - pl, path) == 0)
			return json_array_get(es, i);
	}
	return NULL;
}

/* Emits the flows: /edited (modified, marked), /copy (duplicate), /plain (neither). */
static int make_marked(struct flow_sink sink)
{
	static const struct {
		const char *path;
		unsigned flags;
	} fl[] = {{"/edited", FLOW_F_MODIFIED | FLOW_F_MARKED},
		  {"/copy", FLOW_F_DUPLICATE},
		  {"/plain", 0}};
	for (size_t i = 0; i < sizeof fl / sizeof *fl; i++) {
		struct flow *f =
		    http_flow("http", "example.com", 80, "GET", fl[i].path, T0 + (int64_t)i * 1000);
		f->flags = fl[i].flags;
		hdr(&f->request, "Host", "example.com");
		respond(f, 200, "OK");
		sink.emit(sink.arg, FLOW_EV_END, f);
	}
	return (int)(sizeof fl / sizeof *fl);
}

/* The marks of the three entries of doc as expected; generation names the export. */
static void check_doc(json_t *doc, const char *generation)
{
	json_t *ed = entry_for(doc, "/edited"), *cp = entry_for(doc, "/copy");
	json_t *pl = entry_for(doc, "/plain");
	ok(ed && cp && pl);
	ok(json_is_true(jget(ed, "_flowscope.modified")));
	ok(!jget(ed, "_flowscope.duplicate"));
	ok(json_is_true(jget(cp, "_flowscope.duplicate")));
	ok(!jget(cp, "_flowscope.modified"));
	ok(!jget(pl, "_flowscope.modified") && !jget(pl, "_flowscope.duplicate"));
	/* the integer flags keep their own bits only */
	json_int_t f = json_integer_value(jget(ed, "_flowscope.flags"));
	ok(f == FLOW_F_MARKED);
	if (f != FLOW_F_MARKED)
		fprintf(stderr, "%s export: _flowscope.flags %lld\n", generation, (long long)f);
}

/* Export -> import into an empty store -> export: the marks survive. */
static void test_round_trip(void)
{
	char *p1;
	struct store *s1 = open_store("flags1.db", &p1);
	int n = make_marked(store_sink(s1));
	wait_stored(s1, (uint64_t)n);
	json_t *d1, *d2;
	round_trip(p1, "flags2.db", n, NULL, &d1, &d2);
	ok(d1 != NULL);
	check_doc(d1, "first");
	ok(d2 != NULL);
	check_doc(d2, "second"); /* read from the second store: the import stored the marks */
	json_decref(d1);
	json_decref(d2);
	store_close(s1);
	free(p1);
}

/* harext_read(): true sets, false and other types clear, a missing member clears. */
static void test_read(void)
{
	static const struct {
		const char *json;
		unsigned want;
	} cases[] = {
	    {"{\"modified\": true}", FLOW_F_MODIFIED},
	    {"{\"duplicate\": true, \"modified\": true}", FLOW_F_MODIFIED | FLOW_F_DUPLICATE},
	    {"{\"modified\": false, \"duplicate\": 1}", 0},
	    {"{\"modified\": \"yes\", \"duplicate\": null}", 0},
	    {"{\"flags\": 96}", 0}, /* the marks are not read from the integer */
	    {"{}", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_t *p = json_loads(cases[i].json, 0, NULL);
		struct flow *f = flow_new();
		f->flags = FLOW_F_IMPORTED | FLOW_F_MODIFIED | FLOW_F_DUPLICATE;
		int rq = 0, rs = 0;
		harext_read(p, f, &rq, &rs);
		unsigned marks = f->flags & (FLOW_F_MODIFIED | FLOW_F_DUPLICATE);
		ok(marks == cases[i].want && (f->flags & FLOW_F_IMPORTED));
		if (marks != cases[i].want)
			fprintf(stderr, "%s: marks %#x, want %#x\n", cases[i].json, marks,
				cases[i].want);
		flow_free(f);
		json_decref(p);
	}
}

int main(void)
{
	if (har_fixture_start() != 0)
		return 1;
	test_round_trip();
	test_read();
	return har_fixture_end();
}
