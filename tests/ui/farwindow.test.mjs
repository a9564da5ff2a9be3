// SPDX-License-Identifier: MIT
// farwindow.test.mjs - static/js/farwindow.js: rows held at their positions, shifted by flows
// added and removed above them, kept current by updates, and a filtered list's rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFarWindow } from "../../static/js/farwindow.js";

const f = (id, extra = {}) => ({ id, state: "done", ...extra });
const msg = (action, id, extra) => ({ type: "flow", action, flow: f(id, extra) });

test("rows at their positions", () => {
	const w = createFarWindow();
	w.set(1000, [f(50), f(49), f(47)]);
	assert.equal(w.at(1000).id, 50);
	assert.equal(w.at(1002).id, 47);
	assert.equal(w.at(999), undefined);
	assert.equal(w.at(1003), undefined);
	assert.equal(w.indexOf(49), 1001);
	assert.equal(w.indexOf(48), -1);
});

test("without a filter: adds and removes above shift, updates replace, removes inside close up", () => {
	const w = createFarWindow();
	w.set(100, [f(50), f(49), f(47)]);
	assert.equal(w.apply(msg("add", 90), false), true);
	assert.equal(w.position, 101);
	assert.equal(w.apply(msg("remove", 80), false), true);
	assert.equal(w.position, 100);
	assert.equal(w.apply(msg("remove", 10), false), false, "below: nothing moves");
	assert.equal(w.position, 100);
	w.apply(msg("update", 49, { status: 404 }), false);
	assert.equal(w.at(101).status, 404);
	w.apply(msg("remove", 49), false);
	assert.deepEqual([w.at(100).id, w.at(101).id, w.length], [50, 47, 2]);
	w.apply({ type: "reset" }, false);
	assert.equal(w.length, 0);
});

test("with a filter: only held rows change; the caller shifts", () => {
	const w = createFarWindow();
	w.set(10, [f(50), f(49)]);
	assert.equal(w.apply(msg("add", 90), true), false);
	assert.equal(w.position, 10);
	w.apply(msg("update", 50, { status: 500 }), true);
	assert.equal(w.at(10).status, 500);
	w.shift(3);
	assert.equal(w.indexOf(49), 14);
	w.shift(-100);
	assert.equal(w.position, 0);
});
