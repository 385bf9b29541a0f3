// English and Simplified Chinese (zh-CN), remembered per user in localStorage, and dates shown
// in the user's time zone (the browser's unless the user picked another one).
"use strict";
import { MESSAGES } from "./messages.js";

export const LANGUAGES = [["en", "English"], ["zh-CN", "简体中文"]];
const state = { lang: "en", tz: Intl.DateTimeFormat().resolvedOptions().timeZone, user: null };

function prefsKey(user) { return `tracegraph.prefs.${user}`; }

export function loadPrefs(user) {
  state.user = user;
  let p = {};
  try { p = JSON.parse(localStorage.getItem(user ? prefsKey(user) : "tracegraph.prefs") || "{}"); } catch { p = {}; }
  if (!p.lang) { // a user who never chose: the browser's language (not the previous user's)
    const nav = (navigator.language || "en").toLowerCase();
    p.lang = nav.startsWith("zh") ? "zh-CN" : "en";
  }
  if (p.lang && MESSAGES[p.lang]) state.lang = p.lang;
  state.tz = p.tz || Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.documentElement.lang = state.lang;
}

function savePrefs() {
  const p = JSON.stringify({ lang: state.lang, tz: state.tz });
  if (state.user) localStorage.setItem(prefsKey(state.user), p);
  localStorage.setItem("tracegraph.prefs", JSON.stringify({ lang: state.lang }));
}

export function setLang(lang) { if (MESSAGES[lang]) { state.lang = lang; document.documentElement.lang = lang; savePrefs(); } }
export function setTz(tz) { state.tz = tz; savePrefs(); }
export function lang() { return state.lang; }
export function tz() { return state.tz; }

/** The text of `key` in the user's language (English, then `fallback`, then the key itself). */
export function t(key, params = {}, fallback = undefined) {
  let s = MESSAGES[state.lang][key];
  if (s === undefined) s = MESSAGES.en[key];
  if (s === undefined) s = fallback !== undefined ? fallback : key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? params[k] : `{${k}}`));
}

/** An ISO timestamp (or date) in the user's language and time zone. */
export function fmtDate(iso) {
  if (!iso) return "";
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const d = new Date(dateOnly ? iso + "T00:00:00Z" : iso);
  if (Number.isNaN(d.getTime())) return iso;
  const opts = dateOnly ? { dateStyle: "medium", timeZone: "UTC" }
    : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      timeZone: state.tz, timeZoneName: "short" };
  return new Intl.DateTimeFormat(state.lang, opts).format(d);
}

/** A local date (YYYY-MM-DD, in the user's zone) as the UTC instant it starts (end: it ends). */
export function zoneInstant(dateStr, end = false) {
  if (!dateStr) return null;
  const [y, m, d] = dateStr.split("-").map(Number);
  // the offset of the zone at that moment, found by formatting the UTC guess in the zone
  const guess = Date.UTC(y, m - 1, d, end ? 23 : 0, end ? 59 : 0, end ? 59 : 0, end ? 999 : 0);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: state.tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(guess)).map((p) => [p.type, p.value]));
  const asZone = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second,
    guess % 1000);
  const inst = new Date(guess - (asZone - guess));
  // the audit trail's own form: microseconds and +00:00, so string comparison orders correctly
  return inst.toISOString().replace("Z", "000+00:00");
}

export function timeZones() {
  let zones;
  try { zones = Intl.supportedValuesOf("timeZone"); } catch { zones = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"]; }
  return [...new Set([state.tz, "UTC", ...zones])];
}
