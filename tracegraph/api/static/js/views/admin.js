// Administration: users, their roles, disabled and locked accounts (every change with a reason).
"use strict";
import { gql } from "../api.js";
import { t } from "../i18n.js";
import { h, field, table, errorBox, statusBadge, when, ask } from "../ui.js";

const USERS = `{ users { id name roles status locked failedAttempts createdAt passwordChangedAt } }`;

async function act(mutation, username, msg, refresh) {
  const v = await ask(t("admin." + mutation), [field(t("common.reason"), { name: "reason", required: true }, "textarea")]);
  if (!v) return;
  try {
    await gql(`mutation($u: String!, $r: String!) { ${mutation}(username: $u, reason: $r) { id } }`, { u: username, r: v.reason });
    await refresh();
  } catch (e) { msg.append(errorBox(e)); }
}

export async function render(view) {
  const users = (await gql(USERS)).users;
  const msg = h("div", { "aria-live": "polite" });
  const refresh = async () => { view.textContent = ""; await render(view); };
  view.append(h("h1", {}, t("nav.admin")), msg, table([
    { label: t("admin.user"), get: (u) => u.id },
    { label: t("admin.name"), get: (u) => u.name },
    { label: t("admin.roles"), get: (u) => u.roles.map((r) => t("role." + r, {}, r)).join(", ") },
    { label: t("field.status"), get: (u) => [statusBadge(u.status), u.locked ? statusBadge("locked") : ""] },
    { label: t("admin.created"), get: (u) => when(u.createdAt) },
    { label: "", get: (u) => h("div", { class: "actions" },
      u.status === "active" ? h("button", { type: "button", onclick: () => act("disableUser", u.id, msg, refresh) }, t("admin.disableUser"))
        : h("button", { type: "button", onclick: () => act("enableUser", u.id, msg, refresh) }, t("admin.enableUser")),
      u.locked ? h("button", { type: "button", onclick: () => act("unlockUser", u.id, msg, refresh) }, t("admin.unlockUser")) : "") },
  ], users, { id: "users" }));
}
