// drawFlame renders GET /debug/flamegraph's tree as an icicle graph: the
// root on top, callees below, widths by value. Each frame is a button:
// click (or Enter) zooms to it, and its title gives the value and share.
import { h, fill } from "./dom.js";

const rowHeight = 20;

function fmt(v, unit) {
  if (unit === "nanoseconds") {
    const s = v / 1e9;
    return s >= 1 ? `${s.toFixed(2)}s` : `${(s * 1000).toFixed(1)}ms`;
  }
  return `${v} ${unit || ""}`.trim();
}

// A stable warm colour from the frame's package, so one package reads as
// one hue.
function colour(name) {
  const pkg = name.replace(/\.[^./]*$/, "").replace(/\(.*$/, "");
  let x = 0;
  for (const c of pkg) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${15 + (x % 40)}, ${70 + (x % 20)}%, ${68 + (x % 12)}%)`;
}

// short drops the import path: "github.com/x/y/pkg.(*T).F" -> "pkg.(*T).F".
function short(name) {
  const i = name.lastIndexOf("/", name.indexOf("(") >= 0 ? name.indexOf("(") : name.length);
  return i >= 0 ? name.slice(i + 1) : name;
}

function depth(n) {
  let d = 0;
  for (const c of n.children || []) d = Math.max(d, depth(c));
  return d + 1;
}

export function drawFlame(out, fg) {
  const total = fg.value;
  const box = h("div", { class: "flame", role: "group", "aria-label": `Flame graph of a ${fg.seconds}s ${fg.kind} profile` });
  const crumbs = h("div", { class: "actions" });
  if (!total) {
    fill(out, h("p", { class: "notice" }, `No samples in ${fg.seconds}s of ${fg.kind} profile: the process was idle.`));
    return;
  }
  const draw = (focus, path) => {
    const rows = depth(focus);
    box.style.height = `${rows * rowHeight}px`;
    const frames = [];
    // Lay out by fraction of the focused frame's value; frames narrower
    // than 0.2% are left out (their time stays in the parent's width).
    const walk = (n, d, x0) => {
      const w = n.value / focus.value;
      if (w < 0.002) return;
      const pct = ((n.value / total) * 100).toFixed(1);
      const title = `${n.name}\n${fmt(n.value, fg.unit)} (${pct}% of all)`;
      const b = h("button", { type: "button", class: "frame", title, "aria-label": `${n.name}, ${pct}%`,
        "data-name": n.name, onclick: () => draw(n, [...path, n]) }, short(n.name));
      // Through the CSSOM: the page's CSP refuses inline style attributes.
      Object.assign(b.style, { left: `${x0 * 100}%`, width: `${w * 100}%`, top: `${d * rowHeight}px`, background: colour(n.name) });
      frames.push(b);
      let x = x0;
      for (const c of n.children || []) {
        walk(c, d + 1, x);
        x += c.value / focus.value;
      }
    };
    walk(focus, 0, 0);
    fill(box, ...frames);
    fill(crumbs,
      h("button", { type: "button", disabled: path.length === 0, onclick: () => draw(fg, []) }, "Reset zoom"),
      path.length ? h("span", { class: "muted mono" }, `Zoomed to ${focus.name}`) : h("span", { class: "muted" }, "Click a frame to zoom."));
  };
  const root = { name: "all", value: fg.value, children: fg.children };
  fill(out,
    h("p", {}, `${fg.kind === "wall" ? "Wall-clock" : "CPU"} profile of ${fg.seconds}s: ${fmt(total, fg.unit)} of ${fg.sample_type} sampled`,
      fg.pruned ? `, ${fg.pruned} frames under 0.05% left out` : "", "."),
    crumbs, box);
  fg = root;
  draw(root, []);
}
