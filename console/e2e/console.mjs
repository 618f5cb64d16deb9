// console.mjs drives the web console in Debian's chromium with
// playwright-core, against a real `vigil run` started by e2e_test.go,
// which passes everything through the environment:
//
//   VIGIL_URL, VIGIL_TOKEN_OP, VIGIL_TOKEN_RO   the server and its two tokens
//   VIGIL_CHROMIUM, VIGIL_PLAYWRIGHT           the browser, playwright-core's node_modules
//   SHOTS_DIR                                  where screenshots go
//   MODE=main                                  every page, clearing a failed task, read-only
//   MODE=stall, STALL_EXPECT                   the banner names the blocked call
//
// It prints one line per step and exits non-zero at the first failure.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const require = createRequire(join(env("VIGIL_PLAYWRIGHT"), "noop.js"));
const { chromium } = require("playwright-core");

const base = env("VIGIL_URL");
const shots = env("SHOTS_DIR");
const mode = process.env.MODE || "main";
const wide = { width: 1280, height: 800 };
const narrow = { width: 390, height: 844 };

const step = (msg) => console.log(`[console.mjs] ${msg}`);

async function expectText(locator, re, what, timeout = 20000) {
  try {
    await locator.first().waitFor({ timeout });
    await locator.filter({ hasText: re }).first().waitFor({ timeout });
  } catch (e) {
    const got = await locator.allInnerTexts().catch(() => []);
    throw new Error(`${what}: no ${re} within ${timeout} ms; found ${JSON.stringify(got).slice(0, 600)}`);
  }
}

async function noOverflow(page, what) {
  // Let the layout settle after data arrives.
  await page.waitForTimeout(200);
  const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  if (m.sw > m.cw) throw new Error(`${what}: the page overflows horizontally (${m.sw}px wide in ${m.cw}px)`);
}

async function shot(page, name) {
  const vp = page.viewportSize();
  await page.screenshot({ path: join(shots, `${name}-${vp.width}.png`), fullPage: vp.width < 600 });
}

async function signIn(page, token) {
  await page.goto(`${base}/#/signin`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/#\/dags$/);
}

// pages are visited at both sizes for the overflow check and screenshots.
const pages = {
  dags: { hash: "#/dags", ready: (p) => expectText(p.locator("main table tr[data-dag]"), /flaky/, "DAG list") },
  grid: { hash: "#/dags/flaky", ready: (p) => p.locator("a.cell").first().waitFor() },
  task: { hash: "#/dags/flaky/runs/RUN/tasks/a", ready: (p) => expectText(p.locator("[data-testid=task-state]"), /success|failed/, "task") },
  diagnostics: { hash: "#/diagnostics", ready: (p) => expectText(p.locator("main h2"), /Goroutines: \d+/, "diagnostics") },
};

async function mainMode(page) {
  // Sign-in: a wrong token is refused with the server's 401 message.
  await page.goto(base + "/");
  await page.waitForURL(/#\/signin$/);
  await shot(page, "signin");
  await page.getByLabel("API token").fill("not-a-token-of-this-server");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expectText(page.locator("[data-testid=signin-message]"), /401/, "sign-in with a wrong token");
  step("a wrong token is refused with 401");

  await signIn(page, env("VIGIL_TOKEN_OP"));
  await expectText(page.locator("[data-testid=who-role]"), /operator/, "whoami");
  await expectText(page.locator("#banner"), /Healthy/, "health banner");
  step("signed in as operator; the banner says healthy");

  // DAG list: states, schedule, last run, and the file that fails.
  await pages.dags.ready(page);
  const flaky = page.locator("tr[data-dag=flaky]");
  await expectText(flaky, /active/, "flaky's state");
  await expectText(flaky, /manual__/, "flaky's last run", 60000);
  await expectText(page.locator("tr[data-dag=nightly]"), /@daily/, "nightly's schedule");
  await expectText(page.locator("tr[data-dag=nightly]"), /paused/, "nightly's state");
  await expectText(page.locator("tr[data-file]"), /broken\.yaml/, "files that fail to load");
  await expectText(page.locator("tr[data-dag=gone]"), /missing/, "a DAG whose file is gone");
  if ((await page.locator("[data-action]").count()) === 0) throw new Error("an operator sees no action on the DAG list");
  step("DAG list: states (active, paused, missing), schedules, last runs, the broken file, operator actions");
  await shot(page, "dags");

  // Runs grid: a's cell is failed, with the state in text.
  await page.getByRole("link", { name: "flaky", exact: true }).click();
  const cell = page.locator("a.cell[data-state=failed][aria-label^='a in ']");
  await cell.first().waitFor();
  const label = await cell.first().getAttribute("aria-label");
  await expectText(page.locator("a.cell[aria-label^='a in ']"), /✓/, "a's success in the later runs");
  // Paged: 7 runs at 5 a page.
  await page.getByLabel("Runs per page").selectOption("5");
  await page.waitForFunction(() => document.querySelectorAll("table.grid thead th").length === 6);
  await page.getByRole("button", { name: "Older runs →" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table.grid thead th").length === 3);
  await expectText(page.locator("table.grid thead th"), /failed/, "the oldest run, on the second page");
  await page.getByRole("button", { name: "← Newer runs" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table.grid thead th").length === 6);
  await page.getByLabel("Runs per page").selectOption("10");
  await page.waitForFunction(() => document.querySelectorAll("table.grid thead th").length === 8);
  step(`runs grid: ${label}; paged 5 at a time`);
  await shot(page, "grid");
  await cell.first().click();
  await page.waitForURL(/\/tasks\/a$/);
  pages.task.hash = new URL(page.url()).hash;

  // Task page: failed at try 1; its history says why; its log is there.
  await expectText(page.locator("[data-testid=task-state]"), /failed/, "task state");
  await expectText(page.locator("[data-testid=task-try]"), /^1 of/, "task try");
  await expectText(page.locator("main table tr[data-seq]"), /exit code 1|failed/, "history");
  await expectText(page.locator("[data-testid=log]"), /first try fails/, "log of try 1");
  step("task page: failed at try 1, history and log shown");

  // Clear it from the task page; it runs again: try 2, success.
  await page.locator("[data-action=clear]").click();
  await page.locator("form:not([hidden])").getByLabel("Reason").fill("console e2e: flaky input fixed");
  await page.getByRole("button", { name: "Clear", exact: true }).click();
  await expectText(page.locator("[data-testid=op-result]"), /done/, "clear operation", 60000);
  await expectText(page.locator("[data-testid=task-state]"), /success/, "task state after clear", 60000);
  await expectText(page.locator("[data-testid=task-try]"), /^2\b/, "try after clear");
  await expectText(page.locator("main table tr[data-seq]"), /console e2e: flaky input fixed/, "the clear in the history");
  const try2 = page.locator("main table tr[data-seq]").filter({ has: page.locator("td:first-child", { hasText: /^2$/ }) });
  await expectText(try2, /→\s*success/, "try 2's success in the history");
  await expectText(page.locator("[data-testid=log]"), /second try/, "log of try 2");
  await page.locator("button[data-try='1']").click();
  await expectText(page.locator("[data-testid=log]"), /first try fails/, "log of try 1 after the clear");
  step("cleared from the task page: try 2 succeeded, shown in the page and the history");
  await page.locator("button[data-try='2']").click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "task");

  // Mark it failed, then success again: each an operation with a reason.
  for (const [state, re] of [["failed", /failed/], ["success", /success/]]) {
    await page.locator(`[data-action=mark-${state}]`).click();
    await page.locator("form:not([hidden])").getByLabel("Reason").fill(`console e2e: mark ${state}`);
    await page.getByRole("button", { name: `Mark ${state}`, exact: true }).click();
    await expectText(page.locator("[data-testid=op-result]"), /\(mark\) done/, `mark ${state}`, 60000);
    await expectText(page.locator("[data-testid=task-state]"), re, `state after mark ${state}`, 30000);
    await expectText(page.locator("main table tr[data-seq]"), new RegExp(`console e2e: mark ${state}`), `mark ${state} in the history`);
  }
  step("marked failed, then success, from the task page");

  // Diagnostics: calls in flight, goroutine groups, a flame graph.
  await page.getByRole("link", { name: "Diagnostics" }).click();
  await pages.diagnostics.ready(page);
  await expectText(page.locator("main h2"), /In-flight calls/, "in-flight calls");
  if ((await page.locator("details[data-group]").count()) < 2) throw new Error("diagnostics: fewer than 2 goroutine groups");
  // A CPU profile of this idle process may have no sample, which the
  // page says; a wall profile always has some (every goroutine counts).
  await page.getByLabel("Seconds (1–30)").fill("1");
  await page.getByRole("button", { name: "Take profile" }).click();
  await expectText(page.locator("main p"), /CPU profile of 1s|No samples in 1s of cpu profile/, "cpu flame graph", 30000);
  await page.getByLabel("Profile", { exact: true }).selectOption("wall");
  await page.getByRole("button", { name: "Take profile" }).click();
  await expectText(page.locator("main p"), /Wall-clock profile of 1s/, "wall flame graph", 30000);
  await page.locator(".flame button.frame[data-name=all]").first().waitFor();
  const frames = await page.locator(".flame button.frame").count();
  if (frames < 5) throw new Error(`wall flame graph: ${frames} frames`);
  await page.locator(".flame button.frame").nth(1).click();
  await expectText(page.locator("main span"), /Zoomed to/, "zoom");
  await page.getByRole("button", { name: "Reset zoom" }).click();
  step(`diagnostics: goroutine groups, in-flight calls, flame graphs (${frames} wall frames)`);
  await shot(page, "diagnostics");

  // The DAG's actions: pause and unpause with a reason, trigger with conf.
  await page.goto(`${base}/#/dags`);
  const row = page.locator("tr[data-dag=flaky]");
  await row.locator("[data-action=pause]").click();
  await row.locator("form:not([hidden])").getByLabel("Reason").fill("console e2e: hold flaky");
  await row.getByRole("button", { name: "Pause", exact: true }).click();
  await expectText(page.locator(".action-result"), /flaky is now paused/, "pause");
  await page.goto(`${base}/#/dags/flaky`);
  await expectText(page.locator("main h1"), /paused/, "paused in the grid page");
  await page.locator("[data-action=unpause]").click();
  await page.locator("form:not([hidden])").getByLabel("Reason").fill("console e2e: go on");
  await page.getByRole("button", { name: "Unpause", exact: true }).click();
  await expectText(page.locator(".action-result"), /flaky is now active/, "unpause");
  await expectText(page.locator("main h1"), /active/, "active again in the grid page");
  await page.locator("[data-action=trigger]").click();
  await page.getByLabel("Conf (JSON object, optional)").fill("{not json");
  await page.locator("form:not([hidden])").getByLabel("Reason").fill("console e2e: one more run");
  await page.getByRole("button", { name: "Trigger", exact: true }).click();
  await expectText(page.locator(".action-result"), /Conf is not valid JSON/, "bad conf");
  await page.getByLabel("Conf (JSON object, optional)").fill("");
  await page.getByRole("button", { name: "Trigger", exact: true }).click();
  await expectText(page.locator(".action-result"), /Created run manual__/, "trigger");
  step("pause, unpause and trigger from the pages, each with a reason");

  // A token demoted while its page is open: the buttons are still there,
  // the server refuses, and the page says so.
  await page.goto(`${base}/#/dags`);
  await page.evaluate((t) => sessionStorage.setItem("vigil.token", t), env("VIGIL_TOKEN_RO"));
  await page.locator("tr[data-dag=flaky] [data-action=pause]").click();
  await page.locator("tr[data-dag=flaky] form:not([hidden])").getByLabel("Reason").fill("console e2e: not allowed");
  await page.locator("tr[data-dag=flaky]").getByRole("button", { name: "Pause", exact: true }).click();
  await expectText(page.locator(".action-result"), /Refused \(403\): .+/, "a read-only token's pause");
  step(`a refused action is shown: ${await page.locator(".action-result").innerText()}`);
  await page.evaluate((t) => sessionStorage.setItem("vigil.token", t), env("VIGIL_TOKEN_OP"));

  // Both sizes: no horizontal page overflow on any page.
  for (const vp of [wide, narrow]) {
    await page.setViewportSize(vp);
    for (const [name, p] of Object.entries(pages)) {
      await page.goto(`${base}/${p.hash}`);
      await p.ready(page);
      await noOverflow(page, `${name} at ${vp.width}x${vp.height}`);
      if (vp === narrow) await shot(page, name);
    }
  }
  step("no horizontal overflow at 1280x800 and 390x844");
  await page.setViewportSize(wide);

  // Read-only: the same pages, and no action anywhere.
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, env("VIGIL_TOKEN_RO"));
  await expectText(page.locator("[data-testid=who-role]"), /read-only/, "whoami (read-only)");
  for (const [name, p] of Object.entries(pages)) {
    if (name === "diagnostics") continue;
    await page.goto(`${base}/${p.hash}`);
    await p.ready(page);
    const n = await page.locator("[data-action]").count();
    if (n) throw new Error(`${name}: a read-only token sees ${n} action button(s)`);
  }
  step("read-only: no action buttons");
}

async function stallMode(page) {
  const want = env("STALL_EXPECT");
  await signIn(page, env("VIGIL_TOKEN_RO"));
  const banner = page.locator("#banner[data-healthy=false]");
  await banner.waitFor({ timeout: 120000 });
  await expectText(page.locator("[data-testid=blocking] li"), new RegExp(want.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    "blocking calls", 120000);
  await expectText(page.locator("[data-testid=blocking] li"), /deadline/, "the call's deadline");
  const text = await page.locator("#banner").innerText();
  step(`banner: ${text.replace(/\s+/g, " ").slice(0, 400)}`);
  await shot(page, "stalled");
  await page.setViewportSize(narrow);
  await noOverflow(page, "stalled banner at 390x844");
}

const userDataDir = mkdtempSync(join(tmpdir(), "vigil-chromium-"));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: env("VIGIL_CHROMIUM"),
  headless: true,
  viewport: wide,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic"],
});
let failed = false;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !/status of 40[13]/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(20000);
  await (mode === "stall" ? stallMode(page) : mainMode(page));
  if (problems.length) throw new Error(`the page reported errors:\n${problems.join("\n")}`);
  step("ok");
} catch (e) {
  failed = true;
  console.error(`[console.mjs] FAIL: ${e.message}`);
  try { await ctx.pages()[0].screenshot({ path: join(shots, "failure.png"), fullPage: true }); } catch { /* best effort */ }
} finally {
  await ctx.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
