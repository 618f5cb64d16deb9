// The DAG list, the runs grid and the task page.
import { h, fill, stateBadge, symbol, states, enc, time, actor, table } from "./dom.js";
import * as api from "./api.js";
import { action, runOp } from "./actions.js";

function dagState(d) {
  if (d.missing) return stateBadge("missing", "✗ missing");
  if (d.load_error) return stateBadge("errors", "✗ file has errors");
  if (d.paused) return stateBadge("paused", "❚❚ paused");
  return stateBadge("active", "✓ active");
}

// pauseAction and triggerAction are the DAG's operator actions.
function pauseAction(d, after) {
  const verb = d.paused ? "unpause" : "pause";
  return action(d.paused ? "Unpause" : "Pause", { testid: verb, after, run: async (reason) => {
    const res = await api.post(`/dags/${enc(d.id)}/${verb}`, { reason });
    return `${res.id} is now ${res.paused ? "paused" : "active"}.`;
  } });
}

function triggerAction(d, after) {
  const id = `conf-${enc(d.id)}`;
  const conf = h("textarea", { id, placeholder: '{"key": "value"}', spellcheck: "false" });
  return action("Trigger", { testid: "trigger", after, fields: [h("label", { for: id }, "Conf (JSON object, optional)"), conf],
    run: async (reason) => {
      const req = { reason };
      if (conf.value.trim()) {
        try { req.conf = JSON.parse(conf.value); } catch (e) { throw new Error(`Conf is not valid JSON: ${e.message}`); }
        if (typeof req.conf !== "object" || Array.isArray(req.conf) || req.conf === null) throw new Error("Conf must be a JSON object");
      }
      const res = await api.post(`/dags/${enc(d.id)}/runs`, req);
      return h("span", {}, res.created ? "Created run " : "Run existed: ",
        h("a", { href: `#/dags/${enc(d.id)}` }, res.run.run_id), ` (${res.run.state}).`);
    } });
}

export async function dagList(_, view) {
  const list = await api.get("/dags?limit=0");
  if (!view.alive()) return;
  const op = api.isOperator();
  const rows = (list.items || []).map((d) => {
    const acts = op ? [pauseAction(d, () => dagList(_, view)), triggerAction(d, () => dagList(_, view))] : [];
    return [h("tr", { "data-dag": d.id },
      h("td", {}, h("a", { href: `#/dags/${enc(d.id)}` }, d.id), d.description ? h("div", { class: "muted" }, d.description) : null),
      h("td", {}, dagState(d), d.load_error ? h("div", { class: "error mono" }, d.load_error) : null),
      h("td", {}, d.schedule ? h("code", {}, d.schedule) : h("span", { class: "muted" }, "by hand"), d.timezone ? ` (${d.timezone})` : ""),
      h("td", {}, d.next_run_at ? time(d.next_run_at) : h("span", { class: "muted" }, "—")),
      h("td", {}, d.last_run ? [stateBadge(d.last_run.state, `${symbol(d.last_run.state)} ${d.last_run.state}`), " ",
        h("a", { class: "mono", href: `#/dags/${enc(d.id)}` }, d.last_run.run_id)] : h("span", { class: "muted" }, "no run yet")),
      op ? h("td", {}, h("div", { class: "actions" }, acts.map((a) => a.button)), acts.map((a) => a.form)) : null)];
  });
  const headers = ["DAG", "State", "Schedule", "Next run", "Last run"];
  if (op) headers.push("Actions");
  const errs = list.load_errors || [];
  fill(view.main,
    h("h1", {}, "DAGs"),
    rows.length ? table(headers, rows) : h("p", { class: "notice" }, "No DAGs loaded. Put DAG files in the folder `vigil run --dags` reads."),
    h("h2", {}, `Files that fail to load (${errs.length})`),
    errs.length ? table(["File", "Error", "Since"], errs.map((e) => h("tr", { "data-file": e.file },
      h("td", { class: "mono" }, e.file), h("td", { class: "mono error" }, e.message), h("td", {}, time(e.since)))))
      : h("p", { class: "muted" }, "None: every DAG file loads."));
}

const pageSizes = [5, 10, 25, 50];

export async function runsGrid([dagID], view) {
  const cursors = view.cursors || [""];
  view.cursors = cursors;
  const cursor = cursors[cursors.length - 1];
  const pageSize = Number(sessionStorage.getItem("vigil.runsPerPage")) || 10;
  const [dag, runs] = await Promise.all([
    api.get(`/dags/${enc(dagID)}`),
    api.get(`/runs?dag=${enc(dagID)}&limit=${pageSize}${cursor ? `&cursor=${enc(cursor)}` : ""}`),
  ]);
  // The server lists runs newest first (logical date).
  const items = runs.items || [];
  const tis = await Promise.all(items.map((r) => api.get(`/tasks?dag=${enc(dagID)}&run=${enc(r.run_id)}&limit=0`)));
  if (!view.alive()) return;
  const byRun = items.map((r, i) => new Map((tis[i].items || []).map((t) => [t.task_id, t])));
  const taskIDs = (dag.task_list || []).map((t) => t.id);
  for (const m of byRun) for (const id of m.keys()) if (!taskIDs.includes(id)) taskIDs.push(id);

  const reload = () => runsGrid([dagID], view);
  const head = h("tr", {}, h("th", { class: "task corner", scope: "col" }, "Task \\ run"),
    items.map((r) => h("th", { scope: "col", title: `${r.run_id}: ${r.state}` },
      h("span", { class: "run-id" }, r.run_id.includes("__") ? r.run_id.split("__")[0] : r.run_id),
      stateBadge(r.state, `${symbol(r.state)} ${r.state}`),
      h("div", { class: "muted" }, r.logical_date ? new Date(r.logical_date).toLocaleString() : ""))));
  const body = taskIDs.map((tid) => h("tr", {}, h("th", { class: "task mono", scope: "row" }, tid),
    items.map((r, i) => {
      const ti = byRun[i].get(tid);
      const st = ti ? ti.state : "none";
      const label = `${tid} in ${r.run_id}: ${st.replaceAll("_", " ")}${ti && ti.try ? `, try ${ti.try} of ${ti.max_tries}` : ""}`;
      return h("td", {}, h("a", { class: `cell state s-${st}`, href: `#/dags/${enc(dagID)}/runs/${enc(r.run_id)}/tasks/${enc(tid)}`,
        title: label, "aria-label": label, "data-state": st }, symbol(st)));
    })));
  const nav = h("div", { class: "actions" },
    h("button", { type: "button", disabled: cursors.length < 2, onclick: () => { cursors.pop(); reload(); } }, "← Newer runs"),
    h("button", { type: "button", disabled: !runs.next_cursor, onclick: () => { cursors.push(runs.next_cursor); reload(); } }, "Older runs →"),
    h("button", { type: "button", onclick: reload }, "Refresh"),
    h("label", { class: "inline", for: "runs-per-page" }, "Runs per page",
      h("select", { id: "runs-per-page", onchange: (ev) => {
        sessionStorage.setItem("vigil.runsPerPage", ev.target.value);
        cursors.splice(1);
        reload();
      } }, pageSizes.map((n) => h("option", { value: String(n), selected: n === pageSize }, String(n))))));
  const op = api.isOperator();
  const acts = op ? [triggerAction(dag, reload), pauseAction(dag, reload)] : [];
  fill(view.main,
    h("p", {}, h("a", { href: "#/dags" }, "← DAGs")),
    h("h1", {}, dag.id, " ", dagState(dag)),
    h("div", { class: "row muted" }, h("span", {}, "File ", h("code", {}, dag.file)),
      h("span", {}, "Schedule ", dag.schedule ? h("code", {}, dag.schedule) : "by hand"),
      dag.next_run_at ? h("span", {}, "Next run ", time(dag.next_run_at)) : null),
    dag.load_error ? h("p", { class: "error mono" }, dag.load_error) : null,
    op ? h("div", { class: "actions" }, acts.map((a) => a.button)) : null, ...acts.map((a) => a.form),
    h("h2", {}, "Runs, newest first"),
    items.length ? h("div", { class: "grid-box", tabindex: "0", role: "region", "aria-label": "Runs grid" },
      h("table", { class: "grid" }, h("thead", {}, head), h("tbody", {}, body)))
      : h("p", { class: "notice" }, "No runs yet."),
    nav,
    h("div", { class: "legend", "aria-label": "Legend" }, states.map((s) => stateBadge(s, `${symbol(s)} ${s.replaceAll("_", " ")}`))));
}

const terminal = new Set(["success", "failed", "upstream_failed", "skipped", "removed"]);

export async function taskPage([dagID, runID, taskID], view) {
  const base = `/dags/${enc(dagID)}/runs/${enc(runID)}/tasks/${enc(taskID)}`;
  const summary = h("section", { "aria-label": "Task state" });
  const history = h("section", { "aria-label": "History" });
  const notes = h("section", { "aria-label": "Notifications" });
  const tries = h("div", { class: "actions", role: "group", "aria-label": "Tries" });
  const log = h("pre", { class: "log", tabindex: "0", "aria-label": "Log", "data-testid": "log" });
  let selected = 0, shownTry = -1, lastTask = null;

  async function loadLog() {
    const t = selected;
    try {
      const text = await api.get(`${base}/logs?try=${t}`, { text: true });
      if (t === selected) log.textContent = text || "(empty log)";
    } catch (e) {
      if (t === selected) log.textContent = e.status === 404 ? `No log for try ${t}: ${e.message}` : e.message;
    }
  }

  function drawTries(ti) {
    if (ti.try === shownTry) return;
    const follow = selected === shownTry || selected === 0;
    shownTry = ti.try;
    if (follow) selected = ti.try;
    const btns = [];
    for (let i = 1; i <= ti.try; i++) {
      btns.push(h("button", { type: "button", "aria-pressed": String(i === selected), onclick: () => {
        selected = i;
        for (const b of tries.children) b.setAttribute("aria-pressed", String(b.dataset.try === String(i)));
        loadLog();
      }, "data-try": String(i) }, `Try ${i}`));
    }
    fill(tries, ...(btns.length ? btns : [h("span", { class: "muted" }, "No try yet.")]));
  }

  async function refresh() {
    const hist = await api.get(`${base}/history?limit=0`);
    if (!view.alive()) return false;
    const ti = hist.task;
    const changed = !lastTask || lastTask.state !== ti.state || lastTask.try !== ti.try;
    lastTask = ti;
    fill(summary,
      h("dl", { class: "facts" },
        h("dt", {}, "State"), h("dd", { "data-testid": "task-state" }, stateBadge(ti.state, `${symbol(ti.state)} ${ti.state}`)),
        // Tries before a clear by hand do not count against the retries.
        h("dt", {}, "Try"), h("dd", { "data-testid": "task-try" },
          ti.try_base ? `${ti.try} (${ti.try - ti.try_base} of ${ti.max_tries} since a clear)` : `${ti.try} of ${ti.max_tries}`,
          ti.evictions ? ` (+${ti.evictions} evicted, not counted)` : ""),
        ti.exit_code !== undefined ? [h("dt", {}, "Exit code"), h("dd", {}, String(ti.exit_code))] : null,
        ti.external_id ? [h("dt", {}, "Runs as"), h("dd", { class: "mono" }, ti.external_id)] : null,
        ti.pool ? [h("dt", {}, "Pool"), h("dd", {}, ti.pool)] : null,
        h("dt", {}, "Queued"), h("dd", {}, time(ti.queued_at)),
        h("dt", {}, "Started"), h("dd", {}, time(ti.started_at)),
        h("dt", {}, "Ended"), h("dd", {}, time(ti.ended_at)),
        ti.retry_at ? [h("dt", {}, "Retry at"), h("dd", {}, time(ti.retry_at))] : null));
    const rows = (hist.transitions || []).map((tr) => h("tr", { "data-seq": String(tr.seq) },
      h("td", {}, String(tr.try)),
      h("td", {}, tr.from ? [stateBadge(tr.from), " → "] : "", stateBadge(tr.to),
        tr.repeats ? h("strong", { title: `${tr.repeats} more identical records, the last ${tr.last_at}` }, ` ×${tr.repeats + 1}`) : ""),
      h("td", {}, time(tr.at), tr.repeats && tr.last_at ? h("div", { class: "muted" }, "last ", time(tr.last_at)) : null),
      h("td", { class: "mono" }, actor(tr.by), tr.manual ? h("div", {}, stateBadge("paused", "manual")) : null),
      h("td", {}, tr.reason,
        tr.exit_code !== undefined && !tr.reason.includes("exit code") ? h("div", { class: "muted" }, `exit code ${tr.exit_code}`) : null)));
    fill(history, h("h2", {}, "Why is it in this state?"),
      rows.length ? table(["Try", "Transition", "At", "By", "Reason"], rows) : h("p", { class: "muted" }, "No transitions recorded."));
    // Notifications (issue 20): what was told to which receiver, and how
    // its delivery went; not transitions.
    const ns = hist.notifications || [];
    fill(notes, ns.length ? [h("h2", {}, "Notifications"), table(["Try", "Event", "Receiver", "State", "Attempts", "Result"],
      ns.map((n) => h("tr", { "data-notification": String(n.id) },
        h("td", {}, String(n.try)), h("td", {}, n.event), h("td", { class: "mono" }, n.receiver),
        h("td", { "data-testid": "notification-state" }, n.state), h("td", {}, String(n.attempts)),
        h("td", {}, n.state === "sent" ? `HTTP ${n.status_code}` : (n.error || "")))))] : []);
    drawTries(ti);
    // Follow the live try's log; a finished try's log no longer changes.
    if (changed || (selected === ti.try && !terminal.has(ti.state))) await loadLog();
    return true;
  }

  const after = () => { shownTry = -1; selected = 0; refresh(); };
  const op = api.isOperator();
  const acts = op ? taskActions(dagID, runID, taskID, after) : [];
  fill(view.main,
    h("p", {}, h("a", { href: "#/dags" }, "DAGs"), " / ", h("a", { href: `#/dags/${enc(dagID)}` }, dagID), " / ",
      h("span", { class: "mono" }, runID)),
    h("h1", {}, "Task ", h("code", {}, taskID)),
    summary,
    op ? h("div", { class: "actions" }, acts.map((a) => a.button)) : null, ...acts.map((a) => a.form),
    history, notes,
    h("h2", {}, "Logs"), tries, log);
  await refresh();
  // Keep the page live while it is shown: a cleared task runs again here.
  const poll = async () => {
    if (!view.alive()) return;
    try { if (!(await refresh())) return; } catch (e) { if (e.status === 401) return; }
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1500);
}

function taskActions(dagID, runID, taskID, after) {
  const dsID = `downstream-${Math.random().toString(36).slice(2, 8)}`;
  const downstream = h("input", { type: "checkbox", id: dsID, checked: true });
  const clear = action("Clear", { testid: "clear", after,
    fields: [h("label", { class: "inline", for: dsID }, downstream, "with downstream tasks")],
    run: (reason, progress) => runOp({ kind: "clear_tasks", dag_id: dagID, run_id: runID, task_id: taskID,
      args: { downstream: downstream.checked }, reason }, progress) });
  const mark = (state) => action(`Mark ${state}`, { testid: `mark-${state}`, after, danger: state === "failed",
    run: (reason, progress) => runOp({ kind: "mark", dag_id: dagID, run_id: runID, task_id: taskID,
      args: { state }, reason }, progress) });
  return [clear, mark("success"), mark("failed")];
}
