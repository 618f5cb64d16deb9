// Operator actions: each opens a small form asking for a reason, calls
// the API and shows what the server said (including a 403 refusal). Only
// pages of an operator token show them; the server checks again.
import { h, fill } from "./dom.js";
import * as api from "./api.js";

// action(label, opts) returns a button that toggles a form into place.
// opts: fields (extra form nodes), run(reason) -> Promise<result text or
// node>, danger, after (called after success).
//
// The outcome goes to the page's #flash region, above the page, so that
// it stays when the page redraws itself with the new state.
export function action(label, { fields = [], run, danger = false, after, testid }) {
  const out = h("div", { class: "action-result" });
  const show = () => fill(document.getElementById("flash"), out);
  const reason = h("input", { type: "text", required: true, placeholder: "Why? (recorded in the history)" });
  const id = `reason-${Math.random().toString(36).slice(2, 8)}`;
  reason.id = id;
  const submit = h("button", { type: "submit", class: danger ? "danger" : "primary" }, label);
  const form = h("form", { class: "card", hidden: true, "aria-label": label, onsubmit: async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    show();
    out.className = "action-result notice";
    fill(out, `${label}: sending…`);
    try {
      const res = await run(reason.value.trim(), (msg) => fill(out, msg));
      out.className = "action-result notice";
      fill(out, res);
      form.hidden = true;
      reason.value = "";
      if (after) after();
    } catch (e) {
      out.className = "action-result error";
      fill(out, e.status === 403 ? `Refused (403): ${e.message}` : e.message);
    } finally {
      submit.disabled = false;
    }
  } },
  fields,
  h("label", { for: id }, "Reason"), reason,
  h("div", { class: "actions" }, submit,
    h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Cancel")));
  const open = h("button", { type: "button", class: danger ? "danger" : "", "data-action": testid || label,
    "aria-expanded": "false", onclick: () => {
      form.hidden = !form.hidden;
      open.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) reason.focus();
    } }, label + "…");
  return { button: open, form, out };
}

// runOp posts an operation and polls it until the run's owner applied it
// (at its next sync) or a minute passed.
export async function runOp(req, progress) {
  const res = await api.post("/ops", req);
  const op = res.op;
  progress(`Operation #${op.id} stored; waiting for the run's scheduler to apply it…`);
  const until = Date.now() + 60000;
  let cur = op;
  while (cur.state === "pending" && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 700));
    cur = await api.get(`/ops/${op.id}`);
  }
  const verdict = cur.state === "pending" ? "still pending after a minute (the run's scheduler has not applied it yet)" : cur.state;
  return h("span", { "data-testid": "op-result" },
    h("strong", {}, `Operation #${cur.id} (${cur.kind}) ${verdict}`), cur.result ? `: ${cur.result}` : "");
}
