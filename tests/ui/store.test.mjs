// SPDX-License-Identifier: MIT
// store.test.mjs - static/js/store.js: pages, live messages with and without a filter, the
// head reconciliation of filtered lists, resets; and, with static/js/stream.js over a fake
// WebSocket, the order of pages and messages that arrive while a page travels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createStore } from "../../static/js/store.js";
import { EventStream } from "../../static/js/stream.js";

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
	// no head fetch: the stream reloads the list with a snapshot after a reset
	assert.equal(s.apply({ type: "reset" }), false);
	assert.equal(s.needsHead, false);
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

// The ordering a browser test run recorded (ids from it): a clear's reset message, the stream's
// snapshot, live adds, then one add (162) that came while a head page was being fetched - the
// page the server had read before 162 was stored. The page must not take 162 away: a list
// without a filter changes only by its messages and the stream's snapshots.
test("a flow that arrives while the list reloads after a reset is kept", () => {
	const s = createStore();
	s.reset(page([156, 155]), "", 200);
	// What app.js does with each message: apply it, and fetch the head when asked to.
	let headWanted = s.apply({ type: "reset" });
	s.reset({ flows: [], total: 0 }, "", 200); // the stream's snapshot after the reset
	for (const id of [157, 158, 159, 160, 161])
		headWanted = s.apply({ type: "flow", action: "add", flow: f(id) }) || headWanted;
	const head = headWanted ? page([161, 160, 159, 158, 157]) : null; // read by the server now
	s.apply({ type: "flow", action: "add", flow: f(162) }); // the head page is still on its way
	if (head)
		s.reconcileHead(head, 200);
	s.apply({ type: "flow", action: "add", flow: f(163) });
	assert.deepEqual(s.ids, [163, 162, 161, 160, 159, 158, 157]);
	assert.equal(s.total, 7);
});

// ---- the store behind the event stream (stream.js), wired as app.js wires them ----

// A WebSocket that the test drives: open() and send(msg) as if from the server.
class FakeSocket {
	static last = null;
	constructor(url) {
		this.url = url;
		FakeSocket.last = this;
	}
	open() { this.onopen(); }
	send(msg) { this.onmessage({ data: JSON.stringify(msg) }); }
	close() { /* the test ends it */ }
}

// A fetch that the test answers: get() returns a promise, answer(value) settles the oldest.
function fakeServer() {
	const waiting = [];
	return {
		get: () => new Promise((resolve) => waiting.push(resolve)),
		answer(value) { waiting.shift()(value); },
		get pending() { return waiting.length; },
	};
}

const tick = () => new Promise((r) => setImmediate(r));
const add = (id, extra) => ({ type: "flow", action: "add", flow: f(id, extra) });
const update = (id, extra) => ({ type: "flow", action: "update", flow: f(id, extra) });

// The store, the stream and a server; head() and more() fetch the way app.js does.
async function live(snapshot) {
	globalThis.WebSocket = FakeSocket;
	const s = createStore(), server = fakeServer();
	let headAsked = 0;
	const stream = new EventStream("ws://test/api/events", {
		snapshot: async () => s.reset(await server.get(), "", 200),
		message: (msg) => { if (s.apply(msg)) headAsked++; },
		state: () => {},
	});
	stream.start();
	FakeSocket.last.open();
	server.answer(snapshot);
	await tick();
	return {
		s, stream, server, ws: FakeSocket.last,
		get headAsked() { return headAsked; },
		head: () => stream.hold(async () => s.reconcileHead(await server.get(), 200)),
		more: () => stream.hold(async () => s.appendPage(await server.get(), 200)),
		newFilter: (expr) => stream.hold(async () => s.reset(await server.get(), expr, 200)),
	};
}

test("stream: a reset reloads the list, and adds that come meanwhile are kept", async () => {
	const t = await live(page([156, 155]));
	t.ws.send({ type: "reset" });
	assert.equal(t.s.length, 0);
	t.ws.send(add(157)); // while the snapshot travels (the server read it before 157)
	t.server.answer({ flows: [], total: 0 });
	await tick();
	assert.deepEqual(t.s.ids, [157]);
	for (const id of [158, 159])
		t.ws.send(add(id));
	assert.equal(t.headAsked, 0); // nothing else fetches the list of an unfiltered view
	assert.deepEqual(t.s.ids, [159, 158, 157]);
	assert.equal(t.s.total, 3);
	t.stream.stop();
});

test("stream: messages that come while a filtered head loads apply after it", async () => {
	const t = await live(page([9, 7], 2));
	t.ws.send({ type: "reset" });
	t.server.answer(page([9, 7], 2));
	await tick();
	const filtered = t.newFilter("~c 200");
	t.ws.send(add(10)); // the filter's page was read before 10
	t.server.answer(page([9], 1));
	await filtered;
	assert.equal(t.s.filter, "~c 200");
	assert.equal(t.s.needsHead, true, "10 may match: the head must be fetched again");
	const asked = t.headAsked;
	assert.ok(asked > 0);
	// the head refresh: an update of 10 comes while it travels, after the server read it
	const head = t.head();
	t.ws.send(update(10, { status: 200 }));
	t.server.answer(page([10, 9], 2));
	await head;
	assert.deepEqual(t.s.ids, [10, 9]);
	assert.equal(t.s.get(10).status, 200, "the update came after the page: it wins");
	assert.equal(t.s.needsHead, true, "and it asks for the head once more");
	assert.equal(t.headAsked, asked + 1);
	t.stream.stop();
});

test("stream: an older page does not undo an update that came while it loaded", async () => {
	const t = await live(page(Array.from({ length: 200 }, (_, i) => 400 - i), 300));
	assert.equal(t.s.complete, false);
	const more = t.more();
	t.ws.send(update(150, { state: "done", status: 200 })); // was pending when the page was read
	t.ws.send(add(401));
	const older = Array.from({ length: 100 }, (_, i) => f(200 - i, { state: "pending" }));
	t.server.answer({ flows: older, total: 301 });
	await more;
	assert.equal(t.s.get(150).status, 200);
	assert.equal(t.s.get(150).state, "done");
	assert.equal(t.s.at(0).id, 401);
	assert.equal(t.s.length, 301);
	t.stream.stop();
});

test("stream: a snapshot that comes after its socket closed is left to the next one", async () => {
	const t = await live(page([1]));
	t.ws.send({ type: "reset" });
	t.ws.send(add(2)); // queued: the snapshot is on its way
	t.ws.onclose({ code: 1006 });
	t.stream.connect(); // what the retry timer does
	const fresh = FakeSocket.last;
	const errors = [];
	const onError = (e) => errors.push(e);
	process.on("unhandledRejection", onError);
	t.server.answer(page([2, 1])); // the old socket's snapshot
	await tick();
	fresh.open();
	fresh.send(add(3));
	t.server.answer(page([2, 1]));
	await tick();
	process.off("unhandledRejection", onError);
	assert.deepEqual(errors, []);
	assert.deepEqual(t.s.ids, [3, 2, 1]);
	t.stream.stop();
});
