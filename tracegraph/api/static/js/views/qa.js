// QA board: open quality records by type, status, owner and age, CAPA alerts, lists per record
// type; a record page with what it concerns, its lifecycle steps (signed ones in the e-signature
// dialog) and its signatures; the batch release checklist and the Release record.
"use strict";
import { gql, session } from "../api.js";
import { t } from "../i18n.js";
import { h, field, value, table, barChart, errorBox, statusBadge, when, esign, ask, busy } from "../ui.js";

const OPEN_ITEMS = `{ openItems(alertDays: 14) {
  overdue items { id type status owner createdAt dueDate ageDays overdue }
  byType { key count } byOwner { key count } byAge { key count }
  alerts { capa title owner status dueDate daysLeft state severity message } } }`;

const RECORD = `query($type: String!, $id: String!) { qualityRecord(type: $type, id: $id) {
  type label id status props nextSteps flags
  steps { name to required signature reasonRequired help permission }
  concerns { id label } addressedBy { id label }
  signatures { id meaning signerId signerName signedAt reason valid status untrainedOn } } }`;

const STEP = `mutation($type: String!, $id: String!, $step: String!, $fields: JSON, $reason: String!, $password: String) {
  qualityStep(type: $type, id: $id, step: $step, fields: $fields, reason: $reason, password: $password) { id status } }`;

const CHECKLIST = `query($batch: String!) { releaseChecklist(batch: $batch) { batch releasable conditions { name ok why details } } }`;
const OPEN_RELEASE = `mutation($batch: String!, $fields: JSON!) { openQualityRecord(type: "release", fields: $fields,
  about: [{ label: "Batch", id: $batch }], reason: "batch release") { id status } }`;

const TYPES = ["complaint", "deviation", "capa", "change-control", "release"];
const filters = { type: "", status: "", owner: "" };

function typeKey(type) { return String(type).toLowerCase().replace(/[^a-z]/g, ""); }

async function board(view) {
  const d = (await gql(OPEN_ITEMS)).openItems;
  const items = d.items;
  const opts = (key) => [["", t("common.all")], ...[...new Set(items.map((i) => i[key] || ""))].filter(Boolean).sort()
    .map((v) => [v, key === "owner" ? v : t((key === "type" ? "qtype." : "status.") + typeKey(v), {}, v)])];
  const form = h("form", { class: "inline card", id: "qa-filter", role: "search", "aria-label": t("qa.filter") },
    field(t("qa.type"), { name: "type" }, "select", opts("type")),
    field(t("field.status"), { name: "status" }, "select", opts("status")),
    field(t("qa.owner"), { name: "owner" }, "select", opts("owner")));
  for (const k of Object.keys(filters)) form.elements.namedItem(k).value = filters[k];
  const list = h("div", {});
  const draw = () => {
    const rows = items.filter((i) => (!filters.type || i.type === filters.type) && (!filters.status || i.status === filters.status)
      && (!filters.owner || i.owner === filters.owner)).sort((a, b) => b.ageDays - a.ageDays);
    list.textContent = "";
    list.append(table([
      { label: t("qa.record"), get: (i) => h("a", { href: `#/qa/${encodeURIComponent(i.type)}/${encodeURIComponent(i.id)}` }, i.id) },
      { label: t("qa.type"), get: (i) => t("qtype." + typeKey(i.type), {}, i.type) },
      { label: t("field.status"), get: (i) => statusBadge(i.status) },
      { label: t("qa.owner"), get: (i) => i.owner },
      { label: t("qa.age"), get: (i) => t("qa.days", { n: Math.floor(i.ageDays) }), cls: "num" },
      { label: t("qa.due"), get: (i) => [when(i.dueDate), i.overdue ? statusBadge("overdue") : ""] },
    ], rows, { id: "qa-items" }), h("p", { class: "small" }, t("qa.shown", { n: rows.length, of: items.length })));
  };
  form.addEventListener("change", () => { for (const k of Object.keys(filters)) filters[k] = form.elements.namedItem(k).value; draw(); });
  view.append(h("h1", {}, t("nav.qa")),
    h("div", { class: "cards" },
      h("div", { class: "kpi", "data-key": "open" }, h("b", {}, items.length), h("span", {}, t("qa.open"))),
      h("div", { class: "kpi", "data-key": "overdue" }, h("b", {}, d.overdue), h("span", {}, t("qa.overdue"))),
      h("div", { class: "kpi", "data-key": "alerts" }, h("b", {}, d.alerts.length), h("span", {}, t("qa.capaAlerts")))),
    h("div", { class: "charts" },
      barChart(t("qa.byType"), d.byType.map((c) => [t("qtype." + typeKey(c.key), {}, c.key), c.count])),
      barChart(t("qa.byAge"), d.byAge.map((c) => [c.key, c.count])),
      barChart(t("qa.byOwner"), d.byOwner.map((c) => [c.key || "—", c.count]))),
    d.alerts.length ? h("section", { class: "card" }, h("h2", {}, t("qa.capaAlerts")),
      table([
        { label: "CAPA", get: (a) => h("a", { href: `#/qa/capa/${encodeURIComponent(a.capa)}` }, a.capa) },
        { label: t("qa.title"), get: (a) => a.title },
        { label: t("qa.owner"), get: (a) => a.owner },
        { label: t("qa.due"), get: (a) => when(a.dueDate) },
        { label: t("recall.state"), get: (a) => statusBadge(a.state) },
      ], d.alerts, { id: "qa-alerts" })) : "",
    h("section", {}, h("h2", {}, t("qa.openItems")), form, list),
    releaseBox(),
    typeLists());
  draw();
}

function typeLists() {
  const sel = field(t("qa.type"), { name: "t" }, "select", TYPES.map((x) => [x, t("qtype." + typeKey(x), {}, x)]));
  const out = h("div", {});
  const load = async () => {
    out.textContent = "";
    const type = sel.querySelector("select").value;
    try {
      const d = await gql(`query($type: String!) { qualityRecords(type: $type, first: 50) { totalCount edges { node { id status props } } } }`, { type });
      const rows = d.qualityRecords.edges.map((e) => e.node);
      out.append(table([
        { label: t("qa.record"), get: (r) => h("a", { href: `#/qa/${encodeURIComponent(type)}/${encodeURIComponent(r.id)}` }, r.id) },
        { label: t("field.status"), get: (r) => statusBadge(r.status) },
        { label: t("qa.title"), get: (r) => r.props.title || r.props.description || r.props.batch_id || "" },
        { label: t("qa.opened"), get: (r) => when(r.props.created_at) },
      ], rows, { id: "qa-type-list" }), h("p", { class: "small" }, t("qa.shown", { n: rows.length, of: d.qualityRecords.totalCount })));
    } catch (e) { out.append(errorBox(e)); }
  };
  sel.querySelector("select").addEventListener("change", load);
  load();
  return h("section", { class: "card" }, h("h2", {}, t("qa.byTypeList")), h("div", { class: "inline" }, sel), out);
}

function releaseBox() {
  const out = h("div", { id: "release-out", "aria-live": "polite" });
  const form = h("form", { class: "inline", id: "release-form" },
    field(t("qa.batch"), { name: "batch", required: true }),
    h("button", { type: "submit" }, t("qa.checklist")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault(); out.textContent = "";
    const batch = value(form, "batch");
    try {
      const c = (await gql(CHECKLIST, { batch })).releaseChecklist;
      out.append(h("p", {}, c.releasable ? statusBadge("releasable") : statusBadge("not_releasable")),
        h("ul", { class: "checklist", id: "release-checklist" }, c.conditions.map((x) => h("li", { class: x.ok ? "ok" : "bad" },
          x.ok ? "✓ " : "✗ ", h("b", {}, t("release." + x.name, {}, x.name)), " — ", x.why,
          x.details.length ? h("ul", {}, x.details.map((dt) => h("li", {}, dt))) : ""))));
      if (c.releasable && session.can("qms.write")) {
        const b = h("button", { type: "button", class: "primary" }, t("qa.openRelease"));
        b.addEventListener("click", busy(b, async () => {
          try {
            const r = (await gql(OPEN_RELEASE, { batch, fields: { batch_id: batch } })).openQualityRecord;
            location.hash = `#/qa/release/${encodeURIComponent(r.id)}`;
          } catch (e) { out.append(errorBox(e)); }
        }));
        out.append(b);
      }
    } catch (e) { out.append(errorBox(e)); }
  });
  return h("section", { class: "card" }, h("h2", {}, t("qa.release")), h("p", { class: "small" }, t("qa.releaseHelp")), form, out);
}

async function record(view, type, id, notice) {
  const r = (await gql(RECORD, { type, id })).qualityRecord;
  const msg = h("div", { id: "qa-msg", "aria-live": "polite" }, notice ? h("p", { class: "ok", role: "status" }, notice) : "");
  const steps = h("div", { class: "actions", id: "qa-steps", role: "group", "aria-label": t("recall.steps") });
  for (const s of r.steps) {
    const allowed = session.can(s.permission);
    const b = h("button", { type: "button", "data-step": s.name, class: s.signature ? "primary" : "", disabled: !allowed,
      title: s.help || null }, t("qstep." + s.name, {}, s.name), s.signature ? " ✍" : "");
    b.addEventListener("click", async () => {
      msg.textContent = "";
      const extra = s.required.filter((f) => r.props[f] === undefined || r.props[f] === null || r.props[f] === "")
        .map((f) => field(t("field." + f, {}, f), { name: "f_" + f, required: true }));
      let v = {};
      if (extra.length || s.reasonRequired) {
        v = await ask(t("qstep." + s.name, {}, s.name), [h("p", { class: "small" }, s.help), ...extra,
          field(t("common.reason"), { name: "reason", required: s.reasonRequired }, "textarea")]);
        if (!v) return;
      }
      if (s.signature) {
        const sv = await esign({ record: `${r.label} ${r.id}`, meaning: s.signature, action: t("qstep." + s.name, {}, s.name) });
        if (!sv) return;
        v = { ...v, password: sv.password, reason: [v.reason, sv.reason].filter(Boolean).join(" — ") };
      }
      const fields = {};
      for (const [k, val] of Object.entries(v)) {
        if (!k.startsWith("f_")) continue;
        const name = k.slice(2);
        fields[name] = val === "true" ? true : val === "false" ? false : /^(actions|new_document_versions)$/.test(name) ? val.split(/\n|;/).map((x) => x.trim()).filter(Boolean) : val;
      }
      try {
        await gql(STEP, { type: r.type, id: r.id, step: s.name, fields: Object.keys(fields).length ? fields : null,
          reason: v.reason || "", password: v.password || null });
        view.textContent = "";
        await record(view, type, id, t("recall.stepDone", { step: t("qstep." + s.name, {}, s.name) }));
      } catch (e) { msg.append(errorBox(e)); }
    });
    steps.append(b);
  }
  if (!r.steps.length) steps.append(h("p", { class: "small" }, t("recall.noSteps")));
  const props = Object.entries(r.props).filter(([k]) => !/hash|^id$/.test(k));
  view.append(
    h("p", {}, h("a", { href: "#/qa" }, "← ", t("nav.qa"))),
    h("h1", {}, `${t("qtype." + typeKey(r.type), {}, r.label)} `, h("span", { "data-testid": "qa-id" }, r.id), " ", statusBadge(r.status)),
    msg, steps,
    r.flags.length ? h("ul", { class: "warn" }, r.flags.map((f) => h("li", {}, f))) : "",
    h("div", { class: "two" },
      h("section", { class: "card" }, h("h2", {}, t("qa.fields")),
        h("dl", { class: "kv", id: "qa-props" }, props.map(([k, v]) => [h("dt", {}, t("field." + k, {}, k)),
          h("dd", {}, /_at$|date|_due$/.test(k) && typeof v === "string" ? when(v) : typeof v === "object" ? JSON.stringify(v) : String(v))]))),
      h("section", { class: "card" }, h("h2", {}, t("qa.concerns")),
        h("ul", { id: "qa-concerns" }, r.concerns.map((c) => h("li", {}, `${t("kind." + c.label, {}, c.label)} `,
          c.label === "Serial" || c.label === "Batch" || c.label === "MaterialLot"
            ? h("a", { href: `#/trace/${encodeURIComponent(c.id)}` }, c.id) : c.id))),
        r.addressedBy.length ? [h("h3", {}, t("qa.addressedBy")), h("ul", {}, r.addressedBy.map((c) => h("li", {}, `${c.label} ${c.id}`)))] : "")),
    h("section", { class: "card" }, h("h2", {}, t("common.signatures")),
      r.signatures.length ? table([
        { label: t("esign.meaning"), get: (s) => t("meaning." + s.meaning, {}, s.meaning) },
        { label: t("esign.printedName"), get: (s) => s.signerName },
        { label: t("common.when"), get: (s) => when(s.signedAt) },
        { label: t("common.reason"), get: (s) => s.reason },
        { label: t("esign.valid"), get: (s) => (s.valid ? "✓" : "✗ " + s.status) },
      ], r.signatures, { id: "qa-signatures" }) : h("p", { class: "small" }, t("common.none"))),
    h("p", {}, h("a", { href: `#/audit/${encodeURIComponent(r.id)}` }, t("audit.historyOf", { id: r.id }))));
}

export async function render(view, [type, id]) {
  if (type && id) await record(view, type, id);
  else await board(view);
}
