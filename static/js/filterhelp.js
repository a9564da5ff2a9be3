// SPDX-License-Identifier: MIT
// filterhelp.js - the operator rows of the filter help popover, made from GET /api/filter-help:
// the filter parser's own table, so the help lists exactly the operators the filter accepts.

import * as api from "./api.js";
import { el, replace } from "./dom.js";

/**
 * One entry of GET /api/filter-help's "operators".
 * @typedef {object} FilterOp
 * @property {string} name    the operator without "~": "d", "websocket"
 * @property {?string} arg    "regex", "number", or null when it takes none
 * @property {string} help    one line
 */

/**
 * The row of one operator: "~d regex" (a click inserts "~d "), then its help.
 * @param {FilterOp} op
 */
export function opRow(op) {
	const insert = "~" + op.name + (op.arg ? " " : "");
	const label = "~" + op.name + (op.arg ? " " + op.arg : "");
	return el("tr", {}, el("th", {}, el("code", { "data-insert": insert }, label)),
		el("td", {}, op.help));
}

/**
 * Fills tbody with the operators the server's parser accepts. Resolves to true once filled;
 * on failure one row says why and it resolves to false (the caller may try again later).
 * @param {HTMLElement} tbody
 */
export async function loadFilterHelp(tbody) {
	try {
		const res = await api.request("GET", "/api/filter-help");
		const { operators } = await res.json();
		replace(tbody, operators.map(opRow));
		return true;
	} catch (e) {
		replace(tbody, el("tr", {}, el("td", { colspan: "2", class: "muted" },
			"the operators could not be loaded: " + e.message)));
		return false;
	}
}
