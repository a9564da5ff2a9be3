// SPDX-License-Identifier: MIT
// procs.mjs - what the browser tests need to run the real binary and its origins: processes
// started with their output kept, stopped by PID (SIGTERM, then SIGKILL after 5 s), and a
// bounded wait for a condition.
import { spawn } from "node:child_process";
import { join } from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn every 100 ms until it gives a truthy value (returned), or throws after ms. */
export async function until(what, fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		try {
			const v = await fn();
			if (v)
				return v;
		} catch {
			/* not yet */
		}
		if (Date.now() > end)
			throw new Error("timed out waiting for " + what);
		await sleep(100);
	}
}

/** Starts cmd; child.log() is what it printed, child.logName names it (in dir). */
export function start(cmd, args, opts = {}, logName = cmd, dir = ".") {
	const out = [];
	const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
	child.stdout.on("data", (d) => out.push(d));
	child.stderr.on("data", (d) => out.push(d));
	child.log = () => Buffer.concat(out).toString();
	child.logName = join(dir, logName);
	return child;
}

/** Stops each child still running, the last started first. */
export async function stopAll(procs) {
	for (const p of [...procs].reverse()) {
		if (p.exitCode === null) {
			p.kill("SIGTERM");
			await Promise.race([new Promise((r) => p.once("exit", r)), sleep(5000)]);
			if (p.exitCode === null && p.signalCode === null)
				p.kill("SIGKILL");
		}
	}
}
