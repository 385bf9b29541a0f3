// Trace view for complaint handlers: a scan box (keyboard-wedge scanners type GS1 element strings,
// with the ASCII 29 group separator or with parentheses), the unit's upstream and downstream as an
// interactive Cytoscape.js graph with a layered (dagre) layout, node details on click, and "open
// a complaint about this unit".
"use strict";
import { gql, session } from "../api.js";
import { t } from "../i18n.js";
import { h, field, value, errorBox, statusBadge, when, busy } from "../ui.js";

const SCAN = `query($code: String!) { scan(barcode: $code) {
  resolved { id label matchedBy parsed } product batch lot expiry status holder container lastShipment } }`;

const TRACE = `query($key: String!) {
  traceBack(key: $key) {
    start counts
    serials
    batches { id product kind status startedAt depth inputs equipment { equipment name calibrationState } documents { linked } }
    lots { id material status depth parents suppliers { supplier name date } }
    quality { id label about title status }
  }
  traceForward(key: $key, options: { includePaths: false, serialLimit: 200 }) {
    serials { id status customer batch }
    customers { id name kind country units }
  } }`;

const OPEN = `mutation($fields: JSON!, $about: [QmsRefInput!], $reason: String!) {
  openQualityRecord(type: "complaint", fields: $fields, about: $about, reason: $reason) { id status } }`;

/** What a keyboard wedge may send for the GS1 group separator, made into ASCII 29 again. */
export function normaliseScan(text) {
  return text
    .replace(/<GS>|\\x1d|\u241d|\u2194/gi, "\u001d") // "<GS>", a literal "\x1d", the GS picture, some wedges' ↔
    .replace(/^\s+|\s+$/g, "")
    .replace(/[\r\n]+$/, "");
}

let lastScan = null; // {id, el}: the scan answer, shown again on the trace page it led to

const COLORS = { Serial: "#1d3557", Batch: "#457b9d", MaterialLot: "#2a9d8f", Supplier: "#e9c46a", Equipment: "#8d99ae",
  Customer: "#e76f51", Quality: "#b5179e" };

function graphData(tb, fw, startId) {
  const nodes = new Map(); const edges = new Map();
  const node = (id, kind, label, data = {}) => {
    const key = `${kind}:${id}`;
    const known = nodes.get(key);
    if (!known) nodes.set(key, { data: { id: key, key: id, kind, label: label || id, ...data } });
    else for (const [k, v] of Object.entries(data)) if (known.data[k] === undefined && v !== undefined) known.data[k] = v;
    return key;
  };
  const edge = (a, b, rel) => { const id = `${a}>${b}`; if (!edges.has(id)) edges.set(id, { data: { id, source: a, target: b, rel } }); };
  const start = tb.start;
  const startKind = start.label || "Serial";
  const s = node(startId, startKind, startId, { start: true, status: start.status });
  const batchKey = (id) => node(id, "Batch", id);
  const lotIds = new Set(tb.lots.map((l) => l.id));
  if (startKind === "Serial" && start.batch_id) edge(batchKey(start.batch_id), s, "produced");
  for (const c of tb.serials || []) {
    const k = node(c.id, "Serial", c.id, { status: c.status });
    edge(k, s, "component_of");
    if (c.batch) edge(batchKey(c.batch), k, "produced");
  }
  for (const b of tb.batches) {
    const k = node(b.id, "Batch", b.id, { product: b.product, status: b.status, kind: b.kind, startedAt: b.startedAt });
    for (const inp of b.inputs) edge(lotIds.has(inp) ? node(inp, "MaterialLot", inp) : batchKey(inp), k, "consumed_in");
    for (const e of b.equipment) edge(node(e.equipment, "Equipment", e.name || e.equipment, { calibration: e.calibrationState }), k, "processed");
  }
  for (const l of tb.lots) {
    const k = node(l.id, "MaterialLot", l.id, { material: l.material, status: l.status });
    for (const p of l.parents) edge(node(p, "MaterialLot", p), k, "split_merge");
    for (const sup of l.suppliers) edge(node(sup.supplier, "Supplier", sup.name || sup.supplier, { date: sup.date }), k, "supplied");
  }
  for (const q of tb.quality) {
    const k = node(q.id, "Quality", `${q.label} ${q.id}`, { status: q.status, title: q.title });
    const about = [...nodes.values()].find((n) => n.data.key === q.about);
    if (about) edge(k, about.data.id, "about");
  }
  if (fw && startKind !== "Serial") {
    // a batch or lot reaches many units: one node per customer holding them, with the count
    for (const c of fw.customers) {
      edge(s, node(c.id, "Customer", `${c.name || c.id} (${c.units})`, { units: c.units, country: c.country }), "holds");
    }
  } else if (fw) {
    const custName = Object.fromEntries(fw.customers.map((c) => [c.id, c.name || c.id]));
    for (const u of fw.serials) {
      const k = u.id === startId ? s : node(u.id, "Serial", u.id, { status: u.status });
      if (k !== s) edge(s, k, "assembled_into");
      if (u.customer) edge(k, node(u.customer, "Customer", custName[u.customer] || u.customer), "holds");
    }
  }
  return [...nodes.values(), ...edges.values()];
}

function dot(color) {
  const el = h("span", { class: "dot", "aria-hidden": "true" });
  el.style.background = color; // CSSOM, allowed by the strict CSP (style attributes are not)
  return el;
}

function details(box, data) {
  box.textContent = "";
  const rows = Object.entries(data).filter(([k, v]) => !["id", "key", "kind", "label", "start"].includes(k)
    && v !== null && v !== undefined && v !== "");
  box.append(h("h3", {}, t("kind." + data.kind, {}, data.kind), " ", data.key),
    h("dl", { class: "kv", id: "node-details" }, rows.map(([k, v]) => [h("dt", {}, t("field." + k, {}, k)),
      h("dd", {}, k === "status" ? statusBadge(v) : /At$|date/.test(k) ? when(String(v)) : String(v))])));
  if (data.kind === "Batch" || data.kind === "MaterialLot") {
    box.append(h("p", {}, h("a", { href: `#/trace/${encodeURIComponent(data.key)}` }, t("trace.traceThis"))));
  }
}

function drawGraph(container, elements, box) {
  if (!window.cytoscape) throw new Error("Cytoscape.js did not load");
  if (window.cytoscapeDagre && !window.__dagreRegistered) { window.cytoscape.use(window.cytoscapeDagre); window.__dagreRegistered = true; }
  const cy = window.cytoscape({
    container, elements, wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { "background-color": (n) => COLORS[n.data("kind")] || "#999", label: "data(label)",
        "font-size": 10, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22, "text-wrap": "ellipsis", "text-max-width": 120 } },
      { selector: "node[?start]", style: { "border-width": 4, "border-color": "#f4a261", width: 30, height: 30 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } },
      { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#aab", "target-arrow-color": "#aab" } },
    ],
    layout: { name: window.__dagreRegistered ? "dagre" : "breadthfirst", rankDir: "LR", nodeSep: 18, rankSep: 70, directed: true },
  });
  cy.on("tap", "node", (ev) => details(box, ev.target.data()));
  window.tracegraphCy = cy; // for the browser tests and for people poking at the page
  return cy;
}

function complaintForm(unitId) {
  const today = new Date().toISOString().slice(0, 10);
  const form = h("form", { id: "complaint-form", class: "card grid", "aria-labelledby": "cmp-title" },
    h("h2", { id: "cmp-title", class: "span" }, t("trace.complaint")),
    h("p", { class: "span small" }, t("trace.complaintAbout", { unit: unitId })),
    field(t("complaint.reporter"), { name: "reporter", required: true }),
    field(t("complaint.eventDate"), { name: "event_date", type: "date", required: true, value: today }),
    field(t("complaint.description"), { name: "description", required: true }, "textarea"),
    field(t("complaint.patient"), { name: "patient_involved", type: "checkbox" }),
    field(t("complaint.injury"), { name: "injury", type: "checkbox" }),
    h("div", { class: "span actions" }, h("button", { type: "submit", class: "primary" }, t("trace.openComplaint"))),
    h("div", { class: "span", id: "complaint-out", "aria-live": "polite" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = form.querySelector("#complaint-out"); out.textContent = "";
    const fields = { reporter: value(form, "reporter"), event_date: value(form, "event_date"),
      description: value(form, "description"), patient_involved: value(form, "patient_involved"), injury: value(form, "injury") };
    await busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const d = await gql(OPEN, { fields, about: [{ label: "Serial", id: unitId }], reason: t("trace.complaintReason") });
        const rec = d.openQualityRecord;
        out.append(h("p", { class: "ok", role: "status", "data-testid": "complaint-opened" },
          t("trace.complaintOpened", { id: rec.id }), " ",
          h("a", { href: `#/qa/complaint/${encodeURIComponent(rec.id)}` }, t("common.open"))));
      } catch (e) { out.append(errorBox(e)); }
    })();
  });
  return form;
}

async function showTrace(out, key) {
  out.textContent = "";
  const d = await gql(TRACE, { key });
  const tb = d.traceBack; const startId = tb.start.id || key;
  const c = tb.counts;
  const summary = h("div", { class: "cards", id: "trace-counts" },
    [["batches", c.batches], ["lots", c.lots], ["suppliers", c.suppliers], ["quality_records", c.quality_records],
      ["out_of_calibration", c.out_of_calibration]].map(([k, v]) =>
      h("div", { class: "kpi", "data-key": k }, h("b", {}, v), h("span", {}, t("trace.count." + k)))));
  const graph = h("div", { id: "trace-graph", class: "graph", role: "img", "aria-label": t("trace.graphLabel", { unit: startId }) });
  const box = h("aside", { class: "card details", id: "trace-details", "aria-live": "polite" }, h("p", { class: "small" }, t("trace.clickNode")));
  const legend = h("ul", { class: "legend" }, Object.entries(COLORS).map(([k, col]) =>
    h("li", {}, dot(col), t("kind." + k, {}, k))));
  out.append(h("h2", {}, t("trace.upstreamOf", { unit: startId })), summary, legend,
    h("div", { class: "graph-row" }, graph, box));
  if ((tb.start.label || "Serial") === "Serial" && session.can("qms.complaint.create")) out.append(complaintForm(startId));
  const cy = drawGraph(graph, graphData(tb, d.traceForward, startId), box);
  // the same picture as a list of buttons: for screen readers and keyboard users (Enter shows a
  // node's details, as a click on the picture does)
  const order = ["Supplier", "MaterialLot", "Equipment", "Batch", "Serial", "Customer", "Quality"];
  const nodes = cy.nodes().map((n) => n.data()).sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.key.localeCompare(b.key));
  out.append(h("details", { id: "trace-as-list" }, h("summary", {}, t("trace.asList")),
    h("ul", { id: "trace-list", class: "node-list" }, nodes.map((n) => h("li", {},
      h("button", { type: "button", class: "link", "data-node": n.id, onclick: () => {
        cy.elements().unselect(); cy.getElementById(n.id).select(); details(box, n);
      } }, `${t("kind." + n.kind, {}, n.kind)} ${n.label}`))))));
}

export async function render(view, [key]) {
  const out = h("section", { id: "trace-out" });
  const scanOut = h("div", { id: "scan-out", "aria-live": "polite" });
  const form = h("form", { id: "scan-form", class: "card inline", role: "search", "aria-labelledby": "scan-title" },
    h("h2", { id: "scan-title" }, t("trace.scan")),
    field(t("trace.code"), { name: "code", required: true, autocomplete: "off", spellcheck: "false",
      placeholder: "(01)09506000134352(21)SN0001", class: "wide" }),
    h("button", { type: "submit", class: "primary" }, t("trace.go")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    scanOut.textContent = "";
    const code = normaliseScan(form.elements.namedItem("code").value);
    try {
      const d = await gql(SCAN, { code });
      const s = d.scan;
      scanOut.append(h("dl", { class: "kv card", id: "scan-result" },
        h("dt", {}, t("trace.found")), h("dd", {}, `${t("kind." + s.resolved.label, {}, s.resolved.label)} ${s.resolved.id}`),
        h("dt", {}, t("trace.matchedBy")), h("dd", {}, s.resolved.matchedBy),
        s.product ? [h("dt", {}, t("field.product")), h("dd", {}, s.product.name || s.product.id)] : "",
        s.lot ? [h("dt", {}, t("field.lot")), h("dd", {}, s.lot)] : "",
        s.expiry ? [h("dt", {}, t("field.expiry")), h("dd", {}, when(s.expiry))] : "",
        s.status ? [h("dt", {}, t("field.status")), h("dd", {}, statusBadge(s.status))] : "",
        s.holder ? [h("dt", {}, t("field.holder")), h("dd", {}, s.holder.name || s.holder.id)] : ""));
      lastScan = { id: s.resolved.id, el: scanOut.firstChild };
      if (key === s.resolved.id) await showTrace(out, s.resolved.id);
      else location.hash = `#/trace/${encodeURIComponent(s.resolved.id)}`;
    } catch (e) { scanOut.append(errorBox(e)); }
  });
  view.append(h("h1", {}, t("nav.trace")), form, scanOut, out);
  if (key) {
    form.elements.namedItem("code").value = key;
    if (lastScan && lastScan.id === key) scanOut.append(lastScan.el);
    try { await showTrace(out, key); } catch (e) { out.append(errorBox(e)); }
  } else {
    form.elements.namedItem("code").focus();
  }
}
