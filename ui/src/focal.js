// The focal-point view: the graph around one object (its clique, the path its packets take, for a
// VM; its neighbours otherwise), a side panel about the selected object, and expansion on demand.
import { api } from "./api.js";
import { badge, errorBox, guarded, legend } from "./common.js";
import { h, fill, table, when, show } from "./dom.js";
import { GraphModel, HEALTH_COLOURS, TYPE_LABELS, draw } from "./graph.js";
import { go, link } from "./router.js";

/** Object types whose picture is their clique (the path of their packets). */
const CLIQUE_TYPES = new Set(["instance", "vservice"]);
/** What the last drawing took, for tests and the benchmark (also shown in the status line). */
window.calipsoMetrics = window.calipsoMetrics || {};

/** A graph with its controls, status line, legend and a text list of its objects; returns helpers. */
export function graphPanel(env, { onSelect, title = "Graph" } = {}) {
  const canvas = h("div", { class: "graph", role: "img", "aria-label": `${title}: objects and links; the list below holds the same objects` });
  const status = h("p", { class: "graph-status", role: "status", "aria-live": "polite" });
  const collapse = h("input", { type: "checkbox", id: "collapse-chains", checked: true });
  const objects = h("details", { class: "objects" });
  const panel = { model: new GraphModel(env), highlight: new Map(), order: null, view: null };
  const root = h("section", { class: "graph-panel", "aria-label": title },
    h("div", { class: "graph-tools" },
      h("span", {}, collapse, h("label", { for: "collapse-chains" }, " Collapse each VM's tap/qbr/qvb/qvo chain")),
      h("button", { type: "button", onclick: () => panel.view && panel.view.cy.fit(undefined, 30) }, "Fit"),
      h("button", { type: "button", onclick: () => savePicture(panel, env) }, "Save picture (PNG)")),
    canvas, status, legend(HEALTH_COLOURS, TYPE_LABELS), objects);
  panel.root = root;

  panel.render = async (apiMs) => {
    const started = performance.now();
    await panel.model.loadHealth();
    const healthMs = performance.now() - started;
    if (panel.view) panel.view.cy.destroy();
    panel.view = draw(canvas, panel.model, {
      collapse: collapse.checked, highlight: panel.highlight, order: panel.order, onSelect,
      onMore: (id) => panel.expand(id),
    });
    const renderMs = await panel.view.rendered;
    const nodes = panel.model.nodes.size;
    Object.assign(window.calipsoMetrics, { nodes, links: panel.model.links.size, apiMs, healthMs, renderMs });
    fill(status, `${nodes} objects, ${panel.model.links.size} links`,
      apiMs !== undefined ? ` · API ${Math.round(apiMs)} ms` : "", ` · health ${Math.round(healthMs)} ms · drawn in ${Math.round(renderMs)} ms`,
      panel.model.truncated ? " · the server's cap cut this picture short: expand nodes (+N more) to see the rest" : "");
    canvas.dataset.rendered = String(Date.now());
    fill(objects, h("summary", {}, `Objects in the picture (${nodes})`),
      table([...panel.model.nodes.values()].map((n) => ({ ...n, health: panel.model.healthOf(n.id).health })),
        [["name", "Object", (v, r) => h("a", { href: link("env", env, "focal", r.id), "data-id": r.id }, v || r.id)],
          ["type", "Type", (v) => TYPE_LABELS[v] || v], ["host", "Host"], ["health", "Health", (v) => badge(v)],
          ["hidden", "Links not shown"]], { caption: "Objects drawn in the graph" }));
  };

  /** Add a node's neighbours (one hop) to the picture. */
  panel.expand = async (id) => {
    const started = performance.now();
    const answer = await api.get(`${api.env(env)}/graph`, { focal: id, hops: 1, max_nodes: 60 });
    panel.model.merge({ ...answer, nodes: answer.nodes.map((n) => ({ ...n, focal: panel.model.nodes.get(n.id)?.focal || false })) });
    await panel.render(performance.now() - started);
  };
  collapse.addEventListener("change", () => panel.render());
  return panel;
}

function savePicture(panel, env) {
  if (!panel.view) return;
  const png = panel.view.cy.png({ full: true, scale: 2, bg: "#ffffff" });
  const a = h("a", { href: png, download: `calipso-${env}-graph.png` });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Load the picture around `focal`: its clique for a VM, else `hops` links around it. */
export async function loadAround(panel, env, focal, type, hops) {
  const started = performance.now();
  if (CLIQUE_TYPES.has(type) && hops === undefined) {
    const clique = await api.get(`${api.env(env)}/cliques/${api.id(focal)}`);
    // What the picture leaves out of each node ("+N more") comes with the nodes' health (their degree).
    panel.model.merge({ nodes: clique.nodes.map((n) => ({ ...n, focal: n.id === focal })), links: clique.links });
    panel.cliqueType = clique.clique_type;
  } else {
    const answer = await api.get(`${api.env(env)}/graph`, { focal, hops: hops ?? 2, max_nodes: 150 });
    panel.model.merge(answer, { focal: [focal] });
  }
  return performance.now() - started;
}

export async function focalView(main, env, focal, params) {
  const hopsParam = params.get("hops");
  const side = h("aside", { class: "side", "aria-label": "Selected object" }, h("p", {}, "Select an object on the graph for its details."));
  await guarded(main, async () => {
    const object = await api.get(`${api.env(env)}/inventory/${api.id(focal)}`);
    document.title = `Calipso · ${env} · ${object.name || object.id}`;
    const hops = h("select", { id: "hops" },
      (CLIQUE_TYPES.has(object.type) ? [h("option", { value: "" }, "its path (clique)")] : []),
      [1, 2, 3, 4].map((n) => h("option", { value: n }, `${n} link${n > 1 ? "s" : ""} around`)));
    hops.value = hopsParam || (CLIQUE_TYPES.has(object.type) ? "" : "2");
    hops.addEventListener("change", () => go(link("env", env, "focal", focal, hops.value ? { hops: hops.value } : {})));
    const panel = graphPanel(env, { title: `Graph around ${object.name || object.id}`, onSelect: (data) => select(data) });
    main.append(h("h1", {}, `${TYPE_LABELS[object.type] || object.type} ${object.name || object.id}`),
      h("p", { class: "crumbs" }, (object.name_path || []).join(" / ")),
      h("div", { class: "graph-tools" }, h("label", { for: "hops" }, "Show: "), hops),
      h("div", { class: "focal-layout" }, panel.root, side));
    // The selected object is part of the view's URL (replaced, not pushed: Back leaves the view).
    const remember = (id) => history.replaceState(null, "", link("env", env, "focal", focal,
      { ...(hopsParam ? { hops: hopsParam } : {}), ...(id && id !== focal ? { select: id } : {}) }));
    const select = (data) => {
      remember(data.type === "chain" ? data.members.split(" ")[0] : data.id);
      if (data.type === "chain") {
        fill(side, h("h2", {}, "vNIC chain"), h("p", {}, "These objects are drawn as one node:"),
          h("ul", {}, data.members.split(" ").map((id) => h("li", {}, h("button", { type: "button", class: "linklike",
            onclick: () => sidePanel(side, env, id, panel) }, panel.model.nodes.get(id)?.name || id)))));
        return;
      }
      sidePanel(side, env, data.id, panel);
    };
    const apiMs = await loadAround(panel, env, focal, object.type, hopsParam ? Number(hopsParam) : undefined);
    await panel.render(apiMs);
    const selected = params.get("select");
    if (selected && panel.view) panel.view.cy.$id(selected).select();
    await sidePanel(side, env, selected || focal, panel);
  });
}

/** A <details> whose body is loaded the first time it is opened (the reads behind it scan large
 * collections in MongoDB: nobody should wait for them before they ask). */
function lazyDetails(title, load) {
  const body = h("div", {}, h("p", {}, "Loading…"));
  const details = h("details", {}, h("summary", {}, title), body);
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try { fill(body, await load()); } catch (error) { fill(body, errorBox(error)); }
  });
  return details;
}

/** The side panel: attributes, links, history (as of a time) and messages of one object. */
export async function sidePanel(side, env, id, panel) {
  fill(side, h("p", {}, "Loading…"));
  const base = `${api.env(env)}`;
  const linkTable = (items) => table(items, [["link_type", "Type"],
    ["source_id", "From", (v) => h("a", { href: link("env", env, "focal", v) }, v)],
    ["target_id", "To", (v) => h("a", { href: link("env", env, "focal", v) }, v)], ["state", "State"]]);
  try {
    const object = await api.get(`${base}/inventory/${api.id(id)}`);
    const health = panel ? panel.model.healthOf(id) : null;
    const attributes = Object.entries(object).filter(([k]) => !["id_path", "name_path", "environment"].includes(k));
    const drawn = panel ? [...panel.model.links.values()].filter((l) => l.source === id || l.target === id)
      .map((l) => ({ link_type: l.link_type, source_id: l.source, target_id: l.target, state: l.state })) : [];
    const hidden = panel ? panel.model.nodes.get(id)?.hidden || 0 : 0;
    const actions = [
      h("a", { class: "button", href: link("env", env, "focal", id) }, "Focus here"),
      panel ? h("button", { type: "button", onclick: () => panel.expand(id) }, "Expand neighbours") : null,
      h("a", { class: "button", href: link("env", env, "impact", { target: id }) }, "Impact if down"),
      ["instance", "vservice"].includes(object.type) ? h("a", { class: "button", href: link("env", env, "rca", { focal: id }) }, "Root cause") : null,
      h("a", { class: "button", href: link("env", env, "diff", { since: "24h", around: id }) }, "What changed nearby"),
    ];
    fill(side,
      h("h2", { id: "side-title" }, object.name || object.id),
      h("p", {}, `${TYPE_LABELS[object.type] || object.type}`, object.host ? ` on ${object.host}` : "",
        health ? [" · ", badge(health.health), " ", health.reason] : ""),
      h("div", { class: "actions" }, actions),
      h("details", { open: true }, h("summary", {}, "Attributes"),
        h("dl", { class: "attrs" }, attributes.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, show(v))]))),
      panel ? h("details", { open: true }, h("summary", {}, `Links in the picture (${drawn.length}; ${hidden} not shown)`),
        drawn.length ? linkTable(drawn) : h("p", {}, "None.")) : null,
      lazyDetails("All links", async () => {
        const links = await api.get(`${base}/links`, { object_id: id, page_size: 50 });
        return [h("p", {}, `${links.total} links`), links.items.length ? linkTable(links.items) : null];
      }),
      lazyDetails("History", async () => {
        const history = await api.get(`${base}/inventory/${api.id(id)}/history`, { page_size: 20 });
        const asOf = h("input", { type: "datetime-local", id: "as-of", step: 1 });
        const version = h("div", { class: "version" });
        asOf.addEventListener("change", () => {
          const t = new Date(asOf.value + "Z").toISOString();
          const v = history.items.find((x) => x.valid_from <= t && (!x.valid_to || x.valid_to > t));
          fill(version, v ? h("pre", {}, JSON.stringify(v.doc, null, 1)) : h("p", {}, "The object did not exist then."));
        });
        return [h("p", {}, `${history.total} versions`), h("label", { for: "as-of" }, "As of (UTC): "), asOf, version,
          history.items.length ? table(history.items, [["valid_from", "From", when], ["valid_to", "Until", (v) => (v ? when(v) : "now")]]) : null];
      }),
      lazyDetails("Messages", async () => {
        const messages = await api.get(`${base}/messages`, { related_object: id, page_size: 20 });
        return messages.items.length ? table(messages.items, [["timestamp", "When", when], ["level", "Level"], ["message", "Message"]],
          { caption: `${messages.total} messages` }) : h("p", {}, "No message.");
      }));
  } catch (error) {
    fill(side, errorBox(error));
  }
}
