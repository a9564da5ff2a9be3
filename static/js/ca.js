// SPDX-License-Identifier: MIT
// ca.js - the CA page: download flowscope's CA certificate (PEM, and DER for the steps that
// use it) and short steps to trust it on each platform.

import * as api from "./api.js";
import { el } from "./dom.js";

const STEPS = [
	["Chromium / Chrome (Linux)", [
		"Settings → Privacy and security → Security → Manage certificates → Authorities.",
		"Import ca.pem and tick “Trust this certificate for identifying websites”.",
		"$ certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n flowscope -i ca.pem",
	]],
	["Firefox", [
		"Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import.",
		"Choose ca.pem and tick “Trust this CA to identify websites”.",
	]],
	["curl", [
		"$ curl --cacert ca.pem -x http://127.0.0.1:8080 https://example.com/",
		"$ export CURL_CA_BUNDLE=/path/to/ca.pem",
	]],
	["macOS", [
		"Open ca.pem: Keychain Access adds it to the login keychain.",
		"Double-click “flowscope”, open Trust and set “When using this certificate” to Always Trust.",
		"$ sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem",
	]],
	["Windows", [
		"Download ca.der (or ca.pem renamed to ca.crt) and open it → Install Certificate.",
		"Choose Local Machine → Place all certificates in: Trusted Root Certification Authorities.",
		"$ certutil -addstore root ca.der   (administrator shell)",
	]],
	["Android", [
		"Copy ca.pem (or ca.der) to the device, then Settings → Security → Encryption & " +
			"credentials → Install a certificate → CA certificate.",
		"Apps trust user CAs only if they opt in (network security config); browsers do.",
	]],
	["iOS / iPadOS", [
		"Open http://flowscope.cert/ in Safari through the proxy, or AirDrop ca.pem; allow the " +
			"profile download.",
		"Settings → General → VPN & Device Management → install the profile.",
		"Settings → General → About → Certificate Trust Settings → enable full trust for flowscope.",
	]],
];

export function createCaPage(root) {
	const der = el("span", {});
	root.append(el("div", { class: "ca-page" },
		el("h2", {}, "flowscope's certificate authority"),
		el("p", {}, "To see HTTPS traffic decrypted, the client must trust this CA. Install it only " +
			"on devices you use for testing, and keep the config directory's ca.key private."),
		el("p", { class: "downloads" },
			el("a", { class: "button primary", href: api.authUrl("/api/ca.pem"),
				download: "flowscope-ca.pem" }, "Download ca.pem"), " ", der),
		el("p", { class: "muted" }, "Through the proxy, http://flowscope.cert/ offers it too."),
		STEPS.map(([name, steps]) => el("section", { class: "ca-steps" }, el("h3", {}, name),
			el("ol", {}, steps.map((s) => el("li", {}, s.startsWith("$ ") ?
				el("code", {}, s.slice(2)) : s)))))));
	// DER for the steps that use it (Windows, Android)
	der.append(el("a", { class: "button", href: api.authUrl("/api/ca.der"),
		download: "flowscope-ca.der" }, "Download ca.der"));
}
