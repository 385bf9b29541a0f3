// Recall board: campaigns by status with class, jurisdiction and their regulatory clocks; a recall
// page with per-customer progress, clocks, signatures and the lifecycle steps GraphQL offers
// (approve and close are e-signed in a dialog that follows 21 CFR 11.200).
"use strict";
import { gql, session } from "../api.js";
import { t, tz, fmtDate } from "../i18n.js";
import { h, field, table, errorBox, num, statusBadge, when, esign, ask, badge, lineChart } from "../ui.js";

const BOARD = `{ recalls(first: 200) { totalCount edges { node {
  id status jurisdiction recallClass reason createdAt unitsCovered customersAffected effectivenessPct drill
  deadlines { name state dueAt } } } } }`;

const ONE = `query($id: String!) { recall(id: $id) {
  id status jurisdiction recallClass type reason healthHazard depth responsible createdBy createdAt decisionAt
  approvedAt approvedBy startedAt completedAt closedAt closedBy cancelledAt unitsCovered fieldUnits serialsCovered
  batchesCovered customersAffected quarantinedSerials quarantinedBatches effectivenessPct exception snapshotDigest drill
  deadlines { clock name article state dueAt doneAt hoursLeft period }
  customers { id name country language status sentAt deliveredAt bouncedAt acknowledgedAt acknowledgedBy units returned destroyed corrected
    consumed notFound stockCount }
  effectiveness { overallPct targetPct meetsTarget expected accounted customersAcknowledged customersTotal
    awaitingAcknowledgement checkDay checkLevel customers { customer accounted unaccounted pct } }
} signatures(label: "Recall", key: $id) { id meaning signerId signerName signedAt reason valid status } }`;

const TIMELINE = `query($id: String!, $by: TimelineBy!, $tz: String!) { recall(id: $id) {
  effectivenessTimeline(by: $by, tz: $tz) { targetPct by points { at day event customer notified acknowledged
  unitsAccounted effectivenessPct } } } }`;
/** beyond this many events the chart shows one point per day */
const MAX_EVENT_POINTS = 300;

const MILESTONES = ["authority_report", "plan_submission", "progress_report", "summary_report", "report_806",
  "incident_report", "fsca_report", "fsn_issued", "public_notice"];

const COLUMNS = ["draft", "approved", "in_progress", "effectiveness_check", "closed", "cancelled"];

/** The lifecycle steps of engine/recall.py that GraphQL offers, by the status they start from. */
const STEPS = [
  { name: "approve", from: ["draft"], perm: "recall.approve", signed: "approved",
    run: (id, v) => gql(`mutation($id: String!, $p: String!, $r: String!) { approveRecall(id: $id, password: $p, reason: $r) { id status } }`, { id, p: v.password, r: v.reason }) },
  { name: "start", from: ["approved"], perm: "recall.create",
    run: (id) => gql(`mutation($id: String!) { startRecall(id: $id) { id status } }`, { id }) },
  { name: "complete", from: ["in_progress"], perm: "recall.create", reason: true,
    run: (id, v) => gql(`mutation($id: String!, $r: String!) { completeRecall(id: $id, reason: $r) { id status } }`, { id, r: v.reason }) },
  { name: "close", from: ["effectiveness_check"], perm: "recall.approve", signed: "closed",
    extra: () => [field(t("recall.exception"), { name: "exception", maxlength: 2000 }, "textarea")],
    run: (id, v) => gql(`mutation($id: String!, $p: String!, $r: String!, $x: String) { closeRecall(id: $id, password: $p, reason: $r, exception: $x) { id status } }`,
      { id, p: v.password, r: v.reason, x: v.exception || null }) },
  { name: "notify", from: ["approved", "in_progress", "effectiveness_check"], perm: "recall.create",
    run: (id) => gql(`mutation($id: String!) { notifyRecall(id: $id, markSent: true) }`, { id }) },
  { name: "milestone", from: ["approved", "in_progress", "effectiveness_check"], perm: "recall.create",
    form: () => [
      field(t("recall.milestone"), { name: "milestone", required: true }, "select",
        MILESTONES.map((m) => [m, t("milestone." + m, {}, m)])),
      field(t("recall.reference"), { name: "reference", maxlength: 200 })],
    run: (id, v) => gql(`mutation($id: String!, $m: String!, $r: String!) { recordMilestone(id: $id, milestone: $m, reference: $r) { id } }`,
      { id, m: v.milestone, r: v.reference || "" }) },
  { name: "effectiveness", from: ["in_progress", "effectiveness_check"], perm: "recall.create",
    run: (id) => gql(`mutation($id: String!) { recordEffectivenessCheck(id: $id) }`, { id }) },
  { name: "cancel", from: ["draft", "approved", "in_progress", "effectiveness_check"], perm: "recall.approve", reason: true, danger: true,
    run: (id, v) => gql(`mutation($id: String!, $r: String!) { cancelRecall(id: $id, reason: $r) { id status } }`, { id, r: v.reason }) },
];

/** What a customer's form can record: a notification step (recordCustomerStep) or units accounted
 * for with an outcome (recordReturns), the CLI's `recall ack --step ...` and `recall return --disposition ...`. */
const CUSTOMER_STEPS = ["delivered", "bounced", "acknowledged", "stock_count"];
const OUTCOMES = ["returned", "destroyed", "corrected", "consumed", "not_found"];
/** the customer and step of the last recorded step, preselected after the page reloads (per recall) */
const lastChoice = { recall: null, customer: null, action: null };
/** which inputs each action uses (the others are hidden, so out of the tab order) */
const ACTION_FIELDS = {
  delivered: ["note"], bounced: ["note"], acknowledged: ["by", "stock", "note"], stock_count: ["stock", "note"],
  ...Object.fromEntries(OUTCOMES.map((o) => [o, ["scans", "qty", "transfer", "note"]])),
};
/** a field the server names in its refusal (input.stock_count, qty, scans, ...) -> the form's input */
const SERVER_FIELDS = { stock_count: "stock", stockCount: "stock", qty: "qty", scans: "scans", by: "by", note: "note",
  transfer: "transfer", customer: "customer", step: "action", disposition: "action" };

/** The refusal under the form; when the server names a field, the input is marked invalid, named
 * in the message by its label, described by the message and focused. */
export function showFieldError(form, box, err) {
  box.textContent = "";
  const key = String(err.field || "").split(".").pop();
  const name = SERVER_FIELDS[key] || SERVER_FIELDS[key.replace(/_(\w)/g, (_, c) => c.toUpperCase())];
  const el = name ? form.elements.namedItem(name) : null;
  const label = el && el.labels && el.labels.length ? el.labels[0].textContent : "";
  const p = errorBox(err);
  if (label) p.prepend(t("recall.badField", { field: label }) + " ");
  p.id = `${form.id}-error`;
  if (el) { p.dataset.field = name; el.setAttribute("aria-invalid", "true"); el.setAttribute("aria-describedby", p.id); }
  box.append(p);
  if (el) el.focus();
}

/** One customer's step: notice delivered or bounced (undeliverable), an acknowledgement (with its stock count), a stock count
 * on its own, or units accounted for: returned, destroyed, corrected in the field, used up or not
 * found, by scan (a keyboard-wedge scanner types into the scan box; one code per line) and/or by
 * quantity (lots and batch-level stock have no serials). */
function customerActions(rec, refresh, msg) {
  const canWrite = session.can("recall.create");
  const returnsOpen = ["in_progress", "effectiveness_check"].includes(rec.status);
  const actions = [...CUSTOMER_STEPS, ...(returnsOpen ? OUTCOMES : [])];
  const errors = h("div", { class: "field-errors", "aria-live": "assertive" });
  const wrap = (name, el) => { el.dataset.for = name; return el; };
  const form = h("form", { class: "card", id: "customer-action", "aria-label": t("recall.customerAction") },
    h("h2", {}, t("recall.customerAction")),
    h("div", { class: "row" },
      field(t("field.customer"), { name: "customer", required: true }, "select",
        rec.customers.map((c) => [c.id, c.name ? `${c.name} (${c.id})` : c.id])),
      field(t("recall.action"), { name: "action", required: true }, "select",
        actions.map((a) => [a, t("recall.act." + a)]))),
    h("div", { class: "row" },
      wrap("by", field(t("recall.ackBy"), { name: "by", maxlength: 200, autocomplete: "off" })),
      wrap("stock", field(t("recall.stockCount"), { name: "stock", type: "number", min: 0, step: "any" })),
      wrap("scans", field(t("recall.scans"), { name: "scans", rows: 2 }, "textarea")),
      wrap("qty", field(t("recall.qty"), { name: "qty", type: "number", min: 0, step: "any" })),
      wrap("transfer", field(t("recall.transfer"), { name: "transfer", type: "checkbox" })),
      wrap("note", field(t("recall.note"), { name: "note", rows: 1, maxlength: 2000 }, "textarea"))),
    errors,
    h("button", { type: "submit", disabled: !canWrite, title: canWrite ? null : t("recall.noPermission", { perm: "recall.create" }) },
      t("recall.record")));
  const sel = form.elements.namedItem("action");
  if (lastChoice.recall === rec.id) {
    if (rec.customers.some((c) => c.id === lastChoice.customer)) form.elements.namedItem("customer").value = lastChoice.customer;
    if (actions.includes(lastChoice.action)) sel.value = lastChoice.action;
  }
  const show = () => {
    const used = ACTION_FIELDS[sel.value] || [];
    for (const el of form.querySelectorAll("[data-for]")) el.hidden = !used.includes(el.dataset.for);
    form.elements.namedItem("stock").required = sel.value === "stock_count";
  };
  sel.addEventListener("change", show);
  show();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = ""; errors.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
    const f = form.elements;
    const customer = f.namedItem("customer").value;
    const action = sel.value;
    const note = f.namedItem("note").value;
    try {
      if (CUSTOMER_STEPS.includes(action)) {
        const input = { step: action, note };
        if (action === "acknowledged") input.by = f.namedItem("by").value.trim() || session.me.name;
        const stock = f.namedItem("stock").value;
        if (["acknowledged", "stock_count"].includes(action) && stock !== "") input.stockCount = Number(stock);
        await gql(`mutation($id: String!, $c: String!, $i: CustomerStepInput!) { recordCustomerStep(id: $id, customer: $c, input: $i) { id } }`,
          { id: rec.id, c: customer, i: input });
      } else {
        const scans = f.namedItem("scans").value.split(/\n+/).map((x) => x.trim()).filter(Boolean);
        const qty = f.namedItem("qty").value;
        await gql(`mutation($id: String!, $c: String!, $i: ReturnInput!) { recordReturns(id: $id, customer: $c, input: $i) { recall } }`,
          { id: rec.id, c: customer, i: { disposition: action, scans, qty: qty === "" ? 0 : Number(qty), note,
            transfer: f.namedItem("transfer").checked } });
      }
      Object.assign(lastChoice, { recall: rec.id, customer, action });
      await refresh(t("recall.recordedStep", { step: t("recall.act." + action), customer }));
    } catch (e) { showFieldError(form, errors, e); }
  });
  return form;
}

/** Effectiveness now (Recall.effectiveness): units accounted for against the class's target. */
function effectivenessCard(eff) {
  const pct = (v) => `${v.toFixed(1)}%`;
  const facts = [["overall", pct(eff.overallPct)], ["target", pct(eff.targetPct)],
    ["meets", eff.meetsTarget ? badge(t("recall.eff.yes"), "good") : badge(t("recall.eff.no"), "bad")],
    ["accounted", `${num(eff.accounted)} / ${num(eff.expected)}`],
    ["acknowledged", `${eff.customersAcknowledged} / ${eff.customersTotal}`],
    ["awaiting", eff.awaitingAcknowledgement.length ? eff.awaitingAcknowledgement.join(", ") : "—"]];
  return h("section", { class: "card", id: "recall-effectiveness" }, h("h2", {}, t("recall.eff.title")),
    h("dl", { class: "kv" }, facts.map(([k, v]) => [h("dt", {}, t("recall.eff." + k)), h("dd", { "data-field": k }, v)])),
    eff.checkDay ? h("p", { class: "small" }, t("recall.eff.check", { day: eff.checkDay, level: eff.checkLevel ? ` (${eff.checkLevel})` : "" })) : "");
}

/** Effectiveness over time (Recall.effectivenessTimeline) against the class's target, as a line chart. */
async function timelineChart(id) {
  let tl = (await gql(TIMELINE, { id, by: "EVENT", tz: tz() })).recall.effectivenessTimeline;
  if (tl.points.length > MAX_EVENT_POINTS) tl = (await gql(TIMELINE, { id, by: "DAY", tz: tz() })).recall.effectivenessTimeline;
  const pts = tl.points.map((p) => ({
    at: p.at, value: p.effectivenessPct,
    title: t("recall.timelinePoint", { when: fmtDate(p.at), event: t("recall.event." + p.event, {}, p.event),
      customer: p.customer ? ` (${p.customer})` : "", pct: p.effectivenessPct.toFixed(1), notified: p.notified,
      acknowledged: p.acknowledged, units: num(p.unitsAccounted) }),
  }));
  const last = tl.points[tl.points.length - 1];
  return h("section", { class: "card", id: "recall-timeline", "data-by": tl.by, "data-points": pts.length },
    h("h2", {}, t("recall.timeline")),
    lineChart(t("recall.timelineChart"), pts, { target: tl.targetPct, targetLabel: t("recall.target", { pct: tl.targetPct }),
      fmtX: (iso) => fmtDate(iso) }),
    h("p", { class: "small" }, t("recall.timelineNow", { pct: last.effectivenessPct.toFixed(1), target: tl.targetPct,
      notified: last.notified, acknowledged: last.acknowledged, units: num(last.unitsAccounted) })));
}

function clockSummary(deadlines) {
  const overdue = deadlines.filter((d) => d.state === "overdue");
  const soon = deadlines.filter((d) => d.state === "due_soon");
  const next = deadlines.filter((d) => d.dueAt && ["pending", "due_soon", "overdue"].includes(d.state))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt))[0];
  return h("div", { class: "clocks" },
    overdue.length ? badge(t("recall.overdueN", { n: overdue.length }), "bad") : "",
    soon.length ? badge(t("recall.dueSoonN", { n: soon.length }), "warn") : "",
    next ? h("span", { class: "small" }, t("recall.nextDue", { name: next.name }), " ", when(next.dueAt)) : "");
}

async function board(view) {
  const d = await gql(BOARD);
  const recs = d.recalls.edges.map((e) => e.node);
  view.append(h("h1", {}, t("nav.recalls")),
    h("p", { class: "small" }, t("recall.boardHelp", { n: d.recalls.totalCount })));
  const cols = h("div", { class: "board", id: "recall-board" });
  for (const st of COLUMNS) {
    const items = recs.filter((r) => r.status === st);
    cols.append(h("section", { class: "column", "aria-labelledby": `col-${st}`, "data-status": st },
      h("h2", { id: `col-${st}` }, t("status." + st, {}, st), " ", h("span", { class: "count" }, items.length)),
      items.length ? items.map((r) => h("article", { class: "card recall", "data-recall": r.id },
        h("h3", {}, h("a", { href: `#/recalls/${encodeURIComponent(r.id)}` }, r.id), r.drill ? badge(t("recall.drill")) : ""),
        h("p", {}, badge(t("recall.classN", { c: r.recallClass }), r.recallClass === "I" ? "bad" : ""), " ", badge(r.jurisdiction)),
        h("p", { class: "small reason" }, r.reason),
        h("p", { class: "small" }, t("recall.unitsCustomers", { u: num(r.unitsCovered), c: r.customersAffected })),
        r.effectivenessPct !== null ? h("p", { class: "small" }, t("recall.effectiveness"), ": ", `${r.effectivenessPct.toFixed(1)}%`) : "",
        clockSummary(r.deadlines))) : h("p", { class: "small muted" }, t("common.none"))));
  }
  view.append(cols);
}

function stepButtons(rec, refresh, msg) {
  const box = h("div", { class: "actions", id: "recall-steps", role: "group", "aria-label": t("recall.steps") });
  for (const s of STEPS.filter((x) => x.from.includes(rec.status))) {
    const allowed = session.can(s.perm);
    const btn = h("button", { type: "button", class: s.danger ? "danger" : s.signed ? "primary" : "", "data-step": s.name,
      disabled: !allowed, title: allowed ? null : t("recall.noPermission", { perm: s.perm }) },
    t("recall.step." + s.name), s.signed ? " ✍" : "");
    btn.addEventListener("click", async () => {
      msg.textContent = "";
      let v = {};
      if (s.signed) {
        v = await esign({ record: `${t("kind.Recall")} ${rec.id}`, meaning: s.signed, action: t("recall.step." + s.name),
          extra: s.extra ? s.extra() : [] });
        if (!v) return;
      } else if (s.reason) {
        v = await ask(t("recall.step." + s.name), [field(t("common.reason"), { name: "reason", required: true }, "textarea")]);
        if (!v) return;
      } else if (s.form) {
        v = await ask(t("recall.step." + s.name), s.form());
        if (!v) return;
      }
      try {
        await s.run(rec.id, v);
        await refresh(t("recall.stepDone", { step: t("recall.step." + s.name) }));
      } catch (e) { msg.append(errorBox(e)); }
    });
    box.append(btn);
  }
  if (!box.children.length) box.append(h("p", { class: "small" }, t("recall.noSteps")));
  return box;
}

async function page(view, id, notice) {
  const d = await gql(ONE, { id });
  const r = d.recall;
  const msg = h("div", { id: "recall-msg", "aria-live": "polite" },
    notice ? h("p", { class: "ok", role: "status" }, notice) : "");
  const refresh = async (note) => { view.textContent = ""; await page(view, id, note); };
  const acc = Object.fromEntries(r.effectiveness.customers.map((c) => [c.customer, c]));
  const facts = [["status", statusBadge(r.status)], ["class", r.recallClass], ["jurisdiction", r.jurisdiction],
    ["type", r.type], ["reason", r.reason], ["responsible", r.responsible], ["createdBy", r.createdBy],
    ["createdAt", when(r.createdAt)], ["approvedBy", r.approvedBy], ["approvedAt", when(r.approvedAt)],
    ["startedAt", when(r.startedAt)], ["completedAt", when(r.completedAt)], ["closedAt", when(r.closedAt)],
    ["unitsCovered", num(r.unitsCovered)], ["fieldUnits", num(r.fieldUnits)], ["customersAffected", r.customersAffected],
    ["quarantined", `${num(r.quarantinedSerials)} / ${num(r.quarantinedBatches)}`],
    ["effectiveness", r.effectivenessPct === null ? "—" : `${r.effectivenessPct.toFixed(1)}%`],
    ["exception", r.exception || "—"],
    ["snapshot", h("code", {}, r.snapshotDigest.slice(0, 16) + "…")]];
  view.append(
    h("p", {}, h("a", { href: "#/recalls" }, "← ", t("nav.recalls"))),
    h("h1", {}, t("kind.Recall"), " ", h("span", { "data-testid": "recall-id" }, r.id), " ", statusBadge(r.status)),
    msg,
    stepButtons(r, refresh, msg),
    h("div", { class: "two" },
      h("section", { class: "card" }, h("h2", {}, t("recall.facts")),
        h("dl", { class: "kv", id: "recall-facts" }, facts.map(([k, v]) => [h("dt", {}, t("recall.f." + k)), h("dd", { "data-field": k }, v ?? "")]))),
      h("section", { class: "card" }, h("h2", {}, t("recall.clocks")),
        table([
          { label: t("recall.clock"), get: (c) => h("span", { title: c.article }, c.name) },
          { label: t("recall.due"), get: (c) => when(c.dueAt) },
          { label: t("recall.state"), get: (c) => statusBadge(c.state) },
          { label: t("recall.done"), get: (c) => when(c.doneAt) },
        ], r.deadlines, { id: "recall-clocks" }))),
    h("section", { class: "card" }, h("h2", {}, t("recall.customers"), " (", r.customers.length, ")"),
      table([
        { label: t("field.customer"), get: (c) => c.name || c.id },
        { label: t("field.country"), get: (c) => c.country },
        { label: t("recall.units"), get: (c) => num(c.units), cls: "num" },
        { label: t("field.status"), get: (c) => statusBadge(c.status) },
        { label: t("recall.sent"), get: (c) => when(c.sentAt) },
        { label: t("recall.delivered"), get: (c) => (c.status === "bounced" ? [statusBadge("bounced"), " ", when(c.bouncedAt)] : when(c.deliveredAt)), cls: "c-delivered" },
        { label: t("recall.acknowledged"), get: (c) => [when(c.acknowledgedAt), c.acknowledgedBy ? h("span", { class: "small" }, " ", c.acknowledgedBy) : ""], cls: "c-acknowledged" },
        { label: t("recall.stock"), get: (c) => num(c.stockCount), cls: "num c-stock" },
        ...OUTCOMES.map((o) => ({ label: t("recall.out." + o), get: (c) => num(c[o === "not_found" ? "notFound" : o]), cls: `num c-${o}` })),
        { label: t("recall.accounted"), get: (c) => { const x = acc[c.id]; return x ? `${num(x.accounted)} (${x.pct.toFixed(1)}%)` : ""; }, cls: "num c-accounted" },
      ], r.customers, { id: "recall-customers" }, (c) => ({ "data-customer": c.id }))),
    r.customers.length && ["approved", "in_progress", "effectiveness_check"].includes(r.status) ? customerActions(r, refresh, msg) : "",
    r.status === "draft" ? "" : effectivenessCard(r.effectiveness),
    r.status === "draft" ? "" : await timelineChart(r.id),
    h("section", { class: "card" }, h("h2", {}, t("common.signatures")),
      d.signatures.length ? table([
        { label: t("esign.meaning"), get: (s) => t("meaning." + s.meaning, {}, s.meaning) },
        { label: t("esign.printedName"), get: (s) => s.signerName },
        { label: t("esign.userId"), get: (s) => s.signerId },
        { label: t("common.when"), get: (s) => when(s.signedAt) },
        { label: t("common.reason"), get: (s) => s.reason },
        { label: t("esign.valid"), get: (s) => (s.valid ? "✓" : "✗ " + s.status) },
      ], d.signatures, { id: "recall-signatures" }) : h("p", { class: "small" }, t("common.none"))),
    h("p", {}, h("a", { href: `#/audit/${encodeURIComponent(r.id)}` }, t("audit.historyOf", { id: r.id }))));
}

export async function render(view, [id]) {
  if (id) await page(view, id);
  else await board(view);
}
