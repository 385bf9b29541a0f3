// Administration: users, their roles, disabled and locked accounts; adding users, changing roles,
// resetting passwords (every change with a reason; the engine checks roles and password rules).
"use strict";
import { gql } from "../api.js";
import { t } from "../i18n.js";
import { h, field, value, table, errorBox, statusBadge, when, ask, busy } from "../ui.js";

const USERS = `{ users { id name roles status locked failedAttempts createdAt passwordChangedAt } }`;
const ROLES = ["viewer", "complaint_handler", "recall_coordinator", "qa", "qa_manager", "admin"];

function roleBoxes(checked = []) {
  return h("fieldset", { class: "roles" }, h("legend", {}, t("admin.roles")),
    ROLES.map((r) => field(t("role." + r, {}, r), { type: "checkbox", name: "role_" + r, checked: checked.includes(r) })));
}

function rolesOf(values) { return ROLES.filter((r) => values["role_" + r] === "on"); }

async function act(mutation, username, msg, refresh, extra = [], vars = () => ({})) {
  const v = await ask(`${t("admin." + mutation)}: ${username}`, [...extra,
    field(t("common.reason"), { name: "reason", required: true }, "textarea")]);
  if (!v) return;
  const more = vars(v);
  const decl = Object.keys(more).map((k) => `, $${k}: ${k === "roles" ? "[String!]!" : "String!"}`).join("");
  const args = Object.keys(more).map((k) => `, ${k}: $${k}`).join("");
  try {
    await gql(`mutation($u: String!, $r: String!${decl}) { ${mutation}(username: $u, reason: $r${args}) { id } }`,
      { u: username, r: v.reason, ...more });
    await refresh(t("admin.done", { user: username }));
  } catch (e) { msg.append(errorBox(e)); }
}

function addForm(msg, refresh) {
  const form = h("form", { id: "add-user", class: "card grid", "aria-labelledby": "add-user-title" },
    h("h2", { id: "add-user-title", class: "span" }, t("admin.add")),
    field(t("admin.user"), { name: "username", required: true, autocomplete: "off" }),
    field(t("admin.name"), { name: "name", required: true }),
    field(t("admin.password"), { name: "password", type: "password", required: true, autocomplete: "new-password" }),
    h("div", { class: "span" }, roleBoxes(["viewer"])),
    field(t("common.reason"), { name: "reason", required: true }),
    h("div", { class: "span actions" }, h("button", { type: "submit", class: "primary" }, t("admin.addSubmit"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const roles = rolesOf(Object.fromEntries(new FormData(form).entries()));
    await busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await gql(`mutation($u: String!, $n: String!, $p: String!, $roles: [String!]!, $r: String!) {
          addUser(username: $u, name: $n, password: $p, roles: $roles, reason: $r) { id } }`,
        { u: value(form, "username"), n: value(form, "name"), p: value(form, "password"), roles, r: value(form, "reason") });
        await refresh(t("admin.done", { user: value(form, "username") }));
      } catch (e) { msg.append(errorBox(e)); }
    })();
  });
  return form;
}

export async function render(view, _rest, notice) {
  const users = (await gql(USERS)).users;
  const msg = h("div", { id: "admin-msg", "aria-live": "polite" }, notice ? h("p", { class: "ok", role: "status" }, notice) : "");
  const refresh = async (note) => { view.textContent = ""; await render(view, _rest, note); };
  view.append(h("h1", {}, t("nav.admin")), msg, table([
    { label: t("admin.user"), get: (u) => u.id },
    { label: t("admin.name"), get: (u) => u.name },
    { label: t("admin.roles"), get: (u) => u.roles.map((r) => t("role." + r, {}, r)).join(", ") },
    { label: t("field.status"), get: (u) => [statusBadge(u.status), u.locked ? statusBadge("locked") : ""] },
    { label: t("admin.failed"), get: (u) => u.failedAttempts, cls: "num" },
    { label: t("admin.created"), get: (u) => when(u.createdAt) },
    { label: t("admin.passwordChanged"), get: (u) => when(u.passwordChangedAt) },
    { label: "", get: (u) => h("div", { class: "actions" },
      u.status === "active" ? h("button", { type: "button", onclick: () => act("disableUser", u.id, msg, refresh) }, t("admin.disableUser"))
        : h("button", { type: "button", onclick: () => act("enableUser", u.id, msg, refresh) }, t("admin.enableUser")),
      u.locked ? h("button", { type: "button", onclick: () => act("unlockUser", u.id, msg, refresh) }, t("admin.unlockUser")) : "",
      h("button", { type: "button", "data-action": "roles", onclick: () => act("setRoles", u.id, msg, refresh, [roleBoxes(u.roles)],
        (v) => ({ roles: rolesOf(v) })) }, t("admin.setRoles")),
      h("button", { type: "button", onclick: () => act("resetPassword", u.id, msg, refresh,
        [field(t("admin.newPassword"), { name: "newPassword", type: "password", required: true, autocomplete: "new-password" })],
        (v) => ({ newPassword: v.newPassword })) }, t("admin.resetPassword"))) },
  ], users, { id: "users" }), addForm(msg, refresh));
}
