// SPDX-License-Identifier: MIT
// store.test.mjs - static/js/store.js: pages, live messages with and without a filter, the
// head reconciliation of filtered lists, resets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createStore } from "../../static/js/store.js";

const f = (id, extra = {}) => ({ id, state: "done", method: "GET", host: "h", path: "/" + id,
	...extra });
const page = (ids, total) => ({ flows: ids.map((id) => f(id)), total: total ?? ids.length });

test("pages load newest first and complete", () => {
	const s = createStore();
	const seen = [];
	s.subscribe((w) => seen.push(w));
	s.reset(page([10, 9, 8], 5), "", 3);
	assert.deepEqual(s.ids, [10, 9, 8]);
	assert.equal(s.complete, false);
	assert.equal(s.total, 5);
	s.appendPage(page([7, 6], 5), 3);
	assert.deepEqual(s.ids, [10, 9, 8, 7, 6]);
	assert.equal(s.complete, true);
	assert.equal(s.at(3).id, 7);
	assert.equal(s.indexOf(6), 4);
	assert.equal(s.indexOf(5), -1);
	assert.deepEqual(seen.slice(0, 2), ["reset", "rows"]);
});

test("live messages without a filter", () => {
	const s = createStore();
	s.reset(page([5, 4], 10), "", 2); // more exist below 4
	assert.equal(s.apply({ type: "flow", action: "add", flow: f(6) }), false);
	assert.deepEqual(s.ids, [6, 5, 4]);
	assert.equal(s.total, 11);
	s.apply({ type: "flow", action: "update", flow: f(5, { status: 200 }) });
	assert.equal(s.get(5).status, 200);
	// an update of a flow below what is loaded is not pulled in
	s.apply({ type: "flow", action: "update", flow: f(2, { status: 500 }) });
	assert.equal(s.get(2), undefined);
	// out-of-order adds land in place
	s.apply({ type: "flow", action: "add", flow: f(8) });
	s.apply({ type: "flow", action: "add", flow: f(7) });
	assert.deepEqual(s.ids, [8, 7, 6, 5, 4]);
	s.apply({ type: "flow", action: "remove", flow: { id: 6 } });
	assert.deepEqual(s.ids, [8, 7, 5, 4]);
	assert.equal(s.total, 12);
	s.apply({ type: "flow", action: "remove", flow: { id: 1 } }); // not loaded, but counted
	assert.equal(s.total, 11);
	// junk is ignored
	for (const junk of [null, 1, "x", {}, { type: "flow" }, { type: "flow", flow: { id: "1" } }])
		assert.equal(s.apply(junk), false);
	assert.deepEqual(s.ids, [8, 7, 5, 4]);
});

test("reset message empties the list", () => {
	const s = createStore();
	s.reset(page([3, 2, 1]), "", 10);
	const seen = [];
	s.subscribe((w) => seen.push(w));
	assert.equal(s.apply({ type: "reset" }), true);
	assert.equal(s.length, 0);
	assert.equal(s.total, 0);
	assert.deepEqual(seen, ["reset", "rows"]);
});

test("a filtered list asks for its head and reconciles it", () => {
	const s = createStore();
	s.reset(page([9, 7, 5, 3], 6), "~c 200", 4);
	assert.equal(s.apply({ type: "flow", action: "add", flow: f(10) }), true);
	assert.equal(s.needsHead, true);
	assert.equal(s.get(10), undefined); // the server decides whether it matches
	s.apply({ type: "flow", action: "update", flow: f(7, { status: 404 }) });
	assert.equal(s.get(7).status, 404);
	// the server now says: 11 and 10 match, 9 matches, 7 no longer does
	s.reconcileHead({ flows: [f(11), f(10), f(9), f(5)], total: 7 }, 4);
	assert.deepEqual(s.ids, [11, 10, 9, 5, 3]);
	assert.equal(s.total, 7);
	assert.equal(s.needsHead, false);
	// a short head page covers everything
	s.reconcileHead({ flows: [f(11), f(3)], total: 2 }, 4);
	assert.deepEqual(s.ids, [11, 3]);
	assert.equal(s.complete, true);
	// removals apply directly
	s.apply({ type: "flow", action: "remove", flow: { id: 3 } });
	assert.deepEqual(s.ids, [11]);
});

test("an empty snapshot is complete and takes adds", () => {
	const s = createStore();
	s.reset({ flows: [], total: 0 }, "", 200);
	assert.equal(s.complete, true);
	s.apply({ type: "flow", action: "add", flow: f(1) });
	s.apply({ type: "flow", action: "update", flow: f(1, { state: "done", status: 204 }) });
	assert.deepEqual(s.ids, [1]);
	assert.equal(s.get(1).status, 204);
	assert.equal(s.total, 1);
});

test("trim keeps the newest rows and reopens the end", () => {
	const s = createStore();
	s.reset(page([6, 5, 4, 3, 2, 1]), "", 10);
	assert.equal(s.complete, true);
	assert.equal(s.trim(10), 0);
	assert.equal(s.trim(2), 4);
	assert.deepEqual(s.ids, [6, 5]);
	assert.equal(s.complete, false);
	assert.equal(s.get(3), undefined);
	assert.equal(s.total, 6);
	s.appendPage(page([4, 3, 2, 1]), 10);
	assert.deepEqual(s.ids, [6, 5, 4, 3, 2, 1]);
});

test("a local removal is not counted twice when the server's message follows", () => {
	const s = createStore();
	s.reset(page([5, 4, 3], 10), "", 3);
	s.remove(3);
	assert.deepEqual(s.ids, [5, 4]);
	assert.equal(s.total, 9);
	s.apply({ type: "flow", action: "remove", flow: { id: 3 } });
	assert.equal(s.total, 9);
	s.apply({ type: "flow", action: "remove", flow: { id: 1 } });
	assert.equal(s.total, 8);
});
