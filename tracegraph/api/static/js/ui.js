// Small DOM helpers shared by the screens: elements, labelled fields, tables, SVG bar and line
// charts, the e-signature and reason dialogs. Text always goes in as text (never as HTML).
"use strict";
import { t, fmtDate, lang } from "./i18n.js";
import { session } from "./api.js";

let uid = 0;

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** A labelled form control: <label for=id>text</label><input id=id ...> wrapped in a div. */
export function field(label, attrs = {}, tag = "input", options = null) {
  const id = attrs.id || `f${++uid}`;
  let control;
  if (tag === "select") {
    control = h("select", { ...attrs, id }, (options || []).map(([v, text]) => h("option", { value: v }, text)));
  } else if (tag === "textarea") {
    control = h("textarea", { ...attrs, id });
  } else {
    control = h("input", { ...attrs, id });
  }
  const wrap = h("div", { class: attrs.type === "checkbox" ? "field check" : "field" },
    h("label", { for: id }, label), control);
  return wrap;
}

export function value(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return null;
  if (el.type === "checkbox") return el.checked;
  const v = el.value.trim();
  return v === "" ? null : v;
}

/** columns: [{label, get(row) -> text|Node, cls}]; rowAttrs(row) -> attributes of its <tr> */
export function table(columns, rows, attrs = {}, rowAttrs = null) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : {}, columns.map((c) => {
      const v = c.get(r);
      return h("td", { class: c.cls || null }, v === null || v === undefined ? "" : v);
    })))));
}

export function num(v) {
  if (v === null || v === undefined) return "";
  return new Intl.NumberFormat(document.documentElement.lang || "en").format(v);
}

/** A horizontal bar chart, drawn as SVG; data: [[label, value], ...]. */
export function barChart(title, data, { max = 12, onBar = null } = {}) {
  const rows = data.slice(0, max);
  const top = Math.max(1, ...rows.map(([, v]) => v));
  const bh = 22, lw = 150, W = 460;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${Math.max(1, rows.length) * bh + 4}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  svg.setAttribute("class", "chart");
  rows.forEach(([label, v], i) => {
    const g = document.createElementNS(NS, "g");
    const y = i * bh + 2;
    const text = document.createElementNS(NS, "text");
    text.setAttribute("x", lw - 6); text.setAttribute("y", y + 15); text.setAttribute("text-anchor", "end");
    text.textContent = String(label).length > 22 ? String(label).slice(0, 21) + "…" : label;
    const rect = document.createElementNS(NS, "rect");
    const w = Math.max(2, ((W - lw - 70) * v) / top);
    rect.setAttribute("x", lw); rect.setAttribute("y", y + 3); rect.setAttribute("height", bh - 6);
    rect.setAttribute("width", w); rect.setAttribute("rx", 2);
    const tt = document.createElementNS(NS, "title"); tt.textContent = `${label}: ${v}`; rect.appendChild(tt);
    const val = document.createElementNS(NS, "text");
    val.setAttribute("x", lw + w + 5); val.setAttribute("y", y + 15); val.setAttribute("class", "val");
    val.textContent = num(v);
    g.append(text, rect, val);
    g.dataset.label = label; g.dataset.value = v;
    if (onBar) { g.style.cursor = "pointer"; g.addEventListener("click", () => onBar(label)); }
    svg.appendChild(g);
  });
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), svg);
}

/**
 * A line chart over time, drawn as SVG: points [{at (ISO), value (0..100), title}], the y axis in %,
 * an optional target drawn as a dashed line. Each point is a <circle data-value data-at> with a title.
 */
export function lineChart(title, points, { target = null, targetLabel = "", yLabel = "%", fmtX = (iso) => iso } = {}) {
  const W = 460, H = 220, L = 40, R = 12, T = 12, B = 34;
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs = {}, text = null) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== null) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart line-chart" });
  const times = points.map((p) => new Date(p.at).getTime());
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const span = t1 - t0 || 1;
  const x = (t) => (times.length < 2 || t1 === t0 ? L + (W - L - R) / 2 : L + ((W - L - R) * (t - t0)) / span);
  const y = (v) => T + (H - T - B) * (1 - Math.max(0, Math.min(100, v)) / 100);
  for (const v of [0, 25, 50, 75, 100]) {
    svg.append(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
      el("text", { x: L - 5, y: y(v) + 4, "text-anchor": "end", class: "val" }, `${v}${yLabel}`));
  }
  if (points.length) {
    svg.append(el("text", { x: L, y: H - 8, class: "val" }, fmtX(points[0].at)),
      el("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "val" }, fmtX(points[points.length - 1].at)));
  }
  if (target !== null && target !== undefined) {
    const g = el("g", { class: "target", "data-value": target });
    g.append(el("line", { x1: L, x2: W - R, y1: y(target), y2: y(target) }),
      el("text", { x: W - R, y: y(target) + (target >= 90 ? 14 : -4), "text-anchor": "end" }, targetLabel));
    svg.append(g);
  }
  // a step line: the figure holds until the next event
  let d = "";
  points.forEach((p, i) => {
    const px = x(times[i]).toFixed(1), py = y(p.value).toFixed(1);
    d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
  });
  if (d) svg.append(el("path", { d, class: "series" }));
  points.forEach((p, i) => {
    const c = el("circle", { cx: x(times[i]).toFixed(1), cy: y(p.value).toFixed(1), r: 3.5, class: "point",
      "data-value": p.value, "data-at": p.at });
    c.append(el("title", {}, p.title || `${fmtX(p.at)}: ${p.value}`));
    svg.append(c);
  });
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), svg);
}

export function errorBox(err) {
  // the server answers in the user's language when it can (Accept-Language); when it did not
  // (err.lang is not the user's), a lead-in in the user's language says what kind of refusal it is
  const lead = err.code && err.lang !== lang() ? t("error." + err.code, {}, "") : "";
  const parts = [lead ? lead + " " : "", err.message];
  if (err.hint) parts.push(" — " + err.hint);
  return h("p", { class: "error", role: "alert" }, parts.join(""));
}

export function badge(text, kind = "") { return h("span", { class: `badge ${kind}` }, text); }

export function statusBadge(status) {
  const s = String(status || "");
  const kind = /overdue|rejected|quarantined|disqualified|bounced/.test(s) ? "bad"
    : /closed|released|done|approved|effective|completed|at_end_user/.test(s) ? "good"
      : /due_soon|draft|open|pending|in_transit/.test(s) ? "warn" : "";
  return badge(t("status." + s, {}, s), kind);
}

export function when(iso) { return iso ? h("time", { datetime: iso }, fmtDate(iso)) : ""; }

function modal(title, body, okText) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "modal", "aria-labelledby": "dlg-title" });
    const form = h("form", { method: "dialog" },
      h("h2", { id: "dlg-title" }, title), body,
      h("p", { class: "error", role: "alert", id: "dlg-error" }),
      h("div", { class: "actions" },
        h("button", { type: "button", value: "cancel", onclick: () => { dlg.close(); } }, t("common.cancel")),
        h("button", { type: "submit", class: "primary", value: "ok" }, okText)));
    dlg.appendChild(form);
    let result = null;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      result = Object.fromEntries(new FormData(form).entries());
      dlg.close();
    });
    dlg.addEventListener("close", () => { dlg.remove(); resolve(result); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector("input:not([readonly]), textarea");
    if (first) first.focus();
  });
}

/**
 * The e-signature dialog (21 CFR 11.50 / 11.200): shows the printed name, the user id, the
 * record and the meaning of the signature; the signer re-enters the password and gives a reason.
 * Resolves to {password, reason} or null when cancelled.
 */
export function esign({ record, meaning, action, extra = [] }) {
  const me = session.me;
  const body = h("div", { class: "esign" },
    h("p", { class: "lead" }, t("esign.intro")),
    h("dl", { class: "kv" },
      h("dt", {}, t("esign.record")), h("dd", { "data-testid": "esign-record" }, record),
      h("dt", {}, t("esign.action")), h("dd", {}, action),
      h("dt", {}, t("esign.meaning")), h("dd", { "data-testid": "esign-meaning" }, t("meaning." + meaning, {}, meaning)),
      h("dt", {}, t("esign.printedName")), h("dd", { "data-testid": "esign-name" }, me.name),
      h("dt", {}, t("esign.userId")), h("dd", {}, me.id)),
    field(t("esign.password"), { name: "password", type: "password", required: true, autocomplete: "current-password" }),
    field(t("common.reason"), { name: "reason", required: true, maxlength: 500 }, "textarea"),
    extra,
    h("p", { class: "small" }, t("esign.binding")));
  return modal(t("esign.title"), body, t("esign.sign"));
}

/** A dialog asking for a reason (and optional extra fields): resolves to the values or null. */
export function ask(title, fields, okText) {
  return modal(title, h("div", {}, fields), okText || t("common.ok"));
}

export function busy(button, fn) {
  return async (...args) => {
    button.disabled = true;
    try { return await fn(...args); } finally { button.disabled = false; }
  };
}
