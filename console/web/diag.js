// Diagnostics: the serving process's in-flight calls, its goroutines
// grouped by stack (as `diag stacks` shows them) and a flame graph of a
// fresh CPU or wall profile.
import { h, fill, dur, time, table } from "./dom.js";
import * as api from "./api.js";
import { drawFlame } from "./flame.js";

const ns = (n) => (n || 0) / 1e9;

export async function diagnostics(_, view) {
  const inflight = h("section", { "aria-label": "In-flight calls" });
  const stacks = h("section", { "aria-label": "Goroutines" });
  fill(view.main, h("h1", {}, "Diagnostics"),
    h("p", { class: "muted" }, "Of the process serving this page, through its debug API (read-only)."),
    flameSection(view), inflight, stacks);
  await Promise.all([loadInflight(inflight), loadStacks(stacks)]);
}

async function loadInflight(sec) {
  const refresh = h("button", { type: "button", onclick: () => loadInflight(sec) }, "Refresh");
  let calls;
  try {
    calls = await api.get("/debug/inflight");
  } catch (e) {
    fill(sec, h("h2", {}, "In-flight calls"), h("p", { class: "error" }, e.message), refresh);
    return;
  }
  calls = calls || [];
  const rows = calls.map((c) => h("tr", { "data-call": String(c.id) },
    h("td", {}, c.kind), h("td", { class: "mono" }, c.op ? `${c.op} ` : "", h("span", { class: "muted" }, c.target),
      c.detail ? h("div", { class: "muted" }, c.detail) : null),
    h("td", {}, dur(ns(c.age_ns))),
    h("td", {}, c.deadline ? time(c.deadline) : h("strong", { class: "state s-failed" }, "no deadline")),
    h("td", { class: "mono" }, c.site || "")));
  fill(sec, h("h2", {}, `In-flight calls (${calls.length})`),
    rows.length ? table(["Kind", "Call", "Age", "Deadline", "Site"], rows) : h("p", { class: "muted" }, "No call in flight."),
    h("div", { class: "actions" }, refresh));
}

function frame(f) { return `${f.func}\n    ${f.file}:${f.line}`; }

async function loadStacks(sec) {
  const refresh = h("button", { type: "button", onclick: () => loadStacks(sec) }, "Refresh");
  let snap;
  try {
    snap = await api.get("/debug/stacks");
  } catch (e) {
    fill(sec, h("h2", {}, "Goroutines"), h("p", { class: "error" }, e.message), refresh);
    return;
  }
  const groups = snap.groups || [];
  fill(sec, h("h2", {}, `Goroutines: ${snap.goroutines} in ${groups.length} groups`),
    h("p", { class: "muted" }, "Grouped by identical stack and labels, largest group first. ",
      snap.taken ? ["Taken ", time(snap.taken), "."] : ""),
    ...groups.map((g, i) => {
      // The headline is the first frame of the program's own code: every
      // waiting goroutine's innermost frames are the runtime's.
      const stack = g.stack || [];
      const own = stack.find((f) => !/^(runtime|internal\/|sync\.|syscall\.)/.test(f.func)) || stack[0];
      const top = own ? own.func : "(no stack)";
      const wait = g.wait && g.wait.source ? ` · waiting ${g.wait.exact ? "" : "≥ "}${dur(ns(g.wait.max_ns || g.wait.min_ns))}` : "";
      return h("details", { class: "card", "data-group": String(i) },
        h("summary", {}, h("strong", {}, `${g.count} × `), h("span", { class: "state s-none" }, g.state || "?"),
          g.locked_to_thread ? " locked to thread" : "", " ", h("code", {}, top), wait,
          g.calls && g.calls.length ? ` · in-flight call ${g.calls.join(", ")}` : "",
          g.labels ? h("span", { class: "mono muted" }, " · ", Object.entries(g.labels).map(([k, v]) => `${k}=${v}`).join(" ")) : null),
        h("ol", { class: "stack mono" }, (g.stack || []).map((f) => h("li", {}, frame(f)))),
        g.created_by ? h("p", { class: "mono muted" }, "created by ", frame(g.created_by)) : null);
    }),
    h("div", { class: "actions" }, refresh));
}

function flameSection(view) {
  const kind = h("select", { id: "flame-kind" }, h("option", { value: "cpu" }, "CPU (on-CPU time)"),
    h("option", { value: "wall" }, "Wall clock (on- and off-CPU)"));
  const secs = h("input", { id: "flame-seconds", type: "number", min: "1", max: "30", value: "5", required: true });
  const out = h("div", { "aria-live": "polite" });
  const go = h("button", { type: "submit", class: "primary" }, "Take profile");
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    const n = Number(secs.value);
    if (!Number.isInteger(n) || n < 1 || n > 30) {
      fill(out, h("p", { class: "error" }, "Seconds: a whole number from 1 to 30."));
      return;
    }
    go.disabled = true;
    fill(out, h("p", { class: "notice" }, `Profiling for ${n}s…`));
    try {
      const fg = await api.get(`/debug/flamegraph?kind=${kind.value}&seconds=${n}`, { timeoutMs: (n + 20) * 1000 });
      if (view.alive()) drawFlame(out, fg);
    } catch (e) {
      fill(out, h("p", { class: "error" }, e.message));
    } finally {
      go.disabled = false;
    }
  } },
  h("div", { class: "row" },
    h("div", {}, h("label", { for: "flame-kind" }, "Profile"), kind),
    h("div", {}, h("label", { for: "flame-seconds" }, "Seconds (1–30)"), secs),
    h("div", {}, h("label", { "aria-hidden": "true" }, "\u00a0"), go)));
  return h("section", { "aria-label": "Flame graph" }, h("h2", {}, "Flame graph"), form, out);
}
