// The single-page app: sign-in, header (who is signed in, role, language, time zone, sign-out),
// role-aware navigation and a hash router (#/impact, #/trace/KEY, #/recalls/ID, #/qa, #/audit).
"use strict";
import { session, login, loadMe, logout, whenExpired } from "./api.js";
import { t, loadPrefs, setLang, setTz, lang, tz, LANGUAGES, timeZones } from "./i18n.js";
import { h, field, errorBox } from "./ui.js";
import * as impact from "./views/impact.js";
import * as trace from "./views/trace.js";
import * as recalls from "./views/recalls.js";
import * as qa from "./views/qa.js";
import * as audit from "./views/audit.js";
import * as admin from "./views/admin.js";

/** Screens: who may see them (a permission) and whose daily work they are (roles, in order). */
const SCREENS = [
  { id: "impact", view: impact, perm: "impact.read", roles: ["recall_coordinator", "qa", "qa_manager", "viewer"] },
  { id: "trace", view: trace, perm: "trace.read", roles: ["complaint_handler"] },
  { id: "recalls", view: recalls, perm: "recall.read", roles: [] },
  { id: "qa", view: qa, perm: "qms.read", roles: [] },
  { id: "audit", view: audit, perm: "audit.read", roles: ["admin"] },
  { id: "admin", view: admin, perm: "users.manage", roles: [] },
];

/** Which screens a role works in, first = landing page; others stay reachable by permission. */
const ROLE_NAV = {
  complaint_handler: ["trace", "qa", "impact", "audit"],
  recall_coordinator: ["impact", "recalls", "trace", "qa", "audit"],
  qa: ["qa", "impact", "trace", "recalls", "audit"],
  qa_manager: ["qa", "recalls", "impact", "trace", "audit"],
  viewer: ["impact", "trace", "recalls", "qa", "audit"],
  admin: ["admin", "audit"],
};

const $ = (s) => document.querySelector(s);

/** Every screen the user's permissions allow (reachable by its address). */
function permitted() { return SCREENS.filter((s) => session.can(s.perm)); }

/** The navigation: the screens of the user's roles, in their order (all permitted ones for a role
 *  the app does not know). */
function navOrder() {
  const order = [];
  for (const role of session.me.roles) for (const id of ROLE_NAV[role] || []) if (!order.includes(id)) order.push(id);
  const mine = order.map((id) => SCREENS.find((s) => s.id === id)).filter((s) => session.can(s.perm));
  return mine.length ? mine : permitted();
}

function renderChrome() {
  document.title = t("app.title");
  $(".skip").textContent = t("app.skip");
  $("#lang-label").textContent = t("app.language");
  $("#tz-label").textContent = t("app.timezone");
  const langSel = $("#lang");
  langSel.textContent = "";
  for (const [v, name] of LANGUAGES) langSel.append(h("option", { value: v, selected: v === lang() }, name));
  const signedIn = !!session.me;
  $("#who").hidden = !signedIn; $("#logout").hidden = !signedIn; $("#tz").hidden = !signedIn;
  $("#logout").textContent = t("app.signOut");
  $("#footer").textContent = "";
  $("#footer").append(t("app.footer"), " ", h("a", { href: "/docs" }, "/docs"), " · GraphQL ", h("code", {}, "/graphql"));
  const nav = $("#nav"); nav.textContent = "";
  if (!signedIn) return;
  $("#who-name").textContent = session.me.name;
  $("#who-role").textContent = session.me.roles.map((r) => t("role." + r, {}, r)).join(", ");
  const tzSel = $("#tz");
  if (!tzSel.options.length || tzSel.dataset.for !== session.me.id) {
    tzSel.textContent = "";
    for (const z of timeZones()) tzSel.append(h("option", { value: z }, z));
    tzSel.dataset.for = session.me.id;
  }
  tzSel.value = tz();
  const current = (location.hash.slice(2).split("/")[0]) || "";
  const ul = h("ul", {});
  for (const s of navOrder()) {
    ul.append(h("li", {}, h("a", { href: `#/${s.id}`, "aria-current": s.id === current ? "page" : null,
      "data-nav": s.id }, t(`nav.${s.id}`))));
  }
  nav.append(ul);
}

function renderLogin(message) {
  const view = $("#view"); view.textContent = "";
  const form = h("form", { id: "login", class: "card narrow", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, t("login.title")),
    field(t("login.user"), { name: "username", autocomplete: "username", required: true, autofocus: true }),
    field(t("login.password"), { name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit", class: "primary" }, t("login.submit")),
    message ? h("p", { class: "error", role: "alert" }, message) : h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await login(f.get("username"), f.get("password"));
      await start();
    } catch (err) {
      form.querySelector(".error").textContent = err.code === "unauthenticated" || err.code === "account_locked"
        ? `${t("login.failed")} (${err.message})` : err.message;
    }
  });
  view.append(form);
  form.querySelector("input").focus();
}

async function route() {
  renderChrome();
  if (!session.me) { renderLogin(); return; }
  const [id, ...rest] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const screen = permitted().find((s) => s.id === id);
  if (!screen) { const home = navOrder()[0]; location.replace(`#/${home ? home.id : "impact"}`); return; }
  // Each route renders into a pane of its own that replaces the one before. Two routes can be in
  // flight at once (the start and a hashchange, a language change while a page loads): both used
  // to append into the one view after their awaits, and the page showed twice. The older one now
  // finishes into its own pane, which is no longer in the document.
  const view = $("#view");
  const pane = document.createElement("div");
  pane.className = "pane";
  view.replaceChildren(pane);
  view.dataset.screen = screen.id;
  try {
    await screen.view.render(pane, rest, null);
  } catch (err) {
    pane.append(errorBox(err));
  }
}

async function start() {
  if (!session.token) { loadPrefs(null); session.me = null; route(); return; }
  try { await loadMe(); } catch { session.token = null; sessionStorage.removeItem("tracegraph.token"); loadPrefs(null); route(); return; }
  loadPrefs(session.me.id);
  route();
}

whenExpired(() => { session.me = null; session.token = null; sessionStorage.removeItem("tracegraph.token"); route(); });
window.addEventListener("hashchange", route);
$("#lang").addEventListener("change", (ev) => { setLang(ev.target.value); route(); });
$("#tz").addEventListener("change", (ev) => { setTz(ev.target.value); route(); });
$("#logout").addEventListener("click", async () => {
  await logout(); loadPrefs(null); location.hash = ""; route();
});
start();
