// Audit: chain status (head, last signed checkpoint; a full verify on demand), and the audit
// trail review filtered by period (in the user's time zone), user, record and action, with old
// and new values side by side, paged, and exported as CSV.
"use strict";
import { gql, session } from "../api.js";
import { t, tz, zoneInstant, fmtDate } from "../i18n.js";
import { h, field, value, errorBox, num, when, busy, badge } from "../ui.js";

const STATUS = `{ auditStatus { headSeq headHash sinceCheckpoint lastCheckpoint { id size ts createdBy } } }`;
const LOG = `query($target: String, $user: String, $since: String, $until: String, $action: String, $after: String) {
  auditLog(target: $target, user: $user, since: $since, until: $until, action: $action, first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { seq ts actor actorName action targetLabel targetKey changes reason } } } }`;
const VERIFY = `{ auditVerify(fromSeq: 1, checkState: true) { ok entriesChecked headSeq seconds firstError { seq kind message } } }`;

const REVIEW = `query($from: String!, $to: String!, $user: String, $action: String, $tz: String) {
  auditReview(periodFrom: $from, periodTo: $to, user: $user, action: $action, timezone: $tz, verifyChain: false) }`;

const filters = { since: "", until: "", user: "", target: "", action: "" };

/** The periodic review (Annex 11 §9) of the filtered period: changes counted, exceptions flagged by
 * the engine's rules (outside working hours, disabled users, bursts, failed logins and signatures). */
async function review(out) {
  out.textContent = "";
  const day = (d) => d.toISOString().slice(0, 10);
  const to = filters.until ? new Date(`${filters.until}T00:00:00Z`) : new Date();
  const end = new Date(to.getTime() + 86400000);
  const from = filters.since || day(new Date(end.getTime() - 30 * 86400000));
  try {
    const r = (await gql(REVIEW, { from, to: day(end), user: filters.user || null, action: filters.action || null,
      tz: tz() })).auditReview;
    out.append(h("section", { class: "card", id: "audit-review" },
      h("h2", {}, t("audit.review")),
      h("p", { "data-field": "review-counts" }, t("audit.reviewCounts", { n: num(r.entries.length), f: num(r.findings.length) })),
      r.findings.length ? h("table", { class: "findings", id: "review-findings" },
        h("thead", {}, h("tr", {}, [t("audit.rule"), "#", t("audit.user"), t("common.when"), t("audit.finding")].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, r.findings.map((f) => h("tr", { "data-rule": f.rule },
          h("td", {}, t("rule." + f.rule, {}, f.rule)), h("td", {}, f.seq ?? ""), h("td", {}, f.actor), h("td", {}, when(f.ts)),
          h("td", {}, f.message)))))
        : h("p", { class: "ok" }, t("audit.noFindings"))));
  } catch (e) { out.append(errorBox(e)); }
}

function changeRows(changes) {
  const list = Array.isArray(changes) ? changes : [];
  if (!list.length) return "";
  return h("table", { class: "changes" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("audit.field")), h("th", { scope: "col" }, t("audit.old")), h("th", { scope: "col" }, t("audit.new")))),
    h("tbody", {}, list.map((c) => h("tr", {}, h("td", {}, c.field), h("td", { class: "old" }, shown(c.old)), h("td", { class: "new" }, shown(c.new))))));
}

/** A value as stored; a timestamp also in the user's zone (the stored text stays visible). */
function shown(v) {
  const raw = fmt(v);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return [h("time", { datetime: v }, fmtDate(v)), h("br"), h("code", { class: "small" }, raw)];
  return raw;
}

function fmt(v) { return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v); }

function csv(entries) {
  const esc = (s) => `"${String(s ?? "").replace(/"/g, '""')}"`;
  const lines = [["seq", "ts", "actor", "actor_name", "action", "target_label", "target_key", "field", "old", "new", "reason"].join(",")];
  for (const e of entries) {
    const ch = Array.isArray(e.changes) && e.changes.length ? e.changes : [{}];
    for (const c of ch) lines.push([e.seq, e.ts, e.actor, e.actorName, e.action, e.targetLabel, e.targetKey, c.field, fmt(c.old), fmt(c.new), e.reason].map(esc).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

async function statusCard() {
  const box = h("section", { class: "card", id: "audit-status" }, h("h2", {}, t("audit.chain")));
  try {
    const s = (await gql(STATUS)).auditStatus;
    const cp = s.lastCheckpoint;
    const result = h("div", { id: "verify-out", "aria-live": "polite" });
    box.append(h("dl", { class: "kv" },
      h("dt", {}, t("audit.head")), h("dd", { "data-field": "head" }, `#${num(s.headSeq)} `, h("code", {}, s.headHash.slice(0, 16) + "…")),
      h("dt", {}, t("audit.lastCheckpoint")), h("dd", {}, cp ? [`#${num(cp.size)} · `, when(cp.ts), ` · ${cp.createdBy}`] : t("audit.noCheckpoint")),
      h("dt", {}, t("audit.sinceCheckpoint")), h("dd", {}, num(s.sinceCheckpoint))), result);
    if (session.can("audit.verify")) {
      const b = h("button", { type: "button", id: "verify" }, t("audit.verify"));
      b.addEventListener("click", busy(b, async () => {
        result.textContent = "";
        try {
          const v = (await gql(VERIFY)).auditVerify;
          result.append(h("p", { class: v.ok ? "ok" : "error", role: "status" }, v.ok
            ? t("audit.verified", { n: num(v.entriesChecked), s: v.seconds.toFixed(2) })
            : t("audit.broken", { seq: v.firstError ? v.firstError.seq : "?", msg: v.firstError ? v.firstError.message : "" })));
        } catch (e) { result.append(errorBox(e)); }
      }));
      box.append(b);
    }
  } catch (e) { box.append(errorBox(e)); }
  return box;
}

export async function render(view, [target]) {
  if (target) filters.target = target;
  const form = h("form", { id: "audit-filter", class: "card grid", role: "search", "aria-labelledby": "audit-filter-title" },
    h("h2", { id: "audit-filter-title", class: "span" }, t("audit.trail")),
    field(t("audit.from"), { name: "since", type: "date", value: filters.since }),
    field(t("audit.to"), { name: "until", type: "date", value: filters.until }),
    field(t("audit.user"), { name: "user", value: filters.user }),
    field(t("audit.record"), { name: "target", value: filters.target }),
    field(t("audit.action"), { name: "action", value: filters.action, placeholder: "recall.approve" }),
    h("div", { class: "span actions" }, h("button", { type: "submit", class: "primary" }, t("audit.apply")),
      h("button", { type: "button", id: "audit-clear" }, t("audit.clear")),
      h("button", { type: "button", id: "audit-export" }, t("audit.export")),
      session.can("audit.review") ? h("button", { type: "button", id: "audit-review-run" }, t("audit.runReview")) : ""));
  const reviewOut = h("div", { id: "audit-review-out", "aria-live": "polite" });
  const out = h("div", { id: "audit-out", "aria-live": "polite" });
  let shown = [];
  const load = async (after = null) => {
    const vars = { target: filters.target || null, user: filters.user || null, action: filters.action || null,
      since: zoneInstant(filters.since), until: zoneInstant(filters.until, true), after };
    if (!after) { out.textContent = ""; shown = []; }
    out.querySelector(".more")?.remove();
    try {
      const d = (await gql(LOG, vars)).auditLog;
      const entries = d.edges.map((e) => e.node);
      shown.push(...entries);
      if (!after) out.append(h("p", { class: "small", id: "audit-count" }, t("audit.count", { n: num(d.totalCount) })));
      let list = out.querySelector("ol");
      if (!list) { list = h("ol", { class: "entries", id: "audit-entries" }); out.append(list); }
      for (const e of entries) {
        list.append(h("li", { class: "entry card", "data-seq": e.seq, "data-action": e.action },
          h("div", { class: "entry-head" }, h("b", {}, `#${e.seq}`), " ", when(e.ts), " ", badge(e.action), " ",
            h("span", {}, `${e.actorName} (${e.actor})`), " → ", h("span", {}, `${t("kind." + e.targetLabel, {}, e.targetLabel)} `,
              h("a", { href: `#/audit/${encodeURIComponent(e.targetKey)}` }, e.targetKey))),
          e.reason ? h("p", { class: "small" }, t("common.reason"), ": ", e.reason) : "",
          changeRows(e.changes)));
      }
      if (d.pageInfo.hasNextPage) {
        const more = h("button", { type: "button", class: "more" }, t("common.more"));
        more.addEventListener("click", () => load(d.pageInfo.endCursor));
        out.append(more);
      }
    } catch (e) { out.append(errorBox(e)); }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const k of Object.keys(filters)) filters[k] = value(form, k) || "";
    load();
  });
  form.querySelector("#audit-clear").addEventListener("click", () => {
    for (const k of Object.keys(filters)) { filters[k] = ""; form.elements.namedItem(k).value = ""; }
    if (location.hash !== "#/audit") location.hash = "#/audit"; else load();
  });
  form.querySelector("#audit-export").addEventListener("click", () => {
    const a = h("a", { href: URL.createObjectURL(new Blob([csv(shown)], { type: "text/csv" })), download: "audit-trail.csv" });
    document.body.append(a); a.click(); a.remove();
  });
  form.querySelector("#audit-review-run")?.addEventListener("click", () => {
    for (const k of Object.keys(filters)) filters[k] = value(form, k) || "";
    review(reviewOut);
  });
  view.append(h("h1", {}, t("nav.audit")), await statusCard(), form, reviewOut, out);
  await load();
}
