// Small helpers shared by the pages: building DOM without innerHTML (so
// nothing the API says is ever parsed as HTML), and formatting.

// h(tag, attrs, ...children): attrs whose name starts with "on" are event
// listeners; children are nodes, strings, or arrays of them; null skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
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

// Symbols beside each state's colour, so a state reads without colour.
const symbols = {
  success: "✓", failed: "✗", upstream_failed: "⊘", running: "▶", queued: "…", scheduled: "◷",
  up_for_retry: "↻", skipped: "↷", removed: "–", none: "·", cancelled: "■", restarting: "↻",
};

export function symbol(state) { return symbols[state] || "?"; }

export function stateBadge(state, text) {
  const s = state || "unknown";
  return h("span", { class: `state s-${s}` }, text || s.replaceAll("_", " "));
}

export const states = Object.keys(symbols);

export function enc(s) { return encodeURIComponent(s); }

// ago(seconds) -> "94s", "3m 05s", "2h 10m".
export function dur(sec) {
  if (sec === undefined || sec === null || Number.isNaN(sec)) return "";
  sec = Math.max(0, sec);
  if (sec < 10) return `${sec.toFixed(1)}s`;
  if (sec < 90) return `${Math.round(sec)}s`;
  const m = Math.floor(sec / 60), s = Math.round(sec % 60);
  if (m < 90) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// time(iso) -> local date and time, with the ISO string as a tooltip.
export function time(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" }));
}

export function ago(iso, now) {
  if (!iso) return "";
  return dur(((now ? new Date(now) : new Date()) - new Date(iso)) / 1000) + " ago";
}

export function actor(a) {
  if (!a) return "";
  return a.instance ? `${a.component}@${a.instance}` : a.component;
}

// table(headers, rows): each cell is labelled with its column's header,
// so that on a narrow screen every row reads as a card (style.css).
export function table(headers, rows, caption) {
  for (const tr of rows.flat()) {
    [...tr.children].forEach((td, i) => { if (headers[i]) td.dataset.label = headers[i]; });
  }
  return h("div", { class: "scroll cards" }, h("table", {},
    caption ? h("caption", { class: "muted" }, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

// fill(el, ...children) replaces el's children, taking what h takes
// (arrays flattened, null and false left out).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}
