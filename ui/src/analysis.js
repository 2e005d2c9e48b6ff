// Analysis views: impact, what-if, root cause, path, diff, invariants. Each is a form whose values are
// the URL's parameters (so an answer can be shared), the API's answer as tables, the objects it names
// highlighted on a graph, and the report as JSON, CSV or Markdown.
import { api } from "./api.js";
import { guarded } from "./common.js";
import { download, h, show, table, toCsv } from "./dom.js";
import { graphPanel, sidePanel } from "./focal.js";
import { go, link } from "./router.js";

const OBJECT = "an object id or a unique name";

export const ANALYSES = [
  { key: "impact", label: "Impact", endpoint: "impact", intro: "What loses connectivity if these objects go down (a host, a NIC, a switch port…).",
    fields: [{ name: "target", label: "Targets", multiple: true, required: true, help: `comma-separated; ${OBJECT}` }] },
  { key: "whatif", label: "What-if", endpoint: "whatif", intro: "Which VMs' ways out break if these objects went away.",
    fields: [{ name: "remove", label: "Objects to remove", multiple: true, required: true, help: `comma-separated; ${OBJECT}` }] },
  { key: "rca", label: "Root cause", endpoint: "rca", intro: "Where on the broken VMs' paths the fault most likely is, with the evidence.",
    fields: [{ name: "focal", label: "Broken VMs", multiple: true, required: true, help: `comma-separated; ${OBJECT}` },
      { name: "since", label: "Count changes since", help: "ISO time (default: 24 hours ago)" }] },
  { key: "path", label: "Path", endpoint: "path", intro: "Every hop from one VM to another, with the health of each.",
    fields: [{ name: "source", label: "From VM", required: true, help: OBJECT }, { name: "target", label: "To VM", required: true, help: OBJECT }] },
  { key: "diff", label: "Changes", endpoint: "diff", intro: "What changed between two times or scans, optionally near one object.",
    fields: [{ name: "since", label: "Since", required: true, help: "ISO time, a duration ago (2h, 7d) or a scan id", value: "24h" },
      { name: "until", label: "Until", help: "default now" }, { name: "around", label: "Near object", help: OBJECT },
      { name: "hops", label: "Within links", help: "with a near object: how many links away (0-3)" }] },
  { key: "invariants", label: "Invariants", endpoint: "invariants", auto: true, intro: "Broken invariants: MTU falling, VLAN or segmentation mismatch, orphan taps, tunnels without peer, bonds with one live member.",
    fields: [] },
];

/** Which objects of an answer to draw and how to mark them: [[id, mark]], nearest to the question first. */
function marks(key, answer) {
  const out = [];
  if (key === "impact") {
    (answer.targets || []).forEach((t) => out.push([t.id, "target"]));
    (answer.affected || []).forEach((a) => out.push([a.id, a.state === "down" ? "affected" : "degraded"]));
  } else if (key === "whatif") {
    (answer.removed || []).forEach((t) => out.push([t.id, "target"]));
    (answer.paths || []).forEach((p) => out.push([p.vm, p.state === "down" ? "affected" : "degraded"]));
  } else if (key === "rca") {
    (answer.focal || []).forEach((f) => out.push([f, "affected"]));
    (answer.suspects || []).filter((s) => s.score > 0).slice(0, 10).forEach((s) => out.push([s.id, "suspect"]));
  } else if (key === "path") {
    (answer.hops || []).forEach((hop) => out.push([hop.id, hop.health === "ok" ? "hop" : "suspect"]));
  } else if (key === "diff" && answer.around) {
    out.push([answer.around, "target"]);
  }
  return out;
}

/** A title with the ids it names replaced by the names the answer gives them (people read names). */
function named(title, answer) {
  const names = new Map();
  const visit = (value) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      if (value.id && value.name) names.set(String(value.id), String(value.name));
      if (value.vm && value.name) names.set(String(value.vm), String(value.name));
      Object.values(value).forEach((v) => typeof v === "object" && visit(v));
    }
  };
  visit(answer);
  let out = String(title || "");
  for (const [id, name] of names) if (id !== name) out = out.split(id).join(name);
  return out;
}

function markdown(answer) {
  const rows = answer.rows || [];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const summary = Array.isArray(answer.summary) ? answer.summary.map((s) => `- ${s}`).join("\n") + "\n\n" : "";
  const cell = (v) => show(v).replace(/\|/g, "\\|").replace(/\n/g, " ");
  return `# ${answer.title}\n\nEnvironment: ${answer.environment}\n\n${summary}` +
    (rows.length ? `| ${keys.join(" | ")} |\n|${keys.map(() => "---").join("|")}|\n` +
      rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(" | ")} |`).join("\n") + "\n" : "No rows.\n");
}

function groups(answer) {
  const sections = [["by_project", "By project"], ["by_network", "By network"], ["by_host", "By host"]]
    .filter(([k]) => answer[k] && Object.keys(answer[k]).length);
  if (!sections.length) return null;
  return h("div", { class: "groups" }, sections.map(([k, label]) => table(
    Object.entries(answer[k]).map(([name, counts]) => ({ name, ...counts })), [["name", label.replace("By ", "")], ["down", "Down"], ["degraded", "Degraded"]],
    { caption: label })));
}

export async function analysisView(main, env, key, params) {
  const spec = ANALYSES.find((a) => a.key === key);
  main.append(h("h1", {}, spec.label), h("p", {}, spec.intro));
  const inputs = spec.fields.map((f) => {
    const values = params.getAll(f.name);
    const input = h("input", { id: `f-${f.name}`, name: f.name, required: f.required, "aria-describedby": `f-${f.name}-help`,
      value: values.length ? values.join(", ") : (f.value || "") });
    return [f, input];
  });
  const form = h("form", { class: "analysis-form", "aria-label": `${spec.label} question` },
    inputs.map(([f, input]) => h("div", { class: "field" }, h("label", { for: input.id }, f.label), input,
      h("small", { id: `f-${f.name}-help` }, f.help))),
    h("button", { type: "submit", class: "primary" }, spec.auto ? "Check again" : "Run"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = {};
    for (const [f, input] of inputs) {
      const text = input.value.trim();
      if (!text) continue;
      query[f.name] = f.multiple ? text.split(",").map((s) => s.trim()).filter(Boolean) : text;
    }
    go(link("env", env, key, query));
  });
  main.append(form);
  const ready = spec.auto || spec.fields.filter((f) => f.required).every((f) => params.getAll(f.name).length);
  if (!ready) return;
  const result = h("section", { class: "result", "aria-live": "polite", "aria-label": `${spec.label} answer` });
  main.append(result);
  await guarded(result, async () => {
    const query = {};
    for (const f of spec.fields) if (params.getAll(f.name).length) query[f.name] = f.multiple ? params.getAll(f.name) : params.get(f.name);
    const started = performance.now();
    const answer = await api.get(`${api.env(env)}/analysis/${spec.endpoint}`, query);
    const apiMs = performance.now() - started;
    const name = `calipso-${env}-${key}`;
    result.append(...[h("h2", { id: "answer-title" }, named(answer.title, answer)),
      Array.isArray(answer.summary) ? h("ul", { class: "summary" }, answer.summary.map((s) => h("li", {}, s))) : null,
      h("div", { class: "actions" }, h("span", {}, "Report: "),
        h("button", { type: "button", onclick: () => download(`${name}.json`, JSON.stringify(answer, null, 2), "application/json") }, "JSON"),
        h("button", { type: "button", onclick: () => download(`${name}.csv`, toCsv(answer.rows || []), "text/csv") }, "CSV"),
        h("button", { type: "button", onclick: () => download(`${name}.md`, markdown(answer), "text/markdown") }, "Markdown")),
      groups(answer),
      (answer.rows || []).length ? table(answer.rows, null, { caption: `${answer.rows.length} rows`,
        rowClass: (row, i) => (key === "rca" && i === 0 && row.score > 0 ? "first" : null) }) : h("p", {}, "Nothing found."),
      h("p", { class: "hint" }, `API answered in ${Math.round(apiMs)} ms.`)].filter(Boolean));
    const marked = marks(key, answer);
    if (!marked.length) return;
    const highlight = new Map(marked);
    const side = h("aside", { class: "side", "aria-label": "Selected object" }, h("p", {}, "Select an object on the graph for its details."));
    const panel = graphPanel(env, { title: `${spec.label} on the graph`, onSelect: (d) => d.type !== "chain" && sidePanel(side, env, d.id, panel) });
    panel.highlight = highlight;
    if (key === "path") panel.order = new Map(answer.hops.map((hop) => [hop.id, hop.hop]));
    result.append(h("h2", {}, "On the graph"), h("div", { class: "focal-layout" }, panel.root, side));
    const ids = [...highlight.keys()].slice(0, 60);
    const graphStarted = performance.now();
    // The paths of a few of the VMs in question (their cliques), and the other objects named.
    const vms = ids.filter((id) => ["affected", "degraded"].includes(highlight.get(id))).slice(0, key === "path" ? 0 : 4);
    const cliques = await Promise.all(vms.map((id) => api.get(`${api.env(env)}/cliques/${api.id(id)}`).catch(() => null)));
    const shown = new Set(ids);
    for (const clique of cliques.filter(Boolean)) {
      clique.nodes.forEach((n) => shown.add(n.id));
      panel.model.merge({ nodes: clique.nodes.map((n) => ({ ...n, focal: false })), links: clique.links });
    }
    const around = await api.get(`${api.env(env)}/graph`, { focal: [...shown].slice(0, 300), hops: 0, max_nodes: 300 });
    panel.model.merge({ ...around, nodes: around.nodes.map((n) => ({ ...n, focal: false })) },
      { focal: ids.filter((id) => ["target", "suspect"].includes(highlight.get(id))) });
    await panel.render(performance.now() - graphStarted);
    const title = result.querySelector("#answer-title");
    for (const [id, node] of panel.model.nodes) if (node.name && node.name !== id) title.textContent = title.textContent.split(id).join(node.name);
  });
}
