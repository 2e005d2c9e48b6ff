// Dashboards: objects by type and status, links by state, scans, messages by level over time, broken
// invariants. Bars are plain HTML (a table with a bar in each row), readable without the picture.
import { api } from "./api.js";
import { errorBox, guarded } from "./common.js";
import { h, table, when } from "./dom.js";
import { TYPE_LABELS } from "./graph.js";
import { link } from "./router.js";

function bars(title, counts, { label = (k) => k, cls = () => "" } = {}) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h("section", { class: "panel", "aria-label": title }, h("h2", {}, title),
    entries.length ? h("table", { class: "bars" }, h("caption", { class: "visually-hidden" }, title),
      h("tbody", {}, entries.map(([k, n]) => h("tr", {}, h("th", { scope: "row" }, label(k)),
        h("td", {}, h("span", { class: `bar ${cls(k)}`, style: `width:${Math.max(2, (100 * n) / max)}%` }), " ", String(n)))))) :
      h("p", {}, "Nothing to count."));
}

export async function dashboardView(main, env) {
  main.append(h("h1", {}, `Dashboards of ${env}`));
  await guarded(main, async () => {
    const base = api.env(env);
    const [stats, scans, timeline] = await Promise.all([
      api.get(`${base}/statistics`), api.get(`${base}/scans`, { page_size: 10 }), api.get(`${base}/overview/timeline`, { bucket: "day" })]);
    const grid = h("div", { class: "dash" });
    main.append(grid);
    grid.append(bars(`Objects by type (${stats.objects})`, stats.objects_by_type, { label: (k) => TYPE_LABELS[k] || k }),
      bars("Objects by status", stats.objects_by_status, { label: (k) => (k === "none" ? "no monitoring status" : k), cls: (k) => `health-${k}` }),
      bars(`Links by state (${stats.links})`, stats.links_by_state, { cls: (k) => (k === "down" ? "health-critical" : "health-ok") }),
      bars("Messages by level", stats.messages_by_level, { cls: (k) => ({ error: "health-critical", warning: "health-warning" })[k] || "" }));
    const days = [...new Set(timeline.items.map((i) => i.start))];
    const levels = ["error", "warning", "info"];
    const byDay = (day, level) => (timeline.items.find((i) => i.start === day && i.level === level) || {}).count || 0;
    grid.append(h("section", { class: "panel wide", "aria-label": "Messages over time" }, h("h2", {}, "Messages by level over time (per day, last 14 days)"),
      days.length ? table(days.map((d) => ({ day: d.slice(0, 10), ...Object.fromEntries(levels.map((l) => [l, byDay(d, l)])) })),
        [["day", "Day"], ...levels.map((l) => [l, l, (v) => h("span", {}, h("span", { class: `bar small ${l === "error" ? "health-critical" : l === "warning" ? "health-warning" : ""}`, style: `width:${Math.min(200, v * 4)}px` }), " ", String(v))])]) :
        h("p", {}, "No message in the last 14 days.")));
    grid.append(h("section", { class: "panel wide", "aria-label": "Scans" }, h("h2", {}, `Scans (${scans.total})`),
      scans.items.length ? table(scans.items, [["status", "Status"], ["created_at", "Requested", when], ["finished_at", "Finished", when],
        ["duration_s", "Seconds"], ["requested_by", "By"]]) : h("p", {}, "Never scanned.")));
    const inv = h("section", { class: "panel wide", "aria-label": "Broken invariants" }, h("h2", {}, "Broken invariants"));
    grid.append(inv);
    try {
      const answer = await api.get(`${base}/analysis/invariants`);
      inv.append(bars("Violations per check", answer.summary || {}),
        answer.rows.length ? table(answer.rows.slice(0, 30)) : h("p", {}, "No invariant is broken."),
        h("p", {}, h("a", { href: link("env", env, "invariants") }, "All invariants")));
    } catch (error) {
      inv.append(errorBox(error));
    }
  });
}
