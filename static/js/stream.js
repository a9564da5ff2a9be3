// SPDX-License-Identifier: MIT
// stream.js - the one WebSocket to /api/events, with reconnection.
//
// States: connecting -> loading (socket open, snapshot being fetched; messages are queued)
// -> live (queued messages replayed, then each applied as it comes) -> reconnecting (socket
// closed; retried with exponential backoff, 0.5 s doubling to 5 s, with jitter: flowscope is
// local, so a restart is seen within seconds) -> connecting.
// A {"type":"reset"} message (store cleared, or this client fell behind) fetches the snapshot
// again the same way. Every other page the list loads (a new filter, the head of a filtered
// list, an older page) is fetched under hold(), which queues messages the same way until the
// page is applied. So a page, which shows the server as it was when it read it, never
// overwrites a change whose message came while it travelled: the message is applied after it.
// This is mitmweb's activeFetches/queueOrDispatch without Redux.

const MIN_DELAY = 500, MAX_DELAY = 5000, MAX_QUEUE = 20000;

export class EventStream {
	/**
	 * @param {string} url                      the ws:// URL
	 * @param {object} h
	 * @param {() => Promise<void>} h.snapshot  loads the list from scratch
	 * @param {(msg: object) => void} h.message applies one message
	 * @param {(state: string, detail?: string) => void} h.state  connection state changes
	 */
	constructor(url, h) {
		this.url = url;
		this.h = h;
		this.ws = null;
		this.queue = null;      // non-null while a snapshot or a held page loads: messages wait
		this.loading = false;   // a snapshot is being fetched
		this.holds = 0;         // pages being fetched under hold()
		this.delay = MIN_DELAY;
		this.timer = 0;
		this.stopped = false;
		this.generation = 0;    // bumps on each snapshot so a stale one is not applied twice
		this.received = 0;      // messages received (for the status bar and benchmarks)
		this.resyncs = 0;       // snapshots loaded (1 + reconnects + resets)
	}

	start() {
		this.stopped = false;
		this.connect();
	}

	stop() {
		this.stopped = true;
		clearTimeout(this.timer);
		if (this.ws)
			this.ws.close();
		this.ws = null;
		this.queue = null;
		this.loading = false;
		this.generation++; // a snapshot still on its way is not applied
	}

	connect() {
		this.h.state("connecting");
		let ws;
		try {
			ws = new WebSocket(this.url);
		} catch (e) {
			this.retry(String(e.message || e));
			return;
		}
		this.ws = ws;
		ws.onopen = () => {
			this.openedAt = Date.now();
			this.resync();
		};
		ws.onmessage = (ev) => this.onData(ev.data);
		ws.onclose = (ev) => {
			if (this.ws !== ws)
				return;
			this.ws = null;
			this.queue = null;
			this.loading = false;
			this.generation++; // a snapshot still on its way belongs to the closed socket
			if (!this.stopped)
				this.retry(ev.code === 1000 ? "closed" : "closed (" + ev.code + ")");
		};
		ws.onerror = () => { /* onclose follows and retries */ };
	}

	retry(why) {
		// A connection that stayed up a while starts the backoff over.
		if (this.openedAt && Date.now() - this.openedAt > 30000)
			this.delay = MIN_DELAY;
		this.openedAt = 0;
		const wait = Math.round(this.delay * (0.75 + Math.random() * 0.5));
		this.delay = Math.min(this.delay * 2, MAX_DELAY);
		this.h.state("reconnecting", why + "; retrying in " + (wait / 1000).toFixed(1) + " s");
		clearTimeout(this.timer);
		this.timer = setTimeout(() => this.connect(), wait);
	}

	/**
	 * Fetches the snapshot while queueing messages, then replays the queue. Messages queued
	 * before are dropped: the snapshot, read after they came, already holds their changes.
	 */
	async resync() {
		const gen = ++this.generation;
		this.resyncs++;
		this.queue = [];
		this.loading = true;
		this.h.state("loading");
		try {
			await this.h.snapshot();
		} catch (e) {
			if (gen !== this.generation)
				return;
			this.loading = false;
			this.queue = null;
			this.h.state("error", "loading flows failed: " + e.message);
			if (this.ws)
				this.ws.close(4000, "snapshot failed");
			return;
		}
		if (gen !== this.generation)
			return;
		this.loading = false;
		this.h.state("live");
		this.drain();
	}

	/**
	 * Runs load(), which fetches a page and applies it, while the messages that arrive are
	 * queued; they are applied after it (after the snapshot too, if one is loading). Call it
	 * for every page that replaces or adds rows. Returns, or throws, what load() does.
	 * @template T
	 * @param {() => Promise<T>} load
	 * @returns {Promise<T>}
	 */
	async hold(load) {
		this.holds++;
		if (!this.queue)
			this.queue = [];
		try {
			return await load();
		} finally {
			this.holds--;
			this.drain();
		}
	}

	/** Applies the queued messages once no snapshot and no held page is loading. */
	drain() {
		if (this.loading || this.holds > 0 || !this.queue)
			return;
		const queued = this.queue;
		this.queue = null;
		for (const msg of queued) {
			if (msg && msg.type === "reset") {
				// What came after it is in the snapshot that the reset loads.
				this.h.message(msg);
				this.resync();
				return;
			}
			this.h.message(msg);
		}
	}

	onData(data) {
		let msgs;
		try {
			msgs = JSON.parse(data);
		} catch {
			return; // not ours to interpret
		}
		if (!Array.isArray(msgs))
			msgs = [msgs];
		for (const msg of msgs) {
			this.received++;
			if (this.queue) {
				this.queue.push(msg);
				if (this.queue.length > MAX_QUEUE) // too much happened: start over
					this.resync();
				continue;
			}
			if (msg && msg.type === "reset") {
				this.h.message(msg);
				this.resync();
				continue;
			}
			this.h.message(msg);
		}
	}
}
