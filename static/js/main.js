// SPDX-License-Identifier: MIT
// main.js - placeholder page until the real UI lands: lists flows as text from /api/flows.
// The server trades ?token= for an HttpOnly cookie (and redirects), so fetch needs nothing
// more than same-origin credentials. Flow data is hostile: text nodes only, never markup.

const status = document.getElementById("status");
const list = document.getElementById("flows");

function line(f) {
  const li = document.createElement("li");
  li.textContent = `${f.id} ${f.method ?? ""} ${f.scheme ?? ""}://${f.host ?? ""}:${f.port}` +
    `${f.path ?? ""} ${f.status ?? f.state}`;
  return li;
}

async function load() {
  const res = await fetch("/api/flows?limit=200", { credentials: "same-origin" });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    status.textContent = `${res.status}: ${body.error ?? "error"} (open the URL printed at start)`;
    return;
  }
  const data = await res.json();
  status.textContent = `${data.total} flows`;
  list.replaceChildren(...data.flows.map(line));
}

load();
