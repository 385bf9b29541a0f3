// The one door to the server: sign-in over POST /auth/login, everything else over /graphql with
// the bearer token (the file downloads of the impact answer use the REST /impact export). Every
// request says the user's language (Accept-Language), so the server's refusals come in it.
"use strict";
import { lang } from "./i18n.js";

const TOKEN_KEY = "tracegraph.token";

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null, // { id, name, roles, permissions }
  can(permission) { return !!this.me && this.me.permissions.includes(permission); },
};

/** An error the server refused with: the project's one shape (code, message, hint, field);
 * `lang`: the language the server wrote message and hint in, when it translated them. */
export class ApiError extends Error {
  constructor(code, message, hint, field, lang = "") {
    super(message);
    this.code = code; this.hint = hint || ""; this.field = field || ""; this.lang = lang || "";
  }
}

let onExpired = () => {};
export function whenExpired(fn) { onExpired = fn; }

function authHeaders() {
  const h = { "Accept-Language": lang() === "en" ? "en" : `${lang()}, en;q=0.5` };
  if (session.token) h.Authorization = "Bearer " + session.token;
  return h;
}

export async function gql(query, variables = {}) {
  const r = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ query, variables }),
  });
  if (r.status === 401) {
    const e = (await r.json().catch(() => ({}))).error || {};
    onExpired();
    throw new ApiError("authentication_failed", e.message || "session expired: sign in again", e.hint, e.field, e.lang);
  }
  const body = await r.json();
  if (body.errors && body.errors.length) {
    const e = body.errors[0]; const x = e.extensions || {};
    const problem = (x.problems && x.problems[0]) || {};
    throw new ApiError(x.code || "error", e.message, x.hint, x.field || problem.field, x.lang);
  }
  return body.data;
}

export async function login(username, password) {
  const r = await fetch("/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ username, password }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = body.error || {};
    throw new ApiError(e.code || "authentication_failed", e.message || "sign-in failed", e.hint, e.field, e.lang);
  }
  session.token = body.token; sessionStorage.setItem(TOKEN_KEY, body.token);
  return body;
}

export async function loadMe() {
  const d = await gql("{ me { id name roles permissions } }");
  session.me = d.me;
  return d.me;
}

export async function logout() {
  try {
    if (session.token) await fetch("/auth/logout", { method: "POST", headers: authHeaders() });
  } finally {
    session.token = null; session.me = null; sessionStorage.removeItem(TOKEN_KEY);
  }
}

/** Fetch a file with the token (never in the URL) and hand it to the browser as a download. */
export async function download(path, filename) {
  const r = await fetch(path, { headers: authHeaders() });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    const e = body.error || {};
    throw new ApiError(e.code || "error", e.message || `download failed (${r.status})`, e.hint, e.field, e.lang);
  }
  const blob = await r.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = filename;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
