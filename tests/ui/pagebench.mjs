// SPDX-License-Identifier: MIT
// pagebench.mjs - what bench.mjs and bench-page.mjs both measure in the page: the gaps
// between animation frames, and (with PROFILE set) where the page's JavaScript spent its time.

/** Starts recording frame gaps in page. */
export async function startFrames(page) {
	await page.evaluate(() => {
		window.benchGaps = [];
		let last = performance.now();
		const tick = (t) => {
			window.benchGaps.push(t - last);
			last = t;
			window.benchRaf = requestAnimationFrame(tick);
		};
		window.benchRaf = requestAnimationFrame(tick);
	});
}

/** Stops recording; returns the gaps' p50, p99 and max (ms) and the number of frames. */
export async function stopFrames(page) {
	return page.evaluate(() => {
		cancelAnimationFrame(window.benchRaf);
		const g = window.benchGaps.slice(1).sort((a, b) => a - b);
		return { p50: g[g.length >> 1], p99: g[Math.floor(g.length * 0.99)],
			max: g[g.length - 1], frames: g.length };
	});
}

/** With PROFILE set, starts Chromium's JavaScript profiler in page; returns a session or null. */
export async function startProfile(page) {
	if (!process.env.PROFILE)
		return null;
	const cdp = await page.context().newCDPSession(page);
	await cdp.send("Profiler.enable");
	await cdp.send("Profiler.start");
	return cdp;
}

/** Stops the profiler (cdp may be null) and prints the top functions by self time. */
export async function printProfile(cdp, top) {
	if (!cdp)
		return;
	const { profile } = await cdp.send("Profiler.stop");
	const self = new Map();
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	profile.samples.forEach((id, i) => {
		const n = byId.get(id);
		const k = n.callFrame.functionName + " " + n.callFrame.url.split("/").pop() + ":" +
			n.callFrame.lineNumber;
		self.set(k, (self.get(k) || 0) + (profile.timeDeltas[i] || 0));
	});
	console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, top)
		.map(([k, v]) => "  " + (v / 1000).toFixed(0) + " ms  " + k).join("\n"));
}
