// The console's shell: sign-in, the hash router, the header and the
// health banner polled on every page.
import { h, fill, dur, time } from "./dom.js";
import * as api from "./api.js";
import { dagList, runsGrid, taskPage } from "./pages.js";
import { diagnostics } from "./diag.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const who = document.getElementById("who");

const session = api.session;

let signinMessage = "";
api.hooks.unauthorized = (msg) => {
  api.setToken("");
  session.whoami = null;
  signinMessage = `The server refused the token (401): ${msg}. Paste a valid token to go on.`;
  if (!location.hash.startsWith("#/signin")) location.hash = "#/signin";
};

// Each page is (params, view) -> Promise; view.alive() turns false once
// the user has moved on, so pollers stop.
const routes = [
  [/^#\/signin$/, signin],
  [/^#\/dags$/, dagList],
  [/^#\/dags\/([^/]+)$/, runsGrid],
  [/^#\/dags\/([^/]+)\/runs\/([^/]+)\/tasks\/([^/]+)$/, taskPage],
  [/^#\/diagnostics$/, diagnostics],
];

let generation = 0;

async function render() {
  const gen = ++generation;
  fill(document.getElementById("flash"));
  const hash = location.hash || "#/dags";
  if (!api.token() && hash !== "#/signin") { location.hash = "#/signin"; return; }
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.toggleAttribute("aria-current", hash.startsWith(`#/${a.dataset.nav}`));
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  }
  const view = { alive: () => gen === generation, main };
  for (const [re, page] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    if (page !== signin && !session.whoami) {
      try { await loadWho(); } catch (e) { if (e.status !== 401) showError(e); return; }
    }
    fill(main, h("p", { class: "muted" }, "Loading…"));
    try {
      await page(m.slice(1).map(decodeURIComponent), view);
    } catch (e) {
      if (view.alive() && e.status !== 401) showError(e);
    }
    return;
  }
  fill(main, h("h1", {}, "Not found"), h("p", {}, "No page at ", h("code", {}, hash), ". ",
    h("a", { href: "#/dags" }, "Go to the DAG list.")));
}

function showError(e) {
  fill(main, h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, e.message));
}

async function loadWho() {
  session.whoami = await api.get("/whoami");
  const w = session.whoami;
  fill(who,
    h("span", {}, "Signed in as ", h("strong", { "data-testid": "who-name" }, w.name), " ",
      h("span", { class: `state s-${w.role === "operator" ? "running" : "none"}`, "data-testid": "who-role" }, w.role)),
    h("button", { type: "button", onclick: signOut }, "Sign out"));
  startHealth();
}

function signOut() {
  api.setToken("");
  session.whoami = null;
  fill(who);
  signinMessage = "Signed out.";
  location.hash = "#/signin";
}

async function signin(_, view) {
  fill(who);
  const msg = signinMessage;
  signinMessage = "";
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "token-help" });
  const status = h("p", { role: "alert", class: msg ? "error" : "", "data-testid": "signin-message" }, msg);
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    api.setToken(input.value.trim());
    status.className = ""; status.textContent = "Checking the token…";
    try {
      await loadWho();
      location.hash = "#/dags";
    } catch (e) {
      if (e.status !== 401) { api.setToken(""); status.className = "error"; status.textContent = e.message; }
      else { status.className = "error"; status.textContent = signinMessage; signinMessage = ""; }
    }
  } },
  h("label", { for: "token" }, "API token"),
  input,
  h("p", { id: "token-help", class: "muted" },
    "The contents of a token file given to vigil run's --api-token (with none, the local operator token it wrote to RUNTIME_DIR/api-PID.token). ",
    "It is kept in this tab only (sessionStorage) and sent to this server alone."),
  h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Sign in")));
  fill(main, h("h1", {}, "Sign in to Vigil"), status, form);
  input.focus();
}

// The health banner: GET /health every few seconds, GET /status's
// schedulers beside it.
let healthTimer = null;
function startHealth() {
  if (healthTimer) return;
  const tick = async () => {
    if (!api.token()) { fill(banner); banner.className = "banner"; healthTimer = null; return; }
    await pollHealth();
    healthTimer = setTimeout(tick, 3000);
  };
  tick();
}

async function pollHealth() {
  let health, status;
  try {
    [health, status] = await Promise.all([api.get("/health", { timeoutMs: 8000 }),
      api.get("/status", { timeoutMs: 8000 }).catch((e) => ({ error: e }))]);
  } catch (e) {
    if (e.status === 401) return;
    banner.className = "banner unknown";
    fill(banner, h("strong", {}, "Health unknown: "), e.message);
    return;
  }
  banner.className = `banner ${health.healthy ? "ok" : "bad"}`;
  banner.setAttribute("role", health.healthy ? "status" : "alert");
  banner.dataset.healthy = String(health.healthy);
  const parts = [];
  if (health.healthy) {
    parts.push(h("strong", {}, "✓ Healthy"), ` · ${health.summary || "every loop beats on time"} · serving instance ${health.instance}`);
  } else {
    parts.push(h("strong", {}, "✗ Unhealthy: "), h("span", { "data-testid": "health-summary" }, health.summary));
    const stale = (health.loops || []).filter((l) => l.stale);
    if (stale.length) {
      parts.push(h("ul", { "aria-label": "Stale heartbeats" }, stale.map((l) => h("li", {},
        h("strong", {}, l.name), ` has not beaten for ${dur(l.age_seconds)} (stale after ${dur(l.stale_after_seconds)})`,
        l.phase ? ` — ${l.phase}` : ""))));
    }
    if (health.blocking && health.blocking.length) {
      parts.push(h("div", {}, "Blocking calls:"), h("ul", { "aria-label": "Blocking calls", "data-testid": "blocking" },
        health.blocking.map((c) => h("li", {},
          h("code", {}, c.target), ` (${c.kind}) in flight ${dur(c.age_seconds)}, `,
          c.no_deadline || !c.deadline ? h("strong", {}, "no deadline")
            : [`deadline in ${dur((new Date(c.deadline) - new Date(health.now)) / 1000)} (`, time(c.deadline), ")"],
          c.site ? h("div", { class: "mono muted" }, c.site) : null))));
    }
  }
  if (status && !status.error) {
    const scheds = status.schedulers || [];
    const staleN = scheds.filter((s) => s.stale).length;
    parts.push(h("details", {}, h("summary", {}, `Schedulers: ${scheds.length}` + (staleN ? `, ${staleN} stale` : "")),
      h("ul", {}, scheds.map((s) => h("li", {},
        h("strong", {}, s.instance), ` on ${s.host} (pid ${s.pid}) · last beat ${dur(s.age_seconds)} ago`,
        s.stopped_at ? " · stopped" : "", s.stale ? h("span", { class: "state s-stale" }, " stale") : "",
        ` · ${s.runs_owned} runs owned`, s.serving ? " · serving this page" : "")))));
  }
  fill(banner, ...parts);
}

window.addEventListener("hashchange", render);
render();
