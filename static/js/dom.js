// SPDX-License-Identifier: MIT
// dom.js - el(): the only way the UI creates nodes. Attributes are set with setAttribute and
// children appended with append(), so strings always become text nodes, never markup. Flow
// data is hostile: nothing in the UI uses innerHTML, outerHTML, insertAdjacentHTML or
// document.write.

/**
 * Creates an element. attrs: name -> value; a value of null/undefined/false skips the
 * attribute, true sets it empty. Names starting with "on" are refused (no inline handlers under
 * the CSP): use on() instead. children: nodes, strings (as text), numbers, null (skipped) or
 * arrays of these.
 * @param {string} tag
 * @param {Record<string, string|number|boolean|null|undefined>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
	const node = document.createElement(tag);
	setAttrs(node, attrs);
	append(node, children);
	return node;
}

/** Same as el() in the SVG namespace (used by the timing waterfall). */
export function svg(tag, attrs = {}, ...children) {
	const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
	setAttrs(node, attrs);
	append(node, children);
	return node;
}

function setAttrs(node, attrs) {
	for (const [name, value] of Object.entries(attrs || {})) {
		if (value === null || value === undefined || value === false)
			continue;
		if (/^on/i.test(name))
			throw new Error("el(): inline handler attribute " + name);
		node.setAttribute(name, value === true ? "" : String(value));
	}
}

function append(node, children) {
	for (const child of children) {
		if (child === null || child === undefined || child === false)
			continue;
		if (Array.isArray(child))
			append(node, child);
		else if (typeof child === "string" || typeof child === "number")
			node.append(String(child)); // a text node
		else
			node.append(child);
	}
}

/** Adds an event listener and returns the node, for chaining inside el() trees. */
export function on(node, type, fn, opts) {
	node.addEventListener(type, fn, opts);
	return node;
}

/** Replaces all children of node by the given children (same rules as el()). */
export function replace(node, ...children) {
	node.replaceChildren();
	append(node, children);
	return node;
}

/** Saves bytes or a Blob as a file through a temporary object URL. */
export function saveBlob(blob, name) {
	const url = URL.createObjectURL(blob);
	const a = el("a", { href: url, download: name, class: "hidden" });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
}
