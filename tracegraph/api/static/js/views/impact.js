// Impact workbench: a cause form, the answer (totals, charts by status/customer/product, a paged
// and filterable unit table), CSV/XLSX download and "decide a recall from this answer".
"use strict";
import { gql, session, download } from "../api.js";
import { t } from "../i18n.js";
import { h, field, value, table, barChart, errorBox, num, statusBadge, busy } from "../ui.js";

const IMPACT = `query($cause: ImpactCauseInput!, $options: ImpactOptionsInput) {
  impact(cause: $cause, options: $options) {
    counts byStatus truncated engine elapsedMs
    byProduct { id units byStatus }
    customers { id name kind country units byStatus }
    batches { id product status units }
    serials { id batch product status customer warehouse date }
  } }`;

const CREATE = `mutation($input: RecallInput!) { createRecall(input: $input) { id status unitsCovered } }`;

const PAGE = 25;
const last = { cause: null, result: null, page: 0, filter: "", status: "" };

function list(v) { return v ? v.split(/[,\s]+/).filter(Boolean) : null; }

/** The cause as the GraphQL ImpactCauseInput (and as the REST /impact query for downloads). */
function causeOf(form) {
  const c = {
    lots: list(value(form, "lots")), supplier: value(form, "supplier"),
    suppliedFrom: value(form, "suppliedFrom"), suppliedTo: value(form, "suppliedTo"),
    equipment: value(form, "equipment"), windowFrom: value(form, "windowFrom"), windowTo: value(form, "windowTo"),
    batches: list(value(form, "batches")), document: value(form, "document"), serialRange: value(form, "serialRange"),
  };
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null));
}

function restQuery(cause, format) {
  const q = new URLSearchParams();
  for (const l of cause.lots || []) q.append("lot", l);
  for (const b of cause.batches || []) q.append("batch", b);
  if (cause.supplier) { q.set("supplier", cause.supplier); if (cause.suppliedFrom) q.set("from", cause.suppliedFrom); if (cause.suppliedTo) q.set("to", cause.suppliedTo); }
  if (cause.equipment) { q.set("equipment", cause.equipment); if (cause.windowFrom) q.set("from", cause.windowFrom); if (cause.windowTo) q.set("to", cause.windowTo); }
  if (cause.document) q.set("document", cause.document);
  if (cause.serialRange) q.set("serial_range", cause.serialRange);
  q.set("format", format);
  return "/impact?" + q.toString();
}

function causeForm(onRun) {
  const form = h("form", { id: "impact-form", class: "card grid", "aria-labelledby": "cause-title" },
    h("h2", { id: "cause-title", class: "span" }, t("impact.cause")),
    h("p", { class: "span small" }, t("impact.causeHelp")),
    field(t("impact.lots"), { name: "lots", placeholder: "L-2026-0001, L-2026-0002" }),
    field(t("impact.batches"), { name: "batches" }),
    h("fieldset", { class: "span grid" }, h("legend", {}, t("impact.supplierWindow")),
      field(t("impact.supplier"), { name: "supplier" }),
      field(t("impact.receivedFrom"), { name: "suppliedFrom", type: "date" }),
      field(t("impact.receivedTo"), { name: "suppliedTo", type: "date" })),
    h("fieldset", { class: "span grid" }, h("legend", {}, t("impact.equipmentWindow")),
      field(t("impact.equipment"), { name: "equipment" }),
      field(t("impact.usedFrom"), { name: "windowFrom", type: "date" }),
      field(t("impact.usedTo"), { name: "windowTo", type: "date" })),
    field(t("impact.document"), { name: "document", placeholder: "DMR-1@2" }),
    field(t("impact.serialRange"), { name: "serialRange", placeholder: "GTIN:FROM-TO" }),
    h("div", { class: "span actions" }, h("button", { type: "submit", class: "primary" }, t("impact.run"))),
    h("div", { class: "span", id: "impact-error" }));
  if (last.cause) {
    for (const [k, v] of Object.entries(last.cause)) {
      const el = form.elements.namedItem(k); if (el) el.value = Array.isArray(v) ? v.join(", ") : v;
    }
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = form.querySelector("#impact-error"); err.textContent = "";
    const cause = causeOf(form);
    if (!Object.keys(cause).length) { err.append(errorBox({ message: t("impact.noCause") })); return; }
    const btn = form.querySelector("button[type=submit]");
    await busy(btn, async () => {
      try {
        const d = await gql(IMPACT, { cause, options: { serialLimit: 20000, includePaths: false } });
        Object.assign(last, { cause, result: d.impact, page: 0, filter: "", status: "" });
        onRun();
      } catch (e) { err.append(errorBox(e)); }
    })();
  });
  return form;
}

function totals(r) {
  const keys = ["units", "serials", "batches", "lots", "customers", "products"];
  return h("div", { class: "cards", id: "impact-totals" }, keys.map((k) =>
    h("div", { class: "kpi", "data-key": k }, h("b", {}, num(r.counts[k] ?? 0)), h("span", {}, t("impact.count." + k)))));
}

function unitTable(r, box) {
  const names = Object.fromEntries(r.customers.map((c) => [c.id, c.name || c.id]));
  const statuses = [...new Set(r.serials.map((s) => s.status))].sort();
  const filter = h("form", { class: "inline", role: "search", "aria-label": t("impact.units") },
    field(t("impact.filter"), { name: "q", value: last.filter, placeholder: t("impact.filterHelp") }),
    field(t("impact.status"), { name: "status" }, "select",
      [["", t("common.all")], ...statuses.map((s) => [s, t("status." + s, {}, s)])]));
  filter.elements.namedItem("status").value = last.status;
  const out = h("div", {});
  const draw = () => {
    const q = (last.filter || "").toLowerCase();
    const rows = r.serials.filter((s) => (!last.status || s.status === last.status)
      && (!q || [s.id, s.batch, s.customer, names[s.customer], s.product].some((x) => x && x.toLowerCase().includes(q))));
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    last.page = Math.min(last.page, pages - 1);
    const slice = rows.slice(last.page * PAGE, (last.page + 1) * PAGE);
    out.textContent = "";
    out.append(
      table([
        { label: t("impact.col.serial"), get: (s) => h("a", { href: `#/trace/${encodeURIComponent(s.id)}` }, s.id) },
        { label: t("impact.col.batch"), get: (s) => s.batch },
        { label: t("impact.col.product"), get: (s) => s.product },
        { label: t("impact.col.status"), get: (s) => statusBadge(s.status) },
        { label: t("impact.col.customer"), get: (s) => (s.customer ? names[s.customer] || s.customer : s.warehouse) },
      ], slice, { id: "unit-table" }),
      h("div", { class: "pager" },
        h("button", { type: "button", disabled: last.page === 0, onclick: () => { last.page--; draw(); } }, t("common.prev")),
        h("span", { "aria-live": "polite", id: "unit-page" },
          t("impact.page", { page: last.page + 1, pages, rows: num(rows.length) })),
        h("button", { type: "button", disabled: last.page >= pages - 1, onclick: () => { last.page++; draw(); } }, t("common.next"))));
  };
  filter.addEventListener("input", () => {
    last.filter = filter.elements.namedItem("q").value; last.status = filter.elements.namedItem("status").value;
    last.page = 0; draw();
  });
  filter.addEventListener("submit", (ev) => ev.preventDefault());
  box.append(h("h3", {}, t("impact.units")), r.truncated ? h("p", { class: "warn" }, t("impact.truncated")) : "", filter, out);
  draw();
}

function recallForm(cause) {
  const form = h("form", { id: "recall-form", class: "card grid", "aria-labelledby": "decide-title" },
    h("h2", { id: "decide-title", class: "span" }, t("impact.decide")),
    h("p", { class: "span small" }, t("impact.decideHelp")),
    field(t("recall.jurisdiction"), { name: "jurisdiction", required: true }, "select",
      [["CN-NMPA", "CN-NMPA"], ["US-FDA", "US-FDA"], ["EU-MDR", "EU-MDR"]]),
    field(t("recall.class"), { name: "recallClass", required: true }, "select", [["I", "I"], ["II", "II"], ["III", "III"]]),
    field(t("recall.reason"), { name: "reason", required: true, class: "wide" }, "textarea"),
    field(t("recall.responsible"), { name: "responsible", required: true, value: session.me.id }),
    h("div", { class: "span actions" }, h("button", { type: "submit", class: "primary" }, t("impact.decideSubmit"))),
    h("div", { class: "span", id: "recall-error" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = form.querySelector("#recall-error"); err.textContent = "";
    const input = { jurisdiction: value(form, "jurisdiction"), recallClass: value(form, "recallClass"),
      reason: value(form, "reason"), responsible: value(form, "responsible"), cause };
    await busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const d = await gql(CREATE, { input });
        location.hash = `#/recalls/${encodeURIComponent(d.createRecall.id)}`;
      } catch (e) { err.append(errorBox(e)); }
    })();
  });
  return form;
}

function answer(box) {
  box.textContent = "";
  const r = last.result; if (!r) return;
  const byCustomer = r.customers.map((c) => [c.name || c.id, c.units]).sort((a, b) => b[1] - a[1]);
  const dl = h("div", { class: "actions" },
    h("button", { type: "button", id: "dl-csv", onclick: (ev) => busy(ev.target, () => download(restQuery(last.cause, "csv"), "impact.csv").catch((e) => box.prepend(errorBox(e))))() }, t("impact.csv")),
    h("button", { type: "button", id: "dl-xlsx", onclick: (ev) => busy(ev.target, () => download(restQuery(last.cause, "xlsx"), "impact.xlsx").catch((e) => box.prepend(errorBox(e))))() }, t("impact.xlsx")));
  box.append(
    h("h2", { id: "answer-title" }, t("impact.answer")),
    h("p", { class: "small" }, t("impact.meta", { ms: r.elapsedMs.toFixed(1), engine: r.engine })),
    totals(r),
    r.counts.units === 0 ? h("p", { class: "note" }, t("impact.nothing")) : "",
    h("div", { class: "charts" },
      barChart(t("impact.byStatus"), Object.entries(r.byStatus).map(([k, v]) => [t("status." + k, {}, k), v]).sort((a, b) => b[1] - a[1])),
      barChart(t("impact.byCustomer"), byCustomer),
      barChart(t("impact.byProduct"), r.byProduct.map((p) => [p.id, p.units]))),
    dl);
  unitTable(r, box);
  if (session.can("recall.create") && r.counts.units > 0) box.append(recallForm(last.cause));
}

export async function render(view) {
  const box = h("section", { id: "impact-answer", "aria-live": "polite" });
  view.append(h("h1", {}, t("nav.impact")), causeForm(() => answer(box)), box);
  answer(box);
}
