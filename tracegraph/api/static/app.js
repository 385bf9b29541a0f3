// The dashboard: sign in over REST, then read everything through GraphQL with the token.
"use strict";
const $ = (sel) => document.querySelector(sel);
let token = sessionStorage.getItem("tracegraph.token");
let after = null;

async function gql(query, variables) {
  const r = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
    body: JSON.stringify({ query, variables }),
  });
  if (r.status === 401) { signOut(); throw new Error("session expired: sign in again"); }
  const body = await r.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

function cell(row, text) { const td = document.createElement("td"); td.textContent = text ?? ""; row.appendChild(td); }

async function loadDashboard() {
  const d = await gql("{ dashboard { totals serialsByStatus } }");
  const totals = $("#totals"); totals.textContent = "";
  for (const [k, v] of Object.entries(d.dashboard.totals)) {
    const c = document.createElement("div"); c.className = "card";
    const b = document.createElement("b"); b.textContent = v; c.appendChild(b); c.append(k); totals.appendChild(c);
  }
  const tb = $("#by-status tbody"); tb.textContent = "";
  for (const [k, v] of Object.entries(d.dashboard.serialsByStatus)) {
    const tr = document.createElement("tr"); cell(tr, k); cell(tr, v); tb.appendChild(tr);
  }
}

async function loadBatches() {
  const q = `query($after: String) { batches(first: 20, after: $after, sort: STARTED_AT, desc: true) {
    pageInfo { hasNextPage endCursor } edges { node { id status startedAt product { name } serials(first: 0) { totalCount } } } } }`;
  const d = await gql(q, { after });
  const tb = $("#batches tbody");
  for (const e of d.batches.edges) {
    const tr = document.createElement("tr"); const n = e.node;
    cell(tr, n.id); cell(tr, n.product && n.product.name); cell(tr, n.status); cell(tr, n.startedAt);
    cell(tr, n.serials.totalCount); tb.appendChild(tr);
  }
  after = d.batches.pageInfo.endCursor;
  $("#more").hidden = !d.batches.pageInfo.hasNextPage;
}

async function show() {
  $("#login-box").hidden = !!token; $("#app").hidden = !token; $("#logout").hidden = !token;
  if (!token) return;
  try { await loadDashboard(); after = null; $("#batches tbody").textContent = ""; await loadBatches(); }
  catch (err) { $("#app-error").textContent = err.message; }
}

function signOut() { token = null; sessionStorage.removeItem("tracegraph.token"); show(); }

$("#login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const r = await fetch("/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: f.get("username"), password: f.get("password") }) });
  const body = await r.json();
  if (!r.ok) { $("#login-error").textContent = body.error ? body.error.message : "sign-in failed"; return; }
  token = body.token; sessionStorage.setItem("tracegraph.token", token); $("#login-error").textContent = ""; show();
});
$("#logout").addEventListener("click", async () => {
  try { await fetch("/auth/logout", { method: "POST", headers: { "Authorization": "Bearer " + token } }); } finally { signOut(); }
});
$("#more").addEventListener("click", () => loadBatches().catch((e) => { $("#app-error").textContent = e.message; }));
$("#scan").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = new FormData(ev.target).get("code");
  try {
    const d = await gql(`query($k: String!) { traceBack(key: $k) { start counts suppliers { supplier name date } } }`, { k: code });
    $("#scan-out").textContent = JSON.stringify(d.traceBack, null, 2);
  } catch (err) { $("#scan-out").textContent = err.message; }
});
show();
